//! Name normalisation for matching and for identity.
//!
//! Two things live here:
//!
//! - [`Folded`]: a copy of a text with diacritics removed, apostrophe and hyphen variants
//!   unified and whitespace runs collapsed, plus a map from every byte of the copy back to
//!   the original text. The gazetteer automata run on the copy, and their matches are
//!   mapped back, so offsets always point into the text as read (STYLE habit 5). Case is
//!   kept: the case-insensitive automaton folds ASCII case itself, and the case-sensitive
//!   one needs it.
//! - [`skeleton`]: a lossy key for a name, equal for the spellings of one name that the
//!   press uses side by side ("Jassim al-Mazrouei" / "Jassim al-Mazroui",
//!   "Abdel Qader" / "Abdul Qadir"), used to give names found by rules a stable id.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Which bytes are ASCII letters or digits, as a table: the word scans of the matcher and
/// the tokenizer test every byte of a text, and `u8::is_ascii_alphanumeric` is three range
/// tests where this is one load (callgrind: a quarter of the tokenizer's instructions).
static ASCII_WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    t
};

/// Whether `b` is an ASCII letter or digit (see [`ASCII_WORD`]).
#[inline(always)]
pub(crate) fn ascii_word(b: u8) -> bool {
    ASCII_WORD[b as usize]
}

/// Eight bytes of a text as bit masks, the top bit of a byte's lane set where the byte
/// is an ASCII letter or digit (`word`), a letter (`letter`) or a lowercase letter
/// (`lower`).
///
/// Why: the tokenizer's and the matcher's byte-at-a-time loops mispredicted at the end of every word and
/// took one more pass per word for its shape; with the masks a word's end is one
/// `trailing_zeros` and its shape a few bit operations (SWAR, no `unsafe`, any target).
pub(crate) struct Chunk {
    pub word: u64,
    pub letter: u64,
    pub lower: u64,
}

/// The [`Chunk`] of `bytes[at..at + 8]`, or `None` near the end of the text.
#[inline(always)]
pub(crate) fn chunk(bytes: &[u8], at: usize) -> Option<Chunk> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?);
    // With each lane's top bit set, subtracting a byte below 0x80 borrows from no other
    // lane, and the top bit stays set exactly where the lane was at least that byte.
    let at_least = |v: u64, lo: u8| v.wrapping_sub(ONES * u64::from(lo));
    let h = x | HIGH;
    let digit = at_least(h, b'0') & !at_least(h, b'9' + 1);
    let l = h | (ONES * 0x20);
    let letter = at_least(l, b'a') & !at_least(l, b'z' + 1);
    let ascii = !x & HIGH;
    let letter = letter & ascii;
    // Bit 5 (0x20) of a lane moved to its top bit: set for lowercase letters.
    let small = x << 2;
    Some(Chunk {
        word: (digit | letter) & ascii,
        letter,
        lower: letter & small & HIGH,
    })
}

