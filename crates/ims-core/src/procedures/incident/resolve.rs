//! `incident.resolve/1` — policy procedure 11, Resolution & Recovery.
//!
//! Policy steps:
//! 1. Validate the actor (staff) and the incident (in_progress, escalated,
//!    pending_vendor).
//! 2. Validate readiness: the fix was applied and the service restored.
//! 3. Validate reuse: a `--kb` article and a `--problem` must exist.
//! 4. Change governance: a fix that altered production needs a linked change that is
//!    implemented or later.
//! 5. Set `status=resolved` with the resolution summary, code and time.
//!    Audit: `resolve`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::ids::{RecordId, RecordKind};
use crate::model::enums::{AuditAction, Status};

pub struct Resolve;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub summary: String,
    pub fix_applied: bool,
    pub service_restored: bool,
    pub code: Option<String>,
    pub kb: Option<String>,
    pub problem: Option<String>,
    pub altered_production: bool,
}

fn linked(ctx: &Ctx, id: &str, kind: RecordKind, field: &str) -> Result<RecordId> {
    let rid = RecordId::parse(id, field).field(field)?;
    if rid.kind != kind || ctx.snap.read(&rid.path())?.is_none() {
        return Err(Error::invalid(format!("{field}: no such {} {id}", kind.entity())).field(field));
    }
    Ok(rid)
}

impl Procedure for Resolve {
    const ID: &'static str = "incident.resolve/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("incident resolve").at(Self::step(1))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_status(&inc, "resolve", &[Status::InProgress, Status::Escalated, Status::PendingVendor])
            .at(Self::step(1))?;
        if !input.fix_applied || !input.service_restored {
            return Err(Error::precondition(format!(
                "incident {}: not ready to resolve: confirm --fix-applied and --service-restored",
                rid.id
            ))
            .at(Self::step(2))
            .field("fix_applied"));
        }
        let summary = hygiene::text(ctx.rules, "summary", &input.summary, Shape::Text).at(Self::step(5))?;
        let code = hygiene::optional(ctx.rules, "code", input.code.as_deref(), Shape::Line).at(Self::step(5))?;
        let mut effect = Effect::new(format!("incident: resolve {}", rid.id)).line(format!("Summary: {summary}"));
        // Reused knowledge is linked both ways.
        if let Some(kb) = &input.kb {
            let kb = linked(ctx, kb, RecordKind::Kb, "kb").at(Self::step(3))?;
            let (_, mut article) = crate::procedures::kb::load(ctx, &kb.id).at(Self::step(3)).field("kb")?;
            crate::procedures::link(&mut inc.kb_ids, &kb.id);
            if crate::procedures::link(&mut article.incident_ids, &rid.id) {
                article.updated_at = ctx.now;
                effect.write(&kb.path(), &article)?;
            }
            effect = effect.line(format!("Known error reused: {}", kb.id)).fields(&["kb_ids", "incident_ids"]);
        }
        if let Some(p) = &input.problem {
            let p = linked(ctx, p, RecordKind::Problem, "problem").at(Self::step(3))?;
            let (_, mut problem) = crate::procedures::problem::load(ctx, &p.id).at(Self::step(3)).field("problem")?;
            crate::procedures::link(&mut inc.problem_ids, &p.id);
            if crate::procedures::link(&mut problem.incident_ids, &rid.id) {
                problem.updated_at = ctx.now;
                effect.write(&p.path(), &problem)?;
            }
            effect = effect.line(format!("Known error reused: {}", p.id)).fields(&["problem_ids", "incident_ids"]);
        }
        if input.altered_production {
            let mut implemented = false;
            for c in &inc.change_ids {
                let (_, change) = crate::procedures::change::load(ctx, c).at(Self::step(4)).field("change_ids")?;
                implemented |= change.is_implemented();
            }
            if !implemented {
                return Err(Error::precondition(format!(
                    "incident {}: the fix altered production, so it needs a linked change that is implemented \
                     (ims incident link-change, after ims change implement)",
                    rid.id
                ))
                .at(Self::step(4))
                .field("altered_production"));
            }
        }
        inc.altered_production = input.altered_production;
        inc.resolution_summary = Some(summary);
        inc.resolution_code = code;
        inc.resolved_at = Some(ctx.now);
        inc.resolved_by = Some(ctx.actor.into());
        inc.set_status(ctx.now, ctx.actor, Status::Resolved);
        inc.updated_at = ctx.now;
        effect = effect.action(AuditAction::Resolve, "incident", &rid.id).fields(&[
            "status",
            "resolved_at",
            "resolved_by",
            "resolution_code",
            "resolution_summary",
            "timeline",
        ]);
        effect.write_main(&rid.path(), &rid.id, &inc)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::Role;
    use crate::procedures::incident::testing::*;

    fn input() -> Input {
        Input {
            id: ID.into(),
            summary: "restarted the pool".into(),
            fix_applied: true,
            service_restored: true,
            code: Some("restart".into()),
            kb: None,
            problem: None,
            altered_production: false,
        }
    }

    #[test]
    fn resolves_with_time_and_resolver() {
        let i = written(&apply::<Resolve>(&incident(Status::Escalated), &as_role(Role::L3), &input()).unwrap());
        assert_eq!(i.status, Status::Resolved);
        assert_eq!(i.resolved_at, Some(now()));
        assert_eq!(i.resolved_by.as_deref(), Some("l3@x.test"));
    }

    #[test]
    fn step1_staff_and_state() {
        halts_at(
            apply::<Resolve>(&incident(Status::InProgress), "user@x.test", &input()),
            Kind::Forbidden,
            "needs one of",
            Resolve::step(1),
            Some("roles"),
        );
        halts_at(
            apply::<Resolve>(&incident(Status::Open), &as_role(Role::L3), &input()),
            Kind::Precondition,
            "open",
            Resolve::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_readiness() {
        let mut i = input();
        i.service_restored = false;
        halts_at(
            apply::<Resolve>(&incident(Status::InProgress), &as_role(Role::L3), &i),
            Kind::Precondition,
            "service-restored",
            Resolve::step(2),
            Some("fix_applied"),
        );
    }

    #[test]
    fn step3_reused_records_must_exist() {
        let mut i = input();
        i.kb = Some("KB-20261126-0000000001".into());
        halts_at(
            apply::<Resolve>(&incident(Status::InProgress), &as_role(Role::L3), &i),
            Kind::Invalid,
            "no such kb",
            Resolve::step(3),
            Some("kb"),
        );
    }

    #[test]
    fn step4_altered_production_needs_an_implemented_change() {
        let mut i = input();
        i.altered_production = true;
        halts_at(
            apply::<Resolve>(&incident(Status::InProgress), &as_role(Role::L3), &i),
            Kind::Precondition,
            "implemented",
            Resolve::step(4),
            Some("altered_production"),
        );
    }
}
