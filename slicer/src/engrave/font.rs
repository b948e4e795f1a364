//! The built-in single-stroke font for serial numbers.
//!
//! Each glyph is a few polylines through points `(x, y)` of a unit cell: `x ∈ [0, 0.6]`
//! ([`CELL_WIDTH`]) from left to right, `y ∈ [0, 1]` from the baseline to the cap height, as
//! read from outside the part. A polyline of one point is a dot. Glyphs follow one another at
//! [`ADVANCE`] cell heights, so the gap between neighbours is `0.3·h − stroke` for a
//! character height `h`: 0.2 mm at the default 1.5 mm characters and 0.25 mm grooves.
//!
//! The character set is what serial numbers use: `A`–`Z`, `0`–`9`, `-`, `.`, `/` and the
//! space (no strokes). Round letters are octagons: at 1.5 mm a groove of 0.25 mm would fill
//! any finer curve. The zero carries a short slash so it never reads as `O`; the `1` has a
//! foot and a flag so it never reads as `I` (whose bars span the cell) or `7`.
//!
//! ```
//! use meltline_slicer::engrave::font::{glyph, CELL_WIDTH};
//! let h = glyph('H').unwrap();
//! assert_eq!(h.len(), 3); // two uprights and the bar
//! assert!(h.iter().flat_map(|s| s.iter()).all(|p| (0.0..=CELL_WIDTH).contains(&p[0])));
//! assert!(glyph('a').is_none()); // serials are upper case
//! ```

/// The glyph cell's width, in character heights.
pub const CELL_WIDTH: f64 = 0.6;

/// The distance from one glyph's cell to the next, in character heights.
pub const ADVANCE: f64 = 0.9;

/// A stroke: a polyline in cell coordinates.
pub type Stroke = &'static [[f64; 2]];

/// Every character of the font, in the order of the module documentation.
pub const CHARACTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-./ ";

/// The octagonal ring of `O`, `0` and `Q`.
const RING: Stroke = &[
    [0.15, 0.0],
    [0.0, 0.15],
    [0.0, 0.85],
    [0.15, 1.0],
    [0.45, 1.0],
    [0.6, 0.85],
    [0.6, 0.15],
    [0.45, 0.0],
    [0.15, 0.0],
];

/// The bowl of `P` and `R`.
const BOWL: Stroke = &[
    [0.0, 0.0],
    [0.0, 1.0],
    [0.45, 1.0],
    [0.6, 0.85],
    [0.6, 0.6],
    [0.45, 0.45],
    [0.0, 0.45],
];

/// The strokes of `c`, `None` for a character outside the font.
pub fn glyph(c: char) -> Option<&'static [Stroke]> {
    first_letters(c)
        .or_else(|| last_letters(c))
        .or_else(|| digit_or_sign(c))
}

