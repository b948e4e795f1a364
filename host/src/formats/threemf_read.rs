//! 3MF Toolpath packages read into a [`JobDocument`].
//!
//! The model part is found through the package's root relationship; its toolpath resource
//! gives the quantum (`unitfactor` × model unit), the profiles and the layer list. Every
//! `<tp:toolpathlayer>` path must be the target of a layer relationship from the model part,
//! and every layer relationship must point to a part in the package. Layer parts are checked
//! as they are read: the root `<layer>`, the segment types, the required attributes and
//! integer coordinates; errors name the part and the line. The deprecated 2019/05 namespace is
//! accepted on reading, as the specification asks of consumers.
//!
//! Lasers (§4.5): with `<tp:lasersources>` the job names the laser of every block, each
//! segment's being its `laserindex`, else its profile's, else the sources' `default` (else,
//! with no default, the lowest declared index, noted). Refused, as the specification asks: a
//! resolved index, a profile's `laserindex`, the `default` or a sync group's laser that is no
//! declared `<tp:lasersource>`; sources declaring none or an index twice; a field bounds
//! group given in part, or with `maxx < minx` or `maxy < miny`; an optical centre given in
//! part; a `cornerradius` without the bounds, or above half the shorter side; a sync group
//! id given twice, and a `lasersync` naming no sync group. Sync barriers are read but not
//! kept (a meltline layer's lasers meet only at its end), which a note says. Without
//! `<tp:lasersources>` the job is for one laser: a `laserindex` is allowed (noted when not 0)
//! as long as every segment resolves to the same one.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

use meltline_slicer::job::{BuildJob, Geometry, JobParameterSet, Region, VectorBlock, VectorKind};
use meltline_slicer::profile::ProcessProfile;
use zip::ZipArchive;

use super::from_mlj::{empty_layer, job_header};
use super::threemf::{NS_CORE, NS_ML, NS_TP, NS_TP_2019, REL_LAYER, REL_MODEL};
use super::threemf_lasers::{LaserRules, LaserSources};
use super::xml::{Attrs, Xml};
use super::{BlockLaser, FormatError, JobDocument, WireSet};

/// The largest part read (a layer of a dense lattice is a few MB of XML).
const MAX_PART: u64 = 1 << 30;
/// The deprecated draft relationship type of layer parts.
const REL_LAYER_2019: &str = "http://schemas.microsoft.com/3dmanufacturing/2019/05/toolpath";

/// Reads a 3MF Toolpath package.
pub fn read(bytes: &[u8], name: &str) -> Result<JobDocument, FormatError> {
    let mut pkg = Package {
        zip: ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
            FormatError::malformed(name, "package", format!("not a zip package: {e}"))
        })?,
        name,
    };
    let root = pkg.rels("/_rels/.rels")?;
    let model_part = root
        .iter()
        .find(|r| r.ty == REL_MODEL)
        .map(|r| r.target.clone())
        .ok_or_else(|| {
            FormatError::malformed(name, "part /_rels/.rels", "no 3D model relationship")
        })?;
    let model_text = pkg.part_text(&model_part)?;
    let model = parse_model(&model_text, &model_part, name)?;
    let rels_part = rels_of(&model_part);
    let rels = pkg.rels(&rels_part)?;
    let mut targets = BTreeSet::new();
    for r in rels
        .iter()
        .filter(|r| r.ty == REL_LAYER || r.ty == REL_LAYER_2019)
    {
        if !pkg.has(&r.target) {
            return Err(FormatError::malformed(
                name,
                format!("part {rels_part}"),
                format!(
                    "relationship {} points to {}, which is not in the package",
                    r.id, r.target
                ),
            ));
        }
        targets.insert(r.target.clone());
    }
    let quantum_mm = model.unitfactor * model.unit_mm;
    let q_nm = (quantum_mm * 1e6).round();
    if !(q_nm.is_finite() && q_nm >= 1.0) {
        return Err(FormatError::malformed(
            name,
            format!("part {model_part}"),
            format!(
                "unitfactor {} is not a whole number of nanometres",
                model.unitfactor
            ),
        ));
    }
    let mut layers = Vec::with_capacity(model.layers.len());
    let mut lasers = Vec::with_capacity(model.layers.len());
    let mut rules = LaserRules::new(model.lasers.as_ref());
    for (i, (path, _)) in model.layers.iter().enumerate() {
        if !targets.contains(path) {
            return Err(FormatError::malformed(
                name,
                format!("part {model_part}"),
                format!(
                    "toolpath layer {i} ({path}) has no layer relationship from the model part"
                ),
            ));
        }
        let text = pkg.part_text(path)?;
        let mut layer = empty_layer(i, 0.0);
        let (blocks, l) = parse_layer(&text, path, name, &model.profiles, &mut rules)?;
        layer.blocks = blocks;
        layers.push(layer);
        lasers.push(l);
    }
    let laser_notes = rules.notes();
    if model.lasers.is_none() {
        lasers.clear();
    }
    let mut doc = document(model, layers, lasers, q_nm * 1e-6, name, &model_part)?;
    doc.notes.extend(laser_notes);
    Ok(doc)
}

