//! Patient fit: the disc space between two vertebrae, their facing endplates as smooth height
//! surfaces, and the placement of the cage footprint inside the endplate rim.
//!
//! Method:
//! 1. **Disc axis.** Start from the direction between the two bodies' area centroids. Cast rays
//!    along it on a 1 mm grid: the lowest hit on the upper vertebra is its inferior endplate,
//!    the highest hit on the lower vertebra its superior endplate; a hit counts as endplate when
//!    the surface there is within 45° of facing the disc. Fit a plane to each endplate and take
//!    the bisector of their normals as the refined axis (lordosis then splits evenly between
//!    top and bottom); repeat once.
//! 2. **In-plane axes.** Principal axes of the endplate region: the major one is lateral, the
//!    minor one anterior–posterior, oriented so the disc is taller anteriorly (lordosis).
//! 3. **Placement.** The footprint's centre goes to the region's centroid, shifted if needed
//!    until the whole footprint lies inside the region eroded by [`FitOptions::rim_margin_mm`].
//! 4. **Surfaces.** Rays on a fine grid (spacing ≤ 0.25 mm) give the endplate heights; a
//!    binomial 3×3 smoothing removes facet noise, but never moves a surface towards the bone
//!    (min with the raw heights on the upper plate, max on the lower), so the cage never
//!    penetrates at a grid node. Bilinear interpolation between nodes; the clearance is applied.
//!
//! Rays are cast against the meshes themselves (projected triangles binned on a 2D grid), so
//! the surfaces and the fit metrics are both measured against the bone meshes, not a model.

use nalgebra::{Matrix3, Point3, Rotation3, Vector2, Vector3};

use super::footprint::Footprint;
pub use super::height_grid::HeightGrid;
use super::height_grid::smooth_and_fill;
use super::spec::{CageKind, CageSpec};
pub use crate::geom::{Frame, RayCaster};
use crate::mesh::Mesh;

/// Options of the endplate fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// How far inside the endplate region's edge the footprint must stay, mm.
    pub rim_margin_mm: f64,
    /// A hit is endplate when its surface normal is within this angle of the disc axis, degrees.
    pub max_tilt_deg: f64,
    /// Spacing of the fine height grid, mm (the spec's edge length is used when smaller).
    pub grid_step_mm: f64,
}

impl Default for FitOptions {
    fn default() -> FitOptions {
        FitOptions {
            rim_margin_mm: 1.0,
            max_tilt_deg: 45.0,
            grid_step_mm: 0.25,
        }
    }
}

/// Why the endplates could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// A vertebra mesh has no triangle or non-finite coordinates.
    #[error("{which} vertebra mesh is empty or has non-finite coordinates")]
    BadMesh {
        /// "upper" or "lower".
        which: &'static str,
    },
    /// The two vertebrae overlap or are too close to tell apart.
    #[error("the vertebrae's centroids are {distance_mm:.2} mm apart: no disc space between them")]
    NoDiscSpace {
        /// Centroid distance.
        distance_mm: f64,
    },
    /// Too few rays found both facing endplates.
    #[error("found only {cells} grid cells (1 mm²) where both endplates face each other")]
    NoEndplates {
        /// Cells found.
        cells: usize,
    },
    /// The endplates touch or cross inside the region.
    #[error(
        "the endplates touch or cross (smallest gap {min_gap_mm:.3} mm) inside the cage footprint"
    )]
    Collapsed {
        /// Smallest gap found.
        min_gap_mm: f64,
    },
    /// The footprint does not fit inside the endplate rim.
    #[error(
        "the {length:.1} × {width:.1} mm footprint does not fit inside the endplate rim (region about {region_a:.1} × {region_b:.1} mm, margin {margin:.1} mm)"
    )]
    DoesNotFit {
        /// Footprint length.
        length: f64,
        /// Footprint width.
        width: f64,
        /// Region extent along its major axis.
        region_a: f64,
        /// Region extent along its minor axis.
        region_b: f64,
        /// Required margin.
        margin: f64,
    },
}