/// The first byte at or after `at` that is not an ASCII letter or digit (`bytes.len()`
/// if none): the end of a word's ASCII run, found eight bytes at a time (see [`Chunk`]).
#[inline]
pub(crate) fn ascii_word_end(bytes: &[u8], mut at: usize) -> usize {
    while let Some(c) = chunk(bytes, at) {
        let rest = !c.word & 0x8080_8080_8080_8080;
        if rest != 0 {
            return at + rest.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    while at < bytes.len() && ascii_word(bytes[at]) {
        at += 1;
    }
    at
}

/// [`FOLD_ASCII`] of a byte that is not ASCII.
const NOT_ASCII: u8 = 0xff;

/// Each ASCII byte as the folded text has it (hyphens, underscores, tabs and carriage
/// returns as spaces, a backquote as an apostrophe, the rest as they are); [`NOT_ASCII`]
/// for the other bytes. One load a byte in [`Folded::new`]'s copy loop, instead of
/// comparing each byte with the bytes that change and then again while copying.
static FOLD_ASCII: [u8; 256] = {
    let mut t = [NOT_ASCII; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = match b as u8 {
            b'-' | b'_' | b'\t' | b'\r' => b' ',
            b'`' => b'\'',
            c => c,
        };
        b += 1;
    }
    t
};

/// A text folded for matching, with the way back to the original's byte offsets.
///
/// ```
/// use gleaner::entity::normalize::Folded;
///
/// let text = "in Mūşil’s al\u{2011}Anbar";
/// let f = Folded::new(text);
/// assert_eq!(f.text, "in Musil's al Anbar");
/// let start = f.text.find("Musil").unwrap();
/// let (s, e) = f.original_span(start, start + "Musil".len());
/// assert_eq!(&text[s..e], "Mūşil");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Folded {
    /// The folded text.
    pub text: String,
    /// The way back, as the points where it changes: `(folded offset, original offset)`,
    /// ascending, the first at `(0, 0)`. A character of `text` at offset `f` came from the
    /// original's character at `o + (f - f0)`, where `(f0, o)` is the last point at or
    /// before `f`; one past the end of `text` maps to the original's length.
    ///
    /// Why points and not an offset per byte: most of a news text is copied as it is (or
    /// with a hyphen read as a space, which moves nothing), so the offset per byte is the
    /// byte's own plus a constant that changes only at a collapsed space or a non-ASCII
    /// character. A `u32` per byte was four times the text's size to write for every
    /// document (perf: most of the time of this function), for a few lookups per match.
    points: Vec<(u32, u32)>,
}

impl Folded {
    /// Folds `text`: see the module documentation.
    ///
    /// Runs of ASCII bytes (most of a news text) are copied whole, the few bytes in them
    /// that change patched in place where `memchr` finds them (hyphens, underscores, tabs
    /// and carriage returns become spaces, a backquote an apostrophe), then each run of
    /// two or more spaces cut to one where `memmem` finds one, with a point at each cut;
    /// only the other characters go through Unicode decomposition, one at a time.
    ///
    /// Why: such places are a few per document (a dateline's " - "), where the byte loop
    /// before this tested and pushed every byte, eight at a time at best (callgrind on
    /// d2.jsonl: 22.6 M instructions, 8% of the entity stage). A randomised test holds
    /// this to that loop.
    pub fn new(text: &str) -> Folded {
        let bytes = text.as_bytes();
        let mut out: Vec<u8> = Vec::with_capacity(text.len());
        // Room for the points of a few non-ASCII characters: grown from one, the list was
        // copied three or four times in most texts that have any.
        let mut points: Vec<(u32, u32)> = Vec::with_capacity(16);
        points.push((0, 0));
        let spaces = double_spaces();
        let mut last_space = false;
        let mut at = 0;
        while at < bytes.len() {
            let end = ascii_run_end(bytes, at);
            if end > at {
                let run = Run {
                    bytes,
                    start: at,
                    end,
                };
                run.push(&mut out, &mut points, spaces, &mut last_space);
                at = end;
                continue;
            }
            let c = text[at..].chars().next().expect("a char boundary");
            push_char(&mut out, &mut points, c, at, &mut last_space);
            at += c.len_utf8();
        }
        Folded::mark(&mut points, out.len(), text.len());
        let text = String::from_utf8(out).expect("whole characters were copied");
        Folded { text, points }
    }

    /// Records that the character written at `folded` comes from `orig`, where the last
    /// point does not already say so.
    #[inline]
    fn mark(points: &mut Vec<(u32, u32)>, folded: usize, orig: usize) {
        let &(f0, o0) = points.last().expect("the first point");
        if o0 as usize + (folded - f0 as usize) != orig {
            points.push((folded as u32, orig as u32));
        }
    }

    /// The original byte offset of the folded offset `f` (a character boundary of the
    /// folded text, or its end).
    #[inline]
    pub(crate) fn original(&self, f: usize) -> usize {
        let i = match self.points.as_slice() {
            [_] => 0,
            points => points.partition_point(|&(p, _)| p as usize <= f) - 1,
        };
        let (f0, o0) = self.points[i];
        o0 as usize + (f - f0 as usize)
    }

    /// Like [`Folded::original`], for offsets asked in ascending order: `point` is the index
    /// of the point found last (0 at first), moved forward as far as `f` needs, so that a
    /// scan of the whole text costs one pass over the points and no search.
    #[inline]
    pub(crate) fn original_from(&self, point: &mut usize, f: usize) -> usize {
        let points = &self.points;
        while *point + 1 < points.len() && points[*point + 1].0 as usize <= f {
            *point += 1;
        }
        let (f0, o0) = points[*point];
        o0 as usize + (f - f0 as usize)
    }

    /// The original byte span of the folded span `start..end` (which must lie on character
    /// boundaries of the folded text).
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        (self.original(start), self.original(end))
    }
}

/// The searcher for two spaces in a row, made once: [`Folded::new`] is also asked for
/// single names (by [`fold`], for the name rules' keys and coreference), where making the
/// searcher each time cost more than the search (callgrind: some 300 instructions a call).
fn double_spaces() -> &'static memchr::memmem::Finder<'static> {
    static SPACES: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
        std::sync::OnceLock::new();
    SPACES.get_or_init(|| memchr::memmem::Finder::new(b"  "))
}

