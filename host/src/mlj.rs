//! `.mlj` job files from a slicer [`BuildJob`]: the frame stream of the firmware's wire protocol
//! ([`meltline_firmware::job::JobWriter`]), written layer by layer and atomically.
//!
//! Mapping from the slicer's job to the wire:
//!
//! * parameter sets: W → mW, mm/s → mm/s (rounded), hatch mm → µm; the spot diameter, which
//!   the slicer's job does not carry, comes from [`MljOptions::spot_um`];
//! * kinds: contour, hatch, edge, support map one to one;
//! * regions: core, upskin, downskin, support map one to one; the slicer's `Part` region
//!   (contours and edges of the boundary) travels as `Core`, the kind already saying it is
//!   boundary;
//! * geometry: closed polylines (first point repeated at the end) become closed wire
//!   polylines without the repeated point, open ones stay open; vector pairs are coded as
//!   hatches. The segment count is the same either way.
//!
//! ```no_run
//! use meltline_host::mlj::write_mlj;
//! # fn demo(job: &meltline_slicer::job::BuildJob) -> Result<(), meltline_host::mlj::MljError> {
//! let summary = write_mlj(job, std::path::Path::new("part.mlj"))?;
//! println!("{} layers, {} vectors, {} bytes", summary.layers, summary.vectors, summary.bytes);
//! # Ok(()) }
//! ```

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use meltline_core::io::AtomicFile;
use meltline_firmware::job::{
    BlockSpec, Geometry, JobError, JobSpec, JobSummary, JobWriter, PartSpec,
};
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::wire::{Region, VectorKind};
use meltline_slicer::admission::wire_param_set;
use meltline_slicer::job::{self as sj, BuildJob, JobHeader, Layer};

/// Errors while writing a `.mlj` file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MljError {
    /// Creating, writing or renaming the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The job cannot be coded as frames (coordinate range, empty block…).
    #[error("{path}: {source}")]
    Encode {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: JobError,
    },
    /// A header value does not fit the wire (quantum, thickness, parameter set).
    #[error("job header: {0}")]
    Header(String),
}

/// Choices the slicer's job leaves open.
#[derive(Debug, Clone, PartialEq)]
pub struct MljOptions {
    /// Spot (melt-track) diameter written into every parameter set, µm.
    pub spot_um: u32,
    /// Ask the scanner for skywriting on every parameter set.
    pub skywriting: bool,
    /// Replace the machine name of the job header (the controller compares it with its own).
    pub machine: Option<String>,
    /// The controller's layer memory, bytes (the machine's
    /// [`MachineConfig::layer_memory_bytes`]): a layer needing more is refused here, as the
    /// printer would refuse it at its `LayerStart`.
    pub layer_memory: usize,
    /// The machine's scan field (half side, µm): a vector whose melt track leaves it is refused
    /// here, as the printer would refuse it (`None`: not checked).
    pub field_half_um: Option<u32>,
    /// The machine whose lasers a block naming its laser is held to: the laser exists and
    /// every vector's melt track stays in its field, as the printer checks (`None`: not
    /// checked).
    pub lasers: Option<MachineConfig>,
}

impl MljOptions {
    /// The defaults for a job made for machine `m`: its name and its layer memory.
    pub fn for_machine(m: &MachineConfig) -> Self {
        MljOptions {
            machine: Some(m.machine.to_string()),
            layer_memory: usize::try_from(m.layer_memory_bytes).unwrap_or(usize::MAX),
            field_half_um: Some(m.field_half_um),
            lasers: Some(m.clone()),
            ..MljOptions::default()
        }
    }
}

impl Default for MljOptions {
    fn default() -> Self {
        MljOptions {
            spot_um: meltline_slicer::admission::DEFAULT_SPOT_UM,
            skywriting: false,
            machine: None,
            layer_memory: CONTROLLER_LAYER_MEMORY,
            field_half_um: None,
            lasers: None,
        }
    }
}

