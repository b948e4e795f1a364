//! Mesh input and output: round trips, every format from small inline samples, units, and
//! the errors a manufacturing engineer meets (empty, text, random, truncated, bad facets).

use meltline_core::Mesh;
use meltline_core::io::{
    MeshFormat, ReadError, ReadOptions, StlFormat, Units, read_mesh, read_mesh_bytes, stl_bytes,
    write_stl,
};
use nalgebra::Point3;
use proptest::prelude::*;

fn read(bytes: &[u8]) -> Result<Mesh, ReadError> {
    read_mesh_bytes(bytes, None, &ReadOptions::default())
}

fn read_as(bytes: &[u8], hint: MeshFormat) -> Result<Mesh, ReadError> {
    read_mesh_bytes(bytes, Some(hint), &ReadOptions::default())
}

/// The form a reader produces: vertices welded and numbered in order of first use.
fn canonical(mesh: &Mesh) -> Mesh {
    Mesh::from_soup((0..mesh.triangles.len()).map(|t| mesh.corners(t)))
}

fn random_mesh(coord: impl Strategy<Value = f64> + Clone) -> impl Strategy<Value = Mesh> {
    let point = (coord.clone(), coord.clone(), coord).prop_map(|(x, y, z)| Point3::new(x, y, z));
    prop::collection::vec(point, 3..40).prop_flat_map(|vertices| {
        let n = vertices.len() as u32;
        prop::collection::vec([0..n, 0..n, 0..n], 1..60).prop_map(move |triangles| {
            canonical(&Mesh {
                vertices: vertices.clone(),
                triangles,
            })
        })
    })
}

proptest! {
    #[test]
    fn binary_stl_round_trip_keeps_f32_meshes_exactly(
        mesh in random_mesh((-1000.0f32..1000.0).prop_map(f64::from))
    ) {
        let bytes = stl_bytes(&mesh, StlFormat::Binary);
        prop_assert_eq!(bytes.len(), 84 + 50 * mesh.triangles.len());
        prop_assert_eq!(read(&bytes).unwrap(), mesh);
    }

    #[test]
    fn ascii_stl_round_trip_keeps_f64_meshes_exactly(
        mesh in random_mesh(
            prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO
        )
    ) {
        let bytes = stl_bytes(&mesh, StlFormat::Ascii);
        prop_assert_eq!(read(&bytes).unwrap(), mesh);
    }

    #[test]
    fn random_bytes_never_panic_any_reader(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        hint in prop::option::of(prop::sample::select(vec![
            MeshFormat::Stl, MeshFormat::Obj, MeshFormat::Ply, MeshFormat::ThreeMf,
        ])),
    ) {
        let _ = read_mesh_bytes(&bytes, hint, &ReadOptions::default());
    }

    #[test]
    fn random_payloads_behind_valid_headers_never_panic(
        payload in prop::collection::vec(any::<u8>(), 0..600),
        which in 0usize..4,
    ) {
        let header: &[u8] = match which {
            0 => b"ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 2\nproperty list uchar int vertex_indices\nend_header\n",
            1 => b"ply\nformat binary_big_endian 1.0\nelement vertex 4000000000\nproperty double x\nproperty double y\nproperty double z\nelement face 1\nproperty list uint uint vertex_indices\nend_header\n",
            2 => b"PK\x03\x04",
            _ => b"solid fuzz\nfacet normal 0 0 1\nouter loop\nvertex ",
        };
        let bytes = [header, &payload].concat();
        let _ = read(&bytes);
    }

    #[test]
    fn truncated_and_corrupted_files_never_panic(
        cut in 0usize..1500,
        flip in 0usize..1500,
        which in 0usize..4,
    ) {
        let cube = Mesh::axis_aligned_box([0.0; 3], [1.0, 2.0, 3.0]);
        let mut bytes = match which {
            0 => stl_bytes(&cube, StlFormat::Binary),
            1 => stl_bytes(&cube, StlFormat::Ascii),
            2 => PLY_ASCII.as_bytes().to_vec(),
            _ => OBJ.as_bytes().to_vec(),
        };
        if let Some(b) = bytes.get_mut(flip) {
            *b ^= 0x5a;
        }
        bytes.truncate(cut);
        let _ = read(&bytes);
    }
}

