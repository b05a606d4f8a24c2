//! The CSV tables: documents, entities, quantities, dates, roles, events and incidents.
//!
//! Each table is written to a hidden temporary file in the output folder and renamed into
//! place only when the whole run has succeeded, so an interrupted run never leaves tables
//! that look finished. Cells are spreadsheet-safe: see [`neutralise`]. The columns are
//! documented in docs/tables.md.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{Encoded, Encoder, Sink};
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
    NumberCell::default().format(x).to_string()
}

/// Buffers that a row's number cell borrows, as written by [`number`].
///
/// Why: most quantities are whole numbers, which `itoa` writes on the stack for a tenth of
/// what `format!` costs with its allocation; fractions still go through `{}` (shortest
/// round-trip digits), into a string whose capacity is kept.
#[derive(Default)]
struct NumberCell {
    int: itoa::Buffer,
    float: String,
}

impl NumberCell {
    fn format(&mut self, x: f64) -> &str {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            self.int.format(x as i64)
        } else {
            use std::fmt::Write as _;
            self.float.clear();
            write!(self.float, "{x}").expect("formatting into a String");
            &self.float
        }
    }
}

/// The index of each table in [`TABLES`].
const DOCUMENTS: usize = 0;
const ENTITIES: usize = 1;
const QUANTITIES: usize = 2;
const DATES: usize = 3;
const ROLES: usize = 4;
const EVENTS: usize = 5;
const INCIDENTS: usize = 6;

struct Table {
    tmp: PathBuf,
    dest: PathBuf,
    out: BufWriter<File>,
    rows: u64,
}

impl Table {
    fn create(dir: &Path, name: &str, columns: &[&str]) -> Result<Table> {
        let dest = dir.join(format!("{name}.csv"));
        let tmp = dir.join(format!(".{name}.csv.partial"));
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut table = Table {
            tmp,
            dest,
            out: BufWriter::with_capacity(1 << 16, file),
            rows: 0,
        };
        let mut rows = Rows::default();
        rows.row(0, columns);
        table.write(&rows.take(0).0, 0)?;
        Ok(table)
    }

    /// Appends rows encoded by [`Rows`].
    fn write(&mut self, bytes: &[u8], rows: u64) -> Result<()> {
        self.rows += rows;
        self.out
            .write_all(bytes)
            .map_err(|e| Error::io(&self.tmp, e))
    }
}

/// Rows being encoded: the bytes and the number of rows of each table.
///
/// The rows are written by [`record`], not by a `csv::Writer`: the cells are known to be
/// text, and writing them straight into the buffer costs about half as much as going through
/// the writer's own buffer and a shared handle. The bytes are those the `csv` crate writes
/// with its defaults (a test compares the two).
struct Rows {
    tables: Vec<(Vec<u8>, u64)>,
}

impl Default for Rows {
    fn default() -> Rows {
        Rows {
            tables: vec![(Vec::new(), 0); TABLES.len()],
        }
    }
}

impl Rows {
    /// Adds a row to `table`. Text cells are passed through [`neutralise`] by the callers;
    /// number cells are already plain.
    fn row(&mut self, table: usize, cells: &[&str]) {
        let (bytes, count) = &mut self.tables[table];
        *count += 1;
        record(bytes, cells);
    }

    /// The bytes and the number of rows of `table` since the last call.
    fn take(&mut self, table: usize) -> (Vec<u8>, u64) {
        std::mem::take(&mut self.tables[table])
    }
}

/// Appends one CSV record as the `csv` crate writes it by default: cells separated by
/// commas, a cell quoted (its quotes doubled) when it holds a comma, a quote, `\r` or `\n`,
/// a lone empty cell written `""`, and `\n` after the record.
///
/// The row's length is reserved once, and each cell is checked for those four bytes eight
/// at a time ([`needs_quotes`]): the byte-by-byte check was most of a row's cost.
fn record(out: &mut Vec<u8>, cells: &[&str]) {
    out.reserve(cells.iter().map(|c| c.len() + 1).sum::<usize>() + 2);
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let bytes = cell.as_bytes();
        if needs_quotes(bytes) {
            out.push(b'"');
            for part in cell.split_inclusive('"') {
                out.extend_from_slice(part.as_bytes());
                if part.ends_with('"') {
                    out.push(b'"');
                }
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(bytes);
        }
    }
    if let [""] = cells {
        out.extend_from_slice(b"\"\"");
    }
    out.push(b'\n');
}

