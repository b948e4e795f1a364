//! Continuing a job on a controller that restarted (power loss, process killed) from its
//! non-volatile record: the session sends the `JobHeader` (announcing the job hash, which the
//! controller's record is keyed by), the `ParamSet`s, then the layers from the controller's
//! resume point and `JobEnd` — never the layers it already completed.

use meltline_firmware::wire::{FrameError, Msg, ResumePoint, encode_frame};

use crate::jobfile::JobFile;

/// Which frames of the job file a session sends, by stream position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Plan {
    /// Positions below this are file frames at the same index (header, parameter sets).
    head: u64,
    /// File frames skipped after the head.
    skip: u64,
    /// The layer the stream continues at, when it does not start at the beginning.
    pub layer: Option<u32>,
}

impl Plan {
    /// Header, release (if any), parameter sets, then layers from `layer` (a layer past the
    /// last: `JobEnd` only).
    pub fn from_layer(job: &JobFile, layer: u32) -> Plan {
        let end = job.frames.len() as u64 - 1;
        // Everything before the first layer: header, release, parameter sets.
        let head = job.layers.first().map_or(end, |l| l.first_frame);
        let from = job
            .layers
            .get(layer as usize)
            .map_or(end, |l| l.first_frame)
            .max(head);
        Plan {
            head,
            skip: from - head,
            layer: Some(layer),
        }
    }

    /// The file frame sent at stream position `pos`.
    pub fn file_index(&self, pos: u64) -> u64 {
        if pos >= self.head {
            pos + self.skip
        } else {
            pos
        }
    }

    /// Stream positions in the session.
    pub fn total(&self, job: &JobFile) -> u64 {
        job.frames.len() as u64 - self.skip
    }

    /// The file-frame equivalent of `acked` committed positions.
    pub fn file_acked(&self, acked: u64) -> u64 {
        if acked > self.head {
            acked + self.skip
        } else {
            acked
        }
    }
}

/// The resume point if `point` (from the controller's `Hello`) continues this job.
pub(super) fn resume_layer(job: &JobFile, point: Option<ResumePoint>) -> Option<u32> {
    point
        .filter(|p| p.job_sha256 == job.job_sha256 && p.next_layer <= job.layer_count())
        .map(|p| p.next_layer)
}

