//! `meltline-fw`: the simulated printer controller daemon.
//!
//! ```text
//! meltline-fw (--stdio | --listen ADDR) [--machine M.toml] [--report R.json]
//!             [--exposure] [--exposure-dir DIR] [--pixel-um P] [--no-autostart] [--once]
//!             [--nvm FILE] [--layer-log FILE] [--trust KEY.pub]... [--link-key FILE]
//! ```
//!
//! `--trust KEY.pub` (repeatable, added to the machine file's `trusted_keys`) makes the
//! controller refuse, before layer 0, any job without a release signed by one of these keys,
//! and stop before any layer that differs from the released job. `--link-key FILE` (from
//! `meltline keygen --link`) requires every connection to open an authenticated session
//! (mutual challenge–response, then a MAC on every frame); without it `--listen` binds only
//! loopback addresses and says so.
//!
//! `--stdio` reads frames from standard input (a `.mlj` job file or a host's pipe) and writes
//! the controller's reply frames to standard output; jobs start as soon as they are loaded
//! unless `--no-autostart`. `--listen` serves one TCP connection at a time; the controller's
//! state survives reconnects so a host can resume.
//!
//! `--nvm FILE` keeps the controller's non-volatile record (its last completed layer) in FILE,
//! replaced atomically after every layer: a `meltline-fw` killed mid-job and started again with
//! the same FILE advertises the job in its `Hello` and continues it from the next layer, never
//! exposing a completed layer again. `--layer-log FILE` appends one JSON line per executed
//! layer (process id, layer, digest, time, energy, vector counts) as it completes. Exit status: 0 when the job completed,
//! 1 when it faulted, was aborted or the input ended early, 2 on usage or I/O errors.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use meltline_firmware::controller::ReplySink;
use meltline_firmware::controller::release::parse_hex_key;
use meltline_firmware::machine::{MAX_TRUSTED_KEYS, MachineConfig};
use meltline_firmware::sim::report::SimReport;
use meltline_firmware::sim::session::{SealedOut, serve_authenticated};
use meltline_firmware::sim::{SimOptions, Simulator, write_atomic};
use meltline_firmware::wire::{Frame, MAX_FRAME, encode_frame};

struct Args {
    stdio: bool,
    listen: Option<String>,
    machine: Option<PathBuf>,
    report: Option<PathBuf>,
    exposure: bool,
    exposure_dir: Option<PathBuf>,
    pixel_um: f64,
    autostart: Option<bool>,
    once: bool,
    nvm: Option<PathBuf>,
    layer_log: Option<PathBuf>,
    trust: Vec<PathBuf>,
    link_key: Option<PathBuf>,
}

const USAGE: &str = "usage: meltline-fw (--stdio | --listen ADDR) [--machine M.toml] [--report R.json] \
[--exposure] [--exposure-dir DIR] [--pixel-um P] [--no-autostart] [--once] [--nvm FILE] \
[--layer-log FILE] [--trust KEY.pub]... [--link-key FILE]";

/// The arguments, or `None` when help was asked for.
const HELP: &str = "The simulated printer controller: verifies and executes meltline jobs.

  --stdio            read frames from standard input, reply on standard output
  --listen ADDR      serve one TCP connection at a time (state survives reconnects)
  --machine M.toml   machine configuration (default: the built-in machine)
  --report R.json    write the controller's report (time split, energy, coverage) here
  --exposure         compute exposure maps (coverage and spill per layer)
  --exposure-dir DIR write per-layer exposure pictures (PNG) here
  --pixel-um P       exposure map pixel, µm (default: chosen per layer)
  --no-autostart     wait for Start (default with --listen)
  --once             exit when the job is finished
  --nvm FILE         keep the non-volatile record (last completed layer) here
  --layer-log FILE   append one JSON line per executed layer
  -h, --help         this text

Exit status: 0 job completed, 1 faulted/aborted/input ended early, 2 usage or I/O error.

Examples:
  meltline-fw --stdio --report report.json < cage.mlj > /dev/null
  meltline-fw --listen 127.0.0.1:7878 --exposure --report report.json --once";

