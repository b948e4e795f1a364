//! The knobs of block-support generation, with defaults for Ti-6Al-4V and their validation.

use serde::{Deserialize, Serialize};

use super::SupportError;

/// Holes cut through the support walls so that loose powder can be removed after the build.
///
/// Holes are rectangles in the plane of a wall: `hole_width_mm` along the wall, `hole_height_mm`
/// in z, repeated every `spacing_mm` along the wall and every `row_pitch_mm` in z. Successive rows
/// are shifted by half a spacing (staggered, as in Materialise/Netfabb block supports) so the wall
/// keeps a continuous load path. A hole is only cut where it fits entirely between the solid foot
/// and the solid band under the teeth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Perforation {
    /// False turns perforation off (solid walls).
    pub enabled: bool,
    /// Width of a hole along the wall, mm.
    pub hole_width_mm: f64,
    /// Height of a hole, mm.
    pub hole_height_mm: f64,
    /// Distance between hole centres along the wall, mm.
    pub spacing_mm: f64,
    /// Distance between hole rows in z, mm.
    pub row_pitch_mm: f64,
    /// Solid wall kept above the wall's foot and below the teeth, mm.
    pub solid_margin_mm: f64,
}

impl Default for Perforation {
    fn default() -> Self {
        // Starting points in the range block-support tools ship with (holes of a few tenths of a
        // millimetre, every 1–2 mm); tune per machine.
        Perforation {
            enabled: true,
            hole_width_mm: 0.6,
            hole_height_mm: 0.8,
            spacing_mm: 1.5,
            row_pitch_mm: 1.5,
            solid_margin_mm: 0.3,
        }
    }
}

/// The toothed contact where a wall meets the part: the top `height_mm` of each wall is split
/// into trapezoidal teeth that narrow from `base_width_mm` to `top_width_mm`, every `pitch_mm`.
/// Teeth break off cleanly and leave small witness marks on the part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Teeth {
    /// Height of the toothed band, mm (0 gives a flat, solid contact).
    pub height_mm: f64,
    /// Width of a tooth where it touches the part, mm.
    pub top_width_mm: f64,
    /// Width of a tooth at the bottom of the band, mm (at most `pitch_mm`).
    pub base_width_mm: f64,
    /// Distance between tooth centres along the wall, mm.
    pub pitch_mm: f64,
    /// How far the teeth reach into the part so they fuse to it, mm.
    pub penetration_mm: f64,
    /// Also put teeth where a wall stands on the part below (not on the plate).
    pub on_part_below: bool,
}

impl Default for Teeth {
    fn default() -> Self {
        Teeth {
            height_mm: 0.4,
            top_width_mm: 0.15,
            base_width_mm: 0.6,
            pitch_mm: 0.8,
            penetration_mm: 0.05,
            on_part_below: true,
        }
    }
}

/// Options of [`plan_supports`](super::plan_supports).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportOptions {
    /// A downward face whose angle from the horizontal is below this needs support, degrees.
    /// 45° is the usual self-supporting limit for Ti-6Al-4V (see docs/DOMAIN.md).
    pub critical_angle_deg: f64,
    /// Overhang regions whose projected area is smaller than this are left unsupported, mm².
    pub min_overhang_area_mm2: f64,
    /// Distance between the walls of the block-support grid, in x and in y, mm.
    pub grid_spacing_mm: f64,
    /// Holes in the walls for powder removal.
    pub perforation: Perforation,
    /// The toothed contact at the part.
    pub teeth: Teeth,
    /// Height by which the part is raised off the plate on supports, mm; with a lift the faces
    /// the part stood on become overhangs too.
    pub lift_mm: f64,
    /// Walls keep this distance inside the edge of an overhang region, so they do not fuse to
    /// the part's side walls, mm.
    pub xy_offset_mm: f64,
    /// Name of the parameter set that exposes support vectors.
    pub parameter_set: String,
    /// Resolution along a wall at which heights, holes and teeth are resolved, mm.
    pub sample_step_mm: f64,
    /// Faces within this height of the part's bottom count as standing on the plate, mm.
    pub plate_tolerance_mm: f64,
}

impl Default for SupportOptions {
    fn default() -> Self {
        SupportOptions {
            critical_angle_deg: 45.0,
            min_overhang_area_mm2: 1.0,
            grid_spacing_mm: 1.0,
            perforation: Perforation::default(),
            teeth: Teeth::default(),
            lift_mm: 0.0,
            xy_offset_mm: 0.1,
            parameter_set: "support".to_string(),
            sample_step_mm: 0.05,
            plate_tolerance_mm: 0.01,
        }
    }
}

