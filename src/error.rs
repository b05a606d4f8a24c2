//! One error type for the crate.
//!
//! Every error about a data file (an input, a rule file, a gazetteer) carries its location
//! as `path:line` and, where there is one, the id of the rule or entry, so that the message
//! reads `rules/numbers.toml:12: rule killed-passive: unknown macro {NUMBR}`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Where in a data file something went wrong.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// The file, as the user named it (or `<stdin>`, `<built-in>/numbers.toml`).
    pub path: String,
    /// 1-based line number, when known.
    pub line: Option<u64>,
    /// The id of the rule or gazetteer entry concerned, when known.
    pub id: Option<String>,
}

impl Location {
    /// A location naming only a file.
    pub fn file(path: impl Into<String>) -> Location {
        Location {
            path: path.into(),
            line: None,
            id: None,
        }
    }

    /// A location naming a line of a file.
    pub fn line(path: impl Into<String>, line: u64) -> Location {
        Location {
            path: path.into(),
            line: Some(line),
            id: None,
        }
    }

    /// The same location, naming a rule or entry id too.
    pub fn with_id(mut self, id: impl Into<String>) -> Location {
        self.id = Some(id.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        Ok(())
    }
}

/// The error type of every fallible operation in gleaner.
#[derive(Debug)]
pub struct Error {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// An I/O failure on a named file or folder.
    Io { path: PathBuf, err: io::Error },
    /// Something wrong in the content of a data file.
    Data { at: Location, message: String },
    /// Several errors found in one pass (a rule folder with three broken rules).
    Many(Vec<Error>),
    /// A wrong option or argument.
    Usage(String),
    /// The run was asked to stop (Ctrl-C) before it was done.
    Interrupted,
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, err: io::Error) -> Error {
        Error {
            kind: Kind::Io {
                path: path.as_ref().to_path_buf(),
                err,
            },
        }
    }

    /// An error in the content of a data file.
    pub fn data(at: Location, message: impl Into<String>) -> Error {
        Error {
            kind: Kind::Data {
                at,
                message: message.into(),
            },
        }
    }

    /// A bad option or argument.
    pub fn usage(message: impl Into<String>) -> Error {
        Error {
            kind: Kind::Usage(message.into()),
        }
    }

    /// The run stopped because it was asked to ([`crate::run::RunOptions::interrupt`]).
    pub fn interrupted() -> Error {
        Error {
            kind: Kind::Interrupted,
        }
    }

    /// Whether the run stopped because it was asked to.
    pub fn is_interrupted(&self) -> bool {
        matches!(self.kind, Kind::Interrupted)
    }

    /// Several errors reported together. A single error stays itself.
    pub fn many(mut errors: Vec<Error>) -> Error {
        if errors.len() == 1 {
            return errors.pop().expect("one error");
        }
        Error {
            kind: Kind::Many(errors),
        }
    }

    /// The individual errors: several for [`Error::many`], else just this one.
    pub fn errors(&self) -> Vec<&Error> {
        match &self.kind {
            Kind::Many(list) => list.iter().flat_map(|e| e.errors()).collect(),
            _ => vec![self],
        }
    }

    /// The location in a data file, for errors about one.
    pub fn location(&self) -> Option<&Location> {
        match &self.kind {
            Kind::Data { at, .. } => Some(at),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Io { path, err } => write!(f, "{}: {}", path.display(), err),
            Kind::Data { at, message } => {
                write!(f, "{at}: ")?;
                if let Some(id) = &at.id {
                    write!(f, "{id}: ")?;
                }
                f.write_str(message)
            }
            Kind::Many(list) => {
                for (i, e) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            Kind::Usage(msg) => f.write_str(msg),
            Kind::Interrupted => f.write_str("interrupted: no tables were written"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Io { err, .. } => Some(err),
            _ => None,
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_error_reads_path_line_id_message() {
        let e = Error::data(
            Location::line("rules/numbers.toml", 12).with_id("rule killed-passive"),
            "unknown macro {NUMBR}",
        );
        assert_eq!(
            e.to_string(),
            "rules/numbers.toml:12: rule killed-passive: unknown macro {NUMBR}"
        );
    }

    #[test]
    fn many_lists_each_error_on_its_line() {
        let e = Error::many(vec![
            Error::data(Location::line("a.tsv", 1), "x"),
            Error::data(Location::file("b.tsv"), "y"),
        ]);
        assert_eq!(e.to_string(), "a.tsv:1: x\nb.tsv: y");
        assert_eq!(e.errors().len(), 2);
    }
}
