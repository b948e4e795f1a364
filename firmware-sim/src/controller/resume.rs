//! The controller's side of the non-volatile record: committing each executed layer, and
//! continuing a job after a power loss (see the parent module's "Power loss" section).

use super::{ArenaStorage, Core, OpenLayer, Refusal, job_fault};
use crate::nvm::{NonVolatile, NvRecord, NvWriteError};
use crate::wire::digest::JobDigest;
use crate::wire::verify::LayerTally;
use crate::wire::{JobHeader, LayerStart, ResumePoint, Rule};

impl<A: ArenaStorage, const PARAMS: usize, const READY: usize> Core<A, PARAMS, READY> {
    pub(super) fn resume_point(&self) -> Option<ResumePoint> {
        self.record.as_ref().map(|r| ResumePoint {
            job_sha256: r.job_sha256,
            next_layer: r.layers_done,
        })
    }

    /// Whether any layer of the current job has begun to arrive (parameter sets come first).
    pub(super) fn layers_begun(&self) -> bool {
        self.open.is_some()
            || self.skip_next > 0
            || self.next_layer != self.resumed_from.unwrap_or(0)
    }

    /// On an accepted header: continue the recorded job if this is it (returns the layer it
    /// continues at), otherwise erase the record of the other job.
    ///
    /// After a laser failed (`lasers_down` in the record), the job that continues it has the
    /// same setup (checked with the parameter sets and part table) and its own hash: its later
    /// layers are planned on the other lasers. `previous` is the tally of the stopped plate's
    /// parts, for a controller whose record does not outlive it.
    pub(super) fn resume_or_forget(
        &mut self,
        h: &JobHeader<'_>,
        nv: &mut impl NonVolatile,
        previous: heapless::Vec<super::parts::PartTally, { crate::wire::MAX_PARTS }>,
    ) -> Result<Option<u32>, Refusal> {
        let Some(r) = self.record.as_ref() else {
            return Ok(None);
        };
        let same = h.job_sha256 == Some(r.job_sha256) || r.lasers_down != 0;
        if same && h.layer_count == r.layer_count {
            let k = r.layers_done;
            self.next_layer = k;
            self.layers_done = k;
            self.totals = r.totals;
            self.received = Some(JobDigest::from_state(r.received.clone()));
            self.verified = Some(JobDigest::from_state(r.received.clone()));
            self.executed = Some(r.executed_digest());
            // The record keeps the first laser's position; the others start from the origin.
            if let Some(h) = self.heads.first_mut() {
                h.park(r.head);
            }
            self.resumed_from = Some(k);
            self.lasers_down = r.lasers_down;
            if r.parts > 0 {
                // The part table follows the parameter sets; its tallies are restored now.
                let kept = (r.lasers_down != 0 && previous.len() == usize::from(r.parts))
                    .then_some(previous);
                self.plate.tallies = NvRecord::load_parts(nv).or(kept).ok_or_else(|| {
                    Refusal::from(job_fault(Rule::ResumeMismatch, r.parts.into(), 0))
                })?;
            }
            return Ok(Some(k));
        }
        nv.erase()
            .map_err(|NvWriteError| Refusal::from(job_fault(Rule::RecordNotStored, 0, 0)))?;
        self.record = None;
        Ok(None)
    }

    /// The last parameter set is in: fix the prefix hash; a resumed job must match the record
    /// (a resumed plate once its part table is in as well, see [`Self::check_resumed_prefix`]).
    pub(super) fn params_complete(&mut self) -> Result<(), Refusal> {
        self.prefix_sha256 = self.prefix.clone().map(JobDigest::finish);
        if self.record.as_ref().is_some_and(|r| r.parts == 0) {
            self.check_resumed_prefix()?;
        }
        Ok(())
    }

    /// A resumed job's setup (header, parameter sets, part table) hashes as recorded.
    pub(super) fn check_resumed_prefix(&self) -> Result<(), Refusal> {
        if self.resumed_from.is_some()
            && let Some(r) = self.record.as_ref()
            && self.prefix_sha256 != Some(r.prefix_sha256)
        {
            return Err(job_fault(Rule::ResumeMismatch, 0, 0).into());
        }
        Ok(())
    }

