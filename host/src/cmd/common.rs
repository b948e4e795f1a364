//! Helpers shared by the subcommands: machine files, atomic JSON output, progress bars.

use meltline_host::errln;
use std::path::Path;

use anyhow::Context;
use meltline_firmware::lasers::builtin_machine;
use meltline_firmware::machine::MachineConfig;

/// Reads a machine configuration (TOML), or a built-in one when none is given (the one-laser
/// `meltline-sim-250`) or a built-in machine's name is; its lasers are checked.
pub fn load_machine(path: Option<&Path>) -> anyhow::Result<MachineConfig> {
    let machine = match path {
        None => MachineConfig::default(),
        Some(p) => match p.to_str().and_then(builtin_machine) {
            Some(builtin) if !p.exists() => builtin,
            _ => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("machine file {}", p.display()))?
            }
        },
    };
    machine.check().map_err(|e| {
        anyhow::anyhow!(
            "machine {}: {e}",
            path.map_or_else(|| machine.machine.to_string(), |p| p.display().to_string())
        )
    })?;
    Ok(machine)
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    meltline_core::io::write_bytes_atomically(path, bytes)
        .with_context(|| format!("writing {}", path.display()))
}

/// Writes a value as pretty JSON, atomically.
pub fn write_json_atomic(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(value)?;
    write_atomic(path, &json)
}

/// A progress bar on a terminal (hidden otherwise) for `total` frames.
pub fn frame_bar(total: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} frames · {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// The job file argument shared by `inspect`, `preview`, `simulate` and `stream`.
#[derive(Debug, Clone, clap::Args)]
pub struct JobInput {
    /// The job file: `.mlj`, `.3mf` (Toolpath 1.0), `.ovf` or `.cli` (ASCII or binary).
    pub job: std::path::PathBuf,
    /// Read the job as this format whatever its extension.
    #[arg(long, value_enum)]
    pub format: Option<meltline_host::formats::Format>,
    /// For a CLI job: a TOML map of its ids to parameter sets (CLI carries no laser
    /// parameters; without it polylines use the built-in contour set, hatches the core set).
    #[arg(long)]
    pub profile: Option<std::path::PathBuf>,
}

impl JobInput {
    /// The reader options these arguments ask for.
    pub fn read_options(&self) -> anyhow::Result<meltline_host::formats::ReadOptions> {
        let cli_profile = match &self.profile {
            Some(p) => Some(meltline_host::formats::profile_map::CliProfile::from_file(
                p,
            )?),
            None => None,
        };
        Ok(meltline_host::formats::ReadOptions {
            format: self.format,
            cli_profile,
        })
    }

    /// Reads and verifies the job (any format), printing what a conversion assumed.
    pub fn load(&self, machine: &MachineConfig) -> anyhow::Result<meltline_host::jobfile::JobFile> {
        let loaded =
            meltline_host::formats::load_verified(&self.job, machine, &self.read_options()?)
                .context("the job file is refused")?;
        for n in &loaded.notes {
            errln!("meltline: {}: {n}", self.job.display());
        }
        Ok(loaded.job)
    }
}
