//! One incident across many articles.
//!
//! Each document's events are [`Report`]s of incidents. Reports from different documents
//! that agree on date, place and type, and whose figures do not contradict each other, are
//! merged into one [`Incident`] with its sources and the range of figures reported. Columns
//! use ACLED's names where they mean the same, so the table loads beside ACLED data.
//! The merging rules are documented in docs/incidents.md.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::calendar::Ymd;
use crate::events::{bare, dates_agree, within, PlaceRef};
use crate::facts::Event;
use crate::sink::push_number;

mod spill;
pub use spill::Spill;

/// One document's account of an incident.
#[derive(Clone, Debug)]
pub struct Report {
    pub doc_id: String,
    pub published: Option<Ymd>,
    pub event: Event,
}

/// The columns of incidents.csv.
pub const COLUMNS: &[&str] = &[
    "incident_id",
    "event_date",
    "event_type",
    "sub_event_type",
    "gleaner_type",
    "actor1",
    "actor2",
    "country",
    "admin1",
    "location",
    "latitude",
    "longitude",
    "fatalities",
    "killed_min",
    "killed_max",
    "injured_min",
    "injured_max",
    "captured",
    "sources",
    "source",
    "event_ids",
    "mentioned_in",
    "notes",
];

/// Which [`COLUMNS`] [`cells_of`] fills with whole numbers or ACLED's type names: cells
/// that never need quotes or [`crate::sink::neutralise`]'s apostrophe, so the CSV sink
/// copies them without checking.
pub(crate) const PLAIN: [bool; COLUMNS.len()] = [
    false, false, // incident_id, event_date
    true, true, // event_type, sub_event_type
    false, false, false, false, false, false, false, false, // gleaner_type .. longitude
    true, true, true, true, true, true, true, // fatalities .. sources
    false, false, false, false, // source .. notes
];

/// An incident as reported by one or more documents.
#[derive(Clone, Debug)]
pub struct Incident {
    pub reports: Vec<Report>,
}

/// ACLED's event type and sub-event type for one of gleaner's event types.
pub fn acled_type(etype: &str) -> (&'static str, &'static str) {
    match etype {
        "airstrike" | "drone strike" | "strike" => {
            ("Explosions/Remote violence", "Air/drone strike")
        }
        "shelling" | "missile attack" | "rocket attack" => (
            "Explosions/Remote violence",
            "Shelling/artillery/missile attack",
        ),
        "bombing" | "explosion" | "ied" => (
            "Explosions/Remote violence",
            "Remote explosive/landmine/IED",
        ),
        "suicide bombing" => ("Explosions/Remote violence", "Suicide bomb"),
        "raid" | "clash" | "ambush" | "battle" | "offensive" => ("Battles", "Armed clash"),
        "abduction" | "kidnapping" => (
            "Violence against civilians",
            "Abduction/forced disappearance",
        ),
        "massacre" | "attack" | "shooting" => ("Violence against civilians", "Attack"),
        "arrest" | "arrest operation" => ("Strategic developments", "Arrests"),
        _ => ("", ""),
    }
}

/// A date value with the year filled in from the publication date when the article gave
/// none: `XXXX-08-29` published 2024-09-14 is `2024-08-29`; published 2024-01-03 it would be
/// `2023-08-29` (news reports the past).
pub fn resolve_date(value: &str, published: Option<Ymd>) -> String {
    let Some(p) = published else {
        return value.to_string();
    };
    let Some(rest) = value.strip_prefix("XXXX") else {
        return value.to_string();
    };
    let month: Option<u32> = rest.get(1..3).and_then(|m| m.parse().ok());
    let day: Option<u32> = rest.get(4..6).and_then(|d| d.parse().ok());
    let year = match month {
        Some(m) if (m, day.unwrap_or(1)) > (p.month, p.day) => p.year - 1,
        _ => p.year,
    };
    format!("{year}{rest}")
}

/// Days since 1970 of the first day a date value can mean, when its year is known.
fn day_number(value: &str) -> Option<i64> {
    let year: i32 = value.get(..4)?.parse().ok()?;
    let month: u32 = value.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    let day: u32 = value.get(8..10).and_then(|d| d.parse().ok()).unwrap_or(1);
    Ymd::new(year, month, day).map(Ymd::to_days)
}

/// Whether two figures can describe the same count: equal, or within 20% of each other
/// (early and later tolls of one incident differ).
fn figures_agree(a: Option<u64>, b: Option<u64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => {
            let (lo, hi) = (x.min(y) as f64, x.max(y) as f64);
            hi - lo <= (hi * 0.2).max(1.0)
        }
        _ => true,
    }
}

/// How specific a place is: 3 a town or feature, 2 a region, 1 a country or a place only
/// described ("the west of the country"), 0 none.
fn specificity(p: &Prepared) -> u8 {
    p.traits.specificity
}

/// [`specificity`], worked out from the place's fields (once, in [`Traits::of`]).
fn specificity_of(p: &Prepared) -> u8 {
    if p.place_id().is_empty() && p.place_canonical().is_empty() {
        return 0;
    }
    // A continent is as vague as a country here; a place at all beats none.
    crate::events::kind_specificity(p.place_kind()).max(1)
}

/// The string fields of a report that the merge and the rows read, by their place in
/// [`Prepared::at`].
#[derive(Clone, Copy)]
enum Field {
    DocId,
    EventId,
    Etype,
    Date,
    Place,
    PlaceId,
    PlaceCanonical,
    PlaceKind,
    Country,
    Admin1,
    /// The first actor, and the first target (empty when there is none: see `has`).
    Actor1,
    Target1,
}

/// How many [`Field`]s there are.
const FIELDS: usize = 12;

/// A report prepared for comparison, read in place from its record (the spill's binary
/// form, see [`Spill`]): where each string the merge and the rows read lies in the
/// record's bytes, the numbers, its resolved date and when it happened, as a day number
/// (the event date, else the publication date), for the blocking.
///
/// Why not a [`Report`]: decoding one allocated, copied and freed about fifteen strings
/// per report, and checked each for UTF-8 (a fifth of the finishing); here the record's
/// bytes are kept as they are, and each string is checked once when the record is read.
struct Prepared {
    /// The record's bytes; never changed once read, so that the ranges stay valid.
    body: Vec<u8>,
    /// Each [`Field`]'s bytes in `body`, checked to be UTF-8 when it was read.
    at: [(u32, u32); FIELDS],
    published: Option<Ymd>,
    /// Whether the event has a date, actors and targets.
    has_date: bool,
    has_actor: bool,
    has_target: bool,
    lat: Option<f64>,
    lon: Option<f64>,
    killed: Option<u64>,
    injured: Option<u64>,
    captured: Option<u64>,
    /// The event's first byte in its document.
    start: u64,
    background: bool,
    /// The date with its year filled in from the publication date ([`resolve_date`]),
    /// when that differs from the date as written (rarely: most dates have their year).
    resolved: Option<Box<str>>,
    day: Option<i64>,
    /// What [`agreement`] reads of every pair it compares, worked out once per report
    /// ([`Traits::of`]).
    traits: Traits,
}

