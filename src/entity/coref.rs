//! Within one document: short forms that refer back to a name found earlier or later.
//!
//! - an acronym in brackets right after a name is another name of it ("Iraqi National
//!   Intelligence Service (INIS)"), and so is every other use of that acronym in the text;
//! - a person's family name alone ("Ryder", "al-Sudani"), with or without a title
//!   ("General Ryder"), is that person.
//!
//! Both take the full name's canonical form and id, so the tables and the cross-document
//! identity see one entity.

use super::names::{set, Analysis, NameRules};
use crate::facts::{Entity, EntityType, Span};
use rustc_hash::FxHashMap;

/// Where `span` may go in `ents` (sorted, not overlapping): `Ok(i)` to insert at `i`, or
/// `Err(i)` if it overlaps entity `i`.
fn slot(ents: &[Entity], span: Span) -> Result<usize, usize> {
    let i = ents.partition_point(|e| e.span.end <= span.start);
    match ents.get(i) {
        Some(e) if e.span.overlaps(&span) => Err(i),
        _ => Ok(i),
    }
}

/// Whether a gazetteer hit may give way to a person's short form: towns and groups
/// named like a family name, not countries, regions or organisations.
fn yields_to_person(e: &Entity) -> bool {
    e.rule == "gazetteer"
        && (e.etype == EntityType::Norp
            || (e.etype == EntityType::Place && !matches!(e.kind.as_str(), "country" | "region")))
}

fn copy_identity(to: &mut Entity, from: &Entity) {
    to.etype = from.etype;
    to.canonical = from.canonical.clone();
    to.entity_id = from.entity_id.clone();
    to.kind = from.kind.clone();
    to.geo = from.geo.clone();
}

/// Whether `acronym` can stand for `name`: its letters, in order, among the name's, the
/// first one the first letter of the name's first or second word ("Iraqi National
/// Intelligence Service" / INIS, "Islamic State" / ISIS, but not "Baghdad" / AP).
pub(crate) fn abbreviates(acronym: &str, name: &str) -> bool {
    let words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| super::normalize::fold(w).to_lowercase())
        .collect();
    let letters: Vec<char> = super::normalize::fold(acronym)
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    let Some(&first) = letters.first() else {
        return false;
    };
    if words.len() < 2 || !words.iter().take(2).any(|w| w.starts_with(first)) {
        return false;
    }
    let mut hay = words.concat().chars().collect::<Vec<_>>().into_iter();
    letters.iter().all(|c| hay.any(|h| h == *c))
}

/// Whether the name `name` spells out `acronym` anew where the gazetteer knows the acronym
/// as another organisation `known`: "Ambazonia Defence Forces (ADF)" is not the Allied
/// Democratic Forces. The name must stand for the acronym, have another identity, and
/// start with another word than the known one's canonical name ("Rapid Support Force
/// (RSF)" is the gazetteer's Rapid Support Forces).
fn spelt_out_anew(acronym: &str, name: &Entity, known: &Entity) -> bool {
    let first = |s: &str| {
        s.split_whitespace()
            .next()
            .map(folded_lower)
            .unwrap_or_default()
    };
    name.entity_id != known.entity_id
        && abbreviates(acronym, &name.text)
        && first(&name.text) != first(&known.canonical)
}