/// The fitted disc space: cage frame, faces and what the fit found.
#[derive(Debug, Clone, PartialEq)]
pub struct EndplateFit {
    /// The cage's local (build) frame in patient coordinates: z along the disc axis, bottom of
    /// the cage at local z = 0.
    pub frame: Frame,
    /// Top face of the cage in the local frame (upper endplate minus the clearance).
    pub top: HeightGrid,
    /// Bottom face of the cage in the local frame (lower endplate plus the clearance).
    pub bottom: HeightGrid,
    /// Angle between the two endplate planes, degrees.
    pub lordosis_deg: f64,
    /// Endplate-to-endplate distance at the footprint centre, mm.
    pub centre_gap_mm: f64,
    /// Area where both endplates face each other, mm².
    pub region_area_mm2: f64,
}

/// Area-weighted centroid of a surface mesh's triangles.
fn surface_centroid(m: &Mesh) -> Option<Point3<f64>> {
    let mut sum = Vector3::zeros();
    let mut area = 0.0;
    for t in 0..m.triangles.len() {
        let c = m.corners(t);
        let a = m.area_normal(t).norm();
        sum += (c[0].coords + c[1].coords + c[2].coords) * (a / 3.0);
        area += a;
    }
    (area > 0.0 && sum.iter().all(|v| v.is_finite())).then(|| Point3::from(sum / area))
}

/// A frame with origin `o` and z axis `z` (x, y chosen from `x_hint`).
fn frame_from(o: Point3<f64>, z: Vector3<f64>, x_hint: Vector3<f64>) -> Frame {
    let z = z.normalize();
    let mut x = x_hint - z * x_hint.dot(&z);
    if x.norm() < 1e-6 {
        x = if z.x.abs() < 0.9 {
            Vector3::x()
        } else {
            Vector3::y()
        };
        x -= z * x.dot(&z);
    }
    let x = x.normalize();
    let y = z.cross(&x);
    Frame {
        origin: o,
        axes: Matrix3::from_columns(&[x, y, z]),
    }
}

/// Endplate heights on a regular grid of the frame: (upper, lower) per node.
struct Survey {
    origin: [f64; 2],
    step: f64,
    size: [usize; 2],
    upper: Vec<Option<f64>>,
    lower: Vec<Option<f64>>,
}

impl Survey {
    /// A survey at `step` over the box where both meshes, seen along `frame`, have triangles.
    fn over_overlap(
        upper: &Mesh,
        lower: &Mesh,
        frame: Frame,
        step: f64,
        min_facing: f64,
    ) -> Survey {
        let up = RayCaster::new(upper, frame);
        let low = RayCaster::new(lower, frame);
        let (lo, hi) = overlap_box(&up, &low);
        let size = [
            ((hi[0] - lo[0]) / step) as usize + 1,
            ((hi[1] - lo[1]) / step) as usize + 1,
        ];
        Survey::run(&up, &low, lo, step, size, min_facing)
    }

    fn run(
        up: &RayCaster,
        low: &RayCaster,
        origin: [f64; 2],
        step: f64,
        size: [usize; 2],
        min_facing: f64,
    ) -> Survey {
        let mut upper = Vec::with_capacity(size[0] * size[1]);
        let mut lower = Vec::with_capacity(size[0] * size[1]);
        let mut buf = Vec::new();
        for j in 0..size[1] {
            for i in 0..size[0] {
                let x = origin[0] + i as f64 * step;
                let y = origin[1] + j as f64 * step;
                let u = up.endplate_hit(x, y, true, min_facing, &mut buf);
                let l = low.endplate_hit(x, y, false, min_facing, &mut buf);
                // Both must face each other across a positive gap.
                let ok = matches!((u, l), (Some(u), Some(l)) if u > l);
                upper.push(if ok { u } else { None });
                lower.push(if ok { l } else { None });
            }
        }
        Survey {
            origin,
            step,
            size,
            upper,
            lower,
        }
    }

    fn point(&self, i: usize, j: usize) -> [f64; 2] {
        [
            self.origin[0] + i as f64 * self.step,
            self.origin[1] + j as f64 * self.step,
        ]
    }

    fn valid(&self, i: usize, j: usize) -> bool {
        self.upper[j * self.size[0] + i].is_some()
    }
}

