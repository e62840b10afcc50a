//! The two-manager rule, which governs people, settings and site templates, and
//! `proposal.approve|reject` ([`decide`]), which decides what waits under it.
//!
//! Policy: role-based authorization and segregation of duties apply to the people
//! registry itself. Only an incident manager changes people, settings or templates;
//! nobody changes their own roles; once there are two incident managers, a change takes
//! effect only when a second one approves it (a proposal), so no single person can grant
//! themselves or an accomplice power. A procedure under this rule is [`Governed`], and
//! its `apply` is [`govern`].

pub mod decide;

use serde::Serialize;

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::Result;
use crate::ids::{record_path, RecordKind};
use crate::model::enums::{AuditAction, Role};
use crate::model::person::Person;
use crate::model::proposal::{self, Proposal, ProposalStatus};
use crate::model::{self, Snapshot};

/// A procedure under the two-manager rule: authorized for incident managers, applied at
/// once while there is one, filed as a proposal once there are two, and applied by
/// [`decide`] (as its proposer) when another one approves.
pub trait Governed: Procedure {
    /// The command's words, which the authorization halt and the proposal name
    /// (`person add`).
    const WHAT: &'static str;
    /// The proposal id the shell made for this input.
    fn proposal_id(input: &Self::Input) -> &str;
    /// What the change is about, after [`Governed::WHAT`] in a proposal's summary.
    fn about(input: &Self::Input) -> &str;
    /// The change itself, without authorization or proposal: the policy's steps after
    /// the first.
    fn change(ctx: &Ctx, input: &Self::Input) -> Result<Effect>;
}

/// The `apply` of a [`Governed`] procedure: step 1 (only an incident manager), then the
/// change, now or as a proposal.
pub fn govern<P: Governed>(ctx: &Ctx, input: &P::Input) -> Result<Effect> {
    require_manager(ctx, P::WHAT).map_err(|e| e.at(P::step(1)))?;
    // A well-formed id whichever way it goes, so a change cannot carry an input that only
    // the one-manager path accepts (verify re-checks merged work under the joined registry).
    crate::ids::RecordId::parse(P::proposal_id(input), "proposal_id")
        .map_err(|e| e.at(P::step(1)).field("proposal_id"))?;
    let summary = format!("{} {}", P::WHAT, P::about(input));
    propose_or_apply(ctx, P::ID, P::proposal_id(input), input, summary, || P::change(ctx, input))
}

/// How many incident managers are registered and active.
fn incident_managers(snap: &dyn Snapshot) -> Result<usize> {
    Ok(model::people(snap)?.iter().filter(|p| !p.revoked && p.has_role(Role::IncidentManager)).count())
}

/// Either makes the change now, or, with two or more incident managers, files it as a
/// proposal for another one to approve.
fn propose_or_apply<I: Serialize>(
    ctx: &Ctx,
    procedure: &str,
    proposal_id: &str,
    input: &I,
    summary: String,
    apply: impl FnOnce() -> Result<Effect>,
) -> Result<Effect> {
    if incident_managers(ctx.snap)? < 2 {
        return apply();
    }
    // Validate now so a bad proposal is refused at once, not at approval.
    apply()?;
    let proposal = Proposal {
        schema: proposal::SCHEMA.into(),
        proposal_id: proposal_id.into(),
        procedure: procedure.into(),
        input: serde_json::to_value(input)?,
        summary: summary.clone(),
        status: ProposalStatus::Pending,
        proposed_by: ctx.actor.into(),
        proposed_at: ctx.now,
        decided_by: None,
        decided_at: None,
        reason: None,
    };
    let mut effect = Effect::new(format!("proposal: {summary}"))
        .line("Waits for a second incident manager: ims proposal approve ".to_string() + proposal_id)
        .action(AuditAction::Create, "proposal", proposal_id)
        .fields(&["status"]);
    effect.write_main(&record_path(RecordKind::Proposal, proposal_id), proposal_id, &proposal)?;
    Ok(effect)
}

/// Halts unless the actor is an incident manager, naming `what` they tried.
fn require_manager(ctx: &Ctx, what: &str) -> Result<Person> {
    ctx.require(&[Role::IncidentManager], what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::procedures::person::add::PersonAdd;
    use crate::procedures::testing::*;

    #[test]
    fn one_manager_applies_at_once_two_file_a_proposal() {
        let one = try_apply::<PersonAdd>(&snapshot(None), IM, &person_add("new@x.test")).unwrap();
        assert!(one.writes.contains_key(&crate::model::person::path("new@x.test")));
        let two = try_apply::<PersonAdd>(&two_managers(), IM, &person_add("new@x.test")).unwrap();
        assert_eq!(two.subject, "proposal: person add new@x.test");
        assert_eq!(two.writes.keys().collect::<Vec<_>>(), [&record_path(RecordKind::Proposal, PRP)]);
    }

    #[test]
    fn step1_only_an_incident_manager_and_a_well_formed_proposal_id() {
        halts_at(
            try_apply::<PersonAdd>(&snapshot(None), &as_role(Role::L3), &person_add("new@x.test")),
            Kind::Forbidden,
            "person add: l3@x.test has roles [L3]",
            PersonAdd::step(1),
            Some("roles"),
        );
        let bad = crate::procedures::person::add::PersonAddInput {
            proposal_id: "nonsense".into(),
            ..person_add("new@x.test")
        };
        for snap in [snapshot(None), two_managers()] {
            halts_at(
                try_apply::<PersonAdd>(&snap, IM, &bad),
                Kind::Invalid,
                "proposal_id",
                PersonAdd::step(1),
                Some("proposal_id"),
            );
        }
    }
}
