//! Measurements of a designed cage: size, porosity, feature sizes, overhangs and endplate fit.
//!
//! Porosity is measured on the **mesh**: vertical rays through a jittered grid of columns give
//! the mesh's inside intervals (crossing parity), and samples along each column are classified
//! as inside / outside the mesh and by the cage part they lie in (lattice region, envelope).
//! Strut and pore sizes are the local thickness (largest inscribed ball containing the point,
//! as BoneJ measures trabecular bone) of the lattice field voxelised over 2×2×2 cells.
//!
//! The endplate fit is measured against the vertebra meshes: from each contact triangle of the cage (a top or bottom face triangle, teeth
//! excluded, with a band of two edge lengths around them) a ray along the disc axis meets the
//! bone; the gap is the distance along that ray.

use nalgebra::Point3;
use serde::Serialize;

use super::body::Part;
use super::design::{CageDesign, Vertebrae};
use super::endplate::{Frame, RayCaster};
use super::spec::EnvelopeCheck;
use crate::implicit::ScalarField;
use crate::mesh::{Aabb, Mesh};

/// Self-supporting limit: faces closer than this to horizontal, facing down, need support.
const OVERHANG_LIMIT_DEG: f64 = 45.0;

/// Everything measured on a designed cage.
#[derive(Debug, Clone, Serialize)]
pub struct DesignReport {
    /// Cage kind.
    pub kind: String,
    /// Edge length the cage was meshed at, mm.
    pub edge_length_mm: f64,
    /// Triangles of the mesh.
    pub triangles: usize,
    /// Vertices of the mesh.
    pub vertices: usize,
    /// Enclosed volume, mm³.
    pub volume_mm3: f64,
    /// Surface area, mm².
    pub surface_area_mm2: f64,
    /// Bounding box in the build frame, mm.
    pub bbox: Aabb,
    /// Loose lattice fragments removed after meshing.
    pub removed_fragments: super::design::Fragments,
    /// Porosity, measured against the targets.
    pub porosity: PorosityReport,
    /// Smallest walls, struts and pores.
    pub features: FeatureReport,
    /// Down-facing area in build orientation.
    pub overhang: OverhangReport,
    /// Endplate fit, when vertebrae were given.
    pub fit: Option<FitReport>,
    /// Every envelope check of the spec.
    pub envelope: Vec<EnvelopeCheck>,
    /// Measured features outside the printable or bone in-growth ranges; the spec is valid but
    /// the engineer should look (empty when all is well).
    pub warnings: Vec<FeatureWarning>,
}

/// Minimum wall LPBF prints reliably in Ti-6Al-4V, mm (docs/DOMAIN.md: ~0.3–0.4 mm).
pub const MIN_PRINTABLE_WALL_MM: f64 = 0.3;
/// Pore sizes that favour bone in-growth, mm (docs/DOMAIN.md: 300–900 µm).
pub const BONE_INGROWTH_PORE_MM: [f64; 2] = [0.3, 0.9];

/// A measured feature outside its recommended range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureWarning {
    /// Which feature (`strut_min_mm`, `pore_median_mm`, `rim_wall_mm`).
    pub feature: &'static str,
    /// Its measured value, mm.
    pub value_mm: f64,
    /// The recommended minimum, mm.
    pub min_mm: f64,
    /// The recommended maximum, mm (none for walls).
    pub max_mm: Option<f64>,
    /// Why the range matters.
    pub reason: &'static str,
}

impl std::fmt::Display for FeatureWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.max_mm {
            Some(max) => write!(
                f,
                "{} = {:.3} mm is outside {:.2}–{:.2} mm: {}",
                self.feature, self.value_mm, self.min_mm, max, self.reason
            ),
            None => write!(
                f,
                "{} = {:.3} mm is under {:.2} mm: {}",
                self.feature, self.value_mm, self.min_mm, self.reason
            ),
        }
    }
}

