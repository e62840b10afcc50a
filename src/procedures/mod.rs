//! Every governed procedure, and the table that finds one by its versioned id for
//! replay. A released version is frozen: changing behaviour means a new version here,
//! with the old one kept so history still replays.

pub mod admin;
pub mod incident;

use serde_json::Value;

use crate::engine::{apply_json, Ctx, Effect, Procedure};
use crate::error::{Error, Result};

macro_rules! registry {
    ($($p:ty),+ $(,)?) => {
        /// Every procedure id this version of ims can replay.
        pub const IDS: &[&str] = &[$(<$p as Procedure>::ID),+];

        /// Applies the procedure named `id` (with its version) to a JSON input.
        pub fn apply_by_id(id: &str, ctx: &Ctx, input: &Value) -> Result<Effect> {
            $(if id == <$p as Procedure>::ID { return apply_json::<$p>(ctx, input); })+
            Err(Error::invalid(format!("unknown procedure `{id}`: made by a newer ims?")))
        }
    };
}

registry!(
    admin::Init,
    admin::ConfigSet,
    admin::PersonAdd,
    admin::PersonUpdate,
    admin::PersonRevoke,
    admin::ProposalApprove,
    admin::ProposalReject,
    incident::identify::Identify,
    incident::log::Log,
    incident::categorize::Categorize,
    incident::prioritize::Prioritize,
    incident::assign::Assign,
    incident::diagnose::Diagnose,
    incident::escalate::Escalate,
    incident::vendor::Vendor,
    incident::resume::Resume,
    incident::resolve::Resolve,
    incident::reopen::Reopen,
    incident::notify::Notify,
    incident::close::Close,
    incident::feedback::GiveFeedback,
);
