//! Block supports for LPBF: overhang detection, grid walls down to the plate or the part below,
//! perforations for powder removal, a toothed contact at the part, and the lift of the part.
//!
//! ```
//! use meltline_core::mesh::Mesh;
//! use meltline_slicer::support::{plan_supports, SupportOptions};
//!
//! // A 10 mm cube lifted 2 mm off the plate stands on walls under its whole base.
//! let cube = Mesh::axis_aligned_box([0.0; 3], [10.0; 3]);
//! let plan = plan_supports(&cube, &SupportOptions { lift_mm: 2.0, ..SupportOptions::default() });
//! assert_eq!(plan.report().regions_supported, 1);
//! assert!(!plan.layer_paths(10, 0.03).is_empty()); // z = 0.315 mm, under the part
//! assert!(plan.layer_paths(100, 0.03).is_empty()); // z = 3.015 mm, inside the part
//! ```
//!
//! Frames: the part is moved up so its lowest point sits at `z = lift` (the build frame,
//! [`SupportPlan::part_z_shift_mm`]); x and y are unchanged. Walls run on a global grid
//! (`x = k·spacing`, `y = k·spacing`) so that walls of neighbouring regions line up, and every
//! wall is clipped exactly (integer coordinates, quantum [`QUANTUM_MM`]) to the footprint of
//! its overhang region shrunk by the xy offset.

mod options;
mod overhang;
mod surface_grid;
mod wall;

use std::panic::{AssertUnwindSafe, catch_unwind};

use i_overlay::i_float::int::point::IntPoint;
use i_overlay::i_shape::int::shape::IntShapes;
use i_overlay::mesh::int::outline::offset::IntOutlineOffset;
use i_overlay::mesh::int::style::IntOutlineStyle;
use meltline_core::mesh::Mesh;
use nalgebra::Point3;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use options::{Perforation, SupportOptions, Teeth};

use surface_grid::SurfaceGrid;
use wall::{Wall, WallSite};

/// Size of one integer unit of the support module's 2D geometry, mm (1 µm).
pub const QUANTUM_MM: f64 = 1e-3;

/// Coordinates beyond this (mm) do not fit the i32 engine at the quantum with headroom.
const MAX_COORD_MM: f64 = 1.0e6;

/// Errors of support planning.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SupportError {
    /// An option is out of range or not finite.
    #[error("support option {name} = {value} {reason}")]
    InvalidOption {
        /// The option's name as in the TOML/JSON form.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What the value must satisfy.
        reason: &'static str,
    },
    /// A triangle refers to a vertex the mesh does not have.
    #[error("triangle {triangle} refers to vertex {vertex}, but the mesh has {vertices} vertices")]
    BadVertexIndex {
        /// The triangle index.
        triangle: usize,
        /// The missing vertex index.
        vertex: u32,
        /// Number of vertices in the mesh.
        vertices: usize,
    },
    /// A vertex lies outside the range the integer geometry can represent.
    #[error(
        "vertex {vertex} at ({x}, {y}, {z}) mm is outside the ±{MAX_COORD_MM} mm support geometry range"
    )]
    OutOfRange {
        /// The vertex index.
        vertex: usize,
        /// Its x, mm.
        x: f64,
        /// Its y, mm.
        y: f64,
        /// Its z, mm.
        z: f64,
    },
}

/// An open polyline of a support wall in one layer, mm in the build frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportPath {
    /// The points, in scan order.
    pub points: Vec<[f64; 2]>,
}

/// One supported overhang region and its walls.
#[derive(Debug, Clone)]
pub struct SupportRegion {
    index: usize,
    area_mm2: f64,
    footprint: IntShapes<i32>,
    walls: Vec<Wall>,
}

impl SupportRegion {
    /// The region's number in the report (order of its first triangle in the mesh).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The projected area of the overhang, mm².
    pub fn area_mm2(&self) -> f64 {
        self.area_mm2
    }

