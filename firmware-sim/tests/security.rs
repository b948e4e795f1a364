//! Released jobs and the authenticated link, each against the real `meltline-fw` over TCP on
//! 127.0.0.1: an unauthenticated client can neither start a job nor pause or abort a running
//! one; a recorded session replayed is refused; a released job with one layer altered never
//! exposes that layer; a job signed by an untrusted key, or unsigned, is refused; a released
//! job from an authorised host runs and its report carries the release record.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use ed25519_dalek::SigningKey;
use meltline_firmware::auth::{HostHandshake, Opener, Sealer};
use meltline_firmware::job::{BlockSpec, FrameReader, Geometry, JobSpec, encode_job};
use meltline_firmware::signing::{ReleaseSpec, release_job};
use meltline_firmware::wire::{
    ControllerState, Hello, MAX_FRAME, Msg, NakReason, ParamSet, Region, Status, VectorKind,
    encode_frame, parse_body, unstuff_frame,
};
use serde_json::Value;

const LAYERS: usize = 4;

fn spec() -> JobSpec {
    JobSpec {
        machine: "meltline-sim-250".into(),
        material: "Ti-6Al-4V".into(),
        quantum_nm: 1000,
        layer_thickness_nm: 30_000,
        layer_count: LAYERS as u32,
        param_sets: vec![ParamSet {
            id: 1,
            power_mw: 200_000,
            mark_speed_mm_s: 1000,
            spot_um: 80,
            hatch_distance_um: 100,
            skywriting: false,
        }],
    }
}

/// Layers of 40 hatch lines; `shift` moves the first line of layer `layer` by 1 µm.
fn layers(shift: Option<usize>) -> Vec<Vec<BlockSpec>> {
    (0..LAYERS)
        .map(|k| {
            let mut lines: Vec<[i64; 4]> = (0..40).map(|i| [0, i * 100, 4000, i * 100]).collect();
            if shift == Some(k) {
                lines[0][2] += 1;
            }
            vec![BlockSpec {
                param_set: 1,
                kind: VectorKind::Hatch,
                region: Region::Core,
                geometry: Geometry::Hatches(lines),
            }]
        })
        .collect()
}

fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn released(key: &SigningKey) -> Vec<u8> {
    let (job, _) = encode_job(&spec(), &layers(None)).unwrap();
    let who = ReleaseSpec {
        signer: "Dr. A. Quality".into(),
        meaning: "released for manufacturing".into(),
        utc_seconds: 1_796_400_000,
    };
    release_job(&job, key, &who).unwrap()
}

fn bodies(job: &[u8]) -> Vec<Vec<u8>> {
    FrameReader::new(job)
        .map(|raw| {
            let mut w = raw.unwrap().wire;
            w.pop();
            unstuff_frame(&mut w).unwrap().to_vec()
        })
        .collect()
}

