//! The subcommands of `meltline`, one module each; `run(args) -> anyhow::Result<ExitCode>`.

pub mod check;
pub mod common;
pub mod completions;
pub mod demo;
pub mod demo_plate;
pub mod design;
pub mod examples;
pub mod export;
pub mod inspect;
pub mod keygen;
pub mod lasers;
pub mod link_proxy;
pub mod plate;
pub mod preview;
pub mod profile;
pub mod release;
pub mod repair;
pub mod scenario;
pub mod signoff;
pub mod simulate;
pub mod slice;
pub mod slice_defaults;
pub mod stream;
