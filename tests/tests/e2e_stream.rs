//! End-to-end: slice → `.mlj` → stream over loopback TCP through a faulty link to the
//! simulated controller → the executed hash equals the job hash; corrupted and out-of-field
//! jobs are refused; an interrupted build resumes with no layer exposed twice.

use std::time::Duration;

use meltline_core::mesh::Mesh;
use meltline_firmware::job::{BlockSpec, Geometry, JobSpec, encode_job};
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::sim::{SimOptions, Simulator};
use meltline_firmware::wire::{ParamSet, Region, Rule, VectorKind};
use meltline_host::faults::FaultSpec;
use meltline_host::jobfile::JobFile;
use meltline_host::link::{StreamOptions, Tcp, stream_job};
use meltline_host::loopback::LoopbackController;
use meltline_host::mlj::{MljOptions, write_mlj_layers};
use meltline_slicer::job::{Slicer, SlicerOptions};
use meltline_slicer::profile::ProcessProfile;

fn machine() -> MachineConfig {
    MachineConfig::default()
}

/// A small box sliced with the Ti-6Al-4V profile and written as a job file.
fn sliced_box(dir: &std::path::Path) -> JobFile {
    let part = Mesh::axis_aligned_box([-5.0, -4.0, 0.0], [5.0, 4.0, 0.45]);
    let slicer = Slicer::new(&part, ProcessProfile::ti6al4v(), SlicerOptions::default()).unwrap();
    let path = dir.join("box.mlj");
    let opts = MljOptions {
        machine: Some(machine().machine.to_string()),
        ..MljOptions::default()
    };
    let header = slicer.header().clone();
    write_mlj_layers(
        &header,
        slicer.layers().map(std::borrow::Cow::Owned),
        &path,
        &opts,
    )
    .unwrap();
    JobFile::read(&path).unwrap()
}

fn controller() -> LoopbackController {
    LoopbackController::start(Simulator::new(SimOptions {
        machine: machine(),
        exposure: false,
        ..SimOptions::default()
    }))
    .unwrap()
}

fn tcp(ctl: &LoopbackController) -> Tcp {
    let mut t = Tcp::new(&ctl.addr().to_string()).unwrap();
    t.connect_for = Duration::from_millis(500);
    t
}

#[test]
fn sliced_job_streams_over_tcp_through_faults_with_equal_hashes_and_vector_counts() {
    let dir = tempfile::tempdir().unwrap();
    let job = sliced_box(dir.path());
    let ctl = controller();
    let opts = StreamOptions {
        faults: Some(
            "drop=0.02,corrupt=0.02,dup=0.01,disconnect-every=70,seed=3"
                .parse::<FaultSpec>()
                .unwrap(),
        ),
        ..StreamOptions::default()
    };
    let out = stream_job(&job, &mut tcp(&ctl), &opts, &mut |_| {}).unwrap();
    let sim = ctl.stop();
    let report = sim.report(true);
    assert!(out.verified(), "{out:#?}");
    assert_eq!(
        out.executed_sha256.as_deref(),
        Some(out.job_sha256.as_str())
    );
    assert_eq!(out.report.unwrap().vectors, job.vectors(), "vector counts");
    assert!(
        out.link_faults.dropped + out.link_faults.corrupted > 0,
        "faults were injected"
    );
    assert!(out.link_faults.disconnects > 0 && out.reconnects > 0);
    let layers: Vec<u32> = report.layers.iter().map(|l| l.layer).collect();
    assert_eq!(layers, (0..job.layer_count()).collect::<Vec<_>>());
}

#[test]
fn corrupted_job_file_is_refused_naming_the_frame() {
    let dir = tempfile::tempdir().unwrap();
    let job = sliced_box(dir.path());
    let path = dir.path().join("box.mlj");
    let mut bytes = std::fs::read(&path).unwrap();
    let victim = job.layers[1].first_frame as usize + 1;
    let offset: usize = job.frames[..victim].iter().map(Vec::len).sum();
    bytes[offset + 3] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    let err = JobFile::read(&path).unwrap_err().to_string();
    assert!(
        err.contains(&format!("frame {victim}")) && err.contains(&format!("byte offset {offset}")),
        "{err}"
    );
}

