//! The edge map: every undirected edge with the triangles that use it and the direction each
//! traverses it in. Built by one parallel sort, so it scales to millions of triangles.

use rayon::prelude::*;

use crate::mesh::Mesh;

/// One use of an edge by a triangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeUse {
    /// The triangle index.
    pub tri: u32,
    /// True when the triangle traverses the edge from its lower to its higher vertex index.
    pub forward: bool,
}

/// Every undirected edge of the proper (non-repeated-index) triangles, sorted by vertex pair.
#[derive(Debug, Clone, Default)]
pub struct EdgeMap {
    /// The edges as (lower, higher) vertex index, sorted.
    pub edges: Vec<[u32; 2]>,
    /// `uses[offsets[e]..offsets[e + 1]]` are the uses of edge `e`.
    pub offsets: Vec<usize>,
    uses: Vec<u32>,
}

impl EdgeMap {
    /// The edge map of `mesh`; triangles with a repeated vertex index are left out.
    pub fn new(mesh: &Mesh) -> EdgeMap {
        let mut half: Vec<(u64, u32)> = mesh
            .triangles
            .par_iter()
            .enumerate()
            .filter(|(_, t)| t[0] != t[1] && t[1] != t[2] && t[0] != t[2])
            .flat_map_iter(|(ti, t)| {
                (0..3).map(move |k| {
                    let (a, b) = (t[k], t[(k + 1) % 3]);
                    let (lo, hi, fwd) = if a < b { (a, b, 1) } else { (b, a, 0) };
                    (((lo as u64) << 32) | hi as u64, ((ti as u32) << 1) | fwd)
                })
            })
            .collect();
        half.par_sort_unstable();
        let mut edges = Vec::with_capacity(half.len() / 2 + 1);
        let mut offsets = Vec::with_capacity(half.len() / 2 + 2);
        let mut uses = Vec::with_capacity(half.len());
        let mut prev = u64::MAX;
        for (key, u) in half {
            if key != prev {
                edges.push([(key >> 32) as u32, key as u32]);
                offsets.push(uses.len());
                prev = key;
            }
            uses.push(u);
        }
        offsets.push(uses.len());
        EdgeMap {
            edges,
            offsets,
            uses,
        }
    }

    /// The number of distinct edges.
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    /// True when there is no edge.
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// The uses of edge `e`, in triangle order.
    pub fn uses(&self, e: usize) -> impl ExactSizeIterator<Item = EdgeUse> + '_ {
        self.uses[self.offsets[e]..self.offsets[e + 1]]
            .iter()
            .map(|&u| EdgeUse {
                tri: u >> 1,
                forward: u & 1 == 1,
            })
    }

    /// How many triangles use edge `e`.
    pub fn valence(&self, e: usize) -> usize {
        self.offsets[e + 1] - self.offsets[e]
    }

    /// The class of edge `e`.
    pub fn class(&self, e: usize) -> EdgeClass {
        match self.valence(e) {
            1 => EdgeClass::Boundary,
            2 => {
                let mut u = self.uses(e);
                let (a, b) = (u.next(), u.next());
                match (a, b) {
                    (Some(a), Some(b)) if a.forward == b.forward => EdgeClass::Inconsistent,
                    _ => EdgeClass::Manifold,
                }
            }
            _ => EdgeClass::NonManifold,
        }
    }
}

/// What an edge says about the surface around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeClass {
    /// Used by one triangle: the rim of a hole.
    Boundary,
    /// Used by two triangles traversing it in opposite directions.
    Manifold,
    /// Used by two triangles traversing it in the same direction: one of them is flipped.
    Inconsistent,
    /// Used by more than two triangles.
    NonManifold,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_box_has_eighteen_manifold_edges() {
        let m = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
        let em = EdgeMap::new(&m);
        assert_eq!(em.len(), 18);
        assert!((0..em.len()).all(|e| em.class(e) == EdgeClass::Manifold));
    }

    #[test]
    fn flipped_triangle_makes_its_three_edges_inconsistent() {
        let mut m = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
        m.triangles[0].swap(1, 2);
        let em = EdgeMap::new(&m);
        let bad = (0..em.len())
            .filter(|&e| em.class(e) == EdgeClass::Inconsistent)
            .count();
        assert_eq!(bad, 3);
    }
}
