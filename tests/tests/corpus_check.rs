//! The check and repair over the real corpus: every `broken/` file gets its verdict and named
//! defects, every `parts/` and `vertebrae/` file loads with the triangle count its file states,
//! and repair fixes what it should and refuses what it must.

use std::path::Path;

use meltline_core::check::{CheckOptions, CheckReport, DefectKind, check_mesh};
use meltline_core::io::{ReadOptions, StlFormat, Units, read_mesh, read_mesh_bytes, stl_bytes};
use meltline_core::mesh::Mesh;
use meltline_core::repair::{RepairError, RepairOptions, repair_mesh};
use meltline_tests::{corpus_dir, corpus_file};

/// The CLI's defaults: the build envelope of a 250 × 250 × 325 mm LPBF machine.
fn options() -> CheckOptions {
    CheckOptions {
        build_volume_mm: Some([250.0, 250.0, 325.0]),
        ..CheckOptions::default()
    }
}

fn read(rel: &str, units: Units) -> Option<Mesh> {
    let path = corpus_file(rel)?;
    Some(read_mesh(&path, &ReadOptions::with_units(units)).unwrap_or_else(|e| panic!("{rel}: {e}")))
}

fn check(rel: &str) -> Option<CheckReport> {
    read(rel, Units::Mm).map(|m| check_mesh(&m, &options()))
}

enum Verdict {
    /// Unreadable, the message contains this.
    Unreadable(&'static str),
    Printable,
    /// Not printable, with exactly these defects.
    Defects(&'static [DefectKind]),
}

const BROKEN: &[(&str, Verdict)] = {
    use DefectKind::*;
    use Verdict::*;
    &[
        ("cube_and_plane.stl", Unreadable("line 91")),
        ("cube_missing_corner.stl", Defects(&[BoundaryEdges])),
        ("double_slit_experiment.stl", Defects(&[BoundaryEdges])),
        ("empty_file.stl", Unreadable("empty")),
        (
            "extra_surface.stl",
            Defects(&[BoundaryEdges, NonManifoldEdges]),
        ),
        ("invalid_stl_ascii.stl", Unreadable("line 2")),
        ("inverted_face.stl", Defects(&[InconsistentEdges])),
        ("missing_triangle.stl", Defects(&[BoundaryEdges])),
        ("missing_triangle_hi.stl", Defects(&[BoundaryEdges])),
        ("open_cube_stuck_to_side.stl", Defects(&[BoundaryEdges])),
        ("plane.stl", Defects(&[BoundaryEdges])),
        ("random_bits.stl", Unreadable("not a mesh")),
        ("self_overlapping_cubes.stl", Defects(&[SelfIntersections])),
        ("tetrahedra.stl", Printable),
        ("text_file.stl", Unreadable("not a mesh")),
        ("too_large.stl", Defects(&[ExceedsBuildVolume])),
        ("vertical_line.stl", Defects(&[DegenerateTriangles])),
        ("zero_size_cube.stl", Defects(&[DegenerateTriangles])),
    ]
};

#[test]
fn every_broken_file_gets_its_verdict_and_named_defects() {
    let Some(dir) = corpus_dir() else { return };
    for (name, verdict) in BROKEN {
        let path = dir.join("broken").join(name);
        if !path.exists() {
            continue; // e.g. missing_triangle_hi.stl is not in every corpus
        }
        let read = read_mesh(&path, &ReadOptions::default());
        match (verdict, read) {
            (Verdict::Unreadable(why), Err(e)) => {
                let msg = e.to_string();
                assert!(msg.contains(why), "{name}: message `{msg}` lacks `{why}`");
            }
            (Verdict::Unreadable(_), Ok(m)) => {
                panic!("{name}: read {} triangles", m.triangles.len())
            }
            (_, Err(e)) => panic!("{name}: unreadable: {e}"),
            (Verdict::Printable, Ok(m)) => {
                let r = check_mesh(&m, &options());
                assert!(r.printable, "{name}: {}", r.summary());
            }
            (Verdict::Defects(kinds), Ok(m)) => {
                let r = check_mesh(&m, &options());
                assert!(!r.printable, "{name}");
                let found: Vec<DefectKind> = r.defects.iter().map(|d| d.kind).collect();
                assert_eq!(found, kinds.to_vec(), "{name}: {}", r.summary());
                for d in &r.defects {
                    assert!(
                        d.count > 0 && !d.examples.is_empty(),
                        "{name}: {:?}",
                        d.kind
                    );
                }
            }
        }
    }
}

#[test]
fn every_broken_file_is_in_the_verdict_table() {
    let Some(dir) = corpus_dir() else { return };
    for entry in std::fs::read_dir(dir.join("broken")).expect("broken/ lists") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            BROKEN.iter().any(|(n, _)| *n == name),
            "broken/{name} has no expected verdict"
        );
    }
}

#[test]
fn broken_file_defects_match_the_corpus_description() {
    let Some(r) = check("broken/extra_surface.stl") else {
        return;
    };
    assert_eq!(
        r.non_manifold_edges, 67,
        "SOURCES.md: 67 non-manifold edges"
    );
    let Some(r) = check("broken/missing_triangle.stl") else {
        return;
    };
    assert_eq!((r.boundary_edges, r.triangles), (3, 11));
    let Some(r) = check("broken/inverted_face.stl") else {
        return;
    };
    assert_eq!(r.inconsistent_edges, 3);
    let Some(r) = check("broken/tetrahedra.stl") else {
        return;
    };
    assert_eq!((r.shells, r.genus), (2, Some(0)));
}