/// Whether a cell holds a comma, a quote, `\r` or `\n`. Tests eight bytes per step with
/// the "has a zero byte" bit trick on the word XORed with each of the four bytes (exact:
/// the trick's stray bits only appear above a byte that really is zero).
fn needs_quotes(bytes: &[u8]) -> bool {
    const LO: u64 = u64::from_ne_bytes([0x01; 8]);
    const HI: u64 = u64::from_ne_bytes([0x80; 8]);
    fn has(word: u64, byte: u8) -> bool {
        let v = word ^ (LO * byte as u64);
        v.wrapping_sub(LO) & !v & HI != 0
    }
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes(chunk.try_into().expect("eight bytes"));
        if has(word, b',') | has(word, b'"') | has(word, b'\r') | has(word, b'\n') {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
}

thread_local! {
    /// Each worker thread keeps its formatted coordinate cells (see [`Coords`]) from one
    /// document to the next.
    static COORDS: std::cell::RefCell<Coords> = std::cell::RefCell::new(Default::default());
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
}

/// The four place cells (country, region, latitude, longitude) of a row, borrowed from the
/// fact: nothing is allocated per row. The coordinates come from [`Coords`].
fn geo_cells<'a>(geo: Option<&'a Geo>, coords: &'a mut Coords) -> [&'a str; 4] {
    match geo {
        Some(g) => {
            let (lat, lon) = coords.cells(g.lat, g.lon);
            [&g.country, &g.admin1, lat, lon]
        }
        None => [""; 4],
    }
}

/// The coordinate cells already written by this worker thread, by the bits of the value.
///
/// Why: most entity rows are places, and formatting a float with `{}` (shortest
/// round-trip digits) costs more than the rest of the row; a gazetteer has a few thousand
/// coordinates that recur all through a dump. The cells are exactly [`number`]'s.
#[derive(Default)]
struct Coords {
    cells: rustc_hash::FxHashMap<u64, Box<str>>,
}

impl Coords {
    /// More distinct values than any gazetteer has: the memo is emptied rather than grown.
    const LIMIT: usize = 1 << 16;

    fn cells(&mut self, lat: Option<f64>, lon: Option<f64>) -> (&str, &str) {
        if self.cells.len() >= Self::LIMIT {
            self.cells.clear();
        }
        for x in [lat, lon].into_iter().flatten() {
            self.cells
                .entry(x.to_bits())
                .or_insert_with(|| number(x).into());
        }
        let cell = |x: Option<f64>| x.map_or("", |x| &*self.cells[&x.to_bits()]);
        (cell(lat), cell(lon))
    }
}

/// The character offsets of spans, written into buffers that the row borrows.
struct Offsets<'a> {
    map: &'a CharMap<'a>,
    start: itoa::Buffer,
    end: itoa::Buffer,
}

impl Offsets<'_> {
    fn of(&mut self, span: Span) -> (&str, &str) {
        (
            self.start.format(self.map.char_offset(span.start)),
            self.end.format(self.map.char_offset(span.end)),
        )
    }
}

/// Encodes the rows of the document tables (all but incidents), and each event as a
/// record of the incident [`Spill`] (in [`Encoded::kept`]), so that the driver thread only
/// copies bytes.
struct CsvEncoder;

impl Encoder for CsvEncoder {
    fn encode(&self, doc: &Document, facts: Facts, into: &mut Encoded) {
        let mut rows = Rows {
            tables: std::mem::take(&mut into.tables),
        };
        if rows.tables.is_empty() {
            rows = Rows::default();
        }
        COORDS.with(|coords| encode(&mut rows, &mut coords.borrow_mut(), doc, &facts));
        into.tables = rows.tables;
        let published = doc.published.or(facts.published);
        for ev in &facts.events {
            Spill::encode(&mut into.kept, &doc.doc_id, published, ev);
        }
    }
}

