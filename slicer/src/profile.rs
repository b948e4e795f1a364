//! Process profiles: parameter sets per region and vector kind, scan strategy, contour
//! settings, machine limits, and the volumetric-energy-density check `E = P / (v·h·t)`.
//!
//! Profiles are TOML; every field has a default, so a file only names what it changes:
//!
//! ```
//! use meltline_slicer::profile::ProcessProfile;
//! let p = ProcessProfile::from_toml_str("[core]\npower_w = 300.0\n").unwrap();
//! assert_eq!(p.core.power_w, 300.0);
//! assert_eq!(p.layer_thickness_mm, 0.03);
//! assert!(p.check().unwrap().is_empty()); // no warnings for the default window
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Laser parameters for one kind of exposure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ParameterSet {
    /// Laser power in W.
    pub power_w: f64,
    /// Scan speed in mm/s.
    pub speed_mm_s: f64,
    /// Hatch distance in mm (for hatch sets; contours use it only for the energy check).
    pub hatch_mm: f64,
    /// The material window of volumetric energy density in J/mm³, if this set is checked.
    pub energy_window_j_mm3: Option<[f64; 2]>,
}

impl Default for ParameterSet {
    fn default() -> Self {
        ParameterSet {
            power_w: 280.0,
            speed_mm_s: 1200.0,
            hatch_mm: 0.14,
            energy_window_j_mm3: None,
        }
    }
}

impl ParameterSet {
    /// Volumetric energy density `P / (v·h·t)` in J/mm³.
    pub fn energy_density(&self, layer_thickness_mm: f64) -> f64 {
        self.power_w / (self.speed_mm_s * self.hatch_mm * layer_thickness_mm)
    }
}

/// The hatch strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Parallel lines across the whole region, scanned as a bidirectional meander.
    #[default]
    Lines,
    /// Bands of short hatches perpendicular to the stripe direction.
    Stripes,
    /// Square islands, neighbours hatched at 90° to each other.
    Chessboard,
}

impl std::str::FromStr for Strategy {
    type Err = ProfileError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "lines" => Ok(Strategy::Lines),
            "stripes" => Ok(Strategy::Stripes),
            "chessboard" => Ok(Strategy::Chessboard),
            other => Err(ProfileError::UnknownStrategy(other.to_string())),
        }
    }
}

/// How regions are hatched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HatchSettings {
    /// The strategy.
    pub strategy: Strategy,
    /// Hatch angle of layer 0 in degrees.
    pub start_angle_deg: f64,
    /// Rotation added per layer in degrees (67° so directions rarely repeat).
    pub rotation_deg: f64,
    /// Distance from the innermost contour to the hatch area, in mm.
    pub contour_distance_mm: f64,
    /// Hatches shorter than this are left out (mm).
    pub min_length_mm: f64,
    /// Stripe width in mm.
    pub stripe_width_mm: f64,
    /// Overlap of neighbouring stripes in mm.
    pub stripe_overlap_mm: f64,
    /// Chessboard island size in mm.
    pub island_size_mm: f64,
    /// Overlap of neighbouring islands in mm.
    pub island_overlap_mm: f64,
    /// Shift of the island grid per layer in mm (both axes).
    pub island_shift_mm: f64,
}

impl Default for HatchSettings {
    fn default() -> Self {
        // Stripe width 5–10 mm, islands ~5 mm, 67° rotation: DOMAIN.md "Standard
        // build-processor features" (EOS/Materialise defaults of that order).
        HatchSettings {
            strategy: Strategy::Lines,
            start_angle_deg: 0.0,
            rotation_deg: 67.0,
            contour_distance_mm: 0.0,
            min_length_mm: 0.05,
            stripe_width_mm: 5.0,
            stripe_overlap_mm: 0.05,
            island_size_mm: 5.0,
            island_overlap_mm: 0.05,
            island_shift_mm: 1.0,
        }
    }
}

/// Contour settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContourSettings {
    /// Number of contours.
    pub count: usize,
    /// Beam offset (half the melt-track width) in mm: the inset of the outermost contour.
    pub beam_offset_mm: f64,
    /// Distance between successive contours in mm.
    pub spacing_mm: f64,
}

impl Default for ContourSettings {
    fn default() -> Self {
        // Beam offset ≈ half of a 100–120 µm melt track for a 70–115 µm spot (DOMAIN.md,
        // "spot 70–115 µm"); spacing = the core hatch distance.
        ContourSettings {
            count: 1,
            beam_offset_mm: 0.06,
            spacing_mm: 0.12,
        }
    }
}

/// The machine's envelope: anything outside is an error, not a warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MachineLimits {
    /// Machine name, written to the job header.
    pub name: String,
    /// Laser power range in W.
    pub power_w: [f64; 2],
    /// Scan speed range in mm/s.
    pub speed_mm_s: [f64; 2],
    /// Layer thickness range in mm.
    pub layer_mm: [f64; 2],
    /// Half-size of the square scan field in mm (centred on the plate).
    pub field_half_mm: f64,
}

