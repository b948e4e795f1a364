//! The one way a part becomes a job on the host: read (or design) the mesh, admit it on the
//! machine (the printability check), slice it, and encode the frames. `meltline slice`,
//! `meltline demo` and the scenarios are this pipeline with different inputs and sinks.
//!
//! ```text
//!  Part::read / Part::designed ──► Pipeline::admit ──► Pipeline::slicer ──► drive (sinks)
//!                                  (prepare.rs)        (slicer crate)        └► mlj.rs encode
//! ```

use std::path::{Path, PathBuf};

use meltline_core::cage::{CageDesign, CageSpec, DesignOptions, Vertebrae, design_cage};
use meltline_core::check::CheckReport;
use meltline_core::io::{MeshFormat, ReadError, ReadOptions, Units, read_mesh_bytes};
use meltline_core::mesh::Mesh;
use meltline_firmware::job::encode_job;
use meltline_slicer::job::{JobError, Layer, Slicer, SlicerOptions, StageTimings, mesh_sha256};
use meltline_slicer::profile::ProcessProfile;
use sha2::{Digest, Sha256};

use crate::mlj::{MljError, MljOptions, job_spec, layer_blocks};
use crate::prepare::require_printable;

/// A part ready for the pipeline: its mesh in millimetres and where it came from.
#[derive(Debug, Clone)]
pub struct Part {
    /// How errors and reports name the part (a file path, "the default TLIF cage", …).
    pub name: String,
    /// The mesh, mm.
    pub mesh: Mesh,
    /// SHA-256 of the source file's bytes (of the mesh itself when it has no file).
    pub source_sha256: [u8; 32],
    /// The units the source was read in.
    pub units: Units,
}

impl Part {
    /// Reads a mesh file once: its bytes give the source hash and the mesh.
    pub fn read(path: &Path, units: Units) -> Result<Part, PipelineError> {
        let bytes = std::fs::read(path).map_err(|source| PipelineError::Read {
            path: path.to_path_buf(),
            error: ReadError::Io {
                path: path.to_path_buf(),
                source,
            },
        })?;
        let mesh = read_mesh_bytes(
            &bytes,
            MeshFormat::from_extension(path),
            &ReadOptions::with_units(units),
        )
        .map_err(|error| PipelineError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Ok(Part {
            name: path.display().to_string(),
            mesh,
            source_sha256: Sha256::digest(&bytes).into(),
            units,
        })
    }

    /// A part made in memory (a generated coupon, a box): hashed from its mesh.
    pub fn from_mesh(name: impl Into<String>, mesh: Mesh) -> Part {
        Part {
            name: name.into(),
            source_sha256: mesh_sha256(&mesh),
            mesh,
            units: Units::Mm,
        }
    }

    /// Designs a cage from its spec, optionally fitted to two vertebrae; returns the part and
    /// the design (for its report).
    pub fn designed(
        name: impl Into<String>,
        spec: &CageSpec,
        vertebrae: Option<Vertebrae<'_>>,
        opts: &DesignOptions,
    ) -> Result<(Part, CageDesign), PipelineError> {
        let name = name.into();
        let design = design_cage(spec, vertebrae, opts).map_err(|e| PipelineError::Design {
            part: name.clone(),
            message: e.to_string(),
        })?;
        Ok((Part::from_mesh(name, design.mesh.clone()), design))
    }
}

/// Whether the printability check stands between the mesh and the slicer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The mesh must pass the check on the machine (watertight, in the envelope, the right
    /// size for its units); otherwise nothing is sliced.
    Printable,
    /// The mesh is sliced as it is (the caller has said so, e.g. `--allow-defects`, or the
    /// job is made to exercise the controller's own refusals).
    Unchecked,
}

/// Why the pipeline stopped. Each names the part.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The mesh file cannot be read.
    #[error("{error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: ReadError,
    },
    /// The cage cannot be designed.
    #[error("designing {part}: {message}")]
    Design {
        /// The part.
        part: String,
        /// The designer's reason.
        message: String,
    },
    /// The mesh fails the printability check on the machine.
    #[error("{part} is not printable: {why}")]
    NotPrintable {
        /// The part.
        part: String,
        /// The defects, with a units hint when the size says the units are wrong.
        why: String,
    },
    /// The slicer refuses the part (profile, machine limits, supports).
    #[error("slicing {part}: {source}")]
    Slice {
        /// The part.
        part: String,
        /// The slicer's reason.
        source: JobError,
    },
    /// The job cannot be encoded as frames.
    #[error("encoding {part}: {source}")]
    Encode {
        /// The part.
        part: String,
        /// The encoder's reason.
        source: MljError,
    },
}

/// The machine, profile and slicer options a part goes through.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The process profile.
    pub profile: ProcessProfile,
    /// The slicer's options; their machine is the one the part is admitted on.
    pub options: SlicerOptions,
    /// Whether the printability check applies.
    pub admission: Admission,
}

impl Pipeline {
    /// Checks the part on the machine (with [`Admission::Printable`]): the check's report, or
    /// `NotPrintable` with the defects.
    pub fn admit(&self, part: &Part) -> Result<Option<CheckReport>, PipelineError> {
        match self.admission {
            Admission::Unchecked => Ok(None),
            Admission::Printable => {
                require_printable(&part.mesh, part.units, &self.options.machine)
                    .map(Some)
                    .map_err(|why| PipelineError::NotPrintable {
                        part: part.name.clone(),
                        why,
                    })
            }
        }
    }

