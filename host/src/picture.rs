//! Pictures of a layer's scan vectors: SVG text and PNG rasters, captioned with the layer
//! number and height, a scale bar and a legend of the vector kinds drawn. Colours by kind:
//! contour red, hatch blue, edge purple, support orange (drawn twice as wide, so a layer of
//! supports only is plainly visible), point green.

use std::fmt::Write;
use std::path::Path;

use meltline_firmware::wire::{Segment, VectorKind};

use crate::raster_text::{draw_text, text_width};

/// Per kind (wire order): name, SVG colour, RGB, stroke width relative to a contour.
const KINDS: [(&str, &str, [u8; 3], f64); 5] = [
    ("contour", "#d62728", [214, 39, 40], 1.0),
    ("hatch", "#1f77b4", [31, 119, 180], 1.0),
    ("edge", "#9467bd", [148, 103, 189], 1.0),
    ("support", "#e6550d", [230, 85, 13], 2.0),
    ("point", "#2ca02c", [44, 160, 44], 1.5),
];

/// What a picture says about its layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Caption {
    /// The job's name.
    pub title: String,
    /// Layer index.
    pub layer: u32,
    /// Height of the layer's top, mm.
    pub z_mm: f64,
    /// Size of a coordinate quantum, mm.
    pub quantum_mm: f64,
}

impl Caption {
    fn text(&self) -> String {
        format!(
            "{} · layer {} · z {:.3} mm",
            self.title, self.layer, self.z_mm
        )
    }
}

/// Bounds `[xmin, ymin, xmax, ymax]` of segments in quanta, or `None` when empty.
pub fn bounds(segments: &[(VectorKind, Segment)]) -> Option<[i64; 4]> {
    let mut b: Option<[i64; 4]> = None;
    for (_, s) in segments {
        for p in [s.from, s.to] {
            let (x, y) = (i64::from(p.x), i64::from(p.y));
            b = Some(match b {
                None => [x, y, x, y],
                Some(b) => [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)],
            });
        }
    }
    b
}

/// A round scale-bar length, mm, at most `max_mm` (0.05 mm at least).
pub fn scale_bar_mm(max_mm: f64) -> f64 {
    [
        0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0,
    ]
    .into_iter()
    .rev()
    .find(|l| *l <= max_mm)
    .unwrap_or(0.05)
}

/// Vector counts by kind.
fn counts(segments: &[(VectorKind, Segment)]) -> [usize; 5] {
    let mut n = [0usize; 5];
    for (k, _) in segments {
        if let Some(c) = n.get_mut(*k as usize) {
            *c += 1;
        }
    }
    n
}

const HEADER_PX: u32 = 24;
const FOOTER_PX: u32 = 40;

