//! Admission of a job by the machine, decided before anything is written.
//!
//! The machine description is the controller's [`MachineConfig`] (the built-in machine or a
//! machine TOML); its rules live in [`meltline_firmware::limits`]. This module converts the
//! slicer's parameter sets and extents into the controller's units exactly as the job encoder
//! does ([`wire_param_set`]) and applies those same rules, so the slicer refuses every job the
//! printer would refuse, with the same rule, value and limit, and says so in millimetres, watts
//! and J/mm³.

use std::fmt;

use meltline_firmware::limits::{
    EnergyVerdict, HeaderFigures, Violation, check_coordinate, check_energy, check_header,
    check_param_set, field_limit_quanta,
};
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::wire::{ParamSet, Rule};

use crate::polygon::{QUANTUM_MM, to_units};
use crate::profile::{ParameterSet, ProcessProfile, set_id};

/// Spot (melt-track) diameter written into every parameter set, µm: twice the default beam
/// offset of 0.06 mm (a 70–115 µm spot gives a 100–120 µm melt track, docs/DOMAIN.md).
pub const DEFAULT_SPOT_UM: u32 = 120;

/// The coordinate quantum of every job, nm.
pub const QUANTUM_NM: u32 = 1000;

/// A parameter set in the controller's units (mW, mm/s, µm), rounded as the wire carries it;
/// `None` when a value does not fit the wire's unsigned 32-bit fields.
pub fn wire_param_set(
    id: u16,
    s: &ParameterSet,
    spot_um: u32,
    skywriting: bool,
) -> Option<ParamSet> {
    let fit = |v: f64| -> Option<u32> {
        let r = v.round();
        (r.is_finite() && r >= 0.0 && r <= f64::from(u32::MAX)).then_some(r as u32)
    };
    Some(ParamSet {
        id,
        power_mw: fit(s.power_w * 1000.0)?,
        mark_speed_mm_s: fit(s.speed_mm_s)?,
        spot_um,
        hatch_distance_um: fit(s.hatch_mm * 1000.0)?,
        skywriting,
    })
}

/// Layer thickness in whole nm, `None` when it is not representable.
pub fn layer_nm(layer_thickness_mm: f64) -> Option<u32> {
    let v = (layer_thickness_mm * 1e6).round();
    (v.is_finite() && v >= 1.0 && v <= f64::from(u32::MAX)).then_some(v as u32)
}

/// Why the machine would refuse the job: the controller's rule, the parameter set it concerns
/// (if any), the offending value and the limit in the rule's wire unit, and the machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The controller's rule.
    pub rule: Rule,
    /// The parameter set concerned (`core`, `contour` …), if the rule is about one.
    pub set: Option<&'static str>,
    /// The offending value in the rule's unit (mW, mm/s, nm, µm, mJ/mm³, quanta).
    pub value: i64,
    /// The limit it broke, same unit.
    pub limit: i64,
    /// The machine's name.
    pub machine: String,
}

impl Refusal {
    fn new(v: Violation, set: Option<&'static str>, m: &MachineConfig) -> Self {
        Refusal {
            rule: v.rule,
            set,
            value: v.value,
            limit: v.limit,
            machine: m.machine.as_str().to_string(),
        }
    }
}

fn thousandths(v: i64) -> f64 {
    v as f64 / 1000.0
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = if self.value < self.limit {
            "below the minimum"
        } else {
            "above the maximum"
        };
        if let Some(set) = self.set {
            write!(f, "parameter set {set}: ")?;
        }
        let (v, l, m) = (self.value, self.limit, &self.machine);
        match self.rule {
            Rule::PowerOutOfRange => write!(
                f,
                "laser power {} W is {side} {} W of machine {m}",
                thousandths(v),
                thousandths(l)
            ),
            Rule::SpeedOutOfRange => {
                write!(f, "scan speed {v} mm/s is {side} {l} mm/s of machine {m}")
            }
            Rule::EnergyDensityOutsideWindow => write!(
                f,
                "energy density {:.1} J/mm³ is {side} {:.1} J/mm³ of machine {m}'s material window",
                thousandths(v),
                thousandths(l)
            ),
            Rule::LayerThicknessOutOfRange => write!(
                f,
                "layer thickness {} µm is {side} {} µm of machine {m}",
                thousandths(v),
                thousandths(l)
            ),
            Rule::BuildHeightExceeded => write!(
                f,
                "the job is {:.3} mm tall but machine {m} builds at most {:.3} mm",
                thousandths(v),
                thousandths(l)
            ),
            Rule::OutsideField => write!(
                f,
                "the placed part reaches {:.3} mm from the plate centre, outside the ±{:.3} mm scan field of machine {m}",
                v.unsigned_abs() as f64 * QUANTUM_MM,
                l as f64 * QUANTUM_MM
            ),
            Rule::QuantumUnsupported => {
                write!(
                    f,
                    "coordinate quantum {v} nm is coarser than {l} nm of machine {m}"
                )
            }
            Rule::MaterialMismatch => write!(f, "machine {m} is loaded with another material"),
            Rule::SpotOutOfRange => write!(f, "spot diameter 0 µm"),
            other => write!(f, "machine {m} refuses the job: {other:?} ({v}, limit {l})"),
        }
    }
}

impl std::error::Error for Refusal {}

