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
    fn contains_sees_holes() {
        let mut hole = square(250, 250, 500);
        hole.reverse();
        let s = union_nonzero(&[square(0, 0, 1000), hole]);
        assert!(contains(&s, Point::new(100, 100)));
        assert!(!contains(&s, Point::new(500, 500)));
        assert!(contains(&s, Point::new(250, 500)));
    }
}
