use super::*;
use crate::cage::phantom::domed_endplate as domed_plate;

#[test]
fn fit_of_domed_endplates_reproduces_the_known_surfaces() {
    let tilt = (3.0f64).to_radians().tan();
    let (upper, hu) = domed_plate(6.0, 1.0, 1.2, tilt);
    let (lower, hl) = domed_plate(-6.0, -1.0, 1.0, tilt);
    let spec = CageSpec::default_tlif();
    let fit = fit_endplates(&upper, &lower, &spec, &FitOptions::default()).unwrap();
    // Axis along z, lordosis = 2 × 3°, the banana's long axis lateral (x), convex side +y.
    assert!(fit.frame.axes.column(2).dot(&Vector3::z()) > 0.999);
    assert!((fit.lordosis_deg - 6.0).abs() < 0.2, "{}", fit.lordosis_deg);
    assert!(fit.frame.axes.column(0).dot(&Vector3::x()).abs() > 0.99);
    assert!(fit.frame.axes.column(1).dot(&Vector3::y()) > 0.99);
    // Every node of the faces sits at the clearance from the known surfaces.
    let fp = Footprint::from_spec(&spec);
    let c = spec.clearance_mm;
    let mut worst: f64 = 0.0;
    for j in 0..fit.top.size[1] {
        for i in 0..fit.top.size[0] {
            let x = fit.top.origin[0] + i as f64 * fit.top.step;
            let y = fit.top.origin[1] + j as f64 * fit.top.step;
            if fp.sdf(x, y) > 0.0 {
                continue;
            }
            let t = fit
                .frame
                .to_patient(&Point3::new(x, y, fit.top.height(x, y)));
            let b = fit
                .frame
                .to_patient(&Point3::new(x, y, fit.bottom.height(x, y)));
            worst = worst.max((hu(t.x, t.y) - t.z - c).abs());
            worst = worst.max((b.z - hl(b.x, b.y) - c).abs());
        }
    }
    assert!(
        worst < 0.02,
        "face deviates {worst} mm from the known endplate + clearance"
    );
    let known = hu(0.0, 0.0) - hl(0.0, 0.0);
    assert!(fit.centre_gap_mm > known - 0.5 && fit.centre_gap_mm < known + 1e-6 + 0.5);
}

#[test]
fn footprint_larger_than_the_endplates_does_not_fit() {
    let (upper, _) = domed_plate(6.0, 1.0, 1.0, 0.0);
    let (lower, _) = domed_plate(-6.0, -1.0, 1.0, 0.0);
    let mut spec: CageSpec = toml::from_str(include_str!("../../../examples/olif.toml")).unwrap();
    spec.length_mm = 60.0;
    let err = fit_endplates(&upper, &lower, &spec, &FitOptions::default()).unwrap_err();
    assert!(matches!(err, FitError::DoesNotFit { .. }), "{err}");
}
