//! The same spec gives the same STL bytes, whatever the thread count.

#[path = "design_common/mod.rs"]
mod common;

use meltline_core::cage::{DesignOptions, design_cage};
use meltline_core::io::{StlFormat, stl_bytes};

#[test]
fn same_spec_gives_identical_stl_bytes_for_any_thread_count() {
    let spec = common::example("acdf");
    let opts = DesignOptions {
        edge_length_override: Some(0.3),
        ..DesignOptions::default()
    };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            stl_bytes(
                &design_cage(&spec, None, &opts).unwrap().mesh,
                StlFormat::Binary,
            )
        })
    };
    let one = run(1);
    let again = run(1);
    let four = run(4);
    assert!(one.len() > 84 + 50 * 1000);
    assert!(one == again, "two runs differ");
    assert!(one == four, "1 thread and 4 threads differ");
}
