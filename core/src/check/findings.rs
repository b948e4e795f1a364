//! What the check passes find: the defects and warnings collected while they run.

use super::CheckOptions;
use super::report::{Defect, DefectExample, DefectKind};
use crate::mesh::Mesh;

/// The mesh under check, its options, and the defects and warnings found so far.
pub(super) struct Findings<'a> {
    /// The mesh under check (all its indices are valid).
    pub mesh: &'a Mesh,
    /// What the check looks at.
    pub opts: &'a CheckOptions,
    defects: Vec<Defect>,
    warnings: Vec<Defect>,
}

impl<'a> Findings<'a> {
    /// Nothing found yet.
    pub fn new(mesh: &'a Mesh, opts: &'a CheckOptions) -> Findings<'a> {
        Findings {
            mesh,
            opts,
            defects: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Records `count` defects of `kind` (nothing when `count` is 0).
    pub fn defect(&mut self, kind: DefectKind, count: usize, examples: Vec<DefectExample>) {
        if count > 0 {
            self.defects.push(Defect {
                kind,
                count,
                examples,
            });
        }
    }

    /// Records `count` warnings of `kind` (nothing when `count` is 0).
    pub fn warning(&mut self, kind: DefectKind, count: usize, examples: Vec<DefectExample>) {
        if count > 0 {
            self.warnings.push(Defect {
                kind,
                count,
                examples,
            });
        }
    }

    /// The coordinates of vertex `v`.
    pub fn point(&self, v: u32) -> [f64; 3] {
        self.mesh.vertices[v as usize].coords.into()
    }

    /// The three corners of triangle `t`.
    pub fn corners(&self, t: usize) -> Vec<[f64; 3]> {
        self.mesh.triangles[t]
            .iter()
            .map(|&v| self.point(v))
            .collect()
    }

    /// An example naming triangle `t` and its corners, for each of the first
    /// `max_examples` of `tris`.
    pub fn triangle_examples(&self, tris: impl IntoIterator<Item = usize>) -> Vec<DefectExample> {
        tris.into_iter()
            .take(self.opts.max_examples)
            .map(|t| DefectExample {
                triangles: vec![t],
                points: self.corners(t),
            })
            .collect()
    }

    /// The defects sorted by kind, and the warnings.
    pub fn finish(mut self) -> (Vec<Defect>, Vec<Defect>) {
        self.defects.sort_by_key(|d| d.kind);
        (self.defects, self.warnings)
    }
}
