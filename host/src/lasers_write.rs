//! Writing the assigned job: a verified job written again with every block given to the laser
//! that exposes it (protocol 5 `LaserBlock`s), as planned by [`super::plan_with`].
//!
//! Header, parameter sets and part table are those of the job; each block becomes one block
//! per laser holding its pieces of the block's vectors, in the job's order. Vectors keep their
//! coding: hatches stay hatches, chained polyline segments stay polylines, points stay points.
//! The writer holds every block to the printer's rules for the machine (layer memory, scan
//! field, each laser's field), so a job the controller would refuse is never written, and the
//! file appears only once complete.

use std::path::Path;

use meltline_firmware::job::{BlockSpec, CodedBlock, Geometry, JobSpec, PartSpec};
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::wire::{Coding, Msg, Segment};

use super::{Assignment, LaserPlan, PlanError, PlanStep, Scope, plan_scoped};
use crate::jobfile::JobFile;
use crate::mlj::{MljError, MljOptions, write_spec_atomically};
use meltline_firmware::job::{JobError, JobSummary, decode_wire};

/// Why the assigned job could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    /// The plan refused the job.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Writing it failed, or the printer's rules refused a block.
    #[error(transparent)]
    Write(#[from] MljError),
    /// The job was made for another machine (the printer would refuse it by name).
    #[error("the job is for {job}, not {machine}: slice it for {machine} first")]
    Machine {
        /// The job header's machine.
        job: String,
        /// The machine planned on.
        machine: String,
    },
    /// The job's part table could not be read again.
    #[error("frame {0} of the job could not be decoded")]
    Frame(usize),
}

/// The job's header and parameter sets as the writer takes them.
fn spec_of(job: &JobFile) -> JobSpec {
    JobSpec {
        machine: job.machine.clone(),
        material: job.material.clone(),
        quantum_nm: job.quantum_nm,
        layer_thickness_nm: job.layer_thickness_nm,
        layer_count: job.layer_count(),
        param_sets: job.param_sets.clone(),
    }
}

/// The job's part table, read from its `Part` frames.
fn parts_of(job: &JobFile) -> Result<Vec<PartSpec>, AssignError> {
    let mut scratch = Vec::new();
    let mut parts = Vec::new();
    let before_layers = job.layers.first().map_or(job.frames.len(), |l| {
        usize::try_from(l.first_frame).unwrap_or(usize::MAX)
    });
    for (k, wire) in job.frames.iter().enumerate().take(before_layers) {
        let frame = decode_wire(wire, &mut scratch).map_err(|_| AssignError::Frame(k))?;
        if let Msg::Part(p) = frame.msg {
            parts.push(PartSpec {
                serial: p.serial.to_string(),
                case: p.case.to_string(),
                centre: [p.x, p.y],
                rotation_mdeg: p.rotation_mdeg,
                footprint: p.footprint,
            });
        }
    }
    Ok(parts)
}

/// One laser's pieces of a block as geometry of the block's coding.
fn geometry(coding: Coding, segs: &[Segment]) -> Geometry {
    let xy = |p: meltline_firmware::wire::Point| [i64::from(p.x), i64::from(p.y)];
    match coding {
        Coding::Points => Geometry::Points(segs.iter().map(|s| xy(s.from)).collect()),
        Coding::Hatches => Geometry::Hatches(
            segs.iter()
                .filter(|s| s.from != s.to)
                .map(|s| {
                    [
                        i64::from(s.from.x),
                        i64::from(s.from.y),
                        i64::from(s.to.x),
                        i64::from(s.to.y),
                    ]
                })
                .collect(),
        ),
        Coding::Polylines => {
            let mut lines: Vec<Vec<[i64; 2]>> = Vec::new();
            for s in segs {
                match lines.last_mut() {
                    Some(line) if s.chained && line.last() == Some(&xy(s.from)) => {
                        line.push(xy(s.to));
                    }
                    _ => lines.push(vec![xy(s.from), xy(s.to)]),
                }
            }
            Geometry::Polylines {
                lines,
                closed: false,
            }
        }
    }
}

