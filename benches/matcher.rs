//! The gazetteer matcher against the floor it cannot beat: a bare leftmost-longest
//! automaton over the same place aliases, with nothing done per match.
//!
//! Groups:
//! - `matcher/compile`: building [`Matcher`] from the full built-in gazetteers;
//! - `matcher/find`: [`Matcher::find`] (both automata, word-boundary and case checks) over
//!   synthetic articles, in bytes per second;
//! - `floor/*`: the aho-corasick crate's leftmost-longest, ASCII-case-insensitive automaton
//!   over all place aliases, as a contiguous NFA and a DFA, and the
//!   double-array `daachorse` automaton on the same (lower-cased) aliases, scanning the same
//!   text; counting matches only.
//!
//! Run with `cargo bench --bench matcher`; the figures are in docs/performance.md. The heap
//! size of each automaton is printed once to standard error, since criterion only measures
//! time.
//!
//! Times are the benchmark thread's CPU time (Linux: /proc/thread-self/schedstat), not
//! wall time, so that the figures hold on a machine shared with other work; where that file
//! is missing, wall time is used.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use daachorse::{
    CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, DoubleArrayAhoCorasick,
    DoubleArrayAhoCorasickBuilder, MatchKind as DaaKind,
};

use gleaner::entity::{Gazetteers, Matcher};
use gleaner::facts::EntityType;
use gleaner::generate::Generator;

/// CPU time of this thread so far, if the OS tells it.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        s.split_whitespace().next()?.parse().ok()?,
    ))
}

/// Runs `f` `iters` times and returns the CPU time it took (wall time as a fallback).
fn cpu_time<R>(iters: u64, mut f: impl FnMut() -> R) -> Duration {
    let (cpu, wall) = (thread_cpu(), Instant::now());
    for _ in 0..iters {
        black_box(f());
    }
    match (cpu, thread_cpu()) {
        (Some(a), Some(b)) => b - a,
        _ => wall.elapsed(),
    }
}

/// About 2 MB of synthetic articles: enough to leave the caches, small enough to iterate.
fn haystack(gaz: &Gazetteers) -> String {
    let generator = Generator::new(gaz, 42).expect("the built-in gazetteers have places");
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 2_000_000 {
        text.push_str(&generator.article(i).text);
        text.push('\n');
        i += 1;
    }
    text
}

/// Every place alias, lower-cased and deduplicated, as the matcher's folded automaton sees
/// them (the case-sensitive ones included, folded: the floor does not check case).
fn place_aliases(gaz: &Gazetteers) -> Vec<String> {
    let mut aliases: Vec<String> = gaz
        .entries
        .iter()
        .filter(|e| e.etype == EntityType::Place)
        .flat_map(|e| e.aliases.iter().map(|a| a.text.to_ascii_lowercase()))
        .collect();
    aliases.sort();
    aliases.dedup();
    aliases
}

fn build_ac(aliases: &[String], kind: AhoCorasickKind) -> AhoCorasick {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .ascii_case_insensitive(true)
        .kind(Some(kind))
        .build(aliases)
        .expect("the aliases compile")
}

fn build_daac(aliases: &[String]) -> DoubleArrayAhoCorasick<u32> {
    DoubleArrayAhoCorasickBuilder::new()
        .match_kind(DaaKind::LeftmostLongest)
        .build(aliases)
        .expect("the aliases compile")
}

fn build_charwise(aliases: &[String]) -> CharwiseDoubleArrayAhoCorasick<u32> {
    CharwiseDoubleArrayAhoCorasickBuilder::new()
        .match_kind(DaaKind::LeftmostLongest)
        .build(aliases)
        .expect("the aliases compile")
}

