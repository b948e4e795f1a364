//! Multi-laser planning: which laser of a machine exposes each vector of a verified job, and
//! the exposure time that gives on the machine's timing model.
//!
//! * **by-part**: whole parts go to lasers whose field holds the part's declared footprint,
//!   longest exposure first, each to the laser with the least exposure so far (ties: the lower
//!   index). A job without a part table is one part spanning all its vectors.
//! * **by-region**: the fields must form a grid (columns and rows of equal edges, each pair of
//!   neighbours overlapping). Each layer has one seam per neighbouring pair of columns (and
//!   rows), inside their overlap, moved from layer to layer by the golden ratio so that seams
//!   of successive layers never stack. A vector wholly on one side of a seam goes to that side;
//!   a vector crossing it is cut there, and each piece reaches `overlap / 2` past the seam along
//!   the vector, so the two lasers' tracks overlap by `overlap` and leave no gap. Every piece
//!   stays inside its laser's field: a seam keeps `overlap / 2` from the ends of the overlap.
//!
//! Each laser's vectors keep the job's order and are timed with its own galvo on a
//! [`ScanHead`]; a layer takes as long as its slowest laser (plus recoating), and the job's
//! exposure time is the sum over layers of the slowest laser's marks, jumps and delays.
//!
//! Lasers marking at once are kept out of each other's plume by the order in which each laser
//! takes its parts in a layer, against the machine's `plume_distance_um` (see [`plume`]); the
//! plan times the ordered job vector by vector and reports how close the lasers came.

use meltline_firmware::lasers::Laser;
use meltline_firmware::limits::{check_laser_point, laser_field_quanta};
use meltline_firmware::machine::{LayerTiming, MachineConfig, ScanHead};
use meltline_firmware::sim::report::seconds;
use meltline_firmware::wire::{Coding, MAX_FRAME, ParamSet, Point, Region, Segment, VectorKind};
use serde::{Deserialize, Serialize};

use meltline_firmware::job::decode_wire;

use crate::jobfile::JobFile;

/// How vectors are shared between lasers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Assignment {
    /// Whole parts to lasers, balanced over the build.
    ByPart,
    /// Seams inside the fields' overlaps, moving per layer; parts straddling them are split.
    #[default]
    ByRegion,
}

/// The least and greatest stitching overlap at a seam, mm.
pub const OVERLAP_RANGE_MM: [f64; 2] = [0.1, 0.5];

/// The stitching overlap unless one is named, mm.
pub const DEFAULT_OVERLAP_MM: f64 = 0.2;

/// What a plate report (and a script) reads of a plan: its totals and each laser's share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanSummary {
    /// The machine planned on.
    pub machine: String,
    /// The strategy.
    pub assignment: Assignment,
    /// The stitching overlap at seams, mm.
    pub overlap_mm: f64,
    /// Sum over layers of the slowest laser's exposure, s.
    pub exposure_s: f64,
    /// The same job on the machine's first laser alone, s.
    pub single_laser_exposure_s: f64,
    /// `exposure_s` over `single_laser_exposure_s`.
    pub exposure_ratio: f64,
    /// Exposure plus recoating of every layer, s.
    pub build_time_s: f64,
    /// The worst layer's slowest laser over the mean.
    pub worst_balance: f64,
    /// The layer balance weighted by each layer's slowest exposure.
    pub weighted_balance: f64,
    /// Each laser's share.
    pub lasers: Vec<LaserShare>,
    /// The laser of each part, by-part.
    pub part_lasers: Vec<usize>,
    /// Each part's vectors on each laser (index = part, then laser; a job without a part
    /// table is one part).
    pub part_vectors: Vec<Vec<u64>>,
    /// Lasers marking at once against the machine's plume distance.
    pub plume: plume::PlumeFigures,
}

/// Why a job cannot be planned on a machine's lasers.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    /// The stitching overlap is outside its range.
    #[error("laser overlap {0} mm is outside 0.1–0.5 mm")]
    Overlap(f64),
    /// No laser's field holds a part whole (by-part).
    #[error(
        "part {part}: no laser's field holds its footprint ({x0:.1}, {y0:.1}) – ({x1:.1}, {y1:.1}) mm; by-region splits it"
    )]
    PartOutOfReach {
        /// The part's serial (or "the job" without a part table).
        part: String,
        /// Its box, mm.
        x0: f64,
        /// Its box, mm.
        y0: f64,
        /// Its box, mm.
        x1: f64,
        /// Its box, mm.
        y1: f64,
    },
    /// The fields do not form a grid with overlapping neighbours (by-region).
    #[error("by-region needs the lasers' fields on a grid with overlapping neighbours: {0}")]
    NotAGrid(String),
    /// A vector given to a laser lies outside its field (the controller would refuse it).
    #[error(
        "layer {layer}: a vector for laser {laser} reaches ({x_mm:.3}, {y_mm:.3}) mm, outside its field"
    )]
    OutsideField {
        /// The laser.
        laser: usize,
        /// The layer.
        layer: u32,
        /// The point outside, mm.
        x_mm: f64,
        /// The point outside, mm.
        y_mm: f64,
    },
    /// A frame of the job could not be decoded again.
    #[error("frame {0} of the job could not be decoded")]
    Frame(usize),
}

