#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use super::encode::encode_hatches_with;
use super::hatch::{HATCH_MODES, LINES, MEANDER};
use super::*;
use proptest::prelude::*;

fn block(coding: Coding, vectors: u32, data: &[u8]) -> VectorBlock<'_> {
    VectorBlock {
        param_set: 1,
        kind: VectorKind::Hatch,
        region: Region::Core,
        coding,
        vectors,
        data,
    }
}

fn decode(b: &VectorBlock<'_>) -> Vec<Segment> {
    b.segments().collect::<Result<Vec<_>, _>>().unwrap()
}

fn meander(n: i32, spacing: i32, width: i32) -> Vec<[i32; 4]> {
    (0..n)
        .map(|i| {
            let y = i * spacing;
            if i % 2 == 0 {
                [0, y, width, y]
            } else {
                [width, y, 0, y]
            }
        })
        .collect()
}

#[test]
fn equally_spaced_meander_hatches_cost_two_bytes_each() {
    let hatches = meander(200, 100, 10_000);
    let mut buf = [0u8; 2048];
    let e = encode_hatches(&hatches, &mut buf).unwrap();
    assert_eq!(e.items, 200);
    // header + first two hatches carry absolute values; the rest are all-zero residuals.
    assert!(e.bytes <= 2 * 200 + 20, "{} bytes", e.bytes);
    let segs = decode(&block(Coding::Hatches, e.vectors, &buf[..e.bytes]));
    for (s, h) in segs.iter().zip(&hatches) {
        assert_eq!([s.from.x, s.from.y, s.to.x, s.to.y], *h);
    }
}

/// A 10 mm disc with a 4 mm hole, hatched line by line at 0.14 mm, 67°, meandering with
/// the pieces of a line reversed on every other line (as the slicer orders them).
fn holed_disc() -> Vec<[i32; 4]> {
    let (s, c) = 67f64.to_radians().sin_cos();
    let mut out = Vec::new();
    let mut line = 0;
    let mut v = -5000.0 + 70.0;
    while v < 5000.0 {
        let outer = (5000.0f64 * 5000.0 - v * v).sqrt();
        let mut pieces = if v.abs() < 2000.0 {
            let inner = (2000.0f64 * 2000.0 - v * v).sqrt();
            vec![(-outer, -inner), (inner, outer)]
        } else {
            vec![(-outer, outer)]
        };
        if line % 2 == 1 {
            pieces.reverse();
            pieces.iter_mut().for_each(|p| *p = (p.1, p.0));
        }
        for (u0, u1) in pieces {
            let pt = |u: f64| {
                [
                    (u * c - v * s).round() as i32,
                    (u * s + v * c).round() as i32,
                ]
            };
            let (a, b) = (pt(u0), pt(u1));
            out.push([a[0], a[1], b[0], b[1]]);
        }
        line += 1;
        v += 140.0;
    }
    out
}

#[test]
fn lines_cut_by_a_hole_cost_a_third_less_in_line_mode() {
    let hatches = holed_disc();
    let mut buf = [0u8; 4096];
    let e = encode_hatches(&hatches, &mut buf).unwrap();
    assert_eq!(e.items, hatches.len());
    assert!(buf[0] & LINES != 0, "line mode chosen, flags {}", buf[0]);
    let per = e.bytes as f64 / hatches.len() as f64;
    assert!(per < 4.0, "{per:.2} B/hatch over {} hatches", hatches.len());
    let best_jumps = (0..8u8)
        .map(|f| {
            encode_hatches_with(f, &hatches, &mut [0u8; 8192])
                .unwrap()
                .bytes
        })
        .min()
        .unwrap();
    assert!(
        3 * e.bytes < 2 * best_jumps,
        "line mode {} B, best jump mode {best_jumps} B",
        e.bytes
    );
    let segs = decode(&block(Coding::Hatches, e.vectors, &buf[..e.bytes]));
    for (s, h) in segs.iter().zip(&hatches) {
        assert_eq!([s.from.x, s.from.y, s.to.x, s.to.y], *h);
    }
}

