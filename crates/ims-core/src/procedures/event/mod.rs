//! Monitoring intake: policy procedure 16.

pub mod ingest;

#[cfg(test)]
mod tests {
    use crate::engine::Procedure;

    #[test]
    fn the_event_procedures_are_registered_and_routed() {
        crate::procedures::testing::routed(&[<super::ingest::Ingest as Procedure>::ID]);
    }
}
