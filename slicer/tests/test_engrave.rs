//! Serial marking: grooves cut into the sections of a vertical face, the face search, the
//! font, validation and determinism.

use meltline_core::mesh::Mesh;
use meltline_slicer::engrave::font::{self, CELL_WIDTH};
use meltline_slicer::engrave::{
    EngraveError, Engraving, FaceOptions, FacePlane, NoFace, find_face,
};
use meltline_slicer::job::{Geometry, JobError, Layer, Slicer, SlicerOptions, VectorKind};
use meltline_slicer::polygon::{Point, area_mm2, contains, to_units};
use meltline_slicer::profile::ProcessProfile;

const SERIAL: &str = "C-000123";

/// A 20 × 16 × 4 mm block from the origin.
fn block() -> Mesh {
    Mesh::axis_aligned_box([0.0, 0.0, 0.0], [20.0, 16.0, 4.0])
}

/// The serial on the block's +x face, centred on it.
fn serial_on_plus_x() -> Engraving {
    let face = FacePlane::new([20.0, 8.0], [1.0, 0.0]).expect("a unit normal");
    Engraving::new(SERIAL, face, 2.0)
}

fn slicer(mesh: &Mesh, engraving: Option<Engraving>) -> Slicer {
    let options = SlicerOptions {
        engraving,
        ..SlicerOptions::default()
    };
    Slicer::new(mesh, ProcessProfile::ti6al4v(), options).expect("a valid job")
}

/// The layer whose cut plane is nearest `z`.
fn layer_near(s: &Slicer, z: f64) -> Layer {
    let t = s.header().layer_thickness_mm;
    s.layer((z / t - 0.5).round() as usize)
}

fn pt(x: f64, y: f64) -> Point {
    Point::new(to_units(x), to_units(y))
}

#[test]
fn the_section_at_the_texts_mid_height_has_a_notch_per_stroke_crossing() {
    let mark = serial_on_plus_x();
    let plain = layer_near(&slicer(&block(), None), 2.0);
    let cut = layer_near(&slicer(&block(), Some(mark.clone())), 2.0);
    let z = cut.z_mm;
    let spans = mark.intervals_at(z);
    // C, '-', and the ring and slash of each zero give several crossings.
    assert!(spans.len() >= 8, "{spans:?}");
    let removed: f64 = spans.iter().map(|s| (s[1] - s[0]) * mark.depth_mm).sum();
    let lost = area_mm2(&plain.section) - area_mm2(&cut.section);
    assert!(
        (lost - removed).abs() < 0.01 * removed + 1e-3,
        "lost {lost} mm², strokes × depth {removed} mm²"
    );
    assert!((plain.area_mm2 - cut.area_mm2 - lost).abs() < 1e-6);
    // Just inside the face: a stroke is a groove, the gap between two crossings is solid.
    let x = 20.0 - 0.5 * mark.depth_mm;
    for w in spans.windows(2) {
        let (a, b) = (w[0], w[1]);
        let stroke = 8.0 + 0.5 * (a[0] + a[1]);
        assert!(
            !contains(&cut.section, pt(x, stroke)),
            "groove at u {stroke}"
        );
        assert!(contains(&plain.section, pt(x, stroke)));
        let gap = 8.0 + 0.5 * (a[1] + b[0]);
        assert!(contains(&cut.section, pt(x, gap)), "solid at u {gap}");
    }
    // Deeper than the groove the part is intact.
    let first = 8.0 + 0.5 * (spans[0][0] + spans[0][1]);
    assert!(contains(
        &cut.section,
        pt(20.0 - mark.depth_mm - 0.02, first)
    ));
}

#[test]
fn contours_follow_the_groove_floor() {
    let cut = layer_near(&slicer(&block(), Some(serial_on_plus_x())), 2.0);
    let xs: Vec<i32> = cut
        .blocks
        .iter()
        .filter(|b| b.kind == VectorKind::Contour)
        .flat_map(|b| match &b.geometry {
            Geometry::Polyline(p) => p.iter().map(|q| q[0]).collect::<Vec<_>>(),
            Geometry::Vectors(v) => v.iter().flatten().map(|q| q[0]).collect(),
        })
        .collect();
    let outer = xs.iter().copied().max().expect("contours");
    // The outer contour dips 0.2 mm into the face where a groove is.
    assert!(
        xs.iter().any(|&x| x <= outer - to_units(0.19)),
        "no contour vertex on a groove floor"
    );
}

