//! `meltline slice`: mesh → build job, with statistics, exports (3MF, OVF, CLI) and SVG
//! pictures.

use meltline_host::errln;
use std::collections::BTreeMap;
use std::io::{BufWriter, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use meltline_core::io::{AtomicFile, Units, check_output_dir, output_target};
use meltline_host::formats::export::{ExportOptions, Exporter};
use meltline_host::mlj::{MljOptions, write_mlj_with};
use meltline_host::pipeline::{Admission, Part, Pipeline, PipelineError, drive};

use super::common::{load_machine, write_atomic};
use meltline_slicer::export::cli::{CliFormat, CliWriter};
use meltline_slicer::export::stats::{JobStats, Timings};
use meltline_slicer::export::svg::layer_svg;
use meltline_slicer::job::{BuildJob, JobError, JobHeader, Layer, Slicer, SlicerOptions};
use meltline_slicer::profile::{ProcessProfile, Strategy};

/// Slice a mesh into a build job of ordered scan vectors.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The mesh (STL, OBJ, PLY, 3MF).
    pub mesh: PathBuf,
    /// The job file to write (.mlj); without it, only the other outputs are written.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Process profile (TOML); defaults to the built-in Ti-6Al-4V profile.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Layer thickness in mm.
    #[arg(long = "layer", help = super::slice_defaults::layer())]
    pub layer_mm: Option<f64>,
    /// Hatch distance in mm for core, upskin and downskin.
    #[arg(long = "hatch", help = super::slice_defaults::hatch())]
    pub hatch_mm: Option<f64>,
    /// Hatch strategy: lines, stripes or chessboard.
    #[arg(long, help = super::slice_defaults::strategy())]
    pub strategy: Option<Strategy>,
    /// Hatch rotation per layer in degrees.
    #[arg(long = "rotation", help = super::slice_defaults::rotation())]
    pub rotation_deg: Option<f64>,
    /// Number of contours.
    #[arg(long, help = super::slice_defaults::contours())]
    pub contours: Option<usize>,
    /// Beam offset (half the melt-track width) in mm.
    #[arg(long = "beam-offset", help = super::slice_defaults::beam_offset())]
    pub beam_offset_mm: Option<f64>,
    /// Number of upskin/downskin layers.
    #[arg(long = "skin-layers", help = super::slice_defaults::skin_layers())]
    pub skin_layers: Option<usize>,
    /// Generate supports.
    #[arg(long)]
    pub supports: bool,
    /// Lift the part on supports by this height in mm.
    #[arg(long = "lift", default_value_t = 0.0)]
    pub lift_mm: f64,
    /// Keep the mesh's x and y instead of centring the part on the plate.
    #[arg(long = "keep-xy")]
    pub keep_xy: bool,
    /// Units of the mesh file (mm, m, in) when the format does not declare them.
    #[arg(long, default_value = "mm")]
    pub units: Units,
    /// Write per-layer statistics and timings (JSON).
    #[arg(long)]
    pub stats: Option<PathBuf>,
    /// Export the job as CLI (Common Layer Interface).
    #[arg(long = "export-cli")]
    pub export_cli: Option<PathBuf>,
    /// Write the CLI export in binary (long records) instead of ASCII.
    #[arg(long = "cli-binary")]
    pub cli_binary: bool,
    /// Export the job as it is sliced, layer by layer: `.3mf` (Toolpath 1.0), `.ovf`, `.cli`
    /// (binary with --cli-binary) or `.mlj`, from the extension.
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// Write an SVG of layers into this directory.
    #[arg(long = "svg-dir")]
    pub svg_dir: Option<PathBuf>,
    /// With --svg-dir, draw every N-th layer (and the last).
    #[arg(long = "svg-every", default_value_t = 1)]
    pub svg_every: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Machine description (TOML); defaults to the built-in meltline-sim-250. Its limits are
    /// the only limits: a job the machine would refuse is refused here, before anything is
    /// written.
    #[arg(long)]
    pub machine: Option<PathBuf>,
    /// Slice a mesh even when the printability check finds defects.
    #[arg(long = "allow-defects")]
    pub allow_defects: bool,
    /// Write the job even when some overhang regions cannot be supported (they are listed).
    #[arg(long = "allow-unsupported")]
    pub allow_unsupported: bool,
    /// On a machine with several lasers, how they share the job (the plan is printed once the
    /// job is written; default `by-region`).
    #[arg(long, value_enum)]
    pub laser_assignment: Option<meltline_host::lasers::Assignment>,
}

