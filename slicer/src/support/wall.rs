//! Block-support walls: grid lines clipped to an overhang region, the height each one spans
//! (from the plate or the part below up to the overhang), and their cut at a layer with
//! perforations and teeth.

use i_overlay::core::fill_rule::FillRule;
use i_overlay::i_float::int::point::IntPoint;
use i_overlay::i_shape::int::shape::IntShapes;
use i_overlay::string::clip::{ClipRule, IntClip};

use super::surface_grid::SurfaceGrid;
use super::{QUANTUM_MM, SupportOptions, SupportPath};

/// Direction in which a wall runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WallAxis {
    /// Runs along x at a fixed y.
    AlongX,
    /// Runs along y at a fixed x.
    AlongY,
}

/// One straight wall of a block support, sampled along its length.
#[derive(Debug, Clone)]
pub(crate) struct Wall {
    pub axis: WallAxis,
    /// The fixed coordinate (y for [`WallAxis::AlongX`], x for [`WallAxis::AlongY`]), mm.
    pub fixed_mm: f64,
    /// Position along the wall of the first sample, mm.
    pub u0: f64,
    /// Distance between samples, mm.
    pub du: f64,
    /// Height of the overhang above each sample in the build frame, mm; NaN where the sample
    /// carries no wall.
    pub top: Vec<f64>,
    /// Height the wall stands on at each sample (0 on the plate), mm.
    pub bottom: Vec<f64>,
    /// True where the sample stands on the part below rather than on the plate.
    pub on_part: Vec<bool>,
    /// Lowest bottom and highest top over the samples, for a quick reject per layer.
    pub z_lo: f64,
    pub z_hi: f64,
}

/// What the walls of a region stand on and reach, in the build frame.
pub(crate) struct WallSite<'a> {
    /// The region's overhang triangles (mesh frame), queried for the lowest face above a point.
    pub ceiling: &'a SurfaceGrid,
    /// The mesh's upward faces (mesh frame), queried for the part below a point.
    pub ground: &'a SurfaceGrid,
    /// Added to mesh-frame heights to get build-frame heights.
    pub z_shift: f64,
}

/// Contact closer than this above the ground is the same surface (stacked or touching shells).
const SAME_SURFACE_MM: f64 = 1e-4;

/// Walls of the grid inside `clip` (integer quanta), with their heights sampled.
///
/// Returns an error naming why no wall fits when the region is too narrow for any wall.
pub(crate) fn build_walls(
    clip: &IntShapes<i32>,
    opts: &SupportOptions,
    site: &WallSite<'_>,
) -> Result<Vec<Wall>, String> {
    let Some((min, max)) = bounds(clip) else {
        return Err(format!(
            "no area left inside the {:.3} mm xy offset",
            opts.xy_offset_mm
        ));
    };
    let s = ((opts.grid_spacing_mm / QUANTUM_MM).round() as i64).max(1);
    let lines_x = (max.x as i64).div_euclid(s) - (min.x as i64 + s - 1).div_euclid(s) + 1;
    let lines_y = (max.y as i64).div_euclid(s) - (min.y as i64 + s - 1).div_euclid(s) + 1;
    const MAX_LINES: i64 = 200_000;
    if lines_x + lines_y > MAX_LINES {
        return Err(format!(
            "{} grid lines at {} mm spacing exceed the limit of {MAX_LINES}",
            lines_x + lines_y,
            opts.grid_spacing_mm
        ));
    }
    let mut segments = Vec::new();
    let first = |lo: i32| (lo as i64 + s - 1).div_euclid(s) * s;
    let xs: Vec<i32> = (0..lines_x.max(0))
        .map(|k| (first(min.x) + k * s) as i32)
        .collect();
    let ys: Vec<i32> = (0..lines_y.max(0))
        .map(|k| (first(min.y) + k * s) as i32)
        .collect();
    clip_grid_lines(clip, WallAxis::AlongY, &xs, min.y, max.y, &mut segments);
    clip_grid_lines(clip, WallAxis::AlongX, &ys, min.x, max.x, &mut segments);
    if segments.is_empty() {
        // A region narrower than the grid: one wall along its longer side, through its middle,
        // rather than no support at all.
        let (axis, fixed, lo, hi) = if max.x - min.x >= max.y - min.y {
            (WallAxis::AlongX, mid(min.y, max.y), min.x, max.x)
        } else {
            (WallAxis::AlongY, mid(min.x, max.x), min.y, max.y)
        };
        clip_grid_lines(clip, axis, &[fixed], lo, hi, &mut segments);
    }
    if segments.is_empty() {
        // The middle misses it (a thin ring or a bent sliver): lines across the whole box in
        // both directions, at eighths of its width, take whatever pieces lie inside.
        let across = |a: i32, b: i32| -> Vec<i32> {
            let mut v: Vec<i32> = (0..FALLBACK_LINES)
                .map(|k| {
                    (a as i64 + (b as i64 - a as i64) * (2 * k + 1) / (2 * FALLBACK_LINES)) as i32
                })
                .collect();
            v.dedup();
            v
        };
        clip_grid_lines(
            clip,
            WallAxis::AlongY,
            &across(min.x, max.x),
            min.y,
            max.y,
            &mut segments,
        );
        clip_grid_lines(
            clip,
            WallAxis::AlongX,
            &across(min.y, max.y),
            min.x,
            max.x,
            &mut segments,
        );
    }
    let mut tally = SampleTally::default();
    let walls: Vec<Wall> = segments
        .iter()
        .filter_map(|seg| sample_wall(seg, opts, site, &mut tally))
        .collect();
    if walls.is_empty() {
        return Err(format!(
            "no wall fits: {} wall lines, {} samples at {} mm: {} under no overhang face, {} on the part at the overhang's height, {} at the plate",
            segments.len(),
            tally.samples,
            opts.sample_step_mm,
            tally.no_ceiling,
            tally.resting,
            tally.at_plate
        ));
    }
    Ok(walls)
}

