//! The capture groups of hits, remembered per worker thread.
//!
//! [`RuleSet::captures`](super::RuleSet::captures) reads a hit's groups with an anchored
//! search over exactly the hit's span. What that search finds depends on the rule, the
//! span's bytes, and what the rule's assertions see of the text around the span: the
//! regex crate's assertions (`\b`, `^`, `$`, `\A`, `\z` and the rest) look at most one
//! character beyond the position they are asked at, so at most one character before
//! the span and one after it, or the edge of the paragraph (the haystack). The same
//! numbers and dates ("15", "at least 15", "two weeks ago", "3 March 2024") come back
//! again and again in news text, so most searches have been made before on the same
//! thread: the groups are kept, relative to the span's start, under a key made of
//! exactly what decides them (see [`Around`]).
//!
//! Why a thread-local table rather than one in the caller: the stages are shared by
//! the worker threads and called once per document, and most repeats are across
//! documents. The table is emptied when it grows past [`MAX_ENTRIES`] or [`MAX_BYTES`],
//! and when a thread turns to another [`RuleSet`].
//!
//! Why a table of its own rather than a `HashMap<Box<[u8]>, _>`: the table is several
//! times the size of the L2 cache, so a lookup's time is its cache misses. A hash map
//! with boxed keys and the groups in a vector beside it missed four times per lookup
//! (control bytes, bucket, key, groups); here a slot (8 bytes: part of the key's hash
//! and where the entry is) says whether it is worth reading the entry, and the entry is
//! the key's bytes followed by the groups, read together.
//!
//! [`RuleSet`]: super::RuleSet

use std::cell::RefCell;
use std::hash::Hasher;

use regex_automata::meta::{Cache, Regex};
use regex_automata::util::captures::Captures;
use regex_automata::util::look::LookMatcher;
use regex_automata::{Anchored, Input, PatternID};
use regex_syntax::hir::{Look, LookSet};
use rustc_hash::FxHasher;

use crate::facts::Span;

/// What of the text around a span a rule's assertions can see, and so what the key
/// of a search must say about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Around {
    /// No assertions: the span's bytes alone decide.
    Nothing,
    /// Word boundaries only (`\b`, `\B`, `\b{start}`...; ASCII ones, as the rules'
    /// `\b` are compiled, or Unicode ones, or both): whether there is a word boundary
    /// of each kind at each end of the span. With the span's own characters fixed by
    /// the key (a hit is never empty, so the characters on the inner side of both ends
    /// are the span's), that says whether the character outside each end is a word
    /// character (or the edge), which is all these assertions ask about it.
    Words { ascii: bool, unicode: bool },
    /// Any other assertion: the whole character before the span and the one after it,
    /// or that there is none (the span touches the paragraph's edge: `^`, `\A`...).
    Chars,
}

impl Around {
    /// What the assertions in `looks` (a pattern's) need to see around a span.
    pub(crate) fn of(looks: LookSet) -> Around {
        let ascii = LookSet::empty()
            .insert(Look::WordAscii)
            .insert(Look::WordAsciiNegate)
            .insert(Look::WordStartAscii)
            .insert(Look::WordEndAscii)
            .insert(Look::WordStartHalfAscii)
            .insert(Look::WordEndHalfAscii);
        let unicode = LookSet::empty()
            .insert(Look::WordUnicode)
            .insert(Look::WordUnicodeNegate)
            .insert(Look::WordStartUnicode)
            .insert(Look::WordEndUnicode)
            .insert(Look::WordStartHalfUnicode)
            .insert(Look::WordEndHalfUnicode);
        if looks.is_empty() {
            Around::Nothing
        } else if looks.subtract(ascii).subtract(unicode).is_empty() {
            Around::Words {
                ascii: looks.contains_word_ascii(),
                unicode: looks.contains_word_unicode(),
            }
        } else {
            Around::Chars
        }
    }
}

/// Entries kept per thread before the table is emptied. On the 20 MB generated dump
/// (12,750 articles, about 340,000 searches, 35,000 different keys) one thread finds 90%
/// of its searches remembered with this bound (never emptied there), 86% with a quarter
/// of it.
const MAX_ENTRIES: usize = 1 << 16;

/// Bytes of entries kept per thread before the table is emptied (whatever their
/// number): keys are as long as the spans, which nothing bounds. The built-in rules'
/// entries take about 50 bytes each, so [`MAX_ENTRIES`] comes first on news text.
const MAX_BYTES: usize = 8 << 20;

/// Slots of the table: twice [`MAX_ENTRIES`], so that it is never more than half full
/// and a probe rarely goes past the first slot (1 MB).
const SLOTS: usize = 2 * MAX_ENTRIES;

