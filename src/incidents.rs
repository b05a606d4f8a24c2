//! One incident across many articles.
//!
//! Each document's events are [`Report`]s of incidents. Reports from different documents
//! that agree on date, place and type, and whose figures do not contradict each other, are
//! merged into one [`Incident`] with its sources and the range of figures reported. Columns
//! use ACLED's names where they mean the same, so the table loads beside ACLED data.
//! The merging rules are documented in docs/incidents.md.

use crate::calendar::Ymd;
use crate::events::{dates_agree, within, PlaceRef};
use crate::facts::Event;
use crate::sink::csv_number as number;

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

/// An incident as reported by one or more documents.
#[derive(Clone, Debug)]
pub struct Incident {
    pub reports: Vec<Report>,
    /// Each report's date, with the year resolved from its publication date.
    dates: Vec<Option<String>>,
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
fn specificity(e: &Event) -> u8 {
    if e.place_id.is_empty() && e.place_canonical.is_empty() {
        return 0;
    }
    // A continent is as vague as a country here; a place at all beats none.
    crate::events::kind_specificity(&e.place_kind).max(1)
}

/// A report prepared for comparison: its resolved date and when it happened, as a day
/// number (the event date, else the publication date), for the blocking.
struct Prepared {
    report: Report,
    date: Option<String>,
    day: Option<i64>,
}

impl Prepared {
    fn new(report: Report) -> Prepared {
        let date = report
            .event
            .date
            .as_deref()
            .map(|d| resolve_date(d, report.published));
        let day = date
            .as_deref()
            .and_then(day_number)
            .or_else(|| report.published.map(Ymd::to_days));
        Prepared { report, date, day }
    }
}

/// Evidence that two reports from different documents tell of the same incident, or
/// `None` when they contradict each other (other place, other date, other kind of
/// incident, figures too far apart). See docs/incidents.md.
fn agreement(a: &Prepared, b: &Prepared) -> Option<u32> {
    let (x, y) = (&a.report.event, &b.report.event);
    if a.report.doc_id == b.report.doc_id
        || x.geo.country.is_empty()
        || x.geo.country != y.geo.country
    {
        return None;
    }
    let mut score = 0;
    // The checks that can only refuse come in order of cost: the merge asks this of up to
    // MAX_CANDIDATES incidents per report, and most differ in date or kind.
    let (px, py) = (PlaceRef::of_event(x)?, PlaceRef::of_event(y)?);
    // Date: never two different days; a shared day is strong evidence.
    match (&a.date, &b.date) {
        (Some(p), Some(q)) => {
            if !dates_agree(p, q) {
                return None;
            }
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).count();
            score += if digits(p) >= 4 && digits(q) >= 4 && p.len() >= 10 && q.len() >= 10 {
                2
            } else {
                1
            };
        }
        _ => {
            // Without an event date, the articles must have appeared within a month.
            if let (Some(p), Some(q)) = (a.day, b.day) {
                if (p - q).abs() > 31 {
                    return None;
                }
            }
        }
    }
    // Kind of incident: the same ACLED type, or a generic "attack".
    let (tx, ty) = (acled_type(&x.etype).0, acled_type(&y.etype).0);
    let generic = |t: &str| t == "attack";
    if tx != ty && !generic(&x.etype) && !generic(&y.etype) {
        return None;
    }
    // Figures: close enough, and each one given by both counts.
    for (fx, fy) in [(x.killed, y.killed), (x.injured, y.injured)] {
        if !figures_agree(fx, fy) {
            return None;
        }
        if let (Some(p), Some(q)) = (fx, fy) {
            score += if p == q { 2 } else { 1 };
        }
    }
    // Place: one must lie in the other.
    if !within(&px, &py) && !within(&py, &px) {
        return None;
    }
    if !x.place_id.is_empty() && x.place_id == y.place_id && specificity(x) >= 2 {
        score += 2;
    } else if specificity(x) >= 2 && specificity(y) >= 2 {
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

/// How many earlier incidents of its country a report is compared with at most: the cap
/// that keeps the merge linear even on dumps without dates.
const MAX_CANDIDATES: usize = 2000;

/// How many reports of an incident a new report is compared with at most (the first and
/// the latest halves).
const MEMBER_SAMPLE: usize = 64;

/// How far apart (days) two dated reports of one incident can be.
const WINDOW_DAYS: i64 = 31;

/// Merges reports into incidents. Deterministic: the result depends only on the reports and
/// their order, and incidents come out in the order of their first report.
///
/// Reports are blocked by country and compared only with the incidents of their country
/// whose dates are within [`WINDOW_DAYS`], and with [`MAX_CANDIDATES`] at most, so the work grows with the number of reports, not its square. A
/// report joins the incident it agrees with best, if it contradicts none of its reports;
/// a document's first incident is merged first, and the incidents it recalls in passing
/// (`background`) join afterwards as mentions.
pub fn merge(reports: Vec<Report>) -> Vec<Incident> {
    let mut order: Vec<usize> = (0..reports.len()).collect();
    let prepared: Vec<Prepared> = reports.into_iter().map(Prepared::new).collect();
    // Main reports first, then background ones; by time within each (undated last).
    order.sort_by_key(|&i| {
        let p = &prepared[i];
        (p.report.event.background, p.day.is_none(), p.day, i)
    });
    // Per country: the incidents, as lists of report indices, and their latest day.
    struct Cluster {
        members: Vec<usize>,
        first_day: Option<i64>,
    }
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut by_country: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    let mut cluster_of = vec![usize::MAX; prepared.len()];
    for &i in &order {
        let p = &prepared[i];
        let country = p.report.event.geo.country.as_str();
        let mut best: Option<(u32, usize)> = None;
        if let Some(list) = by_country.get(country).filter(|_| !country.is_empty()) {
            // Newest first. Dated incidents were made in date order, so the scan stops at
            // the first one too old to be this one.
            for &c in list.iter().rev().take(MAX_CANDIDATES) {
                let cl = &clusters[c];
                if let (Some(d), Some(f)) = (p.day, cl.first_day) {
                    if f < d - 3 * WINDOW_DAYS {
                        break;
                    }
                }
                // A big incident (a wire story reprinted a thousand times) is checked
                // against its first and latest reports only, to stay linear.
                let n = cl.members.len();
                let sample = cl
                    .members
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k < MEMBER_SAMPLE / 2 || *k + MEMBER_SAMPLE / 2 >= n)
                    .map(|(_, &m)| &prepared[m]);
                if let Some(total) = join_score(p, sample) {
                    if better(best, total, c) {
                        best = Some((total, c));
                    }
                }
            }
        }
        match best {
            Some((_, c)) => {
                clusters[c].members.push(i);
                cluster_of[i] = c;
            }
            None => {
                clusters.push(Cluster {
                    members: vec![i],
                    first_day: p.day,
                });
                cluster_of[i] = clusters.len() - 1;
                if !country.is_empty() {
                    by_country
                        .entry(country)
                        .or_default()
                        .push(clusters.len() - 1);
                }
            }
        }
    }
    // Output in the order of each incident's first report.
    let mut slots: Vec<Option<Vec<Prepared>>> = (0..clusters.len()).map(|_| None).collect();
    let mut first_seen: Vec<usize> = Vec::new();
    for (i, p) in prepared.into_iter().enumerate() {
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
            let members = slots[c].take().expect("each incident once");
            let dates = members.iter().map(|p| p.date.clone()).collect();
            Incident {
                reports: members.into_iter().map(|p| p.report).collect(),
                dates,
            }
        })
        .collect()
}

