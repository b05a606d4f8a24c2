//! Where facts go once a document has been processed.
//!
//! A [`Sink`] receives documents and their facts in input order and is finished once at the
//! end of the run. The CSV tables of the output contract are one sink ([`CsvSink`]); tests
//! and other front ends can supply their own.

mod csv;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::document::Document;
use crate::error::Result;
use crate::facts::Facts;

pub(crate) use self::csv::push_number;
pub use self::csv::{neutralise, CsvSink, TABLES};

/// Receives the facts of each document, in input order.
pub trait Sink: Send {
    /// What formats documents' rows on the worker threads. The run calls it once and
    /// encodes each run of documents beside the stages, so that [`Sink::documents`], which
    /// is serial, is left with little more than copying bytes. The default keeps the facts.
    fn encoder(&self) -> Box<dyn Encoder> {
        Box::new(Keep)
    }

    /// Takes consecutive documents, with what [`Sink::encoder`] made of their facts.
    fn documents(&mut self, docs: &[Document], encoded: Encoded) -> Result<()>;

    /// Nanoseconds the sink's own threads spend working beside the run (for the CSV sink,
    /// sorting and writing the incident spill's full batches), added up as they go and
    /// complete once [`Sink::finish`] has returned; `None` for a sink without such threads.
    fn side_work(&self) -> Option<Arc<AtomicU64>> {
        None
    }

    /// Ends the run: writes whatever needs all documents (cross-document incidents), makes
    /// the output visible, and returns the number of rows written per table.
    fn finish(self: Box<Self>) -> Result<Vec<(String, u64)>>;
}

/// Turns documents' facts into rows, on any thread, independently of other documents.
pub trait Encoder: Send + Sync {
    /// Appends the rows of one document to `into`. The facts are given, not lent: an
    /// encoder that has written all it needs drops them here, on the worker thread that
    /// made them. (Freed on the driver thread instead, they took half of its time: memory
    /// freed by a thread other than the one that allocated it is slow to free.)
    fn encode(&self, doc: &Document, facts: Facts, into: &mut Encoded);
}

/// The rows of consecutive documents, encoded: the bytes and the number of rows for each
/// of the sink's tables, in its order; what the sink keeps for its end; and the facts
/// themselves, for sinks whose encoder keeps them.
#[derive(Debug, Default)]
pub struct Encoded {
    pub tables: Vec<(Vec<u8>, u64)>,
    /// Records the sink keeps until [`Sink::finish`] (the CSV sink: each event, for the
    /// incident merge), in the sink's own form.
    pub kept: Vec<u8>,
    /// The facts of each document, in order, if the encoder keeps them.
    pub facts: Vec<Facts>,
}

/// The encoder of sinks that do their work in [`Sink::documents`]: it keeps the facts.
struct Keep;

impl Encoder for Keep {
    fn encode(&self, _doc: &Document, facts: Facts, into: &mut Encoded) {
        into.facts.push(facts);
    }
}
