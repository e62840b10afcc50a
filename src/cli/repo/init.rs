//! `ims init`: a new records repository (`procedures/repo/init.rs`).

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::cli::Env;
use crate::error::{Error, Result};
use crate::model::config::Clock;
use crate::procedures::repo::init as procs;
use crate::signing::{self, Signer};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to make it: absent or an empty directory (default: here).
    pub path: Option<PathBuf>,
    /// The first person's name (an incident manager).
    #[arg(long)]
    pub name: String,
    /// The first person's email.
    #[arg(long)]
    pub email: String,
    /// The first person's SSH public key file.
    #[arg(long, value_name = "PUBKEY_FILE")]
    pub key: PathBuf,
    /// The organization's name (default: the directory's name).
    #[arg(long)]
    pub organization: Option<String>,
    /// Honour IMS_NOW (tests, demos, training); every site page says so.
    #[arg(long)]
    pub simulated_clock: bool,
}

pub fn run(env: &Env, args: InitArgs) -> Result<()> {
    let path = match args.path {
        Some(p) if p.is_absolute() => p,
        Some(p) => env.dir.join(p),
        None => env.dir.clone(),
    };
    let key_text = String::from_utf8(crate::repo::read_capped(&args.key, crate::repo::caps::KEY, "--key")?)
        .map_err(|_| Error::invalid(format!("--key {}: not UTF-8 text", args.key.display())))?;
    let public = signing::parse_public(&key_text, "--key")?;
    let signer = match std::env::var("IMS_SIGNING_KEY") {
        Ok(spec) if !spec.trim().is_empty() => Signer::load(spec.trim())?,
        _ => Signer::load(&args.key.to_string_lossy())?,
    };
    let organization = args.organization.unwrap_or_else(|| {
        std::fs::canonicalize(&path)
            .unwrap_or(path.clone())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "ims".into())
    });
    let input = procs::InitV2Input::new(
        organization,
        args.email.trim().to_string(),
        args.name,
        signing::key_line(&public)?,
        if args.simulated_clock { Clock::Simulated } else { Clock::Real },
    );
    let (repo, outcome) = crate::run::init(&path, &input, &signer)?;
    let mut config = repo.git.config()?;
    config.set_str("user.email", &input.email)?;
    config.set_str("user.name", &input.name)?;
    let key_path = std::fs::canonicalize(&args.key).unwrap_or(args.key.clone());
    config.set_str("user.signingkey", &key_path.to_string_lossy())?;
    let root = outcome.commit.to_string();
    env.ui.data(
        json!({ "ok": true, "id": input.email, "commit": root, "root": root, "path": path, "record": outcome.effect.record }),
        || {
            format!(
                "Initialized records repository in {}\nroot commit: {root}\n  (pin it in CI: ims verify --trust-root {root})",
                path.display()
            )
        },
    );
    Ok(())
}
