//! Slicing and hatching benchmarks: a generated sphere and the corpus spiral lattice cone.
//!
//! `cargo bench -p meltline-slicer --bench slicing` (the cone needs the corpus, found via
//! `$MELTLINE_CORPUS` or `../shared/corpus`; it is skipped when missing).

use std::f64::consts::PI;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use meltline_core::io::{ReadOptions, read_mesh};
use meltline_core::mesh::Mesh;
use meltline_slicer::job::{Slicer, SlicerOptions};
use meltline_slicer::profile::ProcessProfile;
use meltline_slicer::slice::{MeshSlicer, SliceOptions};
use nalgebra::Point3;

/// A UV sphere of radius `r` on the plate, `n` segments around.
fn sphere(r: f64, n: usize) -> Mesh {
    let rings = n / 2;
    let mut v = vec![Point3::new(0.0, 0.0, 0.0), Point3::new(0.0, 0.0, 2.0 * r)];
    for j in 1..rings {
        let phi = PI * j as f64 / rings as f64;
        for i in 0..n {
            let th = 2.0 * PI * i as f64 / n as f64;
            v.push(Point3::new(
                r * phi.sin() * th.cos(),
                r * phi.sin() * th.sin(),
                r - r * phi.cos(),
            ));
        }
    }
    let at = |i: usize, j: usize| (2 + (j - 1) * n + i % n) as u32;
    let mut t = Vec::new();
    for i in 0..n {
        t.push([0, at(i + 1, 1), at(i, 1)]);
        t.push([1, at(i, rings - 1), at(i + 1, rings - 1)]);
    }
    for j in 1..rings - 1 {
        for i in 0..n {
            t.push([at(i, j), at(i + 1, j), at(i + 1, j + 1)]);
            t.push([at(i, j), at(i + 1, j + 1), at(i, j + 1)]);
        }
    }
    let mut m = Mesh::new(v, t).expect("valid indices");
    if m.signed_volume() < 0.0 {
        m.flip_all();
    }
    m
}

fn corpus(rel: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("MELTLINE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    let p = dir.join(rel);
    p.is_file().then_some(p)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("slicer");
    g.sample_size(10);
    // 20 mm sphere, 256 segments (65k triangles), 30 µm layers: 667 layers.
    let s = sphere(10.0, 256);
    g.bench_function("sphere20_slice_only", |b| {
        b.iter(|| {
            MeshSlicer::new(&s, SliceOptions::new(0.03))
                .unwrap()
                .slice_all()
        })
    });
    g.bench_function("sphere20_slice_hatch_job", |b| {
        b.iter(|| {
            Slicer::new(&s, ProcessProfile::ti6al4v(), SlicerOptions::default())
                .unwrap()
                .build_job()
                .unwrap()
        })
    });
    if let Some(path) = corpus("parts/Spiral_lattice_cone_1.stl") {
        let m = read_mesh(&path, &ReadOptions::default()).expect("corpus mesh");
        g.bench_function("spiral_cone_slice_hatch_streamed", |b| {
            b.iter(|| {
                Slicer::new(&m, ProcessProfile::ti6al4v(), SlicerOptions::default())
                    .unwrap()
                    .layers()
                    .count()
            })
        });
    } else {
        eprintln!("SKIPPED spiral cone: corpus not found");
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
