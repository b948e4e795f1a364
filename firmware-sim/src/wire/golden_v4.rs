//! Golden bytes of the version-4 messages (plates: the part table, blocks naming their part,
//! part reports and the operator's part skip), beside their values. A change here is a
//! protocol change.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::golden::{assert_decodes_to, assert_every_bit_flip_rejected};
use super::golden_v3::wrong_encodings;
use super::*;

fn samples() -> Vec<(&'static str, Frame<'static>)> {
    static DATA: [u8; 4] = [0x01, 0x02, 0x00, 0x7f];
    let m = |seq, msg| Frame { seq, msg };
    vec![
        (
            "part",
            m(
                3,
                Msg::Part(Part {
                    index: 1,
                    serial: "C-000123",
                    case: "case-0042",
                    x: -40_000,
                    y: 25_000,
                    rotation_mdeg: 15_000,
                    footprint: [-52_000, 19_000, -28_000, 31_000],
                }),
            ),
        ),
        (
            "part_block",
            m(
                7,
                Msg::PartBlock(PartBlock {
                    part: 1,
                    block: VectorBlock {
                        param_set: 2,
                        kind: VectorKind::Hatch,
                        region: Region::Lattice,
                        coding: Coding::Hatches,
                        vectors: 1,
                        data: &DATA,
                    },
                }),
            ),
        ),
        (
            "part_report_built",
            m(
                12,
                Msg::PartReport(PartReport {
                    part: 0,
                    state: PartState::Built,
                    vectors: 40_000,
                    energy_mj: 12_345,
                    mark_ticks: 987_654,
                    executed_sha256: [0xab; 32],
                }),
            ),
        ),
        (
            "part_report_skipped",
            m(
                13,
                Msg::PartReport(PartReport {
                    part: 2,
                    state: PartState::Skipped {
                        layer: 117,
                        rule: Rule::RecoaterCollision,
                    },
                    vectors: 9_000,
                    energy_mj: 2_000,
                    mark_ticks: 100_000,
                    executed_sha256: [0xcd; 32],
                }),
            ),
        ),
        ("skip_part", m(0, Msg::SkipPart(SkipPart { part: 5 }))),
        (
            "fault_outside_part",
            m(
                5,
                Msg::Fault(Fault {
                    layer: 40,
                    block: 3,
                    vector: 12,
                    rule: Rule::OutsidePart,
                    value: 9_100,
                    limit: 1_000,
                }),
            ),
        ),
    ]
}

static PART: [u8; 49] = [
    0x30, 0x03, 0x16, 0x01, 0x08, 0x43, 0x2d, 0x30, 0x30, 0x30, 0x31, 0x32, 0x33, 0x09, 0x63, 0x61,
    0x73, 0x65, 0x2d, 0x30, 0x30, 0x34, 0x32, 0xff, 0xf0, 0x04, 0xd0, 0x86, 0x03, 0xb0, 0xea, 0x01,
    0xbf, 0xac, 0x06, 0xf0, 0xa8, 0x02, 0xbf, 0xb5, 0x03, 0xb0, 0xe4, 0x03, 0xcd, 0xde, 0x58, 0x84,
    0x00,
];
static PART_BLOCK: [u8; 19] = [
    0x0c, 0x07, 0x17, 0x01, 0x02, 0x01, 0x04, 0x01, 0x01, 0x04, 0x01, 0x02, 0x06, 0x7f, 0x9a, 0xf0,
    0xe4, 0xbf, 0x00,
];
static PART_REPORT_BUILT: [u8; 50] = [
    0x03, 0x0c, 0x18, 0x01, 0x2d, 0xc0, 0xb8, 0x02, 0xb9, 0x60, 0x86, 0xa4, 0x3c, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0x6c, 0xe4, 0x30,
    0x7a, 0x00,
];
static PART_REPORT_SKIPPED: [u8; 51] = [
    0x32, 0x0d, 0x18, 0x02, 0x01, 0x75, 0x12, 0xa8, 0x46, 0xd0, 0x0f, 0xa0, 0x8d, 0x06, 0xcd, 0xcd,
    0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd,
    0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0x3b, 0xe9,
    0x1b, 0xaf, 0x00,
];
static SKIP_PART: [u8; 9] = [0x01, 0x07, 0x19, 0x05, 0x85, 0x84, 0x2b, 0x14, 0x00];
static FAULT_OUTSIDE_PART: [u8; 17] = [
    0x10, 0x05, 0x0f, 0x28, 0x03, 0x0c, 0x1d, 0x98, 0x8e, 0x01, 0xd0, 0x0f, 0x2a, 0x05, 0x20, 0xd8,
    0x00,
];

fn golden(name: &str) -> &'static [u8] {
    match name {
        "part" => &PART,
        "part_block" => &PART_BLOCK,
        "part_report_built" => &PART_REPORT_BUILT,
        "part_report_skipped" => &PART_REPORT_SKIPPED,
        "skip_part" => &SKIP_PART,
        "fault_outside_part" => &FAULT_OUTSIDE_PART,
        _ => &[],
    }
}

#[test]
fn every_version_4_message_encodes_to_its_golden_bytes() {
    let wrong = wrong_encodings(&samples(), golden);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_version_4_golden_frame_decodes_to_its_message() {
    for (name, f) in samples() {
        assert_decodes_to(name, golden(name), &f);
    }
}

#[test]
fn every_single_bit_flip_of_a_version_4_golden_frame_is_rejected() {
    for (name, _) in samples() {
        assert_every_bit_flip_rejected(name, golden(name));
    }
}
