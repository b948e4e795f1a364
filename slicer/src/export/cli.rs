//! The Common Layer Interface (CLI) format, ASCII and binary ("long" records), written layer
//! by layer so a job can be exported while it streams.
//!
//! Coordinates are written in job units with `$$UNITS` = the job quantum in mm, so the
//! integer job coordinates are carried exactly (binary reals are f32: exact up to 2²⁴ units,
//! ±16 m at 1 µm). `$$LAYER` is the top of the layer, `(i+1)·t`, in units. Each parameter set
//! is declared by `$$LABEL/id,name` and vectors carry that id. Closed contours are polylines
//! with direction 1 (counter-clockwise, outer) or 0 (clockwise, inner); edge and support
//! polylines are open (2). Binary records: command 127 (layer, long: real z), 130 (polyline,
//! long: int id, int dir, int n, 2n reals), 132 (hatches, long: int id, int n, 4n reals),
//! little-endian.
//!
//! ```
//! use meltline_slicer::export::cli::{CliFormat, CliWriter};
//! # use meltline_core::mesh::Mesh;
//! # use meltline_slicer::{job::{Slicer, SlicerOptions}, profile::ProcessProfile};
//! # let cube = Mesh::axis_aligned_box([0.0; 3], [2.0, 2.0, 0.06]);
//! # let job = Slicer::new(&cube, ProcessProfile::ti6al4v(), SlicerOptions::default()).unwrap().build_job().unwrap();
//! let mut out = Vec::new();
//! let mut w = CliWriter::new(&mut out, &job.header, CliFormat::Ascii).unwrap();
//! for layer in &job.layers { w.write_layer(layer).unwrap(); }
//! w.finish().unwrap();
//! let text = String::from_utf8(out).unwrap();
//! assert!(text.contains("$$LABEL/1,core") && text.contains("$$LAYERS/2"));
//! ```

use std::io::{self, Write};

use crate::job::{Geometry, JobHeader, Layer, VectorKind};
use crate::polygon::{Point, contour_area2};

/// ASCII or binary CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CliFormat {
    /// Text records.
    Ascii,
    /// Binary long records after an ASCII header.
    Binary,
}

/// Writes a job as CLI, one layer at a time.
#[derive(Debug)]
pub struct CliWriter<W: Write> {
    out: W,
    format: CliFormat,
    units_per_layer: f64,
}

impl<W: Write> CliWriter<W> {
    /// Writes the header.
    pub fn new(mut out: W, header: &JobHeader, format: CliFormat) -> io::Result<CliWriter<W>> {
        let q = header.quantum_mm;
        writeln!(out, "$$HEADERSTART")?;
        writeln!(
            out,
            "{}",
            if format == CliFormat::Ascii {
                "$$ASCII"
            } else {
                "$$BINARY"
            }
        )?;
        writeln!(out, "$$UNITS/{q:.6}")?;
        writeln!(out, "$$VERSION/200")?;
        writeln!(out, "$$LABEL/0,{} {}", header.material, header.machine)?;
        for s in &header.parameter_sets {
            writeln!(out, "$$LABEL/{},{}", s.id, s.label)?;
        }
        let [lo, hi] = header.bounds_mm;
        let u = |v: f64| (v / q).round() as i64;
        writeln!(
            out,
            "$$DIMENSION/{},{},{},{},{},{}",
            u(lo[0]),
            u(lo[1]),
            u(lo[2]),
            u(hi[0]),
            u(hi[1]),
            u(hi[2])
        )?;
        writeln!(out, "$$LAYERS/{}", header.layer_count)?;
        if format == CliFormat::Ascii {
            writeln!(out, "$$HEADEREND")?;
            writeln!(out, "$$GEOMETRYSTART")?;
        } else {
            write!(out, "$$HEADEREND")?;
        }
        Ok(CliWriter {
            out,
            format,
            units_per_layer: header.layer_thickness_mm / q,
        })
    }

    /// Writes one layer.
    pub fn write_layer(&mut self, layer: &Layer) -> io::Result<()> {
        let z = ((layer.index + 1) as f64 * self.units_per_layer).round();
        match self.format {
            CliFormat::Ascii => writeln!(self.out, "$$LAYER/{z}")?,
            CliFormat::Binary => {
                self.out.write_all(&127u16.to_le_bytes())?;
                self.out.write_all(&(z as f32).to_le_bytes())?;
            }
        }
        for b in &layer.blocks {
            let id = b.parameter_set as i32;
            match &b.geometry {
                Geometry::Polyline(pts) => {
                    let dir = if b.kind == VectorKind::Contour {
                        let c: Vec<Point> = pts.iter().map(|p| Point::new(p[0], p[1])).collect();
                        if contour_area2(&c) >= 0 { 1 } else { 0 }
                    } else {
                        2
                    };
                    self.polyline(id, dir, pts)?;
                }
                Geometry::Vectors(v) => self.hatches(id, v)?,
            }
        }
        Ok(())
    }

    fn polyline(&mut self, id: i32, dir: i32, pts: &[[i32; 2]]) -> io::Result<()> {
        match self.format {
            CliFormat::Ascii => {
                write!(self.out, "$$POLYLINE/{id},{dir},{}", pts.len())?;
                for p in pts {
                    write!(self.out, ",{},{}", p[0], p[1])?;
                }
                writeln!(self.out)
            }
            CliFormat::Binary => {
                self.out.write_all(&130u16.to_le_bytes())?;
                for v in [id, dir, pts.len() as i32] {
                    self.out.write_all(&v.to_le_bytes())?;
                }
                for p in pts {
                    self.out.write_all(&(p[0] as f32).to_le_bytes())?;
                    self.out.write_all(&(p[1] as f32).to_le_bytes())?;
                }
                Ok(())
            }
        }
    }

    fn hatches(&mut self, id: i32, v: &[[[i32; 2]; 2]]) -> io::Result<()> {
        match self.format {
            CliFormat::Ascii => {
                write!(self.out, "$$HATCHES/{id},{}", v.len())?;
                for s in v {
                    write!(self.out, ",{},{},{},{}", s[0][0], s[0][1], s[1][0], s[1][1])?;
                }
                writeln!(self.out)
            }
            CliFormat::Binary => {
                self.out.write_all(&132u16.to_le_bytes())?;
                self.out.write_all(&id.to_le_bytes())?;
                self.out.write_all(&(v.len() as i32).to_le_bytes())?;
                for s in v {
                    for c in [s[0][0], s[0][1], s[1][0], s[1][1]] {
                        self.out.write_all(&(c as f32).to_le_bytes())?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Ends the geometry and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.format == CliFormat::Ascii {
            writeln!(self.out, "$$GEOMETRYEND")?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}
