//! STL: telling binary from ASCII, reading binary through `stl_io` (ASCII is read in
//! `stl_ascii`), and writing both encodings.

use std::io::{Cursor, Write};

use nalgebra::Point3;

use super::weld::{Welder, check_finite};
use super::{ReadError, WriteError};
use crate::mesh::Mesh;

/// Which STL encoding to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StlFormat {
    /// 80-byte header, u32 count, 50 bytes per triangle of f32: compact, the usual choice.
    #[default]
    Binary,
    /// Text, `facet … endfacet`; coordinates written so they read back bit-exactly.
    Ascii,
}

/// Size of the binary STL header plus triangle count.
const BINARY_HEADER: u64 = 84;
/// Size of one binary STL triangle record.
const BINARY_TRIANGLE: u64 = 50;

/// The size a binary STL with `n` triangles must have.
pub(crate) fn binary_size(n: u32) -> u64 {
    BINARY_HEADER + BINARY_TRIANGLE * u64::from(n)
}

/// The triangle count in a binary STL header, when there is a header.
pub(crate) fn binary_count(bytes: &[u8]) -> Option<u32> {
    let b = bytes.get(80..84)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// True when the bytes start with the `solid` keyword (after white space), as ASCII STL does —
/// and, alas, many binary STL headers too.
pub(crate) fn starts_with_solid(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[start..]
        .get(..5)
        .is_some_and(|w| w.eq_ignore_ascii_case(b"solid"))
}

/// True when the first triangles of a binary STL body look like geometry: finite,
/// not absurdly large, not denormal garbage. Random bytes fail this almost surely
/// (each random f32 passes with probability ~0.6, and we test up to 120 of them).
pub(crate) fn binary_body_plausible(bytes: &[u8]) -> bool {
    let body = bytes.get(BINARY_HEADER as usize..).unwrap_or(&[]);
    body.chunks_exact(BINARY_TRIANGLE as usize)
        .take(10)
        .all(|rec| {
            rec[..48].chunks_exact(4).all(|f| {
                let v = f32::from_le_bytes([f[0], f[1], f[2], f[3]]);
                v.is_finite() && v.abs() < 1.0e7 && (v == 0.0 || v.abs() > 1.0e-20)
            })
        })
}

/// Reads a binary STL whose size has been checked against its header.
pub(crate) fn read_binary(bytes: &[u8]) -> Result<Mesh, ReadError> {
    let n = binary_count(bytes).unwrap_or(0);
    let expected = binary_size(n);
    let actual = bytes.len() as u64;
    if actual < expected {
        return Err(ReadError::TruncatedBinaryStl {
            triangles: n,
            expected_bytes: expected,
            actual_bytes: actual,
            complete: actual.saturating_sub(BINARY_HEADER) / BINARY_TRIANGLE,
        });
    }
    let mut cursor = Cursor::new(bytes);
    let triangles = stl_io::create_stl_reader(&mut cursor).map_err(|e| ReadError::NotAMesh {
        seen: format!("binary STL header unreadable ({e})"),
    })?;
    let mut welder = Welder::with_capacity(n as usize);
    for (i, tri) in triangles.enumerate() {
        // The size check above guarantees every record is present.
        let tri = tri.map_err(|_| ReadError::TruncatedBinaryStl {
            triangles: n,
            expected_bytes: expected,
            actual_bytes: actual,
            complete: i as u64,
        })?;
        let mut corners = [Point3::origin(); 3];
        for (k, (c, v)) in corners.iter_mut().zip(tri.vertices.iter()).enumerate() {
            *c = Point3::new(f64::from(v[0]), f64::from(v[1]), f64::from(v[2]));
            check_finite(c, || format!("triangle {} vertex {}", i + 1, k + 1))?;
        }
        welder.triangle(corners)?;
    }
    if welder.triangle_count() == 0 {
        return Err(ReadError::NoTriangles {
            format: "binary STL",
        });
    }
    welder.finish()
}

/// The unit normal of a triangle for the STL record (zero for a degenerate triangle).
fn unit_normal(c: &[Point3<f64>; 3]) -> [f64; 3] {
    let n = (c[1] - c[0]).cross(&(c[2] - c[0]));
    let len = n.norm();
    if len > 0.0 && len.is_finite() {
        [n.x / len, n.y / len, n.z / len]
    } else {
        [0.0; 3]
    }
}

/// Refuses meshes that STL cannot represent faithfully.
fn check_writable(mesh: &Mesh, format: StlFormat) -> Result<(), WriteError> {
    if format == StlFormat::Binary && mesh.triangles.len() > u32::MAX as usize {
        return Err(WriteError::TooManyTriangles {
            triangles: mesh.triangles.len(),
        });
    }
    for (i, p) in mesh.vertices.iter().enumerate() {
        let reason = if !(p.x.is_finite() && p.y.is_finite() && p.z.is_finite()) {
            Some("a coordinate is not finite")
        } else if format == StlFormat::Binary
            && [p.x, p.y, p.z]
                .iter()
                .any(|v| v.abs() > f64::from(f32::MAX))
        {
            Some("a coordinate exceeds the 32-bit float range of binary STL")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(WriteError::BadVertex {
                vertex: i,
                x: p.x,
                y: p.y,
                z: p.z,
                reason,
            });
        }
    }
    Ok(())
}

/// Encodes a mesh as STL into `out`.
fn encode<W: Write>(mesh: &Mesh, format: StlFormat, out: &mut W) -> std::io::Result<()> {
    match format {
        StlFormat::Binary => {
            let f = |v: f64| v as f32;
            let records = (0..mesh.triangles.len()).map(|t| {
                let c = mesh.corners(t);
                let n = unit_normal(&c);
                stl_io::Triangle {
                    normal: stl_io::Normal::new([f(n[0]), f(n[1]), f(n[2])]),
                    vertices: c.map(|p| stl_io::Vertex::new([f(p.x), f(p.y), f(p.z)])),
                }
            });
            stl_io::write_stl(out, records)
        }
        StlFormat::Ascii => {
            let mut out = std::io::BufWriter::new(out);
            writeln!(out, "solid meltline")?;
            for t in 0..mesh.triangles.len() {
                let c = mesh.corners(t);
                let n = unit_normal(&c);
                // `{:?}` prints the shortest text that parses back to the same f64.
                writeln!(out, "  facet normal {:?} {:?} {:?}", n[0], n[1], n[2])?;
                writeln!(out, "    outer loop")?;
                for p in &c {
                    writeln!(out, "      vertex {:?} {:?} {:?}", p.x, p.y, p.z)?;
                }
                writeln!(out, "    endloop")?;
                writeln!(out, "  endfacet")?;
            }
            writeln!(out, "endsolid meltline")?;
            out.flush()
        }
    }
}

/// The mesh as STL bytes. Binary STL stores 32-bit floats, so coordinates are rounded to f32;
/// ASCII keeps every f64 exactly. Non-finite vertices are written as they are (use
/// [`write_stl`] to have them refused).
pub fn stl_bytes(mesh: &Mesh, format: StlFormat) -> Vec<u8> {
    let mut out = Vec::with_capacity(match format {
        StlFormat::Binary => 84 + 50 * mesh.triangles.len(),
        StlFormat::Ascii => 64 + 200 * mesh.triangles.len(),
    });
    // Writing into a Vec cannot fail.
    let _ = encode(mesh, format, &mut out);
    out
}

/// Writes the mesh as STL to `path` atomically: the bytes go to a temporary file in the same
/// directory, which is renamed over `path` only when complete, so an existing file is never
/// left half-written. Refuses non-finite vertices and (binary) coordinates beyond f32.
pub fn write_stl(path: &std::path::Path, mesh: &Mesh, format: StlFormat) -> Result<(), WriteError> {
    check_writable(mesh, format)?;
    let io = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    super::write_atomically(path, |f| encode(mesh, format, f).map_err(io), io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_binary_reports_declared_and_actual_sizes() {
        let mesh = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
        let bytes = stl_bytes(&mesh, StlFormat::Binary);
        let cut = &bytes[..bytes.len() - 30];
        match read_binary(cut) {
            Err(ReadError::TruncatedBinaryStl {
                triangles,
                expected_bytes,
                actual_bytes,
                complete,
            }) => {
                assert_eq!(triangles, 12);
                assert_eq!(expected_bytes, 684);
                assert_eq!(actual_bytes, 654);
                assert_eq!(complete, 11);
            }
            other => panic!("expected truncation, got {other:?}"),
        }
    }

    #[test]
    fn binary_nan_names_triangle_and_vertex() {
        let mesh = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
        let mut bytes = stl_bytes(&mesh, StlFormat::Binary);
        // Triangle 3 (0-based 2), vertex 2, y coordinate.
        let at = 84 + 2 * 50 + 12 + 12 + 4;
        bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        let err = read_binary(&bytes).unwrap_err();
        assert!(
            matches!(&err, ReadError::NonFinite { place, .. } if place == "triangle 3 vertex 2"),
            "{err}"
        );
    }

    #[test]
    fn writer_refuses_non_finite_and_out_of_f32_range_vertices() {
        let mut mesh = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
        mesh.vertices[3].x = 1e300;
        assert!(check_writable(&mesh, StlFormat::Ascii).is_ok());
        assert!(matches!(
            check_writable(&mesh, StlFormat::Binary),
            Err(WriteError::BadVertex { vertex: 3, .. })
        ));
        mesh.vertices[5].z = f64::INFINITY;
        assert!(matches!(
            check_writable(&mesh, StlFormat::Ascii),
            Err(WriteError::BadVertex { vertex: 5, .. })
        ));
    }
}
