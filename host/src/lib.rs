//! meltline-host: the library behind the `meltline` command line — job files, transports,
//! streaming with flow control, fault injection, reports.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod console;
pub mod faults;
pub mod formats;
pub mod jobfile;
pub mod lasers;
pub mod link;
pub mod loopback;
pub mod mlj;
pub mod picture;
pub mod pipeline;
pub mod plate;
pub mod prepare;
pub mod raster_text;
pub mod release;
pub mod report;
pub mod scenario;
pub mod session;
