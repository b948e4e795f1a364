//! A 3×5 pixel capital font for the captions of raster pictures (layer number, height, scale,
//! legend) — enough to label a PNG without a font library.

/// Rows of a glyph, top first, three bits each (bit 2 = left column).
fn glyph(c: char) -> [u8; 5] {
    match c.to_ascii_uppercase() {
        '0' | 'O' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' | 'S' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        'A' => [2, 5, 7, 5, 5],
        'C' => [7, 4, 4, 4, 7],
        'D' => [6, 5, 5, 5, 6],
        'E' => [7, 4, 7, 4, 7],
        'G' => [7, 4, 5, 5, 7],
        'H' => [5, 5, 7, 5, 5],
        'I' => [7, 2, 2, 2, 7],
        'K' => [5, 5, 6, 5, 5],
        'L' => [4, 4, 4, 4, 7],
        'M' => [5, 7, 7, 5, 5],
        'N' => [6, 5, 5, 5, 5],
        'P' => [7, 5, 7, 4, 4],
        'R' => [6, 5, 6, 5, 5],
        'T' => [7, 2, 2, 2, 2],
        'U' => [5, 5, 5, 5, 7],
        'Y' => [5, 5, 2, 2, 2],
        'Z' => [7, 1, 2, 4, 7],
        '.' => [0, 0, 0, 0, 2],
        ':' => [0, 2, 0, 2, 0],
        '-' => [0, 0, 7, 0, 0],
        '=' => [0, 7, 0, 7, 0],
        _ => [0; 5],
    }
}

/// Width in pixels of `text` at `scale` (4 columns per character, the last one a space).
pub fn text_width(text: &str, scale: u32) -> u32 {
    text.chars().count() as u32 * 4 * scale
}

/// Draws `text` into an RGB image `w` pixels wide with its top-left corner at (`x`, `y`);
/// pixels outside the image are skipped.
pub fn draw_text(img: &mut [u8], w: u32, x: u32, y: u32, text: &str, scale: u32, rgb: [u8; 3]) {
    let h = img.len() as u32 / 3 / w.max(1);
    for (i, c) in text.chars().enumerate() {
        let x0 = x + i as u32 * 4 * scale;
        for (row, bits) in glyph(c).iter().enumerate() {
            for col in 0..3u32 {
                if bits & (4 >> col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (x0 + col * scale + dx, y + row as u32 * scale + dy);
                        if px < w && py < h {
                            let at = ((py * w + px) * 3) as usize;
                            img[at..at + 3].copy_from_slice(&rgb);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draw_text_sets_the_glyph_pixels_and_nothing_outside_them() {
        let (w, h) = (8u32, 6u32);
        let mut img = vec![255u8; (w * h * 3) as usize];
        draw_text(&mut img, w, 0, 0, "1", 1, [0, 0, 0]);
        let dark = |x: u32, y: u32| img[((y * w + x) * 3) as usize] == 0;
        // '1' = .#. / ##. / .#. / .#. / ###
        assert!(dark(1, 0) && !dark(0, 0) && dark(0, 1) && dark(0, 4) && dark(2, 4));
        assert!((0..h).all(|y| !dark(3, y)), "the fourth column is spacing");
    }
}
