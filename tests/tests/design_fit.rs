//! Patient fit: the cage follows the endplates at the spec's clearance, measured against the
//! endplate meshes themselves.

#[path = "design_common/mod.rs"]
mod common;

use meltline_core::cage::report::measure_fit;
use meltline_core::cage::{DesignOptions, Vertebrae, design_cage};
use meltline_core::io::{ReadOptions, Units, read_mesh};
use nalgebra::Point3;

#[test]
fn cage_between_synthetic_domed_endplates_keeps_the_known_gap() {
    let tilt = 2.0f64.to_radians().tan();
    let (upper, hu) = common::domed_endplate(6.0, 1.0, 1.2, tilt);
    let (lower, hl) = common::domed_endplate(-6.0, -1.0, 0.9, tilt);
    let spec = common::example("tlif");
    let opts = DesignOptions {
        edge_length_override: Some(0.25),
        ..DesignOptions::default()
    };
    let pair = Vertebrae {
        upper: &upper,
        lower: &lower,
    };
    let design = design_cage(&spec, Some(pair), &opts).unwrap();
    let fit = design.fit.as_ref().unwrap();
    assert!(
        (fit.lordosis_deg - 4.0).abs() < 0.2,
        "lordosis {}",
        fit.lordosis_deg
    );

    // The cage's height at its centre is the known disc height minus twice the clearance.
    let centre = design.field.footprint.centre_line(0.0, 1.0).0;
    let (zb, zt) = design.field.face_heights(centre.x, centre.y);
    let top = fit.frame.to_patient(&Point3::new(centre.x, centre.y, zt));
    let known = hu(top.x, top.y) - hl(top.x, top.y);
    assert!(
        (zt - zb - (known - 2.0 * spec.clearance_mm)).abs() < 0.05,
        "height {} vs known {known}",
        zt - zb
    );

    let r = measure_fit(&design, pair);
    let c = spec.clearance_mm;
    for (name, s) in [("upper", &r.upper), ("lower", &r.lower)] {
        assert!(
            s.contact_area_mm2 > 60.0,
            "{name}: contact {}",
            s.contact_area_mm2
        );
        assert!(
            (s.mean_gap_mm - c).abs() < 0.03,
            "{name}: mean gap {} vs {c}",
            s.mean_gap_mm
        );
        assert!(s.p95_gap_mm < c + 0.1, "{name}: p95 {}", s.p95_gap_mm);
        assert!(
            s.max_penetration_mm <= 0.02,
            "{name}: penetration {}",
            s.max_penetration_mm
        );
    }
}

#[test]
fn cage_between_l3_and_l4_meets_the_fit_acceptance() {
    let Some(dir) = meltline_tests::corpus_file("vertebrae") else {
        return;
    };
    let opts = ReadOptions::with_units(Units::M);
    let upper = read_mesh(&dir.join("L3_body.obj"), &opts).unwrap();
    let lower = read_mesh(&dir.join("L4_body.obj"), &opts).unwrap();
    let spec = common::example("tlif");
    let design_opts = DesignOptions {
        edge_length_override: Some(0.2),
        ..DesignOptions::default()
    };
    let pair = Vertebrae {
        upper: &upper,
        lower: &lower,
    };
    let design = design_cage(&spec, Some(pair), &design_opts).unwrap();
    let r = measure_fit(&design, pair).combined;
    assert!(r.contact_area_mm2 > 150.0, "contact {}", r.contact_area_mm2);
    assert!(
        r.max_penetration_mm <= 0.02,
        "max penetration {}",
        r.max_penetration_mm
    );
    assert!(r.mean_gap_mm <= 0.1, "mean gap {}", r.mean_gap_mm);
    assert!(r.p95_gap_mm <= 0.2, "p95 gap {}", r.p95_gap_mm);
    // The cage sits between the two bodies: its patient-frame box is inside the disc space.
    let b = design.patient_mesh().bbox();
    assert!(b.min[2] > 75.0 && b.max[2] < 95.0, "{b:?}");
}