/// Runs `meltline slice`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.threads {
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build()
                .context("building the worker pool")?;
            pool.install(|| run_in_pool(&args))
        }
        None => run_in_pool(&args),
    }
}

fn profile_of(args: &Args) -> anyhow::Result<ProcessProfile> {
    let mut p = match &args.profile {
        Some(path) => ProcessProfile::from_file(path)?,
        None => ProcessProfile::ti6al4v(),
    };
    if let Some(t) = args.layer_mm {
        p.layer_thickness_mm = t;
    }
    if let Some(h) = args.hatch_mm {
        p.core.hatch_mm = h;
        p.upskin.hatch_mm = h;
        p.downskin.hatch_mm = h;
    }
    if let Some(s) = args.strategy {
        p.hatch.strategy = s;
    }
    if let Some(r) = args.rotation_deg {
        p.hatch.rotation_deg = r;
    }
    if let Some(n) = args.contours {
        p.contours.count = n;
    }
    if let Some(b) = args.beam_offset_mm {
        p.contours.beam_offset_mm = b;
    }
    if let Some(k) = args.skin_layers {
        p.skin_layers = k;
    }
    Ok(p)
}

/// Refuses output paths that cannot be written (a device, a directory, a missing folder)
/// before any long work.
fn check_outputs(args: &Args) -> anyhow::Result<()> {
    for path in [&args.output, &args.stats, &args.export_cli, &args.export]
        .into_iter()
        .flatten()
    {
        output_target(path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(dir) = &args.svg_dir {
        check_output_dir(dir).with_context(|| format!("cannot write into {}", dir.display()))?;
    }
    Ok(())
}

/// What the slice writes as layers come: the CLI export, a standard-format export, SVG
/// pictures, a progress bar, and the layers kept for the job file.
struct Sinks<'a> {
    args: &'a Args,
    layer_count: usize,
    cli: Option<(CliWriter<BufWriter<std::fs::File>>, AtomicFile)>,
    export: Option<Exporter>,
    progress: Option<indicatif::ProgressBar>,
    kept: Vec<Layer>,
}

impl<'a> Sinks<'a> {
    /// Opens every output the arguments ask for (temporary files until [`Sinks::finish`]).
    fn open(args: &'a Args, header: &JobHeader, layer_count: usize) -> anyhow::Result<Self> {
        let cli = match &args.export_cli {
            Some(path) => {
                let mut tmp = AtomicFile::create(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                let format = if args.cli_binary {
                    CliFormat::Binary
                } else {
                    CliFormat::Ascii
                };
                let w = CliWriter::new(BufWriter::new(tmp.file_mut().try_clone()?), header, format)
                    .with_context(|| format!("writing {}", path.display()))?;
                Some((w, tmp))
            }
            None => None,
        };
        let export = match &args.export {
            Some(path) => Some(Exporter::create(
                path,
                header,
                &BTreeMap::new(),
                &ExportOptions {
                    cli_binary: args.cli_binary,
                    ..ExportOptions::default()
                },
            )?),
            None => None,
        };
        if let Some(dir) = &args.svg_dir {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let progress = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(layer_count as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "slicing {bar:40} {pos}/{len} layers {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Ok(Sinks {
            args,
            layer_count,
            cli,
            export,
            progress,
            kept: Vec::new(),
        })
    }

    /// One layer to every output.
    fn layer(&mut self, layer: Layer) -> anyhow::Result<()> {
        if let Some((w, _)) = self.cli.as_mut() {
            w.write_layer(&layer).context("writing the CLI export")?;
        }
        if let Some(e) = self.export.as_mut() {
            e.write_layer(&layer)?;
        }
        if let Some(dir) = &self.args.svg_dir {
            let every = self.args.svg_every.max(1);
            if layer.index.is_multiple_of(every) || layer.index + 1 == self.layer_count {
                let path = dir.join(format!("layer_{:05}.svg", layer.index));
                write_atomic(&path, layer_svg(&layer).as_bytes())?;
            }
        }
        if let Some(bar) = &self.progress {
            bar.inc(1);
        }
        if self.args.output.is_some() {
            self.kept.push(layer);
        }
        Ok(())
    }

    /// Commits the exports; returns the layers kept for the job file.
    fn finish(self) -> anyhow::Result<Vec<Layer>> {
        if let Some((w, tmp)) = self.cli {
            let buf = w.finish().context("writing the CLI export")?;
            buf.into_inner()
                .map_err(|e| e.into_error())
                .context("flushing the CLI export")?;
            tmp.commit().context("writing the CLI export")?;
        }
        if let (Some(e), Some(path)) = (self.export, &self.args.export) {
            let bytes = e.finish()?;
            errln!("meltline: exported {} ({bytes} bytes)", path.display());
        }
        Ok(self.kept)
    }
}

/// The pipeline's refusals with what the user can do about them on the command line.
fn with_cli_hint(e: PipelineError) -> anyhow::Error {
    match &e {
        PipelineError::NotPrintable { .. } => anyhow!(
            "{e} (nothing was written; `meltline check` lists the defects, `meltline repair` fixes the common ones, --allow-defects slices anyway)"
        ),
        PipelineError::Slice {
            source: JobError::LiftWithoutSupports(_),
            ..
        } => anyhow!("{e} (add --supports)"),
        PipelineError::Slice {
            source: JobError::Unsupported(_),
            ..
        } => anyhow!("{e} (nothing was written; --allow-unsupported writes the job anyway)"),
        _ => anyhow!(e),
    }
}

/// Reads and admits the mesh, and prepares the slicer (the pipeline's first stages); returns
/// it with the seconds from `t_start` to the mesh read.
fn prepare(
    args: &Args,
    profile: ProcessProfile,
    t_start: Instant,
) -> anyhow::Result<(Slicer, f64)> {
    let machine = load_machine(args.machine.as_deref())?;
    check_outputs(args)?;
    let part = Part::read(&args.mesh, args.units)?;
    let load_s = t_start.elapsed().as_secs_f64();
    let pipeline = Pipeline {
        profile,
        options: SlicerOptions {
            lift_mm: args.lift_mm,
            center_xy: !args.keep_xy,
            supports: args.supports,
            machine,
            allow_unsupported: args.allow_unsupported,
            ..SlicerOptions::default()
        },
        admission: if args.allow_defects {
            errln!(
                "meltline: warning: --allow-defects: the mesh is sliced without the printability check"
            );
            Admission::Unchecked
        } else {
            Admission::Printable
        },
    };
    pipeline.admit(&part).map_err(with_cli_hint)?;
    let slicer = pipeline.slicer(&part).map_err(with_cli_hint)?;
    for w in slicer.warnings() {
        errln!("meltline: warning: {w}");
    }
    if let Some(r) = slicer.support_report() {
        errln!(
            "meltline: supports: {} regions ({:.3} mm²) supported, {} ({:.3} mm²) unsupported, {} small overhangs ({:.3} mm²) left to bridge, lift {} mm",
            r.regions_supported,
            r.supported_area_mm2,
            r.failed.len(),
            r.unsupported_area_mm2(),
            r.regions_below_min_area,
            r.area_below_min_mm2,
            r.lift_mm
        );
    }
    Ok((slicer, load_s))
}

/// The totals line (and the unexposed-area warning) after slicing.
fn print_totals(stats: &JobStats) {
    let t = &stats.totals;
    errln!(
        "meltline: {} layers, {} contour + {} hatch + {} support vectors, {:.0} mm³ sliced{}",
        t.layers,
        t.contour_vectors,
        t.hatch_vectors,
        t.support_vectors,
        t.volume_mm3,
        if t.stitched_gaps + t.exact_joins + t.open_chains > 0 {
            format!(
                "; {} gaps stitched, {} chains joined at T-junctions, {} open chains left out",
                t.stitched_gaps, t.exact_joins, t.open_chains
            )
        } else {
            String::new()
        }
    );
    if let Some(line) = stats.unexposed_summary() {
        errln!("meltline: warning: {line}");
    }
}

fn run_in_pool(args: &Args) -> anyhow::Result<ExitCode> {
    let t_start = Instant::now();
    let profile = profile_of(args)?;
    let (max_unexposed, beam_offset) = (
        profile.max_unexposed_fraction,
        profile.contours.beam_offset_mm,
    );
    let (slicer, load_s) = prepare(args, profile, t_start)?;
    let header = slicer.header().clone();
    let mopts = MljOptions::for_machine(slicer.machine());
    let machine = slicer.machine().clone();
    let mut sinks = Sinks::open(args, &header, slicer.layer_count())?;
    let mut stats = JobStats::new(header.layer_thickness_mm);
    let stage = drive(&slicer, |layer| {
        stats.push(&layer);
        sinks.layer(layer)
    })?;
    if let Some(bar) = sinks.progress.take() {
        bar.finish_and_clear();
    }
    let write_stats = |stats: &mut JobStats| -> anyhow::Result<()> {
        if let Some(path) = &args.stats {
            stats.timings_s = Some(Timings {
                load: load_s,
                slice: stage.slice.as_secs_f64(),
                hatch: stage.hatch.as_secs_f64(),
                total: t_start.elapsed().as_secs_f64(),
            });
            write_atomic(path, stats.to_json().as_bytes())?;
        }
        Ok(())
    };
    if let Some(why) = stats.refusal(max_unexposed, beam_offset) {
        write_stats(&mut stats)?;
        bail!(
            "{}: {why} (no job was written{})",
            args.mesh.display(),
            if args.stats.is_some() {
                "; the statistics were"
            } else {
                ""
            }
        );
    }
    let kept = sinks.finish()?;
    print_totals(&stats);
    let mut job_result = Ok(());
    if let Some(out) = &args.output {
        let job = BuildJob {
            header,
            layers: kept,
        };
        job_result = if machine.laser_count() > 1 {
            write_on_lasers(&job, out, &mopts, &machine, args.laser_assignment)
        } else {
            if args.laser_assignment.is_some() {
                errln!(
                    "meltline: note: {} has one laser: --laser-assignment has nothing to share",
                    machine.machine
                );
            }
            write_mlj_with(&job, out, &mopts).map_err(anyhow::Error::from)
        }
        .map(|s| {
            errln!(
                "meltline: wrote {} ({} bytes, {} frames)",
                out.display(),
                s.bytes,
                s.frames
            );
        });
    }
    write_stats(&mut stats)?;
    job_result?;
    Ok(ExitCode::SUCCESS)
}

/// On a machine of several lasers: the job planned onto them and written with every block
/// naming its laser (nothing is written when it cannot be planned); prints the plan.
fn write_on_lasers(
    job: &BuildJob,
    out: &std::path::Path,
    mopts: &MljOptions,
    machine: &meltline_firmware::machine::MachineConfig,
    assignment: Option<meltline_host::lasers::Assignment>,
) -> anyhow::Result<meltline_firmware::job::JobSummary> {
    use meltline_host::lasers::{DEFAULT_OVERLAP_MM, write::write_assigned};
    // The job naming no laser exists only in memory, held to the lasers' fields once assigned.
    let unassigned = MljOptions {
        lasers: None,
        ..mopts.clone()
    };
    let (bytes, _) = meltline_host::mlj::encode_mlj(job, &unassigned)?;
    let read = meltline_host::jobfile::JobFile::parse(&bytes, &out.display().to_string(), machine)?;
    drop(bytes);
    let (plan, summary) = write_assigned(
        &read,
        machine,
        assignment.unwrap_or_default(),
        DEFAULT_OVERLAP_MM,
        out,
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "{}: the job cannot be planned on the machine's lasers, nothing was written: {e}",
            out.display()
        )
    })?;
    errln!("meltline: {}", plan.summary().line());
    Ok(summary)
}
