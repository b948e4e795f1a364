//! The simulator harness (feature `std`): a [`Controller`] plus an [`EventSink`] that turns
//! execution events into a [`SimReport`] and per-layer exposure maps. `meltline-fw` is a thin
//! transport wrapper around [`Simulator`]; tests and the host can use it in-process.

pub mod exposure;
pub mod record;
pub mod report;
pub mod session;

use std::path::PathBuf;

use crate::controller::{Controller, DEFAULT_PARAMS, DEFAULT_READY, Event, EventSink, ReplySink};
use crate::machine::{LayerTiming, MachineConfig};
use crate::nvm::NonVolatile;
use crate::wire::{ControllerState, Fault, ParamSet, Segment, VectorKind};
use exposure::LayerGeometry;
use report::{FaultReport, LayerReport, LinkErrorReport, SimReport, TimeEnergy};

/// Exposure map pixel in µm unless [`SimOptions::pixel_um`] chooses another.
pub const DEFAULT_PIXEL_UM: f64 = 20.0;

/// How the simulator runs.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// The machine.
    pub machine: MachineConfig,
    /// Start as soon as a job is loaded (job files replayed without a host).
    pub auto_start: bool,
    /// Compute exposure maps (coverage and spill per layer).
    pub exposure: bool,
    /// Also write `layer_NNNNN.png` pictures here.
    pub exposure_dir: Option<PathBuf>,
    /// Exposure pixel size in µm, [`DEFAULT_PIXEL_UM`] by default; a value that is not a
    /// positive number also means the default (see [`SimOptions::exposure_pixel_um`]).
    pub pixel_um: f64,
    /// Keep the non-volatile record (last completed layer) in this file, so a simulator
    /// started again after being killed continues the job.
    pub nvm: Option<PathBuf>,
    /// Append one JSON line per executed layer to this file as it completes (the machine's
    /// build log: it outlives a killed process, so a resumed build can be proven to expose
    /// every layer exactly once).
    pub layer_log: Option<PathBuf>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            machine: MachineConfig::default(),
            auto_start: false,
            exposure: false,
            exposure_dir: None,
            pixel_um: DEFAULT_PIXEL_UM,
            nvm: None,
            layer_log: None,
        }
    }
}

impl SimOptions {
    /// The exposure pixel in µm: `pixel_um` when it is a positive number, else
    /// [`DEFAULT_PIXEL_UM`].
    pub fn exposure_pixel_um(&self) -> f64 {
        if self.pixel_um > 0.0 {
            self.pixel_um
        } else {
            DEFAULT_PIXEL_UM
        }
    }
}

/// Non-volatile memory as the simulator holds it (a file, a RAM record, or `()`).
pub type SimMemory = Box<dyn NonVolatile + Send>;

/// The controller inside a [`Simulator`].
/// Its layer arena lives on the heap, sized from the machine's
/// [`MachineConfig::layer_memory_bytes`].
pub type SimController = Controller<Box<[u8]>, DEFAULT_PARAMS, DEFAULT_READY, SimMemory>;

/// Collects events into the report.
#[derive(Debug, Default)]
struct Recorder {
    exposure: bool,
    exposure_dir: Option<PathBuf>,
    /// Exposure pixel in µm, as [`SimOptions::exposure_pixel_um`] resolved it.
    pixel_um: f64,
    quantum_nm: u32,
    layers_announced: Option<u32>,
    geometry: LayerGeometry,
    contour: Vec<[f64; 2]>,
    /// The part the marks being collected belong to.
    part: Option<u16>,
    /// The layer's geometry of the parts marked before the current one.
    part_geometry: std::collections::BTreeMap<Option<u16>, LayerGeometry>,
    /// Per part over the executed layers: intended, covered and spilled area (quanta²).
    part_exposure: std::collections::BTreeMap<u16, [f64; 3]>,
    by_kind: [u64; 5],
    layers: Vec<LayerReport>,
    faults: Vec<Fault>,
    warnings: Vec<Fault>,
    link_errors: Vec<LinkErrorReport>,
    states: Vec<String>,
    notes: Vec<String>,
    resumed_from: Option<u32>,
    skipped: Vec<u32>,
    layer_log: Option<std::fs::File>,
    release: Option<report::ReleaseReport>,
    /// Per laser: vectors marked and marks, jumps and delays in ticks.
    lasers: [(u64, u64); crate::lasers::MAX_LASERS],
    /// Vectors of each part marked by each laser.
    part_lasers: std::collections::BTreeMap<u16, [u64; crate::lasers::MAX_LASERS]>,
    /// Sum over layers of the slowest laser's ticks.
    exposure_ticks: u64,
}

