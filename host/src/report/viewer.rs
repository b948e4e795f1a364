//! `#layer-viewer`: every layer of the job, drawn on a canvas by `viewer.js` from compact data
//! embedded in the page — not one picture per layer.
//!
//! The data is the job's vectors on a 10 µm grid, layer after layer, deflated and base64
//! encoded in a `<script type="application/octet-stream">`; a JSON block beside it holds the
//! layer offsets, the parameter sets' track widths and the per-layer figures. Inflated, a layer
//! is (all integers LEB128 varints, `z` = zigzag signed):
//!
//! ```text
//! layer  = blocks:u  block*
//! block  = kind:u  param_set:u  region:u  [laser:u]  segments:u  segment*
//! segment = z(from.x − cursor.x) z(from.y − cursor.y) z(to.x − from.x) z(to.y − from.y)
//! ```
//!
//! where the cursor starts each layer at (0, 0) and moves to each segment's `to`, and `laser`
//! (the laser's index on the machine) is there only when the meta's `block_lasers` says so: in
//! a job whose blocks name their lasers, so a one-laser job costs nothing for it. The demo
//! cage (430 layers, 777,269 vectors) takes about 2 MB of page this way.

use std::fmt::Write as _;
use std::io::Write as _;

use meltline_firmware::job::RawFrame;
use meltline_firmware::wire::{MAX_FRAME, VectorKind};
use serde::Serialize;

use super::ReportContext;
use crate::jobfile::JobFile;
use crate::session::RunReport;

/// Viewer grid, nm: fine enough for 30 µm features at any zoom a review needs.
const GRID_NM: u32 = 10_000;

/// A parameter set as the viewer needs it.
#[derive(Debug, Clone, Serialize)]
struct ViewerParamSet {
    id: u16,
    /// Melt-track width of contour and point marks, mm (the spot).
    spot_mm: f64,
    /// Melt-track width of hatch marks, mm (at least the hatch distance).
    hatch_track_mm: f64,
}

/// Per-layer figures, column by column (one entry per layer).
#[derive(Debug, Clone, Default, Serialize)]
struct LayerColumns {
    vectors: Vec<[u64; 5]>,
    mark_mm: Vec<f64>,
    est_s: Vec<f64>,
    exec_s: Vec<Option<f64>>,
    energy_j: Vec<Option<f64>>,
    coverage_pct: Vec<Option<f64>>,
    spill_pct: Vec<Option<f64>>,
    support_mm2: Vec<Option<f64>>,
}

