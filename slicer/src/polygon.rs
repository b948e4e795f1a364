//! Integer polygons: the quantum, shapes with holes, areas, and the `i_overlay` booleans used
//! by every other module.

use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::Overlay;
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::i_float::int::point::IntPoint;
use i_overlay::mesh::int::style::{IntLineJoin, IntOutlineStyle};

/// The size of one integer unit in millimetres: 1 µm. With `i32` coordinates and i_overlay's
/// engine range of ±2³⁰ units this allows ±1 km, far beyond any build plate.
pub const QUANTUM_MM: f64 = 0.001;

/// Integer units per millimetre.
pub const UNITS_PER_MM: f64 = 1.0 / QUANTUM_MM;

/// A point in integer units.
pub type Point = IntPoint<i32>;
/// A closed contour (first point not repeated): counter-clockwise outer, clockwise hole.
pub type Contour = Vec<Point>;
/// One outer contour followed by its holes.
pub type Shape = Vec<Contour>;
/// A set of disjoint shapes: the filled area of a layer or region.
pub type Shapes = Vec<Shape>;

/// Millimetres to integer units (rounded to the nearest unit).
#[inline]
pub fn to_units(mm: f64) -> i32 {
    (mm * UNITS_PER_MM).round() as i32
}

/// Integer units to millimetres.
#[inline]
pub fn to_mm(units: i32) -> f64 {
    units as f64 * QUANTUM_MM
}

/// Twice the signed area of a contour in square units (positive counter-clockwise), exact.
pub fn contour_area2(c: &[Point]) -> i128 {
    let n = c.len();
    let mut s: i128 = 0;
    for i in 0..n {
        let a = c[i];
        let b = c[(i + 1) % n];
        s += a.x as i128 * b.y as i128 - b.x as i128 * a.y as i128;
    }
    s
}

/// The filled area of `shapes` in mm² (holes subtracted by their clockwise sign).
pub fn area_mm2(shapes: &[Shape]) -> f64 {
    let a2: i128 = shapes.iter().flatten().map(|c| contour_area2(c)).sum();
    a2 as f64 * 0.5 * QUANTUM_MM * QUANTUM_MM
}

/// The perimeter length of a closed contour in mm.
pub fn contour_length_mm(c: &[Point]) -> f64 {
    let n = c.len();
    (0..n).map(|i| seg_len_mm(c[i], c[(i + 1) % n])).sum()
}

/// The length of a segment in mm.
#[inline]
pub fn seg_len_mm(a: Point, b: Point) -> f64 {
    let dx = (b.x - a.x) as f64;
    let dy = (b.y - a.y) as f64;
    (dx * dx + dy * dy).sqrt() * QUANTUM_MM
}

/// Union of contours by the non-zero rule: overlapping shells merge, a reversed shell inside
/// another cuts a hole. Output is normalised (CCW outers, CW holes).
pub fn union_nonzero(contours: &[Contour]) -> Shapes {
    if contours.is_empty() {
        return Vec::new();
    }
    Overlay::from_subj(contours).overlay(OverlayRule::Subject, FillRule::NonZero)
}

/// `a ∖ b`.
pub fn difference(a: &[Shape], b: &[Shape]) -> Shapes {
    if a.is_empty() {
        return Vec::new();
    }
    if b.is_empty() {
        return a.to_vec();
    }
    // Prismatic parts repeat their sections exactly from layer to layer.
    if a == b {
        return Vec::new();
    }
    Overlay::from_subj_and_clip(a, b).overlay(OverlayRule::Difference, FillRule::NonZero)
}

/// `a ∩ b`.
pub fn intersection(a: &[Shape], b: &[Shape]) -> Shapes {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    if a == b {
        return a.to_vec();
    }
    Overlay::from_subj_and_clip(a, b).overlay(OverlayRule::Intersect, FillRule::NonZero)
}

/// `a ∪ b`.
pub fn union(a: &[Shape], b: &[Shape]) -> Shapes {
    if a.is_empty() {
        return b.to_vec();
    }
    if b.is_empty() {
        return a.to_vec();
    }
    Overlay::from_subj_and_clip(a, b).overlay(OverlayRule::Union, FillRule::NonZero)
}

/// Offsets shapes by `delta` units (negative insets), with miter joins so right angles keep
/// their corners, using i_overlay's integer outline.
pub fn offset(shapes: &[Shape], delta: i32) -> Shapes {
    use i_overlay::mesh::int::outline::offset::IntOutlineOffset;
    if shapes.is_empty() {
        return Vec::new();
    }
    if delta == 0 {
        return shapes.to_vec();
    }
    // Miter down to a 22.5° interior angle (2^28 of the 2^32 full turn); sharper corners bevel.
    let join = IntLineJoin::Miter(i_overlay::i_float::int::angle::Angle::from_bits(1 << 28));
    let style = IntOutlineStyle::new(delta).line_join(join);
    // Construction cannot fail: the range check is a separate, optional validation.
    shapes.outline(&style).unwrap_or_default()
}

