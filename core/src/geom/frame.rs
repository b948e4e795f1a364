//! A right-handed local frame: the axes the cage fit and the ray caster work in.

use nalgebra::{Matrix3, Point3};

/// A right-handed frame in the patient space (mm): origin and unit axes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Origin in patient coordinates.
    pub origin: Point3<f64>,
    /// Local x, y, z axes in patient coordinates (columns).
    pub axes: Matrix3<f64>,
}

impl Frame {
    /// The patient frame itself: local and patient coordinates coincide.
    pub fn identity() -> Frame {
        Frame {
            origin: Point3::origin(),
            axes: Matrix3::identity(),
        }
    }

    /// Local coordinates of a patient point.
    pub fn to_local(&self, p: &Point3<f64>) -> Point3<f64> {
        Point3::from(self.axes.transpose() * (p - self.origin))
    }

    /// Patient coordinates of a local point.
    pub fn to_patient(&self, p: &Point3<f64>) -> Point3<f64> {
        self.origin + self.axes * p.coords
    }
}
