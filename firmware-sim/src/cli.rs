//! `meltline-fw`: the simulated printer controller daemon (feature `std`). The binary is a
//! thin wrapper around [`main`].
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
//! layer (process id, layer, digest, time, energy, vector counts) as it completes. Exit status:
//! 0 when the job completed, 1 when it faulted, was aborted or the input ended early, 2 on
//! usage or I/O errors.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::controller::ReplySink;
use crate::hex::{Hex, decode32};
use crate::machine::{MAX_TRUSTED_KEYS, MachineConfig};
use crate::sim::report::SimReport;
use crate::sim::session::{SealedOut, serve_authenticated};
use crate::sim::{DEFAULT_PIXEL_UM, SimOptions, Simulator, write_atomic};
use crate::wire::{Frame, MAX_FRAME, encode_frame};

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

const HELP: &str = "The simulated printer controller: verifies and executes meltline jobs.

  --stdio            read frames from standard input, reply on standard output
  --listen ADDR      serve one TCP connection at a time (state survives reconnects)
  --machine M.toml   machine configuration (default: the built-in machine)
  --report R.json    write the controller's report (time split, energy, coverage) here
  --exposure         compute exposure maps (coverage and spill per layer)
  --exposure-dir DIR write per-layer exposure pictures (PNG) here
  --pixel-um P       exposure map pixel, µm (default: 20)
  --no-autostart     wait for Start (default with --listen)
  --once             exit when the job is finished
  --nvm FILE         keep the non-volatile record (last completed layer) here
  --layer-log FILE   append one JSON line per executed layer
  -h, --help         this text

Exit status: 0 job completed, 1 faulted/aborted/input ended early, 2 usage or I/O error.

Examples:
  meltline-fw --stdio --report report.json < cage.mlj > /dev/null
  meltline-fw --listen 127.0.0.1:7878 --exposure --report report.json --once";

/// Runs the daemon on `args` (without the program name) and returns its exit status.
pub fn main(args: impl IntoIterator<Item = String>) -> ExitCode {
    let args = match parse_args(args) {
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
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(msg) => {
            eprintln!("meltline-fw: {msg}");
            ExitCode::from(2)
        }
    }
}

/// The arguments, or `None` when help was asked for.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut a = Args {
        stdio: false,
        listen: None,
        machine: None,
        report: None,
        exposure: false,
        exposure_dir: None,
        pixel_um: DEFAULT_PIXEL_UM,
        autostart: None,
        once: false,
        nvm: None,
        layer_log: None,
        trust: Vec::new(),
        link_key: None,
    };
    let mut it = args.into_iter();
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

impl<W: Write> FrameOut<W> {
    fn new(out: W) -> Self {
        Self { out, failed: false }
    }
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

/// Sets the simulator up from the arguments and serves standard input or TCP connections.
fn run(a: &Args) -> Result<bool, String> {
    let machine = add_trusted_keys(load_machine(a.machine.as_deref())?, &a.trust)?;
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
    announce_resume(&sim, a.nvm.as_deref());
    if a.stdio {
        serve_stdio(&mut sim, a)
    } else {
        serve_listen(&mut sim, a, link_key)
    }
}

/// The machine file, or the built-in machine.
fn load_machine(path: Option<&Path>) -> Result<MachineConfig, String> {
    let Some(p) = path else {
        return Ok(MachineConfig::default());
    };
    let text = std::fs::read_to_string(p).map_err(|e| format!("reading {}: {e}", p.display()))?;
    let m = toml::from_str::<MachineConfig>(&text).map_err(|e| format!("{}: {e}", p.display()))?;
    m.check().map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(m)
}

/// Says so when the non-volatile record holds a job to continue.
fn announce_resume(sim: &Simulator, nvm: Option<&Path>) {
    if let Some(p) = sim.controller().resume_point() {
        eprintln!(
            "meltline-fw: non-volatile record {}: job {} stopped after {} layers; resuming at layer {} when the job is sent again",
            nvm.unwrap_or(Path::new("?")).display(),
            Hex(&p.job_sha256),
            p.next_layer,
            p.next_layer
        );
    }
}

/// `--stdio`: frames from standard input until it ends, replies on standard output.
fn serve_stdio(sim: &mut Simulator, a: &Args) -> Result<bool, String> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut input = std::io::stdin().lock();
    let mut out = FrameOut::new(std::io::BufWriter::new(std::io::stdout().lock()));
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
    Ok(report.complete)
}

/// `--listen`: one TCP connection at a time; `Ok(false)` if the listener ever stops.
fn serve_listen(sim: &mut Simulator, a: &Args, link_key: Option<[u8; 32]>) -> Result<bool, String> {
    let addr = a.listen.clone().unwrap_or_default();
    let listener = TcpListener::bind(&addr).map_err(|e| format!("binding {addr}: {e}"))?;
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
    let mut buf = vec![0u8; 64 * 1024];
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
            let refused = serve_authenticated(sim, &mut reader, &mut out, key)
                .map_err(|e| format!("link: {e}"))?;
            for e in refused {
                eprintln!("meltline-fw: frame refused by the authenticated link: {e}");
            }
        } else {
            serve_plain(sim, &mut reader, stream, &mut buf);
        }
        if let Some(complete) = connection_closed(sim, a)? {
            return Ok(complete);
        }
    }
    Ok(false)
}

/// One connection without a link key: frames in, replies out, until either side closes.
fn serve_plain(sim: &mut Simulator, reader: &mut TcpStream, stream: TcpStream, buf: &mut [u8]) {
    let mut out = FrameOut::new(stream);
    loop {
        match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => sim.feed(buf.get(..n).unwrap_or(&[]), &mut out),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
        if out.failed {
            break;
        }
    }
}

/// After a connection: writes the report; with `--once` and the job finished, the outcome
/// to exit with (`Some(complete)`).
fn connection_closed(sim: &Simulator, a: &Args) -> Result<Option<bool>, String> {
    let report = sim.report(false);
    write_report(&a.report, &report)?;
    if sim.finished() {
        summarise(&report);
        if a.once {
            return Ok(Some(report.complete));
        }
    }
    Ok(None)
}

/// Reads a key file holding 64 hex digits (a `.pub` or `.link` from `meltline keygen`).
fn read_hex_key(path: &Path) -> Result<[u8; 32], String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    decode32(&text)
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
        decode32(k).ok_or_else(|| format!("trusted key {k:?}: expected 64 hex digits"))?;
    }
    Ok(m)
}
