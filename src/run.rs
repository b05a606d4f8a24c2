//! The batch driver: inputs -> documents in bounded batches -> pipeline (in parallel) ->
//! sink, in input order.
//!
//! A reader thread fills batches of documents (up to a byte and a count limit) and hands
//! them over a channel that holds at most one waiting batch; a second thread has each batch
//! processed by a rayon pool and hands it, with its facts, over another such channel to the
//! driver thread, which passes them to the sink in input order. So reading, processing and
//! writing overlap, memory is bounded by a few batches whatever the size of the dump, and
//! the output is the same for any number of threads.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::document::Document;
use crate::error::{Error, Location, Result};
use crate::input::{self, ByteCounter, Discovery, Flow, Item, Problem, ReadOptions, Severity};
use crate::pipeline::Pipeline;
use crate::sink::{Encoded, Sink};

/// Settings of a batch run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
    /// A batch is handed to the workers once its texts reach this many bytes...
    pub batch_bytes: usize,
    /// ...or this many documents.
    pub batch_docs: usize,
    pub read: ReadOptions,
    /// Set (from a Ctrl-C handler, say) to stop the run: reading stops, the batches in
    /// flight are dropped, and [`run`] returns [`Error::interrupted`] without finishing the
    /// sink, so that [`crate::sink::CsvSink`] removes its temporary files.
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: 0,
            batch_bytes: 8 << 20,
            batch_docs: 2048,
            read: ReadOptions::default(),
            interrupt: None,
        }
    }
}

/// Hears about a run as it goes: problems as they are met, progress after each batch.
/// The library never prints; the command line implements this with a progress bar.
pub trait Observer {
    /// The run is about to read `total_bytes` bytes of input (0 if unknown, as for stdin).
    fn start(&mut self, _total_bytes: u64) {}
    /// A problem with the input, in input order.
    fn problem(&mut self, _problem: &Problem) {}
    /// After each batch: documents done, and input bytes read up to the end of the batch.
    fn progress(&mut self, _documents: u64, _input_bytes: u64) {}
    /// Every document is done; the sink is finishing (incidents across documents).
    fn finishing(&mut self) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub documents: u64,
    /// Bytes of article text processed.
    pub text_bytes: u64,
    /// Bytes read from the inputs (compressed size for gzip).
    pub input_bytes: u64,
    pub inputs: u64,
    /// Rows written per table.
    pub rows: Vec<(String, u64)>,
    pub warnings: u64,
    /// Lines, records or files left out of the output.
    pub skipped: u64,
    /// Files in the given folders that are not article files, left alone.
    pub ignored: Vec<std::path::PathBuf>,
    pub elapsed: Duration,
    /// Time per stage, summed over threads.
    pub stages: Vec<(String, Duration)>,
    /// Time the workers spent encoding rows for the sink, summed over threads.
    pub encoding: Duration,
    /// Time spent handing documents to the sink (writing rows), on the main thread.
    pub writing: Duration,
    /// Time spent finishing the sink (cross-document incidents, flushing, renaming).
    pub finishing: Duration,
    /// Time the sink's own threads worked beside the run ([`Sink::side_work`]: the CSV
    /// sink's sorting of full batches of incident reports), not counted in any other time.
    pub sorting: Duration,
    /// Time the reader thread spent reading and parsing input (not waiting for the workers).
    pub reading: Duration,
    /// Wall time the pool spent on batches (the stages, in parallel), beside the reading
    /// and the writing.
    pub processing: Duration,
    /// Wall time the workers waited for the reader's next batch, and for the driver thread
    /// to take their last one (the sink's writes stalled them): what the pool lost to the
    /// threads beside it. (Their sum with `processing` is the run's wall time before
    /// finishing; `writing` alone is the driver's own time, which runs beside the workers.)
    pub waiting_reader: Duration,
    pub waiting_driver: Duration,
}

/// How many consecutive documents a worker processes and encodes together: enough that
/// the driver thread handles few buffers, few enough that both workers get many of a batch.
const CHUNK: usize = 16;

