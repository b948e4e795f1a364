use nalgebra::Point3;

use super::*;

fn check(m: &Mesh) -> CheckReport {
    check_mesh(m, &CheckOptions::default())
}

fn kinds(r: &CheckReport) -> Vec<DefectKind> {
    r.defects.iter().map(|d| d.kind).collect()
}

fn unit_cube_at(x: f64, y: f64, z: f64) -> Mesh {
    Mesh::axis_aligned_box([x, y, z], [x + 1.0, y + 1.0, z + 1.0])
}

#[test]
fn closed_cube_is_printable_with_genus_zero() {
    let r = check(&Mesh::axis_aligned_box([0.0; 3], [10.0, 20.0, 30.0]));
    assert!(r.printable, "{}", r.summary());
    assert_eq!((r.triangles, r.vertices, r.shells), (12, 8, 1));
    assert_eq!(r.volume_mm3, 6000.0);
    assert_eq!(r.genus, Some(0));
    assert_eq!(r.self_intersections, Some(0));
    assert_eq!(r.bbox_mm, [[0.0; 3], [10.0, 20.0, 30.0]]);
}

#[test]
fn cube_with_a_face_removed_has_four_boundary_edges() {
    let mut m = unit_cube_at(0.0, 0.0, 0.0);
    m.triangles.drain(2..4);
    let r = check(&m);
    assert!(!r.printable);
    assert_eq!(r.boundary_edges, 4);
    assert_eq!(kinds(&r), vec![DefectKind::BoundaryEdges]);
    assert_eq!(r.shells_detail[0].genus, None);
    assert!(!r.shells_detail[0].closed);
}

#[test]
fn flipped_face_makes_three_inconsistent_edges() {
    let mut m = unit_cube_at(0.0, 0.0, 0.0);
    m.triangles[5].swap(0, 1);
    let r = check(&m);
    assert_eq!(r.inconsistent_edges, 3);
    assert_eq!(kinds(&r), vec![DefectKind::InconsistentEdges]);
    let ex = &r.defect(DefectKind::InconsistentEdges).unwrap().examples[0];
    assert!(ex.triangles.contains(&5));
}

#[test]
fn cube_turned_inside_out_is_an_inverted_shell() {
    let mut m = unit_cube_at(0.0, 0.0, 0.0);
    m.flip_all();
    let r = check(&m);
    assert_eq!(r.inverted_shells, 1);
    assert_eq!(kinds(&r), vec![DefectKind::InvertedShells]);
}

#[test]
fn inward_facing_void_inside_a_cube_is_printable() {
    let mut m = Mesh::axis_aligned_box([0.0; 3], [10.0; 3]);
    let mut void = Mesh::axis_aligned_box([4.0; 3], [6.0; 3]);
    void.flip_all();
    m.append(&void);
    let r = check(&m);
    assert!(r.printable, "{}", r.summary());
    assert!(r.shells_detail[1].nested);
    assert_eq!(r.volume_mm3, 992.0);
    // The same void wound outwards is inverted.
    m.triangles[12..].iter_mut().for_each(|t| t.swap(1, 2));
    assert_eq!(check(&m).inverted_shells, 1);
}

#[test]
fn overlapping_cubes_self_intersect() {
    let mut m = unit_cube_at(0.0, 0.0, 0.0);
    m.append(&unit_cube_at(0.5, 0.5, 0.5));
    let r = check(&m);
    assert!(r.self_intersections.unwrap() > 0);
    assert_eq!(kinds(&r), vec![DefectKind::SelfIntersections]);
    let ex = &r.defect(DefectKind::SelfIntersections).unwrap().examples[0];
    assert!(ex.triangles[0] < 12 && ex.triangles[1] >= 12);
}

#[test]
fn cubes_touching_along_an_edge_or_corner_do_not_intersect() {
    let mut m = unit_cube_at(0.0, 0.0, 0.0);
    m.append(&unit_cube_at(1.0, 1.0, 0.0));
    m.append(&unit_cube_at(2.0, 2.0, 1.0));
    let r = check(&m);
    assert!(r.printable, "{}", r.summary());
    assert_eq!(r.shells, 3);
}

#[test]
fn cubes_sharing_a_face_area_overlap_coplanar() {
    let mut m = unit_cube_at(0.0, 0.0, 0.0);
    m.append(&unit_cube_at(1.0, 0.25, 0.25));
    let r = check(&m);
    // Zero-thickness contact: found, reported as a warning, not a defect.
    assert!(r.shallow_self_intersections.unwrap() > 0, "{}", r.summary());
    assert_eq!(r.self_intersections, Some(0));
    assert_eq!(r.warnings[0].kind, DefectKind::ShallowSelfIntersections);
}

#[test]
fn crossing_deeper_than_tolerance_is_a_defect_shallower_a_warning() {
    // Two finely faceted tori whose outer rims overlap by 0.02 mm.
    let mut m = solids::torus(10.0, 3.0, 160, 80);
    let mut other = solids::torus(10.0, 3.0, 160, 80);
    other.translate(nalgebra::Vector3::new(26.0 - 0.02, 0.0, 0.0));
    m.append(&other);
    let r = check(&m);
    assert!(r.printable, "{}", r.summary());
    assert!(r.shallow_self_intersections.unwrap() > 0);
    assert!(r.max_crossing_depth_mm > 0.0 && r.max_crossing_depth_mm < 0.03);
    let strict = CheckOptions {
        crossing_tolerance_mm: 0.0,
        ..CheckOptions::default()
    };
    let r = check_mesh(&m, &strict);
    assert!(!r.printable && r.self_intersections.unwrap() > 0);
}