impl Default for MachineLimits {
    fn default() -> Self {
        // A 400 W single-laser machine with a 250 mm field (EOS M 290 class); layers
        // 20–90 µm (DOMAIN.md "Layers 30 µm (20–90 µm used); laser 200–400 W"). The name is
        // the simulated controller's default machine (`meltline-fw`), which accepts the job.
        MachineLimits {
            name: "meltline-sim-250".to_string(),
            power_w: [0.0, 400.0],
            speed_mm_s: [1.0, 7000.0],
            layer_mm: [0.02, 0.09],
            field_half_mm: 125.0,
        }
    }
}

/// A complete process profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessProfile {
    /// Material name, written to the job header.
    pub material: String,
    /// Layer thickness in mm.
    pub layer_thickness_mm: f64,
    /// Number of skin layers for upskin and downskin.
    pub skin_layers: usize,
    /// Machine limits.
    pub machine: MachineLimits,
    /// Hatching.
    pub hatch: HatchSettings,
    /// Contours.
    pub contours: ContourSettings,
    /// Core hatch set.
    pub core: ParameterSet,
    /// Upskin hatch set.
    pub upskin: ParameterSet,
    /// Downskin hatch set.
    pub downskin: ParameterSet,
    /// Contour and edge set.
    pub contour: ParameterSet,
    /// Support set.
    pub support: ParameterSet,
}

impl Default for ProcessProfile {
    fn default() -> Self {
        ProcessProfile::ti6al4v()
    }
}

/// Ids of the parameter sets in a job, in the order of [`ProcessProfile::parameter_sets`].
pub mod set_id {
    /// Core hatch.
    pub const CORE: u16 = 1;
    /// Upskin hatch.
    pub const UPSKIN: u16 = 2;
    /// Downskin hatch.
    pub const DOWNSKIN: u16 = 3;
    /// Contours and edges.
    pub const CONTOUR: u16 = 4;
    /// Supports.
    pub const SUPPORT: u16 = 5;
}

impl ProcessProfile {
    /// The built-in Ti-6Al-4V profile, 30 µm layers.
    pub fn ti6al4v() -> ProcessProfile {
        ProcessProfile {
            material: "Ti-6Al-4V".to_string(),
            // 30 µm: DOMAIN.md "Layers 30 µm (20–90 µm used)".
            layer_thickness_mm: 0.03,
            // 3 skin layers: issue 4 default.
            skin_layers: 3,
            machine: MachineLimits::default(),
            hatch: HatchSettings::default(),
            contours: ContourSettings::default(),
            // 280 W, 1200 mm/s, 0.14 mm at 30 µm → 55.6 J/mm³: issue 4 and DOMAIN.md
            // ("laser 200–400 W; scan speed ~1000–1400 mm/s; hatch 0.08–0.14 mm"); the window
            // 50–80 J/mm³ for > 99.5 % density is DOMAIN.md's.
            core: ParameterSet {
                power_w: 280.0,
                speed_mm_s: 1200.0,
                hatch_mm: 0.14,
                energy_window_j_mm3: Some([50.0, 80.0]),
            },
            // Upskin: a denser, slower pass for the top surface (engineering choice inside the
            // DOMAIN.md ranges: 0.08 mm is the dense end of the hatch range) → 72.9 J/mm³.
            upskin: ParameterSet {
                power_w: 210.0,
                speed_mm_s: 1200.0,
                hatch_mm: 0.08,
                energy_window_j_mm3: Some([40.0, 100.0]),
            },
            // Downskin over powder: lower energy to limit dross (engineering choice; power at
            // the low end of DOMAIN.md's 200–400 W) → 37.0 J/mm³.
            downskin: ParameterSet {
                power_w: 200.0,
                speed_mm_s: 1500.0,
                hatch_mm: 0.12,
                energy_window_j_mm3: Some([25.0, 80.0]),
            },
            // Contour: slower for surface finish; hatch_mm = the track width used for the
            // energy check only (2 × default beam offset) → 69.4 J/mm³.
            contour: ParameterSet {
                power_w: 150.0,
                speed_mm_s: 600.0,
                hatch_mm: 0.12,
                energy_window_j_mm3: None,
            },
            // Supports: thin single-track walls, scanned fast (engineering choice; no window).
            support: ParameterSet {
                power_w: 200.0,
                speed_mm_s: 1600.0,
                hatch_mm: 0.12,
                energy_window_j_mm3: None,
            },
        }
    }

    /// Parses a TOML profile; missing fields take the Ti-6Al-4V defaults.
    pub fn from_toml_str(text: &str) -> Result<ProcessProfile, ProfileError> {
        toml::from_str(text).map_err(|e| ProfileError::Parse(e.to_string()))
    }

