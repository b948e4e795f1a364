//! [`CageSpec`]: the TOML description of an interbody cage and its design envelope.
//!
//! Every number carries its unit in its name and has an allowed range, the *design envelope*.
//! The ranges of the main dimensions come from FDA 510(k) summaries of cleared devices (see the
//! table per [`CageKind`]); the others are manufacturing limits of Ti-6Al-4V LPBF (minimum wall
//! ~0.3–0.4 mm, self-supporting 45° overhangs) or bone in-growth figures (pores 300–900 µm,
//! porosity 60–70 %). A value outside its range is an [`EnvelopeViolation`] naming the field,
//! the value and the range.
//!
//! Local cage frame (the build frame before placement): `x` along the cage's long / insertion
//! axis, `y` across it, `z` up; the footprint is centred on the origin and the bottom face sits
//! on `z = 0`.
//!
//! ```
//! use meltline_core::cage::spec::CageSpec;
//! let spec = CageSpec::default_tlif();
//! assert!(spec.validate().is_ok());
//! let mut bad = spec.clone();
//! bad.length_mm = 45.0;
//! let errors = bad.validate().unwrap_err();
//! assert_eq!(errors[0].field, "length_mm");
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

/// The embedded default TLIF lattice cage (the demo's cage).
const DEFAULT_TLIF_TOML: &str = include_str!("default_tlif.toml");

/// The family of interbody cage, which fixes the footprint shape and the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CageKind {
    /// Transforaminal lumbar: curved kidney / banana footprint, 28–32 mm long × 9–12 mm wide,
    /// 7–16 mm high, 0–5° lordosis. `x` is the chord of the banana, `+y` its convex (anterior) side.
    Tlif,
    /// Posterior lumbar: straight with a bullet nose, 16–24 mm long (AP), 8–14 mm wide,
    /// 7–14 mm high, 0–8° lordosis. `x` runs posterior → anterior (nose at `+x`).
    Plif,
    /// Oblique / lateral lumbar: straight with a bullet nose, 40–60 mm long × 18–26 mm wide (AP),
    /// 8–16 mm high, 0–20° lordosis. `x` is lateral (nose at `+x`), `+y` anterior.
    Olif,
    /// Anterior lumbar: D-shaped, 26–42 mm wide (lateral, `x`) × 20–35 mm deep (AP, `y`), 8–20 mm
    /// high, 10–20° lordosis (above ~25° needs extra fixation). Curved anterior side at `+y`.
    Alif,
    /// Anterior cervical: rounded rectangle 13–19 mm wide (lateral, `x`) × 11–17 mm deep (AP,
    /// `y`), 5–12 mm high, 0–7° lordosis. Anterior side at `+y`.
    Acdf,
}

impl CageKind {
    /// The lowercase name used in TOML and messages.
    pub fn name(self) -> &'static str {
        match self {
            CageKind::Tlif => "tlif",
            CageKind::Plif => "plif",
            CageKind::Olif => "olif",
            CageKind::Alif => "alif",
            CageKind::Acdf => "acdf",
        }
    }

    /// The envelope of this kind: (length, width, height, lordosis) ranges.
    pub fn envelope(self) -> KindEnvelope {
        let r = |min, max| Range { min, max };
        match self {
            CageKind::Tlif => KindEnvelope {
                length_mm: r(28.0, 32.0),
                width_mm: r(9.0, 12.0),
                height_mm: r(7.0, 16.0),
                lordosis_deg: r(0.0, 5.0),
            },
            CageKind::Plif => KindEnvelope {
                length_mm: r(16.0, 24.0),
                width_mm: r(8.0, 14.0),
                height_mm: r(7.0, 14.0),
                lordosis_deg: r(0.0, 8.0),
            },
            CageKind::Olif => KindEnvelope {
                length_mm: r(40.0, 60.0),
                width_mm: r(18.0, 26.0),
                height_mm: r(8.0, 16.0),
                lordosis_deg: r(0.0, 20.0),
            },
            CageKind::Alif => KindEnvelope {
                length_mm: r(26.0, 42.0),
                width_mm: r(20.0, 35.0),
                height_mm: r(8.0, 20.0),
                lordosis_deg: r(10.0, 20.0),
            },
            CageKind::Acdf => KindEnvelope {
                length_mm: r(13.0, 19.0),
                width_mm: r(11.0, 17.0),
                height_mm: r(5.0, 12.0),
                lordosis_deg: r(0.0, 7.0),
            },
        }
    }

    /// The axis (0 = x, 1 = y) that runs posterior → anterior in the local frame; lordosis makes
    /// the cage taller towards its `+` end.
    pub fn ap_axis(self) -> usize {
        match self {
            CageKind::Plif => 0,
            _ => 1,
        }
    }
}

