//! Implicit modelling: scalar fields whose negative region is solid.
//!
//! Convention: `f(p) < 0` inside the solid, `f(p) > 0` outside, `f(p) = 0` on the surface, with
//! `p` in millimetres. Signed-distance fields have `|∇f| = 1`; TPMS level-set fields do not.
//!
//! - [`sdf`]: primitives (sphere, rounded box, cylinder, half-space, slab and extrusion between
//!   height maps) and planar footprints ([`sdf::PlanarField`]).
//! - [`ops`]: booleans, smooth blends, offsets, shells and transforms ([`ops::FieldExt`]).
//! - [`tpms`]: gyroid, diamond and Schwarz P lattices, skeletal or sheet, with the porosity →
//!   level-set relation, and the [`tpms::Lattice`] clipped into a region overlapping its rim.
//! - [`mesher`]: [`mesh_field`], marching tetrahedra with a closed-manifold guarantee.
//! - [`measure`]: porosity and smallest strut/pore of a field.
//!
//! ```
//! use meltline_core::implicit::{mesh_field, MesherOptions, ops::FieldExt};
//! use meltline_core::implicit::sdf::RoundedBox;
//! use meltline_core::implicit::tpms::{LatticeStyle, TpmsKind, TpmsLattice};
//! use meltline_core::mesh::Aabb;
//! // A 4 mm block: 0.8 mm solid rim around a gyroid core that reaches 0.3 mm into the rim.
//! let outer = RoundedBox::from_corners([0.0; 3], [4.0; 3], 0.3);
//! let cavity = RoundedBox::from_corners([0.8; 3], [3.2; 3], 0.0);
//! let gyroid = TpmsLattice::with_porosity(TpmsKind::Gyroid, LatticeStyle::Skeletal, 1.2, 0.7)?;
//! let part = outer.subtract(cavity).union(gyroid.clipped(cavity, 0.3));
//! let bounds = Aabb { min: [-0.5; 3], max: [4.5; 3] };
//! let mesh = mesh_field(&part, bounds, 0.1, &MesherOptions::default())?;
//! assert!(mesh.signed_volume() > 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use nalgebra::Point3;

/// A scalar field over space in millimetres; negative inside the solid.
pub trait ScalarField: Sync {
    /// The field value at `p`.
    fn eval(&self, p: &Point3<f64>) -> f64;
}

impl<F: Fn(&Point3<f64>) -> f64 + Sync> ScalarField for F {
    fn eval(&self, p: &Point3<f64>) -> f64 {
        self(p)
    }
}

pub mod measure;
pub mod mesher;
pub mod ops;
pub mod sdf;
pub mod tpms;

pub use mesher::{MesherOptions, MeshingError, mesh_field};

#[cfg(test)]
pub(crate) mod test_support;
