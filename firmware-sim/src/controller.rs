//! The verifying controller: a state machine fed with bytes (or decoded frames) that verifies a
//! layer completely before any of its vectors is executed.
//!
//! # Memory
//!
//! Everything is fixed at compile time: a receive buffer of one [`MAX_FRAME`], a parameter-set
//! table of `PARAMS` entries, and a layer **arena** of `ARENA` bytes holding the coded blocks of
//! the layer being received plus up to `READY` verified layers waiting to execute. Blocks are
//! verified as they arrive (parameter set known, vectors decode, every endpoint inside the
//! field, energy density in the material window) and copied into the arena; the layer digest
//! is compared at `LayerEnd`; only then may the layer execute. A layer whose blocks need more
//! than the whole arena (payload + 13 bytes per block) is refused at `LayerStart`
//! ([`Rule::LayerTooLarge`]); one that fits an empty arena but not the free part is answered
//! `Nak(NoSpace)`, and the `Ack` window (free arena bytes) tells the host when to resend. With
//! default capacities `size_of::<Controller>()` stays under [`SIZE_BOUND`] (tested).
//!
//! # Power loss
//!
//! A controller built with [`Controller::with_nonvolatile`] keeps an [`NvRecord`] of its last
//! completed layer: written after every executed layer (before the layer is reported done;
//! a failed write faults the build with [`Rule::RecordNotStored`]), erased when the job ends
//! (`Done`, `Abort`). A controller started on a valid record advertises it in
//! `Hello::resume`. A `JobHeader` announcing that record's job hash (and layer count)
//! continues the job: the parameter sets are accepted again and must hash as before
//! ([`Rule::ResumeMismatch`] otherwise), the executed-hash state, totals and scan-head position
//! are restored, and the next layer expected is the first one not completed. Earlier layers,
//! if a host sends them, are checked against their `LayerEnd` digests and skipped
//! ([`Event::LayerSkipped`]), never exposed. A header of any other job erases the record.
//! A released job (see [`release`]) is continued only under a verified `Release` of the same
//! job; the record keeps the release chain value of the next layer, so the host may send the
//! remaining layers only.
//! The final report and executed hash equal those of an uninterrupted build. A controller
//! whose memory is not persistent (`()`, [`Controller::new`]) keeps and advertises no record.
//!
//! "Exactly once" counts completed layers: the record is written after a layer's last mark, so
//! a power loss during a layer's marks (or before its record is written) leaves that layer
//! incomplete and it is executed again in full on resume.
//!
//! # Use
//!
//! ```
//! use meltline_firmware::controller::Controller;
//! use meltline_firmware::machine::MachineConfig;
//! use meltline_firmware::wire::ControllerState;
//! let mut ctl: Controller = Controller::new(MachineConfig::default());
//! // Feed whatever the transport delivered; replies and events go to the two sinks.
//! ctl.receive(&[0x00, 0x01], &mut (), &mut ());
//! assert_eq!(ctl.state(), ControllerState::Idle);
//! ```

use crate::limits::{EnergyVerdict, Violation, check_coordinate, check_energy, field_limit_quanta};
use crate::machine::{LayerTiming, MachineConfig, ScanHead, ms_ticks, recoat_ticks};
use crate::nvm::{NonVolatile, NvRecord};
use crate::receiver::FrameReceiver;
use crate::wire::control::NONE;
use crate::wire::digest::{JobDigest, LayerDigest};
use crate::wire::{
    Ack, Coding, ControllerState, Fault, Frame, Hello, JobEnd, JobHeader, LayerEnd, LayerStart,
    MAX_FRAME, Msg, Nak, NakReason, PROTOCOL_VERSION, ParamSet, Region, Release, Report,
    ResumePoint, Rule, Segment, Status, VectorBlock, VectorKind,
};

pub mod release;
mod resume;

