//! Daily work at the command line: the demo you can act in (its printed identities),
//! the responder's queue (several values per filter, `--active`, `--sort`, `--limit`,
//! header rows, colour only when asked or on a terminal, `-q`, empty lists said on
//! stderr), the human `show`, the untriaged acknowledge clock, and the object store
//! kept packed as `git gc --auto` would.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// `(IMS_ACTOR, IMS_SIGNING_KEY, role)` from the demo's printed `export` lines.
fn export_lines(stdout: &str) -> Vec<(String, String, String)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .map(|l| {
            let (vars, comment) = l.split_once("  # ").expect("a role comment");
            let mut actor = String::new();
            let mut key = String::new();
            for word in vars.split(' ') {
                if let Some(v) = word.strip_prefix("IMS_ACTOR=") {
                    actor = v.to_string();
                } else if let Some(v) = word.strip_prefix("IMS_SIGNING_KEY=") {
                    key = v.to_string();
                }
            }
            (actor, key, comment.split(',').next().unwrap().to_string())
        })
        .collect()
}

fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(path).unwrap().flatten() {
        let m = e.metadata().unwrap();
        total += if m.is_dir() { dir_size(&e.path()) } else { m.len() };
    }
    total
}

fn count_objects(repo: &Path) -> (u64, u64) {
    let out = Command::new("git").current_dir(repo).args(["count-objects", "-v"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        text.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).unwrap().trim().parse::<u64>().unwrap()
    };
    (field("count"), field("packs"))
}

