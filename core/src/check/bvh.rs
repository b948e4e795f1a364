//! A bounding-volume hierarchy over triangles, for finding the pairs that may cross.
//!
//! Triangles are sorted along a Morton curve of their centroids and grouped four to a leaf;
//! each level above merges neighbouring pairs. The implicit layout needs no pointers, builds
//! with one parallel sort, and keeps spatially close triangles close in memory.

use rayon::prelude::*;

use crate::mesh::Mesh;

const LEAF: usize = 4;

/// An axis-aligned box in single precision, rounded outwards so it contains the exact box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Box3 {
    min: [f32; 3],
    max: [f32; 3],
}

impl Box3 {
    const EMPTY: Box3 = Box3 {
        min: [f32::INFINITY; 3],
        max: [f32::NEG_INFINITY; 3],
    };

    fn of_triangle(mesh: &Mesh, t: usize) -> Box3 {
        let mut b = Box3::EMPTY;
        for p in mesh.corners(t) {
            for k in 0..3 {
                let (lo, hi) = round_out(p[k]);
                b.min[k] = b.min[k].min(lo);
                b.max[k] = b.max[k].max(hi);
            }
        }
        b
    }

    fn union(&self, o: &Box3) -> Box3 {
        Box3 {
            min: std::array::from_fn(|k| self.min[k].min(o.min[k])),
            max: std::array::from_fn(|k| self.max[k].max(o.max[k])),
        }
    }

    #[inline]
    fn overlaps(&self, o: &Box3) -> bool {
        (0..3).all(|k| self.min[k] <= o.max[k] && o.min[k] <= self.max[k])
    }
}

/// The f32 interval that contains `x`.
fn round_out(x: f64) -> (f32, f32) {
    let f = x as f32;
    let fd = f as f64;
    if fd > x {
        (f.next_down(), f)
    } else if fd < x {
        (f, f.next_up())
    } else {
        (f, f)
    }
}

/// The hierarchy over a chosen subset of a mesh's triangles.
#[derive(Debug, Clone)]
pub struct Bvh {
    boxes: Vec<Box3>,
    order: Vec<u32>,
    levels: Vec<Vec<Box3>>,
}

impl Bvh {
    /// Builds the hierarchy over the triangles `t` of `mesh` with `include(t)`.
    pub fn new(mesh: &Mesh, include: impl Fn(usize) -> bool + Sync) -> Bvh {
        let boxes: Vec<Box3> = (0..mesh.triangles.len())
            .into_par_iter()
            .map(|t| Box3::of_triangle(mesh, t))
            .collect();
        let bounds = boxes
            .par_iter()
            .enumerate()
            .filter(|(t, _)| include(*t))
            .map(|(_, b)| *b)
            .reduce(|| Box3::EMPTY, |a, b| a.union(&b));
        let mut keyed: Vec<(u64, u32)> = boxes
            .par_iter()
            .enumerate()
            .filter(|(t, _)| include(*t))
            .map(|(t, b)| (morton(&bounds, b), t as u32))
            .collect();
        keyed.par_sort_unstable();
        let order: Vec<u32> = keyed.into_iter().map(|(_, t)| t).collect();
        let leaves: Vec<Box3> = order
            .par_chunks(LEAF)
            .map(|c| {
                c.iter()
                    .fold(Box3::EMPTY, |a, &t| a.union(&boxes[t as usize]))
            })
            .collect();
        let mut levels = vec![leaves];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().map(Vec::as_slice).unwrap_or_default();
            let up: Vec<Box3> = below
                .chunks(2)
                .map(|c| c.iter().fold(Box3::EMPTY, |a, b| a.union(b)))
                .collect();
            levels.push(up);
        }
        Bvh {
            boxes,
            order,
            levels,
        }
    }

    /// The triangles in Morton order (the included subset).
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// Calls `visit(u)` for every included triangle `u` whose box overlaps triangle `t`'s box.
    pub fn for_each_overlap(
        &self,
        t: usize,
        stack: &mut Vec<(u32, u32)>,
        mut visit: impl FnMut(usize),
    ) {
        let q = self.boxes[t];
        let Some(top) = self.levels.len().checked_sub(1) else {
            return;
        };
        stack.clear();
        stack.push((top as u32, 0));
        while let Some((level, i)) = stack.pop() {
            let (level, i) = (level as usize, i as usize);
            if !self.levels[level][i].overlaps(&q) {
                continue;
            }
            if level == 0 {
                let end = (i * LEAF + LEAF).min(self.order.len());
                for &u in &self.order[i * LEAF..end] {
                    if self.boxes[u as usize].overlaps(&q) {
                        visit(u as usize);
                    }
                }
            } else {
                let below = self.levels[level - 1].len();
                for c in [2 * i, 2 * i + 1] {
                    if c < below {
                        stack.push(((level - 1) as u32, c as u32));
                    }
                }
            }
        }
    }
}

