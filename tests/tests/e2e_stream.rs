//! End-to-end: slice → `.mlj` → stream over loopback TCP through a faulty link to the
//! simulated controller → the executed hash equals the job hash; corrupted and out-of-field
//! jobs are refused; a `meltline-fw` process killed mid-job and started again on its
//! non-volatile record continues the build with no layer exposed twice.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meltline_core::mesh::Mesh;
use meltline_firmware::job::{BlockSpec, Geometry, JobSpec, encode_job};
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::sim::{SimOptions, Simulator};
use meltline_firmware::wire::{ParamSet, Region, Rule, VectorKind};
use meltline_host::faults::FaultSpec;
use meltline_host::jobfile::JobFile;
use meltline_host::link::{StreamOptions, Tcp, stream_job};
use meltline_host::loopback::LoopbackController;
use meltline_host::mlj::{MljOptions, write_mlj_layers};
use meltline_slicer::job::{Slicer, SlicerOptions};
use meltline_slicer::profile::ProcessProfile;

fn machine() -> MachineConfig {
    MachineConfig::default()
}

/// A small box sliced with the Ti-6Al-4V profile and written as a job file.
fn sliced_box(dir: &std::path::Path) -> JobFile {
    let part = Mesh::axis_aligned_box([-5.0, -4.0, 0.0], [5.0, 4.0, 0.45]);
    let slicer = Slicer::new(&part, ProcessProfile::ti6al4v(), SlicerOptions::default()).unwrap();
    let path = dir.join("box.mlj");
    let opts = MljOptions {
        machine: Some(machine().machine.to_string()),
        ..MljOptions::default()
    };
    let header = slicer.header().clone();
    write_mlj_layers(
        &header,
        slicer.layers().map(std::borrow::Cow::Owned),
        &path,
        &opts,
    )
    .unwrap();
    JobFile::read(&path).unwrap()
}

fn controller() -> LoopbackController {
    LoopbackController::start(Simulator::new(SimOptions {
        machine: machine(),
        exposure: false,
        ..SimOptions::default()
    }))
    .unwrap()
}

fn tcp(ctl: &LoopbackController) -> Tcp {
    let mut t = Tcp::new(&ctl.addr().to_string()).unwrap();
    t.connect_for = Duration::from_millis(500);
    t
}

#[test]
fn sliced_job_streams_over_tcp_through_faults_with_equal_hashes_and_vector_counts() {
    let dir = tempfile::tempdir().unwrap();
    let job = sliced_box(dir.path());
    let ctl = controller();
    let opts = StreamOptions {
        faults: Some(
            "drop=0.02,corrupt=0.02,dup=0.01,disconnect-every=70,seed=3"
                .parse::<FaultSpec>()
                .unwrap(),
        ),
        ..StreamOptions::default()
    };
    let out = stream_job(&job, &mut tcp(&ctl), &opts, &mut |_| {}).unwrap();
    let sim = ctl.stop();
    let report = sim.report(true);
    assert!(out.verified(), "{out:#?}");
    assert_eq!(
        out.executed_sha256.as_deref(),
        Some(out.job_sha256.as_str())
    );
    assert_eq!(out.report.unwrap().vectors, job.vectors(), "vector counts");
    assert!(
        out.link_faults.dropped + out.link_faults.corrupted > 0,
        "faults were injected"
    );
    assert!(out.link_faults.disconnects > 0 && out.reconnects > 0);
    let layers: Vec<u32> = report.layers.iter().map(|l| l.layer).collect();
    assert_eq!(layers, (0..job.layer_count()).collect::<Vec<_>>());
}

#[test]
fn corrupted_job_file_is_refused_naming_the_frame() {
    let dir = tempfile::tempdir().unwrap();
    let job = sliced_box(dir.path());
    let path = dir.path().join("box.mlj");
    let mut bytes = std::fs::read(&path).unwrap();
    let victim = job.layers[1].first_frame as usize + 1;
    let offset: usize = job.frames[..victim].iter().map(Vec::len).sum();
    bytes[offset + 3] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    let err = JobFile::read(&path).unwrap_err().to_string();
    assert!(
        err.contains(&format!("frame {victim}")) && err.contains(&format!("byte offset {offset}")),
        "{err}"
    );
}

