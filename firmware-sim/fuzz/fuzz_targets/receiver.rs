//! Arbitrary bytes into the controller's byte-stream receiver: must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meltline_firmware::controller::Controller;
use meltline_firmware::machine::MachineConfig;

fuzz_target!(|data: &[u8]| {
    let mut ctl: Controller<[u8; 4096], 8, 2> = Controller::new(MachineConfig::default());
    ctl.set_auto_start(true);
    ctl.receive(data, &mut (), &mut ());
});