/// The features outside the printable wall and bone in-growth pore ranges.
pub fn feature_warnings(features: &FeatureReport) -> Vec<FeatureWarning> {
    const WALL: &str = "thinner walls do not print reliably by LPBF";
    let mut out = Vec::new();
    for (feature, value) in [
        ("strut_min_mm", features.strut_min_mm),
        ("rim_wall_mm", features.rim_wall_mm),
    ] {
        if value < MIN_PRINTABLE_WALL_MM {
            out.push(FeatureWarning {
                feature,
                value_mm: value,
                min_mm: MIN_PRINTABLE_WALL_MM,
                max_mm: None,
                reason: WALL,
            });
        }
    }
    let [lo, hi] = BONE_INGROWTH_PORE_MM;
    if !(lo..=hi).contains(&features.pore_median_mm) {
        out.push(FeatureWarning {
            feature: "pore_median_mm",
            value_mm: features.pore_median_mm,
            min_mm: lo,
            max_mm: Some(hi),
            reason: "bone grows best into pores of 300–900 µm",
        });
    }
    out
}

/// Porosity of the lattice region and of the whole cage.
#[derive(Debug, Clone, Serialize)]
pub struct PorosityReport {
    /// Target porosity of the lattice region (spec).
    pub lattice_target: f64,
    /// Porosity of the lattice region measured on the mesh.
    pub lattice_measured: f64,
    /// TPMS level set used (nominal level for the target, corrected for the mesher).
    pub lattice_level: f64,
    /// Solid fraction added to the target to offset the mesher's thinning of the struts.
    pub mesher_compensation: f64,
    /// Porosity of the whole cage (1 − volume / envelope volume) expected from the field.
    pub cage_expected: f64,
    /// Porosity of the whole cage measured on the mesh (windows and hole count as void).
    pub cage_measured: f64,
    /// Volume of the envelope (footprint between the faces), mm³.
    pub envelope_volume_mm3: f64,
    /// Column spacing of the measurement, mm.
    pub sample_step_mm: f64,
}

/// Feature sizes, mm.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureReport {
    /// Width of the solid rim.
    pub rim_wall_mm: f64,
    /// Thinnest strut / sheet wall of the lattice (5th percentile of the local thickness).
    pub strut_min_mm: f64,
    /// Median strut / sheet wall thickness.
    pub strut_median_mm: f64,
    /// Smallest pore (5th percentile of the pores' local thickness).
    pub pore_min_mm: f64,
    /// Median pore width.
    pub pore_median_mm: f64,
    /// The smallest solid feature: min(rim, thinnest strut).
    pub smallest_wall_mm: f64,
}

/// Down-facing area below the self-supporting angle.
#[derive(Debug, Clone, Serialize)]
pub struct OverhangReport {
    /// Faces less than this many degrees from horizontal, facing down, count.
    pub limit_deg: f64,
    /// Their total area, mm².
    pub downfacing_area_mm2: f64,
    /// The same without faces resting on the build plate (within 0.05 mm of z = 0), mm².
    pub downfacing_off_plate_mm2: f64,
}

/// Gap statistics of one cage face against one endplate (area-weighted), mm.
#[derive(Debug, Clone, Serialize)]
pub struct GapStats {
    /// Contact area measured, mm².
    pub contact_area_mm2: f64,
    /// Mean gap.
    pub mean_gap_mm: f64,
    /// 95th-percentile gap.
    pub p95_gap_mm: f64,
    /// Largest gap.
    pub max_gap_mm: f64,
    /// Largest penetration of the cage into the bone (0 when none).
    pub max_penetration_mm: f64,
    /// Samples measured.
    pub samples: usize,
}

/// The endplate fit.
#[derive(Debug, Clone, Serialize)]
pub struct FitReport {
    /// Clearance asked for, mm.
    pub clearance_mm: f64,
    /// Angle between the endplate planes, degrees.
    pub lordosis_deg: f64,
    /// Endplate-to-endplate distance at the footprint centre, mm.
    pub centre_gap_mm: f64,
    /// Area where both endplates face each other, mm².
    pub endplate_region_mm2: f64,
    /// Top face against the upper vertebra.
    pub upper: GapStats,
    /// Bottom face against the lower vertebra.
    pub lower: GapStats,
    /// Both faces together.
    pub combined: GapStats,
}

