//! `ims incident …`: one file per command, beside `procedures/incident/<procedure>.rs`.
//! Each parses its flags, resolves the ids, makes new sub-ids and runs its procedure.

mod assign;
mod categorize;
mod close;
mod diagnose;
mod escalate;
mod feedback;
mod identify;
mod link_change;
mod log;
mod notify;
mod prioritize;
mod reopen;
mod resolve;
mod resume;
mod review;
mod vendor;

use clap::Subcommand;

use super::Env;
use crate::error::Result;
use crate::ids::{new_id, RecordKind};
use crate::repo::Repo;

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Report a new incident (status open); staff may report for an end user.
    Identify(identify::IdentifyArgs),
    /// Append description, affected service, diagnosis or workaround notes.
    Log(log::LogArgs),
    /// Set the category (hardware, software, security, performance, other).
    Categorize(categorize::CategorizeArgs),
    /// Set priority and severity (or impact and urgency through the matrix), with a justification.
    Prioritize(prioritize::PrioritizeArgs),
    /// Assign to a team and acknowledge (status in_progress).
    Assign(assign::AssignArgs),
    /// Record diagnostic steps and an optional workaround.
    Diagnose(diagnose::DiagnoseArgs),
    /// Escalate to a team or the incident manager, notifying them.
    Escalate(escalate::EscalateArgs),
    /// Engage a vendor (status pending_vendor: the SLA clock pauses).
    Vendor(vendor::VendorArgs),
    /// The vendor answered: back to in_progress.
    Resume(resume::ResumeArgs),
    /// Resolve: the fix is applied and the service restored.
    Resolve(resolve::ResolveArgs),
    /// Reopen a resolved incident.
    Reopen(reopen::ReopenArgs),
    /// Record a communication to end users, stakeholders, executives or IT staff.
    Notify(notify::NotifyArgs),
    /// Close a resolved incident.
    Close(close::CloseArgs),
    /// Link an approved change to the incident, both ways.
    #[command(name = "link-change")]
    LinkChange(link_change::LinkChangeArgs),
    /// Post-incident review (incident manager): timeline notes, factors, action items, KB links.
    Review(review::ReviewArgs),
    /// Record the reporter's satisfaction, 1 to 5.
    Feedback(feedback::FeedbackArgs),
}

pub fn run(env: &Env, command: IncidentCommand) -> Result<()> {
    let repo = env.repo()?;
    // The command's clock is read first, as every procedure's ids are made at it.
    env.now(&repo)?;
    let repo = &repo;
    match command {
        IncidentCommand::Identify(a) => identify::run(env, repo, a),
        IncidentCommand::Log(a) => log::run(env, repo, a),
        IncidentCommand::Categorize(a) => categorize::run(env, repo, a),
        IncidentCommand::Prioritize(a) => prioritize::run(env, repo, a),
        IncidentCommand::Assign(a) => assign::run(env, repo, a),
        IncidentCommand::Diagnose(a) => diagnose::run(env, repo, a),
        IncidentCommand::Escalate(a) => escalate::run(env, repo, a),
        IncidentCommand::Vendor(a) => vendor::run(env, repo, a),
        IncidentCommand::Resume(a) => resume::run(env, repo, a),
        IncidentCommand::Resolve(a) => resolve::run(env, repo, a),
        IncidentCommand::Reopen(a) => reopen::run(env, repo, a),
        IncidentCommand::Notify(a) => notify::run(env, repo, a),
        IncidentCommand::Close(a) => close::run(env, repo, a),
        IncidentCommand::LinkChange(a) => link_change::run(env, repo, a),
        IncidentCommand::Review(a) => review::run(env, repo, a),
        IncidentCommand::Feedback(a) => feedback::run(env, repo, a),
    }
}

/// A new communication id, made at the command's clock.
fn com_id(now: chrono::DateTime<chrono::Utc>) -> String {
    new_id(RecordKind::Incident, now).replacen("INC-", "COM-", 1)
}

/// Emails name people case-insensitively: the registered spelling goes to the procedure.
fn email(repo: &Repo, e: Option<String>) -> Result<Option<String>> {
    e.map(|e| Ok(crate::model::registered_email(&repo.snapshot(repo.tip()?)?, &e)?)).transpose()
}