/// One laser's share of the job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LaserShare {
    /// The laser's index on the machine.
    pub index: usize,
    /// Vectors (segments) it marks, pieces of cut vectors counted each.
    pub vectors: u64,
    /// Its marks, jumps and delays over the job, s.
    pub exposure_s: f64,
    /// Marked length, mm.
    pub mark_length_mm: f64,
}

/// One layer's balance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerShare {
    /// Layer index.
    pub layer: u32,
    /// Each laser's exposure in the layer, s.
    pub exposure_s: Vec<f64>,
    /// Where the seams lie (x of the column seams, then y of the row seams), mm; by-region.
    pub seams_mm: Vec<f64>,
}

impl LayerShare {
    /// The slowest laser's exposure, s.
    pub fn slowest_s(&self) -> f64 {
        self.exposure_s.iter().copied().fold(0.0, f64::max)
    }

    /// The slowest laser over the mean of all lasers (1 when perfectly balanced); `None` for
    /// a layer with nothing to expose.
    pub fn balance(&self) -> Option<f64> {
        let n = self.exposure_s.len().max(1) as f64;
        let mean = self.exposure_s.iter().sum::<f64>() / n;
        (mean > 0.0).then(|| self.slowest_s() / mean)
    }
}

/// A job planned on a machine's lasers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LaserPlan {
    /// The machine planned on.
    pub machine: String,
    /// The strategy.
    pub assignment: Assignment,
    /// The stitching overlap at seams, mm.
    pub overlap_mm: f64,
    /// Sum over layers of the slowest laser's exposure, s.
    pub exposure_s: f64,
    /// The same job on the machine's first laser alone, s.
    pub single_laser_exposure_s: f64,
    /// Build time: exposure plus recoating of every layer, s.
    pub build_time_s: f64,
    /// Each laser's share.
    pub lasers: Vec<LaserShare>,
    /// The laser of each part (index in the part table), by-part.
    pub part_lasers: Vec<usize>,
    /// Per-layer exposure of each laser.
    pub layers: Vec<LayerShare>,
    /// Each part's vectors on each laser (index = part, then laser).
    pub part_vectors: Vec<Vec<u64>>,
    /// Lasers marking at once against the machine's plume distance.
    pub plume: plume::PlumeFigures,
}

impl LaserPlan {
    /// Nothing planned yet on `machine`'s lasers.
    fn empty(machine: &MachineConfig, assignment: Assignment, overlap_mm: f64) -> LaserPlan {
        LaserPlan {
            machine: machine.machine.to_string(),
            assignment,
            overlap_mm,
            exposure_s: 0.0,
            single_laser_exposure_s: 0.0,
            build_time_s: 0.0,
            lasers: (0..machine.laser_count())
                .map(|index| LaserShare {
                    index,
                    vectors: 0,
                    exposure_s: 0.0,
                    mark_length_mm: 0.0,
                })
                .collect(),
            part_lasers: Vec::new(),
            layers: Vec::new(),
            part_vectors: Vec::new(),
            plume: plume::PlumeFigures::new(f64::from(machine.plume_distance_um) * 1e-3),
        }
    }

    /// The totals and shares without the per-layer figures.
    pub fn summary(&self) -> PlanSummary {
        PlanSummary {
            machine: self.machine.clone(),
            assignment: self.assignment,
            overlap_mm: self.overlap_mm,
            exposure_s: self.exposure_s,
            single_laser_exposure_s: self.single_laser_exposure_s,
            exposure_ratio: self.exposure_s / self.single_laser_exposure_s.max(1e-9),
            build_time_s: self.build_time_s,
            worst_balance: self.worst_balance(),
            weighted_balance: self.weighted_balance(),
            lasers: self.lasers.clone(),
            part_lasers: self.part_lasers.clone(),
            part_vectors: self.part_vectors.clone(),
            plume: self.plume.clone(),
        }
    }

    /// The worst layer balance (slowest laser over the mean), over layers with work.
    pub fn worst_balance(&self) -> f64 {
        self.layers
            .iter()
            .filter_map(LayerShare::balance)
            .fold(1.0, f64::max)
    }

