//! An SVG picture of one layer: regions filled (core grey, upskin orange, downskin blue),
//! hatches and contours drawn, thin-wall edges in magenta, jumps dotted. Coordinates in mm,
//! y up (the picture is flipped so it looks like the build plate seen from above).

use std::fmt::Write as _;

use crate::job::{Geometry, Layer, Region, VectorKind};
use crate::polygon::{QUANTUM_MM, Shapes};

/// The SVG text of `layer`.
pub fn layer_svg(layer: &Layer) -> String {
    let q = QUANTUM_MM;
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in layer.section.iter().flatten().flatten() {
        let (x, y) = (p.x as f64 * q, p.y as f64 * q);
        lo = [lo[0].min(x), lo[1].min(y)];
        hi = [hi[0].max(x), hi[1].max(y)];
    }
    if lo[0] > hi[0] {
        lo = [-1.0, -1.0];
        hi = [1.0, 1.0];
    }
    let m = 0.05 * (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1.0);
    let (w, h) = (hi[0] - lo[0] + 2.0 * m, hi[1] - lo[1] + 2.0 * m);
    let stroke = (w.max(h) / 1500.0).max(0.005);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="{:.3} {:.3} {:.3} {:.3}" width="{:.0}mm" height="{:.0}mm">"#,
        lo[0] - m,
        -(hi[1] + m),
        w,
        h,
        w.max(10.0),
        h.max(10.0)
    );
    let _ = writeln!(
        s,
        "<title>layer {} z={:.4} mm area={:.4} mm²</title>",
        layer.index, layer.z_mm, layer.area_mm2
    );
    let _ = writeln!(s, r#"<g transform="scale(1,-1)" stroke-linecap="round">"#);
    for (shapes, fill) in [
        (&layer.regions.core, "#d0d0d0"),
        (&layer.regions.upskin, "#f4b183"),
        (&layer.regions.downskin, "#9dc3e6"),
    ] {
        area_path(&mut s, shapes, fill);
    }
    let mut last: Option<[i32; 2]> = None;
    for b in &layer.blocks {
        let colour = match (b.kind, b.region) {
            (VectorKind::Contour, _) => "#c00000",
            (VectorKind::Edge, _) => "#d000d0",
            (VectorKind::Support, _) => "#008000",
            (_, Region::Upskin) => "#b05000",
            (_, Region::Downskin) => "#1f4e79",
            _ => "#404040",
        };
        if let (Some(a), Some(st)) = (last, b.start()) {
            jump(&mut s, a, st, stroke);
        }
        match &b.geometry {
            Geometry::Polyline(pts) => {
                let _ = write!(
                    s,
                    r#"<polyline fill="none" stroke="{colour}" stroke-width="{:.4}" points=""#,
                    stroke * 1.5
                );
                for p in pts {
                    let _ = write!(s, "{:.3},{:.3} ", p[0] as f64 * q, p[1] as f64 * q);
                }
                let _ = writeln!(s, r#""/>"#);
            }
            Geometry::Vectors(v) => {
                let _ = write!(
                    s,
                    r#"<path fill="none" stroke="{colour}" stroke-width="{stroke:.4}" d=""#
                );
                for seg in v {
                    let _ = write!(
                        s,
                        "M{:.3} {:.3}L{:.3} {:.3}",
                        seg[0][0] as f64 * q,
                        seg[0][1] as f64 * q,
                        seg[1][0] as f64 * q,
                        seg[1][1] as f64 * q
                    );
                }
                let _ = writeln!(s, r#""/>"#);
                for w in v.windows(2) {
                    jump(&mut s, w[0][1], w[1][0], stroke);
                }
            }
        }
        last = b.end();
    }
    let _ = writeln!(s, "</g>\n</svg>");
    s
}

fn jump(s: &mut String, a: [i32; 2], b: [i32; 2], stroke: f64) {
    let q = QUANTUM_MM;
    let _ = writeln!(
        s,
        r##"<line x1="{:.3}" y1="{:.3}" x2="{:.3}" y2="{:.3}" stroke="#808080" stroke-width="{:.4}" stroke-dasharray="{:.4} {:.4}"/>"##,
        a[0] as f64 * q,
        a[1] as f64 * q,
        b[0] as f64 * q,
        b[1] as f64 * q,
        stroke * 0.5,
        stroke,
        stroke * 2.0
    );
}

fn area_path(s: &mut String, shapes: &Shapes, fill: &str) {
    if shapes.is_empty() {
        return;
    }
    let q = QUANTUM_MM;
    let _ = write!(
        s,
        r#"<path fill="{fill}" fill-rule="nonzero" stroke="none" d=""#
    );
    for c in shapes.iter().flatten() {
        for (i, p) in c.iter().enumerate() {
            let _ = write!(
                s,
                "{}{:.3} {:.3}",
                if i == 0 { "M" } else { "L" },
                p.x as f64 * q,
                p.y as f64 * q
            );
        }
        s.push('Z');
    }
    let _ = writeln!(s, r#""/>"#);
}
