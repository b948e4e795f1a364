//! Stanford PLY, ASCII and binary, through `ply-rs-bw`: the `vertex` element's x, y, z (any
//! numeric type) and the `face` element's index list, polygons fan-triangulated.

use nalgebra::Point3;
use ply_rs_bw::parser::Parser;
use ply_rs_bw::ply::{DefaultElement, Property};

use super::ReadError;
use super::weld::{IndexedWelder, check_finite};
use crate::mesh::Mesh;

fn error(message: impl Into<String>) -> ReadError {
    ReadError::Ply {
        message: message.into(),
    }
}

/// A scalar property as f64.
fn scalar(p: &Property) -> Option<f64> {
    Some(match *p {
        Property::Char(v) => f64::from(v),
        Property::UChar(v) => f64::from(v),
        Property::Short(v) => f64::from(v),
        Property::UShort(v) => f64::from(v),
        Property::Int(v) => f64::from(v),
        Property::UInt(v) => f64::from(v),
        Property::Float(v) => f64::from(v),
        Property::Double(v) => v,
        _ => return None,
    })
}

/// An index list property as signed indices.
fn index_list(p: &Property) -> Option<Vec<i64>> {
    Some(match p {
        Property::ListChar(v) => v.iter().map(|&i| i64::from(i)).collect(),
        Property::ListUChar(v) => v.iter().map(|&i| i64::from(i)).collect(),
        Property::ListShort(v) => v.iter().map(|&i| i64::from(i)).collect(),
        Property::ListUShort(v) => v.iter().map(|&i| i64::from(i)).collect(),
        Property::ListInt(v) => v.iter().map(|&i| i64::from(i)).collect(),
        Property::ListUInt(v) => v.iter().map(|&i| i64::from(i)).collect(),
        _ => return None,
    })
}

/// Reads PLY bytes.
pub(crate) fn read_ply(bytes: &[u8]) -> Result<Mesh, ReadError> {
    let mut reader = bytes;
    let ply = Parser::<DefaultElement>::new()
        .read_ply(&mut reader)
        .map_err(|e| error(e.to_string()))?;
    let vertices = ply
        .payload
        .get("vertex")
        .ok_or_else(|| error("no `vertex` element in the header"))?;
    let mut positions = Vec::with_capacity(vertices.len());
    for (i, v) in vertices.iter().enumerate() {
        let coord = |axis: &str| {
            v.get(axis).and_then(scalar).ok_or_else(|| {
                error(format!(
                    "vertex {i} has no numeric `{axis}` property (x, y, z are required)"
                ))
            })
        };
        let p = Point3::new(coord("x")?, coord("y")?, coord("z")?);
        check_finite(&p, || format!("vertex {i}"))?;
        positions.push(p);
    }
    let Some(faces) = ply.payload.get("face") else {
        return Err(ReadError::NoTriangles { format: "PLY" });
    };
    let mut welder = IndexedWelder::new(&positions, faces.len());
    for (f, face) in faces.iter().enumerate() {
        let list = face
            .get("vertex_indices")
            .or_else(|| face.get("vertex_index"))
            .ok_or_else(|| {
                error(format!(
                    "face {f} has no `vertex_indices` (or `vertex_index`) list"
                ))
            })?;
        let indices = index_list(list)
            .ok_or_else(|| error(format!("face {f}: `vertex_indices` is not an integer list")))?;
        welder.polygon(&indices, &|| format!("face {f}"))?;
    }
    let mesh = welder.finish()?;
    if mesh.triangles.is_empty() {
        return Err(ReadError::NoTriangles { format: "PLY" });
    }
    Ok(mesh)
}
