//! The scenario file: job source, machine, link, timeline of injected events and expectations,
//! read from TOML with every unknown key and out-of-range value refused by name.

use std::path::{Path, PathBuf};

use meltline_firmware::machine::MachineConfig;
use meltline_firmware::wire::{ControllerState, Rule};
use meltline_slicer::profile::ProcessProfile;
use serde::{Deserialize, Serialize};

use crate::faults::FaultSpec;

/// Why a scenario could not be read or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// A file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The TOML does not parse or does not fit the schema (unknown key, wrong type or variant).
    #[error("{path}: {message}")]
    Parse {
        /// The scenario file.
        path: PathBuf,
        /// The parser's message (line, column, key).
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("{path}: `{key}` = {value}: {why}")]
    Value {
        /// The scenario file.
        path: PathBuf,
        /// Dotted key, e.g. `event[2].layer`.
        key: String,
        /// The value as written.
        value: String,
        /// What is wrong with it.
        why: String,
    },
    /// The job could not be made (mesh unreadable, slicing or encoding refused).
    #[error("{path}: job: {message}")]
    Job {
        /// The scenario file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// Where the job comes from: exactly one of `box_mm`, `mesh`, `cage`, `mlj`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobSource {
    /// A generated block of this size (x, y, z in mm) centred on the plate: runs anywhere.
    pub box_mm: Option<[f64; 3]>,
    /// A mesh file (STL, OBJ, PLY, 3MF), relative to the scenario file; `$MELTLINE_CORPUS/…`
    /// names a corpus file.
    pub mesh: Option<String>,
    /// A cage spec file, or `default` for the embedded TLIF cage.
    pub cage: Option<String>,
    /// A ready `.mlj` job file.
    pub mlj: Option<String>,
    /// A plate file (`meltline plate` format): the job is the plate, one part table entry per
    /// part, prepared for the scenario's machine.
    pub plate: Option<String>,
    /// Mesh edge length of a designed cage, mm (default 0.6: coarse, for quick runs).
    pub edge_length_mm: Option<f64>,
    /// Slice with supports.
    #[serde(default)]
    pub supports: bool,
    /// Process profile file (TOML), relative to the scenario file.
    pub profile_file: Option<String>,
    /// Inline process profile; fields left out take the Ti-6Al-4V defaults.
    pub profile: Option<ProcessProfile>,
    /// Spot diameter written into the parameter sets, µm.
    pub spot_um: Option<u32>,
    /// Machine name written into the job header (default: the scenario machine's).
    pub machine_name: Option<String>,
}

/// The simulated link between host and controller.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkSpec {
    /// Random faults for the whole run, e.g. `corrupt=0.2,seed=3` (the `--faults` syntax).
    pub faults: Option<String>,
    /// Link rate in bytes per second of virtual time.
    pub bytes_per_s: f64,
    /// Round-trip time: replies arrive this long after what caused them, ms.
    pub round_trip_ms: f64,
    /// The host gives up after this much virtual time without progress, s.
    pub stall_timeout_s: f64,
    /// Time a controller takes to boot after a power loss, s of virtual time.
    pub reboot_s: f64,
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            faults: None,
            bytes_per_s: 1.0e6,
            round_trip_ms: 1.0,
            stall_timeout_s: 600.0,
            reboot_s: 30.0,
        }
    }
}

/// What an injected link fault does to one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FrameFault {
    /// The frame is lost.
    Drop,
    /// One bit of the frame is flipped.
    Corrupt,
    /// The frame arrives twice.
    Duplicate,
    /// The frame is delivered, then the connection drops.
    Disconnect,
}