/// One line of the layer log.
#[derive(serde::Serialize)]
struct LayerLogLine<'a> {
    /// The process that executed the layer.
    pid: u32,
    #[serde(flatten)]
    layer: &'a LayerReport,
}

impl Recorder {
    /// Ends the contour chain being collected: a piece of two vertices may be half of a
    /// contour cut at a laser seam, kept for [`exposure::stitch_contours`].
    fn close_contour(&mut self) {
        if self.contour.len() >= 2 {
            self.geometry
                .contours
                .push(std::mem::take(&mut self.contour));
        }
        self.contour.clear();
    }

    /// Sorts a mark into part exposure, intended boundary track or support (see
    /// [`exposure`] for the model).
    fn record_mark(&mut self, kind: VectorKind, param: &ParamSet, segment: &Segment, laser: u8) {
        let um = |v: u32| f64::from(v) * 1000.0 / f64::from(self.quantum_nm.max(1));
        let spot = um(param.spot_um);
        let g = &mut self.geometry;
        if kind != VectorKind::Support {
            g.mark_lasers.push(laser);
        }
        match kind {
            VectorKind::Support => g.support.push((*segment, spot)),
            VectorKind::Hatch => g
                .marks
                .push((*segment, spot.max(um(param.hatch_distance_um)))),
            VectorKind::Point => g.marks.push((*segment, spot)),
            VectorKind::Edge => {
                g.marks.push((*segment, spot));
                g.boundary.push((*segment, spot));
            }
            VectorKind::Contour => {
                g.marks.push((*segment, spot));
                g.boundary.push((*segment, spot));
                let from = [f64::from(segment.from.x), f64::from(segment.from.y)];
                // A contour too long for one frame arrives as open pieces sharing their end
                // vertices: a piece starting where the last one stopped continues it.
                if !segment.chained && self.contour.last() != Some(&from) {
                    self.close_contour();
                    self.contour.push(from);
                }
                self.contour
                    .push([f64::from(segment.to.x), f64::from(segment.to.y)]);
            }
        }
    }

    /// The marks that follow belong to `part`: the geometry collected so far is put aside
    /// under its own part.
    fn switch_part(&mut self, part: Option<u16>) {
        if part != self.part {
            self.put_aside();
            self.part = part;
        }
    }

    /// Moves the geometry collected so far to its part's share of the layer.
    fn put_aside(&mut self) {
        self.close_contour();
        let g = std::mem::take(&mut self.geometry);
        if g.marks.is_empty() && g.boundary.is_empty() && g.support.is_empty() {
            return;
        }
        let kept = self.part_geometry.entry(self.part).or_default();
        kept.marks.extend(g.marks);
        kept.mark_lasers.extend(g.mark_lasers);
        kept.contours.extend(g.contours);
        kept.boundary.extend(g.boundary);
        kept.support.extend(g.support);
    }