/// A closed interval `[min, max]` of allowed values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// Smallest allowed value.
    pub min: f64,
    /// Largest allowed value.
    pub max: f64,
}

impl Range {
    /// True when `v` lies in the range (NaN never does).
    pub fn contains(&self, v: f64) -> bool {
        v >= self.min && v <= self.max
    }
}

/// The kind-dependent part of the envelope (FDA 510(k) ranges of cleared devices).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KindEnvelope {
    /// Allowed overall length along `x`, mm.
    pub length_mm: Range,
    /// Allowed overall width along `y`, mm.
    pub width_mm: Range,
    /// Allowed height (mean of anterior and posterior), mm.
    pub height_mm: Range,
    /// Allowed lordosis, degrees.
    pub lordosis_deg: Range,
}

/// Lattice unit cell of the porous core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatticeKind {
    /// Schoen gyroid.
    Gyroid,
    /// Schwarz diamond (D).
    Diamond,
    /// Schwarz primitive (P).
    SchwarzP,
}

/// Which side of the TPMS is solid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatticeStyle {
    /// Network of struts: solid where `f < t`.
    Skeletal,
    /// Thickened surface: solid where `|f| < t`.
    Sheet,
}

/// The porous core.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatticeSpec {
    /// Unit cell type.
    pub kind: LatticeKind,
    /// Skeletal (struts) or sheet (walls).
    pub style: LatticeStyle,
    /// Cell size L, mm, 1.0–5.0 (1.2–2 mm gives 300–900 µm pores at 60–70 % porosity).
    pub cell_size_mm: f64,
    /// Target porosity (void fraction) of the lattice region, 0.40–0.85.
    pub porosity: f64,
}

/// Vertical graft windows through the porous core (no window when `count = 0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// Number of windows, 0–4, spaced evenly along the cage's long axis.
    pub count: u32,
    /// Window size along the long axis, mm, 1–20.
    pub length_mm: f64,
    /// Window size across, mm, 1–15.
    pub width_mm: f64,
    /// Corner radius of the window, mm, 0–5 (at most half the smaller window size).
    pub corner_radius_mm: f64,
}

/// Serrations: ridges across the long axis on the top and bottom faces of the solid rim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeethSpec {
    /// Number of ridges on each face, 0–30 (0: smooth faces).
    pub rows: u32,
    /// Ridge spacing, mm, 0.8–4.
    pub pitch_mm: f64,
    /// Ridge height above the face, mm, 0.2–1.5.
    pub height_mm: f64,
    /// Flank angle from the face plane, degrees, 30–75 (the ridge base `2h/tan(angle)` must fit
    /// in the pitch).
    pub flank_angle_deg: f64,
}

/// The blind hole of the inserter instrument on the insertion face (not threaded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InserterSpec {
    /// Hole diameter, mm, 0 (no hole) or 2–6.
    pub diameter_mm: f64,
    /// Hole depth from the insertion face, mm, 0–12 (less than half the length along its axis).
    pub depth_mm: f64,
}

/// The vertical face of a cage that carries its serial number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarkingFace {
    /// The insertion face, where the inserter hole enters (the default: the face the surgeon
    /// sees on the instrument, and the last to be covered by bone).
    #[default]
    Inserter,
    /// The face opposite the insertion face (the leading end).
    Leading,
    /// The side facing local `+y` (the TLIF's convex, anterior side).
    #[serde(rename = "+y")]
    PlusY,
    /// The side facing local `-y`.
    #[serde(rename = "-y")]
    MinusY,
    /// Whichever vertical face has room, largest first.
    Any,
}

impl MarkingFace {
    /// The face's name as a spec writes it.
    pub fn name(self) -> &'static str {
        match self {
            MarkingFace::Inserter => "inserter",
            MarkingFace::Leading => "leading",
            MarkingFace::PlusY => "+y",
            MarkingFace::MinusY => "-y",
            MarkingFace::Any => "any",
        }
    }

    /// The face's outward direction (x, y) in the local cage frame; `None` for [`MarkingFace::Any`].
    pub fn outward_normal(self, spec: &CageSpec) -> Option<[f64; 2]> {
        let d = crate::cage::footprint::Footprint::from_spec(spec)
            .insertion_axis()
            .direction;
        match self {
            MarkingFace::Inserter => Some([-d.x, -d.y]),
            MarkingFace::Leading => Some([d.x, d.y]),
            MarkingFace::PlusY => Some([0.0, 1.0]),
            MarkingFace::MinusY => Some([0.0, -1.0]),
            MarkingFace::Any => None,
        }
    }
}

