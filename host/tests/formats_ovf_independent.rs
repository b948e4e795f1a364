//! A written OVF file read back through types independent of the writer's: a descriptor
//! compiled at test time from the same `.proto` files (protox) and `prost-reflect`'s
//! `DynamicMessage`, with the file layout (magic, Int64 LUT positions, varint-delimited
//! messages) followed by hand.

mod formats_common;

use std::path::Path;

use formats_common::{document, lifted_block, write};
use meltline_host::formats::export::ExportOptions;
use meltline_slicer::job::Geometry;
use prost_reflect::{DescriptorPool, DynamicMessage, MapKey, Value};

fn pool() -> DescriptorPool {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("proto");
    let fds = protox::compile(["open_vector_format.proto", "ovf_lut.proto"], [dir]).unwrap();
    DescriptorPool::from_file_descriptor_set(fds).unwrap()
}

/// The varint-delimited message `name` at `at`.
fn message(pool: &DescriptorPool, bytes: &[u8], at: usize, name: &str) -> DynamicMessage {
    let (mut len, mut shift, mut i) = (0usize, 0, at);
    loop {
        let b = bytes[i];
        len |= usize::from(b & 0x7f) << shift;
        shift += 7;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
    }
    let desc = pool
        .get_message_by_name(&format!("open_vector_format.{name}"))
        .unwrap();
    DynamicMessage::decode(desc, &bytes[i..i + len]).unwrap()
}

fn i64_at(bytes: &[u8], at: usize) -> usize {
    i64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize
}

fn field(m: &DynamicMessage, name: &str) -> Value {
    m.get_field_by_name(name)
        .unwrap_or_else(|| panic!("no field {name}"))
        .into_owned()
}

fn positions(m: &DynamicMessage, name: &str) -> Vec<usize> {
    field(m, name)
        .as_list()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap() as usize)
        .collect()
}

fn floats(m: &DynamicMessage) -> Vec<f32> {
    m.get_field_by_name("points")
        .unwrap()
        .as_list()
        .unwrap()
        .iter()
        .map(|v| v.as_f32().unwrap())
        .collect()
}

#[test]
fn a_written_ovf_reads_back_through_a_descriptor_compiled_from_the_proto_files() {
    let dir = tempfile::tempdir().unwrap();
    let doc = document(lifted_block());
    let path = write(&doc, dir.path(), "job.ovf", &ExportOptions::default());
    let bytes = std::fs::read(path).unwrap();
    let pool = pool();
    assert_eq!(&bytes[..4], b"LVF!");
    let lut = message(&pool, &bytes, i64_at(&bytes, 4), "JobLUT");
    let shell_at = field(&lut, "jobShellPosition").as_i64().unwrap() as usize;
    let shell = message(&pool, &bytes, shell_at, "Job");
    let h = &doc.job.header;
    assert_eq!(
        field(&shell, "num_work_planes").as_i32(),
        Some(h.layer_count as i32)
    );
    let marking = field(&shell, "marking_params_map");
    let marking = marking.as_map().unwrap();
    for s in &h.parameter_sets {
        let m = marking[&MapKey::I32(i32::from(s.id))]
            .as_message()
            .unwrap()
            .clone();
        assert_eq!(
            field(&m, "laser_power_in_w").as_f32(),
            Some(s.power_w as f32)
        );
        assert_eq!(
            field(&m, "laser_speed_in_mm_per_s").as_f32(),
            Some(s.speed_mm_s as f32)
        );
    }
    let planes = positions(&lut, "workPlanePositions");
    assert_eq!(planes.len(), doc.job.layers.len());
    let q = h.quantum_mm;
    for (layer, &start) in doc.job.layers.iter().zip(&planes) {
        let wlut = message(&pool, &bytes, i64_at(&bytes, start), "WorkPlaneLUT");
        let wshell_at = field(&wlut, "workPlaneShellPosition").as_i64().unwrap() as usize;
        let wshell = message(&pool, &bytes, wshell_at, "WorkPlane");
        let z = field(&wshell, "z_pos_in_mm").as_f32().unwrap();
        let want_z = (layer.index + 1) as f64 * h.layer_thickness_mm;
        assert!(
            (f64::from(z) - want_z).abs() < 1e-5,
            "layer {} z {z}",
            layer.index
        );
        let blocks = positions(&wlut, "vectorBlocksPositions");
        assert_eq!(blocks.len(), layer.blocks.len(), "layer {}", layer.index);
        for (b, &at) in layer.blocks.iter().zip(&blocks) {
            let m = message(&pool, &bytes, at, "VectorBlock");
            assert_eq!(
                field(&m, "marking_params_key").as_i32(),
                Some(i32::from(b.parameter_set))
            );
            let (data, want): (_, Vec<[i32; 2]>) = match &b.geometry {
                Geometry::Polyline(p) => (field(&m, "line_sequence"), p.clone()),
                Geometry::Vectors(v) => (
                    field(&m, "_hatches"),
                    v.iter().flat_map(|s| [s[0], s[1]]).collect(),
                ),
            };
            let got: Vec<[i32; 2]> = floats(data.as_message().unwrap())
                .chunks_exact(2)
                .map(|c| [c[0], c[1]].map(|v| (f64::from(v) / q).round() as i32))
                .collect();
            assert_eq!(got, want, "layer {}", layer.index);
        }
    }
}
