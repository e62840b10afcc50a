//! `ims demo`: a sample organisation (`records/organisation.yaml`) lives 90 days through
//! the real procedures with a simulated clock — incidents from report to closure,
//! recurring faults turning into problems and known errors with KB articles, approved
//! and failed changes, SLA breaches escalated by the automation identity, reviews —
//! then the site is built. Keys, ids and times all come from the seed, so the same
//! seed gives the same repository and site, byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::engine::Procedure;
use crate::error::{Error, Result};
use crate::model::enums::{Category, ContactMethod, EscalationTarget, Level, Role, Source, Team};
use crate::procedures::config::set::{ConfigSet, ConfigSetInput};
use crate::procedures::person::add::{PersonAdd, PersonAddInput};
use crate::procedures::repo::init::InitV2Input;
use crate::procedures::{change, incident as inc, kb, problem};
use crate::repo::Repo;
use crate::run::{self, Identity};
use crate::signing::Signer;

const ORGANISATION: &str = include_str!("../records/organisation.yaml");

#[derive(Debug, Deserialize)]
struct Organisation {
    organization: String,
    services: Vec<String>,
    timezone: String,
    calendar: crate::model::config::Calendar,
    business_services: Vec<String>,
    people: Vec<PersonSpec>,
    faults: Vec<Fault>,
}

#[derive(Debug, Deserialize)]
struct PersonSpec {
    email: String,
    name: String,
    roles: Vec<Role>,
    teams: Vec<Team>,
}

#[derive(Debug, Deserialize)]
struct Fault {
    service: String,
    title: String,
    category: Category,
}

/// SplitMix64: a small, well-known deterministic generator; the demo needs
/// reproducibility, not unpredictability.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What the demo made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub path: PathBuf,
    pub site: PathBuf,
    pub commits: usize,
    pub incidents: usize,
    pub problems: usize,
    pub changes: usize,
    pub trust_root: String,
    /// One person per role to act as (demo keys).
    pub identities: Vec<DemoIdentity>,
}

struct Story {
    repo: Repo,
    ids: BTreeMap<String, Identity>,
    rng: Rng,
    now: DateTime<Utc>,
    commits: usize,
}

impl Story {
    fn id(&mut self, prefix: &str) -> String {
        const A: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let r = self.rng.next();
        let suffix: String = (0..10).map(|i| A[((r >> (5 * i)) & 31) as usize] as char).collect();
        format!("{prefix}-{}-{suffix}", self.now.format("%Y%m%d"))
    }

    fn at(&mut self, t: DateTime<Utc>) {
        self.now = self.now.max(t);
    }

    /// Runs one procedure as `who` at the story's time.
    fn run<P: Procedure>(&mut self, who: &str, input: &P::Input) -> Result<crate::engine::Effect> {
        std::env::set_var("IMS_NOW", self.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let identity = self.ids.get(who).ok_or_else(|| Error::internal(format!("demo: no identity {who}")))?;
        let outcome = run::run::<P>(&self.repo, identity, input)?;
        self.commits += 1;
        Ok(outcome.effect)
    }
}

fn private_key_for(seed: u64, email: &str) -> ssh_key::PrivateKey {
    let digest = Sha256::digest(format!("ims-demo/{seed}/{email}").as_bytes());
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&digest);
    let keypair = ssh_key::private::Ed25519Keypair::from_seed(&bytes);
    ssh_key::PrivateKey::new(ssh_key::private::KeypairData::Ed25519(keypair), email).expect("an ed25519 key")
}

fn key_for(seed: u64, email: &str) -> Signer {
    Signer::File(Box::new(private_key_for(seed, email)))
}

/// One demo person you can act as: `IMS_ACTOR` and `IMS_SIGNING_KEY`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoIdentity {
    pub role: Role,
    pub email: String,
    pub name: String,
    /// The private key in `.git/ims/demo-keys/` (demo only).
    pub key: PathBuf,
}

impl DemoIdentity {
    /// The line to paste into a shell.
    pub fn export_line(&self) -> String {
        format!(
            "export IMS_ACTOR={} IMS_SIGNING_KEY={}",
            shell_word(&self.email),
            shell_word(&self.key.to_string_lossy())
        )
    }
}

