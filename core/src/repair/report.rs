//! What repair changed: welds, removals, flips, filled holes and removed shells.

use serde::Serialize;

use crate::check::{CheckReport, DefectKind};

/// A hole that was filled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilledHole {
    /// Boundary edges of the hole.
    pub edges: usize,
    /// Triangles added.
    pub triangles_added: usize,
    /// Its diameter (mm).
    pub diameter_mm: f64,
    /// A vertex of its rim (mm).
    pub at: [f64; 3],
}

/// A shell that was removed, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemovedShell {
    /// Why: `sliver` (tiny closed shell) or `stray_surface` (open surface beside solids).
    pub reason: &'static str,
    /// Its triangles.
    pub triangles: usize,
    /// Its area (mm²).
    pub area_mm2: f64,
    /// Its enclosed volume (mm³; meaningless for open surfaces).
    pub volume_mm3: f64,
    /// A vertex of it (mm).
    pub at: [f64; 3],
}

/// What repair changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepairReport {
    /// True when the input was already printable and is returned as it was.
    pub unchanged: bool,
    /// The defects found before repair, by name and count.
    pub defects_before: Vec<(DefectKind, usize)>,
    /// Vertices merged into a near-coincident one.
    pub welded_vertices: usize,
    /// Degenerate triangles removed.
    pub removed_degenerate: usize,
    /// Duplicate triangles removed.
    pub removed_duplicate: usize,
    /// Triangles flipped to agree with their neighbours.
    pub flipped_triangles: usize,
    /// Shells turned the right way out.
    pub flipped_shells: usize,
    /// Holes filled.
    pub filled_holes: Vec<FilledHole>,
    /// Shells removed.
    pub removed_shells: Vec<RemovedShell>,
    /// The check of the result.
    pub after: CheckReport,
}

impl RepairReport {
    /// A readable summary of the changes.
    pub fn summary(&self) -> String {
        if self.unchanged {
            return "already printable: nothing changed\n".to_string();
        }
        let mut s = String::new();
        let before: Vec<String> = self
            .defects_before
            .iter()
            .map(|(k, c)| format!("{} {}", c, k.name()))
            .collect();
        s += &format!("defects before: {}\n", before.join(", "));
        let mut line = |n: usize, what: &str| {
            if n > 0 {
                s += &format!("{n} {what}\n");
            }
        };
        line(self.welded_vertices, "vertices welded");
        line(self.removed_degenerate, "degenerate triangles removed");
        line(self.removed_duplicate, "duplicate triangles removed");
        line(
            self.flipped_triangles,
            "triangles flipped to match their neighbours",
        );
        line(self.flipped_shells, "shells turned right side out");
        for h in &self.filled_holes {
            s += &format!(
                "filled a hole of {} edges ({:.3} mm across) near {:?} with {} triangles\n",
                h.edges, h.diameter_mm, h.at, h.triangles_added
            );
        }
        for r in &self.removed_shells {
            s += &format!(
                "removed a {} of {} triangles ({:.4} mm², {:.4} mm³) near {:?}\n",
                r.reason, r.triangles, r.area_mm2, r.volume_mm3, r.at
            );
        }
        s += &format!(
            "result: {} triangles, {} shells, volume {:.3} mm³, printable\n",
            self.after.triangles, self.after.shells, self.after.volume_mm3
        );
        s
    }
}
