//! The subcommands of `meltline`, one module each; `run(args) -> anyhow::Result<ExitCode>`.

pub mod design;
