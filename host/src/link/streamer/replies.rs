//! The controller's replies: decoding them, a `Hello`'s refusal, `Ack`s that commit frames
//! and `Nak`s that send the stream back.

use std::io;
use std::time::Duration;

use meltline_firmware::wire::{Ack, Msg, Nak, NakReason, PROTOCOL_VERSION};

use super::{MAX_CWND, OUT_OF_BAND, Rewind, Streamer, nak_index};
use crate::link::StreamError;

/// Why a controller's `Hello` refuses the job, as its fields say.
pub(super) enum Refusal {
    /// It speaks another protocol version.
    Protocol(u16),
    /// It is another machine than the job's.
    Machine(String),
}

impl Refusal {
    pub(super) fn into_error(self, job_machine: &str) -> StreamError {
        match self {
            Refusal::Protocol(p) => StreamError::Protocol(p),
            Refusal::Machine(controller) => StreamError::MachineMismatch {
                controller,
                job: job_machine.to_string(),
            },
        }
    }
}

impl Streamer<'_> {
    /// Receives and handles replies for up to `timeout`.
    pub(super) fn pump(&mut self, timeout: Duration, handshake: bool) -> io::Result<()> {
        self.rxbuf.clear();
        let n = self.t.recv(&mut self.rxbuf, timeout)?;
        if n == 0 {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.rxbuf);
        let (msgs, hello) = self.decode_replies(&bytes);
        self.rxbuf = bytes;
        if let Some((protocol, machine)) = hello {
            self.check_hello(protocol, machine);
        }
        for m in msgs {
            match m {
                Msg::Ack(a) => self.on_ack(a, handshake),
                Msg::Nak(nk) if !handshake => self.on_nak(nk),
                Msg::Fault(f) => self.out.faults.push(f),
                Msg::Report(r) => self.report = Some(r),
                Msg::PartReport(r) => {
                    self.out.part_reports.retain(|p| p.part != r.part);
                    self.out.part_reports.push(r);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Decodes received bytes into replies; a `Hello` among them is returned apart, as its
    /// protocol version and machine.
    fn decode_replies(&mut self, bytes: &[u8]) -> (Vec<Msg<'static>>, Option<(u16, String)>) {
        let mut rest = bytes;
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
                    Msg::PartReport(a) => msgs.push(Msg::PartReport(a)),
                    Msg::Status(a) => msgs.push(Msg::Status(a)),
                    _ => {}
                }
            }
        }
        (msgs, hello)
    }

    /// Notes a controller's `Hello`: a refusal when it is not the job's protocol or machine;
    /// the next `Ack` tells where it stands.
    fn check_hello(&mut self, protocol: u16, machine: String) {
        if protocol != PROTOCOL_VERSION {
            self.refused = Some(Refusal::Protocol(protocol));
        }
        if machine != self.job.machine {
            self.refused = Some(Refusal::Machine(machine));
        }
        self.hello_ack_pending = true;
    }

    /// An `Ack`: where the controller stands after a `Hello`, else frames committed.
    fn on_ack(&mut self, a: Ack, handshake: bool) {
        if self.hello_ack_pending {
            // The Ack right after our Hello: where the controller stands.
            self.hello_ack_pending = false;
            self.window = u64::from(a.window);
            self.hello = Some(a.up_to_seq.wrapping_add(1));
            return;
        }
        if handshake {
            return;
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

    /// A `Nak` outside the handshake: go back to the refused frame.
    fn on_nak(&mut self, nk: Nak) {
        let idx = u64::from(nk.seq.wrapping_sub(self.base));
        if nk.seq != OUT_OF_BAND && idx > self.next && idx <= self.total {
            self.next = idx;
        }
        if nk.seq == OUT_OF_BAND || idx > self.next {
            // A refused operator command (e.g. `Start` to a controller already
            // printing) or a stale reply.
            return;
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

    pub(super) fn ack_to(&mut self, idx: u64) {
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

    pub(super) fn rewind(&mut self, idx: u64) {
        self.cwnd = (self.cwnd / 2.0).max(2.0);
        let resent = self.next.saturating_sub(idx);
        self.out.retransmits += resent;
        self.next = idx.max(self.acked);
        self.inflight.clear();
        self.inflight_bytes = 0;
        self.last_rewind = Some(Rewind {
            index: idx,
            at: self.t.now(),
        });
    }

    /// Go back to `idx` unless we just did so for the same frame (every frame sent after a
    /// loss draws its own `Nak`; one retransmission answers them all).
    fn rewind_once(&mut self, idx: u64) {
        if idx >= self.next {
            return;
        }
        if let Some(r) = self.last_rewind
            && r.index == idx
            && self.t.now().saturating_sub(r.at) < self.rto.timeout()
            && !self.t.synchronous()
        {
            return;
        }
        if self.t.synchronous()
            && let Some(r) = self.last_rewind
            && r.index == idx
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
}