/// What [`agreement`] compares of two reports, worked out once for each report.
///
/// Why: the merge compares each report with every report it may join (the members of the
/// candidate incidents' samples), and at 1 GB `agreement` and the string comparisons it
/// made (`acled_type`'s string `match` twice a pair, the document ids, the place kinds)
/// were most of the finishing. Here they are numbers compared in registers.
#[derive(Clone, Copy, Default)]
struct Traits {
    /// A hash of the document id: reports with different hashes are from different
    /// documents (equal hashes are checked on the ids).
    doc_hash: u64,
    /// The index of its ACLED event type in [`ACLED_EVENT_TYPES`], if there.
    acled: Option<u8>,
    /// Whether its own type is the generic "attack".
    generic: bool,
    /// [`specificity`] of its place.
    specificity: u8,
    /// Whether its date (resolved) has at least four digits and ten bytes: a whole day.
    whole_day: bool,
    /// Its date (resolved), if it has one of at most 16 bytes.
    date: Option<PackedDate>,
}

/// A date value of at most 16 bytes as one number, with a mask of its `X` bytes, so that
/// [`dates_agree`] is a few operations on registers rather than a loop over two records'
/// bytes.
#[derive(Clone, Copy, Debug)]
struct PackedDate {
    bytes: u128,
    /// 0xFF at each `X`.
    x: u128,
    len: u8,
}

impl PackedDate {
    fn of(date: &str) -> Option<PackedDate> {
        let b = date.as_bytes();
        if b.len() > 16 {
            return None;
        }
        let (mut bytes, mut x) = ([0u8; 16], [0u8; 16]);
        bytes[..b.len()].copy_from_slice(b);
        for (m, &c) in x.iter_mut().zip(b) {
            if c == b'X' {
                *m = 0xFF;
            }
        }
        Some(PackedDate {
            bytes: u128::from_le_bytes(bytes),
            x: u128::from_le_bytes(x),
            len: b.len() as u8,
        })
    }

    /// [`dates_agree`]: over the shorter length, every byte equal or an `X` in either.
    #[inline]
    fn agrees(&self, other: &PackedDate) -> bool {
        let n = u32::from(self.len.min(other.len));
        let mask = if n >= 16 {
            u128::MAX
        } else {
            (1u128 << (8 * n)) - 1
        };
        (self.bytes ^ other.bytes) & !(self.x | other.x) & mask == 0
    }
}

/// Every event type [`acled_type`] gives, so that a type is a small number
/// ([`Traits::acled`]); a type not listed here is compared as text.
const ACLED_EVENT_TYPES: &[&str] = &[
    "",
    "Explosions/Remote violence",
    "Battles",
    "Violence against civilians",
    "Strategic developments",
];

impl Traits {
    /// Works out the traits of a report from its fields (`traits` itself is not read).
    fn of(p: &Prepared) -> Traits {
        let doc_hash = {
            use std::hash::Hasher;
            let mut h = rustc_hash::FxHasher::default();
            h.write(p.doc_id().as_bytes());
            h.finish()
        };
        let etype = p.etype();
        let acled = acled_type(etype).0;
        let date = p.date();
        let whole_day = date
            .is_some_and(|d| d.len() >= 10 && d.bytes().filter(u8::is_ascii_digit).count() >= 4);
        Traits {
            doc_hash,
            acled: (ACLED_EVENT_TYPES.iter().position(|t| *t == acled)).map(|i| i as u8),
            generic: etype == "attack",
            specificity: specificity_of(p),
            whole_day,
            date: date.and_then(PackedDate::of),
        }
    }
}

impl Prepared {
    /// Whether it has a date ([`Prepared::date`] is `Some`), without reading it.
    #[inline]
    fn dated(&self) -> bool {
        self.resolved.is_some() || self.has_date
    }

    /// Whether both reports come from one document.
    #[inline]
    fn same_document(&self, other: &Prepared) -> bool {
        self.traits.doc_hash == other.traits.doc_hash && self.doc_id() == other.doc_id()
    }

    /// Whether both reports have the same ACLED event type ([`acled_type`]).
    #[inline]
    fn same_acled_type(&self, other: &Prepared) -> bool {
        match (self.traits.acled, other.traits.acled) {
            (Some(x), Some(y)) => x == y,
            _ => acled_type(self.etype()).0 == acled_type(other.etype()).0,
        }
    }
}

impl Prepared {
    /// Prepares a report held in memory: encoded as the spill encodes it, then read
    /// back, so that the merge in memory and the spill compare the same things.
    fn new(report: Report) -> Prepared {
        let mut body = Vec::new();
        spill::encode_report(&mut body, &report.doc_id, report.published, &report.event);
        Prepared::read(body).expect("a report just encoded reads back")
    }

    /// The resolved date and the day of a report's date and publication date.
    fn when(date: Option<&str>, published: Option<Ymd>) -> (Option<Box<str>>, Option<i64>) {
        let resolved = date
            .filter(|d| published.is_some() && d.starts_with("XXXX"))
            .map(|d| resolve_date(d, published).into_boxed_str());
        let date = resolved.as_deref().or(date);
        let day = (date.and_then(day_number)).or_else(|| published.map(Ymd::to_days));
        (resolved, day)
    }

    #[inline]
    fn get(&self, field: Field) -> &str {
        let (from, to) = self.at[field as usize];
        let bytes = &self.body[from as usize..to as usize];
        // SAFETY: `Prepared::read` checked that each field's bytes are UTF-8, and `body`
        // is never changed after.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    fn doc_id(&self) -> &str {
        self.get(Field::DocId)
    }

    fn event_id(&self) -> &str {
        self.get(Field::EventId)
    }

    fn etype(&self) -> &str {
        self.get(Field::Etype)
    }

    /// The date with its year resolved.
    fn date(&self) -> Option<&str> {
        match &self.resolved {
            Some(d) => Some(d),
            None => self.has_date.then(|| self.get(Field::Date)),
        }
    }

    fn place(&self) -> &str {
        self.get(Field::Place)
    }

    fn place_id(&self) -> &str {
        self.get(Field::PlaceId)
    }

