//! Byte-stream receiver: accumulates COBS-stuffed bytes into a fixed buffer until a `0x00`
//! delimiter, then decodes the frame in place. Transport-agnostic: feed it whatever arrives
//! (UART chunks, TCP reads, a file).
//!
//! ```
//! use meltline_firmware::receiver::FrameReceiver;
//! use meltline_firmware::wire::{encode_frame, Msg, MAX_FRAME};
//! let mut wire = [0u8; MAX_FRAME];
//! let n = encode_frame(0, &Msg::Start, &mut wire).unwrap();
//! let mut rx = FrameReceiver::<MAX_FRAME>::new();
//! let (used, got) = rx.feed(&wire[..n]);
//! assert_eq!(used, n);
//! assert_eq!(got.unwrap().unwrap().msg, Msg::Start);
//! ```

use crate::wire::{Frame, FrameError, MAX_FRAME, parse_body, unstuff_frame};

/// COBS accumulator of capacity `N` (at least one frame, [`MAX_FRAME`]).
#[derive(Clone, Debug)]
pub struct FrameReceiver<const N: usize = MAX_FRAME> {
    buf: [u8; N],
    len: usize,
    overflow: bool,
    frames: u64,
    offset: u64,
    frame_start: u64,
}

impl<const N: usize> Default for FrameReceiver<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> FrameReceiver<N> {
    /// An empty receiver.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            overflow: false,
            frames: 0,
            offset: 0,
            frame_start: 0,
        }
    }

    /// Number of frames (good or bad) completed so far; the last one has index `frames() - 1`.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Byte offset in the stream at which the last completed frame began.
    pub fn last_frame_offset(&self) -> u64 {
        self.frame_start
    }

    /// Drops any partial frame (e.g. after a reconnect).
    pub fn reset(&mut self) {
        self.len = 0;
        self.overflow = false;
    }

    /// Consumes bytes up to and including the next delimiter. Returns how many bytes were used
    /// and, when a frame ended, the decoded frame or why it was rejected. Empty frames
    /// (repeated delimiters) are skipped silently so a sender may prefix `0x00` to resync.
    pub fn feed<'s>(&'s mut self, bytes: &[u8]) -> (usize, Option<Result<Frame<'s>, FrameError>>) {
        let (used, got) = self.feed_body(bytes);
        (used, got.map(|r| r.and_then(parse_body)))
    }

    /// As [`FrameReceiver::feed`], but stops after the CRC check: returns the frame's body
    /// (postcard bytes plus, in an authenticated session, its trailer) for [`crate::auth`].
    pub fn feed_body<'s>(
        &'s mut self,
        bytes: &[u8],
    ) -> (usize, Option<Result<&'s [u8], FrameError>>) {
        let mut used = 0;
        let mut rest = bytes;
        loop {
            // Copy the run up to the next delimiter in one go.
            let end = rest.iter().position(|&b| b == 0);
            let run = rest.get(..end.unwrap_or(rest.len())).unwrap_or(&[]);
            if !run.is_empty() {
                if self.len == 0 && !self.overflow {
                    self.frame_start = self.offset;
                }
                let new_len = self.len + run.len();
                match self.buf.get_mut(self.len..new_len) {
                    Some(dst) if !self.overflow && new_len < MAX_FRAME => {
                        dst.copy_from_slice(run);
                        self.len = new_len;
                    }
                    _ => self.overflow = true,
                }
                self.offset += run.len() as u64;
            }
            let Some(end) = end else {
                return (used + rest.len(), None);
            };
            used += end + 1;
            self.offset += 1;
            rest = rest.get(end + 1..).unwrap_or(&[]);
            if self.overflow {
                self.overflow = false;
                self.len = 0;
                self.frames += 1;
                return (used, Some(Err(FrameError::TooLarge)));
            }
            if self.len == 0 {
                continue;
            }
            let len = core::mem::take(&mut self.len);
            self.frames += 1;
            let body = match self.buf.get_mut(..len) {
                Some(raw) => unstuff_frame(raw),
                None => Err(FrameError::TooLarge),
            };
            return (used, Some(body));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::wire::{Ack, Msg, encode_frame};
    use proptest::prelude::*;

    fn frame(seq: u32) -> Vec<u8> {
        let mut buf = [0u8; MAX_FRAME];
        let n = encode_frame(
            seq,
            &Msg::Ack(Ack {
                up_to_seq: seq,
                window: 99,
            }),
            &mut buf,
        )
        .unwrap();
        buf[..n].to_vec()
    }

    #[test]
    fn frames_split_across_reads_are_reassembled() {
        let bytes = [frame(1), frame(2)].concat();
        let mut rx = FrameReceiver::<MAX_FRAME>::new();
        let mut seqs = vec![];
        for chunk in bytes.chunks(3) {
            let mut rest = chunk;
            while !rest.is_empty() {
                let (n, got) = rx.feed(rest);
                if let Some(f) = got {
                    seqs.push(f.unwrap().seq);
                }
                rest = &rest[n..];
            }
        }
        assert_eq!(seqs, vec![1, 2]);
    }

    #[test]
    fn oversized_frame_is_rejected_then_receiver_recovers() {
        let mut bytes = vec![1u8; 3000];
        bytes.push(0);
        bytes.extend(frame(5));
        let mut rx = FrameReceiver::<MAX_FRAME>::new();
        let (n, got) = rx.feed(&bytes);
        assert_eq!(got.unwrap(), Err(FrameError::TooLarge));
        let (_, got) = rx.feed(&bytes[n..]);
        assert_eq!(got.unwrap().unwrap().seq, 5);
    }

    #[test]
    fn every_single_bit_flip_of_a_frame_is_detected() {
        let good = frame(300);
        let body = good.len() - 1; // flipping the delimiter only splits the stream
        for i in 0..body {
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[i] ^= 1 << bit;
                let mut rx = FrameReceiver::<MAX_FRAME>::new();
                let mut rest = &bad[..];
                while !rest.is_empty() {
                    let (n, got) = rx.feed(rest);
                    if let Some(f) = got {
                        assert!(f.is_err(), "flip of byte {i} bit {bit} accepted: {f:?}");
                    }
                    rest = &rest[n..];
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn garbage_streams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let mut rx = FrameReceiver::<MAX_FRAME>::new();
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let (n, _) = rx.feed(rest);
                prop_assert!(n > 0);
                rest = &rest[n..];
            }
        }

        #[test]
        fn truncated_frames_are_rejected(cut in 1usize..10) {
            let good = frame(7);
            let mut bad = good[..good.len().saturating_sub(cut + 1)].to_vec();
            bad.push(0);
            let mut rx = FrameReceiver::<MAX_FRAME>::new();
            if let (_, Some(r)) = rx.feed(&bad) {
                prop_assert!(r.is_err());
            }
        }
    }
}
