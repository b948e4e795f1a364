//! Controller behaviour, driven through the byte-stream interface with jobs from `JobWriter`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use super::*;
use crate::job::{BlockSpec, Geometry, JobError, JobSpec, JobSummary, JobWriter, encode_job};
use crate::machine::{EnergyPolicy, OxygenExcursion};
use crate::wire::{JobEnd, LayerEnd, LayerStart, Region, VectorKind};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Default)]
struct Rec {
    marks: BTreeMap<u32, usize>,
    faults: Vec<Fault>,
    warnings: Vec<Fault>,
    states: Vec<ControllerState>,
    naks: Vec<Nak>,
    reports: Vec<Report>,
    link_errors: Vec<(u64, NakReason)>,
    interlock_ticks: u64,
}

impl ReplySink for Rec {
    fn reply(&mut self, f: &Frame<'_>) {
        match f.msg {
            Msg::Nak(n) => self.naks.push(n),
            Msg::Report(r) => self.reports.push(r),
            _ => {}
        }
    }
}

impl EventSink for Rec {
    fn event(&mut self, e: &Event<'_>) {
        match e {
            Event::Mark { layer, .. } => *self.marks.entry(*layer).or_default() += 1,
            Event::Fault(f) => self.faults.push(*f),
            Event::Warning(f) => self.warnings.push(*f),
            Event::StateChanged { to, .. } => self.states.push(*to),
            Event::LinkError { frame, reason, .. } => self.link_errors.push((*frame, *reason)),
            Event::LayerDone { timing, .. } => self.interlock_ticks += timing.interlock_ticks,
            _ => {}
        }
    }
}

fn spec(layers: u32) -> JobSpec {
    JobSpec {
        machine: "meltline-sim-250".into(),
        material: "Ti-6Al-4V".into(),
        quantum_nm: 1000,
        layer_thickness_nm: 30_000,
        layer_count: layers,
        param_sets: vec![ParamSet {
            id: 1,
            power_mw: 200_000,
            mark_speed_mm_s: 1000,
            spot_um: 80,
            hatch_distance_um: 100,
            skywriting: true,
        }],
    }
}

fn square_layer(size: i64) -> Vec<BlockSpec> {
    let contour = vec![[0, 0], [size, 0], [size, size], [0, size]];
    let hatches = (1..size / 100)
        .map(|i| {
            if i % 2 == 0 {
                [50, i * 100, size - 50, i * 100]
            } else {
                [size - 50, i * 100, 50, i * 100]
            }
        })
        .collect();
    vec![
        BlockSpec {
            param_set: 1,
            kind: VectorKind::Contour,
            region: Region::Core,
            geometry: Geometry::Polylines {
                lines: vec![contour],
                closed: true,
            },
        },
        BlockSpec {
            param_set: 1,
            kind: VectorKind::Hatch,
            region: Region::Core,
            geometry: Geometry::Hatches(hatches),
        },
    ]
}

fn job(layers: &[Vec<BlockSpec>]) -> (Vec<u8>, JobSummary) {
    encode_job(&spec(layers.len() as u32), layers).unwrap()
}

fn run(bytes: &[u8], config: MachineConfig) -> (Controller, Rec) {
    let mut ctl: Controller = Controller::new(config);
    ctl.set_auto_start(true);
    let mut rec = Rec::default();
    let mut rec2 = Rec::default();
    ctl.receive(bytes, &mut rec, &mut rec2);
    // Merge the two recorders: replies went to the first, events to the second.
    rec2.naks = rec.naks;
    rec2.reports = rec.reports;
    (ctl, rec2)
}

fn frames(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|b| *b == 0)
        .map(<[u8]>::to_vec)
        .collect()
}

#[test]
fn controller_size_is_within_the_documented_bound() {
    let size = core::mem::size_of::<Controller>();
    println!("size_of::<Controller>() = {size} bytes (arena {DEFAULT_ARENA})");
    assert!(size <= SIZE_BOUND, "size_of::<Controller>() = {size}");
}

