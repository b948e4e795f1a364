//! Marching tetrahedra on a Freudenthal (Kuhn) grid: a mesher whose output is always a closed,
//! consistently oriented 2-manifold without self-intersections.
//!
//! ```
//! use meltline_core::implicit::mesher::{mesh_field, MesherOptions};
//! use meltline_core::mesh::Aabb;
//! use nalgebra::Point3;
//! let ball = |p: &Point3<f64>| p.coords.norm() - 2.0;
//! let bounds = Aabb { min: [-3.0; 3], max: [3.0; 3] };
//! let mesh = mesh_field(&ball, bounds, 0.5, &MesherOptions::default()).unwrap();
//! let exact = 4.0 / 3.0 * std::f64::consts::PI * 8.0;
//! assert!((mesh.signed_volume() - exact).abs() < 0.05 * exact);
//! ```
//!
//! # Method
//!
//! The field is sampled on a regular grid of nodes spanning `bounds` exactly (spacing at most
//! the requested edge length per axis). Every grid cube is split into the six tetrahedra of the
//! Freudenthal triangulation (the paths `0 → e_a → e_a + e_b → (1,1,1)` over the permutations of
//! the axes). The split is the same translated pattern in every cube, so neighbouring cubes
//! split their shared face along the same diagonal and the tetrahedra form one simplicial
//! complex `K` filling the box.
//!
//! On `K` the samples define a piecewise-linear function `g`, and the mesh is the zero set of
//! `g`, one triangle or one quadrilateral (two triangles) per tetrahedron that changes sign.
//!
//! # Why the result is a closed 2-manifold without self-intersections
//!
//! - **No node lies on the surface.** A sample equal to zero counts as positive (a symbolic
//!   perturbation `g + δ`, δ → 0⁺), so `g` is *generic*: every vertex of `K` is strictly
//!   inside or outside and the zero set crosses an edge of `K` at most once, in its interior.
//! - **The surface stays inside the box.** Nodes on the faces of `bounds` are forced positive:
//!   the sampled value is `max(f, -d)` with `d` the distance from the node to the box boundary
//!   counted in grid steps (exactly zero on the boundary), i.e. the field intersected with the
//!   box. So no tetrahedron face on the boundary of `K` is crossed.
//! - **Closed and 2-manifold.** One surface vertex per crossed edge of `K`, shared by every
//!   tetrahedron around that edge through the edge's global id (no welding by coordinates).
//!   A surface edge lies in a crossed triangle of `K`; every such triangle is interior (previous
//!   point), hence shared by exactly two tetrahedra, and each contributes exactly one surface
//!   edge inside it: every surface edge has exactly two incident triangles. Around a surface
//!   vertex, the tetrahedra around its grid edge form a cycle, each contributing one polygon,
//!   so its link is a single loop (a disk neighbourhood).
//! - **Consistently oriented.** Every triangle is wound so its normal points from the negative
//!   (solid) corners to the positive ones. The winding is read from a table built once on a
//!   reference cube; it is combinatorial because the orientation of a surface triangle relative
//!   to a solid corner of its tetrahedron cannot change while its vertices slide inside their
//!   edges (the triangle never becomes degenerate nor passes through that corner).
//! - **No self-intersections.** Each surface polygon lies inside its own tetrahedron and meets
//!   the tetrahedron's boundary only along its own edges, which lie on the crossed faces; two
//!   polygons in different tetrahedra therefore meet only in shared surface edges or vertices.
//!   A quadrilateral is split along a diagonal; its two triangles never fold onto each other
//!   because their four vertices lie on four different faces of the tetrahedron.
//! - **No coincident vertices.** The interpolation parameter along an edge is clamped to
//!   `[ε, 1 − ε]` ([`MesherOptions::vertex_clamp`]), so surface vertices stay apart from grid
//!   nodes and from each other, and no triangle has zero area. Clamping moves a vertex along
//!   its own edge only, which keeps every argument above.
//!
//! These hold for any field (the mesh is the exact zero set of `g`, not of `f`): thin features
//! below the grid spacing may vanish or break up, but never produce a defective mesh.
//!
//! # Parallelism and memory
//!
//! The grid is cut into slabs of [`MesherOptions::slab_layers`] cube layers, meshed in parallel
//! with rayon. A slab holds only two planes of samples and the surface-vertex ids of the edges
//! touching them. Vertices on a plane shared by two slabs are created by both in the same scan
//! order; when the slabs are joined in order, the upper slab's copies are replaced by the lower
//! slab's. Slab boundaries and all ids depend only on the grid, never on the thread count, so
//! the output is identical for any number of threads.

