//! One verified build run: a job file streamed to a controller (in this process or over TCP)
//! and what came back, as printed in summaries and written to JSON and HTML reports.

use std::path::PathBuf;

use meltline_firmware::machine::MachineConfig;
use meltline_firmware::sim::report::SimReport;
use meltline_firmware::sim::{SimOptions, Simulator};
use serde::Serialize;
use std::fmt::Write;

use crate::jobfile::{JobFile, LayerInfo, hex};
use crate::link::{InProcess, Progress, StreamError, StreamOptions, StreamOutcome, stream_job};

/// The job side of a run report.
#[derive(Debug, Clone, Serialize)]
pub struct JobSummaryReport {
    /// File name.
    pub name: String,
    /// Machine in the header.
    pub machine: String,
    /// Material.
    pub material: String,
    /// Quantum, nm.
    pub quantum_nm: u32,
    /// Layer thickness, nm.
    pub layer_thickness_nm: u32,
    /// Layers.
    pub layers: u32,
    /// Vectors.
    pub vectors: u64,
    /// Bytes.
    pub bytes: u64,
    /// Bytes per vector.
    pub bytes_per_vector: f64,
    /// Estimated build time on the machine model, s.
    pub est_time_s: f64,
    /// Estimated energy, J.
    pub est_energy_j: f64,
    /// Job hash.
    pub job_sha256: String,
    /// SHA-256 of the file bytes.
    pub file_sha256: String,
    /// Parameter sets.
    pub param_sets: Vec<ParamSetReport>,
    /// Per layer.
    pub per_layer: Vec<LayerInfo>,
    /// The part table of a plate job (empty for one part).
    pub parts: Vec<crate::jobfile::PartInfo>,
}

/// A parameter set in engineering units.
#[derive(Debug, Clone, Serialize)]
pub struct ParamSetReport {
    /// Id.
    pub id: u16,
    /// Power, W.
    pub power_w: f64,
    /// Speed, mm/s.
    pub speed_mm_s: u32,
    /// Spot, µm.
    pub spot_um: u32,
    /// Hatch distance, µm.
    pub hatch_um: u32,
    /// Volumetric energy density at the job's layer thickness, J/mm³.
    pub energy_density_j_mm3: f64,
    /// Skywriting.
    pub skywriting: bool,
}

impl ParamSetReport {
    /// Column headings of a parameter-set table (text and HTML).
    pub const COLUMNS: [&'static str; 7] = [
        "id",
        "power W",
        "speed mm/s",
        "spot µm",
        "hatch µm",
        "E J/mm³",
        "skywriting",
    ];

    /// The set's cells in the order of [`ParamSetReport::COLUMNS`], as the tables show them.
    pub fn cells(&self) -> [String; 7] {
        [
            self.id.to_string(),
            format!("{:.1}", self.power_w),
            self.speed_mm_s.to_string(),
            self.spot_um.to_string(),
            self.hatch_um.to_string(),
            format!("{:.1}", self.energy_density_j_mm3),
            self.skywriting.to_string(),
        ]
    }
}

impl JobSummaryReport {
    /// Summarises a verified job file.
    pub fn of(job: &JobFile) -> JobSummaryReport {
        let vectors = job.vectors();
        JobSummaryReport {
            name: job.name.clone(),
            machine: job.machine.clone(),
            material: job.material.clone(),
            quantum_nm: job.quantum_nm,
            layer_thickness_nm: job.layer_thickness_nm,
            layers: job.layer_count(),
            vectors,
            bytes: job.bytes,
            bytes_per_vector: job.bytes as f64 / vectors.max(1) as f64,
            est_time_s: job.est_time_s(),
            est_energy_j: job.est_energy_j(),
            job_sha256: hex(&job.job_sha256),
            file_sha256: hex(&job.file_sha256),
            param_sets: job
                .param_sets
                .iter()
                .map(|p| ParamSetReport {
                    id: p.id,
                    power_w: f64::from(p.power_mw) / 1000.0,
                    speed_mm_s: p.mark_speed_mm_s,
                    spot_um: p.spot_um,
                    hatch_um: p.hatch_distance_um,
                    energy_density_j_mm3: meltline_firmware::machine::energy_density_mj_mm3(
                        p,
                        job.layer_thickness_nm,
                    ) as f64
                        / 1000.0,
                    skywriting: p.skywriting,
                })
                .collect(),
            per_layer: job.layers.clone(),
            parts: job.parts.clone(),
        }
    }
}

