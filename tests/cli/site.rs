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

fn assert_nothing_restricted(dir: &Path, secret: &str) {
    for (path, text) in all_text(dir) {
        for needle in
            [secret, "Attacker on the admin console", "INTERNAL-NOTE-7731", "UNPUBLISHED-TEXT-4410", "@example.com"]
        {
            assert!(!text.contains(needle), "{path} leaks {needle}");
        }
    }
}

#[test]
fn the_public_site_leaves_out_what_the_public_may_not_see() {
    let (repo, secret, open) = repo_with_secrets();
    let out = repo.tmp.path().join("public");
    repo.ok(&who("auditor"), &["site", "build", "--audience", "public", "--out", out.to_str().unwrap()]);
    assert!(out.join("index.html").exists());
    assert!(out.join(format!("incidents/{open}.html")).exists());
    assert_nothing_restricted(&out, &secret);
    // A hostile override gets the same filtered view models: still nothing leaks.
    std::fs::create_dir_all(repo.path.join("templates")).unwrap();
    std::fs::write(repo.path.join("templates/incidents.html"), "{{ __tera_context }}").unwrap();
    std::fs::write(repo.path.join("templates/incident.html"), "{{ __tera_context }}").unwrap();
    let hostile = repo.tmp.path().join("hostile");
    repo.ok(&who("auditor"), &["site", "build", "--audience", "public", "--out", hostile.to_str().unwrap()]);
    let listing = std::fs::read_to_string(hostile.join("incidents/index.html")).unwrap();
    assert!(listing.contains(&open), "the override was used: {listing}");
    assert_nothing_restricted(&hostile, &secret);
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
    std::fs::create_dir_all(repo.path.join("templates")).unwrap();
    let own = include_str!("../../templates/incident.html").replace("<h1>", "<h1 class=\"own\">");
    std::fs::write(repo.path.join("templates/incident.html"), own).unwrap();
    assert_eq!(build("internal", "int")["rendered_incident_pages"], 3);
    std::fs::remove_file(repo.tmp.path().join(format!("int/incidents/{open}.html"))).unwrap();
    assert_eq!(build("internal", "int")["rendered_incident_pages"], 1);
    assert!(repo.tmp.path().join(format!("int/incidents/{open}.html")).exists());
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
    browser_checks(&tmp.path().join("a/site"), &tmp.path().join("a/dashboard.png"));
    browser_checks(&tmp.path().join("a/site-public"), &tmp.path().join("a/dashboard-public.png"));
}

/// Every page valid HTML (html-validate), one page of each kind free of axe-core
/// violations in headless Chromium, and a screenshot of the dashboard: the checks of
/// `tests/browser/check.mjs`, whose npm packages `.ci/run` installs.
fn browser_checks(site: &Path, screenshot: &Path) {
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if external("chromium").is_none() || external("node").is_none() {
        return;
    }
    if !browser.join("node_modules/playwright-core").is_dir() {
        assert!(std::env::var_os("IMS_REQUIRE_EXTERNAL").is_none(), "run `npm ci` in tests/browser");
        eprintln!("skipped: tests/browser has no node_modules (npm ci)");
        return;
    }
    let out = std::process::Command::new("node")
        .current_dir(&browser)
        .arg("check.mjs")
        .args([site, screenshot])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}\n{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert!(doc["pages"].as_u64().unwrap() >= 30 && doc["axe_pages"].as_u64().unwrap() >= 7, "{doc}");
    let png = std::fs::read(screenshot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot of the dashboard");
}
