//! Gazetteer lookup: leftmost-longest, whole words only, on a folded copy of the text (no
//! diacritics, one apostrophe, hyphens as spaces: see [`super::normalize`]) whose matches
//! are mapped back to the original offsets.
//!
//! Two automata ([`super::trie::Trie`]): one for aliases that match whatever their case
//! (ASCII case-folded, which after folding covers the Latin-script names), one for aliases
//! that match only as written (`=IS`, `=US`). Their matches are merged, the longest winning
//! where they overlap.

use std::borrow::Cow;

use super::gazetteer::Entry;
use super::normalize::{ascii_word, ascii_word_end, chunk, fold, Folded};
use super::trie::Trie;
use crate::error::Result;
use crate::facts::{Entity, EntityType, SharedStr, Span};
use rustc_hash::{FxHashMap, FxHashSet};

/// A gazetteer hit: which entry, where (byte offsets into the original text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GazetteerMatch {
    pub span: Span,
    pub entry: usize,
}

/// Configures which aliases go into the automata.
///
/// ```
/// use gleaner::entity::{gazetteer, MatcherBuilder};
///
/// let tsv = "id\tcanonical\ttype\tkind\taliases\tcountry\tadmin1\tlat\tlon\tpopulation\tflags\n\
///            L:1\tMosul\tPLACE\tcity\tMūşil|Hope\tIQ\t\t\t\t1000\t\n";
/// let entries = gazetteer::parse("t.tsv", tsv).unwrap();
/// let m = MatcherBuilder::new().not_names(["hope"]).build(entries).unwrap();
/// assert_eq!(m.find("In MUSIL, Hope.").len(), 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct MatcherBuilder {
    not_names: FxHashSet<String>,
}

impl MatcherBuilder {
    pub fn new() -> MatcherBuilder {
        MatcherBuilder::default()
    }

    /// Words (any case) that are not taken as one-word place names: common English words
    /// and given names that GeoNames lists as some town's name or alternate name ("One",
    /// "Central", "Taylor", "Hamid"). A city keeps such a name only if it is its canonical
    /// name and it has a million inhabitants or more ("Lima") or is flagged `weak` (taken
    /// only in context: "Hit"), a region only if it is its canonical name; countries keep
    /// all theirs.
    pub fn not_names<I, S>(mut self, words: I) -> MatcherBuilder
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.not_names
            .extend(words.into_iter().map(|w| fold(w.as_ref()).to_lowercase()));
        self
    }

    /// Whether `alias` of `e` is kept; `lower` is its folded text in ASCII lower case.
    fn keeps(&self, e: &Entry, alias: &str, lower: &str, canonical: bool) -> bool {
        if e.etype != EntityType::Place || e.kind == "country" || alias.contains(' ') {
            return true;
        }
        let key = if lower.is_ascii() {
            Cow::Borrowed(lower)
        } else {
            Cow::Owned(lower.to_lowercase())
        };
        if !self.not_names.contains(key.as_ref()) {
            return true;
        }
        // A `weak` entry's canonical name was judged by the gazetteer's author: it is taken
        // with confirming context only ("residents of Hit"), see `Matcher::find_folded`.
        canonical && (e.kind == "region" || e.population >= 1_000_000 || e.weak)
    }

    /// Compiles the entries' aliases into the two automata.
    ///
    /// The case-insensitive automaton holds lowercase keys and reads the folded text with
    /// its ASCII letters lowered on the fly.
    pub fn build(&self, entries: impl Into<Vec<Entry>>) -> Result<Matcher> {
        let entries: Vec<Entry> = entries.into();
        // key -> (entry, whether every alias of that entry with this key is capitalised,
        // the entry's rank for this key)
        let mut folded: FxHashMap<String, (usize, bool, Rank)> = FxHashMap::default();
        let mut exact: FxHashMap<String, (usize, bool, Rank)> = FxHashMap::default();
        // Case-insensitive keys that several towns or regions claim: all the claimants.
        let mut shared: FxHashMap<String, Vec<(Rank, usize)>> = FxHashMap::default();
        let mut scratch = String::new();
        for (i, e) in entries.iter().enumerate() {
            for (n, alias) in e.aliases.iter().enumerate() {
                let mut text = fold(&alias.text);
                if text.is_empty() {
                    continue;
                }
                // The lower-cased text: in place for a case-insensitive key, in a reused
                // buffer for a case-sensitive one (one allocation an alias, not two).
                let case_sensitive = alias.case_sensitive || acronym(&alias.text);
                let lower = if case_sensitive {
                    scratch.clear();
                    scratch.push_str(&text);
                    scratch.make_ascii_lowercase();
                    scratch.as_str()
                } else {
                    text.make_ascii_lowercase();
                    text.as_str()
                };
                if !self.keeps(e, &alias.text, lower, n == 0) {
                    continue;
                }
                let cap = capitalised(&alias.text);
                let map = if case_sensitive {
                    &mut exact
                } else {
                    &mut folded
                };
                let key = text;
                let r = rank(e, n == 0);
                match map.get_mut(&key) {
                    Some((j, all_cap, _)) if *j == i => *all_cap &= cap,
                    Some(&mut (j, _, old)) => {
                        if !case_sensitive && homonym(&entries[j]) && homonym(e) {
                            let claimants = shared.entry(key.clone()).or_default();
                            if claimants.is_empty() {
                                claimants.push((old, j));
                            }
                            claimants.push((r, i));
                        }
                        if old > r {
                            map.insert(key, (i, cap, r));
                        }
                    }
                    None => {
                        map.insert(key, (i, cap, r));
                    }
                }
            }
        }
        let build = |map: FxHashMap<String, (usize, bool, Rank)>, fold_case: bool| {
            // Sorted keys: the trie is built from them, and key ids are deterministic.
            let mut pairs: Vec<(String, (usize, bool, Rank))> = map.into_iter().collect();
            pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            // Each key's value in the trie is its target, so that a lookup need not read a
            // table of targets or the entry, far away in memory, to check it.
            let targets: Vec<u32> = pairs
                .iter()
                .map(|(_, (i, cap, _))| {
                    Target {
                        entry: *i,
                        capitalised: fold_case && *cap,
                        weak: entries[*i].weak,
                    }
                    .pack()
                })
                .collect();
            let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
            let uncapitalised: Vec<&str> = keys
                .iter()
                .zip(&targets)
                .filter(|(_, &t)| {
                    let t = Target::unpack(t);
                    !t.capitalised && !t.weak
                })
                .map(|(k, _)| *k)
                .collect();
            let trie = Trie::new(&keys, &targets);
            // The case-sensitive trie is small and asked from its root. The folded trie's
            // table of first words answers for the words it holds; the filter of all first
            // words is asked only for the longer ones.
            let (starts, words) = if fold_case {
                let long: Vec<&str> = keys
                    .iter()
                    .copied()
                    .filter(|k| first_word_len(k) > START_WORD)
                    .collect();
                (Some(FirstStates::new(&trie, &keys)), FirstWords::new(&long))
            } else {
                (None, FirstWords::new(&keys))
            };
            (trie, words, FirstWords::new(&uncapitalised), starts)
        };
        // Each shared key's claimants but the one the automaton reports, best first.
        let homonyms: FxHashMap<Box<str>, Box<[u32]>> = shared
            .into_iter()
            .map(|(key, mut claimants)| {
                let winner = folded[&key].0;
                claimants.sort_by_key(|&(r, i)| (r, i));
                let mut others: Vec<u32> = Vec::with_capacity(claimants.len());
                for (_, i) in claimants {
                    let i = i as u32;
                    if i as usize != winner && !others.contains(&i) {
                        others.push(i);
                    }
                }
                (key.into_boxed_str(), others.into_boxed_slice())
            })
            .filter(|(_, others)| !others.is_empty())
            .collect();
        // The entries whose hits may have homonyms: the ones the folded trie reports for a
        // shared key, and any the case-sensitive trie reports (its hit's text may fold to
        // a shared key whose winner is another entry).
        let mut may_share = vec![0u64; entries.len().div_ceil(64)];
        let winners = homonyms.keys().map(|k| folded[k.as_ref()].0);
        for i in winners.chain(exact.values().map(|v| v.0)) {
            may_share[i / 64] |= 1 << (i % 64);
        }
        let (folded, folded_long_words, folded_lower_words, folded_starts) = build(folded, true);
        let folded_starts = folded_starts.expect("made for the folded trie");
        let (exact, exact_words, _, _) = build(exact, false);
        Ok(Matcher {
            homonyms,
            may_share,
            entries,
            folded_starts,
            folded,
            folded_long_words,
            folded_lower_words,
            exact,
            exact_words,
        })
    }
}

