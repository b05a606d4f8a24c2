//! The CSV tables: documents, entities, quantities, dates, roles, events and incidents.
//!
//! Each table is written to a hidden temporary file in the output folder and renamed into
//! place only when the whole run has succeeded, so an interrupted run never leaves tables
//! that look finished. Cells are spreadsheet-safe: see [`neutralise`]. The columns are
//! documented in docs/tables.md.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::Sink;
use crate::document::{CharMap, Document};
use crate::error::{Error, Result};
use crate::facts::{Facts, Geo, Span};
use crate::incidents::{self, Spill};

/// The tables and their columns, in the order they are written.
pub const TABLES: &[(&str, &[&str])] = &[
    (
        "documents",
        &[
            "doc_id",
            "source",
            "title",
            "published",
            "published_from",
            "url",
            "chars",
        ],
    ),
    (
        "entities",
        &[
            "doc_id",
            "start",
            "end",
            "text",
            "type",
            "canonical",
            "entity_id",
            "kind",
            "country",
            "region",
            "latitude",
            "longitude",
            "rule",
        ],
    ),
    (
        "quantities",
        &[
            "doc_id",
            "start",
            "end",
            "text",
            "value",
            "value_max",
            "qualifier",
            "unit",
            "category",
            "subject",
            "rule",
        ],
    ),
    (
        "dates",
        &["doc_id", "start", "end", "text", "value", "mod", "rule"],
    ),
    (
        "roles",
        &[
            "doc_id",
            "person",
            "role",
            "organization",
            "place",
            "start",
            "end",
            "text",
            "person_id",
            "rule",
        ],
    ),
    (
        "events",
        &[
            "doc_id",
            "event_id",
            "type",
            "date",
            "place",
            "country",
            "admin1",
            "latitude",
            "longitude",
            "actors",
            "targets",
            "killed",
            "injured",
            "captured",
            "start",
            "end",
            "text",
            "rule",
        ],
    ),
    ("incidents", incidents::COLUMNS),
];

/// Makes a text cell safe to open in a spreadsheet: a cell that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return would be run as a formula by Excel or LibreOffice, so it
/// gets a leading apostrophe, which both programs show as text and hide.
///
/// ```
/// assert_eq!(gleaner::sink::neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
/// assert_eq!(gleaner::sink::neutralise("Mosul"), "Mosul");
/// ```
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// A number as a plain spreadsheet number: no exponent, no separators, no trailing `.0`.
pub(crate) fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn opt_number(x: Option<f64>) -> String {
    x.map(number).unwrap_or_default()
}

struct Table {
    name: &'static str,
    tmp: PathBuf,
    dest: PathBuf,
    writer: ::csv::Writer<BufWriter<File>>,
    rows: u64,
}

impl Table {
    fn create(dir: &Path, name: &'static str, columns: &[&str]) -> Result<Table> {
        let dest = dir.join(format!("{name}.csv"));
        let tmp = dir.join(format!(".{name}.csv.partial"));
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut writer = ::csv::WriterBuilder::new()
            .flexible(false)
            .from_writer(BufWriter::with_capacity(1 << 16, file));
        writer
            .write_record(columns)
            .map_err(|e| csv_error(&tmp, e))?;
        Ok(Table {
            name,
            tmp,
            dest,
            writer,
            rows: 0,
        })
    }

    /// Writes one row. Text cells are passed through [`neutralise`] by the callers; number
    /// cells are already plain.
    fn row(&mut self, cells: &[&str]) -> Result<()> {
        self.rows += 1;
        self.writer
            .write_record(cells)
            .map_err(|e| csv_error(&self.tmp, e))
    }
}

fn csv_error(path: &Path, err: ::csv::Error) -> Error {
    match err.into_kind() {
        ::csv::ErrorKind::Io(e) => Error::io(path, e),
        other => Error::io(path, std::io::Error::other(format!("CSV error: {other:?}"))),
    }
}

/// Writes the tables of the output contract into a folder.
pub struct CsvSink {
    tables: Vec<Table>,
    /// The run's events, on disk until the incidents are merged at the end.
    incidents: Option<Spill>,
    finished: bool,
}

impl CsvSink {
    /// Creates the output folder if needed and opens every table under a temporary name.
    pub fn create(dir: &Path) -> Result<CsvSink> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut tables = Vec::new();
        for (name, columns) in TABLES {
            tables.push(Table::create(dir, name, columns)?);
        }
        Ok(CsvSink {
            tables,
            incidents: Some(Spill::create(dir, "incidents")?),
            finished: false,
        })
    }

    fn table(&mut self, name: &str) -> &mut Table {
        self.tables
            .iter_mut()
            .find(|t| t.name == name)
            .expect("every table is opened in create")
    }
}

fn geo_cells(geo: Option<&Geo>) -> [String; 4] {
    match geo {
        Some(g) => [
            g.country.clone(),
            g.admin1.clone(),
            opt_number(g.lat),
            opt_number(g.lon),
        ],
        None => Default::default(),
    }
}