/// Least-squares plane `z = a x + b y + c` through points; returns its upward unit normal.
fn plane_normal(pts: &[Point3<f64>]) -> Option<Vector3<f64>> {
    if pts.len() < 3 {
        return None;
    }
    let n = pts.len() as f64;
    let c = pts.iter().fold(Vector3::zeros(), |s, p| s + p.coords) / n;
    let mut m = Matrix3::zeros();
    let mut r = Vector3::zeros();
    for p in pts {
        let d = p.coords - c;
        let row = Vector3::new(d.x, d.y, 1.0);
        m += row * row.transpose();
        r += row * d.z;
    }
    let s = m.try_inverse()? * r;
    Some(Vector3::new(-s.x, -s.y, 1.0).normalize())
}

/// Fits the disc space between `upper` and `lower` (patient frame, mm) for `spec`'s footprint.
pub fn fit_endplates(
    upper: &Mesh,
    lower: &Mesh,
    spec: &CageSpec,
    opts: &FitOptions,
) -> Result<EndplateFit, FitError> {
    let min_facing = opts.max_tilt_deg.to_radians().cos();
    let (frame, lordosis_deg) = disc_frame(upper, lower, min_facing)?;
    let survey = Survey::over_overlap(upper, lower, frame, REGION_STEP_MM, min_facing);
    let region = EndplateRegion::of(&survey);
    let region_area_mm2 = region.cells.len() as f64 * REGION_STEP_MM * REGION_STEP_MM;
    let placement = Placement::new(spec, &region);
    let shift = placement.shift_inside(&survey, opts.rim_margin_mm, &region)?;
    let cage_frame = placement.cage_frame(&frame, shift);
    let surfaces = fine_surfaces(upper, lower, spec, opts, &placement, cage_frame, min_facing)?;
    Ok(EndplateFit {
        lordosis_deg,
        region_area_mm2,
        ..surfaces
    })
}

/// The spacing (mm) of the coarse surveys that refine the disc axis.
const AXIS_STEP_MM: f64 = 1.0;

/// The spacing (mm) of the survey that finds the endplate region and places the footprint.
const REGION_STEP_MM: f64 = 0.5;

/// The fewest coarse survey cells on which an endplate plane fit is trusted.
const MIN_AXIS_CELLS: usize = 20;

/// Step 1: the disc frame (z along the bisector of the endplate planes, refined twice from
/// the centroid direction) and the lordosis angle (degrees) between the planes.
fn disc_frame(upper: &Mesh, lower: &Mesh, min_facing: f64) -> Result<(Frame, f64), FitError> {
    let cu = surface_centroid(upper).ok_or(FitError::BadMesh { which: "upper" })?;
    let cl = surface_centroid(lower).ok_or(FitError::BadMesh { which: "lower" })?;
    let axis = cu - cl;
    if axis.norm() < 1.0 {
        return Err(FitError::NoDiscSpace {
            distance_mm: axis.norm(),
        });
    }
    let mut frame = frame_from(
        Point3::from((cu.coords + cl.coords) * 0.5),
        axis,
        Vector3::x(),
    );
    let mut lordosis = 0.0;
    for _ in 0..3 {
        (frame, lordosis) = refine_disc_frame(upper, lower, frame, min_facing)?;
    }
    Ok((frame, lordosis))
}

/// One refinement of the disc frame: a coarse survey, a plane through each endplate, the
/// bisector of their normals as the new axis; also the angle between the planes.
fn refine_disc_frame(
    upper: &Mesh,
    lower: &Mesh,
    frame: Frame,
    min_facing: f64,
) -> Result<(Frame, f64), FitError> {
    let s = Survey::over_overlap(upper, lower, frame, AXIS_STEP_MM, min_facing);
    let (mut pu, mut pl) = (Vec::new(), Vec::new());
    for j in 0..s.size[1] {
        for i in 0..s.size[0] {
            let k = j * s.size[0] + i;
            if let (Some(u), Some(l)) = (s.upper[k], s.lower[k]) {
                let [x, y] = s.point(i, j);
                pu.push(Point3::new(x, y, u));
                pl.push(Point3::new(x, y, l));
            }
        }
    }
    if pu.len() < MIN_AXIS_CELLS {
        return Err(FitError::NoEndplates { cells: pu.len() });
    }
    let (Some(nu), Some(nl)) = (plane_normal(&pu), plane_normal(&pl)) else {
        return Err(FitError::NoEndplates { cells: pu.len() });
    };
    let centroid = pu.iter().zip(&pl).fold(Vector3::zeros(), |s, (a, b)| {
        s + (a.coords + b.coords) * 0.5
    }) / pu.len() as f64;
    let bisector = (nu + nl).normalize();
    let new_z = frame.axes * bisector;
    let origin = frame.to_patient(&Point3::from(centroid));
    let lordosis = nu.angle(&nl).to_degrees();
    Ok((
        frame_from(origin, new_z, frame.axes.column(0).into()),
        lordosis,
    ))
}

