//! The edge pass: boundary, non-manifold and inconsistently wound edges.

use rayon::prelude::*;

use super::findings::Findings;
use super::report::{DefectExample, DefectKind};
use super::topology::{EdgeClass, EdgeMap};

/// How many edges of each defective class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct EdgeCounts {
    /// Edges used by one triangle.
    pub boundary: usize,
    /// Edges used by more than two triangles.
    pub non_manifold: usize,
    /// Edges whose two triangles run them the same way.
    pub inconsistent: usize,
}

/// What the edge pass found.
pub(super) struct EdgePass {
    /// The mesh's edges.
    pub map: EdgeMap,
    /// Per edge, its class.
    pub classes: Vec<EdgeClass>,
    /// The counts over the whole mesh.
    pub counts: EdgeCounts,
}

/// Classifies every edge and records the defective classes.
pub(super) fn edge_pass(found: &mut Findings) -> EdgePass {
    let map = EdgeMap::new(found.mesh);
    let classes: Vec<EdgeClass> = (0..map.len())
        .into_par_iter()
        .map(|e| map.class(e))
        .collect();
    let mut record = |kind, class| {
        let (count, examples) = edge_defect(found, &map, &classes, class);
        found.defect(kind, count, examples);
        count
    };
    let counts = EdgeCounts {
        boundary: record(DefectKind::BoundaryEdges, EdgeClass::Boundary),
        non_manifold: record(DefectKind::NonManifoldEdges, EdgeClass::NonManifold),
        inconsistent: record(DefectKind::InconsistentEdges, EdgeClass::Inconsistent),
    };
    EdgePass {
        map,
        classes,
        counts,
    }
}

/// How many edges are of `class`, with examples of the first few.
fn edge_defect(
    found: &Findings,
    map: &EdgeMap,
    classes: &[EdgeClass],
    class: EdgeClass,
) -> (usize, Vec<DefectExample>) {
    let mut count = 0;
    let mut examples = Vec::new();
    for (e, c) in classes.iter().enumerate() {
        if *c == class {
            count += 1;
            if examples.len() < found.opts.max_examples {
                examples.push(DefectExample {
                    triangles: map.uses(e).map(|u| u.tri as usize).collect(),
                    points: vec![found.point(map.edges[e][0]), found.point(map.edges[e][1])],
                });
            }
        }
    }
    (count, examples)
}
