//! `meltline check FILE`: is this mesh printable? A readable summary, or JSON with `--json`.
//!
//! Exit status: 0 printable, 1 defects found (each named, counted and located), 2 the file
//! cannot be read as a mesh (the message says why: empty, not a mesh format, truncated,
//! malformed line, non-finite values…).

use meltline_host::{out, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args as ClapArgs;
use meltline_core::check::{CheckOptions, CheckReport, check_mesh};
use meltline_core::io::{ReadOptions, Units, read_mesh};
use serde::Serialize;

/// Arguments of `meltline check`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The mesh file (STL, OBJ, PLY or 3MF).
    pub file: PathBuf,
    /// The unit of the file's coordinates (mm, m, in); 3MF declares its own.
    #[arg(long, default_value = "mm")]
    pub units: Units,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub check: CheckArgs,
}

/// Check tolerances shared by `check` and `repair`.
#[derive(Debug, Clone, ClapArgs)]
pub struct CheckArgs {
    /// Crossings no deeper than this (mm) are warnings, not defects.
    #[arg(long, default_value_t = 0.07, value_name = "MM")]
    pub crossing_tolerance: f64,
    /// The build envelope the part must fit, `XxYxZ` in mm, or `none`.
    #[arg(long, default_value = "250x250x325", value_parser = parse_envelope, value_name = "XxYxZ")]
    pub build_volume: Envelope,
}

/// A build envelope, or none.
#[derive(Debug, Clone, Copy)]
pub struct Envelope(pub Option<[f64; 3]>);

fn parse_envelope(s: &str) -> Result<Envelope, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(Envelope(None));
    }
    let parts: Vec<f64> = s
        .split(['x', 'X', ','])
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("`{s}`: {e}; expected e.g. 250x250x325"))?;
    match parts[..] {
        [x, y, z] if parts.iter().all(|v| v.is_finite() && *v > 0.0) => {
            Ok(Envelope(Some([x, y, z])))
        }
        _ => Err(format!(
            "`{s}`: expected three positive sizes, e.g. 250x250x325"
        )),
    }
}

impl CheckArgs {
    /// The check options these arguments ask for.
    pub fn options(&self) -> CheckOptions {
        CheckOptions {
            crossing_tolerance_mm: self.crossing_tolerance,
            build_volume_mm: self.build_volume.0,
            min_part_size_mm: Some(meltline_host::prepare::MIN_PART_SIZE_MM),
            ..CheckOptions::default()
        }
    }
}

#[derive(Serialize)]
struct FileReport<'a> {
    file: String,
    #[serde(flatten)]
    report: &'a CheckReport,
}

/// Runs `meltline check`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mesh = read_mesh(&args.file, &ReadOptions::with_units(args.units))
        .with_context(|| format!("cannot check {}", args.file.display()))?;
    let report = check_mesh(&mesh, &args.check.options());
    if args.json {
        let out = FileReport {
            file: args.file.display().to_string(),
            report: &report,
        };
        outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        outln!("{}", args.file.display());
        out!("{}", report.summary());
        let envelope = args.check.build_volume.0.unwrap_or([f64::INFINITY; 3]);
        if let Some(hint) = meltline_host::prepare::units_hint(&report, args.units, envelope) {
            outln!("units: {hint}");
        }
    }
    Ok(if report.printable {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