#[test]
fn layers_above_and_below_the_text_are_unchanged() {
    let plain = slicer(&block(), None);
    let marked = slicer(&block(), Some(serial_on_plus_x()));
    let (w, h) = serial_on_plus_x().extent_mm();
    assert!(w < 16.0 && h < 2.0);
    for z in [0.5, 1.0, 3.0, 3.5] {
        assert_eq!(layer_near(&plain, z), layer_near(&marked, z), "z {z}");
    }
}

#[test]
fn an_engraving_moves_with_the_part_when_it_is_centred() {
    let options = SlicerOptions {
        center_xy: true,
        engraving: Some(serial_on_plus_x()),
        ..SlicerOptions::default()
    };
    let s = Slicer::new(&block(), ProcessProfile::ti6al4v(), options).unwrap();
    let centred = layer_near(&s, 2.0);
    let plain = layer_near(&slicer(&block(), Some(serial_on_plus_x())), 2.0);
    // The same notches, 10 mm and 8 mm over.
    assert!((centred.area_mm2 - plain.area_mm2).abs() < 1e-6);
    let shift = |p: &Point| Point::new(p.x - to_units(10.0), p.y - to_units(8.0));
    let moved: Vec<Vec<Vec<Point>>> = plain
        .section
        .iter()
        .map(|s| s.iter().map(|c| c.iter().map(shift).collect()).collect())
        .collect();
    assert_eq!(centred.section, moved);
}

#[test]
fn a_depth_outside_the_range_is_refused_naming_the_value_and_range() {
    for depth in [0.1, 0.35, f64::NAN] {
        let mut mark = serial_on_plus_x();
        mark.depth_mm = depth;
        let e = mark.check().unwrap_err();
        assert!(matches!(e, EngraveError::Depth { .. }), "{e:?}");
        let options = SlicerOptions::default().with_engraving(mark);
        let err = Slicer::new(&block(), ProcessProfile::ti6al4v(), options).unwrap_err();
        assert!(matches!(err, JobError::Engraving(_)), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains(&depth.to_string()), "{msg}");
        assert!(msg.contains("0.15") && msg.contains("0.3"), "{msg}");
    }
    for depth in [0.15, 0.3] {
        let mut mark = serial_on_plus_x();
        mark.depth_mm = depth;
        assert_eq!(mark.check(), Ok(()));
    }
}

#[test]
fn characters_outside_the_font_and_mirrored_faces_are_refused() {
    let mut mark = serial_on_plus_x();
    mark.text = "c-000123".into();
    assert!(matches!(
        mark.check(),
        Err(EngraveError::Character {
            ch: 'c',
            index: 0,
            ..
        })
    ));
    mark.text = "  ".into();
    assert!(matches!(mark.check(), Err(EngraveError::EmptyText(_))));
    let mut mirrored = serial_on_plus_x();
    mirrored.face.direction = [0.0, -1.0];
    assert!(matches!(mirrored.check(), Err(EngraveError::Face(_))));
    let mut wide = serial_on_plus_x();
    wide.stroke_mm = 0.6;
    assert!(matches!(wide.check(), Err(EngraveError::Stroke { .. })));
    assert!(FacePlane::new([0.0, 0.0], [0.0, 0.0]).is_none());
}

#[test]
fn the_face_search_finds_the_preferred_face_of_a_block_centred_on_it() {
    let mark = serial_on_plus_x();
    let options = FaceOptions::new().preferring([1.0, 0.0]);
    let site = find_face(&block(), mark.extent_mm(), &options).expect("room on +x");
    assert!((site.face.normal[0] - 1.0).abs() < 1e-9, "{site:?}");
    assert!((site.face.origin[0] - 20.0).abs() < 1e-9);
    assert!((site.face.origin[1] - 8.0).abs() < 1e-9);
    assert!((site.z_centre_mm - 2.0).abs() < 1e-9);
    assert!((site.face_mm.0 - 16.0).abs() < 1e-9 && (site.face_mm.1 - 4.0).abs() < 1e-9);
    // Without a preference: the largest vertical face, the 20 × 4 mm side.
    let any = Engraving::on_mesh(SERIAL, &block(), &FaceOptions::new()).unwrap();
    assert!(any.face.normal[1].abs() > 0.999, "{:?}", any.face);
    assert_eq!(any.check(), Ok(()));
}