/// Lines per direction tried across a region that neither the grid nor its middle line meets.
const FALLBACK_LINES: i64 = 8;

fn mid(a: i32, b: i32) -> i32 {
    ((a as i64 + b as i64) / 2) as i32
}

/// A straight piece of a grid line inside the region, in quanta.
struct Segment {
    axis: WallAxis,
    fixed: i32,
    lo: i32,
    hi: i32,
}

fn bounds(shapes: &IntShapes<i32>) -> Option<(IntPoint<i32>, IntPoint<i32>)> {
    let mut pts = shapes.iter().flatten().flatten();
    let p0 = *pts.next()?;
    let (mut min, mut max) = (p0, p0);
    for p in pts {
        min.x = min.x.min(p.x);
        min.y = min.y.min(p.y);
        max.x = max.x.max(p.x);
        max.y = max.y.max(p.y);
    }
    Some((min, max))
}

/// Clips the grid lines at `fixed` coordinates (spanning `lo..hi` along `axis`) by the region and
/// appends the pieces inside it, sorted and merged.
fn clip_grid_lines(
    clip: &IntShapes<i32>,
    axis: WallAxis,
    fixed: &[i32],
    lo: i32,
    hi: i32,
    out: &mut Vec<Segment>,
) {
    if fixed.is_empty() {
        return;
    }
    let point = |f: i32, u: i32| match axis {
        WallAxis::AlongX => IntPoint::new(u, f),
        WallAxis::AlongY => IntPoint::new(f, u),
    };
    let lines: Vec<[IntPoint<i32>; 2]> = fixed
        .iter()
        .map(|&f| [point(f, lo - 1), point(f, hi + 1)])
        .collect();
    // Walls lying on the region's edge would touch the part's side: leave the boundary out.
    let rule = ClipRule {
        invert: false,
        boundary_included: false,
    };
    let pieces = clip.clip_lines(&lines, FillRule::NonZero, rule);
    let mut found: Vec<Segment> = Vec::with_capacity(pieces.len());
    for path in pieces {
        let (f, u): (Vec<i32>, Vec<i32>) = path
            .iter()
            .map(|p| match axis {
                WallAxis::AlongX => (p.y, p.x),
                WallAxis::AlongY => (p.x, p.y),
            })
            .unzip();
        let Some(&f0) = f.first() else { continue };
        if f.iter().any(|&v| v != f0) {
            continue;
        }
        let (ulo, uhi) = (*u.iter().min().unwrap_or(&0), *u.iter().max().unwrap_or(&0));
        if uhi > ulo {
            found.push(Segment {
                axis,
                fixed: f0,
                lo: ulo,
                hi: uhi,
            });
        }
    }
    // The clipper returns pieces in its own order and may split a line at polygon vertices:
    // sort and merge so the walls come out the same whatever its internals do.
    found.sort_by_key(|s| (s.fixed, s.lo, s.hi));
    let mut merged: Vec<Segment> = Vec::with_capacity(found.len());
    for s in found {
        match merged.last_mut() {
            Some(m) if m.fixed == s.fixed && s.lo <= m.hi => m.hi = m.hi.max(s.hi),
            _ => merged.push(s),
        }
    }
    out.extend(merged);
}

/// What the samples of the walls found, to say why none of them carries a wall.
#[derive(Default)]
struct SampleTally {
    samples: usize,
    no_ceiling: usize,
    resting: usize,
    at_plate: usize,
}

