//! Porosity and feature sizes of a field, measured on a voxel sampling (and from a mesh).
//!
//! ```
//! use meltline_core::implicit::measure::solid_fraction;
//! use meltline_core::mesh::Aabb;
//! use nalgebra::Point3;
//! let half = |p: &Point3<f64>| p.z - 0.5;
//! let unit = Aabb { min: [0.0; 3], max: [1.0; 3] };
//! assert!((solid_fraction(&half, unit, 0.05).unwrap() - 0.5).abs() < 1e-9);
//! ```
//!
//! # Feature sizes
//!
//! The smallest strut or wall (solid phase) and the smallest pore (void phase) are measured as
//! the *minimum local thickness* of the phase (Hildebrand & Rüegsegger 1997: the thickness at a
//! point is the diameter of the largest ball inside the phase that contains the point), on a
//! voxel grid of the given spacing:
//!
//! 1. the exact Euclidean distance transform (Felzenszwalb & Huttenlocher, separable) gives
//!    every phase voxel its distance `dt` to the nearest voxel of the other phase; voxels
//!    outside the sampled box count as neither, so a box cutting through a lattice does not
//!    create thin features;
//! 2. for growing radii `r` (steps of half a voxel) the phase is *opened* by a ball of
//!    radius `r`: ball centres are the voxels with `dt > r`, and a second distance transform
//!    from those centres marks what the balls cover;
//! 3. the first `r` at which some voxel with `dt ≥ r/2 + 1` is left uncovered is the thinnest
//!    feature's radius. Voxels with `dt < r/2 + 1` are excused because a sharp convex edge or
//!    corner (down to 90°, and the voxel staircase of any surface) has local thickness tending
//!    to zero at its tip without being thin; a strut or wall of radius `ρ < r` is still caught
//!    because its axis has `dt ≈ ρ ≥ r/2 + 1` for the first failing `r`, as long as `ρ` spans
//!    at least about two voxels. Voxels within `r + 1` voxels of the box faces are not tested
//!    (balls there would need centres outside the box).
//!
//! The diameter reported is `2r − 1` voxels, calibrated on slabs and cylinders (the distance
//! to the nearest other-phase voxel centre exceeds the true half-thickness by half a voxel on
//! average). Accuracy is about one voxel: sample at a tenth of the feature size or finer.

use nalgebra::Point3;
use rayon::prelude::*;
use thiserror::Error;

use super::ScalarField;
use crate::mesh::{Aabb, Mesh};

/// Why a measurement could not be made.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum MeasureError {
    /// The box is empty, flat along an axis, or not finite.
    #[error("measurement box {min:?} .. {max:?} mm is empty, flat or not finite")]
    InvalidBounds {
        /// The minimum corner given.
        min: [f64; 3],
        /// The maximum corner given.
        max: [f64; 3],
    },
    /// The voxel spacing is not a positive finite length.
    #[error("voxel spacing {0} mm is not a positive finite length")]
    InvalidSpacing(f64),
    /// The sampling would need too many voxels.
    #[error("{count} voxels exceed the limit of {limit}; use a coarser spacing")]
    TooManyVoxels {
        /// Voxels needed.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// The field returned NaN.
    #[error("the field is NaN at ({x}, {y}, {z}) mm")]
    NotANumber {
        /// x of the sample, mm.
        x: f64,
        /// y of the sample, mm.
        y: f64,
        /// z of the sample, mm.
        z: f64,
    },
}

/// The largest voxel grid measured (2·10⁸ voxels, about 200 MB of samples).
pub const MAX_VOXELS: u64 = 200_000_000;

/// The sign of a field sampled at voxel centres.
#[derive(Debug, Clone, PartialEq)]
pub struct VoxelGrid {
    /// Voxels along x, y, z.
    pub n: [usize; 3],
    /// Voxel edge length along x, y, z, mm.
    pub spacing: [f64; 3],
    /// The minimum corner of the sampled box, mm.
    pub origin: [f64; 3],
    /// Solid (field < 0) per voxel, x fastest then y then z.
    pub solid: Vec<bool>,
}