/// Default arena: 56 KiB of coded layer blocks. The largest layers of the real jobs measured
/// (BENCHMARKS.md: default TLIF lattice cage at its design resolution 44.7 KiB before block
/// merging, NIST artifact 42.1 KiB) fit with room to spare; `size_of::<Controller>()` stays
/// under [`SIZE_BOUND`].
pub const DEFAULT_ARENA: usize = 56 * 1024;
/// Default parameter-set table capacity.
pub const DEFAULT_PARAMS: usize = 32;
/// Default number of verified layers that may wait in the arena.
pub const DEFAULT_READY: usize = 4;
/// Documented bound on `size_of::<Controller>()` with default capacities.
pub const SIZE_BOUND: usize = 64 * 1024;
/// Bytes of arena bookkeeping per block.
pub const BLOCK_HEADER: usize = 13;

/// Receives the controller's replies (already numbered) for the transport to send.
pub trait ReplySink {
    /// Called once per reply frame.
    fn reply(&mut self, frame: &Frame<'_>);
}

impl ReplySink for () {
    fn reply(&mut self, _: &Frame<'_>) {}
}

/// Receives what the machine does; the simulator implements it to build reports and maps.
pub trait EventSink {
    /// Called once per event, in execution order.
    fn event(&mut self, event: &Event<'_>);
}

impl EventSink for () {
    fn event(&mut self, _: &Event<'_>) {}
}

/// Something the controller or the machine did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event<'a> {
    /// A job header continuing the job of the non-volatile record was accepted: layers before
    /// `layer` were completed before the power loss and will not be exposed again.
    Resumed {
        /// The first layer to expose.
        layer: u32,
    },
    /// A layer completed before a power loss was received again, verified and not exposed.
    LayerSkipped {
        /// Layer index.
        layer: u32,
    },
    /// A job header was accepted.
    JobLoaded {
        /// Coordinate quantum, nm.
        quantum_nm: u32,
        /// Layer thickness, nm.
        layer_thickness_nm: u32,
        /// Announced layers.
        layer_count: u32,
    },
    /// Layer execution begins (before recoating).
    LayerBegin {
        /// Layer index.
        layer: u32,
    },
    /// One segment was marked.
    Mark {
        /// Layer index.
        layer: u32,
        /// Block index in the layer.
        block: u32,
        /// What the vector is.
        kind: VectorKind,
        /// Region it belongs to.
        region: Region,
        /// Parameter set used.
        param: &'a ParamSet,
        /// The segment.
        segment: Segment,
    },
    /// A layer was executed completely.
    LayerDone {
        /// Layer index.
        layer: u32,
        /// Its time and energy.
        timing: LayerTiming,
        /// Its verified digest.
        digest: [u8; 32],
    },
    /// The state changed.
    StateChanged {
        /// Previous state.
        from: ControllerState,
        /// New state.
        to: ControllerState,
    },
    /// The chamber oxygen level changed.
    Oxygen {
        /// Level in ppm.
        ppm: u32,
    },
    /// A `Release` was accepted; `verified` when trusted keys are configured and it checked.
    Released {
        /// The release record.
        release: Release<'a>,
        /// Its signature was checked against a trusted key.
        verified: bool,
    },
    /// The job was refused or stopped by the machine.
    Fault(Fault),
    /// A rule under the `Warn` policy was broken.
    Warning(Fault),
    /// A frame was refused at the link level.
    LinkError {
        /// Ordinal of the frame in the byte stream (0-based), if it came through `receive`.
        frame: u64,
        /// Byte offset in the stream where it began.
        offset: u64,
        /// Sequence number the controller expected.
        expected_seq: u32,
        /// Why.
        reason: NakReason,
    },
}

#[derive(Clone, Copy, Debug)]
struct JobInfo {
    quantum_nm: u32,
    layer_thickness_nm: u32,
    layer_count: u32,
    param_sets: u16,
    header_hash: Option<[u8; 32]>,
}

#[derive(Clone, Copy, Debug)]
struct ParamEntry {
    set: ParamSet,
    energy_checked: bool,
}

#[derive(Clone, Copy, Debug)]
struct ReadyLayer {
    layer: u32,
    end: usize,
    digest: [u8; 32],
}

#[derive(Clone, Debug)]
struct OpenLayer {
    layer: u32,
    blocks_announced: u32,
    bytes_announced: u32,
    blocks: u32,
    bytes: u32,
    digest: LayerDigest,
    /// Completed before a power loss: verified, then dropped.
    skip: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PauseCause {
    Operator,
    Interlock,
}

/// The verifying printer controller with its capacities as const generics and its
/// non-volatile memory `N` (`()`: none).
#[derive(Clone, Debug)]
pub struct Controller<
    const ARENA: usize = DEFAULT_ARENA,
    const PARAMS: usize = DEFAULT_PARAMS,
    const READY: usize = DEFAULT_READY,
    N: NonVolatile = (),
> {
    rx: FrameReceiver<MAX_FRAME>,
    core: Core<ARENA, PARAMS, READY>,
    nv: N,
}

#[derive(Clone, Debug)]
struct Core<const ARENA: usize, const PARAMS: usize, const READY: usize> {
    config: MachineConfig,
    auto_start: bool,
    state: ControllerState,
    expected_seq: u32,
    reply_seq: u32,
    job: Option<JobInfo>,
    params: heapless::Vec<ParamEntry, PARAMS>,
    arena: [u8; ARENA],
    used: usize,
    ready: heapless::Deque<ReadyLayer, READY>,
    open: Option<OpenLayer>,
    next_layer: u32,
    layers_done: u32,
    received: Option<JobDigest>,
    executed: Option<JobDigest>,
    job_end_ok: bool,
    head: ScanHead,
    totals: LayerTiming,
    oxygen_ppm: u32,
    pause: Option<PauseCause>,
    /// The valid record in non-volatile memory, mirrored.
    record: Option<NvRecord>,
    /// Layer the current job continues at after a power loss.
    resumed_from: Option<u32>,
    /// Next already-completed layer a host may send again (skipped).
    skip_next: u32,
    /// Hash of header and parameter sets while they arrive.
    prefix: Option<JobDigest>,
    /// Its value once the last parameter set is in.
    prefix_sha256: Option<[u8; 32]>,
    /// The release check (see [`release`]).
    release: release::ReleaseGate,
}

fn fault(layer: u32, block: u32, vector: u32, rule: Rule, value: i64, limit: i64) -> Fault {
    Fault {
        layer,
        block,
        vector,
        rule,
        value,
        limit,
    }
}

fn job_fault(rule: Rule, value: i64, limit: i64) -> Fault {
    fault(NONE, NONE, NONE, rule, value, limit)
}

fn kind_from(b: u8) -> Option<VectorKind> {
    [
        VectorKind::Contour,
        VectorKind::Hatch,
        VectorKind::Edge,
        VectorKind::Support,
        VectorKind::Point,
    ]
    .into_iter()
    .find(|k| *k as u8 == b)
}

fn region_from(b: u8) -> Option<Region> {
    [
        Region::Core,
        Region::Upskin,
        Region::Downskin,
        Region::Support,
        Region::Lattice,
    ]
    .into_iter()
    .find(|k| *k as u8 == b)
}

fn coding_from(b: u8) -> Option<Coding> {
    [Coding::Polylines, Coding::Hatches, Coding::Points]
        .into_iter()
        .find(|k| *k as u8 == b)
}

/// Parses one arena block record; `None` only if the arena were corrupted.
fn parse_record(bytes: &[u8]) -> Option<(VectorBlock<'_>, usize)> {
    let h = bytes.get(..BLOCK_HEADER)?;
    let u32_at =
        |i: usize| -> Option<u32> { Some(u32::from_le_bytes(h.get(i..i + 4)?.try_into().ok()?)) };
    let len = usize::try_from(u32_at(9)?).ok()?;
    let data = bytes.get(BLOCK_HEADER..BLOCK_HEADER + len)?;
    let block = VectorBlock {
        param_set: u16::from_le_bytes(h.get(0..2)?.try_into().ok()?),
        kind: kind_from(*h.get(2)?)?,
        region: region_from(*h.get(3)?)?,
        coding: coding_from(*h.get(4)?)?,
        vectors: u32_at(5)?,
        data,
    };
    Some((block, BLOCK_HEADER + len))
}

impl<const ARENA: usize, const PARAMS: usize, const READY: usize> Controller<ARENA, PARAMS, READY> {
    /// A controller in `Idle` for the machine `config`, without non-volatile memory.
    pub fn new(config: MachineConfig) -> Self {
        Self::with_nonvolatile(config, ())
    }
}

impl<const ARENA: usize, const PARAMS: usize, const READY: usize, N: NonVolatile>
    Controller<ARENA, PARAMS, READY, N>
{
    /// A controller in `Idle` for the machine `config` that keeps its last completed layer in
    /// `nv`; a valid record found there is advertised in `Hello::resume` (see the module docs).
    pub fn with_nonvolatile(config: MachineConfig, mut nv: N) -> Self {
        let oxygen_ppm = config.oxygen_nominal_ppm;
        let head = ScanHead::new(config.galvo, 1000);
        let record = NvRecord::load(&mut nv);
        Self {
            rx: FrameReceiver::new(),
            core: Core {
                config,
                auto_start: false,
                state: ControllerState::Idle,
                expected_seq: 0,
                reply_seq: 0,
                job: None,
                params: heapless::Vec::new(),
                arena: [0; ARENA],
                used: 0,
                ready: heapless::Deque::new(),
                open: None,
                next_layer: 0,
                layers_done: 0,
                received: None,
                executed: None,
                job_end_ok: false,
                head,
                totals: LayerTiming::default(),
                oxygen_ppm,
                pause: None,
                record,
                resumed_from: None,
                skip_next: 0,
                prefix: None,
                prefix_sha256: None,
                release: release::ReleaseGate::default(),
            },
            nv,
        }
    }

    /// The valid non-volatile record (what a restarted controller would resume from).
    pub fn record(&self) -> Option<&NvRecord> {
        self.core.record.as_ref()
    }

    /// Where a restarted controller would continue, as advertised in `Hello::resume`.
    pub fn resume_point(&self) -> Option<ResumePoint> {
        self.core.resume_point()
    }

    /// The layer the current job continued at after a power loss, if it did.
    pub fn resumed_from(&self) -> Option<u32> {
        self.core.resumed_from
    }

    /// The non-volatile memory.
    pub fn nonvolatile(&self) -> &N {
        &self.nv
    }

    /// Loses power: everything but the non-volatile memory is gone.
    pub fn into_nonvolatile(self) -> N {
        self.nv
    }

    /// Start printing as soon as a job is loaded (a job file replayed without a host).
    pub fn set_auto_start(&mut self, on: bool) {
        self.core.auto_start = on;
    }

    /// Feeds bytes from any transport; complete frames are handled and verified layers executed.
    pub fn receive(
        &mut self,
        bytes: &[u8],
        replies: &mut impl ReplySink,
        events: &mut impl EventSink,
    ) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let frame_no = self.rx.frames();
            let (n, got) = self.rx.feed(rest);
            rest = rest.get(n..).unwrap_or(&[]);
            match got {
                None => {}
                Some(Ok(frame)) => self.core.handle(frame, replies, events, &mut self.nv),
                Some(Err(e)) => {
                    let offset = self.rx.last_frame_offset();
                    self.core
                        .link_error(frame_no, offset, e.nak_reason(), replies, events);
                }
            }
            self.core.poll(replies, events, &mut self.nv);
        }
    }

