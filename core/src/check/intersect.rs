//! Exact triangle–triangle crossing test (Guigue–Devillers on Shewchuk's adaptive predicates).
//!
//! Two triangles *cross* when their relative interiors share a point that is not forced by the
//! mesh topology: a proper piercing, or a positive-area overlap of coplanar triangles. Contact
//! along a shared edge or vertex, or touching at a point or along a segment of the boundary, is
//! not a crossing: such contacts do not make the enclosed volume ambiguous, and counting them
//! would flag every closed mesh.

use robust::{Coord, Coord3D};

/// A corner position.
pub type P3 = [f64; 3];

/// The sign of `((b - a) × (c - a)) · (d - a)`, exact: +1 when `d` is above the plane of the
/// counter-clockwise triangle `abc`, -1 below, 0 on it.
#[inline]
pub fn orient3(a: &P3, b: &P3, c: &P3, d: &P3) -> i8 {
    let c3 = |p: &P3| Coord3D {
        x: p[0],
        y: p[1],
        z: p[2],
    };
    // Shewchuk's orient3d is positive when d lies *below* the plane (abc counter-clockwise
    // from above), hence the negation.
    let v = robust::orient3d(c3(a), c3(b), c3(c), c3(d));
    if v > 0.0 {
        -1
    } else if v < 0.0 {
        1
    } else {
        0
    }
}

