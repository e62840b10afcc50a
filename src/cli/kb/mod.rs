//! `ims kb …`: one file per command, beside `procedures/kb/<procedure>.rs`.

mod draft;
mod publish;
mod retire;
mod submit;
mod update;

use clap::Subcommand;

use super::Env;
use crate::error::{Error, Result};

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Draft an article from a Markdown file (about a closed incident, or a problem).
    Draft(draft::DraftArgs),
    /// Submit a draft for review.
    Submit(submit::SubmitArgs),
    /// Publish (an incident manager who is not the author); the version goes up.
    Publish(publish::PublishArgs),
    /// New content from a Markdown file; a published article goes back to review.
    Update(update::UpdateArgs),
    /// Retire an article that no longer applies.
    Retire(retire::RetireArgs),
}

pub fn run(env: &Env, command: KbCommand) -> Result<()> {
    let repo = &env.repo()?;
    match command {
        KbCommand::Draft(a) => draft::run(env, repo, a),
        KbCommand::Submit(a) => submit::run(env, repo, a),
        KbCommand::Publish(a) => publish::run(env, repo, a),
        KbCommand::Update(a) => update::run(env, repo, a),
        KbCommand::Retire(a) => retire::run(env, repo, a),
    }
}

/// An article's body from `--body-file`: UTF-8, within the size cap.
fn read_body(path: &std::path::Path) -> Result<String> {
    let bytes = crate::repo::read_capped(path, crate::repo::caps::BODY, "--body-file")?;
    String::from_utf8(bytes).map_err(|_| Error::invalid(format!("--body-file {}: not UTF-8 text", path.display())))
}
