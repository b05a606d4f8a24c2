//! The dates stage: calendar expressions with TIMEX3-style values.
//!
//! The `dates` rules find the expressions (see docs/rules.md) and name their parts with
//! captures: `<iso>`, `<year>`, `<month>`, `<day>`, `<weekday>`, `<half>`, `<quarter>`,
//! `<season>`, `<n>` (a count, for "two weeks ago"), `<mod_END>`... This module turns the
//! parts into a value:
//!
//! - absolute dates as written (`2024-08-29`, `2017`, `2024-H1`);
//! - a day or month without a year takes the year of the publication date, or `XXXX`
//!   when it is unknown ("August 29" -> `XXXX-08-29`);
//! - relative dates (`relative = "day"`, `shift = -1` for "yesterday") are counted from
//!   the publication date, and have no value when it is unknown: never a guess.
//!
//! The publication date is the input's field, or else a date written in the article's
//! header ("Published: 14 March 2024"), found by [`DateStage::header_date`].

use std::fmt::Write;

use regex::Regex;
use regex_automata::PatternID;

use crate::calendar::{days_in_month, month_number, Ymd, WEEKDAYS};
use crate::document::Document;
use crate::facts::{DateFact, DateMod, Facts, Span};
use crate::numbers::parse_number;
use crate::pipeline::Stage;
use crate::rules::{mask, Match, Placeholder, Relative, Rule, RuleSet, Table, Texts};

/// Finds dates with the `dates` rules.
pub struct DateStage {
    rules: RuleSet,
    /// Per rule: where its regex puts the groups the stage reads.
    groups: Vec<Groups>,
    header: Regex,
}

/// The index of each capture group a date rule may have (`None`: the rule has none of
/// that name), looked up once per rule: by name for every match, these lookups (a scan of
/// the rule's group names each) were half of [`parts`].
#[derive(Default)]
struct Groups {
    iso: Option<usize>,
    year: Option<usize>,
    month: Option<usize>,
    day: Option<usize>,
    weekday: Option<usize>,
    half: Option<usize>,
    quarter: Option<usize>,
    season: Option<usize>,
    n: Option<usize>,
    /// `<m>`: the part of the match that is the date, when not all of it.
    m: Option<usize>,
    /// The `<mod_...>` groups that name a modifier, in group order.
    modifiers: Vec<(usize, DateMod)>,
}

impl Groups {
    fn of(rule: &Rule) -> Groups {
        let info = rule.regex.group_info();
        let at = |name: &str| info.to_index(PatternID::ZERO, name);
        Groups {
            iso: at("iso"),
            year: at("year"),
            month: at("month"),
            day: at("day"),
            weekday: at("weekday"),
            half: at("half"),
            quarter: at("quarter"),
            season: at("season"),
            n: at("n"),
            m: at("m"),
            modifiers: info
                .pattern_names(PatternID::ZERO)
                .enumerate()
                .filter_map(|(i, name)| {
                    let name = name?.strip_prefix("mod_")?;
                    Some((i, DateMod::parse(name)?))
                })
                .collect(),
        }
    }
}

impl DateStage {
    pub fn new(rules: RuleSet) -> DateStage {
        DateStage {
            groups: rules.rules().iter().map(Groups::of).collect(),
            rules,
            header: Regex::new(
                r"(?im)(?:^[ \t]*(?:date|posted|updated)|\bpublished)[ \t]*(?:on)?[ \t]*:?[ \t]*(?P<d>[^\n]{6,40})$",
            )
            .expect("the built-in header pattern compiles"),
        }
    }

