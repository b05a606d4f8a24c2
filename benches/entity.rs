//! Entity stage benchmark: how long the shipped gazetteers take to load and compile, and
//! how fast the compiled stage reads text.
//!
//! Run with `cargo bench --bench entity` (a release build). The text is the example
//! articles of examples/articles, each processed as its own document (as in a real run),
//! repeated until about 4 MB have been read; the automata alone are also timed on all the
//! articles joined into one text. Timings are the best of three runs.

use std::time::{Duration, Instant};

use gleaner::entity::{EntityStage, Gazetteers};

/// The binary's allocator, so that allocation costs what it costs in a real run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The CPU time of this process so far, all threads, where the OS tells it (Linux
/// `/proc/self/stat`, in ticks of 10 ms): a fair number on a machine busy with other work,
/// where wall time is not.
fn cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = s.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime: fields 14 and 15 of the line, 12 and 13 after the command name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.expect("at least one run"))
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn main() {
    if let Some(dump) = std::env::var_os("ENTITY_BENCH_DUMP") {
        let gaz = Gazetteers::builtin().expect("built-in gazetteers");
        let stage = EntityStage::new(&gaz).expect("compiles");
        return dump_stage(&stage, std::path::Path::new(&dump));
    }
    let c0 = cpu();
    let (parse, gaz) = best_of(3, || Gazetteers::builtin().expect("built-in gazetteers"));
    let c1 = cpu();
    let aliases: usize = gaz.entries.iter().map(|e| e.aliases.len()).sum();
    let (compile, stage) = best_of(3, || EntityStage::new(&gaz).expect("compiles"));
    let c2 = cpu();
    println!(
        "gazetteers: {} entries, {} aliases; parse {:.0} ms, compile {:.0} ms, total {:.0} ms (best of 3, wall)",
        gaz.entries.len(),
        aliases,
        ms(parse),
        ms(compile),
        ms(parse + compile)
    );
    if let (Some(c0), Some(c1), Some(c2)) = (c0, c1, c2) {
        println!(
            "  CPU time, all threads (mean of 3): parse {:.0} ms, compile {:.0} ms, total {:.0} ms",
            ms(c1 - c0) / 3.0,
            ms(c2 - c1) / 3.0,
            ms(c2 - c0) / 3.0
        );
    }

    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/articles");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("examples/articles")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    let articles: Vec<String> = paths
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("readable article"))
        .collect();
    let one: usize = articles.iter().map(String::len).sum();
    let rounds = (4_000_000 / one.max(1)).max(1);

    let joined = articles.join("\n\n").repeat(rounds);
    let (d, hits) = best_of(3, || stage.matcher().find(&joined).len());
    println!(
        "gazetteer matching: {:.1} MB in {:.0} ms: {:.1} MB/s ({} hits)",
        joined.len() as f64 / 1e6,
        d.as_secs_f64() * 1e3,
        mb_per_s(joined.len(), d),
        hits
    );

    let (d, n) = best_of(3, || {
        let mut n = 0;
        for _ in 0..rounds {
            for a in &articles {
                n += stage.entities(a).len();
            }
        }
        n
    });
    println!(
        "entity stage (matching, name rules, coreference): {} documents, {:.1} MB in {:.0} ms: {:.1} MB/s ({} entities)",
        rounds * articles.len(),
        (one * rounds) as f64 / 1e6,
        d.as_secs_f64() * 1e3,
        mb_per_s(one * rounds, d),
        n
    );
}

/// With `ENTITY_BENCH_DUMP=FILE.jsonl`: the entity stage alone on each article of a dump
/// (as `gleaner extract` gives it), best of `ENTITY_BENCH_RUNS` (default 3) runs, with a
/// checksum of the entities found, so that two builds can be compared for speed and output
/// without the other stages' noise (`perf record` on this too).
fn dump_stage(stage: &EntityStage, path: &std::path::Path) {
    use std::hash::{Hash, Hasher};
    let content = std::fs::read_to_string(path).expect("readable dump");
    let texts: Vec<String> = content
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            v["text"].as_str().unwrap_or("").to_string()
        })
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let runs = std::env::var("ENTITY_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    // CPU time as well as wall: the machine may be busy with other work.
    let mut best_cpu = Duration::MAX;
    let (d, n) = best_of(runs, || {
        let c = cpu();
        let n = texts.iter().map(|t| stage.entities(t).len()).sum::<usize>();
        if let (Some(c), Some(now)) = (c, cpu()) {
            best_cpu = best_cpu.min(now - c);
        }
        n
    });
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for t in &texts {
        format!("{:?}", stage.entities(t)).hash(&mut h);
    }
    let sum = h.finish();
    println!(
        "entity stage on {}: {} documents, {:.1} MB in {:.0} ms wall, {:.0} ms CPU (best of {runs}): {:.1} MB/s ({n} entities, checksum {sum:016x})",
        path.display(),
        texts.len(),
        bytes as f64 / 1e6,
        ms(d),
        ms(best_cpu),
        mb_per_s(bytes, d)
    );
}
