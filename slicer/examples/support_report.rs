//! Plans block supports for a mesh and prints the report with timings.
//!
//! `cargo run --release -p meltline-slicer --example support_report -- MESH [LIFT_MM] [LAYER_MM]`

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use meltline_core::io::{ReadOptions, read_mesh};
use meltline_slicer::support::{SupportOptions, plan_supports};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: support_report MESH [LIFT_MM] [LAYER_MM]");
        return ExitCode::from(2);
    };
    let number = |i: usize, default: f64| -> Option<f64> {
        args.get(i).map_or(Some(default), |s| s.parse().ok())
    };
    let (Some(lift_mm), Some(layer_mm)) = (number(1, 0.0), number(2, 0.03)) else {
        eprintln!("LIFT_MM and LAYER_MM must be numbers");
        return ExitCode::from(2);
    };
    let t0 = Instant::now();
    let mesh = match read_mesh(Path::new(path), &ReadOptions::default()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let t_load = t0.elapsed().as_secs_f64();
    let options = SupportOptions {
        lift_mm,
        ..SupportOptions::default()
    };
    let t1 = Instant::now();
    let plan = plan_supports(&mesh, &options);
    let t_plan = t1.elapsed().as_secs_f64();
    let layers = (plan.max_z_mm() / layer_mm).ceil() as usize;
    let t2 = Instant::now();
    let (mut paths, mut length) = (0usize, 0.0f64);
    for i in 0..layers {
        for p in plan.layer_paths(i, layer_mm) {
            paths += 1;
            length += p
                .points
                .windows(2)
                .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
                .sum::<f64>();
        }
    }
    let t_cut = t2.elapsed().as_secs_f64();
    let report = plan.report();
    println!(
        "{path}: {} triangles; load {t_load:.3} s, plan {t_plan:.3} s, cut {layers} layers {t_cut:.3} s",
        mesh.triangles.len()
    );
    println!(
        "regions supported {} ({:.1} mm²), below minimum area {} ({:.2} mm²), failed {}; \
         {paths} support vectors, {length:.0} mm",
        report.regions_supported,
        report.supported_area_mm2,
        report.regions_below_min_area,
        report.area_below_min_mm2,
        report.failed.len()
    );
    match serde_json::to_string_pretty(report) {
        Ok(json) => println!("{json}"),
        Err(e) => eprintln!("report: {e}"),
    }
    ExitCode::SUCCESS
}
