//! `#summary`: what an engineer signs (verdict, hashes, machine, material, software, date,
//! operator, powder lot); then the traceability chain, the job, its parameter sets, the link
//! and the per-layer charts.

use std::fmt::Write;

use super::{ReportContext, esc, line_chart};
use crate::session::{ParamSetReport, RunReport, hms};

fn row(s: &mut String, k: &str, v: &str) {
    let _ = write!(
        s,
        "<tr><th>{}</th><td><code>{}</code></td></tr>",
        esc(k),
        esc(v)
    );
}

/// The signable summary, with a signature block.
pub fn signoff(s: &mut String, run: &RunReport, ctx: &ReportContext) {
    let j = &run.job;
    let l = &run.link;
    let ok = run.verified();
    let _ = write!(
        s,
        r#"<section id="summary"><h1>Build report — {}</h1><p id="verdict" class="{}">{}</p><table class="signoff">"#,
        esc(&j.name),
        if ok { "ok" } else { "bad" },
        esc(&run.verdict)
    );
    let unset = "(not given)";
    for (k, v) in [
        ("job hash (SHA-256)", j.job_sha256.as_str()),
        (
            "executed hash",
            l.executed_sha256
                .as_deref()
                .unwrap_or("(no report from the controller)"),
        ),
        ("machine", j.machine.as_str()),
        ("material", j.material.as_str()),
        ("software", ctx.software.as_str()),
        ("date", ctx.date_utc.as_str()),
        ("operator", ctx.operator.as_deref().unwrap_or(unset)),
        ("powder lot", ctx.powder_lot.as_deref().unwrap_or(unset)),
    ] {
        row(s, k, v);
    }
    let executed = run.controller.as_ref().map_or_else(
        || "(no controller report)".to_string(),
        |c| {
            format!(
                "{} of {} layers, {} vectors, {}, {:.1} J",
                c.layers_executed,
                j.layers,
                c.total.marks,
                hms(c.total.total_s),
                c.total.energy_j
            )
        },
    );
    row(s, "executed", &executed);
    row(s, "warnings", &ctx.warnings.len().to_string());
    s.push_str(
        r#"</table><div class="signature"><div>Released by (build engineer)<span></span></div><div>Reviewed by (quality)<span></span></div><div>Date<span></span></div></div></section>"#,
    );
}

/// Traceability, the job, the parameter sets and the link.
pub fn details(s: &mut String, run: &RunReport) {
    let j = &run.job;
    let l = &run.link;
    s.push_str(r#"<section id="traceability"><h2>Traceability</h2><table>"#);
    let trace = run.trace.clone().unwrap_or_default();
    row(
        s,
        "cage spec SHA-256",
        trace
            .spec_sha256
            .as_deref()
            .unwrap_or("(job given as a file)"),
    );
    row(
        s,
        "mesh SHA-256 (STL)",
        trace.mesh_sha256.as_deref().unwrap_or("(not recorded)"),
    );
    row(s, "job SHA-256", &l.job_sha256);
    row(s, "job file SHA-256", &j.file_sha256);
    row(
        s,
        "executed hash",
        l.executed_sha256
            .as_deref()
            .unwrap_or("(no report from the controller)"),
    );
    row(
        s,
        "verification",
        if run.verified() {
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
        row(s, k, &v);
    }
    s.push_str("</table><h2>Parameter sets</h2><table><tr>");
    for h in ParamSetReport::COLUMNS {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr>");
    for p in &j.param_sets {
        s.push_str("<tr>");
        for c in p.cells() {
            let _ = write!(s, "<td>{}</td>", esc(&c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table><h2>Link</h2>");
    let f = &l.link_faults;
    let _ = write!(
        s,
        "<p>{} frames sent ({} wire bytes); the link injected {} drops, {} corruptions, {} duplicates and {} forced disconnects. \
         The host retransmitted {} frames after {} timeouts and {} reconnections; {:.2} MB/s, {:.0} vectors/s.</p></section>",
        l.frames,
        l.bytes_sent,
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
}

/// Per-layer charts: machine time, energy, vectors, coverage and spill.
pub fn per_layer(s: &mut String, run: &RunReport) {
    let j = &run.job;
    s.push_str(r#"<section id="per-layer"><h2>Per layer</h2>"#);
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
                est_t,
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
    s.push_str("</section>");
}
