//! Core, upskin and downskin regions of a layer, by booleans with its neighbours.
//!
//! With `k` skin layers, a point of layer `i` is **downskin** when any of the `k` layers
//! below lacks material there (`S_i ∖ ∩_{j=1..k} S_{i−j}`), **upskin** when any of the `k`
//! layers above lacks it (and it is not downskin), and **core** otherwise. Below layer 0 is
//! either the build plate (solid: a part standing on the plate has no downskin at its foot)
//! or powder (a part lifted on supports). Above the last layer is always powder.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::polygon::{Shapes, difference, intersection};

/// The three regions of a layer; disjoint, their union is the layer's cross-section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerRegions {
    /// Material with material on all sides within the skin depth.
    pub core: Shapes,
    /// Material with powder above within the skin depth.
    pub upskin: Shapes,
    /// Material with powder below within the skin depth: what supports hold up.
    pub downskin: Shapes,
}

/// What lies below layer 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foundation {
    /// The part stands on the build plate: solid below layer 0.
    Plate,
    /// The part is lifted (on supports): powder below layer 0.
    Powder,
}

/// Classifies `current` given up to `k` sections below (nearest first) and above (nearest
/// first). Slices shorter than `k` mean the stack ended: below it is `foundation`, above it
/// is powder.
pub fn classify(
    current: &Shapes,
    below: &[&Shapes],
    above: &[&Shapes],
    k: usize,
    foundation: Foundation,
) -> LayerRegions {
    let below_missing = below.len() < k && foundation == Foundation::Powder;
    // `supported ⊆ current` has material in all k layers below; `covered ⊆ supported` also
    // in all k layers above. Starting each chain from the smaller set keeps booleans cheap.
    split(
        current,
        k,
        || {
            Cow::Owned(if below_missing {
                Vec::new()
            } else {
                common(current.clone(), below)
            })
        },
        |supported| {
            if above.len() < k {
                Vec::new()
            } else {
                common(supported.clone(), above)
            }
        },
    )
}

/// The regions of `current` from its `supported` set (material in the `k` layers below),
/// computed only when needed, and the `covered` part of it (also in the `k` layers above):
/// downskin `current ∖ supported`, upskin `supported ∖ covered`, core `covered`. Empty
/// layers have no regions, and without skin layers (`k = 0`) everything is core.
fn split<'a>(
    current: &Shapes,
    k: usize,
    supported: impl FnOnce() -> Cow<'a, Shapes>,
    covered: impl FnOnce(&Shapes) -> Shapes,
) -> LayerRegions {
    if current.is_empty() {
        return LayerRegions::default();
    }
    if k == 0 {
        return LayerRegions {
            core: current.clone(),
            ..LayerRegions::default()
        };
    }
    let supported = supported();
    let downskin = difference(current, &supported);
    let covered = covered(&supported);
    let upskin = difference(&supported, &covered);
    LayerRegions {
        core: covered,
        upskin,
        downskin,
    }
}

/// `start ∩ layers[0] ∩ layers[1] ∩ …` (`start` itself when `layers` is empty: the plate).
fn common(start: Shapes, layers: &[&Shapes]) -> Shapes {
    let mut acc = start;
    for l in layers {
        if acc.is_empty() {
            break;
        }
        acc = intersection(&acc, l);
    }
    acc
}

/// The "supported" sets `∩_{j−k..=j} S` of a run of layers, computed once and shared by the
/// neighbours that need them.
///
/// Layer `i` needs `supported_i` for its downskin and `supported_i ∩ supported_{i+k}` (= material
/// in all `2k + 1` layers around it) for its core. A window of `k + 1` layers is the
/// intersection of two overlapping power-of-two windows, and each power-of-two window of a layer
/// is two half windows that neighbouring layers share, so a layer costs two booleans
/// (`k` = 3) instead of a chain of `2k` per layer.
#[derive(Debug, Default)]
pub struct SkinWindows {
    /// `levels[q][j]` = `∩_{j−2^(q+1)+1..=j} S` (windows of 2, 4, … layers).
    levels: Vec<BTreeMap<usize, Shapes>>,
    supported: BTreeMap<usize, Shapes>,
}

impl SkinWindows {
    /// Drops every window ending below layer `lo`.
    pub fn retain_from(&mut self, lo: usize) {
        for l in &mut self.levels {
            l.retain(|&j, _| j >= lo);
        }
        self.supported.retain(|&j, _| j >= lo);
    }

