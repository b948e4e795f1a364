//! The printability check: topology, orientation, degeneracy and self-intersections of a mesh.
//!
//! A mesh is *printable* when it describes solids without ambiguity: every shell is a closed
//! 2-manifold (each edge used by exactly two triangles), consistently oriented with positive
//! enclosed volume (or negative when it is a void inside another shell), with no degenerate or
//! duplicate triangles, no non-finite coordinates and no two triangles crossing. Separate valid
//! shells are fine: the printer builds them side by side.
//!
//! ```
//! use meltline_core::{check::{check_mesh, CheckOptions}, mesh::Mesh};
//! let mut cube = Mesh::axis_aligned_box([0.0; 3], [10.0; 3]);
//! assert!(check_mesh(&cube, &CheckOptions::default()).printable);
//! cube.triangles.pop();
//! let report = check_mesh(&cube, &CheckOptions::default());
//! assert!(!report.printable);
//! assert_eq!(report.boundary_edges, 3);
//! ```

pub mod bvh;
pub mod intersect;
mod report;
pub mod solids;
pub mod topology;

use nalgebra::Point3;
use rayon::prelude::*;

use crate::mesh::Mesh;
use bvh::Bvh;
use intersect::{P3, collinear, triangles_cross};
pub use report::{CheckReport, Defect, DefectExample, DefectKind, ShellReport};
use topology::{EdgeClass, EdgeMap};

/// What the check looks at, with its named tolerances.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOptions {
    /// A triangle with an area below this (mm²) is degenerate.
    pub degenerate_area_mm2: f64,
    /// How many examples each defect lists.
    pub max_examples: usize,
    /// Whether to run the triangle–triangle crossing test (the costly part).
    pub self_intersections: bool,
    /// Crossings no deeper than this (mm) are reported as warnings, not defects: a fold or
    /// overlap thinner than the laser spot (70 µm at the smallest) cannot change what melts,
    /// and lattice parts exported as overlapping struts are full of them.
    pub crossing_tolerance_mm: f64,
    /// The build envelope (x, y, z in mm) the part must fit, when known.
    pub build_volume_mm: Option<[f64; 3]>,
    /// The least size (mm) of the part's largest bounding-box side, when checked: a part
    /// smaller than this was most likely read in the wrong units.
    pub min_part_size_mm: Option<f64>,
}

impl CheckOptions {
    /// The defaults: area epsilon 1e-12 mm², 5 examples, self-intersections tested with a
    /// 0.07 mm crossing tolerance, no build envelope.
    pub fn new() -> CheckOptions {
        CheckOptions {
            degenerate_area_mm2: 1e-12,
            max_examples: 5,
            self_intersections: true,
            crossing_tolerance_mm: 0.07,
            build_volume_mm: None,
            min_part_size_mm: None,
        }
    }
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions::new()
    }
}