    /// Handles an already decoded frame (in-process transports).
    pub fn handle_frame(
        &mut self,
        frame: Frame<'_>,
        replies: &mut impl ReplySink,
        events: &mut impl EventSink,
    ) {
        self.core.handle(frame, replies, events, &mut self.nv);
        self.core.poll(replies, events, &mut self.nv);
    }

    /// Executes verified layers while printing; call when time passes or oxygen changes.
    pub fn poll(&mut self, replies: &mut impl ReplySink, events: &mut impl EventSink) {
        self.core.poll(replies, events, &mut self.nv);
    }

    /// Sets the measured chamber oxygen; above the threshold the build pauses until it drops.
    pub fn set_oxygen_ppm(
        &mut self,
        ppm: u32,
        replies: &mut impl ReplySink,
        events: &mut impl EventSink,
    ) {
        self.core.set_oxygen(ppm, events);
        self.core.poll(replies, events, &mut self.nv);
    }

    /// Current state.
    pub fn state(&self) -> ControllerState {
        self.core.state
    }

    /// Bytes of frames the controller can accept now (the `Ack` window).
    pub fn window(&self) -> u32 {
        self.core.window()
    }

    /// The machine configuration.
    pub fn config(&self) -> &MachineConfig {
        &self.core.config
    }

