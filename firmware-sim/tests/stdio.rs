//! `meltline-fw --stdio` end to end: a job file generated with `JobWriter` is executed and
//! reported; the same file with one byte changed names the corrupted frame and exposes nothing
//! of that layer.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};

use meltline_firmware::job::{BlockSpec, Geometry, JobSpec, encode_job};
use meltline_firmware::wire::{ParamSet, Region, VectorKind};

fn circle_layer(r: f64, spacing: i64) -> Vec<BlockSpec> {
    let n = 180;
    let contour: Vec<[i64; 2]> = (0..n)
        .map(|i| {
            let a = i as f64 * std::f64::consts::TAU / n as f64;
            [(r * a.cos()).round() as i64, (r * a.sin()).round() as i64]
        })
        .collect();
    let inset = r - 40.0;
    let mut hatches = vec![];
    let mut y = -inset + spacing as f64 / 2.0;
    let mut flip = false;
    while y < inset {
        let half = (inset * inset - y * y).sqrt();
        let (a, b) = ((-half).round() as i64, half.round() as i64);
        let yy = y.round() as i64;
        hatches.push(if flip { [b, yy, a, yy] } else { [a, yy, b, yy] });
        flip = !flip;
        y += spacing as f64;
    }
    vec![
        BlockSpec {
            param_set: 2,
            kind: VectorKind::Contour,
            region: Region::Core,
            geometry: Geometry::Polylines {
                lines: vec![contour],
                closed: true,
            },
        },
        BlockSpec {
            param_set: 1,
            kind: VectorKind::Hatch,
            region: Region::Core,
            geometry: Geometry::Hatches(hatches),
        },
    ]
}

fn job_file() -> (Vec<u8>, meltline_firmware::job::JobSummary) {
    let spec = JobSpec {
        machine: "meltline-sim-250".into(),
        material: "Ti-6Al-4V".into(),
        quantum_nm: 1000,
        layer_thickness_nm: 30_000,
        layer_count: 4,
        param_sets: vec![
            ParamSet {
                id: 1,
                power_mw: 200_000,
                mark_speed_mm_s: 1000,
                spot_um: 80,
                hatch_distance_um: 100,
                skywriting: true,
            },
            ParamSet {
                id: 2,
                power_mw: 120_000,
                mark_speed_mm_s: 600,
                spot_um: 80,
                hatch_distance_um: 100,
                skywriting: false,
            },
        ],
    };
    let layers: Vec<_> = (0..4)
        .map(|i| circle_layer(3000.0 - 200.0 * f64::from(i), 100))
        .collect();
    encode_job(&spec, &layers).unwrap()
}

fn run_fw(
    input: &[u8],
    dir: &std::path::Path,
) -> (std::process::ExitStatus, String, serde_json::Value) {
    let report = dir.join("report.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_meltline-fw"))
        .args(["--stdio", "--report"])
        .arg(&report)
        .arg("--exposure-dir")
        .arg(dir.join("exposure"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        json,
    )
}

#[test]
fn stdio_executes_a_job_file_and_writes_the_report() {
    let (bytes, summary) = job_file();
    let dir = tempfile::tempdir().unwrap();
    let (status, stderr, r) = run_fw(&bytes, dir.path());
    assert!(status.success(), "{stderr}");
    assert_eq!(r["state"], "Done");
    assert_eq!(r["layers_executed"], 4);
    assert_eq!(r["total"]["marks"], summary.vectors);
    let hash: String = summary
        .job_sha256
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(r["executed_sha256"], hash.as_str());
    assert!(r["total"]["recoat_s"].as_f64().unwrap() > 0.0);
    assert!(r["total"]["energy_j"].as_f64().unwrap() > 0.0);
    for l in r["layers"].as_array().unwrap() {
        let cov = l["coverage_pct"].as_f64().unwrap();
        assert!(cov > 95.0, "layer {} coverage {cov}", l["layer"]);
        let png = dir.path().join(format!(
            "exposure/layer_{:05}.png",
            l["layer"].as_u64().unwrap()
        ));
        assert!(
            std::fs::read(&png).unwrap().starts_with(b"\x89PNG"),
            "{}",
            png.display()
        );
    }
}

#[test]
fn stdio_with_one_byte_changed_names_the_corrupted_frame_and_exposes_nothing_of_its_layer() {
    let (bytes, _) = job_file();
    // Frame 0 header, 1-2 param sets, then per layer: start, 2 blocks, end → layer 2's hatch
    // block is frame 3 + 2·4 + 2 = 13.
    let frames: Vec<&[u8]> = bytes.split_inclusive(|b| *b == 0).collect();
    let at = frames[..13].iter().map(|f| f.len()).sum::<usize>() + frames[13].len() / 2;
    let mut bad = bytes.clone();
    bad[at] = bad[at].wrapping_add(1).max(1);
    let dir = tempfile::tempdir().unwrap();
    let (status, stderr, r) = run_fw(&bad, dir.path());
    assert!(!status.success());
    assert!(stderr.contains("frame 13"), "{stderr}");
    assert_eq!(r["link_errors"][0]["frame"], 13);
    assert_eq!(r["link_errors"][0]["expected_seq"], 13);
    assert_eq!(r["layers_executed"], 2);
    let executed: Vec<u64> = r["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["layer"].as_u64().unwrap())
        .collect();
    assert_eq!(executed, vec![0, 1]);
    assert!(!dir.path().join("exposure/layer_00002.png").exists());
}

#[test]
fn help_prints_the_usage_and_exits_zero() {
    let out = Command::new(env!("CARGO_BIN_EXE_meltline-fw"))
        .arg("--help")
        .output()
        .expect("meltline-fw runs");
    assert!(out.status.success(), "{:?}", out.status);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("usage: meltline-fw"), "{text}");
    assert!(text.contains("Examples:"), "{text}");
}
