//! Wire figures of real jobs: bytes per hatch and per contour vertex by block kind, framing
//! overhead, the largest layer in the controller's arena, and decode + verify + execute
//! throughput of the controller on one core.
//!
//! ```text
//! cargo run --release -p meltline-host --example wire_figures -- INPUT… [--seconds S] [--mlj DIR] [--exposure]
//! ```
//!
//! `INPUT` is `cage` (the default TLIF lattice cage of `meltline_core::cage` at its design
//! resolution) or a mesh file (STL, OBJ, PLY, 3MF). Each input is sliced with supports, centred
//! on the plate, with the Ti-6Al-4V profile, and coded exactly as `meltline slice` writes its
//! `.mlj` ([`meltline_host::mlj`]). `--mlj DIR` keeps the job files; `--exposure` also runs the
//! simulator with exposure maps (20 µm pixels) and prints coverage and spill.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use meltline_core::cage::{CageSpec, DesignOptions, design_cage};
use meltline_core::io::{ReadOptions, read_mesh};
use meltline_core::mesh::Mesh;
use meltline_firmware::controller::{BLOCK_HEADER, Controller, Event, EventSink};
use meltline_firmware::job::{FrameReader, Geometry, JobSummary, JobWriter};
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::sim::exposure::LayerGeometry;
use meltline_firmware::sim::{SimOptions, Simulator};
use meltline_firmware::wire::{Coding, ControllerState, Msg, Segment, VectorKind};
use meltline_host::mlj::{MljOptions, job_spec, layer_blocks};
use meltline_slicer::job::{Slicer, SlicerOptions};
use meltline_slicer::profile::ProcessProfile;

const KINDS: [(VectorKind, &str); 5] = [
    (VectorKind::Contour, "contour"),
    (VectorKind::Hatch, "hatch"),
    (VectorKind::Edge, "edge"),
    (VectorKind::Support, "support"),
    (VectorKind::Point, "point"),
];

/// Per block kind: what went in and what it cost on the wire.
#[derive(Default, Clone, Copy)]
struct KindFigures {
    blocks: u64,
    /// Segments (marks).
    vectors: u64,
    /// Hatch lines given to the hatch coder.
    lines: u64,
    /// Polyline vertices given to the polyline coder.
    vertices: u64,
    /// `VectorBlock::data` bytes of hatch-coded blocks.
    hatch_payload: u64,
    /// `VectorBlock::data` bytes of polyline-coded blocks.
    polyline_payload: u64,
    /// Whole frames (COBS, CRC, header fields, delimiter) carrying blocks of this kind.
    frame_bytes: u64,
}

fn kind_index(k: VectorKind) -> usize {
    KINDS.iter().position(|(x, _)| *x == k).unwrap_or(0)
}

fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (u, s): (f64, f64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    // USER_HZ is 100 on Linux.
    Some((u + s) / 100.0)
}

