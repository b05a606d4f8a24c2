//! The CSV tables: documents, entities, quantities, dates, roles, events and incidents.
//!
//! Each table is written to a hidden temporary file in the output folder and renamed into
//! place only when the whole run has succeeded, so an interrupted run never leaves tables
//! that look finished. Cells are spreadsheet-safe: see [`neutralise`]. The columns are
//! documented in docs/tables.md.

use std::fs::File;
use std::io::Write;
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
#[cfg(test)]
pub(crate) fn number(x: f64) -> String {
    let mut text = String::new();
    push_number(&mut text, x);
    text
}

/// Appends [`number`]'s text of `x` to `out`.
///
/// The texts are remembered per thread, by the bits of the number: the incident merge
/// writes the coordinates of an incident's place this way, a few tens of thousands of
/// values that recur all through a dump, and a lookup costs a fraction of even `ryu`'s
/// digits (about 400 instructions a number here). Appended, not returned: a `String` per
/// number was two allocations a row of incidents.csv.
pub(crate) fn push_number(out: &mut String, x: f64) {
    thread_local! {
        static SEEN: std::cell::RefCell<rustc_hash::FxHashMap<u64, Box<str>>> =
            Default::default();
    }
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if seen.len() >= Coords::LIMIT {
            seen.clear();
        }
        let text = seen.entry(x.to_bits()).or_insert_with(|| {
            let mut text = Vec::with_capacity(24);
            number_into(&mut text, x);
            String::from_utf8(text).expect("digits are ASCII").into()
        });
        out.push_str(text);
    })
}

/// Appends [`number`]'s text of `x`: `{}`'s (shortest round-trip digits, never an
/// exponent), but for whole numbers no `.0`.
///
/// Why: most quantities are whole numbers, which [`digits`] writes in place for a tenth of
/// what `write!` costs. `{}` took about 1,200 instructions a coordinate (a seventh of the
/// incident merge); most fractions are now written by `ryu` ([`ryu_writes_as_display`]).
/// Anything else still goes through `{}`. No number's text needs quotes or an
/// apostrophe: digits, a sign, a point, `NaN` or `inf`.
fn number_into(out: &mut Vec<u8>, x: f64) {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        if x < 0.0 {
            out.push(b'-');
        }
        digits(out, x.abs() as u64);
    } else if ryu_writes_as_display(x) {
        out.extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes());
    } else {
        use std::io::Write as _;
        write!(out, "{x}").expect("formatting into a Vec");
    }
}

/// Whether `ryu` writes the same text as `{}` for `x`, a number that is not whole.
///
/// Both write the shortest digits that read back as `x`, the nearest to it when several
/// are as short, and `ryu` writes numbers from 10^-5 up to 10^15 without an exponent, as
/// `{}` does. They differ only on an exact tie between two shortest candidates (`ryu`
/// takes the even digit, `{}` rounds up: 181373274450511.625 is `...511.62` against
/// `...511.63`) or on a candidate exactly halfway to the next number (kept by both when
/// the mantissa is even). Either needs `x`, or that halfway point, to be a decimal of at
/// most 18 significant digits; as a dyadic fraction `m / 2^k` (`m` odd) above 10^-5 it
/// has at least `k - 4` of them. So `ryu` is used when `k` is at least 23: every
/// coordinate and share read from decimal text, whose mantissas use all their bits;
/// short fractions such as 1.5 or 0.25 still go through `{}`.
#[inline]
fn ryu_writes_as_display(x: f64) -> bool {
    if !(1e-5..1e15).contains(&x.abs()) {
        return false;
    }
    let bits = x.to_bits();
    // Normal in this range: the implicit bit is set.
    let mantissa = bits & ((1 << 52) - 1) | 1 << 52;
    let exponent = ((bits >> 52) & 0x7ff) as i64 - 1075 + i64::from(mantissa.trailing_zeros());
    exponent <= -23
}

/// The index of each table in [`TABLES`].
const DOCUMENTS: usize = 0;
const ENTITIES: usize = 1;
const QUANTITIES: usize = 2;
const DATES: usize = 3;
const ROLES: usize = 4;
const EVENTS: usize = 5;
const INCIDENTS: usize = 6;