    fn place_canonical(&self) -> &str {
        self.get(Field::PlaceCanonical)
    }

    fn place_kind(&self) -> &str {
        self.get(Field::PlaceKind)
    }

    fn country(&self) -> &str {
        self.get(Field::Country)
    }

    fn admin1(&self) -> &str {
        self.get(Field::Admin1)
    }

    fn actor1(&self) -> Option<&str> {
        self.has_actor.then(|| self.get(Field::Actor1))
    }

    fn target1(&self) -> Option<&str> {
        self.has_target.then(|| self.get(Field::Target1))
    }

    /// The parts of its place the comparisons need, as [`PlaceRef::of_event`] gives them.
    fn place_ref(&self) -> Option<PlaceRef<'_>> {
        let (id, name) = (self.place_id(), self.place_canonical());
        (!id.is_empty() || !name.is_empty()).then(|| PlaceRef {
            id,
            name,
            kind: self.place_kind(),
            country: self.country(),
            admin1: self.admin1(),
        })
    }

    /// What it counts against the memory of the merge: its bytes and itself.
    fn size(&self) -> usize {
        self.body.capacity() + std::mem::size_of::<Prepared>()
    }
}

/// Evidence that two reports from different documents tell of the same incident, or
/// `None` when they contradict each other (other place, other date, other kind of
/// incident, figures too far apart). See docs/incidents.md.
fn agreement(a: &Prepared, b: &Prepared) -> Option<u32> {
    // The checks that can only refuse come first, those that read only the reports' own
    // fields and [`Traits`] before those that read their records' bytes (any order gives
    // the same answer): the merge asks this of every report of every incident of the
    // report's place that `Index` finds, most differ in date or kind, and at 1 GB the
    // records' bytes are mostly not in the cache.
    let (ta, tb) = (&a.traits, &b.traits);
    // Kind of incident: the same ACLED type, or a generic "attack".
    if !ta.generic && !tb.generic && !a.same_acled_type(b) {
        return None;
    }
    let mut score = 0;
    // Date: never two different days; a shared day is strong evidence.
    if a.dated() && b.dated() {
        let agree = match (&ta.date, &tb.date) {
            (Some(p), Some(q)) => p.agrees(q),
            _ => dates_agree(a.date()?, b.date()?),
        };
        if !agree {
            return None;
        }
        score += if ta.whole_day && tb.whole_day { 2 } else { 1 };
    } else if let (Some(p), Some(q)) = (a.day, b.day) {
        // Without an event date, the articles must have appeared within a month.
        if (p - q).abs() > 31 {
            return None;
        }
    }
    // Figures: close enough, and each one given by both counts.
    for (fx, fy) in [(a.killed, b.killed), (a.injured, b.injured)] {
        if !figures_agree(fx, fy) {
            return None;
        }
        if let (Some(p), Some(q)) = (fx, fy) {
            score += if p == q { 2 } else { 1 };
        }
    }
    let country = a.country();
    if country.is_empty() || country != b.country() || a.same_document(b) {
        return None;
    }
    // Place: one must lie in the other.
    let (px, py) = (a.place_ref()?, b.place_ref()?);
    if !within(&px, &py) && !within(&py, &px) {
        return None;
    }
    if !px.id.is_empty() && px.id == py.id && specificity(a) >= 2 {
        score += 2;
    } else if specificity(a) >= 2 && specificity(b) >= 2 {
        score += 1;
    }
    Some(score)
}

/// The evidence needed to merge: e.g. the same day and a close figure, the same town and
/// the same toll, or two figures that agree.
const MERGE_SCORE: u32 = 3;

/// The evidence needed for an incident recalled in passing to join one reported in full:
/// less, since it only adds a mention, not a source or figures.
const MENTION_SCORE: u32 = 2;

/// How many of the latest incidents of its country a report may join: the last
/// `MAX_CANDIDATES` made, whether they could agree with it or not (so the merge is the
/// same as when each report was compared with all of them). The cap bounds the memory of
/// the merge ([`Spill`] keeps these incidents only); [`Index`] bounds the work, visiting
/// only those whose place can agree.
const MAX_CANDIDATES: usize = 2000;

/// How many reports of an incident a new report is compared with at most (the first and
/// the latest halves).
const MEMBER_SAMPLE: usize = 64;

/// How far apart (days) two dated reports of one incident can be.
const WINDOW_DAYS: i64 = 31;

/// Merges reports into incidents. Deterministic: the result depends only on the reports and
/// their order, and incidents come out in the order of their first report.
///
/// Reports are blocked by country and may join only an incident of their country among the
/// latest [`MAX_CANDIDATES`] made before them, and only those made after the latest one that
/// began more than three [`WINDOW_DAYS`] before them. Within that range [`Index`] visits only
/// the incidents whose first report's place can agree with theirs, so the work grows with
/// the number of reports, not its square. A report joins the incident it agrees with best,
/// if it contradicts none of its reports; a document's first incident is merged first, and
/// the incidents it recalls in passing (`background`) join afterwards as mentions.
pub fn merge(reports: Vec<Report>) -> Vec<Incident> {
    let prepared: Vec<Prepared> = reports.iter().cloned().map(Prepared::new).collect();
    let cluster_of = assign(&prepared, MAX_CANDIDATES);
    // Output in the order of each incident's first report.
    let count = cluster_of.iter().map(|&c| c + 1).max().unwrap_or(0);
    let mut slots: Vec<Option<Vec<Report>>> = (0..count).map(|_| None).collect();
    let mut first_seen: Vec<usize> = Vec::new();
    for (i, p) in reports.into_iter().enumerate() {
        let c = cluster_of[i];
        if slots[c].is_none() {
            slots[c] = Some(Vec::new());
            first_seen.push(c);
        }
        slots[c].as_mut().expect("a slot").push(p);
    }
    first_seen
        .into_iter()
        .map(|c| {
            let reports = slots[c].take().expect("each incident once");
            Incident { reports }
        })
        .collect()
}

/// The order reports are merged in: main reports first, then background ones; by time
/// within each (undated last), then in input order.
fn merge_order(prepared: &[Prepared]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..prepared.len()).collect();
    order.sort_by_key(|&i| {
        let p = &prepared[i];
        (p.background, p.day.is_none(), p.day, i)
    });
    order
}

/// The reports an incident is compared with: its first and latest `MEMBER_SAMPLE / 2` (a
/// wire story reprinted a thousand times is checked against those only, to stay linear).
fn sample<'a>(
    members: &'a [usize],
    prepared: &'a [Prepared],
) -> impl Iterator<Item = &'a Prepared> {
    let n = members.len();
    let head = &members[..n.min(MEMBER_SAMPLE / 2)];
    let tail = &members[n.saturating_sub(MEMBER_SAMPLE / 2).max(head.len())..];
    head.iter().chain(tail).map(move |&m| &prepared[m])
}

