//! The site template overrides under `templates/`, governed like settings:
//! `template.set/1` ([`set`]) and `template.remove/1` ([`remove`]), one file each, and
//! what they share: the closed list of names, where an override and a proposed one live,
//! and the check of a template's bytes.
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

pub mod remove;
pub mod set;

use crate::error::{Error, Result};

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

/// Halts unless `name` is a built-in template's.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Procedure;
    use crate::error::Kind;
    use crate::procedures::template::{remove::TemplateRemove, set::TemplateSet};
    use crate::procedures::testing::halts;

    #[test]
    fn the_template_procedures_are_registered_and_routed() {
        crate::procedures::testing::routed(&[TemplateSet::ID, TemplateRemove::ID]);
    }

    #[test]
    fn a_template_is_text_within_the_size_limit() {
        assert_eq!(check_template("base.html", b"<p>\r\n\tok</p>").unwrap(), "<p>\r\n\tok</p>");
        halts(check_template("base.html", &[b'a'; MAX_TEMPLATE_BYTES + 1]), Kind::Invalid, "at most 262144 bytes");
        halts(check_template("base.html", &[b'<', 0xff]), Kind::Invalid, "not UTF-8 text");
        halts(check_name("x/../base.html"), Kind::Invalid, "not a built-in template name");
    }
}
