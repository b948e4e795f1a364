//! Phantom endplates: a pair of domed vertebral endplate surfaces the project generates
//! itself, so the demo and tests can fit a cage to "vertebrae" without any outside data.
//!
//! Each surface is an open grid mesh `z = z0 + s·(dome·(1 − x²/a² − y²/b²) + tilt·y)` over an
//! elliptical-ish 44 × 34 mm endplate (a = 22, b = 17 mm, lumbar size), with `s = +1` for an
//! upper vertebra's inferior endplate (concave towards the disc) and `s = −1` for a lower
//! vertebra's superior endplate. The fitter only needs the endplate surfaces, not whole bones.

use nalgebra::Point3;

use crate::mesh::Mesh;

/// Half-axes of the endplate grid, mm.
const HALF_AXES_MM: (f64, f64) = (22.0, 17.0);

/// A domed endplate surface and its height function `h(x, y)`, mm.
pub fn domed_endplate(z0: f64, s: f64, dome: f64, tilt: f64) -> (Mesh, impl Fn(f64, f64) -> f64) {
    let (a, b) = HALF_AXES_MM;
    let h = move |x: f64, y: f64| {
        z0 + s * (dome * (1.0 - x * x / (a * a) - y * y / (b * b)) + tilt * y)
    };
    let n = 60;
    let mut soup = Vec::with_capacity(2 * n * n);
    let p = |i: usize, j: usize| {
        let x = -a + 2.0 * a * i as f64 / n as f64;
        let y = -b + 2.0 * b * j as f64 / n as f64;
        Point3::new(x, y, h(x, y))
    };
    for j in 0..n {
        for i in 0..n {
            soup.push([p(i, j), p(i + 1, j), p(i + 1, j + 1)]);
            soup.push([p(i, j), p(i + 1, j + 1), p(i, j + 1)]);
        }
    }
    (Mesh::from_soup(soup), h)
}

/// A lumbar disc space: the upper vertebra's inferior endplate and the lower vertebra's
/// superior endplate, 12 mm apart at the centre, each domed by about 1 mm, with 3° of
/// lordosis on each side (6° between them).
pub fn lumbar_pair() -> (Mesh, Mesh) {
    let tilt = 3.0f64.to_radians().tan();
    let (upper, _) = domed_endplate(6.0, 1.0, 1.2, tilt);
    let (lower, _) = domed_endplate(-6.0, -1.0, 1.0, tilt);
    (upper, lower)
}
