//! Every XML part a 3MF export writes is checked by an independent validator, `xmllint`,
//! against the 3MF Toolpath 1.0 schemas in `../shared/specs/3mf-toolpath`: each layer part
//! against `toolpath_layer_2026_03.xsd`, the model part's `<tp:toolpathresource>` (which
//! declares its own namespaces) against `toolpath_2026_03.xsd`. Without `xmllint` the test
//! fails under `CI=true` and is skipped with a message otherwise.
//!
//! libxml2 rejects the schemas' `maxOccurs="2147483647"` on a few elements ("not a valid
//! value"), so the test validates against a temporary copy where that bound reads
//! `unbounded`, the same for any document that fits in memory.

mod formats_common;

use std::io::Read;
use std::path::Path;
use std::process::Command;

use formats_common::{document, in_ci, lifted_block, specs_dir, write};
use meltline_host::formats::export::ExportOptions;

fn xmllint_present() -> bool {
    Command::new("xmllint").arg("--version").output().is_ok()
}

fn schema_copy(specs: &Path, name: &str, dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(specs.join("3mf-toolpath").join(name)).unwrap();
    let out = dir.join(name);
    std::fs::write(
        &out,
        text.replace("maxOccurs=\"2147483647\"", "maxOccurs=\"unbounded\""),
    )
    .unwrap();
    out
}

fn validate(schema: &Path, doc: &Path) -> Result<(), String> {
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(schema)
        .arg(doc)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn every_xml_part_of_a_written_3mf_validates_against_the_toolpath_schemas() {
    let (Some(specs), true) = (specs_dir(), xmllint_present()) else {
        assert!(
            !in_ci(),
            "CI=true: xmllint (libxml2-utils) and ../shared/specs are needed to validate 3MF exports"
        );
        eprintln!("SKIPPED: xmllint or ../shared/specs missing; 3MF parts not validated");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let layer_xsd = schema_copy(&specs, "toolpath_layer_2026_03.xsd", dir.path());
    let model_xsd = schema_copy(&specs, "toolpath_2026_03.xsd", dir.path());
    let doc = document(lifted_block());
    let pkg = write(&doc, dir.path(), "job.3mf", &ExportOptions::default());
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&pkg).unwrap()).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    let mut layers = 0;
    for name in &names {
        let mut text = String::new();
        zip.by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert!(
            !text.contains("2019/05"),
            "{name} uses the deprecated namespace"
        );
        let file = dir.path().join(name.replace('/', "_"));
        if name.starts_with("Toolpath/Layers/") {
            std::fs::write(&file, &text).unwrap();
            validate(&layer_xsd, &file).unwrap_or_else(|e| panic!("{name}: {e}"));
            layers += 1;
        } else if name == "3D/3dmodel.model" {
            let a = text
                .find("<tp:toolpathresource")
                .expect("a toolpath resource");
            let end = "</tp:toolpathresource>";
            let b = text.find(end).expect("its end") + end.len();
            let resource = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
                &text[a..b]
            );
            std::fs::write(&file, resource).unwrap();
            validate(&model_xsd, &file).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(text.contains("requiredextensions=\"p tp\""), "{name}");
            assert!(text.contains("p:UUID="), "{name}: Production UUIDs");
        }
    }
    assert_eq!(layers, doc.job.layers.len(), "one layer part per layer");
}

#[test]
fn a_layer_part_that_breaks_the_schema_is_refused_by_xmllint() {
    // The validator itself must say no to a wrong part, or the test above proves nothing.
    let (Some(specs), true) = (specs_dir(), xmllint_present()) else {
        assert!(!in_ci(), "CI=true: xmllint and ../shared/specs are needed");
        eprintln!("SKIPPED: xmllint or ../shared/specs missing");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let xsd = schema_copy(&specs, "toolpath_layer_2026_03.xsd", dir.path());
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        "<layer xmlns=\"http://schemas.3mf.io/3dmanufacturing/toolpath/2026/03\"><segments>\
         <segment type=\"loop\" profileid=\"0\" partid=\"1\"><point x=\"1.5\" y=\"0\"/></segment>\
         </segments></layer>",
    )
    .unwrap();
    assert!(validate(&xsd, &bad).is_err());
}
