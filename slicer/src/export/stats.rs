//! Per-layer statistics and totals, the `stats.json` of `meltline slice`.
//!
//! Contour counts and lengths include the centre-line edge vectors of thin walls (both are
//! border exposures scanned with the contour set). `jump_length_mm` counts jumps between
//! the blocks of a layer and between the vectors inside them.

use serde::Serialize;

use crate::job::{Layer, VectorKind};

/// The statistics of one layer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LayerStats {
    /// Layer index.
    pub index: usize,
    /// Cut height, mm.
    pub z_mm: f64,
    /// Cross-section area before any offset, mm².
    pub area_mm2: f64,
    /// Contour and edge vectors.
    pub contour_vectors: usize,
    /// Hatch vectors.
    pub hatch_vectors: usize,
    /// Support vectors.
    pub support_vectors: usize,
    /// Marked contour and edge length, mm.
    pub contour_length_mm: f64,
    /// Marked hatch length, mm.
    pub hatch_length_mm: f64,
    /// Jump length, mm.
    pub jump_length_mm: f64,
    /// Gaps stitched while closing the section.
    pub stitched_gaps: usize,
    /// Chains joined at the same point on different mesh edges (T-junctions).
    pub exact_joins: usize,
    /// Open chains that could not be closed.
    pub open_chains: usize,
    /// Thin parts lost by the beam offset and too small for an edge vector.
    pub unexposed_parts: usize,
}

impl LayerStats {
    /// The statistics of `layer`.
    pub fn of(layer: &Layer) -> LayerStats {
        let mut s = LayerStats {
            index: layer.index,
            z_mm: layer.z_mm,
            area_mm2: layer.area_mm2,
            jump_length_mm: layer.jump_length_mm(),
            stitched_gaps: layer.report.stitches.len(),
            exact_joins: layer.report.exact_joins,
            open_chains: layer.report.open_chains,
            unexposed_parts: layer.report.unexposed_parts,
            ..LayerStats::default()
        };
        for b in &layer.blocks {
            let (n, len) = (b.vector_count(), b.mark_length_mm());
            match b.kind {
                VectorKind::Contour | VectorKind::Edge => {
                    s.contour_vectors += n;
                    s.contour_length_mm += len;
                }
                VectorKind::Hatch => {
                    s.hatch_vectors += n;
                    s.hatch_length_mm += len;
                }
                VectorKind::Support => s.support_vectors += n,
            }
        }
        s
    }
}

/// Sums over all layers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Number of layers.
    pub layers: usize,
    /// Sum of layer areas × layer thickness: the sliced volume, mm³.
    pub volume_mm3: f64,
    /// Contour and edge vectors.
    pub contour_vectors: usize,
    /// Hatch vectors.
    pub hatch_vectors: usize,
    /// Support vectors.
    pub support_vectors: usize,
    /// Contour length, mm.
    pub contour_length_mm: f64,
    /// Hatch length, mm.
    pub hatch_length_mm: f64,
    /// Jump length, mm.
    pub jump_length_mm: f64,
    /// Stitched gaps.
    pub stitched_gaps: usize,
    /// Exact joins at T-junctions.
    pub exact_joins: usize,
    /// Open chains left out.
    pub open_chains: usize,
    /// Thin parts not exposed.
    pub unexposed_parts: usize,
}

/// Wall-clock times in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Reading the mesh.
    pub load: f64,
    /// Cutting sections.
    pub slice: f64,
    /// Regions, contours, hatches and ordering.
    pub hatch: f64,
    /// Everything, including writing outputs.
    pub total: f64,
}

/// The whole `stats.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JobStats {
    /// Layer thickness, mm.
    pub layer_thickness_mm: f64,
    /// Per-layer statistics.
    pub layers: Vec<LayerStats>,
    /// Totals.
    pub totals: Totals,
    /// Timings, when measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timings_s: Option<Timings>,
}

impl JobStats {
    /// Empty statistics for a layer thickness.
    pub fn new(layer_thickness_mm: f64) -> JobStats {
        JobStats {
            layer_thickness_mm,
            ..JobStats::default()
        }
    }

    /// Adds a layer (layers are added in order while streaming).
    pub fn push(&mut self, layer: &Layer) {
        let s = LayerStats::of(layer);
        let t = &mut self.totals;
        t.layers += 1;
        t.volume_mm3 += s.area_mm2 * self.layer_thickness_mm;
        t.contour_vectors += s.contour_vectors;
        t.hatch_vectors += s.hatch_vectors;
        t.support_vectors += s.support_vectors;
        t.contour_length_mm += s.contour_length_mm;
        t.hatch_length_mm += s.hatch_length_mm;
        t.jump_length_mm += s.jump_length_mm;
        t.stitched_gaps += s.stitched_gaps;
        t.exact_joins += s.exact_joins;
        t.open_chains += s.open_chains;
        t.unexposed_parts += s.unexposed_parts;
        self.layers.push(s);
    }

    /// Pretty JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