    /// Rasterises the layer's geometry part by part: coverage, spill and support area of the
    /// layer (each part against its own section), and the parts' totals.
    fn layer_exposure(&mut self, layer: u32) -> [Option<f64>; 4] {
        self.put_aside();
        let geometry = std::mem::take(&mut self.part_geometry);
        let q = f64::from(self.quantum_nm.max(1)) / 1000.0; // µm per quantum
        let pixel = self.pixel_um / q;
        let single = geometry.len() == 1;
        let [
            mut intended,
            mut covered,
            mut spilled,
            mut support,
            mut shared,
        ] = [0.0; 5];
        let mut only = None;
        let mut several = false;
        // Contour pieces cut at a laser seam each reach half the stitching overlap (at most
        // 0.5 mm) past it: a piece's end lies within the overlap of the next piece's start.
        let stitch = 600.0 / q;
        for (part, mut g) in geometry {
            g.contours = exposure::stitch_contours(std::mem::take(&mut g.contours), stitch);
            let Some(map) = g.rasterise(pixel, 4 << 20) else {
                continue;
            };
            if single && map.intended_cells > 0 {
                only = Some([map.coverage_pct, map.spill_pct]);
            }
            let area = map.intended_area();
            let got = [
                area,
                area * map.coverage_pct / 100.0,
                area * map.spill_pct / 100.0,
            ];
            if let Some(p) = part {
                let e = self.part_exposure.entry(p).or_default();
                for (total, add) in e.iter_mut().zip(got) {
                    *total += add;
                }
            }
            intended += got[0];
            covered += got[1];
            spilled += got[2];
            support += map.support_area();
            shared += area * map.shared_pct() / 100.0;
            several |= !map.lasers.is_empty();
            if let Some(dir) = &self.exposure_dir {
                let name = match part {
                    Some(p) if !single => format!("layer_{layer:05}_part_{p:03}.png"),
                    _ => format!("layer_{layer:05}.png"),
                };
                let path = dir.join(name);
                if let Err(e) = map.write_png(&path) {
                    self.notes
                        .push(format!("could not write {}: {e}", path.display()));
                }
            }
        }
        let support = (support > 0.0).then_some(support * q * q * 1e-6);
        let pct = |a: f64| (intended > 0.0).then(|| 100.0 * a / intended);
        let shared = pct(shared).filter(|_| several);
        if let Some([c, s]) = only {
            // One part (or a job without parts): the map's own figures.
            return [Some(c), Some(s), support, shared];
        }
        [pct(covered), pct(spilled), support, shared]
    }

    fn layer_done(&mut self, layer: u32, timing: &LayerTiming, digest: &[u8; 32]) {
        let [coverage, spill, support, shared] = if self.exposure {
            self.layer_exposure(layer)
        } else {
            self.close_contour();
            self.geometry = LayerGeometry::default();
            self.part_geometry.clear();
            [None; 4]
        };
        self.layers.push(LayerReport {
            layer,
            time: TimeEnergy::from(timing),
            vectors_by_kind: std::mem::take(&mut self.by_kind),
            coverage_pct: coverage,
            spill_pct: spill,
            support_mm2: support,
            shared_pct: shared,
            digest: hex(digest),
        });
        if let (Some(log), Some(layer)) = (self.layer_log.as_mut(), self.layers.last()) {
            use std::io::Write;
            let line = LayerLogLine {
                pid: std::process::id(),
                layer,
            };
            let written = serde_json::to_string(&line)
                .map_err(std::io::Error::other)
                .and_then(|mut text| {
                    text.push('\n');
                    log.write_all(text.as_bytes())
                });
            if let Err(e) = written {
                self.notes.push(format!(
                    "could not append layer {layer} to the layer log: {e}",
                    layer = line.layer.layer
                ));
            }
        }
    }
}

use crate::hex::encode as hex;

impl EventSink for Recorder {
    fn event(&mut self, e: &Event<'_>) {
        match e {
            Event::JobLoaded {
                quantum_nm,
                layer_count,
                ..
            } => {
                self.quantum_nm = *quantum_nm;
                self.layers_announced = Some(*layer_count);
            }
            Event::LayerBegin { .. } => {
                self.geometry = LayerGeometry::default();
                self.part_geometry.clear();
                self.part = None;
                self.contour.clear();
            }
            Event::Mark {
                kind,
                param,
                segment,
                part,
                laser,
                ..
            } => {
                if let Some(n) = self.by_kind.get_mut(*kind as usize) {
                    *n += 1;
                }
                if let Some(l) = self.lasers.get_mut(usize::from(*laser)) {
                    l.0 += 1;
                }
                if let Some(p) = part
                    && let Some(n) = self
                        .part_lasers
                        .entry(*p)
                        .or_default()
                        .get_mut(usize::from(*laser))
                {
                    *n += 1;
                }
                if self.exposure {
                    self.switch_part(*part);
                    self.record_mark(*kind, param, segment, *laser);
                }
            }
            Event::PartSkipped { part, layer, rule } => self.notes.push(format!(
                "part {part} excluded from layer {layer} on ({rule:?}); the rest of the plate went on"
            )),
            Event::LayerDone {
                layer,
                timing,
                laser_ticks,
                digest,
            } => {
                for (l, t) in self.lasers.iter_mut().zip(laser_ticks) {
                    l.1 += t;
                }
                self.exposure_ticks += timing.exposure_ticks();
                self.layer_done(*layer, timing, digest);
            }
            Event::StateChanged { to, .. } => self.states.push(format!("{to:?}")),
            Event::Fault(f) => self.faults.push(*f),
            Event::Warning(f) => self.warnings.push(*f),
            Event::LinkError {
                frame,
                offset,
                expected_seq,
                reason,
            } => {
                self.link_errors.push(LinkErrorReport::new(
                    *frame,
                    *offset,
                    *expected_seq,
                    *reason,
                ));
            }
            Event::Resumed { layer } => {
                self.resumed_from = Some(*layer);
                self.notes.push(format!(
                    "continued after a power loss at layer {layer}: layers 0..{layer} were completed before it and are not exposed again"
                ));
            }
            Event::LayerSkipped { layer } => self.skipped.push(*layer),
            Event::Oxygen { .. } => {}
            Event::Released { release, verified } => {
                self.release = Some(report::ReleaseReport::new(release, *verified));
            }
        }
    }
}

