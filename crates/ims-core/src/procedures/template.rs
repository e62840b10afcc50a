//! `template.set/1` and `template.remove/1`: the site template overrides under
//! `templates/`, governed like settings.
//!
//! Policy: what the site shows is part of what the organisation publishes, so only an
//! incident manager changes a template, and once there are two incident managers a
//! second one approves it (a proposal). The template is named by git blob id in the input
//! (like an import's archive) and written by the commit, so `ims verify` replays it;
//! while it waits as a proposal, its bytes are kept at
//! `records/template-proposals/<proposal id>.html`, so every clone can approve it.

use serde::{Deserialize, Serialize};

use super::admin::{propose_or_apply, require_manager};
use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, Result};
use crate::model::enums::AuditAction;

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
    // The email `ims deliver` sends: plain text and HTML parts.
    "email.txt",
    "email.html",
];

fn check_name(name: &str) -> Result<()> {
    if !NAMES.contains(&name) {
        return Err(Error::invalid(format!(
            "template `{name}`: not a built-in template name; one of: {}",
            NAMES.join(", ")
        )));
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

    pub(super) fn change(ctx: &Ctx, input: &TemplateSetInput) -> Result<Effect> {
        check_name(&input.name)?;
        let bytes = Self::bytes(ctx, input)?;
        check_template(&input.name, &bytes)?;
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
        require_manager(ctx, "template set")?;
        let mut effect =
            propose_or_apply(ctx, Self::ID, &input.proposal_id, input, format!("template set {}", input.name), || {
                TemplateSet::change(ctx, input)
            })?;
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

impl TemplateRemove {
    pub(super) fn change(ctx: &Ctx, input: &TemplateRemoveInput) -> Result<Effect> {
        check_name(&input.name)?;
        let path = path(&input.name);
        if ctx.snap.read(&path)?.is_none() {
            return Err(Error::invalid(format!("template {}: no override to remove", input.name)));
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
        require_manager(ctx, "template remove")?;
        propose_or_apply(ctx, Self::ID, &input.proposal_id, input, format!("template remove {}", input.name), || {
            TemplateRemove::change(ctx, input)
        })
    }
}
