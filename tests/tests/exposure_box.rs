//! Exposure maps mean what they say: a box sliced with the default profile is covered and
//! does not spill; a layer whose hatches are shifted or missing shows it; supports are
//! measured apart from the part.

use meltline_core::mesh::Mesh;
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::sim::report::SimReport;
use meltline_firmware::sim::{SimOptions, Simulator};
use meltline_host::mlj::{MljOptions, encode_mlj};
use meltline_slicer::job::{BuildJob, Geometry, Slicer, SlicerOptions, VectorKind};
use meltline_slicer::profile::ProcessProfile;

/// An 8 × 6 mm box, 10 layers of 30 µm, default Ti-6Al-4V profile (3 skin layers).
fn box_job(options: SlicerOptions) -> BuildJob {
    let part = Mesh::axis_aligned_box([-4.0, -3.0, 0.0], [4.0, 3.0, 0.3]);
    Slicer::new(&part, ProcessProfile::ti6al4v(), options)
        .unwrap()
        .build_job()
        .unwrap()
}

fn simulate(job: &BuildJob) -> SimReport {
    let machine = MachineConfig::default();
    let opts = MljOptions {
        machine: Some(machine.machine.to_string()),
        ..MljOptions::default()
    };
    let (bytes, _) = encode_mlj(job, &opts).unwrap();
    let mut sim = Simulator::new(SimOptions {
        machine,
        auto_start: true,
        exposure: true,
        pixel_um: 10.0,
        ..SimOptions::default()
    });
    sim.feed(&bytes, &mut ());
    let r = sim.report(true);
    assert!(r.complete, "{:?}", r.faults);
    r
}

fn hatches_of_layer(
    job: &mut BuildJob,
    layer: usize,
) -> impl Iterator<Item = &mut Vec<[[i32; 2]; 2]>> {
    job.layers[layer]
        .blocks
        .iter_mut()
        .filter(|b| b.kind == VectorKind::Hatch)
        .filter_map(|b| match &mut b.geometry {
            Geometry::Vectors(v) => Some(v),
            Geometry::Polyline(_) => None,
        })
}

#[test]
fn a_sliced_box_is_covered_without_spill_on_every_layer() {
    let r = simulate(&box_job(SlicerOptions::default()));
    assert_eq!(r.layers.len(), 10);
    for l in &r.layers {
        let (cov, spill) = (l.coverage_pct.unwrap(), l.spill_pct.unwrap());
        assert!(cov >= 98.0, "layer {}: coverage {cov:.2} %", l.layer);
        assert!(spill <= 2.0, "layer {}: spill {spill:.2} %", l.layer);
        assert_eq!(l.support_mm2, None);
    }
}

#[test]
fn shifted_hatches_show_as_lost_coverage_and_spill_on_their_layer_only() {
    let mut job = box_job(SlicerOptions::default());
    // 1 mm in x: a hatch region misplaced by a faulty transform; a 1 mm strip of the 8 mm
    // box loses its hatches (less the contour band) and as much lands outside.
    for v in hatches_of_layer(&mut job, 5) {
        for s in v.iter_mut() {
            s[0][0] += 1000;
            s[1][0] += 1000;
        }
    }
    let r = simulate(&job);
    let l5 = &r.layers[5];
    assert!(
        l5.coverage_pct.unwrap() < 92.0,
        "coverage {:?}",
        l5.coverage_pct
    );
    assert!(l5.spill_pct.unwrap() > 8.0, "spill {:?}", l5.spill_pct);
    let l4 = &r.layers[4];
    assert!(l4.coverage_pct.unwrap() >= 98.0 && l4.spill_pct.unwrap() <= 2.0);
}

#[test]
fn a_missing_hatch_region_shows_as_lost_coverage() {
    let mut job = box_job(SlicerOptions::default());
    // Drop the hatches of the half with y > 0.
    for v in hatches_of_layer(&mut job, 6) {
        v.retain(|s| s[0][1] + s[1][1] < 0);
    }
    let r = simulate(&job);
    let cov = r.layers[6].coverage_pct.unwrap();
    assert!(cov < 70.0 && cov > 40.0, "coverage {cov}");
    assert!(r.layers[6].spill_pct.unwrap() <= 2.0);
}

#[test]
fn support_exposure_is_reported_apart_and_does_not_count_as_spill() {
    let job = box_job(SlicerOptions {
        supports: true,
        lift_mm: 0.3,
        ..SlicerOptions::default()
    });
    let r = simulate(&job);
    // 10 support layers under the part, then the part's 10 layers.
    let supported: Vec<_> = r
        .layers
        .iter()
        .filter(|l| l.support_mm2.is_some())
        .collect();
    assert!(
        supported.len() >= 10,
        "{} layers with supports",
        supported.len()
    );
    for l in &r.layers {
        if let (Some(cov), Some(spill)) = (l.coverage_pct, l.spill_pct) {
            assert!(cov >= 98.0, "layer {}: coverage {cov:.2} %", l.layer);
            assert!(spill <= 2.0, "layer {}: spill {spill:.2} %", l.layer);
        } else {
            assert!(l.support_mm2.unwrap() > 1.0, "layer {}", l.layer);
        }
    }
}
