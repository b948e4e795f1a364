//! The indexed triangle mesh: welded vertices, measures, transforms and connected shells.
//!
//! ```
//! use meltline_core::mesh::Mesh;
//! use nalgebra::{Isometry3, Vector3};
//! let mut m = Mesh::axis_aligned_box([0.0; 3], [2.0, 3.0, 4.0]);
//! m.transform_isometry(&Isometry3::new(Vector3::new(5.0, 0.0, 0.0), Vector3::new(0.0, 0.0, 0.3)));
//! assert!((m.signed_volume() - 24.0).abs() < 1e-9);
//! assert_eq!(m.shells().len(), 1);
//! ```

use std::collections::HashMap;

use nalgebra::{Isometry3, Matrix4, Point3, Vector3};
use serde::{Deserialize, Serialize};

/// An axis-aligned bounding box in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Aabb {
    /// The minimum corner.
    pub min: [f64; 3],
    /// The maximum corner.
    pub max: [f64; 3],
}

impl Aabb {
    /// The empty box (min at +inf, max at -inf), the identity of [`Aabb::grow`].
    pub const EMPTY: Aabb = Aabb {
        min: [f64::INFINITY; 3],
        max: [f64::NEG_INFINITY; 3],
    };

    /// Grows the box to contain `p`.
    pub fn grow(&mut self, p: &Point3<f64>) {
        for k in 0..3 {
            self.min[k] = self.min[k].min(p[k]);
            self.max[k] = self.max[k].max(p[k]);
        }
    }

    /// True when the box contains no point.
    pub fn is_empty(&self) -> bool {
        (0..3).any(|k| self.min[k] > self.max[k])
    }

    /// The edge lengths along x, y, z (zeros for an empty box).
    pub fn size(&self) -> [f64; 3] {
        if self.is_empty() {
            return [0.0; 3];
        }
        [
            self.max[0] - self.min[0],
            self.max[1] - self.min[1],
            self.max[2] - self.min[2],
        ]
    }

    /// The length of the box diagonal.
    pub fn diagonal(&self) -> f64 {
        let s = self.size();
        (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt()
    }

    /// The centre of the box.
    pub fn center(&self) -> Point3<f64> {
        Point3::new(
            0.5 * (self.min[0] + self.max[0]),
            0.5 * (self.min[1] + self.max[1]),
            0.5 * (self.min[2] + self.max[2]),
        )
    }
}

/// An indexed triangle mesh in millimetres.
///
/// Triangles index into `vertices` and are wound counter-clockwise seen from outside (the normal
/// `(b - a) × (c - a)` points out of the solid). Readers weld bit-identical vertices, so two
/// triangles that share an edge in the file share vertex indices here.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mesh {
    /// Vertex positions.
    pub vertices: Vec<Point3<f64>>,
    /// Triangles as indices into `vertices`.
    pub triangles: Vec<[u32; 3]>,
}

impl Mesh {
    /// A mesh from vertices and triangles; `None` when a triangle indexes past the vertices.
    pub fn new(vertices: Vec<Point3<f64>>, triangles: Vec<[u32; 3]>) -> Option<Mesh> {
        let n = vertices.len();
        if triangles.iter().flatten().any(|&i| i as usize >= n) {
            return None;
        }
        Some(Mesh {
            vertices,
            triangles,
        })
    }

    /// A mesh from a triangle soup, welding vertices whose coordinates are bit-identical
    /// (`-0.0` and `0.0` are the same point).
    pub fn from_soup<I>(soup: I) -> Mesh
    where
        I: IntoIterator<Item = [Point3<f64>; 3]>,
    {
        let mut index: HashMap<[u64; 3], u32> = HashMap::new();
        let mut vertices = Vec::new();
        let mut triangles = Vec::new();
        for tri in soup {
            let mut t = [0u32; 3];
            for (slot, p) in t.iter_mut().zip(tri.iter()) {
                let key = point_key(p);
                *slot = *index.entry(key).or_insert_with(|| {
                    vertices.push(*p);
                    (vertices.len() - 1) as u32
                });
            }
            triangles.push(t);
        }
        Mesh {
            vertices,
            triangles,
        }
    }