/// Frames of `bodies` renumbered from 0 and framed again.
fn frames(bodies: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (seq, b) in bodies.iter().enumerate() {
        let f = parse_body(b).unwrap();
        let mut buf = [0u8; MAX_FRAME];
        let n = encode_frame(seq as u32, &f.msg, &mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// The released job with layer `k`'s frames (start, blocks, end: digest and CRCs consistent)
/// replaced by those of a job whose layer `k` has one line moved; its `LayerLink` is kept.
fn tampered(key: &SigningKey, k: usize) -> Vec<u8> {
    let (other, _) = encode_job(&spec(), &layers(Some(k))).unwrap();
    let other = bodies(&other);
    let layer_of = |b: &Vec<u8>, k: u32| match parse_body(b).unwrap().msg {
        Msg::LayerStart(l) => l.layer == k,
        Msg::LayerEnd(e) => e.layer == k,
        _ => false,
    };
    let range = |bs: &[Vec<u8>]| {
        let start = bs.iter().position(|b| layer_of(b, k as u32)).unwrap();
        let end = start
            + 1
            + bs[start + 1..]
                .iter()
                .position(|b| layer_of(b, k as u32))
                .unwrap();
        (start, end)
    };
    let mut mine = bodies(&released(key));
    let (s, e) = range(&mine);
    let (os, oe) = range(&other);
    let link = mine[e - 1].clone();
    assert!(matches!(parse_body(&link).unwrap().msg, Msg::LayerLink(_)));
    let mut layer = other[os..oe].to_vec();
    layer.push(link);
    layer.push(other[oe].clone());
    mine.splice(s..=e, layer);
    frames(&mine)
}

struct Printer {
    child: Child,
    addr: String,
    dir: tempfile::TempDir,
}

impl Printer {
    fn start(extra: &[&str], trust: &[&SigningKey], link: Option<[u8; 32]>) -> Printer {
        let dir = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = vec!["--listen".into(), "127.0.0.1:0".into()];
        for (i, k) in trust.iter().enumerate() {
            let p = dir.path().join(format!("trusted{i}.pub"));
            std::fs::write(&p, hex(k.verifying_key().as_bytes()) + "\n").unwrap();
            args.extend(["--trust".into(), p.display().to_string()]);
        }
        if let Some(key) = link {
            let p = dir.path().join("printer.link");
            std::fs::write(&p, hex(&key)).unwrap();
            args.extend(["--link-key".into(), p.display().to_string()]);
        }
        for p in ["report.json", "layers.jsonl"] {
            let flag = if p == "report.json" {
                "--report"
            } else {
                "--layer-log"
            };
            args.extend([flag.into(), dir.path().join(p).display().to_string()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_meltline-fw"))
            .args(&args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let addr = line.trim().rsplit(' ').next().unwrap().to_string();
        // Keep draining stderr so the daemon never blocks on it.
        std::thread::spawn(move || for _ in stderr.lines() {});
        Printer { child, addr, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Waits for the daemon (`--once`) and returns its report.
    fn finish(mut self) -> (Value, Vec<u32>, tempfile::TempDir) {
        self.child.wait().unwrap();
        self.report_and_log()
    }

    /// Stops the daemon and returns its report.
    fn stop(mut self) -> (Value, Vec<u32>, tempfile::TempDir) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.report_and_log()
    }

    fn report_and_log(&mut self) -> (Value, Vec<u32>, tempfile::TempDir) {
        let report = std::fs::read(self.path("report.json"))
            .map(|b| serde_json::from_slice(&b).unwrap())
            .unwrap_or(Value::Null);
        let log = std::fs::read_to_string(self.path("layers.jsonl")).unwrap_or_default();
        let layers = log
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["layer"]
                    .as_u64()
                    .unwrap() as u32
            })
            .collect();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        (report, layers, dir)
    }
}

impl Drop for Printer {
    fn drop(&mut self) {
        // A failed test must not leave a daemon behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A host connection, authenticated or not; records every byte it sends.
struct Client {
    stream: TcpStream,
    frames: FrameReader<TcpStream>,
    sealer: Option<Sealer>,
    opener: Option<Opener>,
    sent: Vec<u8>,
}

impl Client {
    fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        Client {
            frames: FrameReader::new(stream.try_clone().unwrap()),
            stream,
            sealer: None,
            opener: None,
            sent: Vec::new(),
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
        self.sent.extend_from_slice(bytes);
    }

    fn send(&mut self, msg: &Msg<'_>) {
        let mut buf = [0u8; MAX_FRAME];
        let n = match self.sealer.as_mut() {
            Some(s) => s.seal_frame(0, msg, &mut buf).unwrap(),
            None => encode_frame(0, msg, &mut buf).unwrap(),
        };
        self.write(&buf[..n]);
    }

    /// Sends job frames from sequence number `from`, sealed in a session.
    fn send_job(&mut self, job: &[u8], from: usize, to: usize) {
        for body in bodies(job).iter().take(to).skip(from) {
            let mut buf = [0u8; MAX_FRAME];
            let n = match self.sealer.as_mut() {
                Some(s) => s.seal_body(body, &mut buf).unwrap(),
                None => meltline_firmware::wire::seal_body(body, &mut buf).unwrap(),
            };
            self.write(&buf[..n]);
        }
    }

    /// The next reply's body, opened when in a session.
    fn recv(&mut self) -> Vec<u8> {
        let mut wire = self.frames.next().unwrap().unwrap().wire;
        wire.pop();
        let body = unstuff_frame(&mut wire).unwrap();
        match self.opener.as_mut() {
            Some(o) => o.open(body).unwrap().to_vec(),
            None => body.to_vec(),
        }
    }

    /// Replies until `stop` says so; returns the messages' debug forms.
    fn recv_until(&mut self, stop: impl Fn(&Msg<'_>) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let body = self.recv();
            let msg = parse_body(&body).unwrap().msg;
            seen.push(format!("{msg:?}"));
            if stop(&msg) {
                return seen;
            }
        }
    }

    fn hello(&mut self) {
        self.send(&Msg::Hello(Hello {
            protocol: 3,
            machine: "meltline-sim-250",
            max_frame: MAX_FRAME as u16,
            arena_bytes: 0,
            param_sets: 0,
            resume: None,
        }));
        self.recv_until(|m| matches!(m, Msg::Ack(_)));
    }

    /// Opens an authenticated session; returns the controller's status.
    fn authenticate(&mut self, key: [u8; 32], nonce: [u8; 32]) -> Status {
        self.hello();
        let hs = HostHandshake::new(key, nonce);
        self.send(&hs.hello());
        let body = self.recv();
        let Msg::AuthChallenge(c) = parse_body(&body).unwrap().msg else {
            panic!("no challenge")
        };
        let (proof, sealer, opener) = hs.answer(&c).unwrap();
        self.send(&proof);
        self.sealer = Some(sealer);
        self.opener = Some(opener);
        let body = self.recv();
        match parse_body(&body).unwrap().msg {
            Msg::Status(s) => s,
            other => panic!("no sealed status after the proof: {other:?}"),
        }
    }
}

fn refused(seen: &[String]) -> bool {
    seen.iter()
        .any(|m| m.contains(&format!("{:?}", NakReason::Unauthenticated)))
}

const LINK: [u8; 32] = [0x5a; 32];

#[test]
fn an_unauthenticated_client_cannot_start_a_job() {
    let printer = Printer::start(&["--autostart"], &[], Some(LINK));
    let (job, _) = encode_job(&spec(), &layers(None)).unwrap();
    let mut c = Client::connect(&printer.addr);
    c.write(&job);
    c.send(&Msg::Start);
    // Every job frame and the Start are answered `Nak(Unauthenticated)`.
    let n = bodies(&job).len() + 1;
    let seen: Vec<String> = (0..n)
        .flat_map(|_| c.recv_until(|m| matches!(m, Msg::Nak(_))))
        .collect();
    assert_eq!(seen.len(), n, "{seen:?}");
    assert!(
        seen.iter().all(|m| m.contains("Unauthenticated")),
        "{seen:?}"
    );
    drop(c);
    // The authorised host finds the controller idle with nothing accepted.
    let mut host = Client::connect(&printer.addr);
    let status = host.authenticate(LINK, [9; 32]);
    assert_eq!(status.state, ControllerState::Idle);
    assert_eq!(status.committed_seq, u32::MAX);
    drop(host);
    let (_, layers, _dir) = printer.stop();
    assert!(layers.is_empty());
}

#[test]
fn an_unauthenticated_client_can_neither_pause_nor_abort_a_running_job() {
    let printer = Printer::start(&["--autostart", "--once"], &[], Some(LINK));
    let (job, summary) = encode_job(&spec(), &layers(None)).unwrap();
    let total = bodies(&job).len();
    // The authorised host sends the first half of the job; it starts printing.
    let mut host = Client::connect(&printer.addr);
    let next = host
        .authenticate(LINK, [1; 32])
        .committed_seq
        .wrapping_add(1);
    assert_eq!(next, 0);
    host.send_job(&job, 0, total / 2);
    host.send(&Msg::StatusRequest);
    let seen = host.recv_until(|m| matches!(m, Msg::Status(_)));
    assert!(seen.last().unwrap().contains("Printing"), "{seen:?}");
    drop(host);
    // Someone without the key tries to pause, abort and interfere.
    let mut intruder = Client::connect(&printer.addr);
    for msg in [Msg::Pause, Msg::Abort, Msg::StatusRequest, Msg::Start] {
        intruder.send(&msg);
        let seen = intruder.recv_until(|m| matches!(m, Msg::Nak(_)));
        assert!(refused(&seen), "{msg:?} answered {seen:?}");
    }
    drop(intruder);
    // The authorised host reconnects and finishes the job.
    let mut host = Client::connect(&printer.addr);
    let next = host
        .authenticate(LINK, [2; 32])
        .committed_seq
        .wrapping_add(1) as usize;
    assert_eq!(next, total / 2);
    host.send_job(&job, next, total);
    let seen = host.recv_until(|m| matches!(m, Msg::Report(_)));
    let last = seen.last().unwrap();
    assert!(last.contains("Done"), "{seen:?}");
    drop(host);
    let (report, layers, _dir) = printer.finish();
    assert_eq!(report["state"], "Done");
    assert_eq!(report["executed_sha256"], hex(&summary.job_sha256));
    assert_eq!(layers, (0..LAYERS as u32).collect::<Vec<_>>());
}

#[test]
fn a_replayed_session_is_refused() {
    let (job, _) = encode_job(&spec(), &layers(None)).unwrap();
    let printer = Printer::start(&["--autostart", "--once"], &[], Some(LINK));
    let mut host = Client::connect(&printer.addr);
    host.authenticate(LINK, [3; 32]);
    host.send_job(&job, 0, usize::MAX);
    host.recv_until(|m| matches!(m, Msg::Report(_)));
    let captured = std::mem::take(&mut host.sent);
    drop(host);
    let (report, layers, _dir) = printer.finish();
    assert_eq!(report["state"], "Done");
    assert_eq!(layers.len(), LAYERS);

    // The same bytes, verbatim, to a printer: the handshake and every frame after it fail.
    let printer = Printer::start(&["--autostart"], &[], Some(LINK));
    let mut replay = Client::connect(&printer.addr);
    replay.write(&captured);
    let seen = replay.recv_until(|m| matches!(m, Msg::Nak(_)));
    assert!(refused(&seen), "{seen:?}");
    let seen = replay.recv_until(|m| matches!(m, Msg::Nak(_)));
    assert!(refused(&seen), "{seen:?}");
    drop(replay);
    let mut host = Client::connect(&printer.addr);
    let status = host.authenticate(LINK, [5; 32]);
    assert_eq!(status.state, ControllerState::Idle);
    assert_eq!(status.committed_seq, u32::MAX);
    drop(host);
    let (_, layers, _dir) = printer.stop();
    assert!(layers.is_empty());
}

fn run_plain(printer: &Printer, job: &[u8]) {
    let mut c = Client::connect(&printer.addr);
    c.write(job);
    c.recv_until(|m| matches!(m, Msg::Report(_)));
}

fn fault_of(report: &Value) -> (String, Option<u64>) {
    let f = &report["faults"][0];
    (
        f["rule"].as_str().unwrap_or("").to_string(),
        f["layer"].as_u64(),
    )
}

#[test]
fn a_released_job_with_one_layer_altered_never_exposes_that_layer() {
    let key = signing_key(1);
    for k in [0usize, 2] {
        let printer = Printer::start(&["--autostart", "--once"], &[&key], None);
        run_plain(&printer, &tampered(&key, k));
        let (report, layers, _dir) = printer.finish();
        assert_eq!(report["state"], "Faulted", "{report}");
        assert_eq!(
            fault_of(&report),
            ("LayerNotReleased".to_string(), Some(k as u64))
        );
        assert_eq!(layers, (0..k as u32).collect::<Vec<_>>(), "layer {k}");
    }
}

#[test]
fn a_job_signed_by_an_untrusted_key_or_unsigned_is_refused_before_layer_zero() {
    let trusted = signing_key(1);
    let stranger = signing_key(2);
    let (unsigned, _) = encode_job(&spec(), &layers(None)).unwrap();
    for (job, rule) in [
        (released(&stranger), "ReleaseKeyUntrusted"),
        (unsigned, "ReleaseMissing"),
    ] {
        let printer = Printer::start(&["--autostart", "--once"], &[&trusted], None);
        run_plain(&printer, &job);
        let (report, layers, _dir) = printer.finish();
        assert_eq!(report["state"], "Faulted", "{report}");
        assert_eq!(fault_of(&report).0, rule);
        assert!(layers.is_empty(), "{rule}: {layers:?}");
    }
}

#[test]
fn a_released_job_from_an_authorised_host_runs_and_its_report_carries_the_release() {
    let key = signing_key(1);
    let job = released(&key);
    let printer = Printer::start(&["--autostart", "--once"], &[&key], Some(LINK));
    let mut host = Client::connect(&printer.addr);
    host.authenticate(LINK, [4; 32]);
    host.send_job(&job, 0, usize::MAX);
    let seen = host.recv_until(|m| matches!(m, Msg::Report(_)));
    assert!(seen.last().unwrap().contains("Done"), "{seen:?}");
    drop(host);
    let (report, layers, _dir) = printer.finish();
    assert_eq!(report["state"], "Done");
    assert_eq!(layers.len(), LAYERS);
    let r = &report["release"];
    assert_eq!(r["signer"], "Dr. A. Quality");
    assert_eq!(r["meaning"], "released for manufacturing");
    assert_eq!(r["verified"], true);
    assert_eq!(r["utc"], "2026-12-04T16:00:00Z");
    let id = meltline_firmware::wire::release::key_id(key.verifying_key().as_bytes());
    assert_eq!(r["key_id"], hex(&id));
}

#[test]
fn listening_beyond_loopback_without_a_link_key_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_meltline-fw"))
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without --link-key"), "{err}");
}
