//! Boundary loops of a consistently oriented surface, and their triangulation.

use std::collections::BTreeMap;

use nalgebra::{Point3, Vector3};

use crate::mesh::Mesh;

/// A hole: the boundary vertices in the order the filling triangles must traverse them.
#[derive(Debug, Clone, PartialEq)]
pub struct Hole {
    /// Vertex indices, each consecutive pair (cyclically) a missing half-edge.
    pub loop_vertices: Vec<u32>,
}

/// Why a set of boundary edges does not form simple loops.
#[derive(Debug, Clone, PartialEq)]
pub struct TangledBoundary {
    /// The vertex where two boundary loops meet.
    pub vertex: u32,
}

/// The holes bounded by the given directed boundary edges (each `(a, b)` as its triangle
/// traverses it), in a deterministic order.
pub fn trace_holes(boundary: &[(u32, u32)]) -> Result<Vec<Hole>, TangledBoundary> {
    // The fill traverses each boundary edge the other way round: b → a.
    let mut next: BTreeMap<u32, u32> = BTreeMap::new();
    for &(a, b) in boundary {
        if next.insert(b, a).is_some() {
            return Err(TangledBoundary { vertex: b });
        }
    }
    let mut holes = Vec::new();
    while let Some((&start, _)) = next.iter().next() {
        let mut loop_vertices = vec![start];
        let mut v = next.remove(&start).unwrap_or(start);
        while v != start {
            loop_vertices.push(v);
            match next.remove(&v) {
                Some(w) => v = w,
                None => return Err(TangledBoundary { vertex: v }),
            }
        }
        holes.push(Hole { loop_vertices });
    }
    Ok(holes)
}

/// The loop's shape: best-fit plane normal (Newell), diameter and largest distance from the
/// plane through the centroid.
pub fn loop_shape(mesh: &Mesh, hole: &Hole) -> (Vector3<f64>, f64, f64) {
    let pts: Vec<Point3<f64>> = hole
        .loop_vertices
        .iter()
        .map(|&v| mesh.vertices[v as usize])
        .collect();
    let n = pts.len();
    let mut normal = Vector3::zeros();
    let mut centroid = Vector3::zeros();
    for i in 0..n {
        let (p, q) = (pts[i], pts[(i + 1) % n]);
        normal.x += (p.y - q.y) * (p.z + q.z);
        normal.y += (p.z - q.z) * (p.x + q.x);
        normal.z += (p.x - q.x) * (p.y + q.y);
        centroid += p.coords;
    }
    centroid /= n as f64;
    let normal = normal.try_normalize(0.0).unwrap_or_else(Vector3::z);
    let mut diameter: f64 = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            diameter = diameter.max((pts[i] - pts[j]).norm());
        }
    }
    let deviation = pts
        .iter()
        .map(|p| (p.coords - centroid).dot(&normal).abs())
        .fold(0.0, f64::max);
    (normal, diameter, deviation)
}

/// Triangulates the hole by ear clipping in the plane normal to `normal`; the triangles
/// traverse the loop in its order, so they continue the surface's orientation. `None` when
/// the projected loop is not a simple polygon.
pub fn fill_hole(mesh: &Mesh, hole: &Hole, normal: &Vector3<f64>) -> Option<Vec<[u32; 3]>> {
    let ids = &hole.loop_vertices;
    if ids.len() < 3 {
        return None;
    }
    if ids.len() == 3 {
        return Some(vec![[ids[0], ids[1], ids[2]]]);
    }
    let u = normal.cross(&if normal.x.abs() < 0.9 {
        Vector3::x()
    } else {
        Vector3::y()
    });
    let u = u.normalize();
    let w = normal.cross(&u);
    let p2: Vec<[f64; 2]> = ids
        .iter()
        .map(|&v| {
            let p = mesh.vertices[v as usize].coords;
            [p.dot(&u), p.dot(&w)]
        })
        .collect();
    let cross = |a: [f64; 2], b: [f64; 2], c: [f64; 2]| {
        (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    };
    let mut ring: Vec<usize> = (0..ids.len()).collect();
    let mut tris = Vec::with_capacity(ids.len() - 2);
    while ring.len() > 3 {
        let m = ring.len();
        let ear = (0..m).find(|&k| {
            let (a, b, c) = (ring[(k + m - 1) % m], ring[k], ring[(k + 1) % m]);
            if cross(p2[a], p2[b], p2[c]) <= 0.0 {
                return false;
            }
            ring.iter().all(|&o| {
                o == a
                    || o == b
                    || o == c
                    || p2[o] == p2[a]
                    || p2[o] == p2[b]
                    || p2[o] == p2[c]
                    || !(cross(p2[a], p2[b], p2[o]) >= 0.0
                        && cross(p2[b], p2[c], p2[o]) >= 0.0
                        && cross(p2[c], p2[a], p2[o]) >= 0.0)
            })
        })?;
        let (a, b, c) = (ring[(ear + m - 1) % m], ring[ear], ring[(ear + 1) % m]);
        tris.push([ids[a], ids[b], ids[c]]);
        ring.remove(ear);
    }
    tris.push([ids[ring[0]], ids[ring[1]], ids[ring[2]]]);
    Some(tris)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_hole_is_one_loop_filled_with_two_triangles_in_loop_order() {
        let mut m = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
        m.triangles.drain(2..4); // the top face, z = 1
        // As the remaining side faces traverse the rim.
        let boundary = [(5, 4), (7, 5), (6, 7), (4, 6)];
        let holes = trace_holes(&boundary).unwrap();
        assert_eq!(holes.len(), 1);
        assert_eq!(holes[0].loop_vertices, vec![4, 5, 7, 6]);
        let (n, d, dev) = loop_shape(&m, &holes[0]);
        assert!((n.z.abs() - 1.0).abs() < 1e-12 && dev < 1e-12 && (d - 2f64.sqrt()).abs() < 1e-12);
        let tris = fill_hole(&m, &holes[0], &n).unwrap();
        assert_eq!(tris.len(), 2);
        m.triangles.extend(tris);
        assert!((m.signed_volume() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn two_loops_through_one_vertex_are_tangled() {
        let e = [(0, 1), (1, 2), (2, 0), (3, 1), (1, 4), (4, 3)];
        assert!(trace_holes(&e).is_err());
    }
}
