//! Damaged job files are refused with an error that names the part, the byte offset or the
//! line — never a panic.

mod formats_common;

use std::io::{Read, Write};

use formats_common::{document, lifted_block, write};
use meltline_host::formats::export::ExportOptions;
use meltline_host::formats::{Format, ReadOptions, parse_document};

fn refused(bytes: &[u8], format: Format) -> String {
    match parse_document(bytes, "bad", format, &ReadOptions::default()) {
        Ok(_) => panic!("a damaged {format:?} file was accepted"),
        Err(e) => e.to_string(),
    }
}

fn written(ext: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let opts = ExportOptions {
        cli_binary: ext == "bin.cli",
        ..ExportOptions::default()
    };
    let path = write(
        &document(lifted_block()),
        dir.path(),
        &format!("job.{ext}"),
        &opts,
    );
    std::fs::read(path).unwrap()
}

/// The package's parts, changed by `edit`, packed again.
fn repack(bytes: &[u8], edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut parts = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        parts.push((f.name().unwrap().into_owned(), b));
    }
    edit(&mut parts);
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, b) in parts {
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&b).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn a_corrupt_zip_is_refused_naming_the_package() {
    let mut bytes = written("3mf");
    bytes.truncate(bytes.len() / 2);
    let e = refused(&bytes, Format::ThreeMf);
    assert!(e.contains("bad: package: not a zip package"), "{e}");
}

#[test]
fn a_damaged_compressed_part_is_refused_naming_the_part() {
    let mut bytes = written("3mf");
    // Flip bytes inside the first layer part's compressed data (after the local header).
    let at = bytes.windows(11).position(|w| w == b"layer00000.").unwrap() + 60;
    for b in &mut bytes[at..at + 16] {
        *b ^= 0x5a;
    }
    let e = refused(&bytes, Format::ThreeMf);
    assert!(e.contains("part /Toolpath/Layers/layer00000.xml"), "{e}");
}

#[test]
fn a_missing_layer_part_is_refused_naming_it() {
    let bytes = repack(&written("3mf"), |parts| {
        parts.retain(|(n, _)| n != "Toolpath/Layers/layer00002.xml");
    });
    let e = refused(&bytes, Format::ThreeMf);
    assert!(
        e.contains("/Toolpath/Layers/layer00002.xml, which is not in the package"),
        "{e}"
    );
}

#[test]
fn a_relationship_to_nowhere_is_refused_naming_the_relationships_part() {
    let bytes = repack(&written("3mf"), |parts| {
        let rels = parts
            .iter_mut()
            .find(|(n, _)| n == "3D/_rels/3dmodel.model.rels")
            .unwrap();
        let text = String::from_utf8(rels.1.clone()).unwrap().replace(
            "</Relationships>",
            " <Relationship Id=\"ghost\" Target=\"/Toolpath/Layers/ghost.xml\" Type=\"http://schemas.3mf.io/3dmanufacturing/toolpath/2026/03/layer\"/>\n</Relationships>",
        );
        rels.1 = text.into_bytes();
    });
    let e = refused(&bytes, Format::ThreeMf);
    assert!(
        e.contains("part /3D/_rels/3dmodel.model.rels: relationship ghost points to /Toolpath/Layers/ghost.xml"),
        "{e}"
    );
}

#[test]
fn a_layer_part_failing_its_schema_is_refused_naming_the_part_and_line() {
    let bytes = repack(&written("3mf"), |parts| {
        let layer = parts
            .iter_mut()
            .find(|(n, _)| n == "Toolpath/Layers/layer00001.xml")
            .unwrap();
        let text = String::from_utf8(layer.1.clone()).unwrap();
        let at = text.find("<point x=\"").unwrap() + "<point x=\"".len();
        layer.1 = format!("{}1.5{}", &text[..at], &text[at..]).into_bytes();
    });
    let e = refused(&bytes, Format::ThreeMf);
    assert!(
        e.contains("part /Toolpath/Layers/layer00001.xml line "),
        "{e}"
    );
    assert!(e.contains("is not a valid number"), "{e}");
}

