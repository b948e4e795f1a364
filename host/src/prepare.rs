//! What the host refuses before slicing: a mesh that is not printable, a part whose size says
//! it was read in the wrong units, outputs that cannot be written.

use meltline_core::check::{CheckOptions, CheckReport, DefectKind, check_mesh};
use meltline_core::io::Units;
use meltline_core::mesh::Mesh;
use meltline_firmware::machine::MachineConfig;

/// The least size (mm) of a real part's largest side: below it the file is most likely in
/// metres or inches read as millimetres (the smallest cervical cage is ~11 mm, a test coupon a
/// few mm; docs/DOMAIN.md).
pub const MIN_PART_SIZE_MM: f64 = 1.0;

/// The machine's build envelope (x, y, z) in mm.
pub fn envelope_mm(m: &MachineConfig) -> [f64; 3] {
    let side = 2.0 * f64::from(m.field_half_um) / 1000.0;
    [side, side, f64::from(m.build_height_um) / 1000.0]
}

/// The check options the slicer applies to a mesh before slicing it on `m`.
pub fn check_options(m: &MachineConfig) -> CheckOptions {
    CheckOptions {
        build_volume_mm: Some(envelope_mm(m)),
        min_part_size_mm: Some(MIN_PART_SIZE_MM),
        ..CheckOptions::default()
    }
}

/// The units (other than `read_with`) in which a part measuring `size_mm` when read with
/// `read_with` would fit between [`MIN_PART_SIZE_MM`] and the envelope, with its size then.
pub fn units_that_fit(
    size_mm: [f64; 3],
    read_with: Units,
    envelope: [f64; 3],
) -> Vec<(Units, [f64; 3])> {
    [Units::Mm, Units::M, Units::In]
        .into_iter()
        .filter(|u| *u != read_with)
        .filter_map(|u| {
            let f = u.to_mm() / read_with.to_mm();
            let s = size_mm.map(|v| v * f);
            let largest = s.iter().fold(0.0_f64, |a, &b| a.max(b));
            let fits = largest >= MIN_PART_SIZE_MM && (0..3).all(|k| s[k] <= envelope[k]);
            fits.then_some((u, s))
        })
        .collect()
}

fn units_name(u: Units) -> &'static str {
    match u {
        Units::Mm => "mm",
        Units::M => "m",
        Units::In => "in",
    }
}

/// A sentence on the part's size and the `--units` that would make it fit, when the check
/// found it too small or too large.
pub fn units_hint(report: &CheckReport, read_with: Units, envelope: [f64; 3]) -> Option<String> {
    let size_defect = report
        .defect(DefectKind::BelowMinimumSize)
        .or_else(|| report.defect(DefectKind::ExceedsBuildVolume))?;
    let size = size_defect.examples.first()?.points.first().copied()?;
    let read = format!(
        "read in {} the part measures {:.4} × {:.4} × {:.4} mm",
        units_name(read_with),
        size[0],
        size[1],
        size[2]
    );
    let fits = units_that_fit(size, read_with, envelope);
    Some(match fits.first() {
        Some((u, s)) => format!(
            "{read}; with --units {} it would measure {:.2} × {:.2} × {:.2} mm",
            units_name(*u),
            s[0],
            s[1],
            s[2]
        ),
        None => format!("{read}; no other units make it fit the machine"),
    })
}

/// Checks a mesh before slicing: `Err` with the defects (and a units hint) when it is not
/// printable on `m`.
pub fn require_printable(
    mesh: &Mesh,
    read_with: Units,
    m: &MachineConfig,
) -> Result<CheckReport, String> {
    let report = check_mesh(mesh, &check_options(m));
    if report.printable {
        return Ok(report);
    }
    let mut text = report
        .defects
        .iter()
        .map(|d| format!("{} × {}", d.count, d.kind.meaning()))
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(hint) = units_hint(&report, read_with, envelope_mm(m)) {
        text.push_str("; ");
        text.push_str(&hint);
    }
    Err(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vertebra_in_metres_read_as_millimetres_is_refused_with_the_units_that_fit() {
        // The L3 vertebra is ~0.05 m across: read as mm it is 0.05 mm.
        let mesh = Mesh::axis_aligned_box([0.0; 3], [0.05, 0.04, 0.03]);
        let e = require_printable(&mesh, Units::Mm, &MachineConfig::default()).unwrap_err();
        assert!(e.contains("smaller than the least part size"), "{e}");
        assert!(e.contains("--units m "), "{e}");
        assert!(e.contains("50.00 × 40.00 × 30.00 mm"), "{e}");
    }

    #[test]
    fn a_part_in_mm_read_as_inches_is_too_large_and_mm_is_suggested() {
        let mesh = Mesh::axis_aligned_box([0.0; 3], [30.0, 10.0, 12.0]);
        let scaled = {
            let mut m = mesh.clone();
            for v in &mut m.vertices {
                v.coords *= 25.4;
            }
            m
        };
        let e = require_printable(&scaled, Units::In, &MachineConfig::default()).unwrap_err();
        assert!(e.contains("larger than the build envelope"), "{e}");
        assert!(e.contains("--units mm"), "{e}");
    }
}
