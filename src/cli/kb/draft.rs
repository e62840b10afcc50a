//! `ims kb draft`: an article from a Markdown file.

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse, resolve};
use crate::error::Result;
use crate::ids::{new_id, RecordKind};
use crate::procedures::kb::draft;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct DraftArgs {
    #[arg(long)]
    pub title: String,
    /// resolution, workaround or prevention.
    #[arg(long = "type")]
    pub kind: String,
    #[arg(long, value_name = "FILE")]
    pub body_file: std::path::PathBuf,
    #[arg(long)]
    pub incident: Option<String>,
    #[arg(long)]
    pub problem: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: DraftArgs) -> Result<()> {
    let input = draft::Input {
        id: new_id(RecordKind::Kb, env.now(repo)?),
        title: a.title,
        kind: parse(&a.kind)?,
        body: super::read_body(&a.body_file)?,
        incident: a.incident.as_deref().map(|i| resolve(repo, i)).transpose()?,
        problem: a.problem.as_deref().map(|p| resolve(repo, p)).transpose()?,
    };
    env.run::<draft::Draft>(repo, &input)
}
