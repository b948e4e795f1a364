//! The [`BuildJob`]: a header and layers of ordered [`VectorBlock`]s in integer coordinates,
//! and the [`Slicer`] that produces layers in order as a stream.
//!
//! [`Slicer::layers`] cuts batches of layers on rayon workers in a background thread and
//! hands them over in order through a bounded channel, so a caller writes layer `k` while
//! layer `k + n` is being cut and memory stays flat in the number of layers.
//! [`Slicer::build_job`] collects everything when a caller wants the whole job.
//!
//! This module holds the job's data; `pipeline` the threaded producer and `layer` the
//! steps that turn one cut section into ordered blocks.

use std::time::Duration;

use meltline_core::mesh::Mesh;
use meltline_firmware::hex::Hex;
use meltline_firmware::machine::MachineConfig;
use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::admission::Refusal;
use crate::engrave::{EngraveError, Engraving};
use crate::polygon::Shapes;
use crate::polygon::{Point, seg_len_mm};
use crate::profile::ProfileError;
use crate::region::LayerRegions;
use crate::slice::{SliceError, Stitch};
use crate::support::{FailedRegion, SupportOptions};

mod layer;
mod pipeline;

pub use pipeline::{LayerStream, Slicer};

/// A point in job units (see [`JobHeader::quantum_mm`]).
pub type Xy = [i32; 2];

/// What a block of vectors is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VectorKind {
    /// A closed contour polyline.
    Contour,
    /// Hatch vectors (pairs).
    Hatch,
    /// Centre-line vectors of walls too thin for contours (pairs).
    Edge,
    /// Support vectors.
    Support,
}

/// Which region of the layer a block exposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// The part boundary (contours and edges).
    Part,
    /// Core.
    Core,
    /// Upskin.
    Upskin,
    /// Downskin.
    Downskin,
    /// Support structure.
    Support,
}

/// The vectors of a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Geometry {
    /// One polyline; closed contours repeat their first point at the end.
    Polyline(Vec<Xy>),
    /// Independent vectors (start, end), scanned in order.
    Vectors(Vec<[Xy; 2]>),
}

/// Vectors scanned with one parameter set, of one kind, in one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VectorBlock {
    /// The kind of vectors.
    pub kind: VectorKind,
    /// The region they expose.
    pub region: Region,
    /// The parameter set id (see [`crate::profile::set_id`]).
    pub parameter_set: u16,
    /// The vectors.
    pub geometry: Geometry,
}

pub(crate) fn p(xy: Xy) -> Point {
    Point::new(xy[0], xy[1])
}

impl VectorBlock {
    /// Where the beam starts marking.
    pub fn start(&self) -> Option<Xy> {
        match &self.geometry {
            Geometry::Polyline(v) => v.first().copied(),
            Geometry::Vectors(v) => v.first().map(|s| s[0]),
        }
    }

    /// Where the beam ends marking.
    pub fn end(&self) -> Option<Xy> {
        match &self.geometry {
            Geometry::Polyline(v) => v.last().copied(),
            Geometry::Vectors(v) => v.last().map(|s| s[1]),
        }
    }

    /// The number of marked vectors (polyline segments or pairs).
    pub fn vector_count(&self) -> usize {
        match &self.geometry {
            Geometry::Polyline(v) => v.len().saturating_sub(1),
            Geometry::Vectors(v) => v.len(),
        }
    }

    /// The marked length in mm.
    pub fn mark_length_mm(&self) -> f64 {
        match &self.geometry {
            Geometry::Polyline(v) => v.windows(2).map(|w| seg_len_mm(p(w[0]), p(w[1]))).sum(),
            Geometry::Vectors(v) => v.iter().map(|s| seg_len_mm(p(s[0]), p(s[1]))).sum(),
        }
    }

