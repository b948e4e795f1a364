//! Serial marking: text engraved as grooves into a vertical face, cut from each layer's
//! section before contours and hatches are made, so the scan paths follow the groove.
//!
//! The text is laid out with the single-stroke [`font`] on a vertical [`FacePlane`], in
//! coordinates `u` (along the face, the text's horizontal centre at `u = 0`) and `v = z`.
//! A stroke is a capsule: every point within `stroke_mm / 2` of its polyline. A layer cut at
//! height `z` crosses the capsules in intervals of `u`; each interval becomes a rectangle in
//! `x, y` from [`OVERCUT_MM`] outside the face to `depth_mm` inside it, and the rectangles
//! are subtracted from the section (one exact integer boolean per engraved layer). Layers
//! that the text does not reach are left exactly as they were.
//!
//! The cut is prismatic along the face normal: on a planar face the groove is `depth_mm`
//! deep everywhere; where the surface recedes from the plane it is shallower (and vanishes
//! past `depth_mm`). [`find_face`] looks for a planar face the text fits on.
//!
//! Read from outside the part, the text runs along [`FacePlane::direction`], which is the
//! outward normal turned a quarter turn counter-clockwise seen from above; the opposite
//! direction would mirror it, so an engraving with any other direction is refused.
//!
//! ```
//! use meltline_slicer::engrave::{Engraving, FacePlane};
//! use meltline_slicer::polygon::{area_mm2, Point};
//! // A 20 × 10 mm section of a block, marked on its +x face, text centred at z = 2.5 mm.
//! let face = FacePlane::new([20.0, 5.0], [1.0, 0.0]).unwrap();
//! let mark = Engraving::new("C-000123", face, 2.5);
//! mark.check().unwrap();
//! let corners = [(0, 0), (20_000, 0), (20_000, 10_000), (0, 10_000)]; // µm
//! let block = vec![vec![corners.iter().map(|&(x, y)| Point::new(x, y)).collect()]];
//! let cut = mark.engrave(&block, 2.5);
//! assert!(area_mm2(&cut) < 200.0); // notches where the strokes cross z = 2.5
//! assert_eq!(mark.engrave(&block, 4.5), block); // above the text
//! ```

pub mod face;
pub mod font;

use thiserror::Error;

pub use face::{FaceOptions, FaceSite, NoFace, find_face};

use crate::polygon::{Contour, Point, Shapes, area_mm2, difference, to_units, union_nonzero};
use crate::slice::LayerSection;

/// The shallowest groove accepted, mm.
pub const MIN_DEPTH_MM: f64 = 0.15;
/// The deepest groove accepted, mm.
pub const MAX_DEPTH_MM: f64 = 0.3;
/// How far the cut reaches outside the face plane, mm: faceting and rounding leave the
/// surface a little off the plane, and the groove must open through it.
pub const OVERCUT_MM: f64 = 0.2;
/// How far a unit vector may be from unit length, or the direction from its required value.
const UNIT_EPS: f64 = 1e-6;
/// The default character height, mm.
pub const DEFAULT_CHAR_HEIGHT_MM: f64 = 1.5;
/// The default groove width, mm.
pub const DEFAULT_STROKE_MM: f64 = 0.25;
/// The default groove depth, mm.
pub const DEFAULT_DEPTH_MM: f64 = 0.2;

/// Why an engraving cannot be made.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum EngraveError {
    /// The groove depth is outside the accepted range.
    #[error("engraving depth {depth_mm} mm is outside {min_mm}–{max_mm} mm")]
    Depth {
        /// The depth asked for, mm.
        depth_mm: f64,
        /// The shallowest accepted, mm.
        min_mm: f64,
        /// The deepest accepted, mm.
        max_mm: f64,
    },
    /// The character height is not a positive finite number.
    #[error("engraving character height {0} mm is not a positive finite number")]
    CharHeight(f64),
    /// The groove width is not positive, or so wide that strokes merge (over a third of the
    /// character height).
    #[error("engraving stroke {stroke_mm} mm must be positive and at most {max_mm} mm")]
    Stroke {
        /// The groove width asked for, mm.
        stroke_mm: f64,
        /// A third of the character height, mm.
        max_mm: f64,
    },
    /// The text is empty or only spaces.
    #[error("engraving text {0:?} has nothing to engrave")]
    EmptyText(String),
    /// A character the font does not have.
    #[error(
        "engraving text {text:?}: character {ch:?} at {index} is not in the font (A–Z, 0–9, '-', '.', '/', space)"
    )]
    Character {
        /// The text.
        text: String,
        /// The character.
        ch: char,
        /// Its position in characters.
        index: usize,
    },
    /// The face is not a finite vertical plane with a unit outward normal.
    #[error("engraving face: {0}")]
    Face(String),
    /// The text's height is not finite.
    #[error("engraving height {0} mm is not finite")]
    Height(f64),
}

