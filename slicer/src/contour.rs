//! Contours inset by the beam offset, the hatch area inside them, and thin walls kept as
//! centre-line edge vectors.
//!
//! Contour `k` (0 = outermost) follows the cross-section inset by
//! `beam_offset + k·spacing`. A wall thinner than twice the beam offset vanishes from the
//! first inset; it is found by comparing the section with the *opening* of its inset
//! (inset, then grown back by the same offset) and each lost part is exposed as a single
//! centre-line "edge" vector along its principal axis, clipped to the part, whenever that
//! axis is at least one melt track (`2·offset`) long. Lost parts shorter than a track in every
//! direction (specks at sharp corners) cannot be exposed: they are counted, their area and the
//! place of the largest reported, never dropped silently.

use i_overlay::core::fill_rule::FillRule;
use i_overlay::string::clip::{ClipRule, IntClip};

use crate::polygon::{Contour, Point, Shapes, area_mm2, difference, offset, to_units};
use crate::profile::ContourSettings;

/// The contour plan of one layer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContourPlan {
    /// Closed contours per ring, outermost ring first.
    pub rings: Vec<Vec<Contour>>,
    /// Centre-line vectors of walls thinner than twice the beam offset.
    pub edges: Vec<[Point; 2]>,
    /// The area left for hatching (inside the innermost contour by the contour distance).
    pub hatch_area: Shapes,
    /// Lost parts too small for an edge vector: count.
    pub unexposed_parts: usize,
    /// Their total area in mm².
    pub unexposed_area_mm2: f64,
    /// Centre of the largest of them (mm) and its area (mm²).
    pub largest_unexposed: Option<([f64; 2], f64)>,
}

/// Plans the contours of a cross-section.
pub fn plan(section: &Shapes, settings: &ContourSettings, contour_distance_mm: f64) -> ContourPlan {
    let mut plan = ContourPlan::default();
    if section.is_empty() {
        return plan;
    }
    let beam = to_units(settings.beam_offset_mm).max(0);
    let spacing = to_units(settings.spacing_mm).max(1);
    let first = offset(section, -beam);
    let mut ring_area = first.clone();
    for k in 0..settings.count {
        let inset = beam + k as i32 * spacing;
        let ring = if k == 0 {
            first.clone()
        } else {
            offset(section, -inset)
        };
        if ring.is_empty() {
            break;
        }
        plan.rings.push(ring.iter().flatten().cloned().collect());
        ring_area = ring;
    }
    if settings.count == 0 {
        ring_area = first.clone();
    }
    let distance = to_units(contour_distance_mm).max(0);
    plan.hatch_area = if distance > 0 {
        offset(&ring_area, -distance)
    } else {
        ring_area
    };

    if beam > 0 {
        let opened = offset(&first, beam);
        let lost = difference(section, &opened);
        // One melt track: a lost part at least this long is exposed as a centre line.
        let min_length = 2.0 * beam as f64;
        for shape in &lost {
            let a2: i128 = shape.iter().map(|c| crate::polygon::contour_area2(c)).sum();
            let area_units = a2 as f64 * 0.5;
            let perimeter: f64 = shape
                .iter()
                .map(|c| crate::polygon::contour_length_mm(c) * crate::polygon::UNITS_PER_MM)
                .sum();
            // Mean width 2A/P under two quanta: rounding residue of the offsets, not a wall.
            if 2.0 * area_units < 2.0 * perimeter {
                continue;
            }
            let mut exposed = false;
            let (line, length) = centre_line(shape);
            if length >= min_length {
                for e in line {
                    plan.edges.push(e);
                    exposed = true;
                }
            }
            if !exposed {
                let a = area_mm2(std::slice::from_ref(shape));
                plan.unexposed_parts += 1;
                plan.unexposed_area_mm2 += a;
                if plan.largest_unexposed.is_none_or(|(_, b)| a > b) {
                    plan.largest_unexposed = Some((centre_mm(shape), a));
                }
            }
        }
    }
    plan
}

/// The centre of a shape's outer contour's vertices, mm.
fn centre_mm(shape: &[Contour]) -> [f64; 2] {
    let (cx, cy) = vertex_centre(&shape[0]);
    [
        cx / crate::polygon::UNITS_PER_MM,
        cy / crate::polygon::UNITS_PER_MM,
    ]
}

/// The mean of a contour's vertices, units (the origin for no vertices).
fn vertex_centre(pts: &[Point]) -> (f64, f64) {
    let n = pts.len().max(1) as f64;
    let (sx, sy) = pts
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p.x as f64, y + p.y as f64));
    (sx / n, sy / n)
}

