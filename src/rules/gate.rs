//! The prefilter of a group of rules: where in each paragraph of a document a match of
//! each rule can start, from one pass of one lazy DFA over the document's paragraphs.
//!
//! Every rule still finds its matches paragraph by paragraph with its own regex, but
//! only by anchored searches at the positions the gate names (see `RuleSet::hits` for
//! why that finds exactly what the rule's `find_iter` over the paragraph finds). The
//! gate must name every position where a match of a rule starts; it may name positions
//! where none does (the anchored search there then finds nothing).
//!
//! Why one pass over the document is enough: the gate runs the rules' patterns
//! reversed, together (overlapping, every pattern, every match), from the end of the
//! text towards its start, and notes at each position the patterns with a match that
//! *starts* there. A match that a rule finds inside a paragraph is a match in the whole
//! text too, with the same start, as long as the pattern looks at nothing outside its
//! match but ASCII word boundaries: the paragraph's edges are a line start (after `\n`)
//! and the start of a blank line (whitespace), and a word boundary sees the same
//! non-word character there as at the edge of a separate string. Patterns that use
//! other assertions (`^`, `$`, `\A`, `\z`) are not gated: they run over every paragraph.
//! For the same reason the pass may cross blank lines: it walks the document from its
//! first paragraph to its last as one text, cut into up to four pieces walked side by
//! side, each giving exactly the starts one walk would (see `walks`).
//!
//! Why it is cheaper to build than a `RegexSet`: the gate needs one automaton only (no
//! capture groups), and it relaxes bounded repetitions (`{0,3}`, `{0,50}?`) to unbounded
//! ones, which match a superset and compile to one copy of their body instead of many.
//!
//! Rules with `{QTY}` are not walked over every byte: every match of theirs goes through
//! a masked number, so they are walked from each masked number, forwards and backwards,
//! by two anchored automata (see [`Marks`]); the backward walk passes every start.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::util::pool::Pool;
use regex_automata::{Anchored, Input, MatchKind};
use std::borrow::Cow;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::Placeholder;

use regex_syntax::hir::{
    Capture, Class, ClassBytes, ClassBytesRange, Hir, HirKind, Look, Repetition,
};

/// Large enough that the cache is never cleared on news text (states are built once
/// per thread and kept).
const CACHE_CAPACITY: usize = 256 << 20;

/// The most members one whole-text automaton is made of. Its matches are reported as
/// sets of 64 bits ([`Starts`]): up to 64 members have a bit each, more share bits
/// (see [`Whole::new`]).
///
/// Why members share bits rather than the automata being cut at 64: a walk costs about
/// the same per byte whatever its automaton's size (each step waits on a load from its
/// transition table), so a second automaton for a few members costs a second walk of
/// every byte, while a shared bit only costs anchored searches at the other member's
/// starts. The numbers and dates groups, walked together (see `RuleSet::new`), have 60
/// members today; a few rules more must not double the walks.
const PER_AUTOMATON: usize = 256;

pub(crate) struct Gate {
    /// Reverse automata over the whole text, of up to [`PER_AUTOMATON`] members each;
    /// automaton `i` is source `i` of [`Starts`].
    whole: Vec<Whole>,
    /// The members walked from each masked number instead; source `whole.len()`.
    marks: Option<Marks>,
    /// Per member: where its candidate starts come from.
    kind: Vec<Kind>,
}

/// Where a member's candidate starts come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// None: the member runs over every paragraph (its pattern asserts more than ASCII
    /// word boundaries, or its automaton could not be built).
    Everywhere,
    /// The entries of source `src` of [`Starts`] that have a bit of `mask`.
    From { src: usize, mask: u64 },
}

/// Where a member's matches can start in a paragraph (see [`Gate::candidates`]).
pub(crate) enum Candidates<'s> {
    /// Anywhere: search the whole paragraph.
    Everywhere,
    /// Only at the positions (in the document, ascending) of the entries that have a bit
    /// of the mask; none if there are none.
    At(&'s [(usize, u64)], u64),
}

impl Candidates<'_> {
    /// Whether no match can start anywhere.
    pub(crate) fn is_none(&self) -> bool {
        matches!(self, Candidates::At(list, _) if list.is_empty())
    }
}

/// The candidate starts of a group's members in each paragraph of a document, made by
/// [`Gate::starts`]; held by the caller to reuse its memory from document to document.
#[derive(Default)]
pub(crate) struct Starts {
    /// Positions in the document, each with the set of its source's patterns that may
    /// have a match starting there; ascending within each source and paragraph.
    entries: Vec<(usize, u64)>,
    /// `spans[src * chunks + c]`: the entries of source `src` in paragraph `c` (a range
    /// of `entries`) and the union of their sets; `None` where the source gave up (its
    /// members then run over the whole paragraph).
    spans: Vec<Option<(usize, usize, u64)>>,
    chunks: usize,
}

impl Gate {
    /// The gate of `patterns` (the members of a group, parsed): members that contain a
    /// `{QTY}` placeholder are walked from the masked numbers (see [`Marks`]), the others
    /// by one automaton over the whole text.
    pub(crate) fn new(patterns: &[&Hir]) -> Gate {
        Gate::build(patterns, Some(Placeholder::Quantity.code()))
    }

    /// The gate with every member walked over the whole text, as before there were
    /// [`Marks`]: the reference the tests compare with.
    #[cfg(test)]
    pub(crate) fn unanchored(patterns: &[&Hir]) -> Gate {
        Gate::build(patterns, None)
    }

    /// The gate, with the members that can be split at an element starting with `mark`
    /// walked from that byte.
    fn build(patterns: &[&Hir], mark: Option<u8>) -> Gate {
        let mut kind = vec![Kind::Everywhere; patterns.len()];
        let mut hirs = Vec::new();
        let mut gated = Vec::new();
        let mut halves = Vec::new();
        for (i, hir) in patterns.iter().enumerate() {
            if let Some(split) = mark.and_then(|m| split_all(hir, m)) {
                halves.extend(split.into_iter().map(|(p, s)| (i, p, s)));
            } else if edge_safe(hir) {
                hirs.push(relax(hir).map_or(Cow::Borrowed(*hir), Cow::Owned));
                gated.push(i);
            }
        }
        let mut whole = Vec::new();
        for (hirs, members) in hirs.chunks(PER_AUTOMATON).zip(gated.chunks(PER_AUTOMATON)) {
            // If it cannot be built, those members run everywhere.
            if let Some(w) = Whole::new(hirs) {
                for (b, &k) in members.iter().enumerate() {
                    kind[k] = Kind::From {
                        src: whole.len(),
                        mask: w.bits[b],
                    };
                }
                whole.push(w);
            }
        }
        let marks = match mark {
            Some(byte) if !halves.is_empty() => Marks::new(byte, &halves),
            _ => None,
        };
        if let Some(m) = &marks {
            for (i, &k) in m.member.iter().enumerate() {
                kind[k] = match kind[k] {
                    Kind::From { src, mask } => Kind::From {
                        src,
                        mask: mask | 1 << i,
                    },
                    Kind::Everywhere => Kind::From {
                        src: whole.len(),
                        mask: 1 << i,
                    },
                };
            }
        }
        Gate { whole, marks, kind }
    }

