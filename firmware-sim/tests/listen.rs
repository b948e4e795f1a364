//! `meltline-fw --listen`: a host connects over TCP, streams a job file verbatim, starts it
//! out of band and receives acks, a status and the final report.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use meltline_firmware::job::{BlockSpec, FrameReader, Geometry, JobSpec, encode_job};
use meltline_firmware::wire::{
    ControllerState, MAX_FRAME, Msg, ParamSet, Region, VectorKind, encode_frame,
};

#[test]
fn a_host_streams_a_job_over_tcp_and_receives_the_report() {
    let spec = JobSpec {
        machine: "meltline-sim-250".into(),
        material: "Ti-6Al-4V".into(),
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
    let layer = vec![BlockSpec {
        param_set: 1,
        kind: VectorKind::Hatch,
        region: Region::Core,
        geometry: Geometry::Hatches((0..40).map(|i| [0, i * 100, 4000, i * 100]).collect()),
    }];
    let (bytes, summary) = encode_job(&spec, &[layer.clone(), layer]).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_meltline-fw"))
        .args(["--listen", "127.0.0.1:0", "--once"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line.trim().rsplit(' ').next().unwrap().to_string();

    let mut stream = TcpStream::connect(&addr).unwrap();
    let mut frame = [0u8; MAX_FRAME];
    stream.write_all(&bytes).unwrap();
    let n = encode_frame(0, &Msg::Start, &mut frame).unwrap();
    stream.write_all(&frame[..n]).unwrap();

    let mut acked = None;
    let mut report = None;
    let mut scratch = Vec::new();
    for raw in FrameReader::new(stream.try_clone().unwrap()) {
        let raw = raw.unwrap();
        match raw.decode(&mut scratch).unwrap().msg {
            Msg::Ack(a) => acked = Some(a.up_to_seq),
            Msg::Report(r) => {
                report = Some(r);
                break;
            }
            _ => {}
        }
    }
    drop(stream);
    let report = report.unwrap();
    assert_eq!(report.state, ControllerState::Done);
    assert_eq!(report.executed_sha256, summary.job_sha256);
    assert_eq!(acked, Some(summary.frames as u32 - 1));
    assert!(child.wait().unwrap().success());
}
