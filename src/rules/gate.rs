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
//!
//! Rules with `{QTY}` are not walked over every byte: every match of theirs goes through
//! a masked number, so they are walked from each masked number, forwards and backwards,
//! by two anchored automata (see [`Marks`]), which also give the latest end exactly.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::util::pool::Pool;
use regex_automata::{Anchored, Input, MatchKind};
use std::borrow::Cow;

use rustc_hash::FxHashMap;

use super::Placeholder;

use regex_syntax::hir::{
    Capture, Class, ClassBytes, ClassBytesRange, Hir, HirKind, Look, Repetition,
};

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
    /// The members walked from each masked number instead (see [`Marks`]).
    marks: Option<Marks>,
    /// Members that run in every paragraph.
    ungated: Vec<usize>,
    members: usize,
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
        let mut hirs = Vec::new();
        let mut gated = Vec::new();
        let mut ungated = Vec::new();
        let mut halves = Vec::new();
        for (i, hir) in patterns.iter().enumerate() {
            if let Some(split) = mark.and_then(|m| split_all(hir, m)) {
                halves.extend(split.into_iter().map(|(p, s)| (i, p, s)));
            } else if edge_safe(hir) {
                hirs.push(relax(hir).map_or(Cow::Borrowed(*hir), Cow::Owned));
                gated.push(i);
            } else {
                ungated.push(i);
            }
        }
        let marks = match mark {
            Some(byte) if !halves.is_empty() => match Marks::new(byte, &halves) {
                Some(m) => Some(m),
                None => {
                    // Could not be built: those members run everywhere.
                    let mut members: Vec<usize> = halves.iter().map(|h| h.0).collect();
                    members.dedup();
                    ungated.extend(members);
                    None
                }
            },
            _ => None,
        };
        let dfa = if hirs.is_empty() {
            None
        } else {
            match build(&hirs) {
                Some(dfa) => {
                    let d = dfa.clone();
                    let create: CacheFn = Box::new(move || d.create_cache());
                    Some((dfa, Pool::new(create), gated))
                }
                None => {
                    ungated.extend(gated);
                    None
                }
            }
        };
        ungated.sort_unstable();
        Gate {
            dfa,
            marks,
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
        if let Some(marks) = &self.marks {
            marks.limits(hay.as_bytes(), chunks, n, out);
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
                for &k in gated {
                    out[c * n + k] = end;
                }
            }
        }
    }
}

/// Per-thread state of [`Marks`]: the two automata's caches, and the patterns each of
/// their match states reports as a bit set (reading them from the state takes a loop
/// over its encoded pattern list, and most states of the forward walk are match states).
struct MarkCaches {
    rev: Cache,
    fwd: Cache,
    rev_sets: FxHashMap<LazyStateID, u64>,
    fwd_sets: FxHashMap<LazyStateID, u64>,
    /// Per pattern: the latest end its suffix reached from the current mark.
    best: Vec<usize>,
}

/// The patterns (at most 64) a match state of `dfa` reports, remembered in `sets`.
#[inline]
fn patterns_of(
    dfa: &DFA,
    cache: &mut Cache,
    sets: &mut FxHashMap<LazyStateID, u64>,
    sid: LazyStateID,
) -> u64 {
    *sets.entry(sid).or_insert_with(|| {
        (0..dfa.match_len(cache, sid))
            .map(|i| 1u64 << dfa.match_pattern(cache, sid, i).as_usize())
            .fold(0, |a, b| a | b)
    })
}

