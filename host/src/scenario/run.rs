//! Running a scenario: make the job, build the machine, stream the job over the simulated link
//! to the controller in this process, and gather what happened into a [`ScenarioOutcome`].

use std::time::{Duration, Instant};

use meltline_core::cage::{CageSpec, DesignOptions};
use meltline_core::io::Units;
use meltline_core::mesh::Mesh;
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::sim::SimOptions;
use meltline_firmware::sim::report::SimReport;
use meltline_firmware::wire::ControllerState;
use meltline_slicer::job::SlicerOptions;
use meltline_slicer::profile::ProcessProfile;
use serde::Serialize;

use super::link::{FiredEvent, OperatorAction, PowerLossPlan, SimulatedLink};
use super::spec::{Scenario, ScenarioError, TimelineEvent};
use crate::jobfile::{JobFile, hex};
use crate::link::{StreamError, StreamOptions, StreamOutcome, stream_job};
use crate::mlj::MljOptions;
use crate::pipeline::{Admission, Part, Pipeline, PipelineError, encode_in_memory};

/// Default mesh edge of a designed cage in a scenario, mm: coarse, so a scenario designs it in
/// seconds.
pub const SCENARIO_CAGE_EDGE_MM: f64 = 0.6;

/// One exposed layer as the scenario saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExposedLayer {
    /// Layer index.
    pub layer: u32,
    /// Vectors marked.
    pub marks: u64,
    /// Vectors of the layer in the job.
    pub job_vectors: u64,
    /// Laser energy, J.
    pub energy_j: f64,
    /// Machine time, s.
    pub time_s: f64,
    /// Intended area covered, % (with exposure maps).
    pub coverage_pct: Option<f64>,
    /// Exposure outside the intended area, % of it (with exposure maps).
    pub spill_pct: Option<f64>,
}

/// What the link did over the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LinkSummary {
    /// Stream frames of the job.
    pub frames: u64,
    /// Frames retransmitted by the host.
    pub retransmits: u64,
    /// Host retransmission timeouts.
    pub timeouts: u64,
    /// Host reconnections.
    pub reconnects: u64,
    /// Frames the controllers refused at the link level (CRC, framing, order).
    pub link_errors: u64,
    /// Frames corrupted by the random fault injector.
    pub random_corrupted: u64,
    /// Frames dropped by the random fault injector.
    pub random_dropped: u64,
    /// Virtual time the link ran, s.
    pub virtual_s: f64,
}

/// Everything a scenario run produced that expectations are checked against. Deterministic:
/// the same scenario gives the same outcome on every run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioOutcome {
    /// Final controller state (of the last controller, after a power loss).
    pub state: ControllerState,
    /// States passed through, in order (`PowerLoss` marks a controller replaced).
    pub states: Vec<String>,
    /// Fault rules raised, in order.
    pub fault_rules: Vec<String>,
    /// Fault descriptions.
    pub faults: Vec<String>,
    /// Layers the job announces.
    pub job_layers: u32,
    /// Exposed layers in execution order (over all controllers).
    pub exposed: Vec<ExposedLayer>,
    /// Machine time over all controllers, s.
    pub build_time_s: f64,
    /// Part of it spent on the oxygen interlock, s.
    pub interlock_s: f64,
    /// Laser energy, J.
    pub energy_j: f64,
    /// The job hash.
    pub job_sha256: String,
    /// The last controller's executed hash.
    pub executed_sha256: String,
    /// The link.
    pub link: LinkSummary,
    /// The timeline as it happened.
    pub timeline: Vec<FiredEvent>,
    /// Why the host stopped early, if it did, or why it refused to start.
    pub host_stopped: Option<String>,
    /// The state in the controller's final report as the host received it.
    pub host_report: Option<String>,
    /// What the host noted about the controller (restarts, where it resumed).
    pub host_notes: Vec<String>,
    /// Timeline events that never came to pass.
    pub unfired: Vec<String>,
    /// Layer at which a controller booted after a power loss resumed the job.
    pub resumed_from: Option<u32>,
    /// Layers a resumed controller received again, verified and skipped without exposing.
    pub layers_skipped: Vec<u32>,
    /// Each part of a plate job as the last controller reported it.
    pub parts: Vec<PartState>,
}