/// Samples the heights along a wall; `None` when no sample has anything to support.
fn sample_wall(
    seg: &Segment,
    opts: &SupportOptions,
    site: &WallSite<'_>,
    tally: &mut SampleTally,
) -> Option<Wall> {
    let lo = seg.lo as f64 * QUANTUM_MM;
    let len = (seg.hi - seg.lo) as f64 * QUANTUM_MM;
    let n = ((len / opts.sample_step_mm).ceil() as usize).max(1);
    let du = len / n as f64;
    let fixed_mm = seg.fixed as f64 * QUANTUM_MM;
    let mut wall = Wall {
        axis: seg.axis,
        fixed_mm,
        u0: lo,
        du,
        top: Vec::with_capacity(n + 1),
        bottom: Vec::with_capacity(n + 1),
        on_part: Vec::with_capacity(n + 1),
        z_lo: f64::INFINITY,
        z_hi: f64::NEG_INFINITY,
    };
    let plate = -site.z_shift;
    for j in 0..=n {
        let u = lo + j as f64 * du;
        let (x, y) = match seg.axis {
            WallAxis::AlongX => (u, fixed_mm),
            WallAxis::AlongY => (fixed_mm, u),
        };
        let (mut top, mut bottom, mut on_part) = (f64::NAN, 0.0, false);
        tally.samples += 1;
        if let Some(ceiling) = site.ceiling.lowest_at(x, y) {
            match site.ground.highest_below(x, y, ceiling + SAME_SURFACE_MM) {
                Some(g) if g >= ceiling - SAME_SURFACE_MM => tally.resting += 1,
                Some(g) if g > plate => {
                    top = ceiling + site.z_shift;
                    bottom = g + site.z_shift;
                    on_part = true;
                }
                _ if ceiling > plate + SAME_SURFACE_MM => {
                    top = ceiling + site.z_shift;
                }
                _ => tally.at_plate += 1,
            }
        } else {
            tally.no_ceiling += 1;
        }
        if top.is_finite() {
            wall.z_lo = wall.z_lo.min(bottom);
            wall.z_hi = wall.z_hi.max(top + opts.teeth.penetration_mm);
        }
        wall.top.push(top);
        wall.bottom.push(bottom);
        wall.on_part.push(on_part);
    }
    wall.z_hi.is_finite().then_some(wall)
}

impl Wall {
    /// The length of the wall, mm.
    pub(crate) fn length_mm(&self) -> f64 {
        self.du * (self.top.len().saturating_sub(1)) as f64
    }

    /// The xy position of the point at `u` along the wall.
    fn point(&self, u: f64) -> [f64; 2] {
        match self.axis {
            WallAxis::AlongX => [u, self.fixed_mm],
            WallAxis::AlongY => [self.fixed_mm, u],
        }
    }

    /// Appends the pieces of this wall present in the layer cut at height `z`.
    pub(crate) fn cut(&self, z: f64, opts: &SupportOptions, out: &mut Vec<SupportPath>) {
        if z < self.z_lo - opts.teeth.penetration_mm || z > self.z_hi {
            return;
        }
        let n = self.top.len();
        let end = self.u0 + self.du * (n - 1) as f64;
        let mut run: Option<usize> = None;
        for j in 0..=n {
            let on = j < n && self.sample_on(j, z, opts);
            match (on, run) {
                (true, None) => run = Some(j),
                (false, Some(first)) => {
                    // Each sample stands for the half step either side of it, kept on the wall.
                    let a = (self.u0 + (first as f64 - 0.5) * self.du).max(self.u0);
                    let b = (self.u0 + (j as f64 - 0.5) * self.du).min(end);
                    if b > a {
                        out.push(SupportPath {
                            points: vec![self.point(a), self.point(b)],
                        });
                    }
                    run = None;
                }
                _ => {}
            }
        }
    }

