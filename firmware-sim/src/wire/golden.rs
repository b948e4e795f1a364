//! Golden bytes: every message beside its exact frame bytes. A change here is a protocol change.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;

const HASH: [u8; 32] = [0xab; 32];

// Test-only data: one flat table of every message is easier to check against the spec than pieces.
#[allow(clippy::too_many_lines)]
pub(crate) fn samples() -> Vec<(&'static str, Frame<'static>)> {
    static DATA: [u8; 4] = [0x01, 0x02, 0x00, 0x7f];
    let m = |seq, msg| Frame { seq, msg };
    vec![
        (
            "hello",
            m(
                0,
                Msg::Hello(Hello {
                    protocol: 2,
                    machine: "m1",
                    max_frame: 1024,
                    arena_bytes: 49152,
                    param_sets: 32,
                    resume: None,
                }),
            ),
        ),
        (
            "hello_resume",
            m(
                0,
                Msg::Hello(Hello {
                    protocol: 2,
                    machine: "m1",
                    max_frame: 1024,
                    arena_bytes: 49152,
                    param_sets: 32,
                    resume: Some(ResumePoint {
                        job_sha256: HASH,
                        next_layer: 300,
                    }),
                }),
            ),
        ),
        (
            "job_header",
            m(
                1,
                Msg::JobHeader(JobHeader {
                    machine: "m1",
                    material: "Ti64",
                    quantum_nm: 1000,
                    layer_thickness_nm: 30_000,
                    layer_count: 2,
                    param_sets: 1,
                    job_sha256: None,
                }),
            ),
        ),
        (
            "param_set",
            m(
                2,
                Msg::ParamSet(ParamSet {
                    id: 3,
                    power_mw: 200_000,
                    mark_speed_mm_s: 1000,
                    spot_um: 80,
                    hatch_distance_um: 100,
                    skywriting: true,
                }),
            ),
        ),
        (
            "layer_start",
            m(
                3,
                Msg::LayerStart(LayerStart {
                    layer: 0,
                    blocks: 1,
                    payload_bytes: 4,
                }),
            ),
        ),
        (
            "vector_block",
            m(
                4,
                Msg::VectorBlock(VectorBlock {
                    param_set: 3,
                    kind: VectorKind::Hatch,
                    region: Region::Core,
                    coding: Coding::Points,
                    vectors: 2,
                    data: &DATA,
                }),
            ),
        ),
        (
            "layer_end",
            m(
                5,
                Msg::LayerEnd(LayerEnd {
                    layer: 0,
                    digest: HASH,
                }),
            ),
        ),
        (
            "job_end",
            m(
                6,
                Msg::JobEnd(JobEnd {
                    layers: 2,
                    job_sha256: HASH,
                }),
            ),
        ),
        ("start", m(7, Msg::Start)),
        ("pause", m(8, Msg::Pause)),
        ("resume", m(9, Msg::Resume)),
        ("abort", m(10, Msg::Abort)),
        ("status_request", m(11, Msg::StatusRequest)),
        (
            "ack",
            m(
                7,
                Msg::Ack(Ack {
                    up_to_seq: 6,
                    window: 4096,
                }),
            ),
        ),
        (
            "nak",
            m(
                1,
                Msg::Nak(Nak {
                    seq: 7,
                    reason: NakReason::Crc,
                }),
            ),
        ),
        (
            "status",
            m(
                2,
                Msg::Status(Status {
                    state: ControllerState::Printing,
                    layers_done: 1,
                    committed_seq: 9,
                    oxygen_ppm: 300,
                    window: 100,
                }),
            ),
        ),
        (
            "fault",
            m(
                3,
                Msg::Fault(Fault {
                    layer: 4,
                    block: 2,
                    vector: 17,
                    rule: Rule::OutsideField,
                    value: -130_000,
                    limit: 125_000,
                }),
            ),
        ),
        (
            "report",
            m(
                4,
                Msg::Report(Report {
                    state: ControllerState::Done,
                    layers: 2,
                    vectors: 1000,
                    ticks: 123_456,
                    energy_mj: 5000,
                    executed_sha256: HASH,
                }),
            ),
        ),
    ]
}