#[test]
fn binary_stl_starting_with_solid_is_read_as_binary() {
    let cube = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
    let mut bytes = stl_bytes(&cube, StlFormat::Binary);
    bytes[..22].copy_from_slice(b"solid exported by CAD ");
    assert_eq!(read(&bytes).unwrap(), canonical(&cube));
}

#[test]
fn binary_stl_cut_short_says_truncated_with_sizes() {
    let cube = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
    let bytes = stl_bytes(&cube, StlFormat::Binary);
    let err = read(&bytes[..400]).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ReadError::TruncatedBinaryStl { triangles: 12, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("684 bytes") && msg.contains("400 bytes"),
        "{msg}"
    );
}

#[test]
fn empty_text_and_random_bytes_are_not_meshes() {
    assert!(matches!(read(b""), Err(ReadError::Empty)));
    let text = read_as(b"De aap is in de mouw gelogeerd.\n", MeshFormat::Stl).unwrap_err();
    assert!(matches!(text, ReadError::NotAMesh { .. }), "{text}");
    assert!(text.to_string().contains("plain text"), "{text}");
    // Deterministic pseudo-random bytes (xorshift), as a corrupted download would be.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let err = read_as(&random, MeshFormat::Stl).unwrap_err();
    assert!(matches!(err, ReadError::NotAMesh { .. }), "{err}");
    assert!(err.to_string().contains("binary data"), "{err}");
}

#[test]
fn ascii_stl_with_four_vertex_facet_names_its_line() {
    let text = "solid CubeAndPlane\n  facet normal 1 0 0\n    outer loop\n      vertex 10 20 0\n      vertex 10 20 10\n      vertex 10 10 10\n      vertex 10 10 0\n  endfacet\nendsolid CubeAndPlane\n";
    let err = read(text.as_bytes()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ReadError::AsciiStl { line: 7, .. }), "{msg}");
    assert!(msg.contains("line 7") && msg.contains("fourth"), "{msg}");
}

#[test]
fn ascii_stl_with_latin1_name_is_still_ascii() {
    let mut bytes = b"solid W\xfcrfel\n".to_vec();
    bytes.extend_from_slice(
        b"facet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\n",
    );
    bytes.extend_from_slice(&[b' '; 100]);
    bytes.extend_from_slice(b"\nendsolid W\xfcrfel\n");
    assert_eq!(read(&bytes).unwrap().triangles.len(), 1);
}

#[test]
fn degenerate_facets_are_kept_for_the_check_to_report() {
    let text = "solid line\nfacet\nouter loop\nvertex 0 0 0\nvertex 0 0 40\nvertex 0 0 0\nendloop\nendfacet\nendsolid\n";
    let mesh = read(text.as_bytes()).unwrap();
    assert_eq!(mesh.triangles, vec![[0, 1, 0]]);
}

#[test]
fn metres_are_scaled_to_millimetres() {
    let cube = Mesh::axis_aligned_box([0.0; 3], [0.01, 0.02, 0.03]);
    let bytes = stl_bytes(&cube, StlFormat::Ascii);
    let mesh = read_mesh_bytes(&bytes, None, &ReadOptions::with_units(Units::M)).unwrap();
    let size = mesh.bbox().size();
    for (got, want) in size.iter().zip([10.0, 20.0, 30.0]) {
        assert!((got - want).abs() < 1e-12, "{size:?}");
    }
    let inch = read_mesh_bytes(&bytes, None, &ReadOptions::with_units(Units::In)).unwrap();
    assert!((inch.bbox().size()[0] - 0.254).abs() < 1e-12);
}

#[test]
fn units_parse_from_their_names() {
    assert_eq!("mm".parse::<Units>().unwrap(), Units::Mm);
    assert_eq!("M".parse::<Units>().unwrap(), Units::M);
    assert_eq!("in".parse::<Units>().unwrap(), Units::In);
    assert!("furlong".parse::<Units>().is_err());
    assert_eq!(Units::In.to_mm(), 25.4);
}

const OBJ: &str = "\
# two objects: a quad and a triangle sharing an edge
o quad
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
vn 0 0 1
f 1//1 2//1 3//1 4//1
o roof
v 0.5 0.5 1
f -4 -3 -1
";

