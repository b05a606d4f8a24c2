//! Entity stage benchmark: how long the shipped gazetteers take to load and compile, and
//! how fast the compiled stage reads text.
//!
//! Run with `cargo bench --bench entity` (a release build). The text is the example
//! articles of examples/articles, each processed as its own document (as in a real run),
//! repeated until about 4 MB have been read; the automata alone are also timed on all the
//! articles joined into one text. Timings are the best of three runs.

use std::time::{Duration, Instant};

use gleaner::entity::{EntityStage, Gazetteers};

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