    /// Fills `out` with where the members' matches can start in each of `chunks` (byte
    /// ranges of `hay`, the paragraphs): every position where a non-empty match of a
    /// member's pattern in the paragraph (searched as a string of its own) starts is
    /// among [`Gate::candidates`] of that member and paragraph.
    pub(crate) fn starts(&self, hay: &str, chunks: &[(usize, usize)], out: &mut Starts) {
        out.entries.clear();
        out.spans.clear();
        out.chunks = chunks.len();
        let hay = hay.as_bytes();
        for w in &self.whole {
            w.starts(hay, chunks, out);
        }
        if let Some(m) = &self.marks {
            m.starts(hay, chunks, out);
        }
    }

    /// How many automata walk the whole text.
    #[cfg(test)]
    pub(crate) fn automata(&self) -> usize {
        self.whole.len()
    }

    /// Where member `k`'s matches can start in paragraph `c`, from `starts` (filled by
    /// [`Gate::starts`] for the paragraphs).
    pub(crate) fn candidates<'s>(&self, starts: &'s Starts, c: usize, k: usize) -> Candidates<'s> {
        let Kind::From { src, mask } = self.kind[k] else {
            return Candidates::Everywhere;
        };
        match starts.spans[src * starts.chunks + c] {
            None => Candidates::Everywhere,
            Some((_, _, union)) if union & mask == 0 => Candidates::At(&[], mask),
            Some((from, to, _)) => Candidates::At(&starts.entries[from..to], mask),
        }
    }
}

/// The patterns each match state of an automaton reports, as bit sets, remembered per
/// thread: reading them from the state takes a loop over its encoded pattern list.
#[derive(Default)]
struct Sets {
    map: FxHashMap<LazyStateID, u64>,
    /// The cache's `clear_count` the map's states belong to.
    clears: usize,
    /// Each pattern's bit; empty: pattern `i` has bit `i` (at most 64 patterns).
    bits: Arc<[u64]>,
}

impl Sets {
    /// The patterns the match state `sid` of `dfa` reports.
    #[inline]
    fn of(&mut self, dfa: &DFA, cache: &mut Cache, sid: LazyStateID) -> u64 {
        if cache.clear_count() != self.clears {
            // State ids of a cleared cache mean other states now.
            self.map.clear();
            self.clears = cache.clear_count();
        }
        let bits = &self.bits;
        *self.map.entry(sid).or_insert_with(|| {
            (0..dfa.match_len(cache, sid))
                .map(|i| {
                    let p = dfa.match_pattern(cache, sid, i).as_usize();
                    bits.get(p).copied().unwrap_or_else(|| 1u64 << p)
                })
                .fold(0, |a, b| a | b)
        })
    }
}

/// Per-thread state of a [`Whole`] automaton: its cache, its match states' pattern
/// sets, and the starts each of up to four walks found, in the order found (descending).
struct WholeCache {
    cache: Cache,
    sets: Sets,
    lanes: [Vec<(usize, u64)>; 4],
}

type WholeCacheFn =
    Box<dyn Fn() -> WholeCache + Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>;

/// Up to [`PER_AUTOMATON`] gated members' patterns, relaxed, [`widen`]ed and reversed,
/// as one unanchored lazy DFA that reports every pattern at every match
/// (`MatchKind::All`): walked from a paragraph's end towards its start, it is in a
/// match state for pattern `i` just after (one byte late, see `walk`) a position where
/// a match of pattern `i` in the text from there to the walk's end starts.
///
/// Why widened: reversed, the UTF-8 automata of the patterns' Unicode classes (`\p{L}`
/// in the word lists) do not share their suffixes as the forward ones do. Unwidened, the
/// numbers group's reverse NFA had 51,811 states, its lazy DFA grew to 3.4 MB per
/// thread over 2 MB of text, and building its states cost 1.8 G instructions there;
/// widened, 14,799 states and 1.1 MB (the dates group: 36,696 -> 10,966 states, 2.3 ->
/// 0.8 MB), 86 byte classes instead of 193. On ASCII text the widened patterns match
/// the same; elsewhere they name more starts, where the rules' searches find nothing.
struct Whole {
    dfa: DFA,
    /// Pattern `i`'s bit in the sets of [`Starts`]: its own up to 64 patterns, else
    /// shared by neighbours (`i * 64 / n` of `n` patterns).
    bits: Arc<[u64]>,
    caches: Pool<WholeCache, WholeCacheFn>,
}

impl Whole {
    /// The automaton of up to [`PER_AUTOMATON`] patterns.
    fn new(hirs: &[Cow<Hir>]) -> Option<Whole> {
        let n = hirs.len();
        debug_assert!(n <= PER_AUTOMATON);
        let bits: Arc<[u64]> = (0..n)
            .map(|i| 1u64 << if n <= 64 { i } else { i * 64 / n })
            .collect();
        let widened: Vec<Hir> = hirs.iter().map(|h| widen(h)).collect();
        let dfa = build_with(&widened, true)?;
        let (d, b) = (dfa.clone(), bits.clone());
        let create: WholeCacheFn = Box::new(move || WholeCache {
            cache: d.create_cache(),
            sets: Sets {
                bits: b.clone(),
                ..Sets::default()
            },
            lanes: Default::default(),
        });
        Some(Whole {
            dfa,
            bits,
            caches: Pool::new(create),
        })
    }

