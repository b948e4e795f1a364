//! Helpers shared by the subcommands: machine files, atomic JSON output, progress bars.

use std::path::Path;

use anyhow::Context;
use meltline_firmware::machine::MachineConfig;

/// Reads a machine configuration (TOML), or the built-in one when none is given or the built-in
/// machine's name is.
pub fn load_machine(path: Option<&Path>) -> anyhow::Result<MachineConfig> {
    let builtin = MachineConfig::default();
    match path {
        None => Ok(builtin),
        Some(p) if p.as_os_str() == builtin.machine.as_str() && !p.exists() => Ok(builtin),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str(&text).with_context(|| format!("machine file {}", p.display()))
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    meltline_core::io::write_bytes_atomically(path, bytes)
        .with_context(|| format!("writing {}", path.display()))
}

/// Writes a value as pretty JSON, atomically.
pub fn write_json_atomic(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(value)?;
    write_atomic(path, &json)
}

/// A progress bar on a terminal (hidden otherwise) for `total` frames.
pub fn frame_bar(total: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} frames · {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}
