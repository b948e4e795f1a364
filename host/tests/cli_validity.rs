//! VERIFIED means buildable: what the printer would refuse, `meltline slice` refuses before
//! writing anything; no command panics on a closed or full standard output; outputs never
//! destroy anything. Each test is one of the reproductions that once passed on main.

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use meltline_core::io::{StlFormat, write_stl};
use meltline_core::mesh::Mesh;
use meltline_test_support::corpus_file;

fn meltline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(args)
        .output()
        .expect("meltline runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A `w × d × h` mm box written as binary STL in `dir`.
fn box_stl(dir: &Path, name: &str, size: [f64; 3]) -> PathBuf {
    let path = dir.join(name);
    let mesh = Mesh::axis_aligned_box([0.0; 3], size);
    write_stl(&path, &mesh, StlFormat::Binary).expect("writes the STL");
    path
}

fn corpus(rel: &str) -> Option<PathBuf> {
    corpus_file(rel).filter(|p| p.exists())
}

/// Asserts a refusal: exit 2, the message contains every `needle`, and nothing was written.
fn assert_refused(o: &Output, needles: &[&str], not_written: &Path) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    for n in needles {
        assert!(e.contains(n), "expected {n:?} in: {e}");
    }
    assert!(!e.contains("panicked"), "{e}");
    assert!(
        !not_written.exists(),
        "{} was written",
        not_written.display()
    );
}

#[test]
fn a_job_taller_than_the_machine_is_refused_before_anything_is_written() {
    let Some(block) = corpus("parts/BlockWithHole.stl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tall.mlj");
    let o = meltline(&[
        "slice",
        s(&block),
        "-o",
        s(&out),
        "--supports",
        "--lift",
        "400",
    ]);
    assert_refused(&o, &["401.010 mm tall", "at most 325.000 mm"], &out);
}

#[test]
fn a_lifted_part_stands_on_supports_under_its_whole_underside() {
    let Some(block) = corpus("parts/BlockWithHole.stl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lifted.mlj");
    let o = meltline(&[
        "slice",
        s(&block),
        "-o",
        s(&out),
        "--supports",
        "--lift",
        "3",
    ]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert!(e.contains("1 regions (0.807 mm²) supported"), "{e}");
    assert!(e.contains("0 (0.000 mm²) unsupported"), "{e}");
    let words: Vec<&str> = e.split_whitespace().collect();
    let support = words
        .windows(2)
        .find(|w| w[1] == "support")
        .and_then(|w| w[0].parse::<usize>().ok())
        .expect("support vector count printed");
    assert!(support > 0, "{e}");
}

#[test]
fn a_part_whose_underside_no_support_wall_reaches_is_refused_unless_allowed() {
    // A 0.15 mm thin fin lifted 2 mm: inside the walls' 0.1 mm xy offset nothing is left of
    // its underside, so no support wall can stand under it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("post.stl");
    let post = Mesh::axis_aligned_box([0.0, 0.0, 0.0], [0.15, 3.0, 1.2]);
    write_stl(&path, &post, StlFormat::Binary).unwrap();
    let out = dir.path().join("post.mlj");
    let args = [
        "slice",
        s(&path),
        "-o",
        s(&out),
        "--supports",
        "--lift",
        "2",
        "--keep-xy",
    ];
    let o = meltline(&args);
    assert_refused(
        &o,
        &[
            "cannot be supported",
            "at z 2.000 mm",
            "no area left inside",
        ],
        &out,
    );
    let mut allowed = args.to_vec();
    allowed.push("--allow-unsupported");
    let o = meltline(&allowed);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("left unsupported"), "{}", stderr(&o));
    assert!(out.exists());
}

#[test]
fn a_ten_watt_profile_is_refused_by_the_slicer_as_the_printer_would() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = box_stl(dir.path(), "box.stl", [5.0, 5.0, 1.0]);
    let profile = dir.path().join("weak.toml");
    std::fs::write(&profile, "[core]\npower_w = 10.0\n").unwrap();
    let out = dir.path().join("weak.mlj");
    let o = meltline(&["slice", s(&mesh), "-o", s(&out), "--profile", s(&profile)]);
    assert_refused(&o, &["parameter set core", "10 W", "minimum 20 W"], &out);
}

