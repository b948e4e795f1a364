//! Plates: the part table of the job, each part's tally while its vectors are marked, part
//! skip (a recoater collision at the part, or the operator's `SkipPart`) and the `PartReport`s
//! that follow the job's `Report`.
//!
//! A skipped part's blocks are still received and verified (they belong to the released,
//! hashed job) but no longer marked. The executed layer digest is then taken over the blocks
//! actually marked, so the executed job hash differs from the job hash exactly when something
//! of the job was left out.
//!
//! After a power loss a plate job continues like any other: the non-volatile record keeps each
//! part's tally, hash state and skip (see [`crate::nvm`]); the part table sent again must hash
//! as before, and each part's report equals that of an uninterrupted build.

use super::{ArenaStorage, Core, Event, EventSink, Refusal, ReplySink, fault, job_fault};
use crate::wire::control::NONE;
use crate::wire::{
    ControllerState, MAX_PARTS, Msg, NakReason, Part, PartReport, PartState, Point, Rule,
    VectorBlock,
};

/// One part's account while the job executes: what the non-volatile record keeps of it.
pub(super) use crate::nvm::NvPart as PartTally;

/// The plate side of the controller: the table and one tally per part.
#[derive(Clone, Debug, Default)]
pub(super) struct Plate {
    pub(super) table: crate::wire::PartTable,
    pub(super) tallies: heapless::Vec<PartTally, MAX_PARTS>,
}

impl Plate {
    /// Whether part `part` is excluded from the layers being executed.
    pub(super) fn skipped(&self, part: Option<u16>) -> bool {
        part.and_then(|p| self.tallies.get(usize::from(p)))
            .is_some_and(|t| t.skipped.is_some())
    }

    /// Whether any part has been skipped.
    pub(super) fn any_skipped(&self) -> bool {
        self.tallies.iter().any(|t| t.skipped.is_some())
    }

    /// Adds the marks of one executed block of `part` (`marks`, `energy_nj`, `mark_ticks` are
    /// the scan head's growth over the block).
    pub(super) fn add_block(
        &mut self,
        part: Option<u16>,
        layer: u32,
        b: &VectorBlock<'_>,
        grown: [u64; 3],
    ) {
        let Some(t) = part.and_then(|p| self.tallies.get_mut(usize::from(p))) else {
            return;
        };
        let [marks, energy_nj, mark_ticks] = grown;
        t.vectors += marks;
        t.energy_nj = t.energy_nj.saturating_add(energy_nj);
        t.mark_ticks += mark_ticks;
        t.digest.block(layer, b);
    }

    pub(super) fn skip(&mut self, part: u16, layer: u32, rule: Rule) -> bool {
        match self.tallies.get_mut(usize::from(part)) {
            Some(t) if t.skipped.is_none() => {
                t.skipped = Some((layer, rule));
                true
            }
            _ => false,
        }
    }
}

impl<A: ArenaStorage, const PARAMS: usize, const READY: usize> Core<A, PARAMS, READY> {
    /// A `Part` of the table: after the last parameter set, before the first layer.
    pub(super) fn part(&mut self, p: &Part<'_>) -> Result<(), Refusal> {
        let job = self
            .job
            .filter(|_| self.job_active())
            .ok_or(Refusal::Nak(NakReason::Unexpected))?;
        if self.layers_begun() || self.params.len() != usize::from(job.param_sets) {
            return Err(job_fault(Rule::ProtocolOrder, p.index.into(), 0).into());
        }
        let recorded = self
            .resumed_from
            .map(|_| self.record.as_ref().map_or(0, |r| r.parts));
        if recorded.is_some_and(|n| p.index >= n) {
            // The recorded job had fewer parts (or none).
            return Err(job_fault(Rule::ResumeMismatch, p.index.into(), 0).into());
        }
        self.plate
            .table
            .add(p)
            .map_err(|e| job_fault(e.rule(), p.index.into(), i64::from(self.plate.table.len())))?;
        if recorded.is_none() {
            // Cannot fail: the table above holds as many parts as the tallies.
            let _ = self.plate.tallies.push(PartTally::new(p.index));
            for d in [&mut self.received, &mut self.executed, &mut self.verified] {
                if let Some(d) = d.as_mut() {
                    d.part(p);
                }
            }
        }
        // A resumed plate's tallies and restored hash states already hold its parts.
        if let Some(d) = self.prefix.as_mut() {
            d.part(p);
        }
        // The setup hash a release signs covers the part table.
        self.prefix_sha256 = self
            .prefix
            .clone()
            .map(crate::wire::digest::JobDigest::finish);
        if recorded == Some(self.plate.table.len()) {
            self.check_resumed_prefix()?;
        }
        Ok(())
    }

    /// The operator's `SkipPart`: the part is left out from the next layer to execute on.
    pub(super) fn operator_skip(
        &mut self,
        part: u16,
        events: &mut impl EventSink,
    ) -> Result<(), Refusal> {
        if !self.job_active() {
            return Err(Refusal::Nak(NakReason::Unexpected));
        }
        let layer = self.layers_done;
        if !self.plate.skip(part, layer, Rule::OperatorSkip) {
            return Err(Refusal::Nak(NakReason::Unexpected));
        }
        events.event(&Event::PartSkipped {
            part,
            layer,
            rule: Rule::OperatorSkip,
        });
        Ok(())
    }

    /// The machine model's recoater collision before `layer`: on a plate with its position
    /// known, the part standing there is skipped (`Ok`); otherwise the build faults.
    pub(super) fn recoater_collision(
        &mut self,
        layer: u32,
        events: &mut impl EventSink,
    ) -> Result<(), crate::wire::Fault> {
        let whole = fault(layer, NONE, NONE, Rule::RecoaterCollision, 0, 0);
        let (Some([x_um, y_um]), Some(job)) = (self.config.recoater_collision_at_um, self.job)
        else {
            return Err(whole);
        };
        let q = i64::from(job.quantum_nm.max(1));
        let to_q = |um: i32| i32::try_from(i64::from(um) * 1000 / q).unwrap_or(i32::MAX);
        let at = Point {
            x: to_q(x_um),
            y: to_q(y_um),
        };
        let Some(part) = self.plate.table.part_at(at) else {
            return Err(whole);
        };
        if self.plate.skip(part, layer, Rule::RecoaterCollision) {
            events.event(&Event::PartSkipped {
                part,
                layer,
                rule: Rule::RecoaterCollision,
            });
        }
        Ok(())
    }

    /// The job's `Report`, followed on a plate by one `PartReport` per part.
    pub(super) fn send_reports(&mut self, replies: &mut impl ReplySink) {
        let r = self.report();
        self.send(Msg::Report(r), replies);
        for i in 0..self.plate.table.len() {
            if let Some(p) = self.part_report(i) {
                self.send(Msg::PartReport(p), replies);
            }
        }
    }

    /// Part `part`'s report as it stands (final once the job ended).
    pub(super) fn part_report(&self, part: u16) -> Option<PartReport> {
        let t = self.plate.tallies.get(usize::from(part))?;
        Some(PartReport {
            part,
            state: match t.skipped {
                Some((layer, rule)) => PartState::Skipped { layer, rule },
                None if self.state == ControllerState::Done => PartState::Built,
                None => PartState::Unfinished,
            },
            vectors: t.vectors,
            energy_mj: t.energy_nj / 1_000_000,
            mark_ticks: t.mark_ticks,
            executed_sha256: t.digest.clone().finish(),
        })
    }
}

#[cfg(test)]
#[path = "parts_tests.rs"]
mod tests;
