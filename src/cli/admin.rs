//! `ims init`, `ims config`, `ims person`, `ims proposal`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::Env;
use crate::error::{Error, Result};
use crate::ids::{new_id, RecordKind};
use crate::model::config::Clock;
use crate::model::enums::{parse_list, Role, Team};
use crate::model::{self, Snapshot};
use crate::procedures::admin::{
    self as procs, ConfigSet, PersonAdd, PersonRevoke, PersonUpdate, ProposalApprove, ProposalReject,
};
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

pub fn init(env: &Env, args: InitArgs) -> Result<()> {
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

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print ims.yaml.
    Show,
    /// Set one setting (a dotted path into ims.yaml) to a YAML value.
    Set {
        key: String,
        /// A YAML value: `30m`, `[web, db]`, `null`, `{high: 2}`.
        value: String,
    },
}

pub fn config(env: &Env, command: ConfigCommand) -> Result<()> {
    let repo = env.repo()?;
    match command {
        ConfigCommand::Show => {
            let snap = repo.snapshot(repo.tip()?)?;
            let text = String::from_utf8_lossy(&snap.read_required(model::config::PATH)?).into_owned();
            let value = crate::yaml::to_value(&text, "ims.yaml")?;
            env.ui.data(json!({ "ok": true, "config": value }), || text);
            Ok(())
        }
        ConfigCommand::Set { key, value } => {
            let value: Value = crate::yaml::to_value(&value, "value")?;
            let input = procs::ConfigSetInput { key, value, proposal_id: proposal_id(env, &repo)? };
            env.run::<ConfigSet>(&repo, &input)
        }
    }
}

fn proposal_id(env: &Env, repo: &crate::repo::Repo) -> Result<String> {
    Ok(new_id(RecordKind::Proposal, env.now(repo)?))
}

#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// Register a person.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// One or more roles, comma-separated.
        #[arg(long)]
        role: String,
        /// Teams, comma-separated.
        #[arg(long)]
        team: Option<String>,
        /// Their SSH public key file (end users may have none).
        #[arg(long, value_name = "PUBKEY_FILE")]
        key: Option<PathBuf>,
    },
    /// Change a person's roles, teams, name or key (the old key stops signing).
    Update {
        email: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        team: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_name = "PUBKEY_FILE")]
        key: Option<PathBuf>,
    },
    /// Revoke a person: their keys sign nothing from now on.
    Revoke {
        email: String,
        #[arg(long)]
        reason: Option<String>,
        /// The key was compromised: their commits after COMMIT are void too.
        #[arg(long, value_name = "COMMIT")]
        compromised_since: Option<String>,
    },
    /// List registered people.
    List,
}

fn read_key(path: Option<PathBuf>) -> Result<Option<String>> {
    path.map(|p| {
        let text = String::from_utf8(crate::repo::read_capped(&p, crate::repo::caps::KEY, "--key")?)
            .map_err(|_| Error::invalid(format!("--key {}: not UTF-8 text", p.display())))?;
        Ok(signing::key_line(&signing::parse_public(&text, "--key")?)?)
    })
    .transpose()
}

