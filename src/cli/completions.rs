//! `ims completions SHELL` and `ims man`: shell completions (clap_complete) and manual
//! pages (clap_mangen), made from the same clap tree as `--help`, so they cannot drift.

use std::path::PathBuf;

use clap::{Args, CommandFactory, ValueEnum};

use super::{Cli, Env};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish or powershell.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write ims.1 and one page per command (ims-incident-identify.1, …) into DIR,
    /// instead of printing ims.1 on stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn completions(_env: &Env, a: CompletionsArgs) -> Result<()> {
    let shell = match a.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    clap_complete::generate(shell, &mut Cli::command(), "ims", &mut std::io::stdout());
    Ok(())
}

pub fn man(env: &Env, a: ManArgs) -> Result<()> {
    let cmd = Cli::command();
    match a.dir {
        None => {
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map_err(|e| Error::internal(format!("man page: {e}")))?;
        }
        Some(dir) => {
            let dir = if dir.is_absolute() { dir } else { env.dir.join(dir) };
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::invalid(format!("{}: cannot make the folder: {e}", dir.display())))?;
            clap_mangen::generate_to(cmd, &dir)
                .map_err(|e| Error::invalid(format!("{}: cannot write the pages: {e}", dir.display())))?;
            let pages = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
            env.ui.status(&format!("wrote {pages} manual pages to {}", dir.display()));
        }
    }
    Ok(())
}
