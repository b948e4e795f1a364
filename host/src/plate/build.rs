//! Slicing a plate: each placed part through the host pipeline on its own (its supports, its
//! warnings, its vector count), its layers spooled to a job file of its own and its mesh and
//! slicer dropped as soon as it is sliced (see [`super::spool`]); the spools are then joined
//! into the plate's layers in part order.

use std::borrow::Cow;
use std::path::Path;

use meltline_firmware::job::PartSpec;
use meltline_slicer::engrave::{Engraving, FaceOptions};
use meltline_slicer::job::{JobHeader, Layer};
use meltline_slicer::polygon::bounds;
use sha2::{Digest, Sha256};

use super::spool::Spool;
use super::{PlacedPart, PlateError};
use crate::mlj::{MljOptions, write_mlj_layers};
use crate::pipeline::{Pipeline, PipelineError};

/// How far (µm, one quantum each) a part's declared footprint box reaches beyond its placed
/// footprint: room for the rounding of contour offsets, never enough to reach a neighbour
/// (parts stand at least `spacing_mm` apart).
pub const FOOTPRINT_MARGIN_QUANTA: i32 = 50;

/// One part's share of the plate's layers.
#[derive(Debug, Clone)]
pub struct PartLayers {
    /// The part's layers, coded, in a job file of its own.
    pub spool: Spool,
    /// Cross-section area per layer, mm².
    pub area_mm2: Vec<f64>,
    /// Where its serial is engraved, or why it is not.
    pub marking: String,
    /// Vectors of the part in all.
    pub vectors: u64,
    /// What the slicer noticed (supports it could not build, thin walls…), in its words.
    pub warnings: Vec<String>,
}

/// The part's serial, and a note when it is not where its spec asks: on the face the spec
/// names (turned with the part), in the spec's character height or smaller down to
/// [`MIN_MARKING_HEIGHT_MM`]; failing that, on another vertical face with room. A part
/// without a spec takes any face with room, largest first.
fn serial_engraving(placed: &PlacedPart) -> Result<(Engraving, Option<String>), String> {
    let id = placed.entry.id.as_str();
    let mesh = &placed.part.mesh;
    let Some(request) = &placed.marking else {
        return Engraving::on_mesh(id, mesh, &FaceOptions::new())
            .map(|e| (e, None))
            .map_err(|no| no.to_string());
    };
    let Some([x, y]) = request.normal else {
        return shrinking(id, request.char_height_mm, mesh, &FaceOptions::new()).map(|e| (e, None));
    };
    let (s, c) = placed.placement.rotation_deg.to_radians().sin_cos();
    let normal = [c * x - s * y, s * x + c * y];
    let named = request.face.name();
    match shrinking(id, request.char_height_mm, mesh, &FaceOptions::new().only_facing(normal)) {
        Ok(e) => Ok((e, None)),
        Err(on_named) => shrinking(id, request.char_height_mm, mesh, &FaceOptions::new().preferring(normal))
            .map(|e| {
                (
                    e,
                    Some(format!(
                        "serial not on the {named} face its spec names ({on_named}); engraved on another face"
                    )),
                )
            })
            .map_err(|no| format!("no face has room, the {named} face its spec names included: {no}")),
    }
}

/// `text` on a face `options` allow, `char_height_mm` high or smaller in steps of
/// [`MARKING_STEP_MM`] down to [`MIN_MARKING_HEIGHT_MM`]; the last refusal when none fits.
fn shrinking(
    text: &str,
    char_height_mm: f64,
    mesh: &meltline_core::mesh::Mesh,
    options: &FaceOptions,
) -> Result<Engraving, String> {
    let mut height = char_height_mm;
    loop {
        match Engraving::sized(text, height).placed_on(mesh, options) {
            Ok(e) => return Ok(e),
            Err(no) if height - MARKING_STEP_MM < MIN_MARKING_HEIGHT_MM - 1e-9 => {
                return Err(format!("even {height:.1} mm high, {no}"));
            }
            Err(_) => height -= MARKING_STEP_MM,
        }
    }
}

/// The smallest character height a serial is engraved with, mm (the cage spec's lower limit).
const MIN_MARKING_HEIGHT_MM: f64 = 1.0;
/// How much smaller each further try at a serial's letters is, mm.
const MARKING_STEP_MM: f64 = 0.1;

