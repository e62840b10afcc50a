//! Hostile text at the terminal and at the door: control characters printed escaped,
//! bidi controls and invisible characters refused in one-line fields, emails folded,
//! the service allowlist on every way an incident opens, secret forms, and concurrent
//! readers that never fail (issue 14).

use std::process::Command;

use crate::support::{who, Repo};

#[test]
fn a_bearer_token_in_a_description_is_refused_with_nothing_changed() {
    let repo = Repo::with_everyone();
    let id = repo.incident("checkout down");
    let before = repo.state();
    for text in [
        "the hook sent Authorization: Bearer eyJ0eXAi0iJKV1QiLCJhbGciOiJIUzI1NiJ9xyz",
        "curl -H 'Authorization: Basic dXNlcjpodW50ZXIy' https://api",
        "PuTTY-User-Key-File-3: ssh-ed25519",
    ] {
        let err = repo.fails(&who("service_desk"), &["incident", "log", &id, "--description", text], 3);
        assert!(err.contains("description") && err.contains("secrets must never"), "{err}");
    }
    assert_eq!(repo.state(), before, "a refused secret changes nothing");
}

#[test]
fn one_line_fields_refuse_bidi_controls_and_invisible_characters_naming_the_code_point() {
    let repo = Repo::with_everyone();
    let before = repo.state();
    let sd = who("service_desk");
    let err = repo.fails(
        &sd,
        &["incident", "identify", "--title", "invoice\u{202E}fdp.exe", "--service", "shop", "--source", "user_report"],
        3,
    );
    assert!(err.contains("title") && err.contains("U+202E"), "{err}");
    let err = repo.fails(
        &sd,
        &["incident", "identify", "--title", "down", "--service", "sh\u{200B}op", "--source", "user_report"],
        3,
    );
    assert!(err.contains("service") && err.contains("U+200B"), "{err}");
    let im = who("incident_manager");
    let err =
        repo.fails(&im, &["person", "add", "--email", "eve@example.com", "--name", "Eve\u{2066}", "--role", "L1"], 3);
    assert!(err.contains("name") && err.contains("U+2066"), "{err}");
    let err = repo.fails(&im, &["config", "set", "services", "[\"shop\", \"pay\u{2060}\"]"], 3);
    assert!(err.contains("services") && err.contains("U+2060"), "{err}");
    assert_eq!(repo.state(), before, "a refusal changes nothing");
    // ZWNJ (Persian) and ZWJ (emoji sequences) are letters of real text: kept.
    let id = repo.incident("سرور\u{200C}ها down 👩\u{200D}💻");
    assert_eq!(repo.show(&id)["title"], "سرور\u{200C}ها down 👩\u{200D}💻");
}