/// A vertical plane of a part's surface, in the part's x, y.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FacePlane {
    /// A point of the face: where the text's horizontal centre lies, mm.
    pub origin: [f64; 2],
    /// The unit vector along the face in which the text runs (as read from outside).
    pub direction: [f64; 2],
    /// The unit normal pointing out of the solid.
    pub normal: [f64; 2],
}

impl FacePlane {
    /// The face through `origin` with outward `normal` (normalised here); the text runs
    /// along the normal turned a quarter turn counter-clockwise. `None` for a zero or
    /// non-finite normal or a non-finite origin.
    pub fn new(origin: [f64; 2], normal: [f64; 2]) -> Option<FacePlane> {
        let len = normal[0].hypot(normal[1]);
        if !(len.is_finite() && len > 0.0 && origin.iter().all(|c| c.is_finite())) {
            return None;
        }
        let n = [normal[0] / len, normal[1] / len];
        Some(FacePlane {
            origin,
            direction: [-n[1], n[0]],
            normal: n,
        })
    }

    /// The insertion face of a cage: at the axis' entry, facing against the insertion
    /// direction (the inserter hole lies there too: choose the height clear of it).
    pub fn from_insertion_axis(
        axis: &meltline_core::cage::footprint::InsertionAxis,
    ) -> Option<FacePlane> {
        FacePlane::new(
            [axis.entry.x, axis.entry.y],
            [-axis.direction.x, -axis.direction.y],
        )
    }

    /// The point at `u` along the face and `s` along the outward normal, mm.
    fn at(&self, u: f64, s: f64) -> [f64; 2] {
        [
            self.origin[0] + self.direction[0] * u + self.normal[0] * s,
            self.origin[1] + self.direction[1] * u + self.normal[1] * s,
        ]
    }

    /// Why the plane is unusable, if it is.
    fn problem(&self) -> Option<String> {
        let finite = self
            .origin
            .iter()
            .chain(&self.direction)
            .chain(&self.normal)
            .all(|c| c.is_finite());
        if !finite {
            return Some(format!("{self:?} is not finite"));
        }
        let n_len = self.normal[0].hypot(self.normal[1]);
        if (n_len - 1.0).abs() > UNIT_EPS {
            return Some(format!("normal {:?} is not a unit vector", self.normal));
        }
        let want = [-self.normal[1], self.normal[0]];
        let off = (self.direction[0] - want[0]).hypot(self.direction[1] - want[1]);
        if off > UNIT_EPS {
            return Some(format!(
                "direction {:?} is not the normal {:?} turned counter-clockwise ({want:?}): \
                 the text would be mirrored or slanted",
                self.direction, self.normal
            ));
        }
        None
    }
}

/// Text engraved on a vertical face.
#[derive(Debug, Clone, PartialEq)]
pub struct Engraving {
    /// The text (A–Z, 0–9, '-', '.', '/', space).
    pub text: String,
    /// The face it is engraved on.
    pub face: FacePlane,
    /// The height of the text's vertical centre, mm (in the frame of the mesh given to the
    /// slicer: the slicer moves it with the part's placement).
    pub z_centre_mm: f64,
    /// The character height (cap height, stroke centre to stroke centre), mm.
    pub char_height_mm: f64,
    /// The groove width, mm.
    pub stroke_mm: f64,
    /// The groove depth into the face, mm (0.15–0.3).
    pub depth_mm: f64,
}

impl Engraving {
    /// `text` on `face` centred at height `z_centre_mm`, with the default character height,
    /// groove width and depth (1.5, 0.25, 0.2 mm). Checked by [`Engraving::check`].
    pub fn new(text: impl Into<String>, face: FacePlane, z_centre_mm: f64) -> Engraving {
        Engraving {
            text: text.into(),
            face,
            z_centre_mm,
            char_height_mm: DEFAULT_CHAR_HEIGHT_MM,
            stroke_mm: DEFAULT_STROKE_MM,
            depth_mm: DEFAULT_DEPTH_MM,
        }
    }

    /// `text` with the default sizes, on the first face of `mesh` found by [`find_face`]
    /// with room for it (centred there); [`NoFace`] when none has.
    pub fn on_mesh(
        text: impl Into<String>,
        mesh: &meltline_core::mesh::Mesh,
        options: &FaceOptions,
    ) -> Result<Engraving, NoFace> {
        Engraving::sized(text, DEFAULT_CHAR_HEIGHT_MM).placed_on(mesh, options)
    }

    /// `text` with characters `char_height_mm` high and the default groove, not yet on a
    /// face: [`Engraving::placed_on`] puts it on one.
    pub fn sized(text: impl Into<String>, char_height_mm: f64) -> Engraving {
        let unplaced = FacePlane {
            origin: [0.0; 2],
            direction: [0.0, 1.0],
            normal: [1.0, 0.0],
        };
        Engraving {
            char_height_mm,
            ..Engraving::new(text, unplaced, 0.0)
        }
    }