/// Measures a design; `vertebrae` (patient frame, mm) are needed for the fit section.
pub fn measure_design(design: &CageDesign, vertebrae: Option<Vertebrae<'_>>) -> DesignReport {
    let mesh = &design.mesh;
    let spec = &design.spec;
    let features = measure_features(design);
    let mut warnings = feature_warnings(&features);
    warnings.extend(coarse_mesh_warning(design));
    DesignReport {
        kind: spec.kind.name().to_string(),
        edge_length_mm: design.edge_length_mm,
        triangles: mesh.triangles.len(),
        vertices: mesh.vertices.len(),
        volume_mm3: mesh.signed_volume(),
        surface_area_mm2: mesh.area(),
        bbox: mesh.bbox(),
        removed_fragments: design.fragments,
        porosity: measure_porosity(design),
        features: features.clone(),
        overhang: measure_overhang(mesh),
        fit: match (vertebrae, &design.fit) {
            (Some(v), Some(_)) => Some(measure_fit(design, v)),
            _ => None,
        },
        envelope: spec.envelope_checks(),
        warnings,
    }
}

/// Why a coarse mesh cannot stand for the cage: how far its footprint (x, y) differs from the
/// designed one, when that is more than two edge lengths (and 0.5 mm). The envelope and
/// feature checks then describe the coarse mesh, not the cage the spec designs.
pub fn coarse_mesh_warning(design: &CageDesign) -> Option<FeatureWarning> {
    let intended = design.field.bounds(0.0);
    let made = design.mesh.bbox();
    let size = |b: &crate::mesh::Aabb, k: usize| b.max[k] - b.min[k];
    let deviation = (0..2)
        .map(|k| (size(&made, k) - size(&intended, k)).abs())
        .fold(0.0, f64::max);
    let tolerance = (2.0 * design.edge_length_mm).max(0.5);
    (deviation > tolerance).then_some(FeatureWarning {
        feature: "mesh_footprint_deviation_mm",
        value_mm: deviation,
        min_mm: 0.0,
        max_mm: Some(tolerance),
        reason: "the mesh is too coarse to stand for the designed cage (mesh at a finer edge length): its size, envelope and feature figures describe the coarse mesh",
    })
}

/// Down-facing area of a build-frame mesh.
pub fn measure_overhang(mesh: &Mesh) -> OverhangReport {
    let limit = OVERHANG_LIMIT_DEG.to_radians().cos();
    let zmin = mesh.bbox().min[2];
    let (mut all, mut off) = (0.0, 0.0);
    for t in 0..mesh.triangles.len() {
        let n = mesh.area_normal(t);
        let a = n.norm();
        if a == 0.0 || n.z / a > -limit {
            continue;
        }
        let area = 0.5 * a;
        all += area;
        if mesh.corners(t).iter().any(|p| p.z > zmin + 0.05) {
            off += area;
        }
    }
    OverhangReport {
        limit_deg: OVERHANG_LIMIT_DEG,
        downfacing_area_mm2: all,
        downfacing_off_plate_mm2: off,
    }
}

/// Porosity of the lattice region and of the whole cage, measured on the mesh.
pub fn measure_porosity(design: &CageDesign) -> PorosityReport {
    let field = &design.field;
    let mesh = &design.mesh;
    // A step incommensurate with the cell, so the samples do not fall on the same few phase
    // points of every cell (aliasing biases the estimate by a few per cent).
    let step = design.spec.lattice.cell_size_mm / 13.618;
    let caster = RayCaster::with_bin_size(mesh, Frame::identity(), 4.0 * step);
    let b = mesh.bbox();
    // Column positions off the mesher's grid lines, so rays avoid vertices and edges.
    let jitter = [0.379_1, 0.618_3, 0.271_9];
    let n = [
        ((b.max[0] - b.min[0]) / step) as usize + 1,
        ((b.max[1] - b.min[1]) / step) as usize + 1,
        ((b.max[2] - b.min[2]) / step) as usize + 1,
    ];
    let (mut region, mut region_solid) = (0u64, 0u64);
    let (mut envelope, mut field_solid) = (0u64, 0u64);
    let mut hits = Vec::new();
    for j in 0..n[1] {
        for i in 0..n[0] {
            let x = b.min[0] + (i as f64 + jitter[0]) * step;
            let y = b.min[1] + (j as f64 + jitter[1]) * step;
            caster.hits(x, y, &mut hits);
            let mut zs: Vec<f64> = hits.iter().map(|h| h.0).collect();
            zs.sort_by(f64::total_cmp);
            zs.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
            let mut next = 0;
            let mut inside = false;
            for k in 0..n[2] {
                let z = b.min[2] + (k as f64 + jitter[2]) * step;
                while next < zs.len() && zs[next] < z {
                    inside = !inside;
                    next += 1;
                }
                let p = Point3::new(x, y, z);
                if field.envelope(&p) < 0.0 {
                    envelope += 1;
                    if field.eval(&p) < 0.0 {
                        field_solid += 1;
                    }
                }
                if field.core_region(&p) < 0.0 && field.part(&p) == Part::Core {
                    region += 1;
                    if inside {
                        region_solid += 1;
                    }
                }
            }
        }
    }
    let voxel = step * step * step;
    let envelope_volume = envelope as f64 * voxel;
    PorosityReport {
        lattice_target: design.spec.lattice.porosity,
        lattice_measured: 1.0 - region_solid as f64 / region.max(1) as f64,
        lattice_level: field.lattice.level,
        mesher_compensation: design.lattice_compensation,
        cage_expected: 1.0 - field_solid as f64 / envelope.max(1) as f64,
        cage_measured: 1.0 - mesh.signed_volume() / envelope_volume.max(f64::MIN_POSITIVE),
        envelope_volume_mm3: envelope_volume,
        sample_step_mm: step,
    }
}

