//! Exposure maps: the marks of a layer rasterised as melt tracks (capsules of the melt-track
//! width) against the intended cross-section.
//!
//! What is compared with what:
//!
//! * **Intended part section** = the even-odd fill of the layer's closed contours **plus the
//!   contour and edge tracks themselves**. Build processors place the contour at the beam
//!   offset, half a melt track inside the part boundary, so the part boundary is the outer edge
//!   of the contour track; an edge vector is the centre line of a wall too thin for contours,
//!   so its track is the wall. Filling the contour path alone would call the outer half of
//!   every contour track, and every hatch end reaching the contour, spill.
//! * **Part exposure** = contour, hatch, edge and point marks. Coverage is the intended area
//!   they cover, spill the part exposure outside the intended area, both in % of the intended
//!   area.
//! * **Support exposure** is intended exposure of its own (block supports under the part):
//!   it is not part of the part comparison and is reported separately as an area.
//!
//! Melt-track width: the parameter set's spot diameter; for hatch marks at least the set's
//! hatch distance, because a hatch set declares that neighbouring tracks at that distance fuse
//! (the energy-density rule checks the process window). The map checks geometry — hatches
//! missing, shifted or outside the section — not melt-pool physics.

use crate::lasers::LASER_RGB;
use crate::wire::Segment;

/// A layer's marks and contours, in quanta, ready to rasterise.
#[derive(Clone, Debug, Default)]
pub struct LayerGeometry {
    /// Marked part segments (contour, hatch, edge, point) with their melt-track width in quanta.
    pub marks: Vec<(Segment, f64)>,
    /// Closed contour polygons (vertex lists) whose even-odd fill is intended area.
    pub contours: Vec<Vec<[f64; 2]>>,
    /// Boundary tracks (contour and edge marks) with their width: intended area too.
    pub boundary: Vec<(Segment, f64)>,
    /// Support marks with their width: compared with nothing, measured on their own.
    pub support: Vec<(Segment, f64)>,
    /// The laser of each of `marks` (empty: all the first laser's); with more than one laser
    /// the map tells which lasers exposed each pixel.
    pub mark_lasers: Vec<u8>,
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
    /// Per pixel: bit 0 intended, bit 1 exposed by the part's marks, bit 2 exposed by supports.
    pub cells: Vec<u8>,
    /// Pixels of intended part section.
    pub intended_cells: usize,
    /// Pixels exposed by supports.
    pub support_cells: usize,
    /// Intended area covered by melt tracks, % (0 without intended area).
    pub coverage_pct: f64,
    /// Part exposure outside the intended cross-section, % of the intended area.
    pub spill_pct: f64,
    /// Per pixel, the lasers whose part marks expose it (bit per laser index); empty when
    /// one laser exposed the layer.
    pub lasers: Vec<u8>,
    /// Pixels exposed by two lasers or more: the stitching overlap at seams.
    pub shared_cells: usize,
}

const INTENDED: u8 = 1;
const EXPOSED: u8 = 2;
const SUPPORT: u8 = 4;

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

/// How far, in quanta, a vertex may lie off a line it belongs to: the cut points of pieces at
/// a seam are rounded to whole quanta.
const ON_LINE_Q: f64 = 2.0;

/// The distance from `q` to the segment `a`–`b` (any unit, both alike).
pub fn to_segment(q: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (q[0] - a[0] - t * dx).hypot(q[1] - a[1] - t * dy)
}

/// How well chain `next` continues a chain whose last segment is `p`–`q`: 0 when it starts
/// where the chain ends; the length of the overlap when the two were cut from one segment
/// at a seam (each reaching past the cut along it, so `next`'s start lies on `p`–`q` and `q`
/// on `next`'s first segment), if that is at most `tol`; `None` otherwise.
fn continues(p: [f64; 2], q: [f64; 2], next: &[[f64; 2]], tol: f64) -> Option<f64> {
    let d = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let (&c0, c1) = (next.first()?, next.get(1));
    if d(q, c0) <= ON_LINE_Q {
        return Some(0.0);
    }
    let c1 = *c1?;
    let overlap =
        to_segment(c0, p, q) <= ON_LINE_Q && to_segment(q, c0, c1) <= ON_LINE_Q && d(q, c0) <= tol;
    overlap.then(|| d(q, c0))
}