static HELLO: [u8; 19] = [
    0x01, 0x01, 0x0b, 0x02, 0x02, 0x6d, 0x31, 0x80, 0x08, 0x80, 0x80, 0x03, 0x20, 0x05, 0xa3, 0xee,
    0x9e, 0x18, 0x00,
];
static HELLO_RESUME: [u8; 53] = [
    0x01, 0x01, 0x32, 0x02, 0x02, 0x6d, 0x31, 0x80, 0x08, 0x80, 0x80, 0x03, 0x20, 0x01, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xac, 0x02,
    0x1a, 0xc7, 0x39, 0xa9, 0x00,
];
static JOB_HEADER: [u8; 24] = [
    0x12, 0x01, 0x01, 0x02, 0x6d, 0x31, 0x04, 0x54, 0x69, 0x36, 0x34, 0xe8, 0x07, 0xb0, 0xea, 0x01,
    0x02, 0x01, 0x05, 0x43, 0x8b, 0xd4, 0x8d, 0x00,
];
static PARAM_SET: [u8; 17] = [
    0x10, 0x02, 0x02, 0x03, 0xc0, 0x9a, 0x0c, 0xe8, 0x07, 0x50, 0x64, 0x01, 0xc9, 0x4e, 0x16, 0xd7,
    0x00,
];
static LAYER_START: [u8; 11] = [
    0x03, 0x03, 0x03, 0x07, 0x01, 0x04, 0x7b, 0xd7, 0x41, 0x8d, 0x00,
];
static VECTOR_BLOCK: [u8; 18] = [
    0x05, 0x04, 0x04, 0x03, 0x01, 0x06, 0x02, 0x02, 0x04, 0x01, 0x02, 0x06, 0x7f, 0x96, 0xe8, 0x13,
    0x60, 0x00,
];
static LAYER_END: [u8; 41] = [
    0x03, 0x05, 0x05, 0x25, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0x16, 0x98, 0xf7, 0x38, 0x00,
];
static JOB_END: [u8; 41] = [
    0x28, 0x06, 0x06, 0x02, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xb3, 0x74, 0x47, 0xb3, 0x00,
];
static START: [u8; 8] = [0x07, 0x07, 0x07, 0x9b, 0x11, 0xfc, 0x90, 0x00];
static PAUSE: [u8; 8] = [0x07, 0x08, 0x08, 0xc5, 0x10, 0xdb, 0x87, 0x00];
static RESUME: [u8; 8] = [0x07, 0x09, 0x09, 0x12, 0x11, 0xc7, 0xe9, 0x00];
static ABORT: [u8; 8] = [0x07, 0x0a, 0x0a, 0x6b, 0x13, 0xe3, 0x5b, 0x00];
static STATUS_REQUEST: [u8; 8] = [0x07, 0x0b, 0x0b, 0xbc, 0x12, 0xff, 0x35, 0x00];
static ACK: [u8; 11] = [
    0x0a, 0x07, 0x0c, 0x06, 0x80, 0x20, 0x84, 0x50, 0xb4, 0x3a, 0x00,
];
static NAK: [u8; 10] = [0x04, 0x01, 0x0d, 0x07, 0x05, 0xed, 0xbd, 0x61, 0xde, 0x00];
static STATUS: [u8; 14] = [
    0x0d, 0x02, 0x0e, 0x02, 0x01, 0x09, 0xac, 0x02, 0x64, 0xbf, 0x07, 0x13, 0xd2, 0x00,
];
static FAULT: [u8; 18] = [
    0x11, 0x03, 0x0f, 0x04, 0x02, 0x11, 0x09, 0x9f, 0xef, 0x0f, 0x90, 0xa1, 0x0f, 0xc4, 0xd0, 0x40,
    0x59, 0x00,
];
static REPORT: [u8; 49] = [
    0x30, 0x04, 0x10, 0x04, 0x02, 0xe8, 0x07, 0xc0, 0xc4, 0x07, 0x88, 0x27, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0x0d, 0x4a, 0x9c, 0xe5,
    0x00,
];