    /// [`Gate::starts`] for this automaton's members: pushes one span per paragraph.
    fn starts(&self, hay: &[u8], chunks: &[(usize, usize)], out: &mut Starts) {
        let mut caches = self.caches.get();
        let WholeCache { cache, sets, lanes } = &mut *caches;
        let (dfa, n) = (&self.dfa, chunks.len());
        if n == 0 {
            return;
        }
        let spans = out.spans.len();
        // The document from its first paragraph's start to its last one's end is walked
        // as one text, cut into up to four pieces walked side by side (see `walks`): a
        // match the gate sees across a blank line only ever names a start that no rule
        // can match from, since rules run inside paragraphs (and starts between
        // paragraphs are dropped below).
        let region = (chunks[0].0, chunks[n - 1].1);
        let len = region.1 - region.0;
        let ok = if len >= 4 * MIN_PIECE {
            walks::<4>(dfa, cache, sets, lanes, hay, region)
        } else if len >= 2 * MIN_PIECE {
            walks::<2>(dfa, cache, sets, lanes, hay, region)
        } else {
            walks::<1>(dfa, cache, sets, lanes, hay, region)
        };
        if !ok {
            // The automaton gave up (it cannot here, but it may): no gating.
            out.spans.extend(chunks.iter().map(|_| None));
            return;
        }
        // Each piece's starts are in descending order, and the pieces in ascending
        // order: read backwards piece by piece, they fall into the paragraphs in order.
        let mut found = lanes
            .iter()
            .flat_map(|lane| lane.iter().rev().copied())
            .peekable();
        for &(s, e) in chunks {
            while found.next_if(|&(at, _)| at < s).is_some() {}
            let from = out.entries.len();
            let mut union = 0;
            while let Some((at, set)) = found.next_if(|&(at, _)| at < e) {
                out.entries.push((at, set));
                union |= set;
            }
            out.spans.push(Some((from, out.entries.len(), union)));
        }
        debug_assert_eq!(out.spans.len() - spans, n);
    }
}

/// Pieces of a document are walked side by side only when each is at least this long.
const MIN_PIECE: usize = 128;

/// How far past its end each piece but the last is walked from, so that its walk has
/// (almost always) become the walk of the piece after it when it reaches its end.
const OVERLAP: usize = 48;

/// Fills `lanes[0..N]` with the starts (descending within each lane) that one reverse
/// walk of `dfa` over `region` of `hay` would note, with the region cut into `N` pieces
/// of about the same length walked side by side, piece `k` into `lanes[k]`. `false` if
/// the automaton gave up or its cache was cleared.
///
/// Why it is exact: a reverse walk's state at a position depends only on the bytes from
/// there to where it started (and on its start state). Piece `k` is walked from
/// `OVERLAP` bytes past its end, from the start state there; once it has read the byte
/// at its end, its state is compared with the state in which the walk of piece `k + 1`
/// read that same byte (the walk over the rest of the region, if that piece was itself
/// exact). If they are the same state, every later step of the two walks is the same,
/// so the piece's starts are those the one walk would note there; if not (a partial
/// match longer than the overlap was open), the piece is walked again from the right
/// state, alone. Starts the overlap notes past the piece's end belong to the next piece
/// and are dropped.
///
/// Why pieces of the text rather than whole paragraphs per walk (as before): paragraphs
/// differ in length, and the walks side by side lasted only as long as the shortest
/// region; on the 20 MB dump a third of the bytes were then walked by one walk alone,
/// waiting for each transition's cache miss in turn.
fn walks<const N: usize>(
    dfa: &DFA,
    cache: &mut Cache,
    sets: &mut Sets,
    lanes: &mut [Vec<(usize, u64)>; 4],
    hay: &[u8],
    region: (usize, usize),
) -> bool {
    let clears = cache.clear_count();
    let (from, to) = region;
    let len = to - from;
    // Piece k: bounds[k]..bounds[k + 1] (the last one up to `to`); its walk starts at
    // `ends[k]`, and notes starts below `keep[k]`.
    let bounds: [usize; N] = std::array::from_fn(|k| from + k * len / N);
    let keep: [usize; N] = std::array::from_fn(|k| if k + 1 < N { bounds[k + 1] } else { to + 1 });
    let ends: [usize; N] = std::array::from_fn(|k| {
        if k + 1 < N {
            (bounds[k + 1] + OVERLAP).min(to)
        } else {
            to
        }
    });
    for lane in lanes.iter_mut() {
        lane.clear();
    }
    // Per piece: its state once it has read the byte at its end (k < N - 1), and its
    // state before reading the byte before its start (the state the walk of piece k - 1
    // must have reached there).
    let mut at_end = [LazyStateID::default(); N];
    let mut at_start = [LazyStateID::default(); N];
    let mut sids = [LazyStateID::default(); N];
    for k in 0..N {
        match dfa.start_state_reverse(cache, &Input::new(hay).range(bounds[k]..ends[k])) {
            Ok(sid) => sids[k] = sid,
            Err(_) => return false,
        }
    }
    if !walk(
        dfa,
        cache,
        sets,
        hay,
        bounds,
        ends,
        keep,
        sids,
        lanes,
        &mut at_end,
        &mut at_start,
    ) {
        return false;
    }
    // From the last piece down: a piece whose walk had not become the next piece's is
    // walked again from the state the next one (now exact) was in at its start.
    for k in (0..N.saturating_sub(1)).rev() {
        if at_end[k] == at_start[k + 1] {
            continue;
        }
        #[cfg(test)]
        REDONE.with(|r| r.set(r.get() + 1));
        lanes[k].clear();
        let mut one_end = [LazyStateID::default(); 1];
        let mut one_start = [LazyStateID::default(); 1];
        let mut one: [Vec<(usize, u64)>; 4] = Default::default();
        std::mem::swap(&mut one[0], &mut lanes[k]);
        let ok = walk::<1>(
            dfa,
            cache,
            sets,
            hay,
            [bounds[k]],
            [bounds[k + 1]],
            [keep[k]],
            [at_start[k + 1]],
            &mut one,
            &mut one_end,
            &mut one_start,
        );
        std::mem::swap(&mut one[0], &mut lanes[k]);
        if !ok {
            return false;
        }
        at_start[k] = one_start[0];
    }
    // A cleared cache would have left the states compared meaningless.
    cache.clear_count() == clears
}