fn document(
    model: Model,
    mut layers: Vec<meltline_slicer::job::Layer>,
    lasers: Vec<Vec<BlockLaser>>,
    quantum_mm: f64,
    name: &str,
    model_part: &str,
) -> Result<JobDocument, FormatError> {
    let mut notes = model.notes;
    let t = match model.layer_thickness_mm {
        Some(t) => t,
        None => {
            let first = model.layers.first().map_or(0, |l| l.1);
            notes.push("layer thickness taken from the first layer's ztop".into());
            first.saturating_sub(model.zbottom) as f64 * quantum_mm
        }
    };
    let t_nm = (t * 1e6).round();
    if !(t_nm.is_finite() && t_nm >= 1.0) {
        return Err(FormatError::malformed(
            name,
            format!("part {model_part}"),
            "cannot tell the layer thickness (no ztop above zbottom)",
        ));
    }
    for l in &mut layers {
        l.z_mm = (l.index as f64 + 0.5) * t_nm * 1e-6;
    }
    let profile = ProcessProfile::ti6al4v();
    let machine = model.machine.unwrap_or_else(|| {
        notes.push(format!(
            "no machine named: {} of the built-in profile",
            meltline_firmware::machine::MachineConfig::default().machine
        ));
        meltline_firmware::machine::MachineConfig::default()
            .machine
            .to_string()
    });
    let material = model.material.unwrap_or_else(|| {
        notes.push(format!(
            "no material named: {} of the built-in profile",
            profile.material
        ));
        profile.material.clone()
    });
    let mut wire = BTreeMap::new();
    let mut sets = Vec::new();
    for p in model.profiles.values() {
        wire.insert(p.set.id, p.wire);
        sets.push(p.set.clone());
    }
    sets.sort_by_key(|s| s.id);
    let header = job_header(&machine, &material, quantum_mm, t_nm * 1e-6, sets, &layers);
    Ok(JobDocument {
        job: BuildJob { header, layers },
        wire,
        lasers,
        notes,
    })
}

struct Package<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    name: &'a str,
}

/// One OPC relationship, its target made absolute.
struct Rel {
    id: String,
    target: String,
    ty: String,
}

/// `/3D/3dmodel.model` → `/3D/_rels/3dmodel.model.rels`.
fn rels_of(part: &str) -> String {
    let (dir, file) = part.rsplit_once('/').unwrap_or(("", part));
    format!("{dir}/_rels/{file}.rels")
}

impl Package<'_> {
    fn has(&mut self, part: &str) -> bool {
        self.zip.by_name(part.trim_start_matches('/')).is_ok()
    }

    fn part_text(&mut self, part: &str) -> Result<String, FormatError> {
        let place = format!("part {part}");
        let name = self.name;
        let mut f = self
            .zip
            .by_name(part.trim_start_matches('/'))
            .map_err(|e| FormatError::malformed(name, &place, format!("cannot open: {e}")))?;
        let mut s = String::new();
        f.by_ref()
            .take(MAX_PART)
            .read_to_string(&mut s)
            .map_err(|e| FormatError::malformed(name, &place, format!("cannot read: {e}")))?;
        Ok(s)
    }

    fn rels(&mut self, part: &str) -> Result<Vec<Rel>, FormatError> {
        let text = self.part_text(part)?;
        let dir = part.rsplit_once("/_rels/").map_or("", |(d, _)| d);
        let mut x = Xml::new(&text, part, self.name);
        let mut out = Vec::new();
        while let Some((ns, local, e)) = x.next_element()? {
            let _ = ns;
            if local != "Relationship" {
                continue;
            }
            let a = x.attrs(&e)?;
            let get = |k: &str| a.get("", k).map(str::to_string);
            let (Some(target), Some(ty)) = (get("Target"), get("Type")) else {
                return Err(x.error("a Relationship needs Target and Type"));
            };
            let target = if target.starts_with('/') {
                target
            } else {
                format!("{dir}/{target}")
            };
            out.push(Rel {
                id: get("Id").unwrap_or_default(),
                target,
                ty,
            });
        }
        Ok(out)
    }
}