/// Joins open contour chains into rings. A contour cut at a stitching seam between lasers
/// arrives as pieces in different blocks: the segment crossing the seam is cut into two, each
/// reaching past the seam along it (by half the overlap, at most `tol` in all), and the
/// pieces after the cut continue where the contour went. A chain is closed when its ends
/// meet; an open one is followed by the open chain that starts where it ends or, failing
/// that, by the one whose first segment overlaps its last along the same line (the
/// shortest such overlap), until the ring closes or no chain continues it. Pieces of other
/// contours close by are never taken for a continuation: they do not lie on its line.
/// What has fewer than three vertices then encloses nothing and is dropped.
pub fn stitch_contours(contours: Vec<Vec<[f64; 2]>>, tol: f64) -> Vec<Vec<[f64; 2]>> {
    let d = |a: &[f64; 2], b: &[f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let closed = |c: &Vec<[f64; 2]>| match (c.first(), c.last()) {
        (Some(a), Some(b)) => c.len() > 2 && d(a, b) <= ON_LINE_Q,
        _ => true,
    };
    let (mut out, open): (Vec<_>, Vec<_>) = contours.into_iter().partition(closed);
    let mut open: Vec<Option<Vec<[f64; 2]>>> = open.into_iter().map(Some).collect();
    for i in 0..open.len() {
        let Some(mut ring) = open.get_mut(i).and_then(Option::take) else {
            continue;
        };
        while let [.., p, q] = ring[..] {
            if ring.len() > 2 && continues(p, q, &ring, tol).is_some() {
                break;
            }
            let next = open
                .iter()
                .enumerate()
                .filter_map(|(j, c)| Some((j, continues(p, q, c.as_ref()?, tol)?)))
                .min_by(|a, b| a.1.total_cmp(&b.1));
            let Some(mut piece) = next.and_then(|(j, _)| open.get_mut(j)?.take()) else {
                break;
            };
            ring.append(&mut piece);
        }
        out.push(ring);
    }
    out.retain(|r| r.len() >= 3);
    out
}

impl LayerGeometry {
    /// Rasterises with pixels of `pixel` quanta (enlarged so the raster stays ≤ `max_cells`).
    pub fn rasterise(&self, pixel: f64, max_cells: usize) -> Option<ExposureMap> {
        let (min, max) = self.bounds()?;
        let mut pixel = pixel.max(1e-9);
        let cells = |p: f64| ((max[0] - min[0]) / p).ceil() * ((max[1] - min[1]) / p).ceil();
        while cells(pixel) > max_cells as f64 {
            pixel *= 1.5;
        }
        let width = ((max[0] - min[0]) / pixel).ceil() as usize + 1;
        let height = ((max[1] - min[1]) / pixel).ceil() as usize + 1;
        let raster = Raster {
            min,
            pixel,
            width,
            height,
        };
        let mut grid = vec![0u8; width * height];
        // Even-odd fill of the contours: crossings collected per row, edge by edge.
        let mut crossings: Vec<Vec<f64>> = vec![Vec::new(); height];
        for c in &self.contours {
            for (a, b) in c.iter().zip(c.iter().cycle().skip(1)) {
                for row in raster.rows(a[1].min(b[1]), a[1].max(b[1])) {
                    let y = raster.row_y(row);
                    if (a[1] <= y) != (b[1] <= y)
                        && let Some(xs) = crossings.get_mut(row)
                    {
                        xs.push(a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
                    }
                }
            }
        }
        for (xs, line) in crossings.iter_mut().zip(grid.chunks_exact_mut(width)) {
            xs.sort_by(f64::total_cmp);
            for pair in xs.chunks_exact(2) {
                if let [x0, x1] = pair
                    && let Some(cells) = line.get_mut(raster.span(*x0, *x1))
                {
                    cells.iter_mut().for_each(|c| *c |= INTENDED);
                }
            }
        }
        // Tracks, each over its own rows only.
        for (tracks, bit) in [
            (&self.boundary, INTENDED),
            (&self.marks, EXPOSED),
            (&self.support, SUPPORT),
        ] {
            for (s, w) in tracks {
                raster.paint(&mut grid, s, w / 2.0, bit);
            }
        }
        let lasers = self.laser_cells(&raster);
        let shared = lasers.iter().filter(|m| m.count_ones() > 1).count();
        let count = |f: fn(u8) -> bool| grid.iter().filter(|c| f(**c)).count();
        let intended = count(|c| c & INTENDED != 0);
        let both = count(|c| c & (INTENDED | EXPOSED) == INTENDED | EXPOSED);
        let spill = count(|c| c & (INTENDED | EXPOSED) == EXPOSED);
        let support = count(|c| c & SUPPORT != 0);
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
            intended_cells: intended,
            support_cells: support,
            coverage_pct: pct(both),
            spill_pct: pct(spill),
            lasers,
            shared_cells: shared,
        })
    }

    /// The box of every track and contour, `(min, max)`; `None` when it is empty.
    fn bounds(&self) -> Option<([f64; 2], [f64; 2])> {
        let mut min = [f64::INFINITY; 2];
        let mut max = [f64::NEG_INFINITY; 2];
        let mut grow = |x: f64, y: f64, m: f64| {
            min = [min[0].min(x - m), min[1].min(y - m)];
            max = [max[0].max(x + m), max[1].max(y + m)];
        };
        for (s, w) in self.marks.iter().chain(&self.boundary).chain(&self.support) {
            grow(f64::from(s.from.x), f64::from(s.from.y), w / 2.0);
            grow(f64::from(s.to.x), f64::from(s.to.y), w / 2.0);
        }
        for c in &self.contours {
            for p in c {
                grow(p[0], p[1], 0.0);
            }
        }
        (min[0] < max[0] && min[1] < max[1]).then_some((min, max))
    }

    /// Whether the marks name more than one laser.
    fn several_lasers(&self) -> bool {
        self.mark_lasers
            .first()
            .is_some_and(|&l0| self.mark_lasers.iter().any(|&l| l != l0))
    }

    /// The lasers exposing each pixel of a raster `width` wide (bit per laser), or nothing
    /// when the marks name one laser.
    fn laser_cells(&self, raster: &Raster) -> Vec<u8> {
        if !self.several_lasers() {
            return Vec::new();
        }
        let mut out = vec![0u8; raster.width * raster.height];
        for ((s, w), &laser) in self.marks.iter().zip(&self.mark_lasers) {
            raster.paint(&mut out, s, w / 2.0, 1u8 << (laser & 7));
        }
        out
    }
}

