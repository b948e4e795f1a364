//! Slicing a mesh into closed polygons with holes at mid-layer planes.
//!
//! Layer `i` fills `z ∈ [i·t, (i+1)·t]` and is cut at `z = (i + 0.5)·t` (the mesh is already
//! placed in the build frame). The cut is robust:
//!
//! - **Symbolic perturbation**: a vertex exactly on the plane counts as *above* it, so a plane
//!   through vertices, edges or coplanar faces still gives each crossing triangle exactly two
//!   crossed edges, and coplanar faces contribute nothing.
//! - **Edge-id linking**: each crossing triangle gives one segment from the edge it leaves the
//!   solid's lower side through to the edge it enters through; the next segment of a loop is the
//!   one starting on the same mesh edge. No point matching, no tolerance.
//! - **Shared intersection points**: a crossing point is computed from the edge's vertices in
//!   index order, so both triangles of an edge get the same integer point.
//! - **Simplification**: before the union, vertices within half a unit (0.5 µm) of the chord
//!   that replaces them are dropped (Douglas–Peucker): a plane crossing the diagonal of a flat
//!   quad gives a vertex collinear with its neighbours up to the rounding, and every boolean and
//!   offset downstream pays for it. The contours stay within half a unit of the rounded section.
//! - **Union**: loops are unioned by the non-zero rule (overlapping shells merge).
//! - **Area**: [`LayerSection::area_mm2`] is taken in f64 from the unrounded crossing points
//!   (the shoelace sum over the oriented segments) plus what the non-zero union changed on the
//!   grid (the union's area minus the loops' signed area: zero unless shells overlap or are
//!   inverted), so the 1 µm grid does not bias the area of tiny sections. A layer with stitched
//!   gaps or open chains takes the area of the integer union.
//! - **Stitching**: chains left open by holes in the mesh are joined end to start when the gap
//!   is within [`SliceOptions::stitch_tolerance_mm`]; every stitch is reported in the
//!   [`LayerSection`], as is every chain that could not be closed.
//!
//! Triangles are bucketed by the layers they cross, so a layer touches only its own triangles.

use std::collections::HashMap;

use meltline_core::mesh::Mesh;
use rayon::prelude::*;
use thiserror::Error;

use crate::polygon::{
    Contour, Point, QUANTUM_MM, Shapes, UNITS_PER_MM, contour_area2, simplify_contour,
    union_nonzero,
};

/// Contour vertices within this many units of the chord replacing them are dropped.
const SIMPLIFY_UNITS: f64 = 0.5;

/// Options of the slicer.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceOptions {
    /// Layer thickness `t` in mm.
    pub layer_thickness_mm: f64,
    /// Open chains whose end lies within this distance of a chain start are stitched (mm).
    pub stitch_tolerance_mm: f64,
}

impl SliceOptions {
    /// Options for a layer thickness, with a 0.05 mm stitch tolerance.
    pub fn new(layer_thickness_mm: f64) -> SliceOptions {
        SliceOptions {
            layer_thickness_mm,
            stitch_tolerance_mm: 0.05,
        }
    }
}

impl Default for SliceOptions {
    fn default() -> Self {
        SliceOptions::new(0.03)
    }
}

/// What went wrong preparing a mesh for slicing.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum SliceError {
    /// The layer thickness is not a positive finite number.
    #[error("layer thickness {0} mm is not a positive finite number")]
    BadLayerThickness(f64),
    /// A vertex has a NaN or infinite coordinate.
    #[error("vertex {0} has a non-finite coordinate")]
    NonFiniteVertex(usize),
    /// A vertex lies outside the integer coordinate range.
    #[error("vertex {vertex} at ({x:.3}, {y:.3}) mm is outside the ±{limit_mm} mm build range")]
    OutOfRange {
        /// The vertex index.
        vertex: usize,
        /// Its x in mm.
        x: f64,
        /// Its y in mm.
        y: f64,
        /// The allowed half-range in mm.
        limit_mm: f64,
    },
    /// The part lies (partly) below the build plate.
    #[error("vertex {vertex} is below the build plate (z = {z:.4} mm); place the part first")]
    BelowPlate {
        /// The vertex index.
        vertex: usize,
        /// Its z in mm.
        z: f64,
    },
    /// Too many layers for the part height and thickness.
    #[error("{0} layers exceed the limit of 1,000,000")]
    TooManyLayers(usize),
    /// A triangle indexes past the vertices.
    #[error("triangle {0} refers to a missing vertex")]
    BadTriangle(usize),
}

