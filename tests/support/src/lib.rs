//! Test support shared by the host's tests and the end-to-end scenarios: where the test corpus is.

use std::path::PathBuf;

/// The corpus folder: `$MELTLINE_CORPUS`, else `../shared/corpus` beside the repository.
///
/// Returns `None` (after printing why) when it is missing and `CI` is not set; panics with a
/// clear message when it is missing under `CI=true`, so a CI run can never skip corpus tests.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("MELTLINE_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    if dir.join("SOURCES.md").is_file() {
        return Some(dir);
    }
    let ci = std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false);
    assert!(
        !ci,
        "test corpus not found at {} (set MELTLINE_CORPUS); CI=true requires it",
        dir.display()
    );
    eprintln!(
        "SKIPPED: test corpus not found at {} (set MELTLINE_CORPUS to run corpus tests)",
        dir.display()
    );
    None
}

/// A file of the corpus, e.g. `corpus_file("parts/AMcoin.stl")`; `None` when the corpus is missing.
pub fn corpus_file(rel: &str) -> Option<PathBuf> {
    corpus_dir().map(|d| d.join(rel))
}
