//! The entity stage: persons, organisations, places and groups, found by gazetteer lookup
//! with byte tries asked at each word start ([`matcher`]) and by name rules ([`names`]),
//! tied together within a document ([`coref`]) and linked to a canonical name and a stable
//! id. How it works and how to extend it: docs/entities.md.

mod coref;
pub mod gazetteer;
mod matcher;
pub mod names;
pub mod normalize;
mod trie;

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use crate::document::Document;
use crate::error::{Error, Result};
use crate::facts::{Entity, EntityType, Facts, Geo, SharedStr, Span};
use crate::pipeline::Stage;
use rustc_hash::{FxHashMap, FxHashSet};

pub use gazetteer::{Alias, Entry};
pub use matcher::{GazetteerMatch, Matcher, MatcherBuilder};
pub use names::NameRules;

/// The gazetteers compiled into the binary, as `(file name, contents)`.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "countries.tsv",
        include_str!("../../gazetteers/countries.tsv"),
    ),
    ("regions.tsv", include_str!("../../gazetteers/regions.tsv")),
    ("cities.tsv", include_str!("../../gazetteers/cities.tsv")),
    (
        "features.tsv",
        include_str!("../../gazetteers/features.tsv"),
    ),
    ("norp.tsv", include_str!("../../gazetteers/norp.tsv")),
    ("orgs.tsv", include_str!("../../gazetteers/orgs.tsv")),
    ("persons.tsv", include_str!("../../gazetteers/persons.tsv")),
];

/// The file of a gazetteer folder that holds role titles, not entities.
pub const TITLES_FILE: &str = "titles.tsv";

/// A set of gazetteer entries, from the built-in files and/or a user's folder.
#[derive(Clone, Debug, Default)]
pub struct Gazetteers {
    pub entries: Vec<Entry>,
}

impl Gazetteers {
    /// The gazetteers shipped inside the binary.
    pub fn builtin() -> Result<Gazetteers> {
        let mut g = Gazetteers::default();
        let mut errors = Vec::new();
        for (name, content) in BUILTIN {
            match gazetteer::parse_static(&format!("<built-in>/{name}"), content) {
                Ok(entries) => g.entries.extend(entries),
                Err(e) => errors.push(e),
            }
        }
        g.check(errors)
    }