#[test]
fn a_fifty_mm_hatch_is_refused_for_its_energy_density() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = box_stl(dir.path(), "box.stl", [5.0, 5.0, 1.0]);
    let out = dir.path().join("h.mlj");
    let o = meltline(&["slice", s(&mesh), "-o", s(&out), "--hatch", "50"]);
    assert_refused(&o, &["energy density", "J/mm³"], &out);
}

#[test]
fn a_vertebra_in_metres_read_as_millimetres_is_refused_naming_the_units_that_fit() {
    let Some(v) = corpus("vertebrae/L3_Schrumpfverpacken.obj") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v.mlj");
    let o = meltline(&["slice", s(&v), "-o", s(&out)]);
    assert_refused(
        &o,
        &["smaller than the least part size", "--units m "],
        &out,
    );
    let o = meltline(&["check", s(&v)]);
    assert_eq!(o.status.code(), Some(1), "check no longer says printable");
}

#[test]
fn an_open_surface_is_refused_naming_the_defect_and_allow_defects_overrides() {
    let Some(plane) = corpus("broken/plane.stl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.mlj");
    let o = meltline(&["slice", s(&plane), "-o", s(&out)]);
    assert_refused(&o, &["not printable", "open edges"], &out);
    // Overridden, the surface still exposes nothing: the empty job is refused too.
    let o = meltline(&["slice", s(&plane), "-o", s(&out), "--allow-defects"]);
    assert_refused(&o, &["no vectors"], &out);
}

#[test]
fn a_beam_offset_that_swallows_the_part_is_refused_as_an_empty_job() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = box_stl(dir.path(), "box.stl", [4.0, 4.0, 0.3]);
    let out = dir.path().join("bo.mlj");
    let o = meltline(&["slice", s(&mesh), "-o", s(&out), "--beam-offset=5"]);
    assert_refused(&o, &["no vectors to expose", "10 layers"], &out);
}

#[test]
fn more_unexposable_thin_area_than_the_limit_is_refused_with_the_worst_layers() {
    // A 20 mm plate with a 3 mm post beside it, beam offset 2 mm: the post is thinner than a
    // 4 mm track in every direction and vanishes (9 of 409 mm², 2.2 % > 0.5 %).
    let dir = tempfile::tempdir().unwrap();
    let mut mesh = Mesh::axis_aligned_box([0.0; 3], [20.0, 20.0, 0.3]);
    mesh.append(&Mesh::axis_aligned_box([30.0, 0.0, 0.0], [33.0, 3.0, 0.3]));
    let path = dir.path().join("post.stl");
    write_stl(&path, &mesh, StlFormat::Binary).unwrap();
    let out = dir.path().join("post.mlj");
    let o = meltline(&[
        "slice",
        s(&path),
        "-o",
        s(&out),
        "--beam-offset=2",
        "--keep-xy",
    ]);
    assert_refused(
        &o,
        &[
            "too small to expose",
            "max_unexposed_fraction",
            "at x 31.50, y 1.50",
        ],
        &out,
    );
}

