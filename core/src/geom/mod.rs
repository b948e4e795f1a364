//! Geometry shared by the mesh tools and the slicer: local frames and the vertical ray cast.

mod frame;
pub mod ray;

pub use frame::Frame;
pub use ray::{RayCaster, vertical_hit};
