//! Welding of bit-identical vertices while a file is read, so shared edges share indices.

use std::collections::HashMap;

use nalgebra::Point3;
use rayon::prelude::*;

use super::ReadError;
use crate::mesh::{Mesh, point_key};

/// Collects a triangle soup and welds it into a [`Mesh`]: vertices with bit-identical
/// coordinates (`-0.0` equals `0.0`) become one, numbered in order of first use, exactly as
/// [`Mesh::from_soup`] numbers them.
///
/// Welding a 2 M-triangle STL is a few million hash look-ups in a map far larger than the
/// caches; [`Welder::finish`] therefore partitions the corners by hash into shards whose maps
/// fit in cache and welds the shards in parallel. The result does not depend on the number of
/// shards or threads: vertex numbers follow the first corner that uses them.
pub(crate) struct Welder {
    corners: Vec<Point3<f64>>,
}

/// The largest vertex or triangle count a [`Mesh`] can index.
const LIMIT: usize = u32::MAX as usize;

/// About this many corners per shard keep a shard's map within the L2 cache.
const CORNERS_PER_SHARD: usize = 1 << 15;

impl Welder {
    /// A welder with room for about `triangles` triangles. The reservation is capped so a
    /// lying header cannot make us allocate gigabytes before the data is seen.
    pub(crate) fn with_capacity(triangles: usize) -> Welder {
        Welder {
            corners: Vec::with_capacity(3 * triangles.min(1 << 24)),
        }
    }

    /// Adds a triangle given by its corners.
    #[inline]
    pub(crate) fn triangle(&mut self, corners: [Point3<f64>; 3]) -> Result<(), ReadError> {
        if self.corners.len() / 3 >= LIMIT {
            return Err(ReadError::TooLarge {
                limit: LIMIT as u64,
            });
        }
        self.corners.extend_from_slice(&corners);
        Ok(())
    }

    /// How many triangles have been added.
    pub(crate) fn triangle_count(&self) -> usize {
        self.corners.len() / 3
    }

    /// The welded mesh.
    pub(crate) fn finish(self) -> Result<Mesh, ReadError> {
        let n = self.corners.len();
        let shard_bits = (n / CORNERS_PER_SHARD).max(1).ilog2().min(10);
        let sharded = Sharded::of(self.corners, shard_bits);
        let (local_of, firsts) = sharded.weld();
        // Local vertex `l` of shard `s` is flat vertex `offset[s] + l`; flat vertices are
        // numbered globally in order of their first corner.
        let mut offset = Vec::with_capacity(firsts.len());
        let mut vertex_count = 0usize;
        for f in &firsts {
            offset.push(vertex_count);
            vertex_count += f.len();
        }
        if vertex_count > LIMIT {
            return Err(ReadError::TooLarge {
                limit: LIMIT as u64,
            });
        }
        let (vertices, global_of_flat) = number_vertices(&firsts, &offset, n, vertex_count);
        drop(firsts);
        let mut corner_vertex = vec![0u32; n];
        for (s, &off) in offset.iter().enumerate() {
            for k in sharded.starts[s]..sharded.starts[s + 1] {
                let flat = off + local_of[k] as usize;
                corner_vertex[sharded.members[k].1 as usize] = global_of_flat[flat];
            }
        }
        let triangles = corner_vertex
            .chunks_exact(3)
            .map(|t| [t[0], t[1], t[2]])
            .collect();
        Ok(Mesh {
            vertices,
            triangles,
        })
    }
}

/// The corners grouped by shard: `members[starts[s]..starts[s + 1]]` are shard `s`'s corners
/// (point and corner number), ascending within each.
struct Sharded {
    members: Vec<(Point3<f64>, u32)>,
    starts: Vec<usize>,
}

/// One shard's welded vertices: for each, its first corner and its position.
type ShardFirsts = Vec<(u32, Point3<f64>)>;

impl Sharded {
    /// Partitions the corners by hash into `2^shard_bits` shards (a counting sort).
    fn of(corners: Vec<Point3<f64>>, shard_bits: u32) -> Sharded {
        let n = corners.len();
        let shards = 1usize << shard_bits;
        // Fixed seeds: the partition is reproducible (the result would not change anyway).
        let partition = ahash::RandomState::with_seeds(1, 2, 3, 4);
        let shard_of = |p: &Point3<f64>| -> usize {
            if shard_bits == 0 {
                0
            } else {
                (partition.hash_one(point_key(p)) >> (64 - shard_bits)) as usize
            }
        };
        let shard_ids: Vec<u16> = corners
            .par_iter()
            .with_min_len(1 << 14)
            .map(|p| shard_of(p) as u16)
            .collect();
        let mut starts = vec![0usize; shards + 1];
        for &s in &shard_ids {
            starts[s as usize + 1] += 1;
        }
        for s in 0..shards {
            starts[s + 1] += starts[s];
        }
        // Each member carries its point: the shards then read memory sequentially instead of
        // gathering corners from all over a large array, which is freed here.
        let mut members = vec![(Point3::origin(), 0u32); n];
        let mut fill = starts.clone();
        for (i, (&s, p)) in shard_ids.iter().zip(&corners).enumerate() {
            members[fill[s as usize]] = (*p, i as u32);
            fill[s as usize] += 1;
        }
        Sharded { members, starts }
    }