struct Batch {
    docs: Vec<Document>,
    problems: Vec<Problem>,
    /// Input bytes read when the batch was cut. The reader runs up to two batches ahead
    /// of the workers, so progress is measured by this, not by the reader's position.
    input_bytes: u64,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            docs: Vec::new(),
            problems: Vec::new(),
            input_bytes: 0,
        }
    }
}

/// Runs the pipeline over every input and hands the facts to `sink`.
///
/// Fails only when the run cannot go on (an output file cannot be written, the thread pool
/// cannot start); bad input is reported to `observer` and counted in the summary.
pub fn run(
    found: Discovery,
    pipeline: &Pipeline,
    sink: Box<dyn Sink>,
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<Summary> {
    let started = Instant::now();
    let mut summary = Summary {
        inputs: found.inputs.len() as u64,
        ignored: found.ignored.clone(),
        ..Summary::default()
    };
    let total: u64 = found.inputs.iter().map(|i| i.size).sum();
    observer.start(total);
    for p in &found.problems {
        count(&mut summary, p);
        observer.problem(p);
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs)
        .thread_name(|i| format!("gleaner-worker-{i}"))
        .build()
        .map_err(|e| Error::usage(format!("cannot start {} worker threads: {e}", options.jobs)))?;

    let counter = ByteCounter::default();
    let (tx, rx) = mpsc::sync_channel::<Batch>(1);
    let inputs = found.inputs;
    let read_options = options.read.clone();
    let (limit_bytes, limit_docs) = (options.batch_bytes.max(1), options.batch_docs.max(1));
    let reader_counter = counter.clone();
    let mut sink = sink;
    let mut seen_ids: HashSet<u64> = HashSet::new();
    let interrupt = options.interrupt.clone().unwrap_or_default();
    let interrupted = || interrupt.load(Ordering::Relaxed);
    // Nanoseconds the workers spent encoding rows, summed over threads.
    let encoding = &AtomicU64::new(0);

    std::thread::scope(|scope| -> Result<()> {
        let reader = scope.spawn(move || {
            let mut busy = Duration::ZERO;
            let mut since = Instant::now();
            let mut batch = Batch::new();
            let mut bytes = 0usize;
            let mut stopped = false;
            for input in &inputs {
                if stopped {
                    break;
                }
                input::read_input(input, &read_options, &reader_counter, &mut |item| {
                    stopped |= interrupted();
                    if stopped {
                        return Flow::Break(());
                    }
                    match item {
                        Item::Doc(doc) => {
                            bytes += doc.text.len();
                            batch.docs.push(doc);
                        }
                        Item::Problem(p) => batch.problems.push(p),
                    }
                    if bytes >= limit_bytes || batch.docs.len() >= limit_docs {
                        let mut full = std::mem::replace(&mut batch, Batch::new());
                        full.input_bytes = reader_counter.get();
                        bytes = 0;
                        busy += since.elapsed();
                        // The receiver only goes away when writing failed: stop reading.
                        stopped = tx.send(full).is_err();
                        since = Instant::now();
                    }
                    if stopped {
                        Flow::Break(())
                    } else {
                        Flow::Continue(())
                    }
                });
            }
            busy += since.elapsed();
            batch.input_bytes = reader_counter.get();
            let _ = tx.send(batch);
            busy
        });

        // The workers take the next batch while the driver thread writes the last one:
        // writing is serial, and the cores would otherwise wait for it.
        // They also encode the rows, so that the driver thread only copies bytes, and they
        // do it for runs of `CHUNK` documents, so that the driver gets a few large buffers
        // rather than many small ones.
        let (done_tx, done_rx) = mpsc::sync_channel::<(Batch, Vec<Encoded>)>(1);
        let pool = &pool;
        let encoder = sink.encoder();
        let workers = scope.spawn(move || {
            let (mut busy, mut for_reader, mut for_driver) =
                (Duration::ZERO, Duration::ZERO, Duration::ZERO);
            let mut since = Instant::now();
            for batch in rx {
                for_reader += since.elapsed();
                let t = Instant::now();
                let results: Vec<Encoded> = pool.install(|| {
                    batch
                        .docs
                        .par_chunks(CHUNK)
                        .map(|docs| {
                            let mut encoded = Encoded::default();
                            for d in docs {
                                if interrupted() {
                                    break;
                                }
                                let facts = pipeline.process(d);
                                let t = Instant::now();
                                encoder.encode(d, facts, &mut encoded);
                                let nanos = t.elapsed().as_nanos() as u64;
                                encoding.fetch_add(nanos, Ordering::Relaxed);
                            }
                            encoded
                        })
                        .collect()
                });
                busy += t.elapsed();
                let t = Instant::now();
                // The receiver only goes away when writing failed: stop.
                if done_tx.send((batch, results)).is_err() {
                    break;
                }
                for_driver += t.elapsed();
                since = Instant::now();
            }
            (busy, for_reader, for_driver)
        });

        for (batch, results) in done_rx {
            if interrupted() {
                // Dropping the receiver stops the workers, and then the reader.
                break;
            }
            for p in &batch.problems {
                count(&mut summary, p);
                observer.problem(p);
            }
            for doc in &batch.docs {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                doc.doc_id.hash(&mut h);
                if !seen_ids.insert(h.finish()) {
                    let p = Problem::warning(
                        Location::file(&doc.source),
                        format!(
                            "duplicate doc_id {:?}: rows of both documents share it",
                            doc.doc_id
                        ),
                    );
                    count(&mut summary, &p);
                    observer.problem(&p);
                }
                summary.documents += 1;
                summary.text_bytes += doc.text.len() as u64;
            }
            let t = Instant::now();
            for (docs, encoded) in batch.docs.chunks(CHUNK).zip(results) {
                sink.documents(docs, encoded)?;
            }
            summary.writing += t.elapsed();
            observer.progress(summary.documents, batch.input_bytes);
        }
        (
            summary.processing,
            summary.waiting_reader,
            summary.waiting_driver,
        ) = workers
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        summary.encoding = Duration::from_nanos(encoding.load(Ordering::Relaxed));
        // A panic in the reader is a bug; pass it on rather than report a short run.
        summary.reading = reader
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        Ok(())
    })?;

    if interrupted() {
        return Err(Error::interrupted());
    }
    observer.finishing();
    let t = Instant::now();
    let side = sink.side_work();
    // In the run's pool, so that --jobs bounds the threads of the incident sort too.
    summary.rows = pool.install(|| sink.finish())?;
    summary.finishing = t.elapsed();
    summary.sorting = Duration::from_nanos(side.map_or(0, |n| n.load(Ordering::Relaxed)));
    summary.input_bytes = counter.get();
    summary.elapsed = started.elapsed();
    summary.stages = pipeline.timings();
    Ok(summary)
}

fn count(summary: &mut Summary, p: &Problem) {
    match p.severity {
        Severity::Warning => summary.warnings += 1,
        Severity::Skipped => summary.skipped += 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::{Encoded, Sink};

    /// Records what it is given; fails on document number `fail_at`, if any.
    struct Recorder {
        seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
        fail_at: Option<usize>,
    }

    impl Sink for Recorder {
        fn documents(&mut self, docs: &[Document], encoded: Encoded) -> Result<()> {
            assert_eq!(docs.len(), encoded.facts.len());
            for (doc, facts) in docs.iter().zip(&encoded.facts) {
                let mut seen = self.seen.lock().unwrap();
                if Some(seen.len()) == self.fail_at {
                    return Err(Error::usage("disk full"));
                }
                seen.push(format!("{} {}", doc.doc_id, facts.entities.len()));
            }
            Ok(())
        }

        fn finish(self: Box<Self>) -> Result<Vec<(String, u64)>> {
            let n = self.seen.lock().unwrap().len() as u64;
            Ok(vec![("documents".into(), n)])
        }
    }

    fn run_over(
        dump: &std::path::Path,
        jobs: usize,
        fail_at: Option<usize>,
    ) -> (Result<Summary>, Vec<String>) {
        let pipeline = crate::PipelineBuilder::new().build().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Recorder {
            seen: seen.clone(),
            fail_at,
        };
        let options = RunOptions {
            jobs,
            // Many small batches, so that all three threads have work at once.
            batch_bytes: 4096,
            batch_docs: 3,
            ..RunOptions::default()
        };
        let found = input::discover(&[dump.to_path_buf()]);
        let result = run(found, &pipeline, Box::new(sink), &options, &mut Silent);
        let seen = seen.lock().unwrap().clone();
        (result, seen)
    }

    fn dump(dir: &tempfile::TempDir) -> std::path::PathBuf {
        let gaz = crate::entity::Gazetteers::builtin().unwrap();
        let generator = crate::generate::Generator::new(&gaz, 5).unwrap();
        let path = dir.path().join("dump.jsonl");
        let mut file = std::fs::File::create(&path).unwrap();
        generator.write_jsonl(&mut file, 60_000).unwrap();
        path
    }

    #[test]
    fn documents_reach_the_sink_in_input_order_for_any_number_of_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dump(&dir);
        let (one, seen_one) = run_over(&path, 1, None);
        let (two, seen_two) = run_over(&path, 2, None);
        let (one, two) = (one.unwrap(), two.unwrap());
        assert!(seen_one.len() > 20, "{}", seen_one.len());
        assert_eq!(seen_one, seen_two);
        assert_eq!(one.documents, seen_one.len() as u64);
        assert_eq!(two.rows, vec![("documents".to_string(), one.documents)]);
        let ids: Vec<u64> = seen_one.iter().map(|s| s[8..16].parse().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] + 1 == w[1]), "{ids:?}");
        assert_eq!(one.stages.len(), 5);
    }

    #[test]
    fn an_interrupted_run_is_an_error_and_the_sink_is_not_finished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dump(&dir);
        let pipeline = crate::PipelineBuilder::new().build().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Recorder {
            seen: seen.clone(),
            fail_at: None,
        };
        let options = RunOptions {
            jobs: 2,
            interrupt: Some(Arc::new(AtomicBool::new(true))),
            ..RunOptions::default()
        };
        let found = input::discover(&[path]);
        let err = run(found, &pipeline, Box::new(sink), &options, &mut Silent).unwrap_err();
        assert!(err.is_interrupted(), "{err}");
        assert!(seen.lock().unwrap().is_empty());
    }

    /// A sink that takes `pause` for every run of documents, as a stalled disk would.
    struct Slow {
        pause: Duration,
    }

    impl Sink for Slow {
        fn documents(&mut self, _docs: &[Document], _encoded: Encoded) -> Result<()> {
            std::thread::sleep(self.pause);
            Ok(())
        }

        fn finish(self: Box<Self>) -> Result<Vec<(String, u64)>> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn the_workers_waiting_for_a_slow_sink_is_measured() {
        let dir = tempfile::tempdir().unwrap();
        let path = dump(&dir);
        let pipeline = crate::PipelineBuilder::new().build().unwrap();
        let run_with = |pause: Duration| {
            let options = RunOptions {
                jobs: 1,
                batch_bytes: 4096,
                batch_docs: 3,
                ..RunOptions::default()
            };
            let found = input::discover(std::slice::from_ref(&path));
            let sink = Box::new(Slow { pause });
            run(found, &pipeline, sink, &options, &mut Silent).unwrap()
        };
        let pause = Duration::from_millis(100);
        let slow = run_with(pause);
        // The workers' last batch is taken once the driver has written all but the last
        // two, so their loop lasts at least that long: what the stages did not take of it
        // was waiting.
        let batches = slow.documents.div_ceil(3) as u32;
        assert!(batches > 10, "{}", slow.documents);
        let looped = slow.waiting_driver + slow.waiting_reader + slow.processing;
        assert!(looped + 2 * pause >= batches * pause, "{slow:?}");
        assert!(slow.waiting_driver >= pause, "{slow:?}");
        assert!(looped <= slow.elapsed, "{slow:?}");
        let quick = run_with(Duration::ZERO);
        assert!(quick.waiting_driver < slow.waiting_driver, "{quick:?}");
    }

    #[test]
    fn a_failing_sink_stops_the_run_with_its_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dump(&dir);
        let (result, seen) = run_over(&path, 2, Some(7));
        assert!(result.unwrap_err().to_string().contains("disk full"));
        assert_eq!(seen.len(), 7);
    }
}
