//! The controller's end-to-end suite: every scenario of `scenarios/` passes; every kind of
//! expectation fails when the outcome differs from it; runs are deterministic; the CLI exits
//! non-zero on a failure and writes valid JUnit XML.

use std::path::{Path, PathBuf};

use meltline_host::scenario::{Scenario, ScenarioOutcome, check, run_file, table};

fn library() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// Writes `text` as a scenario file in a fresh folder and runs it.
fn run_text(text: &str) -> (Scenario, ScenarioOutcome) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.toml");
    std::fs::write(&path, text).unwrap();
    let s = Scenario::read(&path).unwrap();
    let r = meltline_host::scenario::run::run(&s).unwrap();
    (s, r.outcome)
}

/// A scenario text with a 10-layer block, `events` and `expect` appended.
fn block(events: &str, expect: &str) -> String {
    format!("[job]\nbox_mm = [5.0, 3.0, 0.3]\n{events}\n[expect]\n{expect}\n")
}

/// Asserts that the scenario fails, and only on `key`.
fn fails_only_on(text: &str, key: &str) {
    let (s, o) = run_text(text);
    let d = check(&s.expect, &o);
    let keys: Vec<&str> = d.iter().map(|d| d.expectation.as_str()).collect();
    assert_eq!(keys, vec![key], "{d:#?}");
}

#[test]
fn every_library_scenario_passes() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(library())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for required in [
        "nominal",
        "oxygen_excursion",
        "recoater_collision",
        "power_loss",
        "corrupted_frames_storm",
        "out_of_envelope",
        "wrong_material",
    ] {
        assert!(
            files
                .iter()
                .any(|f| f.file_stem().is_some_and(|s| s == required)),
            "scenarios/{required}.toml is missing"
        );
    }
    let results: Vec<_> = files.iter().map(|f| run_file(f)).collect();
    assert!(results.iter().all(|r| r.passed), "\n{}", table(&results));
}

#[test]
fn the_same_scenario_gives_the_same_outcome_on_every_run() {
    for name in [
        "corrupted_frames_storm.toml",
        "operator_pause_resume.toml",
        "power_loss.toml",
    ] {
        let s = Scenario::read(&library().join(name)).unwrap();
        let job = meltline_host::scenario::build_job(&s).unwrap();
        let a = meltline_host::scenario::run_job(&s, &job).outcome;
        let b = meltline_host::scenario::run_job(&s, &job).outcome;
        assert_eq!(a, b, "{name}");
        assert!(a.link.virtual_s > 0.0);
    }
}

#[test]
fn a_plate_resumed_after_a_power_loss_ends_with_every_parts_tally_of_the_uninterrupted_plate() {
    let run = |name: &str| {
        let s = Scenario::read(&library().join(name)).unwrap();
        let job = meltline_host::scenario::build_job(&s).unwrap();
        meltline_host::scenario::run_job(&s, &job).outcome
    };
    // The same plate and the same collision at Q-2 before layer 8, with and without a power
    // loss in layer 12.
    let lost = run("plate_power_loss.toml");
    let whole = run("plate_recoater_collision.toml");
    assert_eq!(lost.resumed_from, Some(12));
    assert_eq!(lost.parts.len(), 4);
    assert_eq!(
        lost.parts, whole.parts,
        "state, skip, vectors and part hash of every part"
    );
    assert_eq!(lost.executed_sha256, whole.executed_sha256);
    assert!(lost.parts.iter().all(|p| p.vectors_executed > 0));
}

#[test]
fn a_final_state_other_than_expected_fails() {
    fails_only_on(
        &block(
            "[[event]]\nkind = \"recoater-collision\"\nlayer = 3",
            "state = \"Done\"",
        ),
        "state",
    );
}

#[test]
fn a_fault_not_expected_or_missing_fails() {
    fails_only_on(&block("", "faults = [\"RecoaterCollision\"]"), "faults");
    fails_only_on(
        &block(
            "[[event]]\nkind = \"recoater-collision\"\nlayer = 3",
            "faults = []",
        ),
        "faults",
    );
}

#[test]
fn after_a_power_loss_a_controller_without_its_record_is_not_continued_and_the_build_fails() {
    let text = block(
        "[[event]]\nkind = \"power-loss\"\nlayer = 5\nnonvolatile = false",
        "state = \"Done\"\nlayers_exposed_once = true",
    );
    let (s, o) = run_text(&text);
    let d = check(&s.expect, &o);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].expectation, "state");
    assert!(d[0].actual.contains("without a record"), "{d:?}");
    let layers: Vec<u32> = o.exposed.iter().map(|l| l.layer).collect();
    assert_eq!(layers, vec![0, 1, 2, 3, 4], "nothing exposed again");
    // With the record (the default) the same loss resumes at layer 5, each layer once, and
    // the host sends no layer before it.
    let (s, o) = run_text(&text.replace("nonvolatile = false", "nonvolatile = true"));
    assert!(check(&s.expect, &o).is_empty());
    assert_eq!(o.resumed_from, Some(5));
    assert!(o.layers_skipped.is_empty(), "{:?}", o.layers_skipped);
    assert_eq!(o.executed_sha256, o.job_sha256);
}

#[test]
fn a_resume_at_another_layer_than_expected_fails() {
    fails_only_on(
        &block(
            "[[event]]\nkind = \"power-loss\"\nlayer = 5",
            "resumed_from = 4",
        ),
        "resumed_from",
    );
}

