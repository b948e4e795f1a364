//! Streaming a verified job to a controller: handshake, sliding window bounded by the
//! controller's advertised window, go-back-N retransmission on `Nak` and on timeout with an
//! adaptive retransmission timeout (Jacobson/Karels, Karn's rule), reconnection and resumption
//! from the controller's last committed frame, an optional fault-injecting link in front.
//!
//! The stream the host sends is the job file's frames, verbatim when the controller expects
//! sequence number 0, renumbered from its next expected number when it has finished an earlier
//! job. `Start` is an out-of-band operator command (it consumes no sequence number): the host
//! sends it once the `JobHeader` is acknowledged, and again after a reconnection, so layers
//! execute as they arrive and the controller's arena drains. A new session with `resume`
//! continues a job the controller holds from base 0.
//!
//! A controller that restarted (power loss, process killed) expects sequence number 0 again.
//! If its `Hello` advertises a resume point for this job (its non-volatile record), the
//! session continues from there: header and parameter sets, then the layers from the resume
//! point (see [`restart`]'s plan); the outcome notes where the controller stopped and where the
//! stream resumed. A controller that restarted without a record of the job cannot continue
//! it, and the stream stops rather than expose the built layers again. The `JobHeader` always
//! announces the job hash, so a controller can keep a record of any streamed job.

mod outcome;
mod restart;
mod rto;
pub mod secure;
mod transport;

pub use outcome::{Progress, StreamError, StreamOptions, StreamOutcome};
pub use rto::Rto;
pub use transport::{InProcess, Tcp, Transport, wall_clock};

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use meltline_firmware::receiver::FrameReceiver;
use meltline_firmware::wire::{
    ControllerState, Hello, MAX_FRAME, Msg, NakReason, PROTOCOL_VERSION, Report, ResumePoint,
    encode_frame,
};

use crate::faults::{FaultCounts, FaultInjector};
use crate::jobfile::{JobFile, hex, resequence};

struct InFlight {
    index: u64,
    len: usize,
    at: Duration,
    retransmitted: bool,
}

/// Streams a verified job over `transport` until the controller reports the end of the job
/// or the link is lost for good; `progress` is called after every batch of replies.
pub fn stream_job(
    job: &JobFile,
    transport: &mut dyn Transport,
    opts: &StreamOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<StreamOutcome, StreamError> {
    let header =
        restart::announced_header(job).map_err(|source| StreamError::Frame { index: 0, source })?;
    Streamer::new(job, transport, opts, header).run(progress)
}

struct Streamer<'a> {
    job: &'a JobFile,
    t: &'a mut dyn Transport,
    opts: &'a StreamOptions,
    faults: Option<FaultInjector>,
    started: bool,
    /// Frames allowed in flight (additive increase, halved on every loss): go-back-N resends
    /// everything in flight after a loss, so a lossy link is run with a short flight.
    cwnd: f64,
    total: u64,
    base: u32,
    acked: u64,
    next: u64,
    window: u64,
    inflight: VecDeque<InFlight>,
    inflight_bytes: u64,
    rto: Rto,
    rx: Box<FrameReceiver<MAX_FRAME>>,
    rxbuf: Vec<u8>,
    out: StreamOutcome,
    last_rewind: Option<(u64, Duration)>,
    hello: Option<u32>,
    naks: [u64; 8],
    last_progress: Duration,
    report: Option<Report>,
    unexpected: u32,
    highest_sent: u64,
    resumed_from: u64,
    /// A `Hello` reply arrived; the next `Ack` tells where the controller stands (it may come
    /// in a later read).
    hello_ack_pending: bool,
    /// The resume point of the last `Hello`.
    hello_resume: Option<ResumePoint>,
    /// Which file frames this session sends.
    plan: restart::Plan,
    /// The header frame announcing the job hash.
    header: Vec<u8>,
    /// Frames first sent before the controller last restarted.
    frames_before_restart: u64,
}

fn nak_index(r: NakReason) -> usize {
    match r {
        NakReason::Crc => 0,
        NakReason::Framing => 1,
        NakReason::Oversize => 2,
        NakReason::Malformed => 3,
        NakReason::OutOfOrder => 4,
        NakReason::NoSpace => 5,
        NakReason::Unexpected => 6,
        NakReason::Unauthenticated => 7,
    }
}

/// Largest flight in frames.
const MAX_CWND: f64 = 1024.0;

/// Sequence number of out-of-band operator commands (they consume none).
const OUT_OF_BAND: u32 = u32::MAX;

