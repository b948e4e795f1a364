//! `meltline inspect job.mlj|.3mf|.ovf|.cli [--summary] [--json]`: header, parameter sets,
//! per-layer counts and lengths, estimated time and energy on the machine model, and the hashes
//! — after verifying every frame, layer digest and the job hash. `--summary` leaves out the
//! per-layer table and gives totals by vector kind and the busiest layers instead.

use meltline_host::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use meltline_host::jobfile::KIND_NAMES;
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
    /// Totals only: no per-layer table (or `per_layer` array in JSON).
    #[arg(long)]
    pub summary: bool,
    /// Machine configuration for the estimates (TOML); default: the built-in machine.
    #[arg(long)]
    pub machine: Option<PathBuf>,
}

/// Runs `meltline inspect`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let machine = load_machine(args.machine.as_deref())?;
    let job = args.input.load(&machine)?;
    let r = JobSummaryReport::of(&job);
    let mut by_kind = [0u64; 5];
    for l in &r.per_layer {
        for (t, n) in by_kind.iter_mut().zip(l.vectors_by_kind) {
            *t += n;
        }
    }
    if args.json {
        print_json(&r, by_kind, args.summary)?;
        return Ok(ExitCode::SUCCESS);
    }
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
        job.frames.len(),
        r.bytes,
        r.bytes_per_vector
    );
    outln!("vectors       {}", r.vectors);
    let kinds: Vec<String> = KIND_NAMES
        .iter()
        .zip(by_kind)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    outln!("  by kind     {}", kinds.join(", "));
    outln!("est. time     {} on {}", hms(r.est_time_s), job.est_machine);
    outln!("est. energy   {:.1} J", r.est_energy_j);
    outln!("job hash      {}", r.job_sha256);
    outln!("file SHA-256  {}", r.file_sha256);
    outln!("\nparameter sets");
    outln!("  id   power W   speed mm/s   spot µm   hatch µm   E J/mm³   skywriting");
    for p in &r.param_sets {
        outln!(
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
    if args.summary {
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
        return Ok(ExitCode::SUCCESS);
    }
    print_layers(&r)?;
    Ok(ExitCode::SUCCESS)
}

/// The summary as JSON: vector counts labelled by kind, per-layer figures unless `summary`.
fn print_json(r: &JobSummaryReport, by_kind: [u64; 5], summary: bool) -> anyhow::Result<()> {
    let mut value = serde_json::to_value(r)?;
    if let Some(obj) = value.as_object_mut() {
        let kinds: serde_json::Map<String, serde_json::Value> = KIND_NAMES
            .iter()
            .zip(by_kind)
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