/// One option check: its name, its value, whether it is in range, and the rule if not.
type OptionCheck = (&'static str, f64, bool, &'static str);

impl SupportOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks every value is finite and in range, naming the first one that is not (in the
    /// order of the fields).
    pub fn validate(&self) -> Result<(), SupportError> {
        let checks = self
            .overhang_checks()
            .into_iter()
            .chain(self.perforation_checks())
            .chain(self.teeth_checks())
            .chain(self.placement_checks());
        for (name, value, ok, reason) in checks {
            let reason = if !value.is_finite() {
                "must be finite"
            } else if !ok {
                reason
            } else {
                continue;
            };
            return Err(SupportError::InvalidOption {
                name,
                value,
                reason,
            });
        }
        Ok(())
    }

    /// What counts as an overhang, and the support grid.
    fn overhang_checks(&self) -> [OptionCheck; 3] {
        [
            (
                "critical_angle_deg",
                self.critical_angle_deg,
                (0.0..=90.0).contains(&self.critical_angle_deg),
                "must be within 0..=90",
            ),
            (
                "min_overhang_area_mm2",
                self.min_overhang_area_mm2,
                self.min_overhang_area_mm2 >= 0.0,
                "must be >= 0",
            ),
            (
                "grid_spacing_mm",
                self.grid_spacing_mm,
                self.grid_spacing_mm >= 0.05,
                "must be >= 0.05",
            ),
        ]
    }

    /// The perforations of support walls.
    fn perforation_checks(&self) -> [OptionCheck; 5] {
        [
            (
                "perforation.hole_width_mm",
                self.perforation.hole_width_mm,
                self.perforation.hole_width_mm >= 0.0,
                "must be >= 0",
            ),
            (
                "perforation.hole_height_mm",
                self.perforation.hole_height_mm,
                self.perforation.hole_height_mm >= 0.0,
                "must be >= 0",
            ),
            (
                "perforation.spacing_mm",
                self.perforation.spacing_mm,
                self.perforation.spacing_mm > self.perforation.hole_width_mm,
                "must exceed the hole width",
            ),
            (
                "perforation.row_pitch_mm",
                self.perforation.row_pitch_mm,
                self.perforation.row_pitch_mm > self.perforation.hole_height_mm,
                "must exceed the hole height",
            ),
            (
                "perforation.solid_margin_mm",
                self.perforation.solid_margin_mm,
                self.perforation.solid_margin_mm >= 0.0,
                "must be >= 0",
            ),
        ]
    }

    /// The teeth where supports meet the part.
    fn teeth_checks(&self) -> [OptionCheck; 5] {
        [
            (
                "teeth.height_mm",
                self.teeth.height_mm,
                self.teeth.height_mm >= 0.0,
                "must be >= 0",
            ),
            (
                "teeth.top_width_mm",
                self.teeth.top_width_mm,
                self.teeth.top_width_mm > 0.0,
                "must be > 0",
            ),
            (
                "teeth.base_width_mm",
                self.teeth.base_width_mm,
                self.teeth.base_width_mm >= self.teeth.top_width_mm
                    && self.teeth.base_width_mm <= self.teeth.pitch_mm,
                "must be between the top width and the pitch",
            ),
            (
                "teeth.pitch_mm",
                self.teeth.pitch_mm,
                self.teeth.pitch_mm > 0.0,
                "must be > 0",
            ),
            (
                "teeth.penetration_mm",
                self.teeth.penetration_mm,
                self.teeth.penetration_mm >= 0.0,
                "must be >= 0",
            ),
        ]
    }

    /// The lift, the offset from the part, the sampling step and the plate tolerance.
    fn placement_checks(&self) -> [OptionCheck; 5] {
        [
            ("lift_mm", self.lift_mm, self.lift_mm >= 0.0, "must be >= 0"),
            (
                "xy_offset_mm",
                self.xy_offset_mm,
                self.xy_offset_mm >= 0.0,
                "must be >= 0",
            ),
            (
                "sample_step_mm",
                self.sample_step_mm,
                (0.001..=1.0).contains(&self.sample_step_mm),
                "must be within 0.001..=1",
            ),
            (
                "sample_step_mm",
                self.sample_step_mm,
                self.sample_step_mm <= self.grid_spacing_mm,
                "must not exceed the grid spacing",
            ),
            (
                "plate_tolerance_mm",
                self.plate_tolerance_mm,
                self.plate_tolerance_mm >= 0.0,
                "must be >= 0",
            ),
        ]
    }
}
