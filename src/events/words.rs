//! The events stage's word pass: one walk over a sentence's words that notes which word
//! lists it has (the gates of the `statistic`, `new_incident`, `described` and `total`
//! patterns) and where each word starts that may begin an incident word (`trigger`) or a
//! casualty word (`killed_after`). The stage then finds those patterns' matches by
//! comparing a few strings at those places.
//!
//! Why: the incident words were a regex search over every sentence with figures, and the
//! casualty words a search after every number, about 15,000 searches per 2 MB at 700 to
//! 1,400 instructions each, most of it the searches' set-up on 40-110 byte texts; the
//! sentence's list words were a walk over the same words already. (A regex search of the
//! incident words over whole documents, and a hand matcher in a pass of its own, each cost
//! more than the per-sentence searches: see docs/performance.md. This pass replaces both
//! searches and the list walk at once.)

use rustc_hash::FxHashMap;

use super::is_word_byte;

/// Every match of `statistic` contains one of its words: "since", "in all of", "over the",
/// "annually", "half of", and "year" only after "so far this", "per", "each" or "every".
/// (A bare "year" let most sentences with figures in: "... killed 363 people this year".)
pub(super) const STATISTIC: u8 = 1;
/// Every match of `new_incident` contains one of its words.
pub(super) const NEW_INCIDENT: u8 = 2;
/// Every match of `described` contains a direction word after "the " or "'s ".
pub(super) const DIRECTION: u8 = 4;
/// Words of which every match of `total` contains one at a word start, or begins with one
/// (see `EventStage::total_at`).
pub(super) const TOTAL: u8 = 8;

/// A word that may begin a match of `trigger` (an incident word).
pub(super) const INCIDENT: u8 = 1;
/// A word that may begin a casualty word.
pub(super) const CASUALTY: u8 = 2;

/// A word of a sentence that may begin an incident word or a casualty word: where it
/// starts (an offset of the haystack), what it may begin ([`INCIDENT`], [`CASUALTY`]), and
/// its entry in [`Forms`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Cand {
    pub at: u32,
    pub kinds: u8,
    entry: u16,
}

/// The words of two patterns of literal words, as every string they match (their forms),
/// filed by first word: the incident words and the casualty words.
///
/// A match of `\b(?:words)\b` at a word start begins with one of the forms' first words,
/// and that first word is the whole `\w` run there: a form's first word ends where the
/// form does (then `\b` follows) or before a space or hyphen. So a word start needs a
/// look at the forms only when its run is one of these first words, and then the forms
/// with that first word, compared in the order a leftmost-first search prefers them, give
/// the match the search would ([`Forms::form_at`]).
pub(super) struct Forms {
    /// First word (lower case, packed as [`key`] packs it) -> its entry.
    index: FxHashMap<u128, u16>,
    entries: Vec<Entry>,
    /// Every form, lower case, in the patterns' order within each first word.
    forms: Vec<Box<[u8]>>,
    /// For each lower-case letter, the second letters of the first words it begins (bits):
    /// most words are refused by this before their key is made.
    second: [u32; 26],
    /// The lengths of the first words.
    shortest: usize,
    longest: usize,
}

/// A first word: what it may begin, its length, and its forms of each kind (ranges of
/// `Forms::forms`).
struct Entry {
    kinds: u8,
    len: u8,
    incident: (u16, u16),
    casualty: (u16, u16),
}

/// The longest first word a [`Forms`] can hold (the bytes of a `u128`).
const LONGEST_FIRST: usize = 16;

/// Word run `w` (ASCII word bytes, at most [`LONGEST_FIRST`]) as a key: each byte with bit
/// 0x20 set (a capital becomes its small letter; a small letter or digit stays; `_`
/// becomes DEL, which no key has), packed little-endian and padded with zeros.
fn key(w: &[u8]) -> u128 {
    let mut buf = [0u8; LONGEST_FIRST];
    buf[..w.len()].copy_from_slice(w);
    let mask = if w.len() == LONGEST_FIRST {
        u128::MAX
    } else {
        (1u128 << (8 * w.len())) - 1
    };
    u128::from_le_bytes(buf) | (0x2020_2020_2020_2020_2020_2020_2020_2020 & mask)
}

