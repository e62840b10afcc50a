//! `ims incident resolve`: the fix is applied and the service restored.

use clap::Args;

use crate::cli::resolve as id;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::incident::resolve;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct ResolveArgs {
    pub id: String,
    #[arg(long)]
    pub summary: String,
    /// Confirms the fix was applied.
    #[arg(long)]
    pub fix_applied: bool,
    /// Confirms the service is restored.
    #[arg(long)]
    pub service_restored: bool,
    /// Resolution code.
    #[arg(long)]
    pub code: Option<String>,
    /// A KB article whose known fix was reused.
    #[arg(long)]
    pub kb: Option<String>,
    /// A problem (known error) whose workaround was reused.
    #[arg(long)]
    pub problem: Option<String>,
    /// The fix altered production: a linked, implemented change is required.
    #[arg(long)]
    pub altered_production: bool,
}

pub fn run(env: &Env, repo: &Repo, a: ResolveArgs) -> Result<()> {
    let input = resolve::Input {
        id: id(repo, &a.id)?,
        summary: a.summary,
        fix_applied: a.fix_applied,
        service_restored: a.service_restored,
        code: a.code,
        kb: a.kb.as_deref().map(|k| id(repo, k)).transpose()?,
        problem: a.problem.as_deref().map(|p| id(repo, p)).transpose()?,
        altered_production: a.altered_production,
    };
    env.run::<resolve::Resolve>(repo, &input)
}
