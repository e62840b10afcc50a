//! KPIs an auditor can recompute (issue 15): every KPI of `ims report` pinned on a
//! scripted history of full lifecycles — closed, reopened, escalated and reassigned
//! incidents, SLA met and breached, a known error reused, changes reviewed — by values
//! computed by hand below, over calendar periods of different lengths, custom spans, the
//! whole history and groups; and the site showing exactly what `ims report --json` gives.

use serde_json::Value;

use crate::support::*;

/// Opens an incident at `t` on `service` as the service desk and prioritizes it as L1.
fn open(repo: &mut Repo, t: &str, title: &str, service: &str, priority: &str) -> String {
    repo.now = t.into();
    let id = repo.ok(
        &who("service_desk"),
        &["incident", "identify", "--title", title, "--service", service, "--source", "user_report"],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    repo.ok(
        &who("L1"),
        &["incident", "prioritize", &id, "--priority", priority, "--severity", priority, "--justification", "j"],
    );
    id
}

fn step(repo: &mut Repo, t: &str, actor: &str, args: &[&str]) {
    repo.now = t.into();
    repo.ok(&who(actor), args);
}

fn assign(repo: &mut Repo, t: &str, id: &str, team: &str) {
    step(repo, t, "service_desk", &["incident", "assign", id, "--team", team]);
}

fn resolve(repo: &mut Repo, t: &str, id: &str) {
    step(repo, t, "L2", &["incident", "resolve", id, "--summary", "s", "--fix-applied", "--service-restored"]);
}

fn close(repo: &mut Repo, t: &str, id: &str) {
    step(repo, t, "incident_manager", &["incident", "close", id, "--notes", "n"]);
}

fn change(repo: &mut Repo, t: &str, outcome: &str) {
    repo.now = t.into();
    let chg = repo.ok(&who("L2"), &["change", "request", "--summary", outcome, "--risk", "low"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    repo.ok(&who("change_mgmt"), &["change", "approve", &chg]);
    repo.ok(&who("L2"), &["change", "implement", &chg]);
    repo.ok(&who("incident_manager"), &["change", "review", &chg, "--outcome", outcome]);
}

/// January and February 2027 (31 and 28 days), timezone UTC. Every figure the tests
/// expect is worked out by hand in the comments of [`february`] and [`january`].
fn history() -> Repo {
    let mut r = Repo::with_everyone();
    // January.
    // J1 (shop, low): acknowledged after 10 min, resolved after 40, closed: first contact.
    let j1 = open(&mut r, "2027-01-02T09:00:00Z", "J1", "shop", "low");
    assign(&mut r, "2027-01-02T09:10:00Z", &j1, "L1");
    resolve(&mut r, "2027-01-02T09:40:00Z", &j1);
    close(&mut r, "2027-01-02T10:00:00Z", &j1);
    // J2 (shop, medium): acknowledged after 45, escalated L1 → L2, resolved after 120.
    let j2 = open(&mut r, "2027-01-11T09:00:00Z", "J2", "shop", "medium");
    assign(&mut r, "2027-01-11T09:45:00Z", &j2, "L1");
    step(&mut r, "2027-01-11T10:00:00Z", "L1", &["incident", "escalate", &j2, "--to", "L2", "--reason", "deeper"]);
    resolve(&mut r, "2027-01-11T11:00:00Z", &j2);
    change(&mut r, "2027-01-15T09:00:00Z", "successful");
    // H (pay, low): opened in January, acknowledged in February after 23 h (low target
    // 4 h: breached), resolved after 24 h, closed; never escalated or reassigned.
    let h = open(&mut r, "2027-01-31T09:00:00Z", "H", "pay", "low");
    // February.
    assign(&mut r, "2027-02-01T08:00:00Z", &h, "L1");
    // A (shop, low): ack 10, resolved after 60, closed: first contact (the finding).
    let a = open(&mut r, "2027-02-01T09:00:00Z", "A", "shop", "low");
    // B (shop, medium): ack 20, escalated L1 → L2, resolved after 180, closed.
    let b = open(&mut r, "2027-02-01T09:00:00Z", "B", "shop", "medium");
    resolve(&mut r, "2027-02-01T09:00:00Z", &h);
    close(&mut r, "2027-02-01T09:05:00Z", &h);
    assign(&mut r, "2027-02-01T09:10:00Z", &a, "L1");
    assign(&mut r, "2027-02-01T09:20:00Z", &b, "L1");
    step(&mut r, "2027-02-01T09:40:00Z", "L1", &["incident", "escalate", &b, "--to", "L2", "--reason", "deeper"]);
    resolve(&mut r, "2027-02-01T10:00:00Z", &a);
    close(&mut r, "2027-02-01T10:30:00Z", &a);
    resolve(&mut r, "2027-02-01T12:00:00Z", &b);
    close(&mut r, "2027-02-01T12:30:00Z", &b);
    // C (pay, medium): ack 30, resolved, reopened, resolved again after 240 in all.
    let c = open(&mut r, "2027-02-02T09:00:00Z", "C", "pay", "medium");
    // D (pay, low): ack 5 with an assignee, then handed to another person: reassigned.
    let d = open(&mut r, "2027-02-02T09:00:00Z", "D", "pay", "low");
    step(
        &mut r,
        "2027-02-02T09:05:00Z",
        "service_desk",
        &["incident", "assign", &d, "--team", "L1", "--assignee", &who("L1")],
    );
    assign(&mut r, "2027-02-02T09:30:00Z", &c, "L1");
    step(
        &mut r,
        "2027-02-02T09:50:00Z",
        "service_desk",
        &["incident", "assign", &d, "--team", "L1", "--assignee", &who("L2")],
    );
    resolve(&mut r, "2027-02-02T10:00:00Z", &c);
    step(&mut r, "2027-02-02T11:00:00Z", "L1", &["incident", "reopen", &c, "--reason", "back again"]);
    resolve(&mut r, "2027-02-02T11:05:00Z", &d);
    resolve(&mut r, "2027-02-02T13:00:00Z", &c);
    close(&mut r, "2027-02-02T14:00:00Z", &c);
    // E (shop, medium): acknowledged after 120 (target 1 h: breached), resolved after
    // 180 with a problem that became a known error before: a known error reused.
    let e = open(&mut r, "2027-02-03T09:00:00Z", "E", "shop", "medium");
    // F (shop, high): escalated to the incident manager on prioritizing, then assigned
    // to L2 (a reassignment), ack 10, resolved after 60.
    let f = open(&mut r, "2027-02-03T09:00:00Z", "F", "shop", "high");
    assign(&mut r, "2027-02-03T09:10:00Z", &f, "L2");
    resolve(&mut r, "2027-02-03T10:00:00Z", &f);
    r.now = "2027-02-03T10:30:00Z".into();
    let prb = r.ok(
        &who("L2"),
        &["problem", "create", "--title", "Gateway", "--description", "d", "--source", "incident_trend"],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    r.ok(&who("L2"), &["problem", "workaround", &prb, "--workaround", "restart"]);
    assign(&mut r, "2027-02-03T11:00:00Z", &e, "L1");
    step(
        &mut r,
        "2027-02-03T12:00:00Z",
        "L2",
        &["incident", "resolve", &e, "--summary", "s", "--fix-applied", "--service-restored", "--problem", &prb],
    );
    step(&mut r, "2027-02-04T09:00:00Z", "service_desk", &["incident", "feedback", &a, "--score", "5"]);
    step(&mut r, "2027-02-04T09:00:00Z", "service_desk", &["incident", "feedback", &c, "--score", "2"]);
    change(&mut r, "2027-02-10T09:00:00Z", "successful");
    change(&mut r, "2027-02-11T09:00:00Z", "failed");
    // G (pay, low): opened, never acknowledged.
    open(&mut r, "2027-02-20T09:00:00Z", "G", "pay", "low");
    r
}

fn n(v: f64) -> Value {
    serde_json::json!(v)
}

/// February 2027 by hand. Opened: A B C D E F G = 7. Acknowledged in February: H 1380,
/// A 10, B 20, C 30, D 5, E 120, F 10 (sorted 5 10 10 20 30 120 1380: mean 1575/7 =
/// 225, median 20, nearest rank ⌈0.9·7⌉ = ⌈0.95·7⌉ = 7 → 1380). Resolved in February:
/// H 1440, A 60, B 180, C 240, D 125, E 180, F 60 (sorted 60 60 125 180 180 240 1440:
/// mean 2285/7 = 326.4286, median 180, p90 = p95 = 1440). Escalated: B, F of 7 opened.
/// Reassigned: B (L1 → L2), D (assignee), F (incident_manager → L2) of 7 resolved. SLA
/// met: all but E and H (late acknowledgements): 5 of 7. Known error reused: E, 1 of 7.
/// First contact: A, E, H (A and H closed) of 7. Changes: 1 of 2. Feedback 5 and 2.
fn february(doc: &Value) {
    let expect: &[(&str, Value)] = &[
        ("incidents_opened", 7.into()),
        ("incidents_resolved", 7.into()),
        ("mtta_minutes", n(225.0)),
        ("mtta_median_minutes", n(20.0)),
        ("mtta_p90_minutes", n(1380.0)),
        ("mtta_p95_minutes", n(1380.0)),
        ("mttr_minutes", n(326.4286)),
        ("mttr_median_minutes", n(180.0)),
        ("mttr_p90_minutes", n(1440.0)),
        ("mttr_p95_minutes", n(1440.0)),
        ("escalation_rate", n(0.2857)),
        ("reassignment_rate", n(0.4286)),
        ("sla_compliance", n(0.7143)),
        ("known_error_reuse_rate", n(0.1429)),
        ("change_success_rate", n(0.5)),
        ("first_contact_resolution_rate", n(0.4286)),
        ("stakeholder_satisfaction", n(3.5)),
    ];
    for (key, want) in expect {
        assert_eq!(&doc[*key], want, "February {key}: {doc}");
    }
}

/// January 2027 by hand. Opened: J1 J2 H = 3. Acknowledged: J1 10, J2 45 (mean and
/// median 27.5, p90 = p95 = 45 at rank 2). Resolved: J1 40, J2 120 (mean and median 80,
/// p90 = p95 = 120). Escalated: J2 of 3 opened. Reassigned: J2 of 2. SLA: both met.
/// First contact: J1 (closed) of 2. One change, successful. No feedback.
fn january(doc: &Value) {
    let expect: &[(&str, Value)] = &[
        ("incidents_opened", 3.into()),
        ("incidents_resolved", 2.into()),
        ("mtta_minutes", n(27.5)),
        ("mtta_median_minutes", n(27.5)),
        ("mtta_p90_minutes", n(45.0)),
        ("mtta_p95_minutes", n(45.0)),
        ("mttr_minutes", n(80.0)),
        ("mttr_median_minutes", n(80.0)),
        ("mttr_p90_minutes", n(120.0)),
        ("mttr_p95_minutes", n(120.0)),
        ("escalation_rate", n(0.3333)),
        ("reassignment_rate", n(0.5)),
        ("sla_compliance", n(1.0)),
        ("known_error_reuse_rate", n(0.0)),
        ("change_success_rate", n(1.0)),
        ("first_contact_resolution_rate", n(0.5)),
        ("stakeholder_satisfaction", Value::Null),
    ];
    for (key, want) in expect {
        assert_eq!(&doc[*key], want, "January {key}: {doc}");
    }
}

/// The value cell and the previous cell of the KPI row `key` of a page, as their
/// `data-value` holds them (the cells show them as people read them).
fn row(html: &str, key: &str) -> (String, String) {
    let start = html.find(&format!("<tr id=\"kpi-{key}\">")).unwrap_or_else(|| panic!("no row {key}"));
    let rest = &html[start..];
    let cells: Vec<String> = rest[..rest.find("</tr>").unwrap()]
        .split("data-value=\"")
        .skip(1)
        .map(|c| c[..c.find('"').unwrap()].replace("&quot;", "\""))
        .collect();
    (cells[0].clone(), cells[1].clone())
}

/// A JSON value as the site prints it.
fn cell(v: &Value) -> String {
    if v.is_null() {
        "—".into()
    } else {
        v.to_string()
    }
}

const KEYS: &[&str] = &[
    "incidents_opened",
    "incidents_resolved",
    "mtta_minutes",
    "mtta_median_minutes",
    "mtta_p90_minutes",
    "mtta_p95_minutes",
    "mttr_minutes",
    "mttr_median_minutes",
    "mttr_p90_minutes",
    "mttr_p95_minutes",
    "escalation_rate",
    "reassignment_rate",
    "sla_compliance",
    "known_error_reuse_rate",
    "change_success_rate",
    "first_contact_resolution_rate",
    "stakeholder_satisfaction",
];

/// The page shows exactly the report's figures and its previous period's.
fn page_matches(html: &str, doc: &Value, what: &str) {
    for key in KEYS {
        let (value, previous) = row(html, key);
        assert_eq!(value, cell(&doc[*key]), "{what} {key}");
        assert_eq!(previous, cell(&doc["previous"][*key]), "{what} previous {key}");
    }
}

#[test]
fn every_kpi_on_calendar_months_of_different_lengths_equals_the_hand_computed_value() {
    let repo = history();
    let auditor = who("auditor");
    let feb = repo.ok(&auditor, &["report", "--at", "2027-02-15T12:00:00Z"]);
    february(&feb);
    assert_eq!(
        (feb["start"].as_str(), feb["end"].as_str()),
        (Some("2027-02-01T00:00:00Z"), Some("2027-03-01T00:00:00Z"))
    );
    // The previous period is January, the calendar month (31 days), not the 28 days
    // before February 1 (which would leave out J1 of January 2).
    january(&feb["previous"]);
    assert_eq!(feb["previous"]["start"], "2027-01-01T00:00:00Z");
    let jan = repo.ok(&auditor, &["report", "--at", "2027-01-20"]);
    january(&jan);
    // March (31 days) is compared with February (28 days).
    let mar = repo.ok(&auditor, &["report", "--at", "2027-03-05"]);
    assert_eq!(mar["incidents_opened"], 0);
    february(&mar["previous"]);
    // Text and CSV carry the same figures.
    let out = repo.run(&auditor, &["report", "--csv", "--at", "2027-02-15"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.starts_with("kpi,value,previous\n"), "{csv}");
    assert!(csv.contains("first_contact_resolution_rate,0.4286,0.5\n"), "{csv}");
    assert!(csv.contains("reassignment_rate,0.4286,0.5\n"), "{csv}");
    assert!(csv.contains("stakeholder_satisfaction,3.5,\n"), "{csv}");
    let out = repo.run(&auditor, &["report", "--at", "2027-02-15"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("first_contact_resolution_rate") && text.contains("0.4286"), "{text}");
    // A warm report (facts cached by blob id) says the same.
    assert_eq!(
        repo.ok(&auditor, &["report", "--at", "2027-02-15T12:00:00Z"])["first_contact_resolution_rate"],
        n(0.4286)
    );
}

/// The report cache (`.git/ims/cache/report.cache`) only ever saves time: facts lines
/// that do not parse, folder lines that name blobs it has no facts for, and a folder
/// that gains a file after it was cached all give the hand-computed figures.
#[test]
fn a_garbled_or_outdated_report_cache_still_gives_the_hand_computed_figures() {
    let mut repo = history();
    let auditor = who("auditor");
    february(&repo.ok(&auditor, &["report", "--at", "2027-02-15T12:00:00Z"]));
    let cache = repo.path.join(".git/ims/cache/report.cache");
    let text = std::fs::read_to_string(&cache).unwrap();
    let folders = text.lines().filter(|l| l.starts_with('T')).count();
    assert!(folders >= 5, "one line per day folder of incidents:\n{text}");
    // Garble every other facts line, and make every folder line name a blob too many.
    let mut garbled = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            garbled.push_str(line);
        } else if line.starts_with('T') {
            garbled.push_str(&format!("{line} {}", "ab".repeat(20)));
        } else if i % 2 == 0 {
            let (id, rest) = line.split_once('\t').unwrap();
            garbled.push_str(&format!("{id}\t{}", &rest[..rest.len() / 2]));
        } else {
            garbled.push_str(line);
        }
        garbled.push('\n');
    }
    std::fs::write(&cache, &garbled).unwrap();
    february(&repo.ok(&auditor, &["report", "--at", "2027-02-15T12:00:00Z"]));
    january(&repo.ok(&auditor, &["report", "--at", "2027-01-20"]));
    // A new incident in a day folder that is cached (G's, February 20) is counted.
    open(&mut repo, "2027-02-20T10:00:00Z", "G2", "pay", "low");
    let feb = repo.ok(&auditor, &["report", "--at", "2027-02-15T12:00:00Z"]);
    assert_eq!(feb["incidents_opened"], 8);
}

#[test]
fn closed_incidents_count_as_first_contact_resolutions() {
    // The finding: the resolved → closed step counted as a reopen, so no closed
    // incident was ever a first-contact resolution.
    let mut r = Repo::with_everyone();
    let a = open(&mut r, "2027-02-01T09:00:00Z", "A", "shop", "low");
    assign(&mut r, "2027-02-01T09:10:00Z", &a, "L1");
    resolve(&mut r, "2027-02-01T10:00:00Z", &a);
    close(&mut r, "2027-02-01T10:30:00Z", &a);
    let doc = r.ok(&who("auditor"), &["report", "--at", "2027-02-15"]);
    assert_eq!(doc["first_contact_resolution_rate"], n(1.0), "{doc}");
    assert_eq!(doc["reassignment_rate"], n(0.0), "{doc}");
}

#[test]
fn custom_spans_the_whole_history_and_the_exclusive_end() {
    let repo = history();
    let auditor = who("auditor");
    // [Feb 1, Feb 3): opened A B C D; resolved H A B (Feb 1) C D (Feb 2). The previous
    // span is the 2 days before: [Jan 30, Feb 1): H opened, nothing resolved.
    let doc = repo.ok(&auditor, &["report", "--since", "2027-02-01", "--until", "2027-02-03"]);
    assert_eq!((doc["incidents_opened"].as_u64(), doc["incidents_resolved"].as_u64()), (Some(4), Some(5)), "{doc}");
    assert_eq!(doc["period"], "range");
    assert_eq!(doc["previous"]["start"], "2027-01-30T00:00:00Z");
    assert_eq!(doc["previous"]["end"], "2027-02-01T00:00:00Z");
    assert_eq!(
        (doc["previous"]["incidents_opened"].as_u64(), doc["previous"]["incidents_resolved"].as_u64()),
        (Some(1), Some(0))
    );
    // --until is exclusive: C and D, opened at 09:00:00 on Feb 2, are left out at
    // exactly that time and counted one second later.
    let before = repo.ok(&auditor, &["report", "--since", "2027-02-01", "--until", "2027-02-02T09:00:00Z"]);
    assert_eq!(before["incidents_opened"], 2);
    let after = repo.ok(&auditor, &["report", "--since", "2027-02-01", "--until", "2027-02-02T09:00:01Z"]);
    assert_eq!(after["incidents_opened"], 4);
    // A span equal to February is February.
    february(&repo.ok(&auditor, &["report", "--since", "2027-02-01", "--until", "2027-03-01"]));
    // The whole history: 10 opened, 9 resolved (40 120 1440 60 180 240 125 180 60: mean
    // 2445/9 = 271.6667, median 125, p90 = p95 = 1440); first contact J1 A E H of 9;
    // changes 2 of 3; no previous period.
    let all = repo.ok(&auditor, &["report", "--all"]);
    assert_eq!((all["incidents_opened"].as_u64(), all["incidents_resolved"].as_u64()), (Some(10), Some(9)));
    assert_eq!(all["mttr_minutes"], n(271.6667));
    assert_eq!(all["mttr_median_minutes"], n(125.0));
    assert_eq!(all["mttr_p90_minutes"], n(1440.0));
    assert_eq!(all["first_contact_resolution_rate"], n(0.4444));
    assert_eq!(all["change_success_rate"], n(0.6667));
    assert_eq!(
        (all["previous"].clone(), all["start"].clone(), all["period"].clone()),
        (Value::Null, Value::Null, "all".into())
    );
    // Refusals: an empty span, a bad date, mixed selections.
    repo.fails(&auditor, &["report", "--since", "2027-02-03", "--until", "2027-02-01"], 3);
    repo.fails(&auditor, &["report", "--since", "yesterday", "--until", "2027-02-01"], 3);
    let out = repo.run(&auditor, &["report", "--all", "--period", "daily"]);
    assert_eq!(out.status.code(), Some(2));
    repo.fails(&auditor, &["report", "--by", "colour"], 3);
}

#[test]
fn by_group_rows_add_up_to_the_total() {
    let repo = history();
    let auditor = who("auditor");
    for by in ["service", "team", "priority", "category"] {
        let doc = repo.ok(&auditor, &["report", "--at", "2027-02-15", "--by", by]);
        february(&doc);
        let groups = doc["groups"].as_array().unwrap();
        for key in ["incidents_opened", "incidents_resolved"] {
            let sum: u64 = groups.iter().map(|g| g[key].as_u64().unwrap()).sum();
            assert_eq!(sum, doc[key].as_u64().unwrap(), "--by {by}: {key} of the rows adds up to the total");
        }
    }
    // By service, by hand: pay holds C D G (opened) and C D H (resolved; first contact
    // only H), shop holds A B E F (first contact A and E).
    let doc = repo.ok(&auditor, &["report", "--at", "2027-02-15", "--by", "service"]);
    let groups = doc["groups"].as_array().unwrap();
    let names: Vec<&str> = groups.iter().map(|g| g["group"].as_str().unwrap()).collect();
    assert_eq!(names, ["pay", "shop"]);
    assert_eq!((groups[0]["incidents_opened"].as_u64(), groups[0]["incidents_resolved"].as_u64()), (Some(3), Some(3)));
    assert_eq!(groups[0]["first_contact_resolution_rate"], n(0.3333));
    assert_eq!(groups[1]["first_contact_resolution_rate"], n(0.5));
    // Shop's SLA: A B F met, E breached; pay's: C D met, H breached.
    assert_eq!(groups[1]["sla_compliance"], n(0.75));
    assert_eq!(groups[0]["sla_compliance"], n(0.6667));
    // By team (the team holding it): L1 A C D E H, L2 B F, and G never assigned.
    let doc = repo.ok(&auditor, &["report", "--at", "2027-02-15", "--by", "team"]);
    let teams: Vec<(String, u64)> = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["group"].as_str().unwrap().to_string(), g["incidents_resolved"].as_u64().unwrap()))
        .collect();
    assert_eq!(teams, [("L1".to_string(), 5), ("L2".to_string(), 2), ("unset".to_string(), 0)]);
    // CSV: a header, one row per group, and the total.
    let out = repo.run(&auditor, &["report", "--at", "2027-02-15", "--by", "service", "--csv"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("group,start,end,incidents_opened,incidents_resolved,"), "{csv}");
    assert!(lines[1].starts_with("pay,2027-02-01T00:00:00Z,2027-03-01T00:00:00Z,3,3,"), "{csv}");
    assert!(lines[3].starts_with("total,2027-02-01T00:00:00Z,2027-03-01T00:00:00Z,7,7,"), "{csv}");
    // The text table too.
    let out = repo.run(&auditor, &["report", "--at", "2027-02-15", "--by", "service"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("total")), "{text}");
}

#[test]
fn ids_and_record_folders_take_the_procedures_date() {
    let mut r = Repo::with_everyone();
    let id = open(&mut r, "2027-02-01T09:00:00Z", "A", "shop", "low");
    assert!(id.starts_with("INC-20270201-"), "{id}");
    let files = r.git(&["ls-files", "records/incidents"]);
    assert!(files.contains(&format!("records/incidents/2027/02/01/{id}.yaml")), "{files}");
    assert_eq!(r.show(&id)["created_at"], "2027-02-01T09:00:00Z");
    // Every other kind of id the shell makes.
    r.now = "2027-03-04T10:00:00Z".into();
    let prb =
        r.ok(&who("L2"), &["problem", "create", "--title", "T", "--description", "d", "--source", "incident_trend"]);
    assert!(prb["id"].as_str().unwrap().starts_with("PRB-20270304-"), "{prb}");
    let chg = r.ok(&who("L2"), &["change", "request", "--summary", "s"]);
    assert!(chg["id"].as_str().unwrap().starts_with("CHG-20270304-"), "{chg}");
    step(&mut r, "2027-03-05T10:00:00Z", "service_desk", &["incident", "assign", &id, "--team", "L1"]);
    let com = r.show(&id)["communications"][0]["communication_id"].as_str().unwrap().to_string();
    assert!(com.starts_with("COM-20270305-"), "{com}");
    // Replay is unaffected: ids are procedure input.
    let out = r.run(&who("auditor"), &["verify", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn the_site_shows_what_ims_report_gives_as_of_the_build() {
    let mut repo = history();
    let auditor = who("auditor");
    repo.now = "2027-02-20T12:00:00Z".into();
    let out = repo.path.parent().unwrap().join("site");
    repo.ok(&auditor, &["site", "build", "--out", out.to_str().unwrap()]);
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap();
    // The dashboard: this month as of the build, beside the previous calendar month.
    let doc = repo.ok(&auditor, &["report"]);
    february(&doc);
    let dash = read("index.html");
    page_matches(&dash, &doc, "dashboard");
    assert!(dash.contains("As of <time datetime=\"2027-02-20T12:00:00Z\">"), "{dash}");
    // The SLA list as of the build: G (low, opened 09:00) has used 3 h of its 4-hour
    // acknowledgement target, 75%: at risk — as `ims sla check` says at the same time.
    let sla = repo.ok(&auditor, &["sla", "check"]);
    let g = sla["standings"].as_array().unwrap().iter().find(|s| s["title"] == "G").expect("G at risk").clone();
    assert_eq!((g["clock"].as_str(), g["state"].as_str()), (Some("acknowledge"), Some("at_risk")), "{sla}");
    assert!(dash.contains(&format!("<a href=\"incidents/{}.html\">", g["incident_id"].as_str().unwrap())), "{dash}");
    // Report pages: each month, week and day against `ims report` for that period.
    for (page, args) in [
        ("reports/2027-02.html", vec!["report", "--at", "2027-02-15"]),
        ("reports/2027-01.html", vec!["report", "--at", "2027-01-15"]),
        ("reports/week-2027-W05.html", vec!["report", "--period", "weekly", "--at", "2027-02-03"]),
        ("reports/2027-02-01.html", vec!["report", "--period", "daily", "--at", "2027-02-01"]),
    ] {
        let html = read(page);
        page_matches(&html, &repo.ok(&auditor, &args), page);
        assert!(!html.contains("As of"), "{page} does not depend on the time of the build");
    }
    // A rebuild later changes the dashboard (its "as of") and none of the report pages.
    let before = read("reports/2027-01.html");
    let mtime = std::fs::metadata(out.join("reports/2027-01.html")).unwrap().modified().unwrap();
    repo.now = "2027-02-20T12:30:00Z".into();
    repo.ok(&auditor, &["site", "build", "--out", out.to_str().unwrap()]);
    assert!(read("index.html").contains("2027-02-20T12:30:00Z"));
    assert_eq!(read("reports/2027-01.html"), before);
    assert_eq!(std::fs::metadata(out.join("reports/2027-01.html")).unwrap().modified().unwrap(), mtime);
}

#[test]
fn the_demo_months_on_the_site_equal_ims_report() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(ims_bin())
        .current_dir(tmp.path())
        .args(["demo", "d", "--days", "35", "--json"])
        .env_remove("IMS_NOW")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let repo = tmp.path().join("d");
    let report = |args: &[&str], now: &str| -> Value {
        let out = std::process::Command::new(ims_bin())
            .current_dir(&repo)
            .args(args)
            .arg("--json")
            .env("IMS_NOW", now)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let dash = std::fs::read_to_string(repo.join("site/index.html")).unwrap();
    let as_of = {
        let at = dash.find("As of <time datetime=\"").expect("the dashboard says as of when") + 22;
        dash[at..at + 20].to_string()
    };
    assert!(as_of.starts_with("2026-09-"), "35 days from August 3: {as_of}");
    let doc = report(&["report"], &as_of);
    page_matches(&dash, &doc, "demo dashboard");
    let aug = report(&["report", "--at", "2026-08-15"], &as_of);
    page_matches(&std::fs::read_to_string(repo.join("site/reports/2026-08.html")).unwrap(), &aug, "demo August");
    // About half of the demo's incidents are first-contact resolutions, closed or not.
    let fcr = aug["first_contact_resolution_rate"].as_f64().unwrap();
    assert!(fcr > 0.2, "August first contact resolution {fcr}");
}