#[test]
fn a_layer_exposed_twice_or_incompletely_fails_exposed_once() {
    let (s, o) = run_text(&block("", "layers_exposed_once = true"));
    assert!(check(&s.expect, &o).is_empty());
    let mut twice = o.clone();
    twice.exposed.insert(4, twice.exposed[3].clone());
    let d = check(&s.expect, &twice);
    assert_eq!(d.len(), 1);
    assert!(d[0].actual.contains("more than once: 3 (2×)"), "{d:?}");
    let mut partial = o.clone();
    partial.exposed[2].marks -= 1;
    assert_eq!(
        check(&s.expect, &partial)[0].expectation,
        "layers_exposed_once"
    );
    let mut short = o;
    short.exposed.pop();
    assert!(
        check(&s.expect, &short)[0]
            .actual
            .contains("Done after 9 of 10")
    );
}

#[test]
fn a_different_number_of_exposed_layers_fails() {
    fails_only_on(
        &block(
            "[[event]]\nkind = \"abort\"\nlayer = 4",
            "layers_exposed = 10",
        ),
        "layers_exposed",
    );
}

#[test]
fn a_state_never_passed_through_fails() {
    fails_only_on(
        &block("", "passes_through = [\"Printing\", \"Paused\", \"Done\"]"),
        "passes_through",
    );
}

#[test]
fn a_build_time_outside_the_range_fails() {
    fails_only_on(&block("", "build_time_s = [0, 10]"), "build_time_s");
}

#[test]
fn an_interlock_wait_outside_the_range_fails() {
    fails_only_on(&block("", "interlock_s = [30, 60]"), "interlock_s");
}

#[test]
fn coverage_below_or_spill_above_the_bound_fails() {
    fails_only_on(&block("", "coverage_pct_min = 99.9"), "coverage_pct_min");
    fails_only_on(&block("", "spill_pct_max = 0.01"), "spill_pct_max");
}

#[test]
fn an_energy_per_layer_outside_the_window_fails() {
    fails_only_on(
        &block(
            "[[event]]\nkind = \"laser-drift\"\nfrom_layer = 2\npower_pct = 80",
            "[[expect.energy]]\nlayers = [0, 6]\njoules = [24.0, 30.0]",
        ),
        "energy[0]",
    );
}

#[test]
fn an_executed_hash_differing_from_the_job_hash_fails() {
    fails_only_on(
        &block(
            "[[event]]\nkind = \"recoater-collision\"\nlayer = 3",
            "hashes_equal = true",
        ),
        "hashes_equal",
    );
}

#[test]
fn fewer_link_errors_than_expected_fails() {
    fails_only_on(&block("", "link_errors_min = 1"), "link_errors_min");
}

#[test]
fn an_event_that_never_happens_fails() {
    fails_only_on(
        &block(
            "[[event]]\nkind = \"link-fault\"\nframe = 100000\nfault = \"drop\"",
            "state = \"Done\"",
        ),
        "timeline",
    );
}

#[test]
fn the_cli_exits_non_zero_on_a_failing_scenario_and_writes_valid_junit() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    let bad = dir.path().join("bad.toml");
    let broken = dir.path().join("broken.toml");
    std::fs::write(&good, block("", "state = \"Done\"")).unwrap();
    std::fs::write(&bad, block("", "state = \"Aborted\"\nlayers_exposed = 3")).unwrap();
    std::fs::write(
        &broken,
        "[job]\nbox_mm = [5.0, 3.0, 0.3]\nshape = \"cube\"\n",
    )
    .unwrap();
    let junit = dir.path().join("out.xml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(["scenario", "run"])
        .args([&good, &bad, &broken])
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("state: expected Aborted, got Done"),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 scenarios: 1 passed, 2 failed"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut testcases, mut failures, mut errors) = (0, 0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                let name = e.name();
                let name: &str = name.as_ref();
                match name {
                    "testcase" => testcases += 1,
                    "failure" => failures += 1,
                    "error" => errors += 1,
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!((testcases, failures, errors), (3, 1, 1), "{xml}");
    assert!(xml.contains("unknown field `shape`"), "{xml}");

    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(["scenario", "run", "--json"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(json[0]["passed"], true);
    assert_eq!(json[0]["outcome"]["state"], "Done");
}

#[test]
fn mesh_and_mlj_job_sources_resolve_against_the_scenario_file() {
    use meltline_core::io::{StlFormat, write_stl};
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("parts")).unwrap();
    let part = meltline_core::mesh::Mesh::axis_aligned_box([0.0, 0.0, 0.0], [4.0, 3.0, 0.15]);
    write_stl(
        &dir.path().join("parts/block.stl"),
        &part,
        StlFormat::Binary,
    )
    .unwrap();
    let expect = "[expect]\nstate = \"Done\"\nlayers_exposed = 5\nlayers_exposed_once = true\nhashes_equal = true\n";
    let mesh_case = dir.path().join("mesh.toml");
    std::fs::write(
        &mesh_case,
        format!("[job]\nmesh = \"parts/block.stl\"\n{expect}"),
    )
    .unwrap();
    let r = run_file(&mesh_case);
    assert!(r.passed, "{}", table(std::slice::from_ref(&r)));
    // The same job as a ready `.mlj` file.
    let s = Scenario::read(&mesh_case).unwrap();
    let job = meltline_host::scenario::build_job(&s).unwrap();
    let bytes: Vec<u8> = job.frames.concat();
    std::fs::write(dir.path().join("parts/block.mlj"), bytes).unwrap();
    let mlj_case = dir.path().join("mlj.toml");
    std::fs::write(
        &mlj_case,
        format!("[job]\nmlj = \"parts/block.mlj\"\n{expect}"),
    )
    .unwrap();
    let r = run_file(&mlj_case);
    assert!(r.passed, "{}", table(std::slice::from_ref(&r)));
    assert_eq!(
        r.outcome.unwrap().job_sha256,
        meltline_host::jobfile::hex(&job.job_sha256)
    );
}