    /// The mean layer balance, weighted by each layer's slowest exposure (what the build
    /// waits for).
    pub fn weighted_balance(&self) -> f64 {
        let (mut num, mut den) = (0.0, 0.0);
        for l in &self.layers {
            if let Some(b) = l.balance() {
                num += b * l.slowest_s();
                den += l.slowest_s();
            }
        }
        if den > 0.0 { num / den } else { 1.0 }
    }
}

/// One block of a layer as the planner sees it.
pub struct Block {
    /// The part it belongs to.
    pub part: Option<u16>,
    /// Its parameter set.
    pub param: ParamSet,
    /// What its vectors are.
    pub kind: VectorKind,
    /// Their region.
    pub region: Region,
    /// How they were coded.
    pub coding: Coding,
    /// The vectors, in order.
    pub segments: Vec<Segment>,
}

/// What the planner hands a caller as it goes (see [`plan_with`]).
pub enum PlanStep<'a> {
    /// One block of the layer and each laser's pieces of it (index = laser), in order.
    Block {
        /// The layer.
        layer: u32,
        /// The block as the job holds it.
        block: &'a Block,
        /// Each laser's pieces of its vectors.
        pieces: &'a [Vec<Segment>],
    },
    /// The layer is planned.
    LayerEnd {
        /// The layer.
        layer: u32,
    },
}

/// The job's layers, decoded again one at a time.
fn for_each_layer(
    job: &JobFile,
    mut f: impl FnMut(u32, &[Block]) -> Result<(), PlanError>,
) -> Result<(), PlanError> {
    let mut scratch = Vec::with_capacity(MAX_FRAME);
    let mut blocks = Vec::new();
    for info in &job.layers {
        blocks.clear();
        let first = info.first_frame as usize;
        for (k, wire) in job
            .frames
            .iter()
            .enumerate()
            .skip(first)
            .take(info.frames as usize)
        {
            let frame = decode_wire(wire, &mut scratch).map_err(|_| PlanError::Frame(k))?;
            if let Some((part, b)) = frame.msg.block() {
                let Some(param) = job.param_sets.iter().find(|p| p.id == b.param_set) else {
                    return Err(PlanError::Frame(k));
                };
                let segments = b
                    .segments()
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| PlanError::Frame(k))?;
                blocks.push(Block {
                    part,
                    param: *param,
                    kind: b.kind,
                    region: b.region,
                    coding: b.coding,
                    segments,
                });
            }
        }
        f(info.layer, &blocks)?;
    }
    Ok(())
}

impl PlanSummary {
    /// One line for the log.
    pub fn line(&self) -> String {
        format!(
            "planned on {} lasers ({:?}): exposure {:.0} s against {:.0} s on one laser ({:.3}), layer balance {:.3} weighted ({:.3} worst), build time {:.0} s",
            self.lasers.len(),
            self.assignment,
            self.exposure_s,
            self.single_laser_exposure_s,
            self.exposure_ratio,
            self.weighted_balance,
            self.worst_balance,
            self.build_time_s
        ) + &self.plume.line()
    }
}

/// The plan of `job` on `machine`'s lasers.
pub fn plan(
    job: &JobFile,
    machine: &MachineConfig,
    assignment: Assignment,
    overlap_mm: f64,
) -> Result<LaserPlan, PlanError> {
    plan_with(job, machine, assignment, overlap_mm, &mut |_| Ok(()))
}

/// [`plan`], handing `sink` every block with each laser's pieces and every layer's end as
/// they are planned (what writing the assigned job needs).
pub fn plan_with(
    job: &JobFile,
    machine: &MachineConfig,
    assignment: Assignment,
    overlap_mm: f64,
    sink: &mut dyn FnMut(PlanStep<'_>) -> Result<(), PlanError>,
) -> Result<LaserPlan, PlanError> {
    plan_scoped(
        job,
        machine,
        assignment,
        overlap_mm,
        &Scope::default(),
        sink,
    )
}

/// What a plan may use: after a laser failed, the lasers still up and the parts left out.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Lasers that are down (bit per index): given nothing.
    pub down: u8,
    /// Per part, whether it is left out (its blocks are given to no laser).
    pub skip: Vec<bool>,
}

