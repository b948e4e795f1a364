//! Errors of mesh reading and writing, worded for the engineer who has to fix the file.

use std::path::PathBuf;

/// Why a mesh could not be read.
///
/// Messages name what is wrong and where (line, triangle, vertex, XML element). Errors from
/// [`read_mesh`](super::read_mesh) are wrapped in [`ReadError::InFile`], which names the file;
/// [`ReadError::cause`] gives the underlying error for matching.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A reading error in a named file.
    #[error("{}: {error}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        error: Box<ReadError>,
    },
    /// The file has no bytes at all.
    #[error("the file is empty (0 bytes): no mesh to read")]
    Empty,
    /// The bytes are not any mesh format we read.
    #[error("not a mesh file (STL, OBJ, PLY or 3MF): {seen}")]
    NotAMesh {
        /// What the bytes look like instead.
        seen: String,
    },
    /// A binary STL whose triangle count promises more bytes than the file holds.
    #[error(
        "truncated binary STL: the header declares {triangles} triangles, which need \
         {expected_bytes} bytes, but the file has {actual_bytes} bytes \
         ({complete} complete triangles); the file was cut short while writing or copying"
    )]
    TruncatedBinaryStl {
        /// Triangle count from the header.
        triangles: u32,
        /// 84 + 50 × triangles.
        expected_bytes: u64,
        /// The file's size.
        actual_bytes: u64,
        /// How many whole triangles the file does hold.
        complete: u64,
    },
    /// A syntax error in an ASCII STL file.
    #[error("ASCII STL syntax error at line {line}: {message}")]
    AsciiStl {
        /// 1-based line number.
        line: usize,
        /// What was expected and what was found.
        message: String,
    },
    /// A coordinate is NaN or infinite.
    #[error("non-finite coordinate ({value}) at {place}: the file holds corrupt geometry")]
    NonFinite {
        /// Where: triangle and corner, vertex number or line.
        place: String,
        /// The offending value as written or decoded.
        value: String,
    },
    /// A face refers to a vertex that does not exist.
    #[error("{place} refers to vertex {index}, but there are only {count} vertices")]
    BadVertexIndex {
        /// Which face.
        place: String,
        /// The index found (0-based).
        index: i64,
        /// How many vertices there are.
        count: usize,
    },
    /// The file is well formed but holds no triangle.
    #[error("the {format} file contains no triangles")]
    NoTriangles {
        /// The format read.
        format: &'static str,
    },
    /// An OBJ file the OBJ parser rejected.
    #[error("invalid OBJ file: {message}")]
    Obj {
        /// The parser's reason.
        message: String,
    },
    /// A PLY file the PLY parser rejected or whose elements are unusable.
    #[error("invalid PLY file: {message}")]
    Ply {
        /// The reason.
        message: String,
    },
    /// A 3MF package that is not a valid zip, lacks its model, or has an invalid model.
    #[error("invalid 3MF file: {message}")]
    ThreeMf {
        /// The reason, naming the part, element or object.
        message: String,
    },
    /// More vertices or triangles than a [`Mesh`](crate::Mesh) can index (u32).
    #[error("the mesh is too large: more than {limit} vertices or triangles")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
}

impl ReadError {
    /// The underlying error, without the [`ReadError::InFile`] layer that names the file.
    pub fn cause(&self) -> &ReadError {
        match self {
            ReadError::InFile { error, .. } => error.cause(),
            other => other,
        }
    }
}

/// Why a mesh could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The file could not be created, written or renamed into place.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A vertex is NaN or infinite, or too large for the 32-bit floats of binary STL.
    #[error("vertex {vertex} ({x}, {y}, {z}) cannot be written to STL: {reason}")]
    BadVertex {
        /// 0-based vertex index.
        vertex: usize,
        /// Coordinates.
        x: f64,
        /// Coordinates.
        y: f64,
        /// Coordinates.
        z: f64,
        /// Non-finite or out of range.
        reason: &'static str,
    },
    /// Binary STL counts triangles in 32 bits.
    #[error("{triangles} triangles are more than binary STL can hold (4294967295)")]
    TooManyTriangles {
        /// The mesh's triangle count.
        triangles: usize,
    },
}
