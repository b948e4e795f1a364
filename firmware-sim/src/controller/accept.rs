//! Acceptance: each in-sequence message is checked against the job so far and either taken
//! (the layer's blocks verified and copied into the arena) or refused.

use super::arena::{BLOCK_HEADER, write_record};
use super::{
    ArenaStorage, Core, Event, EventSink, JobInfo, OpenLayer, ParamEntry, PauseCause, ReadyLayer,
    Refusal, ReplySink, fault, job_fault,
};
use crate::limits::{
    EnergyVerdict, Violation, check_coordinate, check_energy, check_laser_point,
    field_limit_quanta, laser_field_quanta,
};
use crate::machine::LayerTiming;
use crate::nvm::NonVolatile;
use crate::wire::control::NONE;
use crate::wire::digest::JobDigest;
use crate::wire::verify::{LayerTally, VerifyError, check_job_end};
use crate::wire::{
    BlockForm, ControllerState, Fault, JobEnd, JobHeader, LayerEnd, LayerStart, Msg, NakReason,
    ParamSet, Rule, VectorBlock, VectorKind,
};

impl<A: ArenaStorage, const PARAMS: usize, const READY: usize> Core<A, PARAMS, READY> {
    pub(super) fn apply(
        &mut self,
        msg: &Msg<'_>,
        replies: &mut impl ReplySink,
        events: &mut impl EventSink,
        nv: &mut impl NonVolatile,
    ) -> Result<(), Refusal> {
        use ControllerState as S;
        match *msg {
            Msg::JobHeader(h) => self.job_header(&h, events, nv),
            Msg::ParamSet(p) => self.param_set(&p),
            Msg::LayerStart(l) => self.layer_start(&l, events),
            Msg::VectorBlock(b) => self.vector_block(None, None, &b, events),
            Msg::PartBlock(p) => self.vector_block(None, Some(p.part), &p.block, events),
            Msg::LaserBlock(l) => self.vector_block(Some(l.laser), l.part, &l.block, events),
            Msg::Part(p) => self.part(&p),
            Msg::SkipPart(s) => self.operator_skip(s.part, events),
            Msg::LayerEnd(e) => self.layer_end(&e, events),
            Msg::JobEnd(e) => self.job_end(&e),
            Msg::Release(r) => self.release(&r, events),
            Msg::LayerLink(l) => self.layer_link(&l),
            Msg::Start if self.state == S::Loaded => {
                self.set_state(S::Printing, events);
                Ok(())
            }
            Msg::Pause if self.state == S::Printing => {
                self.pause = Some(PauseCause::Operator);
                self.set_state(S::Paused, events);
                Ok(())
            }
            Msg::Resume if self.state == S::Paused => {
                if self.oxygen_ppm <= self.config.oxygen_threshold_ppm {
                    self.pause = None;
                    self.set_state(S::Printing, events);
                } else {
                    self.pause = Some(PauseCause::Interlock);
                }
                Ok(())
            }
            Msg::Abort if self.job_active() => {
                self.clear_buffers();
                // An aborted job is not continued after a power loss; a failed erase leaves a
                // record that can only skip layers, never expose one twice.
                self.forget_record(nv);
                self.set_state(S::Aborted, events);
                self.send_reports(replies);
                Ok(())
            }
            Msg::StatusRequest => {
                let s = self.status();
                self.send(Msg::Status(s), replies);
                Ok(())
            }
            _ => Err(Refusal::Nak(NakReason::Unexpected)),
        }
    }

