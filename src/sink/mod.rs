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
pub trait Sink {
    /// Takes the facts of one document. `published` is the publication date in force (from
    /// the input, or found in the article's header).
    fn document(&mut self, doc: &Document, facts: &Facts) -> Result<()>;

    /// Ends the run: writes whatever needs all documents (cross-document incidents), makes
    /// the output visible, and returns the number of rows written per table.
    fn finish(self: Box<Self>) -> Result<Vec<(String, u64)>>;
}
