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

/// A two-part plate job of one layer; part 1's hatch reaches `x_end` (its box ends at 9000).
fn plate_job(x_end: i64) -> Vec<u8> {
    use crate::job::{JobWriter, PartSpec};
    let part = |serial: &str, x0: i32| PartSpec {
        serial: serial.into(),
        case: "case-1".into(),
        centre: [x0 + 2000, 2000],
        rotation_mdeg: 0,
        footprint: [x0, 0, x0 + 4000, 4000],
    };
    let hatch = |x0: i64, x1: i64| BlockSpec {
        param_set: 1,
        kind: VectorKind::Hatch,
        region: Region::Core,
        geometry: Geometry::Hatches(vec![[x0, 1000, x1, 1000], [x1, 1100, x0, 1100]]),
    };
    let parts = [part("C-1", 0), part("C-2", 5000)];
    let mut w = JobWriter::with_parts(Vec::new(), &spec(1), &parts, None).unwrap();
    // Written as a faulty build processor might: the verifier must refuse it.
    w.unchecked_footprints();
    w.write_part_layer(&[(0, hatch(100, 3900)), (1, hatch(5100, x_end))])
        .unwrap();
    w.finish().unwrap().0
}

fn verify(bytes: &[u8]) -> Result<Vec<Step>, VerifyError> {
    let mut v = JobVerifier::<8>::new();
    let mut scratch = Vec::new();
    let mut steps = Vec::new();
    for raw in FrameReader::new(bytes) {
        let msg = raw.unwrap().decode(&mut scratch).unwrap().msg;
        steps.push(v.feed(&msg, &mut |_, _| {})?);
    }
    Ok(steps)
}

#[test]
fn a_plate_job_declares_its_parts_and_every_block_names_one() {
    let steps = verify(&plate_job(8900)).unwrap();
    let parts: Vec<_> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Part { index } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(parts, [0, 1]);
    let blocks: Vec<_> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Block { part, .. } => Some(*part),
            _ => None,
        })
        .collect();
    assert_eq!(blocks, [Some(0), Some(1)]);
}

#[test]
fn a_vector_outside_its_parts_footprint_is_refused_naming_the_part_and_point() {
    let e = verify(&plate_job(9100)).unwrap_err();
    assert_eq!(
        e,
        VerifyError::Part {
            layer: 0,
            block: 1,
            source: PartError::Outside {
                part: 1,
                x: 9100,
                y: 1000
            }
        }
    );
}

#[test]
fn the_part_table_enters_the_job_hash() {
    let a = plate_job(8900);
    let steps = verify(&a).unwrap();
    let Some(Step::JobEnd { job_sha256 }) = steps.last() else {
        panic!("no JobEnd");
    };
    let (_, plain) = encode_job(&spec(1), &[vec![]]).unwrap();
    assert_ne!(*job_sha256, plain.job_sha256);
}