    /// Computes `supported_j` for every `j` in `range` (in parallel over layers) from
    /// `section(j)`, which must cover `range.start − k .. range.end`; missing sections are
    /// empty.
    pub fn fill<'a>(
        &mut self,
        range: std::ops::Range<usize>,
        k: usize,
        foundation: Foundation,
        section: &(dyn Fn(usize) -> Option<&'a Shapes> + Sync),
    ) {
        if k == 0 || range.is_empty() {
            return;
        }
        let len = k + 1;
        let m = 1usize << (usize::BITS - 1 - len.leading_zeros());
        let levels_needed = m.trailing_zeros() as usize;
        while self.levels.len() < levels_needed {
            self.levels.push(BTreeMap::new());
        }
        // Window of `m` at j and at j − (len − m): level windows are needed from `lo_top`.
        let full_from = range.start.max(k);
        let mut need_lo = full_from.saturating_sub(len - m);
        let mut bounds = vec![(0usize, 0usize); levels_needed];
        for q in (0..levels_needed).rev() {
            let w = 2usize << q;
            bounds[q] = (need_lo.max(w - 1), range.end);
            need_lo = need_lo.saturating_sub(w / 2);
        }
        let empty: Shapes = Vec::new();
        for (q, &(a, b)) in bounds.iter().enumerate() {
            let half = 1usize << q;
            let missing: Vec<usize> = (a..b).filter(|j| !self.levels[q].contains_key(j)).collect();
            let lower = if q == 0 {
                None
            } else {
                Some(&self.levels[q - 1])
            };
            let get = |j: usize| -> &Shapes {
                match lower {
                    None => section(j).unwrap_or(&empty),
                    Some(l) => l.get(&j).unwrap_or(&empty),
                }
            };
            let new: Vec<(usize, Shapes)> = missing
                .par_iter()
                .map(|&j| (j, intersection(get(j), get(j - half))))
                .collect();
            self.levels[q].extend(new);
        }
        let missing: Vec<usize> = range.filter(|j| !self.supported.contains_key(j)).collect();
        let top = &self.levels[levels_needed - 1];
        let new: Vec<(usize, Shapes)> = missing
            .par_iter()
            .map(|&j| {
                let s = if j >= k {
                    let a = top.get(&j).unwrap_or(&empty);
                    if len == m {
                        a.clone()
                    } else {
                        intersection(a, top.get(&(j - (len - m))).unwrap_or(&empty))
                    }
                } else if foundation == Foundation::Powder {
                    Vec::new()
                } else {
                    // Near the plate: material in every layer down to layer 0.
                    let mut acc = section(j).unwrap_or(&empty).clone();
                    for b in (0..j).rev() {
                        if acc.is_empty() {
                            break;
                        }
                        acc = intersection(&acc, section(b).unwrap_or(&empty));
                    }
                    acc
                };
                (j, s)
            })
            .collect();
        self.supported.extend(new);
    }

    /// The regions of layer `i` of `n` (its `supported` sets at `i` and `i + k` filled).
    pub fn regions(&self, current: &Shapes, i: usize, n: usize, k: usize) -> LayerRegions {
        let empty: Shapes = Vec::new();
        split(
            current,
            k,
            || Cow::Borrowed(self.supported.get(&i).unwrap_or(&empty)),
            |supported| {
                if i + k >= n {
                    Vec::new()
                } else {
                    intersection(supported, self.supported.get(&(i + k)).unwrap_or(&empty))
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::polygon::{Point, area_mm2, union_nonzero};

    fn rect(x0: i32, y0: i32, x1: i32, y1: i32) -> Shapes {
        union_nonzero(&[vec![
            Point::new(x0, y0),
            Point::new(x1, y0),
            Point::new(x1, y1),
            Point::new(x0, y1),
        ]])
    }

    fn windowed(sections: &[Shapes], k: usize, foundation: Foundation) -> Vec<LayerRegions> {
        let n = sections.len();
        let mut w = SkinWindows::default();
        w.fill(0..n, k, foundation, &|j| sections.get(j));
        (0..n).map(|i| w.regions(&sections[i], i, n, k)).collect()
    }

    #[test]
    fn shared_windows_give_the_regions_of_the_per_layer_chains() {
        // A staircase that grows, shrinks and shifts, so every layer has all three regions.
        let sections: Vec<Shapes> = (0..12)
            .map(|i: i32| {
                let w = 3000 + 400 * (i - 6).abs();
                rect(150 * i, 0, 150 * i + w, 2000 + 100 * i)
            })
            .collect();
        for k in [1usize, 2, 3, 4, 5] {
            for foundation in [Foundation::Plate, Foundation::Powder] {
                let got = windowed(&sections, k, foundation);
                for (i, g) in got.iter().enumerate() {
                    let below: Vec<&Shapes> = (1..=k)
                        .filter_map(|d| i.checked_sub(d))
                        .map(|j| &sections[j])
                        .collect();
                    let above: Vec<&Shapes> = (i + 1..(i + k + 1).min(sections.len()))
                        .map(|j| &sections[j])
                        .collect();
                    let want = classify(&sections[i], &below, &above, k, foundation);
                    for (a, b) in [
                        (&g.core, &want.core),
                        (&g.upskin, &want.upskin),
                        (&g.downskin, &want.downskin),
                    ] {
                        assert!(
                            (area_mm2(a) - area_mm2(b)).abs() < 1e-9,
                            "k {k}, layer {i}: {} vs {}",
                            area_mm2(a),
                            area_mm2(b)
                        );
                    }
                }
                assert!(
                    got.iter()
                        .any(|r| !r.upskin.is_empty() && !r.core.is_empty())
                );
            }
        }
    }

    #[test]
    fn overhang_beyond_the_layer_below_is_downskin() {
        let cur = rect(0, 0, 2000, 1000);
        let below = rect(0, 0, 1000, 1000);
        let r = classify(&cur, &[&below], &[&cur], 1, Foundation::Plate);
        assert!((area_mm2(&r.downskin) - 1.0).abs() < 1e-12);
        assert!((area_mm2(&r.core) - 1.0).abs() < 1e-12);
        assert!(r.upskin.is_empty());
    }

    #[test]
    fn top_layer_is_upskin_and_plate_supports_the_first() {
        let cur = rect(0, 0, 1000, 1000);
        let r = classify(&cur, &[], &[], 3, Foundation::Plate);
        assert!((area_mm2(&r.upskin) - 1.0).abs() < 1e-12);
        assert!(r.downskin.is_empty() && r.core.is_empty());
        let lifted = classify(&cur, &[], &[], 3, Foundation::Powder);
        assert!((area_mm2(&lifted.downskin) - 1.0).abs() < 1e-12);
        assert!(lifted.upskin.is_empty());
    }
}
