//! Build jobs: hatch geometry, containment, closure, determinism, streaming and exports.

mod common;

use common::{cylinder, tube};
use meltline_core::mesh::Mesh;
use meltline_firmware::machine::{EnergyPolicy, MachineConfig};
use meltline_slicer::export::cli::{CliFormat, CliWriter};
use meltline_slicer::export::svg::layer_svg;
use meltline_slicer::job::{
    BuildJob, Geometry, JobError, Region, Slicer, SlicerOptions, VectorKind,
};
use meltline_slicer::polygon::{Point, Shapes, contains, offset};
use meltline_slicer::profile::{ProcessProfile, Strategy};

fn profile(strategy: Strategy) -> ProcessProfile {
    let mut p = ProcessProfile::ti6al4v();
    p.layer_thickness_mm = 0.09;
    p.hatch.strategy = strategy;
    p.hatch.stripe_width_mm = 2.0;
    p.hatch.island_size_mm = 2.0;
    // Coarser hatches keep the tests small; energy-density warnings don't matter here.
    p.core.hatch_mm = 0.25;
    p
}

/// Options whose machine only warns about energy density: these tests are about geometry,
/// and their coarse hatches are outside the material window.
fn geometry_options() -> SlicerOptions {
    SlicerOptions {
        machine: MachineConfig {
            energy_policy: EnergyPolicy::Warn,
            ..MachineConfig::default()
        },
        ..SlicerOptions::default()
    }
}

fn job(mesh: &Mesh, p: ProcessProfile) -> BuildJob {
    Slicer::new(mesh, p, geometry_options())
        .unwrap()
        .build_job()
        .unwrap()
}

#[test]
fn hatch_spacing_and_angles_are_exact() {
    let m = Mesh::axis_aligned_box([0.0, 0.0, 0.0], [8.0, 6.0, 0.9]);
    let p = profile(Strategy::Lines);
    let j = job(&m, p.clone());
    for layer in &j.layers {
        let theta =
            (p.hatch.start_angle_deg + layer.index as f64 * p.hatch.rotation_deg).to_radians();
        let (d, n) = ((theta.cos(), theta.sin()), (-theta.sin(), theta.cos()));
        for b in layer.blocks.iter().filter(|b| b.kind == VectorKind::Hatch) {
            let Geometry::Vectors(v) = &b.geometry else {
                panic!("hatches are vectors")
            };
            let h = match b.region {
                Region::Core => p.core.hatch_mm,
                Region::Upskin => p.upskin.hatch_mm,
                Region::Downskin => p.downskin.hatch_mm,
                other => panic!("hatch in region {other:?}"),
            };
            for s in v {
                let (dx, dy) = ((s[1][0] - s[0][0]) as f64, (s[1][1] - s[0][1]) as f64);
                let len = (dx * dx + dy * dy).sqrt();
                // Angle: the cross product with d is at most the 1-unit rounding of the ends.
                let cross = (dx * d.1 - dy * d.0).abs();
                assert!(
                    cross <= 1.5,
                    "layer {} hatch {s:?} off the angle by {cross} units",
                    layer.index
                );
                assert!(len >= p.hatch.min_length_mm * 1000.0 - 1.0);
                // Spacing: every hatch lies on the grid v = k·h, up to the rounding of the
                // line's ends and of the clip points to whole units (≤ 2 × 0.71 units).
                let v_mid =
                    0.5 * ((s[0][0] + s[1][0]) as f64 * n.0 + (s[0][1] + s[1][1]) as f64 * n.1);
                let k = v_mid / (h * 1000.0);
                assert!(
                    (k - k.round()).abs() * h * 1000.0 <= 1.5,
                    "hatch off the grid: k = {k}"
                );
            }
        }
    }
}

fn inside(shapes: &Shapes, q: [i32; 2]) -> bool {
    contains(shapes, Point::new(q[0], q[1]))
}

