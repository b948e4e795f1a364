//! Slicing a real corpus part: the NIST test artifact (141 × 141 × 17 mm, 7,392 faces).
//! Kept small for CI: thick layers for the sections, full hatching on three layers only.

use meltline_core::io::{ReadOptions, read_mesh};
use meltline_slicer::job::{Region, Slicer, SlicerOptions, VectorKind};
use meltline_slicer::profile::ProcessProfile;
use meltline_slicer::slice::{MeshSlicer, SliceOptions};
use meltline_tests::corpus_file;

#[test]
fn nist_artifact_slices_closed_with_the_mesh_volume() {
    let Some(path) = corpus_file("parts/NIST_Test_Artifact_ver3b.stl") else {
        return;
    };
    let mut mesh = read_mesh(&path, &ReadOptions::default()).expect("corpus part reads");
    let z0 = mesh.bbox().min[2];
    mesh.translate(nalgebra::Vector3::new(0.0, 0.0, -z0));
    let t = 0.09;
    let slicer = MeshSlicer::new(&mesh, SliceOptions::new(t)).unwrap();
    let layers = slicer.slice_all();
    assert_eq!(layers.len(), (mesh.bbox().max[2] / t).round() as usize);
    for l in &layers {
        assert_eq!(l.open_chains, 0, "layer {} has open chains", l.index);
        assert!(l.stitches.is_empty(), "layer {} needed stitching", l.index);
        assert!(l.area_mm2() > 0.0);
    }
    // Midpoint rule over the layers against the mesh's own volume.
    let sliced: f64 = layers.iter().map(|l| l.area_mm2() * t).sum();
    let volume = mesh.signed_volume();
    assert!(
        (sliced - volume).abs() / volume < 0.01,
        "sliced volume {sliced} vs mesh volume {volume}"
    );
}

#[test]
fn nist_artifact_layers_get_contours_and_hatches() {
    let Some(path) = corpus_file("parts/NIST_Test_Artifact_ver3b.stl") else {
        return;
    };
    let mesh = read_mesh(&path, &ReadOptions::default()).expect("corpus part reads");
    let mut profile = ProcessProfile::ti6al4v();
    // Three times the layer at a third of the hatch: the same energy density.
    profile.layer_thickness_mm = 0.09;
    for set in [
        &mut profile.core,
        &mut profile.upskin,
        &mut profile.downskin,
    ] {
        set.hatch_mm /= 3.0;
    }
    let options = SlicerOptions {
        center_xy: true,
        ..SlicerOptions::default()
    };
    let slicer = Slicer::new(&mesh, profile.clone(), options).unwrap();
    for i in [0, slicer.layer_count() / 2, slicer.layer_count() - 1] {
        let layer = slicer.layer(i);
        // Hatch length × its region's hatch distance approximates the area hatched.
        let covered: f64 = layer
            .blocks
            .iter()
            .filter(|b| b.kind == VectorKind::Hatch)
            .map(|b| {
                let h = match b.region {
                    Region::Core => profile.core.hatch_mm,
                    Region::Upskin => profile.upskin.hatch_mm,
                    _ => profile.downskin.hatch_mm,
                };
                b.mark_length_mm() * h
            })
            .sum();
        assert!(
            layer.blocks.iter().any(|b| b.kind == VectorKind::Contour),
            "layer {i}"
        );
        assert!(
            covered > 0.8 * layer.area_mm2 && covered < 1.05 * layer.area_mm2,
            "layer {i}: hatch covers {covered} mm² of {} mm²",
            layer.area_mm2
        );
    }
}
