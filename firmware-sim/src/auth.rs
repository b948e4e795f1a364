//! The authenticated link: the mutual challenge–response that opens a session (messages in
//! [`crate::wire::session`]) and the MAC every frame carries inside it.
//!
//! Host and controller share a 256-bit link key `K`. Each side draws a fresh 32-byte nonce per
//! connection; the controller proves `K` over both nonces in its `AuthChallenge`, the host in
//! its `AuthProof`. Both then derive the session key `Ks = HMAC(K, "session" ‖ Nh ‖ Nc)`. Inside
//! the session every frame body is followed by a counter and a tag:
//!
//! ```text
//! body ‖ ctr (u32 LE) ‖ HMAC-SHA-256(Ks, direction ‖ ctr ‖ body)[..16]
//! ```
//!
//! `direction` is 0 host → controller, 1 controller → host, so a frame cannot be reflected.
//! Counters start at 0 and only increase: a frame whose counter is not above the last accepted
//! one is a replay and refused. A frame from another connection carries a tag under another
//! session key and is refused. Tags are compared in constant time (`hmac`'s `verify`).
//!
//! [`AuthReceiver`] is the controller's side: it passes `Hello` before the session, answers the
//! handshake, and after it hands on only frames whose tag and counter are right.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::receiver::FrameReceiver;
use crate::wire::{
    AuthChallenge, Frame, FrameError, MAX_FRAME, MAX_RAW, Msg, SESSION_TRAILER, parse_body,
    seal_body,
};

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the truncated tag (128 bits).
pub const MAC_LEN: usize = 16;

/// Which way a frame travels; part of every tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Host to controller.
    HostToController = 0,
    /// Controller to host.
    ControllerToHost = 1,
}

/// Why a frame was refused by the authenticated link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A frame other than `Hello` or the handshake arrived before the session was open.
    #[error("frame outside an authenticated session")]
    NoSession,
    /// A handshake message out of order (e.g. `AuthProof` before `AuthHello`).
    #[error("handshake message out of order")]
    HandshakeOrder,
    /// The peer's proof of the link key is wrong.
    #[error("the peer's proof of the link key does not match")]
    BadProof,
    /// The frame is too short to carry a counter and a tag.
    #[error("frame too short for its session trailer")]
    MissingTrailer,
    /// The tag does not match: another key, another session, or altered bytes.
    #[error("frame MAC does not match")]
    BadMac,
    /// The counter is not above the last accepted one.
    #[error("frame counter {counter} not above {last}: replay")]
    Replay {
        /// Counter carried by the frame.
        counter: u32,
        /// Last counter accepted.
        last: u32,
    },
    /// The frame itself is broken (framing, CRC, size, decoding).
    #[error("{0}")]
    Frame(FrameError),
}

fn hmac_parts(key: &[u8; 32], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC takes keys of any length; 32 bytes never fails.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()));
    for p in parts {
        m.update(p);
    }
    m
}

fn hmac32(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    hmac_parts(key, parts).finalize().into_bytes().into()
}

/// The controller's proof of the link key over both nonces.
pub fn controller_proof(key: &[u8; 32], host: &[u8; 32], ctl: &[u8; 32]) -> [u8; 32] {
    hmac32(key, &[b"meltline-link-ctl\0", host, ctl])
}

/// The host's proof of the link key over both nonces.
pub fn host_proof(key: &[u8; 32], host: &[u8; 32], ctl: &[u8; 32]) -> [u8; 32] {
    hmac32(key, &[b"meltline-link-host\0", host, ctl])
}