#[test]
fn valid_job_executes_every_layer_and_the_executed_hash_equals_the_file_hash() {
    let (bytes, summary) = job(&[square_layer(5000), square_layer(4000), square_layer(3000)]);
    let (ctl, rec) = run(&bytes, MachineConfig::default());
    assert_eq!(ctl.state(), ControllerState::Done, "{:?}", rec.faults);
    let r = ctl.report();
    assert_eq!(r.layers, 3);
    assert_eq!(r.vectors, summary.vectors);
    assert_eq!(r.executed_sha256, summary.job_sha256);
    assert_eq!(
        rec.reports.last().unwrap().executed_sha256,
        summary.job_sha256
    );
    assert!(rec.faults.is_empty() && rec.naks.is_empty());
}

#[test]
fn a_loaded_job_waits_for_start() {
    let (bytes, _) = job(&[square_layer(2000)]);
    let mut ctl: Controller = Controller::new(MachineConfig::default());
    let mut rec = Rec::default();
    ctl.receive(&bytes, &mut (), &mut rec);
    assert_eq!(ctl.state(), ControllerState::Loaded);
    assert!(rec.marks.is_empty());
    let mut start = [0u8; MAX_FRAME];
    let n =
        crate::wire::encode_frame(frames(&bytes).len() as u32, &Msg::Start, &mut start).unwrap();
    ctl.receive(&start[..n], &mut (), &mut rec);
    assert_eq!(ctl.state(), ControllerState::Done);
    assert!(rec.marks[&0] > 0);
}

fn stream_with_tampered_layer(tamper: impl FnOnce(&mut Vec<BlockSpec>)) -> Vec<u8> {
    let mut layers = vec![square_layer(3000), square_layer(3000)];
    tamper(&mut layers[1]);
    let mut w = JobWriter::new(Vec::new(), &spec(2)).unwrap();
    for l in &layers {
        w.write_layer(l).unwrap();
    }
    w.finish().unwrap().0
}

#[test]
fn vector_outside_the_field_faults_naming_layer_block_vector_and_exposes_nothing_of_the_layer() {
    let bytes = stream_with_tampered_layer(|l| {
        if let Geometry::Hatches(h) = &mut l[1].geometry {
            h[5] = [0, 0, 200_000, 0];
        }
    });
    let (ctl, rec) = run(&bytes, MachineConfig::default());
    assert_eq!(ctl.state(), ControllerState::Faulted);
    let f = rec.faults[0];
    assert_eq!(
        (f.layer, f.block, f.vector, f.rule),
        (1, 1, 5, Rule::OutsideField)
    );
    assert_eq!(f.value, 200_000);
    assert!(rec.marks.contains_key(&0));
    assert!(!rec.marks.contains_key(&1));
}

#[test]
fn layer_hash_mismatch_faults_before_any_vector_of_the_layer() {
    let bytes = job(&[square_layer(3000), square_layer(3000)]).0;
    let mut fr = frames(&bytes);
    // Frame order: header, param set, then per layer start, 2 blocks, end. Layer 1 ends at 9.
    let mut wire = fr[9][..fr[9].len() - 1].to_vec();
    let frame = crate::wire::decode_frame(&mut wire).unwrap();
    let Msg::LayerEnd(mut end) = frame.msg else {
        panic!("frame 9 is {frame:?}")
    };
    end.digest[0] ^= 1;
    let mut buf = [0u8; MAX_FRAME];
    let n = crate::wire::encode_frame(frame.seq, &Msg::LayerEnd(end), &mut buf).unwrap();
    fr[9] = buf[..n].to_vec();
    let (ctl, rec) = run(&fr.concat(), MachineConfig::default());
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(
        (rec.faults[0].layer, rec.faults[0].rule),
        (1, Rule::LayerHashMismatch)
    );
    assert!(!rec.marks.contains_key(&1));
}

#[test]
fn a_corrupted_byte_is_naked_and_its_layer_is_never_exposed() {
    let bytes = job(&[square_layer(3000), square_layer(3000)]).0;
    let fr = frames(&bytes);
    let at: usize = fr[..7].iter().map(Vec::len).sum::<usize>() + 5; // inside layer 1's first block
    let mut bad = bytes.clone();
    bad[at] ^= 0x10;
    let (ctl, rec) = run(&bad, MachineConfig::default());
    assert_ne!(ctl.state(), ControllerState::Done);
    assert_eq!(rec.link_errors[0].0, 7);
    assert_eq!(rec.naks[0].seq, 7);
    assert!(rec.marks.contains_key(&0) && !rec.marks.contains_key(&1));
}