impl VoxelGrid {
    /// Samples `field` at the centres of voxels of about `spacing` mm filling `bounds`
    /// (the spacing is shrunk per axis so the voxels tile the box exactly).
    pub fn sample(
        field: &dyn ScalarField,
        bounds: Aabb,
        spacing: f64,
    ) -> Result<VoxelGrid, MeasureError> {
        let Aabb { min, max } = bounds;
        if (0..3).any(|k| !(min[k].is_finite() && max[k].is_finite() && min[k] < max[k])) {
            return Err(MeasureError::InvalidBounds { min, max });
        }
        if !(spacing.is_finite() && spacing > 0.0) {
            return Err(MeasureError::InvalidSpacing(spacing));
        }
        let counts = [0, 1, 2].map(|k| ((max[k] - min[k]) / spacing).round().max(1.0));
        let count = counts.iter().product::<f64>();
        if count > MAX_VOXELS as f64 {
            return Err(MeasureError::TooManyVoxels {
                count: count as u64,
                limit: MAX_VOXELS,
            });
        }
        let n = counts.map(|c| c as usize);
        let h = [0, 1, 2].map(|k| (max[k] - min[k]) / n[k] as f64);
        let plane = n[0] * n[1];
        let mut solid = vec![false; plane * n[2]];
        solid
            .par_chunks_mut(plane)
            .enumerate()
            .try_for_each(|(k, out)| {
                let z = min[2] + (k as f64 + 0.5) * h[2];
                for j in 0..n[1] {
                    let y = min[1] + (j as f64 + 0.5) * h[1];
                    for i in 0..n[0] {
                        let x = min[0] + (i as f64 + 0.5) * h[0];
                        let f = field.eval(&Point3::new(x, y, z));
                        if f.is_nan() {
                            return Err(MeasureError::NotANumber { x, y, z });
                        }
                        out[j * n[0] + i] = f < 0.0;
                    }
                }
                Ok(())
            })?;
        Ok(VoxelGrid {
            n,
            spacing: h,
            origin: min,
            solid,
        })
    }

    /// The fraction of voxels that are solid.
    pub fn solid_fraction(&self) -> f64 {
        self.solid.iter().filter(|&&s| s).count() as f64 / self.solid.len() as f64
    }
}

/// The solid fraction (`1 − porosity`) of `field` in `bounds`, by midpoint sampling on voxels
/// of about `spacing` mm.
pub fn solid_fraction(
    field: &dyn ScalarField,
    bounds: Aabb,
    spacing: f64,
) -> Result<f64, MeasureError> {
    Ok(VoxelGrid::sample(field, bounds, spacing)?.solid_fraction())
}

/// The solid fraction of a closed mesh lying inside `bounds`: its enclosed volume over the
/// box's.
pub fn mesh_solid_fraction(mesh: &Mesh, bounds: Aabb) -> f64 {
    let s = bounds.size();
    mesh.signed_volume() / (s[0] * s[1] * s[2])
}

/// The thinnest features of both phases, mm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureSizes {
    /// The smallest strut or wall (minimum local thickness of the solid); `None` without solid.
    pub smallest_solid: Option<f64>,
    /// The smallest pore (minimum local thickness of the void); `None` without void.
    pub smallest_pore: Option<f64>,
    /// The voxel size the figures were measured with, mm (their resolution).
    pub voxel: f64,
}

/// The smallest strut/wall and pore of `field` in `bounds`, measured on voxels of about
/// `spacing` mm (module docs). The voxels are made cubic (`spacing` is used on every axis and
/// the box is covered by whole voxels, overhanging its max faces by less than one voxel).
pub fn feature_sizes(
    field: &dyn ScalarField,
    bounds: Aabb,
    spacing: f64,
) -> Result<FeatureSizes, MeasureError> {
    let Aabb { min, max } = bounds;
    if !(spacing.is_finite() && spacing > 0.0) {
        return Err(MeasureError::InvalidSpacing(spacing));
    }
    // Cubic voxels: distances are isotropic in voxel units.
    let n = [0, 1, 2].map(|k| ((max[k] - min[k]) / spacing).ceil().max(1.0));
    let cubic = Aabb {
        min,
        max: [0, 1, 2].map(|k| min[k] + n[k] * spacing),
    };
    let grid = VoxelGrid::sample(field, cubic, spacing)?;
    let void: Vec<bool> = grid.solid.iter().map(|s| !s).collect();
    let to_mm = |d: Option<f64>| d.map(|v| v * spacing);
    Ok(FeatureSizes {
        smallest_solid: to_mm(min_local_thickness(&grid.solid, grid.n)),
        smallest_pore: to_mm(min_local_thickness(&void, grid.n)),
        voxel: spacing,
    })
}

/// The minimum local thickness of a phase, voxels (module docs); `None` for an empty phase or
/// one with no boundary inside the grid.
fn min_local_thickness(phase: &[bool], n: [usize; 3]) -> Option<f64> {
    if !phase.iter().any(|&p| p) {
        return None;
    }
    let dt2 = squared_distance_transform(n, |i| !phase[i]);
    let max_dt2 = phase
        .iter()
        .zip(&dt2)
        .filter(|(p, _)| **p)
        .map(|(_, d)| *d)
        .fold(0.0, f64::max);
    if !max_dt2.is_finite() {
        return None;
    }
    let max_r = max_dt2.sqrt();
    let mut r = 1.0;
    while r <= max_r + 1.0 {
        let excused = 0.5 * r + 1.0;
        let covered = squared_distance_transform(n, |i| phase[i] && dt2[i] > r * r);
        if has_uncovered(phase, &dt2, &covered, n, r, excused) {
            return Some(2.0 * r - 1.0);
        }
        r += 0.5;
    }
    Some(2.0 * max_r - 1.0)
}

