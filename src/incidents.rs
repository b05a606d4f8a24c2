//! One incident across many articles.
//!
//! Each document's events are [`Report`]s of incidents. Reports from different documents
//! that agree on date, place and type, and whose figures do not contradict each other, are
//! merged into one [`Incident`] with its sources and the range of figures reported. Columns
//! use ACLED's names where they mean the same, so the table loads beside ACLED data.
//! The merging rules are documented in docs/incidents.md.

use crate::calendar::Ymd;
use crate::facts::Event;
use crate::sink::csv_number as number;

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
    "notes",
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

/// Whether two date values (`2024-08-29`, `2024-08`, `XXXX-08-29`) can name the same day.
fn dates_agree(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.iter()
        .zip(b.iter())
        .all(|(x, y)| x == y || *x == b'X' || *y == b'X')
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

fn places_agree(a: &Event, b: &Event) -> bool {
    if !a.geo.country.is_empty() && !b.geo.country.is_empty() && a.geo.country != b.geo.country {
        return false;
    }
    if !a.place_id.is_empty() && a.place_id == b.place_id {
        return true;
    }
    // A town and its region, or a region and the same region named differently.
    let admin = |e: &Event| (!e.geo.admin1.is_empty()).then(|| e.geo.admin1.clone());
    match (admin(a), admin(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Whether two reports from different documents describe the same incident.
pub fn same_incident(a: &Report, b: &Report) -> bool {
    let (x, y) = (&a.event, &b.event);
    if a.doc_id == b.doc_id {
        return false;
    }
    let dates = match (&x.date, &y.date) {
        (Some(p), Some(q)) => dates_agree(p, q),
        // Without a date on one side, the place must be exact and the figures must agree.
        _ => !x.place_id.is_empty() && x.place_id == y.place_id,
    };
    let (tx, ty) = (acled_type(&x.etype).0, acled_type(&y.etype).0);
    dates
        && places_agree(x, y)
        && (tx == ty || tx.is_empty() || ty.is_empty())
        && figures_agree(x.killed, y.killed)
        && figures_agree(x.injured, y.injured)
}

/// Merges reports into incidents. Deterministic: the result depends only on the reports and
/// their order, and incidents come out in the order of their first report.
pub fn merge(reports: Vec<Report>) -> Vec<Incident> {
    let n = reports.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    // Two reports can only be one incident if they share a place id or a first-level region
    // (`places_agree`), so only reports within such a block are compared. Comparing every
    // pair made the merge quadratic in the events of the whole dump: 40,000 events (a
    // 100 MB dump) took 40 s, a 1 GB dump hours. The components, and so the output, do not
    // depend on the order in which pairs are joined.
    {
        let mut blocks: std::collections::HashMap<(bool, &str), Vec<usize>> =
            std::collections::HashMap::new();
        for (i, r) in reports.iter().enumerate() {
            if !r.event.place_id.is_empty() {
                blocks.entry((true, &r.event.place_id)).or_default().push(i);
            }
            if !r.event.geo.admin1.is_empty() {
                blocks
                    .entry((false, &r.event.geo.admin1))
                    .or_default()
                    .push(i);
            }
        }
        for members in blocks.values() {
            for (k, &i) in members.iter().enumerate() {
                for &j in &members[k + 1..] {
                    if same_incident(&reports[i], &reports[j]) {
                        let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                        if ri != rj {
                            parent[ri.max(rj)] = ri.min(rj);
                        }
                    }
                }
            }
        }
    }
    let mut groups: Vec<Vec<Report>> = Vec::new();
    let mut slot = vec![usize::MAX; n];
    for (i, r) in reports.into_iter().enumerate() {
        let root = find(&mut parent, i);
        if slot[root] == usize::MAX {
            slot[root] = groups.len();
            groups.push(Vec::new());
        }
        groups[slot[root]].push(r);
    }
    groups
        .into_iter()
        .map(|reports| Incident { reports })
        .collect()
}

fn range(values: impl Iterator<Item = Option<u64>>) -> (Option<u64>, Option<u64>) {
    let v: Vec<u64> = values.flatten().collect();
    (v.iter().min().copied(), v.iter().max().copied())
}

impl Incident {
    /// The most precise value among the reports (the longest known date, the first place
    /// with coordinates...).
    fn best<'a, T: ?Sized>(&'a self, get: impl Fn(&'a Event) -> Option<&'a T>) -> Option<&'a T> {
        self.reports.iter().find_map(|r| get(&r.event))
    }

    /// The incidents.csv cells, in [`COLUMNS`] order.
    pub fn cells(&self) -> Vec<String> {
        let first = &self.reports[0].event;
        let date = self
            .reports
            .iter()
            .filter_map(|r| r.event.date.as_deref())
            .max_by_key(|d| d.chars().filter(|c| c.is_ascii_digit()).count())
            .unwrap_or("");
        let etype = first.etype.as_str();
        let (event_type, sub_event_type) = acled_type(etype);
        let placed = self
            .best(|e| e.geo.lat.map(|_| e))
            .or_else(|| self.best(|e| (!e.place.is_empty()).then_some(e)))
            .unwrap_or(first);
        let actor1 = self
            .best(|e| e.actors.first().map(String::as_str))
            .unwrap_or("");
        let actor2 = self
            .best(|e| e.targets.first().map(String::as_str))
            .unwrap_or("");
        let (kmin, kmax) = range(self.reports.iter().map(|r| r.event.killed));
        let (imin, imax) = range(self.reports.iter().map(|r| r.event.injured));
        let (_, cmax) = range(self.reports.iter().map(|r| r.event.captured));
        let opt = |x: Option<u64>| x.map(|v| v.to_string()).unwrap_or_default();
        let mut docs: Vec<&str> = self.reports.iter().map(|r| r.doc_id.as_str()).collect();
        docs.dedup();
        let notes = match (kmin, kmax) {
            (Some(a), Some(b)) if a != b => format!("killed reported as {a}-{b}"),
            _ => String::new(),
        };
        vec![
            first.event_id.clone(),
            date.to_string(),
            event_type.to_string(),
            sub_event_type.to_string(),
            etype.to_string(),
            actor1.to_string(),
            actor2.to_string(),
            placed.geo.country.clone(),
            placed.geo.admin1.clone(),
            placed.place.clone(),
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
            notes,
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

    /// The merge before blocking: every pair compared.
    fn merge_all_pairs(reports: &[Report]) -> Vec<Vec<String>> {
        let n = reports.len();
        let mut group: Vec<usize> = (0..n).collect();
        for i in 0..n {
            for j in (i + 1)..n {
                if same_incident(&reports[i], &reports[j]) {
                    let (gi, gj) = (group[i], group[j]);
                    for g in group.iter_mut() {
                        if *g == gi.max(gj) {
                            *g = gi.min(gj);
                        }
                    }
                }
            }
        }
        let mut out: Vec<(usize, Vec<String>)> = Vec::new();
        for (i, r) in reports.iter().enumerate() {
            match out.iter_mut().find(|(g, _)| *g == group[i]) {
                Some((_, ids)) => ids.push(r.event.event_id.clone()),
                None => out.push((group[i], vec![r.event.event_id.clone()])),
            }
        }
        out.into_iter().map(|(_, ids)| ids).collect()
    }

    #[test]
    fn blocking_by_place_merges_like_comparing_every_pair() {
        // Reports varying in date, place id, region, country and figures, some without a
        // place id or a region, drawn with a fixed seed.
        let mut rng = crate::generate::SplitMix64::new(3);
        let places = ["", "Anbar", "Diyala", "Kirkuk"];
        let regions = ["", "Anbar", "North", "South"];
        let dates = [
            None,
            Some("2024-08-29"),
            Some("2024-08"),
            Some("XXXX-08-29"),
        ];
        for _ in 0..20 {
            let reports: Vec<Report> = (0..40)
                .map(|i| {
                    let mut r = report(
                        &format!("d{}", rng.below(15)),
                        *rng.pick(&dates),
                        "",
                        [None, Some(10), Some(11), Some(30)][rng.below(4)],
                    );
                    r.event.event_id = format!("e{i}");
                    r.event.place_id = rng.pick(&places).to_string();
                    r.event.geo.admin1 = rng.pick(&regions).to_string();
                    r.event.geo.country = ["", "IQ", "SY"][rng.below(3)].into();
                    r
                })
                .collect();
            let want = merge_all_pairs(&reports);
            let got: Vec<Vec<String>> = merge(reports)
                .iter()
                .map(|inc| {
                    inc.reports
                        .iter()
                        .map(|r| r.event.event_id.clone())
                        .collect()
                })
                .collect();
            assert_eq!(got, want);
            assert!(want.iter().any(|g| g.len() > 1) && want.len() > 1);
        }
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
