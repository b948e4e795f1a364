//! The controller's release check: with trusted keys configured
//! ([`crate::machine::MachineConfig::trusted_keys`]) a job runs only with a `Release` signed by
//! one of them, its header and parameter sets as released, and every layer proven against the
//! release's layer chain before it is queued for exposure (see [`crate::wire::release`]).
//! Without trusted keys, `Release` and `LayerLink` are accepted and not checked.

use ed25519_dalek::{Signature, VerifyingKey};

use super::{ArenaStorage, Core, Event, EventSink, Refusal, fault, job_fault};
use crate::wire::control::NONE;
use crate::wire::release::{MAX_SIGNED, chain_end, chain_link, key_id};
use crate::wire::{LayerLink, NakReason, Release, Rule};

/// Verified layers whose chain values are kept until their execution is recorded: the ready
/// queue plus the open layer ([`crate::controller::DEFAULT_READY`] + 1) with room to spare. With a
/// larger ready queue the oldest values are dropped first; a record then carries no chain and a
/// resumed released job is continued only when the host sends it again from layer 0.
const CHAIN_PENDING: usize = 8;

/// What the controller keeps of a verified release: 8 + 3 × 32 bytes, the pending link and the
/// chain values of the layers verified but not yet executed (for the non-volatile record).
#[derive(Clone, Debug, Default)]
pub(super) struct ReleaseGate {
    /// Job hash, setup hash and the next expected chain value of the verified release.
    released: Option<Released>,
    /// The `LayerLink` received for the open layer.
    link: Option<LayerLink>,
    /// (layer, chain value the layer after it must meet) of verified layers, oldest first.
    pending: heapless::Deque<(u32, [u8; 32]), CHAIN_PENDING>,
}

#[derive(Clone, Copy, Debug)]
struct Released {
    job_sha256: [u8; 32],
    setup_sha256: [u8; 32],
    /// The chain value layer `layer`'s link must meet.
    expected: [u8; 32],
    /// The next layer of the chain.
    layer: u32,
    /// From the non-volatile record of a resumed job: the layer it continues at and the chain
    /// value that layer must meet, so the completed layers need not be sent again.
    resumed: Option<(u32, [u8; 32])>,
}

/// Parses 64 hex digits into a 32-byte key (see [`crate::hex::decode32`]).
pub fn parse_hex_key(text: &str) -> Option<[u8; 32]> {
    crate::hex::decode32(text)
}

/// Checks a release's signature against the trusted keys; the rule broken if not.
pub fn verify_release<'k>(
    r: &Release<'_>,
    trusted: impl IntoIterator<Item = &'k str>,
) -> Result<(), Rule> {
    let key = trusted
        .into_iter()
        .filter_map(parse_hex_key)
        .find(|k| key_id(k) == r.key_id)
        .ok_or(Rule::ReleaseKeyUntrusted)?;
    let vk = VerifyingKey::from_bytes(&key).map_err(|_| Rule::ReleaseKeyUntrusted)?;
    let mut buf = [0u8; MAX_SIGNED];
    let n = r
        .signed_bytes(&mut buf)
        .map_err(|_| Rule::ReleaseSignatureInvalid)?;
    let msg = buf.get(..n).ok_or(Rule::ReleaseSignatureInvalid)?;
    vk.verify_strict(msg, &Signature::from_bytes(&r.signature_bytes()))
        .map_err(|_| Rule::ReleaseSignatureInvalid)
}

impl<A: ArenaStorage, const PARAMS: usize, const READY: usize> Core<A, PARAMS, READY> {
    fn release_required(&self) -> bool {
        !self.config.trusted_keys.is_empty()
    }

    /// A `Release` (right after the header): verified when keys are trusted.
    pub(super) fn release(
        &mut self,
        r: &Release<'_>,
        events: &mut impl EventSink,
    ) -> Result<(), Refusal> {
        if !self.job_active() || self.release.released.is_some() {
            return Err(Refusal::Nak(NakReason::Unexpected));
        }
        let verified = if self.release_required() {
            if !self.params.is_empty() || self.layers_begun() {
                return Err(job_fault(Rule::ProtocolOrder, 0, 0).into());
            }
            let keys = self.config.trusted_keys.iter().map(|k| k.as_str());
            verify_release(r, keys).map_err(|rule| job_fault(rule, 0, 0))?;
            if self.job.and_then(|j| j.header_hash) != Some(r.job_sha256) {
                return Err(job_fault(Rule::ReleaseJobMismatch, 0, 0).into());
            }
            self.release.released = Some(Released {
                job_sha256: r.job_sha256,
                setup_sha256: r.setup_sha256,
                expected: r.layers_root,
                layer: 0,
                resumed: self.recorded_chain(),
            });
            true
        } else {
            false
        };
        events.event(&Event::Released {
            release: *r,
            verified,
        });
        Ok(())
    }

