//! The controller's non-volatile record: what a printer keeps across a power loss so it can
//! continue a build from its last completed layer without exposing any layer twice.
//!
//! A real controller keeps it in FRAM or EEPROM (about 9 KB, most of it one entry per part of
//! a plate); here it is [`NV_RECORD_LEN`] bytes behind the [`NonVolatile`] trait ([`RamRecord`] for tests; the
//! simulator stores it in a file, written atomically). The controller writes the record after
//! every executed layer — before the layer is reported done — and erases it when the job ends
//! (`Done` or `Abort`). On start it loads the record; a torn, blank or foreign record is
//! ignored. It advertises a valid one in `Hello::resume`, and a `JobHeader` with the same job
//! hash continues that job (see [`crate::controller`]).
//!
//! # Layout (little endian, [`NV_RECORD_LEN`] bytes)
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 4 | magic `"MLNV"` |
//! | 4 | 2 | record version ([`NV_VERSION`]) |
//! | 6 | 1 | lasers down (bit per laser index): a laser failed and the job continues on the others ([`NvRecord::lasers_down`]) |
//! | 7 | 1 | reserved, 0 |
//! | 8 | 32 | job hash announced by the job's header |
//! | 40 | 32 | SHA-256 of the job's header and parameter sets ([`NvRecord::prefix_sha256`]) |
//! | 72 | 4 | layer count of the job |
//! | 76 | 4 | layers completed (= next layer to expose) |
//! | 80 | 105 | executed job-hash state ([`Sha256State::to_bytes`]) |
//! | 185 | 72 | running totals: mark, jump, delay, recoat, interlock ticks, energy nJ, marks, jumps, mark length nm (u64 each) |
//! | 257 | 8 | scan-head position after the last layer (x, y: i32, quanta) |
//! | 265 | 1 | 1 when a verified release's layer chain follows, else 0 |
//! | 266 | 32 | release chain value the next layer's `LayerLink` must meet ([`NvRecord::release_chain`]) |
//! | 298 | 105 | job-hash state over the completed layers as received ([`NvRecord::received`]) |
//! | 403 | 2 | parts of a plate job whose entries follow (0 for a job without parts) |
//! | 405 | 64 × 136 | per part ([`NvPart`]): vectors, energy nJ, mark ticks (u64 each), part-hash state (105), skipped (1: 0 or 1), skip layer (u32), skip rule (2, postcard) |
//! | 9109 | 4 | CRC-32/ISO-HDLC of bytes 0..9109 |
//!
//! ```
//! use meltline_firmware::nvm::{NonVolatile, NvRecord, RamRecord};
//! let mut ram = RamRecord::default();
//! assert_eq!(NvRecord::load(&mut ram), None); // blank
//! let mut rec = NvRecord::new([7; 32], [8; 32], 10);
//! rec.layers_done = 4;
//! rec.store(&mut ram).unwrap();
//! assert_eq!(NvRecord::load(&mut ram).unwrap().layers_done, 4);
//! ram.bytes_mut()[100] ^= 1; // a torn write
//! assert_eq!(NvRecord::load(&mut ram), None);
//! ```

use crate::machine::LayerTiming;
use crate::wire::digest::{JobDigest, PartDigest, Sha256State};
use crate::wire::{MAX_PARTS, Point, Rule};

/// Bytes of one part's entry in a plate job's record.
pub const NV_PART_LEN: usize = 3 * 8 + Sha256State::BYTES + 1 + 4 + 2;
/// Bytes before the part entries.
const BASE: usize = 405;
/// Size of the stored record in bytes: the job's progress and one entry per part of a plate of
/// up to [`MAX_PARTS`] parts (about 9 KB: a small FRAM).
pub const NV_RECORD_LEN: usize = BASE + MAX_PARTS * NV_PART_LEN + 4;
/// Version of the record layout (2: the release chain position was added; 3: plate jobs, one
/// entry per part; 4: the lasers down).
pub const NV_VERSION: u16 = 4;
const MAGIC: [u8; 4] = *b"MLNV";
const BODY: usize = NV_RECORD_LEN - 4;
const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// The medium refused to store the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the non-volatile record could not be written")]
pub struct NvWriteError;

