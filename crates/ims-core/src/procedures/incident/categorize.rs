//! `incident.categorize/1` — policy procedure 4, Incident Categorization.
//!
//! Policy steps:
//! 1. Validate the incident (exists, not closed) and the actor (staff).
//! 2. Validate the category enum (the CLI parses it; an unknown value is exit 3).
//! 3. Update category (+ subcategory). Audit: `update`, field=category.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{AuditAction, Category};

pub struct Categorize;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub category: Category,
    pub subcategory: Option<String>,
}

impl Procedure for Categorize {
    const ID: &'static str = "incident.categorize/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("incident categorize").at(Self::step(1))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_open(&inc, "categorize").at(Self::step(1))?;
        let sub =
            hygiene::optional(ctx.rules, "subcategory", input.subcategory.as_deref(), Shape::Line).at(Self::step(3))?;
        let from = inc.category.map(|c| c.to_string());
        inc.category = Some(input.category);
        inc.subcategory = sub;
        inc.track(ctx.now, ctx.actor, "category", from, Some(input.category.to_string()));
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: categorize {} as {}", rid.id, input.category))
            .action(AuditAction::Update, "incident", &rid.id)
            .fields(&["category", "subcategory"]);
        effect.write_main(&rid.path(), &rid.id, &inc)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::{Role, Status};
    use crate::procedures::incident::testing::*;

    fn input() -> Input {
        Input { id: ID.into(), category: Category::Software, subcategory: Some("payments".into()) }
    }

    #[test]
    fn sets_category() {
        let i = written(&apply::<Categorize>(&incident(Status::Open), &as_role(Role::L2), &input()).unwrap());
        assert_eq!(i.category, Some(Category::Software));
        assert_eq!(i.timeline.last().unwrap().field, "category");
    }

    #[test]
    fn step1_staff_only_and_not_closed() {
        halts_at(
            apply::<Categorize>(&incident(Status::Open), &as_role(Role::Auditor), &input()),
            Kind::Forbidden,
            "needs one of",
            Categorize::step(1),
            Some("roles"),
        );
        halts_at(
            apply::<Categorize>(&incident(Status::Closed), &as_role(Role::L2), &input()),
            Kind::Precondition,
            "closed",
            Categorize::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_unknown_category_is_invalid() {
        halts("hardwar".parse::<Category>(), Kind::Invalid, "category");
    }

    #[test]
    fn step3_subcategory_is_checked_text() {
        let mut i = input();
        i.subcategory = Some("a\u{1}".into());
        halts_at(
            apply::<Categorize>(&incident(Status::Open), &as_role(Role::L2), &i),
            Kind::Invalid,
            "subcategory",
            Categorize::step(3),
            Some("subcategory"),
        );
    }
}
