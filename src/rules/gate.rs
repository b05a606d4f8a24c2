//! The prefilter of a group of rules: which rules can match in which paragraphs of a
//! document, from one pass of one lazy DFA over the document's paragraphs.
//!
//! Every rule still finds its matches paragraph by paragraph with its own regex; the
//! gate only says where that is worth doing. It must never hide a paragraph in which a
//! rule matches, and it may name paragraphs in which the rule then finds nothing.
//!
//! Why one pass over the document is enough: the gate runs the rules' patterns together
//! (overlapping, every pattern, every end) over the whole text and notes, for each
//! pattern, the paragraphs in which one of its matches *ends*. A match that a rule finds
//! inside a paragraph is a match in the whole text too, with the same end, as long as
//! the pattern looks at nothing outside its match but word boundaries: the paragraph's
//! edges are a line start (after `\n`) and the start of a blank line (whitespace), and a
//! word boundary sees the same non-word character there as at the edge of a separate
//! string. Patterns that use other assertions (`^`, `$`, `\A`, `\z`) are not gated:
//! they run in every paragraph. For the same reason the pass may start afresh at any
//! paragraph: it walks up to four runs of paragraphs side by side (see `walk`).
//!
//! Why it is cheaper to build than a `RegexSet`: the gate needs the forward automaton
//! only (no reverse automaton, no capture groups), and it relaxes bounded repetitions
//! (`{0,3}`, `{0,50}?`) to unbounded ones, which match a superset and compile to one
//! copy of their body instead of many.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::util::pool::Pool;
use regex_automata::{Input, MatchKind};
use std::borrow::Cow;

use regex_syntax::hir::{Capture, Hir, HirKind, Look, Repetition};

/// Lazy DFA cache per thread, as the regex crate keeps one per regex.
type CacheFn =
    Box<dyn Fn() -> Cache + Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>;

/// Large enough that the cache is never cleared on news text (states are built once
/// per thread and kept).
const CACHE_CAPACITY: usize = 256 << 20;

pub(crate) struct Gate {
    /// The automaton and the member indexes it covers (pattern `i` is `gated[i]`);
    /// `None` when it could not be built, so that every rule runs everywhere.
    dfa: Option<(DFA, Pool<Cache, CacheFn>, Vec<usize>)>,
    /// Members that run in every paragraph.
    ungated: Vec<usize>,
    members: usize,
}

impl Gate {
    /// The gate of `patterns` (the members of a group, parsed).
    pub(crate) fn new(patterns: &[&Hir]) -> Gate {
        let mut hirs = Vec::new();
        let mut gated = Vec::new();
        let mut ungated = Vec::new();
        for (i, hir) in patterns.iter().enumerate() {
            if edge_safe(hir) {
                hirs.push(relax(hir).map_or(Cow::Borrowed(*hir), Cow::Owned));
                gated.push(i);
            } else {
                ungated.push(i);
            }
        }
        let dfa = if hirs.is_empty() {
            None
        } else {
            build(&hirs).map(|dfa| {
                let d = dfa.clone();
                let create: CacheFn = Box::new(move || d.create_cache());
                (dfa, Pool::new(create), gated.clone())
            })
        };
        if dfa.is_none() {
            ungated = (0..patterns.len()).collect();
        }
        Gate {
            dfa,
            ungated,
            members: patterns.len(),
        }
    }