/// The strokes of the letters `A`–`M`.
fn first_letters(c: char) -> Option<&'static [Stroke]> {
    let g: &'static [Stroke] = match c {
        'A' => &[
            &[[0.0, 0.0], [0.3, 1.0], [0.6, 0.0]],
            &[[0.1, 0.33], [0.5, 0.33]],
        ],
        'B' => &[
            &[
                [0.0, 0.5],
                [0.0, 1.0],
                [0.42, 1.0],
                [0.55, 0.87],
                [0.55, 0.63],
                [0.42, 0.5],
                [0.0, 0.5],
            ],
            &[
                [0.42, 0.5],
                [0.6, 0.37],
                [0.6, 0.13],
                [0.47, 0.0],
                [0.0, 0.0],
                [0.0, 0.5],
            ],
        ],
        'C' => &[&[
            [0.6, 0.85],
            [0.45, 1.0],
            [0.15, 1.0],
            [0.0, 0.85],
            [0.0, 0.15],
            [0.15, 0.0],
            [0.45, 0.0],
            [0.6, 0.15],
        ]],
        'D' => &[&[
            [0.0, 0.0],
            [0.0, 1.0],
            [0.35, 1.0],
            [0.6, 0.75],
            [0.6, 0.25],
            [0.35, 0.0],
            [0.0, 0.0],
        ]],
        'E' => &[
            &[[0.6, 1.0], [0.0, 1.0], [0.0, 0.0], [0.6, 0.0]],
            &[[0.0, 0.5], [0.45, 0.5]],
        ],
        'F' => &[
            &[[0.6, 1.0], [0.0, 1.0], [0.0, 0.0]],
            &[[0.0, 0.5], [0.45, 0.5]],
        ],
        'G' => &[&[
            [0.6, 0.85],
            [0.45, 1.0],
            [0.15, 1.0],
            [0.0, 0.85],
            [0.0, 0.15],
            [0.15, 0.0],
            [0.45, 0.0],
            [0.6, 0.15],
            [0.6, 0.45],
            [0.35, 0.45],
        ]],
        'H' => &[
            &[[0.0, 0.0], [0.0, 1.0]],
            &[[0.6, 0.0], [0.6, 1.0]],
            &[[0.0, 0.5], [0.6, 0.5]],
        ],
        'I' => &[
            &[[0.3, 0.0], [0.3, 1.0]],
            &[[0.0, 1.0], [0.6, 1.0]],
            &[[0.0, 0.0], [0.6, 0.0]],
        ],
        'J' => &[&[
            [0.6, 1.0],
            [0.6, 0.15],
            [0.45, 0.0],
            [0.15, 0.0],
            [0.0, 0.15],
            [0.0, 0.3],
        ]],
        'K' => &[
            &[[0.0, 0.0], [0.0, 1.0]],
            &[[0.6, 1.0], [0.0, 0.4]],
            &[[0.2, 0.6], [0.6, 0.0]],
        ],
        'L' => &[&[[0.0, 1.0], [0.0, 0.0], [0.6, 0.0]]],
        'M' => &[&[[0.0, 0.0], [0.0, 1.0], [0.3, 0.5], [0.6, 1.0], [0.6, 0.0]]],
        _ => return None,
    };
    Some(g)
}

/// The strokes of the letters `N`–`Z`.
fn last_letters(c: char) -> Option<&'static [Stroke]> {
    let g: &'static [Stroke] = match c {
        'N' => &[&[[0.0, 0.0], [0.0, 1.0], [0.6, 0.0], [0.6, 1.0]]],
        'O' => &[RING],
        'P' => &[BOWL],
        'Q' => &[RING, &[[0.35, 0.25], [0.6, 0.0]]],
        'R' => &[BOWL, &[[0.3, 0.45], [0.6, 0.0]]],
        'S' => &[&[
            [0.6, 0.85],
            [0.45, 1.0],
            [0.15, 1.0],
            [0.0, 0.85],
            [0.0, 0.65],
            [0.15, 0.5],
            [0.45, 0.5],
            [0.6, 0.35],
            [0.6, 0.15],
            [0.45, 0.0],
            [0.15, 0.0],
            [0.0, 0.15],
        ]],
        'T' => &[&[[0.0, 1.0], [0.6, 1.0]], &[[0.3, 1.0], [0.3, 0.0]]],
        'U' => &[&[
            [0.0, 1.0],
            [0.0, 0.15],
            [0.15, 0.0],
            [0.45, 0.0],
            [0.6, 0.15],
            [0.6, 1.0],
        ]],
        'V' => &[&[[0.0, 1.0], [0.3, 0.0], [0.6, 1.0]]],
        'W' => &[&[[0.0, 1.0], [0.15, 0.0], [0.3, 0.6], [0.45, 0.0], [0.6, 1.0]]],
        'X' => &[&[[0.0, 0.0], [0.6, 1.0]], &[[0.0, 1.0], [0.6, 0.0]]],
        'Y' => &[
            &[[0.0, 1.0], [0.3, 0.5], [0.6, 1.0]],
            &[[0.3, 0.5], [0.3, 0.0]],
        ],
        'Z' => &[&[[0.0, 1.0], [0.6, 1.0], [0.0, 0.0], [0.6, 0.0]]],
        _ => return None,
    };
    Some(g)
}

