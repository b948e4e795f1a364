//! The `.mlj` job file: the firmware's frame stream of a [`BuildJob`], written to disk.
//!
//! The encoder lives in `meltline_firmware::job`; until it is wired in here, writing a job
//! file is an explicit error rather than a file in a made-up format.

use std::path::Path;

use meltline_slicer::job::BuildJob;

/// What was written to a `.mlj` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSummary {
    /// Bytes written.
    pub bytes: u64,
    /// Frames written.
    pub frames: u64,
    /// Layers written.
    pub layers: usize,
    /// The job hash carried by the stream.
    pub job_hash: [u8; 32],
}

/// Writes `job` as a `.mlj` frame stream to `path` (atomically).
pub fn write_mlj(job: &BuildJob, path: &Path) -> anyhow::Result<JobSummary> {
    anyhow::bail!(
        "job encoding not yet available: cannot write {} ({} layers); the .mlj encoder \
         (meltline_firmware::job) has not been wired into the host yet",
        path.display(),
        job.layers.len()
    )
}
