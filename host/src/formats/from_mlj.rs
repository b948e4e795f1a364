//! A verified `.mlj` back into a [`JobDocument`]: the inverse of [`crate::mlj::layer_blocks`]
//! up to the merging of neighbouring blocks, so the document codes to the same frames and the
//! same job hash.
//!
//! Wire polylines become one slicer polyline block each (closed ones with their first point
//! repeated at the end), hatch-coded blocks one vector block; the region `Core` of contours
//! and edges stays `Core` (the wire does not tell the slicer's `Part` from `Core`). A job
//! whose blocks name their lasers keeps each block's laser ([`JobDocument::lasers`]) and its
//! polylines as the wire has them, each wire block's start marked where its first block could
//! join the one before ([`BlockLaser::opens`]): such a job's blocks are a laser's shares, cut
//! and stitched at seams, whose frames are not those the document would be coded into by
//! merging alone; so a halved polyline is not joined there either.

use meltline_firmware::job::RawFrame;
use meltline_firmware::wire::{self, Coding, MAX_FRAME};
use meltline_slicer::job::{
    BuildJob, Geometry, JobHeader, JobParameterSet, Layer, LayerReport, Region, VectorBlock,
    VectorKind, Xy,
};
use meltline_slicer::profile::ProcessProfile;
use meltline_slicer::region::LayerRegions;

use super::{BlockLaser, FormatError, JobDocument, WireSet, fold_bounds, joins};
use crate::jobfile::JobFile;

/// The document of a verified job file.
pub fn document(job: &JobFile) -> Result<JobDocument, FormatError> {
    let t = f64::from(job.layer_thickness_nm) * 1e-6;
    let q = f64::from(job.quantum_nm) * 1e-6;
    let mut layers: Vec<Layer> = (0..job.layers.len()).map(|i| empty_layer(i, t)).collect();
    // Each layer's blocks with their lasers (laser 0 in a job naming none).
    let mut read: Vec<Vec<(VectorBlock, BlockLaser)>> = vec![Vec::new(); layers.len()];
    let mut scratch = Vec::with_capacity(MAX_FRAME);
    for (wire_bytes, at) in job.frames.iter().zip(&job.frame_layer) {
        let Some(li) = at else { continue };
        let raw = RawFrame {
            index: 0,
            offset: 0,
            wire: wire_bytes.clone(),
        };
        let frame = raw
            .decode(&mut scratch)
            .map_err(|e| FormatError::malformed(&job.name, format!("layer {li}"), e.to_string()))?;
        let Some((_, b)) = frame.msg.block() else {
            continue;
        };
        let laser = frame.msg.laser().unwrap_or(0);
        let blocks = read
            .get_mut(*li as usize)
            .ok_or_else(|| FormatError::malformed(&job.name, format!("layer {li}"), "no layer"))?;
        push_wire_block(blocks, laser, job.names_lasers, b)
            .map_err(|what| FormatError::malformed(&job.name, format!("layer {li}"), what))?;
    }
    let mut lasers = Vec::new();
    for (layer, blocks) in layers.iter_mut().zip(read) {
        let (b, l): (Vec<VectorBlock>, Vec<BlockLaser>) = blocks.into_iter().unzip();
        layer.blocks = b;
        if job.names_lasers {
            lasers.push(l);
        }
    }
    let sets: Vec<JobParameterSet> = job
        .param_sets
        .iter()
        .map(|p| JobParameterSet {
            id: p.id,
            label: set_label(p.id),
            power_w: f64::from(p.power_mw) / 1000.0,
            speed_mm_s: f64::from(p.mark_speed_mm_s),
            hatch_mm: f64::from(p.hatch_distance_um) / 1000.0,
        })
        .collect();
    let wire = job
        .param_sets
        .iter()
        .map(|p| {
            (
                p.id,
                WireSet {
                    spot_um: p.spot_um,
                    skywriting: p.skywriting,
                },
            )
        })
        .collect();
    let header = job_header(&job.machine, &job.material, q, t, sets, &layers);
    Ok(JobDocument {
        job: BuildJob { header, layers },
        wire,
        lasers,
        notes: Vec::new(),
    })
}

