//! The lattice region of a designed cage, measured on its mesh, has the target porosity.

#[path = "design_common/mod.rs"]
mod common;

use meltline_core::cage::report::measure_porosity;
use meltline_core::cage::spec::LatticeStyle;
use meltline_core::cage::{DesignOptions, design_cage};

#[test]
fn cage_lattice_region_porosity_is_within_two_percent_of_target() {
    // One cage per lattice type: gyroid skeletal (tlif), diamond (plif), Schwarz P (alif),
    // gyroid sheet (acdf).
    for kind in ["tlif", "plif", "alif", "acdf"] {
        let mut spec = common::example(kind);
        if kind == "alif" {
            // A smaller ALIF keeps the test cheap; the lattice is the same.
            spec.length_mm = 26.0;
            spec.width_mm = 20.0;
            spec.height_mm = 8.0;
            spec.windows.count = 0;
            spec.teeth.rows = 8;
        }
        // Skeletal struts keep their section at a tenth of the cell; thin sheet walls (~0.08 of
        // the cell) need the spec's own resolution.
        let edge = match spec.lattice.style {
            LatticeStyle::Skeletal => spec.lattice.cell_size_mm / 10.0,
            LatticeStyle::Sheet => spec.edge_length_mm,
        };
        let opts = DesignOptions {
            edge_length_override: Some(edge),
            ..DesignOptions::default()
        };
        let design = design_cage(&spec, None, &opts).unwrap();
        let p = measure_porosity(&design);
        assert!(
            (p.lattice_measured - p.lattice_target).abs() <= 0.02,
            "{kind}: lattice porosity {:.4} vs target {:.4}",
            p.lattice_measured,
            p.lattice_target
        );
        // The whole cage agrees with what the field says it should be.
        assert!(
            (p.cage_measured - p.cage_expected).abs() <= 0.02,
            "{kind}: cage porosity {:.4} vs expected {:.4}",
            p.cage_measured,
            p.cage_expected
        );
    }
}