#[test]
fn duplicated_frames_are_suppressed() {
    let (bytes, summary) = job(&[square_layer(3000), square_layer(2000)]);
    let doubled: Vec<u8> = frames(&bytes)
        .iter()
        .flat_map(|f| [f.clone(), f.clone()])
        .flatten()
        .collect();
    let (ctl, _) = run(&doubled, MachineConfig::default());
    assert_eq!(ctl.state(), ControllerState::Done);
    assert_eq!(ctl.report().vectors, summary.vectors);
    assert_eq!(ctl.report().executed_sha256, summary.job_sha256);
}

#[test]
fn a_lost_frame_makes_later_frames_out_of_order_until_resent() {
    let (bytes, summary) = job(&[square_layer(3000)]);
    let fr = frames(&bytes);
    let mut lossy = fr.clone();
    let lost = lossy.remove(3);
    let mut ctl: Controller = Controller::new(MachineConfig::default());
    ctl.set_auto_start(true);
    let mut rec = Rec::default();
    ctl.receive(&lossy.concat(), &mut rec, &mut ());
    assert!(
        rec.naks
            .iter()
            .all(|n| n.seq == 3 && n.reason == NakReason::OutOfOrder)
    );
    // Go-back-N: resend from the lost frame.
    let resend: Vec<u8> = std::iter::once(lost)
        .chain(fr[4..].iter().cloned())
        .flatten()
        .collect();
    ctl.receive(&resend, &mut rec, &mut ());
    assert_eq!(ctl.state(), ControllerState::Done);
    assert_eq!(ctl.report().executed_sha256, summary.job_sha256);
}

#[test]
fn energy_density_outside_the_window_is_refused_or_warned_by_policy() {
    let mut s = spec(1);
    s.param_sets[0].power_mw = 390_000;
    s.param_sets[0].mark_speed_mm_s = 300; // 433 J/mm³
    let bytes = encode_job(&s, &[square_layer(2000)]).unwrap().0;
    let (ctl, rec) = run(&bytes, MachineConfig::default());
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(rec.faults[0].rule, Rule::EnergyDensityOutsideWindow);
    assert_eq!(rec.faults[0].layer, 0);
    assert!(rec.marks.is_empty());
    let cfg = MachineConfig {
        energy_policy: EnergyPolicy::Warn,
        ..MachineConfig::default()
    };
    let (ctl, rec) = run(&bytes, cfg);
    assert_eq!(ctl.state(), ControllerState::Done);
    assert_eq!(rec.warnings.len(), 1);
}

#[test]
fn header_for_another_machine_or_material_is_refused() {
    let mut s = spec(1);
    s.material = "316L".into();
    let bytes = encode_job(&s, &[square_layer(2000)]).unwrap().0;
    let (ctl, rec) = run(&bytes, MachineConfig::default());
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(rec.faults[0].rule, Rule::MaterialMismatch);
    assert!(rec.marks.is_empty());
}

#[test]
fn power_above_the_machine_limit_is_refused() {
    let mut s = spec(1);
    s.param_sets[0].power_mw = 500_000;
    let bytes = encode_job(&s, &[square_layer(2000)]).unwrap().0;
    let (_, rec) = run(&bytes, MachineConfig::default());
    assert_eq!(
        (rec.faults[0].rule, rec.faults[0].value, rec.faults[0].limit),
        (Rule::PowerOutOfRange, 500_000, 400_000)
    );
}

#[test]
fn oxygen_excursion_pauses_the_build_until_it_recovers() {
    let bytes = job(&[square_layer(2000), square_layer(2000), square_layer(2000)]).0;
    let mut cfg = MachineConfig::default();
    cfg.oxygen_excursions
        .push(OxygenExcursion {
            layer: 1,
            peak_ppm: 2500,
            recovery_ms: 30_000,
        })
        .unwrap();
    let (ctl, rec) = run(&bytes, cfg);
    assert_eq!(ctl.state(), ControllerState::Done);
    let seq: Vec<_> = rec
        .states
        .iter()
        .copied()
        .filter(|s| matches!(s, ControllerState::Paused | ControllerState::Printing))
        .collect();
    assert_eq!(
        seq,
        vec![
            ControllerState::Printing,
            ControllerState::Paused,
            ControllerState::Printing
        ]
    );
    assert_eq!(rec.interlock_ticks, 3_000_000);
}