fn parse_args() -> Result<Option<Args>, String> {
    let mut a = Args {
        stdio: false,
        listen: None,
        machine: None,
        report: None,
        exposure: false,
        exposure_dir: None,
        pixel_um: 0.0,
        autostart: None,
        once: false,
        nvm: None,
        layer_log: None,
        trust: Vec::new(),
        link_key: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--stdio" => a.stdio = true,
            "--listen" => a.listen = Some(value("--listen")?),
            "--machine" => a.machine = Some(value("--machine")?.into()),
            "--report" => a.report = Some(value("--report")?.into()),
            "--exposure" => a.exposure = true,
            "--exposure-dir" => a.exposure_dir = Some(value("--exposure-dir")?.into()),
            "--pixel-um" => {
                a.pixel_um = value("--pixel-um")?
                    .parse()
                    .map_err(|e| format!("--pixel-um: {e}"))?;
            }
            "--no-autostart" => a.autostart = Some(false),
            "--autostart" => a.autostart = Some(true),
            "--once" => a.once = true,
            "--nvm" => a.nvm = Some(value("--nvm")?.into()),
            "--layer-log" => a.layer_log = Some(value("--layer-log")?.into()),
            "--trust" => a.trust.push(value("--trust")?.into()),
            "--link-key" => a.link_key = Some(value("--link-key")?.into()),
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if a.stdio == a.listen.is_some() {
        return Err("give exactly one of --stdio and --listen".into());
    }
    Ok(Some(a))
}

/// Encodes reply frames onto a byte sink; write errors (a closed pipe) are remembered, not fatal.
struct FrameOut<W: Write> {
    out: W,
    failed: bool,
}

impl<W: Write> ReplySink for FrameOut<W> {
    fn reply(&mut self, frame: &Frame<'_>) {
        let mut buf = [0u8; MAX_FRAME];
        if let Ok(n) = encode_frame(frame.seq, &frame.msg, &mut buf)
            && !self.failed
            && self.out.write_all(buf.get(..n).unwrap_or(&[])).is_err()
        {
            self.failed = true;
        }
    }
}

fn summarise(r: &SimReport) {
    for l in &r.link_errors {
        match (l.frame, l.offset) {
            (Some(f), Some(o)) => eprintln!(
                "meltline-fw: frame {f} (byte offset {o}, expected seq {}) rejected: {}",
                l.expected_seq, l.reason
            ),
            _ => eprintln!(
                "meltline-fw: frame out of sequence (expected seq {}): {}",
                l.expected_seq, l.reason
            ),
        }
    }
    for f in &r.faults {
        eprintln!("meltline-fw: fault: {}", f.message);
    }
    for w in &r.warnings {
        eprintln!("meltline-fw: warning: {}", w.message);
    }
    for n in &r.notes {
        eprintln!("meltline-fw: {n}");
    }
    eprintln!(
        "meltline-fw: {}: {} of {} layers executed, {} vectors, {:.1} s, {:.1} J, executed hash {}",
        r.state,
        r.layers_executed,
        r.layers_announced.map_or("?".into(), |n| n.to_string()),
        r.total.marks,
        r.total.total_s,
        r.total.energy_j,
        r.executed_sha256
    );
}

fn write_report(path: &Option<PathBuf>, r: &SimReport) -> Result<(), String> {
    if let Some(p) = path {
        let json = serde_json::to_vec_pretty(r).map_err(|e| format!("report: {e}"))?;
        write_atomic(p, &json).map_err(|e| format!("writing {}: {e}", p.display()))?;
    }
    Ok(())
}

fn run(a: Args) -> Result<bool, String> {
    let machine = match &a.machine {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| format!("reading {}: {e}", p.display()))?;
            toml::from_str::<MachineConfig>(&text).map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => MachineConfig::default(),
    };
    let machine = add_trusted_keys(machine, &a.trust)?;
    let link_key = a.link_key.as_deref().map(read_hex_key).transpose()?;
    if let Some(d) = &a.exposure_dir {
        std::fs::create_dir_all(d).map_err(|e| format!("creating {}: {e}", d.display()))?;
    }
    let opts = SimOptions {
        machine,
        auto_start: a.autostart.unwrap_or(a.stdio),
        exposure: a.exposure,
        exposure_dir: a.exposure_dir.clone(),
        pixel_um: a.pixel_um,
        nvm: a.nvm.clone(),
        layer_log: a.layer_log.clone(),
    };
    let mut sim = Simulator::new(opts);
    if let Some(p) = sim.controller().resume_point() {
        eprintln!(
            "meltline-fw: non-volatile record {}: job {} stopped after {} layers; resuming at layer {} when the job is sent again",
            a.nvm
                .as_deref()
                .unwrap_or(std::path::Path::new("?"))
                .display(),
            p.job_sha256
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            p.next_layer,
            p.next_layer
        );
    }
    let mut buf = vec![0u8; 64 * 1024];
    if a.stdio {
        let mut input = std::io::stdin().lock();
        let mut out = FrameOut {
            out: std::io::BufWriter::new(std::io::stdout().lock()),
            failed: false,
        };
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("reading standard input: {e}")),
            };
            sim.feed(buf.get(..n).unwrap_or(&[]), &mut out);
            let _ = out.out.flush();
        }
        let report = sim.report(true);
        summarise(&report);
        write_report(&a.report, &report)?;
        return Ok(report.complete);
    }
    let addr = a.listen.clone().unwrap_or_default();
    let listener =
        std::net::TcpListener::bind(&addr).map_err(|e| format!("binding {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    if link_key.is_none() && !local.ip().is_loopback() {
        return Err(format!(
            "refusing to listen on {local} without --link-key: anyone who can reach it could send jobs and commands (bind 127.0.0.1 or give a link key)"
        ));
    }
    eprintln!("meltline-fw: listening on {local}");
    if link_key.is_none() {
        eprintln!(
            "meltline-fw: no --link-key: loopback only, and any local process may send jobs and commands"
        );
    }
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("meltline-fw: accept failed: {e}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let mut reader = match stream.try_clone() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("meltline-fw: {e}");
                continue;
            }
        };
        if let Some(key) = link_key {
            let mut out = SealedOut::new(stream);
            let refused = serve_authenticated(&mut sim, &mut reader, &mut out, key)
                .map_err(|e| format!("link: {e}"))?;
            for e in refused {
                eprintln!("meltline-fw: frame refused by the authenticated link: {e}");
            }
            let report = sim.report(false);
            write_report(&a.report, &report)?;
            if sim.finished() {
                summarise(&report);
                if a.once {
                    return Ok(report.complete);
                }
            }
            continue;
        }
        let mut out = FrameOut {
            out: stream,
            failed: false,
        };
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => sim.feed(buf.get(..n).unwrap_or(&[]), &mut out),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
            if out.failed {
                break;
            }
        }
        let report = sim.report(false);
        write_report(&a.report, &report)?;
        if sim.finished() {
            summarise(&report);
            if a.once {
                return Ok(report.complete);
            }
        }
    }
    Ok(false)
}