#[test]
fn out_of_field_job_is_refused_before_anything_is_exposed() {
    let m = machine();
    let spec = JobSpec {
        machine: m.machine.to_string(),
        material: m.material.to_string(),
        quantum_nm: 1000,
        layer_thickness_nm: 30_000,
        layer_count: 2,
        param_sets: vec![ParamSet {
            id: 1,
            power_mw: 200_000,
            mark_speed_mm_s: 1000,
            spot_um: 80,
            hatch_distance_um: 100,
            skywriting: false,
        }],
    };
    let inside: Vec<[i64; 4]> = (0..20).map(|i| [0, 100 * i, 5000, 100 * i]).collect();
    let mut outside = inside.clone();
    outside.push([0, 0, 200_000, 0]); // 200 mm: outside the ±125 mm field
    let layer = |h: Vec<[i64; 4]>| {
        vec![BlockSpec {
            param_set: 1,
            kind: VectorKind::Hatch,
            region: Region::Core,
            geometry: Geometry::Hatches(h),
        }]
    };
    let (bytes, _) = encode_job(&spec, &[layer(outside), layer(inside)]).unwrap();
    let job = JobFile::parse(&bytes, "outside.mlj", &m).unwrap();
    let ctl = controller();
    let out = stream_job(&job, &mut tcp(&ctl), &StreamOptions::default(), &mut |_| {}).unwrap();
    let report = ctl.stop().report(true);
    assert!(!out.verified());
    assert_eq!(out.faults.len(), 1, "{out:#?}");
    let f = out.faults[0];
    assert_eq!(
        (f.rule, f.layer, f.block, f.vector),
        (Rule::OutsideField, 0, 0, 20)
    );
    assert_eq!(report.layers_executed, 0);
    assert_eq!(report.total.marks, 0, "nothing exposed");
}

/// A `meltline-fw` process listening on a loopback port with its non-volatile record and
/// its layer log in a directory; killed when dropped, so a failing test leaves no process.
struct Firmware {
    child: Option<std::process::Child>,
    pid: u32,
    addr: String,
    stderr: std::path::PathBuf,
}

