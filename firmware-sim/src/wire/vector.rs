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
use super::varint::{Reader, Writer};

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
        Segments {
            r: Reader::new(self.data),
            left: self.vectors,
            done: false,
            state: match self.coding {
                Coding::Polylines => State::Polyline(PolylineState::default()),
                Coding::Hatches => State::Hatch(None),
                Coding::Points => State::Points(0, 0),
            },
        }
    }
}

#[derive(Clone, Debug, Default)]
struct PolylineState {
    cursor: (i64, i64),
    delta: (i64, i64),
    first: (i64, i64),
    points_left: u64,
    closing: bool,
    started: bool,
}

/// Predicts each hatch's jump and length from the previous ones; shared by encoder and decoder
/// so both sides agree bit for bit (wrapping arithmetic: exact in i64 modulo 2⁶⁴).
#[derive(Clone, Copy, Debug, Default)]
struct HatchPredictor {
    flags: u8,
    jumps: [i64; 4],
    lens: [i64; 2],
    outlier: bool,
}

/// Residual (in quanta) above which a hatch counts as an outlier for the predictor history.
const OUTLIER: u64 = 1024;

/// Hatch flag: consecutive hatches alternate direction.
const MEANDER: u8 = 1;
/// Hatch flag: lengths extrapolated linearly from the two previous ones.
const LEN_LINEAR: u8 = 2;
/// Hatch flag: jumps extrapolated linearly from the two previous ones on the same side.
const JUMP_LINEAR: u8 = 4;
/// Hatch flag: line mode (protocol 2); bits 0 and 1 mean meander and linear.
const LINES: u8 = 8;
/// The flag values the encoder may choose: the eight jump modes and the four line modes.
const HATCH_MODES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

/// Pieces of a scan line remembered to predict the next line (holes per line, roughly).
pub const LINE_PIECES: usize = 8;

/// One piece of a scan line in the sheared frame: its ends along `p` and their change from
/// the piece it continued.
#[derive(Clone, Copy, Debug, Default)]
struct Piece {
    lo: i64,
    hi: i64,
    dlo: i64,
    dhi: i64,
}

/// Line-mode predictor, shared by encoder and decoder (wrapping arithmetic, as above).
#[derive(Clone, Copy, Debug, Default)]
struct LinePredictor {
    meander: bool,
    linear: bool,
    started: bool,
    spacing: i64,
    spacing_jumped: bool,
    prev: [Piece; LINE_PIECES],
    prev_n: usize,
    cur: [Piece; LINE_PIECES],
    cur_n: usize,
    forward: bool,
    cursor: i64,
}

impl LinePredictor {
    fn new(flags: u8) -> Self {
        Self {
            meander: flags & MEANDER != 0,
            linear: flags & LEN_LINEAR != 0,
            forward: true,
            ..Self::default()
        }
    }

    /// Predicted step across the lines to the next hatch's start.
    fn dq(&self) -> i64 {
        if self.started && self.cur_n < self.prev_n {
            0
        } else {
            self.spacing
        }
    }

    /// Places the next hatch, `dq` across from the previous start: a new line or the next
    /// piece of this one. Returns the direction it is expected to run in.
    fn begin(&mut self, dq: i64) -> bool {
        let new_line =
            !self.started || dq.unsigned_abs() > (self.spacing.unsigned_abs() / 2).max(1);
        let expected = if !self.started {
            true
        } else if new_line {
            self.forward != self.meander
        } else {
            self.forward
        };
        if new_line {
            if self.started {
                // The first line change sets the spacing; later a lone outlier (a jump to
                // another island) does not.
                self.spacing = if self.spacing == 0 {
                    dq
                } else {
                    next_spacing(
                        self.spacing,
                        dq,
                        dq.wrapping_sub(self.spacing),
                        &mut self.spacing_jumped,
                    )
                };
                self.prev = self.cur;
                self.prev_n = self.cur_n;
            }
            self.cur_n = 0;
        }
        self.started = true;
        expected
    }

    /// The piece of the previous line this hatch continues.
    fn reference(&self) -> Option<Piece> {
        let k = self.cur_n;
        if k >= self.prev_n {
            return None;
        }
        let i = if self.meander { self.prev_n - 1 - k } else { k };
        self.prev.get(i).copied()
    }

    /// Predicted `(lo, hi)`.
    fn ends(&self) -> (i64, i64) {
        match self.reference() {
            Some(r) if self.linear => (r.lo.wrapping_add(r.dlo), r.hi.wrapping_add(r.dhi)),
            Some(r) => (r.lo, r.hi),
            None => (self.cursor, self.cursor),
        }
    }

