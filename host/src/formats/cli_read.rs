//! CLI (Common Layer Interface) jobs read into a [`JobDocument`], ASCII and binary.
//!
//! The header (`$$HEADERSTART` … `$$HEADEREND`) is text in both forms; `$$UNITS` gives the
//! size of one coordinate unit in mm, `$$BINARY` (or geometry that does not start with `$$`)
//! marks binary records: command 127/128 layer (long f32 / short u16), 129/130 polyline
//! (short: u16 id, dir, n, 2n u16; long: i32 id, dir, n, 2n f32), 131/132 hatches (short: u16
//! id, n, 4n u16; long: i32 id, n, 4n f32), little-endian. ASCII records may span lines and
//! carry `//` comments. Errors name the line (header, ASCII) or the byte offset (binary).
//!
//! Coordinates are kept at the job quantum: `$$UNITS` itself when it is a whole number of
//! nanometres up to 1 µm, else 1 µm (the conversion notes how many values were rounded).
//! CLI has no laser parameters: ids map to parameter sets through a [`CliProfile`], or
//! polylines take the built-in contour set and hatches the core set.

use std::collections::BTreeMap;

use meltline_slicer::job::{BuildJob, Geometry, JobParameterSet, Layer, VectorBlock, Xy};
use meltline_slicer::profile::ProcessProfile;

use super::from_mlj::{empty_layer, job_header};
use super::profile_map::{CliProfile, Mapped, builtin};
use super::{FormatError, JobDocument};

/// Reads a CLI job (ASCII or binary).
pub fn read(
    bytes: &[u8],
    name: &str,
    profile: Option<&CliProfile>,
) -> Result<JobDocument, FormatError> {
    let end_tag = b"$$HEADEREND";
    let bad = |place: String, what: &str| FormatError::malformed(name, place, what);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)
        .unwrap_or(0);
    if !bytes[start..].starts_with(b"$$HEADERSTART") {
        return Err(bad("line 1".into(), "a CLI file starts with $$HEADERSTART"));
    }
    let end = find(bytes, end_tag).ok_or_else(|| bad("header".into(), "no $$HEADEREND"))?;
    let header_text = std::str::from_utf8(&bytes[..end]).map_err(|e| {
        bad(
            format!("byte offset {}", e.valid_up_to()),
            "header is not text",
        )
    })?;
    let header = parse_header(header_text, name)?;
    let body_at = end + end_tag.len();
    let body = &bytes[body_at..];
    let text_body = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_none_or(|b| *b == b'$');
    let mut job = CliJob::new(&header, profile);
    if header.binary || !text_body {
        parse_binary(body, body_at, name, &mut job)?;
    } else {
        let first_line = bytes[..body_at].iter().filter(|b| **b == b'\n').count() + 1;
        let text = std::str::from_utf8(body).map_err(|e| {
            bad(
                format!("byte offset {}", body_at + e.valid_up_to()),
                "geometry is neither text nor binary records",
            )
        })?;
        parse_ascii(text, first_line, name, &mut job)?;
    }
    job.finish(name, &header)
}

/// What the header says.
#[derive(Debug, Default)]
struct Header {
    units_mm: f64,
    binary: bool,
    layers: Option<usize>,
    labels: BTreeMap<i64, String>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn strip_comment(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

fn parse_header(text: &str, name: &str) -> Result<Header, FormatError> {
    let mut h = Header::default();
    let mut units = None;
    for (i, raw) in text.lines().enumerate() {
        let line = strip_comment(raw).trim();
        let place = || format!("line {}", i + 1);
        let bad = |what: String| FormatError::malformed(name, place(), what);
        let Some(cmd) = line.strip_prefix("$$") else {
            continue;
        };
        let (key, value) = cmd.split_once('/').unwrap_or((cmd, ""));
        match key.trim().to_ascii_uppercase().as_str() {
            "BINARY" => h.binary = true,
            "UNITS" => {
                let u: f64 = value
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("$$UNITS/{value}: not a number")))?;
                if !(u.is_finite() && u > 0.0) {
                    return Err(bad(format!("$$UNITS/{value}: must be a positive length")));
                }
                units = Some(u);
            }
            "LAYERS" => {
                h.layers = Some(
                    value
                        .trim()
                        .parse()
                        .map_err(|_| bad(format!("$$LAYERS/{value}: not a count")))?,
                );
            }
            "LABEL" => {
                let (id, label) = value.split_once(',').unwrap_or((value, ""));
                let id = id
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("$$LABEL/{value}: the id is not a number")))?;
                h.labels.insert(id, label.trim().to_string());
            }
            _ => {}
        }
    }
    h.units_mm = units.ok_or_else(|| FormatError::malformed(name, "header", "no $$UNITS"))?;
    Ok(h)
}

