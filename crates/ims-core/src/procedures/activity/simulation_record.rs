//! `simulation.record/1` — policy procedure 18, Incident Response Simulation.
//!
//! Policy steps:
//! 1. Validate the role: incident manager only.
//! 2. Validate the scenario and scope.
//! 3. Capture the outcomes of the tabletop or drill. Audit: `simulation`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::ids::RecordKind;
use crate::model::activity::{self, Simulation};
use crate::model::enums::{AuditAction, Role};

pub struct Record;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub scenario: String,
    pub scope: String,
    pub outcome: String,
}

impl Procedure for Record {
    const ID: &'static str = "simulation.record/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(&[Role::IncidentManager], "simulation record").at(Self::step(1))?;
        let rid = crate::procedures::new_id(ctx, &input.id, RecordKind::Simulation).at(Self::step(2))?;
        let sim = Simulation {
            schema: activity::SIMULATION_SCHEMA.into(),
            simulation_id: rid.id.clone(),
            scenario: hygiene::text(ctx.rules, "scenario", &input.scenario, Shape::Text).at(Self::step(2))?,
            scope: hygiene::text(ctx.rules, "scope", &input.scope, Shape::Text).at(Self::step(2))?,
            outcomes: hygiene::text(ctx.rules, "outcome", &input.outcome, Shape::Text).at(Self::step(3))?,
            simulated_by: ctx.actor.into(),
            created_at: ctx.now,
        };
        let mut effect = Effect::new(format!("simulation: record {}", rid.id))
            .action(AuditAction::Simulation, "simulation", &rid.id)
            .fields(&["scenario", "scope", "outcomes"]);
        effect.write_main(&rid.path(), &rid.id, &sim)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::procedures::testing::*;

    const SIM: &str = "SIM-20261126-0000000001";

    fn input() -> Input {
        Input {
            id: SIM.into(),
            scenario: "Primary database lost".into(),
            scope: "checkout, payments".into(),
            outcome: "Failover took 12 minutes".into(),
        }
    }

    #[test]
    fn records_the_drill_and_who_ran_it() {
        let e = try_apply::<Record>(&snapshot(None), &as_role(Role::IncidentManager), &input()).unwrap();
        let s: Simulation = wrote(&e, RecordKind::Simulation, SIM);
        assert_eq!(
            (s.simulated_by.as_str(), s.outcomes.as_str()),
            ("incident_manager@x.test", "Failover took 12 minutes")
        );
        assert_eq!(s.scope, "checkout, payments");
    }

    #[test]
    fn step1_only_the_incident_manager() {
        halts_at(
            try_apply::<Record>(&snapshot(None), &as_role(Role::ServiceDeskManager), &input()),
            Kind::Forbidden,
            "simulation record",
            Record::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step2_a_new_id_scenario_scope_and_outcome() {
        let mut snap = snapshot(None);
        step::<Record>(&mut snap, &as_role(Role::IncidentManager), &input());
        halts_at(
            try_apply::<Record>(&snap, &as_role(Role::IncidentManager), &input()),
            Kind::Conflict,
            "exists",
            Record::step(2),
            Some("id"),
        );
        for (field, i) in [
            ("scenario", Input { scenario: "".into(), ..input() }),
            ("scope", Input { scope: " ".into(), ..input() }),
            ("outcome", Input { outcome: "".into(), ..input() }),
        ] {
            halts(try_apply::<Record>(&snapshot(None), &as_role(Role::IncidentManager), &i), Kind::Invalid, field);
        }
    }
}
