//! Atomic file writes: a temporary file beside the destination, renamed over it when complete,
//! so a failed write never leaves a half-written file or destroys the previous one.

use std::fs::File;
use std::path::Path;

/// A file being written under a temporary name in the destination's directory; it replaces
/// the destination only on [`AtomicFile::commit`], and is removed if dropped uncommitted.
///
/// The file gets the ordinary permissions of a new file (0666 less the umask), not the private
/// 0600 of a temporary file.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    dest: std::path::PathBuf,
}

impl AtomicFile {
    /// Starts writing `dest`; nothing at `dest` changes until [`AtomicFile::commit`].
    pub fn create(dest: &Path) -> std::io::Result<AtomicFile> {
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".meltline-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        Ok(AtomicFile {
            tmp: builder.tempfile_in(dir)?,
            dest: dest.to_path_buf(),
        })
    }

    /// The temporary file, to write into.
    pub fn file_mut(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// Syncs the file and renames it over the destination.
    pub fn commit(self) -> std::io::Result<()> {
        self.tmp.as_file().sync_all()?;
        self.tmp.persist(&self.dest).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Writes `path` through `write`, which fills a temporary file in the same directory; the file
/// is synced and renamed into place only when `write` succeeds (see [`AtomicFile`]).
/// `io_error` turns the I/O failures of creating, syncing and renaming into the caller's error
/// type.
pub fn write_atomically<T, E>(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<T, E>,
    io_error: impl Fn(std::io::Error) -> E,
) -> Result<T, E> {
    let mut file = AtomicFile::create(path).map_err(&io_error)?;
    let value = write(file.file_mut())?;
    file.commit().map_err(&io_error)?;
    Ok(value)
}

/// Writes `bytes` to `path` atomically (see [`write_atomically`]).
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    write_atomically(path, |f| f.write_all(bytes), |e| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_keeps_the_previous_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.txt");
        write_bytes_atomically(&path, b"first").unwrap();
        let r: Result<(), std::io::Error> = write_atomically(
            &path,
            |f| {
                use std::io::Write;
                f.write_all(b"half")?;
                Err(std::io::Error::other("encoder failed"))
            },
            |e| e,
        );
        assert!(r.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn written_file_is_readable_by_others_not_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cage.stl");
        write_bytes_atomically(&path, b"solid").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_ne!(mode, 0o600, "mode {mode:o}");
        assert_eq!(mode & 0o600, 0o600);
    }
}
