//! The subcommands of `meltline`, one module each; `run(args) -> anyhow::Result<ExitCode>`.

/// `println!` that returns the write error instead of panicking, so `meltline inspect | head`
/// ends quietly when the reader goes away (see `main`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?
    }};
}

pub mod check;
pub mod common;
pub mod demo;
pub mod design;
pub mod inspect;
pub mod keygen;
pub mod link_proxy;
pub mod preview;
pub mod release;
pub mod repair;
pub mod scenario;
pub mod simulate;
pub mod slice;
pub mod stream;
