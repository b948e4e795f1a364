//! The vertical ray cast: which triangles a line along a frame's z axis crosses, and where.
//!
//! Triangles are projected onto the frame's xy plane and binned on a square grid; a ray
//! tests only the triangles of its bin.

use nalgebra::Point3;

use super::Frame;
use crate::mesh::Mesh;

/// Twice the projected area (mm²) below which a triangle is edge-on to the ray: its
/// barycentric solve would divide by (almost) zero.
pub const EDGE_ON_DET_MM2: f64 = 1e-14;

/// Barycentric slack of the inside test: a ray through a shared edge or vertex must hit at
/// least one of the triangles meeting there, whatever the rounding.
pub const BARY_SLACK: f64 = 1e-12;

/// The most bins along one axis, so a huge sparse mesh does not allocate millions of bins.
const MAX_BINS_PER_AXIS: usize = 4096;

/// One mesh's triangles projected along an axis and binned on a 2D grid, for vertical rays.
pub struct RayCaster {
    frame: Frame,
    /// Triangles in frame coordinates.
    tris: Vec<[Point3<f64>; 3]>,
    /// |normal · axis| of each triangle.
    facing: Vec<f64>,
    bin_origin: [f64; 2],
    bin_size: f64,
    bins_n: [usize; 2],
    bins: Vec<Vec<u32>>,
}

impl RayCaster {
    /// Bins `mesh` (patient coordinates) for rays along `frame`'s z axis.
    pub fn new(mesh: &Mesh, frame: Frame) -> RayCaster {
        RayCaster::with_bin_size(mesh, frame, 1.0)
    }

    /// Like [`RayCaster::new`] with square bins of `bin_size` mm (smaller for dense meshes).
    pub fn with_bin_size(mesh: &Mesh, frame: Frame, bin_size: f64) -> RayCaster {
        let tris = (0..mesh.triangles.len())
            .map(|t| mesh.corners(t).map(|p| frame.to_local(&p)))
            .collect();
        RayCaster::from_local_triangles(frame, tris, bin_size)
    }

    /// Bins triangles already given in `frame`'s coordinates, in square bins of `bin_size` mm.
    pub fn from_local_triangles(
        frame: Frame,
        tris: Vec<[Point3<f64>; 3]>,
        bin_size: f64,
    ) -> RayCaster {
        let facing = tris
            .iter()
            .map(|t| {
                let n = (t[1] - t[0]).cross(&(t[2] - t[0]));
                let len = n.norm();
                if len > 0.0 { (n.z / len).abs() } else { 0.0 }
            })
            .collect();
        let (lo, hi) = xy_bounds(&tris);
        let bins_n = [
            (((hi[0] - lo[0]) / bin_size).ceil() as usize).clamp(1, MAX_BINS_PER_AXIS),
            (((hi[1] - lo[1]) / bin_size).ceil() as usize).clamp(1, MAX_BINS_PER_AXIS),
        ];
        let mut bins = vec![Vec::new(); bins_n[0] * bins_n[1]];
        let bin_of = |v: f64, k: usize| {
            (((v - lo[k]) / bin_size).floor().max(0.0) as usize).min(bins_n[k] - 1)
        };
        for (ti, t) in tris.iter().enumerate() {
            let (t_lo, t_hi) = xy_bounds(std::slice::from_ref(t));
            for j in bin_of(t_lo[1], 1)..=bin_of(t_hi[1], 1) {
                for i in bin_of(t_lo[0], 0)..=bin_of(t_hi[0], 0) {
                    bins[j * bins_n[0] + i].push(ti as u32);
                }
            }
        }
        RayCaster {
            frame,
            tris,
            facing,
            bin_origin: lo,
            bin_size,
            bins_n,
            bins,
        }
    }

    /// The xy box (local coordinates) the bins cover: (min, max). Rays outside it miss.
    pub fn binned_box(&self) -> ([f64; 2], [f64; 2]) {
        let lo = self.bin_origin;
        let hi = [
            lo[0] + self.bins_n[0] as f64 * self.bin_size,
            lo[1] + self.bins_n[1] as f64 * self.bin_size,
        ];
        (lo, hi)
    }

    /// The frame the rays run in.
    pub fn frame(&self) -> &Frame {
        &self.frame
    }

    /// Every crossing of the line through local `(x, y)` along z: `(z, |cos tilt|)`.
    pub fn hits(&self, x: f64, y: f64, out: &mut Vec<(f64, f64)>) {
        out.clear();
        out.extend(self.crossings(x, y));
    }

    /// The crossings of the line through local `(x, y)` along z, `(z, |cos tilt|)`, in bin
    /// order.
    pub fn crossings(&self, x: f64, y: f64) -> impl Iterator<Item = (f64, f64)> + '_ {
        let fi = ((x - self.bin_origin[0]) / self.bin_size).floor();
        let fj = ((y - self.bin_origin[1]) / self.bin_size).floor();
        let inside =
            fi >= 0.0 && fj >= 0.0 && fi < self.bins_n[0] as f64 && fj < self.bins_n[1] as f64;
        let bin: &[u32] = if inside {
            &self.bins[fj as usize * self.bins_n[0] + fi as usize]
        } else {
            &[]
        };
        bin.iter().filter_map(move |&ti| {
            let t = &self.tris[ti as usize];
            vertical_hit(t, x, y).map(|z| (z, self.facing[ti as usize]))
        })
    }

    /// The lowest (`lowest = true`) or highest crossing at `(x, y)` if it faces the axis within
    /// `min_facing` (cosine); `None` when the line misses or meets a steep wall first.
    pub fn endplate_hit(
        &self,
        x: f64,
        y: f64,
        lowest: bool,
        min_facing: f64,
        buf: &mut Vec<(f64, f64)>,
    ) -> Option<f64> {
        self.hits(x, y, buf);
        let pick = if lowest {
            buf.iter().copied().min_by(|a, b| a.0.total_cmp(&b.0))
        } else {
            buf.iter().copied().max_by(|a, b| a.0.total_cmp(&b.0))
        }?;
        (pick.1 >= min_facing).then_some(pick.0)
    }
}

/// z where the vertical line through `(x, y)` crosses triangle `t` (edges inclusive).
///
/// This is the one vertical ray–triangle test of the codebase: the cage fit, the cage
/// report and the slicer's support rays all go through it.
pub fn vertical_hit(t: &[Point3<f64>; 3], x: f64, y: f64) -> Option<f64> {
    let (a, b, c) = (t[0], t[1], t[2]);
    let det = (b.x - a.x) * (c.y - a.y) - (c.x - a.x) * (b.y - a.y);
    // An edge-on (vertical) triangle has no area in projection: rays never hit it.
    if det.abs() < EDGE_ON_DET_MM2 {
        return None;
    }
    let u = ((x - a.x) * (c.y - a.y) - (c.x - a.x) * (y - a.y)) / det;
    let v = ((b.x - a.x) * (y - a.y) - (x - a.x) * (b.y - a.y)) / det;
    if u < -BARY_SLACK || v < -BARY_SLACK || u + v > 1.0 + BARY_SLACK {
        return None;
    }
    Some(a.z + u * (b.z - a.z) + v * (c.z - a.z))
}

/// The xy bounding box of triangles: (min, max).
fn xy_bounds(tris: &[[Point3<f64>; 3]]) -> ([f64; 2], [f64; 2]) {
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for t in tris {
        for p in t {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
    }
    (lo, hi)
}