/// A small non-volatile memory holding one record of [`NV_RECORD_LEN`] bytes.
pub trait NonVolatile {
    /// Copies the stored bytes into `out`; returns `false` when nothing readable is stored (a
    /// blank or unreadable medium). The bytes are checked by the caller, so a torn write may
    /// come back as is.
    fn load(&mut self, out: &mut [u8; NV_RECORD_LEN]) -> bool;
    /// Replaces the stored bytes; after `Ok` a power loss must not lose them.
    fn store(&mut self, bytes: &[u8; NV_RECORD_LEN]) -> Result<(), NvWriteError>;
    /// Forgets the record (stores zeros, which never pass the CRC).
    fn erase(&mut self) -> Result<(), NvWriteError> {
        self.store(&[0; NV_RECORD_LEN])
    }
    /// Whether anything survives a power loss; a controller without such memory keeps and
    /// advertises no record.
    fn persistent(&self) -> bool {
        true
    }
}

/// No non-volatile memory: nothing is kept across a power loss.
impl NonVolatile for () {
    fn persistent(&self) -> bool {
        false
    }
    fn load(&mut self, _: &mut [u8; NV_RECORD_LEN]) -> bool {
        false
    }
    fn store(&mut self, _: &[u8; NV_RECORD_LEN]) -> Result<(), NvWriteError> {
        Ok(())
    }
}

impl<T: NonVolatile + ?Sized> NonVolatile for &mut T {
    fn load(&mut self, out: &mut [u8; NV_RECORD_LEN]) -> bool {
        (**self).load(out)
    }
    fn store(&mut self, bytes: &[u8; NV_RECORD_LEN]) -> Result<(), NvWriteError> {
        (**self).store(bytes)
    }
    fn erase(&mut self) -> Result<(), NvWriteError> {
        (**self).erase()
    }
    fn persistent(&self) -> bool {
        (**self).persistent()
    }
}

/// A record kept in memory — the RAM of a test that outlives the controller it gives power to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RamRecord {
    bytes: [u8; NV_RECORD_LEN],
    written: bool,
    /// Number of successful stores.
    pub stores: u32,
    /// Refuse every store (a failed medium).
    pub fail_stores: bool,
}

impl Default for RamRecord {
    fn default() -> Self {
        Self {
            bytes: [0; NV_RECORD_LEN],
            written: false,
            stores: 0,
            fail_stores: false,
        }
    }
}

impl RamRecord {
    /// The stored bytes, to inspect or to damage (a torn write, a bit flip).
    pub fn bytes_mut(&mut self) -> &mut [u8; NV_RECORD_LEN] {
        &mut self.bytes
    }
}

impl NonVolatile for RamRecord {
    fn load(&mut self, out: &mut [u8; NV_RECORD_LEN]) -> bool {
        out.copy_from_slice(&self.bytes);
        self.written
    }
    fn store(&mut self, bytes: &[u8; NV_RECORD_LEN]) -> Result<(), NvWriteError> {
        if self.fail_stores {
            return Err(NvWriteError);
        }
        self.bytes.copy_from_slice(bytes);
        self.written = true;
        self.stores += 1;
        Ok(())
    }
}

/// The controller's progress through one job, as kept across a power loss.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NvRecord {
    /// Job hash announced by the job's header (a job without one is never recorded).
    pub job_sha256: [u8; 32],
    /// SHA-256 of the header fields and parameter sets, in job-hash order: a resumed job must
    /// match it before any layer is accepted.
    pub prefix_sha256: [u8; 32],
    /// Layers announced by the header.
    pub layer_count: u32,
    /// Layers executed completely; the next layer to expose.
    pub layers_done: u32,
    /// Job hash over what was executed so far.
    pub executed: Sha256State,
    /// Job hash over the completed layers as they were received (their verified digests): the
    /// same as `executed` unless a part of a plate was left out; the job's `JobEnd` is checked
    /// against it.
    pub received: Sha256State,
    /// Time, energy and counts summed over the executed layers.
    pub totals: LayerTiming,
    /// Where the scan head stood after the last executed layer.
    pub head: Point,
    /// For a job run under a verified release: the chain value that the next layer's
    /// `LayerLink` must meet (see [`crate::wire::release`]). It lets a resumed released job
    /// continue at the next layer without the host sending the completed layers again.
    pub release_chain: Option<[u8; 32]>,
    /// Parts of a plate job (their entries are read with [`NvRecord::load_parts`]); 0 for a
    /// job without parts.
    pub parts: u16,
    /// The lasers that failed (bit per laser index). Not 0: the job stopped at
    /// `layers_done` when one failed, and a job with the same header, parameter sets and part
    /// table whose later layers are planned on the other lasers continues it (its own hash).
    pub lasers_down: u8,
}

/// One part of a plate job as the record keeps it after a completed layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NvPart {
    /// Vectors marked.
    pub vectors: u64,
    /// Energy delivered, nJ.
    pub energy_nj: u64,
    /// Mark time, ticks.
    pub mark_ticks: u64,
    /// The part hash over what was marked.
    pub digest: PartDigest,
    /// The layer from which it is left out and why.
    pub skipped: Option<(u32, Rule)>,
}

