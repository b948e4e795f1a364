//! The build report's layer viewer in a real browser: headless Chromium (driven by
//! `tests/browser/viewer-check.mjs` with playwright-core) opens a report, moves the slider to a
//! layer with the keyboard, and the page's state is read back — the layer number it shows, its
//! figures, and canvas pixels at plate coordinates of a contour known from the job file. A
//! second test chooses "laser" in the viewer's "colour by" select of a job planned on two
//! lasers (`tests/browser/viewer-lasers.mjs`) and reads the legend, the
//! figures and the pixels on each laser's contour.
//!
//! Needs `node`, `tests/browser/node_modules` (`npm ci` there) and `/usr/bin/chromium` (or
//! `$CHROMIUM`); `.ci/run` installs them. Without them the test is skipped with a message,
//! except under `CI=true`, where a missing browser fails it.

use std::path::{Path, PathBuf};
use std::process::Command;

use meltline_core::mesh::Mesh;
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::wire::VectorKind;
use meltline_host::jobfile::JobFile;
use meltline_host::lasers::{Assignment, DEFAULT_OVERLAP_MM, write::write_assigned};
use meltline_host::mlj::{MljOptions, encode_mlj};
use meltline_host::report::{PartRecord, ReportContext, Stage, Warning, write_html_report};
use meltline_host::session::{SimulateOptions, simulate};
use meltline_slicer::job::{Slicer, SlicerOptions};
use meltline_slicer::profile::ProcessProfile;

/// Layer the test moves the viewer to: above the low block, so only the tall one is cut.
const LAYER: u32 = 14;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/browser")
}

/// Why the browser cannot run here, if it cannot.
fn missing_tools() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).is_file() {
        return Some(format!(
            "no Chromium at {chromium} (apt-get install chromium)"
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("no node on PATH".into());
    }
    let pw = browser_dir().join("node_modules/playwright-core");
    if !pw.is_dir() {
        return Some(format!("no {} (npm ci in tests/browser)", pw.display()));
    }
    None
}

/// A low block (10 layers) beside a tall one (20 layers): from layer 10 up only the tall
/// block is cut, so a viewer stuck on layer 0 shows a contour where layer 14 has none.
fn two_block_job() -> JobFile {
    let mut part = Mesh::axis_aligned_box([-6.0, -2.0, 0.0], [-2.0, 2.0, 0.3]);
    part.append(&Mesh::axis_aligned_box([1.0, -2.0, 0.0], [5.0, 2.0, 0.6]));
    let job = Slicer::new(&part, ProcessProfile::ti6al4v(), SlicerOptions::default())
        .and_then(|s| s.build_job())
        .expect("the two blocks slice");
    let opts = MljOptions {
        machine: Some(MachineConfig::default().machine.to_string()),
        ..MljOptions::default()
    };
    let (bytes, _) = encode_mlj(&job, &opts).expect("the job encodes");
    JobFile::parse(&bytes, "two-blocks.mlj", &MachineConfig::default()).expect("the job reads")
}

/// Midpoint (mm) of the longest contour segment of `layer` for which `keep(x_mm)` holds.
fn contour_midpoint(job: &JobFile, layer: u32, keep: impl Fn(f64) -> bool) -> [f64; 2] {
    let q = f64::from(job.quantum_nm) * 1e-6;
    job.layer_segments(layer)
        .into_iter()
        .filter(|(k, _)| *k == VectorKind::Contour)
        .map(|(_, s)| {
            let mid = [
                f64::from(s.from.x + s.to.x) * 0.5 * q,
                f64::from(s.from.y + s.to.y) * 0.5 * q,
            ];
            let len = f64::from(s.to.x - s.from.x).hypot(f64::from(s.to.y - s.from.y));
            (mid, len)
        })
        .filter(|(mid, _)| keep(mid[0]))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(mid, _)| mid)
        .expect("a contour segment on the layer")
}

fn is_contour_red(px: &serde_json::Value) -> bool {
    let c: Vec<u64> = px
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_u64).collect())
        .unwrap_or_default();
    matches!(c.as_slice(), [r, g, b, _] if *r > 150 && *g < 120 && *b < 120)
}

fn is_white(px: &serde_json::Value) -> bool {
    px.as_array()
        .is_some_and(|a| a.iter().take(3).all(|v| v.as_u64() == Some(255)))
}

/// Whether the browser tests can run; fails under `CI=true` when they cannot.
fn browser_available() -> bool {
    if let Some(why) = missing_tools() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(!ci, "CI=true but the browser test cannot run: {why}");
        eprintln!("SKIPPED: the report browser test needs a browser: {why}");
        return false;
    }
    true
}

