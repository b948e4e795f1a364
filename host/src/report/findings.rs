//! `#warnings`: every warning raised on the way from design to execution — thin parts the
//! slicer could not expose, energy density outside the machine's window, unsupported
//! overhangs, coarse preview meshes, features outside their recommended ranges, controller
//! warnings — each with a count and where it happened. Collected by the command that ran the
//! pipeline with the helpers here.

use std::fmt::Write;

use meltline_firmware::machine::MachineConfig;
use serde::Serialize;

use super::esc;
use crate::session::{ControllerSummary, JobSummaryReport};

/// The pipeline stage that raised a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Stage {
    /// Designing the part.
    Design,
    /// Checking the mesh or the job against the machine.
    Check,
    /// Slicing.
    Slice,
    /// Executing on the controller.
    Execution,
}

impl Stage {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Design => "design",
            Stage::Check => "check",
            Stage::Slice => "slice",
            Stage::Execution => "execution",
        }
    }
}

/// One warning with how often and where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// Stage that raised it.
    pub stage: Stage,
    /// What is wrong, in one line.
    pub what: String,
    /// How many occurrences.
    pub count: u64,
    /// Where (layers, part, parameter set).
    pub at: String,
}

/// Layer numbers as ranges: `3–7, 9, 12–14`.
pub fn layer_ranges(layers: &[u32]) -> String {
    let mut sorted = layers.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}–{end}")
        });
        i += 1;
    }
    let shown = out.len().min(12);
    let mut text = out[..shown].join(", ");
    if out.len() > shown {
        let _ = write!(text, " and {} more ranges", out.len() - shown);
    }
    text
}

/// Per-layer counts (`layer`, `count`) as one warning, or none when all are zero.
pub fn per_layer_warning(stage: Stage, what: &str, counts: &[(u32, u64)]) -> Option<Warning> {
    let layers: Vec<u32> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(l, _)| *l)
        .collect();
    let count: u64 = counts.iter().map(|(_, n)| n).sum();
    (count > 0).then(|| Warning {
        stage,
        what: what.to_string(),
        count,
        at: format!("{} layers: {}", layers.len(), layer_ranges(&layers)),
    })
}

/// Parameter sets whose volumetric energy density lies outside the machine's window.
pub fn energy_density_warnings(job: &JobSummaryReport, machine: &MachineConfig) -> Vec<Warning> {
    let lo = f64::from(machine.min_energy_mj_mm3) / 1000.0;
    let hi = f64::from(machine.max_energy_mj_mm3) / 1000.0;
    job.param_sets
        .iter()
        .filter(|p| !(lo..=hi).contains(&p.energy_density_j_mm3))
        .map(|p| Warning {
            stage: Stage::Check,
            what: format!(
                "energy density {:.1} J/mm³ outside the machine's {lo:.1}–{hi:.1} J/mm³",
                p.energy_density_j_mm3
            ),
            count: 1,
            at: format!("parameter set {}", p.id),
        })
        .collect()
}

/// The controller's warnings, one row per rule, with the layers they were raised on.
pub fn execution_warnings(c: &ControllerSummary) -> Vec<Warning> {
    let mut rules: Vec<&str> = c.warnings.iter().map(|w| w.rule.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    rules
        .into_iter()
        .map(|rule| {
            let of_rule: Vec<_> = c.warnings.iter().filter(|w| w.rule == rule).collect();
            let layers: Vec<u32> = of_rule.iter().filter_map(|w| w.layer).collect();
            Warning {
                stage: Stage::Execution,
                what: of_rule
                    .first()
                    .map_or_else(|| rule.to_string(), |w| w.message.clone()),
                count: of_rule.len() as u64,
                at: if layers.is_empty() {
                    "job".into()
                } else {
                    format!("layers {}", layer_ranges(&layers))
                },
            }
        })
        .collect()
}

/// Writes the section.
pub fn section(s: &mut String, warnings: &[Warning]) {
    let total: u64 = warnings.iter().map(|w| w.count).sum();
    let _ = write!(
        s,
        r#"<section id="warnings"><h2>Warnings</h2><p>{} kinds of warning, {total} occurrences.</p>"#,
        warnings.len()
    );
    if warnings.is_empty() {
        s.push_str(
            "<p class=\"ok\">No warning from design, check, slice or execution.</p></section>",
        );
        return;
    }
    s.push_str("<table><tr><th>stage</th><th>warning</th><th>count</th><th>where</th></tr>");
    let mut sorted: Vec<&Warning> = warnings.iter().collect();
    sorted.sort_by_key(|w| w.stage);
    for w in sorted {
        let _ = write!(
            s,
            r#"<tr class="warning" data-stage="{}"><td>{}</td><td>{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            w.stage.name(),
            w.stage.name(),
            esc(&w.what),
            w.count,
            esc(&w.at)
        );
    }
    s.push_str("</table></section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_ranges_join_consecutive_layers() {
        assert_eq!(layer_ranges(&[9, 3, 4, 5, 12, 13]), "3–5, 9, 12–13");
        assert_eq!(layer_ranges(&[]), "");
    }

    #[test]
    fn per_layer_warning_counts_all_occurrences_and_names_the_layers() {
        let w = per_layer_warning(Stage::Slice, "thin parts", &[(0, 0), (1, 4), (2, 1)]);
        let w = w.expect("a warning for five thin parts");
        assert_eq!(w.count, 5);
        assert_eq!(w.at, "2 layers: 1–2");
        assert!(per_layer_warning(Stage::Slice, "none", &[(0, 0)]).is_none());
    }

    #[test]
    fn section_lists_every_warning_with_its_count() {
        let mut s = String::new();
        let w = Warning {
            stage: Stage::Design,
            what: "mesh <coarse>".into(),
            count: 3,
            at: "cage".into(),
        };
        section(&mut s, &[w]);
        assert!(s.contains("mesh &lt;coarse&gt;"));
        assert!(s.contains(r#"<td class="num">3</td>"#));
    }
}
