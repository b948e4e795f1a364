//! `meltline demo`, the README's first command, end to end with no input: design, check,
//! slice, stream through the faulty link to the simulated printer, verify, report.

use std::process::Command;

#[test]
fn demo_runs_the_whole_pipeline_and_verifies_equal_hashes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("demo-out");
    // A coarse mesh keeps the run short; the pipeline is the same at the spec's 0.12 mm.
    let run = Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(["demo", "--edge-length", "1.0", "--out"])
        .arg(&out)
        .output()
        .expect("meltline demo runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("hashes equal yes"), "{stdout}");
    assert!(stdout.contains("VERIFIED"), "{stdout}");
    for file in ["cage.stl", "cage.mlj", "cage.cli", "report.html"] {
        let len = std::fs::metadata(out.join(file))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 0, "{file} missing or empty");
    }
}