/// An SVG picture `width` pixels wide (y up, as on the plate), one path per kind, with the
/// caption above and a scale bar and legend below.
pub fn layer_svg(segments: &[(VectorKind, Segment)], width: u32, caption: &Caption) -> String {
    let mut s = String::new();
    let title = crate::report::esc(&caption.text());
    let Some(b) = bounds(segments) else {
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40"><rect width="100%" height="100%" fill="white"/><text x="4" y="24" font-family="sans-serif" font-size="13">{title}: no vectors</text></svg>"#
        );
        return s;
    };
    let (w, h) = ((b[2] - b[0]).max(1) as f64, (b[3] - b[1]).max(1) as f64);
    let pad = 0.03 * w.max(h);
    let (vw, vh) = (w + 2.0 * pad, h + 2.0 * pad);
    let ph = (f64::from(width) * vh / vw).ceil() as u32;
    let total = HEADER_PX + ph + FOOTER_PX;
    let stroke = (vw / f64::from(width)).max(1.0);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total}" font-family="sans-serif" font-size="12"><title>{title}</title><rect width="{width}" height="{total}" fill="white"/><text x="6" y="17" font-size="13" font-weight="bold">{title}</text><svg x="0" y="{HEADER_PX}" width="{width}" height="{ph}" viewBox="{} {} {vw} {vh}"><g transform="scale(1,-1)" fill="none" stroke-linecap="round">"#,
        b[0] as f64 - pad,
        -(b[3] as f64) - pad,
    );
    for (k, (_, colour, _, factor)) in KINDS.iter().enumerate() {
        let mut d = String::new();
        for (_, seg) in segments.iter().filter(|(kind, _)| *kind as usize == k) {
            let _ = write!(
                d,
                "M{} {}L{} {}",
                seg.from.x, seg.from.y, seg.to.x, seg.to.y
            );
        }
        if !d.is_empty() {
            let _ = write!(
                s,
                r#"<path stroke="{colour}" stroke-width="{:.1}" d="{d}"/>"#,
                stroke * factor
            );
        }
    }
    s.push_str("</g></svg>");
    let px_per_mm = f64::from(width) / (vw * caption.quantum_mm);
    let bar_mm = scale_bar_mm(0.25 * f64::from(width) / px_per_mm);
    let bar_px = bar_mm * px_per_mm;
    let y = f64::from(HEADER_PX + ph) + 14.0;
    let _ = write!(
        s,
        r##"<g class="scale-bar"><path d="M8 {y}h{bar_px:.1}M8 {}v8M{:.1} {}v8" stroke="#222" stroke-width="2"/><text x="8" y="{}">{bar_mm} mm</text></g><g class="legend">"##,
        y - 4.0,
        8.0 + bar_px,
        y - 4.0,
        y + 18.0
    );
    let mut x = 24.0 + bar_px.max(60.0);
    for ((name, colour, _, _), n) in KINDS.iter().zip(counts(segments)) {
        if n == 0 {
            continue;
        }
        let _ = write!(
            s,
            r#"<rect x="{x:.0}" y="{}" width="12" height="12" fill="{colour}"/><text x="{:.0}" y="{}">{name} {n}</text>"#,
            y - 6.0,
            x + 16.0,
            y + 5.0
        );
        x += 30.0 + 7.0 * (name.len() + n.to_string().len()) as f64;
    }
    s.push_str("</g></svg>");
    s
}

/// The largest picture side in pixels: 8192² RGB is 192 MiB, a bound no preview needs to pass.
pub const MAX_PICTURE_PX: u32 = 8192;

/// Marks the pixel (`x`, `y`) and, for `thick` strokes, its right and lower neighbours.
fn plot(img: &mut [u8], (pw, ph): (u32, u32), (x, y): (f64, f64), thick: bool, rgb: [u8; 3]) {
    let reach = if thick { 2 } else { 1 };
    for dy in 0..reach {
        for dx in 0..reach {
            let (px, py) = (x + f64::from(dx), y + f64::from(dy));
            if px >= 0.0 && py >= 0.0 && (px as u32) < pw && (py as u32) < ph {
                let at = ((py as u32 * pw + px as u32) * 3) as usize;
                img[at..at + 3].copy_from_slice(&rgb);
            }
        }
    }
}

