//! A `.mlj` job file read back and proven intact before a job is streamed, simulated or
//! inspected: every frame's CRC and sequence number here, and the message order, every block's
//! payload, every layer digest and the job hash by the firmware's own job verifier
//! ([`meltline_firmware::wire::verify`]). Errors name the frame and its byte offset.

use std::path::Path;

use meltline_firmware::job::{FrameReader, RawFrame, decode_wire};
use meltline_firmware::machine::{LayerTiming, MachineConfig, ScanHead, recoat_ticks};
use meltline_firmware::wire::verify::{Expect, JobVerifier, Step, VerifyError};
use meltline_firmware::wire::{
    FrameError, MAX_FRAME, Msg, ParamSet, Segment, VectorKind, encode_frame,
};
use serde::Serialize;

/// Parameter sets a job file may hold (far above what a controller holds, so that the printer,
/// not the reader, refuses a job with too many).
const MAX_PARAM_SETS: usize = 1024;

/// Why a job file is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobFileError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A frame does not decode (COBS, CRC, message).
    #[error("{path}: frame {index} at byte offset {offset} is corrupted: {source}")]
    Frame {
        /// The file.
        path: String,
        /// Frame ordinal.
        index: u64,
        /// Byte offset of the frame.
        offset: u64,
        /// Cause.
        source: FrameError,
    },
    /// A message out of place or inconsistent with its header.
    #[error("{path}: frame {index} at byte offset {offset}: {what}")]
    Structure {
        /// The file.
        path: String,
        /// Frame ordinal.
        index: u64,
        /// Byte offset of the frame.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// The file ends before `JobEnd`.
    #[error("{path}: truncated after {frames} frames ({layers} complete layers): no JobEnd")]
    Truncated {
        /// The file.
        path: String,
        /// Frames read.
        frames: u64,
        /// Layers complete.
        layers: u32,
    },
}

/// One part of a plate job as its part table declares it, with what the job holds of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PartInfo {
    /// Index in the part table.
    pub index: u16,
    /// Serial number.
    pub serial: String,
    /// Patient or case reference.
    pub case: String,
    /// Centre of the placed footprint, mm.
    pub x_mm: f64,
    /// Centre of the placed footprint, mm.
    pub y_mm: f64,
    /// Rotation about z, degrees.
    pub rotation_deg: f64,
    /// The box its vectors keep to, `[min_x, min_y, max_x, max_y]` mm.
    pub footprint_mm: [f64; 4],
    /// First and last layer holding its vectors (absent if none).
    pub layers: Option<[u32; 2]>,
    /// Its vectors.
    pub vectors: u64,
    /// Its vectors per layer, from layer 0.
    #[serde(skip)]
    pub per_layer: Vec<u64>,
}

/// Per-layer figures of a job file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LayerInfo {
    /// Layer index.
    pub layer: u32,
    /// Index of its `LayerStart` frame in the file.
    pub first_frame: u64,
    /// Frames of the layer (`LayerStart` … `LayerEnd`).
    pub frames: u64,
    /// Wire bytes of those frames.
    pub bytes: u64,
    /// Vector blocks.
    pub blocks: u32,
    /// Segments (vectors) to mark.
    pub vectors: u64,
    /// Segments by kind (contour, hatch, edge, support, point); JSON labels each count.
    #[serde(serialize_with = "labelled_kinds")]
    pub vectors_by_kind: [u64; 5],
    /// Marked length, mm.
    pub mark_length_mm: f64,
    /// Estimated time on the machine model (marks, jumps, delays, recoat), s.
    pub est_time_s: f64,
    /// Of that, the laser's exposure: marks, jumps and delays without the recoat, s.
    pub exposure_s: f64,
    /// Estimated laser energy, J.
    pub est_energy_j: f64,
    /// Layer digest, hex.
    pub digest: String,
}

