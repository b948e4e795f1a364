//! `meltline profile show [--machine M] [--only profile|machine]`: the built-in Ti-6Al-4V
//! process profile and the machine as TOML a user can edit and pass back with
//! `slice --profile` and `simulate --machine` / `meltline-fw --machine`.

use meltline_host::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use meltline_slicer::profile::ProcessProfile;

use super::common::load_machine;

/// Arguments of `meltline profile`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// Profile actions.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Print the built-in process profile and the machine as TOML.
    #[command(after_help = super::examples::PROFILE)]
    Show(ShowArgs),
}

/// Which document to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// The process profile only (a file for `slice --profile`).
    Profile,
    /// The machine only (a file for `simulate --machine` and `meltline-fw --machine`).
    Machine,
}

/// Arguments of `meltline profile show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Show this machine file (checked as it is read) instead of the built-in machine.
    #[arg(long, value_name = "M.toml")]
    pub machine: Option<PathBuf>,
    /// Print one document only, ready to save as a file.
    #[arg(long, value_enum)]
    pub only: Option<Part>,
}

/// Runs `meltline profile`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Action::Show(a) = args.action;
    let profile = toml::to_string_pretty(&ProcessProfile::ti6al4v())
        .context("writing the built-in profile as TOML")?;
    let machine_config = load_machine(a.machine.as_deref())?;
    let machine = toml::to_string_pretty(&machine_config).context("writing the machine as TOML")?;
    let machine_name = a.machine.as_ref().map_or_else(
        || "the built-in machine".to_string(),
        |p| p.display().to_string(),
    );
    match a.only {
        Some(Part::Profile) => outln!("{}", profile.trim_end()),
        Some(Part::Machine) => outln!("{}", machine.trim_end()),
        None => {
            outln!(
                "# The built-in Ti-6Al-4V process profile. Save this part (or use --only profile),\n\
                 # edit it, and slice with `meltline slice PART --profile FILE`; a file only needs\n\
                 # the keys it changes.\n"
            );
            outln!("{}\n", profile.trim_end());
            outln!(
                "# ---- machine: {machine_name} ----\n\
                 # A separate file (--only machine) for `meltline simulate --machine FILE` and\n\
                 # `meltline-fw --machine FILE`.\n"
            );
            outln!("{}", machine.trim_end());
        }
    }
    Ok(ExitCode::SUCCESS)
}
