//! Standard output and error that never panic and never abort the work.
//!
//! `println!` panics when standard output is closed (`meltline … | head -1`) or full
//! (`> /dev/full`), which would lose a job the command had not yet saved. Everything the
//! command line prints goes through [`outln!`](crate::outln), [`out!`](crate::out),
//! [`errln!`](crate::errln) and [`err!`](crate::err) instead: a reader that went away ends
//! printing quietly while the work goes on (the command still exits 0 when the work
//! succeeded); any other failure of standard output (a full disk) is remembered and reported
//! once at the end by [`stdout_failure`], with a non-zero exit. Messages on standard error are
//! best effort: a closed standard error never stops the work.

use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static READER_GONE: AtomicBool = AtomicBool::new(false);
static FAILURE: Mutex<Option<io::ErrorKind>> = Mutex::new(None);

/// Writes to standard output; see the module documentation for what happens on failure.
pub fn write_out(args: fmt::Arguments<'_>) {
    if READER_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        note_failure(e);
    }
}

/// Writes to standard error, ignoring any failure.
pub fn write_err(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

fn note_failure(e: io::Error) {
    if e.kind() == io::ErrorKind::BrokenPipe {
        READER_GONE.store(true, Ordering::Relaxed);
    } else if let Ok(mut f) = FAILURE.lock() {
        f.get_or_insert(e.kind());
    }
}

/// Flushes standard output and returns the first failure other than a closed reader, if any.
pub fn stdout_failure() -> Option<io::Error> {
    if !READER_GONE.load(Ordering::Relaxed)
        && let Err(e) = io::stdout().lock().flush()
    {
        note_failure(e);
    }
    FAILURE.lock().ok().and_then(|f| f.map(io::Error::from))
}

/// Whether the reader of standard output went away.
pub fn reader_gone() -> bool {
    READER_GONE.load(Ordering::Relaxed)
}

/// `print!` that never panics (see [`crate::console`]).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::console::write_out(format_args!($($arg)*)) };
}

/// `println!` that never panics (see [`crate::console`]).
#[macro_export]
macro_rules! outln {
    () => { $crate::console::write_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` that never panics (see [`crate::console`]).
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => { $crate::console::write_err(format_args!($($arg)*)) };
}

/// `eprintln!` that never panics (see [`crate::console`]).
#[macro_export]
macro_rules! errln {
    () => { $crate::console::write_err(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::write_err(format_args!("{}\n", format_args!($($arg)*))) };
}
