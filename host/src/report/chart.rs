//! Charts drawn as inline SVG (no script needed, they print as they are).

use std::fmt::Write;

use super::esc;

/// Margins of a chart: left, right, top, bottom, px.
const MARGIN: (f64, f64, f64, f64) = (56.0, 10.0, 22.0, 26.0);

/// The largest finite value, padded 5 % (1 when there is none above zero).
fn scale_max(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    if max > 0.0 { max * 1.05 } else { 1.0 }
}

/// Frame, title and axis labels of a chart against layer index.
fn axes(s: &mut String, title: &str, top_label: &str, layers: usize, w: f64, h: f64) {
    let (l, r, t, b) = MARGIN;
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" class="chart"><text x="{l}" y="15" font-weight="bold">{}</text><line x1="{l}" y1="{}" x2="{}" y2="{}" stroke="#888"/><line x1="{l}" y1="{t}" x2="{l}" y2="{}" stroke="#888"/><text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">0</text><text x="{l}" y="{}">layer 0</text><text x="{}" y="{}" text-anchor="end">layer {}</text>"##,
        esc(title),
        h - b,
        w - r,
        h - b,
        h - b,
        l - 4.0,
        t + 10.0,
        esc(top_label),
        l - 4.0,
        h - b,
        h - 8.0,
        w - r,
        h - 8.0,
        layers.saturating_sub(1)
    );
}

/// A line chart of `values` against layer index, `w`×`h` pixels, inline SVG.
pub fn line_chart(title: &str, unit: &str, values: &[f64], w: u32, h: u32) -> String {
    let mut s = String::new();
    let (w, h) = (f64::from(w), f64::from(h));
    let (l, r, t, b) = MARGIN;
    let max = scale_max(values.iter().copied());
    axes(
        &mut s,
        title,
        &format!("{max:.3} {unit}"),
        values.len(),
        w,
        h,
    );
    let n = values.len().max(2) as f64 - 1.0;
    let mut pts = String::new();
    for (i, v) in values.iter().enumerate() {
        let x = l + (w - l - r) * i as f64 / n;
        let y = h - b - (h - t - b) * (v / max).clamp(0.0, 1.0);
        let _ = write!(pts, "{x:.1},{y:.1} ");
    }
    let _ = write!(
        s,
        r##"<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{pts}"/></svg>"##
    );
    s
}

/// One band of a stacked chart: its name, colour and value per layer.
#[derive(Debug, Clone)]
pub struct Band<'a> {
    /// Name in the legend.
    pub name: &'a str,
    /// Fill colour (`#rrggbb`).
    pub colour: &'a str,
    /// Value per layer.
    pub values: Vec<f64>,
}

/// A stacked area chart of `bands` against layer index, with a legend, inline SVG.
pub fn stacked_chart(title: &str, unit: &str, bands: &[Band<'_>], w: u32, h: u32) -> String {
    let mut s = String::new();
    let (w, h) = (f64::from(w), f64::from(h));
    let (l, r, t, b) = MARGIN;
    let layers = bands.iter().map(|b| b.values.len()).max().unwrap_or(0);
    let total = |i: usize| -> f64 {
        bands
            .iter()
            .map(|b| b.values.get(i).copied().unwrap_or(0.0))
            .sum()
    };
    let max = scale_max((0..layers).map(total));
    axes(&mut s, title, &format!("{max:.1} {unit}"), layers, w, h);
    let n = layers.max(2) as f64 - 1.0;
    let x = |i: usize| l + (w - l - r) * i as f64 / n;
    let y = |v: f64| h - b - (h - t - b) * (v / max).clamp(0.0, 1.0);
    let mut below = vec![0.0f64; layers];
    for band in bands {
        let mut top = String::new();
        let mut bottom = String::new();
        for (i, under) in below.iter_mut().enumerate() {
            let v = band.values.get(i).copied().unwrap_or(0.0);
            let _ = write!(top, "{:.1},{:.1} ", x(i), y(*under + v));
            *under += v;
        }
        for i in (0..layers).rev() {
            let v = band.values.get(i).copied().unwrap_or(0.0);
            let _ = write!(bottom, "{:.1},{:.1} ", x(i), y(below[i] - v));
        }
        let _ = write!(
            s,
            r#"<polygon fill="{}" fill-opacity="0.85" stroke="none" points="{top}{bottom}"/>"#,
            band.colour
        );
    }
    for (k, band) in bands.iter().enumerate() {
        let lx = l + 8.0 + 92.0 * k as f64;
        let _ = write!(
            s,
            r#"<rect x="{lx}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            t + 2.0,
            band.colour,
            lx + 14.0,
            t + 11.0,
            esc(band.name)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacked_chart_draws_one_polygon_per_band_and_names_each_in_the_legend() {
        let bands = [
            Band {
                name: "marks",
                colour: "#d62728",
                values: vec![1.0, 2.0, 3.0],
            },
            Band {
                name: "recoat",
                colour: "#7f7f7f",
                values: vec![8.0, 8.0, 8.0],
            },
        ];
        let svg = stacked_chart("time", "s", &bands, 400, 200);
        assert_eq!(svg.matches("<polygon").count(), 2);
        assert!(svg.contains(">marks<") && svg.contains(">recoat<"));
        assert!(svg.contains("11.6 s"), "top of the scale is 1.05 × 11 s");
    }
}