/// [`plan_with`] within `scope`. With a laser down the plan is by part over the others (a
/// seam grid needs every laser of its grid), whatever `assignment` says.
pub fn plan_scoped(
    job: &JobFile,
    machine: &MachineConfig,
    assignment: Assignment,
    overlap_mm: f64,
    scope: &Scope,
    sink: &mut dyn FnMut(PlanStep<'_>) -> Result<(), PlanError>,
) -> Result<LaserPlan, PlanError> {
    if !(OVERLAP_RANGE_MM[0]..=OVERLAP_RANGE_MM[1]).contains(&overlap_mm) {
        return Err(PlanError::Overlap(overlap_mm));
    }
    // With a laser down, by part over the others.
    let assignment = [assignment, Assignment::ByPart][usize::from(scope.down != 0)];
    let lasers: Vec<Laser> = machine.all_lasers().collect();
    let q_per_um = 1000.0 / f64::from(job.quantum_nm.max(1));
    let overlap_q = overlap_mm * 1000.0 * q_per_um;
    let mut out = LaserPlan::empty(machine, assignment, overlap_mm);
    out.part_vectors = vec![vec![0; lasers.len()]; job.parts.len().max(1)];
    let grid = strategy(
        job,
        &lasers,
        assignment,
        (q_per_um, overlap_q),
        scope,
        &mut out,
    )?;
    let mut heads: Vec<ScanHead> = lasers
        .iter()
        .map(|l| ScanHead::new(l.galvo, job.quantum_nm))
        .collect();
    // The first laser: what one laser alone would take, and the timing seams balance by.
    let lead = lasers.first().map_or(machine.galvo, |l| l.galvo);
    let mut alone = ScanHead::new(lead, job.quantum_nm);
    let recoat_s = seconds(meltline_firmware::machine::recoat_ticks(machine));
    let mut layer_pieces: Vec<Vec<Vec<Segment>>> = Vec::new();
    // One laser's pieces of a block at a time, as the sink sees them.
    let mut one: Vec<Vec<Segment>> = vec![Vec::new(); lasers.len()];
    let galvos: Vec<meltline_firmware::machine::Galvo> = lasers.iter().map(|l| l.galvo).collect();
    let plume_q = f64::from(machine.plume_distance_um) * q_per_um;
    let mut timing = plume::Timing::new(&galvos, job.quantum_nm, plume_q);
    let mut loads = Vec::new();
    let mut last_seams: Vec<Seam> = Vec::new();
    let mut scratch = SplitScratch::default();
    let quantum_mm = f64::from(job.quantum_nm) * 1e-6;
    for_each_layer(job, |layer, blocks| {
        let seams = match &grid {
            Some(g) => {
                layer_loads(&mut loads, blocks, &lead, quantum_mm, 1000.0 * q_per_um);
                let um = 1000.0 * q_per_um;
                let (jitter, min_move) = (JITTER_MM * um, MIN_MOVE_MM * um);
                last_seams = g.seams(layer, &loads, overlap_q, jitter, &last_seams, min_move);
                last_seams.clone()
            }
            None => Vec::new(),
        };
        for b in blocks {
            for s in &b.segments {
                alone.mark(s, &b.param);
            }
        }
        split_layer(
            blocks,
            &mut layer_pieces,
            (grid.as_ref(), &seams, overlap_q, &out.part_lasers),
            &mut scratch,
            (machine, job.quantum_nm, layer),
        )?;
        // Each laser's work in the order that keeps lasers marking at once out of each
        // other's plume; timed vector by vector as the printer will run it.
        let order = plume::order(blocks, &layer_pieces, &galvos, job.quantum_nm, plume_q);
        timing.start_layer();
        for (bi, l) in order {
            let (Some(b), Some(pieces)) = (blocks.get(bi), layer_pieces.get_mut(bi)) else {
                continue;
            };
            let (Some(segs), Some(slot)) = (pieces.get_mut(l), one.get_mut(l)) else {
                continue;
            };
            std::mem::swap(segs, slot);
            let handed = sink(PlanStep::Block {
                layer,
                block: b,
                pieces: &one,
            });
            if let (Some(head), Some(share)) = (heads.get_mut(l), out.lasers.get_mut(l)) {
                share.vectors += one[l].len() as u64;
                let p = b.part.map_or(0, usize::from);
                if let Some(n) = out.part_vectors.get_mut(p).and_then(|v| v.get_mut(l)) {
                    *n += one[l].len() as u64;
                }
                timing.mark(l, head, &one[l], &b.param);
            }
            std::mem::swap(&mut pieces[l], &mut one[l]);
            handed?;
        }
        timing.end_layer(blocks, &layer_pieces, quantum_mm, &mut out.plume);
        let exposure = close_layer(&mut heads, &mut out.lasers);
        let a = alone.finish_layer();
        out.single_laser_exposure_s += seconds(a.mark_ticks + a.jump_ticks + a.delay_ticks);
        let seams_mm = seams.iter().map(|&(_, _, v)| v / q_per_um / 1000.0);
        let share = LayerShare {
            layer,
            exposure_s: exposure,
            seams_mm: seams_mm.collect(),
        };
        out.exposure_s += share.slowest_s();
        out.build_time_s += share.slowest_s() + recoat_s;
        out.layers.push(share);
        sink(PlanStep::LayerEnd { layer })
    })?;
    Ok(out)
}

/// Each block's pieces per laser (`pieces[block][laser]`), by the seam grid and its seams or
/// by each part's laser, checked against the fields before anything is handed on.
fn split_layer(
    blocks: &[Block],
    pieces: &mut Vec<Vec<Vec<Segment>>>,
    (grid, seams, overlap_q, part_lasers): (Option<&Grid>, &[Seam], f64, &[usize]),
    scratch: &mut SplitScratch,
    (machine, quantum_nm, layer): (&MachineConfig, u32, u32),
) -> Result<(), PlanError> {
    let n = machine.laser_count();
    pieces.truncate(blocks.len());
    pieces.resize_with(blocks.len(), Vec::new);
    for (b, per) in blocks.iter().zip(pieces.iter_mut()) {
        per.resize_with(n, Vec::new);
        for p in per.iter_mut() {
            p.clear();
        }
        match grid {
            Some(g) => {
                for s in &b.segments {
                    g.split(s, seams, overlap_q, scratch, per);
                }
            }
            None => {
                if let Some(p) = per.get_mut(part_laser(part_lasers, b.part)) {
                    p.extend_from_slice(&b.segments);
                }
            }
        }
        check_fields(per, machine, quantum_nm, &b.param, layer)?;
    }
    Ok(())
}

/// The seam grid (by-region) or each part's laser (by-part, into `out`).
fn strategy(
    job: &JobFile,
    lasers: &[Laser],
    assignment: Assignment,
    (q_per_um, overlap_q): (f64, f64),
    scope: &Scope,
    out: &mut LaserPlan,
) -> Result<Option<Grid>, PlanError> {
    let fields_q: Vec<[i64; 4]> = lasers
        .iter()
        .map(|l| l.field_um.map(|v| (f64::from(v) * q_per_um).round() as i64))
        .collect();
    Ok(match assignment {
        Assignment::ByRegion => Some(Grid::of(&fields_q, overlap_q)?),
        Assignment::ByPart if lasers.len() == 1 => {
            out.part_lasers = vec![0; job.parts.len().max(1)];
            None
        }
        Assignment::ByPart => {
            out.part_lasers = assign_parts(job, lasers, &fields_q, scope)?;
            None
        }
    })
}

/// The laser of a block's part (by-part); a job without parts is its one part.
fn part_laser(part_lasers: &[usize], part: Option<u16>) -> usize {
    part.and_then(|p| part_lasers.get(usize::from(p)).copied())
        .or_else(|| part_lasers.first().copied())
        .unwrap_or(0)
}

/// Refuses a piece given to a laser whose melt track would leave that laser's field (the
/// controller's `OutsideLaserField`, [`meltline_firmware::limits::laser_field_quanta`]).
fn check_fields(
    pieces: &[Vec<Segment>],
    machine: &MachineConfig,
    quantum_nm: u32,
    param: &ParamSet,
    layer: u32,
) -> Result<(), PlanError> {
    for (laser, segs) in pieces.iter().enumerate() {
        if segs.is_empty() {
            continue;
        }
        let field = u8::try_from(laser)
            .ok()
            .and_then(|l| laser_field_quanta(machine, l, quantum_nm, param.spot_um))
            .unwrap_or([1, 1, 0, 0]);
        let reaches = |p: Point| check_laser_point(field, p.x, p.y).is_ok();
        if let Some(s) = segs.iter().find(|s| !reaches(s.from) || !reaches(s.to)) {
            let p = if reaches(s.from) { s.to } else { s.from };
            let mm = |v: i32| f64::from(v) * f64::from(quantum_nm) * 1e-6;
            return Err(PlanError::OutsideField {
                laser,
                layer,
                x_mm: mm(p.x),
                y_mm: mm(p.y),
            });
        }
    }
    Ok(())
}

/// Closes the layer on every laser's head, adds it to their shares and returns each one's
/// exposure in the layer, s.
fn close_layer(heads: &mut [ScanHead], shares: &mut [LaserShare]) -> Vec<f64> {
    heads
        .iter_mut()
        .zip(shares)
        .map(|(head, share)| {
            let t: LayerTiming = head.finish_layer();
            let e = seconds(t.mark_ticks + t.jump_ticks + t.delay_ticks);
            share.exposure_s += e;
            share.mark_length_mm += t.mark_length_nm as f64 * 1e-6;
            e
        })
        .collect()
}

/// The work of a layer's blocks as points and weights (see [`push_loads`]), in `loads`.
fn layer_loads(
    loads: &mut Vec<([f64; 2], f64)>,
    blocks: &[Block],
    lead: &meltline_firmware::machine::Galvo,
    quantum_mm: f64,
    step_q: f64,
) {
    loads.clear();
    for b in blocks {
        for s in &b.segments {
            push_loads(loads, s, &b.param, lead, quantum_mm, step_q);
        }
    }
}

/// Adds where a vector is and roughly how long it takes (µs: its mark at its speed, and the
/// delays of a new mark chain or a corner) to `loads`, as points every `step_q` along it each
/// with its share, so that a long vector weighs on each side of a seam as much as lies there.
fn push_loads(
    loads: &mut Vec<([f64; 2], f64)>,
    s: &Segment,
    p: &ParamSet,
    g: &meltline_firmware::machine::Galvo,
    quantum_mm: f64,
    step_q: f64,
) {
    let (a, b) = (s.from, s.to);
    let (dx, dy) = (f64::from(b.x - a.x), f64::from(b.y - a.y));
    let len = dx.hypot(dy);
    let delays = if s.chained {
        f64::from(g.polygon_delay_us)
    } else {
        f64::from(g.jump_delay_us + g.laser_on_delay_us + g.mark_delay_us + g.laser_off_delay_us)
    };
    let w = 1e6 * len * quantum_mm / f64::from(p.mark_speed_mm_s.max(1)) + delays;
    let n = ((len / step_q.max(1.0)).ceil() as usize).clamp(1, 1024);
    for k in 0..n {
        let t = (k as f64 + 0.5) / n as f64;
        loads.push((
            [f64::from(a.x) + dx * t, f64::from(a.y) + dy * t],
            w / n as f64,
        ));
    }
}

/// By-part: each part to the least loaded laser whose field holds its footprint, longest
/// first.
fn assign_parts(
    job: &JobFile,
    lasers: &[Laser],
    fields_q: &[[i64; 4]],
    scope: &Scope,
) -> Result<Vec<usize>, PlanError> {
    let q_mm = f64::from(job.quantum_nm) * 1e-6;
    // Each part's box (quanta) and its exposure on one head, from the vectors themselves.
    let n = job.parts.len().max(1);
    let mut boxes = vec![[i64::MAX, i64::MAX, i64::MIN, i64::MIN]; n];
    let mut heads: Vec<ScanHead> = (0..n)
        .map(|_| {
            ScanHead::new(
                lasers.first().map(|l| l.galvo).unwrap_or_default(),
                job.quantum_nm,
            )
        })
        .collect();
    let mut load = vec![0u64; n];
    for_each_layer(job, |_, blocks| {
        for b in blocks {
            let p = b.part.map_or(0, usize::from).min(n - 1);
            for s in &b.segments {
                for pt in [s.from, s.to] {
                    let bx = &mut boxes[p];
                    bx[0] = bx[0].min(i64::from(pt.x));
                    bx[1] = bx[1].min(i64::from(pt.y));
                    bx[2] = bx[2].max(i64::from(pt.x));
                    bx[3] = bx[3].max(i64::from(pt.y));
                }
                heads[p].mark(s, &b.param);
            }
        }
        for (l, h) in load.iter_mut().zip(heads.iter_mut()) {
            *l += h.finish_layer().total_ticks();
        }
        Ok(())
    })?;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| load[b].cmp(&load[a]).then(a.cmp(&b)));
    let mut laser_load = vec![0u64; lasers.len()];
    let mut chosen = vec![0usize; n];
    for p in order {
        let bx = boxes[p];
        if bx[0] > bx[2] {
            continue; // a part with no vectors needs no laser
        }
        let holds = |f: &[i64; 4]| f[0] <= bx[0] && f[1] <= bx[1] && bx[2] <= f[2] && bx[3] <= f[3];
        if scope.skip.get(p).copied().unwrap_or(false) {
            chosen[p] = usize::MAX; // left out: given to no laser
            continue;
        }
        let up = |i: usize| i >= 8 || scope.down & (1 << i) == 0;
        let Some(best) = (0..lasers.len())
            .filter(|&i| up(i) && holds(&fields_q[i]))
            .min_by_key(|&i| (laser_load[i], i))
        else {
            let mm = |v: i64| v as f64 * q_mm;
            return Err(PlanError::PartOutOfReach {
                part: job
                    .parts
                    .get(p)
                    .map_or_else(|| "the job".to_string(), |x| x.serial.clone()),
                x0: mm(bx[0]),
                y0: mm(bx[1]),
                x1: mm(bx[2]),
                y1: mm(bx[3]),
            });
        };
        laser_load[best] += load[p];
        chosen[p] = best;
    }
    Ok(chosen)
}

