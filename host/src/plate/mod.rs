//! Build plates: many parts (patients' cages, coupons) on one plate, each with its serial
//! number. `file.rs` reads the plate file, `place.rs` puts the parts on the plate; this module
//! makes each part through the host pipeline (`crate::pipeline`) and stands it where its
//! placement says.

pub mod build;
pub mod file;
#[cfg(test)]
mod file_tests;
pub mod place;
#[cfg(test)]
mod place_tests;
pub mod spool;

use std::path::{Path, PathBuf};

use meltline_core::cage::{CageSpec, DesignOptions, MarkingFace, Vertebrae, measure_design};
use meltline_core::io::{ReadOptions, Units, read_mesh};
use meltline_core::mesh::Mesh;
use nalgebra::{Isometry3, Translation3, UnitQuaternion, Vector3};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::pipeline::{Part, Pipeline};
use crate::report::DesignFigures;
pub use file::{PartSource, PlacementMode, PlateFile, PlatePart};
pub use place::{Footprint, Placement, PlacementError};

/// Why a plate cannot be made. Errors about one part name it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlateError {
    /// The plate file cannot be read.
    #[error("cannot read the plate file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The plate file is not a valid plate (TOML, unknown keys, numbers out of range).
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Two parts share a serial number.
    #[error("part {id}: the serial number is used twice on the plate")]
    DuplicateId {
        /// The serial.
        id: String,
    },
    /// One part is wrong (a missing file, a bad value, a mesh that is not printable).
    #[error("part {id}: {message}")]
    Part {
        /// The serial.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// The parts cannot stand on the plate as asked.
    #[error(transparent)]
    Placement(#[from] PlacementError),
    /// The plate cannot be shared between the machine's lasers (nothing is written).
    #[error("the plate cannot be planned on the machine's lasers: {0}")]
    Lasers(String),
}

impl PlateError {
    /// An error about part `id`.
    pub fn part(id: &str, message: impl Into<String>) -> PlateError {
        PlateError::Part {
            id: id.to_string(),
            message: message.into(),
        }
    }
}

/// A part as made: the mesh and, for a designed cage, what its record needs of the design.
#[derive(Debug, Clone)]
pub struct MadePart {
    /// The part (its mesh standing on z = 0, centred on x = y = 0).
    pub part: Part,
    /// SHA-256 of the cage spec file (designed parts).
    pub spec_sha256: Option<String>,
    /// The design's porosity, feature sizes and fit (designed parts).
    pub design: Option<DesignFigures>,
    /// Where its serial goes (designed parts: the face its spec names, in its own frame).
    pub marking: Option<MarkingRequest>,
}

/// The face and size a cage spec asks its serial to be engraved with.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkingRequest {
    /// The face, as the spec names it.
    pub face: MarkingFace,
    /// Its outward direction (x, y) in the cage's own frame; `None`: any face with room.
    pub normal: Option<[f64; 2]>,
    /// Character height, mm.
    pub char_height_mm: f64,
}

impl MarkingRequest {
    /// What `spec` asks for.
    pub fn of(spec: &CageSpec) -> MarkingRequest {
        MarkingRequest {
            face: spec.marking.face,
            normal: spec.marking.face.outward_normal(spec),
            char_height_mm: spec.marking.char_height_mm,
        }
    }
}

/// A part made and standing on the plate.
#[derive(Debug, Clone)]
pub struct PlacedPart {
    /// The plate file's entry.
    pub entry: PlatePart,
    /// The part, its mesh in the plate frame (standing on z = 0 where its placement says).
    pub part: Part,
    /// SHA-256 of the cage spec file (designed parts).
    pub spec_sha256: Option<String>,
    /// The design's porosity, feature sizes and fit (designed parts).
    pub design: Option<DesignFigures>,
    /// Where its serial goes (designed parts: the face its spec names, in its own frame).
    pub marking: Option<MarkingRequest>,
    /// Where it stands.
    pub placement: Placement,
    /// Its height above its own bottom, mm.
    pub height_mm: f64,
    /// Where its mesh waits, unplaced, until it is sliced (see [`make_plate`]); `part.mesh`
    /// is empty meanwhile.
    pub mesh_file: Option<PathBuf>,
}

impl PlacedPart {
    /// The turn and shift that stand the part where its placement says.
    pub fn isometry(&self) -> Isometry3<f64> {
        placement_isometry(&self.placement)
    }

