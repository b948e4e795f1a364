//! One exporter for every job format, fed layer by layer so memory stays flat in the number
//! of layers, writing through a temporary file renamed over the destination only when the
//! job is complete (a failed export never leaves a truncated file or loses an older one).
//!
//! A job naming lasers is written with [`Exporter::write_laser_layer`] (every layer), which
//! carries each block's laser into 3MF, OVF and `.mlj`; CLI has no place for it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use meltline_core::io::AtomicFile;
use meltline_firmware::job::JobWriter;
use meltline_firmware::machine::MachineConfig;
use meltline_slicer::export::cli::{CliFormat, CliWriter};
use meltline_slicer::job::{JobHeader, Layer};

use super::ovf::OvfWriter;
use super::threemf::ThreeMfWriter;
use super::{BlockLaser, Format, FormatError, WireSet, laser_layer_blocks, wire_spec};
use crate::mlj::layer_blocks;

/// The writer of one format.
enum Sink {
    ThreeMf(Box<ThreeMfWriter<BufWriter<File>>>),
    Ovf(OvfWriter<BufWriter<File>>),
    Cli(CliWriter<BufWriter<File>>),
    Mlj(JobWriter<BufWriter<File>>),
}

/// Writes a job in any format, one layer at a time.
pub struct Exporter {
    sink: Sink,
    file: AtomicFile,
    path: PathBuf,
    /// Layers written so far.
    layers: usize,
    /// Whether the layers name their lasers, fixed by the first.
    names_lasers: Option<bool>,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("path", &self.path)
            .finish()
    }
}

/// How to export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportOptions {
    /// The format (else from the extension).
    pub format: Option<Format>,
    /// CLI in binary long records instead of ASCII.
    pub cli_binary: bool,
    /// The machine whose power and speed limits a 3MF declares.
    pub machine: MachineConfig,
}

impl Exporter {
    /// Starts writing `path` (format from `opts.format` or the extension).
    pub fn create(
        path: &Path,
        header: &JobHeader,
        wire: &BTreeMap<u16, WireSet>,
        opts: &ExportOptions,
    ) -> Result<Exporter, FormatError> {
        let format = super::format_of(path, opts.format)?;
        let io = |e| FormatError::io(path, e);
        let mut file = AtomicFile::create(path).map_err(io)?;
        let out = BufWriter::with_capacity(1 << 16, file.file_mut().try_clone().map_err(io)?);
        let sink = match format {
            Format::ThreeMf => Sink::ThreeMf(Box::new(
                ThreeMfWriter::new(out, header, wire.clone(), &opts.machine)
                    .map_err(|e| io(e.into()))?,
            )),
            Format::Ovf => Sink::Ovf(OvfWriter::new(out, header, wire.clone()).map_err(io)?),
            Format::Cli => {
                let f = if opts.cli_binary {
                    CliFormat::Binary
                } else {
                    CliFormat::Ascii
                };
                Sink::Cli(CliWriter::new(out, header, f).map_err(io)?)
            }
            Format::Mlj => {
                let spec = wire_spec(header, wire).map_err(|source| FormatError::Encode {
                    path: path.display().to_string(),
                    source,
                })?;
                let mut w = JobWriter::new(out, &spec).map_err(|e| encode(path, e))?;
                w.limit_layers(crate::mlj::CONTROLLER_LAYER_MEMORY);
                Sink::Mlj(w)
            }
        };
        Ok(Exporter {
            sink,
            file,
            path: path.to_path_buf(),
            layers: 0,
            names_lasers: None,
        })
    }

    /// Writes the next layer of a job naming no lasers.
    pub fn write_layer(&mut self, layer: &Layer) -> Result<(), FormatError> {
        self.write(layer, None)
    }

    /// Writes the next layer of a job naming lasers, `lasers[i]` the laser of
    /// `layer.blocks[i]`: a job names the lasers of all its layers or of none.
    pub fn write_laser_layer(
        &mut self,
        layer: &Layer,
        lasers: &[BlockLaser],
    ) -> Result<(), FormatError> {
        self.write(layer, Some(lasers))
    }

    fn write(&mut self, layer: &Layer, lasers: Option<&[BlockLaser]>) -> Result<(), FormatError> {
        let path = &self.path;
        let n = self.layers;
        let refuse = |what: String| {
            FormatError::malformed(&path.display().to_string(), format!("layer {n}"), what)
        };
        let names = lasers.is_some();
        if *self.names_lasers.get_or_insert(names) != names {
            return Err(refuse(
                "a job names the lasers of all its layers or of none".into(),
            ));
        }
        if let Some(l) = lasers
            && l.len() != layer.blocks.len()
        {
            return Err(refuse(format!(
                "{} blocks but the lasers of {}",
                layer.blocks.len(),
                l.len()
            )));
        }
        let io = |e| FormatError::io(path, e);
        match (&mut self.sink, lasers) {
            (Sink::ThreeMf(w), None) => w.write_layer(layer).map_err(|e| io(e.into())),
            (Sink::ThreeMf(w), Some(l)) => w.write_laser_layer(layer, l).map_err(|e| io(e.into())),
            (Sink::Ovf(w), None) => w.write_layer(layer).map_err(io),
            (Sink::Ovf(w), Some(l)) => w.write_laser_layer(layer, l).map_err(io),
            (Sink::Cli(w), _) => w.write_layer(layer).map_err(io),
            (Sink::Mlj(w), None) => w
                .write_layer(&layer_blocks(layer))
                .map_err(|e| encode(path, e)),
            (Sink::Mlj(w), Some(l)) => laser_layer_blocks(layer, l)
                .and_then(|b| w.write_laser_layer(&b))
                .map_err(|e| encode(path, e)),
        }?;
        self.layers += 1;
        Ok(())
    }

    /// Completes the file and renames it into place; returns its size in bytes.
    pub fn finish(self) -> Result<u64, FormatError> {
        let path = &self.path;
        let io = |e| FormatError::io(path, e);
        let buf = match self.sink {
            Sink::ThreeMf(w) => (*w).finish().map_err(|e| io(e.into()))?,
            Sink::Ovf(w) => w.finish().map_err(io)?,
            Sink::Cli(w) => w.finish().map_err(io)?,
            Sink::Mlj(w) => w.finish().map_err(|e| encode(path, e))?.0,
        };
        let mut f = buf.into_inner().map_err(|e| io(e.into_error()))?;
        f.flush().map_err(io)?;
        let size = f.metadata().map_err(io)?.len();
        self.file.commit().map_err(io)?;
        Ok(size)
    }
}

fn encode(path: &Path, e: meltline_firmware::job::JobError) -> FormatError {
    FormatError::Encode {
        path: path.display().to_string(),
        source: crate::mlj::MljError::Encode {
            path: path.to_path_buf(),
            source: e,
        },
    }
}

/// Writes a whole document to `path`, with the laser of every block when it names lasers;
/// returns the file size.
pub fn export_document(
    doc: &super::JobDocument,
    path: &Path,
    opts: &ExportOptions,
) -> Result<u64, FormatError> {
    let mut e = Exporter::create(path, &doc.job.header, &doc.wire, opts)?;
    for (i, l) in doc.job.layers.iter().enumerate() {
        match doc.layer_lasers(i) {
            None => e.write_layer(l)?,
            Some(lasers) => e.write_laser_layer(l, lasers)?,
        }
    }
    e.finish()
}