#[test]
fn a_layer_part_with_a_foreign_root_is_refused() {
    let bytes = repack(&written("3mf"), |parts| {
        let layer = parts
            .iter_mut()
            .find(|(n, _)| n == "Toolpath/Layers/layer00000.xml")
            .unwrap();
        layer.1 = b"<?xml version=\"1.0\"?>\n<slice/>".to_vec();
    });
    let e = refused(&bytes, Format::ThreeMf);
    assert!(
        e.contains("layer00000.xml line 2: the root element is <slice>"),
        "{e}"
    );
}

#[test]
fn an_ovf_with_a_wrong_magic_number_is_refused_at_offset_zero() {
    let mut bytes = written("ovf");
    bytes[..4].copy_from_slice(b"OVF?");
    let e = refused(&bytes, Format::Ovf);
    assert!(e.contains("bad: byte offset 0: wrong magic number"), "{e}");
}

#[test]
fn an_ovf_job_lut_position_outside_the_file_is_refused_naming_the_offset() {
    let mut bytes = written("ovf");
    let beyond = (bytes.len() as i64 + 100).to_le_bytes();
    bytes[4..12].copy_from_slice(&beyond);
    let e = refused(&bytes, Format::Ovf);
    assert!(e.contains("byte offset 4: Job LUT position"), "{e}");
    assert!(e.contains("outside the file"), "{e}");
}

#[test]
fn an_ovf_work_plane_lut_position_outside_the_file_is_refused() {
    let mut bytes = written("ovf");
    // The first work plane starts at byte 12 with its LUT's position.
    bytes[12..20].copy_from_slice(&(-5i64).to_le_bytes());
    let e = refused(&bytes, Format::Ovf);
    assert!(
        e.contains("byte offset 12: work plane 0 LUT position -5 is outside"),
        "{e}"
    );
}

#[test]
fn a_truncated_delimited_message_is_refused_naming_its_offset() {
    let mut bytes = written("ovf");
    // The Job LUT is the last message: cut its end off.
    bytes.truncate(bytes.len() - 3);
    let e = refused(&bytes, Format::Ovf);
    assert!(e.contains("Job LUT: truncated delimited message"), "{e}");
    assert!(e.contains("byte offset "), "{e}");
}

#[test]
fn a_cli_without_its_header_start_is_refused_at_line_one() {
    let e = refused(b"$$UNITS/0.001\n$$HEADEREND\n", Format::Cli);
    assert!(
        e.contains("bad: line 1: a CLI file starts with $$HEADERSTART"),
        "{e}"
    );
}

#[test]
fn a_cli_with_bad_units_is_refused_naming_the_line() {
    let text = b"$$HEADERSTART\n$$ASCII\n$$UNITS/abc\n$$HEADEREND\n$$GEOMETRYSTART\n";
    let e = refused(text, Format::Cli);
    assert!(e.contains("bad: line 3: $$UNITS/abc: not a number"), "{e}");
}

#[test]
fn a_cli_polyline_with_a_wrong_count_is_refused_naming_the_line() {
    let text = b"$$HEADERSTART\n$$ASCII\n$$UNITS/0.001\n$$HEADEREND\n$$GEOMETRYSTART\n$$LAYER/30\n$$POLYLINE/1,1,3,0,0,10,0\n";
    let e = refused(text, Format::Cli);
    assert!(
        e.contains("bad: line 7: $$POLYLINE announces 3 points"),
        "{e}"
    );
}

#[test]
fn a_truncated_binary_cli_is_refused_naming_the_offset() {
    let mut bytes = written("bin.cli");
    bytes.truncate(bytes.len() - 5);
    let e = refused(&bytes, Format::Cli);
    assert!(e.contains("bad: byte offset "), "{e}");
}
