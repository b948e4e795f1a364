//! The shell pass: per connected shell its closure, genus, volume, flatness, nesting and
//! orientation.

use nalgebra::Point3;
use rayon::prelude::*;

use super::edges::{EdgeCounts, EdgePass};
use super::elements::TrianglePass;
use super::findings::Findings;
use super::report::{DefectKind, ShellReport};
use super::topology::EdgeClass;
use crate::mesh::{Aabb, Mesh};

/// A closed shell enclosing no more than this fraction of `area^1.5` is flat (a sheet folded
/// onto itself): scale-free, since a sphere encloses about 0.09·A^1.5, and far above the
/// rounding of the volume sum.
const FLAT_SHELL_VOLUME_RATIO: f64 = 1e-9;

/// A winding number above this (in magnitude) puts a point inside a closed shell: the
/// number is ±1 inside and 0 outside, so halfway is the robust cut.
const INSIDE_WINDING: f64 = 0.5;

/// The counts that make one shell's Euler characteristic and closure.
#[derive(Debug, Clone, Copy, Default)]
struct ShellCounts {
    /// The shell's defective edges.
    defects: EdgeCounts,
    /// All its edges.
    edges: usize,
    /// All its used vertices.
    vertices: usize,
}

/// What the shell pass found.
pub(super) struct ShellPass {
    /// Per shell, its report.
    pub detail: Vec<ShellReport>,
    /// How many shells are inside out.
    pub inverted: usize,
}

/// Measures every shell and records the flat and the inverted ones.
pub(super) fn shell_pass(
    found: &mut Findings,
    triangles: &TrianglePass,
    edges: &EdgePass,
) -> ShellPass {
    let mesh = found.mesh;
    let shells = mesh.shells();
    let counts = shell_counts(mesh, &shells, triangles, edges);
    let mut detail: Vec<ShellReport> = shells
        .par_iter()
        .zip(counts.par_iter())
        .map(|(tris, c)| shell_report(mesh, tris, c, triangles))
        .collect();
    for d in &mut detail {
        d.flat = d.closed && d.volume_mm3.abs() <= FLAT_SHELL_VOLUME_RATIO * d.area_mm2.powf(1.5);
    }
    mark_nested_and_inverted(mesh, &shells, &mut detail);
    let first_triangles = |pick: fn(&ShellReport) -> bool| -> Vec<usize> {
        (0..shells.len())
            .filter(|&s| pick(&detail[s]))
            .map(|s| shells[s][0])
            .collect()
    };
    let flat = first_triangles(|d| d.flat);
    let inverted = first_triangles(|d| d.inverted);
    let examples = found.triangle_examples(flat.iter().copied());
    found.defect(DefectKind::FlatShells, flat.len(), examples);
    let examples = found.triangle_examples(inverted.iter().copied());
    found.defect(DefectKind::InvertedShells, inverted.len(), examples);
    ShellPass {
        detail,
        inverted: inverted.len(),
    }
}

/// Per shell, its edge and vertex counts.
fn shell_counts(
    mesh: &Mesh,
    shells: &[Vec<usize>],
    triangles: &TrianglePass,
    edges: &EdgePass,
) -> Vec<ShellCounts> {
    let mut shell_of = vec![0u32; mesh.triangles.len()];
    for (s, tris) in shells.iter().enumerate() {
        for &t in tris {
            shell_of[t] = s as u32;
        }
    }
    let mut counts = vec![ShellCounts::default(); shells.len()];
    for (e, c) in edges.classes.iter().enumerate() {
        let Some(u) = edges.map.uses(e).next() else {
            continue;
        };
        let s = &mut counts[shell_of[u.tri as usize] as usize];
        s.edges += 1;
        match c {
            EdgeClass::Boundary => s.defects.boundary += 1,
            EdgeClass::NonManifold => s.defects.non_manifold += 1,
            EdgeClass::Inconsistent => s.defects.inconsistent += 1,
            EdgeClass::Manifold => {}
        }
    }
    // Shells are vertex-connected, so every used vertex belongs to exactly one.
    let mut vertex_seen = vec![false; mesh.vertices.len()];
    for (t, tri) in mesh.triangles.iter().enumerate() {
        if triangles.states[t].repeated {
            continue;
        }
        for &v in tri {
            if !std::mem::replace(&mut vertex_seen[v as usize], true) {
                counts[shell_of[t] as usize].vertices += 1;
            }
        }
    }
    counts
}

