//! Power loss: a controller dropped mid-job and rebuilt from its non-volatile record continues
//! the build, exposing every layer exactly once and ending with the hash of the whole job.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;

use crate::controller::{
    Controller, DEFAULT_ARENA, DEFAULT_PARAMS, DEFAULT_READY, Event, EventSink, ReplySink,
};
use crate::job::{BlockSpec, Geometry, JobSpec, JobSummary, encode_job};
use crate::machine::MachineConfig;
use crate::nvm::{NonVolatile, NvRecord, RamRecord};
use crate::wire::{
    ControllerState, Fault, Frame, Hello, MAX_FRAME, Msg, PROTOCOL_VERSION, ParamSet, Region,
    Report, ResumePoint, Rule, VectorKind, decode_frame, encode_frame,
};

type Ctl<'a> = Controller<[u8; DEFAULT_ARENA], DEFAULT_PARAMS, DEFAULT_READY, &'a mut RamRecord>;

/// What the machine did, kept across power losses (it is the build plate's history).
#[derive(Default, Debug)]
struct Plate {
    /// Layer → times it was completed.
    done: BTreeMap<u32, u32>,
    /// Layer → segments marked.
    marks: BTreeMap<u32, u64>,
    skipped: Vec<u32>,
    resumed: Vec<u32>,
    faults: Vec<Fault>,
    reports: Vec<Report>,
    hello_resume: Vec<Option<ResumePoint>>,
}

impl EventSink for Plate {
    fn event(&mut self, e: &Event<'_>) {
        match e {
            Event::Mark { layer, .. } => *self.marks.entry(*layer).or_default() += 1,
            Event::LayerDone { layer, .. } => *self.done.entry(*layer).or_default() += 1,
            Event::LayerSkipped { layer } => self.skipped.push(*layer),
            Event::Resumed { layer } => self.resumed.push(*layer),
            Event::Fault(f) => self.faults.push(*f),
            _ => {}
        }
    }
}

#[derive(Default)]
struct Replies {
    reports: Vec<Report>,
    hello_resume: Vec<Option<ResumePoint>>,
}

impl ReplySink for Replies {
    fn reply(&mut self, f: &Frame<'_>) {
        match f.msg {
            Msg::Report(r) => self.reports.push(r),
            Msg::Hello(h) => self.hello_resume.push(h.resume),
            _ => {}
        }
    }
}

fn spec(layers: u32, power_mw: u32) -> JobSpec {
    JobSpec {
        machine: "meltline-sim-250".into(),
        material: "Ti-6Al-4V".into(),
        quantum_nm: 1000,
        layer_thickness_nm: 30_000,
        layer_count: layers,
        param_sets: vec![ParamSet {
            id: 1,
            power_mw,
            mark_speed_mm_s: 1000,
            spot_um: 80,
            hatch_distance_um: 100,
            skywriting: true,
        }],
    }
}

