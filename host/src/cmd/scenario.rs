//! `meltline scenario run FILE... [--json] [--junit out.xml]`: replays declarative print
//! scenarios through the controller on a virtual clock and checks their expectations.

use meltline_host::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use meltline_host::scenario::{ScenarioResult, junit_xml, run_file, table};

/// Arguments of `meltline scenario`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// Scenario actions.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Run scenario files; exit 1 if any fails.
    #[command(after_help = super::examples::SCENARIO)]
    Run(RunArgs),
}

/// Arguments of `meltline scenario run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario files (TOML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write JUnit XML here (one testcase per scenario).
    #[arg(long, value_name = "OUT.xml")]
    pub junit: Option<PathBuf>,
}

/// Runs `meltline scenario`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Action::Run(a) = args.action;
    let mut results: Vec<ScenarioResult> = Vec::new();
    // The table (or JSON) below is the only report of the results: one line per scenario.
    for f in &a.files {
        results.push(run_file(f));
    }
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        outln!("{}", table(&results));
    }
    if let Some(p) = &a.junit {
        let xml = junit_xml(&results);
        meltline_core::io::write_atomically(
            p,
            |f| std::io::Write::write_all(f, xml.as_bytes()),
            |e| e,
        )
        .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(if results.iter().all(|r| r.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
