//! The cage solid as one implicit field: footprint extruded between the bottom and top faces,
//! a solid rim, a TPMS core overlapping the rim, graft windows, teeth and the inserter hole.
//!
//! Composition (negative = solid; `∪` = min, `∩` = max, `\` = max with the negation):
//!
//! ```text
//! body    = footprint(x, y) ∩ bottom(x, y) ≤ z ≤ top(x, y)
//! rim     = body \ inset(footprint, rim_width)
//! core    = body ∩ inset(footprint, rim_width − overlap) ∩ lattice \ windows
//! cage    = (rim ∪ core ∪ teeth) \ inserter_hole
//! ```
//!
//! The core reaches `overlap` into the rim, so lattice and rim never meet on a shared face.

use nalgebra::{Point2, Point3, Vector2};

use super::endplate::HeightGrid;
use super::footprint::{Footprint, rounded_box};
use super::lattice::Lattice;
use super::spec::{CageKind, CageSpec};
use crate::implicit::ScalarField;
use crate::implicit::tpms::LatticeError;
use crate::mesh::Aabb;

/// How far the lattice core reaches into the solid rim, as a fraction of the rim width.
const CORE_OVERLAP_FRACTION: f64 = 0.4;
/// How far teeth reach down into the body they stand on, mm (overlap, not a shared face).
const TOOTH_ROOT_MM: f64 = 0.3;

/// The top and bottom faces of the cage as heights over the local `xy` plane.
#[derive(Debug, Clone, PartialEq)]
pub enum Faces {
    /// Flat or domed faces from the spec: height, lordosis and dome.
    Planned {
        /// Height at the footprint centre, mm.
        height: f64,
        /// tan(lordosis): top slope along the AP axis.
        slope: f64,
        /// The AP axis (0 = x, 1 = y).
        ap_axis: usize,
        /// Dome rise at the centre, mm.
        dome: f64,
        /// Centre and half extents of the footprint bounding box (dome shape).
        centre: [f64; 2],
        /// Half extents of the footprint's bounding box.
        half: [f64; 2],
    },
    /// Faces that follow fitted endplates (already offset by the clearance).
    Fitted {
        /// The top face (follows the upper vertebra's inferior endplate).
        top: HeightGrid,
        /// The bottom face (follows the lower vertebra's superior endplate).
        bottom: HeightGrid,
    },
}

impl Faces {
    /// Flat / domed / lordotic faces from the spec, bottom centre on `z = 0`.
    pub fn planned(spec: &CageSpec, footprint: &Footprint) -> Faces {
        let b = footprint.bounds();
        Faces::Planned {
            height: spec.height_mm,
            slope: spec.lordosis_deg.to_radians().tan(),
            ap_axis: spec.kind.ap_axis(),
            dome: spec.dome_mm,
            centre: [0.5 * (b[0] + b[2]), 0.5 * (b[1] + b[3])],
            half: [0.5 * (b[2] - b[0]), 0.5 * (b[3] - b[1])],
        }
    }

    /// The bottom and top heights at `(x, y)`.
    pub fn heights(&self, x: f64, y: f64) -> (f64, f64) {
        match self {
            Faces::Planned {
                height,
                slope,
                ap_axis,
                dome,
                centre,
                half,
            } => {
                let u = [(x - centre[0]) / half[0], (y - centre[1]) / half[1]];
                // 0 at the centre, 1 at the middle of the bounding box's edges.
                let fall = dome * (u[0] * u[0] + u[1] * u[1]);
                let ap = [x, y][*ap_axis] - centre[*ap_axis];
                (fall, height + slope * ap - fall)
            }
            Faces::Fitted { top, bottom } => (bottom.height(x, y), top.height(x, y)),
        }
    }
}

/// A vertical graft window: a rounded rectangle in the frame of the centre line.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Window {
    centre: Point2<f64>,
    along: Vector2<f64>,
    half: [f64; 2],
    radius: f64,
}

impl Window {
    fn sdf(&self, x: f64, y: f64) -> f64 {
        let d = Vector2::new(x, y) - self.centre.coords;
        let u = d.dot(&self.along);
        let v = d.x * -self.along.y + d.y * self.along.x;
        rounded_box(u, v, self.half, self.radius)
    }
}

/// Serration ridges across the teeth axis, on the rim's top and bottom faces.
#[derive(Debug, Clone, PartialEq)]
struct Teeth {
    /// Ridge positions along the teeth axis.
    ridges: Vec<f64>,
    /// 0 = ridges across x (positions are x), 1 = across y.
    axis: usize,
    height: f64,
    sin_a: f64,
    cos_a: f64,
}

