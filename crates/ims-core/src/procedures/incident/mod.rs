//! The incident lifecycle: policy procedures 2–9 and 11–13, one file each, on the
//! state table and authorization table of DESIGN.md.

pub mod assign;
pub mod categorize;
pub mod close;
pub mod diagnose;
pub mod escalate;
pub mod feedback;
pub mod identify;
pub mod import;
pub mod link_change;
pub mod log;
pub mod notify;
pub mod prioritize;
pub mod reopen;
pub mod resolve;
pub mod resume;
pub mod review;
pub mod sla_escalate;
pub mod vendor;

use chrono::{DateTime, Utc};

use crate::engine::Ctx;
use crate::error::{Error, Result};
use crate::ids::RecordId;
use crate::model::enums::{Channel, Recipients, Status};
use crate::model::incident::{Communication, DiagnosisEntry, Incident};
use crate::model::{self};

/// The incident named by `id` (a full id: the shell resolves prefixes).
pub fn load(ctx: &Ctx, id: &str) -> Result<(RecordId, Incident)> {
    super::load_record(ctx, id)
}

/// Halts unless the incident is in one of `allowed` statuses.
pub fn require_status(incident: &Incident, what: &str, allowed: &[Status]) -> Result<()> {
    super::require_status(incident, what, allowed)
}

/// Halts if the incident is closed (log, categorize, prioritize, diagnose, notify).
pub fn require_open(incident: &Incident, what: &str) -> Result<()> {
    if incident.status == Status::Closed {
        return Err(Error::precondition(format!(
            "incident {}: {what} is not allowed on a closed incident",
            incident.incident_id
        ))
        .field("status"));
    }
    Ok(())
}

/// Checks a `COM-`/`VEN-` id made by the shell.
pub fn sub_id(id: &str, prefix: &str) -> Result<String> {
    let ok = id.starts_with(&format!("{prefix}-"))
        && id.len() == prefix.len() + 20
        && id[prefix.len() + 1..]
            .split_once('-')
            .is_some_and(|(d, r)| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()) && r.len() == 10);
    if ok {
        Ok(id.to_string())
    } else {
        let field = if prefix == "VEN" { "vendor_engagement_id" } else { "communication_id" };
        Err(Error::invalid(format!("`{id}` is not a {prefix}- id")).field(field))
    }
}

/// Appends a communication.
pub fn communicate(
    incident: &mut Incident,
    id: &str,
    recipients: Recipients,
    message: String,
    sender: &str,
    channel: Channel,
    at: DateTime<Utc>,
) -> Result<()> {
    incident.communications.push(Communication {
        communication_id: sub_id(id, "COM")?,
        recipients,
        message,
        sender: sender.into(),
        channel,
        at,
    });
    Ok(())
}

/// An incident with every field empty (see [`Incident::blank`]).
pub fn blank() -> crate::model::Incident {
    crate::model::Incident::blank()
}

/// Escalates to `target` (status `escalated`, team changed if it differs) and records
/// the notice to IT staff: what `escalate`, `prioritize` (high) and `sla-escalate` share.
pub fn escalate_to(
    inc: &mut Incident,
    at: DateTime<Utc>,
    by: &str,
    target: &str,
    communication_id: &str,
    message: String,
) -> Result<()> {
    if inc.assigned_team.as_deref() != Some(target) {
        inc.set_team(at, by, target);
    }
    inc.set_status(at, by, Status::Escalated);
    communicate(inc, communication_id, Recipients::ItStaff, message, by, Channel::Ims, at)
}

/// Records diagnostic `steps` and a `workaround` (marking its presence), each if given,
/// and names the fields they change: what `diagnose` and `log` share.
pub fn record_diagnosis(
    inc: &mut Incident,
    at: DateTime<Utc>,
    by: &str,
    steps: Option<String>,
    workaround: Option<String>,
    fields: &mut Vec<&'static str>,
) {
    if let Some(steps) = steps {
        inc.diagnosis.push(DiagnosisEntry { at, by: by.into(), steps, workaround: workaround.clone() });
        fields.push("diagnosis");
    }
    if let Some(w) = workaround {
        inc.workaround = Some(w);
        inc.workaround_available = true;
        fields.extend(["workaround", "workaround_available"]);
    }
}

