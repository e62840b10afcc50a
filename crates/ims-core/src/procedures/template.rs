//! `template.set/1` and `template.remove/1`: the site template overrides under
//! `templates/`, governed like settings.
//!
//! Policy: what the site shows is part of what the organisation publishes, so only an
//! incident manager changes a template, and once there are two incident managers a
//! second one approves it (a proposal). The template is named by git blob id in the input
//! (like an import's archive) and written by the commit, so `ims verify` replays it;
//! while it waits as a proposal, its bytes are kept at
//! `records/template-proposals/<proposal id>.html`, so every clone can approve it.
//!
//! Policy steps: 1. only an incident manager (a proposal once there are two, see
//! [`crate::procedures::proposal`]); 2. a built-in template name; 3. for `set`, the
//! blob, its size and its text, for `remove`, an override to remove.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::model::enums::AuditAction;
use crate::procedures::proposal::{govern, Governed};

/// The largest template accepted.
pub const MAX_TEMPLATE_BYTES: usize = 256 * 1024;

/// Where an override of the built-in template `name` lives.
pub fn path(name: &str) -> String {
    format!("templates/{name}")
}

/// Where a proposed template waits for approval.
pub fn proposal_path(proposal_id: &str) -> String {
    format!("records/template-proposals/{proposal_id}.html")
}

/// The built-in site templates: the only names an override may take. The site holds
/// their text (a test there keeps the two lists the same).
pub const NAMES: &[&str] = &[
    "base.html",
    "index.html",
    "incidents.html",
    "incident.html",
    "list.html",
    "article.html",
    "report.html",
    "status.html",
    "record.html",
    "auditlog.html",
    "search.html",
    // The email `ims deliver` sends: plain text and HTML parts.
    "email.txt",
    "email.html",
];

fn check_name(name: &str) -> Result<()> {
    if !NAMES.contains(&name) {
        return Err(Error::invalid(format!(
            "template `{name}`: not a built-in template name; one of: {}",
            NAMES.join(", ")
        ))
        .field("name"));
    }
    Ok(())
}

