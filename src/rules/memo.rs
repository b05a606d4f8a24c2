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
//! documents. The table is emptied when it grows past [`MAX_ENTRIES`], and when a
//! thread turns to another [`RuleSet`].
//!
//! [`RuleSet`]: super::RuleSet

use std::cell::RefCell;

use regex_automata::meta::Regex;
use regex_automata::util::captures::Captures;
use regex_automata::util::look::LookMatcher;
use regex_automata::{Anchored, Input, PatternID};
use regex_syntax::hir::{Look, LookSet};
use rustc_hash::FxHashMap;

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

/// Entries kept per thread before the table is emptied: about 8 MB. On the 20 MB
/// generated dump (12,750 articles, about 340,000 searches, 35,000 different keys) one
/// thread finds 90% of its searches remembered with this bound (never emptied there),
/// 86% with a quarter of it.
const MAX_ENTRIES: usize = 1 << 16;

/// A group that did not take part in the match.
const UNSET: u32 = u32::MAX;

/// One thread's remembered searches.
#[derive(Default)]
struct Memo {
    /// The [`RuleSet`](super::RuleSet) the entries belong to (its `id`).
    set: u64,
    /// Key (see [`key`]) to the offset of the groups in `groups`.
    entries: FxHashMap<Box<[u8]>, u32>,
    /// Each entry's groups (as many as its rule has), start and end relative to the
    /// span's start, [`UNSET`] for groups that did not take part.
    groups: Vec<[u32; 2]>,
    /// The key being looked up, built in place.
    key: Vec<u8>,
    /// A captures buffer per rule, made on first use.
    caps: Vec<Option<Captures>>,
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
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
        if memo.set != set {
            *memo = Memo {
                set,
                ..Memo::default()
            };
        }
        key(&mut memo.key, rule, around, chunk, span);
        let n = regex.group_info().group_len(PatternID::ZERO);
        let at = base + span.0;
        let at = |g: &[u32; 2]| {
            (g[0] != UNSET).then(|| Span::new(at + g[0] as usize, at + g[1] as usize))
        };
        out.clear();
        if let Some(&off) = memo.entries.get(&memo.key[..]) {
            #[cfg(test)]
            REUSED.with(|r| r.set(r.get() + 1));
            out.extend(memo.groups[off as usize..off as usize + n].iter().map(at));
            return;
        }
        if memo.caps.len() <= rule {
            memo.caps.resize_with(rule + 1, || None);
        }
        let caps = memo.caps[rule].get_or_insert_with(|| regex.create_captures());
        let input = Input::new(chunk)
            .span(span.0..span.1)
            .anchored(Anchored::Yes);
        regex.search_captures(&input, caps);
        if memo.entries.len() >= MAX_ENTRIES {
            memo.entries.clear();
            memo.groups.clear();
        }
        let off = memo.groups.len();
        memo.groups.extend((0..n).map(|i| match caps.get_group(i) {
            Some(m) => [(m.start - span.0) as u32, (m.end - span.0) as u32],
            None => [UNSET; 2],
        }));
        memo.entries
            .insert(memo.key.clone().into_boxed_slice(), off as u32);
        out.extend(memo.groups[off..].iter().map(at));
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