use std::sync::OnceLock;

use nalgebra::Point3;
use rayon::prelude::*;
use thiserror::Error;

use super::ScalarField;
use crate::mesh::{Aabb, Mesh};

/// Options of [`mesh_field`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MesherOptions {
    /// Smallest distance of a surface vertex from either end of its grid edge, as a fraction of
    /// the edge (ε in `[ε, 1 − ε]`), in `(0, 0.25]`. Larger values avoid tiny slivers at the
    /// cost of a surface offset of at most ε grid steps.
    pub vertex_clamp: f64,
    /// Cube layers per parallel slab (at least 1). Part of the output's definition: the mesh is
    /// identical for any thread count, and for any slab height.
    pub slab_layers: usize,
    /// The largest grid (number of cubes) accepted, to refuse runaway resolutions.
    pub max_cells: u64,
}

impl MesherOptions {
    /// The default options: ε = 0.01, 8 layers per slab, at most 4·10⁹ cells.
    pub fn new() -> MesherOptions {
        MesherOptions {
            vertex_clamp: 0.01,
            slab_layers: 8,
            max_cells: 4_000_000_000,
        }
    }
}

impl Default for MesherOptions {
    fn default() -> Self {
        MesherOptions::new()
    }
}

/// Why a field could not be meshed.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum MeshingError {
    /// The bounds are empty, flat along an axis, or not finite.
    #[error("meshing bounds {min:?} .. {max:?} mm are empty, flat or not finite")]
    InvalidBounds {
        /// The minimum corner given.
        min: [f64; 3],
        /// The maximum corner given.
        max: [f64; 3],
    },
    /// The edge length is not a positive finite number.
    #[error("edge length {0} mm is not a positive finite number")]
    InvalidEdgeLength(f64),
    /// An option is outside its range.
    #[error("mesher option {name} = {value} is outside {range}")]
    InvalidOption {
        /// The option's name.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The allowed range.
        range: &'static str,
    },
    /// The grid would have more cells than [`MesherOptions::max_cells`].
    #[error("grid of {nx}×{ny}×{nz} cells exceeds the limit of {limit} cells; use a longer edge")]
    GridTooLarge {
        /// Cells along x.
        nx: usize,
        /// Cells along y.
        ny: usize,
        /// Cells along z.
        nz: usize,
        /// The limit.
        limit: u64,
    },
    /// The field returned NaN.
    #[error("the field is NaN at ({x}, {y}, {z}) mm")]
    NotANumber {
        /// x of the sample, mm.
        x: f64,
        /// y of the sample, mm.
        y: f64,
        /// z of the sample, mm.
        z: f64,
    },
    /// The field gave different signs on the same plane in two evaluations (it is not a pure
    /// function of the point).
    #[error("the field is not deterministic: plane z = {z} mm sampled twice gave different signs")]
    NondeterministicField {
        /// z of the plane, mm.
        z: f64,
    },
    /// The mesh would need more than `u32::MAX` vertices.
    #[error(
        "the mesh would have more than {} vertices; use a longer edge",
        u32::MAX
    )]
    TooManyVertices,
}

/// Meshes the solid `{f < 0} ∩ bounds` with triangles of about `edge_length` mm.
///
/// The result is watertight, 2-manifold, outward-oriented and free of self-intersections for
/// any field (see the module docs for why); an everywhere-positive field gives an empty mesh.
/// The field must be a pure function of the point. The output is identical for any rayon
/// thread count.
pub fn mesh_field(
    field: &dyn ScalarField,
    bounds: Aabb,
    edge_length: f64,
    opts: &MesherOptions,
) -> Result<Mesh, MeshingError> {
    let grid = Grid::new(bounds, edge_length, opts)?;
    let nz = grid.n[2];
    let layers = opts.slab_layers;
    let slab_count = nz.div_ceil(layers);
    let slabs: Vec<Slab> = (0..slab_count)
        .into_par_iter()
        .map(|s| mesh_slab(field, &grid, s * layers, ((s + 1) * layers).min(nz)))
        .collect::<Result<_, _>>()?;
    join_slabs(slabs, &grid)
}

