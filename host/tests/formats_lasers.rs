//! Jobs planned on a machine's lasers through the standard formats: 3MF carries
//! `<tp:lasersources>` and a `laserindex` on every segment, OVF a `laser_index` on every vector
//! block, and reading either back gives every block its laser and the job its hash; a job for
//! one laser is written without any laser index, as before.

mod formats_common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use formats_common::{document, in_ci, small_block, specs_dir, verified, write};
use meltline_firmware::lasers::builtin_machine;
use meltline_host::formats::export::ExportOptions;
use meltline_host::formats::ovf::P_NAMES_LASERS;
use meltline_host::formats::{Format, JobDocument, ReadOptions, parse_document, read_document};
use meltline_host::jobfile::JobFile;

/// Runs `meltline` with `args`; it must succeed.
fn meltline(args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(args)
        .output()
        .expect("running meltline");
    assert!(
        o.status.success(),
        "meltline {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A box of `size` mm about the plate's centre written as `name`.stl and sliced to
/// `name`.mlj with `args` after the output.
fn slice_box(dir: &Path, name: &str, size: [f64; 3], args: &[&str]) -> PathBuf {
    use meltline_core::io::{StlFormat, write_stl};
    use meltline_core::mesh::Mesh;
    let mesh = dir.join(format!("{name}.stl"));
    write_stl(
        &mesh,
        &Mesh::axis_aligned_box([0.0; 3], size),
        StlFormat::Binary,
    )
    .unwrap();
    let job = dir.join(format!("{name}.mlj"));
    let (mesh_arg, job_arg) = (mesh.display().to_string(), job.display().to_string());
    let mut all = vec!["slice", mesh_arg.as_str(), "-o", job_arg.as_str()];
    all.extend_from_slice(args);
    meltline(&all);
    job
}

/// A 30 × 30 × 0.3 mm block about the plate's centre, sliced for the four-laser machine and
/// planned on its lasers by region: every laser gets a share of every layer.
fn four_laser_job(dir: &Path) -> PathBuf {
    let region = [
        "--machine",
        "meltline-sim-250-4x",
        "--laser-assignment",
        "by-region",
    ];
    slice_box(dir, "four", [30.0, 30.0, 0.3], &region)
}

/// A 60 × 60 mm plate lifted 0.3 mm on supports, sliced for the four-laser machine: its
/// support and hatch blocks span many frames, cut between the lasers frame by frame, so
/// blocks of one laser meet where the wire has a block boundary.
fn supported_four_laser_job(dir: &Path) -> PathBuf {
    let args = [
        "--machine",
        "meltline-sim-250-4x",
        "--laser-assignment",
        "by-region",
        "--supports",
        "--lift",
        "0.3",
    ];
    slice_box(dir, "supported", [60.0, 60.0, 0.6], &args)
}

/// A 20 × 12 mm block sliced for the two-laser machine and planned again by part
/// (`meltline lasers`): one laser takes it whole, contours as full rings.
fn two_laser_job(dir: &Path) -> PathBuf {
    let sliced = slice_box(
        dir,
        "two-sliced",
        [20.0, 12.0, 0.3],
        &["--machine", "meltline-sim-250-2x"],
    );
    let job = dir.join("two.mlj");
    meltline(&[
        "lasers",
        sliced.to_str().unwrap(),
        "--machine",
        "meltline-sim-250-2x",
        "--laser-assignment",
        "by-part",
        "-o",
        job.to_str().unwrap(),
    ]);
    job
}

/// Reads a `.mlj` verified.
fn job_file(path: &Path) -> JobFile {
    JobFile::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The document of a `.mlj`.
fn doc_of(path: &Path) -> JobDocument {
    read_document(path, &ReadOptions::default()).unwrap()
}

/// Export options with `machine` (its laser fields go into a 3MF).
fn on(machine: &str) -> ExportOptions {
    ExportOptions {
        machine: builtin_machine(machine).unwrap(),
        ..ExportOptions::default()
    }
}

/// The parts of a zip package by name.
fn parts(path: &Path) -> Vec<(String, String)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        out.push((f.name().unwrap().into_owned(), s));
    }
    out
}

/// The model part of a 3MF.
fn model(path: &Path) -> String {
    parts(path)
        .into_iter()
        .find(|(n, _)| n == "3D/3dmodel.model")
        .expect("a model part")
        .1
}

/// Every layer part of a 3MF, concatenated.
fn layer_parts(path: &Path) -> String {
    parts(path)
        .into_iter()
        .filter(|(n, _)| n.starts_with("Toolpath/Layers/"))
        .map(|(_, t)| t)
        .collect()
}

/// `bytes`, a 3MF, with `edit` applied to its layer part `layer00000.xml`.
fn edit_first_layer(bytes: &[u8], edit: impl FnOnce(&str) -> String) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut edit = Some(edit);
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        if name == "Toolpath/Layers/layer00000.xml"
            && let Some(e) = edit.take()
        {
            text = e(&text);
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(text.as_bytes()).unwrap();
    }
    assert!(edit.is_none(), "the package has a first layer part");
    out.finish().unwrap().into_inner()
}

