#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use super::*;
use crate::wire::{Ack, Hello, encode_frame};

const KEY: [u8; 32] = [7; 32];

fn plain(msg: &Msg<'_>) -> Vec<u8> {
    let mut buf = [0u8; MAX_FRAME];
    let n = encode_frame(0, msg, &mut buf).unwrap();
    buf[..n].to_vec()
}

fn one(rx: &mut AuthReceiver, bytes: &[u8]) -> String {
    let (n, got) = rx.feed(bytes);
    assert_eq!(n, bytes.len());
    match got.unwrap() {
        Incoming::Frame(f) => format!("frame {:?}", f.msg),
        Incoming::Challenge(_) => "challenge".into(),
        Incoming::Established(_) => "established".into(),
        Incoming::Refused(e) => format!("refused {e}"),
    }
}

/// Runs a handshake; returns the receiver and the host's sealer.
fn session(ctl_nonce: [u8; 32]) -> (AuthReceiver, Sealer, Vec<u8>) {
    let mut rx = AuthReceiver::<MAX_FRAME>::new(KEY, ctl_nonce);
    let host = HostHandshake::new(KEY, [1; 32]);
    let hello = plain(&host.hello());
    let (_, got) = rx.feed(&hello);
    let Some(Incoming::Challenge(c)) = got else {
        panic!("no challenge: {got:?}")
    };
    let (proof, sealer, _) = host.answer(&c).unwrap();
    let proof_bytes = plain(&proof);
    assert_eq!(one(&mut rx, &proof_bytes), "established");
    (rx, sealer, [hello, proof_bytes].concat())
}

fn sealed(s: &mut Sealer, msg: &Msg<'_>) -> Vec<u8> {
    let mut buf = [0u8; MAX_FRAME];
    let n = s.seal_frame(0, msg, &mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn only_hello_and_the_handshake_pass_before_the_session() {
    let mut rx = AuthReceiver::<MAX_FRAME>::new(KEY, [2; 32]);
    let hello = Msg::Hello(Hello {
        protocol: 3,
        machine: "m",
        max_frame: 1024,
        arena_bytes: 0,
        param_sets: 0,
        resume: None,
    });
    assert!(one(&mut rx, &plain(&hello)).starts_with("frame Hello"));
    for msg in [Msg::Start, Msg::Pause, Msg::Abort, Msg::StatusRequest] {
        assert_eq!(
            one(&mut rx, &plain(&msg)),
            "refused frame outside an authenticated session"
        );
    }
}

#[test]
fn sealed_frames_pass_inside_the_session_and_replays_do_not() {
    let (mut rx, mut s, _) = session([2; 32]);
    let start = sealed(&mut s, &Msg::Start);
    assert_eq!(one(&mut rx, &start), "frame Start");
    assert_eq!(
        one(&mut rx, &start),
        "refused frame counter 0 not above 0: replay"
    );
    let ack = sealed(
        &mut s,
        &Msg::Ack(Ack {
            up_to_seq: 1,
            window: 2,
        }),
    );
    assert!(one(&mut rx, &ack).starts_with("frame Ack"));
}

#[test]
fn a_recorded_session_replayed_on_a_new_connection_is_refused() {
    let (_, mut s, handshake) = session([2; 32]);
    let start = sealed(&mut s, &Msg::Start);
    // New connection, new controller nonce: the recorded proof no longer matches.
    let mut rx = AuthReceiver::<MAX_FRAME>::new(KEY, [3; 32]);
    let (n, got) = rx.feed(&handshake);
    assert!(matches!(got, Some(Incoming::Challenge(_))));
    assert_eq!(
        one(&mut rx, &handshake[n..]),
        "refused the peer's proof of the link key does not match"
    );
    assert_eq!(
        one(&mut rx, &start),
        "refused frame outside an authenticated session"
    );
}

#[test]
fn frames_sealed_for_another_session_or_altered_are_refused() {
    let (_, mut other, _) = session([9; 32]);
    let (mut rx, mut s, _) = session([2; 32]);
    assert_eq!(
        one(&mut rx, &sealed(&mut other, &Msg::Abort)),
        "refused frame MAC does not match"
    );
    // An unsealed frame inside the session is refused too.
    assert!(one(&mut rx, &plain(&Msg::Abort)).starts_with("refused"));
    assert_eq!(one(&mut rx, &sealed(&mut s, &Msg::Pause)), "frame Pause");
}

#[test]
fn a_host_refuses_a_controller_without_the_key() {
    let host = HostHandshake::new(KEY, [1; 32]);
    let forged = AuthChallenge {
        nonce: [4; 32],
        proof: controller_proof(&[8; 32], &[1; 32], &[4; 32]),
    };
    assert_eq!(host.answer(&forged).err(), Some(AuthError::BadProof));
}

#[test]
fn replies_sealed_by_the_controller_open_at_the_host() {
    let ks = session_key(&KEY, &[1; 32], &[2; 32]);
    let mut s = Sealer::new(ks, Direction::ControllerToHost);
    let mut o = Opener::new(ks, Direction::ControllerToHost);
    let mut frame = sealed(&mut s, &Msg::StatusRequest);
    frame.pop();
    let body = crate::wire::unstuff_frame(&mut frame).unwrap();
    let opened = o.open(body).unwrap();
    assert_eq!(parse_body(opened).unwrap().msg, Msg::StatusRequest);
    // The same bytes in the other direction do not verify: no reflection.
    let mut back = Opener::new(ks, Direction::HostToController);
    assert_eq!(back.open(body), Err(AuthError::BadMac));
}