    fn job_header(
        &mut self,
        h: &JobHeader<'_>,
        events: &mut impl EventSink,
        nv: &mut impl NonVolatile,
    ) -> Result<(), Refusal> {
        if self.job_active() {
            return Err(Refusal::Nak(NakReason::Unexpected));
        }
        self.clear_buffers();
        self.params.clear();
        self.job = None;
        self.next_layer = 0;
        self.layers_done = 0;
        self.job_end_ok = false;
        self.totals = LayerTiming::default();
        self.pause = None;
        self.resumed_from = None;
        self.skip_next = 0;
        self.prefix = None;
        self.prefix_sha256 = None;
        self.release_reset();
        let previous = core::mem::take(&mut self.plate.tallies);
        self.plate = super::parts::Plate::default();
        self.lasers_down = 0;
        crate::limits::check_header(&self.config, &h.into())
            .map_err(|v| job_fault(v.rule, v.value, v.limit))?;
        if usize::from(h.param_sets) > PARAMS {
            return Err(job_fault(Rule::ParamSetTable, h.param_sets.into(), PARAMS as i64).into());
        }
        self.job = Some(JobInfo {
            quantum_nm: h.quantum_nm,
            layer_thickness_nm: h.layer_thickness_nm,
            layer_count: h.layer_count,
            param_sets: h.param_sets,
            header_hash: h.job_sha256,
        });
        self.received = Some(JobDigest::new(h));
        self.executed = Some(JobDigest::new(h));
        self.verified = Some(JobDigest::new(h));
        self.heads = super::scan_heads(&self.config, h.quantum_nm);
        self.form = BlockForm::new();
        self.prefix = Some(JobDigest::new(h));
        let resumed = self.resume_or_forget(h, nv, previous)?;
        events.event(&Event::JobLoaded {
            quantum_nm: h.quantum_nm,
            layer_thickness_nm: h.layer_thickness_nm,
            layer_count: h.layer_count,
        });
        if let Some(layer) = resumed {
            events.event(&Event::Resumed { layer });
        }
        if h.param_sets == 0 {
            self.params_complete()?;
        }
        self.set_state(ControllerState::Loaded, events);
        if self.auto_start {
            self.set_state(ControllerState::Printing, events);
        }
        Ok(())
    }

    fn param_set(&mut self, p: &ParamSet) -> Result<(), Refusal> {
        let job = self
            .job
            .filter(|_| self.job_active())
            .ok_or(Refusal::Nak(NakReason::Unexpected))?;
        if self.layers_begun() || self.params.len() >= usize::from(job.param_sets) {
            return Err(job_fault(Rule::ProtocolOrder, p.id.into(), job.param_sets.into()).into());
        }
        if self.params.iter().any(|e| e.set.id == p.id) {
            return Err(job_fault(Rule::ParamSetTable, p.id.into(), 0).into());
        }
        crate::limits::check_param_set(&self.config, p)
            .map_err(|v| job_fault(v.rule, v.value, v.limit))?;
        self.params
            .push(ParamEntry {
                set: *p,
                energy_checked: false,
            })
            .map_err(|_| {
                Refusal::from(job_fault(Rule::ParamSetTable, PARAMS as i64, PARAMS as i64))
            })?;
        if let Some(d) = self.prefix.as_mut() {
            d.param_set(p);
        }
        if self.resumed_from.is_none() {
            // A resumed job's restored hash states already hold its parameter sets.
            if let Some(d) = self.received.as_mut() {
                d.param_set(p);
            }
            for d in [&mut self.executed, &mut self.verified] {
                if let Some(d) = d.as_mut() {
                    d.param_set(p);
                }
            }
        }
        if self.params.len() == usize::from(job.param_sets) {
            self.params_complete()?;
        }
        Ok(())
    }

    fn layer_start(&mut self, l: &LayerStart, events: &mut impl EventSink) -> Result<(), Refusal> {
        let job = self
            .job
            .filter(|_| self.job_active())
            .ok_or(Refusal::Nak(NakReason::Unexpected))?;
        if self.open.is_some() || self.params.len() != usize::from(job.param_sets) {
            return Err(fault(l.layer, NONE, NONE, Rule::ProtocolOrder, 0, 0).into());
        }
        self.check_resumed_table()?;
        if self.next_layer == l.layer && self.resumed_from == Some(l.layer) {
            self.skip_out_of_reach(events);
        }
        self.release_before_layer(l.layer)?;
        if self.skip_layer_start(l) {
            return Ok(());
        }
        if l.layer != self.next_layer {
            return Err(fault(
                l.layer,
                NONE,
                NONE,
                Rule::LayerOutOfOrder,
                l.layer.into(),
                self.next_layer.into(),
            )
            .into());
        }
        if l.layer >= job.layer_count {
            return Err(fault(
                l.layer,
                NONE,
                NONE,
                Rule::LayerCountMismatch,
                l.layer.into(),
                job.layer_count.into(),
            )
            .into());
        }
        let need = u64::from(l.payload_bytes) + u64::from(l.blocks) * BLOCK_HEADER as u64;
        let capacity = self.capacity();
        if need > capacity as u64 {
            return Err(fault(
                l.layer,
                NONE,
                NONE,
                Rule::LayerTooLarge,
                need as i64,
                capacity as i64,
            )
            .into());
        }
        if self.ready.is_full() || need > capacity.saturating_sub(self.used) as u64 {
            return Err(Refusal::Nak(NakReason::NoSpace));
        }
        self.open = Some(OpenLayer {
            tally: LayerTally::new(l),
            skip: false,
        });
        Ok(())
    }