#[test]
fn live_oxygen_above_threshold_holds_layers_until_it_drops() {
    let bytes = job(&[square_layer(2000)]).0;
    let mut ctl: Controller = Controller::new(MachineConfig::default());
    ctl.set_auto_start(true);
    let mut rec = Rec::default();
    let fr = frames(&bytes);
    ctl.receive(&fr[..2].concat(), &mut (), &mut rec);
    ctl.set_oxygen_ppm(1800, &mut (), &mut rec);
    assert_eq!(ctl.state(), ControllerState::Paused);
    ctl.receive(&fr[2..].concat(), &mut (), &mut rec);
    assert!(rec.marks.is_empty());
    ctl.set_oxygen_ppm(400, &mut (), &mut rec);
    assert_eq!(ctl.state(), ControllerState::Done);
}

#[test]
fn recoater_collision_faults_the_layer_before_exposure() {
    let bytes = job(&[square_layer(2000), square_layer(2000)]).0;
    let cfg = MachineConfig {
        recoater_collision_layer: Some(1),
        ..MachineConfig::default()
    };
    let (ctl, rec) = run(&bytes, cfg);
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(
        (rec.faults[0].layer, rec.faults[0].rule),
        (1, Rule::RecoaterCollision)
    );
    assert!(!rec.marks.contains_key(&1));
}

#[test]
fn a_layer_larger_than_the_arena_is_refused_at_layer_start() {
    let bytes = job(&[square_layer(20_000)]).0;
    let mut ctl: Controller<[u8; 128], 4, 2> = Controller::new(MachineConfig::default());
    ctl.set_auto_start(true);
    let mut rec = Rec::default();
    ctl.receive(&bytes, &mut (), &mut rec);
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(rec.faults[0].rule, Rule::LayerTooLarge);
    assert!(rec.marks.is_empty());
}

#[test]
fn the_writer_limited_to_the_arena_refuses_the_layer_the_controller_would_and_no_other() {
    // What a 4 KiB controller refuses at LayerStart, a writer limited to 4 KiB refuses too,
    // naming the layer; the layer just below the limit is written and executes.
    const ARENA: usize = 4096;
    let write = |layers: &[Vec<BlockSpec>]| {
        let mut w = JobWriter::new(Vec::new(), &spec(layers.len() as u32)).unwrap();
        w.limit_layers(ARENA);
        for l in layers {
            w.write_layer(l)?;
        }
        w.finish().map(|(bytes, _)| bytes)
    };
    let sizes: Vec<i64> = (1..40).map(|k| k * 50).collect();
    let mut refused = None;
    for &size in &sizes {
        let (bytes, _) = job(&[incompressible_layer(size)]);
        let mut ctl: Controller<[u8; ARENA], 4, 2> = Controller::new(MachineConfig::default());
        ctl.set_auto_start(true);
        let mut rec = Rec::default();
        ctl.receive(&bytes, &mut (), &mut rec);
        let controller_refuses = rec.faults.first().map(|f| f.rule) == Some(Rule::LayerTooLarge);
        match write(&[incompressible_layer(size)]) {
            Ok(_) => assert!(
                !controller_refuses,
                "{size}: written, then refused by the controller"
            ),
            Err(JobError::LayerTooLarge { layer, need, limit }) => {
                assert!(
                    controller_refuses,
                    "{size}: refused, yet the controller takes it"
                );
                assert_eq!((layer, limit), (0, ARENA as u64));
                assert!(need > ARENA as u64);
                refused.get_or_insert(size);
            }
            Err(e) => panic!("{size}: {e}"),
        }
    }
    assert!(refused.is_some(), "no size reached the limit");
}

#[test]
fn window_shrinks_while_layers_wait_and_no_space_is_naked() {
    let bytes = job(&[square_layer(8000), square_layer(8000), square_layer(8000)]).0;
    let mut ctl: Controller<[u8; 512], 4, 4> = Controller::new(MachineConfig::default());
    let full = ctl.window();
    let mut rec = Rec::default();
    ctl.receive(&bytes, &mut rec, &mut ());
    assert!(ctl.window() < full);
    assert!(
        rec.naks.iter().any(|n| n.reason == NakReason::NoSpace),
        "{:?}",
        rec.naks
    );
}

