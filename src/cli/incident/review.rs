//! `ims incident review`: the post-incident review.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Error;
use crate::error::Result;
use crate::procedures::incident::review;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct ReviewArgs {
    pub id: String,
    /// The manager's account of what happened, beside the incident's own timeline.
    #[arg(long)]
    pub timeline: String,
    /// Contributing factors.
    #[arg(long)]
    pub factors: String,
    /// An action item: `TEXT`, optionally `TEXT | owner=EMAIL | due=YYYY-MM-DD` (repeatable).
    #[arg(long = "action")]
    pub actions: Vec<String>,
    #[arg(long)]
    pub residual_risk: Option<String>,
    /// A KB article the review links (repeatable).
    #[arg(long)]
    pub kb: Vec<String>,
}

pub fn run(env: &Env, repo: &Repo, a: ReviewArgs) -> Result<()> {
    let input = review::Input {
        id: resolve(repo, &a.id)?,
        timeline: a.timeline,
        factors: a.factors,
        residual_risk: a.residual_risk,
        actions: a.actions.iter().map(|t| parse_action(t)).collect::<Result<_>>()?,
        kb: a.kb.iter().map(|k| resolve(repo, k)).collect::<Result<_>>()?,
    };
    env.run::<review::Review>(repo, &input)
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