/// Integer cells are written with `itoa` into buffers on the stack and text cells are
/// borrowed, so that a row costs no allocation unless a cell needs [`neutralise`]'s quote.
fn encode(rows: &mut Rows, coords: &mut Coords, doc: &Document, facts: &Facts) {
    let map = CharMap::new(&doc.text);
    let mut offsets = Offsets {
        map: &map,
        start: itoa::Buffer::new(),
        end: itoa::Buffer::new(),
    };
    let id = neutralise(&doc.doc_id).into_owned();
    let (published, from) = match (doc.published, facts.published) {
        (Some(d), _) => (d.to_string(), "input"),
        (None, Some(d)) => (d.to_string(), "text"),
        (None, None) => (String::new(), ""),
    };
    let mut chars = itoa::Buffer::new();
    let chars = chars.format(map.char_offset(doc.text.len()));
    rows.row(
        DOCUMENTS,
        &[
            &id,
            &neutralise(&doc.source),
            &neutralise(&doc.title),
            &published,
            from,
            &neutralise(doc.url.as_deref().unwrap_or("")),
            chars,
        ],
    );

    for e in &facts.entities {
        let (s, en) = offsets.of(e.span);
        let [country, region, lat, lon] = geo_cells(e.geo.as_deref(), coords);
        rows.row(
            ENTITIES,
            &[
                &id,
                s,
                en,
                &neutralise(&e.text),
                e.etype.as_str(),
                &neutralise(&e.canonical),
                &neutralise(&e.entity_id),
                &e.kind,
                country,
                &neutralise(region),
                lat,
                lon,
                &e.rule,
            ],
        );
    }

    let (mut value, mut value_max) = (NumberCell::default(), NumberCell::default());
    for q in &facts.quantities {
        let (s, en) = offsets.of(q.span);
        rows.row(
            QUANTITIES,
            &[
                &id,
                s,
                en,
                &neutralise(&q.text),
                value.format(q.value),
                q.value_max.map_or("", |x| value_max.format(x)),
                q.qualifier.as_str(),
                &q.unit,
                q.category.as_str(),
                &neutralise(&q.subject),
                &q.rule,
            ],
        );
    }

    for d in &facts.dates {
        let (s, en) = offsets.of(d.span);
        rows.row(
            DATES,
            &[
                &id,
                s,
                en,
                &neutralise(&d.text),
                d.value.as_deref().unwrap_or(""),
                d.modifier.map(|m| m.as_str()).unwrap_or(""),
                &d.rule,
            ],
        );
    }

    for r in &facts.roles {
        let (s, en) = offsets.of(r.span);
        rows.row(
            ROLES,
            &[
                &id,
                &neutralise(&r.person),
                &neutralise(&r.role),
                &neutralise(&r.organization),
                &neutralise(&r.place),
                s,
                en,
                &neutralise(&doc.text[r.span.start..r.span.end]),
                &neutralise(&r.person_id),
                &r.rule,
            ],
        );
    }

    for ev in &facts.events {
        let (s, en) = offsets.of(ev.span);
        let [country, admin1, lat, lon] = geo_cells(Some(&ev.geo), coords);
        let mut counts = [
            itoa::Buffer::new(),
            itoa::Buffer::new(),
            itoa::Buffer::new(),
        ];
        let [killed, injured, captured] = &mut counts;
        fn count(buf: &mut itoa::Buffer, n: Option<u64>) -> &str {
            n.map_or("", |n| buf.format(n))
        }
        rows.row(
            EVENTS,
            &[
                &id,
                &neutralise(&ev.event_id),
                &ev.etype,
                ev.date.as_deref().unwrap_or(""),
                &neutralise(&ev.place),
                country,
                &neutralise(admin1),
                lat,
                lon,
                &neutralise(&ev.actors.join(";")),
                &neutralise(&ev.targets.join(";")),
                count(killed, ev.killed),
                count(injured, ev.injured),
                count(captured, ev.captured),
                s,
                en,
                &neutralise(&doc.text[ev.span.start..ev.span.end]),
                &ev.rule,
            ],
        );
    }
}

impl Sink for CsvSink {
    fn encoder(&self) -> Box<dyn Encoder> {
        Box::new(CsvEncoder)
    }