/// Strut / wall and pore sizes of the lattice, and the smallest solid feature.
pub fn measure_features(design: &CageDesign) -> FeatureReport {
    let lattice = &design.field.lattice;
    let per_cell = 32;
    let n = 2 * per_cell;
    let h = lattice.cell_size / per_cell as f64;
    let mut solid = vec![false; n * n * n];
    for k in 0..n {
        for j in 0..n {
            for i in 0..n {
                let p = Point3::new(
                    (i as f64 + 0.5) * h,
                    (j as f64 + 0.5) * h,
                    (k as f64 + 0.5) * h,
                );
                solid[(k * n + j) * n + i] = lattice.eval(&p) < 0.0;
            }
        }
    }
    let strut = local_thickness(&solid, n, h, true);
    let pore = local_thickness(&solid, n, h, false);
    let q = |v: &[f64], f: f64| -> f64 {
        if v.is_empty() {
            return 0.0;
        }
        v[((v.len() - 1) as f64 * f).round() as usize]
    };
    let rim = design.spec.rim_width_mm;
    let strut_min = q(&strut, 0.05);
    FeatureReport {
        rim_wall_mm: rim,
        strut_min_mm: strut_min,
        strut_median_mm: q(&strut, 0.5),
        pore_min_mm: q(&pore, 0.05),
        pore_median_mm: q(&pore, 0.5),
        smallest_wall_mm: rim.min(strut_min),
    }
}

/// Sorted local thickness (BoneJ / Hildebrand–Rüegsegger: the diameter of the largest ball
/// inside the phase that contains the voxel) of every voxel of one phase of a periodic block.
///
/// Balls are centred on the medial voxels (a 1D distance maximum along x, y and z) and painted
/// largest-wins, so the spurious small maxima that voxel noise makes near the boundary are
/// covered by the real struts' balls.
fn local_thickness(solid: &[bool], n: usize, h: f64, phase: bool) -> Vec<f64> {
    let inf = 1e18;
    // Squared distance (in voxels) to the nearest voxel of the other phase; periodic block.
    let mut d: Vec<f64> = solid
        .iter()
        .map(|&s| if s == phase { inf } else { 0.0 })
        .collect();
    for axis in 0..3 {
        edt_axis(&mut d, n, axis);
    }
    let idx = |i: usize, j: usize, k: usize| (k % n * n + j % n) * n + i % n;
    let mut centres = Vec::new();
    for k in 0..n {
        for j in 0..n {
            for i in 0..n {
                let v = d[idx(i, j, k)];
                if v == 0.0 {
                    continue;
                }
                let (ip, jp, kp) = (i + n - 1, j + n - 1, k + n - 1);
                let medial = v >= d[idx(ip, j, k)]
                    && v >= d[idx(i + 1, j, k)]
                    && v >= d[idx(i, jp, k)]
                    && v >= d[idx(i, j + 1, k)]
                    && v >= d[idx(i, j, kp)]
                    && v >= d[idx(i, j, k + 1)];
                if medial {
                    centres.push((v, i, j, k));
                }
            }
        }
    }
    centres.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut radius = vec![0.0f64; n * n * n];
    for &(v, i, j, k) in &centres {
        let r = v.sqrt();
        let ri = r.ceil() as i64;
        for dk in -ri..=ri {
            for dj in -ri..=ri {
                for di in -ri..=ri {
                    if ((di * di + dj * dj + dk * dk) as f64) < v {
                        let w = |a: usize, b: i64| (a as i64 + b).rem_euclid(n as i64) as usize;
                        let q = idx(w(i, di), w(j, dj), w(k, dk));
                        if d[q] > 0.0 && radius[q] < r {
                            radius[q] = r;
                        }
                    }
                }
            }
        }
    }
    // The voxel-centre distance overstates the radius by about half a voxel.
    let mut out: Vec<f64> = radius
        .iter()
        .zip(&d)
        // A voxel no medial ball reaches is a discretisation artefact of the medial test
        // (flat EDT ridges of axis-aligned struts), not a thin feature: leave it out.
        .filter(|(r, dv)| **dv > 0.0 && **r > 0.0)
        .map(|(r, _)| 2.0 * (r - 0.5).max(0.5) * h)
        .collect();
    out.sort_by(f64::total_cmp);
    out
}

