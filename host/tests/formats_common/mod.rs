//! A small sliced job with every kind of block (supports, contours, core, upskin and downskin
//! hatches) and helpers to write it in each format.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use meltline_core::mesh::Mesh;
use meltline_host::formats::export::{ExportOptions, export_document};
use meltline_host::formats::{JobDocument, ReadOptions, encode_document, read_document};
use meltline_host::jobfile::JobFile;
use meltline_slicer::job::{BuildJob, Slicer, SlicerOptions};
use meltline_slicer::profile::ProcessProfile;

/// A 5 × 4 mm block lifted 0.3 mm on supports, 0.09 mm layers.
pub fn lifted_block() -> BuildJob {
    let mut profile = ProcessProfile::ti6al4v();
    // Three times the layer at a third of the hatch: the same energy density.
    profile.layer_thickness_mm = 0.09;
    for set in [
        &mut profile.core,
        &mut profile.upskin,
        &mut profile.downskin,
    ] {
        set.hatch_mm /= 3.0;
    }
    let part = Mesh::axis_aligned_box([-2.5, -2.0, 0.0], [2.5, 2.0, 0.72]);
    let options = SlicerOptions {
        supports: true,
        lift_mm: 0.27,
        ..SlicerOptions::default()
    };
    Slicer::new(&part, profile, options)
        .expect("the block slices")
        .build_job()
        .expect("the job builds")
}

/// A 3 × 2 × 0.3 mm block with the built-in profile as it is (inside the material's energy
/// window, so the controller executes it).
pub fn small_block() -> BuildJob {
    let part = Mesh::axis_aligned_box([-1.5, -1.0, 0.0], [1.5, 1.0, 0.3]);
    Slicer::new(&part, ProcessProfile::ti6al4v(), SlicerOptions::default())
        .expect("the block slices")
        .build_job()
        .expect("the job builds")
}

/// The job as a document with the default wire extras.
pub fn document(job: BuildJob) -> JobDocument {
    JobDocument {
        job,
        wire: Default::default(),
        lasers: Vec::new(),
        notes: Vec::new(),
    }
}

/// Writes `doc` as `name` (format from the extension) in `dir`.
pub fn write(doc: &JobDocument, dir: &Path, name: &str, opts: &ExportOptions) -> PathBuf {
    let path = dir.join(name);
    export_document(doc, &path, opts).unwrap_or_else(|e| panic!("writing {name}: {e}"));
    path
}

/// Reads any job file back and verifies it as frames.
pub fn verified(path: &Path) -> (JobDocument, JobFile) {
    let doc = read_document(path, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let wire = encode_document(&doc).expect("the document codes to frames");
    let job = JobFile::parse(&wire, &path.display().to_string(), &Default::default())
        .expect("the frames verify");
    (doc, job)
}

/// The directory of the shared job-format specifications, if present.
pub fn specs_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs");
    d.is_dir().then_some(d)
}

/// Whether the tests run in CI (where missing tools fail instead of skipping).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}
