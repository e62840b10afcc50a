//! Knowledge management: policy procedure 15 — draft, submit, publish, update, retire.

pub mod draft;
pub mod publish;
pub mod retire;
pub mod submit;
pub mod update;

use crate::engine::Ctx;
use crate::error::Result;
use crate::ids::RecordId;
use crate::model::kb::{Article, ArticleStatus};

pub fn load(ctx: &Ctx, id: &str) -> Result<(RecordId, Article)> {
    super::load_record(ctx, id)
}

/// Halts unless the article is in one of `allowed` statuses.
pub fn require_status(a: &Article, what: &str, allowed: &[ArticleStatus]) -> Result<()> {
    super::require_status(a, what, allowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::procedures::testing::*;

    #[test]
    fn require_status_names_the_article_the_step_and_both_statuses() {
        let mut snap = snapshot(None);
        draft_article(&mut snap);
        let a: Article = stored(&snap, RecordKind::Kb, KB);
        assert!(require_status(&a, "submit", &[ArticleStatus::Draft]).is_ok());
        halts(
            require_status(&a, "publish", &[ArticleStatus::InReview]),
            Kind::Precondition,
            &format!("kb {KB}: publish needs status in_review, it is draft"),
        );
    }
}
