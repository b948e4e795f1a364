//! Wire size and controller throughput on synthetic, realistic layers.
//!
//! * bytes per hatch and per contour vertex for (a) a solid TLIF-like cage footprint
//!   (28 × 11 mm with a graft window) and (b) a lattice layer (a field of 0.45 mm strut
//!   sections on a 1.5 mm cell), hatched at 0.1 mm, rotated 67° per layer, 1 µm quantum;
//! * decode + verify + execute throughput of the controller on one core.
//!
//! Run: `cargo bench -p meltline-firmware --bench wire`. Size figures print as `FIGURE` lines.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use meltline_firmware::controller::Controller;
use meltline_firmware::job::{BlockSpec, Geometry, JobSpec, JobSummary, encode_job};
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::wire::{ParamSet, Region, VectorKind};

type Poly = Vec<[f64; 2]>;

fn rounded_rect(cx: f64, cy: f64, w: f64, h: f64, r: f64, ccw: bool) -> Poly {
    let mut p = vec![];
    let corners = [
        (w / 2.0 - r, h / 2.0 - r, 0.0),
        (-w / 2.0 + r, h / 2.0 - r, 90.0),
        (-w / 2.0 + r, -h / 2.0 + r, 180.0),
        (w / 2.0 - r, -h / 2.0 + r, 270.0),
    ];
    for (x, y, a0) in corners {
        for k in 0..=8 {
            let a = (a0 + k as f64 * 90.0 / 8.0f64).to_radians();
            p.push([cx + x + r * a.cos(), cy + y + r * a.sin()]);
        }
    }
    if !ccw {
        p.reverse();
    }
    p
}

fn circle(cx: f64, cy: f64, r: f64, n: usize) -> Poly {
    (0..n)
        .map(|i| {
            let a = i as f64 * std::f64::consts::TAU / n as f64;
            [cx + r * a.cos(), cy + r * a.sin()]
        })
        .collect()
}

/// Even-odd scanline hatching at `angle`, meander order, endpoints rounded to 1 µm.
fn hatch(polys: &[Poly], angle: f64, spacing: f64, inset: f64) -> Vec<[i64; 4]> {
    let (s, c) = angle.sin_cos();
    let rot = |p: &[f64; 2]| [p[0] * c + p[1] * s, -p[0] * s + p[1] * c];
    let back = |x: f64, y: f64| [x * c - y * s, x * s + y * c];
    let rp: Vec<Poly> = polys.iter().map(|p| p.iter().map(rot).collect()).collect();
    let (ymin, ymax) = rp
        .iter()
        .flatten()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p[1]), b.max(p[1])));
    let mut out = vec![];
    let mut lines = std::collections::BTreeMap::new();
    // One hatch grid for the whole layer (lines aligned across islands), as build processors do.
    let mut y = ((ymin - spacing / 2.0) / spacing).ceil() * spacing + spacing / 2.0;
    while y < ymax {
        let mut xs = vec![];
        for p in &rp {
            for i in 0..p.len() {
                let (a, b) = (p[i], p[(i + 1) % p.len()]);
                if (a[1] <= y) != (b[1] <= y) {
                    xs.push(a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
                }
            }
        }
        xs.sort_by(f64::total_cmp);
        for (k, p) in xs.chunks_exact(2).enumerate() {
            if p[1] - p[0] > 2.0 * inset {
                lines
                    .entry(k)
                    .or_insert_with(Vec::new)
                    .push((p[0] + inset, p[1] - inset, y));
            }
        }
        y += spacing;
    }
    // Region order as a build processor scans it: each band of intervals (left of a hole,
    // right of it, …) is hatched on its own, meandering.
    for (_, band) in lines {
        for (i, (x0, x1, y)) in band.into_iter().enumerate() {
            let (a, b) = (back(x0, y), back(x1, y));
            let (a, b) = if i % 2 == 1 { (b, a) } else { (a, b) };
            out.push([
                a[0].round() as i64,
                a[1].round() as i64,
                b[0].round() as i64,
                b[1].round() as i64,
            ]);
        }
    }
    out
}

fn layer(polys: &[Poly], angle: f64, islands: bool) -> Vec<BlockSpec> {
    let lines = polys
        .iter()
        .map(|p| {
            p.iter()
                .map(|q| [q[0].round() as i64, q[1].round() as i64])
                .collect()
        })
        .collect();
    let hatches = if islands {
        polys
            .iter()
            .flat_map(|p| hatch(std::slice::from_ref(p), angle, 100.0, 40.0))
            .collect()
    } else {
        hatch(polys, angle, 100.0, 40.0)
    };
    vec![
        BlockSpec {
            param_set: 2,
            kind: VectorKind::Contour,
            region: Region::Core,
            geometry: Geometry::Polylines {
                lines,
                closed: true,
            },
        },
        BlockSpec {
            param_set: 1,
            kind: VectorKind::Hatch,
            region: Region::Core,
            geometry: Geometry::Hatches(hatches),
        },
    ]
}

fn cage_polys() -> Vec<Poly> {
    vec![
        rounded_rect(0.0, 0.0, 28_000.0, 11_000.0, 2_000.0, true),
        rounded_rect(0.0, 0.0, 14_000.0, 5_000.0, 1_000.0, false),
    ]
}

