//! The arena record format: every verified block is copied into the layer arena behind a
//! hand-packed 16-byte header (`param_set` u16, `kind` u8, `region` u8, `coding` u8,
//! `vectors` u32, `len` u32, `part` u16 — `0xffff` for a block of a job without parts —,
//! `laser` u8 — `0xff` for a block naming none —, all little-endian), followed by its `len`
//! coded bytes.

use crate::wire::{Coding, Region, VectorBlock, VectorKind};

/// Bytes of arena bookkeeping per block.
pub const BLOCK_HEADER: usize = 16;

/// The `part` field of a block that names none.
const NO_PART: u16 = u16::MAX;

/// The `laser` field of a block that names none.
const NO_LASER: u8 = u8::MAX;

/// One block record of the arena: the laser and part it names, and the block.
pub(super) struct Record<'a> {
    /// The laser a `LaserBlock` named.
    pub laser: Option<u8>,
    /// The part it belongs to.
    pub part: Option<u16>,
    /// The vectors.
    pub block: VectorBlock<'a>,
    /// Bytes of the record, header included.
    pub len: usize,
}

fn kind_from(b: u8) -> Option<VectorKind> {
    [
        VectorKind::Contour,
        VectorKind::Hatch,
        VectorKind::Edge,
        VectorKind::Support,
        VectorKind::Point,
    ]
    .into_iter()
    .find(|k| *k as u8 == b)
}

fn region_from(b: u8) -> Option<Region> {
    [
        Region::Core,
        Region::Upskin,
        Region::Downskin,
        Region::Support,
        Region::Lattice,
    ]
    .into_iter()
    .find(|k| *k as u8 == b)
}

fn coding_from(b: u8) -> Option<Coding> {
    [Coding::Polylines, Coding::Hatches, Coding::Points]
        .into_iter()
        .find(|k| *k as u8 == b)
}

/// Parses one arena block record; `None` only if the arena were corrupted.
pub(super) fn parse_record(bytes: &[u8]) -> Option<Record<'_>> {
    let h = bytes.get(..BLOCK_HEADER)?;
    let u32_at =
        |i: usize| -> Option<u32> { Some(u32::from_le_bytes(h.get(i..i + 4)?.try_into().ok()?)) };
    let len = usize::try_from(u32_at(9)?).ok()?;
    let data = bytes.get(BLOCK_HEADER..BLOCK_HEADER + len)?;
    let block = VectorBlock {
        param_set: u16::from_le_bytes(h.get(0..2)?.try_into().ok()?),
        kind: kind_from(*h.get(2)?)?,
        region: region_from(*h.get(3)?)?,
        coding: coding_from(*h.get(4)?)?,
        vectors: u32_at(5)?,
        data,
    };
    let part = u16::from_le_bytes(h.get(13..15)?.try_into().ok()?);
    let part = (part != NO_PART).then_some(part);
    let laser = *h.get(15)?;
    Some(Record {
        laser: (laser != NO_LASER).then_some(laser),
        part,
        block,
        len: BLOCK_HEADER + len,
    })
}

/// Writes `b` of `part`, exposed by `laser`, as one record into `slot`, which is exactly
/// `BLOCK_HEADER + b.data.len()` bytes.
pub(super) fn write_record(
    slot: &mut [u8],
    laser: Option<u8>,
    part: Option<u16>,
    b: &VectorBlock<'_>,
) {
    let len = u32::try_from(b.data.len()).unwrap_or(u32::MAX);
    let (head, data) = slot.split_at_mut(BLOCK_HEADER);
    let mut header = [0u8; BLOCK_HEADER];
    let [p0, p1] = b.param_set.to_le_bytes();
    let [v0, v1, v2, v3] = b.vectors.to_le_bytes();
    let [l0, l1, l2, l3] = len.to_le_bytes();
    let [q0, q1] = part.unwrap_or(NO_PART).to_le_bytes();
    header.copy_from_slice(&[
        p0,
        p1,
        b.kind as u8,
        b.region as u8,
        b.coding as u8,
        v0,
        v1,
        v2,
        v3,
        l0,
        l1,
        l2,
        l3,
        q0,
        q1,
        laser.unwrap_or(NO_LASER),
    ]);
    head.copy_from_slice(&header);
    data.copy_from_slice(b.data);
}