/// The principal-axis chord of a thin shape, clipped to it (longest pieces first), and the
/// shape's extent along that axis in units.
fn centre_line(shape: &[Contour]) -> (Vec<[Point; 2]>, f64) {
    let pts = &shape[0];
    if pts.len() < 3 {
        return (Vec::new(), 0.0);
    }
    let (cx, cy) = vertex_centre(pts);
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for p in pts {
        let (dx, dy) = (p.x as f64 - cx, p.y as f64 - cy);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let (dx, dy) = (theta.cos(), theta.sin());
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in pts {
        let s = (p.x as f64 - cx) * dx + (p.y as f64 - cy) * dy;
        lo = lo.min(s);
        hi = hi.max(s);
    }
    let a = Point::new(
        (cx + (lo - 2.0) * dx).round() as i32,
        (cy + (lo - 2.0) * dy).round() as i32,
    );
    let b = Point::new(
        (cx + (hi + 2.0) * dx).round() as i32,
        (cy + (hi + 2.0) * dy).round() as i32,
    );
    let rule = ClipRule {
        invert: false,
        boundary_included: true,
    };
    let shape_vec: Vec<Contour> = shape.to_vec();
    let mut out: Vec<[Point; 2]> = shape_vec
        .clip_line([a, b], FillRule::NonZero, rule)
        .into_iter()
        .filter(|p| p.len() >= 2)
        .map(|p| [p[0], p[p.len() - 1]])
        .filter(|s| s[0] != s[1])
        .collect();
    out.sort_by_key(|s| (s[0].x, s[0].y, s[1].x, s[1].y));
    (out, hi - lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::polygon::union_nonzero;

    fn rect(x0: i32, y0: i32, x1: i32, y1: i32) -> Shapes {
        union_nonzero(&[vec![
            Point::new(x0, y0),
            Point::new(x1, y0),
            Point::new(x1, y1),
            Point::new(x0, y1),
        ]])
    }

    #[test]
    fn square_gets_inset_contours() {
        let s = rect(0, 0, 10_000, 10_000);
        let settings = ContourSettings {
            count: 2,
            beam_offset_mm: 0.1,
            spacing_mm: 0.2,
        };
        let p = plan(&s, &settings, 0.0);
        assert_eq!(p.rings.len(), 2);
        assert!((crate::polygon::contour_area2(&p.rings[0][0]) - 2 * 9_800 * 9_800).abs() < 2);
        assert!((area_mm2(&p.hatch_area) - 9.4 * 9.4).abs() < 1e-6);
        assert!(p.edges.is_empty());
    }

    #[test]
    fn thin_wall_becomes_a_centre_line_edge() {
        // A 0.1 mm wall with a 0.06 mm beam offset: the inset removes it entirely.
        let s = rect(0, 0, 5_000, 100);
        let settings = ContourSettings {
            count: 1,
            beam_offset_mm: 0.06,
            spacing_mm: 0.12,
        };
        let p = plan(&s, &settings, 0.0);
        assert!(p.rings.is_empty() || p.rings[0].is_empty());
        assert_eq!(p.edges.len(), 1, "{:?}", p.edges);
        let [a, b] = p.edges[0];
        assert_eq!(a.y, 50);
        assert_eq!(b.y, 50);
        assert_eq!((a.x - b.x).abs(), 5_000);
    }

    #[test]
    fn a_short_thin_sliver_longer_than_one_track_is_exposed_not_dropped() {
        // 0.2 × 0.05 mm: smaller than a track squared, but longer than one track (0.12 mm).
        let s = rect(0, 0, 200, 50);
        let settings = ContourSettings {
            count: 1,
            beam_offset_mm: 0.06,
            spacing_mm: 0.12,
        };
        let p = plan(&s, &settings, 0.0);
        assert_eq!(p.unexposed_parts, 0);
        assert_eq!(p.edges.len(), 1, "{:?}", p.edges);
    }

    #[test]
    fn a_speck_shorter_than_one_track_is_counted_with_its_place() {
        let s = rect(10_000, 20_000, 10_080, 20_060);
        let settings = ContourSettings {
            count: 1,
            beam_offset_mm: 0.06,
            spacing_mm: 0.12,
        };
        let p = plan(&s, &settings, 0.0);
        assert!(p.edges.is_empty());
        assert_eq!(p.unexposed_parts, 1);
        let (at, area) = p.largest_unexposed.unwrap();
        assert!(
            (at[0] - 10.04).abs() < 0.01 && (at[1] - 20.03).abs() < 0.01,
            "{at:?}"
        );
        assert!((area - 0.0048).abs() < 1e-6, "{area}");
    }
}