#[inline]
fn orient2(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> i8 {
    let c2 = |p: [f64; 2]| Coord { x: p[0], y: p[1] };
    let v = robust::orient2d(c2(a), c2(b), c2(c));
    (v > 0.0) as i8 - (v < 0.0) as i8
}

/// True when the three points are exactly collinear (or coincide).
pub fn collinear(t: &[P3; 3]) -> bool {
    (0..3).all(|k| {
        let (i, j) = ((k + 1) % 3, (k + 2) % 3);
        let p = |q: &P3| [q[i], q[j]];
        orient2(p(&t[0]), p(&t[1]), p(&t[2])) == 0
    })
}

/// True when triangles `t1` and `t2` (neither collinear) cross. `shared[i]` is `Some(j)` when
/// corner `i` of `t1` is the same mesh vertex as corner `j` of `t2`.
pub fn triangles_cross(t1: &[P3; 3], t2: &[P3; 3], shared: [Option<usize>; 3]) -> bool {
    let mut on_t1 = [false; 3]; // corners of t2 that are vertices of t1
    for j in shared.iter().flatten() {
        on_t1[*j] = true;
    }
    let d2: [i8; 3] = std::array::from_fn(|j| {
        if on_t1[j] {
            0
        } else {
            orient3(&t1[0], &t1[1], &t1[2], &t2[j])
        }
    });
    if d2 == [0; 3] {
        return coplanar_overlap(t1, t2);
    }
    if !strict_sign_change(d2) {
        return false;
    }
    let d1: [i8; 3] = std::array::from_fn(|i| {
        if shared[i].is_some() {
            0
        } else {
            orient3(&t2[0], &t2[1], &t2[2], &t1[i])
        }
    });
    if !strict_sign_change(d1) {
        return false;
    }
    // Rotate each triangle so its first corner is alone on its side of the other's plane,
    // then orient the planes so those corners lie on the positive sides.
    let (mut a, sa) = lone_first(t1, d1);
    let (mut b, sb) = lone_first(t2, d2);
    if sa < 0 {
        b.swap(1, 2);
    }
    if sb < 0 {
        a.swap(1, 2);
    }
    // The segments t1 ∩ plane(t2) and t2 ∩ plane(t1) lie on one line; they overlap in an
    // open interval exactly when both endpoint orderings are strict.
    orient3(&a[0], &a[1], &b[0], &b[1]) < 0 && orient3(&a[0], &a[2], &b[2], &b[0]) < 0
}

/// True when the signs contain both a strictly positive and a strictly negative value.
#[inline]
fn strict_sign_change(d: [i8; 3]) -> bool {
    d.contains(&1) && d.contains(&-1)
}

/// The triangle rotated (orientation kept) so corner 0 has a strict sign and the other two
/// have the opposite sign or zero; returns the sign of corner 0.
fn lone_first(t: &[P3; 3], d: [i8; 3]) -> ([P3; 3], i8) {
    let k = (0..3)
        .find(|&k| d[k] != 0 && d[(k + 1) % 3] != d[k] && d[(k + 2) % 3] != d[k])
        .unwrap_or(0);
    ([t[k], t[(k + 1) % 3], t[(k + 2) % 3]], d[k])
}

/// True when two coplanar triangles overlap with positive area (separating-axis test on the
/// six edge lines, exact in the projection that drops the normal's largest axis).
fn coplanar_overlap(t1: &[P3; 3], t2: &[P3; 3]) -> bool {
    let n = sub(&t1[1], &t1[0]);
    let n = cross(&n, &sub(&t1[2], &t1[0]));
    let drop = (0..3)
        .max_by(|&i, &j| n[i].abs().total_cmp(&n[j].abs()))
        .unwrap_or(2);
    let (i, j) = ((drop + 1) % 3, (drop + 2) % 3);
    let p = |q: &P3| [q[i], q[j]];
    let a = t1.map(|q| p(&q));
    let b = t2.map(|q| p(&q));
    let (sa, sb) = (orient2(a[0], a[1], a[2]), orient2(b[0], b[1], b[2]));
    if sa == 0 || sb == 0 {
        return false;
    }
    let separates = |x: &[[f64; 2]; 3], s: i8, y: &[[f64; 2]; 3]| {
        (0..3).any(|k| {
            let (u, v) = (x[k], x[(k + 1) % 3]);
            y.iter().all(|&w| s * orient2(u, v, w) <= 0)
        })
    };
    !separates(&a, sa, &b) && !separates(&b, sb, &a)
}

#[inline]
fn sub(a: &P3, b: &P3) -> P3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

#[inline]
fn cross(a: &P3, b: &P3) -> P3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(a: &P3, b: &P3) -> f64 {
        a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    }

    /// Floating-point reference for triangles in general position: the overlap length of the
    /// two plane-crossing segments on the common line.
    fn reference_cross(t1: &[P3; 3], t2: &[P3; 3]) -> Option<bool> {
        let n1 = cross(&sub(&t1[1], &t1[0]), &sub(&t1[2], &t1[0]));
        let n2 = cross(&sub(&t2[1], &t2[0]), &sub(&t2[2], &t2[0]));
        let dir = cross(&n1, &n2);
        let seg = |t: &[P3; 3], n: &P3, o: &P3| -> Option<(f64, f64)> {
            let d: Vec<f64> = t.iter().map(|p| dot(n, &sub(p, o))).collect();
            if d.iter().all(|&x| x > 0.0) || d.iter().all(|&x| x < 0.0) {
                return None;
            }
            let mut ts = vec![];
            for k in 0..3 {
                let (p, q, dp, dq) = (t[k], t[(k + 1) % 3], d[k], d[(k + 1) % 3]);
                if (dp > 0.0) != (dq > 0.0) {
                    let s = dp / (dp - dq);
                    let x = [
                        p[0] + s * (q[0] - p[0]),
                        p[1] + s * (q[1] - p[1]),
                        p[2] + s * (q[2] - p[2]),
                    ];
                    ts.push(dot(&dir, &x));
                }
            }
            Some((
                ts.iter().cloned().fold(f64::MAX, f64::min),
                ts.iter().cloned().fold(f64::MIN, f64::max),
            ))
        };
        let (Some((a0, a1)), Some((b0, b1))) = (seg(t1, &n2, &t2[0]), seg(t2, &n1, &t1[0])) else {
            return Some(false);
        };
        let overlap = a1.min(b1) - a0.max(b0);
        let scale = (a1 - a0).abs().max((b1 - b0).abs()).max(1e-300);
        if overlap.abs() < 1e-6 * scale {
            return None; // too close to call in floating point
        }
        Some(overlap > 0.0)
    }

    #[test]
    fn orient3_is_positive_above_a_counter_clockwise_triangle() {
        let (a, b, c) = ([0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]);
        assert_eq!(orient3(&a, &b, &c, &[0.0, 0.0, 1.0]), 1);
        assert_eq!(orient3(&a, &b, &c, &[0.3, 0.3, 0.0]), 0);
        assert_eq!(orient3(&a, &b, &c, &[0.0, 0.0, -1.0]), -1);
    }

    #[test]
    fn crossing_agrees_with_floating_reference_on_random_triangles() {
        // A small deterministic LCG: enough pairs to hit every permutation branch.
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut r = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        let (mut checked, mut crossing) = (0, 0);
        for _ in 0..20000 {
            let t1: [P3; 3] = std::array::from_fn(|_| [r(), r(), r()]);
            let t2: [P3; 3] = std::array::from_fn(|_| [r(), r(), r()]);
            if let Some(want) = reference_cross(&t1, &t2) {
                assert_eq!(triangles_cross(&t1, &t2, [None; 3]), want, "{t1:?} {t2:?}");
                assert_eq!(triangles_cross(&t2, &t1, [None; 3]), want);
                let mut t2r = t2;
                t2r.swap(1, 2);
                assert_eq!(triangles_cross(&t1, &t2r, [None; 3]), want);
                checked += 1;
                crossing += want as usize;
            }
        }
        assert!(checked > 19000 && crossing > 1000, "{checked} {crossing}");
    }

    #[test]
    fn triangles_sharing_an_edge_at_an_angle_do_not_cross() {
        let t1 = [[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        let t2 = [[1.0, 0.0, 0.0], [0.0; 3], [0.0, 0.0, 1.0]];
        assert!(!triangles_cross(&t1, &t2, [Some(1), Some(0), None]));
    }

    #[test]
    fn coplanar_triangles_folded_over_a_shared_edge_cross() {
        let t1 = [[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        let t2 = [[1.0, 0.0, 0.0], [0.0; 3], [0.5, 0.5, 0.0]];
        assert!(triangles_cross(&t1, &t2, [Some(1), Some(0), None]));
        let flat = [[1.0, 0.0, 0.0], [0.0; 3], [0.5, -0.5, 0.0]];
        assert!(!triangles_cross(&t1, &flat, [Some(1), Some(0), None]));
    }

    #[test]
    fn triangles_sharing_a_vertex_cross_only_when_they_pierce() {
        let t1 = [[0.0; 3], [2.0, -1.0, 0.0], [2.0, 1.0, 0.0]];
        let fan_neighbour = [[0.0; 3], [-2.0, 1.0, 0.5], [-2.0, -1.0, 0.5]];
        assert!(!triangles_cross(&t1, &fan_neighbour, [Some(0), None, None]));
        let piercing = [[0.0; 3], [2.0, 0.0, -1.0], [2.0, 0.0, 1.0]];
        assert!(triangles_cross(&t1, &piercing, [Some(0), None, None]));
    }

    #[test]
    fn triangles_touching_at_a_point_or_edge_do_not_cross() {
        let t1 = [[0.0; 3], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        // A vertex of t2 resting on t1's interior, t2 above.
        let resting = [[0.2, 0.2, 0.0], [0.2, 0.2, 1.0], [0.5, 0.2, 1.0]];
        assert!(!triangles_cross(&t1, &resting, [None; 3]));
        // Coplanar, touching along part of an edge.
        let beside = [[0.0; 3], [1.0, 0.0, 0.0], [0.5, -1.0, 0.0]];
        assert!(!triangles_cross(&t1, &beside, [None; 3]));
        // Coplanar overlap without shared vertices.
        let over = [[0.1, 0.1, 0.0], [2.0, 0.1, 0.0], [0.1, 2.0, 0.0]];
        assert!(triangles_cross(&t1, &over, [None; 3]));
    }
}
