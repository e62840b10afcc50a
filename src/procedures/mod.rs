//! Every governed procedure, and the table that finds one by its versioned id for
//! replay. A released version is frozen: changing behaviour means a new version here,
//! with the old one kept so history still replays.

pub mod activity;
pub mod admin;
pub mod change;
pub mod event;
pub mod incident;
pub mod kb;
pub mod pir;
pub mod problem;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::engine::{apply_json, Ctx, Effect, Procedure};
use crate::error::{Error, Result};
use crate::ids::{RecordId, RecordKind};

/// Loads a record of `kind` by its full id (the shell resolves prefixes).
pub fn load<T: DeserializeOwned>(ctx: &Ctx, id: &str, kind: RecordKind) -> Result<(RecordId, T)> {
    let rid = RecordId::parse(id, kind.entity())?;
    if rid.kind != kind {
        return Err(Error::invalid(format!("{id}: not a {} id", kind.entity())));
    }
    let record = crate::model::record(ctx.snap, &rid)?;
    Ok((rid, record))
}

/// Checks an id the shell made for a new record of `kind`, and that it is free.
pub fn new_id(ctx: &Ctx, id: &str, kind: RecordKind) -> Result<RecordId> {
    let rid = RecordId::parse(id, "id")?;
    if rid.kind != kind {
        return Err(Error::invalid(format!("id: {id} is not a {} id", kind.entity())));
    }
    if ctx.snap.read(&rid.path())?.is_some() {
        return Err(Error::conflict(format!("{}: a {} with this id exists", rid.id, kind.entity())));
    }
    Ok(rid)
}

/// Adds `id` to a list of links once.
pub fn link(list: &mut Vec<String>, id: &str) -> bool {
    if list.iter().any(|x| x == id) {
        return false;
    }
    list.push(id.to_string());
    true
}

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
    incident::link_change::LinkChange,
    incident::review::Review,
    incident::sla_escalate::SlaEscalate,
    incident::import::Import,
    pir::action::UpdateAction,
    problem::create::Create,
    problem::update::Update,
    problem::link::Link,
    problem::workaround::Workaround,
    problem::resolve::Resolve,
    problem::close::Close,
    change::request::Request,
    change::approve::Approve,
    change::reject::Reject,
    change::implement::Implement,
    change::review::Review,
    change::close::Close,
    kb::draft::Draft,
    kb::submit::Submit,
    kb::publish::Publish,
    kb::update::Update,
    kb::retire::Retire,
    activity::tool_record::Record,
    activity::simulation_record::Record,
    event::ingest::Ingest,
);