const NAK_NAMES: [&str; 8] = [
    "Crc",
    "Framing",
    "Oversize",
    "Malformed",
    "OutOfOrder",
    "NoSpace",
    "Unexpected",
    "Unauthenticated",
];

impl<'a> Streamer<'a> {
    fn new(
        job: &'a JobFile,
        t: &'a mut dyn Transport,
        opts: &'a StreamOptions,
        header: Vec<u8>,
    ) -> Self {
        let last_progress = t.now();
        Streamer {
            job,
            t,
            opts,
            faults: opts.faults.clone().map(FaultInjector::new),
            started: false,
            cwnd: 64.0,
            total: job.frames.len() as u64,
            base: 0,
            acked: 0,
            next: 0,
            window: 0,
            inflight: VecDeque::new(),
            inflight_bytes: 0,
            rto: Rto::new(opts.rto_min, opts.rto_max),
            rx: Box::new(FrameReceiver::new()),
            rxbuf: Vec::with_capacity(1 << 16),
            out: StreamOutcome {
                job_sha256: hex(&job.job_sha256),
                executed_sha256: None,
                hashes_equal: false,
                report: None,
                state: None,
                faults: Vec::new(),
                fault_messages: Vec::new(),
                interrupted: None,
                base_seq: 0,
                frames: 0,
                retransmits: 0,
                naks: Vec::new(),
                timeouts: 0,
                reconnects: 0,
                bytes_sent: 0,
                job_bytes: job.bytes,
                link_faults: FaultCounts::default(),
                elapsed_s: 0.0,
                throughput_mb_s: 0.0,
                vectors_per_s: 0.0,
                progress: Progress::default(),
                srtt_ms: 0.0,
                controller_restarts: 0,
                resumed_at_layer: None,
                notes: Vec::new(),
            },
            last_rewind: None,
            hello: None,
            naks: [0; 8],
            last_progress,
            report: None,
            unexpected: 0,
            highest_sent: 0,
            resumed_from: 0,
            hello_ack_pending: false,
            hello_resume: None,
            plan: restart::Plan::default(),
            header,
            frames_before_restart: 0,
        }
    }

    /// Wire bytes of stream position `index` numbered from the session base.
    fn frame(&self, index: u64) -> Result<Vec<u8>, StreamError> {
        let seq = self.base.wrapping_add(index as u32);
        let err = |source| StreamError::Frame { index, source };
        let file = self.plan.file_index(index);
        let wire = if file == 0 {
            &self.header
        } else {
            &self.job.frames[file as usize]
        };
        if u64::from(seq) == file {
            return Ok(wire.clone());
        }
        resequence(wire, seq).map_err(err)
    }

    fn progress(&self) -> Progress {
        // Layers whose LayerEnd is committed (before a restart, layers the controller's record
        // says it completed).
        let mut layers = 0u32;
        let mut vectors = 0u64;
        let acked = self.plan.file_acked(self.acked);
        let done_before = self.plan.layer.unwrap_or(0);
        for l in &self.job.layers {
            if l.layer < done_before || l.first_frame + l.frames <= acked {
                layers += 1;
                vectors += l.vectors;
            } else {
                break;
            }
        }
        Progress {
            frames_acked: acked,
            frames_total: self.job.frames.len() as u64,
            layers_committed: layers,
            vectors_committed: vectors,
            bytes_sent: self.out.bytes_sent,
            retransmits: self.out.retransmits,
        }
    }

    /// Sends raw bytes through the fault injector; returns false when the link dropped.
    fn transmit(&mut self, wire: &[u8]) -> bool {
        self.out.bytes_sent += wire.len() as u64;
        let (bytes, cut) = match self.faults.as_mut() {
            Some(f) => {
                let mut out = Vec::with_capacity(wire.len() * 2);
                let cut = f.pass(wire, &mut out);
                (out, cut)
            }
            None => (wire.to_vec(), false),
        };
        if self.t.send(&bytes).is_err() {
            return false;
        }
        if cut {
            self.t.disconnect();
            return false;
        }
        true
    }

