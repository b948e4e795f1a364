//! Jobs naming their lasers on the controller: each vector kept to its laser's field, the
//! block form rule, a block naming no laser kept to the first laser's field on a machine of
//! several, and the lasers working at once (a layer takes its slowest laser plus recoating).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::controller::{Controller, Event, EventSink, ReplySink};
use crate::job::{BlockSpec, Geometry, JobSpec, JobWriter};
use crate::lasers::builtin_machine;
use crate::machine::{LayerTiming, MachineConfig, ScanHead, recoat_ticks};
use crate::wire::{ControllerState, Fault, Frame, Msg, ParamSet, Region, Report, Rule, VectorKind};

#[derive(Default)]
struct Rec {
    reports: Vec<Report>,
    faults: Vec<Fault>,
    marks_by_laser: [u64; 4],
    layers: Vec<(LayerTiming, [u64; 8])>,
}

impl ReplySink for Rec {
    fn reply(&mut self, f: &Frame<'_>) {
        if let Msg::Report(r) = f.msg {
            self.reports.push(r);
        }
    }
}

impl EventSink for Rec {
    fn event(&mut self, e: &Event<'_>) {
        match e {
            Event::Mark { laser, .. } => self.marks_by_laser[usize::from(*laser)] += 1,
            Event::Fault(f) => self.faults.push(*f),
            Event::LayerDone {
                timing,
                laser_ticks,
                ..
            } => self.layers.push((*timing, *laser_ticks)),
            _ => {}
        }
    }
}

fn machine() -> MachineConfig {
    builtin_machine("meltline-sim-250-4x").unwrap()
}

fn param() -> ParamSet {
    ParamSet {
        id: 1,
        power_mw: 200_000,
        mark_speed_mm_s: 1000,
        spot_um: 80,
        hatch_distance_um: 100,
        skywriting: false,
    }
}

fn spec(layers: u32) -> JobSpec {
    JobSpec {
        machine: "meltline-sim-250-4x".into(),
        material: "Ti-6Al-4V".into(),
        quantum_nm: 1000,
        layer_thickness_nm: 30_000,
        layer_count: layers,
        param_sets: vec![param()],
    }
}

/// `lines` hatch lines from x0 to x1 (µm), 100 µm apart from y0.
fn hatch(x0: i64, x1: i64, y0: i64, lines: i64) -> BlockSpec {
    BlockSpec {
        param_set: 1,
        kind: VectorKind::Hatch,
        region: Region::Core,
        geometry: Geometry::Hatches(
            (0..lines)
                .map(|i| [x0, y0 + i * 100, x1, y0 + i * 100])
                .collect(),
        ),
    }
}

/// A job of `layers` equal layers of `blocks`, each naming its laser, written without the
/// writer's laser checks (as a faulty build processor might).
fn laser_job(layers: u32, blocks: &[(u8, BlockSpec)]) -> Vec<u8> {
    let mut w = JobWriter::new(Vec::new(), &spec(layers)).unwrap();
    let layer: Vec<(u8, Option<u16>, BlockSpec)> =
        blocks.iter().map(|(l, b)| (*l, None, b.clone())).collect();
    for _ in 0..layers {
        w.write_laser_layer(&layer).unwrap();
    }
    w.finish().unwrap().0
}

fn run(bytes: &[u8], config: MachineConfig) -> (Controller, Rec) {
    let mut ctl: Controller = Controller::new(config);
    ctl.set_auto_start(true);
    let mut replies = Rec::default();
    let mut events = Rec::default();
    ctl.receive(bytes, &mut replies, &mut events);
    events.reports = replies.reports;
    (ctl, events)
}

/// Laser 0 (front left) reaches x, y ≤ 25 mm; laser 1 (front right) x ≥ −25 mm, y ≤ 25 mm.
fn two_lasers_at_work() -> [(u8, BlockSpec); 2] {
    [
        (0, hatch(-60_000, -40_000, -50_000, 30)),
        (1, hatch(40_000, 80_000, -50_000, 20)),
    ]
}

