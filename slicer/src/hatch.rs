//! Hatching a region with parallel scan vectors: `lines`, `stripes` and `chessboard`.
//!
//! Every strategy works in the layer's hatch frame: `u` along the hatch direction
//! `d = (cos θ, sin θ)`, `v` across it, with `θ = start + i·rotation` for layer `i`. Hatch
//! lines lie on the global grid `v = k·h`, so spacing is exact across regions and islands.
//! Lines are clipped *exactly* by the region (see [`clip_lines_exact`]); stripes and islands
//! then cut each clipped hatch along its own line (a 1-D interval split, which cannot leave
//! the region).
//!
//! - `lines`: every hatch of the region, one group.
//! - `stripes`: bands `u ∈ [s·W − o/2, (s+1)·W + o/2]`; one group per band `s`.
//! - `chessboard`: islands `(a, b)` of size `S` on a grid shifted by `i·shift` per layer;
//!   "white" islands (`a + b` even) are hatched along `d`, "black" ones along `v`, so
//!   neighbours cross at 90°; overlap `o` widens each island by `o/2` on every side.

use crate::polygon::{Point, Shape, Shapes, UNITS_PER_MM, bounds};
use crate::profile::{HatchSettings, Strategy};

/// A group of hatches scanned together: a whole region, one stripe or one island.
#[derive(Debug, Clone, PartialEq)]
pub struct HatchGroup {
    /// Stripe `(s, 0)` or island `(a, b)` index; `(0, 0)` for `lines`.
    pub cell: (i64, i64),
    /// For chessboard: true for "white" islands (hatched along the layer angle).
    pub white: bool,
    /// The hatch vectors, in meander order (start, end).
    pub hatches: Vec<[Point; 2]>,
}

/// The hatch angle of layer `i` in degrees, in `[0, 360)`.
pub fn layer_angle_deg(settings: &HatchSettings, layer: usize) -> f64 {
    (settings.start_angle_deg + layer as f64 * settings.rotation_deg).rem_euclid(360.0)
}

/// One clipped hatch: its line index, its interval along the line and its end points.
#[derive(Debug, Clone, Copy)]
struct Clipped {
    k: i64,
    u0: f64,
    u1: f64,
    a: Point,
    b: Point,
}

/// Hatches `region` with hatch distance `hatch_mm` for layer `layer`.
pub fn hatch_region(
    region: &Shapes,
    hatch_mm: f64,
    layer: usize,
    settings: &HatchSettings,
) -> Vec<HatchGroup> {
    hatch_region_within(region, None, hatch_mm, layer, settings)
}

/// Hatches `region` inside each island (`lines` strategy): one meander group per island, in
/// island order (`None` where the island holds no hatch of `region`). All islands share one
/// family of hatch lines and `region` is clipped once.
pub fn hatch_islands(
    region: &Shapes,
    islands: &[Shape],
    hatch_mm: f64,
    layer: usize,
    settings: &HatchSettings,
) -> Vec<Option<HatchGroup>> {
    if region.is_empty() || islands.is_empty() || hatch_mm.is_nan() || hatch_mm <= 0.0 {
        return vec![None; islands.len()];
    }
    let theta = layer_angle_deg(settings, layer).to_radians();
    let h = hatch_mm * UNITS_PER_MM;
    let min_len = settings.min_length_mm * UNITS_PER_MM;
    let dir = (theta.cos(), theta.sin());
    let masks: Vec<&[Shape]> = islands.iter().map(std::slice::from_ref).collect();
    clip_family_masked(region, Some(&masks), dir, h)
        .into_iter()
        .map(|hatches| {
            let mut g = HatchGroup {
                cell: (0, 0),
                white: true,
                hatches: keep_long(&hatches, min_len),
            };
            meander(&mut g.hatches, &hatches_meta(&hatches, min_len));
            (!g.hatches.is_empty()).then_some(g)
        })
        .collect()
}

