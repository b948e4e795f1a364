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
mod crossings;
mod edges;
mod elements;
mod envelope;
mod findings;
pub mod intersect;
mod report;
mod shells;
pub mod solids;
pub mod topology;

use crate::mesh::Mesh;
pub use crossings::crossing_pairs;
use findings::Findings;
pub use report::{CheckReport, Defect, DefectExample, DefectKind, ShellReport};
pub use shells::winding_number;

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
///
/// One pass per defect family, in the order each needs the previous ones' results:
/// vertices (finiteness), triangles (degeneracy, duplicates), edges (boundary, non-manifold,
/// inconsistent winding), shells (closure, flatness, nesting, inversion), crossings, and
/// the part against the build envelope.
pub fn check_mesh(mesh: &Mesh, opts: &CheckOptions) -> CheckReport {
    let nv = mesh.vertices.len();
    let invalid: Vec<usize> = (0..mesh.triangles.len())
        .filter(|&t| mesh.triangles[t].iter().any(|&v| v as usize >= nv))
        .collect();
    if !invalid.is_empty() {
        return invalid_indices_report(mesh, &invalid, opts);
    }
    let mut found = Findings::new(mesh, opts);
    let vertices = elements::vertex_pass(&mut found);
    let triangles = elements::triangle_pass(&mut found, &vertices.finite);
    let duplicate_triangles = elements::duplicate_pass(&mut found, &triangles);
    let edges = edges::edge_pass(&mut found);
    let shells = shells::shell_pass(&mut found, &triangles, &edges);
    let crossings = crossings::crossing_pass(&mut found, &triangles);
    envelope::envelope_pass(&mut found);
    let bbox = mesh.bbox();
    let bbox_mm = if bbox.is_empty() {
        [[0.0; 3]; 2]
    } else {
        [bbox.min, bbox.max]
    };
    let genus = shells
        .detail
        .iter()
        .map(|s| s.genus)
        .sum::<Option<i64>>()
        .filter(|_| !shells.detail.is_empty());
    let (defects, warnings) = found.finish();
    CheckReport {
        triangles: mesh.triangles.len(),
        vertices: nv,
        shells: shells.detail.len(),
        volume_mm3: mesh.signed_volume(),
        area_mm2: mesh.area(),
        bbox_mm,
        boundary_edges: edges.counts.boundary,
        non_manifold_edges: edges.counts.non_manifold,
        inconsistent_edges: edges.counts.inconsistent,
        degenerate_triangles: triangles.degenerate_count,
        duplicate_triangles,
        self_intersections: crossings.map(|c| c.deep),
        shallow_self_intersections: crossings.map(|c| c.shallow),
        max_crossing_depth_mm: crossings.map_or(0.0, |c| c.max_depth_mm),
        non_finite_vertices: vertices.non_finite,
        inverted_shells: shells.inverted,
        genus,
        printable: defects.is_empty(),
        defects,
        warnings,
        shells_detail: shells.detail,
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

#[cfg(test)]
mod tests;
