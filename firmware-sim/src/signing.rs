//! Releasing a job (host side, feature `std`): checks a `.mlj` frame stream, signs a
//! [`Release`] over it and writes it back with the release after the header and a
//! [`LayerLink`] before every `LayerEnd` (see [`crate::wire::release`]); and reads a job's
//! release back and checks it against the job's content.

use ed25519_dalek::{Signer, SigningKey};

use crate::controller::release::verify_release;
use crate::job::FrameReader;
use crate::wire::digest::{JobDigest, LayerDigest};
use crate::wire::release::{MAX_SIGNED, chain, key_id, signature_halves};
use crate::wire::{
    Frame, FrameError, LayerLink, MAX_FRAME, Msg, Release, encode_frame, parse_body, unstuff_frame,
};

/// Why a job could not be released or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// Reading the job failed.
    #[error("reading the job: {0}")]
    Io(#[from] std::io::Error),
    /// A frame does not decode.
    #[error("frame {index} (byte offset {offset}): {source}")]
    Frame {
        /// Ordinal of the frame.
        index: u64,
        /// Byte offset where it starts.
        offset: u64,
        /// What is wrong.
        source: FrameError,
    },
    /// The job's structure is not header, parameter sets, layers, end.
    #[error("frame {index}: {what}")]
    Structure {
        /// Ordinal of the frame.
        index: u64,
        /// What is out of place.
        what: String,
    },
    /// A layer's blocks do not hash to its `LayerEnd` digest, or the job hash is wrong.
    #[error("{0}: the job is not consistent; it was not released")]
    Inconsistent(String),
    /// The signer's name or the meaning is too long.
    #[error("{0}")]
    Text(#[from] crate::wire::release::TextTooLong),
}

/// Who releases the job, what the signature means, and when.
#[derive(Clone, Debug)]
pub struct ReleaseSpec {
    /// Printed name of the signer.
    pub signer: String,
    /// Meaning of the signature.
    pub meaning: String,
    /// Seconds since the epoch, UTC.
    pub utc_seconds: u64,
}

/// A job's frames as postcard bodies (CRC and COBS removed), earlier releases dropped.
struct Parsed {
    bodies: Vec<Vec<u8>>,
    release: Option<Vec<u8>>,
    setup: [u8; 32],
    job_sha256: [u8; 32],
    layer_digests: Vec<[u8; 32]>,
}

fn bodies(job: &[u8]) -> Result<Vec<(u64, Vec<u8>)>, SigningError> {
    let mut out = Vec::new();
    for raw in FrameReader::new(job) {
        let raw = raw?;
        let mut wire = raw.wire.strip_suffix(&[0]).unwrap_or(&raw.wire).to_vec();
        let body = unstuff_frame(&mut wire)
            .map_err(|source| SigningError::Frame {
                index: raw.index,
                offset: raw.offset,
                source,
            })?
            .to_vec();
        parse_body(&body).map_err(|source| SigningError::Frame {
            index: raw.index,
            offset: raw.offset,
            source,
        })?;
        out.push((raw.index, body));
    }
    Ok(out)
}

fn parse(job: &[u8]) -> Result<Parsed, SigningError> {
    let structure = |index: u64, what: &str| SigningError::Structure {
        index,
        what: what.into(),
    };
    let mut p = Parsed {
        bodies: Vec::new(),
        release: None,
        setup: [0; 32],
        job_sha256: [0; 32],
        layer_digests: Vec::new(),
    };
    let mut digest: Option<JobDigest> = None;
    let mut layer: Option<LayerDigest> = None;
    let mut ended = false;
    for (index, body) in bodies(job)? {
        let frame = parse_body(&body).map_err(|_| structure(index, "does not decode"))?;
        match (frame.msg, digest.as_mut()) {
            (Msg::JobHeader(h), None) => digest = Some(JobDigest::new(&h)),
            (Msg::JobHeader(_), Some(_)) => return Err(structure(index, "a second JobHeader")),
            (_, None) => return Err(structure(index, "the job does not open with a JobHeader")),
            (Msg::Release(_), Some(_)) => {
                p.release = Some(body);
                continue;
            }
            (Msg::LayerLink(_), Some(_)) => continue,
            (Msg::ParamSet(ps), Some(d)) => {
                d.param_set(&ps);
                p.setup = d.clone().finish();
            }
            (Msg::Part(part), Some(d)) => {
                d.part(&part);
                p.setup = d.clone().finish();
            }
            (Msg::LayerStart(l), Some(_)) => layer = Some(LayerDigest::new(l.layer)),
            (Msg::VectorBlock(_) | Msg::PartBlock(_) | Msg::LaserBlock(_), Some(_)) => {
                match (layer.as_mut(), frame.msg.block()) {
                    (Some(ld), Some((part, b))) => ld.block(frame.msg.laser(), part, b),
                    _ => return Err(structure(index, "a vector block outside a layer")),
                }
            }
            (Msg::LayerEnd(e), Some(d)) => {
                let got = layer
                    .take()
                    .ok_or_else(|| structure(index, "a LayerEnd without LayerStart"))?
                    .finish();
                if got != e.digest {
                    let what = format!("layer {} does not hash to its LayerEnd digest", e.layer);
                    return Err(SigningError::Inconsistent(what));
                }
                d.layer(&got);
                p.layer_digests.push(got);
            }
            (Msg::JobEnd(e), Some(d)) => {
                if d.clone().finish() != e.job_sha256 {
                    let what = "the job hash in JobEnd".to_string();
                    return Err(SigningError::Inconsistent(what));
                }
                p.job_sha256 = e.job_sha256;
                ended = true;
            }
            _ => return Err(structure(index, "not a job message")),
        }
        if p.layer_digests.is_empty() && layer.is_none() && !ended {
            // Header and parameter sets so far: the setup hash as the controller computes it.
            if let Some(d) = digest.as_ref() {
                p.setup = d.clone().finish();
            }
        }
        p.bodies.push(body);
    }
    if !ended {
        return Err(structure(p.bodies.len() as u64, "the job has no JobEnd"));
    }
    Ok(p)
}

fn emit(out: &mut Vec<u8>, seq: &mut u32, msg: &Msg<'_>) -> Result<(), SigningError> {
    let mut buf = [0u8; MAX_FRAME];
    let n = encode_frame(*seq, msg, &mut buf).map_err(|source| SigningError::Frame {
        index: u64::from(*seq),
        offset: out.len() as u64,
        source,
    })?;
    out.extend_from_slice(buf.get(..n).unwrap_or(&[]));
    *seq += 1;
    Ok(())
}

/// Releases `job`: returns the job's frames with a signed release record and layer proofs,
/// renumbered; an earlier release is replaced.
pub fn release_job(
    job: &[u8],
    key: &SigningKey,
    spec: &ReleaseSpec,
) -> Result<Vec<u8>, SigningError> {
    let p = parse(job)?;
    let c = chain(&p.layer_digests);
    let mut release = Release {
        key_id: key_id(key.verifying_key().as_bytes()),
        signer: &spec.signer,
        meaning: &spec.meaning,
        utc_seconds: spec.utc_seconds,
        job_sha256: p.job_sha256,
        setup_sha256: p.setup,
        layers_root: c.first().copied().unwrap_or_default(),
        signature: [[0; 32]; 2],
    };
    let mut signed = [0u8; MAX_SIGNED];
    let n = release.signed_bytes(&mut signed)?;
    let sig = key.sign(signed.get(..n).unwrap_or(&[]));
    release.signature = signature_halves(&sig.to_bytes());
    let mut out = Vec::with_capacity(job.len() + 64 * (p.layer_digests.len() + 4));
    let mut seq = 0u32;
    for body in &p.bodies {
        let Frame { msg, .. } = parse_body(body).map_err(|source| SigningError::Frame {
            index: u64::from(seq),
            offset: 0,
            source,
        })?;
        match msg {
            Msg::JobHeader(mut h) => {
                // The header announces the hash so the controller can match it to the release.
                h.job_sha256 = Some(p.job_sha256);
                emit(&mut out, &mut seq, &Msg::JobHeader(h))?;
                emit(&mut out, &mut seq, &Msg::Release(release))?;
            }
            Msg::LayerEnd(e) => {
                let rest = c.get(e.layer as usize + 1).copied().unwrap_or_default();
                let link = LayerLink {
                    layer: e.layer,
                    rest,
                };
                emit(&mut out, &mut seq, &Msg::LayerLink(link))?;
                emit(&mut out, &mut seq, &msg)?;
            }
            _ => emit(&mut out, &mut seq, &msg)?,
        }
    }
    Ok(out)
}

/// A job's release record and how it compares with the job.
#[derive(Clone, Debug)]
pub struct ReleaseCheck {
    /// The record, as the report shows it.
    pub record: crate::sim::report::ReleaseReport,
    /// Key id, raw.
    pub key_id: [u8; 8],
    /// The job hash, setup hash and layer chain recomputed from the job equal the record's.
    pub matches_job: bool,
    /// The signature against the given public keys: `None` when none was given.
    pub signature_valid: Option<bool>,
}

/// Reads the release of `job` (if any) and checks it against the job and, when given, the
/// trusted public keys (hex).
pub fn check_release(job: &[u8], trusted: &[String]) -> Result<Option<ReleaseCheck>, SigningError> {
    let p = parse(job)?;
    let Some(body) = p.release.as_ref() else {
        return Ok(None);
    };
    let Ok(Frame {
        msg: Msg::Release(r),
        ..
    }) = parse_body(body)
    else {
        return Ok(None);
    };
    let root = chain(&p.layer_digests).first().copied().unwrap_or_default();
    let matches_job =
        r.job_sha256 == p.job_sha256 && r.setup_sha256 == p.setup && r.layers_root == root;
    let signature_valid = (!trusted.is_empty())
        .then(|| verify_release(&r, trusted.iter().map(String::as_str)).is_ok());
    Ok(Some(ReleaseCheck {
        record: crate::sim::report::ReleaseReport::new(&r, signature_valid == Some(true)),
        key_id: r.key_id,
        matches_job,
        signature_valid,
    }))
}