/// Checks `mesh` for everything that stands between it and a print.
pub fn check_mesh(mesh: &Mesh, opts: &CheckOptions) -> CheckReport {
    let n = mesh.triangles.len();
    let nv = mesh.vertices.len();
    let invalid: Vec<usize> = (0..n)
        .filter(|&t| mesh.triangles[t].iter().any(|&v| v as usize >= nv))
        .collect();
    if !invalid.is_empty() {
        return invalid_indices_report(mesh, &invalid, opts);
    }
    let pt = |v: u32| -> [f64; 3] { mesh.vertices[v as usize].coords.into() };
    let corners =
        |t: usize| -> Vec<[f64; 3]> { mesh.triangles[t].iter().map(|&v| pt(v)).collect() };
    let mut defects = Vec::new();
    let mut push = |kind, count: usize, examples: Vec<DefectExample>| {
        if count > 0 {
            defects.push(Defect {
                kind,
                count,
                examples,
            });
        }
    };

    // Non-finite coordinates poison every measure, so their triangles are left out below.
    let finite: Vec<bool> = mesh
        .vertices
        .par_iter()
        .map(|p| p.iter().all(|c| c.is_finite()))
        .collect();
    let mut non_finite_vertices = 0;
    let mut nf_examples = Vec::new();
    for (v, ok) in finite.iter().enumerate() {
        if !ok {
            non_finite_vertices += 1;
            if nf_examples.len() < opts.max_examples {
                let tris = (0..n)
                    .filter(|&t| mesh.triangles[t].contains(&(v as u32)))
                    .take(3)
                    .collect();
                nf_examples.push(DefectExample {
                    triangles: tris,
                    points: vec![pt(v as u32)],
                });
            }
        }
    }
    if n == 0 {
        push(DefectKind::NoTriangles, 1, Vec::new());
    }
    push(
        DefectKind::NonFiniteVertices,
        non_finite_vertices,
        nf_examples,
    );

    // Per triangle: repeated index, area, exact collinearity, finiteness.
    let tri_state: Vec<(bool, bool, bool)> = (0..n)
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
            let tiny = !fin || area < opts.degenerate_area_mm2 || area.is_nan();
            let flat = repeated || !fin || collinear(&p3s(mesh, t));
            (repeated, tiny || flat, fin && !flat)
        })
        .collect();
    let degenerate: Vec<usize> = (0..n).filter(|&t| tri_state[t].1).collect();
    push(
        DefectKind::DegenerateTriangles,
        degenerate.len(),
        degenerate
            .iter()
            .take(opts.max_examples)
            .map(|&t| DefectExample {
                triangles: vec![t],
                points: corners(t),
            })
            .collect(),
    );

    // Duplicates: the same vertex set, whatever the winding.
    let mut keyed: Vec<([u32; 3], u32)> = (0..n)
        .filter(|&t| !tri_state[t].0)
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
    push(
        DefectKind::DuplicateTriangles,
        duplicates.len(),
        duplicates
            .iter()
            .take(opts.max_examples)
            .map(|&(a, b)| DefectExample {
                triangles: vec![a, b],
                points: corners(b),
            })
            .collect(),
    );

    // Edges.
    let edges = EdgeMap::new(mesh);
    let classes: Vec<EdgeClass> = (0..edges.len())
        .into_par_iter()
        .map(|e| edges.class(e))
        .collect();
    let edge_defect = |class: EdgeClass| -> (usize, Vec<DefectExample>) {
        let mut count = 0;
        let mut ex = Vec::new();
        for (e, c) in classes.iter().enumerate() {
            if *c == class {
                count += 1;
                if ex.len() < opts.max_examples {
                    ex.push(DefectExample {
                        triangles: edges.uses(e).map(|u| u.tri as usize).collect(),
                        points: vec![pt(edges.edges[e][0]), pt(edges.edges[e][1])],
                    });
                }
            }
        }
        (count, ex)
    };
    let (boundary_edges, ex) = edge_defect(EdgeClass::Boundary);
    push(DefectKind::BoundaryEdges, boundary_edges, ex);
    let (non_manifold_edges, ex) = edge_defect(EdgeClass::NonManifold);
    push(DefectKind::NonManifoldEdges, non_manifold_edges, ex);
    let (inconsistent_edges, ex) = edge_defect(EdgeClass::Inconsistent);
    push(DefectKind::InconsistentEdges, inconsistent_edges, ex);

    // Shells.
    let shells = mesh.shells();
    let mut shell_of = vec![0u32; n];
    for (s, tris) in shells.iter().enumerate() {
        for &t in tris {
            shell_of[t] = s as u32;
        }
    }
    let mut per_shell = vec![[0usize; 5]; shells.len()]; // boundary, non-manifold, inconsistent, edges, vertices
    for (e, c) in classes.iter().enumerate() {
        let Some(u) = edges.uses(e).next() else {
            continue;
        };
        let s = &mut per_shell[shell_of[u.tri as usize] as usize];
        s[3] += 1;
        match c {
            EdgeClass::Boundary => s[0] += 1,
            EdgeClass::NonManifold => s[1] += 1,
            EdgeClass::Inconsistent => s[2] += 1,
            EdgeClass::Manifold => {}
        }
    }
    // Shells are vertex-connected, so every used vertex belongs to exactly one.
    let mut vertex_seen = vec![false; mesh.vertices.len()];
    for (t, tri) in mesh.triangles.iter().enumerate() {
        if tri_state[t].0 {
            continue;
        }
        for &v in tri {
            if !std::mem::replace(&mut vertex_seen[v as usize], true) {
                per_shell[shell_of[t] as usize][4] += 1;
            }
        }
    }
    let mut shells_detail: Vec<ShellReport> = shells
        .par_iter()
        .zip(per_shell.par_iter())
        .map(|(tris, c)| {
            let proper: Vec<usize> = tris.iter().copied().filter(|&t| !tri_state[t].0).collect();
            let closed = c[0] == 0 && c[1] == 0 && !proper.is_empty();
            let genus = (closed && c[2] == 0).then(|| {
                let chi = c[4] as i64 - c[3] as i64 + proper.len() as i64;
                (2 - chi) / 2
            });
            ShellReport {
                triangles: tris.len(),
                volume_mm3: mesh.signed_volume_of(proper.iter().copied()),
                area_mm2: proper
                    .iter()
                    .map(|&t| 0.5 * mesh.area_normal(t).norm())
                    .sum(),
                boundary_edges: c[0],
                non_manifold_edges: c[1],
                inconsistent_edges: c[2],
                closed,
                inverted: false,
                nested: false,
                flat: false,
                genus,
            }
        })
        .collect();
    for d in &mut shells_detail {
        // Scale-free: a sphere encloses about 0.09·A^1.5.
        d.flat = d.closed && d.volume_mm3.abs() <= 1e-9 * d.area_mm2.powf(1.5);
    }
    mark_nested_and_inverted(mesh, &shells, &mut shells_detail);
    let flat: Vec<usize> = (0..shells.len())
        .filter(|&s| shells_detail[s].flat)
        .collect();
    push(
        DefectKind::FlatShells,
        flat.len(),
        flat.iter()
            .take(opts.max_examples)
            .map(|&s| DefectExample {
                triangles: vec![shells[s][0]],
                points: corners(shells[s][0]),
            })
            .collect(),
    );
    let inverted: Vec<usize> = (0..shells.len())
        .filter(|&s| shells_detail[s].inverted)
        .collect();
    push(
        DefectKind::InvertedShells,
        inverted.len(),
        inverted
            .iter()
            .take(opts.max_examples)
            .map(|&s| DefectExample {
                triangles: vec![shells[s][0]],
                points: corners(shells[s][0]),
            })
            .collect(),
    );

    // Crossings, split by depth.
    let mut warnings = Vec::new();
    let mut max_crossing_depth_mm: f64 = 0.0;
    let crossing_example = |&(a, b): &(u32, u32)| DefectExample {
        triangles: vec![a as usize, b as usize],
        points: corners(a as usize)
            .into_iter()
            .chain(corners(b as usize))
            .collect(),
    };
    let (self_intersections, shallow_self_intersections) = if opts.self_intersections {
        let pairs = crossing_pairs(mesh, |t| tri_state[t].2);
        let (mut deep, mut shallow) = (Vec::new(), Vec::new());
        for &pair in &pairs {
            let d = crossing_depth(mesh, pair);
            max_crossing_depth_mm = max_crossing_depth_mm.max(d);
            if d > opts.crossing_tolerance_mm {
                deep.push(pair);
            } else {
                shallow.push(pair);
            }
        }
        let ex = |v: &[(u32, u32)]| -> Vec<DefectExample> {
            v.iter()
                .take(opts.max_examples)
                .map(crossing_example)
                .collect()
        };
        push(DefectKind::SelfIntersections, deep.len(), ex(&deep));
        if !shallow.is_empty() {
            warnings.push(Defect {
                kind: DefectKind::ShallowSelfIntersections,
                count: shallow.len(),
                examples: ex(&shallow),
            });
        }
        (Some(deep.len()), Some(shallow.len()))
    } else {
        (None, None)
    };

    let bbox = mesh.bbox();
    let bbox_mm = if bbox.is_empty() {
        [[0.0; 3]; 2]
    } else {
        [bbox.min, bbox.max]
    };
    if let Some(env) = opts.build_volume_mm {
        let size = bbox.size();
        if (0..3).any(|k| size[k] > env[k]) {
            push(
                DefectKind::ExceedsBuildVolume,
                1,
                vec![DefectExample {
                    triangles: Vec::new(),
                    points: vec![size, env],
                }],
            );
        }
    }
    if let Some(least) = opts.min_part_size_mm {
        let size = bbox.size();
        if !bbox.is_empty()
            && size.iter().all(|s| s.is_finite())
            && size.iter().fold(0.0, |a: f64, &b| a.max(b)) < least
        {
            push(
                DefectKind::BelowMinimumSize,
                1,
                vec![DefectExample {
                    triangles: Vec::new(),
                    points: vec![size, [least; 3]],
                }],
            );
        }
    }
    let genus = shells_detail
        .iter()
        .map(|s| s.genus)
        .sum::<Option<i64>>()
        .filter(|_| !shells_detail.is_empty());
    defects.sort_by_key(|d| d.kind);
    CheckReport {
        triangles: n,
        vertices: mesh.vertices.len(),
        shells: shells.len(),
        volume_mm3: mesh.signed_volume(),
        area_mm2: mesh.area(),
        bbox_mm,
        boundary_edges,
        non_manifold_edges,
        inconsistent_edges,
        degenerate_triangles: degenerate.len(),
        duplicate_triangles: duplicates.len(),
        self_intersections,
        shallow_self_intersections,
        max_crossing_depth_mm,
        non_finite_vertices,
        inverted_shells: inverted.len(),
        genus,
        printable: defects.is_empty(),
        defects,
        warnings,
        shells_detail,
    }
}