    fn vector_block(
        &mut self,
        laser: Option<u8>,
        part: Option<u16>,
        b: &VectorBlock<'_>,
        events: &mut impl EventSink,
    ) -> Result<(), Refusal> {
        let job = self
            .job
            .filter(|_| self.job_active())
            .ok_or(Refusal::Nak(NakReason::Unexpected))?;
        let Some(open) = self.open.as_ref() else {
            return Err(job_fault(Rule::ProtocolOrder, 0, 0).into());
        };
        let t = &open.tally;
        let (layer, block) = (t.layer(), t.blocks());
        let len = u32::try_from(b.data.len()).unwrap_or(u32::MAX);
        // Refused as it comes, before it could overrun the arena (`LayerEnd` checks the totals).
        if block >= t.blocks_announced() || t.bytes().saturating_add(len) > t.bytes_announced() {
            let f = fault(
                layer,
                block,
                NONE,
                Rule::LayerSizeMismatch,
                i64::from(t.bytes()) + i64::from(len),
                t.bytes_announced().into(),
            );
            return Err(f.into());
        }
        self.plate.table.check_block(part).map_err(|e| {
            let limit = i64::from(self.plate.table.len());
            fault(
                layer,
                block,
                NONE,
                e.rule(),
                part.map_or(-1, i64::from),
                limit,
            )
        })?;
        let lasers = self.config.laser_count();
        let form = fault(
            layer,
            block,
            NONE,
            Rule::LaserForm,
            laser.map_or(-1, i64::from),
            lasers as i64,
        );
        self.form.check(laser).map_err(|_| form)?;
        if laser.is_some_and(|l| usize::from(l) >= lasers) {
            return Err(form.into());
        }
        let named = laser.unwrap_or(0);
        if !open.skip && named < 8 && self.lasers_down & (1 << named) != 0 {
            return Err(fault(layer, block, NONE, Rule::LaserDown, named.into(), 0).into());
        }
        if open.skip {
            if let Some(open) = self.open.as_mut() {
                open.tally.add(laser, part, b);
            }
            return Ok(());
        }
        self.verify_block(&job, layer, block, (laser, part, b), events)?;
        let start = self.used;
        let end = start + BLOCK_HEADER + b.data.len();
        let capacity = self.capacity();
        let slot = self.arena_mut().get_mut(start..end).ok_or(fault(
            layer,
            block,
            NONE,
            Rule::LayerTooLarge,
            end as i64,
            capacity as i64,
        ))?;
        write_record(slot, laser, part, b);
        self.used = end;
        if let Some(open) = self.open.as_mut() {
            open.tally.add(laser, part, b);
        }
        Ok(())
    }