/// A seam: its axis (0: at an x, between columns; 1: at a y, between rows), the row a column
/// seam cuts (`None` for a row seam) and where it lies (quanta).
type Seam = (usize, Option<usize>, f64);

/// The least a seam moves from one layer to the next, mm.
const MIN_MOVE_MM: f64 = 0.5;

/// A piece of a vector: from, to, its column and row, whether it continues a chain.
type Piece = ([f64; 2], [f64; 2], usize, usize, bool);

/// The pieces of the vector being cut, kept from one vector to the next.
#[derive(Default)]
struct SplitScratch {
    pieces: Vec<Piece>,
    next: Vec<Piece>,
}

/// Fields on a grid: column edges along x, row edges along y, the laser of each cell.
struct Grid {
    /// Per column: its field's x range (quanta).
    cols: Vec<[i64; 2]>,
    /// Per row: its field's y range (quanta).
    rows: Vec<[i64; 2]>,
    /// The laser of cell (column, row), `cells[row * cols + col]`.
    cells: Vec<usize>,
}

/// How far a seam moves from layer to layer at most, mm, or a third of a narrower overlap.
const JITTER_MM: f64 = 2.0;
const JITTER_FRACTION: f64 = 1.0 / 3.0;

/// The golden ratio's fractional part: successive multiples spread evenly and never repeat.
const GOLDEN: f64 = 0.618_033_988_749_894_9;

