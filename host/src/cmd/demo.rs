//! `meltline demo [--out DIR]`: the whole pipeline with no input, on a plate by default
//! (`demo_plate.rs`). `--single` (or `--upper/--lower`) runs it for one cage: designs the embedded default
//! TLIF lattice cage (or fits it to `--upper/--lower` vertebrae), checks the mesh, slices it
//! with the Ti-6Al-4V profile, exports CLI and SVG, starts the simulated printer on a loopback
//! port (the sibling `meltline-fw` binary when built, else the same controller in a thread),
//! streams the job through a faulty link (1 % drops, 1 % corruption, one forced disconnect),
//! and writes the HTML build report. Exit status 1 when the executed hash differs.

use meltline_host::{errln, outln};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use meltline_core::cage::{CageSpec, DesignOptions, Vertebrae, design_cage, measure_design};
use meltline_core::io::{ReadOptions, StlFormat, Units, read_mesh, write_stl};
use meltline_core::mesh::Mesh;
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::sim::{SimOptions, Simulator};
use meltline_host::faults::FaultSpec;
use meltline_host::jobfile::{JobFile, hex};
use meltline_host::link::{StreamOptions, StreamOutcome, Tcp, stream_job};
use meltline_host::loopback::LoopbackController;
use meltline_host::mlj::{MljOptions, write_mlj_layers};
use meltline_host::pipeline::{Admission, Part, Pipeline};
use meltline_host::report::collect::{SliceFindings, check_warnings, design_warnings};
use meltline_host::report::findings::{energy_density_warnings, execution_warnings};
use meltline_host::report::{DesignFigures, PartRecord, ReportContext, write_html_report};
use meltline_host::session::{ControllerSummary, RunReport, Trace};
use meltline_slicer::export::cli::{CliFormat, CliWriter};
use meltline_slicer::job::SlicerOptions;
use meltline_slicer::profile::ProcessProfile;
use sha2::Digest;

use super::common::{frame_bar, write_atomic, write_json_atomic};

/// Arguments of `meltline demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the cage, the job, the exports and the report.
    #[arg(long, default_value = "demo-out")]
    pub out: PathBuf,
    /// Upper vertebra to fit the cage to (needs --lower).
    #[arg(long, requires = "lower")]
    pub upper: Option<PathBuf>,
    /// Lower vertebra (needs --upper).
    #[arg(long, requires = "upper")]
    pub lower: Option<PathBuf>,
    /// Units of the vertebra meshes: mm, m or in.
    #[arg(long, default_value = "mm")]
    pub units: String,
    /// Mesh edge length, mm: for the single cage instead of the spec's own 0.12 mm (e.g. 0.4
    /// for a quicker run); for the plate's cages instead of 0.25 mm (within each spec's range).
    #[arg(long)]
    pub edge_length: Option<f64>,
    /// One cage instead of the plate: the default TLIF lattice cage (or the cage fitted to
    /// `--upper/--lower`), with its CLI and SVG exports.
    #[arg(long)]
    pub single: bool,
    /// Faults of the link.
    #[arg(long, default_value = "drop=0.01,corrupt=0.01,seed=1")]
    pub faults: FaultSpec,
    /// Operator and powder lot for the report.
    #[command(flatten)]
    pub signoff: super::signoff::SignoffArgs,
}

pub(super) fn step(t0: Instant, what: &str) {
    errln!("[{:6.1} s] {what}", t0.elapsed().as_secs_f64());
}