/// Where and how large the serial number is engraved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarkingSpec {
    /// The face that carries it.
    pub face: MarkingFace,
    /// Character height, mm, 1–3 (legible in a 0.25 mm groove down to 1 mm).
    pub char_height_mm: f64,
}

impl Default for MarkingSpec {
    /// On the inserter face, 1.5 mm high.
    fn default() -> MarkingSpec {
        MarkingSpec {
            face: MarkingFace::Inserter,
            char_height_mm: 1.5,
        }
    }
}

/// A complete interbody cage description (see the module docs for frame and units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CageSpec {
    /// The cage family (fixes footprint shape and envelope).
    pub kind: CageKind,
    /// Overall extent along the local `x` axis, mm; range per [`CageKind`].
    pub length_mm: f64,
    /// Overall extent along the local `y` axis, mm (TLIF: the banana's band width, across its
    /// centre line); range per [`CageKind`].
    pub width_mm: f64,
    /// Height at the footprint centre, mm; range per [`CageKind`]. Ignored (replaced by the
    /// fitted disc space) when the cage is fitted to endplates.
    pub height_mm: f64,
    /// Lordosis: angle between top and bottom faces, degrees, taller anteriorly; range per kind.
    pub lordosis_deg: f64,
    /// Convex dome added at the centre of the top and bottom faces, mm, 0–2 (lumbar endplates
    /// are concave by 0.7–1.5 mm).
    #[serde(default)]
    pub dome_mm: f64,
    /// Length of the bullet nose at `+x`, mm, 2–12, PLIF and OLIF only (0 for the other kinds).
    #[serde(default)]
    pub nose_length_mm: f64,
    /// Radius of the footprint's convex corners, mm, 0–5 (at most a quarter of the smaller
    /// footprint size); TLIF ends are always round.
    #[serde(default)]
    pub corner_radius_mm: f64,
    /// Radius of the TLIF centre-line arc, mm, 20–80 (TLIF only; `length − width ≤ 2·radius`).
    #[serde(default)]
    pub curvature_radius_mm: f64,
    /// Width of the solid load-bearing rim, mm, 0.8–4.
    pub rim_width_mm: f64,
    /// Gap kept between the cage faces and the bone when fitted to endplates, mm, 0–0.5.
    pub clearance_mm: f64,
    /// Target triangle edge length of the mesh, mm, 0.03–0.5 (at most a sixth of the cell size).
    pub edge_length_mm: f64,
    /// Graft windows.
    pub windows: WindowSpec,
    /// Serrations on the endplate faces.
    pub teeth: TeethSpec,
    /// Inserter hole.
    pub inserter: InserterSpec,
    /// The porous core.
    pub lattice: LatticeSpec,
    /// The serial number's face and size (the inserter face, 1.5 mm high, when absent).
    #[serde(default)]
    pub marking: MarkingSpec,
}

/// One check of the design envelope, passed or not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvelopeCheck {
    /// The TOML field (dotted path), e.g. `teeth.pitch_mm`.
    pub field: String,
    /// The value found.
    pub value: f64,
    /// The allowed range (may depend on other fields).
    pub range: Range,
    /// Where the range comes from.
    pub basis: &'static str,
    /// True when `value` lies in `range`.
    pub pass: bool,
}

/// A value outside the design envelope.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field} = {value} is outside the design envelope [{min}, {max}] ({basis})", min = range.min, max = range.max)]
pub struct EnvelopeViolation {
    /// The TOML field (dotted path).
    pub field: String,
    /// The value found.
    pub value: f64,
    /// The allowed range.
    pub range: Range,
    /// Where the range comes from.
    pub basis: &'static str,
}

/// Why a spec could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The TOML text is malformed or has a wrong / unknown / missing field.
    #[error("cage spec {source_name}: {message}")]
    Parse {
        /// The file or source the text came from.
        source_name: String,
        /// The TOML parser's message (with line and column).
        message: String,
    },
    /// One or more values are outside the design envelope.
    #[error("cage spec {source_name}: {}", list(.violations))]
    Envelope {
        /// The file or source the text came from.
        source_name: String,
        /// Every violation found.
        violations: Vec<EnvelopeViolation>,
    },
}