impl Grid {
    fn of(fields: &[[i64; 4]], overlap_q: f64) -> Result<Grid, PlanError> {
        let mut cols: Vec<[i64; 2]> = fields.iter().map(|f| [f[0], f[2]]).collect();
        let mut rows: Vec<[i64; 2]> = fields.iter().map(|f| [f[1], f[3]]).collect();
        cols.sort_unstable();
        cols.dedup();
        rows.sort_unstable();
        rows.dedup();
        if cols.len() * rows.len() != fields.len() {
            return Err(PlanError::NotAGrid(format!(
                "{} lasers on {} columns × {} rows",
                fields.len(),
                cols.len(),
                rows.len()
            )));
        }
        let mut cells = vec![usize::MAX; fields.len()];
        for (i, f) in fields.iter().enumerate() {
            let c = cols.iter().position(|x| *x == [f[0], f[2]]).unwrap_or(0);
            let r = rows.iter().position(|y| *y == [f[1], f[3]]).unwrap_or(0);
            let cell = &mut cells[r * cols.len() + c];
            if *cell != usize::MAX {
                return Err(PlanError::NotAGrid(format!(
                    "lasers {} and {i} share a cell",
                    *cell
                )));
            }
            *cell = i;
        }
        for (what, spans) in [("columns", &cols), ("rows", &rows)] {
            for w in spans.windows(2) {
                let room = (w[0][1] - w[1][0]) as f64;
                if room < 2.0 * overlap_q {
                    return Err(PlanError::NotAGrid(format!(
                        "neighbouring {what} overlap by {:.3} of the {:.3} needed (quanta)",
                        room.max(0.0),
                        2.0 * overlap_q
                    )));
                }
            }
        }
        Ok(Grid { cols, rows, cells })
    }