/// The first byte at or after `at` that is not ASCII (`bytes.len()` if none), found eight
/// bytes at a time.
#[inline]
fn ascii_run_end(bytes: &[u8], mut at: usize) -> usize {
    while let Some(w) = bytes.get(at..at + 8) {
        let high = u64::from_le_bytes(w.try_into().expect("8 bytes")) & 0x8080_8080_8080_8080;
        if high != 0 {
            return at + high.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    while at < bytes.len() && bytes[at].is_ascii() {
        at += 1;
    }
    at
}

/// A run of ASCII bytes of a text, `bytes[start..end]`, not empty, for [`Folded::new`].
struct Run<'a> {
    bytes: &'a [u8],
    start: usize,
    end: usize,
}

impl Run<'_> {
    /// Appends the run folded to `out`, with its points; `last_space` says whether the
    /// last character written is a space, before and after.
    fn push(
        &self,
        out: &mut Vec<u8>,
        points: &mut Vec<(u32, u32)>,
        spaces: &memchr::memmem::Finder,
        last_space: &mut bool,
    ) {
        let run = &self.bytes[self.start..self.end];
        let base = out.len();
        out.extend_from_slice(run);
        for i in memchr::memchr3_iter(b'-', b'_', b'`', run) {
            out[base + i] = FOLD_ASCII[run[i] as usize];
        }
        for i in memchr::memchr2_iter(b'\t', b'\r', run) {
            out[base + i] = b' ';
        }
        // Until the first cut, `out[base..]` is the run patched: the byte at `r` comes
        // from `start + (r - base)`.
        let n = out.len();
        let drops_first = *last_space && out[base] == b' ';
        if !drops_first {
            Folded::mark(points, base, self.start);
        }
        let first_cut = if drops_first {
            Some(base)
        } else {
            spaces.find(&out[base..]).map(|p| base + p + 1)
        };
        if let Some(cut) = first_cut {
            // `out[..w]` is folded; `out[r..]` is still the patched run (`w <= r`).
            let (mut w, mut r) = (cut, cut);
            loop {
                while r < n && out[r] == b' ' {
                    r += 1;
                }
                if r == n {
                    break;
                }
                Folded::mark(points, w, self.start + (r - base));
                // Up to and with the first space of the next run of spaces.
                let e = spaces.find(&out[r..]).map_or(n, |p| r + p + 1);
                out.copy_within(r..e, w);
                w += e - r;
                r = e;
                if r == n {
                    break;
                }
            }
            out.truncate(w);
        }
        if let Some(&last) = out[base..].last() {
            *last_space = last == b' ';
        }
    }
}

/// Appends the non-ASCII character `c`, at `at` in the text, folded to `out`, with its
/// points; `last_space` as in [`Run::push`].
fn push_char(
    out: &mut Vec<u8>,
    points: &mut Vec<(u32, u32)>,
    c: char,
    at: usize,
    last_space: &mut bool,
) {
    decompose_compatible(c, |d| {
        if is_combining_mark(d) {
            return;
        }
        let Some(d) = fold_char(d) else { return };
        if d == ' ' {
            if *last_space {
                return;
            }
            *last_space = true;
        } else {
            *last_space = false;
        }
        let mut buf = [0; 4];
        let s: &str = match d {
            'ß' => "ss",
            'æ' => "ae",
            'Æ' => "AE",
            'œ' => "oe",
            'Œ' => "OE",
            d => d.encode_utf8(&mut buf),
        };
        // Every character written maps to the start of the one it came from.
        for ch in s.chars() {
            Folded::mark(points, out.len(), at);
            let mut b = [0; 4];
            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
        }
    });
}

/// One character of the folded text: apostrophes and hyphens unified, letters that have no
/// decomposition (ı, ł, ø, đ) spelt as their base letter, other whitespace as a space.
/// `None` drops the character.
fn fold_char(c: char) -> Option<char> {
    Some(match c {
        '\u{2018}' | '\u{2019}' | '\u{201b}' | '\u{2032}' | '\u{02bc}' | '\u{02bb}'
        | '\u{02be}' | '\u{02bf}' | '\u{00b4}' => '\'',
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{00ad}' => {
            if c == '\u{00ad}' {
                return None;
            }
            ' '
        }
        'ı' => 'i',
        'ł' => 'l',
        'Ł' => 'L',
        'ø' => 'o',
        'Ø' => 'O',
        'đ' => 'd',
        'Đ' => 'D',
        'ð' => 'd',
        'þ' => 't',
        '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' => return None,
        c if c.is_whitespace() && c != '\n' => ' ',
        c => c,
    })
}

