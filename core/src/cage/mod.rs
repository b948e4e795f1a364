//! The cage designer: a [`CageSpec`] (TOML) becomes a watertight lattice interbody cage, optionally
//! fitted to the patient's endplates.
//!
//! - [`spec`]: the spec and its design envelope.
//! - [`footprint`]: 2D footprints per cage kind.
//! - [`lattice`]: the calibrated TPMS core.
//! - [`body`]: the whole cage as one implicit field.
//! - [`endplate`]: disc-space axis, endplate surfaces and footprint placement.
//! - [`design`]: spec (+ vertebrae) → meshed cage in the build frame.
//! - [`report`]: measurements of a design (porosity, features, overhangs, endplate fit).

pub mod body;
pub mod design;
pub mod endplate;
pub mod footprint;
mod height_grid;
pub mod lattice;
pub mod phantom;
pub mod report;
pub mod spec;

pub use body::CageField;
pub use design::{CageDesign, DesignError, DesignOptions, Fragments, Vertebrae, design_cage};
pub use endplate::{EndplateFit, FitOptions, fit_endplates};
pub use report::{
    DesignReport, FeatureWarning, feature_warnings, measure_design, measure_features,
};
pub use spec::{CageKind, CageSpec, EnvelopeViolation, MarkingFace, MarkingSpec, SpecError};
