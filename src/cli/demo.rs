//! `ims demo`: a sample organisation living through the real procedures (`crate::demo`).

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::Env;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to make the demo repository (default: ./ims-demo).
    pub path: Option<PathBuf>,
    /// The seed: the same seed gives the same repository and site, byte for byte.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// How many days the story runs.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
}

pub fn run(env: &Env, args: DemoArgs) -> Result<()> {
    let path = match args.path {
        Some(p) if p.is_absolute() => p,
        Some(p) => env.dir.join(p),
        None => env.dir.join("ims-demo"),
    };
    let started = std::time::Instant::now();
    let summary = crate::demo::demo(&path, args.seed, args.days, &|line| env.ui.status(line))?;
    let seconds = started.elapsed().as_secs_f64();
    env.ui.data(json!({ "ok": true, "demo": summary, "seconds": seconds }), || {
        format!(
            "demo repository: {} ({} commits, {} incidents, {} changes) in {seconds:.0} s\n\
             verify it:       ims -C {} verify --trust-root {}\n\
             open the site:   {}\n\
             public site:     {}",
            summary.path.display(),
            summary.commits,
            summary.incidents,
            summary.changes,
            summary.path.display(),
            summary.trust_root,
            summary.site.join("index.html").display(),
            summary.path.join("site-public").join("index.html").display()
        )
    });
    Ok(())
}
