//! Booleans, smooth blends, offsets and transforms of fields, as small generic structs so a
//! composed model compiles into one inlined function.
//!
//! ```
//! use meltline_core::implicit::{ScalarField, ops::FieldExt, sdf::Sphere};
//! use nalgebra::{Point3, Vector3};
//! let a = Sphere::new(Point3::origin(), 1.0);
//! let b = Sphere::new(Point3::new(1.5, 0.0, 0.0), 1.0);
//! let blob = a.smooth_union(b, 0.3).translate(Vector3::new(0.0, 0.0, 2.0));
//! assert!(blob.eval(&Point3::new(0.75, 0.0, 2.0)) < 0.0);
//! ```
//!
//! Booleans use `min`/`max`, exact on the outside of unions and the inside of intersections and
//! a bound elsewhere; the sign — all the mesher needs — is always exact.

use nalgebra::{Isometry3, Point3, Vector3};

use super::ScalarField;

/// `a ∪ b`: `min(a, b)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Union<A, B>(pub A, pub B);

/// `a ∩ b`: `max(a, b)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intersection<A, B>(pub A, pub B);

/// `a \ b`: `max(a, −b)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference<A, B>(pub A, pub B);

impl<A: ScalarField, B: ScalarField> ScalarField for Union<A, B> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        self.0.eval(p).min(self.1.eval(p))
    }
}

impl<A: ScalarField, B: ScalarField> ScalarField for Intersection<A, B> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        self.0.eval(p).max(self.1.eval(p))
    }
}

impl<A: ScalarField, B: ScalarField> ScalarField for Difference<A, B> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        self.0.eval(p).max(-self.1.eval(p))
    }
}

/// The polynomial smooth minimum of radius `k` (Quilez): equals `min(a, b)` when the values
/// differ by `k` or more, and rounds the crease within `k` of it, by at most `k/4`.
#[inline]
pub fn smooth_min(a: f64, b: f64, k: f64) -> f64 {
    if k <= 0.0 {
        return a.min(b);
    }
    let h = (k - (a - b).abs()).max(0.0) / k;
    a.min(b) - h * h * k * 0.25
}

/// The polynomial smooth maximum of radius `k`: `−smooth_min(−a, −b, k)`.
#[inline]
pub fn smooth_max(a: f64, b: f64, k: f64) -> f64 {
    -smooth_min(-a, -b, k)
}

/// `a ∪ b` with the crease filleted over about `k` mm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothUnion<A, B> {
    /// First operand.
    pub a: A,
    /// Second operand.
    pub b: B,
    /// Blend radius, mm.
    pub k: f64,
}

/// `a ∩ b` with the crease rounded over about `k` mm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothIntersection<A, B> {
    /// First operand.
    pub a: A,
    /// Second operand.
    pub b: B,
    /// Blend radius, mm.
    pub k: f64,
}

/// `a \ b` with the crease rounded over about `k` mm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothDifference<A, B> {
    /// First operand.
    pub a: A,
    /// Second operand.
    pub b: B,
    /// Blend radius, mm.
    pub k: f64,
}

impl<A: ScalarField, B: ScalarField> ScalarField for SmoothUnion<A, B> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        smooth_min(self.a.eval(p), self.b.eval(p), self.k)
    }
}

impl<A: ScalarField, B: ScalarField> ScalarField for SmoothIntersection<A, B> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        smooth_max(self.a.eval(p), self.b.eval(p), self.k)
    }
}

impl<A: ScalarField, B: ScalarField> ScalarField for SmoothDifference<A, B> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        smooth_max(self.a.eval(p), -self.b.eval(p), self.k)
    }
}

/// The solid grown by `distance` mm (shrunk when negative): `f − distance`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Offset<F> {
    /// The field offset.
    pub inner: F,
    /// Outward offset, mm.
    pub distance: f64,
}

