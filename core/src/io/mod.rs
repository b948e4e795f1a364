//! Mesh input and output: STL (binary and ASCII), OBJ, PLY (ASCII and binary) and 3MF in,
//! STL out, with a units option; the format is recognised from the content first and the
//! file extension second.
//!
//! ```
//! use meltline_core::io::{read_mesh_bytes, stl_bytes, ReadOptions, StlFormat, Units};
//! use meltline_core::Mesh;
//! let cube = Mesh::axis_aligned_box([0.0; 3], [0.01, 0.01, 0.01]); // metres
//! let bytes = stl_bytes(&cube, StlFormat::Ascii);
//! let read = read_mesh_bytes(&bytes, None, &ReadOptions::with_units(Units::M)).unwrap();
//! assert_eq!(read.triangles.len(), 12);
//! assert!((read.bbox().size()[0] - 10.0).abs() < 1e-12); // millimetres
//! ```
//!
//! Readers weld bit-identical vertices (see [`Mesh`]) and keep degenerate triangles: the
//! check reports them. Only input that cannot be a mesh is an error ([`ReadError`]).

mod error;
mod obj;
mod ply;
mod stl;
mod stl_ascii;
mod threemf;
mod weld;

use std::path::Path;
use std::str::FromStr;

pub use error::{ReadError, WriteError};
/// Atomic outputs that destroy nothing: the one writer, in the `meltline-files` crate (shared
/// with the printer simulator).
pub use meltline_files::{
    AtomicFile, check_output_dir, output_target, write_atomically, write_bytes_atomically,
};
pub use stl::{StlFormat, stl_bytes, write_stl};

use crate::mesh::Mesh;

/// The length unit a file's coordinates are in; meshes are always held in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Units {
    /// Millimetres (the usual unit of STL parts).
    #[default]
    Mm,
    /// Metres (scans and anatomical models often are).
    M,
    /// Inches.
    In,
}

impl Units {
    /// Millimetres per unit.
    pub fn to_mm(self) -> f64 {
        match self {
            Units::Mm => 1.0,
            Units::M => 1000.0,
            Units::In => 25.4,
        }
    }
}

/// A units name that is not `mm`, `m` or `in`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown units `{0}`: use mm, m or in")]
pub struct UnknownUnits(pub String);

impl FromStr for Units {
    type Err = UnknownUnits;

    fn from_str(s: &str) -> Result<Units, UnknownUnits> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mm" | "millimeter" | "millimetre" | "millimeters" | "millimetres" => Ok(Units::Mm),
            "m" | "meter" | "metre" | "meters" | "metres" => Ok(Units::M),
            "in" | "inch" | "inches" => Ok(Units::In),
            _ => Err(UnknownUnits(s.to_string())),
        }
    }
}

impl std::fmt::Display for Units {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Units::Mm => "mm",
            Units::M => "m",
            Units::In => "in",
        })
    }
}

/// How to read a mesh file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// The unit of the file's coordinates, for formats that do not declare one (STL, OBJ,
    /// PLY). 3MF declares its unit in the file, and that unit is used instead.
    pub units: Units,
}

impl ReadOptions {
    /// Options reading coordinates in `units`.
    pub fn with_units(units: Units) -> ReadOptions {
        ReadOptions { units }
    }
}

/// The mesh file formats read here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeshFormat {
    /// STL, binary or ASCII.
    Stl,
    /// Wavefront OBJ.
    Obj,
    /// Stanford PLY, ASCII or binary.
    Ply,
    /// 3D Manufacturing Format (a zip package of XML).
    ThreeMf,
}

impl MeshFormat {
    /// The format a file extension names (case-insensitive), if any.
    pub fn from_extension(path: &Path) -> Option<MeshFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "stl" => Some(MeshFormat::Stl),
            "obj" => Some(MeshFormat::Obj),
            "ply" => Some(MeshFormat::Ply),
            "3mf" => Some(MeshFormat::ThreeMf),
            _ => None,
        }
    }
}

/// Reads a mesh file into millimetres. The format is recognised from the content (PLY and
/// zip magic, the binary STL size rule `84 + 50·n`, ASCII `solid`), then from the extension.
/// Errors name the file.
pub fn read_mesh(path: &Path, opts: &ReadOptions) -> Result<Mesh, ReadError> {
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_mesh_bytes(&bytes, MeshFormat::from_extension(path), opts).map_err(|error| {
        ReadError::InFile {
            path: path.to_path_buf(),
            error: Box::new(error),
        }
    })
}