fn list(v: &[EnvelopeViolation]) -> String {
    v.iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {}]", self.min, self.max)
    }
}

impl CageSpec {
    /// The embedded default TLIF lattice cage used by the demo.
    pub fn default_tlif() -> CageSpec {
        // The embedded text is checked by a unit test, so this cannot fail at run time.
        CageSpec::from_toml_str(DEFAULT_TLIF_TOML, "default_tlif.toml")
            .unwrap_or_else(|e| unreachable!("embedded default spec is valid: {e}"))
    }

    /// Parses and validates a spec; `source_name` names the text in error messages.
    pub fn from_toml_str(text: &str, source_name: &str) -> Result<CageSpec, SpecError> {
        let spec: CageSpec = toml::from_str(text).map_err(|e| SpecError::Parse {
            source_name: source_name.to_string(),
            message: e.to_string(),
        })?;
        spec.validate().map_err(|violations| SpecError::Envelope {
            source_name: source_name.to_string(),
            violations,
        })?;
        Ok(spec)
    }

    /// The spec as TOML text.
    pub fn to_toml_string(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Every violation of the design envelope, or `Ok` when there is none.
    pub fn validate(&self) -> Result<(), Vec<EnvelopeViolation>> {
        let violations: Vec<EnvelopeViolation> = self
            .envelope_checks()
            .into_iter()
            .filter(|c| !c.pass)
            .map(|c| EnvelopeViolation {
                field: c.field,
                value: c.value,
                range: c.range,
                basis: c.basis,
            })
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }

    /// Every envelope check, in field order, with pass / fail.
    pub fn envelope_checks(&self) -> Vec<EnvelopeCheck> {
        let mut c = EnvelopeChecks(Vec::new());
        self.body_checks(&mut c);
        self.window_checks(&mut c);
        self.teeth_checks(&mut c);
        self.inserter_checks(&mut c);
        let l = &self.lattice;
        c.check("lattice.cell_size_mm", l.cell_size_mm, 1.0, 5.0, INGROWTH);
        c.check("lattice.porosity", l.porosity, 0.40, 0.85, INGROWTH);
        c.check(
            "marking.char_height_mm",
            self.marking.char_height_mm,
            1.0,
            3.0,
            LPBF,
        );
        c.0
    }

    /// The outline, rim, clearance and mesh resolution.
    fn body_checks(&self, c: &mut EnvelopeChecks) {
        let env = self.kind.envelope();
        let mut check = |field: &str, value: f64, min: f64, max: f64, basis: &'static str| {
            c.check(field, value, min, max, basis);
        };
        let r = env.length_mm;
        check("length_mm", self.length_mm, r.min, r.max, FDA);
        let r = env.width_mm;
        check("width_mm", self.width_mm, r.min, r.max, FDA);
        let r = env.height_mm;
        check("height_mm", self.height_mm, r.min, r.max, FDA);
        let r = env.lordosis_deg;
        check("lordosis_deg", self.lordosis_deg, r.min, r.max, FDA);
        check("dome_mm", self.dome_mm, 0.0, 2.0, GEOM);
        let small = self.length_mm.min(self.width_mm);
        match self.kind {
            CageKind::Plif | CageKind::Olif => {
                let max = 12.0f64.min(0.5 * self.length_mm);
                check("nose_length_mm", self.nose_length_mm, 2.0, max, GEOM);
            }
            _ => check("nose_length_mm", self.nose_length_mm, 0.0, 0.0, GEOM),
        }
        check(
            "corner_radius_mm",
            self.corner_radius_mm,
            0.0,
            5.0f64.min(0.25 * small),
            GEOM,
        );
        if self.kind == CageKind::Tlif {
            let min = 20.0f64.max(0.5 * (self.length_mm - self.width_mm));
            check(
                "curvature_radius_mm",
                self.curvature_radius_mm,
                min,
                80.0,
                GEOM,
            );
        }
        // The rim must leave a core at least one cell wide for the lattice.
        let rim_max = 4.0f64.min(0.5 * (self.width_mm - self.lattice.cell_size_mm));
        check("rim_width_mm", self.rim_width_mm, 0.8, rim_max, LPBF);
        check("clearance_mm", self.clearance_mm, 0.0, 0.5, GEOM);
        check(
            "edge_length_mm",
            self.edge_length_mm,
            0.03,
            0.5f64.min(self.lattice.cell_size_mm / 6.0),
            "mesh resolution: at most a sixth of the lattice cell",
        );
    }