/// Everything a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The job.
    pub job: JobSummaryReport,
    /// The link: retransmissions, faults survived, throughput.
    pub link: StreamOutcome,
    /// The controller's own report (in-process runs, or read from `meltline-fw --report`).
    pub controller: Option<ControllerSummary>,
    /// Vectors the controller marked equal the job's vectors.
    pub vector_counts_equal: bool,
    /// The verification outcome in one line.
    pub verdict: String,
    /// Where the design came from, when the run started from a design (traceability).
    pub trace: Option<Trace>,
    /// Per part of a plate job (empty for one part).
    pub parts: Vec<PartOutcome>,
}

/// One executed layer as the controller reported it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ControllerLayer {
    /// Layer index.
    pub layer: u32,
    /// Machine time, s.
    pub total_s: f64,
    /// Laser energy, J.
    pub energy_j: f64,
    /// Segments marked.
    pub marks: u64,
    /// Intended area covered, %.
    pub coverage_pct: Option<f64>,
    /// Exposed area outside the intended section, % of it.
    pub spill_pct: Option<f64>,
    /// Area exposed by supports, mm² (apart from coverage and spill).
    #[serde(default)]
    pub support_mm2: Option<f64>,
    /// Area exposed by two lasers or more (the stitching overlap), % of the intended area;
    /// absent with one laser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_pct: Option<f64>,
    /// Where the layer's time went.
    #[serde(flatten)]
    pub split: TimeSplit,
}

/// Where machine time went, s: the simulator's own split (`meltline-fw --report` layers and
/// totals carry these fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct TimeSplit {
    /// Laser-on travel, s.
    #[serde(default)]
    pub mark_s: f64,
    /// Laser-off travel, s.
    #[serde(default)]
    pub jump_s: f64,
    /// Scanner and laser delays, s.
    #[serde(default)]
    pub delay_s: f64,
    /// Platform lowering and recoating together, s (the machine file splits them).
    #[serde(default)]
    pub recoat_s: f64,
    /// Waiting on the oxygen interlock, s.
    #[serde(default)]
    pub interlock_s: f64,
}

impl TimeSplit {
    fn of(t: &meltline_firmware::sim::report::TimeEnergy) -> TimeSplit {
        TimeSplit {
            mark_s: t.mark_s,
            jump_s: t.jump_s,
            delay_s: t.delay_s,
            recoat_s: t.recoat_s,
            interlock_s: t.interlock_s,
        }
    }
}

/// Totals as the controller reported them.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ControllerTotals {
    /// Machine time, s.
    pub total_s: f64,
    /// Laser energy, J.
    pub energy_j: f64,
    /// Segments marked.
    pub marks: u64,
    /// Where the time went.
    #[serde(flatten)]
    pub split: TimeSplit,
}

/// The part of the controller's report (`meltline-fw --report`, or the in-process simulator)
/// a run report keeps.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ControllerSummary {
    /// Final state.
    pub state: String,
    /// Layers executed.
    pub layers_executed: u32,
    /// Totals.
    pub total: ControllerTotals,
    /// Per executed layer.
    pub layers: Vec<ControllerLayer>,
    /// Executed hash, hex.
    pub executed_sha256: String,
    /// Warnings the controller raised while executing (energy density under `Warn`).
    #[serde(default)]
    pub warnings: Vec<ControllerWarning>,
    /// Per part of a plate job, as the controller reported it.
    #[serde(default)]
    pub parts: Vec<meltline_firmware::sim::report::PartRun>,
    /// Sum over executed layers of the slowest laser's marks, jumps and delays, s.
    #[serde(default)]
    pub exposure_s: f64,
    /// Per laser of the machine: what it marked.
    #[serde(default)]
    pub lasers: Vec<meltline_firmware::sim::report::LaserRun>,
}

