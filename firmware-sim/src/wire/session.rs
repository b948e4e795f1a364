//! Link-session messages: the mutual challenge–response that opens an authenticated session
//! (`AuthHello`, `AuthChallenge`, `AuthProof`). The proofs and the per-frame MAC are computed
//! in [`crate::auth`].
//!
//! ```text
//! host → ctl  AuthHello     { nonce: Nh }                       after Hello, plain
//! ctl → host  AuthChallenge { nonce: Nc, proof: HMAC(K, "ctl" ‖ Nh ‖ Nc) }          plain
//! host → ctl  AuthProof     { proof: HMAC(K, "host" ‖ Nh ‖ Nc) }                    plain
//! ctl → host  Status (sealed)                                   session established
//! ```
//!
//! Both nonces are 32 fresh random bytes per connection, so a recorded session replayed on a
//! new connection meets a new `Nc` and its `AuthProof` no longer matches.

use serde::{Deserialize, Serialize};

/// Host → controller: opens the handshake with the host's fresh nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthHello {
    /// The host's nonce `Nh`.
    pub nonce: [u8; 32],
}

/// Controller → host: the controller's fresh nonce and its proof of the link key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthChallenge {
    /// The controller's nonce `Nc`.
    pub nonce: [u8; 32],
    /// HMAC-SHA-256 under the link key over "ctl", `Nh`, `Nc`.
    pub proof: [u8; 32],
}

/// Host → controller: the host's proof of the link key over both nonces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthProof {
    /// HMAC-SHA-256 under the link key over "host", `Nh`, `Nc`.
    pub proof: [u8; 32],
}