/// Where a raster's pixels lie: its lower left corner and pixel size (quanta) and its size in
/// pixels. A pixel belongs to a shape when its centre does.
struct Raster {
    min: [f64; 2],
    pixel: f64,
    width: usize,
    height: usize,
}

impl Raster {
    /// The first column whose centre is at or right of `x`.
    fn col(&self, x: f64) -> usize {
        ((x - self.min[0]) / self.pixel - 0.5)
            .ceil()
            .clamp(0.0, self.width as f64) as usize
    }

    /// One past the last column whose centre is at or left of `x`.
    fn col_end(&self, x: f64) -> usize {
        (((x - self.min[0]) / self.pixel - 0.5).floor() + 1.0).clamp(0.0, self.width as f64)
            as usize
    }

    /// The y of row `row`'s centres.
    fn row_y(&self, row: usize) -> f64 {
        self.min[1] + (row as f64 + 0.5) * self.pixel
    }

    /// The columns whose centre lies in `[x0, x1]`.
    fn span(&self, x0: f64, x1: f64) -> std::ops::Range<usize> {
        let c0 = self.col(x0);
        c0..self.col_end(x1).max(c0)
    }

    /// Rows whose centre lies in `[y0, y1]`.
    fn rows(&self, y0: f64, y1: f64) -> std::ops::Range<usize> {
        let r0 = ((y0 - self.min[1]) / self.pixel - 0.5).ceil().max(0.0) as usize;
        let r1 =
            (((y1 - self.min[1]) / self.pixel - 0.5).floor() + 1.0).clamp(0.0, self.height as f64);
        r0..(r1 as usize).max(r0)
    }