impl Forms {
    /// The forms of `incident` and `casualty`, regex alternations of literal words (see
    /// [`expand`]).
    pub(super) fn new(incident: &str, casualty: &str) -> Forms {
        let mut by_first: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
        for (kind, pattern) in [(INCIDENT, incident), (CASUALTY, casualty)] {
            for form in expand(pattern) {
                let b = form.as_bytes();
                assert!(
                    b[0].is_ascii_lowercase() && b[b.len() - 1].is_ascii_lowercase(),
                    "a form begins and ends with a letter: {form:?}"
                );
                let first_len = b.iter().position(|&c| !is_word_byte(c)).unwrap_or(b.len());
                let first = &form[..first_len];
                assert!((2..=LONGEST_FIRST).contains(&first.len()), "{form:?}");
                let k = match by_first.iter().position(|f| f.0 == first) {
                    Some(k) => k,
                    None => {
                        by_first.push((first.to_string(), Vec::new(), Vec::new()));
                        by_first.len() - 1
                    }
                };
                let list = if kind == INCIDENT {
                    &mut by_first[k].1
                } else {
                    &mut by_first[k].2
                };
                // (The first of equal forms is the one a search would take.)
                if !list.contains(&form) {
                    list.push(form);
                }
            }
        }
        let mut f = Forms {
            index: FxHashMap::default(),
            entries: Vec::new(),
            forms: Vec::new(),
            second: [0; 26],
            shortest: usize::MAX,
            longest: 0,
        };
        for (first, incident, casualty) in by_first {
            let b = first.as_bytes();
            f.second[usize::from(b[0] - b'a')] |= 1 << (b[1] - b'a');
            f.shortest = f.shortest.min(b.len());
            f.longest = f.longest.max(b.len());
            let mut range = |list: Vec<String>| {
                let from = f.forms.len() as u16;
                f.forms
                    .extend(list.into_iter().map(|s| s.into_bytes().into_boxed_slice()));
                (from, f.forms.len() as u16)
            };
            let (incident, casualty) = (range(incident), range(casualty));
            let kinds = if incident.0 < incident.1 { INCIDENT } else { 0 }
                | if casualty.0 < casualty.1 { CASUALTY } else { 0 };
            f.index.insert(key(b), f.entries.len() as u16);
            f.entries.push(Entry {
                kinds,
                len: b.len() as u8,
                incident,
                casualty,
            });
        }
        f
    }

    /// The entry of word run `w` (ASCII word bytes) when it is a first word.
    fn lookup(&self, w: &[u8]) -> Option<u16> {
        if w.len() < self.shortest || w.len() > self.longest {
            return None;
        }
        let (a, b) = (
            (w[0] | 0x20).wrapping_sub(b'a'),
            (w[1] | 0x20).wrapping_sub(b'a'),
        );
        if a >= 26 || b >= 26 || self.second[usize::from(a)] & (1 << b) == 0 {
            return None;
        }
        self.index.get(&key(w)).copied()
    }

    /// The end of the match of `\b(?:forms of kind)\b` that begins at `x` in ASCII text
    /// `h`, where candidate `c` (a word start of `h`, `\b` before it) is: the first of its
    /// forms, in the patterns' order, that `h` has at `x` without case and that ends at a
    /// word boundary (every form ends with a letter). That is the match a leftmost-first
    /// search anchored at `x` takes ([`expand`] gives the forms in its order).
    ///
    /// (The word run at `x` is the entry's first word, so only what follows it is
    /// compared: nothing, for a form of one word, which then matches, the run ending at
    /// `\b`.)
    pub(super) fn form_at(&self, h: &[u8], x: usize, c: &Cand, kind: u8) -> Option<usize> {
        debug_assert!(x < h.len() && (x == 0 || !is_word_byte(h[x - 1])));
        let e = &self.entries[usize::from(c.entry)];
        let (from, to) = if kind == INCIDENT {
            e.incident
        } else {
            e.casualty
        };
        let first = x + usize::from(e.len);
        debug_assert!(
            from == to
                || h[x..first].eq_ignore_ascii_case(&self.forms[usize::from(from)][..first - x])
        );

        self.forms[usize::from(from)..usize::from(to)]
            .iter()
            .find(|f| {
                let end = x + f.len();
                end <= h.len()
                    && h[first..end].eq_ignore_ascii_case(&f[usize::from(e.len)..])
                    && h.get(end).map_or(true, |&b| !is_word_byte(b))
            })
            .map(|f| x + f.len())
    }

