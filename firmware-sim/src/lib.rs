//! meltline-firmware: the LPBF printer controller.
//!
//! * [`wire`] — the protocol (frames, messages, vector coding, digests); its docs are the spec.
//! * [`receiver`] — COBS byte-stream accumulator into a fixed buffer.
//! * [`machine`] — machine configuration and the RTC-style timing model.
//! * [`limits`] — the machine's acceptance rules, shared by the controller and the slicer.
//! * [`controller`] — the verifying controller state machine.
//! * [`auth`] — the authenticated link: handshake and per-frame MAC.
//! * [`hex`] — hex text of hashes and keys (the one encoder and decoder).
//! * [`nvm`] — the non-volatile record of the last completed layer (resume after power loss).
//! * `job` (feature `std`) — `.mlj` writer and reader for hosts.
//! * `sim` (feature `std`) — the simulator harness behind `meltline-fw`.
//! * `signing` (feature `std`) — releasing a job: sign a `.mlj`, read and check its release.
//! * `cli` (feature `std`) — the `meltline-fw` daemon: arguments, stdio and TCP serving.
//!
//! The library is `no_std` without allocation, `unsafe` or panics on any input; sizes are const
//! generics. `cargo build -p meltline-firmware --no-default-features` builds the bare library.
//!
//! # For hosts
//!
//! * Write a job: [`job::JobWriter`] (`new` → `write_layer` per layer → `finish`) or
//!   [`job::encode_job`] for an in-memory job (announces the hash in the header). Geometry is
//!   plain integers in the job quantum: `Geometry::Hatches(Vec<[i64; 4]>)`,
//!   `Geometry::Polylines { lines: Vec<Vec<[i64; 2]>>, closed }`, `Geometry::Points`.
//! * Read or stream a job: [`job::FrameReader`] yields [`job::RawFrame`]s (wire bytes, index,
//!   offset; `decode` for the message). Frames are sent verbatim; `Start`/`Pause`/`Resume`/
//!   `Abort`/`StatusRequest` are out of band (any `seq`). Keep unacknowledged bytes within the
//!   last `Ack::window`; on `Nak` resend from `Nak::seq` (go-back-N); after a reconnect send
//!   `Hello` and resume after the returned `Ack::up_to_seq`. A controller that restarted
//!   (`Ack::up_to_seq == u32::MAX`) with `Hello::resume` for your job continues it: send the
//!   `JobHeader` (announcing the job hash), the `ParamSet`s, then the layers from
//!   `resume.next_layer` (see [`wire`]'s "Resuming after a power loss").
//! * Power loss: [`controller::Controller::with_nonvolatile`] with a [`nvm::NonVolatile`]
//!   ([`nvm::RamRecord`] in tests, `sim::record::FileRecord` in the simulator);
//!   [`controller::Controller::into_nonvolatile`] is the power cut. In the simulator:
//!   `SimOptions::nvm` (a file), `Simulator::with_nonvolatile`, `Simulator::power_loss`.
//! * Run a printer in-process: [`sim::Simulator`] (`feed` bytes, replies to a
//!   [`controller::ReplySink`], `report()` → [`sim::report::SimReport`]), or the bare
//!   [`controller::Controller`] (`receive`, `handle_frame`, `poll`, `set_oxygen_ppm`, `state`,
//!   `window`, `status`, `report`) with your own [`controller::EventSink`].
//! * Out of process: `meltline-fw --stdio` or `--listen ADDR` (see `cli`).
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod auth;
pub mod controller;
pub mod hex;
pub mod lasers;
pub mod limits;
pub mod machine;
pub mod nvm;
pub mod receiver;
pub mod wire;

#[cfg(feature = "std")]
pub mod cli;

#[cfg(feature = "std")]
pub mod job;

#[cfg(feature = "std")]
pub mod sim;

#[cfg(feature = "std")]
pub mod signing;