impl<F: ScalarField> ScalarField for Offset<F> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        self.inner.eval(p) - self.distance
    }
}

/// A shell of `thickness` mm centred on the surface: `|f| − thickness/2`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shell<F> {
    /// The field whose surface is thickened.
    pub inner: F,
    /// Wall thickness, mm.
    pub thickness: f64,
}

impl<F: ScalarField> ScalarField for Shell<F> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        self.inner.eval(p).abs() - 0.5 * self.thickness
    }
}

/// The complement: `−f`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Complement<F>(pub F);

impl<F: ScalarField> ScalarField for Complement<F> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        -self.0.eval(p)
    }
}

/// A field moved by `offset` mm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Translate<F> {
    /// The field moved.
    pub inner: F,
    /// The displacement, mm.
    pub offset: Vector3<f64>,
}

impl<F: ScalarField> ScalarField for Translate<F> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        self.inner.eval(&(p - self.offset))
    }
}

/// A field moved by a rigid motion (distances are preserved).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rigid<F> {
    /// The field moved.
    pub inner: F,
    /// The inverse of the motion, applied to query points.
    pub inverse: Isometry3<f64>,
}

impl<F: ScalarField> Rigid<F> {
    /// `inner` moved by `motion`.
    pub fn new(inner: F, motion: &Isometry3<f64>) -> Self {
        Rigid {
            inner,
            inverse: motion.inverse(),
        }
    }
}

impl<F: ScalarField> ScalarField for Rigid<F> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        self.inner.eval(&self.inverse.transform_point(p))
    }
}

/// A field scaled uniformly by `factor` about the origin (distances scale with it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale<F> {
    /// The field scaled.
    pub inner: F,
    /// The scale factor, positive.
    pub factor: f64,
}

impl<F: ScalarField> ScalarField for Scale<F> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        self.factor * self.inner.eval(&Point3::from(p.coords / self.factor))
    }
}

impl ScalarField for Box<dyn ScalarField> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        (**self).eval(p)
    }
}

impl ScalarField for &dyn ScalarField {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        (**self).eval(p)
    }
}

/// Builder methods composing fields: `a.union(b).offset(0.2)`.
pub trait FieldExt: ScalarField + Sized {
    /// `self ∪ other`.
    fn union<B: ScalarField>(self, other: B) -> Union<Self, B> {
        Union(self, other)
    }
    /// `self ∩ other`.
    fn intersect<B: ScalarField>(self, other: B) -> Intersection<Self, B> {
        Intersection(self, other)
    }
    /// `self \ other`.
    fn subtract<B: ScalarField>(self, other: B) -> Difference<Self, B> {
        Difference(self, other)
    }
    /// `self ∪ other` filleted over `k` mm.
    fn smooth_union<B: ScalarField>(self, other: B, k: f64) -> SmoothUnion<Self, B> {
        SmoothUnion {
            a: self,
            b: other,
            k,
        }
    }
    /// `self ∩ other` rounded over `k` mm.
    fn smooth_intersect<B: ScalarField>(self, other: B, k: f64) -> SmoothIntersection<Self, B> {
        SmoothIntersection {
            a: self,
            b: other,
            k,
        }
    }
    /// `self \ other` rounded over `k` mm.
    fn smooth_subtract<B: ScalarField>(self, other: B, k: f64) -> SmoothDifference<Self, B> {
        SmoothDifference {
            a: self,
            b: other,
            k,
        }
    }
    /// Grown by `distance` mm.
    fn offset(self, distance: f64) -> Offset<Self> {
        Offset {
            inner: self,
            distance,
        }
    }
    /// A wall of `thickness` mm centred on the surface.
    fn shell(self, thickness: f64) -> Shell<Self> {
        Shell {
            inner: self,
            thickness,
        }
    }
    /// The complement.
    fn complement(self) -> Complement<Self> {
        Complement(self)
    }
    /// Moved by `offset` mm.
    fn translate(self, offset: Vector3<f64>) -> Translate<Self> {
        Translate {
            inner: self,
            offset,
        }
    }
    /// Moved by a rigid motion.
    fn rigid(self, motion: &Isometry3<f64>) -> Rigid<Self> {
        Rigid::new(self, motion)
    }
    /// Scaled by `factor` about the origin.
    fn scale(self, factor: f64) -> Scale<Self> {
        Scale {
            inner: self,
            factor,
        }
    }
    /// Boxed, for models assembled at run time.
    fn boxed(self) -> Box<dyn ScalarField>
    where
        Self: 'static,
    {
        Box::new(self)
    }
}

