//! Finding a planar vertical face of a mesh that a marking fits on.
//!
//! Triangles whose normal is within [`FaceOptions::max_abs_nz`] of horizontal are grouped by
//! plane: same outward direction within [`FaceOptions::angle_tol_deg`], same offset within
//! [`FaceOptions::plane_tol_mm`]. A face fits when a rectangle of the marking's size plus
//! [`FaceOptions::margin_mm`] on every side is covered by its triangles (to
//! [`FaceOptions::min_coverage`]): a hole, window or edge under the text rules a position
//! out. Positions are tried from the face's centre outwards on a grid of
//! [`FaceOptions::step_mm`]. Faces facing [`FaceOptions::preferred_normal`] are tried first
//! (or alone, with [`FaceOptions::only_preferred`]), then by area, largest first. The search is deterministic: triangles are visited in index
//! order and ties broken by first appearance.

use std::collections::HashMap;

use meltline_core::mesh::Mesh;
use thiserror::Error;

use super::FacePlane;

/// How the face search groups triangles and places the text.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceOptions {
    /// A triangle is vertical when its unit normal's |z| is below this.
    pub max_abs_nz: f64,
    /// Triangles of one face differ in outward direction by less than this, degrees.
    pub angle_tol_deg: f64,
    /// Triangles of one face lie within this of its plane, mm.
    pub plane_tol_mm: f64,
    /// Clear face left around the text on every side, mm.
    pub margin_mm: f64,
    /// The fraction of the text's rectangle (with margins) the face must cover.
    pub min_coverage: f64,
    /// The grid on which text positions are tried, mm.
    pub step_mm: f64,
    /// The outward direction (x, y) to try first (a cage's insertion face: minus the
    /// insertion direction); `None` tries faces by area.
    pub preferred_normal: Option<[f64; 2]>,
    /// A face counts as facing the preferred direction when the cosine of the angle between
    /// them is at least this.
    pub preferred_cos: f64,
    /// Try only the faces facing [`FaceOptions::preferred_normal`] (a cage marked on its
    /// insertion face or nowhere); otherwise the other faces follow them.
    pub only_preferred: bool,
    /// At most this many positions are tried per face.
    pub max_positions: usize,
}

impl FaceOptions {
    /// The defaults: |n_z| < 0.05, 1°, 0.02 mm, 0.5 mm margins, 99.9 % coverage, a 0.25 mm
    /// grid, no preferred direction (within 25° when one is given), 4096 positions.
    pub fn new() -> FaceOptions {
        FaceOptions {
            max_abs_nz: 0.05,
            angle_tol_deg: 1.0,
            plane_tol_mm: 0.02,
            margin_mm: 0.5,
            min_coverage: 0.999,
            step_mm: 0.25,
            preferred_normal: None,
            preferred_cos: 25f64.to_radians().cos(),
            only_preferred: false,
            max_positions: 4096,
        }
    }

    /// These options trying faces facing `normal` (x, y) first.
    pub fn preferring(mut self, normal: [f64; 2]) -> FaceOptions {
        self.preferred_normal = Some(normal);
        self
    }

    /// These options trying only faces facing `normal` (x, y).
    pub fn only_facing(mut self, normal: [f64; 2]) -> FaceOptions {
        self.preferred_normal = Some(normal);
        self.only_preferred = true;
        self
    }
}

impl Default for FaceOptions {
    fn default() -> Self {
        FaceOptions::new()
    }
}

/// Where a marking fits: the face, the height of the text's centre and the face's size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceSite {
    /// The face plane, its origin where the text's horizontal centre goes.
    pub face: FacePlane,
    /// The height of the text's vertical centre, mm.
    pub z_centre_mm: f64,
    /// The face's extent along itself and in z (its bounding rectangle), mm.
    pub face_mm: (f64, f64),
}

/// No vertical face of the part has room for the marking: what was needed, and the best
/// face there was.
#[derive(Debug, Error, Clone, Copy, PartialEq)]
#[error(
    "no planar vertical face has room for the marking: it needs {:.2} × {:.2} mm (margins \
     included), the best face offers {:.2} × {:.2} mm{}",
    needed_mm.0, needed_mm.1, best_mm.0, best_mm.1,
    if best_mm.0 >= needed_mm.0 && best_mm.1 >= needed_mm.1 {
        " but holes or edges interrupt it everywhere the text could go"
    } else { "" }
)]
pub struct NoFace {
    /// The width along the face and the height needed, margins included, mm.
    pub needed_mm: (f64, f64),
    /// The bounding width and height of the face that came closest, mm (zero if the mesh
    /// has no vertical face).
    pub best_mm: (f64, f64),
}

/// One plane's triangles.
struct Face {
    /// Triangle indices.
    tris: Vec<usize>,
    /// Area-weighted sum of the horizontal unit normals.
    normal_sum: [f64; 2],
    /// Area-weighted sum of the plane offsets `n · p`.
    offset_sum: f64,
    /// Total area, mm².
    area: f64,
    /// The first triangle's unit normal and offset: the face's key.
    key_normal: [f64; 2],
    /// The first triangle's offset.
    key_offset: f64,
}

