//! Keeping lasers out of each other's plume: the order of each laser's work in a layer, and
//! what the plan's timing says of it.
//!
//! A machine names the least distance between two lasers marking at the same time
//! ([`MachineConfig::plume_distance_um`](meltline_firmware::machine::MachineConfig)): the
//! plume and spatter of a melt pool, carried by the gas flow, must not cross another laser's
//! beam or land on its melt pool. The plan cannot move a vector, but it can choose the order
//! in which each laser takes its parts in a layer (a part's own blocks keep the job's order):
//!
//! * the layer's work is cut into **units**, one per laser and part (a job without a part
//!   table is one part), each with the box of its vectors and its time on that laser's galvo;
//! * the laser whose clock is earliest takes next one of its units whose box keeps the
//!   distance from every unit the other lasers are exposing meanwhile, choosing the one that
//!   other lasers' remaining work lies nearest to (the longest of it within the distance: it
//!   is best done while they are elsewhere), then the first in job order; when none keeps the
//!   distance, the one overlapping such units for the shortest time;
//! * the plan then times the ordered job exactly, vector by vector on each laser's head, and
//!   reports the least distance between lasers marking at once and the time they were closer
//!   than the rule (`conflict_s`): the rule is checked on what the printer will run, not on the
//!   boxes. With one laser or no rule the job's order is kept.
//!
//! The order is deterministic: ties go to the lower laser index and the earlier unit.

use meltline_firmware::machine::{Galvo, ScanHead};
use meltline_firmware::sim::exposure::to_segment;
use meltline_firmware::sim::report::seconds;
use meltline_firmware::wire::{ParamSet, Segment};
use serde::Serialize;

use super::Block;

/// What the plan's timing says of the plume rule over the job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlumeFigures {
    /// The machine's rule: least distance between lasers marking at once, mm (0: none).
    pub distance_mm: f64,
    /// The least distance between two lasers marking at the same time, mm; `None` when no
    /// two lasers ever mark at once.
    pub min_distance_mm: Option<f64>,
    /// Time two lasers mark closer than the rule, summed over pairs and layers, s.
    pub conflict_s: f64,
    /// Layers where that happens.
    pub conflict_layers: u32,
    /// The least distance had each laser kept the job's order, mm (what the ordering gains).
    pub job_order_min_distance_mm: Option<f64>,
    /// The time closer than the rule had each laser kept the job's order, s.
    pub job_order_conflict_s: f64,
}

impl PlumeFigures {
    /// No time yet under a rule of `distance_mm`.
    pub fn new(distance_mm: f64) -> Self {
        PlumeFigures {
            distance_mm,
            min_distance_mm: None,
            conflict_s: 0.0,
            conflict_layers: 0,
            job_order_min_distance_mm: None,
            job_order_conflict_s: 0.0,
        }
    }

    /// What the log says of it, after "; " (empty without a rule).
    pub fn line(&self) -> String {
        let text = self.text();
        if text.is_empty() {
            text
        } else {
            format!("; {text}")
        }
    }

    /// The figures in words (empty without a rule).
    pub fn text(&self) -> String {
        if self.distance_mm <= 0.0 {
            return String::new();
        }
        let least = self
            .min_distance_mm
            .map_or("never at once".to_string(), |d| format!("{d:.1} mm"));
        format!(
            "lasers marking at once: least {least} apart (rule {:.0} mm), {:.1} s closer in {} layers ({:.1} s in the job's order)",
            self.distance_mm, self.conflict_s, self.conflict_layers, self.job_order_conflict_s
        )
    }
}

/// One laser's work on one part in a layer.
struct Unit {
    laser: usize,
    part: Option<u16>,
    blocks: Vec<usize>,
    bbox: [i64; 4],
    ticks: u64,
}

