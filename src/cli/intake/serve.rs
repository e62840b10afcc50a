//! `ims intake serve --listen ADDR`: start the endpoint and drain its inbox.

use std::path::PathBuf;

use clap::Args;

use crate::cli::Env;
use crate::error::{Error, Result};
use crate::intake::{server, watch};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:9099.
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// The inbox folder (default `.git/ims/inbox`, outside the working tree).
    #[arg(long, value_name = "DIR")]
    pub inbox: Option<PathBuf>,
    /// A file holding the token senders must present as `Authorization: Bearer
    /// <token>` (surrounding whitespace ignored, as Prometheus reads `credentials_file`).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Accept payloads from anyone who can reach the address: only behind a proxy that
    /// authenticates, or on a private network.
    #[arg(long)]
    pub insecure_no_auth: bool,
}

pub fn run(env: &Env, a: ServeArgs) -> Result<()> {
    let token = match (a.token_file, a.insecure_no_auth) {
        (Some(f), false) => Some(server::read_token(&if f.is_absolute() { f } else { env.dir.join(f) })?),
        (None, true) => None,
        _ => return Err(Error::invalid("intake serve: give exactly one of --token-file or --insecure-no-auth")),
    };
    let repo = env.repo()?;
    let identity = env.identity(&repo)?;
    let inbox = match a.inbox {
        Some(d) if d.is_absolute() => d,
        Some(d) => env.dir.join(d),
        None => repo.git.path().join("ims/inbox"),
    };
    let settings = server::start(&repo, &identity.actor, &a.listen, &inbox, token)?;
    if token.is_none() {
        env.ui.status("warning: --insecure-no-auth: anyone who can reach this address can open incidents");
    }
    env.ui.status(&format!("listening on http://{}/alerts ; inbox {}", a.listen, inbox.display()));
    watch::drain(&repo, &identity, &inbox, Some(&settings), &|line| env.ui.status(line))
}