    /// Adds the `.tsv` files of a folder, in name order. An entry whose id is already
    /// present replaces the earlier one, so a user can correct a shipped entry.
    pub fn add_dir(mut self, dir: &Path) -> Result<Gazetteers> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
            // The titles of the roles stage live beside the entity gazetteers but are a
            // different format; the roles stage reads them (see docs/roles.md).
            .filter(|p| p.file_name() != Some(std::ffi::OsStr::new(TITLES_FILE)))
            .collect();
        files.sort();
        let mut errors = Vec::new();
        let mut user = Vec::new();
        for path in files {
            let content = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            match gazetteer::parse(&path.display().to_string(), &content) {
                Ok(entries) => user.extend(entries),
                Err(e) => errors.push(e),
            }
        }
        let replaced: FxHashSet<&str> = user.iter().map(|e| e.id.as_str()).collect();
        self.entries
            .retain(|old| !replaced.contains(old.id.as_str()));
        self.entries.extend(user);
        self.check(errors)
    }

    /// Reports parse errors and duplicate ids together.
    fn check(self, mut errors: Vec<Error>) -> Result<Gazetteers> {
        let mut seen = FxHashMap::default();
        for e in &self.entries {
            if let Some(first) = seen.insert(e.id.as_str(), e.origin.as_str()) {
                errors.push(Error::data(
                    crate::error::Location::file(&e.origin).with_id(e.id.as_str()),
                    format!("duplicate id (first defined at {first})"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(Error::many(errors))
        }
    }
}

/// The entity stage.
///
/// ```
/// use gleaner::entity::{EntityStage, Gazetteers, NameRules};
///
/// let stage = EntityStage::new(&Gazetteers::builtin().unwrap()).unwrap();
/// let found = stage.entities("Army spokesman Col. Amadou Traore said Traore's unit left Mopti.");
/// let names: Vec<(&str, &str)> =
///     found.iter().map(|e| (e.text.as_str(), e.canonical.as_str())).collect();
/// assert_eq!(names, [("Amadou Traore", "Amadou Traore"), ("Traore", "Amadou Traore"), ("Mopti", "Mopti")]);
/// assert_eq!(found[0].entity_id, found[1].entity_id);
/// ```
pub struct EntityStage {
    matcher: Matcher,
    rules: NameRules,
    /// [`normalize::skeleton`] of every alias of the persons, organisations, groups,
    /// countries, regions and features, by type: a name found by a rule and spelt like one
    /// of these takes its identity.
    skeletons: Skeletons,
    /// Per entry, what [`EntityStage::plausible`] asks of it (see [`Plausibility`]).
    plausibility: Vec<Plausibility>,
}

/// What [`EntityStage::plausible`] asks of a gazetteer entry, in 4 bytes: its country (an
/// index into the distinct country codes; [`Plausibility::NO_COUNTRY`] for none) and
/// flags.
///
/// Why: asked of every hit of a document, twice, the questions read the 200-byte entry
/// (type, kind compared as strings, population, the country code through the `Geo`
/// pointer) and hashed the country code into a set; some 600 instructions a hit and a
/// cache miss or two (callgrind: 15 M instructions per 2 MB). A document names a few
/// countries, so the sets are now short lists of indices.
#[derive(Clone, Copy, Debug)]
struct Plausibility {
    country: u16,
    flags: u8,
}

impl Plausibility {
    const NO_COUNTRY: u16 = u16::MAX;
    /// A country, or an organisation, group or person: it names its country outright.
    const NAMES: u8 = 1;
    /// A place of a million inhabitants or more.
    const BIG: u8 = 2;
    /// Always kept: not a place, or a country, feature, area or continent.
    const KEPT: u8 = 4;
    /// A place of 100,000 inhabitants or more (a town that may stand on its own name).
    const TOWN: u8 = 8;

    /// The table for `entries`; `None` if they have more distinct countries than the
    /// index holds (then [`EntityStage::plausible`] asks the entries themselves).
    fn table(entries: &[Entry]) -> Option<Vec<Plausibility>> {
        let mut codes: FxHashMap<&str, u16> = FxHashMap::default();
        entries
            .iter()
            .map(|e| {
                let country = match e
                    .geo
                    .as_ref()
                    .map(|g| g.country.as_str())
                    .filter(|c| !c.is_empty())
                {
                    None => Plausibility::NO_COUNTRY,
                    Some(c) => {
                        let next = u16::try_from(codes.len())
                            .ok()
                            .filter(|&n| n != Plausibility::NO_COUNTRY)?;
                        *codes.entry(c).or_insert(next)
                    }
                };
                let place = e.etype == EntityType::Place;
                let mut flags = 0;
                if e.kind == "country" || !place {
                    flags |= Plausibility::NAMES;
                }
                if e.population >= 1_000_000 {
                    flags |= Plausibility::BIG;
                }
                if !place
                    || matches!(
                        e.kind.as_str(),
                        "country" | "feature" | "area" | "continent"
                    )
                {
                    flags |= Plausibility::KEPT;
                }
                if e.population >= 100_000 {
                    flags |= Plausibility::TOWN;
                }
                Some(Plausibility { country, flags })
            })
            .collect()
    }
}

/// Per skeleton, the entry of each type that has it (by [`type_slot`]; `u32::MAX` for
/// none): looked up by the skeleton alone, without making an owned `(type, key)` pair for
/// every name a rule finds.
type Skeletons = FxHashMap<String, [u32; 4]>;

/// The index of a type in a [`Skeletons`] value.
fn type_slot(t: EntityType) -> usize {
    match t {
        EntityType::Person => 0,
        EntityType::Org => 1,
        EntityType::Place => 2,
        EntityType::Norp => 3,
    }
}

impl EntityStage {
    /// Compiles the gazetteers with the built-in name rules.
    pub fn new(gazetteers: &Gazetteers) -> Result<EntityStage> {
        EntityStage::with_rules(gazetteers, NameRules::builtin()?)
    }

    /// Compiles the gazetteers with the given name rules.
    pub fn with_rules(gazetteers: &Gazetteers, rules: NameRules) -> Result<EntityStage> {
        let entries = deserts_are_their_regions(&gazetteers.entries);
        // The skeleton table is built while the automata compile; it indexes the entries
        // as given, which `entries` keeps (only ids differ).
        let builder = MatcherBuilder::new().not_names(rules.not_names());
        let (matcher, skeletons) = rayon::join(
            move || builder.build(entries),
            || skeleton_table(&gazetteers.entries),
        );
        let matcher = matcher?;
        let plausibility = Plausibility::table(matcher.entries()).unwrap_or_default();
        Ok(EntityStage {
            matcher,
            rules,
            skeletons,
            plausibility,
        })
    }

    /// The compiled gazetteers.
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// The canonical name, id, kind and place of a name found by a rule: a gazetteer
    /// entry's if one is spelt alike, else the name itself and an id made from its
    /// skeleton (`P:~jasim-mazrui`), the same in every document.
    fn identify(
        &self,
        etype: EntityType,
        name: &str,
        feature: bool,
    ) -> (SharedStr, SharedStr, SharedStr, Option<Arc<Geo>>) {
        let key = normalize::skeleton(name);
        let found = self.skeletons.get(&key).map(|s| s[type_slot(etype)]);
        if let Some(i) = found.filter(|&i| i != u32::MAX) {
            let e = &self.matcher.entries()[i as usize];
            return (
                e.canonical.clone(),
                e.id.clone(),
                e.kind.clone(),
                e.geo.clone(),
            );
        }
        let prefix = match etype {
            EntityType::Person => "P",
            EntityType::Org => "O",
            EntityType::Place => "L",
            EntityType::Norp => "N",
        };
        let kind = if feature { "feature" } else { "" };
        // Written by hand, not with `format!` and its formatting machinery (callgrind on
        // d2.jsonl: this and the text-less rows of `ruled` in `entities` save 1.0 M
        // instructions of 245.5 M).
        let mut id = String::with_capacity(prefix.len() + 2 + key.len());
        id.push_str(prefix);
        id.push_str(":~");
        id.push_str(&key);
        (SharedStr::new(name), SharedStr::new(&id), kind.into(), None)
    }

    /// The hits without towns and regions of countries the document never mentions:
    /// GeoNames lists many small towns whose names or alternate names are also towns or
    /// words elsewhere ("Boni" for Bonn, "Kolo" for Koło), and ISO regions have generic
    /// names ("Northern Region"). A town or region is kept if the document names its
    /// country (as a country, a city of a million or more, or through a nationality,
    /// organisation or person of that country: Hamas for Gaza), if it has a million
    /// inhabitants itself, if it is a town of 100,000 or more written as its own canonical
    /// name, or if the document names no country at all. Features and areas
    /// are curated and always kept. A town or region dropped so gives way to another of
    /// the same name in a country the document names (the automaton reports one entry per
    /// name, the most populous: "Bor" in Russia, in an article about South Sudan).
    fn plausible(&self, text: &str, hits: Vec<GazetteerMatch>) -> Vec<GazetteerMatch> {
        if self.plausibility.len() != self.matcher.entries().len() {
            return self.plausible_from_entries(text, hits);
        }
        let entries = self.matcher.entries();
        let facts = &self.plausibility;
        // Countries named outright or through their people, groups and persons; and those
        // only implied by a big city, which is weaker evidence. (Few per document: lists.)
        let mut named: Vec<u16> = Vec::new();
        let mut implied: Vec<u16> = Vec::new();
        for h in &hits {
            let p = facts[h.entry];
            if p.country == Plausibility::NO_COUNTRY {
                continue;
            }
            if p.flags & Plausibility::NAMES != 0 {
                if !named.contains(&p.country) {
                    named.push(p.country);
                }
            } else if p.flags & Plausibility::BIG != 0 && !implied.contains(&p.country) {
                implied.push(p.country);
            }
        }
        if named.is_empty() && implied.is_empty() {
            return hits;
        }
        let mut hits = hits;
        hits.retain_mut(|h| {
            let p = facts[h.entry];
            if p.flags & Plausibility::KEPT != 0 || p.country == Plausibility::NO_COUNTRY {
                return true;
            }
            if named.contains(&p.country) {
                return true;
            }
            // A town or region of the same name in a country the document names.
            if let Some(&other) = (self.matcher.homonyms(text, h).iter())
                .find(|&&o| named.contains(&facts[o as usize].country))
            {
                h.entry = other as usize;
                return true;
            }
            let e = &entries[h.entry];
            if p.flags & Plausibility::BIG != 0
                || (p.flags & Plausibility::TOWN != 0 && own_name(text, h, e))
            {
                return !facility(text, h);
            }
            implied.contains(&p.country)
        });
        hits
    }

    /// [`EntityStage::plausible`] asking the entries themselves: for gazetteers with more
    /// distinct countries than [`Plausibility`] indexes.
    fn plausible_from_entries(
        &self,
        text: &str,
        mut hits: Vec<GazetteerMatch>,
    ) -> Vec<GazetteerMatch> {
        let entries = self.matcher.entries();
        fn country(e: &Entry) -> Option<&str> {
            e.geo
                .as_ref()
                .map(|g| g.country.as_str())
                .filter(|c| !c.is_empty())
        }
        let big = |e: &Entry| e.population >= 1_000_000;
        let known_town =
            |h: &GazetteerMatch, e: &Entry| e.population >= 100_000 && own_name(text, h, e);
        let mut named: FxHashSet<&str> = FxHashSet::default();
        let mut implied: FxHashSet<&str> = FxHashSet::default();
        for h in &hits {
            let e = &entries[h.entry];
            if e.kind == "country" || e.etype != EntityType::Place {
                named.extend(country(e));
            } else if big(e) {
                implied.extend(country(e));
            }
        }
        if named.is_empty() && implied.is_empty() {
            return hits;
        }
        hits.retain_mut(|h| {
            let e = &entries[h.entry];
            if e.etype != EntityType::Place
                || matches!(
                    e.kind.as_str(),
                    "country" | "feature" | "area" | "continent"
                )
            {
                return true;
            }
            let c = match country(e) {
                None => return true,
                Some(c) if named.contains(c) => return true,
                Some(c) => c,
            };
            let other = (self.matcher.homonyms(text, h).iter())
                .find(|&&o| country(&entries[o as usize]).is_some_and(|c| named.contains(c)));
            if let Some(&other) = other {
                h.entry = other as usize;
                return true;
            }
            if big(e) || known_town(h, e) {
                !facility(text, h)
            } else {
                implied.contains(c)
            }
        });
        hits
    }

    /// A gazetteer hit as an entity, unless it is an organisation named by a description:
    /// a nationality or country followed by common nouns ("US military", "Iraqi security
    /// forces", "Russian forces"). The annotation guidelines count such phrases as generic,
    /// not as names, so the hit becomes the nationality or country it starts with.
    /// Capitals in a headline do not make a name ("Iraqi and US Forces Kill ...").
    fn generic_or_entity(&self, text: &str, an: &names::Analysis, h: GazetteerMatch) -> Entity {
        let entry = &self.matcher.entries()[h.entry];
        if entry.etype == EntityType::Org {
            let first = an.toks.partition_point(|t| t.s < h.span.start);
            let words: Vec<&names::Tok> = an.toks[first..]
                .iter()
                .take_while(|t| t.e <= h.span.end)
                .collect();
            let headline = an.headline.get(first).copied().unwrap_or(false);
            if words.len() >= 2
                && words[1..].iter().all(|t| {
                    (!t.cap || headline)
                        && !self.rules.is(t, names::set::PARTICLES)
                        && t.key != "of"
                })
            {
                let head = &text[words[0].s..words[0].e];
                let hits = self.matcher.find(head);
                if let [only] = hits.as_slice() {
                    let e = &self.matcher.entries()[only.entry];
                    let generic_head = e.etype == EntityType::Norp
                        || (e.etype == EntityType::Place && e.kind == "country");
                    if only.span == Span::new(0, head.len()) && generic_head {
                        let span = Span::new(words[0].s, words[0].e);
                        return self.matcher.entity(
                            text,
                            GazetteerMatch {
                                span,
                                entry: only.entry,
                            },
                        );
                    }
                }
            }
        }
        self.matcher.entity(text, h)
    }

    /// The hits, with each alias that begins with an article ("the UN") replaced by a
    /// longer alias that starts after the article ("UN Integrated Office in Haiti"): the
    /// matcher takes the longest alias at a word start and then skips the words inside
    /// it, so the article's match hid the longer name.
    ///
    /// Only hits that begin with "the" and are followed by a capitalised word are asked
    /// again, on the rest of their line (at most [`UNSHADOW_REACH`] bytes): a few a document.
    fn unshadow(&self, text: &str, mut hits: Vec<GazetteerMatch>) -> Vec<GazetteerMatch> {
        let mut i = 0;
        while i < hits.len() {
            let h = hits[i];
            i += 1;
            let here = &text[h.span.start..];
            if !(here.starts_with("the ") || here.starts_with("The "))
                || !text[h.span.end..].starts_with(' ')
                || !text[h.span.end + 1..].starts_with(char::is_uppercase)
            {
                continue;
            }
            let from = h.span.start + 4;
            let mut to = (h.span.end + UNSHADOW_REACH).min(text.len());
            while !text.is_char_boundary(to) {
                to -= 1;
            }
            let to = text[from..to].find('\n').map_or(to, |p| from + p);
            let Some(longer) = self
                .matcher
                .find(&text[from..to])
                .into_iter()
                .next()
                .filter(|m| m.span.start == 0 && from + m.span.end > h.span.end)
            else {
                continue;
            };
            let span = Span::new(from, from + longer.span.end);
            hits[i - 1] = GazetteerMatch {
                span,
                entry: longer.entry,
            };
            // The hits inside the longer alias ("Haiti") are part of it.
            let inside = hits[i..]
                .iter()
                .take_while(|g| g.span.start < span.end)
                .count();
            hits.drain(i..i + inside);
        }
        hits
    }

    /// Brings what the stage reads of each hit's entry into the caches, for all hits at
    /// once: its [`Plausibility`], the entry's fields that [`Matcher::entity`] copies, and
    /// its place (whose reference count the copy raises).
    ///
    /// Why: read hit by hit, each was a cache miss that the work on the hit waited for
    /// (perf: a tenth of this function's own time on the first reads of the plausibility
    /// and of the entry's type; the entries, some 150 bytes each, lie far apart). Read here
    /// in loops whose loads depend on nothing loaded, the misses of a document's hits are
    /// under way together. The sums only keep the loads from being left out.
    fn warm(&self, hits: &[GazetteerMatch]) {
        let entries = self.matcher.entries();
        let mut sum = 0usize;
        for h in hits {
            if let Some(p) = self.plausibility.get(h.entry) {
                sum = sum.wrapping_add(usize::from(p.flags));
            }
            let e = &entries[h.entry];
            sum = sum.wrapping_add(e.id.len() + e.canonical.len() + e.kind.len());
        }
        for h in hits {
            if let Some(g) = &entries[h.entry].geo {
                sum = sum.wrapping_add(g.country.len());
            }
        }
        std::hint::black_box(sum);
    }

    /// The entities of a text, in text order, without overlaps.
    pub fn entities(&self, text: &str) -> Vec<Entity> {
        let folded = normalize::Folded::new(text);
        let hits = self.unshadow(text, self.matcher.find_folded(text, &folded));
        self.warm(&hits);
        let hits = self.plausible(text, hits);
        let lower = text.to_ascii_lowercase();
        let an = self.rules.analyse(text, &lower);
        let known = KnownHits {
            hits: &hits,
            entries: self.matcher.entries(),
        };
        let found = self.rules.find(&an, &known);
        let mut gaz: Vec<Option<Entity>> = hits
            .iter()
            .map(|&h| Some(self.generic_or_entity(text, &an, h)))
            .collect();
        let mut ruled: Vec<Entity> = Vec::with_capacity(found.len());
        let mut accepted: Vec<Entity> = Vec::new();
        for f in &found {
            let name = &text[f.span.start..f.span.end];
            // As written, unless it has whitespace to normalise (most names do not: no
            // copy for them).
            let name = if name.contains(|c: char| c.is_whitespace() && c != ' ')
                || name.contains("  ")
                || name.starts_with(' ')
                || name.ends_with(' ')
            {
                Cow::Owned(name.split_whitespace().collect::<Vec<_>>().join(" "))
            } else {
                Cow::Borrowed(name)
            };
            let mut e = match f.alias_of {
                Some(j) => {
                    let mut e = ruled[j].clone();
                    e.span = f.span;
                    e
                }
                None => {
                    let (canonical, entity_id, kind, geo) =
                        self.identify(f.etype, &name, f.feature);
                    Entity {
                        span: f.span,
                        text: String::new(),
                        etype: f.etype,
                        canonical,
                        entity_id,
                        kind,
                        geo,
                        rule: SharedStr::default(),
                    }
                }
            };
            e.rule = names::rule_name(f.rule);
            // `ruled` lends identities to later names (`alias_of`) and is never written out:
            // its rows keep no text, so that copying one allocates nothing.
            ruled.push(e.clone());
            e.text = text[f.span.start..f.span.end].to_string();
            // Against the gazetteer hits: a hit that sticks out of the name wins; hits
            // inside it give way, and one of the same type ending where the name ends
            // lends it its identity ("U.S. Central Command" with "Central Command").
            // The hits are in text order and do not overlap, so their ends are sorted too.
            let first = hits.partition_point(|h| h.span.end <= f.span.start);
            let overlapping: Vec<usize> = (first..hits.len())
                .take_while(|&i| hits[i].span.start < f.span.end)
                .filter(|&i| gaz[i].is_some())
                .collect();
            let sticks_out = overlapping.iter().any(|&i| {
                let g = gaz[i].as_ref().expect("filtered");
                !(f.span.contains(&g.span) || article_before(text, g.span, f.span))
                    || (g.span == f.span
                        && !(f.etype == EntityType::Person
                            && g.etype == EntityType::Place
                            && !matches!(g.kind.as_str(), "country" | "region")))
            });
            if sticks_out {
                continue;
            }
            if f.alias_of.is_none() && e.entity_id.contains(":~") {
                if let Some(g) = overlapping
                    .iter()
                    .filter_map(|&i| gaz[i].as_ref())
                    .find(|g| {
                        g.etype == f.etype
                            && g.span.end == f.span.end
                            && g.etype != EntityType::Place
                    })
                {
                    e.canonical = g.canonical.clone();
                    e.entity_id = g.entity_id.clone();
                    e.kind = g.kind.clone();
                    e.geo = g.geo.clone();
                    if let Some(last) = ruled.last_mut() {
                        last.canonical = e.canonical.clone();
                        last.entity_id = e.entity_id.clone();
                        last.kind = e.kind.clone();
                        last.geo = e.geo.clone();
                    }
                }
            }
            for i in overlapping {
                gaz[i] = None;
            }
            accepted.push(e);
        }
        // Sized once: collected from `flatten`, whose length is unknown beforehand, the
        // list of 150-byte entities was grown and copied some four times per document.
        let mut ents: Vec<Entity> = Vec::with_capacity(gaz.len() + accepted.len());
        ents.extend(gaz.into_iter().flatten());
        ents.extend(accepted);
        ents.sort_by_key(|e| (e.span.start, std::cmp::Reverse(e.span.end)));
        // Each entity that overlaps the last one kept is dropped, in place: an entity is
        // some 150 bytes, and copying each into a second list was a `memcpy` call each.
        let mut out = ents;
        out.dedup_by(|e, kept| kept.span.overlaps(&e.span));
        coref::acronyms(&an, &mut out);
        coref::org_short_forms(&mut out);
        coref::also_known_as(text, &mut out);
        coref::surnames(&self.rules, &an, &mut out);
        out
    }
}

/// How far past an article's match [`EntityStage::unshadow`] looks for a longer alias, in
/// bytes: the longest organisation names run to some 80 ("United Nations Multidimensional
/// Integrated Stabilization Mission in the Central African Republic").
const UNSHADOW_REACH: usize = 100;

/// Whether gazetteer hit `hit` sticks out of name `name` only by an article that the
/// gazetteer's alias begins with: the alias "the Caucasus" in "the Caucasus Institute" is
/// part of the institute's name, not a place before it. (Where the name is the alias
/// without its article, "the European Union", the gazetteer's hit stays.)
fn article_before(text: &str, hit: Span, name: Span) -> bool {
    hit.start < name.start
        && hit.end < name.end
        && text
            .get(hit.start..name.start)
            .is_some_and(|a| matches!(a, "the " | "The "))
}

/// [`normalize::skeleton`] of every alias of the persons, organisations, groups,
/// countries, regions and features (towns are too many and their alternate names too
/// noisy), by type, to the first entry that has it.
fn skeleton_table(entries: &[Entry]) -> Skeletons {
    let mut skeletons = Skeletons::default();
    for (i, e) in entries.iter().enumerate() {
        if e.etype == EntityType::Place
            && !matches!(e.kind.as_str(), "country" | "region" | "feature" | "area")
        {
            continue;
        }
        for a in &e.aliases {
            let key = normalize::skeleton(&a.text);
            if key.len() >= 4 {
                let slot = &mut skeletons.entry(key).or_insert([u32::MAX; 4])[type_slot(e.etype)];
                if *slot == u32::MAX {
                    *slot = u32::try_from(i).expect("fewer than 2^32 entries");
                }
            }
        }
    }
    skeletons
}

/// The entries, with every desert named after the region it lies in ("Anbar Desert" in
/// Anbar) given that region's id: the press uses the two for one area ("raided the Anbar
/// desert" / "a raid in Anbar province"), and incidents reported with either should meet.
fn deserts_are_their_regions(entries: &[Entry]) -> Vec<Entry> {
    let mut regions: FxHashMap<(String, String), usize> = FxHashMap::default();
    for (i, e) in entries.iter().enumerate() {
        if e.etype == EntityType::Place && e.kind == "region" {
            let country = e.geo.as_ref().map_or("", |g| g.country.as_str());
            for a in &e.aliases {
                regions
                    .entry((country.to_string(), normalize::fold(&a.text).to_lowercase()))
                    .or_insert(i);
            }
        }
    }
    let mut out = entries.to_vec();
    for e in &mut out {
        let Some(geo) = &e.geo else { continue };
        let Some(prefix) = e.canonical.strip_suffix(" Desert") else {
            continue;
        };
        let key = (geo.country.clone(), normalize::fold(prefix).to_lowercase());
        if let Some(&r) = regions.get(&key) {
            let region = &entries[r];
            if normalize::fold(&geo.admin1).to_lowercase()
                == normalize::fold(&region.canonical).to_lowercase()
            {
                e.id = region.id.clone();
            }
        }
    }
    out
}

/// A sizeable town written as its own name ("Goma", "Kandahar"), not as another place's
/// alternate name ("Boni" for Bonn), is evidence enough by itself: whether hit `h` of
/// entry `e` is written as its canonical name.
fn own_name(text: &str, h: &GazetteerMatch, e: &Entry) -> bool {
    normalize::fold(&text[h.span.start..h.span.end]) == normalize::fold(&e.canonical)
}

/// A big city taken on its size alone is not the first word of a facility's name
/// ("Madina Hospital" in Mogadishu is not Medina): whether a facility word follows hit `h`.
fn facility(text: &str, h: &GazetteerMatch) -> bool {
    let next = text[h.span.end..]
        .trim_start_matches(' ')
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("");
    FACILITIES.contains(&next)
}

/// Capitalised words after a place name that make it part of a facility's name.
const FACILITIES: &[&str] = &[
    "Hospital",
    "University",
    "Airport",
    "Hotel",
    "Stadium",
    "Street",
    "Road",
    "Avenue",
    "Mosque",
    "Church",
    "Market",
    "School",
    "College",
    "Prison",
    "Square",
    "Bridge",
    "Port",
];

/// The gazetteer hits of a text, in text order, for the name rules.
struct KnownHits<'a> {
    hits: &'a [GazetteerMatch],
    entries: &'a [Entry],
}

impl KnownHits<'_> {
    /// The hits that start inside `span`.
    fn starting_in(&self, span: Span) -> impl Iterator<Item = &GazetteerMatch> {
        let first = self.hits.partition_point(|h| h.span.start < span.start);
        self.hits[first..]
            .iter()
            .take_while(move |h| h.span.start < span.end)
    }
}

impl names::Known for KnownHits<'_> {
    fn exact(&self, span: Span) -> Option<(EntityType, &str)> {
        self.starting_in(span).find(|h| h.span == span).map(|h| {
            let e = &self.entries[h.entry];
            (e.etype, e.kind.as_str())
        })
    }

    fn any_inside(&self, span: Span, pred: &mut dyn FnMut(EntityType, &str) -> bool) -> bool {
        self.starting_in(span)
            .filter(|h| span.contains(&h.span))
            .any(|h| {
                let e = &self.entries[h.entry];
                pred(e.etype, e.kind.as_str())
            })
    }
}

