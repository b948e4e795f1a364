//! Shared helpers of the `design_*` scenarios (included with `#[path]`, not a test target).

#![allow(dead_code)]

use std::path::PathBuf;

use meltline_core::Mesh;
use meltline_core::cage::CageSpec;
use nalgebra::Point3;

/// The example specs shipped at the repository root.
pub const KINDS: [&str; 5] = ["tlif", "plif", "olif", "alif", "acdf"];

/// An example spec from `examples/KIND.toml`.
pub fn example(kind: &str) -> CageSpec {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../examples/{kind}.toml"));
    let text = std::fs::read_to_string(&path).expect("example spec present");
    CageSpec::from_toml_str(&text, &path.display().to_string()).expect("example spec valid")
}

/// A domed endplate as an open grid mesh, `z = z0 + s·(dome·(1 − x²/a² − y²/b²) + tilt·y)` over
/// a 44 × 34 mm plate; `s = +1` for the upper vertebra's inferior endplate (concave towards the
/// disc), `-1` for the lower's superior one. Returns the mesh and the exact surface.
pub fn domed_endplate(z0: f64, s: f64, dome: f64, tilt: f64) -> (Mesh, impl Fn(f64, f64) -> f64) {
    let (a, b) = (22.0, 17.0);
    let h = move |x: f64, y: f64| {
        z0 + s * (dome * (1.0 - x * x / (a * a) - y * y / (b * b)) + tilt * y)
    };
    let n = 88;
    let p = |i: usize, j: usize| {
        let x = -a + 2.0 * a * i as f64 / n as f64;
        let y = -b + 2.0 * b * j as f64 / n as f64;
        Point3::new(x, y, h(x, y))
    };
    let mut soup = Vec::new();
    for j in 0..n {
        for i in 0..n {
            soup.push([p(i, j), p(i + 1, j), p(i + 1, j + 1)]);
            soup.push([p(i, j), p(i + 1, j + 1), p(i, j + 1)]);
        }
    }
    (Mesh::from_soup(soup), h)
}