fn load_input(input: &str) -> anyhow::Result<(String, Mesh)> {
    if let Some(edge) = input.strip_prefix("cage") {
        let spec = CageSpec::default_tlif();
        let t = Instant::now();
        let edge = match edge.strip_prefix(':') {
            Some(e) => Some(e.parse::<f64>().context("cage:EDGE_MM")?),
            None => None,
        };
        let design = design_cage(
            &spec,
            None,
            &DesignOptions {
                edge_length_override: edge,
                ..DesignOptions::default()
            },
        )?;
        eprintln!(
            "designed the default TLIF cage at edge {} mm: {} triangles in {:.1} s",
            edge.unwrap_or(spec.edge_length_mm),
            design.mesh.triangles.len(),
            t.elapsed().as_secs_f64()
        );
        let name = match edge {
            Some(e) => format!("default TLIF cage at {e} mm"),
            None => "default TLIF cage".into(),
        };
        return Ok((name, design.mesh));
    }
    let path = PathBuf::from(input);
    let mesh = read_mesh(&path, &ReadOptions::default())
        .with_context(|| format!("reading {}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| input.to_string());
    Ok((name, mesh))
}

fn main() -> anyhow::Result<()> {
    let mut inputs = Vec::new();
    let mut seconds = 5.0;
    let mut mlj_dir: Option<PathBuf> = None;
    let mut exposure = false;
    // `--exposure` also splits the former coverage and spill figures into their causes.
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => seconds = args.next().context("--seconds S")?.parse()?,
            "--mlj" => mlj_dir = Some(args.next().context("--mlj DIR")?.into()),
            "--exposure" => exposure = true,
            _ if a.starts_with("--") => bail!("unknown option {a}"),
            _ => inputs.push(a),
        }
    }
    if inputs.is_empty() {
        bail!("usage: wire_figures (cage | MESH)… [--seconds S] [--mlj DIR] [--exposure]");
    }
    for input in &inputs {
        if input.ends_with(".mlj") {
            let bytes = std::fs::read(input).with_context(|| format!("reading {input}"))?;
            println!("\n## {input}: {} bytes", bytes.len());
            throughput(&bytes, &MachineConfig::default(), seconds)?;
            continue;
        }
        let (name, mesh) = load_input(input)?;
        figures(&name, &mesh, seconds, mlj_dir.as_ref(), exposure)?;
    }
    Ok(())
}

fn figures(
    name: &str,
    mesh: &Mesh,
    seconds: f64,
    mlj_dir: Option<&PathBuf>,
    exposure: bool,
) -> anyhow::Result<()> {
    let machine = MachineConfig::default();
    let (bytes, summary, mut kinds) = slice_and_code(name, mesh, &machine, mlj_dir)?;
    let walk = walk_frames(&bytes, &mut kinds)?;
    print_costs(name, mesh, &summary, &kinds, &walk);
    throughput(&bytes, &machine, seconds)?;

    if exposure {
        attribution(&bytes, &machine)?;
        let t = Instant::now();
        let mut sim = Simulator::new(SimOptions {
            machine: machine.clone(),
            auto_start: true,
            exposure: true,
            pixel_um: 20.0,
            ..SimOptions::default()
        });
        sim.feed(&bytes, &mut ());
        let report = sim.report(true);
        print_exposure(&report);
        eprintln!("exposure maps in {:.1} s", t.elapsed().as_secs_f64());
    }
    Ok(())
}

/// Slices the mesh with supports and codes it as a job; counts hatch lines and vertices per
/// kind; writes the job into `mlj_dir` when given.
fn slice_and_code(
    name: &str,
    mesh: &Mesh,
    machine: &MachineConfig,
    mlj_dir: Option<&PathBuf>,
) -> anyhow::Result<(Vec<u8>, JobSummary, [KindFigures; KINDS.len()])> {
    let sopts = SlicerOptions {
        supports: true,
        center_xy: true,
        ..SlicerOptions::default()
    };
    let t = Instant::now();
    let slicer = Slicer::new(mesh, ProcessProfile::ti6al4v(), sopts)?;
    let spec = job_spec(
        slicer.header(),
        &MljOptions {
            machine: Some(machine.machine.to_string()),
            ..MljOptions::default()
        },
    )?;
    let mut kinds = [KindFigures::default(); KINDS.len()];
    let mut writer = JobWriter::new(Vec::new(), &spec)?;
    for layer in slicer.layers() {
        let blocks = layer_blocks(&layer);
        for b in &blocks {
            let k = &mut kinds[kind_index(b.kind)];
            match &b.geometry {
                Geometry::Hatches(h) => k.lines += h.len() as u64,
                Geometry::Polylines { lines, .. } => {
                    k.vertices += lines.iter().map(|l| l.len() as u64).sum::<u64>()
                }
                Geometry::Points(p) => k.vertices += p.len() as u64,
            }
        }
        writer.write_layer(&blocks)?;
    }
    let (bytes, summary) = writer.finish()?;
    eprintln!(
        "{name}: sliced and coded {} layers in {:.1} s",
        summary.layers,
        t.elapsed().as_secs_f64()
    );
    if let Some(dir) = mlj_dir {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}.mlj", name.replace([' ', '/'], "_")));
        meltline_core::io::write_atomically(&path, |f| std::io::Write::write_all(f, &bytes), |e| e)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }

    Ok((bytes, summary, kinds))
}