    /// Records the hatch; a change over [`OUTLIER`] (another island) is not extrapolated.
    fn push(&mut self, lo: i64, hi: i64, forward: bool, end: i64) {
        let slope = |d: i64| if d.unsigned_abs() > OUTLIER { 0 } else { d };
        let (dlo, dhi) = self.reference().map_or((0, 0), |r| {
            (slope(lo.wrapping_sub(r.lo)), slope(hi.wrapping_sub(r.hi)))
        });
        if let Some(slot) = self.cur.get_mut(self.cur_n) {
            *slot = Piece { lo, hi, dlo, dhi };
        }
        self.cur_n = self.cur_n.saturating_add(1);
        self.forward = forward;
        self.cursor = end;
    }
}

impl HatchPredictor {
    fn new(flags: u8) -> Self {
        Self {
            flags,
            ..Self::default()
        }
    }

    fn jump(&self) -> i64 {
        let [j1, j2, _, j4] = self.jumps;
        // Meander: the same side is two hatches back.
        let (a, b) = if self.flags & MEANDER != 0 {
            (j2, j4)
        } else {
            (j1, j2)
        };
        if self.flags & JUMP_LINEAR != 0 {
            a.wrapping_mul(2).wrapping_sub(b)
        } else {
            a
        }
    }

    fn len(&self) -> i64 {
        let [l1, l2] = self.lens;
        match (self.flags & MEANDER != 0, self.flags & LEN_LINEAR != 0) {
            (true, false) => l1.wrapping_neg(),
            (true, true) => l1.wrapping_mul(-2).wrapping_sub(l2),
            (false, false) => l1,
            (false, true) => l1.wrapping_mul(2).wrapping_sub(l2),
        }
    }

    /// Records the hatch; a lone outlier (the move to the next island) enters the history as
    /// its prediction so the hatches after it are still predicted from their neighbours.
    fn push(&mut self, jump: i64, len: i64) {
        let (jp, lp) = (self.jump(), self.len());
        let outlier = jump.wrapping_sub(jp).unsigned_abs() > OUTLIER
            || len.wrapping_sub(lp).unsigned_abs() > OUTLIER;
        let (jump, len) = if outlier && !self.outlier {
            (jp, lp)
        } else {
            (jump, len)
        };
        self.outlier = outlier;
        let [j1, j2, j3, _] = self.jumps;
        self.jumps = [jump, j1, j2, j3];
        self.lens = [len, self.lens[0]];
    }
}

#[derive(Clone, Debug)]
struct HatchState {
    frame: Shear,
    qs: i64,
    mode: HatchMode,
}

/// The predictor a hatch block's flags select.
// No allocation in the controller: the line predictor (≈ 0.6 KiB) lives inline, on the stack
// of whoever decodes one block.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum HatchMode {
    /// Jump and length prediction (flags 0–7).
    Jumps {
        predict: HatchPredictor,
        dq: i64,
        dq_jumped: bool,
        pe: i64,
    },
    /// Line mode (flags 8–11).
    Lines(LinePredictor),
}

impl HatchMode {
    fn new(flags: u64) -> Result<Self, CodecError> {
        let f = u8::try_from(flags).map_err(|_| CodecError::Malformed)?;
        if !HATCH_MODES.contains(&f) {
            return Err(CodecError::Malformed);
        }
        Ok(if f & LINES != 0 {
            HatchMode::Lines(LinePredictor::new(f))
        } else {
            HatchMode::Jumps {
                predict: HatchPredictor::new(f),
                dq: 0,
                dq_jumped: false,
                pe: 0,
            }
        })
    }
}

/// The hatch spacing register: it follows the line-to-line step but ignores a single outlier
/// (the jump to the next island or band), so the hatch after it is predicted from the spacing.
fn next_spacing(spacing: i64, dq: i64, residual: i64, jumped: &mut bool) -> i64 {
    let outlier = residual.unsigned_abs() > 2;
    let keep = outlier && !*jumped;
    *jumped = outlier;
    if keep { spacing } else { dq }
}

#[allow(clippy::large_enum_variant)] // inline on purpose, see `HatchMode`
#[derive(Clone, Debug)]
enum State {
    Polyline(PolylineState),
    Hatch(Option<HatchState>),
    Points(i64, i64),
}

