//! `meltline design SPEC.toml -o cage.stl [--upper M --lower M --units U] [--report design.json]`:
//! designs a lattice interbody cage from a spec, optionally fitted to two vertebrae, writes the
//! STL (build frame) and a JSON report, and checks the mesh it wrote.
//!
//! Exit codes: 0 printable, 1 written but the mesh check failed, 2 error.

use meltline_host::{err, errln, outln};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use meltline_core::cage::{
    CageSpec, DesignOptions, DesignReport, Vertebrae, design_cage, measure_design,
};
use meltline_core::check::{CheckOptions, CheckReport, check_mesh};
use meltline_core::io::{ReadOptions, StlFormat, Units, read_mesh, write_stl};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Arguments of `meltline design`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The cage spec (TOML); `default` for the embedded default TLIF lattice cage.
    pub spec: PathBuf,
    /// The STL to write (build frame: z up, lowest point on z = 0, mm).
    #[arg(short, long)]
    pub output: PathBuf,
    /// The upper vertebra (its inferior endplate bounds the disc space); needs --lower.
    #[arg(long, requires = "lower")]
    pub upper: Option<PathBuf>,
    /// The lower vertebra (its superior endplate bounds the disc space); needs --upper.
    #[arg(long, requires = "upper")]
    pub lower: Option<PathBuf>,
    /// Units of the vertebra meshes.
    #[arg(long, value_enum, default_value = "mm")]
    pub units: UnitsArg,
    /// Write the JSON design report here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Also write the cage in the patient frame (mm), here or beside the output as
    /// `NAME.patient.stl`.
    #[arg(long, num_args = 0..=1, require_equals = false)]
    pub patient_frame: Option<Option<PathBuf>>,
    /// Mesh at this edge length (mm) instead of the spec's (previews, CI).
    #[arg(long)]
    pub edge_length: Option<f64>,
}

/// Mesh units on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum UnitsArg {
    /// Millimetres.
    Mm,
    /// Metres.
    M,
    /// Inches.
    In,
}

impl From<UnitsArg> for Units {
    fn from(u: UnitsArg) -> Units {
        match u {
            UnitsArg::Mm => Units::Mm,
            UnitsArg::M => Units::M,
            UnitsArg::In => Units::In,
        }
    }
}

/// The JSON report: the design measurements, the mesh check of the written STL, its hash.
#[derive(Debug, Serialize)]
struct Report<'a> {
    spec_source: String,
    /// The spec as meshed (with the edge length used): designing it again reproduces the STL.
    spec_as_meshed: String,
    #[serde(flatten)]
    design: &'a DesignReport,
    mesh_check: &'a CheckReport,
    stl: StlInfo,
    patient_frame_stl: Option<StlInfo>,
    timings_s: Timings,
}

#[derive(Debug, Serialize)]
struct StlInfo {
    path: String,
    bytes: u64,
    sha256: String,
}

#[derive(Debug, Serialize)]
struct Timings {
    fit_and_mesh: f64,
    measure: f64,
    write_and_check: f64,
}