/// What the frames other than vector blocks cost, and the largest layer in the arena.
struct FrameWalk {
    other_frames: u64,
    other_bytes: u64,
    largest: u64,
    largest_layer: u32,
    largest_blocks: u32,
}

/// Walks the frame stream: what each block kind costs, what the rest costs, layer sizes.
fn walk_frames(bytes: &[u8], kinds: &mut [KindFigures; KINDS.len()]) -> anyhow::Result<FrameWalk> {
    let mut scratch = Vec::new();
    let (mut other_frames, mut other_bytes) = (0u64, 0u64);
    let (mut largest, mut largest_layer, mut largest_blocks) = (0u64, 0u32, 0u32);
    for f in FrameReader::new(bytes) {
        let f = f?;
        let wire = f.wire.len() as u64;
        match f.decode(&mut scratch)?.msg {
            Msg::VectorBlock(b) => {
                let k = &mut kinds[kind_index(b.kind)];
                k.blocks += 1;
                k.vectors += u64::from(b.vectors);
                k.frame_bytes += wire;
                match b.coding {
                    Coding::Hatches => k.hatch_payload += b.data.len() as u64,
                    _ => k.polyline_payload += b.data.len() as u64,
                }
            }
            Msg::LayerStart(l) => {
                let need = u64::from(l.payload_bytes) + u64::from(l.blocks) * BLOCK_HEADER as u64;
                if need > largest {
                    (largest, largest_layer, largest_blocks) = (need, l.layer, l.blocks);
                }
                other_frames += 1;
                other_bytes += wire;
            }
            _ => {
                other_frames += 1;
                other_bytes += wire;
            }
        }
    }

    Ok(FrameWalk {
        other_frames,
        other_bytes,
        largest,
        largest_layer,
        largest_blocks,
    })
}

/// The table of costs per kind, the framing and the peers' sizes for the same geometry.
fn print_costs(
    name: &str,
    mesh: &Mesh,
    summary: &JobSummary,
    kinds: &[KindFigures; KINDS.len()],
    walk: &FrameWalk,
) {
    let FrameWalk {
        other_frames,
        other_bytes,
        largest,
        largest_layer,
        largest_blocks,
    } = *walk;
    println!(
        "\n## {name}: {} triangles, {} layers, {} vectors, {} frames, {} bytes",
        mesh.triangles.len(),
        summary.layers,
        summary.vectors,
        summary.frames,
        summary.bytes
    );
    println!(
        "| kind | blocks | vectors | hatch lines | B/hatch (payload) | vertices | B/vertex (payload) | frame bytes | framing B/vector |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let ratio = |a: u64, b: u64| {
        if b == 0 {
            "—".to_string()
        } else {
            format!("{:.2}", a as f64 / b as f64)
        }
    };
    let mut payload = 0;
    for ((_, label), k) in KINDS.iter().zip(kinds) {
        if k.blocks == 0 {
            continue;
        }
        payload += k.hatch_payload + k.polyline_payload;
        println!(
            "| {label} | {} | {} | {} | {} | {} | {} | {} | {} |",
            k.blocks,
            k.vectors,
            k.lines,
            ratio(k.hatch_payload, k.lines),
            k.vertices,
            ratio(k.polyline_payload, k.vertices),
            k.frame_bytes,
            ratio(
                k.frame_bytes - k.hatch_payload - k.polyline_payload,
                k.vectors
            ),
        );
    }
    let lines: u64 = kinds.iter().map(|k| k.lines).sum();
    let vertices: u64 = kinds.iter().map(|k| k.vertices).sum();
    let hatch_payload: u64 = kinds.iter().map(|k| k.hatch_payload).sum();
    let poly_payload: u64 = kinds.iter().map(|k| k.polyline_payload).sum();
    println!(
        "all hatch-coded lines: {lines}, {} B/line payload; all polyline vertices: {vertices}, {} B/vertex payload",
        ratio(hatch_payload, lines),
        ratio(poly_payload, vertices)
    );
    println!(
        "framing: {} B of {} ({:.1} %): block frames {} B over payload, {other_frames} other frames {other_bytes} B; all-in {} B/vector",
        summary.bytes - payload,
        summary.bytes,
        100.0 * (summary.bytes - payload) as f64 / summary.bytes as f64,
        kinds.iter().map(|k| k.frame_bytes).sum::<u64>() - payload,
        ratio(summary.bytes, summary.vectors)
    );
    println!(
        "peers for the same geometry: OVF {} B (16 B/hatch, 8 B/vertex), CLI binary long {} B / short {} B (16 / 8 B per hatch, 8 / 4 B per vertex); meltline {} B",
        16 * lines + 8 * vertices,
        16 * lines + 8 * vertices,
        8 * lines + 4 * vertices,
        summary.bytes
    );
    println!(
        "largest layer in the arena: layer {largest_layer}, {largest} B ({largest_blocks} blocks × {BLOCK_HEADER} B + payload), arena {} B",
        meltline_firmware::controller::DEFAULT_ARENA
    );
}

