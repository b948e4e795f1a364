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
    /// Their area, mm².
    pub unexposed_area_mm2: f64,
    /// Centre of the largest of them, mm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unexposed_at_mm: Option<[f64; 2]>,
}

impl LayerStats {
    /// Whether the layer has a cross-section but nothing of the part is exposed (the beam
    /// offset removed all of it).
    pub fn vanished(&self) -> bool {
        self.area_mm2 > 0.0 && self.contour_vectors + self.hatch_vectors == 0
    }

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
            unexposed_area_mm2: layer.report.unexposed_area_mm2,
            unexposed_at_mm: layer.report.largest_unexposed.map(|(at, _)| at),
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
    /// Their area, mm².
    pub unexposed_area_mm2: f64,
    /// Sum of the layers' cross-section areas, mm².
    pub sliced_area_mm2: f64,
    /// Layers with a cross-section but no exposed part vector.
    pub vanished_layers: usize,
}

impl Totals {
    /// Vectors of every kind.
    pub fn vectors(&self) -> usize {
        self.contour_vectors + self.hatch_vectors + self.support_vectors
    }

    /// Unexposed thin area as a share of the sliced area (0 when nothing was sliced).
    pub fn unexposed_fraction(&self) -> f64 {
        if self.sliced_area_mm2 > 0.0 {
            self.unexposed_area_mm2 / self.sliced_area_mm2
        } else {
            0.0
        }
    }
}

/// A layer that lost thin parts, for the list of the worst.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UnexposedLayer {
    /// Layer index.
    pub layer: usize,
    /// Cut height, mm.
    pub z_mm: f64,
    /// Unexposed area in the layer, mm².
    pub area_mm2: f64,
    /// Parts lost in the layer.
    pub parts: usize,
    /// Centre of the largest, mm.
    pub at_mm: Option<[f64; 2]>,
}

/// How many of the worst layers are kept.
pub const WORST_LAYERS: usize = 5;

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
    /// The layers that lost the most thin area, worst first.
    pub worst_unexposed: Vec<UnexposedLayer>,
    /// The layers with a cross-section but no exposed part vector (`area_mm2` is the
    /// cross-section lost).
    pub vanished: Vec<UnexposedLayer>,
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
        t.unexposed_area_mm2 += s.unexposed_area_mm2;
        t.sliced_area_mm2 += s.area_mm2;
        let entry = UnexposedLayer {
            layer: s.index,
            z_mm: s.z_mm,
            area_mm2: s.unexposed_area_mm2,
            parts: s.unexposed_parts,
            at_mm: s.unexposed_at_mm,
        };
        if s.vanished() {
            t.vanished_layers += 1;
            self.vanished.push(UnexposedLayer {
                area_mm2: s.area_mm2,
                ..entry.clone()
            });
        }
        if s.unexposed_parts > 0 {
            let w = &mut self.worst_unexposed;
            let at = w.partition_point(|e| e.area_mm2 >= entry.area_mm2);
            if at < WORST_LAYERS {
                w.insert(at, entry);
                w.truncate(WORST_LAYERS);
            }
        }
        self.layers.push(s);
    }

    /// Why the sliced job must not be written, if it must not: layers where a region of at
    /// least one melt track squared (`(2·beam_offset)²`) vanished under the beam offset, no
    /// vectors at all, or more unexposable thin area than `max_unexposed_fraction` of the
    /// sliced area. (The tip of a dome, smaller than a track, vanishes by nature: it counts
    /// as unexposed area.)
    pub fn refusal(
        &self,
        max_unexposed_fraction: f64,
        beam_offset_mm: f64,
    ) -> Option<ExposureRefusal> {
        let t = &self.totals;
        let track2 = (2.0 * beam_offset_mm).powi(2);
        let lost: Vec<UnexposedLayer> = self
            .vanished
            .iter()
            .filter(|l| l.area_mm2 >= track2)
            .cloned()
            .collect();
        if !lost.is_empty() {
            return Some(ExposureRefusal::Vanished {
                layers: lost.len(),
                first: lost.into_iter().take(WORST_LAYERS).collect(),
            });
        }
        if t.vectors() == 0 {
            return Some(ExposureRefusal::NoVectors {
                layers: t.layers,
                sliced_area_mm2: t.sliced_area_mm2,
            });
        }
        if t.unexposed_fraction() > max_unexposed_fraction {
            return Some(ExposureRefusal::TooMuchUnexposed {
                area_mm2: t.unexposed_area_mm2,
                parts: t.unexposed_parts,
                fraction: t.unexposed_fraction(),
                limit: max_unexposed_fraction,
                worst: self.worst_unexposed.clone(),
            });
        }
        None
    }

    /// One line on the thin parts that could not be exposed, with the worst layers.
    pub fn unexposed_summary(&self) -> Option<String> {
        let t = &self.totals;
        (t.unexposed_parts > 0).then(|| {
            format!(
                "{} thin parts too small to expose, {:.4} mm² in all ({:.3} % of the sliced area); worst: {}",
                t.unexposed_parts,
                t.unexposed_area_mm2,
                100.0 * t.unexposed_fraction(),
                places(&self.worst_unexposed)
            )
        })
    }

    /// Pretty JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

fn places(layers: &[UnexposedLayer]) -> String {
    layers
        .iter()
        .map(|l| match l.at_mm {
            Some([x, y]) => format!(
                "layer {} (z {:.3} mm) {:.4} mm² at x {x:.2}, y {y:.2}",
                l.layer, l.z_mm, l.area_mm2
            ),
            None => format!(
                "layer {} (z {:.3} mm) {:.4} mm²",
                l.layer, l.z_mm, l.area_mm2
            ),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a sliced job is refused after slicing.
#[derive(Debug, Clone, PartialEq)]
pub enum ExposureRefusal {
    /// The job would expose nothing.
    NoVectors {
        /// Layers sliced.
        layers: usize,
        /// Their cross-section area, mm².
        sliced_area_mm2: f64,
    },
    /// Layers whose whole part vanished under the beam offset.
    Vanished {
        /// How many.
        layers: usize,
        /// The first of them (`area_mm2` is the lost cross-section).
        first: Vec<UnexposedLayer>,
    },
    /// More thin area cannot be exposed than the profile allows.
    TooMuchUnexposed {
        /// Unexposed area, mm².
        area_mm2: f64,
        /// Parts lost.
        parts: usize,
        /// Share of the sliced area.
        fraction: f64,
        /// The profile's `max_unexposed_fraction`.
        limit: f64,
        /// The worst layers.
        worst: Vec<UnexposedLayer>,
    },
}

impl std::fmt::Display for ExposureRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExposureRefusal::NoVectors {
                layers,
                sliced_area_mm2,
            } => write!(
                f,
                "the job has no vectors to expose ({layers} layers, {sliced_area_mm2:.4} mm² of cross-section): nothing would be built"
            ),
            ExposureRefusal::Vanished { layers, first } => write!(
                f,
                "{layers} layers have a cross-section but nothing left to expose after the beam offset (the part is thinner than one melt track there): {}",
                places(first)
            ),
            ExposureRefusal::TooMuchUnexposed {
                area_mm2,
                parts,
                fraction,
                limit,
                worst,
            } => write!(
                f,
                "{parts} thin parts ({area_mm2:.4} mm², {:.3} % of the sliced area) are too small to expose, more than the profile's max_unexposed_fraction of {:.3} %; worst: {}",
                100.0 * fraction,
                100.0 * limit,
                places(worst)
            ),
        }
    }
}

impl std::error::Error for ExposureRefusal {}
