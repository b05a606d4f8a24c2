//! The prefilter of a group of rules: which rules can match in which paragraphs of a
//! document, from one pass of one lazy DFA over the whole document.
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
//! they run in every paragraph.
//!
//! Why it is cheaper to build than a `RegexSet`: the gate needs the forward automaton
//! only (no reverse automaton, no capture groups), and it relaxes bounded repetitions
//! (`{0,3}`, `{0,50}?`) to unbounded ones, which match a superset and compile to one
//! copy of their body instead of many.

use regex_automata::hybrid::dfa::{Cache, OverlappingState, DFA};
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
        let input = Input::new(hay);
        let mut state = OverlappingState::start();
        let mut c = 0;
        loop {
            if dfa
                .try_search_overlapping_fwd(&mut cache, &input, &mut state)
                .is_err()
            {
                // The automaton gave up (it cannot here, but it may): no gating.
                for (c, &(_, end)) in chunks.iter().enumerate() {
                    out[c * n..(c + 1) * n].iter_mut().for_each(|e| *e = end);
                }
                return;
            }
            let Some(m) = state.get_match() else {
                return;
            };
            let end = m.offset();
            // Ends come in increasing order.
            while c < chunks.len() && chunks[c].1 < end {
                c += 1;
            }
            if c == chunks.len() {
                return;
            }
            // A non-empty match inside chunk `c` ends after its start.
            if chunks[c].0 < end {
                out[c * n + gated[m.pattern().as_usize()]] = end;
            }
        }
    }
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
                let re = regex::Regex::new(p).unwrap();
                let last = re
                    .find_iter(&text[s..e])
                    .filter(|m| !m.is_empty())
                    .map(|m| s + m.end())
                    .last();
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
}
