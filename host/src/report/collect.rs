//! Gathering the report's warnings from each stage: the designer's measurements, the mesh
//! check, the slicer's per-layer reports and support planning, and the controller.

use meltline_core::cage::DesignReport;
use meltline_core::check::CheckReport;
use meltline_slicer::job::Layer;
use meltline_slicer::support::SupportReport;

use super::findings::{Stage, Warning, per_layer_warning};

/// Warnings of a designed part: features outside their ranges, a mesh coarser than the spec
/// asks for (a preview, not a part to build).
pub fn design_warnings(part: &str, d: &DesignReport, spec_edge_mm: f64) -> Vec<Warning> {
    let mut out: Vec<Warning> = d
        .warnings
        .iter()
        .map(|w| Warning {
            stage: Stage::Design,
            what: w.to_string(),
            count: 1,
            at: part.to_string(),
        })
        .collect();
    if d.edge_length_mm > spec_edge_mm * 1.0001 {
        out.push(Warning {
            stage: Stage::Design,
            what: format!(
                "coarse preview mesh: edge length {} mm where the spec asks for {} mm; the lattice is not the one specified",
                d.edge_length_mm, spec_edge_mm
            ),
            count: 1,
            at: part.to_string(),
        });
    }
    if d.removed_fragments.count > 0 {
        out.push(Warning {
            stage: Stage::Design,
            what: format!(
                "loose lattice fragments removed after meshing ({:.3} mm³)",
                d.removed_fragments.volume_mm3
            ),
            count: d.removed_fragments.count as u64,
            at: part.to_string(),
        });
    }
    out
}

/// The mesh check's findings that do not make a mesh unprintable.
pub fn check_warnings(part: &str, c: &CheckReport) -> Vec<Warning> {
    c.warnings
        .iter()
        .map(|d| Warning {
            stage: Stage::Check,
            what: format!("{:?}", d.kind),
            count: d.count as u64,
            at: part.to_string(),
        })
        .collect()
}

/// Per-layer slicer findings, gathered while the layers stream past.
#[derive(Debug, Clone, Default)]
pub struct SliceFindings {
    unexposed: Vec<(u32, u64)>,
    open_chains: Vec<(u32, u64)>,
    stitched: Vec<(u32, u64)>,
}

impl SliceFindings {
    /// Notes one layer's report.
    pub fn push(&mut self, layer: &Layer) {
        let i = layer.index as u32;
        let r = &layer.report;
        self.unexposed.push((i, r.unexposed_parts as u64));
        self.open_chains.push((i, r.open_chains as u64));
        self.stitched.push((i, r.stitches.len() as u64));
    }

    /// The warnings: the slicer's own messages, support planning, and per-layer counts.
    pub fn warnings(&self, messages: &[String], supports: Option<&SupportReport>) -> Vec<Warning> {
        let mut out: Vec<Warning> = messages
            .iter()
            .map(|m| Warning {
                stage: Stage::Slice,
                what: m.clone(),
                count: 1,
                at: "job".into(),
            })
            .collect();
        out.extend(per_layer_warning(
            Stage::Slice,
            "thin parts dropped: lost by the beam offset and too small for an edge vector",
            &self.unexposed,
        ));
        out.extend(per_layer_warning(
            Stage::Slice,
            "open section chains left out (the mesh is not closed there)",
            &self.open_chains,
        ));
        out.extend(per_layer_warning(
            Stage::Slice,
            "gaps stitched while closing a section",
            &self.stitched,
        ));
        if let Some(s) = supports {
            for f in &s.failed {
                out.push(Warning {
                    stage: Stage::Slice,
                    what: format!(
                        "unsupported area: {:.2} mm² of overhang got no support: {}",
                        f.area_mm2, f.reason
                    ),
                    count: f.triangles as u64,
                    at: f
                        .index
                        .map_or_else(|| "whole part".into(), |i| format!("region {i}")),
                });
            }
            if s.regions_below_min_area > 0 {
                out.push(Warning {
                    stage: Stage::Slice,
                    what: format!(
                        "unsupported area: overhang regions below the minimum support area ({:.2} mm² in all)",
                        s.area_below_min_mm2
                    ),
                    count: s.regions_below_min_area as u64,
                    at: "overhangs".into(),
                });
            }
        }
        out
    }
}