/// Plans `job` on `machine`'s lasers and writes the assigned job to `out` (atomically);
/// returns the plan and what was written.
pub fn write_assigned(
    job: &JobFile,
    machine: &MachineConfig,
    assignment: Assignment,
    overlap_mm: f64,
    out: &Path,
) -> Result<(LaserPlan, JobSummary), AssignError> {
    write_planned(
        job,
        machine,
        (assignment, overlap_mm),
        &Scope::default(),
        0,
        out,
    )
}

/// What [`write_continuation`] wrote: the plan of the layers it planned again, the job, and
/// the parts left out because no laser still up reaches them.
#[derive(Debug)]
pub struct Continuation {
    /// The plan (by part over the lasers still up).
    pub plan: LaserPlan,
    /// What was written.
    pub summary: JobSummary,
    /// Indices of the parts left out from `from_layer` on.
    pub skipped: Vec<u16>,
}

/// The job that continues `job` after the lasers `down` (bit per index) failed before layer
/// `from_layer`: the same setup and layers before `from_layer` as they were, the later layers
/// planned by part on the lasers still up, and the parts none of them reaches left out (the
/// controller skips them by the same rule, [`MachineConfig::reachable_without`]).
pub fn write_continuation(
    job: &JobFile,
    machine: &MachineConfig,
    from_layer: u32,
    down: u8,
    out: &Path,
) -> Result<Continuation, AssignError> {
    let parts = parts_of(job)?;
    let skip: Vec<bool> = parts
        .iter()
        .map(|p| !machine.reachable_without(down, p.footprint, job.quantum_nm))
        .collect();
    let skipped = (0..parts.len())
        .filter(|&i| skip[i])
        .filter_map(|i| u16::try_from(i).ok())
        .collect();
    let scope = Scope { down, skip };
    let (plan, summary) = write_planned(
        job,
        machine,
        (Assignment::ByPart, super::DEFAULT_OVERLAP_MM),
        &scope,
        from_layer,
        out,
    )?;
    Ok(Continuation {
        plan,
        summary,
        skipped,
    })
}

/// The blocks of layer `layer` of `job` as they are, with their lasers and parts.
fn layer_as_is(job: &JobFile, layer: u32) -> Result<Vec<CodedBlock>, AssignError> {
    let mut scratch = Vec::new();
    let mut out = Vec::new();
    let Some(info) = job.layers.get(layer as usize) else {
        return Ok(out);
    };
    let first = usize::try_from(info.first_frame).unwrap_or(usize::MAX);
    let n = usize::try_from(info.frames).unwrap_or(0);
    for (k, wire) in job.frames.iter().enumerate().skip(first).take(n) {
        let frame = decode_wire(wire, &mut scratch).map_err(|_| AssignError::Frame(k))?;
        if let Some((part, b)) = frame.msg.block() {
            let mut c = CodedBlock::of(part, b);
            c.laser = frame.msg.laser();
            out.push(c);
        }
    }
    Ok(out)
}