#[cfg(test)]
thread_local! {
    /// How many pieces the calling thread walked again, for tests.
    static REDONE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Runs the reverse automaton over `N` pieces `starts[r]..ends[r]` of `hay` side by
/// side, each from the state `sids[r]`, pushing `(start, patterns)` onto `lanes[r]` for
/// every position below `keep[r]` where a match of some patterns starts (in decreasing
/// order); notes in `at_end[r]` the state after the byte at `keep[r]` (if read) and in
/// `at_start[r]` the state before the byte before `starts[r]`. `false` if the
/// automaton gave up.
///
/// Why several at once: the automaton is large (thousands of states of 80-odd byte
/// classes), so nearly every byte's transition is a cache miss, and one walk waits for
/// each miss before the next. Independent walks in one loop let the processor wait for
/// several misses at a time. This is the regex crate's reverse overlapping search loop
/// otherwise: a match is seen one byte late, so the state after the byte at `at` says
/// which matches start at `at + 1`, and the byte before the piece (or the start of the
/// text) completes the matches that start at the piece's start.
#[allow(clippy::too_many_arguments)]
fn walk<const N: usize>(
    dfa: &DFA,
    cache: &mut Cache,
    sets: &mut Sets,
    hay: &[u8],
    starts: [usize; N],
    ends: [usize; N],
    keep: [usize; N],
    mut sids: [LazyStateID; N],
    lanes: &mut [Vec<(usize, u64)>; 4],
    at_end: &mut [LazyStateID; N],
    at_start: &mut [LazyStateID; N],
) -> bool {
    // What a tagged state says about the position `at`: starts to note (`true`), or that
    // the automaton gave up (`false`). (An unanchored automaton has no dead state.)
    let report = |cache: &mut Cache,
                  sets: &mut Sets,
                  lane: &mut Vec<(usize, u64)>,
                  sid: LazyStateID,
                  at: usize,
                  keep: usize|
     -> bool {
        if sid.is_match() {
            if at < keep {
                lane.push((at, sets.of(dfa, cache, sid)));
            }
            true
        } else {
            !sid.is_quit()
        }
    };
    let mut at = ends;
    // Side by side for as long as the shortest piece lasts, then one by one (the pieces
    // differ by at most the overlap and a byte).
    let common = (0..N).map(|r| ends[r] - starts[r]).min().unwrap_or(0);
    for _ in 0..common {
        for r in 0..N {
            at[r] -= 1;
            match step(dfa, cache, sids[r], hay[at[r]]) {
                Some(sid) => sids[r] = sid,
                None => return false,
            }
        }
        for r in 0..N {
            if at[r] == keep[r] {
                at_end[r] = sids[r];
            }
            if sids[r].is_tagged()
                && !report(cache, sets, &mut lanes[r], sids[r], at[r] + 1, keep[r])
            {
                return false;
            }
        }
    }
    for r in 0..N {
        let start = starts[r];
        let mut sid = sids[r];
        while at[r] > start {
            at[r] -= 1;
            let Some(next) = step(dfa, cache, sid, hay[at[r]]) else {
                return false;
            };
            sid = next;
            if at[r] == keep[r] {
                at_end[r] = sid;
            }
            if sid.is_tagged() && !report(cache, sets, &mut lanes[r], sid, at[r] + 1, keep[r]) {
                return false;
            }
        }
        at_start[r] = sid;
        // The last position: the byte before the piece, or the start of the text.
        let last = if start > 0 {
            dfa.next_state(cache, sid, hay[start - 1])
        } else {
            dfa.next_eoi_state(cache, sid)
        };
        match last {
            Ok(sid) => {
                if !report(cache, sets, &mut lanes[r], sid, start, keep[r]) {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
    true
}

/// Per-thread state of [`Marks`]: the two automata's caches and the patterns each of
/// their match states reports (most states of the forward walk are match states).
struct MarkCaches {
    rev: Cache,
    fwd: Cache,
    rev_sets: Sets,
    fwd_sets: Sets,
}

type MarkCachesFn =
    Box<dyn Fn() -> MarkCaches + Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>;

/// The members of a group whose patterns go through a masked number (`{QTY}`), walked
/// from each masked number of a paragraph instead of over all of its bytes.
///
/// Each such pattern (each alternative of a top-level alternation) is a concatenation
/// `PREFIX SUFFIX` where SUFFIX begins with the first element all of whose matches begin
/// with the mark byte (`\x05`, the placeholder's group `\x05\x1F*`; see [`split`]). So
/// every match `[s, e)` of it has a split point `p`, where that element's match begins:
/// `hay[p]` is the mark, PREFIX matches `[s, p)` and SUFFIX `[p, e)`; and conversely
/// any such pair is a match, since a concatenation's matches are exactly the pairs of
/// its parts' matches that meet, with each assertion judged on the bytes around its
/// position, which are the same whether the parts are searched alone or together.
/// Hence, for each mark byte at `p` in a paragraph (found with `memchr`):
///
/// - an anchored forward walk of all SUFFIXes from `p` (every pattern, every end) to
///   where its automaton dies or the paragraph ends, noting the patterns whose SUFFIX
///   matches some `[p, e)`;
/// - if there are any, an anchored reverse walk of all PREFIXes from `p` back to where
///   that automaton dies or the paragraph starts, noting each `s` where the PREFIX of
///   one of those patterns matches `[s, p)` (the empty prefix included, at `p`);
///
/// and every start `s` of a match of a member's pattern in the paragraph is noted for
/// it, by the argument above. The rules search each paragraph as a string of its own,
/// so the walks do too: the paragraph is their haystack, the forward walk starts from
/// the byte before `p` and ends with the paragraph's end, the reverse walk starts from
/// `hay[p]` and ends with the paragraph's start, as the rule's own search sees them;
/// that is what `start_state_forward`/`start_state_reverse` with a range in the
/// paragraph and the end-of-input transitions give. So every assertion the lazy DFA
/// supports is judged exactly (Unicode word boundaries, which it gives up on outside
/// ASCII, are not split).
///
/// Why it is cheaper: the whole-text automaton is unanchored, so each of its states is
/// the set of every partial match begun at every earlier word (the optional word lists
/// of `SUBJ`, `MOD` and `GAP`); it grows to thousands of states (4 MB of cache per
/// thread on news text) and nearly every byte's transition is a cache miss. Anchored at
/// a mark, each automaton follows the attempts begun there only, and the walks read
/// only the clauses around the numbers (the patterns' gaps exclude digits, masks and
/// clause punctuation). The automata are built from the patterns [`widen`]ed, with every
/// byte >= 0x80 in one class: 84 and 81 byte classes instead of 193 and 185 (from the
/// Unicode classes of the word lists), 1.3 MB and 0.11 MB of cache per thread after
/// 20 MB of text instead of 2.3 MB and 0.67 MB. They match a superset of what the
/// patterns match, so outside ASCII a start may be noted where no match starts (the
/// rule's own search there then finds nothing); on ASCII text they match the same.
struct Marks {
    byte: u8,
    /// PREFIXes, reversed; SUFFIXes; pattern `i` of both is an alternative of member
    /// `member[i]`.
    rev: DFA,
    fwd: DFA,
    member: Vec<usize>,
    caches: Pool<MarkCaches, MarkCachesFn>,
}

impl Marks {
    /// The automata of `halves`: (member, prefix, suffix) for each alternative.
    fn new(byte: u8, halves: &[(usize, Hir, Hir)]) -> Option<Marks> {
        if halves.len() > 64 {
            return None;
        }
        let widened = |h: &Hir| widen(&relax(h).unwrap_or_else(|| h.clone()));
        let prefixes: Vec<Hir> = halves.iter().map(|h| widened(&h.1)).collect();
        let suffixes: Vec<Hir> = halves.iter().map(|h| widened(&h.2)).collect();
        let rev = build_with(&prefixes, true)?;
        let fwd = build_with(&suffixes, false)?;
        let (r, f) = (rev.clone(), fwd.clone());
        let create: MarkCachesFn = Box::new(move || MarkCaches {
            rev: r.create_cache(),
            fwd: f.create_cache(),
            rev_sets: Sets::default(),
            fwd_sets: Sets::default(),
        });
        Some(Marks {
            byte,
            rev,
            fwd,
            member: halves.iter().map(|h| h.0).collect(),
            caches: Pool::new(create),
        })
    }

    /// [`Gate::starts`] for these members: pushes one span per paragraph, whose entries'
    /// sets are of alternatives (pattern `i` is an alternative of `member[i]`).
    fn starts(&self, hay: &[u8], chunks: &[(usize, usize)], out: &mut Starts) {
        let mut caches = self.caches.get();
        let caches = &mut *caches;
        for &(s, e) in chunks {
            let para = &hay[s..e];
            let from = out.entries.len();
            let gave_up = memchr::memchr_iter(self.byte, para)
                .any(|p| self.at(para, p, s, caches, &mut out.entries).is_none());
            if gave_up {
                // An automaton gave up (it cannot here, but it may): no gating.
                out.entries.truncate(from);
                out.spans.push(None);
                continue;
            }
            // Each mark's starts come in decreasing order, and a start may be noted from
            // two marks: sorted, and one entry per position.
            out.entries[from..].sort_unstable_by_key(|&(at, _)| at);
            let mut kept = from;
            let mut union = 0;
            for i in from..out.entries.len() {
                let (at, set) = out.entries[i];
                union |= set;
                if kept > from && out.entries[kept - 1].0 == at {
                    out.entries[kept - 1].1 |= set;
                } else {
                    out.entries[kept] = (at, set);
                    kept += 1;
                }
            }
            out.entries.truncate(kept);
            out.spans.push(Some((from, kept, union)));
        }
    }

    /// Pushes onto `out` the starts (offsets in the document: the paragraph `para`
    /// starts at `offset`) of the matches split at the mark at `p`, each with the
    /// alternatives that may start there. `None` if an automaton gave up.
    fn at(
        &self,
        para: &[u8],
        p: usize,
        offset: usize,
        caches: &mut MarkCaches,
        out: &mut Vec<(usize, u64)>,
    ) -> Option<()> {
        let MarkCaches {
            rev,
            fwd,
            rev_sets,
            fwd_sets,
        } = caches;
        // Forward: the patterns whose suffix matches from here (all of them: no need to
        // read further).
        let all = u64::MAX >> (64 - self.member.len());
        let mut ended = 0u64;
        let input = Input::new(para).range(p..).anchored(Anchored::Yes);
        let mut sid = self.fwd.start_state_forward(fwd, &input).ok()?;
        let mut at = p;
        let mut live = true;
        while at < para.len() {
            sid = step(&self.fwd, fwd, sid, para[at])?;
            if sid.is_tagged() {
                if sid.is_match() {
                    ended |= fwd_sets.of(&self.fwd, fwd, sid);
                    if ended == all {
                        live = false;
                        break;
                    }
                } else if sid.is_dead() {
                    live = false;
                    break;
                } else if sid.is_quit() {
                    return None;
                }
            }
            at += 1;
        }
        if live {
            sid = self.fwd.next_eoi_state(fwd, sid).ok()?;
            if sid.is_match() {
                ended |= fwd_sets.of(&self.fwd, fwd, sid);
            }
        }
        if ended == 0 {
            return Some(());
        }

        // Backward: every start of a prefix of those patterns, one byte late (the state
        // after the byte at `at` says which prefixes match from `at + 1`).
        let input = Input::new(para).range(..p).anchored(Anchored::Yes);
        let mut sid = self.rev.start_state_reverse(rev, &input).ok()?;
        let mut at = p;
        while at > 0 {
            at -= 1;
            sid = step(&self.rev, rev, sid, para[at])?;
            if sid.is_tagged() {
                if sid.is_match() {
                    let set = rev_sets.of(&self.rev, rev, sid) & ended;
                    if set != 0 {
                        out.push((offset + at + 1, set));
                    }
                } else if sid.is_dead() {
                    return Some(());
                } else if sid.is_quit() {
                    return None;
                }
            }
        }
        sid = self.rev.next_eoi_state(rev, sid).ok()?;
        if sid.is_match() {
            let set = rev_sets.of(&self.rev, rev, sid) & ended;
            if set != 0 {
                out.push((offset, set));
            }
        }
        Some(())
    }
}

/// The lazy DFA's transition from `sid` on `byte`, building the state if needed;
/// `None` if the automaton gave up.
#[inline(always)]
fn step(dfa: &DFA, cache: &mut Cache, sid: LazyStateID, byte: u8) -> Option<LazyStateID> {
    if !sid.is_tagged() {
        let next = dfa.next_state_untagged(cache, sid, byte);
        if !next.is_unknown() {
            return Some(next);
        }
    }
    dfa.next_state(cache, sid, byte).ok()
}

/// The alternatives of `hir` (the branches of a top-level alternation, or itself), each
/// split as [`split`] does; `None` if one of them cannot be.
fn split_all(hir: &Hir, mark: u8) -> Option<Vec<(Hir, Hir)>> {
    if hir.properties().look_set().contains_word_unicode() {
        return None;
    }
    match hir.kind() {
        HirKind::Alternation(alts) => alts.iter().map(|a| split(a, mark)).collect(),
        _ => Some(vec![split(hir, mark)?]),
    }
}

/// `hir` as `(prefix, suffix)` with `hir = prefix suffix`, where the suffix begins with
/// the first top-level element of `hir` all of whose matches begin with the byte `mark`
/// (see [`Marks`]); `None` if there is no such element.
fn split(hir: &Hir, mark: u8) -> Option<(Hir, Hir)> {
    match hir.kind() {
        HirKind::Concat(items) => {
            let i = items.iter().position(|h| starts_with(h, mark))?;
            Some((
                Hir::concat(items[..i].to_vec()),
                Hir::concat(items[i..].to_vec()),
            ))
        }
        _ if starts_with(hir, mark) => Some((Hir::empty(), hir.clone())),
        _ => None,
    }
}

/// Whether every match of `hir` begins with the byte `mark` (an ASCII byte): checked
/// on the shapes a placeholder takes (`(?P<__p0>\x05\x1F*)`), `false` when unsure.
fn starts_with(hir: &Hir, mark: u8) -> bool {
    match hir.kind() {
        HirKind::Literal(lit) => lit.0.first() == Some(&mark),
        HirKind::Capture(c) => starts_with(&c.sub, mark),
        HirKind::Concat(items) => items.first().is_some_and(|h| starts_with(h, mark)),
        HirKind::Alternation(alts) => alts.iter().all(|h| starts_with(h, mark)),
        HirKind::Repetition(r) => r.min > 0 && starts_with(&r.sub, mark),
        HirKind::Empty | HirKind::Class(_) | HirKind::Look(_) => false,
    }
}

/// The lazy DFA of `hirs` (every pattern, every match), run backwards if `reverse`.
fn build_with<H: std::borrow::Borrow<Hir>>(hirs: &[H], reverse: bool) -> Option<DFA> {
    let nfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .nfa_size_limit(Some(256 << 20))
                .which_captures(WhichCaptures::None)
                .reverse(reverse),
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

/// A pattern over bytes that matches wherever `hir` does (and maybe more), with every
/// byte from 0x80 up in one class: each class's characters outside ASCII become "one or
/// more bytes >= 0x80" (the UTF-8 encoding of any of them is such bytes), and so do the
/// bytes of non-ASCII literals. On ASCII text it matches exactly what `hir` matches.
///
/// Why: the Unicode classes of the word lists (`\p{L}`, `\p{Lu}`, `\p{N}`, Unicode `\s`)
/// split the bytes >= 0x80 into many byte classes, and every state of a lazy DFA has a
/// transition per class; news text is nearly all ASCII, so those distinctions only make
/// the states large and the transition tables miss the processor's cache.
fn widen(hir: &Hir) -> Hir {
    fn high() -> Hir {
        Hir::class(Class::Bytes(ClassBytes::new([ClassBytesRange::new(
            0x80, 0xFF,
        )])))
    }
    fn high_run() -> Hir {
        Hir::repetition(Repetition {
            min: 1,
            max: None,
            greedy: true,
            sub: Box::new(high()),
        })
    }
    /// The class's ASCII part as bytes, and whether it has anything outside ASCII.
    fn split_class(class: &Class) -> (ClassBytes, bool) {
        match class {
            Class::Unicode(u) => {
                let ascii =
                    u.ranges().iter().filter(|r| r.start() < '\u{80}').map(|r| {
                        ClassBytesRange::new(r.start() as u8, r.end().min('\u{7F}') as u8)
                    });
                let wide = u.ranges().last().is_some_and(|r| r.end() >= '\u{80}');
                (ClassBytes::new(ascii), wide)
            }
            Class::Bytes(b) => {
                let ascii = b
                    .ranges()
                    .iter()
                    .filter(|r| r.start() < 0x80)
                    .map(|r| ClassBytesRange::new(r.start(), r.end().min(0x7F)));
                let wide = b.ranges().last().is_some_and(|r| r.end() >= 0x80);
                (ClassBytes::new(ascii), wide)
            }
        }
    }
    match hir.kind() {
        HirKind::Class(class) => {
            let (ascii, wide) = split_class(class);
            let ascii = (!ascii.ranges().is_empty()).then(|| Hir::class(Class::Bytes(ascii)));
            match (ascii, wide) {
                (Some(a), false) => a,
                (Some(a), true) => Hir::alternation(vec![a, high_run()]),
                (None, true) => high_run(),
                (None, false) => Hir::fail(),
            }
        }
        HirKind::Literal(lit) if !lit.0.is_ascii() => {
            // Runs of ASCII bytes stay literals; each other byte becomes any high byte.
            let mut items = Vec::new();
            let mut run = Vec::new();
            for &b in lit.0.iter() {
                if b < 0x80 {
                    run.push(b);
                } else {
                    if !run.is_empty() {
                        items.push(Hir::literal(std::mem::take(&mut run)));
                    }
                    items.push(high());
                }
            }
            if !run.is_empty() {
                items.push(Hir::literal(run));
            }
            Hir::concat(items)
        }
        HirKind::Empty | HirKind::Literal(_) | HirKind::Look(_) => hir.clone(),
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            min: r.min,
            max: r.max,
            greedy: r.greedy,
            sub: Box::new(widen(&r.sub)),
        }),
        HirKind::Capture(c) => Hir::capture(Capture {
            index: c.index,
            name: c.name.clone(),
            sub: Box::new(widen(&c.sub)),
        }),
        HirKind::Concat(v) => Hir::concat(v.iter().map(widen).collect()),
        HirKind::Alternation(v) => Hir::alternation(v.iter().map(widen).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(patterns: &[&str]) -> Vec<Hir> {
        patterns
            .iter()
            .map(|p| regex_automata::util::syntax::parse(p).unwrap())
            .collect()
    }

    /// Member `k`'s candidate starts in paragraph `c`; `None` if it runs everywhere.
    fn candidates(gate: &Gate, starts: &Starts, c: usize, k: usize) -> Option<Vec<usize>> {
        match gate.candidates(starts, c, k) {
            Candidates::Everywhere => None,
            Candidates::At(list, mask) => Some(
                list.iter()
                    .filter(|&&(_, set)| set & mask != 0)
                    .map(|&(at, _)| at)
                    .collect(),
            ),
        }
    }

    /// Where the non-empty matches that `find_iter` finds of `pattern` in the paragraph
    /// `text[s..e]` start, as offsets in `text`: what the gate must name.
    fn found_starts(pattern: &str, text: &str, s: usize, e: usize) -> Vec<usize> {
        regex::Regex::new(pattern)
            .unwrap()
            .find_iter(&text[s..e])
            .filter(|m| !m.is_empty())
            .map(|m| s + m.start())
            .collect()
    }

    /// The positions in `from..to` where a non-empty match of one of `dfa`'s patterns
    /// (forward, every match) starts in `hay`.
    fn nonempty_starts(dfa: &DFA, hay: &[u8], from: usize, to: usize) -> Vec<usize> {
        let mut cache = dfa.create_cache();
        (from..to)
            .filter(|&s| {
                let input = Input::new(hay).range(s..).anchored(Anchored::Yes);
                let end = dfa.try_search_fwd(&mut cache, &input).unwrap();
                end.is_some_and(|m| m.offset() > s)
            })
            .collect()
    }

    /// Whether every element of `small` (sorted) is in `big` (sorted).
    fn within(small: &[usize], big: &[usize]) -> bool {
        small.iter().all(|x| big.binary_search(x).is_ok())
    }

    /// The gate names every start of every match, for patterns with and without
    /// anchors, relaxed repetitions and word boundaries, and few others.
    #[test]
    fn gate_names_every_start() {
        let patterns = [
            r"(?-u:\b)\d{1,3}(?-u:\b)",
            r"(?i)(?:a\s+){0,2}cats?",
            r"^start",
            r"end$",
            r"x{2,3}y",
        ];
        let text = "12 cats and A a CAT\n\nstart here\nxxxy\n  \nthe end\n\nnothing 1234";
        let chunks = crate::rules::paragraphs(text);
        let hirs = parse(&patterns);
        let gate = Gate::new(&hirs.iter().collect::<Vec<_>>());
        let mut starts = Starts::default();
        gate.starts(text, &chunks, &mut starts);
        for (c, &(s, e)) in chunks.iter().enumerate() {
            for (k, p) in patterns.iter().enumerate() {
                let found = found_starts(p, text, s, e);
                let got = candidates(&gate, &starts, c, k);
                // Anchors other than word boundaries: searched everywhere.
                assert_eq!(got.is_none(), k == 2 || k == 3, "{p}");
                let got = got.unwrap_or_else(|| (s..e).collect());
                assert!(
                    within(&found, &got),
                    "{p} in {:?}: {found:?} {got:?}",
                    &text[s..e]
                );
            }
        }
        // And it does filter: the number pattern can start only at "12" in the first
        // paragraph and nowhere in the second; "cats" at "cats", "A a CAT" and "a CAT".
        assert_eq!(candidates(&gate, &starts, 0, 0), Some(vec![0]));
        assert_eq!(candidates(&gate, &starts, 1, 0), Some(vec![]));
        assert_eq!(candidates(&gate, &starts, 0, 1), Some(vec![3, 12, 14, 16]));
    }

    /// On texts of 1 to 9 paragraphs (walked in one, two or four pieces), the gate names every
    /// start the rules find, and no position where no match of the pattern as the gate
    /// has it (relaxed and widened) starts in the whole text.
    #[test]
    fn walks_side_by_side_name_every_start() {
        let patterns = [
            r"(?i)(?-u:\b)(?:at\s+least\s+)?\d+(?:,\d{3})*(?-u:\b)",
            r"(?i)(?:(?:\p{L}+)\s+){0,3}(?:soldiers|civilians)\s+(?:were\s+)?killed",
            r"(?-u:\b)(?:January|March|May)\s+\d{1,2}(?-u:\b)",
            r"(?i)killed\s+\d+",
            r"\d+(?-u:\b)",
        ];
        let hirs = parse(&patterns);
        let gate = Gate::new(&hirs.iter().collect::<Vec<_>>());
        assert!(gate.kind.iter().all(|k| *k != Kind::Everywhere));
        let reference: Vec<DFA> = hirs
            .iter()
            .map(|h| build_with(&[widen(&relax(h).unwrap_or_else(|| h.clone()))], false).unwrap())
            .collect();
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
        let mut next = crate::testing::lcg(42);
        let (mut found_total, mut named) = (0, 0);
        let mut starts = Starts::default();
        for _ in 0..300 {
            let len = 5 + next() % 60;
            let text: String = (0..len)
                .map(|_| words[next() % words.len()])
                .collect::<Vec<_>>()
                .join(" ");
            let chunks = crate::rules::paragraphs(&text);
            gate.starts(&text, &chunks, &mut starts);
            for (c, &(s, e)) in chunks.iter().enumerate() {
                for (k, p) in patterns.iter().enumerate() {
                    let found = found_starts(p, &text, s, e);
                    let got = candidates(&gate, &starts, c, k).unwrap();
                    let whole = nonempty_starts(&reference[k], text.as_bytes(), s, e);
                    assert!(
                        within(&found, &got) && within(&got, &whole),
                        "{p} in {:?}: found {found:?}, gate {got:?}, reference {whole:?}",
                        &text[s..e],
                    );
                    found_total += found.len();
                    named += got.len();
                }
            }
        }
        assert!(found_total > 1000, "{found_total}");
        // More starts than `find_iter` finds (the relaxed `{0,3}`, and `\d+` without a
        // `\b` before it starts at every digit), but not many more.
        assert!(named < 3 * found_total, "{named} for {found_total}");
    }

    /// A text cut into two or four pieces walked side by side gives exactly the starts
    /// of one walk over it, also where a partial match is open across a piece's end for
    /// longer than the overlap (the piece is then walked again).
    #[test]
    fn pieces_are_one_walk() {
        let patterns = [
            r"(?i)(?-u:\b)(?:at\s+least\s+)?\d+(?-u:\b)",
            r"(?i)(?-u:\b)x[a-z\x20]*\d",
            r"(?-u:\b)(?:January|March)\s+\d{1,2}",
            r"Zürich\s+\d",
        ];
        let hirs = parse(&patterns);
        let whole = Whole::new(&hirs.iter().map(Cow::Borrowed).collect::<Vec<_>>()).unwrap();
        // The last word is a run of letters and spaces longer than the overlap: a
        // partial match of the second pattern stays open across it.
        let words = [
            "12",
            "at least 1,500",
            "x",
            "xylophone",
            "March 3",
            "Zürich 4",
            "the",
            "\n",
            "\n\n",
            ".",
            "9",
            "x the aaaa bbbbbbbb cc dd ee aaaa bbbbbbbb the cc dd ff",
        ];
        let mut next = crate::testing::lcg(5);
        let mut caches = whole.caches.get();
        let WholeCache { cache, sets, lanes } = &mut *caches;
        let (mut redone, mut found) = (0, 0);
        for _ in 0..400 {
            let len = 20 + next() % 400;
            let text: String = (0..len)
                .map(|_| words[next() % words.len()])
                .collect::<Vec<_>>()
                .join(if next() % 3 == 0 { "" } else { " " });
            let hay = text.as_bytes();
            let from = next() % 8;
            let region = (from, hay.len() - next() % 8);
            assert!(walks::<1>(&whole.dfa, cache, sets, lanes, hay, region));
            let one = lanes[0].clone();
            found += one.len();
            for n in [2, 4] {
                REDONE.with(|r| r.set(0));
                let ok = if n == 2 {
                    walks::<2>(&whole.dfa, cache, sets, lanes, hay, region)
                } else {
                    walks::<4>(&whole.dfa, cache, sets, lanes, hay, region)
                };
                assert!(ok);
                let got: Vec<(usize, u64)> = lanes[..n]
                    .iter()
                    .rev()
                    .flat_map(|l| l.iter().copied())
                    .collect();
                assert_eq!(got, one, "{n} pieces of {text:?}");
                redone += REDONE.with(|r| r.get());
            }
        }
        assert!(found > 1000, "{found}");
        assert!(redone > 0);
    }

    /// Members split at a mark are named exactly the starts of their matches in each
    /// paragraph (searched as a string of its own), with assertions at the split point
    /// and at the paragraph's edges judged as the whole pattern's search judges them;
    /// alternatives are split one by one.
    #[test]
    fn marks_name_every_start() {
        let patterns = [
            r"(?-u:\b)ab(?P<q>\x05\x1F*)(?-u:\b)",
            r"\x1F(?-u:\B)\x05\x1F*",
            r"a(?-u:\b)(?P<q>\x05\x1F*)x*",
            r"(?m)^\x05\x1F*(?:\x20a)*$",
            r"\A(?:b\x20)?\x05\x1F*",
            r"\x05\x1F*\x20?b*\z",
            r"(?-u:\b)a+\x20+(?P<q>\x05\x1F*)(?:\x20+(?:a|b))*?\x20+b(?-u:\b)|\x05\x1F*x",
            r"(?:\x05\x1F*\x20*)(?-u:\b)b",
            r"(?-u:\b)(?:[^\x05.\n])*\x20(?:a|x)+\x20(?P<q>\x05\x1F*)",
            r"b(?P<q>\x05\x1F*)\x20(?P<r>\x05\x1F*)\x20a",
            // Not split: a literal that merely contains the mark, and no mark at all.
            r"xb\x05\x1F*",
            r"xa+",
        ];
        let hirs = parse(&patterns);
        let gate = Gate::new(&hirs.iter().collect::<Vec<_>>());
        // All but the last two are split; those run over the whole text.
        let n = patterns.len();
        let marks = gate.marks.as_ref().unwrap();
        let mut split: Vec<usize> = marks.member.clone();
        split.dedup();
        assert_eq!(split, (0..n - 2).collect::<Vec<_>>());
        assert_eq!(gate.whole.len(), 1);
        assert_eq!(gate.kind[n - 1], Kind::From { src: 0, mask: 2 });
        let whole: Vec<DFA> = hirs
            .iter()
            .map(|h| build_with(std::slice::from_ref(h), false).unwrap())
            .collect();
        let pieces = [
            "a",
            "b",
            "x",
            " ",
            "\x05",
            "\x05\x1F",
            "\x1F",
            "\n",
            "\n\n",
            ".",
            "b\x05 \x05\x1F a",
            "a \x05 b.",
        ];
        let mut next = crate::testing::lcg(7);
        let mut nonzero = vec![0; n];
        let mut starts = Starts::default();
        for _ in 0..3000 {
            let len = 1 + next() % 24;
            let text: String = (0..len).map(|_| pieces[next() % pieces.len()]).collect();
            let chunks = crate::rules::paragraphs(&text);
            gate.starts(&text, &chunks, &mut starts);
            for (c, &(s, e)) in chunks.iter().enumerate() {
                for (k, dfa) in whole.iter().enumerate() {
                    let para = &text.as_bytes()[s..e];
                    let want: Vec<usize> = nonempty_starts(dfa, para, 0, para.len())
                        .into_iter()
                        .map(|at| s + at)
                        .collect();
                    let got = candidates(&gate, &starts, c, k).unwrap();
                    if k + 2 < n {
                        assert_eq!(got, want, "{} in {:?}", patterns[k], &text[s..e]);
                    } else {
                        assert!(within(&want, &got), "{} in {:?}", patterns[k], &text[s..e]);
                    }
                    let found = found_starts(patterns[k], &text, s, e);
                    assert!(within(&found, &got), "{} in {:?}", patterns[k], &text[s..e]);
                    nonzero[k] += usize::from(!want.is_empty());
                }
            }
        }
        // Every pattern matched somewhere, or the test shows nothing about it.
        assert!(nonzero.iter().all(|&n| n > 0), "{nonzero:?}");
    }

    /// With the bytes >= 0x80 in one class (see [`widen`]), the walks from the marks
    /// still name exactly the starts of the matches in ASCII paragraphs, and at least
    /// them elsewhere (the widened patterns match a superset there); and the automata
    /// have few byte classes even for the Unicode classes of the word lists.
    #[test]
    fn widened_marks_name_every_start() {
        let patterns = [
            r"(?i)(?:(?:(?-i:\p{Lu})[\p{L}'’\-]*|\p{L}+(?:an|ese))\s+)*(?P<q>\x05\x1F*)\s+(?:soldiers|civilians)(?-u:\b)",
            r"(?-u:\b)(?:[\p{L}\p{N}][\p{L}\p{N}'’\-]*\s+)*?(?P<q>\x05\x1F*)\s+Zürich",
            r"(?P<q>\x05\x1F*)\s+(?:\p{L}\.){2,}",
            r"[^\x05.\n]+\s(?P<q>\x05\x1F*)\s+[^\x05\p{L}]",
        ];
        let hirs = parse(&patterns);
        let gate = Gate::new(&hirs.iter().collect::<Vec<_>>());
        let marks = gate.marks.as_ref().unwrap();
        assert_eq!(marks.member, vec![0, 1, 2, 3]);
        for dfa in [&marks.fwd, &marks.rev] {
            let classes = dfa.byte_classes().alphabet_len();
            assert!(classes < 64, "{classes} byte classes");
        }
        let whole: Vec<DFA> = hirs
            .iter()
            .map(|h| build_with(std::slice::from_ref(h), false).unwrap())
            .collect();
        let pieces = [
            "\x05\x1F",
            "\x05",
            " ",
            "\u{a0}",
            "\n\n",
            ".",
            "soldiers",
            "civilians",
            "Zürich",
            "Zurich",
            "naïve",
            "Émile",
            "Sudanese",
            "U.S.",
            "É.Ü.",
            "O’Neil",
            "٣",
            "12",
            "-",
        ];
        let mut next = crate::testing::lcg(11);
        let (mut wider, mut exact) = (0, vec![0; patterns.len()]);
        let mut starts = Starts::default();
        for _ in 0..3000 {
            let len = 1 + next() % 16;
            let text: String = (0..len)
                .map(|_| pieces[next() % pieces.len()])
                .collect::<Vec<_>>()
                .join(if next() % 2 == 0 { " " } else { "" });
            let chunks = crate::rules::paragraphs(&text);
            gate.starts(&text, &chunks, &mut starts);
            for (c, &(s, e)) in chunks.iter().enumerate() {
                for (k, dfa) in whole.iter().enumerate() {
                    let para = &text[s..e];
                    let want: Vec<usize> = nonempty_starts(dfa, para.as_bytes(), 0, para.len())
                        .into_iter()
                        .map(|at| s + at)
                        .collect();
                    let got = candidates(&gate, &starts, c, k).unwrap();
                    if para.is_ascii() {
                        assert_eq!(got, want, "{} in {para:?}", patterns[k]);
                    } else {
                        assert!(within(&want, &got), "{} in {para:?}", patterns[k]);
                        wider += usize::from(got.len() > want.len());
                    }
                    exact[k] += usize::from(!want.is_empty());
                }
            }
        }
        // Every pattern matched somewhere, and widening did let more through somewhere.
        assert!(exact.iter().all(|&n| n > 0), "{exact:?}");
        assert!(wider > 0);
    }
}
