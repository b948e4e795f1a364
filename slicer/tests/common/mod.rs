//! Generated test meshes: finely tessellated solids with known cross-sections.
#![allow(dead_code)]

use std::f64::consts::PI;

use meltline_core::mesh::Mesh;
use nalgebra::Point3;

/// A closed surface from a (u, v) grid: `nu` around (periodic), `nv` along; `f(i, j)` gives
/// the vertex, `caps` (two pole points) close the ends when the surface is not periodic in v.
fn grid(
    nu: usize,
    nv: usize,
    periodic_v: bool,
    f: impl Fn(usize, usize) -> Point3<f64>,
    caps: Option<(Point3<f64>, Point3<f64>)>,
) -> Mesh {
    let mut vertices = Vec::new();
    let rows = if periodic_v { nv } else { nv + 1 };
    for j in 0..rows {
        for i in 0..nu {
            vertices.push(f(i, j));
        }
    }
    let idx = |i: usize, j: usize| ((j % rows) * nu + (i % nu)) as u32;
    let mut triangles = Vec::new();
    for j in 0..nv {
        for i in 0..nu {
            let (a, b, c, d) = (idx(i, j), idx(i + 1, j), idx(i + 1, j + 1), idx(i, j + 1));
            triangles.push([a, b, c]);
            triangles.push([a, c, d]);
        }
    }
    if let Some((lo, hi)) = caps {
        let l = vertices.len() as u32;
        vertices.push(lo);
        vertices.push(hi);
        for i in 0..nu {
            triangles.push([l, idx(i + 1, 0), idx(i, 0)]);
            triangles.push([l + 1, idx(i, nv), idx(i + 1, nv)]);
        }
    }
    let mut m = Mesh::new(vertices, triangles).expect("indices in range");
    if m.signed_volume() < 0.0 {
        m.flip_all();
    }
    m
}

/// A sphere of radius `r` centred at `(0, 0, r)`, `n` segments around, `n/2` rings.
pub fn sphere(r: f64, n: usize) -> Mesh {
    let rings = n / 2;
    // Rings strictly between the poles; the caps close at the poles.
    let f = move |i: usize, j: usize| {
        let phi = PI * (j + 1) as f64 / rings as f64;
        let th = 2.0 * PI * i as f64 / n as f64;
        Point3::new(
            r * phi.sin() * th.cos(),
            r * phi.sin() * th.sin(),
            r - r * phi.cos(),
        )
    };
    grid(
        n,
        rings - 2,
        false,
        f,
        Some((Point3::new(0.0, 0.0, 0.0), Point3::new(0.0, 0.0, 2.0 * r))),
    )
}

/// A cylinder of radius `r`, height `h`, standing on z = 0.
pub fn cylinder(r: f64, h: f64, n: usize) -> Mesh {
    let f = move |i: usize, j: usize| {
        let th = 2.0 * PI * i as f64 / n as f64;
        Point3::new(r * th.cos(), r * th.sin(), h * j as f64)
    };
    grid(
        n,
        1,
        false,
        f,
        Some((Point3::new(0.0, 0.0, 0.0), Point3::new(0.0, 0.0, h))),
    )
}

/// A torus with major radius `big`, minor `small`, lying on z = 0.
pub fn torus(big: f64, small: f64, nu: usize, nv: usize) -> Mesh {
    let f = move |i: usize, j: usize| {
        let th = 2.0 * PI * i as f64 / nu as f64;
        let ph = 2.0 * PI * j as f64 / nv as f64;
        let rr = big + small * ph.cos();
        Point3::new(rr * th.cos(), rr * th.sin(), small + small * ph.sin())
    };
    grid(nu, nv, true, f, None)
}

/// A tube (cylinder with a coaxial hole).
pub fn tube(r_out: f64, r_in: f64, h: f64, n: usize) -> Mesh {
    let mut soup = Vec::new();
    let p = |r: f64, i: usize, z: f64| {
        let th = 2.0 * PI * i as f64 / n as f64;
        Point3::new(r * th.cos(), r * th.sin(), z)
    };
    for i in 0..n {
        let j = i + 1;
        // Outer wall (outward), inner wall (inward), top and bottom rings.
        soup.push([p(r_out, i, 0.0), p(r_out, j, 0.0), p(r_out, j, h)]);
        soup.push([p(r_out, i, 0.0), p(r_out, j, h), p(r_out, i, h)]);
        soup.push([p(r_in, i, 0.0), p(r_in, j, h), p(r_in, j, 0.0)]);
        soup.push([p(r_in, i, 0.0), p(r_in, i, h), p(r_in, j, h)]);
        soup.push([p(r_out, i, h), p(r_out, j, h), p(r_in, j, h)]);
        soup.push([p(r_out, i, h), p(r_in, j, h), p(r_in, i, h)]);
        soup.push([p(r_out, i, 0.0), p(r_in, j, 0.0), p(r_out, j, 0.0)]);
        soup.push([p(r_out, i, 0.0), p(r_in, i, 0.0), p(r_in, j, 0.0)]);
    }
    Mesh::from_soup(soup)
}

/// Relative difference.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}