#[test]
fn thin_parts_that_cannot_be_exposed_are_reported_with_area_and_place() {
    // A 0.1 mm pin is thinner than a melt track and shorter than one: it cannot be exposed.
    let dir = tempfile::tempdir().unwrap();
    let mut mesh = Mesh::axis_aligned_box([0.0; 3], [6.0, 6.0, 0.3]);
    let pin = Mesh::axis_aligned_box([8.0, 0.0, 0.0], [8.09, 0.09, 0.3]);
    mesh.append(&pin);
    let path = dir.path().join("pin.stl");
    write_stl(&path, &mesh, StlFormat::Binary).unwrap();
    let stats = dir.path().join("stats.json");
    let out = dir.path().join("pin.mlj");
    let o = meltline(&[
        "slice",
        s(&path),
        "-o",
        s(&out),
        "--stats",
        s(&stats),
        "--keep-xy",
    ]);
    let e = stderr(&o);
    // 0.0081 of 36.0081 mm² per layer = 0.022 % < 0.5 %: written, with a warning.
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert!(e.contains("thin parts too small to expose"), "{e}");
    assert!(e.contains("at x 8.0"), "{e}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    let worst = &json["worst_unexposed"][0];
    assert!(worst["area_mm2"].as_f64().unwrap() > 0.005, "{worst}");
    assert!((worst["at_mm"][0].as_f64().unwrap() - 8.045).abs() < 0.01);
    assert!(json["totals"]["unexposed_area_mm2"].as_f64().unwrap() > 0.05);
}

#[test]
fn preview_sizes_are_bounded_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = box_stl(dir.path(), "box.stl", [4.0, 4.0, 0.3]);
    let job = dir.path().join("box.mlj");
    assert!(
        meltline(&["slice", s(&mesh), "-o", s(&job)])
            .status
            .success()
    );
    for size in ["100000", "0"] {
        let png = dir.path().join("p.png");
        let o = meltline(&[
            "preview",
            s(&job),
            "--layer",
            "3",
            "-o",
            s(&png),
            "--size",
            size,
        ]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "--size {size}: {e}");
        assert!(e.contains("--size") && e.contains("16..=8192"), "{e}");
        assert!(!png.exists());
    }
}