    /// Current status as sent in reply to `StatusRequest`.
    pub fn status(&self) -> Status {
        self.core.status()
    }

    /// Summary so far (final once Done, Faulted or Aborted).
    pub fn report(&self) -> Report {
        self.core.report()
    }

    /// Time and energy summed over executed layers.
    pub fn totals(&self) -> LayerTiming {
        self.core.totals
    }
}

impl<const ARENA: usize, const PARAMS: usize, const READY: usize> Core<ARENA, PARAMS, READY> {
    fn window(&self) -> u32 {
        match self.state {
            ControllerState::Faulted | ControllerState::Aborted => 0,
            // Every ready slot taken (a paused build): no layer can start until one executes.
            _ if self.ready.is_full() => 0,
            _ => u32::try_from(ARENA.saturating_sub(self.used)).unwrap_or(u32::MAX),
        }
    }

    fn status(&self) -> Status {
        Status {
            state: self.state,
            layers_done: self.layers_done,
            committed_seq: self.expected_seq.wrapping_sub(1),
            oxygen_ppm: self.oxygen_ppm,
            window: self.window(),
        }
    }

    fn report(&self) -> Report {
        Report {
            state: self.state,
            layers: self.layers_done,
            vectors: self.totals.marks,
            ticks: self.totals.total_ticks(),
            energy_mj: self.totals.energy_nj / 1_000_000,
            executed_sha256: self
                .executed
                .clone()
                .map(JobDigest::finish)
                .unwrap_or_default(),
        }
    }

