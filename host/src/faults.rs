//! A fault-injecting link, deterministic by seed: drops, corrupts, duplicates frames and forces
//! disconnects, for tests, `meltline simulate --faults`, and as a TCP proxy between
//! `meltline stream` and `meltline-fw`.
//!
//! Frames on the wire are `0x00`-delimited (COBS), so the link works on whole frames without
//! knowing the protocol: a [`FrameSplitter`] cuts the byte stream, a [`FaultInjector`] decides
//! the fate of each frame.
//!
//! ```
//! use meltline_host::faults::{FaultSpec, FaultInjector, Fate};
//! let spec: FaultSpec = "drop=0.5,seed=7".parse().unwrap();
//! let mut a = FaultInjector::new(spec.clone());
//! let mut b = FaultInjector::new(spec);
//! let fa: Vec<Fate> = (0..20).map(|_| a.next_fate(10)).collect();
//! let fb: Vec<Fate> = (0..20).map(|_| b.next_fate(10)).collect();
//! assert_eq!(fa, fb); // same seed, same faults
//! ```

use std::fmt;
use std::str::FromStr;

/// What the link does to the traffic: probabilities per frame and a forced-disconnect period.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultSpec {
    /// Probability that a frame is silently lost (0..=1).
    pub drop: f64,
    /// Probability that one bit of a frame is flipped (0..=1).
    pub corrupt: f64,
    /// Probability that a frame is delivered twice (0..=1).
    pub dup: f64,
    /// Close the connection after every N frames forwarded (None: never).
    pub disconnect_every: Option<u64>,
    /// The seed of the pseudo-random sequence.
    pub seed: u64,
}

/// A malformed `--faults` specification.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultSpecError {
    /// An item is not `key=value`.
    #[error(
        "fault item `{0}` is not key=value (expected e.g. drop=0.01,corrupt=0.01,dup=0.005,disconnect-every=500,seed=1)"
    )]
    NotKeyValue(String),
    /// The key is not one of drop, corrupt, dup, disconnect-every, seed.
    #[error("unknown fault `{0}` (known: drop, corrupt, dup, disconnect-every, seed)")]
    UnknownKey(String),
    /// A probability outside 0..=1 or not a number.
    #[error("fault `{key}` = `{value}` must be a probability in 0..=1")]
    BadProbability {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
    },
    /// A count or seed that is not a non-negative integer.
    #[error("fault `{key}` = `{value}` must be a whole number ≥ 1")]
    BadCount {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
    },
}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut spec = FaultSpec::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| FaultSpecError::NotKeyValue(item.to_string()))?;
            let prob = || -> Result<f64, FaultSpecError> {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|p| (0.0..=1.0).contains(p))
                    .ok_or_else(|| FaultSpecError::BadProbability {
                        key: key.to_string(),
                        value: value.to_string(),
                    })
            };
            let count = |min: u64| -> Result<u64, FaultSpecError> {
                value
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n >= min)
                    .ok_or_else(|| FaultSpecError::BadCount {
                        key: key.to_string(),
                        value: value.to_string(),
                    })
            };
            match key {
                "drop" => spec.drop = prob()?,
                "corrupt" => spec.corrupt = prob()?,
                "dup" => spec.dup = prob()?,
                "disconnect-every" => spec.disconnect_every = Some(count(1)?),
                "seed" => spec.seed = count(0)?,
                other => return Err(FaultSpecError::UnknownKey(other.to_string())),
            }
        }
        Ok(spec)
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "drop={},corrupt={},dup={}",
            self.drop, self.corrupt, self.dup
        )?;
        if let Some(n) = self.disconnect_every {
            write!(f, ",disconnect-every={n}")?;
        }
        write!(f, ",seed={}", self.seed)
    }
}

/// The fate of one frame on the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Delivered unchanged.
    Deliver,
    /// Lost.
    Drop,
    /// Delivered with the bit `bit` of byte `byte` flipped.
    Corrupt {
        /// Index of the byte to damage (never the trailing delimiter).
        byte: usize,
        /// Bit number 0..8.
        bit: u8,
    },
    /// Delivered twice.
    Duplicate,
    /// Delivered, then the connection is closed.
    DeliverThenDisconnect,
}

/// Counts of what the link did, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FaultCounts {
    /// Frames seen.
    pub frames: u64,
    /// Frames dropped.
    pub dropped: u64,
    /// Frames corrupted.
    pub corrupted: u64,
    /// Frames duplicated.
    pub duplicated: u64,
    /// Forced disconnects.
    pub disconnects: u64,
}

/// Decides each frame's fate from a [`FaultSpec`], reproducibly.
#[derive(Debug, Clone)]
pub struct FaultInjector {
    spec: FaultSpec,
    rng: SplitMix64,
    since_disconnect: u64,
    counts: FaultCounts,
}

impl FaultInjector {
    /// An injector at the start of its sequence.
    pub fn new(spec: FaultSpec) -> FaultInjector {
        let rng = SplitMix64(spec.seed ^ 0x6d65_6c74_6c69_6e65);
        FaultInjector {
            spec,
            rng,
            since_disconnect: 0,
            counts: FaultCounts::default(),
        }
    }

    /// The specification in force.
    pub fn spec(&self) -> &FaultSpec {
        &self.spec
    }

    /// What has been done so far.
    pub fn counts(&self) -> FaultCounts {
        self.counts
    }