/// Lazy decoder of a block's segments; yields `Err` once and then stops on malformed data.
#[derive(Clone, Debug)]
pub struct Segments<'a> {
    r: Reader<'a>,
    left: u32,
    done: bool,
    state: State,
}

fn add(a: i64, b: i64) -> Result<i64, CodecError> {
    a.checked_add(b).ok_or(CodecError::CoordinateRange)
}

fn sub(a: i64, b: i64) -> Result<i64, CodecError> {
    a.checked_sub(b).ok_or(CodecError::CoordinateRange)
}

/// The sheared frame of a hatch direction: `p` along the dominant axis, `q` across.
#[derive(Clone, Copy, Debug)]
struct Shear {
    x_major: bool,
    d_major: i64,
    d_minor: i64,
}

impl Shear {
    fn new(dx: i64, dy: i64) -> Result<Self, CodecError> {
        let x_major = dx.unsigned_abs() >= dy.unsigned_abs();
        let (d_major, d_minor) = if x_major { (dx, dy) } else { (dy, dx) };
        if d_major == 0 {
            return Err(CodecError::Malformed);
        }
        Ok(Self {
            x_major,
            d_major,
            d_minor,
        })
    }

    /// round(p · d_minor / d_major), ties towards +∞, exact in i128.
    #[inline]
    fn offset(&self, p: i64) -> Result<i64, CodecError> {
        let (mut d, mut m) = (self.d_major, self.d_minor);
        if d < 0 {
            d = -d;
            m = -m;
        }
        // i64 fast path (the usual case); i128 only when the product could overflow.
        if let Some(n2) = p
            .checked_mul(m)
            .and_then(|n| n.checked_mul(2))
            .and_then(|n| n.checked_add(d))
            && let Some(d2) = d.checked_mul(2)
        {
            return Ok(n2.div_euclid(d2));
        }
        let v = (2 * i128::from(p) * i128::from(m) + i128::from(d)).div_euclid(2 * i128::from(d));
        i64::try_from(v).map_err(|_| CodecError::CoordinateRange)
    }

    #[inline]
    fn to_pq(self, pt: [i32; 2]) -> Result<(i64, i64), CodecError> {
        let (p, minor) = if self.x_major {
            (i64::from(pt[0]), i64::from(pt[1]))
        } else {
            (i64::from(pt[1]), i64::from(pt[0]))
        };
        Ok((p, sub(minor, self.offset(p)?)?))
    }

    #[inline]
    fn to_point(self, p: i64, q: i64) -> Result<Point, CodecError> {
        let minor = add(q, self.offset(p)?)?;
        if self.x_major {
            Point::from_i64(p, minor)
        } else {
            Point::from_i64(minor, p)
        }
    }
}

