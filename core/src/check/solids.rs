//! Reference solids of known volume and topology, for tests and benchmarks of the check.

use nalgebra::Point3;

use crate::mesh::Mesh;

/// A closed torus around the z axis (genus 1) with `major` radius `r_major`, tube radius
/// `r_minor`, `nu` segments around the axis and `nv` around the tube: `2·nu·nv` triangles,
/// wound outwards.
pub fn torus(r_major: f64, r_minor: f64, nu: usize, nv: usize) -> Mesh {
    let (nu, nv) = (nu.max(3), nv.max(3));
    let tau = std::f64::consts::TAU;
    let mut vertices = Vec::with_capacity(nu * nv);
    for i in 0..nu {
        let u = tau * i as f64 / nu as f64;
        for j in 0..nv {
            let v = tau * j as f64 / nv as f64;
            let r = r_major + r_minor * v.cos();
            vertices.push(Point3::new(r * u.cos(), r * u.sin(), r_minor * v.sin()));
        }
    }
    let id = |i: usize, j: usize| ((i % nu) * nv + (j % nv)) as u32;
    let mut triangles = Vec::with_capacity(2 * nu * nv);
    for i in 0..nu {
        for j in 0..nv {
            let (a, b, c, d) = (id(i, j), id(i + 1, j), id(i + 1, j + 1), id(i, j + 1));
            triangles.push([a, b, c]);
            triangles.push([a, c, d]);
        }
    }
    Mesh {
        vertices,
        triangles,
    }
}

/// A square frame: the box `[0, outer]² × [0, height]` with the square hole
/// `[inner_lo, inner_hi]²` through it (genus 1), built from a 4×4 grid of columns.
pub fn square_frame(outer: f64, inner_lo: f64, inner_hi: f64, height: f64) -> Mesh {
    let xs = [0.0, inner_lo, inner_hi, outer];
    let mut soup = Vec::new();
    let solid = |i: usize, j: usize| -> bool { !(i == 1 && j == 1) && i < 3 && j < 3 };
    for i in 0..3 {
        for j in 0..3 {
            if !solid(i, j) {
                continue;
            }
            let (x0, x1, y0, y1) = (xs[i], xs[i + 1], xs[j], xs[j + 1]);
            let p = |x: f64, y: f64, z: f64| Point3::new(x, y, z);
            // Top and bottom.
            soup.push([p(x0, y0, height), p(x1, y0, height), p(x1, y1, height)]);
            soup.push([p(x0, y0, height), p(x1, y1, height), p(x0, y1, height)]);
            soup.push([p(x0, y0, 0.0), p(x1, y1, 0.0), p(x1, y0, 0.0)]);
            soup.push([p(x0, y0, 0.0), p(x0, y1, 0.0), p(x1, y1, 0.0)]);
            // Side walls only where the neighbouring cell is empty.
            let empty = |di: i64, dj: i64| {
                let (ni, nj) = (i as i64 + di, j as i64 + dj);
                ni < 0 || nj < 0 || !solid(ni as usize, nj as usize)
            };
            let h = height;
            if empty(-1, 0) {
                soup.push([p(x0, y0, 0.0), p(x0, y0, h), p(x0, y1, h)]);
                soup.push([p(x0, y0, 0.0), p(x0, y1, h), p(x0, y1, 0.0)]);
            }
            if empty(1, 0) {
                soup.push([p(x1, y0, 0.0), p(x1, y1, h), p(x1, y0, h)]);
                soup.push([p(x1, y0, 0.0), p(x1, y1, 0.0), p(x1, y1, h)]);
            }
            if empty(0, -1) {
                soup.push([p(x0, y0, 0.0), p(x1, y0, h), p(x0, y0, h)]);
                soup.push([p(x0, y0, 0.0), p(x1, y0, 0.0), p(x1, y0, h)]);
            }
            if empty(0, 1) {
                soup.push([p(x0, y1, 0.0), p(x0, y1, h), p(x1, y1, h)]);
                soup.push([p(x0, y1, 0.0), p(x1, y1, h), p(x1, y1, 0.0)]);
            }
        }
    }
    Mesh::from_soup(soup)
}