/// Writes `job` again: layers before `from_layer` as they are, the others as planned within
/// `scope`.
fn write_planned(
    job: &JobFile,
    machine: &MachineConfig,
    (assignment, overlap_mm): (Assignment, f64),
    scope: &Scope,
    from_layer: u32,
    out: &Path,
) -> Result<(LaserPlan, JobSummary), AssignError> {
    if job.machine != machine.machine.as_str() {
        return Err(AssignError::Machine {
            job: job.machine.clone(),
            machine: machine.machine.to_string(),
        });
    }
    let parts = parts_of(job)?;
    let plate = !parts.is_empty();
    let opts = MljOptions::for_machine(machine);
    let mut plan = None;
    let mut failed: Option<PlanError> = None;
    let summary = write_spec_atomically(&spec_of(job), &parts, out, &opts, |w| {
        let mut layer_blocks: Vec<(u8, Option<u16>, BlockSpec)> = Vec::new();
        let mut written: Result<(), JobError> = Ok(());
        let mut as_is: Option<AssignError> = None;
        let result = plan_scoped(job, machine, assignment, overlap_mm, scope, &mut |step| {
            match step {
                PlanStep::Block { layer, .. } if layer < from_layer => {}
                PlanStep::LayerEnd { layer } if layer < from_layer => {
                    written = match layer_as_is(job, layer) {
                        Ok(blocks) => w.write_coded_layer(&blocks),
                        Err(e) => {
                            as_is = Some(e);
                            return Err(PlanError::Frame(usize::MAX));
                        }
                    };
                    if written.is_err() {
                        return Err(PlanError::Frame(usize::MAX));
                    }
                }
                PlanStep::Block { block, pieces, .. } => {
                    for (laser, segs) in pieces.iter().enumerate() {
                        let Ok(laser) = u8::try_from(laser) else {
                            continue;
                        };
                        let g = geometry(block.coding, segs);
                        let empty = match &g {
                            Geometry::Points(p) => p.is_empty(),
                            Geometry::Hatches(h) => h.is_empty(),
                            Geometry::Polylines { lines, .. } => lines.is_empty(),
                        };
                        if empty {
                            continue;
                        }
                        let part = if plate { block.part } else { None };
                        layer_blocks.push((
                            laser,
                            part,
                            BlockSpec {
                                param_set: block.param.id,
                                kind: block.kind,
                                region: block.region,
                                geometry: g,
                            },
                        ));
                    }
                }
                PlanStep::LayerEnd { .. } => {
                    written = w.write_laser_layer(&layer_blocks);
                    layer_blocks.clear();
                    if written.is_err() {
                        // Stops the plan: the writer's error is the one to report.
                        return Err(PlanError::Frame(usize::MAX));
                    }
                }
            }
            Ok(())
        });
        written?;
        if let Some(e) = as_is.take() {
            return Err(JobError::Io(std::io::Error::other(e.to_string())));
        }
        match result {
            Ok(p) => plan = Some(p),
            Err(e) => failed = Some(e),
        }
        if failed.is_some() {
            // Abandons the file: nothing is renamed over `out`.
            return Err(JobError::Io(std::io::Error::other("the laser plan failed")));
        }
        Ok(())
    });
    if let Some(e) = failed {
        return Err(e.into());
    }
    let summary = summary?;
    let plan = plan.ok_or(AssignError::Frame(usize::MAX))?;
    Ok((plan, summary))
}

/// Why a job file could not be assigned.
#[derive(Debug, thiserror::Error)]
pub enum AssignFileError {
    /// It could not be read back or verified.
    #[error("reading back {path}: {source}")]
    Read {
        /// The job file.
        path: String,
        /// What went wrong.
        source: crate::jobfile::JobFileError,
    },
    /// It could not be planned or written.
    #[error(transparent)]
    Assign(#[from] AssignError),
}

/// Reads the verified job at `from`, plans it on `machine`'s lasers with the default stitching
/// overlap and writes the assigned job to `to` (which may be `from`: it is replaced only once
/// the assigned job is complete).
pub fn assign_file(
    from: &Path,
    to: &Path,
    machine: &MachineConfig,
    assignment: Assignment,
) -> Result<(LaserPlan, JobSummary), AssignFileError> {
    let read = |source| AssignFileError::Read {
        path: from.display().to_string(),
        source,
    };
    let bytes = std::fs::read(from).map_err(|e| {
        read(crate::jobfile::JobFileError::Io {
            path: from.display().to_string(),
            source: e,
        })
    })?;
    let job = JobFile::parse(&bytes, &from.display().to_string(), machine).map_err(read)?;
    drop(bytes);
    Ok(write_assigned(
        &job,
        machine,
        assignment,
        super::DEFAULT_OVERLAP_MM,
        to,
    )?)
}
