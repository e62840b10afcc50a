//! The site: built from records, filtered for its audience before any template sees
//! them (even a hostile override), HTML-escaped, links resolving; and the demo.

use std::path::Path;

use crate::support::*;

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn all_text(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    files(dir, &mut out);
    out.iter().map(|p| (p.display().to_string(), std::fs::read_to_string(p).unwrap())).collect()
}

/// A repository with a security incident, internal notes and an unpublished article.
fn repo_with_secrets() -> (Repo, String, String) {
    let repo = Repo::with_everyone();
    let l2 = who("L2");
    let secret = repo.incident("Attacker on the admin console <script>alert(1)</script>");
    repo.ok(&l2, &["incident", "categorize", &secret, "--category", "security"]);
    let open = repo.incident("Checkout is slow");
    repo.ok(&who("L1"), &["incident", "assign", &open, "--team", "L2"]);
    repo.ok(&l2, &["incident", "diagnose", &open, "--steps", "INTERNAL-NOTE-7731 pool size"]);
    let body = repo.tmp.path().join("draft.md");
    std::fs::write(&body, "# Draft\n\nUNPUBLISHED-TEXT-4410\n").unwrap();
    repo.ok(&l2, &["kb", "draft", "--title", "Draft", "--type", "prevention", "--body-file", body.to_str().unwrap()]);
    (repo, secret, open)
}

fn id_of(doc: &serde_json::Value) -> String {
    doc["id"].as_str().expect("an id").to_string()
}

/// What `repo_with_linked_secrets` made: the restricted markers, and what the public
/// site must still show (so that leaving everything out cannot pass).
struct Secrets {
    markers: Vec<String>,
    public_problem: String,
    public_kb: String,
    public_change: String,
    open: String,
    closed: String,
}

/// `repo_with_secrets`, plus what leaked through links and free text: a problem whose
/// incidents are all security incidents, with its workaround article published and a
/// change made for it; messages to executives, stakeholders and IT staff; a review's
/// factors and action items; an email, a phone number and a person's name typed into
/// free text. Beside each, a public counterpart.
fn repo_with_linked_secrets() -> (Repo, Secrets) {
    let (repo, secret, open) = repo_with_secrets();
    let (l2, im, cm) = (who("L2"), who("incident_manager"), who("change_mgmt"));
    let known_error = |title: &str, incidents: &[&str], workaround: &str| -> (String, String) {
        let mut args = vec!["problem", "create", "--title", title, "--description", "seen twice", "--source"];
        args.extend(["incident_trend", "--service", "shop", "--incident", incidents[0]]);
        let prb = id_of(&repo.ok(&l2, &args));
        for id in &incidents[1..] {
            repo.ok(&l2, &["problem", "link", &prb, id]);
        }
        let doc = repo.ok(&l2, &["problem", "workaround", &prb, "--workaround", workaround]);
        let kb = doc["record"]["kb_ids"][0].as_str().unwrap().to_string();
        repo.ok(&im, &["kb", "publish", &kb]);
        (prb, kb)
    };
    let change = |summary: &str, prb: &str| -> String {
        let chg = id_of(&repo.ok(&l2, &["change", "request", "--summary", summary, "--risk", "low", "--problem", prb]));
        repo.ok(&cm, &["change", "approve", &chg]);
        repo.ok(&l2, &["change", "implement", &chg]);
        repo.ok(&cm, &["change", "review", &chg, "--outcome", "successful"]);
        chg
    };
    // A problem of security incidents only: as secret as they are, with everything linked.
    let second = repo.incident("Admin console login from an unknown network");
    repo.ok(&l2, &["incident", "categorize", &second, "--category", "security"]);
    let (bad_prb, bad_kb) =
        known_error("Suspicious admin login", &[&secret, &second], "Lock-the-console-WORKAROUND-8810");
    let bad_chg = change("Block-the-console-CHANGE-6620", &bad_prb);
    // Its public counterpart.
    let (public_problem, public_kb) = known_error("Checkout pool runs dry", &[&open], "Restart the app servers");
    let public_change = change("Raise the pool to 80", &public_problem);

    // Messages: to end users public, to everyone else internal; free text with personal data.
    for (to, message) in [
        ("executives", "EXEC-MESSAGE-3301"),
        ("stakeholders", "STAKEHOLDER-MESSAGE-3302"),
        ("IT_staff", "ITSTAFF-MESSAGE-3303"),
        ("end_users", "Checkout is back to normal"),
        ("end_users", "Questions? Write to ops-lead@corp.example"),
        ("end_users", "Questions? Call +44 20 7946 0958"),
    ] {
        repo.ok(&l2, &["incident", "notify", &open, "--to", to, "--message", message]);
    }
    repo.ok(&l2, &["incident", "log", &open, "--description", "Ines Manager restarted the pool"]);
    let phone_title = repo.incident("Outage, call 555-867-5309 for updates");
    // A closed incident with a review: its factors and action items stay internal.
    let closed = repo.incident("Search returns nothing");
    repo.ok(&im, &["incident", "assign", &closed, "--team", "L2"]);
    repo.ok(
        &im,
        &["incident", "resolve", &closed, "--summary", "index rebuilt", "--fix-applied", "--service-restored"],
    );
    repo.ok(&im, &["incident", "close", &closed, "--notes", "ok"]);
    let mut review = vec!["incident", "review", &closed, "--timeline", "One report", "--factors"];
    review.extend(["PIR-FACTOR-5501", "--action", "PIR-ACTION-5502"]);
    repo.ok(&im, &review);

    let mut markers: Vec<String> = [
        secret.as_str(),
        &second,
        "Attacker on the admin console",
        "Admin console login",
        "INTERNAL-NOTE-7731",
        "UNPUBLISHED-TEXT-4410",
        "@example.com",
        "Suspicious admin login",
        &bad_prb,
        &bad_kb,
        &bad_chg,
        "WORKAROUND-8810",
        "CHANGE-6620",
        "EXEC-MESSAGE-3301",
        "STAKEHOLDER-MESSAGE-3302",
        "ITSTAFF-MESSAGE-3303",
        "ops-lead@corp.example",
        "7946 0958",
        "Ines Manager",
        "555-867-5309",
        "PIR-FACTOR-5501",
        "PIR-ACTION-5502",
    ]
    .iter()
    .map(|m| m.to_string())
    .collect();
    markers.sort();
    let _ = phone_title;
    (repo, Secrets { markers, public_problem, public_kb, public_change, open, closed })
}

fn assert_nothing_restricted(dir: &Path, secret: &str) {
    for (path, text) in all_text(dir) {
        for needle in
            [secret, "Attacker on the admin console", "INTERNAL-NOTE-7731", "UNPUBLISHED-TEXT-4410", "@example.com"]
        {
            assert!(!text.contains(needle), "{path} leaks {needle}");
        }
    }
}

