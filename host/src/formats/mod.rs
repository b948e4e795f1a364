//! Standard job files: 3MF Toolpath 1.0 and the Open Vector Format written and read, CLI read
//! (ASCII and binary), all converted to and from the slicer's [`BuildJob`] on the host side.
//!
//! The controller never sees these formats: a 3MF, OVF or CLI job becomes a [`JobDocument`]
//! (the `BuildJob` plus what the wire needs beyond it: spot and skywriting per parameter set),
//! which is coded into the same frame stream as a `.mlj` and verified frame by frame before it
//! is inspected, previewed, simulated or streamed.
//!
//! A job planned on a machine's lasers (its blocks `LaserBlock`s, [`JobFile::names_lasers`])
//! keeps the laser of every block through every format but CLI: [`JobDocument::lasers`] holds
//! it, 3MF carries it as `<tp:lasersources>` and `laserindex` ([`threemf`]), OVF as each
//! vector block's `laser_index` ([`ovf`]), and the document codes back to `LaserBlock`s
//! ([`laser_layer_blocks`]) with the job hash of the original (each block also says where a
//! wire block starts, [`BlockLaser::opens`], a meltline extra in both formats). A job naming
//! no lasers is written exactly as before, without any laser index. A plate's part table is
//! not carried (as for a job naming no lasers).
//!
//! ```no_run
//! use meltline_host::formats::{ReadOptions, load_verified};
//! # fn demo() -> Result<(), meltline_host::formats::FormatError> {
//! let machine = meltline_firmware::machine::MachineConfig::default();
//! let loaded = load_verified(std::path::Path::new("part.3mf"), &machine, &ReadOptions::default())?;
//! println!("{} layers, job hash {}", loaded.job.layer_count(),
//!     meltline_host::jobfile::hex(&loaded.job.job_sha256));
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use meltline_firmware::job::{BlockSpec, Geometry as WireGeometry, JobError, JobSpec, JobWriter};
use meltline_firmware::machine::MachineConfig;
use meltline_slicer::job::{BuildJob, Layer, VectorBlock};

use crate::jobfile::{JobFile, JobFileError};
use crate::mlj::{MljError, MljOptions, job_spec, layer_blocks, wire_kind, wire_region};

pub mod cli_read;
pub mod export;
pub mod from_mlj;
pub mod ovf;
pub mod ovf_read;
pub mod profile_map;
pub mod threemf;
mod threemf_lasers;
pub mod threemf_read;
mod xml;

/// The job file formats meltline reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// meltline's own frame stream.
    Mlj,
    /// 3MF with the Toolpath 1.0 extension.
    #[value(name = "3mf")]
    ThreeMf,
    /// Open Vector Format (protobuf).
    Ovf,
    /// Common Layer Interface, ASCII or binary.
    Cli,
}

impl Format {
    /// The format named by a file's extension.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "mlj" => Some(Format::Mlj),
            "3mf" => Some(Format::ThreeMf),
            "ovf" => Some(Format::Ovf),
            "cli" => Some(Format::Cli),
            _ => None,
        }
    }
}

/// Why a job file cannot be read or written; every variant names the file and the place in it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The content is malformed at `place` (a part and line, a byte offset, a line number).
    #[error("{path}: {place}: {what}")]
    Malformed {
        /// The file.
        path: String,
        /// Where: `part /Toolpath/Layers/layer00001.xml line 3`, `byte offset 12`, `line 7`.
        place: String,
        /// What is wrong.
        what: String,
    },
    /// The extension names no job format.
    #[error("{path}: unknown job format (give .mlj, .3mf, .ovf or .cli, or --format)")]
    UnknownFormat {
        /// The file.
        path: String,
    },
    /// The `.mlj` is refused.
    #[error(transparent)]
    Job(#[from] JobFileError),
    /// The converted job cannot be coded as frames.
    #[error("{path}: the converted job cannot be coded for the controller: {source}")]
    Encode {
        /// The file.
        path: String,
        /// Cause.
        source: MljError,
    },
}