/// A gap closed by stitching: where and how wide.
#[derive(Debug, Clone, PartialEq)]
pub struct Stitch {
    /// The gap length in mm.
    pub gap_mm: f64,
    /// The gap's first end, in mm.
    pub at_mm: [f64; 2],
}

/// The cross-section of one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSection {
    /// Layer index.
    pub index: usize,
    /// Cut height in mm, `(index + 0.5)·t`.
    pub z_mm: f64,
    /// The filled cross-section (CCW outers, CW holes), integer units.
    pub shapes: Shapes,
    /// Gaps that were stitched to close loops.
    pub stitches: Vec<Stitch>,
    /// Chains joined end to start at the very same integer point on different mesh edges
    /// (T-junctions, unwelded vertices): no gap, so not a [`Stitch`].
    pub exact_joins: usize,
    /// Open chains that could not be closed and were left out.
    pub open_chains: usize,
    /// The total length of those chains in mm.
    pub open_length_mm: f64,
    /// The area enclosed by the cross-section in mm² (see [`LayerSection::area_mm2`]).
    pub enclosed_area_mm2: f64,
}

impl LayerSection {
    /// The cross-section area in mm², before any offset: from the unrounded crossing points,
    /// corrected by the union on the grid (see the module documentation).
    pub fn area_mm2(&self) -> f64 {
        self.enclosed_area_mm2
    }
}

/// Coordinates up to this many mm from the origin fit the integer engine with margin.
const LIMIT_MM: f64 = 500_000.0;

/// A mesh prepared for slicing: edges numbered and triangles bucketed by layer.
#[derive(Debug, Clone)]
pub struct MeshSlicer {
    options: SliceOptions,
    xy: Vec<[f64; 2]>,
    z: Vec<f64>,
    triangles: Vec<[u32; 3]>,
    /// Per triangle, the ids of edges (a,b), (b,c), (c,a).
    tri_edges: Vec<[u32; 3]>,
    /// Per edge id, its vertices with the lower index first.
    edges: Vec<[u32; 2]>,
    /// CSR buckets: the triangles crossing layer `i` are `layer_tris[start[i]..start[i+1]]`.
    layer_start: Vec<usize>,
    layer_tris: Vec<u32>,
}

impl MeshSlicer {
    /// Prepares `mesh` (already in the build frame, `z ≥ 0`) for slicing.
    pub fn new(mesh: &Mesh, options: SliceOptions) -> Result<MeshSlicer, SliceError> {
        let t = options.layer_thickness_mm;
        if !(t.is_finite() && t > 0.0) {
            return Err(SliceError::BadLayerThickness(t));
        }
        let mut z_max = 0.0f64;
        for (i, p) in mesh.vertices.iter().enumerate() {
            if !(p.x.is_finite() && p.y.is_finite() && p.z.is_finite()) {
                return Err(SliceError::NonFiniteVertex(i));
            }
            if p.x.abs() > LIMIT_MM || p.y.abs() > LIMIT_MM {
                return Err(SliceError::OutOfRange {
                    vertex: i,
                    x: p.x,
                    y: p.y,
                    limit_mm: LIMIT_MM,
                });
            }
            if p.z < 0.0 {
                return Err(SliceError::BelowPlate { vertex: i, z: p.z });
            }
            z_max = z_max.max(p.z);
        }
        let nv = mesh.vertices.len();
        if let Some(bad) = mesh
            .triangles
            .iter()
            .position(|t| t.iter().any(|&v| v as usize >= nv))
        {
            return Err(SliceError::BadTriangle(bad));
        }
        let layer_count = layer_count(z_max, t);
        if layer_count > 1_000_000 {
            return Err(SliceError::TooManyLayers(layer_count));
        }
        let xy: Vec<[f64; 2]> = mesh.vertices.iter().map(|p| [p.x, p.y]).collect();
        let z: Vec<f64> = mesh.vertices.iter().map(|p| p.z).collect();

        let mut edge_ids: HashMap<(u32, u32), u32> =
            HashMap::with_capacity(mesh.triangles.len() * 2);
        let mut edges = Vec::new();
        let mut tri_edges = Vec::with_capacity(mesh.triangles.len());
        for tri in &mesh.triangles {
            let mut ids = [0u32; 3];
            for k in 0..3 {
                let (a, b) = (tri[k], tri[(k + 1) % 3]);
                let key = (a.min(b), a.max(b));
                ids[k] = *edge_ids.entry(key).or_insert_with(|| {
                    edges.push([key.0, key.1]);
                    (edges.len() - 1) as u32
                });
            }
            tri_edges.push(ids);
        }

        // Bucket each triangle into the layers whose plane it crosses: z_lo < zc <= z_hi.
        let mut spans = Vec::with_capacity(mesh.triangles.len());
        let mut counts = vec![0usize; layer_count + 1];
        for tri in &mesh.triangles {
            let zs = tri.map(|v| z[v as usize]);
            let lo = zs[0].min(zs[1]).min(zs[2]);
            let hi = zs[0].max(zs[1]).max(zs[2]);
            let span = crossing_layers(lo, hi, t, layer_count);
            if let Some((first, last)) = span {
                for c in &mut counts[first..=last] {
                    *c += 1;
                }
            }
            spans.push(span);
        }
        let mut layer_start = Vec::with_capacity(layer_count + 1);
        let mut acc = 0;
        for c in counts.iter().take(layer_count) {
            layer_start.push(acc);
            acc += c;
        }
        layer_start.push(acc);
        let mut fill = layer_start.clone();
        let mut layer_tris = vec![0u32; acc];
        for (ti, span) in spans.iter().enumerate() {
            if let Some((first, last)) = *span {
                for l in first..=last {
                    layer_tris[fill[l]] = ti as u32;
                    fill[l] += 1;
                }
            }
        }
        Ok(MeshSlicer {
            options,
            xy,
            z,
            triangles: mesh.triangles.clone(),
            tri_edges,
            edges,
            layer_start,
            layer_tris,
        })
    }

