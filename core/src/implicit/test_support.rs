//! Topology assertions for the mesher's tests (the full printability check lives in `check`).

use crate::check::{CheckOptions, check_mesh};
use crate::mesh::{Mesh, point_key};

/// Asserts [`assert_closed_manifold`] and that the printability check passes (topology,
/// orientation, degeneracy and self-intersections, with no crossing tolerance).
pub(crate) fn assert_printable(m: &Mesh) {
    assert_closed_manifold(m);
    let opts = CheckOptions {
        crossing_tolerance_mm: 0.0,
        ..CheckOptions::default()
    };
    let report = check_mesh(m, &opts);
    assert!(report.printable, "not printable: {report:?}");
}

/// Asserts that `m` is a closed, consistently oriented 2-manifold: every directed edge appears
/// once and its reverse once, every vertex is used and its triangle fan is one cycle, no two
/// vertices coincide and no triangle has zero area.
pub(crate) fn assert_closed_manifold(m: &Mesh) {
    assert!(!m.triangles.is_empty(), "empty mesh");
    let mut directed = Vec::with_capacity(3 * m.triangles.len());
    // Per vertex: (vertex, next, previous) around each incident triangle.
    let mut fans = Vec::with_capacity(3 * m.triangles.len());
    for (t, tri) in m.triangles.iter().enumerate() {
        assert!(
            tri[0] != tri[1] && tri[1] != tri[2] && tri[0] != tri[2],
            "triangle {t} repeats a vertex"
        );
        assert!(m.area_normal(t).norm() > 0.0, "triangle {t} has zero area");
        for e in 0..3 {
            let (v, a, b) = (tri[e], tri[(e + 1) % 3], tri[(e + 2) % 3]);
            directed.push((v, a));
            fans.push((v, a, b));
        }
    }
    directed.sort_unstable();
    for w in directed.windows(2) {
        assert!(
            w[0] != w[1],
            "directed edge {:?} used twice (orientation or non-manifold edge)",
            w[0]
        );
    }
    for &(a, b) in &directed {
        assert!(
            directed.binary_search(&(b, a)).is_ok(),
            "edge {a}-{b} has one triangle (open)"
        );
    }
    fans.sort_unstable();
    let mut used = 0;
    for fan in fans.chunk_by(|x, y| x.0 == y.0) {
        used += 1;
        let v = fan[0].0;
        // Follow next → previous links: one cycle through every triangle of the fan.
        let mut cur = fan[0].1;
        for step in 1..=fan.len() {
            let Some(&(_, _, b)) = fan.iter().find(|f| f.1 == cur) else {
                panic!("vertex {v}: fan is open");
            };
            cur = b;
            if cur == fan[0].1 {
                assert_eq!(step, fan.len(), "vertex {v} is non-manifold (pinched fan)");
            }
        }
        assert_eq!(cur, fan[0].1, "vertex {v}: fan is not a cycle");
    }
    assert_eq!(used, m.vertices.len(), "unused vertices");
    let mut keys: Vec<[u64; 3]> = m.vertices.iter().map(point_key).collect();
    keys.sort_unstable();
    assert!(
        keys.windows(2).all(|w| w[0] != w[1]),
        "two vertices coincide"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_box_passes() {
        assert_closed_manifold(&Mesh::axis_aligned_box([0.0; 3], [1.0; 3]));
    }

    #[test]
    #[should_panic(expected = "open")]
    fn box_missing_a_triangle_is_open() {
        let mut m = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
        m.triangles.pop();
        assert_closed_manifold(&m);
    }

    #[test]
    #[should_panic(expected = "used twice")]
    fn box_with_a_flipped_triangle_is_misoriented() {
        let mut m = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
        m.triangles[3].swap(1, 2);
        assert_closed_manifold(&m);
    }

    #[test]
    #[should_panic(expected = "pinched")]
    fn two_boxes_sharing_a_corner_are_pinched() {
        let mut m = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
        let mut other = Mesh::axis_aligned_box([1.0; 3], [2.0; 3]);
        // Weld other's corner 0 (at (1,1,1)) onto m's corner 7.
        for t in &mut other.triangles {
            for i in t.iter_mut() {
                *i = if *i == 0 { 7 } else { *i + 8 };
            }
        }
        m.vertices.extend(other.vertices);
        m.triangles.extend(other.triangles);
        m.vertices[8] = nalgebra::Point3::new(-5.0, -5.0, -5.0);
        m.compact();
        assert_closed_manifold(&m);
    }
}