impl FormatError {
    /// A malformed-content error.
    pub fn malformed(path: &str, place: impl Into<String>, what: impl Into<String>) -> Self {
        FormatError::Malformed {
            path: path.to_string(),
            place: place.into(),
            what: what.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        FormatError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// What the wire needs of a parameter set beyond the slicer's job header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireSet {
    /// Spot (melt-track) diameter, µm.
    pub spot_um: u32,
    /// Skywriting asked for.
    pub skywriting: bool,
}

impl Default for WireSet {
    fn default() -> Self {
        let o = MljOptions::default();
        WireSet {
            spot_um: o.spot_um,
            skywriting: o.skywriting,
        }
    }
}

/// A job read from any format: the slicer's job, the wire's extras, and what the conversion
/// had to assume.
#[derive(Debug, Clone, PartialEq)]
pub struct JobDocument {
    /// The job.
    pub job: BuildJob,
    /// Spot and skywriting per parameter set id (absent: [`WireSet::default`]).
    pub wire: BTreeMap<u16, WireSet>,
    /// The laser of every block when the job names lasers: `lasers[l][b]` is that of
    /// `job.layers[l].blocks[b]` (one list per layer, as long as its blocks). Empty when the
    /// job names no lasers (one laser, blocks coded without a laser, as before protocol 5).
    pub lasers: Vec<Vec<BlockLaser>>,
    /// What the conversion assumed (defaults, mapped parameter sets), for the user.
    pub notes: Vec<String>,
}

impl JobDocument {
    /// The wire extras of parameter set `id`.
    pub fn wire_set(&self, id: u16) -> WireSet {
        self.wire.get(&id).copied().unwrap_or_default()
    }

    /// Whether the job names the laser of every block (planned on a machine's lasers).
    pub fn names_lasers(&self) -> bool {
        !self.lasers.is_empty()
    }

    /// The lasers of layer `index`'s blocks, `None` when the job names no lasers (a layer
    /// missing from [`JobDocument::lasers`] has none).
    pub fn layer_lasers(&self, index: usize) -> Option<&[BlockLaser]> {
        self.names_lasers()
            .then(|| self.lasers.get(index).map_or(&[][..], Vec::as_slice))
    }
}

/// The laser of one block of a job naming lasers, and where its wire block starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockLaser {
    /// The laser that exposes the block.
    pub laser: u8,
    /// The block opens a wire block of its own although it could join the one before
    /// ([`joins`]): where the `.mlj` it was read from has a block boundary there (a frame
    /// full, or two blocks of one laser meeting). Kept so that the document codes back to the
    /// same frames and job hash; 3MF and OVF carry it as a meltline extra.
    pub opens: bool,
}

impl BlockLaser {
    /// Block on `laser`, joining the one before where it can.
    pub fn on(laser: u8) -> Self {
        BlockLaser {
            laser,
            opens: false,
        }
    }
}

/// Whether block `b` on laser `lb` travels in the same wire block as `a` on laser `la`, the
/// block before it, unless it opens its own ([`BlockLaser::opens`]): the same laser,
/// parameter set, kind and region on the wire and the same coding (polylines or vector pairs).
pub fn joins(a: &VectorBlock, la: u8, b: &VectorBlock, lb: u8) -> bool {
    use meltline_slicer::job::Geometry;
    let same_coding = matches!(
        (&a.geometry, &b.geometry),
        (Geometry::Polyline(_), Geometry::Polyline(_))
            | (Geometry::Vectors(_), Geometry::Vectors(_))
    );
    la == lb
        && same_coding
        && a.parameter_set == b.parameter_set
        && wire_kind(a.kind) == wire_kind(b.kind)
        && wire_region(a.region) == wire_region(b.region)
}

/// Options of the readers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// Read as this format whatever the extension.
    pub format: Option<Format>,
    /// A CLI job's id → parameter set map (`--profile`); without it the built-in profile's
    /// contour and core sets apply.
    pub cli_profile: Option<profile_map::CliProfile>,
}

/// A verified job and what its conversion assumed.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The job as frames, verified like any `.mlj`.
    pub job: JobFile,
    /// Notes of the conversion (empty for a `.mlj`).
    pub notes: Vec<String>,
}

/// The format of `path`: `opts.format`, else its extension.
pub fn format_of(path: &Path, forced: Option<Format>) -> Result<Format, FormatError> {
    forced
        .or_else(|| Format::from_path(path))
        .ok_or_else(|| FormatError::UnknownFormat {
            path: path.display().to_string(),
        })
}

/// Reads a job file of any format into a [`JobDocument`].
pub fn read_document(path: &Path, opts: &ReadOptions) -> Result<JobDocument, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    let name = path.display().to_string();
    parse_document(&bytes, &name, format_of(path, opts.format)?, opts)
}