/// The indexes of the bits set in `set`.
fn bits(mut set: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (set != 0).then(|| {
            let k = set.trailing_zeros() as usize;
            set &= set - 1;
            k
        })
    })
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
/// - an anchored forward walk of all SUFFIXes from `p` (every pattern, every end, as the
///   whole-text gate does) to where its automaton dies or the paragraph ends, noting the
///   latest end of each pattern;
/// - then, for the patterns with an end later than their member's limit so far, an
///   anchored reverse walk of all PREFIXes from `p` back to where that automaton dies or
///   the paragraph starts (or every such pattern is confirmed), which says whose prefix
///   matches some `[s, p)` (the empty prefix included);
///
/// and a member's limit in the paragraph is the latest end of a pattern of it confirmed
/// so: the latest end of any match of the member's pattern in the paragraph, by the
/// argument above. The rules search each paragraph as a string of its own, so the walks
/// do too: the paragraph is their haystack, the forward walk starts from the byte before
/// `p` and ends with the paragraph's end, the reverse walk starts from `hay[p]` and ends
/// with the paragraph's start, as the rule's own search sees them; that is what
/// `start_state_forward`/`start_state_reverse` with a range in the paragraph and the
/// end-of-input transitions give. So every assertion the lazy DFA supports is judged
/// exactly (Unicode word boundaries, which it gives up on outside ASCII, are not split).
///
/// Why it is cheaper: the whole-text automaton is unanchored, so each of its states is
/// the set of every partial match begun at every earlier word (the optional word lists
/// of `SUBJ`, `MOD` and `GAP`); it grows to thousands of states (4 MB of cache per
/// thread on news text) and nearly every byte's transition is a cache miss. Anchored at
/// a mark, each automaton follows the attempts begun there only, and the walks read
/// only the clauses around the numbers (the patterns' gaps exclude digits, masks and
/// clause punctuation): on the synthetic dumps, one mark per 141 bytes, forward walks
/// of 53 bytes and backward walks of 20 on average, so about half as many transitions
/// as bytes of text. The automata are built from the patterns [`widen`]ed, with every
/// byte >= 0x80 in one class: 84 and 81 byte classes instead of 193 and 185 (from the
/// Unicode classes of the word lists), 1.3 MB and 0.11 MB of cache per thread after
/// 20 MB of text instead of 2.3 MB and 0.67 MB. They match a superset of what the
/// patterns match, so outside ASCII a limit may be later than the latest end (the
/// rule's own search then finds nothing more); on ASCII text they match the same.
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
        let (r, f, len) = (rev.clone(), fwd.clone(), halves.len());
        let create: MarkCachesFn = Box::new(move || MarkCaches {
            rev: r.create_cache(),
            fwd: f.create_cache(),
            rev_sets: FxHashMap::default(),
            fwd_sets: FxHashMap::default(),
            best: vec![0; len],
        });
        Some(Marks {
            byte,
            rev,
            fwd,
            member: halves.iter().map(|h| h.0).collect(),
            caches: Pool::new(create),
        })
    }

    /// [`Gate::possible`] for these members: raises `out[c * n + member]` to the latest
    /// end of the member's matches in paragraph `c`.
    fn limits(&self, hay: &[u8], chunks: &[(usize, usize)], n: usize, out: &mut [usize]) {
        let mut caches = self.caches.get();
        let caches = &mut *caches;
        for (c, &(s, e)) in chunks.iter().enumerate() {
            let para = &hay[s..e];
            let row = &mut out[c * n..(c + 1) * n];
            for p in memchr::memchr_iter(self.byte, para) {
                if self.at(para, p, s, row, caches).is_none() {
                    // An automaton gave up (it cannot here, but it may): no gating.
                    for &k in &self.member {
                        row[k] = e;
                    }
                    break;
                }
            }
        }
    }

    /// Raises `row[member]` (limits as offsets in the document: the paragraph `para`
    /// starts at `offset`) for the matches split at the mark at `p`. `None` if an
    /// automaton gave up.
    fn at(
        &self,
        para: &[u8],
        p: usize,
        offset: usize,
        row: &mut [usize],
        caches: &mut MarkCaches,
    ) -> Option<()> {
        let MarkCaches {
            rev,
            fwd,
            rev_sets,
            fwd_sets,
            best,
        } = caches;
        // Forward: the latest end of each pattern's suffix.
        let mut ended = 0u64;
        let input = Input::new(para).range(p..).anchored(Anchored::Yes);
        let mut sid = self.fwd.start_state_forward(fwd, &input).ok()?;
        let mut at = p;
        let mut live = true;
        while at < para.len() {
            sid = step(&self.fwd, fwd, sid, para[at])?;
            if sid.is_tagged() {
                if sid.is_match() {
                    let set = patterns_of(&self.fwd, fwd, fwd_sets, sid);
                    ended |= set;
                    bits(set).for_each(|k| best[k] = at);
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
                let set = patterns_of(&self.fwd, fwd, fwd_sets, sid);
                ended |= set;
                bits(set).for_each(|k| best[k] = para.len());
            }
        }
        // The patterns that would raise their member's limit, if their prefix matches.
        let member = &self.member;
        let mut open = 0u64;
        for k in bits(ended) {
            if offset + best[k] > row[member[k]] {
                open |= 1 << k;
            }
        }
        if open == 0 {
            return Some(());
        }

        // Backward: whose prefix matches, until each open pattern is confirmed.
        let mut confirm = |set: u64| {
            for k in bits(set & open) {
                let limit = &mut row[member[k]];
                *limit = (*limit).max(offset + best[k]);
            }
            open &= !set;
            open == 0
        };
        let input = Input::new(para).range(..p).anchored(Anchored::Yes);
        let mut sid = self.rev.start_state_reverse(rev, &input).ok()?;
        let mut at = p;
        let mut done = false;
        while at > 0 {
            at -= 1;
            sid = step(&self.rev, rev, sid, para[at])?;
            if sid.is_tagged() {
                if sid.is_match() {
                    if confirm(patterns_of(&self.rev, rev, rev_sets, sid)) {
                        done = true;
                        break;
                    }
                } else if sid.is_dead() {
                    done = true;
                    break;
                } else if sid.is_quit() {
                    return None;
                }
            }
        }
        if !done {
            sid = self.rev.next_eoi_state(rev, sid).ok()?;
            if sid.is_match() {
                confirm(patterns_of(&self.rev, rev, rev_sets, sid));
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
    build_with(hirs, false)
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
        let mut next = crate::testing::lcg(42);
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

    /// The latest end of any non-empty match of `pattern` (every start, every end) in
    /// `para` searched as a string of its own: what a member's limit from [`Marks`] is
    /// (for patterns without bounded repetitions, which the gate relaxes).
    fn latest_end(dfa: &DFA, para: &[u8]) -> usize {
        let mut cache = dfa.create_cache();
        (0..para.len())
            .filter_map(|s| {
                let input = Input::new(para).range(s..).anchored(Anchored::Yes);
                dfa.try_search_fwd(&mut cache, &input).unwrap()
            })
            .map(|m| m.offset())
            .filter(|&e| e > 0)
            .max()
            .unwrap_or(0)
    }

    /// Members split at a mark get exactly the latest end of their matches in each
    /// paragraph, with assertions at the split point and at the paragraph's edges judged
    /// as the whole pattern's search judges them; alternatives are split one by one.
    #[test]
    fn marks_give_the_latest_end_of_every_match() {
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
        let hirs: Vec<Hir> = patterns
            .iter()
            .map(|p| regex_automata::util::syntax::parse(p).unwrap())
            .collect();
        let gate = Gate::new(&hirs.iter().collect::<Vec<_>>());
        // All but the last two are split; those run over the whole text.
        let n = patterns.len();
        let marks = gate.marks.as_ref().unwrap();
        let mut split: Vec<usize> = marks.member.clone();
        split.dedup();
        assert_eq!(split, (0..n - 2).collect::<Vec<_>>());
        assert_eq!(gate.dfa.as_ref().unwrap().2, vec![n - 2, n - 1]);
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
        for _ in 0..3000 {
            let len = 1 + next() % 24;
            let text: String = (0..len).map(|_| pieces[next() % pieces.len()]).collect();
            let chunks = crate::rules::paragraphs(&text);
            let mut got = Vec::new();
            gate.possible(&text, &chunks, &mut got);
            for (c, &(s, e)) in chunks.iter().enumerate() {
                for (k, dfa) in whole.iter().enumerate() {
                    let want = match latest_end(dfa, &text.as_bytes()[s..e]) {
                        0 => 0,
                        end => s + end,
                    };
                    let limit = got[c * n + k];
                    if k + 2 < n {
                        assert_eq!(limit, want, "{} in {:?}", patterns[k], &text[s..e]);
                    } else {
                        assert!(limit >= want, "{} in {:?}", patterns[k], &text[s..e]);
                    }
                    nonzero[k] += usize::from(want > 0);
                }
            }
        }
        // Every pattern matched somewhere, or the test shows nothing about it.
        assert!(nonzero.iter().all(|&n| n > 0), "{nonzero:?}");
    }

    /// With the bytes >= 0x80 in one class (see [`widen`]), the walks from the marks
    /// still give exactly the latest end of every match in ASCII paragraphs, and at least
    /// it elsewhere (the widened patterns match a superset there); and the automata have
    /// few byte classes even for the Unicode classes of the word lists.
    #[test]
    fn widened_marks_keep_every_match() {
        let patterns = [
            r"(?i)(?:(?:(?-i:\p{Lu})[\p{L}'’\-]*|\p{L}+(?:an|ese))\s+)*(?P<q>\x05\x1F*)\s+(?:soldiers|civilians)(?-u:\b)",
            r"(?-u:\b)(?:[\p{L}\p{N}][\p{L}\p{N}'’\-]*\s+)*?(?P<q>\x05\x1F*)\s+Zürich",
            r"(?P<q>\x05\x1F*)\s+(?:\p{L}\.){2,}",
            r"[^\x05.\n]+\s(?P<q>\x05\x1F*)\s+[^\x05\p{L}]",
        ];
        let hirs: Vec<Hir> = patterns
            .iter()
            .map(|p| regex_automata::util::syntax::parse(p).unwrap())
            .collect();
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
        let mut seed: u64 = 11;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let (mut wider, mut exact) = (0, vec![0; patterns.len()]);
        for _ in 0..3000 {
            let len = 1 + next() % 16;
            let text: String = (0..len)
                .map(|_| pieces[next() % pieces.len()])
                .collect::<Vec<_>>()
                .join(if next() % 2 == 0 { " " } else { "" });
            let chunks = crate::rules::paragraphs(&text);
            let mut got = Vec::new();
            gate.possible(&text, &chunks, &mut got);
            for (c, &(s, e)) in chunks.iter().enumerate() {
                for (k, dfa) in whole.iter().enumerate() {
                    let want = match latest_end(dfa, &text.as_bytes()[s..e]) {
                        0 => 0,
                        end => s + end,
                    };
                    let limit = got[c * patterns.len() + k];
                    let para = &text[s..e];
                    if para.is_ascii() {
                        assert_eq!(limit, want, "{} in {para:?}", patterns[k]);
                    } else {
                        assert!(limit >= want, "{} in {para:?}", patterns[k]);
                        wider += usize::from(limit > want);
                    }
                    exact[k] += usize::from(want > 0);
                }
            }
        }
        // Every pattern matched somewhere, and widening did let more through somewhere.
        assert!(exact.iter().all(|&n| n > 0), "{exact:?}");
        assert!(wider > 0);
    }
}
