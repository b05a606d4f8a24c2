//! `gleaner extract`: run the pipeline over article dumps and write the tables.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use gleaner::input::{self, FieldNames, Problem, ReadOptions};
use gleaner::run::{Observer, RunOptions, Summary};
use gleaner::sink::CsvSink;
use gleaner::PipelineBuilder;

use super::{print_error, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_SKIPPED};

/// Read article dumps and write the fact tables.
///
/// Inputs are files or folders (walked recursively, hidden entries skipped): `.txt` (one
/// article per file), `.jsonl`/`.ndjson` (one JSON object per line), `.csv` (with a header
/// row), each optionally gzipped (`.gz`). `-` reads JSONL from standard input.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Exit status: 0 when everything was read; 1 when the run finished \
                        but some input (a line, a record or a file) was skipped, as reported \
                        on standard error; 2 when the run could not be done (bad arguments, \
                        broken gazetteers or rules, output not writable)."
)]
pub struct Args {
    /// Files or folders to read; `-` for JSONL on standard input.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,

    /// Folder for the tables (created if missing).
    #[arg(long, short, default_value = "output", value_name = "DIR")]
    out: PathBuf,

    /// Worker threads (default: one per core). The tables are the same for any value.
    #[arg(long, short, value_name = "N")]
    jobs: Option<usize>,

    /// No progress bar and no closing summary (problems are still reported).
    #[arg(long, short)]
    quiet: bool,

    /// Extra gazetteer folder (.tsv files); an entry with a built-in id replaces it.
    #[arg(long, value_name = "DIR")]
    gazetteers: Option<PathBuf>,

    /// Extra titles file for the roles stage (format: docs/roles.md); a known title is
    /// replaced.
    #[arg(long, value_name = "FILE")]
    titles: Option<PathBuf>,

    /// Extra rule folder (.toml files): a file named like a built-in one replaces it, a
    /// rule with a built-in id replaces that rule. See `gleaner rules check`.
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,

    /// JSONL/CSV field holding the document id.
    #[arg(long, default_value = "id", value_name = "NAME")]
    id_field: String,

    /// JSONL/CSV field holding the article text.
    #[arg(long, default_value = "text", value_name = "NAME")]
    text_field: String,

    /// JSONL/CSV field holding the headline (default: first line of the text).
    #[arg(long, default_value = "title", value_name = "NAME")]
    title_field: String,

    /// JSONL/CSV field holding the publication date.
    #[arg(long, default_value = "published", value_name = "NAME")]
    published_field: String,

    /// JSONL/CSV field holding the article's URL.
    #[arg(long, default_value = "url", value_name = "NAME")]
    url_field: String,

    /// Megabytes of text per batch handed to the workers (fractions allowed); memory use
    /// is a few batches.
    #[arg(long, default_value_t = 8.0, value_name = "MB", value_parser = batch_size)]
    batch_mb: f64,

    /// Print where the time went to standard error, one `timings: NAME SECONDS` line each:
    /// start-up, reading, each stage and encoding rows (summed over threads), the pool's
    /// time on batches and waiting for the reader and the driver, writing rows,
    /// finishing, and sorting (the incident spill's thread, beside the others).
    #[arg(long)]
    timings: bool,
}

fn batch_size(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(mb) if mb > 0.0 && mb.is_finite() => Ok(mb),
        _ => Err(format!("{s:?} is not a positive number of megabytes")),
    }
}

/// Prints problems (at most [`LIMIT`] lines, then counts) and drives the progress bar.
struct Reporter {
    bar: Option<ProgressBar>,
    printed: usize,
    unprinted: u64,
    documents: u64,
}

const LIMIT: usize = 100;

impl Reporter {
    fn new(show: bool) -> Reporter {
        let bar = show.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                )
                .expect("progress template is valid")
                .progress_chars("=> "),
            );
            // Batches take a second or more: keep the spinner and the time moving.
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Reporter {
            bar,
            printed: 0,
            unprinted: 0,
            documents: 0,
        }
    }

    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

impl Observer for Reporter {
    fn start(&mut self, total: u64) {
        if let Some(bar) = &self.bar {
            if total > 0 {
                bar.set_length(total);
            } else {
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} {bytes} {binary_bytes_per_sec}")
                        .expect("progress template is valid"),
                );
            }
            bar.set_message("0 documents");
        }
    }

    fn problem(&mut self, p: &Problem) {
        if self.printed < LIMIT {
            self.printed += 1;
            self.say(&format!("gleaner: {p}"));
        } else {
            self.unprinted += 1;
        }
    }

    fn progress(&mut self, documents: u64, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(bytes);
            bar.set_message(format!("{documents} documents"));
        }
        self.documents = documents;
    }

    fn finishing(&mut self) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{} documents; merging incidents", self.documents));
        }
    }
}