/// Greps every file of the public tree (pages, JSON index, feed, SVGs in pages) for every
/// marker; returns how many files it read.
fn assert_no_marker(dir: &Path, markers: &[String]) -> usize {
    let files = all_text(dir);
    let mut leaks = std::collections::BTreeMap::<&str, Vec<&str>>::new();
    for (path, text) in &files {
        for needle in markers.iter().filter(|m| text.contains(m.as_str())) {
            leaks.entry(needle).or_default().push(path);
        }
    }
    assert!(leaks.is_empty(), "leaks (marker → files): {leaks:#?}");
    files.len()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn what_links_to_security_incidents_and_personal_data_stay_off_the_public_site() {
    let (repo, s) = repo_with_linked_secrets();
    let out = repo.tmp.path().join("public");
    repo.ok(&who("auditor"), &["site", "build", "--audience", "public", "--out", out.to_str().unwrap()]);
    assert_no_marker(&out, &s.markers);
    // The public counterparts are there: the problem, its article, its change, the review.
    let problems = read(&out.join("problems/index.html"));
    assert!(problems.contains(&s.public_problem) && problems.contains("Checkout pool runs dry"), "{problems}");
    let index = read(&out.join("search-index.js"));
    assert!(index.contains(&s.public_kb), "{index}");
    assert!(read(&out.join(format!("kb/{}.html", s.public_kb))).contains("Restart the app servers"));
    assert!(read(&out.join("changes/index.html")).contains(&s.public_change));
    assert!(read(&out.join("pir/index.html")).contains(&s.closed));
    let feed = read(&out.join("feed.xml"));
    assert!(feed.contains("Checkout is back to normal"), "{feed}");
    // Free text with personal data is withheld whole, with a note where it was.
    let withheld = "(withheld from the public site)";
    assert_eq!(feed.matches(withheld).count(), 2, "{feed}");
    let page = read(&out.join(format!("incidents/{}.html", s.open)));
    assert_eq!(page.matches(withheld).count(), 3, "two messages and the description: {page}");
    assert!(read(&out.join("incidents/index.html")).contains(withheld), "the title with a phone number");
    // The staff site still shows all of it.
    let internal = repo.tmp.path().join("internal");
    repo.ok(&who("auditor"), &["site", "build", "--out", internal.to_str().unwrap()]);
    let all: String = all_text(&internal).into_iter().map(|(_, t)| t).collect();
    for needle in ["Suspicious admin login", "EXEC-MESSAGE-3301", "PIR-FACTOR-5501", "Ines Manager", "555-867-5309"] {
        assert!(all.contains(needle), "the internal site shows {needle}");
    }
}

#[test]
fn a_build_refuses_a_folder_holding_the_other_audience_unless_cleaned() {
    let (repo, _, _) = repo_with_secrets();
    let auditor = who("auditor");
    let internal = repo.ok(&auditor, &["site", "build"]);
    assert!(internal["out"].as_str().unwrap().ends_with("/site"), "{internal}");
    let public = repo.ok(&auditor, &["site", "build", "--audience", "public"]);
    assert!(public["out"].as_str().unwrap().ends_with("/site-public"), "a folder of its own: {public}");
    let site = repo.path.join("site");
    assert!(site.join("audit.html").exists());
    let before = all_text(&site);
    // The public build refuses the internal folder, and the internal one the public folder.
    let err = repo.fails(&auditor, &["site", "build", "--audience", "public", "--out", "site"], 5);
    assert!(err.contains(site.to_str().unwrap()) && err.contains("an internal site build"), "{err}");
    assert_eq!(all_text(&site), before, "nothing changed");
    let err = repo.fails(&auditor, &["site", "build", "--out", "site-public"], 5);
    assert!(err.contains("site-public") && err.contains("a public site build"), "{err}");
    // An internal build from before the marker (no marker, but its audit log) is one too.
    std::fs::remove_file(site.join(".ims-site-audience")).unwrap();
    repo.fails(&auditor, &["site", "build", "--audience", "public", "--out", "site"], 5);
    // --clean empties it first: nothing internal is left behind.
    repo.ok(&auditor, &["site", "build", "--audience", "public", "--out", "site", "--clean"]);
    assert!(!site.join("audit.html").exists());
    assert_eq!(read(&site.join(".ims-site-audience")), "public\n");
    assert_nothing_restricted(&site, "Attacker");
    // --clean never empties the repository itself.
    let err = repo.fails(&auditor, &["site", "build", "--out", ".", "--clean"], 5);
    assert!(err.contains("repository"), "{err}");
    assert!(repo.path.join("ims.yaml").exists());
}

#[test]
fn clean_never_empties_the_git_folder_a_records_folder_or_foreign_files() {
    let (repo, _, _) = repo_with_secrets();
    let auditor = who("auditor");
    let commits = repo.git(&["rev-list", "--count", "HEAD"]);
    // `--out .git` is inside the repository without holding it: the history must stay.
    for out in [".git", ".git/objects", "people", "records"] {
        let count = || {
            let mut found = Vec::new();
            files(&repo.path.join(out), &mut found);
            found.len()
        };
        let before = count();
        let err = repo.fails(&auditor, &["site", "build", "--audience", "public", "--out", out, "--clean"], 5);
        assert!(err.contains(out), "{out}: {err}");
        assert_eq!(count(), before, "{out}: nothing deleted");
    }
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), commits);
    assert!(repo.path.join(".git/HEAD").exists());
    // A folder of someone's own files outside the repository is not a site build either.
    let mine = repo.tmp.path().join("documents");
    std::fs::create_dir_all(mine.join("sub")).unwrap();
    std::fs::write(mine.join("thesis.txt"), "years of work").unwrap();
    let err =
        repo.fails(&auditor, &["site", "build", "--audience", "public", "--out", mine.to_str().unwrap(), "--clean"], 5);
    assert!(err.contains("not a site build"), "{err}");
    assert_eq!(read(&mine.join("thesis.txt")), "years of work");
    assert!(mine.join("sub").is_dir());
    // A site build's own folder is still emptied.
    repo.ok(&auditor, &["site", "build", "--audience", "public", "--out", "pub"]);
    std::fs::write(repo.path.join("pub/stale.html"), "old").unwrap();
    repo.ok(&auditor, &["site", "build", "--audience", "public", "--out", "pub", "--clean"]);
    assert!(!repo.path.join("pub/stale.html").exists());
}

#[test]
fn a_symlinked_template_is_refused_and_never_publishes_what_it_points_at() {
    let (repo, _, _) = repo_with_secrets();
    // A template that is a link to a file the build can read: the build's environment
    // (a CI job's secrets) or any other file would be published as the page. Left in the
    // working tree it is never read (overrides come from the committed tree, through
    // `ims template set`); committed by hand, it stops the build (govern.rs covers that).
    let secret = repo.tmp.path().join("secret.txt");
    std::fs::write(&secret, "TOKEN-ZZ-4242").unwrap();
    std::fs::create_dir_all(repo.path.join("templates")).unwrap();
    std::os::unix::fs::symlink(&secret, repo.path.join("templates/index.html")).unwrap();
    let out = repo.tmp.path().join("public");
    repo.ok(&who("auditor"), &["site", "build", "--audience", "public", "--out", out.to_str().unwrap()]);
    assert!(all_text(&out).iter().all(|(_, t)| !t.contains("TOKEN-ZZ-4242")), "nothing published");
    let link = repo.tmp.path().join("link.html");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    let err = repo.fails(&who("incident_manager"), &["template", "set", "index.html", link.to_str().unwrap()], 3);
    assert!(err.contains("symbolic link"), "{err}");
}

