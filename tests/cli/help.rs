//! The command line documents itself: every command, flag and argument has a `--help`
//! line (a walk over the whole clap tree fails on any that has none), global options are
//! listed apart, and completions and manual pages come from the same tree.

use clap::CommandFactory;

use crate::support::ims_bin;

fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        if matches!(id, "help" | "version") {
            continue;
        }
        if arg.get_help().is_none() && arg.get_long_help().is_none() {
            out.push(format!("{path} {id}"));
        }
    }
    for sub in cmd.get_subcommands() {
        let sub_path = format!("{path} {}", sub.get_name());
        if sub.get_name() != "help" && sub.get_about().is_none() && sub.get_long_about().is_none() {
            out.push(format!("{sub_path} (the command)"));
        }
        undocumented(sub, &sub_path, out);
    }
}

#[test]
fn every_command_flag_and_argument_is_described() {
    let mut missing = Vec::new();
    undocumented(&ims::cli::Cli::command(), "ims", &mut missing);
    assert!(missing.is_empty(), "no --help line for:\n  {}", missing.join("\n  "));
}

#[test]
fn global_options_are_listed_apart_and_completions_and_man_pages_are_made() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(ims_bin()).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let help = run(&["incident", "identify", "--help"]);
    let global = help.find("Global options:").expect("a Global options section");
    assert!(help[global..].contains("--json") && help[global..].contains("--color"), "{help}");
    assert!(!help[..global].contains("--json"), "global options only under their heading: {help}");
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = run(&["completions", shell]);
        assert!(script.contains("identify") && script.contains("active"), "{shell}: completes commands and flags");
    }
    let page = run(&["man"]);
    assert!(page.starts_with(".ie") || page.contains(".TH ims"), "{}", &page[..200.min(page.len())]);
    let tmp = tempfile::tempdir().unwrap();
    run(&["man", "--dir", tmp.path().to_str().unwrap()]);
    assert!(tmp.path().join("ims.1").exists());
    assert!(tmp.path().join("ims-incident-identify.1").exists());
    let err = std::process::Command::new(ims_bin()).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(err.status.code(), Some(2), "an unknown shell is a usage error");
}
