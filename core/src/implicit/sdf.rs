//! Signed-distance primitives in millimetres (negative inside), and planar (2D) fields for
//! footprints and endplate height maps.
//!
//! ```
//! use meltline_core::implicit::{ScalarField, sdf::{Extrusion, RoundedRect}};
//! use nalgebra::Point3;
//! // A 10 × 8 mm rounded footprint whose bottom and top follow two height maps.
//! let body = Extrusion::new(
//!     RoundedRect::new([0.0, 0.0], [5.0, 4.0], 1.0),
//!     |x: f64, _y: f64| -5.0 + 0.02 * x * x,
//!     |_x: f64, y: f64| 5.0 - 0.01 * y * y,
//! );
//! assert!(body.eval(&Point3::new(0.0, 0.0, 0.0)) < 0.0);
//! assert!(body.eval(&Point3::new(0.0, 0.0, 5.5)) > 0.0);
//! ```

use nalgebra::{Point3, Unit, Vector3};

use super::ScalarField;

/// A scalar function of `(x, y)` in millimetres: a 2D signed distance (negative inside a
/// footprint) or a height map `z = h(x, y)`.
pub trait PlanarField: Sync {
    /// The value at `(x, y)`.
    fn eval_xy(&self, x: f64, y: f64) -> f64;
}

impl<F: Fn(f64, f64) -> f64 + Sync> PlanarField for F {
    #[inline]
    fn eval_xy(&self, x: f64, y: f64) -> f64 {
        self(x, y)
    }
}

/// A constant height `z = c`, the flat endplate face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flat(pub f64);

impl PlanarField for Flat {
    #[inline]
    fn eval_xy(&self, _x: f64, _y: f64) -> f64 {
        self.0
    }
}

/// A ball: exact signed distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sphere {
    /// Centre, mm.
    pub center: Point3<f64>,
    /// Radius, mm.
    pub radius: f64,
}

impl Sphere {
    /// A ball of `radius` mm about `center`.
    pub fn new(center: Point3<f64>, radius: f64) -> Sphere {
        Sphere { center, radius }
    }
}

impl ScalarField for Sphere {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        (p - self.center).norm() - self.radius
    }
}

/// An axis-aligned box with edges rounded to `radius` (0 for a sharp box): exact signed
/// distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundedBox {
    /// Centre, mm.
    pub center: Point3<f64>,
    /// Half the edge lengths, mm.
    pub half: Vector3<f64>,
    /// Edge and corner radius, mm, at most the smallest half-extent.
    pub radius: f64,
}

impl RoundedBox {
    /// A box from `min` to `max` with edges rounded to `radius` mm (clamped to fit).
    pub fn from_corners(min: [f64; 3], max: [f64; 3], radius: f64) -> RoundedBox {
        let half = Vector3::new(
            0.5 * (max[0] - min[0]),
            0.5 * (max[1] - min[1]),
            0.5 * (max[2] - min[2]),
        );
        RoundedBox {
            center: Point3::new(
                0.5 * (max[0] + min[0]),
                0.5 * (max[1] + min[1]),
                0.5 * (max[2] + min[2]),
            ),
            radius: radius.clamp(0.0, half.min()),
            half,
        }
    }
}

impl ScalarField for RoundedBox {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        let r = self.radius;
        let q = (p - self.center).abs() - self.half.add_scalar(-r);
        let outside = q.sup(&Vector3::zeros()).norm();
        let inside = q.max().min(0.0);
        outside + inside - r
    }
}

/// A capped cylinder from `a` to `b`: exact signed distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cylinder {
    /// Centre of one cap, mm.
    pub a: Point3<f64>,
    /// Centre of the other cap, mm.
    pub b: Point3<f64>,
    /// Radius, mm.
    pub radius: f64,
}

impl Cylinder {
    /// A cylinder of `radius` mm whose axis runs from `a` to `b`.
    pub fn new(a: Point3<f64>, b: Point3<f64>, radius: f64) -> Cylinder {
        Cylinder { a, b, radius }
    }
}

impl ScalarField for Cylinder {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        let axis = self.b - self.a;
        let len = axis.norm();
        if len == 0.0 {
            return (p - self.a).norm() - self.radius;
        }
        let u = axis / len;
        let ap = p - self.a;
        let along = ap.dot(&u);
        let radial = (ap - u * along).norm() - self.radius;
        let axial = (along - 0.5 * len).abs() - 0.5 * len;
        let outside = Vector3::new(radial.max(0.0), axial.max(0.0), 0.0).norm();
        outside + radial.max(axial).min(0.0)
    }
}

