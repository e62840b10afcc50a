//! `ims site build`: render the records as a static site (`crate::site`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::json;

use super::Env;
use crate::error::{Error, Result};
use crate::site::{self, Audience};

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Render the records as a static site.
    Build(SiteArgs),
}

#[derive(Debug, Args)]
pub struct SiteArgs {
    /// Where to write it (default: `site` in the repository for internal, `site-public`
    /// for public).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// internal (default) or public.
    #[arg(long)]
    pub audience: Option<String>,
    /// Empty the folder first (needed to build into a folder holding the other
    /// audience's build).
    #[arg(long)]
    pub clean: bool,
    /// Rebuild after each procedure (each move of the branch).
    #[arg(long)]
    pub watch: bool,
}

pub fn run(env: &Env, command: SiteCommand) -> Result<()> {
    let SiteCommand::Build(args) = command;
    let repo = env.repo()?;
    let audience: Audience = args.audience.as_deref().unwrap_or("internal").parse()?;
    let out = match args.out {
        Some(p) if p.is_absolute() => p,
        Some(p) => env.dir.join(p),
        None => audience.default_out(repo.root()),
    };
    if args.clean {
        site::clean(&repo, &out)?;
    }
    let built = site::build(&repo, &out, audience, crate::run::procedure_now(&repo)?)?;
    report(env, &built);
    if !args.watch {
        return Ok(());
    }
    // Watch the refs: every procedure moves the branch.
    use notify::Watcher;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
        if e.is_ok() {
            let _ = tx.send(());
        }
    })
    .map_err(|e| Error::internal(format!("watch: {e}")))?;
    watcher
        .watch(repo.git.path(), notify::RecursiveMode::Recursive)
        .map_err(|e| Error::internal(format!("watch: {e}")))?;
    env.ui.status("watching for procedures; Ctrl-C to stop");
    let mut last = repo.tip()?;
    while rx.recv().is_ok() {
        // Let a burst of file events settle.
        while rx.recv_timeout(Duration::from_millis(200)).is_ok() {}
        let repo = env.repo()?;
        let tip = repo.tip()?;
        if tip != last {
            last = tip;
            let built = site::build(&repo, &out, audience, crate::run::procedure_now(&repo)?)?;
            report(env, &built);
        }
    }
    Ok(())
}

fn report(env: &Env, built: &site::Built) {
    let doc = json!({ "ok": true, "out": built.out, "pages": built.pages, "written": built.written,
                      "rendered_incident_pages": built.rendered });
    env.ui.data(doc, || {
        format!(
            "built {} pages ({} changed, {} incident pages rendered) in {}\nopen {}",
            built.pages,
            built.written,
            built.rendered,
            built.out.display(),
            built.out.join("index.html").display()
        )
    });
}
