//! `meltline demo`: the whole pipeline with no input (filled in below).

use std::process::ExitCode;

/// Arguments of `meltline demo`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `meltline demo`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("demo not built yet")
}