/// A verified job file.
#[derive(Debug, Clone)]
pub struct JobFile {
    /// Where it came from (for messages).
    pub name: String,
    /// Machine identity in the header.
    pub machine: String,
    /// Material in the header.
    pub material: String,
    /// Coordinate quantum, nm.
    pub quantum_nm: u32,
    /// Layer thickness, nm.
    pub layer_thickness_nm: u32,
    /// Hash announced in the header, if any.
    pub header_sha256: Option<[u8; 32]>,
    /// Parameter sets in order.
    pub param_sets: Vec<ParamSet>,
    /// Per-layer figures.
    pub layers: Vec<LayerInfo>,
    /// The job hash (recomputed, equal to `JobEnd`'s).
    pub job_sha256: [u8; 32],
    /// SHA-256 of the file bytes.
    pub file_sha256: [u8; 32],
    /// The frames as in the file (wire bytes, delimiter included).
    pub frames: Vec<Vec<u8>>,
    /// Layer of each frame (`None` for header, parameter sets and `JobEnd`).
    pub frame_layer: Vec<Option<u32>>,
    /// Total bytes.
    pub bytes: u64,
    /// The job carries a `Release` (see `meltline release`).
    pub released: bool,
    /// The machine model the estimates were made with.
    pub est_machine: String,
    /// The part table of a plate job (empty for one part).
    pub parts: Vec<PartInfo>,
    /// Whether the job's blocks name the laser that exposes them (planned for a machine's
    /// lasers).
    pub names_lasers: bool,
    /// Per laser the job names (one, laser 0, for a job whose blocks name none): its vectors
    /// and its estimated marks, jumps and delays.
    pub lasers: Vec<LaserTotals>,
}

/// One laser's share of a job, as estimated on the machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LaserTotals {
    /// The laser's index.
    pub index: usize,
    /// Vectors given to it.
    pub vectors: u64,
    /// Its marks, jumps and delays over the job, s.
    pub exposure_s: f64,
}

/// Vector counts by kind as a JSON object keyed by kind name.
fn labelled_kinds<S: serde::Serializer>(counts: &[u64; 5], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(KIND_NAMES.len()))?;
    for (name, n) in KIND_NAMES.iter().zip(counts) {
        map.serialize_entry(name, n)?;
    }
    map.end()
}

/// Names of the vector kinds in wire order (`VectorKind as usize`).
pub const KIND_NAMES: [&str; 5] = ["contour", "hatch", "edge", "support", "point"];

/// Lowercase hex of bytes (the firmware's one encoder).
pub use meltline_firmware::hex::encode as hex;

/// A job file being read: what is known so far, the scan head estimating the open layer's
/// time, and the open layer.
struct Reading<'m> {
    job: JobFile,
    machine: &'m MachineConfig,
    /// One scan head per laser named so far (the lasers work at once).
    heads: Vec<ScanHead>,
    open: Option<LayerInfo>,
}

