//! The plate file: keys, ids, files and placements.

use super::PlateError;
use super::file::*;
use std::path::Path;

fn dir_with(files: &[&str]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for f in files {
        std::fs::write(d.path().join(f), b"solid x\nendsolid x\n").unwrap();
    }
    d
}

fn parse(d: &tempfile::TempDir, text: &str) -> Result<PlateFile, PlateError> {
    PlateFile::parse(text, &d.path().join("plate.toml"))
}

#[test]
fn copies_get_suffixed_serials_and_paths_resolve_against_the_plate_file() {
    let d = dir_with(&["coupon.stl", "tlif.toml"]);
    let p = parse(
        &d,
        "[plate]\n[[part]]\nid = \"C-1\"\ncage = \"tlif.toml\"\n[[part]]\nid = \"Q\"\nmesh = \"coupon.stl\"\ncount = 3\n",
    )
    .unwrap();
    let ids: Vec<_> = p.parts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["C-1", "Q-1", "Q-2", "Q-3"]);
    assert_eq!(p.spacing_mm, 3.0);
    assert_eq!(p.placement, PlacementMode::Auto);
    match &p.parts[1].source {
        PartSource::Mesh { path, .. } => assert_eq!(path, &d.path().join("coupon.stl")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unknown_key_is_refused_by_name() {
    let d = dir_with(&["coupon.stl"]);
    let e = parse(
        &d,
        "[plate]\nspaceing_mm = 2\n[[part]]\nid = \"Q\"\nmesh = \"coupon.stl\"\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("spaceing_mm"), "{e}");
    let e = parse(
        &d,
        "[plate]\n[[part]]\nid = \"Q\"\nmesh = \"coupon.stl\"\ncolour = 1\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("colour"), "{e}");
}

#[test]
fn a_serial_used_twice_is_refused_even_through_copies() {
    let d = dir_with(&["coupon.stl"]);
    let e = parse(
        &d,
        "[plate]\n[[part]]\nid = \"Q-1\"\nmesh = \"coupon.stl\"\n[[part]]\nid = \"Q\"\nmesh = \"coupon.stl\"\ncount = 2\n",
    )
    .unwrap_err();
    assert!(
        matches!(&e, PlateError::DuplicateId { id } if id == "Q-1"),
        "{e:?}"
    );
}

#[test]
fn a_missing_file_is_refused_naming_the_part_and_the_key() {
    let d = dir_with(&[]);
    let e = parse(
        &d,
        "[plate]\n[[part]]\nid = \"C-9\"\ncage = \"nope.toml\"\n",
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("C-9") && text.contains("cage") && text.contains("nope.toml"),
        "{text}"
    );
}

#[test]
fn manual_placement_needs_a_place_for_every_part_and_auto_refuses_one() {
    let d = dir_with(&["coupon.stl"]);
    let e = parse(
        &d,
        "[plate]\nplacement = \"manual\"\n[[part]]\nid = \"Q\"\nmesh = \"coupon.stl\"\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("at_mm"), "{e}");
    let e = parse(
        &d,
        "[plate]\n[[part]]\nid = \"Q\"\nmesh = \"coupon.stl\"\nat_mm = [1.0, 2.0]\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("manual"), "{e}");
}

#[test]
fn out_of_range_numbers_and_bad_serials_are_refused() {
    let d = dir_with(&["coupon.stl"]);
    let part = "[[part]]\nid = \"Q\"\nmesh = \"coupon.stl\"\n";
    for plate in [
        "[plate]\nspacing_mm = 0.1\n",
        "[plate]\nspacing_mm = nan\n",
        "[plate]\nlift_mm = 3.0\n",
        "[plate]\nlift_mm = -1.0\nsupports = true\n",
    ] {
        assert!(parse(&d, &format!("{plate}{part}")).is_err(), "{plate}");
    }
    for id in ["", "../etc", "a/b", ".hidden"] {
        let text = format!("[plate]\n[[part]]\nid = {id:?}\nmesh = \"coupon.stl\"\n");
        assert!(parse(&d, &text).is_err(), "{id}");
    }
    let e = parse(&d, "[plate]\n").unwrap_err();
    assert!(e.to_string().contains("no [[part]]"), "{e}");
    assert!(PlateFile::read(Path::new("/nonexistent/plate.toml")).is_err());
}

#[test]
fn a_built_in_coupon_needs_no_file_and_its_size_is_checked() {
    let d = dir_with(&["coupon.stl"]);
    let p = parse(
        &d,
        "[plate]\n[[part]]\nid = \"Q\"\ncoupon_mm = [8.0, 6.0, 2.0]\n",
    )
    .unwrap();
    assert_eq!(
        p.parts[0].source,
        PartSource::Coupon {
            size_mm: [8.0, 6.0, 2.0]
        }
    );
    let e = parse(
        &d,
        "[plate]\n[[part]]\nid = \"Q\"\ncoupon_mm = [8.0, 0.1, 2.0]\n",
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("Q") && e.to_string().contains("0.5–100 mm"),
        "{e}"
    );
    let e = parse(
        &d,
        "[plate]\n[[part]]\nid = \"Q\"\ncoupon_mm = [8.0, 8.0, 2.0]\nmesh = \"coupon.stl\"\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("coupon"), "{e}");
}