    /// The jump length inside the block (between successive vectors) in mm.
    pub fn inner_jump_mm(&self) -> f64 {
        match &self.geometry {
            Geometry::Polyline(_) => 0.0,
            Geometry::Vectors(v) => v
                .windows(2)
                .map(|w| seg_len_mm(p(w[0][1]), p(w[1][0])))
                .sum(),
        }
    }
}

/// What the slicer noticed on a layer: stitched gaps, open chains, thin parts not exposed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerReport {
    /// Gaps closed by stitching.
    pub stitches: Vec<Stitch>,
    /// Chains joined at the same point on different mesh edges (T-junctions).
    pub exact_joins: usize,
    /// Open chains left out.
    pub open_chains: usize,
    /// Their length in mm.
    pub open_length_mm: f64,
    /// Parts lost by the beam offset and too small for an edge vector.
    pub unexposed_parts: usize,
    /// Their area in mm².
    pub unexposed_area_mm2: f64,
    /// Centre (mm) and area (mm²) of the largest of them.
    pub largest_unexposed: Option<([f64; 2], f64)>,
}

/// One layer of the job.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Layer index from the plate.
    pub index: usize,
    /// The cut height in mm, `(index + 0.5)·t`.
    pub z_mm: f64,
    /// Cross-section area before any offset, mm².
    pub area_mm2: f64,
    /// The cross-section (before offsets).
    pub section: Shapes,
    /// Its regions.
    pub regions: LayerRegions,
    /// The blocks in scan order.
    pub blocks: Vec<VectorBlock>,
    /// Diagnostics.
    pub report: LayerReport,
}

impl Layer {
    /// The jump length between blocks and inside them, starting from the first block, mm.
    pub fn jump_length_mm(&self) -> f64 {
        let mut total: f64 = self.blocks.iter().map(|b| b.inner_jump_mm()).sum();
        for w in self.blocks.windows(2) {
            if let (Some(a), Some(b)) = (w[0].end(), w[1].start()) {
                total += seg_len_mm(p(a), p(b));
            }
        }
        total
    }
}

/// A parameter set as written in the job header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobParameterSet {
    /// Id used by blocks.
    pub id: u16,
    /// Label (`$$LABEL` in CLI).
    pub label: String,
    /// Power in W.
    pub power_w: f64,
    /// Speed in mm/s.
    pub speed_mm_s: f64,
    /// Hatch distance in mm.
    pub hatch_mm: f64,
}

/// The job header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobHeader {
    /// Machine name.
    pub machine: String,
    /// Material.
    pub material: String,
    /// Size of one coordinate unit in mm.
    pub quantum_mm: f64,
    /// Layer thickness in mm.
    pub layer_thickness_mm: f64,
    /// Number of layers.
    pub layer_count: usize,
    /// Parameter sets.
    pub parameter_sets: Vec<JobParameterSet>,
    /// Translation applied to the source mesh to place it in the build frame, mm.
    pub placement_mm: [f64; 3],
    /// Height of the part's bottom above the plate (support lift), mm.
    pub lift_mm: f64,
    /// The placed part's bounds `[min, max]` in mm.
    pub bounds_mm: [[f64; 3]; 2],
    /// SHA-256 of the source (file bytes when given, else the mesh's canonical bytes).
    pub source_sha256: [u8; 32],
}

impl JobHeader {
    /// The source hash as lowercase hex.
    pub fn source_sha256_hex(&self) -> String {
        Hex(&self.source_sha256).to_string()
    }
}

/// A whole build job in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildJob {
    /// The header.
    pub header: JobHeader,
    /// The layers, in order.
    pub layers: Vec<Layer>,
}

