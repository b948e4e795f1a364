//! Behaviour of block supports on small meshes built in code.

use meltline_core::mesh::Mesh;
use nalgebra::Point3;

use super::*;

const T: f64 = 0.03;

/// The layer whose cut plane `(i + 0.5)·T` is nearest to `z`.
fn layer_at(z: f64) -> usize {
    (z / T - 0.5).round() as usize
}

/// A prism: the simple counter-clockwise `profile` in the xz-plane, extruded along y over
/// `0..depth`, with outward normals.
fn prism(profile: &[[f64; 2]], depth: f64) -> Mesh {
    let p3 = |p: [f64; 2], y: f64| Point3::new(p[0], y, p[1]);
    let mut soup = Vec::new();
    for [a, b, c] in ear_clip(profile) {
        soup.push([p3(a, 0.0), p3(b, 0.0), p3(c, 0.0)]);
        soup.push([p3(a, depth), p3(c, depth), p3(b, depth)]);
    }
    for i in 0..profile.len() {
        let (p, q) = (profile[i], profile[(i + 1) % profile.len()]);
        let (a, b, c, d) = (p3(p, 0.0), p3(q, 0.0), p3(q, depth), p3(p, depth));
        soup.push([a, d, b]);
        soup.push([b, d, c]);
    }
    Mesh::from_soup(soup)
}

/// Ear clipping of a small simple counter-clockwise polygon.
fn ear_clip(poly: &[[f64; 2]]) -> Vec<[[f64; 2]; 3]> {
    let cross = |o: [f64; 2], a: [f64; 2], b: [f64; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut idx: Vec<usize> = (0..poly.len()).collect();
    let mut out = Vec::new();
    while idx.len() > 3 {
        let n = idx.len();
        let ear = (0..n)
            .find(|&i| {
                let (a, b, c) = (
                    poly[idx[(i + n - 1) % n]],
                    poly[idx[i]],
                    poly[idx[(i + 1) % n]],
                );
                cross(a, b, c) > 0.0
                    && idx.iter().all(|&k| {
                        let p = poly[k];
                        p == a
                            || p == b
                            || p == c
                            || !(cross(a, b, p) >= 0.0
                                && cross(b, c, p) >= 0.0
                                && cross(c, a, p) >= 0.0)
                    })
            })
            .expect("simple polygon has an ear");
        out.push([
            poly[idx[(ear + n - 1) % n]],
            poly[idx[ear]],
            poly[idx[(ear + 1) % n]],
        ]);
        idx.remove(ear);
    }
    out.push([poly[idx[0]], poly[idx[1]], poly[idx[2]]]);
    out
}

/// A T: stem 4..6 wide and 8 high, bar 0..10 wide from z 8 to 10, 10 deep.
fn t_shape() -> Mesh {
    prism(
        &[
            [4.0, 0.0],
            [6.0, 0.0],
            [6.0, 8.0],
            [10.0, 8.0],
            [10.0, 10.0],
            [0.0, 10.0],
            [0.0, 8.0],
            [4.0, 8.0],
        ],
        10.0,
    )
}

fn point_in_footprint(region: &SupportRegion, p: [f64; 2]) -> bool {
    let mut inside = false;
    for shape in region.footprint_mm() {
        for c in shape {
            for i in 0..c.len() {
                let (a, b) = (c[i], c[(i + 1) % c.len()]);
                if (a[1] > p[1]) != (b[1] > p[1]) {
                    let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
                    if p[0] < x {
                        inside = !inside;
                    }
                }
            }
        }
    }
    inside
}

fn total_length(paths: &[SupportPath]) -> f64 {
    paths
        .iter()
        .map(|p| {
            p.points
                .windows(2)
                .map(|w| ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt())
                .sum::<f64>()
        })
        .sum()
}

/// Pieces of the wall running along y at `x`.
fn wall_pieces_at_x(paths: &[SupportPath], x: f64) -> Vec<[f64; 2]> {
    let mut v: Vec<[f64; 2]> = paths
        .iter()
        .filter(|p| p.points.iter().all(|q| (q[0] - x).abs() < 1e-9))
        .map(|p| {
            let (a, b) = (p.points[0][1], p.points[p.points.len() - 1][1]);
            [a.min(b), a.max(b)]
        })
        .collect();
    v.sort_by(|a, b| a[0].total_cmp(&b[0]));
    v
}

#[test]
fn cube_on_the_plate_needs_no_support() {
    let cube = Mesh::axis_aligned_box([0.0; 3], [10.0; 3]);
    let plan = plan_supports(&cube, &SupportOptions::default());
    assert!(plan.regions().is_empty());
    assert!(plan.report().failed.is_empty());
    assert_eq!(plan.report().regions_supported, 0);
    for i in 0..400 {
        assert!(plan.layer_paths(i, T).is_empty());
    }
}

#[test]
fn horizontal_overhang_gets_walls_down_to_the_plate() {
    let plan = plan_supports(&t_shape(), &SupportOptions::default());
    let report = plan.report();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.regions_supported, 2, "one region per arm of the T");
    assert!((report.supported_area_mm2 - 80.0).abs() < 1e-6);
    for line in &report.regions {
        assert_eq!(line.z_range_mm, [8.0, 8.0]);
        assert_eq!(line.on_part_fraction, 0.0);
    }
    // The first layer, on the plate: walls along y at the grid lines inside the arms only.
    let first = plan.layer_paths(0, T);
    let mut xs: Vec<i64> = first
        .iter()
        .filter(|p| p.points[0][0] == p.points[1][0])
        .map(|p| (p.points[0][0] * 1000.0).round() as i64)
        .collect();
    xs.sort();
    xs.dedup();
    assert_eq!(xs, vec![1000, 2000, 3000, 7000, 8000, 9000]);
    // Walls also run along x, at y = 1..9.
    let mut ys: Vec<i64> = first
        .iter()
        .filter(|p| p.points[0][1] == p.points[1][1])
        .map(|p| (p.points[0][1] * 1000.0).round() as i64)
        .collect();
    ys.sort();
    ys.dedup();
    assert_eq!(ys, (1..=9).map(|k| k * 1000).collect::<Vec<_>>());
    // Below the bar everywhere, never above it.
    assert!(!plan.layer_paths(layer_at(4.0), T).is_empty());
    assert!(plan.layer_paths(layer_at(8.1), T).is_empty());
    assert!(plan.layer_paths(layer_at(9.0), T).is_empty());
    assert!(plan.max_z_mm() > 8.0 && plan.max_z_mm() < 8.1);
}

