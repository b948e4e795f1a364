//! The threaded producer behind [`Slicer`]: checks and placement, then batches of layers
//! cut on rayon workers and handed over in order.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use meltline_core::mesh::Mesh;
use nalgebra::Vector3;
use rayon::prelude::*;

use super::{
    BuildJob, JobError, JobHeader, JobParameterSet, Layer, SlicerOptions, StageTimings,
    describe_unsupported, mesh_sha256,
};
use crate::admission::{admit_extent, admit_profile};
use crate::engrave::Engraving;
use crate::polygon::QUANTUM_MM;
use crate::profile::ProcessProfile;
use crate::region::{Foundation, SkinWindows};
use crate::slice::{LayerSection, MeshSlicer, SliceError, SliceOptions};
use crate::support::{SupportOptions, SupportPlan, SupportReport, plan_supports};

/// Everything a layer needs, shared by the producer thread and its workers.
pub(super) struct Prepared {
    pub(super) slicer: MeshSlicer,
    pub(super) profile: ProcessProfile,
    pub(super) options: SlicerOptions,
    pub(super) header: JobHeader,
    pub(super) warnings: Vec<String>,
    pub(super) supports: Option<SupportPlan>,
    /// The engraving moved with the part into the build frame.
    pub(super) engraving: Option<Engraving>,
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
        let mut warnings = check_inputs(mesh, &profile, &options)?;
        let placement = Placement::new(mesh, &options);
        let slicer = MeshSlicer::new(
            &placement.mesh,
            SliceOptions {
                layer_thickness_mm: profile.layer_thickness_mm,
                stitch_tolerance_mm: options.stitch_tolerance_mm,
            },
        )?;
        admit_extent(
            &profile,
            &options.machine,
            placement.bounds_mm,
            slicer.layer_count(),
        )?;
        let source_sha256 = options.source_sha256.unwrap_or_else(|| mesh_sha256(mesh));
        if let Some(plan) = &placement.supports {
            admit_supports(plan, &options, &mut warnings)?;
        }
        let header = JobHeader {
            machine: options.machine.machine.as_str().to_string(),
            material: profile.material.clone(),
            quantum_mm: QUANTUM_MM,
            layer_thickness_mm: profile.layer_thickness_mm,
            layer_count: slicer.layer_count(),
            parameter_sets: job_parameter_sets(&profile),
            placement_mm: placement.offset_mm,
            lift_mm: options.lift_mm,
            bounds_mm: placement.bounds_mm,
            source_sha256,
        };
        let engraving = options
            .engraving
            .as_ref()
            .map(|e| e.translated(placement.offset_mm));
        Ok(Slicer {
            inner: Arc::new(Prepared {
                slicer,
                profile,
                options,
                header,
                warnings,
                supports: placement.supports,
                engraving,
            }),
        })
    }

    /// The job header.
    pub fn header(&self) -> &JobHeader {
        &self.inner.header
    }

    /// The machine the job is made for.
    pub fn machine(&self) -> &meltline_firmware::machine::MachineConfig {
        &self.inner.options.machine
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
            cache.insert(j, self.inner.section(j));
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
            let new: Vec<LayerSection> = missing.par_iter().map(|&j| self.section(j)).collect();
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

    /// The section of layer `j`, engraved when an engraving is set.
    fn section(&self, j: usize) -> LayerSection {
        let mut section = self.slicer.slice_layer(j);
        if let Some(e) = &self.engraving {
            e.engrave_section(&mut section);
        }
        section
    }

    /// What lies below layer 0: powder when the part is lifted on supports.
    pub(super) fn foundation(&self) -> Foundation {
        if self.options.lift_mm > 0.0 {
            Foundation::Powder
        } else {
            Foundation::Plate
        }
    }
}

/// The checks that need neither placement nor slicing: the profile against the machine,
/// the mesh and the lift. Returns the profile's warnings.
fn check_inputs(
    mesh: &Mesh,
    profile: &ProcessProfile,
    options: &SlicerOptions,
) -> Result<Vec<String>, JobError> {
    profile.check()?;
    if let Some(e) = &options.engraving {
        e.check()?;
    }
    let warnings = admit_profile(profile, &options.machine)?;
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
    Ok(warnings)
}

/// Snap distance (mm) below the lift within which a vertex is put back on it: rounding in
/// the translation can leave the lowest vertex a hair below the plate.
const PLATE_SNAP_MM: f64 = 1e-9;

/// The mesh placed in the build frame, with its support plan.
struct Placement {
    /// The placed mesh.
    mesh: Mesh,
    /// The translation applied, mm.
    offset_mm: [f64; 3],
    /// The placed bounds `[min, max]`, mm.
    bounds_mm: [[f64; 3]; 2],
    /// The supports, when asked for.
    supports: Option<SupportPlan>,
}

impl Placement {
    /// Centres (if asked) and lifts the mesh; plans supports on the way.
    fn new(mesh: &Mesh, options: &SlicerOptions) -> Placement {
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
        for v in &mut placed.vertices {
            if v.z < options.lift_mm && v.z > options.lift_mm - PLATE_SNAP_MM {
                v.z = options.lift_mm;
            }
        }
        Placement {
            mesh: placed,
            offset_mm: [dx, dy, dz],
            bounds_mm: [pb.min, pb.max],
            supports,
        }
    }
}

/// Refuses a job with unsupportable overhangs unless they are allowed, then warns of them.
fn admit_supports(
    plan: &SupportPlan,
    options: &SlicerOptions,
    warnings: &mut Vec<String>,
) -> Result<(), JobError> {
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
    Ok(())
}

/// The profile's parameter sets as written in the header.
fn job_parameter_sets(profile: &ProcessProfile) -> Vec<JobParameterSet> {
    profile
        .parameter_sets()
        .iter()
        .map(|(id, label, s)| JobParameterSet {
            id: *id,
            label: label.to_string(),
            power_w: s.power_w,
            speed_mm_s: s.speed_mm_s,
            hatch_mm: s.hatch_mm,
        })
        .collect()
}