    /// Connects and learns the window and the controller's next expected sequence number.
    fn handshake(&mut self, first: bool) -> Result<Option<u32>, StreamError> {
        self.t.connect().map_err(StreamError::Connect)?;
        self.rx.reset();
        self.rxbuf.clear();
        for _attempt in 0..6 {
            self.hello = None;
            self.hello_resume = None;
            let mut buf = [0u8; MAX_FRAME];
            let hello = Msg::Hello(Hello {
                protocol: PROTOCOL_VERSION,
                machine: &self.job.machine,
                max_frame: MAX_FRAME as u16,
                arena_bytes: 0,
                param_sets: 0,
                resume: None,
            });
            let n = encode_frame(0, &hello, &mut buf)
                .map_err(|source| StreamError::Frame { index: 0, source })?;
            // A leading delimiter ends whatever partial frame the controller holds from a
            // dropped connection.
            let mut wire = vec![0u8];
            wire.extend_from_slice(&buf[..n]);
            // The handshake is not subject to injected faults: they model the data link.
            if self.t.send(&wire).is_err() {
                self.t.connect().map_err(StreamError::Connect)?;
                continue;
            }
            let deadline = self.t.now() + self.rto.timeout().max(Duration::from_millis(200)) * 2;
            while self.t.now() < deadline {
                if self.pump(Duration::from_millis(50), first).is_err() {
                    self.t.connect().map_err(StreamError::Connect)?;
                    self.rx.reset();
                    break;
                }
                if let Some(expected) = self.hello {
                    return Ok(Some(expected));
                }
                if self.t.synchronous() {
                    break;
                }
                if let Some(e) = self.out.interrupted.take() {
                    return Err(StreamError::Connect(io::Error::other(e)));
                }
            }
        }
        Ok(None)
    }

    /// Receives and handles replies for up to `timeout`.
    fn pump(&mut self, timeout: Duration, handshake: bool) -> io::Result<()> {
        self.rxbuf.clear();
        let n = self.t.recv(&mut self.rxbuf, timeout)?;
        if n == 0 {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.rxbuf);
        let mut rest = &bytes[..];
        let mut msgs: Vec<Msg<'static>> = Vec::new();
        let mut hello: Option<(u16, String)> = None;
        while !rest.is_empty() {
            let (used, got) = self.rx.feed(rest);
            rest = &rest[used..];
            if let Some(Ok(f)) = got {
                match f.msg {
                    Msg::Hello(h) => {
                        self.hello_resume = h.resume;
                        hello = Some((h.protocol, h.machine.to_string()));
                    }
                    Msg::Ack(a) => msgs.push(Msg::Ack(a)),
                    Msg::Nak(a) => msgs.push(Msg::Nak(a)),
                    Msg::Fault(a) => msgs.push(Msg::Fault(a)),
                    Msg::Report(a) => msgs.push(Msg::Report(a)),
                    Msg::Status(a) => msgs.push(Msg::Status(a)),
                    _ => {}
                }
            }
        }
        self.rxbuf = bytes;
        if let Some((protocol, machine)) = hello {
            if protocol != PROTOCOL_VERSION {
                self.out.interrupted = Some(format!("controller speaks protocol {protocol}"));
            }
            if machine != self.job.machine {
                self.out.interrupted = Some(format!(
                    "the controller is machine `{machine}` but the job is for `{}`: refused before sending",
                    self.job.machine
                ));
            }
            self.hello_ack_pending = true;
        }
        for m in msgs {
            match m {
                Msg::Ack(a) => {
                    if self.hello_ack_pending {
                        // The Ack right after our Hello: where the controller stands.
                        self.hello_ack_pending = false;
                        self.window = u64::from(a.window);
                        self.hello = Some(a.up_to_seq.wrapping_add(1));
                        continue;
                    }
                    if handshake {
                        continue;
                    }
                    self.window = u64::from(a.window);
                    let idx = u64::from(a.up_to_seq.wrapping_sub(self.base).wrapping_add(1));
                    if idx > self.next && idx <= self.total {
                        // The controller holds more than we thought (frames we gave up on after
                        // a timeout did arrive): continue from where it stands.
                        self.next = idx;
                    }
                    if idx > self.acked && idx <= self.next {
                        let now = self.t.now();
                        while let Some(f) = self.inflight.front() {
                            if f.index >= idx {
                                break;
                            }
                            if f.index + 1 == idx && !f.retransmitted {
                                self.rto.sample(now.saturating_sub(f.at));
                            }
                            self.inflight_bytes -= f.len as u64;
                            self.inflight.pop_front();
                        }
                        let newly = (idx - self.acked) as f64;
                        self.cwnd = (self.cwnd + newly / self.cwnd).min(MAX_CWND);
                        self.acked = idx;
                        self.last_progress = self.t.now();
                    }
                }
                Msg::Nak(nk) => {
                    if handshake {
                        continue;
                    }
                    let idx = u64::from(nk.seq.wrapping_sub(self.base));
                    if nk.seq != OUT_OF_BAND && idx > self.next && idx <= self.total {
                        self.next = idx;
                    }
                    if nk.seq == OUT_OF_BAND || idx > self.next {
                        // A refused operator command (e.g. `Start` to a controller already
                        // printing) or a stale reply.
                        continue;
                    }
                    self.naks[nak_index(nk.reason)] += 1;
                    if idx > self.acked {
                        self.ack_to(idx);
                    }
                    match nk.reason {
                        NakReason::NoSpace => {
                            self.rewind(idx);
                            self.window = 0;
                            // A controller that never got `Start` fills up and waits.
                            self.started = false;
                        }
                        NakReason::Unexpected => {
                            self.unexpected += 1;
                            self.rewind_once(idx);
                        }
                        _ => self.rewind_once(idx),
                    }
                }
                Msg::Fault(f) => self.out.faults.push(f),
                Msg::Report(r) => self.report = Some(r),
                _ => {}
            }
        }
        Ok(())
    }