#[test]
fn markdown_cannot_hide_personal_data_from_the_public_sites_check() {
    let repo = Repo::with_everyone();
    let (l2, im) = (who("L2"), who("incident_manager"));
    let article = |title: &str, body: &str| -> String {
        let file = repo.tmp.path().join(format!("{title}.md"));
        std::fs::write(&file, body).unwrap();
        let kb = id_of(&repo.ok(
            &l2,
            &["kb", "draft", "--title", title, "--type", "prevention", "--body-file", file.to_str().unwrap()],
        ));
        repo.ok(&l2, &["kb", "submit", &kb]);
        repo.ok(&im, &["kb", "publish", &kb]);
        kb
    };
    // Emphasis splits a registered person's name, entities spell an address and a phone
    // number: the raw markdown matches nothing, the page shows all three.
    let hidden = [
        article("Name", "Ask Ines **Manager** for access.\n"),
        article("Mail", "Write to ines&#64;example.com.\n"),
        article("Phone", "Call +44&#32;20&#32;7946&#32;0958.\n"),
    ];
    let plain = article("Plain", "Restart the *app* servers &amp; wait.\n");
    let out = repo.tmp.path().join("public");
    repo.ok(&who("auditor"), &["site", "build", "--audience", "public", "--out", out.to_str().unwrap()]);
    for kb in &hidden {
        let page = read(&out.join(format!("kb/{kb}.html")));
        assert!(page.contains("(withheld from the public site)"), "{kb}: {page}");
        for leak in ["<strong>Manager</strong>", "ines@example.com", "7946"] {
            assert!(!page.contains(leak), "{kb} shows {leak}: {page}");
        }
    }
    let page = read(&out.join(format!("kb/{plain}.html")));
    assert!(page.contains("Restart the <em>app</em> servers &amp; wait."), "{page}");
}

#[test]
fn a_service_name_holding_personal_data_is_withheld_on_the_public_site() {
    let repo = Repo::with_everyone();
    let (sd, l2) = (who("service_desk"), who("L2"));
    // With no `services` allowlist a service is free text, shown on incident pages, the
    // incident list and the problem list.
    let args = ["incident", "identify", "--title", "Printer jam", "--source", "user_report", "--service"];
    let mail = id_of(&repo.ok(&sd, &[&args[..], &["desk-of-ines@example.com"]].concat()));
    let phone = id_of(&repo.ok(&sd, &[&args[..], &["call +44 20 7946 0958"]].concat()));
    let plain = repo.incident("Checkout is slow");
    repo.ok(
        &l2,
        &[
            "problem",
            "create",
            "--title",
            "Jams",
            "--description",
            "d",
            "--source",
            "incident_trend",
            "--service",
            "desk-of-ines@example.com",
            "--incident",
            &mail,
        ],
    );
    let out = repo.tmp.path().join("public");
    repo.ok(&who("auditor"), &["site", "build", "--audience", "public", "--out", out.to_str().unwrap()]);
    let all: String = all_text(&out).into_iter().map(|(_, t)| t).collect();
    for leak in ["desk-of-ines@example.com", "7946"] {
        assert!(!all.contains(leak), "the public site shows {leak}");
    }
    assert!(read(&out.join(format!("incidents/{mail}.html"))).contains("(withheld from the public site)"));
    assert!(read(&out.join(format!("incidents/{phone}.html"))).contains("(withheld from the public site)"));
    assert!(read(&out.join(format!("incidents/{plain}.html"))).contains("shop"));
}

#[test]
fn the_public_site_leaves_out_what_the_public_may_not_see() {
    let (repo, s) = repo_with_linked_secrets();
    let out = repo.tmp.path().join("public");
    repo.ok(&who("auditor"), &["site", "build", "--audience", "public", "--out", out.to_str().unwrap()]);
    assert!(out.join("index.html").exists());
    assert!(out.join(format!("incidents/{}.html", s.open)).exists());
    assert_no_marker(&out, &s.markers);
    // A hostile override of every template (set as governed overrides are, by an
    // incident manager) gets the same filtered view models: every page kind, the JSON
    // index, the feed and the charts' SVGs still leak nothing.
    let dump = repo.tmp.path().join("dump.html");
    std::fs::write(&dump, "{{ __tera_context }}").unwrap();
    for name in ["base", "index", "incidents", "incident", "list", "article", "report", "status", "record", "auditlog"]
    {
        repo.ok(&who("incident_manager"), &["template", "set", &format!("{name}.html"), dump.to_str().unwrap()]);
    }
    let hostile = repo.tmp.path().join("hostile");
    repo.ok(&who("auditor"), &["site", "build", "--audience", "public", "--out", hostile.to_str().unwrap()]);
    let month = &repo.now[..7];
    for (page, shows) in [
        ("incidents/index.html".to_string(), s.open.clone()),
        (format!("incidents/{}.html", s.open), "Checkout is back to normal".into()),
        ("problems/index.html".into(), s.public_problem.clone()),
        ("changes/index.html".into(), s.public_change.clone()),
        ("kb/index.html".into(), s.public_kb.clone()),
        (format!("kb/{}.html", s.public_kb), "Restart the app servers".into()),
        ("search-index.js".into(), s.public_kb.clone()),
        ("pir/index.html".into(), s.closed.clone()),
        ("dashboard.html".into(), "svg".into()),
        ("index.html".into(), "headline".into()),
        ("reports/index.html".into(), month.to_string()),
        (format!("reports/{month}.html"), "MTTR".into()),
        ("feed.xml".into(), "Checkout is back to normal".into()),
    ] {
        let text = read(&hostile.join(&page));
        assert!(text.contains(&shows), "{page}: the override was used and shows {shows}: {text}");
    }
    assert!(assert_no_marker(&hostile, &s.markers) >= 15);
}

#[test]
fn the_internal_site_shows_everything_escaped_and_its_links_resolve() {
    let (repo, secret, _) = repo_with_secrets();
    let out = repo.tmp.path().join("internal");
    let doc = repo.ok(&who("auditor"), &["site", "build", "--out", out.to_str().unwrap()]);
    assert!(doc["pages"].as_u64().unwrap() > 8);
    let page = std::fs::read_to_string(out.join(format!("incidents/{secret}.html"))).unwrap();
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;") || page.contains("&lt;script&gt;"),
        "escaped: {page}"
    );
    assert!(!page.contains("<script>alert(1)"), "never raw");
    assert!(page.contains("Simulated clock"), "a simulated-clock site says so on every page");
    assert!(page.contains("good"), "the audit trail shows signature status");
    // Every internal link resolves to a file that was written.
    let re = regex::Regex::new(r##"href="([^"#:]+)(#[^"]*)?""##).unwrap();
    for (path, text) in all_text(&out) {
        if !path.ends_with(".html") {
            continue;
        }
        let dir = Path::new(&path).parent().unwrap();
        // Attribute values are HTML-escaped (`/` as `&#x2F;`), as a browser reads them.
        let text = text.replace("&#x2F;", "/");
        for cap in re.captures_iter(&text) {
            let target = dir.join(&cap[1]);
            assert!(target.exists(), "{path}: broken link {}", &cap[1]);
        }
    }
    // Rebuilding without a new procedure writes nothing.
    let again = repo.ok(&who("auditor"), &["site", "build", "--out", out.to_str().unwrap()]);
    assert_eq!(again["written"], 0);
}

