//! `#parts`: one row per part on the plate — its design figures (porosity, strut and pore size,
//! endplate fit), where it stands on the plate, and how it was exposed (coverage, spill,
//! energy) as the controller measured it.

use std::fmt::Write;

use meltline_core::cage::DesignReport;
use serde::Serialize;

use std::collections::BTreeMap;

use super::esc;
use crate::session::RunReport;

/// The figures of a designed part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignFigures {
    /// Lattice porosity asked for, 0–1.
    pub porosity_target: f64,
    /// Lattice porosity measured on the mesh, 0–1.
    pub porosity_measured: f64,
    /// Thinnest strut (5th percentile), mm.
    pub strut_min_mm: f64,
    /// Median strut, mm.
    pub strut_median_mm: f64,
    /// Median pore width, mm.
    pub pore_median_mm: f64,
    /// Endplate fit as text (mean and 95th-percentile gap), or why there is none.
    pub fit: String,
}

impl DesignFigures {
    /// From the designer's measurements.
    pub fn of(d: &DesignReport) -> DesignFigures {
        DesignFigures {
            porosity_target: d.porosity.lattice_target,
            porosity_measured: d.porosity.lattice_measured,
            strut_min_mm: d.features.strut_min_mm,
            strut_median_mm: d.features.strut_median_mm,
            pore_median_mm: d.features.pore_median_mm,
            fit: d.fit.as_ref().map_or_else(
                || "not fitted (no vertebrae given)".to_string(),
                |f| {
                    format!(
                        "gap mean {:.3} mm, p95 {:.3} mm, max penetration {:.3} mm",
                        f.combined.mean_gap_mm,
                        f.combined.p95_gap_mm,
                        f.combined.max_penetration_mm
                    )
                },
            ),
        }
    }
}

/// One part on the plate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartRecord {
    /// Name (file or design).
    pub name: String,
    /// Design figures, when the part was designed here.
    pub design: Option<DesignFigures>,
    /// Bounding box on the plate, `[[xmin, ymin, zmin], [xmax, ymax, zmax]]`, mm.
    pub bounds_mm: Option<[[f64; 3]; 2]>,
}

fn cell(s: &mut String, v: &str) {
    let _ = write!(s, "<td>{}</td>", esc(v));
}

