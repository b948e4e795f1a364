//! Specs outside the design envelope are refused with the field, value and range named.

#[path = "design_common/mod.rs"]
mod common;

use meltline_core::cage::{CageSpec, DesignError, DesignOptions, SpecError, design_cage};

#[test]
fn out_of_envelope_spec_error_names_field_value_and_range() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/acdf.toml"
    ))
    .unwrap()
    .replace("height_mm = 7.0", "height_mm = 14.0")
    .replace("porosity = 0.62", "porosity = 0.95");
    let err = CageSpec::from_toml_str(&text, "acdf-bad.toml").unwrap_err();
    let SpecError::Envelope { violations, .. } = &err else {
        panic!("expected an envelope error, got {err}");
    };
    let msg = err.to_string();
    assert!(msg.contains("acdf-bad.toml"), "{msg}");
    assert!(
        msg.contains("height_mm = 14 is outside the design envelope [5, 12]"),
        "{msg}"
    );
    assert!(
        msg.contains("lattice.porosity = 0.95 is outside the design envelope [0.4, 0.85]"),
        "{msg}"
    );
    assert_eq!(violations.len(), 2, "{violations:?}");
}

#[test]
fn each_kind_has_its_own_envelope() {
    // 30 mm is a TLIF length but far too long for a cervical cage.
    let mut spec = common::example("acdf");
    spec.length_mm = 30.0;
    let v = spec.validate().unwrap_err();
    assert!(
        v.iter()
            .any(|v| v.field == "length_mm" && v.range.max == 19.0),
        "{v:?}"
    );
    assert!(common::example("tlif").validate().is_ok());
}

#[test]
fn designer_refuses_a_spec_outside_the_envelope() {
    let mut spec = common::example("plif");
    spec.lordosis_deg = 15.0;
    let err = design_cage(&spec, None, &DesignOptions::default()).unwrap_err();
    assert!(matches!(err, DesignError::Envelope(_)), "{err}");
    assert!(err.to_string().contains("lordosis_deg = 15"), "{err}");
}

#[test]
fn bullet_nose_on_a_kind_without_one_is_refused() {
    let mut spec = common::example("alif");
    spec.nose_length_mm = 3.0;
    let v = spec.validate().unwrap_err();
    assert_eq!(v[0].field, "nose_length_mm");
}