/// The job being assembled from CLI records.
struct CliJob<'p> {
    scale: f64,
    quantum_mm: f64,
    units_mm: f64,
    z_units: Vec<f64>,
    layers: Vec<Layer>,
    sets: BTreeMap<u16, JobParameterSet>,
    rounded: u64,
    profile: Option<&'p CliProfile>,
}

impl<'p> CliJob<'p> {
    fn new(h: &Header, profile: Option<&'p CliProfile>) -> Self {
        let nm = h.units_mm * 1e6;
        let exact = (1.0..=1000.0).contains(&nm) && (nm - nm.round()).abs() < 1e-6;
        let quantum_mm = if exact { nm.round() * 1e-6 } else { 1e-3 };
        CliJob {
            scale: h.units_mm / quantum_mm,
            quantum_mm,
            units_mm: h.units_mm,
            z_units: Vec::new(),
            layers: Vec::new(),
            sets: BTreeMap::new(),
            rounded: 0,
            profile,
        }
    }

    fn layer(&mut self, z: f64) -> Result<(), String> {
        if !z.is_finite() {
            return Err(format!("layer height {z} is not a number"));
        }
        self.z_units.push(z);
        self.layers.push(empty_layer(self.layers.len(), 0.0));
        Ok(())
    }

    fn coord(&mut self, v: f64) -> Result<i32, String> {
        let s = v * self.scale;
        let r = s.round();
        if !(r.is_finite() && r.abs() < f64::from(i32::MAX)) {
            return Err(format!("coordinate {v} is out of range"));
        }
        if (s - r).abs() > 1e-6 {
            self.rounded += 1;
        }
        Ok(r as i32)
    }

    fn mapping(&self, id: i64, hatches: bool) -> Result<Mapped, String> {
        let m = match self.profile {
            Some(p) => p
                .lookup(id)
                .ok_or_else(|| format!("CLI id {id} is not in the --profile map"))?,
            None => builtin(if hatches { "core" } else { "contour" })
                .ok_or("the built-in profile lacks its contour or core set")?,
        };
        Ok(m)
    }

    fn push(&mut self, m: Mapped, kind_hatch: bool, geometry: Geometry) -> Result<(), String> {
        let layer = self
            .layers
            .last_mut()
            .ok_or("geometry before the first $$LAYER")?;
        layer.blocks.push(VectorBlock {
            kind: if kind_hatch {
                m.hatch_kind
            } else {
                m.polyline_kind
            },
            region: m.region,
            parameter_set: m.set.id,
            geometry,
        });
        self.sets.entry(m.set.id).or_insert(m.set);
        Ok(())
    }

    fn polyline(&mut self, id: i64, dir: i64, coords: &[f64]) -> Result<(), String> {
        let m = self.mapping(id, false)?;
        let mut pts: Vec<Xy> = Vec::with_capacity(coords.len() / 2 + 1);
        for p in coords.chunks_exact(2) {
            pts.push([self.coord(p[0])?, self.coord(p[1])?]);
        }
        if pts.len() < 2 {
            return Ok(());
        }
        // Directions 0 and 1 are closed contours; close them if the writer did not.
        if dir != 2 && pts.len() >= 3 && pts.first() != pts.last() {
            pts.push(pts[0]);
        }
        self.push(m, false, Geometry::Polyline(pts))
    }

    fn hatches(&mut self, id: i64, coords: &[f64]) -> Result<(), String> {
        let m = self.mapping(id, true)?;
        let mut v = Vec::with_capacity(coords.len() / 4);
        for h in coords.chunks_exact(4) {
            v.push([
                [self.coord(h[0])?, self.coord(h[1])?],
                [self.coord(h[2])?, self.coord(h[3])?],
            ]);
        }
        if v.is_empty() {
            return Ok(());
        }
        self.push(m, true, Geometry::Vectors(v))
    }