fn golden(name: &str) -> &'static [u8] {
    match name {
        "hello" => &HELLO,
        "hello_resume" => &HELLO_RESUME,
        "job_header" => &JOB_HEADER,
        "param_set" => &PARAM_SET,
        "layer_start" => &LAYER_START,
        "vector_block" => &VECTOR_BLOCK,
        "layer_end" => &LAYER_END,
        "job_end" => &JOB_END,
        "start" => &START,
        "pause" => &PAUSE,
        "resume" => &RESUME,
        "abort" => &ABORT,
        "status_request" => &STATUS_REQUEST,
        "ack" => &ACK,
        "nak" => &NAK,
        "status" => &STATUS,
        "fault" => &FAULT,
        "report" => &REPORT,
        _ => &[],
    }
}

#[test]
fn every_message_encodes_to_its_golden_bytes() {
    for (name, f) in samples() {
        let mut buf = [0u8; MAX_FRAME];
        let n = encode_frame(f.seq, &f.msg, &mut buf).unwrap();
        assert_eq!(&buf[..n], golden(name), "{name}");
    }
}

/// The golden frame `good` (delimiter included) decodes to `f`.
pub(super) fn assert_decodes_to(name: &str, good: &[u8], f: &Frame<'_>) {
    let mut wire = good.to_vec();
    wire.pop();
    assert_eq!(decode_frame(&mut wire).unwrap(), *f, "{name}");
}

/// Every single-bit flip of the golden frame `good` is rejected; a flip to 0x00 splits the
/// frame, and both halves must be rejected.
pub(super) fn assert_every_bit_flip_rejected(name: &str, good: &[u8]) {
    for i in 0..good.len() - 1 {
        for bit in 0..8 {
            let mut bad = good[..good.len() - 1].to_vec();
            bad[i] ^= 1 << bit;
            for part in bad.split_mut(|b| *b == 0) {
                if !part.is_empty() {
                    assert!(decode_frame(part).is_err(), "{name}: byte {i} bit {bit}");
                }
            }
        }
    }
}

#[test]
fn every_golden_frame_decodes_to_its_message() {
    for (name, f) in samples() {
        assert_decodes_to(name, golden(name), &f);
    }
}

#[test]
fn every_single_bit_flip_of_every_golden_frame_is_rejected() {
    for (name, _) in samples() {
        assert_every_bit_flip_rejected(name, golden(name));
    }
}

#[test]
fn encoding_into_a_short_buffer_is_an_error_not_a_panic() {
    for (name, f) in samples() {
        let need = golden(name).len();
        let mut buf = vec![0u8; need - 1];
        assert_eq!(
            encode_frame(f.seq, &f.msg, &mut buf),
            Err(FrameError::TooLarge),
            "{name}"
        );
    }
}

#[test]
fn a_sealed_body_unstuffs_to_itself_and_an_oversized_body_is_refused() {
    for body in [
        &b""[..],
        b"\x00\x00\x01",
        &[0xA5; 300][..],
        &[0u8; MAX_RAW - 4][..],
    ] {
        let mut frame = vec![0u8; MAX_FRAME];
        let n = seal_body(body, &mut frame).unwrap();
        assert_eq!(frame[n - 1], 0, "delimited");
        assert!(!frame[..n - 1].contains(&0), "stuffed");
        assert_eq!(unstuff_frame(&mut frame[..n - 1]).unwrap(), body);
    }
    let mut frame = vec![0u8; MAX_FRAME];
    assert_eq!(
        seal_body(&[1u8; MAX_RAW - 3], &mut frame),
        Err(FrameError::TooLarge)
    );
}

mod round_trip {
    use super::*;
    use proptest::prelude::*;

    fn rule() -> impl Strategy<Value = Rule> {
        prop::sample::select(vec![
            Rule::MachineMismatch,
            Rule::OutsideField,
            Rule::EnergyDensityOutsideWindow,
            Rule::LayerHashMismatch,
            Rule::RecoaterCollision,
            Rule::ProtocolOrder,
        ])
    }