/// Two lines cut by a hole, meandering (x-major, spacing 100 quanta): the line mode's
/// bytes, the format being the documentation.
#[test]
fn line_mode_golden_bytes() {
    let hatches = [
        [0, 0, 400, 0],
        [600, 0, 1000, 0],
        [1000, 100, 600, 100],
        [400, 100, 0, 100],
        [0, 200, 400, 200],
        [600, 200, 1000, 200],
    ];
    let mut buf = [0u8; 64];
    let e = encode_hatches_with(LINES | MEANDER, &hatches, &mut buf).unwrap();
    assert_eq!(&buf[..e.bytes], &GOLDEN_LINE_MODE[..]);
    let segs = decode(&block(Coding::Hatches, e.vectors, &GOLDEN_LINE_MODE));
    let got: Vec<[i32; 4]> = segs
        .iter()
        .map(|s| [s.from.x, s.from.y, s.to.x, s.to.y])
        .collect();
    assert_eq!(got, hatches);
}

#[rustfmt::skip]
static GOLDEN_LINE_MODE: [u8; 23] = [
    0x09,                   // flags: line mode, meander
    0x80, 0x88, 0x14,       // direction (400, 0)
    0x00, 0x80, 0x90, 0x28, // line 0 piece 0: Δq 0, (lo, hi) = (0, 400) from the cursor 0
    0x00, 0x80, 0x96, 0x87, 0x01, // piece 1: same line, (200, 600) from the cursor 400
    0xc0, 0xa0, 0x01, 0x00, // line 1: Δq 100 (sets the spacing); piece 1 of line 0 exactly
    0x00, 0x00,             // piece 0 of line 0 exactly
    0x00, 0x00,             // line 2: Δq = spacing, piece 0 of line 1 (reversed order)
    0x00, 0x00,             // piece 1, exactly
];

#[test]
fn unknown_hatch_flags_are_malformed() {
    let mut buf = [0u8; 64];
    let e = encode_hatches_with(9, &meander(4, 100, 1000), &mut buf).unwrap();
    for bad in [4u8 | LINES, 16, 127] {
        buf[0] = bad;
        let b = block(Coding::Hatches, e.vectors, &buf[..e.bytes]);
        assert!(
            b.segments().any(|s| s == Err(CodecError::Malformed)),
            "flags {bad}"
        );
    }
}

#[test]
fn closed_polyline_emits_closing_segment_chained() {
    let sq = [[0, 0], [1000, 0], [1000, 1000], [0, 1000]];
    let mut buf = [0u8; 64];
    let e = encode_polylines(
        &[Polyline {
            points: &sq,
            closed: true,
        }],
        &mut buf,
    )
    .unwrap();
    assert_eq!(e.vectors, 4);
    let segs = decode(&block(Coding::Polylines, e.vectors, &buf[..e.bytes]));
    assert!(!segs[0].chained && segs[1..].iter().all(|s| s.chained));
    assert_eq!(segs[3].to, Point::new(0, 0));
}

#[test]
fn encoder_stops_at_first_item_that_does_not_fit() {
    let hatches = meander(500, 100, 10_000);
    let mut buf = [0u8; 100];
    let e = encode_hatches(&hatches, &mut buf).unwrap();
    assert!(e.items < 500 && e.items > 10);
    let segs = decode(&block(Coding::Hatches, e.vectors, &buf[..e.bytes]));
    assert_eq!(segs.len(), e.items);
    assert!(matches!(
        encode_hatches(&hatches, &mut [0u8; 3]),
        Err(CodecError::BufferTooSmall)
    ));
}

#[test]
fn wrong_vector_count_is_reported() {
    let mut buf = [0u8; 64];
    let e = encode_points(&[[1, 2], [3, 4]], &mut buf).unwrap();
    let short = block(Coding::Points, 1, &buf[..e.bytes]);
    assert!(short.segments().any(|s| s.is_err()));
    let long = block(Coding::Points, 3, &buf[..e.bytes]);
    assert!(long.segments().any(|s| s.is_err()));
}

