//! `.mlj` job files for hosts (feature `std`): [`JobWriter`] turns layers of plain geometry
//! into the frame stream, [`FrameReader`] iterates the frames of a stream or file.
//!
//! ```
//! use meltline_firmware::job::{BlockSpec, Geometry, JobSpec, JobWriter};
//! use meltline_firmware::wire::{ParamSet, Region, VectorKind};
//! let spec = JobSpec {
//!     machine: "meltline-sim-250".into(),
//!     material: "Ti-6Al-4V".into(),
//!     quantum_nm: 1000,
//!     layer_thickness_nm: 30_000,
//!     layer_count: 1,
//!     param_sets: vec![ParamSet { id: 1, power_mw: 200_000, mark_speed_mm_s: 1000,
//!                                 spot_um: 80, hatch_distance_um: 100, skywriting: false }],
//! };
//! let square = vec![[0, 0], [5000, 0], [5000, 5000], [0, 5000]];
//! let layer = vec![
//!     BlockSpec { param_set: 1, kind: VectorKind::Contour, region: Region::Core,
//!                 geometry: Geometry::Polylines { lines: vec![square], closed: true } },
//!     BlockSpec { param_set: 1, kind: VectorKind::Hatch, region: Region::Core,
//!                 geometry: Geometry::Hatches((0..50).map(|i| [100, 100 * i, 4900, 100 * i]).collect()) },
//! ];
//! let (bytes, summary) = meltline_firmware::job::encode_job(&spec, &[layer]).unwrap();
//! assert_eq!(summary.layers, 1);
//! assert_eq!(summary.bytes as usize, bytes.len());
//! ```
//!
//! Splitting: each block is cut into frames of at most [`MAX_BLOCK_DATA`] payload bytes at item
//! boundaries (a hatch, a polyline, a point); a polyline too long for one frame is cut into
//! open pieces sharing their end vertices.

use std::collections::VecDeque;
use std::io::{self, Read, Write};

use crate::wire::digest::{JobDigest, LayerDigest};
use crate::wire::laser::LaserBlock;
use crate::wire::part::{Part, PartBlock, PartError, PartTable};
use crate::wire::vector::{Polyline, encode_hatches, encode_points, encode_polylines};
use crate::wire::{
    CodecError, Coding, Frame, FrameError, JobEnd, JobHeader, LayerEnd, LayerStart, MAX_BLOCK_DATA,
    MAX_FRAME, Msg, ParamSet, Region, VectorBlock, VectorKind, encode_frame, parse_body,
    unstuff_frame,
};

