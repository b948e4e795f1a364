//! Execution: verified layers leave the arena in order and are marked by the scan head.

use super::arena::parse_record;
use super::{ArenaStorage, Core, Event, EventSink, PauseCause, ReadyLayer, ReplySink, fault};
use crate::machine::{LayerTiming, ScanHead, ms_ticks, recoat_ticks};
use crate::nvm::NonVolatile;
use crate::wire::control::NONE;
use crate::wire::digest::LayerDigest;
use crate::wire::{ControllerState, Fault, Rule};

impl<A: ArenaStorage, const PARAMS: usize, const READY: usize> Core<A, PARAMS, READY> {
    pub(super) fn set_oxygen(&mut self, ppm: u32, events: &mut impl EventSink) {
        self.oxygen_ppm = ppm;
        events.event(&Event::Oxygen { ppm });
        let high = ppm > self.config.oxygen_threshold_ppm;
        if high && self.state == ControllerState::Printing {
            self.pause = Some(PauseCause::Interlock);
            self.set_state(ControllerState::Paused, events);
        } else if !high
            && self.state == ControllerState::Paused
            && self.pause == Some(PauseCause::Interlock)
        {
            self.pause = None;
            self.set_state(ControllerState::Printing, events);
        }
    }

    pub(super) fn poll(
        &mut self,
        replies: &mut impl ReplySink,
        events: &mut impl EventSink,
        nv: &mut impl NonVolatile,
    ) {
        while self.state == ControllerState::Printing {
            let Some(next) = self.ready.front().copied() else {
                break;
            };
            if let Err(f) = self.execute(next, events, nv) {
                self.refuse(f, replies, events);
                return;
            }
        }
        if self.state == ControllerState::Printing
            && self.job_end_ok
            && self.job.is_some_and(|j| j.layer_count == self.layers_done)
        {
            self.set_state(ControllerState::Done, events);
            // A finished job is not continued again; a failed erase leaves a record that can
            // only skip layers, never expose one twice.
            self.forget_record(nv);
            self.send_reports(replies);
        }
    }

    /// Executes the verified layer at the front of the arena.
    fn execute(
        &mut self,
        l: ReadyLayer,
        events: &mut impl EventSink,
        nv: &mut impl NonVolatile,
    ) -> Result<(), Fault> {
        events.event(&Event::LayerBegin { layer: l.layer });
        if let Some(f) = self.config.laser_failure
            && f.layer == l.layer
            && f.laser < 8
            && self.lasers_down & (1 << f.laser) == 0
        {
            // Found before anything of the layer is marked: the job stops here and continues
            // with a job planned on the other lasers (see `resume_or_forget`).
            self.lasers_down |= 1 << f.laser;
            self.record_laser_down(nv);
            return Err(fault(
                l.layer,
                NONE,
                NONE,
                Rule::LaserDown,
                f.laser.into(),
                0,
            ));
        }
        let Some(extra) = self.prepare_layer(l.layer, events)? else {
            return Ok(());
        };
        let executed = self.mark_layer(&l, events)?;
        let lasers = self.heads.each_mut().map(ScanHead::finish_layer);
        let used = lasers.get(..self.config.laser_count()).unwrap_or(&lasers);
        let mut timing = LayerTiming::concurrent(used);
        timing.add(&extra);
        self.totals.add(&timing);
        self.layers_done += 1;
        if let Some(d) = self.verified.as_mut() {
            d.layer(&l.digest);
        }
        if let Some(d) = self.executed.as_mut() {
            d.layer(&executed);
        }
        self.release_arena(&l);
        // The record goes down before the layer is reported done: after a power loss from here
        // on, the layer is never exposed again.
        let stored = self.commit_layer(nv);
        events.event(&Event::LayerDone {
            layer: l.layer,
            timing,
            laser_ticks: lasers.map(|t| t.exposure_ticks()),
            digest: l.digest,
        });
        stored.map_err(|_| fault(l.layer, NONE, NONE, Rule::RecordNotStored, 0, 0))
    }