#[test]
fn obj_quads_are_triangulated_and_objects_merged_and_welded() {
    let mesh = read_as(OBJ.as_bytes(), MeshFormat::Obj).unwrap();
    assert_eq!(mesh.triangles.len(), 3);
    assert_eq!(mesh.vertices.len(), 5);
    assert!((mesh.area() - (1.0 + 0.5 * (0.5f64.powi(2) + 1.0).sqrt())).abs() < 1e-12);
    // Content sniffing finds OBJ without the hint too.
    assert_eq!(read(OBJ.as_bytes()).unwrap(), mesh);
}

#[test]
fn obj_face_with_missing_vertex_is_an_error_with_line() {
    let text = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nf 1 2 9\n";
    let err = read_as(text.as_bytes(), MeshFormat::Obj).unwrap_err();
    assert!(err.to_string().contains("line 5"), "{err}");
}

const PLY_ASCII: &str = "\
ply
format ascii 1.0
comment a unit square as one quad and a triangle on top
element vertex 5
property float x
property float y
property double z
property float confidence
element face 2
property list uchar int vertex_indices
end_header
0 0 0 1
1 0 0 1
1 1 0 1
0 1 0 1
0.5 0.5 1 1
4 0 1 2 3
3 0 1 4
";

#[test]
fn ply_ascii_polygons_are_fan_triangulated() {
    let mesh = read(PLY_ASCII.as_bytes()).unwrap();
    assert_eq!(mesh.triangles, vec![[0, 1, 2], [0, 2, 3], [0, 1, 4]]);
    assert_eq!(mesh.vertices[4], Point3::new(0.5, 0.5, 1.0));
}

#[test]
fn ply_binary_little_endian_with_double_coordinates() {
    let mut bytes = b"ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty double x\nproperty double y\nproperty double z\nelement face 1\nproperty list uchar uint vertex_indices\nend_header\n".to_vec();
    for p in [[0.0f64, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.1, 0.0]] {
        for c in p {
            bytes.extend_from_slice(&c.to_le_bytes());
        }
    }
    bytes.push(3);
    for i in [0u32, 1, 2] {
        bytes.extend_from_slice(&i.to_le_bytes());
    }
    let mesh = read(&bytes).unwrap();
    assert_eq!(mesh.triangles, vec![[0, 1, 2]]);
    assert_eq!(mesh.vertices[2].y, 0.1, "doubles are kept exactly");
}