/// The compiled gazetteers: immutable, `Send + Sync`, shared by all workers.
#[derive(Clone, Debug)]
pub struct Matcher {
    entries: Vec<Entry>,
    folded: Trie,
    /// The first words of the case-insensitive keys that are longer than
    /// [`FirstStates`] holds: see [`FirstWords`].
    folded_long_words: FirstWords,
    /// The same, of the keys that may match where the text is not capitalised (neither
    /// `capitalised` nor `weak`): most aliases are names, and most words of a text are not
    /// capitalised.
    folded_lower_words: FirstWords,
    /// The trie state after each first word of the case-insensitive keys.
    folded_starts: FirstStates,
    exact: Trie,
    /// The first words of the case-sensitive keys ([`FirstWords`], hashed lower-cased as
    /// the other filters, so a superset of the case-sensitive words). Why: the exact trie
    /// was asked at every word start; at a capitalised word its root lets most words in
    /// and the walk reads nodes for nothing.
    exact_words: FirstWords,
    /// The case-insensitive keys that several towns or regions (with a country) share, and
    /// the entries the automaton does not report for them, best ranked first: "Bor" is a
    /// town in Russia, Serbia and South Sudan, and the automaton reports the most populous.
    /// Asked only for a hit about to be dropped because the document never names its
    /// country (see `EntityStage::plausible`).
    homonyms: FxHashMap<Box<str>, Box<[u32]>>,
    /// A bit per entry: set if a hit of the entry may have [`Matcher::homonyms`]. Why:
    /// most hits asked about cannot (their entry is no shared key's winner), and the
    /// answer for them was a fold, a lower-casing and a hash lookup each (callgrind:
    /// some 3 M instructions per 2 MB of text).
    may_share: Vec<u64>,
}

/// A Bloom filter of the first words of the keys of an automaton (up to the first
/// character that is not a letter or digit), lower-cased as the case-insensitive automaton
/// reads the text. (For the folded automaton's keys, [`FirstStates`] answers the same
/// question exactly for the words it holds; a filter is kept there for the longer words
/// only.)
///
/// Why: a match is kept only if it ends on a word boundary, so a key that can be kept at a
/// word start begins with that whole word. Where no key begins with the text's word, the
/// automaton's answer cannot be kept and need not be asked for. Most word starts are such
/// ("the", "said"), and the automaton's lookups (a random walk through some 15 MB) missed
/// the caches at almost every step, while this filter is small enough to stay in them.
/// Where the text is not capitalised, only the keys that may match there count (a second
/// filter): that leaves the trie unasked at most lowercase words, which are first words of
/// some place name ("said", "police") but of no lowercase alias. A false positive only
/// costs the lookup it was meant to save.
#[derive(Clone, Debug)]
struct FirstWords {
    bits: Vec<u64>,
    /// The number of bits, less one (a power of two).
    mask: u64,
}

/// The hash of the word `bytes[start..end]` as the filter takes it: its ASCII letters
/// lower-cased, mixed eight bytes at a time (FxHash's mixing step per 8-byte chunk, the
/// last one zero-padded). Why: byte by byte, the mixing was a multiply per byte in one
/// dependency chain, plus a lower-casing per byte (callgrind on d2.jsonl: some 20M of the
/// 132M instructions of `find_folded`); here a word of up to eight bytes is one load, a few
/// mask operations and one multiply. The text's words and the keys' first words are hashed
/// by this one function, so a word and a key's first word equal up to ASCII case get the
/// same hash whatever the chunking.
#[inline]
fn word_hash(bytes: &[u8], start: usize, end: usize) -> u64 {
    let mut h = 0u64;
    let mut at = start;
    while at < end {
        let next = (at + 8).min(end);
        h = mix_chunk(h, lower_chunk(bytes, at, next));
        at = next;
    }
    finish_hash(h)
}