    /// The overhang's projection on the plate: shapes of contours (outer first, then holes), mm.
    pub fn footprint_mm(&self) -> Vec<Vec<Vec<[f64; 2]>>> {
        self.footprint
            .iter()
            .map(|shape| {
                shape
                    .iter()
                    .map(|c| {
                        c.iter()
                            .map(|p| [p.x as f64 * QUANTUM_MM, p.y as f64 * QUANTUM_MM])
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }

    /// Number of walls under the region.
    pub fn wall_count(&self) -> usize {
        self.walls.len()
    }
}

/// Per-region line of the [`SupportReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionReport {
    /// The region's number.
    pub index: usize,
    /// Overhanging triangles in the region.
    pub triangles: usize,
    /// Projected area, mm².
    pub area_mm2: f64,
    /// Lowest and highest point of the overhang in the build frame, mm.
    pub z_range_mm: [f64; 2],
    /// Number of walls.
    pub walls: usize,
    /// Total length of the walls seen from above, mm.
    pub wall_length_mm: f64,
    /// Fraction of the wall samples that stand on the part below rather than on the plate.
    pub on_part_fraction: f64,
}

/// A region that could not be supported, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedRegion {
    /// The region's number; `None` when the whole plan failed before regions were found.
    pub index: Option<usize>,
    /// Overhanging triangles in the region.
    pub triangles: usize,
    /// Projected area, mm² (0 when unknown).
    pub area_mm2: f64,
    /// Lowest point of the overhang in the build frame, mm (0 when unknown).
    #[serde(default)]
    pub z_mm: f64,
    /// Centre of the overhang's footprint on the plate, mm (0, 0 when unknown).
    #[serde(default)]
    pub xy_mm: [f64; 2],
    /// What went wrong.
    pub reason: String,
}

/// What support planning did: supported regions, skipped ones, failures with reasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportReport {
    /// Critical angle used, degrees from the horizontal.
    pub critical_angle_deg: f64,
    /// Lift of the part, mm.
    pub lift_mm: f64,
    /// Parameter set that exposes the support vectors.
    pub parameter_set: String,
    /// Number of regions with walls.
    pub regions_supported: usize,
    /// Projected area of the supported regions, mm².
    pub supported_area_mm2: f64,
    /// Regions below the minimum area, left unsupported on purpose.
    pub regions_below_min_area: usize,
    /// Their total projected area, mm².
    pub area_below_min_mm2: f64,
    /// Degenerate or non-finite triangles ignored by overhang detection.
    pub triangles_skipped: usize,
    /// The supported regions.
    pub regions: Vec<RegionReport>,
    /// Regions that need support but got none, with the reason.
    pub failed: Vec<FailedRegion>,
}

impl SupportReport {
    /// Projected area of the regions that need support but got none, mm².
    pub fn unsupported_area_mm2(&self) -> f64 {
        self.failed.iter().fold(0.0, |a, f| a + f.area_mm2)
    }
}

/// Supports planned for a mesh: regions with walls, cut into layers on demand.
#[derive(Debug, Clone)]
pub struct SupportPlan {
    options: SupportOptions,
    z_shift: f64,
    regions: Vec<SupportRegion>,
    report: SupportReport,
}

impl SupportPlan {
    /// The support paths of layer `layer_index`, cut at `z = (i + 0.5)·t` in the build frame.
    pub fn layer_paths(&self, layer_index: usize, layer_thickness_mm: f64) -> Vec<SupportPath> {
        let mut out = Vec::new();
        if !(layer_thickness_mm > 0.0 && layer_thickness_mm.is_finite()) {
            return out;
        }
        let z = (layer_index as f64 + 0.5) * layer_thickness_mm;
        for region in &self.regions {
            for (k, wall) in region.walls.iter().enumerate() {
                let start = out.len();
                wall.cut(z, &self.options, &mut out);
                // Every other wall is scanned backwards: a meander over the grid, short jumps.
                if k % 2 == 1 {
                    out[start..].reverse();
                    for p in &mut out[start..] {
                        p.points.reverse();
                    }
                }
            }
        }
        out
    }

    /// Height by which the part is raised off the plate, mm.
    pub fn lift_mm(&self) -> f64 {
        self.options.lift_mm
    }

    /// What to add to the mesh's z to place it in the build frame (`lift − z_min`), mm.
    pub fn part_z_shift_mm(&self) -> f64 {
        self.z_shift
    }

    /// Highest point of any support (contact penetration included), mm; 0 with no supports.
    pub fn max_z_mm(&self) -> f64 {
        self.regions
            .iter()
            .flat_map(|r| r.walls.iter().map(|w| w.z_hi))
            .fold(0.0, f64::max)
    }

    /// The parameter set that exposes support vectors.
    pub fn parameter_set(&self) -> &str {
        &self.options.parameter_set
    }