impl<F: ScalarField> FieldExt for F {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::implicit::sdf::{RoundedBox, Sphere};

    #[test]
    fn booleans_pick_the_right_sign() {
        let a = Sphere::new(Point3::origin(), 1.0);
        let b = Sphere::new(Point3::new(1.0, 0.0, 0.0), 1.0);
        let only_a = Point3::new(-0.8, 0.0, 0.0);
        let both = Point3::new(0.5, 0.0, 0.0);
        assert!(a.union(b).eval(&only_a) < 0.0);
        assert!(a.intersect(b).eval(&only_a) > 0.0);
        assert!(a.intersect(b).eval(&both) < 0.0);
        assert!(a.subtract(b).eval(&only_a) < 0.0);
        assert!(a.subtract(b).eval(&both) > 0.0);
        assert!(a.complement().eval(&only_a) > 0.0);
    }

    #[test]
    fn smooth_min_matches_min_away_from_the_crease_and_fills_it() {
        assert_eq!(smooth_min(1.0, 3.0, 0.5), 1.0);
        assert!((smooth_min(1.0, 1.0, 0.4) - 0.9).abs() < 1e-12);
        assert_eq!(smooth_min(1.0, 1.0, 0.0), 1.0);
        assert!((smooth_max(1.0, 1.0, 0.4) - 1.1).abs() < 1e-12);
        // The fillet adds material in the crease between two boxes.
        let a = RoundedBox::from_corners([0.0; 3], [1.0; 3], 0.0);
        let b = RoundedBox::from_corners([-1.0, 1.0, 0.0], [2.0, 2.0, 1.0], 0.0);
        let crease = Point3::new(1.05, 0.95, 0.5);
        assert!(a.union(b).eval(&crease) > 0.0);
        assert!(a.smooth_union(b, 0.5).eval(&crease) < 0.0);
    }

    #[test]
    fn offsets_shells_and_transforms_move_the_surface() {
        let s = Sphere::new(Point3::origin(), 1.0);
        let p = Point3::new(1.2, 0.0, 0.0);
        assert!(s.eval(&p) > 0.0 && s.offset(0.3).eval(&p) < 0.0);
        let wall = s.shell(0.2);
        assert!(wall.eval(&Point3::new(0.95, 0.0, 0.0)) < 0.0);
        assert!(wall.eval(&Point3::origin()) > 0.0);
        let moved = s.translate(Vector3::new(5.0, 0.0, 0.0));
        assert!((moved.eval(&Point3::new(5.0, 0.0, 0.0)) + 1.0).abs() < 1e-12);
        let turned = Sphere::new(Point3::new(2.0, 0.0, 0.0), 0.5).rigid(&Isometry3::new(
            Vector3::zeros(),
            Vector3::new(0.0, 0.0, std::f64::consts::FRAC_PI_2),
        ));
        assert!(turned.eval(&Point3::new(0.0, 2.0, 0.0)) < -0.49);
        let big = s.scale(2.0);
        assert!((big.eval(&Point3::new(3.0, 0.0, 0.0)) - 1.0).abs() < 1e-12);
        let boxed: Box<dyn ScalarField> = s.boxed();
        assert_eq!(boxed.eval(&p), s.eval(&p));
    }
}