/// Slices one placed part (standing in the plate frame) into its spool `spool_path`; its
/// mesh is dropped.
pub fn slice_part(
    placed: &mut PlacedPart,
    pipeline: &Pipeline,
    spool_path: &Path,
    opts: &MljOptions,
) -> Result<(JobHeader, PartLayers), PlateError> {
    let id = placed.entry.id.clone();
    placed.load_mesh()?;
    let mut pipeline = pipeline.clone();
    let (marking, unmarked) = match serial_engraving(placed) {
        Ok((e, note)) => {
            let [nx, ny] = e.face.normal;
            let text = format!(
                "serial engraved {:.1} mm high, {:.2} mm deep, on the vertical face at ({:.2}, {:.2}) mm facing ({nx:.2}, {ny:.2}), centred at z {:.2} mm",
                e.char_height_mm, e.depth_mm, e.face.origin[0], e.face.origin[1], e.z_centre_mm
            );
            pipeline.options.engraving = Some(e);
            (text, note)
        }
        Err(no) => (
            format!("serial not engraved: {no}"),
            Some(format!("serial not engraved: {no}")),
        ),
    };
    let slicer = pipeline.slicer(&placed.part).map_err(|e| match e {
        PipelineError::Slice { source, .. } => PlateError::part(&id, source.to_string()),
        e => PlateError::part(&id, e.to_string()),
    })?;
    placed.part.mesh = meltline_core::mesh::Mesh::default();
    drop(pipeline);
    let mut area_mm2 = Vec::new();
    let mut vectors = 0u64;
    let layers = slicer.layers().map(|l: Layer| {
        vectors += l
            .blocks
            .iter()
            .map(|b| b.vector_count() as u64)
            .sum::<u64>();
        area_mm2.push(l.area_mm2);
        Cow::Owned(l)
    });
    write_mlj_layers(slicer.header(), layers, spool_path, opts)
        .map_err(|e| PlateError::part(&id, format!("spooling its layers: {e}")))?;
    let mut warnings = slicer.warnings().to_vec();
    warnings.extend(unmarked);
    let out = PartLayers {
        spool: Spool {
            path: spool_path.to_path_buf(),
            layers: area_mm2.len(),
        },
        area_mm2,
        marking,
        vectors,
        warnings,
    };
    Ok((slicer.header().clone(), out))
}

/// The part-table entry of a placed part: serial, case, placement and the box its vectors
/// keep to (its placed footprint's bounds, [`FOOTPRINT_MARGIN_QUANTA`] wider all round).
pub fn part_spec(placed: &PlacedPart) -> PartSpec {
    let q = |mm: f64| (mm / meltline_slicer::polygon::QUANTUM_MM).round() as i32;
    let footprint = match bounds(&placed.placement.shapes) {
        Some((lo, hi)) => {
            let m = FOOTPRINT_MARGIN_QUANTA;
            [
                lo.x.saturating_sub(m),
                lo.y.saturating_sub(m),
                hi.x.saturating_add(m),
                hi.y.saturating_add(m),
            ]
        }
        None => [0, 0, -1, -1],
    };
    PartSpec {
        serial: placed.entry.id.clone(),
        case: placed.entry.case.clone().unwrap_or_default(),
        centre: [q(placed.placement.at_mm[0]), q(placed.placement.at_mm[1])],
        rotation_mdeg: (placed.placement.rotation_deg * 1000.0).round() as i32,
        footprint,
    }
}

/// The plate's header: the first part's machine, material and parameter sets (one profile
/// for the plate), the tallest part's layer count, the union of the bounds, and as the source
/// hash the SHA-256 of the parts' source hashes in plate order.
pub fn plate_header(headers: &[JobHeader], parts: &[PlacedPart]) -> Option<JobHeader> {
    let mut h = headers.first()?.clone();
    h.layer_count = headers.iter().map(|x| x.layer_count).max().unwrap_or(0);
    h.placement_mm = [0.0; 3];
    for x in &headers[1..] {
        for k in 0..3 {
            h.bounds_mm[0][k] = h.bounds_mm[0][k].min(x.bounds_mm[0][k]);
            h.bounds_mm[1][k] = h.bounds_mm[1][k].max(x.bounds_mm[1][k]);
        }
    }
    let mut sha = Sha256::new();
    for p in parts {
        sha.update(p.part.source_sha256);
    }
    h.source_sha256 = sha.finalize().into();
    Some(h)
}

/// A plate made, placed, sliced and written.
#[derive(Debug)]
pub struct BuiltPlate {
    /// The parts as placed (their meshes dropped).
    pub placed: Vec<PlacedPart>,
    /// Each part's layers and figures, in part order.
    pub sliced: Vec<PartLayers>,
    /// The plate job's header.
    pub header: JobHeader,
    /// What was written.
    pub summary: meltline_firmware::job::JobSummary,
    /// On a machine of several lasers, the plan the written job carries.
    pub lasers: Option<crate::lasers::PlanSummary>,
}