/// Errors while writing or reading a job stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// Writing or reading failed.
    #[error("job stream I/O: {0}")]
    Io(#[from] io::Error),
    /// A coordinate does not fit the wire's i32 quanta.
    #[error(
        "layer {layer}, block {block}, item {item}: coordinate {value} outside the i32 range of quanta"
    )]
    CoordinateRange {
        /// Layer index.
        layer: u32,
        /// Block index in the caller's layer.
        block: usize,
        /// Item (hatch, polyline, point) index.
        item: usize,
        /// The coordinate.
        value: i64,
    },
    /// A block's geometry cannot be coded (empty, polyline under 2 points).
    #[error("layer {layer}, block {block}: {source}")]
    Codec {
        /// Layer index.
        layer: u32,
        /// Block index in the caller's layer.
        block: usize,
        /// The codec's complaint.
        source: CodecError,
    },
    /// A frame could not be encoded.
    #[error("frame {seq}: {source}")]
    Frame {
        /// Sequence number.
        seq: u32,
        /// Cause.
        source: FrameError,
    },
    /// The part table, or a block's part, breaks the protocol's part rule.
    #[error("layer {layer}: {source}")]
    Part {
        /// Layer index (`u32::MAX` for the part table).
        layer: u32,
        /// Why.
        source: PartError,
    },
    /// A vector's melt track leaves the scan field.
    #[error(
        "layer {layer}, block {block}: a vector reaches {value} quanta from the plate centre, beyond the {limit} the scan field allows with its spot: the printer would refuse the job at this layer"
    )]
    OutsideField {
        /// Layer index.
        layer: u32,
        /// Block of the layer.
        block: usize,
        /// The coordinate, quanta.
        value: i64,
        /// The largest allowed, quanta.
        limit: i64,
    },
    /// A block naming a laser the machine does not have, or a job mixing blocks that name
    /// their laser with blocks that do not.
    #[error(
        "layer {layer}, block {block}: laser {laser} is not one of the machine's {lasers}, or the job mixes blocks with and without a laser"
    )]
    LaserForm {
        /// Layer index.
        layer: u32,
        /// Block of the layer.
        block: usize,
        /// The laser named (`-1` for none).
        laser: i32,
        /// The machine's lasers (0 when not known to the writer).
        lasers: usize,
    },
    /// A vector's melt track leaves the field of the laser it is given to.
    #[error(
        "layer {layer}, block {block}: a vector for laser {laser} reaches {value} quanta, beyond its field's edge at {limit}: the printer would refuse the job at this layer"
    )]
    OutsideLaserField {
        /// Layer index.
        layer: u32,
        /// Block of the layer.
        block: usize,
        /// The laser.
        laser: u8,
        /// The coordinate, quanta.
        value: i64,
        /// The edge it passed, quanta.
        limit: i64,
    },
    /// A layer needs more of the controller's layer memory than it has.
    #[error(
        "layer {layer} needs {need} bytes of the controller's layer memory, which holds {limit}: the printer would refuse the job at this layer (fewer parts on the plate, or coarser meshes and fewer vectors)"
    )]
    LayerTooLarge {
        /// Layer index.
        layer: u32,
        /// Its payload plus block records, bytes.
        need: u64,
        /// The controller's layer memory, bytes.
        limit: u64,
    },
    /// More or fewer layers written than the header announced.
    #[error("job announces {announced} layers but {written} were written")]
    LayerCount {
        /// Announced in `JobSpec::layer_count`.
        announced: u32,
        /// Written.
        written: u32,
    },
}

/// What the job is for: the `JobHeader` fields and the parameter-set table.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSpec {
    /// Machine identity.
    pub machine: String,
    /// Material name.
    pub material: String,
    /// Coordinate quantum, nm (1000 = 1 µm).
    pub quantum_nm: u32,
    /// Layer thickness, nm.
    pub layer_thickness_nm: u32,
    /// Number of layers.
    pub layer_count: u32,
    /// Parameter sets, sent in this order.
    pub param_sets: Vec<ParamSet>,
}

/// One part of a plate job (the wire's [`Part`], owned): serial, case, placement and the
/// footprint box its vectors keep to, in quanta.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartSpec {
    /// Serial number, unique on the plate.
    pub serial: String,
    /// Patient or case reference (may be empty).
    pub case: String,
    /// Centre of the placed footprint `[x, y]`, quanta.
    pub centre: [i32; 2],
    /// Rotation about z, millidegrees.
    pub rotation_mdeg: i32,
    /// `[min_x, min_y, max_x, max_y]`, quanta.
    pub footprint: [i32; 4],
}

impl PartSpec {
    /// The wire message of part `index`.
    pub fn wire(&self, index: u16) -> Part<'_> {
        Part {
            index,
            serial: &self.serial,
            case: &self.case,
            x: self.centre[0],
            y: self.centre[1],
            rotation_mdeg: self.rotation_mdeg,
            footprint: self.footprint,
        }
    }
}

/// Geometry of one block in quanta.
#[derive(Clone, Debug, PartialEq)]
pub enum Geometry {
    /// Hatch lines `[x1, y1, x2, y2]`, in scan order.
    Hatches(Vec<[i64; 4]>),
    /// Polylines; `closed` adds the segment back to each one's first vertex.
    Polylines {
        /// Vertex lists.
        lines: Vec<Vec<[i64; 2]>>,
        /// Whether the polylines are closed.
        closed: bool,
    },
    /// Point exposures.
    Points(Vec<[i64; 2]>),
}

/// One block of a layer: parameter set, kind, region and geometry.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockSpec {
    /// Parameter set id.
    pub param_set: u16,
    /// What the vectors are.
    pub kind: VectorKind,
    /// Region.
    pub region: Region,
    /// Geometry in quanta.
    pub geometry: Geometry,
}

