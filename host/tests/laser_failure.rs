//! A laser fails mid-build on the four-laser machine: the controller stops before the layer,
//! the host plans the remaining layers onto the lasers still up and the controller continues;
//! a part no remaining laser reaches is skipped and named; nothing is exposed twice and each
//! part's executed hash is that of the job that continued.

use std::path::Path;
use std::process::Command;

use meltline_firmware::controller::ReplySink;
use meltline_firmware::job::{FrameReader, decode_wire};
use meltline_firmware::lasers::builtin_machine;
use meltline_firmware::machine::{LaserFailure, MachineConfig};
use meltline_firmware::sim::{SimOptions, Simulator};
use meltline_firmware::wire::digest::PartDigest;
use meltline_firmware::wire::{Frame, Hello, Msg, PROTOCOL_VERSION};
use meltline_host::jobfile::{JobFile, resequence};
use meltline_host::lasers::write::write_continuation;

/// The last `Ack` the controller sent.
#[derive(Default)]
struct Acks(Option<u32>);

impl ReplySink for Acks {
    fn reply(&mut self, f: &Frame<'_>) {
        if let Msg::Ack(a) = f.msg {
            self.0 = Some(a.up_to_seq);
        }
    }
}

/// A plate of three coupons on the four-laser machine, by part: `Q-A` in the front-left
/// corner (only laser 0 reaches it), `Q-D` in the back-right one (only laser 3), `Q-X` on
/// the centre (every laser reaches it).
fn plate_job(dir: &Path) -> String {
    let mut text = String::from(
        "[plate]\nplacement = \"manual\"\nsupports = false\nmachine = \"meltline-sim-250-4x\"\nlaser_assignment = \"by-part\"\n",
    );
    for (id, x, y) in [
        ("Q-A", -80.0, -80.0),
        ("Q-D", 80.0, 80.0),
        ("Q-X", 0.0, 0.0),
    ] {
        text +=
            &format!("[[part]]\nid = \"{id}\"\ncoupon_mm = [8.0, 8.0, 0.6]\nat_mm = [{x}, {y}]\n");
    }
    let plate = dir.join("plate.toml");
    std::fs::write(&plate, text).unwrap();
    let job = dir.join("plate.mlj").display().to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(["plate", plate.to_str().unwrap(), "-o", &job])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    job
}

/// Each part's hash over its blocks in `job` (all layers, or those before `until`).
fn part_hashes(job: &JobFile, until: impl Fn(u16) -> u32) -> Vec<[u8; 32]> {
    let mut digests: Vec<PartDigest> = (0..job.parts.len() as u16).map(PartDigest::new).collect();
    let mut scratch = Vec::new();
    for (k, wire) in job.frames.iter().enumerate() {
        let Some(layer) = job.frame_layer[k] else {
            continue;
        };
        let f = decode_wire(wire, &mut scratch).unwrap();
        if let Some((Some(p), b)) = f.msg.block()
            && layer < until(p)
        {
            digests[usize::from(p)].block(layer, b);
        }
    }
    digests.into_iter().map(PartDigest::finish).collect()
}

fn machine(fail_at: u32, laser: u8) -> MachineConfig {
    let mut m = builtin_machine("meltline-sim-250-4x").unwrap();
    m.laser_failure = Some(LaserFailure {
        layer: fail_at,
        laser,
    });
    m
}

