//! The [`BuildJob`]: a header and layers of ordered [`VectorBlock`]s in integer coordinates,
//! and the [`Slicer`] that produces layers in order as a stream.
//!
//! [`Slicer::layers`] cuts batches of layers on rayon workers in a background thread and
//! hands them over in order through a bounded channel, so a caller writes layer `k` while
//! layer `k + n` is being cut and memory stays flat in the number of layers.
//! [`Slicer::build_job`] collects everything when a caller wants the whole job.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use meltline_core::mesh::Mesh;
use meltline_firmware::machine::MachineConfig;
use nalgebra::Vector3;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::admission::{Refusal, admit_extent, admit_profile};
use crate::contour;
use crate::hatch::{hatch_islands, hatch_region_within};
use crate::order::{nearest_neighbour, order_groups, rotate_to_nearest};
use crate::polygon::{Point, QUANTUM_MM, Shapes, seg_len_mm};
use crate::profile::{ProcessProfile, ProfileError, Strategy, set_id};
use crate::region::{Foundation, LayerRegions, SkinWindows};
use crate::slice::{LayerSection, MeshSlicer, SliceError, SliceOptions, Stitch};
use crate::support::{FailedRegion, SupportOptions, SupportPlan, SupportReport, plan_supports};

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

fn p(xy: Xy) -> Point {
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
        self.source_sha256
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
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

struct Prepared {
    slicer: MeshSlicer,
    profile: ProcessProfile,
    options: SlicerOptions,
    header: JobHeader,
    warnings: Vec<String>,
    supports: Option<SupportPlan>,
}

/// Produces the layers of a job from a mesh and a process profile.
#[derive(Clone)]
pub struct Slicer {
    inner: Arc<Prepared>,
}

impl std::fmt::Debug for Slicer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slicer")
            .field("header", &self.inner.header)
            .finish()
    }
}

impl Slicer {
    /// Checks the profile, places the mesh in the build frame and prepares it for slicing.
    pub fn new(
        mesh: &Mesh,
        profile: ProcessProfile,
        options: SlicerOptions,
    ) -> Result<Slicer, JobError> {
        profile.check()?;
        let mut warnings = admit_profile(&profile, &options.machine)?;
        if mesh.triangles.is_empty() {
            return Err(JobError::EmptyMesh);
        }
        if !(options.lift_mm.is_finite() && options.lift_mm >= 0.0) {
            return Err(JobError::BadLift(options.lift_mm));
        }
        if options.lift_mm > 0.0 && !options.supports {
            return Err(JobError::LiftWithoutSupports(options.lift_mm));
        }
        if !mesh.is_finite() {
            let v = mesh
                .vertices
                .iter()
                .position(|p| !(p.x.is_finite() && p.y.is_finite() && p.z.is_finite()))
                .unwrap_or(0);
            return Err(SliceError::NonFiniteVertex(v).into());
        }
        let bb = mesh.bbox();
        let c = bb.center();
        let (dx, dy) = if options.center_xy {
            (-c.x, -c.y)
        } else {
            (0.0, 0.0)
        };
        let dz = options.lift_mm - bb.min[2];
        let mut placed = mesh.clone();
        placed.translate(Vector3::new(dx, dy, 0.0));
        // Supports are planned in the plate's x, y with the part's own z; the plan lifts it.
        let supports = options.supports.then(|| {
            let so = SupportOptions {
                lift_mm: options.lift_mm,
                ..options.support.clone()
            };
            plan_supports(&placed, &so)
        });
        placed.translate(Vector3::new(0.0, 0.0, dz));
        let pb = placed.bbox();
        // Rounding in the translation can leave the lowest vertex a hair below the plate.
        for v in &mut placed.vertices {
            if v.z < options.lift_mm && v.z > options.lift_mm - 1e-9 {
                v.z = options.lift_mm;
            }
        }
        let slicer = MeshSlicer::new(
            &placed,
            SliceOptions {
                layer_thickness_mm: profile.layer_thickness_mm,
                stitch_tolerance_mm: options.stitch_tolerance_mm,
            },
        )?;
        admit_extent(
            &profile,
            &options.machine,
            [pb.min, pb.max],
            slicer.layer_count(),
        )?;
        let source_sha256 = options.source_sha256.unwrap_or_else(|| mesh_sha256(mesh));
        if let Some(plan) = &supports {
            let failed = &plan.report().failed;
            if !failed.is_empty() {
                if !options.allow_unsupported {
                    return Err(JobError::Unsupported(failed.clone()));
                }
                warnings.push(format!(
                    "{} overhang regions left unsupported: {}",
                    failed.len(),
                    describe_unsupported(failed)
                ));
            }
        }
        let header = JobHeader {
            machine: options.machine.machine.as_str().to_string(),
            material: profile.material.clone(),
            quantum_mm: QUANTUM_MM,
            layer_thickness_mm: profile.layer_thickness_mm,
            layer_count: slicer.layer_count(),
            parameter_sets: profile
                .parameter_sets()
                .iter()
                .map(|(id, label, s)| JobParameterSet {
                    id: *id,
                    label: label.to_string(),
                    power_w: s.power_w,
                    speed_mm_s: s.speed_mm_s,
                    hatch_mm: s.hatch_mm,
                })
                .collect(),
            placement_mm: [dx, dy, dz],
            lift_mm: options.lift_mm,
            bounds_mm: [pb.min, pb.max],
            source_sha256,
        };
        Ok(Slicer {
            inner: Arc::new(Prepared {
                slicer,
                profile,
                options,
                header,
                warnings,
                supports,
            }),
        })
    }

