//! Mesh reading speed: the 56k-face spiral lattice cone of the corpus and a generated
//! 2 M-triangle binary STL (a finely tessellated torus, written to a temporary directory).
//!
//! `cargo bench -p meltline-core --bench io_read`

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use meltline_core::Mesh;
use meltline_core::io::{ReadOptions, StlFormat, read_mesh, stl_bytes, write_stl};
use nalgebra::Point3;

/// A closed torus of `2·n·m` triangles, 80 mm across.
fn torus(n: usize, m: usize) -> Mesh {
    let tau = std::f64::consts::TAU;
    let mut vertices = Vec::with_capacity(n * m);
    for i in 0..n {
        for j in 0..m {
            let (u, v) = (i as f64 / n as f64 * tau, j as f64 / m as f64 * tau);
            let r = 30.0 + 10.0 * v.cos();
            vertices.push(Point3::new(r * u.cos(), r * u.sin(), 10.0 * v.sin()));
        }
    }
    let at = |i: usize, j: usize| ((i % n) * m + j % m) as u32;
    let mut triangles = Vec::with_capacity(2 * n * m);
    for i in 0..n {
        for j in 0..m {
            triangles.push([at(i, j), at(i + 1, j), at(i + 1, j + 1)]);
            triangles.push([at(i, j), at(i + 1, j + 1), at(i, j + 1)]);
        }
    }
    Mesh {
        vertices,
        triangles,
    }
}

fn corpus_file(rel: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("MELTLINE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    let file = dir.join(rel);
    file.is_file().then_some(file)
}

fn bench_read(c: &mut Criterion) {
    let opts = ReadOptions::default();
    let mut group = c.benchmark_group("read");
    group.sample_size(10);
    match corpus_file("parts/Spiral_lattice_cone_1.stl") {
        Some(cone) => {
            group.bench_function("spiral_lattice_cone_56k", |b| {
                b.iter(|| read_mesh(&cone, &opts).unwrap())
            });
        }
        None => {
            eprintln!("SKIPPED spiral_lattice_cone_56k: corpus not found (set MELTLINE_CORPUS)")
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("torus_2m.stl");
    let mesh = torus(1000, 1000);
    write_stl(&big, &mesh, StlFormat::Binary).unwrap();
    group.bench_function("binary_stl_2m_triangles", |b| {
        b.iter(|| read_mesh(&big, &opts).unwrap())
    });
    let small = torus(100, 100);
    let ascii = dir.path().join("torus_20k_ascii.stl");
    std::fs::write(&ascii, stl_bytes(&small, StlFormat::Ascii)).unwrap();
    group.bench_function("ascii_stl_20k_triangles", |b| {
        b.iter(|| read_mesh(&ascii, &opts).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_read);
criterion_main!(benches);