/// One injected event of the timeline (`[[event]]`, tagged by `kind`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TimelineEvent {
    /// Chamber oxygen rises to `peak_ppm` before layer `layer` and takes `duration_s` to purge.
    OxygenExcursion {
        /// Layer before which it happens.
        layer: u32,
        /// Peak level, ppm.
        peak_ppm: u32,
        /// Time until the level is back under the threshold, s.
        duration_s: f64,
    },
    /// The recoater hits the part while recoating for layer `layer`. On a plate job, naming
    /// `part` puts the collision at that part's position: it is skipped from `layer` on and the
    /// others go on; without it the whole build faults.
    RecoaterCollision {
        /// The layer.
        layer: u32,
        /// The serial of the part it hits (plate jobs).
        part: Option<String>,
    },
    /// The operator excludes part `part` (serial) from layer `layer` on (plate jobs).
    SkipPart {
        /// Layer before which the command is given.
        layer: u32,
        /// Serial of the part.
        part: String,
    },
    /// Laser `laser` goes down before layer `layer` is exposed: the controller stops there, the
    /// host plans the remaining layers on the other lasers and continues; a part none of them
    /// reaches is skipped.
    LaserFailure {
        /// The layer before which it fails.
        layer: u32,
        /// The laser's index on the machine.
        laser: u8,
    },
    /// From layer `from_layer` on the laser delivers `power_pct` % of the commanded power.
    LaserDrift {
        /// First layer affected.
        from_layer: u32,
        /// Delivered power, % of commanded.
        power_pct: f64,
    },
    /// One frame of the stream (by sequence number, its first transmission) is hit.
    LinkFault {
        /// Stream frame (sequence number in the job file).
        frame: u32,
        /// What happens to it.
        fault: FrameFault,
    },
    /// The controller loses power while layer `layer` is being received, after `after_blocks`
    /// of its vector blocks; a new controller boots and the host reconnects.
    PowerLoss {
        /// The layer in progress.
        layer: u32,
        /// Vector blocks of the layer received before the loss.
        #[serde(default = "one")]
        after_blocks: u32,
        /// The controller keeps its last completed layer in non-volatile memory (default);
        /// `false` models a controller without it.
        #[serde(default = "yes")]
        nonvolatile: bool,
    },
    /// The operator pauses before layer `layer`; resumes `resume_after_s` later (never if absent).
    Pause {
        /// Layer before which the build pauses.
        layer: u32,
        /// Virtual seconds until the operator resumes.
        resume_after_s: Option<f64>,
    },
    /// The operator aborts before layer `layer`.
    Abort {
        /// Layer before which the build is aborted.
        layer: u32,
    },
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

/// An energy window over a range of layers.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyWindow {
    /// First and last layer (inclusive) the window applies to; all exposed layers if absent.
    pub layers: Option<[u32; 2]>,
    /// Lowest and highest laser energy of each of those layers, J.
    pub joules: [f64; 2],
}

/// What the run must show. Every field is optional; an absent one is not checked.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Final controller state.
    pub state: Option<ControllerState>,
    /// Faults raised, by rule name (order does not matter; `[]` means none).
    pub faults: Option<Vec<Rule>>,
    /// No layer exposed twice, the exposed layers are 0, 1, 2… in order, each with all its
    /// vectors; and, when the job completed, every layer of the job.
    pub layers_exposed_once: Option<bool>,
    /// Number of layers exposed.
    pub layers_exposed: Option<u32>,
    /// States the controller passed through, in this order (others may come between).
    pub passes_through: Option<Vec<ControllerState>>,
    /// Machine time of the build (marks, jumps, delays, recoat, interlock waits), s.
    pub build_time_s: Option<[f64; 2]>,
    /// Time spent waiting on the oxygen interlock, s.
    pub interlock_s: Option<[f64; 2]>,
    /// Lowest coverage of the intended cross-section on any exposed layer, %.
    pub coverage_pct_min: Option<f64>,
    /// Highest spill outside the intended cross-section on any exposed layer, %.
    pub spill_pct_max: Option<f64>,
    /// Laser energy per layer windows.
    pub energy: Option<Vec<EnergyWindow>>,
    /// The controller's executed hash equals the job hash.
    pub hashes_equal: Option<bool>,
    /// At least this many frames refused by the controller at the link level (CRC, framing…).
    pub link_errors_min: Option<u64>,
    /// The controller that booted after a power loss resumed the job at this layer.
    pub resumed_from: Option<u32>,
    /// On a plate: exactly these parts skipped (serial, first layer without it, rule); every
    /// other part built.
    pub parts_skipped: Option<Vec<PartSkip>>,
}

/// A part skip a scenario expects.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartSkip {
    /// Serial.
    pub id: String,
    /// First layer without it.
    pub layer: u32,
    /// Why (`RecoaterCollision`, `OperatorSkip`).
    pub rule: Rule,
}

/// A scenario as written in its file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: Option<String>,
    description: Option<String>,
    job: JobSource,
    machine: Option<toml::Table>,
    #[serde(default)]
    link: LinkSpec,
    #[serde(default)]
    exposure: Option<ExposureSpec>,
    #[serde(default)]
    event: Vec<TimelineEvent>,
    #[serde(default)]
    expect: Expect,
}

