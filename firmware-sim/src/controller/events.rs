//! What the controller tells the outside: numbered reply frames for the transport and
//! [`Event`]s for whoever watches the machine.

use crate::machine::LayerTiming;
use crate::wire::{
    ControllerState, Fault, Frame, NakReason, ParamSet, Region, Release, Rule, Segment, VectorKind,
};

/// Receives the controller's replies (already numbered) for the transport to send.
pub trait ReplySink {
    /// Called once per reply frame.
    fn reply(&mut self, frame: &Frame<'_>);
}

impl ReplySink for () {
    fn reply(&mut self, _: &Frame<'_>) {}
}

/// Receives what the machine does; the simulator implements it to build reports and maps.
pub trait EventSink {
    /// Called once per event, in execution order.
    fn event(&mut self, event: &Event<'_>);
}

impl EventSink for () {
    fn event(&mut self, _: &Event<'_>) {}
}

/// Something the controller or the machine did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event<'a> {
    /// A job header continuing the job of the non-volatile record was accepted: layers before
    /// `layer` were completed before the power loss and will not be exposed again.
    Resumed {
        /// The first layer to expose.
        layer: u32,
    },
    /// A layer completed before a power loss was received again, verified and not exposed.
    LayerSkipped {
        /// Layer index.
        layer: u32,
    },
    /// A job header was accepted.
    JobLoaded {
        /// Coordinate quantum, nm.
        quantum_nm: u32,
        /// Layer thickness, nm.
        layer_thickness_nm: u32,
        /// Announced layers.
        layer_count: u32,
    },
    /// Layer execution begins (before recoating).
    LayerBegin {
        /// Layer index.
        layer: u32,
    },
    /// One segment was marked.
    Mark {
        /// Layer index.
        layer: u32,
        /// Block index in the layer.
        block: u32,
        /// What the vector is.
        kind: VectorKind,
        /// Region it belongs to.
        region: Region,
        /// Parameter set used.
        param: &'a ParamSet,
        /// The segment.
        segment: Segment,
        /// The part of the plate it belongs to (`None` in a job without a part table).
        part: Option<u16>,
        /// The laser that marked it (0 in a job whose blocks name no laser).
        laser: u8,
    },
    /// A part of the plate is excluded from layer `layer` on; the rest goes on.
    PartSkipped {
        /// Index in the part table.
        part: u16,
        /// The first layer without it.
        layer: u32,
        /// Why (a recoater collision at its position, or the operator).
        rule: Rule,
    },
    /// A layer was executed completely.
    LayerDone {
        /// Layer index.
        layer: u32,
        /// Its time and energy: the lasers' time is the slowest laser's
        /// ([`LayerTiming::concurrent`]).
        timing: LayerTiming,
        /// Each laser's marks, jumps and delays in the layer, ticks (index = laser; 0 past the
        /// machine's lasers).
        laser_ticks: [u64; crate::lasers::MAX_LASERS],
        /// Its verified digest.
        digest: [u8; 32],
    },
    /// The state changed.
    StateChanged {
        /// Previous state.
        from: ControllerState,
        /// New state.
        to: ControllerState,
    },
    /// The chamber oxygen level changed.
    Oxygen {
        /// Level in ppm.
        ppm: u32,
    },
    /// A `Release` was accepted; `verified` when trusted keys are configured and it checked.
    Released {
        /// The release record.
        release: Release<'a>,
        /// Its signature was checked against a trusted key.
        verified: bool,
    },
    /// The job was refused or stopped by the machine.
    Fault(Fault),
    /// A rule under the `Warn` policy was broken.
    Warning(Fault),
    /// A frame was refused at the link level.
    LinkError {
        /// Ordinal of the frame in the byte stream (0-based), if it came through `receive`.
        frame: u64,
        /// Byte offset in the stream where it began.
        offset: u64,
        /// Sequence number the controller expected.
        expected_seq: u32,
        /// Why.
        reason: NakReason,
    },
}
