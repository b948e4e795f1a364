//! Pictures of a layer's scan vectors: SVG text and PNG rasters, captioned with the layer
//! number and height, a scale bar and a legend of what the colours tell apart ([`ColourBy`]).
//! Colours by kind: contour red, hatch blue, edge purple, support orange, point green. Colours
//! by laser: one of eight well-separated colours per laser ([`LASER_COLOURS`]), the legend
//! naming lasers by their index on the machine from 0, as `meltline inspect` and `meltline
//! lasers` do. In both, supports are drawn twice as wide (so a layer of supports only is
//! plainly visible) and points one and a half times.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use crate::jobfile::LayerVector;
use crate::raster_text::{draw_text, text_width};

/// Per kind (wire order): name, colour (RGB), stroke width relative to a contour.
const KINDS: [(&str, [u8; 3], f64); 5] = [
    ("contour", [214, 39, 40], 1.0),
    ("hatch", [31, 119, 180], 1.0),
    ("edge", [148, 103, 189], 1.0),
    ("support", [230, 85, 13], 2.0),
    ("point", [44, 160, 44], 1.5),
];

/// Colour of laser 0, 1, … 7 (the one palette of [`meltline_firmware::lasers::LASER_RGB`]).
pub use meltline_firmware::lasers::LASER_RGB as LASER_COLOURS;

/// What a picture's colours tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColourBy {
    /// The vector kind (contour, hatch, edge, support, point).
    #[default]
    Kind,
    /// The laser that exposes the vector.
    Laser,
}