#[test]
fn a_laser_failing_mid_build_is_replanned_onto_the_others_and_a_part_out_of_their_reach_is_skipped()
{
    let d = tempfile::tempdir().unwrap();
    let path = plate_job(d.path());
    let bytes = std::fs::read(&path).unwrap();
    let m = machine(8, 0);
    let job = JobFile::parse(&bytes, &path, &m).unwrap();
    let serial = |p: usize| job.parts[p].serial.clone();
    let index = |s: &str| job.parts.iter().position(|p| p.serial == s).unwrap();
    let mut sim = Simulator::new(SimOptions {
        machine: m.clone(),
        auto_start: true,
        exposure: true,
        ..SimOptions::default()
    });
    let mut acks = Acks::default();
    sim.feed(&bytes, &mut acks);
    // The controller stops before layer 8, nothing of it marked.
    let stopped = sim.report(false);
    assert_eq!(stopped.state, "Faulted");
    assert_eq!(stopped.layers_executed, 8);
    let f = &stopped.faults[0];
    assert_eq!((f.rule.as_str(), f.layer), ("LaserDown", Some(8)), "{f:?}");

    // The host plans layers 8 on without laser 0: Q-A, which only laser 0 reaches, is left out.
    let cont_path = d.path().join("continued.mlj");
    let c = write_continuation(&job, &m, 8, 0b0001, &cont_path).unwrap();
    assert_eq!(c.skipped, vec![index("Q-A") as u16]);
    assert!(c.plan.lasers[0].vectors == 0, "{:?}", c.plan.lasers);
    let cont_bytes = std::fs::read(&cont_path).unwrap();
    let cont = JobFile::parse(&cont_bytes, "continued", &m).unwrap();

    // The continuation goes on the same link, numbered on from what the controller took.
    let mut hello = [0u8; meltline_firmware::wire::MAX_FRAME];
    let n = meltline_firmware::wire::encode_frame(
        0,
        &Msg::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            machine: "host",
            max_frame: 1024,
            arena_bytes: 0,
            param_sets: 0,
            resume: None,
        }),
        &mut hello,
    )
    .unwrap();
    sim.feed(&hello[..n], &mut acks);
    let next = acks.0.map_or(0, |s| s.wrapping_add(1));
    let mut stream = Vec::new();
    for (i, raw) in FrameReader::new(&cont_bytes[..]).enumerate() {
        stream.extend(resequence(&raw.unwrap().wire, next + i as u32).unwrap());
    }
    sim.feed(&stream, &mut acks);
    let done = sim.report(true);
    assert_eq!(done.state, "Done", "{:?} {:?}", done.faults, done.notes);
    assert_eq!(done.resumed_from, Some(8));

    // Every layer exposed once: the first run's layers 0..8, then 8.. from the continuation.
    let layers: Vec<u32> = done.layers.iter().map(|l| l.layer).collect();
    assert_eq!(layers, (0..job.layer_count()).collect::<Vec<_>>());
    let before: u64 = job.layers[..8].iter().map(|l| l.vectors).sum();
    let after: u64 = cont.layers[8..].iter().map(|l| l.vectors).sum();
    let marked: u64 = done.layers.iter().map(|l| l.time.marks).sum();
    assert_eq!(marked, before + after);
    // Laser 0 marks nothing after it failed.
    assert_eq!(
        cont.lasers.first().map_or(0, |l| l.vectors),
        job_laser_vectors_before(&job, 0, 8)
    );

    // Q-A is skipped at layer 8 and named; the others are built, each with the hash of its
    // blocks in the job that continued (Q-A's over the layers before the failure).
    let qa = index("Q-A");
    let expected = part_hashes(&cont, |p| if usize::from(p) == qa { 8 } else { u32::MAX });
    for (i, p) in done.parts.iter().enumerate() {
        if i == qa {
            assert_eq!(p.state, "Skipped", "{}", serial(i));
            assert_eq!(p.skipped_at_layer, Some(8));
            assert_eq!(p.skip_rule.as_deref(), Some("LaserDown"));
        } else {
            assert_eq!(p.state, "Built", "{}", serial(i));
            let cov = p.coverage_pct.unwrap();
            assert!(cov > 99.0, "{}: coverage {cov}", serial(i));
        }
        assert_eq!(
            p.executed_sha256,
            meltline_firmware::hex::encode(&expected[i]),
            "{}",
            serial(i)
        );
    }
    assert!(
        done.notes
            .iter()
            .any(|n| n.contains("part 0") || n.contains(&format!("part {qa}"))),
        "{:?}",
        done.notes
    );
}

/// Vectors of laser `laser` in layers before `until` of `job`.
fn job_laser_vectors_before(job: &JobFile, laser: u8, until: u32) -> u64 {
    let mut scratch = Vec::new();
    let mut n = 0;
    for (k, wire) in job.frames.iter().enumerate() {
        if job.frame_layer[k].is_some_and(|l| l < until) {
            let f = decode_wire(wire, &mut scratch).unwrap();
            if f.msg.laser() == Some(laser)
                && let Some((_, b)) = f.msg.block()
            {
                n += u64::from(b.vectors);
            }
        }
    }
    n
}

#[test]
fn a_block_for_a_laser_that_is_down_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let path = plate_job(d.path());
    let bytes = std::fs::read(&path).unwrap();
    let m = machine(8, 0);
    let mut sim = Simulator::new(SimOptions {
        machine: m,
        auto_start: true,
        ..SimOptions::default()
    });
    let mut acks = Acks::default();
    sim.feed(&bytes, &mut acks);
    assert_eq!(sim.report(false).state, "Faulted");
    // The same job again, unchanged: it continues the stopped one but still gives laser 0 its
    // blocks from layer 8 on.
    let next = acks.0.map_or(0, |s| s.wrapping_add(1));
    let mut stream = Vec::new();
    for (i, raw) in FrameReader::new(&bytes[..]).enumerate() {
        stream.extend(resequence(&raw.unwrap().wire, next + i as u32).unwrap());
    }
    sim.feed(&stream, &mut acks);
    let r = sim.report(true);
    assert_eq!(r.state, "Faulted");
    let f = r.faults.last().unwrap();
    assert_eq!((f.rule.as_str(), f.layer), ("LaserDown", Some(8)), "{f:?}");
    assert_eq!(r.layers_executed, 8);
}
