//! Seams, cuts and balance of the multi-laser plan.

use meltline_firmware::lasers::builtin_machine;

use super::*;

/// The built-in machine's fields in quanta of 1 µm.
fn fields(name: &str) -> Vec<[i64; 4]> {
    builtin_machine(name)
        .unwrap()
        .all_lasers()
        .map(|l| l.field_um.map(i64::from))
        .collect()
}

fn seg(a: [i32; 2], b: [i32; 2]) -> Segment {
    Segment {
        from: Point { x: a[0], y: a[1] },
        to: Point { x: b[0], y: b[1] },
        chained: false,
    }
}

fn inside(f: &[i64; 4], p: Point) -> bool {
    f[0] <= i64::from(p.x)
        && i64::from(p.x) <= f[2]
        && f[1] <= i64::from(p.y)
        && i64::from(p.y) <= f[3]
}

const OVERLAP_Q: f64 = 200.0; // 0.2 mm in 1 µm quanta

#[test]
fn seams_lie_inside_the_overlap_clear_of_its_ends_and_move_every_layer() {
    let g = Grid::of(&fields("meltline-sim-250-4x"), OVERLAP_Q).unwrap();
    let mut previous: Option<Vec<Seam>> = None;
    for layer in 0..500 {
        let seams = g.seams(layer, &[], OVERLAP_Q, 3_000.0, &[], 0.0);
        assert_eq!(
            seams.len(),
            3,
            "one seam between the rows, one between the columns in each row"
        );
        for &(_, _, at) in &seams {
            assert!(
                (-25_000.0 + OVERLAP_Q / 2.0..=25_000.0 - OVERLAP_Q / 2.0).contains(&at),
                "layer {layer}: seam at {at} outside the overlap"
            );
        }
        if let Some(p) = &previous {
            for (a, b) in p.iter().zip(&seams) {
                assert!(
                    (a.2 - b.2).abs() > 1_000.0,
                    "layer {layer}: seam stacked within 1 mm"
                );
            }
        }
        previous = Some(seams);
    }
}

#[test]
fn a_vector_across_a_seam_is_cut_with_the_overlap_and_each_piece_stays_in_its_field() {
    let f = fields("meltline-sim-250-4x");
    let g = Grid::of(&f, OVERLAP_Q).unwrap();
    let seams = vec![
        (1usize, None, -2_000.0),
        (0, Some(0), 1_000.0),
        (0, Some(1), 1_000.0),
    ];
    let mut out = vec![Vec::new(); 4];
    // Along x at y = -10 mm: crosses the column seam at x = 1 mm, in the front row.
    g.split(
        &seg([-10_000, -10_000], [10_000, -10_000]),
        &seams,
        OVERLAP_Q,
        &mut SplitScratch::default(),
        &mut out,
    );
    assert_eq!(out[0], vec![seg([-10_000, -10_000], [1_100, -10_000])]);
    assert_eq!(out[1], vec![seg([900, -10_000], [10_000, -10_000])]);
    assert!(out[2].is_empty() && out[3].is_empty());
    // A diagonal through both seams reaches three or four cells; the pieces cover it.
    let mut out = vec![Vec::new(); 4];
    g.split(
        &seg([-20_000, -20_000], [20_000, 20_000]),
        &seams,
        OVERLAP_Q,
        &mut SplitScratch::default(),
        &mut out,
    );
    let mut length = 0.0;
    for (laser, pieces) in out.iter().enumerate() {
        for s in pieces {
            assert!(
                inside(&f[laser], s.from) && inside(&f[laser], s.to),
                "laser {laser}: {s:?}"
            );
            length += f64::from(s.to.x - s.from.x).hypot(f64::from(s.to.y - s.from.y));
        }
    }
    let whole = 40_000f64 * 2f64.sqrt();
    // Each of the two cuts adds one overlap of track, and no more.
    assert!(
        (length - whole - 2.0 * OVERLAP_Q).abs() < 3.0,
        "pieces {length}, whole {whole}"
    );
    // A vector on one side is not cut.
    let mut out = vec![Vec::new(); 4];
    g.split(
        &seg([30_000, 30_000], [40_000, 31_000]),
        &seams,
        OVERLAP_Q,
        &mut SplitScratch::default(),
        &mut out,
    );
    assert_eq!(out[3], vec![seg([30_000, 30_000], [40_000, 31_000])]);
    assert_eq!(out.iter().map(Vec::len).sum::<usize>(), 1);
}

#[test]
fn fields_off_a_grid_or_without_room_for_the_overlap_are_refused_for_by_region() {
    let mut f = fields("meltline-sim-250-4x");
    f[3] = [-20_000, -25_000, 125_000, 125_000]; // a third column edge
    assert!(matches!(
        Grid::of(&f, OVERLAP_Q),
        Err(PlanError::NotAGrid(_))
    ));
    let tight = vec![
        [-125_000, -125_000, 100, 125_000],
        [0, -125_000, 125_000, 125_000],
    ];
    let e = Grid::of(&tight, OVERLAP_Q).err().unwrap().to_string();
    assert!(e.contains("overlap by 100"), "{e}");
    assert!(Grid::of(&fields("meltline-sim-250-2x"), OVERLAP_Q).is_ok());
}

#[test]
fn a_seam_goes_where_it_splits_the_layers_work_evenly_and_still_moves() {
    let g = Grid::of(&fields("meltline-sim-250-2x"), OVERLAP_Q).unwrap();
    // Equal work at x = -60, 8 and 12 mm: the middle of it is x = 8 mm, inside the overlap.
    let loads = [
        ([-60_000.0, 0.0], 1.0),
        ([8_000.0, 0.0], 1.0),
        ([12_000.0, 0.0], 1.0),
    ];
    for layer in 0..20 {
        let seams = g.seams(layer, &loads, OVERLAP_Q, 3_000.0, &[], 0.0);
        assert_eq!(seams.len(), 1);
        assert!(
            (seams[0].2 - 8_000.0).abs() <= 1_500.0,
            "layer {layer}: seam at {}",
            seams[0].2
        );
    }
    // All the work far to one side: the seam stays inside the overlap, clear of its ends.
    let far = [([100_000.0, 0.0], 1.0)];
    for layer in 0..20 {
        let at = g.seams(layer, &far, OVERLAP_Q, 3_000.0, &[], 0.0)[0].2;
        assert!(
            at > -25_000.0 + OVERLAP_Q / 2.0 && at < 25_000.0 - OVERLAP_Q / 2.0,
            "{at}"
        );
    }
}

#[test]
fn layer_balance_is_the_slowest_laser_over_the_mean() {
    let l = LayerShare {
        layer: 0,
        exposure_s: vec![3.0, 1.0, 1.0, 3.0],
        seams_mm: Vec::new(),
    };
    assert_eq!(l.balance(), Some(1.5));
    let idle = LayerShare {
        layer: 1,
        exposure_s: vec![0.0; 4],
        seams_mm: Vec::new(),
    };
    assert_eq!(idle.balance(), None);
}
