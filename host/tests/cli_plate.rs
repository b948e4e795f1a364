//! `meltline plate`: many parts on one plate, placed, sliced into one verified job with a
//! record per part; refusals write nothing.

use std::path::Path;
use std::process::{Command, Output};

use meltline_core::io::{StlFormat, write_stl};
use meltline_core::mesh::Mesh;

fn meltline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(args)
        .output()
        .expect("running meltline")
}

fn write_box(dir: &Path, name: &str, size: [f64; 3]) {
    let mesh = Mesh::axis_aligned_box([0.0; 3], size);
    write_stl(&dir.join(name), &mesh, StlFormat::Binary).unwrap();
}

fn plate(dir: &Path, text: &str) -> (String, String, String, String) {
    let plate = dir.join("plate.toml");
    std::fs::write(&plate, text).unwrap();
    let s = |p: &Path| p.display().to_string();
    (
        s(&plate),
        s(&dir.join("plate.mlj")),
        s(&dir.join("plate.json")),
        s(&dir.join("records")),
    )
}

/// Runs `meltline plate` with every output and requires success.
fn run_plate_ok(plate: &str, job: &str, report: &str, records: &str) {
    let out = meltline(&[
        "plate",
        plate,
        "-o",
        job,
        "--report",
        report,
        "--out-dir",
        records,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes a plate of three 6 × 6 × 0.6 mm coupons (`Q-1` … `Q-3`) in `dir`; returns the job's
/// and the records folder's paths.
fn three_coupon_plate(dir: &Path) -> (String, String) {
    write_box(dir, "coupon.stl", [6.0, 6.0, 0.6]);
    let (p, job, report, records) = plate(
        dir,
        "[plate]\nspacing_mm = 3.0\n[[part]]\nid = \"Q\"\nmesh = \"coupon.stl\"\ncount = 3\n",
    );
    run_plate_ok(&p, &job, &report, &records);
    (job, records)
}

#[test]
fn a_plate_of_coupons_is_placed_sliced_and_verified_with_a_record_per_part() {
    let d = tempfile::tempdir().unwrap();
    write_box(d.path(), "coupon.stl", [8.0, 8.0, 1.5]);
    write_box(d.path(), "bar.stl", [24.0, 5.0, 1.2]);
    let (p, job, report, records) = plate(
        d.path(),
        "[plate]\nspacing_mm = 3.0\n[[part]]\nid = \"Q\"\nmesh = \"coupon.stl\"\ncount = 3\n\
         [[part]]\nid = \"B-1\"\ncase = \"case-0042\"\nmesh = \"bar.stl\"\n",
    );
    run_plate_ok(&p, &job, &report, &records);
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let parts = r["parts"].as_array().unwrap();
    let ids: Vec<&str> = parts.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["Q-1", "Q-2", "Q-3", "B-1"]);
    assert_eq!(parts[3]["case"], "case-0042");
    let at: Vec<(f64, f64)> = parts
        .iter()
        .map(|p| (p["x_mm"].as_f64().unwrap(), p["y_mm"].as_f64().unwrap()))
        .collect();
    for (i, a) in at.iter().enumerate() {
        for b in &at[i + 1..] {
            assert!(a != b, "two parts at {a:?}");
        }
    }
    assert!(
        parts
            .iter()
            .all(|p| p["footprint_mm"].as_array().unwrap().len() >= 4)
    );
    for id in ids {
        let rec = Path::new(&records).join("parts").join(format!("{id}.json"));
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&rec).unwrap()).unwrap();
        assert_eq!(v["id"], id);
        assert_eq!(v["job_sha256"], r["job_sha256"]);
    }
    let inspect = meltline(&["inspect", &job, "--summary", "--json"]);
    assert!(
        inspect.status.success(),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    let i: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    let table = i["parts"].as_array().unwrap();
    let serials: Vec<&str> = table
        .iter()
        .map(|p| p["serial"].as_str().unwrap())
        .collect();
    assert_eq!(
        serials,
        ["Q-1", "Q-2", "Q-3", "B-1"],
        "the job's part table"
    );
    for (t, row) in table.iter().zip(parts) {
        assert_eq!(t["vectors"], row["vectors"], "{}", row["id"]);
        let [x, y] = [&row["x_mm"], &row["y_mm"]].map(|v| v.as_f64().unwrap());
        let b: Vec<f64> = t["footprint_mm"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert!(
            b[0] < x && x < b[2] && b[1] < y && y < b[3],
            "{b:?} around ({x}, {y})"
        );
    }
    assert_eq!(table[3]["case"], "case-0042");
}

#[test]
fn every_part_of_a_simulated_plate_is_reported_built_with_its_own_hash() {
    let d = tempfile::tempdir().unwrap();
    let (job, records) = three_coupon_plate(d.path());
    let html = d.path().join("report.html");
    let html_arg = html.display().to_string();
    let out = meltline(&[
        "simulate",
        &job,
        "--json",
        "--html",
        &html_arg,
        "--plate-records",
        &records,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        r["verdict"].as_str().unwrap().starts_with("VERIFIED"),
        "{}",
        r["verdict"]
    );
    let parts = r["parts"].as_array().unwrap();
    let ids: Vec<&str> = parts.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["Q-1", "Q-2", "Q-3"]);
    let mut hashes = std::collections::BTreeSet::new();
    let mut sum = 0;
    for p in parts {
        assert_eq!(p["state"], "Built");
        assert_eq!(p["vectors_executed"], p["vectors"]);
        sum += p["vectors_executed"].as_u64().unwrap();
        assert!(p["coverage_pct"].as_f64().unwrap() > 95.0, "{p}");
        hashes.insert(p["executed_sha256"].as_str().unwrap().to_string());
    }
    assert_eq!(hashes.len(), 3, "each part has its own executed hash");
    assert_eq!(sum, r["controller"]["total"]["marks"].as_u64().unwrap());
    let page = std::fs::read_to_string(&html).unwrap();
    for (p, id) in parts.iter().zip(ids) {
        let row = page
            .split(&format!("data-serial=\"{id}\">"))
            .nth(1)
            .and_then(|rest| rest.split("</tr>").next())
            .unwrap_or_else(|| panic!("no plate row for {id}"));
        assert!(
            row.contains(p["executed_sha256"].as_str().unwrap()),
            "{row}"
        );
        assert!(row.contains("Built"), "{row}");
    }
}

#[test]
fn a_part_in_the_wrong_units_is_refused_naming_the_part_and_nothing_is_written() {
    let d = tempfile::tempdir().unwrap();
    write_box(d.path(), "coupon.stl", [8.0, 8.0, 1.5]);
    let (p, job, report, records) = plate(
        d.path(),
        "[plate]\n[[part]]\nid = \"OK-1\"\nmesh = \"coupon.stl\"\n\
         [[part]]\nid = \"METRES-1\"\nmesh = \"coupon.stl\"\nunits = \"m\"\n",
    );
    let out = meltline(&[
        "plate",
        &p,
        "-o",
        &job,
        "--report",
        &report,
        "--out-dir",
        &records,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("METRES-1") && err.contains("not printable"),
        "{err}"
    );
    for path in [&job, &report, &records] {
        assert!(!Path::new(path).exists(), "{path} was written");
    }
}

#[test]
fn parts_that_do_not_fit_the_field_are_refused_with_how_many_fit_and_nothing_is_written() {
    let d = tempfile::tempdir().unwrap();
    write_box(d.path(), "slab.stl", [100.0, 100.0, 1.0]);
    let (p, job, report, _) = plate(
        d.path(),
        "[plate]\n[[part]]\nid = \"S\"\nmesh = \"slab.stl\"\ncount = 5\n",
    );
    let out = meltline(&["plate", &p, "-o", &job, "--report", &report]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not fit") && err.contains("of 5 parts fit"),
        "{err}"
    );
    assert!(!Path::new(&job).exists() && !Path::new(&report).exists());
}

#[test]
fn a_designed_cage_part_records_its_spec_hash_design_figures_parameter_sets_and_marked_face() {
    let d = tempfile::tempdir().unwrap();
    let spec = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/acdf.toml"),
    )
    .unwrap();
    let coarse: String = spec
        .lines()
        .map(|l| {
            if l.starts_with("edge_length_mm") {
                "edge_length_mm = 0.25".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(d.path().join("acdf.toml"), &coarse).unwrap();
    // The same cage with its serial asked for on its -y side, in smaller letters.
    let side = format!("{coarse}\n[marking]\nface = \"-y\"\nchar_height_mm = 1.2\n");
    std::fs::write(d.path().join("acdf-side.toml"), &side).unwrap();
    let (p, job, report, records) = plate(
        d.path(),
        "[plate]\n[[part]]\nid = \"C-000200\"\ncase = \"case-7\"\ncage = \"acdf.toml\"\n\
         [[part]]\nid = \"C-201\"\ncage = \"acdf-side.toml\"\n",
    );
    run_plate_ok(&p, &job, &report, &records);
    let record = |id: &str| -> serde_json::Value {
        let path = Path::new(&records).join(format!("parts/{id}.json"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    // The ACDF's inserter face (its local +y, the default) is too short beside the inserter
    // hole even for 1 mm letters: the serial goes on another face and the plate report warns.
    // The copy whose spec names its -y side is engraved there, turned with the part, in
    // letters no higher than the 1.2 mm it asks.
    let rows: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let facing = |id: &str| -> ([f64; 2], [f64; 2], f64) {
        let row = rows["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap();
        let turn = row["rotation_deg"].as_f64().unwrap().to_radians();
        let marking = record(id)["marking"].as_str().unwrap().to_string();
        let high: f64 = marking
            .strip_prefix("serial engraved ")
            .and_then(|m| m.split(" mm high").next())
            .and_then(|h| h.parse().ok())
            .unwrap_or_else(|| panic!("{id}: {marking}"));
        let n: Vec<f64> = marking
            .split("facing (")
            .nth(1)
            .and_then(|f| f.split(')').next())
            .unwrap_or_else(|| panic!("{id}: {marking}"))
            .split(", ")
            .map(|c| c.parse().unwrap())
            .collect();
        ([n[0], n[1]], [-turn.sin(), turn.cos()], high)
    };
    let (got, plus_y, high) = facing("C-201");
    assert!(
        (got[0] + plus_y[0]).abs() < 0.02 && (got[1] + plus_y[1]).abs() < 0.02,
        "C-201 faces {got:?}; its spec's -y side, turned with it, faces {:?}",
        [-plus_y[0], -plus_y[1]]
    );
    assert!((1.0..=1.2 + 1e-9).contains(&high), "{high}");
    let (got, plus_y, _) = facing("C-000200");
    assert!(
        (got[0] - plus_y[0]).abs() > 0.1 || (got[1] - plus_y[1]).abs() > 0.1,
        "C-000200 is engraved on a face that had no room: {got:?}"
    );
    let warnings: Vec<String> = rows["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("C-000200: serial not on the inserter face")),
        "{warnings:?}"
    );
    assert!(
        !warnings.iter().any(|w| w.starts_with("C-201")),
        "{warnings:?}"
    );
    let v = record("C-000200");
    use sha2::Digest;
    let want = sha2::Sha256::digest(coarse.as_bytes());
    let want: String = want.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(v["spec_sha256"], want.as_str());
    assert_eq!(v["case"], "case-7");
    let porosity = v["design"]["porosity_measured"].as_f64().unwrap();
    assert!(porosity > 0.2 && porosity < 0.95, "{porosity}");
    assert!(!v["parameter_sets"].as_array().unwrap().is_empty());
    assert!(v["time_utc"].as_str().unwrap().ends_with("UTC"));
    assert_eq!(v["mesh_sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn each_serial_is_engraved_on_a_face_with_room_and_a_part_without_one_is_warned_about() {
    let d = tempfile::tempdir().unwrap();
    let (p, job, report, records) = plate(
        d.path(),
        "[plate]\n[[part]]\nid = \"Q-1\"\ncoupon_mm = [16.0, 8.0, 4.0]\n\
         [[part]]\nid = \"FLAT-1\"\ncoupon_mm = [5.0, 5.0, 0.6]\n",
    );
    run_plate_ok(&p, &job, &report, &records);
    let rec = |id: &str| -> serde_json::Value {
        let path = Path::new(&records).join(format!("parts/{id}.json"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    let q = rec("Q-1");
    let marking = q["marking"].as_str().unwrap();
    assert!(
        marking.starts_with("serial engraved 1.5 mm high"),
        "{marking}"
    );
    let flat = rec("FLAT-1");
    assert!(
        flat["marking"]
            .as_str()
            .unwrap()
            .starts_with("serial not engraved")
    );
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("FLAT-1: serial not engraved")),
        "{warnings:?}"
    );
    assert!(
        !warnings.iter().any(|w| w.starts_with("Q-1")),
        "{warnings:?}"
    );
    // The text is 1.5 mm high about mid-height of the 4 mm coupon: the layers through it have
    // notched contours, the layers below it (and above the flat coupon) plain rectangles.
    let out = meltline(&["inspect", &job, "--json"]);
    let i: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let contour = |layer: usize| {
        i["per_layer"][layer]["vectors_by_kind"]["contour"]
            .as_u64()
            .unwrap()
    };
    let (below, through) = (contour(30), contour(66));
    assert!(
        through >= 4 * below && below > 0,
        "contour vectors at z 0.9 mm: {below}, at z 2.0 mm: {through}"
    );
}

/// `meltline stream` has no controller summary of its own: the parts of a plate job come from
/// the controller's part reports over the link, one line per part in the summary.
#[test]
fn a_plate_streamed_over_tcp_reports_every_part_from_the_controllers_part_reports() {
    use meltline_firmware::machine::MachineConfig;
    use meltline_firmware::sim::{SimOptions, Simulator};
    use meltline_host::jobfile::JobFile;
    use meltline_host::link::{StreamOptions, Tcp, stream_job};
    use meltline_host::loopback::LoopbackController;
    use meltline_host::session::RunReport;

    let d = tempfile::tempdir().unwrap();
    let (job, _) = three_coupon_plate(d.path());
    let job = JobFile::read(Path::new(&job)).unwrap();
    let ctl = LoopbackController::start(Simulator::new(SimOptions {
        machine: MachineConfig::default(),
        ..SimOptions::default()
    }))
    .unwrap();
    let mut tcp = Tcp::new(&ctl.addr().to_string()).unwrap();
    let outcome = stream_job(&job, &mut tcp, &StreamOptions::default(), &mut |_| {}).unwrap();
    drop(ctl.stop());
    let run = RunReport::new(&job, outcome, None);
    assert!(run.verified(), "{}", run.verdict);
    let ids: Vec<&str> = run.parts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["Q-1", "Q-2", "Q-3"]);
    for (part, info) in run.parts.iter().zip(&job.parts) {
        assert_eq!(part.run.state, "Built");
        assert_eq!(part.run.vectors_executed, info.vectors);
        assert_eq!(part.run.executed_sha256.len(), 64);
    }
    let summary = run.summary();
    assert_eq!(
        summary.lines().filter(|l| l.starts_with("part ")).count(),
        3,
        "{summary}"
    );
}

/// Each part of a by-part plan: its run (`run`, the controller's report) and its record in
/// `records` name the one laser the plan gave it, with all its vectors.
fn each_part_names_its_laser(
    plan: &serde_json::Value,
    run: &serde_json::Value,
    report: &serde_json::Value,
    records: &str,
) {
    let chosen: Vec<u64> = plan["part_lasers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let parts = run["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 4);
    for p in parts {
        let i = p["index"].as_u64().unwrap() as usize;
        let want = serde_json::json!([{"laser": chosen[i], "vectors": p["vectors_executed"]}]);
        assert_eq!(p["lasers"], want, "part {i}: {p}");
    }
    for (i, row) in report["parts"].as_array().unwrap().iter().enumerate() {
        let id = row["id"].as_str().unwrap();
        let file = Path::new(records).join("parts").join(format!("{id}.json"));
        let rec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let want = serde_json::json!([{"laser": chosen[i], "vectors": row["vectors"]}]);
        assert_eq!(rec["lasers"], want, "{id}");
    }
}

#[test]
fn a_plate_on_a_four_laser_machine_is_spread_over_the_lasers_and_its_plan_reported() {
    let d = tempfile::tempdir().unwrap();
    write_box(d.path(), "coupon.stl", [6.0, 6.0, 0.6]);
    let text = |assignment: &str| {
        format!(
            "[plate]\nmachine = \"meltline-sim-250-4x\"\nlaser_assignment = \"{assignment}\"\n\
             [[part]]\nid = \"Q\"\nmesh = \"coupon.stl\"\ncount = 4\n"
        )
    };
    let (p, job, report, records) = plate(d.path(), &text("by-part"));
    run_plate_ok(&p, &job, &report, &records);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let plan = &r["lasers"];
    assert_eq!(plan["assignment"], "by-part");
    let lasers = plan["lasers"].as_array().unwrap();
    assert_eq!(lasers.len(), 4);
    // One coupon to each laser: every laser works, a quarter of the single-laser exposure.
    assert!(
        lasers.iter().all(|l| l["vectors"].as_u64().unwrap() > 0),
        "{plan}"
    );
    let mut part_lasers: Vec<u64> = plan["part_lasers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    part_lasers.sort_unstable();
    assert_eq!(part_lasers, [0, 1, 2, 3]);
    let ratio = plan["exposure_ratio"].as_f64().unwrap();
    assert!((0.2..0.3).contains(&ratio), "{ratio}");
    // The job carries the plan: every block names its laser, each laser marks what the plan
    // gave it, and the four-laser printer verifies and runs it with its lasers at once.
    let out = meltline(&[
        "inspect",
        &job,
        "--machine",
        "meltline-sim-250-4x",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["names_lasers"], true);
    let shares: Vec<u64> = v["lasers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["vectors"].as_u64().unwrap())
        .collect();
    let planned: Vec<u64> = lasers
        .iter()
        .map(|l| l["vectors"].as_u64().unwrap())
        .collect();
    assert_eq!(shares, planned);
    let run_json = d.path().join("run.json");
    let out = meltline(&[
        "simulate",
        &job,
        "--machine",
        "meltline-sim-250-4x",
        "--report",
        run_json.to_str().unwrap(),
    ]);
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && log.contains("VERIFIED"), "{log}");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&run_json).unwrap()).unwrap();
    let run = &run["controller"];
    let marked: Vec<u64> = run["lasers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["vectors"].as_u64().unwrap())
        .collect();
    assert_eq!(marked, planned);
    // Each part's record and its run name the one laser that exposes it (by part), with all
    // of its vectors.
    each_part_names_its_laser(plan, run, &r, &records);
    // The lasers work at once: the job's exposure is the slowest laser's of each layer, well
    // under the sum of the four.
    let exposure = run["exposure_s"].as_f64().unwrap();
    let sum: f64 = run["lasers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["exposure_s"].as_f64().unwrap())
        .sum();
    assert!(
        exposure > 0.0 && exposure < 0.5 * sum,
        "{exposure} of {sum}"
    );
    // The same job on the one-laser machine is refused by name.
    let out = meltline(&["simulate", &job, "--machine", "meltline-sim-250"]);
    assert!(!out.status.success());
}

#[test]
fn a_single_laser_plate_has_no_plan_and_an_unknown_assignment_is_refused_by_name() {
    let d = tempfile::tempdir().unwrap();
    write_box(d.path(), "coupon.stl", [6.0, 6.0, 0.6]);
    let text = |assignment: &str| {
        format!(
            "[plate]\nmachine = \"meltline-sim-250-4x\"\nlaser_assignment = \"{assignment}\"\n\
             [[part]]\nid = \"Q\"\nmesh = \"coupon.stl\"\ncount = 4\n"
        )
    };
    let (p, job, report, records) = plate(
        d.path(),
        "[plate]\n[[part]]\nid = \"Q\"\nmesh = \"coupon.stl\"\n",
    );
    run_plate_ok(&p, &job, &report, &records);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(r.get("lasers").is_none());
    let (p, job, ..) = plate(d.path(), &text("by-laser"));
    let out = meltline(&["plate", &p, "-o", &job]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("by-laser") || err.contains("laser_assignment"),
        "{err}"
    );
}
