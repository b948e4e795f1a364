//! A released job continued after a power loss on a printer with trusted keys: sent again from
//! layer 0 it completes (completed layers are checked against the release and skipped); sent
//! from the first missing layer only, it continues from the release chain position kept in the
//! non-volatile record; a layer that differs from the released one is refused, not exposed.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ed25519_dalek::SigningKey;
use meltline_firmware::job::{BlockSpec, FrameReader, Geometry, JobSpec, encode_job};
use meltline_firmware::machine::MachineConfig;
use meltline_firmware::nvm::RamRecord;
use meltline_firmware::signing::{ReleaseSpec, release_job};
use meltline_firmware::sim::{SimOptions, Simulator};
use meltline_firmware::wire::{
    MAX_FRAME, Msg, ParamSet, Region, VectorKind, encode_frame, parse_body, unstuff_frame,
};

fn released() -> (Vec<Vec<u8>>, SimOptions) {
    released_with_layer_2_shifted(0)
}

/// The released job, with layer 2's hatches moved by `shift_um` in x (0: as released).
fn released_with_layer_2_shifted(shift_um: i64) -> (Vec<Vec<u8>>, SimOptions) {
    let spec = JobSpec {
        machine: "meltline-sim-250".into(),
        material: "Ti-6Al-4V".into(),
        quantum_nm: 1000,
        layer_thickness_nm: 30_000,
        layer_count: 4,
        param_sets: vec![ParamSet {
            id: 1,
            power_mw: 200_000,
            mark_speed_mm_s: 1000,
            spot_um: 80,
            hatch_distance_um: 100,
            skywriting: false,
        }],
    };
    let layer = vec![BlockSpec {
        param_set: 1,
        kind: VectorKind::Hatch,
        region: Region::Core,
        geometry: Geometry::Hatches((0..30).map(|i| [0, i * 100, 3000, i * 100]).collect()),
    }];
    let mut layers = vec![layer; 4];
    layers[2][0].geometry = Geometry::Hatches(
        (0..30)
            .map(|i| [shift_um, i * 100, 3000 + shift_um, i * 100])
            .collect(),
    );
    let (job, _) = encode_job(&spec, &layers).unwrap();
    let key = SigningKey::from_bytes(&[1; 32]);
    let who = ReleaseSpec {
        signer: "Dr. A. Quality".into(),
        meaning: "released for manufacturing".into(),
        utc_seconds: 1_796_400_000,
    };
    let job = release_job(&job, &key, &who).unwrap();
    let bodies = FrameReader::new(&job[..])
        .map(|raw| {
            let mut w = raw.unwrap().wire;
            w.pop();
            unstuff_frame(&mut w).unwrap().to_vec()
        })
        .collect();
    let mut machine = MachineConfig::default();
    let hex: String = key
        .verifying_key()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    machine
        .trusted_keys
        .push(heapless::String::try_from(hex.as_str()).unwrap())
        .unwrap();
    let opts = SimOptions {
        machine,
        auto_start: true,
        ..SimOptions::default()
    };
    (bodies, opts)
}

/// Frames `bodies` numbered from 0.
fn frames<'a>(bodies: impl Iterator<Item = &'a Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    for (seq, b) in bodies.enumerate() {
        let mut buf = [0u8; MAX_FRAME];
        let n = encode_frame(seq as u32, &parse_body(b).unwrap().msg, &mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn is_layer_end(b: &[u8], k: u32) -> bool {
    matches!(parse_body(b).unwrap().msg, Msg::LayerEnd(e) if e.layer == k)
}

/// Runs the released job up to and including layer 1, then cuts the power.
fn interrupted(bodies: &[Vec<u8>], opts: &SimOptions) -> Simulator {
    let mut sim = Simulator::with_nonvolatile(opts.clone(), Box::new(RamRecord::default()));
    let cut = bodies.iter().position(|b| is_layer_end(b, 1)).unwrap() + 1;
    sim.feed(&frames(bodies[..cut].iter()), &mut ());
    assert_eq!(sim.report(false).layers_executed, 2);
    Simulator::with_nonvolatile(opts.clone(), sim.power_loss())
}

#[test]
fn a_released_job_sent_again_from_layer_zero_continues_after_a_power_loss() {
    let (bodies, opts) = released();
    let mut sim = interrupted(&bodies, &opts);
    sim.feed(&frames(bodies.iter()), &mut ());
    let r = sim.report(true);
    assert!(r.complete, "{:?}", r.faults);
    assert_eq!(r.resumed_from, Some(2));
    assert_eq!(r.layers_skipped, vec![0, 1]);
    assert!(r.release.unwrap().verified);
}

/// Header, release and parameter set of `bodies`, then layers 2 and 3 of `rest` and the end.
fn from_layer_2<'a>(bodies: &'a [Vec<u8>], rest: &'a [Vec<u8>]) -> Vec<u8> {
    let from = rest.iter().position(|b| is_layer_end(b, 1)).unwrap() + 1;
    frames(bodies[..3].iter().chain(rest[from..].iter()))
}

#[test]
fn a_released_job_sent_from_the_missing_layer_only_continues_from_the_recorded_chain() {
    let (bodies, opts) = released();
    let mut sim = interrupted(&bodies, &opts);
    sim.feed(&from_layer_2(&bodies, &bodies), &mut ());
    let r = sim.report(true);
    assert!(r.complete, "{:?}", r.faults);
    assert!(r.faults.is_empty(), "{:?}", r.faults);
    assert_eq!(r.resumed_from, Some(2));
    assert!(r.layers_skipped.is_empty());
    let executed: Vec<u32> = r.layers.iter().map(|l| l.layer).collect();
    assert_eq!(executed, vec![2, 3], "each layer once");
    assert!(r.release.unwrap().verified);
}

#[test]
fn a_resumed_released_job_whose_next_layer_differs_from_the_release_is_refused_before_it() {
    let (bodies, opts) = released();
    let (other, _) = released_with_layer_2_shifted(200);
    let mut sim = interrupted(&bodies, &opts);
    // The released job's header, release and sets, then a layer 2 (with its own consistent
    // digest and link) that is not the released one.
    sim.feed(&from_layer_2(&bodies, &other), &mut ());
    let r = sim.report(true);
    assert!(!r.complete);
    assert_eq!(r.faults[0].rule, "LayerNotReleased");
    assert_eq!(r.faults[0].layer, Some(2));
    assert!(r.layers.is_empty(), "nothing exposed after the power loss");
}

#[test]
fn a_resumed_released_job_whose_record_has_no_chain_is_refused_when_sent_from_the_missing_layer() {
    // A record written without a verified release (no trusted keys then) carries no chain:
    // sent from the missing layer only, that layer cannot be proven and is refused.
    let (bodies, opts) = released();
    let untrusting = SimOptions {
        machine: MachineConfig::default(),
        ..opts.clone()
    };
    let mut first = Simulator::with_nonvolatile(untrusting, Box::new(RamRecord::default()));
    let cut = bodies.iter().position(|b| is_layer_end(b, 1)).unwrap() + 1;
    first.feed(&frames(bodies[..cut].iter()), &mut ());
    assert_eq!(first.report(false).layers_executed, 2);
    let mut sim = Simulator::with_nonvolatile(opts, first.power_loss());
    sim.feed(&from_layer_2(&bodies, &bodies), &mut ());
    let r = sim.report(true);
    assert!(!r.complete);
    assert_eq!(r.faults[0].rule, "LayerNotReleased");
    assert_eq!(r.faults[0].layer, Some(2));
    assert!(r.layers.is_empty());
}
