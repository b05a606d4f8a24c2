//! Name rules: persons, organisations and places that are in no gazetteer, found from the
//! shape of a capitalised run of words and its context. The word lists are data
//! (rules/entities.toml); what they do is described in docs/entities.md.
//!
//! The text is cut into tokens, and the tokens into *runs*: maximal sequences of
//! capitalised words joined by a space or a hyphen, with name particles inside
//! ("Abd-al-Jalil", "bin") and "of" inside organisation names ("Ministry of Defence").
//! Each run is then classified by its shape and by the words before and after it.

use std::borrow::Cow;

use serde::Deserialize;

use super::normalize::{ascii_word, ascii_word_end, chunk, fold};
use crate::error::{Error, Location, Result};
use crate::facts::{EntityType, SharedStr, Span};
use rustc_hash::{FxHashMap, FxHashSet};

/// The rule file compiled into the binary.
pub const BUILTIN: &str = include_str!("../../rules/entities.toml");

/// The rule file as written: a serde mirror, compiled by [`NameRules::parse`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    titles: Vec<String>,
    roles: Vec<String>,
    introductions: Vec<String>,
    reporting: Vec<String>,
    arabic_markers: Vec<String>,
    particles: Vec<String>,
    given_names: Vec<String>,
    openers: Vec<String>,
    common_words: Vec<String>,
    org_heads: Vec<String>,
    org_starts: Vec<String>,
    org_first: Vec<String>,
    place_starts: Vec<String>,
    place_heads: Vec<String>,
    place_after: Vec<String>,
    place_before: Vec<String>,
    #[serde(default)]
    example: Vec<Example>,
}

/// A worked example of the rule file: a text and the entities expected in it, each as
/// `TYPE text = canonical`, in text order.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub text: String,
    pub expect: Vec<String>,
}

/// The word sets of [`NameRules`], as bits of a token's memberships.
pub(crate) mod set {
    pub const TITLES: u32 = 1 << 0;
    pub const ROLE_WORDS: u32 = 1 << 1;
    pub const ARABIC_MARKERS: u32 = 1 << 2;
    pub const PARTICLES: u32 = 1 << 3;
    pub const GIVEN_NAMES: u32 = 1 << 4;
    pub const OPENERS: u32 = 1 << 5;
    pub const COMMON_WORDS: u32 = 1 << 6;
    pub const ORG_HEADS: u32 = 1 << 7;
    pub const ORG_STARTS: u32 = 1 << 8;
    pub const ORG_FIRST: u32 = 1 << 9;
    pub const PLACE_STARTS: u32 = 1 << 10;
    pub const PLACE_HEADS: u32 = 1 << 11;
    pub const PLACE_BEFORE: u32 = 1 << 12;
    /// The first words of the `place_after` phrases.
    pub const PLACE_AFTER_FIRST: u32 = 1 << 13;
    /// The memberships have been looked up.
    pub const KNOWN: u32 = 1 << 31;
}

/// The compiled name rules: word sets keyed by [`key`].
#[derive(Clone, Debug, Default)]
pub struct NameRules {
    titles: Words,
    roles: Phrases,
    introductions: Phrases,
    reporting: Phrases,
    /// One-word roles, for apposition: "X, a spokeswoman for".
    role_words: Words,
    arabic_markers: Words,
    particles: Words,
    given_names: Words,
    openers: Words,
    common_words: Words,
    org_heads: Words,
    org_starts: Words,
    org_first: Words,
    place_starts: Words,
    place_heads: Words,
    place_after: Vec<Vec<String>>,
    place_before: Words,
    /// Per word of any of the sets above, which sets hold it (bits as in [`set`]): a
    /// token's memberships are looked up once, at its first question, and kept in the
    /// token ([`NameRules::is`]); the rules ask up to a dozen of them per word of a name.
    member: FxHashMap<String, u32>,
    /// Per [`shape_slot`] of a key, the union of the memberships of the words in
    /// `member` with that slot ([`SHAPE_SLOTS`] of them; empty for rules not made by
    /// [`NameRules::parse`], which then look every key up).
    ///
    /// Why: a word is in a set only if its slot says so, and most words asked about are
    /// in none of the sets asked (the lowercase word after each capitalised run is asked
    /// whether it is a name particle), so one load from this 16 KB table settles most
    /// first questions where the hash probe missed the caches (callgrind on d2.jsonl:
    /// 142,000 lookups, 13.3 M instructions).
    shape: Vec<u32>,
    /// The file's examples, checked by a test.
    pub examples: Vec<Example>,
}

/// A set of words, as [`key`]s. Hashed with `rustc_hash` (FxHash, not SipHash): several
/// lookups a token, and the words come from our rule files, not from the documents, so
/// hash flooding is no concern.
#[derive(Clone, Debug, Default)]
struct Words(FxHashSet<String>);

impl Words {
    fn contains(&self, k: &str) -> bool {
        self.0.contains(k)
    }

    fn iter(&self) -> impl Iterator<Item = &String> {
        self.0.iter()
    }
}

impl FromIterator<String> for Words {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Words {
        Words(iter.into_iter().collect())
    }
}

/// Phrases of one or more words (as [`key`]s), with the set of their last words.
///
/// Why the set: [`NameRules::preceded_by`] is asked at every capitalised run, and most
/// runs follow no phrase at all; one lookup of the word before the run settles that,
/// where comparing it with every phrase cost some thousand instructions (callgrind).
#[derive(Clone, Debug, Default)]
struct Phrases {
    list: Vec<Vec<String>>,
    last: Words,
}

impl Phrases {
    fn new(list: Vec<Vec<String>>) -> Phrases {
        let last = list.iter().filter_map(|p| p.last().cloned()).collect();
        Phrases { list, last }
    }
}

/// [`key`] of a token of the text, borrowed from the text where it is the word itself (a
/// lowercase ASCII word, most of a text), so that most tokens cost no allocation.
fn token_key(word: &str) -> Cow<'_, str> {
    let b = word.as_bytes();
    if !b.is_ascii()
        || b.iter()
            .any(|c| matches!(c, b'-' | b'_' | b'`' | b' ' | b'\t'))
    {
        return Cow::Owned(key(word));
    }
    // As `key`: drop trailing dots, then lower the case and drop apostrophes.
    let trimmed = word.trim_end_matches('.');
    if !trimmed
        .bytes()
        .any(|c| c.is_ascii_uppercase() || c == b'\'')
    {
        return Cow::Borrowed(trimmed);
    }
    Cow::Owned(
        trimmed
            .bytes()
            .filter(|&c| c != b'\'')
            .map(|c| char::from(c.to_ascii_lowercase()))
            .collect(),
    )
}

/// The lookup form of a word: folded, lowercase, without a trailing dot or apostrophes.
pub fn key(word: &str) -> String {
    if word.is_ascii() && !word.contains(['-', '_', '`', ' ', '\t']) {
        // Most words of a text: the same result with one allocation.
        let mut k = word.trim_end_matches('.').to_ascii_lowercase();
        k.retain(|c| c != '\'');
        return k;
    }
    // The folded copy lowered, trimmed and cleaned in place where it is ASCII (a word with
    // diacritics folds to ASCII): one string, where lowering, trimming and replacing made
    // one each.
    let mut k = fold(word);
    if k.is_ascii() {
        k.make_ascii_lowercase();
    } else {
        k = k.to_lowercase();
    }
    k.truncate(k.trim_end_matches('.').len());
    if k.contains('\'') {
        k.retain(|c| c != '\'');
    }
    k
}

/// The name of the entity stage's rule file, in rules/ and in a user's `--rules` folder.
pub const RULES_FILE: &str = "entities.toml";

