//! The simulated link of a scenario: a [`Transport`] to an in-process controller on a virtual
//! clock. Sending advances the clock by the bytes at the link rate; waiting for a reply that
//! does not come advances it by the whole timeout, so the host's retransmission timeouts, stall
//! detection and the operator's timed actions happen in virtual time, identically on every run.
//!
//! The link also plays the timeline: faults on given stream frames, operator pause, resume
//! and abort before given layers, and the controller's power loss in the middle of a layer
//! (the controller is dropped and a new one boots).

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use meltline_firmware::controller::ReplySink;
use meltline_firmware::nvm::RamRecord;
use meltline_firmware::receiver::FrameReceiver;
use meltline_firmware::sim::report::SimReport;
use meltline_firmware::sim::{SimOptions, Simulator};
use meltline_firmware::wire::{ControllerState, Frame, MAX_FRAME, Msg, encode_frame};

use super::spec::FrameFault;
use crate::link::Transport;

/// Sequence number of out-of-band commands.
const OUT_OF_BAND: u32 = u32::MAX;

/// An operator action waiting for its layer or its time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OperatorAction {
    /// Pause before `layer`, resume after `resume_after` of virtual time if given.
    Pause {
        /// Layer before which.
        layer: u32,
        /// Time until the resume.
        resume_after: Option<Duration>,
    },
    /// Abort before `layer`.
    Abort {
        /// Layer before which.
        layer: u32,
    },
    /// Exclude part `part` (index in the part table) before `layer`.
    SkipPart {
        /// Layer before which.
        layer: u32,
        /// The part.
        part: u16,
    },
}

/// The controller loses power during layer `layer` after `after_blocks` of its blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerLossPlan {
    /// The layer being received.
    pub layer: u32,
    /// Its blocks delivered before the loss.
    pub after_blocks: u32,
    /// The controller's record of its last completed layer survives (non-volatile memory);
    /// without it the new controller starts from nothing.
    pub nonvolatile: bool,
}

/// Something the timeline did, with where and when it happened.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FiredEvent {
    /// Virtual time, s.
    pub at_s: f64,
    /// What happened.
    pub what: String,
}

struct ReplyBytes<'a>(&'a mut Vec<u8>);

impl ReplySink for ReplyBytes<'_> {
    fn reply(&mut self, frame: &Frame<'_>) {
        let mut buf = [0u8; MAX_FRAME];
        if let Ok(n) = encode_frame(frame.seq, &frame.msg, &mut buf) {
            self.0.extend_from_slice(&buf[..n]);
        }
    }
}

/// What one outgoing frame is, as far as the timeline cares.
#[derive(Debug, Clone, Copy)]
enum Outgoing {
    Data { seq: u32, kind: DataKind },
    Control,
    Unreadable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataKind {
    LayerStart(u32),
    Block,
    Other,
}

/// The link with the controller behind it.
pub struct SimulatedLink {
    sim: Simulator,
    sim_options: SimOptions,
    /// Reports of controllers that lost power, in order.
    pub lost: Vec<SimReport>,
    clock: Duration,
    bytes_per_s: f64,
    reboot: Duration,
    replies: Vec<u8>,
    replies_at: Duration,
    round_trip: Duration,
    connected: bool,
    rebooting: bool,
    frame_faults: BTreeMap<u32, FrameFault>,
    operator: Vec<OperatorAction>,
    resume_at: Option<Duration>,
    power_loss: Option<PowerLossPlan>,
    layer_in_transit: Option<u32>,
    blocks_in_transit: u32,
    rx: Box<FrameReceiver<MAX_FRAME>>,
    /// The timeline as it happened.
    pub fired: Vec<FiredEvent>,
    flip: u64,
}

impl SimulatedLink {
    /// A link to a new controller made from `sim_options`.
    pub fn new(
        sim_options: SimOptions,
        bytes_per_s: f64,
        round_trip: Duration,
        reboot: Duration,
    ) -> SimulatedLink {
        SimulatedLink {
            sim: Simulator::with_nonvolatile(sim_options.clone(), Box::new(RamRecord::default())),
            sim_options,
            lost: Vec::new(),
            clock: Duration::ZERO,
            bytes_per_s,
            reboot,
            replies: Vec::new(),
            replies_at: Duration::ZERO,
            round_trip,
            connected: false,
            rebooting: false,
            frame_faults: BTreeMap::new(),
            operator: Vec::new(),
            resume_at: None,
            power_loss: None,
            layer_in_transit: None,
            blocks_in_transit: 0,
            rx: Box::new(FrameReceiver::new()),
            fired: Vec::new(),
            flip: 0,
        }
    }