impl Bvh {
    /// Calls `test(a, b)` once for every pair of included triangles whose boxes overlap, by
    /// traversing the hierarchy against itself (each overlapping node pair is visited once,
    /// far cheaper than one root-to-leaf query per triangle). The top levels run in parallel;
    /// the pairs `test` accepts are returned sorted, so the result is deterministic.
    pub fn overlapping_pairs<F>(&self, test: &F) -> Vec<(u32, u32)>
    where
        F: Fn(u32, u32) -> bool + Sync,
    {
        let Some(top) = self.levels.len().checked_sub(1) else {
            return Vec::new();
        };
        let mut out = self.self_pairs(top, 0, test);
        out.par_sort_unstable();
        out
    }

    /// Level at and above which the recursion forks (nodes cover 4·2^level triangles).
    const PARALLEL_LEVEL: usize = 8;

    fn leaf(&self, i: usize) -> &[u32] {
        &self.order[i * LEAF..(i * LEAF + LEAF).min(self.order.len())]
    }

    fn self_pairs<F>(&self, level: usize, i: usize, test: &F) -> Vec<(u32, u32)>
    where
        F: Fn(u32, u32) -> bool + Sync,
    {
        if level == 0 {
            let mut out = Vec::new();
            let leaf = self.leaf(i);
            for (k, &a) in leaf.iter().enumerate() {
                for &b in &leaf[k + 1..] {
                    self.leaf_pair(a, b, test, &mut out);
                }
            }
            return out;
        }
        let (l, r) = (2 * i, 2 * i + 1);
        if r >= self.levels[level - 1].len() {
            return self.self_pairs(level - 1, l, test);
        }
        if level >= Self::PARALLEL_LEVEL {
            let ((mut a, b), c) = rayon::join(
                || {
                    rayon::join(
                        || self.self_pairs(level - 1, l, test),
                        || self.self_pairs(level - 1, r, test),
                    )
                },
                || self.cross_pairs(level - 1, l, r, test),
            );
            a.extend(b);
            a.extend(c);
            a
        } else {
            let mut a = self.self_pairs(level - 1, l, test);
            a.extend(self.self_pairs(level - 1, r, test));
            a.extend(self.cross_pairs(level - 1, l, r, test));
            a
        }
    }

    fn cross_pairs<F>(&self, level: usize, i: usize, j: usize, test: &F) -> Vec<(u32, u32)>
    where
        F: Fn(u32, u32) -> bool + Sync,
    {
        let mut out = Vec::new();
        if level >= Self::PARALLEL_LEVEL {
            if !self.levels[level][i].overlaps(&self.levels[level][j]) {
                return out;
            }
            let below = self.levels[level - 1].len();
            let kids = |n: usize| [2 * n, 2 * n + 1].into_iter().filter(move |&c| c < below);
            let pairs: Vec<(usize, usize)> =
                kids(i).flat_map(|a| kids(j).map(move |b| (a, b))).collect();
            return pairs
                .into_par_iter()
                .flat_map_iter(|(a, b)| self.cross_pairs(level - 1, a, b, test))
                .collect();
        }
        self.cross_into(level, i, j, test, &mut out);
        out
    }

