//! Release messages: `Release` (a signed approval of one job) and `LayerLink` (the per-layer
//! proof that lets the controller check each layer against the release before exposing it).
//!
//! # What is signed
//!
//! A streamed job cannot be hashed whole before it starts, so the release signs a **layer
//! chain** the controller can follow one layer at a time:
//!
//! ```text
//! c[N] = SHA-256("meltline-chain-end\0" ‖ N)
//! c[k] = SHA-256("meltline-chain\0" ‖ k ‖ d[k] ‖ c[k+1])      d[k] = layer digest of layer k
//! layers_root = c[0]                                           (integers u32 little endian)
//! ```
//!
//! Each layer carries `LayerLink { layer: k, rest: c[k+1] }` just before its `LayerEnd`; the
//! controller, holding the expected `c[k]`, recomputes it from the digest of what it received
//! and `rest`, and only then lets the layer execute; `rest` becomes the next expected value.
//! A chain is a Merkle tree of degree one: each proof is 32 bytes and the controller keeps one
//! hash, whatever the layer count.
//!
//! The Ed25519 signature covers [`Release::signed_bytes`]: a domain tag, then every other field
//! of the record (job hash, setup hash over header and parameter sets, layers root, signer's
//! printed name, UTC time, meaning, key id), so neither the job nor the record can change
//! without breaking it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest signer name or meaning the controller accepts, in bytes.
pub const MAX_TEXT: usize = 128;

/// Bytes of [`Release::signed_bytes`] at most (fixed fields + two texts of [`MAX_TEXT`]).
pub const MAX_SIGNED: usize = 24 + 8 + 3 * 32 + 8 + 2 * (4 + MAX_TEXT);

/// A signed release of one job for manufacturing (21 CFR Part 11: printed name, date and time,
/// meaning, bound to the record). Sent right after the `JobHeader`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release<'a> {
    /// First 8 bytes of SHA-256 of the signer's Ed25519 public key.
    pub key_id: [u8; 8],
    /// Printed name of the signer.
    pub signer: &'a str,
    /// Meaning of the signature, e.g. "released for manufacturing".
    pub meaning: &'a str,
    /// Time of signing, seconds since 1970-01-01T00:00:00Z.
    pub utc_seconds: u64,
    /// The job hash (as in `JobEnd`).
    pub job_sha256: [u8; 32],
    /// Hash of the header and parameter sets (see [`setup_sha256`]).
    pub setup_sha256: [u8; 32],
    /// `c[0]` of the layer chain (see the module docs).
    pub layers_root: [u8; 32],
    /// Ed25519 signature over [`Release::signed_bytes`], as two 32-byte halves (R, s).
    pub signature: [[u8; 32]; 2],
}

/// Proof for one layer: the chain value of the layers after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerLink {
    /// The layer this proof belongs to.
    pub layer: u32,
    /// `c[layer + 1]`.
    pub rest: [u8; 32],
}

/// Why signed bytes could not be formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("signer name or meaning longer than {MAX_TEXT} bytes")]
pub struct TextTooLong;

impl Release<'_> {
    /// The bytes the signature covers, written into `out`; returns their length.
    pub fn signed_bytes(&self, out: &mut [u8; MAX_SIGNED]) -> Result<usize, TextTooLong> {
        if self.signer.len() > MAX_TEXT || self.meaning.len() > MAX_TEXT {
            return Err(TextTooLong);
        }
        let mut at = 0usize;
        let mut put = |bytes: &[u8]| {
            if let Some(dst) = out.get_mut(at..at + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
            at += bytes.len();
        };
        put(b"meltline-release-v1\0\0\0\0\0");
        put(&self.key_id);
        put(&self.job_sha256);
        put(&self.setup_sha256);
        put(&self.layers_root);
        put(&self.utc_seconds.to_le_bytes());
        put(&(self.signer.len() as u32).to_le_bytes());
        put(self.signer.as_bytes());
        put(&(self.meaning.len() as u32).to_le_bytes());
        put(self.meaning.as_bytes());
        Ok(at)
    }

    /// The signature as 64 bytes.
    pub fn signature_bytes(&self) -> [u8; 64] {
        let mut s = [0u8; 64];
        let (r, tail) = s.split_at_mut(32);
        r.copy_from_slice(&self.signature[0]);
        tail.copy_from_slice(&self.signature[1]);
        s
    }
}