/// Hatches `region ∩ mask` (all of `region` without a mask) with hatch distance `hatch_mm`
/// for layer `layer`.
///
/// The intersection is taken on the hatch lines, not as polygons: each line is clipped
/// exactly by `region` and by `mask` and the two interval lists are intersected with their
/// exact rational parameters, so a region is hatched inside the contours without a polygon
/// boolean per region.
pub fn hatch_region_within(
    region: &Shapes,
    mask: Option<&[Shape]>,
    hatch_mm: f64,
    layer: usize,
    settings: &HatchSettings,
) -> Vec<HatchGroup> {
    if region.is_empty()
        || mask.is_some_and(|m| m.is_empty())
        || hatch_mm.is_nan()
        || hatch_mm <= 0.0
    {
        return Vec::new();
    }
    let family = |region: &Shapes, dir: (f64, f64), h: f64| clip_family(region, mask, dir, h);
    let theta = layer_angle_deg(settings, layer).to_radians();
    let h = hatch_mm * UNITS_PER_MM;
    let min_len = settings.min_length_mm * UNITS_PER_MM;
    let dir = (theta.cos(), theta.sin());
    let mut groups = match settings.strategy {
        Strategy::Lines => {
            let hatches = family(region, dir, h);
            let mut g = HatchGroup {
                cell: (0, 0),
                white: true,
                hatches: keep_long(&hatches, min_len),
            };
            meander(&mut g.hatches, &hatches_meta(&hatches, min_len));
            vec![g]
        }
        Strategy::Stripes => {
            let w = settings.stripe_width_mm * UNITS_PER_MM;
            let o = settings.stripe_overlap_mm * UNITS_PER_MM;
            let hatches = family(region, dir, h);
            let mut cells: std::collections::BTreeMap<(i64, i64), Vec<Clipped>> =
                Default::default();
            for c in &hatches {
                for (s, piece) in split(c, w, 0.0, o) {
                    cells.entry((s, 0)).or_default().push(piece);
                }
            }
            cells
                .into_iter()
                .map(|(cell, pieces)| group(cell, true, &pieces, min_len))
                .collect()
        }
        Strategy::Chessboard => {
            let s = settings.island_size_mm * UNITS_PER_MM;
            let o = settings.island_overlap_mm * UNITS_PER_MM;
            let shift = (layer as f64 * settings.island_shift_mm * UNITS_PER_MM).rem_euclid(s);
            let mut cells: std::collections::BTreeMap<(i64, i64), (bool, Vec<Clipped>)> =
                Default::default();
            // White islands: hatches along d, columns a from u, rows b from v = k·h.
            for c in &family(region, dir, h) {
                let v = c.k as f64 * h;
                for b in rows_containing(v, s, shift, o) {
                    for (a, piece) in split(c, s, shift, o) {
                        if (a + b).rem_euclid(2) == 0 {
                            cells
                                .entry((a, b))
                                .or_insert((true, Vec::new()))
                                .1
                                .push(piece);
                        }
                    }
                }
            }
            // Black islands: hatches along the normal n = (-sin, cos); the frame (n, -d)
            // has u' = v and v' = -u, so columns come from the line index and rows from u'.
            let ndir = (-dir.1, dir.0);
            for c in &family(region, ndir, h) {
                let u = -(c.k as f64 * h);
                for a in rows_containing(u, s, shift, o) {
                    for (b, piece) in split(c, s, shift, o) {
                        if (a + b).rem_euclid(2) == 1 {
                            cells
                                .entry((a, b))
                                .or_insert((false, Vec::new()))
                                .1
                                .push(piece);
                        }
                    }
                }
            }
            cells
                .into_iter()
                .map(|(cell, (white, pieces))| group(cell, white, &pieces, min_len))
                .collect()
        }
    };
    groups.retain(|g| !g.hatches.is_empty());
    groups
}

fn hatches_meta(c: &[Clipped], min_len: f64) -> Vec<i64> {
    c.iter()
        .filter(|c| c.u1 - c.u0 >= min_len)
        .map(|c| c.k)
        .collect()
}

fn keep_long(c: &[Clipped], min_len: f64) -> Vec<[Point; 2]> {
    c.iter()
        .filter(|c| c.u1 - c.u0 >= min_len)
        .map(|c| [c.a, c.b])
        .collect()
}

fn group(cell: (i64, i64), white: bool, pieces: &[Clipped], min_len: f64) -> HatchGroup {
    let mut sorted = pieces.to_vec();
    sorted.sort_by(|x, y| x.k.cmp(&y.k).then(x.u0.total_cmp(&y.u0)));
    let mut hatches = keep_long(&sorted, min_len);
    meander(&mut hatches, &hatches_meta(&sorted, min_len));
    HatchGroup {
        cell,
        white,
        hatches,
    }
}

