//! Safe repair of the common mesh defects, or a clear refusal.
//!
//! In order: weld near-coincident vertices, drop degenerate and duplicate triangles, make the
//! orientation of every shell consistent, fill small near-planar holes, remove slivers and
//! stray open surfaces beside solid shells, and turn inside-out shells the right way. The result
//! is checked again: [`repair_mesh`] never returns a mesh that fails [`check_mesh`]. A
//! printable input is returned unchanged, so repair is idempotent.
//!
//! ```
//! use meltline_core::{check::{check_mesh, CheckOptions}, mesh::Mesh, repair::{repair_mesh, RepairOptions}};
//! let mut cube = Mesh::axis_aligned_box([0.0; 3], [10.0; 3]);
//! cube.triangles.pop();
//! let (fixed, report) = repair_mesh(&cube, &RepairOptions::default()).unwrap();
//! assert_eq!(report.filled_holes.len(), 1);
//! assert!(check_mesh(&fixed, &CheckOptions::default()).printable);
//! ```

pub mod holes;
mod report;
pub mod weld;

use std::collections::VecDeque;

use thiserror::Error;

use crate::check::topology::{EdgeClass, EdgeMap};
use crate::check::{CheckOptions, DefectKind, check_mesh};
use crate::mesh::Mesh;
use holes::{fill_hole, loop_shape, trace_holes};
pub use report::{FilledHole, RemovedShell, RepairReport};

/// What repair may change, with its named tolerances.
#[derive(Debug, Clone, PartialEq)]
pub struct RepairOptions {
    /// Vertices closer than this (mm) are welded into one.
    pub weld_tolerance_mm: f64,
    /// Holes with more boundary edges than this are not filled.
    pub max_hole_edges: usize,
    /// Holes wider than this (mm, loop diameter) are not filled.
    pub max_hole_diameter_mm: f64,
    /// Holes whose rim strays from its best-fit plane by more than this fraction of the hole's
    /// diameter are not filled (a patch there would guess at the shape).
    pub max_hole_deviation: f64,
    /// Closed shells enclosing less than this (mm³) are removed as slivers.
    pub min_shell_volume_mm3: f64,
    /// The check run before and after.
    pub check: CheckOptions,
}

impl RepairOptions {
    /// The defaults: weld 1e-5 mm, holes up to 64 edges of any width deviating at most 25 % of
    /// their diameter from a plane, slivers below 1e-3 mm³.
    pub fn new() -> RepairOptions {
        RepairOptions {
            weld_tolerance_mm: 1e-5,
            max_hole_edges: 64,
            max_hole_diameter_mm: f64::INFINITY,
            max_hole_deviation: 0.25,
            min_shell_volume_mm3: 1e-3,
            check: CheckOptions::default(),
        }
    }
}

impl Default for RepairOptions {
    fn default() -> Self {
        RepairOptions::new()
    }
}

/// Why a mesh cannot be repaired safely. Nothing is written when repair refuses.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum RepairError {
    /// Triangles index past the vertex list.
    #[error("{count} triangles index past the vertex list (first: triangle {triangle})")]
    InvalidIndices {
        /// How many triangles.
        count: usize,
        /// The first one.
        triangle: usize,
    },
    /// The mesh has no triangles, or none is left after removing degenerate ones.
    #[error("nothing to repair: the mesh has no usable triangles")]
    Empty,
    /// Coordinates are NaN or infinite.
    #[error("{count} vertices have non-finite coordinates (first at vertex {vertex})")]
    NonFinite {
        /// How many vertices.
        count: usize,
        /// The first such vertex.
        vertex: usize,
    },
    /// Triangles cross each other; resolving that needs a boolean union, which repair does not do.
    #[error(
        "{count} pairs of triangles cross each other (first: triangles {a} and {b} near {at:?}); \
         repair does not resolve self-intersections"
    )]
    SelfIntersecting {
        /// How many crossing pairs.
        count: usize,
        /// First triangle of the first pair.
        a: usize,
        /// Second triangle of the first pair.
        b: usize,
        /// A corner of triangle `a` (mm).
        at: [f64; 3],
    },
    /// Edges shared by more than two triangles (after welding).
    #[error(
        "{count} edges are shared by more than two triangles (first at {at:?}); repair does not decide which surface is meant"
    )]
    NonManifold {
        /// How many edges.
        count: usize,
        /// One end of the first such edge (mm).
        at: [f64; 3],
    },
    /// A shell cannot be oriented consistently (a Möbius-like surface).
    #[error("shell containing triangle {triangle} cannot be oriented consistently")]
    NonOrientable {
        /// A triangle of the shell.
        triangle: usize,
    },
    /// A hole exceeds the fill limits and its shell is not a stray surface that may be removed.
    #[error("hole of {edges} edges, {diameter_mm:.3} mm across, near {at:?} is {why}")]
    HoleNotFillable {
        /// Boundary edges of the hole.
        edges: usize,
        /// Its diameter (mm).
        diameter_mm: f64,
        /// A vertex of its rim (mm).
        at: [f64; 3],
        /// Which limit it breaks.
        why: String,
    },
    /// Two boundary loops meet at a vertex, so the holes' rims are ambiguous.
    #[error("boundary loops meet at vertex {at:?}; the holes cannot be told apart")]
    TangledBoundary {
        /// The vertex (mm).
        at: [f64; 3],
    },
    /// After every step the result still fails the check.
    #[error("repair could not make the mesh printable: {remaining}")]
    StillUnprintable {
        /// The defects left, named and counted.
        remaining: String,
    },
}