/// The laser of every vector block of every layer, as the verified frames say.
fn frame_lasers(job: &JobFile) -> Vec<Option<u8>> {
    let mut scratch = Vec::new();
    job.frames
        .iter()
        .zip(&job.frame_layer)
        .filter(|(_, l)| l.is_some())
        .filter_map(|(w, _)| {
            let raw = meltline_firmware::job::RawFrame {
                index: 0,
                offset: 0,
                wire: w.clone(),
            };
            let f = raw.decode(&mut scratch).unwrap();
            f.msg.block().map(|_| f.msg.laser())
        })
        .collect()
}

fn round_trip_keeps_lasers_and_hash(job: &Path, machine: &str, ext: &str) {
    let dir = job.parent().unwrap();
    let original = job_file(job);
    assert!(
        original.names_lasers,
        "{}: a job planned on lasers",
        job.display()
    );
    let from_mlj = doc_of(job);
    assert!(from_mlj.names_lasers());
    for (l, lasers) in from_mlj.job.layers.iter().zip(&from_mlj.lasers) {
        assert_eq!(l.blocks.len(), lasers.len(), "layer {}", l.index);
    }
    let out = write(&from_mlj, dir, &format!("lasers.{ext}"), &on(machine));
    let (back, file) = verified(&out);
    assert!(back.names_lasers(), ".{ext}: the job still names lasers");
    assert_eq!(back.lasers, from_mlj.lasers, ".{ext}: every block's laser");
    for (a, b) in back.job.layers.iter().zip(&from_mlj.job.layers) {
        assert_eq!(a.blocks.len(), b.blocks.len(), ".{ext}: layer {}", a.index);
        for (i, (x, y)) in a.blocks.iter().zip(&b.blocks).enumerate() {
            assert!(
                x == y,
                ".{ext}: layer {} block {i}: {x:?} for {y:?}",
                a.index
            );
        }
    }
    assert!(file.names_lasers);
    assert_eq!(
        file.job_sha256, original.job_sha256,
        ".mlj → .{ext} → frames: the job hash"
    );
    assert_eq!(frame_lasers(&file), frame_lasers(&original));
    let again = write(&back, dir, "again.mlj", &ExportOptions::default());
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(job).unwrap(),
        ".mlj → .{ext} → .mlj changes the file"
    );
    let shares = |j: &JobFile| j.lasers.iter().map(|l| l.vectors).collect::<Vec<_>>();
    assert_eq!(shares(&file), shares(&original));
}

#[test]
fn a_four_laser_job_keeps_every_blocks_laser_and_its_job_hash_through_3mf() {
    let d = tempfile::tempdir().unwrap();
    let job = four_laser_job(d.path());
    let used: std::collections::BTreeSet<u8> = doc_of(&job)
        .lasers
        .iter()
        .flatten()
        .map(|b| b.laser)
        .collect();
    assert_eq!(used.len(), 4, "every laser has a share: {used:?}");
    round_trip_keeps_lasers_and_hash(&job, "meltline-sim-250-4x", "3mf");
}

#[test]
fn a_four_laser_job_keeps_every_blocks_laser_and_its_job_hash_through_ovf() {
    let d = tempfile::tempdir().unwrap();
    let job = four_laser_job(d.path());
    round_trip_keeps_lasers_and_hash(&job, "meltline-sim-250-4x", "ovf");
}

