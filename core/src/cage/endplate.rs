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
use super::spec::{CageKind, CageSpec};
pub use crate::geom::{Frame, RayCaster};
use crate::mesh::Mesh;

/// A surface `z = h(x, y)` sampled on a regular grid, bilinear between nodes, clamped outside.
#[derive(Debug, Clone, PartialEq)]
pub struct HeightGrid {
    /// x and y of node (0, 0).
    pub origin: [f64; 2],
    /// Node spacing, mm.
    pub step: f64,
    /// Nodes along x and y.
    pub size: [usize; 2],
    /// Heights, row-major in x (index `j * size[0] + i`).
    pub values: Vec<f64>,
}

impl HeightGrid {
    /// The interpolated height at `(x, y)`.
    pub fn height(&self, x: f64, y: f64) -> f64 {
        let fx = ((x - self.origin[0]) / self.step).clamp(0.0, (self.size[0] - 1) as f64);
        let fy = ((y - self.origin[1]) / self.step).clamp(0.0, (self.size[1] - 1) as f64);
        let i = (fx.floor() as usize).min(self.size[0].saturating_sub(2));
        let j = (fy.floor() as usize).min(self.size[1].saturating_sub(2));
        let (tx, ty) = (fx - i as f64, fy - j as f64);
        let at = |i: usize, j: usize| self.values[j * self.size[0] + i];
        let a = at(i, j) * (1.0 - tx) + at(i + 1, j) * tx;
        let b = at(i, j + 1) * (1.0 - tx) + at(i + 1, j + 1) * tx;
        a * (1.0 - ty) + b * ty
    }