#[test]
fn a_loaded_controller_with_every_ready_slot_taken_advertises_a_zero_window() {
    // Not started: verified layers wait; with two ready slots the third layer cannot start.
    let bytes = job(&[square_layer(2000), square_layer(2000), square_layer(2000)]).0;
    let mut ctl: Controller<[u8; 16 * 1024], 8, 2> = Controller::new(MachineConfig::default());
    let mut rec = Rec::default();
    ctl.receive(&bytes, &mut rec, &mut ());
    assert_eq!(ctl.state(), ControllerState::Loaded);
    assert_eq!(ctl.window(), 0, "two layers wait in two slots");
    assert!(rec.naks.iter().any(|n| n.reason == NakReason::NoSpace));
}

#[test]
fn abort_stops_the_job_and_reports() {
    let bytes = job(&[square_layer(2000), square_layer(2000)]).0;
    let fr = frames(&bytes);
    let mut ctl: Controller = Controller::new(MachineConfig::default());
    let mut rec = Rec::default();
    ctl.receive(&fr[..6].concat(), &mut rec, &mut ());
    let mut buf = [0u8; MAX_FRAME];
    let n = crate::wire::encode_frame(6, &Msg::Abort, &mut buf).unwrap();
    ctl.receive(&buf[..n], &mut rec, &mut ());
    assert_eq!(ctl.state(), ControllerState::Aborted);
    assert_eq!(rec.reports.last().unwrap().layers, 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Receiver fuzzing: random byte edits of a valid job never panic, and whatever completes
    /// executed exactly the intended content (the executed hash equals the job hash).
    #[test]
    fn mutated_job_streams_never_panic_and_never_execute_altered_content(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        chunk in 1usize..300,
    ) {
        let (bytes, summary) = job(&[square_layer(2000), square_layer(1500)]);
        let mut bad = bytes.clone();
        for (i, v) in &edits {
            let at = i.index(bad.len());
            bad[at] = *v;
        }
        let mut ctl: Controller = Controller::new(MachineConfig::default());
        ctl.set_auto_start(true);
        for c in bad.chunks(chunk) {
            ctl.receive(c, &mut (), &mut ());
        }
        if ctl.state() == ControllerState::Done {
            prop_assert_eq!(ctl.report().executed_sha256, summary.job_sha256);
        }
    }

    #[test]
    fn random_bytes_never_panic_the_controller(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut ctl: Controller<[u8; 4096], 4, 2> = Controller::new(MachineConfig::default());
        ctl.receive(&bytes, &mut (), &mut ());
    }
}

/// One layer of `n` hatches with pseudo-random lengths (about 5 coded bytes each), 10 µm apart.
fn incompressible_layer(n: i64) -> Vec<BlockSpec> {
    let mut x = 12_345u64;
    let hatches = (0..n)
        .map(|i| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let len = ((x >> 33) % 2000) as i64 + 100;
            [-50_000, -60_000 + i * 10, -50_000 + len, -60_000 + i * 10]
        })
        .collect();
    vec![BlockSpec {
        param_set: 1,
        kind: VectorKind::Hatch,
        region: Region::Core,
        geometry: Geometry::Hatches(hatches),
    }]
}

#[test]
fn a_layer_larger_than_the_former_48_kib_arena_executes_whole() {
    let layer = incompressible_layer(11_000);
    let (bytes, summary) = job(&[layer.clone(), square_layer(3000)]);
    let layer_bytes = summary.hatch_bytes - job(&[square_layer(3000)]).1.hatch_bytes;
    assert!(
        layer_bytes > 48 * 1024 && (layer_bytes as usize) < DEFAULT_ARENA - 4096,
        "the test layer codes to {layer_bytes} bytes"
    );
    let (ctl, rec) = run(&bytes, MachineConfig::default());
    assert_eq!(ctl.state(), ControllerState::Done, "{:?}", rec.faults);
    assert_eq!(rec.marks[&0], 11_000);
    // The former capacity refuses it at LayerStart, before any vector of it is exposed.
    let mut old: Box<Controller<[u8; 48 * 1024]>> =
        Box::new(Controller::new(MachineConfig::default()));
    old.set_auto_start(true);
    let mut rec = Rec::default();
    old.receive(&bytes, &mut (), &mut rec);
    assert_eq!(old.state(), ControllerState::Faulted);
    assert_eq!(rec.faults[0].rule, Rule::LayerTooLarge);
    assert!(rec.marks.is_empty());
}

