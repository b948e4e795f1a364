//! The controller daemon (`meltline_firmware::cli`) as a binary of this package: cargo hands
//! integration tests the paths of their own package's binaries only, and the kill-and-restart
//! scenario must run the real process, current with the source under test.

fn main() -> std::process::ExitCode {
    meltline_firmware::cli::main(std::env::args().skip(1))
}