    /// Brings the mesh back from its file and stands it where its placement says (a part
    /// whose mesh is in memory is left as it is).
    pub fn load_mesh(&mut self) -> Result<(), PlateError> {
        let Some(path) = self.mesh_file.take() else {
            return Ok(());
        };
        let id = self.entry.id.clone();
        let mut part =
            Part::read(&path, Units::Mm).map_err(|e| PlateError::part(&id, e.to_string()))?;
        part.mesh.transform_isometry(&self.isometry());
        part.name = id;
        self.part = part;
        Ok(())
    }
}

fn placement_isometry(placement: &Placement) -> Isometry3<f64> {
    Isometry3::from_parts(
        Translation3::new(placement.at_mm[0], placement.at_mm[1], 0.0),
        UnitQuaternion::from_axis_angle(&Vector3::z_axis(), placement.rotation_deg.to_radians()),
    )
}

/// One part's row of the plate report.
#[derive(Debug, Clone, Serialize)]
pub struct PartRow {
    /// Serial number.
    pub id: String,
    /// Case reference.
    pub case: Option<String>,
    /// Reference point, mm.
    pub x_mm: f64,
    /// Reference point, mm.
    pub y_mm: f64,
    /// Turn about z, degrees.
    pub rotation_deg: f64,
    /// The placed footprint's outline, mm.
    pub footprint_mm: Vec<[f64; 2]>,
    /// First and last layer the part is in.
    pub layers: [usize; 2],
    /// Vectors of the part.
    pub vectors: u64,
    /// SHA-256 of the part's source (mesh file, or the designed mesh).
    pub mesh_sha256: String,
}

impl PlacedPart {
    /// The part's row of the plate report: it is in layers `0..layers` (every part stands on
    /// the plate, or on supports from it) with `vectors` vectors.
    pub fn row(&self, layers: usize, vectors: u64) -> PartRow {
        PartRow {
            id: self.entry.id.clone(),
            case: self.entry.case.clone(),
            x_mm: self.placement.at_mm[0],
            y_mm: self.placement.at_mm[1],
            rotation_deg: self.placement.rotation_deg,
            footprint_mm: self.placement.outline_mm().into_iter().flatten().collect(),
            layers: [0, layers.saturating_sub(1)],
            vectors,
            mesh_sha256: crate::jobfile::hex(&self.part.source_sha256),
        }
    }
}

/// Makes one part from its entry (designs a cage, fitted when vertebrae are given, or reads
/// the mesh) and checks it on the pipeline's machine.
pub fn make_part(entry: &PlatePart, pipeline: &Pipeline) -> Result<MadePart, PlateError> {
    let id = entry.id.as_str();
    let mut made = match &entry.source {
        PartSource::Mesh { path, units } => MadePart {
            part: Part::read(path, *units).map_err(|e| PlateError::part(id, e.to_string()))?,
            spec_sha256: None,
            design: None,
            marking: None,
        },
        PartSource::Cage { spec, vertebrae } => design_part(id, spec, vertebrae.as_ref())?,
        PartSource::Coupon { size_mm } => MadePart {
            part: Part::from_mesh(id, Mesh::axis_aligned_box([0.0; 3], *size_mm)),
            spec_sha256: None,
            design: None,
            marking: None,
        },
    };
    made.part.name = id.to_string();
    pipeline
        .admit(&made.part)
        .map_err(|e| PlateError::part(id, e.to_string()))?;
    stand_at_origin(&mut made.part.mesh);
    Ok(made)
}

/// Designs a cage part from its spec file, fitted to the vertebrae when given, and measures
/// the design for its record.
fn design_part(
    id: &str,
    spec_path: &Path,
    vertebrae: Option<&(PathBuf, PathBuf, Units)>,
) -> Result<MadePart, PlateError> {
    let bytes = std::fs::read(spec_path)
        .map_err(|e| PlateError::part(id, format!("{}: {e}", spec_path.display())))?;
    let text = String::from_utf8_lossy(&bytes);
    let spec = CageSpec::from_toml_str(&text, &spec_path.display().to_string())
        .map_err(|e| PlateError::part(id, e.to_string()))?;
    let pair = match vertebrae {
        Some((u, l, units)) => {
            let o = ReadOptions::with_units(*units);
            let read =
                |p: &PathBuf| read_mesh(p, &o).map_err(|e| PlateError::part(id, e.to_string()));
            Some((read(u)?, read(l)?))
        }
        None => None,
    };
    let vert = || pair.as_ref().map(|(u, l)| Vertebrae { upper: u, lower: l });
    let (part, design) = Part::designed(id, &spec, vert(), &DesignOptions::default())
        .map_err(|e| PlateError::part(id, e.to_string()))?;
    let measured = measure_design(&design, vert());
    Ok(MadePart {
        part,
        spec_sha256: Some(crate::jobfile::hex(&Sha256::digest(&bytes))),
        design: Some(DesignFigures::of(&measured)),
        marking: Some(MarkingRequest::of(&spec)),
    })
}

