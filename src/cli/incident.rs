//! `ims incident …`: parse the flags, resolve the id, make new sub-ids, run the procedure.

use clap::{Args, Subcommand};

use super::{parse, parse_opt, resolve, Env};
use crate::error::{Error, Result};
use crate::ids::{new_id, RecordKind};
use crate::model::enums::Channel;
use crate::procedures::incident::*;

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Report a new incident (status open); staff may report for an end user.
    Identify {
        #[arg(long)]
        title: String,
        #[arg(long)]
        service: String,
        /// user_report, monitoring_tool or automated_alert.
        #[arg(long)]
        source: String,
        /// The registered person who reported it (staff reporting on their behalf).
        #[arg(long)]
        reporter: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Append description, affected service, diagnosis or workaround notes.
    Log {
        id: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        diagnosis: Option<String>,
        #[arg(long)]
        workaround: Option<String>,
    },
    /// Set the category (hardware, software, security, performance, other).
    Categorize {
        id: String,
        #[arg(long)]
        category: String,
        #[arg(long)]
        subcategory: Option<String>,
    },
    /// Set priority and severity (or impact and urgency through the matrix), with a justification.
    Prioritize(PrioritizeArgs),
    /// Assign to a team and acknowledge (status in_progress).
    Assign {
        id: String,
        #[arg(long)]
        team: String,
        #[arg(long)]
        assignee: Option<String>,
        /// The acknowledgement sent to the reporter (default: a standard text).
        #[arg(long)]
        message: Option<String>,
    },
    /// Record diagnostic steps and an optional workaround.
    Diagnose {
        id: String,
        #[arg(long)]
        steps: String,
        #[arg(long)]
        workaround: Option<String>,
    },
    /// Escalate to a team or the incident manager, notifying them.
    Escalate {
        id: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        reason: String,
    },
    /// Engage a vendor (status pending_vendor: the SLA clock pauses).
    Vendor {
        id: String,
        #[arg(long)]
        vendor: String,
        /// phone, email, vendor_portal or API.
        #[arg(long)]
        contact_method: String,
        #[arg(long)]
        vendor_ref: Option<String>,
    },
    /// The vendor answered: back to in_progress.
    Resume {
        id: String,
        #[arg(long)]
        summary: String,
    },
    /// Resolve: the fix is applied and the service restored.
    Resolve(ResolveArgs),
    /// Reopen a resolved incident.
    Reopen {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Record a communication to end users, stakeholders, executives or IT staff.
    Notify {
        id: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        message: String,
        /// ims (default), email or meeting.
        #[arg(long)]
        channel: Option<String>,
    },
    /// Close a resolved incident.
    Close {
        id: String,
        #[arg(long)]
        notes: String,
    },
    /// Link an approved change to the incident, both ways.
    #[command(name = "link-change")]
    LinkChange { id: String, change: String },
    /// Post-incident review (incident manager): timeline notes, factors, action items, KB links.
    Review {
        id: String,
        /// The manager's account of what happened, beside the incident's own timeline.
        #[arg(long)]
        timeline: String,
        /// Contributing factors.
        #[arg(long)]
        factors: String,
        /// An action item: `TEXT`, optionally `TEXT | owner=EMAIL | due=YYYY-MM-DD` (repeatable).
        #[arg(long = "action")]
        actions: Vec<String>,
        #[arg(long)]
        residual_risk: Option<String>,
        /// A KB article the review links (repeatable).
        #[arg(long)]
        kb: Vec<String>,
    },
    /// Record the reporter's satisfaction, 1 to 5.
    Feedback {
        id: String,
        #[arg(long)]
        score: String,
        #[arg(long)]
        comment: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct PrioritizeArgs {
    id: String,
    #[arg(long)]
    priority: Option<String>,
    #[arg(long)]
    severity: Option<String>,
    #[arg(long)]
    impact: Option<String>,
    #[arg(long)]
    urgency: Option<String>,
    #[arg(long)]
    justification: String,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    id: String,
    #[arg(long)]
    summary: String,
    /// Confirms the fix was applied.
    #[arg(long)]
    fix_applied: bool,
    /// Confirms the service is restored.
    #[arg(long)]
    service_restored: bool,
    /// Resolution code.
    #[arg(long)]
    code: Option<String>,
    /// A KB article whose known fix was reused.
    #[arg(long)]
    kb: Option<String>,
    /// A problem (known error) whose workaround was reused.
    #[arg(long)]
    problem: Option<String>,
    /// The fix altered production: a linked, implemented change is required.
    #[arg(long)]
    altered_production: bool,
}

pub fn run(env: &Env, command: IncidentCommand) -> Result<()> {
    let repo = env.repo()?;
    let id = |text: &str| resolve(&repo, text);
    let now = env.now(&repo)?;
    let com_id = || new_id(RecordKind::Incident, now).replacen("INC-", "COM-", 1);
    // Emails name people case-insensitively: the registered spelling goes to the procedure.
    let email = |e: Option<String>| -> Result<Option<String>> {
        e.map(|e| Ok(crate::model::registered_email(&repo.snapshot(repo.tip()?)?, &e)?)).transpose()
    };
    match command {
        IncidentCommand::Identify { title, service, source, reporter, description } => {
            let input = identify::Input {
                id: new_id(RecordKind::Incident, now),
                title,
                service,
                source: parse(&source)?,
                reporter: email(reporter)?,
                description,
            };
            env.run::<identify::Identify>(&repo, &input)
        }
        IncidentCommand::Log { id: i, description, service, diagnosis, workaround } => {
            let input = log::Input { id: id(&i)?, description, service, diagnosis, workaround };
            env.run::<log::Log>(&repo, &input)
        }
        IncidentCommand::Categorize { id: i, category, subcategory } => {
            let input = categorize::Input { id: id(&i)?, category: parse(&category)?, subcategory };
            env.run::<categorize::Categorize>(&repo, &input)
        }
        IncidentCommand::Prioritize(a) => {
            let input = prioritize::Input {
                id: id(&a.id)?,
                priority: parse_opt(a.priority.as_deref())?,
                severity: parse_opt(a.severity.as_deref())?,
                impact: parse_opt(a.impact.as_deref())?,
                urgency: parse_opt(a.urgency.as_deref())?,
                justification: a.justification,
                communication_id: com_id(),
            };
            env.run::<prioritize::Prioritize>(&repo, &input)
        }
        IncidentCommand::Assign { id: i, team, assignee, message } => {
            let input = assign::Input {
                id: id(&i)?,
                team: parse(&team)?,
                assignee: email(assignee)?,
                message,
                communication_id: com_id(),
            };
            env.run::<assign::Assign>(&repo, &input)
        }
        IncidentCommand::Diagnose { id: i, steps, workaround } => {
            env.run::<diagnose::Diagnose>(&repo, &diagnose::Input { id: id(&i)?, steps, workaround })
        }
        IncidentCommand::Escalate { id: i, to, reason } => {
            let input = escalate::Input { id: id(&i)?, to: parse(&to)?, reason, communication_id: com_id() };
            env.run::<escalate::Escalate>(&repo, &input)
        }
        IncidentCommand::Vendor { id: i, vendor, contact_method, vendor_ref } => {
            let input = vendor::Input {
                id: id(&i)?,
                vendor,
                contact_method: parse(&contact_method)?,
                vendor_ref,
                vendor_engagement_id: com_id().replacen("COM-", "VEN-", 1),
            };
            env.run::<vendor::Vendor>(&repo, &input)
        }
        IncidentCommand::Resume { id: i, summary } => {
            env.run::<resume::Resume>(&repo, &resume::Input { id: id(&i)?, summary })
        }
        IncidentCommand::Resolve(a) => {
            let input = resolve::Input {
                id: id(&a.id)?,
                summary: a.summary,
                fix_applied: a.fix_applied,
                service_restored: a.service_restored,
                code: a.code,
                kb: a.kb.as_deref().map(&id).transpose()?,
                problem: a.problem.as_deref().map(&id).transpose()?,
                altered_production: a.altered_production,
            };
            env.run::<resolve::Resolve>(&repo, &input)
        }
        IncidentCommand::Reopen { id: i, reason } => {
            env.run::<reopen::Reopen>(&repo, &reopen::Input { id: id(&i)?, reason })
        }
        IncidentCommand::Notify { id: i, to, message, channel } => {
            let input = notify::Input {
                id: id(&i)?,
                to: parse(&to)?,
                message,
                channel: parse_opt(channel.as_deref())?.unwrap_or(Channel::Ims),
                communication_id: com_id(),
            };
            env.run::<notify::Notify>(&repo, &input)
        }
        IncidentCommand::Close { id: i, notes } => env.run::<close::Close>(&repo, &close::Input { id: id(&i)?, notes }),
        IncidentCommand::LinkChange { id: i, change } => {
            let input = link_change::Input { id: id(&i)?, change: id(&change)? };
            env.run::<link_change::LinkChange>(&repo, &input)
        }
        IncidentCommand::Review { id: i, timeline, factors, actions, residual_risk, kb } => {
            let input = review::Input {
                id: id(&i)?,
                timeline,
                factors,
                residual_risk,
                actions: actions.iter().map(|a| parse_action(a)).collect::<Result<_>>()?,
                kb: kb.iter().map(|k| id(k)).collect::<Result<_>>()?,
            };
            env.run::<review::Review>(&repo, &input)
        }
        IncidentCommand::Feedback { id: i, score, comment } => {
            let score: u8 = score
                .trim()
                .parse()
                .map_err(|_| Error::invalid(format!("score: `{score}` is not a whole number from 1 to 5")))?;
            env.run::<feedback::GiveFeedback>(&repo, &feedback::Input { id: id(&i)?, score, comment })
        }
    }
}

/// `TEXT | owner=EMAIL | due=YYYY-MM-DD`.
fn parse_action(text: &str) -> Result<review::ActionInput> {
    let mut parts = text.split('|').map(str::trim);
    let action = parts.next().unwrap_or("").to_string();
    let (mut owner, mut due) = (None, None);
    for part in parts {
        match part.split_once('=') {
            Some(("owner", v)) => owner = Some(v.trim().to_string()),
            Some(("due", v)) => due = Some(v.trim().to_string()),
            _ => return Err(Error::invalid(format!("--action: `{part}` is not owner=EMAIL or due=YYYY-MM-DD"))),
        }
    }
    Ok(review::ActionInput { action, owner, due })
}
