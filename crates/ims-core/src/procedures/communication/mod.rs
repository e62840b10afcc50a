//! Communications that reach people: `communication.deliver/1` records what `ims
//! deliver` sent by email and chat (policy: Communication Management).

pub mod deliver;

#[cfg(test)]
mod tests {
    use crate::engine::Procedure;

    #[test]
    fn the_communication_procedures_are_registered_and_routed() {
        crate::procedures::testing::routed(&[<super::deliver::Deliver as Procedure>::ID]);
    }
}
