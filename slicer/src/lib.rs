//! meltline-slicer: meshes into layers of LPBF scan paths.
//!
//! The pipeline, one module per concept:
//!
//! - [`slice`]: mesh → closed polygons with holes at mid-layer planes, in integer coordinates.
//! - [`region`]: core / upskin / downskin regions by booleans with neighbouring layers.
//! - [`contour`]: contours inset by the beam offset, thin walls kept as centre-line edges.
//! - [`hatch`]: lines, stripes and chessboard hatching clipped exactly by the regions.
//! - [`engrave`]: serial numbers engraved as grooves into a vertical face, cut from the
//!   sections before contours and hatches.
//! - [`order`]: the deterministic scan order of blocks, islands and stripes.
//! - [`support`]: overhang detection and block supports (their vectors enter the job).
//! - [`profile`]: process parameter sets (TOML).
//! - [`admission`]: the machine's rules (from the controller's machine description) applied
//!   to a job before anything is written.
//! - [`job`]: the [`job::BuildJob`], the streaming [`job::Slicer`].
//! - [`export`]: CLI (Common Layer Interface) ASCII/binary, SVG, per-layer statistics.
//!
//! All 2D work is done in integer coordinates of [`polygon::QUANTUM_MM`] (1 µm), so the
//! polygon booleans of `i_overlay` are exact; millimetres (f64) appear only at the boundary.
//!
//! ```
//! use meltline_core::mesh::Mesh;
//! use meltline_slicer::job::{Slicer, SlicerOptions};
//! use meltline_slicer::profile::ProcessProfile;
//! let cube = Mesh::axis_aligned_box([0.0; 3], [5.0, 5.0, 0.3]);
//! let slicer = Slicer::new(&cube, ProcessProfile::ti6al4v(), SlicerOptions::default()).unwrap();
//! let job = slicer.build_job().unwrap();
//! assert_eq!(job.layers.len(), 10); // 0.3 mm at 30 µm layers
//! assert!(job.layers[0].blocks.iter().any(|b| b.kind == meltline_slicer::job::VectorKind::Hatch));
//! ```

pub mod admission;
pub mod contour;
pub mod engrave;
pub mod export;
pub mod hatch;
pub mod job;
pub mod order;
pub mod polygon;
pub mod profile;
pub mod region;
pub mod slice;
pub mod support;
