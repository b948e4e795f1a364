//! The simulator's JSON report.

use serde::Serialize;

use crate::machine::{LayerTiming, TICK_US};
use crate::wire::{Fault, NakReason};

/// Seconds of `ticks` 10 µs ticks.
pub fn seconds(ticks: u64) -> f64 {
    ticks as f64 * TICK_US as f64 * 1e-6
}

/// Time, energy and counts of one layer or of the whole job.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TimeEnergy {
    /// Laser-on travel, s.
    pub mark_s: f64,
    /// Laser-off travel, s.
    pub jump_s: f64,
    /// Scanner and laser delays, s.
    pub delay_s: f64,
    /// Platform lowering and recoating, s.
    pub recoat_s: f64,
    /// Waiting on the oxygen interlock, s.
    pub interlock_s: f64,
    /// Sum of the above, s.
    pub total_s: f64,
    /// Laser energy, J.
    pub energy_j: f64,
    /// Segments marked.
    pub marks: u64,
    /// Jumps.
    pub jumps: u64,
    /// Marked length, mm.
    pub mark_length_mm: f64,
}

impl From<&LayerTiming> for TimeEnergy {
    fn from(t: &LayerTiming) -> Self {
        Self {
            mark_s: seconds(t.mark_ticks),
            jump_s: seconds(t.jump_ticks),
            delay_s: seconds(t.delay_ticks),
            recoat_s: seconds(t.recoat_ticks),
            interlock_s: seconds(t.interlock_ticks),
            total_s: seconds(t.total_ticks()),
            energy_j: t.energy_nj as f64 * 1e-9,
            marks: t.marks,
            jumps: t.jumps,
            mark_length_mm: t.mark_length_nm as f64 * 1e-6,
        }
    }
}

/// One executed layer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerReport {
    /// Layer index.
    pub layer: u32,
    /// Time, energy, counts.
    #[serde(flatten)]
    pub time: TimeEnergy,
    /// Vectors by kind (contour, hatch, edge, support, point).
    pub vectors_by_kind: [u64; 5],
    /// Intended area covered by melt tracks, % (absent without contours or exposure maps).
    pub coverage_pct: Option<f64>,
    /// Exposed area outside the intended cross-section, % of the intended area.
    pub spill_pct: Option<f64>,
    /// Area exposed by support vectors, mm² (absent without supports or exposure maps); not
    /// part of coverage or spill.
    pub support_mm2: Option<f64>,
    /// Area the part marks of two lasers or more expose (the stitching overlap at seams), %
    /// of the intended area (absent with one laser or without exposure maps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_pct: Option<f64>,
    /// Verified layer digest, hex.
    pub digest: String,
}

/// A fault or warning with a readable message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultReport {
    /// Layer (absent for job-level faults).
    pub layer: Option<u32>,
    /// Block in the layer.
    pub block: Option<u32>,
    /// Vector in the block.
    pub vector: Option<u32>,
    /// Rule broken.
    pub rule: String,
    /// Offending value.
    pub value: i64,
    /// Limit.
    pub limit: i64,
    /// One-line description.
    pub message: String,
}

impl From<&Fault> for FaultReport {
    fn from(f: &Fault) -> Self {
        let opt = |v: u32| (v != crate::wire::control::NONE).then_some(v);
        let mut message = format!("{:?}", f.rule);
        for (name, v) in [("layer", f.layer), ("block", f.block), ("vector", f.vector)] {
            if let Some(v) = opt(v) {
                message.push_str(&format!(" at {name} {v}"));
            }
        }
        if f.value != 0 || f.limit != 0 {
            message.push_str(&format!(": value {} against limit {}", f.value, f.limit));
        }
        Self {
            layer: opt(f.layer),
            block: opt(f.block),
            vector: opt(f.vector),
            rule: format!("{:?}", f.rule),
            value: f.value,
            limit: f.limit,
            message,
        }
    }
}

/// A frame refused at the link level.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkErrorReport {
    /// Ordinal of the frame in the input stream (0-based); absent for sequence errors.
    pub frame: Option<u64>,
    /// Byte offset where it began.
    pub offset: Option<u64>,
    /// Sequence number expected (the frame's own number in an unbroken job file).
    pub expected_seq: u32,
    /// Why it was refused.
    pub reason: String,
}

impl LinkErrorReport {
    /// From the controller's event fields.
    pub fn new(frame: u64, offset: u64, expected_seq: u32, reason: NakReason) -> Self {
        let opt = |v: u64| (v != u64::MAX).then_some(v);
        Self {
            frame: opt(frame),
            offset: opt(offset),
            expected_seq,
            reason: format!("{reason:?}"),
        }
    }
}