    /// The machine's work before the first mark of `layer`: recoating, laser power and any
    /// oxygen excursion. Returns the extra timing, or `None` if the excursion left the build
    /// paused (the layer stays ready and executes on resume).
    fn prepare_layer(
        &mut self,
        layer: u32,
        events: &mut impl EventSink,
    ) -> Result<Option<LayerTiming>, Fault> {
        if self.config.recoater_collision_layer == Some(layer) {
            self.recoater_collision(layer, events)?;
        }
        let power = self.config.delivered_power_permille(layer);
        for h in self.heads.iter_mut() {
            h.power_permille = power;
        }
        let mut extra = LayerTiming {
            recoat_ticks: recoat_ticks(&self.config),
            ..LayerTiming::default()
        };
        if let Some(x) = self
            .config
            .oxygen_excursions
            .iter()
            .find(|x| x.layer == layer)
            .copied()
        {
            // The excursion pauses the build until purging brings the level back.
            let nominal = self.config.oxygen_nominal_ppm;
            self.set_oxygen(x.peak_ppm, events);
            if x.peak_ppm > self.config.oxygen_threshold_ppm {
                extra.interlock_ticks += ms_ticks(x.recovery_ms);
            }
            self.set_oxygen(nominal, events);
            if self.state != ControllerState::Printing {
                return Ok(None);
            }
        }
        Ok(Some(extra))
    }

    /// Marks every vector of the layer's arena records with the scan head, leaving out the
    /// blocks of skipped parts, and returns the digest of what was marked (the layer's verified
    /// digest when nothing was left out).
    fn mark_layer(
        &mut self,
        l: &ReadyLayer,
        events: &mut impl EventSink,
    ) -> Result<[u8; 32], Fault> {
        let Self {
            arena,
            params,
            heads,
            plate,
            ..
        } = self;
        let mut marked = plate.any_skipped().then(|| LayerDigest::new(l.layer));
        let mut at = 0;
        let mut block = 0u32;
        while at < l.end {
            let bytes = arena.as_ref().get(at..l.end).unwrap_or(&[]);
            let malformed = fault(l.layer, block, NONE, Rule::MalformedBlock, 0, 0);
            let r = parse_record(bytes).ok_or(malformed)?;
            let (laser, part, b) = (r.laser.unwrap_or(0), r.part, r.block);
            at += r.len;
            block += 1;
            if plate.skipped(part) {
                continue;
            }
            let p = params
                .iter()
                .find(|e| e.set.id == b.param_set)
                .map(|e| &e.set)
                .ok_or(fault(
                    l.layer,
                    block - 1,
                    NONE,
                    Rule::UnknownParamSet,
                    b.param_set.into(),
                    0,
                ))?;
            // A record's laser was checked against the machine as it came.
            let head = heads.get_mut(usize::from(laser)).ok_or(malformed)?;
            let before = (
                head.timing.marks,
                head.timing.energy_nj,
                head.timing.mark_ticks,
            );
            for (i, s) in b.segments().enumerate() {
                let s =
                    s.map_err(|_| fault(l.layer, block - 1, i as u32, Rule::MalformedBlock, 0, 0))?;
                head.mark(&s, p);
                events.event(&Event::Mark {
                    layer: l.layer,
                    block: block - 1,
                    kind: b.kind,
                    region: b.region,
                    param: p,
                    segment: s,
                    part,
                    laser,
                });
            }
            let t = &head.timing;
            let grown = [
                t.marks.saturating_sub(before.0),
                t.energy_nj.saturating_sub(before.1),
                t.mark_ticks.saturating_sub(before.2),
            ];
            plate.add_block(part, l.layer, &b, grown);
            if let Some(d) = marked.as_mut() {
                d.block(r.laser, part, &b);
            }
        }
        Ok(marked.map_or(l.digest, LayerDigest::finish))
    }

    /// Drops the executed layer from the ready queue and moves the layers behind it to the
    /// front of the arena.
    fn release_arena(&mut self, l: &ReadyLayer) {
        self.ready.pop_front();
        let used = self.used;
        let arena = self.arena_mut();
        if l.end <= used && used <= arena.len() {
            arena.copy_within(l.end..used, 0);
            self.used -= l.end;
        } else {
            self.used = 0;
        }
        for r in self.ready.iter_mut() {
            r.end -= l.end;
        }
    }
}