/// Reverses every other line so the scan runs back and forth (a bidirectional meander);
/// pieces of the same line keep the same direction.
fn meander(hatches: &mut [[Point; 2]], line_of: &[i64]) {
    let mut parity = false;
    let mut last_k = None;
    let mut run: Vec<usize> = Vec::new();
    let flush = |run: &mut Vec<usize>, hatches: &mut [[Point; 2]], reverse: bool| {
        if reverse {
            let segs: Vec<[Point; 2]> = run
                .iter()
                .rev()
                .map(|&i| [hatches[i][1], hatches[i][0]])
                .collect();
            for (slot, s) in run.iter().zip(segs) {
                hatches[*slot] = s;
            }
        }
        run.clear();
    };
    for (i, &k) in line_of.iter().enumerate() {
        if last_k.is_some() && last_k != Some(k) {
            flush(&mut run, hatches, parity);
            parity = !parity;
        }
        last_k = Some(k);
        run.push(i);
    }
    flush(&mut run, hatches, parity);
}

/// The rows `b` whose band `[b·s + shift − o/2, (b+1)·s + shift + o/2]` contains `v`.
fn rows_containing(v: f64, s: f64, shift: f64, o: f64) -> Vec<i64> {
    let b = ((v - shift) / s).floor() as i64;
    let mut rows = Vec::with_capacity(2);
    for cand in [b - 1, b, b + 1] {
        let lo = cand as f64 * s + shift - o / 2.0;
        let hi = (cand + 1) as f64 * s + shift + o / 2.0;
        if v >= lo && v < hi {
            rows.push(cand);
        }
    }
    rows
}

/// Splits a clipped hatch into the bands `[j·w + shift − o/2, (j+1)·w + shift + o/2]` of
/// its own line, interpolating the cut points on the hatch (its clipped ends are kept).
fn split(c: &Clipped, w: f64, shift: f64, o: f64) -> Vec<(i64, Clipped)> {
    let mut out = Vec::new();
    let first = ((c.u0 - shift - o / 2.0) / w).floor() as i64;
    let last = ((c.u1 - shift + o / 2.0) / w).floor() as i64;
    for j in first..=last {
        let lo = (j as f64 * w + shift - o / 2.0).max(c.u0);
        let hi = ((j + 1) as f64 * w + shift + o / 2.0).min(c.u1);
        if hi <= lo {
            continue;
        }
        let at = |u: f64| -> Point {
            if u <= c.u0 {
                return c.a;
            }
            if u >= c.u1 {
                return c.b;
            }
            let s = (u - c.u0) / (c.u1 - c.u0);
            Point::new(
                (c.a.x as f64 + s * (c.b.x - c.a.x) as f64).round() as i32,
                (c.a.y as f64 + s * (c.b.y - c.a.y) as f64).round() as i32,
            )
        };
        let (a, b) = (at(lo), at(hi));
        if a != b {
            out.push((
                j,
                Clipped {
                    k: c.k,
                    u0: lo,
                    u1: hi,
                    a,
                    b,
                },
            ));
        }
    }
    out
}

/// Clips the line family `v = k·h` (direction `dir`) by `region` (and `mask`); hatches
/// oriented along `+u`, sorted by `(k, u)`.
fn clip_family(region: &Shapes, mask: Option<&[Shape]>, dir: (f64, f64), h: f64) -> Vec<Clipped> {
    match mask {
        None => clip_family_masked(region, None, dir, h),
        Some(m) => clip_family_masked(region, Some(&[m]), dir, h),
    }
    .pop()
    .unwrap_or_default()
}

/// Clips the line family `v = k·h` (direction `dir`) by `region`, and then by each mask in
/// turn (one list per mask; one list in all without masks). The masks share one family of
/// lines, and `region` is clipped once for all of them.
fn clip_family_masked(
    region: &Shapes,
    masks: Option<&[&[Shape]]>,
    dir: (f64, f64),
    h: f64,
) -> Vec<Vec<Clipped>> {
    let count = masks.map_or(1, |m| m.len());
    let Some(family) = common_bounds(region, masks).and_then(|b| LineFamily::new(b, dir, h)) else {
        return vec![Vec::new(); count];
    };
    let intervals = line_intervals(region, &family.lines, family.normal, family.kmin, h);
    let Some(ms) = masks else {
        return vec![to_clipped(intervals, &family.lines, family.kmin, dir)];
    };
    ms.iter()
        .map(|m| family.clip_mask(m, &intervals, dir, h))
        .collect()
}