/// The distance between two boxes (0 when they touch or overlap), quanta.
fn box_distance(a: [i64; 4], b: [i64; 4]) -> f64 {
    let dx = (a[0] - b[2]).max(b[0] - a[2]).max(0) as f64;
    let dy = (a[1] - b[3]).max(b[1] - a[3]).max(0) as f64;
    dx.hypot(dy)
}

/// The order in which the layer's pieces go to their lasers: `(block, laser)` pairs, each
/// laser's in the order it exposes them. `pieces[block][laser]` are the laser's vectors of
/// the block; `galvos` time each laser; `distance_q` is the plume rule in quanta.
pub(super) fn order(
    blocks: &[Block],
    pieces: &[Vec<Vec<Segment>>],
    galvos: &[Galvo],
    quantum_nm: u32,
    distance_q: f64,
) -> Vec<(usize, usize)> {
    let job_order = || {
        pieces
            .iter()
            .enumerate()
            .flat_map(|(bi, per)| {
                per.iter()
                    .enumerate()
                    .filter(|(_, segs)| !segs.is_empty())
                    .map(move |(l, _)| (bi, l))
            })
            .collect::<Vec<_>>()
    };
    if distance_q <= 0.0 || galvos.len() < 2 {
        return job_order();
    }
    let units = units(blocks, pieces, galvos, quantum_nm);
    let busy = units.iter().fold(0u8, |m, u| m | 1 << (u.laser & 7));
    if busy.count_ones() < 2 {
        return job_order();
    }
    let n = galvos.len();
    let mut remaining: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, u) in units.iter().enumerate() {
        remaining[u.laser].push(k);
    }
    let mut clock = vec![0u64; n];
    // (start, end, box, laser) of every unit taken so far.
    let mut taken: Vec<(u64, u64, [i64; 4], usize)> = Vec::with_capacity(units.len());
    let mut out = Vec::new();
    while let Some(l) = (0..n)
        .filter(|&l| !remaining[l].is_empty())
        .min_by_key(|&l| (clock[l], l))
    {
        let t0 = clock[l];
        // (time overlapping near units of other lasers, minus the time of the other lasers'
        // work still to come near it, position): the least wins.
        let mut best = (u64::MAX, i64::MAX, 0);
        for (k, &u) in remaining[l].iter().enumerate() {
            let t1 = t0 + units[u].ticks;
            let near = |b: [i64; 4]| box_distance(b, units[u].bbox) < distance_q;
            let overlap: u64 = taken
                .iter()
                .filter(|d| d.3 != l && d.0 < t1.max(t0 + 1) && d.1 > t0 && near(d.2))
                .map(|d| d.1.min(t1).saturating_sub(d.0.max(t0)).max(1))
                .sum();
            // A unit other lasers will want to work beside is best done while they are
            // elsewhere.
            let contested: u64 = if overlap == 0 {
                remaining
                    .iter()
                    .enumerate()
                    .filter(|(o, _)| *o != l)
                    .flat_map(|(_, r)| r.iter())
                    .filter(|&&v| near(units[v].bbox))
                    .map(|&v| units[v].ticks.max(1))
                    .sum()
            } else {
                0
            };
            let key = (overlap, -(i64::try_from(contested).unwrap_or(i64::MAX)), k);
            if key < best {
                best = key;
            }
        }
        let u = remaining[l].remove(best.2);
        let unit = &units[u];
        taken.push((t0, t0 + unit.ticks, unit.bbox, l));
        clock[l] += unit.ticks;
        out.extend(unit.blocks.iter().map(|&bi| (bi, l)));
    }
    out
}