/// The sampling grid: nodes `min + i·h` for `i ∈ 0..=n` per axis.
struct Grid {
    min: [f64; 3],
    h: [f64; 3],
    n: [usize; 3],
    clamp: f64,
}

impl Grid {
    fn new(bounds: Aabb, edge_length: f64, opts: &MesherOptions) -> Result<Grid, MeshingError> {
        let Aabb { min, max } = bounds;
        if (0..3).any(|k| !(min[k].is_finite() && max[k].is_finite() && min[k] < max[k])) {
            return Err(MeshingError::InvalidBounds { min, max });
        }
        if !(edge_length.is_finite() && edge_length > 0.0) {
            return Err(MeshingError::InvalidEdgeLength(edge_length));
        }
        if !(opts.vertex_clamp > 0.0 && opts.vertex_clamp <= 0.25) {
            return Err(MeshingError::InvalidOption {
                name: "vertex_clamp",
                value: opts.vertex_clamp,
                range: "(0, 0.25]",
            });
        }
        if opts.slab_layers == 0 {
            return Err(MeshingError::InvalidOption {
                name: "slab_layers",
                value: 0.0,
                range: "1 or more",
            });
        }
        let mut n = [0usize; 3];
        let mut cells = 1.0f64;
        for k in 0..3 {
            let c = ((max[k] - min[k]) / edge_length).ceil().max(1.0);
            cells *= c;
            n[k] = if c < 1e12 { c as usize } else { usize::MAX / 4 };
        }
        if cells > opts.max_cells as f64 {
            return Err(MeshingError::GridTooLarge {
                nx: n[0],
                ny: n[1],
                nz: n[2],
                limit: opts.max_cells,
            });
        }
        let h = [0, 1, 2].map(|k| (max[k] - min[k]) / n[k] as f64);
        Ok(Grid {
            min,
            h,
            n,
            clamp: opts.vertex_clamp,
        })
    }

    #[inline]
    fn coord(&self, axis: usize, i: usize) -> f64 {
        self.min[axis] + i as f64 * self.h[axis]
    }

    /// Nodes per row (x) and per plane.
    fn widths(&self) -> (usize, usize) {
        let w = self.n[0] + 1;
        (w, w * (self.n[1] + 1))
    }

    /// Samples plane `k` into `out` (row-major, x fastest), intersected with the box.
    fn sample_plane(
        &self,
        field: &dyn ScalarField,
        k: usize,
        out: &mut [f64],
    ) -> Result<(), MeshingError> {
        let (w, _) = self.widths();
        let z = self.coord(2, k);
        let dz = (k.min(self.n[2] - k)) as f64 * self.h[2];
        for j in 0..=self.n[1] {
            let y = self.coord(1, j);
            let dyz = dz.min((j.min(self.n[1] - j)) as f64 * self.h[1]);
            let row = &mut out[j * w..(j + 1) * w];
            for (i, v) in row.iter_mut().enumerate() {
                let x = self.coord(0, i);
                let f = field.eval(&Point3::new(x, y, z));
                if f.is_nan() {
                    return Err(MeshingError::NotANumber { x, y, z });
                }
                let d = dyz.min((i.min(self.n[0] - i)) as f64 * self.h[0]);
                // Zero on the box boundary: `max` turns any solid there into -0.0, which
                // counts as outside, so the surface closes inside the box.
                // `+∞` is capped so interpolation never divides infinities.
                *v = f.max(-d).min(f64::MAX);
            }
        }
        Ok(())
    }

    /// The surface vertex on the edge from node `(i, j, k)` (value `a`) along `dir` (value `b`).
    #[inline]
    fn edge_vertex(&self, i: usize, j: usize, k: usize, dir: usize, a: f64, b: f64) -> [f64; 3] {
        let t = (a / (a - b)).clamp(self.clamp, 1.0 - self.clamp);
        let mut p = [self.coord(0, i), self.coord(1, j), self.coord(2, k)];
        for (axis, c) in p.iter_mut().enumerate() {
            if dir >> axis & 1 == 1 {
                *c += t * self.h[axis];
            }
        }
        p
    }
}

/// Whether a sample counts as solid; zero counts as outside (symbolic perturbation).
#[inline]
fn solid(v: f64) -> bool {
    v < 0.0
}

/// Surface-vertex ids of the edges in one grid plane (directions x, y, xy), by start node.
struct PlaneEdges([Vec<u32>; 3]);

