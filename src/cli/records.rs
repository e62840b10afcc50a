//! `ims problem …`, `ims change …`, `ims kb …`, `ims pir …`, `ims tool record`,
//! `ims simulation record`: parse, resolve ids, make new ids, run the procedure.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::{parse, parse_opt, resolve, Env};
use crate::error::{Error, Result};
use crate::ids::{new_id, RecordKind};
use crate::model::enums::Level;
use crate::procedures::{activity, change, kb, pir, problem};

#[derive(Debug, Subcommand)]
pub enum ProblemCommand {
    /// Open a problem; a similar active one on the same service is a conflict (exit 6).
    Create {
        #[arg(long)]
        title: String,
        #[arg(long)]
        description: String,
        /// user_report, monitoring_tool, automated_alert, incident_trend or proactive.
        #[arg(long)]
        source: String,
        #[arg(long)]
        service: Option<String>,
        /// Incidents to link, both ways (repeatable).
        #[arg(long = "incident")]
        incidents: Vec<String>,
    },
    /// Change title, description, service, or move it under investigation.
    Update {
        id: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        service: Option<String>,
        /// under_investigation.
        #[arg(long)]
        status: Option<String>,
    },
    /// Link an incident to the problem, both records in one commit.
    Link { problem: String, incident: String },
    /// Record the workaround: a known error at once, and a workaround KB article in review.
    Workaround {
        id: String,
        #[arg(long)]
        workaround: String,
    },
    /// Resolve, with the evidence that the cause is gone.
    Resolve {
        id: String,
        #[arg(long)]
        evidence: String,
    },
    /// Close once the stability window has passed since resolution.
    Close { id: String },
}

