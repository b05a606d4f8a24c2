//! Gazetteer lookup with Aho-Corasick automata: leftmost-longest, whole words only.
//!
//! Two automata: one for aliases that match whatever their case (ASCII case-folded), one
//! for aliases that match only as written (`=IS`, `=US`). Their matches are merged, the
//! longest winning where they overlap.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::gazetteer::Entry;
use crate::error::{Error, Result};
use crate::facts::{Entity, EntityType, Span};

/// A gazetteer hit: which entry, where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GazetteerMatch {
    pub span: Span,
    pub entry: usize,
}

/// The compiled gazetteers: immutable, `Send + Sync`, shared by all workers.
pub struct Matcher {
    entries: Vec<Entry>,
    folded: AhoCorasick,
    folded_targets: Vec<Target>,
    exact: AhoCorasick,
    exact_targets: Vec<Target>,
}

#[derive(Clone, Copy, Debug)]
struct Target {
    entry: usize,
    /// The alias begins with a capital letter, so the text must too ("Mobile" the city is
    /// not "mobile" the adjective).
    capitalised: bool,
}

/// Which of several entries sharing a name to prefer: countries, then regions, then other
/// places by population, then everything else in file order.
fn rank(e: &Entry) -> (u8, std::cmp::Reverse<u64>) {
    let r = match (e.etype, e.kind.as_str()) {
        (EntityType::Place, "country") => 0,
        (EntityType::Org, _) | (EntityType::Person, _) | (EntityType::Norp, _) => 1,
        (EntityType::Place, "region") => 2,
        (EntityType::Place, "continent" | "area" | "feature") => 3,
        _ => 4,
    };
    (r, std::cmp::Reverse(e.population))
}

impl Matcher {
    /// Compiles the entries' aliases into the two automata.
    pub fn build(entries: &[Entry]) -> Result<Matcher> {
        let mut folded: HashMap<String, usize> = HashMap::new();
        let mut exact: HashMap<String, usize> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            for alias in &e.aliases {
                let (map, key) = if alias.case_sensitive {
                    (&mut exact, alias.text.clone())
                } else {
                    (&mut folded, alias.text.to_ascii_lowercase())
                };
                match map.get(&key) {
                    Some(&j) if rank(&entries[j]) <= rank(e) => {}
                    _ => {
                        map.insert(key, i);
                    }
                }
            }
        }
        let build =
            |map: HashMap<String, usize>, fold: bool| -> Result<(AhoCorasick, Vec<Target>)> {
                let mut pairs: Vec<(String, usize)> = map.into_iter().collect();
                pairs.sort();
                let targets = pairs
                    .iter()
                    .map(|(key, i)| Target {
                        entry: *i,
                        capitalised: fold
                            && entries[*i]
                                .aliases
                                .iter()
                                .filter(|a| a.text.to_ascii_lowercase() == *key)
                                .all(|a| capitalised(&a.text)),
                    })
                    .collect();
                let ac = AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .ascii_case_insensitive(fold)
                    .build(pairs.iter().map(|(k, _)| k))
                    .map_err(|e| Error::usage(format!("cannot compile the gazetteers: {e}")))?;
                Ok((ac, targets))
            };
        let (folded, folded_targets) = build(folded, true)?;
        let (exact, exact_targets) = build(exact, false)?;
        Ok(Matcher {
            entries: entries.to_vec(),
            folded,
            folded_targets,
            exact,
            exact_targets,
        })
    }

    /// The entries, indexed by [`GazetteerMatch::entry`].
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Every gazetteer hit in `text`, on whole words, without overlaps, in text order.
    pub fn find(&self, text: &str) -> Vec<GazetteerMatch> {
        let mut hits = Vec::new();
        for (ac, targets) in [
            (&self.folded, &self.folded_targets),
            (&self.exact, &self.exact_targets),
        ] {
            for m in ac.find_iter(text) {
                let span = Span::new(m.start(), m.end());
                let target = targets[m.pattern().as_usize()];
                if !whole_word(text, span) {
                    continue;
                }
                if target.capitalised
                    && !text[span.start..]
                        .chars()
                        .next()
                        .is_some_and(char::is_uppercase)
                {
                    continue;
                }
                let entry = &self.entries[target.entry];
                if entry.weak
                    && (sentence_start(text, span.start)
                        || !capitalised(&text[span.start..span.end]))
                {
                    continue;
                }
                hits.push(GazetteerMatch {
                    span,
                    entry: target.entry,
                });
            }
        }
        // Merge the two automata's hits: longest first where they overlap.
        hits.sort_by_key(|h| (h.span.start, std::cmp::Reverse(h.span.end)));
        let mut out: Vec<GazetteerMatch> = Vec::with_capacity(hits.len());
        for h in hits {
            if out.last().is_some_and(|last| last.span.overlaps(&h.span)) {
                continue;
            }
            out.push(h);
        }
        out
    }

    /// The hits as entity facts.
    pub fn entities(&self, text: &str) -> Vec<Entity> {
        self.find(text)
            .into_iter()
            .map(|h| {
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
            })
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