    fn send(&mut self, msg: Msg<'_>, replies: &mut impl ReplySink) {
        replies.reply(&Frame {
            seq: self.reply_seq,
            msg,
        });
        self.reply_seq = self.reply_seq.wrapping_add(1);
    }

    fn set_state(&mut self, to: ControllerState, events: &mut impl EventSink) {
        if self.state != to {
            events.event(&Event::StateChanged {
                from: self.state,
                to,
            });
            self.state = to;
        }
    }

    fn clear_buffers(&mut self) {
        self.used = 0;
        self.ready.clear();
        self.open = None;
    }

    fn link_error(
        &mut self,
        frame: u64,
        offset: u64,
        reason: NakReason,
        replies: &mut impl ReplySink,
        events: &mut impl EventSink,
    ) {
        events.event(&Event::LinkError {
            frame,
            offset,
            expected_seq: self.expected_seq,
            reason,
        });
        self.send(
            Msg::Nak(Nak {
                seq: self.expected_seq,
                reason,
            }),
            replies,
        );
    }

    fn refuse(&mut self, f: Fault, replies: &mut impl ReplySink, events: &mut impl EventSink) {
        self.clear_buffers();
        self.set_state(ControllerState::Faulted, events);
        events.event(&Event::Fault(f));
        self.send(Msg::Fault(f), replies);
        let r = self.report();
        self.send(Msg::Report(r), replies);
    }

