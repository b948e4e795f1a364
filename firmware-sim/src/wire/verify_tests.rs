#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use super::*;
use crate::job::{BlockSpec, FrameReader, Geometry, JobSpec, encode_job};
use crate::wire::{LayerEnd, LayerStart, Region, VectorKind, parse_body, unstuff_frame};

fn spec(layers: u32) -> JobSpec {
    JobSpec {
        machine: "meltline-sim-250".into(),
        material: "Ti-6Al-4V".into(),
        quantum_nm: 1000,
        layer_thickness_nm: 30_000,
        layer_count: layers,
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

/// The bodies of a 3-layer job's frames, in order.
fn bodies() -> Vec<Vec<u8>> {
    let layer = vec![BlockSpec {
        param_set: 1,
        kind: VectorKind::Hatch,
        region: Region::Core,
        geometry: Geometry::Hatches((0..20).map(|i| [0, i * 100, 3000, i * 100]).collect()),
    }];
    let (job, _) = encode_job(&spec(3), &vec![layer; 3]).unwrap();
    FrameReader::new(&job[..])
        .map(|raw| {
            let mut w = raw.unwrap().wire;
            w.pop();
            unstuff_frame(&mut w).unwrap().to_vec()
        })
        .collect()
}

fn run(bodies: &[Vec<u8>]) -> Result<Vec<Step>, VerifyError> {
    let mut v = JobVerifier::<4>::new();
    let mut marks = 0u64;
    let steps = bodies
        .iter()
        .map(|b| v.feed(&parse_body(b).unwrap().msg, &mut |_, _| marks += 1))
        .collect::<Result<Vec<_>, _>>()?;
    assert_eq!(marks, 60, "every vector seen once");
    Ok(steps)
}

fn feed_all(v: &mut JobVerifier<4>, bodies: &[Vec<u8>]) -> Result<Step, VerifyError> {
    let mut last = Err(VerifyError::AfterEnd);
    for b in bodies {
        last = Ok(v.feed(&parse_body(b).unwrap().msg, &mut |_, _| {})?);
    }
    last
}

#[test]
fn a_whole_job_verifies_step_by_step_and_ends() {
    let steps = run(&bodies()).unwrap();
    assert_eq!(steps[0], Step::Header);
    assert_eq!(steps[1], Step::ParamSet);
    assert_eq!(steps[2], Step::LayerStart { layer: 0 });
    assert!(matches!(steps.last(), Some(Step::JobEnd { .. })));
    let ends = steps
        .iter()
        .filter(|s| matches!(s, Step::LayerEnd { .. }))
        .count();
    assert_eq!(ends, 3);
}

#[test]
fn anything_after_job_end_is_refused() {
    let b = bodies();
    let mut v = JobVerifier::<4>::new();
    feed_all(&mut v, &b).unwrap();
    assert_eq!(v.expecting(), Expect::Ended);
    let again = v.feed(&parse_body(&b[0]).unwrap().msg, &mut |_, _| {});
    assert_eq!(again, Err(VerifyError::AfterEnd));
}

#[test]
fn a_missing_layer_is_refused_naming_the_layer_expected() {
    let b = bodies();
    // Header, set, then layer 0's frames dropped: layer 1 comes first.
    let start1 = b
        .iter()
        .position(|x| matches!(parse_body(x).unwrap().msg, Msg::LayerStart(l) if l.layer == 1))
        .unwrap();
    let mut v = JobVerifier::<4>::new();
    let err = feed_all(&mut v, &[&b[..2], &b[start1..]].concat()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::LayerOutOfOrder {
            got: 1,
            expected: 0
        }
    );
}

#[test]
fn a_layer_end_with_another_digest_is_refused_with_both_digests() {
    let mut v = JobVerifier::<4>::new();
    feed_all(&mut v, &bodies()[..2]).unwrap();
    let start = Msg::LayerStart(LayerStart {
        layer: 0,
        blocks: 0,
        payload_bytes: 0,
    });
    v.feed(&start, &mut |_, _| {}).unwrap();
    let end = Msg::LayerEnd(LayerEnd {
        layer: 0,
        digest: [7; 32],
    });
    let err = v.feed(&end, &mut |_, _| {}).unwrap_err();
    assert!(
        matches!(err, VerifyError::LayerDigest { layer: 0, announced, .. } if announced == [7; 32]),
        "{err}"
    );
}

#[test]
fn a_layer_closing_with_fewer_blocks_than_announced_is_refused() {
    let mut v = JobVerifier::<4>::new();
    feed_all(&mut v, &bodies()[..2]).unwrap();
    let start = Msg::LayerStart(LayerStart {
        layer: 0,
        blocks: 2,
        payload_bytes: 10,
    });
    v.feed(&start, &mut |_, _| {}).unwrap();
    let end = Msg::LayerEnd(LayerEnd {
        layer: 0,
        digest: [0; 32],
    });
    let err = v.feed(&end, &mut |_, _| {}).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::LayerSize {
                blocks: 0,
                blocks_announced: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_parameter_set_given_twice_or_beyond_capacity_is_refused() {
    let b = bodies();
    let mut twice = JobVerifier::<4>::new();
    let mut header = parse_body(&b[0]).unwrap().msg;
    if let Msg::JobHeader(h) = &mut header {
        h.param_sets = 2;
    }
    twice.feed(&header, &mut |_, _| {}).unwrap();
    let set = parse_body(&b[1]).unwrap().msg;
    twice.feed(&set, &mut |_, _| {}).unwrap();
    assert_eq!(
        twice.feed(&set, &mut |_, _| {}),
        Err(VerifyError::ParamSetTwice { id: 1 })
    );
    let mut small = JobVerifier::<0>::new();
    small.feed(&header, &mut |_, _| {}).unwrap();
    assert_eq!(
        small.feed(&set, &mut |_, _| {}),
        Err(VerifyError::TooManyParamSets { max: 0 })
    );
}

#[test]
fn a_job_ending_early_or_with_another_hash_is_refused() {
    let b = bodies();
    let n = b.len();
    // JobEnd right after layer 0.
    let end0 = b
        .iter()
        .position(|x| matches!(parse_body(x).unwrap().msg, Msg::LayerEnd(e) if e.layer == 0))
        .unwrap();
    let mut v = JobVerifier::<4>::new();
    let err = feed_all(&mut v, &[&b[..=end0], &b[n - 1..]].concat()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::LayerCount {
            closes: 3,
            announced: 3,
            held: 1
        }
    );
    let mut v = JobVerifier::<4>::new();
    feed_all(&mut v, &b[..n - 1]).unwrap();
    let Msg::JobEnd(mut e) = parse_body(&b[n - 1]).unwrap().msg else {
        panic!("the last frame is JobEnd")
    };
    e.job_sha256[0] ^= 1;
    let err = v.feed(&Msg::JobEnd(e), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, VerifyError::JobHash { .. }), "{err}");
}

#[test]
fn a_message_out_of_place_is_refused_saying_what_was_expected() {
    let b = bodies();
    let mut v = JobVerifier::<4>::new();
    let err = v
        .feed(&parse_body(&b[1]).unwrap().msg, &mut |_, _| {})
        .unwrap_err();
    assert_eq!(
        err,
        VerifyError::NotHere {
            got: "ParamSet",
            expect: Expect::Header
        }
    );
    assert!(err.to_string().contains("starts with JobHeader"), "{err}");
}
