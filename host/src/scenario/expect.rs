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

/// The expectations that do not hold for `o` (empty: the scenario passes), in the order the
/// scenario format lists them.
pub fn check(x: &Expect, o: &ScenarioOutcome) -> Vec<Difference> {
    let mut c = Checker { o, d: Vec::new() };
    c.timeline();
    c.state(x);
    c.faults(x);
    c.layers(x);
    c.times(x);
    c.coverage(x);
    c.spill(x);
    c.energy(x);
    c.hashes_and_resume(x);
    c.parts(x);
    c.d
}

/// Collects the differences of one outcome, one expectation family per method.
struct Checker<'a> {
    o: &'a ScenarioOutcome,
    d: Vec<Difference>,
}

impl Checker<'_> {
    fn differ(&mut self, key: &str, expected: String, actual: String) {
        self.d.push(Difference {
            expectation: key.to_string(),
            expected,
            actual,
        });
    }

    /// Every timeline event must have happened.
    fn timeline(&mut self) {
        if !self.o.unfired.is_empty() {
            let actual = format!("never happened: {}", self.o.unfired.join(", "));
            self.differ("timeline", "every event to happen".into(), actual);
        }
    }

    fn state(&mut self, x: &Expect) {
        let o = self.o;
        if let Some(s) = x.state
            && s != o.state
        {
            let why = o
                .host_stopped
                .as_deref()
                .map(|h| format!(" (host: {h})"))
                .unwrap_or_default();
            self.differ("state", format!("{s:?}"), format!("{:?}{why}", o.state));
        }
    }

    /// The set of fault rules raised, in any order.
    fn faults(&mut self, x: &Expect) {
        let o = self.o;
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
                self.differ("faults", format!("[{}]", want.join(", ")), actual);
            }
        }
    }

    /// Which layers were exposed and which states the controller passed through.
    fn layers(&mut self, x: &Expect) {
        let o = self.o;
        if let Some(want) = x.layers_exposed_once {
            let problem = exposure_problem(o);
            if want != problem.is_none() {
                self.differ(
                    "layers_exposed_once",
                    want.to_string(),
                    problem.unwrap_or_else(|| "each layer exposed exactly once".into()),
                );
            }
        }
        if let Some(n) = x.layers_exposed
            && n as usize != o.exposed.len()
        {
            self.differ("layers_exposed", n.to_string(), o.exposed.len().to_string());
        }
        if let Some(want) = &x.passes_through {
            let mut it = o.states.iter();
            let missing = want
                .iter()
                .find(|s| !it.any(|got| *got == format!("{s:?}")));
            if let Some(m) = missing {
                self.differ(
                    "passes_through",
                    format!("{want:?}"),
                    format!("{} (no {m:?} in that order)", o.states.join(" → ")),
                );
            }
        }
    }

    fn times(&mut self, x: &Expect) {
        let o = self.o;
        if let Some(r) = x.build_time_s
            && !inside(o.build_time_s, r)
        {
            self.differ("build_time_s", range(r), format!("{:.3}", o.build_time_s));
        }
        if let Some(r) = x.interlock_s
            && !inside(o.interlock_s, r)
        {
            self.differ("interlock_s", range(r), format!("{:.3}", o.interlock_s));
        }
    }

    /// The least coverage over the exposed layers.
    fn coverage(&mut self, x: &Expect) {
        let Some(min) = x.coverage_pct_min else {
            return;
        };
        let worst = self
            .o
            .exposed
            .iter()
            .map(|l| (l.layer, l.coverage_pct))
            .min_by(|a, b| a.1.unwrap_or(-1.0).total_cmp(&b.1.unwrap_or(-1.0)));
        let actual = match worst {
            Some((layer, Some(c))) if c < min => format!("{c:.2} on layer {layer}"),
            Some((layer, None)) => format!("no exposure map for layer {layer}"),
            None => "no layer exposed".into(),
            _ => return,
        };
        self.differ(
            "coverage_pct_min",
            format!("≥ {min} on every layer"),
            actual,
        );
    }

    /// The greatest spill over the exposed layers.
    fn spill(&mut self, x: &Expect) {
        let Some(max) = x.spill_pct_max else {
            return;
        };
        let worst = self
            .o
            .exposed
            .iter()
            .map(|l| (l.layer, l.spill_pct.unwrap_or(f64::INFINITY)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((layer, s)) = worst
            && s > max
        {
            let actual = if s.is_finite() {
                format!("{s:.2} on layer {layer}")
            } else {
                format!("no exposure map for layer {layer}")
            };
            self.differ("spill_pct_max", format!("≤ {max} on every layer"), actual);
        }
    }

    /// Each energy window: every exposed layer in its range inside its joules.
    fn energy(&mut self, x: &Expect) {
        let o = self.o;
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
            let actual = if layers.is_empty() {
                "none of those layers exposed".to_string()
            } else if let Some(l) = layers.iter().find(|l| !inside(l.energy_j, w.joules)) {
                format!("{:.3} J on layer {}", l.energy_j, l.layer)
            } else {
                continue;
            };
            let expected = format!("{} J on {which}", range(w.joules));
            self.differ(&format!("energy[{i}]"), expected, actual);
        }
    }

    /// On a plate: exactly the expected parts skipped, where and why; every other part built.
    fn parts(&mut self, x: &Expect) {
        let Some(want) = &x.parts_skipped else {
            return;
        };
        let o = self.o;
        let expected: Vec<String> = want
            .iter()
            .map(|p| format!("{} skipped from layer {} ({:?})", p.id, p.layer, p.rule))
            .collect();
        let skipped: Vec<String> = o
            .parts
            .iter()
            .filter(|p| p.state == "Skipped")
            .map(|p| {
                format!(
                    "{} skipped from layer {} ({})",
                    p.id,
                    p.skipped_at_layer.unwrap_or(0),
                    p.skip_rule.as_deref().unwrap_or("?")
                )
            })
            .collect();
        if skipped != expected {
            self.differ(
                "parts_skipped",
                expected.join(", "),
                format!("[{}]", skipped.join(", ")),
            );
        }
        let unbuilt: Vec<String> = o
            .parts
            .iter()
            .filter(|p| p.state != "Built" && p.state != "Skipped")
            .map(|p| format!("{} {}", p.id, p.state))
            .collect();
        if o.parts.is_empty() || !unbuilt.is_empty() {
            self.differ(
                "parts_skipped",
                "every other part of the plate built".into(),
                if o.parts.is_empty() {
                    "no parts reported".into()
                } else {
                    unbuilt.join(", ")
                },
            );
        }
    }

    /// Executed against job hash, the resume layer and the link's error count.
    fn hashes_and_resume(&mut self, x: &Expect) {
        let o = self.o;
        if let Some(want) = x.hashes_equal {
            let equal = o.executed_sha256 == o.job_sha256;
            if want != equal {
                self.differ(
                    "hashes_equal",
                    format!("{want} (job {})", o.job_sha256),
                    format!("executed {}", o.executed_sha256),
                );
            }
        }
        if let Some(layer) = x.resumed_from
            && o.resumed_from != Some(layer)
        {
            self.differ(
                "resumed_from",
                format!("resumed at layer {layer}"),
                o.resumed_from
                    .map_or("no resume".to_string(), |l| format!("resumed at layer {l}")),
            );
        }
        if let Some(min) = x.link_errors_min
            && o.link.link_errors < min
        {
            self.differ(
                "link_errors_min",
                format!("≥ {min}"),
                o.link.link_errors.to_string(),
            );
        }
    }
}