    /// An axis-aligned box from `min` to `max`, 12 outward-facing triangles.
    pub fn axis_aligned_box(min: [f64; 3], max: [f64; 3]) -> Mesh {
        let v = |i: usize| {
            Point3::new(
                if i & 1 == 0 { min[0] } else { max[0] },
                if i & 2 == 0 { min[1] } else { max[1] },
                if i & 4 == 0 { min[2] } else { max[2] },
            )
        };
        let vertices = (0..8).map(v).collect();
        let triangles = vec![
            [0, 2, 1],
            [1, 2, 3], // z = min
            [4, 5, 6],
            [5, 7, 6], // z = max
            [0, 1, 4],
            [1, 5, 4], // y = min
            [2, 6, 3],
            [3, 6, 7], // y = max
            [0, 4, 2],
            [2, 4, 6], // x = min
            [1, 3, 5],
            [3, 7, 5], // x = max
        ];
        Mesh {
            vertices,
            triangles,
        }
    }

    /// The three corner positions of triangle `t`.
    #[inline]
    pub fn corners(&self, t: usize) -> [Point3<f64>; 3] {
        let [a, b, c] = self.triangles[t];
        [
            self.vertices[a as usize],
            self.vertices[b as usize],
            self.vertices[c as usize],
        ]
    }

    /// The (unnormalised) normal of triangle `t`: twice its area, pointing outwards.
    #[inline]
    pub fn area_normal(&self, t: usize) -> Vector3<f64> {
        let [a, b, c] = self.corners(t);
        (b - a).cross(&(c - a))
    }

    /// The bounding box of the vertices used by triangles ([`Aabb::EMPTY`] for no triangles).
    pub fn bbox(&self) -> Aabb {
        let mut used = vec![false; self.vertices.len()];
        for &i in self.triangles.iter().flatten() {
            used[i as usize] = true;
        }
        let mut b = Aabb::EMPTY;
        for (p, u) in self.vertices.iter().zip(used) {
            if u {
                b.grow(p);
            }
        }
        b
    }

    /// The signed enclosed volume in mm³ (divergence theorem; positive for outward normals).
    pub fn signed_volume(&self) -> f64 {
        self.signed_volume_of(0..self.triangles.len())
    }

    /// The signed volume enclosed by a subset of the triangles (e.g. one shell).
    pub fn signed_volume_of(&self, tris: impl IntoIterator<Item = usize>) -> f64 {
        // Relative to a reference point near the mesh, to limit cancellation far from the origin.
        let origin = self
            .vertices
            .first()
            .map(|p| p.coords)
            .unwrap_or_else(Vector3::zeros);
        let mut sum = 0.0;
        for t in tris {
            let [a, b, c] = self.corners(t);
            let (a, b, c) = (a.coords - origin, b.coords - origin, c.coords - origin);
            sum += a.dot(&b.cross(&c));
        }
        sum / 6.0
    }

    /// The total surface area in mm².
    pub fn area(&self) -> f64 {
        (0..self.triangles.len())
            .map(|t| 0.5 * self.area_normal(t).norm())
            .sum()
    }

    /// Applies a rigid motion to every vertex.
    pub fn transform_isometry(&mut self, iso: &Isometry3<f64>) {
        for p in &mut self.vertices {
            *p = iso * *p;
        }
    }

    /// Scales every vertex by `s` about the origin (a negative or zero `s` is the caller's
    /// responsibility: a mirror turns the mesh inside out).
    pub fn scale(&mut self, s: f64) {
        for p in &mut self.vertices {
            *p = Point3::from(p.coords * s);
        }
    }

    /// Translates every vertex by `d`.
    pub fn translate(&mut self, d: Vector3<f64>) {
        for p in &mut self.vertices {
            *p += d;
        }
    }

    /// Applies an affine transform given as a homogeneous 4×4 matrix; when it mirrors
    /// (negative determinant) the winding is flipped so normals stay outward.
    pub fn transform_affine(&mut self, m: &Matrix4<f64>) {
        for p in &mut self.vertices {
            *p = m.transform_point(p);
        }
        if m.fixed_view::<3, 3>(0, 0).determinant() < 0.0 {
            self.flip_all();
        }
    }

    /// Reverses the winding of every triangle.
    pub fn flip_all(&mut self) {
        for t in &mut self.triangles {
            t.swap(1, 2);
        }
    }