/// Finds a face with room for a marking of `needed_mm` (width along the face, height; the
/// margins are added here), or says how close the best face came.
pub fn find_face(
    mesh: &Mesh,
    needed_mm: (f64, f64),
    options: &FaceOptions,
) -> Result<FaceSite, NoFace> {
    let m = options.margin_mm.max(0.0);
    let (w, h) = (needed_mm.0 + 2.0 * m, needed_mm.1 + 2.0 * m);
    let mut faces = group_faces(mesh, options);
    let preferred = |f: &Face| {
        let n = unit(f.normal_sum);
        options
            .preferred_normal
            .and_then(unit)
            .is_some_and(|p| n.is_some_and(|n| n[0] * p[0] + n[1] * p[1] >= options.preferred_cos))
    };
    // Stable: equal faces keep their order of first appearance.
    faces.sort_by(|a, b| {
        preferred(b)
            .cmp(&preferred(a))
            .then(b.area.total_cmp(&a.area))
    });
    let mut best = (0.0, 0.0);
    let mut best_score = -1.0;
    for face in &faces {
        if options.only_preferred && !preferred(face) {
            break;
        }
        let Some(plane) = FaceProjection::new(mesh, face) else {
            continue;
        };
        let extent = plane.extent();
        let score = (extent.0 / w).min(extent.1 / h);
        if score > best_score {
            best_score = score;
            best = extent;
        }
        if extent.0 < w || extent.1 < h || face.area < w * h * options.min_coverage {
            continue;
        }
        if let Some(site) = plane.place(w, h, options) {
            return Ok(site);
        }
    }
    Err(NoFace {
        needed_mm: (w, h),
        best_mm: best,
    })
}

/// The unit vector along `v`, `None` for a zero or non-finite one.
fn unit(v: [f64; 2]) -> Option<[f64; 2]> {
    let l = v[0].hypot(v[1]);
    (l.is_finite() && l > 0.0).then(|| [v[0] / l, v[1] / l])
}

/// Groups the vertical triangles of `mesh` by plane, in order of first appearance.
fn group_faces(mesh: &Mesh, options: &FaceOptions) -> Vec<Face> {
    let tol = options.angle_tol_deg.to_radians().max(1e-6);
    let bins = (std::f64::consts::TAU / tol).ceil() as i64;
    let dtol = options.plane_tol_mm.max(1e-9);
    let cos_tol = (1.5 * tol).cos();
    let mut faces: Vec<Face> = Vec::new();
    let mut index: HashMap<(i64, i64), usize> = HashMap::new();
    for t in 0..mesh.triangles.len() {
        let n = mesh.area_normal(t);
        let len = n.norm();
        if !(len.is_finite() && len > 0.0) || (n.z / len).abs() >= options.max_abs_nz {
            continue;
        }
        let Some(nxy) = unit([n.x, n.y]) else {
            continue;
        };
        let c = mesh.corners(t);
        let cx = (c[0].x + c[1].x + c[2].x) / 3.0;
        let cy = (c[0].y + c[1].y + c[2].y) / 3.0;
        let d = nxy[0] * cx + nxy[1] * cy;
        let ai = (nxy[1].atan2(nxy[0]) / tol).round() as i64;
        let di = (d / dtol).round() as i64;
        let near = (-1..=1)
            .flat_map(|da| (-1..=1).map(move |dd| ((ai + da).rem_euclid(bins), di + dd)))
            .filter_map(|k| index.get(&k).copied())
            .find(|&f| {
                let face = &faces[f];
                face.key_normal[0] * nxy[0] + face.key_normal[1] * nxy[1] >= cos_tol
                    && (face.key_offset - d).abs() <= 1.5 * dtol
            });
        let f = near.unwrap_or_else(|| {
            faces.push(Face {
                tris: Vec::new(),
                normal_sum: [0.0; 2],
                offset_sum: 0.0,
                area: 0.0,
                key_normal: nxy,
                key_offset: d,
            });
            faces.len() - 1
        });
        index.entry((ai.rem_euclid(bins), di)).or_insert(f);
        let a = 0.5 * len;
        let face = &mut faces[f];
        face.tris.push(t);
        face.normal_sum = [
            face.normal_sum[0] + a * nxy[0],
            face.normal_sum[1] + a * nxy[1],
        ];
        face.offset_sum += a * d;
        face.area += a;
    }
    faces
}

/// A face's triangles in its own coordinates `(u, v)`: `u` along the face (the direction
/// text runs in), `v = z`.
struct FaceProjection {
    /// The face plane through the point of `u = 0` nearest the origin.
    plane: FacePlane,
    /// The triangles in `(u, v)`.
    tris: Vec<[[f64; 2]; 3]>,
    /// `[u_min, v_min, u_max, v_max]`.
    bounds: [f64; 4],
}