pub fn run(args: Args) -> u8 {
    let started = std::time::Instant::now();
    let interrupt = stop_on_ctrl_c();
    let pipeline = match PipelineBuilder::new()
        .gazetteers_opt(args.gazetteers.clone())
        .titles_opt(args.titles.clone())
        .rules(args.rules.clone())
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            print_error(&e);
            return EXIT_ERROR;
        }
    };
    let startup = started.elapsed();
    let mut found = input::discover(&args.inputs);
    let sink = match CsvSink::create(&args.out) {
        Ok(s) => s,
        Err(e) => {
            print_error(&e);
            return EXIT_ERROR;
        }
    };
    found.exclude(&args.out);
    let options = RunOptions {
        jobs: args.jobs.unwrap_or(0),
        batch_bytes: ((args.batch_mb * (1 << 20) as f64) as usize).max(1),
        read: ReadOptions {
            fields: FieldNames {
                id: args.id_field,
                text: args.text_field,
                title: args.title_field,
                published: args.published_field,
                url: args.url_field,
            },
        },
        interrupt: Some(interrupt),
        ..RunOptions::default()
    };
    let show = !args.quiet && std::io::stderr().is_terminal();
    let mut reporter = Reporter::new(show);
    let result = gleaner::run::run(found, &pipeline, Box::new(sink), &options, &mut reporter);
    if let Some(bar) = &reporter.bar {
        bar.finish_and_clear();
    }
    let summary = match result {
        Ok(s) => s,
        Err(e) if e.is_interrupted() => {
            eprintln!("gleaner: {e}");
            return EXIT_INTERRUPTED;
        }
        Err(e) => {
            print_error(&e);
            return EXIT_ERROR;
        }
    };
    if reporter.unprinted > 0 {
        eprintln!(
            "gleaner: ... and {} more problems not shown",
            reporter.unprinted
        );
    }
    if !args.quiet {
        print_summary(&summary, &args.out);
    }
    if args.timings {
        print_timings(&summary, startup);
    }
    if summary.skipped > 0 {
        EXIT_SKIPPED
    } else {
        EXIT_OK
    }
}

/// A flag that the first Ctrl-C sets, so the run stops and removes its temporary files;
/// a second Ctrl-C ends the process at once.
fn stop_on_ctrl_c() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    // Without a handler (another one is installed, or signals are unavailable) Ctrl-C
    // keeps its default meaning: the run ends at once and leaves hidden `.partial` files.
    let _ = ctrlc::set_handler(move || {
        if set.swap(true, Ordering::Relaxed) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    });
    flag
}

/// One `name seconds` line each, so that scripts can pick figures out with `awk`.
fn print_timings(s: &Summary, startup: std::time::Duration) {
    eprintln!("timings: startup {:.3}", startup.as_secs_f64());
    eprintln!("timings: reading {:.3}", s.reading.as_secs_f64());
    for (stage, t) in &s.stages {
        eprintln!("timings: stage:{stage} {:.3}", t.as_secs_f64());
    }
    eprintln!("timings: processing {:.3}", s.processing.as_secs_f64());
    eprintln!(
        "timings: waiting:reader {:.3}",
        s.waiting_reader.as_secs_f64()
    );
    eprintln!(
        "timings: waiting:driver {:.3}",
        s.waiting_driver.as_secs_f64()
    );
    eprintln!("timings: encoding {:.3}", s.encoding.as_secs_f64());
    eprintln!("timings: writing {:.3}", s.writing.as_secs_f64());
    eprintln!("timings: finishing {:.3}", s.finishing.as_secs_f64());
    eprintln!("timings: sorting {:.3}", s.sorting.as_secs_f64());
    eprintln!("timings: total {:.3}", s.elapsed.as_secs_f64());
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn print_summary(s: &Summary, out: &std::path::Path) {
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    let mb = s.text_bytes as f64 / 1e6;
    eprintln!(
        "gleaner: {} ({:.1} MB of text) from {} in {:.2} s: {:.1} MB/s, {:.0} documents/s",
        plural(s.documents, "document"),
        mb,
        plural(s.inputs, "input"),
        secs,
        mb / secs,
        s.documents as f64 / secs
    );
    let rows: Vec<String> = s.rows.iter().map(|(t, n)| format!("{t} {n}")).collect();
    eprintln!("  rows: {}", rows.join(", "));
    let stages: Vec<String> = s
        .stages
        .iter()
        .map(|(name, d)| format!("{name} {:.2}", d.as_secs_f64()))
        .collect();
    eprintln!(
        "  seconds per stage (summed over threads): {}, encoding rows {:.2}; writing {:.2}; finishing (incidents) {:.2}",
        stages.join(", "),
        s.encoding.as_secs_f64(),
        s.writing.as_secs_f64(),
        s.finishing.as_secs_f64()
    );
    let mut problems = format!("  problems: {} warnings, {} skipped", s.warnings, s.skipped);
    if !s.ignored.is_empty() {
        let mut exts: Vec<String> = s
            .ignored
            .iter()
            .map(|p| {
                p.extension()
                    .map(|e| format!(".{}", e.to_string_lossy()))
                    .unwrap_or_else(|| "no extension".into())
            })
            .collect();
        exts.sort();
        exts.dedup();
        problems.push_str(&format!(
            "; {} files in the folders are not articles and were left alone ({})",
            s.ignored.len(),
            exts.join(", ")
        ));
    }
    eprintln!("{problems}");
    eprintln!("  tables written to {}", out.display());
}