    /// The number of layers: every `i ≥ 0` with a cut plane below the top of the part.
    pub fn layer_count(&self) -> usize {
        self.layer_start.len() - 1
    }

    /// The layer thickness in mm.
    pub fn layer_thickness_mm(&self) -> f64 {
        self.options.layer_thickness_mm
    }

    /// The cut height of layer `i` in mm.
    pub fn cut_z(&self, i: usize) -> f64 {
        cut_z(i, self.options.layer_thickness_mm)
    }

    /// Cuts all layers in parallel; the result is the same for any thread count.
    pub fn slice_all(&self) -> Vec<LayerSection> {
        (0..self.layer_count())
            .into_par_iter()
            .map(|i| self.slice_layer(i))
            .collect()
    }

    /// Cuts layer `i` (an empty section past the last layer).
    pub fn slice_layer(&self, i: usize) -> LayerSection {
        let zc = self.cut_z(i);
        let mut section = LayerSection {
            index: i,
            z_mm: zc,
            shapes: Vec::new(),
            stitches: Vec::new(),
            exact_joins: 0,
            open_chains: 0,
            open_length_mm: 0.0,
            enclosed_area_mm2: 0.0,
        };
        if i >= self.layer_count() {
            return section;
        }
        let tris = &self.layer_tris[self.layer_start[i]..self.layer_start[i + 1]];
        // (from_edge, to_edge) per segment, in triangle order.
        let mut segs: Vec<(u32, u32)> = Vec::with_capacity(tris.len());
        for &ti in tris {
            let tri = self.triangles[ti as usize];
            let above = tri.map(|v| self.z[v as usize] >= zc);
            let mut from = None;
            let mut to = None;
            for k in 0..3 {
                let (a, b) = (above[k], above[(k + 1) % 3]);
                if a && !b {
                    from = Some(self.tri_edges[ti as usize][k]);
                } else if !a && b {
                    to = Some(self.tri_edges[ti as usize][k]);
                }
            }
            if let (Some(f), Some(t)) = (from, to) {
                segs.push((f, t));
            }
        }
        let (loops, open) = self.link(&segs, zc);
        let tol = (self.options.stitch_tolerance_mm * UNITS_PER_MM).round() as i64;
        let (mut contours, stitches, dropped) = stitch(open, tol);
        contours.extend(loops);
        let contours: Vec<Contour> = contours
            .iter()
            .map(|c| simplify_contour(c, SIMPLIFY_UNITS))
            .filter(|c| c.len() >= 3)
            .collect();
        let (exact, gaps): (Vec<Stitch>, Vec<Stitch>) =
            stitches.into_iter().partition(|g| g.gap_mm == 0.0);
        section.exact_joins = exact.len();
        section.stitches = gaps;
        section.open_chains = dropped.len();
        section.open_length_mm = dropped.iter().map(|c| polyline_length_mm(c)).sum();
        section.shapes = union_nonzero(&contours);
        let union_area2: i128 = section
            .shapes
            .iter()
            .flatten()
            .map(|c| contour_area2(c))
            .sum();
        let units2_to_mm2 = 0.5 * QUANTUM_MM * QUANTUM_MM;
        let int_area = union_area2 as f64 * units2_to_mm2;
        let loops_area2: i128 = contours.iter().map(|c| contour_area2(c)).sum();
        let closed = section.stitches.is_empty() && section.open_chains == 0;
        section.enclosed_area_mm2 = if closed {
            // What the non-zero union changed (overlapping shells, inverted ones) is taken
            // from the grid; the rest of the area from the unrounded points.
            let overlap = (union_area2 - loops_area2) as f64 * units2_to_mm2;
            let exact = self.segments_area_mm2(&segs, zc) + overlap;
            // Sections that the grid holds exactly (a box's) keep their exact integer area
            // rather than the f64 rounding noise of the interpolated crossing points.
            if (exact - int_area).abs() <= 1e-9 * int_area.abs().max(1.0) {
                int_area
            } else {
                exact
            }
        } else {
            int_area
        };
        section
    }

