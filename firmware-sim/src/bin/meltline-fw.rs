//! `meltline-fw`: the simulated printer controller daemon.
fn main() {
    eprintln!("meltline-fw: the controller daemon is not built yet");
    std::process::exit(2);
}