/// Each report's incident, numbered in the order the incidents are made, with `cap` as
/// [`MAX_CANDIDATES`].
fn assign(prepared: &[Prepared], cap: usize) -> Vec<usize> {
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut by_country: std::collections::HashMap<&str, Index<usize>> = Default::default();
    let mut cluster_of = vec![usize::MAX; prepared.len()];
    for i in merge_order(prepared) {
        let p = &prepared[i];
        let country = p.country();
        let mut best: Option<(u32, usize)> = None;
        if let Some(index) = by_country.get_mut(country).filter(|_| !country.is_empty()) {
            index.candidates(p, |_, &c| {
                if let Some(total) = join_score(p, sample(&members[c], prepared)) {
                    if better(best, total, c) {
                        best = Some((total, c));
                    }
                }
            });
        }
        let c = match best {
            Some((_, c)) => {
                members[c].push(i);
                c
            }
            None => {
                members.push(vec![i]);
                let c = members.len() - 1;
                if !country.is_empty() {
                    (by_country.entry(country))
                        .or_insert_with(|| Index::new(cap))
                        .push(c, p, drop);
                }
                c
            }
        };
        cluster_of[i] = c;
    }
    cluster_of
}

/// Where a report's place can match another's: the same gazetteer entry; a country or a
/// described place (containing every place of its country); a region (containing the
/// places that lie in it); a smaller place, in its region. See [`within`].
enum Where<'a> {
    /// No place: it agrees with nothing.
    Nowhere,
    /// A country or a described place.
    Broad(&'a str),
    /// A region, with its name.
    Region(&'a str, &'a str),
    /// A smaller place, with the name of its region, if known.
    Inside(&'a str, &'a str),
}

impl<'a> Where<'a> {
    fn of(p: &'a Prepared) -> Where<'a> {
        let Some(p) = p.place_ref() else {
            return Where::Nowhere;
        };
        match p.kind {
            "country" | "direction" => Where::Broad(p.id),
            "region" => Where::Region(p.id, p.name),
            _ => Where::Inside(p.id, p.admin1),
        }
    }
}

/// The list of [`Index`] that holds the incidents of countries and described places.
const BROAD: usize = 0;

/// The incidents of one country a report may join, in the order they were made: the latest
/// `cap`, filed by the place of their first report so that a report visits only those
/// whose place can agree with its own. Every report of an incident must agree with a
/// newcomer, the first one included, so this hides nothing that could be joined; and since
/// [`better`] decides among the candidates whatever the order they are visited in, the
/// merge is the same as comparing with all of them.
///
/// An incident is filed in the list of its gazetteer id, and in [`BROAD`], or the list of
/// regions of its region's bare name, or the list of places inside regions of that bare name
/// (two names are the same region exactly when their bare names are equal, see
/// [`crate::events::same_region`]). A report visits the list of its id, [`BROAD`], and for a
/// region the places inside it, for a smaller place the regions of its region's name; a
/// country or described place visits every incident. Lists are numbered, and names map to
/// their lists once, so that a report costs a few hash look-ups and no allocation.
///
/// It also answers where the search stops in time: after the latest incident that began more
/// than three [`WINDOW_DAYS`] before the report (`minima`, the incidents that began before
/// every later one, in order; the latest one before a day is found by bisection).
struct Index<T> {
    cap: usize,
    /// How many incidents were made: the position of the next one.
    made: usize,
    /// The latest `cap` incidents, from position `made - window.len()`, with their lists.
    window: VecDeque<(T, [Option<usize>; 2])>,
    /// (first day, position) of the incidents of the window that began strictly before
    /// every later one: days and positions both increase.
    minima: VecDeque<(i64, usize)>,
    /// The positions of the incidents of the window in each list, in increasing order.
    lists: Vec<VecDeque<usize>>,
    /// The list of each gazetteer id.
    ids: FxHashMap<String, usize>,
    /// For a region name as written: the lists of regions, and of places inside regions,
    /// of its bare name (shared by the names with one bare name, in `bares`).
    names: FxHashMap<String, (usize, usize)>,
    bares: FxHashMap<String, (usize, usize)>,
}

impl<T> Index<T> {
    fn new(cap: usize) -> Index<T> {
        Index {
            cap,
            made: 0,
            window: VecDeque::new(),
            minima: VecDeque::new(),
            lists: vec![VecDeque::new()],
            ids: FxHashMap::default(),
            names: FxHashMap::default(),
            bares: FxHashMap::default(),
        }
    }

    /// The position of the oldest incident still in the window.
    fn oldest(&self) -> usize {
        self.made - self.window.len()
    }

    fn new_list(&mut self) -> usize {
        self.lists.push(VecDeque::new());
        self.lists.len() - 1
    }

    /// The lists of a region name: (regions, places inside).
    fn region(&mut self, name: &str) -> (usize, usize) {
        if let Some(&lists) = self.names.get(name) {
            return lists;
        }
        let bare = bare(name);
        let lists = match self.bares.get(&bare) {
            Some(&lists) => lists,
            None => {
                let lists = (self.new_list(), self.new_list());
                self.bares.insert(bare, lists);
                lists
            }
        };
        self.names.insert(name.to_string(), lists);
        lists
    }

    /// Calls `visit` with the position and the item of every incident `p` may join whose
    /// first report's place can agree with `p`'s (some maybe twice), in no set order.
    fn candidates(&mut self, p: &Prepared, mut visit: impl FnMut(usize, &T)) {
        let oldest = self.oldest();
        let mut from = oldest;
        if let Some(d) = p.day {
            let too_old = d - 3 * WINDOW_DAYS;
            let k = self.minima.partition_point(|&(f, _)| f < too_old);
            if k > 0 {
                from = from.max(self.minima[k - 1].1 + 1);
            }
        }
        let (id, region) = match Where::of(p) {
            Where::Nowhere => return,
            Where::Broad(_) => {
                for pos in from..self.made {
                    visit(pos, &self.window[pos - oldest].0);
                }
                return;
            }
            Where::Region(id, name) => (id, Some(self.region(name).1)),
            // `same_region` never matches an empty region name.
            Where::Inside(id, admin1) if !admin1.is_empty() => (id, Some(self.region(admin1).0)),
            Where::Inside(id, _) => (id, None),
        };
        let id = self.ids.get(id).copied().filter(|_| !id.is_empty());
        for list in [id, Some(BROAD), region].into_iter().flatten() {
            for &pos in self.lists[list]
                .iter()
                .rev()
                .take_while(|&&pos| pos >= from)
            {
                visit(pos, &self.window[pos - oldest].0);
            }
        }
    }

