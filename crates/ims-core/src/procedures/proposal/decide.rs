//! `proposal.approve/1` and `proposal.reject/1`: a second incident manager decides a
//! change that waits under the two-manager rule (see [`super`]).
//!
//! Policy steps: 1. only an incident manager other than the proposer, and nobody
//! approves a change to themselves; 2. a pending proposal; 3. on approval, the change
//! applies as its proposer (who must still be an incident manager) would have applied it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{require_manager, Governed};
use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::AuditAction;
use crate::model::proposal::{Proposal, ProposalStatus};
use crate::model::{self};
use crate::procedures::config::set::ConfigSet;
use crate::procedures::person::{add::PersonAdd, revoke::PersonRevoke, update::PersonUpdate};
use crate::procedures::template::{remove::TemplateRemove, set::TemplateSet};

/// `proposal.approve/1` and `proposal.reject/1`: a second incident manager decides.
pub struct ProposalDecide<const APPROVE: bool>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProposalDecideInput {
    pub id: String,
    pub reason: Option<String>,
}

/// Applies the change a proposal holds, as its proposer, without proposing again.
fn apply_proposed(ctx: &Ctx, p: &Proposal) -> Result<Effect> {
    let as_proposer = Ctx { snap: ctx.snap, actor: &p.proposed_by, now: ctx.now, rules: ctx.rules };
    require_manager(&as_proposer, "proposal")?;
    match p.procedure.as_str() {
        ConfigSet::ID => change::<ConfigSet>(&as_proposer, p),
        PersonAdd::ID => change::<PersonAdd>(&as_proposer, p),
        PersonUpdate::ID => change::<PersonUpdate>(&as_proposer, p),
        PersonRevoke::ID => change::<PersonRevoke>(&as_proposer, p),
        TemplateSet::ID => change::<TemplateSet>(&as_proposer, p),
        TemplateRemove::ID => change::<TemplateRemove>(&as_proposer, p),
        other => Err(Error::invalid(format!("proposal {}: unknown procedure {other}", p.proposal_id))),
    }
}

/// The change a proposal of `P` holds, applied to its stored input.
fn change<P: Governed>(ctx: &Ctx, p: &Proposal) -> Result<Effect> {
    let input = serde_json::from_value(p.input.clone())
        .map_err(|e| Error::invalid(format!("proposal {}: stored input does not fit: {e}", p.proposal_id)))?;
    P::change(ctx, &input)
}

impl<const APPROVE: bool> Procedure for ProposalDecide<APPROVE> {
    const ID: &'static str = if APPROVE { "proposal.approve/1" } else { "proposal.reject/1" };
    type Input = ProposalDecideInput;

    fn apply(ctx: &Ctx, input: &ProposalDecideInput) -> Result<Effect> {
        let verb = if APPROVE { "approve" } else { "reject" };
        require_manager(ctx, &format!("proposal {verb}")).at(Self::step(1))?;
        let id = crate::ids::RecordId::parse(&input.id, "proposal").at(Self::step(2)).field("id")?;
        let mut p: Proposal = model::record(ctx.snap, &id).at(Self::step(2)).field("id")?;
        if p.status != ProposalStatus::Pending {
            return Err(Error::precondition(
                format!("proposal {}: already {:?}", p.proposal_id, p.status).to_lowercase(),
            )
            .at(Self::step(2))
            .field("status"));
        }
        if p.proposed_by == ctx.actor {
            return Err(Error::forbidden(format!(
                "proposal {}: the proposer cannot {verb} it; another incident manager must",
                p.proposal_id
            ))
            .at(Self::step(1))
            .field("proposed_by"));
        }
        let touches_self = p.input.get("email").and_then(Value::as_str) == Some(ctx.actor);
        if APPROVE && touches_self {
            return Err(Error::forbidden(format!(
                "proposal {}: it changes {}, who cannot approve changes to themselves",
                p.proposal_id, ctx.actor
            ))
            .at(Self::step(1))
            .field("input"));
        }
        let mut effect = if APPROVE {
            let mut e = apply_proposed(ctx, &p).at(Self::step(3))?;
            e.subject = format!("proposal: approve {} ({})", p.proposal_id, p.summary);
            e
        } else {
            Effect::new(format!("proposal: reject {} ({})", p.proposal_id, p.summary))
        };
        p.status = if APPROVE { ProposalStatus::Approved } else { ProposalStatus::Rejected };
        p.decided_by = Some(ctx.actor.into());
        p.decided_at = Some(ctx.now);
        p.reason = hygiene::optional(ctx.rules, "reason", input.reason.as_deref(), Shape::Text).at(Self::step(2))?;
        effect.actions.insert(0, crate::engine::ActionLine::new(AuditAction::Update, "proposal", &p.proposal_id));
        effect = effect.fields(&["status"]);
        let (main_id, main_record) = (effect.id.clone(), effect.record.clone());
        effect.write_main(&id.path(), &p.proposal_id, &p)?;
        if APPROVE {
            effect.id = main_id.or(effect.id);
            effect.record = main_record.or(effect.record);
        }
        Ok(effect)
    }
}

