//! `template.remove/1`: drops an override; the built-in template is used again.
//!
//! Policy steps: 1. only an incident manager (a proposal once there are two, see
//! [`crate::procedures::proposal`]); 2. a built-in template name; 3. an override to
//! remove.

use serde::{Deserialize, Serialize};

use super::{check_name, path};
use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::model::enums::AuditAction;
use crate::procedures::proposal::{govern, Governed};

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
    use crate::procedures::testing::*;

    fn remove(snap: &MemSnapshot, actor: &str, name: &str) -> Result<Effect> {
        apply_over::<TemplateRemove>(snap, &BTreeMap::new(), actor, &template_remove(name))
    }

    #[test]
    fn drops_the_override() {
        let e = remove(&overridden(), IM, "base.html").unwrap();
        assert_eq!(e.writes.get("templates/base.html"), Some(&None));
        assert_eq!(e.subject, "template: remove base.html");
    }

    #[test]
    fn step1_only_an_incident_manager() {
        for role in [Role::ServiceDeskManager, Role::L2, Role::EndUser] {
            halts_at(
                remove(&overridden(), &as_role(role), "base.html"),
                Kind::Forbidden,
                "template remove",
                TemplateRemove::step(1),
                Some("roles"),
            );
        }
    }

    #[test]
    fn step2_only_a_built_in_name() {
        for name in ["../ims.yaml", "/etc/passwd", "templates/base.html", "base.htm", "BASE.html", "", "x/../base.html"]
        {
            halts_at(
                remove(&overridden(), IM, name),
                Kind::Invalid,
                "not a built-in template name",
                TemplateRemove::step(2),
                Some("name"),
            );
        }
    }

    #[test]
    fn step3_an_override_must_exist() {
        halts_at(
            remove(&snapshot(None), IM, "base.html"),
            Kind::Invalid,
            "template base.html: no override to remove",
            TemplateRemove::step(3),
            Some("name"),
        );
        halts(remove(&overridden(), IM, "index.html"), Kind::Invalid, "template index.html: no override to remove");
        // With two managers too: a bad change is refused at once, not proposed.
        halts(remove(&two_managers(), IM, "base.html"), Kind::Invalid, "no override to remove");
    }
}