/// The inserter hole: a flat-bottomed cylinder along the insertion axis at mid-height.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hole {
    entry: Point2<f64>,
    direction: Vector2<f64>,
    z: f64,
    radius: f64,
    depth: f64,
}

/// Which part of the cage a point belongs to (for measurement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Outside the cage's envelope.
    Outside,
    /// In the solid rim.
    Rim,
    /// In the lattice region (solid or pore).
    Core,
    /// In a graft window.
    Window,
    /// In a tooth.
    Tooth,
}

/// The whole cage as an implicit field in the local frame (mm).
#[derive(Debug, Clone, PartialEq)]
pub struct CageField {
    /// The footprint.
    pub footprint: Footprint,
    /// The top and bottom faces.
    pub faces: Faces,
    /// The porous core.
    pub lattice: Lattice,
    rim_width: f64,
    core_inset: f64,
    windows: Vec<Window>,
    teeth: Option<Teeth>,
    hole: Option<Hole>,
    /// The field is evaluated at `p − (0, 0, z_shift)`: the whole cage moved up by `z_shift`.
    z_shift: f64,
}

impl CageField {
    /// The cage of a (validated) spec between the given faces; fails only when the lattice
    /// cannot be calibrated (porosity or cell size outside what a TPMS supports).
    pub fn new(
        spec: &CageSpec,
        footprint: Footprint,
        faces: Faces,
    ) -> Result<CageField, LatticeError> {
        let rim_width = spec.rim_width_mm;
        let core_inset = rim_width * (1.0 - CORE_OVERLAP_FRACTION);

        let core_half = 0.5 * (spec.length_mm - 2.0 * rim_width - spec.nose_length_mm);
        let core_shift = -0.5 * spec.nose_length_mm;
        let w = &spec.windows;
        let windows = (0..w.count)
            .map(|k| {
                let s = -1.0 + (2.0 * k as f64 + 1.0) / w.count as f64;
                let (c, t) = if let Footprint::Arc { .. } = footprint {
                    footprint.centre_line(s, core_half)
                } else {
                    (
                        Point2::new(core_shift + s * core_half, centre_y(&footprint)),
                        Vector2::x(),
                    )
                };
                Window {
                    centre: c,
                    along: t,
                    half: [0.5 * w.length_mm, 0.5 * w.width_mm],
                    radius: w.corner_radius_mm,
                }
            })
            .collect();

        let t = &spec.teeth;
        let teeth = (t.rows > 0).then(|| {
            let axis = match spec.kind {
                CageKind::Alif | CageKind::Acdf => 1,
                _ => 0,
            };
            let b = footprint.bounds();
            let mid = 0.5 * (b[axis] + b[axis + 2]);
            let a = t.flank_angle_deg.to_radians();
            Teeth {
                ridges: (0..t.rows)
                    .map(|k| mid + (k as f64 - 0.5 * (t.rows as f64 - 1.0)) * t.pitch_mm)
                    .collect(),
                axis,
                height: t.height_mm,
                sin_a: a.sin(),
                cos_a: a.cos(),
            }
        });

        let i = &spec.inserter;
        let hole = (i.diameter_mm > 0.0 && i.depth_mm > 0.0).then(|| {
            let ax = footprint.insertion_axis();
            let probe = ax.entry + ax.direction * 0.5 * rim_width;
            let (zb, zt) = faces.heights(probe.x, probe.y);
            Hole {
                entry: ax.entry,
                direction: ax.direction,
                z: 0.5 * (zb + zt),
                radius: 0.5 * i.diameter_mm,
                depth: i.depth_mm,
            }
        });

        Ok(CageField {
            lattice: Lattice::new(&spec.lattice)?,
            footprint,
            faces,
            rim_width,
            core_inset,
            windows,
            teeth,
            hole,
            z_shift: 0.0,
        })
    }

    /// The same cage moved by `dz` along z (the lattice moves with it).
    pub fn shifted(mut self, dz: f64) -> CageField {
        self.z_shift += dz;
        self
    }

    /// The point in the cage's own (unshifted) coordinates.
    fn own(&self, p: &Point3<f64>) -> Point3<f64> {
        Point3::new(p.x, p.y, p.z - self.z_shift)
    }

    /// The bottom and top face heights at `(x, y)` (in the shifted frame).
    pub fn face_heights(&self, x: f64, y: f64) -> (f64, f64) {
        let (b, t) = self.faces.heights(x, y);
        (b + self.z_shift, t + self.z_shift)
    }

