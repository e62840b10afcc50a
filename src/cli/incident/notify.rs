//! `ims incident notify`: record a communication.

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse, parse_opt, resolve};
use crate::error::Result;
use crate::model::enums::Channel;
use crate::procedures::incident::notify;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct NotifyArgs {
    pub id: String,
    #[arg(long)]
    pub to: String,
    #[arg(long)]
    pub message: String,
    /// ims (default), email or meeting.
    #[arg(long)]
    pub channel: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: NotifyArgs) -> Result<()> {
    let input = notify::Input {
        id: resolve(repo, &a.id)?,
        to: parse(&a.to)?,
        message: a.message,
        channel: parse_opt(a.channel.as_deref())?.unwrap_or(Channel::Ims),
        communication_id: super::com_id(env.now(repo)?),
    };
    env.run::<notify::Notify>(repo, &input)
}
