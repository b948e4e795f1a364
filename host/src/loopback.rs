//! The simulated controller served on a loopback TCP port from a thread, as `meltline-fw
//! --listen` does from its own process: one connection at a time, the controller's state
//! surviving reconnects. Used by `meltline demo` when the `meltline-fw` binary is not built,
//! and by the end-to-end tests, which stop and restart it to model a controller that goes
//! away mid-job.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use meltline_firmware::controller::ReplySink;
use meltline_firmware::sim::Simulator;
use meltline_firmware::wire::{Frame, MAX_FRAME, encode_frame};

/// A controller thread listening on a loopback port.
pub struct LoopbackController {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Simulator>,
}

struct Out<'a>(&'a mut TcpStream, bool);

impl ReplySink for Out<'_> {
    fn reply(&mut self, frame: &Frame<'_>) {
        let mut buf = [0u8; MAX_FRAME];
        if let Ok(n) = encode_frame(frame.seq, &frame.msg, &mut buf)
            && !self.1
            && self.0.write_all(&buf[..n]).is_err()
        {
            self.1 = true;
        }
    }
}

impl LoopbackController {
    /// Serves `sim` on `127.0.0.1` at an ephemeral port.
    pub fn start(sim: Simulator) -> io::Result<LoopbackController> {
        LoopbackController::start_on(sim, "127.0.0.1:0")
    }

    /// Serves `sim` on `addr`.
    pub fn start_on(sim: Simulator, addr: &str) -> io::Result<LoopbackController> {
        LoopbackController::start_dying(sim, addr, None)
    }

    /// Serves `sim` on `addr` and goes away — closing the connection and the port, dropping
    /// whatever bytes it has not processed — as soon as `die_after_layers` layers have been
    /// executed: a controller lost mid-job. [`LoopbackController::stop`] still hands back its
    /// state, as a controller that keeps its last completed layer would.
    pub fn start_dying(
        sim: Simulator,
        addr: &str,
        die_after_layers: Option<u32>,
    ) -> io::Result<LoopbackController> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || serve(listener, sim, &flag, die_after_layers));
        Ok(LoopbackController { addr, stop, handle })
    }

    /// The address to stream to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that stops the server from another thread (or a progress callback).
    pub fn stop_switch(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Stops serving (closing the port and any connection) and hands back the controller.
    pub fn stop(self) -> Simulator {
        self.stop.store(true, Ordering::SeqCst);
        match self.handle.join() {
            Ok(sim) => sim,
            Err(e) => std::panic::resume_unwind(e),
        }
    }
}

fn serve(
    listener: TcpListener,
    mut sim: Simulator,
    stop: &AtomicBool,
    die_after_layers: Option<u32>,
) -> Simulator {
    let mut buf = vec![0u8; 1 << 16];
    while !stop.load(Ordering::SeqCst) {
        let mut stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
            Err(_) => continue,
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
        let Ok(mut writer) = stream.try_clone() else {
            continue;
        };
        loop {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let mut out = Out(&mut writer, false);
                    match die_after_layers {
                        None => sim.feed(&buf[..n], &mut out),
                        Some(limit) => {
                            // Frame by frame, so the controller dies right after the layer.
                            for frame in buf[..n].split_inclusive(|b| *b == 0) {
                                sim.feed(frame, &mut out);
                                if sim.controller().report().layers >= limit {
                                    stop.store(true, Ordering::SeqCst);
                                    break;
                                }
                            }
                        }
                    }
                    if out.1 {
                        break;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => break,
            }
        }
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
    sim
}