/// Counts of what was written, for reports and the bytes-per-vector benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobSummary {
    /// The job hash (also in `JobEnd`).
    pub job_sha256: [u8; 32],
    /// Frames written.
    pub frames: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Layers written.
    pub layers: u32,
    /// Segments (vectors) written.
    pub vectors: u64,
    /// Hatch lines written.
    pub hatches: u64,
    /// Payload bytes of hatch-coded blocks.
    pub hatch_bytes: u64,
    /// Polyline vertices written.
    pub vertices: u64,
    /// Payload bytes of polyline-coded blocks.
    pub polyline_bytes: u64,
}

/// The machine's laser count and, per laser and parameter set, the box its vectors keep to.
type LaserLimits = (usize, Vec<(u8, u16, [i64; 4])>);

/// Writes a job as a frame stream: header and parameter sets on creation, then one call per
/// layer, then [`JobWriter::finish`].
pub struct JobWriter<W: Write> {
    out: W,
    seq: u32,
    digest: JobDigest,
    announced: u32,
    summary: JobSummary,
    parts: Box<PartTable>,
    /// Vectors outside their part's footprint are written anyway (see
    /// [`JobWriter::unchecked_footprints`]).
    unchecked_footprints: bool,
    /// The most controller layer memory a layer may take (see [`JobWriter::limit_layers`]).
    layer_limit: u64,
    /// Coordinate quantum and each parameter set's spot, for [`JobWriter::limit_field`].
    quantum_nm: u32,
    spots: Vec<(u16, u32)>,
    /// Per parameter set, the largest |coordinate| in quanta (see [`JobWriter::limit_field`]).
    field_limits: Option<Vec<(u16, i64)>>,
    /// Per laser and parameter set, the box its vectors keep to (see
    /// [`JobWriter::limit_lasers`]), and the machine's laser count.
    laser_limits: Option<LaserLimits>,
    /// Whether the job's blocks name their lasers (fixed by the first block).
    form: crate::wire::BlockForm,
    frame: Box<[u8; MAX_FRAME]>,
}

/// A block as it travels, its vectors coded, owning its bytes (and naming its part in a plate
/// job): what [`JobWriter::write_coded_layer`] takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodedBlock {
    /// The laser that exposes it (`None` in a job whose blocks name no laser).
    pub laser: Option<u8>,
    /// The part it belongs to (`None` in a job without parts).
    pub part: Option<u16>,
    /// Parameter set id.
    pub param_set: u16,
    /// What the vectors are.
    pub kind: VectorKind,
    /// Region.
    pub region: Region,
    /// How the vectors are coded.
    pub coding: Coding,
    /// Vectors in it.
    pub vectors: u32,
    /// The coded vectors.
    pub data: Vec<u8>,
}

impl CodedBlock {
    /// A copy of `b`, belonging to `part`.
    pub fn of(part: Option<u16>, b: &VectorBlock<'_>) -> Self {
        Self {
            laser: None,
            part,
            param_set: b.param_set,
            kind: b.kind,
            region: b.region,
            coding: b.coding,
            vectors: b.vectors,
            data: b.data.to_vec(),
        }
    }

    /// The block as a wire message borrows it.
    pub fn view(&self) -> VectorBlock<'_> {
        VectorBlock {
            param_set: self.param_set,
            kind: self.kind,
            region: self.region,
            coding: self.coding,
            vectors: self.vectors,
            data: &self.data,
        }
    }
}

fn to_i32(v: i64, layer: u32, block: usize, item: usize) -> Result<i32, JobError> {
    i32::try_from(v).map_err(|_| JobError::CoordinateRange {
        layer,
        block,
        item,
        value: v,
    })
}

/// A block of the caller's layer being coded: where it is (for errors) and its header fields.
struct BlockAt<'a> {
    layer: u32,
    block: usize,
    laser: Option<u8>,
    part: Option<u16>,
    spec: &'a BlockSpec,
}

impl BlockAt<'_> {
    /// A coordinate of item `item` in quanta, or [`JobError::CoordinateRange`].
    fn coord(&self, v: i64, item: usize) -> Result<i32, JobError> {
        to_i32(v, self.layer, self.block, item)
    }

    /// The codec's complaint about this block.
    fn codec(&self, source: CodecError) -> JobError {
        JobError::Codec {
            layer: self.layer,
            block: self.block,
            source,
        }
    }

    /// Appends one frame's worth of this block.
    fn push(&self, coded: &mut Vec<CodedBlock>, coding: Coding, vectors: u32, data: &[u8]) {
        coded.push(CodedBlock {
            laser: self.laser,
            part: self.part,
            param_set: self.spec.param_set,
            kind: self.spec.kind,
            region: self.spec.region,
            coding,
            vectors,
            data: data.to_vec(),
        });
    }
}

