//! Machine configuration (the envelope a job is verified against) and the RTC-style timing
//! model: everything is counted in 10 µs ticks, each operation rounded up to a whole tick, as a
//! SCANLAB RTC list executes.
//!
//! Per mark chain (a run of connected segments): a jump to its start at jump speed plus the jump
//! delay (skipped when the mirrors are already there), the laser-on delay, each segment at mark
//! speed with a polygon delay between connected segments, then the mark delay and laser-off
//! delay. With skywriting the laser delays are replaced by run-in and run-out. Each layer
//! begins with platform lowering and recoating.

use serde::{Deserialize, Serialize};

use crate::lasers::{Laser, MAX_LASERS};
use crate::wire::{ParamSet, Point, Segment};

/// Length of one RTC clock tick in µs.
pub const TICK_US: u64 = 10;

/// What to do when a parameter set's energy density leaves the material window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EnergyPolicy {
    /// Report a warning and execute.
    Warn,
    /// Fault the job.
    Refuse,
}

/// Galvo scanner and laser timing (RTC model), in mm/s and µs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Galvo {
    /// Jump (laser off) speed in mm/s.
    pub jump_speed_mm_s: u32,
    /// Settling time after a jump, µs.
    pub jump_delay_us: u32,
    /// Settling time after the last mark of a chain, µs.
    pub mark_delay_us: u32,
    /// Delay at each corner between connected marks, µs.
    pub polygon_delay_us: u32,
    /// Laser switch-on lag, µs.
    pub laser_on_delay_us: u32,
    /// Laser switch-off lag, µs.
    pub laser_off_delay_us: u32,
    /// Skywriting run-in before a mark, µs.
    pub skywriting_run_in_us: u32,
    /// Skywriting run-out after a mark, µs.
    pub skywriting_run_out_us: u32,
    /// Whether the scanner honours parameter sets asking for skywriting.
    pub skywriting: bool,
}

impl Default for Galvo {
    fn default() -> Self {
        Self {
            jump_speed_mm_s: 7000,
            jump_delay_us: 250,
            mark_delay_us: 120,
            polygon_delay_us: 50,
            laser_on_delay_us: 100,
            laser_off_delay_us: 150,
            skywriting_run_in_us: 60,
            skywriting_run_out_us: 60,
            skywriting: true,
        }
    }
}

/// An injected oxygen excursion: before layer `layer` the O₂ level jumps to `peak_ppm` and
/// takes `recovery_ms` of purging to fall back below the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OxygenExcursion {
    /// Layer before which it happens.
    pub layer: u32,
    /// Peak oxygen level in ppm.
    pub peak_ppm: u32,
    /// Time until the level is back under the threshold, ms.
    pub recovery_ms: u32,
}

/// An injected laser power drift: from layer `from_layer` on, the laser delivers `permille` ‰
/// of the commanded power (a degrading source or dirty optics; the controller commands the
/// same, only the delivered energy changes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaserDrift {
    /// First layer affected.
    pub from_layer: u32,
    /// Delivered power in ‰ of the commanded power.
    pub permille: u32,
}

/// A laser that goes down: found by the controller's check before layer `layer` is exposed,
/// so nothing of that layer is marked (see [`crate::controller`], "A laser fails").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaserFailure {
    /// The layer before which it fails.
    pub layer: u32,
    /// The laser's index.
    pub laser: u8,
}