impl NameRules {
    /// The built-in rules.
    pub fn builtin() -> Result<NameRules> {
        NameRules::parse("<built-in>/entities.toml", BUILTIN)
    }

    /// The `entities.toml` of a user's rule folder, which replaces the built-in file; the
    /// built-in rules when there is no folder or it has no such file.
    pub fn from_dir(dir: Option<&std::path::Path>) -> Result<NameRules> {
        let Some(path) = dir.map(|d| d.join(RULES_FILE)).filter(|p| p.is_file()) else {
            return NameRules::builtin();
        };
        let content =
            std::fs::read_to_string(&path).map_err(|e| crate::error::Error::io(&path, e))?;
        NameRules::parse(&path.display().to_string(), &content)
    }

    /// Parses and checks a rule file. Errors name `file:line` and the list concerned.
    pub fn parse(name: &str, content: &str) -> Result<NameRules> {
        let file: RuleFile = toml::from_str(content).map_err(|e| {
            let line = e
                .span()
                .map(|s| content[..s.start].matches('\n').count() as u64 + 1)
                .unwrap_or(1);
            Error::data(Location::line(name, line), e.message().to_string())
        })?;
        let mut errors = Vec::new();
        let line_of = |w: &str| -> u64 {
            content
                .find(&format!("\"{w}\""))
                .map(|at| content[..at].matches('\n').count() as u64 + 1)
                .unwrap_or(1)
        };
        let mut words = |list: &str, ws: &[String]| -> Words {
            let mut out = Words::default();
            for w in ws {
                let k = key(w);
                if k.is_empty() || k.contains(' ') {
                    errors.push(Error::data(
                        Location::line(name, line_of(w)).with_id(list),
                        format!("{w:?} must be one word"),
                    ));
                    continue;
                }
                out.0.insert(k);
            }
            out
        };
        let titles = words("titles", &file.titles);
        let arabic_markers = words("arabic_markers", &file.arabic_markers);
        let particles = words("particles", &file.particles);
        let given_names = words("given_names", &file.given_names);
        let openers = words("openers", &file.openers);
        let common_words = words("common_words", &file.common_words);
        let org_heads = words("org_heads", &file.org_heads);
        let org_starts = words("org_starts", &file.org_starts);
        let org_first = words("org_first", &file.org_first);
        let place_starts = words("place_starts", &file.place_starts);
        let place_heads = words("place_heads", &file.place_heads);
        let place_before = words("place_before", &file.place_before);
        let phrases = |ws: &[String]| -> Vec<Vec<String>> {
            ws.iter()
                .map(|w| w.split_whitespace().map(key).collect::<Vec<_>>())
                .filter(|p| !p.is_empty())
                .collect()
        };
        let rules = NameRules {
            titles,
            roles: Phrases::new(phrases(&file.roles)),
            introductions: Phrases::new(phrases(&file.introductions)),
            reporting: Phrases::new(phrases(&file.reporting)),
            role_words: file
                .roles
                .iter()
                .filter(|r| !r.contains(' '))
                .map(|r| key(r))
                .collect(),
            arabic_markers,
            particles,
            given_names,
            openers,
            common_words,
            org_heads,
            org_starts,
            org_first,
            place_starts,
            place_heads,
            place_after: phrases(&file.place_after),
            place_before,
            member: FxHashMap::default(),
            shape: Vec::new(),
            examples: file.example,
        };
        let mut rules = rules;
        let mut member: FxHashMap<String, u32> = FxHashMap::default();
        for (bit, words) in [
            (set::TITLES, &rules.titles),
            (set::ROLE_WORDS, &rules.role_words),
            (set::ARABIC_MARKERS, &rules.arabic_markers),
            (set::PARTICLES, &rules.particles),
            (set::GIVEN_NAMES, &rules.given_names),
            (set::OPENERS, &rules.openers),
            (set::COMMON_WORDS, &rules.common_words),
            (set::ORG_HEADS, &rules.org_heads),
            (set::ORG_STARTS, &rules.org_starts),
            (set::ORG_FIRST, &rules.org_first),
            (set::PLACE_STARTS, &rules.place_starts),
            (set::PLACE_HEADS, &rules.place_heads),
            (set::PLACE_BEFORE, &rules.place_before),
        ] {
            for w in words.iter() {
                *member.entry(w.clone()).or_default() |= bit;
            }
        }
        for p in &rules.place_after {
            *member.entry(p[0].clone()).or_default() |= set::PLACE_AFTER_FIRST;
        }
        let mut shape = vec![0u32; SHAPE_SLOTS];
        for (w, &bits) in &member {
            shape[shape_slot(w)] |= bits;
        }
        rules.member = member;
        rules.shape = shape;
        if errors.is_empty() {
            Ok(rules)
        } else {
            Err(Error::many(errors))
        }
    }

    /// Words that are not one-word place names (see
    /// [`super::MatcherBuilder::not_names`]): common words, openers, given names, titles and
    /// name particles.
    pub fn not_names(&self) -> impl Iterator<Item = &str> {
        self.common_words
            .iter()
            .chain(self.openers.iter())
            .chain(self.given_names.iter())
            .chain(self.titles.iter())
            .chain(self.arabic_markers.iter())
            .chain(self.particles.iter())
            .map(String::as_str)
    }

    /// Whether token `t`'s key is in the set(s) `bits` (of [`set`]).
    ///
    /// Inlined, with the lookup out of line: most questions are answered from the token
    /// (asked before), and as one function with the hash probe each paid for the probe's
    /// registers being saved and restored (callgrind: a third of its 17.6 M instructions
    /// per 2 MB in the entry and exit alone).
    #[inline(always)]
    pub(crate) fn is(&self, t: &Tok, bits: u32) -> bool {
        let mut m = t.sets.get();
        if m & set::KNOWN == 0 {
            let may = self
                .shape
                .get(shape_slot(t.key_str()))
                .copied()
                .unwrap_or(u32::MAX);
            if may == 0 {
                // In no set: known without the lookup.
                t.sets.set(set::KNOWN);
                return false;
            }
            if may & bits == 0 {
                return false;
            }
            m = self.look_up(t);
        }
        m & bits != 0
    }

    /// The memberships of token `t`, looked up and kept in it (see [`NameRules::is`]).
    #[inline(never)]
    fn look_up(&self, t: &Tok) -> u32 {
        let m = set::KNOWN | self.member.get(t.key_str()).copied().unwrap_or(0);
        t.sets.set(m);
        m
    }
}

/// The number of slots of [`NameRules`]' shape table (a power of two).
const SHAPE_SLOTS: usize = 4096;

/// The slot of key `k` in [`NameRules`]' shape table: a hash of its length and its first,
/// middle and last bytes (no loop over the key; equal keys get equal slots, which is all
/// the table needs to be exact).
#[inline(always)]
fn shape_slot(k: &str) -> usize {
    let b = k.as_bytes();
    let Some(&last) = b.last() else {
        return 0;
    };
    let x = u64::from(b[0])
        | u64::from(b[b.len() / 2]) << 8
        | u64::from(last) << 16
        | (b.len() as u64) << 24;
    (x.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52) as usize & (SHAPE_SLOTS - 1)
}

/// A word of the text.
#[derive(Clone, Debug)]
pub(crate) struct Tok<'t> {
    /// Byte span in the original text.
    pub s: usize,
    pub e: usize,
    /// [`key`] of the word.
    pub key: Cow<'t, str>,
    /// Begins with a capital letter.
    pub cap: bool,
    /// Two or more letters, none lowercase ("IS", "BAGHDAD", "U.S.").
    pub caps: bool,
    /// The word sets that hold the key, once asked: see [`NameRules::is`].
    pub sets: std::cell::Cell<u32>,
}

