//! LEB128 varints, zigzag and Morton-paired integers used inside `VectorBlock` payloads.
//!
//! A *pair* interleaves the bits of two zigzagged values (Morton order) and writes the
//! result as one varint, so two small residuals (|v| < 8) share a single byte and two
//! residuals below 64 share two bytes.

use super::CodecError;

/// Zigzag-maps a signed value so small magnitudes become small unsigned values.
pub(crate) const fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
pub(crate) const fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Spreads the 64 bits of `v` to the even bit positions of a u128.
fn spread(v: u64) -> u128 {
    let mut x = v as u128;
    x = (x | (x << 32)) & 0x0000_0000_FFFF_FFFF_0000_0000_FFFF_FFFF;
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF_0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF_00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F_0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333_3333_3333_3333_3333;
    x = (x | (x << 1)) & 0x5555_5555_5555_5555_5555_5555_5555_5555;
    x
}

/// Gathers the even bits of `x` back into a u64.
fn gather(x: u128) -> u64 {
    let mut x = x & 0x5555_5555_5555_5555_5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333_3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F_0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF_00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF_0000_FFFF_0000_FFFF;
    x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF_0000_0000_FFFF_FFFF;
    x = (x | (x >> 32)) & 0x0000_0000_0000_0000_FFFF_FFFF_FFFF_FFFF;
    x as u64
}

/// Gathers the even bits of a u64 into the low 32 bits.
#[inline]
fn gather64(x: u64) -> u64 {
    let mut x = x & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
}

/// Writes into a caller-provided slice; every write is bounds-checked.
pub(crate) struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> Writer<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.pos
    }

    fn byte(&mut self, b: u8) -> Result<(), CodecError> {
        let slot = self
            .buf
            .get_mut(self.pos)
            .ok_or(CodecError::BufferTooSmall)?;
        *slot = b;
        self.pos += 1;
        Ok(())
    }

    pub(crate) fn uvar(&mut self, mut v: u128) -> Result<(), CodecError> {
        loop {
            let low = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                return self.byte(low);
            }
            self.byte(low | 0x80)?;
        }
    }

    #[allow(dead_code)]
    pub(crate) fn ivar(&mut self, v: i64) -> Result<(), CodecError> {
        self.uvar(u128::from(zigzag(v)))
    }

    /// Two signed values in one Morton-interleaved varint.
    pub(crate) fn pair(&mut self, a: i64, b: i64) -> Result<(), CodecError> {
        self.uvar(spread(zigzag(a)) | (spread(zigzag(b)) << 1))
    }
}

/// Reads from a borrowed slice; running past the end is an error, never a panic.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(crate) fn uvar(&mut self) -> Result<u128, CodecError> {
        let mut v: u128 = 0;
        // 19 groups of 7 bits cover 128 bits; more is malformed.
        for shift in (0..133).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or(CodecError::Truncated)?;
            self.pos += 1;
            let group = u128::from(b & 0x7f);
            if shift >= 128 || (shift > 121 && group >> (128 - shift) != 0) {
                return Err(CodecError::VarintOverflow);
            }
            v |= group << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(CodecError::VarintOverflow)
    }

    pub(crate) fn u64var(&mut self) -> Result<u64, CodecError> {
        u64::try_from(self.uvar()?).map_err(|_| CodecError::VarintOverflow)
    }

    #[allow(dead_code)]
    pub(crate) fn ivar(&mut self) -> Result<i64, CodecError> {
        Ok(unzigzag(self.u64var()?))
    }

    #[inline]
    pub(crate) fn pair(&mut self) -> Result<(i64, i64), CodecError> {
        // Fast path: up to 9 bytes (63 bits) decode in u64 and de-interleave in u64.
        let start = self.pos;
        let mut v: u64 = 0;
        for shift in (0..63).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else {
                break;
            };
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok((unzigzag(gather64(v)), unzigzag(gather64(v >> 1))));
            }
        }
        self.pos = start;
        let v = self.uvar()?;
        Ok((unzigzag(gather(v)), unzigzag(gather(v >> 1))))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_pairs_share_one_byte() {
        let mut buf = [0u8; 4];
        let mut w = Writer::new(&mut buf);
        w.pair(-4, 3).unwrap();
        assert_eq!(w.len(), 1);
    }

    proptest! {
        #[test]
        fn pairs_round_trip(a in any::<i64>(), b in any::<i64>()) {
            let mut buf = [0u8; 24];
            let mut w = Writer::new(&mut buf);
            w.pair(a, b).unwrap();
            let n = w.len();
            let mut r = Reader::new(&buf[..n]);
            prop_assert_eq!(r.pair().unwrap(), (a, b));
            prop_assert!(r.is_empty());
        }

        #[test]
        fn ivar_round_trips(a in any::<i64>()) {
            let mut buf = [0u8; 24];
            let mut w = Writer::new(&mut buf);
            w.ivar(a).unwrap();
            let n = w.len();
            prop_assert_eq!(Reader::new(&buf[..n]).ivar().unwrap(), a);
        }

        #[test]
        fn garbage_varints_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut r = Reader::new(&bytes);
            let _ = r.pair();
            let _ = r.ivar();
        }
    }
}