/// The job's header frame (sequence number 0) announcing the job hash: a controller keeps a
/// non-volatile record only of jobs it can identify after a power loss.
pub(super) fn announced_header(job: &JobFile) -> Result<Vec<u8>, FrameError> {
    let first = job.frames.first().ok_or(FrameError::Malformed)?;
    if job.header_sha256.is_some() {
        return Ok(first.clone());
    }
    let raw = meltline_firmware::job::RawFrame {
        index: 0,
        offset: 0,
        wire: first.clone(),
    };
    let mut scratch = Vec::new();
    let frame = raw.decode(&mut scratch)?;
    let Msg::JobHeader(mut h) = frame.msg else {
        return Err(FrameError::Malformed);
    };
    h.job_sha256 = Some(job.job_sha256);
    let mut out = vec![0u8; meltline_firmware::wire::MAX_FRAME];
    let n = encode_frame(frame.seq, &Msg::JobHeader(h), &mut out)?;
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::time::Duration;

    use meltline_firmware::job::{BlockSpec, Geometry, JobSpec, JobWriter};
    use meltline_firmware::machine::MachineConfig;
    use meltline_firmware::nvm::RamRecord;
    use meltline_firmware::sim::{SimMemory, SimOptions, Simulator};
    use meltline_firmware::wire::{ParamSet, Region, VectorKind};

    use super::super::{InProcess, StreamOptions, Transport, stream_job};
    use crate::jobfile::JobFile;

    const LAYERS: u32 = 6;

    /// A job as the slicer writes it: no hash announced in the header.
    fn job() -> JobFile {
        let m = MachineConfig::default();
        let job = JobFile::parse(&job_bytes(), "job.mlj", &m).unwrap();
        assert!(job.header_sha256.is_none());
        job
    }

    /// The same job released with a test key, and the options of a printer that trusts it.
    fn released_job() -> (JobFile, SimOptions) {
        let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let who = meltline_firmware::signing::ReleaseSpec {
            signer: "Dr. A. Quality".into(),
            meaning: "released for manufacturing".into(),
            utc_seconds: 1_796_400_000,
        };
        let bytes = meltline_firmware::signing::release_job(&job_bytes(), &key, &who).unwrap();
        let mut machine = MachineConfig::default();
        let hex = crate::release::hex(key.verifying_key().as_bytes());
        machine
            .trusted_keys
            .push(hex.as_str().try_into().unwrap())
            .unwrap();
        let job = JobFile::parse(&bytes, "released.mlj", &machine).unwrap();
        assert!(job.released);
        let opts = SimOptions {
            machine,
            ..SimOptions::default()
        };
        (job, opts)
    }

    fn job_bytes() -> Vec<u8> {
        let m = MachineConfig::default();
        let spec = JobSpec {
            machine: m.machine.to_string(),
            material: m.material.to_string(),
            quantum_nm: 1000,
            layer_thickness_nm: 30_000,
            layer_count: LAYERS,
            param_sets: vec![ParamSet {
                id: 1,
                power_mw: 200_000,
                mark_speed_mm_s: 1000,
                spot_um: 80,
                hatch_distance_um: 100,
                skywriting: false,
            }],
        };
        let mut w = JobWriter::new(Vec::new(), &spec).unwrap();
        for l in 0..i64::from(LAYERS) {
            let hatches = (0..40 + l).map(|i| [0, 100 * i, 3000 + 100 * l, 100 * i]);
            w.write_layer(&[BlockSpec {
                param_set: 1,
                kind: VectorKind::Hatch,
                region: Region::Core,
                geometry: Geometry::Hatches(hatches.collect()),
            }])
            .unwrap();
        }
        let (bytes, _) = w.finish().unwrap();
        bytes
    }

    fn sim(nv: SimMemory) -> Simulator {
        Simulator::with_nonvolatile(SimOptions::default(), nv)
    }

    fn executed_layers(s: &Simulator) -> Vec<u32> {
        s.report(false).layers.iter().map(|l| l.layer).collect()
    }

    #[test]
    fn a_new_session_continues_a_restarted_controller_from_its_record() {
        let job = job();
        // Power goes once layer 2 is done and stays off: the session gives up.
        let mut t = power_cut(Box::new(RamRecord::default()), 3);
        t.stays_off = true;
        let first = stream_job(&job, &mut t, &StreamOptions::default(), &mut |_| {}).unwrap();
        let why = first.interrupted.unwrap();
        assert!(why.contains("not re-established"), "{why}");
        assert_eq!(t.layers_before_cut, vec![0, 1, 2]);
        assert!(first.progress.layers_committed <= 3);

        let memory = std::mem::replace(&mut t.link.sim, sim(Box::new(()))).power_loss();
        let mut t = InProcess::new(sim(memory));
        let point = t.sim.controller().resume_point().unwrap();
        assert_eq!((point.job_sha256, point.next_layer), (job.job_sha256, 3));
        let second = stream_job(&job, &mut t, &StreamOptions::default(), &mut |_| {}).unwrap();
        assert!(second.verified(), "{second:#?}");
        assert_eq!(second.resumed_at_layer, Some(3));
        assert!(
            second.notes[0].contains("resuming at layer 3"),
            "{:?}",
            second.notes
        );
        let r = t.sim.report(false);
        assert_eq!(executed_layers(&t.sim), vec![3, 4, 5], "no layer again");
        assert_eq!((r.resumed_from, r.layers_skipped.len()), (Some(3), 0));
        assert_eq!(second.report.unwrap().layers, LAYERS);
        let layer_frames = job.frames.len() as u64 - job.layers[3].first_frame;
        assert_eq!(
            second.frames,
            2 + layer_frames,
            "header, parameter set, layers 3.."
        );
    }

    /// The controller behind it loses power at the first send after it completed `layers`
    /// layers and comes back with its memory (or without, when it has none); the connection
    /// drops with it.
    struct PowerCut {
        link: InProcess,
        layers: u32,
        cuts: u32,
        layers_before_cut: Vec<u32>,
        /// After the cut the controller does not come back.
        stays_off: bool,
        /// The printer's options (machine, trusted keys).
        opts: SimOptions,
    }

    impl Transport for PowerCut {
        fn connect(&mut self) -> io::Result<()> {
            if self.stays_off && self.cuts > 0 {
                return Err(io::Error::new(io::ErrorKind::ConnectionRefused, "no power"));
            }
            self.link.connect()
        }
        fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
            if self.cuts == 0 && self.link.sim.controller().report().layers >= self.layers {
                self.cuts += 1;
                let old = std::mem::replace(&mut self.link.sim, sim(Box::new(())));
                self.layers_before_cut = executed_layers(&old);
                let back = Simulator::with_nonvolatile(self.opts.clone(), old.power_loss());
                self.link = InProcess::new(back);
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "power cut"));
            }
            self.link.send(bytes)
        }
        fn recv(&mut self, buf: &mut Vec<u8>, timeout: Duration) -> io::Result<usize> {
            self.link.recv(buf, timeout)
        }
        fn disconnect(&mut self) {
            self.link.disconnect();
        }
        fn synchronous(&self) -> bool {
            true
        }
    }

    fn power_cut(nv: SimMemory, layers: u32) -> PowerCut {
        power_cut_on(SimOptions::default(), nv, layers)
    }

    fn power_cut_on(opts: SimOptions, nv: SimMemory, layers: u32) -> PowerCut {
        PowerCut {
            link: InProcess::new(Simulator::with_nonvolatile(opts.clone(), nv)),
            layers,
            cuts: 0,
            layers_before_cut: Vec::new(),
            stays_off: false,
            opts,
        }
    }

    #[test]
    fn a_released_job_is_continued_from_the_record_without_resending_completed_layers() {
        let (job, opts) = released_job();
        let mut t = power_cut_on(opts, Box::new(RamRecord::default()), 2);
        let out = stream_job(&job, &mut t, &StreamOptions::default(), &mut |_| {}).unwrap();
        assert_eq!(t.cuts, 1);
        assert!(out.verified(), "{out:#?}");
        let k = out.resumed_at_layer.unwrap();
        assert_eq!(t.layers_before_cut, (0..k).collect::<Vec<_>>());
        let r = t.link.sim.report(false);
        assert_eq!(
            executed_layers(&t.link.sim),
            (k..LAYERS).collect::<Vec<_>>(),
            "each layer once, the completed ones not sent again"
        );
        assert!(r.layers_skipped.is_empty(), "{:?}", r.layers_skipped);
        assert!(r.release.is_some_and(|x| x.verified));
    }

    #[test]
    fn a_controller_restarting_mid_stream_is_continued_from_its_record() {
        let job = job();
        let mut t = power_cut(Box::new(RamRecord::default()), 2);
        let out = stream_job(&job, &mut t, &StreamOptions::default(), &mut |_| {}).unwrap();
        assert_eq!(t.cuts, 1);
        assert!(out.verified(), "{out:#?}");
        assert_eq!(out.controller_restarts, 1);
        let k = out.resumed_at_layer.unwrap();
        assert_eq!(t.layers_before_cut, (0..k).collect::<Vec<_>>());
        assert_eq!(
            executed_layers(&t.link.sim),
            (k..LAYERS).collect::<Vec<_>>()
        );
        assert!(
            out.notes[0].contains("the controller restarted"),
            "{:?}",
            out.notes
        );
    }

    #[test]
    fn a_controller_restarting_without_memory_stops_the_stream() {
        let job = job();
        let mut t = power_cut(Box::new(()), 2);
        let out = stream_job(&job, &mut t, &StreamOptions::default(), &mut |_| {}).unwrap();
        let why = out.interrupted.unwrap();
        assert!(why.contains("without a record of this job"), "{why}");
        assert!(
            executed_layers(&t.link.sim).is_empty(),
            "nothing exposed again"
        );
    }
}