/// Surface-vertex ids of the edges between two planes (directions z, xz, yz, xyz), by start node.
struct LayerEdges([Vec<u32>; 4]);

/// The mesh of one slab, in slab-local vertex ids.
#[derive(Default)]
struct Slab {
    vertices: Vec<[f64; 3]>,
    triangles: Vec<[u32; 3]>,
    /// The first `bottom` vertices lie on the slab's bottom plane.
    bottom: usize,
    /// The vertices on the slab's top plane.
    top: std::ops::Range<usize>,
    /// z of the bottom plane (for error messages).
    z_bottom: f64,
}

fn push_vertex(vertices: &mut Vec<[f64; 3]>, p: [f64; 3]) -> Result<u32, MeshingError> {
    let id = u32::try_from(vertices.len()).map_err(|_| MeshingError::TooManyVertices)?;
    if id == u32::MAX {
        return Err(MeshingError::TooManyVertices);
    }
    vertices.push(p);
    Ok(id)
}

impl PlaneEdges {
    fn new(len: usize) -> PlaneEdges {
        PlaneEdges([
            vec![u32::MAX; len],
            vec![u32::MAX; len],
            vec![u32::MAX; len],
        ])
    }

    /// Creates the surface vertices of plane `k`'s crossed edges, in scan order. Entries of
    /// uncrossed edges are left stale: they are never read.
    fn build(
        &mut self,
        grid: &Grid,
        k: usize,
        vals: &[f64],
        vertices: &mut Vec<[f64; 3]>,
    ) -> Result<(), MeshingError> {
        let (w, _) = grid.widths();
        let [nx, ny] = [grid.n[0], grid.n[1]];
        for j in 0..=ny {
            for i in 0..=nx {
                let n = j * w + i;
                let a = vals[n];
                let sa = solid(a);
                if i < nx && solid(vals[n + 1]) != sa {
                    self.0[0][n] =
                        push_vertex(vertices, grid.edge_vertex(i, j, k, 1, a, vals[n + 1]))?;
                }
                if j < ny && solid(vals[n + w]) != sa {
                    self.0[1][n] =
                        push_vertex(vertices, grid.edge_vertex(i, j, k, 2, a, vals[n + w]))?;
                }
                if i < nx && j < ny && solid(vals[n + w + 1]) != sa {
                    let b = vals[n + w + 1];
                    self.0[2][n] = push_vertex(vertices, grid.edge_vertex(i, j, k, 3, a, b))?;
                }
            }
        }
        Ok(())
    }
}

impl LayerEdges {
    fn new(len: usize) -> LayerEdges {
        LayerEdges([
            vec![u32::MAX; len],
            vec![u32::MAX; len],
            vec![u32::MAX; len],
            vec![u32::MAX; len],
        ])
    }