impl Sink for CsvSink {
    fn document(&mut self, doc: &Document, facts: &Facts) -> Result<()> {
        let map = CharMap::new(&doc.text);
        let offsets = |span: Span| {
            (
                map.char_offset(span.start).to_string(),
                map.char_offset(span.end).to_string(),
            )
        };
        let id = neutralise(&doc.doc_id).into_owned();
        let (published, from) = match (doc.published, facts.published) {
            (Some(d), _) => (d.to_string(), "input"),
            (None, Some(d)) => (d.to_string(), "text"),
            (None, None) => (String::new(), ""),
        };
        let chars = map.char_offset(doc.text.len()).to_string();
        self.table("documents").row(&[
            &id,
            &neutralise(&doc.source),
            &neutralise(&doc.title),
            &published,
            from,
            &neutralise(doc.url.as_deref().unwrap_or("")),
            &chars,
        ])?;

        let t = self.table("entities");
        for e in &facts.entities {
            let (s, en) = offsets(e.span);
            let [country, region, lat, lon] = geo_cells(e.geo.as_ref());
            t.row(&[
                &id,
                &s,
                &en,
                &neutralise(&e.text),
                e.etype.as_str(),
                &neutralise(&e.canonical),
                &neutralise(&e.entity_id),
                &e.kind,
                &country,
                &neutralise(&region),
                &lat,
                &lon,
                &e.rule,
            ])?;
        }

        let t = self.table("quantities");
        for q in &facts.quantities {
            let (s, en) = offsets(q.span);
            t.row(&[
                &id,
                &s,
                &en,
                &neutralise(&q.text),
                &number(q.value),
                &opt_number(q.value_max),
                q.qualifier.as_str(),
                &q.unit,
                q.category.as_str(),
                &neutralise(&q.subject),
                &q.rule,
            ])?;
        }

        let t = self.table("dates");
        for d in &facts.dates {
            let (s, en) = offsets(d.span);
            t.row(&[
                &id,
                &s,
                &en,
                &neutralise(&d.text),
                d.value.as_deref().unwrap_or(""),
                d.modifier.map(|m| m.as_str()).unwrap_or(""),
                &d.rule,
            ])?;
        }

        let t = self.table("roles");
        for r in &facts.roles {
            let (s, en) = offsets(r.span);
            t.row(&[
                &id,
                &neutralise(&r.person),
                &neutralise(&r.role),
                &neutralise(&r.organization),
                &neutralise(&r.place),
                &s,
                &en,
                &neutralise(&doc.text[r.span.start..r.span.end]),
                &neutralise(&r.person_id),
                &r.rule,
            ])?;
        }

        let t = self.table("events");
        for ev in &facts.events {
            let (s, en) = offsets(ev.span);
            let [country, admin1, lat, lon] = geo_cells(Some(&ev.geo));
            let count = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
            t.row(&[
                &id,
                &neutralise(&ev.event_id),
                &ev.etype,
                ev.date.as_deref().unwrap_or(""),
                &neutralise(&ev.place),
                &country,
                &neutralise(&admin1),
                &lat,
                &lon,
                &neutralise(&ev.actors.join(";")),
                &neutralise(&ev.targets.join(";")),
                &count(ev.killed),
                &count(ev.injured),
                &count(ev.captured),
                &s,
                &en,
                &neutralise(&doc.text[ev.span.start..ev.span.end]),
                &ev.rule,
            ])?;
        }
        let published = doc.published.or(facts.published);
        let spill = self.incidents.as_mut().expect("open until finish");
        for ev in &facts.events {
            spill.add(&doc.doc_id, published, ev)?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<(String, u64)>> {
        let spill = self.incidents.take().expect("finished once");
        let t = self.table("incidents");
        spill.finish(|cells| {
            let cells: Vec<std::borrow::Cow<'_, str>> =
                cells.iter().map(|c| neutralise(c)).collect();
            let refs: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
            t.row(&refs)
        })?;
        for t in &mut self.tables {
            t.writer.flush().map_err(|e| Error::io(&t.tmp, e))?;
        }
        for t in &self.tables {
            std::fs::rename(&t.tmp, &t.dest).map_err(|e| Error::io(&t.dest, e))?;
        }
        self.finished = true;
        Ok(self
            .tables
            .iter()
            .map(|t| (t.name.to_string(), t.rows))
            .collect())
    }
}

impl Drop for CsvSink {
    /// A run that fails or is dropped before [`Sink::finish`] removes its temporary files
    /// rather than leaving half-written tables behind.
    fn drop(&mut self) {
        if !self.finished {
            for t in &self.tables {
                let _ = std::fs::remove_file(&t.tmp);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for (cell, want) in [
            ("=1+1", "'=1+1"),
            ("+44 20", "'+44 20"),
            ("-5", "'-5"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("Anbar", "Anbar"),
            ("", ""),
            ("al-Anbar", "al-Anbar"),
        ] {
            assert_eq!(neutralise(cell), want, "{cell:?}");
        }
    }

    #[test]
    fn numbers_are_plain() {
        assert_eq!(number(5_000_000.0), "5000000");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(1.5e6), "1500000");
        assert_eq!(number(-3.0), "-3");
    }
}