#[test]
fn ply_face_index_out_of_range_is_named() {
    let text = PLY_ASCII.replace("3 0 1 4", "3 0 1 7");
    let err = read(text.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            ReadError::BadVertexIndex {
                index: 7,
                count: 5,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn write_stl_replaces_the_file_atomically_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cube.stl");
    std::fs::write(&path, b"old").unwrap();
    let cube = Mesh::axis_aligned_box([0.0; 3], [3.0, 2.0, 1.0]);
    write_stl(&path, &cube, StlFormat::Binary).unwrap();
    assert_eq!(
        read_mesh(&path, &ReadOptions::default()).unwrap(),
        canonical(&cube)
    );
    // A refused mesh leaves the previous file intact and no temporary file behind.
    let mut bad = cube.clone();
    bad.vertices[0].x = f64::NAN;
    assert!(write_stl(&path, &bad, StlFormat::Ascii).is_err());
    assert_eq!(
        read_mesh(&path, &ReadOptions::default()).unwrap(),
        canonical(&cube)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn read_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.stl");
    let err = read_mesh(&missing, &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, ReadError::Io { .. }));
    assert!(err.to_string().contains("nowhere.stl"), "{err}");
    let empty = dir.path().join("empty.stl");
    std::fs::write(&empty, b"").unwrap();
    let err = read_mesh(&empty, &ReadOptions::default()).unwrap_err();
    assert!(matches!(err.cause(), ReadError::Empty));
    assert!(err.to_string().contains("empty.stl"), "{err}");
}

/// A 3MF package (zip) with the given parts.
fn three_mf(parts: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in parts {
        zip.start_file(*name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
 <Relationship Target="/3D/3dmodel.model" Id="rel0" Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/>
</Relationships>"#;

/// A 3MF `<mesh>` of the box `[0, sx] × [0, sy] × [0, sz]`.
fn box_mesh_xml(size: [f64; 3]) -> String {
    let m = Mesh::axis_aligned_box([0.0; 3], size);
    let mut xml = String::from("<mesh><vertices>");
    for p in &m.vertices {
        xml += &format!(r#"<vertex x="{}" y="{}" z="{}"/>"#, p.x, p.y, p.z);
    }
    xml += "</vertices><triangles>";
    for t in &m.triangles {
        xml += &format!(r#"<triangle v1="{}" v2="{}" v3="{}"/>"#, t[0], t[1], t[2]);
    }
    xml + "</triangles></mesh>"
}

#[test]
fn three_mf_applies_component_and_build_item_transforms_and_unit() {
    // Object 1: a 2 × 1 × 1 cm box. Object 2: object 1 lifted 3 cm. The build item turns it
    // 90° about z and moves it 5 cm along x.
    let model = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<model unit="centimeter" xml:lang="en-US" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">
 <resources>
  <object id="1" type="model">{}</object>
  <object id="2" type="model"><components>
   <component objectid="1" transform="1 0 0 0 1 0 0 0 1 0 0 3"/>
  </components></object>
 </resources>
 <build><item objectid="2" transform="0 1 0 -1 0 0 0 0 1 5 0 0"/></build>
</model>"#,
        box_mesh_xml([2.0, 1.0, 1.0])
    );
    let bytes = three_mf(&[("_rels/.rels", RELS), ("3D/3dmodel.model", &model)]);
    let mesh = read(&bytes).unwrap();
    assert_eq!(mesh.triangles.len(), 12);
    let b = mesh.bbox();
    let close = |a: [f64; 3], e: [f64; 3]| a.iter().zip(e).all(|(a, e)| (a - e).abs() < 1e-9);
    assert!(close(b.min, [40.0, 0.0, 30.0]), "{b:?}");
    assert!(close(b.max, [50.0, 20.0, 40.0]), "{b:?}");
    assert!((mesh.signed_volume() - 2000.0).abs() < 1e-6);
    // The units option does not override the unit the 3MF declares.
    let with_m = read_mesh_bytes(&bytes, None, &ReadOptions::with_units(Units::M)).unwrap();
    assert_eq!(with_m, mesh);
}

#[test]
fn three_mf_mirrored_item_keeps_outward_normals_and_objects_in_other_parts_are_followed() {
    let root = r#"<model unit="millimeter" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02" xmlns:p="http://schemas.microsoft.com/3dmanufacturing/production/2015/06">
 <resources><object id="9"><components>
  <component p:path="/3D/Objects/part.model" objectid="7"/>
 </components></object></resources>
 <build><item objectid="9" transform="-1 0 0 0 1 0 0 0 1 0 0 0"/></build>
</model>"#;
    let part = format!(
        r#"<model unit="millimeter" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"><resources><object id="7">{}</object></resources><build/></model>"#,
        box_mesh_xml([1.0, 2.0, 3.0])
    );
    let bytes = three_mf(&[
        ("_rels/.rels", RELS),
        ("3D/3dmodel.model", root),
        ("3D/Objects/part.model", &part),
    ]);
    let mesh = read_as(&bytes, MeshFormat::ThreeMf).unwrap();
    assert!(
        (mesh.signed_volume() - 6.0).abs() < 1e-9,
        "mirroring flips winding back"
    );
    assert_eq!(mesh.bbox().min[0], -1.0);
}

#[test]
fn three_mf_errors_name_the_missing_object_and_missing_model() {
    let model =
        r#"<model unit="millimeter"><resources/><build><item objectid="4"/></build></model>"#;
    let err = read(&three_mf(&[("3D/3dmodel.model", model)])).unwrap_err();
    assert!(err.to_string().contains("object 4"), "{err}");
    let err = read(&three_mf(&[("readme.txt", "hello")])).unwrap_err();
    assert!(err.to_string().contains("no 3D model part"), "{err}");
    let bad_xml = r#"<model unit="millimeter">
<resources><object id="1"><mesh><vertices><vertex x="1" y="2"/></vertices></mesh></object></resources></model>"#;
    let err = read(&three_mf(&[("3D/3dmodel.model", bad_xml)])).unwrap_err();
    assert!(
        err.to_string().contains("line 2") && err.to_string().contains("`z`"),
        "{err}"
    );
}