/// A warning raised by the controller.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ControllerWarning {
    /// Layer, when the warning belongs to one.
    #[serde(default)]
    pub layer: Option<u32>,
    /// Rule.
    pub rule: String,
    /// One-line description.
    pub message: String,
}

impl ControllerSummary {
    /// From the simulator's report.
    pub fn of(r: &SimReport) -> ControllerSummary {
        ControllerSummary {
            state: r.state.clone(),
            layers_executed: r.layers_executed,
            total: ControllerTotals {
                total_s: r.total.total_s,
                energy_j: r.total.energy_j,
                marks: r.total.marks,
                split: TimeSplit::of(&r.total),
            },
            layers: r
                .layers
                .iter()
                .map(|l| ControllerLayer {
                    layer: l.layer,
                    total_s: l.time.total_s,
                    energy_j: l.time.energy_j,
                    marks: l.time.marks,
                    coverage_pct: l.coverage_pct,
                    spill_pct: l.spill_pct,
                    support_mm2: l.support_mm2,
                    shared_pct: l.shared_pct,
                    split: TimeSplit::of(&l.time),
                })
                .collect(),
            executed_sha256: r.executed_sha256.clone(),
            warnings: r
                .warnings
                .iter()
                .map(|w| ControllerWarning {
                    layer: w.layer,
                    rule: w.rule.clone(),
                    message: w.message.clone(),
                })
                .collect(),
            parts: r.parts.clone(),
            exposure_s: r.exposure_s,
            lasers: r.lasers.clone(),
        }
    }
}

/// One part of a plate in the run report: its serial beside what the controller did with it.
#[derive(Debug, Clone, Serialize)]
pub struct PartOutcome {
    /// Serial number (from the job's part table).
    pub id: String,
    /// Case reference.
    pub case: String,
    /// Vectors of the part in the job.
    pub vectors: u64,
    /// What the controller did with it.
    #[serde(flatten)]
    pub run: meltline_firmware::sim::report::PartRun,
}

impl PartOutcome {
    /// The parts of `job` joined with the controller's account of them, in part order.
    /// Without the controller's own summary (a stream to a printer), the part reports that
    /// came over the link stand in, without coverage and spill.
    pub fn of(
        job: &JobFile,
        controller: Option<&ControllerSummary>,
        link: &[meltline_firmware::wire::PartReport],
    ) -> Vec<PartOutcome> {
        let runs: Vec<meltline_firmware::sim::report::PartRun> = match controller {
            Some(c) => c.parts.clone(),
            None => {
                let mut r: Vec<_> = link
                    .iter()
                    .map(|p| meltline_firmware::sim::report::PartRun::new(p, None))
                    .collect();
                r.sort_by_key(|p| p.index);
                r
            }
        };
        runs.into_iter()
            .map(|run| {
                let info = job.parts.get(usize::from(run.index));
                PartOutcome {
                    id: info.map_or(format!("part {}", run.index), |p| p.serial.clone()),
                    case: info.map(|p| p.case.clone()).unwrap_or_default(),
                    vectors: info.map_or(0, |p| p.vectors),
                    run,
                }
            })
            .collect()
    }
}

/// The traceability chain spec → mesh → job → executed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trace {
    /// The design specification (text) and its SHA-256.
    pub spec: Option<String>,
    /// SHA-256 of the spec text.
    pub spec_sha256: Option<String>,
    /// SHA-256 of the mesh (slicer's source hash).
    pub mesh_sha256: Option<String>,
}

