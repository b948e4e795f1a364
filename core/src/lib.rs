//! meltline-core: the meshes of patient-specific LPBF spinal implants.
//!
//! - [`mesh`]: the indexed triangle [`Mesh`] with welded vertices, measures and transforms.
//! - [`io`]: readers (STL, OBJ, PLY, 3MF) and writers (STL) with a units option.
//! - [`check`]: the printability check (topology, orientation, degeneracy, self-intersections).
//! - [`repair`]: safe repair of the common defects.
//!
//! Units are millimetres throughout.
//!
//! ```
//! use meltline_core::mesh::Mesh;
//! let cube = Mesh::axis_aligned_box([0.0; 3], [10.0, 10.0, 10.0]);
//! assert_eq!(cube.triangles.len(), 12);
//! assert!((cube.signed_volume() - 1000.0).abs() < 1e-9);
//! ```

pub mod cage;
pub mod check;
pub mod geom;
pub mod implicit;
pub mod io;
pub mod mesh;
pub mod repair;

pub use mesh::{Aabb, Mesh};
