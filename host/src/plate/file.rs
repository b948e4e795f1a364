//! The plate file: the machine, profile and spacing of a build, and its parts (cage specs,
//! optionally fitted to two vertebrae, or any mesh), each with a serial number. Paths are
//! relative to the plate file; unknown keys are refused by name.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use meltline_core::io::Units;
use serde::Deserialize;

use super::PlateError;

/// The least spacing between two parts' footprints a plate may ask for, mm: closer parts fuse
/// through the powder between them.
pub const MIN_SPACING_MM: f64 = 0.5;
/// The largest spacing a plate may ask for, mm.
pub const MAX_SPACING_MM: f64 = 50.0;
/// The most copies one `[[part]]` entry may ask for.
pub const MAX_COUNT: u32 = 100;

/// How parts are put on the plate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PlacementMode {
    /// Packed by meltline (see `place.rs`).
    #[default]
    Auto,
    /// Each part gives `at_mm` (and `rotation_deg`); checked like automatic placements.
    Manual,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlateToml {
    plate: PlateSection,
    #[serde(default, rename = "part")]
    parts: Vec<PartToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlateSection {
    machine: Option<String>,
    profile: Option<String>,
    #[serde(default = "default_spacing")]
    spacing_mm: f64,
    #[serde(default)]
    supports: bool,
    #[serde(default)]
    lift_mm: f64,
    #[serde(default)]
    placement: PlacementMode,
    #[serde(default)]
    laser_assignment: crate::lasers::Assignment,
}

fn default_spacing() -> f64 {
    3.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartToml {
    id: String,
    case: Option<String>,
    cage: Option<String>,
    upper: Option<String>,
    lower: Option<String>,
    units: Option<String>,
    mesh: Option<String>,
    coupon_mm: Option<[f64; 3]>,
    count: Option<u32>,
    at_mm: Option<[f64; 2]>,
    rotation_deg: Option<f64>,
}

/// What a part is made from.
#[derive(Debug, Clone, PartialEq)]
pub enum PartSource {
    /// A cage spec, optionally fitted to the upper and lower vertebrae.
    Cage {
        /// The spec (TOML).
        spec: PathBuf,
        /// The vertebrae and their units.
        vertebrae: Option<(PathBuf, PathBuf, Units)>,
    },
    /// A built-in test coupon: a block of `size_mm` (x, y, z) standing on its base.
    Coupon {
        /// Its size, mm.
        size_mm: [f64; 3],
    },
    /// Any mesh, in its units.
    Mesh {
        /// The file.
        path: PathBuf,
        /// Its units.
        units: Units,
    },
}

/// One part of the plate (a `count` entry expanded: ids suffixed `-1`, `-2`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct PlatePart {
    /// Serial number, unique on the plate.
    pub id: String,
    /// Patient or case reference.
    pub case: Option<String>,
    /// What it is made from.
    pub source: PartSource,
    /// Manual placement: the footprint's centre, mm.
    pub at_mm: Option<[f64; 2]>,
    /// Manual rotation about z, degrees.
    pub rotation_deg: Option<f64>,
}

/// A plate file, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateFile {
    /// The file.
    pub path: PathBuf,
    /// A machine TOML, or the built-in machine's name.
    pub machine: Option<PathBuf>,
    /// A process profile TOML; the built-in Ti-6Al-4V profile otherwise.
    pub profile: Option<PathBuf>,
    /// Least distance between two parts' footprints, mm.
    pub spacing_mm: f64,
    /// Supports under the parts.
    pub supports: bool,
    /// Lift of every part on supports, mm.
    pub lift_mm: f64,
    /// Automatic or manual placement.
    pub placement: PlacementMode,
    /// How the plate is shared between the machine's lasers (`by-region` unless named).
    pub laser_assignment: crate::lasers::Assignment,
    /// The parts, in file order.
    pub parts: Vec<PlatePart>,
}

