//! `meltline inspect job.mlj [--json]`: header, parameter sets, per-layer counts and lengths,
//! estimated time and energy on the machine model, and the hashes — after verifying every
//! frame, layer digest and the job hash.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use meltline_firmware::signing::check_release;
use meltline_host::jobfile::JobFile;
use meltline_host::release::{hex, read_hex_key};
use meltline_host::session::{JobSummaryReport, hms};

use super::common::load_machine;

/// Arguments of `meltline inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job file (`.mlj`).
    pub job: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Machine configuration for the estimates (TOML); default: the built-in machine.
    #[arg(long)]
    pub machine: Option<PathBuf>,
    /// Check the release's signature against this public key (`NAME.pub`); repeatable.
    #[arg(long)]
    pub trust: Vec<PathBuf>,
}

/// Runs `meltline inspect`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let machine = load_machine(args.machine.as_deref())?;
    let bytes =
        std::fs::read(&args.job).with_context(|| format!("reading {}", args.job.display()))?;
    let job = JobFile::parse(&bytes, &args.job.display().to_string(), &machine)
        .context("the job file is refused")?;
    let r = JobSummaryReport::of(&job);
    let trusted = args
        .trust
        .iter()
        .map(|p| read_hex_key(p).map(|k| hex(&k)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let release = check_release(&bytes, &trusted).context("reading the release")?;
    let intact = release
        .as_ref()
        .is_none_or(|c| c.matches_job && c.signature_valid != Some(false));
    let code = if intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if args.json {
        let mut v = serde_json::to_value(&r)?;
        if let (Some(obj), Some(c)) = (v.as_object_mut(), &release) {
            let mut rec = serde_json::to_value(&c.record)?;
            if let Some(o) = rec.as_object_mut() {
                o.insert("matches_job".into(), c.matches_job.into());
                o.insert("signature_valid".into(), c.signature_valid.into());
            }
            obj.insert("release".into(), rec);
        }
        say!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(code);
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
    match &release {
        None => say!("release       none (runs only on printers without trusted keys)"),
        Some(c) => {
            let rec = &c.record;
            say!("release       signed by {} on {}", rec.signer, rec.utc);
            say!("  meaning     {}", rec.meaning);
            say!("  key id      {}", rec.key_id);
            say!(
                "  content     {}",
                if c.matches_job {
                    "matches the job (job hash, setup, every layer)"
                } else {
                    "BROKEN: the job differs from what was released"
                }
            );
            say!(
                "  signature   {}",
                match c.signature_valid {
                    None => "not checked (give --trust NAME.pub)",
                    Some(true) => "valid, by a trusted key",
                    Some(false) => "INVALID or not by a trusted key",
                }
            );
        }
    }
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
    Ok(code)
}
