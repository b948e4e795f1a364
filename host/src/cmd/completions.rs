//! `meltline completions SHELL` and `meltline man`: shell completion scripts and manual pages
//! generated from the same clap definitions as `--help`, so they never drift from the
//! commands that exist (clap_complete and clap_mangen, clap's own generators).

use meltline_host::outln;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

/// Arguments of `meltline completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `meltline man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write `meltline.1` and one `meltline-COMMAND.1` per command into this directory instead
    /// of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Runs `meltline completions`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut cmd = crate::Cli::command();
    // Rendered into memory first: the generator would panic on a closed pipe.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "meltline", &mut script);
    std::io::stdout().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `meltline man`.
pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let cmd = crate::Cli::command();
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| format!("writing manual pages into {}", dir.display()))?;
            outln!("manual pages written into {}", dir.display());
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            std::io::stdout().write_all(&page)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