/// Checks that an email names a registered person.
pub fn registered(ctx: &Ctx, field: &str, email: &str) -> Result<()> {
    if model::person(ctx.snap, email)?.is_none() {
        return Err(Error::invalid(format!("{field}: {email} is not a registered person")).field(field));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing {
    //! A small registry and incidents in every status, for the procedures' unit tests.

    use chrono::{TimeZone, Utc};

    use crate::engine::{Ctx, Effect, Procedure};
    use crate::error::{Kind, Result};
    use crate::model::config::{Clock, Config};
    use crate::model::enums::{Role, Status};
    use crate::model::incident::Incident;
    use crate::model::person::Person;
    use crate::model::testing::MemSnapshot;

    pub const ID: &str = "INC-20261126-0000000001";

    pub fn now() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    pub fn person(email: &str, roles: &[Role]) -> Person {
        Person {
            schema: "person/1".into(),
            email: email.into(),
            name: email.into(),
            roles: roles.to_vec(),
            teams: vec![],
            keys: vec![],
            revoked: false,
            revoked_at: None,
            revoked_reason: None,
            compromised_since: None,
            created_at: now(),
            updated_at: now(),
        }
    }

    pub fn incident(status: Status) -> Incident {
        Incident {
            incident_id: ID.into(),
            title: "Checkout is down".into(),
            service: "shop".into(),
            status,
            reporter: "user@x.test".into(),
            reported_by: "user@x.test".into(),
            created_at: now(),
            updated_at: now(),
            ..super::blank()
        }
    }

    /// A repository state with one person per role and `incident`.
    pub fn snapshot(incident: Option<&Incident>) -> MemSnapshot {
        let mut snap = MemSnapshot::default();
        let mut put = |path: String, text: String| {
            snap.files.insert(path, text.into_bytes());
        };
        put("ims.yaml".into(), crate::yaml::to_canonical(&Config::defaults("Test", Clock::Simulated)).unwrap());
        for role in Role::ALL {
            let email = format!("{}@x.test", role.as_str().to_lowercase());
            put(format!("people/{email}.yaml"), crate::yaml::to_canonical(&person(&email, &[*role])).unwrap());
        }
        put(
            "people/user@x.test.yaml".into(),
            crate::yaml::to_canonical(&person("user@x.test", &[Role::EndUser])).unwrap(),
        );
        if let Some(i) = incident {
            put(
                crate::ids::record_path(crate::ids::RecordKind::Incident, &i.incident_id),
                crate::yaml::to_canonical(i).unwrap(),
            );
        }
        snap
    }

    pub fn as_role(role: Role) -> String {
        format!("{}@x.test", role.as_str().to_lowercase())
    }

    /// Applies `P` as `actor` to a state holding `incident`.
    pub fn apply<P: Procedure>(incident: &Incident, actor: &str, input: &P::Input) -> Result<Effect> {
        let snap = snapshot(Some(incident));
        let ctx = Ctx { snap: &snap, actor, now: now(), rules: Default::default() };
        let effect = P::apply(&ctx, input)?;
        crate::engine::validate_writes(&effect)?;
        Ok(effect)
    }

    /// The incident an effect wrote.
    pub fn written(effect: &Effect) -> Incident {
        let path = crate::ids::record_path(crate::ids::RecordKind::Incident, ID);
        let bytes = effect.writes.get(&path).and_then(|b| b.clone()).expect("the incident was written");
        crate::yaml::from_str(std::str::from_utf8(&bytes).unwrap(), "test").unwrap()
    }

    /// As [`halts`], and checks the halt's data: its policy step and the field it names.
    pub fn halts_at<T: std::fmt::Debug>(
        result: Result<T>,
        kind: Kind,
        needle: &str,
        step: crate::error::Step,
        field: Option<&str>,
    ) {
        let err = result.expect_err("the procedure should halt");
        assert_eq!(err.kind, kind, "{}", err.message);
        assert!(err.message.contains(needle), "`{}` should mention `{needle}`", err.message);
        assert_eq!(err.halt.step, Some(step), "the step of `{}`", err.message);
        assert_eq!(err.halt.field.as_deref(), field, "the field of `{}`", err.message);
    }

    pub fn halts<T: std::fmt::Debug>(result: Result<T>, kind: Kind, needle: &str) {
        let err = result.expect_err("the procedure should halt");
        assert_eq!(err.kind, kind, "{}", err.message);
        assert!(err.message.contains(needle), "`{}` should mention `{needle}`", err.message);
    }
}
