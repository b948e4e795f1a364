//! One machine model: for every limit of the machine description, a job at the limit, just
//! inside it and just outside it is admitted by the slicer exactly when the controller
//! accepts it.
//!
//! The slicer's verdict is `Slicer::new` against the strict machine. The controller's verdict
//! comes from the same job sliced against a permissive machine (so it can be made at all),
//! encoded and fed to the simulated controller configured with the strict machine.

use meltline_core::mesh::Mesh;
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::sim::{SimOptions, Simulator};
use meltline_firmware::wire::Rule;
use meltline_host::mlj::{MljOptions, encode_mlj};
use meltline_slicer::job::{JobError, Slicer, SlicerOptions};
use meltline_slicer::profile::ProcessProfile;

/// A 4 × 3 mm box `height` mm tall standing at `x` mm from the plate centre.
fn part(x: f64, height: f64) -> Mesh {
    Mesh::axis_aligned_box([x - 2.0, -1.5, 0.0], [x + 2.0, 1.5, height])
}

fn permissive() -> MachineConfig {
    MachineConfig {
        field_half_um: 1_000_000,
        build_height_um: u32::MAX,
        min_layer_nm: 1,
        max_layer_nm: u32::MAX,
        min_power_mw: 0,
        max_power_mw: u32::MAX,
        min_speed_mm_s: 0,
        max_speed_mm_s: u32::MAX,
        min_energy_mj_mm3: 0,
        max_energy_mj_mm3: u32::MAX,
        ..MachineConfig::default()
    }
}

/// The slicer's verdict (the rule it names when it refuses).
fn slicer_verdict(mesh: &Mesh, profile: &ProcessProfile, m: &MachineConfig) -> Option<String> {
    let options = SlicerOptions {
        machine: m.clone(),
        ..SlicerOptions::default()
    };
    match Slicer::new(mesh, profile.clone(), options) {
        Ok(_) => None,
        Err(JobError::Refused(r)) => Some(format!("{:?}", r.rule)),
        Err(e) => panic!("unexpected slicer error: {e}"),
    }
}

/// The controller's verdict on the same job (the rule of its first fault).
fn controller_verdict(mesh: &Mesh, profile: &ProcessProfile, m: &MachineConfig) -> Option<String> {
    let options = SlicerOptions {
        machine: permissive(),
        ..SlicerOptions::default()
    };
    let job = Slicer::new(mesh, profile.clone(), options)
        .and_then(|s| s.build_job())
        .expect("the permissive machine admits the job");
    let (bytes, _) = encode_mlj(&job, &MljOptions::default()).expect("encodes");
    let mut sim = Simulator::new(SimOptions {
        machine: m.clone(),
        auto_start: true,
        ..SimOptions::default()
    });
    sim.feed(&bytes, &mut ());
    let r = sim.report(false);
    match r.faults.first() {
        Some(f) => Some(f.rule.clone()),
        None => {
            assert!(r.complete, "neither complete nor faulted");
            None
        }
    }
}

fn agree(case: &str, mesh: &Mesh, profile: &ProcessProfile, m: &MachineConfig) -> Option<String> {
    let s = slicer_verdict(mesh, profile, m);
    let c = controller_verdict(mesh, profile, m);
    assert_eq!(s, c, "{case}: slicer {s:?}, controller {c:?}");
    s
}

/// Walks one limit: the value at the boundary and one step inside are admitted by both, one
/// step outside is refused by both with `rule`.
fn walk(
    name: &str,
    rule: Rule,
    at: f64,
    step: f64,
    outside_is_above: bool,
    apply: impl Fn(f64) -> (Mesh, ProcessProfile),
    m: &MachineConfig,
) {
    let dir = if outside_is_above { 1.0 } else { -1.0 };
    for (case, v, expect) in [
        ("at", at, None),
        ("just inside", at - dir * step, None),
        ("just outside", at + dir * step, Some(format!("{rule:?}"))),
    ] {
        let (mesh, profile) = apply(v);
        let got = agree(&format!("{name} {case} ({v})"), &mesh, &profile, m);
        assert_eq!(got, expect, "{name} {case} ({v})");
    }
}

fn box_with(f: impl Fn(&mut ProcessProfile)) -> (Mesh, ProcessProfile) {
    let mut p = ProcessProfile::ti6al4v();
    f(&mut p);
    (part(0.0, 0.3), p)
}

#[test]
fn slicer_and_controller_agree_at_and_around_the_laser_power_limits() {
    let m = MachineConfig::default();
    let lo = f64::from(m.min_power_mw) / 1000.0;
    let hi = f64::from(m.max_power_mw) / 1000.0;
    let power = |v: f64| box_with(|p| p.contour.power_w = v);
    walk(
        "minimum power",
        Rule::PowerOutOfRange,
        lo,
        0.001,
        false,
        power,
        &m,
    );
    walk(
        "maximum power",
        Rule::PowerOutOfRange,
        hi,
        0.001,
        true,
        power,
        &m,
    );
}