/// Exposure maps (coverage and spill).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExposureSpec {
    /// Compute them.
    pub enabled: bool,
    /// Pixel size, µm.
    #[serde(default = "default_pixel")]
    pub pixel_um: f64,
}

fn default_pixel() -> f64 {
    20.0
}

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its file.
    pub path: PathBuf,
    /// Its name (`name`, else the file stem).
    pub name: String,
    /// What it is about.
    pub description: String,
    /// The job.
    pub job: JobSource,
    /// The machine with the scenario's overrides and machine-model events applied.
    pub machine: MachineConfig,
    /// The link.
    pub link: LinkSpec,
    /// Parsed random link faults.
    pub link_faults: Option<FaultSpec>,
    /// Exposure maps: on when asked for, or when coverage or spill are expected.
    pub exposure: ExposureSpec,
    /// The timeline.
    pub events: Vec<TimelineEvent>,
    /// The expectations.
    pub expect: Expect,
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn read(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Scenario::parse(&text, path)
    }

    /// Parses and validates scenario text; `path` names it in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        let file: ScenarioFile = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let bad = |(key, value, why): Invalid| ScenarioError::Value {
            path: path.to_path_buf(),
            key,
            value,
            why,
        };
        validate_job(&file.job).map_err(bad)?;
        let mut machine = machine_config(path, file.machine.as_ref())?;
        let link_faults = validate_link(&file.link).map_err(bad)?;
        for (i, e) in file.event.iter().enumerate() {
            apply_machine_event(&mut machine, e)
                .map_err(|(key, value, why)| bad((format!("event[{i}].{key}"), value, why)))?;
        }
        validate_expect(&file.expect)
            .map_err(|(key, value, why)| bad((format!("expect.{key}"), value, why)))?;
        let exposure = exposure_of(&file).map_err(bad)?;
        let name = file.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "scenario".into())
        });
        Ok(Scenario {
            path: path.to_path_buf(),
            name,
            description: file.description.unwrap_or_default(),
            job: file.job,
            machine,
            link: file.link,
            link_faults,
            exposure,
            events: file.event,
            expect: file.expect,
        })
    }

    /// A path written in the scenario, resolved against the scenario's folder;
    /// `$MELTLINE_CORPUS/…` against the corpus.
    pub fn resolve(&self, key: &str, written: &str) -> Result<PathBuf, ScenarioError> {
        if let Some(rest) = written.strip_prefix("$MELTLINE_CORPUS") {
            let dir = std::env::var_os("MELTLINE_CORPUS").ok_or_else(|| ScenarioError::Value {
                path: self.path.clone(),
                key: key.to_string(),
                value: format!("{written:?}"),
                why: "MELTLINE_CORPUS is not set (the folder of the test corpus)".into(),
            })?;
            return Ok(PathBuf::from(dir).join(rest.trim_start_matches(['/', '\\'])));
        }
        let p = Path::new(written);
        Ok(if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(p)
        })
    }
}

/// An invalid value: the key, the value as written and why it is refused.
fn invalid(key: &str, value: String, why: &str) -> Invalid {
    (key.to_string(), value, why.to_string())
}

/// The job section: exactly one source, sizes in range, no profile on a ready job file.
fn validate_job(j: &JobSource) -> Result<(), Invalid> {
    let sources = [
        j.box_mm.is_some(),
        j.mesh.is_some(),
        j.cage.is_some(),
        j.mlj.is_some(),
        j.plate.is_some(),
    ];
    let given = sources.iter().filter(|s| **s).count();
    if given != 1 {
        return Err(invalid(
            "job",
            format!("{given} sources"),
            "give exactly one of box_mm, mesh, cage, mlj, plate",
        ));
    }
    if let Some(b) = j.box_mm
        && !b.iter().all(|v| v.is_finite() && *v > 0.0 && *v <= 250.0)
    {
        return Err(invalid(
            "job.box_mm",
            format!("{b:?}"),
            "sizes must be positive and at most 250 mm",
        ));
    }
    if let Some(e) = j.edge_length_mm
        && !(e.is_finite() && e > 0.0)
    {
        return Err(invalid(
            "job.edge_length_mm",
            e.to_string(),
            "must be a positive number",
        ));
    }
    if j.profile.is_some() && j.profile_file.is_some() {
        return Err(invalid(
            "job.profile",
            "(inline table)".into(),
            "give either profile or profile_file, not both",
        ));
    }
    if j.mlj.is_some() && (j.profile.is_some() || j.profile_file.is_some() || j.supports) {
        return Err(invalid(
            "job.mlj",
            format!("{:?}", j.mlj.as_deref().unwrap_or_default()),
            "a ready job file takes no profile or supports",
        ));
    }
    Ok(())
}

