//! Plate jobs on the controller: each part's vectors kept to its footprint, reports per part,
//! and part skip (a recoater collision at the part, the operator's `SkipPart`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use crate::controller::{Controller, Event, EventSink, ReplySink};
use crate::job::{BlockSpec, FrameReader, Geometry, JobSpec, JobWriter, PartSpec};
use crate::machine::MachineConfig;
use crate::wire::{
    ControllerState, Fault, Frame, MAX_FRAME, Msg, Nak, NakReason, ParamSet, PartReport, PartState,
    Region, Report, Rule, SkipPart, VectorKind, encode_frame,
};

#[derive(Default)]
struct Rec {
    reports: Vec<Report>,
    parts: Vec<PartReport>,
    naks: Vec<Nak>,
    faults: Vec<Fault>,
    skipped: Vec<(u16, u32, Rule)>,
    marks_by_part: [u64; 3],
}

impl ReplySink for Rec {
    fn reply(&mut self, f: &Frame<'_>) {
        match f.msg {
            Msg::Report(r) => self.reports.push(r),
            Msg::PartReport(p) => self.parts.push(p),
            Msg::Nak(n) => self.naks.push(n),
            _ => {}
        }
    }
}

impl EventSink for Rec {
    fn event(&mut self, e: &Event<'_>) {
        match e {
            Event::Mark { part, .. } => {
                self.marks_by_part[part.map_or(2, usize::from)] += 1;
            }
            Event::Fault(f) => self.faults.push(*f),
            Event::PartSkipped { part, layer, rule } => self.skipped.push((*part, *layer, *rule)),
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
            skywriting: false,
        }],
    }
}

/// Part `C-1` stands in [0, 4000]², part `C-2` in [5000, 9000] × [0, 4000] (µm).
fn parts() -> [PartSpec; 2] {
    let part = |serial: &str, x0: i32| PartSpec {
        serial: serial.into(),
        case: "case-1".into(),
        centre: [x0 + 2000, 2000],
        rotation_mdeg: 0,
        footprint: [x0, 0, x0 + 4000, 4000],
    };
    [part("C-1", 0), part("C-2", 5000)]
}

fn hatch(x0: i64, x1: i64, lines: i64) -> BlockSpec {
    BlockSpec {
        param_set: 1,
        kind: VectorKind::Hatch,
        region: Region::Core,
        geometry: Geometry::Hatches(
            (0..lines)
                .map(|i| [x0, 100 + i * 100, x1, 100 + i * 100])
                .collect(),
        ),
    }
}