    /// The signed area enclosed by the oriented segments (shoelace sum) in mm², from the
    /// unrounded crossing points. Closed loops only: a gap would miss its closing segment.
    fn segments_area_mm2(&self, segs: &[(u32, u32)], zc: f64) -> f64 {
        let twice: f64 = segs
            .iter()
            .map(|&(f, t)| {
                let a = self.edge_point_mm(f, zc);
                let b = self.edge_point_mm(t, zc);
                a[0] * b[1] - b[0] * a[1]
            })
            .sum();
        0.5 * twice
    }

    /// The point in mm where the plane `zc` crosses edge `e`.
    fn edge_point_mm(&self, e: u32, zc: f64) -> [f64; 2] {
        let [u, v] = self.edges[e as usize];
        let (zu, zv) = (self.z[u as usize], self.z[v as usize]);
        let (pu, pv) = (self.xy[u as usize], self.xy[v as usize]);
        let s = (zc - zu) / (zv - zu);
        [pu[0] + s * (pv[0] - pu[0]), pu[1] + s * (pv[1] - pu[1])]
    }

    /// The integer point where the plane `zc` crosses edge `e`.
    fn edge_point(&self, e: u32, zc: f64) -> Point {
        let [x, y] = self.edge_point_mm(e, zc);
        Point::new(
            (x * UNITS_PER_MM).round() as i32,
            (y * UNITS_PER_MM).round() as i32,
        )
    }

    /// Links segments into closed loops and open chains by shared edge ids.
    fn link(&self, segs: &[(u32, u32)], zc: f64) -> (Vec<Contour>, Vec<Contour>) {
        let mut by_from: Vec<(u32, u32)> = segs
            .iter()
            .enumerate()
            .map(|(i, s)| (s.0, i as u32))
            .collect();
        by_from.sort_unstable();
        let mut to_edges: Vec<u32> = segs.iter().map(|s| s.1).collect();
        to_edges.sort_unstable();
        let mut used = vec![false; segs.len()];
        let next_of = |edge: u32, used: &[bool]| -> Option<usize> {
            let start = by_from.partition_point(|&(e, _)| e < edge);
            by_from[start..]
                .iter()
                .take_while(|&&(e, _)| e == edge)
                .map(|&(_, i)| i as usize)
                .find(|&i| !used[i])
        };
        let mut loops = Vec::new();
        let mut open = Vec::new();
        // Chain heads first (their from-edge ends no segment), then whatever is left is loops.
        let heads: Vec<usize> = (0..segs.len())
            .filter(|&i| to_edges.binary_search(&segs[i].0).is_err())
            .collect();
        let rest = 0..segs.len();
        for start in heads.into_iter().chain(rest) {
            if used[start] {
                continue;
            }
            let mut chain: Contour = Vec::new();
            let mut cur = start;
            let closed = loop {
                used[cur] = true;
                push_dedup(&mut chain, self.edge_point(segs[cur].0, zc));
                match next_of(segs[cur].1, &used) {
                    Some(n) => cur = n,
                    None => break segs[cur].1 == segs[start].0,
                }
            };
            if closed {
                if chain.len() > 1 && chain[0] == chain[chain.len() - 1] {
                    chain.pop();
                }
                loops.push(chain);
            } else {
                push_dedup(&mut chain, self.edge_point(segs[cur].1, zc));
                open.push(chain);
            }
        }
        (loops, open)
    }
}