/// The link section: its fault schedule parsed, its rates and times in range.
fn validate_link(link: &LinkSpec) -> Result<Option<FaultSpec>, Invalid> {
    let faults = match &link.faults {
        None => None,
        Some(s) => Some(
            s.parse::<FaultSpec>()
                .map_err(|e| invalid("link.faults", format!("{s:?}"), &e.to_string()))?,
        ),
    };
    for (key, v, min) in [
        ("link.bytes_per_s", link.bytes_per_s, 1.0),
        ("link.round_trip_ms", link.round_trip_ms, 0.0),
        ("link.stall_timeout_s", link.stall_timeout_s, 0.001),
        ("link.reboot_s", link.reboot_s, 0.0),
    ] {
        if !(v.is_finite() && v >= min) {
            return Err(invalid(
                key,
                v.to_string(),
                &format!("must be a number ≥ {min}"),
            ));
        }
    }
    Ok(faults)
}

/// The exposure maps: on when coverage or spill is expected (unless given), pixel in range.
fn exposure_of(file: &ScenarioFile) -> Result<ExposureSpec, Invalid> {
    let wants_maps = file.expect.coverage_pct_min.is_some() || file.expect.spill_pct_max.is_some();
    let exposure = file.exposure.unwrap_or(ExposureSpec {
        enabled: wants_maps,
        pixel_um: default_pixel(),
    });
    if !(exposure.pixel_um.is_finite() && exposure.pixel_um >= 1.0) {
        return Err(invalid(
            "exposure.pixel_um",
            exposure.pixel_um.to_string(),
            "must be at least 1 µm",
        ));
    }
    if wants_maps && !exposure.enabled {
        return Err(invalid(
            "exposure.enabled",
            "false".into(),
            "coverage and spill expectations need the exposure maps",
        ));
    }
    Ok(exposure)
}

/// The default machine, a machine file (`file = "…"`) and inline overrides of its fields.
fn machine_config(
    path: &Path,
    table: Option<&toml::Table>,
) -> Result<MachineConfig, ScenarioError> {
    let bad = |key: &str, value: String, why: String| ScenarioError::Value {
        path: path.to_path_buf(),
        key: key.to_string(),
        value,
        why,
    };
    let Some(table) = table else {
        return Ok(MachineConfig::default());
    };
    let mut overrides = table.clone();
    let mut base = toml::Table::try_from(MachineConfig::default())
        .map_err(|e| bad("machine", "(defaults)".into(), e.to_string()))?;
    // Option fields absent from the serialised defaults are still known keys.
    let optional = ["recoater_collision_layer"];
    if let Some(file) = overrides.remove("file") {
        let Some(rel) = file.as_str() else {
            return Err(bad(
                "machine.file",
                file.to_string(),
                "must be a path string".into(),
            ));
        };
        let p = path.parent().unwrap_or(Path::new(".")).join(rel);
        let text = std::fs::read_to_string(&p).map_err(|e| {
            bad(
                "machine.file",
                format!("{rel:?}"),
                format!("cannot read {}: {e}", p.display()),
            )
        })?;
        let from_file: toml::Table = toml::from_str(&text).map_err(|e| {
            bad(
                "machine.file",
                format!("{rel:?}"),
                format!("{}: {e}", p.display()),
            )
        })?;
        merge(&mut base, from_file, "", &optional).map_err(|(k, v)| {
            bad(
                &format!("machine.file {rel}: {k}"),
                v,
                "unknown machine key".into(),
            )
        })?;
    }
    merge(&mut base, overrides, "", &optional)
        .map_err(|(k, v)| bad(&format!("machine.{k}"), v, "unknown machine key".into()))?;
    MachineConfig::deserialize(toml::Value::Table(base)).map_err(|e| {
        bad(
            "machine",
            "(table)".into(),
            e.to_string().trim_end().to_string(),
        )
    })
}

/// Merges `over` into `base`, refusing keys `base` does not have.
fn merge(
    base: &mut toml::Table,
    over: toml::Table,
    prefix: &str,
    optional: &[&str],
) -> Result<(), (String, String)> {
    for (k, v) in over {
        let key = format!("{prefix}{k}");
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => {
                merge(b, o, &format!("{key}."), optional)?;
            }
            (Some(slot), v) => *slot = v,
            (None, v) if optional.contains(&key.as_str()) => {
                base.insert(k, v);
            }
            (None, v) => return Err((key, v.to_string())),
        }
    }
    Ok(())
}