impl Tok<'_> {
    pub fn key_str(&self) -> &str {
        &self.key
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02bc}')
}

fn in_word(c: char) -> bool {
    if c.is_ascii() {
        // No ASCII character is a combining mark: spare the table lookup.
        return c.is_ascii_alphanumeric();
    }
    c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c)
}

/// Cuts `text` into words: runs of letters and digits, with an apostrophe inside
/// ("O'Brien", "Ba'ath") but not a possessive ("Iraq's" is "Iraq"), and dotted
/// abbreviations ("U.S.") as one word. `lower` is `text` with its ASCII letters in lower
/// case (`str::to_ascii_lowercase`, the same offsets): an ASCII word's key is borrowed from
/// it, where a capitalised word (a quarter of a text's words) allocated its own.
pub(crate) fn tokenize<'t>(text: &'t str, lower: &'t str) -> Vec<Tok<'t>> {
    debug_assert_eq!(text.len(), lower.len());
    // Walks byte offsets, decoding a character only where the byte is not ASCII: no copy of
    // the text as characters, no allocation per token (see `token_key`). The ASCII letters
    // and digits that make most of a text are read in tight loops over the bytes, and an
    // ASCII word's key and shape come from one more pass over it: callgrind counted some
    // 100 instructions a byte in the character-by-character version.
    let bytes = text.as_bytes();
    let len = bytes.len();
    // The character at byte `p`, a space past the end.
    let ch = |p: usize| -> char {
        match bytes.get(p) {
            None => ' ',
            Some(&b) if b.is_ascii() => char::from(b),
            Some(_) => text[p..].chars().next().expect("a char boundary"),
        }
    };
    // The byte after the character at `p`.
    let next = |p: usize| p + ch(p).len_utf8();
    let mut out = Vec::with_capacity(len / 5);
    let mut i = 0;
    while i < len {
        let b = bytes[i];
        if b.is_ascii() && !ascii_word(b) {
            // Gaps between words, a byte at a time: most are one or two bytes (a space, a
            // comma and a space), where reading eight at a time cost more (callgrind).
            i += 1;
            while i < len && bytes[i].is_ascii() && !ascii_word(bytes[i]) {
                i += 1;
            }
            continue;
        }
        if b.is_ascii_lowercase() {
            // Most words: a lowercase word is neither capitalised nor in capitals, so only
            // its end is needed, not its shape (the masks of letters and lowercase letters
            // of `ascii_word_at` were a fifth of the tokenizer's instructions). Ended by an
            // ASCII byte other than an apostrophe, or by the text's end, it is the word
            // that the general loop finds there (see `ascii_word_at`).
            let j = ascii_word_end(bytes, i);
            if bytes.get(j).map_or(true, |&a| a.is_ascii() && a != b'\'') {
                out.push(Tok {
                    s: i,
                    e: j,
                    key: Cow::Borrowed(&lower[i..j]),
                    cap: false,
                    caps: false,
                    sets: std::cell::Cell::new(0),
                });
                i = j;
                continue;
            }
        }
        if ascii_word(b) && !(b.is_ascii_uppercase() && bytes.get(i + 1) == Some(&b'.')) {
            if let Some(word) = ascii_word_at(bytes, i) {
                let j = word.end;
                out.push(Tok {
                    s: i,
                    e: j,
                    key: Cow::Borrowed(&lower[i..j]),
                    cap: b.is_ascii_uppercase(),
                    caps: word.two_letters && !word.lower,
                    sets: std::cell::Cell::new(0),
                });
                i = j;
                continue;
            }
        }
        let c = ch(i);
        let i1 = i + c.len_utf8();
        if !c.is_alphanumeric() {
            i = i1;
            continue;
        }
        let start = i;
        let mut j = i;
        if c.is_uppercase() && ch(i1) == '.' && ch(i1 + 1).is_uppercase() && ch(next(i1 + 1)) == '.'
        {
            while ch(j).is_uppercase() && ch(next(j)) == '.' {
                j = next(j) + 1;
            }
        } else {
            loop {
                while j < len && ascii_word(bytes[j]) {
                    j += 1;
                }
                if j >= len {
                    break;
                }
                let cj = ch(j);
                if !cj.is_ascii() && in_word(cj) {
                    j += cj.len_utf8();
                    continue;
                }
                if is_apostrophe(cj) {
                    let j1 = j + cj.len_utf8();
                    if j1 < len && ch(j1).is_alphanumeric() {
                        let possessive = matches!(ch(j1), 's' | 'S') && !in_word(ch(j1 + 1));
                        if !possessive {
                            j = j1;
                            continue;
                        }
                    }
                }
                break;
            }
        }
        let word = &text[start..j];
        let (mut letters, mut lower) = (0, false);
        let key = if word.is_ascii() {
            // As `token_key` of an ASCII word, which holds no hyphen, underscore, backquote
            // or space: borrowed unless it has capitals or apostrophes.
            let mut plain = true;
            for &b in word.as_bytes() {
                if b.is_ascii_alphabetic() {
                    letters += 1;
                    lower |= b.is_ascii_lowercase();
                    plain &= b.is_ascii_lowercase();
                } else {
                    plain &= b != b'\'';
                }
            }
            let trimmed = word.trim_end_matches('.');
            if plain {
                Cow::Borrowed(trimmed)
            } else {
                Cow::Owned(
                    trimmed
                        .bytes()
                        .filter(|&c| c != b'\'')
                        .map(|c| char::from(c.to_ascii_lowercase()))
                        .collect(),
                )
            }
        } else {
            for c in word.chars().filter(|c| c.is_alphabetic()) {
                letters += 1;
                lower |= c.is_lowercase();
            }
            token_key(word)
        };
        out.push(Tok {
            s: start,
            e: j,
            key,
            cap: c.is_uppercase(),
            caps: letters >= 2 && !lower,
            sets: std::cell::Cell::new(0),
        });
        // Skip a possessive's "s" ("Iraq’s"): it is no word of its own.
        let possessive = j < len && {
            let cj = ch(j);
            let j1 = j + cj.len_utf8();
            is_apostrophe(cj) && matches!(ch(j1), 's' | 'S') && !in_word(ch(j1 + 1))
        };
        i = if possessive { next(j) + 1 } else { j.max(i1) };
    }
    out
}

/// An ASCII word found by [`ascii_word_at`]: where it ends, and its shape.
struct AsciiWord {
    end: usize,
    /// Two letters or more.
    two_letters: bool,
    lower: bool,
}

/// The word of ASCII letters and digits at `start`, if it ends (before the last eight
/// bytes of the text) at an ASCII byte that is not an apostrophe: then it is the word that
/// `tokenize`'s general loop finds there, with no trailing dot, no apostrophe and no
/// possessive after it. `None` sends the word to the general loop.
#[inline(always)]
fn ascii_word_at(bytes: &[u8], start: usize) -> Option<AsciiWord> {
    let mut j = start;
    let (mut one_letter, mut two_letters, mut lower) = (false, false, 0);
    loop {
        let c = chunk(bytes, j)?;
        let rest = !c.word & 0x8080_8080_8080_8080;
        // The lanes of the word in this chunk (all eight if it goes on).
        let (n, keep) = if rest == 0 {
            (8, u64::MAX)
        } else {
            let tz = rest.trailing_zeros();
            (tz as usize / 8, (1u64 << tz) - 1)
        };
        // Whether there are two letters, not how many: without POPCNT in the target's
        // baseline, `count_ones` is a dozen instructions (perf: a sixth of `analyse`).
        let letters = c.letter & keep;
        two_letters |= letters & letters.wrapping_sub(1) != 0 || (one_letter && letters != 0);
        one_letter |= letters != 0;
        lower |= c.lower & keep;
        j += n;
        if n < 8 {
            break;
        }
    }
    // The byte after the word: it is in the chunk read last.
    let after = bytes[j];
    if !after.is_ascii() || after == b'\'' {
        return None;
    }
    Some(AsciiWord {
        end: j,
        two_letters,
        lower: lower != 0,
    })
}