pub fn problem(env: &Env, command: ProblemCommand) -> Result<()> {
    let repo = env.repo()?;
    let id = |text: &str| resolve(&repo, text);
    match command {
        ProblemCommand::Create { title, description, source, service, incidents } => {
            let input = problem::create::Input {
                id: new_id(RecordKind::Problem, env.now(&repo)?),
                title,
                description,
                source: parse(&source)?,
                service,
                incidents: incidents.iter().map(|i| id(i)).collect::<Result<_>>()?,
            };
            env.run::<problem::create::Create>(&repo, &input)
        }
        ProblemCommand::Update { id: p, title, description, service, status } => {
            let input = problem::update::Input {
                id: id(&p)?,
                title,
                description,
                service,
                status: parse_opt(status.as_deref())?,
            };
            env.run::<problem::update::Update>(&repo, &input)
        }
        ProblemCommand::Link { problem: p, incident } => {
            env.run::<problem::link::Link>(&repo, &problem::link::Input { problem: id(&p)?, incident: id(&incident)? })
        }
        ProblemCommand::Workaround { id: p, workaround } => {
            let input =
                problem::workaround::Input { id: id(&p)?, workaround, kb_id: new_id(RecordKind::Kb, env.now(&repo)?) };
            env.run::<problem::workaround::Workaround>(&repo, &input)
        }
        ProblemCommand::Resolve { id: p, evidence } => {
            env.run::<problem::resolve::Resolve>(&repo, &problem::resolve::Input { id: id(&p)?, evidence })
        }
        ProblemCommand::Close { id: p } => {
            env.run::<problem::close::Close>(&repo, &problem::close::Input { id: id(&p)? })
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ChangeCommand {
    /// Request a change (standard changes from the catalogue are pre-approved).
    Request {
        #[arg(long)]
        summary: String,
        /// standard, normal (default) or emergency.
        #[arg(long = "type")]
        kind: Option<String>,
        /// low, medium (default) or high: sets how many approvals it needs.
        #[arg(long)]
        risk: Option<String>,
        #[arg(long = "incident")]
        incidents: Vec<String>,
        #[arg(long = "problem")]
        problems: Vec<String>,
    },
    /// Approve (not your own request); approved once the quorum for its risk is met.
    Approve {
        id: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Reject, with a reason.
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Record that an approved change was implemented.
    Implement { id: String },
    /// Review the outcome: successful, failed or rolled_back.
    Review {
        id: String,
        #[arg(long)]
        outcome: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Close a reviewed or rejected change.
    Close { id: String },
}

pub fn change(env: &Env, command: ChangeCommand) -> Result<()> {
    let repo = env.repo()?;
    let id = |text: &str| resolve(&repo, text);
    match command {
        ChangeCommand::Request { summary, kind, risk, incidents, problems } => {
            let input = change::request::Input {
                id: new_id(RecordKind::Change, env.now(&repo)?),
                summary,
                kind: parse_opt(kind.as_deref())?.unwrap_or(crate::model::change::ChangeType::Normal),
                risk: parse_opt(risk.as_deref())?.unwrap_or(Level::Medium),
                incidents: incidents.iter().map(|i| id(i)).collect::<Result<_>>()?,
                problems: problems.iter().map(|i| id(i)).collect::<Result<_>>()?,
            };
            env.run::<change::request::Request>(&repo, &input)
        }
        ChangeCommand::Approve { id: c, note } => {
            env.run::<change::approve::Approve>(&repo, &change::approve::Input { id: id(&c)?, note })
        }
        ChangeCommand::Reject { id: c, reason } => {
            env.run::<change::reject::Reject>(&repo, &change::reject::Input { id: id(&c)?, reason })
        }
        ChangeCommand::Implement { id: c } => {
            env.run::<change::implement::Implement>(&repo, &change::implement::Input { id: id(&c)? })
        }
        ChangeCommand::Review { id: c, outcome, note } => {
            let input = change::review::Input { id: id(&c)?, outcome: parse(&outcome)?, note };
            env.run::<change::review::Review>(&repo, &input)
        }
        ChangeCommand::Close { id: c } => env.run::<change::close::Close>(&repo, &change::close::Input { id: id(&c)? }),
    }
}

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Draft an article from a Markdown file (about a closed incident, or a problem).
    Draft {
        #[arg(long)]
        title: String,
        /// resolution, workaround or prevention.
        #[arg(long = "type")]
        kind: String,
        #[arg(long, value_name = "FILE")]
        body_file: PathBuf,
        #[arg(long)]
        incident: Option<String>,
        #[arg(long)]
        problem: Option<String>,
    },
    /// Submit a draft for review.
    Submit { id: String },
    /// Publish (an incident manager who is not the author); the version goes up.
    Publish { id: String },
    /// New content from a Markdown file; a published article goes back to review.
    Update {
        id: String,
        #[arg(long, value_name = "FILE")]
        body_file: PathBuf,
        #[arg(long)]
        title: Option<String>,
    },
    /// Retire an article that no longer applies.
    Retire { id: String },
}

fn read_body(path: &std::path::Path) -> Result<String> {
    let bytes = crate::repo::read_capped(path, crate::repo::caps::BODY, "--body-file")?;
    String::from_utf8(bytes).map_err(|_| Error::invalid(format!("--body-file {}: not UTF-8 text", path.display())))
}

pub fn kb(env: &Env, command: KbCommand) -> Result<()> {
    let repo = env.repo()?;
    let id = |text: &str| resolve(&repo, text);
    match command {
        KbCommand::Draft { title, kind, body_file, incident, problem } => {
            let input = kb::draft::Input {
                id: new_id(RecordKind::Kb, env.now(&repo)?),
                title,
                kind: parse(&kind)?,
                body: read_body(&body_file)?,
                incident: incident.as_deref().map(&id).transpose()?,
                problem: problem.as_deref().map(&id).transpose()?,
            };
            env.run::<kb::draft::Draft>(&repo, &input)
        }
        KbCommand::Submit { id: k } => env.run::<kb::submit::Submit>(&repo, &kb::submit::Input { id: id(&k)? }),
        KbCommand::Publish { id: k } => env.run::<kb::publish::Publish>(&repo, &kb::publish::Input { id: id(&k)? }),
        KbCommand::Update { id: k, body_file, title } => {
            let input = kb::update::Input { id: id(&k)?, body: read_body(&body_file)?, title };
            env.run::<kb::update::Update>(&repo, &input)
        }
        KbCommand::Retire { id: k } => env.run::<kb::retire::Retire>(&repo, &kb::retire::Input { id: id(&k)? }),
    }
}

#[derive(Debug, Subcommand)]
pub enum PirCommand {
    /// Update an action item of a review: status, owner, due date.
    Action {
        id: String,
        /// The item's number, from 1.
        item: usize,
        /// open or done.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        due: Option<String>,
    },
    /// High-priority incidents closed longer ago than ims.yaml's pir.due_after_close without a review.
    Overdue {
        /// As of this time (default: now).
        #[arg(long)]
        at: Option<String>,
    },
}

pub fn pir(env: &Env, command: PirCommand) -> Result<()> {
    let repo = env.repo()?;
    match command {
        PirCommand::Action { id: p, item, status, owner, due } => {
            let input =
                pir::action::Input { id: resolve(&repo, &p)?, item, status: parse_opt(status.as_deref())?, owner, due };
            env.run::<pir::action::UpdateAction>(&repo, &input)
        }
        PirCommand::Overdue { at } => {
            let at = match at {
                Some(t) => super::parse_time("--at", &t)?,
                None => env.now(&repo)?,
            };
            let overdue = crate::query::overdue_reviews(&repo, at)?;
            let text: String = overdue
                .iter()
                .map(|o| format!("{}  closed {}  due {}  {}\n", o.incident_id, o.closed_at, o.due, o.title))
                .collect();
            let empty = overdue.is_empty();
            env.ui.data(json!({ "ok": true, "overdue": overdue }), || {
                if empty {
                    "no overdue reviews".to_string()
                } else {
                    text
                }
            });
            Ok(())
        }
    }
}

/// `ims tool record`.
pub fn tool(env: &Env, tool: String, summary: String, outcome: String, incident: Option<String>) -> Result<()> {
    let repo = env.repo()?;
    let input = activity::tool_record::Input {
        id: new_id(RecordKind::Tool, env.now(&repo)?),
        tool: parse(&tool)?,
        summary,
        outcome,
        incident: incident.as_deref().map(|i| resolve(&repo, i)).transpose()?,
    };
    env.run::<activity::tool_record::Record>(&repo, &input)
}

/// `ims simulation record`.
pub fn simulation(env: &Env, scenario: String, scope: String, outcome: String) -> Result<()> {
    let repo = env.repo()?;
    let input = activity::simulation_record::Input {
        id: new_id(RecordKind::Simulation, env.now(&repo)?),
        scenario,
        scope,
        outcome,
    };
    env.run::<activity::simulation_record::Record>(&repo, &input)
}
