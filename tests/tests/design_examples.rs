//! Every example spec, and the embedded default, designs to a printable cage.

#[path = "design_common/mod.rs"]
mod common;

use meltline_core::cage::{
    CageSpec, DesignOptions, design_cage, feature_warnings, measure_features,
};
use meltline_core::check::{CheckOptions, check_mesh};
use meltline_core::io::{ReadOptions, StlFormat, read_mesh_bytes, stl_bytes};

/// CI resolution: coarser than the specs' own (those are verified by hand, see BENCHMARKS.md).
fn coarse(spec: &CageSpec) -> DesignOptions {
    DesignOptions {
        edge_length_override: Some((spec.lattice.cell_size_mm / 4.0).max(spec.edge_length_mm)),
        ..DesignOptions::default()
    }
}

fn assert_printable(name: &str, spec: &CageSpec) {
    let design = design_cage(spec, None, &coarse(spec)).unwrap();
    // Check what an STL file carries (f32 coordinates), as `meltline check` would.
    let bytes = stl_bytes(&design.mesh, StlFormat::Binary);
    let written = read_mesh_bytes(&bytes, None, &ReadOptions::default()).unwrap();
    let report = check_mesh(&written, &CheckOptions::default());
    assert!(report.printable, "{name}: {}", report.summary());
    assert_eq!(report.shells, 1, "{name}: the cage is one solid");
    let b = design.mesh.bbox();
    assert!(b.min[2].abs() < 1e-9, "{name}: lowest point on the plate");
    // The footprint spans the spec's length (teeth and lattice stay inside it).
    assert!(
        (b.max[0] - b.min[0] - spec.length_mm).abs() < 0.3,
        "{name}: {b:?}"
    );
    // Walls printable, pores in the bone in-growth range.
    let warnings = feature_warnings(&measure_features(&design));
    assert!(warnings.is_empty(), "{name}: {warnings:?}");
}

#[test]
fn every_example_spec_gives_a_printable_single_shell_cage_without_feature_warnings() {
    for kind in common::KINDS {
        assert_printable(kind, &common::example(kind));
    }
}

#[test]
fn embedded_default_tlif_gives_a_printable_cage() {
    assert_printable("default", &CageSpec::default_tlif());
}
