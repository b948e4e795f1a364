//! The verifying controller: a state machine fed with bytes (or decoded frames) that verifies a
//! layer completely before any of its vectors is executed.
//!
//! # Memory
//!
//! Everything is fixed when the controller is built: a receive buffer of one [`MAX_FRAME`], a
//! parameter-set table of `PARAMS` entries, and a layer **arena** (an [`ArenaStorage`]: a
//! `[u8; N]` held inline, or a boxed slice the simulator sizes from the machine's
//! [`MachineConfig::layer_memory_bytes`]; at most that figure is used) holding the coded blocks
//! of the layer being received plus up to `READY` verified layers waiting to execute. Blocks are
//! verified as they arrive (parameter set known, vectors decode, every endpoint inside the
//! field, energy density in the material window) and copied into the arena; the layer digest
//! is compared at `LayerEnd`; only then may the layer execute. A layer whose blocks need more
//! than the whole arena (payload + [`BLOCK_HEADER`] bytes per block) is refused at `LayerStart`
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

use crate::lasers::MAX_LASERS;
use crate::machine::{LayerTiming, MachineConfig, ScanHead};
use crate::nvm::{NonVolatile, NvRecord};
use crate::receiver::FrameReceiver;
use crate::wire::control::NONE;
use crate::wire::digest::JobDigest;
use crate::wire::verify::LayerTally;
use crate::wire::{
    Ack, BlockForm, ControllerState, Fault, Frame, Hello, MAX_FRAME, Msg, Nak, NakReason,
    PROTOCOL_VERSION, ParamSet, PartReport, Report, ResumePoint, Rule, Status,
};

mod accept;
mod arena;
mod events;
mod execute;
mod parts;
pub mod release;
mod resume;

pub use arena::BLOCK_HEADER;
pub use events::{Event, EventSink, ReplySink};

/// Default arena: 56 KiB of coded layer blocks. The largest layers of the real jobs measured
/// (BENCHMARKS.md: default TLIF lattice cage at its design resolution 44.7 KiB before block
/// merging, NIST artifact 42.1 KiB) fit with room to spare; `size_of::<Controller>()` stays
/// under [`SIZE_BOUND`].
pub const DEFAULT_ARENA: usize = 56 * 1024;
/// Default parameter-set table capacity.
pub const DEFAULT_PARAMS: usize = 32;
/// Default number of verified layers that may wait in the arena.
pub const DEFAULT_READY: usize = 4;
/// Documented bound on `size_of::<Controller>()` with default capacities: 64 KiB for the
/// arena, parameter sets and receive buffer, plus 12 KiB for a plate of [`crate::wire::MAX_PARTS`]
/// parts (footprint box, serial key and tally with its running part hash, about 190 B each).
pub const SIZE_BOUND: usize = 76 * 1024;

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
    /// Announced and received sizes and the digest (the `LayerEnd` rule of [`wire::verify`]).
    tally: LayerTally,
    /// Completed before a power loss: verified, then dropped.
    skip: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PauseCause {
    Operator,
    Interlock,
}

/// Where the layer arena lives: a fixed array (`[u8; N]`) on a controller without a heap, or a
/// boxed slice sized from the machine's [`MachineConfig::layer_memory_bytes`] (the simulator,
/// see [`Controller::with_arena`]). The usable arena is the smaller of the storage and the
/// machine's layer memory.
pub trait ArenaStorage: AsRef<[u8]> + AsMut<[u8]> {}
impl<T: AsRef<[u8]> + AsMut<[u8]>> ArenaStorage for T {}

/// The verifying printer controller with its arena storage `A`, its capacities as const
/// generics and its non-volatile memory `N` (`()`: none).
#[derive(Clone, Debug)]
pub struct Controller<
    A: ArenaStorage = [u8; DEFAULT_ARENA],
    const PARAMS: usize = DEFAULT_PARAMS,
    const READY: usize = DEFAULT_READY,
    N: NonVolatile = (),
> {
    rx: FrameReceiver<MAX_FRAME>,
    core: Core<A, PARAMS, READY>,
    nv: N,
}

