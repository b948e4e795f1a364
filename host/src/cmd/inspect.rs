//! `meltline inspect job.mlj|.3mf|.ovf|.cli [--json]`: header, parameter sets, per-layer counts and lengths,
//! estimated time and energy on the machine model, and the hashes — after verifying every
//! frame, layer digest and the job hash.

use std::path::PathBuf;
use std::process::ExitCode;

use meltline_host::session::{JobSummaryReport, hms};

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
    /// Machine configuration for the estimates (TOML); default: the built-in machine.
    #[arg(long)]
    pub machine: Option<PathBuf>,
}

/// Runs `meltline inspect`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let machine = load_machine(args.machine.as_deref())?;
    let job = args.input.load(&machine)?;
    let r = JobSummaryReport::of(&job);
    if args.json {
        say!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    say!("job           {}", r.name);
    say!("machine       {}", r.machine);
    say!("material      {}", r.material);
    say!("quantum       {} nm", r.quantum_nm);
    say!(
        "layer         {} µm × {} layers",
        f64::from(r.layer_thickness_nm) / 1000.0,
        r.layers
    );
    say!(
        "frames        {} ({} bytes, {:.2} bytes per vector)",
        job.frames.len(),
        r.bytes,
        r.bytes_per_vector
    );
    say!("vectors       {}", r.vectors);
    say!("est. time     {} on {}", hms(r.est_time_s), job.est_machine);
    say!("est. energy   {:.1} J", r.est_energy_j);
    say!("job hash      {}", r.job_sha256);
    say!("file SHA-256  {}", r.file_sha256);
    say!("\nparameter sets");
    say!("  id   power W   speed mm/s   spot µm   hatch µm   E J/mm³   skywriting");
    for p in &r.param_sets {
        say!(
            "  {:>2}   {:>7.1}   {:>10}   {:>7}   {:>8}   {:>7.1}   {}",
            p.id,
            p.power_w,
            p.speed_mm_s,
            p.spot_um,
            p.hatch_um,
            p.energy_density_j_mm3,
            p.skywriting
        );
    }
    say!("\nlayers");
    say!(
        "  layer  blocks  vectors  contour  hatch  edge  support  mark mm   est s   energy J   bytes"
    );
    for l in &r.per_layer {
        let k = l.vectors_by_kind;
        say!(
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
    Ok(ExitCode::SUCCESS)
}
