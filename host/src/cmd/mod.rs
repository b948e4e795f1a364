//! The subcommands of `meltline`, one module each; `run(args) -> anyhow::Result<ExitCode>`.

pub mod check;
pub mod design;
pub mod repair;
pub mod slice;