/// Checks a proof in constant time.
fn proof_matches(expected: &[u8; 32], got: &[u8; 32]) -> bool {
    // XOR-accumulate instead of `==` so the time does not depend on where they differ.
    expected
        .iter()
        .zip(got)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// The session key both sides derive once the proofs are exchanged.
pub fn session_key(key: &[u8; 32], host: &[u8; 32], ctl: &[u8; 32]) -> [u8; 32] {
    hmac32(key, &[b"meltline-link-session\0", host, ctl])
}

fn tag_mac(key: &[u8; 32], dir: Direction, counter: u32, body: &[u8]) -> HmacSha256 {
    hmac_parts(key, &[&[dir as u8], &counter.to_le_bytes(), body])
}

/// The sending half of a session: appends counter and tag to every frame.
#[derive(Clone, Debug)]
pub struct Sealer {
    key: [u8; 32],
    dir: Direction,
    next: u32,
}

impl Sealer {
    /// A sealer for frames travelling `dir` under session key `key`.
    pub fn new(key: [u8; 32], dir: Direction) -> Self {
        Self { key, dir, next: 0 }
    }

    /// Encodes `msg` as a sealed frame (delimiter included) into `out`; returns its length.
    pub fn seal_frame(
        &mut self,
        seq: u32,
        msg: &Msg<'_>,
        out: &mut [u8],
    ) -> Result<usize, FrameError> {
        let mut raw = [0u8; MAX_RAW];
        let n = postcard::to_slice(&Frame { seq, msg: *msg }, &mut raw)
            .map_err(|_| FrameError::TooLarge)?
            .len();
        self.seal_body(raw.get(..n).ok_or(FrameError::TooLarge)?, out)
    }

    /// Seals an already serialised frame body (e.g. a frame of a job file) into `out`.
    pub fn seal_body(&mut self, body: &[u8], out: &mut [u8]) -> Result<usize, FrameError> {
        let mut raw = [0u8; MAX_RAW];
        let n = body.len();
        let end = n + SESSION_TRAILER;
        raw.get_mut(..n)
            .ok_or(FrameError::TooLarge)?
            .copy_from_slice(body);
        let counter = self.next;
        let tag = tag_mac(&self.key, self.dir, counter, body)
            .finalize()
            .into_bytes();
        raw.get_mut(n..n + 4)
            .ok_or(FrameError::TooLarge)?
            .copy_from_slice(&counter.to_le_bytes());
        raw.get_mut(n + 4..end)
            .ok_or(FrameError::TooLarge)?
            .copy_from_slice(tag.get(..MAC_LEN).ok_or(FrameError::TooLarge)?);
        let len = seal_body(raw.get(..end).ok_or(FrameError::TooLarge)?, out)?;
        self.next = self.next.wrapping_add(1);
        Ok(len)
    }
}

/// The receiving half of a session: checks counter and tag, strips them.
#[derive(Clone, Debug)]
pub struct Opener {
    key: [u8; 32],
    dir: Direction,
    last: Option<u32>,
}

impl Opener {
    /// An opener for frames travelling `dir` under session key `key`.
    pub fn new(key: [u8; 32], dir: Direction) -> Self {
        Self {
            key,
            dir,
            last: None,
        }
    }

    /// Checks a CRC-checked frame body with its trailer; returns the body without it.
    pub fn open<'b>(&mut self, sealed: &'b [u8]) -> Result<&'b [u8], AuthError> {
        let split = sealed
            .len()
            .checked_sub(SESSION_TRAILER)
            .ok_or(AuthError::MissingTrailer)?;
        let (body, trailer) = sealed
            .split_at_checked(split)
            .ok_or(AuthError::MissingTrailer)?;
        let (ctr, tag) = trailer
            .split_at_checked(4)
            .ok_or(AuthError::MissingTrailer)?;
        let counter = u32::from_le_bytes(ctr.try_into().map_err(|_| AuthError::MissingTrailer)?);
        tag_mac(&self.key, self.dir, counter, body)
            .verify_truncated_left(tag)
            .map_err(|_| AuthError::BadMac)?;
        if let Some(last) = self.last
            && counter <= last
        {
            return Err(AuthError::Replay { counter, last });
        }
        self.last = Some(counter);
        Ok(body)
    }
}

/// The host's side of the handshake: its nonce, then the keys once the challenge is checked.
#[derive(Clone, Debug)]
pub struct HostHandshake {
    key: [u8; 32],
    nonce: [u8; 32],
}

impl HostHandshake {
    /// Starts a handshake with link key `key` and a fresh random `nonce`.
    pub fn new(key: [u8; 32], nonce: [u8; 32]) -> Self {
        Self { key, nonce }
    }

    /// The `AuthHello` to send.
    pub fn hello(&self) -> Msg<'static> {
        Msg::AuthHello(crate::wire::AuthHello { nonce: self.nonce })
    }

    /// Checks the controller's challenge; returns the `AuthProof` to send and the session's
    /// sending and receiving halves.
    pub fn answer(&self, c: &AuthChallenge) -> Result<(Msg<'static>, Sealer, Opener), AuthError> {
        let expected = controller_proof(&self.key, &self.nonce, &c.nonce);
        if !proof_matches(&expected, &c.proof) {
            return Err(AuthError::BadProof);
        }
        let proof = host_proof(&self.key, &self.nonce, &c.nonce);
        let ks = session_key(&self.key, &self.nonce, &c.nonce);
        Ok((
            Msg::AuthProof(crate::wire::AuthProof { proof }),
            Sealer::new(ks, Direction::HostToController),
            Opener::new(ks, Direction::ControllerToHost),
        ))
    }
}

