//! The `ims` command line: clap definitions whose doc comments are the `--help` text,
//! and the one place where errors become exit codes.
//!
//! The tree mirrors the commands: `ims <group> <command>` lives in
//! `src/cli/<group>/<command>.rs` (its flags and what it runs), beside the procedure it
//! runs in `crates/ims-core/src/procedures/<group>/<procedure>.rs`; a group's `mod.rs`
//! holds its clap enum and dispatch. A top-level command (`ims show`, `ims verify`) is
//! `src/cli/<command>.rs`. Nothing here decides policy: a command parses, resolves ids,
//! runs a procedure or a query, and prints.

mod audit;
mod change;
mod completions;
mod config;
mod deliver;
mod demo;
mod doctor;
mod event;
mod evidence;
mod find;
mod hooks;
mod import;
mod incident;
mod intake;
mod kb;
mod person;
mod pir;
mod problem;
mod proposal;
mod repo;
mod report;
mod show;
mod simulation;
mod site;
mod sla;
pub mod style;
mod sync;
mod template;
mod tool;
mod verify;
mod watch;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use serde_json::{json, Value};

use crate::engine::{Effect, Procedure};
use crate::error::{Error, Kind, Result};
use crate::repo::Repo;
use crate::run::{self, Identity};

/// Incident management with no server: signed, replayable procedures over a git repository.
#[derive(Debug, Parser)]
#[command(name = "ims", version, about, long_about = None)]
pub struct Cli {
    /// Run as if started in PATH.
    #[arg(short = 'C', global = true, value_name = "PATH", help_heading = "Global options")]
    pub dir: Option<PathBuf>,
    /// Machine output: exactly one JSON document on stdout.
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
    /// Only the result on stdout (the new record's id, the ids found); no status lines.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub quiet: bool,
    /// More detail on stderr.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub verbose: bool,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto", help_heading = "Global options")]
    pub color: style::ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a new records repository; prints the root commit to pin in CI.
    Init(repo::init::InitArgs),
    /// Show or change the settings in ims.yaml.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Register people, change their roles, teams and keys, revoke them.
    #[command(subcommand)]
    Person(person::PersonCommand),
    /// Bring records to the current schema versions; offer settings added since (incident manager).
    Migrate(repo::migrate::MigrateArgs),
    /// Site template overrides: set or remove (incident manager; two-manager rule).
    #[command(subcommand)]
    Template(template::TemplateCommand),
    /// Person, config and template changes waiting for a second incident manager.
    #[command(subcommand)]
    Proposal(proposal::ProposalCommand),
    /// The incident lifecycle, one signed commit per procedure.
    #[command(subcommand)]
    Incident(incident::IncidentCommand),
    /// Problems: create (with dedupe), update, link, workaround, resolve, close.
    #[command(subcommand)]
    Problem(problem::ProblemCommand),
    /// Change requests: request, approve, reject, implement, review, close.
    #[command(subcommand)]
    Change(change::ChangeCommand),
    /// Knowledge base: draft, submit, publish, update, retire.
    #[command(subcommand)]
    Kb(kb::KbCommand),
    /// Post-incident reviews: action items, overdue reviews.
    #[command(subcommand)]
    Pir(pir::PirCommand),
    /// Record the use of an allowed tool (ims executes nothing).
    #[command(subcommand)]
    Tool(tool::ToolCommand),
    /// Record an incident response simulation (incident manager).
    #[command(subcommand)]
    Simulation(simulation::SimulationCommand),
    /// Monitoring intake: record events; qualifying alerts open incidents.
    #[command(subcommand)]
    Event(event::EventCommand),
    /// Bring incident history from a status page or an ITSM export (incident manager).
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Ingest each file that lands in DIR (moved to processed/ or rejected/ after).
    Watch {
        /// The inbox folder to watch.
        #[arg(value_name = "DIR")]
        inbox: PathBuf,
    },
    /// Monitoring intake over HTTP: `ims intake serve --listen ADDR`.
    #[command(subcommand)]
    Intake(intake::IntakeCommand),
    /// Show one record by id (or any unambiguous prefix of it).
    Show(show::ShowArgs),
    /// Find records by their fields (an audited read).
    Find(Box<find::FindArgs>),
    /// The audit trail: one entry per audited action, with field deltas and signature status.
    Audit(audit::AuditArgs),
    /// Service levels: incidents at risk or in breach; escalate breaches.
    #[command(subcommand)]
    Sla(sla::SlaCommand),
    /// Send the communications owed by email and chat; record the outcomes (automation).
    Deliver(deliver::DeliverArgs),
    /// KPIs for a day, week or month, with the previous period beside them.
    Report(report::ReportArgs),
    /// The static site: dashboard, incidents, problems, changes, KB, reviews, reports, audit log, feed.
    #[command(subcommand)]
    Site(site::SiteCommand),
    /// A sample organisation living 90 days through the real procedures, and its site.
    Demo(demo::DemoArgs),
    /// Prove the history offline: signatures, authorization, replay, merges, read audits.
    Verify(VerifyArgs),
    /// Fetch, replay your unpushed procedures onto the remote tip, and push with a lease.
    Sync(SyncArgs),
    /// The caches, stale locks and object store: report, and with --fix clear what can only cost time.
    Doctor(doctor::DoctorArgs),
    /// Git hooks: `ims hooks install` adds a pre-push hook that runs `ims verify`.
    #[command(subcommand)]
    Hooks(HooksCommand),
    /// Evidence for auditors: a period's records, audit trail, verdict and history in one folder.
    #[command(subcommand)]
    Evidence(evidence::EvidenceCommand),
    /// Shell completions on stdout: `ims completions bash > ~/.local/share/bash-completion/completions/ims`.
    Completions(completions::CompletionsArgs),
    /// The manual pages: ims.1 on stdout, or every command's page with `--dir DIR`.
    Man(completions::ManArgs),
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Only the commits of B not in A (`A..B`), as CI does for a pull request.
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// The root commit the history must start at (printed by `ims init`).
    #[arg(long, value_name = "COMMIT")]
    pub trust_root: Option<String>,
    /// Neither read nor write the verification cache.
    #[arg(long)]
    pub no_cache: bool,
    /// A read-audit ref that the history anchors but that is absent is a violation, not
    /// a warning (for auditors who fetched every ref).
    #[arg(long)]
    pub require_read_audit: bool,
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Push the result (with a lease) after replaying.
    #[arg(long)]
    pub push: bool,
    /// The remote to sync with.
    #[arg(long, default_value = "origin")]
    pub remote: String,
}

