//! The lasers of a machine: each with its own scan field (a rectangle in build coordinates),
//! power limits and galvo timing.
//!
//! A machine that lists no lasers has one, reaching the whole square field with the machine's
//! power limits and galvo. The built-in multi-laser machines share the 250 mm plate:
//! `meltline-sim-250-2x` has two 150 × 250 mm fields overlapping by 50 mm about `x = 0`, and
//! `meltline-sim-250-4x` four 150 × 150 mm fields overlapping by 50 mm about both axes (the
//! overlap zone is the cross `|x| ≤ 25 mm` or `|y| ≤ 25 mm`).
//!
//! ```
//! use meltline_firmware::lasers::builtin_machine;
//! let m = builtin_machine("meltline-sim-250-4x").unwrap();
//! assert_eq!(m.laser_count(), 4);
//! assert!(m.check_lasers().is_ok());
//! // Every point of the plate is reached by at least one laser.
//! assert!(m.lasers_reaching([0, 0]).count() == 4);
//! assert!(m.lasers_reaching([-100_000, 100_000]).count() == 1);
//! ```

use serde::{Deserialize, Serialize};

use crate::machine::{Galvo, MachineConfig};

/// The most lasers a machine may list.
pub const MAX_LASERS: usize = 8;

/// One laser of a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Laser {
    /// Its scan field in build coordinates, µm: `[x_min, y_min, x_max, y_max]`.
    pub field_um: [i32; 4],
    /// Lowest commandable power, mW.
    pub min_power_mw: u32,
    /// Highest commandable power, mW.
    pub max_power_mw: u32,
    /// Its scanner's timing.
    #[serde(default)]
    pub galvo: Galvo,
}

impl Laser {
    /// Whether the field reaches `p` (µm), edges included.
    pub fn reaches(&self, p: [i64; 2]) -> bool {
        let [x0, y0, x1, y1] = self.field_um.map(i64::from);
        (x0..=x1).contains(&p[0]) && (y0..=y1).contains(&p[1])
    }

    /// Whether the field holds the whole box `[x_min, y_min, x_max, y_max]` (µm).
    pub fn holds(&self, b: [i64; 4]) -> bool {
        self.reaches([b[0], b[1]]) && self.reaches([b[2], b[3]])
    }
}

/// Why a machine's laser list is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaserConfigError {
    /// A field is empty or inverted (laser index).
    EmptyField(usize),
    /// A field reaches beyond the machine's square field (laser index).
    OutsideField(usize),
    /// Its power limits are inverted or beyond the machine's (laser index).
    Power(usize),
    /// A point of the plate no laser reaches (µm).
    Uncovered([i64; 2]),
}

impl core::fmt::Display for LaserConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LaserConfigError::EmptyField(i) => write!(f, "laser {i}: its field is empty"),
            LaserConfigError::OutsideField(i) => {
                write!(f, "laser {i}: its field reaches beyond the machine's field")
            }
            LaserConfigError::Power(i) => write!(
                f,
                "laser {i}: its power limits are inverted or beyond the machine's"
            ),
            LaserConfigError::Uncovered([x, y]) => write!(
                f,
                "no laser reaches ({:.3}, {:.3}) mm of the plate",
                *x as f64 / 1000.0,
                *y as f64 / 1000.0
            ),
        }
    }
}

impl MachineConfig {
    /// How many lasers the machine has (one when it lists none).
    pub fn laser_count(&self) -> usize {
        self.lasers.len().max(1)
    }

    /// Laser `i`: as listed, or the machine's own laser over its whole field when it lists
    /// none.
    pub fn laser(&self, i: usize) -> Option<Laser> {
        if self.lasers.is_empty() {
            let h = i32::try_from(self.field_half_um).unwrap_or(i32::MAX);
            return (i == 0).then_some(Laser {
                field_um: [-h, -h, h, h],
                min_power_mw: self.min_power_mw,
                max_power_mw: self.max_power_mw,
                galvo: self.galvo,
            });
        }
        self.lasers.get(i).copied()
    }