    fn ack_to(&mut self, idx: u64) {
        while let Some(f) = self.inflight.front() {
            if f.index >= idx {
                break;
            }
            self.inflight_bytes -= f.len as u64;
            self.inflight.pop_front();
        }
        self.acked = idx;
        self.last_progress = self.t.now();
    }

    fn rewind(&mut self, idx: u64) {
        self.cwnd = (self.cwnd / 2.0).max(2.0);
        let resent = self.next.saturating_sub(idx);
        self.out.retransmits += resent;
        self.next = idx.max(self.acked);
        self.inflight.clear();
        self.inflight_bytes = 0;
        self.last_rewind = Some((idx, self.t.now()));
    }

    /// Go back to `idx` unless we just did so for the same frame (every frame sent after a
    /// loss draws its own `Nak`; one retransmission answers them all).
    fn rewind_once(&mut self, idx: u64) {
        if idx >= self.next {
            return;
        }
        if let Some((i, at)) = self.last_rewind
            && i == idx
            && self.t.now().saturating_sub(at) < self.rto.timeout()
            && !self.t.synchronous()
        {
            return;
        }
        if self.t.synchronous()
            && let Some((i, _)) = self.last_rewind
            && i == idx
            && self
                .inflight
                .front()
                .is_some_and(|f| f.retransmitted && f.index == idx)
        {
            return;
        }
        self.rewind(idx);
        for f in self.inflight.iter_mut() {
            f.retransmitted = true;
        }
    }

    /// Sends `Start` out of band once the job header is committed.
    fn start_if_loaded(&mut self) -> bool {
        if self.started || self.acked == 0 {
            return true;
        }
        self.started = true;
        let mut buf = [0u8; MAX_FRAME];
        match encode_frame(OUT_OF_BAND, &Msg::Start, &mut buf) {
            // Operator commands travel beside the data link's injected faults.
            Ok(n) => self.t.send(&buf[..n]).is_ok(),
            Err(_) => false,
        }
    }

    fn reconnect(&mut self) -> Result<(), StreamError> {
        self.out.reconnects += 1;
        self.started = false;
        self.t.disconnect();
        let expected = match self.handshake(false)? {
            Some(e) => e,
            None => return Err(StreamError::NoHello(self.rto.timeout() * 2)),
        };
        if expected == 0 && (self.acked > 0 || self.base != 0 || self.resumable()) {
            return self.controller_restarted();
        }
        let idx = u64::from(expected.wrapping_sub(self.base));
        if idx <= self.total {
            if idx > self.acked {
                self.ack_to(idx);
            }
            let resent = self.next.saturating_sub(idx);
            self.out.retransmits += resent;
            self.next = idx;
            self.inflight.clear();
            self.inflight_bytes = 0;
        }
        Ok(())
    }