/// One pass of the separable squared Euclidean distance transform (Felzenszwalb–Huttenlocher)
/// along `axis` of an `n³` block, periodic: each line is processed over three periods.
fn edt_axis(d: &mut [f64], n: usize, axis: usize) {
    let stride = [1, n, n * n][axis];
    let m = 3 * n;
    let mut f = vec![0.0; m];
    let mut v = vec![0usize; m];
    let mut z = vec![0.0; m + 1];
    let mut out = vec![0.0; m];
    for a in 0..n {
        for b in 0..n {
            let base = match axis {
                0 => (b * n + a) * n,
                1 => b * n * n + a,
                _ => b * n + a,
            };
            for q in 0..m {
                f[q] = d[base + (q % n) * stride];
            }
            // Lower envelope of parabolas.
            let mut k = 0usize;
            v[0] = 0;
            z[0] = f64::NEG_INFINITY;
            z[1] = f64::INFINITY;
            for q in 1..m {
                loop {
                    let p = v[k];
                    let s = ((f[q] + (q * q) as f64) - (f[p] + (p * p) as f64))
                        / (2.0 * (q - p) as f64);
                    if s <= z[k] && k > 0 {
                        k -= 1;
                        continue;
                    }
                    if s <= z[k] {
                        // k == 0 and the new parabola dominates everywhere.
                        v[0] = q;
                        z[1] = f64::INFINITY;
                        break;
                    }
                    k += 1;
                    v[k] = q;
                    z[k] = s;
                    z[k + 1] = f64::INFINITY;
                    break;
                }
            }
            k = 0;
            for (q, o) in out.iter_mut().enumerate() {
                while z[k + 1] < q as f64 {
                    k += 1;
                }
                let p = v[k];
                *o = (q as f64 - p as f64).powi(2) + f[p];
            }
            for q in 0..n {
                d[base + q * stride] = out[n + q];
            }
        }
    }
}