    fn finish(mut self, name: &str, h: &Header) -> Result<JobDocument, FormatError> {
        let n = self.layers.len();
        let z_mm: Vec<f64> = self.z_units.iter().map(|z| z * self.units_mm).collect();
        let t = match z_mm.as_slice() {
            [a, b, ..] => b - a,
            [a] => *a,
            [] => return Err(FormatError::malformed(name, "geometry", "no $$LAYER")),
        };
        let t_nm = (t * 1e6).round();
        if !(t_nm.is_finite() && t_nm >= 1.0) {
            return Err(FormatError::malformed(
                name,
                "geometry",
                format!("cannot tell the layer thickness from layer heights {z_mm:?}"),
            ));
        }
        let t = t_nm * 1e-6;
        for (i, l) in self.layers.iter_mut().enumerate() {
            l.z_mm = (i as f64 + 0.5) * t;
        }
        let mut notes = Vec::new();
        let uneven = z_mm
            .windows(2)
            .filter(|w| ((w[1] - w[0]) - t).abs() > 1e-6)
            .count();
        if uneven > 0 {
            notes.push(format!(
                "{uneven} layer steps differ from {:.1} µm; the job uses uniform layers",
                t * 1e3
            ));
        }
        if let Some(announced) = h.layers.filter(|&a| a != n) {
            notes.push(format!(
                "$$LAYERS announces {announced}, the file holds {n}"
            ));
        }
        self.describe_sets(&mut notes);
        if self.rounded > 0 {
            notes.push(format!(
                "{} coordinates rounded to the {} µm quantum",
                self.rounded,
                self.quantum_mm * 1e3
            ));
        }
        let profile = ProcessProfile::ti6al4v();
        notes.push(format!(
            "CLI names no machine or material: {} and {} of the built-in profile",
            meltline_firmware::machine::MachineConfig::default().machine,
            profile.material
        ));
        let sets: Vec<JobParameterSet> = self.sets.into_values().collect();
        let header = job_header(
            meltline_firmware::machine::MachineConfig::default()
                .machine
                .as_str(),
            &profile.material,
            self.quantum_mm,
            t,
            sets,
            &self.layers,
        );
        Ok(JobDocument {
            job: BuildJob {
                header,
                layers: self.layers,
            },
            wire: BTreeMap::new(),
            lasers: Vec::new(),
            notes,
        })
    }

    fn describe_sets(&self, notes: &mut Vec<String>) {
        let what = if self.profile.is_some() {
            "CLI carries no laser parameters: ids mapped by --profile to"
        } else {
            "CLI carries no laser parameters and no --profile was given: polylines use the \
             built-in contour set and hatches the core set:"
        };
        let sets: Vec<String> = self
            .sets
            .values()
            .map(|s| {
                format!(
                    "{} {} ({} W, {} mm/s, hatch {} mm)",
                    s.id, s.label, s.power_w, s.speed_mm_s, s.hatch_mm
                )
            })
            .collect();
        notes.push(format!("{what} {}", sets.join("; ")));
    }
}