/// An RGB raster `size` pixels on its longer side, with a caption band above and a scale bar
/// and legend below; returns width, height and pixels.
pub fn layer_rgb(
    segments: &[(VectorKind, Segment)],
    size: u32,
    caption: &Caption,
) -> (u32, u32, Vec<u8>) {
    let size = size.clamp(64, MAX_PICTURE_PX);
    let (header, footer) = (16u32, 22u32);
    let b = bounds(segments).unwrap_or([0, 0, 1, 1]);
    let (w, h) = ((b[2] - b[0]).max(1) as f64, (b[3] - b[1]).max(1) as f64);
    let scale = f64::from(size - 8) / w.max(h);
    let pw = ((w * scale) as u32 + 8).max(160);
    let ph = ((h * scale) as u32 + 8).max(16) + header + footer;
    let mut img = vec![255u8; (pw * ph * 3) as usize];
    let bottom = f64::from(ph - footer) - 4.0;
    let to_px = |x: i32, y: i32| {
        (
            (f64::from(x) - b[0] as f64) * scale + 4.0,
            bottom - (f64::from(y) - b[1] as f64) * scale,
        )
    };
    for (kind, s) in segments {
        let (_, _, rgb, factor) = KINDS[(*kind as usize).min(4)];
        let (x0, y0) = to_px(s.from.x, s.from.y);
        let (x1, y1) = to_px(s.to.x, s.to.y);
        let steps = (x1 - x0).abs().max((y1 - y0).abs()).ceil().max(1.0) as u32;
        for i in 0..=steps {
            let t = f64::from(i) / f64::from(steps);
            let p = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            plot(&mut img, (pw, ph), p, factor > 1.0, rgb);
        }
    }
    let ink = [34, 34, 34];
    let text = format!("LAYER {}  Z {:.3} MM", caption.layer, caption.z_mm);
    draw_text(&mut img, pw, 4, 3, &text, 2, ink);
    let px_per_mm = scale / caption.quantum_mm;
    let bar_mm = scale_bar_mm(0.25 * f64::from(pw) / px_per_mm);
    let bar_px = (bar_mm * px_per_mm).round() as u32;
    let y = ph - footer + 4;
    for x in 4..(4 + bar_px).min(pw) {
        plot(&mut img, (pw, ph), (f64::from(x), f64::from(y)), true, ink);
    }
    let label = format!("{bar_mm} MM");
    draw_text(&mut img, pw, 4, y + 5, &label, 2, ink);
    let mut x = 12 + bar_px.max(text_width(&label, 2));
    for ((name, _, rgb, _), n) in KINDS.iter().zip(counts(segments)) {
        if n == 0 {
            continue;
        }
        for dy in 0..8 {
            for dx in 0..8 {
                plot(
                    &mut img,
                    (pw, ph),
                    (f64::from(x + dx), f64::from(y + 4 + dy)),
                    false,
                    *rgb,
                );
            }
        }
        draw_text(&mut img, pw, x + 11, y + 5, name, 2, ink);
        x += 16 + text_width(name, 2);
    }
    (pw, ph, img)
}

/// Writes a captioned PNG of the layer.
pub fn write_layer_png(
    segments: &[(VectorKind, Segment)],
    size: u32,
    caption: &Caption,
    path: &Path,
) -> std::io::Result<()> {
    let (w, h, rgb) = layer_rgb(segments, size, caption);
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().map_err(std::io::Error::other)?;
        wr.write_image_data(&rgb).map_err(std::io::Error::other)?;
    }
    meltline_core::io::write_bytes_atomically(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use meltline_firmware::wire::Point;

    fn support_square() -> Vec<(VectorKind, Segment)> {
        let p = |x, y| Point::new(x, y);
        [(0, 0, 4000, 0), (4000, 0, 4000, 4000), (0, 4000, 0, 0)]
            .into_iter()
            .map(|(a, b, c, d)| {
                (
                    VectorKind::Support,
                    Segment {
                        from: p(a, b),
                        to: p(c, d),
                        chained: false,
                    },
                )
            })
            .collect()
    }

    fn caption() -> Caption {
        Caption {
            title: "job".into(),
            layer: 7,
            z_mm: 0.24,
            quantum_mm: 0.001,
        }
    }

    #[test]
    fn svg_names_the_layer_and_height_and_has_a_scale_bar_and_legend() {
        let svg = layer_svg(&support_square(), 400, &caption());
        assert!(svg.contains("layer 7 · z 0.240 mm"), "{svg}");
        assert!(
            svg.contains(r#"class="scale-bar""#) && svg.contains("1 mm"),
            "{svg}"
        );
        assert!(svg.contains(">support 3<"), "{svg}");
        assert!(
            !svg.contains(">contour"),
            "only kinds drawn are in the legend"
        );
    }

    #[test]
    fn supports_are_drawn_two_pixels_wide_in_png() {
        let (w, h, img) = layer_rgb(&support_square(), 200, &caption());
        let orange = |x: u32, y: u32| img[((y * w + x) * 3) as usize..][..3] == [230, 85, 13];
        // Above the legend band, the column through the middle crosses the bottom edge only.
        let rows: Vec<u32> = (0..h - 22).filter(|y| orange(w / 2, *y)).collect();
        assert_eq!(rows.len(), 2, "one stroke two pixels wide: {rows:?}");
    }

    #[test]
    fn scale_bar_is_a_round_length_not_over_the_limit() {
        assert_eq!(scale_bar_mm(7.3), 5.0);
        assert_eq!(scale_bar_mm(0.01), 0.05);
    }
}
