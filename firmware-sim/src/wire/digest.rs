//! Layer digests and the job hash, defined over fields rather than frame bytes so that the
//! same job hashes the same whatever its sequence numbers or block splitting by frame.
//!
//! * **Layer digest** = SHA-256 of `"meltline-layer\0" ‖ layer u32 LE`, then for each
//!   `VectorBlock` in order: `param_set u16 LE ‖ kind u8 ‖ region u8 ‖ coding u8 ‖
//!   vectors u32 LE ‖ data.len() u32 LE ‖ data`.
//! * **Job hash** = SHA-256 of `"meltline-job\0" ‖ quantum_nm u32 LE ‖ layer_thickness_nm u32 LE
//!   ‖ layer_count u32 LE ‖ machine.len() u32 LE ‖ machine ‖ material.len() u32 LE ‖ material`,
//!   then for each `ParamSet` in order: `id u16 LE ‖ power_mw u32 LE ‖ mark_speed_mm_s u32 LE ‖
//!   spot_um u32 LE ‖ hatch_distance_um u32 LE ‖ skywriting u8`, then for each layer in order its
//!   32-byte layer digest.
//!
//! The controller recomputes both: the layer digest before a layer may execute, the job hash
//! over the layers it actually executed (the report's "executed hash").

use sha2::{Digest, Sha256};

use super::job::{JobHeader, ParamSet};
use super::vector::VectorBlock;

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

    /// Adds the next block of the layer.
    pub fn block(&mut self, b: &VectorBlock<'_>) {
        let h = &mut self.0;
        h.update(b.param_set.to_le_bytes());
        h.update([b.kind as u8, b.region as u8, b.coding as u8]);
        h.update(b.vectors.to_le_bytes());
        h.update((b.data.len() as u32).to_le_bytes());
        h.update(b.data);
    }

    /// The 32-byte digest.
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// Incremental job hash.
#[derive(Clone, Debug)]
pub struct JobDigest(Sha256);

impl JobDigest {
    /// Starts the job hash from the header's fields (its own hash field excluded).
    pub fn new(h: &JobHeader<'_>) -> Self {
        let mut s = Sha256::new();
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

    /// Adds a layer digest.
    pub fn layer(&mut self, digest: &[u8; 32]) {
        self.0.update(digest);
    }

    /// The 32-byte job hash.
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}
