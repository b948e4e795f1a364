//! Pictures of a layer's scan vectors: SVG text (for previews and the HTML report) and PNG
//! rasters. Colours by kind: contour red, hatch blue, edge purple, support grey, point green.

use std::fmt::Write;
use std::path::Path;

use meltline_firmware::wire::{Segment, VectorKind};

const COLOURS: [(&str, [u8; 3]); 5] = [
    ("#d62728", [214, 39, 40]),
    ("#1f77b4", [31, 119, 180]),
    ("#9467bd", [148, 103, 189]),
    ("#7f7f7f", [127, 127, 127]),
    ("#2ca02c", [44, 160, 44]),
];

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

/// An SVG picture `width` pixels wide (y up, as on the plate), one path per kind.
pub fn layer_svg(segments: &[(VectorKind, Segment)], width: u32, title: &str) -> String {
    let mut s = String::new();
    let Some(b) = bounds(segments) else {
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40"><text x="4" y="24">{title}: no vectors</text></svg>"#
        );
        return s;
    };
    let (w, h) = ((b[2] - b[0]).max(1) as f64, (b[3] - b[1]).max(1) as f64);
    let pad = 0.03 * w.max(h);
    let vw = w + 2.0 * pad;
    let vh = h + 2.0 * pad;
    let height = (f64::from(width) * vh / vw).ceil() as u32;
    let stroke = (vw / f64::from(width)).max(1.0);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="{} {} {vw} {vh}"><title>{title}</title><rect x="{}" y="{}" width="{vw}" height="{vh}" fill="white"/><g transform="scale(1,-1)" fill="none" stroke-width="{stroke:.1}" stroke-linecap="round">"#,
        b[0] as f64 - pad,
        -(b[3] as f64) - pad,
        b[0] as f64 - pad,
        -(b[3] as f64) - pad,
    );
    for (k, (colour, _)) in COLOURS.iter().enumerate() {
        let mut d = String::new();
        for (kind, seg) in segments.iter().filter(|(kind, _)| *kind as usize == k) {
            let _ = kind;
            let _ = write!(
                d,
                "M{} {}L{} {}",
                seg.from.x, seg.from.y, seg.to.x, seg.to.y
            );
        }
        if !d.is_empty() {
            let _ = write!(s, r#"<path stroke="{colour}" d="{d}"/>"#);
        }
    }
    s.push_str("</g></svg>");
    s
}

/// The largest picture side in pixels: 8192² RGB is 192 MiB, a bound no preview needs to pass.
pub const MAX_PICTURE_PX: u32 = 8192;

/// An RGB raster `size` pixels on its longer side (clamped to 16…[`MAX_PICTURE_PX`]).
pub fn layer_rgb(segments: &[(VectorKind, Segment)], size: u32) -> (u32, u32, Vec<u8>) {
    let size = size.clamp(16, MAX_PICTURE_PX);
    let Some(b) = bounds(segments) else {
        return (size, size, vec![255; (size * size * 3) as usize]);
    };
    let (w, h) = ((b[2] - b[0]).max(1) as f64, (b[3] - b[1]).max(1) as f64);
    let scale = f64::from(size - 8) / w.max(h);
    let (pw, ph) = (
        ((w * scale) as u32 + 8).max(16),
        ((h * scale) as u32 + 8).max(16),
    );
    let mut img = vec![255u8; (pw * ph * 3) as usize];
    let to_px = |x: i32, y: i32| {
        (
            (f64::from(x) - b[0] as f64) * scale + 4.0,
            f64::from(ph) - 4.0 - (f64::from(y) - b[1] as f64) * scale,
        )
    };
    for (kind, s) in segments {
        let colour = COLOURS[(*kind as usize).min(4)].1;
        let (x0, y0) = to_px(s.from.x, s.from.y);
        let (x1, y1) = to_px(s.to.x, s.to.y);
        let steps = (x1 - x0).abs().max((y1 - y0).abs()).ceil().max(1.0) as u32;
        for i in 0..=steps {
            let t = f64::from(i) / f64::from(steps);
            let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            if x >= 0.0 && y >= 0.0 && (x as u32) < pw && (y as u32) < ph {
                let at = ((y as u32 * pw + x as u32) * 3) as usize;
                img[at..at + 3].copy_from_slice(&colour);
            }
        }
    }
    (pw, ph, img)
}

/// Writes a PNG of the layer.
pub fn write_layer_png(
    segments: &[(VectorKind, Segment)],
    size: u32,
    path: &Path,
) -> std::io::Result<()> {
    let (w, h, rgb) = layer_rgb(segments, size);
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
