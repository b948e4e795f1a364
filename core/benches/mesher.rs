//! Mesher benchmark, side by side in one run: a 10 mm cube of skeletal gyroid (cell 2.5 mm,
//! 30 % solid) meshed at 0.05 mm edge length by meltline's `mesh_field` and by
//! manifold-rust's `level_set` on the same field.
//!
//! `cargo bench -p meltline-core --bench mesher` (add `-- --quick` for one run of each, or
//! `-- --edge 0.1` for another edge length). Prints time (median of runs), triangles,
//! whether the output is a closed oriented 2-manifold (checked here, identically for both),
//! and the enclosed volume fraction.

use std::time::{Duration, Instant};

use meltline_core::implicit::ScalarField;
use meltline_core::implicit::mesher::{MesherOptions, mesh_field};
use meltline_core::implicit::tpms::{LatticeStyle, TpmsKind, TpmsLattice};
use meltline_core::mesh::{Aabb, Mesh};
use nalgebra::Point3;

/// One mesher's figures.
struct Outcome {
    name: &'static str,
    times: Vec<Duration>,
    mesh: Mesh,
}

fn median(times: &[Duration]) -> Duration {
    let mut t = times.to_vec();
    t.sort();
    t[t.len() / 2]
}

/// True when every directed edge occurs once and its reverse once (closed, oriented,
/// edge-manifold) and every vertex fan is a single cycle (vertex-manifold).
fn is_closed_manifold(m: &Mesh) -> bool {
    let mut directed = Vec::with_capacity(3 * m.triangles.len());
    let mut fans = Vec::with_capacity(3 * m.triangles.len());
    for t in &m.triangles {
        if t[0] == t[1] || t[1] == t[2] || t[0] == t[2] {
            return false;
        }
        for e in 0..3 {
            directed.push((t[e], t[(e + 1) % 3]));
            fans.push((t[e], t[(e + 1) % 3], t[(e + 2) % 3]));
        }
    }
    directed.sort_unstable();
    if directed.windows(2).any(|w| w[0] == w[1]) {
        return false;
    }
    if directed
        .iter()
        .any(|&(a, b)| directed.binary_search(&(b, a)).is_err())
    {
        return false;
    }
    fans.sort_unstable();
    fans.chunk_by(|x, y| x.0 == y.0).all(|fan| {
        let mut cur = fan[0].1;
        for step in 1..=fan.len() {
            match fan.iter().find(|f| f.1 == cur) {
                Some(f) => cur = f.2,
                None => return false,
            }
            if cur == fan[0].1 {
                return step == fan.len();
            }
        }
        false
    })
}

/// Peak resident memory of this process so far, MiB (Linux; 0 elsewhere).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let edge = args
        .iter()
        .position(|a| a == "--edge")
        .and_then(|i| args.get(i + 1)?.parse::<f64>().ok())
        .unwrap_or(0.05);
    let runs = if quick { 1 } else { 3 };

    let gyroid = TpmsLattice::with_porosity(TpmsKind::Gyroid, LatticeStyle::Skeletal, 2.5, 0.7)
        .expect("valid lattice");
    let bounds = Aabb {
        min: [0.0; 3],
        max: [10.0; 3],
    };
    println!(
        "mesher benchmark: 10 mm cube of skeletal gyroid, cell 2.5 mm, 30 % solid (t = {:.4}), \
         edge {edge} mm, {} rayon threads",
        gyroid.level,
        rayon::current_num_threads()
    );

    let mut outcomes = Vec::new();

    let opts = MesherOptions::default();
    let mut times = Vec::new();
    let mut mesh = Mesh::default();
    for _ in 0..runs {
        let t0 = Instant::now();
        mesh = mesh_field(&gyroid, bounds, edge, &opts).expect("meshing succeeds");
        times.push(t0.elapsed());
    }
    let meltline_peak = peak_rss_mib();
    outcomes.push(Outcome {
        name: "meltline mesh_field",
        times,
        mesh,
    });

    {
        use manifold_rust::linalg::Vec3;
        use manifold_rust::manifold::Manifold;
        use manifold_rust::types::Box as MBox;
        let mbounds = MBox::from_points(Vec3::new(0.0, 0.0, 0.0), Vec3::new(10.0, 10.0, 10.0));
        // manifold's convention is positive inside: pass the negated field.
        let sdf = |p: Vec3| -gyroid.eval(&Point3::new(p.x, p.y, p.z));
        let mut times = Vec::new();
        let mut mesh = Mesh::default();
        for _ in 0..runs {
            let t0 = Instant::now();
            let m = Manifold::level_set(sdf, mbounds, edge);
            times.push(t0.elapsed());
            let gl = m.get_mesh_gl64(-1);
            let np = gl.num_prop as usize;
            mesh = Mesh {
                vertices: gl
                    .vert_properties
                    .chunks(np)
                    .map(|v| Point3::new(v[0], v[1], v[2]))
                    .collect(),
                triangles: gl
                    .tri_verts
                    .chunks(3)
                    .map(|t| [t[0] as u32, t[1] as u32, t[2] as u32])
                    .collect(),
            };
        }
        outcomes.push(Outcome {
            name: "manifold-rust level_set",
            times,
            mesh,
        });
    }

    println!(
        "{:<26} {:>10} {:>11} {:>10} {:>9} {:>9}",
        "mesher", "time (s)", "triangles", "vertices", "manifold", "solid %"
    );
    for o in &outcomes {
        println!(
            "{:<26} {:>10.3} {:>11} {:>10} {:>9} {:>9.2}",
            o.name,
            median(&o.times).as_secs_f64(),
            o.mesh.triangles.len(),
            o.mesh.vertices.len(),
            if is_closed_manifold(&o.mesh) {
                "yes"
            } else {
                "NO"
            },
            100.0 * o.mesh.signed_volume() / 1000.0
        );
    }
    let ratio = median(&outcomes[1].times).as_secs_f64() / median(&outcomes[0].times).as_secs_f64();
    println!("speed-up of meltline over manifold-rust: {ratio:.1}×");
    println!("peak RSS after the meltline runs: {meltline_peak:.0} MiB");
}