/// How one part of a plate ended.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PartState {
    /// Serial.
    pub id: String,
    /// `Built`, `Skipped` or `Unfinished`.
    pub state: String,
    /// First layer without it, if skipped.
    pub skipped_at_layer: Option<u32>,
    /// Why it was skipped.
    pub skip_rule: Option<String>,
    /// Vectors of it marked (over all controllers).
    pub vectors_executed: u64,
    /// Part hash over what of it was executed, hex.
    pub executed_sha256: String,
}

/// A run: the outcome and how long it took.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    /// What happened.
    pub outcome: ScenarioOutcome,
    /// Wall time of making the job (design, slicing, encoding), s.
    pub job_wall_s: f64,
    /// Wall time of the simulated build (streaming, verifying, executing, maps), s.
    pub sim_wall_s: f64,
    /// CPU time of the simulating thread over the same span, s (Linux; less sensitive than
    /// wall time to other work on the machine).
    pub sim_cpu_s: Option<f64>,
}

/// CPU time of the calling thread (Linux `/proc/thread-self/schedstat`, ns resolution).
fn thread_cpu_s() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 * 1e-9)
}

impl ScenarioRun {
    /// Machine time simulated per second of wall time.
    pub fn speedup(&self) -> f64 {
        self.outcome.build_time_s / self.sim_wall_s.max(1e-9)
    }
}

fn job_error(s: &Scenario, message: String) -> ScenarioError {
    ScenarioError::Job {
        path: s.path.clone(),
        message,
    }
}

/// The scenario's process profile: inline, from a file, or the built-in Ti-6Al-4V.
fn profile_of(s: &Scenario) -> Result<ProcessProfile, ScenarioError> {
    let j = &s.job;
    Ok(match (&j.profile, &j.profile_file) {
        (Some(p), _) => p.clone(),
        (None, Some(rel)) => {
            let p = s.resolve("job.profile_file", rel)?;
            ProcessProfile::from_file(&p).map_err(|e| job_error(s, e.to_string()))?
        }
        (None, None) => ProcessProfile::ti6al4v(),
    })
}

/// The scenario's part: a box, a mesh file, or a cage spec designed at the scenario's edge.
fn part_of(s: &Scenario) -> Result<Part, ScenarioError> {
    let j = &s.job;
    if let Some([x, y, z]) = j.box_mm {
        let mesh = Mesh::axis_aligned_box([-x / 2.0, -y / 2.0, 0.0], [x / 2.0, y / 2.0, z]);
        return Ok(Part::from_mesh("job.box_mm", mesh));
    }
    if let Some(rel) = &j.mesh {
        let p = s.resolve("job.mesh", rel)?;
        return Part::read(&p, Units::Mm).map_err(|e| job_error(s, e.to_string()));
    }
    let spec = match j.cage.as_deref() {
        Some("default") | None => CageSpec::default_tlif(),
        Some(rel) => {
            let p = s.resolve("job.cage", rel)?;
            let text = std::fs::read_to_string(&p).map_err(|source| ScenarioError::Io {
                path: p.clone(),
                source,
            })?;
            CageSpec::from_toml_str(&text, &p.display().to_string())
                .map_err(|e| job_error(s, e.to_string()))?
        }
    };
    let opts = DesignOptions {
        edge_length_override: Some(j.edge_length_mm.unwrap_or(SCENARIO_CAGE_EDGE_MM)),
        ..DesignOptions::default()
    };
    Part::designed("the cage", &spec, None, &opts)
        .map(|(part, _)| part)
        .map_err(|e| job_error(s, e.to_string()))
}

