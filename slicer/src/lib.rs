//! meltline-slicer: meshes into layers of LPBF scan paths.

pub mod support;