    /// The fate of the next frame, `len` bytes long including its delimiter.
    pub fn next_fate(&mut self, len: usize) -> Fate {
        self.counts.frames += 1;
        // Draw all three numbers every time so one probability does not shift the others' sequence.
        let (d, c, u) = (self.rng.unit(), self.rng.unit(), self.rng.unit());
        let pick = self.rng.next_u64();
        if d < self.spec.drop {
            self.counts.dropped += 1;
            return Fate::Drop;
        }
        if c < self.spec.corrupt && len > 1 {
            self.counts.corrupted += 1;
            let byte = (pick % (len as u64 - 1)) as usize;
            let bit = ((pick >> 32) % 8) as u8;
            return Fate::Corrupt { byte, bit };
        }
        self.since_disconnect += 1;
        if let Some(n) = self.spec.disconnect_every
            && self.since_disconnect >= n
        {
            self.since_disconnect = 0;
            self.counts.disconnects += 1;
            return Fate::DeliverThenDisconnect;
        }
        if u < self.spec.dup {
            self.counts.duplicated += 1;
            return Fate::Duplicate;
        }
        Fate::Deliver
    }

    /// Applies the next fate to `frame`, appending what the link delivers to `out`;
    /// returns true when the connection must now be closed.
    pub fn pass(&mut self, frame: &[u8], out: &mut Vec<u8>) -> bool {
        match self.next_fate(frame.len()) {
            Fate::Deliver => out.extend_from_slice(frame),
            Fate::Drop => {}
            Fate::Corrupt { byte, bit } => {
                let start = out.len();
                out.extend_from_slice(frame);
                out[start + byte] ^= 1 << bit;
            }
            Fate::Duplicate => {
                out.extend_from_slice(frame);
                out.extend_from_slice(frame);
            }
            Fate::DeliverThenDisconnect => {
                out.extend_from_slice(frame);
                return true;
            }
        }
        false
    }
}

/// Cuts a byte stream into `0x00`-terminated frames (the delimiter is kept).
#[derive(Debug, Clone, Default)]
pub struct FrameSplitter {
    pending: Vec<u8>,
}

impl FrameSplitter {
    /// An empty splitter.
    pub fn new() -> FrameSplitter {
        FrameSplitter::default()
    }

    /// Feeds bytes and calls `each` with every frame completed by them.
    pub fn feed(&mut self, mut bytes: &[u8], mut each: impl FnMut(&[u8])) {
        while let Some(end) = bytes.iter().position(|&b| b == 0) {
            let (head, rest) = bytes.split_at(end + 1);
            if self.pending.is_empty() {
                each(head);
            } else {
                self.pending.extend_from_slice(head);
                each(&self.pending);
                self.pending.clear();
            }
            bytes = rest;
        }
        self.pending.extend_from_slice(bytes);
    }

    /// Bytes of an unfinished frame held back.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator whose sequence for a seed is fixed by
/// its definition, so a fault schedule replays identically on any machine and any crate version.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_every_key_and_rejects_bad_values() {
        let s: FaultSpec = "drop=0.01,corrupt=0.02,dup=0.005,disconnect-every=50,seed=9"
            .parse()
            .unwrap();
        assert_eq!(s.drop, 0.01);
        assert_eq!(s.corrupt, 0.02);
        assert_eq!(s.dup, 0.005);
        assert_eq!(s.disconnect_every, Some(50));
        assert_eq!(s.seed, 9);
        assert_eq!(s.to_string().parse::<FaultSpec>().unwrap(), s);
        assert!(matches!(
            "drop=1.5".parse::<FaultSpec>(),
            Err(FaultSpecError::BadProbability { .. })
        ));
        assert!(matches!(
            "loss=0.1".parse::<FaultSpec>(),
            Err(FaultSpecError::UnknownKey(_))
        ));
        assert!(matches!(
            "disconnect-every=0".parse::<FaultSpec>(),
            Err(FaultSpecError::BadCount { .. })
        ));
        assert!(matches!(
            "drop".parse::<FaultSpec>(),
            Err(FaultSpecError::NotKeyValue(_))
        ));
    }

    #[test]
    fn fault_rates_follow_the_spec_over_many_frames() {
        let mut inj = FaultInjector::new("drop=0.1,corrupt=0.05,seed=3".parse().unwrap());
        for _ in 0..20_000 {
            inj.next_fate(40);
        }
        let c = inj.counts();
        assert!((1_800..2_200).contains(&c.dropped), "{c:?}");
        // corruption is drawn only for frames not dropped: 0.9 * 0.05 = 4.5 %
        assert!((750..1_050).contains(&c.corrupted), "{c:?}");
        assert_eq!(c.duplicated, 0);
    }

    #[test]
    fn corruption_flips_exactly_one_bit_and_spares_the_delimiter() {
        let mut inj = FaultInjector::new("corrupt=1,seed=1".parse().unwrap());
        let frame = [5u8, 1, 2, 3, 4, 0];
        for _ in 0..100 {
            let mut out = Vec::new();
            assert!(!inj.pass(&frame, &mut out));
            let flipped: u32 = out
                .iter()
                .zip(frame.iter())
                .map(|(a, b)| (a ^ b).count_ones())
                .sum();
            assert_eq!(flipped, 1);
            assert_eq!(out[5], 0);
        }
    }

    #[test]
    fn disconnect_every_n_frames_closes_the_link() {
        let mut inj = FaultInjector::new("disconnect-every=3".parse().unwrap());
        let closes: Vec<bool> = (0..9).map(|_| inj.pass(&[1, 0], &mut Vec::new())).collect();
        assert_eq!(
            closes,
            [false, false, true, false, false, true, false, false, true]
        );
    }

    #[test]
    fn splitter_reassembles_frames_across_reads() {
        let mut s = FrameSplitter::new();
        let mut frames = Vec::new();
        s.feed(&[1, 2], |f| frames.push(f.to_vec()));
        s.feed(&[3, 0, 4, 0, 5], |f| frames.push(f.to_vec()));
        assert_eq!(frames, vec![vec![1, 2, 3, 0], vec![4, 0]]);
        assert_eq!(s.pending(), 1);
    }
}
