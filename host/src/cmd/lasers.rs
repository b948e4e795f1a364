//! `meltline lasers JOB [--machine M] [--laser-assignment by-part|by-region] [--overlap-mm O]
//! [-o OUT] [--json]`: plans a verified job on a machine's lasers and prints each laser's
//! share, the exposure time (the slowest laser of every layer) against one laser, and the
//! layer balance; with `-o`, writes the job again with every block naming its laser.

use std::path::PathBuf;
use std::process::ExitCode;

use meltline_host::lasers::write::write_assigned;
use meltline_host::lasers::{Assignment, DEFAULT_OVERLAP_MM, plan};
use meltline_host::session::hms;
use meltline_host::{errln, outln};

use super::common::{JobInput, load_machine};

/// Arguments of `meltline lasers`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job file and how to read it.
    #[command(flatten)]
    pub input: JobInput,
    /// The machine: a built-in name (`meltline-sim-250`, `-2x`, `-4x`) or a machine TOML.
    #[arg(long, default_value = "meltline-sim-250-4x")]
    pub machine: PathBuf,
    /// How vectors are shared between the lasers.
    #[arg(long, value_enum, default_value = "by-region")]
    pub laser_assignment: Assignment,
    /// Stitching overlap where a seam cuts a vector, mm (0.1–0.5).
    #[arg(long, default_value_t = DEFAULT_OVERLAP_MM)]
    pub overlap_mm: f64,
    /// Print the plan as JSON (with every layer's exposure per laser and its seams).
    #[arg(long)]
    pub json: bool,
    /// Write the assigned job here (every block naming the laser that exposes it); it appears
    /// only once complete.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let machine = load_machine(Some(&args.machine))?;
    let job = args.input.load(&machine)?;
    if let Some(out) = &args.output {
        meltline_core::io::output_target(out)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    }
    let p = match &args.output {
        None => plan(&job, &machine, args.laser_assignment, args.overlap_mm)
            .map_err(|e| anyhow::anyhow!("{}: {e}", job.name))?,
        Some(out) => {
            let (p, s) =
                write_assigned(&job, &machine, args.laser_assignment, args.overlap_mm, out)
                    .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was written", job.name))?;
            errln!(
                "meltline: wrote {} ({} layers, {} vectors, {} bytes), every block naming its laser",
                out.display(),
                s.layers,
                s.vectors,
                s.bytes
            );
            p
        }
    };
    if args.json {
        let mut v = serde_json::to_value(&p)?;
        v["worst_balance"] = p.worst_balance().into();
        v["weighted_balance"] = p.weighted_balance().into();
        outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} on {} ({} lasers), {:?}, overlap {:.2} mm",
        job.name,
        p.machine,
        p.lasers.len(),
        p.assignment,
        p.overlap_mm
    );
    for l in &p.lasers {
        outln!(
            "laser {}: {} vectors, {:.0} mm marked, exposure {} ({:.1} s)",
            l.index,
            l.vectors,
            l.mark_length_mm,
            hms(l.exposure_s),
            l.exposure_s
        );
    }
    let ratio = p.exposure_s / p.single_laser_exposure_s.max(1e-9);
    outln!(
        "exposure {} ({:.1} s, the slowest laser of each layer) against {} on one laser: {:.3}",
        hms(p.exposure_s),
        p.exposure_s,
        hms(p.single_laser_exposure_s),
        ratio
    );
    outln!(
        "layer balance (slowest laser over the mean): worst {:.3}, weighted by layer time {:.3}",
        p.worst_balance(),
        p.weighted_balance()
    );
    outln!("build time with recoating: {}", hms(p.build_time_s));
    let plume = p.plume.text();
    if !plume.is_empty() {
        outln!("{plume}");
    }
    Ok(ExitCode::SUCCESS)
}
