//! Slicing a plate: each placed part through the host pipeline on its own (its supports, its
//! warnings, its vector count), its layers spooled to a job file of its own and its mesh and
//! slicer dropped as soon as it is sliced (see [`super::spool`]); the spools are then joined
//! into the plate's layers in part order.

use std::borrow::Cow;
use std::path::Path;

use meltline_firmware::job::PartSpec;
use meltline_slicer::job::{JobHeader, Layer};
use meltline_slicer::polygon::bounds;
use sha2::{Digest, Sha256};

use super::spool::Spool;
use super::{PlacedPart, PlateError};
use crate::mlj::{MljOptions, write_mlj_layers};
use crate::pipeline::{Pipeline, PipelineError};

/// How far (µm, one quantum each) a part's declared footprint box reaches beyond its placed
/// footprint: room for the rounding of contour offsets, never enough to reach a neighbour
/// (parts stand at least `spacing_mm` apart).
pub const FOOTPRINT_MARGIN_QUANTA: i32 = 50;

/// One part's share of the plate's layers.
#[derive(Debug, Clone)]
pub struct PartLayers {
    /// The part's layers, coded, in a job file of its own.
    pub spool: Spool,
    /// Cross-section area per layer, mm².
    pub area_mm2: Vec<f64>,
    /// Vectors of the part in all.
    pub vectors: u64,
    /// What the slicer noticed (supports it could not build, thin walls…), in its words.
    pub warnings: Vec<String>,
}

/// Slices one placed part (standing in the plate frame) into its spool `spool_path`; its
/// mesh is dropped.
pub fn slice_part(
    placed: &mut PlacedPart,
    pipeline: &Pipeline,
    spool_path: &Path,
    opts: &MljOptions,
) -> Result<(JobHeader, PartLayers), PlateError> {
    let id = placed.entry.id.clone();
    let slicer = pipeline.slicer(&placed.part).map_err(|e| match e {
        PipelineError::Slice { source, .. } => PlateError::part(&id, source.to_string()),
        e => PlateError::part(&id, e.to_string()),
    })?;
    placed.part.mesh = meltline_core::mesh::Mesh::default();
    let mut area_mm2 = Vec::new();
    let mut vectors = 0u64;
    let layers = slicer.layers().map(|l: Layer| {
        vectors += l
            .blocks
            .iter()
            .map(|b| b.vector_count() as u64)
            .sum::<u64>();
        area_mm2.push(l.area_mm2);
        Cow::Owned(l)
    });
    write_mlj_layers(slicer.header(), layers, spool_path, opts)
        .map_err(|e| PlateError::part(&id, format!("spooling its layers: {e}")))?;
    let out = PartLayers {
        spool: Spool {
            path: spool_path.to_path_buf(),
            layers: area_mm2.len(),
        },
        area_mm2,
        vectors,
        warnings: slicer.warnings().to_vec(),
    };
    Ok((slicer.header().clone(), out))
}

/// The part-table entry of a placed part: serial, case, placement and the box its vectors
/// keep to (its placed footprint's bounds, [`FOOTPRINT_MARGIN_QUANTA`] wider all round).
pub fn part_spec(placed: &PlacedPart) -> PartSpec {
    let q = |mm: f64| (mm / meltline_slicer::polygon::QUANTUM_MM).round() as i32;
    let footprint = match bounds(&placed.placement.shapes) {
        Some((lo, hi)) => {
            let m = FOOTPRINT_MARGIN_QUANTA;
            [
                lo.x.saturating_sub(m),
                lo.y.saturating_sub(m),
                hi.x.saturating_add(m),
                hi.y.saturating_add(m),
            ]
        }
        None => [0, 0, -1, -1],
    };
    PartSpec {
        serial: placed.entry.id.clone(),
        case: placed.entry.case.clone().unwrap_or_default(),
        centre: [q(placed.placement.at_mm[0]), q(placed.placement.at_mm[1])],
        rotation_mdeg: (placed.placement.rotation_deg * 1000.0).round() as i32,
        footprint,
    }
}

/// The plate's header: the first part's machine, material and parameter sets (one profile
/// for the plate), the tallest part's layer count, the union of the bounds, and as the source
/// hash the SHA-256 of the parts' source hashes in plate order.
pub fn plate_header(headers: &[JobHeader], parts: &[PlacedPart]) -> Option<JobHeader> {
    let mut h = headers.first()?.clone();
    h.layer_count = headers.iter().map(|x| x.layer_count).max().unwrap_or(0);
    h.placement_mm = [0.0; 3];
    for x in &headers[1..] {
        for k in 0..3 {
            h.bounds_mm[0][k] = h.bounds_mm[0][k].min(x.bounds_mm[0][k]);
            h.bounds_mm[1][k] = h.bounds_mm[1][k].max(x.bounds_mm[1][k]);
        }
    }
    let mut sha = Sha256::new();
    for p in parts {
        sha.update(p.part.source_sha256);
    }
    h.source_sha256 = sha.finalize().into();
    Some(h)
}
