//! Parts on the plate (protocol 4): the part table, blocks that name their part, and the
//! controller's report per part.
//!
//! A plate job sends, after its `ParamSet`s and before its first layer, one `Part` per part
//! with indices 0, 1, 2 … in order. Every vector block of such a job is a `PartBlock` naming
//! the part it belongs to; a job without a part table (one part, protocol 3 and earlier) uses
//! `VectorBlock`s only. Mixing the two is refused, so each job's layer digest reads one form.
//! Every vector of a `PartBlock` lies inside its part's declared footprint box.
//!
//! [`PartTable`] is that rule, shared by the job verifier and the controller; it holds at most
//! [`MAX_PARTS`] parts and never allocates.

use serde::{Deserialize, Serialize};

use super::control::Rule;
use super::vector::{Point, VectorBlock};

/// Most parts one job may declare (a full plate of implants is 10–40).
pub const MAX_PARTS: usize = 64;

/// One part of the plate: who it is for, where it stands and the box its vectors keep to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part<'a> {
    /// 0-based index, equal to the number of parts before it.
    pub index: u16,
    /// Serial number, unique on the plate.
    pub serial: &'a str,
    /// Patient or case reference (may be empty).
    pub case: &'a str,
    /// Centre of the placed footprint, x in quanta.
    pub x: i32,
    /// Centre of the placed footprint, y in quanta.
    pub y: i32,
    /// Rotation about z in millidegrees.
    pub rotation_mdeg: i32,
    /// Footprint box `[min_x, min_y, max_x, max_y]` in quanta: every vector of the part lies in it.
    pub footprint: [i32; 4],
}

/// A vector block of a plate job, naming its part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartBlock<'a> {
    /// Index of the part in the part table.
    pub part: u16,
    /// The vectors.
    #[serde(borrow)]
    pub block: VectorBlock<'a>,
}

/// How a part ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartState {
    /// Every layer of the job executed with the part in it.
    Built,
    /// Excluded from the layers from `layer` on, for `rule`; the rest of the plate went on.
    Skipped {
        /// The first layer without the part.
        layer: u32,
        /// Why.
        rule: Rule,
    },
    /// The job stopped before it completed (fault or abort of the whole build).
    Unfinished,
}

/// The controller's account of one part, sent after the job's `Report`, one per part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartReport {
    /// Index in the part table.
    pub part: u16,
    /// How it ended.
    pub state: PartState,
    /// Vectors of the part marked.
    pub vectors: u64,
    /// Its laser energy in millijoules.
    pub energy_mj: u64,
    /// Its mark time in 10 µs ticks (marks only: jumps and delays belong to the layer).
    pub mark_ticks: u64,
    /// Part hash over what was executed of it (see [`crate::wire::digest::PartDigest`]).
    pub executed_sha256: [u8; 32],
}

/// The operator's command to exclude one part of a plate from the layers not yet executed
/// (out of band, like `Pause`); the rest of the plate goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipPart {
    /// Index of the part in the part table.
    pub part: u16,
}

/// Why a part table or a block's part is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartError {
    /// A `Part` whose index is not the next one.
    #[error("part {got} where part {expected} was expected")]
    OutOfOrder {
        /// The index that came.
        got: u16,
        /// The next index.
        expected: u16,
    },
    /// More parts than the table holds.
    #[error("more than {max} parts")]
    TooMany {
        /// The capacity.
        max: usize,
    },
    /// A footprint box whose minimum exceeds its maximum.
    #[error("part {part} footprint box is empty")]
    EmptyFootprint {
        /// The part.
        part: u16,
    },
    /// A serial number that is empty or given to an earlier part.
    #[error("part {part} serial is empty or repeats an earlier part's")]
    Serial {
        /// The part.
        part: u16,
    },
    /// A `PartBlock` naming a part the table does not hold.
    #[error("block names part {part}, the job declares {parts}")]
    Unknown {
        /// The part named.
        part: u16,
        /// Parts declared.
        parts: u16,
    },
    /// A `VectorBlock` in a job with a part table, or a `PartBlock` in one without.
    #[error("a job with a part table sends PartBlocks only, one without sends VectorBlocks only")]
    Mixed,
    /// A vector endpoint outside its part's footprint box.
    #[error("part {part}: vector end ({x}, {y}) outside its footprint")]
    Outside {
        /// The part.
        part: u16,
        /// x in quanta.
        x: i32,
        /// y in quanta.
        y: i32,
    },
}

impl PartError {
    /// The protocol rule the refusal breaks.
    pub fn rule(&self) -> Rule {
        match self {
            PartError::Outside { .. } => Rule::OutsidePart,
            _ => Rule::PartTable,
        }
    }
}

/// The part table of one job as it arrives, and the rule its blocks meet.
#[derive(Clone, Debug, Default)]
pub struct PartTable {
    boxes: heapless::Vec<[i32; 4], MAX_PARTS>,
    serials: heapless::Vec<u64, MAX_PARTS>,
}

