//! The job verifier: the one statement of what a job stream must be, message by message —
//! `JobHeader`, an optional `Release`, the header's `ParamSet`s (each id once), the plate's
//! `Part`s if any (the [`PartTable`] rule), then per layer `LayerStart` · `VectorBlock`s, or
//! `PartBlock`s in a job with parts, or `LaserBlock`s in a job planned for its lasers (each
//! naming a known parameter set and part, its payload decoding to the vectors it announces,
//! each inside its part's footprint; one form per job) · an optional `LayerLink` · `LayerEnd` (blocks and bytes as announced,
//! the digest of its content), and `JobEnd` (the layer count announced and the job hash of the
//! content, equal to the header's announced hash if any). Nothing may follow `JobEnd`.
//!
//! `no_std` and allocation-free; hosts feed it every message of a job file before they stream,
//! simulate or inspect it (`meltline_host::jobfile::JobFile`). The machine's limits are not its
//! business: they are [`crate::limits`], applied by the controller and the slicer.
//!
//! ```
//! use meltline_firmware::job::{encode_job, FrameReader, JobSpec};
//! use meltline_firmware::wire::verify::{JobVerifier, Step};
//! use meltline_firmware::wire::ParamSet;
//! let spec = JobSpec {
//!     machine: "meltline-sim-250".into(), material: "Ti-6Al-4V".into(), quantum_nm: 1000,
//!     layer_thickness_nm: 30_000, layer_count: 0,
//!     param_sets: vec![ParamSet { id: 1, power_mw: 200_000, mark_speed_mm_s: 1000,
//!         spot_um: 80, hatch_distance_um: 100, skywriting: false }],
//! };
//! let (bytes, _) = encode_job(&spec, &[]).unwrap();
//! let mut v = JobVerifier::<8>::new();
//! let mut scratch = Vec::new();
//! let mut last = None;
//! for raw in FrameReader::new(&bytes[..]) {
//!     let frame = raw.unwrap().decode(&mut scratch).unwrap().msg;
//!     last = Some(v.feed(&frame, &mut |_, _| {}).unwrap());
//! }
//! assert!(matches!(last, Some(Step::JobEnd { .. })));
//! ```

use super::digest::{JobDigest, LayerDigest};
use super::laser::{BlockForm, MixedLaserForm};
use super::part::{PartError, PartTable};
use super::{CodecError, JobHeader, LayerStart, Msg, ParamSet, Segment, VectorBlock};
use crate::hex::Hex;

/// What the verifier expects next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The job's first message.
    Header,
    /// The header's parameter sets (a `Release` may come first).
    Params,
    /// `LayerStart` or `JobEnd`.
    Layers,
    /// `VectorBlock`, `LayerLink` or `LayerEnd`.
    InLayer,
    /// Nothing: the job has ended.
    Ended,
}

impl Expect {
    /// What is expected, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Expect::Header => "a job file starts with JobHeader",
            Expect::Params => "expected the header's ParamSets",
            Expect::Layers => "expected LayerStart or JobEnd",
            Expect::InLayer => "expected VectorBlock, PartBlock, LaserBlock or LayerEnd",
            Expect::Ended => "nothing may follow JobEnd",
        }
    }
}