/// The report of a mesh whose triangles index past its vertices: only that is said, since
/// no measure of such a mesh means anything.
fn invalid_indices_report(mesh: &Mesh, invalid: &[usize], opts: &CheckOptions) -> CheckReport {
    CheckReport {
        triangles: mesh.triangles.len(),
        vertices: mesh.vertices.len(),
        shells: 0,
        volume_mm3: 0.0,
        area_mm2: 0.0,
        bbox_mm: [[0.0; 3]; 2],
        boundary_edges: 0,
        non_manifold_edges: 0,
        inconsistent_edges: 0,
        degenerate_triangles: 0,
        duplicate_triangles: 0,
        self_intersections: None,
        shallow_self_intersections: None,
        max_crossing_depth_mm: 0.0,
        non_finite_vertices: 0,
        inverted_shells: 0,
        genus: None,
        printable: false,
        defects: vec![Defect {
            kind: DefectKind::InvalidIndices,
            count: invalid.len(),
            examples: invalid
                .iter()
                .take(opts.max_examples)
                .map(|&t| DefectExample {
                    triangles: vec![t],
                    points: Vec::new(),
                })
                .collect(),
        }],
        warnings: Vec::new(),
        shells_detail: Vec::new(),
    }
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

fn p3s(mesh: &Mesh, t: usize) -> [P3; 3] {
    mesh.corners(t).map(|p| p.coords.into())
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

/// Decides which closed shells are voids inside others, and which are inside out: a shell at
/// even nesting depth must enclose positive volume, one at odd depth (a void) negative.
fn mark_nested_and_inverted(mesh: &Mesh, shells: &[Vec<usize>], detail: &mut [ShellReport]) {
    let closed: Vec<usize> = (0..shells.len())
        .filter(|&s| detail[s].closed && !detail[s].flat && detail[s].inconsistent_edges == 0)
        .collect();
    let boxes: Vec<crate::mesh::Aabb> = shells
        .iter()
        .map(|tris| {
            let mut b = crate::mesh::Aabb::EMPTY;
            for &t in tris {
                for p in mesh.corners(t) {
                    b.grow(&p);
                }
            }
            b
        })
        .collect();
    let inside = |a: &crate::mesh::Aabb, b: &crate::mesh::Aabb| {
        (0..3).all(|k| b.min[k] <= a.min[k] && a.max[k] <= b.max[k])
    };
    let depth: Vec<usize> = closed
        .par_iter()
        .map(|&s| {
            let probe = mesh.vertices[mesh.triangles[shells[s][0]][0] as usize];
            closed
                .iter()
                .filter(|&&o| o != s && inside(&boxes[s], &boxes[o]))
                .filter(|&&o| winding_number(mesh, &shells[o], &probe).abs() > 0.5)
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

#[cfg(test)]
mod tests;