/// The strokes of the digits and of `-`, `.`, `/` and the space.
fn digit_or_sign(c: char) -> Option<&'static [Stroke]> {
    let g: &'static [Stroke] = match c {
        '0' => &[RING, &[[0.42, 0.7], [0.18, 0.3]]],
        '1' => &[
            &[[0.12, 0.8], [0.33, 1.0], [0.33, 0.0]],
            &[[0.1, 0.0], [0.56, 0.0]],
        ],
        '2' => &[&[
            [0.0, 0.85],
            [0.15, 1.0],
            [0.45, 1.0],
            [0.6, 0.85],
            [0.6, 0.62],
            [0.0, 0.0],
            [0.6, 0.0],
        ]],
        '3' => &[
            &[
                [0.0, 0.85],
                [0.15, 1.0],
                [0.45, 1.0],
                [0.6, 0.85],
                [0.6, 0.65],
                [0.45, 0.5],
                [0.2, 0.5],
            ],
            &[
                [0.45, 0.5],
                [0.6, 0.35],
                [0.6, 0.15],
                [0.45, 0.0],
                [0.15, 0.0],
                [0.0, 0.15],
            ],
        ],
        '4' => &[&[[0.45, 0.0], [0.45, 1.0], [0.0, 0.3], [0.6, 0.3]]],
        '5' => &[&[
            [0.6, 1.0],
            [0.0, 1.0],
            [0.0, 0.55],
            [0.45, 0.55],
            [0.6, 0.4],
            [0.6, 0.15],
            [0.45, 0.0],
            [0.15, 0.0],
            [0.0, 0.15],
        ]],
        '6' => &[&[
            [0.6, 0.85],
            [0.45, 1.0],
            [0.15, 1.0],
            [0.0, 0.85],
            [0.0, 0.15],
            [0.15, 0.0],
            [0.45, 0.0],
            [0.6, 0.15],
            [0.6, 0.4],
            [0.45, 0.55],
            [0.0, 0.55],
        ]],
        '7' => &[&[[0.0, 1.0], [0.6, 1.0], [0.2, 0.0]]],
        '8' => &[&[
            [0.15, 0.5],
            [0.0, 0.65],
            [0.0, 0.85],
            [0.15, 1.0],
            [0.45, 1.0],
            [0.6, 0.85],
            [0.6, 0.65],
            [0.45, 0.5],
            [0.15, 0.5],
            [0.0, 0.35],
            [0.0, 0.15],
            [0.15, 0.0],
            [0.45, 0.0],
            [0.6, 0.15],
            [0.6, 0.35],
            [0.45, 0.5],
        ]],
        '9' => &[&[
            [0.0, 0.15],
            [0.15, 0.0],
            [0.45, 0.0],
            [0.6, 0.15],
            [0.6, 0.85],
            [0.45, 1.0],
            [0.15, 1.0],
            [0.0, 0.85],
            [0.0, 0.6],
            [0.15, 0.45],
            [0.6, 0.45],
        ]],
        '-' => &[&[[0.1, 0.5], [0.5, 0.5]]],
        '.' => &[&[[0.3, 0.0]]],
        '/' => &[&[[0.0, 0.0], [0.6, 1.0]]],
        ' ' => &[],
        _ => return None,
    };
    Some(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_has_a_glyph_inside_its_cell() {
        for c in CHARACTERS.chars() {
            let g = glyph(c).unwrap_or_else(|| panic!("{c:?} missing"));
            for p in g.iter().flat_map(|s| s.iter()) {
                assert!((0.0..=CELL_WIDTH).contains(&p[0]), "{c:?} {p:?}");
                assert!((0.0..=1.0).contains(&p[1]), "{c:?} {p:?}");
            }
            assert_eq!(g.is_empty(), c == ' ', "{c:?}");
        }
    }
}