impl FaceProjection {
    /// The projection of `face`, `None` if its normals cancel out.
    fn new(mesh: &Mesh, face: &Face) -> Option<FaceProjection> {
        let n = unit(face.normal_sum)?;
        let d = face.offset_sum / face.area;
        let plane = FacePlane::new([n[0] * d, n[1] * d], n)?;
        let dir = plane.direction;
        let mut bounds = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        let tris: Vec<[[f64; 2]; 3]> = face
            .tris
            .iter()
            .map(|&t| {
                mesh.corners(t).map(|p| {
                    let q = [dir[0] * p.x + dir[1] * p.y, p.z];
                    bounds = [
                        bounds[0].min(q[0]),
                        bounds[1].min(q[1]),
                        bounds[2].max(q[0]),
                        bounds[3].max(q[1]),
                    ];
                    q
                })
            })
            .collect();
        Some(FaceProjection {
            plane,
            tris,
            bounds,
        })
    }

    /// The bounding width and height, mm.
    fn extent(&self) -> (f64, f64) {
        (
            self.bounds[2] - self.bounds[0],
            self.bounds[3] - self.bounds[1],
        )
    }

    /// The position nearest the face's centre where a `w × h` rectangle is covered.
    fn place(&self, w: f64, h: f64, options: &FaceOptions) -> Option<FaceSite> {
        let [u0, v0, u1, v1] = self.bounds;
        let step = options.step_mm.max(1e-3);
        let (cu, cv) = (0.5 * (u0 + u1), 0.5 * (v0 + v1));
        // Offsets from the centre that keep the rectangle within the bounds.
        let nu = (((u1 - u0 - w) * 0.5) / step).floor().max(0.0) as i64;
        let nv = (((v1 - v0 - h) * 0.5) / step).floor().max(0.0) as i64;
        let mut offsets: Vec<(i64, i64)> = (-nu..=nu)
            .flat_map(|i| (-nv..=nv).map(move |j| (i, j)))
            .collect();
        offsets.sort_by_key(|&(i, j)| (i * i + j * j, i.abs(), i, j));
        offsets.truncate(options.max_positions);
        let need = options.min_coverage * w * h;
        offsets.into_iter().find_map(|(i, j)| {
            let (u, v) = (cu + i as f64 * step, cv + j as f64 * step);
            let rect = [u - 0.5 * w, v - 0.5 * h, u + 0.5 * w, v + 0.5 * h];
            let covered: f64 = self.tris.iter().map(|t| clipped_area(t, rect)).sum();
            (covered >= need).then(|| FaceSite {
                face: FacePlane {
                    origin: self.plane.at(u, 0.0),
                    ..self.plane
                },
                z_centre_mm: v,
                face_mm: self.extent(),
            })
        })
    }
}

/// The area of triangle `t` inside the rectangle `[u0, v0, u1, v1]` (Sutherland–Hodgman).
fn clipped_area(t: &[[f64; 2]; 3], rect: [f64; 4]) -> f64 {
    let [u0, v0, u1, v1] = rect;
    let lo = t
        .iter()
        .fold([f64::INFINITY; 2], |m, p| [m[0].min(p[0]), m[1].min(p[1])]);
    let hi = t.iter().fold([f64::NEG_INFINITY; 2], |m, p| {
        [m[0].max(p[0]), m[1].max(p[1])]
    });
    if hi[0] <= u0 || lo[0] >= u1 || hi[1] <= v0 || lo[1] >= v1 {
        return 0.0;
    }
    let mut poly: Vec<[f64; 2]> = t.to_vec();
    // Each edge of the rectangle as (axis, bound, keep the side below it).
    for (axis, bound, below) in [(0, u0, false), (0, u1, true), (1, v0, false), (1, v1, true)] {
        let inside = |p: &[f64; 2]| {
            if below {
                p[axis] <= bound
            } else {
                p[axis] >= bound
            }
        };
        let mut out = Vec::with_capacity(poly.len() + 2);
        for k in 0..poly.len() {
            let (p, q) = (poly[k], poly[(k + 1) % poly.len()]);
            if inside(&p) {
                out.push(p);
            }
            if inside(&p) != inside(&q) {
                let s = (bound - p[axis]) / (q[axis] - p[axis]);
                out.push([p[0] + s * (q[0] - p[0]), p[1] + s * (q[1] - p[1])]);
            }
        }
        poly = out;
        if poly.is_empty() {
            return 0.0;
        }
    }
    let n = poly.len();
    let a2: f64 = (0..n)
        .map(|k| {
            let (p, q) = (poly[k], poly[(k + 1) % n]);
            p[0] * q[1] - q[0] * p[1]
        })
        .sum();
    0.5 * a2.abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_triangle_clipped_by_a_rectangle_keeps_the_area_inside() {
        let t = [[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]];
        assert!((clipped_area(&t, [0.0, 0.0, 1.0, 1.0]) - 1.0).abs() < 1e-12);
        assert!((clipped_area(&t, [-5.0, -5.0, 5.0, 5.0]) - 2.0).abs() < 1e-12);
        assert_eq!(clipped_area(&t, [3.0, 3.0, 4.0, 4.0]), 0.0);
    }
}
