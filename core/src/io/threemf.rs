//! 3MF: a zip package whose model part (XML) holds mesh objects, component assemblies and
//! build items with 3×4 affine transforms, in a declared unit.
//!
//! Read here: the core specification's `<mesh>` objects, `<components>` (nested, transformed),
//! `<build><item>` with transforms, and the `unit` of `<model>`; objects in other model parts
//! of the package (the production extension's `path` attribute, as Bambu Studio and
//! PrusaSlicer write them) are followed. Colours, materials and metadata are ignored.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use nalgebra::{Matrix4, Point3};
use quick_xml::events::{BytesStart, Event};

use super::ReadError;
use super::weld::{Welder, check_finite};
use crate::mesh::Mesh;

/// The relationship type naming the package's root model part.
const MODEL_RELATIONSHIP: &str = "http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel";
/// Where the root model part usually is.
const DEFAULT_MODEL: &str = "3D/3dmodel.model";
/// Decompressed size beyond which a part is refused (a zip bomb, not a mesh).
const MAX_PART_BYTES: u64 = 1 << 31;
/// Component nesting deeper than this is taken for a reference cycle.
const MAX_DEPTH: usize = 64;

fn error(message: impl Into<String>) -> ReadError {
    ReadError::ThreeMf {
        message: message.into(),
    }
}

/// A reference to an object: the model part it lives in and its id there.
type ObjectKey = (String, u32);

/// A `<mesh>` as written: vertices and triangles of file indices.
#[derive(Default)]
struct ObjectMesh {
    vertices: Vec<Point3<f64>>,
    triangles: Vec<[i64; 3]>,
}

/// An `<object>`: a mesh or components.
#[derive(Default)]
struct Object {
    mesh: ObjectMesh,
    components: Vec<(ObjectKey, Matrix4<f64>)>,
}

/// One parsed model part.
struct ModelPart {
    /// Millimetres per model unit.
    unit_mm: f64,
    objects: HashMap<u32, Object>,
    items: Vec<(ObjectKey, Matrix4<f64>)>,
}

/// Normalises a part name for lookup: no leading slash, case folded (OPC part names are
/// case-insensitive).
fn part_name(name: &str) -> String {
    name.trim_start_matches('/').to_ascii_lowercase()
}

/// The zip package with its parts indexed by normalised name.
struct Package {
    archive: zip::ZipArchive<Cursor<Vec<u8>>>,
    names: HashMap<String, String>,
}

impl Package {
    fn open(bytes: &[u8]) -> Result<Package, ReadError> {
        let archive = zip::ZipArchive::new(Cursor::new(bytes.to_vec()))
            .map_err(|e| error(format!("not a readable zip package ({e})")))?;
        let names = archive
            .file_names()
            .filter_map(Result::ok)
            .map(|n| (part_name(&n), n.into_owned()))
            .collect();
        Ok(Package { archive, names })
    }

    fn has(&self, name: &str) -> bool {
        self.names.contains_key(&part_name(name))
    }

    fn read_text(&mut self, name: &str) -> Result<String, ReadError> {
        let stored = self
            .names
            .get(&part_name(name))
            .ok_or_else(|| error(format!("the package has no part `{name}`")))?
            .clone();
        let file = self
            .archive
            .by_name(&stored)
            .map_err(|e| error(format!("cannot open part `{stored}` ({e})")))?;
        let mut text = String::new();
        file.take(MAX_PART_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| error(format!("cannot decompress part `{stored}` as text ({e})")))?;
        if text.len() as u64 > MAX_PART_BYTES {
            return Err(error(format!("part `{stored}` is larger than 2 GiB")));
        }
        Ok(text)
    }

