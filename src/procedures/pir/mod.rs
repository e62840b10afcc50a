//! Post-incident review follow-up: action items, each updated by its own procedure.

pub mod action;