/// One step of [`word_hash`]: the hash so far and the next lower-cased chunk.
#[inline(always)]
fn mix_chunk(h: u64, chunk: u64) -> u64 {
    (h.rotate_left(5) ^ chunk).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

/// The last step of [`word_hash`]. The low bits of a product depend only on the low bits
/// of its factors (here: on the first bytes of the word); the filter's block and the
/// table's slot are taken from them, so the high half, which depends on every byte, is
/// folded in.
#[inline(always)]
fn finish_hash(h: u64) -> u64 {
    h ^ h >> 32
}

/// The bytes `bytes[at..end]` (at most eight) as a little-endian word, zero-padded, their
/// ASCII capitals lower-cased (SWAR, see `normalize::chunk`).
#[inline]
fn lower_chunk(bytes: &[u8], at: usize, end: usize) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let n = end - at;
    debug_assert!(n <= 8);
    let x = match bytes.get(at..at + 8) {
        Some(b) => u64::from_le_bytes(b.try_into().expect("8 bytes")),
        // Near the end of the text (or of a key): the bytes one by one.
        None => bytes[at..end]
            .iter()
            .rev()
            .fold(0, |x, &b| x << 8 | u64::from(b)),
    };
    let x = if n < 8 { x & ((1 << (8 * n)) - 1) } else { x };
    // The lanes holding 'A'..='Z', their bit 5 set.
    let t = x | HIGH;
    let upper = t.wrapping_sub(ONES * u64::from(b'A'))
        & !t.wrapping_sub(ONES * u64::from(b'Z' + 1))
        & !x
        & HIGH;
    x | upper >> 2
}

/// An exact map from each first word of the keys of a trie (as [`FirstWords`] takes it) to
/// the trie's state after that word, so that a lookup starts there; for words of up to
/// [`START_WORD`] bytes (a longer word is looked up from the root). It also answers
/// "does some key begin with this word?", so no filter is asked before it.
///
/// Layout: two tables of 64-byte buckets (one cache line each), one for words of up to 8
/// bytes (four entries of 16 bytes a bucket: the word's lower-cased, zero-padded bytes as
/// one little-endian `u64`, then the state) and one for words of 9 to 16 bytes (two
/// entries of 32 bytes: the word as two `u64`, the state, a spare word). A word's home
/// bucket is chosen by [`word_hash`]; the entries of a bucket fill from its front, and a
/// word that finds its home bucket full goes to the next one (linear probing by buckets,
/// no deletions), so a lookup reads its home bucket and stops at the first empty entry:
/// one cache line for almost every word, found or not. Words are compared whole: a word
/// holds no zero byte (its characters are letters and digits), so the zero-padded bytes
/// are equal only for equal words, lengths included.
///
/// Why: the trie's upper levels are a walk through a few nodes far apart; one probe into
/// this table replaces them. Before this layout, the table had 24-byte slots (6 MB,
/// a third full) behind a 256 KB Bloom filter of the same words, so a word that begins
/// some key (98% of the words the filter let through) cost two cache misses, the filter's
/// block and the slot, before the trie node; now it costs one, from tables of some 3 MB.
#[derive(Clone, Debug)]
struct FirstStates {
    /// Words of up to 8 bytes: entries of `[word, state]`.
    short: Vec<Bucket>,
    /// Words of 9 to 16 bytes: entries of `[word, word, state, 0]`.
    long: Vec<Bucket>,
}

/// A cache line of [`FirstStates`]: its entries' words, in order; an empty entry's state
/// word is 0.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Bucket([u64; 8]);

/// The longest word [`FirstStates`] holds.
const START_WORD: usize = 16;

/// The lower-cased, zero-padded bytes of a word of up to [`START_WORD`] bytes, as two
/// little-endian words.
#[inline]
fn start_word(bytes: &[u8], start: usize, end: usize) -> [u64; 2] {
    let mid = (start + 8).min(end);
    [lower_chunk(bytes, start, mid), lower_chunk(bytes, mid, end)]
}

/// A trie state ([`Trie::state_after`]) as an entry's state word: never 0 (the top bit is
/// set), which marks an empty entry.
#[inline]
fn pack_state((node, read): (u32, u32)) -> u64 {
    1 << 63 | u64::from(read) << 32 | u64::from(node)
}

#[inline]
fn unpack_state(s: u64) -> (u32, u32) {
    (s as u32, (s >> 32) as u32 & 0x7fff_ffff)
}

/// The home bucket of a word of hash `h` in a table of `n` buckets (the high half of
/// `h` times `n`: any `n`, no division).
#[inline]
fn home(h: u64, n: usize) -> usize {
    (((h >> 32) * n as u64) >> 32) as usize
}

impl FirstStates {
    /// The table of the first words of `keys`, the keys of `trie` (lower case, as the trie
    /// reads the text: ASCII letters folded).
    fn new(trie: &Trie, keys: &[&str]) -> FirstStates {
        // The distinct words of up to 16 bytes with a state, and their states.
        let mut words: Vec<([u64; 2], u64, (u32, u32))> = Vec::new();
        for key in keys {
            let b = key.as_bytes();
            let end = first_word_len(key);
            if end == 0 || end > START_WORD {
                continue;
            }
            // The state after the word as the text would spell it; some key begins with it
            // (this one, unless it has capitals, which the lower-cased text never meets).
            let state = if b[..end].iter().any(u8::is_ascii_uppercase) {
                trie.state_after(&b[..end].to_ascii_lowercase())
            } else {
                trie.state_after(&b[..end])
            };
            if let Some(state) = state {
                words.push((start_word(b, 0, end), word_hash(b, 0, end), state));
            }
        }
        words.sort_unstable_by_key(|w| w.0);
        words.dedup_by_key(|w| w.0);
        let (short, long): (Vec<_>, Vec<_>) = words.into_iter().partition(|w| w.0[1] == 0);
        FirstStates {
            short: FirstStates::table(&short, 2),
            long: FirstStates::table(&long, 4),
        }
    }

    /// The buckets holding `words` in entries of `stride` `u64`s, filled to about 60% (a
    /// bucket overflows into the next seldom enough that a lookup almost always reads one).
    fn table(words: &[([u64; 2], u64, (u32, u32))], stride: usize) -> Vec<Bucket> {
        let per_bucket = 8 / stride;
        // At least one empty entry, where a lookup of a word not held stops.
        let n = (words.len() * 5 / (3 * per_bucket)).max(words.len() / per_bucket + 1);
        let mut buckets = vec![Bucket::default(); n];
        for &(word, hash, state) in words {
            let mut b = home(hash, n);
            loop {
                let bucket = &mut buckets[b].0;
                // An entry's state word follows its word's one or two `u64`s.
                if let Some(k) = (0..8)
                    .step_by(stride)
                    .find(|&k| bucket[k + stride / 2] == 0)
                {
                    bucket[k..k + stride / 2].copy_from_slice(&word[..stride / 2]);
                    bucket[k + stride / 2] = pack_state(state);
                    break;
                }
                b = (b + 1) % n;
            }
        }
        buckets
    }