/// A name the rules found.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub span: Span,
    pub etype: EntityType,
    /// Which rule: `person-title`, `org-head`, ...
    pub rule: &'static str,
    /// For the second half of a split name ("Jassim al-Mazrouei Abu Abdel Qader"), the
    /// index in the output of the name it is another name of.
    pub alias_of: Option<usize>,
    /// A physical feature (mountains, desert, wadi), for the entity's kind.
    pub feature: bool,
}

/// The `rule` of an entity found by name rule `rule` (`name:person-title`): a constant for
/// the rules of this file, so that no entity formats its own copy.
pub(crate) fn rule_name(rule: &'static str) -> SharedStr {
    const NAMES: &[(&str, &str)] = &[
        ("org-shape", "name:org-shape"),
        ("org-acronym", "name:org-acronym"),
        ("place-head", "name:place-head"),
        ("place-start", "name:place-start"),
        ("place-after", "name:place-after"),
        ("place-before", "name:place-before"),
        ("person-arabic", "name:person-arabic"),
        ("person-title", "name:person-title"),
        ("person-intro", "name:person-intro"),
        ("person-byline", "name:person-byline"),
        ("person-given-name", "name:person-given-name"),
        ("person-context", "name:person-context"),
    ];
    match NAMES.iter().find(|(r, _)| *r == rule) {
        Some((_, name)) => SharedStr::from(*name),
        None => SharedStr::from(format!("name:{rule}")),
    }
}

/// What the rules need to know of the gazetteer hits: which spans are taken, and by what.
pub(crate) trait Known {
    /// The type and kind of a gazetteer hit covering exactly `span`, if any.
    fn exact(&self, span: Span) -> Option<(EntityType, &str)>;

    /// Whether `pred` holds for the type and kind of a gazetteer hit inside `span` (a
    /// question, not a list: asked for most capitalised runs, it allocated a list each time).
    fn any_inside(&self, span: Span, pred: &mut dyn FnMut(EntityType, &str) -> bool) -> bool;
}

/// The text's words and runs, shared by the rules and by coreference.
pub(crate) struct Analysis<'t> {
    pub text: &'t str,
    pub toks: Vec<Tok<'t>>,
    /// Runs as inclusive token ranges, after dropping openers.
    pub runs: Vec<(usize, usize)>,
    /// Per token: whether its line is a headline in Title Case.
    pub headline: Vec<bool>,
}

impl NameRules {
    /// Whether the text between two words lets them be one name: a space or a hyphen.
    fn joined(gap: &str) -> bool {
        matches!(gap, " " | "-" | "\u{a0}" | "\u{2010}" | "\u{2011}")
    }

    /// Whether the possessive after token `j` is inside an organisation's name: a common
    /// noun's ("People's", "Women's", "Children's"), followed by capitalised words that end
    /// in an organisation head: "the Sudan People's Liberation Army", "the Women's
    /// Protection Units". A name's possessive ("Iraq's Defence Ministry") ends the run.
    fn possessive_in_org(&self, text: &str, toks: &[Tok], j: usize) -> bool {
        let k = j + 1;
        if !matches!(
            &text[toks[j].e..toks[k].s],
            "'s " | "\u{2019}s " | "' " | "\u{2019} "
        ) || !toks[j].cap
            || !toks[k].cap
            || !self.is(&toks[j], set::COMMON_WORDS)
        {
            return false;
        }
        // The capitalised words after it, up to four.
        let mut m = k;
        while m + 1 < toks.len()
            && m - k < 3
            && toks[m + 1].cap
            && Self::joined(&text[toks[m].e..toks[m + 1].s])
        {
            m += 1;
        }
        self.is(&toks[m], set::ORG_HEADS)
    }

    /// Tokens, runs and headline lines of `text`; `lower` is `text.to_ascii_lowercase()`
    /// (see [`tokenize`]).
    pub(crate) fn analyse<'t>(&self, text: &'t str, lower: &'t str) -> Analysis<'t> {
        let toks = tokenize(text, lower);
        let gap = |a: usize, b: usize| &text[toks[a].e..toks[b].s];
        let n = toks.len();
        // Room for a run every four tokens (about one in eight starts one), so that the
        // list is not grown and copied as it fills.
        let mut runs = Vec::with_capacity(n / 4);
        let mut i = 0;
        while i < n {
            // A run may open with a particle only if it is the Arabic article or hyphened
            // to the name ("al-Sudani", "al Sudani", "as-Sahab"), not "as" or "de" before
            // a capitalised word.
            // (The cheap tests before the word-set lookup: most words are followed by a
            // lowercase word.)
            let starts = toks[i].cap
                || (i + 1 < n
                    && toks[i + 1].cap
                    && self.is(&toks[i], set::PARTICLES)
                    && Self::joined(gap(i, i + 1))
                    && (gap(i, i + 1) != " " || matches!(toks[i].key_str(), "al" | "el")));
            if !starts {
                i += 1;
                continue;
            }
            let mut j = i;
            let org_word = |t: &Tok| self.is(t, set::ORG_STARTS | set::ORG_HEADS);
            let mut orgish = org_word(&toks[i]);
            loop {
                let k = j + 1;
                if k >= n {
                    break;
                }
                if !Self::joined(gap(j, k)) {
                    if self.possessive_in_org(text, &toks, j) {
                        j = k;
                        orgish = true;
                        continue;
                    }
                    break;
                }
                if toks[k].cap {
                    j = k;
                    orgish |= org_word(&toks[k]);
                    continue;
                }
                // A particle inside a name, or "of (the)" inside an organisation's name.
                let mut m = k;
                if self.is(&toks[k], set::PARTICLES) {
                    while m < n && self.is(&toks[m], set::PARTICLES) && !toks[m].cap {
                        if m + 1 >= n || !Self::joined(gap(m, m + 1)) {
                            break;
                        }
                        m += 1;
                    }
                } else if orgish && matches!(toks[k].key_str(), "of" | "for") {
                    m = k + 1;
                    if m < n && toks[m].key == "the" && Self::joined(gap(k, m)) {
                        m += 1;
                    }
                    if m >= n || !Self::joined(gap(m - 1, m)) {
                        break;
                    }
                } else {
                    break;
                }
                if m < n && m > k && toks[m].cap {
                    j = m;
                    continue;
                }
                break;
            }
            // Drop sentence openers ("The", "By", "Despite") from the front.
            let mut a = i;
            while a <= j && toks[a].cap && self.is(&toks[a], set::OPENERS) {
                a += 1;
            }
            if a <= j {
                runs.push((a, j));
            }
            i = j + 1;
        }
        let mut headline = vec![false; n];
        let mut line_start = 0;
        while line_start < n {
            let line_end_byte = text[toks[line_start].s..]
                .find('\n')
                .map_or(text.len(), |p| toks[line_start].s + p);
            // The line's tokens, found by a binary search: a line holds some 25 of them, and
            // stepping through each cost more than the rest of this loop (callgrind).
            let end = line_start + toks[line_start..].partition_point(|t| t.s < line_end_byte);
            // A sentence ends with a full stop; a headline does not ("He met Karim Haddad
            // on Monday." has as many capitals as a headline). Most lines are sentences:
            // their words need no counting.
            let line = text[toks[line_start].s..line_end_byte].trim_end();
            let sentence = line.ends_with(['.', '!', '?', '"', '\u{201d}', ':', ';']);
            let is_headline = !sentence && {
                let (mut content, mut caps) = (0, 0);
                for t in &toks[line_start..end] {
                    if t.key.chars().next().is_some_and(char::is_alphabetic) && !small_word(&t.key)
                    {
                        content += 1;
                        caps += usize::from(t.cap);
                    }
                }
                content >= 3
                    && caps * 5 >= content * 4
                    && !dateline_line(line)
                    && !outlet_line(line)
            };
            if is_headline {
                headline[line_start..end].fill(true);
            }
            line_start = end.max(line_start + 1);
        }
        Analysis {
            text,
            toks,
            runs,
            headline,
        }
    }