#[test]
fn the_machines_layer_memory_bounds_the_arena_and_hello_says_so() {
    let layer = incompressible_layer(11_000);
    let (bytes, summary) = job(&[layer, square_layer(3000)]);
    // The same default storage, a machine that declares 32 KiB: refused at LayerStart.
    let small = MachineConfig {
        layer_memory_bytes: 32 * 1024,
        ..MachineConfig::default()
    };
    let (ctl, rec) = run(&bytes, small.clone());
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(rec.faults[0].rule, Rule::LayerTooLarge);
    assert_eq!(rec.faults[0].limit, 32 * 1024);
    assert!(rec.marks.is_empty());
    // Storage on the heap sized from a machine with 1 MiB takes the layer and advertises the
    // machine's figure.
    let big = MachineConfig {
        layer_memory_bytes: 1024 * 1024,
        ..MachineConfig::default()
    };
    let arena = vec![0u8; 1024 * 1024].into_boxed_slice();
    let mut ctl: Controller<Box<[u8]>> = Controller::with_arena(big, (), arena);
    ctl.set_auto_start(true);
    let mut replies = Rec::default();
    let mut rec = Rec::default();
    ctl.receive(&bytes, &mut replies, &mut rec);
    assert_eq!(ctl.state(), ControllerState::Done, "{:?}", rec.faults);
    assert_eq!(ctl.report().executed_sha256, summary.job_sha256);
    let mut hello = [0u8; MAX_FRAME];
    let msg = Msg::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        machine: "meltline-sim-250",
        max_frame: MAX_FRAME as u16,
        arena_bytes: 0,
        param_sets: 0,
        resume: None,
    });
    let n = crate::wire::encode_frame(0, &msg, &mut hello).unwrap();
    let mut answer = HelloProbe::default();
    ctl.receive(&hello[..n], &mut answer, &mut ());
    assert_eq!(answer.arena_bytes, Some(1024 * 1024));
    // A machine declaring more than its storage: the storage is the limit.
    let mut ctl: Controller<[u8; 4096], 4, 2> = Controller::new(MachineConfig::default());
    let mut answer = HelloProbe::default();
    ctl.receive(&hello[..n], &mut answer, &mut ());
    assert_eq!(answer.arena_bytes, Some(4096));
}

/// Keeps the arena size of the controller's `Hello`.
#[derive(Default)]
struct HelloProbe {
    arena_bytes: Option<u32>,
}

impl ReplySink for HelloProbe {
    fn reply(&mut self, frame: &Frame<'_>) {
        if let Msg::Hello(h) = frame.msg {
            self.arena_bytes = Some(h.arena_bytes);
        }
    }
}

#[test]
fn a_machine_with_layer_memory_out_of_range_is_refused_by_name() {
    use crate::machine::{MAX_LAYER_MEMORY, MIN_LAYER_MEMORY, MachineError};
    for bytes in [0, MIN_LAYER_MEMORY - 1, MAX_LAYER_MEMORY + 1] {
        let m = MachineConfig {
            layer_memory_bytes: bytes,
            ..MachineConfig::default()
        };
        assert_eq!(m.check(), Err(MachineError::LayerMemory(bytes)));
        assert!(
            m.check()
                .unwrap_err()
                .to_string()
                .contains("layer_memory_bytes")
        );
    }
    assert_eq!(MachineConfig::default().check(), Ok(()));
}

