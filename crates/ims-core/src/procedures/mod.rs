//! Every governed procedure, and the table that finds one by its versioned id for
//! replay. A released version is frozen: changing behaviour means a new version here,
//! with the old one kept so history still replays.

pub mod activity;
pub mod change;
pub mod communication;
pub mod config;
pub mod event;
pub mod incident;
pub mod kb;
pub mod person;
pub mod pir;
pub mod problem;
pub mod proposal;
pub mod repo;
pub mod template;
pub(crate) mod testing;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::engine::{apply_json, Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::ids::{RecordId, RecordKind};
use crate::model::Record;

/// Loads a record of `kind` by its full id (the shell resolves prefixes).
pub fn load<T: DeserializeOwned>(ctx: &Ctx, id: &str, kind: RecordKind) -> Result<(RecordId, T)> {
    loaded(ctx, id, kind).field("id")
}

fn loaded<T: DeserializeOwned>(ctx: &Ctx, id: &str, kind: RecordKind) -> Result<(RecordId, T)> {
    let rid = RecordId::parse(id, kind.entity())?;
    if rid.kind != kind {
        let article = if kind.entity().starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        return Err(Error::invalid(format!("{id}: not {article} {} id", kind.entity())));
    }
    let record = crate::model::record(ctx.snap, &rid)?;
    Ok((rid, record))
}

/// Loads a record with a lifecycle by its full id.
pub fn load_record<R: Record>(ctx: &Ctx, id: &str) -> Result<(RecordId, R)> {
    load(ctx, id, R::KIND)
}

/// Halts unless the record is in one of `allowed` statuses, naming the record, the step
/// (`what`) and both statuses.
pub fn require_status<R: Record>(record: &R, what: &str, allowed: &[R::Status]) -> Result<()> {
    if allowed.contains(&record.status()) {
        return Ok(());
    }
    let names: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
    Err(Error::precondition(format!(
        "{} {}: {what} needs status {}, it is {}",
        R::KIND.entity(),
        record.id(),
        names.join(" or "),
        record.status()
    ))
    .field("status"))
}

/// Checks an id the shell made for a new record of `kind`, and that it is free.
pub fn new_id(ctx: &Ctx, id: &str, kind: RecordKind) -> Result<RecordId> {
    free_id(ctx, id, kind).field("id")
}

fn free_id(ctx: &Ctx, id: &str, kind: RecordKind) -> Result<RecordId> {
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
    repo::init::Init,
    repo::init::InitV2,
    config::set::ConfigSet,
    person::add::PersonAdd,
    person::update::PersonUpdate,
    person::revoke::PersonRevoke,
    proposal::decide::ProposalApprove,
    proposal::decide::ProposalReject,
    template::set::TemplateSet,
    template::remove::TemplateRemove,
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
    incident::import::Import2,
    incident::import::Redo,
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
    communication::deliver::Deliver,
);

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::Status;

    fn ctx(snap: &MemSnapshot) -> Ctx<'_> {
        Ctx { snap, actor: "incident_manager@x.test", now: now(), rules: Default::default() }
    }

    #[test]
    fn load_names_the_entity_and_the_id() {
        let snap = snapshot(Some(&incident(Status::Open)));
        let (rid, inc) = load::<crate::model::Incident>(&ctx(&snap), ID, RecordKind::Incident).unwrap();
        assert_eq!((rid.id.as_str(), inc.title.as_str()), (ID, "Checkout is down"));
        halts(load::<crate::model::Incident>(&ctx(&snap), "nonsense", RecordKind::Incident), Kind::Invalid, "nonsense");
        halts(load::<crate::model::Incident>(&ctx(&snap), ID, RecordKind::Change), Kind::Invalid, "not a change id");
        halts(
            load::<crate::model::change::Change>(&ctx(&snap), CHG, RecordKind::Change),
            Kind::Invalid,
            "no such change",
        );
    }

    #[test]
    fn the_shared_checks_name_their_field_and_leave_the_step_to_the_procedure() {
        let snap = snapshot(Some(&incident(Status::Open)));
        let e = load::<crate::model::Incident>(&ctx(&snap), "nonsense", RecordKind::Incident).unwrap_err();
        assert_eq!((e.halt.field.as_deref(), e.halt.step), (Some("id"), None));
        let e = new_id(&ctx(&snap), ID, RecordKind::Incident).unwrap_err();
        assert_eq!(e.halt.field.as_deref(), Some("id"));
        let e = require_status(&incident(Status::Open), "close", &[Status::Resolved]).unwrap_err();
        assert_eq!(e.halt.field.as_deref(), Some("status"));
        let e = crate::hygiene::text(Default::default(), "notes", " ", crate::hygiene::Shape::Text).unwrap_err();
        assert_eq!(e.halt.field.as_deref(), Some("notes"));
        // A procedure names the step; the last to name the field wins.
        let step = <incident::close::Close as crate::engine::Procedure>::step(1);
        let e = e.at(step).field("closure_notes");
        assert_eq!((e.halt.step, e.halt.field.as_deref()), (Some(step), Some("closure_notes")));
        assert_eq!(step.to_string(), "incident.close/1 step 1");
        assert_eq!(e.message, "notes: must not be empty", "the halt data never changes the message");
    }

    #[test]
    fn new_id_is_of_the_kind_and_free() {
        let snap = snapshot(Some(&incident(Status::Open)));
        assert_eq!(new_id(&ctx(&snap), CHG, RecordKind::Change).unwrap().id, CHG);
        halts(new_id(&ctx(&snap), CHG, RecordKind::Problem), Kind::Invalid, "is not a problem id");
        halts(new_id(&ctx(&snap), ID, RecordKind::Incident), Kind::Conflict, "exists");
        halts(new_id(&ctx(&snap), "CHG-x", RecordKind::Change), Kind::Invalid, "CHG-x");
    }

    #[test]
    fn link_adds_once() {
        let mut list = vec![];
        assert!(link(&mut list, CHG));
        assert!(!link(&mut list, CHG));
        assert_eq!(list, vec![CHG.to_string()]);
    }

    #[test]
    fn apply_by_id_refuses_unknown_procedures_and_ill_fitting_input() {
        let snap = snapshot(Some(&incident(Status::Open)));
        let input = serde_json::json!({"id": ID});
        halts(apply_by_id("incident.fly/1", &ctx(&snap), &input), Kind::Invalid, "unknown procedure `incident.fly/1`");
        halts(apply_by_id("change.close/1", &ctx(&snap), &serde_json::json!({})), Kind::Invalid, "input does not fit");
    }
}
