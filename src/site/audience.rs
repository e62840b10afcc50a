//! Who may see a record: one decision, [`is_public`], for every page, index, feed, chart
//! and count of the public site (and anything else that publishes, such as a status page).
//!
//! A record is public only when its own state allows it **and** every incident it touches
//! may be public, following links: a problem whose incidents are all security incidents is
//! as secret as they are, and so are its workaround article and the changes made for it.
//! Free text shown publicly goes through [`public_text`]: a field holding an email address,
//! a phone number or a registered person's name is withheld whole, never mangled.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use crate::error::Result;
use crate::ids::RecordKind;
use crate::model::change::{Change, ChangeStatus};
use crate::model::enums::{Category, Recipients};
use crate::model::incident::Communication;
use crate::model::kb::{Article, ArticleStatus};
use crate::model::person::Person;
use crate::model::pir::Review;
use crate::model::problem::{Problem, ProblemStatus};
use crate::model::{self, Incident, Snapshot};

/// What the public site shows in place of a field it withholds.
pub const WITHHELD: &str = "(withheld from the public site)";

/// A record (or part of one) whose publicity is decided.
#[derive(Debug, Clone, Copy)]
pub enum Record<'a> {
    Incident(&'a Incident),
    Problem(&'a Problem),
    Change(&'a Change),
    Kb(&'a Article),
    Pir(&'a Review),
    Communication(&'a Communication),
}

/// What an incident contributes to the decisions about the records linked to it.
#[derive(Debug, Clone, Copy)]
struct IncidentFacts {
    public: bool,
    done: bool,
}

/// What [`is_public`] needs besides the record: which incidents may be public, the links
/// between problems, changes and articles, and the names of registered people.
#[derive(Debug, Default)]
pub struct Links {
    incidents: HashMap<String, IncidentFacts>,
    /// Problem or change id → the incidents, problems and changes it links to.
    edges: HashMap<String, Vec<String>>,
    /// Article id → the incidents whose post-incident reviews link to it.
    reviewed: HashMap<String, Vec<String>>,
    names: Names,
}

/// The registered people's names as patterns, a few hundred names a pattern: one pattern
/// of thousands of names goes over the regex crate's compiled-size limit. A pattern that
/// still fails to build makes every text personal data (the screen fails closed).
#[derive(Debug, Default, Clone)]
enum Names {
    #[default]
    None,
    Patterns(Vec<Regex>),
    Unbuildable,
}

impl Links {
    /// The links of a repository: every problem, change, article and review, the
    /// incidents they name (read by id, not all incidents), and the people.
    pub fn load(
        snap: &dyn Snapshot,
        problems: &[Problem],
        changes: &[Change],
        articles: &[Article],
        reviews: &[Review],
        people: &[Person],
    ) -> Result<Links> {
        let mut links = Links::default();
        for p in problems {
            links.edges.insert(p.problem_id.clone(), p.incident_ids.iter().chain(&p.change_ids).cloned().collect());
        }
        for c in changes {
            links.edges.insert(c.change_id.clone(), c.incident_ids.iter().chain(&c.problem_ids).cloned().collect());
        }
        for r in reviews {
            for kb in &r.kb_ids {
                links.reviewed.entry(kb.clone()).or_default().push(r.incident_id.clone());
            }
        }
        let named: HashSet<&String> = problems
            .iter()
            .flat_map(|p| &p.incident_ids)
            .chain(changes.iter().flat_map(|c| &c.incident_ids))
            .chain(articles.iter().flat_map(|a| &a.incident_ids))
            .chain(reviews.iter().map(|r| &r.incident_id))
            .collect();
        for id in named {
            let path = crate::ids::record_path(RecordKind::Incident, id);
            if let Some(i) = model::load::<Incident>(snap, &path)? {
                links.incident(&i);
            }
        }
        links.people(people);
        Ok(links)
    }

    /// Adds what an incident contributes.
    pub fn incident(&mut self, i: &Incident) {
        let facts = IncidentFacts { public: incident_may_be_public(i), done: i.status.is_done() };
        self.incidents.insert(i.incident_id.clone(), facts);
    }

    /// The names whose mention withholds a field: each registered person's full name, in
    /// the order given and as "Surname, Given" (`Lovelace, Ada`; also without the comma),
    /// and the local part of their email when it is a personal handle (see
    /// [`personal_handle`]), which people type for a colleague (`ada.lovelace`).
    pub fn people(&mut self, people: &[Person]) {
        let joined = |words: &[&str]| words.iter().map(|w| regex::escape(w)).collect::<Vec<_>>().join(r"\s+");
        let mut names: Vec<String> = Vec::new();
        for p in people {
            let words: Vec<&str> = p.name.split_whitespace().collect();
            // Two characters make a name in the scripts written without spaces (王伟).
            let least = if words.concat().chars().any(unspaced_script) { 2 } else { 3 };
            if words.concat().chars().count() >= least {
                names.push(bounded(&joined(&words), &p.name));
                if let Some((last, given)) = words.split_last().filter(|(_, given)| !given.is_empty()) {
                    let reversed = format!(r"{},?\s+{}", regex::escape(last.trim_end_matches(',')), joined(given));
                    names.push(bounded(&reversed, &format!("{last} {}", given.join(" "))));
                }
            }
            if let Some(handle) = personal_handle(&p.email) {
                names.push(bounded(&regex::escape(&handle), &handle));
            }
        }
        names.sort();
        names.dedup();
        const PER_PATTERN: usize = 256;
        self.names = if names.is_empty() {
            Names::None
        } else {
            names
                .chunks(PER_PATTERN)
                .map(|part| Regex::new(&format!("(?i){}", part.join("|"))))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_or(Names::Unbuildable, Names::Patterns)
        };
    }

    /// A digest of everything these links decide, for render keys of cached pages.
    pub fn digest(&self) -> String {
        let mut facts: Vec<String> =
            self.incidents.iter().map(|(id, f)| format!("{id}:{}:{}", f.public, f.done)).collect();
        facts.sort();
        let mut edges: Vec<String> = self.edges.iter().map(|(id, to)| format!("{id}>{}", to.join(","))).collect();
        edges.sort();
        let mut reviewed: Vec<String> = self.reviewed.iter().map(|(id, to)| format!("{id}<{}", to.join(","))).collect();
        reviewed.sort();
        let names = match &self.names {
            Names::None => String::new(),
            Names::Patterns(p) => p.iter().map(Regex::as_str).collect::<Vec<_>>().join("\n"),
            Names::Unbuildable => "unbuildable".into(),
        };
        super::incidents::render_key(&[&facts.join(" "), &edges.join(" "), &reviewed.join(" "), &names])
    }

    /// Whether every incident reachable from `start` (through problems and changes) may be
    /// public. A link to a record that does not exist counts as not public.
    fn all_incidents_public<'a>(&self, start: impl IntoIterator<Item = &'a String>) -> bool {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut todo: Vec<&str> = start.into_iter().map(String::as_str).collect();
        while let Some(id) = todo.pop() {
            if !seen.insert(id) {
                continue;
            }
            if id.starts_with("INC-") {
                if !self.incidents.get(id).is_some_and(|f| f.public) {
                    return false;
                }
            } else {
                match self.edges.get(id) {
                    Some(to) => todo.extend(to.iter().map(String::as_str)),
                    None => return false,
                }
            }
        }
        true
    }
}

/// The incident rule: everything but security incidents.
fn incident_may_be_public(i: &Incident) -> bool {
    i.category != Some(Category::Security)
}

/// Whether `record` may be shown to the public. The one place this is decided.
pub fn is_public(record: Record, links: &Links) -> bool {
    match record {
        Record::Incident(i) => incident_may_be_public(i),
        Record::Problem(p) => {
            matches!(p.status, ProblemStatus::KnownError | ProblemStatus::Resolved | ProblemStatus::Closed)
                && links.all_incidents_public(p.incident_ids.iter().chain(&p.change_ids))
        }
        Record::Change(c) => {
            matches!(c.status, ChangeStatus::Implemented | ChangeStatus::Reviewed | ChangeStatus::Closed)
                && links.all_incidents_public(c.incident_ids.iter().chain(&c.problem_ids))
        }
        Record::Kb(a) => {
            a.status == ArticleStatus::Published
                && links.all_incidents_public(
                    a.incident_ids
                        .iter()
                        .chain(&a.problem_ids)
                        .chain(&a.change_ids)
                        .chain(links.reviewed.get(&a.kb_id).into_iter().flatten()),
                )
        }
        Record::Pir(r) => links.incidents.get(&r.incident_id).is_some_and(|f| f.public && f.done),
        Record::Communication(c) => c.recipients == Recipients::EndUsers,
    }
}

/// `text` when it may be shown publicly, else [`WITHHELD`].
pub fn public_text<'s>(text: &'s str, links: &Links) -> &'s str {
    if personal_data(text, links) {
        WITHHELD
    } else {
        text
    }
}

fn email() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+").expect("a valid pattern"))
}

fn phone() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?:\+|\(\d|\d)[\d \t().\-/]{5,}\d").expect("a valid pattern"))
}