/// A message that broke the job's structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A message out of place.
    #[error("{got} not allowed here ({})", expect.describe())]
    NotHere {
        /// The message's name.
        got: &'static str,
        /// What was expected.
        expect: Expect,
    },
    /// A message after `JobEnd`.
    #[error("data after JobEnd")]
    AfterEnd,
    /// A parameter set id given twice.
    #[error("parameter set {id} defined twice")]
    ParamSetTwice {
        /// The id.
        id: u16,
    },
    /// More parameter sets than this verifier holds.
    #[error("more than {max} parameter sets")]
    TooManyParamSets {
        /// Its capacity.
        max: usize,
    },
    /// A layer out of order.
    #[error("layer {got} where layer {expected} was expected")]
    LayerOutOfOrder {
        /// The layer that came.
        got: u32,
        /// The next layer.
        expected: u32,
    },
    /// A block naming a parameter set the header did not define.
    #[error("block refers to unknown parameter set {id}")]
    UnknownParamSet {
        /// The id.
        id: u16,
    },
    /// A block whose payload does not decode.
    #[error("layer {layer} block {block}: {source}")]
    Payload {
        /// The layer.
        layer: u32,
        /// The block's index in the layer.
        block: u32,
        /// Why.
        source: CodecError,
    },
    /// A part table or a block's part breaking the [`PartTable`] rule.
    #[error("layer {layer} block {block}: {source}")]
    Part {
        /// The layer ([`super::control::NONE`] for the part table).
        layer: u32,
        /// The block's index in the layer ([`super::control::NONE`] for the part table).
        block: u32,
        /// Why.
        source: PartError,
    },
    /// A block of the other form than the job's first ([`BlockForm`]).
    #[error("layer {layer} block {block}: {source}")]
    LaserForm {
        /// The layer.
        layer: u32,
        /// The block's index in the layer.
        block: u32,
        /// Why.
        source: MixedLaserForm,
    },
    /// A `LayerLink` outside its layer.
    #[error("LayerLink for layer {layer} outside that layer")]
    LinkOutsideLayer {
        /// The layer it names.
        layer: u32,
    },
    /// A layer closing with other blocks or bytes than announced (or another layer number).
    #[error(
        "layer {layer} closes with {blocks} blocks / {bytes} bytes where LayerStart announced {blocks_announced} / {bytes_announced}"
    )]
    LayerSize {
        /// The open layer.
        layer: u32,
        /// Blocks received.
        blocks: u32,
        /// Payload bytes received.
        bytes: u32,
        /// Blocks announced.
        blocks_announced: u32,
        /// Payload bytes announced.
        bytes_announced: u32,
    },
    /// A layer whose digest is not that of its content.
    #[error(
        "layer {layer} digest {} differs from its content {}",
        Hex(announced),
        Hex(content)
    )]
    LayerDigest {
        /// The layer.
        layer: u32,
        /// The digest `LayerEnd` announced.
        announced: [u8; 32],
        /// The digest of the content.
        content: [u8; 32],
    },
    /// `JobEnd` closing another number of layers than announced or received.
    #[error("JobEnd closes {closes} layers, header announced {announced}, file holds {held}")]
    LayerCount {
        /// Layers `JobEnd` names.
        closes: u32,
        /// Layers the header announced.
        announced: u32,
        /// Layers received.
        held: u32,
    },
    /// A job hash that is not that of the content (or not the header's).
    #[error(
        "job hash {} differs from the content's {}",
        Hex(announced),
        Hex(content)
    )]
    JobHash {
        /// The hash `JobEnd` announced.
        announced: [u8; 32],
        /// The hash of the content.
        content: [u8; 32],
    },
}

/// What a verified message was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The header.
    Header,
    /// A release record (its signature is checked by [`crate::controller::release`]).
    Release,
    /// A parameter set.
    ParamSet,
    /// A part of the part table.
    Part {
        /// Its index.
        index: u16,
    },
    /// A layer opened.
    LayerStart {
        /// The layer.
        layer: u32,
    },
    /// A block of the open layer, with its laser, part and vector count.
    Block {
        /// The layer.
        layer: u32,
        /// The laser it names (`None` in a job without laser blocks).
        laser: Option<u8>,
        /// The part it names (`None` in a job without parts).
        part: Option<u16>,
        /// Vectors in the block.
        vectors: u64,
    },
    /// The release chain link of the open layer.
    LayerLink {
        /// The layer.
        layer: u32,
    },
    /// A layer closed, its digest verified.
    LayerEnd {
        /// The layer.
        layer: u32,
        /// Its digest.
        digest: [u8; 32],
    },
    /// The job closed, its hash verified.
    JobEnd {
        /// The job hash.
        job_sha256: [u8; 32],
    },
}

