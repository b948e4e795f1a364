//! Declarative print scenarios: a job, a machine, a timeline of injected events and the
//! expected outcome, replayed through the real controller code over a simulated link on a
//! virtual clock — the controller's end-to-end test suite (`meltline scenario run`).
//!
//! ```toml
//! name = "oxygen excursion"
//! [job]
//! box_mm = [6.0, 4.0, 0.3]          # or mesh = "…", cage = "default", mlj = "…"
//! [machine]                          # overrides of the machine file / defaults
//! oxygen_threshold_ppm = 1000
//! [[event]]
//! kind = "oxygen-excursion"
//! layer = 4
//! peak_ppm = 2500
//! duration_s = 40
//! [expect]
//! state = "Done"
//! passes_through = ["Printing", "Paused", "Printing", "Done"]
//! interlock_s = [40, 40]
//! ```
//!
//! Events: `oxygen-excursion`, `recoater-collision`, `laser-drift` (machine model);
//! `link-fault` (`drop`, `corrupt`, `duplicate`, `disconnect` of a stream frame);
//! `power-loss` (mid-layer); `pause` (with `resume_after_s`), `abort` (operator).
//! Expectations: see [`spec::Expect`].

pub mod expect;
pub mod link;
pub mod run;
pub mod spec;

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

pub use expect::{Difference, check};
pub use run::{ScenarioOutcome, ScenarioRun, build_job, run_job};
pub use spec::{Scenario, ScenarioError};

/// The verdict on one scenario file.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// Scenario name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// All expectations held.
    pub passed: bool,
    /// The expectations that did not hold.
    pub differences: Vec<Difference>,
    /// The scenario could not be read or its job not made.
    pub error: Option<String>,
    /// What happened.
    pub outcome: Option<ScenarioOutcome>,
    /// Wall time to make the job, s.
    pub job_wall_s: f64,
    /// Wall time of the simulated build, s.
    pub sim_wall_s: f64,
    /// Build time ÷ simulation wall time.
    pub speedup: f64,
    /// CPU time of the simulation, s (Linux).
    pub sim_cpu_s: Option<f64>,
}

impl ScenarioResult {
    /// One line on what differed (or the error), for tables and JUnit messages.
    pub fn why(&self) -> String {
        if let Some(e) = &self.error {
            return e.clone();
        }
        self.differences
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Reads, runs and checks one scenario file.
pub fn run_file(path: &Path) -> ScenarioResult {
    let file = path.display().to_string();
    let failed = |name: String, e: ScenarioError| ScenarioResult {
        name,
        file: file.clone(),
        passed: false,
        differences: Vec::new(),
        error: Some(e.to_string()),
        outcome: None,
        job_wall_s: 0.0,
        sim_wall_s: 0.0,
        speedup: 0.0,
        sim_cpu_s: None,
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let s = match Scenario::read(path) {
        Ok(s) => s,
        Err(e) => return failed(stem, e),
    };
    match run::run(&s) {
        Ok(r) => result_of(&s, r),
        Err(e) => failed(s.name, e),
    }
}

/// The verdict on a run of `s`.
pub fn result_of(s: &Scenario, r: ScenarioRun) -> ScenarioResult {
    let differences = check(&s.expect, &r.outcome);
    ScenarioResult {
        name: s.name.clone(),
        file: s.path.display().to_string(),
        passed: differences.is_empty(),
        differences,
        error: None,
        speedup: r.speedup(),
        outcome: Some(r.outcome),
        job_wall_s: r.job_wall_s,
        sim_wall_s: r.sim_wall_s,
        sim_cpu_s: r.sim_cpu_s,
    }
}

/// The table printed by `meltline scenario run`: scenario, result, build time, what differed.
pub fn table(results: &[ScenarioResult]) -> String {
    let w = results
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<w$}  {:<6}  {:>11}  {:>9}  what differed (expected vs actual)",
        "scenario", "result", "build time", "sim ×"
    );
    for r in results {
        let (time, speed) = match &r.outcome {
            Some(o) => (
                crate::session::hms(o.build_time_s),
                format!("{:.0}", r.speedup),
            ),
            None => ("-".into(), "-".into()),
        };
        let verdict = if r.passed {
            "pass"
        } else if r.error.is_some() {
            "ERROR"
        } else {
            "FAIL"
        };
        let _ = writeln!(
            s,
            "{:<w$}  {:<6}  {:>11}  {:>9}  {}",
            r.name,
            verdict,
            time,
            speed,
            if r.passed { String::new() } else { r.why() }
        );
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    let _ = write!(
        s,
        "{} scenarios: {} passed, {} failed",
        results.len(),
        results.len() - failed,
        failed
    );
    s
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one `testsuite` of one `testcase` per scenario, with a `failure` (expectations
/// that did not hold) or an `error` (unreadable scenario, job not made).
pub fn junit_xml(results: &[ScenarioResult]) -> String {
    let failures = results
        .iter()
        .filter(|r| !r.passed && r.error.is_none())
        .count();
    let errors = results.iter().filter(|r| r.error.is_some()).count();
    let time: f64 = results.iter().map(|r| r.job_wall_s + r.sim_wall_s).sum();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"meltline scenarios\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">",
        results.len()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"scenarios\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"{time:.3}\">",
        results.len()
    );
    for r in results {
        let _ = write!(
            s,
            "    <testcase classname=\"scenarios\" name=\"{}\" file=\"{}\" time=\"{:.3}\"",
            xml_escape(&r.name),
            xml_escape(&r.file),
            r.job_wall_s + r.sim_wall_s
        );
        if r.passed {
            s.push_str("/>\n");
            continue;
        }
        s.push_str(">\n");
        let (tag, kind) = if r.error.is_some() {
            ("error", "ScenarioError")
        } else {
            ("failure", "ExpectationFailed")
        };
        let body: Vec<String> = match &r.error {
            Some(e) => vec![e.clone()],
            None => r.differences.iter().map(|d| d.to_string()).collect(),
        };
        let _ = writeln!(
            s,
            "      <{tag} message=\"{}\" type=\"{kind}\">{}</{tag}>",
            xml_escape(&r.why()),
            xml_escape(&body.join("\n"))
        );
        s.push_str("    </testcase>\n");
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}
