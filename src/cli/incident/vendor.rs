//! `ims incident vendor`: engage a vendor.

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse, resolve};
use crate::error::Result;
use crate::procedures::incident::vendor;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct VendorArgs {
    pub id: String,
    #[arg(long)]
    pub vendor: String,
    /// phone, email, vendor_portal or API.
    #[arg(long)]
    pub contact_method: String,
    #[arg(long)]
    pub vendor_ref: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: VendorArgs) -> Result<()> {
    let input = vendor::Input {
        id: resolve(repo, &a.id)?,
        vendor: a.vendor,
        contact_method: parse(&a.contact_method)?,
        vendor_ref: a.vendor_ref,
        vendor_engagement_id: super::com_id(env.now(repo)?).replacen("COM-", "VEN-", 1),
    };
    env.run::<vendor::Vendor>(repo, &input)
}
