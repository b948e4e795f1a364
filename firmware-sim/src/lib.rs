//! meltline-firmware: the LPBF printer controller.
//!
//! * [`wire`] — the protocol (frames, messages, vector coding, digests); its docs are the spec.
//! * [`receiver`] — COBS byte-stream accumulator into a fixed buffer.
//! * [`machine`] — machine configuration and the RTC-style timing model.
//! * [`controller`] — the verifying controller state machine.
//! * `job` (feature `std`) — `.mlj` writer and reader for hosts.
//! * `sim` (feature `std`) — the simulator harness behind `meltline-fw`.
//!
//! The library is `no_std` without allocation; sizes are const generics.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod controller;
pub mod machine;
pub mod receiver;
pub mod wire;

#[cfg(feature = "std")]
pub mod job;

#[cfg(feature = "std")]
pub mod sim;
