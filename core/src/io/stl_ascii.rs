//! ASCII STL, parsed here rather than by `stl_io` so that every error names its line: the
//! engineer must find the broken facet in a file of a million lines.

use nalgebra::Point3;

use super::ReadError;
use super::weld::{Welder, check_finite};
use crate::mesh::Mesh;

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
        let line = self.words.line;
        let (w, line) = self.words.next_word().ok_or_else(|| {
            Self::error(
                line,
                format!("the file ends here but `{keyword}` was expected (is the file truncated?)"),
            )
        })?;
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
            // Static texts: this runs for every facet of files with millions of them.
            for what in [
                "the normal's x component",
                "the normal's y component",
                "the normal's z component",
            ] {
                self.number(what)?;
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
        self.welder.finish()
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
}
