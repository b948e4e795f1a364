//! Open Vector Format files read into a [`JobDocument`] by following the LUTs: the Job LUT
//! from the position after the magic, the job shell, then per work plane the position of its
//! LUT, the LUT, its shell and its vector blocks. Every position is checked against the file
//! and every delimited message against its stated length; errors name the byte offset.
//!
//! Each block's `laser_index` is kept when the job names lasers: the meltline marker
//! [`super::ovf::P_NAMES_LASERS`] says so, or a block has a nonzero index (see [`super::ovf`]);
//! an index outside 0–255 is refused.

use std::collections::BTreeMap;

use meltline_slicer::job::{
    BuildJob, Geometry, JobParameterSet, Layer, Region, VectorBlock as Block, VectorKind, Xy,
};
use meltline_slicer::profile::ProcessProfile;
use prost::Message;

use super::from_mlj::{empty_layer, job_header, set_label};
use super::ovf::proto::vector_block::{
    LpbfMetadata, PartArea, ProcessMetaData, StructureType, VectorData,
    lpbf_metadata::{SkinCoreStrategyArea, SkinType},
};
use super::ovf::proto::{Job, JobLut, VectorBlock, WorkPlane, WorkPlaneLut};
use super::ovf::{MAGIC, P_MACHINE, P_NAMES_LASERS, P_QUANTUM, p_hatch, p_opens, p_spot};
use super::{BlockLaser, FormatError, JobDocument, WireSet};

/// A file being read; errors name the byte offset.
struct File<'a> {
    bytes: &'a [u8],
    name: &'a str,
}

impl File<'_> {
    fn error(&self, at: u64, what: impl Into<String>) -> FormatError {
        FormatError::malformed(self.name, format!("byte offset {at}"), what)
    }

    /// A position read from the file (`what` names it), checked to lie inside the file.
    fn position(&self, p: i64, from: u64, what: &str) -> Result<usize, FormatError> {
        usize::try_from(p)
            .ok()
            .filter(|&p| p < self.bytes.len())
            .ok_or_else(|| {
                self.error(
                    from,
                    format!(
                        "{what} position {p} is outside the file ({} bytes)",
                        self.bytes.len()
                    ),
                )
            })
    }

    fn i64_at(&self, at: usize) -> Result<i64, FormatError> {
        let b = self
            .bytes
            .get(at..at + 8)
            .ok_or_else(|| self.error(at as u64, "the file ends inside an 8-byte position"))?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_le_bytes(a))
    }

    /// The length-delimited message `what` at `at`.
    fn message<M: Message + Default>(&self, at: usize, what: &str) -> Result<M, FormatError> {
        let mut rest = self.bytes.get(at..).unwrap_or(&[]);
        let total = rest.len();
        let len = prost::decode_length_delimiter(&mut rest)
            .map_err(|e| self.error(at as u64, format!("{what}: bad length prefix: {e}")))?;
        let head = total - rest.len();
        let body = rest.get(..len).ok_or_else(|| {
            self.error(
                at as u64,
                format!(
                    "{what}: truncated delimited message: {len} bytes announced, {} left in the file",
                    rest.len()
                ),
            )
        })?;
        M::decode(body)
            .map_err(|e| self.error((at + head) as u64, format!("{what} does not decode: {e}")))
    }
}

/// Reads an OVF file.
pub fn read(bytes: &[u8], name: &str) -> Result<JobDocument, FormatError> {
    let f = File { bytes, name };
    if bytes.get(..4) != Some(&MAGIC[..]) {
        return Err(f.error(
            0,
            format!(
                "wrong magic number {:02x?}, an OVF file starts with \"LVF!\"",
                bytes.get(..4.min(bytes.len())).unwrap_or(&[])
            ),
        ));
    }
    let lut_at = f.position(f.i64_at(4)?, 4, "Job LUT")?;
    let lut: JobLut = f.message(lut_at, "Job LUT")?;
    let shell_at = f.position(lut.job_shell_position, lut_at as u64, "job shell")?;
    let shell: Job = f.message(shell_at, "job shell")?;
    let mut params = Params::of(&shell);
    let mut layers = Vec::with_capacity(lut.work_plane_positions.len().min(1 << 20));
    let mut lasers: Vec<Vec<BlockLaser>> = Vec::with_capacity(layers.capacity());
    let mut any_laser = false;
    let mut z_top = Vec::new();
    for (i, &wp) in lut.work_plane_positions.iter().enumerate() {
        let what = format!("work plane {i}");
        let start = f.position(wp, lut_at as u64, &what)?;
        let wlut_at = f.position(f.i64_at(start)?, start as u64, &format!("{what} LUT"))?;
        let wlut: WorkPlaneLut = f.message(wlut_at, &format!("{what} LUT"))?;
        let wshell_at = f.position(
            wlut.work_plane_shell_position,
            wlut_at as u64,
            &format!("{what} shell"),
        )?;
        let wshell: WorkPlane = f.message(wshell_at, &format!("{what} shell"))?;
        z_top.push(f64::from(wshell.z_pos_in_mm));
        let mut layer = empty_layer(i, 0.0);
        let mut layer_lasers = Vec::new();
        let opens = params.opens(i);
        for (k, &bp) in wlut.vector_blocks_positions.iter().enumerate() {
            let bwhat = format!("{what} block {k}");
            let at = f.position(bp, wlut_at as u64, &bwhat)?;
            let b: VectorBlock = f.message(at, &bwhat)?;
            let laser = u8::try_from(b.laser_index).map_err(|_| {
                f.error(
                    at as u64,
                    format!(
                        "{bwhat}: laser_index {} is not a laser (a job names lasers 0 to 255)",
                        b.laser_index
                    ),
                )
            })?;
            if let Some(block) = convert(&b, params.quantum_mm)
                .map_err(|e| f.error(at as u64, format!("{bwhat}: {e}")))?
            {
                layer.blocks.push(block);
                layer_lasers.push(BlockLaser {
                    laser,
                    opens: opens.contains(&k),
                });
                any_laser |= laser != 0;
            }
        }
        layers.push(layer);
        lasers.push(layer_lasers);
    }
    if !(params.names_lasers || any_laser) {
        lasers.clear();
    }
    params.document(layers, lasers, &z_top, name)
}