    fn handle(
        &mut self,
        frame: Frame<'_>,
        replies: &mut impl ReplySink,
        events: &mut impl EventSink,
        nv: &mut impl NonVolatile,
    ) {
        if let Msg::Hello(_) = frame.msg {
            // Out of band: a (re)connecting host learns capacities and where to resume.
            let machine = self.config.machine.clone();
            let hello = Hello {
                protocol: PROTOCOL_VERSION,
                machine: machine.as_str(),
                max_frame: MAX_FRAME as u16,
                arena_bytes: u32::try_from(ARENA).unwrap_or(u32::MAX),
                param_sets: u16::try_from(PARAMS).unwrap_or(u16::MAX),
                resume: self.resume_point(),
            };
            self.send(Msg::Hello(hello), replies);
            let ack = Ack {
                up_to_seq: self.expected_seq.wrapping_sub(1),
                window: self.window(),
            };
            self.send(Msg::Ack(ack), replies);
            return;
        }
        if matches!(
            frame.msg,
            Msg::Start | Msg::Pause | Msg::Resume | Msg::Abort | Msg::StatusRequest
        ) {
            // Out of band: operator commands act at once and never consume a sequence number,
            // so a job file streams verbatim while the host starts, pauses or aborts it.
            match self.apply(&frame.msg, replies, events, nv) {
                Ok(()) if frame.msg != Msg::StatusRequest => {
                    let s = self.status();
                    self.send(Msg::Status(s), replies);
                }
                Ok(()) => {}
                Err(Refusal::Nak(reason)) => self.send(
                    Msg::Nak(Nak {
                        seq: frame.seq,
                        reason,
                    }),
                    replies,
                ),
                Err(Refusal::Fault(f)) => self.refuse(f, replies, events),
            }
            return;
        }
        if frame.seq != self.expected_seq {
            if frame.seq.wrapping_sub(self.expected_seq) < u32::MAX / 2 {
                self.link_error(u64::MAX, u64::MAX, NakReason::OutOfOrder, replies, events);
            } else {
                let ack = Ack {
                    up_to_seq: self.expected_seq.wrapping_sub(1),
                    window: self.window(),
                };
                self.send(Msg::Ack(ack), replies);
            }
            return;
        }
        match self.apply(&frame.msg, replies, events, nv) {
            Ok(()) => {
                self.expected_seq = self.expected_seq.wrapping_add(1);
                let ack = Ack {
                    up_to_seq: frame.seq,
                    window: self.window(),
                };
                self.send(Msg::Ack(ack), replies);
            }
            Err(Refusal::Nak(reason)) => {
                self.send(
                    Msg::Nak(Nak {
                        seq: frame.seq,
                        reason,
                    }),
                    replies,
                );
            }
            Err(Refusal::Fault(f)) => {
                self.expected_seq = self.expected_seq.wrapping_add(1);
                let ack = Ack {
                    up_to_seq: frame.seq,
                    window: 0,
                };
                self.send(Msg::Ack(ack), replies);
                self.refuse(f, replies, events);
            }
        }
    }

    fn job_active(&self) -> bool {
        matches!(
            self.state,
            ControllerState::Loaded | ControllerState::Printing | ControllerState::Paused
        )
    }

    fn apply(
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
            Msg::LayerStart(l) => self.layer_start(&l),
            Msg::VectorBlock(b) => self.vector_block(&b, events),
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
                let r = self.report();
                self.send(Msg::Report(r), replies);
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
        self.head = ScanHead::new(self.config.galvo, h.quantum_nm);
        self.prefix = Some(JobDigest::new(h));
        let resumed = self.resume_or_forget(h, nv)?;
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
            if let Some(d) = self.executed.as_mut() {
                d.param_set(p);
            }
        }
        if self.params.len() == usize::from(job.param_sets) {
            self.params_complete()?;
        }
        Ok(())
    }