    /// Hits the first transmission of stream frame `seq` with `fault`.
    pub fn fault_frame(&mut self, seq: u32, fault: FrameFault) {
        self.frame_faults.insert(seq, fault);
    }

    /// Schedules an operator action.
    pub fn operator(&mut self, a: OperatorAction) {
        self.operator.push(a);
    }

    /// Schedules the power loss.
    pub fn power_loss(&mut self, p: PowerLossPlan) {
        self.power_loss = Some(p);
    }

    /// The controller now running.
    pub fn simulator(&self) -> &Simulator {
        &self.sim
    }

    /// Timeline events that never came to pass (their frame or layer was never reached).
    pub fn unfired(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .frame_faults
            .iter()
            .map(|(seq, f)| format!("link-fault {f:?} on frame {seq}"))
            .collect();
        v.extend(self.operator.iter().map(|a| match a {
            OperatorAction::Pause { layer, .. } => format!("pause before layer {layer}"),
            OperatorAction::Abort { layer } => format!("abort before layer {layer}"),
            OperatorAction::SkipPart { layer, part } => {
                format!("skip part {part} before layer {layer}")
            }
        }));
        if self.resume_at.is_some() {
            v.push("resume".into());
        }
        if let Some(p) = self.power_loss {
            v.push(format!("power-loss during layer {}", p.layer));
        }
        v
    }

    /// Virtual time so far.
    pub fn elapsed(&self) -> Duration {
        self.clock
    }

    fn note(&mut self, what: String) {
        self.fired.push(FiredEvent {
            at_s: self.clock.as_secs_f64(),
            what,
        });
    }

    fn layers_done(&self) -> u32 {
        self.sim.controller().report().layers
    }

    fn command(&mut self, msg: Msg<'_>) {
        let mut buf = [0u8; MAX_FRAME];
        if let Ok(n) = encode_frame(OUT_OF_BAND, &msg, &mut buf) {
            self.deliver(&buf[..n]);
        }
    }

    /// Fires operator actions whose layer has come (layers before it are exposed) or whose
    /// time has come.
    fn operator_due(&mut self) {
        if let Some(at) = self.resume_at
            && self.clock >= at
        {
            self.resume_at = None;
            self.command(Msg::Resume);
            let layer = self.layers_done();
            self.note(format!("operator resumed with {layer} layers exposed"));
        }
        let done = self.layers_done();
        let state = self.sim.controller().state();
        let mut i = 0;
        while i < self.operator.len() {
            // An operator acts on a build that is running (or, to abort, held).
            let due = match self.operator[i] {
                OperatorAction::Pause { layer, .. } => {
                    done >= layer && state == ControllerState::Printing
                }
                OperatorAction::Abort { layer } | OperatorAction::SkipPart { layer, .. } => {
                    done >= layer
                        && matches!(state, ControllerState::Printing | ControllerState::Paused)
                }
            };
            if !due {
                i += 1;
                continue;
            }
            let action = self.operator.remove(i);
            match action {
                OperatorAction::Pause { resume_after, .. } => {
                    self.command(Msg::Pause);
                    self.note(format!("operator paused before layer {done}"));
                    if let Some(d) = resume_after {
                        self.resume_at = Some(self.clock + d);
                    }
                }
                OperatorAction::Abort { .. } => {
                    self.command(Msg::Abort);
                    self.note(format!("operator aborted before layer {done}"));
                }
                OperatorAction::SkipPart { part, .. } => {
                    self.command(Msg::SkipPart(meltline_firmware::wire::SkipPart { part }));
                    self.note(format!("operator skipped part {part} before layer {done}"));
                }
            }
        }
    }

    fn classify(&mut self, frame: &[u8]) -> Outgoing {
        self.rx.reset();
        let (_, got) = self.rx.feed(frame);
        match got {
            Some(Ok(f)) => match f.msg {
                Msg::Hello(_)
                | Msg::Start
                | Msg::Pause
                | Msg::Resume
                | Msg::Abort
                | Msg::StatusRequest
                | Msg::SkipPart(_) => Outgoing::Control,
                Msg::LayerStart(l) => Outgoing::Data {
                    seq: f.seq,
                    kind: DataKind::LayerStart(l.layer),
                },
                Msg::VectorBlock(_) | Msg::PartBlock(_) => Outgoing::Data {
                    seq: f.seq,
                    kind: DataKind::Block,
                },
                _ => Outgoing::Data {
                    seq: f.seq,
                    kind: DataKind::Other,
                },
            },
            _ => Outgoing::Unreadable,
        }
    }

    fn deliver(&mut self, bytes: &[u8]) {
        let before = self.replies.len();
        self.sim.feed(bytes, &mut ReplyBytes(&mut self.replies));
        if self.replies.len() > before {
            // Replies arrive one round trip after what caused them.
            self.replies_at = self.clock + self.round_trip;
        }
    }

