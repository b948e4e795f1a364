//! `meltline link-proxy --listen A --to B --faults ...`: a TCP proxy that passes frames from
//! the host to the controller through a deterministic fault-injecting link and replies back
//! unchanged; a forced disconnect closes both sides, and the next host connection is served.

use meltline_host::errln;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ExitCode;

use anyhow::Context;
use meltline_host::faults::{FaultInjector, FaultSpec, FrameSplitter};

/// Arguments of `meltline link-proxy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to accept the host on, e.g. `127.0.0.1:7001`.
    #[arg(long)]
    pub listen: String,
    /// The controller's address.
    #[arg(long)]
    pub to: String,
    /// The faults, e.g. `drop=0.01,corrupt=0.01,disconnect-every=2000,seed=1`.
    #[arg(long, default_value = "")]
    pub faults: FaultSpec,
    /// Serve this many connections, then exit (default: forever).
    #[arg(long)]
    pub connections: Option<u64>,
}

/// Runs `meltline link-proxy`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let listener =
        TcpListener::bind(&args.listen).with_context(|| format!("binding {}", args.listen))?;
    errln!(
        "meltline link-proxy: {} → {} with {}",
        listener.local_addr()?,
        args.to,
        args.faults
    );
    let mut injector = FaultInjector::new(args.faults.clone());
    let mut served = 0u64;
    for host in listener.incoming() {
        let host = match host {
            Ok(h) => h,
            Err(e) => {
                errln!("meltline link-proxy: accept: {e}");
                continue;
            }
        };
        let ctl =
            TcpStream::connect(&args.to).with_context(|| format!("connecting to {}", args.to))?;
        proxy(host, ctl, &mut injector)?;
        served += 1;
        let c = injector.counts();
        errln!(
            "meltline link-proxy: connection {served} closed; so far {} frames, {} dropped, {} corrupted, {} duplicated, {} disconnects",
            c.frames,
            c.dropped,
            c.corrupted,
            c.duplicated,
            c.disconnects
        );
        if args.connections.is_some_and(|n| served >= n) {
            break;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Pumps one host connection: host → faults → controller, controller → host verbatim.
pub fn proxy(
    mut host: TcpStream,
    ctl: TcpStream,
    injector: &mut FaultInjector,
) -> anyhow::Result<()> {
    let _ = host.set_nodelay(true);
    let _ = ctl.set_nodelay(true);
    let mut ctl_rx = ctl.try_clone()?;
    let mut host_tx = host.try_clone()?;
    let back = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = ctl_rx.read(&mut buf) {
            if n == 0 || host_tx.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = host_tx.shutdown(Shutdown::Both);
    });
    let mut ctl_tx = ctl;
    let mut splitter = FrameSplitter::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut out = Vec::with_capacity(1 << 17);
    'conn: while let Ok(n) = host.read(&mut buf) {
        if n == 0 {
            break;
        }
        let mut frames = Vec::new();
        splitter.feed(&buf[..n], |f| frames.push(f.to_vec()));
        for f in frames {
            out.clear();
            let cut = injector.pass(&f, &mut out);
            if ctl_tx.write_all(&out).is_err() {
                break 'conn;
            }
            if cut {
                break 'conn;
            }
        }
    }
    let _ = ctl_tx.shutdown(Shutdown::Both);
    let _ = host.shutdown(Shutdown::Both);
    let _ = back.join();
    Ok(())
}
