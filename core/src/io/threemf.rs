//! 3MF (placeholder while the reader is written).

use super::ReadError;
use crate::mesh::Mesh;

/// Reads a 3MF package.
pub(crate) fn read_3mf(_bytes: &[u8]) -> Result<Mesh, ReadError> {
    Err(ReadError::ThreeMf {
        message: "3MF reading is not available yet".into(),
    })
}