/// One table's file, and the bytes waiting to be written to it.
///
/// Why not a `BufWriter`: the workers hand over each table's rows of a run of documents
/// in a buffer of their own, mostly smaller than a writer's buffer, which copied them all
/// once more (3.3 bytes of tables per byte of input) before the system call copied them
/// again. The buffers are kept as they are instead, and written together by one `writev`
/// once they hold [`Table::BATCH`] bytes.
struct Table {
    tmp: PathBuf,
    dest: PathBuf,
    file: File,
    /// The bytes not yet written, in order: buffers taken from the workers, and copies of
    /// bytes lent to [`Table::write`].
    pending: Vec<Vec<u8>>,
    /// Their length in all.
    pending_bytes: usize,
    /// Whether the last of `pending` is a copy, to which lent bytes are appended.
    copying: bool,
    rows: u64,
}

impl Table {
    /// Pending bytes are written once there are this many.
    const BATCH: usize = 1 << 18;

    fn create(dir: &Path, name: &str, columns: &[&str]) -> Result<Table> {
        let dest = dir.join(format!("{name}.csv"));
        let tmp = dir.join(format!(".{name}.csv.partial"));
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut table = Table {
            tmp,
            dest,
            file,
            pending: Vec::new(),
            pending_bytes: 0,
            copying: false,
            rows: 0,
        };
        let mut header = Vec::new();
        record(&mut header, columns);
        table.take(header, 0)?;
        Ok(table)
    }

    /// Appends rows encoded by [`Rows`], keeping their buffer until it is written.
    fn take(&mut self, bytes: Vec<u8>, rows: u64) -> Result<()> {
        self.rows += rows;
        if bytes.is_empty() {
            return Ok(());
        }
        self.pending_bytes += bytes.len();
        self.pending.push(bytes);
        self.copying = false;
        self.write_if_full()
    }

    /// Appends rows lent by the caller: copied, or, when they are many, written at once.
    fn write(&mut self, bytes: &[u8], rows: u64) -> Result<()> {
        self.rows += rows;
        if bytes.len() >= Self::BATCH {
            self.flush()?;
            return self
                .file
                .write_all(bytes)
                .map_err(|e| Error::io(&self.tmp, e));
        }
        match self.pending.last_mut() {
            Some(copy) if self.copying => copy.extend_from_slice(bytes),
            _ => {
                let mut copy = Vec::with_capacity(Self::BATCH);
                copy.extend_from_slice(bytes);
                self.pending.push(copy);
                self.copying = true;
            }
        }
        self.pending_bytes += bytes.len();
        self.write_if_full()
    }