/// One cell of the endplate region: its centre and the disc height there.
#[derive(Debug, Clone, Copy)]
struct RegionCell {
    x: f64,
    y: f64,
    gap: f64,
}

/// Step 2: where both endplates face each other, with its centroid and principal axes.
struct EndplateRegion {
    cells: Vec<RegionCell>,
    /// The cells' centroid (x, y).
    centre: Vector2<f64>,
    /// The major principal axis (across the spine).
    lateral: Vector2<f64>,
    /// The minor axis, oriented towards where the disc is taller.
    anterior: Vector2<f64>,
}

impl EndplateRegion {
    /// The region of a survey's valid cells.
    fn of(survey: &Survey) -> EndplateRegion {
        let mut cells = Vec::new();
        for j in 0..survey.size[1] {
            for i in 0..survey.size[0] {
                if survey.valid(i, j) {
                    let k = j * survey.size[0] + i;
                    let [x, y] = survey.point(i, j);
                    let gap = survey.upper[k].unwrap_or(0.0) - survey.lower[k].unwrap_or(0.0);
                    cells.push(RegionCell { x, y, gap });
                }
            }
        }
        let n = cells.len() as f64;
        let (mx, my) = cells
            .iter()
            .fold((0.0, 0.0), |s, c| (s.0 + c.x / n, s.1 + c.y / n));
        let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
        for c in &cells {
            let (dx, dy) = (c.x - mx, c.y - my);
            sxx += dx * dx;
            sxy += dx * dy;
            syy += dy * dy;
        }
        let major_angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
        let lateral = Vector2::new(major_angle.cos(), major_angle.sin());
        let mut anterior = Vector2::new(-lateral.y, lateral.x);
        // The disc is taller anteriorly: orient the minor axis along the gap's growth.
        let slope: f64 = cells
            .iter()
            .map(|c| c.gap * ((c.x - mx) * anterior.x + (c.y - my) * anterior.y))
            .sum();
        if slope < 0.0 {
            anterior = -anterior;
        }
        EndplateRegion {
            cells,
            centre: Vector2::new(mx, my),
            lateral: Vector2::new(anterior.y, -anterior.x),
            anterior,
        }
    }