/// Whether some voxel of the phase with `dt ≥ excused`, farther than `r + 1` voxels from the
/// grid's faces, is not covered by a ball of radius `r`. Near the faces balls would need
/// centres outside the grid, so a feature cut by the box would look thin there.
fn has_uncovered(
    phase: &[bool],
    dt2: &[f64],
    covered: &[f64],
    n: [usize; 3],
    r: f64,
    excused: f64,
) -> bool {
    let m = r.ceil() as usize + 1;
    let inner = |i: usize, len: usize| i >= m && i + m < len;
    (0..n[2]).filter(|&k| inner(k, n[2])).any(|k| {
        (0..n[1]).filter(|&j| inner(j, n[1])).any(|j| {
            (0..n[0]).filter(|&i| inner(i, n[0])).any(|i| {
                let v = i + n[0] * (j + n[1] * k);
                phase[v] && dt2[v] >= excused * excused && covered[v] > r * r
            })
        })
    })
}

/// The squared Euclidean distance (voxel units) from every voxel to the nearest source voxel;
/// infinite without sources. Separable exact transform (Felzenszwalb & Huttenlocher 2012).
fn squared_distance_transform(n: [usize; 3], source: impl Fn(usize) -> bool + Sync) -> Vec<f64> {
    let [nx, ny, nz] = n;
    let plane = nx * ny;
    let mut d: Vec<f64> = (0..plane * nz)
        .into_par_iter()
        .map(|i| if source(i) { 0.0 } else { f64::INFINITY })
        .collect();
    // x and y within each z plane (planes are independent).
    d.par_chunks_mut(plane).for_each(|p| {
        let mut line = LineTransform::new(nx.max(ny));
        for row in p.chunks_mut(nx) {
            line.apply(row.iter_mut());
        }
        for i in 0..nx {
            line.apply(p.iter_mut().skip(i).step_by(nx));
        }
    });
    // z, column by column, in parallel over y rows.
    let columns: Vec<Vec<f64>> = (0..plane)
        .into_par_iter()
        .map_init(
            || LineTransform::new(nz),
            |line, c| {
                let mut col: Vec<f64> = (0..nz).map(|k| d[k * plane + c]).collect();
                line.apply(col.iter_mut());
                col
            },
        )
        .collect();
    for (c, col) in columns.into_iter().enumerate() {
        for (k, v) in col.into_iter().enumerate() {
            d[k * plane + c] = v;
        }
    }
    d
}

/// Scratch buffers of the 1D squared distance transform (lower envelope of parabolas).
struct LineTransform {
    f: Vec<f64>,
    v: Vec<usize>,
    z: Vec<f64>,
}

impl LineTransform {
    fn new(n: usize) -> LineTransform {
        LineTransform {
            f: Vec::with_capacity(n),
            v: vec![0; n],
            z: vec![0.0; n + 1],
        }
    }