    /// This engraving, with its sizes, moved onto the first face of `mesh` found by
    /// [`find_face`] with room for it (centred there); [`NoFace`] when none has.
    pub fn placed_on(
        mut self,
        mesh: &meltline_core::mesh::Mesh,
        options: &FaceOptions,
    ) -> Result<Engraving, NoFace> {
        let site = find_face(mesh, self.extent_mm(), options)?;
        self.face = site.face;
        self.z_centre_mm = site.z_centre_mm;
        Ok(self)
    }

    /// Refuses a depth outside 0.15–0.3 mm, a bad height or stroke, characters outside the
    /// font, an empty text and an unusable face.
    pub fn check(&self) -> Result<(), EngraveError> {
        let d = self.depth_mm;
        if !(MIN_DEPTH_MM..=MAX_DEPTH_MM).contains(&d) {
            return Err(EngraveError::Depth {
                depth_mm: d,
                min_mm: MIN_DEPTH_MM,
                max_mm: MAX_DEPTH_MM,
            });
        }
        let h = self.char_height_mm;
        if !(h.is_finite() && h > 0.0) {
            return Err(EngraveError::CharHeight(h));
        }
        let s = self.stroke_mm;
        if !(s.is_finite() && s > 0.0 && s <= h / 3.0) {
            return Err(EngraveError::Stroke {
                stroke_mm: s,
                max_mm: h / 3.0,
            });
        }
        if !self.z_centre_mm.is_finite() {
            return Err(EngraveError::Height(self.z_centre_mm));
        }
        if let Some((index, ch)) = self
            .text
            .chars()
            .enumerate()
            .find(|(_, c)| font::glyph(*c).is_none())
        {
            return Err(EngraveError::Character {
                text: self.text.clone(),
                ch,
                index,
            });
        }
        if self.text.trim().is_empty() {
            return Err(EngraveError::EmptyText(self.text.clone()));
        }
        match self.face.problem() {
            Some(why) => Err(EngraveError::Face(why)),
            None => Ok(()),
        }
    }

    /// The width and height of the engraved area on the face, mm (strokes included).
    pub fn extent_mm(&self) -> (f64, f64) {
        let n = self.text.chars().count().max(1) as f64;
        let h = self.char_height_mm;
        (h * text_span_cells(n) + self.stroke_mm, h + self.stroke_mm)
    }

    /// The same engraving moved by `d` (mm), as the slicer places the part.
    pub fn translated(&self, d: [f64; 3]) -> Engraving {
        let mut e = self.clone();
        e.face.origin = [e.face.origin[0] + d[0], e.face.origin[1] + d[1]];
        e.z_centre_mm += d[2];
        e
    }

    /// The strokes laid out on the face: segments `[a, b]` of `(u, v)` points, mm, with `v`
    /// measured from the text's vertical centre. A dot is a segment with `a == b`.
    pub fn strokes(&self) -> Vec<[[f64; 2]; 2]> {
        let h = self.char_height_mm;
        let chars: Vec<char> = self.text.chars().collect();
        let left = -0.5 * text_span_cells(chars.len() as f64);
        let mut out = Vec::new();
        for (i, c) in chars.iter().enumerate() {
            let x0 = left + i as f64 * font::ADVANCE;
            for stroke in font::glyph(*c).unwrap_or(&[]) {
                let pts: Vec<[f64; 2]> = stroke
                    .iter()
                    .map(|p| [h * (x0 + p[0]), h * (p[1] - 0.5)])
                    .collect();
                match pts.as_slice() {
                    [p] => out.push([*p, *p]),
                    _ => out.extend(pts.windows(2).map(|w| [w[0], w[1]])),
                }
            }
        }
        out
    }

    /// The intervals of `u` (mm, sorted, disjoint) where the grooves cross height `z_mm`.
    pub fn intervals_at(&self, z_mm: f64) -> Vec<[f64; 2]> {
        let v = z_mm - self.z_centre_mm;
        let r = 0.5 * self.stroke_mm;
        if v.is_nan() || v.abs() > 0.5 * self.char_height_mm + r {
            return Vec::new();
        }
        let mut spans: Vec<[f64; 2]> = self
            .strokes()
            .iter()
            .filter_map(|s| capsule_span(s[0], s[1], r, v))
            .collect();
        spans.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let mut merged: Vec<[f64; 2]> = Vec::with_capacity(spans.len());
        for s in spans {
            match merged.last_mut() {
                Some(last) if s[0] <= last[1] => last[1] = last[1].max(s[1]),
                _ => merged.push(s),
            }
        }
        merged
    }