#[test]
fn slicer_and_controller_agree_at_and_around_the_scan_speed_limits() {
    let m = MachineConfig::default();
    let speed = |v: f64| {
        box_with(|p| {
            p.contour.speed_mm_s = v;
        })
    };
    let lo = f64::from(m.min_speed_mm_s);
    let hi = f64::from(m.max_speed_mm_s);
    walk(
        "minimum speed",
        Rule::SpeedOutOfRange,
        lo,
        1.0,
        false,
        speed,
        &m,
    );
    walk(
        "maximum speed",
        Rule::SpeedOutOfRange,
        hi,
        1.0,
        true,
        speed,
        &m,
    );
}

#[test]
fn slicer_and_controller_agree_at_and_around_the_layer_thickness_limits() {
    let m = MachineConfig::default();
    let layer = |v: f64| {
        let (_, mut p) = box_with(|_| {});
        p.layer_thickness_mm = v;
        // Keep the core's energy density inside the window whatever the thickness.
        p.core.power_w = 280.0 * v / 0.03;
        p.upskin.power_w = 210.0 * v / 0.03;
        p.downskin.power_w = 200.0 * v / 0.03;
        (part(0.0, 0.36), p)
    };
    let lo = f64::from(m.min_layer_nm) / 1e6;
    let hi = f64::from(m.max_layer_nm) / 1e6;
    let m_wide = MachineConfig {
        max_power_mw: 1_000_000,
        ..m.clone()
    };
    walk(
        "thinnest layer",
        Rule::LayerThicknessOutOfRange,
        lo,
        1e-6,
        false,
        layer,
        &m_wide,
    );
    walk(
        "thickest layer",
        Rule::LayerThicknessOutOfRange,
        hi,
        1e-6,
        true,
        layer,
        &m_wide,
    );
}

#[test]
fn slicer_and_controller_agree_at_and_around_the_energy_window() {
    let m = MachineConfig::default();
    // Core: 280 W, 1200 mm/s, 30 µm; the hatch sets the density E = P/(v·h·t).
    // h (µm) = P / (v·t·E) with P in W, v in mm/s, t in mm, E in J/mm³.
    let hatch_for = |e_mj_mm3: u32| 280.0 / (1200.0 * 0.03 * f64::from(e_mj_mm3) / 1000.0) * 1000.0;
    let energy = |h_um: f64| box_with(|p| p.core.hatch_mm = h_um / 1000.0);
    // The window's ends in whole µm of hatch: the widest hatch still dense enough, the
    // narrowest one still below the maximum.
    let widest = hatch_for(m.min_energy_mj_mm3).floor();
    let narrowest = hatch_for(m.max_energy_mj_mm3).ceil();
    walk(
        "least energy",
        Rule::EnergyDensityOutsideWindow,
        widest,
        1.0,
        true,
        energy,
        &m,
    );
    walk(
        "most energy",
        Rule::EnergyDensityOutsideWindow,
        narrowest,
        1.0,
        false,
        energy,
        &m,
    );
}

#[test]
fn slicer_and_controller_agree_at_and_around_the_build_height() {
    // A machine with 1.5 mm of Z travel: 50 layers of 30 µm fit, 51 do not.
    let m = MachineConfig {
        build_height_um: 1500,
        ..MachineConfig::default()
    };
    let tall = |layers: f64| (part(0.0, layers * 0.03), ProcessProfile::ti6al4v());
    walk(
        "build height",
        Rule::BuildHeightExceeded,
        50.0,
        1.0,
        true,
        tall,
        &m,
    );
}

#[test]
fn slicer_and_controller_agree_at_and_around_the_scan_field_edge() {
    // A 20 mm field: a 4 mm wide box centred at x = 8 mm reaches exactly x = 10 mm.
    let m = MachineConfig {
        field_half_um: 10_000,
        ..MachineConfig::default()
    };
    let placed = |x: f64| (part(x, 0.09), ProcessProfile::ti6al4v());
    // The slicer centres nothing by default (`center_xy` is off), so x stays as placed.
    walk(
        "scan field",
        Rule::OutsideField,
        8.0,
        0.001,
        true,
        placed,
        &m,
    );
}

#[test]
fn the_controller_refuses_a_job_taller_than_the_machine_before_any_layer() {
    let m = MachineConfig {
        build_height_um: 1500,
        ..MachineConfig::default()
    };
    let options = SlicerOptions {
        machine: permissive(),
        ..SlicerOptions::default()
    };
    let job = Slicer::new(&part(0.0, 3.0), ProcessProfile::ti6al4v(), options)
        .and_then(|s| s.build_job())
        .unwrap();
    let (bytes, _) = encode_mlj(&job, &MljOptions::default()).unwrap();
    let mut sim = Simulator::new(SimOptions {
        machine: m,
        auto_start: true,
        ..SimOptions::default()
    });
    sim.feed(&bytes, &mut ());
    let r = sim.report(false);
    assert_eq!(r.faults[0].rule, "BuildHeightExceeded");
    assert_eq!(r.faults[0].layer, None, "a job-level fault, before layer 0");
    assert_eq!(r.faults[0].value, 3000);
    assert_eq!(r.layers.len(), 0, "no layer executed");
}
