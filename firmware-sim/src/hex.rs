//! Hexadecimal text of hashes and keys: the one encoder and decoder of the workspace
//! (`no_std`; [`encode`] needs the `std` feature).
//!
//! ```
//! use meltline_firmware::hex::{Hex, decode32};
//! assert_eq!(format!("{}", Hex(&[0x0a, 0xff])), "0aff");
//! let key = [0x5a; 32];
//! assert_eq!(decode32(&format!("{}", Hex(&key))), Some(key));
//! assert_eq!(decode32("5a"), None);
//! ```

use core::fmt;

/// Displays bytes as lower-case hex, two digits a byte, with no allocation.
#[derive(Clone, Copy, Debug)]
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Lower-case hex of `bytes`.
#[cfg(feature = "std")]
pub fn encode(bytes: &[u8]) -> std::string::String {
    use std::string::ToString;
    Hex(bytes).to_string()
}

/// Parses exactly 64 hex digits (either case; surrounding white space ignored) into 32 bytes.
pub fn decode32(text: &str) -> Option<[u8; 32]> {
    let t = text.trim().as_bytes();
    if t.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(t.chunks_exact(2)) {
        let digit = |c: u8| (c as char).to_digit(16);
        let (hi, lo) = match pair {
            [h, l] => (digit(*h)?, digit(*l)?),
            _ => return None,
        };
        *byte = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}