    /// A publication date written in the article's header: a "Published: 14 March 2024"
    /// line, or a full date in a dateline ("ADEN, Yemen, Oct. 9, 2024 (Agency) — ...",
    /// "BAMAKO (Wire) — June 5, 2024"). Only dates with day, month and year count, and
    /// only in the first lines after the title: a date in the story is not a guess at
    /// when it was written.
    pub fn header_date(&self, text: &str) -> Option<Ymd> {
        let head: String = text.lines().take(12).collect::<Vec<_>>().join("\n");
        if let Some(d) = self
            .header
            .captures_iter(&head)
            .find_map(|c| Ymd::parse_loose(&c["d"]))
        {
            return Some(d);
        }
        let lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        for line in lines.skip(1).take(5) {
            // The dateline is what comes before the dash that opens the story; a short
            // line may be a dateline on its own.
            let dash = line
                .find(" \u{2014}")
                .or_else(|| line.find(" \u{2013}"))
                .or_else(|| line.find(" -- "))
                .or_else(|| line.find(" - "));
            let parts: Vec<&str> = match dash {
                Some(i) => {
                    let rest = line[i..].trim_start_matches([' ', '-', '\u{2014}', '\u{2013}']);
                    let mut p = vec![&line[..i]];
                    if rest.chars().count() <= 40 {
                        p.push(rest);
                    }
                    p
                }
                None if line.chars().count() <= 60 => vec![line],
                None => continue,
            };
            if let Some(d) = parts.into_iter().find_map(|p| self.full_date(p)) {
                return Some(d);
            }
        }
        None
    }

    /// The first date in `text` written with day, month and year.
    fn full_date(&self, text: &str) -> Option<Ymd> {
        let texts = Texts::new(text, None);
        let rules = self.rules.rules();
        self.rules
            .winners(Table::Dates, &texts)
            .into_iter()
            .filter(|m| rules[m.rule].relative.is_none())
            .find_map(|m| {
                let rule = &rules[m.rule];
                let p = parts(&m, &self.groups[m.rule], text);
                p.year?;
                value(&p, rule, None)
                    .flatten()
                    .and_then(|v| Ymd::parse_iso(&v))
            })
    }
}

/// The parts of a date expression, as captured.
#[derive(Default, Debug)]
struct Parts {
    iso: Option<Ymd>,
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    weekday: Option<u32>,
    half: Option<u32>,
    quarter: Option<u32>,
    season: Option<&'static str>,
    n: Option<i64>,
}

fn ordinal(word: &str) -> Option<u32> {
    let w = word.trim().to_lowercase();
    let w = w.trim_start_matches(['h', 'q']);
    Some(match w {
        "first" | "1st" | "1" => 1,
        "second" | "2nd" | "2" | "latter" => 2,
        "third" | "3rd" | "3" => 3,
        "fourth" | "4th" | "4" | "last" | "final" => 4,
        _ => return None,
    })
}

fn weekday_number(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    if w.len() < 3 {
        return None;
    }
    WEEKDAYS
        .iter()
        .position(|d| d.get(..w.len()).is_some_and(|p| p.eq_ignore_ascii_case(&w)))
        .map(|i| i as u32)
}

fn season(word: &str) -> Option<&'static str> {
    Some(match word.to_lowercase().as_str() {
        "spring" => "SP",
        "summer" => "SU",
        "autumn" | "fall" => "FA",
        "winter" => "WI",
        _ => return None,
    })
}

/// The ISO week-numbering year and week of `d`.
fn iso_week(d: Ymd) -> (i32, u32) {
    let thursday = d.add_days(3 - i64::from(d.weekday()));
    let jan1 = Ymd {
        year: thursday.year,
        month: 1,
        day: 1,
    };
    let week = (thursday.to_days() - jan1.to_days()) / 7 + 1;
    (thursday.year, week as u32)
}

/// Appends `n` as `format!("{n:0width$}")` writes it. Dates are most of what this stage
/// writes, and `format!` was a third of its own time: the usual case (`0 <= n <
/// 10^width`, a year of four digits, a month or day of two) is written by hand.
fn push_padded(out: &mut String, n: i64, width: u32) {
    if (0..10i64.pow(width)).contains(&n) {
        let mut digits = [b'0'; 4];
        let mut rest = n;
        for d in digits[..width as usize].iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        for &d in &digits[..width as usize] {
            out.push(char::from(d));
        }
    } else {
        let _ = write!(out, "{n:0w$}", w = width as usize);
    }
}

/// `YYYY-MM-DD` (`{y:04}-{m:02}-{d:02}`), `YYYY-MM` without a day, `YYYY` without a month
/// (a day without a month is not written); `year` `None` writes `XXXX`.
fn date_text(year: Option<i64>, month: Option<u32>, day: Option<u32>) -> String {
    let mut out = String::with_capacity(10);
    match year {
        Some(y) => push_padded(&mut out, y, 4),
        None => out.push_str("XXXX"),
    }
    if let Some(m) = month {
        out.push('-');
        push_padded(&mut out, i64::from(m), 2);
        if let Some(d) = day {
            out.push('-');
            push_padded(&mut out, i64::from(d), 2);
        }
    }
    out
}