    /// The names the rules find in `an`, in text order. `known` says which spans the
    /// gazetteers already cover.
    pub(crate) fn find(&self, an: &Analysis, known: &dyn Known) -> Vec<Found> {
        let mut out: Vec<Found> = Vec::new();
        for &(a, b) in &an.runs {
            self.classify(an, known, a, b, &mut out);
        }
        out
    }

    fn span(an: &Analysis, a: usize, b: usize) -> Span {
        Span::new(an.toks[a].s, an.toks[b].e)
    }

    /// "by Jane Doe, Staff Writer" at the start of a line: the author.
    fn byline(&self, an: &Analysis, a: usize, b: usize) -> Option<Found> {
        let t = &an.toks;
        let after = &an.text[t[b].e..];
        // Before "by": nothing on the line, or a credit ("Editing by", "; Additional
        // reporting by").
        let credit = |before: &str| {
            let last = before.trim().rsplit([' ', ';']).next().unwrap_or("");
            before.trim().is_empty()
                || matches!(
                    last.to_lowercase().as_str(),
                    "editing" | "reporting" | "writing" | "compiled" | "photos" | "graphics"
                )
        };
        let ok = a > 0
            && t[a - 1].key == "by"
            && an.text[..t[a - 1].s]
                .rsplit('\n')
                .next()
                .is_some_and(credit)
            && (after.starts_with([',', ';', '\n']) || after.trim().is_empty())
            && (2..=4).contains(&(a..=b).filter(|&i| t[i].cap).count())
            && (a..=b).all(|i| {
                (t[i].cap && !t[i].caps && !self.is(&t[i], set::COMMON_WORDS))
                    || (!t[i].cap && self.is(&t[i], set::PARTICLES))
            });
        ok.then(|| Found {
            span: Self::span(an, a, b),
            etype: EntityType::Person,
            rule: "person-byline",
            alias_of: None,
            feature: false,
        })
    }

    /// The last word of an organisation's name that goes on with "in" and a place, when
    /// the acronym in brackets after the place stands for the whole name, the place
    /// included: "the EU Mission in Georgia (EUMM)", "Al-Qaeda in the Islamic Maghreb
    /// (AQIM)". Without such an acronym "in" ends the name ("the Defence Forces in Juba").
    fn org_in_place(an: &Analysis, a: usize, b: usize) -> Option<usize> {
        let t = &an.toks;
        let gap = |x: usize, y: usize| &an.text[t[x].e..t[y].s];
        let k = b + 1;
        if k + 1 >= t.len() || t[k].key != "in" || gap(b, k) != " " || gap(k, k + 1) != " " {
            return None;
        }
        let mut m = k + 1;
        if t[m].key == "the" && m + 1 < t.len() && gap(m, m + 1) == " " {
            m += 1;
        }
        if !t[m].cap {
            return None;
        }
        let mut e = m;
        while e + 1 < t.len() && e - m < 3 && t[e + 1].cap && Self::joined(gap(e, e + 1)) {
            e += 1;
        }
        let inner = an.text[t[e].e..].strip_prefix(" (")?;
        let word = inner.split(')').next().unwrap_or("");
        let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
        let last = fold(&letters.last()?.to_string()).to_lowercase();
        let place_initial = (m..=e).any(|i| t[i].key.starts_with(last.as_str()));
        (inner.len() > word.len()
            && letters.len() >= 2
            && letters.iter().all(|c| c.is_uppercase())
            && place_initial
            && super::coref::abbreviates(word, &an.text[t[a].s..t[e].e]))
        .then_some(e)
    }

    /// The last word of a person's name that ends at token `b`, or at a short lower-case
    /// part hyphened to it, as in Malay and Thai names ("Abdulloh Sama-ae", "Rosli
    /// Deng-ae"); not an English compound's ("Ahmed-led", "Ali-era"), nor a Persian
    /// ezafe ("Ali Abad-e Katul", "Dasht-e Kavir").
    fn name_tail(an: &Analysis, b: usize) -> usize {
        let t = &an.toks;
        let k = b + 1;
        let hyphened = |x: usize, y: usize| matches!(&an.text[t[x].e..t[y].s], "-" | "\u{2010}");
        if k < t.len()
            && hyphened(b, k)
            && !t[k].cap
            && (2..=3).contains(&t[k].key.len())
            && t[k].key.bytes().all(|c| c.is_ascii_lowercase())
            && !matches!(
                t[k].key_str(),
                "led" | "run" | "era" | "old" | "age" | "day" | "set" | "way" | "ye" | "yi"
            )
            && !(k + 1 < t.len() && hyphened(k, k + 1))
        {
            k
        } else {
            b
        }
    }

    /// Whether a role follows the name: "X, a spokeswoman for", "X, president of".
    fn role_after(&self, an: &Analysis, b: usize) -> bool {
        let t = &an.toks;
        if b + 1 >= t.len() || !an.text[t[b].e..t[b + 1].s].starts_with(", ") {
            return false;
        }
        let mut i = b + 1;
        let mut seen = 0;
        while i < t.len() && seen < 4 {
            if i > b + 1 && an.text[t[i - 1].e..t[i].s].trim() != "" {
                return false;
            }
            if !t[i].cap && self.is(&t[i], set::ROLE_WORDS) {
                return true;
            }
            if t[i].cap && !self.is(&t[i], set::TITLES) {
                return false;
            }
            i += 1;
            seen += 1;
        }
        false
    }

    /// Whether a role introduces the name as an apposition: "The governor of Borno state,
    /// X, visited", "its commander, X, said", or at the end of the sentence: "said the
    /// town's mayor, X." The role word may stand up to [`ROLE_REACH`] words before the
    /// name, with no punctuation between: "the head of the agency's office in Goma, X,".
    fn role_before(&self, an: &Analysis, a: usize, b: usize) -> bool {
        let t = &an.toks;
        if a == 0 || an.text[t[a - 1].e..t[a].s] != *", " {
            return false;
        }
        let after = &an.text[t[b].e..];
        let closes = after.starts_with(',')
            || (after.starts_with(['.', ';'])
                && after[1..]
                    .chars()
                    .next()
                    .map_or(true, |c| c.is_whitespace() || matches!(c, '"' | '\u{201d}')));
        if !closes {
            return false;
        }
        (a.saturating_sub(ROLE_REACH)..a).rev().any(|i| {
            let between_ok =
                (i..a - 1).all(|j| !an.text[t[j].e..t[j + 1].s].contains(['.', ',', ';', '\n']));
            between_ok && !t[i].cap && self.is(&t[i], set::ROLE_WORDS)
        })
    }

    /// Whether another name of the person follows: "X, known as Abu Y", "X alias Y".
    fn alias_after(an: &Analysis, b: usize) -> bool {
        let t = &an.toks;
        let words: Vec<&str> = t[b + 1..].iter().take(4).map(|x| x.key_str()).collect();
        let cap_after = |n: usize| t.get(b + 1 + n).is_some_and(|x| x.cap);
        match words.as_slice() {
            ["also", "known", "as", ..] => cap_after(3),
            ["known", "as", ..] => cap_after(2),
            ["alias", ..] | ["aka", ..] => cap_after(1),
            _ => false,
        }
    }

