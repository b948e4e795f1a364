//! Slicing: cross-section areas against analytic values, degenerate planes, unions, gaps,
//! and determinism across thread counts.

mod common;

use std::f64::consts::PI;

use common::{cylinder, rel, sphere, torus};
use meltline_core::mesh::Mesh;
use meltline_slicer::slice::{MeshSlicer, SliceOptions};
use nalgebra::{Point3, Vector3};

fn slicer(mesh: &Mesh, t: f64) -> MeshSlicer {
    MeshSlicer::new(mesh, SliceOptions::new(t)).expect("valid mesh")
}

#[test]
fn sphere_sections_match_the_circle_area_within_a_tenth_of_a_percent() {
    let r = 5.0;
    let m = sphere(r, 512);
    let s = slicer(&m, 0.5);
    assert_eq!(s.layer_count(), 20);
    // Away from the poles, where the faceting of a few rings dominates.
    for layer in s
        .slice_all()
        .iter()
        .filter(|l| (l.z_mm - r).abs() < 0.8 * r)
    {
        let rc2 = r * r - (layer.z_mm - r).powi(2);
        let expected = PI * rc2;
        let got = layer.area_mm2();
        assert!(
            rel(got, expected) < 1e-3,
            "layer {} z {}: {got} vs {expected}",
            layer.index,
            layer.z_mm
        );
        assert_eq!(layer.shapes.len(), 1);
        assert!(layer.stitches.is_empty() && layer.open_chains == 0);
    }
}

#[test]
fn cylinder_sections_match_the_disc_area() {
    let m = cylinder(4.0, 3.0, 512);
    let s = slicer(&m, 0.25);
    assert_eq!(s.layer_count(), 12);
    for layer in s.slice_all() {
        assert!(
            rel(layer.area_mm2(), PI * 16.0) < 1e-3,
            "{}",
            layer.area_mm2()
        );
    }
}

#[test]
fn torus_sections_match_the_annulus_area() {
    let (big, small) = (10.0, 3.0);
    let m = torus(big, small, 512, 256);
    let s = slicer(&m, 0.5);
    for layer in s
        .slice_all()
        .iter()
        .filter(|l| (l.z_mm - small).abs() < 0.8 * small)
    {
        let dz = layer.z_mm - small;
        let expected = 4.0 * PI * big * (small * small - dz * dz).sqrt();
        assert!(
            rel(layer.area_mm2(), expected) < 1e-3,
            "z {}: {} vs {expected}",
            layer.z_mm,
            layer.area_mm2()
        );
        assert_eq!(layer.shapes.len(), 1, "one annulus");
        assert_eq!(layer.shapes[0].len(), 2, "outer boundary and hole");
    }
}

#[test]
fn box_sections_are_exact() {
    let m = Mesh::axis_aligned_box([-3.5, 1.25, 0.0], [6.5, 21.25, 2.0]);
    let s = slicer(&m, 0.1);
    assert_eq!(s.layer_count(), 20);
    for layer in s.slice_all() {
        assert_eq!(layer.area_mm2(), 200.0);
    }
}

#[test]
fn vertices_on_the_cut_plane_count_as_above() {
    // An octahedron whose equator lies exactly on the first cut plane (z = 0.25).
    let v = vec![
        Point3::new(0.0, 0.0, 0.0),
        Point3::new(1.0, 0.0, 0.25),
        Point3::new(0.0, 1.0, 0.25),
        Point3::new(-1.0, 0.0, 0.25),
        Point3::new(0.0, -1.0, 0.25),
        Point3::new(0.0, 0.0, 0.5),
    ];
    let mut t = Vec::new();
    for i in 0..4u32 {
        let (a, b) = (1 + i, 1 + (i + 1) % 4);
        t.push([0, b, a]);
        t.push([5, a, b]);
    }
    let m = Mesh::new(v, t).unwrap();
    assert!(m.signed_volume() > 0.0);
    let s = slicer(&m, 0.5);
    let l = s.slice_layer(0);
    assert_eq!(l.area_mm2(), 2.0, "the equator square");
    assert!(l.stitches.is_empty() && l.open_chains == 0);
}

