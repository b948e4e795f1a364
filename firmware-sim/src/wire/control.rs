//! Controller replies and the state they report: `Ack`, `Nak`, `Status`, `Fault`, `Report`.

use serde::{Deserialize, Serialize};

/// Everything up to `up_to_seq` is committed; `window` more bytes of frames may be in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Highest sequence number accepted (all earlier ones too).
    pub up_to_seq: u32,
    /// Free buffer in bytes of encoded frames the host may send beyond `up_to_seq`.
    pub window: u32,
}

/// Frame `seq` was not accepted; the host retransmits from `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nak {
    /// The sequence number the controller expects next.
    pub seq: u32,
    /// Why the frame was refused.
    pub reason: NakReason,
}

/// Why a frame was refused at the link level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NakReason {
    /// CRC-32 mismatch.
    Crc,
    /// COBS framing broken.
    Framing,
    /// More than `MAX_FRAME` bytes before a delimiter.
    Oversize,
    /// CRC fine but the message does not decode.
    Malformed,
    /// Sequence number later than expected: an earlier frame was lost.
    OutOfOrder,
    /// The layer arena has no room; wait for an `Ack` with a window.
    NoSpace,
    /// The message is not allowed in the controller's current state.
    Unexpected,
    /// Outside an authenticated session, or its MAC or counter is wrong (version 3).
    Unauthenticated,
}

/// States of the controller (Idle → Loaded → Printing ⇄ Paused → Done; Faulted; Aborted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControllerState {
    /// No job.
    Idle,
    /// A job header and its parameter sets are accepted; waiting for `Start`.
    Loaded,
    /// Executing verified layers as they complete.
    Printing,
    /// Paused by `Pause` or the oxygen interlock.
    Paused,
    /// Every layer executed and the job hash matched.
    Done,
    /// A verification rule or the machine refused; see the `Fault`.
    Faulted,
    /// Stopped by `Abort`.
    Aborted,
}

/// Answer to a `Status` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Current state.
    pub state: ControllerState,
    /// Number of layers executed so far.
    pub layers_done: u32,
    /// Highest sequence number committed.
    pub committed_seq: u32,
    /// Chamber oxygen in ppm.
    pub oxygen_ppm: u32,
    /// Free window in bytes.
    pub window: u32,
}

/// The rule a job broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rule {
    /// Job header names another machine.
    MachineMismatch,
    /// Job header names another material.
    MaterialMismatch,
    /// Coordinate quantum is zero or coarser than the machine allows.
    QuantumUnsupported,
    /// Layer thickness outside the machine's range.
    LayerThicknessOutOfRange,
    /// More parameter sets than the table holds, or a duplicate id.
    ParamSetTable,
    /// Laser power outside the machine's range.
    PowerOutOfRange,
    /// Mark speed outside the machine's range.
    SpeedOutOfRange,
    /// Spot diameter zero.
    SpotOutOfRange,
    /// Block refers to a parameter set that was not sent.
    UnknownParamSet,
    /// Vector endpoint outside the scan field.
    OutsideField,
    /// Volumetric energy density outside the material window.
    EnergyDensityOutsideWindow,
    /// Layer index not the next one expected.
    LayerOutOfOrder,
    /// Layer payload larger than the arena or more blocks than the table holds.
    LayerTooLarge,
    /// Number of blocks or bytes differs from `LayerStart`.
    LayerSizeMismatch,
    /// Block payload does not decode or its vector count is wrong.
    MalformedBlock,
    /// Recomputed layer digest differs from `LayerEnd`.
    LayerHashMismatch,
    /// Recomputed job hash differs from `JobEnd` or the header.
    JobHashMismatch,
    /// `JobEnd` layer count differs from the header.
    LayerCountMismatch,
    /// The recoater hit something.
    RecoaterCollision,
    /// A job message arrived before a `JobHeader`, or out of place.
    ProtocolOrder,
    /// The non-volatile record of the last completed layer could not be written: the build
    /// stops rather than risk exposing a layer twice after a power loss.
    RecordNotStored,
    /// A job resumed from the non-volatile record does not continue the interrupted one (its
    /// header or parameter sets differ).
    ResumeMismatch,
    /// Trusted keys are configured and the job carries no release.
    ReleaseMissing,
    /// The release is signed by a key the controller does not trust.
    ReleaseKeyUntrusted,
    /// The release's signature does not match its record.
    ReleaseSignatureInvalid,
    /// The job's header or parameter sets differ from what was released.
    ReleaseJobMismatch,
    /// The layer's content differs from the released job (its chain link does not match).
    LayerNotReleased,
    /// The job's layers (count × thickness) are taller than the machine's build height
    /// (value and limit in µm).
    BuildHeightExceeded,
    /// The part table is out of order, over capacity or inconsistent, or a block names no
    /// declared part (protocol 4).
    PartTable,
    /// A vector endpoint outside its part's declared footprint (value: x, limit: y, quanta).
    OutsidePart,
    /// The operator excluded the part (`SkipPart`).
    OperatorSkip,
    /// A job mixing `LaserBlock`s with blocks that name no laser, or a `LaserBlock` naming a
    /// laser the machine does not have (value: the laser, limit: the machine's lasers;
    /// protocol 5).
    LaserForm,
    /// A vector endpoint outside its laser's field, less half its spot (value: the
    /// coordinate, limit: the field's edge it passed, quanta; protocol 5).
    OutsideLaserField,
    /// A laser went down (value: the laser): the job stops before the layer, and a block for
    /// a laser that is down is refused; a part no other laser reaches is skipped.
    LaserDown,
}

/// A refusal naming where (layer, block, vector) and why (rule, offending value, limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// Layer index, or `u32::MAX` for job-level faults.
    pub layer: u32,
    /// Block index in the layer, or `u32::MAX`.
    pub block: u32,
    /// Vector index in the block, or `u32::MAX`.
    pub vector: u32,
    /// The rule broken.
    pub rule: Rule,
    /// The offending value in the rule's unit (quanta, mW, mm/s, J/m³ …), 0 if none.
    pub value: i64,
    /// The limit it broke, 0 if none.
    pub limit: i64,
}

/// Not applicable marker for [`Fault`] positions.
pub const NONE: u32 = u32::MAX;

/// End-of-job summary from the controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Final state.
    pub state: ControllerState,
    /// Layers executed.
    pub layers: u32,
    /// Vectors marked.
    pub vectors: u64,
    /// Total machine time in 10 µs ticks (mark + jump + delays + recoat + interlock waits).
    pub ticks: u64,
    /// Laser energy in millijoules.
    pub energy_mj: u64,
    /// Job hash recomputed over what was executed.
    pub executed_sha256: [u8; 32],
}