/// A controller with a recording event sink.
pub struct Simulator {
    ctl: Box<SimController>,
    rec: Recorder,
}

impl Simulator {
    /// A simulator in `Idle`, its record in the file `opts.nvm` if given.
    pub fn new(opts: SimOptions) -> Self {
        let nv: SimMemory = match &opts.nvm {
            Some(p) => Box::new(record::FileRecord::new(p)),
            None => Box::new(()),
        };
        Self::with_nonvolatile(opts, nv)
    }

    /// A simulator in `Idle` keeping its record in `nv` (e.g. a [`crate::nvm::RamRecord`]
    /// handed over from an earlier simulator by [`Simulator::power_loss`]); `opts.nvm` is
    /// ignored.
    pub fn with_nonvolatile(opts: SimOptions, nv: SimMemory) -> Self {
        let mut notes = Vec::new();
        let layer_log = opts.layer_log.as_ref().and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| {
                    notes.push(format!("could not open the layer log {}: {e}", p.display()))
                })
                .ok()
        });
        let pixel_um = opts.exposure_pixel_um();
        let arena = vec![0u8; opts.machine.layer_memory_bytes as usize].into_boxed_slice();
        let mut ctl = Box::new(Controller::with_arena(opts.machine, nv, arena));
        ctl.set_auto_start(opts.auto_start);
        if let Some(r) = ctl.record() {
            notes.push(format!(
                "non-volatile record: job {} with {} of {} layers completed; it continues at layer {} when the job is sent again",
                hex(&r.job_sha256),
                r.layers_done,
                r.layer_count,
                r.layers_done
            ));
        }
        let rec = Recorder {
            exposure: opts.exposure || opts.exposure_dir.is_some(),
            exposure_dir: opts.exposure_dir,
            pixel_um,
            layer_log,
            notes,
            ..Recorder::default()
        };
        Self { ctl, rec }
    }

    /// Feeds received bytes; replies go to `replies`.
    pub fn feed(&mut self, bytes: &[u8], replies: &mut impl ReplySink) {
        self.ctl.receive(bytes, replies, &mut self.rec);
    }

    /// Handles a frame already decoded (and authenticated) by the caller.
    pub fn handle_frame(&mut self, frame: crate::wire::Frame<'_>, replies: &mut impl ReplySink) {
        self.ctl.handle_frame(frame, replies, &mut self.rec);
    }

    /// Sets the chamber oxygen level.
    pub fn set_oxygen_ppm(&mut self, ppm: u32, replies: &mut impl ReplySink) {
        self.ctl.set_oxygen_ppm(ppm, replies, &mut self.rec);
    }

    /// The controller.
    pub fn controller(&self) -> &SimController {
        &self.ctl
    }

    /// Cuts the power: everything is lost but the non-volatile memory, which a new
    /// [`Simulator::with_nonvolatile`] starts from.
    pub fn power_loss(self) -> SimMemory {
        self.ctl.into_nonvolatile()
    }

    /// Whether the job reached Done, Faulted or Aborted.
    pub fn finished(&self) -> bool {
        matches!(
            self.ctl.state(),
            ControllerState::Done | ControllerState::Faulted | ControllerState::Aborted
        )
    }

    /// The report so far; `input_ended` adds a note when the job is incomplete.
    pub fn report(&self, input_ended: bool) -> SimReport {
        let r = self.ctl.report();
        let state = self.ctl.state();
        let mut notes = self.rec.notes.clone();
        if input_ended && !self.finished() {
            let announced = self
                .rec
                .layers_announced
                .map_or("?".to_string(), |n| n.to_string());
            notes.push(format!(
                "input ended in state {state:?} after {} of {announced} layers; layer {} was not completed and nothing of it was exposed",
                r.layers, r.layers
            ));
        }
        SimReport {
            machine: self.ctl.config().machine.to_string(),
            state: format!("{state:?}"),
            complete: state == ControllerState::Done,
            layers_announced: self.rec.layers_announced,
            layers_executed: r.layers,
            total: TimeEnergy::from(&self.ctl.totals()),
            layers: self.rec.layers.clone(),
            faults: self.rec.faults.iter().map(FaultReport::from).collect(),
            warnings: self.rec.warnings.iter().map(FaultReport::from).collect(),
            link_errors: self.rec.link_errors.clone(),
            states: self.rec.states.clone(),
            executed_sha256: hex(&r.executed_sha256),
            resumed_from: self.rec.resumed_from,
            layers_skipped: self.rec.skipped.clone(),
            release: self.rec.release.clone(),
            parts: (0..self.ctl.parts())
                .filter_map(|i| self.ctl.part_report(i))
                .map(|p| {
                    let exposure = self.rec.part_exposure.get(&p.part).copied();
                    let mut run = report::PartRun::new(
                        &p,
                        exposure.or(self.rec.exposure.then_some([0.0; 3])),
                    );
                    if let Some(by_laser) = self.rec.part_lasers.get(&p.part) {
                        run.lasers = report::PartLaser::list(by_laser);
                    }
                    run
                })
                .collect(),
            exposure_s: report::seconds(self.rec.exposure_ticks),
            lasers: (0..self.ctl.config().laser_count())
                .map(|index| {
                    let (vectors, ticks) = self.rec.lasers.get(index).copied().unwrap_or_default();
                    report::LaserRun {
                        index,
                        vectors,
                        exposure_s: report::seconds(ticks),
                    }
                })
                .collect(),
            notes,
        }
    }
}