    fn write_if_full(&mut self) -> Result<()> {
        if self.pending_bytes >= Self::BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes every pending byte.
    fn flush(&mut self) -> Result<()> {
        write_all_vectored(&mut self.file, &self.pending).map_err(|e| Error::io(&self.tmp, e))?;
        self.pending.clear();
        self.pending_bytes = 0;
        self.copying = false;
        Ok(())
    }
}

/// Writes all of `buffers` in order with as few `write_vectored` calls as `out` allows
/// (`Write::write_all_vectored` is not stable yet).
fn write_all_vectored(out: &mut impl Write, buffers: &[Vec<u8>]) -> std::io::Result<()> {
    use std::io::{ErrorKind, IoSlice};
    // The first buffer not written whole, and how much of it was.
    let (mut first, mut from) = (0, 0);
    loop {
        while first < buffers.len() && from == buffers[first].len() {
            (first, from) = (first + 1, 0);
        }
        if first == buffers.len() {
            return Ok(());
        }
        let slices: Vec<IoSlice<'_>> = std::iter::once(&buffers[first][from..])
            .chain(buffers[first + 1..].iter().map(|b| &b[..]))
            .take(1024)
            .map(IoSlice::new)
            .collect();
        let mut written = match out.write_vectored(&slices) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        while written > 0 {
            let step = written.min(buffers[first].len() - from);
            from += step;
            written -= step;
            if from == buffers[first].len() {
                (first, from) = (first + 1, 0);
            }
        }
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
///
/// Its methods are `#[inline(always)]`: with `#[inline]`, fat LTO kept `text` and `int`
/// out of line (a call and saved registers per cell: 77 instructions an integer), and
/// inlined the encoder takes 5% fewer instructions (134.4 M -> 127.6 M on 4 MB).
struct Cells<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Cells<'a> {
    fn new(out: &'a mut Vec<u8>) -> Cells<'a> {
        Cells { out, first: true }
    }

    #[inline(always)]
    fn comma(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    /// A cell written as it is (quoted if need be): ids, codes, numbers formatted elsewhere.
    #[inline(always)]
    fn plain(&mut self, cell: &str) -> &mut Self {
        self.comma();
        quoted(self.out, false, cell.as_bytes());
        self
    }

    /// A cell from a fixed vocabulary of the code (entity types, qualifiers, categories,
    /// date modifiers): words that never need quotes or an apostrophe, so they are copied
    /// without [`quoted`]'s check (the tests compare every such word with `record`).
    #[inline(always)]
    fn known(&mut self, cell: &'static str) -> &mut Self {
        debug_assert!(!is_formula(cell) && copy_unquoted(&mut Vec::new(), cell.as_bytes()));
        self.comma();
        copy_words::<false>(self.out, cell.as_bytes());
        self
    }

    /// A cell that the caller knows needs no quotes or apostrophe (see
    /// [`incidents::PLAIN`]): copied without [`quoted`]'s check, like [`Cells::known`].
    #[inline(always)]
    fn verbatim(&mut self, cell: &str) -> &mut Self {
        debug_assert!(!is_formula(cell) && copy_unquoted(&mut Vec::new(), cell.as_bytes()));
        self.comma();
        copy_words::<false>(self.out, cell.as_bytes());
        self
    }

    /// A text cell, as [`neutralise`] makes it.
    #[inline(always)]
    fn text(&mut self, cell: &str) -> &mut Self {
        self.comma();
        quoted(self.out, is_formula(cell), cell.as_bytes());
        self
    }

    /// A whole number, formatted in place ([`digits`]).
    #[inline(always)]
    fn int(&mut self, n: impl Into<u64>) -> &mut Self {
        self.comma();
        digits(self.out, n.into());
        self
    }

    /// A number, as [`number`] writes it.
    #[inline(always)]
    fn number(&mut self, x: f64) -> &mut Self {
        self.comma();
        number_into(self.out, x);
        self
    }

    /// One or more cells already encoded by a `Cells` (with the commas between them).
    #[inline(always)]
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
/// when it holds a comma, a quote, `\r` or `\n`. The apostrophe itself never needs quotes,
/// so the check on the cell alone is the check on both.
///
/// Why this shape: most cells are short and need no quotes, and for them the check and
/// the copy are one pass over the cell's words ([`copy_unquoted`]), with no call to
/// `memcpy` (a call per cell was a fifth of a row's cost); a cell that does need quotes
/// is written again, out of line.
///
/// Inlined into every cell's call: its call and the saving of registers around it were a
/// sixth of its cost, as were [`digits`]'.
#[inline(always)]
fn quoted(out: &mut Vec<u8>, guard: bool, cell: &[u8]) {
    let start = out.len();
    if guard {
        out.push(b'\'');
    }
    if !copy_unquoted(out, cell) {
        out.truncate(start);
        quoted_slowly(out, guard, cell);
    }
}

/// [`quoted`] for a cell that holds a comma, a quote, `\r` or `\n`.
#[cold]
#[inline(never)]
fn quoted_slowly(out: &mut Vec<u8>, guard: bool, cell: &[u8]) {
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
}

/// Appends `bytes` if none of them is a comma, a quote, `\r` or `\n`, and returns whether
/// it did (if not, some of the bytes may have been appended: the caller truncates).
///
/// The bytes are read and written eight at a time, as whole words, and tested with the
/// "has a zero byte" bit trick on the word XORed with each of the four bytes (exact: the
/// trick's stray bits only appear above a byte that really is zero). The bytes after the
/// last whole word are the cell's last eight bytes, tested and written over the end of
/// what was written (some twice); a cell shorter than eight bytes is two overlapping
/// halves, or its first, middle and last bytes, written in full and truncated to its
/// length. Every write has a fixed size, so none is a call to `memcpy`.
#[inline(always)]
fn copy_unquoted(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    copy_words::<true>(out, bytes)
}

/// [`copy_unquoted`], which tests the words when `CHECK`; without, it copies any bytes
/// the same way (for cells known to need no quotes) and always returns `true`.
#[inline(always)]
fn copy_words<const CHECK: bool>(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let refused = |word: u64| CHECK && special(word);
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
    let half = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"));
    let n = bytes.len();
    let at = out.len();
    match n {
        0 => true,
        1..=3 => {
            let three = [bytes[0], bytes[n / 2], bytes[n - 1]];
            if refused(u32::from_le_bytes([three[0], three[1], three[2], 0]) as u64) {
                return false;
            }
            out.extend_from_slice(&three);
            out.truncate(at + n);
            true
        }
        4..=7 => {
            let (first, last) = (half(0), half(n - 4));
            if refused(first as u64 | (last as u64) << 32) {
                return false;
            }
            out.extend_from_slice(&first.to_le_bytes());
            out.truncate(at + n - 4);
            out.extend_from_slice(&last.to_le_bytes());
            true
        }
        _ => {
            out.reserve(n);
            let mut from = 0;
            while from + 8 <= n {
                let w = word(from);
                if refused(w) {
                    return false;
                }
                out.extend_from_slice(&w.to_le_bytes());
                from += 8;
            }
            if from < n {
                let w = word(n - 8);
                if refused(w) {
                    return false;
                }
                out.truncate(at + n - 8);
                out.extend_from_slice(&w.to_le_bytes());
            }
            true
        }
    }
}

/// Whether a word (as little-endian bytes) holds a comma, a quote, `\r` or `\n`.
///
/// The four "has a zero byte" tests share their last mask and comparison: the stray bits
/// of each appear only above a byte that really is zero in its own XOR, so their union
/// has a top bit set exactly when one of the four has.
#[inline(always)]
fn special(word: u64) -> bool {
    const LO: u64 = u64::from_ne_bytes([0x01; 8]);
    const HI: u64 = u64::from_ne_bytes([0x80; 8]);
    let zeros = |byte: u8| {
        let v = word ^ (LO * byte as u64);
        v.wrapping_sub(LO) & !v
    };
    (zeros(b',') | zeros(b'"') | zeros(b'\r') | zeros(b'\n')) & HI != 0
}

/// Whether a cell holds a comma, a quote, `\r` or `\n` (what [`copy_unquoted`] refuses).
#[cfg(test)]
fn needs_quotes(bytes: &[u8]) -> bool {
    !copy_unquoted(&mut Vec::new(), bytes)
}

/// Appends a whole number. One below 10^8 (every character offset of an article under
/// 100 MB, most counts) is turned into a word of eight digits, first digit in the low
/// byte, all at once: the number split into two halves of four digits, each half into
/// two of two, each into two digits, with multiplications by reciprocals in the word's
/// lanes (exact below 10^4 and 10^2; checked for every number below 10^8 when written).
/// The leading zeros are shifted out, and the word written whole and truncated to the
/// digits: no loop, no buffer, no call to `memcpy`. Larger numbers go through `itoa`.
#[inline(always)]
fn digits(out: &mut Vec<u8>, n: u64) {
    if n >= 100_000_000 {
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        return;
    }
    let n = n as u32;
    let x = (n / 10_000) as u64 | ((n % 10_000) as u64) << 32;
    let hundreds = ((x * 10_486) >> 20) & 0x0000_007F_0000_007F;
    let x = hundreds | (x - hundreds * 100) << 16;
    let tens = ((x * 103) >> 10) & 0x000F_000F_000F_000F;
    let x = tens | (x - tens * 10) << 8;
    let zeros = if n == 0 {
        7
    } else {
        x.trailing_zeros() as usize / 8
    };
    let at = out.len();
    out.extend_from_slice(&((x + 0x3030_3030_3030_3030) >> (8 * zeros)).to_le_bytes());
    out.truncate(at + 8 - zeros);
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
/// the commas between them.
fn geo_cells(out: &mut Vec<u8>, g: &Geo, coords: &mut Coords) {
    let mut row = Cells::new(out);
    row.plain(&g.country).text(&g.admin1);
    coords.cell(&mut row, g.lat);
    coords.cell(&mut row, g.lon);
}

/// The cells of gazetteer places already encoded by this worker thread, and those of the
/// events' places.
///
/// Why: most entity rows are mentions of a gazetteer's few thousand places, which recur all
/// through a dump, and all of such a row but the document, span and text is the same for
/// every mention of one entry (see [`Entity`]: the strings and the [`Geo`] are the entry's
/// own, shared). One lookup by their addresses and one copy replace eight cells' checks and
/// two coordinate lookups. Each entry holds clones of what it was made from, so no address
/// in a key can be freed and reused by other text while the entry exists.
///
/// An article mentions few places, each several times (16.5 mentions of 6.5 places in the
/// synthetic dumps), so the places of the document being encoded are looked up first in
/// a short list ([`Places::doc`]), by comparison, before the hash table of all places,
/// whose slots are spread over megabytes: a cache miss or two per lookup.
#[derive(Default)]
struct Places {
    /// Every place mention's key, and its entry's number in `entries`.
    index: rustc_hash::FxHashMap<EntryKey, u32>,
    entries: Vec<Entry>,
    /// The keys and entry numbers of the document being encoded, each once.
    doc: Vec<(EntryKey, u32)>,
    /// Events' place cells, by their coordinates (see [`Places::event`]).
    events: rustc_hash::FxHashMap<(Option<u64>, Option<u64>), EventPlace>,
    coords: Coords,
}

/// The place (address of the shared `Geo`), type, canonical name, id, kind and rule
/// (address and length of each string) of a place mention.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct EntryKey {
    geo: usize,
    etype: EntityType,
    strs: [(usize, usize); 4],
}

impl EntryKey {
    fn of(e: &Entity, geo: &Arc<Geo>) -> EntryKey {
        let addr = |s: &SharedStr| (s.as_ptr() as usize, s.len());
        EntryKey {
            geo: Arc::as_ptr(geo) as usize,
            etype: e.etype,
            strs: [
                addr(&e.canonical),
                addr(&e.entity_id),
                addr(&e.kind),
                addr(&e.rule),
            ],
        }
    }
}

struct Entry {
    /// Keeps the key's addresses in use.
    _keep: ([SharedStr; 4], Arc<Geo>),
    /// The cells from `type` to `rule`, with the commas between them.
    cells: Box<[u8]>,
}

/// The place cells of events at one pair of coordinates, and the country and region they
/// were made for.
struct EventPlace {
    country: Box<str>,
    admin1: Box<str>,
    cells: Box<[u8]>,
}

impl Places {
    /// More entries than the gazetteers have: the memo is emptied rather than grown.
    const LIMIT: usize = 1 << 16;

    /// Starts a document: forgets the last one's places (and, past [`Places::LIMIT`], all).
    fn document(&mut self) {
        self.doc.clear();
        if self.entries.len() >= Self::LIMIT {
            self.index.clear();
            self.entries.clear();
        }
        if self.events.len() >= Self::LIMIT {
            self.events.clear();
        }
    }

    /// The cells of a place mention from `type` to `rule`; `geo` is the mention's.
    fn entity(&mut self, e: &Entity, geo: &Arc<Geo>) -> &[u8] {
        let key = EntryKey::of(e, geo);
        if let Some(&(_, at)) = self.doc.iter().find(|(k, _)| *k == key) {
            return &self.entries[at as usize].cells;
        }
        let (entries, coords) = (&mut self.entries, &mut self.coords);
        let at = *self.index.entry(key).or_insert_with(|| {
            let mut place = Vec::with_capacity(64);
            geo_cells(&mut place, geo, coords);
            let mut cells = Vec::with_capacity(128 + place.len());
            Cells::new(&mut cells)
                .known(e.etype.as_str())
                .text(&e.canonical)
                .text(&e.entity_id)
                .plain(&e.kind)
                .encoded(&place)
                .plain(&e.rule);
            entries.push(Entry {
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
            });
            (entries.len() - 1) as u32
        });
        self.doc.push((key, at));
        &self.entries[at as usize].cells
    }

    /// The cells of an event's place (its own copy of a [`Geo`], not shared): kept by its
    /// coordinates, and made again when the country or region differ from those kept.
    fn event(&mut self, geo: &Geo) -> &[u8] {
        let coords = &mut self.coords;
        let key = (geo.lat.map(f64::to_bits), geo.lon.map(f64::to_bits));
        let place = self.events.entry(key).or_insert_with(|| EventPlace {
            country: "".into(),
            admin1: "".into(),
            cells: Box::default(),
        });
        if place.cells.is_empty() || *place.country != geo.country || *place.admin1 != geo.admin1 {
            let mut cells = Vec::with_capacity(64);
            geo_cells(&mut cells, geo, coords);
            *place = EventPlace {
                country: geo.country.as_str().into(),
                admin1: geo.admin1.as_str().into(),
                cells: cells.into(),
            };
        }
        &place.cells
    }
}

/// The coordinate cells already written by this worker thread, by the bits of the value.
///
/// Why: formatting a float with `{}` (shortest round-trip digits) costs more than the rest
/// of the row; a gazetteer has some tens of thousands of coordinates that recur all through
/// a dump. The cells are exactly [`number`]'s.
#[derive(Default)]
struct Coords {
    cells: rustc_hash::FxHashMap<u64, Box<str>>,
}

impl Coords {
    /// More distinct values than the gazetteers have (about 78,000 for 39,000 places): the
    /// memo is emptied rather than grown.
    const LIMIT: usize = 1 << 17;

    /// Writes the cell of `x` (empty for none).
    fn cell(&mut self, row: &mut Cells<'_>, x: Option<f64>) {
        let Some(x) = x else {
            row.plain("");
            return;
        };
        if self.cells.len() >= Self::LIMIT {
            self.cells.clear();
        }
        row.plain(self.cells.entry(x.to_bits()).or_insert_with(|| {
            let mut text = String::new();
            push_number(&mut text, x);
            text.into()
        }));
    }
}

/// Encodes the rows of the document tables (all but incidents), and each event as a
/// record of the incident [`Spill`] (in [`Encoded::kept`]), so that the driver thread only
/// copies bytes.
struct CsvEncoder;

/// What a worker thread keeps from one document to the next.
#[derive(Default)]
struct Worker {
    places: Places,
    sizes: Sizes,
    /// A document's id cell, and an event's actors or targets joined.
    id: Vec<u8>,
    joined: String,
}

thread_local! {
    /// Each worker thread's encoded place cells (see [`Places`]), buffer sizes (see
    /// [`Sizes`]) and scratch space.
    static WORKER: std::cell::RefCell<Worker> = std::cell::RefCell::new(Default::default());
}

impl Encoder for CsvEncoder {
    fn encode(&self, doc: &Document, facts: Facts, into: &mut Encoded) {
        WORKER.with(|worker| {
            let worker = &mut *worker.borrow_mut();
            let sizes = &mut worker.sizes;
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
            encode(&mut rows, worker, doc, &facts);
            let sizes = &mut worker.sizes;
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
/// asked of the [`CharMap`].
fn encode(rows: &mut Rows, worker: &mut Worker, doc: &Document, facts: &Facts) {
    let Worker {
        places, id, joined, ..
    } = worker;
    places.document();
    let map = CharMap::new(&doc.text);
    let offset = |byte: usize| map.char_offset(byte) as u64;
    id.clear();
    Cells::new(id).text(&doc.doc_id);
    let id = &id[..];

    let (published, from) = match (doc.published, facts.published) {
        (Some(d), _) => (Some(d), "input"),
        (None, Some(d)) => (Some(d), "text"),
        (None, None) => (None, ""),
    };
    let mut row = rows.row(DOCUMENTS);
    row.encoded(id).text(&doc.source).text(&doc.title).comma();
    if let Some(d) = published {
        d.write_to(row.out);
    }
    row.known(from)
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
                .known(e.etype.as_str())
                .text(&e.canonical)
                .text(&e.entity_id)
                .plain(&e.kind)
                .encoded(b",,,")
                .plain(&e.rule),
        }
        .end();
    }

    for q in &facts.quantities {
        let mut row = rows.row(QUANTITIES);
        row.encoded(id)
            .int(offset(q.span.start))
            .int(offset(q.span.end))
            .text(&q.text)
            .number(q.value);
        match q.value_max {
            Some(x) => row.number(x),
            None => row.plain(""),
        }
        .known(q.qualifier.as_str())
        .plain(&q.unit)
        .known(q.category.as_str())
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
            .known(d.modifier.map(|m| m.as_str()).unwrap_or(""))
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
            .encoded(places.event(&ev.geo));
        // The actors and targets cells are joined in a buffer kept by the thread.
        for list in [&ev.actors, &ev.targets] {
            joined.clear();
            for (i, name) in list.iter().enumerate() {
                if i > 0 {
                    joined.push(';');
                }
                joined.push_str(name);
            }
            row.text(joined);
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

    fn side_work(&self) -> Option<Arc<std::sync::atomic::AtomicU64>> {
        self.incidents.as_ref().map(Spill::sorting)
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
        for (table, (bytes, rows)) in self.tables.iter_mut().zip(encoded.tables) {
            table.take(bytes, rows)?;
        }
        let spill = self.incidents.as_mut().expect("open until finish");
        spill.add_encoded(&encoded.kept)
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<(String, u64)>> {
        let spill = self.incidents.take().expect("finished once");
        let table = &mut self.tables[INCIDENTS];
        spill.finish(
            |cells, out| {
                // As `record` writes the neutralised cells, without copies of them; the
                // counts and ACLED's names without the checks.
                let mut row = Cells::new(out);
                if cells.len() == incidents::PLAIN.len() {
                    for (cell, &plain) in cells.iter().zip(&incidents::PLAIN) {
                        if plain {
                            row.verbatim(cell);
                        } else {
                            row.text(cell);
                        }
                    }
                } else {
                    for cell in cells {
                        row.text(cell);
                    }
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
            t.flush()?;
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

    /// A writer that takes at most `step` bytes a call, and is interrupted every third.
    struct Trickle {
        written: Vec<u8>,
        step: usize,
        calls: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.write_vectored(&[std::io::IoSlice::new(buf)])
        }

        fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls % 3 == 0 {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let before = self.written.len();
            for b in bufs {
                let room = self.step - (self.written.len() - before);
                self.written.extend_from_slice(&b[..b.len().min(room)]);
            }
            Ok(self.written.len() - before)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn buffers_are_written_whole_and_in_order_however_the_writes_are_cut() {
        let buffers: Vec<Vec<u8>> = [0, 5, 0, 0, 1, 17, 3, 0, 64, 2]
            .iter()
            .enumerate()
            .map(|(i, &len)| (0..len).map(|j| (i * 31 + j) as u8).collect())
            .collect();
        let want = buffers.concat();
        for step in [1, 2, 3, 5, 16, 100, 1000] {
            let mut out = Trickle {
                written: Vec::new(),
                step,
                calls: 0,
            };
            write_all_vectored(&mut out, &buffers).unwrap();
            assert_eq!(out.written, want, "{step}");
        }
        let mut none = Trickle {
            written: Vec::new(),
            step: 0,
            calls: 0,
        };
        let e = write_all_vectored(&mut none, &buffers).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::WriteZero);
        write_all_vectored(&mut none, &[vec![], vec![]]).unwrap();
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
    fn known_cells_are_written_as_record_writes_them() {
        use crate::facts::{Category, DateMod, Qualifier};
        let mut words: Vec<&'static str> = vec!["", "input", "text"];
        words.extend(
            [
                EntityType::Person,
                EntityType::Org,
                EntityType::Place,
                EntityType::Norp,
            ]
            .map(EntityType::as_str),
        );
        words.extend(
            [
                Qualifier::Exact,
                Qualifier::AtLeast,
                Qualifier::MoreThan,
                Qualifier::About,
                Qualifier::UpTo,
                Qualifier::LessThan,
            ]
            .map(Qualifier::as_str),
        );
        words.extend(
            [
                Category::Killed,
                Category::Injured,
                Category::Captured,
                Category::Troops,
                Category::Money,
                Category::Other,
            ]
            .map(Category::as_str),
        );
        words.extend(
            [
                DateMod::Start,
                DateMod::Mid,
                DateMod::End,
                DateMod::Approx,
                DateMod::Before,
                DateMod::After,
            ]
            .map(DateMod::as_str),
        );
        for word in words {
            let mut want = Vec::new();
            record(&mut want, &["x", word, "y"]);
            let mut got = Vec::new();
            Cells::new(&mut got).plain("x").known(word).plain("y").end();
            assert_eq!(got, want, "{word:?}");
        }
        // Of every length, copied whole after what was there.
        let long = "abcdefghijklmnopqrstuvwxyz0123456789";
        for len in 0..long.len() {
            let mut out = b"row".to_vec();
            assert!(copy_words::<false>(&mut out, &long.as_bytes()[..len]));
            assert_eq!(out, [&b"row"[..], &long.as_bytes()[..len]].concat());
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
            // At the coordinates of others, elsewhere (events' places are kept by them).
            Geo {
                country: "SY".into(),
                admin1: "Aleppo".into(),
                lat: Some(36.34),
                lon: Some(43.13),
            },
            Geo {
                country: "IQ".into(),
                ..Geo::default()
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
        // Twice a document: each mention twice in it, the second time from its list.
        for round in 0..2 {
            places.document();
            for e in mentions.iter().chain(&mentions) {
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
                assert_eq!(places.event(geo), &want[..], "{geo:?}");
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
        assert_eq!(places.index.len(), mentions.len());
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
            let want = format!("{},{}", opt_number(lat), opt_number(lon));
            let mut got = Vec::new();
            let mut row = Cells::new(&mut got);
            coords.cell(&mut row, lat);
            coords.cell(&mut row, lon);
            assert_eq!(String::from_utf8(got).unwrap(), want, "{lat:?} {lon:?}");
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
                    if !want {
                        // Copied whole after what was there, whatever the length.
                        let mut out = b"row".to_vec();
                        assert!(copy_unquoted(&mut out, &cell));
                        assert_eq!(out, [&b"row"[..], &cell].concat(), "{len}");
                    }
                }
            }
        }
        assert!(!needs_quotes("Ünïcode — “al-Anbar” ".as_bytes()));
    }

    #[test]
    fn number_cells_are_the_numbers() {
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
            -999999999999999.0,
            99999999.0,
            100000000.0,
            -100000000.0,
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
            let mut got = b"x".to_vec();
            number_into(&mut got, x);
            assert_eq!(String::from_utf8(got).unwrap(), format!("x{want}"), "{x}");
        }
    }

    #[test]
    fn fractions_are_written_as_display_writes_them() {
        // Random bits in and around ryu's range (every exponent), values with few decimals
        // (coordinates, shares), halves and the range's edges.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut values = vec![
            1e-5,
            -1e-5,
            0.99999e-5,
            1e15 - 0.5,
            999999999999999.9,
            0.1,
            0.3,
            // A tie: exactly ...511.625, written ...511.63 by `{}`.
            181_373_274_450_511.0 + 0.625,
        ];
        for _ in 0..1_000_000 {
            let bits = next();
            let exponent = 1023 - 20 + (bits >> 52) % 72;
            values.push(f64::from_bits(
                bits & ((1 << 63) | ((1 << 52) - 1)) | exponent << 52,
            ));
            let decimals = 10f64.powi((next() % 7) as i32);
            values.push((next() % 400_000_000) as f64 / decimals - 180.0);
            values.push((next() % 1_000_000) as f64 + 0.5);
            // Short dyadic fractions m / 2^k around the limit on k, where ties are.
            let k = 10 + next() % 30;
            let m = (next() >> (next() % 64)) | 1;
            values.push(m as f64 / (1u64 << k) as f64);
        }
        let mut by_ryu = 0;
        for x in values {
            let mut got = Vec::new();
            number_into(&mut got, x);
            let want = if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{}", x as i64)
            } else {
                format!("{x}")
            };
            assert_eq!(
                String::from_utf8(got).unwrap(),
                want,
                "{x:e} {:x}",
                x.to_bits()
            );
            by_ryu += usize::from(ryu_writes_as_display(x));
        }
        assert!(by_ryu > 1_500_000, "{by_ryu}");
        // Where ties are, `ryu` differs: the limit matters.
        let tie = 181_373_274_450_511.0 + 0.625;
        assert!(!ryu_writes_as_display(tie));
        assert_eq!(ryu::Buffer::new().format_finite(tie), "181373274450511.62");
    }

    #[test]
    fn digits_are_itoa_s() {
        let mut numbers: Vec<u64> = (0..=100_000).collect();
        let mut ten = 1u64;
        while let Some(next) = ten.checked_mul(10) {
            numbers.extend([ten - 1, ten, ten + 1, ten * 7 + 3]);
            ten = next;
        }
        numbers.extend([ten - 1, ten, ten + 1, u64::MAX]);
        numbers.extend((0..100_000_000).step_by(9_973));
        for n in numbers {
            let mut got = b"ab".to_vec();
            digits(&mut got, n);
            assert_eq!(got, format!("ab{n}").into_bytes(), "{n}");
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
