use super::*;
use crate::implicit::test_support::assert_printable;

fn opts() -> MesherOptions {
    MesherOptions::default()
}

#[test]
fn sphere_mesh_is_closed_oriented_manifold_with_close_volume() {
    let ball = |p: &Point3<f64>| (p - Point3::new(0.3, -0.2, 0.1)).norm() - 3.0;
    let b = Aabb {
        min: [-4.0; 3],
        max: [4.0; 3],
    };
    let m = mesh_field(&ball, b, 0.2, &opts()).unwrap();
    assert_printable(&m);
    let exact = 4.0 / 3.0 * std::f64::consts::PI * 27.0;
    let v = m.signed_volume();
    assert!((v - exact).abs() < 0.01 * exact, "volume {v} vs {exact}");
    assert_eq!(m.shells().len(), 1);
}

#[test]
fn field_solid_on_the_bounds_is_cut_flat_at_the_bounds() {
    let all = |_: &Point3<f64>| -1.0;
    let b = Aabb {
        min: [0.0, 0.0, 0.0],
        max: [2.0, 3.0, 1.5],
    };
    let m = mesh_field(&all, b, 0.25, &opts()).unwrap();
    assert_printable(&m);
    let v = m.signed_volume();
    assert!((v - 9.0).abs() < 0.05 * 9.0, "volume {v}");
    let bb = m.bbox();
    for k in 0..3 {
        assert!(bb.min[k] >= b.min[k] && bb.max[k] <= b.max[k]);
    }
}

#[test]
fn empty_field_gives_empty_mesh() {
    let none = |_: &Point3<f64>| 1.0;
    let b = Aabb {
        min: [0.0; 3],
        max: [1.0; 3],
    };
    let m = mesh_field(&none, b, 0.1, &opts()).unwrap();
    assert!(m.triangles.is_empty() && m.vertices.is_empty());
}

#[test]
fn exact_zeros_on_grid_nodes_still_give_a_manifold() {
    // A plane through grid nodes and a sphere touching them: zeros count as outside.
    let slab = |p: &Point3<f64>| (p.z - 1.0).abs() - 0.5;
    let b = Aabb {
        min: [0.0; 3],
        max: [2.0; 3],
    };
    let m = mesh_field(&slab, b, 0.25, &opts()).unwrap();
    assert_printable(&m);
    let two_balls = |p: &Point3<f64>| {
        let a = (p - Point3::new(0.5, 1.0, 1.0)).norm() - 0.5;
        let c = (p - Point3::new(1.5, 1.0, 1.0)).norm() - 0.5;
        a.min(c)
    };
    let m = mesh_field(&two_balls, b, 0.25, &opts()).unwrap();
    assert_printable(&m);
}

#[test]
fn torus_mesh_is_closed_manifold_with_genus_one() {
    let torus = |p: &Point3<f64>| {
        let q = (p.x * p.x + p.y * p.y).sqrt() - 2.0;
        (q * q + p.z * p.z).sqrt() - 0.7
    };
    let b = Aabb {
        min: [-3.0, -3.0, -1.0],
        max: [3.0, 3.0, 1.0],
    };
    let m = mesh_field(&torus, b, 0.1, &opts()).unwrap();
    assert_printable(&m);
    let exact = 2.0 * std::f64::consts::PI.powi(2) * 2.0 * 0.49;
    let v = m.signed_volume();
    assert!((v - exact).abs() < 0.02 * exact, "volume {v} vs {exact}");
    // Euler characteristic V - E + F = 0 for a torus.
    let chi =
        m.vertices.len() as i64 - (m.triangles.len() as i64 * 3 / 2) + m.triangles.len() as i64;
    assert_eq!(chi, 0);
}

#[test]
fn gyroid_block_is_closed_manifold() {
    let l = 1.0;
    let w = 2.0 * std::f64::consts::PI / l;
    let gyroid = move |p: &Point3<f64>| {
        let (x, y, z) = (w * p.x, w * p.y, w * p.z);
        x.sin() * y.cos() + y.sin() * z.cos() + z.sin() * x.cos() - 0.3
    };
    let b = Aabb {
        min: [0.0; 3],
        max: [2.0; 3],
    };
    // A coarse grid stresses the topology: many ambiguous cells.
    for h in [0.23, 0.11, 0.05] {
        let m = mesh_field(&gyroid, b, h, &opts()).unwrap();
        assert_printable(&m);
        assert!(m.signed_volume() > 0.0);
    }
}

#[test]
fn output_is_identical_for_any_thread_count_and_slab_height() {
    let w = 2.0 * std::f64::consts::PI / 1.3;
    let gyroid = move |p: &Point3<f64>| {
        let (x, y, z) = (w * p.x, w * p.y, w * p.z);
        x.sin() * y.cos() + y.sin() * z.cos() + z.sin() * x.cos() + 0.2
    };
    let b = Aabb {
        min: [-1.0, -1.0, -1.0],
        max: [1.5, 1.0, 2.0],
    };
    let run = |threads: usize, layers: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let o = MesherOptions {
            slab_layers: layers,
            ..opts()
        };
        pool.install(|| mesh_field(&gyroid, b, 0.07, &o).unwrap())
    };
    let reference = run(1, 8);
    assert!(!reference.triangles.is_empty());
    assert_eq!(run(2, 8), reference);
    assert_eq!(run(2, 3), reference);
    assert_eq!(run(1, 1000), reference);
}

#[test]
fn bad_inputs_are_errors_naming_the_problem() {
    let ball = |p: &Point3<f64>| p.coords.norm() - 1.0;
    let ok = Aabb {
        min: [-2.0; 3],
        max: [2.0; 3],
    };
    let flat = Aabb {
        min: [0.0; 3],
        max: [1.0, 1.0, 0.0],
    };
    assert!(matches!(
        mesh_field(&ball, flat, 0.1, &opts()),
        Err(MeshingError::InvalidBounds { .. })
    ));
    assert!(matches!(
        mesh_field(&ball, ok, f64::NAN, &opts()),
        Err(MeshingError::InvalidEdgeLength(_))
    ));
    assert!(matches!(
        mesh_field(&ball, ok, 1e-6, &opts()),
        Err(MeshingError::GridTooLarge { .. })
    ));
    let nan = |p: &Point3<f64>| {
        if p.x > 0.5 {
            f64::NAN
        } else {
            p.coords.norm() - 1.0
        }
    };
    let e = mesh_field(&nan, ok, 0.1, &opts()).unwrap_err();
    assert!(
        matches!(e, MeshingError::NotANumber { x, .. } if x > 0.5),
        "{e}"
    );
    let o = MesherOptions {
        vertex_clamp: 0.0,
        ..opts()
    };
    assert!(matches!(
        mesh_field(&ball, ok, 0.1, &o),
        Err(MeshingError::InvalidOption { .. })
    ));
}

#[test]
fn infinite_field_values_are_meshed() {
    let f = |p: &Point3<f64>| {
        if p.coords.norm() < 1.0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }
    };
    let b = Aabb {
        min: [-2.0; 3],
        max: [2.0; 3],
    };
    let m = mesh_field(&f, b, 0.2, &opts()).unwrap();
    assert_printable(&m);
    assert!(m.is_finite());
}
