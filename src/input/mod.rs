//! Reading article dumps: folders of `.txt` files, JSONL/NDJSON, CSV, any of them gzipped,
//! and JSONL on standard input.
//!
//! Reading never stops at bad data. A malformed line is reported as `file:line: reason` and
//! skipped; an unreadable or binary file is reported and skipped; invalid UTF-8 is decoded
//! with replacement characters and reported. Each report is a [`Problem`] handed to the
//! caller, who counts and prints them.

mod fields;
mod table;
mod txt;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::document::Document;
use crate::error::Location;

pub use fields::FieldNames;

/// How serious a reported input problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The data was read, but not quite as written (invalid UTF-8 replaced, a date field
    /// that could not be parsed, an id made up because the line had none).
    Warning,
    /// Data was dropped: a line or a whole file is not in the output.
    Skipped,
}

/// A problem with the input, located as precisely as possible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub at: Location,
    pub severity: Severity,
    pub message: String,
}

impl Problem {
    pub fn warning(at: Location, message: impl Into<String>) -> Problem {
        Problem {
            at,
            severity: Severity::Warning,
            message: message.into(),
        }
    }

    pub fn skipped(at: Location, message: impl Into<String>) -> Problem {
        Problem {
            at,
            severity: Severity::Skipped,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.message)?;
        if self.severity == Severity::Skipped && !self.message.contains("skipped") {
            f.write_str(" (skipped)")?;
        }
        Ok(())
    }
}

/// The layout of an input file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One article per file; the first non-empty line is the title.
    Text,
    /// One JSON object per line.
    JsonLines,
    /// A header row, then one article per record.
    Csv,
}

/// One input to read: a file, or standard input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// `None` for standard input.
    pub path: Option<PathBuf>,
    pub format: Format,
    pub gzip: bool,
    /// Size on disk in bytes (0 for standard input).
    pub size: u64,
}

impl Input {
    /// How the input is named in messages and in the `source` column.
    pub fn name(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "<stdin>".to_string(),
        }
    }

    /// Recognises a file by its extension: `.txt`, `.jsonl`, `.ndjson`, `.csv`, each
    /// optionally followed by `.gz`. Returns `None` for other files.
    pub fn from_extension(path: &Path) -> Option<(Format, bool)> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let (name, gzip) = match name.strip_suffix(".gz") {
            Some(inner) => (inner.to_string(), true),
            None => (name, false),
        };
        let ext = Path::new(&name).extension()?.to_str()?;
        let format = match ext {
            "txt" | "text" => Format::Text,
            "jsonl" | "ndjson" => Format::JsonLines,
            "csv" => Format::Csv,
            _ => return None,
        };
        Some((format, gzip))
    }
}

/// What [`discover`] found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// The inputs to read, in a deterministic order.
    pub inputs: Vec<Input>,
    /// Files inside the given folders that are not article files (`.json`, `.md`, images),
    /// which are left alone. Counted so the run can say so.
    pub ignored: Vec<PathBuf>,
    /// Inputs that could not be opened or listed.
    pub problems: Vec<Problem>,
}

impl Discovery {
    /// Moves the inputs inside `dir` to [`Discovery::ignored`]. Used for the output folder:
    /// `gleaner extract . --out output` would otherwise read the tables of the last run as
    /// CSV dumps (and skip them, since they have no text column).
    pub fn exclude(&mut self, dir: &Path) {
        let Ok(dir) = dir.canonicalize() else {
            return;
        };
        let (inside, outside): (Vec<Input>, Vec<Input>) =
            std::mem::take(&mut self.inputs).into_iter().partition(|i| {
                i.path
                    .as_ref()
                    .and_then(|p| p.canonicalize().ok())
                    .is_some_and(|p| p.starts_with(&dir))
            });
        self.inputs = outside;
        self.ignored
            .extend(inside.into_iter().filter_map(|i| i.path));
    }
}

/// Expands the command line's inputs: files are taken as given (a file with an unknown
/// extension is read as plain text), folders are walked recursively in sorted order
/// (hidden entries skipped, only known extensions taken), and `-` is standard input.
pub fn discover(paths: &[PathBuf]) -> Discovery {
    let mut found = Discovery::default();
    for path in paths {
        if path.as_os_str() == "-" {
            found.inputs.push(Input {
                path: None,
                format: Format::JsonLines,
                gzip: false,
                size: 0,
            });
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut found),
            Ok(meta) => {
                let (format, gzip) = Input::from_extension(path)
                    .unwrap_or((Format::Text, path.extension().is_some_and(|e| e == "gz")));
                found.inputs.push(Input {
                    path: Some(path.clone()),
                    format,
                    gzip,
                    size: meta.len(),
                });
            }
            Err(err) => found.problems.push(Problem::skipped(
                Location::file(path.display().to_string()),
                format!("cannot read: {err}"),
            )),
        }
    }
    found
}

