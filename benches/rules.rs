//! Throughput of the rule stages (numbers and dates) with all built-in rules.
//!
//! `cargo bench --bench rules` reads the example articles (examples/articles/*.txt),
//! repeats them to about 4 MB, runs the whole pipeline once over them, and reports the
//! MB/s of each stage from the pipeline's own timings. For comparison it also times the
//! naive way: every rule's regex over every whole document, without the prefilter.
//! Set GLEANER_BENCH_MB to change the amount of text.

use std::time::Instant;

use gleaner::pipeline::Stage;
use gleaner::{Document, Facts, PipelineBuilder};

fn main() {
    let mb: f64 = std::env::var("GLEANER_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4.0);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/articles");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("examples/articles exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    let articles: Vec<String> = paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let mut docs = Vec::new();
    let mut bytes = 0usize;
    while (bytes as f64) < mb * 1e6 {
        for (i, text) in articles.iter().enumerate() {
            bytes += text.len();
            docs.push(Document {
                doc_id: format!("{}-{i}", docs.len()),
                text: text.clone(),
                ..Default::default()
            });
        }
    }
    let total_mb = bytes as f64 / 1e6;

    let builder = PipelineBuilder::new();
    let t = Instant::now();
    let rules = builder.build_rules().expect("built-in rules compile");
    let compile = t.elapsed();
    let pipeline = builder.build_with(rules.clone()).expect("pipeline builds");
    println!(
        "{} built-in rules compiled in {:.0} ms; {} documents, {:.1} MB of text",
        rules.rules().len(),
        compile.as_secs_f64() * 1e3,
        docs.len(),
        total_mb
    );

    let mut quantities = 0;
    let mut dates = 0;
    for d in &docs {
        let f = pipeline.process(d);
        quantities += f.quantities.len();
        dates += f.dates.len();
    }
    let mut rule_secs = 0.0;
    for (name, time) in pipeline.timings() {
        let s = time.as_secs_f64();
        if name == "numbers" || name == "dates" {
            rule_secs += s;
        }
        println!(
            "  stage {name:10} {:8.1} ms  {:8.1} MB/s",
            s * 1e3,
            total_mb / s.max(1e-9)
        );
    }
    println!(
        "rule stages (numbers + dates): {:.1} MB/s, {quantities} quantities and {dates} dates",
        total_mb / rule_secs.max(1e-9)
    );

    // The naive way, for comparison: every regex over every whole document.
    let t = Instant::now();
    let mut matches = 0usize;
    for d in &docs {
        for r in rules.rules() {
            matches += r.regex.find_iter(&d.text).count();
        }
    }
    let naive = t.elapsed().as_secs_f64();
    if std::env::var("GLEANER_BENCH_RULES").is_ok() {
        // The slowest rules, each alone over every document.
        let mut per_rule: Vec<(f64, &str)> = rules
            .rules()
            .iter()
            .map(|r| {
                let t = Instant::now();
                for d in &docs {
                    std::hint::black_box(r.regex.find_iter(&d.text).count());
                }
                (t.elapsed().as_secs_f64(), r.id.as_str())
            })
            .collect();
        per_rule.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (s, id) in per_rule.iter().take(15) {
            println!("  rule {id:24} {:8.1} ms", s * 1e3);
        }
    }
    println!(
        "without the prefilter (every rule's regex over every document, matching only): {:.1} MB/s ({matches} raw matches)",
        total_mb / naive.max(1e-9)
    );

    // The rule stages alone on one document, to show the per-document overhead.
    let stage = gleaner::numbers::NumberStage::new(rules);
    let t = Instant::now();
    for d in docs.iter().take(200) {
        let mut f = Facts::default();
        stage.run(d, &mut f);
    }
    let per = t.elapsed().as_secs_f64() / docs.len().min(200) as f64;
    println!(
        "numbers stage without entities: {:.2} ms per document",
        per * 1e3
    );
}
