//! The CLI's standard output as a shell pipeline uses it: a reader that goes away early
//! (`meltline inspect job.mlj | head`) ends the command quietly instead of a panic.

use std::process::{Command, Stdio};

use meltline_core::io::{StlFormat, write_stl};
use meltline_core::mesh::Mesh;

fn meltline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_meltline"))
}

#[test]
fn inspect_into_a_closed_pipe_exits_quietly_without_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stl = dir.path().join("box.stl");
    let job = dir.path().join("box.mlj");
    let part = Mesh::axis_aligned_box([0.0, 0.0, 0.0], [4.0, 3.0, 0.3]);
    write_stl(&stl, &part, StlFormat::Binary).expect("box written");
    let sliced = meltline()
        .args(["slice", stl.to_str().unwrap(), "-o", job.to_str().unwrap()])
        .output()
        .expect("meltline slice runs");
    assert!(sliced.status.success(), "{sliced:?}");

    for extra in [&[][..], &["--json"][..]] {
        let mut child = meltline()
            .arg("inspect")
            .arg(&job)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("meltline inspect starts");
        // Close the reading end before the command writes its first line.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("meltline inspect ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "inspect {extra:?}: {stderr}");
        assert!(
            out.status.success(),
            "inspect {extra:?}: {:?} {stderr}",
            out.status
        );
    }
}