/// The layer's units: per laser, per part in order of first appearance.
fn units(
    blocks: &[Block],
    pieces: &[Vec<Vec<Segment>>],
    galvos: &[Galvo],
    quantum_nm: u32,
) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    let mut heads: Vec<ScanHead> = Vec::new();
    for (bi, (b, per)) in blocks.iter().zip(pieces).enumerate() {
        for (l, segs) in per.iter().enumerate() {
            if segs.is_empty() {
                continue;
            }
            let k = match units.iter().position(|u| u.laser == l && u.part == b.part) {
                Some(k) => k,
                None => {
                    units.push(Unit {
                        laser: l,
                        part: b.part,
                        blocks: Vec::new(),
                        bbox: [i64::MAX, i64::MAX, i64::MIN, i64::MIN],
                        ticks: 0,
                    });
                    heads.push(ScanHead::new(
                        galvos.get(l).copied().unwrap_or_default(),
                        quantum_nm,
                    ));
                    units.len() - 1
                }
            };
            let u = &mut units[k];
            u.blocks.push(bi);
            for s in segs {
                heads[k].mark(s, &b.param);
                for p in [s.from, s.to] {
                    let (x, y) = (i64::from(p.x), i64::from(p.y));
                    u.bbox = [
                        u.bbox[0].min(x),
                        u.bbox[1].min(y),
                        u.bbox[2].max(x),
                        u.bbox[3].max(y),
                    ];
                }
            }
        }
    }
    for (u, h) in units.iter_mut().zip(&mut heads) {
        u.ticks = h.finish_layer().exposure_ticks();
    }
    units
}

/// One mark of a laser in its layer: when its beam is on (ticks from the layer's start) and
/// where.
type Mark = (u64, u64, Segment);

/// The clock of a head in its layer, ticks.
fn clock(h: &ScanHead) -> u64 {
    h.timing.mark_ticks + h.timing.jump_ticks + h.timing.delay_ticks
}

/// Marks `segs` on `head`, noting each mark's time in `marks` when given.
fn mark_noted(
    head: &mut ScanHead,
    segs: &[Segment],
    param: &ParamSet,
    mut marks: Option<&mut Vec<Mark>>,
) {
    for s in segs {
        let before = head.timing.mark_ticks;
        head.mark(s, param);
        if let Some(m) = marks.as_deref_mut() {
            let t = clock(head);
            m.push((t - (head.timing.mark_ticks - before), t, *s));
        }
    }
}

/// The plan's account of the rule as it times each layer: every laser's marks in the planned
/// order, and the same layer timed again in the job's own order.
pub(super) struct Timing {
    distance_q: f64,
    marks: Vec<Vec<Mark>>,
    job_marks: Vec<Vec<Mark>>,
    job_heads: Vec<ScanHead>,
}

impl Timing {
    /// For lasers with `galvos` under a rule of `distance_q` quanta (nothing is noted with
    /// one laser or no rule).
    pub(super) fn new(galvos: &[Galvo], quantum_nm: u32, distance_q: f64) -> Timing {
        let on = distance_q > 0.0 && galvos.len() > 1;
        let n = if on { galvos.len() } else { 0 };
        Timing {
            distance_q,
            marks: vec![Vec::new(); n],
            job_marks: vec![Vec::new(); n],
            job_heads: galvos
                .iter()
                .take(n)
                .map(|g| ScanHead::new(*g, quantum_nm))
                .collect(),
        }
    }

    /// A new layer.
    pub(super) fn start_layer(&mut self) {
        self.marks.iter_mut().for_each(Vec::clear);
    }

    /// Laser `laser` marks `segs` on its `head`, in the planned order.
    pub(super) fn mark(
        &mut self,
        laser: usize,
        head: &mut ScanHead,
        segs: &[Segment],
        param: &ParamSet,
    ) {
        mark_noted(head, segs, param, self.marks.get_mut(laser));
    }

    /// Ends the layer: times it again in the job's order and adds both to `figures`.
    pub(super) fn end_layer(
        &mut self,
        blocks: &[Block],
        pieces: &[Vec<Vec<Segment>>],
        quantum_mm: f64,
        figures: &mut PlumeFigures,
    ) {
        if self.marks.is_empty() {
            return;
        }
        self.job_marks.iter_mut().for_each(Vec::clear);
        for (b, per) in blocks.iter().zip(pieces) {
            for ((head, m), segs) in self.job_heads.iter_mut().zip(&mut self.job_marks).zip(per) {
                mark_noted(head, segs, &b.param, Some(m));
            }
        }
        for h in &mut self.job_heads {
            h.finish_layer();
        }
        figures.add(
            measure(&self.marks, self.distance_q),
            measure(&self.job_marks, self.distance_q),
            quantum_mm,
        );
    }
}