/// The folded form of a gazetteer alias or a name: [`Folded::new`]'s text, trimmed.
///
/// ```
/// use gleaner::entity::normalize::fold;
///
/// assert_eq!(fold(" Abu-Ali  al‑Tunisi "), "Abu Ali al Tunisi");
/// ```
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        // Most aliases and names: the same result without the offset map, a byte at a
        // time through the table of [`Folded::new`] (a `char` loop with a `String` test of
        // the last character cost some 20 instructions a byte: callgrind).
        let trimmed = s.trim();
        let t = trimmed.as_bytes();
        // Most names fold to themselves (no hyphen, underscore, tab, carriage return or
        // backquote, no two spaces in a row): then one test a byte and a copy, where the
        // loop below pushed each byte (callgrind on d2.jsonl: some 650 instructions a call,
        // 10,000 calls per 2 MB, most from coreference's organisation names; the entity
        // stage 244.5 M -> 243.2 M instructions with this).
        let mut last = 0u8;
        if t.iter().all(|&b| {
            let same = FOLD_ASCII[b as usize] == b && !(b == b' ' && last == b' ');
            last = b;
            same
        }) {
            return trimmed.to_string();
        }
        let mut out: Vec<u8> = Vec::with_capacity(t.len());
        let mut last_space = false;
        for &b in t {
            let c = FOLD_ASCII[b as usize];
            let space = c == b' ';
            if space && last_space {
                continue;
            }
            last_space = space;
            out.push(c);
        }
        let out = String::from_utf8(out).expect("ASCII");
        if out.starts_with(' ') || out.ends_with(' ') {
            return out.trim().to_string();
        }
        return out;
    }
    // Copied again only if there is whitespace to trim (a name seldom has).
    let folded = Folded::new(s).text;
    if folded.starts_with(char::is_whitespace) || folded.ends_with(char::is_whitespace) {
        return folded.trim().to_string();
    }
    folded
}

/// Arabic articles that the press writes attached, hyphenated, separate or not at all.
const ARTICLES: &[&str] = &["al", "el", "ul"];

/// A key that is the same for the common spellings of one name, for identity across
/// documents. Lowercase, no diacritics, no dots or apostrophes; the Arabic article dropped;
/// Abdel / Abdul / Abd al- as `abd`; `e` read as `i` and `o` as `u` (Hamed / Hamid,
/// Mazrouei / Mazroui), doubled letters single (Jassim / Jasim). Words are joined by `-`.
///
/// ```
/// use gleaner::entity::normalize::skeleton;
///
/// assert_eq!(skeleton("Jassim al-Mazrouei"), "jasim-mazrui");
/// assert_eq!(skeleton("Jassim al-Mazroui"), skeleton("Jassim al-Mazrouei"));
/// assert_eq!(skeleton("Abdel Qader"), skeleton("Abdul Qadir"));
/// assert_eq!(skeleton("U.S. Central Command"), "us-cintral-cumand");
/// ```
pub fn skeleton(name: &str) -> String {
    if name.is_ascii() {
        return skeleton_ascii(name.as_bytes());
    }
    // Lowercase letters and digits, everything else a space, dots and apostrophes dropped.
    let cleaned: String = Folded::new(name)
        .text
        .to_lowercase()
        .chars()
        .filter(|c| *c != '.' && *c != '\'')
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    // The words joined by `-`, written straight into the key (each word is non-empty).
    let mut out = String::with_capacity(cleaned.len());
    let word = |out: &mut String, w: &str| {
        if !out.is_empty() {
            out.push('-');
        }
        let mut last = None;
        for c in w.chars() {
            let c = match c {
                'e' => 'i',
                'o' => 'u',
                c => c,
            };
            if last == Some(c) {
                continue;
            }
            last = Some(c);
            out.push(c);
        }
    };
    for w in cleaned.split_whitespace() {
        if ARTICLES.contains(&w) {
            continue;
        }
        // Attached article: "alMazrouei" is rare, but "Abdulqadir" / "Abdelqader" are
        // common: split the `abd` off.
        let mut w = w;
        for prefix in ABD {
            if let Some(rest) = w.strip_prefix(prefix) {
                word(&mut out, "abd");
                w = rest;
                break;
            }
        }
        if w.is_empty() {
            continue;
        }
        word(&mut out, w);
    }
    out
}

/// The spellings of `abd` attached to the next part of a name ("Abdulqadir").
const ABD: [&str; 4] = ["abdul", "abdel", "abdal", "abdil"];

