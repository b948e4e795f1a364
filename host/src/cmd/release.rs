//! `meltline release JOB --key NAME.key --signer "printed name" --meaning "…" -o RELEASED`:
//! checks the job and adds a release record signed with the key (job hash, setup hash, layer
//! chain, signer, UTC time, meaning, key id; see `meltline_firmware::wire::release`).

use meltline_host::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use meltline_firmware::signing::{ReleaseSpec, check_release, release_job};
use meltline_host::release::{hex, read_signing_key};

use super::common::write_atomic;

/// Arguments of `meltline release`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job file (`.mlj`).
    pub job: PathBuf,
    /// The signer's private key (`NAME.key` from `meltline keygen`).
    #[arg(long)]
    pub key: PathBuf,
    /// The signer's printed name.
    #[arg(long)]
    pub signer: String,
    /// What the signature means.
    #[arg(long, default_value = "released for manufacturing")]
    pub meaning: String,
    /// Where to write the released job.
    #[arg(short = 'o', long)]
    pub out: PathBuf,
}

/// Runs `meltline release`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let key = read_signing_key(&args.key)?;
    let job =
        std::fs::read(&args.job).with_context(|| format!("reading {}", args.job.display()))?;
    let utc_seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    let spec = ReleaseSpec {
        signer: args.signer.clone(),
        meaning: args.meaning.clone(),
        utc_seconds,
    };
    let released = release_job(&job, &key, &spec)
        .with_context(|| format!("{} was not released", args.job.display()))?;
    let public = hex(key.verifying_key().as_bytes());
    let check = check_release(&released, &[public])?
        .context("the released job carries no release record")?;
    write_atomic(&args.out, &released)?;
    let r = &check.record;
    outln!(
        "released      {} → {}",
        args.job.display(),
        args.out.display()
    );
    outln!("signer        {}", r.signer);
    outln!("meaning       {}", r.meaning);
    outln!("time          {}", r.utc);
    outln!("key id        {}", r.key_id);
    outln!("job hash      {}", r.job_sha256);
    Ok(ExitCode::SUCCESS)
}