    /// The material removed at height `z_mm`: one rectangle per interval, from
    /// [`OVERCUT_MM`] outside the face to `depth_mm` inside it (empty where the text does
    /// not reach).
    pub fn cuts_at(&self, z_mm: f64) -> Shapes {
        let rects: Vec<Contour> = self
            .intervals_at(z_mm)
            .iter()
            .map(|&[u0, u1]| {
                // Counter-clockwise: the normal turned counter-clockwise is the direction.
                [
                    self.face.at(u0, -self.depth_mm),
                    self.face.at(u0, OVERCUT_MM),
                    self.face.at(u1, OVERCUT_MM),
                    self.face.at(u1, -self.depth_mm),
                ]
                .iter()
                .map(|p| Point::new(to_units(p[0]), to_units(p[1])))
                .collect()
            })
            .collect();
        union_nonzero(&rects)
    }

    /// `shapes` (the section at height `z_mm`) with the grooves cut out.
    pub fn engrave(&self, shapes: &Shapes, z_mm: f64) -> Shapes {
        let cuts = self.cuts_at(z_mm);
        if cuts.is_empty() {
            return shapes.clone();
        }
        difference(shapes, &cuts)
    }

    /// Cuts the grooves out of a layer section, keeping its area consistent (the removed
    /// area is taken off [`LayerSection::area_mm2`]).
    pub fn engrave_section(&self, section: &mut LayerSection) {
        let cuts = self.cuts_at(section.z_mm);
        if cuts.is_empty() || section.shapes.is_empty() {
            return;
        }
        let cut = difference(&section.shapes, &cuts);
        section.enclosed_area_mm2 += area_mm2(&cut) - area_mm2(&section.shapes);
        section.shapes = cut;
    }
}

/// The width of `n` glyph cells laid out at [`font::ADVANCE`], in character heights.
fn text_span_cells(n: f64) -> f64 {
    (n - 1.0).max(0.0) * font::ADVANCE + font::CELL_WIDTH
}

/// The interval of `u` where the line `v = v0` crosses the capsule of radius `r` around the
/// segment `a`–`b` (in `(u, v)`), if it does.
fn capsule_span(a: [f64; 2], b: [f64; 2], r: f64, v0: f64) -> Option<[f64; 2]> {
    // The capsule is convex: its crossing is the hull of the crossings of its parts, the
    // two end discs and the rectangle around the segment.
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut take = |u0: f64, u1: f64| {
        lo = lo.min(u0);
        hi = hi.max(u1);
    };
    for p in [a, b] {
        let dv = p[1] - v0;
        if dv.abs() <= r {
            let w = (r * r - dv * dv).max(0.0).sqrt();
            take(p[0] - w, p[0] + w);
        }
    }
    let (du, dv) = (b[0] - a[0], b[1] - a[1]);
    let len = du.hypot(dv);
    if len > 0.0 {
        let n = [-dv / len * r, du / len * r];
        let corners = [
            [a[0] + n[0], a[1] + n[1]],
            [b[0] + n[0], b[1] + n[1]],
            [b[0] - n[0], b[1] - n[1]],
            [a[0] - n[0], a[1] - n[1]],
        ];
        for k in 0..4 {
            let (p, q) = (corners[k], corners[(k + 1) % 4]);
            if (p[1] - v0) * (q[1] - v0) <= 0.0 && p[1] != q[1] {
                let t = (v0 - p[1]) / (q[1] - p[1]);
                let u = p[0] + t * (q[0] - p[0]);
                take(u, u);
            } else if p[1] == v0 && q[1] == v0 {
                take(p[0].min(q[0]), p[0].max(q[0]));
            }
        }
    }
    (lo <= hi).then_some([lo, hi])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capsule_across_its_middle_spans_its_width() {
        // A vertical stroke at u = 1: the plane through it spans 2r.
        let s = capsule_span([1.0, -1.0], [1.0, 1.0], 0.1, 0.0).unwrap();
        assert!(
            (s[0] - 0.9).abs() < 1e-12 && (s[1] - 1.1).abs() < 1e-12,
            "{s:?}"
        );
        // A horizontal stroke crossed at its centre line spans its length and the caps.
        let s = capsule_span([0.0, 0.0], [2.0, 0.0], 0.1, 0.0).unwrap();
        assert!(
            (s[0] + 0.1).abs() < 1e-12 && (s[1] - 2.1).abs() < 1e-12,
            "{s:?}"
        );
        // Past the rounded end: nothing.
        assert!(capsule_span([1.0, -1.0], [1.0, 1.0], 0.1, 1.11).is_none());
        // A dot is a disc.
        let s = capsule_span([0.0, 0.0], [0.0, 0.0], 0.1, 0.06).unwrap();
        assert!((s[1] - 0.08).abs() < 1e-12, "{s:?}");
    }
}
