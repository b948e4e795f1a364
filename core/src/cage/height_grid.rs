//! Endplate surfaces as height grids: sampling, interpolation, and the smoothing that never
//! moves a surface towards the bone.

/// A surface `z = h(x, y)` sampled on a regular grid, bilinear between nodes, clamped outside.
#[derive(Debug, Clone, PartialEq)]
pub struct HeightGrid {
    /// x and y of node (0, 0).
    pub origin: [f64; 2],
    /// Node spacing, mm.
    pub step: f64,
    /// Nodes along x and y.
    pub size: [usize; 2],
    /// Heights, row-major in x (index `j * size[0] + i`).
    pub values: Vec<f64>,
}

impl HeightGrid {
    /// The interpolated height at `(x, y)`.
    pub fn height(&self, x: f64, y: f64) -> f64 {
        let fx = ((x - self.origin[0]) / self.step).clamp(0.0, (self.size[0] - 1) as f64);
        let fy = ((y - self.origin[1]) / self.step).clamp(0.0, (self.size[1] - 1) as f64);
        let i = (fx.floor() as usize).min(self.size[0].saturating_sub(2));
        let j = (fy.floor() as usize).min(self.size[1].saturating_sub(2));
        let (tx, ty) = (fx - i as f64, fy - j as f64);
        let at = |i: usize, j: usize| self.values[j * self.size[0] + i];
        let a = at(i, j) * (1.0 - tx) + at(i + 1, j) * tx;
        let b = at(i, j + 1) * (1.0 - tx) + at(i + 1, j + 1) * tx;
        a * (1.0 - ty) + b * ty
    }

    /// The grid with every value shifted by `dz`.
    pub fn shifted(mut self, dz: f64) -> HeightGrid {
        self.values.iter_mut().for_each(|v| *v += dz);
        self
    }
}

/// Fills missing nodes from their nearest valid neighbours (repeated dilation), then applies a
/// binomial 3×3 smoothing that never moves the surface towards the bone: `min` with the raw
/// heights for the upper plate (`upper = true`), `max` for the lower.
pub(super) fn smooth_and_fill(
    raw: &[Option<f64>],
    size: [usize; 2],
    upper: bool,
) -> Option<Vec<f64>> {
    let [nx, ny] = size;
    let mut v: Vec<Option<f64>> = raw.to_vec();
    if v.iter().all(Option::is_none) {
        return None;
    }
    let valid_raw: Vec<bool> = raw.iter().map(Option::is_some).collect();
    while v.iter().any(Option::is_none) {
        let prev = v.clone();
        for j in 0..ny {
            for i in 0..nx {
                if prev[j * nx + i].is_some() {
                    continue;
                }
                let (mut s, mut n) = (0.0, 0);
                for (di, dj) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)] {
                    let (a, b) = (i as i64 + di, j as i64 + dj);
                    if a >= 0
                        && b >= 0
                        && (a as usize) < nx
                        && (b as usize) < ny
                        && let Some(h) = prev[b as usize * nx + a as usize]
                    {
                        s += h;
                        n += 1;
                    }
                }
                if n > 0 {
                    v[j * nx + i] = Some(s / n as f64);
                }
            }
        }
    }
    let filled: Vec<f64> = v.into_iter().map(|h| h.unwrap_or(0.0)).collect();
    let w = [1.0, 2.0, 1.0];
    let mut out = filled.clone();
    for j in 0..ny {
        for i in 0..nx {
            let (mut s, mut ws) = (0.0, 0.0);
            for dj in 0..3 {
                for di in 0..3 {
                    let (a, b) = (i as i64 + di as i64 - 1, j as i64 + dj as i64 - 1);
                    if a >= 0 && b >= 0 && (a as usize) < nx && (b as usize) < ny {
                        let wt = w[di] * w[dj];
                        s += wt * filled[b as usize * nx + a as usize];
                        ws += wt;
                    }
                }
            }
            let k = j * nx + i;
            let smooth = s / ws;
            out[k] = if !valid_raw[k] {
                smooth
            } else if upper {
                smooth.min(filled[k])
            } else {
                smooth.max(filled[k])
            };
        }
    }
    Some(out)
}
