//! `ims template set NAME FILE`: override a built-in site template.

use std::path::PathBuf;

use clap::Args;

use crate::cli::{proposal_id, Env};
use crate::error::{Error, Result};
use crate::procedures::template as tp;
use crate::procedures::template::set::{TemplateSet, TemplateSetInput};
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The template to override (a file name of templates/, e.g. incident.html).
    pub name: String,
    /// The new template file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

pub fn run(env: &Env, repo: &Repo, a: SetArgs) -> Result<()> {
    let file = if a.file.is_absolute() { a.file } else { env.dir.join(a.file) };
    let bytes = read_template_file(&file)?;
    // Checked before anything is staged, naming the file.
    let text = tp::check_template(&a.name, &bytes)?;
    crate::site::check_template(&a.name, &text)?;
    // The file is named by its blob id and handed to the procedure through an
    // overlay snapshot; the commit stores it.
    let blob = git2::Oid::hash_object(git2::ObjectType::Blob, &bytes)?.to_string();
    let staged = std::collections::BTreeMap::from([(blob.clone(), bytes)]);
    let input = TemplateSetInput { name: a.name, blob, proposal_id: proposal_id(env, repo)? };
    let identity = env.identity(repo)?;
    let outcome = crate::run::run_staged::<TemplateSet>(repo, &identity, &input, env.now(repo)?, &staged)?;
    env.report(&outcome.effect, outcome.commit);
    Ok(())
}

/// Reads a template file given on the command line: a regular file (not a symbolic
/// link), at most [`tp::MAX_TEMPLATE_BYTES`] bytes.
fn read_template_file(path: &std::path::Path) -> Result<Vec<u8>> {
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
        .and_then(|f| f.take(tp::MAX_TEMPLATE_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::invalid(format!("template file {}: {e}", path.display())))?;
    Ok(bytes)
}
