//! Arbitrary XML parts in a well-formed package: the input is cut at every 0xFF byte into the
//! root relationships, the model part, its relationships and layer parts, stored uncompressed
//! in a zip, so the fuzzer reaches the XML readers instead of stopping at the zip's checksums.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use meltline_host::formats::{Format, ReadOptions, encode_document, parse_document};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0xFF);
    let names = ["_rels/.rels", "3D/3dmodel.model", "3D/_rels/3dmodel.model.rels"];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored);
    for (i, part) in parts.by_ref().enumerate().take(8) {
        let name = match names.get(i) {
            Some(n) => (*n).to_string(),
            None => format!("Toolpath/Layers/layer{:05}.xml", i - names.len()),
        };
        if zip.start_file(name, opts).is_err() || zip.write_all(part).is_err() {
            return;
        }
    }
    let Ok(bytes) = zip.finish().map(|c| c.into_inner()) else {
        return;
    };
    if let Ok(doc) = parse_document(&bytes, "fuzz.3mf", Format::ThreeMf, &ReadOptions::default()) {
        let _ = encode_document(&doc);
    }
});
