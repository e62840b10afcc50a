//! Knowledge-base articles: draft, review, publish (by someone other than the author),
//! maintain, retire. Every publish of new content raises the version.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "kb/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    pub schema: String,
    pub kb_id: String,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: ArticleType,
    pub status: ArticleStatus,
    /// The number of the last published version; 0 before the first publish.
    pub version: u32,
    /// Markdown.
    pub body: String,
    pub author: String,
    pub approver: Option<String>,
    pub incident_ids: Vec<String>,
    pub problem_ids: Vec<String>,
    pub change_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
}

crate::model::enums::policy_enum!(
    /// What an article records.
    ArticleType, "kb type" {
        Resolution => "resolution",
        Workaround => "workaround",
        Prevention => "prevention",
    }
);

crate::model::enums::policy_enum!(
    /// An article's lifecycle status.
    ArticleStatus, "kb status" {
        Draft => "draft",
        InReview => "in_review",
        Published => "published",
        Retired => "retired",
    }
);