    /// The job header.
    pub fn header(&self) -> &JobHeader {
        &self.inner.header
    }

    /// The profile's warnings (energy density outside the material window).
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }

    /// The support report, when supports were asked for.
    pub fn support_report(&self) -> Option<&SupportReport> {
        self.inner.supports.as_ref().map(|p| p.report())
    }

    /// The number of layers.
    pub fn layer_count(&self) -> usize {
        self.inner.slicer.layer_count()
    }

    /// Streams the layers in order from a background thread (rayon workers cut batches of
    /// [`SlicerOptions::batch_layers`]; at most two batches wait in the channel).
    pub fn layers(&self) -> LayerStream {
        let inner = Arc::clone(&self.inner);
        let bound = inner.options.batch_layers.max(1) * 2;
        let (tx, rx) = sync_channel(bound);
        let timings = Arc::new(Mutex::new(StageTimings::default()));
        let t2 = Arc::clone(&timings);
        let handle = std::thread::spawn(move || {
            inner.produce(&t2, |layer| tx.send(layer).is_ok());
        });
        LayerStream {
            rx,
            handle: Some(handle),
            timings,
        }
    }

    /// Builds the whole job in memory (on the current rayon pool).
    pub fn build_job(&self) -> Result<BuildJob, JobError> {
        Ok(self.build_job_timed().0)
    }

    /// Builds the whole job and reports the time spent per stage.
    pub fn build_job_timed(&self) -> (BuildJob, StageTimings) {
        let timings = Mutex::new(StageTimings::default());
        let mut layers = Vec::with_capacity(self.layer_count());
        self.inner.produce(&timings, |l| {
            layers.push(l);
            true
        });
        let t = *timings.lock().unwrap_or_else(|e| e.into_inner());
        (
            BuildJob {
                header: self.inner.header.clone(),
                layers,
            },
            t,
        )
    }

    /// Builds one layer alone (cuts its neighbours for the regions).
    pub fn layer(&self, i: usize) -> Layer {
        let k = self.inner.profile.skin_layers;
        let n = self.layer_count();
        let mut cache = BTreeMap::new();
        for j in i.saturating_sub(k)..(i + k + 1).min(n) {
            cache.insert(j, self.inner.slicer.slice_layer(j));
        }
        let mut skins = SkinWindows::default();
        skins.fill(i..(i + k + 1).min(n), k, self.inner.foundation(), &|j| {
            cache.get(&j).map(|s| &s.shapes)
        });
        self.inner.build_layer(i, &cache, &skins)
    }
}

