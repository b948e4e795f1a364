//! `meltline`: the command line of the meltline LPBF print-preparation toolchain.
fn main() {}