    /// The controller dies; only its non-volatile memory survives, and a new controller
    /// boots from it when the host reconnects.
    fn lose_power(&mut self, plan: PowerLossPlan) {
        let report = self.sim.report(true);
        self.note(format!(
            "power lost during layer {} after {} of its blocks ({} layers exposed{})",
            plan.layer,
            self.blocks_in_transit,
            report.layers_executed,
            if plan.nonvolatile {
                ""
            } else {
                "; no non-volatile record"
            }
        ));
        self.lost.push(report);
        self.replies.clear();
        self.connected = false;
        self.rebooting = true;
        let dead = std::mem::replace(
            &mut self.sim,
            Simulator::with_nonvolatile(self.sim_options.clone(), Box::new(())),
        );
        let memory = dead.power_loss();
        if plan.nonvolatile {
            self.sim = Simulator::with_nonvolatile(self.sim_options.clone(), memory);
        }
    }
}

impl Transport for SimulatedLink {
    fn connect(&mut self) -> io::Result<()> {
        if self.rebooting {
            // The host waits for the rebooting controller.
            self.rebooting = false;
            self.clock += self.reboot;
        }
        self.connected = true;
        Ok(())
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        if !self.connected {
            return Err(io::Error::new(io::ErrorKind::NotConnected, "link down"));
        }
        self.clock += Duration::from_secs_f64(bytes.len() as f64 / self.bytes_per_s);
        if self.frame_faults.is_empty() && self.operator.is_empty() && self.power_loss.is_none() {
            // Nothing on the timeline looks at frames: pass the bytes as they are.
            self.deliver(bytes);
            return Ok(());
        }
        for frame in bytes.split_inclusive(|b| *b == 0) {
            let what = self.classify(frame);
            if let Outgoing::Data { .. } = what {
                self.operator_due();
            }
            let Outgoing::Data { seq, kind } = what else {
                self.deliver(frame);
                continue;
            };
            match kind {
                DataKind::LayerStart(l) => {
                    self.layer_in_transit = Some(l);
                    self.blocks_in_transit = 0;
                }
                DataKind::Block => self.blocks_in_transit += 1,
                DataKind::Other => {}
            }
            match self.frame_faults.remove(&seq) {
                None => self.deliver(frame),
                Some(FrameFault::Drop) => self.note(format!("frame {seq} dropped")),
                Some(FrameFault::Duplicate) => {
                    self.deliver(frame);
                    self.deliver(frame);
                    self.note(format!("frame {seq} duplicated"));
                }
                Some(FrameFault::Corrupt) => {
                    let mut bad = frame.to_vec();
                    // A bit of the body, never the delimiter; varied but deterministic.
                    let body = bad.len().saturating_sub(1).max(1);
                    let i = (self.flip as usize * 7 + 3) % body;
                    self.flip += 1;
                    bad[i] ^= 0x10;
                    if bad[i] == 0 {
                        bad[i] = 0x10;
                    }
                    self.deliver(&bad);
                    self.note(format!("frame {seq} corrupted"));
                }
                Some(FrameFault::Disconnect) => {
                    self.deliver(frame);
                    self.note(format!("link dropped after frame {seq}"));
                    self.replies.clear();
                    self.connected = false;
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "injected disconnect",
                    ));
                }
            }
            if let (Some(p), Some(l)) = (self.power_loss, self.layer_in_transit)
                && l == p.layer
                && kind == DataKind::Block
                && self.blocks_in_transit >= p.after_blocks
                && self.layers_done() == p.layer
            {
                self.power_loss = None;
                self.lose_power(p);
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "controller lost power",
                ));
            }
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut Vec<u8>, timeout: Duration) -> io::Result<usize> {
        if !self.connected {
            return Err(io::Error::new(io::ErrorKind::NotConnected, "link down"));
        }
        self.operator_due();
        let until = self.clock + timeout;
        if self.replies.is_empty() || self.replies_at > until {
            // Nothing comes in time: the host waits out its timeout, or until the operator acts.
            match self.resume_at {
                Some(at) if at < until => self.clock = at.max(self.clock),
                _ => self.clock = until,
            }
            self.operator_due();
            if self.replies_at > self.clock {
                return Ok(0);
            }
        } else {
            self.clock = self.clock.max(self.replies_at);
        }
        let n = self.replies.len();
        buf.append(&mut self.replies);
        Ok(n)
    }

    fn disconnect(&mut self) {
        self.replies.clear();
        self.connected = false;
    }

    fn now(&self) -> Duration {
        self.clock
    }
}