/// Parses a job held in memory (`name` is used in messages).
pub fn parse_document(
    bytes: &[u8],
    name: &str,
    format: Format,
    opts: &ReadOptions,
) -> Result<JobDocument, FormatError> {
    match format {
        Format::Mlj => {
            let job = JobFile::parse(bytes, name, &MachineConfig::default())?;
            from_mlj::document(&job)
        }
        Format::ThreeMf => threemf_read::read(bytes, name),
        Format::Ovf => ovf_read::read(bytes, name),
        Format::Cli => cli_read::read(bytes, name, opts.cli_profile.as_ref()),
    }
}

/// Reads and verifies a job of any format: a `.mlj` as it is, any other through its
/// [`JobDocument`] coded into frames; `machine` is used for the estimates.
pub fn load_verified(
    path: &Path,
    machine: &MachineConfig,
    opts: &ReadOptions,
) -> Result<Loaded, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    let name = path.display().to_string();
    let format = format_of(path, opts.format)?;
    if format == Format::Mlj {
        let job = JobFile::parse(&bytes, &name, machine)?;
        return Ok(Loaded {
            job,
            notes: Vec::new(),
        });
    }
    let doc = parse_document(&bytes, &name, format, opts)?;
    let wire = encode_document(&doc).map_err(|source| FormatError::Encode {
        path: name.clone(),
        source,
    })?;
    let job = JobFile::parse(&wire, &name, machine)?;
    Ok(Loaded {
        job,
        notes: doc.notes,
    })
}

/// Codes a document into the wire's frame stream (what a `.mlj` holds): `LaserBlock`s when it
/// names lasers, else blocks naming none.
pub fn encode_document(doc: &JobDocument) -> Result<Vec<u8>, MljError> {
    encode_layers(
        doc,
        doc.job
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| (l, doc.layer_lasers(i))),
    )
}

/// Codes a header and layers (each with its blocks' lasers when the job names them) into
/// frames with the document's wire extras.
fn encode_layers<'a>(
    doc: &JobDocument,
    layers: impl Iterator<Item = (&'a Layer, Option<&'a [BlockLaser]>)>,
) -> Result<Vec<u8>, MljError> {
    let spec = wire_spec(&doc.job.header, &doc.wire)?;
    let enc = |source| MljError::Encode {
        path: "<memory>".into(),
        source,
    };
    let mut w = JobWriter::new(Vec::new(), &spec).map_err(enc)?;
    w.limit_layers(crate::mlj::CONTROLLER_LAYER_MEMORY);
    for (layer, lasers) in layers {
        match lasers {
            None => w.write_layer(&layer_blocks(layer)),
            Some(l) => laser_layer_blocks(layer, l).and_then(|b| w.write_laser_layer(&b)),
        }
        .map_err(enc)?;
    }
    Ok(w.finish().map_err(enc)?.0)
}

/// The wire blocks of one layer of a job naming lasers, `lasers[i]` the laser of
/// `layer.blocks[i]`, as `meltline lasers` writes them (so a `.mlj` read into a document
/// codes back to the same frames and job hash):
///
/// * a block joins the wire block before it when [`joins`] says it can and it does not open
///   its own ([`BlockLaser::opens`]);
/// * every polyline travels open (a closed one keeps its first point repeated at the end):
///   a laser's share of a contour is seldom a whole ring, and `meltline lasers` codes every
///   share open;
/// * empty blocks are left out, as [`layer_blocks`] does.
///
/// Blocks never name a part: a document has no part table. A `lasers` list not as long as
/// the layer's blocks is refused.
pub fn laser_layer_blocks(
    layer: &Layer,
    lasers: &[BlockLaser],
) -> Result<Vec<(u8, Option<u16>, BlockSpec)>, JobError> {
    use meltline_slicer::job::Geometry;
    if lasers.len() != layer.blocks.len() {
        return Err(JobError::Io(std::io::Error::other(format!(
            "layer {}: {} blocks but the lasers of {}",
            layer.index,
            layer.blocks.len(),
            lasers.len()
        ))));
    }
    let mut out: Vec<(u8, Option<u16>, BlockSpec)> = Vec::with_capacity(layer.blocks.len());
    let mut last: Option<(&VectorBlock, u8)> = None;
    for (b, l) in layer.blocks.iter().zip(lasers) {
        let empty = match &b.geometry {
            Geometry::Polyline(p) => p.len() < 2,
            Geometry::Vectors(v) => v.is_empty(),
        };
        if empty {
            continue;
        }
        let join = !l.opens && last.is_some_and(|(a, la)| joins(a, la, b, l.laser));
        last = Some((b, l.laser));
        let open = match out.last_mut() {
            Some((_, _, spec)) if join => Some(&mut spec.geometry),
            _ => None,
        };
        let geometry = match (&b.geometry, open) {
            (Geometry::Polyline(pts), open) => {
                let line: Vec<[i64; 2]> = pts
                    .iter()
                    .map(|p| [i64::from(p[0]), i64::from(p[1])])
                    .collect();
                if let Some(WireGeometry::Polylines { lines, .. }) = open {
                    lines.push(line);
                    continue;
                }
                WireGeometry::Polylines {
                    lines: vec![line],
                    closed: false,
                }
            }
            (Geometry::Vectors(v), open) => {
                let hatches = v
                    .iter()
                    .map(|[a, c]| [a[0], a[1], c[0], c[1]].map(i64::from));
                if let Some(WireGeometry::Hatches(h)) = open {
                    h.extend(hatches);
                    continue;
                }
                WireGeometry::Hatches(hatches.collect())
            }
        };
        out.push((
            l.laser,
            None,
            BlockSpec {
                param_set: b.parameter_set,
                kind: wire_kind(b.kind),
                region: wire_region(b.region),
                geometry,
            },
        ));
    }
    Ok(out)
}

