//! The authenticated receiver in front of a controller that trusts a release key: arbitrary
//! bytes before and inside a session must never panic. When the first input byte is odd a real
//! handshake opens the session first. The rest is cut into pieces at every 0xA5 byte; a piece's
//! first byte picks how it is sent: 0 raw bytes, 1 a body sealed for the session (so the
//! fuzzer reaches the message decoders and the controller through the MAC), 2 a sealed body
//! sent twice (a replay), anything else a body behind a valid CRC but no MAC.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meltline_firmware::auth::{AuthReceiver, HostHandshake, Incoming, Sealer};
use meltline_firmware::controller::Controller;
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::wire::{MAX_FRAME, encode_frame, seal_body};

const KEY: [u8; 32] = [0x42; 32];

fn feed(rx: &mut AuthReceiver, ctl: &mut Controller<[u8; 4096], 8, 2>, bytes: &[u8]) -> Option<Sealer> {
    let mut rest = bytes;
    let mut established = None;
    while !rest.is_empty() {
        let (n, got) = rx.feed(rest);
        rest = rest.get(n..).unwrap_or(&[]);
        match got {
            Some(Incoming::Frame(f)) => ctl.handle_frame(f, &mut (), &mut ()),
            Some(Incoming::Established(s)) => established = Some(s),
            Some(Incoming::Challenge(_)) | Some(Incoming::Refused(_)) | None => {}
        }
        ctl.poll(&mut (), &mut ());
    }
    established
}

fuzz_target!(|data: &[u8]| {
    let mut config = MachineConfig::default();
    let _ = config.trusted_keys.push(
        heapless::String::try_from("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
            .unwrap_or_default(),
    );
    let mut ctl: Controller<[u8; 4096], 8, 2> = Controller::new(config);
    ctl.set_auto_start(true);
    let mut rx = AuthReceiver::<MAX_FRAME>::new(KEY, [0x24; 32]);
    let mut sealer = None;
    let mut frame = [0u8; MAX_FRAME];
    if data.first().is_some_and(|b| b & 1 == 1) {
        let hs = HostHandshake::new(KEY, [0x11; 32]);
        let n = encode_frame(0, &hs.hello(), &mut frame).unwrap_or(0);
        let mut challenge = None;
        let (_, got) = rx.feed(&frame[..n]);
        if let Some(Incoming::Challenge(c)) = got {
            challenge = Some(c);
        }
        if let Some(c) = challenge
            && let Ok((proof, s, _)) = hs.answer(&c)
        {
            let n = encode_frame(0, &proof, &mut frame).unwrap_or(0);
            let _ = feed(&mut rx, &mut ctl, &frame[..n]);
            sealer = Some(s);
        }
    }
    for piece in data.get(1..).unwrap_or(&[]).split(|&b| b == 0xA5) {
        let Some((&mode, body)) = piece.split_first() else {
            continue;
        };
        match (mode, sealer.as_mut()) {
            (0, _) => {
                let _ = feed(&mut rx, &mut ctl, body);
            }
            (1 | 2, Some(s)) => {
                if let Ok(n) = s.seal_body(body, &mut frame) {
                    let _ = feed(&mut rx, &mut ctl, &frame[..n]);
                    if mode == 2 {
                        let _ = feed(&mut rx, &mut ctl, &frame[..n]);
                    }
                }
            }
            _ => {
                if let Ok(n) = seal_body(body, &mut frame) {
                    let _ = feed(&mut rx, &mut ctl, &frame[..n]);
                }
            }
        }
    }
});
