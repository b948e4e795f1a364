//! One layer from its cut section: regions, contour plan, then the blocks in scan order
//! (supports, skins and core hatches, contours innermost first, edge vectors).

use std::collections::BTreeMap;

use super::pipeline::Prepared;
use super::{Geometry, Layer, LayerReport, Region, VectorBlock, VectorKind, Xy, p, xy};
use crate::contour::{self, ContourPlan};
use crate::hatch::{hatch_islands, hatch_region_within};
use crate::order::{nearest_neighbour, order_groups, rotate_to_nearest};
use crate::polygon::{Point, Shapes, to_units};
use crate::profile::{ParameterSet, ProcessProfile, Strategy, set_id};
use crate::region::SkinWindows;
use crate::slice::LayerSection;
use crate::support::SupportPlan;

impl Prepared {
    /// Regions, contours, hatches and scan order of layer `i`; `cache` holds its section,
    /// `skins` the supported sets of layers `i` and `i + skin_layers`.
    pub(super) fn build_layer(
        &self,
        i: usize,
        cache: &BTreeMap<usize, LayerSection>,
        skins: &SkinWindows,
    ) -> Layer {
        let prof = &self.profile;
        let n = self.slicer.layer_count();
        let empty = LayerSection {
            index: i,
            z_mm: self.slicer.cut_z(i),
            shapes: Vec::new(),
            stitches: Vec::new(),
            exact_joins: 0,
            open_chains: 0,
            open_length_mm: 0.0,
            enclosed_area_mm2: 0.0,
        };
        let section = cache.get(&i).unwrap_or(&empty);
        let regions = skins.regions(&section.shapes, i, n, prof.skin_layers);
        let plan = contour::plan(
            &section.shapes,
            &prof.contours,
            prof.hatch.contour_distance_mm,
        );

        let mut scan = ScanOrder::default();
        // Supports first: they carry what is melted above them in this layer.
        if let Some(supports) = &self.supports {
            scan.push_supports(supports, i, prof.layer_thickness_mm);
        }
        let hatched = [
            HatchedRegion {
                shapes: &regions.downskin,
                region: Region::Downskin,
                parameter_set: set_id::DOWNSKIN,
                set: &prof.downskin,
            },
            HatchedRegion {
                shapes: &regions.core,
                region: Region::Core,
                parameter_set: set_id::CORE,
                set: &prof.core,
            },
            HatchedRegion {
                shapes: &regions.upskin,
                region: Region::Upskin,
                parameter_set: set_id::UPSKIN,
                set: &prof.upskin,
            },
        ];
        for target in &hatched {
            if !target.shapes.is_empty() {
                scan.push_hatches(target, i, prof, &plan);
            }
        }
        scan.push_contours(&plan);
        scan.push_edges(&plan);
        Layer {
            index: i,
            z_mm: section.z_mm,
            area_mm2: section.area_mm2(),
            section: section.shapes.clone(),
            regions,
            blocks: scan.blocks,
            report: LayerReport {
                stitches: section.stitches.clone(),
                exact_joins: section.exact_joins,
                open_chains: section.open_chains,
                open_length_mm: section.open_length_mm,
                unexposed_parts: plan.unexposed_parts,
                unexposed_area_mm2: plan.unexposed_area_mm2,
                largest_unexposed: plan.largest_unexposed,
            },
        }
    }
}

/// A region of the layer hatched with one parameter set.
struct HatchedRegion<'a> {
    /// Its shapes.
    shapes: &'a Shapes,
    /// Which region it is.
    region: Region,
    /// The parameter set id written on its blocks.
    parameter_set: u16,
    /// The parameter set (its hatch distance).
    set: &'a ParameterSet,
}

/// The blocks of a layer in scan order and where the beam is after the last of them.
#[derive(Default)]
struct ScanOrder {
    /// The blocks so far.
    blocks: Vec<VectorBlock>,
    /// The beam position after the last block.
    pos: Point,
}