/// The bounds shared by `region` and the union of `masks`; `None` when they are disjoint
/// or empty.
fn common_bounds(region: &Shapes, masks: Option<&[&[Shape]]>) -> Option<(Point, Point)> {
    let (mut lo, mut hi) = bounds(region)?;
    if let Some(ms) = masks {
        let (mlo, mhi) = ms.iter().filter_map(|m| bounds(m)).reduce(|a, b| {
            (
                Point::new(a.0.x.min(b.0.x), a.0.y.min(b.0.y)),
                Point::new(a.1.x.max(b.1.x), a.1.y.max(b.1.y)),
            )
        })?;
        lo = Point::new(lo.x.max(mlo.x), lo.y.max(mlo.y));
        hi = Point::new(hi.x.min(mhi.x), hi.y.min(mhi.y));
        if lo.x > hi.x || lo.y > hi.y {
            return None;
        }
    }
    Some((lo, hi))
}

/// Margin (units) added at both ends of each hatch line beyond the bounds, so its ends lie
/// strictly outside the region after rounding.
const LINE_MARGIN_UNITS: f64 = 4.0;

/// The lines `v = k·h`, `k ∈ kmin..`, that cross a bounding box, as segments along `+u`.
struct LineFamily {
    /// The segments, one per `k`.
    lines: Vec<[Point; 2]>,
    /// The first line's index `k`.
    kmin: i64,
    /// The unit normal `v` of the family.
    normal: (f64, f64),
}

impl LineFamily {
    /// The family of direction `dir` and spacing `h` over the box `(lo, hi)`; `None` when no
    /// line crosses it.
    fn new((lo, hi): (Point, Point), dir: (f64, f64), h: f64) -> Option<LineFamily> {
        let n = (-dir.1, dir.0);
        let corners = [
            (lo.x as f64, lo.y as f64),
            (hi.x as f64, lo.y as f64),
            (hi.x as f64, hi.y as f64),
            (lo.x as f64, hi.y as f64),
        ];
        let (mut umin, mut umax, mut vmin, mut vmax) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for (x, y) in corners {
            let u = x * dir.0 + y * dir.1;
            let v = x * n.0 + y * n.1;
            umin = umin.min(u);
            umax = umax.max(u);
            vmin = vmin.min(v);
            vmax = vmax.max(v);
        }
        umin -= LINE_MARGIN_UNITS;
        umax += LINE_MARGIN_UNITS;
        let kmin = (vmin / h).ceil() as i64;
        let kmax = (vmax / h).floor() as i64;
        if kmax < kmin {
            return None;
        }
        let point = |u: f64, v: f64| {
            Point::new(
                (u * dir.0 + v * n.0).round() as i32,
                (u * dir.1 + v * n.1).round() as i32,
            )
        };
        let lines = (kmin..=kmax)
            .map(|k| {
                let v = k as f64 * h;
                [point(umin, v), point(umax, v)]
            })
            .collect();
        Some(LineFamily {
            lines,
            kmin,
            normal: n,
        })
    }

    /// The region's `intervals` on this family further clipped by one mask.
    fn clip_mask(
        &self,
        mask: &[Shape],
        intervals: &[Vec<[Rational; 2]>],
        dir: (f64, f64),
        h: f64,
    ) -> Vec<Clipped> {
        let n = self.normal;
        let last = self.lines.len() as i64 - 1;
        // Only the lines a mask's own v-range reaches (±1 for rounding), so many small
        // islands on a large layer cost their own size, not the layer's.
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in mask.iter().flatten().flatten() {
            let v = p.x as f64 * n.0 + p.y as f64 * n.1;
            lo = lo.min(v);
            hi = hi.max(v);
        }
        let a = ((lo / h).floor() as i64 - 1 - self.kmin).max(0);
        let b = ((hi / h).ceil() as i64 + 1 - self.kmin).min(last);
        if a > b {
            return Vec::new();
        }
        let (a, b) = (a as usize, b as usize);
        let sub = &self.lines[a..=b];
        let masked = line_intervals(mask, sub, n, self.kmin + a as i64, h);
        let both = intervals[a..=b]
            .iter()
            .zip(&masked)
            .map(|(iv, mv)| {
                if mv.is_empty() {
                    Vec::new()
                } else {
                    intersect_intervals(iv, mv)
                }
            })
            .collect();
        to_clipped(both, sub, self.kmin + a as i64, dir)
    }
}