/// One open layer as it arrives: what its `LayerStart` announced, what came, and the digest of
/// its blocks. [`LayerTally::close`] is the rule a `LayerEnd` must meet; the verifier and the
/// controller both apply it.
#[derive(Clone, Debug)]
pub struct LayerTally {
    layer: u32,
    blocks_announced: u32,
    bytes_announced: u32,
    blocks: u32,
    bytes: u32,
    digest: LayerDigest,
}

impl LayerTally {
    /// The layer `l` opens, nothing received yet.
    pub fn new(l: &LayerStart) -> Self {
        Self {
            layer: l.layer,
            blocks_announced: l.blocks,
            bytes_announced: l.payload_bytes,
            blocks: 0,
            bytes: 0,
            digest: LayerDigest::new(l.layer),
        }
    }

    /// The layer's number.
    pub fn layer(&self) -> u32 {
        self.layer
    }

    /// Blocks received so far.
    pub fn blocks(&self) -> u32 {
        self.blocks
    }

    /// Payload bytes received so far.
    pub fn bytes(&self) -> u32 {
        self.bytes
    }

    /// Blocks `LayerStart` announced.
    pub fn blocks_announced(&self) -> u32 {
        self.blocks_announced
    }

    /// Payload bytes `LayerStart` announced.
    pub fn bytes_announced(&self) -> u32 {
        self.bytes_announced
    }

    /// Counts a block of the layer (naming `laser` if a `LaserBlock`, `part` if a `PartBlock`
    /// or a `LaserBlock` of a plate) and adds it to the layer's digest.
    pub fn add(&mut self, laser: Option<u8>, part: Option<u16>, b: &VectorBlock<'_>) {
        self.blocks = self.blocks.saturating_add(1);
        let len = u32::try_from(b.data.len()).unwrap_or(u32::MAX);
        self.bytes = self.bytes.saturating_add(len);
        self.digest.block(laser, part, b);
    }

    /// The `LayerEnd` of `layer` announcing `announced`: the same layer, its blocks and bytes
    /// as announced ([`VerifyError::LayerSize`]), and the digest of its content
    /// ([`VerifyError::LayerDigest`]). Returns the digest.
    pub fn close(self, layer: u32, announced: &[u8; 32]) -> Result<[u8; 32], VerifyError> {
        if layer != self.layer
            || self.blocks != self.blocks_announced
            || self.bytes != self.bytes_announced
        {
            return Err(VerifyError::LayerSize {
                layer: self.layer,
                blocks: self.blocks,
                bytes: self.bytes,
                blocks_announced: self.blocks_announced,
                bytes_announced: self.bytes_announced,
            });
        }
        let content = self.digest.finish();
        if content != *announced {
            return Err(VerifyError::LayerDigest {
                layer,
                announced: *announced,
                content,
            });
        }
        Ok(content)
    }
}

/// The rule a `JobEnd` must meet: it closes the `layer_count` layers the header announced, all
/// of them received (`held`; [`VerifyError::LayerCount`]), and announces the job hash of the
/// content, equal to the header's announced hash if any ([`VerifyError::JobHash`]).
pub fn check_job_end(
    closes: u32,
    layer_count: u32,
    held: u32,
    content: [u8; 32],
    announced: &[u8; 32],
    header_hash: Option<[u8; 32]>,
) -> Result<(), VerifyError> {
    if closes != layer_count || held != layer_count {
        return Err(VerifyError::LayerCount {
            closes,
            announced: layer_count,
            held,
        });
    }
    if content != *announced || header_hash.is_some_and(|h| h != content) {
        return Err(VerifyError::JobHash {
            announced: *announced,
            content,
        });
    }
    Ok(())
}