    /// Whether the words ending just before token `a` are one of `phrases`.
    fn preceded_by(an: &Analysis, a: usize, phrases: &Phrases) -> bool {
        if a == 0 || !phrases.last.contains(&an.toks[a - 1].key) {
            return false;
        }
        phrases.list.iter().any(|p| {
            if p.len() > a {
                return false;
            }
            let first = a - p.len();
            p.iter()
                .enumerate()
                .all(|(i, w)| an.toks[first + i].key == *w)
                && (first..a).all(|t| {
                    let next = if t + 1 < an.toks.len() {
                        an.toks[t + 1].s
                    } else {
                        an.text.len()
                    };
                    let gap = &an.text[an.toks[t].e..next];
                    gap.chars().all(|c| c == ' ' || c == '.' || c == ',')
                        && gap.chars().filter(|c| *c == '.' || *c == ',').count() <= 1
                })
        })
    }

    fn classify(&self, an: &Analysis, known: &dyn Known, a: usize, b: usize, out: &mut Vec<Found>) {
        let t = &an.toks;
        if (a..=b).all(|i| t[i].caps) {
            return;
        }
        let covered = known.exact(Self::span(an, a, b));
        if covered.is_some() {
            return;
        }
        let len = b - a + 1;
        // In a headline every word is capitalised: only a byline tells a name there.
        let headline = an.headline[a];
        let push = |out: &mut Vec<Found>, a: usize, b: usize, etype, rule, feature| {
            out.push(Found {
                span: Self::span(an, a, b),
                etype,
                rule,
                alias_of: None,
                feature,
            })
        };
        // Organisations.
        let has_of = (a..=b).any(|i| matches!(t[i].key_str(), "of" | "for"));
        // "Islamic State West Africa Province" is an organisation's branch, not a place.
        let has_org = known.any_inside(Self::span(an, a, b), &mut |ty, _| ty == EntityType::Org);
        if !headline
            && len >= 2
            && (self.is(&t[b], set::ORG_HEADS)
                || (has_of && self.is(&t[a], set::ORG_STARTS))
                || (has_of && self.is(&t[a + 1], set::ORG_STARTS))
                || (has_of && self.is(&t[a + 1], set::ORG_HEADS))
                || self.is(&t[a], set::ORG_FIRST)
                || (has_org && self.is(&t[b], set::PLACE_HEADS)))
            && (!self.is(&t[b], set::PLACE_HEADS) || has_org)
        {
            // "6th Infantry Division", "3rd Brigade": an ordinal before a unit's name is
            // part of it.
            let ordinal = a > 0
                && self.is(&t[b], set::ORG_HEADS)
                && an.text[t[a - 1].e..t[a].s] == *" "
                && is_ordinal(t[a - 1].key_str());
            push(
                out,
                a - usize::from(ordinal),
                Self::org_in_place(an, a, b).unwrap_or(b),
                EntityType::Org,
                "org-shape",
                false,
            );
            return;
        }
        if has_of {
            return;
        }
        if headline {
            if let Some(f) = self.byline(an, a, b) {
                out.push(f);
            }
            return;
        }
        // "National Unity Government (NUG)": a name of two or more words followed by its
        // own acronym in capitals is an organisation's (plurals such as "IDPs" are not).
        if len >= 2 {
            let after = &an.text[t[b].e..];
            if let Some(inner) = after.strip_prefix(" (") {
                let word = inner.split(')').next().unwrap_or("");
                let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
                let name = &an.text[t[a].s..t[b].e];
                if inner.len() > word.len()
                    && letters.len() >= 2
                    && letters.iter().all(|c| c.is_uppercase())
                    && super::coref::abbreviates(word, name)
                {
                    push(out, a, b, EntityType::Org, "org-acronym", false);
                    return;
                }
            }
        }
        // Places.
        let region_or_country = |a: usize, b: usize| {
            matches!(
                known.exact(Self::span(an, a, b)),
                Some((EntityType::Place, "country" | "region"))
            )
        };
        if len >= 2 && self.is(&t[b], set::PLACE_HEADS) {
            if !region_or_country(a, b - 1) {
                push(out, a, b, EntityType::Place, "place-head", true);
            }
            return;
        }
        if len >= 2 && self.is(&t[a], set::PLACE_STARTS) {
            push(out, a, b, EntityType::Place, "place-start", true);
            return;
        }
        let plain = (a..=b).all(|i| {
            !self.is(&t[i], set::COMMON_WORDS) && !self.is(&t[i], set::TITLES) && !t[i].caps
        });
        // Most runs are followed by the first word of no `place_after` phrase: the word's
        // memberships settle that, where comparing it with each phrase's words cost some
        // 800 instructions a run (callgrind).
        if plain && len <= 3 && b + 1 < t.len() && self.is(&t[b + 1], set::PLACE_AFTER_FIRST) {
            let after = self.place_after.iter().any(|p| {
                b + p.len() < t.len()
                    && p.iter()
                        .enumerate()
                        .all(|(i, w)| t[b + 1 + i].key == *w && !t[b + 1 + i].cap)
                    && an.text[t[b].e..t[b + 1].s] == *" "
            });
            if after {
                push(out, a, b, EntityType::Place, "place-after", false);
                return;
            }
        }
        if plain
            && len <= 3
            && a >= 2
            && t[a - 1].key == "of"
            && !t[a - 1].cap
            && self.is(&t[a - 2], set::PLACE_BEFORE)
            && !t[a - 2].cap
        {
            push(out, a, b, EntityType::Place, "place-before", false);
            return;
        }
        // Persons.
        let mut s = a;
        // "Kenyan Interior Minister X", "Bangsamoro Chief Minister X": a nationality, place
        // or organisation the gazetteers know, then a title, then a name of two words or
        // more (not "Kenyan State House").
        let known_head = if len >= 4 && !self.is(&t[a], set::TITLES) {
            (a..(a + 3).min(b - 2)).find(|&k| {
                self.is(&t[k + 1], set::TITLES) && known.exact(Self::span(an, a, k)).is_some()
            })
        } else {
            None
        };
        if let Some(k) = known_head {
            s = k + 1;
        }
        let after_known = known_head.is_some();
        while s <= b && self.is(&t[s], set::TITLES) {
            s += 1;
        }
        if s > b {
            return;
        }
        // The words of the name proper (not lowercase particles), counted, not listed.
        let (mut names, mut not_name) = (0, false);
        for tok in &t[s..=b] {
            if !self.is(tok, set::PARTICLES) || tok.cap {
                names += 1;
                not_name = not_name || tok.caps || self.is(tok, set::COMMON_WORDS);
            }
        }
        if names > 6 || not_name || self.is(&t[s], set::OPENERS) || after_known && names < 2 {
            return;
        }
        let title_inside = s > a;
        let gap_before = if a > 0 {
            &an.text[t[a - 1].e..t[a].s]
        } else {
            ""
        };
        let prev_title = a > 0
            && (gap_before == " " || (gap_before == ". " && t[a - 1].key.len() <= 5))
            && (self.is(&t[a - 1], set::TITLES)
                || (!t[a - 1].cap && Self::preceded_by(an, a, &self.roles)));
        let intro = Self::preceded_by(an, a, &self.introductions);
        let arabic = names >= 2
            && (s..=b).any(|i| {
                self.is(&t[i], set::ARABIC_MARKERS)
                    || (i > s && !t[i].cap && matches!(t[i].key_str(), "al" | "el"))
            });
        let given = (2..=4).contains(&names) && self.is(&t[s], set::GIVEN_NAMES);
        let byline = self.byline(an, a, b).is_some();
        // Context that tells a person's name of two to four words which holds no country,
        // region, organisation or group: "said X", "according to X", "X, a spokesman
        // for", "the governor of Borno state, X,", "X, known as Abu Y".
        let shape = (2..=4).contains(&names)
            && !known.any_inside(Self::span(an, s, b), &mut |ty, kind| {
                ty != EntityType::Place || matches!(kind, "country" | "region")
            });
        let context = shape
            && (Self::preceded_by(an, a, &self.reporting)
                || self.role_after(an, b)
                || self.role_before(an, a, b)
                || Self::alias_after(an, b));
        let rule = if arabic {
            "person-arabic"
        } else if title_inside || prev_title {
            "person-title"
        } else if intro {
            "person-intro"
        } else if byline {
            "person-byline"
        } else if given {
            "person-given-name"
        } else if context {
            "person-context"
        } else {
            return;
        };
        // A gazetteer country, region, organisation or group is not a person's name.
        if let Some((ty, kind)) = known.exact(Self::span(an, s, b)) {
            if ty != EntityType::Place || matches!(kind, "country" | "region") {
                return;
            }
        }
        // "Jassim al-Mazrouei Abu Abdel Qader": a kunya after the family name is a second
        // name of the same person.
        let kunya = (s + 1..=b).find(|&k| {
            matches!(t[k].key_str(), "abu" | "umm")
                && k < b
                && (s..k).any(|i| !t[i].cap && matches!(t[i].key_str(), "al" | "el"))
        });
        match kunya {
            Some(k) => {
                let first = out.len();
                push(out, s, k - 1, EntityType::Person, rule, false);
                push(out, k, b, EntityType::Person, rule, false);
                out.last_mut().expect("pushed").alias_of = Some(first);
            }
            None => push(
                out,
                s,
                Self::name_tail(an, b),
                EntityType::Person,
                rule,
                false,
            ),
        }
    }
}

