//! The CSV tables: documents, entities, quantities, dates, roles, events and incidents.
//!
//! Each table is written to a hidden temporary file in the output folder and renamed into
//! place only when the whole run has succeeded, so an interrupted run never leaves tables
//! that look finished. Cells are spreadsheet-safe: see [`neutralise`]. The columns are
//! documented in docs/tables.md.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Encoded, Encoder, Sink};
use crate::document::{CharMap, Document};
use crate::error::{Error, Result};
use crate::facts::{Entity, EntityType, Facts, Geo, SharedStr};
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
        let mut header = Vec::new();
        record(&mut header, columns);
        table.write(&header, 0)?;
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
/// The rows are written by [`Cells`], not by a `csv::Writer`: the cells are known to be
/// text, and writing them straight into the buffer costs about half as much as going through
/// the writer's own buffer and a shared handle. The bytes are those the `csv` crate writes
/// with its defaults (tests compare the two).
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
    /// Starts a row of `table`: its cells are written into the table's bytes one by one,
    /// and [`Cells::end`] ends it.
    fn row(&mut self, table: usize) -> Cells<'_> {
        let (bytes, count) = &mut self.tables[table];
        *count += 1;
        Cells::new(bytes)
    }
}

/// Appends one CSV record as the `csv` crate writes it by default: cells separated by
/// commas, a cell quoted (its quotes doubled) when it holds a comma, a quote, `\r` or `\n`,
/// a lone empty cell written `""`, and `\n` after the record. Used for the headers and the
/// incidents; the document tables' rows are written cell by cell with [`Cells`].
fn record(out: &mut Vec<u8>, cells: &[&str]) {
    let mut row = Cells::new(out);
    for cell in cells {
        row.plain(cell);
    }
    if let [""] = cells {
        row.out.extend_from_slice(b"\"\"");
    }
    row.end();
}