    /// Before the first layer of a resumed plate: its whole part table came again.
    pub(super) fn check_resumed_table(&self) -> Result<(), Refusal> {
        if self.resumed_from.is_some()
            && let Some(r) = self.record.as_ref()
            && r.parts != self.plate.table.len()
        {
            return Err(job_fault(
                Rule::ResumeMismatch,
                self.plate.table.len().into(),
                r.parts.into(),
            )
            .into());
        }
        Ok(())
    }

    /// A `LayerStart` of a layer completed before the power loss: opened to be verified and
    /// dropped. Such layers may come only in order and before the first layer to expose.
    pub(super) fn skip_layer_start(&mut self, l: &LayerStart) -> bool {
        let Some(k) = self.resumed_from else {
            return false;
        };
        if l.layer >= k || l.layer != self.skip_next || self.next_layer != k {
            return false;
        }
        self.open = Some(OpenLayer {
            tally: LayerTally::new(l),
            skip: true,
        });
        true
    }

    /// Stores the record of the layers executed so far, with each part's tally on a plate (a
    /// job without an announced hash cannot be identified after a power loss and is not
    /// recorded).
    pub(super) fn commit_layer(&mut self, nv: &mut impl NonVolatile) -> Result<(), NvWriteError> {
        if !nv.persistent() {
            return Ok(());
        }
        let Some(job_sha256) = self.job.and_then(|j| j.header_hash) else {
            return Ok(());
        };
        let Some(record) = self.record_now(job_sha256) else {
            return Ok(());
        };
        record.store_with_parts(nv, &self.plate.tallies)?;
        self.record = Some(record);
        Ok(())
    }

    /// The record of the layers executed so far under `job_sha256`.
    fn record_now(&mut self, job_sha256: [u8; 32]) -> Option<NvRecord> {
        let release_chain = match self.layers_done.checked_sub(1) {
            Some(last) => self.chain_after(last),
            None => None,
        };
        let (Some(job), Some(prefix), Some(executed), Some(verified)) = (
            self.job,
            self.prefix_sha256,
            self.executed.as_ref(),
            self.verified.as_ref(),
        ) else {
            return None;
        };
        Some(NvRecord {
            release_chain,
            job_sha256,
            prefix_sha256: prefix,
            layer_count: job.layer_count,
            layers_done: self.layers_done,
            executed: executed.state().clone(),
            received: verified.state().clone(),
            totals: self.totals,
            head: self
                .heads
                .first()
                .map(crate::machine::ScanHead::position)
                .unwrap_or_default(),
            parts: self.plate.table.len(),
            lasers_down: self.lasers_down,
        })
    }

    /// A laser went down before layer `layers_done`: the record the continuing job is checked
    /// against, kept in memory whatever the job's hash and stored if the memory persists.
    pub(super) fn record_laser_down(&mut self, nv: &mut impl NonVolatile) {
        let hash = self.job.and_then(|j| j.header_hash).unwrap_or([0; 32]);
        let Some(record) = self.record_now(hash) else {
            return;
        };
        if nv.persistent() {
            // The record in memory serves the continuation; a medium that refuses it loses
            // only the continuation after a later power loss.
            let _ = record.store_with_parts(nv, &self.plate.tallies);
        }
        self.record = Some(record);
    }

    /// Before the first layer of a job continuing after a laser failure: every part that no
    /// remaining laser's field holds is skipped from here on, and named.
    pub(super) fn skip_out_of_reach(&mut self, events: &mut impl super::EventSink) {
        let (Some(k), Some(job)) = (self.resumed_from, self.job) else {
            return;
        };
        if self.lasers_down == 0 {
            return;
        }
        for p in 0..self.plate.table.len() {
            let Some(b) = self.plate.table.footprint(p) else {
                continue;
            };
            if !self
                .config
                .reachable_without(self.lasers_down, b, job.quantum_nm)
                && self.plate.skip(p, k, Rule::LaserDown)
            {
                events.event(&super::Event::PartSkipped {
                    part: p,
                    layer: k,
                    rule: Rule::LaserDown,
                });
            }
        }
    }

    /// Erases the record when the job is over.
    pub(super) fn forget_record(&mut self, nv: &mut impl NonVolatile) {
        if self.record.is_some() && nv.erase().is_ok() {
            self.record = None;
        }
    }
}

#[cfg(test)]
#[path = "resume_tests.rs"]
mod tests;
