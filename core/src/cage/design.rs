//! From a spec (and optionally two vertebrae) to the meshed cage in the build frame.
//!
//! ```no_run
//! use meltline_core::cage::{CageSpec, design::{design_cage, DesignOptions}};
//! let design = design_cage(&CageSpec::default_tlif(), None, &DesignOptions::default()).unwrap();
//! assert!(design.mesh.bbox().min[2].abs() < 1e-6);
//! ```

use nalgebra::{Matrix4, Vector3};

use super::body::{CageField, Faces};
use super::endplate::{EndplateFit, FitError, FitOptions, fit_endplates};
use super::footprint::Footprint;
use super::lattice::Lattice;
use super::spec::{CageSpec, EnvelopeViolation, LatticeSpec};
use crate::implicit::mesher::{MesherOptions, MeshingError, mesh_field};
use crate::implicit::tpms::LatticeError;
use crate::mesh::Mesh;

/// The two vertebrae bounding the disc space, in one patient frame, millimetres.
#[derive(Debug, Clone, Copy)]
pub struct Vertebrae<'a> {
    /// The upper vertebra (its inferior endplate bounds the disc from above).
    pub upper: &'a Mesh,
    /// The lower vertebra (its superior endplate bounds the disc from below).
    pub lower: &'a Mesh,
}

/// Options of [`design_cage`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DesignOptions {
    /// Mesh at this edge length instead of the spec's (coarser previews and CI), mm.
    pub edge_length_override: Option<f64>,
    /// Endplate fit options.
    pub fit: FitOptions,
    /// Mesher options.
    pub mesher: MesherOptions,
    /// Use the nominal TPMS level, without correcting for the mesher's discretisation.
    pub skip_lattice_compensation: bool,
}

/// Why a cage could not be designed.
#[derive(Debug, thiserror::Error)]
pub enum DesignError {
    /// The spec is outside its design envelope.
    #[error("cage spec outside the design envelope: {}", .0.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("; "))]
    Envelope(Vec<EnvelopeViolation>),
    /// The edge-length override is not a positive finite number.
    #[error("edge length override {0} mm is not a positive finite number")]
    EdgeLength(f64),
    /// The endplates could not be fitted.
    #[error("endplate fit: {0}")]
    Fit(#[from] FitError),
    /// The lattice could not be calibrated.
    #[error("cage lattice: {0}")]
    Lattice(#[from] LatticeError),
    /// The mesher refused the field.
    #[error("meshing the cage: {0}")]
    Meshing(#[from] MeshingError),
    /// The mesher produced no triangle.
    #[error("the cage field meshed to an empty mesh")]
    Empty,
}

/// A designed cage: its field, its mesh in the build frame and the fit that shaped it.
#[derive(Debug, Clone)]
pub struct CageDesign {
    /// The spec it was designed from.
    pub spec: CageSpec,
    /// The cage field in the build frame.
    pub field: CageField,
    /// The mesh in the build frame (z up, lowest point on z = 0), mm.
    pub mesh: Mesh,
    /// The edge length used, mm.
    pub edge_length_mm: f64,
    /// The endplate fit, when vertebrae were given.
    pub fit: Option<EndplateFit>,
    /// Loose fragments removed from the mesh (see [`remove_fragments`]).
    pub fragments: Fragments,
    /// Solid fraction added to the lattice's target to offset the mesher's thinning of struts
    /// at this edge length (see [`lattice_compensation`]).
    pub lattice_compensation: f64,
}

/// Shells not part of the cage's outer surface, removed after meshing.
///
/// Booleans cut the lattice at window walls, the hole and the core boundary; where a cut leaves
/// a piece of strut touching nothing, it would print as a loose particle in the powder bed.
/// Where the pore network pinches shut at the mesh resolution, an enclosed void would trap
/// powder; it is filled (its inward shell dropped).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Fragments {
    /// How many loose islands were removed.
    pub count: usize,
    /// Their total volume, mm³.
    pub volume_mm3: f64,
    /// How many enclosed voids were filled.
    pub cavities: usize,
    /// Their total volume, mm³.
    pub cavity_volume_mm3: f64,
}

/// Keeps only the largest shell: drops loose islands and fills enclosed voids.
pub fn remove_fragments(mesh: &mut Mesh) -> Fragments {
    let shells = mesh.shells();
    if shells.len() < 2 {
        return Fragments::default();
    }
    let volumes: Vec<f64> = shells
        .iter()
        .map(|s| mesh.signed_volume_of(s.iter().copied()))
        .collect();
    let main = volumes
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i);
    let mut keep = vec![false; mesh.triangles.len()];
    let mut removed = Fragments::default();
    for (i, (shell, v)) in shells.iter().zip(&volumes).enumerate() {
        if i == main {
            shell.iter().for_each(|&t| keep[t] = true);
        } else if *v < 0.0 {
            removed.cavities += 1;
            removed.cavity_volume_mm3 -= v;
        } else {
            removed.count += 1;
            removed.volume_mm3 += v;
        }
    }
    let mut k = keep.iter();
    mesh.triangles.retain(|_| *k.next().unwrap_or(&false));
    mesh.compact();
    removed
}

impl CageDesign {
    /// The build frame → patient frame transform (identity without a fit).
    pub fn build_to_patient(&self) -> Matrix4<f64> {
        match &self.fit {
            None => Matrix4::identity(),
            Some(fit) => {
                let mut m = Matrix4::identity();
                m.fixed_view_mut::<3, 3>(0, 0).copy_from(&fit.frame.axes);
                m.fixed_view_mut::<3, 1>(0, 3)
                    .copy_from(&fit.frame.origin.coords);
                m
            }
        }
    }