/// Layers in order from [`Slicer::layers`].
#[derive(Debug)]
pub struct LayerStream {
    rx: Receiver<Layer>,
    handle: Option<JoinHandle<()>>,
    timings: Arc<Mutex<StageTimings>>,
}

impl LayerStream {
    /// Time spent so far per stage (complete once the stream is exhausted).
    pub fn timings(&self) -> StageTimings {
        *self.timings.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Iterator for LayerStream {
    type Item = Layer;
    fn next(&mut self) -> Option<Layer> {
        match self.rx.recv() {
            Ok(l) => Some(l),
            Err(_) => {
                if let Some(h) = self.handle.take() {
                    // A panic in the producer must not pass unnoticed as a short job.
                    if let Err(e) = h.join() {
                        std::panic::resume_unwind(e);
                    }
                }
                None
            }
        }
    }
}

impl Prepared {
    /// Cuts and builds layers batch by batch, handing each to `sink` in order; stops when
    /// `sink` returns false.
    fn produce(&self, timings: &Mutex<StageTimings>, mut sink: impl FnMut(Layer) -> bool) {
        let n = self.slicer.layer_count();
        let k = self.profile.skin_layers;
        let b = self.options.batch_layers.max(1);
        let mut cache: BTreeMap<usize, LayerSection> = BTreeMap::new();
        let mut skins = SkinWindows::default();
        let foundation = self.foundation();
        let mut s = 0;
        while s < n {
            let e = (s + b).min(n);
            let lo = s.saturating_sub(k);
            let hi = (e + k).min(n);
            cache.retain(|&j, _| j >= lo);
            let missing: Vec<usize> = (lo..hi).filter(|j| !cache.contains_key(j)).collect();
            let t0 = Instant::now();
            let new: Vec<LayerSection> = missing
                .par_iter()
                .map(|&j| self.slicer.slice_layer(j))
                .collect();
            cache.extend(new.into_iter().map(|sec| (sec.index, sec)));
            let t1 = Instant::now();
            skins.retain_from(lo);
            skins.fill(s..hi, k, foundation, &|j| cache.get(&j).map(|s| &s.shapes));
            let layers: Vec<Layer> = (s..e)
                .into_par_iter()
                .map(|i| self.build_layer(i, &cache, &skins))
                .collect();
            let t2 = Instant::now();
            if let Ok(mut t) = timings.lock() {
                t.slice += t1 - t0;
                t.hatch += t2 - t1;
            }
            for l in layers {
                if !sink(l) {
                    return;
                }
            }
            s = e;
        }
    }

    /// What lies below layer 0: powder when the part is lifted on supports.
    fn foundation(&self) -> Foundation {
        if self.options.lift_mm > 0.0 {
            Foundation::Powder
        } else {
            Foundation::Plate
        }
    }

    /// Regions, contours, hatches and scan order of layer `i`; `cache` holds its section,
    /// `skins` the supported sets of layers `i` and `i + skin_layers`.
    fn build_layer(
        &self,
        i: usize,
        cache: &BTreeMap<usize, LayerSection>,
        skins: &SkinWindows,
    ) -> Layer {
        let prof = &self.profile;
        let k = prof.skin_layers;
        let n = self.slicer.layer_count();
        let empty = LayerSection {
            index: i,
            z_mm: self.slicer.cut_z(i),
            shapes: Vec::new(),
            stitches: Vec::new(),
            exact_joins: 0,
            open_chains: 0,
            open_length_mm: 0.0,
            enclosed_area_mm2: 0.0,
        };
        let section = cache.get(&i).unwrap_or(&empty);
        let regions = skins.regions(&section.shapes, i, n, k);
        let plan = contour::plan(
            &section.shapes,
            &prof.contours,
            prof.hatch.contour_distance_mm,
        );

        let mut blocks = Vec::new();
        let mut pos = Point::new(0, 0);
        // Supports first: they carry what is melted above them in this layer.
        if let Some(plan) = &self.supports {
            for path in plan.layer_paths(i, prof.layer_thickness_mm) {
                let pts: Vec<Xy> = path
                    .points
                    .iter()
                    .map(|p| {
                        [
                            crate::polygon::to_units(p[0]),
                            crate::polygon::to_units(p[1]),
                        ]
                    })
                    .collect();
                if pts.len() < 2 {
                    continue;
                }
                pos = p(pts[pts.len() - 1]);
                blocks.push(VectorBlock {
                    kind: VectorKind::Support,
                    region: Region::Support,
                    parameter_set: set_id::SUPPORT,
                    geometry: Geometry::Polyline(pts),
                });
            }
        }
        let hatch_sets = [
            (
                &regions.downskin,
                Region::Downskin,
                set_id::DOWNSKIN,
                &prof.downskin,
            ),
            (&regions.core, Region::Core, set_id::CORE, &prof.core),
            (
                &regions.upskin,
                Region::Upskin,
                set_id::UPSKIN,
                &prof.upskin,
            ),
        ];
        for (shapes, region, id, set) in hatch_sets {
            if shapes.is_empty() {
                continue;
            }
            // The region inside the contours is clipped on the hatch lines (exact intervals),
            // not by a polygon boolean per region.
            let groups = if prof.hatch.strategy == Strategy::Lines {
                // One meander per island inside the contours, islands visited
                // nearest-neighbour.
                let parts: Vec<Vec<_>> =
                    hatch_islands(shapes, &plan.hatch_area, set.hatch_mm, i, &prof.hatch)
                        .into_iter()
                        .flatten()
                        .map(|g| vec![g])
                        .collect();
                let parts = nearest_neighbour(
                    parts,
                    pos,
                    |g| g[0].hatches[0][0],
                    |g| g[g.len() - 1].hatches[g[g.len() - 1].hatches.len() - 1][1],
                );
                parts.into_iter().flatten().collect()
            } else {
                order_groups(
                    hatch_region_within(
                        shapes,
                        Some(plan.hatch_area.as_slice()),
                        set.hatch_mm,
                        i,
                        &prof.hatch,
                    ),
                    prof.hatch.strategy,
                )
            };
            for g in groups {
                if let Some(last) = g.hatches.last() {
                    pos = last[1];
                }
                blocks.push(VectorBlock {
                    kind: VectorKind::Hatch,
                    region,
                    parameter_set: id,
                    geometry: Geometry::Vectors(
                        g.hatches.iter().map(|s| [xy(s[0]), xy(s[1])]).collect(),
                    ),
                });
            }
        }
        // Contours: innermost ring first so the outer surface is melted last, against
        // already-solid material; within a ring, nearest-neighbour.
        for ring in plan.rings.iter().rev() {
            let ordered = nearest_neighbour(ring.clone(), pos, |c| c[0], |c| c[0]);
            for mut c in ordered {
                rotate_to_nearest(&mut c, pos);
                pos = c[0];
                let mut pts: Vec<Xy> = c.iter().map(|&q| xy(q)).collect();
                pts.push(pts[0]);
                blocks.push(VectorBlock {
                    kind: VectorKind::Contour,
                    region: Region::Part,
                    parameter_set: set_id::CONTOUR,
                    geometry: Geometry::Polyline(pts),
                });
            }
        }
        if !plan.edges.is_empty() {
            let edges = nearest_neighbour(plan.edges.clone(), pos, |e| e[0], |e| e[1]);
            blocks.push(VectorBlock {
                kind: VectorKind::Edge,
                region: Region::Part,
                parameter_set: set_id::CONTOUR,
                geometry: Geometry::Vectors(edges.iter().map(|e| [xy(e[0]), xy(e[1])]).collect()),
            });
        }
        Layer {
            index: i,
            z_mm: section.z_mm,
            area_mm2: section.area_mm2(),
            section: section.shapes.clone(),
            regions,
            blocks,
            report: LayerReport {
                stitches: section.stitches.clone(),
                exact_joins: section.exact_joins,
                open_chains: section.open_chains,
                open_length_mm: section.open_length_mm,
                unexposed_parts: plan.unexposed_parts,
                unexposed_area_mm2: plan.unexposed_area_mm2,
                largest_unexposed: plan.largest_unexposed,
            },
        }
    }
}

fn xy(q: Point) -> Xy {
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