/// The triangle count a mesh file states, read independently of the readers: binary STL by
/// its size, ASCII STL by its `endfacet`s, PLY by its header, OBJ by fanning its faces.
fn stated_triangles(path: &Path) -> usize {
    let bytes = std::fs::read(path).expect("corpus file reads");
    let text = String::from_utf8_lossy(&bytes);
    match path.extension().and_then(|e| e.to_str()) {
        Some("stl") if text.contains("endfacet") => text.matches("endfacet").count(),
        Some("stl") => (bytes.len() - 84) / 50,
        Some("ply") => text
            .lines()
            .find_map(|l| l.strip_prefix("element face "))
            .and_then(|n| n.trim().parse().ok())
            .expect("PLY header declares faces"),
        Some("obj") => text
            .lines()
            .filter_map(|l| l.strip_prefix("f "))
            .map(|f| f.split_whitespace().count() - 2)
            .sum(),
        other => panic!("unexpected corpus file type {other:?}"),
    }
}

#[test]
fn every_part_and_vertebra_loads_with_its_stated_triangle_count() {
    let Some(dir) = corpus_dir() else { return };
    for sub in ["parts", "vertebrae"] {
        for entry in std::fs::read_dir(dir.join(sub)).expect("folder lists") {
            let path = entry.expect("entry").path();
            // The bunny and the vertebrae are in metres.
            let units = match path.extension().and_then(|e| e.to_str()) {
                Some("stl") => Units::Mm,
                _ => Units::M,
            };
            let m = read_mesh(&path, &ReadOptions::with_units(units))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(
                m.triangles.len(),
                stated_triangles(&path),
                "{}",
                path.display()
            );
            let r = check_mesh(&m, &options());
            assert_eq!(r.triangles, m.triangles.len());
        }
    }
}

#[test]
fn nist_artifact_and_spiral_cone_are_closed_printable_manifolds() {
    for (rel, triangles, genus) in [
        ("parts/NIST_Test_Artifact_ver3b.stl", 7392, None),
        ("parts/Spiral_lattice_cone_1.stl", 56458, Some(10)),
    ] {
        let Some(r) = check(rel) else { return };
        assert!(r.printable, "{rel}: {}", r.summary());
        assert_eq!(r.triangles, triangles, "{rel}: SOURCES.md count");
        assert_eq!(
            (r.boundary_edges, r.non_manifold_edges, r.inconsistent_edges),
            (0, 0, 0)
        );
        assert!(r.volume_mm3 > 0.0);
        if let Some(g) = genus {
            assert_eq!(r.genus, Some(g), "{rel}: SOURCES.md genus");
        }
    }
}

#[test]
fn bunny_is_not_a_closed_manifold() {
    let Some(m) = read("parts/bun_zipper_res3.ply", Units::M) else {
        return;
    };
    let r = check_mesh(&m, &options());
    assert!(!r.printable);
    assert!(
        r.boundary_edges > 0 && r.non_manifold_edges > 0,
        "{}",
        r.summary()
    );
}

#[test]
fn amcoin_open_edges_are_reported_and_repair_closes_them() {
    let Some(m) = read("parts/AMcoin.stl", Units::Mm) else {
        return;
    };
    let r = check_mesh(&m, &options());
    assert!(r.boundary_edges > 0);
    match repair_mesh(&m, &RepairOptions::default()) {
        Ok((fixed, report)) => {
            assert!(check_mesh(&fixed, &options()).printable);
            assert!(!report.unchanged);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// Writes through binary STL and reads back: what a repaired file holds.
fn through_stl(m: &Mesh) -> Mesh {
    read_mesh_bytes(
        &stl_bytes(m, StlFormat::Binary),
        None,
        &ReadOptions::default(),
    )
    .expect("written STL reads back")
}

#[test]
fn repair_makes_the_fixable_broken_files_printable() {
    let Some(dir) = corpus_dir() else { return };
    for name in [
        "inverted_face.stl",
        "missing_triangle.stl",
        "missing_triangle_hi.stl",
        "cube_missing_corner.stl",
    ] {
        let path = dir.join("broken").join(name);
        if !path.exists() {
            continue;
        }
        let m = read_mesh(&path, &ReadOptions::default()).expect("reads");
        let (fixed, report) =
            repair_mesh(&m, &RepairOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!report.unchanged && report.after.printable, "{name}");
        let back = through_stl(&fixed);
        let r = check_mesh(&back, &options());
        assert!(r.printable, "{name} after writing: {}", r.summary());
        let (again, second) = repair_mesh(&back, &RepairOptions::default()).expect("idempotent");
        assert!(
            second.unchanged && again == back,
            "{name}: repair is idempotent"
        );
    }
}

#[test]
fn repair_refuses_self_overlapping_cubes_with_a_reason() {
    let Some(m) = read("broken/self_overlapping_cubes.stl", Units::Mm) else {
        return;
    };
    let err = repair_mesh(&m, &RepairOptions::default()).unwrap_err();
    assert!(matches!(err, RepairError::SelfIntersecting { .. }), "{err}");
    assert!(err.to_string().contains("cross each other"));
}

#[test]
fn repair_refuses_a_lone_plane_and_a_non_manifold_surface() {
    for rel in [
        "broken/plane.stl",
        "broken/extra_surface.stl",
        "broken/zero_size_cube.stl",
    ] {
        let Some(m) = read(rel, Units::Mm) else {
            return;
        };
        assert!(repair_mesh(&m, &RepairOptions::default()).is_err(), "{rel}");
    }
}