fn walk(dir: &Path, found: &mut Discovery) {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(err) => {
            found.problems.push(Problem::skipped(
                Location::file(dir.display().to_string()),
                format!("cannot list folder: {err}"),
            ));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) => paths.push(e.path()),
            Err(err) => found.problems.push(Problem::skipped(
                Location::file(dir.display().to_string()),
                format!("cannot list folder entry: {err}"),
            )),
        }
    }
    paths.sort();
    for path in paths {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, found),
            Ok(meta) => match Input::from_extension(&path) {
                Some((format, gzip)) => found.inputs.push(Input {
                    path: Some(path),
                    format,
                    gzip,
                    size: meta.len(),
                }),
                None => found.ignored.push(path),
            },
            Err(err) => found.problems.push(Problem::skipped(
                Location::file(path.display().to_string()),
                format!("cannot read: {err}"),
            )),
        }
    }
}

/// What the consumer of a reader says after each item: go on, or stop reading (the run
/// has failed, say because the output cannot be written, and reading a 10 GB dump to the
/// end would only delay the message).
pub type Flow = std::ops::ControlFlow<()>;

/// What a reader hands out: a document, or a problem met while reading.
#[derive(Debug)]
pub enum Item {
    Doc(Document),
    Problem(Problem),
}

/// Counts the raw bytes read from the inputs (compressed bytes for gzip), for progress.
#[derive(Clone, Debug, Default)]
pub struct ByteCounter(Arc<AtomicU64>);

impl ByteCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

struct Counting<R> {
    inner: R,
    counter: ByteCounter,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Options for reading inputs.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Field names for JSONL and CSV inputs.
    pub fields: FieldNames,
}

/// Reads one input, handing each document or problem to `sink` in input order, until the
/// input ends or `sink` says [`Flow::Break`]. Never fails: a file that cannot be read at
/// all becomes a [`Problem`].
pub fn read_input(
    input: &Input,
    options: &ReadOptions,
    counter: &ByteCounter,
    sink: &mut dyn FnMut(Item) -> Flow,
) {
    let name = input.name();
    let raw: Box<dyn Read> = match &input.path {
        None => Box::new(io::stdin().lock()),
        Some(path) => match File::open(path) {
            Ok(f) => Box::new(f),
            Err(err) => {
                let _ = sink(Item::Problem(Problem::skipped(
                    Location::file(&name),
                    format!("cannot open: {err}"),
                )));
                return;
            }
        },
    };
    let counted = Counting {
        inner: raw,
        counter: counter.clone(),
    };
    let mut reader: Box<dyn BufRead> = if input.gzip {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, counted)),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, counted))
    };
    // A JSONL or CSV reader would report a binary file (an image or an archive with the
    // wrong name) line by line, as hundreds of malformed records; say it once instead.
    // Plain text is checked on the whole article by its reader.
    if input.format != Format::Text {
        match reader.fill_buf() {
            Ok(head) if looks_binary(head) => {
                let _ = sink(Item::Problem(Problem::skipped(
                    Location::file(&name),
                    "binary data, not text; file skipped",
                )));
                return;
            }
            Ok(_) => {}
            Err(err) => {
                let _ = sink(Item::Problem(read_error(&name, None, &err)));
                return;
            }
        }
    }
    match input.format {
        Format::Text => txt::read(input, &name, reader, sink),
        Format::JsonLines => fields::read_jsonl(&name, reader, &options.fields, sink),
        Format::Csv => table::read_csv(&name, reader, &options.fields, sink),
    }
}

/// Decodes bytes as UTF-8, replacing invalid sequences; says whether any were replaced.
pub(crate) fn decode(bytes: Vec<u8>) -> (String, bool) {
    match String::from_utf8(bytes) {
        Ok(s) => (s, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    }
}

/// The message for an I/O error in the middle of a file (a truncated gzip stream, a disk
/// error): what was read before it is kept, the rest is skipped.
pub(crate) fn read_error(name: &str, line: Option<u64>, err: &io::Error) -> Problem {
    let at = match line {
        Some(l) => Location::line(name, l),
        None => Location::file(name),
    };
    Problem::skipped(at, format!("read error, rest of file skipped: {err}"))
}

/// Whether a buffer looks like binary data rather than text: a NUL byte in its first 8 KiB.
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8192)].contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions() {
        let cases = [
            ("a.txt", Some((Format::Text, false))),
            ("a.TXT.gz", Some((Format::Text, true))),
            ("dump.jsonl", Some((Format::JsonLines, false))),
            ("dump.ndjson.gz", Some((Format::JsonLines, true))),
            ("x.csv", Some((Format::Csv, false))),
            ("gold.json", None),
            ("README", None),
        ];
        for (name, want) in cases {
            assert_eq!(Input::from_extension(Path::new(name)), want, "{name}");
        }
    }

    #[test]
    fn binary_sniffing() {
        assert!(looks_binary(b"PK\x03\x04\x00\x00"));
        assert!(!looks_binary("Mosul, Iraq".as_bytes()));
    }
}