/// The demo prints one identity per role, whose key (a demo key, labelled so) lets you
/// act in it at once: the responder's queue, then a procedure. Twenty days of story
/// would leave ~7,600 loose objects unpacked; ims packs them as it goes.
#[test]
fn the_demo_prints_identities_to_act_as_and_stays_packed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(ims_bin())
        .current_dir(tmp.path())
        .args(["demo", "d", "--days", "20"])
        .env_remove("IMS_NOW")
        .env_remove("IMS_ACTOR")
        .env_remove("IMS_SIGNING_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let demo = tmp.path().join("d");
    let lines = export_lines(&stdout);
    let roles: Vec<&str> = lines.iter().map(|l| l.2.as_str()).collect();
    for role in ["incident_manager", "service_desk", "L1", "L2", "L3", "auditor", "automation", "change_mgmt"] {
        assert!(roles.contains(&role), "an export line for {role}: {stdout}");
    }
    assert_eq!(
        roles.len(),
        lines.iter().map(|l| &l.2).collect::<std::collections::BTreeSet<_>>().len(),
        "one per role"
    );
    let readme = std::fs::read_to_string(demo.join(".git/ims/demo-keys/README")).unwrap();
    assert!(readme.starts_with("DEMO ONLY"), "{readme}");
    assert!(stdout.contains("DEMO keys"), "{stdout}");

    // Object store: packed as git gc --auto would, and small.
    let (loose, packs) = count_objects(&demo);
    assert!(loose < 6700, "{loose} loose objects after the demo");
    assert!((1..=50).contains(&packs), "{packs} packs");
    let size = dir_size(&demo.join(".git"));
    assert!(size < 20 * 1024 * 1024, ".git is {size} bytes");

    // Act as the printed L2 person: the active queue is an audited read that works.
    let (actor, key, _) = lines.iter().find(|l| l.2 == "L2").unwrap().clone();
    let ims = |args: &[&str]| {
        Command::new(ims_bin())
            .current_dir(&demo)
            .args(args)
            .env_remove("IMS_NOW")
            .env("IMS_ACTOR", &actor)
            .env("IMS_SIGNING_KEY", &key)
            .env("IMS_STATE_DIR", tmp.path().join("state"))
            .output()
            .unwrap()
    };
    let out = ims(&["find", "incident", "--active", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let active = doc["matches"].as_array().unwrap();
    assert!(!active.is_empty(), "the demo leaves work open: {doc}");
    for m in active {
        assert!(!["resolved", "closed"].contains(&m["status"].as_str().unwrap()), "{m}");
    }
    let all = ims(&["find", "incident", "--json"]);
    let all: Value = serde_json::from_slice(&all.stdout).unwrap();
    assert!(all["matches"].as_array().unwrap().len() > active.len());
    // And a procedure, signed with the demo key.
    let id = active[0]["incident_id"].as_str().unwrap();
    let out = ims(&["-q", "incident", "log", id, "--description", "checked from the demo"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), id, "-q prints only the id");
    let out = ims(&["verify", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    // Nobody chosen, or someone unknown: the error says how to choose.
    for (actor, key) in [("", ""), ("nobody@example.com", key.as_str())] {
        let out = Command::new(ims_bin())
            .current_dir(&demo)
            .args(["find", "incident"])
            .env("IMS_ACTOR", actor)
            .env("IMS_SIGNING_KEY", key)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        for hint in ["IMS_ACTOR", "IMS_SIGNING_KEY", "git config user.email", "ims demo"] {
            assert!(err.contains(hint), "`{hint}` in: {err}");
        }
    }
}

fn human(repo: &Repo, actor: &str, args: &[&str]) -> (String, String) {
    let out = repo.run(actor, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_queue_takes_several_values_active_sort_and_limit() {
    let repo = Repo::with_everyone();
    let (desk, l1, l2, auditor) = (who("service_desk"), who("L1"), who("L2"), who("auditor"));
    let a = repo.incident("Checkout down");
    let b = repo.incident("Search slow");
    let c = repo.incident("Printer jam");
    let prioritize = |id: &str, level: &str| {
        repo.ok(&l1, &["incident", "prioritize", id, "--priority", level, "--severity", level, "--justification", "x"]);
    };
    prioritize(&a, "low");
    prioritize(&b, "high");
    prioritize(&c, "medium");
    repo.ok(&desk, &["incident", "assign", &b, "--team", "L2"]);
    repo.ok(&desk, &["incident", "assign", &c, "--team", "L2"]);
    repo.ok(&l2, &["incident", "resolve", &c, "--summary", "fixed", "--fix-applied", "--service-restored"]);
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["find", "incident"];
        all.extend_from_slice(args);
        repo.ok(&auditor, &all)["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["incident_id"].as_str().unwrap().to_string())
            .collect()
    };
    let status = |id: &str| repo.show(id)["status"].as_str().unwrap().to_string();
    let (sa, sb) = (status(&a), status(&b));
    assert_ne!(sa, sb, "two statuses to ask for");
    // Created at the same moment: the order among them is by id.
    let set = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let ab = set(vec![a.clone(), b.clone()]);
    let comma = ids(&["--status", &format!("{sa},{sb}")]);
    assert_eq!(set(comma.clone()), ab);
    assert_eq!(ids(&["--status", &sa, "--status", &sb]), comma, "repeated is the same as commas");
    assert_eq!(set(ids(&["--active"])), ab, "the resolved one is left out");
    assert_eq!(set(ids(&["--priority", "high,medium"])), set(vec![b.clone(), c.clone()]));
    assert_eq!(ids(&["--sort", "priority"]), [b.clone(), c.clone(), a.clone()], "most urgent first");
    assert_eq!(ids(&["--sort", "priority", "--reverse", "--limit", "1"]), vec![a.clone()]);
    let doc = repo.ok(&auditor, &["find", "incident", "--limit", "2"]);
    assert_eq!((doc["total"].as_u64(), doc["matches"].as_array().unwrap().len()), (Some(3), 2));
    // A bad value in a list is exit 3 naming it; a bad sort key too.
    let err = repo.fails(&auditor, &["find", "incident", "--status", "open,sleeping"], 3);
    assert!(err.contains("sleeping"), "{err}");
    let err = repo.fails(&auditor, &["find", "incident", "--sort", "mood"], 3);
    assert!(err.contains("created, updated, priority"), "{err}");

    // Human output: a header row, no colour through a pipe, colour when asked.
    let (out, _) = human(&repo, &auditor, &["find", "incident", "--active"]);
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["ID", "STATUS", "PRIORITY", "TEAM", "TITLE"], "{out}");
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(!out.contains('\u{1b}'), "no colour through a pipe: {out:?}");
    let (out, _) = human(&repo, &auditor, &["find", "incident", "--color", "always"]);
    assert!(out.contains("\u{1b}[31mhigh\u{1b}[0m"), "{out:?}");
    let (out, _) = human(&repo, &auditor, &["find", "incident", "--color", "never"]);
    assert!(!out.contains('\u{1b}'));
    // -q: the ids alone; an empty list says so on stderr, nothing on stdout.
    let (out, _) = human(&repo, &auditor, &["-q", "find", "incident", "--active"]);
    assert_eq!(set(out.lines().map(String::from).collect()), ab);
    let (out, err) = human(&repo, &auditor, &["find", "incident", "--status", "closed"]);
    assert_eq!(out, "");
    assert!(err.contains("no incident matches"), "{err}");
    let (out, err) = human(&repo, &auditor, &["-q", "find", "incident", "--status", "closed"]);
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
    let (out, err) = human(&repo, &who("incident_manager"), &["proposal", "list"]);
    assert_eq!(out, "");
    assert!(err.contains("no proposal"), "{err}");
    // -q on a procedure: only the new id.
    let (out, _) = human(
        &repo,
        &desk,
        &["-q", "incident", "identify", "--title", "Mail slow", "--service", "mail", "--source", "user_report"],
    );
    assert!(out.trim().starts_with("INC-") && out.lines().count() == 1, "{out}");
}

#[test]
fn show_formats_the_record_with_its_timeline_and_yaml_gives_the_file() {
    let repo = Repo::with_everyone();
    let id = repo.incident("Checkout down");
    repo.ok(
        &who("L1"),
        &["incident", "prioritize", &id, "--priority", "low", "--severity", "low", "--justification", "x"],
    );
    let (out, _) = human(&repo, &who("auditor"), &["show", &id]);
    assert!(out.starts_with(&format!("{id}  Checkout down\n")), "{out}");
    assert!(out.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["priority", "low"]), "{out}");
    let timeline = out.split("\ntimeline\n").nth(1).expect("a timeline section");
    assert!(timeline.contains("priority: - -> low"), "{out}");
    assert!(!out.contains("schema:"), "{out}");
    let (yaml, _) = human(&repo, &who("auditor"), &["show", &id, "--yaml"]);
    let file = repo.git(&["ls-files", "records"]).lines().find(|p| p.contains(&id)).unwrap().to_string();
    assert_eq!(yaml.trim_end(), std::fs::read_to_string(repo.path.join(file)).unwrap().trim_end());
}

#[test]
fn an_untriaged_incident_has_an_acknowledge_clock() {
    let repo = Repo::with_everyone();
    let (im, auditor) = (who("incident_manager"), who("auditor"));
    assert!(
        std::fs::read_to_string(repo.path.join("ims.yaml")).unwrap().contains("untriaged: \"1h\""),
        "init writes it"
    );
    let id = repo.incident("Nobody looked");
    let check = |at: &str| repo.ok(&auditor, &["sla", "check", "--at", at])["standings"].as_array().unwrap().clone();
    assert!(check("2026-11-26T09:30:00Z").is_empty());
    let risk = check("2026-11-26T09:50:00Z");
    assert_eq!((risk[0]["incident_id"].as_str(), risk[0]["state"].as_str()), (Some(id.as_str()), Some("at_risk")));
    assert_eq!((risk[0]["clock"].as_str(), risk[0]["untriaged"].as_bool()), (Some("acknowledge"), Some(true)));
    let late = check("2026-11-26T11:00:00Z");
    assert_eq!(late[0]["state"], "breached", "{late:?}");
    let (out, _) = human(&repo, &auditor, &["sla", "check", "--at", "2026-11-26T11:00:00Z"]);
    assert!(out.lines().next().unwrap().starts_with("INCIDENT"), "{out}");
    assert!(out.lines().nth(1).unwrap().contains("untriaged"), "{out}");
    // Without the setting (a repository made before it), no clock, as before.
    repo.ok(&im, &["config", "set", "sla.untriaged", "null"]);
    assert!(check("2026-11-26T11:00:00Z").is_empty());
    let doc = repo.ok(&im, &["migrate"]);
    assert!(doc["missing_settings"].as_array().unwrap().iter().any(|s| s["key"] == "sla.untriaged"), "{doc}");
    repo.ok(&im, &["migrate", "--settings"]);
    assert_eq!(check("2026-11-26T11:00:00Z").len(), 1);
    repo.ok(&auditor, &["verify"]);
}

/// Past git's gc.auto threshold, the next procedure packs the store before it returns;
/// `ims doctor --fix` packs whatever is loose.
#[test]
fn the_object_store_is_packed_past_gits_threshold() {
    let repo = Repo::with_everyone();
    // 8,000 reachable loose objects on a side ref, as a long history would leave.
    let blobs = repo.tmp.path().join("blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    let mut paths = String::new();
    for i in 0..8000 {
        let p = blobs.join(format!("{i}"));
        std::fs::write(&p, format!("blob {i}\n")).unwrap();
        paths.push_str(&format!("{}\n", p.display()));
    }
    let mut child = Command::new("git")
        .current_dir(&repo.path)
        .args(["hash-object", "-w", "--stdin-paths"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    // Written from a thread: git prints ids while it reads, and a full pipe would block both.
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(paths.as_bytes()).unwrap());
    let ids = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    writer.join().unwrap();
    let tree: String = ids.lines().enumerate().map(|(i, id)| format!("100644 blob {id}\tf{i}\n")).collect();
    let mut mktree = Command::new("git")
        .current_dir(&repo.path)
        .args(["mktree"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    mktree.stdin.take().unwrap().write_all(tree.as_bytes()).unwrap();
    let tree = String::from_utf8(mktree.wait_with_output().unwrap().stdout).unwrap();
    let commit = repo.git(&["-c", "user.name=t", "-c", "user.email=t@x", "commit-tree", tree.trim(), "-m", "bulk"]);
    repo.git(&["update-ref", "refs/test/bulk", commit.trim()]);
    assert!(count_objects(&repo.path).0 > 8000);
    let doc = repo.ok(&who("auditor"), &["doctor"]);
    assert_eq!(doc["fixable"], true, "past the threshold: {doc}");
    repo.incident("One more");
    let (loose, packs) = count_objects(&repo.path);
    assert!(loose < 100, "{loose} loose after the procedure");
    assert!(packs >= 1);
    // doctor --fix packs what is left loose (the procedure's own objects).
    repo.incident("And another");
    assert!(count_objects(&repo.path).0 > 0);
    let doc = repo.ok(&who("auditor"), &["doctor", "--fix"]);
    assert_eq!(doc["packed"], true, "{doc}");
    assert_eq!(doc["objects"]["loose"], 0, "{doc}");
    repo.ok(&who("auditor"), &["verify"]);
}

/// A pull request in plain words: `ims audit --range A..B --markdown` lists each
/// procedure with its changes, signer, signature and SLA effect, and the verdict of
/// `ims verify` on the range; a range that fails verification still prints, exit 7.
#[test]
fn a_pull_request_summary_in_markdown() {
    let repo = Repo::with_everyone();
    let base = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let id = repo.incident("Checkout down");
    repo.ok(
        &who("L1"),
        &["incident", "prioritize", &id, "--priority", "low", "--severity", "low", "--justification", "x"],
    );
    let range = format!("{base}..HEAD");
    let (md, _) = human(&repo, &who("auditor"), &["audit", "--range", &range, "--markdown"]);
    assert!(md.starts_with("### ims: 2 procedure(s) in"), "{md}");
    assert!(md.contains("**ims verify: passed** (2 commits checked"), "{md}");
    let lines: Vec<&str> = md.lines().filter(|l| l.starts_with("- **")).collect();
    assert_eq!(lines.len(), 2, "one line per procedure: {md}");
    assert!(lines[0].contains(&id) && lines[0].contains(&who("service_desk")) && lines[0].contains("good signature"));
    assert!(lines[1].contains("incident.prioritize/1") && lines[1].contains(&who("L1")), "{md}");
    assert!(md.contains("  - priority: null -> low"), "{md}");
    assert!(md.contains("  - SLA: targets set (acknowledge=4h"), "{md}");
    // An unsigned hand edit in the range: the verdict says so, and the exit is 7.
    std::fs::write(repo.path.join("notes.txt"), "hand edit\n").unwrap();
    repo.git(&["add", "notes.txt"]);
    repo.git(&["-c", "commit.gpgsign=false", "-c", "user.email=x@y", "-c", "user.name=x", "commit", "-qm", "hand"]);
    let out = repo.run(&who("auditor"), &["audit", "--range", &range, "--markdown"]);
    assert_eq!(out.status.code(), Some(7));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("**ims verify: FAILED** (1 violations)"), "{md}");
}

/// Evidence for a period in one folder and a .tar.gz; the bundle in it re-verifies in a
/// fresh directory, and the same seed samples the same incidents.
#[test]
fn evidence_export_is_self_contained_and_re_verifies_elsewhere() {
    let repo = Repo::with_everyone();
    let root = repo.git(&["rev-list", "--max-parents=0", "HEAD"]).trim().to_string();
    let ids: Vec<String> = (0..4).map(|i| repo.incident(&format!("Fault {i}"))).collect();
    repo.ok(&who("auditor"), &["find", "incident"]);
    let export = |out: &str, seed: &str| {
        repo.ok(
            &who("auditor"),
            &[
                "evidence",
                "export",
                out,
                "--since",
                "2026-11-01",
                "--until",
                "2026-12-01",
                "--sample",
                "2",
                "--seed",
                seed,
                "--trust-root",
                &root,
            ],
        )
    };
    let doc = export("../ev", "7");
    let ev = repo.tmp.path().join("ev");
    assert_eq!(doc["evidence"]["verify_ok"], true, "{doc}");
    let records = std::fs::read_to_string(ev.join("records.csv")).unwrap();
    assert!(records.starts_with("type,id,title,status"), "{records}");
    for id in &ids {
        assert!(records.contains(id.as_str()), "{id} in the population: {records}");
    }
    let audit = std::fs::read_to_string(ev.join("audit.csv")).unwrap();
    assert!(audit.lines().skip(1).all(|l| l.contains(",good,")), "signature status on each entry: {audit}");
    assert!(audit.contains("read.identify/1"), "audited reads are entries too");
    let verdict: Value = serde_json::from_str(&std::fs::read_to_string(ev.join("verify.json")).unwrap()).unwrap();
    assert_eq!((verdict["trust_root"].as_str(), verdict["verify"]["ok"].as_bool()), (Some(root.as_str()), Some(true)));
    assert!(verdict["ims_version"].is_string());
    assert_eq!(
        std::fs::read(ev.join("allowed_signers")).unwrap(),
        std::fs::read(repo.path.join("allowed_signers")).unwrap()
    );
    let sample: Vec<String> =
        doc["evidence"]["sample"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().into()).collect();
    assert_eq!(sample.len(), 2);
    for id in &sample {
        let trail = std::fs::read_to_string(ev.join(format!("sample/{id}-trail.csv"))).unwrap();
        assert!(trail.contains("incident.identify/1"), "the full trail: {trail}");
    }
    assert_eq!(export("../ev2", "7")["evidence"]["sample"], doc["evidence"]["sample"], "same seed, same sample");
    let index = std::fs::read_to_string(ev.join("index.html")).unwrap();
    assert!(index.contains("history.bundle") && index.contains(&root), "{index}");
    // The archive holds the folder.
    let listing = Command::new("tar").arg("tzf").arg(repo.tmp.path().join("ev.tar.gz")).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    for f in ["ev/records.csv", "ev/audit.csv", "ev/verify.json", "ev/history.bundle", "ev/index.html"] {
        assert!(listing.lines().any(|l| l == f), "{f} in the archive: {listing}");
    }
    // Anyone can re-verify offline: clone the bundle in a fresh directory.
    let fresh = tempfile::tempdir().unwrap();
    let clone = Command::new("git")
        .arg("clone")
        .arg("-q")
        .arg(ev.join("history.bundle"))
        .arg(fresh.path().join("records"))
        .output()
        .unwrap();
    assert!(clone.status.success(), "{}", String::from_utf8_lossy(&clone.stderr));
    let out = Command::new(ims_bin())
        .current_dir(fresh.path().join("records"))
        .args(["verify", "--trust-root", &root, "--json"])
        .env("IMS_STATE_DIR", fresh.path().join("state"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    // An existing folder is refused, nothing written.
    repo.fails(&who("auditor"), &["evidence", "export", "../ev", "--since", "2026-11-01", "--until", "2026-12-01"], 5);
}