#[test]
fn coplanar_faces_on_the_cut_plane_give_one_clean_section() {
    // Two boxes stacked with their shared faces exactly on the cut plane z = 0.25.
    let mut m = Mesh::axis_aligned_box([0.0, 0.0, 0.0], [1.0, 1.0, 0.25]);
    m.append(&Mesh::axis_aligned_box([0.0, 0.0, 0.25], [1.0, 1.0, 0.5]));
    let s = slicer(&m, 0.5);
    let l = s.slice_layer(0);
    assert_eq!(l.area_mm2(), 1.0);
    assert_eq!(l.shapes.len(), 1);
}

#[test]
fn overlapping_shells_are_unioned() {
    let mut m = Mesh::axis_aligned_box([0.0, 0.0, 0.0], [2.0, 1.0, 1.0]);
    m.append(&Mesh::axis_aligned_box([1.0, 0.5, 0.0], [3.0, 1.5, 1.0]));
    let s = slicer(&m, 0.5);
    for l in s.slice_all() {
        assert_eq!(l.area_mm2(), 3.5);
        assert_eq!(l.shapes.len(), 1);
    }
}

#[test]
fn tiny_section_area_is_not_biased_by_the_micron_grid() {
    // A 7-sided strut of circumradius 15 µm off the grid: rounding its vertices to 1 µm moves
    // the area by percents, the reported area must still be the polygon's.
    let (r, n) = (0.015, 7);
    let mut m = cylinder(r, 0.1, n);
    m.translate(Vector3::new(0.1234567, -0.0456789, 0.0));
    let expected = 0.5 * n as f64 * r * r * (2.0 * PI / n as f64).sin();
    let s = slicer(&m, 0.03);
    for layer in s.slice_all() {
        assert!(
            rel(layer.area_mm2(), expected) < 1e-9,
            "layer {}: {} vs {expected}",
            layer.index,
            layer.area_mm2()
        );
        let on_grid = meltline_slicer::polygon::area_mm2(&layer.shapes);
        assert!(rel(on_grid, expected) > 1e-3, "the grid area {on_grid}");
    }
}

#[test]
fn small_gaps_are_stitched_and_reported() {
    // A box whose +x face is detached and moved out by 10 µm: two 10 µm gaps per section.
    let b = Mesh::axis_aligned_box([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]);
    let soup = (0..b.triangles.len()).map(|t| {
        let c = b.corners(t);
        if c.iter().all(|p| p.x == 1.0) {
            c.map(|p| p + Vector3::new(0.01, 0.0, 0.0))
        } else {
            c
        }
    });
    let m = Mesh::from_soup(soup);
    let s = slicer(&m, 0.5);
    for l in s.slice_all() {
        assert_eq!(l.stitches.len(), 2, "{:?}", l.stitches);
        assert!(l.stitches.iter().all(|g| (g.gap_mm - 0.01).abs() < 1e-9));
        assert_eq!(l.open_chains, 0);
        assert!((l.area_mm2() - 1.01).abs() < 1e-9, "{}", l.area_mm2());
    }
}

#[test]
fn unclosable_chains_are_reported_not_silently_dropped() {
    let mut b = Mesh::axis_aligned_box([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]);
    // Remove both triangles of the +x face: a 1 mm gap, far beyond the stitch tolerance.
    let keep: Vec<[u32; 3]> = (0..b.triangles.len())
        .filter(|&t| !b.corners(t).iter().all(|p| p.x == 1.0))
        .map(|t| b.triangles[t])
        .collect();
    b.triangles = keep;
    let s = slicer(&b, 0.5);
    let l = s.slice_layer(0);
    assert_eq!(l.open_chains, 1);
    assert!((l.open_length_mm - 3.0).abs() < 1e-9);
}

#[test]
fn sections_are_identical_for_one_and_two_threads() {
    let m = torus(6.0, 2.0, 128, 64);
    let s = slicer(&m, 0.2);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = one.install(|| s.slice_all());
    let b = two.install(|| s.slice_all());
    assert_eq!(a, b);
    assert_eq!(a, s.slice_all());
}

#[test]
fn bad_meshes_are_errors_not_panics() {
    let mut m = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
    m.vertices[3].x = f64::NAN;
    assert!(MeshSlicer::new(&m, SliceOptions::new(0.1)).is_err());
    let m = Mesh::axis_aligned_box([0.0, 0.0, -1.0], [1.0; 3]);
    assert!(MeshSlicer::new(&m, SliceOptions::new(0.1)).is_err());
    let m = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
    assert!(MeshSlicer::new(&m, SliceOptions::new(0.0)).is_err());
}
