//! Topology assertions for the mesher's tests (the full printability check lives in `check`).

use std::collections::HashMap;

use crate::mesh::{Mesh, point_key};

/// Asserts that `m` is a closed, consistently oriented 2-manifold: every directed edge appears
/// once and its reverse once, every vertex is used and its triangle fan is one cycle, no two
/// vertices coincide and no triangle has zero area.
pub(crate) fn assert_closed_manifold(m: &Mesh) {
    assert!(!m.triangles.is_empty(), "empty mesh");
    let mut directed: HashMap<(u32, u32), usize> = HashMap::new();
    for (t, tri) in m.triangles.iter().enumerate() {
        assert!(
            tri[0] != tri[1] && tri[1] != tri[2] && tri[0] != tri[2],
            "triangle {t} repeats a vertex"
        );
        assert!(m.area_normal(t).norm() > 0.0, "triangle {t} has zero area");
        for e in 0..3 {
            let (a, b) = (tri[e], tri[(e + 1) % 3]);
            assert!(
                directed.insert((a, b), t).is_none(),
                "directed edge {a}->{b} used twice (orientation or non-manifold edge)"
            );
        }
    }
    for &(a, b) in directed.keys() {
        assert!(
            directed.contains_key(&(b, a)),
            "edge {a}-{b} has one triangle (open)"
        );
    }
    // Vertex links: the fan around each vertex, followed by "next edge", is one cycle.
    let mut out_edges: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
    for tri in &m.triangles {
        for e in 0..3 {
            let (v, a, b) = (tri[e], tri[(e + 1) % 3], tri[(e + 2) % 3]);
            out_edges.entry(v).or_default().push((a, b));
        }
    }
    assert_eq!(out_edges.len(), m.vertices.len(), "unused vertices");
    for (v, fan) in &out_edges {
        let next: HashMap<u32, u32> = fan.iter().copied().collect();
        assert_eq!(next.len(), fan.len(), "vertex {v}: fan repeats a neighbour");
        let mut cur = fan[0].0;
        for _ in 0..fan.len() {
            cur = next[&cur];
        }
        let mut steps = 0;
        let start = cur;
        loop {
            cur = next[&cur];
            steps += 1;
            if cur == start {
                break;
            }
        }
        assert_eq!(steps, fan.len(), "vertex {v} is non-manifold (pinched fan)");
    }
    let mut seen = HashMap::new();
    for (i, p) in m.vertices.iter().enumerate() {
        assert!(
            seen.insert(point_key(p), i).is_none(),
            "vertex {i} coincides with another"
        );
    }
}