    /// The cage of a spec with its planned (flat / domed / lordotic) faces.
    pub fn planned(spec: &CageSpec) -> Result<CageField, LatticeError> {
        let footprint = Footprint::from_spec(spec);
        let faces = Faces::planned(spec, &footprint);
        CageField::new(spec, footprint, faces)
    }

    /// A box containing the whole cage (teeth included), with a margin of `pad` mm.
    pub fn bounds(&self, pad: f64) -> Aabb {
        let b = self.footprint.bounds();
        let (mut zmin, mut zmax) = (f64::INFINITY, f64::NEG_INFINITY);
        let n = 64;
        for i in 0..=n {
            for j in 0..=n {
                let x = b[0] + (b[2] - b[0]) * i as f64 / n as f64;
                let y = b[1] + (b[3] - b[1]) * j as f64 / n as f64;
                if self.footprint.sdf(x, y) > 0.5 {
                    continue;
                }
                let (zb, zt) = self.faces.heights(x, y);
                zmin = zmin.min(zb);
                zmax = zmax.max(zt);
            }
        }
        let tooth = self.teeth.as_ref().map_or(0.0, |t| t.height);
        Aabb {
            min: [b[0] - pad, b[1] - pad, zmin - tooth - pad],
            max: [b[2] + pad, b[3] + pad, zmax + tooth + pad],
        }
    }

    /// The envelope (footprint between the faces), without porosity, windows, teeth or hole.
    pub fn envelope(&self, p: &Point3<f64>) -> f64 {
        self.envelope_own(&self.own(p))
    }

    fn envelope_own(&self, p: &Point3<f64>) -> f64 {
        let (zb, zt) = self.faces.heights(p.x, p.y);
        self.footprint.sdf(p.x, p.y).max(zb - p.z).max(p.z - zt)
    }

    /// The lattice region: the envelope inset laterally to the core (solid and pores alike),
    /// windows excluded.
    pub fn core_region(&self, p: &Point3<f64>) -> f64 {
        let p = &self.own(p);
        let inner = self.footprint.sdf(p.x, p.y) + self.core_inset;
        let mut f = self.envelope_own(p).max(inner);
        for w in &self.windows {
            f = f.max(-w.sdf(p.x, p.y));
        }
        f
    }

    /// Which part of the cage `p` lies in (rim wins over core where they overlap).
    pub fn part(&self, p: &Point3<f64>) -> Part {
        let p = &self.own(p);
        let outside = self.envelope_own(p) >= 0.0;
        if outside && self.teeth_own(p) < 0.0 {
            return Part::Tooth;
        }
        if outside {
            return Part::Outside;
        }
        if self.footprint.sdf(p.x, p.y) > -self.rim_width {
            return Part::Rim;
        }
        if self.windows.iter().any(|w| w.sdf(p.x, p.y) < 0.0) {
            return Part::Window;
        }
        Part::Core
    }

    /// The teeth on both faces (positive everywhere when there are none).
    pub fn teeth_field(&self, p: &Point3<f64>) -> f64 {
        self.teeth_own(&self.own(p))
    }

    fn teeth_own(&self, p: &Point3<f64>) -> f64 {
        let Some(t) = &self.teeth else {
            return f64::INFINITY;
        };
        let fp = self.footprint.sdf(p.x, p.y);
        let ring = fp.max(-fp - self.rim_width);
        if ring > t.height {
            return ring;
        }
        let u = [p.x, p.y][t.axis];
        let d = t
            .ridges
            .iter()
            .map(|r| (u - r).abs())
            .fold(f64::INFINITY, f64::min);
        let (zb, zt) = self.faces.heights(p.x, p.y);
        let top = ((p.z - zt - t.height) * t.cos_a + d * t.sin_a).max(zt - TOOTH_ROOT_MM - p.z);
        let bottom = ((zb - t.height - p.z) * t.cos_a + d * t.sin_a).max(p.z - zb - TOOTH_ROOT_MM);
        top.min(bottom).max(ring)
    }

    fn hole_field(&self, p: &Point3<f64>) -> f64 {
        let Some(h) = &self.hole else {
            return f64::INFINITY;
        };
        let d = Vector2::new(p.x, p.y) - h.entry.coords;
        let a = d.dot(&h.direction);
        let lateral = d.x * -h.direction.y + d.y * h.direction.x;
        let r = (lateral * lateral + (p.z - h.z).powi(2)).sqrt();
        (r - h.radius).max(a - h.depth).max(-a - 1.0)
    }
}

/// The y of the straight kinds' centre line (middle of the footprint's bounding box).
fn centre_y(fp: &Footprint) -> f64 {
    let b = fp.bounds();
    0.5 * (b[1] + b[3])
}

