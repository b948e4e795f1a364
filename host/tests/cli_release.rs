//! `meltline keygen`, `meltline release` and `meltline inspect` on a released job: the key
//! files, the record shown, and a changed job or record detected.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::path::Path;
use std::process::{Command, Output};

use meltline_firmware::job::{BlockSpec, Geometry, JobSpec, encode_job};
use meltline_firmware::wire::{ParamSet, Region, VectorKind};

fn meltline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(args)
        .output()
        .unwrap()
}

fn job(dir: &Path) -> String {
    let spec = JobSpec {
        machine: "meltline-sim-250".into(),
        material: "Ti-6Al-4V".into(),
        quantum_nm: 1000,
        layer_thickness_nm: 30_000,
        layer_count: 3,
        param_sets: vec![ParamSet {
            id: 1,
            power_mw: 200_000,
            mark_speed_mm_s: 1000,
            spot_um: 80,
            hatch_distance_um: 100,
            skywriting: false,
        }],
    };
    let layer = vec![BlockSpec {
        param_set: 1,
        kind: VectorKind::Hatch,
        region: Region::Core,
        geometry: Geometry::Hatches((0..20).map(|i| [0, i * 100, 3000, i * 100]).collect()),
    }];
    let (bytes, _) = encode_job(&spec, &[layer.clone(), layer.clone(), layer]).unwrap();
    let p = dir.join("job.mlj");
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_released_job_shows_its_record_and_a_changed_record_breaks_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let name = d.join("qa").display().to_string();
    let job = job(d);
    let out = meltline(&["keygen", "--out", &name]);
    assert!(out.status.success(), "{}", text(&out));
    let released = d.join("released.mlj").display().to_string();
    let key = format!("{name}.key");
    let public = format!("{name}.pub");
    let out = meltline(&[
        "release",
        &job,
        "--key",
        &key,
        "--signer",
        "Dr. A. Quality",
        "--meaning",
        "released for manufacturing",
        "-o",
        &released,
    ]);
    assert!(out.status.success(), "{}", text(&out));

    let out = meltline(&["inspect", &released, "--trust", &public]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("signed by Dr. A. Quality"), "{shown}");
    assert!(shown.contains("released for manufacturing"), "{shown}");
    assert!(shown.contains("valid, by a trusted key"), "{shown}");
    assert!(shown.contains("matches the job"), "{shown}");

    // The signer's name changed in the file (same length, CRC recomputed by re-framing).
    let bytes = std::fs::read(&released).unwrap();
    let forged = reframe_replacing(&bytes, b"Dr. A. Quality", b"Dr. B. Quality");
    let forged_path = d.join("forged.mlj");
    std::fs::write(&forged_path, forged).unwrap();
    let out = meltline(&[
        "inspect",
        &forged_path.display().to_string(),
        "--trust",
        &public,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("INVALID"), "{}", text(&out));

    // Another key pair: the signature is not by a trusted key.
    let other = d.join("other").display().to_string();
    assert!(meltline(&["keygen", "--out", &other]).status.success());
    let out = meltline(&["inspect", &released, "--trust", &format!("{other}.pub")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn a_link_key_is_owner_only_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().join("printer").display().to_string();
    assert!(
        meltline(&["keygen", "--link", "--out", &name])
            .status
            .success()
    );
    let again = meltline(&["keygen", "--link", "--out", &name]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(format!("{name}.link"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// Re-frames every frame of `job` with `from` replaced by `to` in its body.
fn reframe_replacing(job: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    use meltline_firmware::wire::{MAX_FRAME, seal_body, unstuff_frame};
    let mut out = Vec::new();
    for frame in job.split_inclusive(|&b| b == 0) {
        let mut raw = frame[..frame.len() - 1].to_vec();
        let mut body = unstuff_frame(&mut raw).unwrap().to_vec();
        if let Some(i) = body.windows(from.len()).position(|w| w == from) {
            body[i..i + from.len()].copy_from_slice(to);
        }
        let mut buf = [0u8; MAX_FRAME];
        let n = seal_body(&body, &mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    out
}
