//! The lazy decoder behind [`VectorBlock::segments`].

use super::super::varint::Reader;
use super::hatch::{HatchMode, Shear, next_spacing};
use super::{CodecError, Coding, Point, Segment, VectorBlock, add};

#[derive(Clone, Debug, Default)]
struct PolylineState {
    cursor: (i64, i64),
    delta: (i64, i64),
    first: (i64, i64),
    points_left: u64,
    closing: bool,
    started: bool,
}

#[derive(Clone, Debug)]
struct HatchState {
    frame: Shear,
    qs: i64,
    mode: HatchMode,
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

impl<'a> Segments<'a> {
    /// The decoder of `block`'s payload.
    pub(super) fn new(block: &VectorBlock<'a>) -> Self {
        Segments {
            r: Reader::new(block.data),
            left: block.vectors,
            done: false,
            state: match block.coding {
                Coding::Polylines => State::Polyline(PolylineState::default()),
                Coding::Hatches => State::Hatch(None),
                Coding::Points => State::Points(0, 0),
            },
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
