//! Post-incident review follow-up: action items, each updated by its own procedure.

pub mod action;

#[cfg(test)]
mod tests {
    use crate::engine::Procedure;

    #[test]
    fn the_pir_procedures_are_registered_and_routed() {
        crate::procedures::testing::routed(&[<super::action::UpdateAction as Procedure>::ID]);
    }
}