    /// Welds every shard in parallel: each member corner's local vertex number (in member
    /// order), and per shard its vertices' first corners and positions.
    fn weld(&self) -> (Vec<u32>, Vec<ShardFirsts>) {
        let shards = self.starts.len() - 1;
        let mut local_of = vec![0u32; self.members.len()];
        let mut slices = Vec::with_capacity(shards);
        let mut rest = local_of.as_mut_slice();
        for s in 0..shards {
            let (head, tail) = rest.split_at_mut(self.starts[s + 1] - self.starts[s]);
            slices.push((&self.members[self.starts[s]..self.starts[s + 1]], head));
            rest = tail;
        }
        let firsts = slices
            .into_par_iter()
            .map(|(members, locals)| {
                let mut index: HashMap<[u64; 3], u32, ahash::RandomState> =
                    HashMap::with_capacity_and_hasher(
                        members.len() / 4 + 4,
                        ahash::RandomState::with_seeds(5, 6, 7, 8),
                    );
                let mut first = Vec::with_capacity(members.len() / 4 + 4);
                for (&(p, c), local) in members.iter().zip(locals.iter_mut()) {
                    let next = first.len() as u32;
                    *local = *index.entry(point_key(&p)).or_insert_with(|| {
                        first.push((c, p));
                        next
                    });
                }
                first
            })
            .collect();
        (local_of, firsts)
    }
}

/// Numbers the welded vertices globally in order of their first corner: the vertices, and
/// each flat vertex's global number.
fn number_vertices(
    firsts: &[ShardFirsts],
    offset: &[usize],
    corners: usize,
    vertex_count: usize,
) -> (Vec<Point3<f64>>, Vec<u32>) {
    // 0 = not a first corner, else flat vertex + 1.
    let mut first_of = vec![0u32; corners];
    let mut flat_points = Vec::with_capacity(vertex_count);
    for (s, f) in firsts.iter().enumerate() {
        for (l, &(c, p)) in f.iter().enumerate() {
            first_of[c as usize] = (offset[s] + l + 1) as u32;
            flat_points.push(p);
        }
    }
    let mut global_of_flat = vec![0u32; vertex_count];
    let mut vertices = Vec::with_capacity(vertex_count);
    for &flat in &first_of {
        if flat != 0 {
            global_of_flat[flat as usize - 1] = vertices.len() as u32;
            vertices.push(flat_points[flat as usize - 1]);
        }
    }
    (vertices, global_of_flat)
}

/// Turns the faces of an indexed format (a vertex list and polygons of indices) into a
/// welded soup; only vertices that a face uses enter the mesh.
pub(crate) struct IndexedWelder<'a> {
    positions: &'a [Point3<f64>],
    welder: Welder,
}

impl<'a> IndexedWelder<'a> {
    /// A welder over the file's vertex list, expecting about `faces` triangles.
    pub(crate) fn new(positions: &'a [Point3<f64>], faces: usize) -> IndexedWelder<'a> {
        IndexedWelder {
            positions,
            welder: Welder::with_capacity(faces),
        }
    }

    /// File vertex `i`; `place` names the face for the error message.
    fn vertex(&self, i: i64, place: &dyn Fn() -> String) -> Result<Point3<f64>, ReadError> {
        usize::try_from(i)
            .ok()
            .and_then(|k| self.positions.get(k))
            .copied()
            .ok_or_else(|| ReadError::BadVertexIndex {
                place: place(),
                index: i,
                count: self.positions.len(),
            })
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
            self.welder.triangle([first, prev, next])?;
            prev = next;
        }
        Ok(())
    }

    /// The welded mesh.
    pub(crate) fn finish(self) -> Result<Mesh, ReadError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn weld(soup: &[[Point3<f64>; 3]]) -> Mesh {
        let mut w = Welder::with_capacity(soup.len());
        for t in soup {
            w.triangle(*t).unwrap();
        }
        w.finish().unwrap()
    }

    /// A soup drawn from a small grid of points, so corners repeat often.
    fn grid_soup(triangles: usize, seed: u64) -> Vec<[Point3<f64>; 3]> {
        let mut x = seed | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..triangles)
            .map(|_| {
                [(); 3].map(|_| {
                    let r = next();
                    let c = |s: u32| f64::from(((r >> s) & 63) as u32) * 0.5 - 8.0;
                    Point3::new(c(0), c(8), if r & (1 << 40) == 0 { c(16) } else { -0.0 })
                })
            })
            .collect()
    }

    #[test]
    fn sharded_welding_numbers_vertices_like_from_soup() {
        // 40 000 triangles = 120 000 corners: several shards.
        let soup = grid_soup(40_000, 7);
        assert_eq!(weld(&soup), Mesh::from_soup(soup.iter().copied()));
    }

    proptest! {
        #[test]
        fn welding_matches_from_soup_on_small_soups(n in 1usize..300, seed in any::<u64>()) {
            let soup = grid_soup(n, seed);
            prop_assert_eq!(weld(&soup), Mesh::from_soup(soup.iter().copied()));
        }
    }
}