/// Makes the scenario's job: a generated block, a mesh, a designed cage (sliced with the
/// scenario's profile) or a ready `.mlj`, verified as a job file.
pub fn build_job(s: &Scenario) -> Result<JobFile, ScenarioError> {
    let j = &s.job;
    let bytes = if let Some(rel) = &j.plate {
        plate_job(s, rel)?
    } else if let Some(rel) = &j.mlj {
        let p = s.resolve("job.mlj", rel)?;
        std::fs::read(&p).map_err(|source| ScenarioError::Io { path: p, source })?
    } else {
        let profile = profile_of(s)?;
        let part = part_of(s)?;
        // A scenario exercises the controller's own refusals: its job is made as another
        // build processor might make it, without the slicer's admission by the machine.
        let pipeline = Pipeline {
            options: SlicerOptions {
                supports: j.supports,
                center_xy: true,
                machine: unchecked_machine(&profile.material),
                ..SlicerOptions::default()
            },
            profile,
            admission: Admission::Unchecked,
        };
        let sliced = pipeline
            .slicer(&part)
            .and_then(|sl| {
                sl.build_job().map_err(|source| PipelineError::Slice {
                    part: part.name.clone(),
                    source,
                })
            })
            .map_err(|e| job_error(s, e.to_string()))?;
        let mopts = MljOptions {
            spot_um: j.spot_um.unwrap_or(MljOptions::default().spot_um),
            machine: Some(
                j.machine_name
                    .clone()
                    .unwrap_or_else(|| s.machine.machine.to_string()),
            ),
            ..MljOptions::for_machine(&s.machine)
        };
        // The job hash is announced in the header: controllers keep their non-volatile
        // record only for jobs that name themselves.
        encode_in_memory(&part.name, &sliced.header, &sliced.layers, &mopts)
            .map_err(|e| job_error(s, e.to_string()))?
    };
    JobFile::parse(&bytes, &format!("{} job", s.name), &s.machine)
        .map_err(|e| job_error(s, e.to_string()))
}