/// The machine envelope and timing. Deserialisable from TOML (`--machine M.toml`); every field
/// has a default (a 250 mm-field Ti-6Al-4V machine).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MachineConfig {
    /// Machine identity compared with `JobHeader::machine`.
    pub machine: heapless::String<32>,
    /// Loaded material compared with `JobHeader::material`.
    pub material: heapless::String<32>,
    /// Half the side of the square scan field centred on the origin, µm.
    pub field_half_um: u32,
    /// Build height (the platform's Z travel), µm: the layers of a job must fit in it.
    pub build_height_um: u32,
    /// Coarsest accepted coordinate quantum, nm.
    pub max_quantum_nm: u32,
    /// Thinnest accepted layer, nm.
    pub min_layer_nm: u32,
    /// Thickest accepted layer, nm.
    pub max_layer_nm: u32,
    /// Lowest laser power, mW.
    pub min_power_mw: u32,
    /// Highest laser power, mW.
    pub max_power_mw: u32,
    /// Lowest mark speed, mm/s.
    pub min_speed_mm_s: u32,
    /// Highest mark speed, mm/s.
    pub max_speed_mm_s: u32,
    /// Lower end of the material's volumetric energy density window, mJ/mm³.
    pub min_energy_mj_mm3: u32,
    /// Upper end of the window, mJ/mm³.
    pub max_energy_mj_mm3: u32,
    /// Warn or refuse outside the window.
    pub energy_policy: EnergyPolicy,
    /// Scanner timing.
    pub galvo: Galvo,
    /// Recoater stroke per layer, ms.
    pub recoat_ms: u32,
    /// Platform lowering per layer, ms.
    pub platform_ms: u32,
    /// Oxygen interlock threshold, ppm: above it the build pauses.
    pub oxygen_threshold_ppm: u32,
    /// Oxygen level under normal purge, ppm.
    pub oxygen_nominal_ppm: u32,
    /// Injected oxygen excursions.
    pub oxygen_excursions: heapless::Vec<OxygenExcursion, 8>,
    /// Injected recoater collision at this layer.
    pub recoater_collision_layer: Option<u32>,
    /// Where on the plate that collision happens (x, y in µm). On a plate job the part whose
    /// footprint holds the point is skipped from that layer on and the others go on; without a
    /// position, in a job without parts, or where no part stands, the whole build faults.
    pub recoater_collision_at_um: Option<[i32; 2]>,
    /// Injected laser power drifts (the latest `from_layer` at or below a layer applies).
    pub laser_drift: heapless::Vec<LaserDrift, 4>,
    /// An injected laser failure: the laser goes down before the layer is exposed.
    pub laser_failure: Option<LaserFailure>,
    /// Ed25519 public keys (64 hex digits each) whose releases this printer accepts; with any
    /// configured, jobs without a valid release from one of them are refused.
    pub trusted_keys: heapless::Vec<heapless::String<64>, MAX_TRUSTED_KEYS>,
    /// Its lasers, each with its own field, power limits and galvo (see [`crate::lasers`]);
    /// none listed: one laser over the whole field with the limits and galvo above.
    pub lasers: heapless::Vec<Laser, MAX_LASERS>,
    /// The least distance between two lasers marking at the same time, µm (0: no rule): the
    /// plume and spatter of one melt pool, carried by the gas flow, must not cross another
    /// laser's beam or land on its melt pool. The host orders each layer's work per laser so
    /// that it holds where it can and reports the time it could not (`meltline lasers`).
    pub plume_distance_um: u32,
    /// The controller's layer memory, bytes: a layer whose coded blocks (plus
    /// [`crate::controller::BLOCK_HEADER`] bytes each) need more is refused at its `LayerStart`.
    /// A controller built with less storage uses what it has (and says so in `Hello`).
    pub layer_memory_bytes: u32,
}

/// Layer memory of the built-in machines: 4 MiB, room for the largest layer of a 40-cage plate
/// (a 24-cage plate's layers need up to 0.83 MB, BENCHMARKS.md) and the next layers behind it.
pub const DEFAULT_LAYER_MEMORY: u32 = 4 * 1024 * 1024;

/// Least layer memory a machine may declare: 16 KiB.
pub const MIN_LAYER_MEMORY: u32 = 16 * 1024;

/// Most layer memory a machine may declare: 256 MiB.
pub const MAX_LAYER_MEMORY: u32 = 256 * 1024 * 1024;

/// How many release keys a machine can trust.
pub const MAX_TRUSTED_KEYS: usize = 4;

/// A machine description that cannot be built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MachineError {
    /// `layer_memory_bytes` outside [`MIN_LAYER_MEMORY`]..=[`MAX_LAYER_MEMORY`].
    LayerMemory(u32),
    /// Its lasers (see [`crate::lasers`]).
    Lasers(crate::lasers::LaserConfigError),
}

impl core::fmt::Display for MachineError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MachineError::LayerMemory(b) => write!(
                f,
                "layer_memory_bytes = {b}: outside {MIN_LAYER_MEMORY}..={MAX_LAYER_MEMORY}"
            ),
            MachineError::Lasers(e) => write!(f, "{e}"),
        }
    }
}

impl MachineConfig {
    /// Refuses a layer memory out of range and lasers that do not fit or cover the plate.
    pub fn check(&self) -> Result<(), MachineError> {
        if !(MIN_LAYER_MEMORY..=MAX_LAYER_MEMORY).contains(&self.layer_memory_bytes) {
            return Err(MachineError::LayerMemory(self.layer_memory_bytes));
        }
        self.check_lasers().map_err(MachineError::Lasers)
    }