/// Reads a key file holding 64 hex digits (a `.pub` or `.link` from `meltline keygen`).
fn read_hex_key(path: &std::path::Path) -> Result<[u8; 32], String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    parse_hex_key(&text)
        .ok_or_else(|| format!("{}: expected 64 hex digits (a 256-bit key)", path.display()))
}

/// Adds the `--trust` keys to the machine's trusted keys.
fn add_trusted_keys(mut m: MachineConfig, files: &[PathBuf]) -> Result<MachineConfig, String> {
    for f in files {
        read_hex_key(f)?;
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("reading {}: {e}", f.display()))?;
        let key = text
            .trim()
            .try_into()
            .map_err(|_| format!("{}: key too long", f.display()))?;
        m.trusted_keys
            .push(key)
            .map_err(|_| format!("{}: at most {MAX_TRUSTED_KEYS} trusted keys", f.display()))?;
    }
    for k in &m.trusted_keys {
        parse_hex_key(k).ok_or_else(|| format!("trusted key {k:?}: expected 64 hex digits"))?;
    }
    Ok(m)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            let _ = writeln!(std::io::stdout(), "{USAGE}\n\n{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("meltline-fw: {msg}");
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(msg) => {
            eprintln!("meltline-fw: {msg}");
            ExitCode::from(2)
        }
    }
}
