//! Round trips through the standard formats: 3MF and OVF are lossless at the job quantum
//! (same job hash, same `.mlj` bytes), CLI keeps every vertex, and a converted job is verified
//! by the controller like any other.

mod formats_common;

use formats_common::{document, lifted_block, small_block, verified, write};
use meltline_host::formats::export::ExportOptions;
use meltline_host::formats::{ReadOptions, load_verified};
use meltline_host::mlj::write_mlj;
use meltline_host::session::{SimulateOptions, simulate};
use meltline_slicer::job::{BuildJob, Geometry, VectorKind};

fn through(ext: &str) {
    let dir = tempfile::tempdir().unwrap();
    let job = lifted_block();
    let kinds: std::collections::BTreeSet<VectorKind> = job
        .layers
        .iter()
        .flat_map(|l| l.blocks.iter().map(|b| b.kind))
        .collect();
    assert!(kinds.contains(&VectorKind::Support) && kinds.contains(&VectorKind::Contour));
    let mlj = dir.path().join("job.mlj");
    let summary = write_mlj(&job, &mlj).unwrap();
    let (from_mlj, _) = verified(&mlj);
    let opts = ExportOptions::default();
    let out = write(&from_mlj, dir.path(), &format!("job.{ext}"), &opts);
    let (back, file) = verified(&out);
    assert_eq!(file.job_sha256, summary.job_sha256, "job hash after .{ext}");
    let again = write(&back, dir.path(), "again.mlj", &opts);
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&mlj).unwrap(),
        ".mlj → .{ext} → .mlj changes the file"
    );
}

#[test]
fn mlj_to_3mf_to_mlj_gives_the_same_job_hash_and_bytes() {
    through("3mf");
}

#[test]
fn mlj_to_ovf_to_mlj_gives_the_same_job_hash_and_bytes() {
    through("ovf");
}

#[test]
fn a_sliced_job_exported_directly_keeps_its_job_hash_in_3mf_and_ovf() {
    let dir = tempfile::tempdir().unwrap();
    let job = lifted_block();
    let summary = write_mlj(&job, &dir.path().join("job.mlj")).unwrap();
    let doc = document(job);
    for ext in ["3mf", "ovf"] {
        let out = write(
            &doc,
            dir.path(),
            &format!("job.{ext}"),
            &ExportOptions::default(),
        );
        assert_eq!(verified(&out).1.job_sha256, summary.job_sha256, ".{ext}");
    }
}

fn vertices(job: &BuildJob) -> Vec<Vec<[i32; 2]>> {
    job.layers
        .iter()
        .map(|l| {
            l.blocks
                .iter()
                .flat_map(|b| match &b.geometry {
                    Geometry::Polyline(p) => p.clone(),
                    Geometry::Vectors(v) => v.iter().flat_map(|s| [s[0], s[1]]).collect(),
                })
                .collect()
        })
        .collect()
}

#[test]
fn cli_round_trips_ascii_and_binary_keep_every_vertex_at_the_quantum() {
    let dir = tempfile::tempdir().unwrap();
    let job = lifted_block();
    let want = vertices(&job);
    let doc = document(job);
    for binary in [false, true] {
        let opts = ExportOptions {
            cli_binary: binary,
            ..ExportOptions::default()
        };
        let out = write(&doc, dir.path(), &format!("job{binary}.cli"), &opts);
        let (back, _) = verified(&out);
        assert_eq!(back.job.header.quantum_mm, doc.job.header.quantum_mm);
        assert_eq!(vertices(&back.job), want, "binary: {binary}");
        assert!(
            back.notes.iter().any(|n| n.contains("no laser parameters")),
            "the conversion says where the parameters came from: {:?}",
            back.notes
        );
    }
}

#[test]
fn a_3mf_and_an_ovf_job_are_executed_and_verified_by_the_simulated_controller() {
    let dir = tempfile::tempdir().unwrap();
    let doc = document(small_block());
    for ext in ["3mf", "ovf"] {
        let out = write(
            &doc,
            dir.path(),
            &format!("job.{ext}"),
            &ExportOptions::default(),
        );
        simulate_verifies(&out);
    }
}

fn simulate_verifies(out: &std::path::Path) {
    let opts = SimulateOptions {
        machine: Default::default(),
        stream: Default::default(),
        exposure: false,
        exposure_dir: None,
    };
    let loaded = load_verified(out, &opts.machine, &ReadOptions::default()).unwrap();
    let report = simulate(&loaded.job, &opts, &mut |_| {}).unwrap();
    assert!(report.verified(), "{}", report.summary());
}

#[test]
fn exporting_the_same_job_twice_gives_identical_bytes_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let doc = document(lifted_block());
    for ext in ["3mf", "ovf", "cli"] {
        let a = write(
            &doc,
            dir.path(),
            &format!("a.{ext}"),
            &ExportOptions::default(),
        );
        let b = write(
            &doc,
            dir.path(),
            &format!("b.{ext}"),
            &ExportOptions::default(),
        );
        assert_eq!(
            std::fs::read(a).unwrap(),
            std::fs::read(b).unwrap(),
            ".{ext}"
        );
    }
}

#[test]
fn a_failed_export_leaves_the_previous_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = document(lifted_block());
    // A block whose parameter set the header does not declare cannot become a 3MF profile.
    doc.job.layers[0].blocks[0].parameter_set = 99;
    let path = dir.path().join("job.3mf");
    std::fs::write(&path, b"previous").unwrap();
    let err = meltline_host::formats::export::export_document(&doc, &path, &Default::default())
        .unwrap_err();
    assert!(err.to_string().contains("parameter set 99"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"previous");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}
