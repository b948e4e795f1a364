//! The vertex and triangle passes: non-finite coordinates, degenerate and duplicate triangles.

use rayon::prelude::*;

use super::findings::Findings;
use super::intersect::{P3, collinear};
use super::report::{DefectExample, DefectKind};
use crate::mesh::Mesh;

/// What the vertex pass found.
pub(super) struct VertexPass {
    /// Per vertex: whether all its coordinates are finite.
    pub finite: Vec<bool>,
    /// How many vertices have a non-finite coordinate.
    pub non_finite: usize,
}

/// One triangle as the later passes see it.
#[derive(Debug, Clone, Copy)]
pub(super) struct TriangleState {
    /// Two of its corners are the same vertex index.
    pub repeated: bool,
    /// Too small, flat, repeated or non-finite to be a surface element.
    pub degenerate: bool,
    /// Finite and not flat: the crossing test can look at it.
    pub testable: bool,
}

/// What the triangle pass found.
pub(super) struct TrianglePass {
    /// Per triangle, its state.
    pub states: Vec<TriangleState>,
    /// How many triangles are degenerate.
    pub degenerate_count: usize,
}

/// Finds the vertices with non-finite coordinates (they poison every measure, so their
/// triangles are left out of the later passes), and a mesh without triangles.
pub(super) fn vertex_pass(found: &mut Findings) -> VertexPass {
    let mesh = found.mesh;
    let finite: Vec<bool> = mesh
        .vertices
        .par_iter()
        .map(|p| p.iter().all(|c| c.is_finite()))
        .collect();
    let mut non_finite = 0;
    let mut examples = Vec::new();
    for (v, ok) in finite.iter().enumerate() {
        if !ok {
            non_finite += 1;
            if examples.len() < found.opts.max_examples {
                let tris = (0..mesh.triangles.len())
                    .filter(|&t| mesh.triangles[t].contains(&(v as u32)))
                    .take(3)
                    .collect();
                examples.push(DefectExample {
                    triangles: tris,
                    points: vec![found.point(v as u32)],
                });
            }
        }
    }
    if mesh.triangles.is_empty() {
        found.defect(DefectKind::NoTriangles, 1, Vec::new());
    }
    found.defect(DefectKind::NonFiniteVertices, non_finite, examples);
    VertexPass { finite, non_finite }
}

/// Classifies every triangle: repeated index, area, exact collinearity, finiteness.
pub(super) fn triangle_pass(found: &mut Findings, finite: &[bool]) -> TrianglePass {
    let mesh = found.mesh;
    let min_area = found.opts.degenerate_area_mm2;
    let states: Vec<TriangleState> = (0..mesh.triangles.len())
        .into_par_iter()
        .map(|t| {
            let [a, b, c] = mesh.triangles[t];
            let repeated = a == b || b == c || a == c;
            let fin = finite[a as usize] && finite[b as usize] && finite[c as usize];
            let area = if fin {
                0.5 * mesh.area_normal(t).norm()
            } else {
                f64::NAN
            };
            let tiny = !fin || area < min_area || area.is_nan();
            let flat = repeated || !fin || collinear(&p3s(mesh, t));
            TriangleState {
                repeated,
                degenerate: tiny || flat,
                testable: fin && !flat,
            }
        })
        .collect();
    let degenerate: Vec<usize> = (0..states.len())
        .filter(|&t| states[t].degenerate)
        .collect();
    let examples = found.triangle_examples(degenerate.iter().copied());
    found.defect(DefectKind::DegenerateTriangles, degenerate.len(), examples);
    TrianglePass {
        states,
        degenerate_count: degenerate.len(),
    }
}

/// Finds triangles with the same vertex set as another, whatever the winding; returns how
/// many.
pub(super) fn duplicate_pass(found: &mut Findings, triangles: &TrianglePass) -> usize {
    let mesh = found.mesh;
    let mut keyed: Vec<([u32; 3], u32)> = (0..mesh.triangles.len())
        .filter(|&t| !triangles.states[t].repeated)
        .map(|t| {
            let mut k = mesh.triangles[t];
            k.sort_unstable();
            (k, t as u32)
        })
        .collect();
    keyed.par_sort_unstable();
    let mut duplicates = Vec::new();
    for w in keyed.windows(2) {
        if w[0].0 == w[1].0 {
            duplicates.push((w[0].1 as usize, w[1].1 as usize));
        }
    }
    let examples = duplicates
        .iter()
        .take(found.opts.max_examples)
        .map(|&(a, b)| DefectExample {
            triangles: vec![a, b],
            points: found.corners(b),
        })
        .collect();
    found.defect(DefectKind::DuplicateTriangles, duplicates.len(), examples);
    duplicates.len()
}

/// The corners of triangle `t` as exact-predicate points.
pub(super) fn p3s(mesh: &Mesh, t: usize) -> [P3; 3] {
    mesh.corners(t).map(|p| p.coords.into())
}