#[test]
fn rebuilds_render_only_what_changed_and_remove_what_the_audience_may_no_longer_see() {
    let (repo, _, open) = repo_with_secrets();
    let other = repo.incident("Printer on fire");
    let (auditor, l2) = (who("auditor"), who("L2"));
    let build = |audience: &str, out: &str| {
        let out = repo.tmp.path().join(out);
        repo.ok(&auditor, &["site", "build", "--audience", audience, "--out", out.to_str().unwrap()])
    };
    let first = build("public", "pub");
    assert_eq!(first["rendered_incident_pages"], 2, "{first}");
    assert_eq!(build("public", "pub")["rendered_incident_pages"], 0, "nothing changed");
    // One procedure: one incident page rendered again, and it shows the change.
    repo.ok(&l2, &["incident", "log", &open, "--description", "CHANGED-DESCRIPTION-5521"]);
    let again = build("public", "pub");
    assert_eq!(again["rendered_incident_pages"], 1, "{again}");
    let page = std::fs::read_to_string(repo.tmp.path().join(format!("pub/incidents/{open}.html"))).unwrap();
    assert!(page.contains("CHANGED-DESCRIPTION-5521"));
    // Reclassified as security: its public page goes away, as does any mention.
    repo.ok(&l2, &["incident", "categorize", &other, "--category", "security"]);
    build("public", "pub");
    assert!(!repo.tmp.path().join(format!("pub/incidents/{other}.html")).exists());
    for (path, text) in all_text(&repo.tmp.path().join("pub")) {
        assert!(!text.contains(&other), "{path} still names the security incident");
    }
    // The internal site keeps its own caches: its audit trail shows the new commits.
    let internal = build("internal", "int");
    assert_eq!(internal["rendered_incident_pages"], 3);
    let page = repo.tmp.path().join(format!("int/incidents/{other}.html"));
    let entries = |page: &Path| std::fs::read_to_string(page).unwrap().matches("<td>good</td>").count();
    let before = entries(&page);
    repo.ok(&l2, &["incident", "log", &other, "--description", "contained"]);
    assert_eq!(build("internal", "int")["rendered_incident_pages"], 1);
    assert_eq!(entries(&page), before + 1, "the new commit is in the audit trail, signature good");
    // A changed template renders every page again; a deleted page is made again.
    let own = include_str!("../../templates/incident.html").replace("<h1>", "<h1 class=\"own\">");
    let file = repo.tmp.path().join("own.html");
    std::fs::write(&file, own).unwrap();
    repo.ok(&who("incident_manager"), &["template", "set", "incident.html", file.to_str().unwrap()]);
    assert_eq!(build("internal", "int")["rendered_incident_pages"], 3);
    std::fs::remove_file(repo.tmp.path().join(format!("int/incidents/{open}.html"))).unwrap();
    assert_eq!(build("internal", "int")["rendered_incident_pages"], 1);
    assert!(repo.tmp.path().join(format!("int/incidents/{open}.html")).exists());
    // A rebuild trusts the folder's listing from its last build only while the folder is
    // as that build left it: a page put there by hand goes, a page removed comes back.
    let stray = repo.tmp.path().join("int/incidents/INC-20990101-0001.html");
    std::fs::write(&stray, "<p>not ims's</p>").unwrap();
    assert_eq!(build("internal", "int")["rendered_incident_pages"], 0);
    assert!(!stray.exists(), "a page no incident makes is removed");
    for _ in 0..2 {
        std::fs::remove_file(repo.tmp.path().join(format!("int/incidents/{other}.html"))).unwrap();
        assert_eq!(build("internal", "int")["rendered_incident_pages"], 1);
    }
    std::fs::remove_file(repo.tmp.path().join("int/incidents/index.html")).unwrap();
    build("internal", "int");
    assert!(repo.tmp.path().join("int/incidents/index.html").exists(), "a list page removed is made again");
}

/// A commit pushed by someone else (not a procedure, so `ims verify` reports it) can put
/// anything in a record: an id that climbs out of the site's folder, or a second file
/// with another incident's id. The build refuses both, exit 3, and writes nothing
/// outside its folder; an incremental build and a clean one agree.
#[test]
fn a_pushed_record_cannot_write_outside_the_site_or_duplicate_a_page() {
    let repo = Repo::with_everyone();
    let auditor = who("auditor");
    let shown = repo.incident("Checkout is slow");
    let out = repo.tmp.path().join("pub");
    let build = |code: i32| {
        let args = ["site", "build", "--audience", "public", "--out", out.to_str().unwrap()];
        if code == 0 {
            repo.ok(&auditor, &args);
            String::new()
        } else {
            repo.fails(&auditor, &args, code)
        }
    };
    build(0);
    let file = repo.git(&["ls-files", "records/incidents"]).lines().find(|l| l.contains(&shown)).unwrap().to_string();
    let text = std::fs::read_to_string(repo.path.join(&file)).unwrap();
    // An id that climbs out of the output folder.
    let climbing = text.replace(&format!("incident_id: \"{shown}\""), "incident_id: \"../../../victim/pwn\"");
    assert_ne!(climbing, text);
    std::fs::write(repo.path.join(&file), &climbing).unwrap();
    repo.git(&["commit", "-qam", "an id that climbs"]);
    let err = build(3);
    assert!(err.contains("not a well-formed incident id"), "{err}");
    assert!(!repo.tmp.path().join("victim").exists(), "nothing written outside the site");
    std::fs::remove_dir_all(repo.path.join(".git/ims/cache")).unwrap();
    build(3);
    // A day folder moved elsewhere (a tree's id does not say where it sits).
    std::fs::write(repo.path.join(&file), &text).unwrap();
    repo.git(&["commit", "-qam", "back"]);
    build(0);
    let day = Path::new(&file).parent().unwrap().to_str().unwrap().to_string();
    std::fs::create_dir_all(repo.path.join("records/incidents/1998/01")).unwrap();
    repo.git(&["mv", &day, "records/incidents/1998/01/01"]);
    repo.git(&["commit", "-qm", "a day folder moved"]);
    let err = build(3);
    assert!(err.contains("belongs at"), "{err}");
    let _ = std::fs::remove_dir_all(repo.path.join(".git/ims/cache"));
    build(3);
    repo.git(&["mv", "records/incidents/1998/01/01", &day]);
    repo.git(&["commit", "-qm", "moved back"]);
    build(0);
    // A second copy of an incident in another folder, same content or not.
    std::fs::create_dir_all(repo.path.join("records/incidents/1999/01/01")).unwrap();
    let copy = repo.path.join(format!("records/incidents/1999/01/01/{shown}.yaml"));
    for content in [text.clone(), text.replace("Checkout is slow", "A second title")] {
        std::fs::write(&copy, &content).unwrap();
        repo.git(&["add", "records"]);
        repo.git(&["commit", "-qm", "a second copy of an incident"]);
        let err = build(3);
        assert!(err.contains("records/incidents/1999/01/01") || err.contains("in two places"), "{err}");
        let _ = std::fs::remove_dir_all(repo.path.join(".git/ims/cache"));
        build(3);
    }
}

/// The page manifest and the summary cache are read, not obeyed: lines naming paths
/// outside the folder, or ids that are not ids, are left alone.
#[test]
fn a_tampered_manifest_or_summary_cache_touches_nothing_outside_the_site() {
    let repo = Repo::with_everyone();
    let auditor = who("auditor");
    repo.incident("Checkout is slow");
    let out = repo.tmp.path().join("int");
    let build = || repo.ok(&auditor, &["site", "build", "--out", out.to_str().unwrap()]);
    build();
    let cache = repo.path.join(".git/ims/cache");
    let manifest = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("site-manifest-incident-pages"))
        .unwrap();
    let victim = repo.tmp.path().join("victim.html");
    std::fs::write(&victim, "keep me").unwrap();
    std::fs::write(out.join("incidents/notes.txt"), "not a page").unwrap();
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    for rel in [
        "incidents/../../ims.yaml",
        "incidents/../../victim.html",
        "incidents/notes.txt",
        "incidents/..",
        "incidents/a\0b.html",
    ] {
        text.push_str(&format!("{rel}\tkey\n"));
    }
    std::fs::write(&manifest, text).unwrap();
    let summaries = cache.join("site-summaries.cache");
    let mut text = std::fs::read_to_string(&summaries).unwrap();
    let line = text.lines().nth(1).unwrap().to_string();
    let (blob, rest) = line.split_once('\t').unwrap();
    let id = rest.split('\t').nth(8).unwrap();
    text.push_str(&format!("{blob}\t{}\n", rest.replace(id, "../../../victim")));
    std::fs::write(&summaries, text).unwrap();
    build();
    build();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(repo.path.join("ims.yaml").exists());
    assert!(out.join("incidents/notes.txt").exists(), "only pages are removed");
    assert!(!repo.tmp.path().join("victim").exists() && !repo.path.join("victim.html").exists());
}