/// Points: converted to quanta, then cut into frames at point boundaries.
fn code_points(
    at: &BlockAt<'_>,
    p: &[[i64; 2]],
    buf: &mut [u8],
    coded: &mut Vec<CodedBlock>,
) -> Result<(), JobError> {
    let mut ps = Vec::with_capacity(p.len());
    for (i, v) in p.iter().enumerate() {
        ps.push([at.coord(v[0], i)?, at.coord(v[1], i)?]);
    }
    let mut rest = &ps[..];
    while !rest.is_empty() {
        let e = encode_points(rest, buf).map_err(|s| at.codec(s))?;
        at.push(
            coded,
            Coding::Points,
            e.vectors,
            buf.get(..e.bytes).unwrap_or(&[]),
        );
        rest = rest.get(e.items..).unwrap_or(&[]);
    }
    Ok(())
}

/// Cuts the first piece, too long for one frame, into two open halves sharing the middle
/// vertex (a closed piece first gets its closing vertex). `Ok(false)` when there is no piece;
/// [`CodecError::BufferTooSmall`] when the piece cannot be halved (under 3 vertices).
fn halve_front(pieces: &mut VecDeque<(Vec<[i32; 2]>, bool)>) -> Result<bool, CodecError> {
    let Some((mut p, c)) = pieces.pop_front() else {
        return Ok(false);
    };
    if c && let Some(first) = p.first().copied() {
        p.push(first);
    }
    if p.len() < 3 {
        return Err(CodecError::BufferTooSmall);
    }
    let mid = p.len() / 2;
    let tail = p.get(mid..).unwrap_or(&[]).to_vec();
    p.truncate(mid + 1);
    pieces.push_front((tail, false));
    pieces.push_front((p, false));
    Ok(true)
}

impl<W: Write> JobWriter<W> {
    /// Writes the `JobHeader` (without an up-front hash) and the parameter sets.
    pub fn new(out: W, spec: &JobSpec) -> Result<Self, JobError> {
        Self::with_hash(out, spec, None)
    }

    /// As [`JobWriter::new`], announcing the job hash in the header (see [`encode_job`]).
    pub fn with_hash(
        out: W,
        spec: &JobSpec,
        job_sha256: Option<[u8; 32]>,
    ) -> Result<Self, JobError> {
        Self::with_parts(out, spec, &[], job_sha256)
    }

    /// A plate job: the header, the parameter sets and the part table (`Part` 0, 1, …); its
    /// layers are written with [`JobWriter::write_part_layer`].
    pub fn with_parts(
        out: W,
        spec: &JobSpec,
        parts: &[PartSpec],
        job_sha256: Option<[u8; 32]>,
    ) -> Result<Self, JobError> {
        let header = JobHeader {
            machine: &spec.machine,
            material: &spec.material,
            quantum_nm: spec.quantum_nm,
            layer_thickness_nm: spec.layer_thickness_nm,
            layer_count: spec.layer_count,
            param_sets: u16::try_from(spec.param_sets.len()).unwrap_or(u16::MAX),
            job_sha256,
        };
        let mut w = Self {
            out,
            seq: 0,
            digest: JobDigest::new(&header),
            announced: spec.layer_count,
            summary: JobSummary::default(),
            parts: Box::default(),
            unchecked_footprints: false,
            layer_limit: u64::MAX,
            quantum_nm: spec.quantum_nm,
            spots: spec.param_sets.iter().map(|p| (p.id, p.spot_um)).collect(),
            field_limits: None,
            laser_limits: None,
            form: crate::wire::BlockForm::new(),
            frame: Box::new([0; MAX_FRAME]),
        };
        w.emit(&Msg::JobHeader(header))?;
        for p in &spec.param_sets {
            w.digest.param_set(p);
            w.emit(&Msg::ParamSet(*p))?;
        }
        for (i, p) in parts.iter().enumerate() {
            let part = p.wire(u16::try_from(i).unwrap_or(u16::MAX));
            w.parts.add(&part).map_err(|source| JobError::Part {
                layer: u32::MAX,
                source,
            })?;
            w.digest.part(&part);
            w.emit(&Msg::Part(part))?;
        }
        Ok(w)
    }