fn parse_units(id: &str, text: Option<&str>) -> Result<Units, PlateError> {
    match text.unwrap_or("mm") {
        "mm" => Ok(Units::Mm),
        "m" => Ok(Units::M),
        "in" => Ok(Units::In),
        other => Err(PlateError::part(
            id,
            format!("units = {other:?}: give \"mm\", \"m\" or \"in\""),
        )),
    }
}

impl PlateFile {
    /// Reads and checks a plate file: every referenced file exists, ids are unique, numbers
    /// are in range, manual placements are complete.
    pub fn read(path: &Path) -> Result<PlateFile, PlateError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlateError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        PlateFile::parse(&text, path)
    }

    /// Parses plate text as if read from `path` (relative paths resolve against its folder).
    pub fn parse(text: &str, path: &Path) -> Result<PlateFile, PlateError> {
        let raw: PlateToml = toml::from_str(text).map_err(|e| PlateError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let p = &raw.plate;
        check_plate_numbers(path, p)?;
        if raw.parts.is_empty() {
            return Err(PlateError::Parse {
                path: path.to_path_buf(),
                message: "the plate has no [[part]]".into(),
            });
        }
        let mut parts = Vec::new();
        for t in &raw.parts {
            parts.extend(expand_part(t, dir, p.placement)?);
        }
        let mut seen = BTreeSet::new();
        for part in &parts {
            if !seen.insert(part.id.as_str()) {
                return Err(PlateError::DuplicateId {
                    id: part.id.clone(),
                });
            }
        }
        Ok(PlateFile {
            path: path.to_path_buf(),
            machine: p.machine.as_ref().map(|m| resolve_machine(dir, m)),
            profile: match &p.profile {
                Some(f) => Some(existing(dir, f, "plate", "profile")?),
                None => None,
            },
            spacing_mm: p.spacing_mm,
            supports: p.supports,
            lift_mm: p.lift_mm,
            placement: p.placement,
            laser_assignment: p.laser_assignment,
            parts,
        })
    }
}

/// A machine given by a file next to the plate, else by name (the built-in machine).
fn resolve_machine(dir: &Path, m: &str) -> PathBuf {
    let file = dir.join(m);
    if file.is_file() {
        file
    } else {
        PathBuf::from(m)
    }
}

fn check_plate_numbers(path: &Path, p: &PlateSection) -> Result<(), PlateError> {
    let bad = |message: String| PlateError::Parse {
        path: path.to_path_buf(),
        message,
    };
    if !(MIN_SPACING_MM..=MAX_SPACING_MM).contains(&p.spacing_mm) {
        return Err(bad(format!(
            "spacing_mm = {}: give {MIN_SPACING_MM}–{MAX_SPACING_MM} mm",
            p.spacing_mm
        )));
    }
    if !(p.lift_mm.is_finite() && p.lift_mm >= 0.0) {
        return Err(bad(format!(
            "lift_mm = {}: give zero or a positive height",
            p.lift_mm
        )));
    }
    if p.lift_mm > 0.0 && !p.supports {
        return Err(bad(format!(
            "lift_mm = {} needs supports = true: the parts would float over the plate",
            p.lift_mm
        )));
    }
    Ok(())
}

/// `rel` against `dir`, which must name an existing file.
fn existing(dir: &Path, rel: &str, id: &str, key: &str) -> Result<PathBuf, PlateError> {
    let p = dir.join(rel);
    if p.is_file() {
        Ok(p)
    } else {
        Err(PlateError::part(
            id,
            format!("{key} = {rel:?}: no such file ({})", p.display()),
        ))
    }
}