/// Everything the script needs besides the vectors.
#[derive(Debug, Clone, Serialize)]
struct ViewerMeta {
    grid_mm: f64,
    layer_mm: f64,
    layers: u32,
    /// Byte offset of each layer in the inflated data, and the end.
    offsets: Vec<u64>,
    /// Bounds of all vectors `[xmin, ymin, xmax, ymax]`, grid units.
    bounds: [i64; 4],
    kinds: [&'static str; 5],
    regions: [&'static str; 5],
    param_sets: Vec<ViewerParamSet>,
    /// Parts the job distinguishes (one here), and lasers: those the job names (one when it
    /// names none).
    parts: u32,
    lasers: u32,
    /// Every block of the data carries its laser (the job's blocks name their lasers).
    block_lasers: bool,
    /// The colour of laser 0, 1, … (`#rrggbb`), as in previews and exposure maps.
    laser_colours: Vec<String>,
    figures: LayerColumns,
}

/// The viewer's embedded data for one job.
#[derive(Debug, Clone)]
pub struct ViewerData {
    meta: ViewerMeta,
    /// Deflated layer data, base64.
    data_b64: String,
    /// Bounds of the part's (non-support) vectors, mm.
    part_bounds: Option<[f64; 4]>,
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Running bounds `[xmin, ymin, xmax, ymax]`.
fn grow(b: &mut Option<[i64; 4]>, x: i64, y: i64) {
    *b = Some(match *b {
        None => [x, y, x, y],
        Some(b) => [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)],
    });
}

/// Appends layer `layer` of `job` to `out` in the viewer format; grows the bounds.
fn encode_layer(
    job: &JobFile,
    layer: u32,
    grid: i64,
    out: &mut Vec<u8>,
    all: &mut Option<[i64; 4]>,
    part: &mut Option<[i64; 4]>,
) {
    let Some(info) = job.layers.get(layer as usize) else {
        varint(out, 0);
        return;
    };
    let first = info.first_frame as usize;
    let frames = job
        .frames
        .get(first..first + info.frames as usize)
        .unwrap_or(&[]);
    let mut scratch = Vec::with_capacity(MAX_FRAME);
    let mut blocks = Vec::new();
    let mut count = 0u64;
    let mut cursor = (0i64, 0i64);
    let q = |v: i32| (i64::from(v) + grid / 2).div_euclid(grid);
    for wire in frames {
        let raw = RawFrame {
            index: 0,
            offset: 0,
            wire: wire.clone(),
        };
        let Ok(frame) = raw.decode(&mut scratch) else {
            continue;
        };
        let Some((_, b)) = frame.msg.block() else {
            continue;
        };
        let segments: Vec<_> = b.segments().filter_map(Result::ok).collect();
        count += 1;
        for v in [b.kind as u64, u64::from(b.param_set), b.region as u64] {
            varint(&mut blocks, v);
        }
        if job.names_lasers {
            varint(&mut blocks, u64::from(frame.msg.laser().unwrap_or(0)));
        }
        varint(&mut blocks, segments.len() as u64);
        for s in segments {
            let (fx, fy, tx, ty) = (q(s.from.x), q(s.from.y), q(s.to.x), q(s.to.y));
            for v in [fx - cursor.0, fy - cursor.1, tx - fx, ty - fy] {
                varint(&mut blocks, zigzag(v));
            }
            cursor = (tx, ty);
            for (x, y) in [(fx, fy), (tx, ty)] {
                grow(all, x, y);
                if b.kind != VectorKind::Support {
                    grow(part, x, y);
                }
            }
        }
    }
    varint(out, count);
    out.extend_from_slice(&blocks);
}

fn figures(run: &RunReport) -> LayerColumns {
    let mut f = LayerColumns::default();
    let executed = |layer: u32| {
        run.controller
            .as_ref()
            .and_then(|c| c.layers.iter().find(|l| l.layer == layer))
    };
    for l in &run.job.per_layer {
        let e = executed(l.layer);
        f.vectors.push(l.vectors_by_kind);
        f.mark_mm.push(l.mark_length_mm);
        f.est_s.push(l.est_time_s);
        f.exec_s.push(e.map(|e| e.total_s));
        f.energy_j.push(e.map(|e| e.energy_j));
        f.coverage_pct.push(e.and_then(|e| e.coverage_pct));
        f.spill_pct.push(e.and_then(|e| e.spill_pct));
        f.support_mm2.push(e.and_then(|e| e.support_mm2));
    }
    f
}

impl ViewerData {
    /// Encodes every layer of `job`, with the figures of `run`.
    pub fn of(job: &JobFile, run: &RunReport, _ctx: &ReportContext) -> std::io::Result<Self> {
        Self::encode(job, figures(run))
    }

    /// Encodes every layer of `job`, with the per-layer figures `figures`.
    fn encode(job: &JobFile, figures: LayerColumns) -> std::io::Result<Self> {
        let quantum = i64::from(job.quantum_nm.max(1));
        let grid = (i64::from(GRID_NM) / quantum).max(1);
        let grid_mm = (grid * quantum) as f64 * 1e-6;
        let mut raw = Vec::new();
        let mut offsets = Vec::with_capacity(job.layers.len() + 1);
        let (mut all, mut part) = (None, None);
        for layer in 0..job.layer_count() {
            offsets.push(raw.len() as u64);
            encode_layer(job, layer, grid, &mut raw, &mut all, &mut part);
        }
        offsets.push(raw.len() as u64);
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&raw)?;
        let deflated = enc.finish()?;
        let param_sets = job
            .param_sets
            .iter()
            .map(|p| ViewerParamSet {
                id: p.id,
                spot_mm: f64::from(p.spot_um) / 1000.0,
                hatch_track_mm: f64::from(p.spot_um.max(p.hatch_distance_um)) / 1000.0,
            })
            .collect();
        let meta = ViewerMeta {
            grid_mm,
            layer_mm: f64::from(job.layer_thickness_nm) * 1e-6,
            layers: job.layer_count(),
            offsets,
            bounds: all.unwrap_or([0, 0, 1, 1]),
            kinds: ["contour", "hatch", "edge", "support", "point"],
            regions: ["core", "upskin", "downskin", "support", "lattice"],
            param_sets,
            parts: 1,
            lasers: job.lasers.len().max(1) as u32,
            block_lasers: job.names_lasers,
            laser_colours: crate::picture::LASER_COLOURS
                .iter()
                .map(|[r, g, b]| format!("#{r:02x}{g:02x}{b:02x}"))
                .collect(),
            figures,
        };
        Ok(ViewerData {
            meta,
            data_b64: base64(&deflated),
            part_bounds: part.map(|b| b.map(|v| v as f64 * grid_mm)),
        })
    }

    /// Bounds of the part's vectors on the plate `[xmin, ymin, xmax, ymax]`, mm.
    pub fn part_bounds_mm(&self) -> Option<[f64; 4]> {
        self.part_bounds
    }

    /// Bytes of embedded vector data (base64).
    pub fn embedded_bytes(&self) -> usize {
        self.data_b64.len()
    }

    /// Writes the section: controls, canvas, figures, the data and the script.
    pub fn section(&self, s: &mut String) {
        let last = self.meta.layers.saturating_sub(1);
        // Offered, and chosen, only for a job whose blocks name their lasers.
        let laser_option = if self.meta.block_lasers {
            r#"<option value="laser" selected>laser</option>"#
        } else {
            ""
        };
        let _ = write!(
            s,
            r#"<section id="layer-viewer"><h2>Layers</h2><p class="screen-only">Every layer, drawn from the job's vectors. Slider or ←/→ (PgUp/PgDn ten layers) to move; wheel or +/− to zoom; drag to pan.</p><div class="viewer-controls screen-only"><label>layer <input id="viewer-slider" type="range" min="0" max="{last}" value="0" step="1" aria-label="layer"></label> <output id="viewer-layer">0</output> / {last} <button id="viewer-zoom-in" type="button">+</button><button id="viewer-zoom-out" type="button">−</button><button id="viewer-fit" type="button">fit</button> <label>colour by <select id="viewer-colour"><option value="kind">vector kind</option><option value="param">parameter set</option><option value="region">region</option>{laser_option}</select></label> <label><input id="viewer-exposure" type="checkbox"> exposure map</label></div><div class="viewer"><canvas id="viewer-canvas" width="760" height="600" data-layer="" tabindex="0"></canvas><div><div id="viewer-legend"></div><dl id="viewer-figures"></dl></div></div><noscript>The layer viewer needs JavaScript.</noscript>"#
        );
        let meta = serde_json::to_string(&self.meta)
            .unwrap_or_else(|_| "{}".into())
            .replace("</", "<\\/");
        let _ = write!(
            s,
            r#"<script type="application/json" id="viewer-meta">{meta}</script><script type="application/octet-stream" id="viewer-data">{}</script><script>{}</script></section>"#,
            self.data_b64,
            include_str!("viewer.js")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
    }

    #[test]
    fn zigzag_varints_round_small_magnitudes_to_one_byte() {
        let mut out = Vec::new();
        for v in [0i64, -1, 1, -64, 63] {
            varint(&mut out, zigzag(v));
        }
        assert_eq!(out, vec![0, 1, 2, 127, 126]);
    }

    /// A job of a 10 mm square (two layers) about the plate's centre, where the four fields of
    /// `meltline-sim-250-4x` overlap; planned on that machine's lasers by region when `lasers`.
    fn centre_square(lasers: bool) -> JobFile {
        use crate::lasers::{Assignment, DEFAULT_OVERLAP_MM, write::write_assigned};
        use crate::mlj::{MljOptions, encode_mlj};
        use meltline_core::mesh::Mesh;
        use meltline_slicer::job::{Slicer, SlicerOptions};
        use meltline_slicer::profile::ProcessProfile;

        let four = meltline_firmware::lasers::builtin_machine("meltline-sim-250-4x")
            .expect("a built-in machine");
        let mesh = Mesh::axis_aligned_box([-5.0, -5.0, 0.0], [5.0, 5.0, 0.06]);
        let sliced = Slicer::new(&mesh, ProcessProfile::ti6al4v(), SlicerOptions::default())
            .and_then(|s| s.build_job())
            .expect("the square slices");
        let opts = MljOptions {
            machine: Some(four.machine.to_string()),
            ..MljOptions::default()
        };
        let (bytes, _) = encode_mlj(&sliced, &opts).expect("the job encodes");
        let job = JobFile::parse(&bytes, "square.mlj", &four).expect("the job reads");
        if !lasers {
            return job;
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let out = dir.path().join("square-4x.mlj");
        write_assigned(&job, &four, Assignment::ByRegion, DEFAULT_OVERLAP_MM, &out)
            .expect("the square is planned on the four lasers");
        let bytes = std::fs::read(&out).expect("the planned job is written");
        JobFile::parse(&bytes, "square-4x.mlj", &four).expect("the planned job reads")
    }

    /// Per block of the inflated viewer data: kind, laser (when the blocks carry it) and
    /// segments; fails unless the data ends exactly after the last layer.
    fn decode(data: &[u8], layers: u32, block_lasers: bool) -> Vec<(u64, Option<u64>, u64)> {
        let mut at = 0usize;
        let mut u = || {
            let (mut v, mut shift) = (0u64, 0u32);
            loop {
                let c = data[at];
                at += 1;
                v |= u64::from(c & 0x7f) << shift;
                if c < 0x80 {
                    return v;
                }
                shift += 7;
            }
        };
        let mut out = Vec::new();
        for _ in 0..layers {
            for _ in 0..u() {
                let (kind, _param, _region) = (u(), u(), u());
                let laser = block_lasers.then(&mut u);
                let n = u();
                for _ in 0..4 * n {
                    u();
                }
                out.push((kind, laser, n));
            }
        }
        assert_eq!(at, data.len(), "the data ends after the last layer");
        out
    }

    fn inflated(v: &ViewerData) -> Vec<u8> {
        use std::io::Read as _;
        let b64 = v.data_b64.as_bytes();
        let value = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        let mut deflated = Vec::new();
        for chunk in b64.chunks(4) {
            let pad = chunk.iter().filter(|c| **c == b'=').count();
            let n = chunk.iter().fold(0u32, |n, c| {
                (n << 6) | u32::from(if *c == b'=' { 0 } else { value(*c) })
            });
            deflated.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
        }
        let mut raw = Vec::new();
        flate2::read::DeflateDecoder::new(deflated.as_slice())
            .read_to_end(&mut raw)
            .expect("the data inflates");
        raw
    }

    #[test]
    fn a_job_naming_lasers_carries_every_blocks_laser_and_offers_colour_by_laser() {
        let job = centre_square(true);
        assert!(job.names_lasers);
        let v = ViewerData::encode(&job, LayerColumns::default()).expect("the viewer encodes");
        assert!(v.meta.block_lasers);
        assert_eq!(v.meta.lasers as usize, job.lasers.len());
        let blocks = decode(&inflated(&v), job.layer_count(), true);
        let mut per_laser = vec![0u64; job.lasers.len()];
        for (_, laser, n) in &blocks {
            let l = laser.expect("a laser") as usize;
            assert!(l < per_laser.len(), "laser {l} of {}", per_laser.len());
            per_laser[l] += n;
        }
        let mut expected = vec![0u64; job.lasers.len()];
        for layer in 0..job.layer_count() {
            for s in job.layer_vectors(layer) {
                expected[usize::from(s.laser)] += 1;
            }
        }
        assert_eq!(per_laser, expected);
        assert!(
            per_laser.iter().filter(|n| **n > 0).count() >= 2,
            "the square is shared between lasers: {per_laser:?}"
        );
        let mut html = String::new();
        v.section(&mut html);
        assert!(
            html.contains(r#"<option value="laser" selected>laser</option>"#),
            "colour by laser is offered and chosen"
        );
        assert!(html.contains(r#""block_lasers":true"#));
    }

    #[test]
    fn a_job_naming_no_laser_spends_no_byte_on_lasers_and_offers_no_colour_by_laser() {
        let job = centre_square(false);
        assert!(!job.names_lasers);
        let v = ViewerData::encode(&job, LayerColumns::default()).expect("the viewer encodes");
        assert!(!v.meta.block_lasers);
        assert_eq!(v.meta.lasers, 1);
        let blocks = decode(&inflated(&v), job.layer_count(), false);
        let vectors: u64 = blocks.iter().map(|b| b.2).sum();
        assert_eq!(vectors, job.vectors());
        let mut html = String::new();
        v.section(&mut html);
        assert!(!html.contains(r#"value="laser""#));
    }
}
