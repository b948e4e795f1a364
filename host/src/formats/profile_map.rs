//! The `--profile` map of a CLI job: CLI carries no laser parameters, only ids on its hatches
//! and polylines, so each id is mapped to a parameter set of meltline's built-in profile
//! (optionally with its own power, speed and hatch distance).
//!
//! ```toml
//! # cli-profile.toml
//! [[set]]
//! cli_id = 1
//! set = "core"          # core, upskin, downskin, contour or support
//! [[set]]
//! cli_id = 2
//! set = "contour"
//! power_w = 180.0       # optional overrides
//! speed_mm_s = 900.0
//! ```
//!
//! Without a map, polylines use the built-in contour set and hatches the core set.

use std::path::Path;

use meltline_slicer::job::{JobParameterSet, Region, VectorKind};
use meltline_slicer::profile::{ProcessProfile, set_id};
use serde::Deserialize;

/// One CLI id mapped to a parameter set.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CliSet {
    /// The id on the CLI's `$$HATCHES` / `$$POLYLINE` records.
    pub cli_id: i64,
    /// The built-in set it uses: `core`, `upskin`, `downskin`, `contour`, `support`.
    pub set: String,
    /// Laser power, W (default: the built-in set's).
    pub power_w: Option<f64>,
    /// Mark speed, mm/s (default: the built-in set's).
    pub speed_mm_s: Option<f64>,
    /// Hatch distance, mm (default: the built-in set's).
    pub hatch_mm: Option<f64>,
}

/// A CLI id → parameter set map (`--profile FILE`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CliProfile {
    /// The mapped ids.
    #[serde(rename = "set")]
    pub sets: Vec<CliSet>,
}

/// How the vectors of one CLI id enter the job.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// The job's parameter set.
    pub set: JobParameterSet,
    /// Kind of polylines with this id.
    pub polyline_kind: VectorKind,
    /// Kind of hatches with this id.
    pub hatch_kind: VectorKind,
    /// Region.
    pub region: Region,
}

impl CliProfile {
    /// Reads a map from a TOML file; errors name the file.
    pub fn from_file(path: &Path) -> anyhow::Result<CliProfile> {
        use anyhow::Context;
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let p: CliProfile =
            toml::from_str(&text).with_context(|| format!("CLI profile {}", path.display()))?;
        for s in &p.sets {
            if builtin(&s.set).is_none() {
                anyhow::bail!(
                    "CLI profile {}: cli_id {}: unknown set {:?} (core, upskin, downskin, contour, support)",
                    path.display(),
                    s.cli_id,
                    s.set
                );
            }
        }
        Ok(p)
    }

    /// The mapping of `cli_id`, if the map names it.
    pub fn lookup(&self, cli_id: i64) -> Option<Mapped> {
        let s = self.sets.iter().find(|s| s.cli_id == cli_id)?;
        let mut m = builtin(&s.set)?;
        // Each CLI id is its own parameter set, so two ids on one built-in set may differ.
        m.set.id = u16::try_from(cli_id).ok()?;
        m.set.label = format!("{} (CLI id {cli_id})", s.set);
        if let Some(v) = s.power_w {
            m.set.power_w = v;
        }
        if let Some(v) = s.speed_mm_s {
            m.set.speed_mm_s = v;
        }
        if let Some(v) = s.hatch_mm {
            m.set.hatch_mm = v;
        }
        Some(m)
    }
}

/// The built-in set named `name` and how its vectors enter the job.
pub fn builtin(name: &str) -> Option<Mapped> {
    let profile = ProcessProfile::ti6al4v();
    let (id, label, p) = profile
        .parameter_sets()
        .into_iter()
        .find(|(_, l, _)| *l == name)?;
    let (polyline_kind, hatch_kind, region) = match id {
        set_id::CONTOUR => (VectorKind::Contour, VectorKind::Edge, Region::Part),
        set_id::SUPPORT => (VectorKind::Support, VectorKind::Support, Region::Support),
        set_id::UPSKIN => (VectorKind::Contour, VectorKind::Hatch, Region::Upskin),
        set_id::DOWNSKIN => (VectorKind::Contour, VectorKind::Hatch, Region::Downskin),
        _ => (VectorKind::Contour, VectorKind::Hatch, Region::Core),
    };
    Some(Mapped {
        set: JobParameterSet {
            id,
            label: label.to_string(),
            power_w: p.power_w,
            speed_mm_s: p.speed_mm_s,
            hatch_mm: p.hatch_mm,
        },
        polyline_kind,
        hatch_kind,
        region,
    })
}
