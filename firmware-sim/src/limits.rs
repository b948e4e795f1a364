//! The machine's acceptance rules: the one place where a limit of the [`MachineConfig`] is
//! compared with a job.
//!
//! The controller applies these functions as the job's messages arrive; the slicer applies the
//! very same functions to the job it is about to write, so a job the printer would refuse is
//! refused before anything is written, naming the same rule, value and limit.
//!
//! ```
//! use meltline_firmware::limits::{check_header, HeaderFigures};
//! use meltline_firmware::machine::MachineConfig;
//! use meltline_firmware::wire::Rule;
//! let m = MachineConfig::default();
//! let tall = HeaderFigures {
//!     machine: "meltline-sim-250",
//!     material: "Ti-6Al-4V",
//!     quantum_nm: 1000,
//!     layer_thickness_nm: 30_000,
//!     layer_count: 13_367, // 401 mm of layers on a machine with 325 mm of Z travel
//! };
//! assert_eq!(check_header(&m, &tall).unwrap_err().rule, Rule::BuildHeightExceeded);
//! ```

use crate::machine::{EnergyPolicy, MachineConfig, energy_density_mj_mm3};
use crate::wire::{JobHeader, ParamSet, Rule};

/// A broken rule with the offending value and the limit it broke, in the rule's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule broken.
    pub rule: Rule,
    /// The offending value (nm, µm, mW, mm/s, mJ/mm³ … as documented per rule).
    pub value: i64,
    /// The limit it broke.
    pub limit: i64,
}

impl Violation {
    fn new(rule: Rule, value: impl Into<i64>, limit: impl Into<i64>) -> Self {
        Violation {
            rule,
            value: value.into(),
            limit: limit.into(),
        }
    }
}

/// The figures of a job header the machine judges (borrowed from a wire header or a job
/// about to be written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderFigures<'a> {
    /// Machine identity the job was prepared for.
    pub machine: &'a str,
    /// Material name.
    pub material: &'a str,
    /// Coordinate quantum, nm.
    pub quantum_nm: u32,
    /// Layer thickness, nm.
    pub layer_thickness_nm: u32,
    /// Number of layers.
    pub layer_count: u32,
}

impl<'a> From<&JobHeader<'a>> for HeaderFigures<'a> {
    fn from(h: &JobHeader<'a>) -> Self {
        HeaderFigures {
            machine: h.machine,
            material: h.material,
            quantum_nm: h.quantum_nm,
            layer_thickness_nm: h.layer_thickness_nm,
            layer_count: h.layer_count,
        }
    }
}

/// Height of the job's layers in µm (rounded up), saturating.
pub fn job_height_um(layer_thickness_nm: u32, layer_count: u32) -> u64 {
    (u64::from(layer_thickness_nm) * u64::from(layer_count)).div_ceil(1000)
}

/// Checks a job header against the machine: identity, material, quantum, layer thickness and
/// the build height (layers × thickness within the machine's Z travel).
///
/// Build height is judged in µm ([`Rule::BuildHeightExceeded`]: value = the job's height,
/// limit = the machine's).
pub fn check_header(c: &MachineConfig, h: &HeaderFigures<'_>) -> Result<(), Violation> {
    if h.machine != c.machine.as_str() {
        return Err(Violation::new(Rule::MachineMismatch, 0, 0));
    }
    if h.material != c.material.as_str() {
        return Err(Violation::new(Rule::MaterialMismatch, 0, 0));
    }
    if h.quantum_nm == 0 || h.quantum_nm > c.max_quantum_nm {
        return Err(Violation::new(
            Rule::QuantumUnsupported,
            h.quantum_nm,
            c.max_quantum_nm,
        ));
    }
    check_range(
        Rule::LayerThicknessOutOfRange,
        h.layer_thickness_nm,
        c.min_layer_nm,
        c.max_layer_nm,
    )?;
    let height_um = job_height_um(h.layer_thickness_nm, h.layer_count);
    if height_um > u64::from(c.build_height_um) {
        return Err(Violation {
            rule: Rule::BuildHeightExceeded,
            value: i64::try_from(height_um).unwrap_or(i64::MAX),
            limit: c.build_height_um.into(),
        });
    }
    Ok(())
}

fn check_range(rule: Rule, v: u32, lo: u32, hi: u32) -> Result<(), Violation> {
    if v < lo {
        Err(Violation::new(rule, v, lo))
    } else if v > hi {
        Err(Violation::new(rule, v, hi))
    } else {
        Ok(())
    }
}

