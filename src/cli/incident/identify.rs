//! `ims incident identify`: report a new incident.

use clap::Args;

use crate::cli::parse;
use crate::cli::Env;
use crate::error::Result;
use crate::ids::{new_id, RecordKind};
use crate::procedures::incident::identify;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct IdentifyArgs {
    #[arg(long)]
    pub title: String,
    #[arg(long)]
    pub service: String,
    /// user_report, monitoring_tool or automated_alert.
    #[arg(long)]
    pub source: String,
    /// The registered person who reported it (staff reporting on their behalf).
    #[arg(long)]
    pub reporter: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: IdentifyArgs) -> Result<()> {
    let input = identify::Input {
        id: new_id(RecordKind::Incident, env.now(repo)?),
        title: a.title,
        service: a.service,
        source: parse(&a.source)?,
        reporter: super::email(repo, a.reporter)?,
        description: a.description,
    };
    env.run::<identify::Identify>(repo, &input)
}
