//! Serving one connection of `meltline-fw --listen --link-key`: the controller's
//! [`AuthReceiver`] in front of the simulator, replies sealed once the session is open.

use std::io::{Read, Write};

use crate::auth::{AuthError, AuthReceiver, Incoming, Sealer};
use crate::controller::ReplySink;
use crate::wire::{Frame, MAX_FRAME, Msg, Nak, NakReason, encode_frame};

use super::Simulator;

/// Reply frames onto a byte sink, sealed once a session is open; write errors are remembered.
pub struct SealedOut<W: Write> {
    out: W,
    sealer: Option<Sealer>,
    failed: bool,
}

impl<W: Write> SealedOut<W> {
    /// Plain replies onto `out` until [`SealedOut::seal_with`].
    pub fn new(out: W) -> Self {
        Self {
            out,
            sealer: None,
            failed: false,
        }
    }

    /// Seals every later reply.
    pub fn seal_with(&mut self, sealer: Sealer) {
        self.sealer = Some(sealer);
    }

    /// Whether a write failed (the peer went away).
    pub fn failed(&self) -> bool {
        self.failed
    }
}

impl<W: Write> ReplySink for SealedOut<W> {
    fn reply(&mut self, frame: &Frame<'_>) {
        let mut buf = [0u8; MAX_FRAME];
        let n = match self.sealer.as_mut() {
            Some(s) => s.seal_frame(frame.seq, &frame.msg, &mut buf),
            None => encode_frame(frame.seq, &frame.msg, &mut buf),
        };
        if let Ok(n) = n
            && !self.failed
            && self.out.write_all(buf.get(..n).unwrap_or(&[])).is_err()
        {
            self.failed = true;
        }
    }
}

/// A fresh random 32-byte nonce from the operating system.
pub fn fresh_nonce() -> std::io::Result<[u8; 32]> {
    let mut n = [0u8; 32];
    getrandom::fill(&mut n).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(n)
}

/// Serves one connection under link key `key` until the peer closes it; returns the frames
/// refused (each also answered `Nak`).
pub fn serve_authenticated<S: Read + Write>(
    sim: &mut Simulator,
    stream: &mut S,
    out: &mut SealedOut<impl Write>,
    key: [u8; 32],
) -> std::io::Result<Vec<AuthError>> {
    let mut rx = AuthReceiver::<MAX_FRAME>::new(key, fresh_nonce()?);
    let mut refused = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(refused),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Ok(refused),
        };
        let mut rest = buf.get(..n).unwrap_or(&[]);
        while !rest.is_empty() {
            let (used, got) = rx.feed(rest);
            rest = rest.get(used..).unwrap_or(&[]);
            match got {
                None => {}
                Some(Incoming::Frame(f)) => sim.handle_frame(f, out),
                Some(Incoming::Challenge(c)) => out.reply(&Frame {
                    seq: 0,
                    msg: Msg::AuthChallenge(c),
                }),
                Some(Incoming::Established(sealer)) => {
                    out.seal_with(sealer);
                    // The first sealed frame, a status, tells the host the session is open.
                    let status = Frame {
                        seq: 0,
                        msg: Msg::StatusRequest,
                    };
                    sim.handle_frame(status, out);
                }
                Some(Incoming::Refused(e)) => {
                    let reason = match e {
                        AuthError::Frame(f) => f.nak_reason(),
                        _ => NakReason::Unauthenticated,
                    };
                    let seq = sim.controller().status().committed_seq.wrapping_add(1);
                    out.reply(&Frame {
                        seq: 0,
                        msg: Msg::Nak(Nak { seq, reason }),
                    });
                    refused.push(e);
                }
            }
        }
        if out.failed() {
            return Ok(refused);
        }
    }
}