/// Gap statistics of the cage faces against the vertebra meshes (see the module docs).
pub fn measure_fit(design: &CageDesign, vertebrae: Vertebrae<'_>) -> FitReport {
    let fit = design
        .fit
        .as_ref()
        .unwrap_or_else(|| unreachable!("measure_fit is called with a fit"));
    let field = &design.field;
    let mesh = &design.mesh;
    let up = RayCaster::new(vertebrae.upper, fit.frame);
    let low = RayCaster::new(vertebrae.lower, fit.frame);
    let edge = design.edge_length_mm;
    // A contact triangle lies on the designed face (the mesher reproduces it to a small fraction
    // of an edge); the fillets below the cut strut tops are not contact.
    let tol = 0.3 * edge + 0.01;
    let mut upper = Vec::new();
    let mut lower = Vec::new();
    let mut hits = Vec::new();
    for t in 0..mesh.triangles.len() {
        let n = mesh.area_normal(t);
        let a = n.norm();
        if a == 0.0 {
            continue;
        }
        let nz = n.z / a;
        let c = mesh.corners(t);
        let centroid = Point3::from((c[0].coords + c[1].coords + c[2].coords) / 3.0);
        if field.footprint.sdf(centroid.x, centroid.y) > 0.0 {
            continue;
        }
        let (zb, zt) = field.face_heights(centroid.x, centroid.y);
        let is_top = nz > 0.7 && (centroid.z - zt).abs() < tol;
        let is_bottom = nz < -0.7 && (centroid.z - zb).abs() < tol;
        if !(is_top || is_bottom) {
            continue;
        }
        // Teeth excluded: no ridge stands over this spot of the face or within two edge lengths
        // of it (the mesher smears a ridge's sharp end over a grid cell and its diagonal).
        let probe = Point3::new(
            centroid.x,
            centroid.y,
            if is_top { zt + 0.02 } else { zb - 0.02 },
        );
        if field.teeth_field(&probe) < 2.0 * edge {
            continue;
        }
        let area = 0.5 * a;
        let caster = if is_top { &up } else { &low };
        // The design frame is the fit frame shifted along z; ray coordinates are local z.
        let bone = |p: &Point3<f64>, hits: &mut Vec<(f64, f64)>| -> Option<f64> {
            caster.hits(p.x, p.y, hits);
            let zs = hits.iter().map(|h| h.0);
            if is_top {
                zs.fold(None, |m: Option<f64>, z| Some(m.map_or(z, |m| m.min(z))))
                    .map(|z| z - p.z)
            } else {
                zs.fold(None, |m: Option<f64>, z| Some(m.map_or(z, |m| m.max(z))))
                    .map(|z| p.z - z)
            }
        };
        let Some(gap) = bone(&centroid, &mut hits) else {
            continue;
        };
        let worst = c
            .iter()
            .filter_map(|p| bone(p, &mut hits))
            .fold(gap, f64::min);
        let sample = (area, gap, worst);
        if is_top {
            upper.push(sample);
        } else {
            lower.push(sample);
        }
    }
    let combined: Vec<(f64, f64, f64)> = upper.iter().chain(lower.iter()).copied().collect();
    FitReport {
        clearance_mm: design.spec.clearance_mm,
        lordosis_deg: fit.lordosis_deg,
        centre_gap_mm: fit.centre_gap_mm,
        endplate_region_mm2: fit.region_area_mm2,
        upper: gap_stats(upper),
        lower: gap_stats(lower),
        combined: gap_stats(combined),
    }
}

/// Area-weighted statistics of `(area, centroid gap, smallest gap at any corner)` samples.
fn gap_stats(mut s: Vec<(f64, f64, f64)>) -> GapStats {
    let area: f64 = s.iter().map(|x| x.0).sum();
    let mean = if area > 0.0 {
        s.iter().map(|x| x.0 * x.1).sum::<f64>() / area
    } else {
        0.0
    };
    let max_pen = s.iter().map(|x| -x.2).fold(0.0, f64::max);
    let max_gap = s.iter().map(|x| x.1).fold(0.0, f64::max);
    s.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut acc = 0.0;
    let mut p95 = max_gap;
    for x in &s {
        acc += x.0;
        if acc >= 0.95 * area {
            p95 = x.1;
            break;
        }
    }
    GapStats {
        contact_area_mm2: area,
        mean_gap_mm: mean,
        p95_gap_mm: p95,
        max_gap_mm: max_gap,
        max_penetration_mm: max_pen,
        samples: s.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(strut_min: f64, rim: f64, pore_median: f64) -> FeatureReport {
        FeatureReport {
            rim_wall_mm: rim,
            strut_min_mm: strut_min,
            strut_median_mm: strut_min * 1.1,
            pore_min_mm: pore_median * 0.9,
            pore_median_mm: pore_median,
            smallest_wall_mm: rim.min(strut_min),
        }
    }

    #[test]
    fn printable_walls_and_ingrowth_pores_raise_no_warning() {
        assert!(feature_warnings(&features(0.45, 1.5, 0.7)).is_empty());
    }

    #[test]
    fn thin_struts_and_rims_are_flagged_with_their_values() {
        let w = feature_warnings(&features(0.27, 0.25, 0.7));
        let names: Vec<_> = w.iter().map(|w| w.feature).collect();
        assert_eq!(names, ["strut_min_mm", "rim_wall_mm"]);
        assert_eq!(w[0].value_mm, 0.27);
        assert!(
            w[0].to_string().contains("0.270 mm is under 0.30 mm"),
            "{}",
            w[0]
        );
    }

    #[test]
    fn pores_outside_the_ingrowth_range_are_flagged_both_ways() {
        for pore in [0.2, 1.67] {
            let w = feature_warnings(&features(0.5, 1.5, pore));
            assert_eq!(w.len(), 1, "pore {pore}");
            assert_eq!(w[0].feature, "pore_median_mm");
            assert_eq!(w[0].max_mm, Some(0.9));
        }
    }
}
