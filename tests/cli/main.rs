//! Command-level tests: the real `ims` binary against real git repositories in
//! temporary directories, with keys made by `ssh-keygen` and commits checked by
//! `git verify-commit`.

mod admin;
mod compat;
mod crash;
mod doctor;
mod engine;
mod govern;
mod import;
mod intake;
mod kpi;
mod layers;
mod lifecycle;
mod queries;
mod records;
mod schemas;
mod service;
mod site;
mod support;
mod terminal;
mod verify;
mod verify_cache;
mod verify_reads;
mod verify_robust;
