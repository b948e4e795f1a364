//! Arbitrary message bodies behind valid CRCs: the postcard decoders of every message and the
//! controller's handling of whatever decodes (sequence, state machine, verification, execution)
//! must never panic. The input is cut into frame bodies at every 0xA5 byte; each body is sealed
//! with its CRC and COBS, so the fuzzer explores past the checksum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meltline_firmware::controller::Controller;
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::wire::{MAX_FRAME, parse_body, seal_body};

fuzz_target!(|data: &[u8]| {
    let mut ctl: Controller<[u8; 4096], 8, 2> = Controller::new(MachineConfig::default());
    ctl.set_auto_start(true);
    let mut frame = [0u8; MAX_FRAME];
    for body in data.split(|&b| b == 0xA5) {
        let _ = parse_body(body);
        if let Ok(n) = seal_body(body, &mut frame) {
            ctl.receive(&frame[..n], &mut (), &mut ());
        }
        ctl.poll(&mut (), &mut ());
    }
});