fn lattice_polys() -> Vec<Poly> {
    let mut v = vec![];
    for i in 0..18 {
        for j in 0..7 {
            v.push(circle(
                -13_500.0 + 1500.0 * i as f64,
                -4_500.0 + 1500.0 * j as f64,
                225.0,
                24,
            ));
        }
    }
    v
}

fn job(polys: &[Poly], layers: u32, islands: bool) -> (Vec<u8>, JobSummary) {
    let spec = JobSpec {
        machine: "meltline-sim-250".into(),
        material: "Ti-6Al-4V".into(),
        quantum_nm: 1000,
        layer_thickness_nm: 30_000,
        layer_count: layers,
        param_sets: vec![
            ParamSet {
                id: 1,
                power_mw: 200_000,
                mark_speed_mm_s: 1000,
                spot_um: 80,
                hatch_distance_um: 100,
                skywriting: true,
            },
            ParamSet {
                id: 2,
                power_mw: 120_000,
                mark_speed_mm_s: 600,
                spot_um: 80,
                hatch_distance_um: 100,
                skywriting: false,
            },
        ],
    };
    let ls: Vec<_> = (0..layers)
        .map(|i| layer(polys, (67.0 * i as f64).to_radians(), islands))
        .collect();
    encode_job(&spec, &ls).unwrap()
}

fn figures(name: &str, s: &JobSummary) {
    println!(
        "FIGURE {name}: {} layers, {} hatches, {:.2} B/hatch (payload), {} contour vertices, {:.2} B/vertex (payload), \
         {:.2} B/vector all-in (frames, headers, CRC, COBS), {} bytes total",
        s.layers,
        s.hatches,
        s.hatch_bytes as f64 / s.hatches as f64,
        s.vertices,
        s.polyline_bytes as f64 / s.vertices as f64,
        s.bytes as f64 / s.vectors as f64,
        s.bytes
    );
}

fn execute(bytes: &[u8]) -> u64 {
    let mut ctl: Box<Controller> = Box::new(Controller::new(MachineConfig::default()));
    ctl.set_auto_start(true);
    ctl.receive(bytes, &mut (), &mut ());
    assert_eq!(ctl.state(), meltline_firmware::wire::ControllerState::Done);
    ctl.report().vectors
}

/// CPU seconds used by this thread so far (utime + stime from /proc, 10 ms resolution): a
/// throughput figure that stays meaningful when other processes share the cores.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (u, s): (f64, f64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    Some((u + s) / 100.0)
}

fn cpu_throughput(name: &str, bytes: &[u8]) {
    let Some(t0) = thread_cpu_seconds() else {
        return;
    };
    let wall = std::time::Instant::now();
    let mut vectors = 0u64;
    while thread_cpu_seconds().unwrap_or(f64::MAX) - t0 < 3.0 {
        vectors += execute(black_box(bytes));
    }
    let cpu = thread_cpu_seconds().unwrap_or(0.0) - t0;
    println!(
        "FIGURE {name}: decode+verify+execute {:.2} M vectors per CPU-second ({vectors} vectors, {cpu:.2} s CPU, {:.2} s wall)",
        vectors as f64 / cpu / 1e6,
        wall.elapsed().as_secs_f64()
    );
}

fn benches(c: &mut Criterion) {
    let (cage, cs) = job(&cage_polys(), 12, false);
    let (lattice, ls) = job(&lattice_polys(), 12, true);
    figures("cage-solid", &cs);
    figures("lattice", &ls);
    cpu_throughput("cage-solid", &cage);
    cpu_throughput("lattice", &lattice);
    let mut g = c.benchmark_group("controller");
    g.throughput(Throughput::Elements(cs.vectors));
    g.bench_function("decode_verify_execute/cage-solid", |b| {
        b.iter(|| execute(black_box(&cage)))
    });
    g.throughput(Throughput::Elements(ls.vectors));
    g.bench_function("decode_verify_execute/lattice", |b| {
        b.iter(|| execute(black_box(&lattice)))
    });
    g.finish();
    let ls_layers: Vec<_> = (0..12)
        .map(|i| layer(&cage_polys(), (67.0 * i as f64).to_radians(), false))
        .collect();
    let spec = JobSpec {
        machine: "meltline-sim-250".into(),
        material: "Ti-6Al-4V".into(),
        quantum_nm: 1000,
        layer_thickness_nm: 30_000,
        layer_count: 12,
        param_sets: vec![
            ParamSet {
                id: 1,
                power_mw: 200_000,
                mark_speed_mm_s: 1000,
                spot_um: 80,
                hatch_distance_um: 100,
                skywriting: true,
            },
            ParamSet {
                id: 2,
                power_mw: 120_000,
                mark_speed_mm_s: 600,
                spot_um: 80,
                hatch_distance_um: 100,
                skywriting: false,
            },
        ],
    };
    let mut g = c.benchmark_group("job_writer");
    g.throughput(Throughput::Elements(cs.vectors));
    g.bench_function("encode/cage-solid", |b| {
        b.iter(|| encode_job(black_box(&spec), black_box(&ls_layers)).unwrap())
    });
    g.finish();
}

criterion_group!(wire, benches);
criterion_main!(wire);