/// Drops the vertices of a closed contour that lie within `tol` units of the chord that
/// replaces them (Douglas–Peucker), keeping the contour within `tol` of the original.
///
/// Sections of tessellated surfaces carry many vertices that are collinear up to the 1-unit
/// rounding (a plane crossing the diagonal of a flat quad); every boolean and offset pays for
/// them. Contours with fewer than 4 vertices are returned as they are.
pub fn simplify_contour(c: &[Point], tol: f64) -> Contour {
    let n = c.len();
    if n < 4 {
        return c.to_vec();
    }
    // Split the ring at its first vertex and the vertex farthest from it.
    let far = (1..n)
        .max_by_key(|&i| {
            let dx = (c[i].x - c[0].x) as i64;
            let dy = (c[i].y - c[0].y) as i64;
            (dx * dx + dy * dy, std::cmp::Reverse(i))
        })
        .unwrap_or(1);
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[far] = true;
    let tol2 = tol * tol;
    let mut stack = vec![(0usize, far), (far, n)];
    while let Some((a, b)) = stack.pop() {
        if b - a < 2 {
            continue;
        }
        let pa = c[a];
        let pb = c[b % n];
        let (ax, ay) = (pa.x as f64, pa.y as f64);
        let (dx, dy) = ((pb.x - pa.x) as f64, (pb.y - pa.y) as f64);
        let len2 = dx * dx + dy * dy;
        let mut best = (0.0f64, 0usize);
        for (i, q) in c.iter().enumerate().take(b).skip(a + 1) {
            let (qx, qy) = (q.x as f64 - ax, q.y as f64 - ay);
            // Distance to the chord as a segment, so points beyond its ends count fully.
            let t = if len2 == 0.0 {
                0.0
            } else {
                ((qx * dx + qy * dy) / len2).clamp(0.0, 1.0)
            };
            let (ex, ey) = (qx - t * dx, qy - t * dy);
            let d2 = ex * ex + ey * ey;
            if d2 > best.0 {
                best = (d2, i);
            }
        }
        if best.0 > tol2 {
            keep[best.1] = true;
            stack.push((a, best.1));
            stack.push((best.1, b));
        }
    }
    c.iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(p, _)| *p)
        .collect()
}

/// The axis-aligned bounds `[min, max]` of shapes, `None` when empty.
pub fn bounds(shapes: &[Shape]) -> Option<(Point, Point)> {
    let mut it = shapes.iter().flatten().flatten();
    let first = *it.next()?;
    let (mut lo, mut hi) = (first, first);
    for p in it {
        lo.x = lo.x.min(p.x);
        lo.y = lo.y.min(p.y);
        hi.x = hi.x.max(p.x);
        hi.y = hi.y.max(p.y);
    }
    Some((lo, hi))
}

/// Point-in-shapes test (non-zero winding, boundary counts as inside), exact in integers.
pub fn contains(shapes: &[Shape], p: Point) -> bool {
    let mut winding = 0i32;
    for c in shapes.iter().flatten() {
        let n = c.len();
        for i in 0..n {
            let a = c[i];
            let b = c[(i + 1) % n];
            let cross = (b.x as i64 - a.x as i64) * (p.y as i64 - a.y as i64)
                - (p.x as i64 - a.x as i64) * (b.y as i64 - a.y as i64);
            let on_seg = cross == 0
                && p.x >= a.x.min(b.x)
                && p.x <= a.x.max(b.x)
                && p.y >= a.y.min(b.y)
                && p.y <= a.y.max(b.y);
            if on_seg {
                return true;
            }
            if a.y <= p.y {
                if b.y > p.y && cross > 0 {
                    winding += 1;
                }
            } else if b.y <= p.y && cross < 0 {
                winding -= 1;
            }
        }
    }
    winding != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: i32, y0: i32, s: i32) -> Contour {
        vec![
            Point::new(x0, y0),
            Point::new(x0 + s, y0),
            Point::new(x0 + s, y0 + s),
            Point::new(x0, y0 + s),
        ]
    }

    #[test]
    fn overlapping_squares_union_to_exact_area() {
        let u = union_nonzero(&[square(0, 0, 1000), square(500, 0, 1000)]);
        assert_eq!(u.len(), 1);
        assert!((area_mm2(&u) - 1.5).abs() < 1e-12);
    }

    #[test]
    fn inset_square_keeps_right_angles() {
        let s = union_nonzero(&[square(0, 0, 10_000)]);
        let inset = offset(&s, -1000);
        assert!(
            (area_mm2(&inset) - 64.0).abs() < 1e-9,
            "{}",
            area_mm2(&inset)
        );
    }

    #[test]
    fn simplify_drops_rounding_noise_and_keeps_corners() {
        // A triangle whose long edge (slope 1/3) carries points rounded to the grid: each is
        // within half a unit of the edge.
        let mut c = vec![Point::new(0, 0)];
        for i in 0..30 {
            let x = 100 * i + 50;
            c.push(Point::new(x, (x as f64 / 3.0).round() as i32));
        }
        c.push(Point::new(3000, 1000));
        c.push(Point::new(0, 1000));
        c.reverse();
        let s = simplify_contour(&c, 0.5);
        assert_eq!(s.len(), 3, "{s:?}");
        for corner in [
            Point::new(0, 0),
            Point::new(3000, 1000),
            Point::new(0, 1000),
        ] {
            assert!(s.contains(&corner));
        }
        // Off by a whole unit is a feature at this tolerance, not noise.
        let mut bump = square(0, 0, 1000);
        bump.insert(1, Point::new(500, -1));
        assert_eq!(simplify_contour(&bump, 0.5).len(), 5);
    }

    #[test]
    fn contains_sees_holes() {
        let mut hole = square(250, 250, 500);
        hole.reverse();
        let s = union_nonzero(&[square(0, 0, 1000), hole]);
        assert!(contains(&s, Point::new(100, 100)));
        assert!(!contains(&s, Point::new(500, 500)));
        assert!(contains(&s, Point::new(250, 500)));
    }
}
