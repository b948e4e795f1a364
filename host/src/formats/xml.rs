//! A namespace-aware XML reader over one OPC part whose errors name the part and the line.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::FormatError;

/// Attributes of one element: (namespace, local name, value).
pub struct Attrs(Vec<(String, String, String)>);

impl Attrs {
    /// The value of attribute `local` in namespace `ns` (`""` for none).
    pub fn get(&self, ns: &str, local: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, l, _)| n == ns && l == local)
            .map(|(_, _, v)| v.as_str())
    }
}

/// A namespace-aware reader over one part whose errors name the part and the line.
pub struct Xml<'a> {
    r: NsReader<&'a [u8]>,
    text: &'a str,
    part: &'a str,
    name: &'a str,
    /// The end of an empty element, reported on the next call.
    pending_end: Option<(String, String)>,
}

impl<'a> Xml<'a> {
    /// A reader over `text`, the part `part` of file `name`.
    pub fn new(text: &'a str, part: &'a str, name: &'a str) -> Self {
        Xml {
            r: NsReader::from_str(text),
            text,
            part,
            name,
            pending_end: None,
        }
    }

    /// An error at the reader's current line.
    pub fn error(&self, what: impl Into<String>) -> FormatError {
        FormatError::malformed(self.name, self.place(), what)
    }

    /// The reader's current place, `part P line N` (for an error found later).
    pub fn place(&self) -> String {
        let pos = usize::try_from(self.r.buffer_position()).unwrap_or(usize::MAX);
        let upto = self.text.get(..pos.min(self.text.len())).unwrap_or("");
        let line = upto.bytes().filter(|b| *b == b'\n').count() + 1;
        format!("part {} line {line}", self.part)
    }

    /// The next start, empty or end element: (namespace, local name, start or end).
    pub fn next_event(
        &mut self,
    ) -> Result<Option<(String, String, Option<BytesStart<'a>>)>, FormatError> {
        if let Some((ns, local)) = self.pending_end.take() {
            return Ok(Some((ns, local, None)));
        }
        loop {
            let step = match self.r.read_resolved_event() {
                Ok((ResolveResult::Bound(n), ev)) => Ok((n.as_ref().to_string(), ev)),
                Ok((ResolveResult::Unbound, ev)) => Ok((String::new(), ev)),
                Ok((ResolveResult::Unknown(p), _)) => {
                    Err(format!("undeclared namespace prefix {p}"))
                }
                Err(e) => Err(format!("not well-formed XML: {e}")),
            };
            let (ns, ev) = step.map_err(|what| self.error(what))?;
            match ev {
                Event::Start(e) => {
                    let local = e.local_name().as_ref().to_string();
                    return Ok(Some((ns, local, Some(e))));
                }
                Event::Empty(e) => {
                    let local = e.local_name().as_ref().to_string();
                    self.pending_end = Some((ns.clone(), local.clone()));
                    return Ok(Some((ns, local, Some(e))));
                }
                Event::End(e) => {
                    let local = e.local_name().as_ref().to_string();
                    return Ok(Some((ns, local, None)));
                }
                Event::Eof => return Ok(None),
                _ => {}
            }
        }
    }

    /// The next start or empty element.
    pub fn next_element(
        &mut self,
    ) -> Result<Option<(String, String, BytesStart<'a>)>, FormatError> {
        while let Some((ns, local, e)) = self.next_event()? {
            if let Some(e) = e {
                return Ok(Some((ns, local, e)));
            }
        }
        Ok(None)
    }

    /// The attributes of `e`, their namespaces resolved.
    pub fn attrs(&self, e: &BytesStart<'_>) -> Result<Attrs, FormatError> {
        let mut out = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|err| self.error(format!("bad attribute: {err}")))?;
            let (res, local) = self.r.resolver().resolve_attribute(a.key);
            let ns = match res {
                ResolveResult::Bound(n) => n.as_ref().to_string(),
                _ => String::new(),
            };
            let v = a
                .normalized_value(quick_xml::XmlVersion::default())
                .map_err(|err| self.error(format!("bad attribute value: {err}")))?;
            out.push((ns, local.as_ref().to_string(), v.into_owned()));
        }
        Ok(Attrs(out))
    }

    /// A required number attribute.
    pub fn num<T: std::str::FromStr>(
        &self,
        a: &Attrs,
        key: &str,
        elem: &str,
    ) -> Result<T, FormatError> {
        let v = a
            .get("", key)
            .ok_or_else(|| self.error(format!("<{elem}> needs {key}")))?;
        v.trim()
            .parse()
            .map_err(|_| self.error(format!("<{elem}> {key}={v:?} is not a valid number")))
    }
}