fn is_tp(ns: &str) -> bool {
    ns == NS_TP || ns == NS_TP_2019
}

/// A toolpath profile as a parameter set.
#[derive(Debug, Clone)]
struct Profile {
    set: JobParameterSet,
    wire: WireSet,
    /// Its `laserindex` and where it is given.
    laser: Option<(u32, String)>,
}

/// What the model part says.
#[derive(Debug, Default)]
struct Model {
    unitfactor: f64,
    unit_mm: f64,
    zbottom: u64,
    layer_thickness_mm: Option<f64>,
    machine: Option<String>,
    material: Option<String>,
    /// By profile UUID.
    profiles: BTreeMap<String, Profile>,
    /// `<tp:lasersources>`, `None` when the toolpath declares none.
    lasers: Option<LaserSources>,
    layers: Vec<(String, u64)>,
    notes: Vec<String>,
}

fn unit_mm(unit: &str) -> Option<f64> {
    Some(match unit {
        "micron" => 0.001,
        "millimeter" => 1.0,
        "centimeter" => 10.0,
        "inch" => 25.4,
        "foot" => 304.8,
        "meter" => 1000.0,
        _ => return None,
    })
}

fn parse_model(text: &str, part: &str, name: &str) -> Result<Model, FormatError> {
    let mut x = Xml::new(text, part, name);
    let mut m = Model {
        unit_mm: 1.0,
        ..Model::default()
    };
    let mut resources = 0;
    let mut deprecated = false;
    while let Some((ns, local, e)) = x.next_element()? {
        if ns == NS_CORE && local == "model" {
            let a = x.attrs(&e)?;
            if let Some(u) = a.get("", "unit") {
                m.unit_mm = unit_mm(u).ok_or_else(|| x.error(format!("unknown unit {u:?}")))?;
            }
            continue;
        }
        if !is_tp(&ns) {
            continue;
        }
        deprecated |= ns == NS_TP_2019;
        let a = x.attrs(&e)?;
        match local.as_str() {
            "toolpathresource" => {
                resources += 1;
                if resources > 1 {
                    m.notes
                        .push("more than one toolpath resource: the first is read".into());
                    break;
                }
                m.unitfactor = x.num(&a, "unitfactor", "toolpathresource")?;
                m.machine = a.get(NS_ML, "machine").map(str::to_string);
                m.material = a.get(NS_ML, "material").map(str::to_string);
                m.layer_thickness_mm = a.get(NS_ML, "layerthickness").and_then(|v| v.parse().ok());
            }
            "toolpathlayers" if a.get("", "zbottom").is_some() => {
                m.zbottom = x.num(&a, "zbottom", "toolpathlayers")?;
            }
            "toolpathlayer" => {
                let path = a
                    .get("", "path")
                    .ok_or_else(|| x.error("<toolpathlayer> needs path"))?;
                let ztop = if a.get("", "ztop").is_some() {
                    x.num(&a, "ztop", "toolpathlayer")?
                } else {
                    0
                };
                m.layers.push((path.to_string(), ztop));
            }
            "lasersources" => {
                if m.lasers.is_some() {
                    return Err(x.error("more than one <tp:lasersources>"));
                }
                m.lasers = Some(LaserSources::start(&x, &a)?);
            }
            "lasersource" => m
                .lasers
                .as_mut()
                .ok_or_else(|| x.error("<tp:lasersource> outside <tp:lasersources>"))?
                .source(&x, &a)?,
            "syncgroup" => m
                .lasers
                .as_mut()
                .ok_or_else(|| x.error("<tp:syncgroup> outside <tp:lasersources>"))?
                .sync_group(&x, &a)?,
            "toolpathprofile" => {
                let p = profile(&x, &a, m.profiles.len(), &mut m.notes)?;
                let uuid = a
                    .get("", "uuid")
                    .ok_or_else(|| x.error("<toolpathprofile> needs uuid"))?;
                m.profiles.insert(uuid.to_ascii_lowercase(), p);
            }
            _ => {}
        }
    }
    if resources == 0 {
        return Err(FormatError::malformed(
            name,
            format!("part {part}"),
            "no <tp:toolpathresource>",
        ));
    }
    if deprecated {
        m.notes
            .push("the deprecated 2019/05 toolpath namespace was read".into());
    }
    if let Some(l) = &m.lasers {
        l.finish(name)?;
        for p in m.profiles.values() {
            if let Some((i, place)) = &p.laser {
                l.check_profile(&p.set.label, *i, place, name)?;
            }
        }
    }
    Ok(m)
}

