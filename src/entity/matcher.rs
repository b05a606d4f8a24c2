//! Gazetteer lookup: leftmost-longest, whole words only, on a folded copy of the text (no
//! diacritics, one apostrophe, hyphens as spaces: see [`super::normalize`]) whose matches
//! are mapped back to the original offsets.
//!
//! Two automata ([`super::trie::Trie`]): one for aliases that match whatever their case
//! (ASCII case-folded, which after folding covers the Latin-script names), one for aliases
//! that match only as written (`=IS`, `=US`). Their matches are merged, the longest winning
//! where they overlap.

use std::borrow::Cow;
use std::collections::HashSet;

use super::fxhash::FxHashMap;
use super::gazetteer::Entry;
use super::normalize::{fold, Folded};
use super::trie::Trie;
use crate::error::Result;
use crate::facts::{Entity, EntityType, Span};

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
    not_names: HashSet<String>,
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
        for (i, e) in entries.iter().enumerate() {
            for (n, alias) in e.aliases.iter().enumerate() {
                let text = fold(&alias.text);
                if text.is_empty() {
                    continue;
                }
                let lower = text.to_ascii_lowercase();
                if !self.keeps(e, &alias.text, &lower, n == 0) {
                    continue;
                }
                let cap = capitalised(&alias.text);
                let (map, key) = if alias.case_sensitive || acronym(&alias.text) {
                    (&mut exact, text)
                } else {
                    (&mut folded, lower)
                };
                let r = rank(e, n == 0);
                match map.get_mut(&key) {
                    Some((j, all_cap, _)) if *j == i => *all_cap &= cap,
                    Some((_, _, old)) if *old <= r => {}
                    _ => {
                        map.insert(key, (i, cap, r));
                    }
                }
            }
        }
        let build = |map: FxHashMap<String, (usize, bool, Rank)>, fold_case: bool| {
            // Sorted keys: the trie is built from them, and key ids are deterministic.
            let mut pairs: Vec<(String, (usize, bool, Rank))> = map.into_iter().collect();
            pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let targets = pairs
                .iter()
                .map(|(_, (i, cap, _))| Target {
                    entry: *i,
                    capitalised: fold_case && *cap,
                })
                .collect();
            let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
            (Trie::new(&keys), targets)
        };
        let (folded, folded_targets) = build(folded, true);
        let (exact, exact_targets) = build(exact, false);
        Ok(Matcher {
            entries,
            folded,
            folded_targets,
            exact,
            exact_targets,
        })
    }
}

/// The compiled gazetteers: immutable, `Send + Sync`, shared by all workers.
#[derive(Clone, Debug)]
pub struct Matcher {
    entries: Vec<Entry>,
    folded: Trie,
    folded_targets: Vec<Target>,
    exact: Trie,
    exact_targets: Vec<Target>,
}

#[derive(Clone, Copy, Debug)]
struct Target {
    entry: usize,
    /// The alias begins with a capital letter, so the text must too ("Mobile" the city is
    /// not "mobile" the adjective).
    capitalised: bool,
}

/// How strongly an entry claims a name: lower is stronger.
type Rank = (u8, u8, u8, std::cmp::Reverse<u64>);

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

    /// Heap bytes held by the two automata (not the entries), for the benchmarks.
    pub fn heap_bytes(&self) -> usize {
        self.folded.heap_bytes() + self.exact.heap_bytes()
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
    pub fn find_folded(&self, text: &str, folded: &Folded) -> Vec<GazetteerMatch> {
        let ft = folded.text.as_str();
        let bytes = ft.as_bytes();
        let mut out = Vec::new();
        let mut prev_word = false;
        let mut next_free = 0;
        let mut at = 0;
        while at < bytes.len() {
            let b = bytes[at];
            let (word, width) = if b.is_ascii() {
                (b.is_ascii_alphanumeric(), 1)
            } else {
                let c = ft[at..].chars().next().expect("a char boundary");
                (is_word_char(c), c.len_utf8())
            };
            let start = word && !prev_word;
            prev_word = word;
            let here = at;
            at += width;
            if !start || here < next_free {
                continue;
            }
            let mut best: Option<(usize, usize)> = None; // (end, entry)
                                                         // The case-sensitive automaton first: on a tie its match is the better evidence
                                                         // ("UN" the organisation, not Un the town).
            for (trie, targets, fold_case) in [
                (&self.exact, &self.exact_targets, false),
                (&self.folded, &self.folded_targets, true),
            ] {
                let Some((end, key)) = trie.longest_prefix(bytes, here, fold_case) else {
                    continue;
                };
                if !whole_word(ft, Span::new(here, end)) {
                    continue;
                }
                let (s, e) = folded.original_span(here, end);
                let target = targets[key];
                if target.capitalised && !capitalised(&text[s..]) {
                    continue;
                }
                let entry = &self.entries[target.entry];
                if entry.weak && (sentence_start(text, s) || !capitalised(&text[s..e])) {
                    continue;
                }
                if best.map_or(true, |(old, _)| end > old) {
                    best = Some((end, target.entry));
                }
            }
            if let Some((end, entry)) = best {
                let (s, e) = folded.original_span(here, end);
                out.push(GazetteerMatch {
                    span: Span::new(s, e),
                    entry,
                });
                next_free = end;
            }
        }
        out
    }

    /// A hit as an entity fact.
    pub fn entity(&self, text: &str, h: GazetteerMatch) -> Entity {
        let e = &self.entries[h.entry];
        Entity {
            span: h.span,
            text: text[h.span.start..h.span.end].to_string(),
            etype: e.etype,
            canonical: e.canonical.clone(),
            entity_id: e.id.clone(),
            kind: e.kind.clone(),
            geo: e.geo.clone(),
            rule: "gazetteer".to_string(),
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

/// Whether `span` starts and ends on word boundaries.
pub(crate) fn whole_word(text: &str, span: Span) -> bool {
    let before = text[..span.start].chars().next_back();
    let after = text[span.end..].chars().next();
    !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
}

fn capitalised(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
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

    #[test]
    fn matches_are_folded_whole_words_mapped_back() {
        let m = matcher(
            "L:mosul\tMosul\tPLACE\tcity\tMūşil|Al Mawsil\tIQ\t\t\t\t1000000\t\n\
             L:anbar\tAnbar\tPLACE\tregion\tal-Anbar\tIQ\t\t\t\t\t\n\
             O:is\tIslamic State\tORG\tarmed_group\t=IS|ISIS\t\t\t\t\t\t\n\
             L:one\tOnex\tPLACE\tcity\tOne\tCH\t\t\t\t18000\t\n\
             L:taylor\tTaylor\tPLACE\tcity\t\tUS\t\t\t\t20000\t\n\
             L:lima\tLima\tPLACE\tcity\t\tPE\t\t\t\t7000000\t\n\
             L:c\tCentral District\tPLACE\tregion\tCentral\tBW\t\t\t\t\t\n",
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