impl NvPart {
    /// A part of which nothing is marked yet.
    pub fn new(index: u16) -> Self {
        Self {
            vectors: 0,
            energy_nj: 0,
            mark_ticks: 0,
            digest: PartDigest::new(index),
            skipped: None,
        }
    }

    fn put(&self, p: &mut Put<'_>) {
        p.bytes(&self.vectors.to_le_bytes());
        p.bytes(&self.energy_nj.to_le_bytes());
        p.bytes(&self.mark_ticks.to_le_bytes());
        p.bytes(&self.digest.state().to_bytes());
        let (layer, rule) = self.skipped.unwrap_or((0, Rule::OperatorSkip));
        p.bytes(&[u8::from(self.skipped.is_some())]);
        p.bytes(&layer.to_le_bytes());
        let mut code = [0u8; 2];
        // A rule is one or two postcard bytes (its variant index).
        let _ = postcard::to_slice(&rule, &mut code);
        p.bytes(&code);
    }

    fn take(t: &mut Take<'_>) -> Option<Self> {
        let vectors = t.u64()?;
        let energy_nj = t.u64()?;
        let mark_ticks = t.u64()?;
        let digest = PartDigest::from_state(Sha256State::from_bytes(&t.array()?)?);
        let skipped = t.array::<1>()?;
        let layer = t.u32()?;
        let code: [u8; 2] = t.array()?;
        let skipped = match skipped {
            [0] => None,
            [1] => Some((layer, postcard::take_from_bytes::<Rule>(&code).ok()?.0)),
            _ => return None,
        };
        Some(Self {
            vectors,
            energy_nj,
            mark_ticks,
            digest,
            skipped,
        })
    }
}

/// Sequential little-endian writer over a fixed buffer; never panics.
struct Put<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Put<'_> {
    fn bytes(&mut self, b: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.at..self.at + b.len()) {
            dst.copy_from_slice(b);
        }
        self.at += b.len();
    }
}

/// Sequential little-endian reader.
struct Take<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Take<'_> {
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let b = self.buf.get(self.at..self.at + N)?.try_into().ok()?;
        self.at += N;
        Some(b)
    }
    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }
    fn i32(&mut self) -> Option<i32> {
        self.array().map(i32::from_le_bytes)
    }
}

impl NvRecord {
    /// A record of a job that has executed nothing yet.
    pub fn new(job_sha256: [u8; 32], prefix_sha256: [u8; 32], layer_count: u32) -> Self {
        Self {
            job_sha256,
            prefix_sha256,
            layer_count,
            layers_done: 0,
            executed: Sha256State::new(),
            received: Sha256State::new(),
            totals: LayerTiming::default(),
            head: Point::default(),
            release_chain: None,
            parts: 0,
            lasers_down: 0,
        }
    }

    /// The executed job hash so far, as a running digest.
    pub fn executed_digest(&self) -> JobDigest {
        JobDigest::from_state(self.executed.clone())
    }

    /// The stored form of a record without part entries, CRC included.
    pub fn to_bytes(&self) -> [u8; NV_RECORD_LEN] {
        self.to_bytes_with_parts(core::iter::empty())
    }