    fn documents(&mut self, docs: &[Document], encoded: Encoded) -> Result<()> {
        // A caller that did not use the encoder gets the same rows, encoded here.
        let encoded = if encoded.tables.is_empty() && !encoded.facts.is_empty() {
            let mut here = Encoded::default();
            for (doc, facts) in docs.iter().zip(encoded.facts) {
                CsvEncoder.encode(doc, facts, &mut here);
            }
            here
        } else {
            encoded
        };
        for (table, (bytes, rows)) in self.tables.iter_mut().zip(&encoded.tables) {
            table.write(bytes, *rows)?;
        }
        let spill = self.incidents.as_mut().expect("open until finish");
        spill.add_encoded(&encoded.kept)
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<(String, u64)>> {
        let spill = self.incidents.take().expect("finished once");
        let table = &mut self.tables[INCIDENTS];
        spill.finish(
            |cells, out| {
                let cells: Vec<std::borrow::Cow<'_, str>> =
                    cells.iter().map(|c| neutralise(c)).collect();
                let refs: Vec<&str> = cells.iter().map(|c| c.as_ref()).collect();
                record(out, &refs);
            },
            |row| table.write(row, 1),
        )?;
        for t in &mut self.tables {
            t.out.flush().map_err(|e| Error::io(&t.tmp, e))?;
        }
        for t in &self.tables {
            std::fs::rename(&t.tmp, &t.dest).map_err(|e| Error::io(&t.dest, e))?;
        }
        self.finished = true;
        Ok(TABLES
            .iter()
            .zip(&self.tables)
            .map(|((name, _), t)| (name.to_string(), t.rows))
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

    /// The tables written by a sink that is handed all documents at once with their rows
    /// `encode`d, or one at a time with their facts only.
    fn tables(docs: &[(Document, Facts)], on_workers: bool) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = Box::new(CsvSink::create(dir.path()).unwrap());
        if on_workers {
            let encoder = sink.encoder();
            let mut encoded = Encoded::default();
            for (doc, facts) in docs {
                encoder.encode(doc, facts.clone(), &mut encoded);
            }
            let all: Vec<Document> = docs.iter().map(|(d, _)| d.clone()).collect();
            sink.documents(&all, encoded).unwrap();
        } else {
            for (doc, facts) in docs {
                let encoded = Encoded {
                    facts: vec![facts.clone()],
                    ..Encoded::default()
                };
                sink.documents(std::slice::from_ref(doc), encoded).unwrap();
            }
        }
        let rows = sink.finish().unwrap();
        assert_eq!(rows[0], ("documents".to_string(), docs.len() as u64));
        TABLES
            .iter()
            .map(|(name, _)| {
                std::fs::read_to_string(dir.path().join(format!("{name}.csv"))).unwrap()
            })
            .collect()
    }

    #[test]
    fn rows_encoded_on_the_workers_are_the_rows_written() {
        let pipeline = crate::PipelineBuilder::new().build().unwrap();
        let docs: Vec<(Document, Facts)> = [
            "Gunmen killed 12 villagers, \"=many\" say, near Goma on Monday.",
            "Ünïcode: at least 3 soldiers were wounded in Mosul, Iraq.",
        ]
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let doc = Document {
                doc_id: format!("d{i}"),
                text: text.to_string(),
                ..Default::default()
            };
            let facts = pipeline.process(&doc);
            (doc, facts)
        })
        .collect();
        let encoded = tables(&docs, true);
        assert_eq!(encoded, tables(&docs, false));
        assert!(encoded[1].lines().count() > 3, "{}", encoded[1]);
        assert!(encoded[1].contains("Mosul"), "{}", encoded[1]);
        assert!(encoded[2].contains(",12,"), "{}", encoded[2]);
    }

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
    fn records_are_written_as_the_csv_crate_writes_them() {
        let rows: &[&[&str]] = &[
            &["a", "b", ""],
            &[""],
            &["", ""],
            &[
                "x,y",
                "say \"hi\"",
                "\"",
                "line\nbreak",
                "cr\rx",
                "'=1",
                "Ünï",
            ],
            &["#comment", " spaced ", "tab\there"],
        ];
        let mut want = ::csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(Vec::new());
        let mut got = Vec::new();
        for row in rows {
            want.write_record(*row).unwrap();
            record(&mut got, row);
        }
        let want = want.into_inner().unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }

    fn opt_number(x: Option<f64>) -> String {
        x.map(number).unwrap_or_default()
    }

    #[test]
    fn remembered_coordinates_are_the_numbers() {
        let mut coords = Coords::default();
        for (lat, lon) in [
            (Some(33.3128), Some(44.3615)),
            (Some(-7.5), Some(0.0)),
            (Some(33.3128), None),
            (None, Some(1e-7)),
            (None, None),
            (Some(-7.5), Some(33.3128)),
        ] {
            let want = (opt_number(lat), opt_number(lon));
            let (a, b) = coords.cells(lat, lon);
            assert_eq!(
                (a, b),
                (want.0.as_str(), want.1.as_str()),
                "{lat:?} {lon:?}"
            );
        }
    }

    #[test]
    fn quote_checks_find_each_byte_anywhere() {
        for special in [
            b',', b'"', b'\r', b'\n', b'a', 0x8c, b'+', b'-', b'\\', b'.',
        ] {
            for len in 0..20 {
                for at in 0..len {
                    let mut cell = vec![b'x'; len];
                    cell[at] = special;
                    let want = matches!(special, b',' | b'"' | b'\r' | b'\n');
                    assert_eq!(needs_quotes(&cell), want, "{special} at {at} of {len}");
                }
            }
        }
        assert!(!needs_quotes("Ünïcode — “al-Anbar” ".as_bytes()));
    }

    #[test]
    fn number_cells_are_the_numbers() {
        let mut cell = NumberCell::default();
        for x in [
            0.0,
            -0.0,
            1.0,
            -3.0,
            0.5,
            12.25,
            1e15,
            1e16,
            -1e15,
            999999999999999.0,
            1.5e6,
            1e-7,
            1e21,
            f64::NAN,
            f64::INFINITY,
            -0.1,
        ] {
            let want = if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{}", x as i64)
            } else {
                format!("{x}")
            };
            assert_eq!(cell.format(x), want, "{x}");
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