    fn emit(&mut self, msg: &Msg<'_>) -> Result<(), JobError> {
        let n =
            encode_frame(self.seq, msg, &mut self.frame[..]).map_err(|source| JobError::Frame {
                seq: self.seq,
                source,
            })?;
        self.out.write_all(self.frame.get(..n).unwrap_or(&[]))?;
        self.seq += 1;
        self.summary.frames += 1;
        self.summary.bytes += n as u64;
        Ok(())
    }

    /// Codes, splits and writes the next layer (`LayerStart`, blocks, `LayerEnd`) of a job
    /// without parts.
    pub fn write_layer(&mut self, blocks: &[BlockSpec]) -> Result<(), JobError> {
        self.write_blocks(blocks.iter().map(|b| (None, None, b)))
    }

    /// The next layer of a plate job: each block with the index of its part.
    pub fn write_part_layer(&mut self, blocks: &[(u16, BlockSpec)]) -> Result<(), JobError> {
        self.write_blocks(blocks.iter().map(|(p, b)| (None, Some(*p), b)))
    }

    /// The next layer of a job planned for a machine's lasers: each block with the laser that
    /// exposes it and its part (`Some` exactly in a plate job), written as `LaserBlock`s.
    pub fn write_laser_layer(
        &mut self,
        blocks: &[(u8, Option<u16>, BlockSpec)],
    ) -> Result<(), JobError> {
        self.write_blocks(blocks.iter().map(|(l, p, b)| (Some(*l), *p, b)))
    }

    fn write_blocks<'b>(
        &mut self,
        blocks: impl Iterator<Item = (Option<u8>, Option<u16>, &'b BlockSpec)>,
    ) -> Result<(), JobError> {
        let layer = self.summary.layers;
        if layer >= self.announced {
            return Err(JobError::LayerCount {
                announced: self.announced,
                written: layer + 1,
            });
        }
        let mut coded = Vec::new();
        for (bi, (laser, part, b)) in blocks.enumerate() {
            self.parts
                .check_block(part)
                .map_err(|source| JobError::Part { layer, source })?;
            self.check_laser(layer, bi, laser)?;
            let at = BlockAt {
                layer,
                block: bi,
                laser,
                part,
                spec: b,
            };
            let from = coded.len();
            self.code_block(&at, &mut coded)?;
            for c in coded.get(from..).unwrap_or(&[]) {
                self.check_points(layer, bi, c, false)?;
            }
        }
        self.emit_layer(&coded)
    }

    /// Writes the next layer from blocks already coded (e.g. read back from a job file of one
    /// part), each naming its part in a plate job; the blocks are checked as
    /// [`JobWriter::write_part_layer`] checks them (and decoded whole), not coded again.
    pub fn write_coded_layer(&mut self, coded: &[CodedBlock]) -> Result<(), JobError> {
        let layer = self.summary.layers;
        if layer >= self.announced {
            return Err(JobError::LayerCount {
                announced: self.announced,
                written: layer + 1,
            });
        }
        for (bi, c) in coded.iter().enumerate() {
            self.parts
                .check_block(c.part)
                .map_err(|source| JobError::Part { layer, source })?;
            self.check_laser(layer, bi, c.laser)?;
            self.check_points(layer, bi, c, true)?;
        }
        self.emit_layer(coded)
    }

    /// The block form rule ([`crate::wire::BlockForm`]) and, once the machine is known
    /// ([`JobWriter::limit_lasers`]), the laser's existence: the controller's `LaserForm`.
    fn check_laser(&mut self, layer: u32, block: usize, laser: Option<u8>) -> Result<(), JobError> {
        let lasers = self.laser_limits.as_ref().map_or(0, |(n, _)| *n);
        let refused = JobError::LaserForm {
            layer,
            block,
            laser: laser.map_or(-1, i32::from),
            lasers,
        };
        self.form.check(laser).map_err(|_| refused)?;
        if lasers > 0
            && let Some(l) = laser
            && usize::from(l) >= lasers
        {
            return Err(JobError::LaserForm {
                layer,
                block,
                laser: l.into(),
                lasers,
            });
        }
        Ok(())
    }

