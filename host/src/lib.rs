//! meltline-host: the library behind the `meltline` command line — job files, transports,
//! streaming with flow control, fault injection, reports.

pub mod faults;
pub mod jobfile;
pub mod link;
pub mod loopback;
pub mod mlj;
pub mod picture;
pub mod release;
pub mod report;
pub mod scenario;
pub mod session;