/// Moves a mesh so it stands on z = 0 with its bounding box centred on x = y = 0.
fn stand_at_origin(mesh: &mut meltline_core::mesh::Mesh) {
    let (lo, hi) = mesh_bounds(mesh);
    mesh.translate(Vector3::new(
        -(lo[0] + hi[0]) / 2.0,
        -(lo[1] + hi[1]) / 2.0,
        -lo[2],
    ));
}

fn mesh_bounds(mesh: &meltline_core::mesh::Mesh) -> ([f64; 3], [f64; 3]) {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for v in &mesh.vertices {
        for k in 0..3 {
            lo[k] = lo[k].min(v[k]);
            hi[k] = hi[k].max(v[k]);
        }
    }
    (lo, hi)
}

/// Makes every part, places them (automatically or as the file says) on the machine's field
/// and stands each mesh where its placement says. With `mesh_dir`, each part's mesh is
/// written there (binary STL) as soon as its footprint is known and dropped from memory, to be
/// read back when the part is sliced ([`PlacedPart::load_mesh`]): memory then holds one
/// part's mesh, not the plate's.
pub fn make_plate(
    plate: &PlateFile,
    pipeline: &Pipeline,
    field_half_mm: f64,
    mesh_dir: Option<&Path>,
) -> Result<Vec<PlacedPart>, PlateError> {
    let mut made: Vec<(PlatePart, MadePart, Footprint, f64, Option<PathBuf>)> =
        Vec::with_capacity(plate.parts.len());
    for (k, entry) in plate.parts.iter().enumerate() {
        // Copies of one entry (`count`) are one design: made once, its mesh file shared.
        if let Some((prev, part, f, height_mm, file)) = made.last()
            && prev.source == entry.source
        {
            let mut part = part.clone();
            part.part.name = entry.id.clone();
            let copy = (entry.clone(), part, f.clone(), *height_mm, file.clone());
            made.push(copy);
            continue;
        }
        let mut part = make_part(entry, pipeline)?;
        let f = place::footprint(&part.part.mesh, [0.0, 0.0]);
        if f.shapes.is_empty() {
            return Err(PlateError::part(&entry.id, "the part has no footprint"));
        }
        let height_mm = mesh_bounds(&part.part.mesh).1[2];
        let file = match mesh_dir {
            Some(dir) => {
                let path = dir.join(format!("part-{k:03}.stl"));
                meltline_core::io::write_stl(
                    &path,
                    &part.part.mesh,
                    meltline_core::io::StlFormat::Binary,
                )
                .map_err(|e| PlateError::part(&entry.id, format!("spooling its mesh: {e}")))?;
                part.part.mesh = Mesh::default();
                Some(path)
            }
            None => None,
        };
        made.push((entry.clone(), part, f, height_mm, file));
    }
    let placements = match plate.placement {
        PlacementMode::Auto => {
            let parts: Vec<(String, Footprint)> = made
                .iter()
                .map(|(e, _, f, _, _)| (e.id.clone(), f.clone()))
                .collect();
            let zones: Vec<[f64; 4]> = pipeline
                .options
                .machine
                .all_lasers()
                .map(|l| l.field_um.map(|v| f64::from(v) / 1000.0))
                .collect();
            place::place_auto(
                &parts,
                field_half_mm - place::FIELD_MARGIN_MM,
                plate.spacing_mm,
                &zones,
            )?
        }
        PlacementMode::Manual => {
            let parts: Vec<_> = made
                .iter()
                .map(|(e, _, f, _, _)| {
                    (
                        e.id.clone(),
                        f.clone(),
                        e.at_mm.unwrap_or_default(),
                        e.rotation_deg.unwrap_or(0.0),
                    )
                })
                .collect();
            place::place_manual(
                &parts,
                field_half_mm - place::FIELD_MARGIN_MM,
                plate.spacing_mm,
            )?
        }
    };
    Ok(made
        .into_iter()
        .zip(placements)
        .map(|((entry, made, _, height_mm, mesh_file), placement)| {
            let MadePart {
                mut part,
                spec_sha256,
                design,
                marking,
            } = made;
            if mesh_file.is_none() {
                part.mesh
                    .transform_isometry(&placement_isometry(&placement));
            }
            PlacedPart {
                entry,
                part,
                spec_sha256,
                design,
                marking,
                placement,
                height_mm,
                mesh_file,
            }
        })
        .collect())
}