#[test]
fn a_job_given_whole_to_one_laser_keeps_it_and_its_job_hash_through_3mf_and_ovf() {
    let d = tempfile::tempdir().unwrap();
    let job = two_laser_job(d.path());
    let used: std::collections::BTreeSet<u8> = doc_of(&job)
        .lasers
        .iter()
        .flatten()
        .map(|b| b.laser)
        .collect();
    assert_eq!(used.len(), 1, "{used:?}");
    for ext in ["3mf", "ovf"] {
        round_trip_keeps_lasers_and_hash(&job, "meltline-sim-250-2x", ext);
    }
}

#[test]
fn a_job_whose_blocks_of_one_laser_meet_at_frame_boundaries_keeps_its_job_hash_through_3mf_and_ovf()
{
    let d = tempfile::tempdir().unwrap();
    let job = supported_four_laser_job(d.path());
    let opens = doc_of(&job)
        .lasers
        .iter()
        .flatten()
        .filter(|b| b.opens)
        .count();
    assert!(
        opens > 0,
        "blocks of one laser meet at a wire block boundary"
    );
    for ext in ["3mf", "ovf"] {
        round_trip_keeps_lasers_and_hash(&job, "meltline-sim-250-4x", ext);
    }
}

#[test]
fn a_laser_3mf_declares_the_lasers_with_their_fields_and_every_segment_names_one() {
    let d = tempfile::tempdir().unwrap();
    let job = four_laser_job(d.path());
    let doc = doc_of(&job);
    let out = write(&doc, d.path(), "four.3mf", &on("meltline-sim-250-4x"));
    let m = model(&out);
    let resource = m.find("<tp:toolpathresource").unwrap();
    let first_child = m[resource..].find("\n").unwrap() + resource + 1;
    assert!(
        m[first_child..]
            .trim_start()
            .starts_with("<tp:lasersources default=\"0\">"),
        "lasersources first in the resource:\n{m}"
    );
    // Laser 1 is front right: x from -25 to 125 mm, y from -125 to 25 mm, in µm quanta.
    assert!(
        m.contains(
            "<tp:lasersource index=\"1\" name=\"Laser 1\" minx=\"-25000\" maxx=\"125000\" miny=\"-125000\" maxy=\"25000\"/>"
        ),
        "{m}"
    );
    assert_eq!(m.matches("<tp:lasersource ").count(), 4);
    let layers = layer_parts(&out);
    let segments = layers.matches("<segment ").count();
    assert!(segments > 0);
    assert_eq!(layers.matches(" laserindex=\"").count(), segments);
    for i in 0..4 {
        assert!(layers.contains(&format!("laserindex=\"{i}\"")), "laser {i}");
    }
    // Without the job's machine the fields are not known, and not written.
    let plain = write(&doc, d.path(), "plain.3mf", &ExportOptions::default());
    let m = model(&plain);
    assert!(
        m.contains("<tp:lasersource index=\"3\" name=\"Laser 3\"/>"),
        "{m}"
    );
    let back = read_document(&plain, &ReadOptions::default()).unwrap();
    assert_eq!(back.lasers, doc.lasers);
}

#[test]
fn a_one_laser_job_is_written_without_any_laser_index_in_3mf_and_ovf() {
    let d = tempfile::tempdir().unwrap();
    let doc = document(small_block());
    assert!(!doc.names_lasers());
    let pkg = write(&doc, d.path(), "one.3mf", &ExportOptions::default());
    for (name, text) in parts(&pkg) {
        assert!(!text.contains("laserindex"), "{name}");
        assert!(!text.contains("lasersources"), "{name}");
    }
    let ovf = write(&doc, d.path(), "one.ovf", &ExportOptions::default());
    let bytes = std::fs::read(&ovf).unwrap();
    assert!(
        !bytes
            .windows(P_NAMES_LASERS.len())
            .any(|w| w == P_NAMES_LASERS.as_bytes()),
        "no lasers marker"
    );
    for path in [&pkg, &ovf] {
        let (back, file) = verified(path);
        assert!(back.lasers.is_empty(), "{}", path.display());
        assert!(!file.names_lasers);
    }
}

