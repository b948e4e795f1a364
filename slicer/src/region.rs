//! Core, upskin and downskin regions of a layer, by booleans with its neighbours.
//!
//! With `k` skin layers, a point of layer `i` is **downskin** when any of the `k` layers
//! below lacks material there (`S_i ∖ ∩_{j=1..k} S_{i−j}`), **upskin** when any of the `k`
//! layers above lacks it (and it is not downskin), and **core** otherwise. Below layer 0 is
//! either the build plate (solid: a part standing on the plate has no downskin at its foot)
//! or powder (a part lifted on supports). Above the last layer is always powder.

use crate::polygon::{Shapes, difference, intersection};

/// The three regions of a layer; disjoint, their union is the layer's cross-section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerRegions {
    /// Material with material on all sides within the skin depth.
    pub core: Shapes,
    /// Material with powder above within the skin depth.
    pub upskin: Shapes,
    /// Material with powder below within the skin depth: what supports hold up.
    pub downskin: Shapes,
}

/// What lies below layer 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foundation {
    /// The part stands on the build plate: solid below layer 0.
    Plate,
    /// The part is lifted (on supports): powder below layer 0.
    Powder,
}

/// Classifies `current` given up to `k` sections below (nearest first) and above (nearest
/// first). Slices shorter than `k` mean the stack ended: below it is `foundation`, above it
/// is powder.
pub fn classify(
    current: &Shapes,
    below: &[&Shapes],
    above: &[&Shapes],
    k: usize,
    foundation: Foundation,
) -> LayerRegions {
    if current.is_empty() {
        return LayerRegions::default();
    }
    if k == 0 {
        return LayerRegions {
            core: current.clone(),
            ..LayerRegions::default()
        };
    }
    let below_missing = below.len() < k && foundation == Foundation::Powder;
    // `supported ⊆ current` has material in all k layers below; `covered ⊆ supported` also
    // in all k layers above. Starting each chain from the smaller set keeps booleans cheap.
    let supported = if below_missing {
        Vec::new()
    } else {
        common(current.clone(), below)
    };
    let downskin = difference(current, &supported);
    let covered = if above.len() < k {
        Vec::new()
    } else {
        common(supported.clone(), above)
    };
    let upskin = difference(&supported, &covered);
    LayerRegions {
        core: covered,
        upskin,
        downskin,
    }
}

/// `start ∩ layers[0] ∩ layers[1] ∩ …` (`start` itself when `layers` is empty: the plate).
fn common(start: Shapes, layers: &[&Shapes]) -> Shapes {
    let mut acc = start;
    for l in layers {
        if acc.is_empty() {
            break;
        }
        acc = intersection(&acc, l);
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::polygon::{Point, area_mm2, union_nonzero};

    fn rect(x0: i32, y0: i32, x1: i32, y1: i32) -> Shapes {
        union_nonzero(&[vec![
            Point::new(x0, y0),
            Point::new(x1, y0),
            Point::new(x1, y1),
            Point::new(x0, y1),
        ]])
    }

    #[test]
    fn overhang_beyond_the_layer_below_is_downskin() {
        let cur = rect(0, 0, 2000, 1000);
        let below = rect(0, 0, 1000, 1000);
        let r = classify(&cur, &[&below], &[&cur], 1, Foundation::Plate);
        assert!((area_mm2(&r.downskin) - 1.0).abs() < 1e-12);
        assert!((area_mm2(&r.core) - 1.0).abs() < 1e-12);
        assert!(r.upskin.is_empty());
    }

    #[test]
    fn top_layer_is_upskin_and_plate_supports_the_first() {
        let cur = rect(0, 0, 1000, 1000);
        let r = classify(&cur, &[], &[], 3, Foundation::Plate);
        assert!((area_mm2(&r.upskin) - 1.0).abs() < 1e-12);
        assert!(r.downskin.is_empty() && r.core.is_empty());
        let lifted = classify(&cur, &[], &[], 3, Foundation::Powder);
        assert!((area_mm2(&lifted.downskin) - 1.0).abs() < 1e-12);
        assert!(lifted.upskin.is_empty());
    }
}