#[test]
fn eight_concurrent_reads_of_one_person_all_succeed_and_are_all_audited() {
    let repo = Repo::with_everyone();
    repo.incident("checkout down");
    let actor = who("L2");
    let reads = format!("refs/ims/audit/reads/{actor}");
    let count = |repo: &Repo| -> usize {
        let out = Command::new("git").current_dir(&repo.path).args(["rev-list", "--count", &reads]).output().unwrap();
        if out.status.success() {
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        } else {
            0
        }
    };
    for round in 0..10 {
        if round % 5 != 4 {
            // Most rounds start with no ref at all: the first write creates it, and eight
            // creators at once must not overwrite each other. The others append.
            let _ = Command::new("git").current_dir(&repo.path).args(["update-ref", "-d", &reads]).output();
        }
        let before = count(&repo);
        // In the appending rounds another writer holds the ref's lock for a while (a slow
        // disk, `git pack-refs`): the readers wait it out instead of failing.
        let lock = repo.path.join(".git").join(format!("{reads}.lock"));
        if round % 5 == 4 {
            std::fs::write(&lock, b"").unwrap();
        }
        let children: Vec<_> = (0..8)
            .map(|_| {
                Command::new(crate::support::ims_bin())
                    .current_dir(&repo.path)
                    .args(["find", "incident"])
                    .env("IMS_NOW", &repo.now)
                    .env("IMS_ACTOR", &actor)
                    .env("IMS_SIGNING_KEY", &repo.keys[&actor])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        if round % 5 == 4 {
            std::thread::sleep(std::time::Duration::from_millis(4000));
            std::fs::remove_file(&lock).unwrap();
        }
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: {}", String::from_utf8_lossy(&out.stderr));
        }
        assert_eq!(count(&repo), before + 8, "round {round}: every read is audited once");
    }
}

/// A hand commit (unsigned, with an ims-looking message) that sets an incident's title to
/// a terminal-steering sequence.
fn hostile_hand_commit(repo: &Repo, id: &str, title: &str) {
    let path = repo.git(&["ls-files", "records"]).lines().find(|p| p.contains(id)).unwrap().to_string();
    let file = repo.path.join(&path);
    let text = std::fs::read_to_string(&file).unwrap();
    let old = text.lines().find(|l| l.starts_with("title:")).unwrap().to_string();
    let new = format!("title: \"{}\"", title.replace('\u{1b}', "\\e").replace('\r', "\\r"));
    std::fs::write(&file, text.replace(&old, &new)).unwrap();
    // The last commit's message (an `incident log`), claiming the title as its field.
    let message = repo.git(&["log", "-1", "--format=%B"]).replace("Ims-Fields: description", "Ims-Fields: title");
    repo.git(&["-c", "commit.gpgsign=false", "commit", "-q", "-am", &message]);
}

#[test]
fn records_and_history_are_printed_with_control_characters_escaped() {
    let repo = Repo::with_everyone();
    let id = repo.incident("checkout down");
    repo.ok(&who("service_desk"), &["incident", "log", &id, "--description", "more detail"]);
    let erase = "\u{1b}[1A\r\u{1b}[2K";
    hostile_hand_commit(&repo, &id, &format!("fine{erase}"));
    let auditor = who("auditor");
    for args in [vec!["find", "incident"], vec!["audit"], vec!["audit", &id], vec!["show", &id]] {
        let out = repo.run(&auditor, &args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stdout.contains(&0x1b) && !out.stdout.contains(&b'\r'), "{args:?} printed a raw control");
        let text = String::from_utf8(out.stdout).unwrap();
        if args[0] != "show" {
            assert!(text.contains("fine\\e[1A\\r\\e[2K"), "{args:?} shows the escapes: {text}");
        }
        if args[0] == "audit" {
            // The hand commit's entry keeps its marker, with the hostile delta on its own line.
            let entry = text.lines().position(|l| l.contains("[unsigned]")).expect("an unsigned entry");
            assert!(text.lines().nth(entry + 1).is_some_and(|l| l.contains("\\e[2K")), "{text}");
        }
    }
    // JSON stays JSON: the title comes back exactly as stored.
    let doc = repo.ok(&auditor, &["find", "incident"]);
    assert_eq!(doc["matches"][0]["title"], format!("fine{erase}"));
}

#[test]
fn emails_are_one_person_whatever_their_case() {
    let mut repo = Repo::with_everyone();
    let im = who("incident_manager");
    let key = crate::support::keygen(&repo.tmp.path().join("keys"), "bob", "ed25519");
    let public = crate::support::pubkey(&key).to_string_lossy().into_owned();
    repo.ok(&im, &["person", "add", "--email", "Bob@Example.com", "--name", "Bob", "--role", "L2", "--key", &public]);
    assert!(repo.path.join("people/bob@example.com.yaml").exists(), "stored folded");
    let before = repo.state();
    let err = repo.fails(&im, &["person", "add", "--email", "bob@EXAMPLE.com", "--name", "Bobby", "--role", "L1"], 6);
    assert!(err.contains("already registered as bob@example.com (Bob)"), "{err}");
    assert_eq!(repo.state(), before);
    // A trailing dot of the domain (the DNS root) and surrounding spaces spell the same
    // email: refused too, naming Bob.
    for spelling in ["bob@example.com.", " BOB@example.com. ", "Bob@Example.Com."] {
        let err = repo.fails(&im, &["person", "add", "--email", spelling, "--name", "Bobby", "--role", "L1"], 6);
        assert!(err.contains("bob@example.com (Bob)"), "{spelling}: {err}");
    }
    assert_eq!(repo.state(), before);
    // A new person given with a trailing dot is stored without it.
    repo.ok(&im, &["person", "add", "--email", "Carol@Example.com.", "--name", "Carol", "--role", "L1"]);
    assert!(repo.path.join("people/carol@example.com.yaml").exists(), "stored in its comparison form");
    // The actor, --reporter and --assignee resolve case-insensitively.
    repo.keys.insert("BOB@example.COM".into(), key);
    let sd = who("service_desk");
    let doc = repo.ok(
        &sd,
        &[
            "incident",
            "identify",
            "--title",
            "vpn down",
            "--service",
            "vpn",
            "--source",
            "user_report",
            "--reporter",
            "BOB@example.com",
        ],
    );
    let id = doc["id"].as_str().unwrap().to_string();
    assert_eq!(doc["record"]["reporter"], "bob@example.com");
    repo.ok(&sd, &["incident", "assign", &id, "--team", "L2", "--assignee", "Bob@example.COM."]);
    assert_eq!(repo.show(&id)["assignee"], "bob@example.com");
    repo.ok("BOB@example.COM", &["incident", "diagnose", &id, "--steps", "checked the tunnel"]);
    let author = repo.git(&["log", "-1", "--format=%ae"]);
    assert_eq!(author.trim(), "bob@example.com", "the commit names the registered person");
    let found = repo.ok(&who("auditor"), &["find", "incident", "--assignee", "BOB@EXAMPLE.COM"]);
    assert_eq!(found["matches"].as_array().unwrap().len(), 1);
    assert_eq!(repo.ok(&who("auditor"), &["verify"])["ok"], true);
}

#[test]
fn the_service_allowlist_holds_for_ingest_and_import() {
    let repo = Repo::with_everyone();
    let im = who("incident_manager");
    repo.ok(&im, &["config", "set", "services", "[\"db\", \"shop\"]"]);
    let auto = who("automation");
    let event = |service: &str| {
        serde_json::json!({"service": service, "source": "monitoring_tool", "alert_type": "DiskFull",
            "severity": "critical", "summary": "disk full", "occurred_at": "2026-11-26T08:59:00Z"})
    };
    let file = repo.tmp.path().join("events.json");
    std::fs::write(&file, serde_json::to_vec(&serde_json::json!([event("db"), event("payroll")])).unwrap()).unwrap();
    let before = repo.state();
    let err = repo.fails(&auto, &["event", "ingest", file.to_str().unwrap()], 3);
    assert!(err.contains("`payroll`") && err.contains("db, shop"), "{err}");
    assert_eq!(repo.state(), before, "refused whole: nothing recorded, nothing opened");
    std::fs::write(&file, serde_json::to_vec(&event("db")).unwrap()).unwrap();
    let doc = repo.ok(&auto, &["event", "ingest", file.to_str().unwrap()]);
    assert_eq!(repo.show(doc["id"].as_str().unwrap())["service"], "db", "a listed service still opens one");
    // `ims watch`: the file for an unlisted service goes to rejected/ with the reason; the
    // other file of the same pass is ingested.
    let inbox = repo.tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let mut later = event("shop");
    later["alert_type"] = serde_json::json!("Slow");
    std::fs::write(inbox.join("a-shop.json"), serde_json::to_vec(&later).unwrap()).unwrap();
    std::fs::write(inbox.join("b-payroll.json"), serde_json::to_vec(&event("payroll")).unwrap()).unwrap();
    let mut watch = Command::new(crate::support::ims_bin())
        .current_dir(&repo.path)
        .args(["watch", inbox.to_str().unwrap()])
        .env("IMS_NOW", &repo.now)
        .env("IMS_ACTOR", &auto)
        .env("IMS_SIGNING_KEY", &repo.keys[&auto])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !inbox.join("processed/a-shop.json").exists() || !inbox.join("rejected/b-payroll.json.reason").exists() {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "ims watch did not sort the inbox");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = watch.kill();
    let _ = watch.wait();
    let reason = std::fs::read_to_string(inbox.join("rejected/b-payroll.json.reason")).unwrap();
    assert!(reason.contains("`payroll`"), "{reason}");
    let shop = repo.ok(&who("auditor"), &["find", "incident", "--service", "shop"]);
    assert_eq!(shop["matches"].as_array().unwrap().len(), 1, "the listed service's alert opened its incident");
    // An import naming a service outside the list is refused, the item and service named.
    let dir = repo.tmp.path();
    std::fs::write(
        dir.join("m.yaml"),
        "rows: tickets\ncolumns: {id: id, opened: opened, state: state, title: title, service: service}\n\
         states: {open: open}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("t.csv"),
        "id,opened,state,title,service\nA1,2025-01-01T10:00:00Z,open,Disk full,db\nA2,2025-01-02T10:00:00Z,open,Pay run,payroll\n",
    )
    .unwrap();
    let before = repo.state();
    let (csv, mapping) = (dir.join("t.csv"), dir.join("m.yaml"));
    let args = ["import", "csv", csv.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()];
    let err = repo.fails(&im, &args, 3);
    assert!(err.contains("A2") && err.contains("`payroll`"), "{err}");
    assert_eq!(repo.state(), before);
    assert_eq!(repo.ok(&auto, &["verify"])["ok"], true);
}