    /// Replaces the values of a line by their 1D squared distance transform.
    fn apply<'a>(&mut self, line: impl Iterator<Item = &'a mut f64>) {
        let mut cells: Vec<&'a mut f64> = line.collect();
        self.f.clear();
        self.f.extend(cells.iter().map(|c| **c));
        let n = self.f.len();
        let f = &self.f;
        // Only finite entries carry parabolas.
        let mut k: isize = -1;
        for q in 0..n {
            if !f[q].is_finite() {
                continue;
            }
            loop {
                if k < 0 {
                    k = 0;
                    self.v[0] = q;
                    self.z[0] = f64::NEG_INFINITY;
                    self.z[1] = f64::INFINITY;
                    break;
                }
                let p = self.v[k as usize];
                let s = ((f[q] + (q * q) as f64) - (f[p] + (p * p) as f64))
                    / (2.0 * (q as f64 - p as f64));
                if s <= self.z[k as usize] {
                    k -= 1;
                    continue;
                }
                k += 1;
                self.v[k as usize] = q;
                self.z[k as usize] = s;
                self.z[k as usize + 1] = f64::INFINITY;
                break;
            }
        }
        if k < 0 {
            return; // no finite entry: the line stays infinite
        }
        let mut j = 0usize;
        for (q, cell) in cells.iter_mut().enumerate() {
            while self.z[j + 1] < q as f64 {
                j += 1;
            }
            let p = self.v[j];
            let dq = q as f64 - p as f64;
            **cell = dq * dq + f[p];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::implicit::ops::FieldExt;
    use crate::implicit::sdf::{Cylinder, RoundedBox, Sphere};
    use crate::implicit::tpms::{LatticeStyle, TpmsKind, TpmsLattice};

    fn cube(a: f64) -> Aabb {
        Aabb {
            min: [0.0; 3],
            max: [a; 3],
        }
    }

    #[test]
    fn distance_transform_is_exact_euclidean() {
        let n = [7, 5, 6];
        let src = [(1usize, 1usize, 1usize), (5, 3, 4)];
        let idx = |i: usize, j: usize, k: usize| i + 7 * (j + 5 * k);
        let d = squared_distance_transform(n, |i| src.iter().any(|&(a, b, c)| idx(a, b, c) == i));
        for k in 0..6 {
            for j in 0..5 {
                for i in 0..7 {
                    let want = src
                        .iter()
                        .map(|&(a, b, c)| {
                            let (x, y, z) = (
                                i as f64 - a as f64,
                                j as f64 - b as f64,
                                k as f64 - c as f64,
                            );
                            x * x + y * y + z * z
                        })
                        .fold(f64::INFINITY, f64::min);
                    assert_eq!(d[idx(i, j, k)], want);
                }
            }
        }
    }

    #[test]
    fn wall_and_strut_thickness_are_measured_within_a_voxel() {
        let s = 0.05;
        // A 0.6 mm wall across the box.
        let wall = |p: &Point3<f64>| (p.z - 1.0).abs() - 0.3;
        let f = feature_sizes(&wall, cube(2.0), s).unwrap();
        let t = f.smallest_solid.unwrap();
        assert!((t - 0.6).abs() <= 1.5 * s, "wall {t}");
        let gap = f.smallest_pore.unwrap();
        assert!(gap > 0.6, "pore {gap}");
        // A fat ball with a thin 0.4 mm strut: the strut is the smallest solid feature.
        let ball = Sphere::new(Point3::new(1.5, 1.5, 1.0), 0.7);
        let strut = Cylinder::new(Point3::new(1.5, 1.5, 1.0), Point3::new(1.5, 1.5, 2.6), 0.2);
        let f = feature_sizes(&ball.union(strut), cube(3.0), s).unwrap();
        let t = f.smallest_solid.unwrap();
        assert!((t - 0.4).abs() <= 1.5 * s, "strut {t}");
    }

    #[test]
    fn sharp_corners_are_not_thin_features() {
        let block = RoundedBox::from_corners([0.5; 3], [1.5; 3], 0.0);
        let f = feature_sizes(&block, cube(2.0), 0.05).unwrap();
        let t = f.smallest_solid.unwrap();
        assert!((t - 1.0).abs() <= 0.1, "block {t}");
    }

    #[test]
    fn gyroid_feature_sizes_match_published_ratios() {
        // docs/DOMAIN.md: skeletal gyroid at 70 % porosity, strut ≈ 0.30·L, pore ≈ 0.54·L.
        let l = 1.0;
        let g =
            TpmsLattice::with_porosity(TpmsKind::Gyroid, LatticeStyle::Skeletal, l, 0.7).unwrap();
        let f = feature_sizes(&g, cube(2.0 * l), l / 40.0).unwrap();
        let (strut, pore) = (f.smallest_solid.unwrap(), f.smallest_pore.unwrap());
        assert!((strut / l - 0.30).abs() < 0.06, "strut {strut}");
        assert!((pore / l - 0.54).abs() < 0.1, "pore {pore}");
    }

    #[test]
    fn sampled_solid_fraction_of_a_lattice_is_its_target() {
        for kind in TpmsKind::ALL {
            for style in [LatticeStyle::Skeletal, LatticeStyle::Sheet] {
                let g = TpmsLattice::with_porosity(kind, style, 1.0, 0.65).unwrap();
                let vf = solid_fraction(&g, cube(2.0), 0.02).unwrap();
                assert!((vf - 0.35).abs() < 0.01, "{kind:?} {style:?}: {vf}");
            }
        }
    }

    #[test]
    fn bad_boxes_and_spacings_are_errors() {
        let ball = Sphere::new(Point3::origin(), 1.0);
        assert!(matches!(
            solid_fraction(&ball, cube(1.0), 0.0),
            Err(MeasureError::InvalidSpacing(_))
        ));
        assert!(matches!(
            solid_fraction(&ball, Aabb::EMPTY, 0.1),
            Err(MeasureError::InvalidBounds { .. })
        ));
        assert!(matches!(
            solid_fraction(&ball, cube(100.0), 1e-3),
            Err(MeasureError::TooManyVoxels { .. })
        ));
    }
}