#[test]
fn part_larger_than_the_build_volume_is_named() {
    let m = Mesh::axis_aligned_box([0.0; 3], [10.0, 1000.0, 10.0]);
    let opts = CheckOptions {
        build_volume_mm: Some([250.0, 250.0, 325.0]),
        ..CheckOptions::default()
    };
    let r = check_mesh(&m, &opts);
    assert_eq!(kinds(&r), vec![DefectKind::ExceedsBuildVolume]);
    assert!(check(&m).printable);
}

#[test]
fn fin_on_an_edge_is_non_manifold() {
    let mut m = unit_cube_at(0.0, 0.0, 0.0);
    m.vertices.push(Point3::new(-1.0, -1.0, 0.5));
    // Edge 0–1 (y = 0, z = 0) gets a third triangle.
    m.triangles.push([0, 1, 8]);
    let r = check(&m);
    assert_eq!(r.non_manifold_edges, 1);
    assert!(kinds(&r).contains(&DefectKind::NonManifoldEdges));
    assert!(!r.printable);
}

#[test]
fn torus_and_square_frame_have_genus_one() {
    let t = solids::torus(10.0, 3.0, 24, 12);
    let r = check(&t);
    assert!(r.printable, "{}", r.summary());
    assert_eq!(r.genus, Some(1));
    let f = solids::square_frame(3.0, 1.0, 2.0, 1.0);
    let r = check(&f);
    assert!(r.printable, "{}", r.summary());
    assert_eq!(r.genus, Some(1));
    assert!((r.volume_mm3 - 8.0).abs() < 1e-12);
}

#[test]
fn two_tori_genus_adds_up() {
    let mut m = solids::torus(10.0, 3.0, 16, 8);
    let mut other = solids::torus(10.0, 3.0, 16, 8);
    other.translate(nalgebra::Vector3::new(40.0, 0.0, 0.0));
    m.append(&other);
    assert_eq!(check(&m).genus, Some(2));
}

#[test]
fn degenerate_and_duplicate_triangles_are_named() {
    let mut m = unit_cube_at(0.0, 0.0, 0.0);
    m.triangles.push(m.triangles[0]);
    let r = check(&m);
    assert_eq!(r.duplicate_triangles, 1);
    assert!(kinds(&r).contains(&DefectKind::DuplicateTriangles));
    let mut m = unit_cube_at(0.0, 0.0, 0.0);
    m.vertices.push(Point3::new(0.5, 0.0, 0.0)); // on edge 0–1
    m.triangles.push([0, 8, 1]);
    m.triangles.push([1, 1, 2]);
    let r = check(&m);
    assert_eq!(r.degenerate_triangles, 2);
}

#[test]
fn non_finite_vertex_is_reported_without_panic() {
    let mut m = unit_cube_at(0.0, 0.0, 0.0);
    m.vertices[7] = Point3::new(f64::NAN, 1.0, 1.0);
    let r = check(&m);
    assert_eq!(r.non_finite_vertices, 1);
    assert!(!r.printable);
}

#[test]
fn triangle_indexing_past_the_vertices_is_reported_without_panic() {
    let mut m = unit_cube_at(0.0, 0.0, 0.0);
    m.triangles.push([0, 1, 99]);
    let r = check(&m);
    assert_eq!(kinds(&r), vec![DefectKind::InvalidIndices]);
    assert_eq!(r.defects[0].examples[0].triangles, vec![12]);
}

#[test]
fn empty_mesh_is_not_printable() {
    let r = check(&Mesh::default());
    assert_eq!(kinds(&r), vec![DefectKind::NoTriangles]);
    assert_eq!(r.shells, 0);
}

#[test]
fn report_is_identical_across_thread_counts() {
    let mut m = solids::torus(10.0, 3.0, 40, 20);
    m.append(&unit_cube_at(8.0, 0.0, 0.0));
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| serde_json::to_string(&check(&m)).unwrap())
    };
    assert_eq!(run(1), run(3));
}

mod properties {
    use nalgebra::{Isometry3, Vector3};
    use proptest::prelude::*;

    use super::*;

    fn rigid() -> impl Strategy<Value = Isometry3<f64>> {
        (
            prop::array::uniform3(-500.0..500.0f64),
            prop::array::uniform3(-3.2..3.2f64),
        )
            .prop_map(|(t, r)| Isometry3::new(Vector3::from(t), Vector3::from(r)))
    }

    fn samples() -> Vec<Mesh> {
        let mut open = unit_cube_at(0.0, 0.0, 0.0);
        open.triangles.pop();
        let mut overlap = unit_cube_at(0.0, 0.0, 0.0);
        overlap.append(&unit_cube_at(0.5, 0.5, 0.5));
        let mut apart = solids::torus(10.0, 3.0, 20, 10);
        apart.append(&unit_cube_at(30.0, 0.0, 0.0));
        vec![
            solids::square_frame(3.0, 1.0, 2.0, 1.0),
            open,
            overlap,
            apart,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn rigid_motion_keeps_volume_shells_and_verdict(iso in rigid()) {
            for m in samples() {
                let before = check(&m);
                let mut moved = m.clone();
                moved.transform_isometry(&iso);
                let after = check(&moved);
                prop_assert!((after.volume_mm3 - before.volume_mm3).abs() <= 1e-9 * before.volume_mm3.abs().max(1.0));
                prop_assert_eq!(after.shells, before.shells);
                prop_assert_eq!(after.printable, before.printable);
                prop_assert_eq!(kinds(&after), kinds(&before));
                prop_assert_eq!(after.genus, before.genus);
            }
        }
    }
}
