//! `meltline preview --colour kind|laser`: a job planned on the four-laser machine is drawn
//! with one colour per laser at work on the layer (by default), a job naming no laser keeps the
//! kind colours, and asking for lasers on it draws everything as laser 0 with a note.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

/// Contour red of the colours by kind.
const CONTOUR: &str = "#d62728";

fn meltline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(args)
        .output()
        .expect("running meltline")
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Three coupons in three quarters of the plate, each in one laser's field only (laser 0
/// lower left, 1 lower right, 3 upper right of `meltline-sim-250-4x`); the upper-right one is
/// 0.5 mm tall, the others 1 mm. `machine` is more `[plate]` text. Returns the job written.
fn plate(dir: &Path, machine: &str, name: &str) -> String {
    let mut text = String::from("[plate]\nplacement = \"manual\"\nsupports = false\n");
    text += machine;
    for (id, x, y, h) in [
        ("Q-A", -60.0, -60.0, 1.0),
        ("Q-B", 60.0, -60.0, 1.0),
        ("Q-D", 60.0, 60.0, 0.5),
    ] {
        text += &format!(
            "[[part]]\nid = \"{id}\"\ncoupon_mm = [10.0, 10.0, {h}]\nat_mm = [{x}, {y}]\n"
        );
    }
    let toml = dir.join(format!("{name}.toml"));
    std::fs::write(&toml, text).unwrap();
    let job = dir.join(format!("{name}.mlj")).display().to_string();
    ok(&meltline(&["plate", toml.to_str().unwrap(), "-o", &job]));
    job
}

/// The plate as `meltline plate` writes it for the one-laser machine (naming no laser).
fn one_laser_job(dir: &Path) -> String {
    plate(dir, "", "one")
}

/// The plate made for `meltline-sim-250-4x` and planned by part on its lasers with
/// `meltline lasers -o`.
fn four_laser_job(dir: &Path) -> String {
    let four = plate(dir, "machine = \"meltline-sim-250-4x\"\n", "four");
    let planned = dir.join("four-planned.mlj").display().to_string();
    ok(&meltline(&[
        "lasers",
        &four,
        "--machine",
        "meltline-sim-250-4x",
        "--laser-assignment",
        "by-part",
        "-o",
        &planned,
    ]));
    planned
}