#[derive(Clone, Debug)]
enum LinkState {
    Open,
    Challenged { host: [u8; 32] },
    Session(Opener),
    Closed,
}

/// What the controller's authenticated receiver made of a frame.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// A frame for the controller: `Hello` before the session, anything inside it.
    Frame(Frame<'a>),
    /// Send this challenge back (plain).
    Challenge(AuthChallenge),
    /// The host proved the key: seal every reply from now on with this.
    Established(Sealer),
    /// The frame was refused; reply `Nak(Unauthenticated)` (or the frame error's reason).
    Refused(AuthError),
}

/// Whether `body` parses once a session trailer is removed (a sealed frame sent outside a
/// session, e.g. a replay after its handshake failed).
fn looks_sealed(body: &[u8]) -> bool {
    body.len()
        .checked_sub(SESSION_TRAILER)
        .and_then(|n| body.get(..n))
        .is_some_and(|b| parse_body(b).is_ok())
}

/// The controller's receiver for an authenticated link: one per connection, with the
/// controller's fresh nonce for it.
#[derive(Clone, Debug)]
pub struct AuthReceiver<const N: usize = MAX_FRAME> {
    rx: FrameReceiver<N>,
    key: [u8; 32],
    nonce: [u8; 32],
    state: LinkState,
}

impl<const N: usize> AuthReceiver<N> {
    /// A receiver for a new connection under link key `key`, with the controller's fresh
    /// random `nonce` (never reuse one: a reused nonce lets a recorded session replay).
    pub fn new(key: [u8; 32], nonce: [u8; 32]) -> Self {
        Self {
            rx: FrameReceiver::new(),
            key,
            nonce,
            state: LinkState::Open,
        }
    }

    /// Whether the session is open.
    pub fn authenticated(&self) -> bool {
        matches!(self.state, LinkState::Session(_))
    }

    /// Consumes bytes up to the next frame end; returns how many were used and, when a frame
    /// ended, what to do with it.
    pub fn feed<'s>(&'s mut self, bytes: &[u8]) -> (usize, Option<Incoming<'s>>) {
        let (used, got) = self.rx.feed_body(bytes);
        let Some(got) = got else {
            return (used, None);
        };
        let body = match got {
            Ok(b) => b,
            Err(e) => return (used, Some(Incoming::Refused(AuthError::Frame(e)))),
        };
        let key = self.key;
        let nonce = self.nonce;
        let incoming = match &mut self.state {
            LinkState::Session(opener) => match opener.open(body) {
                Ok(b) => match parse_body(b) {
                    Ok(f) => Incoming::Frame(f),
                    Err(e) => Incoming::Refused(AuthError::Frame(e)),
                },
                Err(e) => Incoming::Refused(e),
            },
            state => match parse_body(body) {
                Err(e) if !looks_sealed(body) => Incoming::Refused(AuthError::Frame(e)),
                Err(_) => Incoming::Refused(AuthError::NoSession),
                Ok(f) => match (&*state, f.msg) {
                    (_, Msg::Hello(_)) => Incoming::Frame(f),
                    (LinkState::Open, Msg::AuthHello(h)) => {
                        *state = LinkState::Challenged { host: h.nonce };
                        Incoming::Challenge(AuthChallenge {
                            nonce,
                            proof: controller_proof(&key, &h.nonce, &nonce),
                        })
                    }
                    (LinkState::Challenged { host }, Msg::AuthProof(p)) => {
                        let host = *host;
                        if proof_matches(&host_proof(&key, &host, &nonce), &p.proof) {
                            let ks = session_key(&key, &host, &nonce);
                            *state =
                                LinkState::Session(Opener::new(ks, Direction::HostToController));
                            Incoming::Established(Sealer::new(ks, Direction::ControllerToHost))
                        } else {
                            // One try per nonce: a guesser needs a new connection each time.
                            *state = LinkState::Closed;
                            Incoming::Refused(AuthError::BadProof)
                        }
                    }
                    (_, Msg::AuthHello(_) | Msg::AuthProof(_)) => {
                        Incoming::Refused(AuthError::HandshakeOrder)
                    }
                    _ => Incoming::Refused(AuthError::NoSession),
                },
            },
        };
        (used, Some(incoming))
    }
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
