//! What a stream is asked to do and what it reports: options, progress, outcome and errors.

use std::io;
use std::time::Duration;

use meltline_firmware::wire::{ControllerState, Fault, PROTOCOL_VERSION, PartReport, Report};
use serde::Serialize;

use crate::faults::{FaultCounts, FaultSpec};

/// How to stream.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Faults injected on the host → controller direction.
    pub faults: Option<FaultSpec>,
    /// Continue a job the controller already holds (sent from base 0 by an earlier session).
    pub resume: bool,
    /// Give up after this many reconnections in a row without progress.
    pub max_reconnects: u32,
    /// Give up when nothing is acknowledged for this long.
    pub stall_timeout: Duration,
    /// Lower bound of the retransmission timeout.
    pub rto_min: Duration,
    /// Upper bound of the retransmission timeout.
    pub rto_max: Duration,
    /// Stop (as if the link died) once this many stream frames are committed — for tests of
    /// interrupted builds.
    pub stop_after_frames: Option<u64>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            faults: None,
            resume: false,
            max_reconnects: 20,
            stall_timeout: Duration::from_secs(10),
            rto_min: Duration::from_millis(20),
            rto_max: Duration::from_secs(2),
            stop_after_frames: None,
        }
    }
}

/// Progress of a stream, for progress bars.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Progress {
    /// Stream frames committed by the controller.
    pub frames_acked: u64,
    /// Stream frames in total.
    pub frames_total: u64,
    /// Layers completely committed.
    pub layers_committed: u32,
    /// Vectors in committed layers.
    pub vectors_committed: u64,
    /// Wire bytes sent (retransmissions included).
    pub bytes_sent: u64,
    /// Frames retransmitted.
    pub retransmits: u64,
}

/// What a stream achieved.
#[derive(Debug, Clone, Serialize)]
pub struct StreamOutcome {
    /// The job hash of the file.
    pub job_sha256: String,
    /// The controller's executed hash, when its report arrived.
    pub executed_sha256: Option<String>,
    /// Executed hash equals the job hash.
    pub hashes_equal: bool,
    /// The controller's final report.
    #[serde(skip)]
    pub report: Option<Report>,
    /// The controller's account of each part of a plate job (sent after its report).
    #[serde(skip)]
    pub part_reports: Vec<PartReport>,
    /// Final controller state.
    pub state: Option<String>,
    /// Faults the controller raised.
    #[serde(skip)]
    pub faults: Vec<Fault>,
    /// Fault descriptions.
    pub fault_messages: Vec<String>,
    /// Why the stream stopped early, if it did.
    pub interrupted: Option<String>,
    /// Sequence base of this session.
    pub base_seq: u32,
    /// Frames sent (first transmissions).
    pub frames: u64,
    /// Frames retransmitted.
    pub retransmits: u64,
    /// `Nak`s received, by reason.
    pub naks: Vec<(String, u64)>,
    /// Retransmission timeouts.
    pub timeouts: u64,
    /// Reconnections.
    pub reconnects: u64,
    /// Wire bytes sent, retransmissions included.
    pub bytes_sent: u64,
    /// Payload bytes of the job (the file size).
    pub job_bytes: u64,
    /// What the fault-injecting link did.
    pub link_faults: FaultCounts,
    /// Wall-clock time, s.
    pub elapsed_s: f64,
    /// Job bytes per second of wall-clock time.
    pub throughput_mb_s: f64,
    /// Vectors per second of wall-clock time.
    pub vectors_per_s: f64,
    /// Progress at the end.
    pub progress: Progress,
    /// Smoothed round-trip time at the end, ms.
    pub srtt_ms: f64,
    /// Times the controller came back as a fresh start (power loss, process restarted).
    pub controller_restarts: u64,
    /// The layer the stream last continued at on a restarted controller (from its record).
    pub resumed_at_layer: Option<u32>,
    /// What happened to the controller, in words (restarts, where it stopped and resumed).
    pub notes: Vec<String>,
}

impl StreamOutcome {
    /// The build completed and the executed hash equals the job hash.
    pub fn verified(&self) -> bool {
        self.hashes_equal
            && self.interrupted.is_none()
            && self
                .report
                .is_some_and(|r| r.state == ControllerState::Done)
    }
}

/// Errors that end a stream before it could start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The controller cannot be reached.
    #[error("cannot reach the controller: {0}")]
    Connect(io::Error),
    /// The controller did not answer `Hello`.
    #[error("the controller did not answer Hello within {0:?}")]
    NoHello(Duration),
    /// The controller is another machine than the job's.
    #[error(
        "the controller is machine `{controller}` but the job is for `{job}`: refused before sending"
    )]
    MachineMismatch {
        /// The controller's identity.
        controller: String,
        /// The job's machine.
        job: String,
    },
    /// The controller speaks another protocol version.
    #[error("the controller speaks protocol {0}, this host {PROTOCOL_VERSION}")]
    Protocol(u16),
    /// A frame could not be re-encoded.
    #[error("frame {index}: {source}")]
    Frame {
        /// Stream index.
        index: u64,
        /// Cause.
        source: meltline_firmware::wire::FrameError,
    },
}