#[test]
fn viewer_moved_to_a_layer_shows_that_layer_and_its_contour_without_console_errors() {
    if !browser_available() {
        return;
    }
    let job = two_block_job();
    assert!(job.layer_count() > LAYER, "{} layers", job.layer_count());
    let run = simulate(
        &job,
        &SimulateOptions {
            exposure: true,
            ..SimulateOptions::default()
        },
        &mut |_| {},
    )
    .expect("the job simulates");
    let ctx = ReportContext {
        operator: Some("test operator".into()),
        powder_lot: Some("LOT-1".into()),
        warnings: vec![Warning {
            stage: Stage::Slice,
            what: "thin parts dropped".into(),
            count: 2,
            at: "layers 3–4".into(),
        }],
        parts: vec![PartRecord {
            name: "two blocks".into(),
            design: None,
            bounds_mm: None,
        }],
        ..ReportContext::default()
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let html = dir.path().join("report.html");
    write_html_report(&run, &job, &ctx, &html).expect("the report is written");

    // The tall block's contour is on LAYER; the low block's (x < 0) is only below layer 10.
    let tall = contour_midpoint(&job, LAYER, |x| x > 0.0);
    let low = contour_midpoint(&job, 0, |x| x < 0.0);
    let out = Command::new("node")
        .current_dir(browser_dir())
        .arg("viewer-check.mjs")
        .arg(&html)
        .arg(LAYER.to_string())
        .arg(format!("{},{}", tall[0], tall[1]))
        .arg(format!("{},{}", low[0], low[1]))
        .output()
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "viewer-check.mjs failed: {stderr}");
    let state: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("viewer-check.mjs prints JSON");

    assert_eq!(state["consoleErrors"], serde_json::json!([]), "{state}");
    assert_eq!(state["layerShown"], LAYER.to_string(), "{state}");
    assert_eq!(state["canvasLayer"], LAYER.to_string(), "{state}");
    assert_eq!(state["drawnLayer"], LAYER, "{state}");
    let vectors = job.layers[LAYER as usize].vectors;
    assert_eq!(state["figures"]["vectors"], vectors.to_string(), "{state}");
    assert!(
        is_contour_red(&state["pixels"][0]),
        "layer {LAYER}: no contour colour at {tall:?} mm: {state}"
    );
    assert!(
        is_white(&state["pixels"][1]),
        "layer {LAYER}: the low block's contour at {low:?} mm is drawn, though it ends at layer 9: {state}"
    );
    assert_eq!(state["zoomedLayer"], LAYER, "{state}");
    let (before, after) = (
        state["scale"].as_f64().unwrap_or(0.0),
        state["zoomedScale"].as_f64().unwrap_or(0.0),
    );
    assert!(
        before > 0.0 && after > 1.4 * before,
        "the wheel zoomed from {before} to {after} px/mm: {state}"
    );
    assert!(
        is_contour_red(&state["zoomedPixels"][0]),
        "after zooming and panning, no contour colour at {tall:?} mm: {state}"
    );
    for id in [
        "summary",
        "time-breakdown",
        "warnings",
        "parts",
        "layer-viewer",
    ] {
        assert!(
            state["sections"]
                .as_array()
                .is_some_and(|s| s.iter().any(|v| v == id)),
            "section #{id} missing: {state}"
        );
    }
}

/// Two blocks, one in the lower left quarter of the plate (in the field of
/// `meltline-sim-250-4x`'s laser 0 only) and one in the lower right (laser 1's only),
/// planned on that machine's lasers by region: each block is on its laser whole.
fn two_laser_job() -> (JobFile, MachineConfig) {
    let four = meltline_firmware::lasers::builtin_machine("meltline-sim-250-4x")
        .expect("a built-in machine");
    let mut part = Mesh::axis_aligned_box([-65.0, -65.0, 0.0], [-55.0, -55.0, 0.15]);
    part.append(&Mesh::axis_aligned_box(
        [55.0, -65.0, 0.0],
        [65.0, -55.0, 0.15],
    ));
    let sliced = Slicer::new(&part, ProcessProfile::ti6al4v(), SlicerOptions::default())
        .and_then(|s| s.build_job())
        .expect("the two blocks slice");
    let opts = MljOptions {
        machine: Some(four.machine.to_string()),
        ..MljOptions::default()
    };
    let (bytes, _) = encode_mlj(&sliced, &opts).expect("the job encodes");
    let job = JobFile::parse(&bytes, "two-lasers.mlj", &four).expect("the job reads");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("two-lasers-4x.mlj");
    write_assigned(&job, &four, Assignment::ByRegion, DEFAULT_OVERLAP_MM, &out)
        .expect("the job is planned on the lasers");
    let bytes = std::fs::read(&out).expect("the planned job is written");
    let job = JobFile::parse(&bytes, "two-lasers-4x.mlj", &four).expect("the planned job reads");
    (job, four)
}

