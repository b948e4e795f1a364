//! The envelope pass: whether the part fits the build volume, and whether it is large
//! enough to have been read in the right units.

use super::findings::Findings;
use super::report::{DefectExample, DefectKind};

/// Checks the part's bounding box against the options' build volume and least size.
pub(super) fn envelope_pass(found: &mut Findings) {
    let bbox = found.mesh.bbox();
    let size = bbox.size();
    if let Some(env) = found.opts.build_volume_mm
        && (0..3).any(|k| size[k] > env[k])
    {
        let example = DefectExample {
            triangles: Vec::new(),
            points: vec![size, env],
        };
        found.defect(DefectKind::ExceedsBuildVolume, 1, vec![example]);
    }
    if let Some(least) = found.opts.min_part_size_mm
        && !bbox.is_empty()
        && size.iter().all(|s| s.is_finite())
        && size.iter().fold(0.0, |a: f64, &b| a.max(b)) < least
    {
        let example = DefectExample {
            triangles: Vec::new(),
            points: vec![size, [least; 3]],
        };
        found.defect(DefectKind::BelowMinimumSize, 1, vec![example]);
    }
}
