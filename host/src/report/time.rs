//! `#time-breakdown`: where the machine time went — marks, jumps, delays, recoat, platform and
//! the oxygen interlock — per layer (a stacked chart) and in total (a table), from the
//! controller's report. The controller counts recoating and platform lowering together; both
//! are fixed per layer on the machine model, so the machine file's `recoat_ms` and
//! `platform_ms` split them exactly.

use std::fmt::Write;

use meltline_firmware::machine::MachineConfig;
use meltline_firmware::sim::report::LaserRun;

use super::chart::{Band, stacked_chart};
use crate::session::{RunReport, TimeSplit, hms};

/// Machine time in the categories of the breakdown, s.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Breakdown {
    /// Laser-on travel.
    pub marks: f64,
    /// Laser-off travel.
    pub jumps: f64,
    /// Scanner and laser delays.
    pub delays: f64,
    /// Recoating.
    pub recoat: f64,
    /// Platform lowering.
    pub platform: f64,
    /// Waiting on the oxygen interlock.
    pub interlock: f64,
}

impl Breakdown {
    /// Splits a controller time split with the machine's recoat/platform ratio.
    pub fn of(t: &TimeSplit, machine: &MachineConfig) -> Breakdown {
        let both = f64::from(machine.recoat_ms) + f64::from(machine.platform_ms);
        let platform_share = if both > 0.0 {
            f64::from(machine.platform_ms) / both
        } else {
            0.0
        };
        Breakdown {
            marks: t.mark_s,
            jumps: t.jump_s,
            delays: t.delay_s,
            recoat: t.recoat_s * (1.0 - platform_share),
            platform: t.recoat_s * platform_share,
            interlock: t.interlock_s,
        }
    }

    /// The categories with their names and colours, in chart order.
    pub fn named(&self) -> [(&'static str, &'static str, f64); 6] {
        [
            ("marks", "#d62728", self.marks),
            ("jumps", "#1f77b4", self.jumps),
            ("delays", "#9467bd", self.delays),
            ("recoat", "#7f7f7f", self.recoat),
            ("platform", "#bcbd22", self.platform),
            ("interlock", "#ff7f0e", self.interlock),
        ]
    }

    /// Sum of the categories, s.
    pub fn total(&self) -> f64 {
        self.named().iter().map(|(_, _, v)| v).sum()
    }
}

/// Writes the section.
pub fn section(s: &mut String, run: &RunReport, machine: &MachineConfig) {
    s.push_str(r#"<section id="time-breakdown"><h2>Time breakdown</h2>"#);
    let Some(c) = &run.controller else {
        s.push_str("<p>No controller report: the machine time was not measured.</p></section>");
        return;
    };
    let total = Breakdown::of(&c.total.split, machine);
    let per_layer: Vec<Breakdown> = c
        .layers
        .iter()
        .map(|l| Breakdown::of(&l.split, machine))
        .collect();
    let sum = total.total().max(f64::MIN_POSITIVE);
    let _ = write!(
        s,
        r#"<p>{} of machine time over {} executed layers ({}); recoat {:.0} ms and platform {:.0} ms per layer on {}.</p><table class="time"><tr><th>category</th><th>total</th><th>s</th><th>share</th><th>mean per layer, s</th></tr>"#,
        hms(c.total.total_s),
        c.layers.len(),
        super::esc(&c.state),
        machine.recoat_ms,
        machine.platform_ms,
        super::esc(machine.machine.as_str())
    );
    let n = per_layer.len().max(1) as f64;
    for (name, colour, v) in total.named() {
        let _ = write!(
            s,
            r#"<tr data-category="{name}"><td><span class="swatch" style="background:{colour}"></span>{name}</td><td>{}</td><td>{v:.1}</td><td>{:.1} %</td><td>{:.3}</td></tr>"#,
            hms(v),
            100.0 * v / sum,
            v / n
        );
    }
    let _ = write!(
        s,
        r#"<tr><th>total</th><th>{}</th><th>{:.1}</th><th>100 %</th><th>{:.3}</th></tr></table>"#,
        hms(total.total()),
        total.total(),
        total.total() / n
    );
    let bands: Vec<Band<'_>> = total
        .named()
        .iter()
        .enumerate()
        .map(|(k, (name, colour, _))| Band {
            name,
            colour,
            values: per_layer.iter().map(|b| b.named()[k].2).collect(),
        })
        .collect();
    s.push_str(&stacked_chart(
        "machine time per layer by category",
        "s",
        &bands,
        1040,
        260,
    ));
    lasers_table(s, c.exposure_s, &c.lasers);
    s.push_str("</section>");
}

/// With several lasers: each one's vectors and exposure time (its marks, jumps and delays),
/// against the job's exposure, the sum over layers of the slowest laser's.
pub fn lasers_table(s: &mut String, exposure_s: f64, lasers: &[LaserRun]) {
    if lasers.len() < 2 {
        return;
    }
    let _ = write!(
        s,
        r#"<h3>Lasers</h3><p>The {} lasers expose each layer at once: a layer takes as long as its slowest laser, plus recoating. Exposure of the job (each layer's slowest laser): {} ({exposure_s:.1} s).</p><table class="lasers"><tr><th>laser</th><th>vectors</th><th>exposure</th><th>s</th><th>of the job's exposure</th></tr>"#,
        lasers.len(),
        hms(exposure_s)
    );
    for l in lasers {
        let [r, g, b] = crate::picture::LASER_COLOURS[l.index % 8];
        let _ = write!(
            s,
            r##"<tr data-laser="{}"><td><span class="swatch" style="background:#{r:02x}{g:02x}{b:02x}"></span>laser {}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1} %</td></tr>"##,
            l.index,
            l.index,
            l.vectors,
            hms(l.exposure_s),
            l.exposure_s,
            100.0 * l.exposure_s / exposure_s.max(f64::MIN_POSITIVE)
        );
    }
    s.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_lasers_are_listed_with_their_share_of_the_jobs_exposure_and_one_is_not() {
        let run = |index, vectors, exposure_s| LaserRun {
            index,
            vectors,
            exposure_s,
        };
        let mut s = String::new();
        lasers_table(&mut s, 100.0, &[run(0, 1200, 100.0), run(1, 800, 60.0)]);
        assert!(s.contains(r#"<tr data-laser="0">"#) && s.contains(r#"<tr data-laser="1">"#));
        assert!(
            s.contains("<td>800</td>") && s.contains("<td>60.0 %</td>"),
            "{s}"
        );
        assert!(
            s.contains("#1f77b4") && s.contains("#ff7f0e"),
            "laser colours: {s}"
        );
        let mut one = String::new();
        lasers_table(&mut one, 100.0, &[run(0, 2000, 100.0)]);
        assert!(one.is_empty());
    }

    #[test]
    fn recoat_and_platform_are_split_by_the_machine_file() {
        let machine = MachineConfig::default();
        let per_layer = f64::from(machine.recoat_ms + machine.platform_ms) / 1000.0;
        let t = TimeSplit {
            mark_s: 2.0,
            recoat_s: 10.0 * per_layer,
            ..TimeSplit::default()
        };
        let b = Breakdown::of(&t, &machine);
        assert!((b.recoat - 10.0 * f64::from(machine.recoat_ms) / 1000.0).abs() < 1e-9);
        assert!((b.platform - 10.0 * f64::from(machine.platform_ms) / 1000.0).abs() < 1e-9);
        assert!((b.total() - (2.0 + 10.0 * per_layer)).abs() < 1e-9);
    }
}
