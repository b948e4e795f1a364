//! Footprints and placement.

use super::place::*;
use meltline_core::mesh::Mesh;

fn square(side: f64) -> Footprint {
    let h = side / 2.0;
    footprint(
        &Mesh::axis_aligned_box([-h, -h, 0.0], [h, h, 2.0]),
        [0.0, 0.0],
    )
}

/// An L of two 20 × 6 mm bars: its bounding box is 20 × 20 mm, its footprint 120 + 84 = 204 mm².
fn ell() -> Footprint {
    let mut m = Mesh::axis_aligned_box([-10.0, -10.0, 0.0], [10.0, -4.0, 2.0]);
    m.append(&Mesh::axis_aligned_box(
        [-10.0, -4.0, 0.0],
        [-4.0, 10.0, 2.0],
    ));
    footprint(&m, [0.0, 0.0])
}

fn boxes(n: usize, side: f64) -> Vec<(String, Footprint)> {
    (0..n)
        .map(|i| (format!("P-{i:03}"), square(side)))
        .collect()
}

#[test]
fn the_footprint_is_the_union_of_the_sections_not_the_bounding_box() {
    assert!((square(10.0).area_mm2 - 100.0).abs() < 1.0);
    let l = ell();
    assert!((l.area_mm2 - 204.0).abs() < 2.0, "{}", l.area_mm2);
}

#[test]
fn automatic_placement_keeps_every_part_in_the_field_and_apart_by_the_spacing() {
    let parts = boxes(12, 18.0);
    let placed = place_auto(&parts, 60.0, 3.0, &[]).unwrap();
    assert_eq!(placed.len(), 12);
    for (i, a) in placed.iter().enumerate() {
        assert!(
            outside_field(&a.shapes, 60.0).is_none(),
            "part {i} leaves the field"
        );
        for b in &placed[i + 1..] {
            let d = distance_mm(&a.shapes, &b.shapes);
            assert!(d >= 3.0 - 0.01, "two parts {d} mm apart");
        }
    }
}

#[test]
fn automatic_placement_is_deterministic_and_turns_long_axes_off_the_recoater() {
    let bar = Mesh::axis_aligned_box([-15.0, -3.0, 0.0], [15.0, 3.0, 2.0]);
    let parts: Vec<_> = (0..3)
        .map(|i| (format!("B{i}"), footprint(&bar, [0.0, 0.0])))
        .collect();
    let a = place_auto(&parts, 60.0, 3.0, &[]).unwrap();
    let b = place_auto(&parts, 60.0, 3.0, &[]).unwrap();
    assert_eq!(a, b);
    for p in &a {
        let axis = (p.rotation_deg).rem_euclid(180.0);
        assert!(
            (axis - RECOATER_ANGLE_DEG).abs() < 1.0,
            "long axis at {axis}°"
        );
    }
}

