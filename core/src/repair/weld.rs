//! Welding of near-coincident vertices on a hash grid.

use std::collections::HashMap;

use crate::mesh::{Mesh, UnionFind};

/// Merges every pair of vertices closer than `tol` (transitively), keeping the lowest index of
/// each cluster, and renumbers the triangles; returns how many used vertices were merged
/// away. The mesh's triangles are renumbered, its vertex list is left for [`Mesh::compact`].
pub fn weld(mesh: &mut Mesh, tol: f64) -> usize {
    if tol <= 0.0 || !tol.is_finite() {
        return 0;
    }
    let cell = |x: f64| (x / tol).floor() as i64;
    let mut grid: HashMap<[i64; 3], Vec<u32>> = HashMap::new();
    for (i, p) in mesh.vertices.iter().enumerate() {
        grid.entry([cell(p.x), cell(p.y), cell(p.z)])
            .or_default()
            .push(i as u32);
    }
    let mut uf = UnionFind::new(mesh.vertices.len());
    let tol2 = tol * tol;
    for (i, p) in mesh.vertices.iter().enumerate() {
        let c = [cell(p.x), cell(p.y), cell(p.z)];
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    let Some(near) = grid.get(&[c[0] + dx, c[1] + dy, c[2] + dz]) else {
                        continue;
                    };
                    for &j in near {
                        let j = j as usize;
                        if j > i && (mesh.vertices[j] - p).norm_squared() <= tol2 {
                            uf.union(i, j);
                        }
                    }
                }
            }
        }
    }
    // The representative of a cluster is its lowest index, so the result does not depend on
    // hash order.
    let n = mesh.vertices.len();
    let mut lowest = vec![u32::MAX; n];
    for i in 0..n {
        let r = uf.find(i);
        lowest[r] = lowest[r].min(i as u32);
    }
    let map: Vec<u32> = (0..n).map(|i| lowest[uf.find(i)]).collect();
    let mut moved = vec![false; n];
    for t in &mut mesh.triangles {
        for v in t.iter_mut() {
            if map[*v as usize] != *v {
                moved[*v as usize] = true;
                *v = map[*v as usize];
            }
        }
    }
    moved.iter().filter(|&&m| m).count()
}

#[cfg(test)]
mod tests {
    use nalgebra::Point3;

    use super::*;

    #[test]
    fn vertices_within_tolerance_merge_into_the_lowest_index() {
        let p = Point3::new;
        let mut m = Mesh::from_soup([
            [p(0.0, 0.0, 0.0), p(1.0, 0.0, 0.0), p(0.0, 1.0, 0.0)],
            [p(1.0 + 1e-7, 0.0, 0.0), p(0.0, 1e-7, 0.0), p(1.0, 1.0, 0.0)],
        ]);
        assert_eq!(weld(&mut m, 1e-6), 2);
        assert_eq!(m.triangles[1], [1, 0, 5]);
        assert_eq!(weld(&mut m, 1e-6), 0, "welding twice changes nothing more");
    }
}