/// [`skeleton`] of an ASCII name (most names), in one pass over its bytes.
///
/// Why: folding ASCII only turns `-`, `_`, tabs and carriage returns into spaces (which the
/// cleaning makes of them anyway), a backquote into an apostrophe (dropped) and collapses
/// spaces, so the words are read from the bytes directly: a word is a run of letters,
/// digits, dots and apostrophes, less the dots and apostrophes. The general version cleaned
/// a copy character by character, then split and re-encoded it (callgrind: some 2,400
/// instructions a name, with a name found by a rule in most sentences).
fn skeleton_ascii(name: &[u8]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(name.len());
    // The current word, lower-cased, without its dots and apostrophes.
    let mut w: Vec<u8> = Vec::with_capacity(name.len());
    let mut at = 0;
    while at <= name.len() {
        let b = name.get(at).copied().unwrap_or(b' ');
        at += 1;
        if b.is_ascii_alphanumeric() {
            w.push(b.to_ascii_lowercase());
            continue;
        }
        if matches!(b, b'.' | b'\'' | b'`') {
            continue;
        }
        // The end of a word (if any).
        if w.is_empty() || matches!(w.as_slice(), b"al" | b"el" | b"ul") {
            w.clear();
            continue;
        }
        let mut rest = w.as_slice();
        if let Some(p) = ABD.iter().find(|p| rest.starts_with(p.as_bytes())) {
            skeleton_word(&mut out, b"abd");
            rest = &rest[p.len()..];
        }
        if !rest.is_empty() {
            skeleton_word(&mut out, rest);
        }
        w.clear();
    }
    String::from_utf8(out).expect("ASCII")
}

