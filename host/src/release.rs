//! Keys and releases on the host: Ed25519 key pairs for signing releases, the 256-bit link key
//! shared with a printer, and releasing a job file (the signing itself is
//! `meltline_firmware::signing`, shared with the controller's tests).
//!
//! Key files hold hex digits and a newline: `NAME.key` the 32-byte Ed25519 secret seed,
//! `NAME.pub` the 32-byte public key, `NAME.link` the 32-byte link key. Secret files are
//! created owner-only (0600) and never overwritten.

use crate::errln;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ed25519_dalek::SigningKey;
use meltline_firmware::controller::release::parse_hex_key;

/// 32 random bytes from the operating system.
pub fn random_key() -> anyhow::Result<[u8; 32]> {
    let mut k = [0u8; 32];
    getrandom::fill(&mut k).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    Ok(k)
}

/// Lower-case hex of `bytes` (the firmware's one encoder).
pub use meltline_firmware::hex::encode as hex;

fn with_ext(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Creates `path` with `text`, owner-only when `secret`; refuses an existing file.
fn create(path: &Path, text: &str, secret: bool) -> anyhow::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = o.open(path).with_context(|| {
        format!(
            "creating {} (an existing key is never overwritten)",
            path.display()
        )
    })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Writes a new Ed25519 pair `NAME.key` (0600) and `NAME.pub`; returns their paths.
pub fn write_key_pair(name: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let key = SigningKey::from_bytes(&random_key()?);
    let (sk, pk) = (with_ext(name, "key"), with_ext(name, "pub"));
    if pk.exists() {
        bail!("{} exists; not overwritten", pk.display());
    }
    create(&sk, &(hex(key.as_bytes()) + "\n"), true)?;
    create(&pk, &(hex(key.verifying_key().as_bytes()) + "\n"), false)?;
    Ok((sk, pk))
}

/// Writes a new random link key `NAME.link` (0600); returns its path.
pub fn write_link_key(name: &Path) -> anyhow::Result<PathBuf> {
    let p = with_ext(name, "link");
    create(&p, &(hex(&random_key()?) + "\n"), true)?;
    Ok(p)
}

/// Reads a file of 64 hex digits (a `.key`, `.pub` or `.link`).
pub fn read_hex_key(path: &Path) -> anyhow::Result<[u8; 32]> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_hex_key(&text)
        .with_context(|| format!("{}: expected 64 hex digits (a 256-bit key)", path.display()))
}

/// Reads a signing key (`NAME.key`); warns when others can read it.
pub fn read_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            errln!(
                "meltline: warning: {} is readable by others (mode {:o}); chmod 600 it",
                path.display(),
                mode & 0o777
            );
        }
    }
    Ok(SigningKey::from_bytes(&read_hex_key(path)?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn key_files_are_owner_only_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let name = dir.path().join("qa");
        let (sk, pk) = write_key_pair(&name).unwrap();
        let link = write_link_key(&name).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for p in [&sk, &link] {
                let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", p.display());
            }
        }
        let key = read_signing_key(&sk).unwrap();
        assert_eq!(read_hex_key(&pk).unwrap(), *key.verifying_key().as_bytes());
        assert!(write_key_pair(&name).is_err());
        assert!(write_link_key(&name).is_err());
        assert_ne!(read_hex_key(&link).unwrap(), *key.as_bytes());
    }
}