impl Stage for EntityStage {
    fn name(&self) -> &str {
        "entities"
    }

    fn run(&self, doc: &Document, facts: &mut Facts) {
        let found = self.entities(&doc.text);
        // The stage's list becomes the facts' list when that is empty (it runs first), not
        // copied into it: a document's entities are some 20 values of 150 bytes each.
        if facts.entities.is_empty() {
            facts.entities = found;
        } else {
            facts.entities.extend(found);
        }
    }
}

#[cfg(test)]
impl EntityStage {
    /// `TYPE text = canonical` for each entity found in `text`, in text order: the tests'
    /// view of a result.
    pub(crate) fn described(&self, text: &str) -> Vec<String> {
        self.entities(text)
            .iter()
            .map(|e| format!("{} {} = {}", e.etype, e.text, e.canonical))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage() -> EntityStage {
        EntityStage::new(&Gazetteers::builtin().unwrap()).unwrap()
    }

    /// (text, expected `TYPE text = canonical` rows in text order)
    const CASES: &[(&str, &[&str])] = &[
        // Acronyms match in capitals only; the case-sensitive alias wins a tie.
        (
            "A car bomb hit Baghdad. The UN condemned it.",
            &["PLACE Baghdad = Baghdad", "ORG The UN = United Nations"],
        ),
        // A nationality with common nouns is a description, not an organisation's name.
        (
            "Russian forces shelled Kharkiv.",
            &["NORP Russian = Russian", "PLACE Kharkiv = Kharkiv"],
        ),
        // Towns of countries the text never mentions are not taken.
        (
            "Malian soldiers were ambushed near Kolo, in Mali.",
            &["NORP Malian = Malian", "PLACE Mali = Mali"],
        ),
        // A sizeable town written as its own name needs no country beside it, even when
        // another country is implied by a big city.
        (
            "Fighting spread from Goma to Kandahar and Aleppo.",
            &[
                "PLACE Goma = Goma",
                "PLACE Kandahar = Kandahar",
                "PLACE Aleppo = Aleppo",
            ],
        ),
        // A big city of an unmentioned country, taken on its size alone, is not the first
        // word of a facility's name.
        (
            "Doctors at Madina Hospital in Mogadishu, Somalia, treated the wounded.",
            &["PLACE Mogadishu = Mogadishu", "PLACE Somalia = Somalia"],
        ),
        // A town named like a word, flagged weak: in context, not at a sentence start.
        (
            "Hit by shelling, families left Hit for Ramadi, in Iraq.",
            &[
                "PLACE Hit = Hit",
                "PLACE Ramadi = Ramadi",
                "PLACE Iraq = Iraq",
            ],
        ),
        // An alias that begins with an article does not hide a longer one after it.
        (
            "Staff of the UN Assistance Mission in Afghanistan left.",
            &["ORG UN Assistance Mission in Afghanistan = UNAMA"],
        ),
        // A feature's alias with its article is the start of an organisation's name.
        (
            "An analyst at the Sahel Institute in Dakar agreed.",
            &[
                "ORG Sahel Institute = Sahel Institute",
                "PLACE Dakar = Dakar",
            ],
        ),
        // A religious group's word is the group at a sentence start too.
        (
            "Protestant pastors and Acholi elders met in Gulu.",
            &[
                "NORP Protestant = Protestant",
                "NORP Acholi = Acholi",
                "PLACE Gulu = Gulu",
            ],
        ),
        // A shorter alias where the longest ends inside a word ("Sahel region" in "Sahel
        // regions", the town "Vinh An" in "Vinh and").
        (
            "Sahel regions suffered drought; buses ran between Vinh and Hue.",
            &[
                "PLACE Sahel = Sahel",
                "PLACE Vinh = Vinh",
                "PLACE Hue = Huế",
            ],
        ),
        // A name spelt out before an acronym the gazetteer knows for another organisation
        // is its own organisation, and so is every use of the acronym.
        (
            "The Atlantic Defence Forces (ADF) attacked. ADF fighters fled.",
            &[
                "ORG Atlantic Defence Forces = Atlantic Defence Forces",
                "ORG ADF = Atlantic Defence Forces",
                "ORG ADF = Atlantic Defence Forces",
            ],
        ),
        // Possessives and diacritics.
        (
            "Iraq’s army entered Mūşil.",
            &["PLACE Iraq = Iraq", "PLACE Mūşil = Mosul"],
        ),
    ];

    #[test]
    fn gazetteer_hits_in_context() {
        let stage = stage();
        for (text, want) in CASES {
            assert_eq!(&stage.described(text), want, "{text}");
        }
    }

    /// The compact table gives the answers the entries give, on texts that name countries
    /// outright, through people or big cities, or not at all.
    #[test]
    fn plausibility_table_agrees_with_the_entries() {
        let stage = stage();
        assert_eq!(stage.plausibility.len(), stage.matcher.entries().len());
        let mut texts: Vec<&str> = CASES.iter().map(|(t, _)| *t).collect();
        texts.extend([
            "Clashes in Kolo and Boni; Iraqi forces entered Mosul and Hit.",
            "Talks in Lagos, Kano and Abuja. Madina Hospital in Mogadishu. Goma, Bukavu.",
            "Residents of Northern Region fled to Accra, Kumasi and Tamale, Ghana.",
            "Hamas fighters in Gaza; Israeli troops near Rafah and Khan Younis.",
        ]);
        for text in texts {
            let hits = stage.matcher.find(text);
            assert_eq!(
                stage.plausible(text, hits.clone()),
                stage.plausible_from_entries(text, hits),
                "{text}"
            );
        }
    }

    /// GeoNames has four towns named Bor (Russia, Serbia, Turkey, South Sudan); the
    /// automaton reports the most populous, and a document about South Sudan gets South
    /// Sudan's, in both ways of asking for plausibility.
    #[test]
    fn a_town_shares_its_name_with_towns_of_other_countries() {
        let stage = stage();
        let text = "Raiders attacked villages north of Bor, in South Sudan.";
        let bor = |hits: &[GazetteerMatch]| -> Vec<String> {
            let entries = stage.matcher.entries();
            (hits.iter())
                .map(|h| &entries[h.entry])
                .filter(|e| e.canonical == "Bor")
                .map(|e| {
                    e.geo
                        .as_ref()
                        .map_or("", |g| g.country.as_str())
                        .to_string()
                })
                .collect()
        };
        let hits = stage.matcher.find(text);
        assert_eq!(bor(&hits), ["RU"], "the automaton's own choice");
        assert_eq!(bor(&stage.plausible(text, hits.clone())), ["SS"]);
        assert_eq!(bor(&stage.plausible_from_entries(text, hits)), ["SS"]);
        // Where the document names Russia, Russia's Bor stays.
        let text = "Police in Bor, in Russia, detained two men.";
        let hits = stage.matcher.find(text);
        assert_eq!(bor(&stage.plausible(text, hits)), ["RU"]);
    }

    #[test]
    fn a_desert_named_after_its_region_is_that_region() {
        let stage = stage();
        let ents = stage.entities("Troops raided the Anbar Desert, in Anbar province, Iraq.");
        let ids: Vec<&str> = ents.iter().map(|e| e.entity_id.as_str()).collect();
        assert_eq!(ids[0], ids[1], "{ents:?}");
    }

    #[test]
    fn rule_names_get_the_same_id_in_every_document() {
        let stage = stage();
        let id = |text: &str| {
            stage
                .entities(text)
                .into_iter()
                .find(|e| e.etype == EntityType::Person)
                .map(|e| e.entity_id)
                .unwrap()
        };
        assert_eq!(
            id("The raid killed Jassim al-Mazrouei on Monday."),
            id("The raid killed Jassim al-Mazroui on Monday.")
        );
        assert_eq!(
            id("Police named the man as Abdel Karim Haddad."),
            id("Police named the man as Abdul Karim Haddad.")
        );
    }
}
