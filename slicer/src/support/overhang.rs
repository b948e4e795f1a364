//! Overhang detection: downward faces flatter than the critical angle, grouped into connected
//! regions, each with its exact footprint on the plate.

use std::collections::HashMap;

use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::Overlay;
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::i_float::int::point::IntPoint;
use i_overlay::i_shape::int::shape::IntShapes;
use meltline_core::mesh::{Mesh, UnionFind};

use super::{SupportOptions, to_int};

/// A connected group of overhanging triangles, before its footprint is computed.
#[derive(Debug, Clone)]
pub(crate) struct OverhangGroup {
    /// Triangle indices into the mesh, ascending.
    pub triangles: Vec<usize>,
}

/// Marks the triangles that need support and groups them by shared edges.
///
/// A face needs support when its outward normal points down and the face's angle from the
/// horizontal is below the critical angle (`-n_z > cos(critical)`). Faces lying on the plate at
/// the part's bottom are skipped unless the part is lifted. Degenerate (zero-area) and
/// non-finite triangles are skipped; their count is returned.
pub(crate) fn find_overhang_groups(
    mesh: &Mesh,
    opts: &SupportOptions,
    z_min: f64,
) -> (Vec<OverhangGroup>, usize) {
    let cos_crit = opts.critical_angle_deg.to_radians().cos();
    let lifted = opts.lift_mm > 0.0;
    let mut is_overhang = vec![false; mesh.triangles.len()];
    let mut skipped = 0;
    for (t, flag) in is_overhang.iter_mut().enumerate() {
        let n = mesh.area_normal(t);
        let len = n.norm();
        if !len.is_finite() {
            skipped += 1;
            continue;
        }
        if len <= 1e-12 {
            skipped += 1;
            continue;
        }
        if -n.z / len <= cos_crit {
            continue;
        }
        let top = mesh
            .corners(t)
            .iter()
            .fold(f64::NEG_INFINITY, |m, p| m.max(p.z));
        if !lifted && top <= z_min + opts.plate_tolerance_mm {
            continue;
        }
        *flag = true;
    }

    // Union over shared edges; the mesh is welded so shared edges share vertex indices.
    let mut uf = UnionFind::new(mesh.triangles.len());
    let mut first_on_edge: HashMap<(u32, u32), usize> = HashMap::new();
    for (t, tri) in mesh.triangles.iter().enumerate() {
        if !is_overhang[t] {
            continue;
        }
        for k in 0..3 {
            let (a, b) = (tri[k], tri[(k + 1) % 3]);
            let key = (a.min(b), a.max(b));
            match first_on_edge.get(&key) {
                Some(&other) => {
                    uf.union(t, other);
                }
                None => {
                    first_on_edge.insert(key, t);
                }
            }
        }
    }
    let mut group_of_root: HashMap<usize, usize> = HashMap::new();
    let mut groups: Vec<OverhangGroup> = Vec::new();
    for (t, _) in is_overhang.iter().enumerate().filter(|(_, o)| **o) {
        let root = uf.find(t);
        let g = *group_of_root.entry(root).or_insert_with(|| {
            groups.push(OverhangGroup {
                triangles: Vec::new(),
            });
            groups.len() - 1
        });
        groups[g].triangles.push(t);
    }
    (groups, skipped)
}

/// The exact union of the triangles' projections onto the plate, in integer quanta.
pub(crate) fn footprint(mesh: &Mesh, triangles: &[usize]) -> IntShapes<i32> {
    let mut overlay = Overlay::new(triangles.len() * 3);
    let mut contour: Vec<IntPoint<i32>> = Vec::with_capacity(3);
    for &t in triangles {
        contour.clear();
        contour.extend(mesh.corners(t).iter().map(|p| to_int(p.x, p.y)));
        overlay.add_contour(&contour, i_overlay::core::overlay::ShapeType::Subject);
    }
    // Projected downward faces all wind clockwise; non-zero fill unions them whatever the
    // direction, and i_overlay returns outer contours counter-clockwise.
    overlay.overlay(OverlayRule::Subject, FillRule::NonZero)
}

/// The enclosed area of integer shapes in quanta² (outer contours minus holes).
pub(crate) fn shapes_area(shapes: &IntShapes<i32>) -> f64 {
    let mut total = 0.0;
    for shape in shapes {
        for (i, contour) in shape.iter().enumerate() {
            let a = contour_area(contour).abs();
            total += if i == 0 { a } else { -a };
        }
    }
    total
}

/// The signed area of a closed contour (counter-clockwise positive), in quanta².
fn contour_area(contour: &[IntPoint<i32>]) -> f64 {
    let n = contour.len();
    let mut twice: i128 = 0;
    for i in 0..n {
        let a = contour[i];
        let b = contour[(i + 1) % n];
        twice += a.x as i128 * b.y as i128 - b.x as i128 * a.y as i128;
    }
    twice as f64 / 2.0
}

#[cfg(test)]
mod tests {
    use super::super::QUANTUM_MM;
    use super::*;

    #[test]
    fn box_on_plate_has_no_overhang_but_lifted_box_has_its_bottom() {
        let cube = Mesh::axis_aligned_box([0.0; 3], [10.0; 3]);
        let opts = SupportOptions::default();
        let (groups, skipped) = find_overhang_groups(&cube, &opts, 0.0);
        assert!(groups.is_empty());
        assert_eq!(skipped, 0);
        let lifted = SupportOptions {
            lift_mm: 2.0,
            ..SupportOptions::default()
        };
        let (groups, _) = find_overhang_groups(&cube, &lifted, 0.0);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].triangles.len(), 2);
        let area = shapes_area(&footprint(&cube, &groups[0].triangles)) * QUANTUM_MM * QUANTUM_MM;
        assert!((area - 100.0).abs() < 1e-9, "area {area}");
    }
}
