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
    /// Design, check, slice, stream through a faulty link to the simulated printer, and verify.
    Demo(cmd::demo::Args),
    /// Stream a job to a controller over TCP with flow control, retransmit and resume.
    Stream(cmd::stream::Args),
    /// Run a job through the controller in this process (same protocol path), with faults.
    Simulate(cmd::simulate::Args),
    /// A fault-injecting TCP proxy between `meltline stream` and `meltline-fw`.
    LinkProxy(cmd::link_proxy::Args),
    /// Verify a job file and print its header, parameter sets, layers and hashes.
    Inspect(cmd::inspect::Args),
    /// Write an Ed25519 key pair for releasing jobs, or with `--link` a printer link key.
    Keygen(cmd::keygen::Args),
    /// Sign a job's release for manufacturing (signer, time, meaning) with a private key.
    Release(cmd::release::Args),
    /// Draw one layer of a job as SVG or PNG.
    Preview(cmd::preview::Args),
    /// Check a mesh for printability: exit 0 printable, 1 defects, 2 unreadable.
    Check(cmd::check::Args),
    /// Repair the common mesh defects, or refuse and write nothing: exit 0 written, 1 refused,
    /// 2 unreadable input or unwritable output.
    Repair(cmd::repair::Args),
    /// Slice a mesh into a build job (contours, hatches, scan order), with stats, CLI and SVG.
    Slice(cmd::slice::Args),
    /// Replay declarative print scenarios (job, machine, injected events, expectations).
    Scenario(cmd::scenario::Args),
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
        Command::Keygen(a) => cmd::keygen::run(a),
        Command::Release(a) => cmd::release::run(a),
        Command::Preview(a) => cmd::preview::run(a),
        Command::Check(args) => cmd::check::run(args),
        Command::Repair(args) => cmd::repair::run(args),
        Command::Slice(args) => cmd::slice::run(args),
        Command::Scenario(a) => cmd::scenario::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) if reader_went_away(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meltline: error: {e:#}");
            ExitCode::from(2)
        }
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