impl RunReport {
    /// Assembles a report from the parts.
    pub fn new(
        job: &JobFile,
        link: StreamOutcome,
        controller: Option<ControllerSummary>,
    ) -> RunReport {
        let executed_vectors = link
            .report
            .map(|r| r.vectors)
            .or(controller.as_ref().map(|c| c.total.marks));
        let vector_counts_equal = executed_vectors == Some(job.vectors());
        let parts = PartOutcome::of(job, controller.as_ref(), &link.part_reports);
        let skipped: Vec<String> = parts
            .iter()
            .filter(|p| p.run.state == "Skipped")
            .map(|p| {
                format!(
                    "{} from layer {} ({})",
                    p.id,
                    p.run.skipped_at_layer.unwrap_or(0),
                    p.run.skip_rule.as_deref().unwrap_or("?")
                )
            })
            .collect();
        let verdict = if link.verified() && vector_counts_equal {
            format!(
                "VERIFIED: executed hash equals job hash {} and all {} vectors were marked",
                link.job_sha256,
                job.vectors()
            )
        } else if let Some(why) = &link.interrupted {
            format!("NOT VERIFIED: {why}")
        } else if !skipped.is_empty() && link.fault_messages.is_empty() {
            format!(
                "NOT VERIFIED: part skipped: {}; the other {} parts were built",
                skipped.join(", "),
                parts.len() - skipped.len()
            )
        } else if !link.fault_messages.is_empty() {
            format!(
                "NOT VERIFIED: controller fault: {}",
                link.fault_messages.join("; ")
            )
        } else {
            format!(
                "NOT VERIFIED: executed hash {} vs job hash {}",
                link.executed_sha256.as_deref().unwrap_or("(none)"),
                link.job_sha256
            )
        };
        RunReport {
            job: JobSummaryReport::of(job),
            link,
            controller,
            vector_counts_equal,
            verdict,
            trace: None,
            parts,
        }
    }

    /// The run is verified end to end.
    pub fn verified(&self) -> bool {
        self.link.verified() && self.vector_counts_equal
    }

    /// The human summary printed by `simulate`, `stream` and `demo`: the job, what the
    /// controller executed, the link, the hashes and the verdict.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        self.job.write_text(&mut s);
        self.write_executed(&mut s);
        self.write_parts(&mut s);
        write_link(&mut s, &self.link);
        let _ = write!(s, "{}", self.verdict);
        s
    }

    /// One line per part of a plate job as the controller built, skipped or left it.
    fn write_parts(&self, s: &mut String) {
        for p in &self.parts {
            let r = &p.run;
            let _ = write!(
                s,
                "part         {}{}: {}, {} of {} vectors, {:.1} J",
                p.id,
                if p.case.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", p.case)
                },
                r.state,
                r.vectors_executed,
                p.vectors,
                r.energy_j
            );
            if let (Some(layer), Some(rule)) = (r.skipped_at_layer, &r.skip_rule) {
                let _ = write!(s, ", skipped from layer {layer} ({rule})");
            }
            if let Some(c) = r.coverage_pct {
                let _ = write!(s, ", coverage {c:.1} %");
            }
            let _ = writeln!(s, ", executed sha256 {}", r.executed_sha256);
        }
    }

    /// What the controller executed: layers, vectors, time and energy, coverage and spill
    /// (from its report, else from the final report frame).
    fn write_executed(&self, s: &mut String) {
        let j = &self.job;
        if let Some(c) = &self.controller {
            let _ = writeln!(
                s,
                "executed     {} of {} layers, {} vectors, {}, {:.1} J",
                c.layers_executed,
                j.layers,
                c.total.marks,
                hms(c.total.total_s),
                c.total.energy_j
            );
            c.write_coverage(s);
        } else if let Some(r) = self.link.report {
            let _ = writeln!(
                s,
                "executed     {} layers, {} vectors, {:.1} J",
                r.layers,
                r.vectors,
                r.energy_mj as f64 / 1000.0
            );
        }
    }
}