#[test]
fn a_device_output_is_refused_and_the_device_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = box_stl(dir.path(), "box.stl", [4.0, 4.0, 0.3]);
    let o = meltline(&["slice", s(&mesh), "-o", "/dev/null"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("cannot write /dev/null"), "{e}");
    assert!(e.contains("character device"), "{e}");
    assert_eq!(
        e.matches("/dev/null").count(),
        1,
        "the path is named once: {e}"
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn a_symlinked_output_is_written_through_to_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = box_stl(dir.path(), "box.stl", [4.0, 4.0, 0.3]);
    let target = dir.path().join("real.mlj");
    let link = dir.path().join("link.mlj");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = meltline(&["slice", s(&mesh), "-o", s(&link)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(std::fs::metadata(&target).unwrap().len() > 0);
}

#[test]
fn a_missing_output_folder_is_found_before_slicing() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = box_stl(dir.path(), "box.stl", [4.0, 4.0, 0.3]);
    let out = dir.path().join("no/such/folder/job.mlj");
    let o = meltline(&["slice", s(&mesh), "-o", s(&out)]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("does not exist"), "{e}");
    assert!(!e.contains("layers"), "failed before slicing: {e}");
    assert!(!e.contains(".meltline-"), "no temporary name: {e}");
}

#[test]
fn a_coarse_design_mesh_says_it_is_not_the_cage_and_records_its_edge_length() {
    let dir = tempfile::tempdir().unwrap();
    let stl = dir.path().join("e.stl");
    let report = dir.path().join("e.json");
    let o = meltline(&[
        "design",
        "default",
        "-o",
        s(&stl),
        "--edge-length",
        "5",
        "--report",
        s(&report),
    ]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("is not the designed cage"), "{e}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["edge_length_mm"].as_f64(), Some(5.0));
    let spec = json["spec_as_meshed"].as_str().unwrap();
    assert!(spec.contains("edge_length_mm = 5.0"), "{spec}");
}

/// Runs `args` with standard output (and, if asked, standard error) closed before the command
/// writes anything; returns the exit code.
fn with_closed_output(args: &[&str], close_stderr: bool) -> (Option<i32>, String) {
    // With stderr kept, it goes to a file so that a failure shows what the command said.
    let mut log = tempfile::tempfile().expect("a log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(if close_stderr {
            Stdio::piped()
        } else {
            Stdio::from(log.try_clone().expect("log file handle"))
        })
        .spawn()
        .expect("meltline starts");
    drop(child.stdout.take());
    drop(child.stderr.take());
    let code = child.wait().expect("meltline ends").code();
    let mut said = String::new();
    let _ = log.seek(std::io::SeekFrom::Start(0));
    let _ = log.read_to_string(&mut said);
    (code, said)
}

#[test]
// One scenario per subcommand, each a few lines: read top to bottom as a table.
#[allow(clippy::too_many_lines)]
fn every_subcommand_survives_a_closed_stdout_and_keeps_its_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n);
    let mesh = box_stl(dir.path(), "box.stl", [4.0, 4.0, 0.3]);
    let job = d("box.mlj");
    assert_eq!(
        with_closed_output(&["slice", s(&mesh), "-o", s(&job)], true).0,
        Some(0)
    );
    assert!(
        job.exists(),
        "slice kept its job with stdout and stderr closed"
    );
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/nominal.toml");
    let cases: Vec<(Vec<String>, Option<i32>, Option<PathBuf>)> = vec![
        (vec!["check".into(), s(&mesh).into()], Some(0), None),
        (
            vec![
                "repair".into(),
                s(&mesh).into(),
                "-o".into(),
                s(&d("r.stl")).into(),
            ],
            Some(0),
            Some(d("r.stl")),
        ),
        (vec!["inspect".into(), s(&job).into()], Some(0), None),
        (
            vec!["inspect".into(), s(&job).into(), "--json".into()],
            Some(0),
            None,
        ),
        (
            vec![
                "simulate".into(),
                s(&job).into(),
                "--report".into(),
                s(&d("sim.json")).into(),
            ],
            Some(0),
            Some(d("sim.json")),
        ),
        (
            vec![
                "preview".into(),
                s(&job).into(),
                "--layer".into(),
                "2".into(),
                "-o".into(),
                s(&d("p.svg")).into(),
            ],
            Some(0),
            Some(d("p.svg")),
        ),
        (
            vec![
                "design".into(),
                "default".into(),
                "-o".into(),
                s(&d("c.stl")).into(),
                "--edge-length".into(),
                "0.6".into(),
            ],
            Some(0),
            Some(d("c.stl")),
        ),
        (
            vec!["scenario".into(), "run".into(), s(&scenario).into()],
            Some(0),
            None,
        ),
        // Nothing listens on port 1: a clear error, not a panic.
        (
            vec![
                "stream".into(),
                s(&job).into(),
                "--to".into(),
                "127.0.0.1:1".into(),
                "--reconnect-for".into(),
                "0.2".into(),
            ],
            Some(2),
            None,
        ),
        (vec!["--help".into()], Some(0), None),
        (vec!["profile".into(), "show".into()], Some(0), None),
        (
            vec![
                "export".into(),
                s(&job).into(),
                "-o".into(),
                s(&d("box.3mf")).into(),
            ],
            Some(0),
            Some(d("box.3mf")),
        ),
        (
            vec!["keygen".into(), "--out".into(), s(&d("alice")).into()],
            Some(0),
            Some(d("alice.key")),
        ),
        (
            vec![
                "release".into(),
                s(&job).into(),
                "--key".into(),
                s(&d("alice.key")).into(),
                "--signer".into(),
                "A. Engineer".into(),
                "-o".into(),
                s(&d("released.mlj")).into(),
            ],
            Some(0),
            Some(d("released.mlj")),
        ),
        (
            vec![
                "demo".into(),
                "--single".into(),
                "--out".into(),
                s(&d("demo")).into(),
                "--edge-length".into(),
                "1".into(),
            ],
            Some(0),
            Some(d("demo/report.html")),
        ),
        // An address that cannot be bound: a clear error, not a panic.
        (
            vec![
                "link-proxy".into(),
                "--listen".into(),
                "256.0.0.1:1".into(),
                "--to".into(),
                "127.0.0.1:1".into(),
            ],
            Some(2),
            None,
        ),
        (vec!["completions".into(), "bash".into()], Some(0), None),
        (vec!["man".into()], Some(0), None),
    ];
    for (args, code, written) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (got, said) = with_closed_output(&a, false);
        assert_eq!(got, code, "{args:?}; it said:\n{said}");
        if let Some(w) = written {
            assert!(w.exists(), "{args:?} kept {}", w.display());
        }
    }
}

#[test]
fn a_full_stdout_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = box_stl(dir.path(), "box.stl", [4.0, 4.0, 0.3]);
    let full = std::fs::File::options()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(["check", s(&mesh)])
        .stdout(full)
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("writing standard output"), "{e}");
    assert!(!e.contains("panicked"), "{e}");
}
