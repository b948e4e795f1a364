//! Process profiles: parameter sets per region and vector kind, scan strategy and contour
//! settings.
//!
//! The machine's limits (power, speed, layer thickness, energy window, field, build height)
//! are not part of a profile: they come from the one machine description, the controller's
//! [`MachineConfig`](meltline_firmware::machine::MachineConfig), and are applied to a job by
//! [`crate::admission`]. A profile only has to make sense on its own ([`ProcessProfile::check`]).
//!
//! Profiles are TOML; every field has a default, so a file only names what it changes:
//!
//! ```
//! use meltline_slicer::profile::ProcessProfile;
//! let p = ProcessProfile::from_toml_str("[core]\npower_w = 300.0\n").unwrap();
//! assert_eq!(p.core.power_w, 300.0);
//! assert_eq!(p.layer_thickness_mm, 0.03);
//! assert!(p.check().is_ok());
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
}

impl Default for ParameterSet {
    fn default() -> Self {
        ParameterSet {
            power_w: 280.0,
            speed_mm_s: 1200.0,
            hatch_mm: 0.14,
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
        // Stripe width 5–10 mm, islands ~5 mm, 67° rotation: docs/DOMAIN.md "Standard
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
        // Beam offset ≈ half of a 100–120 µm melt track for a 70–115 µm spot (docs/DOMAIN.md,
        // "spot 70–115 µm"); spacing = the core hatch distance.
        ContourSettings {
            count: 1,
            beam_offset_mm: 0.06,
            spacing_mm: 0.12,
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
    /// Largest share of the part's sliced area that may be lost as thin parts too small to
    /// expose (0.005 = 0.5 %); a job losing more is refused.
    pub max_unexposed_fraction: f64,
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
            // 30 µm: docs/DOMAIN.md "Layers 30 µm (20–90 µm used)".
            layer_thickness_mm: 0.03,
            // 3 skin layers: issue 4 default.
            skin_layers: 3,
            // 0.5 %: a lattice loses some sub-track slivers at strut junctions; more than this
            // means the part is too fine for the beam (issue 11's default).
            max_unexposed_fraction: 0.005,
            hatch: HatchSettings::default(),
            contours: ContourSettings::default(),
            // 280 W, 1200 mm/s, 0.14 mm at 30 µm → 55.6 J/mm³: issue 4 and docs/DOMAIN.md
            // ("laser 200–400 W; scan speed ~1000–1400 mm/s; hatch 0.08–0.14 mm"), inside the
            // 50–80 J/mm³ docs/DOMAIN.md gives for > 99.5 % density.
            core: ParameterSet {
                power_w: 280.0,
                speed_mm_s: 1200.0,
                hatch_mm: 0.14,
            },
            // Upskin: a denser, slower pass for the top surface (engineering choice inside the
            // docs/DOMAIN.md ranges: 0.08 mm is the dense end of the hatch range) → 72.9 J/mm³.
            upskin: ParameterSet {
                power_w: 210.0,
                speed_mm_s: 1200.0,
                hatch_mm: 0.08,
            },
            // Downskin over powder: lower energy to limit dross (engineering choice; power at
            // the low end of docs/DOMAIN.md's 200–400 W) → 37.0 J/mm³.
            downskin: ParameterSet {
                power_w: 200.0,
                speed_mm_s: 1500.0,
                hatch_mm: 0.12,
            },
            // Contour: slower for surface finish; hatch_mm = the track width used for the
            // energy check only (2 × default beam offset) → 69.4 J/mm³.
            contour: ParameterSet {
                power_w: 150.0,
                speed_mm_s: 600.0,
                hatch_mm: 0.12,
            },
            // Supports: thin single-track walls, scanned fast (engineering choice; no window).
            support: ParameterSet {
                power_w: 200.0,
                speed_mm_s: 1600.0,
                hatch_mm: 0.12,
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

    /// Checks that the profile makes sense on its own (finite, positive sizes, a sane contour
    /// count). The machine's limits are applied to the job by [`crate::admission`].
    pub fn check(&self) -> Result<(), ProfileError> {
        let h = &self.hatch;
        let c = &self.contours;
        let invalid = |key: &'static str, value: f64, reason: &'static str| {
            Err(ProfileError::Invalid { key, value, reason })
        };
        let t = self.layer_thickness_mm;
        if !(t.is_finite() && t > 0.0) {
            return invalid("layer_thickness_mm", t, "must be positive");
        }
        let positive = [
            ("hatch.stripe_width_mm", h.stripe_width_mm),
            ("hatch.island_size_mm", h.island_size_mm),
            ("contours.spacing_mm", c.spacing_mm),
        ];
        for (key, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return invalid(key, v, "must be positive");
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
        for (key, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return invalid(key, v, "must be zero or positive");
            }
        }
        if !h.rotation_deg.is_finite() {
            return invalid("hatch.rotation_deg", h.rotation_deg, "must be finite");
        }
        if !h.start_angle_deg.is_finite() {
            return invalid("hatch.start_angle_deg", h.start_angle_deg, "must be finite");
        }
        if c.count > 100 {
            return invalid("contours.count", c.count as f64, "must be at most 100");
        }
        let f = self.max_unexposed_fraction;
        if !(f.is_finite() && (0.0..=1.0).contains(&f)) {
            return invalid("max_unexposed_fraction", f, "must be between 0 and 1");
        }
        for (_, name, s) in self.parameter_sets() {
            for (what, v) in [("power_w", s.power_w), ("speed_mm_s", s.speed_mm_s)] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(ProfileError::InvalidSet {
                        set: name,
                        key: what,
                        value: v,
                    });
                }
            }
            if !(s.hatch_mm.is_finite() && s.hatch_mm >= 0.005) {
                return Err(ProfileError::InvalidSet {
                    set: name,
                    key: "hatch_mm (at least 0.005)",
                    value: s.hatch_mm,
                });
            }
        }
        Ok(())
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
    /// A profile value that does not make sense.
    #[error("profile: {key} = {value} {reason}")]
    Invalid {
        /// The TOML key.
        key: &'static str,
        /// Its value.
        value: f64,
        /// What it must be.
        reason: &'static str,
    },
    /// A parameter set value that is not a positive, finite number.
    #[error("profile: [{set}] {key} = {value} must be a positive, finite number")]
    InvalidSet {
        /// The parameter set (`core`, `contour` …).
        set: &'static str,
        /// The TOML key.
        key: &'static str,
        /// Its value.
        value: f64,
    },
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
        assert!(p.check().is_ok());
    }

    #[test]
    fn a_negative_beam_offset_or_a_nan_power_is_refused_naming_the_key() {
        let mut p = ProcessProfile::ti6al4v();
        p.contours.beam_offset_mm = -0.1;
        let e = p.check().unwrap_err().to_string();
        assert!(e.contains("contours.beam_offset_mm"), "{e}");
        let mut p = ProcessProfile::ti6al4v();
        p.core.power_w = f64::NAN;
        let e = p.check().unwrap_err().to_string();
        assert!(e.contains("[core] power_w"), "{e}");
    }

    #[test]
    fn a_profile_with_a_machine_section_is_refused() {
        // The machine's limits live in the machine description only.
        let e = ProcessProfile::from_toml_str("[machine]\nname = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("machine"), "{e}");
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