    fn cross_into<F>(&self, level: usize, i: usize, j: usize, test: &F, out: &mut Vec<(u32, u32)>)
    where
        F: Fn(u32, u32) -> bool + Sync,
    {
        if !self.levels[level][i].overlaps(&self.levels[level][j]) {
            return;
        }
        if level == 0 {
            for &a in self.leaf(i) {
                for &b in self.leaf(j) {
                    self.leaf_pair(a, b, test, out);
                }
            }
            return;
        }
        let below = self.levels[level - 1].len();
        for a in [2 * i, 2 * i + 1] {
            if a >= below {
                continue;
            }
            for b in [2 * j, 2 * j + 1] {
                if b < below {
                    self.cross_into(level - 1, a, b, test, out);
                }
            }
        }
    }

    #[inline]
    fn leaf_pair<F>(&self, a: u32, b: u32, test: &F, out: &mut Vec<(u32, u32)>)
    where
        F: Fn(u32, u32) -> bool + Sync,
    {
        if self.boxes[a as usize].overlaps(&self.boxes[b as usize]) {
            let (a, b) = (a.min(b), a.max(b));
            if test(a, b) {
                out.push((a, b));
            }
        }
    }
}

/// The 63-bit Morton code of a box's centre within `bounds`.
fn morton(bounds: &Box3, b: &Box3) -> u64 {
    let mut code = 0u64;
    let q: [u64; 3] = std::array::from_fn(|k| {
        let span = (bounds.max[k] - bounds.min[k]).max(f32::MIN_POSITIVE);
        let c = 0.5 * (b.min[k] + b.max[k]);
        let u = ((c - bounds.min[k]) / span).clamp(0.0, 1.0);
        (u * ((1u32 << 21) - 1) as f32) as u64
    });
    for bit in (0..21).rev() {
        for v in q {
            code = (code << 1) | ((v >> bit) & 1);
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_query_finds_exactly_the_brute_force_pairs() {
        let mut m = Mesh::axis_aligned_box([0.0; 3], [1.0; 3]);
        for i in 1..6 {
            let o = i as f64 * 0.7;
            m.append(&Mesh::axis_aligned_box(
                [o, 0.3 * o, 0.0],
                [o + 1.0, 0.3 * o + 1.0, 1.0],
            ));
        }
        let bvh = Bvh::new(&m, |_| true);
        let mut stack = Vec::new();
        for t in 0..m.triangles.len() {
            let mut got = Vec::new();
            bvh.for_each_overlap(t, &mut stack, |u| got.push(u));
            got.sort();
            let want: Vec<usize> = (0..m.triangles.len())
                .filter(|&u| bvh.boxes[u].overlaps(&bvh.boxes[t]))
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn self_traversal_visits_each_overlapping_pair_once() {
        let mut m = crate::check::solids::torus(10.0, 3.0, 40, 20);
        m.append(&Mesh::axis_aligned_box([8.0, -2.0, -4.0], [14.0, 2.0, 4.0]));
        let bvh = Bvh::new(&m, |t| t % 7 != 3);
        let got = bvh.overlapping_pairs(&|_, _| true);
        let mut want = Vec::new();
        for a in 0..m.triangles.len() {
            for b in a + 1..m.triangles.len() {
                if a % 7 != 3 && b % 7 != 3 && bvh.boxes[a].overlaps(&bvh.boxes[b]) {
                    want.push((a as u32, b as u32));
                }
            }
        }
        assert_eq!(got, want);
    }

    #[test]
    fn rounded_box_contains_the_double_coordinates() {
        for x in [0.1, -0.3, 1e10 + 0.5, 7.0] {
            let (lo, hi) = round_out(x);
            assert!((lo as f64) <= x && x <= hi as f64);
        }
    }
}