#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Install a pre-push hook that refuses to push history `ims verify` rejects.
    Install {
        /// Pin this trust root in the hook.
        #[arg(long, value_name = "COMMIT")]
        trust_root: Option<String>,
    },
}

/// Where output goes: data to stdout, status to stderr.
pub struct Ui {
    pub json: bool,
    pub quiet: bool,
    /// Colour human output ([`style::ColorChoice::enabled`]).
    pub color: bool,
}

impl Ui {
    /// Prints a query's document (JSON) or its human text.
    pub fn data(&self, doc: Value, human: impl FnOnce() -> String) {
        let mut out = std::io::stdout().lock();
        // Human text is escaped here, once for every command: nothing a record or the
        // history holds can steer the terminal (crate::terminal).
        let text = if self.json { doc.to_string() } else { crate::terminal::escape(&human()) };
        let _ = writeln!(out, "{}", text.trim_end_matches('\n'));
    }

    /// Prints a query's document (JSON) or its human text, which the caller built from
    /// values already escaped ([`crate::terminal::line`]) and may have coloured
    /// ([`style`]); with `-q`, `quiet` (one result per line) instead.
    pub fn data_styled(&self, doc: Value, human: impl FnOnce(style::Style) -> String, quiet: impl FnOnce() -> String) {
        let mut out = std::io::stdout().lock();
        let text = if self.json {
            doc.to_string()
        } else if self.quiet {
            crate::terminal::escape(&quiet())
        } else {
            human(self.style())
        };
        if !text.is_empty() {
            let _ = writeln!(out, "{}", text.trim_end_matches('\n'));
        }
    }

    pub fn style(&self) -> style::Style {
        style::Style { on: self.color && !self.json }
    }

    /// Says on stderr that a list is empty (nothing on stdout), unless `-q` or `--json`.
    pub fn empty(&self, what: &str) {
        self.status(what);
    }

    pub fn status(&self, line: &str) {
        if !self.quiet && !self.json {
            eprintln!("{}", crate::terminal::escape(line));
        }
    }
}

/// The context every command gets.
pub struct Env {
    pub ui: Ui,
    pub dir: PathBuf,
    /// The command's time, read once ([`Env::now`]).
    pub clock: std::cell::OnceCell<chrono::DateTime<chrono::Utc>>,
}

impl Env {
    pub fn repo(&self) -> Result<Repo> {
        Repo::discover(&self.dir)
    }

    pub fn identity(&self, repo: &Repo) -> Result<Identity> {
        Identity::from_env(&repo.git)
    }

    /// The command's one clock: the procedure's `now` (`IMS_NOW` in a simulated-clock
    /// repository, else the system clock, never before the tip), read once, so the ids,
    /// the record and every "now" a command shows agree.
    pub fn now(&self, repo: &Repo) -> Result<chrono::DateTime<chrono::Utc>> {
        if let Some(t) = self.clock.get() {
            return Ok(*t);
        }
        let t = run::procedure_now(repo)?;
        Ok(*self.clock.get_or_init(|| t))
    }

    /// Runs a procedure and reports it.
    pub fn run<P: Procedure>(&self, repo: &Repo, input: &P::Input) -> Result<()> {
        let identity = self.identity(repo)?;
        let outcome = run::run_at::<P>(repo, &identity, input, self.now(repo)?)?;
        self.report(&outcome.effect, outcome.commit);
        Ok(())
    }