    /// Decodes block `c` (number `bi` of `layer`) when it names a part whose footprint is
    /// checked, or when `always`: every vector end of a part's block must lie in its part's
    /// footprint.
    fn check_points(
        &self,
        layer: u32,
        bi: usize,
        c: &CodedBlock,
        always: bool,
    ) -> Result<(), JobError> {
        let footprint = c.part.is_some() && !self.unchecked_footprints;
        // A block of an unknown parameter set is the controller's `UnknownParamSet`, not this.
        let field = self.field_limits.as_ref().and_then(|limits| {
            limits
                .iter()
                .find(|(id, _)| *id == c.param_set)
                .map(|(_, l)| *l)
        });
        // A block naming no laser is the first laser's on a machine of several.
        let laser = match (c.laser, &self.laser_limits) {
            (Some(l), _) => Some(l),
            (None, Some((n, _))) if *n > 1 => Some(0),
            _ => None,
        };
        let laser_field = laser.and_then(|l| {
            self.laser_limits.as_ref().and_then(|(_, limits)| {
                limits
                    .iter()
                    .find(|(ll, id, _)| *ll == l && *id == c.param_set)
                    .map(|(_, _, f)| *f)
            })
        });
        if !footprint && !always && field.is_none() && laser_field.is_none() {
            return Ok(());
        }
        for seg in c.view().segments() {
            let seg = seg.map_err(|source| JobError::Codec {
                layer,
                block: bi,
                source,
            })?;
            if footprint {
                for pt in [seg.from, seg.to] {
                    self.parts
                        .check_point(c.part, pt)
                        .map_err(|source| JobError::Part { layer, source })?;
                }
            }
            if let (Some(f), Some(laser)) = (laser_field, laser) {
                for pt in [seg.from, seg.to] {
                    crate::limits::check_laser_point(f, pt.x, pt.y).map_err(|v| {
                        JobError::OutsideLaserField {
                            layer,
                            block: bi,
                            laser,
                            value: v.value,
                            limit: v.limit,
                        }
                    })?;
                }
            }
            if let Some(limit) = field {
                for pt in [seg.from, seg.to] {
                    for v in [pt.x, pt.y] {
                        if i64::from(v).abs() > limit {
                            return Err(JobError::OutsideField {
                                layer,
                                block: bi,
                                value: v.into(),
                                limit,
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// From here on, writes vectors outside their part's footprint instead of refusing them:
    /// for making the jobs a verifier or a controller must refuse (tests, fuzzing corpora).
    pub fn unchecked_footprints(&mut self) {
        self.unchecked_footprints = true;
    }

    /// From here on, refuses a layer that needs more than `bytes` of the controller's layer
    /// memory (its payload plus [`crate::controller::BLOCK_HEADER`] per block, as the
    /// controller counts it at `LayerStart`): the printer would refuse the whole job there.
    pub fn limit_layers(&mut self, bytes: usize) {
        self.layer_limit = bytes as u64;
    }

    /// From here on, refuses a vector whose melt track (half its parameter set's spot either
    /// side) would leave a square scan field of half side `field_half_um`: the controller's
    /// `OutsideField` rule ([`crate::limits::field_limit_quanta`]), applied before writing.
    pub fn limit_field(&mut self, field_half_um: u32) {
        let config = crate::machine::MachineConfig {
            field_half_um,
            ..crate::machine::MachineConfig::default()
        };
        self.field_limits = Some(
            self.spots
                .iter()
                .map(|&(id, spot)| {
                    (
                        id,
                        crate::limits::field_limit_quanta(&config, self.quantum_nm, spot),
                    )
                })
                .collect(),
        );
    }

    /// From here on, refuses a block naming a laser `machine` does not have and a vector whose
    /// melt track leaves its laser's field (a block naming none is the first laser's on a
    /// machine of several): the controller's `LaserForm` and `OutsideLaserField` rules ([`crate::limits::laser_field_quanta`]), applied before
    /// writing.
    pub fn limit_lasers(&mut self, machine: &crate::machine::MachineConfig) {
        let mut limits = Vec::new();
        for l in 0..machine.laser_count() {
            let Ok(l) = u8::try_from(l) else { break };
            for &(id, spot) in &self.spots {
                if let Some(f) =
                    crate::limits::laser_field_quanta(machine, l, self.quantum_nm, spot)
                {
                    limits.push((l, id, f));
                }
            }
        }
        self.laser_limits = Some((machine.laser_count(), limits));
    }

    /// Emits one layer of checked, coded blocks (`LayerStart`, the blocks, `LayerEnd` with its
    /// digest).
    fn emit_layer(&mut self, coded: &[CodedBlock]) -> Result<(), JobError> {
        let layer = self.summary.layers;
        let payload: usize = coded.iter().map(|c| c.data.len()).sum();
        let need = payload as u64 + coded.len() as u64 * crate::controller::BLOCK_HEADER as u64;
        if need > self.layer_limit {
            return Err(JobError::LayerTooLarge {
                layer,
                need,
                limit: self.layer_limit,
            });
        }
        self.emit(&Msg::LayerStart(LayerStart {
            layer,
            blocks: coded.len() as u32,
            payload_bytes: payload as u32,
        }))?;
        let mut digest = LayerDigest::new(layer);
        for c in coded {
            let vb = c.view();
            digest.block(c.laser, c.part, &vb);
            match (c.laser, c.part) {
                (Some(laser), part) => self.emit(&Msg::LaserBlock(LaserBlock {
                    laser,
                    part,
                    block: vb,
                }))?,
                (None, None) => self.emit(&Msg::VectorBlock(vb))?,
                (None, Some(part)) => self.emit(&Msg::PartBlock(PartBlock { part, block: vb }))?,
            }
            self.summary.vectors += u64::from(c.vectors);
        }
        let digest = digest.finish();
        self.digest.layer(&digest);
        self.emit(&Msg::LayerEnd(LayerEnd { layer, digest }))?;
        self.summary.layers += 1;
        Ok(())
    }

    /// Codes one block of the caller's layer into frame-sized [`CodedBlock`]s.
    fn code_block(
        &mut self,
        at: &BlockAt<'_>,
        coded: &mut Vec<CodedBlock>,
    ) -> Result<(), JobError> {
        let mut buf = vec![0u8; MAX_BLOCK_DATA];
        match &at.spec.geometry {
            Geometry::Hatches(h) => self.code_hatches(at, h, &mut buf, coded),
            Geometry::Points(p) => code_points(at, p, &mut buf, coded),
            Geometry::Polylines { lines, closed } => {
                self.code_polylines(at, lines, *closed, &mut buf, coded)
            }
        }
    }

    /// Hatches: converted to quanta, then cut into frames at hatch boundaries.
    fn code_hatches(
        &mut self,
        at: &BlockAt<'_>,
        h: &[[i64; 4]],
        buf: &mut [u8],
        coded: &mut Vec<CodedBlock>,
    ) -> Result<(), JobError> {
        let mut hs = Vec::with_capacity(h.len());
        for (i, v) in h.iter().enumerate() {
            hs.push([
                at.coord(v[0], i)?,
                at.coord(v[1], i)?,
                at.coord(v[2], i)?,
                at.coord(v[3], i)?,
            ]);
        }
        let mut rest = &hs[..];
        while !rest.is_empty() {
            let e = encode_hatches(rest, buf).map_err(|s| at.codec(s))?;
            at.push(
                coded,
                Coding::Hatches,
                e.vectors,
                buf.get(..e.bytes).unwrap_or(&[]),
            );
            self.summary.hatches += e.items as u64;
            self.summary.hatch_bytes += e.bytes as u64;
            rest = rest.get(e.items..).unwrap_or(&[]);
        }
        Ok(())
    }

    /// Polylines: converted to quanta and cut into frames at polyline boundaries; a polyline
    /// too long for one frame is halved into open pieces (see [`halve_front`]).
    fn code_polylines(
        &mut self,
        at: &BlockAt<'_>,
        lines: &[Vec<[i64; 2]>],
        closed: bool,
        buf: &mut [u8],
        coded: &mut Vec<CodedBlock>,
    ) -> Result<(), JobError> {
        // Owned pieces: (points, closed).
        let mut pieces: VecDeque<(Vec<[i32; 2]>, bool)> = VecDeque::new();
        for (i, l) in lines.iter().enumerate() {
            let pts = l
                .iter()
                .map(|v| Ok([at.coord(v[0], i)?, at.coord(v[1], i)?]))
                .collect::<Result<Vec<_>, JobError>>()?;
            pieces.push_back((pts, closed));
        }
        while !pieces.is_empty() {
            let view: Vec<Polyline<'_>> = pieces
                .iter()
                .map(|(p, c)| Polyline {
                    points: p,
                    closed: *c,
                })
                .collect();
            match encode_polylines(&view, buf) {
                Ok(e) => {
                    at.push(
                        coded,
                        Coding::Polylines,
                        e.vectors,
                        buf.get(..e.bytes).unwrap_or(&[]),
                    );
                    self.summary.polyline_bytes += e.bytes as u64;
                    for _ in 0..e.items {
                        if let Some((p, _)) = pieces.pop_front() {
                            self.summary.vertices += p.len() as u64;
                        }
                    }
                }
                Err(CodecError::BufferTooSmall) => {
                    if !halve_front(&mut pieces).map_err(|s| at.codec(s))? {
                        break;
                    }
                }
                Err(e) => return Err(at.codec(e)),
            }
        }
        Ok(())
    }

    /// Writes `JobEnd` and returns the output and what was written.
    pub fn finish(mut self) -> Result<(W, JobSummary), JobError> {
        if self.summary.layers != self.announced {
            return Err(JobError::LayerCount {
                announced: self.announced,
                written: self.summary.layers,
            });
        }
        let hash = self.digest.clone().finish();
        self.emit(&Msg::JobEnd(JobEnd {
            layers: self.summary.layers,
            job_sha256: hash,
        }))?;
        self.out.flush()?;
        self.summary.job_sha256 = hash;
        Ok((self.out, self.summary))
    }
}

/// Encodes a whole in-memory job, announcing its hash in the header (two passes).
pub fn encode_job(
    spec: &JobSpec,
    layers: &[Vec<BlockSpec>],
) -> Result<(Vec<u8>, JobSummary), JobError> {
    let mut probe = JobWriter::new(io::sink(), spec)?;
    for l in layers {
        probe.write_layer(l)?;
    }
    let (_, first) = probe.finish()?;
    let mut w = JobWriter::with_hash(Vec::new(), spec, Some(first.job_sha256))?;
    for l in layers {
        w.write_layer(l)?;
    }
    w.finish()
}

/// One frame as read from a stream: its wire bytes and position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame {
    /// Ordinal of the frame in the stream.
    pub index: u64,
    /// Byte offset where it starts.
    pub offset: u64,
    /// Wire bytes, delimiter included.
    pub wire: Vec<u8>,
}

impl RawFrame {
    /// Decodes the frame into `scratch` (reused by the caller); the frame borrows `scratch`.
    pub fn decode<'s>(&self, scratch: &'s mut Vec<u8>) -> Result<Frame<'s>, FrameError> {
        decode_wire(&self.wire, scratch)
    }
}

/// Decodes a frame's wire bytes (delimiter included or not) into `scratch`, reused by the
/// caller; the frame borrows `scratch`.
pub fn decode_wire<'s>(wire: &[u8], scratch: &'s mut Vec<u8>) -> Result<Frame<'s>, FrameError> {
    scratch.clear();
    scratch.extend_from_slice(wire.strip_suffix(&[0]).unwrap_or(wire));
    parse_body(unstuff_frame(scratch)?)
}

/// Iterates the frames of a byte stream (a `.mlj` file, a socket), splitting at delimiters.
pub struct FrameReader<R: Read> {
    inner: io::BufReader<R>,
    index: u64,
    offset: u64,
}

impl<R: Read> FrameReader<R> {
    /// Reads frames from `r`.
    pub fn new(r: R) -> Self {
        Self {
            inner: io::BufReader::new(r),
            index: 0,
            offset: 0,
        }
    }
}

impl<R: Read> Iterator for FrameReader<R> {
    type Item = io::Result<RawFrame>;

    fn next(&mut self) -> Option<Self::Item> {
        use io::BufRead;
        loop {
            let mut wire = Vec::new();
            match self.inner.read_until(0, &mut wire) {
                Ok(0) => return None,
                Ok(n) => {
                    let offset = self.offset;
                    self.offset += n as u64;
                    if wire == [0] {
                        continue;
                    }
                    let index = self.index;
                    self.index += 1;
                    return Some(Ok(RawFrame {
                        index,
                        offset,
                        wire,
                    }));
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