/// The pipeline a plate file asks for on `machine`: its profile (or the built-in Ti-6Al-4V),
/// its supports and lift, parts standing where the placement puts them.
pub fn plate_pipeline(
    plate: &super::PlateFile,
    machine: meltline_firmware::machine::MachineConfig,
) -> Result<Pipeline, PlateError> {
    use meltline_slicer::job::SlicerOptions;
    use meltline_slicer::profile::ProcessProfile;
    let profile = match &plate.profile {
        Some(p) => ProcessProfile::from_file(p)
            .map_err(|e| PlateError::part("the plate's profile", e.to_string()))?,
        None => ProcessProfile::ti6al4v(),
    };
    Ok(Pipeline {
        profile,
        options: SlicerOptions {
            supports: plate.supports,
            lift_mm: plate.lift_mm,
            center_xy: false,
            machine,
            ..SlicerOptions::default()
        },
        admission: crate::pipeline::Admission::Printable,
    })
}

/// Makes, places and slices every part of `plate` and writes the plate job to `output`
/// (parts spooled in a temporary folder beside it); `progress` hears each stage. Nothing is
/// written when a part is refused or the parts do not fit. On a machine of several lasers the
/// job is planned onto them (the plate's `laser_assignment`) and written with every block
/// naming its laser; nothing is written when it cannot be planned.
pub fn build_plate(
    plate: &super::PlateFile,
    pipeline: &Pipeline,
    output: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<BuiltPlate, PlateError> {
    let t0 = std::time::Instant::now();
    let half_mm = f64::from(pipeline.options.machine.field_half_um) / 1000.0;
    let dir = spool_dir(output)?;
    let mut placed = super::make_plate(plate, pipeline, half_mm, Some(dir.path()))?;
    progress(&format!(
        "{} parts made and placed in {:.1} s",
        placed.len(),
        t0.elapsed().as_secs_f64()
    ));
    let machine = &pipeline.options.machine;
    let several = machine.laser_count() > 1;
    let mut mopts = MljOptions::for_machine(machine);
    if several {
        // The parts and the joined job name no laser yet; the assigned job is held to the
        // lasers' fields when it is written.
        mopts.lasers = None;
    }
    let mut headers = Vec::with_capacity(placed.len());
    let mut sliced = Vec::with_capacity(placed.len());
    let mut needs: Vec<u64> = Vec::new();
    for (k, p) in placed.iter_mut().enumerate() {
        let spool = dir.path().join(format!("part-{k:03}.mlj"));
        let (h, layers) = slice_part(p, pipeline, &spool, &mopts)?;
        add_layer_needs(
            &mut needs,
            &layers.spool,
            &p.entry.id,
            k + 1,
            mopts.layer_memory as u64,
        )?;
        for w in &layers.warnings {
            progress(&format!("warning: {}: {w}", p.entry.id));
        }
        headers.push(h);
        sliced.push(layers);
    }
    let header = plate_header(&headers, &placed)
        .ok_or_else(|| PlateError::part("the plate", "it has no parts"))?;
    progress(&format!(
        "{} parts sliced ({} layers) in {:.1} s",
        sliced.len(),
        header.layer_count,
        t0.elapsed().as_secs_f64()
    ));
    let table: Vec<_> = placed.iter().map(part_spec).collect();
    let spools: Vec<_> = sliced.iter().map(|l| l.spool.clone()).collect();
    let joined = if several {
        dir.path().join("plate-unassigned.mlj")
    } else {
        output.to_path_buf()
    };
    let mut summary = super::spool::join(&header, &table, &spools, &joined, &mopts)
        .map_err(|e| name_part(e, &placed))?;
    let mut lasers = None;
    if several {
        let t = std::time::Instant::now();
        let (plan, assigned) =
            crate::lasers::write::assign_file(&joined, output, machine, plate.laser_assignment)
                .map_err(|e| PlateError::Lasers(e.to_string()))?;
        let s = plan.summary();
        progress(&format!(
            "{} (written in {:.1} s)",
            s.line(),
            t.elapsed().as_secs_f64()
        ));
        summary = assigned;
        lasers = Some(s);
    }
    Ok(BuiltPlate {
        placed,
        sliced,
        header,
        summary,
        lasers,
    })
}

/// Adds a part's layers to what the plate's layers need of the controller's layer memory and
/// refuses the plate as soon as one overflows it, before the remaining parts are sliced.
fn add_layer_needs(
    needs: &mut Vec<u64>,
    spool: &Spool,
    id: &str,
    parts_so_far: usize,
    limit: u64,
) -> Result<(), PlateError> {
    let part = spool
        .layer_needs()
        .map_err(|e| PlateError::part(id, format!("reading its spool: {e}")))?;
    if needs.len() < part.len() {
        needs.resize(part.len(), 0);
    }
    for (n, p) in needs.iter_mut().zip(&part) {
        *n += p;
    }
    if let Some((layer, need)) = needs.iter().enumerate().find(|(_, n)| **n > limit) {
        return Err(PlateError::part(
            id,
            format!(
                "with it the first {parts_so_far} parts need {need} bytes of the controller's layer memory at layer {layer}, which holds {limit}: the printer would refuse the plate (fewer parts on it, or coarser meshes); nothing is written"
            ),
        ));
    }
    Ok(())
}

/// A temporary folder beside the job for the parts' spools (removed when dropped).
fn spool_dir(output: &Path) -> Result<tempfile::TempDir, PlateError> {
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".meltline-plate-")
        .tempdir_in(parent)
        .map_err(|e| {
            PlateError::part(
                "the plate",
                format!("cannot create a spool folder in {}: {e}", parent.display()),
            )
        })
}

