//! An authenticated link to `meltline-fw --link-key`: any [`Transport`] wrapped so that every
//! connection opens with the mutual challenge–response and every frame is sealed on the way
//! out and opened on the way in (see `meltline_firmware::auth`). The streamer above it sees
//! plain frames and does not know the difference.

use std::io;
use std::time::{Duration, Instant};

use meltline_firmware::auth::{HostHandshake, Opener, Sealer};
use meltline_firmware::wire::{MAX_FRAME, Msg, parse_body, seal_body, unstuff_frame};

use super::Transport;

/// How long the handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// A transport whose connections are authenticated sessions under a link key.
pub struct Authenticated<T: Transport> {
    inner: T,
    key: [u8; 32],
    session: Option<(Sealer, Opener)>,
    /// Bytes received but not yet a complete frame.
    partial: Vec<u8>,
    /// Frames received that failed their MAC (counted, dropped).
    pub refused: u64,
}

fn other(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, msg)
}

impl<T: Transport> Authenticated<T> {
    /// Wraps `inner`; connections are authenticated with link key `key`.
    pub fn new(inner: T, key: [u8; 32]) -> Self {
        Self {
            inner,
            key,
            session: None,
            partial: Vec::new(),
            refused: 0,
        }
    }

    /// The next complete frame (delimiter stripped) from `partial`, if any.
    fn next_frame(&mut self) -> Option<Vec<u8>> {
        let end = self.partial.iter().position(|&b| b == 0)?;
        let mut frame: Vec<u8> = self.partial.drain(..=end).collect();
        frame.pop();
        Some(frame)
    }

    fn send_plain(&mut self, msg: &Msg<'_>) -> io::Result<()> {
        let mut buf = [0u8; MAX_FRAME];
        let n = meltline_firmware::wire::encode_frame(0, msg, &mut buf)
            .map_err(|e| other(format!("encoding the handshake: {e}")))?;
        self.inner.send(buf.get(..n).unwrap_or(&[]))
    }

    /// Waits for the next frame's body (CRC checked).
    fn recv_body(&mut self, deadline: Instant) -> io::Result<Vec<u8>> {
        loop {
            if let Some(mut f) = self.next_frame() {
                if let Ok(body) = unstuff_frame(&mut f) {
                    return Ok(body.to_vec());
                }
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the controller did not complete the link handshake",
                ));
            }
            self.inner.recv(&mut self.partial, left)?;
        }
    }

    fn handshake(&mut self) -> io::Result<()> {
        let mut nonce = [0u8; 32];
        getrandom::fill(&mut nonce).map_err(|e| other(format!("no randomness: {e}")))?;
        let hs = HostHandshake::new(self.key, nonce);
        self.send_plain(&hs.hello())?;
        let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
        let challenge = loop {
            let body = self.recv_body(deadline)?;
            match parse_body(&body).map(|f| f.msg) {
                Ok(Msg::AuthChallenge(c)) => break c,
                Ok(Msg::Nak(n)) => {
                    return Err(other(format!(
                        "the controller refused the link handshake ({:?}): does it have a link key?",
                        n.reason
                    )));
                }
                _ => {}
            }
        };
        let (proof, sealer, mut opener) = hs.answer(&challenge).map_err(|_| {
            other("the controller does not know the link key: not the printer expected".into())
        })?;
        self.send_plain(&proof)?;
        // The first sealed frame, a status, says the controller accepted our proof.
        let body = self.recv_body(deadline)?;
        match opener.open(&body).map(parse_body) {
            Ok(Ok(f)) if matches!(f.msg, Msg::Status(_)) => {}
            _ => return Err(other("the controller refused our link key".into())),
        }
        self.session = Some((sealer, opener));
        Ok(())
    }
}

impl<T: Transport> Transport for Authenticated<T> {
    fn connect(&mut self) -> io::Result<()> {
        self.session = None;
        self.partial.clear();
        self.inner.connect()?;
        self.handshake()
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let Some((sealer, _)) = self.session.as_mut() else {
            return Err(io::Error::new(io::ErrorKind::NotConnected, "no session"));
        };
        let mut out = Vec::with_capacity(bytes.len() + 32);
        for frame in bytes.split_inclusive(|&b| b == 0) {
            let mut raw = frame.strip_suffix(&[0]).unwrap_or(frame).to_vec();
            let mut buf = [0u8; MAX_FRAME];
            match unstuff_frame(&mut raw).map(|body| sealer.seal_body(body, &mut buf)) {
                Ok(Ok(n)) => out.extend_from_slice(buf.get(..n).unwrap_or(&[])),
                // A frame broken on purpose (fault injection) goes out as it is, and is
                // refused at the other end like any broken frame.
                _ => out.extend_from_slice(frame),
            }
        }
        self.inner.send(&out)
    }

    fn recv(&mut self, buf: &mut Vec<u8>, timeout: Duration) -> io::Result<usize> {
        let got = self.inner.recv(&mut self.partial, timeout)?;
        let mut added = 0;
        while let Some(mut f) = self.next_frame() {
            let Some((_, opener)) = self.session.as_mut() else {
                break;
            };
            let mut out = [0u8; MAX_FRAME];
            let opened = unstuff_frame(&mut f)
                .ok()
                .and_then(|body| opener.open(body).ok())
                .and_then(|body| seal_body(body, &mut out).ok());
            match opened {
                Some(n) => {
                    buf.extend_from_slice(out.get(..n).unwrap_or(&[]));
                    added += n;
                }
                None => self.refused += 1,
            }
        }
        Ok(if added == 0 && got > 0 { 0 } else { added })
    }

    fn disconnect(&mut self) {
        self.session = None;
        self.inner.disconnect();
    }

    fn synchronous(&self) -> bool {
        self.inner.synchronous()
    }

    fn now(&self) -> Duration {
        self.inner.now()
    }
}
