//! Shared helpers of the end-to-end scenarios (see `meltline-test-support`, which the host's
//! own tests use too).

pub use meltline_test_support::{corpus_dir, corpus_file};