/// The label the built-in profile gives parameter set `id`, else `set {id}`.
pub fn set_label(id: u16) -> String {
    ProcessProfile::ti6al4v()
        .parameter_sets()
        .iter()
        .find(|(i, _, _)| *i == id)
        .map_or_else(|| format!("set {id}"), |(_, l, _)| (*l).to_string())
}

/// A layer with no blocks yet, at `(index + 0.5)·t`.
pub fn empty_layer(index: usize, thickness_mm: f64) -> Layer {
    Layer {
        index,
        z_mm: (index as f64 + 0.5) * thickness_mm,
        area_mm2: 0.0,
        section: Vec::new(),
        regions: LayerRegions::default(),
        blocks: Vec::new(),
        report: LayerReport::default(),
    }
}

/// A job header for layers read from a file: bounds from the vectors, no placement or source.
pub fn job_header(
    machine: &str,
    material: &str,
    quantum_mm: f64,
    thickness_mm: f64,
    parameter_sets: Vec<JobParameterSet>,
    layers: &[Layer],
) -> JobHeader {
    let mut b = None;
    for l in layers {
        fold_bounds(&mut b, l);
    }
    let [x0, y0, x1, y1] = b.unwrap_or([0; 4]).map(|v| f64::from(v) * quantum_mm);
    JobHeader {
        machine: machine.to_string(),
        material: material.to_string(),
        quantum_mm,
        layer_thickness_mm: thickness_mm,
        layer_count: layers.len(),
        parameter_sets,
        placement_mm: [0.0; 3],
        lift_mm: 0.0,
        bounds_mm: [[x0, y0, 0.0], [x1, y1, layers.len() as f64 * thickness_mm]],
        source_sha256: [0; 32],
    }
}

/// The slicer kind of a wire kind (`None` for point exposures, which the job model lacks).
pub fn slicer_kind(k: wire::VectorKind) -> Option<VectorKind> {
    match k {
        wire::VectorKind::Contour => Some(VectorKind::Contour),
        wire::VectorKind::Hatch => Some(VectorKind::Hatch),
        wire::VectorKind::Edge => Some(VectorKind::Edge),
        wire::VectorKind::Support => Some(VectorKind::Support),
        wire::VectorKind::Point => None,
    }
}

/// The slicer region of a wire region (`None` for a lattice region, which the slicer's job
/// model does not have).
pub fn slicer_region(r: wire::Region) -> Option<Region> {
    match r {
        wire::Region::Core => Some(Region::Core),
        wire::Region::Upskin => Some(Region::Upskin),
        wire::Region::Downskin => Some(Region::Downskin),
        wire::Region::Support => Some(Region::Support),
        wire::Region::Lattice => None,
    }
}

/// The open polyline that ends the previous wire block where this one starts, taken back out
/// of `out`: the job writer halves a polyline too long for one frame into open pieces, the
/// second starting where the first ends and opening the next block, so joining them gives the
/// slicer's polyline back (and the same frames when it is coded again). Only for a job
/// naming no lasers (see the module doc).
fn continued(
    out: &mut Vec<(VectorBlock, BlockLaser)>,
    kind: VectorKind,
    region: Region,
    set: u16,
    laser: u8,
    from: Xy,
) -> Option<Vec<Xy>> {
    let (
        last,
        BlockLaser {
            laser: last_laser, ..
        },
    ) = out.last()?;
    let Geometry::Polyline(p) = &last.geometry else {
        return None;
    };
    let closed = p.len() >= 4 && p.first() == p.last();
    let same = last.kind == kind
        && last.region == region
        && last.parameter_set == set
        && *last_laser == laser;
    if !same || closed || p.last() != Some(&from) {
        return None;
    }
    match out.pop()?.0.geometry {
        Geometry::Polyline(p) => Some(p),
        Geometry::Vectors(_) => None,
    }
}