/// Frame `i` of `fr` replaced by `f` of its message (messages without borrowed data).
fn rewrite(fr: &mut [Vec<u8>], i: usize, f: impl FnOnce(Msg<'static>) -> Msg<'static>) {
    let mut wire = fr[i][..fr[i].len() - 1].to_vec();
    let frame = crate::wire::decode_frame(&mut wire).unwrap();
    let msg = match frame.msg {
        Msg::LayerStart(l) => Msg::LayerStart(l),
        Msg::LayerEnd(e) => Msg::LayerEnd(e),
        Msg::JobEnd(e) => Msg::JobEnd(e),
        other => panic!("frame {i} is {other:?}"),
    };
    let mut buf = [0u8; MAX_FRAME];
    let n = crate::wire::encode_frame(frame.seq, &f(msg), &mut buf).unwrap();
    fr[i] = buf[..n].to_vec();
}

#[test]
fn layer_and_job_closing_faults_keep_their_codes_and_values() {
    let bytes = job(&[square_layer(3000), square_layer(3000)]).0;
    // Frames: header, param set, per layer start, 2 blocks, end (layer 1: 6..=9), job end 10.
    let mut probe = frames(&bytes);
    let mut payload = 0;
    rewrite(&mut probe, 6, |m| {
        if let Msg::LayerStart(l) = m {
            payload = i64::from(l.payload_bytes);
        }
        m
    });
    type Edit = fn(Msg<'static>) -> Msg<'static>;
    /// Layer, block, rule, value, limit.
    type Want = (u32, u32, Rule, i64, i64);
    let cases: [(usize, Edit, Want); 5] = [
        (
            9,
            |m| match m {
                Msg::LayerEnd(e) => Msg::LayerEnd(LayerEnd { layer: 0, ..e }),
                m => m,
            },
            (0, NONE, Rule::LayerOutOfOrder, 0, 1),
        ),
        (
            6,
            |m| match m {
                Msg::LayerStart(l) => Msg::LayerStart(LayerStart { blocks: 3, ..l }),
                m => m,
            },
            (1, 2, Rule::LayerSizeMismatch, payload, payload),
        ),
        (
            6,
            |m| match m {
                Msg::LayerStart(l) => Msg::LayerStart(LayerStart {
                    payload_bytes: l.payload_bytes + 1,
                    ..l
                }),
                m => m,
            },
            (1, 2, Rule::LayerSizeMismatch, payload, payload + 1),
        ),
        (
            10,
            |m| match m {
                Msg::JobEnd(e) => Msg::JobEnd(JobEnd { layers: 3, ..e }),
                m => m,
            },
            (NONE, NONE, Rule::LayerCountMismatch, 2, 2),
        ),
        (
            10,
            |m| match m {
                Msg::JobEnd(mut e) => {
                    e.job_sha256[0] ^= 1;
                    Msg::JobEnd(e)
                }
                m => m,
            },
            (NONE, NONE, Rule::JobHashMismatch, 0, 0),
        ),
    ];
    for (i, edit, want) in cases {
        let mut fr = frames(&bytes);
        rewrite(&mut fr, i, edit);
        let (ctl, rec) = run(&fr.concat(), MachineConfig::default());
        assert_eq!(ctl.state(), ControllerState::Faulted, "frame {i}");
        let f = rec.faults[0];
        assert_eq!(
            (f.layer, f.block, f.rule, f.value, f.limit),
            want,
            "frame {i}"
        );
        assert_eq!(f.vector, NONE, "frame {i}");
    }
}

#[test]
fn the_writer_limited_to_the_field_refuses_the_vector_the_controller_would_and_no_other() {
    // Spot 80 µm: a vector may reach 125 mm − 40 µm = 124,960 quanta of 1 µm.
    let spec = spec(1);
    let layer = |x: i64| {
        vec![BlockSpec {
            param_set: 1,
            kind: VectorKind::Hatch,
            region: Region::Core,
            geometry: Geometry::Hatches(vec![[0, 0, x, 0]]),
        }]
    };
    let write = |x: i64| {
        let mut w = JobWriter::new(Vec::new(), &spec).unwrap();
        w.limit_field(125_000);
        w.write_layer(&layer(x)).map(|()| w.finish().unwrap().0)
    };
    let inside = write(124_960).unwrap();
    let (ctl, rec) = run(&inside, MachineConfig::default());
    assert_eq!(ctl.state(), ControllerState::Done, "{:?}", rec.faults);
    match write(124_961) {
        Err(JobError::OutsideField { value, limit, .. }) => {
            assert_eq!((value, limit), (124_961, 124_960));
        }
        other => panic!("{other:?}"),
    }
    // The controller refuses what the writer would have.
    let mut w = JobWriter::new(Vec::new(), &spec).unwrap();
    w.write_layer(&layer(124_961)).unwrap();
    let (ctl, rec) = run(&w.finish().unwrap().0, MachineConfig::default());
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(rec.faults[0].rule, Rule::OutsideField);
}