pub type ProposalApprove = ProposalDecide<true>;
pub type ProposalReject = ProposalDecide<false>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::enums::{Role, Team};
    use crate::procedures::person::update::PersonUpdateInput;
    use crate::procedures::testing::*;

    /// Two managers; the first has proposed adding new@x.test.
    fn proposed() -> MemSnapshot {
        let mut snap = two_managers();
        let e = step::<PersonAdd>(&mut snap, IM, &person_add("new@x.test"));
        assert!(
            !e.writes.contains_key(&crate::model::person::path("new@x.test")),
            "a proposal does not register anyone yet"
        );
        snap
    }

    #[test]
    fn approve_applies_the_change_as_its_proposer() {
        let mut snap = proposed();
        let e = step::<ProposalApprove>(&mut snap, IM2, &decide(Some("checked with HR")));
        assert_eq!(registered(&snap, "new@x.test").unwrap().roles, [Role::L2]);
        let p: Proposal = stored(&snap, RecordKind::Proposal, PRP);
        assert_eq!(
            (p.status, p.decided_by.as_deref(), p.reason.as_deref()),
            (ProposalStatus::Approved, Some(IM2), Some("checked with HR"))
        );
        assert_eq!(e.id.as_deref(), Some("new@x.test"));
    }

    #[test]
    fn reject_changes_nothing_but_the_proposal() {
        let mut snap = proposed();
        let e = step::<ProposalReject>(&mut snap, IM2, &decide(Some("not yet")));
        assert!(registered(&snap, "new@x.test").is_none());
        assert_eq!(e.writes.len(), 1);
        assert_eq!(stored::<Proposal>(&snap, RecordKind::Proposal, PRP).status, ProposalStatus::Rejected);
    }

    #[test]
    fn step1_only_another_incident_manager() {
        let snap = proposed();
        halts_at(
            try_apply::<ProposalApprove>(&snap, &as_role(Role::L3), &decide(None)),
            Kind::Forbidden,
            "proposal approve",
            ProposalApprove::step(1),
            Some("roles"),
        );
        halts(
            try_apply::<ProposalReject>(&snap, &as_role(Role::L3), &decide(None)),
            Kind::Forbidden,
            "proposal reject",
        );
        halts_at(
            try_apply::<ProposalApprove>(&snap, IM, &decide(None)),
            Kind::Forbidden,
            "the proposer cannot approve it",
            ProposalApprove::step(1),
            Some("proposed_by"),
        );
        halts(try_apply::<ProposalReject>(&snap, IM, &decide(None)), Kind::Forbidden, "the proposer cannot reject it");
    }

    #[test]
    fn step1_nobody_approves_a_change_to_themselves() {
        let mut snap = two_managers();
        step::<PersonUpdate>(&mut snap, IM, &PersonUpdateInput { teams: Some(vec![Team::L3]), ..person_update(IM2) });
        halts_at(
            try_apply::<ProposalApprove>(&snap, IM2, &decide(None)),
            Kind::Forbidden,
            "cannot approve changes to themselves",
            ProposalApprove::step(1),
            Some("input"),
        );
        assert!(try_apply::<ProposalReject>(&snap, IM2, &decide(None)).is_ok());
    }

    #[test]
    fn step2_a_pending_proposal() {
        let mut snap = proposed();
        halts_at(
            try_apply::<ProposalApprove>(&snap, IM2, &ProposalDecideInput { id: "PRP-nope".into(), reason: None }),
            Kind::Invalid,
            "PRP-nope",
            ProposalApprove::step(2),
            Some("id"),
        );
        halts(
            try_apply::<ProposalApprove>(
                &snap,
                IM2,
                &ProposalDecideInput { id: "PRP-20261126-0000000009".into(), reason: None },
            ),
            Kind::Invalid,
            "no such proposal",
        );
        step::<ProposalReject>(&mut snap, IM2, &decide(None));
        halts(try_apply::<ProposalApprove>(&snap, IM2, &decide(None)), Kind::Precondition, "already rejected");
    }

    #[test]
    fn step3_the_proposer_is_still_a_manager_and_the_input_still_fits() {
        let base = proposed();
        let mut snap = base.clone();
        let demoted = crate::yaml::to_canonical(&person(IM, &[Role::L1])).unwrap();
        snap.files.insert(crate::model::person::path(IM), demoted.into_bytes());
        halts(try_apply::<ProposalApprove>(&snap, IM2, &decide(None)), Kind::Forbidden, "has roles [L1]");
        let p: Proposal = stored(&base, RecordKind::Proposal, PRP);
        let mut snap = base.clone();
        put(&mut snap, RecordKind::Proposal, PRP, &Proposal { input: serde_json::json!({"email": 7}), ..p.clone() });
        halts(try_apply::<ProposalApprove>(&snap, IM2, &decide(None)), Kind::Invalid, "stored input does not fit");
        let mut snap = base;
        put(&mut snap, RecordKind::Proposal, PRP, &Proposal { procedure: "incident.fly/1".into(), ..p });
        halts(
            try_apply::<ProposalApprove>(&snap, IM2, &decide(None)),
            Kind::Invalid,
            "unknown procedure incident.fly/1",
        );
    }
}