impl ScanOrder {
    /// The support paths of layer `i`, one polyline block each.
    fn push_supports(&mut self, plan: &SupportPlan, i: usize, layer_thickness_mm: f64) {
        for path in plan.layer_paths(i, layer_thickness_mm) {
            let pts: Vec<Xy> = path
                .points
                .iter()
                .map(|q| [to_units(q[0]), to_units(q[1])])
                .collect();
            if pts.len() < 2 {
                continue;
            }
            self.pos = p(pts[pts.len() - 1]);
            self.blocks.push(VectorBlock {
                kind: VectorKind::Support,
                region: Region::Support,
                parameter_set: set_id::SUPPORT,
                geometry: Geometry::Polyline(pts),
            });
        }
    }

    /// The hatches of one region, clipped on the hatch lines to the area inside the
    /// contours (exact intervals, not a polygon boolean per region).
    fn push_hatches(
        &mut self,
        target: &HatchedRegion<'_>,
        i: usize,
        prof: &ProcessProfile,
        plan: &ContourPlan,
    ) {
        let (shapes, set) = (target.shapes, target.set);
        let groups = if prof.hatch.strategy == Strategy::Lines {
            // One meander per island inside the contours, islands visited nearest-neighbour.
            let parts: Vec<Vec<_>> =
                hatch_islands(shapes, &plan.hatch_area, set.hatch_mm, i, &prof.hatch)
                    .into_iter()
                    .flatten()
                    .map(|g| vec![g])
                    .collect();
            let parts = nearest_neighbour(
                parts,
                self.pos,
                |g| g[0].hatches[0][0],
                |g| g[g.len() - 1].hatches[g[g.len() - 1].hatches.len() - 1][1],
            );
            parts.into_iter().flatten().collect()
        } else {
            order_groups(
                hatch_region_within(
                    shapes,
                    Some(plan.hatch_area.as_slice()),
                    set.hatch_mm,
                    i,
                    &prof.hatch,
                ),
                prof.hatch.strategy,
            )
        };
        for g in groups {
            if let Some(last) = g.hatches.last() {
                self.pos = last[1];
            }
            self.blocks.push(VectorBlock {
                kind: VectorKind::Hatch,
                region: target.region,
                parameter_set: target.parameter_set,
                geometry: Geometry::Vectors(
                    g.hatches.iter().map(|s| [xy(s[0]), xy(s[1])]).collect(),
                ),
            });
        }
    }

    /// Contours: innermost ring first so the outer surface is melted last, against
    /// already-solid material; within a ring, nearest-neighbour.
    fn push_contours(&mut self, plan: &ContourPlan) {
        for ring in plan.rings.iter().rev() {
            let ordered = nearest_neighbour(ring.clone(), self.pos, |c| c[0], |c| c[0]);
            for mut c in ordered {
                rotate_to_nearest(&mut c, self.pos);
                self.pos = c[0];
                let mut pts: Vec<Xy> = c.iter().map(|&q| xy(q)).collect();
                pts.push(pts[0]);
                self.blocks.push(VectorBlock {
                    kind: VectorKind::Contour,
                    region: Region::Part,
                    parameter_set: set_id::CONTOUR,
                    geometry: Geometry::Polyline(pts),
                });
            }
        }
    }

    /// The centre-line vectors of walls too thin for contours, in one block.
    fn push_edges(&mut self, plan: &ContourPlan) {
        if !plan.edges.is_empty() {
            let edges = nearest_neighbour(plan.edges.clone(), self.pos, |e| e[0], |e| e[1]);
            self.blocks.push(VectorBlock {
                kind: VectorKind::Edge,
                region: Region::Part,
                parameter_set: set_id::CONTOUR,
                geometry: Geometry::Vectors(edges.iter().map(|e| [xy(e[0]), xy(e[1])]).collect()),
            });
        }
    }
}
