//! Checking a run's outcome against the scenario's expectations: every expectation that does
//! not hold becomes a [`Difference`] naming it, what was expected and what happened.

use serde::Serialize;

use super::run::ScenarioOutcome;
use super::spec::Expect;

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// The expectation key, e.g. `state` or `energy[1]`.
    pub expectation: String,
    /// What the scenario expected.
    pub expected: String,
    /// What happened.
    pub actual: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.expectation, self.expected, self.actual
        )
    }
}

fn range(r: [f64; 2]) -> String {
    format!("{}–{}", r[0], r[1])
}

fn inside(v: f64, r: [f64; 2]) -> bool {
    v >= r[0] && v <= r[1]
}

/// Why the exposed layers are not "each layer exactly once, in order, complete", if they are not.
fn exposure_problem(o: &ScenarioOutcome) -> Option<String> {
    let mut seen = vec![0u32; o.job_layers as usize];
    for l in &o.exposed {
        match seen.get_mut(l.layer as usize) {
            Some(n) => *n += 1,
            None => return Some(format!("layer {} is not in the job", l.layer)),
        }
    }
    let twice: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 1)
        .map(|(i, n)| format!("{i} ({n}×)"))
        .collect();
    if !twice.is_empty() {
        return Some(format!(
            "layers exposed more than once: {}",
            twice.join(", ")
        ));
    }
    if let Some((i, l)) = o
        .exposed
        .iter()
        .enumerate()
        .find(|(i, l)| l.layer as usize != *i)
    {
        return Some(format!(
            "exposure out of order: layer {} exposed in position {i}",
            l.layer
        ));
    }
    if let Some(l) = o.exposed.iter().find(|l| l.marks != l.job_vectors) {
        return Some(format!(
            "layer {} marked {} of its {} vectors",
            l.layer, l.marks, l.job_vectors
        ));
    }
    if o.state == meltline_firmware::wire::ControllerState::Done
        && o.exposed.len() != o.job_layers as usize
    {
        return Some(format!(
            "Done after {} of {} layers",
            o.exposed.len(),
            o.job_layers
        ));
    }
    None
}

/// The expectations that do not hold for `o` (empty: the scenario passes).
pub fn check(x: &Expect, o: &ScenarioOutcome) -> Vec<Difference> {
    let mut d = Vec::new();
    let mut differ = |key: &str, expected: String, actual: String| {
        d.push(Difference {
            expectation: key.to_string(),
            expected,
            actual,
        })
    };
    if !o.unfired.is_empty() {
        differ(
            "timeline",
            "every event to happen".into(),
            format!("never happened: {}", o.unfired.join(", ")),
        );
    }
    if let Some(s) = x.state
        && s != o.state
    {
        let why = o
            .host_stopped
            .as_deref()
            .map(|h| format!(" (host: {h})"))
            .unwrap_or_default();
        differ("state", format!("{s:?}"), format!("{:?}{why}", o.state));
    }
    if let Some(rules) = &x.faults {
        let mut want: Vec<String> = rules.iter().map(|r| format!("{r:?}")).collect();
        let mut got = o.fault_rules.clone();
        want.sort();
        got.sort();
        if want != got {
            let actual = if o.faults.is_empty() {
                "no fault".to_string()
            } else {
                o.faults.join("; ")
            };
            differ("faults", format!("[{}]", want.join(", ")), actual);
        }
    }
    if let Some(want) = x.layers_exposed_once {
        let problem = exposure_problem(o);
        if want != problem.is_none() {
            differ(
                "layers_exposed_once",
                want.to_string(),
                problem.unwrap_or_else(|| "each layer exposed exactly once".into()),
            );
        }
    }
    if let Some(n) = x.layers_exposed
        && n as usize != o.exposed.len()
    {
        differ("layers_exposed", n.to_string(), o.exposed.len().to_string());
    }
    if let Some(want) = &x.passes_through {
        let mut it = o.states.iter();
        let missing = want
            .iter()
            .find(|s| !it.any(|got| *got == format!("{s:?}")));
        if let Some(m) = missing {
            differ(
                "passes_through",
                format!("{want:?}"),
                format!("{} (no {m:?} in that order)", o.states.join(" → ")),
            );
        }
    }
    if let Some(r) = x.build_time_s
        && !inside(o.build_time_s, r)
    {
        differ("build_time_s", range(r), format!("{:.3}", o.build_time_s));
    }
    if let Some(r) = x.interlock_s
        && !inside(o.interlock_s, r)
    {
        differ("interlock_s", range(r), format!("{:.3}", o.interlock_s));
    }
    if let Some(min) = x.coverage_pct_min {
        let worst = o
            .exposed
            .iter()
            .map(|l| (l.layer, l.coverage_pct))
            .min_by(|a, b| a.1.unwrap_or(-1.0).total_cmp(&b.1.unwrap_or(-1.0)));
        match worst {
            Some((layer, Some(c))) if c < min => differ(
                "coverage_pct_min",
                format!("≥ {min} on every layer"),
                format!("{c:.2} on layer {layer}"),
            ),
            Some((layer, None)) => differ(
                "coverage_pct_min",
                format!("≥ {min} on every layer"),
                format!("no exposure map for layer {layer}"),
            ),
            None => differ(
                "coverage_pct_min",
                format!("≥ {min} on every layer"),
                "no layer exposed".into(),
            ),
            _ => {}
        }
    }
    if let Some(max) = x.spill_pct_max {
        let worst = o
            .exposed
            .iter()
            .map(|l| (l.layer, l.spill_pct.unwrap_or(f64::INFINITY)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((layer, s)) = worst
            && s > max
        {
            differ(
                "spill_pct_max",
                format!("≤ {max} on every layer"),
                if s.is_finite() {
                    format!("{s:.2} on layer {layer}")
                } else {
                    format!("no exposure map for layer {layer}")
                },
            );
        }
    }
    for (i, w) in x.energy.iter().flatten().enumerate() {
        let (a, b) = w.layers.map_or((0, u32::MAX), |[a, b]| (a, b));
        let layers: Vec<_> = o
            .exposed
            .iter()
            .filter(|l| l.layer >= a && l.layer <= b)
            .collect();
        let which = w.layers.map_or("every layer".to_string(), |[a, b]| {
            format!("layers {a}–{b}")
        });
        if layers.is_empty() {
            differ(
                &format!("energy[{i}]"),
                format!("{} J on {which}", range(w.joules)),
                "none of those layers exposed".into(),
            );
        } else if let Some(l) = layers.iter().find(|l| !inside(l.energy_j, w.joules)) {
            differ(
                &format!("energy[{i}]"),
                format!("{} J on {which}", range(w.joules)),
                format!("{:.3} J on layer {}", l.energy_j, l.layer),
            );
        }
    }
    if let Some(want) = x.hashes_equal {
        let equal = o.executed_sha256 == o.job_sha256;
        if want != equal {
            differ(
                "hashes_equal",
                format!("{want} (job {})", o.job_sha256),
                format!("executed {}", o.executed_sha256),
            );
        }
    }
    if let Some(layer) = x.resumed_from
        && o.resumed_from != Some(layer)
    {
        differ(
            "resumed_from",
            format!("resumed at layer {layer}"),
            o.resumed_from
                .map_or("no resume".to_string(), |l| format!("resumed at layer {l}")),
        );
    }
    if let Some(min) = x.link_errors_min
        && o.link.link_errors < min
    {
        differ(
            "link_errors_min",
            format!("≥ {min}"),
            o.link.link_errors.to_string(),
        );
    }
    d
}
