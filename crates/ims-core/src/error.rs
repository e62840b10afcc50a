//! Errors and the exit-code classes of CLI.md, decided in one place.

use std::fmt;

/// The class of a failure; each maps to one exit code of CLI.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// I/O or unexpected failure (exit 1).
    Internal,
    /// Unknown command or flag (exit 2).
    Usage,
    /// A value fails validation (exit 3).
    Invalid,
    /// The actor may not do this (exit 4).
    Forbidden,
    /// The record is not in a state that allows it (exit 5).
    Precondition,
    /// Every input is already recorded, so the procedure has nothing to write: an outcome
    /// a caller may accept (the intake loop, a repeated import), reported to a user as a
    /// precondition (exit 5) by a command that was asked to change something.
    NothingNew,
    /// A duplicate, or the branch moved and replay could not apply (exit 6).
    Conflict,
    /// `ims verify` found violations (exit 7).
    Verify,
}

impl Kind {
    /// The process exit code of CLI.md's table.
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Internal => 1,
            Kind::Usage => 2,
            Kind::Invalid => 3,
            Kind::Forbidden => 4,
            Kind::Precondition | Kind::NothingNew => 5,
            Kind::Conflict => 6,
            Kind::Verify => 7,
        }
    }

    /// The name used in `--json` error documents.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Internal => "internal",
            Kind::Usage => "usage",
            Kind::Invalid => "invalid",
            Kind::Forbidden => "forbidden",
            Kind::Precondition | Kind::NothingNew => "precondition",
            Kind::Conflict => "conflict",
            Kind::Verify => "verify",
        }
    }
}

/// A procedure halt or any other failure: a class and a message naming the field or rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: Kind,
    pub message: String,
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into() }
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
    /// A procedure that found every input already recorded (see [`Kind::NothingNew`]).
    pub fn nothing_new(message: impl Into<String>) -> Self {
        Error::new(Kind::NothingNew, message)
    }
    /// Prefixes the message with context, keeping the class.
    pub fn context(self, what: impl fmt::Display) -> Self {
        Error { message: format!("{what}: {}", self.message), ..self }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal(format!("i/o: {e}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::internal(format!("json: {e}"))
    }
}

/// The result type of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand for `Err(Error::invalid(..))` with formatting.
#[macro_export]
macro_rules! invalid {
    ($($arg:tt)*) => { $crate::error::Error::invalid(format!($($arg)*)) };
}
/// Shorthand for a forbidden halt with formatting.
#[macro_export]
macro_rules! forbidden {
    ($($arg:tt)*) => { $crate::error::Error::forbidden(format!($($arg)*)) };
}
/// Shorthand for a precondition halt with formatting.
#[macro_export]
macro_rules! precondition {
    ($($arg:tt)*) => { $crate::error::Error::precondition(format!($($arg)*)) };
}
