//! `meltline stream job.mlj|.3mf|.ovf|.cli --to HOST:PORT`: streams a verified job to a controller over TCP
//! with flow control, retransmission and resume, then proves the controller executed exactly
//! the file by comparing its executed hash with the job hash.

use meltline_host::{errln, outln};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use meltline_host::faults::FaultSpec;
use meltline_host::link::secure::Authenticated;
use meltline_host::link::{StreamOptions, Tcp, Transport, stream_job};
use meltline_host::release::read_hex_key;
use meltline_host::session::RunReport;

use super::common::{JobInput, frame_bar, write_json_atomic};

/// Arguments of `meltline stream`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job file and how to read it.
    #[command(flatten)]
    pub input: JobInput,
    /// The controller, `HOST:PORT` (`meltline-fw --listen`, or a `link-proxy`).
    #[arg(long)]
    pub to: String,
    /// Faults injected on the way out, e.g. `drop=0.01,corrupt=0.01,seed=3`.
    #[arg(long)]
    pub faults: Option<FaultSpec>,
    /// Continue the job the controller already holds (after an interrupted stream).
    #[arg(long)]
    pub resume: bool,
    /// Give up when nothing is acknowledged for this many seconds.
    #[arg(long, default_value_t = 10.0)]
    pub stall_timeout: f64,
    /// Keep trying to reconnect for this many seconds after the link drops.
    #[arg(long, default_value_t = 5.0)]
    pub reconnect_for: f64,
    /// Write the run report (JSON) here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Open an authenticated session with this link key (`meltline keygen --link`); the
    /// controller must run with the same `--link-key`.
    #[arg(long)]
    pub link_key: Option<PathBuf>,
}

/// Runs `meltline stream`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let job = args
        .input
        .load(&meltline_firmware::machine::MachineConfig::default())?;
    let mut tcp = Tcp::new(&args.to).with_context(|| format!("controller address {}", args.to))?;
    tcp.connect_for = Duration::from_secs_f64(args.reconnect_for.max(0.0));
    let opts = StreamOptions {
        faults: args.faults.clone(),
        resume: args.resume,
        stall_timeout: Duration::from_secs_f64(args.stall_timeout.max(0.1)),
        ..StreamOptions::default()
    };
    let bar = frame_bar(job.frames.len() as u64 + 1);
    let started = Instant::now();
    let layers = job.layer_count();
    let mut secure;
    let transport: &mut dyn Transport = match &args.link_key {
        Some(path) => {
            secure = Authenticated::new(tcp, read_hex_key(path)?);
            &mut secure
        }
        None => &mut tcp,
    };
    let outcome = stream_job(&job, transport, &opts, &mut |p| {
        bar.set_position(p.frames_acked);
        let s = started.elapsed().as_secs_f64().max(1e-6);
        bar.set_message(format!(
            "layer {}/{layers} · {} vectors · {:.2} MB/s · {} retransmits",
            p.layers_committed,
            p.vectors_committed,
            p.bytes_sent as f64 / 1e6 / s,
            p.retransmits
        ));
    })?;
    bar.finish_and_clear();
    for note in &outcome.notes {
        errln!("meltline: {note}");
    }
    let report = RunReport::new(&job, outcome, None);
    outln!("{}", report.summary());
    if let Some(p) = &args.report {
        write_json_atomic(p, &report)?;
    }
    if let Some(why) = &report.link.interrupted {
        let p = &report.link.progress;
        errln!(
            "meltline: stream stopped: {why}\nmeltline: the controller committed {} of {} frames \
             ({} of {layers} layers complete, next layer {}); run again to continue (with \
             --resume if the controller kept running; a controller restarted with its \
             non-volatile record continues from its last completed layer)",
            p.frames_acked,
            p.frames_total,
            p.layers_committed,
            p.layers_committed
        );
        return Ok(ExitCode::from(1));
    }
    if !report.verified() {
        errln!("meltline: {}", report.verdict);
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