fn profile(
    x: &Xml<'_>,
    a: &Attrs,
    index: usize,
    notes: &mut Vec<String>,
) -> Result<Profile, FormatError> {
    let e = "toolpathprofile";
    let id = match a.get(NS_ML, "setid") {
        Some(v) => v
            .parse()
            .map_err(|_| x.error(format!("ml:setid={v:?} is not a set id")))?,
        None => u16::try_from(index + 1).map_err(|_| x.error("too many profiles"))?,
    };
    let label = a
        .get(NS_ML, "label")
        .or_else(|| a.get("", "name"))
        .unwrap_or("profile")
        .to_string();
    let power_w: f64 = x.num(a, "laserpower", e)?;
    let speed_mm_s: f64 = x.num(a, "laserspeed", e)?;
    let hatch_mm = match a.get(NS_ML, "hatch") {
        Some(v) => v
            .parse()
            .map_err(|_| x.error(format!("ml:hatch={v:?} is not a number")))?,
        None => {
            notes.push(format!("profile {label}: no hatch distance (0 assumed)"));
            0.0
        }
    };
    let mut wire = WireSet::default();
    if let Some(v) = a.get(NS_ML, "spot") {
        wire.spot_um = v
            .parse()
            .map_err(|_| x.error(format!("ml:spot={v:?} is not a number")))?;
    } else if a.get("", "spotradius").is_some() {
        let r: f64 = x.num(a, "spotradius", e)?;
        wire.spot_um = (r * 2000.0).round().clamp(1.0, f64::from(u32::MAX)) as u32;
    }
    wire.skywriting = a.get(NS_ML, "skywriting") == Some("true");
    let laser = if a.get("", "laserindex").is_some() {
        Some((x.num(a, "laserindex", e)?, x.place()))
    } else {
        None
    };
    Ok(Profile {
        laser,
        set: JobParameterSet {
            id,
            label,
            power_w,
            speed_mm_s,
            hatch_mm,
        },
        wire,
    })
}

fn kind_of(v: Option<&str>, ty: &str) -> VectorKind {
    match v {
        Some("hatch") => VectorKind::Hatch,
        Some("edge") => VectorKind::Edge,
        Some("support") => VectorKind::Support,
        Some("contour") => VectorKind::Contour,
        _ if ty == "hatch" => VectorKind::Hatch,
        _ => VectorKind::Contour,
    }
}

fn region_of(v: Option<&str>) -> Region {
    match v {
        Some("part") => Region::Part,
        Some("upskin") => Region::Upskin,
        Some("downskin") => Region::Downskin,
        Some("support") => Region::Support,
        _ => Region::Core,
    }
}

/// A segment being read.
struct Open {
    block: VectorBlock,
    closed: bool,
    laser: BlockLaser,
}