fn print_exposure(report: &meltline_firmware::sim::report::SimReport) {
    let cov: Vec<f64> = report
        .layers
        .iter()
        .filter_map(|l| l.coverage_pct)
        .collect();
    let spill: Vec<f64> = report.layers.iter().filter_map(|l| l.spill_pct).collect();
    let stats = |v: &[f64]| {
        let n = v.len().max(1) as f64;
        let mean = v.iter().sum::<f64>() / n;
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (mean, min, max)
    };
    let (cm, cmin, cmax) = stats(&cov);
    let (sm, smin, smax) = stats(&spill);
    println!(
        "exposure (20 µm pixels), {} layers with a part section: coverage mean {cm:.1} % (min {cmin:.1}, max {cmax:.1}), spill mean {sm:.1} % (min {smin:.1}, max {smax:.1})",
        cov.len()
    );
}

/// The marks of every `STEP`-th layer, by kind, for the attribution below.
#[derive(Default)]
struct MarkCollector {
    layer: u32,
    /// Per sampled layer: (kind, segment, spot µm, hatch distance µm).
    layers: Vec<Vec<(VectorKind, Segment, f64, f64)>>,
}

const STEP: u32 = 10;

impl EventSink for MarkCollector {
    fn event(&mut self, e: &Event<'_>) {
        match e {
            Event::LayerBegin { layer } => {
                self.layer = *layer;
                if layer.is_multiple_of(STEP) {
                    self.layers.push(Vec::new());
                }
            }
            Event::Mark {
                kind,
                param,
                segment,
                ..
            } if self.layer.is_multiple_of(STEP) => {
                if let Some(l) = self.layers.last_mut() {
                    l.push((
                        *kind,
                        *segment,
                        f64::from(param.spot_um),
                        f64::from(param.hatch_distance_um),
                    ));
                }
            }
            _ => {}
        }
    }
}