fn assert_vectors_inside(j: &BuildJob) {
    for layer in &j.layers {
        // Rounding of clipped ends may put a point half a unit outside: allow 2 units.
        let grow = |s: &Shapes| offset(s, 2);
        let section = grow(&layer.section);
        let regions = [
            (Region::Core, grow(&layer.regions.core)),
            (Region::Upskin, grow(&layer.regions.upskin)),
            (Region::Downskin, grow(&layer.regions.downskin)),
        ];
        for b in &layer.blocks {
            let area = match b.kind {
                VectorKind::Hatch => &regions.iter().find(|r| r.0 == b.region).unwrap().1,
                _ => &section,
            };
            match &b.geometry {
                Geometry::Vectors(v) => {
                    for s in v {
                        let mid = [(s[0][0] + s[1][0]) / 2, (s[0][1] + s[1][1]) / 2];
                        for q in [s[0], s[1], mid] {
                            assert!(
                                inside(area, q),
                                "layer {} {:?} point {q:?} outside",
                                layer.index,
                                b.kind
                            );
                        }
                    }
                }
                Geometry::Polyline(pts) => {
                    assert!(
                        b.kind != VectorKind::Contour || pts.first() == pts.last(),
                        "contour not closed"
                    );
                    for q in pts {
                        assert!(
                            inside(area, *q),
                            "layer {} contour point {q:?} outside",
                            layer.index
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn no_hatch_or_contour_vector_leaves_its_region_for_any_strategy() {
    let m = tube(5.0, 2.0, 0.45, 96);
    for strategy in [Strategy::Lines, Strategy::Stripes, Strategy::Chessboard] {
        let mut p = profile(strategy);
        p.contours.count = 2;
        let j = job(&m, p);
        assert_eq!(j.layers.len(), 5);
        assert!(
            j.layers
                .iter()
                .all(|l| l.blocks.iter().any(|b| b.kind == VectorKind::Hatch))
        );
        assert_vectors_inside(&j);
    }
}

#[test]
fn contours_are_closed_and_inset_by_the_beam_offset() {
    let m = Mesh::axis_aligned_box([0.0, 0.0, 0.0], [4.0, 4.0, 0.27]);
    let j = job(&m, profile(Strategy::Lines));
    for layer in &j.layers {
        let contours: Vec<_> = layer
            .blocks
            .iter()
            .filter(|b| b.kind == VectorKind::Contour)
            .collect();
        assert_eq!(contours.len(), 1);
        let Geometry::Polyline(pts) = &contours[0].geometry else {
            panic!()
        };
        assert_eq!(pts.first(), pts.last());
        // 0.06 mm beam offset on a 4 mm square: the contour runs on 60 … 3940 µm.
        for q in pts {
            assert!(
                q[0] == 60 || q[0] == 3940 || q[1] == 60 || q[1] == 3940,
                "{q:?}"
            );
        }
    }
}

#[test]
fn thin_wall_is_exposed_as_an_edge_not_dropped() {
    // A 0.1 mm fin on a block: narrower than twice the 0.06 mm beam offset.
    let mut m = Mesh::axis_aligned_box([0.0, 0.0, 0.0], [3.0, 3.0, 0.27]);
    m.append(&Mesh::axis_aligned_box([3.0, 1.45, 0.0], [6.0, 1.55, 0.27]));
    let j = job(&m, profile(Strategy::Lines));
    for layer in &j.layers {
        let edges: Vec<_> = layer
            .blocks
            .iter()
            .filter(|b| b.kind == VectorKind::Edge)
            .collect();
        assert_eq!(edges.len(), 1, "layer {}", layer.index);
        assert!(
            edges[0].mark_length_mm() > 2.5,
            "{}",
            edges[0].mark_length_mm()
        );
    }
}

#[test]
fn jobs_are_identical_across_thread_counts_runs_and_streaming() {
    let m = tube(4.0, 1.5, 0.36, 64);
    for strategy in [Strategy::Lines, Strategy::Chessboard] {
        let p = profile(strategy);
        let slicer = Slicer::new(
            &m,
            p,
            SlicerOptions {
                batch_layers: 3,
                ..geometry_options()
            },
        )
        .unwrap();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let a = one.install(|| slicer.build_job().unwrap());
        let b = two.install(|| slicer.build_job().unwrap());
        assert_eq!(a, b);
        assert_eq!(a, slicer.build_job().unwrap());
        let streamed: Vec<_> = slicer.layers().collect();
        assert_eq!(streamed, a.layers);
        assert_eq!(slicer.layer(2), a.layers[2]);
    }
}

#[test]
fn overhang_layers_get_downskin_and_the_top_gets_upskin() {
    // A 2 mm column carrying a 4 mm plate: the plate's underside overhangs.
    let mut m = Mesh::axis_aligned_box([1.0, 1.0, 0.0], [3.0, 3.0, 0.45]);
    m.append(&Mesh::axis_aligned_box([0.0, 0.0, 0.45], [4.0, 4.0, 0.9]));
    let j = job(&m, profile(Strategy::Lines));
    let a = |s: &Shapes| meltline_slicer::polygon::area_mm2(s);
    assert!((a(&j.layers[5].regions.downskin) - 12.0).abs() < 1e-9);
    assert!((a(&j.layers[9].regions.upskin) - 16.0).abs() < 1e-9);
    assert!(j.layers[2].regions.downskin.is_empty() && j.layers[2].regions.upskin.is_empty());
    assert!(
        j.layers[5]
            .blocks
            .iter()
            .any(|b| b.region == Region::Downskin)
    );
}

#[test]
fn lifted_part_stands_on_support_vectors_below_it() {
    let m = Mesh::axis_aligned_box([0.0, 0.0, 5.0], [4.0, 4.0, 5.45]);
    let p = profile(Strategy::Lines);
    let options = SlicerOptions {
        supports: true,
        lift_mm: 0.9,
        ..geometry_options()
    };
    let slicer = Slicer::new(&m, p, options).unwrap();
    assert!(slicer.support_report().unwrap().failed.is_empty());
    let j = slicer.build_job().unwrap();
    assert_eq!(j.header.placement_mm[2], 0.9 - 5.0);
    assert_eq!(j.layers.len(), 15, "10 support layers and 5 part layers");
    for l in &j.layers[..10] {
        assert!(l.section.is_empty());
        assert!(
            l.blocks.iter().all(|b| b.kind == VectorKind::Support
                && b.region == Region::Support
                && b.parameter_set == meltline_slicer::profile::set_id::SUPPORT),
            "layer {}",
            l.index
        );
        assert!(!l.blocks.is_empty(), "layer {} has no supports", l.index);
    }
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let again = one.install(|| {
        let options = SlicerOptions {
            supports: true,
            lift_mm: 0.9,
            ..geometry_options()
        };
        let s = Slicer::new(&m, profile(Strategy::Lines), options).unwrap();
        s.build_job().unwrap()
    });
    assert_eq!(again, j, "supports identical on one thread");
    // Over powder, the part's first layer is downskin.
    let first = &j.layers[10];
    assert!((meltline_slicer::polygon::area_mm2(&first.regions.downskin) - 16.0).abs() < 1e-9);
}

#[test]
fn lift_without_supports_is_a_clear_error() {
    let m = cylinder(2.0, 1.0, 32);
    let p = profile(Strategy::Lines);
    let e = Slicer::new(
        &m,
        p,
        SlicerOptions {
            lift_mm: 3.0,
            ..geometry_options()
        },
    )
    .unwrap_err();
    assert!(matches!(e, JobError::LiftWithoutSupports(_)));
    assert!(e.to_string().contains("needs supports"), "{e}");
}

#[test]
fn cli_ascii_and_binary_carry_every_vector() {
    let m = cylinder(2.0, 0.27, 48);
    let j = job(&m, profile(Strategy::Stripes));
    let hatches: usize = j
        .layers
        .iter()
        .flat_map(|l| &l.blocks)
        .filter(|b| !matches!(b.geometry, Geometry::Polyline(_)))
        .map(|b| b.vector_count())
        .sum();
    let mut ascii = Vec::new();
    let mut w = CliWriter::new(&mut ascii, &j.header, CliFormat::Ascii).unwrap();
    for l in &j.layers {
        w.write_layer(l).unwrap();
    }
    w.finish().unwrap();
    let text = String::from_utf8(ascii).unwrap();
    assert_eq!(text.matches("$$LAYER/").count(), 3);
    let counted: usize = text
        .lines()
        .filter_map(|l| l.strip_prefix("$$HATCHES/"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let n: usize = f[1].parse().unwrap();
            assert_eq!(f.len(), 2 + 4 * n);
            n
        })
        .sum();
    assert_eq!(counted, hatches);
    for label in [
        "$$LABEL/1,core",
        "$$LABEL/4,contour",
        "$$UNITS/0.001000",
        "$$GEOMETRYEND",
    ] {
        assert!(text.contains(label), "{label}");
    }

    let mut bin = Vec::new();
    let mut w = CliWriter::new(&mut bin, &j.header, CliFormat::Binary).unwrap();
    for l in &j.layers {
        w.write_layer(l).unwrap();
    }
    w.finish().unwrap();
    let start = bin.windows(11).position(|w| w == b"$$HEADEREND").unwrap() + 11;
    // Walk the binary records and count hatches.
    let (mut i, mut n_hatch, mut n_layers) = (start, 0usize, 0);
    let int = |b: &[u8], i: usize| i32::from_le_bytes(b[i..i + 4].try_into().unwrap()) as usize;
    while i < bin.len() {
        let cmd = u16::from_le_bytes([bin[i], bin[i + 1]]);
        i += 2;
        match cmd {
            127 => {
                n_layers += 1;
                i += 4;
            }
            130 => i += 12 + 8 * int(&bin, i + 8),
            132 => {
                let n = int(&bin, i + 4);
                n_hatch += n;
                i += 8 + 16 * n;
            }
            other => panic!("unexpected command {other}"),
        }
    }
    assert_eq!((n_layers, n_hatch), (3, hatches));
}

#[test]
fn svg_shows_regions_vectors_and_jumps() {
    let m = cylinder(2.0, 0.9, 48);
    let j = job(&m, profile(Strategy::Lines));
    let svg = layer_svg(&j.layers[4]);
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("stroke-dasharray"), "jumps dotted");
    assert!(svg.contains("#d0d0d0"), "core filled");
    assert!(svg.contains("<polyline"), "contour drawn");
}