#[derive(Clone, Debug)]
struct Core<A: ArenaStorage, const PARAMS: usize, const READY: usize> {
    config: MachineConfig,
    auto_start: bool,
    state: ControllerState,
    expected_seq: u32,
    reply_seq: u32,
    job: Option<JobInfo>,
    params: heapless::Vec<ParamEntry, PARAMS>,
    arena: A,
    used: usize,
    ready: heapless::Deque<ReadyLayer, READY>,
    open: Option<OpenLayer>,
    next_layer: u32,
    layers_done: u32,
    received: Option<JobDigest>,
    executed: Option<JobDigest>,
    /// The job hash over the executed layers as received (their verified digests): equal to
    /// `executed` unless a part was left out; what a resumed job's `received` starts from.
    verified: Option<JobDigest>,
    job_end_ok: bool,
    /// One scan head per laser; a job whose blocks name no laser uses the first.
    heads: [ScanHead; MAX_LASERS],
    /// Whether the job's blocks name their lasers.
    form: BlockForm,
    /// The lasers that went down (bit per index).
    lasers_down: u8,
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
    /// The part table and per-part tallies of a plate job.
    plate: parts::Plate,
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

/// A scan head for each laser of the machine (its galvo), parked at the origin; the heads past
/// the machine's lasers are never used.
fn scan_heads(config: &MachineConfig, quantum_nm: u32) -> [ScanHead; MAX_LASERS] {
    core::array::from_fn(|i| {
        let galvo = config.laser(i).map_or(config.galvo, |l| l.galvo);
        ScanHead::new(galvo, quantum_nm)
    })
}

fn job_fault(rule: Rule, value: i64, limit: i64) -> Fault {
    fault(NONE, NONE, NONE, rule, value, limit)
}

impl<const ARENA: usize, const PARAMS: usize, const READY: usize>
    Controller<[u8; ARENA], PARAMS, READY>
{
    /// A controller in `Idle` for the machine `config`, without non-volatile memory.
    pub fn new(config: MachineConfig) -> Self {
        Self::with_nonvolatile(config, ())
    }
}

impl<const ARENA: usize, const PARAMS: usize, const READY: usize, N: NonVolatile>
    Controller<[u8; ARENA], PARAMS, READY, N>
{
    /// A controller in `Idle` for the machine `config` that keeps its last completed layer in
    /// `nv`; a valid record found there is advertised in `Hello::resume` (see the module docs).
    pub fn with_nonvolatile(config: MachineConfig, nv: N) -> Self {
        Self::with_arena(config, nv, [0; ARENA])
    }
}

impl<A: ArenaStorage, const PARAMS: usize, const READY: usize, N: NonVolatile>
    Controller<A, PARAMS, READY, N>
{
    /// A controller in `Idle` for the machine `config` with its layer arena in `arena` (of
    /// which it uses at most the machine's layer memory) and its record in `nv`.
    pub fn with_arena(config: MachineConfig, mut nv: N, arena: A) -> Self {
        let oxygen_ppm = config.oxygen_nominal_ppm;
        let heads = scan_heads(&config, 1000);
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
                arena,
                used: 0,
                ready: heapless::Deque::new(),
                open: None,
                next_layer: 0,
                layers_done: 0,
                received: None,
                executed: None,
                verified: None,
                job_end_ok: false,
                heads,
                form: BlockForm::new(),
                lasers_down: 0,
                totals: LayerTiming::default(),
                oxygen_ppm,
                pause: None,
                record,
                resumed_from: None,
                skip_next: 0,
                prefix: None,
                prefix_sha256: None,
                release: release::ReleaseGate::default(),
                plate: parts::Plate::default(),
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

    /// Part `part`'s report so far (final once Done, Faulted or Aborted); `None` beyond the
    /// job's part table.
    pub fn part_report(&self, part: u16) -> Option<PartReport> {
        self.core.part_report(part)
    }

    /// Parts in the job's part table (0 for a job without one).
    pub fn parts(&self) -> u16 {
        self.core.plate.table.len()
    }
}

impl<A: ArenaStorage, const PARAMS: usize, const READY: usize> Core<A, PARAMS, READY> {
    /// Usable arena bytes: the storage, at most the machine's layer memory.
    fn capacity(&self) -> usize {
        let machine = usize::try_from(self.config.layer_memory_bytes).unwrap_or(usize::MAX);
        self.arena.as_ref().len().min(machine)
    }

    /// The usable arena.
    fn arena_mut(&mut self) -> &mut [u8] {
        let cap = self.capacity();
        let a = self.arena.as_mut();
        let len = a.len();
        a.get_mut(..cap.min(len)).unwrap_or_default()
    }

    fn window(&self) -> u32 {
        match self.state {
            // Stopped by a laser failure, it waits for the job that continues on the others.
            ControllerState::Faulted if self.lasers_down != 0 && self.record.is_some() => {
                u32::try_from(self.capacity().saturating_sub(self.used)).unwrap_or(u32::MAX)
            }
            ControllerState::Faulted | ControllerState::Aborted => 0,
            // Every ready slot taken (a paused build): no layer can start until one executes.
            _ if self.ready.is_full() => 0,
            _ => u32::try_from(self.capacity().saturating_sub(self.used)).unwrap_or(u32::MAX),
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
        self.send_reports(replies);
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
                arena_bytes: u32::try_from(self.capacity()).unwrap_or(u32::MAX),
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
            Msg::Start
                | Msg::Pause
                | Msg::Resume
                | Msg::Abort
                | Msg::StatusRequest
                | Msg::SkipPart(_)
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

#[cfg(test)]
#[path = "controller/lasers_tests.rs"]
mod lasers_tests;
