//! The build report: one self-contained HTML file (no external resources, works offline) that a
//! build engineer signs off and a quality engineer reads after the build.
//!
//! Sections, each in its own module:
//!
//! * `#summary` ([`summary`]): the verdict, job and executed hashes, machine, material, software
//!   version, date, operator and powder lot, and a signature block; then traceability
//!   (spec → mesh → job → executed), the job, parameter sets, the link and per-layer charts;
//! * `#time-breakdown` ([`time`]): marks, jumps, delays, recoat and platform time per layer and in
//!   total, as the controller reported them;
//! * `#warnings` ([`findings`]): every warning from design, check, slice and execution, with
//!   counts and where;
//! * `#parts` ([`parts`]): one row per part with its design, placement and exposure figures;
//! * `#layer-viewer` ([`viewer`]): a canvas viewer of every layer, drawn by a small script from
//!   compact embedded vector data (deflated, base64), with the exposure overlay and the layer's
//!   figures.
//!
//! A print style sheet lays the sections out for PDF (the viewer prints its current layer).

use std::fmt::Write;
use std::path::Path;

use meltline_firmware::machine::MachineConfig;

use crate::jobfile::JobFile;
use crate::session::RunReport;

pub mod chart;
pub mod collect;
pub mod findings;
pub mod parts;
pub mod summary;
pub mod time;
pub mod viewer;

pub use chart::line_chart;
pub use findings::{Stage, Warning};
pub use parts::{DesignFigures, PartRecord};

/// What the report says beyond the run itself: who, when, with what, and what was found on the
/// way (design figures, warnings).
#[derive(Debug, Clone)]
pub struct ReportContext {
    /// Operator who ran the build (`--operator`).
    pub operator: Option<String>,
    /// Powder lot loaded in the machine (`--powder-lot`).
    pub powder_lot: Option<String>,
    /// When the report was written, UTC (`YYYY-MM-DD HH:MM:SS UTC`).
    pub date_utc: String,
    /// Software that wrote it (`meltline 0.1.0`).
    pub software: String,
    /// The machine model the run was executed on (splits recoat from platform time).
    pub machine: MachineConfig,
    /// Warnings collected from design, check, slice and execution.
    pub warnings: Vec<Warning>,
    /// The parts on the plate.
    pub parts: Vec<PartRecord>,
    /// The device history records of a plate's parts (`meltline plate --out-dir`), by serial.
    pub plate_records: std::collections::BTreeMap<String, serde_json::Value>,
}

impl Default for ReportContext {
    fn default() -> Self {
        ReportContext {
            operator: None,
            powder_lot: None,
            date_utc: now_utc(),
            software: software_version(),
            machine: MachineConfig::default(),
            warnings: Vec::new(),
            parts: Vec::new(),
            plate_records: std::collections::BTreeMap::new(),
        }
    }
}

/// `meltline <version>` of this build.
pub fn software_version() -> String {
    format!("meltline {}", env!("CARGO_PKG_VERSION"))
}

/// The current time as `YYYY-MM-DD HH:MM:SS UTC`; `SOURCE_DATE_EPOCH` (seconds) overrides the
/// clock so a report can be reproduced byte for byte.
pub fn now_utc() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    utc_text(secs)
}

/// Seconds since 1970 as `YYYY-MM-DD HH:MM:SS UTC` (the simulator's calendar, read aloud).
pub fn utc_text(secs: u64) -> String {
    let stamp = meltline_firmware::sim::report::utc_rfc3339(secs);
    format!("{} UTC", stamp.trim_end_matches('Z').replacen('T', " ", 1))
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Writes the report for `run` of `job` to `path` (atomically).
pub fn write_html_report(
    run: &RunReport,
    job: &JobFile,
    ctx: &ReportContext,
    path: &Path,
) -> std::io::Result<()> {
    let html = html_report(run, job, ctx)?;
    meltline_core::io::write_bytes_atomically(path, html.as_bytes())
}

const STYLE: &str = include_str!("report.css");

/// The report as HTML text; fails only when the viewer data cannot be compressed.
pub fn html_report(run: &RunReport, job: &JobFile, ctx: &ReportContext) -> std::io::Result<String> {
    let viewer = viewer::ViewerData::of(job, run, ctx)?;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>meltline build report — {}</title><style>{STYLE}</style></head><body>"#,
        esc(&run.job.name)
    );
    s.push_str(r##"<nav class="toc"><a href="#summary">Summary</a> · <a href="#time-breakdown">Time</a> · <a href="#warnings">Warnings</a> · <a href="#parts">Parts</a> · <a href="#layer-viewer">Layers</a> · <a href="#traceability">Traceability</a> · <a href="#per-layer">Per layer</a></nav>"##);
    summary::signoff(&mut s, run, ctx);
    time::section(&mut s, run, &ctx.machine);
    findings::section(&mut s, &ctx.warnings);
    let mut parts = ctx.parts.clone();
    if let ([only], Some(b)) = (parts.as_mut_slice(), viewer.part_bounds_mm()) {
        // One part: the job's part vectors are its placement.
        let top = f64::from(run.job.layers) * f64::from(run.job.layer_thickness_nm) * 1e-6;
        only.bounds_mm
            .get_or_insert([[b[0], b[1], 0.0], [b[2], b[3], top]]);
    }
    parts::section(&mut s, &parts, run, &ctx.plate_records);
    viewer.section(&mut s);
    summary::details(&mut s, run);
    summary::per_layer(&mut s, run);
    s.push_str("</body></html>\n");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_names_known_dates() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_text(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_text(1_796_400_000), "2026-12-04 16:00:00 UTC");
    }

    #[test]
    fn esc_neutralises_markup() {
        assert_eq!(esc(r#"<a href="x">&"#), "&lt;a href=&quot;x&quot;&gt;&amp;");
    }
}