    fn verify_block(
        &mut self,
        job: &JobInfo,
        layer: u32,
        block: u32,
        (laser, part, b): (Option<u8>, Option<u16>, &VectorBlock<'_>),
        events: &mut impl EventSink,
    ) -> Result<(), Refusal> {
        let Some(entry) = self.params.iter_mut().find(|e| e.set.id == b.param_set) else {
            return Err(fault(
                layer,
                block,
                NONE,
                Rule::UnknownParamSet,
                b.param_set.into(),
                0,
            )
            .into());
        };
        if b.kind == VectorKind::Hatch && !entry.energy_checked {
            entry.energy_checked = true;
            let as_fault = |v: Violation| fault(layer, block, NONE, v.rule, v.value, v.limit);
            match check_energy(&self.config, &entry.set, job.layer_thickness_nm) {
                EnergyVerdict::Inside => {}
                EnergyVerdict::Warn(v) => events.event(&Event::Warning(as_fault(v))),
                EnergyVerdict::Refuse(v) => return Err(as_fault(v).into()),
            }
        }
        let limit = field_limit_quanta(&self.config, job.quantum_nm, entry.set.spot_um);
        // The laser exists (checked as the block came). A block naming none is the first
        // laser's: on a machine of several, it keeps to that laser's field.
        let laser_field = match laser {
            Some(l) => laser_field_quanta(&self.config, l, job.quantum_nm, entry.set.spot_um),
            None if self.config.laser_count() > 1 => {
                laser_field_quanta(&self.config, 0, job.quantum_nm, entry.set.spot_um)
            }
            None => None,
        };
        for (i, s) in b.segments().enumerate() {
            let v = u32::try_from(i).unwrap_or(NONE);
            let s = s.map_err(|_| fault(layer, block, v, Rule::MalformedBlock, 0, 0))?;
            for c in [s.from.x, s.from.y, s.to.x, s.to.y] {
                check_coordinate(limit, c)
                    .map_err(|e| fault(layer, block, v, e.rule, e.value, e.limit))?;
            }
            if let Some(f) = laser_field {
                for pt in [s.from, s.to] {
                    check_laser_point(f, pt.x, pt.y)
                        .map_err(|e| fault(layer, block, v, e.rule, e.value, e.limit))?;
                }
            }
            for pt in [s.from, s.to] {
                self.plate
                    .table
                    .check_point(part, pt)
                    .map_err(|e| fault(layer, block, v, e.rule(), pt.x.into(), pt.y.into()))?;
            }
        }
        Ok(())
    }

    fn layer_end(&mut self, e: &LayerEnd, events: &mut impl EventSink) -> Result<(), Refusal> {
        if !self.job_active() {
            return Err(Refusal::Nak(NakReason::Unexpected));
        }
        let Some(open) = self.open.take() else {
            return Err(fault(e.layer, NONE, NONE, Rule::ProtocolOrder, 0, 0).into());
        };
        let digest = open
            .tally
            .close(e.layer, &e.digest)
            .map_err(|v| layer_end_fault(e.layer, v))?;
        self.release_layer(e.layer, &digest)?;
        if open.skip {
            self.skip_next += 1;
            events.event(&Event::LayerSkipped { layer: e.layer });
            return Ok(());
        }
        if let Some(d) = self.received.as_mut() {
            d.layer(&digest);
        }
        self.ready
            .push_back(ReadyLayer {
                layer: e.layer,
                end: self.used,
                digest,
            })
            .map_err(|_| Refusal::Nak(NakReason::NoSpace))?;
        self.next_layer += 1;
        Ok(())
    }

    fn job_end(&mut self, e: &JobEnd) -> Result<(), Refusal> {
        let job = self
            .job
            .filter(|_| self.job_active())
            .ok_or(Refusal::Nak(NakReason::Unexpected))?;
        let count = job_fault(
            Rule::LayerCountMismatch,
            self.next_layer.into(),
            job.layer_count.into(),
        );
        if self.open.is_some() {
            return Err(count.into());
        }
        let got = self
            .received
            .clone()
            .map(JobDigest::finish)
            .unwrap_or_default();
        check_job_end(
            e.layers,
            job.layer_count,
            self.next_layer,
            got,
            &e.job_sha256,
            job.header_hash,
        )
        .map_err(|v| match v {
            VerifyError::LayerCount { .. } => count,
            _ => job_fault(Rule::JobHashMismatch, 0, 0),
        })?;
        self.release_job_end(&got, e.layers)?;
        self.job_end_ok = true;
        Ok(())
    }
}

/// The controller's fault for a `LayerEnd` of `layer` that broke the rule of
/// [`LayerTally::close`]: another layer than the open one, other sizes than announced, or
/// another digest than the content's.
fn layer_end_fault(layer: u32, v: VerifyError) -> Fault {
    match v {
        VerifyError::LayerSize { layer: open, .. } if open != layer => fault(
            layer,
            NONE,
            NONE,
            Rule::LayerOutOfOrder,
            layer.into(),
            open.into(),
        ),
        VerifyError::LayerSize {
            blocks,
            bytes,
            bytes_announced,
            ..
        } => fault(
            layer,
            blocks,
            NONE,
            Rule::LayerSizeMismatch,
            bytes.into(),
            bytes_announced.into(),
        ),
        _ => fault(layer, NONE, NONE, Rule::LayerHashMismatch, 0, 0),
    }
}