/// Repairs `mesh`, or says why it cannot be repaired safely.
pub fn repair_mesh(mesh: &Mesh, opts: &RepairOptions) -> Result<(Mesh, RepairReport), RepairError> {
    let before = check_mesh(mesh, &opts.check);
    let defects_before: Vec<(DefectKind, usize)> =
        before.defects.iter().map(|d| (d.kind, d.count)).collect();
    if before.printable {
        return Ok((
            mesh.clone(),
            RepairReport {
                unchanged: true,
                defects_before,
                welded_vertices: 0,
                removed_degenerate: 0,
                removed_duplicate: 0,
                flipped_triangles: 0,
                flipped_shells: 0,
                filled_holes: Vec::new(),
                removed_shells: Vec::new(),
                after: before,
            },
        ));
    }
    if let Some(d) = before.defect(DefectKind::InvalidIndices) {
        return Err(RepairError::InvalidIndices {
            count: d.count,
            triangle: d.examples[0].triangles[0],
        });
    }
    if mesh.triangles.is_empty() {
        return Err(RepairError::Empty);
    }
    if before.non_finite_vertices > 0 {
        let vertex = mesh
            .vertices
            .iter()
            .position(|p| !p.iter().all(|c| c.is_finite()))
            .unwrap_or(0);
        return Err(RepairError::NonFinite {
            count: before.non_finite_vertices,
            vertex,
        });
    }
    if let Some(d) = before.defect(DefectKind::SelfIntersections) {
        let ex = &d.examples[0];
        return Err(RepairError::SelfIntersecting {
            count: d.count,
            a: ex.triangles[0],
            b: ex.triangles[1],
            at: ex.points[0],
        });
    }

    let mut m = mesh.clone();
    let welded_vertices = weld::weld(&mut m, opts.weld_tolerance_mm);
    let (removed_degenerate, removed_duplicate) = drop_bad_triangles(&mut m, opts);
    m.compact();
    if m.triangles.is_empty() {
        return Err(RepairError::Empty);
    }

    let edges = EdgeMap::new(&m);
    let non_manifold: Vec<usize> = (0..edges.len())
        .filter(|&e| edges.class(e) == EdgeClass::NonManifold)
        .collect();
    if let Some(&e) = non_manifold.first() {
        return Err(RepairError::NonManifold {
            count: non_manifold.len(),
            at: m.vertices[edges.edges[e][0] as usize].coords.into(),
        });
    }
    let flipped_triangles = unify_orientation(&mut m, &edges)?;
    let (filled_holes, mut removed_shells) = fill_holes_or_drop_strays(&mut m, opts)?;
    removed_shells.extend(remove_slivers(&mut m, opts));
    if m.triangles.is_empty() {
        return Err(RepairError::Empty);
    }
    let flipped_shells = flip_inverted_shells(&mut m, opts);
    m.compact();

    let after = check_mesh(&m, &opts.check);
    if !after.printable {
        let remaining: Vec<String> = after
            .defects
            .iter()
            .map(|d| format!("{} {}", d.count, d.kind.name()))
            .collect();
        return Err(RepairError::StillUnprintable {
            remaining: remaining.join(", "),
        });
    }
    Ok((
        m,
        RepairReport {
            unchanged: false,
            defects_before,
            welded_vertices,
            removed_degenerate,
            removed_duplicate,
            flipped_triangles,
            flipped_shells,
            filled_holes,
            removed_shells,
            after,
        },
    ))
}

/// Removes triangles with a repeated vertex or below the area epsilon, then every triangle
/// whose vertex set an earlier triangle already has.
fn drop_bad_triangles(m: &mut Mesh, opts: &RepairOptions) -> (usize, usize) {
    let n0 = m.triangles.len();
    let eps = opts.check.degenerate_area_mm2;
    let keep: Vec<bool> = (0..n0)
        .map(|t| {
            let [a, b, c] = m.triangles[t];
            a != b && b != c && a != c && 0.5 * m.area_normal(t).norm() >= eps
        })
        .collect();
    let mut tris: Vec<[u32; 3]> = (0..n0)
        .filter(|&t| keep[t])
        .map(|t| m.triangles[t])
        .collect();
    let degenerate = n0 - tris.len();
    let mut seen = std::collections::HashSet::new();
    let n1 = tris.len();
    tris.retain(|t| {
        let mut k = *t;
        k.sort_unstable();
        seen.insert(k)
    });
    let duplicate = n1 - tris.len();
    m.triangles = tris;
    (degenerate, duplicate)
}

