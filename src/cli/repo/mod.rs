//! The repository's own commands: `ims init` (`procedures/repo/init.rs`) and `ims migrate`.

pub mod init;
pub mod migrate;
