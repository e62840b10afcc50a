//! Typed view models, one file per page kind, serialized to the templates (as zola's
//! `SerializingPage`): a template sees these fields and nothing else.

pub mod article;
pub mod auditlog;
pub mod incident;
pub mod list;
pub mod record;
pub mod status;
