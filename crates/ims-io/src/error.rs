//! The I/O layer's error: the core's [`Error`](ims_core::error::Error) (a class, so the
//! exit code is still decided in one place, a message, and a halt's policy step and
//! field) plus the underlying git, file or JSON error as its source. One definition of
//! what a failure says, in the core; this layer only adds where it came from.
//!
//! A halt of the pure layer converts into it unchanged, and it converts back into one
//! (for a [`Snapshot`](ims_core::model::Snapshot) read that failed in git), so the texts
//! users and tests see are exactly the core's, and "git: …", "i/o: …", "json: …" for
//! failures of the machinery.

use std::fmt;
use std::sync::Arc;

pub use ims_core::error::Kind;

/// A failure of the I/O layer or a halt of a procedure it ran: the core error, read
/// through it (`e.kind`, `e.message`), and the source that caused it, if any.
#[derive(Debug, Clone)]
pub struct Error {
    error: ims_core::error::Error,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// The io error is the core error with a source: its kind, message and halt data are
/// the core error's own fields, so they are read the same way on both layers.
impl std::ops::Deref for Error {
    type Target = ims_core::error::Error;
    fn deref(&self) -> &Self::Target {
        &self.error
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Equal when they say the same (the source is where it came from, not what it says).
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.error == other.error
    }
}

impl Eq for Error {}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        ims_core::error::Error::new(kind, message).into()
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(Kind::Internal, message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(Kind::Invalid, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::new(Kind::Forbidden, message)
    }
    pub fn precondition(message: impl Into<String>) -> Self {
        Error::new(Kind::Precondition, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::new(Kind::Conflict, message)
    }
    pub fn nothing_new(message: impl Into<String>) -> Self {
        Error::new(Kind::NothingNew, message)
    }
    /// Prefixes the message with context, keeping the class, the halt data and the source.
    pub fn context(self, what: impl fmt::Display) -> Self {
        Error { error: self.error.context(what), ..self }
    }
    /// The message, taken out of the error.
    pub fn into_message(self) -> String {
        self.error.message
    }
    fn caused(kind: Kind, message: String, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error { error: ims_core::error::Error::new(kind, message), source: Some(Arc::new(source)) }
    }
}

impl From<ims_core::error::Error> for Error {
    fn from(error: ims_core::error::Error) -> Self {
        Error { error, source: None }
    }
}

impl From<Error> for ims_core::error::Error {
    fn from(e: Error) -> Self {
        e.error
    }
}

impl From<git2::Error> for Error {
    fn from(e: git2::Error) -> Self {
        Error::caused(Kind::Internal, format!("git: {}", e.message()), e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::caused(Kind::Internal, format!("i/o: {e}"), e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::caused(Kind::Internal, format!("json: {e}"), e)
    }
}

/// The result type of the I/O layer and the shell.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_halt_crosses_the_layers_unchanged_and_a_git_error_keeps_its_source() {
        let halt = ims_core::error::Error::precondition("incident X: needs status open");
        let io: Error = halt.clone().into();
        assert_eq!((io.kind, io.message.as_str()), (Kind::Precondition, "incident X: needs status open"));
        assert_eq!(ims_core::error::Error::from(io), halt);
        let git: Error = git2::Error::from_str("object not found").into();
        assert_eq!((git.kind, git.to_string().as_str()), (Kind::Internal, "git: object not found"));
        assert!(std::error::Error::source(&git).is_some(), "the git error is kept as the source");
        let back = ims_core::error::Error::from(git.context("reading ims.yaml"));
        assert_eq!(back.message, "reading ims.yaml: git: object not found");
    }

    #[test]
    fn a_halts_step_and_field_survive_the_layers_and_context() {
        let step = ims_core::error::Step { procedure: "incident.close/1", number: 1 };
        let halt =
            ims_core::error::Error::precondition("incident X: close needs status resolved").at(step).field("status");
        let io = Error::from(halt.clone()).context("replaying abc");
        assert_eq!((io.halt.step, io.halt.field.as_deref()), (Some(step), Some("status")));
        assert_eq!(io.message, "replaying abc: incident X: close needs status resolved");
        assert_eq!(ims_core::error::Error::from(io).halt, halt.halt);
    }
}
