//! `VectorBlock`: a run of scan vectors sharing a parameter set, coded as integers.
//!
//! The payload (`data`) is borrowed from the frame buffer and decoded lazily by
//! [`VectorBlock::segments`], so a controller never allocates. Three codings:
//!
//! * **Polylines** (contours, edges, support walls). Per polyline: `uvar(points << 1 | closed)`,
//!   then the first point as a Morton pair `(dx, dy)` from the cursor (the last point of the
//!   previous polyline, `(0, 0)` at the start of the block), then each further point as the
//!   second difference `Δᵢ − Δᵢ₋₁` (pair), which is near zero along smooth curves. A polyline of
//!   `n` points gives `n − 1` segments, `n` when closed.
//! * **Hatches** (parallel lines). Header: `uvar(flags)` (bit 0: meander, bit 1: linear length
//!   prediction, bit 2: linear jump prediction; the encoder tries all eight), then the reference
//!   direction `(dx, dy)` as a pair. Coordinates are taken in the sheared frame of that
//!   direction: `p` = the dominant axis, `q = minor − round(p·d_minor / d_major)`, so every
//!   hatch is (nearly) a line of constant `q`. Per hatch two pairs:
//!   `(Δq − Δq_prev, q_end − q_start)` — zero for equally spaced, exactly parallel hatches —
//!   and `(jump − jump_pred, len − len_pred)` where `jump = p_start − p_end_prev`,
//!   `len = p_end − p_start`. Predictions: the jump of the previous hatch on the same side
//!   (two back when meandering, one back otherwise), or its linear extrapolation
//!   `2·j₋ₛ − j₋₂ₛ`; the previous length (negated when meandering), or its linear
//!   extrapolation. Equally spaced meander hatches across a rectangle cost 2 bytes each; the
//!   linear modes follow boundaries slanted to the hatch direction.
//!
//!   **Line mode** (flag bit 3, protocol 2; bit 0 then means meander, bit 1 linear, bit 2 must
//!   be 0): for scan lines cut into several pieces by holes, scanned line by line as build
//!   processors do. Per hatch two pairs: `(Δq − Δq_pred, 2·(q_end − q_start) + flip)` and
//!   `(lo − lo_pred, hi − hi_pred)`, where `lo ≤ hi` are the hatch's ends along `p` and `flip`
//!   says it runs against the expected direction (that of the previous hatch; reversed on a
//!   new line when meandering). A hatch whose `|Δq|` exceeds half the line spacing (and 1) opens a
//!   new line (`Δq_pred` = the spacing, set by the first line change and then following the
//!   line-to-line step except for a lone outlier; 0 while the previous line had more pieces than the
//!   current one has). Piece `k` of a line is predicted from piece `k` of the previous line
//!   (piece `n − 1 − k` when meandering, since the meander reverses the order of the pieces):
//!   its `lo`, `hi`, plus in linear mode their change from the line before. The first
//!   [`LINE_PIECES`] pieces of a line are remembered; a piece without one to follow is
//!   predicted at the scanner's position.
//! * **Points**: each point as a pair delta from the previous one; a point is a zero-length mark.
//!
//! Coordinates are checked: malformed payloads decode to an error, never a panic; predictions
//! wrap in i64 identically on both sides.

use serde::{Deserialize, Serialize};

use super::CodecError;

// The code: the decoder, the encoders, and what the hatch coders share.
mod decode;
mod encode;
mod hatch;

pub use decode::Segments;
pub use encode::{Encoded, Polyline, encode_hatches, encode_points, encode_polylines};
pub use hatch::LINE_PIECES;

/// What the vectors are, for the machine and for the reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum VectorKind {
    /// Closed boundary of a cross-section (defines the intended area).
    Contour = 0,
    /// Fill lines.
    Hatch = 1,
    /// Open boundary or edge line.
    Edge = 2,
    /// Support structure.
    Support = 3,
    /// Point exposures.
    Point = 4,
}

/// Region of the part the vectors belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum Region {
    /// Bulk interior.
    Core = 0,
    /// Skin under powder above (top surfaces).
    Upskin = 1,
    /// Skin over powder below (overhangs).
    Downskin = 2,
    /// Support structure.
    Support = 3,
    /// Lattice (porous) region.
    Lattice = 4,
}

/// How `data` is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum Coding {
    /// Polylines, second-difference coded.
    Polylines = 0,
    /// Parallel hatches, predicted in the sheared frame.
    Hatches = 1,
    /// Points, delta coded.
    Points = 2,
}

/// A point in job quanta.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Point {
    /// x in quanta.
    pub x: i32,
    /// y in quanta.
    pub y: i32,
}

impl Point {
    /// A point from quanta.
    pub const fn new(x: i32, y: i32) -> Self {
        Self { x, y }
    }

    fn from_i64(x: i64, y: i64) -> Result<Self, CodecError> {
        Ok(Self {
            x: i32::try_from(x).map_err(|_| CodecError::CoordinateRange)?,
            y: i32::try_from(y).map_err(|_| CodecError::CoordinateRange)?,
        })
    }
}

/// One mark from `from` to `to`; `chained` when it continues the previous mark without a jump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Start of the mark.
    pub from: Point,
    /// End of the mark.
    pub to: Point,
    /// Continues the previous segment of the same polyline (polygon delay, no jump).
    pub chained: bool,
}

/// A block of vectors as it travels in a frame; `data` borrows the frame buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VectorBlock<'a> {
    /// Parameter set id.
    pub param_set: u16,
    /// What the vectors are.
    pub kind: VectorKind,
    /// Region they belong to.
    pub region: Region,
    /// Payload layout.
    pub coding: Coding,
    /// Number of segments the payload decodes to.
    pub vectors: u32,
    /// Coded payload.
    #[serde(borrow)]
    pub data: &'a [u8],
}

impl<'a> VectorBlock<'a> {
    /// Lazily decodes the block's segments; the iterator ends after `vectors` items and then
    /// checks that the payload is used up exactly.
    pub fn segments(&self) -> Segments<'a> {
        Segments::new(self)
    }
}

/// Checked coordinate addition (decoder and sheared frame): overflow is a range error.
fn add(a: i64, b: i64) -> Result<i64, CodecError> {
    a.checked_add(b).ok_or(CodecError::CoordinateRange)
}

/// Checked coordinate subtraction, as [`add`].
fn sub(a: i64, b: i64) -> Result<i64, CodecError> {
    a.checked_sub(b).ok_or(CodecError::CoordinateRange)
}

#[cfg(test)]
mod tests;