/// FNV-1a of a serial: enough to tell serials apart without storing them.
fn serial_key(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl PartTable {
    /// An empty table (a job without parts).
    pub fn new() -> Self {
        Self::default()
    }

    /// Parts declared so far.
    pub fn len(&self) -> u16 {
        self.boxes.len() as u16
    }

    /// Whether the job declares no part.
    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    /// Adds the next part: its index in order, a non-empty box, a serial not seen before.
    pub fn add(&mut self, p: &Part<'_>) -> Result<(), PartError> {
        let expected = self.len();
        if p.index != expected {
            return Err(PartError::OutOfOrder {
                got: p.index,
                expected,
            });
        }
        let [x0, y0, x1, y1] = p.footprint;
        if x0 > x1 || y0 > y1 {
            return Err(PartError::EmptyFootprint { part: p.index });
        }
        let key = serial_key(p.serial);
        if p.serial.is_empty() || self.serials.contains(&key) {
            return Err(PartError::Serial { part: p.index });
        }
        self.boxes
            .push(p.footprint)
            .map_err(|_| PartError::TooMany { max: MAX_PARTS })?;
        self.serials
            .push(key)
            .map_err(|_| PartError::TooMany { max: MAX_PARTS })?;
        Ok(())
    }

    /// The footprint box of `part`.
    pub fn footprint(&self, part: u16) -> Option<[i32; 4]> {
        self.boxes.get(usize::from(part)).copied()
    }

    /// The first part whose footprint box holds `pt` (quanta).
    pub fn part_at(&self, pt: Point) -> Option<u16> {
        self.boxes
            .iter()
            .position(|[x0, y0, x1, y1]| pt.x >= *x0 && pt.x <= *x1 && pt.y >= *y0 && pt.y <= *y1)
            .map(|i| i as u16)
    }

    /// The form of a block against the table: `part` is `None` for a `VectorBlock`.
    pub fn check_block(&self, part: Option<u16>) -> Result<(), PartError> {
        match part {
            None if self.is_empty() => Ok(()),
            Some(p) if !self.is_empty() => {
                if usize::from(p) < self.boxes.len() {
                    Ok(())
                } else {
                    Err(PartError::Unknown {
                        part: p,
                        parts: self.len(),
                    })
                }
            }
            _ => Err(PartError::Mixed),
        }
    }

    /// Whether `pt` lies in the footprint of `part` (always, for a job without parts).
    pub fn check_point(&self, part: Option<u16>, pt: Point) -> Result<(), PartError> {
        let Some(part) = part else {
            return Ok(());
        };
        match self.boxes.get(usize::from(part)) {
            Some([x0, y0, x1, y1]) if pt.x >= *x0 && pt.x <= *x1 && pt.y >= *y0 && pt.y <= *y1 => {
                Ok(())
            }
            Some(_) => Err(PartError::Outside {
                part,
                x: pt.x,
                y: pt.y,
            }),
            None => Err(PartError::Unknown {
                part,
                parts: self.len(),
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn part(index: u16, serial: &str) -> Part<'_> {
        Part {
            index,
            serial,
            case: "",
            x: 0,
            y: 0,
            rotation_mdeg: 0,
            footprint: [-10, -10, 10, 10],
        }
    }

    #[test]
    fn parts_must_come_in_index_order_with_distinct_serials() {
        let mut t = PartTable::new();
        t.add(&part(0, "A")).unwrap();
        assert_eq!(
            t.add(&part(2, "B")),
            Err(PartError::OutOfOrder {
                got: 2,
                expected: 1
            })
        );
        assert_eq!(t.add(&part(1, "A")), Err(PartError::Serial { part: 1 }));
        assert_eq!(t.add(&part(1, "")), Err(PartError::Serial { part: 1 }));
        t.add(&part(1, "B")).unwrap();
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn a_table_refuses_the_part_after_its_capacity() {
        let mut t = PartTable::new();
        let serials: Vec<String> = (0..=MAX_PARTS).map(|i| format!("S{i}")).collect();
        for (i, s) in serials.iter().enumerate().take(MAX_PARTS) {
            t.add(&part(i as u16, s)).unwrap();
        }
        assert_eq!(
            t.add(&part(MAX_PARTS as u16, &serials[MAX_PARTS])),
            Err(PartError::TooMany { max: MAX_PARTS })
        );
    }

    #[test]
    fn blocks_must_match_the_jobs_form_and_name_a_declared_part() {
        let none = PartTable::new();
        assert_eq!(none.check_block(None), Ok(()));
        assert_eq!(none.check_block(Some(0)), Err(PartError::Mixed));
        let mut t = PartTable::new();
        t.add(&part(0, "A")).unwrap();
        assert_eq!(t.check_block(Some(0)), Ok(()));
        assert_eq!(t.check_block(None), Err(PartError::Mixed));
        assert_eq!(
            t.check_block(Some(1)),
            Err(PartError::Unknown { part: 1, parts: 1 })
        );
    }

    #[test]
    fn a_vector_end_outside_the_footprint_box_is_refused_with_its_coordinates() {
        let mut t = PartTable::new();
        t.add(&part(0, "A")).unwrap();
        assert_eq!(t.check_point(Some(0), Point::new(10, -10)), Ok(()));
        let e = t.check_point(Some(0), Point::new(11, 0)).unwrap_err();
        assert_eq!(
            e,
            PartError::Outside {
                part: 0,
                x: 11,
                y: 0
            }
        );
        assert_eq!(e.rule(), Rule::OutsidePart);
        assert_eq!(t.check_point(None, Point::new(1_000, 0)), Ok(()));
    }

    #[test]
    fn an_empty_footprint_box_is_refused() {
        let mut t = PartTable::new();
        let mut p = part(0, "A");
        p.footprint = [5, 0, 4, 10];
        assert_eq!(t.add(&p), Err(PartError::EmptyFootprint { part: 0 }));
    }
}