    /// Delivered laser power at `layer` in ‰ of the commanded power.
    pub fn delivered_power_permille(&self, layer: u32) -> u32 {
        self.laser_drift
            .iter()
            .filter(|d| d.from_layer <= layer)
            .max_by_key(|d| d.from_layer)
            .map_or(1000, |d| d.permille)
    }
}

impl Default for MachineConfig {
    fn default() -> Self {
        let mut machine = heapless::String::new();
        let _ = machine.push_str("meltline-sim-250");
        let mut material = heapless::String::new();
        let _ = material.push_str("Ti-6Al-4V");
        Self {
            machine,
            material,
            field_half_um: 125_000,
            // 325 mm of Z travel (EOS M 290 class: 250 × 250 × 325 mm).
            build_height_um: 325_000,
            max_quantum_nm: 1000,
            min_layer_nm: 20_000,
            max_layer_nm: 90_000,
            min_power_mw: 20_000,
            max_power_mw: 400_000,
            min_speed_mm_s: 50,
            max_speed_mm_s: 4000,
            min_energy_mj_mm3: 35_000,
            max_energy_mj_mm3: 130_000,
            energy_policy: EnergyPolicy::Refuse,
            galvo: Galvo::default(),
            recoat_ms: 8000,
            platform_ms: 500,
            oxygen_threshold_ppm: 1000,
            oxygen_nominal_ppm: 300,
            oxygen_excursions: heapless::Vec::new(),
            recoater_collision_layer: None,
            recoater_collision_at_um: None,
            laser_drift: heapless::Vec::new(),
            laser_failure: None,
            trusted_keys: heapless::Vec::new(),
            lasers: heapless::Vec::new(),
            plume_distance_um: 0,
            layer_memory_bytes: DEFAULT_LAYER_MEMORY,
        }
    }
}

/// Volumetric energy density P/(v·h·t) in mJ/mm³ for a layer thickness in nm.
pub fn energy_density_mj_mm3(p: &ParamSet, layer_nm: u32) -> u64 {
    // mW / (mm/s · µm · nm) = 1e-3 W / (1e-9 mm³/s) → ×1e6 J/mm³ → ×1e9 mJ/mm³.
    let den =
        u128::from(p.mark_speed_mm_s) * u128::from(p.hatch_distance_um) * u128::from(layer_nm);
    if den == 0 {
        return u64::MAX;
    }
    u64::try_from(u128::from(p.power_mw) * 1_000_000_000 / den).unwrap_or(u64::MAX)
}

fn ticks(len_nm: u64, speed_mm_s: u64) -> u64 {
    // nm / (mm/s) = µs; ceil to whole 10 µs ticks. u64 keeps the hot path free of u128 division.
    len_nm.div_ceil(speed_mm_s.saturating_mul(TICK_US).max(1))
}

fn us_ticks(us: u32) -> u64 {
    u64::from(us).div_ceil(TICK_US)
}

/// Time and energy of one layer, in 10 µs ticks and nanojoules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerTiming {
    /// Laser-on travel.
    pub mark_ticks: u64,
    /// Laser-off travel.
    pub jump_ticks: u64,
    /// Jump, mark, polygon, laser and skywriting delays.
    pub delay_ticks: u64,
    /// Platform lowering and recoating.
    pub recoat_ticks: u64,
    /// Waiting on the oxygen interlock.
    pub interlock_ticks: u64,
    /// Laser energy, nJ.
    pub energy_nj: u64,
    /// Segments marked.
    pub marks: u64,
    /// Jumps made.
    pub jumps: u64,
    /// Total marked length, nm.
    pub mark_length_nm: u64,
}

impl LayerTiming {
    /// All time of the layer in ticks.
    pub fn total_ticks(&self) -> u64 {
        self.mark_ticks
            + self.jump_ticks
            + self.delay_ticks
            + self.recoat_ticks
            + self.interlock_ticks
    }

    /// The lasers' time: marks, jumps and delays (no recoating, no interlock).
    pub fn exposure_ticks(&self) -> u64 {
        self.mark_ticks + self.jump_ticks + self.delay_ticks
    }

