//! Byte pipes to a controller: the [`Transport`] trait, an in-process simulator and TCP.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use meltline_firmware::sim::Simulator;
use meltline_firmware::wire::{Frame, MAX_FRAME, encode_frame};

/// A byte pipe to a controller that can be dropped and re-established.
pub trait Transport {
    /// (Re)establishes the connection.
    fn connect(&mut self) -> io::Result<()>;
    /// Sends bytes.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Appends whatever arrives within `timeout` to `buf`; `Ok(0)` when nothing did.
    fn recv(&mut self, buf: &mut Vec<u8>, timeout: Duration) -> io::Result<usize>;
    /// Drops the connection.
    fn disconnect(&mut self);
    /// Replies are produced synchronously by `send` (in-process): an empty `recv` means lost,
    /// so timeouts fire at once instead of waiting in real time.
    fn synchronous(&self) -> bool {
        false
    }
    /// The streamer's clock: time since an arbitrary epoch. Real transports use the wall clock;
    /// a simulated link returns virtual time that its `recv` advances by the timeout when
    /// nothing arrives, so timeouts, retransmissions and stall detection run without waiting.
    fn now(&self) -> Duration {
        wall_clock()
    }
}

/// Wall-clock time since the first call in this process.
pub fn wall_clock() -> Duration {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed()
}

/// The controller in this process (a [`Simulator`]), bytes passed by function call.
pub struct InProcess {
    /// The simulated controller.
    pub sim: Simulator,
    replies: Vec<u8>,
}

struct ReplyBytes<'a>(&'a mut Vec<u8>);

impl meltline_firmware::controller::ReplySink for ReplyBytes<'_> {
    fn reply(&mut self, frame: &Frame<'_>) {
        let mut buf = [0u8; MAX_FRAME];
        if let Ok(n) = encode_frame(frame.seq, &frame.msg, &mut buf) {
            self.0.extend_from_slice(&buf[..n]);
        }
    }
}

impl InProcess {
    /// Wraps a simulator.
    pub fn new(sim: Simulator) -> InProcess {
        InProcess {
            sim,
            replies: Vec::new(),
        }
    }
}

impl Transport for InProcess {
    fn connect(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.sim.feed(bytes, &mut ReplyBytes(&mut self.replies));
        Ok(())
    }
    fn recv(&mut self, buf: &mut Vec<u8>, _timeout: Duration) -> io::Result<usize> {
        let n = self.replies.len();
        buf.append(&mut self.replies);
        Ok(n)
    }
    fn disconnect(&mut self) {
        // Replies on their way back are lost with the connection.
        self.replies.clear();
    }
    fn synchronous(&self) -> bool {
        true
    }
}

/// A TCP connection to `meltline-fw --listen` (or a `link-proxy` in front of it).
pub struct Tcp {
    addr: Vec<SocketAddr>,
    label: String,
    stream: Option<TcpStream>,
    /// How long to keep trying to (re)connect.
    pub connect_for: Duration,
    buf: Vec<u8>,
}

impl Tcp {
    /// A transport to `addr` (`HOST:PORT`); nothing is connected yet.
    pub fn new(addr: &str) -> io::Result<Tcp> {
        let resolved: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
        if resolved.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{addr} does not resolve"),
            ));
        }
        Ok(Tcp {
            addr: resolved,
            label: addr.to_string(),
            stream: None,
            connect_for: Duration::from_secs(5),
            buf: vec![0; 1 << 16],
        })
    }
}

impl Transport for Tcp {
    fn connect(&mut self) -> io::Result<()> {
        self.stream = None;
        let deadline = Instant::now() + self.connect_for;
        let mut pause = Duration::from_millis(20);
        loop {
            let mut last = None;
            for a in &self.addr {
                match TcpStream::connect_timeout(a, Duration::from_secs(1)) {
                    Ok(s) => {
                        s.set_nodelay(true)?;
                        self.stream = Some(s);
                        return Ok(());
                    }
                    Err(e) => last = Some(e),
                }
            }
            if Instant::now() >= deadline {
                let e = last.unwrap_or_else(|| io::Error::other("no address"));
                return Err(io::Error::new(
                    e.kind(),
                    format!("connecting to {}: {e}", self.label),
                ));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.stream.as_mut() {
            Some(s) => s.write_all(bytes),
            None => Err(io::Error::new(io::ErrorKind::NotConnected, "not connected")),
        }
    }
    fn recv(&mut self, buf: &mut Vec<u8>, timeout: Duration) -> io::Result<usize> {
        let Some(s) = self.stream.as_mut() else {
            return Err(io::Error::new(io::ErrorKind::NotConnected, "not connected"));
        };
        s.set_read_timeout(Some(timeout.max(Duration::from_micros(100))))?;
        match s.read(&mut self.buf) {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                format!("{} closed the connection", self.label),
            )),
            Ok(n) => {
                buf.extend_from_slice(&self.buf[..n]);
                Ok(n)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(0)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }
    fn disconnect(&mut self) {
        if let Some(s) = self.stream.take() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}