    /// Appends `other`, keeping its vertices separate (no welding).
    pub fn append(&mut self, other: &Mesh) {
        let off = self.vertices.len() as u32;
        self.vertices.extend_from_slice(&other.vertices);
        self.triangles.extend(
            other
                .triangles
                .iter()
                .map(|t| [t[0] + off, t[1] + off, t[2] + off]),
        );
    }

    /// The connected shells: groups of triangle indices connected through shared vertices,
    /// ordered by their smallest triangle index.
    pub fn shells(&self) -> Vec<Vec<usize>> {
        let mut uf = UnionFind::new(self.vertices.len());
        for t in &self.triangles {
            uf.union(t[0] as usize, t[1] as usize);
            uf.union(t[0] as usize, t[2] as usize);
        }
        let mut shell_of_root: HashMap<usize, usize> = HashMap::new();
        let mut shells: Vec<Vec<usize>> = Vec::new();
        for (ti, t) in self.triangles.iter().enumerate() {
            let root = uf.find(t[0] as usize);
            let s = *shell_of_root.entry(root).or_insert_with(|| {
                shells.push(Vec::new());
                shells.len() - 1
            });
            shells[s].push(ti);
        }
        shells
    }

    /// Removes vertices no triangle uses, renumbering the triangles.
    pub fn compact(&mut self) {
        let mut map = vec![u32::MAX; self.vertices.len()];
        let mut vertices = Vec::with_capacity(self.vertices.len());
        for t in &mut self.triangles {
            for i in t.iter_mut() {
                let m = &mut map[*i as usize];
                if *m == u32::MAX {
                    *m = vertices.len() as u32;
                    vertices.push(self.vertices[*i as usize]);
                }
                *i = *m;
            }
        }
        self.vertices = vertices;
    }

    /// True when every vertex coordinate is finite.
    pub fn is_finite(&self) -> bool {
        self.vertices
            .iter()
            .all(|p| p.iter().all(|c| c.is_finite()))
    }
}

/// The hashing key of a point: its bit pattern, with `-0.0` folded onto `0.0`.
#[inline]
pub fn point_key(p: &Point3<f64>) -> [u64; 3] {
    [
        (p.x + 0.0).to_bits(),
        (p.y + 0.0).to_bits(),
        (p.z + 0.0).to_bits(),
    ]
}

/// Disjoint sets over `0..n` with path halving and union by size.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    /// `n` singleton sets.
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    /// The representative of `x`'s set.
    pub fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Merges the sets of `a` and `b`; true when they were separate.
    pub fn union(&mut self, a: usize, b: usize) -> bool {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return false;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_has_exact_volume_area_and_one_shell() {
        let m = Mesh::axis_aligned_box([1.0, 2.0, 3.0], [3.0, 5.0, 7.0]);
        assert_eq!(m.signed_volume(), 24.0);
        assert_eq!(m.area(), 2.0 * (6.0 + 8.0 + 12.0));
        assert_eq!(m.shells().len(), 1);
        assert_eq!(m.bbox().min, [1.0, 2.0, 3.0]);
        assert_eq!(m.bbox().max, [3.0, 5.0, 7.0]);
    }

    #[test]
    fn soup_welds_identical_vertices_including_signed_zero() {
        let p = |x, y, z| Point3::new(x, y, z);
        let m = Mesh::from_soup([
            [p(0.0, 0.0, 0.0), p(1.0, 0.0, 0.0), p(0.0, 1.0, 0.0)],
            [p(-0.0, 0.0, 0.0), p(0.0, 1.0, 0.0), p(0.0, 0.0, 1.0)],
        ]);
        assert_eq!(m.vertices.len(), 4);
        assert_eq!(m.triangles[1][0], 0);
    }

    #[test]
    fn mirroring_affine_transform_keeps_volume_positive() {
        let mut m = Mesh::axis_aligned_box([0.0; 3], [1.0, 2.0, 3.0]);
        m.transform_affine(&Matrix4::new_nonuniform_scaling(&Vector3::new(
            -2.0, 1.0, 1.0,
        )));
        assert!((m.signed_volume() - 12.0).abs() < 1e-12);
    }

    #[test]
    fn two_disjoint_boxes_are_two_shells_and_compact_drops_unused_vertices() {
        let mut m = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
        m.append(&Mesh::axis_aligned_box([5.0; 3], [6.0; 3]));
        assert_eq!(m.shells().len(), 2);
        m.triangles.truncate(12);
        m.compact();
        assert_eq!(m.vertices.len(), 8);
    }
}