    /// The lasers, in index order.
    pub fn all_lasers(&self) -> impl Iterator<Item = Laser> + '_ {
        (0..self.laser_count()).filter_map(|i| self.laser(i))
    }

    /// Whether a laser not in `down` (bit per laser index) has a field holding the whole box
    /// `[x_min, y_min, x_max, y_max]` in quanta of `quantum_nm`: where a part can still be
    /// built after a laser failed.
    pub fn reachable_without(&self, down: u8, box_q: [i32; 4], quantum_nm: u32) -> bool {
        let q = i64::from(quantum_nm.max(1));
        let b = box_q.map(|v| i64::from(v) * q);
        self.all_lasers().enumerate().any(|(i, l)| {
            let up = i >= 8 || down & (1 << i) == 0;
            let f = l.field_um.map(|v| i64::from(v) * 1000);
            up && f[0] <= b[0] && f[1] <= b[1] && b[2] <= f[2] && b[3] <= f[3]
        })
    }

    /// The indices of the lasers whose field reaches `p` (µm).
    pub fn lasers_reaching(&self, p: [i64; 2]) -> impl Iterator<Item = usize> + '_ {
        self.all_lasers()
            .enumerate()
            .filter(move |(_, l)| l.reaches(p))
            .map(|(i, _)| i)
    }

    /// Refuses empty fields, fields or power limits beyond the machine's, and a plate that the
    /// fields do not cover (checked on every cell between the fields' edges).
    pub fn check_lasers(&self) -> Result<(), LaserConfigError> {
        let h = i64::from(self.field_half_um);
        for (i, l) in self.all_lasers().enumerate() {
            let [x0, y0, x1, y1] = l.field_um.map(i64::from);
            if x0 >= x1 || y0 >= y1 {
                return Err(LaserConfigError::EmptyField(i));
            }
            if x0 < -h || y0 < -h || x1 > h || y1 > h {
                return Err(LaserConfigError::OutsideField(i));
            }
            if l.min_power_mw > l.max_power_mw
                || l.min_power_mw < self.min_power_mw
                || l.max_power_mw > self.max_power_mw
            {
                return Err(LaserConfigError::Power(i));
            }
        }
        // The plate is covered when the centre of every cell of the grid the field edges make
        // is reached: between two neighbouring edges, reach does not change.
        let mut xs: heapless::Vec<i64, { 2 * MAX_LASERS + 2 }> = heapless::Vec::new();
        let mut ys: heapless::Vec<i64, { 2 * MAX_LASERS + 2 }> = heapless::Vec::new();
        let _ = xs.push(-h);
        let _ = xs.push(h);
        let _ = ys.push(-h);
        let _ = ys.push(h);
        for l in self.all_lasers() {
            let [x0, y0, x1, y1] = l.field_um.map(i64::from);
            let _ = xs.push(x0);
            let _ = xs.push(x1);
            let _ = ys.push(y0);
            let _ = ys.push(y1);
        }
        xs.sort_unstable();
        ys.sort_unstable();
        for xw in xs.windows(2) {
            for yw in ys.windows(2) {
                if let ([a, b], [c, d]) = (xw, yw)
                    && a < b
                    && c < d
                {
                    // Cells and edges: the centre, and the corner, of each cell.
                    for p in [[(a + b) / 2, (c + d) / 2], [*a, *c]] {
                        if self.lasers_reaching(p).next().is_none() {
                            return Err(LaserConfigError::Uncovered(p));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// The colour of laser 0, 1, … 7 wherever lasers are told apart (previews, the report's layer
/// viewer, exposure maps); laser `i` past 7 takes laser `i mod 8`'s: blue, orange, green, red,
/// purple, brown, pink, cyan.
pub const LASER_RGB: [[u8; 3]; 8] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [23, 190, 207],
];

/// The plume distance of the built-in multi-laser machines, µm: 20 mm between lasers marking
/// at once (a melt pool's plume and spatter stay within a few tens of mm downstream under
/// the usual gas flow; the figure is the machine's, set in its description).
pub const PLUME_DISTANCE_UM: u32 = 20_000;

/// The built-in machines by name: `meltline-sim-250` (one laser), `meltline-sim-250-2x` and
/// `meltline-sim-250-4x`.
pub fn builtin_machine(name: &str) -> Option<MachineConfig> {
    let mut m = MachineConfig::default();
    let laser = |field_um: [i32; 4]| Laser {
        field_um,
        min_power_mw: m.min_power_mw,
        max_power_mw: m.max_power_mw,
        galvo: m.galvo,
    };
    let (a, b, h) = (-25_000, 25_000, 125_000);
    let fields: &[[i32; 4]] = match name {
        "meltline-sim-250" => &[],
        "meltline-sim-250-2x" => &[[-h, -h, b, h], [a, -h, h, h]],
        // Laser 0 front left, 1 front right, 2 back left, 3 back right.
        "meltline-sim-250-4x" => &[[-h, -h, b, b], [a, -h, h, b], [-h, a, b, h], [a, a, h, h]],
        _ => return None,
    };
    let mut lasers: heapless::Vec<Laser, MAX_LASERS> = heapless::Vec::new();
    for &f in fields {
        let _ = lasers.push(laser(f));
    }
    m.lasers = lasers;
    if fields.len() > 1 {
        m.plume_distance_um = PLUME_DISTANCE_UM;
    }
    m.machine = heapless::String::new();
    let _ = m.machine.push_str(name);
    Some(m)
}

/// The names [`builtin_machine`] knows.
pub const BUILTIN_MACHINES: [&str; 3] = [
    "meltline-sim-250",
    "meltline-sim-250-2x",
    "meltline-sim-250-4x",
];

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_machine_listing_no_lasers_has_one_over_its_whole_field() {
        let m = MachineConfig::default();
        assert_eq!(m.laser_count(), 1);
        let l = m.laser(0).unwrap();
        assert_eq!(l.field_um, [-125_000, -125_000, 125_000, 125_000]);
        assert!(m.laser(1).is_none());
        assert!(m.check_lasers().is_ok());
    }

    #[test]
    fn the_built_in_multi_laser_machines_cover_the_plate_with_50_mm_overlaps() {
        for name in BUILTIN_MACHINES {
            let m = builtin_machine(name).unwrap();
            assert_eq!(m.machine.as_str(), name);
            m.check_lasers().unwrap();
        }
        let two = builtin_machine("meltline-sim-250-2x").unwrap();
        assert_eq!(two.laser_count(), 2);
        assert_eq!(two.lasers_reaching([0, 0]).count(), 2);
        assert_eq!(two.lasers_reaching([-26_000, 0]).count(), 1);
        let four = builtin_machine("meltline-sim-250-4x").unwrap();
        for l in four.all_lasers() {
            let [x0, y0, x1, y1] = l.field_um;
            assert_eq!((x1 - x0, y1 - y0), (150_000, 150_000));
        }
        assert_eq!(four.lasers_reaching([0, 100_000]).count(), 2);
        assert!(builtin_machine("meltline-sim-300").is_none());
    }

    #[test]
    fn a_gap_between_fields_or_a_field_beyond_the_machine_is_refused() {
        let mut m = builtin_machine("meltline-sim-250-2x").unwrap();
        m.lasers[0].field_um[2] = -30_000; // laser 0 now ends before laser 1 begins
        assert_eq!(
            m.check_lasers(),
            Err(LaserConfigError::Uncovered([-27_500, 0]))
        );
        let mut m = builtin_machine("meltline-sim-250-2x").unwrap();
        m.lasers[1].field_um[2] = 130_000;
        assert_eq!(m.check_lasers(), Err(LaserConfigError::OutsideField(1)));
        let mut m = builtin_machine("meltline-sim-250-4x").unwrap();
        m.lasers[3].field_um = [10, 10, 10, 20];
        assert_eq!(m.check_lasers(), Err(LaserConfigError::EmptyField(3)));
        let mut m = builtin_machine("meltline-sim-250-4x").unwrap();
        m.lasers[2].max_power_mw = m.max_power_mw + 1;
        assert_eq!(m.check_lasers(), Err(LaserConfigError::Power(2)));
    }

    #[test]
    fn lasers_are_read_from_a_machine_file() {
        let text = "machine = \"two\"\n[[lasers]]\nfield_um = [-125000, -125000, 25000, 125000]\n\
                    min_power_mw = 20000\nmax_power_mw = 400000\n\
                    [[lasers]]\nfield_um = [-25000, -125000, 125000, 125000]\n\
                    min_power_mw = 20000\nmax_power_mw = 400000\n";
        let m: MachineConfig = toml::from_str(text).unwrap();
        assert_eq!(m.laser_count(), 2);
        assert!(m.check_lasers().is_ok());
        assert_eq!(m.laser(1).unwrap().galvo, Galvo::default());
    }
}