fn coord() -> impl Strategy<Value = i32> {
    -600_000i32..600_000
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hatches_round_trip(h in proptest::collection::vec([coord(), coord(), coord(), coord()], 1..60)) {
        let mut buf = vec![0u8; 60 * 40 + 40];
        let e = encode_hatches(&h, &mut buf).unwrap();
        prop_assert_eq!(e.items, h.len());
        let segs = decode(&block(Coding::Hatches, e.vectors, &buf[..e.bytes]));
        let got: Vec<[i32; 4]> = segs.iter().map(|s| [s.from.x, s.from.y, s.to.x, s.to.y]).collect();
        prop_assert_eq!(got, h);
    }

    #[test]
    fn every_hatch_mode_round_trips(
        h in proptest::collection::vec([coord(), coord(), coord(), coord()], 1..40),
        pick in 0usize..HATCH_MODES.len(),
    ) {
        let mut buf = vec![0u8; 40 * 40 + 40];
        let e = encode_hatches_with(HATCH_MODES[pick], &h, &mut buf).unwrap();
        prop_assert_eq!(e.items, h.len());
        let segs = decode(&block(Coding::Hatches, e.vectors, &buf[..e.bytes]));
        let got: Vec<[i32; 4]> = segs.iter().map(|s| [s.from.x, s.from.y, s.to.x, s.to.y]).collect();
        prop_assert_eq!(got, h);
    }

    #[test]
    fn disturbed_holed_lines_round_trip_in_every_mode(
        noise in proptest::collection::vec((0usize..4, -300i32..300), 0..30),
        pick in 0usize..HATCH_MODES.len(),
    ) {
        let mut h = holed_disc();
        let n = h.len();
        for (i, (k, d)) in noise.iter().enumerate() {
            h[(i * 7919) % n][*k] += d;
        }
        let mut buf = vec![0u8; 8192];
        let e = encode_hatches_with(HATCH_MODES[pick], &h, &mut buf).unwrap();
        prop_assert_eq!(e.items, h.len());
        let segs = decode(&block(Coding::Hatches, e.vectors, &buf[..e.bytes]));
        let got: Vec<[i32; 4]> = segs.iter().map(|s| [s.from.x, s.from.y, s.to.x, s.to.y]).collect();
        prop_assert_eq!(got, h);
    }

    #[test]
    fn polylines_round_trip(
        lines in proptest::collection::vec((proptest::collection::vec([coord(), coord()], 2..20), any::<bool>()), 1..8)
    ) {
        let pls: Vec<Polyline<'_>> = lines.iter().map(|(p, c)| Polyline { points: p, closed: *c }).collect();
        let mut buf = vec![0u8; 8 * 20 * 20 + 100];
        let e = encode_polylines(&pls, &mut buf).unwrap();
        let segs = decode(&block(Coding::Polylines, e.vectors, &buf[..e.bytes]));
        let mut i = 0;
        for (pts, closed) in &lines {
            for w in pts.windows(2) {
                prop_assert_eq!(segs[i].from, Point::new(w[0][0], w[0][1]));
                prop_assert_eq!(segs[i].to, Point::new(w[1][0], w[1][1]));
                i += 1;
            }
            if *closed {
                prop_assert_eq!(segs[i].to, Point::new(pts[0][0], pts[0][1]));
                i += 1;
            }
        }
        prop_assert_eq!(i, segs.len());
    }

    #[test]
    fn garbage_payload_never_panics(
        data in proptest::collection::vec(any::<u8>(), 0..200),
        vectors in 0u32..100,
        coding in 0u8..3,
    ) {
        let coding = [Coding::Polylines, Coding::Hatches, Coding::Points][usize::from(coding)];
        for s in block(coding, vectors, &data).segments() {
            let _ = s;
        }
    }
}
