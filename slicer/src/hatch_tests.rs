//! Tests of the hatcher.

use super::*;
use crate::polygon::union_nonzero;

fn square(s: i32) -> Shapes {
    union_nonzero(&[vec![
        Point::new(0, 0),
        Point::new(s, 0),
        Point::new(s, s),
        Point::new(0, s),
    ]])
}

#[test]
fn lines_at_zero_degrees_are_horizontal_and_spaced_by_the_hatch() {
    let settings = HatchSettings::default();
    let g = hatch_region(&square(10_000), 0.1, 0, &settings);
    assert_eq!(g.len(), 1);
    let h = &g[0].hatches;
    // Interior lines y = 100, 200 … 9900 (boundary lines excluded).
    assert_eq!(h.len(), 99);
    for (i, s) in h.iter().enumerate() {
        assert_eq!(s[0].y, 100 * (i as i32 + 1));
        assert_eq!(s[1].y, s[0].y);
        assert_eq!((s[1].x - s[0].x).abs(), 10_000);
        // Meander: alternate directions.
        assert_eq!(s[0].x < s[1].x, i % 2 == 0);
    }
}

#[test]
fn lines_through_vertices_clip_to_the_exact_chord() {
    // A diamond with vertices on the hatch lines y = 0, 1000, 2000.
    let diamond = union_nonzero(&[vec![
        Point::new(1000, 0),
        Point::new(2000, 1000),
        Point::new(1000, 2000),
        Point::new(0, 1000),
    ]]);
    let lines: Vec<[Point; 2]> = (0..=2)
        .map(|k| [Point::new(-10, 1000 * k), Point::new(3010, 1000 * k)])
        .collect();
    let out = clip_lines_exact(&diamond, &lines, (0.0, 1.0), 0, 1000.0);
    assert!(out[0].is_empty() && out[2].is_empty(), "{out:?}");
    assert_eq!(out[1], vec![[Point::new(0, 1000), Point::new(2000, 1000)]]);
}

#[test]
fn hatching_inside_islands_equals_hatching_the_polygon_intersection() {
    // A ring-shaped region and two islands overlapping it, at an oblique angle.
    let mut hole = vec![
        Point::new(3000, 3000),
        Point::new(3000, 7000),
        Point::new(7000, 7000),
        Point::new(7000, 3000),
    ];
    let mut region_contours = square(10_000).concat();
    region_contours.push(std::mem::take(&mut hole));
    let region = union_nonzero(&region_contours);
    let island = |x0: i32, y0: i32, x1: i32, y1: i32| {
        union_nonzero(&[vec![
            Point::new(x0, y0),
            Point::new(x1, y0),
            Point::new(x1, y1),
            Point::new(x0, y1),
        ]])
    };
    let islands = [
        island(-500, -500, 5_000, 12_000),
        island(6_000, 1_000, 11_000, 4_000),
    ];
    let settings = HatchSettings {
        start_angle_deg: 23.0,
        ..HatchSettings::default()
    };
    let length = |g: &HatchGroup| -> f64 {
        g.hatches
            .iter()
            .map(|s| crate::polygon::seg_len_mm(s[0], s[1]))
            .sum()
    };
    let got = hatch_islands(&region, &islands.concat(), 0.1, 0, &settings);
    assert_eq!(got.len(), 2);
    for (g, isl) in got.iter().zip(&islands) {
        let want = hatch_region(
            &crate::polygon::intersection(&region, isl),
            0.1,
            0,
            &settings,
        );
        let g = g.as_ref().expect("each island holds part of the ring");
        assert_eq!(g.hatches.len(), want[0].hatches.len());
        // End points differ by the rounding of the boolean's vertices at most.
        assert!((length(g) - length(&want[0])).abs() < 2e-3 * g.hatches.len() as f64);
    }
}

#[test]
fn stripes_cut_hatches_to_the_stripe_width() {
    let settings = HatchSettings {
        strategy: Strategy::Stripes,
        stripe_width_mm: 3.0,
        stripe_overlap_mm: 0.0,
        ..HatchSettings::default()
    };
    let g = hatch_region(&square(10_000), 0.5, 0, &settings);
    assert_eq!(g.len(), 4);
    for grp in &g {
        for s in &grp.hatches {
            assert!((s[1].x - s[0].x).abs() <= 3_000);
        }
    }
}

#[test]
fn chessboard_neighbours_cross_at_right_angles() {
    let settings = HatchSettings {
        strategy: Strategy::Chessboard,
        island_size_mm: 5.0,
        island_overlap_mm: 0.0,
        island_shift_mm: 0.0,
        ..HatchSettings::default()
    };
    let g = hatch_region(&square(10_000), 0.5, 0, &settings);
    assert_eq!(g.len(), 4);
    for grp in &g {
        let horizontal = grp.hatches.iter().all(|s| s[0].y == s[1].y);
        let vertical = grp.hatches.iter().all(|s| s[0].x == s[1].x);
        assert!(if grp.white { horizontal } else { vertical }, "{grp:?}");
        assert_eq!((grp.cell.0 + grp.cell.1).rem_euclid(2) == 0, grp.white);
    }
}
