//! `meltline keygen --out NAME`: a new Ed25519 key pair for releasing jobs (`NAME.key`,
//! owner-only; `NAME.pub` for the printer's `--trust`), or with `--link` a random 256-bit link
//! key `NAME.link` (owner-only) shared by `meltline stream` and `meltline-fw`.

use meltline_host::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use meltline_host::release::{write_key_pair, write_link_key};

/// Arguments of `meltline keygen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Base name of the key files.
    #[arg(long)]
    pub out: PathBuf,
    /// Write a link key (`NAME.link`) instead of a signing key pair.
    #[arg(long)]
    pub link: bool,
}

/// Runs `meltline keygen`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.link {
        let p = write_link_key(&args.out)?;
        outln!(
            "link key      {} (owner-only; copy it to the printer over a trusted path)",
            p.display()
        );
    } else {
        let (sk, pk) = write_key_pair(&args.out)?;
        outln!(
            "signing key   {} (owner-only; keep it secret)",
            sk.display()
        );
        outln!(
            "public key    {} (give it to the printer: meltline-fw --trust)",
            pk.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