/// One row being written straight into a table's bytes, cell by cell, exactly as
/// [`record`] writes the same cells (text cells after [`neutralise`]).
///
/// Why: a row built as a slice of `&str` was sized in one pass, then each cell checked and
/// copied, and a cell that needed [`neutralise`]'s apostrophe was copied into a new
/// `String` first. Here each cell is checked and copied once, the apostrophe is written in
/// front of it, integers are formatted in place, and cells that recur (the document id, a
/// place's four cells) are copied as already encoded bytes.
///
/// A row written with `Cells` never needs `record`'s special case of a lone empty cell
/// (written `""`): every document table has several columns.
struct Cells<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Cells<'a> {
    fn new(out: &'a mut Vec<u8>) -> Cells<'a> {
        Cells { out, first: true }
    }

    #[inline]
    fn comma(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    /// A cell written as it is (quoted if need be): ids, codes, numbers formatted elsewhere.
    #[inline]
    fn plain(&mut self, cell: &str) -> &mut Self {
        self.comma();
        quoted(self.out, false, cell.as_bytes());
        self
    }

    /// A text cell, as [`neutralise`] makes it.
    #[inline]
    fn text(&mut self, cell: &str) -> &mut Self {
        self.comma();
        quoted(self.out, is_formula(cell), cell.as_bytes());
        self
    }

    /// A whole number, formatted in place.
    #[inline]
    fn int(&mut self, n: impl itoa::Integer) -> &mut Self {
        self.comma();
        self.out
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self
    }

    /// One or more cells already encoded by a `Cells` (with the commas between them).
    #[inline]
    fn encoded(&mut self, cells: &[u8]) -> &mut Self {
        self.comma();
        self.out.extend_from_slice(cells);
        self
    }

    /// Ends the row.
    fn end(&mut self) {
        self.out.push(b'\n');
    }
}

/// Whether [`neutralise`] puts an apostrophe in front of `cell`.
#[inline]
fn is_formula(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// Appends one cell, with an apostrophe in front if `guard`, quoted (its quotes doubled)
/// when it holds a comma, a quote, `\r` or `\n`, which are checked eight bytes at a time
/// ([`needs_quotes`]): the byte-by-byte check was most of a row's cost. The apostrophe
/// itself never needs quotes, so the check on the cell alone is the check on both.
#[inline]
fn quoted(out: &mut Vec<u8>, guard: bool, cell: &[u8]) {
    if needs_quotes(cell) {
        out.push(b'"');
        if guard {
            out.push(b'\'');
        }
        for part in cell.split_inclusive(|&b| b == b'"') {
            out.extend_from_slice(part);
            if part.ends_with(b"\"") {
                out.push(b'"');
            }
        }
        out.push(b'"');
    } else {
        if guard {
            out.push(b'\'');
        }
        out.extend_from_slice(cell);
    }
}

/// Whether a cell holds a comma, a quote, `\r` or `\n`. Tests eight bytes per step with
/// the "has a zero byte" bit trick on the word XORed with each of the four bytes (exact:
/// the trick's stray bits only appear above a byte that really is zero).
///
/// The bytes after the last whole word are tested as one more word, the cell's last eight
/// bytes (some tested twice); a cell shorter than eight bytes as one word made of two
/// overlapping halves, or of its first, middle and last bytes (a zero byte in the word is
/// none of the four). A byte-by-byte loop over the rest was a third of a row's time.
#[inline]
fn needs_quotes(bytes: &[u8]) -> bool {
    const LO: u64 = u64::from_ne_bytes([0x01; 8]);
    const HI: u64 = u64::from_ne_bytes([0x80; 8]);
    fn has(word: u64, byte: u8) -> bool {
        let v = word ^ (LO * byte as u64);
        v.wrapping_sub(LO) & !v & HI != 0
    }
    fn special(word: u64) -> bool {
        has(word, b',') | has(word, b'"') | has(word, b'\r') | has(word, b'\n')
    }
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
    let half =
        |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes")) as u64;
    let n = bytes.len();
    match n {
        0 => false,
        1..=3 => {
            special(bytes[0] as u64 | (bytes[n / 2] as u64) << 8 | (bytes[n - 1] as u64) << 16)
        }
        4..=7 => special(half(0) | half(n - 4) << 32),
        _ => {
            let mut at = 0;
            while at + 8 <= n {
                if special(word(at)) {
                    return true;
                }
                at += 8;
            }
            at < n && special(word(n - 8))
        }
    }
}

thread_local! {
    /// Each worker thread keeps its encoded place cells (see [`Places`]) and its buffer
    /// sizes (see [`Sizes`]) from one document to the next.
    static WORKER: std::cell::RefCell<(Places, Sizes)> = std::cell::RefCell::new(Default::default());
}

/// The bytes of each table and of the kept records that a worker thread encoded for its
/// last run of documents (an [`Encoded`]), with which it reserves the buffers of the next
/// run at once: a quarter more than the last run's, at most [`Sizes::MAX`].
///
/// Why: the run hands each worker an empty [`Encoded`] per run of documents (its buffers go
/// to the driver thread), and growing a buffer from nothing by doubling copied each table's
/// bytes once more and asked the allocator about a dozen times per table and run.
#[derive(Default)]
struct Sizes {
    tables: [usize; TABLES.len()],
    kept: usize,
}

impl Sizes {
    /// A run of documents with more bytes than this (a huge article) is not taken as the
    /// size of the next.
    const MAX: usize = 1 << 22;

    fn reserve(last: usize, bytes: &mut Vec<u8>) {
        bytes.reserve_exact((last + last / 4).min(Self::MAX));
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
}

/// The four place cells of a row (country, region, latitude, longitude), encoded with
/// the commas between them; four empty cells without a place.
fn geo_cells(out: &mut Vec<u8>, geo: Option<&Geo>, coords: &mut Coords) {
    match geo {
        Some(g) => {
            let (lat, lon) = coords.cells(g.lat, g.lon);
            Cells::new(out)
                .plain(&g.country)
                .text(&g.admin1)
                .plain(lat)
                .plain(lon);
        }
        None => out.extend_from_slice(b",,,"),
    }
}

/// The cells of gazetteer places already encoded by this worker thread, and the
/// coordinate cells of the places that are not shared (events').
///
/// Why: most entity rows are mentions of a gazetteer's few thousand places, which recur all
/// through a dump, and all of such a row but the document, span and text is the same for
/// every mention of one entry (see [`Entity`]: the strings and the [`Geo`] are the entry's
/// own, shared). One hash lookup by their addresses and one copy replace eight cells'
/// checks and two coordinate lookups. Each entry holds clones of what it was made from, so
/// no address in a key can be freed and reused by other text while the entry exists.
#[derive(Default)]
struct Places {
    entries: rustc_hash::FxHashMap<EntryKey, Entry>,
    coords: Coords,
    /// Scratch space for events' place cells.
    scratch: Vec<u8>,
}

/// The type, canonical name, id, kind, rule (address and length of each string) and place
/// (address of the shared `Geo`) of a place mention.
#[derive(PartialEq, Eq, Hash)]
struct EntryKey {
    etype: EntityType,
    strs: [(usize, usize); 4],
    geo: usize,
}

struct Entry {
    /// Keeps the key's addresses in use.
    _keep: ([SharedStr; 4], Arc<Geo>),
    /// The cells from `type` to `rule`, with the commas between them.
    cells: Box<[u8]>,
}

impl Places {
    /// More entries than the gazetteers have: the memo is emptied rather than grown.
    const LIMIT: usize = 1 << 16;

    /// The cells of a place mention from `type` to `rule`; `geo` is the mention's.
    fn entity(&mut self, e: &Entity, geo: &Arc<Geo>) -> &[u8] {
        if self.entries.len() >= Self::LIMIT {
            self.entries.clear();
        }
        let addr = |s: &SharedStr| (s.as_ptr() as usize, s.len());
        let key = EntryKey {
            etype: e.etype,
            strs: [
                addr(&e.canonical),
                addr(&e.entity_id),
                addr(&e.kind),
                addr(&e.rule),
            ],
            geo: Arc::as_ptr(geo) as usize,
        };
        let coords = &mut self.coords;
        &self
            .entries
            .entry(key)
            .or_insert_with(|| {
                let mut place = Vec::new();
                geo_cells(&mut place, Some(geo), coords);
                let mut cells = Vec::new();
                Cells::new(&mut cells)
                    .plain(e.etype.as_str())
                    .text(&e.canonical)
                    .text(&e.entity_id)
                    .plain(&e.kind)
                    .encoded(&place)
                    .plain(&e.rule);
                Entry {
                    _keep: (
                        [
                            e.canonical.clone(),
                            e.entity_id.clone(),
                            e.kind.clone(),
                            e.rule.clone(),
                        ],
                        geo.clone(),
                    ),
                    cells: cells.into(),
                }
            })
            .cells
    }

    /// The cells of a place that is not shared, in [`Places::scratch`].
    fn owned(&mut self, geo: &Geo) -> &[u8] {
        self.scratch.clear();
        geo_cells(&mut self.scratch, Some(geo), &mut self.coords);
        &self.scratch
    }
}

/// The coordinate cells already written by this worker thread, by the bits of the value.
///
/// Why: formatting a float with `{}` (shortest round-trip digits) costs more than the rest
/// of the row; a gazetteer has a few thousand coordinates that recur all through a dump.
/// The cells are exactly [`number`]'s.
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

/// Encodes the rows of the document tables (all but incidents), and each event as a
/// record of the incident [`Spill`] (in [`Encoded::kept`]), so that the driver thread only
/// copies bytes.
struct CsvEncoder;

impl Encoder for CsvEncoder {
    fn encode(&self, doc: &Document, facts: Facts, into: &mut Encoded) {
        WORKER.with(|worker| {
            let (places, sizes) = &mut *worker.borrow_mut();
            let mut rows = Rows {
                tables: std::mem::take(&mut into.tables),
            };
            if rows.tables.is_empty() {
                rows = Rows::default();
                for ((bytes, _), &size) in rows.tables.iter_mut().zip(&sizes.tables) {
                    Sizes::reserve(size, bytes);
                }
                Sizes::reserve(sizes.kept, &mut into.kept);
            }
            encode(&mut rows, places, doc, &facts);
            for ((bytes, _), size) in rows.tables.iter().zip(&mut sizes.tables) {
                *size = bytes.len();
            }
            into.tables = rows.tables;
            let published = doc.published.or(facts.published);
            for ev in &facts.events {
                Spill::encode(&mut into.kept, &doc.doc_id, published, ev);
            }
            sizes.kept = into.kept.len();
        });
    }
}

/// Writes one document's rows with [`Cells`]: nothing is allocated per row. The
/// document id is encoded once for all of its rows, and the character offsets of spans are
/// asked of the [`CharMap`] in the order the facts come, mostly the text's.
fn encode(rows: &mut Rows, places: &mut Places, doc: &Document, facts: &Facts) {
    let map = CharMap::new(&doc.text);
    let offset = |byte: usize| map.char_offset(byte);
    let mut id = Vec::with_capacity(doc.doc_id.len() + 1);
    Cells::new(&mut id).text(&doc.doc_id);
    let id = &id[..];

    let mut published = String::new();
    let from = match (doc.published, facts.published) {
        (Some(d), _) => {
            use std::fmt::Write as _;
            write!(published, "{d}").expect("formatting into a String");
            "input"
        }
        (None, Some(d)) => {
            use std::fmt::Write as _;
            write!(published, "{d}").expect("formatting into a String");
            "text"
        }
        (None, None) => "",
    };
    rows.row(DOCUMENTS)
        .encoded(id)
        .text(&doc.source)
        .text(&doc.title)
        .plain(&published)
        .plain(from)
        .text(doc.url.as_deref().unwrap_or(""))
        .int(offset(doc.text.len()))
        .end();

    for e in &facts.entities {
        let mut row = rows.row(ENTITIES);
        row.encoded(id)
            .int(offset(e.span.start))
            .int(offset(e.span.end))
            .text(&e.text);
        match &e.geo {
            Some(geo) => row.encoded(places.entity(e, geo)),
            None => row
                .plain(e.etype.as_str())
                .text(&e.canonical)
                .text(&e.entity_id)
                .plain(&e.kind)
                .encoded(b",,,")
                .plain(&e.rule),
        }
        .end();
    }

    let (mut value, mut value_max) = (NumberCell::default(), NumberCell::default());
    for q in &facts.quantities {
        rows.row(QUANTITIES)
            .encoded(id)
            .int(offset(q.span.start))
            .int(offset(q.span.end))
            .text(&q.text)
            .plain(value.format(q.value))
            .plain(q.value_max.map_or("", |x| value_max.format(x)))
            .plain(q.qualifier.as_str())
            .plain(&q.unit)
            .plain(q.category.as_str())
            .text(&q.subject)
            .plain(&q.rule)
            .end();
    }

    for d in &facts.dates {
        rows.row(DATES)
            .encoded(id)
            .int(offset(d.span.start))
            .int(offset(d.span.end))
            .text(&d.text)
            .plain(d.value.as_deref().unwrap_or(""))
            .plain(d.modifier.map(|m| m.as_str()).unwrap_or(""))
            .plain(&d.rule)
            .end();
    }

    for r in &facts.roles {
        rows.row(ROLES)
            .encoded(id)
            .text(&r.person)
            .text(&r.role)
            .text(&r.organization)
            .text(&r.place)
            .int(offset(r.span.start))
            .int(offset(r.span.end))
            .text(&doc.text[r.span.start..r.span.end])
            .text(&r.person_id)
            .plain(&r.rule)
            .end();
    }

    // The actors and targets cells are joined here, in a buffer kept for the document.
    let mut joined = String::new();
    for ev in &facts.events {
        fn count(row: &mut Cells<'_>, n: Option<u64>) {
            match n {
                Some(n) => row.int(n),
                None => row.plain(""),
            };
        }
        let mut row = rows.row(EVENTS);
        row.encoded(id)
            .text(&ev.event_id)
            .plain(&ev.etype)
            .plain(ev.date.as_deref().unwrap_or(""))
            .text(&ev.place)
            .encoded(places.owned(&ev.geo));
        for list in [&ev.actors, &ev.targets] {
            joined.clear();
            for (i, name) in list.iter().enumerate() {
                if i > 0 {
                    joined.push(';');
                }
                joined.push_str(name);
            }
            row.text(&joined);
        }
        count(&mut row, ev.killed);
        count(&mut row, ev.injured);
        count(&mut row, ev.captured);
        row.int(offset(ev.span.start))
            .int(offset(ev.span.end))
            .text(&doc.text[ev.span.start..ev.span.end])
            .plain(&ev.rule)
            .end();
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
                // As `record` writes the neutralised cells, without copies of them.
                let mut row = Cells::new(out);
                for cell in cells {
                    row.text(cell);
                }
                if let [cell] = cells {
                    if cell.is_empty() {
                        row.out.extend_from_slice(b"\"\"");
                    }
                }
                row.end();
            },
            |rows, n| table.write(rows, n),
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

    #[test]
    fn cells_are_written_as_record_writes_neutralised_cells() {
        let cells = [
            "Mosul",
            "",
            "=1+1",
            "-5, or \"more\"",
            "@x\ny",
            "+\"",
            "\tx",
            "\r",
            "'=1",
            "al-Anbar, \"Iraq\"",
            "Ünïcode — “x”",
        ];
        for text in [false, true] {
            for a in cells {
                for b in cells {
                    let mut want = Vec::new();
                    let (ca, cb) = if text {
                        (neutralise(a), neutralise(b))
                    } else {
                        (a.into(), b.into())
                    };
                    record(&mut want, &[&ca, &cb, "12"]);
                    let mut got = Vec::new();
                    let mut row = Cells::new(&mut got);
                    if text {
                        row.text(a).text(b);
                    } else {
                        row.plain(a).plain(b);
                    }
                    row.int(12u32).end();
                    assert_eq!(
                        String::from_utf8(got).unwrap(),
                        String::from_utf8(want).unwrap(),
                        "{a:?} {b:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn place_cells_are_the_cells_of_the_place() {
        let mut places = Places::default();
        let geos = [
            Geo {
                country: "IQ".into(),
                admin1: "=Ninawa, \"north\"".into(),
                lat: Some(36.34),
                lon: Some(43.13),
            },
            Geo::default(),
            Geo {
                country: "CD".into(),
                admin1: "Nord-Kivu".into(),
                lat: Some(-1.68),
                lon: None,
            },
        ]
        .map(Arc::new);
        // The same place twice (not the same Arc), and names shared or made per mention.
        let geos = [&geos[..], &[Arc::new(Geo::clone(&geos[0]))]].concat();
        let place = |canonical: SharedStr, geo: &Arc<Geo>| Entity {
            span: Default::default(),
            text: "x".into(),
            etype: EntityType::Place,
            canonical,
            entity_id: "L:1".into(),
            kind: "-city".into(),
            geo: Some(geo.clone()),
            rule: "gazetteer".into(),
        };
        let shared = SharedStr::from(String::from("Mosul, \"Iraq\""));
        let mut mentions = Vec::new();
        for geo in &geos {
            mentions.push(place(shared.clone(), geo));
            mentions.push(place("=Goma".into(), geo));
            mentions.push(place(String::from("Goma").into(), geo));
        }
        for round in 0..2 {
            for e in &mentions {
                let geo = e.geo.as_ref().unwrap();
                let place: [&str; 4] = [
                    &geo.country,
                    &neutralise(&geo.admin1),
                    &opt_number(geo.lat),
                    &opt_number(geo.lon),
                ];
                let mut want = Vec::new();
                record(&mut want, &place);
                want.pop();
                assert_eq!(places.owned(geo), &want[..], "{geo:?}");
                want.clear();
                let entity: [&str; 4] = [
                    e.etype.as_str(),
                    &neutralise(&e.canonical),
                    &neutralise(&e.entity_id),
                    &e.kind,
                ];
                record(&mut want, &[&entity[..], &place, &[&e.rule]].concat());
                want.pop();
                assert_eq!(places.entity(e, geo), &want[..], "{round} {e:?}");
            }
        }
        assert_eq!(places.entries.len(), mentions.len());
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
