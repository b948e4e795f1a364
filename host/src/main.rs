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
    /// Design a lattice interbody cage from a spec, optionally fitted to two vertebrae.
    Design(cmd::design::Args),
    /// Check a mesh for printability: exit 0 printable, 1 defects, 2 unreadable.
    Check(cmd::check::Args),
    /// Repair the common mesh defects, or refuse and write nothing: exit 0 written, 1 refused,
    /// 2 unreadable input or unwritable output.
    Repair(cmd::repair::Args),
    /// Slice a mesh into a build job (contours, hatches, scan order), with stats, CLI and SVG.
    Slice(cmd::slice::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<ExitCode> = match cli.command {
        Command::Design(args) => cmd::design::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Repair(args) => cmd::repair::run(args),
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
