//! The command line teaches itself: every subcommand's help ends with examples, the top-level
//! help lists only commands that run, `slice --help` shows the built-in profile's values, and
//! `profile show`, `completions` and `man` print what a user can use as it is.

use std::process::{Command, Output};

use meltline_firmware::machine::MachineConfig;
use meltline_slicer::profile::ProcessProfile;

fn meltline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meltline"))
        .args(args)
        .output()
        .expect("meltline runs")
}

fn stdout_of(args: &[&str]) -> String {
    let out = meltline(args);
    assert!(
        out.status.success(),
        "meltline {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The command names in the `Commands:` section of a help text.
fn listed_commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect()
}

#[test]
fn every_listed_command_runs_its_help_and_ends_with_examples() {
    let top = stdout_of(&["--help"]);
    let commands = listed_commands(&top);
    assert!(commands.len() >= 14, "{commands:?}");
    for c in &commands {
        let help = stdout_of(&[c, "--help"]);
        let examples = help
            .split("Examples:")
            .nth(1)
            .unwrap_or_else(|| panic!("meltline {c} --help has no examples:\n{help}"));
        assert!(
            examples.contains(&format!("meltline {c}")) || c == "stream",
            "meltline {c} --help: the examples do not use the command:\n{examples}"
        );
    }
    let run_help = stdout_of(&["scenario", "run", "--help"]);
    assert!(run_help.contains("Examples:"), "{run_help}");
}

#[test]
fn slice_help_shows_the_built_in_profile_values() {
    let help = stdout_of(&["slice", "--help"]);
    let p = ProcessProfile::ti6al4v();
    for expected in [
        format!("[built-in profile: {}]", p.layer_thickness_mm),
        format!("[built-in profile: {}]", p.hatch.rotation_deg),
        format!("[built-in profile: {}]", p.contours.beam_offset_mm),
        format!("core {}", p.core.hatch_mm),
    ] {
        assert!(help.contains(&expected), "no {expected:?} in:\n{help}");
    }
}

#[test]
fn profile_show_prints_the_built_in_profile_and_machine_as_loadable_toml() {
    let profile = stdout_of(&["profile", "show", "--only", "profile"]);
    let read = ProcessProfile::from_toml_str(&profile).expect("the profile reads back");
    assert_eq!(read, ProcessProfile::ti6al4v());
    let machine = stdout_of(&["profile", "show", "--only", "machine"]);
    let read: MachineConfig = toml::from_str(&machine).expect("the machine reads back");
    assert_eq!(read, MachineConfig::default());
    let both = stdout_of(&["profile", "show"]);
    assert!(both.contains(&profile.trim_end().to_string()) && both.contains("recoat_ms"));
}

#[test]
fn completions_and_man_page_are_generated_for_the_real_commands() {
    let bash = stdout_of(&["completions", "bash"]);
    assert!(bash.contains("meltline") && bash.contains("slice") && bash.contains("profile"));
    let man = stdout_of(&["man"]);
    assert!(man.contains(".TH meltline 1"), "{man}");
    assert!(man.contains("simulate"), "{man}");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().to_str().expect("a UTF-8 path");
    stdout_of(&["man", "--dir", path]);
    assert!(dir.path().join("meltline.1").is_file());
    assert!(dir.path().join("meltline-slice.1").is_file());
}