    fn get_mut(&mut self, pos: usize) -> &mut T {
        let oldest = self.oldest();
        &mut self.window[pos - oldest].0
    }

    /// Adds a new incident, filed by `first`, its first report; the oldest leaves beyond
    /// `cap`, and is given to `gone` (for [`Spill`], whose incidents are then complete).
    /// Returns the new incident's item.
    fn push(&mut self, item: T, first: &Prepared, gone: impl FnOnce(T)) -> &mut T {
        let pos = self.made;
        self.made += 1;
        let (id, around) = match Where::of(first) {
            Where::Nowhere => ("", None),
            Where::Broad(id) => (id, Some(BROAD)),
            Where::Region(id, name) => (id, Some(self.region(name).0)),
            Where::Inside(id, admin1) if !admin1.is_empty() => (id, Some(self.region(admin1).1)),
            Where::Inside(id, _) => (id, None),
        };
        let id = (!id.is_empty()).then(|| match self.ids.get(id) {
            Some(&list) => list,
            None => {
                let list = self.new_list();
                self.ids.insert(id.to_string(), list);
                list
            }
        });
        let filed = [id, around];
        for &list in filed.iter().flatten() {
            self.lists[list].push_back(pos);
        }
        if let Some(f) = first.day {
            while self.minima.back().is_some_and(|&(g, _)| g >= f) {
                self.minima.pop_back();
            }
            self.minima.push_back((f, pos));
        }
        self.window.push_back((item, filed));
        if self.window.len() > self.cap {
            let oldest = self.oldest();
            let (left, filed) = self.window.pop_front().expect("a full window");
            for &list in filed.iter().flatten() {
                let front = self.lists[list].pop_front();
                debug_assert_eq!(front, Some(oldest));
            }
            if self.minima.front().is_some_and(|&(_, p)| p == oldest) {
                self.minima.pop_front();
            }
            gone(left);
        }
        &mut self.window.back_mut().expect("the new incident").0
    }

    /// The items of the incidents still in the window, oldest first.
    fn items_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.window.iter_mut().map(|(item, _)| item)
    }

    /// The items of the incidents still in the window, oldest first.
    fn into_items(self) -> impl Iterator<Item = T> {
        self.window.into_iter().map(|(item, _)| item)
    }
}

/// How well `p` fits an incident whose (sampled) reports are `members`: the summed
/// agreement, if every one agrees and the strongest reaches what `p` needs to join (a
/// background mention needs less than a report of its own).
fn join_score<'a>(p: &Prepared, members: impl IntoIterator<Item = &'a Prepared>) -> Option<u32> {
    let mut total = 0;
    let mut strongest = 0;
    for m in members {
        let s = agreement(p, m)?;
        total += s;
        strongest = strongest.max(s);
    }
    let needed = if p.background {
        MENTION_SCORE
    } else {
        MERGE_SCORE
    };
    (strongest >= needed).then_some(total)
}

/// Whether a candidate beats the best so far: a higher score, or the same score and an
/// earlier incident (so the result does not depend on the order candidates are visited in).
fn better(best: Option<(u32, usize)>, score: u32, cluster: usize) -> bool {
    match best {
        None => true,
        Some((s, c)) => score > s || score == s && cluster < c,
    }
}

/// The least and the greatest of the values given (no vector: three a row were most of
/// the allocations of the finishing).
fn range(values: impl Iterator<Item = Option<u64>>) -> (Option<u64>, Option<u64>) {
    values.flatten().fold((None, None), |(lo, hi), v| {
        (
            Some(lo.map_or(v, |l: u64| l.min(v))),
            Some(hi.map_or(v, |h: u64| h.max(v))),
        )
    })
}

impl Incident {
    /// The incidents.csv cells, in [`COLUMNS`] order.
    pub fn cells(&self) -> Vec<String> {
        let reports: Vec<Prepared> = self.reports.iter().cloned().map(Prepared::new).collect();
        cells_of(&reports, |cells| {
            cells.iter().map(|c| c.to_string()).collect()
        })
    }
}

/// Calls `f` with the incidents.csv cells of the incident whose reports are `reports` (in
/// input order), in [`COLUMNS`] order: the cells of [`Incident::cells`], borrowed from the
/// reports' bytes wherever a cell is one of their strings, and whole numbers and
/// coordinates formatted in buffers kept by the thread.
///
/// Why: the finishing makes one row per incident (1.8 M at 1 GB, most with one or two
/// reports); owned cells were 23 small strings a row, a quarter of the finishing with
/// their copies and frees, and the lists and coordinates still took six allocations a row.
/// Now a row of one report allocates nothing; lists of several reports and notes are made
/// here.
fn cells_of<R>(reports: &[Prepared], f: impl FnOnce(&[&str]) -> R) -> R {
    thread_local! {
        /// The coordinates' texts of the row being made.
        static COORDS: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
    }
    // The reports that count as sources: the documents whose own incident this is, or,
    // when it was only ever recalled in passing, every report.
    let any_main = reports.iter().any(|r| !r.background);
    let sources = || reports.iter().filter(move |r| !any_main || !r.background);
    let first = sources().next().expect("an incident has a report");
    let date = (reports.iter())
        .filter_map(Prepared::date)
        .max_by_key(|d| (d.chars().filter(|c| c.is_ascii_digit()).count(), d.len()))
        .unwrap_or("");
    let etype = sources()
        .map(Prepared::etype)
        .find(|t| *t != "attack")
        .unwrap_or(first.etype());
    let (event_type, sub_event_type) = acled_type(etype);
    let placed = sources()
        .max_by_key(|p| (specificity(p), p.lat.is_some(), std::cmp::Reverse(p.start)))
        .unwrap_or(first);
    let actor1 = sources().find_map(Prepared::actor1).unwrap_or("");
    let actor2 = sources().find_map(Prepared::target1).unwrap_or("");
    let (kmin, kmax) = range(sources().map(|r| r.killed));
    let (imin, imax) = range(sources().map(|r| r.injured));
    let (_, cmax) = range(sources().map(|r| r.captured));
    // The sources' documents, each run of one document once.
    let mut docs = Joined::default();
    for r in sources() {
        if docs.parts == 0 || docs.last != r.doc_id() {
            docs.push(r.doc_id());
        }
    }
    let mut mentioned: Vec<&str> = (reports.iter())
        .filter(|r| r.background && !sources().any(|s| s.doc_id() == r.doc_id()))
        .map(Prepared::doc_id)
        .collect();
    mentioned.dedup();
    let mut notes = Vec::new();
    if let (Some(a), Some(b)) = (kmin, kmax) {
        if a != b {
            notes.push(format!("sources differ on killed: {a}-{b}"));
        }
    }
    if let (Some(a), Some(b)) = (imin, imax) {
        if a != b {
            notes.push(format!("sources differ on injured: {a}-{b}"));
        }
    }
    if !mentioned.is_empty() {
        notes.push(format!("also recalled in {}", mentioned.join(", ")));
    }
    let mut coords = COORDS.take();
    coords.clear();
    if let Some(x) = placed.lat {
        push_number(&mut coords, x);
    }
    let split = coords.len();
    if let Some(x) = placed.lon {
        push_number(&mut coords, x);
    }
    let (lat, lon) = coords.split_at(split);
    let mut buffers: [itoa::Buffer; 6] = Default::default();
    let [b_kmin, b_kmax, b_imin, b_imax, b_cmax, b_docs] = &mut buffers;
    fn opt(buffer: &mut itoa::Buffer, x: Option<u64>) -> &str {
        x.map_or("", |v| buffer.format(v))
    }
    let mut event_ids = Joined::default();
    for r in reports {
        event_ids.push(r.event_id());
    }
    let mentioned = match &mentioned[..] {
        [] => "".into(),
        [one] => (*one).into(),
        many => std::borrow::Cow::Owned(many.join(";")),
    };
    let notes = notes.join("; ");
    let kmin = opt(b_kmin, kmin);
    let place = if placed.place_canonical().is_empty() {
        placed.place()
    } else {
        placed.place_canonical()
    };
    let row = f(&[
        first.event_id(),
        date,
        event_type,
        sub_event_type,
        etype,
        actor1,
        actor2,
        placed.country(),
        placed.admin1(),
        place,
        lat,
        lon,
        kmin,
        kmin,
        opt(b_kmax, kmax),
        opt(b_imin, imin),
        opt(b_imax, imax),
        opt(b_cmax, cmax),
        b_docs.format(docs.parts),
        &docs.text,
        &event_ids.text,
        &mentioned,
        &notes,
    ]);
    COORDS.set(coords);
    row
}

