//! Implicit modelling: scalar fields whose negative region is solid.
//!
//! Convention: `f(p) < 0` inside the solid, `f(p) > 0` outside, `f(p) = 0` on the surface, with
//! `p` in millimetres. Signed-distance fields have `|∇f| = 1`; TPMS level-set fields do not.

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

pub mod mesher;
pub mod ops;
pub mod sdf;
pub mod tpms;

pub use mesher::{MesherOptions, MeshingError, mesh_field};

#[cfg(test)]
pub(crate) mod test_support;