/// The clipped hatches of parameter intervals on the lines `kmin..`, sorted by `(k, u)`.
fn to_clipped(
    intervals: Vec<Vec<[Rational; 2]>>,
    lines: &[[Point; 2]],
    kmin: i64,
    dir: (f64, f64),
) -> Vec<Clipped> {
    let mut out = Vec::new();
    for (line_idx, pieces) in intervals_to_points(intervals, lines)
        .into_iter()
        .enumerate()
    {
        let k = kmin + line_idx as i64;
        for [a, b] in pieces {
            let proj = |q: Point| q.x as f64 * dir.0 + q.y as f64 * dir.1;
            if a != b {
                out.push(Clipped {
                    k,
                    u0: proj(a),
                    u1: proj(b),
                    a,
                    b,
                });
            }
        }
    }
    out.sort_by(|x, y| x.k.cmp(&y.k).then(x.u0.total_cmp(&y.u0)));
    out
}

/// Clips integer lines (all parallel, normal `n`, line `i` near `v = (kmin + i)·h`) by the
/// simple, non-overlapping polygons of `region` (i_overlay's normalised output, so the
/// even-odd rule equals its non-zero fill).
///
/// Exact: each polygon vertex is classified against the integer line `A + t·(B − A)` by the
/// sign of an `i128` cross product, a vertex exactly on the line counting as *above* (the same
/// symbolic perturbation as the slicer), so every line crosses the boundary an even number of
/// times, including through vertices and along collinear edges. Crossings are ordered by
/// their exact rational parameter `t` (cross-multiplied in `i128`) and paired in order; only
/// the final end points are rounded to whole units. Each edge is only tested against the lines
/// its `v`-range can reach (±1 line for rounding), so the cost is O(edges + crossings).
///
/// We do this rather than i_overlay's string clipping because the latter's segment splitter
/// is quadratic for a family of long parallel lines: 50× slower on a 140 mm layer.
pub fn clip_lines_exact(
    region: &Shapes,
    lines: &[[Point; 2]],
    n: (f64, f64),
    kmin: i64,
    h: f64,
) -> Vec<Vec<[Point; 2]>> {
    intervals_to_points(line_intervals(region, lines, n, kmin, h), lines)
}

/// An exact line parameter `t = num / den`, `den > 0`.
type Rational = (i128, i128);

/// `x < y` for exact parameters (coordinates within ±2³⁰ keep the products in `i128`).
fn lt(x: Rational, y: Rational) -> bool {
    x.0 * y.1 < y.0 * x.1
}

