//! Per-part spools: each part, once sliced, is written to a job file of its own in a
//! temporary folder (its blocks coded once, a few bytes per vector) and its slicer and mesh
//! dropped. The plate's layers are then joined from the spools with one layer of every part
//! in memory at a time, so peak memory is that of one part being sliced, not of the plate.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use meltline_firmware::job::{CodedBlock, FrameReader, JobSummary, PartSpec};
use meltline_firmware::wire::Msg;
use meltline_slicer::job::JobHeader;

use crate::mlj::{MljError, MljOptions, write_atomically};

/// One part's layers on disk.
#[derive(Debug, Clone)]
pub struct Spool {
    /// The part's job file.
    pub path: PathBuf,
    /// Its layers (from layer 0 of the plate).
    pub layers: usize,
}

/// Reads a spool layer by layer.
struct SpoolReader {
    frames: FrameReader<File>,
    scratch: Vec<u8>,
    path: PathBuf,
}

impl SpoolReader {
    fn open(spool: &Spool) -> io::Result<Self> {
        let file = File::open(&spool.path)?;
        Ok(Self {
            frames: FrameReader::new(file),
            scratch: Vec::new(),
            path: spool.path.clone(),
        })
    }

    /// Appends the next layer's blocks to `out`; `false` once the spool has no more layers.
    fn next_layer(&mut self, part: u16, out: &mut Vec<CodedBlock>) -> io::Result<bool> {
        let bad = |what: String| io::Error::other(format!("{}: {what}", self.path.display()));
        let mut open = false;
        for raw in self.frames.by_ref() {
            let raw = raw?;
            let frame = raw
                .decode(&mut self.scratch)
                .map_err(|e| bad(format!("frame {}: {e}", raw.index)))?;
            match frame.msg {
                Msg::LayerStart(_) => open = true,
                Msg::VectorBlock(b) if open => out.push(CodedBlock::of(Some(part), &b)),
                Msg::LayerEnd(_) if open => return Ok(true),
                Msg::JobEnd(_) => return Ok(false),
                Msg::JobHeader(_) | Msg::ParamSet(_) if !open => {}
                _ => return Err(bad(format!("frame {} out of place", raw.index))),
            }
        }
        Err(bad("ends before its JobEnd".into()))
    }
}

impl Spool {
    /// What each of its layers takes of the controller's layer memory: the payload and block
    /// records its `LayerStart`s announce, which the joined plate's layers add up part by part
    /// (the join copies the coded blocks as they are).
    pub fn layer_needs(&self) -> io::Result<Vec<u64>> {
        let mut frames = FrameReader::new(File::open(&self.path)?);
        let mut scratch = Vec::new();
        let mut needs = Vec::with_capacity(self.layers);
        for raw in frames.by_ref() {
            let raw = raw?;
            let frame = raw.decode(&mut scratch).map_err(|e| {
                io::Error::other(format!("{}: frame {}: {e}", self.path.display(), raw.index))
            })?;
            if let Msg::LayerStart(l) = frame.msg {
                needs.push(
                    u64::from(l.payload_bytes)
                        + u64::from(l.blocks) * meltline_firmware::controller::BLOCK_HEADER as u64,
                );
            }
        }
        Ok(needs)
    }
}

/// Joins the parts' spools into the plate job at `path`: the part table, then layer by layer
/// every part's blocks in part order, each naming its part. Nothing is written on an error.
pub fn join(
    header: &JobHeader,
    parts: &[PartSpec],
    spools: &[Spool],
    path: &Path,
    opts: &MljOptions,
) -> Result<JobSummary, MljError> {
    let io_err = |source| MljError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut readers = spools
        .iter()
        .map(SpoolReader::open)
        .collect::<io::Result<Vec<_>>>()
        .map_err(io_err)?;
    write_atomically(header, parts, path, opts, |w| {
        let mut blocks = Vec::new();
        for layer in 0..header.layer_count {
            blocks.clear();
            for (k, (r, s)) in readers.iter_mut().zip(spools).enumerate() {
                if layer >= s.layers {
                    continue;
                }
                let part = u16::try_from(k).unwrap_or(u16::MAX);
                if !r.next_layer(part, &mut blocks)? {
                    return Err(io::Error::other(format!(
                        "{} has {layer} layers, {} expected",
                        s.path.display(),
                        s.layers
                    ))
                    .into());
                }
            }
            w.write_coded_layer(&blocks)?;
        }
        Ok(())
    })
}