/// Checks a parameter set against the machine's laser power (mW), mark speed (mm/s) and spot.
pub fn check_param_set(c: &MachineConfig, p: &ParamSet) -> Result<(), Violation> {
    check_range(
        Rule::PowerOutOfRange,
        p.power_mw,
        c.min_power_mw,
        c.max_power_mw,
    )?;
    check_range(
        Rule::SpeedOutOfRange,
        p.mark_speed_mm_s,
        c.min_speed_mm_s,
        c.max_speed_mm_s,
    )?;
    if p.spot_um == 0 {
        return Err(Violation::new(Rule::SpotOutOfRange, 0, 1));
    }
    Ok(())
}

/// What the machine does with a parameter set's volumetric energy density when it is used
/// for hatches (the only vectors whose hatch distance means anything).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnergyVerdict {
    /// Inside the material window.
    Inside,
    /// Outside the window, and the machine's policy is to warn and execute.
    Warn(Violation),
    /// Outside the window, and the machine's policy is to refuse the job.
    Refuse(Violation),
}

/// Judges `p`'s energy density `P/(v·h·t)` (mJ/mm³) against the machine's material window
/// and policy, for hatches of a job with layers of `layer_nm`.
pub fn check_energy(c: &MachineConfig, p: &ParamSet, layer_nm: u32) -> EnergyVerdict {
    let e = energy_density_mj_mm3(p, layer_nm);
    let (lo, hi) = (c.min_energy_mj_mm3, c.max_energy_mj_mm3);
    if e >= u64::from(lo) && e <= u64::from(hi) {
        return EnergyVerdict::Inside;
    }
    let v = Violation {
        rule: Rule::EnergyDensityOutsideWindow,
        value: i64::try_from(e).unwrap_or(i64::MAX),
        limit: if e < u64::from(lo) { lo } else { hi }.into(),
    };
    match c.energy_policy {
        EnergyPolicy::Refuse => EnergyVerdict::Refuse(v),
        EnergyPolicy::Warn => EnergyVerdict::Warn(v),
    }
}

/// The largest |coordinate| in quanta of `quantum_nm` that a vector marked with a spot of
/// `spot_um` may reach: its melt track (half a spot either side) stays inside the scan field.
pub fn field_limit_quanta(c: &MachineConfig, quantum_nm: u32, spot_um: u32) -> i64 {
    (i64::from(c.field_half_um) * 1000 - i64::from(spot_um) * 500) / i64::from(quantum_nm.max(1))
}

/// Checks one coordinate (in quanta) against the scan field.
pub fn check_coordinate(limit_quanta: i64, coordinate: i32) -> Result<(), Violation> {
    if i64::from(coordinate).abs() > limit_quanta {
        return Err(Violation {
            rule: Rule::OutsideField,
            value: coordinate.into(),
            limit: limit_quanta,
        });
    }
    Ok(())
}

/// The box `[x_min, y_min, x_max, y_max]` in quanta of `quantum_nm` that a vector of laser
/// `laser`, marked with a spot of `spot_um`, may reach: its melt track stays inside that
/// laser's field. `None` when the machine has no such laser ([`Rule::LaserForm`]).
pub fn laser_field_quanta(
    c: &MachineConfig,
    laser: u8,
    quantum_nm: u32,
    spot_um: u32,
) -> Option<[i64; 4]> {
    let l = c.laser(usize::from(laser))?;
    let half_spot = i64::from(spot_um) * 500;
    let q = i64::from(quantum_nm.max(1));
    let [x0, y0, x1, y1] = l.field_um.map(|v| i64::from(v) * 1000);
    // Inward rounding: a coordinate within the box keeps its track inside the field.
    Some([
        (x0 + half_spot).div_euclid(q) + i64::from((x0 + half_spot).rem_euclid(q) != 0),
        (y0 + half_spot).div_euclid(q) + i64::from((y0 + half_spot).rem_euclid(q) != 0),
        (x1 - half_spot).div_euclid(q),
        (y1 - half_spot).div_euclid(q),
    ])
}