type Invalid = (String, String, String);

/// Machine-model events go into the machine configuration; link and operator events stay on
/// the timeline.
fn apply_machine_event(m: &mut MachineConfig, e: &TimelineEvent) -> Result<(), Invalid> {
    use meltline_firmware::machine::{LaserDrift, OxygenExcursion};
    match *e {
        TimelineEvent::OxygenExcursion {
            layer,
            peak_ppm,
            duration_s,
        } => {
            if !(duration_s.is_finite() && (0.0..=86_400.0).contains(&duration_s)) {
                return Err((
                    "duration_s".into(),
                    duration_s.to_string(),
                    "must be 0–86400 s".into(),
                ));
            }
            m.oxygen_excursions
                .push(OxygenExcursion {
                    layer,
                    peak_ppm,
                    recovery_ms: (duration_s * 1000.0).round() as u32,
                })
                .map_err(|_| {
                    (
                        "kind".into(),
                        "\"oxygen-excursion\"".into(),
                        "at most 8 oxygen excursions".into(),
                    )
                })?;
        }
        TimelineEvent::SkipPart { .. } => {}
        TimelineEvent::RecoaterCollision { layer, .. } => {
            if m.recoater_collision_layer.is_some() {
                return Err((
                    "layer".into(),
                    layer.to_string(),
                    "only one recoater collision per scenario".into(),
                ));
            }
            m.recoater_collision_layer = Some(layer);
        }
        TimelineEvent::LaserFailure { layer, laser } => {
            if m.laser_failure.is_some() {
                return Err((
                    "layer".into(),
                    layer.to_string(),
                    "only one laser failure per scenario".into(),
                ));
            }
            if usize::from(laser) >= m.laser_count() {
                return Err((
                    "laser".into(),
                    laser.to_string(),
                    format!("the machine has {} lasers", m.laser_count()),
                ));
            }
            m.laser_failure = Some(meltline_firmware::machine::LaserFailure { layer, laser });
        }
        TimelineEvent::LaserDrift {
            from_layer,
            power_pct,
        } => {
            if !(power_pct.is_finite() && (0.0..=200.0).contains(&power_pct)) {
                return Err((
                    "power_pct".into(),
                    power_pct.to_string(),
                    "must be 0–200 % of the commanded power".into(),
                ));
            }
            m.laser_drift
                .push(LaserDrift {
                    from_layer,
                    permille: (power_pct * 10.0).round() as u32,
                })
                .map_err(|_| {
                    (
                        "kind".into(),
                        "\"laser-drift\"".into(),
                        "at most 4 laser drifts".into(),
                    )
                })?;
        }
        TimelineEvent::Pause {
            resume_after_s: Some(s),
            ..
        } if !(s.is_finite() && s >= 0.0) => {
            return Err((
                "resume_after_s".into(),
                s.to_string(),
                "must be a time ≥ 0 s".into(),
            ));
        }
        _ => {}
    }
    Ok(())
}

fn validate_expect(x: &Expect) -> Result<(), Invalid> {
    let range = |key: &str, r: Option<[f64; 2]>| -> Result<(), Invalid> {
        match r {
            Some([lo, hi]) if !(lo.is_finite() && hi.is_finite() && lo <= hi) => Err((
                key.to_string(),
                format!("[{lo}, {hi}]"),
                "must be [low, high] with low ≤ high".into(),
            )),
            _ => Ok(()),
        }
    };
    range("build_time_s", x.build_time_s)?;
    range("interlock_s", x.interlock_s)?;
    for (i, w) in x.energy.iter().flatten().enumerate() {
        range(&format!("energy[{i}].joules"), Some(w.joules))?;
        if let Some([a, b]) = w.layers
            && a > b
        {
            return Err((
                format!("energy[{i}].layers"),
                format!("[{a}, {b}]"),
                "first layer after last".into(),
            ));
        }
    }
    for (key, v) in [
        ("coverage_pct_min", x.coverage_pct_min),
        ("spill_pct_max", x.spill_pct_max),
    ] {
        if let Some(v) = v
            && !(v.is_finite() && (0.0..=1000.0).contains(&v))
        {
            return Err((key.into(), v.to_string(), "must be a percentage".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