impl Segments<'_> {
    fn next_polyline(r: &mut Reader<'_>, s: &mut PolylineState) -> Result<Segment, CodecError> {
        if s.closing {
            s.closing = false;
            let from = Point::from_i64(s.cursor.0, s.cursor.1)?;
            let to = Point::from_i64(s.first.0, s.first.1)?;
            s.cursor = s.first;
            return Ok(Segment {
                from,
                to,
                chained: true,
            });
        }
        if s.points_left == 0 {
            let head = r.u64var()?;
            let n = head >> 1;
            if n < 2 {
                return Err(CodecError::Malformed);
            }
            let (dx, dy) = r.pair()?;
            s.cursor = (add(s.cursor.0, dx)?, add(s.cursor.1, dy)?);
            s.first = s.cursor;
            s.delta = (0, 0);
            s.points_left = n - 1;
            s.started = false;
            // The closing segment is emitted after the last point.
            s.closing = false;
            if head & 1 == 1 {
                s.points_left |= 1 << 63;
            }
        }
        let closed = s.points_left & (1 << 63) != 0;
        let left = s.points_left & !(1 << 63);
        let (rx, ry) = r.pair()?;
        s.delta = (add(s.delta.0, rx)?, add(s.delta.1, ry)?);
        let from = Point::from_i64(s.cursor.0, s.cursor.1)?;
        s.cursor = (add(s.cursor.0, s.delta.0)?, add(s.cursor.1, s.delta.1)?);
        let to = Point::from_i64(s.cursor.0, s.cursor.1)?;
        let chained = s.started;
        s.started = true;
        let left = left - 1;
        s.points_left = if left == 0 {
            0
        } else {
            left | if closed { 1 << 63 } else { 0 }
        };
        if left == 0 && closed {
            s.closing = true;
        }
        Ok(Segment { from, to, chained })
    }

    fn next_hatch(
        r: &mut Reader<'_>,
        slot: &mut Option<HatchState>,
    ) -> Result<Segment, CodecError> {
        let h = match slot {
            Some(h) => h,
            None => {
                let flags = r.u64var()?;
                let (dx, dy) = r.pair()?;
                slot.insert(HatchState {
                    frame: Shear::new(dx, dy)?,
                    qs: 0,
                    mode: HatchMode::new(flags)?,
                })
            }
        };
        let (dq_res, second) = r.pair()?;
        let (a, b) = r.pair()?;
        let (ps, pe, r_q, dq) = match &mut h.mode {
            HatchMode::Jumps {
                predict,
                dq: spacing,
                dq_jumped,
                pe: last_end,
            } => {
                let dq = spacing.wrapping_add(dq_res);
                *spacing = next_spacing(*spacing, dq, dq_res, dq_jumped);
                let jump = predict.jump().wrapping_add(a);
                let len = predict.len().wrapping_add(b);
                let ps = add(*last_end, jump)?;
                let pe = add(ps, len)?;
                predict.push(jump, len);
                *last_end = pe;
                (ps, pe, second, dq)
            }
            HatchMode::Lines(line) => {
                let dq = line.dq().wrapping_add(dq_res);
                let expected = line.begin(dq);
                let (lo_p, hi_p) = line.ends();
                let (lo, hi) = (lo_p.wrapping_add(a), hi_p.wrapping_add(b));
                let forward = expected != (second & 1 != 0);
                let (ps, pe) = if forward { (lo, hi) } else { (hi, lo) };
                line.push(lo, hi, forward, pe);
                (ps, pe, second >> 1, dq)
            }
        };
        h.qs = add(h.qs, dq)?;
        let qe = add(h.qs, r_q)?;
        Ok(Segment {
            from: h.frame.to_point(ps, h.qs)?,
            to: h.frame.to_point(pe, qe)?,
            chained: false,
        })
    }
}

impl Iterator for Segments<'_> {
    type Item = Result<Segment, CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.left == 0 {
            self.done = true;
            let leftover = match &self.state {
                State::Polyline(s) => s.closing || s.points_left != 0,
                _ => false,
            };
            return if leftover || !self.r.is_empty() {
                Some(Err(CodecError::CountMismatch))
            } else {
                None
            };
        }
        self.left -= 1;
        let item = match &mut self.state {
            State::Polyline(s) => Self::next_polyline(&mut self.r, s),
            State::Hatch(h) => Self::next_hatch(&mut self.r, h),
            State::Points(x, y) => self.r.pair().and_then(|(dx, dy)| {
                *x = add(*x, dx)?;
                *y = add(*y, dy)?;
                let p = Point::from_i64(*x, *y)?;
                Ok(Segment {
                    from: p,
                    to: p,
                    chained: false,
                })
            }),
        };
        if item.is_err() {
            self.done = true;
        }
        Some(item)
    }
}

/// Result of an encoder: bytes written and how many input items (hatches, polylines, points)
/// they hold, and the segments those items decode to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// Bytes written to the output slice.
    pub bytes: usize,
    /// Input items consumed (the rest did not fit).
    pub items: usize,
    /// Segments the written items decode to (the block's `vectors`).
    pub vectors: u32,
}

/// An input polyline for [`encode_polylines`].
#[derive(Clone, Copy, Debug)]
pub struct Polyline<'p> {
    /// Vertices in quanta.
    pub points: &'p [[i32; 2]],
    /// Whether the last vertex connects back to the first.
    pub closed: bool,
}