/// A job error naming a part by index, reworded to name it by serial.
fn name_part(e: crate::mlj::MljError, placed: &[PlacedPart]) -> PlateError {
    use crate::mlj::MljError;
    use meltline_firmware::job::JobError;
    use meltline_firmware::wire::part::PartError;
    if let MljError::Encode {
        source:
            JobError::Part {
                layer,
                source: PartError::Outside { part, x, y },
            },
        ..
    } = &e
        && let Some(p) = placed.get(usize::from(*part))
    {
        return PlateError::part(
            &p.entry.id,
            format!(
                "layer {layer}: a vector reaches ({:.3}, {:.3}) mm, outside the part's declared footprint; nothing written",
                f64::from(*x) / 1000.0,
                f64::from(*y) / 1000.0
            ),
        );
    }
    PlateError::part("the plate job", e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Admission, Part};
    use meltline_core::mesh::Mesh;
    use meltline_firmware::machine::MachineConfig;
    use meltline_slicer::job::SlicerOptions;
    use meltline_slicer::profile::ProcessProfile;

    /// A 6 × 6 × 0.3 mm coupon sliced into a spool in `dir`.
    fn coupon_spool(dir: &Path, name: &str) -> Spool {
        let pipeline = Pipeline {
            profile: ProcessProfile::ti6al4v(),
            options: SlicerOptions {
                center_xy: true,
                machine: MachineConfig::default(),
                ..SlicerOptions::default()
            },
            admission: Admission::Printable,
        };
        let part = Part::from_mesh(name, Mesh::axis_aligned_box([0.0; 3], [6.0, 6.0, 0.3]));
        let slicer = pipeline.slicer(&part).unwrap();
        let path = dir.join(format!("{name}.mlj"));
        let layers = slicer.layers().map(Cow::Owned);
        let summary =
            write_mlj_layers(slicer.header(), layers, &path, &MljOptions::default()).unwrap();
        Spool {
            path,
            layers: summary.layers as usize,
        }
    }

    #[test]
    fn a_plate_is_refused_at_the_part_that_overflows_a_layer_and_the_figures_add_up() {
        let dir = tempfile::tempdir().unwrap();
        let a = coupon_spool(dir.path(), "a");
        let per_part = a.layer_needs().unwrap();
        assert_eq!(per_part.len(), a.layers);
        let largest = *per_part.iter().max().unwrap();
        assert!(largest > 0);
        // Room for two coupons' layers, not three: the third part is refused, naming it.
        let limit = 2 * largest + largest / 2;
        let mut needs = Vec::new();
        add_layer_needs(&mut needs, &a, "Q-1", 1, limit).unwrap();
        add_layer_needs(&mut needs, &a, "Q-2", 2, limit).unwrap();
        assert_eq!(needs, per_part.iter().map(|n| 2 * n).collect::<Vec<_>>());
        let e = add_layer_needs(&mut needs, &a, "Q-3", 3, limit)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Q-3") && e.contains("first 3 parts"), "{e}");
        assert!(e.contains(&format!("which holds {limit}")), "{e}");
    }
}