/// Exposure figures of the run (one part today, so the whole job's).
fn exposure_text(run: &RunReport) -> String {
    let Some(c) = &run.controller else {
        return "(no controller report)".into();
    };
    let cov: Vec<f64> = c.layers.iter().filter_map(|l| l.coverage_pct).collect();
    let spill: Vec<f64> = c.layers.iter().filter_map(|l| l.spill_pct).collect();
    if cov.is_empty() {
        return format!("{:.1} J (no exposure maps)", c.total.energy_j);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    format!(
        "coverage mean {:.1} %, worst {:.1} %; spill mean {:.2} %, worst {:.2} %; {:.1} J",
        mean(&cov),
        cov.iter().copied().fold(f64::INFINITY, f64::min),
        mean(&spill),
        spill.iter().copied().fold(0.0, f64::max),
        c.total.energy_j
    )
}

/// Writes the section.
pub fn section(
    s: &mut String,
    parts: &[PartRecord],
    run: &RunReport,
    records: &BTreeMap<String, serde_json::Value>,
) {
    let _ = write!(
        s,
        r#"<section id="parts"><h2>Parts</h2><p>{} part(s) on the plate.</p><table><tr><th>part</th><th>lattice porosity target / measured</th><th>strut min / median</th><th>pore median</th><th>endplate fit</th><th>placement (x, y, z), mm</th><th>exposure</th></tr>"#,
        parts.len()
    );
    let exposure = exposure_text(run);
    for p in parts {
        s.push_str(r#"<tr class="part">"#);
        cell(s, &p.name);
        match &p.design {
            Some(d) => {
                cell(
                    s,
                    &format!(
                        "{:.1} % / {:.1} %",
                        100.0 * d.porosity_target,
                        100.0 * d.porosity_measured
                    ),
                );
                cell(
                    s,
                    &format!("{:.3} / {:.3} mm", d.strut_min_mm, d.strut_median_mm),
                );
                cell(s, &format!("{:.3} mm", d.pore_median_mm));
                cell(s, &d.fit);
            }
            None => {
                for _ in 0..4 {
                    cell(s, "(not designed here)");
                }
            }
        }
        let placement = p.bounds_mm.map_or_else(
            || "(unknown)".to_string(),
            |[lo, hi]| {
                format!(
                    "{:.2}…{:.2}, {:.2}…{:.2}, {:.3}…{:.3}",
                    lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]
                )
            },
        );
        cell(s, &placement);
        cell(s, &exposure);
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    plate_table(s, run);
    record_table(s, run, records);
    s.push_str("</section>");
}

/// A plate job's parts, one row each: who it is for, where it stands, what the job holds of it
/// and what the controller did with it (state, skip, vectors, energy, coverage, spill, its
/// executed part hash).
fn plate_table(s: &mut String, run: &RunReport) {
    if run.job.parts.is_empty() {
        return;
    }
    let _ = write!(
        s,
        r#"<h3>Plate: {} parts</h3><table class="plate"><tr><th>serial</th><th>case</th><th>x, y mm · turn °</th><th>box mm</th><th>layers</th><th>vectors executed / in job</th><th>state</th><th>energy J · mark s</th><th>coverage / spill %</th><th>lasers (vectors)</th><th>executed part hash</th></tr>"#,
        run.job.parts.len()
    );
    for info in &run.job.parts {
        let outcome = run.parts.iter().find(|p| p.run.index == info.index);
        let _ = write!(
            s,
            r#"<tr class="plate-part" data-serial="{}">"#,
            esc(&info.serial)
        );
        cell(s, &info.serial);
        cell(s, &info.case);
        cell(
            s,
            &format!(
                "{:.2}, {:.2} · {:.1}",
                info.x_mm, info.y_mm, info.rotation_deg
            ),
        );
        let [x0, y0, x1, y1] = info.footprint_mm;
        cell(s, &format!("{x0:.2}…{x1:.2}, {y0:.2}…{y1:.2}"));
        cell(
            s,
            &info
                .layers
                .map_or("-".to_string(), |[a, b]| format!("{a}–{b}")),
        );
        let Some(o) = outcome else {
            cell(s, &format!("- / {}", info.vectors));
            for _ in 0..5 {
                cell(s, "(no controller report)");
            }
            s.push_str("</tr>");
            continue;
        };
        let r = &o.run;
        cell(s, &format!("{} / {}", r.vectors_executed, info.vectors));
        let state = match (&r.skipped_at_layer, &r.skip_rule) {
            (Some(l), Some(rule)) => format!("{} from layer {l} ({rule})", r.state),
            _ => r.state.clone(),
        };
        cell(s, &state);
        cell(s, &format!("{:.1} · {:.1}", r.energy_j, r.mark_s));
        let pct = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |v| format!("{v:.d$}"));
        cell(
            s,
            &format!("{} / {}", pct(r.coverage_pct, 1), pct(r.spill_pct, 2)),
        );
        let lasers: Vec<String> = r
            .lasers
            .iter()
            .map(|l| format!("laser {}: {}", l.laser, l.vectors))
            .collect();
        cell(
            s,
            &if lasers.is_empty() {
                "-".to_string()
            } else {
                lasers.join(" · ")
            },
        );
        let _ = write!(s, "<td><code>{}</code></td>", esc(&r.executed_sha256));
        s.push_str("</tr>");
    }
    s.push_str("</table>");
}

/// The device history record of each part of the plate, as `meltline plate --out-dir` wrote
/// it: spec and mesh hashes, the design's porosity, feature sizes and fit, the marking, the
/// layer range and the software and time that made it.
fn record_table(s: &mut String, run: &RunReport, records: &BTreeMap<String, serde_json::Value>) {
    if run.job.parts.is_empty() || records.is_empty() {
        return;
    }
    s.push_str(r#"<h3>Device history records</h3><table class="records"><tr><th>serial</th><th>spec SHA-256</th><th>mesh SHA-256</th><th>porosity target / measured</th><th>strut min · pore median mm</th><th>endplate fit</th><th>marking</th><th>job hash (record)</th><th>made by · at</th></tr>"#);
    let text = |v: &serde_json::Value| v.as_str().map_or("-".to_string(), str::to_string);
    for info in &run.job.parts {
        let _ = write!(
            s,
            r#"<tr class="record" data-serial="{}">"#,
            esc(&info.serial)
        );
        cell(s, &info.serial);
        let Some(r) = records.get(&info.serial) else {
            for _ in 0..8 {
                cell(s, "(no record)");
            }
            s.push_str("</tr>");
            continue;
        };
        let _ = write!(s, "<td><code>{}</code></td>", esc(&text(&r["spec_sha256"])));
        let _ = write!(s, "<td><code>{}</code></td>", esc(&text(&r["mesh_sha256"])));
        let d = &r["design"];
        let pct = |v: &serde_json::Value| {
            v.as_f64()
                .map_or("-".to_string(), |v| format!("{:.1} %", 100.0 * v))
        };
        let mm = |v: &serde_json::Value| v.as_f64().map_or("-".to_string(), |v| format!("{v:.3}"));
        cell(
            s,
            &format!(
                "{} / {}",
                pct(&d["porosity_target"]),
                pct(&d["porosity_measured"])
            ),
        );
        cell(
            s,
            &format!("{} · {}", mm(&d["strut_min_mm"]), mm(&d["pore_median_mm"])),
        );
        cell(s, &text(&d["fit"]));
        cell(s, &text(&r["marking"]));
        let _ = write!(s, "<td><code>{}</code></td>", esc(&text(&r["job_sha256"])));
        cell(
            s,
            &format!("{} · {}", text(&r["software"]), text(&r["time_utc"])),
        );
        s.push_str("</tr>");
    }
    s.push_str("</table>");
}