/// A group that did not take part in the match.
const UNSET: u32 = u32::MAX;

/// One thread's remembered searches.
#[derive(Default)]
struct Memo {
    /// The [`RuleSet`](super::RuleSet) the entries belong to (its `id`).
    set: u64,
    /// Open addressing with linear probing over [`SLOTS`] slots (allocated on first
    /// use), by the key's hash: 0 for an empty slot, else the hash's upper 32 bits and
    /// 1 + the offset of the entry in `data`.
    slots: Vec<u64>,
    /// How many entries there are.
    entries: usize,
    /// The entries, one after the other: the key's length (`u32`, little-endian), the
    /// key (see [`key`]), and the groups (as many as the key's rule has), each the
    /// start and end relative to the span's start (`u32`s, [`UNSET`] for groups that
    /// did not take part).
    data: Vec<u8>,
    /// The key being looked up, built in place.
    key: Vec<u8>,
    /// A captures buffer per rule, made on first use.
    caps: Vec<Option<Captures>>,
}

impl Memo {
    /// The offset in `data` of the groups of the entry whose key is `self.key`, or the
    /// slot where that entry belongs. `hash` is the key's.
    fn find(&self, hash: u64) -> Result<usize, usize> {
        let tag = hash >> 32;
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                return Err(i);
            }
            if slot >> 32 == tag {
                let at = (slot as u32 - 1) as usize;
                let len = u32_at(&self.data, at) as usize;
                let key = at + 4..at + 4 + len;
                if self.data[key.clone()] == self.key[..] {
                    return Ok(key.end);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Forgets every entry.
    fn clear(&mut self) {
        self.slots.fill(0);
        self.entries = 0;
        self.data.clear();
    }
}

/// The little-endian `u32` at `at` in `data`.
fn u32_at(data: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&data[at..at + 4]);
    u32::from_le_bytes(word)
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

thread_local! {
    static CACHES: RefCell<Caches> = RefCell::new(Caches::default());
}

/// The calling thread's search caches of one rule set's regexes, by rule.
#[derive(Default)]
struct Caches {
    set: u64,
    by_rule: Vec<Option<Cache>>,
}

/// Calls `f` with a function that searches `input` with rule `rule`'s `regex`, using a
/// search cache that the calling thread keeps for the rule set `set`.
///
/// Why: `Regex::search` takes a cache from the regex's pool on every call, which is cheap
/// only for the thread that made the pool; the others lock a mutex for each search, and
/// the rules make one anchored search per candidate start (see `RuleSet::hits`), so with
/// two worker threads the second one paid for a lock per search.
pub(crate) fn with_search<R>(
    set: u64,
    f: impl FnOnce(&mut dyn FnMut(usize, &Regex, &Input) -> Option<regex_automata::Match>) -> R,
) -> R {
    CACHES.with(|caches| {
        let caches = &mut *caches.borrow_mut();
        if caches.set != set {
            *caches = Caches {
                set,
                by_rule: Vec::new(),
            };
        }
        let by_rule = &mut caches.by_rule;
        f(&mut |rule, regex, input| {
            if by_rule.len() <= rule {
                by_rule.resize_with(rule + 1, || None);
            }
            let cache = by_rule[rule].get_or_insert_with(|| regex.create_cache());
            regex.search_with(cache, input)
        })
    })
}

#[cfg(test)]
thread_local! {
    /// How many searches the calling thread found remembered, for tests.
    pub(crate) static REUSED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The capture groups (spans in the document, `base` being the paragraph's offset
/// there) of the anchored search of rule `rule` (its `regex`, which needs `around`)
/// over `span` (relative to `chunk`, the paragraph), as `regex.search_captures` finds
/// them, remembered by the calling thread for the rule set `set`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn anchored(
    set: u64,
    rule: usize,
    regex: &Regex,
    around: Around,
    chunk: &[u8],
    span: (usize, usize),
    base: usize,
    out: &mut Vec<Option<Span>>,
) {
    MEMO.with(|memo| {
        let memo = &mut *memo.borrow_mut();
        if memo.set != set || memo.slots.is_empty() {
            *memo = Memo {
                set,
                slots: vec![0; SLOTS],
                ..Memo::default()
            };
        }
        key(&mut memo.key, rule, around, chunk, span);
        let mut hasher = FxHasher::default();
        hasher.write(&memo.key);
        let hash = hasher.finish();
        let n = regex.group_info().group_len(PatternID::ZERO);
        let at = base + span.0;
        out.clear();
        out.reserve_exact(n);
        let slot = match memo.find(hash) {
            Ok(groups) => {
                #[cfg(test)]
                REUSED.with(|r| r.set(r.get() + 1));
                let groups = &memo.data[groups..groups + 8 * n];
                out.extend(groups.chunks_exact(8).map(|g| {
                    let (s, e) = (u32_at(g, 0), u32_at(g, 4));
                    (s != UNSET).then(|| Span::new(at + s as usize, at + e as usize))
                }));
                return;
            }
            Err(slot) => slot,
        };
        if memo.caps.len() <= rule {
            memo.caps.resize_with(rule + 1, || None);
        }
        // Taken out while the entry is written, and put back.
        let mut caps = memo.caps[rule]
            .take()
            .unwrap_or_else(|| regex.create_captures());
        let input = Input::new(chunk)
            .span(span.0..span.1)
            .anchored(Anchored::Yes);
        regex.search_captures(&input, &mut caps);
        out.extend((0..n).map(|i| {
            caps.get_group(i)
                .map(|m| Span::new(base + m.start, base + m.end))
        }));
        let size = 4 + memo.key.len() + 8 * n;
        let slot = if memo.entries >= MAX_ENTRIES || memo.data.len() + size > MAX_BYTES {
            memo.clear();
            match memo.find(hash) {
                Err(slot) => slot,
                Ok(_) => unreachable!("the table is empty"),
            }
        } else {
            slot
        };
        let off = memo.data.len();
        memo.data
            .extend_from_slice(&(memo.key.len() as u32).to_le_bytes());
        memo.data.extend_from_slice(&memo.key);
        for i in 0..n {
            let (s, e) = match caps.get_group(i) {
                Some(m) => ((m.start - span.0) as u32, (m.end - span.0) as u32),
                None => (UNSET, UNSET),
            };
            memo.data.extend_from_slice(&s.to_le_bytes());
            memo.data.extend_from_slice(&e.to_le_bytes());
        }
        memo.slots[slot] = (hash >> 32) << 32 | (off as u64 + 1);
        memo.entries += 1;
        memo.caps[rule] = Some(caps);
    })
}

/// Writes into `key` what decides the anchored search of rule `rule` over `span` of
/// `chunk`: the rule, the span's bytes and what the rule's assertions see beyond them
/// (see [`Around`]), in a form that no other search's key can take.
fn key(key: &mut Vec<u8>, rule: usize, around: Around, chunk: &[u8], (s, e): (usize, usize)) {
    key.clear();
    key.extend_from_slice(&(rule as u32).to_le_bytes());
    let mut around = around;
    if let Around::Words { ascii, unicode } = around {
        let look = LookMatcher::new();
        let mut bits = 0;
        if ascii {
            bits |= u8::from(look.is_word_ascii(chunk, s))
                | u8::from(look.is_word_ascii(chunk, e)) << 1;
        }
        if unicode {
            match (
                look.is_word_unicode(chunk, s),
                look.is_word_unicode(chunk, e),
            ) {
                (Ok(a), Ok(b)) => bits |= u8::from(a) << 2 | u8::from(b) << 3,
                _ => around = Around::Chars,
            }
        }
        if around != Around::Chars {
            key.push(bits);
        }
    }
    if around == Around::Chars {
        // The character before `s` starts at the last byte before it that does not
        // continue a character (the text is UTF-8 and `s` on a character boundary).
        let mut b = s;
        while b > 0 && s - b < 4 {
            b -= 1;
            if chunk[b] & 0xC0 != 0x80 {
                break;
            }
        }
        let a = match chunk.get(e) {
            None => 0,
            Some(&c) if c < 0x80 => 1,
            Some(&c) if c < 0xE0 => 2,
            Some(&c) if c < 0xF0 => 3,
            Some(_) => 4,
        }
        .min(chunk.len() - e);
        // Both lengths (0 at an edge of the paragraph), above the values a word
        // boundary key takes.
        key.push(0x80 | (s - b) as u8 | (a as u8) << 3);
        key.extend_from_slice(&chunk[b..s]);
        key.extend_from_slice(&chunk[e..e + a]);
    }
    key.extend_from_slice(&chunk[s..e]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn around(pattern: &str) -> Around {
        let hir = regex_syntax::parse(pattern).unwrap();
        Around::of(hir.properties().look_set())
    }

    /// More different searches than the table holds, by count (short spans) and by size
    /// (long ones): every answer is the plain search's, read fresh or remembered, and
    /// the table stays within its bounds.
    #[test]
    fn a_full_table_is_emptied_and_still_answers() {
        let regex = Regex::new(r"(?P<a>x)?(?P<digits>[0-9]+)(?P<b>y)?").unwrap();
        // No rule set has this id: the table is this test's alone.
        let set = u64::MAX - 7;
        let plain = |chunk: &[u8], span: (usize, usize)| {
            let mut caps = regex.create_captures();
            let input = Input::new(chunk)
                .span(span.0..span.1)
                .anchored(Anchored::Yes);
            regex.search_captures(&input, &mut caps);
            (0..caps.group_len())
                .map(|i| {
                    caps.get_group(i)
                        .map(|m| Span::new(100 + m.start, 100 + m.end))
                })
                .collect::<Vec<_>>()
        };
        let long = "7".repeat(300);
        let texts = (0..MAX_ENTRIES + 5_000)
            .map(|i| format!(" x{i}y "))
            .chain((0..MAX_BYTES / 300 + 100).map(|i| format!(" {long}{i} ")));
        let mut out = Vec::new();
        let mut first = Vec::new();
        for (k, text) in texts.enumerate() {
            let chunk = text.as_bytes();
            let span = (1, chunk.len() - 1);
            for _ in 0..2 {
                anchored(set, 0, &regex, Around::Nothing, chunk, span, 100, &mut out);
                assert_eq!(out, plain(chunk, span), "{text}");
            }
            if k < 10 {
                first.push(text);
            }
            MEMO.with(|m| {
                let m = m.borrow();
                assert!(m.entries <= MAX_ENTRIES && m.data.len() <= MAX_BYTES);
            });
        }
        for text in first {
            let chunk = text.as_bytes();
            let span = (1, chunk.len() - 1);
            anchored(set, 0, &regex, Around::Nothing, chunk, span, 100, &mut out);
            assert_eq!(out, plain(chunk, span), "{text}");
        }
    }

    #[test]
    fn what_patterns_see_around_a_span() {
        let words = |ascii, unicode| Around::Words { ascii, unicode };
        let cases = [
            ("a+", Around::Nothing),
            (r"(?-u:\b)a+(?-u:\B)", words(true, false)),
            (r"\ba+\b{end}", words(false, true)),
            (r"(?-u:\b)a+\b", words(true, true)),
            (r"(?-u:\b)a+$", Around::Chars),
            (r"(?m)^a+", Around::Chars),
            (r"\Aa", Around::Chars),
        ];
        for (pattern, want) in cases {
            assert_eq!(around(pattern), want, "{pattern}");
        }
    }

    /// Keys differ exactly where the assertions could see a difference.
    #[test]
    fn keys_hold_what_decides_the_search() {
        let k = |around, chunk: &str, span| {
            let mut v = Vec::new();
            key(&mut v, 0, around, chunk.as_bytes(), span);
            v
        };
        let ascii = Around::Words {
            ascii: true,
            unicode: false,
        };
        let unicode = Around::Words {
            ascii: false,
            unicode: true,
        };
        // "15" after a space or a comma, before a space or a full stop: the same.
        assert_eq!(k(ascii, " 15 ", (1, 3)), k(ascii, ",15.", (1, 3)));
        assert_eq!(k(ascii, "15", (0, 2)), k(ascii, " 15 ", (1, 3)));
        // After a letter it is not.
        assert_ne!(k(ascii, "x15 ", (1, 3)), k(ascii, " 15 ", (1, 3)));
        assert_ne!(k(ascii, " 15x", (1, 3)), k(ascii, " 15 ", (1, 3)));
        // "é" is a word character for Unicode boundaries, not for ASCII ones.
        assert_eq!(k(ascii, "é15", (2, 4)), k(ascii, " 15", (1, 3)));
        assert_ne!(k(unicode, "é15", (2, 4)), k(unicode, " 15", (1, 3)));
        assert_eq!(
            k(Around::Nothing, "x15", (1, 3)),
            k(Around::Nothing, "15", (0, 2))
        );
        // Whole characters, and the edges of the paragraph.
        assert_ne!(
            k(Around::Chars, "é15", (2, 4)),
            k(Around::Chars, "è15", (2, 4))
        );
        assert_ne!(
            k(Around::Chars, "15", (0, 2)),
            k(Around::Chars, " 15", (1, 3))
        );
        assert_ne!(
            k(Around::Chars, "15\n", (0, 2)),
            k(Around::Chars, "15 ", (0, 2))
        );
        assert_eq!(
            k(Around::Chars, "\n15 ", (1, 3)),
            k(Around::Chars, "a\n15 ", (2, 4))
        );
        // Other rules, other keys.
        let mut other = Vec::new();
        key(&mut other, 1, ascii, b" 15 ", (1, 3));
        assert_ne!(other, k(ascii, " 15 ", (1, 3)));
    }
}