/// The intersection of two sorted lists of disjoint parameter intervals.
fn intersect_intervals(a: &[[Rational; 2]], b: &[[Rational; 2]]) -> Vec<[Rational; 2]> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let lo = if lt(a[i][0], b[j][0]) {
            b[j][0]
        } else {
            a[i][0]
        };
        let hi = if lt(a[i][1], b[j][1]) {
            a[i][1]
        } else {
            b[j][1]
        };
        if lt(lo, hi) {
            out.push([lo, hi]);
        }
        if lt(a[i][1], b[j][1]) {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// End points of the parameter intervals on their lines, rounded to whole units.
fn intervals_to_points(
    intervals: Vec<Vec<[Rational; 2]>>,
    lines: &[[Point; 2]],
) -> Vec<Vec<[Point; 2]>> {
    intervals
        .into_iter()
        .zip(lines)
        .map(|(iv, line)| {
            let a = line[0];
            let d = ((line[1].x - a.x) as f64, (line[1].y - a.y) as f64);
            let at = |(num, den): Rational| {
                let t = num as f64 / den as f64;
                Point::new(
                    (a.x as f64 + t * d.0).round() as i32,
                    (a.y as f64 + t * d.1).round() as i32,
                )
            };
            iv.into_iter()
                .map(|[p, q]| [at(p), at(q)])
                .filter(|s| s[0] != s[1])
                .collect()
        })
        .collect()
}

/// The parameter intervals of each line inside `region` (see [`clip_lines_exact`]), sorted.
fn line_intervals(
    region: &[Shape],
    lines: &[[Point; 2]],
    n: (f64, f64),
    kmin: i64,
    h: f64,
) -> Vec<Vec<[Rational; 2]>> {
    // Per line: crossings as (numerator, denominator > 0) of t.
    let mut crossings: Vec<Vec<(i128, i128)>> = vec![Vec::new(); lines.len()];
    // Per line: parameter intervals of boundary edges lying exactly on it.
    let mut on_boundary: Vec<Vec<(f64, f64)>> = vec![Vec::new(); lines.len()];
    let side = |line: &[Point; 2], p: Point| -> i128 {
        let (a, b) = (line[0], line[1]);
        let dx = (b.x - a.x) as i128;
        let dy = (b.y - a.y) as i128;
        dx * (p.y - a.y) as i128 - dy * (p.x - a.x) as i128
    };
    let param = |line: &[Point; 2], p: Point| -> f64 {
        let (a, b) = (line[0], line[1]);
        let d = ((b.x - a.x) as f64, (b.y - a.y) as f64);
        ((p.x - a.x) as f64 * d.0 + (p.y - a.y) as f64 * d.1) / (d.0 * d.0 + d.1 * d.1)
    };
    let last = lines.len() as i64 - 1;
    for contour in region.iter().flatten() {
        let m = contour.len();
        for e in 0..m {
            let p = contour[e];
            let q = contour[(e + 1) % m];
            let vp = p.x as f64 * n.0 + p.y as f64 * n.1;
            let vq = q.x as f64 * n.0 + q.y as f64 * n.1;
            let lo = ((vp.min(vq) / h).floor() as i64 - 1 - kmin).max(0);
            let hi = ((vp.max(vq) / h).ceil() as i64 + 1 - kmin).min(last);
            for li in lo..=hi {
                let line = &lines[li as usize];
                let (sp, sq) = (side(line, p), side(line, q));
                if sp == 0 && sq == 0 {
                    let (tp, tq) = (param(line, p), param(line, q));
                    on_boundary[li as usize].push((tp.min(tq), tp.max(tq)));
                }
                if (sp >= 0) == (sq >= 0) {
                    continue;
                }
                // X = A + t·D on P + s·(Q − P): t = cross(P − A, Q − P) / cross(D, Q − P).
                let a = line[0];
                let d = ((line[1].x - a.x) as i128, (line[1].y - a.y) as i128);
                let pq = ((q.x - p.x) as i128, (q.y - p.y) as i128);
                let pa = ((p.x - a.x) as i128, (p.y - a.y) as i128);
                let mut num = pa.0 * pq.1 - pa.1 * pq.0;
                let mut den = d.0 * pq.1 - d.1 * pq.0;
                if den < 0 {
                    num = -num;
                    den = -den;
                }
                if den != 0 {
                    crossings[li as usize].push((num, den));
                }
            }
        }
    }
    crossings
        .into_iter()
        .zip(lines)
        .zip(on_boundary)
        .map(|((mut ts, _line), boundary)| {
            ts.sort_by(|x, y| (x.0 * y.1).cmp(&(y.0 * x.1)));
            // A piece running along a boundary edge (the perturbation puts the line just
            // inside) is dropped: hatches never trace the region's own outline.
            let along_boundary = |c: &[(i128, i128)]| {
                let mid = 0.5 * (c[0].0 as f64 / c[0].1 as f64 + c[1].0 as f64 / c[1].1 as f64);
                boundary.iter().any(|&(lo, hi)| mid > lo && mid < hi)
            };
            ts.chunks_exact(2)
                .filter(|c| !along_boundary(c) && lt(c[0], c[1]))
                .map(|c| [c[0], c[1]])
                .collect()
        })
        .collect()
}

#[cfg(test)]
#[path = "hatch_tests.rs"]
mod tests;