    /// The state after the word `bytes[start..end]` (`hash` its [`word_hash`]): `Ok(None)`
    /// if no key begins with it, `Err(())` if the word is too long to be held.
    #[inline]
    /// `low` is the word's first eight bytes as [`lower_chunk`] reads them, which the
    /// scan made for the hash.
    fn get(
        &self,
        bytes: &[u8],
        start: usize,
        end: usize,
        hash: u64,
        low: u64,
    ) -> std::result::Result<Option<(u32, u32)>, ()> {
        let len = end - start;
        if len > START_WORD {
            return Err(());
        }
        Ok(if len <= 8 {
            FirstStates::find::<2>(&self.short, [low, 0], hash)
        } else {
            let word = [low, lower_chunk(bytes, start + 8, end)];
            FirstStates::find::<4>(&self.long, word, hash)
        })
    }

    /// The state of `word` in `table`, whose entries are `S` words long (see
    /// [`FirstStates`]). Why a constant: the bucket's loop is then unrolled, with no
    /// stepping iterator (callgrind on d2.jsonl: with `step_by` over a runtime stride, the
    /// entity stage took 5.6 M instructions more than with the old table's one compare).
    #[inline(always)]
    fn find<const S: usize>(table: &[Bucket], word: [u64; 2], hash: u64) -> Option<(u32, u32)> {
        let n = table.len();
        let mut b = home(hash, n);
        loop {
            let bucket = &table[b].0;
            for e in 0..8 / S {
                let k = e * S;
                let state = bucket[k + S / 2];
                if state == 0 {
                    return None;
                }
                if bucket[k] == word[0] && (S == 2 || bucket[k + 1] == word[1]) {
                    return Some(unpack_state(state));
                }
            }
            b = if b + 1 == n { 0 } else { b + 1 };
        }
    }

    /// The first word of the bucket [`FirstStates::get`] reads first for a word of
    /// `len` bytes and hash `hash`: reading it for many words in a row, with no branch on
    /// what is read, has their cache misses under way together (see `Matcher::candidates`).
    #[inline]
    fn touch(&self, len: usize, hash: u64) -> u64 {
        let table = if len <= 8 { &self.short } else { &self.long };
        table[home(hash, table.len())].0[0]
    }

    fn heap_bytes(&self) -> usize {
        (self.short.capacity() + self.long.capacity()) * std::mem::size_of::<Bucket>()
    }
}

impl FirstWords {
    fn new(keys: &[&str]) -> FirstWords {
        let mut words: Vec<u64> = keys
            .iter()
            .map(|key| word_hash(key.as_bytes(), 0, first_word_len(key)))
            .collect();
        words.sort_unstable();
        words.dedup();
        // 16 bits a word: about 1% false positives with two probes in one 512-bit block.
        let n_bits = (words.len() * 16).next_power_of_two().max(512);
        let mut f = FirstWords {
            bits: vec![0; n_bits / 64],
            mask: n_bits as u64 - 1,
        };
        for h in words {
            for p in f.probes(h) {
                f.bits[(p / 64) as usize] |= 1 << (p % 64);
            }
        }
        f
    }

    /// The two bit positions of a hash, in one block of 512 bits (one cache line), so that a
    /// test costs one cache miss at most.
    #[inline]
    fn probes(&self, h: u64) -> [u64; 2] {
        let block = h & self.mask & !511;
        [block | (h >> 32) & 511, block | (h >> 48) & 511]
    }

    /// Both bits tested without a branch between them: a branch on the first load, where
    /// it misses the cache, is mispredicted for a word the filter turns away, and the
    /// processor then drops the loads it had started for the next words (see
    /// `Matcher::candidates`).
    #[inline]
    fn may_contain(&self, h: u64) -> bool {
        let [a, b] = self.probes(h);
        let bit = |p: u64| self.bits[(p / 64) as usize] >> (p % 64);
        bit(a) & bit(b) & 1 != 0
    }

    fn heap_bytes(&self) -> usize {
        self.bits.capacity() * 8
    }
}

/// A word start of the folded text that some filter of [`Matcher`] admits (see
/// [`Matcher::find_folded`]).
#[derive(Clone, Copy, Debug)]
struct Candidate {
    here: usize,
    /// The end of the word.
    end: usize,
    /// [`word_hash`] of the word.
    hash: u64,
    /// The word's first eight bytes, lower-cased ([`lower_chunk`]).
    low: u64,
    /// Whether the case-sensitive trie is asked.
    ask_exact: bool,
    /// What the folded trie is asked.
    start: FirstState,
}

/// Where the folded trie's lookup at a [`Candidate`] starts.
#[derive(Clone, Copy, Debug)]
enum FirstState {
    /// Not asked: no filter admits the word.
    NotAsked,
    /// Not known yet (the second pass settles it).
    Unknown,
    /// The word is too long for [`FirstStates`]: asked from the root.
    Root,
    /// The state after the word ([`Trie::state_after`]).
    At((u32, u32)),
}

/// What a key of an automaton stands for, packed into the trie's `u32` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Target {
    entry: usize,
    /// The alias begins with a capital letter, so the text must too ("Mobile" the city is
    /// not "mobile" the adjective).
    capitalised: bool,
    /// The entry is flagged `weak`.
    weak: bool,
}

impl Target {
    fn pack(self) -> u32 {
        let entry = u32::try_from(self.entry)
            .ok()
            .filter(|&e| e < 1 << 29)
            .expect("fewer than 2^29 gazetteer entries");
        entry << 2 | u32::from(self.capitalised) << 1 | u32::from(self.weak)
    }

    fn unpack(v: u32) -> Target {
        Target {
            entry: (v >> 2) as usize,
            capitalised: v & 2 != 0,
            weak: v & 1 != 0,
        }
    }
}

/// How strongly an entry claims a name: lower is stronger.
type Rank = (u8, u8, u8, std::cmp::Reverse<u64>);

/// Whether `e` is a town or region with a country: of several such entries sharing a name,
/// the automaton reports the best ranked, and [`Matcher::homonyms`] lists the others.
fn homonym(e: &Entry) -> bool {
    e.etype == EntityType::Place
        && !matches!(
            e.kind.as_str(),
            "country" | "feature" | "area" | "continent"
        )
        && e.geo.as_ref().is_some_and(|g| !g.country.is_empty())
}

/// Which of several entries sharing a name to prefer: countries first; then an entry whose
/// canonical name it is over one that lists it as an alternate ("Beni" the Congolese city,
/// not the Bolivian region El Beni); then organisations, persons and groups, regions,
/// features, other places by population.
fn rank(e: &Entry, canonical: bool) -> Rank {
    let r = match (e.etype, e.kind.as_str()) {
        (EntityType::Place, "country") => 0,
        (EntityType::Org, _) | (EntityType::Person, _) | (EntityType::Norp, _) => 1,
        (EntityType::Place, "region") => 2,
        (EntityType::Place, "continent" | "area" | "feature") => 3,
        _ => 4,
    };
    let country = u8::from(r != 0);
    // A `weak` entry's canonical name is a word or another thing's name too ("Gaza" the
    // city, flagged so that "Gaza" means the Gaza Strip): it claims it like an alias.
    let own = canonical && !e.weak;
    (country, u8::from(!own), r, std::cmp::Reverse(e.population))
}