/// A word as a POSIX shell reads it: bare when it is plain, else single-quoted.
fn shell_word(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b)) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

const DEMO_KEYS_README: &str = "\
DEMO ONLY. These are the private keys of the people of the `ims demo` sample
organisation, derived from the demo's seed so that anyone can make the same demo:
they protect nothing. They are here so that you can act as a demo person:

    export IMS_ACTOR=lou.two@northwind.example IMS_SIGNING_KEY=$PWD/.git/ims/demo-keys/lou.two

Never register one of these keys in a real records repository, and never copy this
folder into one.
";

/// Writes every demo person's private key into `.git/ims/demo-keys/` (outside the
/// history, beside a README saying they are for the demo only); one identity per role.
fn write_demo_keys(repo: &Repo, org: &Organisation, seed: u64) -> Result<Vec<DemoIdentity>> {
    let dir = repo.git.path().join("ims").join("demo-keys");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("README"), DEMO_KEYS_README)?;
    let mut identities: Vec<DemoIdentity> = Vec::new();
    for p in org.people.iter().filter(|p| p.roles != [Role::EndUser]) {
        let key = private_key_for(seed, &p.email);
        let local = p.email.split('@').next().unwrap_or(&p.email);
        let path = dir.join(local);
        let text = key.to_openssh(ssh_key::LineEnding::LF).map_err(|e| Error::internal(format!("demo key: {e}")))?;
        write_private(&path, text.as_bytes())?;
        let public = key.public_key().to_openssh().map_err(|e| Error::internal(format!("demo key: {e}")))?;
        std::fs::write(path.with_extension("pub"), format!("{public}\n"))?;
        for role in &p.roles {
            if !identities.iter().any(|i| i.role == *role) {
                identities.push(DemoIdentity {
                    role: *role,
                    email: p.email.clone(),
                    name: p.name.clone(),
                    key: path.clone(),
                });
            }
        }
    }
    Ok(identities)
}

/// A private key file readable by its owner alone (as ssh-keygen writes them).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)?;
    Ok(())
}

fn key_line(signer: &Signer) -> Result<String> {
    Ok(crate::signing::key_line(&signer.public_key())?)
}