    /// The candidate at `x` of ASCII text `h` when the word run there is a first word
    /// (`x` a word start): for a text whose first byte is not a word start of the
    /// sentence's pass (a number's end, for the casualty words after it).
    pub(super) fn cand_at(&self, h: &[u8], x: usize, base: usize) -> Option<Cand> {
        let end = h[x..]
            .iter()
            .position(|&b| !is_word_byte(b))
            .map_or(h.len(), |p| x + p);
        let entry = self.lookup(&h[x..end])?;
        Some(Cand {
            at: (base + x) as u32,
            kinds: self.entries[usize::from(entry)].kinds,
            entry,
        })
    }
}

/// Every string regex `p` matches, lower case, in the order a leftmost-first search
/// prefers them at one place. `p` may hold only letters, spaces and hyphens, classes of
/// them (`[ -]`), groups (`(?:a|b)`), alternation and `?`: a pattern of literal words
/// such as the incident words.
///
/// Why the order is the search's: a leftmost-first search tries the alternatives in
/// order, and for each element of a sequence its choices in order (`x?` takes `x` before
/// nothing), the earlier element's choice first; so it takes the first, in that
/// lexicographic order of choices, that matches. Each choice of every element is one
/// string here, listed in that order.
pub(super) fn expand(p: &str) -> Vec<String> {
    let b = p.as_bytes();
    let mut i = 0;
    let out = alternation(b, &mut i);
    assert_eq!(i, b.len(), "unsupported syntax at {i} of {p:?}");
    out
}

fn alternation(b: &[u8], i: &mut usize) -> Vec<String> {
    let mut out = sequence(b, i);
    while b.get(*i) == Some(&b'|') {
        *i += 1;
        out.extend(sequence(b, i));
    }
    out
}

fn sequence(b: &[u8], i: &mut usize) -> Vec<String> {
    let mut out = vec![String::new()];
    while *i < b.len() && b[*i] != b'|' && b[*i] != b')' {
        let literal = |c: u8| {
            assert!(
                c.is_ascii_alphabetic() || c == b' ' || c == b'-',
                "unsupported {:?}",
                c as char
            );
            (c.to_ascii_lowercase() as char).to_string()
        };
        let mut options: Vec<String> = match b[*i] {
            b'(' => {
                assert!(b[*i..].starts_with(b"(?:"), "only (?: groups");
                *i += 3;
                let o = alternation(b, i);
                assert_eq!(b.get(*i), Some(&b')'), "a group closes");
                *i += 1;
                o
            }
            b'[' => {
                let len = b[*i..]
                    .iter()
                    .position(|&c| c == b']')
                    .expect("a class closes");
                let o = b[*i + 1..*i + len].iter().map(|&c| literal(c)).collect();
                *i += len + 1;
                o
            }
            c => {
                *i += 1;
                vec![literal(c)]
            }
        };
        if b.get(*i) == Some(&b'?') {
            *i += 1;
            options.push(String::new());
        }
        out = out
            .iter()
            .flat_map(|a| options.iter().map(move |o| format!("{a}{o}")))
            .collect();
    }
    out
}