/// Runs `meltline demo`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.single && args.upper.is_none() {
        return super::demo_plate::run(&args);
    }
    let t0 = Instant::now();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let machine = MachineConfig::default();

    // 1. Design.
    let spec = CageSpec::default_tlif();
    let pair = read_vertebrae(&args)?;
    step(t0, "designing the default TLIF lattice cage");
    let design = design_cage(
        &spec,
        pair.as_ref().map(|(u, l)| Vertebrae { upper: u, lower: l }),
        &DesignOptions {
            edge_length_override: args.edge_length,
            ..DesignOptions::default()
        },
    )?;
    let measured = measure_design(
        &design,
        pair.as_ref().map(|(u, l)| Vertebrae { upper: u, lower: l }),
    );
    let mut ctx = ReportContext {
        operator: args.signoff.operator.clone(),
        powder_lot: args.signoff.powder_lot.clone(),
        machine: machine.clone(),
        warnings: design_warnings("cage", &measured, spec.edge_length_mm),
        parts: vec![PartRecord {
            name: "cage (default TLIF lattice)".into(),
            design: Some(DesignFigures::of(&measured)),
            bounds_mm: None,
        }],
        ..ReportContext::default()
    };
    let stl = args.out.join("cage.stl");
    write_stl(&stl, &design.mesh, StlFormat::Binary)
        .with_context(|| format!("writing {}", stl.display()))?;
    // The spec as meshed (with the edge length used), so the record reproduces the STL.
    let spec_text = design.spec.to_toml_string();
    write_atomic(&args.out.join("cage-spec.toml"), spec_text.as_bytes())?;

    // 2. Check what was written, on the machine.
    step(
        t0,
        &format!(
            "checking the mesh ({} triangles)",
            design.mesh.triangles.len()
        ),
    );
    let part = Part::read(&stl, Units::Mm)?;
    let mesh_sha = part.source_sha256;
    let pipeline = Pipeline {
        profile: ProcessProfile::ti6al4v(),
        options: SlicerOptions {
            supports: true,
            center_xy: true,
            machine: machine.clone(),
            ..SlicerOptions::default()
        },
        admission: Admission::Printable,
    };
    match pipeline.admit(&part) {
        Ok(check) => ctx
            .warnings
            .extend(check.iter().flat_map(|c| check_warnings("cage", c))),
        Err(e) => bail!("{e}; nothing was sliced"),
    }

    // 3. Slice (supports when the slicer has them), write the job, CLI and SVG.
    let job = slice_and_export(&args.out, &pipeline, &part, &mut ctx, t0)?;

    // 4. The printer on a loopback port.
    let controller_report = args.out.join("controller.json");
    let (fw, addr) = start_printer(&controller_report)?;

    // 5. Stream through the faulty link with one forced disconnect part-way.
    let outcome = stream_through_faults(&job, &args.faults, &addr, t0)?;
    let controller = fw.finish()?;

    let mut report = RunReport::new(&job, outcome, controller);
    report.trace = Some(Trace {
        spec: Some(spec_text.clone()),
        spec_sha256: Some(hex(&sha2::Sha256::digest(spec_text.as_bytes()))),
        mesh_sha256: Some(hex(&mesh_sha)),
    });
    finish(&args.out, &report, &job, ctx, t0)
}