/// A date or an IPv4 address at the start (a time may follow it), or a whole
/// thousands-grouped count: `555 867 5309` starts like the count `555 867` but is not one.
fn date_like() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?:(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,3}(?:\.\d{1,3}){3})(?:[ \t]|$)|\d{1,3}(?:[ .,]\d{3})+[ \t]*$)")
            .expect("a valid pattern")
    })
}

/// Whether a phone-number-looking run of digits is one: 7 to 15 digits, not glued to
/// letters (record ids), and not a date, a thousands-grouped count or an IPv4 address.
fn is_phone(text: &str, m: regex::Match) -> bool {
    let before = text[..m.start()].chars().next_back();
    let rest = &text[m.end()..];
    // An extension (`555-867-5309x12`, `ext. 12`) is the one letter a number may touch.
    let extension = {
        let lower = rest.to_lowercase();
        let tail = lower.strip_prefix("ext.").or_else(|| lower.strip_prefix("ext")).or_else(|| lower.strip_prefix('x'));
        tail.is_some_and(|t| t.trim_start().starts_with(|c: char| c.is_ascii_digit()))
    };
    if before.is_some_and(|c| c.is_alphanumeric() || "-_/.".contains(c))
        || (rest.chars().next().is_some_and(char::is_alphanumeric) && !extension)
    {
        return false;
    }
    one_phone(m.as_str())
}

