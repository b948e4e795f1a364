//! Exposure maps: the marks of a layer rasterised as melt tracks (capsules of the spot
//! diameter) against the intended cross-section (the layer's contours filled even-odd).

use crate::wire::Segment;

/// A layer's marks and contours, in quanta, ready to rasterise.
#[derive(Clone, Debug, Default)]
pub struct LayerGeometry {
    /// Marked segments with their melt-track width in quanta.
    pub marks: Vec<(Segment, f64)>,
    /// Closed contour polygons (vertex lists) defining the intended area.
    pub contours: Vec<Vec<[f64; 2]>>,
}

/// Result of comparing the exposure with the intended cross-section.
#[derive(Clone, Debug, PartialEq)]
pub struct ExposureMap {
    /// Raster width in pixels.
    pub width: usize,
    /// Raster height in pixels.
    pub height: usize,
    /// Pixel size in quanta.
    pub pixel: f64,
    /// Per pixel: bit 0 intended, bit 1 exposed.
    pub cells: Vec<u8>,
    /// Intended area covered by melt tracks, %.
    pub coverage_pct: f64,
    /// Exposed area outside the intended cross-section, % of the intended area.
    pub spill_pct: f64,
}

const INTENDED: u8 = 1;
const EXPOSED: u8 = 2;

/// Intervals `[x0, x1]` of a horizontal line at `y` inside the capsule around `s` of radius `r`.
fn capsule_span(s: &Segment, r: f64, y: f64) -> Option<(f64, f64)> {
    let (ax, ay, bx, by) = (
        f64::from(s.from.x),
        f64::from(s.from.y),
        f64::from(s.to.x),
        f64::from(s.to.y),
    );
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for (cx, cy) in [(ax, ay), (bx, by)] {
        let dy = y - cy;
        if dy.abs() <= r {
            let w = (r * r - dy * dy).sqrt();
            lo = lo.min(cx - w);
            hi = hi.max(cx + w);
        }
    }
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    if len2 > 0.0 {
        // Band |cross| ≤ r·|d| and projection 0 ≤ dot ≤ |d|², each linear in x.
        let len = len2.sqrt();
        let mut t0 = f64::NEG_INFINITY;
        let mut t1 = f64::INFINITY;
        let mut clip = |a: f64, b: f64, min: f64, max: f64| {
            // min ≤ a·x + b ≤ max
            if a.abs() < 1e-12 {
                if b < min || b > max {
                    t0 = f64::INFINITY;
                }
            } else {
                let (p, q) = ((min - b) / a, (max - b) / a);
                t0 = t0.max(p.min(q));
                t1 = t1.min(p.max(q));
            }
        };
        // cross = dx·(y−ay) − dy·(x−ax); dot = dx·(x−ax) + dy·(y−ay)
        clip(-dy, dx * (y - ay) + dy * ax, -r * len, r * len);
        clip(dx, -dx * ax + dy * (y - ay), 0.0, len2);
        if t0 <= t1 {
            lo = lo.min(t0);
            hi = hi.max(t1);
        }
    }
    (lo <= hi).then_some((lo, hi))
}

