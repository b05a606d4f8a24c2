//! The dates stage: calendar expressions with TIMEX3-style values, partial dates completed
//! from the publication date.

use regex::Regex;

use crate::calendar::{month_number, Ymd};
use crate::document::Document;
use crate::facts::{DateFact, DateMod, Facts, Span};
use crate::pipeline::Stage;

const MONTH: &str = r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?|Sept?(?:ember|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)";

/// Finds absolute and partial dates.
pub struct DateStage {
    date: Regex,
    header: Regex,
}

impl DateStage {
    pub fn new() -> DateStage {
        let date = format!(
            r"(?x)
            (?:(?P<mod>\b(?:early|mid|late|the\ end\ of|end\ of|the\ start\ of|the\ beginning\ of)[-\s]+))?
            (?:
                \b(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})\b
              | \b(?P<d1>\d{{1,2}})\s+(?P<m1>{MONTH})(?:,?\s+(?P<y1>\d{{4}}))?\b
              | \b(?P<m2>{MONTH})\s+(?P<d2>\d{{1,2}})\b(?:,?\s+(?P<y2>\d{{4}})\b)?
              | \b(?P<m3>{MONTH})(?:\s+(?:of\s+)?(?P<y3>\d{{4}}))?\b
              | (?P<y4>\b(?:19|20)\d{{2}})\b
            )"
        );
        DateStage {
            date: Regex::new(&date).expect("the built-in date pattern compiles"),
            header: Regex::new(
                r"(?im)^\s*(?:published|posted|updated|date)\s*:?\s*(?P<d>.{6,40})$",
            )
            .expect("the built-in header pattern compiles"),
        }
    }

    /// A publication date written in the first lines of the article ("Published: 14 March
    /// 2024").
    pub fn header_date(&self, text: &str) -> Option<Ymd> {
        let head: String = text.lines().take(12).collect::<Vec<_>>().join("\n");
        self.header
            .captures_iter(&head)
            .find_map(|c| Ymd::parse_loose(&c["d"]))
    }
}

impl Default for DateStage {
    fn default() -> Self {
        DateStage::new()
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
        for c in self.date.captures_iter(text) {
            let whole = c.get(0).expect("group 0");
            let g = |n: &str| c.name(n).map(|m| m.as_str());
            // "May" alone is too often the verb.
            if g("m3") == Some("May") && g("y3").is_none() {
                continue;
            }
            let month = g("m1").or(g("m2")).or(g("m3")).and_then(month_number);
            let day: Option<u32> = g("d1").or(g("d2")).and_then(|d| d.parse().ok());
            let year: Option<i32> = g("y1")
                .or(g("y2"))
                .or(g("y3"))
                .or(g("y4"))
                .and_then(|y| y.parse().ok());
            let value = if let Some(iso) = g("iso") {
                match Ymd::parse_iso(iso) {
                    Some(d) => d.to_string(),
                    None => continue,
                }
            } else {
                let y = year.or(published.map(|p| p.year));
                let ys = y
                    .map(|y| format!("{y:04}"))
                    .unwrap_or_else(|| "XXXX".into());
                match (month, day) {
                    (Some(m), Some(d)) if (1..=31).contains(&d) => format!("{ys}-{m:02}-{d:02}"),
                    (Some(m), None) => format!("{ys}-{m:02}"),
                    (None, None) => ys,
                    _ => continue,
                }
            };
            let modifier = g("mod").map(|m| {
                let m = m.to_ascii_lowercase();
                if m.starts_with("early") || m.contains("start") || m.contains("beginning") {
                    DateMod::Start
                } else if m.starts_with("mid") {
                    DateMod::Mid
                } else {
                    DateMod::End
                }
            });
            facts.dates.push(DateFact {
                span: Span::new(whole.start(), whole.end()),
                text: whole.as_str().to_string(),
                value: Some(value),
                modifier,
                rule: "dates:basic".into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, published: Option<Ymd>) -> Vec<(String, Option<DateMod>)> {
        let doc = Document {
            text: text.into(),
            published,
            ..Default::default()
        };
        let mut facts = Facts::default();
        DateStage::new().run(&doc, &mut facts);
        facts
            .dates
            .into_iter()
            .map(|d| (d.value.unwrap_or_default(), d.modifier))
            .collect()
    }

    #[test]
    fn absolute_partial_and_modified() {
        let v = values(
            "On 29 August 2024, late August, in 2017 and on Aug. 29.",
            Ymd::new(2024, 9, 14),
        );
        assert_eq!(
            v,
            vec![
                ("2024-08-29".into(), None),
                ("2024-08".into(), Some(DateMod::End)),
                ("2017".into(), None),
                ("2024-08-29".into(), None),
            ]
        );
    }

    #[test]
    fn unknown_year_is_x() {
        assert_eq!(
            values("on August 29", None),
            vec![("XXXX-08-29".into(), None)]
        );
    }

    #[test]
    fn header_publication_date() {
        let s = DateStage::new();
        assert_eq!(
            s.header_date("Title\nPublished: 14 March 2024\nBody"),
            Ymd::new(2024, 3, 14)
        );
        assert_eq!(s.header_date("Title\nPublished\nBody"), None);
    }
}
