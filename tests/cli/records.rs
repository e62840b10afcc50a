//! Problems, changes, the knowledge base, post-incident reviews, tools and simulations:
//! every procedure's happy path, every halt of DESIGN.md's table leaving the repository
//! unchanged, and the story of a recurring fault.

use serde_json::Value;

use crate::support::*;

fn id_of(doc: &Value) -> String {
    doc["id"].as_str().expect("an id").to_string()
}

/// Resolves and closes an incident as the incident manager.
fn closed_incident(repo: &Repo, title: &str) -> String {
    let id = repo.incident(title);
    let im = who("incident_manager");
    repo.ok(&im, &["incident", "assign", &id, "--team", "L2"]);
    repo.ok(&im, &["incident", "resolve", &id, "--summary", "fixed", "--fix-applied", "--service-restored"]);
    repo.ok(&im, &["incident", "close", &id, "--notes", "ok"]);
    id
}

/// Runs `args` as `actor` expecting exit `code`, and checks nothing changed.
/// `ims problem create` with a title, description, source and service.
fn new_problem<'a>(title: &'a str, description: &'a str, source: &'a str, service: &'a str) -> [&'a str; 10] {
    ["problem", "create", "--title", title, "--description", description, "--source", source, "--service", service]
}

fn refused(repo: &Repo, actor: &str, args: &[&str], code: i32, needle: &str) {
    let before = repo.state();
    let err = repo.fails(actor, args, code);
    assert!(err.contains(needle), "{args:?}: `{err}` should mention `{needle}`");
    assert_eq!(repo.state(), before, "{args:?} changed something");
}