/// One shell's report, before flatness, nesting and inversion are decided.
fn shell_report(
    mesh: &Mesh,
    tris: &[usize],
    c: &ShellCounts,
    triangles: &TrianglePass,
) -> ShellReport {
    let proper: Vec<usize> = tris
        .iter()
        .copied()
        .filter(|&t| !triangles.states[t].repeated)
        .collect();
    let closed = c.defects.boundary == 0 && c.defects.non_manifold == 0 && !proper.is_empty();
    let genus = (closed && c.defects.inconsistent == 0).then(|| {
        let chi = c.vertices as i64 - c.edges as i64 + proper.len() as i64;
        (2 - chi) / 2
    });
    ShellReport {
        triangles: tris.len(),
        volume_mm3: mesh.signed_volume_of(proper.iter().copied()),
        area_mm2: proper
            .iter()
            .map(|&t| 0.5 * mesh.area_normal(t).norm())
            .sum(),
        boundary_edges: c.defects.boundary,
        non_manifold_edges: c.defects.non_manifold,
        inconsistent_edges: c.defects.inconsistent,
        closed,
        inverted: false,
        nested: false,
        flat: false,
        genus,
    }
}

/// Decides which closed shells are voids inside others, and which are inside out: a shell at
/// even nesting depth must enclose positive volume, one at odd depth (a void) negative.
fn mark_nested_and_inverted(mesh: &Mesh, shells: &[Vec<usize>], detail: &mut [ShellReport]) {
    let closed: Vec<usize> = (0..shells.len())
        .filter(|&s| detail[s].closed && !detail[s].flat && detail[s].inconsistent_edges == 0)
        .collect();
    let boxes: Vec<Aabb> = shells
        .iter()
        .map(|tris| {
            let mut b = Aabb::EMPTY;
            for &t in tris {
                for p in mesh.corners(t) {
                    b.grow(&p);
                }
            }
            b
        })
        .collect();
    let inside = |a: &Aabb, b: &Aabb| (0..3).all(|k| b.min[k] <= a.min[k] && a.max[k] <= b.max[k]);
    let depth: Vec<usize> = closed
        .par_iter()
        .map(|&s| {
            let probe = mesh.vertices[mesh.triangles[shells[s][0]][0] as usize];
            closed
                .iter()
                .filter(|&&o| o != s && inside(&boxes[s], &boxes[o]))
                .filter(|&&o| winding_number(mesh, &shells[o], &probe).abs() > INSIDE_WINDING)
                .count()
        })
        .collect();
    for (&s, d) in closed.iter().zip(depth) {
        detail[s].nested = d % 2 == 1;
        detail[s].inverted = (detail[s].volume_mm3 < 0.0) != detail[s].nested;
    }
}

/// The generalised winding number of `p` with respect to the triangles (van Oosterom–Strackee
/// solid angles): ±1 inside a closed shell, 0 outside.
pub fn winding_number(mesh: &Mesh, tris: &[usize], p: &Point3<f64>) -> f64 {
    let sum: f64 = tris
        .iter()
        .map(|&t| {
            let [a, b, c] = mesh.corners(t).map(|q| q - p);
            let (la, lb, lc) = (a.norm(), b.norm(), c.norm());
            let num = a.dot(&b.cross(&c));
            let den = la * lb * lc + a.dot(&b) * lc + b.dot(&c) * la + c.dot(&a) * lb;
            2.0 * num.atan2(den)
        })
        .sum();
    sum / (4.0 * std::f64::consts::PI)
}