    /// The graft windows: they sit in the core with at least 1 mm of lattice between them.
    fn window_checks(&self, c: &mut EnvelopeChecks) {
        let mut check = |field: &str, value: f64, min: f64, max: f64, basis: &'static str| {
            c.check(field, value, min, max, basis);
        };
        let core_len = self.length_mm - 2.0 * self.rim_width_mm - self.nose_length_mm;
        let core_w = self.width_mm - 2.0 * self.rim_width_mm;
        let w = &self.windows;
        check("windows.count", w.count as f64, 0.0, 4.0, GEOM);
        if w.count > 0 {
            // Windows sit in the core with at least 1 mm of lattice between them.
            let each = (core_len - (w.count as f64 + 1.0)) / w.count as f64;
            check(
                "windows.length_mm",
                w.length_mm,
                1.0,
                20.0f64.min(each),
                GEOM,
            );
            check(
                "windows.width_mm",
                w.width_mm,
                1.0,
                15.0f64.min(core_w - 1.0),
                GEOM,
            );
            let rmax = 5.0f64.min(0.5 * w.length_mm.min(w.width_mm));
            check(
                "windows.corner_radius_mm",
                w.corner_radius_mm,
                0.0,
                rmax,
                GEOM,
            );
        }
    }

    /// The teeth: rows, pitch, height and a flank the base of a ridge fits.
    fn teeth_checks(&self, c: &mut EnvelopeChecks) {
        let mut check = |field: &str, value: f64, min: f64, max: f64, basis: &'static str| {
            c.check(field, value, min, max, basis);
        };
        let t = &self.teeth;
        check("teeth.rows", t.rows as f64, 0.0, 30.0, GEOM);
        if t.rows > 0 {
            let pitch_max = 4.0f64.min(self.length_mm / t.rows as f64);
            check("teeth.pitch_mm", t.pitch_mm, 0.8, pitch_max, GEOM);
            check("teeth.height_mm", t.height_mm, 0.2, 1.5, GEOM);
            // The base of a ridge (2h / tan(flank)) must fit in one pitch.
            let min_angle = (2.0 * t.height_mm / t.pitch_mm)
                .atan()
                .to_degrees()
                .max(30.0);
            check(
                "teeth.flank_angle_deg",
                t.flank_angle_deg,
                min_angle,
                75.0,
                LPBF,
            );
        }
    }

    /// The inserter hole: it fits the insertion face and half the cage's depth.
    fn inserter_checks(&self, c: &mut EnvelopeChecks) {
        let mut check = |field: &str, value: f64, min: f64, max: f64, basis: &'static str| {
            c.check(field, value, min, max, basis);
        };
        let i = &self.inserter;
        if i.diameter_mm != 0.0 {
            let hole_room = self.height_mm.min(insertion_face_width(self)) - 2.0 * 0.8;
            check(
                "inserter.diameter_mm",
                i.diameter_mm,
                2.0,
                6.0f64.min(hole_room),
                GEOM,
            );
            check(
                "inserter.depth_mm",
                i.depth_mm,
                0.0,
                12.0f64.min(0.5 * self.length_along_insertion()),
                GEOM,
            );
        }
    }

    /// The cage's extent along its inserter axis, mm.
    pub fn length_along_insertion(&self) -> f64 {
        match self.kind {
            CageKind::Alif | CageKind::Acdf => self.width_mm,
            _ => self.length_mm,
        }
    }
}

const FDA: &str = "FDA 510(k) range of cleared devices for this kind";
const LPBF: &str = "Ti-6Al-4V LPBF manufacturing limit";
const GEOM: &str = "geometric consistency with the other fields";
const INGROWTH: &str = "bone in-growth range";

/// The envelope checks as they are made, in field order.
struct EnvelopeChecks(Vec<EnvelopeCheck>);

impl EnvelopeChecks {
    /// Checks `value` of `field` against `[min, max]`, which comes from `basis`.
    fn check(&mut self, field: &str, value: f64, min: f64, max: f64, basis: &'static str) {
        let range = Range { min, max };
        self.0.push(EnvelopeCheck {
            field: field.to_string(),
            value,
            range,
            basis,
            pass: range.contains(value),
        });
    }
}