/// Checks a template's bytes: size and text. Whether the site's sandboxed tera parses it
/// is the shell's check (the template engine is not part of the pure layer): `ims
/// template set` refuses a template tera cannot parse before anything is staged, and the
/// site build refuses one it cannot parse.
pub fn check_template(name: &str, bytes: &[u8]) -> Result<String> {
    if bytes.len() > MAX_TEMPLATE_BYTES {
        return Err(Error::invalid(format!(
            "template {name}: {} bytes; at most {MAX_TEMPLATE_BYTES} bytes",
            bytes.len()
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| Error::invalid(format!("template {name}: not UTF-8 text")))?;
    if let Some(c) = text.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(Error::invalid(format!("template {name}: holds the control character U+{:04X}", c as u32)));
    }
    Ok(text.to_string())
}

/// `template.set/1`: overrides a built-in site template.
pub struct TemplateSet;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TemplateSetInput {
    /// A built-in template name, e.g. `base.html`.
    pub name: String,
    /// The git blob id of the template's bytes.
    pub blob: String,
    pub proposal_id: String,
}

impl TemplateSet {
    fn bytes(ctx: &Ctx, input: &TemplateSetInput) -> Result<Vec<u8>> {
        ctx.snap.blob(&input.blob)?.ok_or_else(|| {
            Error::invalid(format!("template {}: blob {} is not in the repository", input.name, input.blob))
        })
    }
}

impl Governed for TemplateSet {
    const WHAT: &'static str = "template set";
    fn proposal_id(input: &TemplateSetInput) -> &str {
        &input.proposal_id
    }
    fn about(input: &TemplateSetInput) -> &str {
        &input.name
    }

    fn change(ctx: &Ctx, input: &TemplateSetInput) -> Result<Effect> {
        check_name(&input.name).at(Self::step(2))?;
        let bytes = Self::bytes(ctx, input).at(Self::step(3)).field("blob")?;
        check_template(&input.name, &bytes).at(Self::step(3)).field("blob")?;
        let path = path(&input.name);
        let verb = if ctx.snap.read(&path)?.is_some() { "replace" } else { "add" };
        let mut effect = Effect::new(format!("template: set {}", input.name))
            .line(format!("Overrides the built-in site template {} ({verb}, blob {}).", input.name, input.blob))
            .action(AuditAction::Update, "template", &input.name)
            .fields(&["templates"]);
        effect.write_raw(&path, bytes);
        effect.id = Some(input.name.clone());
        Ok(effect)
    }
}

impl Procedure for TemplateSet {
    const ID: &'static str = "template.set/1";
    type Input = TemplateSetInput;

    fn apply(ctx: &Ctx, input: &TemplateSetInput) -> Result<Effect> {
        let mut effect = govern::<Self>(ctx, input)?;
        // A proposal keeps the bytes in the tree, so the approver's clone has them.
        if !effect.writes.contains_key(&path(&input.name)) {
            effect.write_raw(&proposal_path(&input.proposal_id), Self::bytes(ctx, input)?);
        }
        Ok(effect)
    }
}

/// `template.remove/1`: drops an override; the built-in template is used again.
pub struct TemplateRemove;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TemplateRemoveInput {
    pub name: String,
    pub proposal_id: String,
}

impl Governed for TemplateRemove {
    const WHAT: &'static str = "template remove";
    fn proposal_id(input: &TemplateRemoveInput) -> &str {
        &input.proposal_id
    }
    fn about(input: &TemplateRemoveInput) -> &str {
        &input.name
    }

    fn change(ctx: &Ctx, input: &TemplateRemoveInput) -> Result<Effect> {
        check_name(&input.name).at(Self::step(2))?;
        let path = path(&input.name);
        if ctx.snap.read(&path)?.is_none() {
            return Err(Error::invalid(format!("template {}: no override to remove", input.name))
                .at(Self::step(3))
                .field("name"));
        }
        let mut effect = Effect::new(format!("template: remove {}", input.name))
            .line(format!("The built-in site template {} is used again.", input.name))
            .action(AuditAction::Update, "template", &input.name)
            .fields(&["templates"]);
        effect.writes.insert(path, None);
        effect.id = Some(input.name.clone());
        Ok(effect)
    }
}

impl Procedure for TemplateRemove {
    const ID: &'static str = "template.remove/1";
    type Input = TemplateRemoveInput;

    fn apply(ctx: &Ctx, input: &TemplateRemoveInput) -> Result<Effect> {
        govern::<Self>(ctx, input)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::error::Kind;
    use crate::model::enums::Role;
    use crate::procedures::proposal::decide::{ProposalApprove, ProposalDecideInput};
    use crate::procedures::testing::*;

    const BLOB: &str = "0123456789abcdef0123456789abcdef01234567";
    const PAGE: &str = "<!doctype html><title>{{ title }}</title>\n<main>{% block content %}{% endblock %}</main>\n";

    fn blobs(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([(BLOB.to_string(), bytes.to_vec())])
    }

    fn set(name: &str) -> TemplateSetInput {
        TemplateSetInput { name: name.into(), blob: BLOB.into(), proposal_id: PRP.into() }
    }

    fn remove(name: &str) -> TemplateRemoveInput {
        TemplateRemoveInput { name: name.into(), proposal_id: PRP.into() }
    }

    /// `base.html` overridden by the one incident manager.
    fn overridden() -> MemSnapshot {
        let mut snap = snapshot(None);
        let e = apply_over::<TemplateSet>(&snap, &blobs(PAGE.as_bytes()), IM, &set("base.html")).unwrap();
        lay(&mut snap, &e);
        snap
    }

    #[test]
    fn set_writes_the_override_and_remove_drops_it() {
        let e = apply_over::<TemplateSet>(&snapshot(None), &blobs(PAGE.as_bytes()), IM, &set("base.html")).unwrap();
        assert_eq!(e.writes["templates/base.html"].as_deref(), Some(PAGE.as_bytes()));
        assert!(e.body.iter().any(|l| l.contains("(add, blob")), "{:?}", e.body);
        assert!(!e.writes.contains_key(&proposal_path(PRP)), "one manager: no proposal");
        let snap = overridden();
        let again = apply_over::<TemplateSet>(&snap, &blobs(b"<p>new</p>"), IM, &set("base.html")).unwrap();
        assert!(again.body.iter().any(|l| l.contains("(replace, blob")), "{:?}", again.body);
        let e = apply_over::<TemplateRemove>(&snap, &BTreeMap::new(), IM, &remove("base.html")).unwrap();
        assert_eq!(e.writes.get("templates/base.html"), Some(&None));
    }

    #[test]
    fn step1_only_an_incident_manager() {
        for role in [Role::ServiceDeskManager, Role::L2, Role::EndUser] {
            let actor = as_role(role);
            halts_at(
                apply_over::<TemplateSet>(&snapshot(None), &blobs(PAGE.as_bytes()), &actor, &set("base.html")),
                Kind::Forbidden,
                "template set",
                TemplateSet::step(1),
                Some("roles"),
            );
            halts(
                apply_over::<TemplateRemove>(&overridden(), &BTreeMap::new(), &actor, &remove("base.html")),
                Kind::Forbidden,
                "template remove",
            );
        }
    }

    /// The names are a closed list, so no name reaches outside `templates/` (no `..`, no
    /// absolute path, no other folder) and none can name a file the site does not read.
    #[test]
    fn step2_only_a_built_in_name() {
        let bytes = blobs(PAGE.as_bytes());
        for name in ["../ims.yaml", "/etc/passwd", "templates/base.html", "base.htm", "BASE.html", "", "x/../base.html"]
        {
            halts_at(
                apply_over::<TemplateSet>(&snapshot(None), &bytes, IM, &set(name)),
                Kind::Invalid,
                "not a built-in template name",
                TemplateSet::step(2),
                Some("name"),
            );
            halts(
                apply_over::<TemplateRemove>(&overridden(), &BTreeMap::new(), IM, &remove(name)),
                Kind::Invalid,
                "not a built-in template name",
            );
        }
        for name in NAMES {
            assert!(apply_over::<TemplateSet>(&snapshot(None), &bytes, IM, &set(name)).is_ok(), "{name}");
        }
    }

    #[test]
    fn step3_the_blob_its_size_and_its_text() {
        let snap = snapshot(None);
        halts_at(
            apply_over::<TemplateSet>(&snap, &BTreeMap::new(), IM, &set("base.html")),
            Kind::Invalid,
            &format!("template base.html: blob {BLOB} is not in the repository"),
            TemplateSet::step(3),
            Some("blob"),
        );
        let cases: [(Vec<u8>, &str); 3] = [
            (vec![b'a'; MAX_TEMPLATE_BYTES + 1], "at most 262144 bytes"),
            (vec![b'<', 0xff, b'>'], "not UTF-8 text"),
            (b"<p>\x1b[2J</p>".to_vec(), "control character U+001B"),
        ];
        for (bytes, needle) in cases {
            halts(apply_over::<TemplateSet>(&snap, &blobs(&bytes), IM, &set("base.html")), Kind::Invalid, needle);
        }
        let exact = vec![b'a'; MAX_TEMPLATE_BYTES];
        assert!(apply_over::<TemplateSet>(&snap, &blobs(&exact), IM, &set("base.html")).is_ok(), "the limit itself");
        let crlf_tab = b"<p>\r\n\tok</p>".to_vec();
        assert!(apply_over::<TemplateSet>(&snap, &blobs(&crlf_tab), IM, &set("base.html")).is_ok(), "CR, LF and tab");
    }

    #[test]
    fn remove_step3_an_override_must_exist() {
        halts(
            apply_over::<TemplateRemove>(&snapshot(None), &BTreeMap::new(), IM, &remove("base.html")),
            Kind::Invalid,
            "template base.html: no override to remove",
        );
        halts(
            apply_over::<TemplateRemove>(&overridden(), &BTreeMap::new(), IM, &remove("index.html")),
            Kind::Invalid,
            "template index.html: no override to remove",
        );
    }

    #[test]
    fn two_managers_a_change_waits_for_the_second_one() {
        let mut snap = two_managers();
        let bytes = blobs(PAGE.as_bytes());
        let e = apply_over::<TemplateSet>(&snap, &bytes, IM, &set("base.html")).unwrap();
        assert!(!e.writes.contains_key("templates/base.html"), "not applied before approval");
        assert_eq!(e.writes[&proposal_path(PRP)].as_deref(), Some(PAGE.as_bytes()), "the bytes wait in the tree");
        assert!(e.subject.starts_with("proposal: template set base.html"), "{}", e.subject);
        lay(&mut snap, &e);
        let decide = ProposalDecideInput { id: PRP.into(), reason: None };
        halts(
            apply_over::<ProposalApprove>(&snap, &bytes, IM, &decide),
            Kind::Forbidden,
            "the proposer cannot approve it",
        );
        let approved = apply_over::<ProposalApprove>(&snap, &bytes, IM2, &decide).unwrap();
        assert_eq!(approved.writes["templates/base.html"].as_deref(), Some(PAGE.as_bytes()));
    }

    #[test]
    fn two_managers_a_bad_change_is_refused_at_once_not_proposed() {
        let snap = two_managers();
        halts(
            apply_over::<TemplateSet>(&snap, &blobs(PAGE.as_bytes()), IM, &set("../x.html")),
            Kind::Invalid,
            "not a built-in template name",
        );
        halts(
            apply_over::<TemplateSet>(&snap, &blobs(b"\x07"), IM, &set("base.html")),
            Kind::Invalid,
            "control character U+0007",
        );
        halts(
            apply_over::<TemplateRemove>(&snap, &BTreeMap::new(), IM, &remove("base.html")),
            Kind::Invalid,
            "no override to remove",
        );
        let bad_id = TemplateSetInput { proposal_id: "nonsense".into(), ..set("base.html") };
        halts(apply_over::<TemplateSet>(&snap, &blobs(PAGE.as_bytes()), IM, &bad_id), Kind::Invalid, "proposal_id");
    }
}