/// One word of an ASCII skeleton: after a `-` unless it is the first, `e` as `i` and `o`
/// as `u`, doubled letters (after that) single.
fn skeleton_word(out: &mut Vec<u8>, w: &[u8]) {
    if !out.is_empty() {
        out.push(b'-');
    }
    let mut last = 0u8;
    for &c in w {
        let c = match c {
            b'e' => b'i',
            b'o' => b'u',
            c => c,
        };
        if c != last {
            out.push(c);
            last = c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`fold`] of ASCII text, with its shortcut for names that fold to themselves, is the
    /// byte loop's result (the loop as it was before the shortcut).
    #[test]
    fn ascii_fold_shortcut_agrees_with_the_loop() {
        let reference = |s: &str| -> String {
            let mut out: Vec<u8> = Vec::new();
            let mut last_space = false;
            for &b in s.trim().as_bytes() {
                let c = FOLD_ASCII[b as usize];
                let space = c == b' ';
                if space && last_space {
                    continue;
                }
                last_space = space;
                out.push(c);
            }
            String::from_utf8(out).unwrap().trim().to_string()
        };
        let parts = [
            "Syrian",
            " ",
            "  ",
            "-",
            "_",
            "\t",
            "\r",
            "\n",
            "`",
            "'",
            "Observatory",
            ".",
            "al",
            "x",
        ];
        let mut n = 0;
        for a in parts {
            for b in parts {
                for c in parts {
                    for d in ["", " ", "Rights", "-", "  "] {
                        let s = format!("{a}{b}{c}{d}");
                        assert_eq!(fold(&s), reference(&s), "{s:?}");
                        n += 1;
                    }
                }
            }
        }
        assert!(n > 10_000);
        assert_eq!(fold("Syrian Observatory"), "Syrian Observatory");
        assert_eq!(fold(" Abu-Ali  al`Tunisi\t"), "Abu Ali al'Tunisi");
    }

    /// How many of the eight bytes at `at` (none if fewer are left) [`Folded::new`] copies as
    /// they are, counted from the first: ASCII bytes from the space on that
    /// [`FOLD_ASCII`] keeps, except a space after a space (`last_space`: the byte before `at`
    /// was one). Why: most of a news text is such bytes, and testing eight at once with bit
    /// masks (see [`Chunk`]) costs a few operations where the copy loop spent a table load,
    /// a compare and a push on each.
    #[inline(always)]
    fn plain_prefix(bytes: &[u8], at: usize, last_space: bool) -> Option<usize> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        const LOW: u64 = !HIGH;
        let x = u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?);
        // The top bit of each lane equal to `c` (exact: no carry leaves a lane).
        let eq = |c: u8| {
            let y = x ^ (ONES * u64::from(c));
            !(((y & LOW) + LOW) | y) & HIGH
        };
        // Lanes below 0x20 (controls: tabs, line breaks, carriage returns) or not ASCII.
        let control = !(x | HIGH).wrapping_sub(ONES * 0x20) & HIGH;
        let space = eq(b' ');
        let after_space = (space << 8) | if last_space { 0x80 } else { 0 };
        let bad = (x & HIGH) | control | eq(b'-') | eq(b'_') | eq(b'`') | (space & after_space);
        Some(if bad == 0 {
            8
        } else {
            bad.trailing_zeros() as usize / 8
        })
    }

    /// The byte loop [`Folded::new`] was before its ASCII runs were copied whole: the
    /// reference for it.
    fn bytewise(text: &str) -> Folded {
        let mut out: Vec<u8> = Vec::with_capacity(text.len());
        // Room for the points of a few non-ASCII characters: grown from one, the list was
        // copied three or four times in most texts that have any.
        let mut points: Vec<(u32, u32)> = Vec::with_capacity(16);
        points.push((0, 0));
        let mark = Folded::mark;
        let bytes = text.as_bytes();
        let mut last_space = false;
        let mut at = 0;
        while at < bytes.len() {
            // A run of ASCII bytes, copied as they are, except hyphens, underscores, tabs
            // and carriage returns read as spaces and backquotes as apostrophes, each in
            // place; up to a second space in a row, which is dropped, or a non-ASCII byte.
            let start = at;
            let from = out.len();
            while at < bytes.len() {
                // The bytes that stay as they are, eight at a time where there are eight.
                if let Some(n) = plain_prefix(bytes, at, last_space) {
                    if n == 8 {
                        // A copy of a known length: a move of one word, where the length
                        // below is a call to `memcpy` (callgrind: a tenth of this function).
                        let eight: &[u8; 8] = bytes[at..at + 8].try_into().expect("8 bytes");
                        out.extend_from_slice(eight);
                        last_space = eight[7] == b' ';
                        at += 8;
                        continue;
                    }
                    if n > 0 {
                        out.extend_from_slice(&bytes[at..at + n]);
                        last_space = bytes[at + n - 1] == b' ';
                        at += n;
                    }
                }
                let f = FOLD_ASCII[bytes[at] as usize];
                if f == NOT_ASCII {
                    break;
                }
                let space = f == b' ';
                if space && last_space {
                    break;
                }
                last_space = space;
                out.push(f);
                at += 1;
            }
            if at > start {
                mark(&mut points, from, start);
                continue;
            }
            if bytes[at].is_ascii() {
                // A space after a space: dropped.
                at += 1;
                continue;
            }
            let c = text[at..].chars().next().expect("a char boundary");
            let mut push = |d: char, out: &mut Vec<u8>, points: &mut Vec<(u32, u32)>| {
                let d = fold_char(d);
                let Some(d) = d else { return };
                if d == ' ' {
                    if last_space {
                        return;
                    }
                    last_space = true;
                } else {
                    last_space = false;
                }
                let mut buf = [0; 4];
                let s: &str = match d {
                    'ß' => "ss",
                    'æ' => "ae",
                    'Æ' => "AE",
                    'œ' => "oe",
                    'Œ' => "OE",
                    d => d.encode_utf8(&mut buf),
                };
                // Every character written maps to the start of the one it came from.
                for ch in s.chars() {
                    mark(points, out.len(), at);
                    let mut b = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                }
            };
            decompose_compatible(c, |d| {
                if !is_combining_mark(d) {
                    push(d, &mut out, &mut points);
                }
            });
            at += c.len_utf8();
        }
        mark(&mut points, out.len(), text.len());
        let text = String::from_utf8(out).expect("whole characters were copied");
        Folded { text, points }
    }

    #[test]
    fn chunk_masks_agree_with_byte_tests() {
        // Every byte value in every lane, with varied neighbours (a borrow across lanes
        // would show as a wrong neighbour).
        let lane = |m: u64, k: usize| (m >> (8 * k + 7)) & 1 == 1;
        for v in 0..=255u8 {
            for k in 0..8 {
                let mut b = [b'a', 0x80, b'Z', b'0', b' ', 0xff, b'@', b'['];
                b[k] = v;
                let c = chunk(&b, 0).unwrap();
                for (i, &x) in b.iter().enumerate() {
                    assert_eq!(lane(c.word, i), x.is_ascii_alphanumeric(), "{b:?} {i}");
                    assert_eq!(lane(c.letter, i), x.is_ascii_alphabetic(), "{b:?} {i}");
                    assert_eq!(lane(c.lower, i), x.is_ascii_lowercase(), "{b:?} {i}");
                }
            }
        }
        assert!(chunk(b"1234567", 0).is_none());
    }

    #[test]
    fn plain_prefixes_agree_with_the_fold_table() {
        // Every byte value in every lane, after a space or not, next to spaces and letters.
        for v in 0..=255u8 {
            for k in 0..8 {
                for last_space in [false, true] {
                    let mut b = *b" ab  c d";
                    b[k] = v;
                    let mut want = 0;
                    let mut prev = last_space;
                    for &x in &b {
                        let kept = x.is_ascii() && x >= 0x20 && FOLD_ASCII[x as usize] == x;
                        if !kept || (x == b' ' && prev) {
                            break;
                        }
                        prev = x == b' ';
                        want += 1;
                    }
                    assert_eq!(plain_prefix(&b, 0, last_space), Some(want), "{b:?}");
                }
            }
        }
        assert_eq!(plain_prefix(b"abc", 0, false), None);
    }

    #[test]
    fn ascii_word_ends_agree_with_a_byte_loop() {
        let text = "Baghdad, al-Anbar and Mūşil: abcdefghijklmnopqrstuvwxyz0123 x  Z9";
        let b = text.as_bytes();
        for at in 0..=b.len() {
            let want = (at..b.len())
                .find(|&i| !ascii_word(b[i]))
                .unwrap_or(b.len());
            assert_eq!(ascii_word_end(b, at), want, "{at}");
        }
    }

    #[test]
    fn folding_maps_back_to_the_original() {
        let cases: &[(&str, &str, &str)] = &[
            // (text, folded, a word of the folded text whose original is checked)
            ("Mosul", "Mosul", "Mosul"),
            ("Mūşil city", "Musil city", "Musil"),
            ("Mu\u{304}s\u{327}il", "Musil", "Musil"),
            ("al-Anbar", "al Anbar", "Anbar"),
            ("Iraq’s army", "Iraq's army", "Iraq"),
            ("a  \t b", "a b", "b"),
            ("Łódź", "Lodz", "Lodz"),
            ("Straße", "Strasse", "Strasse"),
            ("Abu\u{2013}Ali", "Abu Ali", "Ali"),
            ("line\nnext", "line\nnext", "next"),
            ("a - b", "a b", "b"),
            // Several changes of offset in one text: each word still maps back.
            ("Mūşil  Straße\u{00ad}-Łódź x", "Musil Strasse Lodz x", "x"),
            (
                "Mūşil  Straße\u{00ad}-Łódź x",
                "Musil Strasse Lodz x",
                "Lodz",
            ),
        ];
        for (text, folded, word) in cases {
            let f = Folded::new(text);
            assert_eq!(&f.text, folded, "{text:?}");
            assert_eq!(fold(text), folded.trim(), "fold({text:?})");
            let s = f.text.find(word).unwrap();
            let (a, b) = f.original_span(s, s + word.len());
            assert_eq!(fold(&text[a..b]), *word, "{text:?}");
            // Read forward, the map gives the same offsets as looked up one by one.
            let mut point = 0;
            for at in (0..=f.text.len()).filter(|&i| f.text.is_char_boundary(i)) {
                assert_eq!(
                    f.original_from(&mut point, at),
                    f.original(at),
                    "{text:?} {at}"
                );
            }
        }
    }

    /// The ASCII path gives the general loop's text and points, on random texts dense in
    /// the bytes that fold (runs of spaces and hyphens at the start, the end and inside).
    /// The runs copied whole give the byte loop's text and points, on random texts dense
    /// in what folds: runs of spaces and hyphens at the start, the end and inside runs,
    /// beside non-ASCII characters that fold to spaces, to nothing, to two letters or to
    /// a letter with its marks dropped.
    #[test]
    fn folding_by_runs_agrees_with_the_byte_loop() {
        const ALPHABET: &[&str] = &[
            " ",
            " ",
            "-",
            "-",
            "_",
            "`",
            "\t",
            "\r",
            "\n",
            "a",
            "b.",
            "Z",
            "'",
            "ū",
            "ş",
            "\u{2013}",
            "\u{a0}",
            "\u{ad}",
            "ß",
            "\u{304}",
            "’",
            "Ł",
            "abcdefghij",
        ];
        let mut next = crate::testing::xorshift(0x5eed_f01d);
        let mut texts: Vec<String> = ["", " ", "  ", "a", " - ", "a  ", "  a", "a - b - c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for _ in 0..30_000 {
            let n = next(30);
            let ascii = next(2) == 0;
            texts.push(
                (0..n)
                    .map(|_| ALPHABET[next(if ascii { 13 } else { ALPHABET.len() })])
                    .collect(),
            );
        }
        for text in &texts {
            let (runs, bytes) = (Folded::new(text), bytewise(text));
            assert_eq!(runs.text, bytes.text, "{text:?}");
            assert_eq!(runs.points, bytes.points, "{text:?}");
        }
        // What the test compares: texts with cuts, patches and offsets that move.
        assert_eq!(bytewise("a -  b\u{a0} ū").text, "a b u");
        assert!(bytewise("a -  b\u{a0} ū").points.len() > 2);
    }

    /// The version of `skeleton` before its ASCII path: the reference for
    /// [`skeleton_ascii`].
    fn skeleton_reference(name: &str) -> String {
        // Lowercase letters and digits, everything else a space, dots and apostrophes dropped.
        let cleaned: String = if name.is_ascii() {
            // Most names: folding ASCII only turns `-`, `_`, tabs and carriage returns into
            // spaces (which the cleaning makes of them anyway), a backquote into an apostrophe
            // (dropped) and collapses spaces (the words are split on whitespace below), so the
            // bytes are cleaned directly, without the folded copy and its offset map.
            name.bytes()
                .filter(|&b| !matches!(b, b'.' | b'\'' | b'`'))
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        char::from(b.to_ascii_lowercase())
                    } else {
                        ' '
                    }
                })
                .collect()
        } else {
            Folded::new(name)
                .text
                .to_lowercase()
                .chars()
                .filter(|c| *c != '.' && *c != '\'')
                .map(|c| if c.is_alphanumeric() { c } else { ' ' })
                .collect()
        };
        // The words joined by `-`, written straight into the key (each word is non-empty).
        let mut out = String::with_capacity(cleaned.len());
        let word = |out: &mut String, w: &str| {
            if !out.is_empty() {
                out.push('-');
            }
            let mut last = None;
            for c in w.chars() {
                let c = match c {
                    'e' => 'i',
                    'o' => 'u',
                    c => c,
                };
                if last == Some(c) {
                    continue;
                }
                last = Some(c);
                out.push(c);
            }
        };
        for w in cleaned.split_whitespace() {
            if ARTICLES.contains(&w) {
                continue;
            }
            // Attached article: "alMazrouei" is rare, but "Abdulqadir" / "Abdelqader" are
            // common: split the `abd` off.
            let mut w = w;
            for prefix in ["abdul", "abdel", "abdal", "abdil"] {
                if let Some(rest) = w.strip_prefix(prefix) {
                    word(&mut out, "abd");
                    w = rest;
                    break;
                }
            }
            if w.is_empty() {
                continue;
            }
            word(&mut out, w);
        }
        out
    }

    /// The one-pass ASCII skeleton is the general one, on names built from the bytes that
    /// matter (letters with the `e`/`o` and doubling rules, digits, the articles and `abd`
    /// prefixes, dots, apostrophes, backquotes, hyphens, spaces, tabs, punctuation).
    #[test]
    fn ascii_skeletons_agree_with_the_reference() {
        let parts = [
            "al", "el", "ul", "Al", "abdul", "Abdel", "abdal", "ABDIL", "abd", "e", "o", "ee",
            "oo", "eo", "ss", "Jassim", "Mazrouei", "U.S.", "O'Brien", "x`y", "2024", "-", " ",
            "  ", "\t", "_", ".", "'", ",", "(", ")", "a", "b", "",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let n = (next() % 7) as usize;
            let name: String = (0..n)
                .map(|_| parts[(next() % parts.len() as u64) as usize])
                .collect();
            assert_eq!(skeleton(&name), skeleton_reference(&name), "{name:?}");
        }
        for name in [
            "",
            " ",
            "al",
            "Abdul",
            "abdulabdul",
            "Al-Abdel Qader",
            "U.S. Central Command",
        ] {
            assert_eq!(skeleton(name), skeleton_reference(name), "{name:?}");
        }
    }

    #[test]
    fn skeletons_join_spelling_variants_and_keep_names_apart() {
        let same: &[(&str, &str)] = &[
            ("Jassim al-Mazrouei", "Jassim al-Mazroui"),
            ("Abu Ali al-Tunisi", "Abu-Ali Al-Tunisi"),
            ("Ahmad Hamed Zwein", "Ahmad Hamid Zwein"),
            ("Abdul Qadir Mumin", "Abdulqadir Mumin"),
            ("Abd al-Karim", "Abdel Karim"),
            ("US Central Command", "U.S. Central Command"),
            ("Hussein", "Husein"),
        ];
        for (a, b) in same {
            assert_eq!(skeleton(a), skeleton(b), "{a} / {b}");
        }
        let different: &[(&str, &str)] = &[
            ("Ali Hassan", "Ali Hussein"),
            ("Ahmad Zwein", "Ahmad Zwain"),
            ("Pat Ryder", "Pat Rider"),
        ];
        for (a, b) in different {
            assert_ne!(skeleton(a), skeleton(b), "{a} / {b}");
        }
    }
}