/// Flips triangles so that every manifold edge is traversed once each way: a breadth-first
/// walk per edge-connected patch, flipping the smaller side. Returns how many were flipped.
fn unify_orientation(m: &mut Mesh, edges: &EdgeMap) -> Result<usize, RepairError> {
    let n = m.triangles.len();
    // Neighbours across manifold (valence-2) edges, with "same direction" flags.
    let mut adj: Vec<Vec<(u32, bool)>> = vec![Vec::new(); n];
    for e in 0..edges.len() {
        if edges.valence(e) == 2 {
            let mut u = edges.uses(e);
            if let (Some(a), Some(b)) = (u.next(), u.next()) {
                let same = a.forward == b.forward;
                adj[a.tri as usize].push((b.tri, same));
                adj[b.tri as usize].push((a.tri, same));
            }
        }
    }
    let mut flip: Vec<Option<bool>> = vec![None; n];
    let mut flipped = 0;
    let mut queue = VecDeque::new();
    for seed in 0..n {
        if flip[seed].is_some() {
            continue;
        }
        flip[seed] = Some(false);
        queue.push_back(seed);
        let mut patch = Vec::new();
        while let Some(t) = queue.pop_front() {
            patch.push(t);
            let ft = flip[t].unwrap_or(false);
            for &(u, same) in &adj[t] {
                let want = ft ^ same;
                match flip[u as usize] {
                    None => {
                        flip[u as usize] = Some(want);
                        queue.push_back(u as usize);
                    }
                    Some(f) if f != want => {
                        return Err(RepairError::NonOrientable { triangle: t });
                    }
                    Some(_) => {}
                }
            }
        }
        let count = patch.iter().filter(|&&t| flip[t] == Some(true)).count();
        let invert = 2 * count > patch.len();
        for &t in &patch {
            if (flip[t] == Some(true)) != invert {
                m.triangles[t].swap(1, 2);
                flipped += 1;
            }
        }
    }
    Ok(flipped)
}

/// Fills every hole within the limits. A shell with a hole beyond them is removed as a stray
/// surface when another shell is closed; otherwise repair refuses.
fn fill_holes_or_drop_strays(
    m: &mut Mesh,
    opts: &RepairOptions,
) -> Result<(Vec<FilledHole>, Vec<RemovedShell>), RepairError> {
    let edges = EdgeMap::new(m);
    let shells = m.shells();
    let mut shell_of = vec![0usize; m.triangles.len()];
    for (s, tris) in shells.iter().enumerate() {
        for &t in tris {
            shell_of[t] = s;
        }
    }
    let mut boundary: Vec<Vec<(u32, u32)>> = vec![Vec::new(); shells.len()];
    for e in 0..edges.len() {
        if edges.valence(e) == 1
            && let Some(u) = edges.uses(e).next()
        {
            let [lo, hi] = edges.edges[e];
            let directed = if u.forward { (lo, hi) } else { (hi, lo) };
            boundary[shell_of[u.tri as usize]].push(directed);
        }
    }
    let any_closed = boundary.iter().any(Vec::is_empty);
    let mut filled = Vec::new();
    let mut removed = Vec::new();
    let mut drop_shell = vec![false; shells.len()];
    let mut added: Vec<[u32; 3]> = Vec::new();
    for (s, rim) in boundary.iter().enumerate() {
        if rim.is_empty() {
            continue;
        }
        let plan = plan_fill(m, &shells[s], rim, opts);
        match plan {
            Ok(plan) => {
                for p in plan {
                    filled.push(p.hole);
                    added.extend(p.triangles);
                }
            }
            Err(_) if any_closed => {
                drop_shell[s] = true;
                removed.push(shell_summary(m, &shells[s], "stray_surface"));
            }
            Err(e) => return Err(e),
        }
    }
    let mut tris: Vec<[u32; 3]> = (0..m.triangles.len())
        .filter(|&t| !drop_shell[shell_of[t]])
        .map(|t| m.triangles[t])
        .collect();
    tris.extend(added);
    m.triangles = tris;
    Ok((filled, removed))
}

/// A planned patch: the hole's record and the triangles that close it.
struct Patch {
    hole: FilledHole,
    triangles: Vec<[u32; 3]>,
}

