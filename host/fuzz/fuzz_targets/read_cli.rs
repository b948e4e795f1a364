//! Arbitrary bytes as a .cli job: the reader and the conversion to frames must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meltline_host::formats::{Format, ReadOptions, encode_document, parse_document};

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = parse_document(data, "fuzz.cli", Format::Cli, &ReadOptions::default()) {
        let _ = encode_document(&doc);
    }
});