/// The wire's job header and parameter sets for a slicer job header.
pub fn job_spec(h: &JobHeader, opts: &MljOptions) -> Result<JobSpec, MljError> {
    let nm = |mm: f64, what: &str| -> Result<u32, MljError> {
        let v = (mm * 1e6).round();
        if v.is_finite() && v >= 1.0 && v <= f64::from(u32::MAX) {
            Ok(v as u32)
        } else {
            Err(MljError::Header(format!(
                "{what} {mm} mm does not fit whole nanometres"
            )))
        }
    };
    let mut param_sets = Vec::with_capacity(h.parameter_sets.len());
    for p in &h.parameter_sets {
        let set = meltline_slicer::profile::ParameterSet {
            power_w: p.power_w,
            speed_mm_s: p.speed_mm_s,
            hatch_mm: p.hatch_mm,
        };
        let wire = wire_param_set(p.id, &set, opts.spot_um, opts.skywriting).ok_or_else(|| {
            MljError::Header(format!(
                "parameter set {} ({}): power {} W, speed {} mm/s or hatch {} mm out of range",
                p.id, p.label, p.power_w, p.speed_mm_s, p.hatch_mm
            ))
        })?;
        param_sets.push(wire);
    }
    Ok(JobSpec {
        machine: opts.machine.clone().unwrap_or_else(|| h.machine.clone()),
        material: h.material.clone(),
        quantum_nm: nm(h.quantum_mm, "quantum")?,
        layer_thickness_nm: nm(h.layer_thickness_mm, "layer thickness")?,
        layer_count: u32::try_from(h.layer_count)
            .map_err(|_| MljError::Header(format!("{} layers", h.layer_count)))?,
        param_sets,
    })
}

/// The wire kind of a slicer vector kind.
pub fn wire_kind(k: sj::VectorKind) -> VectorKind {
    match k {
        sj::VectorKind::Contour => VectorKind::Contour,
        sj::VectorKind::Hatch => VectorKind::Hatch,
        sj::VectorKind::Edge => VectorKind::Edge,
        sj::VectorKind::Support => VectorKind::Support,
    }
}

/// The wire region of a slicer region (`Part` travels as `Core`).
pub fn wire_region(r: sj::Region) -> Region {
    match r {
        sj::Region::Part | sj::Region::Core => Region::Core,
        sj::Region::Upskin => Region::Upskin,
        sj::Region::Downskin => Region::Downskin,
        sj::Region::Support => Region::Support,
    }
}

/// The wire blocks of one slicer layer (empty blocks are left out: they mark nothing).
///
/// Consecutive slicer blocks with the same parameter set, kind, region and coding (and, for
/// polylines, the same closedness) travel as one wire block: the scan order and every vector
/// stay as they are, but a lattice layer's hundreds of small contour, hatch and support
/// blocks no longer cost a frame header, a block record in the controller's arena and a
/// coder restart each.
pub fn layer_blocks(layer: &Layer) -> Vec<BlockSpec> {
    blocks_of(&layer.blocks)
}

/// The wire blocks of some of a layer's blocks (one part's, on a plate), merged as
/// [`layer_blocks`] says.
pub fn blocks_of(blocks: &[sj::VectorBlock]) -> Vec<BlockSpec> {
    let mut out: Vec<BlockSpec> = Vec::with_capacity(blocks.len());
    for b in blocks {
        let (kind, region) = (wire_kind(b.kind), wire_region(b.region));
        let last = out
            .last_mut()
            .filter(|l| l.param_set == b.parameter_set && l.kind == kind && l.region == region);
        match &b.geometry {
            sj::Geometry::Polyline(pts) => {
                if pts.len() < 2 {
                    continue;
                }
                let closed = pts.len() >= 4 && pts.first() == pts.last();
                let keep = if closed { pts.len() - 1 } else { pts.len() };
                let line: Vec<[i64; 2]> = pts[..keep]
                    .iter()
                    .map(|p| [i64::from(p[0]), i64::from(p[1])])
                    .collect();
                if let Some(BlockSpec {
                    geometry: Geometry::Polylines { lines, closed: c },
                    ..
                }) = last
                    && *c == closed
                {
                    lines.push(line);
                    continue;
                }
                out.push(BlockSpec {
                    param_set: b.parameter_set,
                    kind,
                    region,
                    geometry: Geometry::Polylines {
                        lines: vec![line],
                        closed,
                    },
                });
            }
            sj::Geometry::Vectors(v) => {
                if v.is_empty() {
                    continue;
                }
                let hatches = v.iter().map(|[a, b]| {
                    [
                        i64::from(a[0]),
                        i64::from(a[1]),
                        i64::from(b[0]),
                        i64::from(b[1]),
                    ]
                });
                if let Some(BlockSpec {
                    geometry: Geometry::Hatches(h),
                    ..
                }) = last
                {
                    h.extend(hatches);
                    continue;
                }
                out.push(BlockSpec {
                    param_set: b.parameter_set,
                    kind,
                    region,
                    geometry: Geometry::Hatches(hatches.collect()),
                });
            }
        }
    }
    out
}