    /// One layer exposed by several lasers at once, each with its own figures: the time
    /// (marks, jumps, delays) is the slowest laser's (the first of equals), the energy,
    /// marks, jumps and marked length the sum of all.
    pub fn concurrent<'a>(lasers: impl IntoIterator<Item = &'a LayerTiming>) -> LayerTiming {
        let mut out = LayerTiming::default();
        let mut slowest: Option<&LayerTiming> = None;
        for t in lasers {
            out.energy_nj = out.energy_nj.saturating_add(t.energy_nj);
            out.marks += t.marks;
            out.jumps += t.jumps;
            out.mark_length_nm = out.mark_length_nm.saturating_add(t.mark_length_nm);
            out.recoat_ticks += t.recoat_ticks;
            out.interlock_ticks += t.interlock_ticks;
            if slowest.is_none_or(|s| t.exposure_ticks() > s.exposure_ticks()) {
                slowest = Some(t);
            }
        }
        if let Some(s) = slowest {
            out.mark_ticks = s.mark_ticks;
            out.jump_ticks = s.jump_ticks;
            out.delay_ticks = s.delay_ticks;
        }
        out
    }

    /// Adds another layer's figures.
    pub fn add(&mut self, o: &LayerTiming) {
        self.mark_ticks += o.mark_ticks;
        self.jump_ticks += o.jump_ticks;
        self.delay_ticks += o.delay_ticks;
        self.recoat_ticks += o.recoat_ticks;
        self.interlock_ticks += o.interlock_ticks;
        self.energy_nj = self.energy_nj.saturating_add(o.energy_nj);
        self.marks += o.marks;
        self.jumps += o.jumps;
        self.mark_length_nm = self.mark_length_nm.saturating_add(o.mark_length_nm);
    }
}

/// The galvo/laser as it executes segments, accumulating a [`LayerTiming`].
#[derive(Clone, Debug)]
pub struct ScanHead {
    galvo: Galvo,
    quantum_nm: u64,
    at: Point,
    lasing: bool,
    skywriting: bool,
    /// Delivered power in ‰ of the commanded power (see [`LaserDrift`]).
    pub power_permille: u32,
    /// Figures of the current layer.
    pub timing: LayerTiming,
}

impl ScanHead {
    /// A scan head parked at the origin.
    pub fn new(galvo: Galvo, quantum_nm: u32) -> Self {
        Self {
            galvo,
            quantum_nm: u64::from(quantum_nm),
            at: Point::default(),
            lasing: false,
            skywriting: false,
            power_permille: 1000,
            timing: LayerTiming::default(),
        }
    }

    fn length_nm(&self, a: Point, b: Point) -> u64 {
        let dx = (i64::from(b.x) - i64::from(a.x)).unsigned_abs();
        let dy = (i64::from(b.y) - i64::from(a.y)).unsigned_abs();
        dx.saturating_mul(dx)
            .saturating_add(dy.saturating_mul(dy))
            .isqrt()
            * self.quantum_nm
    }

    /// Ends a mark chain: mark delay and laser off (or skywriting run-out).
    pub fn laser_off(&mut self) {
        if self.lasing {
            self.lasing = false;
            self.timing.delay_ticks += if self.skywriting {
                us_ticks(self.galvo.skywriting_run_out_us)
            } else {
                us_ticks(self.galvo.mark_delay_us) + us_ticks(self.galvo.laser_off_delay_us)
            };
        }
    }

    /// Executes one segment with parameter set `p`.
    pub fn mark(&mut self, s: &Segment, p: &ParamSet) {
        let t = &mut self.timing;
        if !s.chained || !self.lasing {
            self.laser_off();
            let t = &mut self.timing;
            if s.from != self.at {
                let d = {
                    let dx = (i64::from(s.from.x) - i64::from(self.at.x)).unsigned_abs();
                    let dy = (i64::from(s.from.y) - i64::from(self.at.y)).unsigned_abs();
                    dx.saturating_mul(dx)
                        .saturating_add(dy.saturating_mul(dy))
                        .isqrt()
                        * self.quantum_nm
                };
                // nm / (mm/s) = µs; ticks = ceil(µs / 10).
                t.jump_ticks += ticks(d, u64::from(self.galvo.jump_speed_mm_s.max(1)));
                t.delay_ticks += us_ticks(self.galvo.jump_delay_us);
                t.jumps += 1;
            }
            self.skywriting = p.skywriting && self.galvo.skywriting;
            t.delay_ticks += if self.skywriting {
                us_ticks(self.galvo.skywriting_run_in_us)
            } else {
                us_ticks(self.galvo.laser_on_delay_us)
            };
            self.lasing = true;
        } else {
            t.delay_ticks += us_ticks(self.galvo.polygon_delay_us);
        }
        let len = self.length_nm(s.from, s.to);
        let delivered_mw = u64::from(p.power_mw) * u64::from(self.power_permille) / 1000;
        let t = &mut self.timing;
        let v = u64::from(p.mark_speed_mm_s.max(1));
        t.mark_ticks += ticks(len, v);
        // mW · nm / (mm/s) = nJ; saturates only beyond ~2·10¹⁹ nJ.
        t.energy_nj = t
            .energy_nj
            .saturating_add(delivered_mw.saturating_mul(len) / v);
        t.marks += 1;
        t.mark_length_nm = t.mark_length_nm.saturating_add(len);
        self.at = s.to;
    }