/// `#rrggbb` of an RGB colour.
fn hex_colour([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The stroke width of a kind relative to a contour's.
fn width_factor(v: &LayerVector) -> f64 {
    KINDS.get(v.kind as usize).map_or(1.0, |k| k.2)
}

/// What a vector is coloured by: its kind's index or its laser.
fn key(v: &LayerVector, by: ColourBy) -> usize {
    match by {
        ColourBy::Kind => v.kind as usize,
        ColourBy::Laser => usize::from(v.laser),
    }
}

/// The RGB colour of key `key`.
fn key_rgb(key: usize, by: ColourBy) -> [u8; 3] {
    match by {
        ColourBy::Kind => KINDS.get(key).map_or([0, 0, 0], |k| k.1),
        ColourBy::Laser => LASER_COLOURS[key % LASER_COLOURS.len()],
    }
}

/// The legend's name of key `key`.
fn key_name(key: usize, by: ColourBy) -> String {
    match by {
        ColourBy::Kind => KINDS.get(key).map_or("?", |k| k.0).to_string(),
        ColourBy::Laser => format!("laser {key}"),
    }
}

/// The legend: per key drawn, in key order, its name, colour and vector count.
fn legend(segments: &[LayerVector], by: ColourBy) -> Vec<(String, [u8; 3], usize)> {
    let mut n: BTreeMap<usize, usize> = BTreeMap::new();
    for v in segments {
        *n.entry(key(v, by)).or_default() += 1;
    }
    n.into_iter()
        .map(|(k, n)| (key_name(k, by), key_rgb(k, by), n))
        .collect()
}

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
pub fn bounds(segments: &[LayerVector]) -> Option<[i64; 4]> {
    let mut b: Option<[i64; 4]> = None;
    for v in segments {
        for p in [v.segment.from, v.segment.to] {
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

const HEADER_PX: u32 = 24;
const FOOTER_PX: u32 = 40;

/// An SVG picture `width` pixels wide (y up, as on the plate), one path per kind and colour,
/// with the caption above and a scale bar and legend below.
pub fn layer_svg(segments: &[LayerVector], by: ColourBy, width: u32, caption: &Caption) -> String {
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
    // One path per kind (in kind order) and colour, so each kind keeps its stroke width.
    let mut paths: BTreeMap<(usize, usize), String> = BTreeMap::new();
    for v in segments {
        let seg = &v.segment;
        let d = paths.entry((v.kind as usize, key(v, by))).or_default();
        let _ = write!(
            d,
            "M{} {}L{} {}",
            seg.from.x, seg.from.y, seg.to.x, seg.to.y
        );
    }
    for ((kind, k), d) in &paths {
        let factor = KINDS.get(*kind).map_or(1.0, |k| k.2);
        let _ = write!(
            s,
            r#"<path stroke="{}" stroke-width="{:.1}" d="{d}"/>"#,
            hex_colour(key_rgb(*k, by)),
            stroke * factor
        );
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
    for (name, rgb, n) in legend(segments, by) {
        let _ = write!(
            s,
            r#"<rect x="{x:.0}" y="{}" width="12" height="12" fill="{}"/><text x="{:.0}" y="{}">{name} {n}</text>"#,
            y - 6.0,
            hex_colour(rgb),
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
    segments: &[LayerVector],
    by: ColourBy,
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
    for v in segments {
        let (s, rgb, factor) = (&v.segment, key_rgb(key(v, by), by), width_factor(v));
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
    for (name, rgb, _) in legend(segments, by) {
        for dy in 0..8 {
            for dx in 0..8 {
                plot(
                    &mut img,
                    (pw, ph),
                    (f64::from(x + dx), f64::from(y + 4 + dy)),
                    false,
                    rgb,
                );
            }
        }
        draw_text(&mut img, pw, x + 11, y + 5, &name, 2, ink);
        x += 16 + text_width(&name, 2);
    }
    (pw, ph, img)
}

/// Writes a captioned PNG of the layer.
pub fn write_layer_png(
    segments: &[LayerVector],
    by: ColourBy,
    size: u32,
    caption: &Caption,
    path: &Path,
) -> std::io::Result<()> {
    let (w, h, rgb) = layer_rgb(segments, by, size, caption);
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
    use meltline_firmware::wire::{Point, Segment, VectorKind};

    fn vector(laser: u8, kind: VectorKind, (a, b, c, d): (i32, i32, i32, i32)) -> LayerVector {
        LayerVector {
            laser,
            kind,
            segment: Segment {
                from: Point::new(a, b),
                to: Point::new(c, d),
                chained: false,
            },
        }
    }

    fn support_square() -> Vec<LayerVector> {
        [(0, 0, 4000, 0), (4000, 0, 4000, 4000), (0, 4000, 0, 0)]
            .into_iter()
            .map(|s| vector(0, VectorKind::Support, s))
            .collect()
    }

    /// Laser 0 contours the left half of a square and laser 1 the right half, with one
    /// support along the bottom on laser 1.
    fn two_laser_square() -> Vec<LayerVector> {
        vec![
            vector(0, VectorKind::Contour, (0, 0, 0, 4000)),
            vector(0, VectorKind::Contour, (0, 4000, 2000, 4000)),
            vector(1, VectorKind::Contour, (2000, 4000, 4000, 4000)),
            vector(1, VectorKind::Contour, (4000, 4000, 4000, 0)),
            vector(1, VectorKind::Support, (4000, 0, 0, 0)),
        ]
    }

    fn caption() -> Caption {
        Caption {
            title: "job".into(),
            layer: 7,
            z_mm: 0.24,
            quantum_mm: 0.001,
        }
    }

    fn pixels_of(img: &[u8], rgb: [u8; 3]) -> usize {
        img.chunks_exact(3).filter(|p| *p == rgb).count()
    }

    #[test]
    fn svg_names_the_layer_and_height_and_has_a_scale_bar_and_legend() {
        let svg = layer_svg(&support_square(), ColourBy::Kind, 400, &caption());
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
    fn svg_by_laser_draws_each_laser_in_its_own_colour_and_the_legend_names_both() {
        let svg = layer_svg(&two_laser_square(), ColourBy::Laser, 400, &caption());
        let [l0, l1] = [hex_colour(LASER_COLOURS[0]), hex_colour(LASER_COLOURS[1])];
        assert_ne!(l0, l1);
        assert!(svg.contains(&format!(r#"<path stroke="{l0}""#)), "{svg}");
        assert!(svg.contains(&format!(r#"<path stroke="{l1}""#)), "{svg}");
        assert!(svg.contains(">laser 0 2<"), "{svg}");
        assert!(svg.contains(">laser 1 3<"), "{svg}");
        for (name, rgb, _) in [KINDS[0], KINDS[3]] {
            assert!(
                !svg.contains(&hex_colour(rgb)),
                "{name}'s colour in a picture by laser: {svg}"
            );
            assert!(!svg.contains(&format!(">{name} ")), "{svg}");
        }
    }

    #[test]
    fn svg_by_kind_of_a_two_laser_layer_keeps_the_kind_colours() {
        let svg = layer_svg(&two_laser_square(), ColourBy::Kind, 400, &caption());
        assert!(
            svg.contains(">contour 4<") && svg.contains(">support 1<"),
            "{svg}"
        );
        assert!(!svg.contains(">laser"), "{svg}");
        assert!(svg.contains(&format!(r#"stroke="{}""#, hex_colour(KINDS[0].1))));
    }

    #[test]
    fn supports_stay_twice_as_wide_when_coloured_by_laser() {
        let svg = layer_svg(&two_laser_square(), ColourBy::Laser, 400, &caption());
        let widths: Vec<(String, f64)> = svg
            .split("<path stroke=\"")
            .skip(1)
            .filter(|p| p.contains(" d=\"M"))
            .map(|p| {
                let colour = p[..7].to_string();
                let w = p
                    .split("stroke-width=\"")
                    .nth(1)
                    .and_then(|w| w.split('"').next())
                    .and_then(|w| w.parse().ok())
                    .unwrap_or(0.0);
                (colour, w)
            })
            .collect();
        // Laser 0's contours, laser 1's contours, laser 1's support.
        assert_eq!(widths.len(), 3, "{widths:?}");
        let l1 = hex_colour(LASER_COLOURS[1]);
        let contour = widths.iter().find(|(c, _)| *c == l1).map(|w| w.1);
        let support = widths.iter().rev().find(|(c, _)| *c == l1).map(|w| w.1);
        assert!(
            matches!((contour, support), (Some(c), Some(s)) if c > 0.0 && (s - 2.0 * c).abs() < 0.11),
            "{widths:?}"
        );
    }

    #[test]
    fn supports_are_drawn_two_pixels_wide_in_png() {
        let (w, h, img) = layer_rgb(&support_square(), ColourBy::Kind, 200, &caption());
        let orange = |x: u32, y: u32| img[((y * w + x) * 3) as usize..][..3] == [230, 85, 13];
        // Above the legend band, the column through the middle crosses the bottom edge only.
        let rows: Vec<u32> = (0..h - 22).filter(|y| orange(w / 2, *y)).collect();
        assert_eq!(rows.len(), 2, "one stroke two pixels wide: {rows:?}");
    }

    #[test]
    fn png_by_laser_has_pixels_of_each_lasers_colour_and_supports_two_pixels_wide() {
        let (w, h, img) = layer_rgb(&two_laser_square(), ColourBy::Laser, 200, &caption());
        assert!(pixels_of(&img, LASER_COLOURS[0]) > 100);
        assert!(pixels_of(&img, LASER_COLOURS[1]) > 100);
        assert_eq!(pixels_of(&img, KINDS[0].1), 0, "no contour red by laser");
        assert_eq!(pixels_of(&img, KINDS[3].1), 0, "no support orange by laser");
        let l1 = |x: u32, y: u32| img[((y * w + x) * 3) as usize..][..3] == LASER_COLOURS[1];
        // The middle column crosses the top contour (laser 1 right of the middle) and the
        // bottom support (laser 1), which is twice as wide.
        let column = w / 2 + 10;
        let rows: Vec<u32> = (0..h - 22).filter(|y| l1(column, *y)).collect();
        assert_eq!(
            rows.len(),
            3,
            "a contour one pixel and a support two: {rows:?}"
        );
    }

    #[test]
    fn lasers_past_the_palette_reuse_its_colours_without_failing() {
        let v = vec![
            vector(9, VectorKind::Hatch, (0, 0, 100, 0)),
            vector(255, VectorKind::Hatch, (0, 10, 100, 10)),
        ];
        let svg = layer_svg(&v, ColourBy::Laser, 200, &caption());
        assert!(
            svg.contains(">laser 9 1<") && svg.contains(">laser 255 1<"),
            "{svg}"
        );
        assert!(svg.contains(&hex_colour(LASER_COLOURS[1])), "{svg}");
        let (_, _, img) = layer_rgb(&v, ColourBy::Laser, 64, &caption());
        assert!(
            pixels_of(&img, LASER_COLOURS[7]) > 0,
            "laser 255 is drawn as laser 7"
        );
    }

    #[test]
    fn scale_bar_is_a_round_length_not_over_the_limit() {
        assert_eq!(scale_bar_mm(7.3), 5.0);
        assert_eq!(scale_bar_mm(0.01), 0.05);
    }
}