    /// Whether the wall is solid at sample `j` and height `z`.
    fn sample_on(&self, j: usize, z: f64, opts: &SupportOptions) -> bool {
        let top = self.top[j];
        if !top.is_finite() {
            return false;
        }
        let teeth = &opts.teeth;
        let bottom = self.bottom[j];
        let bottom_teeth = self.on_part[j] && teeth.on_part_below;
        let tip_top = top + teeth.penetration_mm;
        let tip_bottom = if bottom_teeth {
            bottom - teeth.penetration_mm
        } else {
            bottom
        };
        if z < tip_bottom || z > tip_top {
            return false;
        }
        let u = self.u0 + j as f64 * self.du;
        if teeth.height_mm > 0.0 {
            let band_top = top - teeth.height_mm;
            if z > band_top && !in_tooth(u, (tip_top - z) / (tip_top - band_top), opts) {
                return false;
            }
            let band_bottom = bottom + teeth.height_mm;
            if bottom_teeth
                && z < band_bottom
                && !in_tooth(u, (z - tip_bottom) / (band_bottom - tip_bottom), opts)
            {
                return false;
            }
        }
        let holes = &opts.perforation;
        if holes.enabled && holes.hole_width_mm > 0.0 && holes.hole_height_mm > 0.0 {
            let row = (z / holes.row_pitch_mm).floor();
            let row_bottom = row * holes.row_pitch_mm;
            let row_top = row_bottom + holes.hole_height_mm;
            let foot =
                bottom + holes.solid_margin_mm + if bottom_teeth { teeth.height_mm } else { 0.0 };
            let head = top - teeth.height_mm - holes.solid_margin_mm;
            if z < row_top && row_bottom >= foot && row_top <= head {
                // Odd rows shifted by half a spacing: staggered holes keep a load path.
                let shift = if (row as i64).rem_euclid(2) == 1 {
                    0.5 * holes.spacing_mm
                } else {
                    0.0
                };
                let c = ((u - shift) / holes.spacing_mm).floor() + 0.5;
                let centre = c * holes.spacing_mm + shift;
                if (u - centre).abs() < 0.5 * holes.hole_width_mm {
                    return false;
                }
            }
        }
        true
    }
}

/// Whether `u` lies on a tooth at relative depth `f` (0 at the tip, 1 at the tooth's base).
fn in_tooth(u: f64, f: f64, opts: &SupportOptions) -> bool {
    let t = &opts.teeth;
    let f = f.clamp(0.0, 1.0);
    let width = t.top_width_mm + (t.base_width_mm - t.top_width_mm) * f;
    let centre = ((u / t.pitch_mm).floor() + 0.5) * t.pitch_mm;
    (u - centre).abs() <= 0.5 * width
}

#[cfg(test)]
mod tests {
    use nalgebra::Point3;

    use super::*;

    /// A square of side `s` mm with its lower left corner at `(x, y)`, in quanta.
    fn square(x: f64, y: f64, s: f64) -> Vec<Vec<IntPoint<i32>>> {
        let q = |v: f64| (v / QUANTUM_MM).round() as i32;
        vec![vec![
            IntPoint::new(q(x), q(y)),
            IntPoint::new(q(x + s), q(y)),
            IntPoint::new(q(x + s), q(y + s)),
            IntPoint::new(q(x), q(y + s)),
        ]]
    }

    #[test]
    fn pieces_the_grid_and_the_middle_line_both_miss_still_get_walls() {
        // Two 0.3 mm pads at opposite corners of one 1 mm grid cell, as an overhang's inset
        // leaves when it cuts a narrow neck: no grid line and neither middle line meets them.
        let clip: IntShapes<i32> = vec![square(0.1, 0.1, 0.3), square(0.6, 0.6, 0.3)];
        let z = 2.0;
        let ceiling = SurfaceGrid::new(vec![
            [
                Point3::new(0.0, 0.0, z),
                Point3::new(1.0, 0.0, z),
                Point3::new(1.0, 1.0, z),
            ],
            [
                Point3::new(0.0, 0.0, z),
                Point3::new(1.0, 1.0, z),
                Point3::new(0.0, 1.0, z),
            ],
        ]);
        let ground = SurfaceGrid::new(Vec::new());
        let site = WallSite {
            ceiling: &ceiling,
            ground: &ground,
            z_shift: 0.0,
        };
        let walls = build_walls(&clip, &SupportOptions::default(), &site).expect("walls fit");
        let inside = |p: [f64; 2]| {
            [(0.1, 0.1), (0.6, 0.6)].iter().any(|&(x, y)| {
                let e = 1e-9;
                p[0] >= x - e && p[0] <= x + 0.3 + e && p[1] >= y - e && p[1] <= y + 0.3 + e
            })
        };
        for pad in [(0.25, 0.25), (0.75, 0.75)] {
            assert!(
                walls.iter().any(|w| {
                    let mid = w.point(w.u0 + w.length_mm() / 2.0);
                    (mid[0] - pad.0).abs() < 0.15 && (mid[1] - pad.1).abs() < 0.15
                }),
                "a wall under the pad at {pad:?}"
            );
        }
        for w in &walls {
            assert!(inside(w.point(w.u0)) && inside(w.point(w.u0 + w.length_mm())));
            assert!(
                w.top.iter().all(|t| (t - z).abs() < 1e-9),
                "walls reach the overhang"
            );
        }
    }
}