    /// A `LayerLink` inside the open layer: kept for its `LayerEnd`.
    pub(super) fn layer_link(&mut self, l: &LayerLink) -> Result<(), Refusal> {
        match &self.open {
            Some(open) if open.tally.layer() == l.layer => {
                self.release.link = Some(*l);
                Ok(())
            }
            _ => Err(fault(l.layer, NONE, NONE, Rule::ProtocolOrder, 0, 0).into()),
        }
    }

    /// Before any layer opens: the job must be released and its setup as released.
    pub(super) fn release_before_layer(&self, layer: u32) -> Result<(), Refusal> {
        if !self.release_required() {
            return Ok(());
        }
        let r =
            self.release
                .released
                .ok_or(fault(layer, NONE, NONE, Rule::ReleaseMissing, 0, 0))?;
        if self.prefix_sha256 != Some(r.setup_sha256) {
            return Err(fault(layer, NONE, NONE, Rule::ReleaseJobMismatch, 0, 0).into());
        }
        Ok(())
    }

    /// At a verified `LayerEnd`: the layer's digest must continue the released chain. The
    /// chain continues at the next layer, or — for a resumed job — at the layer the
    /// non-volatile record continues at.
    pub(super) fn release_layer(&mut self, layer: u32, digest: &[u8; 32]) -> Result<(), Refusal> {
        let link = self.release.link.take();
        if !self.release_required() {
            return Ok(());
        }
        let not_released = fault(layer, NONE, NONE, Rule::LayerNotReleased, 0, 0);
        let r = self.release.released.as_mut().ok_or(not_released)?;
        let link = link.filter(|l| l.layer == layer).ok_or(not_released)?;
        let expected = if layer == r.layer {
            r.expected
        } else {
            match r.resumed {
                Some((k, chain)) if k == layer => chain,
                _ => return Err(not_released.into()),
            }
        };
        if chain_link(layer, digest, &link.rest) != expected {
            return Err(not_released.into());
        }
        r.expected = link.rest;
        r.layer = layer.saturating_add(1);
        r.resumed = None;
        if self.release.pending.is_full() {
            self.release.pending.pop_front();
        }
        // Cannot fail: one place was just made free.
        let _ = self.release.pending.push_back((layer, link.rest));
        Ok(())
    }

    /// The chain value the layer after `layer` must meet, once `layer` has been executed
    /// (`None` without a verified release or when the value was not kept); values of earlier
    /// layers are dropped.
    pub(super) fn chain_after(&mut self, layer: u32) -> Option<[u8; 32]> {
        while let Some(&(l, chain)) = self.release.pending.front() {
            if l > layer {
                break;
            }
            self.release.pending.pop_front();
            if l == layer {
                return Some(chain);
            }
        }
        None
    }

    /// The resumed layer and its chain value from the non-volatile record, when the job
    /// continues after a power loss.
    fn recorded_chain(&self) -> Option<(u32, [u8; 32])> {
        // `resumed_from` is the record's `layers_done` (see `resume_or_forget`).
        let k = self.resumed_from?;
        self.record.as_ref()?.release_chain.map(|chain| (k, chain))
    }

    /// At `JobEnd`: the job hash and the chain's end are those released.
    pub(super) fn release_job_end(
        &self,
        job_sha256: &[u8; 32],
        layers: u32,
    ) -> Result<(), Refusal> {
        match self.release.released {
            Some(r) if r.job_sha256 != *job_sha256 || r.expected != chain_end(layers) => {
                Err(job_fault(Rule::ReleaseJobMismatch, 0, 0).into())
            }
            _ => Ok(()),
        }
    }

    /// A new job: forget the previous release.
    pub(super) fn release_reset(&mut self) {
        self.release = ReleaseGate::default();
    }
}