#[test]
fn a_job_naming_its_lasers_runs_each_block_on_its_laser_at_once() {
    let (ctl, rec) = run(&laser_job(2, &two_lasers_at_work()), machine());
    assert_eq!(ctl.state(), ControllerState::Done, "{:?}", rec.faults);
    assert_eq!(rec.marks_by_laser, [60, 40, 0, 0]);
    // Each laser timed alone on its own head over the job's decoded blocks; the layer waits
    // for the slowest.
    let job = laser_job(2, &two_lasers_at_work());
    let mut heads = [0, 1].map(|_| ScanHead::new(machine().galvo, 1000));
    let mut expected = Vec::new();
    let mut scratch = Vec::new();
    for raw in crate::job::FrameReader::new(&job[..]) {
        let wire = raw.unwrap().wire;
        match crate::job::decode_wire(&wire, &mut scratch).unwrap().msg {
            Msg::LaserBlock(l) => {
                for s in l.block.segments() {
                    heads[usize::from(l.laser)].mark(&s.unwrap(), &param());
                }
            }
            Msg::LayerEnd(_) => {
                expected.push(heads.each_mut().map(|h| h.finish_layer().exposure_ticks()));
            }
            _ => {}
        }
    }
    let mut total = 0;
    for ((timing, per_laser), [t0, t1]) in rec.layers.iter().zip(&expected) {
        assert!(t0 != t1 && *t0 > 0 && *t1 > 0);
        assert_eq!(per_laser[..4], [*t0, *t1, 0, 0]);
        assert_eq!(timing.exposure_ticks(), *t0.max(t1));
        assert_eq!(timing.recoat_ticks, recoat_ticks(&machine()));
        assert_eq!(timing.marks, 50);
        total += t0.max(t1) + recoat_ticks(&machine());
    }
    assert_eq!(rec.layers.len(), 2);
    let r = rec.reports[0];
    assert_eq!(r.vectors, 100);
    assert_eq!(r.ticks, total);
}

#[test]
fn a_vector_outside_its_lasers_field_is_refused_where_the_other_laser_would_reach_it() {
    // x = 30 mm is beyond laser 0 (x ≤ 25 mm) but inside laser 1's field.
    let blocks = [(0, hatch(-60_000, 30_000, -50_000, 5))];
    let (ctl, rec) = run(&laser_job(1, &blocks), machine());
    assert_eq!(ctl.state(), ControllerState::Faulted);
    let f = rec.faults[0];
    assert_eq!(
        (f.rule, f.layer, f.block, f.vector),
        (Rule::OutsideLaserField, 0, 0, 0)
    );
    // The melt track's edge: 25 mm less half the 80 µm spot.
    assert_eq!((f.value, f.limit), (30_000, 24_960));
    assert_eq!(rec.marks_by_laser, [0; 4]);
    let ok = [(1, hatch(-20_000, 30_000, -50_000, 5))];
    let (ctl, rec) = run(&laser_job(1, &ok), machine());
    assert_eq!(ctl.state(), ControllerState::Done, "{:?}", rec.faults);
}

#[test]
fn a_block_naming_a_laser_the_machine_lacks_is_refused() {
    let (ctl, rec) = run(&laser_job(1, &[(4, hatch(0, 1000, 0, 2))]), machine());
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(
        (rec.faults[0].rule, rec.faults[0].value, rec.faults[0].limit),
        (Rule::LaserForm, 4, 4)
    );
    // On a one-laser machine only laser 0 exists.
    let one = MachineConfig {
        machine: {
            let mut s = heapless::String::new();
            s.push_str("meltline-sim-250-4x").unwrap();
            s
        },
        ..MachineConfig::default()
    };
    let (ctl, rec) = run(&laser_job(1, &[(1, hatch(0, 1000, 0, 2))]), one.clone());
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(rec.faults[0].rule, Rule::LaserForm);
    let (ctl, _) = run(&laser_job(1, &[(0, hatch(0, 1000, 0, 2))]), one);
    assert_eq!(ctl.state(), ControllerState::Done);
}