    pub fn report(&self, effect: &Effect, commit: git2::Oid) {
        let doc = json!({
            "ok": true,
            "id": effect.id,
            "commit": commit.to_string(),
            "record": effect.record,
        });
        if self.ui.quiet && !self.ui.json {
            // `-q`: only the result, the new or changed record's id (else the commit).
            println!("{}", effect.id.clone().unwrap_or_else(|| commit.to_string()));
            return;
        }
        self.ui.data(doc, || {
            let mut text = format!("{}\n", effect.subject);
            if let Some(id) = &effect.id {
                text.push_str(&format!("  id:     {id}\n"));
            }
            text.push_str(&format!("  commit: {commit}\n"));
            text
        });
    }
}

static DOCUMENT_PRINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A command that fails after printing its own `--json` document (with `ok: false` and
/// the error in it) says so, so only the exit code follows.
pub fn document_printed() {
    DOCUMENT_PRINTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Parses the command line, runs it, and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { Kind::Usage.exit_code() } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let json = cli.json;
    let dir = match &cli.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    };
    let color = cli.color.enabled();
    let env = Env { ui: Ui { json, quiet: cli.quiet, color }, dir, clock: Default::default() };
    match dispatch(&env, cli.command) {
        Ok(()) => 0,
        Err(e) => {
            // `ims verify` printed its own document; the error only sets the exit code.
            if json && e.kind != Kind::Verify && !DOCUMENT_PRINTED.load(std::sync::atomic::Ordering::Relaxed) {
                println!("{}", json!({ "ok": false, "error": error_document(&e) }));
            }
            eprintln!("error: {}", crate::terminal::line(&e.message));
            e.kind.exit_code()
        }
    }
}

/// The `error` of a failed command's `--json` document: its class and message, and for a
/// procedure's halt the policy step (`incident.close/1 step 2`) and the field it refused,
/// where the halt names them.
fn error_document(e: &Error) -> serde_json::Value {
    let mut doc = json!({ "code": e.kind.name(), "message": e.message });
    if let Some(step) = e.halt.step {
        doc["step"] = json!(step.to_string());
    }
    if let Some(field) = &e.halt.field {
        doc["field"] = json!(field);
    }
    doc
}

fn dispatch(env: &Env, command: Command) -> Result<()> {
    match command {
        Command::Init(args) => repo::init::run(env, args),
        Command::Config(c) => config::run(env, c),
        Command::Person(c) => person::run(env, c),
        Command::Proposal(c) => proposal::run(env, c),
        Command::Template(c) => template::run(env, c),
        Command::Migrate(args) => repo::migrate::run(env, args),
        Command::Incident(c) => incident::run(env, c),
        Command::Problem(c) => problem::run(env, c),
        Command::Change(c) => change::run(env, c),
        Command::Kb(c) => kb::run(env, c),
        Command::Pir(c) => pir::run(env, c),
        Command::Tool(c) => tool::run(env, c),
        Command::Simulation(c) => simulation::run(env, c),
        Command::Sla(c) => sla::run(env, c),
        Command::Deliver(args) => deliver::deliver(env, args),
        Command::Site(c) => site::run(env, c),
        Command::Demo(args) => demo::run(env, args),
        Command::Report(args) => report::run(env, args),
        Command::Verify(args) => verify::run(env, args),
        Command::Sync(args) => sync::run(env, args),
        Command::Doctor(args) => doctor::run(env, args),
        Command::Hooks(HooksCommand::Install { trust_root }) => hooks::install(env, trust_root),
        Command::Event(c) => event::run(env, c),
        Command::Watch { inbox } => watch::run(env, inbox),
        Command::Intake(c) => intake::run(env, c),
        Command::Import(c) => import::import(env, c),
        Command::Show(args) => show::run(env, args),
        Command::Find(args) => find::run(env, *args),
        Command::Audit(args) => audit::run(env, args),
        Command::Evidence(c) => evidence::run(env, c),
        Command::Completions(args) => completions::completions(env, args),
        Command::Man(args) => completions::man(env, args),
    }
}

/// A new proposal id, made at the command's clock (person, config and template changes
/// wait as proposals when there are two incident managers).
pub fn proposal_id(env: &Env, repo: &Repo) -> Result<String> {
    Ok(crate::ids::new_id(crate::ids::RecordKind::Proposal, env.now(repo)?))
}

/// Parses a policy word, giving exit 3 (not clap's 2) for an unknown value.
pub fn parse<T: std::str::FromStr<Err = ims_core::error::Error>>(text: &str) -> Result<T> {
    Ok(text.parse()?)
}

/// Parses an optional policy word.
pub fn parse_opt<T: std::str::FromStr<Err = ims_core::error::Error>>(text: Option<&str>) -> Result<Option<T>> {
    text.map(parse).transpose()
}

/// Resolves an id or prefix at the branch tip.
pub fn resolve(repo: &Repo, text: &str) -> Result<String> {
    let snap = repo.snapshot(repo.tip()?)?;
    Ok(crate::model::resolve(&snap, text)?.id)
}

/// Parses a time given on the command line: RFC 3339 or a date (midnight UTC).
pub fn parse_time(field: &str, text: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
        .map_err(|_| Error::invalid(format!("{field}: `{text}` is not a date (2026-11-26) or an RFC 3339 time")))
}
