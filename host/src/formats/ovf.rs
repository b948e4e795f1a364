//! Open Vector Format files written layer by layer, with the types `prost-build` generates
//! from the `.proto` files in `host/proto/`.
//!
//! File layout (the OVF README, "OVF File Structure"): the magic `LVF!`, the Job LUT's
//! position (i64, little-endian), then per work plane (one per layer) the position of its
//! LUT, its vector blocks, its shell (the `WorkPlane` without blocks) and its LUT; then the
//! job shell (the `Job` without work planes) and the Job LUT. Every message is
//! length-delimited (varint length, then the bytes); positions are offsets from the file start.
//!
//! Mapping: parameter sets are `marking_params_map` entries keyed by set id (power, speed,
//! skywriting as marking mode 1); the one part (key 1) carries the material, the layer
//! thickness, and as `additional_parameters` what OVF has no field for: the quantum, the
//! machine, each set's hatch distance and spot diameter. Coordinates are absolute mm as
//! float32 (exact at the quantum within the scan field). Each block carries its part key and
//! LPBF metadata: contour or volume, skin type from the region, support structure, and the
//! outer hull for the slicer's `Part` region. A contour is a `LineSequence` with its first
//! point repeated, hatches and edges are `Hatches`.
//!
//! Lasers: a job naming lasers ([`OvfWriter::write_laser_layer`]) sets every vector block's
//! `laser_index` to its laser and marks the part's `additional_parameters` with
//! [`P_NAMES_LASERS`] = 1, listing per work plane the blocks that open a wire block of their
//! own ([`p_opens`]); a job naming none leaves `laser_index` at its default 0 and has no
//! marker, as before. OVF itself has no "names lasers" flag, so on reading a job names
//! lasers when the marker says so (value not 0), or when any vector block has a nonzero
//! `laser_index` (a multi-laser file from elsewhere); an OVF with neither is a job for one
//! laser.

use std::collections::BTreeMap;
use std::io::{Seek, SeekFrom, Write};

use meltline_slicer::job::{Geometry, JobHeader, Layer, Region, VectorKind};
use prost::Message;

use super::{BlockLaser, WireSet};

/// The types generated from `open_vector_format.proto` and `ovf_lut.proto`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/open_vector_format.rs"));
}

use proto::vector_block::{
    Hatches, LineSequence, LpbfMetadata, PartArea, StructureType, VectorData,
    lpbf_metadata::{SkinCoreStrategyArea, SkinType},
};
use proto::{Job, JobLut, MarkingParams, Part, VectorBlock, WorkPlane, WorkPlaneLut};

/// The magic number at the start of every OVF file.
pub const MAGIC: [u8; 4] = *b"LVF!";
/// The key of the one part in `parts_map`.
pub const PART_KEY: i32 = 1;
/// `additional_parameters` name of the coordinate quantum, mm.
pub const P_QUANTUM: &str = "meltline.quantum_in_mm";
/// `additional_parameters` name whose description is the machine.
pub const P_MACHINE: &str = "meltline.machine";
/// `additional_parameters` name marking a job that names the laser of every block (value 1):
/// its blocks' `laser_index` is their laser, 0 included.
pub const P_NAMES_LASERS: &str = "meltline.names_lasers";

/// `additional_parameters` name whose description lists the blocks of work plane `layer`
/// (their indices, space-separated) that open a wire block of their own
/// ([`BlockLaser::opens`]), in a job naming lasers.
pub fn p_opens(layer: usize) -> String {
    format!("meltline.layer.{layer}.new_blocks")
}

/// `additional_parameters` name of a set's hatch distance, mm.
pub fn p_hatch(id: u16) -> String {
    format!("meltline.set.{id}.hatch_distance_in_mm")
}

/// `additional_parameters` name of a set's spot diameter, µm.
pub fn p_spot(id: u16) -> String {
    format!("meltline.set.{id}.spot_diameter_in_um")
}

/// Writes an OVF file one work plane (layer) at a time.
#[derive(Debug)]
pub struct OvfWriter<W: Write + Seek> {
    out: W,
    pos: u64,
    header: JobHeader,
    wire: BTreeMap<u16, WireSet>,
    work_planes: Vec<i64>,
    /// A layer named its blocks' lasers.
    names_lasers: bool,
    /// Per layer that has any, the blocks opening a wire block of their own.
    opens: Vec<(usize, String)>,
    buf: Vec<u8>,
}

fn pos_i64(p: u64) -> std::io::Result<i64> {
    i64::try_from(p).map_err(|_| std::io::Error::other("file position beyond i64"))
}

