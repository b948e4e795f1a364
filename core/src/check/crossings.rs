//! The crossing pass: triangles passing through each other, split by how deep they reach.

use super::bvh::Bvh;
use super::elements::{TrianglePass, p3s};
use super::findings::Findings;
use super::intersect::triangles_cross;
use super::report::{DefectExample, DefectKind};
use crate::mesh::Mesh;

/// What the crossing pass found.
#[derive(Debug, Clone, Copy)]
pub(super) struct CrossingPass {
    /// Crossings deeper than the tolerance (defects).
    pub deep: usize,
    /// Crossings within the tolerance (warnings).
    pub shallow: usize,
    /// The deepest crossing (mm).
    pub max_depth_mm: f64,
}

/// Finds the crossing triangle pairs, when the options ask for it.
pub(super) fn crossing_pass(
    found: &mut Findings,
    triangles: &TrianglePass,
) -> Option<CrossingPass> {
    if !found.opts.self_intersections {
        return None;
    }
    let mesh = found.mesh;
    let pairs = crossing_pairs(mesh, |t| triangles.states[t].testable);
    let (mut deep, mut shallow) = (Vec::new(), Vec::new());
    let mut max_depth_mm: f64 = 0.0;
    for &pair in &pairs {
        let d = crossing_depth(mesh, pair);
        max_depth_mm = max_depth_mm.max(d);
        if d > found.opts.crossing_tolerance_mm {
            deep.push(pair);
        } else {
            shallow.push(pair);
        }
    }
    let examples = crossing_examples(found, &deep);
    found.defect(DefectKind::SelfIntersections, deep.len(), examples);
    let examples = crossing_examples(found, &shallow);
    found.warning(
        DefectKind::ShallowSelfIntersections,
        shallow.len(),
        examples,
    );
    Some(CrossingPass {
        deep: deep.len(),
        shallow: shallow.len(),
        max_depth_mm,
    })
}

/// Examples naming both triangles of the first few pairs and their six corners.
fn crossing_examples(found: &Findings, pairs: &[(u32, u32)]) -> Vec<DefectExample> {
    pairs
        .iter()
        .take(found.opts.max_examples)
        .map(|&(a, b)| DefectExample {
            triangles: vec![a as usize, b as usize],
            points: found
                .corners(a as usize)
                .into_iter()
                .chain(found.corners(b as usize))
                .collect(),
        })
        .collect()
}

/// How deep two crossing triangles reach through each other (mm): for each triangle, the
/// shorter of its reaches beyond the other's plane on either side; the smaller of the two
/// (two boxes overlapping by 0.05 mm give 0.05 mm).
fn crossing_depth(mesh: &Mesh, (a, b): (u32, u32)) -> f64 {
    let reach = |t: usize, o: usize| {
        let n = mesh.area_normal(o);
        let len = n.norm();
        if len == 0.0 {
            return 0.0;
        }
        let origin = mesh.corners(o)[0];
        let d = mesh.corners(t).map(|p| (p - origin).dot(&n) / len);
        let above = d.iter().copied().fold(0.0, f64::max);
        let below = -d.iter().copied().fold(0.0, f64::min);
        above.min(below)
    };
    let (a, b) = (a as usize, b as usize);
    reach(a, b).min(reach(b, a))
}

/// Every pair `(a, b)`, `a < b`, of included triangles that cross, sorted.
pub fn crossing_pairs(mesh: &Mesh, include: impl Fn(usize) -> bool + Sync) -> Vec<(u32, u32)> {
    let bvh = Bvh::new(mesh, &include);
    bvh.overlapping_pairs(&|a, b| {
        let (a, b) = (a as usize, b as usize);
        let (ta, tb) = (mesh.triangles[a], mesh.triangles[b]);
        let shared: [Option<usize>; 3] =
            std::array::from_fn(|i| tb.iter().position(|&v| v == ta[i]));
        // Three shared corners make a duplicate, reported as such.
        !shared.iter().all(Option::is_some) && triangles_cross(&p3s(mesh, a), &p3s(mesh, b), shared)
    })
}