/// What the job shell says.
struct Params {
    quantum_mm: f64,
    thickness_mm: Option<f64>,
    machine: Option<String>,
    material: Option<String>,
    sets: Vec<JobParameterSet>,
    wire: BTreeMap<u16, WireSet>,
    /// meltline's marker says the job names the laser of every block.
    names_lasers: bool,
    /// Per work plane, its blocks' list of those opening a wire block (`p_opens`).
    opens: BTreeMap<usize, String>,
    notes: Vec<String>,
}

impl Params {
    fn of(job: &Job) -> Params {
        let mut notes = Vec::new();
        let part = job.parts_map.get(&super::ovf::PART_KEY);
        let strategy = part.and_then(|p| p.process_strategy.as_ref());
        let extra: BTreeMap<&str, (f64, &str)> = strategy
            .map(|s| {
                s.additional_parameters
                    .iter()
                    .map(|p| {
                        (
                            p.param_name.as_str(),
                            (p.param_value, p.param_description.as_str()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let quantum_mm = match extra.get(P_QUANTUM) {
            Some((q, _)) if (q * 1e6).round() >= 1.0 && q.is_finite() => (q * 1e6).round() * 1e-6,
            _ => {
                notes.push("no quantum given: coordinates kept at 1 µm".into());
                1e-3
            }
        };
        let mut sets = Vec::new();
        let mut wire = BTreeMap::new();
        let mut keys: Vec<_> = job.marking_params_map.iter().collect();
        keys.sort_by_key(|(k, _)| **k);
        for (&key, m) in keys {
            let Ok(id) = u16::try_from(key) else {
                notes.push(format!("marking parameters {key} left out: not a set id"));
                continue;
            };
            let hatch_mm = extra.get(p_hatch(id).as_str()).map_or_else(
                || {
                    notes.push(format!("set {id}: no hatch distance (0 assumed)"));
                    0.0
                },
                |v| v.0,
            );
            let mut w = WireSet::default();
            if let Some((spot, _)) = extra.get(p_spot(id).as_str()) {
                w.spot_um = spot.round().clamp(0.0, f64::from(u32::MAX)) as u32;
            }
            w.skywriting = m.marking_mode != 0;
            wire.insert(id, w);
            sets.push(JobParameterSet {
                id,
                label: if m.name.is_empty() {
                    set_label(id)
                } else {
                    m.name.clone()
                },
                power_w: round_to(f64::from(m.laser_power_in_w), 1e-3),
                speed_mm_s: round_to(f64::from(m.laser_speed_in_mm_per_s), 1e-3),
                hatch_mm,
            });
        }
        Params {
            quantum_mm,
            thickness_mm: strategy
                .map(|s| f64::from(s.layer_thickness_in_mm))
                .filter(|t| *t > 0.0),
            machine: extra
                .get(P_MACHINE)
                .map(|(_, d)| d.to_string())
                .or_else(|| job.work_planes.first().map(|w| w.machine_type.clone())),
            material: part
                .and_then(|p| p.material.as_ref())
                .map(|m| m.name.clone())
                .filter(|n| !n.is_empty()),
            sets,
            wire,
            names_lasers: extra.get(P_NAMES_LASERS).is_some_and(|(v, _)| *v != 0.0),
            opens: extra
                .iter()
                .filter_map(|(k, (_, d))| {
                    let i = k
                        .strip_prefix("meltline.layer.")?
                        .strip_suffix(".new_blocks")?
                        .parse()
                        .ok()?;
                    Some((i, d.to_string()))
                })
                .collect(),
            notes,
        }
    }

    /// The blocks of work plane `i` that open a wire block of their own (entries that are no
    /// block index are left out, noted).
    fn opens(&mut self, i: usize) -> std::collections::BTreeSet<usize> {
        let Some(list) = self.opens.get(&i) else {
            return Default::default();
        };
        let mut out = std::collections::BTreeSet::new();
        for v in list.split_ascii_whitespace() {
            match v.parse() {
                Ok(k) => {
                    out.insert(k);
                }
                Err(_) => self.notes.push(format!(
                    "{}: {v:?} is not a block index (left out)",
                    p_opens(i)
                )),
            }
        }
        out
    }

    fn document(
        mut self,
        mut layers: Vec<Layer>,
        lasers: Vec<Vec<BlockLaser>>,
        z_top: &[f64],
        name: &str,
    ) -> Result<JobDocument, FormatError> {
        let t = self
            .thickness_mm
            .or_else(|| z_top.first().copied())
            .unwrap_or(0.0);
        let t_nm = (t * 1e6).round();
        if !(t_nm.is_finite() && t_nm >= 1.0) {
            return Err(FormatError::malformed(
                name,
                "job shell",
                "cannot tell the layer thickness",
            ));
        }
        let t = t_nm * 1e-6;
        for l in &mut layers {
            l.z_mm = (l.index as f64 + 0.5) * t;
        }
        let profile = ProcessProfile::ti6al4v();
        let machine = self
            .machine
            .take()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| {
                self.notes.push(format!(
                    "no machine named: {}",
                    meltline_firmware::machine::MachineConfig::default().machine
                ));
                meltline_firmware::machine::MachineConfig::default()
                    .machine
                    .to_string()
            });
        let material = self.material.take().unwrap_or_else(|| {
            self.notes
                .push(format!("no material named: {}", profile.material));
            profile.material.clone()
        });
        let header = job_header(&machine, &material, self.quantum_mm, t, self.sets, &layers);
        Ok(JobDocument {
            job: BuildJob { header, layers },
            wire: self.wire,
            lasers,
            notes: self.notes,
        })
    }
}

/// `v` rounded to a multiple of `step` (float32 values back to the decimal they were).
fn round_to(v: f64, step: f64) -> f64 {
    (v / step).round() * step
}

/// One OVF block as a slicer block (`None` for an empty one).
fn convert(b: &VectorBlock, q: f64) -> Result<Option<Block>, String> {
    let set = u16::try_from(b.marking_params_key).map_err(|_| {
        format!(
            "marking parameters key {} is not a set id",
            b.marking_params_key
        )
    })?;
    let unit = |v: f32| -> Result<i32, String> {
        let u = (f64::from(v) / q).round();
        if u.is_finite() && u.abs() < f64::from(i32::MAX) {
            Ok(u as i32)
        } else {
            Err(format!("coordinate {v} is out of range"))
        }
    };
    let pts = |v: &[f32]| -> Result<Vec<Xy>, String> {
        v.chunks_exact(2)
            .map(|p| Ok([unit(p[0])?, unit(p[1])?]))
            .collect()
    };
    let geometry = match &b.vector_data {
        Some(VectorData::LineSequence(l)) => Geometry::Polyline(pts(&l.points)?),
        Some(VectorData::Hatches(h)) => {
            let p = pts(&h.points)?;
            Geometry::Vectors(p.chunks_exact(2).map(|c| [c[0], c[1]]).collect())
        }
        None => return Ok(None),
        Some(_) => {
            return Err("only line sequences and hatches have a place in a build job".into());
        }
    };
    let empty = match &geometry {
        Geometry::Polyline(v) => v.len() < 2,
        Geometry::Vectors(v) => v.is_empty(),
    };
    if empty {
        return Ok(None);
    }
    let meta = match &b.process_meta_data {
        Some(ProcessMetaData::LpbfMetadata(m)) => *m,
        _ => LpbfMetadata::default(),
    };
    let (kind, region) = kind_region(&meta, matches!(geometry, Geometry::Vectors(_)));
    Ok(Some(Block {
        kind,
        region,
        parameter_set: set,
        geometry,
    }))
}

fn kind_region(m: &LpbfMetadata, pairs: bool) -> (VectorKind, Region) {
    let support = m.structure_type() == StructureType::Support;
    let contour = m.part_area() == PartArea::Contour;
    let kind = match (support, contour, pairs) {
        (true, _, _) => VectorKind::Support,
        (false, true, false) => VectorKind::Contour,
        (false, true, true) => VectorKind::Edge,
        (false, false, true) => VectorKind::Hatch,
        (false, false, false) => VectorKind::Contour,
    };
    let region = if support {
        Region::Support
    } else if m.skin_core_strategy_area() == SkinCoreStrategyArea::OuterHull {
        Region::Part
    } else {
        match m.skin_type() {
            SkinType::UpSkin => Region::Upskin,
            SkinType::DownSkin => Region::Downskin,
            SkinType::InSkin => Region::Core,
        }
    };
    (kind, region)
}

#[cfg(test)]
mod tests {
    use super::super::ovf::job_shell;
    use super::super::ovf::proto::vector_block::{Hatches, VectorData};
    use super::*;

    /// An OVF of one work plane holding `blocks`, with the job shell of a one-set job;
    /// `marked` adds meltline's lasers marker.
    fn file(blocks: &[VectorBlock], marked: bool) -> Vec<u8> {
        let set = JobParameterSet {
            id: 1,
            label: "core".into(),
            power_w: 150.0,
            speed_mm_s: 600.0,
            hatch_mm: 0.1,
        };
        let header = job_header("m", "Ti-6Al-4V", 0.001, 0.03, vec![set], &[]);
        let mut shell = job_shell(&header, &BTreeMap::new(), 1);
        if marked
            && let Some(s) = shell
                .parts_map
                .get_mut(&super::super::ovf::PART_KEY)
                .and_then(|p| p.process_strategy.as_mut())
        {
            s.additional_parameters.push(
                super::super::ovf::proto::part::process_strategy::ProprietaryParam {
                    param_name: P_NAMES_LASERS.into(),
                    param_value: 1.0,
                    param_description: String::new(),
                },
            );
        }
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&0i64.to_le_bytes());
        let start = out.len();
        out.extend_from_slice(&0i64.to_le_bytes());
        let mut positions = Vec::new();
        for b in blocks {
            positions.push(out.len() as i64);
            b.encode_length_delimited(&mut out).unwrap();
        }
        let wshell_at = out.len() as i64;
        WorkPlane {
            num_blocks: blocks.len() as i32,
            ..WorkPlane::default()
        }
        .encode_length_delimited(&mut out)
        .unwrap();
        let wlut_at = out.len() as i64;
        WorkPlaneLut {
            work_plane_shell_position: wshell_at,
            vector_blocks_positions: positions,
        }
        .encode_length_delimited(&mut out)
        .unwrap();
        out[start..start + 8].copy_from_slice(&wlut_at.to_le_bytes());
        let shell_at = out.len() as i64;
        shell.encode_length_delimited(&mut out).unwrap();
        let lut_at = out.len() as i64;
        JobLut {
            job_shell_position: shell_at,
            work_plane_positions: vec![start as i64],
        }
        .encode_length_delimited(&mut out)
        .unwrap();
        out[4..12].copy_from_slice(&lut_at.to_le_bytes());
        out
    }

    fn hatch_on(laser_index: i32) -> VectorBlock {
        VectorBlock {
            marking_params_key: 1,
            laser_index,
            vector_data: Some(VectorData::Hatches(Hatches {
                points: vec![0.0, 0.0, 1.0, 0.0],
            })),
            ..VectorBlock::default()
        }
    }

    fn lasers(doc: &JobDocument) -> Vec<u8> {
        doc.lasers.iter().flatten().map(|b| b.laser).collect()
    }

    #[test]
    fn a_nonzero_laser_index_names_lasers_without_the_marker_and_zeros_do_not() {
        let doc = read(&file(&[hatch_on(0), hatch_on(2)], false), "f.ovf").unwrap();
        assert!(doc.names_lasers());
        assert_eq!(lasers(&doc), [0, 2]);
        let doc = read(&file(&[hatch_on(0), hatch_on(0)], false), "f.ovf").unwrap();
        assert!(!doc.names_lasers());
    }

    #[test]
    fn the_marker_names_lasers_even_when_every_index_is_zero() {
        let doc = read(&file(&[hatch_on(0), hatch_on(0)], true), "f.ovf").unwrap();
        assert!(doc.names_lasers());
        assert_eq!(lasers(&doc), [0, 0]);
    }

    #[test]
    fn a_laser_index_outside_0_to_255_is_refused_naming_the_block_and_its_offset() {
        for bad in [-1, 256] {
            let bytes = file(&[hatch_on(0), hatch_on(bad)], false);
            let e = match read(&bytes, "f.ovf") {
                Ok(_) => panic!("laser_index {bad} accepted"),
                Err(e) => e.to_string(),
            };
            assert!(e.starts_with("f.ovf: byte offset "), "{e}");
            assert!(
                e.contains(&format!(
                    "work plane 0 block 1: laser_index {bad} is not a laser"
                )),
                "{e}"
            );
        }
    }
}
