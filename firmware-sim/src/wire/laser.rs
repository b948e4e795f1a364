//! Lasers (protocol 5): blocks naming the laser that exposes them.
//!
//! A job planned for a multi-laser machine sends every vector block as a `LaserBlock`: the
//! laser's index on the machine, the part it belongs to (`Some` exactly when the job has a part
//! table) and the vectors. A job sends one form only: when its first block is a `LaserBlock`,
//! every block is; when it is not, none is ([`BlockForm`]), so each job's layer digest reads one
//! form. Every vector of a `LaserBlock` lies inside its laser's field, less half its spot
//! ([`crate::limits::laser_field_quanta`]). A job without laser blocks is exposed by the
//! machine's first laser: on a one-laser machine over the whole field, as in protocol 4; on a
//! machine of several, only within the first laser's field (the host plans such a job onto
//! the lasers before it is sent: `meltline lasers -o`).
//!
//! The lasers of a machine work at once: a layer takes as long as its slowest laser, plus
//! recoating ([`crate::machine::LayerTiming::concurrent`]).

use serde::{Deserialize, Serialize};

use super::vector::VectorBlock;

/// A vector block naming the laser that exposes it (and its part in a plate job).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaserBlock<'a> {
    /// The laser's index on the machine.
    pub laser: u8,
    /// Index of the part in the part table (`None` in a job without parts).
    pub part: Option<u16>,
    /// The vectors.
    #[serde(borrow)]
    pub block: VectorBlock<'a>,
}

/// A job mixing blocks that name their laser with blocks that do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "a job whose first block names its laser sends LaserBlocks only, and one whose first block does not sends none"
)]
pub struct MixedLaserForm;

/// The form of a job's blocks, fixed by its first block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockForm(Option<bool>);

impl BlockForm {
    /// No block seen yet.
    pub fn new() -> Self {
        Self(None)
    }

    /// The next block names `laser` (or none): the first block fixes the form, every later
    /// one must keep it.
    pub fn check(&mut self, laser: Option<u8>) -> Result<(), MixedLaserForm> {
        match self.0 {
            None => {
                self.0 = Some(laser.is_some());
                Ok(())
            }
            Some(f) if f == laser.is_some() => Ok(()),
            Some(_) => Err(MixedLaserForm),
        }
    }

    /// Whether the job's blocks name their lasers (`None` before the first block).
    pub fn lasers(&self) -> Option<bool> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_block_fixes_the_form_and_a_block_of_the_other_form_is_refused() {
        let mut f = BlockForm::new();
        assert_eq!(f.lasers(), None);
        assert_eq!(f.check(Some(2)), Ok(()));
        assert_eq!(f.check(Some(0)), Ok(()));
        assert_eq!(f.check(None), Err(MixedLaserForm));
        let mut g = BlockForm::new();
        assert_eq!(g.check(None), Ok(()));
        assert_eq!(g.check(Some(1)), Err(MixedLaserForm));
        assert_eq!(g.lasers(), Some(false));
    }
}