    /// Reads a TOML profile file.
    pub fn from_file(path: &std::path::Path) -> Result<ProcessProfile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        ProcessProfile::from_toml_str(&text).map_err(|e| match e {
            ProfileError::Parse(m) => ProfileError::Parse(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// The profile as TOML text.
    pub fn to_toml_string(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// The parameter sets with their job ids and `$$LABEL` names.
    pub fn parameter_sets(&self) -> [(u16, &'static str, &ParameterSet); 5] {
        [
            (set_id::CORE, "core", &self.core),
            (set_id::UPSKIN, "upskin", &self.upskin),
            (set_id::DOWNSKIN, "downskin", &self.downskin),
            (set_id::CONTOUR, "contour", &self.contour),
            (set_id::SUPPORT, "support", &self.support),
        ]
    }

    /// Checks the profile: `Err` for anything outside the machine limits or not meaningful,
    /// otherwise the warnings (energy density outside a material window).
    pub fn check(&self) -> Result<Vec<String>, ProfileError> {
        let m = &self.machine;
        let t = self.layer_thickness_mm;
        let bad = |what: String| Err(ProfileError::OutOfLimits(what));
        if !(t.is_finite() && t >= m.layer_mm[0] && t <= m.layer_mm[1]) {
            return bad(format!(
                "layer thickness {t} mm is outside the machine's {}–{} mm",
                m.layer_mm[0], m.layer_mm[1]
            ));
        }
        let h = &self.hatch;
        let c = &self.contours;
        let positive = [
            ("hatch.stripe_width_mm", h.stripe_width_mm),
            ("hatch.island_size_mm", h.island_size_mm),
            ("contours.spacing_mm", c.spacing_mm),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return bad(format!("{name} = {v} must be positive"));
            }
        }
        let non_negative = [
            ("hatch.contour_distance_mm", h.contour_distance_mm),
            ("hatch.min_length_mm", h.min_length_mm),
            ("hatch.stripe_overlap_mm", h.stripe_overlap_mm),
            ("hatch.island_overlap_mm", h.island_overlap_mm),
            ("hatch.island_shift_mm", h.island_shift_mm),
            ("contours.beam_offset_mm", c.beam_offset_mm),
        ];
        for (name, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return bad(format!("{name} = {v} must be zero or positive"));
            }
        }
        if !(h.rotation_deg.is_finite() && h.start_angle_deg.is_finite()) {
            return bad("hatch angles must be finite".to_string());
        }
        if c.count > 100 {
            return bad(format!("contours.count = {} is more than 100", c.count));
        }
        let mut warnings = Vec::new();
        for (_, name, s) in self.parameter_sets() {
            if !(s.power_w >= m.power_w[0] && s.power_w <= m.power_w[1]) {
                return bad(format!(
                    "{name}: power {} W is outside the machine's {}–{} W",
                    s.power_w, m.power_w[0], m.power_w[1]
                ));
            }
            if !(s.speed_mm_s >= m.speed_mm_s[0] && s.speed_mm_s <= m.speed_mm_s[1]) {
                return bad(format!(
                    "{name}: speed {} mm/s is outside the machine's {}–{} mm/s",
                    s.speed_mm_s, m.speed_mm_s[0], m.speed_mm_s[1]
                ));
            }
            if !(s.hatch_mm.is_finite() && s.hatch_mm >= 0.005) {
                return bad(format!("{name}: hatch {} mm is below 5 µm", s.hatch_mm));
            }
            if let Some([lo, hi]) = s.energy_window_j_mm3 {
                let e = s.energy_density(t);
                if e < lo || e > hi {
                    warnings.push(format!(
                        "{name}: energy density {e:.1} J/mm³ (P {} W, v {} mm/s, h {} mm, t {} mm) is outside the material window {lo}–{hi} J/mm³",
                        s.power_w, s.speed_mm_s, s.hatch_mm, t
                    ));
                }
            }
        }
        Ok(warnings)
    }
}

/// What is wrong with a profile.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read profile {path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        message: String,
    },
    /// The TOML is malformed or has unknown fields.
    #[error("invalid profile: {0}")]
    Parse(String),
    /// A value is outside the machine's limits or not meaningful.
    #[error("profile outside machine limits: {0}")]
    OutOfLimits(String),
    /// An unknown hatch strategy name.
    #[error("unknown hatch strategy {0:?} (expected lines, stripes or chessboard)")]
    UnknownStrategy(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_core_energy_density_is_in_the_ti64_window() {
        let p = ProcessProfile::ti6al4v();
        let e = p.core.energy_density(p.layer_thickness_mm);
        assert!((e - 280.0 / (1200.0 * 0.14 * 0.03)).abs() < 1e-9);
        assert!((50.0..=80.0).contains(&e));
        assert!(p.check().unwrap().is_empty());
    }

    #[test]
    fn low_energy_core_warns_and_overpowered_laser_errors() {
        let mut p = ProcessProfile::ti6al4v();
        p.core.speed_mm_s = 3000.0;
        let w = p.check().unwrap();
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("core"), "{w:?}");
        p.core.power_w = 900.0;
        assert!(matches!(p.check(), Err(ProfileError::OutOfLimits(m)) if m.contains("900")));
    }

    #[test]
    fn profile_round_trips_through_toml() {
        let p = ProcessProfile::ti6al4v();
        let q = ProcessProfile::from_toml_str(&p.to_toml_string()).unwrap();
        assert_eq!(p, q);
    }

    #[test]
    fn unknown_profile_field_is_an_error() {
        assert!(ProcessProfile::from_toml_str("[core]\npowr_w = 1.0\n").is_err());
    }
}
