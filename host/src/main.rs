//! `meltline`: the command line of the meltline LPBF print-preparation toolchain.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// meltline prepares titanium LPBF builds of patient-specific spinal implants.
#[derive(Debug, Parser)]
#[command(name = "meltline", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// One subcommand per module of `cmd`.
#[derive(Debug, Subcommand)]
enum Command {
    /// Slice a mesh into a build job (contours, hatches, scan order), with stats, CLI and SVG.
    Slice(cmd::slice::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<ExitCode> = match cli.command {
        Command::Slice(args) => cmd::slice::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("meltline: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
