//! `meltline inspect job.mlj|.3mf|.ovf|.cli [--summary] [--json]`: header, parameter sets,
//! per-layer counts and lengths, estimated time and energy on the machine model, and the hashes
//! — after verifying every frame, layer digest and the job hash. `--summary` leaves out the
//! per-layer table and gives totals by vector kind and the busiest layers instead.

use meltline_host::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use meltline_firmware::signing::{ReleaseCheck, check_release};
use meltline_host::formats::Format;
use meltline_host::jobfile::{JobFile, KIND_NAMES};
use meltline_host::release::{hex, read_hex_key};
use meltline_host::session::{JobSummaryReport, ParamSetReport, hms};

use super::common::{JobInput, load_machine};

/// Arguments of `meltline inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job file and how to read it.
    #[command(flatten)]
    pub input: JobInput,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Totals only: no per-layer table (or `per_layer` array in JSON).
    #[arg(long)]
    pub summary: bool,
    /// Machine configuration for the estimates (TOML); default: the built-in machine.
    #[arg(long)]
    pub machine: Option<PathBuf>,
    /// Check the release's signature against this public key (`NAME.pub`); repeatable.
    #[arg(long)]
    pub trust: Vec<PathBuf>,
}

/// Reads the release record of a meltline job (other formats carry none) and checks it
/// against the trusted keys.
fn release_of(args: &Args) -> anyhow::Result<Option<ReleaseCheck>> {
    let trusted = args
        .trust
        .iter()
        .map(|p| read_hex_key(p).map(|k| hex(&k)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let format = args
        .input
        .format
        .or_else(|| Format::from_path(&args.input.job));
    if format != Some(Format::Mlj) {
        return Ok(None);
    }
    let bytes = std::fs::read(&args.input.job)
        .with_context(|| format!("reading {}", args.input.job.display()))?;
    check_release(&bytes, &trusted).context("reading the release")
}

/// Runs `meltline inspect`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let machine = load_machine(args.machine.as_deref())?;
    let job = args.input.load(&machine)?;
    let r = JobSummaryReport::of(&job);
    let release = release_of(&args)?;
    let intact = release
        .as_ref()
        .is_none_or(|c| c.matches_job && c.signature_valid != Some(false));
    let code = if intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if args.json {
        print_json(&r, &job, args.summary, release.as_ref())?;
        return Ok(code);
    }
    print_header(&r, job.frames.len(), &job.est_machine);
    print_release(release.as_ref());
    print_param_sets(&r);
    print_parts(&r);
    if args.summary {
        print_extremes(&r);
    } else {
        print_layers(&r)?;
    }
    Ok(code)
}

/// The job's header, sizes, estimates and hashes.
fn print_header(r: &JobSummaryReport, frames: usize, est_machine: &str) {
    outln!("job           {}", r.name);
    outln!("machine       {}", r.machine);
    outln!("material      {}", r.material);
    outln!("quantum       {} nm", r.quantum_nm);
    outln!(
        "layer         {} µm × {} layers",
        f64::from(r.layer_thickness_nm) / 1000.0,
        r.layers
    );
    outln!(
        "frames        {} ({} bytes, {:.2} bytes per vector)",
        frames,
        r.bytes,
        r.bytes_per_vector
    );
    outln!("vectors       {}", r.vectors);
    let kinds: Vec<String> = KIND_NAMES
        .iter()
        .zip(r.vectors_by_kind())
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    outln!("  by kind     {}", kinds.join(", "));
    outln!("est. time     {} on {}", hms(r.est_time_s), est_machine);
    outln!("est. energy   {:.1} J", r.est_energy_j);
    outln!("job hash      {}", r.job_sha256);
    outln!("file SHA-256  {}", r.file_sha256);
}

/// The part table of a plate job.
fn print_parts(r: &JobSummaryReport) {
    if r.parts.is_empty() {
        return;
    }
    outln!("parts         {}", r.parts.len());
    outln!(
        "  #  serial           case           x mm     y mm    rot °  layers        vectors  box mm"
    );
    for p in &r.parts {
        let layers = p
            .layers
            .map_or("-".to_string(), |[a, b]| format!("{a}–{b}"));
        let [x0, y0, x1, y1] = p.footprint_mm;
        outln!(
            "  {:<2} {:<16} {:<12} {:>8.3} {:>8.3} {:>7.1}  {:<12} {:>8}  [{x0:.2}, {y0:.2}]–[{x1:.2}, {y1:.2}]",
            p.index,
            p.serial,
            p.case,
            p.x_mm,
            p.y_mm,
            p.rotation_deg,
            layers,
            p.vectors
        );
    }
}

/// The release record and its verdict.
fn print_release(release: Option<&ReleaseCheck>) {
    let Some(c) = release else {
        outln!("release       none (runs only on printers without trusted keys)");
        return;
    };
    let rec = &c.record;
    outln!("release       signed by {} on {}", rec.signer, rec.utc);
    outln!("  meaning     {}", rec.meaning);
    outln!("  key id      {}", rec.key_id);
    outln!(
        "  content     {}",
        if c.matches_job {
            "matches the job (job hash, setup, every layer)"
        } else {
            "BROKEN: the job differs from what was released"
        }
    );
    outln!(
        "  signature   {}",
        match c.signature_valid {
            None => "not checked (give --trust NAME.pub)",
            Some(true) => "valid, by a trusted key",
            Some(false) => "INVALID or not by a trusted key",
        }
    );
}

/// The parameter sets table, each column as wide as its heading (the last one free).
fn print_param_sets(r: &JobSummaryReport) {
    let row = |cells: &[String]| {
        let last = cells.len().saturating_sub(1);
        let padded: Vec<String> = cells
            .iter()
            .zip(ParamSetReport::COLUMNS)
            .enumerate()
            .map(|(i, (c, h))| match i == last {
                true => c.clone(),
                false => format!("{c:>w$}", w = h.chars().count()),
            })
            .collect();
        outln!("  {}", padded.join("   "));
    };
    outln!("\nparameter sets");
    row(&ParamSetReport::COLUMNS.map(String::from));
    for p in &r.param_sets {
        row(&p.cells());
    }
}

/// The busiest and the slowest layer (with `--summary`, instead of the table).
fn print_extremes(r: &JobSummaryReport) {
    let busiest = r.per_layer.iter().max_by_key(|l| l.vectors);
    let slowest = r
        .per_layer
        .iter()
        .max_by(|a, b| a.est_time_s.total_cmp(&b.est_time_s));
    if let (Some(b), Some(s)) = (busiest, slowest) {
        outln!(
            "\nbusiest layer {} ({} vectors); slowest layer {} ({:.2} s); {} layers in all",
            b.layer,
            b.vectors,
            s.layer,
            s.est_time_s,
            r.per_layer.len()
        );
    }
}

/// The summary as JSON: vector counts labelled by kind, per-layer figures unless `summary`, and
/// the release record with its verdict when the job carries one.
fn print_json(
    r: &JobSummaryReport,
    job: &JobFile,
    summary: bool,
    release: Option<&ReleaseCheck>,
) -> anyhow::Result<()> {
    let mut value = serde_json::to_value(r)?;
    if let Some(obj) = value.as_object_mut() {
        // Each layer's exposure is its slowest laser's (a job naming no laser has one).
        let exposure_s: f64 = job.layers.iter().map(|l| l.exposure_s).sum();
        obj.insert("exposure_s".into(), exposure_s.into());
        let lasers = if job.lasers.is_empty() {
            vec![meltline_host::jobfile::LaserTotals::default()]
        } else {
            job.lasers.clone()
        };
        obj.insert("lasers".into(), serde_json::to_value(&lasers)?);
        obj.insert("names_lasers".into(), job.names_lasers.into());
        if let Some(c) = release {
            let mut rec = serde_json::to_value(&c.record)?;
            if let Some(o) = rec.as_object_mut() {
                o.insert("matches_job".into(), c.matches_job.into());
                o.insert("signature_valid".into(), c.signature_valid.into());
            }
            obj.insert("release".into(), rec);
        }
        let kinds: serde_json::Map<String, serde_json::Value> = KIND_NAMES
            .iter()
            .zip(r.vectors_by_kind())
            .map(|(k, n)| ((*k).to_string(), n.into()))
            .collect();
        obj.insert("vectors_by_kind".into(), kinds.into());
        if summary {
            obj.remove("per_layer");
        }
    }
    outln!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

/// The per-layer table.
fn print_layers(r: &JobSummaryReport) -> anyhow::Result<()> {
    outln!("\nlayers");
    outln!(
        "  layer  blocks  vectors  contour  hatch  edge  support  mark mm   est s   energy J   bytes"
    );
    for l in &r.per_layer {
        let k = l.vectors_by_kind;
        outln!(
            "  {:>5}  {:>6}  {:>7}  {:>7}  {:>5}  {:>4}  {:>7}  {:>7.1}  {:>6.2}  {:>9.2}  {:>6}",
            l.layer,
            l.blocks,
            l.vectors,
            k[0],
            k[1],
            k[2],
            k[3],
            l.mark_length_mm,
            l.est_time_s,
            l.est_energy_j,
            l.bytes
        );
    }
    Ok(())
}