    /// The stored form with the first [`NvRecord::parts`] entries of `parts` (missing ones
    /// stored as parts with nothing marked), CRC included.
    pub fn to_bytes_with_parts<'a>(
        &self,
        parts: impl IntoIterator<Item = &'a NvPart>,
    ) -> [u8; NV_RECORD_LEN] {
        let mut out = [0u8; NV_RECORD_LEN];
        let mut p = Put {
            buf: &mut out,
            at: 0,
        };
        p.bytes(&MAGIC);
        p.bytes(&NV_VERSION.to_le_bytes());
        p.bytes(&[self.lasers_down, 0]);
        p.bytes(&self.job_sha256);
        p.bytes(&self.prefix_sha256);
        p.bytes(&self.layer_count.to_le_bytes());
        p.bytes(&self.layers_done.to_le_bytes());
        p.bytes(&self.executed.to_bytes());
        let t = &self.totals;
        for v in [
            t.mark_ticks,
            t.jump_ticks,
            t.delay_ticks,
            t.recoat_ticks,
            t.interlock_ticks,
            t.energy_nj,
            t.marks,
            t.jumps,
            t.mark_length_nm,
        ] {
            p.bytes(&v.to_le_bytes());
        }
        p.bytes(&self.head.x.to_le_bytes());
        p.bytes(&self.head.y.to_le_bytes());
        p.bytes(&[u8::from(self.release_chain.is_some())]);
        p.bytes(&self.release_chain.unwrap_or([0; 32]));
        p.bytes(&self.received.to_bytes());
        p.bytes(&self.parts.to_le_bytes());
        let mut parts = parts.into_iter();
        for i in 0..self.parts.min(MAX_PARTS as u16) {
            match parts.next() {
                Some(e) => e.put(&mut p),
                None => NvPart::new(i).put(&mut p),
            }
        }
        let crc = CRC32.checksum(out.get(..BODY).unwrap_or(&[]));
        if let Some(dst) = out.get_mut(BODY..) {
            dst.copy_from_slice(&crc.to_le_bytes());
        }
        out
    }

    /// Reads a stored record; `None` when it is blank, torn (CRC), of another layout version,
    /// or inconsistent (more layers done than the job has).
    pub fn from_bytes(bytes: &[u8; NV_RECORD_LEN]) -> Option<Self> {
        let (body, crc) = bytes.split_at(BODY);
        if u32::from_le_bytes(crc.try_into().ok()?) != CRC32.checksum(body) {
            return None;
        }
        let mut t = Take { buf: body, at: 0 };
        if t.array::<4>()? != MAGIC || u16::from_le_bytes(t.array()?) != NV_VERSION {
            return None;
        }
        let [lasers_down, _] = t.array::<2>()?;
        let job_sha256 = t.array()?;
        let prefix_sha256 = t.array()?;
        let layer_count = t.u32()?;
        let layers_done = t.u32()?;
        let executed = Sha256State::from_bytes(&t.array()?)?;
        let totals = LayerTiming {
            mark_ticks: t.u64()?,
            jump_ticks: t.u64()?,
            delay_ticks: t.u64()?,
            recoat_ticks: t.u64()?,
            interlock_ticks: t.u64()?,
            energy_nj: t.u64()?,
            marks: t.u64()?,
            jumps: t.u64()?,
            mark_length_nm: t.u64()?,
        };
        let head = Point {
            x: t.i32()?,
            y: t.i32()?,
        };
        let chained = t.array::<1>()?;
        let chain: [u8; 32] = t.array()?;
        let release_chain = match chained {
            [0] => None,
            [1] => Some(chain),
            _ => return None,
        };
        let received = Sha256State::from_bytes(&t.array()?)?;
        let parts = u16::from_le_bytes(t.array()?);
        if layers_done > layer_count || usize::from(parts) > MAX_PARTS {
            return None;
        }
        for _ in 0..parts {
            NvPart::take(&mut t)?;
        }
        Some(Self {
            job_sha256,
            prefix_sha256,
            layer_count,
            layers_done,
            executed,
            totals,
            head,
            release_chain,
            received,
            parts,
            lasers_down,
        })
    }

    /// The part entries of the valid record in `nv`; `None` when there is none.
    pub fn load_parts(nv: &mut impl NonVolatile) -> Option<heapless::Vec<NvPart, MAX_PARTS>> {
        let mut bytes = [0u8; NV_RECORD_LEN];
        if !nv.load(&mut bytes) {
            return None;
        }
        let r = Self::from_bytes(&bytes)?;
        let mut t = Take {
            buf: bytes.get(BASE..)?,
            at: 0,
        };
        let mut out = heapless::Vec::new();
        for _ in 0..r.parts {
            out.push(NvPart::take(&mut t)?).ok()?;
        }
        Some(out)
    }

    /// Loads the record from `nv`; `None` when there is no valid one.
    pub fn load(nv: &mut impl NonVolatile) -> Option<Self> {
        let mut bytes = [0u8; NV_RECORD_LEN];
        if !nv.load(&mut bytes) {
            return None;
        }
        Self::from_bytes(&bytes)
    }

    /// Stores the record in `nv`.
    pub fn store(&self, nv: &mut impl NonVolatile) -> Result<(), NvWriteError> {
        nv.store(&self.to_bytes())
    }

    /// Stores the record with its part entries in `nv`.
    pub fn store_with_parts<'a>(
        &self,
        nv: &mut impl NonVolatile,
        parts: impl IntoIterator<Item = &'a NvPart>,
    ) -> Result<(), NvWriteError> {
        nv.store(&self.to_bytes_with_parts(parts))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn sample() -> NvRecord {
        let mut executed = Sha256State::new();
        executed.update(b"meltline-job\0 and a little more than one block of sixty-four bytes");
        let mut executed_copy = executed.clone();
        executed_copy.update(b"and a layer left out");
        NvRecord {
            job_sha256: [3; 32],
            prefix_sha256: [4; 32],
            layer_count: 9,
            layers_done: 5,
            executed,
            totals: LayerTiming {
                mark_ticks: 1,
                jump_ticks: 2,
                delay_ticks: 3,
                recoat_ticks: 4,
                interlock_ticks: 5,
                energy_nj: 6,
                marks: 7,
                jumps: 8,
                mark_length_nm: 9,
            },
            head: Point { x: -12, y: 34 },
            release_chain: Some([0xa5; 32]),
            received: executed_copy,
            parts: 0,
            lasers_down: 0b0100,
        }
    }

    fn sample_parts() -> [NvPart; 3] {
        let mut a = NvPart::new(0);
        a.vectors = 11;
        a.energy_nj = 22;
        a.mark_ticks = 33;
        let mut b = NvPart::new(1);
        b.skipped = Some((4, Rule::RecoaterCollision));
        let mut c = NvPart::new(2);
        c.skipped = Some((2, Rule::OperatorSkip));
        c.vectors = 7;
        [a, b, c]
    }

    #[test]
    fn a_plate_record_keeps_every_parts_tally_hash_state_and_skip() {
        let r = NvRecord {
            parts: 3,
            ..sample()
        };
        let parts = sample_parts();
        let mut ram = RamRecord::default();
        r.store_with_parts(&mut ram, &parts).unwrap();
        assert_eq!(NvRecord::load(&mut ram), Some(r));
        let back = NvRecord::load_parts(&mut ram).unwrap();
        assert_eq!(back.as_slice(), &parts);
        // A skip flag that is neither 0 nor 1 makes the record unreadable, CRC or not.
        let mut bytes = NvRecord {
            parts: 3,
            ..sample()
        }
        .to_bytes_with_parts(&parts);
        bytes[BASE + NV_PART_LEN - 7] = 2;
        let crc = CRC32.checksum(&bytes[..BODY]);
        bytes[BODY..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(NvRecord::from_bytes(&bytes), None);
    }

    #[test]
    fn a_record_without_a_release_chain_survives_its_stored_form() {
        let r = NvRecord {
            release_chain: None,
            ..sample()
        };
        assert_eq!(NvRecord::from_bytes(&r.to_bytes()), Some(r));
    }

    #[test]
    fn a_record_of_the_first_layout_version_is_ignored() {
        let mut old = sample().to_bytes();
        old[4..6].copy_from_slice(&1u16.to_le_bytes());
        let crc = CRC32.checksum(&old[..BODY]);
        old[BODY..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(NvRecord::from_bytes(&old), None);
    }

    #[test]
    fn a_record_survives_its_stored_form() {
        let r = sample();
        assert_eq!(NvRecord::from_bytes(&r.to_bytes()), Some(r));
    }

    #[test]
    fn every_single_bit_flip_of_a_record_is_detected() {
        let good = NvRecord {
            parts: 3,
            ..sample()
        }
        .to_bytes_with_parts(&sample_parts());
        // Every byte of the job's progress and the first part entries; every 13th beyond.
        let bytes = (0..NV_RECORD_LEN).filter(|i| *i < BASE + 2 * NV_PART_LEN || i % 13 == 0);
        for i in bytes {
            for bit in 0..8 {
                let mut bad = good;
                bad[i] ^= 1 << bit;
                assert_eq!(NvRecord::from_bytes(&bad), None, "byte {i} bit {bit}");
            }
        }
    }

    #[test]
    fn blank_erased_and_half_written_records_are_ignored() {
        let mut ram = RamRecord::default();
        assert_eq!(NvRecord::load(&mut ram), None, "never written");
        sample().store(&mut ram).unwrap();
        assert!(NvRecord::load(&mut ram).is_some());
        ram.erase().unwrap();
        assert_eq!(NvRecord::load(&mut ram), None, "erased");
        // Power lost halfway through a write: the first half new, the rest old.
        sample().store(&mut ram).unwrap();
        let mut newer = sample();
        newer.layers_done = 6;
        let new = newer.to_bytes();
        ram.bytes_mut()[..NV_RECORD_LEN / 2].copy_from_slice(&new[..NV_RECORD_LEN / 2]);
        assert_eq!(NvRecord::load(&mut ram), None, "torn");
    }

    #[test]
    fn a_record_claiming_more_layers_than_its_job_is_ignored() {
        let mut r = sample();
        r.layers_done = r.layer_count + 1;
        assert_eq!(NvRecord::from_bytes(&r.to_bytes()), None);
    }
}
