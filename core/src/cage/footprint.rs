//! 2D footprints of the cage kinds as signed-distance functions in the local `xy` plane (mm).
//!
//! Negative inside. The fields are exact Euclidean distances for rounded rectangles and the TLIF
//! arc band, and a first-order (near-surface exact) distance for the ellipse parts of the bullet
//! nose and the D shape; the cage only needs the zero set and a Lipschitz-1-like field near it.

use nalgebra::{Point2, Vector2};

use super::spec::{CageKind, CageSpec};

/// A cage footprint in the local frame, centred on the origin.
#[derive(Debug, Clone, PartialEq)]
pub enum Footprint {
    /// TLIF banana: a band of half-width `half_width` around a circular arc of radius `radius`
    /// centred at `(0, centre_y)`, spanning `±half_angle` from `+y`, with round ends.
    Arc {
        /// Radius of the centre line.
        radius: f64,
        /// y of the circle centre.
        centre_y: f64,
        /// Half the opening angle of the arc, radians.
        half_angle: f64,
        /// Half the band width.
        half_width: f64,
    },
    /// PLIF / OLIF: rectangle from `x = -half_length` to `nose_start` with rounded back corners,
    /// then a half-ellipse nose reaching `x = half_length`.
    Bullet {
        /// Half the overall length.
        half_length: f64,
        /// Half the width.
        half_width: f64,
        /// x where the nose begins.
        nose_start: f64,
        /// Radius of the two back corners.
        corner_radius: f64,
    },
    /// ALIF: straight posterior side at `y = -half_depth`, half-ellipse anterior side, rounded
    /// corners.
    DShape {
        /// Half the lateral width.
        half_width: f64,
        /// Half the AP depth.
        half_depth: f64,
        /// Corner radius.
        corner_radius: f64,
    },
    /// ACDF: rounded rectangle.
    RoundedRect {
        /// Half extents along x and y.
        half: [f64; 2],
        /// Corner radius.
        corner_radius: f64,
    },
}

/// The inserter axis: where the hole enters and which way it goes (unit vector, into the cage).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InsertionAxis {
    /// Point of the insertion face on the axis.
    pub entry: Point2<f64>,
    /// Unit direction into the cage.
    pub direction: Vector2<f64>,
}

impl Footprint {
    /// The footprint of a spec (assumed validated).
    pub fn from_spec(spec: &CageSpec) -> Footprint {
        let (l, w) = (spec.length_mm, spec.width_mm);
        match spec.kind {
            CageKind::Tlif => {
                let radius = spec.curvature_radius_mm;
                let half_width = 0.5 * w;
                let half_angle = ((l - w) / (2.0 * radius)).clamp(0.0, 1.0).asin();
                // Centre the band in y: it spans R·cosφ - w/2 (ends) to R + w/2 (apex).
                let lo = radius * half_angle.cos() - half_width;
                let hi = radius + half_width;
                Footprint::Arc {
                    radius,
                    centre_y: -0.5 * (lo + hi),
                    half_angle,
                    half_width,
                }
            }
            CageKind::Plif | CageKind::Olif => Footprint::Bullet {
                half_length: 0.5 * l,
                half_width: 0.5 * w,
                nose_start: 0.5 * l - spec.nose_length_mm,
                corner_radius: spec.corner_radius_mm,
            },
            CageKind::Alif => Footprint::DShape {
                half_width: 0.5 * l,
                half_depth: 0.5 * w,
                corner_radius: spec.corner_radius_mm,
            },
            CageKind::Acdf => Footprint::RoundedRect {
                half: [0.5 * l, 0.5 * w],
                corner_radius: spec.corner_radius_mm,
            },
        }
    }

    /// Signed distance (mm) from `(x, y)` to the footprint outline; negative inside.
    pub fn sdf(&self, x: f64, y: f64) -> f64 {
        match *self {
            Footprint::Arc {
                radius,
                centre_y,
                half_angle,
                half_width,
            } => arc_distance(x, y - centre_y, radius, half_angle) - half_width,
            Footprint::Bullet {
                half_length,
                half_width,
                nose_start,
                corner_radius,
            } => {
                let body =
                    box_with_back_radius(x, y, -half_length, nose_start, half_width, corner_radius);
                let nose = ellipse(x - nose_start, y, half_length - nose_start, half_width);
                body.min(nose)
            }
            Footprint::DShape {
                half_width,
                half_depth,
                corner_radius,
            } => {
                // Round the convex corners by offsetting the footprint shrunk by the radius.
                let r = corner_radius;
                let e = ellipse(
                    x,
                    y + half_depth - r,
                    half_width - r,
                    2.0 * (half_depth - r),
                );
                let back = -(y + half_depth - r);
                round_intersection(e, back) - r
            }
            Footprint::RoundedRect {
                half,
                corner_radius,
            } => rounded_box(x, y, half, corner_radius),
        }
    }