    /// Creates the surface vertices of the crossed edges from plane `k` to plane `k + 1`.
    fn build(
        &mut self,
        grid: &Grid,
        k: usize,
        lo: &[f64],
        hi: &[f64],
        vertices: &mut Vec<[f64; 3]>,
    ) -> Result<(), MeshingError> {
        let (w, _) = grid.widths();
        let [nx, ny] = [grid.n[0], grid.n[1]];
        for j in 0..=ny {
            for i in 0..=nx {
                let n = j * w + i;
                let a = lo[n];
                let sa = solid(a);
                // Directions z (4), xz (5), yz (6), xyz (7) and the node they reach above.
                let reach = [
                    Some(n),
                    (i < nx).then_some(n + 1),
                    (j < ny).then_some(n + w),
                    (i < nx && j < ny).then_some(n + w + 1),
                ];
                for (slot, m) in reach.into_iter().enumerate() {
                    if let Some(m) = m
                        && solid(hi[m]) != sa
                    {
                        let p = grid.edge_vertex(i, j, k, 4 + slot, a, hi[m]);
                        self.0[slot][n] = push_vertex(vertices, p)?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn mesh_slab(
    field: &dyn ScalarField,
    grid: &Grid,
    k0: usize,
    k1: usize,
) -> Result<Slab, MeshingError> {
    let (w, plane) = grid.widths();
    let mut lo = vec![0.0; plane];
    let mut hi = vec![0.0; plane];
    let mut edges_lo = PlaneEdges::new(plane);
    let mut edges_hi = PlaneEdges::new(plane);
    let mut layer = LayerEdges::new(plane);
    let mut slab = Slab {
        z_bottom: grid.coord(2, k0),
        ..Slab::default()
    };
    grid.sample_plane(field, k0, &mut lo)?;
    edges_lo.build(grid, k0, &lo, &mut slab.vertices)?;
    slab.bottom = slab.vertices.len();
    let table = case_table();
    let corner_offset = [0, 1, w, w + 1];
    for k in k0..k1 {
        grid.sample_plane(field, k + 1, &mut hi)?;
        let top_start = slab.vertices.len();
        edges_hi.build(grid, k + 1, &hi, &mut slab.vertices)?;
        slab.top = top_start..slab.vertices.len();
        layer.build(grid, k, &lo, &hi, &mut slab.vertices)?;
        for j in 0..grid.n[1] {
            for i in 0..grid.n[0] {
                let n = j * w + i;
                let mut mask = 0usize;
                for (c, &off) in corner_offset.iter().enumerate() {
                    mask |= (solid(lo[n + off]) as usize) << c;
                    mask |= (solid(hi[n + off]) as usize) << (c + 4);
                }
                if mask == 0 || mask == 255 {
                    continue;
                }
                let vertex_of = |s: u8| -> u32 {
                    let CubeEdge { corner, dir } = CUBE_EDGES[s as usize];
                    let node = n + corner_offset[corner & 3];
                    if dir & 4 != 0 {
                        layer.0[dir - 4][node]
                    } else if corner & 4 == 0 {
                        edges_lo.0[dir - 1][node]
                    } else {
                        edges_hi.0[dir - 1][node]
                    }
                };
                for tri in table.triangles(mask) {
                    slab.triangles
                        .push([vertex_of(tri[0]), vertex_of(tri[1]), vertex_of(tri[2])]);
                }
            }
        }
        std::mem::swap(&mut lo, &mut hi);
        std::mem::swap(&mut edges_lo, &mut edges_hi);
    }
    Ok(slab)
}

/// Joins the slabs in order, replacing each slab's bottom-plane vertices by the previous
/// slab's top-plane vertices.
fn join_slabs(slabs: Vec<Slab>, grid: &Grid) -> Result<Mesh, MeshingError> {
    let _ = grid;
    // Global id of slab s's first own (non-bottom) vertex.
    let mut base = Vec::with_capacity(slabs.len());
    let mut total = 0usize;
    for (s, slab) in slabs.iter().enumerate() {
        if s > 0 && slabs[s - 1].top.len() != slab.bottom {
            return Err(MeshingError::NondeterministicField { z: slab.z_bottom });
        }
        base.push(total);
        total += slab.vertices.len() - slab.bottom;
    }
    if total >= u32::MAX as usize {
        return Err(MeshingError::TooManyVertices);
    }
    let mut vertices = Vec::with_capacity(total);
    for slab in &slabs {
        vertices.extend(
            slab.vertices[slab.bottom..]
                .iter()
                .map(|p| Point3::from(*p)),
        );
    }
    let triangles: Vec<[u32; 3]> = slabs
        .par_iter()
        .enumerate()
        .flat_map_iter(|(s, slab)| {
            let own = base[s] as i64 - slab.bottom as i64;
            let below = if s > 0 {
                let prev = &slabs[s - 1];
                base[s - 1] as i64 - prev.bottom as i64 + prev.top.start as i64
            } else {
                0
            };
            let bottom = slab.bottom as u32;
            slab.triangles.iter().map(move |t| {
                t.map(|v| {
                    let g = if v < bottom {
                        below + v as i64
                    } else {
                        own + v as i64
                    };
                    g as u32
                })
            })
        })
        .collect();
    Ok(Mesh {
        vertices,
        triangles,
    })
}

/// An edge of the Freudenthal split of the unit cube: from `corner` (bits x = 1, y = 2, z = 4)
/// along `dir` (a non-empty set of axes disjoint from `corner`'s).
#[derive(Clone, Copy)]
struct CubeEdge {
    corner: usize,
    dir: usize,
}

/// The 19 edges of the split cube: 12 cube edges, 6 face diagonals, 1 main diagonal.
const CUBE_EDGES: [CubeEdge; 19] = {
    let mut edges = [CubeEdge { corner: 0, dir: 0 }; 19];
    let mut s = 0;
    let mut corner = 0;
    while corner < 8 {
        let mut dir = 1;
        while dir < 8 {
            if corner & dir == 0 {
                edges[s] = CubeEdge { corner, dir };
                s += 1;
            }
            dir += 1;
        }
        corner += 1;
    }
    edges
};

/// The surface triangles of each of the 256 sign patterns of a cube's corners, as triples of
/// [`CUBE_EDGES`] indices wound outwards.
struct CaseTable {
    start: [u16; 257],
    triangles: Vec<[u8; 3]>,
}

impl CaseTable {
    #[inline]
    fn triangles(&self, mask: usize) -> &[[u8; 3]] {
        &self.triangles[self.start[mask] as usize..self.start[mask + 1] as usize]
    }
}

fn case_table() -> &'static CaseTable {
    static TABLE: OnceLock<CaseTable> = OnceLock::new();
    TABLE.get_or_init(build_case_table)
}

/// Builds the table on the reference unit cube with vertices at edge midpoints; the windings
/// are combinatorial (module docs), so they hold for any vertex positions inside the edges.
fn build_case_table() -> CaseTable {
    let pos = |c: usize| [(c & 1) as f64, (c >> 1 & 1) as f64, (c >> 2 & 1) as f64];
    let slot_of = |u: usize, v: usize| -> u8 {
        let (lo, hi) = if u & v == u { (u, v) } else { (v, u) };
        CUBE_EDGES
            .iter()
            .position(|e| e.corner == lo && e.dir == hi ^ lo)
            .expect("tetrahedron edges are cube edges") as u8
    };
    let mid = |u: usize, v: usize| {
        let (a, b) = (pos(u), pos(v));
        [0, 1, 2].map(|k| 0.5 * (a[k] + b[k]))
    };
    let mut tets = Vec::new();
    for perm in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let a = 1 << perm[0];
        let b = a | 1 << perm[1];
        tets.push([0usize, a, b, 7]);
    }
    let mut start = [0u16; 257];
    let mut triangles = Vec::new();
    for mask in 0..256usize {
        for tet in &tets {
            let (neg, pos_c): (Vec<usize>, Vec<usize>) =
                tet.iter().partition(|&&c| mask >> c & 1 == 1);
            let centroid = |cs: &[usize]| {
                let mut s = [0.0; 3];
                for &c in cs {
                    let p = pos(c);
                    (0..3).for_each(|k| s[k] += p[k] / cs.len() as f64);
                }
                s
            };
            let polygon: Vec<(usize, usize)> = match (neg.len(), pos_c.len()) {
                (1, 3) => pos_c.iter().map(|&p| (neg[0], p)).collect(),
                (3, 1) => neg.iter().map(|&n| (n, pos_c[0])).collect(),
                (2, 2) => {
                    let ([a, b], [c, d]) = ([neg[0], neg[1]], [pos_c[0], pos_c[1]]);
                    vec![(a, c), (a, d), (b, d), (b, c)]
                }
                _ => continue,
            };
            let outward = {
                let (cn, cp) = (centroid(&neg), centroid(&pos_c));
                [cp[0] - cn[0], cp[1] - cn[1], cp[2] - cn[2]]
            };
            let fans: &[[usize; 3]] = if polygon.len() == 3 {
                &[[0, 1, 2]]
            } else {
                &[[0, 1, 2], [0, 2, 3]]
            };
            for fan in fans {
                let p = fan.map(|i| mid(polygon[i].0, polygon[i].1));
                let e1 = [0, 1, 2].map(|k| p[1][k] - p[0][k]);
                let e2 = [0, 1, 2].map(|k| p[2][k] - p[0][k]);
                let nrm = [
                    e1[1] * e2[2] - e1[2] * e2[1],
                    e1[2] * e2[0] - e1[0] * e2[2],
                    e1[0] * e2[1] - e1[1] * e2[0],
                ];
                let dot: f64 = (0..3).map(|k| nrm[k] * outward[k]).sum();
                let mut t = fan.map(|i| slot_of(polygon[i].0, polygon[i].1));
                if dot < 0.0 {
                    t.swap(1, 2);
                }
                triangles.push(t);
            }
        }
        start[mask + 1] = triangles.len() as u16;
    }
    CaseTable { start, triangles }
}

#[cfg(test)]
#[path = "mesher_tests.rs"]
mod tests;