/// The blocks of one layer part and the laser of each.
fn parse_layer(
    text: &str,
    part: &str,
    name: &str,
    profiles: &BTreeMap<String, Profile>,
    rules: &mut LaserRules<'_>,
) -> Result<(Vec<VectorBlock>, Vec<BlockLaser>), FormatError> {
    let mut x = Xml::new(text, part, name);
    // Layer profile id → parameter set and the profile's laser index.
    let mut local_profiles: BTreeMap<u32, (u16, Option<u32>)> = BTreeMap::new();
    let mut blocks = Vec::new();
    let mut open: Option<Open> = None;
    let mut seen_root = false;
    while let Some((ns, local, start)) = x.next_event()? {
        if !is_tp(&ns) {
            if !seen_root {
                return Err(x.error(format!("the root element is <{local}>, not <layer>")));
            }
            continue;
        }
        let Some(e) = start else {
            if local == "segment"
                && let Some(o) = open.take()
            {
                finish_segment(o, &mut blocks);
            }
            continue;
        };
        let a = x.attrs(&e)?;
        match local.as_str() {
            "layer" if !seen_root => seen_root = true,
            _ if !seen_root => {
                return Err(x.error(format!("the root element is <{local}>, not <layer>")));
            }
            "parts" | "part" | "profiles" | "segments" | "data" | "sub" => {}
            "profile" => {
                let id: u32 = x.num(&a, "id", "profile")?;
                let uuid = a
                    .get("", "uuid")
                    .ok_or_else(|| x.error("<profile> needs uuid"))?;
                let p = profiles.get(&uuid.to_ascii_lowercase()).ok_or_else(|| {
                    x.error(format!(
                        "profile {id} refers to {uuid}, not a toolpath profile"
                    ))
                })?;
                local_profiles.insert(id, (p.set.id, p.laser.as_ref().map(|l| l.0)));
            }
            "segment" => {
                let o = open_segment(&x, &a, &local_profiles, rules)?;
                if let Some(o) = open.replace(o) {
                    finish_segment(o, &mut blocks);
                }
            }
            "point" => {
                let p = [x.num(&a, "x", "point")?, x.num(&a, "y", "point")?];
                match open.as_mut().map(|o| &mut o.block.geometry) {
                    Some(Geometry::Polyline(v)) => v.push(p),
                    _ => return Err(x.error("<point> outside a loop or polyline segment")),
                }
            }
            "hatch" => {
                let h = [
                    [x.num(&a, "x1", "hatch")?, x.num(&a, "y1", "hatch")?],
                    [x.num(&a, "x2", "hatch")?, x.num(&a, "y2", "hatch")?],
                ];
                match open.as_mut().map(|o| &mut o.block.geometry) {
                    Some(Geometry::Vectors(v)) => v.push(h),
                    _ => return Err(x.error("<hatch> outside a hatch segment")),
                }
            }
            other => return Err(x.error(format!("<{other}> is not an element of a layer"))),
        }
    }
    if !seen_root {
        return Err(x.error("no <layer> element"));
    }
    if let Some(o) = open.take() {
        finish_segment(o, &mut blocks);
    }
    Ok(blocks.into_iter().unzip())
}

/// A `<segment>` opened: its kind, region, parameter set and laser, its geometry to come.
fn open_segment(
    x: &Xml<'_>,
    a: &Attrs,
    local_profiles: &BTreeMap<u32, (u16, Option<u32>)>,
    rules: &mut LaserRules<'_>,
) -> Result<Open, FormatError> {
    let ty = a
        .get("", "type")
        .ok_or_else(|| x.error("<segment> needs type"))?;
    if !matches!(ty, "loop" | "polyline" | "hatch") {
        return Err(x.error(format!("segment type {ty:?} is not a planar segment")));
    }
    let pid: u32 = x.num(a, "profileid", "segment")?;
    let _: u32 = x.num(a, "partid", "segment")?;
    let (set, profile_laser) = *local_profiles
        .get(&pid)
        .ok_or_else(|| x.error(format!("profileid {pid} is not in <profiles>")))?;
    let own = if a.get("", "laserindex").is_some() {
        Some(x.num(a, "laserindex", "segment")?)
    } else {
        None
    };
    if a.get("", "lasersync").is_some() {
        rules.sync(x.num(a, "lasersync", "segment")?, x)?;
    }
    let laser = BlockLaser {
        laser: rules.resolve(own, profile_laser, x)?,
        opens: a.get(NS_ML, "newblock") == Some("true"),
    };
    let block = VectorBlock {
        kind: kind_of(a.get(NS_ML, "kind"), ty),
        region: region_of(a.get(NS_ML, "region")),
        parameter_set: set,
        geometry: if ty == "hatch" {
            Geometry::Vectors(Vec::new())
        } else {
            Geometry::Polyline(Vec::new())
        },
    };
    Ok(Open {
        block,
        closed: ty == "loop",
        laser,
    })
}