    /// The root model part: from the package relationships, else the usual name.
    fn root_model(&mut self) -> Result<String, ReadError> {
        if self.has("_rels/.rels") {
            let rels = self.read_text("_rels/.rels")?;
            let mut reader = quick_xml::Reader::from_str(&rels);
            loop {
                match reader.read_event() {
                    Ok(Event::Start(e) | Event::Empty(e))
                        if e.local_name().as_ref() == "Relationship" =>
                    {
                        if attr(&e, "Type")?.as_deref() == Some(MODEL_RELATIONSHIP)
                            && let Some(target) = attr(&e, "Target")?
                        {
                            return Ok(target);
                        }
                    }
                    Ok(Event::Eof) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
        if self.has(DEFAULT_MODEL) {
            return Ok(DEFAULT_MODEL.to_string());
        }
        let mut models: Vec<&String> = self
            .names
            .values()
            .filter(|n| n.to_ascii_lowercase().ends_with(".model"))
            .collect();
        models.sort();
        models.first().map(|n| n.to_string()).ok_or_else(|| {
            error("the package has no 3D model part (no `3D/3dmodel.model`): is it a 3MF file?")
        })
    }
}

/// The value of the attribute with local name `name`.
fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, ReadError> {
    for a in e.attributes() {
        let a = a.map_err(|err| error(format!("malformed attribute ({err})")))?;
        if a.key.local_name().as_ref() == name {
            return Ok(Some(a.value.into_owned()));
        }
    }
    Ok(None)
}

/// Millimetres per unit of a 3MF `unit` attribute.
fn unit_to_mm(unit: &str) -> Option<f64> {
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

/// A 3MF transform `m00 m01 m02 m10 m11 m12 m20 m21 m22 m30 m31 m32` (row-vector
/// convention: p' = [x y z 1] · M) as a column-vector homogeneous matrix.
fn parse_transform(text: &str) -> Option<Matrix4<f64>> {
    let v: Vec<f64> = text
        .split_ascii_whitespace()
        .map(|t| t.parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect::<Option<_>>()?;
    if v.len() != 12 {
        return None;
    }
    #[rustfmt::skip]
    let m = Matrix4::new(
        v[0], v[3], v[6], v[9],
        v[1], v[4], v[7], v[10],
        v[2], v[5], v[8], v[11],
        0.0, 0.0, 0.0, 1.0,
    );
    Some(m)
}

/// The 1-based line of a byte offset, for messages.
fn line_of(text: &str, pos: u64) -> usize {
    let pos = (pos as usize).min(text.len());
    text.as_bytes()[..pos]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A numeric attribute; `here` says where, for the error.
fn number_attr(
    e: &BytesStart<'_>,
    name: &str,
    here: &dyn Fn() -> String,
) -> Result<f64, ReadError> {
    attr(e, name)?
        .and_then(|s| s.trim().parse::<f64>().ok())
        .ok_or_else(|| {
            error(format!(
                "{}: `{}` needs a numeric `{name}`",
                here(),
                e.local_name().as_ref()
            ))
        })
}

/// A triangle's vertex index attribute.
fn index_attr(e: &BytesStart<'_>, name: &str, here: &dyn Fn() -> String) -> Result<i64, ReadError> {
    attr(e, name)?
        .and_then(|s| s.trim().parse::<i64>().ok())
        .ok_or_else(|| error(format!("{}: `triangle` needs an integer `{name}`", here())))
}

/// A reference to an object (a `component` or a build `item`): its key and transform.
fn object_ref(
    e: &BytesStart<'_>,
    part: &str,
    here: &dyn Fn() -> String,
) -> Result<(ObjectKey, Matrix4<f64>), ReadError> {
    let id = attr(e, "objectid")?
        .and_then(|s| s.trim().parse::<u32>().ok())
        .ok_or_else(|| error(format!("{}: missing or invalid `objectid`", here())))?;
    let transform = match attr(e, "transform")? {
        None => Matrix4::identity(),
        Some(t) => parse_transform(&t).ok_or_else(|| {
            error(format!(
                "{}: `transform` must be 12 finite numbers, found \"{t}\"",
                here()
            ))
        })?,
    };
    let target = match attr(e, "path")? {
        Some(p) => part_name(&p),
        None => part_name(part),
    };
    Ok(((target, id), transform))
}

/// The state of one model part's parse.
struct ModelParse {
    model: ModelPart,
    current: Option<(u32, Object)>,
    saw_model: bool,
}

impl ModelParse {
    /// An element's start (or an empty element).
    fn start(
        &mut self,
        e: &BytesStart<'_>,
        part: &str,
        here: &dyn Fn() -> String,
    ) -> Result<(), ReadError> {
        match e.local_name().as_ref() {
            "model" => {
                self.saw_model = true;
                if let Some(unit) = attr(e, "unit")? {
                    self.model.unit_mm = unit_to_mm(&unit).ok_or_else(|| {
                        error(format!(
                            "{}: unknown unit \"{unit}\" (micron, millimeter, centimeter, \
                             inch, foot or meter)",
                            here()
                        ))
                    })?;
                }
            }
            "object" => {
                let id = attr(e, "id")?
                    .and_then(|s| s.trim().parse::<u32>().ok())
                    .ok_or_else(|| error(format!("{}: object without a valid `id`", here())))?;
                self.current = Some((id, Object::default()));
            }
            "vertex" => {
                if let Some((id, obj)) = self.current.as_mut() {
                    let p = Point3::new(
                        number_attr(e, "x", here)?,
                        number_attr(e, "y", here)?,
                        number_attr(e, "z", here)?,
                    );
                    let k = obj.mesh.vertices.len();
                    check_finite(&p, || format!("vertex {k} of object {id} ({})", here()))?;
                    obj.mesh.vertices.push(p);
                }
            }
            "triangle" => {
                if let Some((_, obj)) = self.current.as_mut() {
                    let t = [
                        index_attr(e, "v1", here)?,
                        index_attr(e, "v2", here)?,
                        index_attr(e, "v3", here)?,
                    ];
                    obj.mesh.triangles.push(t);
                }
            }
            "component" => {
                if let Some((_, obj)) = self.current.as_mut() {
                    obj.components.push(object_ref(e, part, here)?);
                }
            }
            "item" => self.model.items.push(object_ref(e, part, here)?),
            _ => {}
        }
        Ok(())
    }

    /// An object's end: it joins the model, once per id.
    fn end_object(&mut self, here: &dyn Fn() -> String) -> Result<(), ReadError> {
        if let Some((id, obj)) = self.current.take()
            && self.model.objects.insert(id, obj).is_some()
        {
            return Err(error(format!(
                "{}: object id {id} is defined twice",
                here()
            )));
        }
        Ok(())
    }
}

/// Parses one model part; `part` names it in messages and in the keys of references.
fn parse_model(part: &str, text: &str) -> Result<ModelPart, ReadError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut p = ModelParse {
        model: ModelPart {
            unit_mm: 1.0,
            objects: HashMap::new(),
            items: Vec::new(),
        },
        current: None,
        saw_model: false,
    };
    loop {
        let at = reader.buffer_position();
        let here = || format!("`{part}` line {}", line_of(text, at));
        let event = reader.read_event().map_err(|e| {
            error(format!(
                "`{part}` line {}: malformed XML ({e})",
                line_of(text, reader.error_position())
            ))
        })?;
        match event {
            Event::Start(e) | Event::Empty(e) => p.start(&e, part, &here)?,
            Event::End(e) if e.local_name().as_ref() == "object" => p.end_object(&here)?,
            Event::Eof => break,
            _ => {}
        }
    }
    if !p.saw_model {
        return Err(error(format!("`{part}` has no <model> element")));
    }
    Ok(p.model)
}

/// Gathers the triangles of the build into a welder, parsing further model parts on demand.
struct Assembler {
    package: Package,
    parts: HashMap<String, ModelPart>,
    welder: Welder,
}

impl Assembler {
    fn load_part(&mut self, name: &str) -> Result<(), ReadError> {
        if !self.parts.contains_key(name) {
            let text = self.package.read_text(name)?;
            let part = parse_model(name, &text)?;
            self.parts.insert(name.to_string(), part);
        }
        Ok(())
    }

    /// Adds object `key` under `transform` (already including the unit scale).
    fn add_object(
        &mut self,
        key: &ObjectKey,
        transform: &Matrix4<f64>,
        depth: usize,
    ) -> Result<(), ReadError> {
        if depth > MAX_DEPTH {
            return Err(error(format!(
                "components nest deeper than {MAX_DEPTH} levels at object {} (a reference cycle?)",
                key.1
            )));
        }
        self.load_part(&key.0)?;
        let part = &self.parts[&key.0];
        let object = part.objects.get(&key.1).ok_or_else(|| {
            error(format!(
                "a build item or component refers to object {}, which `{}` does not define",
                key.1, key.0
            ))
        })?;
        // A mirroring transform turns the surface inside out; swap two corners to keep the
        // normals pointing outwards.
        let mirrored = transform.fixed_view::<3, 3>(0, 0).determinant() < 0.0;
        let count = object.mesh.vertices.len();
        for (k, t) in object.mesh.triangles.iter().enumerate() {
            let mut corners = [Point3::origin(); 3];
            for (c, &i) in corners.iter_mut().zip(t) {
                let v = usize::try_from(i)
                    .ok()
                    .and_then(|i| object.mesh.vertices.get(i))
                    .ok_or_else(|| ReadError::BadVertexIndex {
                        place: format!("triangle {k} of object {} in `{}`", key.1, key.0),
                        index: i,
                        count,
                    })?;
                *c = transform.transform_point(v);
            }
            if mirrored {
                corners.swap(1, 2);
            }
            self.welder.triangle(corners)?;
        }
        let components = object.components.clone();
        for (child, m) in &components {
            self.add_object(child, &(transform * m), depth + 1)?;
        }
        Ok(())
    }
}

/// Reads a 3MF package into millimetres (the model's declared unit is applied).
pub(crate) fn read_3mf(bytes: &[u8]) -> Result<Mesh, ReadError> {
    let mut package = Package::open(bytes)?;
    let root = part_name(&package.root_model()?);
    let mut asm = Assembler {
        package,
        parts: HashMap::new(),
        welder: Welder::with_capacity(0),
    };
    asm.load_part(&root)?;
    let (unit_mm, items) = {
        let part = &asm.parts[&root];
        (part.unit_mm, part.items.clone())
    };
    if items.is_empty() {
        return Err(error(format!(
            "`{root}` has no <build> items: nothing is placed for printing"
        )));
    }
    let scale = Matrix4::new_scaling(unit_mm);
    for (key, transform) in &items {
        asm.add_object(key, &(scale * transform), 0)?;
    }
    if asm.welder.triangle_count() == 0 {
        return Err(ReadError::NoTriangles { format: "3MF" });
    }
    asm.welder.finish()
}