#[test]
fn a_face_too_small_for_the_text_gives_no_face() {
    let small = Mesh::axis_aligned_box([0.0; 3], [6.0, 5.0, 1.2]);
    let err: NoFace = Engraving::on_mesh(SERIAL, &small, &FaceOptions::new()).unwrap_err();
    assert!(err.needed_mm.0 > 10.0 && err.needed_mm.1 > 1.5, "{err:?}");
    assert!((err.best_mm.0 - 6.0).abs() < 1e-9 && (err.best_mm.1 - 1.2).abs() < 1e-9);
    let msg = err.to_string();
    assert!(msg.contains("6.00 × 1.20"), "{msg}");
    // A mesh with no vertical face at all.
    let flat = Mesh::new(
        vec![
            [0.0, 0.0, 0.0].into(),
            [1.0, 0.0, 0.0].into(),
            [0.0, 1.0, 0.0].into(),
        ],
        vec![[0, 1, 2]],
    )
    .unwrap();
    assert_eq!(
        find_face(&flat, (1.0, 1.0), &FaceOptions::new())
            .unwrap_err()
            .best_mm,
        (0.0, 0.0)
    );
}

#[test]
fn a_face_interrupted_under_the_text_puts_short_text_beside_the_gap_and_refuses_long_text() {
    // Two 8 mm blocks whose ±x faces share planes, with a 4 mm gap between them: no face
    // is long enough for the serial without crossing the gap.
    let mut m = Mesh::axis_aligned_box([0.0, 0.0, 0.0], [8.0, 6.0, 4.0]);
    m.append(&Mesh::axis_aligned_box([0.0, 10.0, 0.0], [8.0, 16.0, 4.0]));
    let options = FaceOptions::new().preferring([1.0, 0.0]);
    let err = Engraving::on_mesh(SERIAL, &m, &options).unwrap_err();
    assert!(err.best_mm.0 >= err.needed_mm.0, "{err:?}");
    assert!(err.to_string().contains("holes or edges"), "{err}");
    // Text too long for the block's 16 mm ±x faces goes on a 20 mm side face, unless only
    // the preferred face may take it.
    let long = "C-0001234567";
    let side = Engraving::on_mesh(long, &block(), &FaceOptions::new().preferring([1.0, 0.0]));
    assert!(side.is_ok_and(|e| e.face.normal[1].abs() > 0.999));
    let only = FaceOptions::new().only_facing([1.0, 0.0]);
    assert!(Engraving::on_mesh(long, &block(), &only).is_err());
    let short = Engraving::on_mesh("A1", &m, &options).expect("room beside the gap");
    let (w, _) = short.extent_mm();
    let y = short.face.origin[1];
    assert!(short.face.normal[0] > 0.999);
    assert!(
        y + 0.5 * w <= 6.0 || y - 0.5 * w >= 10.0,
        "text at y {y} crosses the gap"
    );
}

#[test]
fn every_glyph_lies_within_its_cell_and_the_text_within_its_extent() {
    for c in font::CHARACTERS.chars() {
        let g = font::glyph(c).unwrap_or_else(|| panic!("{c:?} has no glyph"));
        assert!(
            g.iter()
                .flat_map(|s| s.iter())
                .all(|p| (0.0..=CELL_WIDTH).contains(&p[0]) && (0.0..=1.0).contains(&p[1])),
            "{c:?}"
        );
    }
    for c in ('A'..='Z').chain('0'..='9').chain("-./ ".chars()) {
        assert!(font::CHARACTERS.contains(c), "{c:?}");
    }
    let mark = serial_on_plus_x();
    let (w, h) = mark.extent_mm();
    let r = 0.5 * mark.stroke_mm;
    for [a, b] in mark.strokes() {
        for p in [a, b] {
            assert!(p[0].abs() + r <= 0.5 * w + 1e-9 && p[1].abs() + r <= 0.5 * h + 1e-9);
        }
    }
    // Nothing is cut outside the extent.
    assert!(mark.intervals_at(2.0 + 0.5 * h + 1e-6).is_empty());
    assert!(!mark.intervals_at(2.0 + 0.5 * h - 1e-3).is_empty());
}

#[test]
fn an_engraved_job_is_the_same_every_time() {
    let a = slicer(&block(), Some(serial_on_plus_x()))
        .build_job()
        .unwrap();
    let b = slicer(&block(), Some(serial_on_plus_x()))
        .build_job()
        .unwrap();
    assert_eq!(a, b);
    let streamed: Vec<Layer> = slicer(&block(), Some(serial_on_plus_x()))
        .layers()
        .collect();
    assert_eq!(a.layers, streamed);
}
