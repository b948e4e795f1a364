//! `meltline demo` (without `--single`): the plate pipeline with no input. Writes a plate file of three
//! different cages (a TLIF cage fitted to the project's own phantom lumbar endplates, a PLIF
//! and an ACDF cage from the example specs) and a test coupon, with the phantom vertebrae and
//! the specs beside it; runs `meltline plate` on it (placement, serials, per-part records),
//! streams the plate job to the simulated printer through the faulty link and writes the
//! HTML report with the plate and record tables.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use meltline_core::cage::CageSpec;
use meltline_core::cage::phantom::lumbar_pair;
use meltline_core::io::{StlFormat, write_stl};
use meltline_firmware::machine::MachineConfig;
use meltline_host::jobfile::JobFile;
use meltline_host::report::{PartRecord, ReportContext};
use meltline_host::session::RunReport;

use super::common::write_atomic;
use super::demo::{Args, start_printer, step, stream_through_faults};

/// Edge length of the demo plate's cage meshes, mm, unless `--edge-length` says otherwise:
/// coarser than the specs' own, so the whole plate runs in about a minute on two cores.
const DEMO_EDGE_MM: f64 = 0.25;

/// One cage of the demo plate.
struct DemoCage {
    /// Spec file name under `specs/` (its stem names the case).
    file: &'static str,
    /// Serial.
    id: &'static str,
    /// Fitted to the phantom vertebrae.
    fitted: bool,
    /// The spec, meshed at the demo's edge length.
    spec: String,
}

/// The cages of the demo plate.
fn cage_specs(edge_mm: f64) -> anyhow::Result<Vec<DemoCage>> {
    let with_edge = |mut spec: CageSpec| {
        spec.edge_length_mm = edge_mm;
        spec.to_toml_string()
    };
    let example = |text: &str, name: &str| {
        CageSpec::from_toml_str(text, name).with_context(|| format!("built-in spec {name}"))
    };
    let plif = example(include_str!("../../../examples/plif.toml"), "plif.toml")?;
    let acdf = example(include_str!("../../../examples/acdf.toml"), "acdf.toml")?;
    Ok(vec![
        DemoCage {
            file: "tlif.toml",
            id: "D-0001",
            fitted: true,
            spec: with_edge(CageSpec::default_tlif()),
        },
        DemoCage {
            file: "plif.toml",
            id: "D-0002",
            fitted: false,
            spec: with_edge(plif),
        },
        DemoCage {
            file: "acdf.toml",
            id: "D-0003",
            fitted: false,
            spec: with_edge(acdf),
        },
    ])
}

/// Writes the phantom vertebrae, the specs and `plate.toml` into `out`; returns the plate
/// file's path.
fn write_plate_file(out: &Path, edge_mm: f64) -> anyhow::Result<std::path::PathBuf> {
    let vdir = out.join("vertebrae");
    let sdir = out.join("specs");
    for d in [&vdir, &sdir] {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let (upper, lower) = lumbar_pair();
    for (name, mesh) in [("upper.stl", &upper), ("lower.stl", &lower)] {
        let p = vdir.join(name);
        write_stl(&p, mesh, StlFormat::Binary)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    let mut toml = String::from(
        "# The demo plate: three cages for three cases and a test coupon.\n\
         [plate]\nmachine = \"meltline-sim-250\"\nspacing_mm = 3.0\nsupports = true\n\
         lift_mm = 0.0\nplacement = \"auto\"\n",
    );
    for cage in cage_specs(edge_mm)? {
        let DemoCage { file, id, .. } = cage;
        write_atomic(&sdir.join(file), cage.spec.as_bytes())?;
        toml.push_str(&format!(
            "\n[[part]]\nid = \"{id}\"\ncase = \"demo-{}\"\ncage = \"specs/{file}\"\n",
            file.trim_end_matches(".toml")
        ));
        if cage.fitted {
            toml.push_str(
                "upper = \"vertebrae/upper.stl\"\nlower = \"vertebrae/lower.stl\"\nunits = \"mm\"\n",
            );
        }
    }
    toml.push_str("\n[[part]]\nid = \"Q-0001\"\ncoupon_mm = [10.0, 10.0, 5.0]\n");
    let path = out.join("plate.toml");
    write_atomic(&path, toml.as_bytes())?;
    Ok(path)
}

/// Runs `meltline demo` on the demo plate.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let edge = args.edge_length.unwrap_or(DEMO_EDGE_MM);
    let plate = write_plate_file(&args.out, edge)?;
    step(
        t0,
        &format!(
            "wrote {} (3 cages, one fitted to phantom vertebrae, and a coupon; {edge} mm edges)",
            plate.display()
        ),
    );
    let job_path = args.out.join("plate.mlj");
    step(t0, "designing, placing and slicing the plate");
    let code = super::plate::run(super::plate::Args {
        plate,
        output: job_path.clone(),
        report: Some(args.out.join("plate.json")),
        out_dir: Some(args.out.clone()),
    })?;
    if code != ExitCode::SUCCESS {
        anyhow::bail!("the plate was not made; nothing was streamed");
    }
    let job = JobFile::read(&job_path)?;
    step(
        t0,
        &format!(
            "{} parts, {} layers, {} frames",
            job.parts.len(),
            job.layer_count(),
            job.frames.len()
        ),
    );
    let (fw, addr) = start_printer(&args.out.join("controller.json"))?;
    let outcome = stream_through_faults(&job, &args.faults, &addr, t0)?;
    let controller = fw.finish()?;
    let report = RunReport::new(&job, outcome, controller);
    let ctx = ReportContext {
        operator: args.signoff.operator.clone(),
        powder_lot: args.signoff.powder_lot.clone(),
        machine: MachineConfig::default(),
        parts: vec![PartRecord {
            name: "demo plate".into(),
            design: None,
            bounds_mm: None,
        }],
        plate_records: super::simulate::read_records(&args.out, &job)?,
        ..ReportContext::default()
    };
    super::demo::finish(&args.out, &report, &job, ctx, t0)
}