/// `Ymd`'s `to_string()` (`{:04}-{:02}-{:02}`), without `format!`.
fn ymd_text(d: Ymd) -> String {
    date_text(Some(i64::from(d.year)), Some(d.month), Some(d.day))
}

/// A year (or `XXXX`) followed by `-`, `tag` and `n` (`2024-H1`, `2024-W35`), with `n`
/// zero-padded to `width` digits.
fn period_text(year: Option<i64>, tag: &str, n: u32, width: u32) -> String {
    let mut out = date_text(year, None, None);
    out.push('-');
    out.push_str(tag);
    push_padded(&mut out, i64::from(n), width);
    out
}

/// Month `month` of `year` moved by `k` months.
fn add_months(year: i32, month: u32, k: i64) -> (i32, u32) {
    let index = i64::from(year) * 12 + i64::from(month) - 1 + k;
    (
        index.div_euclid(12) as i32,
        (index.rem_euclid(12) + 1) as u32,
    )
}

/// The value of a date expression: `None` drops the match (no such date: "February
/// 30"); `Some(None)` is a date whose value cannot be known.
fn value(p: &Parts, rule: &Rule, published: Option<Ymd>) -> Option<Option<String>> {
    if let Some(d) = p.iso {
        return Some(Some(ymd_text(d)));
    }
    let Some(unit) = rule.relative else {
        // Absolute and partial dates.
        let year = p.year.or(published.map(|d| d.year));
        if p.year.is_none() && p.month.is_none() && p.day.is_none() && p.season.is_none() {
            return None;
        }
        let ys = year.map(i64::from);
        if let Some(h) = p.half {
            return Some(Some(period_text(ys, "H", h, 1)));
        }
        if let Some(q) = p.quarter {
            return Some(Some(period_text(ys, "Q", q, 1)));
        }
        if let Some(s) = p.season {
            let mut out = date_text(ys, None, None);
            out.push('-');
            out.push_str(s);
            return Some(Some(out));
        }
        return match (p.month, p.day) {
            (Some(m), Some(d)) => {
                // With an unknown year, allow 29 February.
                let limit = days_in_month(year.unwrap_or(2000), m);
                (d >= 1 && d <= limit).then(|| Some(date_text(ys, Some(m), Some(d))))
            }
            (Some(m), None) => Some(Some(date_text(ys, Some(m), None))),
            (None, Some(_)) => None,
            (None, None) => Some(Some(date_text(ys, None, None))),
        };
    };
    let k = rule.shift * p.n.unwrap_or(1);
    let Some(pubd) = published else {
        // Only the parts that are written can be known.
        return Some(match (unit, p.month, p.day) {
            (Relative::Year | Relative::Past, Some(m), Some(d)) => {
                Some(date_text(None, Some(m), Some(d)))
            }
            (Relative::Year | Relative::Past, Some(m), None) => {
                Some(date_text(None, Some(m), None))
            }
            _ => None,
        });
    };
    Some(Some(match unit {
        Relative::Day => ymd_text(pubd.add_days(k)),
        Relative::Week => {
            let (y, w) = iso_week(pubd.add_days(7 * k));
            period_text(Some(i64::from(y)), "W", w, 2)
        }
        Relative::Month => {
            let (y, m) = add_months(pubd.year, pubd.month, k);
            date_text(Some(i64::from(y)), Some(m), None)
        }
        Relative::Year => date_text(Some(i64::from(pubd.year) + k), p.month, p.day),
        Relative::Past => {
            let m = p.month?;
            let d = p.day.unwrap_or(1);
            let y = if (m, d) <= (pubd.month, pubd.day) {
                pubd.year
            } else {
                pubd.year - 1
            };
            date_text(Some(i64::from(y)), Some(m), p.day)
        }
        Relative::Weekday => {
            let target = p.weekday?;
            let today = pubd.weekday();
            let back = i64::from((today + 7 - target) % 7);
            let days = match rule.shift {
                0 => -back,
                s if s < 0 => -(if back == 0 { 7 } else { back }),
                _ => {
                    let ahead = i64::from((target + 7 - today) % 7);
                    if ahead == 0 {
                        7
                    } else {
                        ahead
                    }
                }
            };
            ymd_text(pubd.add_days(days))
        }
    }))
}

