//! `meltline-fw`: the simulated printer controller daemon; usage, options and exit status in
//! `meltline_firmware::cli`.

fn main() -> std::process::ExitCode {
    meltline_firmware::cli::main(std::env::args().skip(1))
}