#[test]
fn parts_that_do_not_fit_are_refused_with_how_many_fit() {
    let parts = boxes(5, 50.0);
    let e = place_auto(&parts, 60.0, 3.0, &[]).unwrap_err();
    match e {
        PlacementError::DoesNotFit { placed, total, .. } => {
            assert_eq!(total, 5);
            assert!((1..5).contains(&placed), "{placed}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn manual_placements_that_overlap_or_come_too_close_are_refused_with_the_distance() {
    let f = square(10.0);
    let overlap = [
        ("A".to_string(), f.clone(), [0.0, 0.0], 0.0),
        ("B".to_string(), f.clone(), [5.0, 0.0], 0.0),
    ];
    match place_manual(&overlap, 60.0, 3.0).unwrap_err() {
        PlacementError::TooClose {
            a, b, distance_mm, ..
        } => {
            assert_eq!((a.as_str(), b.as_str()), ("A", "B"));
            assert_eq!(distance_mm, 0.0);
        }
        other => panic!("{other:?}"),
    }
    let close = [
        ("A".to_string(), f.clone(), [0.0, 0.0], 0.0),
        ("B".to_string(), f.clone(), [11.0, 0.0], 0.0),
    ];
    match place_manual(&close, 60.0, 3.0).unwrap_err() {
        PlacementError::TooClose { distance_mm, .. } => {
            assert!((distance_mm - 1.0).abs() < 0.05, "{distance_mm}");
        }
        other => panic!("{other:?}"),
    }
    let apart = [
        ("A".to_string(), f.clone(), [0.0, 0.0], 0.0),
        ("B".to_string(), f, [14.0, 0.0], 90.0),
    ];
    assert_eq!(place_manual(&apart, 60.0, 3.0).unwrap().len(), 2);
}

#[test]
fn a_manual_placement_leaving_the_scan_field_is_refused_naming_the_part() {
    let parts = [("EDGE-1".to_string(), square(10.0), [57.0, 0.0], 0.0)];
    match place_manual(&parts, 60.0, 3.0).unwrap_err() {
        PlacementError::OutsideField { id, .. } => assert_eq!(id, "EDGE-1"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_l_shaped_part_nests_closer_than_its_bounding_box_would_allow() {
    // Two Ls, the second turned 180°: their bounding boxes overlap, their footprints do not.
    let l = ell();
    let parts = [
        ("L1".to_string(), l.clone(), [0.0, 0.0], 0.0),
        ("L2".to_string(), l, [9.0, 9.0], 180.0),
    ];
    let placed = place_manual(&parts, 60.0, 1.0).unwrap();
    assert!(distance_mm(&placed[0].shapes, &placed[1].shapes) >= 1.0 - 0.01);
}

/// Four fields of 70 mm on a 120 mm plate, overlapping by 20 mm about the centre.
const QUADRANTS: [[f64; 4]; 4] = [
    [-60.0, -60.0, 10.0, 10.0],
    [-10.0, -60.0, 60.0, 10.0],
    [-60.0, -10.0, 10.0, 60.0],
    [-10.0, -10.0, 60.0, 60.0],
];

/// The fields that wholly hold a placed part.
fn holding(p: &Placement) -> Vec<usize> {
    QUADRANTS
        .iter()
        .enumerate()
        .filter(|(_, z)| outside_field(&shifted_to(&p.shapes, z), (z[2] - z[0]) / 2.0).is_none())
        .map(|(i, _)| i)
        .collect()
}

/// The shapes moved so that field `z` is centred on the origin (to reuse the field test).
fn shifted_to(
    shapes: &[meltline_slicer::polygon::Shape],
    z: &[f64; 4],
) -> Vec<meltline_slicer::polygon::Shape> {
    let c = meltline_slicer::polygon::to_units((z[0] + z[2]) / 2.0);
    let d = meltline_slicer::polygon::to_units((z[1] + z[3]) / 2.0);
    shapes
        .iter()
        .map(|sh| {
            sh.iter()
                .map(|ct| {
                    ct.iter()
                        .map(|p| meltline_slicer::polygon::Point::new(p.x - c, p.y - d))
                        .collect()
                })
                .collect()
        })
        .collect()
}

#[test]
fn on_a_four_laser_machine_parts_are_shared_between_the_laser_fields_by_area() {
    let parts = boxes(8, 18.0);
    let placed = place_auto(&parts, 60.0, 3.0, &QUADRANTS).unwrap();
    let mut per_field = [0usize; 4];
    for p in &placed {
        let fields = holding(p);
        assert!(
            !fields.is_empty(),
            "a part no single field holds: {:?}",
            p.at_mm
        );
        per_field[fields[0]] += 1;
        assert!(outside_field(&p.shapes, 60.0).is_none());
    }
    // Two equal parts in each field: the least loaded field takes the next part.
    assert_eq!(
        per_field,
        [2, 2, 2, 2],
        "{:?}",
        placed.iter().map(|p| p.at_mm).collect::<Vec<_>>()
    );
    for (i, a) in placed.iter().enumerate() {
        for b in &placed[i + 1..] {
            assert!(distance_mm(&a.shapes, &b.shapes) >= 3.0 - 0.01);
        }
    }
    // Without fields, the same parts pack into the front rows only.
    let packed = place_auto(&parts, 60.0, 3.0, &[]).unwrap();
    assert!(packed.iter().all(|p| p.at_mm[1] < 10.0));
    assert_eq!(
        place_auto(&parts, 60.0, 3.0, &QUADRANTS).unwrap(),
        placed,
        "deterministic"
    );
}

#[test]
fn a_part_no_single_laser_field_holds_is_packed_on_the_whole_plate() {
    let parts = boxes(1, 90.0);
    let placed = place_auto(&parts, 60.0, 3.0, &QUADRANTS).unwrap();
    assert!(holding(&placed[0]).is_empty());
    assert!(outside_field(&placed[0].shapes, 60.0).is_none());
}

/// A `side` mm square part `height` mm tall.
fn tall_square(side: f64, height: f64) -> Footprint {
    let h = side / 2.0;
    footprint(
        &Mesh::axis_aligned_box([-h, -h, 0.0], [h, h, height]),
        [0.0, 0.0],
    )
}

#[test]
fn on_a_four_laser_machine_the_tallest_parts_go_one_to_each_laser_nearest_the_centre() {
    // Serials put the short parts first, so that only height decides.
    let mut parts: Vec<(String, Footprint)> = (0..4)
        .map(|i| (format!("A-{i}"), tall_square(18.0, 2.0)))
        .collect();
    parts.extend((0..4).map(|i| (format!("B-{i}"), tall_square(16.0, 10.0))));
    let placed = place_auto(&parts, 60.0, 3.0, &QUADRANTS).unwrap();
    assert!((parts[4].1.height_mm - 10.0).abs() < 1e-9);
    let quadrant = |p: &Placement| {
        let (lo, hi) = meltline_slicer::polygon::bounds(&p.shapes).unwrap();
        let c = [
            meltline_slicer::polygon::to_mm(lo.x + hi.x) / 2.0,
            meltline_slicer::polygon::to_mm(lo.y + hi.y) / 2.0,
        ];
        (
            usize::from(c[0] > 0.0) + 2 * usize::from(c[1] > 0.0),
            c[0].hypot(c[1]),
        )
    };
    let mut tall = [0usize; 4];
    let mut short = [0usize; 4];
    for (k, p) in placed.iter().enumerate() {
        let (q, _) = quadrant(p);
        if k < 4 { short[q] += 1 } else { tall[q] += 1 }
    }
    assert_eq!(tall, [1, 1, 1, 1], "the top layers are shared");
    assert_eq!(short, [1, 1, 1, 1], "so are the lower ones");
    let farthest_tall = placed[4..]
        .iter()
        .map(|p| quadrant(p).1)
        .fold(0.0, f64::max);
    let nearest_short = placed[..4]
        .iter()
        .map(|p| quadrant(p).1)
        .fold(f64::MAX, f64::min);
    assert!(
        farthest_tall < nearest_short,
        "tall parts stand nearer the centre: {farthest_tall:.1} against {nearest_short:.1} mm"
    );
    for (i, a) in placed.iter().enumerate() {
        for b in &placed[i + 1..] {
            assert!(distance_mm(&a.shapes, &b.shapes) >= 3.0 - 0.01);
        }
        assert!(outside_field(&a.shapes, 60.0).is_none());
    }
}