/// Whether a run of digits and separators, on its own, is a phone number; several joined
/// by `/` (`555-867-5309 / 555-867-5310`) are judged one by one.
fn one_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if digits > 15 && s.contains('/') {
        return s.split('/').map(str::trim).any(one_phone);
    }
    if !(7..=15).contains(&digits) {
        return false;
    }
    if s.starts_with('+') {
        return true;
    }
    let separated = s.chars().any(|c| !c.is_ascii_digit());
    if !separated {
        return digits >= 9;
    }
    !date_like().is_match(s.trim_start_matches('('))
}

/// The local part of `email` (without a `+tag`) when it names one person rather than a
/// role: it joins two parts with `.`, `_` or `-` (`ada.lovelace`, `a_lovelace`) and is not
/// a role address (`no-reply`, `on-call`). A bare word (`ada`, `ops`, `admin`) is not
/// taken: it is too often an ordinary word to withhold every text that uses it.
fn personal_handle(email: &str) -> Option<String> {
    const ROLES: &[&str] = &["no-reply", "no_reply", "do-not-reply", "on-call", "on_call", "help-desk", "service-desk"];
    let local = email.split('@').next()?.to_lowercase();
    let local = local.split('+').next().unwrap_or_default();
    let parts: Vec<&str> = local.split(['.', '_', '-']).collect();
    let personal = parts.len() >= 2 && parts.iter().all(|p| !p.is_empty()) && local.chars().count() >= 5;
    (personal && !ROLES.contains(&local)).then(|| local.to_string())
}

