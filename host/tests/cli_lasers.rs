//! `meltline lasers` and the lasers of `meltline inspect --json`: a plate job planned on the
//! built-in two- and four-laser machines.

use std::path::Path;
use std::process::{Command, Output};

fn meltline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(args)
        .output()
        .expect("running meltline")
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `meltline lasers JOB --machine M --laser-assignment A --json`, parsed.
fn plan_json(job: &str, machine: &str, assignment: &str) -> serde_json::Value {
    json(&meltline(&[
        "lasers",
        job,
        "--machine",
        machine,
        "--laser-assignment",
        assignment,
        "--json",
    ]))
}

/// Four coupons, one in each quarter of the plate, and one on its centre (inside every
/// overlap); `extra` more plate-file text.
fn five_coupon_plate(dir: &Path, extra: &str) -> String {
    let mut text = String::from("[plate]\nplacement = \"manual\"\nsupports = false\n");
    for (id, x, y) in [
        ("Q-A", -60.0, -60.0),
        ("Q-B", 60.0, -60.0),
        ("Q-C", -60.0, 60.0),
        ("Q-D", 60.0, 60.0),
        ("Q-X", 0.0, 0.0),
    ] {
        text += &format!(
            "[[part]]\nid = \"{id}\"\ncoupon_mm = [10.0, 10.0, 1.0]\nat_mm = [{x}, {y}]\n"
        );
    }
    text += extra;
    let plate = dir.join("plate.toml");
    std::fs::write(&plate, text).unwrap();
    let job = dir.join("plate.mlj").display().to_string();
    let o = meltline(&["plate", &plate.display().to_string(), "-o", &job]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    job
}

/// The vectors of each laser in an `inspect --json` or a simulation report.
fn laser_vectors(v: &serde_json::Value) -> Vec<u64> {
    v["lasers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["vectors"].as_u64().unwrap())
        .collect()
}

/// Simulates `job` on the four-laser machine, which must verify it; returns each laser's
/// marked vectors.
fn simulate_4x(job: &str, dir: &Path) -> Vec<u64> {
    laser_vectors(&run_4x(job, dir))
}

/// The controller's part of the run report of `job` on the four-laser machine, which must
/// verify it.
fn run_4x(job: &str, dir: &Path) -> serde_json::Value {
    let report = dir.join("run.json");
    let o = meltline(&[
        "simulate",
        job,
        "--machine",
        "meltline-sim-250-4x",
        "--report",
        report.to_str().unwrap(),
    ]);
    let log = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && log.contains("VERIFIED"), "{log}");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    run["controller"].clone()
}

#[test]
fn lasers_writes_the_job_with_every_block_on_its_laser_and_the_printer_runs_it() {
    let d = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "[plate]\nplacement = \"manual\"\nsupports = false\nmachine = \"meltline-sim-250-4x\"\nlaser_assignment = \"by-part\"\n",
    );
    for (id, x, y) in [
        ("Q-A", -60.0, -60.0),
        ("Q-D", 60.0, 60.0),
        ("Q-X", 0.0, 0.0),
    ] {
        text += &format!(
            "[[part]]\nid = \"{id}\"\ncoupon_mm = [10.0, 10.0, 1.0]\nat_mm = [{x}, {y}]\n"
        );
    }
    let plate = d.path().join("plate.toml");
    std::fs::write(&plate, text).unwrap();
    let job = d.path().join("plate.mlj").display().to_string();
    let o = meltline(&["plate", plate.to_str().unwrap(), "-o", &job]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // By part: three coupons, three lasers at work.
    let whole = run_4x(&job, d.path());
    let by_part = laser_vectors(&whole);
    assert_eq!(by_part.iter().filter(|&&n| n > 0).count(), 3, "{by_part:?}");
    // Planned again by region: the centre coupon is cut between all four lasers.
    let out = d.path().join("by-region.mlj").display().to_string();
    let o = meltline(&[
        "lasers",
        &job,
        "--machine",
        "meltline-sim-250-4x",
        "--laser-assignment",
        "by-region",
        "-o",
        &out,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let inspected = json(&meltline(&[
        "inspect",
        &out,
        "--machine",
        "meltline-sim-250-4x",
        "--json",
        "--summary",
    ]));
    assert_eq!(inspected["names_lasers"], true);
    let shares = laser_vectors(&inspected);
    assert!(shares.iter().all(|&n| n > 0), "{shares:?}");
    let cut = run_4x(&out, d.path());
    assert_eq!(laser_vectors(&cut), shares);
    // Stitched at the seams, the centre coupon is covered as when one laser marks it whole,
    // and spills no more than the overlap adds.
    for (a, b) in whole["parts"]
        .as_array()
        .unwrap()
        .iter()
        .zip(cut["parts"].as_array().unwrap())
    {
        let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
        assert!(
            (f(a, "coverage_pct") - f(b, "coverage_pct")).abs() < 0.2
                && f(b, "spill_pct") < f(a, "spill_pct") + 0.5,
            "whole {a} cut {b}"
        );
    }
    // Only the overlap at the seams is exposed twice: each layer's shared area is at most a
    // thin band along the seams where they cross the centre coupon (by part, no part has two
    // lasers).
    let mut shared_total = 0.0;
    for (a, b) in whole["layers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(cut["layers"].as_array().unwrap())
    {
        assert!(a.get("shared_pct").is_none(), "{a}");
        let shared = b["shared_pct"].as_f64().unwrap();
        assert!(
            (0.0..2.0).contains(&shared),
            "layer {}: {shared} %",
            b["layer"]
        );
        shared_total += shared;
    }
    assert!(shared_total > 0.0, "the seams cross the centre coupon");
    // The cut vectors are more than the whole ones, never fewer.
    assert!(shares.iter().sum::<u64>() > by_part.iter().sum::<u64>());
    // A job made for another machine is refused by name and nothing is written.
    let one = five_coupon_plate(d.path(), "");
    let refused = d.path().join("refused.mlj");
    let o = meltline(&[
        "lasers",
        &one,
        "--machine",
        "meltline-sim-250-4x",
        "-o",
        refused.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("is for meltline-sim-250, not meltline-sim-250-4x"),
        "{e}"
    );
    assert!(!refused.exists());
}

#[test]
fn inspect_lists_the_one_laser_of_a_job_with_its_exposure_time() {
    let d = tempfile::tempdir().unwrap();
    let job = five_coupon_plate(d.path(), "");
    let v = json(&meltline(&["inspect", &job, "--json", "--summary"]));
    let lasers = v["lasers"].as_array().unwrap();
    assert_eq!(lasers.len(), 1);
    assert_eq!(lasers[0]["vectors"], v["vectors"]);
    let exposure = v["exposure_s"].as_f64().unwrap();
    assert_eq!(lasers[0]["exposure_s"].as_f64().unwrap(), exposure);
    // The estimate adds recoating (8.5 s a layer on the built-in machine) to the exposure.
    let layers = v["layers"].as_f64().unwrap();
    let est = v["est_time_s"].as_f64().unwrap();
    assert!(
        (est - exposure - 8.5 * layers).abs() < 1e-6,
        "estimate {est}, exposure {exposure}, {layers} layers"
    );
}

#[test]
fn four_lasers_by_region_share_every_layer_evenly_with_seams_that_move() {
    let d = tempfile::tempdir().unwrap();
    let job = five_coupon_plate(d.path(), "");
    let v = plan_json(&job, "meltline-sim-250-4x", "by-region");
    assert_eq!(v["assignment"], "by-region");
    let lasers = v["lasers"].as_array().unwrap();
    assert_eq!(lasers.len(), 4);
    assert!(lasers.iter().all(|l| l["vectors"].as_u64().unwrap() > 0));
    let (four, one) = (
        v["exposure_s"].as_f64().unwrap(),
        v["single_laser_exposure_s"].as_f64().unwrap(),
    );
    assert!(four <= 0.40 * one, "four lasers {four} s, one {one} s");
    let worst = v["worst_balance"].as_f64().unwrap();
    assert!(worst <= 1.10, "worst layer balance {worst}");
    let seams: Vec<Vec<f64>> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["seams_mm"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_f64().unwrap())
                .collect()
        })
        .collect();
    // Each seam moves at least 0.5 mm from one layer to the next.
    for w in seams.windows(2) {
        assert_eq!(w[0].len(), 3, "a row seam and a column seam per row");
        for (a, b) in w[0].iter().zip(&w[1]) {
            assert!(
                a.abs() < 25.0 && (a - b).abs() >= 0.5 - 1e-6,
                "seams {:?} then {:?}",
                w[0],
                w[1]
            );
        }
    }
    // The same plan twice is the same plan.
    let again = plan_json(&job, "meltline-sim-250-4x", "by-region");
    assert_eq!(v, again);
}

#[test]
fn by_part_gives_each_quarter_its_own_laser_and_refuses_a_part_no_field_holds() {
    let d = tempfile::tempdir().unwrap();
    let job = five_coupon_plate(d.path(), "");
    let v = plan_json(&job, "meltline-sim-250-4x", "by-part");
    let chosen: Vec<u64> = v["part_lasers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_u64().unwrap())
        .collect();
    // Q-A front left, Q-B front right, Q-C back left, Q-D back right: only their own laser
    // reaches them; the centre coupon goes to one of the four.
    assert_eq!(&chosen[..4], &[0, 1, 2, 3]);
    assert!(chosen[4] < 4);
    let two = plan_json(&job, "meltline-sim-250-2x", "by-part");
    assert_eq!(two["lasers"].as_array().unwrap().len(), 2);

    let d = tempfile::tempdir().unwrap();
    let wide = five_coupon_plate(
        d.path(),
        "[[part]]\nid = \"WIDE\"\ncoupon_mm = [60.0, 20.0, 1.0]\nat_mm = [0.0, 90.0]\n",
    );
    let o = meltline(&[
        "lasers",
        &wide,
        "--machine",
        "meltline-sim-250-4x",
        "--laser-assignment",
        "by-part",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("part WIDE: no laser's field holds its footprint"),
        "{e}"
    );
    // By region, the seams split it between the two lasers that reach it.
    let v = plan_json(&wide, "meltline-sim-250-4x", "by-region");
    assert_eq!(v["lasers"].as_array().unwrap().len(), 4);
}

#[test]
fn an_overlap_out_of_range_or_an_unknown_machine_is_refused_by_name() {
    let d = tempfile::tempdir().unwrap();
    let job = five_coupon_plate(d.path(), "");
    let o = meltline(&["lasers", &job, "--overlap-mm", "0.05"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("laser overlap 0.05 mm is outside 0.1–0.5 mm")
    );
    let o = meltline(&["lasers", &job, "--machine", "meltline-sim-999"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("meltline-sim-999"));
}

#[test]
fn slice_on_a_four_laser_machine_prints_the_plan_of_the_job_it_wrote() {
    use meltline_core::io::{StlFormat, write_stl};
    use meltline_core::mesh::Mesh;
    let d = tempfile::tempdir().unwrap();
    let mesh = d.path().join("block.stl");
    // 40 × 40 mm about the plate's centre: every laser's field reaches part of it.
    let block = Mesh::axis_aligned_box([0.0; 3], [40.0, 40.0, 0.3]);
    write_stl(&mesh, &block, StlFormat::Binary).unwrap();
    let job = d.path().join("block.mlj");
    let slice = |machine: &str, assignment: &[&str]| {
        let mut args = vec![
            "slice",
            mesh.to_str().unwrap(),
            "-o",
            job.to_str().unwrap(),
            "--machine",
            machine,
        ];
        args.extend_from_slice(assignment);
        let out = meltline(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let log = slice("meltline-sim-250-4x", &["--laser-assignment", "by-region"]);
    assert!(log.contains("planned on 4 lasers (ByRegion)"), "{log}");
    // The job written carries the plan and the four-laser printer runs it.
    let job_s = job.to_str().unwrap();
    let shares = laser_vectors(&json(&meltline(&[
        "inspect",
        job_s,
        "--machine",
        "meltline-sim-250-4x",
        "--json",
        "--summary",
    ])));
    assert!(
        shares.len() == 4 && shares.iter().all(|&n| n > 0),
        "{shares:?}"
    );
    assert_eq!(simulate_4x(job_s, d.path()), shares);
    let ratio: f64 = log
        .split("on one laser (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("{log}"));
    assert!(ratio < 0.4, "{ratio}: {log}");
    // By part, the one part goes to one laser: no gain.
    let log = slice("meltline-sim-250-4x", &["--laser-assignment", "by-part"]);
    assert!(log.contains("(1.000)"), "{log}");
    let log = slice("meltline-sim-250", &["--laser-assignment", "by-part"]);
    assert!(log.contains("has one laser"), "{log}");
    assert!(!log.contains("planned on"), "{log}");
}

#[test]
fn lasers_marking_at_once_keep_the_plume_distance_when_their_parts_beside_the_seam_could_not() {
    // Two coupons 14 mm apart either side of the two-laser seam (one per laser, by part) and
    // one far out on each side. In the job's order both lasers would start beside the seam
    // at once; the plan has one of them start far out instead.
    let d = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "[plate]\nplacement = \"manual\"\nsupports = false\nmachine = \"meltline-sim-250-2x\"\n",
    );
    for (id, x) in [
        ("S-A", -12.0),
        ("S-B", 12.0),
        ("S-C", -100.0),
        ("S-D", 100.0),
    ] {
        text += &format!(
            "[[part]]\nid = \"{id}\"\ncoupon_mm = [10.0, 10.0, 0.6]\nat_mm = [{x}, 0.0]\n"
        );
    }
    let plate = d.path().join("plate.toml");
    std::fs::write(&plate, text).unwrap();
    let job = d.path().join("plate.mlj").display().to_string();
    let o = meltline(&["plate", &plate.display().to_string(), "-o", &job]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = plan_json(&job, "meltline-sim-250-2x", "by-part");
    let chosen: Vec<u64> = v["part_lasers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_u64().unwrap())
        .collect();
    assert!(
        chosen[0] != chosen[1] && chosen[2] != chosen[3],
        "one seam coupon and one far coupon per laser: {v}"
    );
    let plume = &v["plume"];
    assert_eq!(plume["distance_mm"], 20.0);
    let text = meltline(&["lasers", &job, "--machine", "meltline-sim-250-2x"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("lasers marking at once: least ") && text.contains("(rule 20 mm)"),
        "{text}"
    );
    let f = |k: &str| plume[k].as_f64().unwrap();
    // In the job's order the two seam coupons are exposed together, 14 mm apart.
    assert!(f("job_order_min_distance_mm") < 15.0, "{plume}");
    let exposure = v["exposure_s"].as_f64().unwrap();
    assert!(f("job_order_conflict_s") > 0.02 * exposure, "{plume}");
    // Ordered, they are exposed while the other laser is far out, but for the odd moment
    // when one laser's far coupon ends before the other's seam coupon does.
    assert!(
        f("conflict_s") < 0.05 * f("job_order_conflict_s"),
        "{plume}"
    );
    // Each part's vectors are all on its one laser.
    let per_part = v["part_vectors"].as_array().unwrap();
    for (p, row) in per_part.iter().enumerate() {
        let row: Vec<u64> = row
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect();
        let l = chosen[p] as usize;
        assert!(row[l] > 0 && row[1 - l] == 0, "part {p}: {row:?}");
    }
}