/// Builds the demo repository at `path` and its site.
pub fn demo(path: &Path, seed: u64, days: u32, progress: &dyn Fn(&str)) -> Result<Summary> {
    let org: Organisation = crate::yaml::from_str(ORGANISATION, "records/organisation.yaml")?;
    let start = Utc.with_ymd_and_hms(2026, 8, 3, 7, 0, 0).single().expect("a date");
    let manager = &org.people[0];
    std::env::set_var("IMS_NOW", start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let first = key_for(seed, &manager.email);
    let input = InitV2Input::new(
        org.organization.clone(),
        manager.email.clone(),
        manager.name.clone(),
        key_line(&first)?,
        crate::model::config::Clock::Simulated,
    );
    let (repo, outcome) = run::init(path, &input, &first)?;
    let trust_root = outcome.commit.to_string();
    let mut ids = BTreeMap::new();
    for p in &org.people {
        if p.roles != [Role::EndUser] {
            ids.insert(p.email.clone(), Identity { actor: p.email.clone(), signer: key_for(seed, &p.email) });
        }
    }
    let mut s = Story { repo, ids, rng: Rng(seed), now: start, commits: 1 };
    let im = manager.email.clone();
    let who =
        |role: Role| org.people.iter().find(|p| p.roles.contains(&role)).map(|p| p.email.clone()).unwrap_or_default();
    let (desk, sdm, l1, l2, l3, devops, cm, auto) = (
        who(Role::ServiceDesk),
        who(Role::ServiceDeskManager),
        who(Role::L1),
        who(Role::L2),
        who(Role::L3),
        who(Role::Devops),
        who(Role::ChangeMgmt),
        who(Role::Automation),
    );
    let im2 = org
        .people
        .iter()
        .filter(|p| p.roles.contains(&Role::IncidentManager))
        .nth(1)
        .map(|p| p.email.clone())
        .unwrap_or_default();

    // Settings, then people (the second incident manager last: after that, changes
    // to people and settings would wait for a second approval).
    let cal = serde_json::to_value(&org.calendar)?;
    for (key, value) in [
        ("services", serde_json::to_value(&org.services)?),
        ("timezone", serde_json::json!(org.timezone)),
        ("sla.calendars.business", cal),
        (
            "sla.service_calendars",
            serde_json::to_value(
                org.business_services.iter().map(|s| (s.clone(), "business")).collect::<BTreeMap<_, _>>(),
            )?,
        ),
        ("sla.severity_factors.high", serde_json::json!(0.5)),
    ] {
        let pid = s.id("PRP");
        s.run::<ConfigSet>(&im, &ConfigSetInput { key: key.into(), value, proposal_id: pid })?;
    }
    for p in org.people.iter().skip(1).filter(|p| p.email != im2).chain(org.people.iter().filter(|p| p.email == im2)) {
        let key = if p.roles == [Role::EndUser] { None } else { Some(key_line(&key_for(seed, &p.email))?) };
        let pid = s.id("PRP");
        s.run::<PersonAdd>(
            &im,
            &PersonAddInput {
                email: p.email.clone(),
                name: p.name.clone(),
                roles: p.roles.clone(),
                teams: p.teams.clone(),
                key,
                proposal_id: pid,
            },
        )?;
    }
    progress(&format!("people and settings in place; living {days} days"));

    // The story: incidents through the day, every day, for 90 days.
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut seen_fault: BTreeMap<usize, usize> = BTreeMap::new();
    let mut problems: BTreeMap<usize, (String, Option<String>, DateTime<Utc>)> = BTreeMap::new();
    let (mut incidents, mut changes) = (0, 0);
    for day in 0..i64::from(days) {
        let morning = start + Duration::days(day) + Duration::hours(1);
        let count = 4 + s.rng.below(5) as usize;
        for n in 0..count {
            let t0 = morning + Duration::minutes((n as i64) * 90 + s.rng.below(60) as i64);
            s.at(t0);
            let f = s.rng.below(org.faults.len() as u64) as usize;
            let fault = &org.faults[f];
            let id = s.id("INC");
            let monitored = s.rng.chance(30);
            s.run::<inc::identify::Identify>(
                if monitored { &auto } else { &desk },
                &inc::identify::Input {
                    id: id.clone(),
                    title: fault.title.clone(),
                    service: fault.service.clone(),
                    source: if monitored { Source::MonitoringTool } else { Source::UserReport },
                    reporter: (!monitored).then(|| "eve.user@northwind.example".to_string()),
                    description: Some(format!("Reported on day {} of the story.", day + 1)),
                },
            )?;
            incidents += 1;
            s.run::<inc::categorize::Categorize>(
                &desk,
                &inc::categorize::Input { id: id.clone(), category: fault.category, subcategory: None },
            )?;
            let level = match s.rng.below(10) {
                0 | 1 => Level::High,
                2..=5 => Level::Medium,
                _ => Level::Low,
            };
            let com = s.id("COM");
            let justification = format!("{} users affected", 10 + s.rng.below(500));
            s.run::<inc::prioritize::Prioritize>(
                &l1,
                &inc::prioritize::Input {
                    id: id.clone(),
                    priority: Some(level),
                    severity: Some(level),
                    impact: None,
                    urgency: None,
                    justification,
                    communication_id: com,
                },
            )?;
            // Acknowledged within minutes, sometimes late (an SLA breach).
            let ack = t0
                + Duration::minutes(if s.rng.chance(15) {
                    45 + s.rng.below(120) as i64
                } else {
                    3 + s.rng.below(10) as i64
                });
            s.at(ack);
            let com = s.id("COM");
            s.run::<inc::assign::Assign>(
                &desk,
                &inc::assign::Input {
                    id: id.clone(),
                    team: Team::L2,
                    assignee: Some(l2.clone()),
                    message: None,
                    communication_id: com,
                },
            )?;
            open.push((id.clone(), f));
            *seen_fault.entry(f).or_default() += 1;
            // A recurring fault becomes a problem, then a known error with a workaround article.
            if seen_fault[&f] == 3 && !problems.contains_key(&f) {
                let pid = s.id("PRB");
                s.run::<problem::create::Create>(
                    &l2,
                    &problem::create::Input {
                        id: pid.clone(),
                        title: fault.title.clone(),
                        description: format!("{} keeps recurring on {}", fault.title, fault.service),
                        source: crate::model::problem::ProblemSource::IncidentTrend,
                        service: Some(fault.service.clone()),
                        incidents: vec![id.clone()],
                    },
                )?;
                let kb_id = s.id("KB");
                s.run::<problem::workaround::Workaround>(
                    &l2,
                    &problem::workaround::Input {
                        id: pid.clone(),
                        workaround: format!("Restart the {} service in turn, then confirm", fault.service),
                        kb_id: kb_id.clone(),
                    },
                )?;
                s.run::<kb::publish::Publish>(&im, &kb::publish::Input { id: kb_id.clone() })?;
                problems.insert(f, (pid, Some(kb_id), t0));
            }
        }
        // Work through the open incidents: escalate some, engage vendors, resolve, close.
        let evening = morning + Duration::hours(9);
        let mut still = Vec::new();
        for (id, f) in std::mem::take(&mut open) {
            let jitter = s.rng.below(30) as i64;
            s.at(evening + Duration::minutes(jitter));
            let current: crate::model::Incident =
                crate::model::record(&s.repo.snapshot(s.repo.tip()?)?, &crate::ids::RecordId::parse(&id, "id")?)?;
            if s.rng.chance(20)
                && current.assigned_team.as_deref() != Some("L3")
                && current.status != crate::model::enums::Status::PendingVendor
            {
                let com = s.id("COM");
                s.run::<inc::escalate::Escalate>(
                    &l2,
                    &inc::escalate::Input {
                        id: id.clone(),
                        to: EscalationTarget::L3,
                        reason: "needs deeper analysis".into(),
                        communication_id: com,
                    },
                )?;
            }
            if s.rng.chance(8) {
                let ven = s.id("VEN");
                let vendor_ref = Some(format!("AC-{}", s.rng.below(99999)));
                s.run::<inc::vendor::Vendor>(
                    &l3,
                    &inc::vendor::Input {
                        id: id.clone(),
                        vendor: "Acme Hosting".into(),
                        contact_method: ContactMethod::VendorPortal,
                        vendor_ref,
                        vendor_engagement_id: ven,
                    },
                )?;
                s.at(s.now + Duration::hours(2));
                s.run::<inc::resume::Resume>(
                    &l3,
                    &inc::resume::Input { id: id.clone(), summary: "vendor applied a fix".into() },
                )?;
            }
            if s.rng.chance(25) {
                still.push((id, f));
                continue;
            }
            let known = problems.get(&f).cloned();
            s.run::<inc::resolve::Resolve>(
                &l2,
                &inc::resolve::Input {
                    id: id.clone(),
                    summary: "service restored".into(),
                    fix_applied: true,
                    service_restored: true,
                    code: Some("restart".into()),
                    kb: known.as_ref().and_then(|k| k.1.clone()),
                    problem: known.map(|k| k.0),
                    altered_production: false,
                },
            )?;
            let record: crate::model::Incident =
                crate::model::record(&s.repo.snapshot(s.repo.tip()?)?, &crate::ids::RecordId::parse(&id, "id")?)?;
            let closer = if record.priority == Some(Level::High) { &sdm } else { &desk };
            s.run::<inc::close::Close>(
                closer,
                &inc::close::Input { id: id.clone(), notes: "confirmed with the reporter".into() },
            )?;
            if s.rng.chance(40) {
                let score = 2 + s.rng.below(4) as u8;
                s.run::<inc::feedback::GiveFeedback>(
                    &desk,
                    &inc::feedback::Input { id: id.clone(), score, comment: None },
                )?;
            }
            if record.priority == Some(Level::High) && s.rng.chance(70) {
                s.run::<inc::review::Review>(
                    &im,
                    &inc::review::Input {
                        id: id.clone(),
                        timeline: "Reported, acknowledged, escalated where needed, resolved the same day.".into(),
                        factors: format!("{} under load", org.faults[f].service),
                        residual_risk: None,
                        actions: vec![inc::review::ActionInput {
                            action: "Add an alert for this failure".into(),
                            owner: Some(devops.clone()),
                            due: Some((s.now + Duration::days(14)).format("%Y-%m-%d").to_string()),
                        }],
                        kb: vec![],
                    },
                )?;
            }
        }
        open = still;
        // The automation identity escalates SLA breaches of what is still open, once each.
        s.at(evening + Duration::hours(2));
        std::env::set_var("IMS_NOW", s.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let snap = s.repo.snapshot(s.repo.tip()?)?;
        let config = crate::model::config(&snap)?;
        let mut breaches = Vec::new();
        for (id, _) in &open {
            let record: crate::model::Incident = crate::model::record(&snap, &crate::ids::RecordId::parse(id, "id")?)?;
            for c in crate::sla::clocks(&record, s.now, config.sla.warning_threshold)? {
                let key = inc::sla_escalate::breach_key(id, c.clock, c.since.as_deref());
                if c.state == crate::sla::ClockState::Breached
                    && crate::model::keys::holder(&snap, inc::sla_escalate::KEYS, &key)?.is_none()
                {
                    breaches.push((id.clone(), c.clock));
                }
            }
        }
        drop(snap);
        for (id, clock) in breaches {
            let com = s.id("COM");
            match s.run::<inc::sla_escalate::SlaEscalate>(
                &auto,
                &inc::sla_escalate::Input { id, clock: clock.into(), communication_id: com },
            ) {
                Ok(_) => {}
                Err(e) if matches!(e.kind, crate::error::Kind::Conflict | crate::error::Kind::Precondition) => {}
                Err(e) => return Err(e),
            }
        }
        // Every two weeks a known error gets its permanent fix through a change.
        if day % 14 == 13 {
            if let Some((&f, (pid, _, _))) = problems.iter().find(|(_, (_, _, t))| *t < s.now) {
                let pid = pid.clone();
                let chg = s.id("CHG");
                s.run::<change::request::Request>(
                    &l2,
                    &change::request::Input {
                        id: chg.clone(),
                        summary: format!("Permanent fix for {}", org.faults[f].title),
                        kind: crate::model::change::ChangeType::Normal,
                        risk: Level::Medium,
                        incidents: vec![],
                        problems: vec![pid.clone()],
                    },
                )?;
                s.run::<change::approve::Approve>(&cm, &change::approve::Input { id: chg.clone(), note: None })?;
                s.run::<change::implement::Implement>(&devops, &change::implement::Input { id: chg.clone() })?;
                let failed = s.rng.chance(30);
                let outcome = if failed {
                    crate::model::change::Outcome::Failed
                } else {
                    crate::model::change::Outcome::Successful
                };
                s.run::<change::review::Review>(&cm, &change::review::Input { id: chg, outcome, note: None })?;
                changes += 1;
                if !failed {
                    s.run::<problem::resolve::Resolve>(
                        &l2,
                        &problem::resolve::Input { id: pid.clone(), evidence: "no recurrence since the change".into() },
                    )?;
                    problems.remove(&f);
                }
            }
        }
        if day % 30 == 29 {
            progress(&format!("day {}: {incidents} incidents, {} commits", day + 1, s.commits));
        }
    }
    let _ = (l3.as_str(), &im2);
    // Packed as it went (crate::upkeep after each commit); once more at the end, so the
    // demo is handed over with nothing loose.
    progress("packing the repository");
    crate::upkeep::gc(s.repo.git.path(), false)?;
    use crate::site::Audience;
    let site = Audience::Internal.default_out(path);
    std::env::set_var("IMS_NOW", s.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let now = crate::run::procedure_now(&s.repo)?;
    crate::site::build(&s.repo, &site, Audience::Internal, now)?;
    crate::site::build(&s.repo, &Audience::Public.default_out(path), Audience::Public, now)?;
    // Keep the generated sites out of `git status`.
    let exclude = s.repo.git.path().join("info").join("exclude");
    std::fs::create_dir_all(exclude.parent().expect("info"))?;
    std::fs::write(&exclude, "/site/\n/site-public/\n")?;
    let identities = write_demo_keys(&s.repo, &org, seed)?;
    Ok(Summary {
        path: path.to_path_buf(),
        site,
        commits: s.commits,
        incidents,
        problems: seen_fault.len(),
        changes,
        trust_root,
        identities,
    })
}