/// Commits a record only if it fits: encoders stop at the first item that does not.
fn try_record(
    out: &mut [u8],
    at: usize,
    f: impl FnOnce(&mut Writer<'_>) -> Result<(), CodecError>,
) -> Result<Option<usize>, CodecError> {
    let Some(rest) = out.get_mut(at..) else {
        return Ok(None);
    };
    let mut w = Writer::new(rest);
    match f(&mut w) {
        Ok(()) => Ok(Some(at + w.len())),
        Err(CodecError::BufferTooSmall) => Ok(None),
        Err(e) => Err(e),
    }
}

fn finish(bytes: usize, items: usize, vectors: u64) -> Result<Encoded, CodecError> {
    if items == 0 {
        return Err(CodecError::BufferTooSmall);
    }
    Ok(Encoded {
        bytes,
        items,
        vectors: u32::try_from(vectors).map_err(|_| CodecError::Malformed)?,
    })
}

/// Encodes as many whole polylines as fit into `out`; errors if not even the first fits.
pub fn encode_polylines(polylines: &[Polyline<'_>], out: &mut [u8]) -> Result<Encoded, CodecError> {
    let mut at = 0;
    let mut cursor = (0i64, 0i64);
    let mut vectors = 0u64;
    let mut items = 0;
    for pl in polylines {
        let n = pl.points.len();
        let Some(first) = pl.points.first() else {
            return Err(CodecError::Malformed);
        };
        if n < 2 {
            return Err(CodecError::Malformed);
        }
        let head = ((n as u64) << 1) | u64::from(pl.closed);
        let start = cursor;
        let written = try_record(out, at, |w| {
            w.uvar(u128::from(head))?;
            let (x0, y0) = (i64::from(first[0]), i64::from(first[1]));
            w.pair(x0 - start.0, y0 - start.1)?;
            let (mut prev, mut delta) = ((x0, y0), (0i64, 0i64));
            for p in pl.points.iter().skip(1) {
                let cur = (i64::from(p[0]), i64::from(p[1]));
                let d = (cur.0 - prev.0, cur.1 - prev.1);
                w.pair(d.0 - delta.0, d.1 - delta.1)?;
                delta = d;
                prev = cur;
            }
            Ok(())
        })?;
        let Some(end) = written else { break };
        at = end;
        items += 1;
        vectors += (n as u64 - 1) + u64::from(pl.closed);
        // The next polyline is coded from where the scanner stops.
        let stop = if pl.closed {
            Some(first)
        } else {
            pl.points.last()
        };
        if let Some(p) = stop {
            cursor = (i64::from(p[0]), i64::from(p[1]));
        }
    }
    finish(at, items, vectors)
}

/// Encodes as many whole hatches `[x1, y1, x2, y2]` as fit into `out`, trying each predictor
/// mode (meander or one-way; constant or linear length and jump) and keeping the one that
/// fits the most hatches in the fewest bytes.
pub fn encode_hatches(hatches: &[[i32; 4]], out: &mut [u8]) -> Result<Encoded, CodecError> {
    let mut best: Option<(u8, Encoded)> = None;
    for flags in HATCH_MODES {
        let e = match encode_hatches_with(flags, hatches, out) {
            Ok(e) => e,
            Err(CodecError::BufferTooSmall) => continue,
            Err(e) => return Err(e),
        };
        if best.is_none_or(|(_, b)| e.items > b.items || (e.items == b.items && e.bytes < b.bytes))
        {
            best = Some((flags, e));
        }
    }
    let (flags, _) = best.ok_or(CodecError::BufferTooSmall)?;
    encode_hatches_with(flags, hatches, out)
}

fn encode_hatches_with(
    flags: u8,
    hatches: &[[i32; 4]],
    out: &mut [u8],
) -> Result<Encoded, CodecError> {
    let Some(h0) = hatches.first() else {
        return Err(CodecError::Malformed);
    };
    let (mut dx, dy) = (
        i64::from(h0[2]) - i64::from(h0[0]),
        i64::from(h0[3]) - i64::from(h0[1]),
    );
    if dx == 0 && dy == 0 {
        dx = 1;
    }
    let frame = Shear::new(dx, dy)?;
    let mut at = try_record(out, 0, |w| {
        w.uvar(u128::from(flags))?;
        w.pair(dx, dy)
    })?
    .ok_or(CodecError::BufferTooSmall)?;
    let mut mode = HatchMode::new(u64::from(flags))?;
    let mut qs = 0i64;
    let mut items = 0;
    for h in hatches {
        let (ps_, qs_) = frame.to_pq([h[0], h[1]])?;
        let (pe_, qe_) = frame.to_pq([h[2], h[3]])?;
        let dq_ = qs_ - qs;
        let r_q = qe_ - qs_;
        let (first, second) = match &mut mode {
            HatchMode::Jumps {
                predict,
                dq,
                dq_jumped,
                pe,
            } => {
                let (jump, len) = (ps_ - *pe, pe_ - ps_);
                let rec = (
                    (dq_.wrapping_sub(*dq), r_q),
                    (
                        jump.wrapping_sub(predict.jump()),
                        len.wrapping_sub(predict.len()),
                    ),
                );
                *dq = next_spacing(*dq, dq_, dq_.wrapping_sub(*dq), dq_jumped);
                *pe = pe_;
                predict.push(jump, len);
                rec
            }
            HatchMode::Lines(line) => {
                let dq_res = dq_.wrapping_sub(line.dq());
                let expected = line.begin(dq_);
                let (lo_p, hi_p) = line.ends();
                let forward = match ps_.cmp(&pe_) {
                    core::cmp::Ordering::Less => true,
                    core::cmp::Ordering::Greater => false,
                    core::cmp::Ordering::Equal => expected,
                };
                let (lo, hi) = (ps_.min(pe_), ps_.max(pe_));
                line.push(lo, hi, forward, pe_);
                (
                    (dq_res, r_q.wrapping_mul(2) | i64::from(forward != expected)),
                    (lo.wrapping_sub(lo_p), hi.wrapping_sub(hi_p)),
                )
            }
        };
        let written = try_record(out, at, |w| {
            w.pair(first.0, first.1)?;
            w.pair(second.0, second.1)
        })?;
        let Some(end) = written else { break };
        at = end;
        items += 1;
        qs = qs_;
    }
    finish(at, items, items as u64)
}

/// Encodes as many points as fit into `out`.
pub fn encode_points(points: &[[i32; 2]], out: &mut [u8]) -> Result<Encoded, CodecError> {
    let (mut at, mut prev, mut items) = (0, (0i64, 0i64), 0);
    for p in points {
        let cur = (i64::from(p[0]), i64::from(p[1]));
        let Some(end) = try_record(out, at, |w| w.pair(cur.0 - prev.0, cur.1 - prev.1))? else {
            break;
        };
        at = end;
        prev = cur;
        items += 1;
    }
    finish(at, items, items as u64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn block(coding: Coding, vectors: u32, data: &[u8]) -> VectorBlock<'_> {
        VectorBlock {
            param_set: 1,
            kind: VectorKind::Hatch,
            region: Region::Core,
            coding,
            vectors,
            data,
        }
    }

    fn decode(b: &VectorBlock<'_>) -> Vec<Segment> {
        b.segments().collect::<Result<Vec<_>, _>>().unwrap()
    }

    fn meander(n: i32, spacing: i32, width: i32) -> Vec<[i32; 4]> {
        (0..n)
            .map(|i| {
                let y = i * spacing;
                if i % 2 == 0 {
                    [0, y, width, y]
                } else {
                    [width, y, 0, y]
                }
            })
            .collect()
    }

    #[test]
    fn equally_spaced_meander_hatches_cost_two_bytes_each() {
        let hatches = meander(200, 100, 10_000);
        let mut buf = [0u8; 2048];
        let e = encode_hatches(&hatches, &mut buf).unwrap();
        assert_eq!(e.items, 200);
        // header + first two hatches carry absolute values; the rest are all-zero residuals.
        assert!(e.bytes <= 2 * 200 + 20, "{} bytes", e.bytes);
        let segs = decode(&block(Coding::Hatches, e.vectors, &buf[..e.bytes]));
        for (s, h) in segs.iter().zip(&hatches) {
            assert_eq!([s.from.x, s.from.y, s.to.x, s.to.y], *h);
        }
    }

    /// A 10 mm disc with a 4 mm hole, hatched line by line at 0.14 mm, 67°, meandering with
    /// the pieces of a line reversed on every other line (as the slicer orders them).
    fn holed_disc() -> Vec<[i32; 4]> {
        let (s, c) = 67f64.to_radians().sin_cos();
        let mut out = Vec::new();
        let mut line = 0;
        let mut v = -5000.0 + 70.0;
        while v < 5000.0 {
            let outer = (5000.0f64 * 5000.0 - v * v).sqrt();
            let mut pieces = if v.abs() < 2000.0 {
                let inner = (2000.0f64 * 2000.0 - v * v).sqrt();
                vec![(-outer, -inner), (inner, outer)]
            } else {
                vec![(-outer, outer)]
            };
            if line % 2 == 1 {
                pieces.reverse();
                pieces.iter_mut().for_each(|p| *p = (p.1, p.0));
            }
            for (u0, u1) in pieces {
                let pt = |u: f64| {
                    [
                        (u * c - v * s).round() as i32,
                        (u * s + v * c).round() as i32,
                    ]
                };
                let (a, b) = (pt(u0), pt(u1));
                out.push([a[0], a[1], b[0], b[1]]);
            }
            line += 1;
            v += 140.0;
        }
        out
    }

    #[test]
    fn lines_cut_by_a_hole_cost_a_third_less_in_line_mode() {
        let hatches = holed_disc();
        let mut buf = [0u8; 4096];
        let e = encode_hatches(&hatches, &mut buf).unwrap();
        assert_eq!(e.items, hatches.len());
        assert!(buf[0] & LINES != 0, "line mode chosen, flags {}", buf[0]);
        let per = e.bytes as f64 / hatches.len() as f64;
        assert!(per < 4.0, "{per:.2} B/hatch over {} hatches", hatches.len());
        let best_jumps = (0..8u8)
            .map(|f| {
                encode_hatches_with(f, &hatches, &mut [0u8; 8192])
                    .unwrap()
                    .bytes
            })
            .min()
            .unwrap();
        assert!(
            3 * e.bytes < 2 * best_jumps,
            "line mode {} B, best jump mode {best_jumps} B",
            e.bytes
        );
        let segs = decode(&block(Coding::Hatches, e.vectors, &buf[..e.bytes]));
        for (s, h) in segs.iter().zip(&hatches) {
            assert_eq!([s.from.x, s.from.y, s.to.x, s.to.y], *h);
        }
    }

    /// Two lines cut by a hole, meandering (x-major, spacing 100 quanta): the line mode's
    /// bytes, the format being the documentation.
    #[test]
    fn line_mode_golden_bytes() {
        let hatches = [
            [0, 0, 400, 0],
            [600, 0, 1000, 0],
            [1000, 100, 600, 100],
            [400, 100, 0, 100],
            [0, 200, 400, 200],
            [600, 200, 1000, 200],
        ];
        let mut buf = [0u8; 64];
        let e = encode_hatches_with(LINES | MEANDER, &hatches, &mut buf).unwrap();
        assert_eq!(&buf[..e.bytes], &GOLDEN_LINE_MODE[..]);
        let segs = decode(&block(Coding::Hatches, e.vectors, &GOLDEN_LINE_MODE));
        let got: Vec<[i32; 4]> = segs
            .iter()
            .map(|s| [s.from.x, s.from.y, s.to.x, s.to.y])
            .collect();
        assert_eq!(got, hatches);
    }

    #[rustfmt::skip]
    static GOLDEN_LINE_MODE: [u8; 23] = [
        0x09,                   // flags: line mode, meander
        0x80, 0x88, 0x14,       // direction (400, 0)
        0x00, 0x80, 0x90, 0x28, // line 0 piece 0: Δq 0, (lo, hi) = (0, 400) from the cursor 0
        0x00, 0x80, 0x96, 0x87, 0x01, // piece 1: same line, (200, 600) from the cursor 400
        0xc0, 0xa0, 0x01, 0x00, // line 1: Δq 100 (sets the spacing); piece 1 of line 0 exactly
        0x00, 0x00,             // piece 0 of line 0 exactly
        0x00, 0x00,             // line 2: Δq = spacing, piece 0 of line 1 (reversed order)
        0x00, 0x00,             // piece 1, exactly
    ];

    #[test]
    fn unknown_hatch_flags_are_malformed() {
        let mut buf = [0u8; 64];
        let e = encode_hatches_with(9, &meander(4, 100, 1000), &mut buf).unwrap();
        for bad in [4u8 | LINES, 16, 127] {
            buf[0] = bad;
            let b = block(Coding::Hatches, e.vectors, &buf[..e.bytes]);
            assert!(
                b.segments().any(|s| s == Err(CodecError::Malformed)),
                "flags {bad}"
            );
        }
    }

    #[test]
    fn closed_polyline_emits_closing_segment_chained() {
        let sq = [[0, 0], [1000, 0], [1000, 1000], [0, 1000]];
        let mut buf = [0u8; 64];
        let e = encode_polylines(
            &[Polyline {
                points: &sq,
                closed: true,
            }],
            &mut buf,
        )
        .unwrap();
        assert_eq!(e.vectors, 4);
        let segs = decode(&block(Coding::Polylines, e.vectors, &buf[..e.bytes]));
        assert!(!segs[0].chained && segs[1..].iter().all(|s| s.chained));
        assert_eq!(segs[3].to, Point::new(0, 0));
    }

    #[test]
    fn encoder_stops_at_first_item_that_does_not_fit() {
        let hatches = meander(500, 100, 10_000);
        let mut buf = [0u8; 100];
        let e = encode_hatches(&hatches, &mut buf).unwrap();
        assert!(e.items < 500 && e.items > 10);
        let segs = decode(&block(Coding::Hatches, e.vectors, &buf[..e.bytes]));
        assert_eq!(segs.len(), e.items);
        assert!(matches!(
            encode_hatches(&hatches, &mut [0u8; 3]),
            Err(CodecError::BufferTooSmall)
        ));
    }

    #[test]
    fn wrong_vector_count_is_reported() {
        let mut buf = [0u8; 64];
        let e = encode_points(&[[1, 2], [3, 4]], &mut buf).unwrap();
        let short = block(Coding::Points, 1, &buf[..e.bytes]);
        assert!(short.segments().any(|s| s.is_err()));
        let long = block(Coding::Points, 3, &buf[..e.bytes]);
        assert!(long.segments().any(|s| s.is_err()));
    }

    fn coord() -> impl Strategy<Value = i32> {
        -600_000i32..600_000
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn hatches_round_trip(h in proptest::collection::vec([coord(), coord(), coord(), coord()], 1..60)) {
            let mut buf = vec![0u8; 60 * 40 + 40];
            let e = encode_hatches(&h, &mut buf).unwrap();
            prop_assert_eq!(e.items, h.len());
            let segs = decode(&block(Coding::Hatches, e.vectors, &buf[..e.bytes]));
            let got: Vec<[i32; 4]> = segs.iter().map(|s| [s.from.x, s.from.y, s.to.x, s.to.y]).collect();
            prop_assert_eq!(got, h);
        }

        #[test]
        fn every_hatch_mode_round_trips(
            h in proptest::collection::vec([coord(), coord(), coord(), coord()], 1..40),
            pick in 0usize..HATCH_MODES.len(),
        ) {
            let mut buf = vec![0u8; 40 * 40 + 40];
            let e = encode_hatches_with(HATCH_MODES[pick], &h, &mut buf).unwrap();
            prop_assert_eq!(e.items, h.len());
            let segs = decode(&block(Coding::Hatches, e.vectors, &buf[..e.bytes]));
            let got: Vec<[i32; 4]> = segs.iter().map(|s| [s.from.x, s.from.y, s.to.x, s.to.y]).collect();
            prop_assert_eq!(got, h);
        }

        #[test]
        fn disturbed_holed_lines_round_trip_in_every_mode(
            noise in proptest::collection::vec((0usize..4, -300i32..300), 0..30),
            pick in 0usize..HATCH_MODES.len(),
        ) {
            let mut h = holed_disc();
            let n = h.len();
            for (i, (k, d)) in noise.iter().enumerate() {
                h[(i * 7919) % n][*k] += d;
            }
            let mut buf = vec![0u8; 8192];
            let e = encode_hatches_with(HATCH_MODES[pick], &h, &mut buf).unwrap();
            prop_assert_eq!(e.items, h.len());
            let segs = decode(&block(Coding::Hatches, e.vectors, &buf[..e.bytes]));
            let got: Vec<[i32; 4]> = segs.iter().map(|s| [s.from.x, s.from.y, s.to.x, s.to.y]).collect();
            prop_assert_eq!(got, h);
        }

        #[test]
        fn polylines_round_trip(
            lines in proptest::collection::vec((proptest::collection::vec([coord(), coord()], 2..20), any::<bool>()), 1..8)
        ) {
            let pls: Vec<Polyline<'_>> = lines.iter().map(|(p, c)| Polyline { points: p, closed: *c }).collect();
            let mut buf = vec![0u8; 8 * 20 * 20 + 100];
            let e = encode_polylines(&pls, &mut buf).unwrap();
            let segs = decode(&block(Coding::Polylines, e.vectors, &buf[..e.bytes]));
            let mut i = 0;
            for (pts, closed) in &lines {
                for w in pts.windows(2) {
                    prop_assert_eq!(segs[i].from, Point::new(w[0][0], w[0][1]));
                    prop_assert_eq!(segs[i].to, Point::new(w[1][0], w[1][1]));
                    i += 1;
                }
                if *closed {
                    prop_assert_eq!(segs[i].to, Point::new(pts[0][0], pts[0][1]));
                    i += 1;
                }
            }
            prop_assert_eq!(i, segs.len());
        }

        #[test]
        fn garbage_payload_never_panics(
            data in proptest::collection::vec(any::<u8>(), 0..200),
            vectors in 0u32..100,
            coding in 0u8..3,
        ) {
            let coding = [Coding::Polylines, Coding::Hatches, Coding::Points][usize::from(coding)];
            for s in block(coding, vectors, &data).segments() {
                let _ = s;
            }
        }
    }
}
