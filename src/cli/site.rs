//! `ims site build`: render the records as a static site (`crate::site`); `ims site
//! serve`: build it, serve it over HTTP (loopback by default) and rebuild it after each
//! procedure, with pages reloading themselves (the zola/hugo `serve` habit).

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
    /// Build the site, serve it over HTTP and rebuild it after each procedure; open pages
    /// reload themselves when it changed.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on: loopback unless you name another (port 0: any free one).
    #[arg(long, default_value = "127.0.0.1:8040")]
    pub listen: String,
    /// Where to build it (default: as `ims site build`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// internal (default) or public.
    #[arg(long)]
    pub audience: Option<String>,
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
    match command {
        SiteCommand::Build(args) => build(env, args),
        SiteCommand::Serve(args) => serve(env, args),
    }
}

fn out_and_audience(env: &Env, out: Option<PathBuf>, audience: Option<&str>) -> Result<(PathBuf, Audience)> {
    let repo = env.repo()?;
    let audience: Audience = audience.unwrap_or("internal").parse()?;
    let out = match out {
        Some(p) if p.is_absolute() => p,
        Some(p) => env.dir.join(p),
        None => audience.default_out(repo.root()),
    };
    Ok((out, audience))
}

fn build(env: &Env, args: SiteArgs) -> Result<()> {
    let repo = env.repo()?;
    let (out, audience) = out_and_audience(env, args.out, args.audience.as_deref())?;
    if args.clean {
        site::clean(&repo, &out)?;
    }
    let built = site::build(&repo, &out, audience, crate::run::procedure_now(&repo)?)?;
    report(env, &built);
    if !args.watch {
        return Ok(());
    }
    watch(env, &out, audience, &|| ())
}

fn serve(env: &Env, args: ServeArgs) -> Result<()> {
    let repo = env.repo()?;
    let (out, audience) = out_and_audience(env, args.out, args.audience.as_deref())?;
    // Listen first: an address that cannot be had fails before anything is built.
    let listener = std::net::TcpListener::bind(&args.listen)
        .map_err(|e| Error::invalid(format!("--listen {}: cannot listen: {e}", args.listen)))?;
    let built = site::build(&repo, &out, audience, crate::run::procedure_now(&repo)?)?;
    report(env, &built);
    let addr = listener.local_addr()?;
    let generation = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(1));
    let served = crate::site::serve::Served { root: out.clone(), generation: generation.clone() };
    std::thread::spawn(move || crate::site::serve::accept(listener, served));
    env.ui
        .status(&format!("serving {} at http://{addr}/ (rebuilt after each procedure; Ctrl-C to stop)", out.display()));
    watch(env, &out, audience, &|| {
        generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    })
}

/// Rebuilds after each procedure (each move of the branch), then calls `rebuilt`.
fn watch(env: &Env, out: &std::path::Path, audience: Audience, rebuilt: &dyn Fn()) -> Result<()> {
    let repo = env.repo()?;
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
            let built = site::build(&repo, out, audience, crate::run::procedure_now(&repo)?)?;
            report(env, &built);
            rebuilt();
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
