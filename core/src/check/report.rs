//! The check's report: defects named, counted and located, per shell and overall.

use std::fmt::Write as _;

use serde::Serialize;

/// The kinds of defect that make a mesh unprintable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefectKind {
    /// Triangles that index past the vertex list (nothing else is measured then).
    InvalidIndices,
    /// The mesh has no triangles.
    NoTriangles,
    /// Vertex coordinates that are NaN or infinite.
    NonFiniteVertices,
    /// Edges used by one triangle only: holes in the surface.
    BoundaryEdges,
    /// Edges used by more than two triangles.
    NonManifoldEdges,
    /// Edges two triangles traverse in the same direction: a flipped triangle.
    InconsistentEdges,
    /// Closed shells whose normals point inwards.
    InvertedShells,
    /// Closed shells that enclose no volume (a surface folded onto itself).
    FlatShells,
    /// Triangles with (near) zero area or a repeated vertex.
    DegenerateTriangles,
    /// Triangles with the same three vertices as an earlier one.
    DuplicateTriangles,
    /// Pairs of triangles that cross each other deeper than the crossing tolerance.
    SelfIntersections,
    /// The bounding box does not fit the build envelope.
    ExceedsBuildVolume,
    /// The part is smaller than the least size a real part has: most likely a file in
    /// metres or inches read as millimetres.
    BelowMinimumSize,
    /// Crossings within the tolerance: reported, but not a defect.
    ShallowSelfIntersections,
}

impl DefectKind {
    /// The snake-case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            DefectKind::InvalidIndices => "invalid_indices",
            DefectKind::NoTriangles => "no_triangles",
            DefectKind::NonFiniteVertices => "non_finite_vertices",
            DefectKind::BoundaryEdges => "boundary_edges",
            DefectKind::NonManifoldEdges => "non_manifold_edges",
            DefectKind::InconsistentEdges => "inconsistent_edges",
            DefectKind::InvertedShells => "inverted_shells",
            DefectKind::FlatShells => "flat_shells",
            DefectKind::DegenerateTriangles => "degenerate_triangles",
            DefectKind::DuplicateTriangles => "duplicate_triangles",
            DefectKind::SelfIntersections => "self_intersections",
            DefectKind::ExceedsBuildVolume => "exceeds_build_volume",
            DefectKind::BelowMinimumSize => "below_minimum_size",
            DefectKind::ShallowSelfIntersections => "shallow_self_intersections",
        }
    }

    /// What the defect means, for people.
    pub fn meaning(self) -> &'static str {
        match self {
            DefectKind::InvalidIndices => "triangles indexing past the vertex list",
            DefectKind::NoTriangles => "the mesh has no triangles",
            DefectKind::NonFiniteVertices => "vertices with NaN or infinite coordinates",
            DefectKind::BoundaryEdges => "open edges (holes in the surface)",
            DefectKind::NonManifoldEdges => "edges shared by more than two triangles",
            DefectKind::InconsistentEdges => {
                "edges where neighbouring triangles face opposite ways"
            }
            DefectKind::InvertedShells => "closed shells turned inside out (negative volume)",
            DefectKind::FlatShells => "closed shells that enclose no volume",
            DefectKind::DegenerateTriangles => "zero-area triangles",
            DefectKind::DuplicateTriangles => "triangles repeated on the same three vertices",
            DefectKind::SelfIntersections => "pairs of triangles crossing each other",
            DefectKind::ExceedsBuildVolume => {
                "the part is larger than the build envelope (are the units right?)"
            }
            DefectKind::BelowMinimumSize => {
                "the part is smaller than the least part size (are the units right?)"
            }
            DefectKind::ShallowSelfIntersections => {
                "pairs of triangles crossing within the tolerance (not a defect)"
            }
        }
    }
}

/// Where one instance of a defect is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefectExample {
    /// The triangles involved (indices into the mesh).
    pub triangles: Vec<usize>,
    /// Coordinates locating it (mm): an edge's two ends, a triangle's corners, a shell's
    /// first vertex.
    pub points: Vec<[f64; 3]>,
}

/// One kind of defect, counted and located.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Defect {
    /// What is wrong.
    pub kind: DefectKind,
    /// How many instances.
    pub count: usize,
    /// The first few instances, in a deterministic order.
    pub examples: Vec<DefectExample>,
}

