//! A uniform xy grid over a set of triangles, answering vertical ray casts: which triangles lie
//! above or below a point of the plate, and at what height.

use nalgebra::Point3;

/// Triangles binned by the grid cells their xy bounding box overlaps (compressed rows).
#[derive(Debug, Clone)]
pub(crate) struct SurfaceGrid {
    origin: [f64; 2],
    cell: f64,
    nx: usize,
    ny: usize,
    /// `cell_start[c]..cell_start[c + 1]` indexes `entries` for cell `c`.
    cell_start: Vec<u32>,
    entries: Vec<u32>,
    triangles: Vec<[Point3<f64>; 3]>,
}

/// Barycentric slack when testing whether a ray passes through a triangle: a ray through a
/// shared edge or vertex must hit at least one of the neighbours.
const BARY_EPS: f64 = 1e-9;

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
        let w = (max[0] - min[0]).max(1e-6);
        let h = (max[1] - min[1]).max(1e-6);
        // About two triangles per cell for a mesh spread evenly, bounded so a huge plate with a
        // few triangles does not allocate millions of cells.
        let n = triangles.len().max(1) as f64;
        let cell = ((w * h / (0.5 * n)).sqrt())
            .max(w.max(h) / 2048.0)
            .max(1e-3);
        let nx = ((w / cell).ceil() as usize).max(1);
        let ny = ((h / cell).ceil() as usize).max(1);
        let mut grid = SurfaceGrid {
            origin: min,
            cell,
            nx,
            ny,
            cell_start: vec![0; nx * ny + 1],
            entries: Vec::new(),
            triangles,
        };
        // Two passes (count, then fill) keep the bins in one flat allocation.
        for t in 0..grid.triangles.len() {
            let (x0, x1, y0, y1) = grid.cell_range(t);
            for y in y0..=y1 {
                for x in x0..=x1 {
                    grid.cell_start[y * nx + x + 1] += 1;
                }
            }
        }
        for c in 0..nx * ny {
            grid.cell_start[c + 1] += grid.cell_start[c];
        }
        let mut fill = grid.cell_start.clone();
        grid.entries = vec![0; grid.cell_start[nx * ny] as usize];
        for t in 0..grid.triangles.len() {
            let (x0, x1, y0, y1) = grid.cell_range(t);
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let c = y * nx + x;
                    grid.entries[fill[c] as usize] = t as u32;
                    fill[c] += 1;
                }
            }
        }
        grid
    }

    fn cell_of(&self, v: f64, axis: usize) -> usize {
        let n = if axis == 0 { self.nx } else { self.ny };
        let i = ((v - self.origin[axis]) / self.cell).floor();
        if i <= 0.0 { 0 } else { (i as usize).min(n - 1) }
    }

    fn cell_range(&self, t: usize) -> (usize, usize, usize, usize) {
        let tri = &self.triangles[t];
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in tri {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        (
            self.cell_of(lo[0], 0),
            self.cell_of(hi[0], 0),
            self.cell_of(lo[1], 1),
            self.cell_of(hi[1], 1),
        )
    }

    /// The heights at which the vertical line through `(x, y)` meets the binned triangles.
    fn heights_at(&self, x: f64, y: f64) -> impl Iterator<Item = f64> + '_ {
        let outside = self.triangles.is_empty()
            || x < self.origin[0] - self.cell
            || y < self.origin[1] - self.cell
            || x > self.origin[0] + (self.nx as f64 + 1.0) * self.cell
            || y > self.origin[1] + (self.ny as f64 + 1.0) * self.cell;
        let range = if outside {
            0..0
        } else {
            let c = self.cell_of(y, 1) * self.nx + self.cell_of(x, 0);
            self.cell_start[c] as usize..self.cell_start[c + 1] as usize
        };
        self.entries[range]
            .iter()
            .filter_map(move |&t| vertical_hit(&self.triangles[t as usize], x, y))
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

/// The height where the vertical through `(x, y)` crosses triangle `t`, if it does.
fn vertical_hit(t: &[Point3<f64>; 3], x: f64, y: f64) -> Option<f64> {
    let [a, b, c] = t;
    let d = (b.x - a.x) * (c.y - a.y) - (c.x - a.x) * (b.y - a.y);
    // A vertical (edge-on) triangle has no area in projection: rays never hit it.
    if d.abs() < 1e-18 {
        return None;
    }
    let l1 = ((x - a.x) * (c.y - a.y) - (c.x - a.x) * (y - a.y)) / d;
    let l2 = ((b.x - a.x) * (y - a.y) - (x - a.x) * (b.y - a.y)) / d;
    let l0 = 1.0 - l1 - l2;
    if l0 < -BARY_EPS || l1 < -BARY_EPS || l2 < -BARY_EPS {
        return None;
    }
    Some(l0 * a.z + l1 * b.z + l2 * c.z)
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