/// Checks one vector end (in quanta) against its laser's box from [`laser_field_quanta`]
/// ([`Rule::OutsideLaserField`]: value = the coordinate, limit = the edge it passed).
pub fn check_laser_point(field: [i64; 4], x: i32, y: i32) -> Result<(), Violation> {
    let [x0, y0, x1, y1] = field;
    let (x, y) = (i64::from(x), i64::from(y));
    let out = |value: i64, limit: i64| Violation {
        rule: Rule::OutsideLaserField,
        value,
        limit,
    };
    if x < x0 {
        return Err(out(x, x0));
    }
    if x > x1 {
        return Err(out(x, x1));
    }
    if y < y0 {
        return Err(out(y, y0));
    }
    if y > y1 {
        return Err(out(y, y1));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn header(layers: u32) -> HeaderFigures<'static> {
        HeaderFigures {
            machine: "meltline-sim-250",
            material: "Ti-6Al-4V",
            quantum_nm: 1000,
            layer_thickness_nm: 30_000,
            layer_count: layers,
        }
    }

    #[test]
    fn a_job_exactly_as_tall_as_the_machine_is_accepted_and_one_layer_more_is_not() {
        let m = MachineConfig::default();
        let fit = m.build_height_um / 30;
        assert_eq!(check_header(&m, &header(fit)), Ok(()));
        let v = check_header(&m, &header(fit + 1)).unwrap_err();
        assert_eq!(v.rule, Rule::BuildHeightExceeded);
        assert_eq!(v.limit, i64::from(m.build_height_um));
        assert_eq!(v.value, i64::from(fit + 1) * 30);
    }

    #[test]
    fn the_field_limit_keeps_the_whole_melt_track_inside_the_field() {
        let m = MachineConfig::default();
        // ±125 mm field, 120 µm spot: vector ends may reach 124.94 mm.
        let limit = field_limit_quanta(&m, 1000, 120);
        assert_eq!(limit, 124_940);
        assert_eq!(check_coordinate(limit, 124_940), Ok(()));
        assert_eq!(
            check_coordinate(limit, -124_941).unwrap_err().rule,
            Rule::OutsideField
        );
    }

    #[test]
    fn a_laser_field_limit_keeps_the_melt_track_inside_that_lasers_field_only() {
        let m = crate::lasers::builtin_machine("meltline-sim-250-4x").unwrap();
        // Laser 0 reaches x, y in [-125, 25] mm; a 120 µm spot leaves [-124.94, 24.94].
        let f = laser_field_quanta(&m, 0, 1000, 120).unwrap();
        assert_eq!(f, [-124_940, -124_940, 24_940, 24_940]);
        assert_eq!(check_laser_point(f, 24_940, -124_940), Ok(()));
        let v = check_laser_point(f, 24_941, 0).unwrap_err();
        assert_eq!(
            (v.rule, v.value, v.limit),
            (Rule::OutsideLaserField, 24_941, 24_940)
        );
        assert_eq!(
            check_laser_point(f, 0, -124_941).unwrap_err().limit,
            -124_940
        );
        // Laser 3 (back right) reaches there.
        let f3 = laser_field_quanta(&m, 3, 1000, 120).unwrap();
        assert_eq!(check_laser_point(f3, 24_941, 24_941), Ok(()));
        assert_eq!(laser_field_quanta(&m, 4, 1000, 120), None);
        // Quanta of 3 µm round inwards at both edges.
        let q = laser_field_quanta(&m, 0, 3000, 120).unwrap();
        assert_eq!(q, [-41_646, -41_646, 8_313, 8_313]);
    }

    #[test]
    fn power_limits_are_inclusive_at_both_ends() {
        let m = MachineConfig::default();
        let mut p = ParamSet {
            id: 1,
            power_mw: m.min_power_mw,
            mark_speed_mm_s: 1000,
            spot_um: 80,
            hatch_distance_um: 100,
            skywriting: false,
        };
        assert_eq!(check_param_set(&m, &p), Ok(()));
        p.power_mw -= 1;
        assert_eq!(
            check_param_set(&m, &p).unwrap_err().rule,
            Rule::PowerOutOfRange
        );
        p.power_mw = m.max_power_mw + 1;
        assert_eq!(check_param_set(&m, &p).unwrap_err().limit, 400_000);
    }

    #[test]
    fn energy_outside_the_window_follows_the_machine_policy() {
        let mut m = MachineConfig::default();
        let p = ParamSet {
            id: 1,
            power_mw: 280_000,
            mark_speed_mm_s: 1200,
            spot_um: 80,
            hatch_distance_um: 50_000, // a 50 mm hatch: 0.16 J/mm³
            skywriting: false,
        };
        assert!(matches!(
            check_energy(&m, &p, 30_000),
            EnergyVerdict::Refuse(v) if v.rule == Rule::EnergyDensityOutsideWindow
        ));
        m.energy_policy = EnergyPolicy::Warn;
        assert!(matches!(
            check_energy(&m, &p, 30_000),
            EnergyVerdict::Warn(_)
        ));
    }
}