#[test]
fn walls_under_an_overhang_above_another_part_stop_on_that_part() {
    // A slab floating over a lower block that covers its middle third.
    let mut mesh = Mesh::axis_aligned_box([2.0, 0.0, 0.0], [8.0, 10.0, 3.0]);
    mesh.append(&Mesh::axis_aligned_box([0.0, 0.0, 6.0], [10.0, 10.0, 7.0]));
    let plan = plan_supports(&mesh, &SupportOptions::default());
    assert!(plan.report().failed.is_empty());
    let over_block = |paths: &[SupportPath]| {
        paths
            .iter()
            .filter(|p| p.points.iter().any(|q| q[0] > 2.0 && q[0] < 8.0))
            .count()
    };
    // Inside the lower block: walls only beside it.
    let low = plan.layer_paths(layer_at(1.5), T);
    assert!(!low.is_empty());
    assert_eq!(over_block(&low), 0, "a wall passes through the lower part");
    // Between the block's top and the slab: walls over the block as well.
    let high = plan.layer_paths(layer_at(4.5), T);
    assert!(over_block(&high) > 0);
    let line = &plan.report().regions[0];
    assert!(line.on_part_fraction > 0.4 && line.on_part_fraction < 0.8);
    // Teeth where the walls stand on the block: the wall at x = 5 is broken up just above it.
    let foot = wall_pieces_at_x(&plan.layer_paths(layer_at(3.1), T), 5.0);
    let body = wall_pieces_at_x(&plan.layer_paths(layer_at(4.2), T), 5.0);
    assert_eq!(body.len(), 1);
    assert!(foot.len() > 5, "{foot:?}");
}

