//! `meltline export JOB -o OUT`: a job in any format (`.mlj`, `.3mf`, `.ovf`, `.cli`) written
//! as 3MF Toolpath 1.0, OVF, CLI or `.mlj`, the format named by the output's extension or
//! `--format`; what the conversion assumed is printed, the job hash of the result is shown.

use meltline_host::{errln, outln};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use meltline_host::formats::export::{ExportOptions, export_document};
use meltline_host::formats::{Format, encode_document, read_document};
use meltline_host::jobfile::{JobFile, hex};

use super::common::{JobInput, load_machine};

/// Arguments of `meltline export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job to convert: `.mlj`, `.3mf`, `.ovf` or `.cli`.
    pub job: PathBuf,
    /// Read the job as this format whatever its extension.
    #[arg(long, value_enum)]
    pub from: Option<Format>,
    /// For a CLI job: a TOML map of its ids to parameter sets.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// The file to write: `.3mf`, `.ovf`, `.cli` or `.mlj`.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write this format whatever the output's extension.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write CLI as binary long records instead of ASCII.
    #[arg(long = "cli-binary")]
    pub cli_binary: bool,
    /// Machine whose power and speed limits a 3MF declares (TOML); default: built-in.
    #[arg(long)]
    pub machine: Option<PathBuf>,
}

/// Runs `meltline export`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let input = JobInput {
        job: args.job.clone(),
        format: args.from,
        profile: args.profile.clone(),
    };
    let opts = input.read_options()?;
    let doc = read_document(&args.job, &opts)
        .with_context(|| format!("reading {}", args.job.display()))?;
    for n in &doc.notes {
        errln!("meltline: {}: {n}", args.job.display());
    }
    let wire = encode_document(&doc).context("the job cannot be coded for the controller")?;
    let verified = JobFile::parse(
        &wire,
        &args.job.display().to_string(),
        &meltline_firmware::machine::MachineConfig::default(),
    )
    .context("the converted job does not verify")?;
    let read_s = t0.elapsed().as_secs_f64();
    let export = ExportOptions {
        format: args.format,
        cli_binary: args.cli_binary,
        machine: load_machine(args.machine.as_deref())?,
    };
    let t1 = Instant::now();
    let bytes = export_document(&doc, &args.output, &export)?;
    outln!(
        "{} → {}: {} layers, {} bytes (read {:.2} s, written {:.2} s), job hash {}",
        args.job.display(),
        args.output.display(),
        doc.job.layers.len(),
        bytes,
        read_s,
        t1.elapsed().as_secs_f64(),
        hex(&verified.job_sha256)
    );
    Ok(ExitCode::SUCCESS)
}