/// The word lists of [`STATISTIC`], [`NEW_INCIDENT`], [`DIRECTION`] and [`TOTAL`] that ASCII
/// text `h` has a word of at a word start, ignoring case (the patterns gated by a list
/// cannot match without one); and, pushed to `out`, the words of `h` that may begin an
/// incident word or a casualty word (`base` + their offset in `h`, with their entries in
/// `forms`), in order.
///
/// Why word starts: in every pattern gated by a list, the list's word begins a word (it
/// follows `\b` or a space: "since", "per year", "a separate", "the north..."), so a
/// sentence without one at a word start cannot match either. The incident and casualty
/// words begin at `\b` too (see [`Forms`]).
pub(super) fn scan(h: &[u8], base: usize, forms: &Forms, out: &mut Vec<Cand>) -> u8 {
    let bytes = h;
    let mut lists = 0;
    let mut i = 0;
    while i < bytes.len() && CLASS[bytes[i] as usize] == 0 {
        i += 1;
    }
    while i < bytes.len() {
        // At a word start: find its end first.
        let start = i;
        i += 1;
        while i < bytes.len() && CLASS[bytes[i] as usize] != 0 {
            i += 1;
        }
        let class = CLASS[bytes[start] as usize];
        // (Most words begin with a letter of the lists' words, few with the two letters of
        // one: one test of the second letter rejects them.)
        let second = bytes
            .get(start + 1)
            .map_or(26, |&b| (b | 0x20).wrapping_sub(b'a'));
        if class >= 2 && second < 26 && SECOND[(class - 2) as usize] & (1 << second) != 0 {
            let rest = &bytes[start..];
            for &(w, bit) in BY_FIRST[(class - 2) as usize].1 {
                let w = w.as_bytes();
                // (`| 0x20` lower-cases a letter and makes no other byte one.)
                let fits = rest.len() >= w.len()
                    && rest[1] | 0x20 == w[1]
                    && rest[2..w.len()].eq_ignore_ascii_case(&w[2..]);
                if fits && (bit != DIRECTION || after_the(bytes, start)) {
                    lists |= bit;
                }
            }
        }
        if let Some(entry) = forms.lookup(&bytes[start..i]) {
            out.push(Cand {
                at: (base + start) as u32,
                kinds: forms.entries[usize::from(entry)].kinds,
                entry,
            });
        }
        while i < bytes.len() && CLASS[bytes[i] as usize] == 0 {
            i += 1;
        }
    }
    lists
}

/// Per byte: 0 not a word character (ASCII `\w`), 1 a word character that begins no word
/// of the lists, else 2 + the index of its letter in `BY_FIRST`.
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' {
            t[b] = 1;
        }
        b += 1;
    }
    let mut k = 0;
    while k < BY_FIRST.len() {
        let f = BY_FIRST[k].0;
        t[f as usize] = 2 + k as u8;
        t[f.to_ascii_uppercase() as usize] = 2 + k as u8;
        k += 1;
    }
    t
};

/// For each letter of `BY_FIRST`: the second letters of its words, as bits.
const SECOND: [u32; BY_FIRST.len()] = {
    let mut t = [0u32; BY_FIRST.len()];
    let mut k = 0;
    while k < BY_FIRST.len() {
        let mut j = 0;
        while j < BY_FIRST[k].1.len() {
            t[k] |= 1 << (BY_FIRST[k].1[j].0.as_bytes()[1] - b'a');
            j += 1;
        }
        k += 1;
    }
    t
};

/// Whether the word at `i` of ASCII text `b` follows "the " or "'s " (any case): in
/// `described` a direction word follows `(?:the|\w+['’]s) ` (`’` is `'` in a
/// haystack). Why: "villages east of the town" let the pattern's capture search run
/// for most sentences with a direction word, and it never matched there.
fn after_the(b: &[u8], i: usize) -> bool {
    i >= 4 && b[i - 1] == b' ' && b[i - 4..i - 1].eq_ignore_ascii_case(b"the")
        || i >= 3 && b[i - 1] == b' ' && b[i - 2] | 0x20 == b's' && b[i - 3] == b'\''
}

