//! Exports of a job: CLI (Common Layer Interface) ASCII and binary, SVG pictures of layers,
//! and per-layer statistics (`stats.json`).

pub mod cli;
pub mod stats;
pub mod svg;