    /// Prepares the slicer for an admitted part; the job header carries the part's source
    /// hash.
    pub fn slicer(&self, part: &Part) -> Result<Slicer, PipelineError> {
        let options = SlicerOptions {
            source_sha256: Some(part.source_sha256),
            ..self.options.clone()
        };
        Slicer::new(&part.mesh, self.profile.clone(), options).map_err(|source| {
            PipelineError::Slice {
                part: part.name.clone(),
                source,
            }
        })
    }

    /// Admits and prepares a part: the slicer and the check's report.
    pub fn prepare(&self, part: &Part) -> Result<(Slicer, Option<CheckReport>), PipelineError> {
        let check = self.admit(part)?;
        Ok((self.slicer(part)?, check))
    }
}

/// Slices every layer in order and hands each to `each` (exports, pictures, statistics, the
/// job writer); stops at the first error. Returns the slicer's stage timings.
pub fn drive<E>(
    slicer: &Slicer,
    mut each: impl FnMut(Layer) -> Result<(), E>,
) -> Result<StageTimings, E> {
    let mut stream = slicer.layers();
    for layer in stream.by_ref() {
        each(layer)?;
    }
    Ok(stream.timings())
}

/// Encodes whole layers into a job in memory, the job hash announced in its header.
pub fn encode_in_memory(
    part: &str,
    header: &meltline_slicer::job::JobHeader,
    layers: &[Layer],
    opts: &MljOptions,
) -> Result<Vec<u8>, PipelineError> {
    let encode = |source| PipelineError::Encode {
        part: part.to_string(),
        source,
    };
    let spec = job_spec(header, opts).map_err(encode)?;
    let blocks: Vec<_> = layers.iter().map(layer_blocks).collect();
    encode_job(&spec, &blocks)
        .map(|(bytes, _)| bytes)
        .map_err(|source| {
            encode(MljError::Encode {
                path: PathBuf::from("<memory>"),
                source,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use meltline_firmware::machine::MachineConfig;

    fn pipeline(admission: Admission) -> Pipeline {
        Pipeline {
            profile: ProcessProfile::ti6al4v(),
            options: SlicerOptions {
                center_xy: true,
                machine: MachineConfig::default(),
                ..SlicerOptions::default()
            },
            admission,
        }
    }

    #[test]
    fn a_part_read_from_a_file_carries_the_hash_of_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("box.stl");
        let mesh = Mesh::axis_aligned_box([0.0; 3], [4.0, 3.0, 2.0]);
        meltline_core::io::write_stl(&path, &mesh, meltline_core::io::StlFormat::Binary).unwrap();
        let part = Part::read(&path, Units::Mm).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let want: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(part.source_sha256, want);
        let (slicer, check) = pipeline(Admission::Printable).prepare(&part).unwrap();
        assert!(check.is_some_and(|c| c.printable));
        assert_eq!(slicer.header().source_sha256, want);
    }

    #[test]
    fn a_missing_mesh_file_is_a_read_error_naming_the_file() {
        let e = Part::read(Path::new("/nonexistent/part.stl"), Units::Mm).unwrap_err();
        assert!(matches!(e, PipelineError::Read { .. }), "{e:?}");
        assert!(e.to_string().contains("/nonexistent/part.stl"), "{e}");
    }

    #[test]
    fn a_part_in_metres_is_refused_by_the_printable_admission_and_passed_by_the_unchecked() {
        let part = Part::from_mesh("tiny", Mesh::axis_aligned_box([0.0; 3], [0.05, 0.04, 0.03]));
        let e = pipeline(Admission::Printable).admit(&part).unwrap_err();
        assert!(
            matches!(&e, PipelineError::NotPrintable { part, .. } if part == "tiny"),
            "{e:?}"
        );
        assert!(
            pipeline(Admission::Unchecked)
                .admit(&part)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn driving_a_slicer_hands_over_every_layer_in_order_and_stops_at_the_first_error() {
        let part = Part::from_mesh("box", Mesh::axis_aligned_box([0.0; 3], [3.0, 3.0, 0.3]));
        let slicer = pipeline(Admission::Printable).slicer(&part).unwrap();
        let mut seen = Vec::new();
        drive(&slicer, |l| {
            seen.push(l.index);
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(seen, (0..slicer.layer_count()).collect::<Vec<_>>());
        let mut calls = 0;
        let r = drive(&slicer, |_| {
            calls += 1;
            if calls == 2 { Err("sink full") } else { Ok(()) }
        });
        assert_eq!(r.unwrap_err(), "sink full");
        assert_eq!(calls, 2);
    }

    #[test]
    fn a_job_encoded_in_memory_reads_back_as_a_verified_job_file() {
        let part = Part::from_mesh("box", Mesh::axis_aligned_box([0.0; 3], [3.0, 3.0, 0.3]));
        let slicer = pipeline(Admission::Printable).slicer(&part).unwrap();
        let job = slicer.build_job().unwrap();
        let bytes =
            encode_in_memory("box", &job.header, &job.layers, &MljOptions::default()).unwrap();
        let back =
            crate::jobfile::JobFile::parse(&bytes, "box", &MachineConfig::default()).unwrap();
        assert_eq!(back.layer_count() as usize, job.layers.len());
    }
}