/// The verifier of one job stream, holding at most `PARAMS` parameter sets.
#[derive(Clone, Debug)]
pub struct JobVerifier<const PARAMS: usize> {
    expect: Expect,
    params: heapless::Vec<ParamSet, PARAMS>,
    params_announced: u16,
    parts: PartTable,
    form: BlockForm,
    layer_count: u32,
    header_hash: Option<[u8; 32]>,
    job: Option<JobDigest>,
    open: Option<LayerTally>,
    layers_done: u32,
    released: bool,
}

impl<const PARAMS: usize> Default for JobVerifier<PARAMS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const PARAMS: usize> JobVerifier<PARAMS> {
    /// A verifier waiting for a job's header.
    pub fn new() -> Self {
        Self {
            expect: Expect::Header,
            params: heapless::Vec::new(),
            params_announced: 0,
            parts: PartTable::new(),
            form: BlockForm::new(),
            layer_count: 0,
            header_hash: None,
            job: None,
            open: None,
            layers_done: 0,
            released: false,
        }
    }

    /// What comes next.
    pub fn expecting(&self) -> Expect {
        self.expect
    }

    /// The parameter sets received so far.
    pub fn param_sets(&self) -> &[ParamSet] {
        &self.params
    }

    /// The part table received so far.
    pub fn parts(&self) -> &PartTable {
        &self.parts
    }

    /// Whether the job carried a `Release`.
    pub fn released(&self) -> bool {
        self.released
    }

    /// Checks the next message; `on_segment` sees every vector of a block with its parameter
    /// set, in order (for estimates), before the block is accepted.
    pub fn feed(
        &mut self,
        msg: &Msg<'_>,
        on_segment: &mut impl FnMut(&Segment, &ParamSet),
    ) -> Result<Step, VerifyError> {
        match (self.expect, msg) {
            (Expect::Ended, _) => Err(VerifyError::AfterEnd),
            (Expect::Header, Msg::JobHeader(h)) => Ok(self.header(h)),
            (Expect::Params | Expect::Layers, Msg::Release(_))
                if self.params.is_empty() && self.layers_done == 0 && !self.released =>
            {
                self.released = true;
                Ok(Step::Release)
            }
            (Expect::Params, Msg::ParamSet(p)) => self.param_set(p),
            (Expect::Layers, Msg::Part(p)) if self.layers_done == 0 => {
                self.parts.add(p).map_err(|source| VerifyError::Part {
                    layer: super::control::NONE,
                    block: super::control::NONE,
                    source,
                })?;
                if let Some(d) = self.job.as_mut() {
                    d.part(p);
                }
                Ok(Step::Part { index: p.index })
            }
            (Expect::Layers, Msg::LayerStart(l)) => {
                if l.layer != self.layers_done {
                    return Err(VerifyError::LayerOutOfOrder {
                        got: l.layer,
                        expected: self.layers_done,
                    });
                }
                self.open = Some(LayerTally::new(l));
                self.expect = Expect::InLayer;
                Ok(Step::LayerStart { layer: l.layer })
            }
            (Expect::InLayer, Msg::VectorBlock(b)) => self.block(None, None, b, on_segment),
            (Expect::InLayer, Msg::PartBlock(p)) => {
                self.block(None, Some(p.part), &p.block, on_segment)
            }
            (Expect::InLayer, Msg::LaserBlock(l)) => {
                self.block(Some(l.laser), l.part, &l.block, on_segment)
            }
            (Expect::InLayer, Msg::LayerLink(l)) => match &self.open {
                Some(o) if o.layer == l.layer => Ok(Step::LayerLink { layer: l.layer }),
                _ => Err(VerifyError::LinkOutsideLayer { layer: l.layer }),
            },
            (Expect::InLayer, Msg::LayerEnd(e)) => self.layer_end(e.layer, &e.digest),
            (Expect::Layers, Msg::JobEnd(e)) => self.job_end(e.layers, &e.job_sha256),
            (expect, other) => Err(VerifyError::NotHere {
                got: msg_name(other),
                expect,
            }),
        }
    }