/// The wire's job header and parameter sets, with spot and skywriting from `wire`.
pub fn wire_spec(
    header: &meltline_slicer::job::JobHeader,
    wire: &BTreeMap<u16, WireSet>,
) -> Result<JobSpec, MljError> {
    let mut spec = job_spec(header, &MljOptions::default())?;
    for p in &mut spec.param_sets {
        let w = wire.get(&p.id).copied().unwrap_or_default();
        p.spot_um = w.spot_um;
        p.skywriting = w.skywriting;
    }
    Ok(spec)
}

/// The layer's blocks' bounding box in job units, folded into `acc`.
pub fn fold_bounds(acc: &mut Option<[i32; 4]>, layer: &Layer) {
    use meltline_slicer::job::Geometry;
    let mut add = |p: [i32; 2]| {
        let b = acc.get_or_insert([p[0], p[1], p[0], p[1]]);
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    };
    for b in &layer.blocks {
        match &b.geometry {
            Geometry::Polyline(v) => v.iter().copied().for_each(&mut add),
            Geometry::Vectors(v) => v.iter().flatten().copied().for_each(&mut add),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meltline_slicer::job::{Geometry, Region, VectorKind};

    fn block(kind: VectorKind, geometry: Geometry) -> VectorBlock {
        VectorBlock {
            kind,
            region: Region::Core,
            parameter_set: 1,
            geometry,
        }
    }

    fn ring() -> Geometry {
        Geometry::Polyline(vec![[0, 0], [10, 0], [10, 10], [0, 0]])
    }

    #[test]
    fn laser_blocks_join_on_one_laser_unless_one_opens_and_every_polyline_travels_open() {
        let mut layer = from_mlj::empty_layer(0, 0.03);
        layer.blocks = vec![
            block(VectorKind::Contour, ring()),
            block(VectorKind::Contour, ring()),
            block(VectorKind::Contour, ring()),
            block(VectorKind::Contour, ring()),
            block(VectorKind::Hatch, Geometry::Vectors(vec![[[0, 1], [9, 1]]])),
            block(VectorKind::Hatch, Geometry::Vectors(vec![[[0, 2], [9, 2]]])),
        ];
        let lasers = [
            BlockLaser::on(0),
            BlockLaser::on(0),
            BlockLaser {
                laser: 0,
                opens: true,
            },
            BlockLaser::on(1),
            BlockLaser::on(1),
            BlockLaser::on(1),
        ];
        let wire = laser_layer_blocks(&layer, &lasers).unwrap();
        let shape: Vec<(u8, usize)> = wire
            .iter()
            .map(|(l, part, b)| {
                assert_eq!(*part, None);
                let n = match &b.geometry {
                    WireGeometry::Polylines { lines, closed } => {
                        assert!(!closed);
                        assert!(lines.iter().all(|l| l.len() == 4), "the ring's point kept");
                        lines.len()
                    }
                    WireGeometry::Hatches(h) => h.len(),
                    WireGeometry::Points(p) => p.len(),
                };
                (*l, n)
            })
            .collect();
        assert_eq!(shape, [(0, 2), (0, 1), (1, 1), (1, 2)]);
        let e = laser_layer_blocks(&layer, &lasers[..5]).unwrap_err();
        assert!(
            e.to_string()
                .contains("layer 0: 6 blocks but the lasers of 5"),
            "{e}"
        );
    }
}
