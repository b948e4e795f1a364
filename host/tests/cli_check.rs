//! `meltline check` and `meltline repair` as a user runs them: the built binary on the real
//! corpus, exit codes, messages, JSON fields, and files written or left alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use meltline_test_support::corpus_dir;

fn meltline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(args)
        .output()
        .expect("meltline runs")
}

fn corpus(rel: &str) -> Option<PathBuf> {
    corpus_dir().map(|d| d.join(rel)).filter(|p| p.exists())
}

fn check(path: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["check", path.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    meltline(&args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn unreadable_files_exit_2_saying_why() {
    for (rel, why) in [
        ("broken/empty_file.stl", "empty"),
        ("broken/text_file.stl", "not a mesh"),
        ("broken/random_bits.stl", "not a mesh"),
        ("broken/invalid_stl_ascii.stl", "line 2"),
        ("broken/cube_and_plane.stl", "line 91"),
    ] {
        let Some(path) = corpus(rel) else { return };
        let o = check(&path, &[]);
        assert_eq!(o.status.code(), Some(2), "{rel}");
        assert!(stderr(&o).contains(why), "{rel}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(rel.rsplit('/').next().unwrap_or(rel)),
            "names the file"
        );
    }
}

#[test]
fn broken_files_exit_1_naming_their_defects() {
    for (rel, defect) in [
        ("broken/missing_triangle.stl", "boundary_edges"),
        ("broken/cube_missing_corner.stl", "boundary_edges"),
        ("broken/inverted_face.stl", "inconsistent_edges"),
        ("broken/extra_surface.stl", "non_manifold_edges"),
        ("broken/self_overlapping_cubes.stl", "self_intersections"),
        ("broken/zero_size_cube.stl", "degenerate_triangles"),
        ("broken/plane.stl", "boundary_edges"),
        ("broken/too_large.stl", "exceeds_build_volume"),
        ("parts/bun_zipper_res3.ply", "non_manifold_edges"),
    ] {
        let Some(path) = corpus(rel) else { return };
        let o = check(&path, &[]);
        assert_eq!(o.status.code(), Some(1), "{rel}: {}", stderr(&o));
        assert!(stdout(&o).contains(defect), "{rel}: {}", stdout(&o));
        assert!(stdout(&o).contains("printable: NO"));
    }
}

#[test]
fn printable_parts_exit_0() {
    for rel in [
        "parts/NIST_Test_Artifact_ver3b.stl",
        "parts/Spiral_lattice_cone_1.stl",
        "broken/tetrahedra.stl",
    ] {
        let Some(path) = corpus(rel) else { return };
        let o = check(&path, &[]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{rel}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        assert!(stdout(&o).contains("printable: yes"));
    }
}

#[test]
fn json_report_has_the_documented_fields() {
    let Some(path) = corpus("broken/missing_triangle.stl") else {
        return;
    };
    let o = check(&path, &["--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    for field in [
        "triangles",
        "vertices",
        "shells",
        "volume_mm3",
        "area_mm2",
        "bbox_mm",
        "boundary_edges",
        "non_manifold_edges",
        "inconsistent_edges",
        "degenerate_triangles",
        "duplicate_triangles",
        "self_intersections",
        "printable",
        "inverted_shells",
        "genus",
        "defects",
        "shells_detail",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    assert_eq!(v["triangles"], 11);
    assert_eq!(v["boundary_edges"], 3);
    assert_eq!(v["printable"], false);
    assert_eq!(
        v["bbox_mm"],
        serde_json::json!([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]])
    );
    assert_eq!(v["defects"][0]["kind"], "boundary_edges");
    assert_eq!(v["defects"][0]["count"], 3);
}

#[test]
fn metre_units_scale_to_millimetres() {
    let Some(path) = corpus("vertebrae/L3_Schrumpfverpacken.obj") else {
        return;
    };
    let o = check(&path, &["--json", "--units", "m"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let x = v["bbox_mm"][1][0].as_f64().unwrap() - v["bbox_mm"][0][0].as_f64().unwrap();
    assert!(
        x > 20.0 && x < 200.0,
        "a vertebra is tens of mm wide, got {x}"
    );
    let bad = check(&path, &["--units", "furlong"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn repair_writes_a_printable_file_for_each_fixable_defect() {
    let dir = tempfile::tempdir().expect("temp dir");
    for rel in [
        "broken/inverted_face.stl",
        "broken/missing_triangle.stl",
        "broken/missing_triangle_hi.stl",
        "broken/cube_missing_corner.stl",
    ] {
        let Some(path) = corpus(rel) else { continue };
        let out = dir.path().join("fixed.stl");
        let o = meltline(&[
            "repair",
            path.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{rel}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
        assert_eq!(v["repaired"], true);
        assert_eq!(v["report"]["after"]["printable"], true);
        let again = check(&out, &[]);
        assert_eq!(
            again.status.code(),
            Some(0),
            "{rel} repaired: {}",
            stdout(&again)
        );
    }
}

#[test]
fn repair_refuses_self_overlap_and_leaves_the_output_alone() {
    let Some(path) = corpus("broken/self_overlapping_cubes.stl") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out.stl");
    std::fs::write(&out, b"previous contents").expect("write");
    let o = meltline(&[
        "repair",
        path.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cross each other"), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing written"));
    assert_eq!(
        std::fs::read(&out).expect("still there"),
        b"previous contents"
    );
    let fresh = dir.path().join("never.stl");
    let o = meltline(&[
        "repair",
        path.to_str().unwrap(),
        "-o",
        fresh.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!fresh.exists());
}

#[test]
fn repair_of_an_unreadable_file_exits_2() {
    let Some(path) = corpus("broken/random_bits.stl") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out.stl");
    let o = meltline(&[
        "repair",
        path.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
}