    /// For each of `chunks` (byte ranges of `hay`) and each member, where the member's
    /// last match in the chunk can end at the latest: `out[c * members + k]`, 0 when the
    /// member cannot match in the chunk, the chunk's end for ungated members.
    ///
    /// A member's search in a chunk can stop there: every match it can find in the chunk
    /// ends at an end the gate saw, so none ends later, and the search no longer reads
    /// the rest of the chunk after its last match only to find nothing.
    pub(crate) fn possible(&self, hay: &str, chunks: &[(usize, usize)], out: &mut Vec<usize>) {
        let n = self.members;
        out.clear();
        out.resize(chunks.len() * n, 0);
        for (c, &(_, end)) in chunks.iter().enumerate() {
            for &k in &self.ungated {
                out[c * n + k] = end;
            }
        }
        let Some((dfa, pool, gated)) = &self.dfa else {
            return;
        };
        let mut cache = pool.get();
        // Each paragraph's bytes are walked by one walk, and the document's paragraphs
        // shared among up to four walks side by side (see `walk`): a match the gate would
        // see across the split only ever marked a paragraph that no rule can match in,
        // since rules run inside paragraphs.
        let hay = hay.as_bytes();
        let ok = match chunks.len() {
            0 => true,
            1 => walks::<1>(dfa, &mut cache, hay, chunks, gated, n, out),
            2 | 3 => walks::<2>(dfa, &mut cache, hay, chunks, gated, n, out),
            _ => walks::<4>(dfa, &mut cache, hay, chunks, gated, n, out),
        };
        if !ok {
            // The automaton gave up (it cannot here, but it may): no gating.
            for (c, &(_, end)) in chunks.iter().enumerate() {
                out[c * n..(c + 1) * n].iter_mut().for_each(|e| *e = end);
            }
        }
    }
}

/// [`Gate::possible`] with the paragraphs shared among `N` walks of about the same
/// length (`N` at most the number of paragraphs, so that none is empty). `false` if the
/// automaton gave up.
fn walks<const N: usize>(
    dfa: &DFA,
    cache: &mut Cache,
    hay: &[u8],
    chunks: &[(usize, usize)],
    gated: &[usize],
    n: usize,
    out: &mut [usize],
) -> bool {
    // bounds[k]..bounds[k + 1]: the paragraphs of walk k, never empty.
    let total: usize = chunks.iter().map(|&(s, e)| e - s).sum();
    let mut bounds = [0; N];
    let mut seen = 0;
    let mut part = 1;
    for (i, &(s, e)) in chunks.iter().enumerate() {
        seen += e - s;
        while part < N && seen * N >= total * part {
            // At least one paragraph per walk, and one left for each walk after it.
            bounds[part] = (i + 1)
                .max(bounds[part - 1] + 1)
                .min(chunks.len() - (N - part));
            part += 1;
        }
    }
    let part = |k: usize| {
        &chunks[bounds[k]..if k + 1 < N {
            bounds[k + 1]
        } else {
            chunks.len()
        }]
    };
    let mut ends: [Ends; N] = std::array::from_fn(|k| Ends::new(part(k), bounds[k]));
    let regions: [(usize, usize); N] = std::array::from_fn(|k| {
        let p = part(k);
        (p[0].0, p[p.len() - 1].1)
    });
    walk(dfa, cache, hay, regions, |walk, pattern, end| {
        ends[walk].hit(end, |c| out[c * n + gated[pattern]] = end)
    })
}

/// Maps match ends, in increasing order, to the paragraph they end in.
struct Ends<'c> {
    chunks: &'c [(usize, usize)],
    /// Index in `chunks` of the paragraph of the latest end, and of `chunks[0]` overall.
    c: usize,
    offset: usize,
}

