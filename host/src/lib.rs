//! meltline-host: the library behind the `meltline` command line — job files, transports,
//! streaming with flow control, fault injection, reports.

pub mod faults;
pub mod mlj;
