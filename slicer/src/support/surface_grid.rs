//! A uniform xy grid over a set of triangles, answering vertical ray casts: which triangles lie
//! above or below a point of the plate, and at what height.
//!
//! The ray cast itself is core's [`RayCaster`] in the patient frame; this module only sizes
//! its bins for a support plate and asks it the two questions supports need.

use meltline_core::geom::{Frame, RayCaster};
use nalgebra::Point3;

/// The least extent (mm) a plate is given along x or y, so a plate of one edge-on line still
/// gets a grid of positive size.
const MIN_EXTENT_MM: f64 = 1e-6;

/// The smallest grid cell (mm): finer than this only costs memory.
const MIN_CELL_MM: f64 = 1e-3;

/// The most cells along the longer side of the plate.
const MAX_CELLS_PER_SIDE: f64 = 2048.0;

/// Triangles binned by the grid cells their xy bounding box overlaps.
pub(crate) struct SurfaceGrid {
    caster: RayCaster,
}

impl SurfaceGrid {
    /// Bins `triangles` (corner positions) into a grid sized to the triangle count.
    pub(crate) fn new(triangles: Vec<[Point3<f64>; 3]>) -> SurfaceGrid {
        let mut min = [f64::INFINITY; 2];
        let mut max = [f64::NEG_INFINITY; 2];
        for t in &triangles {
            for p in t {
                for k in 0..2 {
                    min[k] = min[k].min(p[k]);
                    max[k] = max[k].max(p[k]);
                }
            }
        }
        if triangles.is_empty() {
            min = [0.0; 2];
            max = [0.0; 2];
        }
        let w = (max[0] - min[0]).max(MIN_EXTENT_MM);
        let h = (max[1] - min[1]).max(MIN_EXTENT_MM);
        // About two triangles per cell for a mesh spread evenly, bounded so a huge plate with a
        // few triangles does not allocate millions of cells.
        let n = triangles.len().max(1) as f64;
        let cell = ((w * h / (0.5 * n)).sqrt())
            .max(w.max(h) / MAX_CELLS_PER_SIDE)
            .max(MIN_CELL_MM);
        SurfaceGrid {
            caster: RayCaster::from_local_triangles(Frame::identity(), triangles, cell),
        }
    }

    /// The heights at which the vertical line through `(x, y)` meets the binned triangles.
    fn heights_at(&self, x: f64, y: f64) -> impl Iterator<Item = f64> + '_ {
        self.caster.crossings(x, y).map(|(z, _)| z)
    }

    /// The highest triangle strictly below `z` on the vertical through `(x, y)`.
    pub(crate) fn highest_below(&self, x: f64, y: f64, z: f64) -> Option<f64> {
        self.heights_at(x, y)
            .filter(|&h| h < z)
            .fold(None, |best: Option<f64>, h| {
                Some(best.map_or(h, |b| b.max(h)))
            })
    }

    /// The lowest triangle on the vertical through `(x, y)`.
    pub(crate) fn lowest_at(&self, x: f64, y: f64) -> Option<f64> {
        self.heights_at(x, y).fold(None, |best: Option<f64>, h| {
            Some(best.map_or(h, |b| b.min(h)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tri(z: f64, x0: f64) -> [Point3<f64>; 3] {
        [
            Point3::new(x0, 0.0, z),
            Point3::new(x0 + 4.0, 0.0, z),
            Point3::new(x0, 4.0, z),
        ]
    }

    #[test]
    fn ray_finds_the_highest_surface_below_a_height() {
        let g = SurfaceGrid::new(vec![tri(1.0, 0.0), tri(3.0, 0.0), tri(9.0, 20.0)]);
        assert_eq!(g.highest_below(1.0, 1.0, 5.0), Some(3.0));
        assert_eq!(g.highest_below(1.0, 1.0, 3.0), Some(1.0));
        assert_eq!(g.highest_below(1.0, 1.0, 1.0), None);
        assert_eq!(g.lowest_at(1.0, 1.0), Some(1.0));
        // Outside every triangle, and far outside the grid.
        assert_eq!(g.highest_below(3.9, 3.9, 5.0), None);
        assert_eq!(g.highest_below(-100.0, 1.0, 5.0), None);
        assert_eq!(g.highest_below(21.0, 1.0, 10.0), Some(9.0));
    }

    #[test]
    fn ray_through_a_shared_edge_hits() {
        let a = Point3::new(0.0, 0.0, 2.0);
        let b = Point3::new(2.0, 0.0, 2.0);
        let c = Point3::new(2.0, 2.0, 2.0);
        let d = Point3::new(0.0, 2.0, 2.0);
        let g = SurfaceGrid::new(vec![[a, b, c], [a, c, d]]);
        assert_eq!(g.lowest_at(1.0, 1.0), Some(2.0));
    }
}
