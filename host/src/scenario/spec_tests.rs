//! Tests of the scenario file reader.

use super::*;

fn err(text: &str) -> String {
    Scenario::parse(text, Path::new("scenarios/x.toml"))
        .unwrap_err()
        .to_string()
}

const JOB: &str = "[job]\nbox_mm = [5.0, 3.0, 0.3]\n";

#[test]
fn an_unknown_key_is_refused_naming_the_file_and_the_key() {
    let e = err(&format!(
        "{JOB}[expect]\nstate = \"Done\"\nlayers_twice = true\n"
    ));
    assert!(e.starts_with("scenarios/x.toml: "), "{e}");
    assert!(e.contains("unknown field `layers_twice`"), "{e}");
    let e = err(&format!("{JOB}[machine]\nmax_power_kw = 1\n"));
    assert!(
        e.contains("`machine.max_power_kw` = 1: unknown machine key"),
        "{e}"
    );
    let e = err(&format!("{JOB}[machine.galvo]\njump_speed = 1\n"));
    assert!(e.contains("`machine.galvo.jump_speed` = 1"), "{e}");
    let e = err(&format!(
        "{JOB}[[event]]\nkind = \"pause\"\nlayer = 2\nfor_s = 3\n"
    ));
    assert!(e.contains("unknown field `for_s`"), "{e}");
}

#[test]
fn a_bad_value_is_refused_naming_the_file_key_and_value() {
    let e = err(&format!("{JOB}[expect]\nstate = \"Finished\"\n"));
    assert!(e.contains("Finished") && e.contains("Done"), "{e}");
    let e = err(&format!("{JOB}[expect]\nfaults = [\"Overheat\"]\n"));
    assert!(
        e.contains("Overheat") && e.contains("RecoaterCollision"),
        "{e}"
    );
    let e = err(&format!("{JOB}[expect]\nbuild_time_s = [300, 100]\n"));
    assert_eq!(
        e,
        "scenarios/x.toml: `expect.build_time_s` = [300, 100]: must be [low, high] with low ≤ high"
    );
    let e = err(&format!(
        "{JOB}[[event]]\nkind = \"laser-drift\"\nfrom_layer = 2\npower_pct = 250\n"
    ));
    assert!(e.contains("`event[0].power_pct` = 250"), "{e}");
    let e = err(&format!("{JOB}[link]\nfaults = \"corrupt=2\"\n"));
    assert!(e.contains("`link.faults` = \"corrupt=2\""), "{e}");
    let e = err("[job]\nbox_mm = [5.0, 3.0, 0.3]\nmlj = \"a.mlj\"\n");
    assert!(e.contains("exactly one of box_mm, mesh, cage, mlj"), "{e}");
    let e = err("[job]\nbox_mm = [5.0, -3.0, 0.3]\n");
    assert!(e.contains("`job.box_mm` = [5.0, -3.0, 0.3]"), "{e}");
}

#[test]
fn machine_events_and_overrides_reach_the_machine_configuration() {
    let s = Scenario::parse(
        &format!(
            "{JOB}[machine]\nmax_power_mw = 300000\n[machine.galvo]\njump_delay_us = 100\n\
             [[event]]\nkind = \"oxygen-excursion\"\nlayer = 3\npeak_ppm = 2000\nduration_s = 12.5\n\
             [[event]]\nkind = \"recoater-collision\"\nlayer = 7\n"
        ),
        Path::new("x.toml"),
    )
    .unwrap();
    assert_eq!(s.machine.max_power_mw, 300_000);
    assert_eq!(s.machine.galvo.jump_delay_us, 100);
    assert_eq!(s.machine.oxygen_excursions[0].recovery_ms, 12_500);
    assert_eq!(s.machine.recoater_collision_layer, Some(7));
    assert_eq!(s.name, "x");
}

#[test]
fn relative_paths_resolve_against_the_scenario_folder() {
    let s = Scenario::parse(JOB, Path::new("lib/scen/a.toml")).unwrap();
    assert_eq!(
        s.resolve("job.mesh", "parts/p.stl").unwrap(),
        Path::new("lib/scen/parts/p.stl")
    );
}