    /// The seams of `layer`, row seams (along x, between rows) first, then each row's column
    /// seams. Row seam `k` lies where the layer's work (`loads`: a point and a weight per
    /// vector) below it is `(k + 1) / rows` of the whole; each row's column seam `k` splits
    /// that row's work the same way, so every laser gets its share of the layer. A seam is
    /// kept `jitter / 2` inside its overlap (which keeps `overlap / 2` clear of the ends) and
    /// then moved by up to `± jitter / 2`, by the golden ratio from layer to layer, so that the
    /// seams of successive layers do not stack.
    #[allow(clippy::too_many_arguments)]
    fn seams(
        &self,
        layer: u32,
        loads: &[([f64; 2], f64)],
        overlap_q: f64,
        jitter_q: f64,
        previous: &[Seam],
        min_move: f64,
    ) -> Vec<Seam> {
        let mut out: Vec<Seam> = Vec::new();
        let place = |spans: &[[i64; 2]],
                     axis: usize,
                     row: usize,
                     pts: &mut Vec<(f64, f64)>,
                     out: &Vec<Seam>| {
            let n = spans.len();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let total: f64 = pts.iter().map(|x| x.1).sum();
            let mut ats = Vec::new();
            for (k, w) in spans.windows(2).enumerate() {
                let (lo, hi) = (w[1][0] as f64, w[0][1] as f64);
                let jitter = (JITTER_FRACTION * (hi - lo)).min(jitter_q);
                let (a, b) = (
                    lo + 0.5 * overlap_q + 0.5 * jitter,
                    hi - 0.5 * overlap_q - 0.5 * jitter,
                );
                let want = total * (k + 1) as f64 / n as f64;
                let mut acc = 0.0;
                let balanced = pts
                    .iter()
                    .find(|x| {
                        acc += x.1;
                        acc >= want
                    })
                    .map_or(0.5 * (lo + hi), |x| x.0);
                // Each seam its own phase, so that seams do not move together.
                let phase = 0.5 * axis as f64 + 0.25 * (row + k) as f64;
                let f = ((f64::from(layer) + 1.0) * GOLDEN + phase).fract();
                let mut at = balanced.clamp(a, b.max(a)) + (f - 0.5) * jitter;
                // Never within `min_move` of where this seam was a layer before: pushed on
                // the way it was going, or back the other way at the end of the overlap.
                if let Some(&(_, _, was)) = previous.get(out.len() + ats.len())
                    && (at - was).abs() < min_move
                {
                    let dir = if at >= was { 1.0 } else { -1.0 };
                    let (lo_ok, hi_ok) = (lo + 0.5 * overlap_q, hi - 0.5 * overlap_q);
                    let ahead = was + dir * min_move;
                    at = if (lo_ok..=hi_ok).contains(&ahead) {
                        ahead
                    } else {
                        was - dir * min_move
                    };
                }
                ats.push(at);
            }
            ats
        };
        let mut ys: Vec<(f64, f64)> = loads.iter().map(|(p, w)| (p[1], *w)).collect();
        let row_seams = place(&self.rows, 1, 0, &mut ys, &out);
        out.extend(row_seams.iter().map(|&at| (1, None, at)));
        for row in 0..self.rows.len() {
            let below = |y: f64| row_seams.iter().filter(|&&at| y > at).count();
            let mut xs: Vec<(f64, f64)> = loads
                .iter()
                .filter(|(p, _)| below(p[1]) == row)
                .map(|(p, w)| (p[0], *w))
                .collect();
            let cols = place(&self.cols, 0, row, &mut xs, &out);
            out.extend(cols.into_iter().map(|at| (0, Some(row), at)));
        }
        out
    }