    /// The mesh placed in the patient frame (mm); the build-frame mesh without a fit.
    pub fn patient_mesh(&self) -> Mesh {
        let mut m = self.mesh.clone();
        if let Some(fit) = &self.fit {
            for v in &mut m.vertices {
                *v = fit.frame.to_patient(v);
            }
        }
        m
    }
}

/// Designs the cage of `spec`, fitted to `vertebrae` when given, meshed at the spec's edge
/// length (or the override).
pub fn design_cage(
    spec: &CageSpec,
    vertebrae: Option<Vertebrae<'_>>,
    opts: &DesignOptions,
) -> Result<CageDesign, DesignError> {
    spec.validate().map_err(DesignError::Envelope)?;
    let edge = opts.edge_length_override.unwrap_or(spec.edge_length_mm);
    if !(edge.is_finite() && edge > 0.0) {
        return Err(DesignError::EdgeLength(edge));
    }
    let footprint = Footprint::from_spec(spec);
    let (faces, fit) = match vertebrae {
        None => (Faces::planned(spec, &footprint), None),
        Some(v) => {
            let fit = fit_endplates(v.upper, v.lower, spec, &opts.fit)?;
            (
                Faces::Fitted {
                    top: fit.top.clone(),
                    bottom: fit.bottom.clone(),
                },
                Some(fit),
            )
        }
    };
    let compensation = if opts.skip_lattice_compensation {
        0.0
    } else {
        lattice_compensation(&spec.lattice, edge, &opts.mesher)?
    };
    let mut meshed_spec = spec.clone();
    meshed_spec.lattice.porosity -= compensation;
    let field = CageField::new(&meshed_spec, footprint, faces)?;
    let bounds = field.bounds(2.0 * edge);
    let mut mesh = mesh_field(&field, bounds, edge, &opts.mesher)?;
    if mesh.triangles.is_empty() {
        return Err(DesignError::Empty);
    }
    let fragments = remove_fragments(&mut mesh);
    // Planned faces put the bottom on z = 0 already and fitted faces are shifted there, but teeth
    // reach below: move the lowest vertex to z = 0 and carry the field and the fit along.
    let zmin = mesh.bbox().min[2];
    let mut fit = fit;
    let mut field = field;
    if zmin != 0.0 {
        mesh.translate(Vector3::new(0.0, 0.0, -zmin));
        field = field.shifted(-zmin);
        if let Some(f) = fit.as_mut() {
            f.frame.origin += f.frame.axes.column(2) * zmin;
            f.top = f.top.clone().shifted(-zmin);
            f.bottom = f.bottom.clone().shifted(-zmin);
        }
    }
    // The recorded spec is the one that reproduces this mesh: with the edge length used.
    let mut recorded = spec.clone();
    recorded.edge_length_mm = edge;
    Ok(CageDesign {
        spec: recorded,
        field,
        mesh,
        edge_length_mm: edge,
        fit,
        fragments,
        lattice_compensation: compensation,
    })
}

/// How much solid fraction the mesher loses on the spec's lattice at `edge`, measured on a
/// block of 3×3×3 cells: the piecewise-linear surface of marching tetrahedra cuts the convex
/// struts' sections short (by O(edge²·curvature)), so a mesh of the nominal level is a percent
/// or so more porous than the field. The block is bounded by planes inside the meshing box
/// (planes are meshed exactly), so its solid fraction is the mesh volume over the block volume.
pub fn lattice_compensation(
    lattice: &LatticeSpec,
    edge: f64,
    mesher: &MesherOptions,
) -> Result<f64, DesignError> {
    let nominal = Lattice::new(lattice)?;
    let side = 3.0 * lattice.cell_size_mm;
    // Offset the block from the lattice's phase origin so it samples a generic window.
    let lo = 0.1234 * lattice.cell_size_mm;
    let hi = lo + side;
    let block = |p: &nalgebra::Point3<f64>| {
        let b = (lo - p.x)
            .max(p.x - hi)
            .max(lo - p.y)
            .max(p.y - hi)
            .max(lo - p.z)
            .max(p.z - hi);
        nominal.eval(p).max(b)
    };
    let pad = 2.0 * edge;
    let bounds = crate::mesh::Aabb {
        min: [lo - pad; 3],
        max: [hi + pad; 3],
    };
    let mesh = mesh_field(&block, bounds, edge, mesher)?;
    let meshed_vf = mesh.signed_volume() / side.powi(3);
    let target_vf = 1.0 - lattice.porosity;
    // Never move the level by more than 5 % of solid fraction: beyond that the edge is too
    // coarse for the lattice and the honest answer is the measured porosity in the report.
    Ok((target_vf - meshed_vf).clamp(-0.05, 0.05))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_islands_are_removed_and_cavities_filled() {
        let mut mesh = Mesh::axis_aligned_box([0.0; 3], [10.0; 3]);
        let mut cavity = Mesh::axis_aligned_box([2.0; 3], [4.0; 3]);
        cavity.flip_all();
        mesh.append(&cavity);
        mesh.append(&Mesh::axis_aligned_box([20.0; 3], [20.5; 3]));
        let removed = remove_fragments(&mut mesh);
        assert_eq!(removed.count, 1);
        assert!((removed.volume_mm3 - 0.125).abs() < 1e-12);
        assert_eq!(removed.cavities, 1);
        assert!((removed.cavity_volume_mm3 - 8.0).abs() < 1e-9);
        assert_eq!(mesh.shells().len(), 1);
        assert!((mesh.signed_volume() - 1000.0).abs() < 1e-9);
    }
}
