//! The layer rule (CONTRIBUTING.md), checked on the sources: the core crate's manifest
//! names no crate of the shell, and its sources touch no file system, environment,
//! process, network, thread-local state or git. `.ci/run` checks the same on the
//! resolved dependency graph (`cargo tree -p ims-core`).

use std::path::{Path, PathBuf};

fn core() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/ims-core")
}

/// The crates the pure layer may not name: git, the site's templates, the watcher, the
/// HTTP server, ssh-agent, the RSA signer and the I/O crate itself.
const SHELL_CRATES: &[&str] =
    &["git2", "tera", "notify", "tiny_http", "ssh-agent-client-rs", "rsa", "ims-io", "ims_io"];

#[test]
fn core_manifest_names_no_shell_crate() {
    let manifest = std::fs::read_to_string(core().join("Cargo.toml")).unwrap();
    let mut section = String::new();
    let mut named = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
            continue;
        }
        // Normal and build dependencies reach the library; dev-dependencies do not.
        if section == "[dependencies]" || section == "[build-dependencies]" || section.starts_with("[target.") {
            let name = line.split(['=', '.', ' ']).next().unwrap_or("");
            named.push(name.to_string());
        }
    }
    assert!(named.iter().any(|n| n == "serde"), "the manifest was read: {named:?}");
    for bad in SHELL_CRATES {
        assert!(!named.iter().any(|n| n == bad), "crates/ims-core/Cargo.toml depends on {bad}");
    }
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn core_sources_touch_no_io() {
    let mut files = Vec::new();
    sources(&core().join("src"), &mut files);
    assert!(files.len() > 50, "the core's sources were found: {}", files.len());
    let forbidden = [
        "std::fs",
        "std::env",
        "std::process",
        "std::net",
        "std::thread",
        "thread_local!",
        "git2::",
        "tera::",
        "tiny_http",
        "ims_io",
    ];
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for word in forbidden {
            if text.contains(word) {
                found.push(format!("{}: {word}", file.strip_prefix(core()).unwrap_or(file).display()));
            }
        }
    }
    assert!(found.is_empty(), "the pure layer reaches outside itself:\n{}", found.join("\n"));
}