/// Writes a whole in-memory job to `path` (see [`write_mlj_layers`]).
pub fn write_mlj(job: &BuildJob, path: &Path) -> Result<JobSummary, MljError> {
    write_mlj_with(job, path, &MljOptions::default())
}

/// Writes a whole in-memory job to `path` with `opts` (see [`write_mlj_layers`]).
pub fn write_mlj_with(
    job: &BuildJob,
    path: &Path,
    opts: &MljOptions,
) -> Result<JobSummary, MljError> {
    write_mlj_layers(
        &job.header,
        job.layers.iter().map(std::borrow::Cow::Borrowed),
        path,
        opts,
    )
}

/// Writes layers as they come (e.g. from `Slicer::layers()`) to `path`: a temporary file in
/// the same directory, renamed over `path` only once the job is complete, so an error never
/// leaves a truncated job behind.
pub fn write_mlj_layers<'a>(
    header: &JobHeader,
    layers: impl IntoIterator<Item = std::borrow::Cow<'a, Layer>>,
    path: &Path,
    opts: &MljOptions,
) -> Result<JobSummary, MljError> {
    write_atomically(header, &[], path, opts, |w| {
        for layer in layers {
            w.write_layer(&layer_blocks(&layer))?;
        }
        Ok(())
    })
}

/// The job writer [`write_atomically`] hands its body.
pub type FileWriter<'f> = JobWriter<BufWriter<&'f mut std::fs::File>>;

