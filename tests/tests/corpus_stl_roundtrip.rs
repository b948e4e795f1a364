//! Writing a mesh to STL and reading it back keeps it: same vertices, same triangles, same
//! check verdict — for binary and ASCII, for generated solids under random rigid motions and
//! for the corpus parts.

use meltline_core::check::{CheckOptions, check_mesh, solids};
use meltline_core::io::{ReadOptions, StlFormat, read_mesh, read_mesh_bytes, stl_bytes};
use meltline_core::mesh::Mesh;
use meltline_tests::corpus_file;
use nalgebra::{Isometry3, Point3, Vector3};
use proptest::prelude::*;

/// The mesh as an STL can hold it: f32 coordinates, vertices in order of first use.
fn stl_exact(m: &Mesh) -> Mesh {
    let f = |p: Point3<f64>| Point3::new(p.x as f32 as f64, p.y as f32 as f64, p.z as f32 as f64);
    Mesh::from_soup((0..m.triangles.len()).map(|t| m.corners(t).map(f)))
}

fn round_trip(m: &Mesh, format: StlFormat) -> Mesh {
    read_mesh_bytes(&stl_bytes(m, format), None, &ReadOptions::default()).expect("reads back")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn stl_write_then_read_keeps_the_mesh(
        t in prop::array::uniform3(-200.0..200.0f64),
        r in prop::array::uniform3(-3.2..3.2f64),
        ascii in any::<bool>(),
    ) {
        let mut m = solids::torus(12.0, 4.0, 24, 12);
        m.append(&Mesh::axis_aligned_box([30.0; 3], [35.0; 3]));
        m.transform_isometry(&Isometry3::new(Vector3::from(t), Vector3::from(r)));
        let m = stl_exact(&m);
        let format = if ascii { StlFormat::Ascii } else { StlFormat::Binary };
        let back = round_trip(&m, format);
        prop_assert_eq!(&back, &m);
        let opts = CheckOptions::default();
        prop_assert_eq!(check_mesh(&back, &opts).printable, check_mesh(&m, &opts).printable);
    }
}

#[test]
fn corpus_part_survives_binary_stl_round_trip() {
    let Some(path) = corpus_file("parts/NIST_Test_Artifact_ver3b.stl") else {
        return;
    };
    let m = read_mesh(&path, &ReadOptions::default()).expect("reads");
    assert_eq!(round_trip(&m, StlFormat::Binary), m);
}
