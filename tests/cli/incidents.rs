//! Runs the real binary on articles written for these tests (fictional incidents) and
//! checks which reports become one incident in incidents.csv, and which stay apart.

use super::{jsonl, Dir, Row};

/// One article of the test dump: id, publication date, text.
type Article<'a> = (&'a str, &'a str, &'a str);

/// Writes `articles` as a JSONL dump, runs `gleaner extract` on it and returns the rows of
/// incidents.csv.
fn incidents(articles: &[Article]) -> Vec<Row> {
    let d = Dir::new();
    let dump: String = articles
        .iter()
        .map(|&(id, published, text)| {
            jsonl(&[("id", id), ("published", published), ("text", text)])
        })
        .collect();
    d.write("dump.jsonl", dump);
    let run = d.extract(&["--quiet", "dump.jsonl"]);
    run.assert_status(0);
    run.table("incidents")
}

/// The incident whose sources include `doc`.
fn incident_of<'a>(rows: &'a [Row], doc: &str) -> &'a Row {
    rows.iter()
        .find(|r| r["source"].split(';').any(|d| d == doc))
        .unwrap_or_else(|| panic!("no incident with source {doc}: {rows:?}"))
}

const MARKET_A: Article = (
    "mopti-wire",
    "2025-01-11",
    "Gunmen attack market in central Mali\n\n\
     Gunmen attacked a crowded cattle market in Mopti on 10 January, killing 12 civilians \
     and wounding 20 others, local officials said. The attackers fled on motorbikes.",
);

const MARKET_B: Article = (
    "mopti-daily",
    "2025-01-11",
    "At least 13 people were killed and 20 injured when armed men opened fire at the \
     cattle market in Mopti on 10 January, a regional official told reporters.",
);

const MARKET_C: Article = (
    "mopti-update",
    "2025-01-12",
    "The death toll from Friday's assault on the cattle market in Mopti has risen to 14, \
     hospital staff said, as 20 wounded people were still being treated.",
);

#[test]
fn three_reports_of_one_attack_are_one_incident_with_the_range_of_figures() {
    let rows = incidents(&[MARKET_A, MARKET_B, MARKET_C]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(r["sources"], "3");
    assert_eq!(r["source"], "mopti-wire;mopti-daily;mopti-update");
    assert_eq!(
        (r["killed_min"].as_str(), r["killed_max"].as_str()),
        ("12", "14")
    );
    assert_eq!(r["fatalities"], "12");
    assert_eq!(r["country"], "ML");
    assert_eq!(r["location"], "Mopti");
    assert_eq!(r["event_date"], "2025-01-10");
}

#[test]
fn same_place_another_date_stays_apart() {
    let later = (
        "mopti-later",
        "2025-01-25",
        "Gunmen attacked the cattle market in Mopti on 24 January, killing 12 civilians and \
         wounding 20 others, officials said.",
    );
    let rows = incidents(&[MARKET_A, later]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_ne!(
        incident_of(&rows, "mopti-wire")["incident_id"],
        incident_of(&rows, "mopti-later")["incident_id"]
    );
}

#[test]
fn same_date_another_place_stays_apart() {
    let elsewhere = (
        "segou-wire",
        "2025-01-11",
        "Gunmen attacked a crowded cattle market in Ségou on 10 January, killing 12 civilians \
         and wounding 20 others, local officials said.",
    );
    let rows = incidents(&[MARKET_A, elsewhere]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(incident_of(&rows, "segou-wire")["location"], "Ségou");
}

#[test]
fn two_incidents_of_one_article_stay_two() {
    let roundup = (
        "mali-roundup",
        "2025-01-11",
        "Gunmen attacked a crowded cattle market in Mopti on 10 January, killing 12 civilians \
         and wounding 20 others, officials said.\n\n\
         In a separate attack in Timbuktu on the same day, a roadside bomb killed 3 soldiers \
         and wounded 5.",
    );
    let rows = incidents(&[roundup, MARKET_B]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let mopti = incident_of(&rows, "mali-roundup");
    assert_eq!(mopti["location"], "Mopti");
    assert_eq!(mopti["sources"], "2");
    let timbuktu = rows
        .iter()
        .find(|r| r["location"] == "Timbuktu")
        .expect("Timbuktu");
    assert_eq!(timbuktu["killed_max"], "3");
    assert_eq!(timbuktu["sources"], "1");
}

#[test]
fn figures_far_apart_do_not_merge() {
    let other = (
        "mopti-other",
        "2025-01-11",
        "Gunmen attacked a cattle market in Mopti on 10 January, killing 40 civilians, \
         officials said.",
    );
    let rows = incidents(&[MARKET_A, other]);
    assert_eq!(rows.len(), 2, "{rows:?}");
}