impl Reading<'_> {
    /// Decodes one frame, feeds it to the verifier and records what it says; returns the
    /// layer the frame belongs to.
    fn frame<const N: usize>(
        &mut self,
        raw: &RawFrame,
        scratch: &mut Vec<u8>,
        verifier: &mut JobVerifier<N>,
    ) -> Result<Option<u32>, JobFileError> {
        let (index, offset) = (raw.index, raw.offset);
        let path = self.job.name.clone();
        let structure = |what: String| JobFileError::Structure {
            path: path.clone(),
            index,
            offset,
            what,
        };
        if verifier.expecting() == Expect::Ended {
            return Err(structure(VerifyError::AfterEnd.to_string()));
        }
        let frame = raw.decode(scratch).map_err(|source| JobFileError::Frame {
            path: path.clone(),
            index,
            offset,
            source,
        })?;
        if u64::from(frame.seq) != index {
            return Err(structure(format!(
                "sequence number {} where {index} was expected",
                frame.seq
            )));
        }
        let laser = frame.msg.laser().map_or(0, usize::from);
        while self.heads.len() <= laser && self.job.quantum_nm > 0 {
            let galvo = self
                .machine
                .laser(self.heads.len())
                .map_or(self.machine.galvo, |l| l.galvo);
            self.heads.push(ScanHead::new(galvo, self.job.quantum_nm));
        }
        let head = &mut self.heads.get_mut(laser);
        let step = verifier
            .feed(&frame.msg, &mut |s, p| {
                if let Some(h) = head.as_mut() {
                    h.mark(s, p);
                }
            })
            .map_err(|e| structure(e.to_string()))?;
        Ok(self.record(step, &frame.msg, index))
    }

    /// Records one verified step.
    fn record(&mut self, step: Step, msg: &Msg<'_>, index: u64) -> Option<u32> {
        match (step, msg) {
            (Step::Header, Msg::JobHeader(h)) => {
                self.job.machine = h.machine.to_string();
                self.job.material = h.material.to_string();
                self.job.quantum_nm = h.quantum_nm;
                self.job.layer_thickness_nm = h.layer_thickness_nm;
                self.job.header_sha256 = h.job_sha256;
                let galvo = self
                    .machine
                    .laser(0)
                    .map_or(self.machine.galvo, |l| l.galvo);
                self.heads = vec![ScanHead::new(galvo, h.quantum_nm)];
                None
            }
            (Step::LayerStart { layer }, _) => {
                self.open = Some(LayerInfo {
                    layer,
                    first_frame: index,
                    ..LayerInfo::default()
                });
                Some(layer)
            }
            (Step::Part { .. }, Msg::Part(p)) => {
                let mm = |q: i32| f64::from(q) * f64::from(self.job.quantum_nm) * 1e-6;
                let [x0, y0, x1, y1] = p.footprint;
                self.job.parts.push(PartInfo {
                    index: p.index,
                    serial: p.serial.to_string(),
                    case: p.case.to_string(),
                    x_mm: mm(p.x),
                    y_mm: mm(p.y),
                    rotation_deg: f64::from(p.rotation_mdeg) / 1000.0,
                    footprint_mm: [mm(x0), mm(y0), mm(x1), mm(y1)],
                    layers: None,
                    vectors: 0,
                    per_layer: Vec::new(),
                });
                None
            }
            (
                Step::Block {
                    layer,
                    vectors,
                    part,
                    laser,
                },
                m,
            ) => {
                self.job.names_lasers = laser.is_some();
                let l = laser.map_or(0, usize::from);
                while self.job.lasers.len() <= l {
                    let index = self.job.lasers.len();
                    self.job.lasers.push(LaserTotals {
                        index,
                        ..LaserTotals::default()
                    });
                }
                if let Some(t) = self.job.lasers.get_mut(l) {
                    t.vectors += vectors;
                }
                if let Some(info) = part.and_then(|i| self.job.parts.get_mut(usize::from(i))) {
                    info.vectors += vectors;
                    let first = info.layers.map_or(layer, |[f, _]| f);
                    info.layers = Some([first, layer]);
                    let at = layer as usize;
                    if info.per_layer.len() <= at {
                        info.per_layer.resize(at + 1, 0);
                    }
                    if let Some(n) = info.per_layer.get_mut(at) {
                        *n += vectors;
                    }
                }
                let kind = m.block().map(|(_, b)| b.kind as usize);
                if let Some(info) = self.open.as_mut() {
                    info.vectors += vectors;
                    if let Some(k) = kind.and_then(|k| info.vectors_by_kind.get_mut(k)) {
                        *k += vectors;
                    }
                    info.blocks += 1;
                }
                Some(layer)
            }
            (Step::LayerLink { layer }, _) => Some(layer),
            (Step::LayerEnd { layer, digest }, _) => {
                self.close_layer(&digest, index);
                Some(layer)
            }
            (Step::JobEnd { job_sha256 }, _) => {
                self.job.job_sha256 = job_sha256;
                None
            }
            _ => None,
        }
    }

    /// Closes the open layer with its estimate and digest.
    fn close_layer(&mut self, digest: &[u8; 32], index: u64) {
        let per: Vec<LayerTiming> = self.heads.iter_mut().map(ScanHead::finish_layer).collect();
        for (i, p) in per.iter().enumerate() {
            if let Some(t) = self.job.lasers.get_mut(i) {
                t.exposure_s += meltline_firmware::sim::report::seconds(p.exposure_ticks());
            }
        }
        let mut t = LayerTiming::concurrent(&per);
        let exposure_ticks = t.exposure_ticks();
        t.recoat_ticks += recoat_ticks(self.machine);
        if let Some(mut info) = self.open.take() {
            info.exposure_s = meltline_firmware::sim::report::seconds(exposure_ticks);
            info.mark_length_mm = t.mark_length_nm as f64 * 1e-6;
            info.est_time_s = meltline_firmware::sim::report::seconds(t.total_ticks());
            info.est_energy_j = t.energy_nj as f64 * 1e-9;
            info.digest = hex(digest);
            info.frames = index + 1 - info.first_frame;
            self.job.layers.push(info);
        }
    }
}