/// Writes `bytes` to `path` atomically: the one writer of the workspace (temporary file
/// beside it, `fsync`, rename; devices, FIFOs and folders refused, symbolic links written
/// through), so a process killed at any instant leaves the old file or the new one.
pub use meltline_files::write_bytes_atomically as write_atomic;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_simulator_writer_refuses_to_replace_a_device() {
        use std::os::unix::fs::FileTypeExt;
        let err = write_atomic(std::path::Path::new("/dev/null"), b"report").unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
        let m = std::fs::metadata("/dev/null").unwrap();
        assert!(m.file_type().is_char_device());
    }

    #[test]
    fn the_exposure_pixel_is_the_default_unless_a_positive_one_is_given() {
        let mut o = SimOptions::default();
        assert_eq!(o.pixel_um, DEFAULT_PIXEL_UM);
        assert_eq!(o.exposure_pixel_um(), DEFAULT_PIXEL_UM);
        for p in [0.0, -5.0, f64::NAN] {
            o.pixel_um = p;
            assert_eq!(o.exposure_pixel_um(), DEFAULT_PIXEL_UM);
        }
        o.pixel_um = 10.0;
        assert_eq!(o.exposure_pixel_um(), 10.0);
    }

    #[test]
    fn the_shipped_machine_file_parses_and_overrides_defaults() {
        let text = include_str!("../../machines/ti64-250.toml");
        let m: MachineConfig = toml::from_str(text).unwrap();
        assert_eq!(m.machine.as_str(), "meltline-sim-250");
        assert_eq!(m.oxygen_threshold_ppm, 1000);
        assert_eq!(m.galvo.jump_speed_mm_s, 7000);
        let partial: MachineConfig = toml::from_str("oxygen_threshold_ppm = 500\n[[oxygen_excursions]]\nlayer = 3\npeak_ppm = 1500\nrecovery_ms = 20000\n").unwrap();
        assert_eq!(partial.oxygen_threshold_ppm, 500);
        assert_eq!(partial.oxygen_excursions.len(), 1);
        assert_eq!(partial.max_power_mw, MachineConfig::default().max_power_mw);
    }
}
