//! `meltline repair IN -o OUT`: fix the common defects, or refuse and write nothing.
//!
//! Exit status: 0 the repaired (or already printable) mesh was written to OUT; 1 repair
//! refused (the reason is printed, OUT is not touched); 2 the input cannot be read or the
//! output cannot be written.

use meltline_host::{errln, out, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args as ClapArgs;
use meltline_core::io::{ReadOptions, StlFormat, Units, read_mesh, write_stl};
use meltline_core::repair::{RepairOptions, repair_mesh};
use serde_json::json;

use super::check::CheckArgs;

/// Arguments of `meltline repair`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The mesh file to repair (STL, OBJ, PLY or 3MF).
    pub input: PathBuf,
    /// Where to write the repaired mesh (binary STL, written atomically).
    #[arg(short, long)]
    pub output: PathBuf,
    /// The unit of the input's coordinates (mm, m, in); 3MF declares its own.
    #[arg(long, default_value = "mm")]
    pub units: Units,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Weld vertices closer than this (mm).
    #[arg(long, default_value_t = 1e-5, value_name = "MM")]
    pub tolerance: f64,
    /// Fill holes of at most this many boundary edges.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_hole_edges: usize,
    /// Write ASCII STL instead of binary.
    #[arg(long)]
    pub ascii: bool,
    #[command(flatten)]
    pub check: CheckArgs,
}

/// Runs `meltline repair`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.tolerance.is_finite() && args.tolerance >= 0.0,
        "--tolerance must be a non-negative number of mm"
    );
    let mesh = read_mesh(&args.input, &ReadOptions::with_units(args.units))
        .with_context(|| format!("cannot repair {}", args.input.display()))?;
    let opts = RepairOptions {
        weld_tolerance_mm: args.tolerance,
        max_hole_edges: args.max_hole_edges,
        check: args.check.options(),
        ..RepairOptions::default()
    };
    match repair_mesh(&mesh, &opts) {
        Ok((fixed, report)) => {
            let format = if args.ascii {
                StlFormat::Ascii
            } else {
                StlFormat::Binary
            };
            write_stl(&args.output, &fixed, format)
                .with_context(|| format!("cannot write {}", args.output.display()))?;
            if args.json {
                let out = json!({
                    "input": args.input.display().to_string(),
                    "output": args.output.display().to_string(),
                    "repaired": true,
                    "report": report,
                });
                outln!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                outln!("{} → {}", args.input.display(), args.output.display());
                out!("{}", report.summary());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if args.json {
                let out = json!({
                    "input": args.input.display().to_string(),
                    "repaired": false,
                    "reason": e.to_string(),
                });
                outln!("{}", serde_json::to_string_pretty(&out)?);
            }
            errln!(
                "meltline: repair refused for {}: {e}; nothing written",
                args.input.display()
            );
            Ok(ExitCode::from(1))
        }
    }
}
