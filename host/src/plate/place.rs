//! Where each part stands on the plate: true footprints (the union of a part's sections, not
//! its bounding box), automatic packing and the checks manual placements pass.
//!
//! The rule, for the recoater (which travels along +x with its blade along y):
//! - each part is turned so the long axis of its footprint lies [`RECOATER_ANGLE_DEG`] off the
//!   recoater's travel: no long edge meets the blade all at once;
//! - parts are packed bottom-left — rows of increasing y, each row filled in increasing x — on
//!   a [`GRID_MM`] grid, trying the turn and the turn + 180° and taking the first place where
//!   the footprint lies inside the scan field and at least `spacing_mm` from every part placed;
//! - larger footprints go first (ties by serial), so the result depends only on the plate;
//! - on a machine with several lasers, the tallest parts go first (then the larger), each to
//!   the laser whose cell (its field cut at the middle of each overlap with a neighbour) has
//!   the least footprint area so far, placed as near the plate's centre as it is free: every
//!   height of the build is shared between the lasers, and the tallest parts stand in the
//!   overlaps, where the seams split the top layers; a part no cell holds goes in its laser's
//!   whole field, and one no field holds is packed on the whole plate (the laser plan splits
//!   it along a seam).

use meltline_core::mesh::Mesh;
use meltline_slicer::polygon::{
    Point, Shape, Shapes, area_mm2, bounds, intersection, offset, simplify_contour, to_mm,
    to_units, union,
};
use meltline_slicer::slice::{MeshSlicer, SliceOptions};

/// Parts stand at least this far inside the scan field, mm: room for the melt track's half
/// spot and for the few micrometres a sliced contour may stand outside its part's sampled
/// footprint (a part placed against the field's edge was refused by the controller at a layer
/// whose contour reached 14 µm past the spot's limit).
pub const FIELD_MARGIN_MM: f64 = 0.5;

/// The angle between a part's long axis and the recoater's travel, degrees.
pub const RECOATER_ANGLE_DEG: f64 = 15.0;
/// The step of candidate positions in automatic placement, mm.
pub const GRID_MM: f64 = 1.0;
/// Heights between the sections whose union is the footprint, mm.
const FOOTPRINT_STEP_MM: f64 = 0.25;
/// Footprint outlines are simplified to within this distance, mm (well under any spacing).
const FOOTPRINT_TOLERANCE_MM: f64 = 0.02;

/// A part's footprint about its reference point (the centre of its unrotated bounding box).
#[derive(Debug, Clone)]
pub struct Footprint {
    /// The outline (outer contours only: nothing is placed in a part's holes).
    pub shapes: Shapes,
    /// Its area, mm².
    pub area_mm2: f64,
    /// How tall the part stands, mm (what shares the top layers between the lasers).
    pub height_mm: f64,
}

/// A part's place on the plate.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Where the reference point stands, mm.
    pub at_mm: [f64; 2],
    /// Turn about z, degrees (counter-clockwise from above).
    pub rotation_deg: f64,
    /// The footprint as placed.
    pub shapes: Shapes,
}

impl Placement {
    /// The placed footprint's outer contours in mm.
    pub fn outline_mm(&self) -> Vec<Vec<[f64; 2]>> {
        self.shapes
            .iter()
            .filter_map(|s| s.first())
            .map(|c| c.iter().map(|p| [to_mm(p.x), to_mm(p.y)]).collect())
            .collect()
    }
}