pub fn person(env: &Env, command: PersonCommand) -> Result<()> {
    let repo = env.repo()?;
    match command {
        PersonCommand::Add { email, name, role, team, key } => {
            let snap = repo.snapshot(repo.tip()?)?;
            let registered = model::registered_email(&snap, &email)?;
            if registered != email.trim() {
                if let Some(existing) = model::person(&snap, &registered)? {
                    return Err(Error::conflict(format!(
                        "email: {} is already registered as {} ({}); {}",
                        email.trim(),
                        existing.email,
                        existing.name,
                        procs::SAME_EMAIL
                    )));
                }
            }
            let input = procs::PersonAddInput {
                // Stored in its comparison form: one person, however their email is spelled.
                email: model::email_key(&email),
                name,
                roles: parse_list::<Role>(&role)?,
                teams: team.as_deref().map(parse_list::<Team>).transpose()?.unwrap_or_default(),
                key: read_key(key)?,
                proposal_id: proposal_id(env, &repo)?,
            };
            env.run::<PersonAdd>(&repo, &input)
        }
        PersonCommand::Update { email, role, team, name, key } => {
            let email = model::registered_email(&repo.snapshot(repo.tip()?)?, &email)?;
            let input = procs::PersonUpdateInput {
                email,
                roles: role.as_deref().map(parse_list::<Role>).transpose()?,
                teams: team.as_deref().map(parse_list::<Team>).transpose()?,
                key: read_key(key)?,
                name,
                proposal_id: proposal_id(env, &repo)?,
            };
            env.run::<PersonUpdate>(&repo, &input)
        }
        PersonCommand::Revoke { email, reason, compromised_since } => {
            let email = model::registered_email(&repo.snapshot(repo.tip()?)?, &email)?;
            let compromised_since = match compromised_since {
                Some(c) => {
                    let oid = repo
                        .git
                        .revparse_single(&c)
                        .and_then(|o| o.peel_to_commit())
                        .map_err(|_| Error::invalid(format!("--compromised-since: `{c}` is not a commit here")))?
                        .id();
                    Some(oid.to_string())
                }
                None => None,
            };
            let input =
                procs::PersonRevokeInput { email, reason, compromised_since, proposal_id: proposal_id(env, &repo)? };
            env.run::<PersonRevoke>(&repo, &input)
        }
        PersonCommand::List => {
            let snap = repo.snapshot(repo.tip()?)?;
            let people = model::people(&snap)?;
            let doc = json!({ "ok": true, "people": people });
            env.ui.data(doc, || {
                people
                    .iter()
                    .map(|p| {
                        let roles: Vec<&str> = p.roles.iter().map(|r| r.as_str()).collect();
                        let state = if p.revoked { " (revoked)" } else { "" };
                        format!("{:<32} {:<24} {}{state}\n", p.email, p.name, roles.join(","))
                    })
                    .collect()
            });
            Ok(())
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ProposalCommand {
    /// Proposals waiting for a decision.
    List {
        /// Show decided ones too.
        #[arg(long)]
        all: bool,
    },
    /// Approve: the change takes effect in this commit.
    Approve { id: String },
    /// Reject it.
    Reject {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

pub fn proposal(env: &Env, command: ProposalCommand) -> Result<()> {
    let repo = env.repo()?;
    match command {
        ProposalCommand::List { all } => {
            let snap = repo.snapshot(repo.tip()?)?;
            let mut filters = crate::query::Filters::default();
            if !all {
                filters.equals.insert("status".into(), "pending".into());
            }
            let found = crate::query::find(&snap, RecordKind::Proposal, &filters)?;
            let text = found
                .iter()
                .map(|p| {
                    let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    format!("{}  {:<8}  {}  (by {})\n", s("proposal_id"), s("status"), s("summary"), s("proposed_by"))
                })
                .collect::<String>();
            env.ui.data(json!({ "ok": true, "proposals": found }), || text);
            Ok(())
        }
        ProposalCommand::Approve { id } => {
            let id = super::resolve(&repo, &id)?;
            env.run::<ProposalApprove>(&repo, &procs::ProposalDecideInput { id, reason: None })
        }
        ProposalCommand::Reject { id, reason } => {
            let id = super::resolve(&repo, &id)?;
            env.run::<ProposalReject>(&repo, &procs::ProposalDecideInput { id, reason })
        }
    }
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Add the settings this ims knows that ims.yaml lacks, at their defaults (one signed
    /// `config.set` each; with two incident managers, each waits as a proposal).
    #[arg(long)]
    pub settings: bool,
}

/// `ims migrate`: brings records to the current schema versions. This version knows
/// one version of each schema, so it checks that every record is at it and that
/// nothing needs a migration procedure; a record at a version it does not know is an
/// error naming it (it was written by a newer ims). Settings added since the repository
/// was made are listed, and added with `--settings`.
pub fn migrate(env: &Env, args: MigrateArgs) -> Result<()> {
    let repo = env.repo()?;
    let snap = repo.snapshot(repo.tip()?)?;
    let actor = crate::run::actor_from_env(&repo.git)
        .ok_or_else(|| Error::forbidden("no actor: set IMS_ACTOR or `git config user.email`"))?;
    let person = model::person(&snap, &actor)?
        .ok_or_else(|| Error::forbidden(format!("actor {actor}: not a registered person")))?;
    if !person.has_role(Role::IncidentManager) || person.revoked {
        return Err(Error::forbidden(format!("migrate: {actor} is not an active incident manager")));
    }
    let current: Vec<&str> = crate::schema::SCHEMAS.iter().map(|(n, _)| *n).collect();
    let mut checked = 0;
    let mut paths: Vec<String> = vec![model::config::PATH.to_string()];
    paths.extend(model::people(&snap)?.iter().map(|p| model::person::path(&p.email)));
    for kind in RecordKind::ALL {
        paths.extend(model::all_records(&snap, kind)?.into_iter().map(|(p, _)| p));
    }
    for path in &paths {
        let bytes = snap.read_required(path)?;
        let value = crate::yaml::to_value(&String::from_utf8_lossy(&bytes), path)?;
        let version = value.get("schema").and_then(Value::as_str).unwrap_or("");
        if !current.contains(&version) {
            return Err(Error::invalid(format!("{path}: schema `{version}` is not one this ims knows; upgrade ims")));
        }
        checked += 1;
    }
    let config_text = String::from_utf8_lossy(&snap.read_required(model::config::PATH)?).into_owned();
    let present = crate::yaml::to_value(&config_text, model::config::PATH)?;
    let missing: Vec<(&str, Value)> = model::config::new_settings()
        .into_iter()
        .filter(|(key, _)| key.split('.').try_fold(&present, |v, part| v.get(part)).is_none())
        .collect();
    let mut commits = Vec::new();
    if args.settings {
        let identity = env.identity(&repo)?;
        for (key, value) in &missing {
            let input = procs::ConfigSetInput {
                key: key.to_string(),
                value: value.clone(),
                proposal_id: proposal_id(env, &repo)?,
            };
            commits.push(crate::run::run::<ConfigSet>(&repo, &identity, &input)?.commit.to_string());
        }
    }
    let names: Vec<&str> = missing.iter().map(|(k, _)| *k).collect();
    let doc = json!({
        "ok": true, "checked": checked, "migrated": 0,
        "missing_settings": missing.iter().map(|(k, v)| json!({"key": k, "default": v})).collect::<Vec<_>>(),
        "commits": commits,
    });
    env.ui.data(doc, || {
        let mut text = format!("all {checked} records are at the current schema versions; nothing to migrate\n");
        if missing.is_empty() {
        } else if args.settings {
            text.push_str(&format!("added settings: {} ({} commits)\n", names.join(", "), commits.len()));
        } else {
            for (key, value) in &missing {
                text.push_str(&format!("ims.yaml lacks `{key}` (behaves as its default: {value})\n"));
            }
            text.push_str("add them with `ims migrate --settings` (one signed config.set each)\n");
        }
        text
    });
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Override the built-in site template NAME (e.g. base.html) with FILE.
    Set {
        name: String,
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Drop the override of NAME: the built-in template is used again.
    Remove { name: String },
    /// The built-in template names and which are overridden.
    List,
}

/// Reads a template file given on the command line: a regular file (not a symbolic
/// link), at most [`MAX_TEMPLATE_BYTES`] bytes.
fn read_template_file(path: &std::path::Path) -> Result<Vec<u8>> {
    use crate::procedures::template::MAX_TEMPLATE_BYTES;
    use std::io::Read;
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| Error::invalid(format!("template file {}: {e}", path.display())))?;
    if meta.file_type().is_symlink() {
        return Err(Error::invalid(format!("template file {}: a symbolic link; give the file itself", path.display())));
    }
    if !meta.is_file() {
        return Err(Error::invalid(format!("template file {}: not a regular file", path.display())));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_TEMPLATE_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::invalid(format!("template file {}: {e}", path.display())))?;
    Ok(bytes)
}

pub fn template(env: &Env, command: TemplateCommand) -> Result<()> {
    use crate::procedures::template::{self as tp, TemplateRemove, TemplateSet};
    let repo = env.repo()?;
    match command {
        TemplateCommand::Set { name, file } => {
            let file = if file.is_absolute() { file } else { env.dir.join(file) };
            let bytes = read_template_file(&file)?;
            // Checked before anything is staged, naming the file.
            let text = tp::check_template(&name, &bytes)?;
            crate::site::check_template(&name, &text)?;
            // The file is named by its blob id and handed to the procedure through an
            // overlay snapshot; the commit stores it.
            let blob = git2::Oid::hash_object(git2::ObjectType::Blob, &bytes)?.to_string();
            let staged = std::collections::BTreeMap::from([(blob.clone(), bytes)]);
            let input = tp::TemplateSetInput { name, blob, proposal_id: proposal_id(env, &repo)? };
            let identity = env.identity(&repo)?;
            let outcome = crate::run::run_staged::<TemplateSet>(&repo, &identity, &input, env.now(&repo)?, &staged)?;
            env.report(&outcome.effect, outcome.commit);
            Ok(())
        }
        TemplateCommand::Remove { name } => {
            env.run::<TemplateRemove>(&repo, &tp::TemplateRemoveInput { name, proposal_id: proposal_id(env, &repo)? })
        }
        TemplateCommand::List => {
            let snap = repo.snapshot(repo.tip()?)?;
            let mut rows = Vec::new();
            for name in crate::site::template_names() {
                let own = snap.blob_id(&tp::path(name))?;
                rows.push(json!({ "name": name, "overridden": own.is_some(), "blob": own.map(|o| o.to_string()) }));
            }
            env.ui.data(json!({ "ok": true, "templates": rows }), || {
                rows.iter()
                    .map(|r| {
                        let state = if r["overridden"] == true { "overridden" } else { "built-in" };
                        format!("{:<16} {state}\n", r["name"].as_str().unwrap_or(""))
                    })
                    .collect()
            });
            Ok(())
        }
    }
}