    fn run(mut self, progress: &mut dyn FnMut(&Progress)) -> Result<StreamOutcome, StreamError> {
        let started = Instant::now();
        let expected = self
            .handshake(true)?
            .ok_or(StreamError::NoHello(self.rto.timeout() * 2))?;
        if let Some(msg) = self.out.interrupted.take() {
            if msg.contains("machine") {
                let controller = msg.split('`').nth(1).unwrap_or("?").to_string();
                return Err(StreamError::MachineMismatch {
                    controller,
                    job: self.job.machine.clone(),
                });
            }
            return Err(StreamError::Connect(io::Error::other(msg)));
        }
        if expected == 0 && self.resumable() {
            self.controller_restarted()?;
        } else if expected == 0 || !self.opts.resume {
            self.base = expected;
        } else {
            self.base = 0;
            let idx = u64::from(expected).min(self.total);
            self.acked = idx;
            self.next = idx;
            self.highest_sent = idx;
            self.resumed_from = idx;
        }
        self.out.base_seq = self.base;
        let mut failures = 0u32;
        loop {
            if let Some(limit) = self.opts.stop_after_frames
                && self.acked >= limit
            {
                self.t.disconnect();
                self.out.interrupted = Some(format!(
                    "stopped on request after {} committed frames",
                    self.acked
                ));
                break;
            }
            // Fill the window.
            let mut link_ok = true;
            while self.next < self.total {
                if !self.started && self.next > self.job.param_sets.len() as u64 {
                    // Layers wait until `Start` is out: an unstarted controller only fills up.
                    break;
                }
                let wire = self.frame(self.next)?;
                if self.inflight_bytes + wire.len() as u64 > self.window
                    || self.inflight.len() as f64 >= self.cwnd
                {
                    break;
                }
                let first = self.next >= self.highest_sent;
                if first {
                    self.highest_sent = self.next + 1;
                }
                self.inflight.push_back(InFlight {
                    index: self.next,
                    len: wire.len(),
                    at: self.t.now(),
                    retransmitted: !first,
                });
                self.inflight_bytes += wire.len() as u64;
                self.next += 1;
                if !self.transmit(&wire) {
                    link_ok = false;
                    break;
                }
            }
            if link_ok {
                let wait = if self.t.synchronous() {
                    Duration::ZERO
                } else {
                    self.rto.timeout()
                };
                let before = (self.acked, self.next);
                match self.pump(wait, false) {
                    Ok(()) => {}
                    Err(_) => link_ok = false,
                }
                if link_ok
                    && (self.acked, self.next) == before
                    && self.report.is_none()
                    && self.out.faults.is_empty()
                {
                    // Nothing happened within the timeout.
                    let now = self.t.now();
                    let waited = if self.t.synchronous() {
                        true
                    } else {
                        self.inflight
                            .front()
                            .is_none_or(|f| now.saturating_sub(f.at) >= self.rto.timeout())
                    };
                    if waited {
                        if !self.inflight.is_empty() {
                            self.out.timeouts += 1;
                            self.rto.backoff();
                            let idx = self.acked;
                            self.rewind(idx);
                        } else if self.acked < self.total || self.report.is_none() {
                            // Window closed or the end report lost: a Hello refreshes both.
                            if self.acked >= self.total && self.t.synchronous() {
                                break;
                            }
                            link_ok = self.probe();
                            if link_ok && self.window == 0 && self.report.is_none() {
                                // The controller holds a full buffer (paused, or busy): wait
                                // a timeout before probing again rather than spin on it.
                                link_ok = self.pump(self.rto.timeout(), false).is_ok();
                            }
                        }
                    }
                }
            }
            if link_ok {
                link_ok = self.start_if_loaded();
            }
            if !link_ok {
                failures += 1;
                if failures > self.opts.max_reconnects {
                    self.out.interrupted = Some(format!(
                        "the link to the controller failed {failures} times in a row"
                    ));
                    break;
                }
                match self.reconnect() {
                    Ok(()) => {}
                    Err(e) => {
                        self.out.interrupted =
                            Some(format!("connection lost and not re-established: {e}"));
                        break;
                    }
                }
            } else if self.t.now().saturating_sub(self.last_progress) < self.rto.timeout() * 4 {
                failures = 0;
            }
            progress(&self.progress());
            if let Some(r) = self.report
                && matches!(
                    r.state,
                    ControllerState::Done | ControllerState::Faulted | ControllerState::Aborted
                )
            {
                break;
            }
            if !self.out.faults.is_empty() && self.report.is_none() {
                // The report follows the fault at once; give it one more round.
                let _ = self.pump(self.rto.timeout(), false);
                if self.report.is_none() {
                    break;
                }
            }
            if self.unexpected > 50 {
                self.out.interrupted = Some(format!(
                    "the controller refuses frame {} as unexpected in its current state",
                    self.base.wrapping_add(self.acked as u32)
                ));
                break;
            }
            if self.t.now().saturating_sub(self.last_progress) > self.opts.stall_timeout {
                self.out.interrupted = Some(format!(
                    "no progress for {:?}: stalled at committed frame {}",
                    self.opts.stall_timeout, self.acked
                ));
                break;
            }
        }
        self.t.disconnect();
        let elapsed = started.elapsed().as_secs_f64().max(1e-9);
        let p = self.progress();
        let mut out = self.out;
        out.frames =
            self.frames_before_restart + self.highest_sent.saturating_sub(self.resumed_from);
        out.progress = p;
        out.report = self.report;
        out.state = self.report.map(|r| format!("{:?}", r.state));
        out.executed_sha256 = self.report.map(|r| hex(&r.executed_sha256));
        out.hashes_equal = self
            .report
            .is_some_and(|r| r.executed_sha256 == self.job.job_sha256);
        out.fault_messages = out
            .faults
            .iter()
            .map(|f| meltline_firmware::sim::report::FaultReport::from(f).message)
            .collect();
        out.naks = NAK_NAMES
            .iter()
            .zip(self.naks)
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| (s.to_string(), n))
            .collect();
        out.link_faults = self.faults.as_ref().map(|f| f.counts()).unwrap_or_default();
        out.elapsed_s = elapsed;
        out.throughput_mb_s = self.job.bytes as f64 / 1e6 / elapsed;
        out.vectors_per_s = p.vectors_committed as f64 / elapsed;
        out.srtt_ms = self.rto.srtt() * 1e3;
        Ok(out)
    }

    /// The controller's `Hello` offers to continue this job at a layer this session does not
    /// already continue at.
    fn resumable(&self) -> bool {
        restart::resume_layer(self.job, self.hello_resume)
            .is_some_and(|k| self.plan.layer != Some(k) || self.acked > 0)
    }

    /// The controller starts afresh (expects sequence number 0): continue from its
    /// non-volatile record, or stop if it has none for this job.
    fn controller_restarted(&mut self) -> Result<(), StreamError> {
        let stopped_at = self.progress();
        let was_running = self.acked > 0 || self.base != 0;
        if was_running {
            self.out.controller_restarts += 1;
        }
        self.frames_before_restart += self.highest_sent.saturating_sub(self.resumed_from);
        let Some(k) = restart::resume_layer(self.job, self.hello_resume) else {
            return Err(StreamError::Connect(io::Error::other(format!(
                "the controller restarted without a record of this job after acknowledging {} \
                 of {} layers (it may have executed more): it cannot continue the build (layers \
                 already built would be exposed again)",
                stopped_at.layers_committed,
                self.job.layer_count()
            ))));
        };
        self.plan = restart::Plan::from_layer(self.job, k);
        self.base = 0;
        self.total = self.plan.total(self.job);
        self.acked = 0;
        self.next = 0;
        self.highest_sent = 0;
        self.resumed_from = 0;
        self.inflight.clear();
        self.inflight_bytes = 0;
        self.last_rewind = None;
        self.started = false;
        self.out.resumed_at_layer = Some(k);
        self.last_progress = self.t.now();
        let layers = self.job.layer_count();
        let first = self.plan.file_index(1 + self.job.param_sets.len() as u64);
        let done = if k == 0 {
            "no layer".to_string()
        } else {
            format!("layers 0–{}", k - 1)
        };
        let stopped = if was_running {
            format!(
                "the controller restarted (it had committed {} of {layers} layers in this \
                 session)",
                stopped_at.layers_committed
            )
        } else {
            "the controller holds a record of this job from an earlier run".to_string()
        };
        self.out.notes.push(format!(
            "{stopped}; its non-volatile record says {done} of {layers} completed; resuming \
             at layer {k} (file frame {first}) after resending the header and parameter sets"
        ));
        Ok(())
    }

    /// Sends a `Hello` to refresh the window; false when the link is down.
    fn probe(&mut self) -> bool {
        let mut buf = [0u8; MAX_FRAME];
        let hello = Msg::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            machine: &self.job.machine,
            max_frame: MAX_FRAME as u16,
            arena_bytes: 0,
            param_sets: 0,
            resume: None,
        });
        let Ok(n) = encode_frame(0, &hello, &mut buf) else {
            return false;
        };
        if self.t.send(&buf[..n]).is_err() {
            return false;
        }
        self.hello = None;
        let deadline = self.t.now() + self.rto.timeout();
        loop {
            if self.pump(self.rto.timeout(), false).is_err() {
                return false;
            }
            if self.hello.is_some() || self.t.synchronous() || self.t.now() >= deadline {
                return true;
            }
        }
    }
}