/// Everything the simulator learnt from a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimReport {
    /// Machine identity.
    pub machine: String,
    /// Final controller state.
    pub state: String,
    /// Whether every layer executed and the job hash matched.
    pub complete: bool,
    /// Layers announced by the job header.
    pub layers_announced: Option<u32>,
    /// Layers executed.
    pub layers_executed: u32,
    /// Totals over executed layers.
    pub total: TimeEnergy,
    /// Per executed layer.
    pub layers: Vec<LayerReport>,
    /// Faults (at most one ends the job).
    pub faults: Vec<FaultReport>,
    /// Warnings (energy density under the `Warn` policy).
    pub warnings: Vec<FaultReport>,
    /// Frames refused at the link level.
    pub link_errors: Vec<LinkErrorReport>,
    /// State transitions in order.
    pub states: Vec<String>,
    /// Job hash recomputed over what was executed, hex.
    pub executed_sha256: String,
    /// The job was continued after a power loss at this layer: earlier layers were executed
    /// before it (and are not in `layers`), totals and the executed hash cover the whole job.
    pub resumed_from: Option<u32>,
    /// Layers completed before the power loss that a host sent again: verified, not exposed.
    pub layers_skipped: Vec<u32>,
    /// The job's release record, if it carried one.
    pub release: Option<ReleaseReport>,
    /// Per part of a plate job, in part-table order (empty for a job without parts).
    pub parts: Vec<PartRun>,
    /// Sum over executed layers of the slowest laser's marks, jumps and delays, s (no
    /// recoating): the lasers work at once.
    pub exposure_s: f64,
    /// Per laser of the machine, in index order: what it marked.
    pub lasers: Vec<LaserRun>,
    /// Human-readable notes (e.g. input ended with the job incomplete).
    pub notes: Vec<String>,
}

/// One laser of the machine as it executed the job.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct LaserRun {
    /// Its index on the machine.
    pub index: usize,
    /// Vectors it marked.
    pub vectors: u64,
    /// Its marks, jumps and delays over the executed layers, s.
    pub exposure_s: f64,
}

/// One part of a plate as the controller executed it.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct PartRun {
    /// Index in the job's part table.
    pub index: u16,
    /// `Built`, `Skipped` or `Unfinished`.
    pub state: String,
    /// The first layer without the part, if it was skipped.
    pub skipped_at_layer: Option<u32>,
    /// Why it was skipped (the rule).
    pub skip_rule: Option<String>,
    /// Vectors of the part marked.
    pub vectors_executed: u64,
    /// Its laser energy, J.
    pub energy_j: f64,
    /// Its mark time, s (jumps and delays belong to the layer).
    pub mark_s: f64,
    /// Part hash over what of it was executed, hex.
    pub executed_sha256: String,
    /// Its intended area covered by melt tracks over all executed layers, % (with exposure
    /// maps).
    pub coverage_pct: Option<f64>,
    /// Its exposure outside its intended area, % of that area (with exposure maps).
    pub spill_pct: Option<f64>,
    /// The lasers that marked it and how many of its vectors each (the simulator's account;
    /// empty from a printer's part report).
    #[serde(default)]
    pub lasers: Vec<PartLaser>,
}

/// One laser's share of a part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PartLaser {
    /// The laser's index on the machine.
    pub laser: usize,
    /// Vectors of the part it marked.
    pub vectors: u64,
}

impl PartLaser {
    /// The lasers with any of a part's vectors, from its count per laser (index = laser).
    pub fn list(per_laser: &[u64]) -> Vec<PartLaser> {
        per_laser
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(laser, &vectors)| PartLaser { laser, vectors })
            .collect()
    }
}

impl PartRun {
    /// The run of a part from the controller's report and its exposure totals
    /// (`[intended, covered, spilled]` area, any unit).
    pub fn new(r: &crate::wire::PartReport, exposure: Option<[f64; 3]>) -> Self {
        use crate::wire::PartState;
        let (state, layer, rule) = match r.state {
            PartState::Built => ("Built", None, None),
            PartState::Skipped { layer, rule } => {
                ("Skipped", Some(layer), Some(format!("{rule:?}")))
            }
            PartState::Unfinished => ("Unfinished", None, None),
        };
        let pct = |pick: fn(&[f64; 3]) -> f64| {
            exposure
                .filter(|[intended, ..]| *intended > 0.0)
                .map(|e| 100.0 * pick(&e) / e[0])
        };
        Self {
            index: r.part,
            state: state.into(),
            skipped_at_layer: layer,
            skip_rule: rule,
            vectors_executed: r.vectors,
            energy_j: r.energy_mj as f64 * 1e-3,
            mark_s: seconds(r.mark_ticks),
            executed_sha256: crate::hex::encode(&r.executed_sha256),
            coverage_pct: pct(|[_, covered, _]| *covered),
            spill_pct: pct(|[_, _, spilled]| *spilled),
            lasers: Vec::new(),
        }
    }
}

/// The release record a job carried, as the controller received it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReleaseReport {
    /// Printed name of the signer.
    pub signer: String,
    /// Meaning of the signature.
    pub meaning: String,
    /// Time of signing, UTC (RFC 3339).
    pub utc: String,
    /// Key id, hex.
    pub key_id: String,
    /// Released job hash, hex.
    pub job_sha256: String,
    /// The signature was checked against a trusted key (false: no keys configured).
    pub verified: bool,
}

impl ReleaseReport {
    /// The report of a received release.
    pub fn new(r: &crate::wire::Release<'_>, verified: bool) -> Self {
        use crate::hex::encode as hex;
        Self {
            signer: r.signer.to_string(),
            meaning: r.meaning.to_string(),
            utc: utc_rfc3339(r.utc_seconds),
            key_id: hex(&r.key_id),
            job_sha256: hex(&r.job_sha256),
            verified,
        }
    }
}

/// Formats seconds since the epoch as `YYYY-MM-DDThh:mm:ssZ` (proleptic Gregorian, UTC).
pub fn utc_rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