/// The check of one connected shell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShellReport {
    /// The number of triangles.
    pub triangles: usize,
    /// The signed enclosed volume (mm³); meaningful only when closed.
    pub volume_mm3: f64,
    /// The surface area (mm²).
    pub area_mm2: f64,
    /// Edges used by one triangle.
    pub boundary_edges: usize,
    /// Edges used by more than two triangles.
    pub non_manifold_edges: usize,
    /// Edges traversed twice in the same direction.
    pub inconsistent_edges: usize,
    /// True when every edge is used by exactly two triangles.
    pub closed: bool,
    /// True when the shell is closed, consistent and turned inside out.
    pub inverted: bool,
    /// True when the shell lies inside another closed shell (a void).
    pub nested: bool,
    /// True when the shell is closed but encloses no volume.
    pub flat: bool,
    /// The genus (number of handles) of a closed, consistently oriented shell.
    pub genus: Option<i64>,
}

/// The full printability report of a mesh.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// The number of triangles.
    pub triangles: usize,
    /// The number of vertices.
    pub vertices: usize,
    /// The number of connected shells.
    pub shells: usize,
    /// The signed enclosed volume (mm³).
    pub volume_mm3: f64,
    /// The surface area (mm²).
    pub area_mm2: f64,
    /// The bounding box, `[min, max]` (mm).
    pub bbox_mm: [[f64; 3]; 2],
    /// Edges used by one triangle.
    pub boundary_edges: usize,
    /// Edges used by more than two triangles.
    pub non_manifold_edges: usize,
    /// Edges traversed twice in the same direction.
    pub inconsistent_edges: usize,
    /// Triangles below the area epsilon or with a repeated vertex.
    pub degenerate_triangles: usize,
    /// Triangles repeating an earlier triangle's vertex set.
    pub duplicate_triangles: usize,
    /// Pairs of triangles crossing deeper than the tolerance (`None` when not tested).
    pub self_intersections: Option<usize>,
    /// Pairs of triangles crossing within the tolerance (`None` when not tested).
    pub shallow_self_intersections: Option<usize>,
    /// The deepest crossing found (mm).
    pub max_crossing_depth_mm: f64,
    /// Vertices with non-finite coordinates.
    pub non_finite_vertices: usize,
    /// Closed shells turned inside out.
    pub inverted_shells: usize,
    /// The summed genus of the shells, when every shell is closed and consistent.
    pub genus: Option<i64>,
    /// The verdict.
    pub printable: bool,
    /// Every defect found, in a fixed order.
    pub defects: Vec<Defect>,
    /// Findings that do not make the mesh unprintable.
    pub warnings: Vec<Defect>,
    /// One entry per shell, ordered by the shell's first triangle.
    pub shells_detail: Vec<ShellReport>,
}

impl CheckReport {
    /// The defect of a kind, when found.
    pub fn defect(&self, kind: DefectKind) -> Option<&Defect> {
        self.defects.iter().find(|d| d.kind == kind)
    }

    /// A readable multi-line summary.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let f = |p: [f64; 3]| format!("({:.4}, {:.4}, {:.4})", p[0], p[1], p[2]);
        let _ = writeln!(
            s,
            "{} triangles, {} vertices, {} shell{}",
            self.triangles,
            self.vertices,
            self.shells,
            if self.shells == 1 { "" } else { "s" }
        );
        let _ = writeln!(
            s,
            "volume {:.3} mm³, area {:.3} mm², bbox {} – {} mm",
            self.volume_mm3,
            self.area_mm2,
            f(self.bbox_mm[0]),
            f(self.bbox_mm[1])
        );
        if let Some(g) = self.genus {
            let _ = writeln!(s, "genus {g}");
        }
        if self.printable {
            let _ = writeln!(
                s,
                "printable: yes (closed, consistently oriented, no crossings)"
            );
        } else {
            let _ = writeln!(
                s,
                "printable: NO — {} kind(s) of defect",
                self.defects.len()
            );
        }
        if let Some(d) = self.warnings.first() {
            let _ = writeln!(
                s,
                "warning: {} (deepest {:.4} mm)",
                d.kind.meaning(),
                self.max_crossing_depth_mm
            );
        }
        for d in self.defects.iter().chain(&self.warnings) {
            let _ = writeln!(s, "  {}: {} — {}", d.kind.name(), d.count, d.kind.meaning());
            for e in &d.examples {
                let pts: Vec<String> = e.points.iter().map(|p| f(*p)).collect();
                if e.triangles.is_empty() {
                    let _ = writeln!(s, "    {}", pts.join(" vs "));
                } else {
                    let _ = writeln!(s, "    at triangles {:?}: {}", e.triangles, pts.join(" "));
                }
            }
        }
        s
    }
}