impl<W: Write + Seek> OvfWriter<W> {
    /// Writes the magic and room for the Job LUT position.
    pub fn new(
        mut out: W,
        header: &JobHeader,
        wire: BTreeMap<u16, WireSet>,
    ) -> std::io::Result<Self> {
        out.write_all(&MAGIC)?;
        out.write_all(&0i64.to_le_bytes())?;
        Ok(OvfWriter {
            out,
            pos: 12,
            header: header.clone(),
            wire,
            work_planes: Vec::new(),
            names_lasers: false,
            opens: Vec::new(),
            buf: Vec::new(),
        })
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<u64> {
        let at = self.pos;
        self.out.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(at)
    }

    fn put_delimited(&mut self, m: &impl Message) -> std::io::Result<u64> {
        let mut b = std::mem::take(&mut self.buf);
        b.clear();
        m.encode_length_delimited(&mut b)
            .map_err(std::io::Error::other)?;
        let at = self.put(&b);
        self.buf = b;
        at
    }

    /// Writes one layer of a job naming no lasers as a work plane: LUT position, blocks,
    /// shell, LUT.
    pub fn write_layer(&mut self, layer: &Layer) -> std::io::Result<()> {
        self.layer(layer, None)
    }

    /// Writes one layer of a job naming lasers, `lasers[i]` the laser of `layer.blocks[i]`
    /// (a list of another length is refused).
    pub fn write_laser_layer(
        &mut self,
        layer: &Layer,
        lasers: &[BlockLaser],
    ) -> std::io::Result<()> {
        self.layer(layer, Some(lasers))
    }

    fn layer(&mut self, layer: &Layer, lasers: Option<&[BlockLaser]>) -> std::io::Result<()> {
        let q = self.header.quantum_mm;
        if let Some(l) = lasers {
            if l.len() != layer.blocks.len() {
                return Err(std::io::Error::other(format!(
                    "layer {}: {} blocks but the lasers of {}",
                    self.work_planes.len(),
                    layer.blocks.len(),
                    l.len()
                )));
            }
            self.names_lasers = true;
            let opens: Vec<String> = l
                .iter()
                .enumerate()
                .filter(|(_, b)| b.opens)
                .map(|(i, _)| i.to_string())
                .collect();
            if !opens.is_empty() {
                self.opens.push((self.work_planes.len(), opens.join(" ")));
            }
        }
        let blocks: Vec<VectorBlock> = layer
            .blocks
            .iter()
            .enumerate()
            .map(|(i, b)| block(b, q, lasers.and_then(|l| l.get(i)).map(|l| l.laser)))
            .collect();
        // The LUT comes after the blocks and the shell: work out where before writing.
        let mut size = 8u64;
        let mut rel = Vec::with_capacity(blocks.len());
        for b in &blocks {
            rel.push(size);
            size += b.encoded_len_delimited_u64();
        }
        let n = self.work_planes.len();
        let shell = WorkPlane {
            z_pos_in_mm: ((n + 1) as f64 * self.header.layer_thickness_mm) as f32,
            num_blocks: i32::try_from(blocks.len()).unwrap_or(i32::MAX),
            work_plane_number: i32::try_from(n).unwrap_or(i32::MAX),
            machine_type: self.header.machine.clone(),
            ..WorkPlane::default()
        };
        let start = self.pos;
        let shell_at = start + size;
        let lut_at = shell_at + shell.encoded_len_delimited_u64();
        self.put(&pos_i64(lut_at)?.to_le_bytes())?;
        for b in &blocks {
            self.put_delimited(b)?;
        }
        self.put_delimited(&shell)?;
        let lut = WorkPlaneLut {
            work_plane_shell_position: pos_i64(shell_at)?,
            vector_blocks_positions: rel
                .iter()
                .map(|r| pos_i64(start + r))
                .collect::<Result<_, _>>()?,
        };
        let at = self.put_delimited(&lut)?;
        debug_assert_eq!(at, lut_at);
        self.work_planes.push(pos_i64(start)?);
        Ok(())
    }

    /// Writes the job shell and the Job LUT, and fills in the Job LUT position.
    pub fn finish(mut self) -> std::io::Result<W> {
        let mut shell = job_shell(&self.header, &self.wire, self.work_planes.len());
        if self.names_lasers
            && let Some(s) = shell
                .parts_map
                .get_mut(&PART_KEY)
                .and_then(|p| p.process_strategy.as_mut())
        {
            s.additional_parameters.push(param(
                P_NAMES_LASERS,
                1.0,
                "the job names the laser of every block: each vector block's laser_index",
            ));
            for (layer, blocks) in std::mem::take(&mut self.opens) {
                s.additional_parameters
                    .push(param(&p_opens(layer), 0.0, &blocks));
            }
        }
        let shell_at = self.put_delimited(&shell)?;
        let lut = JobLut {
            job_shell_position: pos_i64(shell_at)?,
            work_plane_positions: std::mem::take(&mut self.work_planes),
        };
        let lut_at = self.put_delimited(&lut)?;
        self.out.seek(SeekFrom::Start(4))?;
        self.out.write_all(&pos_i64(lut_at)?.to_le_bytes())?;
        self.out.seek(SeekFrom::End(0))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The delimited size of a message as u64.
trait DelimitedLen {
    fn encoded_len_delimited_u64(&self) -> u64;
}

impl<M: Message> DelimitedLen for M {
    fn encoded_len_delimited_u64(&self) -> u64 {
        let n = self.encoded_len();
        (prost::length_delimiter_len(n) + n) as u64
    }
}

fn param(
    name: &str,
    value: f64,
    description: &str,
) -> proto::part::process_strategy::ProprietaryParam {
    proto::part::process_strategy::ProprietaryParam {
        param_name: name.to_string(),
        param_value: value,
        param_description: description.to_string(),
    }
}

/// The `Job` message without work planes.
pub fn job_shell(h: &JobHeader, wire: &BTreeMap<u16, WireSet>, work_planes: usize) -> Job {
    let mut marking = BTreeMap::new();
    let mut extra = vec![
        param(P_QUANTUM, h.quantum_mm, "coordinate quantum of the job, mm"),
        param(P_MACHINE, 0.0, &h.machine),
    ];
    for s in &h.parameter_sets {
        let w = wire.get(&s.id).copied().unwrap_or_default();
        marking.insert(
            i32::from(s.id),
            MarkingParams {
                laser_power_in_w: s.power_w as f32,
                laser_speed_in_mm_per_s: s.speed_mm_s as f32,
                marking_mode: if w.skywriting { 1 } else { 0 },
                name: s.label.clone(),
                ..MarkingParams::default()
            },
        );
        extra.push(param(&p_hatch(s.id), s.hatch_mm, &s.label));
        extra.push(param(&p_spot(s.id), f64::from(w.spot_um), &s.label));
    }
    let core_hatch = h
        .parameter_sets
        .iter()
        .find(|s| s.id == meltline_slicer::profile::set_id::CORE)
        .map_or(0.0, |s| s.hatch_mm);
    let part = Part {
        name: "part".into(),
        material: Some(proto::part::Material {
            id: 0,
            name: h.material.clone(),
        }),
        process_strategy: Some(proto::part::ProcessStrategy {
            layer_thickness_in_mm: h.layer_thickness_mm as f32,
            hatch_distance_in_mm: core_hatch as f32,
            additional_parameters: extra,
            ..Default::default()
        }),
        ..Part::default()
    };
    let [lo, hi] = h.bounds_mm;
    Job {
        work_planes: Vec::new(),
        job_meta_data: Some(proto::job::JobMetaData {
            job_name: format!("meltline job {}", h.source_sha256_hex()),
            author: "meltline".into(),
            description: format!("{} on {}", h.material, h.machine),
            bounds: Some(proto::AxisAlignedBox2D {
                x_min: lo[0] as f32,
                y_min: lo[1] as f32,
                x_max: hi[0] as f32,
                y_max: hi[1] as f32,
            }),
            ..Default::default()
        }),
        marking_params_map: marking,
        parts_map: [(PART_KEY, part)].into_iter().collect(),
        job_parameters: None,
        num_work_planes: i32::try_from(work_planes).unwrap_or(i32::MAX),
    }
}

/// One slicer block as an OVF vector block (coordinates in mm), with its laser if the job
/// names lasers.
fn block(b: &meltline_slicer::job::VectorBlock, q: f64, laser: Option<u8>) -> VectorBlock {
    let mm = |v: i32| (f64::from(v) * q) as f32;
    let data = match &b.geometry {
        Geometry::Polyline(v) => VectorData::LineSequence(LineSequence {
            points: v.iter().flat_map(|p| [mm(p[0]), mm(p[1])]).collect(),
        }),
        Geometry::Vectors(v) => VectorData::Hatches(Hatches {
            points: v
                .iter()
                .flat_map(|[a, c]| [mm(a[0]), mm(a[1]), mm(c[0]), mm(c[1])])
                .collect(),
        }),
    };
    let part_area = match b.kind {
        VectorKind::Contour | VectorKind::Edge => PartArea::Contour,
        VectorKind::Hatch | VectorKind::Support => PartArea::Volume,
    };
    let skin_type = match b.region {
        Region::Upskin => SkinType::UpSkin,
        Region::Downskin => SkinType::DownSkin,
        _ => SkinType::InSkin,
    };
    let structure_type = if b.kind == VectorKind::Support || b.region == Region::Support {
        StructureType::Support
    } else {
        StructureType::Part
    };
    let area = if b.region == Region::Part {
        SkinCoreStrategyArea::OuterHull
    } else {
        SkinCoreStrategyArea::Core
    };
    VectorBlock {
        marking_params_key: i32::from(b.parameter_set),
        laser_index: laser.map_or(0, i32::from),
        meta_data: Some(proto::vector_block::VectorBlockMetaData {
            part_key: PART_KEY,
            ..Default::default()
        }),
        process_meta_data: Some(proto::vector_block::ProcessMetaData::LpbfMetadata(
            LpbfMetadata {
                part_area: part_area as i32,
                skin_type: skin_type as i32,
                skin_core_strategy_area: area as i32,
                structure_type: structure_type as i32,
                reexposure: false,
            },
        )),
        vector_data: Some(data),
        ..VectorBlock::default()
    }
}