/// An acronym: two to five capital letters, perhaps with dots ("CAR", "U.N."). Such an
/// alias matches only in capitals: "Car bomb" is not the Central African Republic.
fn acronym(alias: &str) -> bool {
    let letters = alias.chars().filter(|c| c.is_alphabetic()).count();
    (2..=5).contains(&letters)
        && alias
            .chars()
            .all(|c| c.is_uppercase() || c.is_ascii_digit() || c == '.')
}

impl Matcher {
    /// Compiles `entries` with the default [`MatcherBuilder`].
    pub fn build(entries: impl Into<Vec<Entry>>) -> Result<Matcher> {
        MatcherBuilder::new().build(entries)
    }

    /// The entries, indexed by [`GazetteerMatch::entry`].
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The other towns and regions that share the name `hit` matched in `text` (best
    /// ranked first), which the automaton did not report; empty for most names.
    pub fn homonyms(&self, text: &str, hit: &GazetteerMatch) -> &[u32] {
        let i = hit.entry;
        if self
            .may_share
            .get(i / 64)
            .map_or(true, |w| w >> (i % 64) & 1 == 0)
        {
            return &[];
        }
        let mut key = fold(&text[hit.span.start..hit.span.end]);
        key.make_ascii_lowercase();
        self.homonyms.get(key.as_str()).map_or(&[], |o| o)
    }

    /// Heap bytes held by the two automata (not the entries), for the benchmarks.
    pub fn heap_bytes(&self) -> usize {
        self.folded.heap_bytes()
            + self.folded_long_words.heap_bytes()
            + self.folded_lower_words.heap_bytes()
            + self.folded_starts.heap_bytes()
            + self.exact.heap_bytes()
            + self.exact_words.heap_bytes()
    }

    /// Every gazetteer hit in `text`, on whole words, without overlaps, in text order.
    pub fn find(&self, text: &str) -> Vec<GazetteerMatch> {
        self.find_folded(text, &Folded::new(text))
    }

    /// Like [`Matcher::find`], with the folded text already made.
    ///
    /// The automata are asked for the longest alias at each word start, not run over the
    /// whole text: an unanchored leftmost-longest search would let a match that begins
    /// inside a word ("n Sala" of some alias) hide a whole-word match that overlaps it.
    ///
    /// In three passes, so that the cache misses of different words overlap. A word that
    /// may begin an alias costs two dependent loads from tables far larger than the
    /// caches (the first-word table's bucket, some 3 MB in all, and the trie node after
    /// the word), and asked word by word, each waited for the one before it (perf: half of
    /// this function's time on such loads, when there were three). So: first the words
    /// and the tests that stay in L1 (the lowercase keys' filter, the case-sensitive
    /// trie's root and filter), listing the words that may begin an alias; then each of
    /// the loads for all the listed words at once, one loop per load, where the processor
    /// has many misses under way together; then the matching proper, word by word as
    /// before, its tables now in the caches. The last pass asks exactly the words that
    /// the one-pass scan asked: the words inside a match are skipped (the byte at a
    /// match's end is not part of a word, so the next word start after it is one of the
    /// listed or unlisted word starts), and a word that is not listed is one that no
    /// filter admits, which the scan passed over too.
    pub fn find_folded(&self, text: &str, folded: &Folded) -> Vec<GazetteerMatch> {
        let ft = folded.text.as_str();
        let bytes = ft.as_bytes();
        let orig = text.as_bytes();
        let words = self.candidates(text, folded);
        // Room for a hit every 64 bytes (news text has about one every 70): the list is
        // not grown and copied several times per document.
        let mut out = Vec::with_capacity(ft.len() / 64);
        // The folded text's map back to the original, read forward (see `original_from`).
        let mut point = 0;
        // The end of the last match: the words before it start no match.
        let mut at = 0;
        for w in &words {
            let (here, word_end) = (w.here, w.end);
            let ask_folded = !matches!(w.start, FirstState::NotAsked);
            if here < at || (!ask_folded && !w.ask_exact) {
                continue;
            }
            // The original offsets of the word start and of a candidate's end: read forward
            // from the point found for the word start (a match ends a few bytes on, most
            // often before the next point), not searched for in all of them.
            let s = folded.original_from(&mut point, here);
            let original_end = |end: usize| folded.original_from(&mut point.clone(), end);
            // (end, original end, entry)
            let mut best: Option<(usize, usize, usize)> = None;
            // The case-sensitive automaton first: on a tie its match is the better evidence
            // ("UN" the organisation, not Un the town). It is small and stays in the caches.
            for (trie, fold_case) in [(&self.exact, false), (&self.folded, true)] {
                if !(if fold_case { ask_folded } else { w.ask_exact }) {
                    continue;
                }
                let found = if fold_case {
                    match w.start {
                        FirstState::At(st) => trie.longest_prefix_from(bytes, word_end, st, true),
                        FirstState::Root => trie.longest_prefix(bytes, here, true),
                        FirstState::NotAsked | FirstState::Unknown => None,
                    }
                } else {
                    trie.longest_prefix(bytes, here, false)
                };
                let Some((mut end, mut key)) = found else {
                    continue;
                };
                // The longest alias may end inside a word ("Southwest Region" in "Southwest
                // regions"): then the longest one that ends at a word boundary before it.
                // Rare, so asked again from the word start on the text cut there.
                while !whole_word(ft, Span::new(here, end)) {
                    let Some(cut) = bytes[here..end]
                        .iter()
                        .rposition(|b| b.is_ascii() && !b.is_ascii_alphanumeric())
                    else {
                        break;
                    };
                    match trie.longest_prefix(&bytes[..here + cut], here, fold_case) {
                        Some(shorter) => (end, key) = shorter,
                        None => break,
                    }
                }
                if !whole_word(ft, Span::new(here, end)) {
                    continue;
                }
                let e = original_end(end);
                let target = Target::unpack(key);
                if target.capitalised && !capitalised_at(orig, text, s) {
                    continue;
                }
                if target.weak && (sentence_start(text, s) || !capitalised(&text[s..e])) {
                    continue;
                }
                if best.map_or(true, |(old, _, _)| end > old) {
                    best = Some((end, e, target.entry));
                }
            }
            if let Some((end, e, entry)) = best {
                out.push(GazetteerMatch {
                    span: Span::new(s, e),
                    entry,
                });
                // The words inside the match start no match; the byte at its end is not part
                // of a word (`whole_word`).
                at = end;
            }
        }
        out
    }

    /// The first two passes of [`Matcher::find_folded`]: the word starts of the folded
    /// text that some filter admits, in text order, each with the state of the folded trie
    /// after its word.
    fn candidates(&self, text: &str, folded: &Folded) -> Vec<Candidate> {
        let ft = folded.text.as_str();
        let bytes = ft.as_bytes();
        // Room for one listed word every 16 bytes (about a word in three is listed).
        let mut words = Vec::with_capacity(ft.len() / 16);
        let orig = text.as_bytes();
        let n = bytes.len();
        let mut point = 0;
        let mut at = 0;
        while let Some((here, mut word_end)) = next_word(ft, at) {
            // A word goes on past its ASCII run only at a non-ASCII byte (rare): then
            // character by character.
            if word_end < n && !bytes[word_end].is_ascii() {
                while word_end < n {
                    let b = bytes[word_end];
                    if b.is_ascii() {
                        if !ascii_word(b) {
                            break;
                        }
                        word_end += 1;
                    } else {
                        let c = ft[word_end..].chars().next().expect("a char boundary");
                        if !is_word_char(c) {
                            break;
                        }
                        word_end += c.len_utf8();
                    }
                }
            }
            // The rest of the word starts no word: the scan goes on after it.
            at = word_end;
            // The word's first eight bytes lower-cased: its hash, and its key in the
            // first-word table (see `FirstStates::get`), are made from them.
            let low = lower_chunk(bytes, here, word_end.min(here + 8));
            let hash = if word_end - here <= 8 {
                finish_hash(mix_chunk(0, low))
            } else {
                word_hash(bytes, here, word_end)
            };
            // The filters only prune (a word no filter admits begins no key, so no match
            // could be kept).
            // The case-sensitive keys are mostly acronyms in capitals: their trie's root,
            // asked before the filter, turns away the lowercase words (most of a text)
            // without the filter's cache line.
            // The folded trie is asked where some key begins with the word and the text
            // is capitalised or the lowercase keys' filter lets it in. The lowercase keys
            // are a few hundred (a filter of 8 KB, in L1) and turn away most lowercase
            // words, three quarters of a text; the table of all first words (some 90,000,
            // see `FirstStates`) is asked in the next pass. The capital is tested first,
            // on the original's byte where it is ASCII: no slicing, no decoding.
            let ask_exact =
                self.exact.may_start_with(bytes[here]) && self.exact_words.may_contain(hash);
            let maybe_folded = capitalised_at(orig, text, folded.original_from(&mut point, here))
                || self.folded_lower_words.may_contain(hash);
            if !ask_exact && !maybe_folded {
                continue;
            }
            words.push(Candidate {
                here,
                end: word_end,
                hash,
                low,
                ask_exact,
                start: if maybe_folded {
                    FirstState::Unknown
                } else {
                    FirstState::NotAsked
                },
            });
        }
        // Each load for every word before the next load of any: the loads of one loop do
        // not wait for each other, and no branch depends on them (the sums passed to
        // `black_box` only keep the loads that warm the caches from being left out).
        let mut sum = 0u64;
        for w in &words {
            if matches!(w.start, FirstState::Unknown) && w.end - w.here <= START_WORD {
                sum = sum.wrapping_add(self.folded_starts.touch(w.end - w.here, w.hash));
            }
        }
        std::hint::black_box(sum);
        for w in &mut words {
            if matches!(w.start, FirstState::Unknown) {
                w.start = match self.folded_starts.get(bytes, w.here, w.end, w.hash, w.low) {
                    Ok(Some(st)) => FirstState::At(st),
                    Ok(None) => FirstState::NotAsked,
                    // Longer than the table's words: the root, if some key may begin so.
                    Err(()) if self.folded_long_words.may_contain(w.hash) => FirstState::Root,
                    Err(()) => FirstState::NotAsked,
                };
            }
        }
        // The trie nodes the last pass starts from, brought into the caches.
        let mut sum = 0u32;
        for w in &words {
            if let FirstState::At(st) = w.start {
                sum = sum.wrapping_add(self.folded.touch(st));
            }
        }
        std::hint::black_box(sum);
        words
    }

    /// A hit as an entity fact.
    pub fn entity(&self, text: &str, h: GazetteerMatch) -> Entity {
        // Reference counts, not copies: see `Entry`.
        let e = &self.entries[h.entry];
        Entity {
            span: h.span,
            text: text[h.span.start..h.span.end].to_string(),
            etype: e.etype,
            canonical: e.canonical.clone(),
            entity_id: e.id.clone(),
            kind: e.kind.clone(),
            geo: e.geo.clone(),
            rule: SharedStr::from("gazetteer"),
        }
    }

    /// The hits as entity facts.
    pub fn entities(&self, text: &str) -> Vec<Entity> {
        self.find(text)
            .into_iter()
            .map(|h| self.entity(text, h))
            .collect()
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// The length in bytes of the first word of `key` (up to its first character that is not
/// part of a word).
fn first_word_len(key: &str) -> usize {
    key.find(|c: char| !is_word_char(c)).unwrap_or(key.len())
}

/// The first character at or after `at` that is part of a word (a letter or digit), where
/// the character before `at` is not (or `at` is 0), so that it starts a word: `None` if
/// there is none.
///
/// Why: the scan read every character of the text with a word-start test, the words
/// inside a match included; now the words are skipped whole, and the gaps between them
/// (mostly one or two bytes: eight at a time cost more) are read here, a byte at a time.
#[inline]
fn next_word_start(text: &str, mut at: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    loop {
        let &b = bytes.get(at)?;
        if b.is_ascii() {
            if ascii_word(b) {
                return Some(at);
            }
            at += 1;
            continue;
        }
        let c = text[at..].chars().next().expect("a char boundary");
        if is_word_char(c) {
            return Some(at);
        }
        at += c.len_utf8();
    }
}

/// The next word start at or after `at` (as [`next_word_start`]) and the end of the
/// word's ASCII run there (as [`ascii_word_end`]), read from one 8-byte chunk where the
/// gap and the word fit in it.
///
/// Why: the gap's byte loop and the word's own chunk were some 40 instructions a word of
/// the matcher's scan; most gaps are a byte or two and most words shorter than eight
/// bytes, so one load and a few masks find both.
#[inline(always)]
fn next_word(text: &str, mut at: usize) -> Option<(usize, usize)> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let bytes = text.as_bytes();
    loop {
        let Some(c) = chunk(bytes, at) else {
            // The last bytes of the text.
            let here = next_word_start(text, at)?;
            return Some((here, ascii_word_end(bytes, here)));
        };
        let x = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let stop = c.word | (x & HIGH);
        if stop == 0 {
            at += 8;
            continue;
        }
        let k = stop.trailing_zeros() as usize / 8;
        if c.word >> (8 * k) & 0x80 == 0 {
            // A byte that is not ASCII first: a character that may or may not be part of
            // a word, read as before.
            let here = next_word_start(text, at + k)?;
            return Some((here, ascii_word_end(bytes, here)));
        }
        // The lanes from the word's start on that end it (the start's own lane is a word
        // byte, so the first is after it).
        let rest = !c.word & HIGH & (u64::MAX << (8 * k));
        let end = if rest != 0 {
            at + rest.trailing_zeros() as usize / 8
        } else {
            ascii_word_end(bytes, at + 8)
        };
        return Some((at + k, end));
    }
}

/// Whether `span` starts and ends on word boundaries.
///
/// The bytes next to the span are read as they are where they are ASCII (almost always):
/// the slicing and decoding of both characters were some 50 instructions a hit.
pub(crate) fn whole_word(text: &str, span: Span) -> bool {
    let b = text.as_bytes();
    let before = match span.start.checked_sub(1).map(|i| b[i]) {
        None => false,
        Some(x) if x.is_ascii() => ascii_word(x),
        Some(_) => text[..span.start]
            .chars()
            .next_back()
            .is_some_and(is_word_char),
    };
    let after = match b.get(span.end) {
        None => false,
        Some(&x) if x.is_ascii() => ascii_word(x),
        Some(_) => text[span.end..].chars().next().is_some_and(is_word_char),
    };
    !before && !after
}

fn capitalised(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}

/// `capitalised(&text[s..])` (`orig` is `text`'s bytes), read from the byte where it is
/// ASCII: most word starts are, and the slice's boundary check and the decoding were some
/// twenty instructions a word.
#[inline(always)]
fn capitalised_at(orig: &[u8], text: &str, s: usize) -> bool {
    match orig.get(s) {
        Some(&b) if b.is_ascii() => b.is_ascii_uppercase(),
        Some(_) => capitalised(&text[s..]),
        None => false,
    }
}

/// Whether the word at `at` begins a sentence or a line.
pub(crate) fn sentence_start(text: &str, at: usize) -> bool {
    let before = text[..at].trim_end_matches([' ', '"', '\u{201c}', '\'', '(']);
    before.is_empty() || before.ends_with(['.', '!', '?', '\n', ':'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::gazetteer;

    const HEAD: &str =
        "id\tcanonical\ttype\tkind\taliases\tcountry\tadmin1\tlat\tlon\tpopulation\tflags\n";

    fn matcher(rows: &str) -> Matcher {
        let entries = gazetteer::parse("t.tsv", &format!("{HEAD}{rows}")).unwrap();
        MatcherBuilder::new()
            .not_names(["one", "taylor", "central"])
            .build(entries)
            .unwrap()
    }

    /// `next_word` finds the word starts and ASCII-run ends that `next_word_start` and
    /// `ascii_word_end` find, from every offset, in gaps and words of every length, next
    /// to characters that are and are not letters, and near the text's end.
    #[test]
    fn next_word_agrees_with_the_byte_loops() {
        let text = "  Mūşil, al Anbar\u{2014}Ninawa   ‘x’ 12345678901abc   ,;.  é\u{301}z Ab \
                    abcdefghijklmnopqrstu!-- ÆØ 7 Q";
        for at in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            let want = next_word_start(text, at).map(|h| (h, ascii_word_end(text.as_bytes(), h)));
            assert_eq!(next_word(text, at), want, "at {at}");
        }
    }

    /// The byte tests of `whole_word` answer as the characters around the span do, next
    /// to ASCII and non-ASCII letters, digits, marks and punctuation, and at the edges.
    #[test]
    fn whole_word_agrees_with_the_characters_around() {
        let reference = |text: &str, span: Span| {
            let before = text[..span.start].chars().next_back();
            let after = text[span.end..].chars().next();
            !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
        };
        let text = "Mūşil, al Anbar–Ninawa «Ḥalab» 12ab é\u{301}x \u{2019}Aden\u{2019}s.";
        let bounds: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for (k, &start) in bounds.iter().enumerate() {
            for &end in &bounds[k..] {
                let span = Span::new(start, end);
                assert_eq!(
                    whole_word(text, span),
                    reference(text, span),
                    "{start}..{end}"
                );
            }
        }
    }

    /// The eight-at-a-time hash is the mixing of the lower-cased word's zero-padded 8-byte
    /// chunks (its high half folded into the low), wherever the word lies (mid-text or near its end, where it is read byte by
    /// byte), so the text's words meet the keys' first words.
    #[test]
    fn word_hash_is_the_hash_of_the_lowercased_chunks() {
        let reference = |w: &[u8]| {
            let lower = w.to_ascii_lowercase();
            let h = lower.chunks(8).fold(0u64, |h, c| {
                let mut b = [0u8; 8];
                b[..c.len()].copy_from_slice(c);
                (h.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
            });
            h ^ h >> 32
        };
        let text = "Baghdad AL-ANBAR mūşil [@`{~] abcdefghIJKLMNOPqrstuvwxyz0123456789 Z";
        let b = text.as_bytes();
        for start in 0..b.len() {
            for end in start..=b.len() {
                assert_eq!(
                    word_hash(b, start, end),
                    reference(&b[start..end]),
                    "{start}..{end}"
                );
            }
        }
        assert_eq!(
            word_hash(b"BAGHDAD said", 0, 7),
            word_hash(b"baghdad", 0, 7)
        );
        assert_ne!(word_hash(b"baghdad", 0, 7), word_hash(b"baghdad", 0, 6));
    }

    /// The first-word table gives the trie's state after every first word of the keys (of
    /// up to 16 bytes, whatever the text's ASCII case), nothing for other words (prefixes
    /// of first words, whole keys' later words, unrelated words) and sends longer words to
    /// the root; with many keys, and with every word hashed to one bucket, so that entries
    /// overflow into the next buckets and wrap around the table's end.
    #[test]
    fn first_word_table_is_exact() {
        let mut seed: u64 = 7;
        let mut rand = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut word = |len: u64| -> String {
            (0..len)
                .map(|_| char::from(b"abcz0"[rand(5) as usize]))
                .collect()
        };
        let mut keys: Vec<String> = (0..3000u64)
            .map(|i| match i % 3 {
                0 => word(1 + i % 20),
                1 => format!("{} {}", word(1 + i % 17), word(3)),
                _ => format!("{} {} {}", word(1 + i % 10), word(2), word(5)),
            })
            .collect();
        keys.sort();
        keys.dedup();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let values: Vec<u32> = (0..refs.len() as u32).collect();
        let trie = Trie::new(&refs, &values);
        let firsts: FxHashSet<&str> = refs.iter().map(|k| &k[..first_word_len(k)]).collect();
        let mut asked: Vec<String> = firsts.iter().map(|w| w.to_string()).collect();
        asked.extend(firsts.iter().map(|w| w.to_ascii_uppercase()));
        asked.extend(
            firsts
                .iter()
                .filter(|w| w.len() > 1)
                .map(|w| w[1..].to_string()),
        );
        asked.extend(firsts.iter().map(|w| format!("{w}a")));
        asked.extend((0..3000u64).map(|i| word(1 + i % 20)));
        let want = |w: &str| -> std::result::Result<Option<(u32, u32)>, ()> {
            let lower = w.to_ascii_lowercase();
            if w.len() > START_WORD {
                Err(())
            } else if firsts.contains(lower.as_str()) {
                Ok(trie.state_after(lower.as_bytes()))
            } else {
                Ok(None)
            }
        };
        let table = FirstStates::new(&trie, &refs);
        // The same words, every one in one home bucket.
        let mut words: Vec<([u64; 2], u64, (u32, u32))> = firsts
            .iter()
            .filter(|w| w.len() <= START_WORD)
            .map(|w| {
                let state = trie.state_after(w.as_bytes()).expect("a first word");
                (start_word(w.as_bytes(), 0, w.len()), 0, state)
            })
            .collect();
        words.sort_unstable_by_key(|w| w.0);
        let (short, long): (Vec<_>, Vec<_>) = words.into_iter().partition(|w| w.0[1] == 0);
        let crowded = FirstStates {
            short: FirstStates::table(&short, 2),
            long: FirstStates::table(&long, 4),
        };
        let (mut found, mut none) = (0, 0);
        for w in &asked {
            let b = w.as_bytes();
            let h = word_hash(b, 0, b.len());
            let low = lower_chunk(b, 0, b.len().min(8));
            let got = table.get(b, 0, b.len(), h, low);
            assert_eq!(got, want(w), "{w}");
            assert_eq!(
                crowded.get(b, 0, b.len(), 0, low),
                want(w),
                "{w}, one bucket"
            );
            found += usize::from(matches!(got, Ok(Some(_))));
            none += usize::from(got == Ok(None));
        }
        assert!(found > 1000 && none > 1000, "{found} {none}");
    }

    /// The bit table that answers most `homonyms` questions without a lookup gives what
    /// the lookup gives for every hit: towns sharing a name across countries, a region
    /// sharing it too, an acronym of the case-sensitive trie whose text folds to the
    /// shared name, and entries with no homonym.
    #[test]
    fn homonyms_skipped_only_where_the_lookup_finds_none() {
        let m = matcher(
            "L:bor1\tBor\tPLACE\tcity\t\tRU\t\t\t\t30000\t\n\
             L:bor2\tBor\tPLACE\tcity\t\tSS\t\t\t\t20000\t\n\
             L:bor3\tBor\tPLACE\tcity\t\tRS\t\t\t\t10000\t\n\
             L:borr\tBor Region\tPLACE\tregion\tBor Reg\tSS\t\t\t\t\t\n\
             O:bor\tBoard of Rebels\tORG\tarmed_group\t=BOR\t\t\t\t\t\t\n\
             L:mosul\tMosul\tPLACE\tcity\t\tIQ\t\t\t\t1000000\t\n",
        );
        let text = "Bor and BOR, bor and Bor Reg near Mosul; BOR again.";
        let hits = m.find(text);
        assert!(hits.len() >= 5, "{hits:?}");
        let mut shared = 0;
        for h in &hits {
            let mut key = fold(&text[h.span.start..h.span.end]);
            key.make_ascii_lowercase();
            let want: &[u32] = m.homonyms.get(key.as_str()).map_or(&[], |o| o);
            assert_eq!(m.homonyms(text, h), want, "{h:?}");
            shared += usize::from(!want.is_empty());
        }
        assert!(shared >= 3, "{shared}");
    }

    #[test]
    fn matches_are_folded_whole_words_mapped_back() {
        let m = matcher(
            "L:mosul\tMosul\tPLACE\tcity\tMūşil|Al Mawsil\tIQ\t\t\t\t1000000\t\n\
             L:anbar\tAnbar\tPLACE\tregion\tal-Anbar\tIQ\t\t\t\t\t\n\
             O:is\tIslamic State\tORG\tarmed_group\t=IS|ISIS\t\t\t\t\t\t\n\
             L:one\tOnex\tPLACE\tcity\tOne\tCH\t\t\t\t18000\t\n\
             L:taylor\tTaylor\tPLACE\tcity\t\tUS\t\t\t\t20000\t\n\
             L:lima\tLima\tPLACE\tcity\t\tPE\t\t\t\t7000000\t\n\
             L:c\tCentral District\tPLACE\tregion\tCentral\tBW\t\t\t\t\t\n\
             L:long\tKhabarovskiyevskaya Oblast\tPLACE\tregion\t\tRU\t\t\t\t\t\n",
        );
        let cases: &[(&str, &[&str])] = &[
            ("Mosul fell.", &["Mosul"]),
            ("fighting in Mūşil and MOSUL", &["Mūşil", "MOSUL"]),
            ("from Al-Mawsil’s outskirts", &["Al-Mawsil"]),
            (
                "in al Anbar and al‑Anbar and Anbar’s",
                &["al Anbar", "al‑Anbar", "Anbar"],
            ),
            ("IS and ISIS but not is or Isisx", &["IS", "ISIS"]),
            ("Anbaris Mosulx", &[]),
            ("One man in Taylor County", &[]),
            ("Lima, Peru", &["Lima"]),
            ("Central Botswana", &[]),
            // A first word too long for the table of first words: searched from the root.
            (
                "KHABAROVSKIYEVSKAYA OBLAST and Khabarovskiyevskaya",
                &["KHABAROVSKIYEVSKAYA OBLAST"],
            ),
            ("Al Mawsil, Mosul. Lima", &["Al Mawsil", "Mosul", "Lima"]),
        ];
        for (text, want) in cases {
            let got: Vec<&str> = m
                .find(text)
                .iter()
                .map(|h| &text[h.span.start..h.span.end])
                .collect();
            assert_eq!(&got, want, "{text}");
        }
    }
}
