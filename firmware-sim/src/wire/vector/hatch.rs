//! What the hatch encoder and decoder share, so both agree bit for bit: the flags, the
//! predictors and the sheared frame of the hatch direction.

use super::{CodecError, Point, add, sub};

/// Predicts each hatch's jump and length from the previous ones; shared by encoder and decoder
/// so both sides agree bit for bit (wrapping arithmetic: exact in i64 modulo 2⁶⁴).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct HatchPredictor {
    flags: u8,
    jumps: [i64; 4],
    lens: [i64; 2],
    outlier: bool,
}

/// Residual (in quanta) above which a hatch counts as an outlier for the predictor history.
const OUTLIER: u64 = 1024;

/// Hatch flag: consecutive hatches alternate direction.
pub(super) const MEANDER: u8 = 1;
/// Hatch flag: lengths extrapolated linearly from the two previous ones.
const LEN_LINEAR: u8 = 2;
/// Hatch flag: jumps extrapolated linearly from the two previous ones on the same side.
const JUMP_LINEAR: u8 = 4;
/// Hatch flag: line mode (protocol 2); bits 0 and 1 mean meander and linear.
pub(super) const LINES: u8 = 8;
/// The flag values the encoder may choose: the eight jump modes and the four line modes.
pub(super) const HATCH_MODES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

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
pub(super) struct LinePredictor {
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
    pub(super) fn dq(&self) -> i64 {
        if self.started && self.cur_n < self.prev_n {
            0
        } else {
            self.spacing
        }
    }

    /// Places the next hatch, `dq` across from the previous start: a new line or the next
    /// piece of this one. Returns the direction it is expected to run in.
    pub(super) fn begin(&mut self, dq: i64) -> bool {
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
    pub(super) fn ends(&self) -> (i64, i64) {
        match self.reference() {
            Some(r) if self.linear => (r.lo.wrapping_add(r.dlo), r.hi.wrapping_add(r.dhi)),
            Some(r) => (r.lo, r.hi),
            None => (self.cursor, self.cursor),
        }
    }

    /// Records the hatch; a change over [`OUTLIER`] (another island) is not extrapolated.
    pub(super) fn push(&mut self, lo: i64, hi: i64, forward: bool, end: i64) {
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

    pub(super) fn jump(&self) -> i64 {
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

    pub(super) fn len(&self) -> i64 {
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
    pub(super) fn push(&mut self, jump: i64, len: i64) {
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

/// The predictor a hatch block's flags select.
// No allocation in the controller: the line predictor (≈ 0.6 KiB) lives inline, on the stack
// of whoever decodes one block.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub(super) enum HatchMode {
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
    pub(super) fn new(flags: u64) -> Result<Self, CodecError> {
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
pub(super) fn next_spacing(spacing: i64, dq: i64, residual: i64, jumped: &mut bool) -> i64 {
    let outlier = residual.unsigned_abs() > 2;
    let keep = outlier && !*jumped;
    *jumped = outlier;
    if keep { spacing } else { dq }
}

/// The sheared frame of a hatch direction: `p` along the dominant axis, `q` across.
#[derive(Clone, Copy, Debug)]
pub(super) struct Shear {
    x_major: bool,
    d_major: i64,
    d_minor: i64,
}

impl Shear {
    pub(super) fn new(dx: i64, dy: i64) -> Result<Self, CodecError> {
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
    pub(super) fn to_pq(self, pt: [i32; 2]) -> Result<(i64, i64), CodecError> {
        let (p, minor) = if self.x_major {
            (i64::from(pt[0]), i64::from(pt[1]))
        } else {
            (i64::from(pt[1]), i64::from(pt[0]))
        };
        Ok((p, sub(minor, self.offset(p)?)?))
    }

    #[inline]
    pub(super) fn to_point(self, p: i64, q: i64) -> Result<Point, CodecError> {
        let minor = add(q, self.offset(p)?)?;
        if self.x_major {
            Point::from_i64(p, minor)
        } else {
            Point::from_i64(minor, p)
        }
    }
}