/// Why parts cannot stand where they would.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlacementError {
    /// Automatic placement found no place for a part.
    #[error(
        "{id} does not fit: {placed} of {total} parts fit on the {field_mm:.0} mm field with {spacing_mm} mm between them"
    )]
    DoesNotFit {
        /// The first part without a place.
        id: String,
        /// How many did fit.
        placed: usize,
        /// How many there are.
        total: usize,
        /// The field's side, mm.
        field_mm: f64,
        /// The spacing asked for, mm.
        spacing_mm: f64,
    },
    /// Two manual placements are closer than the spacing (0 when they overlap).
    #[error("{a} and {b} are {distance_mm:.2} mm apart; the plate asks for {spacing_mm} mm")]
    TooClose {
        /// One part.
        a: String,
        /// The other.
        b: String,
        /// Their footprints' distance, mm.
        distance_mm: f64,
        /// The spacing asked for, mm.
        spacing_mm: f64,
    },
    /// A manual placement leaves the scan field.
    #[error("{id} leaves the scan field (±{half_mm:.1} mm) at x {x_mm:.2}, y {y_mm:.2} mm")]
    OutsideField {
        /// The part.
        id: String,
        /// The field's half side, mm.
        half_mm: f64,
        /// A point of the footprint outside, mm.
        x_mm: f64,
        /// A point of the footprint outside, mm.
        y_mm: f64,
    },
}

/// The footprint of a mesh standing on the plate (`z ≥ 0`), about `centre_mm`.
pub fn footprint(mesh: &Mesh, centre_mm: [f64; 2]) -> Footprint {
    let sections = MeshSlicer::new(mesh, SliceOptions::new(FOOTPRINT_STEP_MM))
        .map(|s| s.slice_all())
        .unwrap_or_default();
    let tol = FOOTPRINT_TOLERANCE_MM * to_units(1.0) as f64;
    let mut acc: Shapes = Vec::new();
    for s in sections {
        // Outer contours only: the union of the filled outlines.
        let outers: Shapes = s
            .shapes
            .iter()
            .filter_map(|sh| sh.first())
            .map(|c| vec![simplify_contour(c, tol)])
            .collect();
        acc = union(&acc, &outers);
    }
    let shift = Point::new(-to_units(centre_mm[0]), -to_units(centre_mm[1]));
    let shapes: Shapes = acc
        .iter()
        .filter_map(|sh| sh.first())
        .map(|c| {
            vec![
                c.iter()
                    .map(|p| Point::new(p.x + shift.x, p.y + shift.y))
                    .collect(),
            ]
        })
        .collect();
    let height_mm = mesh.vertices.iter().map(|v| v.z).fold(0.0, f64::max);
    Footprint {
        area_mm2: area_mm2(&shapes),
        shapes,
        height_mm,
    }
}