impl LayerGeometry {
    /// Rasterises with pixels of `pixel` quanta (enlarged so the raster stays ≤ `max_cells`).
    pub fn rasterise(&self, pixel: f64, max_cells: usize) -> Option<ExposureMap> {
        let mut min = [f64::INFINITY; 2];
        let mut max = [f64::NEG_INFINITY; 2];
        let mut grow = |x: f64, y: f64, m: f64| {
            min = [min[0].min(x - m), min[1].min(y - m)];
            max = [max[0].max(x + m), max[1].max(y + m)];
        };
        for (s, w) in &self.marks {
            grow(f64::from(s.from.x), f64::from(s.from.y), w / 2.0);
            grow(f64::from(s.to.x), f64::from(s.to.y), w / 2.0);
        }
        for c in &self.contours {
            for p in c {
                grow(p[0], p[1], 0.0);
            }
        }
        if !(min[0] < max[0] && min[1] < max[1]) {
            return None;
        }
        let mut pixel = pixel.max(1e-9);
        let cells = |p: f64| ((max[0] - min[0]) / p).ceil() * ((max[1] - min[1]) / p).ceil();
        while cells(pixel) > max_cells as f64 {
            pixel *= 1.5;
        }
        let width = ((max[0] - min[0]) / pixel).ceil() as usize + 1;
        let height = ((max[1] - min[1]) / pixel).ceil() as usize + 1;
        let mut grid = vec![0u8; width * height];
        let col = |x: f64| ((x - min[0]) / pixel - 0.5).ceil().clamp(0.0, width as f64) as usize;
        let col_end =
            |x: f64| (((x - min[0]) / pixel - 0.5).floor() + 1.0).clamp(0.0, width as f64) as usize;
        let mut xs = Vec::new();
        for (row, line) in grid.chunks_exact_mut(width).enumerate() {
            let y = min[1] + (row as f64 + 0.5) * pixel;
            // Even-odd fill of the contours.
            xs.clear();
            for c in &self.contours {
                for (a, b) in c.iter().zip(c.iter().cycle().skip(1)) {
                    if (a[1] <= y) != (b[1] <= y) {
                        xs.push(a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
                    }
                }
            }
            xs.sort_by(f64::total_cmp);
            for pair in xs.chunks_exact(2) {
                if let [x0, x1] = pair
                    && let Some(cells) = line.get_mut(col(*x0)..col_end(*x1).max(col(*x0)))
                {
                    cells.iter_mut().for_each(|c| *c |= INTENDED);
                }
            }
            for (s, w) in &self.marks {
                if let Some((x0, x1)) = capsule_span(s, w / 2.0, y)
                    && let Some(cells) = line.get_mut(col(x0)..col_end(x1).max(col(x0)))
                {
                    cells.iter_mut().for_each(|c| *c |= EXPOSED);
                }
            }
        }
        let intended = grid.iter().filter(|c| **c & INTENDED != 0).count();
        let both = grid.iter().filter(|c| **c == INTENDED | EXPOSED).count();
        let spill = grid.iter().filter(|c| **c == EXPOSED).count();
        let pct = |n: usize| {
            if intended == 0 {
                0.0
            } else {
                100.0 * n as f64 / intended as f64
            }
        };
        Some(ExposureMap {
            width,
            height,
            pixel,
            cells: grid,
            coverage_pct: pct(both),
            spill_pct: pct(spill),
        })
    }
}

impl ExposureMap {
    /// RGB picture (row 0 at the top = largest y): green covered, grey missed, red spill.
    pub fn rgb(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.cells.len() * 3);
        for line in self.cells.chunks_exact(self.width.max(1)).rev() {
            for c in line {
                out.extend_from_slice(match *c {
                    3 => &[40, 170, 60],
                    1 => &[150, 150, 150],
                    2 => &[220, 40, 40],
                    _ => &[10, 10, 10],
                });
            }
        }
        out
    }

    /// Writes the picture as PNG, atomically (temporary file + rename).
    pub fn write_png(&self, path: &std::path::Path) -> std::io::Result<()> {
        let tmp = path.with_extension("png.tmp");
        {
            let file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            let mut enc = png::Encoder::new(file, self.width as u32, self.height as u32);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().map_err(std::io::Error::other)?;
            w.write_image_data(&self.rgb())
                .map_err(std::io::Error::other)?;
            w.finish().map_err(std::io::Error::other)?;
        }
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::wire::Point;

    fn seg(a: [i32; 2], b: [i32; 2]) -> Segment {
        Segment {
            from: Point::new(a[0], a[1]),
            to: Point::new(b[0], b[1]),
            chained: false,
        }
    }

    fn square(size: f64) -> Vec<[f64; 2]> {
        vec![[0.0, 0.0], [size, 0.0], [size, size], [0.0, size]]
    }

    #[test]
    fn hatches_at_spot_spacing_cover_the_square_and_spill_little() {
        // 80 µm tracks every 70 µm across a 2 mm square, ends inset by half a track.
        let marks = (0..29)
            .map(|i| (seg([40, 35 + i * 70], [1960, 35 + i * 70]), 80.0))
            .collect();
        let g = LayerGeometry {
            marks,
            contours: vec![square(2000.0)],
        };
        let m = g.rasterise(10.0, 1 << 20).unwrap();
        assert!(m.coverage_pct > 97.0, "coverage {}", m.coverage_pct);
        assert!(m.spill_pct < 3.0, "spill {}", m.spill_pct);
    }

    #[test]
    fn missing_hatches_show_as_lost_coverage() {
        let marks = (0..15)
            .map(|i| (seg([40, 35 + i * 70], [1960, 35 + i * 70]), 80.0))
            .collect();
        let g = LayerGeometry {
            marks,
            contours: vec![square(2000.0)],
        };
        let m = g.rasterise(10.0, 1 << 20).unwrap();
        assert!(
            m.coverage_pct < 60.0 && m.coverage_pct > 45.0,
            "coverage {}",
            m.coverage_pct
        );
    }

    #[test]
    fn a_hole_in_the_contour_is_not_intended_area() {
        let mut hole = square(1000.0);
        for p in &mut hole {
            p[0] += 500.0;
            p[1] += 500.0;
        }
        let g = LayerGeometry {
            marks: vec![(seg([0, 0], [0, 0]), 10.0)],
            contours: vec![square(2000.0), hole],
        };
        let m = g.rasterise(10.0, 1 << 20).unwrap();
        let intended = m.cells.iter().filter(|c| **c & INTENDED != 0).count() as f64 * 100.0;
        assert!(
            (intended - 3_000_000.0).abs() / 3_000_000.0 < 0.03,
            "{intended}"
        );
    }
}
