//! Job-description messages: `Hello`, `JobHeader`, `ParamSet`, `LayerStart`, `LayerEnd`, `JobEnd`.

use serde::{Deserialize, Serialize};

/// Version of this protocol; a controller refuses a `Hello` with another major version.
///
/// 2: [`Hello::resume`] (the controller's non-volatile resume point), and hatch blocks may use
/// the line mode (hatch flags 8–11, see [`super::vector`]); a version-1 controller would not
/// decode them. 3: release and link authentication. 4: plates — the part table and blocks that
/// name their part. 5: blocks that name their laser (see the protocol's "Versions").
pub const PROTOCOL_VERSION: u16 = 5;

/// Either side introduces itself: protocol version, machine identity and capacities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello<'a> {
    /// [`PROTOCOL_VERSION`] of the sender.
    pub protocol: u16,
    /// Machine identity (controller) or the machine the host expects (host).
    pub machine: &'a str,
    /// Largest frame the sender accepts, delimiter included.
    pub max_frame: u16,
    /// Bytes of layer payload the controller can buffer (its arena); 0 from a host.
    pub arena_bytes: u32,
    /// Parameter sets the controller can hold; 0 from a host.
    pub param_sets: u16,
    /// The job the controller's non-volatile record can continue (after a power loss), `None`
    /// when it holds none; always `None` from a host.
    pub resume: Option<ResumePoint>,
}

/// Where a controller can continue a job after losing power: the job and the next layer to
/// expose. A host resends the `JobHeader` (with this hash) and the `ParamSet`s, then layers
/// from `next_layer`; earlier layers, if sent, are skipped and never exposed again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumePoint {
    /// Job hash announced by the header of the interrupted job.
    pub job_sha256: [u8; 32],
    /// The first layer not yet completed (= layers completed).
    pub next_layer: u32,
}

/// Opens a job: what it is for and how its coordinates are to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobHeader<'a> {
    /// Machine identity the job was prepared for; must equal the controller's.
    pub machine: &'a str,
    /// Material name; must equal the machine's loaded material.
    pub material: &'a str,
    /// Coordinate quantum in nanometres (1000 = 1 µm).
    pub quantum_nm: u32,
    /// Layer thickness in nanometres.
    pub layer_thickness_nm: u32,
    /// Number of layers that follow.
    pub layer_count: u32,
    /// Number of `ParamSet` messages that follow before the first layer.
    pub param_sets: u16,
    /// The job hash when known up front (see [`crate::wire::digest`]); `JobEnd` always has it.
    pub job_sha256: Option<[u8; 32]>,
}

/// A laser parameter set referred to by `VectorBlock::param_set`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamSet {
    /// Identifier used by vector blocks.
    pub id: u16,
    /// Laser power in milliwatts.
    pub power_mw: u32,
    /// Mark speed in mm/s.
    pub mark_speed_mm_s: u32,
    /// Spot (melt-track) diameter in µm.
    pub spot_um: u32,
    /// Hatch distance in µm, used for the volumetric energy density P/(v·h·t).
    pub hatch_distance_um: u32,
    /// Extend marks with run-in/run-out so the laser sees constant speed.
    pub skywriting: bool,
}

/// Opens layer `layer` and announces its size so the controller can refuse it up front.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerStart {
    /// 0-based layer index; layers arrive consecutively.
    pub layer: u32,
    /// Number of `VectorBlock`s in the layer.
    pub blocks: u32,
    /// Sum of the blocks' `data` lengths in bytes.
    pub payload_bytes: u32,
}

/// Closes a layer with its digest; nothing of the layer executes unless it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerEnd {
    /// The layer being closed.
    pub layer: u32,
    /// SHA-256 layer digest (see [`crate::wire::digest::LayerDigest`]).
    pub digest: [u8; 32],
}

/// Closes the job with its hash over header, parameter sets and layer digests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEnd {
    /// Number of layers sent.
    pub layers: u32,
    /// SHA-256 job hash (see [`crate::wire::digest::JobDigest`]).
    pub job_sha256: [u8; 32],
}
