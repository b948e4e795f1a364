//! Wavefront OBJ through `tobj`: polygons are triangulated, every object and group is merged
//! into one mesh; materials, normals and texture coordinates are ignored.

use std::io::{BufRead, Read};

use nalgebra::Point3;

use super::ReadError;
use super::weld::{Welder, check_finite};
use crate::mesh::Mesh;

/// A `BufRead` that counts the lines the parser has consumed, so a parse error can name its
/// line (tobj itself reports none).
struct LineCounter<R> {
    inner: R,
    newlines: usize,
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.newlines += buf[..n].iter().filter(|&&b| b == b'\n').count();
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let amt = amt.min(buf.len());
            self.newlines += buf[..amt].iter().filter(|&&b| b == b'\n').count();
        }
        self.inner.consume(amt);
    }
}

/// Reads OBJ text.
pub(crate) fn read_obj(bytes: &[u8]) -> Result<Mesh, ReadError> {
    // tobj's optional features (merging, reordering) add fields; keep their defaults (off).
    #[allow(clippy::needless_update)]
    let options = tobj::LoadOptions {
        triangulate: true,
        single_index: false,
        ignore_points: true,
        ignore_lines: true,
        ..Default::default()
    };
    let mut reader = LineCounter {
        inner: bytes,
        newlines: 0,
    };
    // Material libraries are not needed for geometry: report them as absent.
    let loaded = tobj::load_obj_buf(&mut reader, &options, |_| {
        Err(tobj::LoadError::OpenFileFailed)
    });
    let (models, _materials) = loaded.map_err(|e| {
        // The failing line has been consumed with its newline (or is the unterminated last).
        let line = if bytes.ends_with(b"\n") || reader.newlines == 0 {
            reader.newlines.max(1)
        } else {
            reader.newlines + 1
        };
        ReadError::Obj {
            message: format!("{e} at line {line}"),
        }
    })?;
    let faces: usize = models.iter().map(|m| m.mesh.indices.len() / 3).sum();
    let mut welder = Welder::with_capacity(faces);
    for model in &models {
        let mesh = &model.mesh;
        let count = mesh.positions.len() / 3;
        for (f, tri) in mesh.indices.chunks_exact(3).enumerate() {
            let mut corners = [Point3::origin(); 3];
            for (c, &i) in corners.iter_mut().zip(tri) {
                let i = i as usize;
                if i >= count {
                    return Err(ReadError::BadVertexIndex {
                        place: format!("face {} of object `{}`", f + 1, model.name),
                        index: i as i64,
                        count,
                    });
                }
                let p = &mesh.positions[3 * i..3 * i + 3];
                *c = Point3::new(p[0], p[1], p[2]);
                check_finite(c, || {
                    format!("a vertex of face {} in object `{}`", f + 1, model.name)
                })?;
            }
            welder.triangle(corners)?;
        }
    }
    if welder.triangle_count() == 0 {
        return Err(ReadError::NoTriangles { format: "OBJ" });
    }
    welder.finish()
}