/// Splits a 64-byte signature into the wire's two halves.
pub fn signature_halves(sig: &[u8; 64]) -> [[u8; 32]; 2] {
    let mut h = [[0u8; 32]; 2];
    let (r, s) = sig.split_at(32);
    h[0].copy_from_slice(r);
    h[1].copy_from_slice(s);
    h
}

/// The key id of an Ed25519 public key: the first 8 bytes of its SHA-256.
pub fn key_id(public_key: &[u8; 32]) -> [u8; 8] {
    let d = Sha256::digest(public_key);
    let mut id = [0u8; 8];
    id.copy_from_slice(d.get(..8).unwrap_or(&[0; 8]));
    id
}

/// The setup hash: the job hash's running state after the header and parameter sets, finished
/// (what the controller computes as its prefix hash).
pub fn setup_sha256(prefix: super::digest::JobDigest) -> [u8; 32] {
    prefix.finish()
}

/// `c[N]`: the chain value after the last of `layer_count` layers.
pub fn chain_end(layer_count: u32) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"meltline-chain-end\0");
    h.update(layer_count.to_le_bytes());
    h.finalize().into()
}

/// `c[k]` from layer `k`'s digest and `c[k+1]`.
pub fn chain_link(layer: u32, digest: &[u8; 32], rest: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"meltline-chain\0");
    h.update(layer.to_le_bytes());
    h.update(digest);
    h.update(rest);
    h.finalize().into()
}

/// The chain values `c[0..=N]` of a job's layer digests (host side; `c[0]` is the root).
#[cfg(feature = "std")]
pub fn chain(digests: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let n = digests.len();
    let mut c = vec![[0u8; 32]; n + 1];
    let mut next = chain_end(n as u32);
    if let Some(last) = c.get_mut(n) {
        *last = next;
    }
    for (k, d) in digests.iter().enumerate().rev() {
        next = chain_link(k as u32, d, &next);
        if let Some(slot) = c.get_mut(k) {
            *slot = next;
        }
    }
    c
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn release() -> Release<'static> {
        Release {
            key_id: [1; 8],
            signer: "A. Engineer",
            meaning: "released for manufacturing",
            utc_seconds: 1_796_000_000,
            job_sha256: [2; 32],
            setup_sha256: [3; 32],
            layers_root: [4; 32],
            signature: [[5; 32], [6; 32]],
        }
    }

    #[test]
    fn every_field_but_the_signature_changes_the_signed_bytes() {
        let mut buf = [0u8; MAX_SIGNED];
        let n = release().signed_bytes(&mut buf).unwrap();
        let base = buf[..n].to_vec();
        let variants = [
            Release {
                key_id: [9; 8],
                ..release()
            },
            Release {
                signer: "B. Engineer",
                ..release()
            },
            Release {
                meaning: "released for test",
                ..release()
            },
            Release {
                utc_seconds: 1,
                ..release()
            },
            Release {
                job_sha256: [9; 32],
                ..release()
            },
            Release {
                setup_sha256: [9; 32],
                ..release()
            },
            Release {
                layers_root: [9; 32],
                ..release()
            },
        ];
        for v in variants {
            let mut b = [0u8; MAX_SIGNED];
            let m = v.signed_bytes(&mut b).unwrap();
            assert_ne!(b[..m].to_vec(), base, "{v:?}");
        }
        let same = Release {
            signature: [[0; 32]; 2],
            ..release()
        };
        let m = same.signed_bytes(&mut buf).unwrap();
        assert_eq!(buf[..m].to_vec(), base);
    }

    #[test]
    fn texts_longer_than_the_limit_are_refused() {
        let long = "x".repeat(MAX_TEXT + 1);
        let r = Release {
            signer: &long,
            ..release()
        };
        assert_eq!(r.signed_bytes(&mut [0; MAX_SIGNED]), Err(TextTooLong));
    }

    #[test]
    fn the_chain_root_depends_on_every_layer_digest() {
        let digests = [[1u8; 32], [2; 32], [3; 32]];
        let c = chain(&digests);
        assert_eq!(c[3], chain_end(3));
        assert_eq!(c[1], chain_link(1, &digests[1], &c[2]));
        for k in 0..3 {
            let mut d = digests;
            d[k][0] ^= 1;
            assert_ne!(chain(&d)[0], c[0], "layer {k}");
        }
    }

    #[test]
    fn signature_halves_round_trip() {
        let mut sig = [0u8; 64];
        sig.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        let r = Release {
            signature: signature_halves(&sig),
            ..release()
        };
        assert_eq!(r.signature_bytes(), sig);
    }
}