#[test]
fn out_of_field_job_is_refused_before_anything_is_exposed() {
    let m = machine();
    let spec = JobSpec {
        machine: m.machine.to_string(),
        material: m.material.to_string(),
        quantum_nm: 1000,
        layer_thickness_nm: 30_000,
        layer_count: 2,
        param_sets: vec![ParamSet {
            id: 1,
            power_mw: 200_000,
            mark_speed_mm_s: 1000,
            spot_um: 80,
            hatch_distance_um: 100,
            skywriting: false,
        }],
    };
    let inside: Vec<[i64; 4]> = (0..20).map(|i| [0, 100 * i, 5000, 100 * i]).collect();
    let mut outside = inside.clone();
    outside.push([0, 0, 200_000, 0]); // 200 mm: outside the ±125 mm field
    let layer = |h: Vec<[i64; 4]>| {
        vec![BlockSpec {
            param_set: 1,
            kind: VectorKind::Hatch,
            region: Region::Core,
            geometry: Geometry::Hatches(h),
        }]
    };
    let (bytes, _) = encode_job(&spec, &[layer(outside), layer(inside)]).unwrap();
    let job = JobFile::parse(&bytes, "outside.mlj", &m).unwrap();
    let ctl = controller();
    let out = stream_job(&job, &mut tcp(&ctl), &StreamOptions::default(), &mut |_| {}).unwrap();
    let report = ctl.stop().report(true);
    assert!(!out.verified());
    assert_eq!(out.faults.len(), 1, "{out:#?}");
    let f = out.faults[0];
    assert_eq!(
        (f.rule, f.layer, f.block, f.vector),
        (Rule::OutsideField, 0, 0, 20)
    );
    assert_eq!(report.layers_executed, 0);
    assert_eq!(report.total.marks, 0, "nothing exposed");
}

#[test]
fn controller_lost_mid_job_reports_where_it_stopped_and_resume_exposes_each_layer_once() {
    let dir = tempfile::tempdir().unwrap();
    let job = sliced_box(dir.path());
    let half = job.layer_count() / 2;
    let sim = Simulator::new(SimOptions {
        machine: machine(),
        ..SimOptions::default()
    });
    let ctl = LoopbackController::start_dying(sim, "127.0.0.1:0", Some(half)).unwrap();
    let addr = ctl.addr().to_string();
    let first = stream_job(&job, &mut tcp(&ctl), &StreamOptions::default(), &mut |_| {}).unwrap();
    let sim = ctl.stop();
    let why = first
        .interrupted
        .clone()
        .expect("the stream reports the interruption");
    assert!(why.contains("connection"), "{why}");
    // The host knows what was acknowledged before the link died (acks in flight may be lost
    // with it): never more than the controller executed.
    let stopped_at = first.progress.layers_committed;
    assert!(stopped_at <= half, "{first:#?}");
    assert_eq!(sim.report(false).layers_executed, half);

    // The controller comes back on the same port with its state; the host resumes.
    let ctl = LoopbackController::start_on(sim, &addr).unwrap();
    let opts = StreamOptions {
        resume: true,
        ..StreamOptions::default()
    };
    let second = stream_job(&job, &mut tcp(&ctl), &opts, &mut |_| {}).unwrap();
    let report = ctl.stop().report(true);
    assert!(second.verified(), "{second:#?}");
    let layers: Vec<u32> = report.layers.iter().map(|l| l.layer).collect();
    assert_eq!(
        layers,
        (0..job.layer_count()).collect::<Vec<_>>(),
        "every layer exactly once"
    );
    assert!(
        second.frames < job.frames.len() as u64,
        "the resumed run did not resend the whole job"
    );
}
