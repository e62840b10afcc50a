//! A records repository in a temporary directory, people with real SSH keys made by
//! `ssh-keygen`, and the real `ims` binary run against it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub const ROLES: &[&str] = &[
    "incident_manager",
    "service_desk_manager",
    "service_desk",
    "L1",
    "L2",
    "L3",
    "devops",
    "facilities",
    "change_mgmt",
    "end_user",
    "auditor",
    "automation",
];

pub struct Repo {
    pub tmp: tempfile::TempDir,
    pub path: PathBuf,
    pub now: String,
    /// email → private key path.
    pub keys: BTreeMap<String, PathBuf>,
}

pub fn keygen(dir: &Path, name: &str, kind: &str) -> PathBuf {
    let path = dir.join(name);
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", "", "-C", name, "-f"]).arg(&path);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    let status = cmd.status().expect("ssh-keygen runs");
    assert!(status.success(), "ssh-keygen failed");
    path
}

pub fn pubkey(private: &Path) -> PathBuf {
    let mut p = private.as_os_str().to_owned();
    p.push(".pub");
    PathBuf::from(p)
}

pub fn ims_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ims")
}

/// Email of the registered person holding `role`.
pub fn who(role: &str) -> String {
    format!("{}@example.com", role.to_lowercase())
}

impl Repo {
    /// A simulated-clock repository whose first person is `incident_manager@example.com`.
    pub fn new() -> Repo {
        let tmp = tempfile::tempdir().expect("temp dir");
        let keys_dir = tmp.path().join("keys");
        std::fs::create_dir_all(&keys_dir).unwrap();
        let key = keygen(&keys_dir, "incident_manager", "ed25519");
        let path = tmp.path().join("records");
        let mut repo = Repo { tmp, path, now: "2026-11-26T09:00:00Z".into(), keys: BTreeMap::new() };
        let out = Command::new(ims_bin())
            .args(["init"])
            .arg(&repo.path)
            .args(["--name", "Ines Manager", "--email", &who("incident_manager"), "--key"])
            .arg(pubkey(&key))
            .arg("--simulated-clock")
            .env("IMS_NOW", &repo.now)
            .env_remove("IMS_SIGNING_KEY")
            .env_remove("IMS_ACTOR")
            .output()
            .unwrap();
        assert!(out.status.success(), "init failed: {}", String::from_utf8_lossy(&out.stderr));
        repo.keys.insert(who("incident_manager"), key);
        repo
    }

    /// A repository with one person per role (end users without a key).
    pub fn with_everyone() -> Repo {
        let mut repo = Repo::new();
        for role in ROLES.iter().filter(|r| **r != "incident_manager") {
            repo.add_person(role, *role != "end_user");
        }
        repo
    }

    pub fn add_person(&mut self, role: &str, with_key: bool) {
        let email = who(role);
        let mut args = vec![
            "person".to_string(),
            "add".into(),
            "--email".into(),
            email.clone(),
            "--name".into(),
            format!("{role} person"),
            "--role".into(),
            role.into(),
        ];
        if with_key {
            let key = keygen(&self.tmp.path().join("keys"), role, "ed25519");
            args.push("--key".into());
            args.push(pubkey(&key).to_string_lossy().into_owned());
            self.keys.insert(email.clone(), key);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.ok(&who("incident_manager"), &args);
    }

    /// Runs ims as `actor` (with their key) and returns the output.
    pub fn run(&self, actor: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(ims_bin());
        cmd.current_dir(&self.path).args(args).env("IMS_NOW", &self.now).env("IMS_ACTOR", actor);
        // The verify cache's secret, per test, not in the real home.
        cmd.env("IMS_STATE_DIR", self.tmp.path().join("state"));
        match self.keys.get(actor) {
            Some(key) => cmd.env("IMS_SIGNING_KEY", key),
            None => cmd.env("IMS_SIGNING_KEY", self.keys[&who("incident_manager")].clone()),
        };
        cmd.output().expect("ims runs")
    }

    /// Runs ims with `--json`, expecting success; returns the document.
    pub fn ok(&self, actor: &str, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(actor, &all);
        assert!(
            out.status.success(),
            "ims {args:?} as {actor} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("one JSON document on stdout: {e}: {}", String::from_utf8_lossy(&out.stdout)))
    }

    /// Runs ims expecting exit `code`; returns stderr.
    pub fn fails(&self, actor: &str, args: &[&str], code: i32) -> String {
        let out = self.run(actor, args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "ims {args:?} as {actor}: expected exit {code}, stderr: {stderr}");
        assert!(stderr.starts_with("error: "), "one error line: {stderr}");
        stderr
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git").current_dir(&self.path).args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// HEAD, every ref, the index and every working file, to prove a refusal changed nothing.
    pub fn state(&self) -> Vec<u8> {
        let mut s = self.git(&["for-each-ref", "--format=%(refname) %(objectname)"]).into_bytes();
        s.extend(self.git(&["rev-parse", "HEAD"]).into_bytes());
        s.extend(std::fs::read(self.path.join(".git/index")).unwrap());
        let mut files = Vec::new();
        collect(&self.path, &mut files);
        files.sort();
        for f in files {
            s.extend(f.to_string_lossy().as_bytes());
            s.extend(std::fs::read(&f).unwrap());
        }
        s
    }

    /// Every commit reachable from HEAD and the read-audit refs passes `git verify-commit`.
    pub fn verify_all_commits(&self) -> usize {
        let list = self.git(&["rev-list", "--all"]);
        let mut n = 0;
        for c in list.lines() {
            let out = Command::new("git").current_dir(&self.path).args(["verify-commit", c]).output().unwrap();
            assert!(out.status.success(), "git verify-commit {c}: {}", String::from_utf8_lossy(&out.stderr));
            n += 1;
        }
        n
    }

    /// Makes a new incident as the service desk; returns its id.
    pub fn incident(&self, title: &str) -> String {
        let doc = self.ok(
            &who("service_desk"),
            &["incident", "identify", "--title", title, "--service", "shop", "--source", "user_report"],
        );
        doc["id"].as_str().unwrap().to_string()
    }

    pub fn show(&self, id: &str) -> Value {
        self.ok(&who("auditor"), &["show", id])
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == ".git") {
            continue;
        }
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The path of an external program a test needs (installed by `.ci/run`), or `None`
/// to skip the test on a machine without it. With `IMS_REQUIRE_EXTERNAL=1`, as in CI,
/// a missing program fails the test instead.
pub fn external(program: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| p.is_file()));
    if found.is_none() {
        assert!(std::env::var_os("IMS_REQUIRE_EXTERNAL").is_none(), "{program} is required but not installed");
        eprintln!("skipped: {program} is not installed (see .ci/run)");
    }
    found
}