/// Whether a candidate beats the best so far: a higher score, or the same score and an
/// earlier incident (so the result does not depend on the scan order).
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
    let needed = if p.report.event.background {
        MENTION_SCORE
    } else {
        MERGE_SCORE
    };
    (strongest >= needed).then_some(total)
}

fn better(best: Option<(u32, usize)>, score: u32, cluster: usize) -> bool {
    match best {
        None => true,
        Some((s, c)) => score > s || score == s && cluster < c,
    }
}

fn range(values: impl Iterator<Item = Option<u64>>) -> (Option<u64>, Option<u64>) {
    let v: Vec<u64> = values.flatten().collect();
    (v.iter().min().copied(), v.iter().max().copied())
}

impl Incident {
    /// The reports that count as sources: the documents whose own incident this is, or,
    /// when it was only ever recalled in passing, every report.
    fn sources(&self) -> Vec<&Report> {
        let main: Vec<&Report> = self
            .reports
            .iter()
            .filter(|r| !r.event.background)
            .collect();
        if main.is_empty() {
            self.reports.iter().collect()
        } else {
            main
        }
    }

    /// The incidents.csv cells, in [`COLUMNS`] order.
    pub fn cells(&self) -> Vec<String> {
        let sources = self.sources();
        let first = &sources[0].event;
        let date = self
            .dates
            .iter()
            .flatten()
            .max_by_key(|d| (d.chars().filter(|c| c.is_ascii_digit()).count(), d.len()))
            .cloned()
            .unwrap_or_default();
        let etype = sources
            .iter()
            .map(|r| r.event.etype.as_str())
            .find(|t| *t != "attack")
            .unwrap_or(first.etype.as_str());
        let (event_type, sub_event_type) = acled_type(etype);
        let placed = sources
            .iter()
            .map(|r| &r.event)
            .max_by_key(|e| {
                (
                    specificity(e),
                    e.geo.lat.is_some(),
                    std::cmp::Reverse(e.span.start),
                )
            })
            .unwrap_or(first);
        let pick = |get: fn(&Event) -> Option<&String>| {
            sources
                .iter()
                .find_map(|r| get(&r.event))
                .cloned()
                .unwrap_or_default()
        };
        let actor1 = pick(|e| e.actors.first());
        let actor2 = pick(|e| e.targets.first());
        let (kmin, kmax) = range(sources.iter().map(|r| r.event.killed));
        let (imin, imax) = range(sources.iter().map(|r| r.event.injured));
        let (_, cmax) = range(sources.iter().map(|r| r.event.captured));
        let opt = |x: Option<u64>| x.map(|v| v.to_string()).unwrap_or_default();
        let mut docs: Vec<&str> = sources.iter().map(|r| r.doc_id.as_str()).collect();
        docs.dedup();
        let mut mentioned: Vec<&str> = self
            .reports
            .iter()
            .filter(|r| r.event.background && !docs.contains(&r.doc_id.as_str()))
            .map(|r| r.doc_id.as_str())
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
        vec![
            first.event_id.clone(),
            date,
            event_type.to_string(),
            sub_event_type.to_string(),
            etype.to_string(),
            actor1,
            actor2,
            placed.geo.country.clone(),
            placed.geo.admin1.clone(),
            if placed.place_canonical.is_empty() {
                placed.place.clone()
            } else {
                placed.place_canonical.clone()
            },
            placed.geo.lat.map(number).unwrap_or_default(),
            placed.geo.lon.map(number).unwrap_or_default(),
            opt(kmin),
            opt(kmin),
            opt(kmax),
            opt(imin),
            opt(imax),
            opt(cmax),
            docs.len().to_string(),
            docs.join(";"),
            self.reports
                .iter()
                .map(|r| r.event.event_id.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            mentioned.join(";"),
            notes.join("; "),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Geo;

    fn report(doc: &str, date: Option<&str>, place: &str, killed: Option<u64>) -> Report {
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
}