fn parts(m: &Match, groups: &Groups, text: &str) -> Parts {
    let s = |group: Option<usize>| m.group(group?).map(|sp: Span| &text[sp.start..sp.end]);
    Parts {
        iso: s(groups.iso).and_then(Ymd::parse_iso),
        year: s(groups.year)
            .and_then(|y| y.parse::<i32>().ok())
            .filter(|y| (1000..=2999).contains(y)),
        month: s(groups.month).and_then(month_number),
        day: s(groups.day).and_then(|d| {
            d.trim_end_matches(|c: char| c.is_ascii_alphabetic())
                .parse()
                .ok()
        }),
        weekday: s(groups.weekday).and_then(weekday_number),
        half: s(groups.half).and_then(ordinal).filter(|h| *h <= 2),
        quarter: s(groups.quarter).and_then(ordinal),
        season: s(groups.season).and_then(season),
        n: s(groups.n).and_then(parse_number).map(|v| v as i64),
    }
}

impl Stage for DateStage {
    fn name(&self) -> &str {
        "dates"
    }

    fn run(&self, doc: &Document, facts: &mut Facts) {
        let text = &doc.text;
        if doc.published.is_none() {
            facts.published = self.header_date(text);
        }
        let published = doc.published.or(facts.published);
        let spans: Vec<(Span, Placeholder)> = facts
            .entities
            .iter()
            .map(|e| (e.span, Placeholder::for_entity(e.etype)))
            .collect();
        let masked = (!spans.is_empty() && self.rules.needs_mask(Table::Dates, false))
            .then(|| mask(text, &spans));
        let texts = Texts::new(text, masked.as_deref());
        let rules = self.rules.rules();
        let winners = self.rules.winners(Table::Dates, &texts);
        facts.dates.reserve(winners.len());
        for m in winners {
            let rule = &rules[m.rule];
            let groups = &self.groups[m.rule];
            let p = parts(&m, groups, text);
            let Some(value) = value(&p, rule, published) else {
                continue;
            };
            let modifier = groups
                .modifiers
                .iter()
                .find(|&&(i, _)| m.group(i).is_some())
                .map(|&(_, d)| d)
                .or(rule.modifier);
            let span = groups.m.and_then(|i| m.group(i)).unwrap_or(m.span);
            facts.dates.push(DateFact {
                span,
                text: text[span.start..span.end].to_string(),
                value,
                modifier,
                rule: rule.id.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSetBuilder;

    /// One stage for all tests: compiling the rules is the slow part.
    fn stage() -> &'static DateStage {
        static STAGE: std::sync::OnceLock<DateStage> = std::sync::OnceLock::new();
        STAGE.get_or_init(|| DateStage::new(RuleSetBuilder::new().build().unwrap()))
    }

    fn values(text: &str, published: Option<Ymd>) -> Vec<(String, String, Option<DateMod>)> {
        let doc = Document {
            text: text.into(),
            published,
            ..Default::default()
        };
        let mut facts = Facts::default();
        stage().run(&doc, &mut facts);
        facts
            .dates
            .into_iter()
            .map(|d| (d.text, d.value.unwrap_or_default(), d.modifier))
            .collect()
    }

    #[test]
    fn table_of_expressions() {
        let pubd = Ymd::new(2024, 9, 14); // a Saturday
        let cases: &[(&str, Option<Ymd>, &str, Option<DateMod>)] = &[
            ("on 29 August 2024.", None, "2024-08-29", None),
            ("on August 29, 2024.", None, "2024-08-29", None),
            ("on Aug. 29 the", pubd, "2024-08-29", None),
            ("on August 29 the", None, "XXXX-08-29", None),
            ("dated 2024-08-29 in", None, "2024-08-29", None),
            ("in late August the", None, "XXXX-08", Some(DateMod::End)),
            ("in late August the", pubd, "2024-08", Some(DateMod::End)),
            ("by the end of 2017 the", None, "2017", Some(DateMod::End)),
            ("as of mid-2024 the", None, "2024", Some(DateMod::Mid)),
            ("in the first half of 2024", None, "2024-H1", None),
            ("on Friday the", pubd, "2024-09-13", None),
            ("on Friday the", None, "", None),
            ("last month the", pubd, "2024-08", None),
            ("two weeks ago the", pubd, "2024-08-31", None),
            ("yesterday the", pubd, "2024-09-13", None),
            ("this year the", pubd, "2024", None),
            ("in August of last year", None, "XXXX-08", None),
            ("in August of last year", pubd, "2023-08", None),
        ];
        for (text, p, want, m) in cases {
            let got = values(text, *p);
            assert_eq!(got.len(), 1, "{text}: {got:?}");
            assert_eq!(
                (got[0].1.as_str(), got[0].2),
                (*want, *m),
                "{text}: {got:?}"
            );
        }
    }

    #[test]
    fn impossible_dates_are_dropped() {
        assert!(values("on February 30 the", None)
            .iter()
            .all(|v| v.1 != "XXXX-02-30"));
    }

    /// Dates written by hand are what `format!` writes.
    #[test]
    fn date_texts_are_formatted_values() {
        let years = [
            0i64, 7, 99, 999, 1000, 2024, 9999, 10000, 123456, -1, -5, -2024, -12345,
        ];
        let parts = [0u32, 1, 9, 10, 12, 31, 99, 100, 1234];
        for y in years {
            assert_eq!(date_text(Some(y), None, None), format!("{y:04}"));
            for m in parts {
                assert_eq!(date_text(Some(y), Some(m), None), format!("{y:04}-{m:02}"));
                assert_eq!(date_text(None, Some(m), None), format!("XXXX-{m:02}"));
                assert_eq!(period_text(Some(y), "W", m, 2), format!("{y:04}-W{m:02}"));
                assert_eq!(period_text(None, "H", m, 1), format!("XXXX-H{m}"));
                for d in parts {
                    assert_eq!(
                        date_text(Some(y), Some(m), Some(d)),
                        format!("{y:04}-{m:02}-{d:02}")
                    );
                }
            }
        }
        for (y, m, d) in [(2024, 2, 29), (1, 1, 1), (-44, 3, 15), (12345, 12, 31)] {
            let date = Ymd {
                year: y,
                month: m,
                day: d,
            };
            assert_eq!(ymd_text(date), date.to_string());
        }
    }

    #[test]
    fn iso_weeks() {
        assert_eq!(iso_week(Ymd::new(2024, 8, 31).unwrap()), (2024, 35));
        assert_eq!(iso_week(Ymd::new(2021, 1, 1).unwrap()), (2020, 53));
        assert_eq!(add_months(2024, 1, -1), (2023, 12));
    }

    #[test]
    fn header_publication_date() {
        let s = stage();
        assert_eq!(
            s.header_date("Title\nPublished: 14 March 2024\nBody"),
            Ymd::new(2024, 3, 14)
        );
        assert_eq!(s.header_date("Title\nPublished:\n\nBody text here"), None);
        let cases: &[(&str, Option<Ymd>)] = &[
            ("Title\n\nADEN, Yemen, Oct. 9, 2024 (Agency) \u{2014} Militants said", Ymd::new(2024, 10, 9)),
            ("Title\nBAMAKO, Mali (Wire) \u{2014} June 5, 2024\n\nText", Ymd::new(2024, 6, 5)),
            ("Title\nDAKAR \u{2014} Published 6 June 2024\n", Ymd::new(2024, 6, 6)),
            ("Title\nCITY (Wire)\nSaturday, 11 May 2024\n", Ymd::new(2024, 5, 11)),
            ("Title\nABUJA, March 16 (Desk) \u{2014} The toll rose.", None),
            ("Title\nCITY \u{2014} Troops left the town on 3 March 2024 after a long siege there.", None),
            ("Attack on 3 March 2024\nText without a date.", None),
        ];
        for (text, want) in cases {
            assert_eq!(s.header_date(text), *want, "{text}");
        }
    }
}
