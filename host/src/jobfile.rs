//! A `.mlj` job file read back and proven intact: every frame's CRC, the message order
//! (`JobHeader`, `ParamSet`s, layers of `LayerStart` · `VectorBlock`s · `LayerEnd`, `JobEnd`),
//! every block's payload, every layer digest and the job hash are checked before a job is
//! streamed, simulated or inspected. Errors name the frame and its byte offset.

use std::path::Path;

use meltline_firmware::job::{FrameReader, RawFrame};
use meltline_firmware::machine::{LayerTiming, MachineConfig, ScanHead, recoat_ticks};
use meltline_firmware::wire::digest::{JobDigest, LayerDigest};
use meltline_firmware::wire::{
    FrameError, JobHeader, MAX_FRAME, Msg, ParamSet, Segment, VectorKind, encode_frame,
};
use serde::Serialize;

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
        let mut job = JobFile {
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
        };
        let mut scratch = Vec::with_capacity(MAX_FRAME);
        let mut state = Parse::Header;
        let mut job_digest: Option<JobDigest> = None;
        let mut layer_count = 0u32;
        let mut n_params = 0u16;
        let mut open: Option<(LayerInfo, LayerDigest, u32, u32, u32)> = None; // info, digest, blocks announced, payload announced, payload seen
        let mut head: Option<ScanHead> = None;
        let mut ended = false;
        for raw in FrameReader::new(bytes) {
            let raw: RawFrame = raw.map_err(|source| JobFileError::Io {
                path: name.to_string(),
                source,
            })?;
            let (index, offset) = (raw.index, raw.offset);
            let structure = |what: String| JobFileError::Structure {
                path: name.to_string(),
                index,
                offset,
                what,
            };
            if ended {
                return Err(structure("data after JobEnd".into()));
            }
            let frame = raw
                .decode(&mut scratch)
                .map_err(|source| JobFileError::Frame {
                    path: name.to_string(),
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
            let mut frame_layer = None;
            match (state, frame.msg) {
                (Parse::Header, Msg::JobHeader(h)) => {
                    job.machine = h.machine.to_string();
                    job.material = h.material.to_string();
                    job.quantum_nm = h.quantum_nm;
                    job.layer_thickness_nm = h.layer_thickness_nm;
                    job.header_sha256 = h.job_sha256;
                    layer_count = h.layer_count;
                    n_params = h.param_sets;
                    job_digest = Some(JobDigest::new(&JobHeader { ..h }));
                    head = Some(ScanHead::new(machine.galvo, h.quantum_nm));
                    state = if n_params == 0 {
                        Parse::Layers
                    } else {
                        Parse::Params
                    };
                }
                (Parse::Params | Parse::Layers, Msg::Release(_))
                    if job.param_sets.is_empty() && job.layers.is_empty() && !job.released =>
                {
                    // Checked against the content by `meltline inspect` (signing::check_release).
                    job.released = true;
                }
                (Parse::InLayer, Msg::LayerLink(l)) => {
                    let open_layer = open.as_ref().map(|o| o.0.layer);
                    if open_layer != Some(l.layer) {
                        return Err(structure(format!(
                            "LayerLink for layer {} outside that layer",
                            l.layer
                        )));
                    }
                    frame_layer = Some(l.layer);
                }
                (Parse::Params, Msg::ParamSet(p)) => {
                    if job.param_sets.iter().any(|q| q.id == p.id) {
                        return Err(structure(format!("parameter set {} defined twice", p.id)));
                    }
                    job.param_sets.push(p);
                    if let Some(d) = job_digest.as_mut() {
                        d.param_set(&p);
                    }
                    if job.param_sets.len() == usize::from(n_params) {
                        state = Parse::Layers;
                    }
                }
                (Parse::Layers, Msg::LayerStart(l)) => {
                    let expected = job.layers.len() as u32;
                    if l.layer != expected {
                        return Err(structure(format!(
                            "layer {} where layer {expected} was expected",
                            l.layer
                        )));
                    }
                    let info = LayerInfo {
                        layer: l.layer,
                        first_frame: index,
                        ..LayerInfo::default()
                    };
                    open = Some((
                        info,
                        LayerDigest::new(l.layer),
                        l.blocks,
                        l.payload_bytes,
                        0,
                    ));
                    frame_layer = Some(l.layer);
                    state = Parse::InLayer;
                }
                (Parse::InLayer, Msg::VectorBlock(b)) => {
                    let Some((info, digest, _, _, seen)) = open.as_mut() else {
                        return Err(structure("vector block outside a layer".into()));
                    };
                    let p = job
                        .param_sets
                        .iter()
                        .find(|p| p.id == b.param_set)
                        .copied()
                        .ok_or_else(|| {
                            structure(format!(
                                "block refers to unknown parameter set {}",
                                b.param_set
                            ))
                        })?;
                    let mut n = 0u64;
                    for s in b.segments() {
                        let s = s.map_err(|e| {
                            structure(format!("layer {} block {}: {e}", info.layer, info.blocks))
                        })?;
                        if let Some(h) = head.as_mut() {
                            h.mark(&s, &p);
                        }
                        n += 1;
                    }
                    info.vectors += n;
                    if let Some(k) = info.vectors_by_kind.get_mut(b.kind as usize) {
                        *k += n;
                    }
                    info.blocks += 1;
                    *seen += b.data.len() as u32;
                    digest.block(&b);
                    frame_layer = Some(info.layer);
                }
                (Parse::InLayer, Msg::LayerEnd(e)) => {
                    let Some((mut info, digest, blocks, payload, seen)) = open.take() else {
                        return Err(structure("LayerEnd outside a layer".into()));
                    };
                    if e.layer != info.layer || blocks != info.blocks || payload != seen {
                        return Err(structure(format!(
                            "layer {} closes with {} blocks / {seen} bytes where LayerStart announced {blocks} / {payload}",
                            info.layer, info.blocks
                        )));
                    }
                    let d = digest.finish();
                    if d != e.digest {
                        return Err(structure(format!(
                            "layer {} digest {} differs from its content {}",
                            info.layer,
                            hex(&e.digest),
                            hex(&d)
                        )));
                    }
                    if let Some(j) = job_digest.as_mut() {
                        j.layer(&d);
                    }
                    let mut t: LayerTiming = head
                        .as_mut()
                        .map(ScanHead::finish_layer)
                        .unwrap_or_default();
                    t.recoat_ticks += recoat_ticks(machine);
                    info.mark_length_mm = t.mark_length_nm as f64 * 1e-6;
                    info.est_time_s = meltline_firmware::sim::report::seconds(t.total_ticks());
                    info.est_energy_j = t.energy_nj as f64 * 1e-9;
                    info.digest = hex(&d);
                    info.frames = index + 1 - info.first_frame;
                    frame_layer = Some(info.layer);
                    job.layers.push(info);
                    state = Parse::Layers;
                }
                (Parse::Layers, Msg::JobEnd(e)) => {
                    let got = job_digest
                        .clone()
                        .map(JobDigest::finish)
                        .unwrap_or_default();
                    if e.layers != layer_count || job.layers.len() as u32 != layer_count {
                        return Err(structure(format!(
                            "JobEnd closes {} layers, header announced {layer_count}, file holds {}",
                            e.layers,
                            job.layers.len()
                        )));
                    }
                    if got != e.job_sha256 || job.header_sha256.is_some_and(|h| h != got) {
                        return Err(structure(format!(
                            "job hash {} differs from the content's {}",
                            hex(&e.job_sha256),
                            hex(&got)
                        )));
                    }
                    job.job_sha256 = got;
                    ended = true;
                }
                (_, msg) => {
                    return Err(structure(format!(
                        "{} not allowed here ({})",
                        msg_name(&msg),
                        state.expecting()
                    )));
                }
            }
            job.frame_layer.push(frame_layer);
            job.frames.push(raw.wire);
        }
        if !ended {
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
        let mut out = Vec::new();
        let Some(info) = self.layers.get(layer as usize) else {
            return out;
        };
        let mut scratch = Vec::with_capacity(MAX_FRAME);
        let first = info.first_frame as usize;
        for wire in &self.frames[first..first + info.frames as usize] {
            let raw = RawFrame {
                index: 0,
                offset: 0,
                wire: wire.clone(),
            };
            if let Ok(f) = raw.decode(&mut scratch)
                && let Msg::VectorBlock(b) = f.msg
            {
                out.extend(b.segments().filter_map(Result::ok).map(|s| (b.kind, s)));
            }
        }
        out
    }
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
pub fn msg_name(m: &Msg<'_>) -> &'static str {
    match m {
        Msg::Hello(_) => "Hello",
        Msg::JobHeader(_) => "JobHeader",
        Msg::ParamSet(_) => "ParamSet",
        Msg::LayerStart(_) => "LayerStart",
        Msg::VectorBlock(_) => "VectorBlock",
        Msg::LayerEnd(_) => "LayerEnd",
        Msg::JobEnd(_) => "JobEnd",
        Msg::Start => "Start",
        Msg::Pause => "Pause",
        Msg::Resume => "Resume",
        Msg::Abort => "Abort",
        Msg::StatusRequest => "StatusRequest",
        Msg::Ack(_) => "Ack",
        Msg::Nak(_) => "Nak",
        Msg::Status(_) => "Status",
        Msg::Fault(_) => "Fault",
        Msg::Report(_) => "Report",
        Msg::Release(_) => "Release",
        Msg::LayerLink(_) => "LayerLink",
        Msg::AuthHello(_) => "AuthHello",
        Msg::AuthChallenge(_) => "AuthChallenge",
        Msg::AuthProof(_) => "AuthProof",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parse {
    Header,
    Params,
    Layers,
    InLayer,
}

impl Parse {
    fn expecting(self) -> &'static str {
        match self {
            Parse::Header => "a job file starts with JobHeader",
            Parse::Params => "expected the header's ParamSets",
            Parse::Layers => "expected LayerStart or JobEnd",
            Parse::InLayer => "expected VectorBlock or LayerEnd",
        }
    }
}
