//! Tool usage (policy procedure 17) and response simulations (procedure 18).

pub mod simulation_record;
pub mod tool_record;

#[cfg(test)]
mod tests {
    use crate::engine::Procedure;

    #[test]
    fn the_activity_procedures_are_registered_and_routed() {
        crate::procedures::testing::routed(&[
            <super::tool_record::Record as Procedure>::ID,
            <super::simulation_record::Record as Procedure>::ID,
        ]);
    }
}