#[test]
fn bridge_underside_is_supported_down_to_the_plate() {
    let bridge = prism(
        &[
            [0.0, 0.0],
            [2.0, 0.0],
            [2.0, 6.0],
            [8.0, 6.0],
            [8.0, 0.0],
            [10.0, 0.0],
            [10.0, 8.0],
            [0.0, 8.0],
        ],
        5.0,
    );
    let plan = plan_supports(&bridge, &SupportOptions::default());
    assert_eq!(plan.report().regions_supported, 1);
    assert!((plan.report().supported_area_mm2 - 30.0).abs() < 1e-6);
    for z in [0.2, 3.0, 5.5] {
        let paths = plan.layer_paths(layer_at(z), T);
        assert!(!paths.is_empty(), "no wall at z = {z}");
        for p in &paths {
            for q in &p.points {
                assert!(q[0] > 2.0 && q[0] < 8.0, "wall outside the span at {q:?}");
            }
        }
    }
}

fn slab(angle_deg: f64) -> Mesh {
    let rise = 10.0 * angle_deg.to_radians().tan();
    prism(
        &[
            [0.0, 1.0],
            [10.0, 1.0 + rise],
            [10.0, 3.0 + rise],
            [0.0, 3.0],
        ],
        10.0,
    )
}

#[test]
fn slab_inclined_at_30_degrees_is_supported_and_at_60_degrees_is_not() {
    let plan = plan_supports(&slab(30.0), &SupportOptions::default());
    assert_eq!(plan.report().regions_supported, 1);
    assert!((plan.report().supported_area_mm2 - 100.0).abs() < 1e-6);
    // The part is put down on the plate (its low edge at z = 0), and the walls follow the
    // incline: at z = 3 they stand only where the underside is higher.
    assert_eq!(plan.part_z_shift_mm(), -1.0);
    let paths = plan.layer_paths(layer_at(3.0), T);
    let x_min = paths
        .iter()
        .flat_map(|p| p.points.iter().map(|q| q[0]))
        .fold(f64::INFINITY, f64::min);
    let x_reach = 3.0 / 30f64.to_radians().tan();
    let pitch = SupportOptions::default().teeth.pitch_mm;
    assert!(
        x_min > x_reach - 0.1 && x_min < x_reach + pitch,
        "x_min {x_min}"
    );
    assert!(wall_pieces_at_x(&paths, 5.0).is_empty());
    assert_eq!(wall_pieces_at_x(&paths, 6.0).len(), 1);
    let steep = plan_supports(&slab(60.0), &SupportOptions::default());
    assert_eq!(steep.report().regions_supported, 0);
    assert!(steep.regions().is_empty());
}

