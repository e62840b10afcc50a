//! `ims watch DIR`: drain an inbox folder (`crate::intake::watch`).

use std::path::PathBuf;

use super::Env;
use crate::error::{Error, Result};

pub fn run(env: &Env, dir: PathBuf) -> Result<()> {
    let dir = if dir.is_absolute() { dir } else { env.dir.join(dir) };
    if !dir.is_dir() {
        return Err(Error::invalid(format!("{}: not a directory", dir.display())));
    }
    let repo = env.repo()?;
    let identity = env.identity(&repo)?;
    crate::intake::watch::drain(&repo, &identity, &dir, None, &|line| env.ui.status(line))
}