/// How many words before an apposition ", X," its role word may stand (see
/// [`NameRules::role_before`]): a role and the organisation and place it belongs to ("the
/// head of the United Nations office in Goma") run to a dozen words.
const ROLE_REACH: usize = 14;

/// Whether a word is an ordinal written in digits: "6th", "3rd", "21st".
fn is_ordinal(k: &str) -> bool {
    let digits = k.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(&k[digits..], "st" | "nd" | "rd" | "th")
}

/// Whether a line begins with a dateline: words in capitals, then a comma ("ADDIS ABABA,
/// Ethiopia (Horn Wire) — Published: ..."). Such a line is no headline even without a
/// sentence after the dash.
fn dateline_line(line: &str) -> bool {
    let Some((head, _)) = line.split_once(',') else {
        return false;
    };
    let mut letters = head.chars().filter(|c| c.is_alphabetic()).peekable();
    letters.peek().is_some() && letters.clone().count() >= 3 && letters.all(char::is_uppercase)
}

/// Whether a line is an outlet's name and a date: up to four words, a dash, then a date
/// with a year ("Harbour Courier — 4 June 2025", "Lakeside Wire - Published 2025-06-04"). Its
/// capitals are a name's, not a headline's.
fn outlet_line(line: &str) -> bool {
    let Some((head, tail)) = [" \u{2014} ", " \u{2013} ", " - "]
        .iter()
        .find_map(|dash| line.split_once(dash))
    else {
        return false;
    };
    let words = head.split_whitespace().count();
    (1..=4).contains(&words)
        && !head.contains(|c: char| c.is_ascii_digit())
        && tail.split_whitespace().count() <= 5
        && tail
            .split(|c: char| !c.is_ascii_digit())
            .any(|d| d.len() == 4 && (d.starts_with("19") || d.starts_with("20")))
}

