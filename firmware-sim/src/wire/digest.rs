//! Layer digests and the job hash, defined over fields rather than frame bytes so that the
//! same job hashes the same whatever its sequence numbers or block splitting by frame.
//!
//! * **Layer digest** = SHA-256 of `"meltline-layer\0" ‖ layer u32 LE`, then for each
//!   `VectorBlock` in order: `param_set u16 LE ‖ kind u8 ‖ region u8 ‖ coding u8 ‖
//!   vectors u32 LE ‖ data.len() u32 LE ‖ data`. A `PartBlock` adds `part u16 LE` before
//!   those fields, and a `LaserBlock` adds `laser u8` before the part (if any) and those
//!   fields (a job sends one form only, so the encoding stays unambiguous).
//! * **Job hash** = SHA-256 of `"meltline-job\0" ‖ quantum_nm u32 LE ‖ layer_thickness_nm u32 LE
//!   ‖ layer_count u32 LE ‖ machine.len() u32 LE ‖ machine ‖ material.len() u32 LE ‖ material`,
//!   then for each `ParamSet` in order: `id u16 LE ‖ power_mw u32 LE ‖ mark_speed_mm_s u32 LE ‖
//!   spot_um u32 LE ‖ hatch_distance_um u32 LE ‖ skywriting u8`, then for each `Part` in order:
//!   `index u16 LE ‖ serial.len() u32 LE ‖ serial ‖ case.len() u32 LE ‖ case ‖ x i32 LE ‖
//!   y i32 LE ‖ rotation_mdeg i32 LE ‖ footprint 4 × i32 LE`, then for each layer in order its
//!   32-byte layer digest. A job without parts hashes as in protocol 3.
//! * **Part hash** = SHA-256 of `"meltline-part\0" ‖ index u16 LE`, then for each block of the
//!   part, in job order: `layer u32 LE ‖` the block's fields as in the layer digest (without
//!   the part). The controller recomputes it over what it executed of the part.
//!
//! The controller recomputes both: the layer digest before a layer may execute, the job hash
//! over the layers it actually executed (the report's "executed hash"). The job hash runs on a
//! [`Sha256State`] whose running state can be saved, so a controller that lost power keeps it
//! in its non-volatile record ([`crate::nvm`]) and still ends with the hash of the whole job.

use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};

use super::job::{JobHeader, ParamSet};
use super::part::Part;
use super::vector::VectorBlock;

/// Feeds a block's fields (parameter set, kind, region, coding, vectors, payload) to `update`.
fn block_fields(b: &VectorBlock<'_>, mut update: impl FnMut(&[u8])) {
    update(&b.param_set.to_le_bytes());
    update(&[b.kind as u8, b.region as u8, b.coding as u8]);
    update(&b.vectors.to_le_bytes());
    update(&(b.data.len() as u32).to_le_bytes());
    update(b.data);
}

/// Incremental layer digest.
#[derive(Clone, Debug)]
pub struct LayerDigest(Sha256);

impl LayerDigest {
    /// Starts the digest of layer `layer`.
    pub fn new(layer: u32) -> Self {
        let mut h = Sha256::new();
        h.update(b"meltline-layer\0");
        h.update(layer.to_le_bytes());
        Self(h)
    }

    /// Adds the next block of the layer; `laser` is the laser a `LaserBlock` names, `part` the
    /// part a `PartBlock` or `LaserBlock` names.
    pub fn block(&mut self, laser: Option<u8>, part: Option<u16>, b: &VectorBlock<'_>) {
        if let Some(l) = laser {
            self.0.update([l]);
        }
        if let Some(p) = part {
            self.0.update(p.to_le_bytes());
        }
        block_fields(b, |d| self.0.update(d));
    }

    /// The 32-byte digest.
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// SHA-256 (FIPS 180-4) whose running state is plain data: saved with
/// [`Sha256State::to_bytes`] and restored with [`Sha256State::from_bytes`], the same digest
/// comes out as if it had never been interrupted. Blocks go through `sha2`'s compression
/// function; only the padding is done here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sha256State {
    h: [u32; 8],
    buf: [u8; 64],
    buf_len: u8,
    len: u64,
}

const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

impl Default for Sha256State {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha256State {
    /// Bytes of the saved state: 8 words, the partial block, its length and the message length.
    pub const BYTES: usize = 32 + 64 + 1 + 8;

    /// The initial state.
    pub fn new() -> Self {
        Self {
            h: SHA256_IV,
            buf: [0; 64],
            buf_len: 0,
            len: 0,
        }
    }

    fn compress(&mut self) {
        sha2::compress256(&mut self.h, &[GenericArray::from(self.buf)]);
        self.buf_len = 0;
    }

    /// Adds `data` to the message.
    pub fn update(&mut self, data: impl AsRef<[u8]>) {
        let mut data = data.as_ref();
        self.len = self.len.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            let at = usize::from(self.buf_len);
            let take = (64 - at).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(dst) = self.buf.get_mut(at..at + take) {
                dst.copy_from_slice(head);
            }
            self.buf_len += take as u8;
            data = rest;
            if self.buf_len == 64 {
                self.compress();
            }
        }
    }

    /// The 32-byte digest of everything added.
    pub fn finish(mut self) -> [u8; 32] {
        let bits = self.len.wrapping_mul(8);
        let len = self.len;
        self.update([0x80]);
        while self.buf_len != 56 {
            self.update([0]);
        }
        self.update(bits.to_be_bytes());
        self.len = len;
        let mut out = [0u8; 32];
        for (o, w) in out.chunks_exact_mut(4).zip(self.h) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out
    }