/// One `[[part]]` entry as its parts (`count` copies).
fn expand_part(
    t: &PartToml,
    dir: &Path,
    mode: PlacementMode,
) -> Result<Vec<PlatePart>, PlateError> {
    let id = t.id.trim();
    let serial_char = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    if id.is_empty() || id.starts_with('.') || !id.chars().all(serial_char) {
        return Err(PlateError::part(
            &t.id,
            "id must be a serial number of letters, digits, '-', '_' and '.' (it names the part's record file)",
        ));
    }
    let source = part_source(t, dir)?;
    let count = t.count.unwrap_or(1);
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(PlateError::part(
            id,
            format!("count = {count}: give 1–{MAX_COUNT}"),
        ));
    }
    check_manual(t, id, mode, count)?;
    Ok((1..=count)
        .map(|k| PlatePart {
            id: if t.count.is_some() {
                format!("{id}-{k}")
            } else {
                id.to_string()
            },
            case: t.case.clone(),
            source: source.clone(),
            at_mm: t.at_mm,
            rotation_deg: t.rotation_deg,
        })
        .collect())
}

/// Sides of a built-in coupon, mm.
const COUPON_MM: std::ops::RangeInclusive<f64> = 0.5..=100.0;

fn part_source(t: &PartToml, dir: &Path) -> Result<PartSource, PlateError> {
    let id = t.id.as_str();
    let units = parse_units(id, t.units.as_deref())?;
    if let Some(size_mm) = t.coupon_mm {
        if t.cage.is_some() || t.mesh.is_some() || t.upper.is_some() || t.lower.is_some() {
            return Err(PlateError::part(
                id,
                "a coupon (coupon_mm) has no cage, mesh or vertebrae",
            ));
        }
        if !size_mm.iter().all(|v| COUPON_MM.contains(v)) {
            return Err(PlateError::part(
                id,
                format!("coupon_mm = {size_mm:?}: each side must be 0.5–100 mm"),
            ));
        }
        return Ok(PartSource::Coupon { size_mm });
    }
    match (&t.cage, &t.mesh) {
        (Some(_), Some(_)) => Err(PlateError::part(id, "give either cage or mesh, not both")),
        (None, None) => Err(PlateError::part(
            id,
            "give a cage spec (cage), a mesh or a coupon (coupon_mm)",
        )),
        (None, Some(m)) => {
            if t.upper.is_some() || t.lower.is_some() {
                return Err(PlateError::part(
                    id,
                    "upper and lower fit a cage spec; a mesh part has none",
                ));
            }
            Ok(PartSource::Mesh {
                path: existing(dir, m, id, "mesh")?,
                units,
            })
        }
        (Some(c), None) => {
            let vertebrae = match (&t.upper, &t.lower) {
                (Some(u), Some(l)) => Some((
                    existing(dir, u, id, "upper")?,
                    existing(dir, l, id, "lower")?,
                    units,
                )),
                (None, None) => None,
                _ => {
                    return Err(PlateError::part(
                        id,
                        "give both upper and lower, or neither",
                    ));
                }
            };
            Ok(PartSource::Cage {
                spec: existing(dir, c, id, "cage")?,
                vertebrae,
            })
        }
    }
}

fn check_manual(t: &PartToml, id: &str, mode: PlacementMode, count: u32) -> Result<(), PlateError> {
    if let Some(at) = t.at_mm
        && !at.iter().all(|v| v.is_finite())
    {
        return Err(PlateError::part(id, "at_mm must be two finite numbers"));
    }
    if let Some(r) = t.rotation_deg
        && !r.is_finite()
    {
        return Err(PlateError::part(id, "rotation_deg must be a finite number"));
    }
    match mode {
        PlacementMode::Manual if t.at_mm.is_none() => Err(PlateError::part(
            id,
            "placement = \"manual\": every part needs at_mm",
        )),
        PlacementMode::Manual if count > 1 => Err(PlateError::part(
            id,
            "placement = \"manual\": copies (count) cannot share one at_mm",
        )),
        PlacementMode::Auto if t.at_mm.is_some() || t.rotation_deg.is_some() => Err(
            PlateError::part(id, "at_mm and rotation_deg need placement = \"manual\""),
        ),
        _ => Ok(()),
    }
}
