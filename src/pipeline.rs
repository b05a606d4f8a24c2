//! The stages and the pipeline that runs them over a document.
//!
//! A document passes through the stages in order: entities first (the gazetteers), then the
//! rule stages for numbers, dates, roles and events, each of which may read what the
//! earlier ones found. The pipeline is immutable and `Sync`: rayon workers share one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::document::Document;
use crate::facts::Facts;

/// One step of extraction. A stage reads the document and the facts found so far and adds
/// its own. It must be deterministic: the same input gives the same facts, whatever thread
/// runs it.
pub trait Stage: Send + Sync {
    /// A short name for timings and messages (`entities`, `numbers`, ...).
    fn name(&self) -> &str;

    /// Adds this stage's facts about `doc` to `facts`.
    fn run(&self, doc: &Document, facts: &mut Facts);
}

/// The compiled stages, in order, with the time each has taken so far.
pub struct Pipeline {
    stages: Vec<Box<dyn Stage>>,
    nanos: Vec<AtomicU64>,
}

impl Pipeline {
    /// A pipeline running `stages` in the given order.
    pub fn new(stages: Vec<Box<dyn Stage>>) -> Pipeline {
        let nanos = stages.iter().map(|_| AtomicU64::new(0)).collect();
        Pipeline { stages, nanos }
    }

    /// Runs every stage on `doc` and returns the facts in text order.
    ///
    /// ```
    /// use gleaner::pipeline::{Pipeline, Stage};
    /// use gleaner::{Document, Facts};
    ///
    /// let pipeline = Pipeline::new(Vec::new());
    /// let doc = Document { doc_id: "a".into(), text: "Nothing here.".into(), ..Default::default() };
    /// assert_eq!(pipeline.process(&doc), Facts::default());
    /// ```
    pub fn process(&self, doc: &Document) -> Facts {
        let mut facts = Facts::default();
        for (stage, nanos) in self.stages.iter().zip(&self.nanos) {
            let t = Instant::now();
            stage.run(doc, &mut facts);
            nanos.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        }
        facts.sort();
        facts
    }

    /// The stages' names with the time spent in each (summed over threads).
    pub fn timings(&self) -> Vec<(String, Duration)> {
        self.stages
            .iter()
            .zip(&self.nanos)
            .map(|(s, n)| {
                (
                    s.name().to_string(),
                    Duration::from_nanos(n.load(Ordering::Relaxed)),
                )
            })
            .collect()
    }
}