/// Whether `text` holds an email address, a phone number or a registered person's name,
/// as written or once invisible characters are dropped and full-width forms read as
/// ASCII (`Love\u{ad}lace`, `ada\u{200b}@example.com`, `ada＠example.com`).
pub fn personal_data(text: &str, links: &Links) -> bool {
    let holds = |t: &str| {
        email().is_match(t)
            || phone().find_iter(t).any(|m| is_phone(t, m))
            || match &links.names {
                Names::None => false,
                Names::Patterns(p) => p.iter().any(|n| n.is_match(t)),
                Names::Unbuildable => true,
            }
    };
    holds(text) || holds(&plain(text))
}

/// `text` without invisible characters (soft hyphen, zero-width space, joiners, word
/// joiner, byte-order mark) and with full-width ASCII forms as ASCII.
fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}'))
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect()
}

/// Letters of the scripts written without spaces between words (Han, kana, Hangul, Thai):
/// no word boundary can be asked for around a name in them.
fn unspaced_script(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xf900..=0xfaff | 0xac00..=0xd7af | 0x0e00..=0x0e7f | 0x20000..=0x2fa1f)
}

/// `pattern` with a word boundary at each end that is a word character of a spaced
/// script: `Grace Hopper Jr.` ends in a full stop, after which no boundary follows a
/// space, and `山田太郎` sits inside running text with none at all.
fn bounded(pattern: &str, name: &str) -> String {
    let edge = |c: Option<char>| c.is_some_and(|c| (c.is_alphanumeric() || c == '_') && !unspaced_script(c));
    let trimmed = name.trim();
    let (start, end) = (edge(trimmed.chars().next()), edge(trimmed.chars().next_back()));
    format!("{}(?:{pattern}){}", if start { r"\b" } else { "" }, if end { r"\b" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(names: &[&str]) -> Links {
        with_emails(&names.iter().map(|n| (*n, "x@example.com")).collect::<Vec<_>>())
    }

    fn with_emails(people: &[(&str, &str)]) -> Links {
        let mut l = Links::default();
        let people: Vec<Person> = people
            .iter()
            .map(|(n, e)| Person {
                schema: "person/1".into(),
                email: (*e).into(),
                name: (*n).into(),
                roles: vec![],
                teams: vec![],
                keys: vec![],
                revoked: false,
                revoked_at: None,
                revoked_reason: None,
                compromised_since: None,
                created_at: chrono::Utc::now(),
                updated_at: chrono::Utc::now(),
            })
            .collect();
        l.people(&people);
        l
    }

    /// The findings of the attack review of 2026-11-30 (issue 17), each a text the public
    /// site showed.
    #[test]
    fn the_attack_reviews_texts_are_withheld_and_ordinary_ones_are_not() {
        let l = people(&["Ada Lovelace", "山田太郎", "王伟", "Grace Hopper Jr."]);
        for text in [
            "Call 555 867 5309 for help",
            "Call 020 123 4567 (Amsterdam desk)",
            "Call 555-867-5309 / 555-867-5310",
            "Call 555-867-5309x12",
            "Call 555-867-5309 ext. 12",
            "Call 1 800 555 1234",
            "担当は山田太郎です",
            "王伟 正在处理",
            "Grace Hopper Jr. is on it",
            "Ada Love\u{ad}lace is on it",
            "Ada Love\u{200d}lace is on it",
            "Questions? mail ada\u{200b}@example.com",
            "Write to ada＠example.com",
        ] {
            assert!(personal_data(text, &l), "{text}");
        }
        for text in ["1 234 567 requests", "since 2026-11-27 10:00 UTC", "Checkout is slow", "担当は開発チームです"]
        {
            assert!(!personal_data(text, &l), "{text}");
        }
    }

    /// One pattern of a few thousand names went over the regex crate's size limit, and the
    /// screen then let every name through.
    #[test]
    fn thousands_of_registered_people_are_all_screened() {
        let names: Vec<String> = (0..3000).map(|i| format!("Given{i} Surname{i}")).collect();
        let mut refs: Vec<&str> = names.iter().map(String::as_str).collect();
        refs.push("Ada Lovelace");
        let l = people(&refs);
        assert!(matches!(&l.names, Names::Patterns(p) if p.len() > 1));
        assert!(personal_data("Ada Lovelace will call you back", &l));
        assert!(personal_data("ask given2999 SURNAME2999", &l));
        assert!(!personal_data("Checkout is slow", &l));
        // A screen that cannot be built withholds everything.
        let closed = Links { names: Names::Unbuildable, ..Links::default() };
        assert!(personal_data("Checkout is slow", &closed));
    }

    #[test]
    fn emails_phones_and_names_are_found_and_ids_dates_and_counts_are_not() {
        let l = people(&["Ada Lovelace", "Bo"]);
        for text in [
            "write to ops@example.com",
            "call +44 20 7946 0958",
            "call 555-867-5309 now",
            "call (555) 867-5309",
            "ring 020 7946 0958",
            "ring 4915112345678",
            "ask ada  LOVELACE about it",
        ] {
            assert!(personal_data(text, &l), "{text}");
        }
        for text in [
            "INC-20261126-6W5AF0GX7W is linked",
            "since 2026-11-27 10:00 UTC",
            "on 27.11.2026 at noon",
            "1 000 000 requests, pool of 20",
            "host 192.168.100.200 down",
            "version 1.2.3, build 20260101",
            "Bo is too short a name to withhold; Adalovelace is someone else",
            "Checkout is slow",
        ] {
            assert!(!personal_data(text, &l), "{text}");
        }
        assert_eq!(public_text("mail bob@example.org", &l), WITHHELD);
        assert_eq!(public_text("Checkout is slow", &l), "Checkout is slow");
    }

    #[test]
    fn surname_first_and_personal_email_handles_are_names_too() {
        let l = with_emails(&[
            ("Ada Lovelace", "ada.lovelace@example.com"),
            ("Grace Brewster Hopper", "g_hopper+ims@example.com"),
            ("Ops Team", "ops@example.com"),
            ("Alan Turing", "no-reply@example.com"),
        ]);
        for text in [
            "escalated to Lovelace, Ada",
            "per LOVELACE Ada in the call",
            "Hopper, Grace Brewster approved",
            "ask ada.lovelace on chat",
            "ping @ada.lovelace",
            "g_hopper reviewed the fix",
            // A host holding the handle as a whole dotted word: withheld too (safe side).
            "ada.lovelace.example is a host in the test zone",
        ] {
            assert!(personal_data(text, &l), "{text}");
        }
        for text in [
            "Lovelace-class ships",
            "ask ops about it",
            "no-reply mails bounced",
            "the hopper queue drained",
            "Ada is a language",
        ] {
            assert!(!personal_data(text, &l), "{text}");
        }
        assert_eq!(personal_handle("Ada.Lovelace+x@example.com").as_deref(), Some("ada.lovelace"));
        assert_eq!(personal_handle("ada@example.com"), None);
        assert_eq!(personal_handle("a.b@example.com"), None, "too short to be sure");
        assert_eq!(personal_handle("on-call@example.com"), None);
        assert_eq!(personal_handle(".x@example.com"), None);
    }

    #[test]
    fn a_problem_is_as_public_as_every_incident_it_reaches() {
        let mut l = Links::default();
        l.incidents.insert("INC-1".into(), IncidentFacts { public: true, done: true });
        l.incidents.insert("INC-2".into(), IncidentFacts { public: false, done: true });
        l.edges.insert("PRB-1".into(), vec!["INC-1".into()]);
        l.edges.insert("PRB-2".into(), vec!["INC-2".into()]);
        l.edges.insert("CHG-1".into(), vec!["PRB-1".into(), "PRB-2".into()]);
        assert!(l.all_incidents_public([&"PRB-1".to_string()]));
        assert!(!l.all_incidents_public([&"PRB-2".to_string()]));
        assert!(!l.all_incidents_public([&"CHG-1".to_string()]), "through the change");
        assert!(!l.all_incidents_public([&"INC-404".to_string()]), "unknown counts as not public");
        assert!(!l.all_incidents_public([&"PRB-404".to_string()]));
    }
}