/// Midpoint (mm) of the longest contour segment of layer 0 on laser `laser`.
fn laser_contour_midpoint(job: &JobFile, laser: u8) -> [f64; 2] {
    let q = f64::from(job.quantum_nm) * 1e-6;
    job.layer_vectors(0)
        .into_iter()
        .filter(|v| v.kind == VectorKind::Contour && v.laser == laser)
        .map(|v| {
            let s = v.segment;
            let mid = [
                f64::from(s.from.x + s.to.x) * 0.5 * q,
                f64::from(s.from.y + s.to.y) * 0.5 * q,
            ];
            (
                mid,
                f64::from(s.to.x - s.from.x).hypot(f64::from(s.to.y - s.from.y)),
            )
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(mid, _)| mid)
        .expect("a contour segment of the laser on layer 0")
}

/// The laser whose colour a canvas pixel `[r, g, b, a]` is, if it is one of them.
fn laser_of_pixel(px: &serde_json::Value) -> Option<usize> {
    let c: Vec<u64> = px
        .as_array()?
        .iter()
        .take(3)
        .filter_map(serde_json::Value::as_u64)
        .collect();
    // The one laser palette of previews, the viewer and exposure maps.
    meltline_host::picture::LASER_COLOURS
        .iter()
        .position(|rgb| {
            c.len() == 3
                && rgb
                    .iter()
                    .zip(&c)
                    .all(|(a, b)| u64::from(*a).abs_diff(*b) <= 12)
        })
}

#[test]
fn viewer_coloured_by_laser_draws_each_lasers_contour_in_its_colour_without_console_errors() {
    if !browser_available() {
        return;
    }
    let (job, four) = two_laser_job();
    assert!(job.names_lasers);
    let run = simulate(
        &job,
        &SimulateOptions {
            machine: four,
            ..SimulateOptions::default()
        },
        &mut |_| {},
    )
    .expect("the job simulates on the four-laser machine");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let html = dir.path().join("report.html");
    write_html_report(&run, &job, &ReportContext::default(), &html).expect("the report is written");
    let points = [
        laser_contour_midpoint(&job, 0),
        laser_contour_midpoint(&job, 1),
    ];
    let out = Command::new("node")
        .current_dir(browser_dir())
        .arg("viewer-lasers.mjs")
        .env(
            "VIEWER_LASERS",
            serde_json::json!({ "report": html, "points": points }).to_string(),
        )
        .output()
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the laser check failed: {stderr}");
    let state: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the laser check prints JSON");

    assert_eq!(state["consoleErrors"], serde_json::json!([]), "{state}");
    assert_eq!(
        state["options"],
        serde_json::json!(["kind", "param", "region", "laser"]),
        "{state}"
    );
    assert_eq!(
        state["initial"]["colourBy"], "laser",
        "the default for a laser job: {state}"
    );
    let by_laser = &state["byLaser"];
    assert_eq!(by_laser["colourBy"], "laser", "{state}");
    assert_eq!(by_laser["drawnLayer"], 0, "{state}");
    assert_eq!(
        by_laser["legend"],
        serde_json::json!(["laser 0", "laser 1"]),
        "{state}"
    );
    for laser in [0u8, 1] {
        let n = job
            .layer_vectors(0)
            .iter()
            .filter(|v| v.laser == laser)
            .count();
        assert!(n > 0);
        assert_eq!(
            by_laser["figures"][format!("laser {laser}")],
            n.to_string(),
            "{state}"
        );
        let at = usize::from(laser);
        assert_eq!(
            laser_of_pixel(&by_laser["pixels"][at]),
            Some(at),
            "laser {laser}'s contour at {:?} mm is not in its colour: {state}",
            points[at]
        );
    }
    // By kind, the same contours are contour red: the select changed what is drawn.
    assert_eq!(state["byKind"]["legend"][0], "contour", "{state}");
    for at in 0..2 {
        assert!(is_contour_red(&state["byKind"]["pixels"][at]), "{state}");
    }
}
