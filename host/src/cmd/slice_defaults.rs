//! The help lines of `meltline slice`'s profile options, each ending with the value the
//! built-in Ti-6Al-4V profile uses when the option is not given (read from the profile
//! itself, so the help cannot drift from what slicing does).

use meltline_slicer::profile::{ProcessProfile, Strategy};

fn with_default(text: &str, value: String) -> String {
    format!("{text} [built-in profile: {value}]")
}

fn profile() -> ProcessProfile {
    ProcessProfile::ti6al4v()
}

/// `--layer`.
pub fn layer() -> String {
    with_default(
        "Layer thickness in mm",
        profile().layer_thickness_mm.to_string(),
    )
}

/// `--hatch`.
pub fn hatch() -> String {
    let p = profile();
    with_default(
        "Hatch distance in mm for core, upskin and downskin",
        format!(
            "core {}, upskin {}, downskin {}",
            p.core.hatch_mm, p.upskin.hatch_mm, p.downskin.hatch_mm
        ),
    )
}

/// `--strategy`.
pub fn strategy() -> String {
    let name = match profile().hatch.strategy {
        Strategy::Lines => "lines",
        Strategy::Stripes => "stripes",
        Strategy::Chessboard => "chessboard",
    };
    with_default("Hatch strategy: lines, stripes or chessboard", name.into())
}

/// `--rotation`.
pub fn rotation() -> String {
    with_default(
        "Hatch rotation per layer in degrees",
        profile().hatch.rotation_deg.to_string(),
    )
}

/// `--contours`.
pub fn contours() -> String {
    with_default("Number of contours", profile().contours.count.to_string())
}

/// `--beam-offset`.
pub fn beam_offset() -> String {
    with_default(
        "Beam offset (half the melt-track width) in mm",
        profile().contours.beam_offset_mm.to_string(),
    )
}

/// `--skin-layers`.
pub fn skin_layers() -> String {
    with_default(
        "Number of upskin/downskin layers",
        profile().skin_layers.to_string(),
    )
}