fn push_dedup(c: &mut Contour, p: Point) {
    if c.last() != Some(&p) {
        c.push(p);
    }
}

fn polyline_length_mm(c: &[Point]) -> f64 {
    c.windows(2)
        .map(|w| crate::polygon::seg_len_mm(w[0], w[1]))
        .sum()
}

/// Joins open chains end-to-start within `tol` units (nearest start first, ties by index);
/// returns the closed contours, the stitches made and the chains left open.
fn stitch(mut open: Vec<Contour>, tol: i64) -> (Vec<Contour>, Vec<Stitch>, Vec<Contour>) {
    let mut closed = Vec::new();
    let mut stitches = Vec::new();
    let d2 = |a: Point, b: Point| {
        let dx = (a.x - b.x) as i64;
        let dy = (a.y - b.y) as i64;
        dx * dx + dy * dy
    };
    let tol2 = tol * tol;
    let mut stitch_at = |a: Point, b: Point| {
        stitches.push(Stitch {
            gap_mm: (d2(a, b) as f64).sqrt() / UNITS_PER_MM,
            at_mm: [a.x as f64 / UNITS_PER_MM, a.y as f64 / UNITS_PER_MM],
        });
    };
    let mut dropped = Vec::new();
    while !open.is_empty() {
        let mut chain = open.remove(0);
        loop {
            let end = chain[chain.len() - 1];
            let own = d2(end, chain[0]);
            let best = open
                .iter()
                .enumerate()
                .map(|(i, c)| (d2(end, c[0]), i))
                .filter(|&(d, _)| d <= tol2)
                .min();
            match best {
                Some((d, i)) if d < own || own > tol2 => {
                    let next = open.remove(i);
                    stitch_at(end, next[0]);
                    push_dedup_all(&mut chain, &next);
                }
                _ if own <= tol2 => {
                    if own > 0 {
                        stitch_at(end, chain[0]);
                    } else {
                        chain.pop();
                    }
                    closed.push(chain);
                    break;
                }
                _ => {
                    dropped.push(chain);
                    break;
                }
            }
        }
    }
    (closed, stitches, dropped)
}

fn push_dedup_all(c: &mut Contour, next: &[Point]) {
    for &p in next {
        push_dedup(c, p);
    }
}

/// The cut height of layer `i` for thickness `t`.
#[inline]
pub fn cut_z(i: usize, t: f64) -> f64 {
    (i as f64 + 0.5) * t
}

/// The number of layers for a part whose top is at `z_max`.
pub fn layer_count(z_max: f64, t: f64) -> usize {
    let mut n = ((z_max / t) - 0.5).ceil().max(0.0) as usize;
    while n > 0 && cut_z(n - 1, t) >= z_max {
        n -= 1;
    }
    while cut_z(n, t) < z_max {
        n += 1;
    }
    n
}

/// The first and last layer whose plane `zc` satisfies `lo < zc <= hi`.
fn crossing_layers(lo: f64, hi: f64, t: f64, n: usize) -> Option<(usize, usize)> {
    if n == 0 || hi <= lo {
        return None;
    }
    let mut first = ((lo / t) - 0.5).floor().max(0.0) as usize;
    while first < n && cut_z(first, t) <= lo {
        first += 1;
    }
    while first > 0 && cut_z(first - 1, t) > lo {
        first -= 1;
    }
    let mut last = ((hi / t) - 0.5).floor().max(0.0) as usize;
    last = last.min(n.saturating_sub(1));
    while last > 0 && cut_z(last, t) > hi {
        last -= 1;
    }
    while last + 1 < n && cut_z(last + 1, t) <= hi {
        last += 1;
    }
    (first < n && first <= last && cut_z(last, t) <= hi).then_some((first, last))
}