/// The width of the insertion face across the inserter axis, mm.
fn insertion_face_width(spec: &CageSpec) -> f64 {
    match spec.kind {
        CageKind::Alif | CageKind::Acdf => spec.length_mm,
        _ => spec.width_mm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cage::footprint::Footprint;

    #[test]
    fn embedded_default_tlif_parses_and_is_inside_the_envelope() {
        let spec = CageSpec::from_toml_str(DEFAULT_TLIF_TOML, "default").unwrap();
        assert_eq!(spec.kind, CageKind::Tlif);
        assert!(spec.envelope_checks().iter().all(|c| c.pass));
    }

    #[test]
    fn out_of_range_value_is_named_with_value_and_range() {
        let text = DEFAULT_TLIF_TOML.replace("height_mm = 12.0", "height_mm = 21.5");
        let err = CageSpec::from_toml_str(&text, "t.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("height_mm = 21.5"), "{msg}");
        assert!(msg.contains("[7, 16]"), "{msg}");
        assert!(msg.contains("t.toml"), "{msg}");
    }

    #[test]
    fn every_violation_is_reported_not_only_the_first() {
        let mut spec = CageSpec::default_tlif();
        spec.width_mm = 20.0;
        spec.lattice.porosity = 0.95;
        spec.teeth.flank_angle_deg = 85.0;
        let fields: Vec<String> = spec
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        for f in ["width_mm", "lattice.porosity", "teeth.flank_angle_deg"] {
            assert!(fields.iter().any(|x| x == f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn nan_is_never_inside_the_envelope() {
        let mut spec = CageSpec::default_tlif();
        spec.clearance_mm = f64::NAN;
        let v = spec.validate().unwrap_err();
        assert_eq!(v[0].field, "clearance_mm");
    }

    #[test]
    fn the_marking_face_defaults_to_the_inserter_face_and_a_named_one_is_read() {
        let spec = CageSpec::default_tlif();
        assert_eq!(spec.marking, MarkingSpec::default());
        let axis = Footprint::from_spec(&spec).insertion_axis().direction;
        let n = spec.marking.face.outward_normal(&spec).unwrap();
        assert!((n[0] + axis.x).abs() < 1e-12 && (n[1] + axis.y).abs() < 1e-12);
        let text = format!("{DEFAULT_TLIF_TOML}\n[marking]\nface = \"-y\"\nchar_height_mm = 1.2\n");
        let side = CageSpec::from_toml_str(&text, "side.toml").unwrap();
        assert_eq!(side.marking.face, MarkingFace::MinusY);
        assert_eq!(side.marking.face.outward_normal(&side), Some([0.0, -1.0]));
        assert_eq!(side.marking.char_height_mm, 1.2);
        for face in [
            MarkingFace::Inserter,
            MarkingFace::Leading,
            MarkingFace::PlusY,
            MarkingFace::MinusY,
            MarkingFace::Any,
        ] {
            let text = format!(
                "{DEFAULT_TLIF_TOML}\n[marking]\nface = \"{}\"\n",
                face.name()
            );
            let spec = CageSpec::from_toml_str(&text, "n.toml").unwrap();
            assert_eq!(spec.marking.face, face, "{}", face.name());
        }
    }

    #[test]
    fn an_unknown_marking_face_or_letters_out_of_range_are_refused_by_name() {
        let text = format!("{DEFAULT_TLIF_TOML}\n[marking]\nface = \"top\"\n");
        let msg = CageSpec::from_toml_str(&text, "m.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("top") && msg.contains("inserter"), "{msg}");
        let text = format!("{DEFAULT_TLIF_TOML}\n[marking]\nchar_height_mm = 0.5\n");
        let msg = CageSpec::from_toml_str(&text, "m.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("marking.char_height_mm = 0.5"), "{msg}");
    }

    #[test]
    fn unknown_field_is_a_parse_error_with_its_name() {
        let text = format!("{DEFAULT_TLIF_TOML}\nwidht_mm = 3.0\n");
        let msg = CageSpec::from_toml_str(&text, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("widht_mm"), "{msg}");
    }

    #[test]
    fn teeth_too_steep_for_their_pitch_are_rejected() {
        let mut spec = CageSpec::default_tlif();
        spec.teeth.pitch_mm = 1.0;
        spec.teeth.height_mm = 1.2;
        spec.teeth.flank_angle_deg = 45.0;
        let v = spec.validate().unwrap_err();
        assert!(
            v.iter().any(|v| v.field == "teeth.flank_angle_deg"),
            "{v:?}"
        );
    }

    #[test]
    fn spec_round_trips_through_toml() {
        let spec = CageSpec::default_tlif();
        let back = CageSpec::from_toml_str(&spec.to_toml_string(), "rt").unwrap();
        assert_eq!(spec, back);
    }
}
