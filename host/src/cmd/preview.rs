//! `meltline preview job.mlj|.3mf|.ovf|.cli --layer N -o out.svg|out.png [--colour kind|laser]`:
//! a picture of one layer's vectors, coloured by vector kind or by the laser exposing them.

use meltline_host::{errln, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use meltline_host::picture::{Caption, ColourBy, MAX_PICTURE_PX, layer_svg, write_layer_png};

use super::common::{JobInput, write_atomic};

/// Arguments of `meltline preview`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job file and how to read it.
    #[command(flatten)]
    pub input: JobInput,
    /// The layer (0-based).
    #[arg(long)]
    pub layer: u32,
    /// Output picture: `.svg` or `.png`.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Size in pixels of the longer side (16 to 8192).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(16..=i64::from(MAX_PICTURE_PX)))]
    pub size: u32,
    /// What the colours tell apart: `kind` (contour, hatch, edge, support, point) or `laser`
    /// (one colour per laser, named from laser 0 as `meltline inspect` does). Default: `laser`
    /// for a job whose blocks name their lasers (`meltline lasers -o`), else `kind`. A job
    /// naming no laser asked for `laser` is drawn all as laser 0 (the machine's first laser
    /// exposes it), with a note.
    #[arg(long, value_enum)]
    pub colour: Option<ColourBy>,
}

/// Runs `meltline preview`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let job = args
        .input
        .load(&meltline_firmware::machine::MachineConfig::default())?;
    if args.layer >= job.layer_count() {
        bail!(
            "{} has layers 0…{}; there is no layer {}",
            job.name,
            job.layer_count().saturating_sub(1),
            args.layer
        );
    }
    let colour = args.colour.unwrap_or(if job.names_lasers {
        ColourBy::Laser
    } else {
        ColourBy::Kind
    });
    if colour == ColourBy::Laser && !job.names_lasers {
        errln!(
            "meltline: note: {} names no lasers (plan it with `meltline lasers -o`); every vector is drawn as laser 0, the laser that exposes it",
            job.name
        );
    }
    let segs = job.layer_vectors(args.layer);
    let caption = Caption {
        title: job.name.clone(),
        layer: args.layer,
        z_mm: f64::from(args.layer + 1) * f64::from(job.layer_thickness_nm) * 1e-6,
        quantum_mm: f64::from(job.quantum_nm) * 1e-6,
    };
    let ext = args
        .output
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "svg" => write_atomic(
            &args.output,
            layer_svg(&segs, colour, args.size, &caption).as_bytes(),
        )?,
        "png" => write_layer_png(&segs, colour, args.size, &caption, &args.output)
            .with_context(|| format!("writing {}", args.output.display()))?,
        _ => bail!("{}: give a .svg or .png file name", args.output.display()),
    }
    outln!(
        "layer {} ({} vectors) → {}",
        args.layer,
        segs.len(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