    fn header(&mut self, h: &JobHeader<'_>) -> Step {
        *self = Self::new();
        self.params_announced = h.param_sets;
        self.layer_count = h.layer_count;
        self.header_hash = h.job_sha256;
        self.job = Some(JobDigest::new(h));
        self.expect = if h.param_sets == 0 {
            Expect::Layers
        } else {
            Expect::Params
        };
        Step::Header
    }

    fn param_set(&mut self, p: &ParamSet) -> Result<Step, VerifyError> {
        if self.params.iter().any(|q| q.id == p.id) {
            return Err(VerifyError::ParamSetTwice { id: p.id });
        }
        self.params
            .push(*p)
            .map_err(|_| VerifyError::TooManyParamSets { max: PARAMS })?;
        if let Some(d) = self.job.as_mut() {
            d.param_set(p);
        }
        if self.params.len() == usize::from(self.params_announced) {
            self.expect = Expect::Layers;
        }
        Ok(Step::ParamSet)
    }

    /// Whether the job's blocks name their lasers (`None` before its first block).
    pub fn names_lasers(&self) -> Option<bool> {
        self.form.lasers()
    }

    fn block(
        &mut self,
        laser: Option<u8>,
        part: Option<u16>,
        b: &VectorBlock<'_>,
        on_segment: &mut impl FnMut(&Segment, &ParamSet),
    ) -> Result<Step, VerifyError> {
        let p = self
            .params
            .iter()
            .find(|p| p.id == b.param_set)
            .copied()
            .ok_or(VerifyError::UnknownParamSet { id: b.param_set })?;
        let Some(open) = self.open.as_mut() else {
            return Err(VerifyError::NotHere {
                got: "VectorBlock",
                expect: Expect::Layers,
            });
        };
        let (layer, block) = (open.layer, open.blocks);
        let part_error = |source| VerifyError::Part {
            layer,
            block,
            source,
        };
        self.parts.check_block(part).map_err(part_error)?;
        self.form
            .check(laser)
            .map_err(|source| VerifyError::LaserForm {
                layer,
                block,
                source,
            })?;
        let mut vectors = 0u64;
        for s in b.segments() {
            let s = s.map_err(|source| VerifyError::Payload {
                layer,
                block,
                source,
            })?;
            self.parts.check_point(part, s.from).map_err(part_error)?;
            self.parts.check_point(part, s.to).map_err(part_error)?;
            on_segment(&s, &p);
            vectors += 1;
        }
        open.add(laser, part, b);
        Ok(Step::Block {
            layer,
            laser,
            part,
            vectors,
        })
    }

    fn layer_end(&mut self, layer: u32, announced: &[u8; 32]) -> Result<Step, VerifyError> {
        let Some(open) = self.open.take() else {
            return Err(VerifyError::NotHere {
                got: "LayerEnd",
                expect: Expect::Layers,
            });
        };
        let content = open.close(layer, announced)?;
        if let Some(j) = self.job.as_mut() {
            j.layer(&content);
        }
        self.layers_done = self.layers_done.saturating_add(1);
        self.expect = Expect::Layers;
        Ok(Step::LayerEnd {
            layer,
            digest: content,
        })
    }

    fn job_end(&mut self, closes: u32, announced: &[u8; 32]) -> Result<Step, VerifyError> {
        let content = self.job.clone().map(JobDigest::finish).unwrap_or_default();
        check_job_end(
            closes,
            self.layer_count,
            self.layers_done,
            content,
            announced,
            self.header_hash,
        )?;
        self.expect = Expect::Ended;
        Ok(Step::JobEnd {
            job_sha256: content,
        })
    }
}

/// Name of a message, for error texts.
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
        Msg::Part(_) => "Part",
        Msg::PartBlock(_) => "PartBlock",
        Msg::PartReport(_) => "PartReport",
        Msg::SkipPart(_) => "SkipPart",
        Msg::LaserBlock(_) => "LaserBlock",
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