#[test]
fn every_support_vector_lies_under_an_overhang_region() {
    let mut mesh = t_shape();
    mesh.append(&slab(30.0).clone_translated(20.0));
    let plan = plan_supports(&mesh, &SupportOptions::default());
    assert_eq!(plan.report().regions_supported, 3);
    let mut checked = 0;
    for i in (0..350).step_by(7) {
        for p in plan.layer_paths(i, T) {
            let a = p.points[0];
            let b = p.points[p.points.len() - 1];
            let m = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
            for q in [a, m, b] {
                assert!(
                    plan.regions().iter().any(|r| point_in_footprint(r, q)),
                    "layer {i}: support point {q:?} under no overhang"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 1000);
}

trait Translated {
    fn clone_translated(&self, dx: f64) -> Mesh;
}

impl Translated for Mesh {
    fn clone_translated(&self, dx: f64) -> Mesh {
        let mut m = self.clone();
        m.translate(nalgebra::Vector3::new(dx, 0.0, 0.0));
        m
    }
}

#[test]
fn teeth_form_where_walls_meet_the_part() {
    let opts = SupportOptions::default();
    let plan = plan_supports(&t_shape(), &opts);
    let body = wall_pieces_at_x(&plan.layer_paths(layer_at(7.0), T), 1.0);
    assert_eq!(body.len(), 1, "solid wall below the teeth: {body:?}");
    let wall_len = body[0][1] - body[0][0];
    assert!(wall_len > 9.5);
    let z = (layer_at(7.9) as f64 + 0.5) * T;
    let teeth = wall_pieces_at_x(&plan.layer_paths(layer_at(7.9), T), 1.0);
    let expected = (wall_len / opts.teeth.pitch_mm).floor() as usize;
    assert!(
        teeth.len() >= expected,
        "{} teeth, expected {expected}",
        teeth.len()
    );
    // Each tooth at this depth is as wide as the trapezoid says, to a sample step either side.
    let tip = 8.0 + opts.teeth.penetration_mm;
    let f = (tip - z) / (opts.teeth.height_mm + opts.teeth.penetration_mm);
    let width = opts.teeth.top_width_mm + (opts.teeth.base_width_mm - opts.teeth.top_width_mm) * f;
    for t in &teeth[1..teeth.len() - 1] {
        let w = t[1] - t[0];
        assert!(
            (w - width).abs() <= opts.sample_step_mm + 1e-9,
            "tooth {w} vs {width}"
        );
    }
    // Teeth reach into the part by the penetration depth.
    assert!(!plan.layer_paths(layer_at(8.02), T).is_empty());
}

#[test]
fn perforations_cut_staggered_holes_in_tall_walls() {
    let opts = SupportOptions::default();
    let plan = plan_supports(&t_shape(), &opts);
    let hole_row = wall_pieces_at_x(&plan.layer_paths(layer_at(3.3), T), 1.0);
    let solid = wall_pieces_at_x(&plan.layer_paths(layer_at(4.0), T), 1.0);
    assert_eq!(solid.len(), 1);
    assert!(hole_row.len() >= 6, "{hole_row:?}");
    for gap in hole_row.windows(2).map(|w| w[1][0] - w[0][1]) {
        assert!((gap - opts.perforation.hole_width_mm).abs() <= opts.sample_step_mm + 1e-9);
    }
    // The next row is shifted by half a spacing.
    let next_row = wall_pieces_at_x(&plan.layer_paths(layer_at(4.8), T), 1.0);
    let first_gap = |pieces: &[[f64; 2]]| pieces[0][1];
    let shift = (first_gap(&next_row) - first_gap(&hole_row)).abs();
    assert!(
        (shift - 0.5 * opts.perforation.spacing_mm).abs() < 0.1,
        "rows shifted by {shift}"
    );
    // No holes at the foot or among the teeth.
    assert_eq!(wall_pieces_at_x(&plan.layer_paths(0, T), 1.0).len(), 1);
}

#[test]
fn lift_raises_the_part_onto_walls_under_its_base() {
    let mut cube = Mesh::axis_aligned_box([0.0, 0.0, 5.0], [10.0, 10.0, 15.0]);
    cube.translate(nalgebra::Vector3::new(0.0, 0.0, 0.0));
    let opts = SupportOptions {
        lift_mm: 2.0,
        ..SupportOptions::default()
    };
    let plan = plan_supports(&cube, &opts);
    assert_eq!(plan.lift_mm(), 2.0);
    assert_eq!(plan.part_z_shift_mm(), -3.0);
    assert_eq!(plan.report().regions_supported, 1);
    assert!((plan.report().supported_area_mm2 - 100.0).abs() < 1e-6);
    let low = plan.layer_paths(layer_at(1.0), T);
    assert!(total_length(&low) > 2.0 * 9.0 * 9.0);
    assert!(plan.layer_paths(layer_at(2.5), T).is_empty());
    assert!(plan.layer_paths(layer_at(12.0), T).is_empty());
    // Without the lift the same cube needs nothing.
    let flat = plan_supports(&cube, &SupportOptions::default());
    assert!(flat.regions().is_empty());
}

#[test]
fn region_below_the_minimum_area_is_left_unsupported_and_counted() {
    let opts = SupportOptions {
        min_overhang_area_mm2: 50.0,
        ..SupportOptions::default()
    };
    let plan = plan_supports(&t_shape(), &opts);
    assert_eq!(plan.report().regions_supported, 0);
    assert_eq!(plan.report().regions_below_min_area, 2);
    assert!((plan.report().area_below_min_mm2 - 80.0).abs() < 1e-6);
}

#[test]
fn a_region_too_narrow_for_walls_is_reported_and_the_others_are_supported() {
    let mut mesh = t_shape();
    mesh.append(&Mesh::axis_aligned_box(
        [20.0, 0.0, 5.0],
        [20.15, 10.0, 6.0],
    ));
    let plan = plan_supports(&mesh, &SupportOptions::default());
    let report = plan.report();
    assert_eq!(report.regions_supported, 2);
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    assert!(
        report.failed[0].reason.contains("xy offset"),
        "{}",
        report.failed[0].reason
    );
    assert!((report.failed[0].area_mm2 - 1.5).abs() < 1e-6);
}

#[test]
fn region_narrower_than_the_grid_gets_a_centre_wall() {
    // A 0.6 mm square pad floating between the grid lines, beside a block on the plate.
    let mut mesh = Mesh::axis_aligned_box([0.2, 1.2, 4.0], [0.8, 1.8, 5.0]);
    mesh.append(&Mesh::axis_aligned_box([5.0, 5.0, 0.0], [6.0, 6.0, 1.0]));
    let opts = SupportOptions {
        min_overhang_area_mm2: 0.1,
        ..SupportOptions::default()
    };
    let plan = plan_supports(&mesh, &opts);
    assert_eq!(
        plan.report().regions_supported,
        1,
        "{:?}",
        plan.report().failed
    );
    let paths = plan.layer_paths(layer_at(2.0), T);
    assert_eq!(paths.len(), 1);
    assert_eq!(paths[0].points, vec![[0.3, 1.5], [0.7, 1.5]]);
}

#[test]
fn invalid_options_give_an_empty_plan_that_says_why() {
    let opts = SupportOptions {
        grid_spacing_mm: f64::NAN,
        ..SupportOptions::default()
    };
    let plan = plan_supports(&t_shape(), &opts);
    assert!(plan.regions().is_empty());
    assert_eq!(plan.report().failed.len(), 1);
    assert_eq!(plan.report().failed[0].index, None);
    assert!(plan.report().failed[0].reason.contains("grid_spacing_mm"));
    assert!(matches!(
        try_plan_supports(&t_shape(), &opts),
        Err(SupportError::InvalidOption {
            name: "grid_spacing_mm",
            ..
        })
    ));
}

#[test]
fn triangle_with_a_missing_vertex_is_an_error_not_a_panic() {
    let mut mesh = t_shape();
    mesh.triangles.push([0, 1, 9999]);
    let err = try_plan_supports(&mesh, &SupportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("vertex 9999"), "{err}");
    let plan = plan_supports(&mesh, &SupportOptions::default());
    assert!(plan.regions().is_empty());
    assert_eq!(plan.report().failed.len(), 1);
}

#[test]
fn non_finite_vertices_are_skipped_without_panic() {
    let mut mesh = t_shape();
    mesh.append(&Mesh::axis_aligned_box([20.0, 0.0, 5.0], [22.0, 2.0, 6.0]));
    let last = mesh.vertices.len() - 1;
    mesh.vertices[last].x = f64::NAN;
    let plan = plan_supports(&mesh, &SupportOptions::default());
    assert!(plan.report().triangles_skipped > 0);
    assert!(plan.report().regions_supported >= 2);
}

#[test]
fn supports_are_identical_across_runs_and_thread_counts() {
    let mut mesh = t_shape();
    mesh.append(&slab(30.0).clone_translated(20.0));
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        pool.install(|| {
            let plan = plan_supports(&mesh, &SupportOptions::default());
            let layers: Vec<Vec<SupportPath>> = (0..300).map(|i| plan.layer_paths(i, T)).collect();
            (
                serde_json::to_string(plan.report()).expect("report json"),
                layers,
            )
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(2));
}

#[test]
fn walls_are_scanned_as_a_meander() {
    let plan = plan_supports(&t_shape(), &SupportOptions::default());
    let first = plan.layer_paths(0, T);
    // Along-y walls of the first arm at x = 1, 2, 3 alternate in direction.
    let dirs: Vec<f64> = first
        .iter()
        .filter(|p| p.points[0][0] == p.points[1][0])
        .take(3)
        .map(|p| p.points[1][1] - p.points[0][1])
        .collect();
    assert_eq!(dirs.len(), 3);
    assert!(dirs[0] > 0.0 && dirs[1] < 0.0 && dirs[2] > 0.0, "{dirs:?}");
}

#[test]
fn options_round_trip_through_toml_with_defaults_filled_in() {
    let opts: SupportOptions =
        toml::from_str("grid_spacing_mm = 2.0\n[teeth]\nheight_mm = 0.3\n").expect("parse");
    assert_eq!(opts.grid_spacing_mm, 2.0);
    assert_eq!(opts.teeth.height_mm, 0.3);
    assert_eq!(opts.critical_angle_deg, 45.0);
    assert!(toml::from_str::<SupportOptions>("grid_spacin = 2.0").is_err());
}