/// Coverage and spill of every 10th layer under the former model and with each correction
/// added in turn, at 40 µm (the demo's) and 20 µm pixels.
fn attribution(bytes: &[u8], machine: &MachineConfig) -> anyhow::Result<()> {
    let mut ctl: Box<Controller> = Box::new(Controller::new(machine.clone()));
    ctl.set_auto_start(true);
    let mut marks = MarkCollector::default();
    ctl.receive(bytes, &mut (), &mut marks);
    // (label, join pieces, boundary tracks intended, supports apart, hatch track = hatch distance)
    let models = [
        (
            "former: each contour piece a polygon, path filled, all marks at the spot width",
            false,
            false,
            false,
            false,
        ),
        (
            "+ contour pieces split over frames joined",
            true,
            false,
            false,
            false,
        ),
        (
            "+ contour/edge tracks are intended (beam offset)",
            true,
            true,
            false,
            false,
        ),
        ("+ supports measured apart", true, true, true, false),
        (
            "+ hatch track = max(spot, hatch distance) (current)",
            true,
            true,
            true,
            true,
        ),
    ];
    println!(
        "\ncoverage and spill of every {STEP}th layer (1 µm quantum: widths and pixels in quanta)"
    );
    println!("| pixel | model | coverage mean % | worst % | spill mean % | worst % |");
    println!("|---|---|---:|---:|---:|---:|");
    for pixel_um in [40.0, 20.0] {
        for (label, join, boundary, apart, hatch_wide) in models {
            let (mut cov, mut spill, mut worst_cov, mut worst_spill, mut n) =
                (0.0, 0.0, f64::INFINITY, 0.0f64, 0);
            for layer in &marks.layers {
                let mut g = LayerGeometry::default();
                let mut contour: Vec<[f64; 2]> = Vec::new();
                for (kind, s, spot, hatch) in layer {
                    let w = if *kind == VectorKind::Hatch && hatch_wide {
                        spot.max(*hatch)
                    } else {
                        *spot
                    };
                    if *kind == VectorKind::Support && apart {
                        g.support.push((*s, w));
                        continue;
                    }
                    g.marks.push((*s, w));
                    if boundary && matches!(kind, VectorKind::Contour | VectorKind::Edge) {
                        g.boundary.push((*s, w));
                    }
                    if *kind == VectorKind::Contour {
                        let from = [f64::from(s.from.x), f64::from(s.from.y)];
                        if !s.chained && (!join || contour.last() != Some(&from)) {
                            if contour.len() >= 3 {
                                g.contours.push(std::mem::take(&mut contour));
                            }
                            contour.clear();
                            contour.push(from);
                        }
                        contour.push([f64::from(s.to.x), f64::from(s.to.y)]);
                    }
                }
                if contour.len() >= 3 {
                    g.contours.push(contour);
                }
                if let Some(m) = g.rasterise(pixel_um, 8 << 20)
                    && m.intended_cells > 0
                {
                    cov += m.coverage_pct;
                    spill += m.spill_pct;
                    worst_cov = worst_cov.min(m.coverage_pct);
                    worst_spill = worst_spill.max(m.spill_pct);
                    n += 1;
                }
            }
            let n = f64::from(n.max(1));
            println!(
                "| {pixel_um} µm | {label} | {:.1} | {worst_cov:.1} | {:.1} | {worst_spill:.1} |",
                cov / n,
                spill / n
            );
        }
    }
    Ok(())
}

/// Decode + verify + execute on this thread, repeated for `seconds` of CPU time.
fn throughput(bytes: &[u8], machine: &MachineConfig, seconds: f64) -> anyhow::Result<()> {
    let run = |bytes: &[u8]| -> anyhow::Result<u64> {
        let mut ctl: Box<Controller> = Box::new(Controller::new(machine.clone()));
        ctl.set_auto_start(true);
        ctl.receive(bytes, &mut (), &mut ());
        if ctl.state() != ControllerState::Done {
            bail!("the controller ended in {:?}", ctl.state());
        }
        Ok(ctl.report().vectors)
    };
    let t0 = thread_cpu_seconds().context("no /proc/thread-self/stat")?;
    let wall = Instant::now();
    let (mut vectors, mut runs) = (0u64, 0u32);
    while runs == 0 || thread_cpu_seconds().unwrap_or(f64::MAX) - t0 < seconds {
        vectors += run(std::hint::black_box(bytes))?;
        runs += 1;
    }
    let cpu = thread_cpu_seconds().unwrap_or(0.0) - t0;
    let wall = wall.elapsed().as_secs_f64();
    println!(
        "decode + verify + execute: {runs} runs, {:.2} M vectors per CPU-second, {:.2} M vectors/s wall ({cpu:.2} s CPU, {wall:.2} s wall)",
        vectors as f64 / cpu / 1e6,
        vectors as f64 / wall / 1e6,
    );

    Ok(())
}