/// Reads a mesh from bytes into millimetres; `hint` (e.g. from a file extension) decides
/// when the content alone does not.
pub fn read_mesh_bytes(
    bytes: &[u8],
    hint: Option<MeshFormat>,
    opts: &ReadOptions,
) -> Result<Mesh, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    let mut mesh = match detect(bytes, hint)? {
        Detected::BinaryStl => stl::read_binary(bytes)?,
        Detected::AsciiStl => stl_ascii::read_ascii(bytes)?,
        Detected::Obj => obj::read_obj(bytes)?,
        Detected::Ply => ply::read_ply(bytes)?,
        // 3MF carries its own unit; the option does not apply.
        Detected::ThreeMf => return threemf::read_3mf(bytes),
    };
    let scale = opts.units.to_mm();
    if scale != 1.0 {
        mesh.scale(scale);
    }
    Ok(mesh)
}

/// What the bytes were recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detected {
    BinaryStl,
    AsciiStl,
    Obj,
    Ply,
    ThreeMf,
}

/// True when the bytes are text: no control characters other than white space among the
/// first 4 KiB. Any encoding passes (a Latin-1 solid name is still ASCII STL); binary STL
/// fails, its header padding, counts and floats are full of zero bytes.
fn looks_like_text(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(4096)]
        .iter()
        .all(|&b| (b >= 0x20 && b != 0x7f) || matches!(b, b'\n' | b'\r' | b'\t' | 0x0c))
}

/// True when text has OBJ statements (`v x y z` and `f …`) among its first lines.
fn looks_like_obj(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1 << 16)];
    let mut has_vertex = false;
    for line in head.split(|&b| b == b'\n') {
        let line = line.trim_ascii_start();
        if line.starts_with(b"v ") || line.starts_with(b"v\t") {
            has_vertex = true;
        }
        if has_vertex && (line.starts_with(b"f ") || line.starts_with(b"f\t")) {
            return true;
        }
    }
    has_vertex
}

/// A short, printable description of what unrecognised bytes look like.
fn describe(bytes: &[u8]) -> String {
    if looks_like_text(bytes) {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
        let first: String = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .chars()
            .take(60)
            .collect();
        format!(
            "it is plain text ({} bytes) starting \"{}\"",
            bytes.len(),
            first.trim()
        )
    } else {
        let hex: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!(
            "it is binary data ({} bytes) starting {}",
            bytes.len(),
            hex.join(" ")
        )
    }
}

fn detect(bytes: &[u8], hint: Option<MeshFormat>) -> Result<Detected, ReadError> {
    if bytes.starts_with(b"ply") && matches!(bytes.get(3), Some(b'\n' | b'\r')) {
        return Ok(Detected::Ply);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Ok(Detected::ThreeMf);
    }
    let text = looks_like_text(bytes);
    if let Some(n) = stl::binary_count(bytes) {
        let expected = stl::binary_size(n);
        let actual = bytes.len() as u64;
        // The size rule is decisive: text whose bytes 80..84 happened to give the right
        // count would need gigabytes. Binary files may start with "solid" too.
        if actual == expected && !(text && stl::starts_with_solid(bytes)) {
            return Ok(Detected::BinaryStl);
        }
        if !text && (hint.is_none() || hint == Some(MeshFormat::Stl)) {
            if stl::binary_body_plausible(bytes) && (actual > expected || n > 0) {
                // Either cut short (reported with the numbers) or with trailing bytes.
                return Ok(Detected::BinaryStl);
            }
            if hint == Some(MeshFormat::Stl) || stl::starts_with_solid(bytes) {
                return Err(ReadError::NotAMesh {
                    seen: format!(
                        "{}; read as binary STL its header declares {n} triangles \
                         ({expected} bytes) and its numbers are not coordinates",
                        describe(bytes)
                    ),
                });
            }
        }
    }
    if text && stl::starts_with_solid(bytes) {
        return Ok(Detected::AsciiStl);
    }
    match hint {
        Some(MeshFormat::Obj) if text => return Ok(Detected::Obj),
        Some(MeshFormat::Ply) => return Ok(Detected::Ply),
        Some(MeshFormat::ThreeMf) => return Ok(Detected::ThreeMf),
        _ => {}
    }
    if text && looks_like_obj(bytes) {
        return Ok(Detected::Obj);
    }
    Err(ReadError::NotAMesh {
        seen: describe(bytes),
    })
}
