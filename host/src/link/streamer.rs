//! The session that streams one job: fills the window, handles the controller's replies,
//! retransmits, reconnects and continues a restarted controller from its record.

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use meltline_firmware::receiver::FrameReceiver;
use meltline_firmware::wire::{
    ControllerState, Hello, MAX_FRAME, Msg, NakReason, PROTOCOL_VERSION, Report, ResumePoint,
    encode_frame,
};

use super::{Progress, Rto, StreamError, StreamOptions, StreamOutcome, Transport, restart};
use crate::faults::{FaultCounts, FaultInjector};
use crate::jobfile::{JobFile, hex, resequence};

mod replies;

use replies::Refusal;

/// The last go-back-N: to which stream position, and when.
#[derive(Clone, Copy)]
struct Rewind {
    index: u64,
    at: Duration,
}

struct InFlight {
    index: u64,
    len: usize,
    at: Duration,
    retransmitted: bool,
}

pub(super) struct Streamer<'a> {
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
    last_rewind: Option<Rewind>,
    /// Why the controller's `Hello` refused this job, if it did.
    refused: Option<Refusal>,
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
    pub(super) fn new(
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
                part_reports: Vec::new(),
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
            refused: None,
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
            let hello = self.host_hello();
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
                if let Some(r) = self.refused.take() {
                    return Err(r.into_error(&self.job.machine));
                }
                if let Some(expected) = self.hello {
                    return Ok(Some(expected));
                }
                if self.t.synchronous() {
                    break;
                }
            }
        }
        Ok(None)
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

    /// Streams until the controller ends the job or the link is lost for good.
    pub(super) fn run(
        mut self,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<StreamOutcome, StreamError> {
        let started = Instant::now();
        let expected = self
            .handshake(true)?
            .ok_or(StreamError::NoHello(self.rto.timeout() * 2))?;
        self.start_at(expected)?;
        let mut failures = 0u32;
        loop {
            if self.stop_requested() {
                break;
            }
            let Some(link_ok) = self.exchange()? else {
                break;
            };
            if !self.recover(link_ok, &mut failures) {
                break;
            }
            progress(&self.progress());
            if self.finished() {
                break;
            }
        }
        self.t.disconnect();
        Ok(self.finish(started))
    }

    /// Sets the session base from the controller's next expected sequence number.
    fn start_at(&mut self, expected: u32) -> Result<(), StreamError> {
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
        Ok(())
    }

    /// The test hook `stop_after_frames` is reached: the link is cut.
    fn stop_requested(&mut self) -> bool {
        let Some(limit) = self.opts.stop_after_frames else {
            return false;
        };
        if self.acked < limit {
            return false;
        }
        self.t.disconnect();
        self.out.interrupted = Some(format!(
            "stopped on request after {} committed frames",
            self.acked
        ));
        true
    }

    /// One round: fill the window, handle the replies, send `Start` when due. `None` when the
    /// stream is over; otherwise whether the link held.
    fn exchange(&mut self) -> Result<Option<bool>, StreamError> {
        let mut link_ok = self.fill_window()?;
        if link_ok {
            match self.await_replies() {
                Some(ok) => link_ok = ok,
                None => return Ok(None),
            }
        }
        if link_ok {
            link_ok = self.start_if_loaded();
        }
        Ok(Some(link_ok))
    }

    /// Sends frames while the window and the flight allow; false when the link dropped.
    fn fill_window(&mut self) -> Result<bool, StreamError> {
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
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Handles the replies of one timeout. `None` when the stream is over; otherwise whether
    /// the link held.
    fn await_replies(&mut self) -> Option<bool> {
        let wait = if self.t.synchronous() {
            Duration::ZERO
        } else {
            self.rto.timeout()
        };
        let (acked, next) = (self.acked, self.next);
        if self.pump(wait, false).is_err() {
            return Some(false);
        }
        let moved = self.acked != acked || self.next != next;
        if moved || self.report.is_some() || !self.out.faults.is_empty() {
            return Some(true);
        }
        self.on_silence()
    }

    /// Nothing happened within the timeout: retransmit the flight, or probe a closed window
    /// or a lost end report. `None` when the stream is over; otherwise whether the link held.
    fn on_silence(&mut self) -> Option<bool> {
        let now = self.t.now();
        let waited = self.t.synchronous()
            || self
                .inflight
                .front()
                .is_none_or(|f| now.saturating_sub(f.at) >= self.rto.timeout());
        if !waited {
            return Some(true);
        }
        if !self.inflight.is_empty() {
            self.out.timeouts += 1;
            self.rto.backoff();
            let idx = self.acked;
            self.rewind(idx);
            return Some(true);
        }
        if self.acked >= self.total && self.report.is_some() {
            return Some(true);
        }
        // Window closed or the end report lost: a Hello refreshes both.
        if self.acked >= self.total && self.t.synchronous() {
            return None;
        }
        let mut link_ok = self.probe();
        if link_ok && self.window == 0 && self.report.is_none() {
            // The controller holds a full buffer (paused, or busy): wait a timeout before
            // probing again rather than spin on it.
            link_ok = self.pump(self.rto.timeout(), false).is_ok();
        }
        Some(link_ok)
    }

    /// Reconnects after a failed round; false when the stream gives up.
    fn recover(&mut self, link_ok: bool, failures: &mut u32) -> bool {
        if link_ok {
            if self.t.now().saturating_sub(self.last_progress) < self.rto.timeout() * 4 {
                *failures = 0;
            }
            return true;
        }
        *failures += 1;
        if *failures > self.opts.max_reconnects {
            self.out.interrupted = Some(format!(
                "the link to the controller failed {failures} times in a row"
            ));
            return false;
        }
        if let Err(e) = self.reconnect() {
            self.out.interrupted = Some(format!("connection lost and not re-established: {e}"));
            return false;
        }
        true
    }

    /// The job ended, or the stream cannot go on (fault without report, refusals, stall).
    fn finished(&mut self) -> bool {
        if let Some(r) = self.report
            && matches!(
                r.state,
                ControllerState::Done | ControllerState::Faulted | ControllerState::Aborted
            )
        {
            // The part reports follow the report at once; give them a few more rounds.
            for _ in 0..4 {
                if self.out.part_reports.len() >= self.job.parts.len() {
                    break;
                }
                let _ = self.pump(self.rto.timeout(), false);
            }
            return true;
        }
        if !self.out.faults.is_empty() && self.report.is_none() {
            // The report follows the fault at once; give it one more round.
            let _ = self.pump(self.rto.timeout(), false);
            if self.report.is_none() {
                return true;
            }
        }
        if self.unexpected > 50 {
            self.out.interrupted = Some(format!(
                "the controller refuses frame {} as unexpected in its current state",
                self.base.wrapping_add(self.acked as u32)
            ));
            return true;
        }
        if self.t.now().saturating_sub(self.last_progress) > self.opts.stall_timeout {
            self.out.interrupted = Some(format!(
                "no progress for {:?}: stalled at committed frame {}",
                self.opts.stall_timeout, self.acked
            ));
            return true;
        }
        false
    }

    /// The outcome: counters, the controller's report and hashes, rates over `started`.
    fn finish(self, started: Instant) -> StreamOutcome {
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
        out
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

    /// The host's `Hello`: this protocol, the job's machine, no capacities.
    fn host_hello(&self) -> Msg<'_> {
        Msg::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            machine: &self.job.machine,
            max_frame: MAX_FRAME as u16,
            arena_bytes: 0,
            param_sets: 0,
            resume: None,
        })
    }

    /// Sends a `Hello` to refresh the window; false when the link is down.
    fn probe(&mut self) -> bool {
        let mut buf = [0u8; MAX_FRAME];
        let hello = self.host_hello();
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