impl ScalarField for CageField {
    fn eval(&self, p: &Point3<f64>) -> f64 {
        let p = &self.own(p);
        let (zb, zt) = self.faces.heights(p.x, p.y);
        let fp = self.footprint.sdf(p.x, p.y);
        let body = fp.max(zb - p.z).max(p.z - zt);
        let rim = body.max(-fp - self.rim_width);
        let mut core = body.max(fp + self.core_inset);
        if core < 0.5 * self.lattice.cell_size {
            core = core.max(self.lattice.eval(p));
            for w in &self.windows {
                core = core.max(-w.sdf(p.x, p.y));
            }
        }
        let solid = rim.min(core).min(self.teeth_own(p));
        solid.max(-self.hole_field(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: &str) -> CageSpec {
        let text = std::fs::read_to_string(format!(
            "{}/../examples/{kind}.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        CageSpec::from_toml_str(&text, kind).unwrap()
    }

    #[test]
    fn planned_faces_have_spec_height_at_centre_and_lordosis_slope() {
        let s = spec("plif");
        let f = CageField::planned(&s).unwrap();
        let b = f.footprint.bounds();
        let c = [0.5 * (b[0] + b[2]), 0.5 * (b[1] + b[3])];
        let (zb, zt) = f.faces.heights(c[0], c[1]);
        assert!((zt - zb - s.height_mm).abs() < 1e-9);
        let (_, front) = f.faces.heights(c[0] + 5.0, c[1]);
        let (_, back) = f.faces.heights(c[0] - 5.0, c[1]);
        let angle = ((front - back) / 10.0).atan().to_degrees();
        assert!(
            (angle - s.lordosis_deg).abs() < 1e-6,
            "PLIF lordosis runs along x: {angle}"
        );
    }

    #[test]
    fn rim_is_solid_and_windows_are_empty_through_the_height() {
        let s = spec("tlif");
        let f = CageField::planned(&s).unwrap();
        let w = f.windows[0];
        for k in 1..10 {
            let z = s.height_mm * k as f64 / 10.0;
            let p = Point3::new(w.centre.x, w.centre.y, z);
            assert!(f.eval(&p) > 0.0, "window open at z = {z}");
            assert_eq!(f.part(&p), Part::Window);
        }
        // A point half a rim width inside the outline, away from teeth, hole and windows.
        let (c, t) = f.footprint.centre_line(0.0, 1.0);
        let normal = Vector2::new(-t.y, t.x);
        let q = c + normal * (0.5 * s.width_mm - 0.5 * s.rim_width_mm);
        let p = Point3::new(q.x, q.y, 0.5 * s.height_mm);
        assert!(f.eval(&p) < 0.0);
        assert_eq!(f.part(&p), Part::Rim);
    }

    #[test]
    fn teeth_stand_on_the_rim_at_their_height_only() {
        let s = spec("plif");
        let f = CageField::planned(&s).unwrap();
        let t = f.teeth.as_ref().unwrap();
        let x = t.ridges[t.ridges.len() / 2];
        let y = 0.5 * s.width_mm - 0.5 * s.rim_width_mm;
        let (_, zt) = f.faces.heights(x, y);
        assert!(f.eval(&Point3::new(x, y, zt + 0.9 * s.teeth.height_mm)) < 0.0);
        assert!(f.eval(&Point3::new(x, y, zt + 1.1 * s.teeth.height_mm)) > 0.0);
        // No teeth over the core.
        assert!(f.eval(&Point3::new(x, 0.0, zt + 0.2 * s.teeth.height_mm)) > 0.0);
        // Between two ridges the face is bare.
        let xm = 0.5 * (t.ridges[0] + t.ridges[1]);
        assert!(f.eval(&Point3::new(xm, y, zt + 0.2 * s.teeth.height_mm)) > 0.0);
    }

    #[test]
    fn inserter_hole_is_open_to_its_depth() {
        let s = spec("olif");
        let f = CageField::planned(&s).unwrap();
        let h = f.hole.unwrap();
        let at = |a: f64| {
            let q = h.entry + h.direction * a;
            f.eval(&Point3::new(q.x, q.y, h.z))
        };
        assert!(at(0.5) > 0.0 && at(0.9 * s.inserter.depth_mm) > 0.0);
        // Past the bottom of the hole we are in the rim or the lattice; sample the rim side.
        let q = h.entry + h.direction * (0.5 * s.rim_width_mm);
        let beside = Point3::new(q.x, q.y + 1.2 * h.radius, h.z);
        assert!(f.eval(&beside) < 0.0);
    }
}