#[test]
fn a_job_mixing_blocks_with_and_without_a_laser_is_refused_at_the_first_of_the_other_form() {
    // The writer refuses to write it.
    let mut w = JobWriter::new(Vec::new(), &spec(2)).unwrap();
    w.write_laser_layer(&[(0, None, hatch(0, 1000, 0, 2))])
        .unwrap();
    let e = w.write_layer(&[hatch(0, 1000, 0, 2)]).unwrap_err();
    assert!(
        matches!(
            e,
            crate::job::JobError::LaserForm {
                layer: 1,
                block: 0,
                laser: -1,
                ..
            }
        ),
        "{e}"
    );
    // The controller refuses it as the second block comes: a VectorBlock, then a LaserBlock.
    let coded = crate::job::encode_job(&spec(1), &[vec![hatch(0, 1000, 0, 2)]])
        .unwrap()
        .0;
    let frames: Vec<Vec<u8>> = crate::job::FrameReader::new(&coded[..])
        .map(|f| f.unwrap().wire)
        .collect();
    let mut scratch = Vec::new();
    let block = crate::job::decode_wire(&frames[3], &mut scratch).unwrap();
    let Msg::VectorBlock(vb) = block.msg else {
        panic!("frame 3 is the layer's block")
    };
    let mut out = [0u8; crate::wire::MAX_FRAME];
    let mut bytes = Vec::new();
    let mut push = |seq: u32, msg: &Msg<'_>| {
        let n = crate::wire::encode_frame(seq, msg, &mut out).unwrap();
        bytes.extend_from_slice(&out[..n]);
    };
    let mut scratch0 = Vec::new();
    let Msg::JobHeader(header) = crate::job::decode_wire(&frames[0], &mut scratch0)
        .unwrap()
        .msg
    else {
        panic!("frame 0 is the header")
    };
    push(0, &Msg::JobHeader(header));
    push(1, &Msg::ParamSet(param()));
    push(
        2,
        &Msg::LayerStart(crate::wire::LayerStart {
            layer: 0,
            blocks: 2,
            payload_bytes: 2 * vb.data.len() as u32,
        }),
    );
    push(3, &Msg::VectorBlock(vb));
    push(
        4,
        &Msg::LaserBlock(crate::wire::LaserBlock {
            laser: 0,
            part: None,
            block: vb,
        }),
    );
    let (ctl, rec) = run(&bytes, machine());
    assert_eq!(ctl.state(), ControllerState::Faulted);
    let f = rec.faults[0];
    assert_eq!(
        (f.rule, f.layer, f.block, f.value),
        (Rule::LaserForm, 0, 1, 0)
    );
}

#[test]
fn a_block_naming_no_laser_on_a_machine_of_several_keeps_to_the_first_lasers_field() {
    let plain = |x1: i64| {
        let mut w = JobWriter::new(Vec::new(), &spec(1)).unwrap();
        w.write_layer(&[hatch(-60_000, x1, -50_000, 3)]).unwrap();
        w.finish().unwrap().0
    };
    let (ctl, rec) = run(&plain(20_000), machine());
    assert_eq!(ctl.state(), ControllerState::Done, "{:?}", rec.faults);
    assert_eq!(rec.marks_by_laser, [3, 0, 0, 0]);
    let (ctl, rec) = run(&plain(30_000), machine());
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(rec.faults[0].rule, Rule::OutsideLaserField);
    // The one-laser machine reaches the whole plate.
    let one = MachineConfig {
        machine: machine().machine,
        ..MachineConfig::default()
    };
    let (ctl, _) = run(&plain(30_000), one);
    assert_eq!(ctl.state(), ControllerState::Done);
}

#[test]
fn the_writer_held_to_the_lasers_refuses_exactly_the_vector_the_controller_refuses() {
    for (laser, x1, refused) in [(0u8, 24_960, false), (0, 24_961, true), (1, 24_961, false)] {
        let mut w = JobWriter::new(Vec::new(), &spec(1)).unwrap();
        w.limit_lasers(&machine());
        let written = w.write_laser_layer(&[(laser, None, hatch(-20_000, x1, 0, 2))]);
        assert_eq!(
            written.is_err(),
            refused,
            "laser {laser} to {x1}: {written:?}"
        );
        if let Err(e) = written {
            assert!(
                matches!(
                    e,
                    crate::job::JobError::OutsideLaserField {
                        layer: 0,
                        block: 0,
                        laser: 0,
                        value: 24_961,
                        limit: 24_960
                    }
                ),
                "{e}"
            );
        }
        let (ctl, _) = run(
            &laser_job(1, &[(laser, hatch(-20_000, x1, 0, 2))]),
            machine(),
        );
        assert_eq!(ctl.state() == ControllerState::Faulted, refused);
    }
    let mut w = JobWriter::new(Vec::new(), &spec(1)).unwrap();
    w.limit_lasers(&machine());
    let e = w
        .write_laser_layer(&[(7, None, hatch(0, 1000, 0, 2))])
        .unwrap_err();
    assert!(
        matches!(
            e,
            crate::job::JobError::LaserForm {
                laser: 7,
                lasers: 4,
                ..
            }
        ),
        "{e}"
    );
}