    /// Sets `bit` in every pixel of `grid` the track of `s` with radius `r` covers, row by
    /// row over its own rows only.
    fn paint(&self, grid: &mut [u8], s: &Segment, r: f64, bit: u8) {
        let (y0, y1) = (s.from.y.min(s.to.y), s.from.y.max(s.to.y));
        for row in self.rows(f64::from(y0) - r, f64::from(y1) + r) {
            if let Some((x0, x1)) = capsule_span(s, r, self.row_y(row))
                && let Some(cells) = grid
                    .get_mut(row * self.width..(row + 1) * self.width)
                    .and_then(|line| line.get_mut(self.span(x0, x1)))
            {
                cells.iter_mut().for_each(|c| *c |= bit);
            }
        }
    }
}

impl ExposureMap {
    /// Intended part area in quanta².
    pub fn intended_area(&self) -> f64 {
        self.intended_cells as f64 * self.pixel * self.pixel
    }

    /// Area exposed by supports in quanta².
    pub fn support_area(&self) -> f64 {
        self.support_cells as f64 * self.pixel * self.pixel
    }

    /// Pixels exposed by two lasers or more, % of the intended area (0 without it).
    pub fn shared_pct(&self) -> f64 {
        if self.intended_cells == 0 {
            0.0
        } else {
            100.0 * self.shared_cells as f64 / self.intended_cells as f64
        }
    }

