//! `meltline`: the command line of the meltline LPBF print-preparation toolchain.

#![deny(clippy::print_stdout, clippy::print_stderr)]

use meltline_host::errln;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// meltline prepares titanium LPBF builds of patient-specific spinal implants.
#[derive(Debug, Parser)]
#[command(name = "meltline", version, long_about = None, after_help = cmd::examples::MELTLINE)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// One subcommand per module of `cmd`.
#[derive(Debug, Subcommand)]
enum Command {
    /// Design a lattice interbody cage from a spec, optionally fitted to two vertebrae.
    #[command(after_help = cmd::examples::DESIGN)]
    Design(cmd::design::Args),
    /// Design, check, slice, stream through a faulty link to the simulated printer, and verify.
    #[command(after_help = cmd::examples::DEMO)]
    Demo(cmd::demo::Args),
    /// Stream a job to a controller over TCP with flow control, retransmit and resume.
    #[command(after_help = cmd::examples::STREAM)]
    Stream(cmd::stream::Args),
    /// Run a job through the controller in this process (same protocol path), with faults.
    #[command(after_help = cmd::examples::SIMULATE)]
    Simulate(cmd::simulate::Args),
    /// A fault-injecting TCP proxy between `meltline stream` and `meltline-fw`.
    #[command(after_help = cmd::examples::LINK_PROXY)]
    LinkProxy(cmd::link_proxy::Args),
    /// Verify a job file and print its header, parameter sets, layers and hashes.
    #[command(after_help = cmd::examples::INSPECT)]
    Inspect(cmd::inspect::Args),
    /// Plan a job on a machine's lasers: each laser's share, exposure time and layer balance.
    #[command(after_help = cmd::examples::LASERS)]
    Lasers(cmd::lasers::Args),
    /// Convert a job to 3MF Toolpath 1.0, OVF, CLI or .mlj.
    #[command(after_help = cmd::examples::EXPORT)]
    Export(cmd::export::Args),
    /// Write an Ed25519 key pair for releasing jobs, or with `--link` a printer link key.
    #[command(after_help = cmd::examples::KEYGEN)]
    Keygen(cmd::keygen::Args),
    /// Sign a job's release for manufacturing (signer, time, meaning) with a private key.
    #[command(after_help = cmd::examples::RELEASE)]
    Release(cmd::release::Args),
    /// Draw one layer of a job as SVG or PNG.
    #[command(after_help = cmd::examples::PREVIEW)]
    Preview(cmd::preview::Args),
    /// Check a mesh for printability: exit 0 printable, 1 defects, 2 unreadable.
    #[command(after_help = cmd::examples::CHECK)]
    Check(cmd::check::Args),
    /// Repair the common mesh defects, or refuse and write nothing: exit 0 written, 1 refused,
    /// 2 unreadable input or unwritable output.
    #[command(after_help = cmd::examples::REPAIR)]
    Repair(cmd::repair::Args),
    /// Slice a mesh into a build job (contours, hatches, scan order), with stats, CLI and SVG.
    #[command(after_help = cmd::examples::SLICE)]
    Slice(cmd::slice::Args),
    /// Many parts on one build plate: make, check and place them, slice the plate into one job,
    /// write the plate report and a record per part.
    #[command(after_help = cmd::examples::PLATE)]
    Plate(cmd::plate::Args),
    /// Replay declarative print scenarios (job, machine, injected events, expectations).
    #[command(after_help = cmd::examples::SCENARIO)]
    Scenario(cmd::scenario::Args),
    /// Show the built-in process profile and machine as TOML to edit.
    #[command(after_help = cmd::examples::PROFILE)]
    Profile(cmd::profile::Args),
    /// Print a shell completion script for bash, zsh, fish, elvish or PowerShell.
    #[command(after_help = cmd::examples::COMPLETIONS)]
    Completions(cmd::completions::Args),
    /// Print the manual page (roff), or write one page per command into a directory.
    #[command(after_help = cmd::examples::MAN)]
    Man(cmd::completions::ManArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<ExitCode> = match cli.command {
        Command::Design(args) => cmd::design::run(args),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Stream(a) => cmd::stream::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::LinkProxy(a) => cmd::link_proxy::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Lasers(a) => cmd::lasers::run(a),
        Command::Export(a) => cmd::export::run(a),
        Command::Keygen(a) => cmd::keygen::run(a),
        Command::Release(a) => cmd::release::run(a),
        Command::Preview(a) => cmd::preview::run(a),
        Command::Check(args) => cmd::check::run(args),
        Command::Repair(args) => cmd::repair::run(args),
        Command::Slice(args) => cmd::slice::run(args),
        Command::Plate(args) => cmd::plate::run(args),
        Command::Scenario(a) => cmd::scenario::run(a),
        Command::Profile(a) => cmd::profile::run(a),
        Command::Completions(a) => cmd::completions::run(a),
        Command::Man(a) => cmd::completions::man(a),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) if reader_went_away(&e) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("meltline: error: {e:#}");
            ExitCode::from(2)
        }
    };
    // A full disk under standard output is an error even when the work itself succeeded.
    match meltline_host::console::stdout_failure() {
        Some(e) => {
            errln!("meltline: error: writing standard output: {e}");
            ExitCode::from(2)
        }
        None => code,
    }
}

/// Whether the command failed only because its standard output was closed (`| head`).
fn reader_went_away(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
