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

/// The step of a procedure's policy where it halted: the procedure as its versioned id
/// names it and the number of the step in the list of policy steps that opens its file
/// (`procedures/<group>/<name>.rs`), which follows the policy's numbered procedure.
/// Shown as `incident.close/1 step 2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Step {
    /// The procedure's versioned id (`incident.close/1`).
    pub procedure: &'static str,
    /// The step's number in the procedure's list of policy steps, from 1.
    pub number: u8,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} step {}", self.procedure, self.number)
    }
}

/// Where a procedure halted, as data beside the message: the policy step and the field
/// (of the input or of the record) whose value the rule refused. Either may be unknown:
/// a shared check (loading a record, screening a text) knows its field but not the step,
/// and the procedure that called it names the step.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Halt {
    pub step: Option<Step>,
    pub field: Option<String>,
}

/// A procedure halt or any other failure: a class, a message naming the field or rule,
/// and, for a procedure's halt, its step and field as data ([`Halt`]). The message is
/// what users and replays see, byte for byte; the halt data never changes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    /// The policy step and field of a procedure's halt, where known.
    pub halt: Halt,
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), halt: Halt::default() }
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
    /// Prefixes the message with context, keeping the class and the halt data.
    pub fn context(self, what: impl fmt::Display) -> Self {
        Error { message: format!("{what}: {}", self.message), ..self }
    }
    /// Names the policy step the halt belongs to. The last to name it wins: a shared
    /// check knows no step, and the procedure that runs it (a proposal's approval
    /// included, which applies the proposed change as its own step) does.
    pub fn at(mut self, step: Step) -> Self {
        self.halt.step = Some(step);
        self
    }
    /// Names the field whose value the rule refused. The last to name it wins, so a
    /// procedure can say which of its fields a shared check judged (loading a linked
    /// record refuses `change`, not `id`).
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.halt.field = Some(field.into());
        self
    }
}

/// [`Error::at`] and [`Error::field`] on a result, for a procedure naming the step of a
/// shared check it calls: `super::load(ctx, &input.id).at(Self::step(1))?`.
pub trait HaltAt {
    /// Names the step of an error (see [`Error::at`]).
    fn at(self, step: Step) -> Self;
    /// Names the field of an error (see [`Error::field`]).
    fn field(self, field: &str) -> Self;
}

impl<T> HaltAt for Result<T> {
    fn at(self, step: Step) -> Self {
        self.map_err(|e| e.at(step))
    }
    fn field(self, field: &str) -> Self {
        self.map_err(|e| e.field(field))
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