    /// The point of the footprint's centre line at arc-length parameter `s ∈ [-1, 1]` of its
    /// usable core (from the insertion end to the far end), with the unit tangent there.
    pub fn centre_line(&self, s: f64, core_half_length: f64) -> (Point2<f64>, Vector2<f64>) {
        match *self {
            Footprint::Arc {
                radius, centre_y, ..
            } => {
                let a = s * core_half_length / radius;
                (
                    Point2::new(radius * a.sin(), centre_y + radius * a.cos()),
                    Vector2::new(a.cos(), -a.sin()),
                )
            }
            _ => (
                Point2::new(s * core_half_length, 0.0),
                Vector2::new(1.0, 0.0),
            ),
        }
    }

    /// Where the inserter hole enters and in which direction.
    pub fn insertion_axis(&self) -> InsertionAxis {
        match *self {
            Footprint::Arc {
                radius,
                centre_y,
                half_angle,
                half_width,
            } => {
                let a = -half_angle;
                let end = Point2::new(radius * a.sin(), centre_y + radius * a.cos());
                let tangent = Vector2::new(a.cos(), -a.sin());
                InsertionAxis {
                    entry: end - tangent * half_width,
                    direction: tangent,
                }
            }
            Footprint::Bullet { half_length, .. } => InsertionAxis {
                entry: Point2::new(-half_length, 0.0),
                direction: Vector2::new(1.0, 0.0),
            },
            Footprint::DShape { half_depth, .. } => InsertionAxis {
                entry: Point2::new(0.0, half_depth),
                direction: Vector2::new(0.0, -1.0),
            },
            Footprint::RoundedRect { half, .. } => InsertionAxis {
                entry: Point2::new(0.0, half[1]),
                direction: Vector2::new(0.0, -1.0),
            },
        }
    }

    /// The bounding rectangle `[xmin, ymin, xmax, ymax]` of the footprint.
    pub fn bounds(&self) -> [f64; 4] {
        match *self {
            Footprint::Arc {
                radius,
                centre_y,
                half_angle,
                half_width,
            } => {
                let hx = radius * half_angle.sin() + half_width;
                let lo = centre_y + radius * half_angle.cos() - half_width;
                let hi = centre_y + radius + half_width;
                [-hx, lo, hx, hi]
            }
            Footprint::Bullet {
                half_length,
                half_width,
                ..
            } => [-half_length, -half_width, half_length, half_width],
            Footprint::DShape {
                half_width,
                half_depth,
                ..
            } => [-half_width, -half_depth, half_width, half_depth],
            Footprint::RoundedRect { half, .. } => [-half[0], -half[1], half[0], half[1]],
        }
    }
}

/// Distance from `(x, y)` to the arc of radius `r` about the origin spanning `±half_angle` from
/// the `+y` axis.
fn arc_distance(x: f64, y: f64, r: f64, half_angle: f64) -> f64 {
    let theta = x.atan2(y);
    if theta.abs() <= half_angle {
        ((x * x + y * y).sqrt() - r).abs()
    } else {
        let ex = r * half_angle.sin() * theta.signum();
        let ey = r * half_angle.cos();
        ((x - ex).powi(2) + (y - ey).powi(2)).sqrt()
    }
}

/// Exact SDF of an axis-aligned rounded rectangle centred on the origin.
pub fn rounded_box(x: f64, y: f64, half: [f64; 2], r: f64) -> f64 {
    let qx = x.abs() - half[0] + r;
    let qy = y.abs() - half[1] + r;
    let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
    outside + qx.max(qy).min(0.0) - r
}

/// SDF of the box `[x0, x1] × [-hw, hw]` whose two corners at `x0` are rounded by `r`.
fn box_with_back_radius(x: f64, y: f64, x0: f64, x1: f64, hw: f64, r: f64) -> f64 {
    let cx = 0.5 * (x0 + x1);
    let hx = 0.5 * (x1 - x0);
    let r = if x < cx { r } else { 0.0 };
    rounded_box(x - cx, y, [hx, hw], r)
}

