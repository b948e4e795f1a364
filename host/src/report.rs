//! The build report: one self-contained HTML file (no scripts, no external resources) with the
//! traceability chain spec → mesh SHA-256 → job SHA-256 → executed hash → verification outcome,
//! the parameter sets, per-layer charts (time, energy, vectors, coverage) drawn as inline SVG,
//! and pictures of the first, middle and last layers.

use std::fmt::Write;
use std::path::Path;

use crate::jobfile::JobFile;
use crate::picture::layer_svg;
use crate::session::{RunReport, hms};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A line chart of `values` against layer index, `w`×`h` pixels, inline SVG.
pub fn line_chart(title: &str, unit: &str, values: &[f64], w: u32, h: u32) -> String {
    let mut s = String::new();
    let (w, h) = (f64::from(w), f64::from(h));
    let (l, r, t, b) = (56.0, 10.0, 22.0, 26.0);
    let max = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let max = if max > 0.0 { max * 1.05 } else { 1.0 };
    let n = values.len().max(2) as f64 - 1.0;
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" class="chart"><text x="{l}" y="15" font-weight="bold">{}</text><line x1="{l}" y1="{}" x2="{}" y2="{}" stroke="#888"/><line x1="{l}" y1="{t}" x2="{l}" y2="{}" stroke="#888"/><text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">0</text><text x="{l}" y="{}">layer 0</text><text x="{}" y="{}" text-anchor="end">layer {}</text>"##,
        esc(title),
        h - b,
        w - r,
        h - b,
        h - b,
        l - 4.0,
        t + 10.0,
        esc(&format!("{max:.3} {unit}")),
        l - 4.0,
        h - b,
        h - 8.0,
        w - r,
        h - 8.0,
        values.len().saturating_sub(1)
    );
    let mut pts = String::new();
    for (i, v) in values.iter().enumerate() {
        let x = l + (w - l - r) * i as f64 / n;
        let y = h - b - (h - t - b) * (v / max).clamp(0.0, 1.0);
        let _ = write!(pts, "{x:.1},{y:.1} ");
    }
    let _ = write!(
        s,
        r##"<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{pts}"/></svg>"##
    );
    s
}

/// Writes the report for `run` of `job` to `path` (atomically).
pub fn write_html_report(run: &RunReport, job: &JobFile, path: &Path) -> std::io::Result<()> {
    let html = html_report(run, job);
    meltline_core::io::write_bytes_atomically(path, html.as_bytes())
}