/// Appends the slicer blocks of one wire block, each with the block's laser; in a job naming
/// lasers (`lasers`) the first marked as opening its wire block where it could join the one
/// before.
fn push_wire_block(
    out: &mut Vec<(VectorBlock, BlockLaser)>,
    laser: u8,
    lasers: bool,
    b: &wire::VectorBlock<'_>,
) -> Result<(), String> {
    let kind = slicer_kind(b.kind).ok_or("point exposures have no place in a build job")?;
    let region = slicer_region(b.region).ok_or("the lattice region has no place in a build job")?;
    // Whether the wire block's first slicer block is yet to come.
    let mut first = true;
    let mut block = |out: &[(VectorBlock, BlockLaser)], geometry| {
        let v = VectorBlock {
            kind,
            region,
            parameter_set: b.param_set,
            geometry,
        };
        let opens = lasers
            && std::mem::take(&mut first)
            && out
                .last()
                .is_some_and(|(a, l)| joins(a, l.laser, &v, laser));
        (v, BlockLaser { laser, opens })
    };
    let xy = |p: wire::Point| -> Result<Xy, String> { Ok([p.x, p.y]) };
    match b.coding {
        Coding::Hatches => {
            let mut v = Vec::with_capacity(b.vectors as usize);
            for s in b.segments() {
                let s = s.map_err(|e| e.to_string())?;
                v.push([xy(s.from)?, xy(s.to)?]);
            }
            let b = block(out, Geometry::Vectors(v));
            out.push(b);
        }
        Coding::Polylines => {
            let mut line: Vec<Xy> = Vec::new();
            let mut first_of_block = true;
            for s in b.segments() {
                let s = s.map_err(|e| e.to_string())?;
                if !s.chained && !line.is_empty() {
                    let b = block(out, Geometry::Polyline(std::mem::take(&mut line)));
                    out.push(b);
                }
                if line.is_empty() {
                    let from = xy(s.from)?;
                    // Only a block's first polyline can continue the previous block's last
                    // (asking pops that polyline from `out`).
                    let prev = if first_of_block && !lasers {
                        continued(out, kind, region, b.param_set, laser, from)
                    } else {
                        None
                    };
                    match prev {
                        Some(prev) => line = prev,
                        None => line.push(from),
                    }
                    first_of_block = false;
                }
                line.push(xy(s.to)?);
            }
            if !line.is_empty() {
                let b = block(out, Geometry::Polyline(line));
                out.push(b);
            }
        }
        Coding::Points => return Err("point exposures have no place in a build job".into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{JobDocument, encode_document};
    use crate::mlj::{MljOptions, encode_mlj};
    use meltline_slicer::job::JobParameterSet;

    #[test]
    fn a_contour_too_long_for_one_frame_comes_back_whole_with_the_same_frames() {
        // 3000 vertices on a circle: the job writer halves it into open pieces across frames.
        let mut ring: Vec<Xy> = (0..3000)
            .map(|i| {
                let a = i as f64 / 3000.0 * std::f64::consts::TAU;
                [(4000.0 * a.cos()) as i32, (4000.0 * a.sin()) as i32]
            })
            .collect();
        ring.push(ring[0]);
        let mut layer = empty_layer(0, 0.03);
        layer.blocks.push(VectorBlock {
            kind: VectorKind::Contour,
            region: Region::Part,
            parameter_set: 4,
            geometry: Geometry::Polyline(ring.clone()),
        });
        let set = JobParameterSet {
            id: 4,
            label: "contour".into(),
            power_w: 150.0,
            speed_mm_s: 600.0,
            hatch_mm: 0.12,
        };
        let header = job_header("m", "Ti-6Al-4V", 0.001, 0.03, vec![set], &[layer.clone()]);
        let job = BuildJob {
            header,
            layers: vec![layer],
        };
        let (wire, summary) = encode_mlj(&job, &MljOptions::default()).unwrap();
        let file = JobFile::parse(&wire, "ring.mlj", &Default::default()).unwrap();
        assert!(file.layers[0].blocks > 1, "the ring spans several frames");
        let doc: JobDocument = document(&file).unwrap();
        assert_eq!(doc.job.layers[0].blocks.len(), 1);
        assert_eq!(
            doc.job.layers[0].blocks[0].geometry,
            Geometry::Polyline(ring)
        );
        let again = encode_document(&doc).unwrap();
        assert_eq!(again, wire);
        assert_eq!(
            JobFile::parse(&again, "again", &Default::default())
                .unwrap()
                .job_sha256,
            summary.job_sha256
        );
    }
}
