//! The records repository itself: `repo.init`, the root commit.

pub mod init;

#[cfg(test)]
mod tests {
    use crate::engine::Procedure;

    #[test]
    fn the_repo_procedures_are_registered_and_routed() {
        crate::procedures::testing::routed(&[
            <super::init::Init as Procedure>::ID,
            <super::init::InitV2 as Procedure>::ID,
        ]);
    }
}
