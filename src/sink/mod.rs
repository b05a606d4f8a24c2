//! Where facts go once a document has been processed.
//!
//! A [`Sink`] receives documents and their facts in input order and is finished once at the
//! end of the run. The CSV tables of the output contract are one sink ([`CsvSink`]); tests
//! and other front ends can supply their own.

mod csv;

use crate::document::Document;
use crate::error::Result;
use crate::facts::Facts;

pub(crate) use self::csv::number as csv_number;
pub use self::csv::{neutralise, CsvSink, TABLES};

/// Receives the facts of each document, in input order.
pub trait Sink: Send {
    /// What formats a document's rows on the worker threads. The run calls it once and
    /// encodes each document beside the stages, so that [`Sink::document`], which is serial,
    /// is left with little more than copying bytes. The default encodes nothing.
    fn encoder(&self) -> Box<dyn Encoder> {
        Box::new(Nothing)
    }

    /// Takes the facts of one document, with what [`Sink::encoder`] made of them.
    fn document(&mut self, doc: &Document, facts: &Facts, encoded: Encoded) -> Result<()>;

    /// Ends the run: writes whatever needs all documents (cross-document incidents), makes
    /// the output visible, and returns the number of rows written per table.
    fn finish(self: Box<Self>) -> Result<Vec<(String, u64)>>;
}

/// Turns one document's facts into rows, on any thread, independently of other documents.
pub trait Encoder: Send + Sync {
    fn encode(&self, doc: &Document, facts: &Facts) -> Encoded;
}

/// A document's rows, encoded: the bytes and the number of rows for each of the sink's
/// tables, in its order.
#[derive(Debug, Default)]
pub struct Encoded {
    pub tables: Vec<(Vec<u8>, u64)>,
}

/// The encoder of sinks that do their work in [`Sink::document`].
struct Nothing;

impl Encoder for Nothing {
    fn encode(&self, _doc: &Document, _facts: &Facts) -> Encoded {
        Encoded::default()
    }
}