/// Words that do not count when deciding whether a line is in Title Case. (A `match`: the
/// compiler sorts it by length, where a list would be compared word by word.)
fn small_word(k: &str) -> bool {
    matches!(
        k,
        "a" | "an"
            | "the"
            | "of"
            | "and"
            | "in"
            | "on"
            | "at"
            | "for"
            | "to"
            | "with"
            | "by"
            | "from"
            | "as"
            | "or"
            | "but"
            | "vs"
            | "into"
            | "after"
            | "over"
            | "amid"
            | "against"
            | "its"
            | "is"
            | "are"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::{EntityStage, Gazetteers};

    #[test]
    fn tokens_keep_names_whole_and_drop_possessives() {
        let cases: &[(&str, &[&str])] = &[
            ("Iraq’s army", &["Iraq", "army"]),
            ("O'Brien and Ba'ath", &["O'Brien", "and", "Ba'ath"]),
            (
                "the U.S. Central Command",
                &["the", "U.S.", "Central", "Command"],
            ),
            ("Abd-al-Jalil", &["Abd", "al", "Jalil"]),
            ("ISIS’ ability", &["ISIS", "ability"]),
            ("Mūşil, 2024.", &["Mūşil", "2024"]),
        ];
        for (text, want) in cases {
            let got: Vec<&str> = tokenize(text, &text.to_ascii_lowercase())
                .iter()
                .map(|t| &text[t.s..t.e])
                .collect();
            assert_eq!(&got, want, "{text}");
        }
    }

    /// The shape table answers as the lookup does, for every set and every word of the
    /// rule file (as written, capitalised and in capitals) and of some text, asked in
    /// any order on one token or once on a fresh one.
    #[test]
    fn shape_table_answers_as_the_lookup() {
        let rules = NameRules::builtin().unwrap();
        let mut text: String = rules
            .member
            .keys()
            .flat_map(|w| {
                let mut cap = w.clone();
                if let Some(first) = cap.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                [w.clone(), cap, w.to_uppercase()]
            })
            .collect::<Vec<_>>()
            .join(" ");
        text.push_str(" The spokesman said al-Sudani of the Ministry of Defence met Mūşil's envoy");
        let lower = text.to_ascii_lowercase();
        let toks = tokenize(&text, &lower);
        let (mut skipped, mut asked) = (0, 0);
        for t in &toks {
            let want = rules.member.get(t.key_str()).copied().unwrap_or(0);
            for bit in 0..14 {
                let fresh = t.clone();
                fresh.sets.set(0);
                assert_eq!(rules.is(&fresh, 1 << bit), want & 1 << bit != 0, "{t:?}");
                asked += 1;
                skipped += usize::from(fresh.sets.get() == 0);
                assert_eq!(rules.is(t, 1 << bit), want & 1 << bit != 0, "{t:?}");
            }
        }
        // Most questions about words in no set asked are settled without the lookup.
        assert!(skipped * 2 > asked, "{skipped} of {asked}");
    }

    /// `key` of a word that goes through folding is the folded word lowered, without
    /// trailing dots and apostrophes, as the chain of copies it replaced made it.
    #[test]
    fn keys_of_folded_words_are_the_old_chain() {
        let old = |w: &str| {
            fold(w)
                .to_lowercase()
                .trim_end_matches('.')
                .replace('\'', "")
        };
        for word in [
            "Mūşil",
            "Ba’ath.",
            "Al-Qa'ida..",
            "ŞIRNAK",
            "Straße",
            "U.S.-led",
            "x`y",
            "İstanbul",
            "ΑΘΗΝΑ.",
            "a'.'.",
        ] {
            assert_eq!(key(word), old(word), "{word}");
        }
        assert_eq!(key("Mūşil"), "musil");
    }

    #[test]
    fn fast_and_general_word_paths_agree() {
        // A word alone is read by the general loop (the fast one needs eight bytes after
        // the word); followed by spaces, an ASCII word is read eight bytes at a time.
        let shape = |text: &str| -> Vec<(usize, usize, String, bool, bool)> {
            tokenize(text, &text.to_ascii_lowercase())
                .iter()
                .map(|t| (t.s, t.e, t.key.to_string(), t.cap, t.caps))
                .collect()
        };
        for word in [
            "Baghdad",
            "ISIS",
            "iraq",
            "MoSul",
            "A1",
            "x",
            "2024",
            "B",
            "IS",
            "U.S.",
            "O'Brien",
            "Iraq's",
            "Mūşil",
            "UNAMI2",
            "abcdefghijklmnopq",
            "ABCDEFGHIJKLMNOPQ",
            "Ab9",
        ] {
            let padded = format!("{word},{}", " ".repeat(16));
            let (alone, fast) = (shape(word), shape(&padded));
            assert_eq!(alone, fast, "{word}");
            // And after a gap long enough to be skipped eight bytes at a time.
            let gapped = format!("{}{word}.{}", " ".repeat(19), " ".repeat(16));
            let moved: Vec<_> = shape(&gapped)
                .into_iter()
                .map(|(s, e, k, c, cs)| (s - 19, e - 19, k, c, cs))
                .collect();
            assert_eq!(alone, moved, "{word}");
        }
    }

    /// A lowercase word ended by an ASCII byte or the text's end (the lowercase fast path)
    /// is the token that the general loop makes of it where a dash that is not ASCII ends
    /// it (no fast path takes a word followed by a byte that is not ASCII).
    #[test]
    fn lowercase_fast_path_agrees_with_the_general_loop() {
        let first = |text: &str| {
            let lower = text.to_ascii_lowercase();
            let toks = tokenize(text, &lower);
            let t = &toks[0];
            (t.s, t.e, t.key.to_string(), t.cap, t.caps)
        };
        for word in [
            "iraq",
            "iPhone",
            "iRAQ",
            "x",
            "a1b2",
            "abcdefghijklmnopqrstu",
            "z9",
        ] {
            let general = first(&format!("{word}\u{2014}then"));
            for end in ["", " ", ", and so on", ".", "-", "\"x", "\n\n"] {
                assert_eq!(first(&format!("{word}{end}")), general, "{word:?}{end:?}");
            }
        }
    }

    /// The constant rule names are the formatted ones, for the rules of this file and any
    /// other.
    #[test]
    fn rule_names_are_prefixed() {
        for rule in [
            "org-shape",
            "org-acronym",
            "place-head",
            "place-start",
            "place-after",
            "place-before",
            "person-arabic",
            "person-title",
            "person-intro",
            "person-byline",
            "person-given-name",
            "person-context",
            "some-new-rule",
        ] {
            assert_eq!(rule_name(rule), format!("name:{rule}"));
        }
    }

    #[test]
    fn outlet_lines_are_not_headlines() {
        let cases = [
            ("Harbour Courier \u{2014} 4 June 2025", true),
            ("Lakeside Wire - Published 2025-06-04", true),
            ("Rebels Seize Two Towns \u{2014} 4 June", false),
            (
                "Rebels Seize Two Towns In The North After Days Of Fighting - Live",
                false,
            ),
            ("Rebels Seize Two Towns In The North", false),
            (
                "Fighting In 2025 \u{2014} A Timeline Of The War In Sudan",
                false,
            ),
        ];
        for (line, want) in cases {
            assert_eq!(outlet_line(line), want, "{line}");
        }
    }

    #[test]
    fn headlines_are_recognised() {
        let rules = NameRules::builtin().unwrap();
        let text = "Rebels Seize Two Towns In The North\nRebels seized two towns.";
        let lower = text.to_ascii_lowercase();
        let an = rules.analyse(text, &lower);
        assert!(an.headline[0]);
        assert!(!an.headline[an.toks.len() - 1]);
    }

    #[test]
    fn bad_rule_files_say_where() {
        let err = NameRules::parse("r.toml", "titles = [\"Gen\"]\nbogus = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("r.toml:"), "{err}");
        let full = BUILTIN.replacen("\"Mrs\",", "\"Mrs Smith\",", 1);
        let err = NameRules::parse("r.toml", &full).unwrap_err().to_string();
        assert!(
            err.contains("titles: \"Mrs Smith\" must be one word"),
            "{err}"
        );
        assert!(err.starts_with("r.toml:"), "{err}");
    }

    /// Names in context, with the shipped gazetteers: (text, every row, rules' and
    /// gazetteers', as `TYPE text = canonical`).
    const IN_CONTEXT: &[(&str, &[&str])] = &[
        // A common noun's possessive is inside an organisation's name; a name's is not.
        (
            "The Lakeland People's Defence Army denied it.",
            &["ORG Lakeland People's Defence Army = Lakeland People's Defence Army"],
        ),
        (
            "Mali's National Guard left.",
            &["PLACE Mali = Mali", "ORG National Guard = National Guard"],
        ),
        ("Our People's Choice Awards went to him.", &[]),
        // "in" and a place belong to the name when its acronym says so.
        (
            "Staff of the EU Training Mission in Mozambique (EUTM) left.",
            &[
                "ORG EU Training Mission in Mozambique = EU Training Mission in Mozambique",
                "ORG EUTM = EU Training Mission in Mozambique",
            ],
        ),
        (
            "The Joint Task Force in Maiduguri (JTF) said so.",
            &[
                "ORG Joint Task Force = Joint Task Force",
                "PLACE Maiduguri = Maiduguri",
            ],
        ),
        // An apposition after a role word, closed by the end of the sentence, or with the
        // role a dozen words before it.
        (
            "\"It is over,\" said the village's mayor, Tomas Berenguer Iturbe.",
            &["PERSON Tomas Berenguer Iturbe = Tomas Berenguer Iturbe"],
        ),
        (
            "The head of the refugee agency's field office in Goma, Helga Marstrand, spoke.",
            &[
                "PLACE Goma = Goma",
                "PERSON Helga Marstrand = Helga Marstrand",
            ],
        ),
        ("The convoy reached the camp, Quillan Vostrey.", &[]),
        // A short lower-case part hyphened to the name is part of it; an English
        // compound's is not.
        (
            "Gunmen shot village headman Rosli Deng-ae on Friday.",
            &["PERSON Rosli Deng-ae = Rosli Deng-ae"],
        ),
        (
            "Gunmen shot village headman Rosli Deng-led guards on Friday.",
            &["PERSON Rosli Deng = Rosli Deng"],
        ),
    ];

    #[test]
    fn names_in_context() {
        let stage = EntityStage::new(&Gazetteers::builtin().unwrap()).unwrap();
        for (text, want) in IN_CONTEXT {
            assert_eq!(&stage.described(text), want, "{text}");
        }
    }

    /// Every `[[example]]` of rules/entities.toml, with the shipped gazetteers.
    #[test]
    fn rule_file_examples() {
        let rules = NameRules::builtin().unwrap();
        assert!(!rules.examples.is_empty());
        let stage =
            EntityStage::with_rules(&Gazetteers::builtin().unwrap(), rules.clone()).unwrap();
        let mut failures = Vec::new();
        for ex in &rules.examples {
            let got: Vec<String> = stage
                .entities(&ex.text)
                .iter()
                .filter(|e| e.rule != "gazetteer")
                .map(|e| format!("{} {} = {}", e.etype, e.text, e.canonical))
                .collect();
            if got != ex.expect {
                failures.push(format!(
                    "{:?}\n  want {:?}\n  got  {:?}",
                    ex.text, ex.expect, got
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