impl<'c> Ends<'c> {
    fn new(chunks: &'c [(usize, usize)], offset: usize) -> Ends<'c> {
        Ends {
            chunks,
            c: 0,
            offset,
        }
    }

    /// Calls `mark(paragraph)` if a non-empty match ending at `end` can lie in one.
    fn hit(&mut self, end: usize, mut mark: impl FnMut(usize)) {
        while self.c < self.chunks.len() && self.chunks[self.c].1 < end {
            self.c += 1;
        }
        // A non-empty match inside a paragraph ends after its start.
        if self.c < self.chunks.len() && self.chunks[self.c].0 < end {
            mark(self.offset + self.c);
        }
    }
}

/// Runs the automaton unanchored over `N` regions of `hay` side by side, calling
/// `hit(region, pattern, end)` for every end of a match of every pattern (ends come in
/// increasing order within a region). `false` if the automaton gave up.
///
/// Why several at once: the automaton is large (thousands of states of 193 byte classes),
/// so nearly every byte's transition is a cache miss, and one walk waits for each miss
/// before the next. Independent walks in one loop let the processor wait for several
/// misses at a time. This is the regex crate's overlapping search loop otherwise (matches
/// are seen one byte late; the byte after a region, or the end of the text, completes the
/// last one).
fn walk<const N: usize>(
    dfa: &DFA,
    cache: &mut Cache,
    hay: &[u8],
    regions: [(usize, usize); N],
    mut hit: impl FnMut(usize, usize, usize),
) -> bool {
    let step = |cache: &mut Cache, sid: LazyStateID, byte: u8| -> Option<LazyStateID> {
        if !sid.is_tagged() {
            let next = dfa.next_state_untagged(cache, sid, byte);
            if !next.is_unknown() {
                return Some(next);
            }
        }
        dfa.next_state(cache, sid, byte).ok()
    };
    // What a tagged state says at `at`: matches to report (`Some(true)`), the end of the
    // walk (`Some(false)`), or that the automaton gave up (`None`).
    let mut report = |cache: &mut Cache, r: usize, sid: LazyStateID, at: usize| -> Option<bool> {
        if sid.is_match() {
            for i in 0..dfa.match_len(cache, sid) {
                hit(r, dfa.match_pattern(cache, sid, i).as_usize(), at);
            }
            Some(true)
        } else if sid.is_quit() {
            None
        } else {
            Some(!sid.is_dead())
        }
    };
    let mut sids = [LazyStateID::default(); N];
    let mut at = [0; N];
    let mut live = [false; N];
    for r in 0..N {
        let (s, e) = regions[r];
        match dfa.start_state_forward(cache, &Input::new(hay).range(s..e)) {
            Ok(sid) => sids[r] = sid,
            Err(_) => return false,
        }
        at[r] = s;
        live[r] = s < e;
    }
    // Side by side for as long as the shortest region lasts, then one by one.
    let common = (0..N)
        .map(|r| regions[r].1 - regions[r].0)
        .min()
        .unwrap_or(0);
    for _ in 0..common {
        for r in 0..N {
            match step(cache, sids[r], hay[at[r]]) {
                Some(sid) => sids[r] = sid,
                None => return false,
            }
        }
        for r in 0..N {
            if live[r] && sids[r].is_tagged() {
                match report(cache, r, sids[r], at[r]) {
                    None => return false,
                    Some(go) => live[r] = go,
                }
            }
            at[r] += 1;
        }
    }
    for r in 0..N {
        let end = regions[r].1;
        let mut sid = sids[r];
        while live[r] && at[r] < end {
            let Some(next) = step(cache, sid, hay[at[r]]) else {
                return false;
            };
            sid = next;
            if sid.is_tagged() {
                match report(cache, r, sid, at[r]) {
                    None => return false,
                    Some(go) => live[r] = go,
                }
            }
            at[r] += 1;
        }
        if !live[r] || regions[r].0 >= end {
            continue;
        }
        // The last position: the byte after the region, or the end of the text.
        let last = if end < hay.len() {
            dfa.next_state(cache, sid, hay[end])
        } else {
            dfa.next_eoi_state(cache, sid)
        };
        match last {
            Ok(sid) if sid.is_quit() => return false,
            Ok(sid) if sid.is_match() => {
                report(cache, r, sid, end);
            }
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    true
}

fn build(hirs: &[Cow<Hir>]) -> Option<DFA> {
    let nfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .nfa_size_limit(Some(256 << 20))
                .which_captures(WhichCaptures::None),
        )
        .build_many_from_hir(hirs)
        .ok()?;
    DFA::builder()
        .configure(
            DFA::config()
                .match_kind(MatchKind::All)
                .cache_capacity(CACHE_CAPACITY),
        )
        .build_from_nfa(nfa)
        .ok()
}

/// Whether the pattern asserts nothing but ASCII word boundaries (see the module doc).
fn edge_safe(hir: &Hir) -> bool {
    hir.properties().look_set().iter().all(|l| {
        matches!(
            l,
            Look::WordAscii
                | Look::WordAsciiNegate
                | Look::WordStartAscii
                | Look::WordEndAscii
                | Look::WordStartHalfAscii
                | Look::WordEndHalfAscii
        )
    })
}

/// A pattern that matches wherever `hir` does (and maybe more), cheaper to compile:
/// bounded repetitions made unbounded. `None` when there is nothing to relax, so that
/// the pattern is used as it is, without a copy. (Capture groups stay: the gate's
/// automaton is compiled without them.)
fn relax(hir: &Hir) -> Option<Hir> {
    /// The relaxed children, or `None` when none of them changes.
    fn all(subs: &[Hir]) -> Option<Vec<Hir>> {
        let relaxed: Vec<Option<Hir>> = subs.iter().map(relax).collect();
        if relaxed.iter().all(Option::is_none) {
            return None;
        }
        Some(
            relaxed
                .into_iter()
                .zip(subs)
                .map(|(r, s)| r.unwrap_or_else(|| s.clone()))
                .collect(),
        )
    }
    match hir.kind() {
        HirKind::Repetition(r) => {
            let sub = relax(&r.sub);
            let max = match r.max {
                Some(m) if m > 1 => None,
                m => m,
            };
            if sub.is_none() && max == r.max {
                return None;
            }
            Some(Hir::repetition(Repetition {
                min: r.min,
                max,
                greedy: r.greedy,
                sub: Box::new(sub.unwrap_or_else(|| (*r.sub).clone())),
            }))
        }
        HirKind::Capture(c) => relax(&c.sub).map(|sub| {
            Hir::capture(Capture {
                index: c.index,
                name: c.name.clone(),
                sub: Box::new(sub),
            })
        }),
        HirKind::Concat(v) => all(v).map(Hir::concat),
        HirKind::Alternation(v) => all(v).map(Hir::alternation),
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gate never hides a paragraph where a member matches, for patterns with and
    /// without anchors, relaxed repetitions and word boundaries.
    #[test]
    fn gate_names_every_paragraph_with_a_match() {
        let patterns = [
            r"(?-u:\b)\d{1,3}(?-u:\b)",
            r"(?i)(?:a\s+){0,2}cats?",
            r"^start",
            r"end$",
            r"x{2,3}y",
        ];
        let text = "12 cats and A a CAT\n\nstart here\nxxxy\n  \nthe end\n\nnothing 1234";
        let chunks = crate::rules::paragraphs(text);
        let hirs: Vec<Hir> = patterns
            .iter()
            .map(|p| regex_automata::util::syntax::parse(p).unwrap())
            .collect();
        let gate = Gate::new(&hirs.iter().collect::<Vec<_>>());
        let mut got = Vec::new();
        gate.possible(text, &chunks, &mut got);
        for (c, &(s, e)) in chunks.iter().enumerate() {
            for (k, p) in patterns.iter().enumerate() {
                let last = last_match_end(p, text, s, e);
                let limit = got[c * patterns.len() + k];
                assert!(
                    last.map_or(true, |l| l <= limit),
                    "{p} matches in {:?} up to {last:?}, the gate says up to {limit}",
                    &text[s..e]
                );
            }
        }
        // And it does filter: the number pattern cannot match in the second paragraph,
        // and in the first its last match ends at "12".
        assert_eq!(got[patterns.len()], 0);
        assert_eq!(got[0], 2);
    }

    /// Where the last non-empty match of `pattern` in the paragraph `text[s..e]` ends, as
    /// an offset in `text`: what the gate must not cut short.
    fn last_match_end(pattern: &str, text: &str, s: usize, e: usize) -> Option<usize> {
        regex::Regex::new(pattern)
            .unwrap()
            .find_iter(&text[s..e])
            .filter(|m| !m.is_empty())
            .map(|m| s + m.end())
            .last()
    }

    /// The gate of the regex crate's own overlapping search over the whole text, as the
    /// gate was before it walked parts side by side: the reference for the test below.
    fn by_one_search(gate: &Gate, hay: &str, chunks: &[(usize, usize)]) -> Vec<usize> {
        use regex_automata::hybrid::dfa::OverlappingState;
        let n = gate.members;
        let mut out = vec![0; chunks.len() * n];
        for (c, &(_, end)) in chunks.iter().enumerate() {
            for &k in &gate.ungated {
                out[c * n + k] = end;
            }
        }
        let (dfa, pool, gated) = gate.dfa.as_ref().unwrap();
        let mut cache = pool.get();
        let input = Input::new(hay);
        let mut state = OverlappingState::start();
        let mut c = 0;
        loop {
            dfa.try_search_overlapping_fwd(&mut cache, &input, &mut state)
                .unwrap();
            let Some(m) = state.get_match() else {
                return out;
            };
            let end = m.offset();
            while c < chunks.len() && chunks[c].1 < end {
                c += 1;
            }
            if c == chunks.len() {
                return out;
            }
            if chunks[c].0 < end {
                out[c * n + gated[m.pattern().as_usize()]] = end;
            }
        }
    }

    /// On texts of 1 to 9 paragraphs (so one, two or four walks), the gate says no more
    /// than the whole-text search says, and never less than the rules find: for each
    /// paragraph and pattern, the last end of a match found in the paragraph alone is at
    /// most the gate's limit, which is at most the reference's.
    #[test]
    fn walks_side_by_side_keep_every_match() {
        let patterns = [
            r"(?i)(?-u:\b)(?:at\s+least\s+)?\d+(?:,\d{3})*(?-u:\b)",
            r"(?i)(?:(?:\p{L}+)\s+){0,3}(?:soldiers|civilians)\s+(?:were\s+)?killed",
            r"(?-u:\b)(?:January|March|May)\s+\d{1,2}(?-u:\b)",
            r"(?i)killed\s+\d+",
            r"^\d+",
        ];
        let hirs: Vec<Hir> = patterns
            .iter()
            .map(|p| regex_automata::util::syntax::parse(p).unwrap())
            .collect();
        let gate = Gate::new(&hirs.iter().collect::<Vec<_>>());
        let words = [
            "12",
            "at least 1,500",
            "soldiers",
            "civilians were killed",
            "killed 7",
            "May 3",
            "March",
            "Zürich",
            "naïve",
            "the",
            "were",
            "killed",
            "\n",
            "\n\n",
            "\n \n",
            ".",
        ];
        let mut seed: u64 = 42;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for _ in 0..300 {
            let len = 5 + next() % 60;
            let text: String = (0..len)
                .map(|_| words[next() % words.len()])
                .collect::<Vec<_>>()
                .join(" ");
            let chunks = crate::rules::paragraphs(&text);
            let mut got = Vec::new();
            gate.possible(&text, &chunks, &mut got);
            let reference = by_one_search(&gate, &text, &chunks);
            for (c, &(s, e)) in chunks.iter().enumerate() {
                for (k, p) in patterns.iter().enumerate() {
                    let last = last_match_end(p, &text, s, e).unwrap_or(0);
                    let i = c * patterns.len() + k;
                    assert!(
                        last <= got[i] && got[i] <= reference[i],
                        "{p} in {:?}: found up to {last}, gate {}, reference {}",
                        &text[s..e],
                        got[i],
                        reference[i]
                    );
                }
            }
        }
    }
}