fn benches(c: &mut Criterion) {
    let gaz = Gazetteers::builtin().expect("the built-in gazetteers load");
    let text = haystack(&gaz);
    let aliases = place_aliases(&gaz);
    eprintln!(
        "matcher bench: {} entries, {} distinct place aliases, {} bytes of text",
        gaz.entries.len(),
        aliases.len(),
        text.len()
    );

    let mut g = c.benchmark_group("matcher");
    g.sample_size(10);
    g.bench_function("compile", |b| {
        b.iter_custom(|n| {
            cpu_time(n, || {
                Matcher::build(black_box(gaz.entries.clone())).unwrap()
            })
        })
    });
    let matcher = Matcher::build(gaz.entries.clone()).unwrap();
    eprintln!(
        "matcher bench: Matcher::find gives {} hits; its automata hold {:.1} MB of heap",
        matcher.find(&text).len(),
        matcher.heap_bytes() as f64 / 1e6
    );
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("find", |b| {
        b.iter_custom(|n| cpu_time(n, || matcher.find(black_box(&text)).len()))
    });
    g.finish();

    let mut g = c.benchmark_group("floor");
    g.sample_size(10);
    g.bench_function("compile/ac-contiguous-nfa", |b| {
        b.iter_custom(|n| {
            cpu_time(n, || {
                build_ac(black_box(&aliases), AhoCorasickKind::ContiguousNFA)
            })
        })
    });
    g.bench_function("compile/daachorse", |b| {
        b.iter_custom(|n| cpu_time(n, || build_daac(black_box(&aliases))))
    });
    g.throughput(Throughput::Bytes(text.len() as u64));
    // The non-contiguous NFA (what the contiguous one is built from) scans some three times
    // slower than the contiguous one and is left out.
    for (name, kind) in [
        ("ac-contiguous-nfa", AhoCorasickKind::ContiguousNFA),
        ("ac-dfa", AhoCorasickKind::DFA),
    ] {
        let t = std::time::Instant::now();
        let ac = build_ac(&aliases, kind);
        eprintln!(
            "matcher bench: {name}: built in {:.2} s, {:.1} MB of heap, {} matches",
            t.elapsed().as_secs_f64(),
            ac.memory_usage() as f64 / 1e6,
            ac.find_iter(&text).count()
        );
        g.bench_with_input(BenchmarkId::new("scan", name), &text, |b, text| {
            b.iter_custom(|n| cpu_time(n, || ac.find_iter(black_box(text.as_str())).count()))
        });
    }
    let t = std::time::Instant::now();
    let daac = build_daac(&aliases);
    eprintln!(
        "matcher bench: daachorse: built in {:.2} s, {:.1} MB of heap, {} matches",
        t.elapsed().as_secs_f64(),
        daac.heap_bytes() as f64 / 1e6,
        daac.leftmost_find_iter(text.to_ascii_lowercase()).count()
    );
    // daachorse has no case folding: lower-case the text first, and count that in.
    g.bench_with_input(
        BenchmarkId::new("scan", "daachorse+lowercase"),
        &text,
        |b, text| {
            b.iter_custom(|n| {
                cpu_time(n, || {
                    daac.leftmost_find_iter(black_box(text).to_ascii_lowercase())
                        .count()
                })
            })
        },
    );
    let lower = text.to_ascii_lowercase();
    g.bench_with_input(
        BenchmarkId::new("scan", "daachorse-prelowered"),
        &lower,
        |b, lower| {
            b.iter_custom(|n| {
                cpu_time(n, || {
                    daac.leftmost_find_iter(black_box(lower.as_str())).count()
                })
            })
        },
    );
    let t = std::time::Instant::now();
    let charwise = build_charwise(&aliases);
    eprintln!(
        "matcher bench: daachorse charwise: built in {:.2} s, {:.1} MB of heap, {} matches",
        t.elapsed().as_secs_f64(),
        charwise.heap_bytes() as f64 / 1e6,
        charwise.leftmost_find_iter(&lower).count()
    );
    g.bench_with_input(
        BenchmarkId::new("scan", "daachorse-charwise-prelowered"),
        &lower,
        |b, lower| {
            b.iter_custom(|n| {
                cpu_time(n, || {
                    charwise
                        .leftmost_find_iter(black_box(lower.as_str()))
                        .count()
                })
            })
        },
    );
    g.finish();
}

criterion_group!(matcher, benches);
criterion_main!(matcher);