    /// The region's extent (mm) along direction `d`.
    fn extent(&self, d: Vector2<f64>) -> f64 {
        let v: Vec<f64> = self
            .cells
            .iter()
            .map(|c| (c.x - self.centre.x) * d.x + (c.y - self.centre.y) * d.y)
            .collect();
        v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - v.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

/// The largest shift (mm, per axis) tried when placing the footprint, in steps of
/// [`SHIFT_STEP_MM`].
const MAX_SHIFT_STEPS: i32 = 20;

/// The step (mm) of the placement shifts tried.
const SHIFT_STEP_MM: f64 = 0.5;

/// Step 3: how the footprint's axes and centre map into the disc frame.
struct Placement {
    footprint: Footprint,
    /// Footprint bounds `[x0, y0, x1, y1]`.
    bounds: [f64; 4],
    /// The footprint's bounding-box centre.
    centre: Vector2<f64>,
    /// The region centroid the footprint centre goes to (before a shift).
    target: Vector2<f64>,
    /// Cage local x and y in the frame's plane, per kind (see [`CageKind`]).
    axes: (Vector2<f64>, Vector2<f64>),
}

impl Placement {
    /// The footprint of `spec`, centred on `region` and aligned with its axes.
    fn new(spec: &CageSpec, region: &EndplateRegion) -> Placement {
        let axes = match spec.kind {
            CageKind::Plif => (region.anterior, -region.lateral),
            _ => (region.lateral, region.anterior),
        };
        let footprint = Footprint::from_spec(spec);
        let fb = footprint.bounds();
        Placement {
            centre: Vector2::new(0.5 * (fb[0] + fb[2]), 0.5 * (fb[1] + fb[3])),
            bounds: fb,
            footprint,
            target: region.centre,
            axes,
        }
    }

    /// Frame-plane coordinates of footprint point `p` with the placement shifted by `shift`.
    fn to_frame(&self, p: Vector2<f64>, shift: Vector2<f64>) -> Vector2<f64> {
        let q = p - self.centre;
        let (cx, cy) = self.axes;
        self.target + shift + cx * q.x + cy * q.y
    }

    /// The smallest shift that puts the whole footprint inside the region eroded by `margin`.
    fn shift_inside(
        &self,
        survey: &Survey,
        margin: f64,
        region: &EndplateRegion,
    ) -> Result<Vector2<f64>, FitError> {
        let step = survey.step;
        let inside = |x: f64, y: f64| -> bool {
            let fi = (x - survey.origin[0]) / step;
            let fj = (y - survey.origin[1]) / step;
            if fi < 0.0 || fj < 0.0 {
                return false;
            }
            let (i, j) = (fi.round() as usize, fj.round() as usize);
            i < survey.size[0] && j < survey.size[1] && survey.valid(i, j)
        };
        let samples: Vec<Vector2<f64>> = footprint_samples(&self.footprint, margin);
        let mut shifts: Vec<Vector2<f64>> = Vec::new();
        for a in -MAX_SHIFT_STEPS..=MAX_SHIFT_STEPS {
            for b in -MAX_SHIFT_STEPS..=MAX_SHIFT_STEPS {
                shifts.push(Vector2::new(
                    a as f64 * SHIFT_STEP_MM,
                    b as f64 * SHIFT_STEP_MM,
                ));
            }
        }
        shifts.sort_by(|a, b| {
            a.norm()
                .total_cmp(&b.norm())
                .then(a.x.total_cmp(&b.x))
                .then(a.y.total_cmp(&b.y))
        });
        let fb = self.bounds;
        shifts
            .into_iter()
            .find(|s| {
                samples.iter().all(|p| {
                    let q = self.to_frame(*p, *s);
                    inside(q.x, q.y)
                })
            })
            .ok_or(FitError::DoesNotFit {
                length: fb[2] - fb[0],
                width: fb[3] - fb[1],
                region_a: region.extent(region.lateral),
                region_b: region.extent(region.anterior),
                margin,
            })
    }

    /// The cage frame: origin at the placed footprint's local origin, on the disc frame's
    /// plane, axes the footprint's.
    fn cage_frame(&self, frame: &Frame, shift: Vector2<f64>) -> Frame {
        let (cx, cy) = self.axes;
        let o2 = self.to_frame(Vector2::zeros(), shift);
        let cage_axes = Matrix3::from_columns(&[
            frame.axes * Vector3::new(cx.x, cx.y, 0.0),
            frame.axes * Vector3::new(cy.x, cy.y, 0.0),
            frame.axes.column(2).into(),
        ]);
        Frame {
            origin: frame.to_patient(&Point3::new(o2.x, o2.y, 0.0)),
            axes: cage_axes,
        }
    }
}

/// The pad (mm) the fine surfaces extend beyond the footprint's bounds.
const SURFACE_PAD_MM: f64 = 2.0;

/// The least disc height (mm) over the footprint for a cage to be made.
const MIN_GAP_MM: f64 = 1.0;

/// Step 4: the fine top and bottom surfaces on the cage frame's grid, with the clearance
/// applied, the bottom's lowest point moved to z = 0 (lordosis and region area left 0).
fn fine_surfaces(
    upper: &Mesh,
    lower: &Mesh,
    spec: &CageSpec,
    opts: &FitOptions,
    placement: &Placement,
    mut cage_frame: Frame,
    min_facing: f64,
) -> Result<EndplateFit, FitError> {
    let up = RayCaster::new(upper, cage_frame);
    let low = RayCaster::new(lower, cage_frame);
    let fb = placement.bounds;
    let gstep = opts.grid_step_mm.min(spec.edge_length_mm);
    let pad = SURFACE_PAD_MM;
    let origin = [fb[0] - pad, fb[1] - pad];
    let size = [
        ((fb[2] - fb[0] + 2.0 * pad) / gstep).ceil() as usize + 1,
        ((fb[3] - fb[1] + 2.0 * pad) / gstep).ceil() as usize + 1,
    ];
    let fine = Survey::run(&up, &low, origin, gstep, size, min_facing);
    let upper_grid = smooth_and_fill(&fine.upper, size, true);
    let lower_grid = smooth_and_fill(&fine.lower, size, false);
    let (Some(upper_grid), Some(lower_grid)) = (upper_grid, lower_grid) else {
        return Err(FitError::NoEndplates { cells: 0 });
    };
    let c = spec.clearance_mm;
    let grid = |values: Vec<f64>| HeightGrid {
        origin,
        step: gstep,
        size,
        values,
    };
    let top = grid(upper_grid.iter().map(|v| v - c).collect());
    let bottom = grid(lower_grid.iter().map(|v| v + c).collect());

    // Smallest gap and lowest bottom over the footprint; bottom's lowest point goes to z = 0.
    let (mut min_gap, mut zmin) = (f64::INFINITY, f64::INFINITY);
    for j in 0..size[1] {
        for i in 0..size[0] {
            let x = origin[0] + i as f64 * gstep;
            let y = origin[1] + j as f64 * gstep;
            if placement.footprint.sdf(x, y) <= 0.0 {
                let k = j * size[0] + i;
                min_gap = min_gap.min(top.values[k] - bottom.values[k]);
                zmin = zmin.min(bottom.values[k]);
            }
        }
    }
    if min_gap < MIN_GAP_MM {
        return Err(FitError::Collapsed {
            min_gap_mm: min_gap,
        });
    }
    let fcentre = placement.centre;
    let centre_gap_mm =
        top.height(fcentre.x, fcentre.y) - bottom.height(fcentre.x, fcentre.y) + 2.0 * c;
    cage_frame.origin += cage_frame.axes.column(2) * zmin;
    Ok(EndplateFit {
        frame: cage_frame,
        top: top.shifted(-zmin),
        bottom: bottom.shifted(-zmin),
        lordosis_deg: 0.0,
        centre_gap_mm,
        region_area_mm2: 0.0,
    })
}

/// Points on the footprint outline pushed out by `margin`, and a coarse interior grid.
fn footprint_samples(fp: &Footprint, margin: f64) -> Vec<Vector2<f64>> {
    let b = fp.bounds();
    let mut out = Vec::new();
    let h = 0.5;
    let nx = ((b[2] - b[0] + 2.0 * margin) / h).ceil() as usize + 1;
    let ny = ((b[3] - b[1] + 2.0 * margin) / h).ceil() as usize + 1;
    for j in 0..ny {
        for i in 0..nx {
            let x = b[0] - margin + i as f64 * h;
            let y = b[1] - margin + j as f64 * h;
            if fp.sdf(x, y) <= margin {
                out.push(Vector2::new(x, y));
            }
        }
    }
    out
}

/// The xy box where both casters have triangles.
fn overlap_box(a: &RayCaster, b: &RayCaster) -> ([f64; 2], [f64; 2]) {
    let ((a_lo, a_hi), (b_lo, b_hi)) = (a.binned_box(), b.binned_box());
    let lo = [a_lo[0].max(b_lo[0]), a_lo[1].max(b_lo[1])];
    let hi = [a_hi[0].min(b_hi[0]), a_hi[1].min(b_hi[1])];
    (lo, [hi[0].max(lo[0]), hi[1].max(lo[1])])
}

/// The rotation part of a frame as a nalgebra rotation (for transforming meshes).
pub fn frame_rotation(frame: &Frame) -> Rotation3<f64> {
    Rotation3::from_matrix_unchecked(frame.axes)
}

#[cfg(test)]
#[path = "endplate_tests.rs"]
pub(crate) mod tests;