/// The half-space behind a plane: solid where `(p - point) · normal < 0`; exact distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HalfSpace {
    /// A point on the plane, mm.
    pub point: Point3<f64>,
    /// The outward unit normal.
    pub normal: Unit<Vector3<f64>>,
}

impl HalfSpace {
    /// The half-space behind the plane through `point` with outward `normal` (any length).
    pub fn new(point: Point3<f64>, normal: Vector3<f64>) -> HalfSpace {
        HalfSpace {
            point,
            normal: Unit::new_normalize(normal),
        }
    }
}

impl ScalarField for HalfSpace {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        (p - self.point).dot(&self.normal)
    }
}

/// The slab between two height maps: solid where `bottom(x, y) < z < top(x, y)`.
///
/// The value is `max(bottom − z, z − top)`: the vertical distance to the nearer face, an
/// exact distance for flat faces and an overestimate by at most `√(1 + slope²)` otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeightSlab<B, T> {
    /// The lower face `z = bottom(x, y)`.
    pub bottom: B,
    /// The upper face `z = top(x, y)`.
    pub top: T,
}

impl<B: PlanarField, T: PlanarField> ScalarField for HeightSlab<B, T> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        (self.bottom.eval_xy(p.x, p.y) - p.z).max(p.z - self.top.eval_xy(p.x, p.y))
    }
}

/// A 2D footprint extruded between two height maps: solid where the footprint's field is
/// negative and `bottom(x, y) < z < top(x, y)`. This is the cage body whose top and bottom
/// follow the endplates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extrusion<P, B, T> {
    /// The footprint, a 2D signed distance in the xy plane.
    pub profile: P,
    /// The faces.
    pub faces: HeightSlab<B, T>,
}

impl<P: PlanarField, B: PlanarField, T: PlanarField> Extrusion<P, B, T> {
    /// The footprint `profile` between `z = bottom(x, y)` and `z = top(x, y)`.
    pub fn new(profile: P, bottom: B, top: T) -> Self {
        Extrusion {
            profile,
            faces: HeightSlab { bottom, top },
        }
    }
}

impl<P: PlanarField, B: PlanarField, T: PlanarField> ScalarField for Extrusion<P, B, T> {
    #[inline]
    fn eval(&self, p: &Point3<f64>) -> f64 {
        self.profile.eval_xy(p.x, p.y).max(self.faces.eval(p))
    }
}

/// A disc in the xy plane: exact 2D signed distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Circle {
    /// Centre, mm.
    pub center: [f64; 2],
    /// Radius, mm.
    pub radius: f64,
}

impl PlanarField for Circle {
    #[inline]
    fn eval_xy(&self, x: f64, y: f64) -> f64 {
        (x - self.center[0]).hypot(y - self.center[1]) - self.radius
    }
}

/// An axis-aligned rectangle with corners rounded to `radius`: exact 2D signed distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundedRect {
    /// Centre, mm.
    pub center: [f64; 2],
    /// Half the side lengths, mm.
    pub half: [f64; 2],
    /// Corner radius, mm.
    pub radius: f64,
}

impl RoundedRect {
    /// A rectangle of half-sides `half` about `center`, corners rounded to `radius` (clamped to
    /// the smaller half-side).
    pub fn new(center: [f64; 2], half: [f64; 2], radius: f64) -> RoundedRect {
        RoundedRect {
            center,
            half,
            radius: radius.clamp(0.0, half[0].min(half[1])),
        }
    }
}

impl PlanarField for RoundedRect {
    #[inline]
    fn eval_xy(&self, x: f64, y: f64) -> f64 {
        let r = self.radius;
        let qx = (x - self.center[0]).abs() - self.half[0] + r;
        let qy = (y - self.center[1]).abs() - self.half[1] + r;
        qx.max(0.0).hypot(qy.max(0.0)) + qx.max(qy).min(0.0) - r
    }
}

/// A simple polygon (either winding): exact 2D signed distance, negative inside.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    vertices: Vec<[f64; 2]>,
}

impl Polygon {
    /// The polygon through `vertices` (closed implicitly); `None` for fewer than three.
    pub fn new(vertices: Vec<[f64; 2]>) -> Option<Polygon> {
        (vertices.len() >= 3).then_some(Polygon { vertices })
    }

    /// The vertices.
    pub fn vertices(&self) -> &[[f64; 2]] {
        &self.vertices
    }
}

