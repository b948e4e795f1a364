//! Block supports on real parts of the corpus: the inclined pyramid, the America Makes coin and
//! the NIST test artifact.

use meltline_core::io::{ReadOptions, read_mesh};
use meltline_core::mesh::Mesh;
use meltline_slicer::support::{SupportOptions, SupportPlan, plan_supports};
use meltline_tests::corpus_file;
use nalgebra::{Isometry3, Vector3};

const T: f64 = 0.03;

fn corpus_mesh(rel: &str) -> Option<Mesh> {
    let path = corpus_file(rel)?;
    Some(read_mesh(&path, &ReadOptions::default()).unwrap_or_else(|e| panic!("{rel}: {e}")))
}

/// Heights where the vertical line through `(x, y)` crosses the mesh surface.
fn vertical_crossings(mesh: &Mesh, x: f64, y: f64) -> Vec<f64> {
    let mut hits = Vec::new();
    for t in 0..mesh.triangles.len() {
        let [a, b, c] = mesh.corners(t);
        let d = (b.x - a.x) * (c.y - a.y) - (c.x - a.x) * (b.y - a.y);
        if d.abs() < 1e-15 {
            continue;
        }
        let l1 = ((x - a.x) * (c.y - a.y) - (c.x - a.x) * (y - a.y)) / d;
        let l2 = ((b.x - a.x) * (y - a.y) - (x - a.x) * (b.y - a.y)) / d;
        let l0 = 1.0 - l1 - l2;
        if l0 >= 0.0 && l1 >= 0.0 && l2 >= 0.0 {
            hits.push(l0 * a.z + l1 * b.z + l2 * c.z);
        }
    }
    hits
}

/// Checks that in the sampled layers every `stride`-th support path lies under an overhang
/// region and never deeper inside the (placed) part than the teeth penetrate; returns the
/// number of paths checked.
fn check_paths(
    mesh: &Mesh,
    plan: &SupportPlan,
    layers: impl Iterator<Item = usize>,
    stride: usize,
) -> usize {
    let mut placed = mesh.clone();
    placed.translate(Vector3::new(0.0, 0.0, plan.part_z_shift_mm()));
    let depth_allowed = SupportOptions::default().teeth.penetration_mm + 1e-3;
    let mut checked = 0;
    for i in layers {
        let z = (i as f64 + 0.5) * T;
        for p in plan.layer_paths(i, T).iter().step_by(stride) {
            let (a, b) = (p.points[0], p.points[p.points.len() - 1]);
            // A third of the way along, nudged off the grid line so that the vertical through it
            // does not run exactly along the part's axis-aligned edges.
            let q = [
                a[0] + (b[0] - a[0]) / 3.0 + 1.37e-4,
                a[1] + (b[1] - a[1]) / 3.0 + 2.71e-4,
            ];
            let under = plan.regions().iter().any(|r| {
                r.footprint_mm().iter().any(|shape| {
                    shape.iter().fold(false, |inside, c| {
                        let mut inside = inside;
                        for k in 0..c.len() {
                            let (u, v) = (c[k], c[(k + 1) % c.len()]);
                            if (u[1] > q[1]) != (v[1] > q[1])
                                && q[0] < u[0] + (q[1] - u[1]) / (v[1] - u[1]) * (v[0] - u[0])
                            {
                                inside = !inside;
                            }
                        }
                        inside
                    })
                })
            });
            assert!(
                under,
                "layer {i}: support point {q:?} under no overhang region"
            );
            let hits = vertical_crossings(&placed, q[0], q[1]);
            let above = hits.iter().filter(|&&h| h > z).count();
            let depth = hits
                .iter()
                .map(|h| (h - z).abs())
                .fold(f64::INFINITY, f64::min);
            assert!(
                above % 2 == 0 || depth <= depth_allowed,
                "layer {i}: support point {q:?} at z = {z} is {depth} mm inside the part"
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn inclined_pyramid_stands_on_the_plate_unsupported_and_on_walls_when_lifted() {
    let Some(pyramid) = corpus_mesh("parts/inclined_pyramid.stl") else {
        return;
    };
    let plan = plan_supports(&pyramid, &SupportOptions::default());
    assert_eq!(plan.report().regions_supported, 0, "its faces lean at ~67°");
    assert!(plan.report().failed.is_empty());

    let lifted = plan_supports(
        &pyramid,
        &SupportOptions {
            lift_mm: 3.0,
            ..SupportOptions::default()
        },
    );
    let report = lifted.report();
    assert_eq!(report.regions_supported, 1);
    assert!((report.supported_area_mm2 - 900.0).abs() < 1e-3);
    assert!(!lifted.layer_paths(50, T).is_empty());
    assert!(
        lifted.layer_paths(110, T).is_empty(),
        "walls inside the raised part"
    );
    assert!(check_paths(&pyramid, &lifted, (0..100).step_by(9), 1) > 100);
}

#[test]
fn inclined_pyramid_tilted_50_degrees_is_supported_under_its_leaning_face() {
    let Some(mut pyramid) = corpus_mesh("parts/inclined_pyramid.stl") else {
        return;
    };
    pyramid.transform_isometry(&Isometry3::rotation(Vector3::x() * 50f64.to_radians()));
    let plan = plan_supports(&pyramid, &SupportOptions::default());
    let report = plan.report();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.regions_supported, 1, "{report:?}");
    assert!(report.regions[0].walls > 10);
    let top = plan.max_z_mm();
    let layers = (top / T) as usize;
    assert!(check_paths(&pyramid, &plan, (0..layers).step_by(37), 1) > 200);
}

#[test]
fn am_coin_overhangs_are_supported_without_failures() {
    let Some(coin) = corpus_mesh("parts/AMcoin.stl") else {
        return;
    };
    let plan = plan_supports(&coin, &SupportOptions::default());
    let report = plan.report();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(report.regions_supported >= 1);
    assert!(report.supported_area_mm2 > 100.0);
    assert!(plan.max_z_mm() > 0.5);
    let layers = (plan.max_z_mm() / T) as usize + 1;
    assert!(check_paths(&coin, &plan, (0..layers).step_by(5), 7) > 150);
    // The report is what the job log records.
    let json = serde_json::to_string(report).expect("report serialises");
    assert!(json.contains("regions_supported"));
}

#[test]
fn nist_artifact_overhangs_are_supported_on_the_part_below() {
    let Some(nist) = corpus_mesh("parts/NIST_Test_Artifact_ver3b.stl") else {
        return;
    };
    let plan = plan_supports(&nist, &SupportOptions::default());
    let report = plan.report();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(report.regions_supported >= 4);
    // The artifact's overhangs sit over its own base plate: walls stand on the part.
    assert!(report.regions.iter().all(|r| r.on_part_fraction > 0.9));
    let layers = (plan.max_z_mm() / T) as usize + 1;
    assert!(check_paths(&nist, &plan, (0..layers).step_by(11), 1) > 200);
}
