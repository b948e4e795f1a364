//! The meltline wire protocol — this module's documentation is its specification.
//!
//! # Frames
//!
//! ```text
//! frame on the wire = COBS( postcard(Frame { seq: u32, msg: Msg }) ‖ CRC-32(LE) ) ‖ 0x00
//! ```
//!
//! * `postcard` 1.x: unsigned integers as LEB128 varints, signed ones zigzagged, enums as a
//!   varint variant index, `&str`/`&[u8]` as varint length + bytes, `Option` as 0/1 + value,
//!   `[u8; 32]` as 32 raw bytes, `bool` as one byte.
//! * CRC-32 is CRC-32/ISO-HDLC (the zlib/Ethernet CRC) of the postcard bytes, appended little
//!   endian.
//! * COBS removes every `0x00`; a single `0x00` ends a frame. A frame, delimiter included, is at
//!   most [`MAX_FRAME`] bytes, so a receiver decodes into one fixed buffer.
//! * `seq` starts at 0 for the first frame a host sends and increases by one per job frame
//!   (`JobHeader` … `JobEnd`); the controller numbers its replies independently. `Hello` and the
//!   operator commands (`Start`, `Pause`, `Resume`, `Abort`, `StatusRequest`) are out of band:
//!   their `seq` is ignored and they never consume a sequence number; each is answered at once
//!   (`Hello` + `Ack`, or a `Status`, or `Nak(Unexpected)` when not allowed in the state). A `.mlj` job file is exactly the frame stream
//!   a host sends for the job (`JobHeader` with `seq` 0 … `JobEnd`), so a job on disk and a job on
//!   the wire are the same bytes.
//!
//! # Messages (`Msg` variant index = first byte after `seq`)
//!
//! | idx | message | direction | module |
//! |---|---|---|---|
//! | 0 | `Hello` | both | [`job`] |
//! | 1 | `JobHeader` | host → ctl | [`job`] |
//! | 2 | `ParamSet` | host → ctl | [`job`] |
//! | 3 | `LayerStart` | host → ctl | [`job`] |
//! | 4 | `VectorBlock` | host → ctl | [`vector`] |
//! | 5 | `LayerEnd` | host → ctl | [`job`] |
//! | 6 | `JobEnd` | host → ctl | [`job`] |
//! | 7–11 | `Start`, `Pause`, `Resume`, `Abort`, `StatusRequest` | host → ctl | (unit) |
//! | 12 | `Ack` | ctl → host | [`control`] |
//! | 13 | `Nak` | ctl → host | [`control`] |
//! | 14 | `Status` | ctl → host | [`control`] |
//! | 15 | `Fault` | ctl → host | [`control`] |
//! | 16 | `Report` | ctl → host | [`control`] |
//! | 17 | `Release` | host → ctl | [`release`] |
//! | 18 | `LayerLink` | host → ctl | [`release`] |
//! | 19 | `AuthHello` | host → ctl | [`session`] |
//! | 20 | `AuthChallenge` | ctl → host | [`session`] |
//! | 21 | `AuthProof` | host → ctl | [`session`] |
//! | 22 | `Part` | host → ctl | [`part`] |
//! | 23 | `PartBlock` | host → ctl | [`part`] |
//! | 24 | `PartReport` | ctl → host | [`part`] |
//! | 25 | `SkipPart` | host → ctl | [`part`] |
//! | 26 | `LaserBlock` | host → ctl | [`laser`] |
//!
//! A job is `JobHeader`, its `ParamSet`s, then per layer `LayerStart`, its `VectorBlock`s,
//! `LayerEnd`, and finally `JobEnd`. Hashes are defined in [`digest`]. A released job has a
//! `Release` right after the `JobHeader` and a `LayerLink` before every `LayerEnd`; both are
//! job frames (they take sequence numbers) and are ignored by a controller without trusted
//! keys, so a released job runs everywhere and an unreleased one where no keys are configured.
//! The `Auth*` messages are out of band like `Hello`. A plate job declares its parts after the
//! `ParamSet`s (`Part`, indices in order) and sends every block as a `PartBlock` naming its part;
//! the controller follows its `Report` with one `PartReport` per part.
//!
//! # Versions
//!
//! * 1 — the messages above.
//! * 2 — `Hello` gains `resume: Option<ResumePoint>` (last field): a controller that lost power
//!   mid-job advertises the job hash and the next layer from its non-volatile record
//!   ([`crate::nvm`]).
//! * 3 — release and link authentication: messages 17–21; `Rule` gains the release rules and
//!   `NakReason` gains `Unauthenticated` (appended, so earlier encodings are unchanged);
//!   [`MAX_BLOCK_DATA`] shrinks by [`SESSION_TRAILER`] so every job frame fits an authenticated
//!   session. In a session every frame body (`postcard(Frame)`) is followed by a little-endian
//!   `u32` counter and the first 16 bytes of HMAC-SHA-256 under the session key, before the
//!   CRC: `COBS(body ‖ counter ‖ mac ‖ CRC-32) ‖ 0x00` (see [`crate::auth`]).
//! * 4 — plates: messages 22–24 ([`part`]); `Rule` gains `PartTable` and `OutsidePart`
//!   and `OperatorSkip` (appended); `SkipPart` (25) is an out-of-band operator command like
//!   `Pause`. A job without a part table encodes and hashes exactly as in version 3.
//! * 5 — lasers: message 26 `LaserBlock` ([`laser`]) names the laser exposing a block (and its
//!   part); `Rule` gains `LaserForm` and `OutsideLaserField` (appended). A job planned for
//!   several lasers sends `LaserBlock`s only; one without encodes and hashes exactly as in
//!   version 4.
//!
//! # Resuming after a power loss
//!
//! A restarted controller expects sequence number 0 again (its `Ack` after `Hello` says
//! `up_to_seq = u32::MAX`) and advertises `Hello::resume`. A host continuing that job sends,
//! numbered from 0, the `JobHeader` announcing the job hash (`job_sha256: Some`), the
//! `ParamSet`s, then the layers from `resume.next_layer` and `JobEnd`. The controller
//! checks that header and parameter sets hash as those of the interrupted job
//! (`Rule::ResumeMismatch`), restores its executed-hash state, and reports at the end the
//! executed hash of the whole job. Layers before `next_layer`, if sent (a host unaware of
//! resuming streams the whole job), are checked against their `LayerEnd` and skipped, never
//! exposed. Only jobs whose header announces their hash are recorded.
//!
//! # Link rules (as Klipper's host↔MCU protocol)
//!
//! * A frame with a bad COBS code, a CRC mismatch, more than `MAX_FRAME` bytes or an
//!   undecodable message is dropped and answered `Nak { seq: expected, reason }`.
//! * A frame with `seq` below the expected one is a duplicate: dropped and re-acknowledged.
//!   One above is out of order (a frame was lost): dropped, `Nak { seq: expected, OutOfOrder }`.
//!   The host then resends from `expected` (go-back-N).
//! * Every accepted frame is answered `Ack { up_to_seq, window }`; `window` is how many bytes of
//!   encoded frames the controller can still buffer. The host keeps its unacknowledged bytes
//!   within the last window; a layer that does not fit the arena is refused at `LayerStart`.
//!
//! # Example
//!
//! ```
//! use meltline_firmware::wire::{decode_frame, encode_frame, Frame, Msg, Ack, MAX_FRAME};
//! let mut buf = [0u8; MAX_FRAME];
//! let n = encode_frame(7, &Msg::Ack(Ack { up_to_seq: 6, window: 4096 }), &mut buf).unwrap();
//! assert_eq!(&buf[..n], &[0x0a, 0x07, 0x0c, 0x06, 0x80, 0x20, 0x84, 0x50, 0xb4, 0x3a, 0x00]);
//! let frame = decode_frame(&mut buf[..n - 1]).unwrap();
//! assert_eq!(frame, Frame { seq: 7, msg: Msg::Ack(Ack { up_to_seq: 6, window: 4096 }) });
//! ```

