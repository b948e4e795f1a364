//! The encoders: polylines, hatches (trying each predictor mode) and points.

use super::super::varint::Writer;
use super::CodecError;
use super::hatch::{HATCH_MODES, HatchMode, Shear, next_spacing};

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

/// Encodes hatches with the predictor mode `flags` (see [`encode_hatches`]).
pub(super) fn encode_hatches_with(
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