/// Previews `layer` of `job` as SVG with `extra` arguments; the SVG and the standard error.
fn svg(job: &str, layer: u32, extra: &[&str], dir: &Path) -> (String, String) {
    let out = dir.join(format!("layer{layer}-{}.svg", extra.join("-")));
    let layer = layer.to_string();
    let mut args = vec![
        "preview",
        job,
        "--layer",
        &layer,
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let err = ok(&meltline(&args));
    (std::fs::read_to_string(&out).unwrap(), err)
}

/// The stroke colours of the SVG's vector paths.
fn path_colours(svg: &str) -> BTreeSet<String> {
    svg.split("<path stroke=\"")
        .skip(1)
        .filter(|p| p.contains(" d=\"M"))
        .filter_map(|p| p.get(..7).map(str::to_string))
        .collect()
}

/// The legend's entries (`name count`).
fn legend(svg: &str) -> Vec<String> {
    let Some(legend) = svg.split(r#"<g class="legend">"#).nth(1) else {
        return Vec::new();
    };
    legend
        .split("<text ")
        .skip(1)
        .filter_map(|t| t.split('>').nth(1)?.split('<').next().map(str::to_string))
        .collect()
}

/// The `#rrggbb` colour of laser `l` in the one laser palette.
fn laser_hex(l: usize) -> String {
    let [r, g, b] = meltline_host::picture::LASER_COLOURS[l];
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn colours(lasers: &[usize]) -> BTreeSet<String> {
    lasers.iter().map(|l| laser_hex(*l)).collect()
}

#[test]
fn a_four_laser_job_is_drawn_with_one_colour_per_laser_at_work_on_the_layer() {
    let d = tempfile::tempdir().unwrap();
    let planned = four_laser_job(d.path());
    // Layer 0 cuts all three coupons: lasers 0, 1 and 3 at work, laser 2 not.
    let (low, _) = svg(&planned, 0, &[], d.path());
    assert_eq!(path_colours(&low), colours(&[0, 1, 3]), "{low}");
    let names: Vec<String> = legend(&low)
        .iter()
        .filter_map(|e| e.rsplit_once(' ').map(|(n, _)| n.to_string()))
        .collect();
    assert_eq!(names, ["laser 0", "laser 1", "laser 3"], "{low}");
    // The counts of the legend are the layer's vectors.
    let inspected = meltline(&["inspect", &planned, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&inspected.stdout).unwrap();
    let layer0 = v["per_layer"][0]["vectors"].as_u64().unwrap();
    let counted: u64 = legend(&low)
        .iter()
        .filter_map(|e| e.rsplit_once(' ')?.1.parse::<u64>().ok())
        .sum();
    assert_eq!(counted, layer0, "{low}");
    // Layer 20 is above the short coupon: laser 3 has nothing there.
    let (high, _) = svg(&planned, 20, &[], d.path());
    assert_eq!(path_colours(&high), colours(&[0, 1]), "{high}");
    assert!(!high.contains(">laser 3"), "{high}");
    // Asked for kinds, the same layer is drawn by kind.
    let (kinds, _) = svg(&planned, 0, &["--colour", "kind"], d.path());
    assert!(path_colours(&kinds).contains(CONTOUR), "{kinds}");
    assert!(
        legend(&kinds).iter().any(|e| e.starts_with("contour ")),
        "{kinds}"
    );
    assert!(!kinds.contains(">laser"), "{kinds}");
}

#[test]
fn a_job_naming_no_laser_keeps_the_kind_colours_and_asked_for_lasers_is_all_laser_0() {
    let d = tempfile::tempdir().unwrap();
    let one = one_laser_job(d.path());
    let (kinds, err) = svg(&one, 0, &[], d.path());
    assert!(path_colours(&kinds).contains(CONTOUR), "{kinds}");
    assert!(
        legend(&kinds).iter().any(|e| e.starts_with("contour ")),
        "{kinds}"
    );
    assert!(!kinds.contains(">laser"), "{kinds}");
    assert!(!err.contains("names no lasers"), "{err}");
    let (lasers, err) = svg(&one, 0, &["--colour", "laser"], d.path());
    assert!(err.contains("names no lasers"), "a note says why: {err}");
    assert_eq!(path_colours(&lasers), colours(&[0]), "{lasers}");
    let entries = legend(&lasers);
    assert!(
        entries.len() == 1 && entries[0].starts_with("laser 0 "),
        "{entries:?}"
    );
}

#[test]
fn a_png_of_a_four_laser_job_holds_each_lasers_colour() {
    let d = tempfile::tempdir().unwrap();
    let planned = four_laser_job(d.path());
    let out = d.path().join("layer0.png");
    ok(&meltline(&[
        "preview",
        &planned,
        "--layer",
        "0",
        "-o",
        out.to_str().unwrap(),
        "--size",
        "512",
    ]));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let count = |c: [u8; 3]| {
        buf[..info.buffer_size()]
            .chunks_exact(3)
            .filter(|p| *p == c)
            .count()
    };
    for l in [0, 1, 3] {
        assert!(
            count(meltline_host::picture::LASER_COLOURS[l]) > 50,
            "laser {l} is not drawn in its colour"
        );
    }
    assert_eq!(
        count(meltline_host::picture::LASER_COLOURS[2]),
        0,
        "laser 2 has no vectors here"
    );
}

#[test]
fn an_unknown_colour_mode_is_refused_naming_the_choices() {
    let d = tempfile::tempdir().unwrap();
    let one = one_laser_job(d.path());
    let out = d.path().join("x.svg");
    let o = meltline(&[
        "preview",
        &one,
        "--layer",
        "0",
        "-o",
        out.to_str().unwrap(),
        "--colour",
        "part",
    ]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("kind") && e.contains("laser"), "{e}");
    assert!(!out.exists());
}