    fn state() -> impl Strategy<Value = ControllerState> {
        prop::sample::select(vec![
            ControllerState::Idle,
            ControllerState::Loaded,
            ControllerState::Printing,
            ControllerState::Paused,
            ControllerState::Done,
            ControllerState::Faulted,
            ControllerState::Aborted,
        ])
    }

    fn check(seq: u32, msg: Msg<'_>) -> Result<(), TestCaseError> {
        let mut buf = [0u8; MAX_FRAME];
        let n = encode_frame(seq, &msg, &mut buf).unwrap();
        prop_assert!(n <= MAX_FRAME);
        prop_assert!(!buf[..n - 1].contains(&0));
        let mut wire = buf[..n - 1].to_vec();
        prop_assert_eq!(decode_frame(&mut wire).unwrap(), Frame { seq, msg });
        Ok(())
    }

    proptest! {
        #[test]
        fn param_sets_round_trip(seq in any::<u32>(), id in any::<u16>(), p in any::<u32>(), v in any::<u32>(),
                                 s in any::<u32>(), h in any::<u32>(), sky in any::<bool>()) {
            check(seq, Msg::ParamSet(ParamSet { id, power_mw: p, mark_speed_mm_s: v, spot_um: s, hatch_distance_um: h, skywriting: sky }))?;
        }

        #[test]
        fn faults_and_reports_round_trip(seq in any::<u32>(), l in any::<u32>(), b in any::<u32>(), v in any::<u32>(),
                                         r in rule(), val in any::<i64>(), lim in any::<i64>(), st in state(),
                                         ticks in any::<u64>(), hash in any::<[u8; 32]>()) {
            check(seq, Msg::Fault(Fault { layer: l, block: b, vector: v, rule: r, value: val, limit: lim }))?;
            check(seq, Msg::Report(Report { state: st, layers: l, vectors: ticks / 3, ticks, energy_mj: ticks / 7, executed_sha256: hash }))?;
            check(seq, Msg::Status(Status { state: st, layers_done: l, committed_seq: b, oxygen_ppm: v, window: l ^ b }))?;
        }

        #[test]
        fn headers_and_blocks_round_trip(seq in any::<u32>(), machine in "[a-zA-Z0-9-]{0,32}", material in "[a-zA-Z0-9-]{0,32}",
                                         q in any::<u32>(), t in any::<u32>(), n in any::<u32>(), hash in any::<Option<[u8; 32]>>(),
                                         data in proptest::collection::vec(any::<u8>(), 0..900), vectors in any::<u32>()) {
            check(seq, Msg::JobHeader(JobHeader { machine: &machine, material: &material, quantum_nm: q,
                layer_thickness_nm: t, layer_count: n, param_sets: 3, job_sha256: hash }))?;
            check(seq, Msg::VectorBlock(VectorBlock { param_set: 9, kind: VectorKind::Support, region: Region::Downskin,
                coding: Coding::Polylines, vectors, data: &data }))?;
        }
    }

    #[test]
    fn a_block_larger_than_a_frame_is_refused_by_the_encoder() {
        let data = vec![1u8; MAX_FRAME];
        let msg = Msg::VectorBlock(VectorBlock {
            param_set: 1,
            kind: VectorKind::Hatch,
            region: Region::Core,
            coding: Coding::Hatches,
            vectors: 1,
            data: &data,
        });
        assert_eq!(
            encode_frame(0, &msg, &mut [0u8; 4 * MAX_FRAME]),
            Err(FrameError::TooLarge)
        );
        let max = vec![0xffu8; MAX_BLOCK_DATA];
        let msg = Msg::VectorBlock(VectorBlock {
            param_set: u16::MAX,
            kind: VectorKind::Hatch,
            region: Region::Core,
            coding: Coding::Hatches,
            vectors: u32::MAX,
            data: &max,
        });
        assert!(encode_frame(u32::MAX, &msg, &mut [0u8; MAX_FRAME]).unwrap() <= MAX_FRAME);
    }
}