/// Triangulates every hole of one shell's rim, or says which hole breaks which limit.
fn plan_fill(
    m: &Mesh,
    shell: &[usize],
    rim: &[(u32, u32)],
    opts: &RepairOptions,
) -> Result<Vec<Patch>, RepairError> {
    let at = |v: u32| -> [f64; 3] { m.vertices[v as usize].coords.into() };
    let holes = trace_holes(rim).map_err(|t| RepairError::TangledBoundary { at: at(t.vertex) })?;
    let existing: std::collections::HashSet<[u32; 3]> =
        m.triangles.iter().map(|t| sorted(*t)).collect();
    let mut plan = Vec::new();
    for h in &holes {
        let (normal, diameter, deviation) = loop_shape(m, h);
        let edges = h.loop_vertices.len();
        let refuse = |why: String| RepairError::HoleNotFillable {
            edges,
            diameter_mm: diameter,
            at: at(h.loop_vertices[0]),
            why,
        };
        if edges > opts.max_hole_edges {
            return Err(refuse(format!("larger than {} edges", opts.max_hole_edges)));
        }
        if diameter > opts.max_hole_diameter_mm {
            return Err(refuse(format!(
                "wider than {} mm",
                opts.max_hole_diameter_mm
            )));
        }
        if edges > 3 && deviation > opts.max_hole_deviation * diameter {
            return Err(refuse(format!(
                "not planar (rim {deviation:.3} mm off its plane)"
            )));
        }
        let triangles = fill_hole(m, h, &normal)
            .ok_or_else(|| refuse("not a simple polygon in its plane".into()))?;
        if triangles.iter().any(|t| existing.contains(&sorted(*t))) {
            return Err(refuse(
                "closed only by doubling an existing face (an open surface, not a solid)".into(),
            ));
        }
        plan.push(Patch {
            hole: FilledHole {
                edges,
                triangles_added: triangles.len(),
                diameter_mm: diameter,
                at: at(h.loop_vertices[0]),
            },
            triangles,
        });
    }
    // A surface that closes onto itself (a plane patched from both sides) holds nothing.
    let mut closed = Mesh {
        vertices: m.vertices.clone(),
        triangles: shell.iter().map(|&t| m.triangles[t]).collect(),
    };
    closed
        .triangles
        .extend(plan.iter().flat_map(|p| p.triangles.iter().copied()));
    let volume = closed.signed_volume().abs();
    if volume <= opts.min_shell_volume_mm3 {
        let h = &holes[0];
        return Err(RepairError::HoleNotFillable {
            edges: h.loop_vertices.len(),
            diameter_mm: loop_shape(m, h).1,
            at: at(h.loop_vertices[0]),
            why: format!(
                "closed only into a shell of {volume:.2e} mm³ (an open surface, not a solid)"
            ),
        });
    }
    Ok(plan)
}

fn sorted(mut t: [u32; 3]) -> [u32; 3] {
    t.sort_unstable();
    t
}

fn shell_summary(m: &Mesh, tris: &[usize], reason: &'static str) -> RemovedShell {
    RemovedShell {
        reason,
        triangles: tris.len(),
        area_mm2: tris.iter().map(|&t| 0.5 * m.area_normal(t).norm()).sum(),
        volume_mm3: m.signed_volume_of(tris.iter().copied()),
        at: m.vertices[m.triangles[tris[0]][0] as usize].coords.into(),
    }
}

/// Removes closed shells too small to print, unless that would remove everything.
fn remove_slivers(m: &mut Mesh, opts: &RepairOptions) -> Vec<RemovedShell> {
    let shells = m.shells();
    let tiny: Vec<bool> = shells
        .iter()
        .map(|tris| {
            tris.len() < 4
                || m.signed_volume_of(tris.iter().copied()).abs() < opts.min_shell_volume_mm3
        })
        .collect();
    if tiny.iter().all(|&t| t) {
        return Vec::new();
    }
    let mut removed = Vec::new();
    let mut keep = vec![true; m.triangles.len()];
    for (s, tris) in shells.iter().enumerate() {
        if tiny[s] {
            removed.push(shell_summary(m, tris, "sliver"));
            for &t in tris {
                keep[t] = false;
            }
        }
    }
    let mut i = 0;
    m.triangles.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    removed
}

/// Turns every inside-out closed shell the right way (voids inside solids stay inward).
fn flip_inverted_shells(m: &mut Mesh, opts: &RepairOptions) -> usize {
    let quick = CheckOptions {
        self_intersections: false,
        ..opts.check.clone()
    };
    let report = check_mesh(m, &quick);
    let shells = m.shells();
    let mut flipped = 0;
    for (s, detail) in report.shells_detail.iter().enumerate() {
        if detail.inverted {
            for &t in &shells[s] {
                m.triangles[t].swap(1, 2);
            }
            flipped += 1;
        }
    }
    flipped
}

#[cfg(test)]
mod tests;