/// The footprint turned by `deg` about the reference point and moved to `at_mm`.
pub fn transformed(f: &Footprint, deg: f64, at_mm: [f64; 2]) -> Shapes {
    let (s, c) = deg.to_radians().sin_cos();
    let (dx, dy) = (
        at_mm[0] * to_units(1.0) as f64,
        at_mm[1] * to_units(1.0) as f64,
    );
    f.shapes
        .iter()
        .map(|sh| {
            sh.iter()
                .map(|ct| {
                    ct.iter()
                        .map(|p| {
                            let (x, y) = (f64::from(p.x), f64::from(p.y));
                            Point::new(
                                (c * x - s * y + dx).round() as i32,
                                (s * x + c * y + dy).round() as i32,
                            )
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// The angle (degrees) of the footprint's long axis from x, by its second moments.
pub fn long_axis_deg(f: &Footprint) -> f64 {
    let pts: Vec<(f64, f64)> = f
        .shapes
        .iter()
        .flatten()
        .flatten()
        .map(|p| (f64::from(p.x), f64::from(p.y)))
        .collect();
    let n = pts.len().max(1) as f64;
    let (mx, my) = pts
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (x, y) in &pts {
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
        sxy += (x - mx) * (y - my);
    }
    0.5 * (2.0 * sxy).atan2(sxx - syy).to_degrees()
}

/// The distance between two placed footprints, mm: 0 when they touch or overlap.
pub fn distance_mm(a: &[Shape], b: &[Shape]) -> f64 {
    if !intersection(a, b).is_empty() {
        return 0.0;
    }
    let segs = |s: &[Shape]| -> Vec<(Point, Point)> {
        s.iter()
            .flatten()
            .flat_map(|c| (0..c.len()).map(move |i| (c[i], c[(i + 1) % c.len()])))
            .collect()
    };
    let (sa, sb) = (segs(a), segs(b));
    let mut best = f64::INFINITY;
    for &(p, q) in &sa {
        for &(r, t) in &sb {
            best = best
                .min(point_segment(p, r, t))
                .min(point_segment(q, r, t))
                .min(point_segment(r, p, q))
                .min(point_segment(t, p, q));
        }
    }
    to_mm(1) * best
}

fn point_segment(p: Point, a: Point, b: Point) -> f64 {
    let (px, py) = (f64::from(p.x), f64::from(p.y));
    let (ax, ay) = (f64::from(a.x), f64::from(a.y));
    let (bx, by) = (f64::from(b.x), f64::from(b.y));
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((px - ax - t * dx).powi(2) + (py - ay - t * dy).powi(2)).sqrt()
}

/// The first point of `shapes` outside the square field of half side `half_mm`, mm.
pub fn outside_field(shapes: &[Shape], half_mm: f64) -> Option<[f64; 2]> {
    let h = to_units(half_mm);
    shapes
        .iter()
        .flatten()
        .flatten()
        .find(|p| p.x.abs() > h || p.y.abs() > h)
        .map(|p| [to_mm(p.x), to_mm(p.y)])
}

/// The footprint turned by `deg` about its reference point, with the same grown by the
/// spacing and both bounding boxes: what every candidate position of one turn shares.
struct Turned {
    deg: f64,
    shapes: Shapes,
    grown: Shapes,
    lo: Point,
    hi: Point,
}

fn shifted(shapes: &[Shape], d: Point) -> Shapes {
    shapes
        .iter()
        .map(|sh| {
            sh.iter()
                .map(|c| c.iter().map(|p| Point::new(p.x + d.x, p.y + d.y)).collect())
                .collect()
        })
        .collect()
}

/// Whether the turned footprint moved by `d` stands at least the spacing from every placed
/// footprint: bounding boxes first, then the footprint grown by the spacing against the other.
fn clear_at(t: &Turned, d: Point, placed: &[(Placement, Point, Point)], gap: i32) -> bool {
    let (lo, hi) = (
        Point::new(t.lo.x + d.x, t.lo.y + d.y),
        Point::new(t.hi.x + d.x, t.hi.y + d.y),
    );
    let grown = std::cell::OnceCell::new();
    placed.iter().all(|(p, plo, phi)| {
        let apart =
            lo.x - gap > phi.x || plo.x > hi.x + gap || lo.y - gap > phi.y || plo.y > hi.y + gap;
        apart || intersection(grown.get_or_init(|| shifted(&t.grown, d)), &p.shapes).is_empty()
    })
}

/// `f` at each of the turns `turns`, with its outline grown by `gap` (units).
impl Turned {
    /// Whether its bounding box moved by `d` lies inside the rectangle `zone` (units).
    fn inside(&self, d: Point, zone: [i32; 4]) -> bool {
        let [x0, y0, x1, y1] = zone;
        self.lo.x + d.x >= x0
            && self.hi.x + d.x <= x1
            && self.lo.y + d.y >= y0
            && self.hi.y + d.y <= y1
    }
}

fn turned(f: &Footprint, turns: [f64; 2], gap: i32) -> Vec<Turned> {
    turns
        .iter()
        .filter_map(|&deg| {
            let shapes = transformed(f, deg, [0.0, 0.0]);
            let (lo, hi) = bounds(&shapes)?;
            Some(Turned {
                deg,
                grown: offset(&shapes, gap),
                shapes,
                lo,
                hi,
            })
        })
        .collect()
}

/// Finds the first free place for `f` (bottom-left on the grid) among the turns `turns`,
/// inside the rectangle `zone` (`[x0, y0, x1, y1]`, mm).
fn first_free(
    turned: &[Turned],
    placed: &[(Placement, Point, Point)],
    zone: [f64; 4],
    gap: i32,
) -> Option<Placement> {
    let [x0, y0, x1, y1] = zone;
    let units = zone.map(to_units);
    let x_steps = ((x1 - x0) / GRID_MM).floor() as i64;
    let y_steps = ((y1 - y0) / GRID_MM).floor() as i64;
    for j in 0..=y_steps {
        let y = y0 + j as f64 * GRID_MM;
        for i in 0..=x_steps {
            let x = x0 + i as f64 * GRID_MM;
            let d = Point::new(to_units(x), to_units(y));
            for t in turned {
                if t.inside(d, units) && clear_at(t, d, placed, gap) {
                    return Some(Placement {
                        at_mm: [x, y],
                        rotation_deg: t.deg,
                        shapes: shifted(&t.shapes, d),
                    });
                }
            }
        }
    }
    None
}

/// Each laser's own part of the plate: its field (`[x0, y0, x1, y1]`, mm) cut at the middle of
/// its overlap with every field beside it (for a grid of fields, one cell of the grid each).
fn cells(zones: &[[f64; 4]]) -> Vec<[f64; 4]> {
    zones
        .iter()
        .enumerate()
        .map(|(i, z)| {
            let mut c = *z;
            let centre = |f: &[f64; 4]| [(f[0] + f[2]) / 2.0, (f[1] + f[3]) / 2.0];
            for (j, o) in zones.iter().enumerate() {
                let meets = o[0] < z[2] && z[0] < o[2] && o[1] < z[3] && z[1] < o[3];
                if j == i || !meets {
                    continue;
                }
                let (a, b) = (centre(z), centre(o));
                for axis in 0..2 {
                    if b[axis] > a[axis] {
                        c[axis + 2] = c[axis + 2].min((o[axis] + z[axis + 2]) / 2.0);
                    } else if b[axis] < a[axis] {
                        c[axis] = c[axis].max((z[axis] + o[axis + 2]) / 2.0);
                    }
                }
            }
            c
        })
        .collect()
}

/// The free place for `f` nearest `towards` (its bounding box's centre, ties by y then x)
/// among the turns `turns`, on the grid inside the rectangle `zone` (mm).
fn nearest_free(
    turned: &[Turned],
    placed: &[(Placement, Point, Point)],
    zone: [f64; 4],
    gap: i32,
    towards: [f64; 2],
) -> Option<Placement> {
    let [x0, y0, x1, y1] = zone;
    let units = zone.map(to_units);
    let x_steps = ((x1 - x0) / GRID_MM).floor() as i64;
    let y_steps = ((y1 - y0) / GRID_MM).floor() as i64;
    let mut candidates: Vec<(f64, i64, i64, usize)> = Vec::new();
    for j in 0..=y_steps {
        let y = y0 + j as f64 * GRID_MM;
        for i in 0..=x_steps {
            let x = x0 + i as f64 * GRID_MM;
            let d = Point::new(to_units(x), to_units(y));
            for (k, t) in turned.iter().enumerate() {
                if t.inside(d, units) {
                    let cx = x + to_mm((t.lo.x + t.hi.x) / 2) - towards[0];
                    let cy = y + to_mm((t.lo.y + t.hi.y) / 2) - towards[1];
                    candidates.push((cx.hypot(cy), j, i, k));
                }
            }
        }
    }
    candidates.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    candidates.into_iter().find_map(|(_, j, i, k)| {
        let (x, y) = (x0 + i as f64 * GRID_MM, y0 + j as f64 * GRID_MM);
        let d = Point::new(to_units(x), to_units(y));
        let t = &turned[k];
        clear_at(t, d, placed, gap).then(|| Placement {
            at_mm: [x, y],
            rotation_deg: t.deg,
            shapes: shifted(&t.shapes, d),
        })
    })
}

/// Packs the parts (`(serial, footprint)`) on a square field of half side `half_mm`, shared
/// between the laser fields `zones` (`[x0, y0, x1, y1]`, mm; none or one: the whole field);
/// returns the placements in the order of `parts`.
///
/// One field: larger footprints first, packed bottom-left. Several: the tallest parts first
/// (then the larger), each to the laser whose cell (its field cut at the middle of each
/// overlap) has the least footprint area so far, as near the plate's centre as it is free.
/// Taken tallest first, the least area so far is the least work in the part's top layer, so
/// every height of the build is shared; standing nearest the centre, the tallest parts lie in
/// the overlaps, where the moving seams split a layer's remainder between the lasers.
pub fn place_auto(
    parts: &[(String, Footprint)],
    half_mm: f64,
    spacing_mm: f64,
    zones: &[[f64; 4]],
) -> Result<Vec<Placement>, PlacementError> {
    let whole = [-half_mm, -half_mm, half_mm, half_mm];
    let clip = |z: &[f64; 4]| {
        [
            z[0].max(-half_mm),
            z[1].max(-half_mm),
            z[2].min(half_mm),
            z[3].min(half_mm),
        ]
    };
    let shared = zones.len() > 1;
    let fields: Vec<[f64; 4]> = if shared {
        zones.iter().map(clip).collect()
    } else {
        vec![whole]
    };
    let cells: Vec<[f64; 4]> = cells(&fields).iter().map(clip).collect();
    let gap = to_units(spacing_mm);
    let mut load = vec![0.0f64; fields.len()];
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (&parts[a].1, &parts[b].1);
        let taller = if shared {
            fb.height_mm.total_cmp(&fa.height_mm)
        } else {
            std::cmp::Ordering::Equal
        };
        taller
            .then(fb.area_mm2.total_cmp(&fa.area_mm2))
            .then_with(|| parts[a].0.cmp(&parts[b].0))
    });
    let mut placed: Vec<(Placement, Point, Point)> = Vec::new();
    let mut slot = vec![None; parts.len()];
    for &k in &order {
        let (id, f) = &parts[k];
        let turn = RECOATER_ANGLE_DEG - long_axis_deg(f);
        let turned = turned(f, [turn, turn + 180.0], gap);
        // The least loaded laser first (ties by index): its cell, then its whole field; then
        // the whole plate.
        let mut tries: Vec<usize> = (0..fields.len()).collect();
        tries.sort_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b)));
        let found = if shared {
            let near = |z: [f64; 4]| nearest_free(&turned, &placed, z, gap, [0.0, 0.0]);
            tries
                .iter()
                .find_map(|&z| near(cells[z]).map(|p| (Some(z), p)))
                .or_else(|| {
                    tries
                        .iter()
                        .find_map(|&z| near(fields[z]).map(|p| (Some(z), p)))
                })
                .or_else(|| first_free(&turned, &placed, whole, gap).map(|p| (None, p)))
        } else {
            first_free(&turned, &placed, whole, gap).map(|p| (Some(0), p))
        };
        let (zone, p) = found.ok_or_else(|| PlacementError::DoesNotFit {
            id: id.clone(),
            placed: placed.len(),
            total: parts.len(),
            field_mm: 2.0 * half_mm,
            spacing_mm,
        })?;
        if let Some(z) = zone {
            load[z] += f.area_mm2;
        }
        slot[k] = Some(placed.len());
        let (lo, hi) = bounds(&p.shapes).unwrap_or_default();
        placed.push((p, lo, hi));
    }
    Ok(slot
        .into_iter()
        .map(|s| placed[s.unwrap_or_default()].0.clone())
        .collect())
}

/// Checks manual placements (`(serial, footprint, at, rotation)`): each inside the field,
/// every two at least `spacing_mm` apart.
pub fn place_manual(
    parts: &[(String, Footprint, [f64; 2], f64)],
    half_mm: f64,
    spacing_mm: f64,
) -> Result<Vec<Placement>, PlacementError> {
    let mut placed: Vec<Placement> = Vec::new();
    for (id, f, at, deg) in parts {
        let shapes = transformed(f, *deg, *at);
        if let Some([x, y]) = outside_field(&shapes, half_mm) {
            return Err(PlacementError::OutsideField {
                id: id.clone(),
                half_mm,
                x_mm: x,
                y_mm: y,
            });
        }
        for (other, p) in parts.iter().zip(&placed) {
            let d = distance_mm(&shapes, &p.shapes);
            if d < spacing_mm - to_mm(1) {
                return Err(PlacementError::TooClose {
                    a: other.0.clone(),
                    b: id.clone(),
                    distance_mm: d,
                    spacing_mm,
                });
            }
        }
        placed.push(Placement {
            at_mm: *at,
            rotation_deg: *deg,
            shapes,
        });
    }
    Ok(placed)
}