/// What the machine says of a profile: warnings when the machine's energy policy is to warn.
pub fn admit_profile(p: &ProcessProfile, m: &MachineConfig) -> Result<Vec<String>, Refusal> {
    let refuse = |v: Violation, set| Refusal::new(v, set, m);
    let representable = |set, key, value: f64| Refusal {
        rule: Rule::ParamSetTable,
        set: Some(set),
        value: value as i64,
        limit: i64::from(u32::MAX),
        machine: format!("{} ({key} does not fit the wire)", m.machine.as_str()),
    };
    let Some(t_nm) = layer_nm(p.layer_thickness_mm) else {
        return Err(Refusal {
            rule: Rule::LayerThicknessOutOfRange,
            set: None,
            value: 0,
            limit: m.min_layer_nm.into(),
            machine: m.machine.as_str().to_string(),
        });
    };
    let figures = HeaderFigures {
        machine: m.machine.as_str(),
        material: &p.material,
        quantum_nm: QUANTUM_NM,
        layer_thickness_nm: t_nm,
        layer_count: 0,
    };
    check_header(m, &figures).map_err(|v| refuse(v, None))?;
    let mut warnings = Vec::new();
    for (id, name, s) in p.parameter_sets() {
        let w = wire_param_set(id, s, DEFAULT_SPOT_UM, false)
            .ok_or_else(|| representable(name, "power or speed", s.power_w))?;
        check_param_set(m, &w).map_err(|v| refuse(v, Some(name)))?;
        if !matches!(id, set_id::CORE | set_id::UPSKIN | set_id::DOWNSKIN) {
            continue;
        }
        match check_energy(m, &w, t_nm) {
            EnergyVerdict::Inside => {}
            EnergyVerdict::Refuse(v) => return Err(refuse(v, Some(name))),
            EnergyVerdict::Warn(v) => warnings.push(refuse(v, Some(name)).to_string()),
        }
    }
    Ok(warnings)
}

/// Checks the placed part against the scan field and the job's layers against the build
/// height.
///
/// The outermost vectors of a layer are its first contour, inset from the part's edge by the
/// beam offset; the controller keeps their melt track (half a spot either side) inside the
/// field. The part's extent is judged the same way, so a part whose edge touches the field
/// with the default beam offset of half a spot is admitted, and one a micrometre beyond is not.
pub fn admit_extent(
    p: &ProcessProfile,
    m: &MachineConfig,
    bounds_mm: [[f64; 3]; 2],
    layer_count: usize,
) -> Result<(), Refusal> {
    let refuse = |v: Violation| Refusal::new(v, None, m);
    let limit = field_limit_quanta(m, QUANTUM_NM, DEFAULT_SPOT_UM);
    let inset = to_units(p.contours.beam_offset_mm.clamp(0.0, 1e3));
    for c in [
        bounds_mm[0][0],
        bounds_mm[0][1],
        bounds_mm[1][0],
        bounds_mm[1][1],
    ] {
        let q = to_units(c.clamp(-1e6, 1e6));
        let outermost = q - q.signum() * inset.min(q.abs());
        check_coordinate(limit, outermost).map_err(|v| {
            // Name the part's own extent, not the inset vector's.
            refuse(Violation {
                value: q.into(),
                limit: limit + i64::from(inset),
                ..v
            })
        })?;
    }
    let figures = HeaderFigures {
        machine: m.machine.as_str(),
        material: &p.material,
        quantum_nm: QUANTUM_NM,
        layer_thickness_nm: layer_nm(p.layer_thickness_mm).unwrap_or(0),
        layer_count: u32::try_from(layer_count).unwrap_or(u32::MAX),
    };
    check_header(m, &figures).map_err(refuse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ten_watt_core_is_refused_naming_the_set_the_value_and_the_limit() {
        let mut p = ProcessProfile::ti6al4v();
        p.core.power_w = 10.0;
        let r = admit_profile(&p, &MachineConfig::default()).unwrap_err();
        assert_eq!(r.rule, Rule::PowerOutOfRange);
        let text = r.to_string();
        assert!(text.contains("parameter set core"), "{text}");
        assert!(text.contains("10 W"), "{text}");
        assert!(text.contains("20 W"), "{text}");
    }

    #[test]
    fn a_fifty_mm_hatch_is_refused_for_its_energy_density() {
        let mut p = ProcessProfile::ti6al4v();
        p.core.hatch_mm = 50.0;
        let r = admit_profile(&p, &MachineConfig::default()).unwrap_err();
        assert_eq!(r.rule, Rule::EnergyDensityOutsideWindow);
        assert!(r.to_string().contains("J/mm³"), "{r}");
    }

    #[test]
    fn the_built_in_profile_is_admitted_by_the_built_in_machine_without_warnings() {
        let w = admit_profile(&ProcessProfile::ti6al4v(), &MachineConfig::default()).unwrap();
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn a_part_taller_than_the_machine_is_refused_with_both_heights() {
        let p = ProcessProfile::ti6al4v();
        let b = [[-5.0, -5.0, 0.0], [5.0, 5.0, 401.0]];
        let r = admit_extent(&p, &MachineConfig::default(), b, 13_367).unwrap_err();
        assert_eq!(r.rule, Rule::BuildHeightExceeded);
        let text = r.to_string();
        assert!(
            text.contains("401.010 mm") && text.contains("325.000 mm"),
            "{text}"
        );
    }
}
