//! Slicing a plate: each placed part through the host pipeline on its own (its supports, its
//! warnings, its vector count), its mesh dropped as soon as it is sliced, and the parts' layers
//! joined into the plate's layers in part order.

use meltline_slicer::job::{JobHeader, Layer, LayerReport, VectorBlock};
use sha2::{Digest, Sha256};

use super::{PlacedPart, PlateError};
use crate::pipeline::{Pipeline, PipelineError, drive};

/// One part's share of the plate's layers.
#[derive(Debug, Clone, Default)]
pub struct PartLayers {
    /// The part's blocks, layer by layer from layer 0, in its scan order.
    pub layers: Vec<Vec<VectorBlock>>,
    /// Cross-section area per layer, mm².
    pub area_mm2: Vec<f64>,
    /// Vectors of the part in all.
    pub vectors: u64,
    /// What the slicer noticed (supports it could not build, thin walls…), in its words.
    pub warnings: Vec<String>,
}

/// Slices one placed part (standing in the plate frame); its mesh is dropped.
pub fn slice_part(
    placed: &mut PlacedPart,
    pipeline: &Pipeline,
) -> Result<(JobHeader, PartLayers), PlateError> {
    let id = placed.entry.id.clone();
    let slicer = pipeline.slicer(&placed.part).map_err(|e| match e {
        PipelineError::Slice { source, .. } => PlateError::part(&id, source.to_string()),
        e => PlateError::part(&id, e.to_string()),
    })?;
    placed.part.mesh = meltline_core::mesh::Mesh::default();
    let mut out = PartLayers {
        warnings: slicer.warnings().to_vec(),
        ..PartLayers::default()
    };
    drive(&slicer, |l: Layer| {
        out.vectors += l
            .blocks
            .iter()
            .map(|b| b.vector_count() as u64)
            .sum::<u64>();
        out.area_mm2.push(l.area_mm2);
        out.layers.push(l.blocks);
        Ok::<_, std::convert::Infallible>(())
    })
    .unwrap_or_else(|e| match e {});
    Ok((slicer.header().clone(), out))
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

/// Layer `i` of the plate: every part's blocks of that layer, part after part. The plate's
/// layers carry blocks and areas only (sections and regions stay with the parts' slicing).
pub fn plate_layer(i: usize, t_mm: f64, parts: &mut [PartLayers]) -> Layer {
    let mut blocks = Vec::new();
    let mut area = 0.0;
    for p in parts.iter_mut() {
        if let Some(b) = p.layers.get_mut(i) {
            blocks.append(b);
            area += p.area_mm2.get(i).copied().unwrap_or(0.0);
        }
    }
    Layer {
        index: i,
        z_mm: meltline_slicer::slice::cut_z(i, t_mm),
        area_mm2: area,
        section: Vec::new(),
        regions: Default::default(),
        blocks,
        report: LayerReport::default(),
    }
}