impl JobSummaryReport {
    /// The job's lines of a summary: name, layers, vectors, bytes, estimates.
    pub fn write_text(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "job          {} ({} on {})",
            self.name, self.material, self.machine
        );
        let _ = writeln!(
            s,
            "layers       {} × {} µm",
            self.layers,
            f64::from(self.layer_thickness_nm) / 1000.0
        );
        let _ = writeln!(s, "vectors      {}", self.vectors);
        let _ = writeln!(
            s,
            "bytes        {} ({:.2} bytes per vector)",
            self.bytes, self.bytes_per_vector
        );
        let _ = writeln!(
            s,
            "est. time    {} (machine model: marks, jumps, delays, recoat)",
            hms(self.est_time_s)
        );
        let _ = writeln!(s, "est. energy  {:.1} J", self.est_energy_j);
    }

    /// Vectors of the whole job by kind, in the order of [`crate::jobfile::KIND_NAMES`].
    pub fn vectors_by_kind(&self) -> [u64; 5] {
        let mut by_kind = [0u64; 5];
        for l in &self.per_layer {
            for (t, n) in by_kind.iter_mut().zip(l.vectors_by_kind) {
                *t += n;
            }
        }
        by_kind
    }
}

impl ControllerSummary {
    /// Coverage and spill over the layers with exposure maps, and the support area exposed.
    fn write_coverage(&self, s: &mut String) {
        let cov: Vec<f64> = self.layers.iter().filter_map(|l| l.coverage_pct).collect();
        let spill: Vec<f64> = self.layers.iter().filter_map(|l| l.spill_pct).collect();
        if !cov.is_empty() {
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            let min = cov.iter().copied().fold(f64::INFINITY, f64::min);
            let max_spill = spill.iter().copied().fold(0.0, f64::max);
            let _ = writeln!(
                s,
                "coverage     mean {:.1} %, worst layer {:.1} %; spill mean {:.1} %, worst {:.1} %",
                mean(&cov),
                min,
                mean(&spill),
                max_spill
            );
        }
        let support: Vec<f64> = self.layers.iter().filter_map(|l| l.support_mm2).collect();
        if !support.is_empty() {
            let _ = writeln!(
                s,
                "supports     exposed on {} layers, {:.1} mm² in all (not part of coverage or spill)",
                support.len(),
                support.iter().sum::<f64>()
            );
        }
    }
}

/// The link's lines of a summary: frames, faults survived, resume, throughput and hashes.
fn write_link(s: &mut String, l: &StreamOutcome) {
    let f = &l.link_faults;
    let naks: Vec<String> = l.naks.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let _ = writeln!(
        s,
        "link         {} frames sent ({} bytes), {} retransmitted; {} dropped, {} corrupted, {} duplicated, {} disconnects injected; \
         {} timeouts, {} reconnects; NAKs: {}",
        l.frames,
        l.bytes_sent,
        l.retransmits,
        f.dropped,
        f.corrupted,
        f.duplicated,
        f.disconnects,
        l.timeouts,
        l.reconnects,
        if naks.is_empty() {
            "none".into()
        } else {
            naks.join(", ")
        }
    );
    if let Some(k) = l.resumed_at_layer {
        let _ = writeln!(
            s,
            "resumed      at layer {k} from the controller's non-volatile record ({} restart(s) during this stream)",
            l.controller_restarts
        );
    }
    let _ = writeln!(
        s,
        "throughput   {:.2} MB/s, {:.0} vectors/s over {:.2} s",
        l.throughput_mb_s, l.vectors_per_s, l.elapsed_s
    );
    let _ = writeln!(s, "job hash     {}", l.job_sha256);
    let _ = writeln!(
        s,
        "executed     {}",
        l.executed_sha256.as_deref().unwrap_or("(no report)")
    );
    let _ = writeln!(
        s,
        "hashes equal {}",
        if l.hashes_equal { "yes" } else { "NO" }
    );
}