/// Appends a finished segment with its laser (an empty one is left out).
fn finish_segment(mut o: Open, blocks: &mut Vec<(VectorBlock, BlockLaser)>) {
    if let Geometry::Polyline(v) = &mut o.block.geometry {
        // A loop's closing point is implied; a repeated one is redundant.
        if o.closed && v.len() >= 3 && v.first() != v.last() {
            let first = v[0];
            v.push(first);
        }
        if v.len() < 2 {
            return;
        }
    }
    if let Geometry::Vectors(v) = &o.block.geometry
        && v.is_empty()
    {
        return;
    }
    blocks.push((o.block, o.laser));
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const PROFILE: &str = "11111111-2222-3333-4444-555555555555";

    /// A one-layer package: `sources` first in the toolpath resource, `profile` more
    /// attributes of its one profile, `segments` the layer's segments.
    fn package(sources: &str, profile: &str, segments: &str) -> Vec<u8> {
        let model = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<model unit=\"millimeter\" xmlns=\"{NS_CORE}\" xmlns:tp=\"{NS_TP}\" xmlns:ml=\"{NS_ML}\">\n<resources>\n<tp:toolpathresource id=\"1\" uuid=\"92f90fa0-e2cc-4cb0-a56b-aa4fd2f51868\" unitfactor=\"0.001\" ml:layerthickness=\"0.03\">\n{sources}\n<tp:toolpathprofiles><tp:toolpathprofile uuid=\"{PROFILE}\" name=\"p\" laserpower=\"150\" laserspeed=\"600\" ml:setid=\"1\" {profile}/></tp:toolpathprofiles>\n<tp:toolpathlayers><tp:toolpathlayer ztop=\"30\" path=\"/Toolpath/Layers/layer00000.xml\"/></tp:toolpathlayers>\n</tp:toolpathresource>\n</resources>\n</model>\n"
        );
        let layer = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<layer xmlns=\"{NS_TP}\" xmlns:ml=\"{NS_ML}\">\n<parts><part id=\"1\" uuid=\"{PROFILE}\"/></parts><profiles><profile id=\"1\" uuid=\"{PROFILE}\"/></profiles>\n<segments>\n{segments}\n</segments>\n</layer>\n"
        );
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default();
        let mut put = |name: &str, text: &str| {
            zip.start_file(name, o).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        };
        put(
            "_rels/.rels",
            &format!(
                "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"r0\" Target=\"/3D/3dmodel.model\" Type=\"{REL_MODEL}\"/></Relationships>"
            ),
        );
        put(
            "3D/_rels/3dmodel.model.rels",
            &format!(
                "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"l0\" Target=\"/Toolpath/Layers/layer00000.xml\" Type=\"{REL_LAYER}\"/></Relationships>"
            ),
        );
        put("3D/3dmodel.model", &model);
        put("Toolpath/Layers/layer00000.xml", &layer);
        zip.finish().unwrap().into_inner()
    }

    /// A hatch segment with more attributes `attrs`.
    fn hatch(attrs: &str) -> String {
        format!(
            "<segment type=\"hatch\" profileid=\"1\" partid=\"1\" {attrs}><hatch x1=\"0\" y1=\"0\" x2=\"100\" y2=\"0\"/></segment>"
        )
    }

    const TWO: &str = "<tp:lasersources default=\"1\"><tp:lasersource index=\"1\" name=\"a\"/><tp:lasersource index=\"2\" name=\"b\"/></tp:lasersources>";

    fn lasers(doc: &JobDocument) -> Vec<u8> {
        doc.lasers.iter().flatten().map(|b| b.laser).collect()
    }

    fn refused(bytes: &[u8]) -> String {
        match read(bytes, "t.3mf") {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_segment_takes_its_own_laser_else_its_profiles_else_the_default() {
        let segs = [hatch("laserindex=\"2\""), hatch("")].concat();
        let doc = read(&package(TWO, "", &segs), "t.3mf").unwrap();
        assert!(doc.names_lasers());
        assert_eq!(lasers(&doc), [2, 1]);
        let doc = read(&package(TWO, "laserindex=\"2\"", &segs), "t.3mf").unwrap();
        assert_eq!(lasers(&doc), [2, 2]);
        let doc = read(
            &package(TWO, "laserindex=\"2\"", &hatch("laserindex=\"1\"")),
            "t.3mf",
        )
        .unwrap();
        assert_eq!(lasers(&doc), [1]);
    }

    #[test]
    fn lasersources_with_no_segment_naming_a_laser_still_name_lasers() {
        let doc = read(&package(TWO, "", &hatch("")), "t.3mf").unwrap();
        assert!(doc.names_lasers());
        assert_eq!(lasers(&doc), [1]);
    }

    #[test]
    fn a_segment_laser_index_not_declared_is_refused_naming_the_part_and_line() {
        let e = refused(&package(TWO, "", &hatch("laserindex=\"5\"")));
        assert!(
            e.starts_with("t.3mf: part /Toolpath/Layers/layer00000.xml line 5: laserindex 5"),
            "{e}"
        );
        assert!(
            e.contains("not a declared laser source (declared: 1, 2)"),
            "{e}"
        );
    }

    #[test]
    fn a_profile_laser_index_not_declared_is_refused_naming_the_profile() {
        let e = refused(&package(TWO, "laserindex=\"0\"", &hatch("")));
        assert!(e.contains("part /3D/3dmodel.model line"), "{e}");
        assert!(
            e.contains("profile p: laserindex 0 is not a declared laser source"),
            "{e}"
        );
    }

    #[test]
    fn a_default_not_declared_is_refused() {
        let s = "<tp:lasersources default=\"3\"><tp:lasersource index=\"0\" name=\"a\"/></tp:lasersources>";
        let e = refused(&package(s, "", &hatch("")));
        assert!(
            e.contains("lasersources default 3 is not a declared laser source (declared: 0)"),
            "{e}"
        );
    }

    #[test]
    fn an_index_declared_twice_is_refused() {
        let s = "<tp:lasersources><tp:lasersource index=\"0\" name=\"a\"/><tp:lasersource index=\"0\" name=\"b\"/></tp:lasersources>";
        let e = refused(&package(s, "", &hatch("")));
        assert!(
            e.contains("part /3D/3dmodel.model line 5: laser source index 0 is declared twice"),
            "{e}"
        );
    }

    #[test]
    fn lasersources_declaring_no_laser_are_refused() {
        let e = refused(&package(
            "<tp:lasersources default=\"0\"></tp:lasersources>",
            "",
            &hatch(""),
        ));
        assert!(e.contains("declares no <tp:lasersource>"), "{e}");
    }

    #[test]
    fn field_bounds_given_in_part_are_refused_naming_the_missing_ones() {
        let s = "<tp:lasersources><tp:lasersource index=\"0\" name=\"a\" minx=\"0\" maxx=\"10\" miny=\"0\"/></tp:lasersources>";
        let e = refused(&package(s, "", &hatch("")));
        assert!(
            e.contains("laser source 0 gives minx, maxx, miny of its field bounds without maxy"),
            "{e}"
        );
    }

    #[test]
    fn inverted_field_bounds_are_refused() {
        let s = "<tp:lasersources><tp:lasersource index=\"0\" name=\"a\" minx=\"10\" maxx=\"0\" miny=\"0\" maxy=\"10\"/></tp:lasersources>";
        assert!(refused(&package(s, "", &hatch(""))).contains("maxx 0 is less than minx 10"));
        let s = "<tp:lasersources><tp:lasersource index=\"0\" name=\"a\" minx=\"0\" maxx=\"10\" miny=\"5\" maxy=\"4\"/></tp:lasersources>";
        assert!(refused(&package(s, "", &hatch(""))).contains("maxy 4 is less than miny 5"));
        // Equal bounds are a field of no extent, which the specification allows.
        let s = "<tp:lasersources><tp:lasersource index=\"0\" name=\"a\" minx=\"3\" maxx=\"3\" miny=\"0\" maxy=\"10\"/></tp:lasersources>";
        assert!(read(&package(s, "", &hatch("")), "t.3mf").is_ok());
    }

    #[test]
    fn a_centre_given_in_part_or_a_corner_radius_out_of_place_is_refused() {
        let src = |a: &str| {
            format!(
                "<tp:lasersources><tp:lasersource index=\"0\" name=\"a\" {a}/></tp:lasersources>"
            )
        };
        let bounds = "minx=\"0\" maxx=\"100\" miny=\"0\" maxy=\"40\"";
        for (attrs, what) in [
            (
                "centerx=\"5\"".to_string(),
                "only one of centerx and centery",
            ),
            (
                "cornerradius=\"5\"".to_string(),
                "cornerradius 5 without the field bounds",
            ),
            (
                format!("{bounds} cornerradius=\"21\""),
                "more than half the shorter side",
            ),
            (
                format!("{bounds} cornerradius=\"0\""),
                "cornerradius 0 is not positive",
            ),
        ] {
            let e = refused(&package(&src(&attrs), "", &hatch("")));
            assert!(e.contains(what), "{attrs}: {e}");
        }
        let ok = format!("{bounds} centerx=\"50\" centery=\"20\" cornerradius=\"20\"");
        assert!(read(&package(&src(&ok), "", &hatch("")), "t.3mf").is_ok());
    }

    #[test]
    fn sync_groups_must_name_declared_lasers_and_be_named_by_declared_ids() {
        let s = |g: &str| {
            format!(
                "<tp:lasersources><tp:lasersource index=\"0\" name=\"a\"/><tp:lasersource index=\"1\" name=\"b\"/>{g}</tp:lasersources>"
            )
        };
        let e = refused(&package(
            &s("<tp:syncgroup id=\"1\" lasers=\"0 4\"/>"),
            "",
            &hatch(""),
        ));
        assert!(
            e.contains("sync group 1 names laser 4, not a declared laser source"),
            "{e}"
        );
        let twice = "<tp:syncgroup id=\"1\" lasers=\"0\"/><tp:syncgroup id=\"1\" lasers=\"1\"/>";
        assert!(
            refused(&package(&s(twice), "", &hatch("")))
                .contains("sync group id 1 is declared twice")
        );
        let one = s("<tp:syncgroup id=\"1\" lasers=\"0 1\"/>");
        let e = refused(&package(
            &one,
            "",
            &hatch("laserindex=\"0\" lasersync=\"2\""),
        ));
        assert!(
            e.contains("layer00000.xml line 5: lasersync 2 is not a declared <tp:syncgroup>"),
            "{e}"
        );
        let doc = read(
            &package(&one, "", &hatch("laserindex=\"1\" lasersync=\"1\"")),
            "t.3mf",
        )
        .unwrap();
        assert_eq!(lasers(&doc), [1]);
        assert!(
            doc.notes
                .iter()
                .any(|n| n.contains("lasersync barriers are not kept"))
        );
    }

    #[test]
    fn without_lasersources_one_laser_index_reads_as_one_laser_and_two_are_refused() {
        let doc = read(&package("", "", &hatch("laserindex=\"3\"")), "t.3mf").unwrap();
        assert!(!doc.names_lasers());
        assert!(
            doc.notes
                .iter()
                .any(|n| n.contains("laserindex 3 without <tp:lasersources>"))
        );
        let doc = read(&package("", "", &hatch("laserindex=\"0\"")), "t.3mf").unwrap();
        assert!(!doc.names_lasers() && doc.notes.iter().all(|n| !n.contains("laserindex")));
        let segs = [hatch("laserindex=\"0\""), hatch("laserindex=\"1\"")].concat();
        let e = refused(&package("", "", &segs));
        assert!(
            e.contains("laserindex 1 where 0 was used before, without <tp:lasersources>"),
            "{e}"
        );
    }

    #[test]
    fn a_laser_index_beyond_what_a_job_can_name_is_refused() {
        let s = "<tp:lasersources><tp:lasersource index=\"300\" name=\"a\"/></tp:lasersources>";
        let e = refused(&package(s, "", &hatch("laserindex=\"300\"")));
        assert!(
            e.contains("laser index 300: a meltline job names lasers 0 to 255"),
            "{e}"
        );
    }

    #[test]
    fn a_second_lasersources_or_a_source_outside_one_is_refused() {
        let e = refused(&package(&[TWO, TWO].concat(), "", &hatch("")));
        assert!(e.contains("more than one <tp:lasersources>"), "{e}");
        let e = refused(&package(
            "<tp:lasersource index=\"0\" name=\"a\"/>",
            "",
            &hatch(""),
        ));
        assert!(
            e.contains("<tp:lasersource> outside <tp:lasersources>"),
            "{e}"
        );
    }
}