#[test]
fn an_ovf_of_a_laser_job_sets_laser_index_on_every_vector_block_and_marks_the_job() {
    use meltline_host::formats::ovf::proto::{JobLut, VectorBlock, WorkPlaneLut};
    use prost::Message;
    let d = tempfile::tempdir().unwrap();
    let job = four_laser_job(d.path());
    let doc = doc_of(&job);
    let out = write(&doc, d.path(), "four.ovf", &ExportOptions::default());
    let bytes = std::fs::read(&out).unwrap();
    let at = |p: i64| usize::try_from(p).unwrap();
    let i64_at = |p: usize| i64::from_le_bytes(bytes[p..p + 8].try_into().unwrap());
    let lut = JobLut::decode_length_delimited(&bytes[at(i64_at(4))..]).unwrap();
    let mut got = Vec::new();
    for &wp in &lut.work_plane_positions {
        let wlut = WorkPlaneLut::decode_length_delimited(&bytes[at(i64_at(at(wp)))..]).unwrap();
        let mut layer = Vec::new();
        for &bp in &wlut.vector_blocks_positions {
            let b = VectorBlock::decode_length_delimited(&bytes[at(bp)..]).unwrap();
            layer.push(u8::try_from(b.laser_index).unwrap());
        }
        got.push(layer);
    }
    let want: Vec<Vec<u8>> = doc
        .lasers
        .iter()
        .map(|l| l.iter().map(|b| b.laser).collect())
        .collect();
    assert_eq!(got, want);
    assert!(
        bytes
            .windows(P_NAMES_LASERS.len())
            .any(|w| w == P_NAMES_LASERS.as_bytes())
    );
}

#[test]
fn a_3mf_naming_an_undeclared_laser_index_is_refused_naming_it_and_where() {
    let d = tempfile::tempdir().unwrap();
    let job = four_laser_job(d.path());
    let out = write(
        &doc_of(&job),
        d.path(),
        "four.3mf",
        &ExportOptions::default(),
    );
    let bytes = std::fs::read(&out).unwrap();
    let bad = edit_first_layer(&bytes, |t| t.replacen("laserindex=\"", "laserindex=\"7", 1));
    let e = match parse_document(&bad, "bad.3mf", Format::ThreeMf, &ReadOptions::default()) {
        Ok(_) => panic!("an undeclared laser index was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.starts_with("bad.3mf: part /Toolpath/Layers/layer00000.xml line "),
        "{e}"
    );
    assert!(e.contains("laserindex 7"), "{e}");
    assert!(
        e.contains("not a declared laser source (declared: 0, 1, 2, 3)"),
        "{e}"
    );
}

#[test]
fn a_3mf_of_a_laser_job_validates_against_the_toolpath_schemas() {
    let (Some(specs), true) = (
        specs_dir(),
        Command::new("xmllint").arg("--version").output().is_ok(),
    ) else {
        assert!(!in_ci(), "CI=true: xmllint and ../shared/specs are needed");
        eprintln!("SKIPPED: xmllint or ../shared/specs missing");
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let schema = |name: &str| {
        let text = std::fs::read_to_string(specs.join("3mf-toolpath").join(name)).unwrap();
        let out = d.path().join(name);
        // libxml2 refuses maxOccurs="2147483647"; unbounded is the same for any real file.
        std::fs::write(
            &out,
            text.replace("maxOccurs=\"2147483647\"", "maxOccurs=\"unbounded\""),
        )
        .unwrap();
        out
    };
    let (layer_xsd, model_xsd) = (
        schema("toolpath_layer_2026_03.xsd"),
        schema("toolpath_2026_03.xsd"),
    );
    let validate = |xsd: &Path, text: &str, name: &str| {
        let file = d.path().join(name.replace('/', "_"));
        std::fs::write(&file, text).unwrap();
        let o = Command::new("xmllint")
            .args(["--noout", "--nonet", "--schema"])
            .arg(xsd)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let job = four_laser_job(d.path());
    let out = write(
        &doc_of(&job),
        d.path(),
        "four.3mf",
        &on("meltline-sim-250-4x"),
    );
    for (name, text) in parts(&out) {
        if name.starts_with("Toolpath/Layers/") {
            validate(&layer_xsd, &text, &name);
        } else if name == "3D/3dmodel.model" {
            let a = text.find("<tp:toolpathresource").unwrap();
            let end = "</tp:toolpathresource>";
            let b = text.find(end).unwrap() + end.len();
            let resource = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
                &text[a..b]
            );
            assert!(resource.contains("<tp:lasersources"));
            validate(&model_xsd, &resource, &name);
        }
    }
}