impl JobFile {
    /// Reads and verifies `path`; estimates use the default machine.
    pub fn read(path: &Path) -> Result<JobFile, JobFileError> {
        let bytes = std::fs::read(path).map_err(|source| JobFileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        JobFile::parse(
            &bytes,
            &path.display().to_string(),
            &MachineConfig::default(),
        )
    }

    /// Verifies a job held in memory; `machine` is used for the time and energy estimates.
    pub fn parse(
        bytes: &[u8],
        name: &str,
        machine: &MachineConfig,
    ) -> Result<JobFile, JobFileError> {
        use sha2::Digest;
        let mut r = Reading {
            job: JobFile {
                name: name.to_string(),
                machine: String::new(),
                material: String::new(),
                quantum_nm: 0,
                layer_thickness_nm: 0,
                header_sha256: None,
                param_sets: Vec::new(),
                layers: Vec::new(),
                job_sha256: [0; 32],
                file_sha256: sha2::Sha256::digest(bytes).into(),
                frames: Vec::new(),
                frame_layer: Vec::new(),
                bytes: bytes.len() as u64,
                released: false,
                est_machine: machine.machine.to_string(),
                parts: Vec::new(),
                names_lasers: false,
                lasers: Vec::new(),
            },
            machine,
            heads: Vec::new(),
            open: None,
        };
        let mut scratch = Vec::with_capacity(MAX_FRAME);
        let mut verifier = JobVerifier::<MAX_PARAM_SETS>::new();
        for raw in FrameReader::new(bytes) {
            let raw: RawFrame = raw.map_err(|source| JobFileError::Io {
                path: name.to_string(),
                source,
            })?;
            let frame_layer = r.frame(&raw, &mut scratch, &mut verifier)?;
            r.job.frame_layer.push(frame_layer);
            r.job.frames.push(raw.wire);
        }
        let mut job = r.job;
        job.param_sets = verifier.param_sets().to_vec();
        job.released = verifier.released();
        if verifier.expecting() != Expect::Ended {
            return Err(JobFileError::Truncated {
                path: name.to_string(),
                frames: job.frames.len() as u64,
                layers: job.layers.len() as u32,
            });
        }
        for l in &mut job.layers {
            l.bytes = job.frames[l.first_frame as usize..(l.first_frame + l.frames) as usize]
                .iter()
                .map(|f| f.len() as u64)
                .sum();
        }
        Ok(job)
    }

    /// Number of layers.
    pub fn layer_count(&self) -> u32 {
        self.layers.len() as u32
    }

    /// Total vectors.
    pub fn vectors(&self) -> u64 {
        self.layers.iter().map(|l| l.vectors).sum()
    }

    /// Estimated build time, s.
    pub fn est_time_s(&self) -> f64 {
        self.layers.iter().map(|l| l.est_time_s).sum()
    }

    /// Estimated energy, J.
    pub fn est_energy_j(&self) -> f64 {
        self.layers.iter().map(|l| l.est_energy_j).sum()
    }

    /// The segments of layer `layer` with their kind, in scan order.
    pub fn layer_segments(&self, layer: u32) -> Vec<(VectorKind, Segment)> {
        self.layer_vectors(layer)
            .into_iter()
            .map(|v| (v.kind, v.segment))
            .collect()
    }

    /// The segments of layer `layer` with their kind and the laser exposing them (laser 0 in a
    /// job whose blocks name none), in scan order; empty for a layer the job does not have.
    pub fn layer_vectors(&self, layer: u32) -> Vec<LayerVector> {
        let mut out = Vec::new();
        let Some(info) = self.layers.get(layer as usize) else {
            return out;
        };
        let mut scratch = Vec::with_capacity(MAX_FRAME);
        let first = info.first_frame as usize;
        let frames = self
            .frames
            .get(first..first.saturating_add(info.frames as usize))
            .unwrap_or(&[]);
        for wire in frames {
            if let Ok(f) = decode_wire(wire, &mut scratch)
                && let Some((_, b)) = f.msg.block()
            {
                let laser = f.msg.laser().unwrap_or(0);
                out.extend(
                    b.segments()
                        .filter_map(Result::ok)
                        .map(|segment| LayerVector {
                            laser,
                            kind: b.kind,
                            segment,
                        }),
                );
            }
        }
        out
    }
}

/// One segment of a layer: its kind and the laser that exposes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerVector {
    /// The laser's index on the machine (0 in a job whose blocks name no laser).
    pub laser: u8,
    /// The vector kind.
    pub kind: VectorKind,
    /// The segment, in quanta.
    pub segment: Segment,
}

/// The frame `wire` re-encoded with sequence number `seq` (the message is unchanged, so the
/// layer digests and the job hash are too).
pub fn resequence(wire: &[u8], seq: u32) -> Result<Vec<u8>, FrameError> {
    let mut scratch = Vec::with_capacity(MAX_FRAME);
    let raw = RawFrame {
        index: 0,
        offset: 0,
        wire: wire.to_vec(),
    };
    let frame = raw.decode(&mut scratch)?;
    let mut out = vec![0u8; MAX_FRAME];
    let n = encode_frame(seq, &frame.msg, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// Name of a message for error texts.
pub use meltline_firmware::wire::verify::msg_name;