    /// RGB picture (row 0 at the top = largest y): green covered, grey missed, red spill,
    /// blue support. Exposed by several lasers, covered pixels take the colour of their laser
    /// ([`LASER_RGB`]) and those two lasers or more expose are white.
    pub fn rgb(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.cells.len() * 3);
        let w = self.width.max(1);
        for (r, line) in self.cells.chunks_exact(w).enumerate().rev() {
            for (k, c) in line.iter().enumerate() {
                let mask = self.lasers.get(r * w + k).copied().unwrap_or(0);
                let by_laser = match mask.count_ones() {
                    0 => None,
                    1 => LASER_RGB.get(mask.trailing_zeros() as usize),
                    _ => Some(&[250, 250, 250]),
                };
                out.extend_from_slice(match (*c & (INTENDED | EXPOSED), by_laser) {
                    (3, Some(rgb)) => rgb,
                    (3, None) => &[40, 170, 60],
                    (1, _) => &[150, 150, 150],
                    (2, _) => &[220, 40, 40],
                    _ if *c & SUPPORT != 0 => &[60, 90, 200],
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

    /// Twice the signed area of a ring (shoelace).
    fn area2(r: &[[f64; 2]]) -> f64 {
        r.iter()
            .zip(r.iter().cycle().skip(1))
            .map(|(a, b)| a[0] * b[1] - b[0] * a[1])
            .sum()
    }

    #[test]
    fn pieces_of_two_small_islands_cut_at_one_seam_are_joined_each_to_its_own_island() {
        // Two 0.4 mm squares 0.1 mm apart, both across the seam x = 1000, cut with a 0.2 mm
        // overlap: the end of one square's piece lies nearer the other square's piece (141)
        // than its own continuation (200), and one piece's ends lie 0.5 mm apart.
        let square = |y: f64| {
            vec![
                vec![[800.0, y], [1100.0, y]],
                vec![[1100.0, y + 400.0], [800.0, y + 400.0], [800.0, y]],
                vec![
                    [900.0, y],
                    [1200.0, y],
                    [1200.0, y + 400.0],
                    [900.0, y + 400.0],
                ],
            ]
        };
        let mut pieces = square(0.0);
        pieces.extend(square(500.0));
        let rings = stitch_contours(pieces, 600.0);
        assert_eq!(rings.len(), 2, "{rings:?}");
        for r in &rings {
            let a = area2(r).abs() / 2.0;
            assert!((a - 400.0 * 400.0).abs() < 1.0, "ring area {a}: {r:?}");
        }
    }

    #[test]
    fn a_contour_cut_at_a_laser_seam_is_stitched_back_into_its_ring() {
        // A 2 mm square ring cut at x = 1000 into two pieces, each reaching 100 past the
        // seam (a 0.2 mm overlap), as two lasers mark it.
        let left = vec![[1100.0, 0.0], [0.0, 0.0], [0.0, 2000.0], [1100.0, 2000.0]];
        let right = vec![
            [900.0, 2000.0],
            [2000.0, 2000.0],
            [2000.0, 0.0],
            [900.0, 0.0],
        ];
        let closed = vec![
            [5000.0, 0.0],
            [6000.0, 0.0],
            [6000.0, 1000.0],
            [5000.0, 0.0],
        ];
        let rings = stitch_contours(vec![closed.clone(), left, right], 1000.0);
        assert_eq!(rings.len(), 2);
        assert_eq!(rings[0], closed);
        assert_eq!(rings[1].len(), 8);
        let g = LayerGeometry {
            contours: rings,
            ..LayerGeometry::default()
        };
        let whole = LayerGeometry {
            contours: vec![square(2000.0), closed],
            ..LayerGeometry::default()
        };
        // The stitched ring fills as the whole one did.
        let (a, b) = (
            g.rasterise(20.0, 1 << 22).unwrap(),
            whole.rasterise(20.0, 1 << 22).unwrap(),
        );
        assert_eq!(a.intended_cells, b.intended_cells);
        // Pieces whose ends are farther apart than the tolerance stay apart.
        let far = vec![
            vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]],
            vec![[5000.0, 0.0], [6000.0, 0.0], [6000.0, 10.0]],
        ];
        assert_eq!(stitch_contours(far, 1000.0).len(), 2);
        // A piece of two vertices left alone encloses nothing.
        assert!(stitch_contours(vec![vec![[0.0, 0.0], [9.0, 0.0]]], 1000.0).is_empty());
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
            ..LayerGeometry::default()
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
            ..LayerGeometry::default()
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
            ..LayerGeometry::default()
        };
        let m = g.rasterise(10.0, 1 << 20).unwrap();
        let intended = m.cells.iter().filter(|c| **c & INTENDED != 0).count() as f64 * 100.0;
        assert!(
            (intended - 3_000_000.0).abs() / 3_000_000.0 < 0.03,
            "{intended}"
        );
    }

    /// A 2 mm square as a slicer codes it: contour at the 60 µm beam offset (the path of a
    /// 120 µm track), hatches at 0.12 mm spacing reaching the contour path.
    fn square_job(hatch_shift: i32, hatch_rows: i32) -> LayerGeometry {
        let path = vec![
            [60.0, 60.0],
            [1940.0, 60.0],
            [1940.0, 1940.0],
            [60.0, 1940.0],
        ];
        let mut g = LayerGeometry::default();
        for (a, b) in path.iter().zip(path.iter().cycle().skip(1)) {
            let s = seg([a[0] as i32, a[1] as i32], [b[0] as i32, b[1] as i32]);
            g.marks.push((s, 120.0));
            g.boundary.push((s, 120.0));
        }
        g.contours.push(path);
        for i in 0..hatch_rows {
            let y = 120 + i * 120 + hatch_shift;
            g.marks
                .push((seg([60 + hatch_shift, y], [1940 + hatch_shift, y]), 120.0));
        }
        g
    }

    /// A 1.88 mm square (its fill intended, no contour marked) hatched in 16 rows cut at x = 1000: the left pieces
    /// by laser 0 up to `1000 + reach`, the right by laser 1 from `1000 - reach`.
    fn split_square(reach: i32) -> LayerGeometry {
        let path = vec![
            [60.0, 60.0],
            [1940.0, 60.0],
            [1940.0, 1940.0],
            [60.0, 1940.0],
        ];
        let mut g = LayerGeometry::default();
        g.contours.push(path);
        for i in 0..16 {
            let y = 120 + i * 120;
            g.marks.push((seg([60, y], [1000 + reach, y]), 120.0));
            g.mark_lasers.push(0);
            g.marks.push((seg([1000 - reach, y], [1940, y]), 120.0));
            g.mark_lasers.push(1);
        }
        g
    }

    #[test]
    fn two_lasers_stitched_at_a_seam_share_only_the_overlap_and_leave_no_gap() {
        let m = split_square(100).rasterise(5.0, 1 << 22).unwrap();
        assert!(m.coverage_pct >= 99.0, "coverage {}", m.coverage_pct);
        // Shared: the 0.2 mm overlap plus the round ends of the tracks, over the hatched
        // height, and nothing else.
        let shared = m.shared_cells as f64 * 25.0;
        assert!(
            (200.0 * 1800.0..330.0 * 1920.0).contains(&shared),
            "shared {shared} µm²"
        );
        let rgb = m.rgb();
        let has = |c: [u8; 3]| rgb.chunks_exact(3).any(|p| p == c);
        assert!(has(LASER_RGB[0]) && has(LASER_RGB[1]) && has([250, 250, 250]));
        // Pieces stopping short of the seam: nothing shared, a gap in the coverage.
        let gap = split_square(-150).rasterise(5.0, 1 << 22).unwrap();
        assert_eq!(gap.shared_cells, 0);
        assert!(gap.coverage_pct < 96.0, "coverage {}", gap.coverage_pct);
        // The same marks all on one laser: no laser map.
        let mut one = split_square(100);
        one.mark_lasers.iter_mut().for_each(|l| *l = 0);
        let m1 = one.rasterise(5.0, 1 << 22).unwrap();
        assert!(m1.lasers.is_empty() && m1.shared_cells == 0);
        assert!((m1.coverage_pct - m.coverage_pct).abs() < 1e-9);
    }

    #[test]
    fn a_correct_square_job_is_fully_covered_without_spill() {
        let m = square_job(0, 16).rasterise(5.0, 1 << 22).unwrap();
        assert!(m.coverage_pct >= 99.0, "coverage {}", m.coverage_pct);
        assert!(m.spill_pct <= 1.0, "spill {}", m.spill_pct);
    }

    #[test]
    fn shifted_hatches_lose_coverage_and_spill() {
        let good = square_job(0, 16).rasterise(5.0, 1 << 22).unwrap();
        let shifted = square_job(400, 16).rasterise(5.0, 1 << 22).unwrap();
        assert!(
            shifted.coverage_pct < good.coverage_pct - 10.0,
            "coverage {} vs {}",
            shifted.coverage_pct,
            good.coverage_pct
        );
        assert!(shifted.spill_pct > 15.0, "spill {}", shifted.spill_pct);
    }

    #[test]
    fn a_missing_hatch_region_shows_as_lost_coverage() {
        // Half the hatches: the contour band still covers its 0.12 mm ring (≈ 23 %).
        let m = square_job(0, 8).rasterise(5.0, 1 << 22).unwrap();
        assert!(
            m.coverage_pct < 70.0 && m.coverage_pct > 55.0,
            "coverage {}",
            m.coverage_pct
        );
        assert!(m.spill_pct <= 1.0, "spill {}", m.spill_pct);
    }

    #[test]
    fn support_marks_are_measured_apart_from_the_part() {
        let mut g = square_job(0, 16);
        // Support walls under and beside the part: neither coverage nor spill.
        g.support.push((seg([-3000, 1000], [-1000, 1000]), 120.0));
        g.support.push((seg([500, 500], [1500, 500]), 120.0));
        let m = g.rasterise(5.0, 1 << 22).unwrap();
        assert!(m.spill_pct <= 1.0, "spill {}", m.spill_pct);
        assert!(m.coverage_pct >= 99.0, "coverage {}", m.coverage_pct);
        // Two 120 µm wide walls, 2 mm and 1 mm long with round caps.
        let expected = 120.0 * 3000.0 + 2.0 * std::f64::consts::PI * 60.0 * 60.0;
        let got = m.support_area();
        assert!(
            (got - expected).abs() / expected < 0.05,
            "{got} vs {expected}"
        );
    }
}
