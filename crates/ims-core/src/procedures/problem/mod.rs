//! Problem management: policy procedure 19 (create, update, link, workaround, resolve,
//! close), one file each.

pub mod close;
pub mod create;
pub mod link;
pub mod resolve;
pub mod update;
pub mod workaround;

use crate::engine::{Ctx, Effect};
use crate::error::{Error, Result};
use crate::ids::RecordId;
use crate::model::keys::{self, KeyFile};
use crate::model::problem::{Problem, ProblemStatus};

pub const KEYS: &str = "problems";

pub fn load(ctx: &Ctx, id: &str) -> Result<(RecordId, Problem)> {
    super::load_record(ctx, id)
}

/// Halts unless the problem is in one of `allowed` statuses.
pub fn require_status(p: &Problem, what: &str, allowed: &[ProblemStatus]) -> Result<()> {
    super::require_status(p, what, allowed)
}

/// Halts with `conflict` if an active problem other than `except` holds `key`.
pub fn check_dedupe(ctx: &Ctx, key: &str, except: Option<&str>) -> Result<()> {
    if let Some(held) = keys::holder(ctx.snap, KEYS, key)? {
        if Some(held.record.as_str()) != except {
            let (_, other) = load(ctx, &held.record)?;
            if other.is_active() {
                return Err(Error::conflict(format!(
                    "a similar active problem exists: {} \"{}\" ({}); link the incident to it instead",
                    other.problem_id, other.title, other.status
                ))
                .field("title"));
            }
        }
    }
    Ok(())
}

/// Writes the key file naming `problem` as the holder of its dedupe key.
pub fn hold_key(effect: &mut Effect, problem: &Problem) -> Result<()> {
    let file = KeyFile { key: problem.dedupe_key.clone(), record: problem.problem_id.clone() };
    effect.write(&keys::path(KEYS, &problem.dedupe_key), &file)
}

/// Removes the key file if `problem` holds it (it stopped being active, or its key changed).
pub fn release_key(ctx: &Ctx, effect: &mut Effect, problem: &Problem) -> Result<()> {
    if let Some(held) = keys::holder(ctx.snap, KEYS, &problem.dedupe_key)? {
        if held.record == problem.problem_id {
            effect.writes.insert(keys::path(KEYS, &problem.dedupe_key), None);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::enums::Role;
    use crate::procedures::testing::*;

    #[test]
    fn require_status_names_the_problem_the_step_and_both_statuses() {
        let mut snap = snapshot(None);
        create_problem(&mut snap, &[]);
        let p: Problem = stored(&snap, RecordKind::Problem, PRB);
        assert!(require_status(&p, "link", &[ProblemStatus::New]).is_ok());
        halts(
            require_status(&p, "close", &[ProblemStatus::Resolved]),
            Kind::Precondition,
            &format!("problem {PRB}: close needs status resolved, it is new"),
        );
    }

    #[test]
    fn check_dedupe_halts_on_another_active_holder_only() {
        let mut snap = snapshot(None);
        create_problem(&mut snap, &[]);
        let p: Problem = stored(&snap, RecordKind::Problem, PRB);
        let ctx = Ctx { snap: &snap, actor: &as_role(Role::L2), now: now(), rules: Default::default() };
        halts(
            check_dedupe(&ctx, &p.dedupe_key, None),
            Kind::Conflict,
            &format!("similar active problem exists: {PRB}"),
        );
        assert!(check_dedupe(&ctx, &p.dedupe_key, Some(PRB)).is_ok());
        assert!(check_dedupe(&ctx, "another key", None).is_ok());
    }
}