#[test]
fn a_recurring_fault_from_three_incidents_to_a_closed_problem_and_a_review() {
    let mut repo = Repo::with_everyone();
    let (l2, im, cm) = (who("L2"), who("incident_manager"), who("change_mgmt"));
    repo.now = "2026-11-27T09:00:00Z".into();
    // Three incidents with the same cause.
    let incidents: Vec<String> = (1..=3).map(|n| repo.incident(&format!("Checkout times out ({n})"))).collect();
    for id in &incidents {
        repo.ok(&who("L1"), &["incident", "assign", id, "--team", "L2"]);
    }
    // A problem for them: created with the first, the others linked.
    let doc = repo.ok(
        &l2,
        &[
            "problem",
            "create",
            "--title",
            "Connection pool exhausted",
            "--description",
            "pool runs dry at peak",
            "--source",
            "incident_trend",
            "--service",
            "shop",
            "--incident",
            &incidents[0],
        ],
    );
    let prb = id_of(&doc);
    assert_eq!(doc["record"]["status"], "new");
    for id in &incidents[1..] {
        repo.ok(&l2, &["problem", "link", &prb, id]);
    }
    assert_eq!(repo.show(&prb)["incident_ids"].as_array().unwrap().len(), 3);
    assert_eq!(repo.show(&incidents[2])["problem_ids"][0], prb.as_str());
    // A similar problem on the same service is refused, naming the first.
    refused(&repo, &who("L3"), &new_problem("exhausted: the connection-pool!", "d", "user_report", "shop"), 6, &prb);
    repo.ok(
        &l2,
        &[
            "problem",
            "update",
            &prb,
            "--status",
            "under_investigation",
            "--description",
            "pool of 20 is too small for peak",
        ],
    );

    // The workaround makes it a known error at once, with a KB article in review.
    repo.now = "2026-11-27T10:00:00Z".into();
    let doc = repo.ok(&l2, &["problem", "workaround", &prb, "--workaround", "Restart the app servers in turn"]);
    assert_eq!(doc["record"]["status"], "known_error");
    assert_eq!(doc["record"]["known_error"], true);
    let wkb = doc["record"]["kb_ids"][0].as_str().unwrap().to_string();
    let article = repo.show(&wkb);
    assert_eq!((article["status"].as_str(), article["type"].as_str()), (Some("in_review"), Some("workaround")));
    assert_eq!(article["problem_ids"][0], prb.as_str());
    refused(&repo, &l2, &["kb", "publish", &wkb], 4, "needs one of");
    repo.ok(&im, &["kb", "publish", &wkb]);
    assert_eq!(repo.show(&wkb)["version"], 1);
    // The known error is reused to resolve the incidents.
    for id in &incidents {
        repo.ok(
            &l2,
            &[
                "incident",
                "resolve",
                id,
                "--summary",
                "restarted in turn",
                "--fix-applied",
                "--service-restored",
                "--problem",
                &prb,
                "--kb",
                &wkb,
            ],
        );
    }

    // The permanent fix is a high-risk change: two distinct approvers, not the requester.
    let chg = id_of(
        &repo.ok(&l2, &["change", "request", "--summary", "Raise the pool to 80", "--risk", "high", "--problem", &prb]),
    );
    refused(&repo, &l2, &["change", "approve", &chg], 4, "needs one of");
    refused(&repo, &l2, &["change", "implement", &chg], 5, "needs status approved");
    let doc = repo.ok(&cm, &["change", "approve", &chg, "--note", "after hours"]);
    assert_eq!(doc["record"]["approval_status"], "pending", "one of two approvals");
    refused(&repo, &cm, &["change", "approve", &chg], 5, "approved it already");
    let doc = repo.ok(&im, &["change", "approve", &chg]);
    assert_eq!(
        (doc["record"]["approval_status"].as_str(), doc["record"]["status"].as_str()),
        (Some("approved"), Some("approved"))
    );
    assert_eq!(repo.show(&prb)["change_ids"][0], chg.as_str());
    repo.ok(&l2, &["change", "implement", &chg]);
    repo.ok(&cm, &["change", "review", &chg, "--outcome", "successful"]);
    repo.ok(&cm, &["change", "close", &chg]);

    // Resolved with evidence; closed only after the stability window.
    repo.now = "2026-11-28T10:00:00Z".into();
    refused(&repo, &l2, &["problem", "resolve", &prb, "--evidence", ""], 3, "evidence");
    repo.ok(&l2, &["problem", "resolve", &prb, "--evidence", "no pool exhaustion through a peak week"]);
    repo.now = "2026-12-02T10:00:00Z".into();
    refused(&repo, &im, &["problem", "close", &prb], 5, "2026-12-05T10:00:00Z");
    repo.now = "2026-12-05T10:00:00Z".into();
    repo.ok(&im, &["problem", "close", &prb]);
    assert_eq!(repo.show(&prb)["status"], "closed");

    // A review of the first incident, with action items tracked to done.
    let first = &incidents[0];
    repo.ok(
        &who("L1"),
        &["incident", "prioritize", first, "--priority", "high", "--severity", "high", "--justification", "checkout"],
    );
    repo.ok(&im, &["incident", "close", first, "--notes", "stable"]);
    let doc = repo.ok(
        &im,
        &[
            "incident",
            "review",
            first,
            "--timeline",
            "Three reports over a day",
            "--factors",
            "Pool sized for last year's peak",
            "--action",
            &format!("Load-test before peak | owner={l2} | due=2026-12-15"),
            "--action",
            "Alert on pool usage",
            "--kb",
            &wkb,
        ],
    );
    let pir = id_of(&doc);
    assert!(pir.starts_with("PIR-"));
    assert!(doc["record"]["timeline"].as_array().unwrap().iter().any(|l| l["what"] == "status resolved -> closed"));
    assert_eq!(doc["record"]["action_items"][0]["owner"], l2.as_str());
    repo.ok(&l2, &["pir", "action", &pir, "1", "--status", "done"]);
    refused(&repo, &who("L3"), &["pir", "action", &pir, "2", "--status", "done"], 4, "owner");
    assert_eq!(repo.show(&pir)["action_items"][0]["status"], "done");

    // Every commit along the way is signed and verifies.
    repo.verify_all_commits();
    let audit = repo.ok(&who("auditor"), &["audit", &prb]);
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["create", "link", "update", "kb_update", "resolve", "close"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

#[test]
fn change_halts_leave_everything_unchanged() {
    let repo = Repo::with_everyone();
    let (l2, cm) = (who("L2"), who("change_mgmt"));
    refused(&repo, &who("auditor"), &["change", "request", "--summary", "x"], 4, "needs one of");
    refused(&repo, &l2, &["change", "request", "--summary", "x", "--type", "urgent"], 3, "change type");
    refused(&repo, &l2, &["change", "request", "--summary", "Rotate logs", "--type", "standard"], 5, "catalogue");
    repo.ok(&who("incident_manager"), &["config", "set", "changes.standard_catalogue", "[Rotate logs]"]);
    let doc = repo.ok(&l2, &["change", "request", "--summary", "Rotate logs", "--type", "standard", "--risk", "low"]);
    assert_eq!(doc["record"]["approval_status"], "approved", "standard changes are pre-approved");
    let chg = id_of(&repo.ok(&l2, &["change", "request", "--summary", "Resize disk", "--risk", "low"]));
    let inc = repo.incident("disk full");
    refused(&repo, &l2, &["incident", "link-change", &inc, &chg], 5, "approved");
    refused(&repo, &l2, &["change", "reject", &chg, "--reason", "no"], 4, "needs one of");
    refused(&repo, &cm, &["change", "reject", &chg, "--reason", ""], 3, "reason");
    refused(&repo, &cm, &["change", "review", &chg, "--outcome", "successful"], 5, "implemented");
    refused(&repo, &cm, &["change", "review", &chg, "--outcome", "great"], 3, "outcome");
    refused(&repo, &cm, &["change", "close", &chg], 5, "reviewed or rejected");
    repo.ok(&cm, &["change", "approve", &chg]);
    repo.ok(&l2, &["incident", "link-change", &inc, &chg]);
    assert_eq!(repo.show(&chg)["incident_ids"][0], inc.as_str());
    refused(&repo, &l2, &["incident", "link-change", &inc, &chg], 5, "already linked");
    // A fix that altered production needs the linked change implemented.
    repo.ok(&who("L1"), &["incident", "assign", &inc, "--team", "L2"]);
    refused(
        &repo,
        &l2,
        &["incident", "resolve", &inc, "--summary", "s", "--fix-applied", "--service-restored", "--altered-production"],
        5,
        "implemented",
    );
    repo.ok(&l2, &["change", "implement", &chg]);
    repo.ok(
        &l2,
        &["incident", "resolve", &inc, "--summary", "s", "--fix-applied", "--service-restored", "--altered-production"],
    );
    let rejected = id_of(&repo.ok(&l2, &["change", "request", "--summary", "Turn it off", "--type", "emergency"]));
    repo.ok(&cm, &["change", "reject", &rejected, "--reason", "unsafe"]);
    refused(&repo, &cm, &["change", "approve", &rejected], 5, "requested");
    repo.ok(&cm, &["change", "close", &rejected]);
    let found = repo.ok(&who("auditor"), &["find", "change", "--status", "closed"]);
    assert_eq!(found["matches"].as_array().unwrap().len(), 1);
}

#[test]
fn kb_lifecycle_versions_and_halts() {
    let repo = Repo::with_everyone();
    let (l2, im) = (who("L2"), who("incident_manager"));
    let body = repo.tmp.path().join("body.md");
    std::fs::write(&body, "# Disk full\n\nDelete old logs.\n").unwrap();
    let body = body.to_str().unwrap().to_string();
    let open = repo.incident("still open");
    refused(
        &repo,
        &l2,
        &["kb", "draft", "--title", "t", "--type", "resolution", "--body-file", &body, "--incident", &open],
        5,
        "closed",
    );
    refused(&repo, &l2, &["kb", "draft", "--title", "t", "--type", "faq", "--body-file", &body], 3, "kb type");
    let secret = repo.tmp.path().join("secret.md");
    std::fs::write(&secret, "use password=hunter2hunter2\n").unwrap();
    refused(
        &repo,
        &l2,
        &["kb", "draft", "--title", "t", "--type", "resolution", "--body-file", secret.to_str().unwrap()],
        3,
        "body",
    );
    let closed = closed_incident(&repo, "disk full");
    let kb = id_of(&repo.ok(
        &l2,
        &["kb", "draft", "--title", "Disk full", "--type", "resolution", "--body-file", &body, "--incident", &closed],
    ));
    assert_eq!(repo.show(&closed)["kb_ids"][0], kb.as_str());
    refused(&repo, &im, &["kb", "publish", &kb], 5, "in_review");
    repo.ok(&l2, &["kb", "submit", &kb]);
    // The author may not publish their own article, even as an incident manager.
    let own = repo.tmp.path().join("own.md");
    std::fs::write(&own, "# Mine\n").unwrap();
    let mine = id_of(
        &repo
            .ok(&im, &["kb", "draft", "--title", "Mine", "--type", "prevention", "--body-file", own.to_str().unwrap()]),
    );
    repo.ok(&im, &["kb", "submit", &mine]);
    refused(&repo, &im, &["kb", "publish", &mine], 4, "segregation of duties");
    repo.ok(&im, &["kb", "publish", &kb]);
    std::fs::write(repo.tmp.path().join("body.md"), "# Disk full\n\nRotate logs daily.\n").unwrap();
    repo.ok(&l2, &["kb", "update", &kb, "--body-file", &body]);
    assert_eq!(repo.show(&kb)["status"], "in_review");
    repo.ok(&im, &["kb", "publish", &kb]);
    assert_eq!(repo.show(&kb)["version"], 2);
    let v1 = repo.ok(&who("auditor"), &["show", &kb, "--version", "1"]);
    assert!(v1["body"].as_str().unwrap().contains("Delete old logs"), "{v1}");
    let v2 = repo.ok(&who("auditor"), &["show", &kb, "--version", "2"]);
    assert!(v2["body"].as_str().unwrap().contains("Rotate logs daily"));
    repo.fails(&who("auditor"), &["show", &kb, "--version", "3"], 3);
    refused(&repo, &l2, &["kb", "retire", &kb], 4, "needs one of");
    repo.ok(&im, &["kb", "retire", &kb]);
    refused(&repo, &l2, &["kb", "update", &kb, "--body-file", &body], 5, "retired");
    assert_eq!(
        repo.ok(&who("auditor"), &["find", "kb", "--status", "retired"])["matches"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn problem_halts_leave_everything_unchanged() {
    let repo = Repo::with_everyone();
    let (l2, im) = (who("L2"), who("incident_manager"));
    refused(
        &repo,
        &who("end_user"),
        &["problem", "create", "--title", "t", "--description", "d", "--source", "proactive"],
        4,
        "",
    );
    refused(
        &repo,
        &l2,
        &["problem", "create", "--title", "t", "--description", "d", "--source", "rumour"],
        3,
        "source",
    );
    let prb = id_of(&repo.ok(&l2, &new_problem("Slow search", "d", "proactive", "search")));
    refused(&repo, &who("service_desk"), &["problem", "workaround", &prb, "--workaround", "w"], 4, "needs one of");
    refused(&repo, &l2, &["problem", "update", &prb, "--status", "closed"], 3, "own procedure");
    refused(&repo, &l2, &["problem", "close", &prb], 4, "needs one of");
    refused(&repo, &im, &["problem", "close", &prb], 5, "resolved");
    refused(&repo, &l2, &["problem", "link", &prb, "INC-20260101-0000000000"], 3, "no such incident");
    // Renaming a problem onto another active problem's key is a conflict too.
    let other = id_of(&repo.ok(&l2, &new_problem("Search index stale", "d", "proactive", "search")));
    refused(&repo, &l2, &["problem", "update", &other, "--title", "slow SEARCH"], 6, &prb);
    // Once resolved, a recurrence may be raised as a new problem.
    repo.ok(&l2, &["problem", "resolve", &prb, "--evidence", "index rebuilt"]);
    refused(&repo, &l2, &["problem", "workaround", &prb, "--workaround", "w"], 5, "resolved");
    repo.ok(&l2, &new_problem("Slow search", "again", "proactive", "search"));
    assert_eq!(
        repo.ok(&who("auditor"), &["find", "problem", "--service", "search", "--status", "new"])["matches"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn reviews_tools_and_simulations() {
    let repo = Repo::with_everyone();
    let im = who("incident_manager");
    let open = repo.incident("open one");
    refused(&repo, &im, &["incident", "review", &open, "--timeline", "t", "--factors", "f"], 5, "resolved or closed");
    let closed = closed_incident(&repo, "done");
    refused(
        &repo,
        &who("L2"),
        &["incident", "review", &closed, "--timeline", "t", "--factors", "f"],
        4,
        "needs one of",
    );
    refused(
        &repo,
        &im,
        &["incident", "review", &closed, "--timeline", "t", "--factors", "f", "--action", "x | due=soon"],
        3,
        "due",
    );
    refused(
        &repo,
        &im,
        &[
            "incident",
            "review",
            &closed,
            "--timeline",
            "t",
            "--factors",
            "f",
            "--action",
            "x | owner=ghost@example.com",
        ],
        3,
        "owner",
    );
    let pir = id_of(
        &repo.ok(&im, &["incident", "review", &closed, "--timeline", "t", "--factors", "f", "--action", "fix it"]),
    );
    refused(&repo, &im, &["incident", "review", &closed, "--timeline", "t", "--factors", "f"], 5, "already reviewed");
    refused(&repo, &im, &["pir", "action", &pir, "5", "--status", "done"], 3, "1 to 1");
    // Overdue: a high-priority incident closed over 5 days ago without a review.
    let high = repo.incident("big");
    repo.ok(
        &im,
        &["incident", "prioritize", &high, "--priority", "high", "--severity", "high", "--justification", "j"],
    );
    repo.ok(&im, &["incident", "resolve", &high, "--summary", "s", "--fix-applied", "--service-restored"]);
    repo.ok(&who("service_desk_manager"), &["incident", "close", &high, "--notes", "n"]);
    assert_eq!(repo.ok(&im, &["pir", "overdue", "--at", "2026-11-28"])["overdue"].as_array().unwrap().len(), 0);
    let overdue = repo.ok(&im, &["pir", "overdue", "--at", "2026-12-10"]);
    assert_eq!(overdue["overdue"][0]["incident_id"], high.as_str());

    refused(&repo, &who("L1"), &["tool", "record", "--tool", "hammer", "--summary", "s", "--outcome", "o"], 3, "tool");
    refused(&repo, &who("end_user"), &["tool", "record", "--tool", "AIOps", "--summary", "s", "--outcome", "o"], 4, "");
    let tool = repo.ok(
        &who("L1"),
        &[
            "tool",
            "record",
            "--tool",
            "AIOps",
            "--summary",
            "clustered alerts",
            "--outcome",
            "3 groups",
            "--incident",
            &open,
        ],
    );
    assert_eq!(tool["record"]["tool_used"], "AIOps");
    refused(
        &repo,
        &who("L3"),
        &["simulation", "record", "--scenario", "s", "--scope", "x", "--outcome", "o"],
        4,
        "needs one of",
    );
    repo.ok(&im, &["simulation", "record", "--scenario", "DC power loss", "--scope", "all", "--outcome", "RTO met"]);
    let audit = repo.ok(&who("auditor"), &["audit", "--action", "simulation"]);
    assert_eq!(audit["entries"].as_array().unwrap().len(), 1);
    assert_eq!(repo.ok(&who("auditor"), &["audit", "--action", "tool_use"])["entries"].as_array().unwrap().len(), 1);
    repo.verify_all_commits();
}
