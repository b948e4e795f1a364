//! Golden bytes of the version-5 messages (lasers: blocks naming the laser that exposes them,
//! with and without a part, and the faults of the laser rules), beside their values. A change
//! here is a protocol change.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::golden::{assert_decodes_to, assert_every_bit_flip_rejected};
use super::golden_v3::wrong_encodings;
use super::*;

fn samples() -> Vec<(&'static str, Frame<'static>)> {
    static DATA: [u8; 4] = [0x01, 0x02, 0x00, 0x7f];
    let m = |seq, msg| Frame { seq, msg };
    let block = VectorBlock {
        param_set: 2,
        kind: VectorKind::Hatch,
        region: Region::Lattice,
        coding: Coding::Hatches,
        vectors: 1,
        data: &DATA,
    };
    vec![
        (
            "laser_block_plate",
            m(
                9,
                Msg::LaserBlock(LaserBlock {
                    laser: 3,
                    part: Some(1),
                    block,
                }),
            ),
        ),
        (
            "laser_block",
            m(
                10,
                Msg::LaserBlock(LaserBlock {
                    laser: 1,
                    part: None,
                    block,
                }),
            ),
        ),
        (
            "fault_outside_laser_field",
            m(
                6,
                Msg::Fault(Fault {
                    layer: 40,
                    block: 3,
                    vector: 12,
                    rule: Rule::OutsideLaserField,
                    value: 24_941,
                    limit: 24_940,
                }),
            ),
        ),
        (
            "fault_laser_form",
            m(
                7,
                Msg::Fault(Fault {
                    layer: 2,
                    block: 0,
                    vector: u32::MAX,
                    rule: Rule::LaserForm,
                    value: 4,
                    limit: 4,
                }),
            ),
        ),
    ]
}

// COBS code, seq 9, tag 26, laser 3, Some, part 1, then the block as in `PartBlock`.
static LASER_BLOCK_PLATE: [u8; 21] = [
    0x0e, 0x09, 0x1a, 0x03, 0x01, 0x01, 0x02, 0x01, 0x04, 0x01, 0x01, 0x04, 0x01, 0x02, 0x06, 0x7f,
    0xed, 0x66, 0x28, 0x86, 0x00,
];
static LASER_BLOCK: [u8; 20] = [
    0x04, 0x0a, 0x1a, 0x01, 0x09, 0x02, 0x01, 0x04, 0x01, 0x01, 0x04, 0x01, 0x02, 0x06, 0x7f, 0x3c,
    0x44, 0x9c, 0x62, 0x00,
];
static FAULT_OUTSIDE_LASER_FIELD: [u8; 18] = [
    0x11, 0x06, 0x0f, 0x28, 0x03, 0x0c, 0x20, 0xda, 0x85, 0x03, 0xd8, 0x85, 0x03, 0x02, 0x32, 0x74,
    0x7e, 0x00,
];
static FAULT_LASER_FORM: [u8; 18] = [
    0x04, 0x07, 0x0f, 0x02, 0x0d, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x1f, 0x08, 0x08, 0xac, 0xdd, 0x86,
    0x8b, 0x00,
];

fn golden(name: &str) -> &'static [u8] {
    match name {
        "laser_block_plate" => &LASER_BLOCK_PLATE,
        "laser_block" => &LASER_BLOCK,
        "fault_outside_laser_field" => &FAULT_OUTSIDE_LASER_FIELD,
        "fault_laser_form" => &FAULT_LASER_FORM,
        _ => &[],
    }
}

#[test]
fn every_version_5_message_encodes_to_its_golden_bytes() {
    let wrong = wrong_encodings(&samples(), golden);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_version_5_golden_frame_decodes_to_its_message() {
    for (name, f) in samples() {
        assert_decodes_to(name, golden(name), &f);
    }
}

#[test]
fn every_single_bit_flip_of_a_version_5_golden_frame_is_rejected() {
    for (name, _) in samples() {
        assert_every_bit_flip_rejected(name, golden(name));
    }
}
