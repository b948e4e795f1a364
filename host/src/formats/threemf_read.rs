//! 3MF Toolpath packages read into a [`JobDocument`].
//!
//! The model part is found through the package's root relationship; its toolpath resource
//! gives the quantum (`unitfactor` × model unit), the profiles and the layer list. Every
//! `<tp:toolpathlayer>` path must be the target of a layer relationship from the model part,
//! and every layer relationship must point to a part in the package. Layer parts are checked
//! as they are read: the root `<layer>`, the segment types, the required attributes and
//! integer coordinates; errors name the part and the line. The deprecated 2019/05 namespace is
//! accepted on reading, as the specification asks of consumers.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

use meltline_slicer::job::{BuildJob, Geometry, JobParameterSet, Region, VectorBlock, VectorKind};
use meltline_slicer::profile::ProcessProfile;
use zip::ZipArchive;

use super::from_mlj::{empty_layer, job_header};
use super::threemf::{NS_CORE, NS_ML, NS_TP, NS_TP_2019, REL_LAYER, REL_MODEL};
use super::xml::{Attrs, Xml};
use super::{FormatError, JobDocument, WireSet};

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
        layer.blocks = parse_layer(&text, path, name, &model.profiles)?;
        layers.push(layer);
    }
    document(model, layers, q_nm * 1e-6, name, &model_part)
}

fn document(
    model: Model,
    mut layers: Vec<meltline_slicer::job::Layer>,
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
    Ok(Profile {
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
}

fn parse_layer(
    text: &str,
    part: &str,
    name: &str,
    profiles: &BTreeMap<String, Profile>,
) -> Result<Vec<VectorBlock>, FormatError> {
    let mut x = Xml::new(text, part, name);
    let mut local_profiles: BTreeMap<u32, u16> = BTreeMap::new();
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
                local_profiles.insert(id, p.set.id);
            }
            "segment" => {
                let ty = a
                    .get("", "type")
                    .ok_or_else(|| x.error("<segment> needs type"))?;
                if !matches!(ty, "loop" | "polyline" | "hatch") {
                    return Err(x.error(format!("segment type {ty:?} is not a planar segment")));
                }
                let pid: u32 = x.num(&a, "profileid", "segment")?;
                let _: u32 = x.num(&a, "partid", "segment")?;
                let set = *local_profiles
                    .get(&pid)
                    .ok_or_else(|| x.error(format!("profileid {pid} is not in <profiles>")))?;
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
                let o = Open {
                    block,
                    closed: ty == "loop",
                };
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
    Ok(blocks)
}

fn finish_segment(mut o: Open, blocks: &mut Vec<VectorBlock>) {
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
    blocks.push(o.block);
}
