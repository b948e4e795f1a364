//! The simulator's non-volatile memory: the controller's record in a file, replaced atomically
//! (temporary file, `fsync`, rename) so a process killed at any instant leaves either the old
//! record or the new one, never a mixture.

use std::path::{Path, PathBuf};

use crate::nvm::{NV_RECORD_LEN, NonVolatile, NvWriteError};

/// A record kept in a file (`meltline-fw --nvm FILE`).
#[derive(Clone, Debug)]
pub struct FileRecord {
    path: PathBuf,
}

impl FileRecord {
    /// The record at `path`; the file need not exist yet (a blank memory).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where the record lives.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl NonVolatile for FileRecord {
    fn load(&mut self, out: &mut [u8; NV_RECORD_LEN]) -> bool {
        // A missing, unreadable or wrongly sized file is a blank memory.
        match std::fs::read(&self.path) {
            Ok(b) if b.len() == NV_RECORD_LEN => {
                out.copy_from_slice(&b);
                true
            }
            _ => false,
        }
    }

    fn store(&mut self, bytes: &[u8; NV_RECORD_LEN]) -> Result<(), NvWriteError> {
        super::write_atomic(&self.path, bytes).map_err(|_| NvWriteError)
    }

    fn erase(&mut self) -> Result<(), NvWriteError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(_) => Err(NvWriteError),
        }
    }
}

/// Boxed memories, so a simulator can hold a file, a RAM record or none behind one type.
impl<T: NonVolatile + ?Sized> NonVolatile for Box<T> {
    fn load(&mut self, out: &mut [u8; NV_RECORD_LEN]) -> bool {
        (**self).load(out)
    }
    fn store(&mut self, bytes: &[u8; NV_RECORD_LEN]) -> Result<(), NvWriteError> {
        (**self).store(bytes)
    }
    fn erase(&mut self) -> Result<(), NvWriteError> {
        (**self).erase()
    }
    fn persistent(&self) -> bool {
        (**self).persistent()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::nvm::NvRecord;

    #[test]
    fn a_file_record_survives_reopening_and_erase_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctl.nvm");
        let mut nv = FileRecord::new(&path);
        assert_eq!(NvRecord::load(&mut nv), None, "no file: blank");
        let mut r = NvRecord::new([1; 32], [2; 32], 8);
        r.layers_done = 3;
        r.store(&mut nv).unwrap();
        assert_eq!(NvRecord::load(&mut FileRecord::new(&path)), Some(r));
        assert!(!dir.path().join("ctl.nvm.tmp").exists());
        nv.erase().unwrap();
        assert!(!path.exists());
        std::fs::write(&path, b"short").unwrap();
        assert_eq!(NvRecord::load(&mut nv), None, "wrong size: blank");
    }
}
