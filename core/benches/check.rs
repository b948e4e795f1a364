//! Criterion benchmarks of the printability check and repair on generated tori.
//!
//! `cargo bench -p meltline-core --bench check`; the side-by-side run against trimesh on the
//! corpus and a 2 M-triangle torus is `bench/check_vs_trimesh.sh`.

use criterion::{Criterion, criterion_group, criterion_main};
use meltline_core::check::{CheckOptions, check_mesh, solids};
use meltline_core::repair::{RepairOptions, repair_mesh};
use std::hint::black_box;

fn check(c: &mut Criterion) {
    let torus = solids::torus(40.0, 12.0, 400, 250); // 200 000 triangles
    let mut g = c.benchmark_group("check_200k_torus");
    g.sample_size(10);
    g.bench_function("full", |b| {
        b.iter(|| check_mesh(black_box(&torus), &CheckOptions::default()))
    });
    let topology_only = CheckOptions {
        self_intersections: false,
        ..CheckOptions::default()
    };
    g.bench_function("topology_only", |b| {
        b.iter(|| check_mesh(black_box(&torus), &topology_only))
    });
    let mut holed = torus.clone();
    holed.triangles.drain(1000..1002);
    g.bench_function("repair_one_hole", |b| {
        b.iter(|| repair_mesh(black_box(&holed), &RepairOptions::default()))
    });
    g.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
