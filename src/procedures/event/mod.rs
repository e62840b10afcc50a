//! Monitoring intake: policy procedure 16.

pub mod ingest;