    /// The supported regions.
    pub fn regions(&self) -> &[SupportRegion] {
        &self.regions
    }

    /// The report: regions supported, their area, regions that failed and why.
    pub fn report(&self) -> &SupportReport {
        &self.report
    }

    fn empty(options: &SupportOptions, z_shift: f64) -> SupportPlan {
        SupportPlan {
            options: options.clone(),
            z_shift,
            regions: Vec::new(),
            report: SupportReport {
                critical_angle_deg: options.critical_angle_deg,
                lift_mm: options.lift_mm,
                parameter_set: options.parameter_set.clone(),
                regions_supported: 0,
                supported_area_mm2: 0.0,
                regions_below_min_area: 0,
                area_below_min_mm2: 0.0,
                triangles_skipped: 0,
                regions: Vec::new(),
                failed: Vec::new(),
            },
        }
    }
}

/// Plans block supports for `mesh`; never fails as a whole: invalid options or input give an
/// empty plan whose report says why, and a region that cannot be supported is reported in
/// [`SupportReport::failed`] while the others are supported.
pub fn plan_supports(mesh: &Mesh, options: &SupportOptions) -> SupportPlan {
    match try_plan_supports(mesh, options) {
        Ok(plan) => plan,
        Err(e) => {
            let mut plan = SupportPlan::empty(options, 0.0);
            plan.report.failed.push(FailedRegion {
                index: None,
                triangles: 0,
                area_mm2: 0.0,
                z_mm: 0.0,
                xy_mm: [0.0, 0.0],
                reason: e.to_string(),
            });
            plan
        }
    }
}

/// Like [`plan_supports`], but invalid options or out-of-range input are an error.
pub fn try_plan_supports(
    mesh: &Mesh,
    options: &SupportOptions,
) -> Result<SupportPlan, SupportError> {
    options.validate()?;
    let vertices = mesh.vertices.len();
    for (triangle, t) in mesh.triangles.iter().enumerate() {
        if let Some(&vertex) = t.iter().find(|&&v| v as usize >= vertices) {
            return Err(SupportError::BadVertexIndex {
                triangle,
                vertex,
                vertices,
            });
        }
    }
    for (vertex, p) in mesh.vertices.iter().enumerate() {
        if p.iter().any(|c| c.abs() > MAX_COORD_MM) {
            return Err(SupportError::OutOfRange {
                vertex,
                x: p.x,
                y: p.y,
                z: p.z,
            });
        }
    }
    let bbox = mesh.bbox();
    let z_min = if bbox.is_empty() { 0.0 } else { bbox.min[2] };
    let z_shift = options.lift_mm - z_min;
    let mut plan = SupportPlan::empty(options, z_shift);
    let (groups, skipped) = overhang::find_overhang_groups(mesh, options, z_min);
    plan.report.triangles_skipped = skipped;
    if groups.is_empty() {
        return Ok(plan);
    }

    let ground = SurfaceGrid::new(
        (0..mesh.triangles.len())
            .filter(|&t| {
                let n = mesh.area_normal(t);
                let len = n.norm();
                len.is_finite() && len > 1e-12 && n.z / len > 1e-9
            })
            .map(|t| mesh.corners(t))
            .collect(),
    );

    let outcomes: Vec<RegionOutcome> = groups
        .par_iter()
        .enumerate()
        .map(|(index, group)| {
            catch_unwind(AssertUnwindSafe(|| {
                plan_region(mesh, index, &group.triangles, options, &ground, z_shift)
            }))
            .unwrap_or_else(|_| {
                RegionOutcome::Failed(FailedRegion {
                    index: Some(index),
                    triangles: group.triangles.len(),
                    area_mm2: 0.0,
                    z_mm: 0.0,
                    xy_mm: [0.0, 0.0],
                    reason: "internal error while building walls (geometry library panicked)"
                        .to_string(),
                })
            })
        })
        .collect();

    for outcome in outcomes {
        match outcome {
            RegionOutcome::Supported(region, line) => {
                plan.report.regions_supported += 1;
                plan.report.supported_area_mm2 += region.area_mm2;
                plan.report.regions.push(line);
                plan.regions.push(region);
            }
            RegionOutcome::BelowMinArea(area) => {
                plan.report.regions_below_min_area += 1;
                plan.report.area_below_min_mm2 += area;
            }
            RegionOutcome::Failed(f) => plan.report.failed.push(f),
        }
    }
    Ok(plan)
}

enum RegionOutcome {
    Supported(SupportRegion, RegionReport),
    BelowMinArea(f64),
    Failed(FailedRegion),
}

fn plan_region(
    mesh: &Mesh,
    index: usize,
    triangles: &[usize],
    options: &SupportOptions,
    ground: &SurfaceGrid,
    z_shift: f64,
) -> RegionOutcome {
    let footprint = overhang::footprint(mesh, triangles);
    let area_mm2 = overhang::shapes_area(&footprint) * QUANTUM_MM * QUANTUM_MM;
    let corners: Vec<[Point3<f64>; 3]> = triangles.iter().map(|&t| mesh.corners(t)).collect();
    let z_range = corners
        .iter()
        .flatten()
        .fold([f64::INFINITY, f64::NEG_INFINITY], |r, p| {
            [r[0].min(p.z + z_shift), r[1].max(p.z + z_shift)]
        });
    // A lifted part's underside stands on nothing but its supports, however small it is.
    let underside =
        options.lift_mm > 0.0 && z_range[0] <= options.lift_mm + options.plate_tolerance_mm;
    if area_mm2 < options.min_overhang_area_mm2 && !underside {
        return RegionOutcome::BelowMinArea(area_mm2);
    }
    let failed = |reason: String| {
        RegionOutcome::Failed(FailedRegion {
            index: Some(index),
            triangles: triangles.len(),
            area_mm2,
            z_mm: z_range[0],
            xy_mm: footprint_centre_mm(&footprint),
            reason,
        })
    };
    let offset_q = (options.xy_offset_mm / QUANTUM_MM).round() as i32;
    let clip = if offset_q > 0 {
        match footprint.outline(&IntOutlineStyle::new(-offset_q)) {
            Ok(c) => c,
            Err(e) => return failed(format!("xy offset of the footprint failed: {e}")),
        }
    } else {
        footprint.clone()
    };
    let ceiling = SurfaceGrid::new(corners);
    let site = WallSite {
        ceiling: &ceiling,
        ground,
        z_shift,
    };
    match wall::build_walls(&clip, options, &site) {
        Ok(walls) if walls.is_empty() => failed(format!(
            "no wall of the {} mm support grid fits under its {area_mm2:.3} mm² footprint",
            options.grid_spacing_mm
        )),
        Ok(walls) => {
            let samples: usize = walls
                .iter()
                .map(|w| w.top.iter().filter(|t| t.is_finite()).count())
                .sum();
            let on_part: usize = walls
                .iter()
                .map(|w| {
                    w.on_part
                        .iter()
                        .zip(&w.top)
                        .filter(|(p, t)| **p && t.is_finite())
                        .count()
                })
                .sum();
            let line = RegionReport {
                index,
                triangles: triangles.len(),
                area_mm2,
                z_range_mm: z_range,
                walls: walls.len(),
                wall_length_mm: walls.iter().map(Wall::length_mm).sum(),
                on_part_fraction: if samples == 0 {
                    0.0
                } else {
                    on_part as f64 / samples as f64
                },
            };
            RegionOutcome::Supported(
                SupportRegion {
                    index,
                    area_mm2,
                    footprint,
                    walls,
                },
                line,
            )
        }
        Err(reason) => failed(reason),
    }
}

/// Centre of the bounding box of a footprint, mm.
fn footprint_centre_mm(footprint: &IntShapes<i32>) -> [f64; 2] {
    let mut lo = [i32::MAX; 2];
    let mut hi = [i32::MIN; 2];
    for p in footprint.iter().flatten().flatten() {
        lo = [lo[0].min(p.x), lo[1].min(p.y)];
        hi = [hi[0].max(p.x), hi[1].max(p.y)];
    }
    if lo[0] > hi[0] {
        return [0.0, 0.0];
    }
    [
        (f64::from(lo[0]) + f64::from(hi[0])) * 0.5 * QUANTUM_MM,
        (f64::from(lo[1]) + f64::from(hi[1])) * 0.5 * QUANTUM_MM,
    ]
}

/// The integer point of an xy position in mm.
pub(crate) fn to_int(x: f64, y: f64) -> IntPoint<i32> {
    IntPoint::new(
        (x / QUANTUM_MM).round() as i32,
        (y / QUANTUM_MM).round() as i32,
    )
}

#[cfg(test)]
mod tests;