    /// The grid with every value shifted by `dz`.
    pub fn shifted(mut self, dz: f64) -> HeightGrid {
        self.values.iter_mut().for_each(|v| *v += dz);
        self
    }
}

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
    let cu = surface_centroid(upper).ok_or(FitError::BadMesh { which: "upper" })?;
    let cl = surface_centroid(lower).ok_or(FitError::BadMesh { which: "lower" })?;
    let axis = cu - cl;
    if axis.norm() < 1.0 {
        return Err(FitError::NoDiscSpace {
            distance_mm: axis.norm(),
        });
    }
    let min_facing = opts.max_tilt_deg.to_radians().cos();
    let mut frame = frame_from(
        Point3::from((cu.coords + cl.coords) * 0.5),
        axis,
        Vector3::x(),
    );

    // Coarse survey, refined twice: axis = bisector of the endplate planes.
    let mut coarse = None;
    for _ in 0..3 {
        let up = RayCaster::new(upper, frame);
        let low = RayCaster::new(lower, frame);
        let (lo, hi) = overlap_box(&up, &low);
        let step = 1.0;
        let size = [
            ((hi[0] - lo[0]) / step) as usize + 1,
            ((hi[1] - lo[1]) / step) as usize + 1,
        ];
        let s = Survey::run(&up, &low, lo, step, size, min_facing);
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
        if pu.len() < 20 {
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
        frame = frame_from(origin, new_z, frame.axes.column(0).into());
        coarse = Some((s, lordosis));
    }
    let (_, lordosis_deg) = coarse.unwrap_or_else(|| unreachable!());

    // In-plane axes from the region's principal axes, in the final frame.
    let up = RayCaster::new(upper, frame);
    let low = RayCaster::new(lower, frame);
    let (lo, hi) = overlap_box(&up, &low);
    let step = 0.5;
    let size = [
        ((hi[0] - lo[0]) / step) as usize + 1,
        ((hi[1] - lo[1]) / step) as usize + 1,
    ];
    let survey = Survey::run(&up, &low, lo, step, size, min_facing);
    let mut cells = Vec::new();
    for j in 0..survey.size[1] {
        for i in 0..survey.size[0] {
            if survey.valid(i, j) {
                let k = j * survey.size[0] + i;
                let [x, y] = survey.point(i, j);
                cells.push((
                    x,
                    y,
                    survey.upper[k].unwrap_or(0.0) - survey.lower[k].unwrap_or(0.0),
                ));
            }
        }
    }
    let region_area_mm2 = cells.len() as f64 * step * step;
    let n = cells.len() as f64;
    let (mx, my) = cells
        .iter()
        .fold((0.0, 0.0), |s, c| (s.0 + c.0 / n, s.1 + c.1 / n));
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for c in &cells {
        let (dx, dy) = (c.0 - mx, c.1 - my);
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
        .map(|c| (c.2) * ((c.0 - mx) * anterior.x + (c.1 - my) * anterior.y))
        .sum();
    if slope < 0.0 {
        anterior = -anterior;
    }
    let lateral = Vector2::new(anterior.y, -anterior.x);
    let region_extent = |d: Vector2<f64>| {
        let v: Vec<f64> = cells
            .iter()
            .map(|c| (c.0 - mx) * d.x + (c.1 - my) * d.y)
            .collect();
        v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - v.iter().copied().fold(f64::INFINITY, f64::min)
    };

    // Cage local x / y in the frame's plane, per kind (see CageKind).
    let (cx, cy) = match spec.kind {
        CageKind::Plif => (anterior, -lateral),
        _ => (lateral, anterior),
    };
    let footprint = Footprint::from_spec(spec);
    let fb = footprint.bounds();
    let fcentre = Vector2::new(0.5 * (fb[0] + fb[2]), 0.5 * (fb[1] + fb[3]));
    let to_frame = |p: Vector2<f64>, shift: Vector2<f64>| -> Vector2<f64> {
        let q = p - fcentre;
        Vector2::new(mx, my) + shift + cx * q.x + cy * q.y
    };

    // Placement: the footprint inside the region eroded by the margin, nearest the centroid.
    let margin = opts.rim_margin_mm;
    let inside = |x: f64, y: f64| -> bool {
        let fi = (x - survey.origin[0]) / step;
        let fj = (y - survey.origin[1]) / step;
        if fi < 0.0 || fj < 0.0 {
            return false;
        }
        let (i, j) = (fi.round() as usize, fj.round() as usize);
        i < survey.size[0] && j < survey.size[1] && survey.valid(i, j)
    };
    let samples: Vec<Vector2<f64>> = footprint_samples(&footprint, margin);
    let mut shifts: Vec<Vector2<f64>> = Vec::new();
    for a in -20..=20 {
        for b in -20..=20 {
            shifts.push(Vector2::new(a as f64 * 0.5, b as f64 * 0.5));
        }
    }
    shifts.sort_by(|a, b| {
        a.norm()
            .total_cmp(&b.norm())
            .then(a.x.total_cmp(&b.x))
            .then(a.y.total_cmp(&b.y))
    });
    let shift = shifts
        .into_iter()
        .find(|s| {
            samples.iter().all(|p| {
                let q = to_frame(*p, *s);
                inside(q.x, q.y)
            })
        })
        .ok_or(FitError::DoesNotFit {
            length: fb[2] - fb[0],
            width: fb[3] - fb[1],
            region_a: region_extent(lateral),
            region_b: region_extent(anterior),
            margin,
        })?;

    // Cage frame: origin at the placed footprint's local origin, on the disc frame's plane.
    let o2 = to_frame(Vector2::zeros(), shift);
    let cage_axes = Matrix3::from_columns(&[
        frame.axes * Vector3::new(cx.x, cx.y, 0.0),
        frame.axes * Vector3::new(cy.x, cy.y, 0.0),
        frame.axes.column(2).into(),
    ]);
    let mut cage_frame = Frame {
        origin: frame.to_patient(&Point3::new(o2.x, o2.y, 0.0)),
        axes: cage_axes,
    };

    // Fine surfaces on the cage frame's grid, covering the footprint with a pad.
    let up = RayCaster::new(upper, cage_frame);
    let low = RayCaster::new(lower, cage_frame);
    let gstep = opts.grid_step_mm.min(spec.edge_length_mm);
    let pad = 2.0;
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
    let mut top = HeightGrid {
        origin,
        step: gstep,
        size,
        values: upper_grid.iter().map(|v| v - c).collect(),
    };
    let mut bottom = HeightGrid {
        origin,
        step: gstep,
        size,
        values: lower_grid.iter().map(|v| v + c).collect(),
    };

    // Smallest gap and lowest bottom over the footprint; bottom's lowest point goes to z = 0.
    let (mut min_gap, mut zmin) = (f64::INFINITY, f64::INFINITY);
    for j in 0..size[1] {
        for i in 0..size[0] {
            let x = origin[0] + i as f64 * gstep;
            let y = origin[1] + j as f64 * gstep;
            if footprint.sdf(x, y) <= 0.0 {
                let k = j * size[0] + i;
                min_gap = min_gap.min(top.values[k] - bottom.values[k]);
                zmin = zmin.min(bottom.values[k]);
            }
        }
    }
    if min_gap < 1.0 {
        return Err(FitError::Collapsed {
            min_gap_mm: min_gap,
        });
    }
    let centre_gap_mm =
        top.height(fcentre.x, fcentre.y) - bottom.height(fcentre.x, fcentre.y) + 2.0 * c;
    top = top.shifted(-zmin);
    bottom = bottom.shifted(-zmin);
    cage_frame.origin += cage_frame.axes.column(2) * zmin;
    Ok(EndplateFit {
        frame: cage_frame,
        top,
        bottom,
        lordosis_deg,
        centre_gap_mm,
        region_area_mm2,
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

/// Fills missing nodes from their nearest valid neighbours (repeated dilation), then applies a
/// binomial 3×3 smoothing that never moves the surface towards the bone: `min` with the raw
/// heights for the upper plate (`upper = true`), `max` for the lower.
fn smooth_and_fill(raw: &[Option<f64>], size: [usize; 2], upper: bool) -> Option<Vec<f64>> {
    let [nx, ny] = size;
    let mut v: Vec<Option<f64>> = raw.to_vec();
    if v.iter().all(Option::is_none) {
        return None;
    }
    let valid_raw: Vec<bool> = raw.iter().map(Option::is_some).collect();
    while v.iter().any(Option::is_none) {
        let prev = v.clone();
        for j in 0..ny {
            for i in 0..nx {
                if prev[j * nx + i].is_some() {
                    continue;
                }
                let (mut s, mut n) = (0.0, 0);
                for (di, dj) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
                    let (a, b) = (i as i64 + di, j as i64 + dj);
                    if a >= 0
                        && b >= 0
                        && (a as usize) < nx
                        && (b as usize) < ny
                        && let Some(h) = prev[b as usize * nx + a as usize]
                    {
                        s += h;
                        n += 1;
                    }
                }
                if n > 0 {
                    v[j * nx + i] = Some(s / n as f64);
                }
            }
        }
    }
    let filled: Vec<f64> = v.into_iter().map(|h| h.unwrap_or(0.0)).collect();
    let w = [1.0, 2.0, 1.0];
    let mut out = filled.clone();
    for j in 0..ny {
        for i in 0..nx {
            let (mut s, mut ws) = (0.0, 0.0);
            for dj in 0..3 {
                for di in 0..3 {
                    let (a, b) = (i as i64 + di as i64 - 1, j as i64 + dj as i64 - 1);
                    if a >= 0 && b >= 0 && (a as usize) < nx && (b as usize) < ny {
                        let wt = w[di] * w[dj];
                        s += wt * filled[b as usize * nx + a as usize];
                        ws += wt;
                    }
                }
            }
            let k = j * nx + i;
            let smooth = s / ws;
            out[k] = if !valid_raw[k] {
                smooth
            } else if upper {
                smooth.min(filled[k])
            } else {
                smooth.max(filled[k])
            };
        }
    }
    Some(out)
}

/// The rotation part of a frame as a nalgebra rotation (for transforming meshes).
pub fn frame_rotation(frame: &Frame) -> Rotation3<f64> {
    Rotation3::from_matrix_unchecked(frame.axes)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A domed endplate surface (open grid mesh) `z = z0 + s·(dome·(1 − x²/a² − y²/b²) + tilt·y)`,
    /// with `s = +1` for an upper vertebra's inferior endplate (concave towards the disc).
    pub(crate) fn domed_plate(
        z0: f64,
        s: f64,
        dome: f64,
        tilt: f64,
    ) -> (Mesh, impl Fn(f64, f64) -> f64) {
        let (a, b) = (22.0, 17.0);
        let h = move |x: f64, y: f64| {
            z0 + s * (dome * (1.0 - x * x / (a * a) - y * y / (b * b)) + tilt * y)
        };
        let n = 60;
        let mut soup = Vec::new();
        let p = |i: usize, j: usize| {
            let x = -a + 2.0 * a * i as f64 / n as f64;
            let y = -b + 2.0 * b * j as f64 / n as f64;
            Point3::new(x, y, h(x, y))
        };
        for j in 0..n {
            for i in 0..n {
                soup.push([p(i, j), p(i + 1, j), p(i + 1, j + 1)]);
                soup.push([p(i, j), p(i + 1, j + 1), p(i, j + 1)]);
            }
        }
        (Mesh::from_soup(soup), h)
    }

    #[test]
    fn fit_of_domed_endplates_reproduces_the_known_surfaces() {
        let tilt = (3.0f64).to_radians().tan();
        let (upper, hu) = domed_plate(6.0, 1.0, 1.2, tilt);
        let (lower, hl) = domed_plate(-6.0, -1.0, 1.0, tilt);
        let spec = CageSpec::default_tlif();
        let fit = fit_endplates(&upper, &lower, &spec, &FitOptions::default()).unwrap();
        // Axis along z, lordosis = 2 × 3°, the banana's long axis lateral (x), convex side +y.
        assert!(fit.frame.axes.column(2).dot(&Vector3::z()) > 0.999);
        assert!((fit.lordosis_deg - 6.0).abs() < 0.2, "{}", fit.lordosis_deg);
        assert!(fit.frame.axes.column(0).dot(&Vector3::x()).abs() > 0.99);
        assert!(fit.frame.axes.column(1).dot(&Vector3::y()) > 0.99);
        // Every node of the faces sits at the clearance from the known surfaces.
        let fp = Footprint::from_spec(&spec);
        let c = spec.clearance_mm;
        let mut worst: f64 = 0.0;
        for j in 0..fit.top.size[1] {
            for i in 0..fit.top.size[0] {
                let x = fit.top.origin[0] + i as f64 * fit.top.step;
                let y = fit.top.origin[1] + j as f64 * fit.top.step;
                if fp.sdf(x, y) > 0.0 {
                    continue;
                }
                let t = fit
                    .frame
                    .to_patient(&Point3::new(x, y, fit.top.height(x, y)));
                let b = fit
                    .frame
                    .to_patient(&Point3::new(x, y, fit.bottom.height(x, y)));
                worst = worst.max((hu(t.x, t.y) - t.z - c).abs());
                worst = worst.max((b.z - hl(b.x, b.y) - c).abs());
            }
        }
        assert!(
            worst < 0.02,
            "face deviates {worst} mm from the known endplate + clearance"
        );
        let known = hu(0.0, 0.0) - hl(0.0, 0.0);
        assert!(fit.centre_gap_mm > known - 0.5 && fit.centre_gap_mm < known + 1e-6 + 0.5);
    }

    #[test]
    fn footprint_larger_than_the_endplates_does_not_fit() {
        let (upper, _) = domed_plate(6.0, 1.0, 1.0, 0.0);
        let (lower, _) = domed_plate(-6.0, -1.0, 1.0, 0.0);
        let mut spec: CageSpec =
            toml::from_str(include_str!("../../../examples/olif.toml")).unwrap();
        spec.length_mm = 60.0;
        let err = fit_endplates(&upper, &lower, &spec, &FitOptions::default()).unwrap_err();
        assert!(matches!(err, FitError::DoesNotFit { .. }), "{err}");
    }
}