    /// Where the mirrors point now.
    pub fn position(&self) -> Point {
        self.at
    }

    /// Parks the mirrors at `at` (a controller restored after a power loss continues from
    /// where the last executed layer left them, so its timing equals an uninterrupted run).
    pub fn park(&mut self, at: Point) {
        self.at = at;
    }

    /// Closes the layer and hands back its figures.
    pub fn finish_layer(&mut self) -> LayerTiming {
        self.laser_off();
        core::mem::take(&mut self.timing)
    }
}

/// Ticks of platform lowering plus recoating.
pub fn recoat_ticks(m: &MachineConfig) -> u64 {
    (u64::from(m.recoat_ms) + u64::from(m.platform_ms)) * 1000 / TICK_US
}

/// Ticks for a duration in ms.
pub fn ms_ticks(ms: u32) -> u64 {
    u64::from(ms) * 1000 / TICK_US
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p(sky: bool) -> ParamSet {
        ParamSet {
            id: 0,
            power_mw: 200_000,
            mark_speed_mm_s: 1000,
            spot_um: 80,
            hatch_distance_um: 100,
            skywriting: sky,
        }
    }

    #[test]
    fn ti64_reference_parameters_give_about_67_j_per_mm3() {
        // 200 W, 1000 mm/s, 0.1 mm, 30 µm → 66.7 J/mm³.
        assert_eq!(energy_density_mj_mm3(&p(false), 30_000), 66_666);
    }

    #[test]
    fn a_ten_mm_mark_at_1000_mm_s_takes_1000_ticks_and_2_joules() {
        let mut head = ScanHead::new(Galvo::default(), 1000);
        let seg = Segment {
            from: Point::new(0, 0),
            to: Point::new(10_000, 0),
            chained: false,
        };
        head.mark(&seg, &p(false));
        let t = head.finish_layer();
        assert_eq!(t.mark_ticks, 1000);
        assert_eq!(t.energy_nj, 2_000_000_000);
        assert_eq!(t.jumps, 0);
        let g = Galvo::default();
        assert_eq!(
            t.delay_ticks,
            us_ticks(g.laser_on_delay_us)
                + us_ticks(g.mark_delay_us)
                + us_ticks(g.laser_off_delay_us)
        );
    }

    #[test]
    fn jumps_cost_travel_and_settling() {
        let mut head = ScanHead::new(Galvo::default(), 1000);
        let seg = Segment {
            from: Point::new(70_000, 0),
            to: Point::new(70_000, 0),
            chained: false,
        };
        head.mark(&seg, &p(true));
        let t = head.finish_layer();
        assert_eq!(t.jumps, 1);
        assert_eq!(t.jump_ticks, 1000); // 70 mm at 7000 mm/s = 10 ms
        assert!(t.delay_ticks >= us_ticks(Galvo::default().jump_delay_us));
    }

    #[test]
    fn laser_drift_scales_the_delivered_energy_from_its_layer_on() {
        let mut m = MachineConfig::default();
        m.laser_drift
            .push(LaserDrift {
                from_layer: 5,
                permille: 800,
            })
            .unwrap();
        assert_eq!(m.delivered_power_permille(4), 1000);
        assert_eq!(m.delivered_power_permille(5), 800);
        assert_eq!(m.delivered_power_permille(90), 800);
        let seg = Segment {
            from: Point::new(0, 0),
            to: Point::new(10_000, 0),
            chained: false,
        };
        let mut head = ScanHead::new(Galvo::default(), 1000);
        head.power_permille = m.delivered_power_permille(7);
        head.mark(&seg, &p(false));
        assert_eq!(head.finish_layer().energy_nj, 1_600_000_000);
    }
}
