//! The scan order: deterministic, spreading heat between stripes and islands, and short
//! jumps between blocks.
//!
//! Rules (all ties broken by index, so the order never depends on threads or hashing):
//!
//! - **Stripes**: even stripes first, then odd ones (`0, 2, 4, …, 1, 3, 5, …`): two
//!   neighbouring stripes are never scanned back to back, so each has cooled by one stripe
//!   time before its neighbour is melted against it.
//! - **Chessboard**: all white islands, then all black islands; within a colour, each next
//!   island is the one *farthest* from the island just scanned (starting from the lowest
//!   row, then column), which spreads heat over the layer.
//! - **Lines**: one group per connected part, parts in nearest-neighbour order.
//! - **Contours** are visited nearest-neighbour, each closed contour rotated to start at
//!   its vertex nearest to the beam's position.

use crate::hatch::HatchGroup;
use crate::polygon::Point;
use crate::profile::Strategy;

/// Orders the hatch groups of one region by the strategy's heat-spreading rule.
pub fn order_groups(mut groups: Vec<HatchGroup>, strategy: Strategy) -> Vec<HatchGroup> {
    match strategy {
        Strategy::Lines => groups,
        Strategy::Stripes => {
            groups.sort_by_key(|g| g.cell);
            let (even, odd): (Vec<_>, Vec<_>) = groups
                .into_iter()
                .partition(|g| g.cell.0.rem_euclid(2) == 0);
            even.into_iter().chain(odd).collect()
        }
        Strategy::Chessboard => {
            groups.sort_by_key(|g| (g.cell.1, g.cell.0));
            let (white, black): (Vec<_>, Vec<_>) = groups.into_iter().partition(|g| g.white);
            let mut out = farthest_first(white);
            out.extend(farthest_first(black));
            out
        }
    }
}

/// Each next island is the one farthest (in cells) from the previous; ties by index.
fn farthest_first(mut cells: Vec<HatchGroup>) -> Vec<HatchGroup> {
    let mut out = Vec::with_capacity(cells.len());
    if cells.is_empty() {
        return out;
    }
    let mut last = cells.remove(0);
    while !cells.is_empty() {
        let (la, lb) = last.cell;
        let mut best = 0;
        let mut best_d = -1i64;
        for (i, c) in cells.iter().enumerate() {
            let d = (c.cell.0 - la).pow(2) + (c.cell.1 - lb).pow(2);
            if d > best_d {
                best_d = d;
                best = i;
            }
        }
        out.push(last);
        last = cells.remove(best);
    }
    out.push(last);
    out
}

/// Squared distance in units².
#[inline]
pub fn dist2(a: Point, b: Point) -> i64 {
    let dx = (a.x - b.x) as i64;
    let dy = (a.y - b.y) as i64;
    dx * dx + dy * dy
}

/// Orders items greedily by nearest start point from `from`, returning the new order.
pub fn nearest_neighbour<T>(
    mut items: Vec<T>,
    mut from: Point,
    start: impl Fn(&T) -> Point,
    end: impl Fn(&T) -> Point,
) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    while !items.is_empty() {
        let mut best = 0;
        let mut best_d = i64::MAX;
        for (i, it) in items.iter().enumerate() {
            let d = dist2(from, start(it));
            if d < best_d {
                best_d = d;
                best = i;
            }
        }
        let it = items.remove(best);
        from = end(&it);
        out.push(it);
    }
    out
}

/// Rotates a closed contour so it starts at its vertex nearest to `from`.
pub fn rotate_to_nearest(contour: &mut [Point], from: Point) {
    if let Some((i, _)) = contour
        .iter()
        .enumerate()
        .min_by_key(|(i, p)| (dist2(**p, from), *i))
    {
        contour.rotate_left(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(a: i64, b: i64) -> HatchGroup {
        HatchGroup {
            cell: (a, b),
            white: (a + b).rem_euclid(2) == 0,
            hatches: vec![[Point::new(0, 0), Point::new(1, 0)]],
        }
    }

    #[test]
    fn stripes_never_scan_neighbours_back_to_back() {
        let out = order_groups((0..6).map(|s| g(s, 0)).collect(), Strategy::Stripes);
        let seq: Vec<i64> = out.iter().map(|g| g.cell.0).collect();
        assert_eq!(seq, vec![0, 2, 4, 1, 3, 5]);
    }

    #[test]
    fn chessboard_scans_all_white_then_black_spread_apart() {
        let cells: Vec<HatchGroup> = (0..4).flat_map(|a| (0..4).map(move |b| g(a, b))).collect();
        let out = order_groups(cells, Strategy::Chessboard);
        assert_eq!(out.len(), 16);
        assert!(out[..8].iter().all(|g| g.white) && out[8..].iter().all(|g| !g.white));
        // Row-by-row order steps ~1.4 cells between white islands; spreading doubles that.
        let steps: Vec<f64> = out[..8]
            .windows(2)
            .map(|w| {
                let (dx, dy) = (w[0].cell.0 - w[1].cell.0, w[0].cell.1 - w[1].cell.1);
                ((dx * dx + dy * dy) as f64).sqrt()
            })
            .collect();
        let mean = steps.iter().sum::<f64>() / steps.len() as f64;
        assert!(mean >= 2.5, "mean step {mean} cells: {steps:?}");
    }
}
