//! Which Aho-Corasick build suits the gazetteers: build time (wall and CPU) and memory of
//! each automaton kind, case-insensitive or on lowercased text, with all the shipped
//! aliases, and the time of an anchored search at every word start of an article.
//!
//! Run with `cargo bench --bench entity_automata`. CPU time is the process's, read from
//! /proc (Linux), so that a machine busy with other work still gives a fair number.
//! Findings are in docs/entities.md (Performance).

use std::time::{Duration, Instant};

use aho_corasick::{AhoCorasickBuilder, AhoCorasickKind, Anchored, Input, MatchKind, StartKind};
use gleaner::entity::{normalize::fold, Gazetteers};

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

fn main() {
    let gaz = Gazetteers::builtin().expect("built-in gazetteers");
    let mut keys: Vec<String> = gaz
        .entries
        .iter()
        .flat_map(|e| e.aliases.iter().map(|a| fold(&a.text).to_ascii_lowercase()))
        .collect();
    keys.sort();
    keys.dedup();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/articles/2024-05-somalia-mogadishu-car-bomb.txt"
    );
    let text = std::fs::read_to_string(path)
        .expect("example article")
        .repeat(200);
    let lower = text.to_ascii_lowercase();
    let starts: Vec<usize> = (0..text.len())
        .filter(|&i| {
            text.as_bytes()[i].is_ascii_alphanumeric()
                && (i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric())
        })
        .collect();
    println!(
        "{} distinct keys; text {:.1} MB, {} word starts",
        keys.len(),
        text.len() as f64 / 1e6,
        starts.len()
    );
    let kinds = [
        None,
        Some(AhoCorasickKind::NoncontiguousNFA),
        Some(AhoCorasickKind::ContiguousNFA),
        Some(AhoCorasickKind::DFA),
    ];
    for insensitive in [true, false] {
        for kind in kinds {
            let (t, c) = (Instant::now(), cpu());
            let ac = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .ascii_case_insensitive(insensitive)
                .start_kind(StartKind::Anchored)
                .kind(kind)
                .build(&keys)
                .expect("builds");
            let (wall, cpu_build) = (t.elapsed(), cpu().zip(c).map(|(a, b)| a - b));
            let hay = if insensitive { &text } else { &lower };
            let t = Instant::now();
            let hits = starts
                .iter()
                .filter(|&&i| {
                    ac.find(Input::new(hay).range(i..).anchored(Anchored::Yes))
                        .is_some()
                })
                .count();
            let search = t.elapsed();
            println!(
                "{:<17} {:<16} build {:>6.0} ms (cpu {:>6}), {:>5} MB; search {:>5.1} MB/s ({hits} hits)",
                format!("{kind:?}").trim_start_matches("Some(").trim_end_matches(')'),
                if insensitive { "case-insensitive" } else { "lowercased text" },
                wall.as_secs_f64() * 1e3,
                cpu_build.map_or("?".into(), |d| format!("{:.0} ms", d.as_secs_f64() * 1e3)),
                ac.memory_usage() / 1_000_000,
                text.len() as f64 / 1e6 / search.as_secs_f64(),
            );
        }
    }
}