impl Drop for Firmware {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Firmware {
    fn start(dir: &Path, name: &str, listen: &str, extra: &[&str]) -> Firmware {
        let stderr = dir.join(format!("{name}.stderr"));
        let child = Command::new(env!("CARGO_BIN_EXE_meltline-fw-under-test"))
            .args(["--listen", listen, "--nvm"])
            .arg(dir.join("controller.nvm"))
            .arg("--layer-log")
            .arg(dir.join("layers.jsonl"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut fw = Firmware {
            pid: child.id(),
            child: Some(child),
            addr: String::new(),
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = fw.stderr();
            // Only a whole line: the process may be writing it as it is read.
            if let Some(addr) = text
                .split_inclusive('\n')
                .filter(|l| l.ends_with('\n'))
                .find_map(|l| l.strip_prefix("meltline-fw: listening on "))
            {
                fw.addr = addr.trim().to_string();
                return fw;
            }
            assert!(
                Instant::now() < deadline,
                "meltline-fw did not start: {text}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

/// One line of `meltline-fw --layer-log`.
#[derive(Debug)]
struct LoggedLayer {
    pid: u32,
    layer: u32,
    digest: String,
    marks: u64,
}

fn layer_log(path: &Path) -> Vec<LoggedLayer> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            LoggedLayer {
                pid: v["pid"].as_u64().unwrap() as u32,
                layer: v["layer"].as_u64().unwrap() as u32,
                digest: v["digest"].as_str().unwrap().to_string(),
                marks: v["marks"].as_u64().unwrap(),
            }
        })
        .collect()
}

/// Checks the layer log of the two processes: no layer completed twice; the first process
/// completed the layers before `k`, the second those from `k` on, each with the file's digest
/// and vector count.
fn assert_each_layer_completed_once(log: &Path, job: &JobFile, k: u32, pids: (u32, u32)) {
    let n = job.layer_count();
    let mut seen = vec![0u32; n as usize];
    for l in layer_log(log) {
        seen[l.layer as usize] += 1;
        let info = &job.layers[l.layer as usize];
        assert_eq!(
            (&l.digest, l.marks),
            (&info.digest, info.vectors),
            "layer {}",
            l.layer
        );
        let by = if l.layer < k { pids.0 } else { pids.1 };
        assert_eq!(
            l.pid, by,
            "layer {} executed by the process alive then",
            l.layer
        );
    }
    assert!(
        seen.iter().all(|&c| c <= 1),
        "no layer exposed twice: {seen:?}"
    );
    // A kill landing between the record write and the log line leaves the last layer the
    // first process completed unlogged (it is in its record, so it is not exposed again).
    let missing: Vec<u32> = (0..n).filter(|&l| seen[l as usize] == 0).collect();
    assert!(
        missing.is_empty() || missing == [k - 1],
        "layers never completed: {missing:?}"
    );
}

#[test]
fn controller_killed_mid_job_reports_where_it_stopped_and_resumes_exposing_each_layer_once() {
    let dir = tempfile::tempdir().unwrap();
    let job = sliced_box(dir.path());
    let n = job.layer_count();
    let log = dir.path().join("layers.jsonl");

    // The controller process is killed (SIGKILL) while the job streams, after some layers.
    let mut first_fw = Firmware::start(dir.path(), "first", "127.0.0.1:0", &[]);
    let first_pid = first_fw.pid;
    let mut tcp = Tcp::new(&first_fw.addr).unwrap();
    tcp.connect_for = Duration::from_millis(300);
    let opts = StreamOptions {
        max_reconnects: 2,
        ..StreamOptions::default()
    };
    let first = stream_job(&job, &mut tcp, &opts, &mut |p| {
        if p.layers_committed >= 3
            && let Some(mut c) = first_fw.child.take()
        {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    })
    .unwrap();
    assert!(
        first_fw.child.is_none(),
        "the controller was killed mid-job"
    );
    let why = first
        .interrupted
        .clone()
        .expect("the stream reports the interruption");
    assert!(why.contains("not re-established"), "{why}");
    let stopped = first.progress.layers_committed;
    assert!((3..n).contains(&stopped), "{first:#?}");
    assert!(first.report.is_none());

    // Started again with the same record, it offers the job; a new stream resumes it.
    let mut second_fw = Firmware::start(dir.path(), "second", "127.0.0.1:0", &["--once"]);
    let mut tcp = Tcp::new(&second_fw.addr).unwrap();
    tcp.connect_for = Duration::from_millis(500);
    let second = stream_job(&job, &mut tcp, &StreamOptions::default(), &mut |_| {}).unwrap();
    let status = second_fw.child.take().unwrap().wait().unwrap();
    assert!(second.verified(), "{second:#?}\n{}", second_fw.stderr());
    assert!(status.success(), "{}", second_fw.stderr());
    let k = second.resumed_at_layer.expect("resumed from the record");
    eprintln!(
        "killed with {stopped} of {n} layers committed; resumed at layer {k}: {}",
        second.notes.join("; ")
    );
    assert!(
        second_fw
            .stderr()
            .contains(&format!("stopped after {k} layers")),
        "{}",
        second_fw.stderr()
    );
    assert!(
        second.notes[0].contains(&format!("resuming at layer {k}")),
        "{:?}",
        second.notes
    );
    let report = second.report.unwrap();
    assert_eq!((report.layers, report.vectors), (n, job.vectors()));
    assert!(
        second.frames < job.frames.len() as u64,
        "not the whole job again"
    );

    // The build log of both processes: every layer completed exactly once, by the process
    // that was alive then.
    assert_each_layer_completed_once(&log, &job, k, (first_pid, second_fw.pid));
    assert!(
        k >= 2,
        "the record kept the layers completed before the kill"
    );
}

#[test]
fn controller_killed_and_restarted_on_its_port_is_continued_by_the_same_stream() {
    let dir = tempfile::tempdir().unwrap();
    let job = sliced_box(dir.path());
    let n = job.layer_count();
    let mut first_fw = Firmware::start(dir.path(), "first", "127.0.0.1:0", &[]);
    let addr = first_fw.addr.clone();
    let mut second_fw: Option<Firmware> = None;
    let mut tcp = Tcp::new(&addr).unwrap();
    tcp.connect_for = Duration::from_secs(5);
    // Killed after some layers and started again at once on the same port with the same
    // record: the stream reconnects to a fresh controller and continues from its record.
    let out = stream_job(&job, &mut tcp, &StreamOptions::default(), &mut |p| {
        if p.layers_committed >= 4
            && let Some(mut c) = first_fw.child.take()
        {
            c.kill().unwrap();
            c.wait().unwrap();
            second_fw = Some(Firmware::start(dir.path(), "second", &addr, &["--once"]));
        }
    })
    .unwrap();
    let mut second_fw = second_fw.expect("the controller was killed and restarted");
    let status = second_fw.child.take().unwrap().wait().unwrap();
    assert!(out.verified(), "{out:#?}\n{}", second_fw.stderr());
    assert!(status.success(), "{}", second_fw.stderr());
    assert_eq!(out.controller_restarts, 1, "{out:#?}");
    let k = out.resumed_at_layer.expect("resumed from the record");
    assert!((2..n).contains(&k), "{out:#?}");
    assert!(
        out.notes[0].contains("the controller restarted")
            && out.notes[0].contains(&format!("resuming at layer {k}")),
        "{:?}",
        out.notes
    );
    let report = out.report.unwrap();
    assert_eq!((report.layers, report.vectors), (n, job.vectors()));
    let log = dir.path().join("layers.jsonl");
    assert_each_layer_completed_once(&log, &job, k, (first_fw.pid, second_fw.pid));
}

#[test]
fn a_released_job_on_a_killed_controller_is_continued_by_an_authenticated_host_at_the_next_layer() {
    use meltline_firmware::signing::{ReleaseSpec, release_job};
    use meltline_host::link::secure::Authenticated;
    use meltline_host::release::{read_hex_key, read_signing_key, write_key_pair, write_link_key};

    let dir = tempfile::tempdir().unwrap();
    let plain = sliced_box(dir.path());
    let (private, public) = write_key_pair(&dir.path().join("quality")).unwrap();
    let who = ReleaseSpec {
        signer: "Dr. A. Quality".into(),
        meaning: "released for manufacturing".into(),
        utc_seconds: 1_796_400_000,
    };
    let bytes = std::fs::read(dir.path().join("box.mlj")).unwrap();
    let released = release_job(&bytes, &read_signing_key(&private).unwrap(), &who).unwrap();
    let path = dir.path().join("released.mlj");
    std::fs::write(&path, released).unwrap();
    let job = JobFile::read(&path).unwrap();
    assert!(job.released);
    let n = job.layer_count();
    assert_eq!(n, plain.layer_count());
    let link = write_link_key(&dir.path().join("printer")).unwrap();
    let key = read_hex_key(&link).unwrap();
    let (public, link) = (public.display().to_string(), link.display().to_string());
    let trust = ["--trust", public.as_str(), "--link-key", link.as_str()];

    // Killed (SIGKILL) after some layers of the released job, sent through an authenticated link.
    let mut first_fw = Firmware::start(dir.path(), "first", "127.0.0.1:0", &trust);
    let first_pid = first_fw.pid;
    let mut tcp = Tcp::new(&first_fw.addr).unwrap();
    tcp.connect_for = Duration::from_millis(300);
    let mut secure = Authenticated::new(tcp, key);
    let opts = StreamOptions {
        max_reconnects: 2,
        ..StreamOptions::default()
    };
    let first = stream_job(&job, &mut secure, &opts, &mut |p| {
        if p.layers_committed >= 3
            && let Some(mut c) = first_fw.child.take()
        {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    })
    .unwrap();
    assert!(
        first_fw.child.is_none(),
        "the controller was killed mid-job"
    );
    assert!(first.report.is_none());

    // Started again on its record with the same keys: the authenticated host sends the header,
    // the release, the parameter sets and the remaining layers only; the build completes.
    let mut second_fw = Firmware::start(
        dir.path(),
        "second",
        "127.0.0.1:0",
        &[&trust[..], &["--once"]].concat(),
    );
    let mut tcp = Tcp::new(&second_fw.addr).unwrap();
    tcp.connect_for = Duration::from_millis(500);
    let mut secure = Authenticated::new(tcp, key);
    let second = stream_job(&job, &mut secure, &StreamOptions::default(), &mut |_| {}).unwrap();
    let status = second_fw.child.take().unwrap().wait().unwrap();
    assert!(second.verified(), "{second:#?}\n{}", second_fw.stderr());
    assert!(status.success(), "{}", second_fw.stderr());
    let k = second.resumed_at_layer.expect("resumed from the record");
    assert!(k >= 2, "the record kept the completed layers: {k}");
    let report = second.report.unwrap();
    assert_eq!((report.layers, report.vectors), (n, job.vectors()));
    assert!(
        second.frames < job.frames.len() as u64,
        "the completed layers were not sent again"
    );
    assert_each_layer_completed_once(
        &dir.path().join("layers.jsonl"),
        &job,
        k,
        (first_pid, second_fw.pid),
    );
}