/// Parts joined by `;` as they come: borrowed while there is one (most incidents have one
/// source and one report), so that such a list allocates nothing.
#[derive(Default)]
struct Joined<'a> {
    text: std::borrow::Cow<'a, str>,
    parts: usize,
    /// The last part pushed.
    last: &'a str,
}

impl<'a> Joined<'a> {
    fn push(&mut self, part: &'a str) {
        if self.parts == 0 {
            self.text = part.into();
        } else {
            let text = self.text.to_mut();
            text.push(';');
            text.push_str(part);
        }
        self.parts += 1;
        self.last = part;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Geo;
    use std::collections::{BTreeSet, HashMap};

    /// A small deterministic generator (xorshift), so the tests need no crate.
    pub(super) struct Rng(pub(super) u64);

    impl Rng {
        pub(super) fn next(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Reports with every shape of place, date and kind the index must sort out: regions
    /// whose names vary ("Anbar Governorate", "anbar province", "Ñinawa"/"ñinawa"), places in
    /// them, features, places of no known kind or region, countries, described places,
    /// gazetteer ids shared by places that differ in kind or region, places without an id,
    /// reports without a place; exact, partial, yearless and missing dates over more than a
    /// year (so that the search stops in time), with and without publication dates; generic,
    /// specific and unknown kinds; several reports a document, background ones included.
    pub(super) fn varied_reports(seed: u64, n: usize) -> Vec<Report> {
        let mut rng = Rng(seed);
        // id, name, kind, admin1
        let places = [
            ("L:anbar", "Anbar", "region", ""),
            ("L:anbar-gov", "Anbar Governorate", "region", ""),
            ("L:ramadi", "Ramadi", "city", "Anbar"),
            ("L:falluja", "Fallujah", "city", "anbar province"),
            ("L:hit", "Hit", "city", "Al-Anbar"),
            ("L:diyala", "Diyala", "region", ""),
            ("L:baquba", "Baqubah", "city", "Diyala"),
            ("L:hamrin", "Hamrin Mountains", "feature", "Diyala"),
            ("L:odd", "Odd Town", "", "Diyala"),
            ("L:ninawa", "Ñinawa", "region", ""),
            ("L:mosul", "Mosul", "city", "ñinawa"),
            ("L:iq", "Iraq", "country", ""),
            ("D:west", "the west of the country", "direction", ""),
            ("L:asia", "Asia", "continent", ""),
            ("", "Somewhere Village", "", ""),
            ("", "Anbar", "region", ""),
            ("L:ramadi", "Ramadi", "city", ""),
            ("L:diyala", "Diyala", "city", "Diyala"),
            ("", "", "", ""),
        ];
        let types = [
            "raid",
            "airstrike",
            "attack",
            "bombing",
            "clash",
            "arrest",
            "shooting",
            "parade",
        ];
        let start = Ymd::new(2024, 1, 1).expect("a date").to_days();
        let mut out = Vec::new();
        let mut doc = 0;
        while out.len() < n {
            doc += 1;
            let events = 1 + rng.next(3);
            let published = (rng.next(6) > 0).then(|| Ymd::from_days(start + rng.next(400) as i64));
            for k in 0..events {
                let (id, name, kind, admin1) = places[rng.next(places.len() as u64) as usize];
                let when = Ymd::from_days(start + rng.next(400) as i64);
                let (y, m, d) = (when.year, when.month, when.day);
                let date = match rng.next(8) {
                    0 | 1 => None,
                    2 => Some(format!("XXXX-{m:02}-{d:02}")),
                    3 => Some(format!("{y}-{m:02}")),
                    4 => Some(format!("XXXX-{m:02}")),
                    5 => Some(format!("{y}")),
                    _ => Some(format!("{y}-{m:02}-{d:02}")),
                };
                let country = ["IQ", "IQ", "IQ", "SY", ""][rng.next(5) as usize];
                let toll = |rng: &mut Rng| (rng.next(3) > 0).then(|| 10 + rng.next(6));
                out.push(Report {
                    doc_id: format!("d{doc}"),
                    published,
                    event: Event {
                        event_id: format!("d{doc}#{}", k + 1),
                        etype: types[rng.next(types.len() as u64) as usize].into(),
                        date,
                        place: name.into(),
                        place_id: id.into(),
                        place_canonical: name.into(),
                        place_kind: kind.into(),
                        geo: Geo {
                            country: country.into(),
                            admin1: admin1.into(),
                            lat: None,
                            lon: None,
                        },
                        killed: toll(&mut rng),
                        injured: toll(&mut rng),
                        background: k > 0,
                        ..Default::default()
                    },
                });
            }
        }
        out
    }

    /// The index against the search it replaces: every incident of the country, newest
    /// first, at most `cap`, stopping at the first that began three windows before. For
    /// each report, the incidents it can join must be the same, and so the merge.
    #[test]
    fn the_index_finds_every_incident_a_full_scan_would_join() {
        // (reports that could join something, agreeing incidents left out by the cap or the
        // stop in time, comparisons by the index, comparisons by the scan)
        let mut seen = (0, 0, 0, 0);
        for seed in 1..=30 {
            for cap in [2, 7, 40, MAX_CANDIDATES] {
                let prepared: Vec<Prepared> = varied_reports(seed, 400)
                    .into_iter()
                    .map(Prepared::new)
                    .collect();
                let mut members: Vec<Vec<usize>> = Vec::new();
                let mut first_day: Vec<Option<i64>> = Vec::new();
                let mut lists: HashMap<&str, Vec<usize>> = HashMap::new();
                let mut indexes: HashMap<&str, Index<usize>> = HashMap::new();
                let mut cluster_of = vec![usize::MAX; prepared.len()];
                for i in merge_order(&prepared) {
                    let p = &prepared[i];
                    let country = p.country();
                    let score = |c: usize| join_score(p, sample(&members[c], &prepared));
                    let all = lists.get(country).filter(|_| !country.is_empty());
                    let mut want = BTreeSet::new();
                    for &c in all.into_iter().flatten().rev().take(cap) {
                        if let (Some(d), Some(f)) = (p.day, first_day[c]) {
                            if f < d - 3 * WINDOW_DAYS {
                                break;
                            }
                        }
                        seen.3 += 1;
                        want.extend(score(c).map(|s| (c, s)));
                    }
                    let anywhere = (all.into_iter().flatten())
                        .filter(|&&c| score(c).is_some())
                        .count();
                    seen.1 += anywhere - want.len();
                    let mut got = BTreeSet::new();
                    if let Some(index) = indexes.get_mut(country).filter(|_| !country.is_empty()) {
                        index.candidates(p, |_, &c| {
                            seen.2 += 1;
                            got.extend(score(c).map(|s| (c, s)));
                        });
                    }
                    assert_eq!(got, want, "seed {seed}, cap {cap}, report {i}");
                    seen.0 += usize::from(!want.is_empty());
                    let best = want.iter().fold(None, |best, &(c, s)| {
                        better(best, s, c).then_some((s, c)).or(best)
                    });
                    cluster_of[i] = match best {
                        Some((_, c)) => {
                            members[c].push(i);
                            c
                        }
                        None => {
                            members.push(vec![i]);
                            first_day.push(p.day);
                            let c = members.len() - 1;
                            if !country.is_empty() {
                                lists.entry(country).or_default().push(c);
                                (indexes.entry(country))
                                    .or_insert_with(|| Index::new(cap))
                                    .push(c, p, drop);
                            }
                            c
                        }
                    };
                }
                assert_eq!(assign(&prepared, cap), cluster_of, "seed {seed}, cap {cap}");
            }
        }
        let (joined, cut, visited, scanned) = seen;
        assert!(
            joined > 1000 && cut > 1000,
            "a test that tests little: {seen:?}"
        );
        assert!(visited * 2 < scanned, "the index visits too much: {seen:?}");
    }

    #[test]
    fn the_cap_counts_incidents_that_could_not_agree() {
        // Four incidents in four towns of Anbar on one day, then another report from the
        // first town: it joins that town's incident while it is among the latest four, even
        // though the index never visits the three others (other towns cannot agree).
        let town = |doc: &str, place: &str| {
            let mut r = report(doc, Some("2024-08-29"), place, Some(15));
            r.event.place_kind = "city".into();
            r.event.geo.admin1 = "Anbar".into();
            r
        };
        let prepared: Vec<Prepared> = ["Ramadi", "Hit", "Fallujah", "Haditha", "Ramadi"]
            .iter()
            .zip(["a", "b", "c", "d", "e"])
            .map(|(place, doc)| Prepared::new(town(doc, place)))
            .collect();
        assert_eq!(assign(&prepared, 4), [0, 1, 2, 3, 0]);
        assert_eq!(assign(&prepared, 3), [0, 1, 2, 3, 4]);
    }

    pub(super) fn report(
        doc: &str,
        date: Option<&str>,
        place: &str,
        killed: Option<u64>,
    ) -> Report {
        Report {
            doc_id: doc.into(),
            published: None,
            event: Event {
                event_id: format!("{doc}#1"),
                etype: "raid".into(),
                date: date.map(Into::into),
                place: place.into(),
                place_id: format!("L:{place}"),
                geo: Geo {
                    country: "IQ".into(),
                    admin1: place.into(),
                    lat: None,
                    lon: None,
                },
                killed,
                ..Default::default()
            },
        }
    }

    #[test]
    fn same_date_and_place_merge_with_a_range() {
        let merged = merge(vec![
            report("a", Some("2024-08-29"), "Anbar", Some(15)),
            report("b", Some("2024-08-29"), "Anbar", Some(14)),
            report("c", Some("XXXX-08"), "Anbar", Some(15)),
        ]);
        assert_eq!(merged.len(), 1);
        let cells = merged[0].cells();
        assert_eq!(cells[1], "2024-08-29");
        assert_eq!((cells[13].as_str(), cells[14].as_str()), ("14", "15"));
        assert_eq!(cells[18], "3");
    }

    #[test]
    fn every_cell_of_an_incident_row() {
        // One report (lists of one, borrowed), and three: two sources that differ on the
        // toll and a mention in passing (joined lists, notes).
        let mut a = report("a", Some("2024-08-29"), "Anbar", Some(15));
        a.event.geo.lat = Some(33.5);
        a.event.geo.lon = Some(-43.25);
        a.event.actors = vec!["the army".into()];
        let mut b = report("b", Some("2024-08-29"), "Anbar", Some(14));
        b.event.injured = Some(3);
        b.event.targets = vec!["fighters".into()];
        let mut c = report("c", Some("2024-08-29"), "Anbar", None);
        c.event.background = true;
        c.event.captured = Some(2);
        let cases: [(Vec<Report>, [&str; 23]); 2] = [
            (
                vec![a.clone()],
                [
                    "a#1",
                    "2024-08-29",
                    "Battles",
                    "Armed clash",
                    "raid",
                    "the army",
                    "",
                    "IQ",
                    "Anbar",
                    "Anbar",
                    "33.5",
                    "-43.25",
                    "15",
                    "15",
                    "15",
                    "",
                    "",
                    "",
                    "1",
                    "a",
                    "a#1",
                    "",
                    "",
                ],
            ),
            (
                vec![a, b, c],
                [
                    "a#1",
                    "2024-08-29",
                    "Battles",
                    "Armed clash",
                    "raid",
                    "the army",
                    "fighters",
                    "IQ",
                    "Anbar",
                    "Anbar",
                    "33.5",
                    "-43.25",
                    "14",
                    "14",
                    "15",
                    "3",
                    "3",
                    "",
                    "2",
                    "a;b",
                    "a#1;b#1;c#1",
                    "c",
                    "sources differ on killed: 14-15; also recalled in c",
                ],
            ),
        ];
        for (reports, want) in cases {
            let merged = merge(reports);
            assert_eq!(merged.len(), 1);
            assert_eq!(merged[0].cells(), want);
            assert_eq!(merged[0].cells().len(), COLUMNS.len());
        }
    }

    #[test]
    fn different_dates_or_places_stay_apart() {
        let merged = merge(vec![
            report("a", Some("2024-08-29"), "Anbar", Some(15)),
            report("b", Some("2024-08-30"), "Anbar", Some(15)),
            report("c", Some("2024-08-29"), "Diyala", Some(15)),
        ]);
        assert_eq!(merged.len(), 3);
    }

    #[test]
    fn a_story_reprinted_many_times_is_one_incident() {
        let reports: Vec<Report> = (0..500)
            .map(|i| report(&format!("copy{i}"), Some("2024-08-29"), "Anbar", Some(15)))
            .collect();
        let merged = merge(reports);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].cells()[18], "500");
    }

    #[test]
    fn year_comes_from_the_publication_date() {
        let p = Ymd::new(2024, 9, 14);
        assert_eq!(resolve_date("XXXX-08-29", p), "2024-08-29");
        assert_eq!(
            resolve_date("XXXX-12-30", Ymd::new(2025, 1, 3)),
            "2024-12-30"
        );
        assert_eq!(resolve_date("XXXX-08", None), "XXXX-08");
        assert_eq!(resolve_date("2023-05-01", p), "2023-05-01");
    }

    #[test]
    fn two_events_of_one_document_never_merge() {
        let merged = merge(vec![
            report("a", Some("2024-08-29"), "Anbar", Some(15)),
            report("a", Some("2024-08-29"), "Anbar", Some(15)),
        ]);
        assert_eq!(merged.len(), 2);
    }

    /// [`agreement`] as it was before [`Traits`]: every check on the reports' text, in the
    /// order of docs/incidents.md.
    fn agreement_on_the_text(a: &Prepared, b: &Prepared) -> Option<u32> {
        let country = a.country();
        if country.is_empty() || country != b.country() || a.doc_id() == b.doc_id() {
            return None;
        }
        let mut score = 0;
        let (px, py) = (a.place_ref()?, b.place_ref()?);
        match (a.date(), b.date()) {
            (Some(p), Some(q)) => {
                if !dates_agree(p, q) {
                    return None;
                }
                let digits = |s: &str| s.chars().filter(char::is_ascii_digit).count();
                let whole = |s: &str| digits(s) >= 4 && s.len() >= 10;
                score += if whole(p) && whole(q) { 2 } else { 1 };
            }
            _ => {
                if let (Some(p), Some(q)) = (a.day, b.day) {
                    if (p - q).abs() > 31 {
                        return None;
                    }
                }
            }
        }
        let (ex, ey) = (a.etype(), b.etype());
        if acled_type(ex).0 != acled_type(ey).0 && ex != "attack" && ey != "attack" {
            return None;
        }
        for (fx, fy) in [(a.killed, b.killed), (a.injured, b.injured)] {
            if !figures_agree(fx, fy) {
                return None;
            }
            if let (Some(p), Some(q)) = (fx, fy) {
                score += if p == q { 2 } else { 1 };
            }
        }
        if !within(&px, &py) && !within(&py, &px) {
            return None;
        }
        if !px.id.is_empty() && px.id == py.id && specificity_of(a) >= 2 {
            score += 2;
        } else if specificity_of(a) >= 2 && specificity_of(b) >= 2 {
            score += 1;
        }
        Some(score)
    }

    #[test]
    fn agreement_on_traits_is_agreement_on_the_text() {
        let mut reports = varied_reports(11, 300);
        // A date too long to pack is compared as text.
        reports[5].event.date = Some("2024-01-01 and later".into());
        let prepared: Vec<Prepared> = reports.into_iter().map(Prepared::new).collect();
        let mut agreed = 0;
        for a in &prepared {
            for b in &prepared {
                let want = agreement_on_the_text(a, b);
                assert_eq!(agreement(a, b), want, "{} {}", a.event_id(), b.event_id());
                agreed += usize::from(want.is_some());
            }
        }
        assert!(agreed > 500, "{agreed}");
    }

    #[test]
    fn plain_columns_are_counts_and_acled_names() {
        let named = [
            "event_type",
            "sub_event_type",
            "fatalities",
            "killed_min",
            "killed_max",
            "injured_min",
            "injured_max",
            "captured",
            "sources",
        ];
        for (column, plain) in COLUMNS.iter().zip(PLAIN) {
            assert_eq!(plain, named.contains(column), "{column}");
        }
        let mut seen = 0;
        for incident in merge(varied_reports(5, 300)) {
            let cells = incident.cells();
            for (cell, plain) in cells.iter().zip(PLAIN) {
                if plain && !cell.is_empty() {
                    seen += 1;
                    assert_eq!(crate::sink::neutralise(cell), cell.as_str());
                    assert!(!cell.contains([',', '"', '\r', '\n']), "{cell:?}");
                }
            }
        }
        assert!(seen > 300, "{seen}");
    }

    #[test]
    fn packed_dates_agree_as_the_text_does() {
        let dates = [
            "2024-08-29",
            "2024-08-30",
            "XXXX-08-29",
            "XXXX-08",
            "2024-08",
            "2024",
            "2023",
            "",
            "XXXX-09-29",
            "2024-08-29T10",
            "2024-08-29 16 b",
            "2024-08-29 16 by",
            "2024-08-29 16 bz",
        ];
        for a in dates {
            for b in dates {
                let (pa, pb) = (PackedDate::of(a).unwrap(), PackedDate::of(b).unwrap());
                assert_eq!(pa.agrees(&pb), dates_agree(a, b), "{a:?} {b:?}");
            }
        }
        assert!(PackedDate::of("2024-08-29 and 30").is_none());
    }
}