    fn layer_start(&mut self, l: &LayerStart) -> Result<(), Refusal> {
        let job = self
            .job
            .filter(|_| self.job_active())
            .ok_or(Refusal::Nak(NakReason::Unexpected))?;
        if self.open.is_some() || self.params.len() != usize::from(job.param_sets) {
            return Err(fault(l.layer, NONE, NONE, Rule::ProtocolOrder, 0, 0).into());
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
        if need > ARENA as u64 {
            return Err(fault(
                l.layer,
                NONE,
                NONE,
                Rule::LayerTooLarge,
                need as i64,
                ARENA as i64,
            )
            .into());
        }
        if self.ready.is_full() || need > ARENA.saturating_sub(self.used) as u64 {
            return Err(Refusal::Nak(NakReason::NoSpace));
        }
        self.open = Some(OpenLayer {
            layer: l.layer,
            blocks_announced: l.blocks,
            bytes_announced: l.payload_bytes,
            blocks: 0,
            bytes: 0,
            digest: LayerDigest::new(l.layer),
            skip: false,
        });
        Ok(())
    }

    fn vector_block(
        &mut self,
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
        let (layer, block) = (open.layer, open.blocks);
        let len = u32::try_from(b.data.len()).unwrap_or(u32::MAX);
        if block >= open.blocks_announced || open.bytes.saturating_add(len) > open.bytes_announced {
            let f = fault(
                layer,
                block,
                NONE,
                Rule::LayerSizeMismatch,
                i64::from(open.bytes) + i64::from(len),
                open.bytes_announced.into(),
            );
            return Err(f.into());
        }
        if open.skip {
            if let Some(open) = self.open.as_mut() {
                open.digest.block(b);
                open.blocks += 1;
                open.bytes += len;
            }
            return Ok(());
        }
        self.verify_block(&job, layer, block, b, events)?;
        let start = self.used;
        let end = start + BLOCK_HEADER + b.data.len();
        let slot = self.arena.get_mut(start..end).ok_or(fault(
            layer,
            block,
            NONE,
            Rule::LayerTooLarge,
            end as i64,
            ARENA as i64,
        ))?;
        let (head, data) = slot.split_at_mut(BLOCK_HEADER);
        let mut header = [0u8; BLOCK_HEADER];
        let [p0, p1] = b.param_set.to_le_bytes();
        let [v0, v1, v2, v3] = b.vectors.to_le_bytes();
        let [l0, l1, l2, l3] = len.to_le_bytes();
        header.copy_from_slice(&[
            p0,
            p1,
            b.kind as u8,
            b.region as u8,
            b.coding as u8,
            v0,
            v1,
            v2,
            v3,
            l0,
            l1,
            l2,
            l3,
        ]);
        head.copy_from_slice(&header);
        data.copy_from_slice(b.data);
        self.used = end;
        if let Some(open) = self.open.as_mut() {
            open.digest.block(b);
            open.blocks += 1;
            open.bytes += len;
        }
        Ok(())
    }

    fn verify_block(
        &mut self,
        job: &JobInfo,
        layer: u32,
        block: u32,
        b: &VectorBlock<'_>,
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
        for (i, s) in b.segments().enumerate() {
            let v = u32::try_from(i).unwrap_or(NONE);
            let s = s.map_err(|_| fault(layer, block, v, Rule::MalformedBlock, 0, 0))?;
            for c in [s.from.x, s.from.y, s.to.x, s.to.y] {
                check_coordinate(limit, c)
                    .map_err(|e| fault(layer, block, v, e.rule, e.value, e.limit))?;
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
        if e.layer != open.layer {
            return Err(fault(
                e.layer,
                NONE,
                NONE,
                Rule::LayerOutOfOrder,
                e.layer.into(),
                open.layer.into(),
            )
            .into());
        }
        if open.blocks != open.blocks_announced || open.bytes != open.bytes_announced {
            return Err(fault(
                e.layer,
                open.blocks,
                NONE,
                Rule::LayerSizeMismatch,
                open.bytes.into(),
                open.bytes_announced.into(),
            )
            .into());
        }
        let digest = open.digest.finish();
        if digest != e.digest {
            return Err(fault(e.layer, NONE, NONE, Rule::LayerHashMismatch, 0, 0).into());
        }
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
        if self.open.is_some() || e.layers != job.layer_count || self.next_layer != job.layer_count
        {
            return Err(job_fault(
                Rule::LayerCountMismatch,
                self.next_layer.into(),
                job.layer_count.into(),
            )
            .into());
        }
        let got = self
            .received
            .clone()
            .map(JobDigest::finish)
            .unwrap_or_default();
        if got != e.job_sha256 || job.header_hash.is_some_and(|h| h != got) {
            return Err(job_fault(Rule::JobHashMismatch, 0, 0).into());
        }
        self.release_job_end(&got, e.layers)?;
        self.job_end_ok = true;
        Ok(())
    }

    fn set_oxygen(&mut self, ppm: u32, events: &mut impl EventSink) {
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

    fn poll(
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
            let r = self.report();
            self.send(Msg::Report(r), replies);
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
        if self.config.recoater_collision_layer == Some(l.layer) {
            return Err(fault(l.layer, NONE, NONE, Rule::RecoaterCollision, 0, 0));
        }
        self.head.power_permille = self.config.delivered_power_permille(l.layer);
        let mut extra = LayerTiming {
            recoat_ticks: recoat_ticks(&self.config),
            ..LayerTiming::default()
        };
        if let Some(x) = self
            .config
            .oxygen_excursions
            .iter()
            .find(|x| x.layer == l.layer)
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
                return Ok(());
            }
        }
        let Self {
            arena,
            params,
            head,
            ..
        } = self;
        let mut at = 0;
        let mut block = 0u32;
        while at < l.end {
            let bytes = arena.get(at..l.end).unwrap_or(&[]);
            let (b, n) = parse_record(bytes).ok_or(fault(
                l.layer,
                block,
                NONE,
                Rule::MalformedBlock,
                0,
                0,
            ))?;
            let p = params
                .iter()
                .find(|e| e.set.id == b.param_set)
                .map(|e| &e.set)
                .ok_or(fault(
                    l.layer,
                    block,
                    NONE,
                    Rule::UnknownParamSet,
                    b.param_set.into(),
                    0,
                ))?;
            for (i, s) in b.segments().enumerate() {
                let s =
                    s.map_err(|_| fault(l.layer, block, i as u32, Rule::MalformedBlock, 0, 0))?;
                head.mark(&s, p);
                events.event(&Event::Mark {
                    layer: l.layer,
                    block,
                    kind: b.kind,
                    region: b.region,
                    param: p,
                    segment: s,
                });
            }
            at += n;
            block += 1;
        }
        let mut timing = head.finish_layer();
        timing.add(&extra);
        self.totals.add(&timing);
        self.layers_done += 1;
        if let Some(d) = self.executed.as_mut() {
            d.layer(&l.digest);
        }
        self.ready.pop_front();
        if l.end <= self.used && self.used <= ARENA {
            self.arena.copy_within(l.end..self.used, 0);
            self.used -= l.end;
        } else {
            self.used = 0;
        }
        for r in self.ready.iter_mut() {
            r.end -= l.end;
        }
        // The record goes down before the layer is reported done: after a power loss from here
        // on, the layer is never exposed again.
        let stored = self.commit_layer(nv);
        events.event(&Event::LayerDone {
            layer: l.layer,
            timing,
            digest: l.digest,
        });
        stored.map_err(|_| fault(l.layer, NONE, NONE, Rule::RecordNotStored, 0, 0))
    }
}

enum Refusal {
    Nak(NakReason),
    Fault(Fault),
}

impl From<Fault> for Refusal {
    fn from(f: Fault) -> Self {
        Refusal::Fault(f)
    }
}

#[cfg(test)]
#[path = "controller_tests.rs"]
mod tests;
