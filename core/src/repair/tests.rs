use nalgebra::{Point3, Vector3};

use super::*;
use crate::check::solids;

fn repair(m: &Mesh) -> Result<(Mesh, RepairReport), RepairError> {
    repair_mesh(m, &RepairOptions::default())
}

fn printable(m: &Mesh) -> bool {
    check_mesh(m, &CheckOptions::default()).printable
}

fn cube() -> Mesh {
    Mesh::axis_aligned_box([0.0; 3], [10.0; 3])
}

#[test]
fn printable_mesh_is_returned_unchanged() {
    let t = solids::torus(10.0, 3.0, 24, 12);
    let (out, report) = repair(&t).unwrap();
    assert!(report.unchanged);
    assert_eq!(out, t);
}

#[test]
fn missing_face_is_filled_and_volume_restored() {
    let mut m = cube();
    m.triangles.drain(4..6);
    let (out, report) = repair(&m).unwrap();
    assert_eq!(report.filled_holes.len(), 1);
    assert_eq!(report.filled_holes[0].edges, 4);
    assert!(printable(&out));
    assert!((out.signed_volume() - 1000.0).abs() < 1e-9);
}

#[test]
fn flipped_face_is_turned_back() {
    let mut m = cube();
    m.triangles[3].swap(0, 2);
    let (out, report) = repair(&m).unwrap();
    assert_eq!(report.flipped_triangles, 1);
    assert_eq!(out.triangles.len(), 12);
    assert!(printable(&out));
}

#[test]
fn inside_out_shell_is_turned_right_way() {
    let mut m = cube();
    m.flip_all();
    let (out, report) = repair(&m).unwrap();
    assert_eq!(report.flipped_shells, 1);
    assert!((out.signed_volume() - 1000.0).abs() < 1e-9);
}

#[test]
fn near_coincident_vertices_are_welded_and_duplicates_dropped() {
    let mut m = cube();
    // Split vertex 7 into a copy 1e-7 mm away used by one triangle, and repeat a triangle.
    m.vertices
        .push(m.vertices[7] + Vector3::new(1e-7, 0.0, 0.0));
    m.triangles[3] = [5, 8, 6];
    m.triangles.push(m.triangles[0]);
    assert!(!printable(&m));
    let (out, report) = repair(&m).unwrap();
    assert_eq!(report.welded_vertices, 1);
    assert_eq!(report.removed_duplicate, 1);
    assert!(printable(&out));
    assert_eq!(out.vertices.len(), 8);
}

#[test]
fn stray_plane_beside_a_solid_is_removed() {
    let mut m = cube();
    let p = Point3::new;
    m.append(&Mesh::from_soup([
        [p(20.0, 0.0, 0.0), p(60.0, 0.0, 0.0), p(60.0, 40.0, 0.0)],
        [p(20.0, 0.0, 0.0), p(60.0, 40.0, 0.0), p(20.0, 40.0, 0.0)],
    ]));
    let (out, report) = repair(&m).unwrap();
    assert_eq!(report.removed_shells.len(), 1);
    assert_eq!(report.removed_shells[0].reason, "stray_surface");
    assert_eq!(out.triangles.len(), 12);
}

#[test]
fn tiny_sliver_shell_is_removed() {
    let mut m = cube();
    m.append(&Mesh::axis_aligned_box([20.0; 3], [20.05; 3]));
    let (out, report) = repair(&m).unwrap();
    // A printable input is left alone: slivers are only removed while repairing.
    assert!(report.unchanged);
    assert_eq!(out.triangles.len(), 24);
    m.triangles[0].swap(1, 2);
    let (out, report) = repair(&m).unwrap();
    assert_eq!(report.removed_shells[0].reason, "sliver");
    assert_eq!(out.triangles.len(), 12);
}

#[test]
fn overlapping_cubes_are_refused() {
    let mut m = cube();
    m.append(&Mesh::axis_aligned_box([5.0; 3], [15.0; 3]));
    m.triangles.pop();
    let err = repair(&m).unwrap_err();
    assert!(matches!(err, RepairError::SelfIntersecting { .. }), "{err}");
    assert!(err.to_string().contains("cross"));
}

#[test]
fn non_manifold_fin_is_refused() {
    let mut m = cube();
    m.vertices.push(Point3::new(-5.0, -5.0, 5.0));
    m.triangles.push([0, 1, 8]);
    assert!(matches!(repair(&m), Err(RepairError::NonManifold { .. })));
}

#[test]
fn lone_open_surface_is_refused_with_the_hole_named() {
    let p = Point3::new;
    let plane = Mesh::from_soup([
        [p(0.0, 0.0, 0.0), p(40.0, 0.0, 0.0), p(40.0, 40.0, 0.0)],
        [p(0.0, 0.0, 0.0), p(40.0, 40.0, 0.0), p(0.0, 40.0, 0.0)],
    ]);
    let err = repair(&plane).unwrap_err();
    assert!(matches!(err, RepairError::HoleNotFillable { .. }), "{err}");
}

#[test]
fn torus_with_missing_quad_is_filled_to_genus_one() {
    let mut t = solids::torus(10.0, 3.0, 24, 12);
    t.triangles.drain(30..32);
    let (out, report) = repair(&t).unwrap();
    assert_eq!(report.filled_holes.len(), 1);
    assert_eq!(check_mesh(&out, &CheckOptions::default()).genus, Some(1));
}

#[test]
fn out_of_range_index_is_refused() {
    let mut m = cube();
    m.triangles[4][2] = 1234;
    assert!(matches!(
        repair(&m),
        Err(RepairError::InvalidIndices {
            count: 1,
            triangle: 4
        })
    ));
}

#[test]
fn non_finite_vertex_is_refused() {
    let mut m = cube();
    m.vertices[3].x = f64::INFINITY;
    assert!(matches!(
        repair(&m),
        Err(RepairError::NonFinite {
            count: 1,
            vertex: 3
        })
    ));
}

#[test]
fn all_degenerate_mesh_is_refused_as_empty() {
    let mut m = cube();
    m.vertices.iter_mut().for_each(|p| *p = Point3::origin());
    assert_eq!(repair(&m).unwrap_err(), RepairError::Empty);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// A torus with some triangles removed, flipped or repeated.
    fn damaged() -> impl Strategy<Value = Mesh> {
        (
            prop::collection::vec(0usize..400, 0..3),
            prop::collection::vec(0usize..400, 0..3),
            prop::collection::vec(0usize..400, 0..2),
            any::<bool>(),
        )
            .prop_map(|(remove, flip, repeat, inside_out)| {
                let mut m = solids::torus(10.0, 3.0, 20, 10);
                if inside_out {
                    m.flip_all();
                }
                for t in flip {
                    m.triangles[t].swap(0, 1);
                }
                for t in repeat {
                    m.triangles.push(m.triangles[t]);
                }
                let mut remove = remove;
                remove.sort_unstable();
                remove.dedup();
                for t in remove.into_iter().rev() {
                    m.triangles.remove(t);
                }
                m
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn repair_is_idempotent_and_its_output_is_printable(m in damaged()) {
            if let Ok((fixed, _)) = repair(&m) {
                prop_assert!(printable(&fixed));
                let (again, report) = repair(&fixed).expect("a printable mesh repairs");
                prop_assert!(report.unchanged);
                prop_assert_eq!(again, fixed);
            }
        }
    }
}