/// The words of the lists by their first letter, with their lists, as [`scan`] reads them
/// (a test checks that they are the same words).
pub(super) const BY_FIRST: [(u8, &[(&str, u8)]); 14] = [
    (
        b'a',
        &[
            ("annually", STATISTIC),
            ("another", NEW_INCIDENT),
            ("all", TOTAL),
            ("altogether", TOTAL),
        ],
    ),
    (b'c', &[("climbed", TOTAL)]),
    (
        b'e',
        &[
            ("earlier", NEW_INCIDENT),
            ("east", DIRECTION),
            ("each year", STATISTIC),
            ("every year", STATISTIC),
        ],
    ),
    (b'f', &[("far this year", STATISTIC)]),
    (b'h', &[("half of", STATISTIC)]),
    (b'i', &[("in all of ", STATISTIC), ("increased", TOTAL)]),
    (b'l', &[("last ", NEW_INCIDENT)]),
    (b'n', &[("north", DIRECTION)]),
    (b'o', &[("over the ", STATISTIC)]),
    (b'p', &[("previous", NEW_INCIDENT), ("per year", STATISTIC)]),
    (
        b'r',
        &[
            ("rose", TOTAL),
            ("risen", TOTAL),
            ("rises", TOTAL),
            ("reached", TOTAL),
        ],
    ),
    (
        b's',
        &[
            ("since ", STATISTIC),
            ("separate", NEW_INCIDENT),
            ("second", NEW_INCIDENT),
            ("similar", NEW_INCIDENT),
            ("south", DIRECTION),
        ],
    ),
    (b't', &[("total", TOTAL), ("toll", TOTAL)]),
    (b'w', &[("west", DIRECTION)]),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// `expand` lists a pattern's strings in the order of a leftmost-first search's
    /// preference (checked against the regex crate below), lower case.
    #[test]
    fn expand_lists_the_strings_in_the_search_order() {
        let cases: [(&str, &[&str]); 7] = [
            ("raid", &["raid"]),
            ("raids?", &["raids", "raid"]),
            ("a|b", &["a", "b"]),
            (
                "air[ -]?raids?",
                &[
                    "air raids",
                    "air raid",
                    "air-raids",
                    "air-raid",
                    "airraids",
                    "airraid",
                ],
            ),
            (
                "kidnap(?:ped|ping|pings)",
                &["kidnapped", "kidnapping", "kidnappings"],
            ),
            ("IEDs?|x(?:a|b)?y", &["ieds", "ied", "xay", "xby", "xy"]),
            ("neutrali[sz]ed", &["neutralised", "neutralized"]),
        ];
        for (p, want) in cases {
            assert_eq!(expand(p), want, "{p}");
        }
    }

    /// At every word start of random texts of their forms' pieces, `Forms` finds the match
    /// a search of `\b(?:words)\b` anchored there finds, for both patterns of the stage.
    #[test]
    fn forms_give_the_anchored_match() {
        let (incident, casualty) = (super::super::TRIGGER_WORDS, super::super::CASUALTY_WORDS);
        let forms = Forms::new(incident, casualty);
        let anchored = |p: &str| {
            regex::Regex::new(&format!(r"(?i-u)\A(?:{p})\b")).expect("the pattern compiles")
        };
        let (re_i, re_c) = (anchored(incident), anchored(casualty));
        let mut pieces: Vec<String> = Vec::new();
        for p in [incident, casualty] {
            for f in expand(p) {
                pieces.extend(f.split([' ', '-']).map(str::to_string));
                pieces.push(f[..f.len() - 1].to_string());
                pieces.push(f.to_uppercase());
            }
        }
        pieces.extend(["the", "x", "_", "5"].map(str::to_string));
        let gaps = [" ", "-", "", "  ", ", "];
        let mut next = crate::testing::xorshift(0x2545_F491_4F6C_DD1Du64);
        let mut found = [0; 2];
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..next(6) {
                text.push_str(&pieces[next(pieces.len())]);
                text.push_str(gaps[next(gaps.len())]);
            }
            let h = text.as_bytes();
            let mut cands = Vec::new();
            scan(h, 0, &forms, &mut cands);
            for x in
                (0..h.len()).filter(|&x| is_word_byte(h[x]) && (x == 0 || !is_word_byte(h[x - 1])))
            {
                let c = cands.iter().find(|c| c.at as usize == x);
                assert_eq!(c, forms.cand_at(h, x, 0).as_ref(), "{text:?} at {x}");
                for (k, (kind, re)) in [(INCIDENT, &re_i), (CASUALTY, &re_c)]
                    .into_iter()
                    .enumerate()
                {
                    let want = re.find(&text[x..]).map(|m| x + m.end());
                    let got = c
                        .filter(|c| c.kinds & kind != 0)
                        .and_then(|c| forms.form_at(h, x, c, kind));
                    assert_eq!(got, want, "{text:?} at {x}");
                    found[k] += usize::from(want.is_some());
                }
            }
        }
        assert!(found.iter().all(|&n| n > 1000), "{found:?}");
    }
}
