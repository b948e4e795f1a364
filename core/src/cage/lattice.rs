//! The porous core: the spec's lattice as a calibrated [`TpmsLattice`] of `implicit::tpms`.
//!
//! The porosity → level-set relation (numeric quantile of the TPMS over one cell, checked there
//! against the published skeletal-gyroid line and the ASLI sheet polynomial) lives in
//! [`crate::implicit::tpms`]; this module maps the spec onto it.

use nalgebra::Point3;

use super::spec::{LatticeKind, LatticeSpec, LatticeStyle};
use crate::implicit::ScalarField;
use crate::implicit::tpms::{self, LatticeError, TpmsKind, TpmsLattice};

/// A calibrated TPMS lattice; its field is in (approximate) millimetres, negative in the solid.
#[derive(Debug, Clone, PartialEq)]
pub struct Lattice {
    /// The unbounded lattice.
    pub tpms: TpmsLattice,
    /// Cell size, mm.
    pub cell_size: f64,
    /// Calibrated level `t`.
    pub level: f64,
}

impl Lattice {
    /// Builds the lattice and calibrates its level to the spec's porosity.
    pub fn new(spec: &LatticeSpec) -> Result<Lattice, LatticeError> {
        let kind = match spec.kind {
            LatticeKind::Gyroid => TpmsKind::Gyroid,
            LatticeKind::Diamond => TpmsKind::Diamond,
            LatticeKind::SchwarzP => TpmsKind::SchwarzP,
        };
        let style = match spec.style {
            LatticeStyle::Skeletal => tpms::LatticeStyle::Skeletal,
            LatticeStyle::Sheet => tpms::LatticeStyle::Sheet,
        };
        let tpms = TpmsLattice::with_porosity(kind, style, spec.cell_size_mm, spec.porosity)?;
        Ok(Lattice {
            cell_size: spec.cell_size_mm,
            level: tpms.level,
            tpms,
        })
    }

    /// The lattice solid field at `p`: negative inside the struts / walls, in ~mm.
    pub fn eval(&self, p: &Point3<f64>) -> f64 {
        self.tpms.eval(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_lattice_has_the_target_solid_fraction_on_an_offset_grid() {
        for kind in [
            LatticeKind::Gyroid,
            LatticeKind::Diamond,
            LatticeKind::SchwarzP,
        ] {
            for style in [LatticeStyle::Skeletal, LatticeStyle::Sheet] {
                let lattice = Lattice::new(&LatticeSpec {
                    kind,
                    style,
                    cell_size_mm: 2.0,
                    porosity: 0.65,
                })
                .unwrap();
                // A grid not aligned with the calibration grid, over 2×2×2 cells.
                let n = 50;
                let mut solid = 0;
                for i in 0..n {
                    for j in 0..n {
                        for k in 0..n {
                            let p = Point3::new(
                                0.13 + i as f64 * 4.0 / n as f64,
                                0.37 + j as f64 * 4.0 / n as f64,
                                0.71 + k as f64 * 4.0 / n as f64,
                            );
                            if lattice.eval(&p) < 0.0 {
                                solid += 1;
                            }
                        }
                    }
                }
                let vf = solid as f64 / (n * n * n) as f64;
                assert!((vf - 0.35).abs() < 0.01, "{kind:?} {style:?}: {vf}");
            }
        }
    }
}
