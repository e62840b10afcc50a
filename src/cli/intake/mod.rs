//! `ims intake …`: the HTTP endpoint (`crate::intake::server`).

mod serve;

use clap::Subcommand;

use super::Env;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum IntakeCommand {
    /// An HTTP endpoint for Alertmanager's `webhook_configs` (or any sender of the native
    /// format): each payload is authenticated, checked as the ingest procedure will check
    /// it, written durably to the inbox, then answered 200, and ingested like `ims watch`
    /// does. Payloads go to `POST /alerts`; `GET /healthz` needs no token.
    #[command(group(clap::ArgGroup::new("auth").required(true).args(["token_file", "insecure_no_auth"])))]
    Serve(serve::ServeArgs),
}

pub fn run(env: &Env, command: IntakeCommand) -> Result<()> {
    let IntakeCommand::Serve(a) = command;
    serve::run(env, a)
}