/// Options of the [`Slicer`] beyond the process profile.
#[derive(Debug, Clone, PartialEq)]
pub struct SlicerOptions {
    /// Height of the part's bottom above the plate (on supports), mm.
    pub lift_mm: f64,
    /// Centre the part's bounding box on the plate origin in x and y.
    pub center_xy: bool,
    /// Generate support structures.
    pub supports: bool,
    /// Support settings (their `lift_mm` is replaced by [`SlicerOptions::lift_mm`]).
    pub support: SupportOptions,
    /// Open chains within this gap are stitched (mm).
    pub stitch_tolerance_mm: f64,
    /// Layers per parallel batch of the stream.
    pub batch_layers: usize,
    /// The source file's SHA-256, if the caller has it (else the mesh is hashed).
    pub source_sha256: Option<[u8; 32]>,
    /// The machine whose rules the job must satisfy (the controller's description).
    pub machine: MachineConfig,
    /// Make the job even when some overhang regions cannot be supported (they are listed in
    /// the warnings); otherwise such a job is refused.
    pub allow_unsupported: bool,
    /// Text to engrave into the part (its serial number), in the frame of the mesh given to
    /// the [`Slicer`]; `None` leaves the sections as cut.
    pub engraving: Option<Engraving>,
}

impl SlicerOptions {
    /// These options with `engraving` cut into every layer it reaches.
    pub fn with_engraving(mut self, engraving: Engraving) -> SlicerOptions {
        self.engraving = Some(engraving);
        self
    }
}

impl Default for SlicerOptions {
    fn default() -> Self {
        SlicerOptions {
            lift_mm: 0.0,
            center_xy: false,
            supports: false,
            support: SupportOptions::default(),
            stitch_tolerance_mm: 0.05,
            batch_layers: 32,
            source_sha256: None,
            machine: MachineConfig::default(),
            allow_unsupported: false,
            engraving: None,
        }
    }
}

/// What prevents a job from being made.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum JobError {
    /// The process profile is invalid or outside the machine limits.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The mesh cannot be sliced.
    #[error(transparent)]
    Slice(#[from] SliceError),
    /// The mesh has no triangles.
    #[error("the mesh has no triangles")]
    EmptyMesh,
    /// A lift without supports would leave the part floating.
    #[error("a lift of {0} mm needs supports: the part would float over the plate")]
    LiftWithoutSupports(f64),
    /// The lift is negative or not finite.
    #[error("lift {0} mm must be zero or positive")]
    BadLift(f64),
    /// The machine would refuse the job.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Overhang regions need support and cannot get it.
    #[error("{} overhang regions ({:.3} mm²) cannot be supported: {}", .0.len(), .0.iter().map(|f| f.area_mm2).sum::<f64>(), describe_unsupported(.0))]
    Unsupported(Vec<FailedRegion>),
    /// The engraving asked for cannot be made.
    #[error(transparent)]
    Engraving(#[from] EngraveError),
}

/// One line per unsupported region: area, z, place and reason.
pub fn describe_unsupported(regions: &[FailedRegion]) -> String {
    regions
        .iter()
        .map(|f| {
            format!(
                "region {} of {:.3} mm² at z {:.3} mm, x {:.2}, y {:.2} mm: {}",
                f.index.map_or("-".to_string(), |i| i.to_string()),
                f.area_mm2,
                f.z_mm,
                f.xy_mm[0],
                f.xy_mm[1],
                f.reason
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Wall-clock time spent in the slicing and in the region/contour/hatch stages.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimings {
    /// Cutting sections.
    pub slice: Duration,
    /// Regions, contours, hatching and ordering.
    pub hatch: Duration,
}

/// A point in job units from a slicer point.
pub(crate) fn xy(q: Point) -> Xy {
    [q.x, q.y]
}

/// SHA-256 of a mesh's canonical bytes: vertex coordinates as little-endian f64, then
/// triangle indices as little-endian u32.
pub fn mesh_sha256(mesh: &Mesh) -> [u8; 32] {
    let mut h = Sha256::new();
    for v in &mesh.vertices {
        for c in [v.x, v.y, v.z] {
            h.update(c.to_le_bytes());
        }
    }
    for t in &mesh.triangles {
        for i in t {
            h.update(i.to_le_bytes());
        }
    }
    h.finalize().into()
}