/// Writes the reports, prints the summary and the report's path; exit status 1 unless the
/// run was verified.
pub(super) fn finish(
    out: &Path,
    report: &RunReport,
    job: &JobFile,
    ctx: ReportContext,
    t0: Instant,
) -> anyhow::Result<ExitCode> {
    let html = write_reports(out, report, job, ctx)?;
    step(t0, "done");
    outln!("{}", report.summary());
    outln!("report       {}", html.display());
    Ok(if report.verified() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The `--upper/--lower` vertebrae in `--units`, when given.
fn read_vertebrae(args: &Args) -> anyhow::Result<Option<(Mesh, Mesh)>> {
    let units = match args.units.as_str() {
        "mm" => Units::Mm,
        "m" => Units::M,
        "in" => Units::In,
        other => bail!("--units {other}: give mm, m or in"),
    };
    let (Some(u), Some(l)) = (&args.upper, &args.lower) else {
        return Ok(None);
    };
    let o = ReadOptions::with_units(units);
    Ok(Some((
        read_mesh(u, &o).with_context(|| format!("upper vertebra {}", u.display()))?,
        read_mesh(l, &o).with_context(|| format!("lower vertebra {}", l.display()))?,
    )))
}

/// Streams the job to the printer at `addr` through `faults` plus one forced disconnect
/// part-way (the count includes retransmissions, a few per cent).
pub(super) fn stream_through_faults(
    job: &JobFile,
    faults: &FaultSpec,
    addr: &str,
    t0: Instant,
) -> anyhow::Result<StreamOutcome> {
    let mut faults = faults.clone();
    faults.disconnect_every = Some((job.frames.len() as u64 * 3 / 5).max(1));
    step(t0, &format!("streaming to {addr} through {faults}"));
    let mut tcp = Tcp::new(addr)?;
    let opts = StreamOptions {
        faults: Some(faults),
        // The printer computes exposure maps as it executes: it may be busy for seconds.
        stall_timeout: Duration::from_secs(60),
        ..StreamOptions::default()
    };
    let bar = frame_bar(job.frames.len() as u64 + 1);
    let outcome = stream_job(job, &mut tcp, &opts, &mut |p| {
        bar.set_position(p.frames_acked)
    })?;
    bar.finish_and_clear();
    Ok(outcome)
}

/// Slices the checked cage with supports and the Ti-6Al-4V profile; writes the job, the CLI
/// export and SVGs of the first, middle and last layers; adds the slicer's warnings to `ctx`.
fn slice_and_export(
    out: &Path,
    pipeline: &Pipeline,
    part: &Part,
    ctx: &mut ReportContext,
    t0: Instant,
) -> anyhow::Result<JobFile> {
    step(t0, "slicing with supports and the Ti-6Al-4V profile");
    let slicer = pipeline.slicer(part)?;
    let header = slicer.header().clone();
    let job_path = out.join("cage.mlj");
    let cli_path = out.join("cage.cli");
    let svg_dir = out.join("svg");
    std::fs::create_dir_all(&svg_dir)?;
    let n = slicer.layer_count();
    let pick = [0, n / 2, n.saturating_sub(1)];
    let mut cli = CliWriter::new(Vec::new(), &header, CliFormat::Ascii)?;
    let mut cli_err = None;
    let mut svgs = Vec::new();
    let mut findings = SliceFindings::default();
    let layers = slicer.layers().inspect(|l| {
        findings.push(l);
        if let Err(e) = cli.write_layer(l) {
            cli_err.get_or_insert(e);
        }
        if pick.contains(&l.index) {
            svgs.push((l.index, meltline_slicer::export::svg::layer_svg(l)));
        }
    });
    let mopts = MljOptions::for_machine(&pipeline.options.machine);
    let summary = write_mlj_layers(
        &header,
        layers.map(std::borrow::Cow::Owned),
        &job_path,
        &mopts,
    )?;
    if let Some(e) = cli_err {
        return Err(e).context("writing the CLI export");
    }
    write_atomic(&cli_path, &cli.finish()?)?;
    for (i, svg) in &svgs {
        write_atomic(&svg_dir.join(format!("layer_{i:05}.svg")), svg.as_bytes())?;
    }
    ctx.warnings
        .extend(findings.warnings(slicer.warnings(), slicer.support_report()));
    let job = JobFile::read(&job_path)?;
    step(
        t0,
        &format!(
            "wrote {} ({} layers, {} vectors, {} bytes), {}, {} SVG layers",
            job_path.display(),
            summary.layers,
            summary.vectors,
            summary.bytes,
            cli_path.display(),
            svgs.len()
        ),
    );
    Ok(job)
}

/// Adds the job's and the controller's warnings to `ctx`, writes `report.html` and `run.json`
/// into `out`; returns the report's path.
fn write_reports(
    out: &Path,
    report: &RunReport,
    job: &JobFile,
    mut ctx: ReportContext,
) -> anyhow::Result<PathBuf> {
    let html = out.join("report.html");
    ctx.warnings
        .extend(energy_density_warnings(&report.job, &ctx.machine));
    if let Some(c) = &report.controller {
        ctx.warnings.extend(execution_warnings(c));
    }
    write_html_report(report, job, &ctx, &html)
        .with_context(|| format!("writing {}", html.display()))?;
    write_json_atomic(&out.join("run.json"), report)?;
    Ok(html)
}

/// How long the printer may take to write its final report and exit after the stream ends.
const PRINTER_EXIT_WAIT: Duration = Duration::from_secs(120);

/// The simulated printer: a child `meltline-fw` or a thread.
pub(super) enum Printer {
    Process(Child, PathBuf),
    Thread(LoopbackController),
}

impl Printer {
    /// Stops the printer and returns its report.
    pub(super) fn finish(self) -> anyhow::Result<Option<ControllerSummary>> {
        match self {
            Printer::Process(mut child, report) => {
                // `--once` makes it exit once the job is finished and the link closed, after it
                // has written its final report. Until then the file holds the report it wrote
                // when an earlier connection dropped, so it is read only after the exit: on a
                // loaded machine writing the final report (exposure coverage) takes seconds.
                let deadline = Instant::now() + PRINTER_EXIT_WAIT;
                while child.try_wait()?.is_none() {
                    if Instant::now() >= deadline {
                        let _ = child.kill();
                        let _ = child.wait();
                        bail!(
                            "meltline-fw did not finish within {} s of the end of the stream; its report {} is not final",
                            PRINTER_EXIT_WAIT.as_secs(),
                            report.display()
                        );
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                let text = std::fs::read_to_string(&report).with_context(|| {
                    format!("reading the controller report {}", report.display())
                })?;
                Ok(Some(
                    serde_json::from_str(&text).context("controller report")?,
                ))
            }
            Printer::Thread(ctl) => {
                let sim = ctl.stop();
                Ok(Some(ControllerSummary::of(&sim.report(true))))
            }
        }
    }
}

pub(super) fn start_printer(report: &Path) -> anyhow::Result<(Printer, String)> {
    let sibling = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("meltline-fw")))
        .filter(|p| p.is_file());
    if let Some(fw) = sibling {
        let mut child = Command::new(&fw)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--once",
                "--exposure",
                "--report",
            ])
            .arg(report)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", fw.display()))?;
        let stderr = child.stderr.take().context("meltline-fw stderr")?;
        let mut lines = std::io::BufReader::new(stderr).lines();
        let addr = lines
            .next()
            .and_then(Result::ok)
            .and_then(|l| {
                l.strip_prefix("meltline-fw: listening on ")
                    .map(str::to_string)
            })
            .context("meltline-fw did not say where it listens")?;
        // Keep draining its messages so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        errln!("meltline: printer: {} on {addr}", fw.display());
        return Ok((Printer::Process(child, report.to_path_buf()), addr));
    }
    let sim = Simulator::new(SimOptions {
        machine: MachineConfig::default(),
        exposure: true,
        pixel_um: 40.0,
        ..SimOptions::default()
    });
    let ctl = LoopbackController::start(sim)?;
    let addr = ctl.addr().to_string();
    errln!(
        "meltline: printer: the simulated controller in a thread on {addr} (meltline-fw not built next to meltline)"
    );
    Ok((Printer::Thread(ctl), addr))
}