/// A plate job of `layers` layers: part 0 with 10 hatch lines, part 1 with 20 whose x reaches
/// `x_end` in layer 1 (inside its box up to 9000).
fn plate_job(layers: u32, x_end: i64) -> Vec<u8> {
    let mut w = JobWriter::with_parts(Vec::new(), &spec(layers), &parts(), None).unwrap();
    // Written as a faulty build processor might: the controller must refuse it.
    w.unchecked_footprints();
    for k in 0..layers {
        let end = if k == 1 { x_end } else { 8900 };
        w.write_part_layer(&[(0, hatch(100, 3900, 10)), (1, hatch(5100, end, 20))])
            .unwrap();
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
    events.parts = replies.parts;
    events.naks = replies.naks;
    (ctl, events)
}

#[test]
fn a_plate_job_reports_every_part_after_the_job_report() {
    let (ctl, rec) = run(&plate_job(3, 8900), MachineConfig::default());
    assert_eq!(ctl.state(), ControllerState::Done, "{:?}", rec.faults);
    assert_eq!(rec.reports.len(), 1);
    assert_eq!(rec.parts.len(), 2);
    assert_eq!(rec.parts[0].vectors, 30);
    assert_eq!(rec.parts[1].vectors, 60);
    assert_eq!(rec.marks_by_part, [30, 60, 0]);
    assert_eq!(
        rec.parts[0].vectors + rec.parts[1].vectors,
        rec.reports[0].vectors
    );
    assert!(rec.parts.iter().all(|p| p.state == PartState::Built));
    // Lines of the same length, twice as many in part 1: twice the energy and mark time.
    assert_eq!(
        rec.parts[0].energy_mj,
        30 * 760,
        "0.76 J per 3.8 mm line at 200 W, 1 m/s"
    );
    assert_eq!(rec.parts[1].energy_mj, 2 * rec.parts[0].energy_mj);
    assert_eq!(rec.parts[1].mark_ticks, 2 * rec.parts[0].mark_ticks);
    assert_ne!(rec.parts[0].executed_sha256, rec.parts[1].executed_sha256);
    let (_, again) = run(&plate_job(3, 8900), MachineConfig::default());
    assert_eq!(again.parts, rec.parts, "part reports are deterministic");
}

#[test]
fn the_executed_hash_of_a_complete_plate_equals_its_job_hash() {
    let (bytes, summary) = {
        let mut w = JobWriter::with_parts(Vec::new(), &spec(2), &parts(), None).unwrap();
        for _ in 0..2 {
            w.write_part_layer(&[(0, hatch(100, 3900, 10)), (1, hatch(5100, 8900, 20))])
                .unwrap();
        }
        w.finish().unwrap()
    };
    let (_, rec) = run(&bytes, MachineConfig::default());
    assert_eq!(rec.reports[0].executed_sha256, summary.job_sha256);
}

#[test]
fn a_vector_outside_its_part_footprint_faults_before_the_layer_is_exposed() {
    let (ctl, rec) = run(&plate_job(3, 9100), MachineConfig::default());
    assert_eq!(ctl.state(), ControllerState::Faulted);
    let f = rec.faults[0];
    assert_eq!((f.rule, f.layer, f.block), (Rule::OutsidePart, 1, 1));
    assert_eq!((f.value, f.limit), (9100, 100), "the point named");
    // Layer 0 executed; nothing of layer 1.
    assert_eq!(rec.marks_by_part, [10, 20, 0]);
    assert!(rec.parts.iter().all(|p| p.state == PartState::Unfinished));
}

/// A machine whose recoater hits part 1 (`C-2`) while recoating for layer 1.
fn collision_at_part_1() -> MachineConfig {
    MachineConfig {
        recoater_collision_layer: Some(1),
        recoater_collision_at_um: Some([7000, 2000]),
        ..MachineConfig::default()
    }
}

#[test]
fn a_recoater_collision_at_a_part_skips_that_part_and_the_plate_goes_on() {
    let config = collision_at_part_1();
    let (ctl, rec) = run(&plate_job(3, 8900), config);
    assert_eq!(ctl.state(), ControllerState::Done, "{:?}", rec.faults);
    assert_eq!(rec.skipped, [(1, 1, Rule::RecoaterCollision)]);
    assert_eq!(rec.parts[0].state, PartState::Built);
    assert_eq!(
        rec.parts[1].state,
        PartState::Skipped {
            layer: 1,
            rule: Rule::RecoaterCollision
        }
    );
    assert_eq!(rec.parts[0].vectors, 30);
    assert_eq!(rec.parts[1].vectors, 20, "part 1 only in layer 0");
    let (_, whole) = run(&plate_job(3, 8900), MachineConfig::default());
    assert_ne!(
        rec.reports[0].executed_sha256, whole.reports[0].executed_sha256,
        "what was left out shows in the executed hash"
    );
    assert_eq!(rec.parts[0].executed_sha256, whole.parts[0].executed_sha256);
    assert_ne!(rec.parts[1].executed_sha256, whole.parts[1].executed_sha256);
}

#[test]
fn a_recoater_collision_where_no_part_stands_faults_the_whole_build() {
    let config = MachineConfig {
        recoater_collision_layer: Some(1),
        recoater_collision_at_um: Some([4500, 2000]),
        ..MachineConfig::default()
    };
    let (ctl, rec) = run(&plate_job(3, 8900), config);
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(rec.faults[0].rule, Rule::RecoaterCollision);
    assert!(rec.skipped.is_empty());
}

/// The job's frames with `SkipPart { part }` inserted after the `LayerEnd` of `after_layer`.
fn with_skip(bytes: &[u8], part: u16, after_layer: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut scratch = Vec::new();
    for raw in FrameReader::new(bytes) {
        let raw = raw.unwrap();
        out.extend_from_slice(&raw.wire);
        if let Msg::LayerEnd(e) = raw.decode(&mut scratch).unwrap().msg
            && e.layer == after_layer
        {
            let mut buf = [0u8; MAX_FRAME];
            let msg = Msg::SkipPart(SkipPart { part });
            let n = encode_frame(0, &msg, &mut buf).unwrap();
            out.extend_from_slice(&buf[..n]);
        }
    }
    out
}

#[test]
fn the_operator_skips_a_part_from_the_next_layer_on() {
    let (ctl, rec) = run(
        &with_skip(&plate_job(3, 8900), 0, 0),
        MachineConfig::default(),
    );
    assert_eq!(ctl.state(), ControllerState::Done, "{:?}", rec.faults);
    assert_eq!(rec.skipped, [(0, 1, Rule::OperatorSkip)]);
    assert_eq!(
        rec.parts[0].state,
        PartState::Skipped {
            layer: 1,
            rule: Rule::OperatorSkip
        }
    );
    assert_eq!(rec.parts[0].vectors, 10);
    assert_eq!(rec.parts[1].vectors, 60);
    assert_eq!(ctl.part_report(0), Some(rec.parts[0]));
}

#[test]
fn skipping_an_unknown_part_or_a_part_of_a_job_without_parts_is_refused() {
    let (ctl, rec) = run(
        &with_skip(&plate_job(3, 8900), 7, 0),
        MachineConfig::default(),
    );
    assert_eq!(ctl.state(), ControllerState::Done);
    assert_eq!(rec.naks.len(), 1);
    assert_eq!(rec.naks[0].reason, NakReason::Unexpected);
    assert!(rec.skipped.is_empty());
    let (single, _) = crate::job::encode_job(
        &spec(2),
        &[vec![hatch(100, 3900, 10)], vec![hatch(100, 3900, 10)]],
    )
    .unwrap();
    let (ctl, rec) = run(&with_skip(&single, 0, 0), MachineConfig::default());
    assert_eq!(ctl.state(), ControllerState::Done);
    assert_eq!(rec.naks.len(), 1);
    assert!(
        rec.parts.is_empty(),
        "a job without parts sends no part report"
    );
}

#[test]
fn a_released_plate_job_runs_where_release_is_required() {
    use crate::signing::{ReleaseSpec, release_job};
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let who = ReleaseSpec {
        signer: "Q. Engineer".into(),
        meaning: "released".into(),
        utc_seconds: 1_796_400_000,
    };
    let released = release_job(&plate_job(3, 8900), &key, &who).unwrap();
    let mut config = MachineConfig::default();
    let hex: String = key
        .verifying_key()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    config
        .trusted_keys
        .push(hex.as_str().try_into().unwrap())
        .unwrap();
    let (ctl, rec) = run(&released, config);
    assert_eq!(ctl.state(), ControllerState::Done, "{:?}", rec.faults);
    assert_eq!(rec.parts.len(), 2);
}

#[test]
fn the_job_writer_refuses_a_vector_outside_its_part_footprint() {
    let mut w = JobWriter::with_parts(Vec::new(), &spec(1), &parts(), None).unwrap();
    let e = w
        .write_part_layer(&[(0, hatch(100, 3900, 10)), (1, hatch(5100, 9100, 20))])
        .unwrap_err();
    assert!(
        matches!(
            e,
            crate::job::JobError::Part {
                layer: 0,
                source: crate::wire::part::PartError::Outside {
                    part: 1,
                    x: 9100,
                    ..
                }
            }
        ),
        "{e:?}"
    );
}

/// A plate job of `layers` layers that announces its job hash (only such jobs are recorded
/// across a power loss), with the part table `table`.
fn hashed_plate_job(layers: u32, table: &[PartSpec]) -> (Vec<u8>, [u8; 32]) {
    let write = |hash| {
        let mut w = JobWriter::with_parts(Vec::new(), &spec(layers), table, hash).unwrap();
        for _ in 0..layers {
            w.write_part_layer(&[(0, hatch(100, 3900, 10)), (1, hatch(5100, 8900, 20))])
                .unwrap();
        }
        w.finish().unwrap()
    };
    let (_, first) = write(None);
    (write(Some(first.job_sha256)).0, first.job_sha256)
}

/// Bytes of the frames before the `LayerStart` of `layer`.
fn before_layer(bytes: &[u8], layer: u32) -> usize {
    let mut scratch = Vec::new();
    for raw in FrameReader::new(bytes) {
        let raw = raw.unwrap();
        if let Msg::LayerStart(l) = raw.decode(&mut scratch).unwrap().msg
            && l.layer == layer
        {
            return raw.offset as usize;
        }
    }
    panic!("no layer {layer}");
}

/// Runs `bytes` on a controller with non-volatile memory `ram`, collecting replies and events.
fn run_on(
    bytes: &[u8],
    config: &MachineConfig,
    ram: &mut crate::nvm::RamRecord,
) -> (ControllerState, Rec) {
    let mut ctl: Controller<[u8; 16 * 1024], 8, 2, &mut crate::nvm::RamRecord> =
        Controller::with_nonvolatile(config.clone(), &mut *ram);
    ctl.set_auto_start(true);
    let mut replies = Rec::default();
    let mut events = Rec::default();
    ctl.receive(bytes, &mut replies, &mut events);
    events.reports = replies.reports;
    events.parts = replies.parts;
    (ctl.state(), events)
}

#[test]
fn a_plate_continued_after_a_power_loss_reports_every_part_as_an_uninterrupted_build() {
    // Part 1 is hit by the recoater before layer 1: its skip must survive the power loss too.
    let config = collision_at_part_1();
    let (bytes, job_sha256) = hashed_plate_job(5, &parts());
    let (state, whole) = run_on(&bytes, &config, &mut Default::default());
    assert_eq!(state, ControllerState::Done, "{:?}", whole.faults);
    // Power is lost once layers 0–2 are executed (and recorded).
    let mut ram = crate::nvm::RamRecord::default();
    let (state, before) = run_on(&bytes[..before_layer(&bytes, 3)], &config, &mut ram);
    assert_eq!(state, ControllerState::Printing);
    let record = crate::nvm::NvRecord::load(&mut ram).expect("a plate job is recorded");
    assert_eq!(
        (record.job_sha256, record.layers_done, record.parts),
        (job_sha256, 3, 2)
    );
    // The host, unaware, sends the whole job again; layers 0–2 are verified and skipped.
    let (state, after) = run_on(&bytes, &config, &mut ram);
    assert_eq!(state, ControllerState::Done, "{:?}", after.faults);
    assert_eq!(
        after.reports[0].executed_sha256,
        whole.reports[0].executed_sha256
    );
    assert_eq!(after.reports[0].vectors, whole.reports[0].vectors);
    assert_eq!(
        after.parts, whole.parts,
        "each part's tally, hash and skip as uninterrupted"
    );
    assert_eq!(
        after.parts[1].state,
        PartState::Skipped {
            layer: 1,
            rule: Rule::RecoaterCollision
        }
    );
    // Every vector marked exactly once over the two runs.
    let marked: Vec<u64> = (0..3)
        .map(|i| before.marks_by_part[i] + after.marks_by_part[i])
        .collect();
    assert_eq!(marked, whole.marks_by_part);
    assert_eq!(
        after.marks_by_part,
        [20, 0, 0],
        "layers 3 and 4 of part 0 only"
    );
}

#[test]
fn a_plate_resumed_with_another_part_table_is_refused_before_any_layer() {
    let (bytes, _) = hashed_plate_job(4, &parts());
    let mut ram = crate::nvm::RamRecord::default();
    let config = MachineConfig::default();
    run_on(&bytes[..before_layer(&bytes, 2)], &config, &mut ram);
    // The same header hash and parameter sets, one serial changed: the table hashes otherwise.
    let mut other = parts();
    other[1].serial = "C-9".into();
    let (_, recorded_hash) = hashed_plate_job(4, &parts());
    let write = |table: &[PartSpec]| {
        let mut w =
            JobWriter::with_parts(Vec::new(), &spec(4), table, Some(recorded_hash)).unwrap();
        let blocks = [(0, hatch(100, 3900, 10)), (1, hatch(5100, 8900, 20))];
        for _ in 0..4 {
            w.write_part_layer(&blocks[..table.len()]).unwrap();
        }
        w.finish().unwrap().0
    };
    let (state, rec) = run_on(&write(&other), &config, &mut ram);
    assert_eq!(state, ControllerState::Faulted);
    assert_eq!(rec.faults[0].rule, Rule::ResumeMismatch);
    assert_eq!(rec.marks_by_part, [0, 0, 0], "nothing exposed");
    // Only one part sent again: refused at the first layer.
    let mut ram2 = crate::nvm::RamRecord::default();
    run_on(&bytes[..before_layer(&bytes, 2)], &config, &mut ram2);
    let (state, rec) = run_on(&write(&parts()[..1]), &config, &mut ram2);
    assert_eq!(state, ControllerState::Faulted);
    assert_eq!(rec.faults[0].rule, Rule::ResumeMismatch);
    assert_eq!(rec.marks_by_part, [0, 0, 0]);
}
