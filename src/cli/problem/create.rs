//! `ims problem create`: open a problem (a similar active one is a conflict).

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse, resolve};
use crate::error::Result;
use crate::ids::{new_id, RecordKind};
use crate::procedures::problem::create;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[arg(long)]
    pub title: String,
    #[arg(long)]
    pub description: String,
    /// user_report, monitoring_tool, automated_alert, incident_trend or proactive.
    #[arg(long)]
    pub source: String,
    #[arg(long)]
    pub service: Option<String>,
    /// Incidents to link, both ways (repeatable).
    #[arg(long = "incident")]
    pub incidents: Vec<String>,
}

pub fn run(env: &Env, repo: &Repo, a: CreateArgs) -> Result<()> {
    let input = create::Input {
        id: new_id(RecordKind::Problem, env.now(repo)?),
        title: a.title,
        description: a.description,
        source: parse(&a.source)?,
        service: a.service,
        incidents: a.incidents.iter().map(|i| resolve(repo, i)).collect::<Result<_>>()?,
    };
    env.run::<create::Create>(repo, &input)
}
