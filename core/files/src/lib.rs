//! Atomic file writes: a temporary file beside the destination, renamed over it when complete,
//! so a failed write never leaves a half-written file or destroys the previous one.
//!
//! Outputs never destroy anything: a destination that exists must be a regular file (a device,
//! FIFO or directory is refused, never replaced), a symbolic link is written through to its
//! target (the link stays), and the destination's folder must exist. [`output_target`] makes
//! these checks, so commands can refuse a bad output path before any long work.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Links followed at most when resolving an output path (as the kernel's `ELOOP` limit).
const MAX_LINKS: usize = 40;

fn kind_of(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// The file an output path really writes: `dest` itself, or the final target of the symbolic
/// links it names. Refuses (with an error that does not repeat the path, for the caller to
/// name) a destination that exists and is not a regular file, and one whose folder does not
/// exist.
pub fn output_target(dest: &Path) -> io::Result<PathBuf> {
    let mut path = dest.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&path)?;
                path = match path.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Ok(m) if m.file_type().is_file() => return Ok(path),
            Ok(m) => {
                let what = if path == dest {
                    "it".to_string()
                } else {
                    format!("its link target {}", path.display())
                };
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{what} is {}, not a regular file: refusing to replace it",
                        kind_of(m.file_type())
                    ),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let dir = folder_of(&path);
                return match std::fs::metadata(dir) {
                    Ok(m) if m.is_dir() => Ok(path),
                    Ok(_) => Err(io::Error::new(
                        io::ErrorKind::NotADirectory,
                        format!("{} is not a folder", dir.display()),
                    )),
                    Err(_) => Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("the folder {} does not exist", dir.display()),
                    )),
                };
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "too many levels of symbolic links",
    ))
}

/// Checks an output folder before long work: it is a folder, or it does not exist yet and its
/// parent is a folder (it will be created).
pub fn check_output_dir(dir: &Path) -> io::Result<()> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(m) => Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("it is {}, not a folder", kind_of(m.file_type())),
        )),
        Err(_) => {
            let parent = folder_of(dir);
            match std::fs::metadata(parent) {
                Ok(m) if m.is_dir() => Ok(()),
                _ => Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("its parent folder {} does not exist", parent.display()),
                )),
            }
        }
    }
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

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
    /// Starts writing `dest` (through a symbolic link to its target, see [`output_target`]);
    /// nothing at `dest` changes until [`AtomicFile::commit`].
    pub fn create(dest: &Path) -> std::io::Result<AtomicFile> {
        let dest = output_target(dest)?;
        let dir = folder_of(&dest);
        let mut builder = tempfile::Builder::new();
        builder.prefix(".meltline-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        Ok(AtomicFile {
            tmp: builder.tempfile_in(dir).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "cannot create a file in {}: {}",
                        dir.display(),
                        std::io::Error::from(e.kind())
                    ),
                )
            })?,
            dest,
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
    fn a_symlinked_output_is_written_through_and_the_link_stays() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.mlj");
        std::fs::write(&target, b"old").unwrap();
        let link = dir.path().join("link.mlj");
        std::os::unix::fs::symlink("real.mlj", &link).unwrap();
        write_bytes_atomically(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_output_is_refused_and_left_as_it_is() {
        let e = write_bytes_atomically(Path::new("/dev/null"), b"x").unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        assert!(
            !std::fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_file()
        );
    }

    #[test]
    fn a_directory_output_is_refused_and_a_missing_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_bytes_atomically(dir.path(), b"x").unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
        let missing = dir.path().join("no/such/folder/job.mlj");
        let e = output_target(&missing).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert!(e.to_string().contains("no/such/folder"), "{e}");
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
