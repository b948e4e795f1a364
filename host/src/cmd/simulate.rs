//! `meltline simulate job.mlj|.3mf|.ovf|.cli`: streams a job to the controller running in this process, over
//! the same framing, window, retransmission and resume path as `meltline stream`.

use meltline_host::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use meltline_host::faults::FaultSpec;
use meltline_host::link::StreamOptions;
use meltline_host::report::findings::{energy_density_warnings, execution_warnings};
use meltline_host::report::{PartRecord, ReportContext, write_html_report};
use meltline_host::session::{SimulateOptions, simulate};

use super::common::{JobInput, load_machine, write_json_atomic};

/// Arguments of `meltline simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job file and how to read it.
    #[command(flatten)]
    pub input: JobInput,
    /// The machine: a built-in name (`meltline-sim-250`, `-2x`, `-4x`) or a machine TOML
    /// (`meltline-fw` format); default: `meltline-sim-250`.
    #[arg(long)]
    pub machine: Option<PathBuf>,
    /// Faults on the link, e.g. `drop=0.01,corrupt=0.01,dup=0.005,disconnect-every=500,seed=1`.
    #[arg(long)]
    pub faults: Option<FaultSpec>,
    /// Write the run report (JSON) here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Write per-layer exposure pictures (PNG) here; coverage and spill are always computed.
    #[arg(long)]
    pub exposure_dir: Option<PathBuf>,
    /// Print the run report as JSON on stdout instead of the summary (with `parts` for a
    /// plate job).
    #[arg(long)]
    pub json: bool,
    /// Skip the exposure maps (faster on big jobs; no coverage or spill).
    #[arg(long)]
    pub no_exposure: bool,
    /// Write the HTML build report (summary, time, warnings, parts, layer viewer) here.
    #[arg(long, value_name = "REPORT.html")]
    pub html: Option<PathBuf>,
    /// A plate's records (`meltline plate --out-dir DIR`): each part's device history record
    /// goes into the HTML report.
    #[arg(long, value_name = "DIR")]
    pub plate_records: Option<PathBuf>,
    /// Operator and powder lot for the HTML report.
    #[command(flatten)]
    pub signoff: super::signoff::SignoffArgs,
}

/// The device history record of each part of `job` in `dir/parts/<serial>.json`.
pub(super) fn read_records(
    dir: &std::path::Path,
    job: &meltline_host::jobfile::JobFile,
) -> anyhow::Result<std::collections::BTreeMap<String, serde_json::Value>> {
    let mut out = std::collections::BTreeMap::new();
    for p in &job.parts {
        let path = dir.join("parts").join(format!("{}.json", p.serial));
        let text = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let v = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a part record", path.display()))?;
        out.insert(p.serial.clone(), v);
    }
    Ok(out)
}

/// Runs `meltline simulate`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let machine = load_machine(args.machine.as_deref())?;
    let job = args.input.load(&machine)?;
    if let Some(d) = &args.exposure_dir {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let opts = SimulateOptions {
        machine,
        stream: StreamOptions {
            faults: args.faults.clone(),
            ..StreamOptions::default()
        },
        exposure: !args.no_exposure,
        exposure_dir: args.exposure_dir.clone(),
    };
    let machine = opts.machine.clone();
    let report = simulate(&job, &opts, &mut |_| {})?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        outln!("{}", report.summary());
    }
    if let Some(p) = &args.report {
        write_json_atomic(p, &report)?;
        if !args.json {
            outln!("report       {}", p.display());
        }
    }
    if let Some(p) = &args.html {
        let mut ctx = ReportContext {
            operator: args.signoff.operator.clone(),
            powder_lot: args.signoff.powder_lot.clone(),
            warnings: energy_density_warnings(&report.job, &machine),
            parts: vec![PartRecord {
                name: args.input.job.display().to_string(),
                design: None,
                bounds_mm: None,
            }],
            machine,
            ..ReportContext::default()
        };
        if let Some(c) = &report.controller {
            ctx.warnings.extend(execution_warnings(c));
        }
        if let Some(dir) = &args.plate_records {
            ctx.plate_records = read_records(dir, &job)?;
        }
        write_html_report(&report, &job, &ctx, p)
            .with_context(|| format!("writing {}", p.display()))?;
        if !args.json {
            outln!("html report  {}", p.display());
        }
    }
    Ok(if report.verified() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