/// Links bracketed acronyms to the name before them, and their other uses too.
pub(crate) fn acronyms(an: &Analysis, ents: &mut Vec<Entity>) {
    let text = an.text;
    let mut links: Vec<(String, usize)> = Vec::new();
    for (i, e) in ents.iter().enumerate() {
        if e.etype == EntityType::Norp {
            continue;
        }
        let mut rest = &text[e.span.end..];
        for generic in [" group", " organisation", " organization"] {
            if let Some(r) = rest.strip_prefix(generic) {
                rest = r;
            }
        }
        let Some(inner) = rest.strip_prefix(" (") else {
            continue;
        };
        let Some(close) = inner.find(')') else {
            continue;
        };
        let word = &inner[..close];
        let letters = word.chars().filter(|c| c.is_alphabetic()).count();
        if !(2..=10).contains(&letters)
            || !word.chars().next().is_some_and(char::is_uppercase)
            || !word
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        {
            continue;
        }
        if !links.iter().any(|(w, _)| w == word) {
            links.push((word.to_string(), i));
        }
    }
    for (word, i) in links {
        // The name and its acronym: if the gazetteer knows the acronym, the name takes its
        // identity ("Middle East Command (Centcom)"), else the acronym takes the name's.
        let at = ents[i].span.end;
        let acr_start = text[at..].find(&word).map(|p| at + p).expect("found above");
        let acr_span = Span::new(acr_start, acr_start + word.len());
        let known = match slot(ents, acr_span) {
            Err(j) if ents[j].span == acr_span && ents[j].rule == "gazetteer" => Some(j),
            _ => None,
        };
        let mut redefined = false;
        let source = match known {
            Some(j)
                if ents[j].etype == ents[i].etype && spelt_out_anew(&word, &ents[i], &ents[j]) =>
            {
                redefined = true;
                ents[i].clone()
            }
            Some(j) if ents[j].etype == ents[i].etype && ents[i].rule != "gazetteer" => {
                let from = ents[j].clone();
                copy_identity(&mut ents[i], &from);
                from
            }
            Some(_) => continue,
            None if abbreviates(&word, &ents[i].text) => ents[i].clone(),
            None => continue,
        };
        // Every use of the acronym, the bracketed one included. New rows are merged in
        // at the end: inserting each into the sorted list would be quadratic.
        let mut adds = Vec::new();
        let mut at = 0;
        while let Some(p) = text[at..].find(&word) {
            let span = Span::new(at + p, at + p + word.len());
            at = span.end;
            if !super::matcher::whole_word(text, span) {
                continue;
            }
            match slot(ents, span) {
                Ok(_) => {
                    let mut e = source.clone();
                    e.span = span;
                    e.text = word.clone();
                    e.rule = "acronym".into();
                    adds.push(e);
                }
                Err(k) if ents[k].span == span && ents[k].entity_id != source.entity_id => {
                    if ents[k].rule != "gazetteer"
                        || yields_to_person(&ents[k])
                        || (redefined && ents[k].text == word)
                    {
                        copy_identity(&mut ents[k], &source);
                        ents[k].rule = "acronym".into();
                    }
                }
                Err(_) => {}
            }
        }
        merge_in(ents, adds, &[]);
    }
}

/// Adds `adds` (which overlap no kept row) to the sorted `ents`, without the rows at
/// `removed`, keeping the order.
fn merge_in(ents: &mut Vec<Entity>, adds: Vec<Entity>, removed: &[usize]) {
    if adds.is_empty() && removed.is_empty() {
        return;
    }
    let mut gone = vec![false; ents.len()];
    for &i in removed {
        gone[i] = true;
    }
    let mut i = 0;
    ents.retain(|_| {
        i += 1;
        !gone[i - 1]
    });
    ents.extend(adds);
    ents.sort_by_key(|e| (e.span.start, std::cmp::Reverse(e.span.end)));
}