/// Writes a job to `path` through `body`: a temporary file beside `path` holding the header,
/// the parameter sets and `parts` (a plate's part table, empty for one part), then whatever
/// `body` writes; renamed over `path` only once complete, so an error never leaves a
/// truncated job behind.
pub fn write_atomically(
    header: &JobHeader,
    parts: &[PartSpec],
    path: &Path,
    opts: &MljOptions,
    body: impl FnOnce(&mut FileWriter<'_>) -> Result<(), JobError>,
) -> Result<JobSummary, MljError> {
    let spec = job_spec(header, opts)?;
    write_spec_atomically(&spec, parts, path, opts, body)
}

/// [`write_atomically`] for a job whose header and parameter sets are already wire values
/// (e.g. a verified job written again with its blocks given to lasers).
pub fn write_spec_atomically(
    spec: &JobSpec,
    parts: &[PartSpec],
    path: &Path,
    opts: &MljOptions,
    body: impl FnOnce(&mut FileWriter<'_>) -> Result<(), JobError>,
) -> Result<JobSummary, MljError> {
    let io = |source| MljError::Io {
        path: path.to_path_buf(),
        source,
    };
    let enc = |source| MljError::Encode {
        path: path.to_path_buf(),
        source,
    };
    let mut out = AtomicFile::create(path).map_err(io)?;
    let buf = BufWriter::with_capacity(1 << 16, out.file_mut());
    let mut w = JobWriter::with_parts(buf, spec, parts, None).map_err(enc)?;
    limit(&mut w, opts);
    body(&mut w).map_err(enc)?;
    let (buf, summary) = w.finish().map_err(enc)?;
    buf.into_inner().map_err(|e| io(e.into_error()))?;
    out.commit().map_err(io)?;
    Ok(summary)
}

/// Holds the writer to the printer's rules `opts` names: layer memory, scan field, lasers.
fn limit<W: std::io::Write>(w: &mut JobWriter<W>, opts: &MljOptions) {
    w.limit_layers(opts.layer_memory);
    if let Some(h) = opts.field_half_um {
        w.limit_field(h);
    }
    if let Some(m) = &opts.lasers {
        w.limit_lasers(m);
    }
}

/// The built-in machines' layer memory, bytes ([`MljOptions::layer_memory`] unless a machine is
/// named; foreign jobs read in are held to it).
pub const CONTROLLER_LAYER_MEMORY: usize =
    meltline_firmware::machine::DEFAULT_LAYER_MEMORY as usize;

/// Encodes a job into memory (tests, in-process streaming of a freshly sliced job).
pub fn encode_mlj(job: &BuildJob, opts: &MljOptions) -> Result<(Vec<u8>, JobSummary), MljError> {
    let spec = job_spec(&job.header, opts)?;
    let enc = |source| MljError::Encode {
        path: PathBuf::from("<memory>"),
        source,
    };
    let mut w = JobWriter::new(Vec::new(), &spec).map_err(enc)?;
    limit(&mut w, opts);
    for layer in &job.layers {
        w.write_layer(&layer_blocks(layer)).map_err(enc)?;
    }
    w.finish().map_err(enc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobfile::JobFile;
    use meltline_core::mesh::Mesh;
    use meltline_slicer::job::{Slicer, SlicerOptions};
    use meltline_slicer::profile::ProcessProfile;

    fn small_job() -> BuildJob {
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
        let part = Mesh::axis_aligned_box([-3.0, -2.0, 0.0], [3.0, 2.0, 0.9]);
        Slicer::new(&part, profile, SlicerOptions::default())
            .unwrap()
            .build_job()
            .unwrap()
    }

    #[test]
    fn sliced_job_read_back_has_the_same_vector_counts_per_layer() {
        let job = small_job();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("box.mlj");
        let summary = write_mlj(&job, &path).unwrap();
        let back = JobFile::read(&path).unwrap();
        assert_eq!(back.layer_count() as usize, job.layers.len());
        for (l, info) in job.layers.iter().zip(&back.layers) {
            let expected: usize = l.blocks.iter().map(|b| b.vector_count()).sum();
            assert_eq!(info.vectors as usize, expected, "layer {}", l.index);
            assert!(info.vectors > 0);
        }
        assert_eq!(back.vectors(), summary.vectors);
        assert_eq!(back.job_sha256, summary.job_sha256);
        assert_eq!(back.param_sets.len(), job.header.parameter_sets.len());
        assert_eq!(back.quantum_nm, 1000);
        assert_eq!(back.layer_thickness_nm, 90_000);
    }

    #[test]
    fn writing_the_same_job_twice_gives_identical_bytes() {
        let job = small_job();
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.mlj"), dir.path().join("b.mlj"));
        write_mlj(&job, &a).unwrap();
        write_mlj(&job, &b).unwrap();
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }

    #[test]
    fn a_failed_write_leaves_the_previous_file_untouched() {
        let mut job = small_job();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.mlj");
        std::fs::write(&path, b"previous").unwrap();
        job.header.layer_count += 1; // the writer refuses a job with fewer layers than announced
        assert!(write_mlj(&job, &path).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"previous");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn consecutive_blocks_of_one_kind_travel_as_one_wire_block_in_scan_order() {
        let job = small_job();
        for l in &job.layers {
            let wire = layer_blocks(l);
            assert!(wire.len() <= l.blocks.len());
            for w in wire.windows(2) {
                let same_coding = match (&w[0].geometry, &w[1].geometry) {
                    (Geometry::Hatches(_), Geometry::Hatches(_)) => true,
                    (
                        Geometry::Polylines { closed: a, .. },
                        Geometry::Polylines { closed: b, .. },
                    ) => a == b,
                    _ => false,
                };
                let mergeable = w[0].param_set == w[1].param_set
                    && w[0].kind == w[1].kind
                    && w[0].region == w[1].region
                    && same_coding;
                assert!(!mergeable, "layer {}: two mergeable neighbours", l.index);
            }
            // The same vectors in the same order.
            let flat = |g: &Geometry| -> Vec<[i64; 4]> {
                match g {
                    Geometry::Hatches(h) => h.clone(),
                    Geometry::Polylines { lines, closed } => lines
                        .iter()
                        .flat_map(|p| {
                            let n = if *closed { p.len() } else { p.len() - 1 };
                            (0..n).map(move |i| {
                                let (a, b) = (p[i], p[(i + 1) % p.len()]);
                                [a[0], a[1], b[0], b[1]]
                            })
                        })
                        .collect(),
                    Geometry::Points(_) => Vec::new(),
                }
            };
            let got: Vec<[i64; 4]> = wire.iter().flat_map(|b| flat(&b.geometry)).collect();
            let want: Vec<[i64; 4]> = l
                .blocks
                .iter()
                .flat_map(|b| match &b.geometry {
                    sj::Geometry::Polyline(p) => p
                        .windows(2)
                        .map(|w| [w[0][0], w[0][1], w[1][0], w[1][1]].map(i64::from))
                        .collect::<Vec<_>>(),
                    sj::Geometry::Vectors(v) => v
                        .iter()
                        .map(|[a, b]| [a[0], a[1], b[0], b[1]].map(i64::from))
                        .collect(),
                })
                .collect();
            assert_eq!(got, want, "layer {}", l.index);
        }
    }
}