/// The report as HTML text.
pub fn html_report(run: &RunReport, job: &JobFile) -> String {
    let j = &run.job;
    let l = &run.link;
    let mut s = String::new();
    let ok = run.verified();
    let _ = write!(
        s,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>meltline build report — {}</title><style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}}code{{font-size:90%}}.ok{{color:#1a7f37;font-weight:bold}}.bad{{color:#c62828;font-weight:bold}}.chart{{margin:4px;border:1px solid #eee}}text{{font-size:11px}}pre{{background:#f6f6f6;padding:1em;overflow:auto}}</style></head><body>"#,
        esc(&j.name)
    );
    let _ = write!(
        s,
        "<h1>Build report</h1><p class=\"{}\">{}</p>",
        if ok { "ok" } else { "bad" },
        esc(&run.verdict)
    );
    s.push_str("<h2>Traceability</h2><table>");
    let trace = run.trace.clone().unwrap_or_default();
    let row = |s: &mut String, k: &str, v: &str| {
        let _ = write!(
            s,
            "<tr><th>{}</th><td><code>{}</code></td></tr>",
            esc(k),
            esc(v)
        );
    };
    row(
        &mut s,
        "cage spec SHA-256",
        trace
            .spec_sha256
            .as_deref()
            .unwrap_or("(job given as a file)"),
    );
    row(
        &mut s,
        "mesh SHA-256 (STL)",
        trace.mesh_sha256.as_deref().unwrap_or("(not recorded)"),
    );
    row(&mut s, "job SHA-256", &l.job_sha256);
    row(&mut s, "job file SHA-256", &j.file_sha256);
    row(
        &mut s,
        "executed hash",
        l.executed_sha256
            .as_deref()
            .unwrap_or("(no report from the controller)"),
    );
    row(
        &mut s,
        "verification",
        if ok {
            "executed hash equals job hash; all vectors marked"
        } else {
            "FAILED"
        },
    );
    s.push_str("</table>");
    if let Some(spec) = &trace.spec {
        let _ = write!(
            s,
            "<details><summary>cage spec</summary><pre>{}</pre></details>",
            esc(spec)
        );
    }
    s.push_str("<h2>Job</h2><table>");
    for (k, v) in [
        ("file", j.name.clone()),
        (
            "machine / material",
            format!("{} / {}", j.machine, j.material),
        ),
        (
            "layers",
            format!(
                "{} × {} µm",
                j.layers,
                f64::from(j.layer_thickness_nm) / 1000.0
            ),
        ),
        ("vectors", j.vectors.to_string()),
        (
            "bytes",
            format!("{} ({:.2} bytes per vector)", j.bytes, j.bytes_per_vector),
        ),
        ("estimated build time", hms(j.est_time_s)),
        ("estimated energy", format!("{:.1} J", j.est_energy_j)),
    ] {
        row(&mut s, k, &v);
    }
    s.push_str("</table><h2>Parameter sets</h2><table><tr><th>id</th><th>power W</th><th>speed mm/s</th><th>spot µm</th><th>hatch µm</th><th>E J/mm³</th><th>skywriting</th></tr>");
    for p in &j.param_sets {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td></tr>",
            p.id,
            p.power_w,
            p.speed_mm_s,
            p.spot_um,
            p.hatch_um,
            p.energy_density_j_mm3,
            p.skywriting
        );
    }
    s.push_str("</table><h2>Link</h2>");
    let f = &l.link_faults;
    let _ = write!(
        s,
        "<p>{} frames through the link: {} dropped, {} corrupted, {} duplicated, {} forced disconnects. \
         The host retransmitted {} frames after {} timeouts and {} reconnections; {:.2} MB/s, {:.0} vectors/s.</p>",
        f.frames,
        f.dropped,
        f.corrupted,
        f.duplicated,
        f.disconnects,
        l.retransmits,
        l.timeouts,
        l.reconnects,
        l.throughput_mb_s,
        l.vectors_per_s
    );
    s.push_str("<h2>Per layer</h2>");
    let est_t: Vec<f64> = j.per_layer.iter().map(|x| x.est_time_s).collect();
    let vecs: Vec<f64> = j.per_layer.iter().map(|x| x.vectors as f64).collect();
    let (exec_t, energy, cov, spill): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) =
        match &run.controller {
            Some(c) => (
                c.layers.iter().map(|x| x.total_s).collect(),
                c.layers.iter().map(|x| x.energy_j).collect(),
                c.layers.iter().filter_map(|x| x.coverage_pct).collect(),
                c.layers.iter().filter_map(|x| x.spill_pct).collect(),
            ),
            None => (
                est_t.clone(),
                j.per_layer.iter().map(|x| x.est_energy_j).collect(),
                vec![],
                vec![],
            ),
        };
    s.push_str(&line_chart(
        "machine time per layer",
        "s",
        &exec_t,
        520,
        200,
    ));
    s.push_str(&line_chart(
        "laser energy per layer",
        "J",
        &energy,
        520,
        200,
    ));
    s.push_str(&line_chart("vectors per layer", "", &vecs, 520, 200));
    if !cov.is_empty() {
        s.push_str(&line_chart(
            "coverage of the intended section",
            "%",
            &cov,
            520,
            200,
        ));
        s.push_str(&line_chart(
            "spill outside the section",
            "%",
            &spill,
            520,
            200,
        ));
    }
    s.push_str("<h2>Layers</h2><p>Contours red, hatches blue, edges purple, supports grey.</p>");
    let n = job.layer_count();
    let mut picks = vec![0, n / 2, n.saturating_sub(1)];
    picks.dedup();
    for i in picks.into_iter().filter(|i| *i < n) {
        let segs = job.layer_segments(i);
        let _ = write!(
            s,
            "<figure style=\"display:inline-block\">{}<figcaption>layer {i} ({} vectors)</figcaption></figure>",
            layer_svg(&segs, 340, &format!("layer {i}")),
            segs.len()
        );
    }
    s.push_str("</body></html>\n");
    s
}