/// Runs `meltline design`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (spec, source) = if args.spec.as_os_str() == "default" {
        (
            CageSpec::default_tlif(),
            "embedded default TLIF".to_string(),
        )
    } else {
        let text = std::fs::read_to_string(&args.spec)
            .with_context(|| format!("reading cage spec {}", args.spec.display()))?;
        let name = args.spec.display().to_string();
        (CageSpec::from_toml_str(&text, &name)?, name)
    };
    let vertebrae = match (&args.upper, &args.lower) {
        (Some(u), Some(l)) => {
            let opts = ReadOptions::with_units(args.units.into());
            let upper =
                read_mesh(u, &opts).with_context(|| format!("upper vertebra {}", u.display()))?;
            let lower =
                read_mesh(l, &opts).with_context(|| format!("lower vertebra {}", l.display()))?;
            Some((upper, lower))
        }
        _ => None,
    };
    let pair = vertebrae
        .as_ref()
        .map(|(u, l)| Vertebrae { upper: u, lower: l });

    let t0 = Instant::now();
    let opts = DesignOptions {
        edge_length_override: args.edge_length,
        ..DesignOptions::default()
    };
    let design = design_cage(&spec, pair, &opts)?;
    let t1 = Instant::now();
    let measured = measure_design(&design, pair);
    let t2 = Instant::now();

    write_stl(&args.output, &design.mesh, StlFormat::Binary)
        .with_context(|| format!("writing {}", args.output.display()))?;
    let stl = stl_info(&args.output)?;
    // Check what was written (f32 coordinates), as `meltline check` would.
    let written = read_mesh(&args.output, &ReadOptions::default())
        .with_context(|| format!("reading back {}", args.output.display()))?;
    let check = check_mesh(&written, &CheckOptions::default());
    let patient = match &args.patient_frame {
        None => None,
        Some(path) => {
            let path = path
                .clone()
                .unwrap_or_else(|| args.output.with_extension("patient.stl"));
            write_stl(&path, &design.patient_mesh(), StlFormat::Binary)
                .with_context(|| format!("writing {}", path.display()))?;
            Some(stl_info(&path)?)
        }
    };
    let t3 = Instant::now();

    let report = Report {
        spec_source: source,
        spec_as_meshed: design.spec.to_toml_string(),
        design: &measured,
        mesh_check: &check,
        stl,
        patient_frame_stl: patient,
        timings_s: Timings {
            fit_and_mesh: (t1 - t0).as_secs_f64(),
            measure: (t2 - t1).as_secs_f64(),
            write_and_check: (t3 - t2).as_secs_f64(),
        },
    };
    print_summary(&report)?;
    if let Some(path) = &args.report {
        super::common::write_json_atomic(path, &report)?;
    }
    let coarse = meltline_core::cage::report::coarse_mesh_warning(&design);
    if let Some(w) = &coarse {
        errln!(
            "meltline: the mesh at edge length {} mm is not the designed cage ({w}); its verdict is not the cage's",
            design.edge_length_mm
        );
    }
    Ok(if check.printable && coarse.is_none() {
        ExitCode::SUCCESS
    } else {
        if !check.printable {
            err!("{}", check.summary());
        }
        ExitCode::from(1)
    })
}

fn print_summary(r: &Report<'_>) -> std::io::Result<()> {
    let d = r.design;
    outln!(
        "{} cage: {} triangles, volume {:.1} mm³, bbox {:.2} × {:.2} × {:.2} mm",
        d.kind,
        d.triangles,
        d.volume_mm3,
        d.bbox.max[0] - d.bbox.min[0],
        d.bbox.max[1] - d.bbox.min[1],
        d.bbox.max[2] - d.bbox.min[2]
    );
    outln!(
        "porosity: lattice {:.3} (target {:.3}), whole cage {:.3} (expected {:.3})",
        d.porosity.lattice_measured,
        d.porosity.lattice_target,
        d.porosity.cage_measured,
        d.porosity.cage_expected
    );
    outln!(
        "features: strut {:.3} mm (median {:.3}), pore {:.3} mm (median {:.3}), rim {:.2} mm",
        d.features.strut_min_mm,
        d.features.strut_median_mm,
        d.features.pore_min_mm,
        d.features.pore_median_mm,
        d.features.rim_wall_mm
    );
    for w in &d.warnings {
        errln!("meltline: warning: {w}");
    }
    if let Some(f) = &d.fit {
        outln!(
            "endplate fit: mean gap {:.3} mm, p95 {:.3} mm, max {:.3} mm, max penetration {:.3} mm over {:.1} mm²",
            f.combined.mean_gap_mm,
            f.combined.p95_gap_mm,
            f.combined.max_gap_mm,
            f.combined.max_penetration_mm,
            f.combined.contact_area_mm2
        );
    }
    outln!(
        "mesh check: {}; STL {} ({} bytes, sha256 {})",
        if r.mesh_check.printable {
            "printable"
        } else {
            "NOT printable"
        },
        r.stl.path,
        r.stl.bytes,
        r.stl.sha256
    );
    Ok(())
}

fn stl_info(path: &Path) -> anyhow::Result<StlInfo> {
    let bytes = std::fs::read(path).with_context(|| format!("reading back {}", path.display()))?;
    Ok(StlInfo {
        path: path.display().to_string(),
        bytes: bytes.len() as u64,
        sha256: format!("{:x}", Sha256::digest(&bytes)),
    })
}