/// The scenario's plate job: the plate file's parts made, placed and sliced for the
/// scenario's machine.
fn plate_job(s: &Scenario, rel: &str) -> Result<Vec<u8>, ScenarioError> {
    use crate::plate::PlateFile;
    use crate::plate::build::{build_plate, plate_pipeline};
    let path = s.resolve("job.plate", rel)?;
    let plate = PlateFile::read(&path).map_err(|e| job_error(s, e.to_string()))?;
    let pipeline =
        plate_pipeline(&plate, s.machine.clone()).map_err(|e| job_error(s, e.to_string()))?;
    let dir = tempfile::tempdir().map_err(|source| ScenarioError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let out = dir.path().join("plate.mlj");
    build_plate(&plate, &pipeline, &out, &mut |_| {}).map_err(|e| job_error(s, e.to_string()))?;
    std::fs::read(&out).map_err(|source| ScenarioError::Io { path: out, source })
}

/// A machine description that admits any job of `material` (every limit wide open).
fn unchecked_machine(material: &str) -> MachineConfig {
    let mut m = MachineConfig {
        field_half_um: u32::MAX / 2000,
        build_height_um: u32::MAX,
        max_quantum_nm: u32::MAX,
        min_layer_nm: 1,
        max_layer_nm: u32::MAX,
        min_power_mw: 0,
        max_power_mw: u32::MAX,
        min_speed_mm_s: 0,
        max_speed_mm_s: u32::MAX,
        min_energy_mj_mm3: 0,
        max_energy_mj_mm3: u32::MAX,
        ..MachineConfig::default()
    };
    m.material.clear();
    let _ = m.material.push_str(material);
    m
}

/// Makes the job and runs the scenario.
pub fn run(s: &Scenario) -> Result<ScenarioRun, ScenarioError> {
    let t0 = Instant::now();
    let job = build_job(s)?;
    let job_wall_s = t0.elapsed().as_secs_f64();
    let mut r = run_job(s, &job);
    r.job_wall_s = job_wall_s;
    Ok(r)
}

/// The simulated link with the scenario's timeline events on it (machine-model events are in
/// the machine configuration).
fn simulated_link(s: &Scenario, job: &JobFile, unknown: &mut Vec<String>) -> SimulatedLink {
    let part_index = |id: &str| job.parts.iter().find(|p| p.serial == id);
    let mut machine = s.machine.clone();
    for e in &s.events {
        if let TimelineEvent::RecoaterCollision { part: Some(id), .. } = e {
            match part_index(id) {
                Some(p) => {
                    let [x0, y0, x1, y1] = p.footprint_mm;
                    let um = |a: f64, b: f64| (500.0 * (a + b)).round() as i32;
                    machine.recoater_collision_at_um = Some([um(x0, x1), um(y0, y1)]);
                }
                None => unknown.push(format!("recoater-collision at part {id}, not on the plate")),
            }
        }
    }
    let sim = SimOptions {
        machine,
        auto_start: false,
        exposure: s.exposure.enabled,
        exposure_dir: None,
        pixel_um: s.exposure.pixel_um,
        nvm: None,
        layer_log: None,
    };
    let mut link = SimulatedLink::new(
        sim,
        s.link.bytes_per_s,
        Duration::from_secs_f64(s.link.round_trip_ms / 1000.0),
        Duration::from_secs_f64(s.link.reboot_s),
    );
    for e in &s.events {
        match *e {
            TimelineEvent::LinkFault { frame, fault } => link.fault_frame(frame, fault),
            TimelineEvent::Pause {
                layer,
                resume_after_s,
            } => link.operator(OperatorAction::Pause {
                layer,
                resume_after: resume_after_s.map(Duration::from_secs_f64),
            }),
            TimelineEvent::Abort { layer } => link.operator(OperatorAction::Abort { layer }),
            TimelineEvent::SkipPart { layer, ref part } => match part_index(part) {
                Some(p) => link.operator(OperatorAction::SkipPart {
                    layer,
                    part: p.index,
                }),
                None => unknown.push(format!("skip-part {part}, not on the plate")),
            },
            TimelineEvent::PowerLoss {
                layer,
                after_blocks,
                nonvolatile,
            } => link.power_loss(PowerLossPlan {
                layer,
                after_blocks,
                nonvolatile,
            }),
            TimelineEvent::OxygenExcursion { .. }
            | TimelineEvent::RecoaterCollision { .. }
            | TimelineEvent::LaserDrift { .. }
            | TimelineEvent::LaserFailure { .. } => {}
        }
    }
    link
}

/// Machine-model events set at a layer the job does not reach.
fn events_past_the_job(s: &Scenario, layers: u32) -> Vec<String> {
    s.events
        .iter()
        .filter_map(|e| {
            let (what, layer) = match *e {
                TimelineEvent::OxygenExcursion { layer, .. } => ("oxygen-excursion", layer),
                TimelineEvent::RecoaterCollision { layer, .. } => ("recoater-collision", layer),
                TimelineEvent::LaserDrift { from_layer, .. } => ("laser-drift", from_layer),
                TimelineEvent::LaserFailure { layer, .. } => ("laser-failure", layer),
                _ => return None,
            };
            (layer >= layers).then(|| format!("{what} at layer {layer} of a {layers}-layer job"))
        })
        .collect()
}

/// The outcome before the controllers' reports are folded in.
fn empty_outcome(job: &JobFile, link: &SimulatedLink, executed_sha256: String) -> ScenarioOutcome {
    ScenarioOutcome {
        state: link.simulator().controller().state(),
        states: Vec::new(),
        fault_rules: Vec::new(),
        faults: Vec::new(),
        job_layers: job.layer_count(),
        exposed: Vec::new(),
        build_time_s: 0.0,
        interlock_s: 0.0,
        energy_j: 0.0,
        job_sha256: hex(&job.job_sha256),
        executed_sha256,
        link: LinkSummary {
            frames: job.frames.len() as u64,
            virtual_s: link.elapsed().as_secs_f64(),
            ..LinkSummary::default()
        },
        timeline: link.fired.clone(),
        host_stopped: None,
        host_report: None,
        host_notes: Vec::new(),
        unfired: link.unfired(),
        resumed_from: None,
        layers_skipped: Vec::new(),
        parts: Vec::new(),
    }
}

/// Adds one controller's report (the `i`-th of the run: later ones follow a power loss).
fn fold_report(outcome: &mut ScenarioOutcome, i: usize, r: &SimReport, job: &JobFile) {
    if i > 0 {
        outcome.states.push("PowerLoss".into());
    }
    outcome.states.extend(r.states.iter().cloned());
    for f in &r.faults {
        outcome.fault_rules.push(f.rule.clone());
        outcome.faults.push(f.message.clone());
    }
    for l in &r.layers {
        outcome.exposed.push(ExposedLayer {
            layer: l.layer,
            marks: l.time.marks,
            job_vectors: job_vectors(job, r, l.layer),
            energy_j: l.time.energy_j,
            time_s: l.time.total_s,
            coverage_pct: l.coverage_pct,
            spill_pct: l.spill_pct,
        });
    }
    if r.resumed_from.is_some() {
        // A resumed controller restored the totals of the layers before the loss from its
        // record: they are in its own totals already.
        outcome.build_time_s = 0.0;
        outcome.interlock_s = 0.0;
        outcome.energy_j = 0.0;
        outcome.resumed_from = r.resumed_from;
    }
    outcome.build_time_s += r.total.total_s;
    outcome.interlock_s += r.total.interlock_s;
    outcome.energy_j += r.total.energy_j;
    outcome.link.link_errors += r.link_errors.len() as u64;
    outcome
        .layers_skipped
        .extend(r.layers_skipped.iter().copied());
}

/// The vectors of `layer` the controller was to mark: the job's, less those of parts it had
/// skipped by then.
fn job_vectors(job: &JobFile, r: &SimReport, layer: u32) -> u64 {
    let all = job.layers.get(layer as usize).map_or(0, |j| j.vectors);
    let left_out: u64 = r
        .parts
        .iter()
        .filter(|p| p.skipped_at_layer.is_some_and(|from| from <= layer))
        .filter_map(|p| job.parts.get(usize::from(p.index)))
        .map(|p| p.per_layer.get(layer as usize).copied().unwrap_or(0))
        .sum();
    all.saturating_sub(left_out)
}

/// Adds what the host saw of the stream.
fn fold_stream(outcome: &mut ScenarioOutcome, streamed: Result<StreamOutcome, StreamError>) {
    match streamed {
        Ok(o) => {
            outcome.link.retransmits = o.retransmits;
            outcome.link.timeouts = o.timeouts;
            outcome.link.reconnects = o.reconnects;
            outcome.link.random_corrupted = o.link_faults.corrupted;
            outcome.link.random_dropped = o.link_faults.dropped;
            outcome.host_stopped = o.interrupted;
            outcome.host_report = o.state;
            outcome.host_notes = o.notes;
        }
        Err(e) => outcome.host_stopped = Some(format!("the host refused to stream: {e}")),
    }
}

/// After the scenario's laser failure stopped the controller (`LaserDown`): the job that
/// continues it, its remaining layers planned on the other lasers, as the host makes it; what
/// the host did goes into `notes`.
fn continue_after_laser_failure(
    s: &Scenario,
    job: &JobFile,
    link: &SimulatedLink,
    notes: &mut Vec<String>,
) -> Option<JobFile> {
    let f = s.machine.laser_failure?;
    let sim = link.simulator();
    let stopped = sim.controller().state() == meltline_firmware::wire::ControllerState::Faulted
        && sim
            .report(false)
            .faults
            .last()
            .is_some_and(|x| x.rule == "LaserDown");
    if !stopped {
        return None;
    }
    let dir = tempfile::tempdir().ok()?;
    let path = dir.path().join("continued.mlj");
    let c = match crate::lasers::write::write_continuation(
        job,
        &s.machine,
        f.layer,
        1 << f.laser,
        &path,
    ) {
        Ok(c) => c,
        Err(e) => {
            notes.push(format!(
                "laser {} failed before layer {}; the rest cannot be planned on the others: {e}",
                f.laser, f.layer
            ));
            return None;
        }
    };
    let skipped: Vec<String> = c
        .skipped
        .iter()
        .filter_map(|&p| job.parts.get(usize::from(p)).map(|i| i.serial.clone()))
        .collect();
    notes.push(format!(
        "laser {} failed before layer {}: layers {}.. planned again on the other lasers ({}); left out, no other laser reaches them: {}",
        f.laser,
        f.layer,
        f.layer,
        c.plan.summary().line(),
        if skipped.is_empty() {
            "none".to_string()
        } else {
            skipped.join(", ")
        }
    ));
    let bytes = std::fs::read(&path).ok()?;
    JobFile::parse(&bytes, &format!("{} continued", s.name), &s.machine).ok()
}

/// Runs the scenario on a job already made.
pub fn run_job(s: &Scenario, job: &JobFile) -> ScenarioRun {
    let mut unknown = Vec::new();
    let mut link = simulated_link(s, job, &mut unknown);
    let opts = StreamOptions {
        faults: s.link_faults.clone(),
        stall_timeout: Duration::from_secs_f64(s.link.stall_timeout_s),
        ..StreamOptions::default()
    };
    let cpu0 = thread_cpu_s();
    let t0 = Instant::now();
    let mut streamed = stream_job(job, &mut link, &opts, &mut |_| {});
    let mut replanned = Vec::new();
    if let Some(cont) = continue_after_laser_failure(s, job, &link, &mut replanned) {
        // A new job on the same controller: numbered on from what it took.
        let again = StreamOptions {
            resume: false,
            ..opts.clone()
        };
        streamed = stream_job(&cont, &mut link, &again, &mut |_| {});
    }
    let sim_wall_s = t0.elapsed().as_secs_f64();
    let sim_cpu_s = cpu0.and_then(|a| thread_cpu_s().map(|b| b - a));
    let mut reports: Vec<SimReport> = std::mem::take(&mut link.lost);
    reports.push(link.simulator().report(true));
    let executed = reports
        .last()
        .map(|r| r.executed_sha256.clone())
        .unwrap_or_default();
    let mut outcome = empty_outcome(job, &link, executed);
    outcome
        .unfired
        .extend(events_past_the_job(s, job.layer_count()));
    outcome.unfired.extend(unknown);
    if let Some(last) = reports.last() {
        outcome.parts = last
            .parts
            .iter()
            .map(|p| PartState {
                id: job
                    .parts
                    .get(usize::from(p.index))
                    .map_or(format!("part {}", p.index), |i| i.serial.clone()),
                state: p.state.clone(),
                skipped_at_layer: p.skipped_at_layer,
                skip_rule: p.skip_rule.clone(),
                vectors_executed: p.vectors_executed,
                executed_sha256: p.executed_sha256.clone(),
            })
            .collect();
    }
    for (i, r) in reports.iter().enumerate() {
        fold_report(&mut outcome, i, r, job);
    }
    fold_stream(&mut outcome, streamed);
    outcome.host_notes.extend(replanned);
    ScenarioRun {
        outcome,
        job_wall_s: 0.0,
        sim_wall_s,
        sim_cpu_s,
    }
}