pub mod control;
pub mod digest;
pub mod job;
pub mod laser;
pub mod part;
pub mod release;
pub mod session;
pub(crate) mod varint;
pub mod vector;
pub mod verify;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod golden_v3;
#[cfg(test)]
mod golden_v4;
#[cfg(test)]
mod golden_v5;

pub use control::{Ack, ControllerState, Fault, Nak, NakReason, Report, Rule, Status};
pub use job::{
    Hello, JobEnd, JobHeader, LayerEnd, LayerStart, PROTOCOL_VERSION, ParamSet, ResumePoint,
};
pub use laser::{BlockForm, LaserBlock, MixedLaserForm};
pub use part::{MAX_PARTS, Part, PartBlock, PartReport, PartState, PartTable, SkipPart};
pub use release::{LayerLink, Release};
pub use session::{AuthChallenge, AuthHello, AuthProof};
pub use vector::{Coding, Point, Region, Segment, VectorBlock, VectorKind};

use serde::{Deserialize, Serialize};

/// Largest frame on the wire, delimiter included.
pub const MAX_FRAME: usize = 1024;

/// Largest un-stuffed frame (postcard bytes + CRC) that always fits in [`MAX_FRAME`] after COBS.
pub const MAX_RAW: usize = MAX_FRAME - 1 - MAX_FRAME.div_ceil(254);