/// `h:mm:ss` of seconds.
pub fn hms(s: f64) -> String {
    let t = s.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

/// How to simulate in process.
#[derive(Debug, Clone, Default)]
pub struct SimulateOptions {
    /// The machine.
    pub machine: MachineConfig,
    /// The link.
    pub stream: StreamOptions,
    /// Exposure maps (coverage, spill).
    pub exposure: bool,
    /// Exposure pictures go here.
    pub exposure_dir: Option<PathBuf>,
}

/// Streams `job` to a simulated controller in this process over the real protocol path.
pub fn simulate(
    job: &JobFile,
    opts: &SimulateOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<RunReport, StreamError> {
    let sim = Simulator::new(SimOptions {
        machine: opts.machine.clone(),
        auto_start: false,
        exposure: opts.exposure || opts.exposure_dir.is_some(),
        exposure_dir: opts.exposure_dir.clone(),
        pixel_um: meltline_firmware::sim::DEFAULT_PIXEL_UM,
        ..SimOptions::default()
    });
    let mut t = InProcess::new(sim);
    let outcome = stream_job(job, &mut t, &opts.stream, progress)?;
    let controller = ControllerSummary::of(&t.sim.report(true));
    Ok(RunReport::new(job, outcome, Some(controller)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::FaultSpec;
    use crate::mlj::{MljOptions, encode_mlj};
    use meltline_core::mesh::Mesh;
    use meltline_slicer::job::{Slicer, SlicerOptions};
    use meltline_slicer::profile::ProcessProfile;

    fn box_job() -> JobFile {
        let profile = ProcessProfile::ti6al4v();
        let part = Mesh::axis_aligned_box([-4.0, -3.0, 0.0], [4.0, 3.0, 0.6]);
        let job = Slicer::new(&part, profile, SlicerOptions::default())
            .unwrap()
            .build_job()
            .unwrap();
        let opts = MljOptions {
            machine: Some(MachineConfig::default().machine.to_string()),
            ..MljOptions::default()
        };
        let (bytes, _) = encode_mlj(&job, &opts).unwrap();
        JobFile::parse(&bytes, "box.mlj", &MachineConfig::default()).unwrap()
    }

    fn run(job: &JobFile, faults: Option<&str>) -> RunReport {
        let opts = SimulateOptions {
            stream: StreamOptions {
                faults: faults.map(|f| f.parse::<FaultSpec>().unwrap()),
                ..StreamOptions::default()
            },
            exposure: true,
            ..SimulateOptions::default()
        };
        simulate(job, &opts, &mut |_| {}).unwrap()
    }

    #[test]
    fn clean_link_executes_the_job_with_equal_hashes() {
        let job = box_job();
        let r = run(&job, None);
        assert!(r.verified(), "{}", r.summary());
        assert_eq!(r.link.retransmits, 0);
        let c = r.controller.unwrap();
        assert_eq!(c.layers_executed, job.layer_count());
        assert!(c.layers.iter().all(|l| l.coverage_pct.is_some()));
    }

    #[test]
    fn drops_corruption_duplicates_and_disconnects_are_survived() {
        let job = box_job();
        let r = run(
            &job,
            Some("drop=0.05,corrupt=0.05,dup=0.02,disconnect-every=40,seed=11"),
        );
        assert!(r.verified(), "{}", r.summary());
        let f = r.link.link_faults;
        assert!(
            f.dropped > 0 && f.corrupted > 0 && f.disconnects > 0,
            "{f:?}"
        );
        assert!(r.link.retransmits > 0 && r.link.reconnects > 0);
        let c = r.controller.unwrap();
        let layers: Vec<u32> = c.layers.iter().map(|l| l.layer).collect();
        assert_eq!(
            layers,
            (0..job.layer_count()).collect::<Vec<_>>(),
            "each layer exactly once"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_link_history() {
        let job = box_job();
        let a = run(&job, Some("drop=0.03,corrupt=0.03,seed=5"));
        let b = run(&job, Some("drop=0.03,corrupt=0.03,seed=5"));
        assert_eq!(a.link.link_faults, b.link.link_faults);
        assert_eq!(a.link.retransmits, b.link.retransmits);
    }
}
