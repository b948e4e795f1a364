//! Streaming a verified job to a controller: handshake, sliding window bounded by the
//! controller's advertised window, go-back-N retransmission on `Nak` and on timeout with an
//! adaptive retransmission timeout (Jacobson/Karels, Karn's rule), reconnection and resumption
//! from the controller's last committed frame, an optional fault-injecting link in front.
//!
//! The stream the host sends is the job file's frames, verbatim when the controller expects
//! sequence number 0, renumbered from its next expected number when it has finished an earlier
//! job. `Start` is an out-of-band operator command (it consumes no sequence number): the host
//! sends it once the `JobHeader` is acknowledged, and again after a reconnection, so layers
//! execute as they arrive and the controller's arena drains. A new session with `resume`
//! continues a job the controller holds from base 0.
//!
//! A controller that restarted (power loss, process killed) expects sequence number 0 again.
//! If its `Hello` advertises a resume point for this job (its non-volatile record), the
//! session continues from there: header and parameter sets, then the layers from the resume
//! point (see [`restart`]'s plan); the outcome notes where the controller stopped and where the
//! stream resumed. A controller that restarted without a record of the job cannot continue
//! it, and the stream stops rather than expose the built layers again. The `JobHeader` always
//! announces the job hash, so a controller can keep a record of any streamed job.

mod outcome;
mod restart;
mod rto;
pub mod secure;
mod streamer;
mod transport;

pub use outcome::{Progress, StreamError, StreamOptions, StreamOutcome};
pub use rto::Rto;
pub use transport::{InProcess, Tcp, Transport, wall_clock};

use crate::jobfile::JobFile;

/// Streams a verified job over `transport` until the controller reports the end of the job
/// or the link is lost for good; `progress` is called after every batch of replies.
pub fn stream_job(
    job: &JobFile,
    transport: &mut dyn Transport,
    opts: &StreamOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<StreamOutcome, StreamError> {
    let header =
        restart::announced_header(job).map_err(|source| StreamError::Frame { index: 0, source })?;
    streamer::Streamer::new(job, transport, opts, header).run(progress)
}