/// A symbolic link in the site's folder is never written through: a page at its place
/// replaces it, and a folder of the site that is a link is refused (exit 3).
#[test]
fn links_in_the_site_folder_are_replaced_or_refused_never_followed() {
    let repo = Repo::with_everyone();
    let auditor = who("auditor");
    let id = repo.incident("Checkout is slow");
    let out = repo.tmp.path().join("int");
    let args = ["site", "build", "--out", out.to_str().unwrap()];
    repo.ok(&auditor, &args);
    let victim = repo.tmp.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    for page in [format!("incidents/{id}.html"), "index.html".to_string(), "kb/index.html".to_string()] {
        std::fs::remove_file(out.join(&page)).unwrap();
        std::os::unix::fs::symlink(&victim, out.join(&page)).unwrap();
    }
    // The caches gone too: every page is made again.
    std::fs::remove_dir_all(repo.path.join(".git/ims/cache")).unwrap();
    repo.ok(&auditor, &args);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    for page in [format!("incidents/{id}.html"), "index.html".to_string(), "kb/index.html".to_string()] {
        let meta = std::fs::symlink_metadata(out.join(&page)).unwrap();
        assert!(meta.file_type().is_file(), "{page} is a page again");
    }
    // The audience marker as a link: neither followed nor shown.
    std::fs::remove_file(out.join(".ims-site-audience")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", out.join(".ims-site-audience")).unwrap();
    let err = repo.fails(&auditor, &args, 5);
    assert!(err.contains("symbolic link"), "{err}");
    std::fs::remove_file(out.join(".ims-site-audience")).unwrap();
    std::fs::write(out.join(".ims-site-audience"), "internal\n").unwrap();
    let elsewhere = repo.tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("notes.html"), "keep me").unwrap();
    std::fs::remove_dir_all(out.join("kb")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("kb")).unwrap();
    let err = repo.fails(&auditor, &args, 3);
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 1);
    assert_eq!(std::fs::read_to_string(elsewhere.join("notes.html")).unwrap(), "keep me");
}

/// The site's incident summaries are a cache: garbled lines, folder lines naming blobs
/// it has no line for, or a file of another format cost time, never a wrong page.
#[test]
fn a_garbled_summary_cache_never_changes_a_page() {
    let (repo, _, open) = repo_with_secrets();
    repo.incident("Printer on fire");
    repo.ok(
        &who("L2"),
        &["incident", "prioritize", &open, "--priority", "high", "--severity", "high", "--justification", "checkout"],
    );
    let auditor = who("auditor");
    let build = |out: &str| {
        let dir = repo.tmp.path().join(out);
        repo.ok(&auditor, &["site", "build", "--out", dir.to_str().unwrap()]);
        // The dashboard and status page carry the build's time.
        let timeless = |p: &str| !p.ends_with("/index.html") || p.contains("/incidents/");
        all_text(&dir)
            .into_iter()
            .filter(|(p, _)| timeless(p) && !p.ends_with("status.html"))
            .map(|(p, t)| (p.replacen(dir.to_str().unwrap(), "", 1), t))
            .collect::<Vec<_>>()
    };
    let clean = build("a");
    let cache = repo.path.join(".git/ims/cache/site-summaries.cache");
    let text = std::fs::read_to_string(&cache).unwrap();
    assert!(text.lines().any(|l| l.starts_with('T')), "the cache lists day folders");
    let garbled: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(n, l)| match l.split_once('\t') {
            Some((id, _)) if id.starts_with('T') => format!("{id}\t{}", "0".repeat(40)),
            Some((id, rest)) if n % 2 == 0 => format!("{id}\t{}", rest.replace('\t', "\t\t")),
            _ => l.to_string(),
        })
        .collect();
    std::fs::write(&cache, garbled.join("\n") + "\n").unwrap();
    assert_eq!(build("b"), clean, "a garbled cache");
    std::fs::write(&cache, "ims-cache site-summaries/1 0.0.1\nnonsense\n").unwrap();
    assert_eq!(build("c"), clean, "a cache of another format");
}