    /// The state as bytes (little-endian words, partial block, its length, message length).
    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let mut out = [0u8; Self::BYTES];
        let (words, rest) = out.split_at_mut(32);
        for (o, w) in words.chunks_exact_mut(4).zip(self.h) {
            o.copy_from_slice(&w.to_le_bytes());
        }
        let (buf, rest) = rest.split_at_mut(64);
        buf.copy_from_slice(&self.buf);
        let (n, len) = rest.split_at_mut(1);
        n.copy_from_slice(&[self.buf_len]);
        len.copy_from_slice(&self.len.to_le_bytes());
        out
    }

    /// Restores a state saved by [`Sha256State::to_bytes`]; `None` when the bytes cannot be one
    /// (partial block length inconsistent with the message length).
    pub fn from_bytes(bytes: &[u8; Self::BYTES]) -> Option<Self> {
        let (words, rest) = bytes.split_at(32);
        let mut h = [0u32; 8];
        for (w, b) in h.iter_mut().zip(words.chunks_exact(4)) {
            *w = u32::from_le_bytes(b.try_into().ok()?);
        }
        let (buf, rest) = rest.split_at(64);
        let (n, len) = rest.split_at(1);
        let buf_len = *n.first()?;
        let len = u64::from_le_bytes(len.try_into().ok()?);
        if buf_len >= 64 || len % 64 != u64::from(buf_len) {
            return None;
        }
        Some(Self {
            h,
            buf: buf.try_into().ok()?,
            buf_len,
            len,
        })
    }
}

/// Incremental job hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobDigest(Sha256State);

impl JobDigest {
    /// Starts the job hash from the header's fields (its own hash field excluded).
    pub fn new(h: &JobHeader<'_>) -> Self {
        let mut s = Sha256State::new();
        s.update(b"meltline-job\0");
        s.update(h.quantum_nm.to_le_bytes());
        s.update(h.layer_thickness_nm.to_le_bytes());
        s.update(h.layer_count.to_le_bytes());
        s.update((h.machine.len() as u32).to_le_bytes());
        s.update(h.machine.as_bytes());
        s.update((h.material.len() as u32).to_le_bytes());
        s.update(h.material.as_bytes());
        Self(s)
    }

    /// Adds a parameter set.
    pub fn param_set(&mut self, p: &ParamSet) {
        let s = &mut self.0;
        s.update(p.id.to_le_bytes());
        s.update(p.power_mw.to_le_bytes());
        s.update(p.mark_speed_mm_s.to_le_bytes());
        s.update(p.spot_um.to_le_bytes());
        s.update(p.hatch_distance_um.to_le_bytes());
        s.update([u8::from(p.skywriting)]);
    }

    /// Adds a part of the part table.
    pub fn part(&mut self, p: &Part<'_>) {
        let s = &mut self.0;
        s.update(p.index.to_le_bytes());
        s.update((p.serial.len() as u32).to_le_bytes());
        s.update(p.serial.as_bytes());
        s.update((p.case.len() as u32).to_le_bytes());
        s.update(p.case.as_bytes());
        for v in [p.x, p.y, p.rotation_mdeg] {
            s.update(v.to_le_bytes());
        }
        for v in p.footprint {
            s.update(v.to_le_bytes());
        }
    }

    /// Adds a layer digest.
    pub fn layer(&mut self, digest: &[u8; 32]) {
        self.0.update(digest);
    }

    /// The 32-byte job hash.
    pub fn finish(self) -> [u8; 32] {
        self.0.finish()
    }

    /// The running state, for saving.
    pub fn state(&self) -> &Sha256State {
        &self.0
    }

    /// Continues a job hash from a saved state.
    pub fn from_state(state: Sha256State) -> Self {
        Self(state)
    }
}

/// Incremental part hash: what of one part was (or is to be) executed. Its running state can be
/// saved ([`PartDigest::state`]) like the job hash's, so a plate continued after a power loss
/// ends with each part's hash of an uninterrupted build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartDigest(Sha256State);

impl PartDigest {
    /// Starts the hash of part `index`.
    pub fn new(index: u16) -> Self {
        let mut h = Sha256State::new();
        h.update(b"meltline-part\0");
        h.update(index.to_le_bytes());
        Self(h)
    }

    /// Adds a block of the part in layer `layer`.
    pub fn block(&mut self, layer: u32, b: &VectorBlock<'_>) {
        self.0.update(layer.to_le_bytes());
        block_fields(b, |d| self.0.update(d));
    }

    /// The running state, to be saved.
    pub fn state(&self) -> &Sha256State {
        &self.0
    }

    /// Continues from a saved state.
    pub fn from_state(state: Sha256State) -> Self {
        Self(state)
    }

    /// The 32-byte part hash.
    pub fn finish(self) -> [u8; 32] {
        self.0.finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn saved_and_restored_sha256_equals_sha2(data in proptest::collection::vec(any::<u8>(), 0..300),
                                                 cut in 0usize..300, split in 1usize..70) {
            let cut = cut.min(data.len());
            let mut s = Sha256State::new();
            for c in data[..cut].chunks(split) {
                s.update(c);
            }
            let mut s = Sha256State::from_bytes(&s.to_bytes()).unwrap();
            s.update(&data[cut..]);
            let want: [u8; 32] = Sha256::digest(&data).into();
            prop_assert_eq!(s.finish(), want);
        }
    }

    #[test]
    fn an_inconsistent_saved_state_is_refused() {
        let mut s = Sha256State::new();
        s.update([1, 2, 3]);
        let mut b = s.to_bytes();
        b[96] = 5; // partial block length no longer matches the message length
        assert!(Sha256State::from_bytes(&b).is_none());
    }
}