/// The least distance between two segments, quanta.
fn segment_distance(a: &Segment, b: &Segment) -> f64 {
    let p = |s: &Segment| {
        (
            [f64::from(s.from.x), f64::from(s.from.y)],
            [f64::from(s.to.x), f64::from(s.to.y)],
        )
    };
    let ((a0, a1), (b0, b1)) = (p(a), p(b));
    let cross = |o: [f64; 2], u: [f64; 2], v: [f64; 2]| {
        (u[0] - o[0]) * (v[1] - o[1]) - (u[1] - o[1]) * (v[0] - o[0])
    };
    let (d1, d2) = (cross(a0, a1, b0), cross(a0, a1, b1));
    let (d3, d4) = (cross(b0, b1, a0), cross(b0, b1, a1));
    if d1 * d2 < 0.0 && d3 * d4 < 0.0 {
        return 0.0;
    }
    to_segment(a0, b0, b1)
        .min(to_segment(a1, b0, b1))
        .min(to_segment(b0, a0, a1))
        .min(to_segment(b1, a0, a1))
}

/// One layer's marks (per laser, in time order) against the rule of `distance_q` quanta:
/// the least distance of lasers marking at once (quanta; `None` if they never do) and the
/// time they are closer than the rule, ticks.
pub(super) fn measure(marks: &[Vec<Mark>], distance_q: f64) -> (Option<f64>, u64) {
    let mut least: Option<f64> = None;
    let mut conflict = 0u64;
    for a in 0..marks.len() {
        for b in a + 1..marks.len() {
            let (ma, mb) = (&marks[a], &marks[b]);
            let (mut i, mut j) = (0, 0);
            while i < ma.len() && j < mb.len() {
                let (x, y) = (&ma[i], &mb[j]);
                let (t0, t1) = (x.0.max(y.0), x.1.min(y.1));
                if t0 < t1 {
                    let d = segment_distance(&x.2, &y.2);
                    least = Some(least.map_or(d, |m| m.min(d)));
                    if d < distance_q {
                        conflict += t1 - t0;
                    }
                }
                if x.1 <= y.1 {
                    i += 1;
                } else {
                    j += 1;
                }
            }
        }
    }
    (least, conflict)
}

