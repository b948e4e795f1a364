//! `meltline demo`, the README's first command, end to end with no input: design, check,
//! slice, stream through the faulty link to the simulated printer, verify, report.

use std::path::Path;
use std::process::Command;

/// Runs `meltline demo ARGS --out OUT`, checks that it succeeded with equal hashes and
/// returns what it printed.
fn run_verified_demo(args: &[&str], out: &Path) -> String {
    let run = Command::new(env!("CARGO_BIN_EXE_meltline"))
        .arg("demo")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("meltline demo runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("hashes equal yes"), "{stdout}");
    assert!(stdout.contains("VERIFIED"), "{stdout}");
    stdout.into_owned()
}

#[test]
fn single_cage_demo_runs_the_whole_pipeline_and_verifies_equal_hashes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("demo-out");
    // A coarse mesh keeps the run short; the pipeline is the same at the spec's 0.12 mm.
    run_verified_demo(&["--single", "--edge-length", "1.0"], &out);
    for file in ["cage.stl", "cage.mlj", "cage.cli", "report.html"] {
        let len = std::fs::metadata(out.join(file))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 0, "{file} missing or empty");
    }
}

/// The default demo: a plate of three different cages (one fitted to the project's phantom
/// vertebrae) and a coupon, each with its serial and record, streamed through the faulty link.
#[test]
fn demo_plate_places_three_cages_and_a_coupon_and_verifies_every_part() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("demo-out");
    let stdout = run_verified_demo(&[], &out);
    // The run summary has a line per part, each built in full.
    let part_lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("part ")).collect();
    assert_eq!(part_lines.len(), 4, "{stdout}");
    assert!(
        part_lines.iter().all(|l| l.contains(": Built, ")),
        "{stdout}"
    );
    let plate: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("plate.json")).expect("plate.json"))
            .expect("plate.json is JSON");
    let ids: Vec<&str> = plate["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["D-0001", "D-0002", "D-0003", "Q-0001"]);
    let run_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).expect("run.json"))
            .expect("run.json is JSON");
    for part in run_json["parts"].as_array().expect("run parts") {
        assert_eq!(part["state"], "Built", "{part}");
        assert_eq!(part["vectors_executed"], part["vectors"], "{part}");
    }
    // The fitted cage's record carries the fit to the phantom endplates.
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("parts/D-0001.json")).expect("record"))
            .expect("record is JSON");
    let fit = record["design"]["fit"].as_str().expect("fit in the record");
    assert!(fit.contains("max penetration 0.000 mm"), "{fit}");
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    for id in ids {
        assert!(html.contains(id), "{id} not in the report");
    }
}
