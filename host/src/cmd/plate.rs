//! `meltline plate PLATE.toml -o plate.mlj [--report plate.json] [--out-dir DIR]`: many parts
//! on one build plate. Reads the plate file, makes and checks each part, places them
//! (automatically or as the file says), slices the plate into one job and writes the plate
//! report and one record per part. Nothing is written when a part is refused or the parts do
//! not fit.

use meltline_host::errln;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use meltline_core::io::output_target;
use meltline_firmware::sim::report::PartLaser;
use meltline_host::jobfile::hex;
use meltline_host::lasers::PlanSummary;
use meltline_host::plate::build::{BuiltPlate, PartLayers, build_plate, plate_pipeline};
use meltline_host::plate::{PartRow, PlacedPart, PlateFile};
use meltline_host::report::{DesignFigures, now_utc, software_version};
use meltline_slicer::job::{JobHeader, JobParameterSet};
use serde::Serialize;

use super::common::{load_machine, write_json_atomic};

/// Arguments of `meltline plate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The plate file (TOML): machine, profile, spacing and the parts.
    pub plate: PathBuf,
    /// The job file to write (.mlj).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write the plate report (JSON): every part's place, footprint and layers.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Write one record per part into DIR/parts/<serial>.json.
    #[arg(long = "out-dir")]
    pub out_dir: Option<PathBuf>,
}

/// The plate report.
#[derive(Debug, Serialize)]
struct PlateReport<'a> {
    plate: String,
    machine: &'a str,
    spacing_mm: f64,
    parts: Vec<PartRow>,
    layers: u32,
    vectors: u64,
    bytes: u64,
    job_sha256: String,
    software: String,
    /// What a build engineer should see before releasing the plate (serials not engraved,
    /// supports that could not be built), each naming its part.
    warnings: Vec<String>,
    /// On a machine with several lasers: the plate planned on them (the plate file's
    /// `laser_assignment`), exposure and build time against one laser.
    #[serde(skip_serializing_if = "Option::is_none")]
    lasers: Option<PlanSummary>,
}

/// One part's record: its row of the plate report, where it came from (spec and mesh hashes,
/// the design's figures), how it was made (parameter sets, slicer warnings) and the job it is
/// in.
#[derive(Debug, Serialize)]
struct PartRecord<'a> {
    #[serde(flatten)]
    row: &'a PartRow,
    spec_sha256: Option<&'a str>,
    design: Option<&'a DesignFigures>,
    layer_thickness_mm: f64,
    parameter_sets: &'a [JobParameterSet],
    slicer_warnings: &'a [String],
    marking: &'a str,
    plate: &'a str,
    job: String,
    job_sha256: &'a str,
    machine: &'a str,
    software: &'a str,
    time_utc: &'a str,
    /// The lasers that expose the part and how many of its vectors each, as planned (a
    /// one-laser machine: none listed).
    lasers: Vec<PartLaser>,
}

/// Refuses outputs that cannot be written before any part is made.
fn check_outputs(args: &Args) -> anyhow::Result<()> {
    for path in std::iter::once(&args.output).chain(args.report.as_ref()) {
        output_target(path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(dir) = &args.out_dir {
        meltline_core::io::check_output_dir(dir)
            .with_context(|| format!("cannot write into {}", dir.display()))?;
    }
    Ok(())
}

/// Runs `meltline plate`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let plate = PlateFile::read(&args.plate)?;
    let machine = load_machine(plate.machine.as_deref())?;
    check_outputs(&args)?;
    let pipeline = plate_pipeline(&plate, machine)?;
    let built = build_plate(&plate, &pipeline, &args.output, &mut |m| {
        errln!("meltline: {m}");
    })?;
    let BuiltPlate {
        placed,
        sliced,
        header,
        summary,
        lasers,
    } = built;
    errln!(
        "meltline: wrote {} ({} layers, {} vectors, {} bytes) in {:.1} s",
        args.output.display(),
        summary.layers,
        summary.vectors,
        summary.bytes,
        t0.elapsed().as_secs_f64()
    );
    let machine = &pipeline.options.machine;
    let rows: Vec<PartRow> = placed
        .iter()
        .zip(&sliced)
        .map(|(p, l)| p.row(l.spool.layers, l.vectors))
        .collect();
    let report = PlateReport {
        plate: plate.path.display().to_string(),
        machine: machine.machine.as_str(),
        spacing_mm: plate.spacing_mm,
        parts: rows,
        layers: summary.layers,
        vectors: summary.vectors,
        bytes: summary.bytes,
        job_sha256: hex(&summary.job_sha256),
        software: software_version(),
        warnings: placed
            .iter()
            .zip(&sliced)
            .flat_map(|(p, l)| {
                l.warnings
                    .iter()
                    .map(move |w| format!("{}: {w}", p.entry.id))
            })
            .collect(),
        lasers,
    };
    if let Some(path) = &args.report {
        write_json_atomic(path, &report)?;
    }
    if let Some(dir) = &args.out_dir {
        write_records(dir, &report, &placed, &sliced, &header, &args.output)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `DIR/parts/<serial>.json` for every part.
fn write_records(
    dir: &Path,
    report: &PlateReport<'_>,
    placed: &[PlacedPart],
    sliced: &[PartLayers],
    header: &JobHeader,
    job: &Path,
) -> anyhow::Result<()> {
    let parts = dir.join("parts");
    std::fs::create_dir_all(&parts).with_context(|| format!("creating {}", parts.display()))?;
    let time_utc = now_utc();
    for (i, ((row, p), l)) in report.parts.iter().zip(placed).zip(sliced).enumerate() {
        let lasers = report
            .lasers
            .as_ref()
            .and_then(|plan| plan.part_vectors.get(i))
            .map(|per| PartLaser::list(per))
            .unwrap_or_default();
        let record = PartRecord {
            row,
            spec_sha256: p.spec_sha256.as_deref(),
            design: p.design.as_ref(),
            layer_thickness_mm: header.layer_thickness_mm,
            parameter_sets: &header.parameter_sets,
            slicer_warnings: &l.warnings,
            marking: &l.marking,
            plate: &report.plate,
            job: job.display().to_string(),
            job_sha256: &report.job_sha256,
            machine: report.machine,
            software: &report.software,
            time_utc: &time_utc,
            lasers,
        };
        write_json_atomic(&parts.join(format!("{}.json", p.entry.id)), &record)?;
    }
    Ok(())
}
