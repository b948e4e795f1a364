//! STL, binary and ASCII: reading (binary through `stl_io`, ASCII by a line-tracking parser so
//! errors name their line) and writing.

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
    Ok(welder.finish())
}

/// Splits ASCII STL into white-space separated words, counting lines.
struct Words<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Words<'a> {
    fn new(bytes: &'a [u8]) -> Words<'a> {
        // A UTF-8 byte order mark is not a word.
        let pos = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
            3
        } else {
            0
        };
        Words {
            bytes,
            pos,
            line: 1,
        }
    }

    /// The next word and its line, or `None` at the end.
    fn next_word(&mut self) -> Option<(&'a [u8], usize)> {
        while let Some(&b) = self.bytes.get(self.pos) {
            if b == b'\n' {
                self.line += 1;
            } else if !b.is_ascii_whitespace() {
                break;
            }
            self.pos += 1;
        }
        let start = self.pos;
        if start >= self.bytes.len() {
            return None;
        }
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|b| !b.is_ascii_whitespace())
        {
            self.pos += 1;
        }
        Some((&self.bytes[start..self.pos], self.line))
    }

    /// Skips the rest of the current line (a solid's name).
    fn skip_line(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if b == b'\n' {
                break;
            }
            self.pos += 1;
        }
    }
}

/// A word quoted for an error message, shortened and made printable.
fn quoted(word: &[u8]) -> String {
    let text = String::from_utf8_lossy(&word[..word.len().min(40)]);
    let more = if word.len() > 40 { "…" } else { "" };
    format!("`{text}{more}`")
}

/// The ASCII STL parser: `solid name (facet [normal n n n] outer loop (vertex x y z){3}
/// endloop endfacet)* endsolid [name]`, repeated for files holding several solids.
struct AsciiParser<'a> {
    words: Words<'a>,
    welder: Welder,
}

impl AsciiParser<'_> {
    fn error(line: usize, message: String) -> ReadError {
        ReadError::AsciiStl { line, message }
    }

    /// The next word, or an error saying that the file ended while `expected` was due.
    fn word(&mut self, expected: &str) -> Result<(&[u8], usize), ReadError> {
        let line = self.words.line;
        self.words.next_word().ok_or_else(|| {
            Self::error(
                line,
                format!("the file ends here but {expected} was expected (is the file truncated?)"),
            )
        })
    }

    fn keyword(&mut self, keyword: &str) -> Result<usize, ReadError> {
        let (w, line) = self.word(&format!("`{keyword}`"))?;
        if w.eq_ignore_ascii_case(keyword.as_bytes()) {
            Ok(line)
        } else {
            Err(Self::error(
                line,
                format!("expected `{keyword}`, found {}", quoted(w)),
            ))
        }
    }

    fn number(&mut self, what: &str) -> Result<(f64, usize), ReadError> {
        let (w, line) = self.word(what)?;
        let value = std::str::from_utf8(w)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .ok_or_else(|| Self::error(line, format!("expected {what}, found {}", quoted(w))))?;
        Ok((value, line))
    }

    fn facet(&mut self) -> Result<(), ReadError> {
        // `normal` is optional in practice (some exporters write a bare `facet`); its values
        // are ignored since the winding defines the orientation.
        let (w, line) = self.word("`normal` or `outer`")?;
        if w.eq_ignore_ascii_case(b"normal") {
            for axis in ["x", "y", "z"] {
                self.number(&format!("the normal's {axis} component"))?;
            }
            self.keyword("outer")?;
        } else if !w.eq_ignore_ascii_case(b"outer") {
            return Err(Self::error(
                line,
                format!(
                    "expected `normal` or `outer loop` after `facet`, found {}",
                    quoted(w)
                ),
            ));
        }
        self.keyword("loop")?;
        let mut corners = [Point3::origin(); 3];
        for (k, corner) in corners.iter_mut().enumerate() {
            let (w, line) = self.word("`vertex`")?;
            if !w.eq_ignore_ascii_case(b"vertex") {
                let message = if w.eq_ignore_ascii_case(b"endloop") {
                    format!(
                        "the facet ends after {k} vertices; STL facets are triangles with \
                         exactly three `vertex` lines"
                    )
                } else {
                    format!(
                        "expected `vertex` (corner {} of the facet), found {}",
                        k + 1,
                        quoted(w)
                    )
                };
                return Err(Self::error(line, message));
            }
            let (x, _) = self.number("the vertex's x coordinate")?;
            let (y, _) = self.number("the vertex's y coordinate")?;
            let (z, _) = self.number("the vertex's z coordinate")?;
            *corner = Point3::new(x, y, z);
            check_finite(corner, || format!("line {line}"))?;
        }
        let (w, line) = self.word("`endloop`")?;
        if w.eq_ignore_ascii_case(b"vertex") {
            return Err(Self::error(
                line,
                "the facet has a fourth `vertex`; STL facets are triangles with exactly three \
                 vertices (expected `endloop`)"
                    .to_string(),
            ));
        }
        if !w.eq_ignore_ascii_case(b"endloop") {
            return Err(Self::error(
                line,
                format!(
                    "expected `endloop` after the third vertex, found {}",
                    quoted(w)
                ),
            ));
        }
        self.keyword("endfacet")?;
        self.welder.triangle(corners)
    }

    fn parse(mut self) -> Result<Mesh, ReadError> {
        let (w, line) = self.word("`solid`")?;
        if !w.eq_ignore_ascii_case(b"solid") {
            return Err(Self::error(
                line,
                format!("expected `solid`, found {}", quoted(w)),
            ));
        }
        self.words.skip_line();
        loop {
            let (w, line) = self.word("`facet` or `endsolid`")?;
            if w.eq_ignore_ascii_case(b"facet") {
                self.facet()?;
            } else if w.eq_ignore_ascii_case(b"endsolid") {
                self.words.skip_line();
                match self.words.next_word() {
                    None => break,
                    Some((w, _)) if w.eq_ignore_ascii_case(b"solid") => self.words.skip_line(),
                    Some((w, line)) => {
                        return Err(Self::error(
                            line,
                            format!(
                                "expected another `solid` or the end of the file after \
                                 `endsolid`, found {}",
                                quoted(w)
                            ),
                        ));
                    }
                }
            } else {
                return Err(Self::error(
                    line,
                    format!("expected `facet` or `endsolid`, found {}", quoted(w)),
                ));
            }
        }
        if self.welder.triangle_count() == 0 {
            return Err(ReadError::NoTriangles {
                format: "ASCII STL",
            });
        }
        Ok(self.welder.finish())
    }
}