/// Layer `i`: a square of side `2 + i` mm, hatched, offset so layers differ.
fn layer(i: i64) -> Vec<BlockSpec> {
    let size = 2000 + 1000 * i;
    let o = 300 * i;
    let hatches = (1..size / 100)
        .map(|k| [o + 50, o + k * 100, o + size - 50, o + k * 100])
        .collect();
    vec![
        BlockSpec {
            param_set: 1,
            kind: VectorKind::Contour,
            region: Region::Core,
            geometry: Geometry::Polylines {
                lines: vec![vec![
                    [o, o],
                    [o + size, o],
                    [o + size, o + size],
                    [o, o + size],
                ]],
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

const LAYERS: u32 = 5;

fn job(power_mw: u32) -> (Vec<Vec<u8>>, JobSummary) {
    let layers: Vec<_> = (0..i64::from(LAYERS)).map(layer).collect();
    let (bytes, summary) = encode_job(&spec(LAYERS, power_mw), &layers).unwrap();
    let frames = bytes
        .split_inclusive(|b| *b == 0)
        .map(<[u8]>::to_vec)
        .collect();
    (frames, summary)
}

fn msg_of(frame: &[u8]) -> Msg<'static> {
    let mut b = frame[..frame.len() - 1].to_vec();
    let m = decode_frame(&mut b).unwrap().msg;
    // Only the copyable, non-borrowing messages are inspected here.
    match m {
        Msg::LayerStart(l) => Msg::LayerStart(l),
        Msg::LayerEnd(l) => Msg::LayerEnd(l),
        Msg::ParamSet(p) => Msg::ParamSet(p),
        Msg::JobEnd(e) => Msg::JobEnd(e),
        _ => Msg::Start,
    }
}

/// Index of the `LayerStart` frame of `layer`.
fn layer_start(frames: &[Vec<u8>], layer: u32) -> usize {
    frames
        .iter()
        .position(|f| matches!(msg_of(f), Msg::LayerStart(l) if l.layer == layer))
        .unwrap()
}

/// The frames renumbered from `seq`, as a host sends a partial stream.
fn renumbered(frames: &[Vec<u8>], seq: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let mut b = f[..f.len() - 1].to_vec();
        let frame = decode_frame(&mut b).unwrap();
        let mut buf = [0u8; MAX_FRAME];
        let n = encode_frame(seq + i as u32, &frame.msg, &mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn hello(ctl: &mut Ctl<'_>, plate: &mut Plate) {
    let mut buf = [0u8; MAX_FRAME];
    let msg = Msg::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        machine: "meltline-sim-250",
        max_frame: MAX_FRAME as u16,
        arena_bytes: 0,
        param_sets: 0,
        resume: None,
    });
    let n = encode_frame(0, &msg, &mut buf).unwrap();
    let mut replies = Replies::default();
    ctl.receive(&buf[..n], &mut replies, plate);
    plate.hello_resume.extend(replies.hello_resume);
}

fn feed(ctl: &mut Ctl<'_>, bytes: &[u8], plate: &mut Plate) {
    let mut replies = Replies::default();
    ctl.receive(bytes, &mut replies, plate);
    plate.reports.extend(replies.reports);
}

fn powered(ram: &mut RamRecord) -> Ctl<'_> {
    let mut ctl = Controller::with_nonvolatile(MachineConfig::default(), ram);
    ctl.set_auto_start(true);
    ctl
}

/// The report of an uninterrupted build, per-layer marks included.
fn uninterrupted(frames: &[Vec<u8>]) -> (Report, BTreeMap<u32, u64>) {
    let mut ram = RamRecord::default();
    let mut plate = Plate::default();
    let mut ctl = powered(&mut ram);
    feed(&mut ctl, &frames.concat(), &mut plate);
    assert_eq!(ctl.state(), ControllerState::Done, "{:?}", plate.faults);
    (ctl.report(), plate.marks)
}

/// Runs the job, cutting power once `cut` frames have been received, then continues on a new
/// controller from the record: from the resume point (`whole = false`) or, as a host unaware
/// of resuming would, the whole job from frame 0.
fn power_loss_after(cut: usize, whole: bool) -> (Plate, Report, JobSummary, Vec<Vec<u8>>) {
    let (frames, summary) = job(200_000);
    let mut ram = RamRecord::default();
    let mut plate = Plate::default();
    {
        let mut ctl = powered(&mut ram);
        feed(&mut ctl, &frames[..cut].concat(), &mut plate);
        assert_eq!(ctl.state(), ControllerState::Printing);
    } // power lost: everything but `ram` is gone
    let done_before = plate.done.len() as u32;
    let mut ctl = powered(&mut ram);
    hello(&mut ctl, &mut plate);
    let point = plate.hello_resume[0].expect("the restarted controller advertises its record");
    assert_eq!(point.job_sha256, summary.job_sha256);
    assert_eq!(
        point.next_layer, done_before,
        "resumes after the last completed layer"
    );
    let params = 1 + 1; // header + one parameter set
    let resent = if whole {
        renumbered(&frames, 0)
    } else {
        let from = if point.next_layer < LAYERS {
            layer_start(&frames, point.next_layer)
        } else {
            frames.len() - 1 // JobEnd
        };
        let mut s = renumbered(&frames[..params], 0);
        s.extend(renumbered(&frames[from..], params as u32));
        s
    };
    feed(&mut ctl, &resent, &mut plate);
    assert_eq!(plate.resumed, vec![point.next_layer]);
    let report = ctl.report();
    assert_eq!(ctl.state(), ControllerState::Done, "{:?}", plate.faults);
    (plate, report, summary, frames)
}

fn assert_each_layer_exposed_once_as_uninterrupted(
    plate: &Plate,
    report: &Report,
    summary: &JobSummary,
    frames: &[Vec<u8>],
) {
    let (clean, clean_marks) = uninterrupted(frames);
    let once: BTreeMap<u32, u32> = (0..LAYERS).map(|l| (l, 1)).collect();
    assert_eq!(plate.done, once, "every layer completed exactly once");
    assert_eq!(plate.marks, clean_marks, "every layer marked as in one run");
    assert_eq!(report.executed_sha256, summary.job_sha256);
    assert_eq!(report, &clean, "time, energy and counts as uninterrupted");
    assert_eq!(plate.reports.last(), Some(&clean));
}

#[test]
fn power_loss_between_layers_resumes_at_the_next_layer_exposing_each_once() {
    let (frames, _) = job(200_000);
    let cut = layer_start(&frames, 2); // layers 0 and 1 complete, nothing of layer 2
    let (plate, report, summary, frames) = power_loss_after(cut, false);
    assert!(plate.skipped.is_empty());
    assert_each_layer_exposed_once_as_uninterrupted(&plate, &report, &summary, &frames);
}

#[test]
fn power_loss_mid_layer_resumes_at_that_layer_exposing_each_once() {
    let (frames, _) = job(200_000);
    // LayerStart and the first block of layer 3 received, not its LayerEnd.
    let cut = layer_start(&frames, 3) + 2;
    let (plate, report, summary, frames) = power_loss_after(cut, false);
    assert_eq!(plate.resumed, vec![3]);
    assert_each_layer_exposed_once_as_uninterrupted(&plate, &report, &summary, &frames);
}

#[test]
fn power_loss_after_the_last_layer_before_job_end_completes_without_exposure() {
    let (frames, _) = job(200_000);
    let (plate, report, summary, frames) = power_loss_after(frames.len() - 1, false);
    assert_eq!(plate.resumed, vec![LAYERS]);
    assert_each_layer_exposed_once_as_uninterrupted(&plate, &report, &summary, &frames);
}

#[test]
fn a_controller_without_memory_keeps_and_advertises_no_record() {
    let (frames, _) = job(200_000);
    let mut ctl: Controller = Controller::new(MachineConfig::default());
    ctl.set_auto_start(true);
    ctl.receive(
        &frames[..layer_start(&frames, 2)].concat(),
        &mut (),
        &mut (),
    );
    assert_eq!(ctl.report().layers, 2);
    assert!(ctl.record().is_none() && ctl.resume_point().is_none());
}

#[test]
fn a_resumed_controller_sent_the_whole_job_skips_completed_layers() {
    let (frames, _) = job(200_000);
    let cut = layer_start(&frames, 2) + 1;
    let (plate, report, summary, frames) = power_loss_after(cut, true);
    assert_eq!(
        plate.skipped,
        vec![0, 1],
        "completed layers verified and dropped"
    );
    assert_each_layer_exposed_once_as_uninterrupted(&plate, &report, &summary, &frames);
}

fn interrupted_record(layers_done: u32) -> (RamRecord, Vec<Vec<u8>>) {
    let (frames, _) = job(200_000);
    let mut ram = RamRecord::default();
    {
        let mut ctl = powered(&mut ram);
        let cut = layer_start(&frames, layers_done);
        feed(&mut ctl, &frames[..cut].concat(), &mut Plate::default());
    }
    (ram, frames)
}

#[test]
fn a_corrupted_record_is_ignored_and_the_job_starts_over() {
    let (mut ram, frames) = interrupted_record(2);
    ram.bytes_mut()[90] ^= 0x04;
    let mut plate = Plate::default();
    let mut ctl = powered(&mut ram);
    assert!(ctl.record().is_none());
    hello(&mut ctl, &mut plate);
    assert_eq!(plate.hello_resume, vec![None]);
    feed(&mut ctl, &frames.concat(), &mut plate);
    assert_eq!(ctl.state(), ControllerState::Done);
    assert!(plate.resumed.is_empty());
    assert_eq!(plate.done.len() as u32, LAYERS);
}

#[test]
fn another_job_erases_the_record() {
    let (mut ram, _) = interrupted_record(2);
    let (other, _) = job(210_000);
    let mut plate = Plate::default();
    let mut ctl = powered(&mut ram);
    assert!(ctl.record().is_some());
    feed(&mut ctl, &other.concat(), &mut plate);
    assert_eq!(ctl.state(), ControllerState::Done);
    assert!(plate.resumed.is_empty());
    assert_eq!(plate.done.len() as u32, LAYERS, "the other job runs whole");
    drop(ctl);
    assert_eq!(
        NvRecord::load(&mut ram),
        None,
        "erased: done, and not resumable"
    );
}

#[test]
fn a_resumed_job_with_other_parameter_sets_is_refused_before_any_exposure() {
    let (mut ram, frames) = interrupted_record(2);
    // Same announced job hash, but the parameter set has another power.
    let (other, _) = job(210_000);
    let mut forged = vec![frames[0].clone(), other[1].clone()];
    forged.extend_from_slice(&frames[layer_start(&frames, 2)..]);
    let mut plate = Plate::default();
    let mut ctl = powered(&mut ram);
    feed(&mut ctl, &renumbered(&forged, 0), &mut plate);
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(plate.faults[0].rule, Rule::ResumeMismatch);
    assert!(plate.marks.is_empty(), "nothing exposed");
}

#[test]
fn an_earlier_layer_after_the_resume_layer_is_refused() {
    let (mut ram, frames) = interrupted_record(2);
    let mut plate = Plate::default();
    let mut ctl = powered(&mut ram);
    let mut s = frames[..2].to_vec();
    s.extend_from_slice(&frames[layer_start(&frames, 2)..layer_start(&frames, 3)]);
    s.extend_from_slice(&frames[layer_start(&frames, 1)..layer_start(&frames, 2)]);
    feed(&mut ctl, &renumbered(&s, 0), &mut plate);
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(plate.faults[0].rule, Rule::LayerOutOfOrder);
    assert_eq!(plate.done.keys().copied().collect::<Vec<_>>(), vec![2]);
}

#[test]
fn a_failed_record_write_stops_the_build_after_the_layer() {
    let (frames, _) = job(200_000);
    let mut ram = RamRecord::default();
    ram.fail_stores = true;
    let mut plate = Plate::default();
    let mut ctl = powered(&mut ram);
    feed(&mut ctl, &frames.concat(), &mut plate);
    assert_eq!(ctl.state(), ControllerState::Faulted);
    assert_eq!(
        (plate.faults[0].rule, plate.faults[0].layer),
        (Rule::RecordNotStored, 0)
    );
    assert_eq!(plate.done.keys().copied().collect::<Vec<_>>(), vec![0]);
}

#[test]
fn the_record_follows_each_layer_and_is_erased_when_the_job_is_done() {
    let (frames, summary) = job(200_000);
    let mut ram = RamRecord::default();
    let mut plate = Plate::default();
    let mut ctl = powered(&mut ram);
    for l in 1..LAYERS {
        let from = if l == 1 {
            0
        } else {
            layer_start(&frames, l - 1)
        };
        feed(
            &mut ctl,
            &frames[from..layer_start(&frames, l)].concat(),
            &mut plate,
        );
        let r = ctl.record().unwrap();
        assert_eq!((r.job_sha256, r.layers_done), (summary.job_sha256, l));
    }
    feed(
        &mut ctl,
        &frames[layer_start(&frames, LAYERS - 1)..].concat(),
        &mut plate,
    );
    assert_eq!(ctl.state(), ControllerState::Done);
    assert!(ctl.record().is_none());
    let stores = ctl.nonvolatile().stores;
    assert_eq!(stores, LAYERS + 1, "one store per layer and the erase");
    drop(ctl);
    assert_eq!(NvRecord::load(&mut ram), None);
    let mut probe = [0u8; crate::nvm::NV_RECORD_LEN];
    assert!(ram.load(&mut probe));
}