/// Bytes an authenticated session adds to every frame body: a 4-byte counter and a 16-byte MAC
/// (see [`crate::auth`]).
pub const SESSION_TRAILER: usize = 20;

/// Largest `VectorBlock::data` that always fits a frame (header fields take ≤ 24 bytes), with
/// room for the session trailer so a job file streams over an authenticated link unchanged.
pub const MAX_BLOCK_DATA: usize = MAX_RAW - 32 - SESSION_TRAILER;

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// One frame: sequence number and message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame<'a> {
    /// Sender's sequence number.
    pub seq: u32,
    /// The message.
    #[serde(borrow)]
    pub msg: Msg<'a>,
}

/// Every message of the protocol; the variant index is the wire tag (see the table above).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg<'a> {
    /// Introduction with version and capacities.
    #[serde(borrow)]
    Hello(Hello<'a>),
    /// Opens a job.
    #[serde(borrow)]
    JobHeader(JobHeader<'a>),
    /// A laser parameter set.
    ParamSet(ParamSet),
    /// Opens a layer.
    LayerStart(LayerStart),
    /// A block of vectors.
    #[serde(borrow)]
    VectorBlock(VectorBlock<'a>),
    /// Closes a layer with its digest.
    LayerEnd(LayerEnd),
    /// Closes the job with its hash.
    JobEnd(JobEnd),
    /// Begin executing verified layers.
    Start,
    /// Pause after the current layer.
    Pause,
    /// Resume a paused build.
    Resume,
    /// Abort the job.
    Abort,
    /// Ask for a `Status`.
    StatusRequest,
    /// Acknowledgement with window.
    Ack(Ack),
    /// Negative acknowledgement.
    Nak(Nak),
    /// Controller status.
    Status(Status),
    /// A verification or machine fault.
    Fault(Fault),
    /// End-of-job report.
    Report(Report),
    /// A signed release of the job (after the header).
    #[serde(borrow)]
    Release(Release<'a>),
    /// A layer's proof against the release (before its `LayerEnd`).
    LayerLink(LayerLink),
    /// Opens the link handshake.
    AuthHello(AuthHello),
    /// The controller's challenge and proof.
    AuthChallenge(AuthChallenge),
    /// The host's proof.
    AuthProof(AuthProof),
    /// A part of the plate (after the parameter sets).
    #[serde(borrow)]
    Part(Part<'a>),
    /// A block of vectors naming its part.
    #[serde(borrow)]
    PartBlock(PartBlock<'a>),
    /// The controller's account of one part (after the `Report`).
    PartReport(PartReport),
    /// The operator excludes one part from the layers not yet executed.
    SkipPart(SkipPart),
    /// A block of vectors naming the laser that exposes it (and its part).
    #[serde(borrow)]
    LaserBlock(LaserBlock<'a>),
}

impl<'a> Msg<'a> {
    /// The vector block this message carries and the part it names (`None` for a
    /// `VectorBlock`); `None` for every other message.
    pub fn block(&self) -> Option<(Option<u16>, &VectorBlock<'a>)> {
        match self {
            Msg::VectorBlock(b) => Some((None, b)),
            Msg::PartBlock(p) => Some((Some(p.part), &p.block)),
            Msg::LaserBlock(l) => Some((l.part, &l.block)),
            _ => None,
        }
    }

    /// The laser a `LaserBlock` names; `None` for every other message.
    pub fn laser(&self) -> Option<u8> {
        match self {
            Msg::LaserBlock(l) => Some(l.laser),
            _ => None,
        }
    }
}

/// Errors of the vector payload codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The output slice is too small.
    #[error("output buffer too small")]
    BufferTooSmall,
    /// The payload ended inside a value.
    #[error("payload truncated")]
    Truncated,
    /// A varint runs past 128 bits.
    #[error("varint overflows")]
    VarintOverflow,
    /// A coordinate leaves the i32 range or arithmetic overflows.
    #[error("coordinate out of range")]
    CoordinateRange,
    /// Structure not allowed (polyline under 2 points, zero hatch direction, empty input).
    #[error("malformed vector payload")]
    Malformed,
    /// The payload holds more or fewer vectors than the block declares.
    #[error("vector count differs from the block header")]
    CountMismatch,
}

/// Errors of frame encoding and decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The message does not fit the output buffer or `MAX_FRAME`.
    #[error("frame does not fit the buffer (max {MAX_FRAME} bytes)")]
    TooLarge,
    /// COBS decoding failed.
    #[error("COBS framing broken")]
    Framing,
    /// Fewer bytes than a CRC.
    #[error("frame shorter than its CRC")]
    Short,
    /// CRC mismatch.
    #[error("CRC-32 mismatch: frame says {expected:#010x}, content gives {actual:#010x}")]
    Crc {
        /// CRC carried by the frame.
        expected: u32,
        /// CRC computed over the content.
        actual: u32,
    },
    /// postcard could not decode the message, or bytes were left over.
    #[error("message does not decode")]
    Malformed,
}

impl FrameError {
    /// The `Nak` reason for this error.
    pub fn nak_reason(self) -> NakReason {
        match self {
            FrameError::TooLarge => NakReason::Oversize,
            FrameError::Framing | FrameError::Short => NakReason::Framing,
            FrameError::Crc { .. } => NakReason::Crc,
            FrameError::Malformed => NakReason::Malformed,
        }
    }
}

/// Encodes `msg` as a complete frame (delimiter included) into `out`; returns its length.
pub fn encode_frame(seq: u32, msg: &Msg<'_>, out: &mut [u8]) -> Result<usize, FrameError> {
    let mut raw = [0u8; MAX_RAW];
    let body = postcard::to_slice(&Frame { seq, msg: *msg }, &mut raw)
        .map_err(|_| FrameError::TooLarge)?
        .len();
    seal_body(raw.get(..body).ok_or(FrameError::TooLarge)?, out)
}

/// Frames an already serialised body: appends its CRC-32, COBS-stuffs it and adds the
/// delimiter into `out`; returns the frame's length. The receiver's counterpart is
/// [`unstuff_frame`]. (Fuzzing uses it to reach the message decoders past the CRC.)
pub fn seal_body(body: &[u8], out: &mut [u8]) -> Result<usize, FrameError> {
    let mut raw = [0u8; MAX_RAW];
    let n = body.len();
    raw.get_mut(..n)
        .ok_or(FrameError::TooLarge)?
        .copy_from_slice(body);
    let crc = CRC32.checksum(body);
    raw.get_mut(n..n + 4)
        .ok_or(FrameError::TooLarge)?
        .copy_from_slice(&crc.to_le_bytes());
    let src = raw.get(..n + 4).ok_or(FrameError::TooLarge)?;
    let limit = out.len().min(MAX_FRAME);
    let dst = out.get_mut(..limit).ok_or(FrameError::TooLarge)?;
    let len = cobs::try_encode(src, dst).map_err(|_| FrameError::TooLarge)?;
    *dst.get_mut(len).ok_or(FrameError::TooLarge)? = 0;
    Ok(len + 1)
}

/// Decodes one COBS-stuffed frame (delimiter excluded) in place and checks its CRC.
/// The returned frame borrows `buf`.
pub fn decode_frame(buf: &mut [u8]) -> Result<Frame<'_>, FrameError> {
    parse_body(unstuff_frame(buf)?)
}

/// First half of [`decode_frame`]: undoes COBS in place and checks the CRC; returns the
/// postcard body (CRC stripped).
pub fn unstuff_frame(buf: &mut [u8]) -> Result<&[u8], FrameError> {
    if buf.len() >= MAX_FRAME {
        return Err(FrameError::TooLarge);
    }
    let n = cobs::decode_in_place(buf).map_err(|_| FrameError::Framing)?;
    let raw = buf.get(..n).ok_or(FrameError::Framing)?;
    let split = n.checked_sub(4).ok_or(FrameError::Short)?;
    let (body, tail) = raw.split_at_checked(split).ok_or(FrameError::Short)?;
    let expected = u32::from_le_bytes(tail.try_into().map_err(|_| FrameError::Short)?);
    let actual = CRC32.checksum(body);
    if expected != actual {
        return Err(FrameError::Crc { expected, actual });
    }
    Ok(body)
}

/// Second half of [`decode_frame`]: parses a CRC-checked postcard body; all bytes must be used.
pub fn parse_body(body: &[u8]) -> Result<Frame<'_>, FrameError> {
    match postcard::take_from_bytes::<Frame<'_>>(body) {
        Ok((frame, [])) => Ok(frame),
        _ => Err(FrameError::Malformed),
    }
}