#[test]
fn the_demo_is_reproducible_verifies_and_builds_its_sites() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str| -> serde_json::Value {
        let out = std::process::Command::new(ims_bin())
            .current_dir(tmp.path())
            .args(["demo", name, "--days", "4", "--json"])
            .env_remove("IMS_NOW")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (a, b) = (run("a"), run("b"));
    let head = |d: &str| {
        let out = std::process::Command::new("git")
            .current_dir(tmp.path().join(d))
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(head("a"), head("b"), "the same seed gives the same repository");
    assert!(a["demo"]["incidents"].as_u64().unwrap() >= 16);
    assert_eq!(a["demo"]["trust_root"], b["demo"]["trust_root"]);
    let root = a["demo"]["trust_root"].as_str().unwrap();
    let out = std::process::Command::new(ims_bin())
        .current_dir(tmp.path().join("a"))
        .args(["verify", "--trust-root", root, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    for site in ["a/site", "a/site-public"] {
        assert!(tmp.path().join(site).join("index.html").exists());
    }
    let sa = std::fs::read(tmp.path().join("a/site/index.html")).unwrap();
    let sb = std::fs::read(tmp.path().join("b/site/index.html")).unwrap();
    assert_eq!(sa, sb, "and the same site");
    let status = std::process::Command::new("git")
        .current_dir(tmp.path().join("a"))
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    assert!(status.stdout.is_empty(), "{}", String::from_utf8_lossy(&status.stdout));
    browser_checks(&tmp.path().join("a/site"), &tmp.path().join("a/shots"));
    browser_checks(&tmp.path().join("a/site-public"), &tmp.path().join("a/shots-public"));
}

/// A top-level field of a record file, unquoted (`status: "open"` gives `open`).
fn field(yaml: &str, key: &str) -> Option<String> {
    yaml.lines().find_map(|l| l.strip_prefix(&format!("{key}: "))).map(|v| v.trim().trim_matches('"').to_string())
}

/// A four-day demo in a new temporary folder, at `d/` inside it.
fn four_day_demo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(ims_bin())
        .current_dir(tmp.path())
        .args(["demo", "d", "--days", "4", "--json"])
        .env_remove("IMS_NOW")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    tmp
}

/// The demo's public status page shows each service as its open public incidents make
/// it (a high-priority one: outage; any other: degraded; none: operational), the
/// internal audit log holds every entry `ims audit` lists, and the public site has no
/// audit log and no security incident.
#[test]
fn the_demos_status_page_and_audit_log_tell_the_truth() {
    let tmp = four_day_demo();
    let repo = tmp.path().join("d");
    // What the records say: the worst open public incident of each service.
    let mut records = Vec::new();
    files(&repo.join("records/incidents"), &mut records);
    let mut expected: std::collections::BTreeMap<String, &str> = Default::default();
    let mut secret_open = Vec::new();
    for path in records.iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")) {
        let y = std::fs::read_to_string(path).unwrap();
        let service = field(&y, "service").unwrap();
        let entry = expected.entry(service).or_insert("operational");
        let open = !matches!(field(&y, "status").as_deref(), Some("resolved" | "closed"));
        if field(&y, "category").as_deref() == Some("security") {
            if open {
                secret_open.push(field(&y, "incident_id").unwrap());
            }
            continue;
        }
        if open {
            let state = if field(&y, "priority").as_deref() == Some("high") { "outage" } else { "degraded" };
            if *entry != "outage" {
                *entry = state;
            }
        }
    }
    assert!(
        expected.values().any(|s| *s == "outage"),
        "the demo has an open high-priority public incident: {expected:?}"
    );
    assert!(expected.values().any(|s| *s == "operational"), "{expected:?}");
    let status = read(&repo.join("site-public/index.html"));
    for (service, state) in &expected {
        let head = format!("<h3>{service}</h3><span class=\"badge state-{state}\">");
        assert!(status.contains(&head), "{service} shows {state}: {status}");
    }
    let overall = if expected.values().any(|s| *s == "outage") { "Service outage" } else { "degraded" };
    assert!(status.contains(overall), "the banner says so");
    for id in &secret_open {
        assert!(!status.contains(id.as_str()), "an open security incident stays off the status page");
    }
    assert!(!repo.join("site-public/audit.html").exists());
    // The audit log: as many entries as `ims audit --json`, each page oldest first.
    let audit = std::process::Command::new(ims_bin()).current_dir(&repo).args(["audit", "--json"]).output().unwrap();
    assert!(audit.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
    let total = doc["entries"].as_array().unwrap().len();
    assert!(total > 100, "{total}");
    let index = read(&repo.join("site/audit.html"));
    assert!(index.contains(&format!("{total} entries: every entry of")), "{index}");
    let mut rows = 0;
    let mut n = 1;
    while let Ok(page) = std::fs::read_to_string(repo.join(format!("site/audit/page-{n}.html"))) {
        rows += page.matches("<tr id=\"e").count();
        n += 1;
    }
    assert_eq!(rows, total, "every entry is on one page of the log");
    assert!(read(&repo.join("site/audit/kind-person.html")).contains("person"), "people changes have their page");
    assert!(read(&repo.join("site/audit/kind-config.html")).contains("config"), "settings changes have their page");
}

/// Every page valid HTML (html-validate), one page of each kind free of axe-core
/// violations in headless Chromium, and screenshots of the status page, the dashboard,
/// an incident and a report at 1,400 and 390 px, none scrolling sideways: the checks of
/// `tests/browser/check.mjs`, whose npm packages `.ci/run` installs.
fn browser_checks(site: &Path, shots: &Path) {
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if external("chromium").is_none() || external("node").is_none() {
        return;
    }
    if !browser.join("node_modules/playwright-core").is_dir() {
        assert!(std::env::var_os("IMS_REQUIRE_EXTERNAL").is_none(), "run `npm ci` in tests/browser");
        eprintln!("skipped: tests/browser has no node_modules (npm ci)");
        return;
    }
    let out =
        std::process::Command::new("node").current_dir(&browser).arg("check.mjs").args([site, shots]).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}\n{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert!(doc["pages"].as_u64().unwrap() >= 30 && doc["axe_pages"].as_u64().unwrap() >= 12, "{doc}");
    for name in ["front", "incident", "report"].iter().chain(if site.join("status.html").exists() {
        &["status"]
    } else {
        &["dashboard"]
    }) {
        for width in [1400, 390] {
            let png = std::fs::read(shots.join(format!("{name}-{width}.png"))).unwrap();
            assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot of {name} at {width} px");
        }
    }
}

/// Every built-in site template (each file of `templates/`) renders against the demo's
/// records for both audiences: a template that errors fails the build, and a template no
/// page used would go unchecked, so each must have produced at least one page.
#[test]
fn every_built_in_template_renders_against_the_demos_records() {
    let tmp = four_day_demo();
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut names: Vec<String> = std::fs::read_dir(&templates)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // `email.*` are the notification's parts, rendered and checked by tests/cli/deliver.rs.
        .filter(|n| n.ends_with(".html") && !n.starts_with("email."))
        .collect();
    names.sort();
    // The pages each template renders (by their path in the site).
    let pages_of = |name: &str| -> fn(&str) -> bool {
        match name {
            "base.html" => |p| p.ends_with(".html"),
            "index.html" => |p| p == "index.html" || p == "dashboard.html",
            "incidents.html" => |p| p == "incidents/index.html",
            "incident.html" => |p| p.starts_with("incidents/INC-") && p.ends_with(".html"),
            "list.html" => |p| ["problems/index.html", "changes/index.html", "kb/index.html"].contains(&p),
            "article.html" => |p| p.starts_with("kb/KB-") && p.ends_with(".html"),
            "report.html" => |p| p.starts_with("reports/") && p != "reports/index.html" && p.ends_with(".html"),
            "status.html" => |p| p == "index.html" || p == "status.html",
            "record.html" => |p| {
                ["problems/PRB-", "changes/CHG-", "pir/PIR-"].iter().any(|d| p.starts_with(d)) && p.ends_with(".html")
            },
            "auditlog.html" => |p| p == "audit.html" || p.starts_with("audit/"),
            "search.html" => |p| p == "search.html",
            other => panic!("templates/{other} is new: say which pages it renders"),
        }
    };
    for site in ["d/site", "d/site-public"] {
        let dir = tmp.path().join(site);
        let prefix = format!("{}/", dir.display());
        let pages: Vec<(String, String)> =
            all_text(&dir).into_iter().map(|(p, t)| (p.trim_start_matches(&prefix).to_string(), t)).collect();
        for name in &names {
            if name == "auditlog.html" && site.ends_with("public") {
                assert!(!dir.join("audit.html").exists(), "the audit log is for staff only");
                continue;
            }
            let rendered: Vec<&(String, String)> = pages.iter().filter(|(p, _)| pages_of(name)(p)).collect();
            assert!(!rendered.is_empty(), "{site}: no page rendered with {name}");
            for (path, text) in rendered {
                assert!(text.starts_with("<!DOCTYPE html>"), "{site}/{path} ({name}) is a whole page");
                assert!(text.trim_end().ends_with("</html>"), "{site}/{path} ({name}) rendered to the end");
            }
        }
    }
}

/// Search works from disk: one `search-index.js` at the site's root holds titles,
/// summaries and the articles' text, loaded by a `<script>` tag from the search pages
/// only (no page embeds it, and no `fetch`, which `file://` refuses). An article page
/// shows its title once, its version, dates and linked problems; its author for staff.
#[test]
fn search_is_one_script_file_and_articles_say_who_when_and_what_they_link() {
    let repo = Repo::with_everyone();
    let (l2, im) = (who("L2"), who("incident_manager"));
    let inc = repo.incident("Checkout is slow");
    let args = ["problem", "create", "--title", "Cart cache thrashes", "--description", "evictions under load"];
    let prb = id_of(
        &repo.ok(&l2, &[&args[..], &["--source", "incident_trend", "--service", "shop", "--incident", &inc]].concat()),
    );
    let doc = repo.ok(&l2, &["problem", "workaround", &prb, "--workaround", "Flush the zanzibar tier, then warm it"]);
    let kb = doc["record"]["kb_ids"][0].as_str().unwrap().to_string();
    repo.ok(&im, &["kb", "publish", &kb]);
    for (audience, out) in [("internal", "site"), ("public", "pub")] {
        repo.ok(&who("auditor"), &["site", "build", "--audience", audience, "--out", out]);
        let dir = repo.path.join(out);
        let index = read(&dir.join("search-index.js"));
        let json =
            index.strip_prefix("window.IMS_SEARCH = ").and_then(|j| j.trim_end().strip_suffix(';')).expect(&index);
        let entries: Vec<Vec<String>> = serde_json::from_str(json).unwrap();
        let find = |id: &str| entries.iter().find(|e| e[1] == id).unwrap_or_else(|| panic!("{id} not in {index}"));
        assert_eq!(find(&inc)[2], "Checkout is slow");
        assert_eq!(find(&inc)[4], format!("incidents/{inc}.html"));
        assert!(find(&prb)[3].contains("evictions under load"), "a problem's description is searched");
        assert!(find(&kb)[3].contains("zanzibar"), "an article's text is searched: {:?}", find(&kb));
        assert!(!dir.join("kb/search.json").exists());
        let mut pages = vec![];
        files(&dir, &mut pages);
        for p in pages.iter().filter(|p| p.extension().is_some_and(|e| e == "html")) {
            let html = read(p);
            assert!(!html.contains("IMS_SEARCH") && !html.contains("fetch("), "{p:?} embeds or fetches the index");
            let name = p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
            let loads = html.contains("search-index.js\"></script>");
            assert_eq!(loads, name == "search.html" || name == "kb/index.html", "{name} loads the index: {loads}");
        }
        let article = read(&dir.join(format!("kb/{kb}.html")));
        let shown = repo.show(&kb);
        let title = shown["record"]["title"].as_str().or(shown["title"].as_str()).expect("a title").to_string();
        assert!(shown.to_string().contains(&format!("# {title}")), "the body repeats the title: {shown}");
        assert_eq!(article.matches(&format!(">{title}<")).count(), 1, "the title once: {article}");
        assert!(article.contains("<dt>Version</dt><dd>1</dd>") && article.contains("<dt>Published</dt>"), "{article}");
        assert!(
            article.contains(&format!("../problems/{prb}.html").replace('/', "&#x2F;")),
            "links its problem: {article}"
        );
        assert_eq!(article.contains("<dt>Author</dt>"), audience == "internal", "{article}");
    }
}

/// The incident list puts active incidents first and links, inside a `<details>`, to
/// the list filtered by each status, priority, service and team — pre-rendered pages, so
/// filtering needs no script; each holds exactly its incidents.
#[test]
fn incident_lists_put_active_first_and_filter_without_script() {
    let repo = Repo::with_everyone();
    let im = who("incident_manager");
    let older_open = repo.incident("Basket empties");
    let open = repo.incident("Checkout is slow");
    repo.ok(&im, &["incident", "assign", &open, "--team", "L3"]);
    // The newest, but closed: listed after the active ones.
    let closed = repo.incident("Search returns nothing");
    repo.ok(&im, &["incident", "assign", &closed, "--team", "L2"]);
    repo.ok(
        &im,
        &["incident", "resolve", &closed, "--summary", "index rebuilt", "--fix-applied", "--service-restored"],
    );
    repo.ok(&im, &["incident", "close", &closed, "--notes", "ok"]);
    repo.ok(&who("auditor"), &["site", "build", "--out", "site"]);
    let dir = repo.path.join("site/incidents");
    let index = read(&dir.join("index.html"));
    let at = |id: &str| index.find(&format!("<a href=\"{id}.html\">")).unwrap_or_else(|| panic!("{id} listed"));
    assert!(at(&open) < at(&closed) && at(&older_open) < at(&closed), "active first: {index}");
    let details = &index[index.find("<details").expect("filters in a details")..index.find("</details>").unwrap()];
    for (href, has, lacks) in [
        ("status-closed.html", vec![&closed], vec![&open, &older_open]),
        ("team-l3.html", vec![&open], vec![&closed, &older_open]),
        ("service-shop.html", vec![&closed, &open, &older_open], vec![]),
    ] {
        assert!(details.contains(&format!("href=\"{href}\"")), "{href} linked from the filters: {details}");
        let view = read(&dir.join(href));
        for id in has {
            assert!(view.contains(&format!("<a href=\"{id}.html\">")), "{href} lists {id}");
        }
        for id in lacks {
            assert!(!view.contains(&format!("<a href=\"{id}.html\">")), "{href} does not list {id}");
        }
        assert!(view.contains("aria-current=\"page\""), "{href} marks its filter");
    }
    assert!(index.contains("<script src=\"..&#x2F;lists.js\"></script>") && repo.path.join("site/lists.js").exists());
    // A filter value nobody has any more: its page goes.
    repo.ok(&im, &["incident", "assign", &open, "--team", "L2"]);
    repo.ok(&who("auditor"), &["site", "build", "--out", "site"]);
    assert!(!dir.join("team-l3.html").exists(), "an empty filter's page is removed");
    assert!(read(&dir.join("team-l2.html")).contains(&format!("<a href=\"{open}.html\">")));
}

/// `ims site serve` builds, serves the site over loopback, and after a procedure serves
/// the rebuilt page; the pages it serves poll for a new build and reload themselves.
#[test]
fn site_serve_serves_the_site_and_rebuilds_it_after_a_procedure() {
    use std::io::{Read, Write};
    let repo = Repo::with_everyone();
    let inc = repo.incident("Checkout is slow");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let auditor = who("auditor");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = std::process::Command::new(ims_bin())
        .current_dir(&repo.path)
        .args(["site", "serve", "--listen", &addr])
        .env("IMS_NOW", &repo.now)
        .env("IMS_ACTOR", &auditor)
        .env("IMS_STATE_DIR", repo.tmp.path().join("state"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _server = Kill(child);
    let get = |path: &str| -> Option<(u16, String)> {
        let mut s = std::net::TcpStream::connect(&addr).ok()?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).ok()?;
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        let code = out.split(' ').nth(1)?.parse().ok()?;
        Some((code, out.split_once("\r\n\r\n")?.1.to_string()))
    };
    let until = |what: &str, ok: &dyn Fn() -> bool| {
        let start = std::time::Instant::now();
        while !ok() {
            assert!(start.elapsed() < std::time::Duration::from_secs(60), "timed out waiting for {what}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    until("the server", &|| get("/").is_some());
    let page = format!("/incidents/{inc}.html");
    let (code, html) = get(&page).unwrap();
    assert_eq!(code, 200);
    assert!(html.contains("Checkout is slow") && html.contains("/__ims/build"), "served with its reload script");
    assert!(!read(&repo.path.join(format!("site/incidents/{inc}.html"))).contains("__ims"), "not on disk");
    let (_, first) = get("/__ims/build").unwrap();
    assert_eq!(get("/../ims.yaml").map(|r| r.0), Some(404), "nothing outside the site");
    assert_eq!(get("/incidents/").map(|r| r.0), Some(200), "a folder serves its index");
    repo.ok(&who("L2"), &["incident", "log", &inc, "--description", "SERVED-AFTER-REBUILD-7731"]);
    until("the rebuilt page", &|| get(&page).is_some_and(|(_, h)| h.contains("SERVED-AFTER-REBUILD-7731")));
    until("open pages to see a new build and reload", &|| get("/__ims/build").is_some_and(|(_, n)| n != first));
}

/// Issue 17, "a public feed of public updates only": each site has its own Atom feed
/// (its own id and title, author and `rel="self"`); an update to executives,
/// stakeholders or staff never reaches the public one.
#[test]
fn the_public_feed_carries_only_updates_to_end_users() {
    let repo = Repo::with_everyone();
    let (sd, auditor) = (who("service_desk"), who("auditor"));
    let id = repo.incident("Checkout is slow");
    let updates = [
        ("end_users", "PUBLIC-UPDATE-1 we are looking into it"),
        ("executives", "EXECUTIVES-ONLY-9921"),
        ("stakeholders", "STAKEHOLDERS-ONLY-9922"),
        ("IT_staff", "STAFF-ONLY-9923"),
        ("end_users", "PUBLIC-UPDATE-2 it works again"),
    ];
    for (to, message) in updates {
        repo.ok(&sd, &["incident", "notify", &id, "--to", to, "--channel", "email", "--message", message]);
    }
    let build = |audience: &str| {
        let out = repo.tmp.path().join(audience);
        repo.ok(&auditor, &["site", "build", "--audience", audience, "--out", out.to_str().unwrap()]);
        read(&out.join("feed.xml"))
    };
    let public = build("public");
    assert!(public.contains("PUBLIC-UPDATE-1") && public.contains("PUBLIC-UPDATE-2"), "{public}");
    for internal_only in ["EXECUTIVES-ONLY", "STAKEHOLDERS-ONLY", "STAFF-ONLY", "@example.com"] {
        assert!(!public.contains(internal_only), "the public feed shows {internal_only}: {public}");
    }
    assert_eq!(public.matches("<entry>").count(), 2, "{public}");
    assert!(public.contains(r#"<link rel="self" type="application/atom+xml" href="feed.xml"/>"#), "{public}");
    assert!(public.contains(":public-updates</id>") && public.contains("<author><name>"), "{public}");
    let internal = build("internal");
    assert_eq!(internal.matches("<entry>").count(), 5, "{internal}");
    assert!(internal.contains("STAFF-ONLY-9923") && internal.contains(":updates</id>"), "{internal}");
    assert!(internal.contains("<author><name>service_desk@example.com</name></author>"), "{internal}");
    // Both sites link their own feed; the status page offers it to subscribers.
    assert!(read(&repo.tmp.path().join("public/index.html")).contains("feed.xml"));
}

/// `sla.untriaged`: an incident nobody prioritized has an acknowledge clock from its
/// creation; the dashboard lists it when at risk or in breach, as of the build, and the
/// incident page shows it beside the other clocks (running, then met or missed).
#[test]
fn the_site_shows_the_untriaged_acknowledge_clock() {
    let mut repo = Repo::with_everyone();
    let auditor = who("auditor");
    let id = repo.incident("Nobody looked");
    let build = |repo: &Repo| {
        let out = repo.tmp.path().join("site");
        repo.ok(&auditor, &["site", "build", "--out", out.to_str().unwrap()]);
        (read(&out.join("index.html")), read(&out.join(format!("incidents/{id}.html"))))
    };
    let (dashboard, page) = build(&repo);
    assert!(!dashboard.contains("acknowledge (untriaged)"), "not yet at risk");
    assert!(page.contains("acknowledge (untriaged)") && page.contains(">running<"), "{page}");
    repo.now = "2026-11-26T11:00:00Z".into();
    let (dashboard, _) = build(&repo);
    let risk = &dashboard[dashboard.find("id=\"risk\"").unwrap()..];
    assert!(risk.contains(&format!("{id}.html")) && risk.contains("acknowledge (untriaged)"), "{risk}");
    assert!(risk.contains("status-breached") && risk.contains("1h over"), "{risk}");
    repo.ok(&who("L1"), &["incident", "assign", &id, "--team", "L2"]);
    let (dashboard, page) = build(&repo);
    assert!(!dashboard[dashboard.find("id=\"risk\"").unwrap()..].contains(&id), "acknowledged: the clock stopped");
    assert!(page.contains("acknowledge (untriaged)") && page.contains(">missed<"), "{page}");
}

/// The attack review of 2026-11-30: an article linked only from a security incident's
/// review, an address hidden in a Markdown link's destination and title by an entity,
/// and phone numbers written the common ways all reached the public site.
#[test]
fn reviews_links_entities_in_markdown_links_and_spaced_phone_numbers_stay_off_the_public_site() {
    let repo = Repo::with_everyone();
    let (l2, im) = (who("L2"), who("incident_manager"));
    // A closed security incident whose review links an article.
    let secret = repo.incident("Ransomware note on the file share");
    repo.ok(&l2, &["incident", "categorize", &secret, "--category", "security"]);
    repo.ok(&im, &["incident", "assign", &secret, "--team", "L2"]);
    let body = repo.tmp.path().join("kb.md");
    std::fs::write(&body, "# Rotate\n\nRotate the share credentials SECRET-KB-7777 after the breach\n").unwrap();
    let kb =
        id_of(&repo.ok(
            &l2,
            &["kb", "draft", "--title", "Rotate", "--type", "prevention", "--body-file", body.to_str().unwrap()],
        ));
    repo.ok(&l2, &["kb", "submit", &kb]);
    repo.ok(&im, &["kb", "publish", &kb]);
    repo.ok(&im, &["incident", "resolve", &secret, "--summary", "restored", "--fix-applied", "--service-restored"]);
    repo.ok(&im, &["incident", "close", &secret, "--notes", "ok"]);
    repo.ok(&im, &["incident", "review", &secret, "--timeline", "x", "--factors", "y", "--kb", &kb]);
    // A public problem whose workaround hides an address in a link.
    let open = repo.incident("Mail relay drops messages");
    let prb = id_of(&repo.ok(
        &l2,
        &[
            "problem",
            "create",
            "--title",
            "Relay",
            "--description",
            "d",
            "--source",
            "incident_trend",
            "--incident",
            &open,
        ],
    ));
    let workaround =
        "Restart it, then [tell the relay owner](mailto:relay-owner&#64;corp.example \"Ada Love&#108;ace\")";
    let doc = repo.ok(&l2, &["problem", "workaround", &prb, "--workaround", workaround]);
    let public_kb = doc["record"]["kb_ids"][0].as_str().unwrap().to_string();
    repo.ok(&im, &["kb", "publish", &public_kb]);
    for message in ["Call 555 867 5309 for help", "Call 555-867-5309 / 555-867-5310", "Call 555-867-5309x12"] {
        repo.ok(&l2, &["incident", "notify", &open, "--to", "end_users", "--message", message]);
    }
    repo.ok(&l2, &["incident", "notify", &open, "--to", "end_users", "--message", "Relay restarted"]);
    let out = repo.tmp.path().join("public");
    repo.ok(&who("auditor"), &["site", "build", "--audience", "public", "--out", out.to_str().unwrap()]);
    let markers: Vec<String> =
        ["SECRET-KB-7777", "relay-owner@corp.example", "Lovelace", "867 5309", "867-5309"].map(String::from).to_vec();
    assert_no_marker(&out, &markers);
    // What may be public still is: the relay article (withheld whole) and the update.
    assert!(out.join(format!("kb/{public_kb}.html")).exists());
    assert!(!out.join(format!("kb/{kb}.html")).exists());
    assert!(read(&out.join("feed.xml")).contains("Relay restarted"));
}