/// Gives a person's family name, used alone, the full name's identity.
pub(crate) fn surnames(rules: &NameRules, an: &Analysis, ents: &mut Vec<Entity>) {
    // family name key -> the person's row (the longest name wins; the first of equals).
    let mut people: FxHashMap<&str, usize> = FxHashMap::default();
    for (i, e) in ents
        .iter()
        .enumerate()
        .filter(|(_, e)| e.etype == EntityType::Person)
    {
        let first = an.toks.partition_point(|t| t.s < e.span.start);
        // The name's words, counted, and its last one (no list per person).
        let (words, last) = an.toks[first..]
            .iter()
            .take_while(|t| t.e <= e.span.end)
            .filter(|t| !rules.is(t, set::PARTICLES) || t.cap)
            .fold((0, None), |(n, _), t| (n + 1, Some(t)));
        let Some(last) = last else { continue };
        if words < 2 || last.key.chars().count() < 3 {
            continue;
        }
        let better = people
            .get(last.key_str())
            .map_or(true, |&p| ents[p].canonical.len() < e.canonical.len());
        if better {
            people.insert(last.key_str(), i);
        }
    }
    if people.is_empty() {
        return;
    }
    let t = &an.toks;
    let (mut adds, mut removed) = (Vec::new(), Vec::new());
    for &(a, b) in &an.runs {
        let mut s = a;
        while s < b && rules.is(&t[s], set::TITLES) {
            s += 1;
        }
        // One word of the name proper, the last (no list per run).
        let mut names = (s..=b).filter(|&i| !rules.is(&t[i], set::PARTICLES) || t[i].cap);
        let only_last = names.next() == Some(b) && names.next().is_none();
        // All capitals: a dateline ("GUSAU, Nigeria"), not a person.
        if !only_last || t[b].caps {
            continue;
        }
        let Some(&person) = people.get(t[b].key_str()) else {
            continue;
        };
        let person = &ents[person];
        let span = Span::new(t[s].s, t[b].e);
        let mut e = person.clone();
        e.span = span;
        e.text = an.text[span.start..span.end].to_string();
        e.rule = "surname".into();
        match slot(ents, span) {
            Ok(_) => adds.push(e),
            Err(k) => {
                // Replace hits inside the short form that are not persons ("Tunisi" the
                // town in "al-Tunisi"), if nothing else overlaps it.
                let inside: Vec<usize> = (k..ents.len())
                    .take_while(|&j| ents[j].span.overlaps(&span))
                    .collect();
                let ok = inside.iter().all(|&j| {
                    span.contains(&ents[j].span)
                        && (yields_to_person(&ents[j])
                            || (ents[j].etype == EntityType::Person
                                && ents[j].entity_id == person.entity_id))
                });
                if ok {
                    removed.extend(inside);
                    adds.push(e);
                }
            }
        }
    }
    merge_in(ents, adds, &removed);
}

/// Gives an organisation's short form found by a rule the identity of the full name used
/// in the same document: "the Syrian Observatory" after "Syrian Observatory for Human
/// Rights".
pub(crate) fn org_short_forms(ents: &mut [Entity]) {
    // Most documents have no organisation named by a rule alone: nothing to link, and no
    // need to fold every organisation's name.
    if !ents
        .iter()
        .any(|e| e.etype == EntityType::Org && e.entity_id.contains(":~"))
    {
        return;
    }
    // Each organisation name once (the first row of it), sorted, for prefix lookups.
    let mut full: Vec<(String, usize)> = ents
        .iter()
        .enumerate()
        .filter(|(_, e)| e.etype == EntityType::Org)
        .map(|(i, e)| (folded_lower(&e.text), i))
        .collect();
    full.sort();
    full.dedup_by(|a, b| a.0 == b.0);
    let mut links = Vec::new();
    for (i, e) in ents.iter().enumerate() {
        if e.etype != EntityType::Org || !e.entity_id.contains(":~") {
            continue;
        }
        let short = folded_lower(&e.text) + " ";
        let first = full.partition_point(|(t, _)| *t < short);
        if let Some((_, j)) = full[first..]
            .iter()
            .take_while(|(t, _)| t.starts_with(&short))
            .filter(|(_, j)| ents[*j].entity_id != e.entity_id)
            .max_by_key(|(t, _)| t.len())
        {
            links.push((i, *j));
        }
    }
    for (i, j) in links {
        let f = ents[j].clone();
        copy_identity(&mut ents[i], &f);
    }
}

/// [`super::normalize::fold`] of `s` in lower case; an ASCII name (most) lower-cased in
/// place, without `str::to_lowercase`'s second string and its character loop.
fn folded_lower(s: &str) -> String {
    let mut f = super::normalize::fold(s);
    if f.is_ascii() {
        f.make_ascii_lowercase();
        f
    } else {
        f.to_lowercase()
    }
}

/// "Jassim al-Mazroui, also known as Abu Abdul Qader": a person introduced as another
/// name of the person just before is that person.
pub(crate) fn also_known_as(text: &str, ents: &mut [Entity]) {
    for i in 1..ents.len() {
        let (before, rest) = ents.split_at_mut(i);
        let (p, e) = (&before[i - 1], &mut rest[0]);
        if p.etype != EntityType::Person || e.etype != EntityType::Person {
            continue;
        }
        let gap = text[p.span.end..e.span.start].trim().to_lowercase();
        let gap = gap.trim_start_matches(',').trim();
        let gap = gap.trim_start_matches('(').trim();
        if matches!(
            gap,
            "also known as" | "known as" | "alias" | "aka" | "a.k.a." | "better known as"
        ) {
            let p = p.clone();
            copy_identity(e, &p);
        }
    }
}
