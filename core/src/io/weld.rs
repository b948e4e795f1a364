//! Welding of bit-identical vertices while a file is read, so shared edges share indices.

use std::collections::HashMap;

use nalgebra::Point3;

use super::ReadError;
use crate::mesh::{Mesh, point_key};

/// Builds a [`Mesh`] triangle by triangle, welding vertices with bit-identical coordinates
/// (`-0.0` equals `0.0`), as [`Mesh::from_soup`] does, with a fast hasher and reserved space:
/// a 2 M-triangle STL spends most of its read time here.
pub(crate) struct Welder {
    index: HashMap<[u64; 3], u32, ahash::RandomState>,
    vertices: Vec<Point3<f64>>,
    triangles: Vec<[u32; 3]>,
}

/// The largest vertex or triangle count a [`Mesh`] can index.
const LIMIT: usize = u32::MAX as usize;

impl Welder {
    /// A welder with room for about `triangles` triangles (closed meshes have about half as
    /// many vertices as triangles). The reservation is capped so a lying header cannot make us
    /// allocate gigabytes.
    pub(crate) fn with_capacity(triangles: usize) -> Welder {
        let triangles = triangles.min(1 << 24);
        let vertices = triangles / 2 + 3;
        Welder {
            index: HashMap::with_capacity_and_hasher(vertices, ahash::RandomState::new()),
            vertices: Vec::with_capacity(vertices),
            triangles: Vec::with_capacity(triangles),
        }
    }

    /// The welded index of `p`, adding it when new.
    #[inline]
    pub(crate) fn vertex(&mut self, p: Point3<f64>) -> Result<u32, ReadError> {
        let next = self.vertices.len();
        match self.index.entry(point_key(&p)) {
            std::collections::hash_map::Entry::Occupied(e) => Ok(*e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                if next >= LIMIT {
                    return Err(ReadError::TooLarge {
                        limit: LIMIT as u64,
                    });
                }
                self.vertices.push(p);
                Ok(*e.insert(next as u32))
            }
        }
    }

    /// Adds a triangle of welded indices.
    #[inline]
    pub(crate) fn push(&mut self, t: [u32; 3]) -> Result<(), ReadError> {
        if self.triangles.len() >= LIMIT {
            return Err(ReadError::TooLarge {
                limit: LIMIT as u64,
            });
        }
        self.triangles.push(t);
        Ok(())
    }

    /// Adds a triangle given by its corners.
    #[inline]
    pub(crate) fn triangle(&mut self, corners: [Point3<f64>; 3]) -> Result<(), ReadError> {
        let t = [
            self.vertex(corners[0])?,
            self.vertex(corners[1])?,
            self.vertex(corners[2])?,
        ];
        self.push(t)
    }

    /// How many triangles have been added.
    pub(crate) fn triangle_count(&self) -> usize {
        self.triangles.len()
    }

    /// The welded mesh.
    pub(crate) fn finish(self) -> Mesh {
        Mesh {
            vertices: self.vertices,
            triangles: self.triangles,
        }
    }
}

/// Welds the vertices of an indexed format lazily: only vertices that a face uses enter the
/// mesh, in the order faces first use them.
pub(crate) struct IndexedWelder<'a> {
    positions: &'a [Point3<f64>],
    remap: Vec<u32>,
    welder: Welder,
}

impl<'a> IndexedWelder<'a> {
    /// A welder over the file's vertex list, expecting about `faces` triangles.
    pub(crate) fn new(positions: &'a [Point3<f64>], faces: usize) -> IndexedWelder<'a> {
        IndexedWelder {
            positions,
            remap: vec![u32::MAX; positions.len()],
            welder: Welder::with_capacity(faces),
        }
    }

    /// The welded index of file vertex `i`; `place` names the face for the error message.
    fn vertex(&mut self, i: i64, place: &dyn Fn() -> String) -> Result<u32, ReadError> {
        let count = self.positions.len();
        let Some(slot) = usize::try_from(i).ok().filter(|&k| k < count) else {
            return Err(ReadError::BadVertexIndex {
                place: place(),
                index: i,
                count,
            });
        };
        if self.remap[slot] == u32::MAX {
            self.remap[slot] = self.welder.vertex(self.positions[slot])?;
        }
        Ok(self.remap[slot])
    }

    /// Adds a polygon of file vertex indices as a triangle fan (a triangle stays one triangle).
    /// Polygons with fewer than three corners are skipped: they carry no surface.
    pub(crate) fn polygon(
        &mut self,
        corners: &[i64],
        place: &dyn Fn() -> String,
    ) -> Result<(), ReadError> {
        if corners.len() < 3 {
            return Ok(());
        }
        let first = self.vertex(corners[0], place)?;
        let mut prev = self.vertex(corners[1], place)?;
        for &c in &corners[2..] {
            let next = self.vertex(c, place)?;
            self.welder.push([first, prev, next])?;
            prev = next;
        }
        Ok(())
    }

    /// The welded mesh.
    pub(crate) fn finish(self) -> Mesh {
        self.welder.finish()
    }
}

/// Rejects a non-finite coordinate, naming where it is.
#[inline]
pub(crate) fn check_finite(
    p: &Point3<f64>,
    place: impl FnOnce() -> String,
) -> Result<(), ReadError> {
    if p.x.is_finite() && p.y.is_finite() && p.z.is_finite() {
        return Ok(());
    }
    let bad = [p.x, p.y, p.z]
        .into_iter()
        .find(|v| !v.is_finite())
        .unwrap_or(f64::NAN);
    Err(ReadError::NonFinite {
        place: place(),
        value: bad.to_string(),
    })
}