/// Near-surface distance to the ellipse with semi-axes `a` (x) and `b` (y): the algebraic field
/// divided by its gradient norm, exact on the outline and Lipschitz-bounded near it.
pub fn ellipse(x: f64, y: f64, a: f64, b: f64) -> f64 {
    let k0 = ((x / a).powi(2) + (y / b).powi(2)).sqrt();
    let k1 = ((x / (a * a)).powi(2) + (y / (b * b)).powi(2)).sqrt();
    if k1 < 1e-12 {
        return -a.min(b);
    }
    k0 * (k0 - 1.0) / k1
}

/// Intersection of two SDFs with the exact outside distance at a right-angle corner, so a later
/// offset rounds that corner instead of keeping it sharp.
pub fn round_intersection(a: f64, b: f64) -> f64 {
    if a > 0.0 && b > 0.0 {
        (a * a + b * b).sqrt()
    } else {
        a.max(b)
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

    /// The extent of the zero set measured by scanning a fine grid.
    fn measured_extent(fp: &Footprint) -> [f64; 4] {
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        let h = 0.02;
        for i in -2000..2000 {
            for j in -2000..2000 {
                let (x, y) = (i as f64 * h, j as f64 * h);
                if x.abs() > 35.0 || y.abs() > 20.0 || fp.sdf(x, y) > 0.0 {
                    continue;
                }
                b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            }
        }
        b
    }

    #[test]
    fn every_footprint_spans_its_length_and_width() {
        for kind in ["tlif", "plif", "olif", "alif", "acdf"] {
            let s = spec(kind);
            let fp = Footprint::from_spec(&s);
            let m = measured_extent(&fp);
            assert!(
                (m[2] - m[0] - s.length_mm).abs() < 0.06,
                "{kind} length {m:?}"
            );
            if kind == "tlif" {
                // The banana's width is its band width, measured across the centre line.
                let (c, t) = fp.centre_line(0.3, 10.0);
                let n = Vector2::new(-t.y, t.x) * (0.5 * s.width_mm);
                assert!(fp.sdf((c + n).x, (c + n).y).abs() < 1e-9);
                assert!(fp.sdf((c - n).x, (c - n).y).abs() < 1e-9);
            } else {
                assert!(
                    (m[3] - m[1] - s.width_mm).abs() < 0.06,
                    "{kind} width {m:?}"
                );
            }
            let b = fp.bounds();
            for k in 0..4 {
                assert!((b[k] - m[k]).abs() < 0.06, "{kind} bounds {b:?} vs {m:?}");
            }
        }
    }

    #[test]
    fn footprint_fields_are_near_unit_slope_at_the_outline() {
        for kind in ["tlif", "plif", "olif", "alif", "acdf"] {
            let fp = Footprint::from_spec(&spec(kind));
            // Walk from the centre outwards along a few rays; the field must grow at ~1 mm/mm.
            for k in 0..16 {
                let a = k as f64 * std::f64::consts::PI / 8.0;
                let (dx, dy) = (a.cos(), a.sin());
                let mut t = 0.0;
                while fp.sdf(t * dx, t * dy + centre_y(&fp)) < 0.0 {
                    t += 0.01;
                }
                let y0 = centre_y(&fp);
                let g = (fp.sdf((t + 0.05) * dx, (t + 0.05) * dy + y0)
                    - fp.sdf((t - 0.05) * dx, (t - 0.05) * dy + y0))
                    / 0.1;
                assert!(g > 0.2 && g < 1.05, "{kind} slope {g} at ray {k}");
            }
        }
    }

    fn centre_y(fp: &Footprint) -> f64 {
        let b = fp.bounds();
        if let Footprint::Arc { .. } = fp {
            // The banana's middle is on its centre line, off the bbox centre.
            return fp.centre_line(0.0, 1.0).0.y;
        }
        0.5 * (b[1] + b[3])
    }

    #[test]
    fn insertion_entry_lies_on_the_outline() {
        for kind in ["tlif", "plif", "olif", "alif", "acdf"] {
            let fp = Footprint::from_spec(&spec(kind));
            let ax = fp.insertion_axis();
            assert!(fp.sdf(ax.entry.x, ax.entry.y).abs() < 1e-6, "{kind}");
            let inside = ax.entry + ax.direction * 0.5;
            assert!(fp.sdf(inside.x, inside.y) < 0.0, "{kind}");
        }
    }
}