impl PlumeFigures {
    /// Adds a layer measured by [`measure`] in the planned order (`planned`) and in the job's
    /// own order (`job_order`).
    pub(super) fn add(
        &mut self,
        planned: (Option<f64>, u64),
        job_order: (Option<f64>, u64),
        quantum_mm: f64,
    ) {
        let least = |acc: Option<f64>, d: Option<f64>| match (acc, d.map(|d| d * quantum_mm)) {
            (Some(a), Some(d)) => Some(a.min(d)),
            (a, d) => a.or(d),
        };
        self.min_distance_mm = least(self.min_distance_mm, planned.0);
        if planned.1 > 0 {
            self.conflict_s += seconds(planned.1);
            self.conflict_layers += 1;
        }
        self.job_order_min_distance_mm = least(self.job_order_min_distance_mm, job_order.0);
        self.job_order_conflict_s += seconds(job_order.1);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use meltline_firmware::wire::{Coding, Point, Region, VectorKind};

    fn seg(x0: i32, y0: i32, x1: i32, y1: i32) -> Segment {
        Segment {
            from: Point { x: x0, y: y0 },
            to: Point { x: x1, y: y1 },
            chained: false,
        }
    }

    fn block(part: u16) -> Block {
        Block {
            part: Some(part),
            param: ParamSet {
                id: 1,
                power_mw: 200_000,
                mark_speed_mm_s: 1000,
                hatch_distance_um: 100,
                spot_um: 80,
                skywriting: false,
            },
            kind: VectorKind::Hatch,
            region: Region::Core,
            coding: Coding::Hatches,
            segments: Vec::new(),
        }
    }

    /// A square of hatches `size` µm wide at (x, y) µm, quantum 1 µm.
    fn patch(x: i32, y: i32, size: i32) -> Vec<Segment> {
        (0..size / 100)
            .map(|k| seg(x, y + k * 100, x + size, y + k * 100))
            .collect()
    }

    #[test]
    fn segments_crossing_are_at_distance_zero_and_parallel_ones_at_their_gap() {
        assert_eq!(
            segment_distance(&seg(0, 0, 10, 10), &seg(0, 10, 10, 0)),
            0.0
        );
        assert_eq!(segment_distance(&seg(0, 0, 10, 0), &seg(0, 7, 10, 7)), 7.0);
        assert_eq!(segment_distance(&seg(0, 0, 10, 0), &seg(13, 4, 20, 4)), 5.0);
    }

    #[test]
    fn the_second_laser_takes_first_the_part_away_from_where_the_first_laser_works() {
        // Parts 0 and 1 on laser 0 (left), 2 and 3 on laser 1 (right); part 2 is next to
        // part 0, part 3 far away. In job order laser 1 would start on part 2 beside laser 0.
        let blocks: Vec<Block> = (0..4).map(block).collect();
        let at = [
            (-30_000, 0),
            (-30_000, 60_000),
            (-20_000, 0),
            (40_000, 60_000),
        ];
        let pieces: Vec<Vec<Vec<Segment>>> = at
            .iter()
            .enumerate()
            .map(|(p, &(x, y))| {
                let mut per = vec![Vec::new(), Vec::new()];
                per[usize::from(p >= 2)] = patch(x, y, 5000);
                per
            })
            .collect();
        let galvos = [Galvo::default(); 2];
        let o = order(&blocks, &pieces, &galvos, 1000, 20_000.0);
        let laser1: Vec<usize> = o.iter().filter(|(_, l)| *l == 1).map(|(b, _)| *b).collect();
        assert_eq!(laser1, vec![3, 2], "laser 1 starts away from laser 0");
        let laser0: Vec<usize> = o.iter().filter(|(_, l)| *l == 0).map(|(b, _)| *b).collect();
        assert_eq!(laser0, vec![0, 1], "laser 0 keeps its order");
        // Without the rule the job's order stays.
        let kept = order(&blocks, &pieces, &galvos, 1000, 0.0);
        assert_eq!(kept, vec![(0, 0), (1, 0), (2, 1), (3, 1)]);
    }

    #[test]
    fn marks_closer_than_the_rule_at_the_same_time_count_as_conflict_and_apart_they_do_not() {
        let near = vec![
            vec![(0, 100, seg(0, 0, 1000, 0))],
            vec![(50, 150, seg(0, 5000, 1000, 5000))],
        ];
        assert_eq!(measure(&near, 20_000.0), (Some(5000.0), 50));
        // The same marks one after the other: never at once, no conflict.
        let apart = vec![
            vec![(0, 100, seg(0, 0, 1000, 0))],
            vec![(100, 200, seg(0, 5000, 1000, 5000))],
        ];
        assert_eq!(measure(&apart, 20_000.0), (None, 0));
        let mut f = PlumeFigures::new(20.0);
        f.add(measure(&apart, 20_000.0), measure(&near, 20_000.0), 0.001);
        assert_eq!(
            (f.min_distance_mm, f.conflict_s, f.conflict_layers),
            (None, 0.0, 0)
        );
        assert_eq!(f.job_order_min_distance_mm, Some(5.0));
        assert!((f.job_order_conflict_s - seconds(50)).abs() < 1e-12);
    }
}