fn parse_ascii(
    text: &str,
    first_line: usize,
    name: &str,
    job: &mut CliJob<'_>,
) -> Result<(), FormatError> {
    // Records may span lines: gather each `$$` command with the line it starts on.
    let mut commands: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = first_line + i;
        let mut rest = strip_comment(raw);
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("$$") {
                let next = after.find("$$").unwrap_or(after.len());
                commands.push((line_no, after[..next].to_string()));
                rest = &after[next..];
            } else {
                let next = rest.find("$$").unwrap_or(rest.len());
                match commands.last_mut() {
                    Some((_, c)) => c.push_str(&rest[..next]),
                    None if rest[..next].trim().is_empty() => {}
                    None => {
                        return Err(FormatError::malformed(
                            name,
                            format!("line {line_no}"),
                            "text outside a $$ command",
                        ));
                    }
                }
                rest = &rest[next..];
            }
        }
    }
    for (line, cmd) in commands {
        let at = |what: String| FormatError::malformed(name, format!("line {line}"), what);
        let (key, value) = cmd.split_once('/').unwrap_or((&cmd, ""));
        let key = key.trim().to_ascii_uppercase();
        let nums = || -> Result<Vec<f64>, FormatError> {
            value
                .split(',')
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.parse::<f64>()
                        .map_err(|_| at(format!("$${key}: {v:?} is not a number")))
                })
                .collect()
        };
        match key.as_str() {
            "GEOMETRYEND" => break,
            "LAYER" => {
                let v = nums()?;
                let z = *v
                    .first()
                    .ok_or_else(|| at("$$LAYER without a height".into()))?;
                job.layer(z).map_err(at)?;
            }
            "POLYLINE" => {
                let v = nums()?;
                let [id, dir, n, rest @ ..] = v.as_slice() else {
                    return Err(at("$$POLYLINE needs id, direction, count".into()));
                };
                if rest.len() as f64 != 2.0 * n {
                    return Err(at(format!(
                        "$$POLYLINE announces {n} points, carries {} values",
                        rest.len()
                    )));
                }
                job.polyline(*id as i64, *dir as i64, rest).map_err(at)?;
            }
            "HATCHES" => {
                let v = nums()?;
                let [id, n, rest @ ..] = v.as_slice() else {
                    return Err(at("$$HATCHES needs id, count".into()));
                };
                if rest.len() as f64 != 4.0 * n {
                    return Err(at(format!(
                        "$$HATCHES announces {n} hatches, carries {} values",
                        rest.len()
                    )));
                }
                job.hatches(*id as i64, rest).map_err(at)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A little-endian cursor whose reads name the byte offset they fail at.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    base: usize,
}

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let s = self
            .bytes
            .get(self.at..self.at + N)
            .ok_or_else(|| format!("record truncated at byte offset {}", self.base + self.at))?;
        self.at += N;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }
    fn u16(&mut self) -> Result<f64, String> {
        Ok(f64::from(u16::from_le_bytes(self.take()?)))
    }
    fn i32(&mut self) -> Result<i64, String> {
        Ok(i64::from(i32::from_le_bytes(self.take()?)))
    }
    fn f32(&mut self) -> Result<f64, String> {
        Ok(f64::from(f32::from_le_bytes(self.take()?)))
    }
    /// `n` values of `width` bytes each, refused before allocating when the file is shorter.
    fn values(
        &mut self,
        n: i64,
        width: usize,
        read: fn(&mut Self) -> Result<f64, String>,
    ) -> Result<Vec<f64>, String> {
        let n = usize::try_from(n).map_err(|_| format!("negative count {n}"))?;
        if n.saturating_mul(width) > self.bytes.len().saturating_sub(self.at) {
            return Err(format!(
                "{n} values announced, the file ends first (byte offset {})",
                self.base + self.at
            ));
        }
        (0..n).map(|_| read(self)).collect()
    }
}

fn parse_binary(
    body: &[u8],
    base: usize,
    name: &str,
    job: &mut CliJob<'_>,
) -> Result<(), FormatError> {
    let mut c = Cursor {
        bytes: body,
        at: 0,
        base,
    };
    // Some writers end the header line before the records.
    while c
        .bytes
        .get(c.at)
        .is_some_and(|b| *b == b'\r' || *b == b'\n')
    {
        c.at += 1;
    }
    while c.at < body.len() {
        let start = base + c.at;
        let at = |what: String| FormatError::malformed(name, format!("byte offset {start}"), what);
        let cmd = u16::from_le_bytes(c.take().map_err(at)?);
        let r: Result<(), String> = match cmd {
            127 => c.f32().and_then(|z| job.layer(z)),
            128 => c.u16().and_then(|z| job.layer(z)),
            129 | 130 => (|| {
                let long = cmd == 130;
                let (id, dir, n) = if long {
                    (c.i32()?, c.i32()?, c.i32()?)
                } else {
                    (c.u16()? as i64, c.u16()? as i64, c.u16()? as i64)
                };
                let n2 = n.saturating_mul(2);
                let v = if long {
                    c.values(n2, 4, Cursor::f32)?
                } else {
                    c.values(n2, 2, Cursor::u16)?
                };
                job.polyline(id, dir, &v)
            })(),
            131 | 132 => (|| {
                let long = cmd == 132;
                let (id, n) = if long {
                    (c.i32()?, c.i32()?)
                } else {
                    (c.u16()? as i64, c.u16()? as i64)
                };
                let n4 = n.saturating_mul(4);
                let v = if long {
                    c.values(n4, 4, Cursor::f32)?
                } else {
                    c.values(n4, 2, Cursor::u16)?
                };
                job.hatches(id, &v)
            })(),
            other => Err(format!("unknown binary command {other}")),
        };
        r.map_err(at)?;
    }
    Ok(())
}