impl PlanarField for Polygon {
    fn eval_xy(&self, x: f64, y: f64) -> f64 {
        // Distance to the nearest edge; the sign from the crossing parity (Inigo Quilez's
        // polygon SDF).
        let v = &self.vertices;
        let mut d2 = f64::INFINITY;
        let mut inside = false;
        let mut j = v.len() - 1;
        for i in 0..v.len() {
            let (a, b) = (v[j], v[i]);
            let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
            let (wx, wy) = (x - a[0], y - a[1]);
            let len2 = ex * ex + ey * ey;
            let t = if len2 > 0.0 {
                ((wx * ex + wy * ey) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (dx, dy) = (wx - ex * t, wy - ey * t);
            d2 = d2.min(dx * dx + dy * dy);
            if (a[1] > y) != (b[1] > y) && x < a[0] + (y - a[1]) * ex / ey {
                inside = !inside;
            }
            j = i;
        }
        if inside { -d2.sqrt() } else { d2.sqrt() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn primitives_measure_exact_distances() {
        let s = Sphere::new(Point3::new(1.0, 0.0, 0.0), 2.0);
        assert!(near(s.eval(&Point3::new(4.0, 0.0, 0.0)), 1.0));
        assert!(near(s.eval(&Point3::new(1.0, 0.0, 0.0)), -2.0));
        let b = RoundedBox::from_corners([0.0; 3], [2.0, 4.0, 6.0], 0.0);
        assert!(near(b.eval(&Point3::new(1.0, 2.0, 3.0)), -1.0));
        assert!(near(b.eval(&Point3::new(5.0, 2.0, 3.0)), 3.0));
        assert!(near(b.eval(&Point3::new(5.0, 8.0, 3.0)), 5.0));
        let rb = RoundedBox::from_corners([0.0; 3], [2.0; 3], 0.5);
        // The corner is cut back by r(√3 − 1) along the diagonal.
        let c = rb.eval(&Point3::new(2.0, 2.0, 2.0));
        assert!(near(c, 0.5 * 3f64.sqrt() - 0.5), "{c}");
        let cyl = Cylinder::new(Point3::origin(), Point3::new(0.0, 0.0, 10.0), 1.0);
        assert!(near(cyl.eval(&Point3::new(3.0, 0.0, 5.0)), 2.0));
        assert!(near(cyl.eval(&Point3::new(0.0, 0.0, 12.0)), 2.0));
        assert!(near(cyl.eval(&Point3::new(0.0, 0.0, 5.0)), -1.0));
        assert!(near(cyl.eval(&Point3::new(4.0, 0.0, 14.0)), 5.0));
        let h = HalfSpace::new(Point3::new(0.0, 0.0, 1.0), Vector3::new(0.0, 0.0, 2.0));
        assert!(near(h.eval(&Point3::new(7.0, 3.0, -1.0)), -2.0));
    }

    #[test]
    fn planar_shapes_measure_exact_distances() {
        let c = Circle {
            center: [1.0, 1.0],
            radius: 1.0,
        };
        assert!(near(c.eval_xy(4.0, 1.0), 2.0));
        let r = RoundedRect::new([0.0, 0.0], [2.0, 1.0], 0.5);
        assert!(near(r.eval_xy(0.0, 0.0), -1.0));
        assert!(near(r.eval_xy(3.0, 0.0), 1.0));
        let square = Polygon::new(vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]]).unwrap();
        assert!(near(square.eval_xy(1.0, 0.5), -0.5));
        assert!(near(square.eval_xy(3.0, 3.0), 2f64.sqrt()));
        let reversed = Polygon::new(vec![[0.0, 2.0], [2.0, 2.0], [2.0, 0.0], [0.0, 0.0]]).unwrap();
        assert!(near(reversed.eval_xy(1.0, 0.5), -0.5));
        assert!(Polygon::new(vec![[0.0, 0.0], [1.0, 0.0]]).is_none());
    }

    #[test]
    fn extrusion_follows_its_height_maps() {
        let e = Extrusion::new(
            Circle {
                center: [0.0, 0.0],
                radius: 5.0,
            },
            |x: f64, _: f64| 0.1 * x,
            Flat(10.0),
        );
        assert!(e.eval(&Point3::new(4.0, 0.0, 0.3)) > 0.0);
        assert!(e.eval(&Point3::new(4.0, 0.0, 0.5)) < 0.0);
        assert!(e.eval(&Point3::new(0.0, 0.0, 10.5)) > 0.0);
        assert!(e.eval(&Point3::new(6.0, 0.0, 5.0)) > 0.0);
        assert!(near(e.eval(&Point3::new(0.0, 0.0, 5.0)), -5.0));
    }
}
