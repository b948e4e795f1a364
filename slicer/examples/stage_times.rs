//! Times each polygon stage of the layer pipeline on one thread (CPU time of this thread, so a
//! busy machine does not inflate it), summed over all layers:
//! `cargo run --release -p meltline-slicer --example stage_times -- MESH [LAYER_MM] [BEAM_MM]`.

use std::time::Duration;

use meltline_slicer::contour;
use meltline_slicer::polygon::{difference, intersection, offset, to_units};
use meltline_slicer::profile::ContourSettings;
use meltline_slicer::region::{Foundation, SkinWindows};
use meltline_slicer::slice::{MeshSlicer, SliceOptions};

/// CPU time of the calling thread (from `/proc/thread-self/schedstat`, nanoseconds).
fn cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns: u64 = s
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .expect("usage: stage_times MESH [LAYER_MM] [BEAM_MM]");
    let layer: f64 = args.get(2).map_or(0.03, |s| s.parse().expect("layer mm"));
    let beam_mm: f64 = args.get(3).map_or(0.05, |s| s.parse().expect("beam mm"));
    let mut mesh = meltline_core::io::read_mesh(std::path::Path::new(path), &Default::default())
        .expect("mesh");
    let z0 = mesh.bbox().min[2];
    mesh.translate(nalgebra::Vector3::new(0.0, 0.0, -z0));
    let slicer = MeshSlicer::new(&mesh, SliceOptions::new(layer)).expect("slicer");
    let t = cpu();
    let sections: Vec<_> = (0..slicer.layer_count())
        .map(|i| slicer.slice_layer(i))
        .collect();
    println!("slice: {:?}", cpu() - t);
    let n = sections.len();
    let verts: usize = sections
        .iter()
        .map(|s| s.shapes.iter().flatten().map(|c| c.len()).sum::<usize>())
        .sum();
    println!("layers {n}, vertices {verts}");
    let shapes: Vec<_> = sections.iter().map(|s| s.shapes.clone()).collect();
    let k = 3;
    let t = cpu();
    let mut w = SkinWindows::default();
    w.fill(0..n, k, Foundation::Plate, &|j| shapes.get(j));
    let t_fill = cpu() - t;
    let t = cpu();
    let regions: Vec<_> = (0..n).map(|i| w.regions(&shapes[i], i, n, k)).collect();
    let t_regions = cpu() - t;
    let beam = to_units(beam_mm);
    let t = cpu();
    let insets: Vec<_> = shapes.iter().map(|s| offset(s, -beam)).collect();
    let t_inset = cpu() - t;
    let t = cpu();
    let opened: Vec<_> = insets.iter().map(|s| offset(s, beam)).collect();
    let t_grow = cpu() - t;
    let t = cpu();
    for (s, o) in shapes.iter().zip(&opened) {
        let _ = difference(s, o);
    }
    let t_diff = cpu() - t;
    let t = cpu();
    for (r, h) in regions.iter().zip(&insets) {
        for a in [&r.core, &r.upskin, &r.downskin] {
            let _ = intersection(a, h);
        }
    }
    let t_clip = cpu() - t;
    let settings = ContourSettings {
        count: 1,
        beam_offset_mm: beam_mm,
        spacing_mm: 2.0 * beam_mm,
    };
    let t = cpu();
    let mut lost = (0, 0);
    for s in &shapes {
        let p = contour::plan(s, &settings, 0.0);
        lost.0 += p.edges.len();
        lost.1 += p.unexposed_parts;
    }
    let t_plan = cpu() - t;
    // Which lost parts are whole section shapes (their inset is empty)?
    let (mut whole, mut partial, mut partial_area, mut partial_max) =
        (0usize, 0usize, 0.0f64, 0.0f64);
    for (s, o) in shapes.iter().zip(&opened) {
        let lost = difference(s, o);
        for l in &lost {
            let a2: i128 = l
                .iter()
                .map(|c| meltline_slicer::polygon::contour_area2(c))
                .sum();
            let per: f64 = l
                .iter()
                .map(|c| meltline_slicer::polygon::contour_length_mm(c) * 1000.0)
                .sum();
            if (a2 as f64) < 2.0 * per {
                continue;
            }
            if s.iter().any(|sh| sh == l) {
                whole += 1;
            } else {
                partial += 1;
                partial_area += a2 as f64 * 0.5;
                partial_max = partial_max.max(a2 as f64 * 0.5);
            }
        }
    }
    println!(
        "lost parts: {whole} whole shapes, {partial} partial ({partial_area} units², max {partial_max})"
    );
    println!(
        "skin windows {t_fill:?}, regions {t_regions:?}, inset {t_inset:?}, grow back {t_grow:?}, \
         difference {t_diff:?}, hatch-area clips {t_clip:?}; contour::plan {t_plan:?} \
         ({} edges, {} unexposed)",
        lost.0, lost.1
    );
}
