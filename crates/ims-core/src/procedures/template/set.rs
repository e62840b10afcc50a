//! `template.set/1`: overrides a built-in site template.
//!
//! Policy steps: 1. only an incident manager (a proposal once there are two, see
//! [`crate::procedures::proposal`]); 2. a built-in template name; 3. the blob, its size
//! and its text. While it waits as a proposal, its bytes are kept at
//! [`proposal_path`](super::proposal_path), so every clone can approve it.

use serde::{Deserialize, Serialize};

use super::{check_name, check_template, path, proposal_path};
use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::model::enums::AuditAction;
use crate::procedures::proposal::{govern, Governed};

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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::error::Kind;
    use crate::model::enums::Role;
    use crate::procedures::proposal::decide::ProposalApprove;
    use crate::procedures::template::{MAX_TEMPLATE_BYTES, NAMES};
    use crate::procedures::testing::*;

    fn set(snap: &MemSnapshot, bytes: &[u8], actor: &str, name: &str) -> Result<Effect> {
        apply_over::<TemplateSet>(snap, &template_blobs(bytes), actor, &template_set(name))
    }

    #[test]
    fn writes_the_override() {
        let e = set(&snapshot(None), PAGE.as_bytes(), IM, "base.html").unwrap();
        assert_eq!(e.writes["templates/base.html"].as_deref(), Some(PAGE.as_bytes()));
        assert!(e.body.iter().any(|l| l.contains("(add, blob")), "{:?}", e.body);
        assert!(!e.writes.contains_key(&proposal_path(PRP)), "one manager: no proposal");
        let again = set(&overridden(), b"<p>new</p>", IM, "base.html").unwrap();
        assert!(again.body.iter().any(|l| l.contains("(replace, blob")), "{:?}", again.body);
    }

    #[test]
    fn step1_only_an_incident_manager() {
        for role in [Role::ServiceDeskManager, Role::L2, Role::EndUser] {
            halts_at(
                set(&snapshot(None), PAGE.as_bytes(), &as_role(role), "base.html"),
                Kind::Forbidden,
                "template set",
                TemplateSet::step(1),
                Some("roles"),
            );
        }
    }

    /// The names are a closed list, so no name reaches outside `templates/` (no `..`, no
    /// absolute path, no other folder) and none can name a file the site does not read.
    #[test]
    fn step2_only_a_built_in_name() {
        for name in ["../ims.yaml", "/etc/passwd", "templates/base.html", "base.htm", "BASE.html", "", "x/../base.html"]
        {
            halts_at(
                set(&snapshot(None), PAGE.as_bytes(), IM, name),
                Kind::Invalid,
                "not a built-in template name",
                TemplateSet::step(2),
                Some("name"),
            );
        }
        for name in NAMES {
            assert!(set(&snapshot(None), PAGE.as_bytes(), IM, name).is_ok(), "{name}");
        }
    }

    #[test]
    fn step3_the_blob_its_size_and_its_text() {
        let snap = snapshot(None);
        halts_at(
            apply_over::<TemplateSet>(&snap, &BTreeMap::new(), IM, &template_set("base.html")),
            Kind::Invalid,
            &format!("template base.html: blob {TEMPLATE_BLOB} is not in the repository"),
            TemplateSet::step(3),
            Some("blob"),
        );
        let cases: [(Vec<u8>, &str); 3] = [
            (vec![b'a'; MAX_TEMPLATE_BYTES + 1], "at most 262144 bytes"),
            (vec![b'<', 0xff, b'>'], "not UTF-8 text"),
            (b"<p>\x1b[2J</p>".to_vec(), "control character U+001B"),
        ];
        for (bytes, needle) in cases {
            halts_at(set(&snap, &bytes, IM, "base.html"), Kind::Invalid, needle, TemplateSet::step(3), Some("blob"));
        }
        let exact = vec![b'a'; MAX_TEMPLATE_BYTES];
        assert!(set(&snap, &exact, IM, "base.html").is_ok(), "the limit itself");
        assert!(set(&snap, b"<p>\r\n\tok</p>", IM, "base.html").is_ok(), "CR, LF and tab");
    }

    #[test]
    fn two_managers_a_change_waits_for_the_second_one() {
        let mut snap = two_managers();
        let bytes = template_blobs(PAGE.as_bytes());
        let e = set(&snap, PAGE.as_bytes(), IM, "base.html").unwrap();
        assert!(!e.writes.contains_key("templates/base.html"), "not applied before approval");
        assert_eq!(e.writes[&proposal_path(PRP)].as_deref(), Some(PAGE.as_bytes()), "the bytes wait in the tree");
        assert!(e.subject.starts_with("proposal: template set base.html"), "{}", e.subject);
        lay(&mut snap, &e);
        halts(
            apply_over::<ProposalApprove>(&snap, &bytes, IM, &decide(None)),
            Kind::Forbidden,
            "the proposer cannot approve it",
        );
        let approved = apply_over::<ProposalApprove>(&snap, &bytes, IM2, &decide(None)).unwrap();
        assert_eq!(approved.writes["templates/base.html"].as_deref(), Some(PAGE.as_bytes()));
    }

    #[test]
    fn two_managers_a_bad_change_is_refused_at_once_not_proposed() {
        let snap = two_managers();
        halts(set(&snap, PAGE.as_bytes(), IM, "../x.html"), Kind::Invalid, "not a built-in template name");
        halts(set(&snap, b"\x07", IM, "base.html"), Kind::Invalid, "control character U+0007");
        let bad_id = TemplateSetInput { proposal_id: "nonsense".into(), ..template_set("base.html") };
        halts_at(
            apply_over::<TemplateSet>(&snap, &template_blobs(PAGE.as_bytes()), IM, &bad_id),
            Kind::Invalid,
            "proposal_id",
            TemplateSet::step(1),
            Some("proposal_id"),
        );
    }
}