/// Reads ASCII STL; errors name the line.
pub(crate) fn read_ascii(bytes: &[u8]) -> Result<Mesh, ReadError> {
    // About 250 bytes per facet in typical exports.
    let parser = AsciiParser {
        words: Words::new(bytes),
        welder: Welder::with_capacity(bytes.len() / 250),
    };
    parser.parse()
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
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    encode(mesh, format, tmp.as_file_mut()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ascii(text: &str) -> Result<Mesh, ReadError> {
        read_ascii(text.as_bytes())
    }

    const FACET: &str = "facet normal 0 0 1\n outer loop\n  vertex 0 0 0\n  vertex 1 0 0\n  vertex 0 1 0\n endloop\nendfacet\n";

    #[test]
    fn ascii_facet_with_four_vertices_names_the_fourth_vertex_line() {
        let text = "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 1 1 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid x\n";
        match ascii(text) {
            Err(ReadError::AsciiStl { line, message }) => {
                assert_eq!(line, 7);
                assert!(message.contains("fourth"), "{message}");
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn ascii_facet_with_two_vertices_is_an_error_at_endloop() {
        let text =
            "solid x\nfacet\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nendloop\nendfacet\nendsolid\n";
        let err = ascii(text).unwrap_err();
        assert!(matches!(err, ReadError::AsciiStl { line: 6, .. }), "{err}");
    }

    #[test]
    fn ascii_bad_number_names_line_and_coordinate() {
        let text = format!(
            "solid x\n{}",
            FACET.replace("vertex 1 0 0", "vertex 1 zero 0")
        );
        let err = ascii(&text).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ReadError::AsciiStl { line: 5, .. }), "{msg}");
        assert!(
            msg.contains("y coordinate") && msg.contains("`zero`"),
            "{msg}"
        );
    }

    #[test]
    fn ascii_nan_vertex_is_non_finite_error_with_line() {
        let text = format!(
            "solid x\n{}endsolid\n",
            FACET.replace("vertex 0 1 0", "vertex 0 nan 0")
        );
        let err = ascii(&text).unwrap_err();
        assert!(
            matches!(&err, ReadError::NonFinite { place, .. } if place == "line 6"),
            "{err}"
        );
    }

    #[test]
    fn ascii_truncated_inside_a_facet_says_the_file_ends() {
        let text = "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1";
        let msg = ascii(text).unwrap_err().to_string();
        assert!(msg.contains("line 5") && msg.contains("ends"), "{msg}");
    }

    #[test]
    fn ascii_missing_endsolid_is_reported_as_truncation() {
        let msg = ascii(&format!("solid x\n{FACET}")).unwrap_err().to_string();
        assert!(msg.contains("truncated"), "{msg}");
    }

    #[test]
    fn ascii_accepts_bare_facet_crlf_upper_case_and_several_solids() {
        let one = FACET.replace('\n', "\r\n").to_uppercase();
        let text = format!("solid a\r\n{one}ENDSOLID a\r\nsolid b\n{FACET}endsolid b");
        let mesh = ascii(&text).unwrap();
        assert_eq!(mesh.triangles.len(), 2);
        assert_eq!(mesh.vertices.len(), 3);
        let bare = format!(
            "solid\n{}endsolid\n",
            FACET.replace("facet normal 0 0 1", "facet")
        );
        assert_eq!(ascii(&bare).unwrap().triangles.len(), 1);
    }

    #[test]
    fn ascii_solid_without_facets_has_no_triangles() {
        let err = ascii("solid empty\nendsolid empty\n").unwrap_err();
        assert!(matches!(err, ReadError::NoTriangles { .. }), "{err}");
    }

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