    /// Cuts `s` at the seams and appends each piece to its laser's list.
    fn split(
        &self,
        s: &Segment,
        seams: &[Seam],
        overlap_q: f64,
        scratch: &mut SplitScratch,
        out: &mut [Vec<Segment>],
    ) {
        let cols = self.cols.len();
        // Pieces as (from, to, column, row, chained) in segment order.
        let SplitScratch { pieces, next } = scratch;
        pieces.clear();
        pieces.push((
            [f64::from(s.from.x), f64::from(s.from.y)],
            [f64::from(s.to.x), f64::from(s.to.y)],
            0,
            0,
            s.chained,
        ));
        for &(axis, only_row, at) in seams {
            next.clear();
            for &(a, b, c, r, chained) in pieces.iter() {
                if only_row.is_some_and(|row| row != r) {
                    next.push((a, b, c, r, chained));
                    continue;
                }
                let side = |p: [f64; 2]| p[axis] > at;
                let bump = |cr: (usize, usize)| {
                    if axis == 0 {
                        (cr.0 + 1, cr.1)
                    } else {
                        (cr.0, cr.1 + 1)
                    }
                };
                let (sa, sb) = (side(a), side(b));
                if sa == sb {
                    let cr = if sa { bump((c, r)) } else { (c, r) };
                    next.push((a, b, cr.0, cr.1, chained));
                    continue;
                }
                let len = (b[0] - a[0]).hypot(b[1] - a[1]);
                let t = (at - a[axis]) / (b[axis] - a[axis]);
                let reach = if len > 0.0 {
                    0.5 * overlap_q / len
                } else {
                    0.0
                };
                let at_t = |t: f64| [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
                let (t1, t0) = ((t + reach).min(1.0), (t - reach).max(0.0));
                let low = (c, r);
                let high = bump((c, r));
                let (first, second) = if sa { (high, low) } else { (low, high) };
                next.push((a, at_t(t1), first.0, first.1, chained));
                next.push((at_t(t0), b, second.0, second.1, false));
            }
            std::mem::swap(pieces, next);
        }
        for &(a, b, c, r, chained) in pieces.iter() {
            let q = |p: [f64; 2]| Point {
                x: p[0].round() as i32,
                y: p[1].round() as i32,
            };
            let (from, to) = (q(a), q(b));
            if let Some(list) = self
                .cells
                .get(r * cols + c)
                .and_then(|&laser| out.get_mut(laser))
            {
                // A piece continues a chain only where its laser's last mark ended.
                let chained = chained && list.last().is_some_and(|l| l.to == from);
                list.push(Segment { from, to, chained });
            }
        }
    }
}

#[path = "lasers_plume.rs"]
pub mod plume;

#[path = "lasers_write.rs"]
pub mod write;

#[cfg(test)]
#[path = "lasers_tests.rs"]
mod tests;
