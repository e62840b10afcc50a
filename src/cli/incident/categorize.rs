//! `ims incident categorize`: set the category.

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse, resolve};
use crate::error::Result;
use crate::procedures::incident::categorize;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct CategorizeArgs {
    pub id: String,
    #[arg(long)]
    pub category: String,
    #[arg(long)]
    pub subcategory: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: CategorizeArgs) -> Result<()> {
    let input =
        categorize::Input { id: resolve(repo, &a.id)?, category: parse(&a.category)?, subcategory: a.subcategory };
    env.run::<categorize::Categorize>(repo, &input)
}
