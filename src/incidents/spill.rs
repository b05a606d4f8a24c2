//! The incident merge of a whole run in bounded memory.
//!
//! [`super::merge`] needs every report of the run at once: about 1.7 KB an event, 17 GB for
//! a 10 GB dump. [`Spill`] gives the same incidents while holding at most one sort batch of
//! text, the incidents of one country that can still take a report (at most
//! [`MAX_CANDIDATES`], each with its [`MEMBER_SAMPLE`] compared reports, stripped to the
//! fields the comparison reads) and the reports of the one incident being written.
//!
//! Each report is written as one line to a hidden file in the output folder. At the end the
//! lines are sorted on disk (sorted batches, then a k-way merge of the batch files) three
//! times: by country and, within one, into the merge order of [`super::merge`], where each
//! report is given its incident (no incident crosses a country, so taking the countries one
//! after the other changes nothing); by incident, where each incident's row is made from its reports in input order;
//! and by each incident's first report, the order of incidents.csv. Every line starts with
//! a fixed-width key, so sorting lines sorts records. The files are removed as soon as they
//! are read, and on drop when a run fails.

use std::collections::{BinaryHeap, VecDeque};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{
    better, join_score, Incident, Prepared, Report, MAX_CANDIDATES, MEMBER_SAMPLE, WINDOW_DAYS,
};
use crate::calendar::Ymd;
use crate::error::{Error, Result};
use crate::facts::{Event, Geo, Span};

/// How many bytes of lines are sorted in memory at once: one batch.
const SORT_BATCH: usize = 16 << 20;

/// How many sorted batch files are merged at once; more are merged in rounds.
const FAN_IN: usize = 64;

/// Added to day numbers so that they print as positive numbers of fixed width (year 0 is
/// day -719,528).
const DAY_OFFSET: i64 = 1_000_000_000;

/// One report as a line of JSON. Floats are kept as their bits: JSON text does not round-trip
/// every `f64` exactly, and the output must not change.
#[derive(Serialize, Deserialize)]
struct Record {
    doc: String,
    published: Option<(i32, u32, u32)>,
    event_id: String,
    etype: String,
    date: Option<String>,
    place: String,
    place_id: String,
    place_canonical: String,
    place_kind: String,
    country: String,
    admin1: String,
    lat: Option<u64>,
    lon: Option<u64>,
    actors: Vec<String>,
    targets: Vec<String>,
    killed: Option<u64>,
    injured: Option<u64>,
    captured: Option<u64>,
    start: usize,
    end: usize,
    rule: String,
    background: bool,
}

impl Record {
    fn new(doc_id: &str, published: Option<Ymd>, event: &Event) -> Record {
        // Destructured in full, so that a new field of `Event` cannot be forgotten here.
        let Event {
            event_id,
            etype,
            date,
            place,
            place_id,
            place_canonical,
            place_kind,
            geo,
            actors,
            targets,
            killed,
            injured,
            captured,
            span,
            rule,
            background,
        } = event.clone();
        Record {
            doc: doc_id.to_string(),
            published: published.map(|p| (p.year, p.month, p.day)),
            event_id,
            etype,
            date,
            place,
            place_id,
            place_canonical,
            place_kind,
            country: geo.country,
            admin1: geo.admin1,
            lat: geo.lat.map(f64::to_bits),
            lon: geo.lon.map(f64::to_bits),
            actors,
            targets,
            killed,
            injured,
            captured,
            start: span.start,
            end: span.end,
            rule,
            background,
        }
    }

    fn into_report(self) -> Report {
        Report {
            doc_id: self.doc,
            published: self
                .published
                .map(|(year, month, day)| Ymd { year, month, day }),
            event: Event {
                event_id: self.event_id,
                etype: self.etype,
                date: self.date,
                place: self.place,
                place_id: self.place_id,
                place_canonical: self.place_canonical,
                place_kind: self.place_kind,
                geo: Geo {
                    country: self.country,
                    admin1: self.admin1,
                    lat: self.lat.map(f64::from_bits),
                    lon: self.lon.map(f64::from_bits),
                },
                actors: self.actors,
                targets: self.targets,
                killed: self.killed,
                injured: self.injured,
                captured: self.captured,
                span: Span {
                    start: self.start,
                    end: self.end,
                },
                rule: self.rule,
                background: self.background,
            },
        }
    }
}

/// A temporary file, removed when dropped.
struct Temp(PathBuf);

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Names and creates the hidden temporary files of one spill.
struct Files {
    dir: PathBuf,
    stem: String,
    count: usize,
}

impl Files {
    fn create(&mut self) -> Result<(Temp, BufWriter<File>)> {
        self.count += 1;
        let path = self
            .dir
            .join(format!(".{}.{}.spill", self.stem, self.count));
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        Ok((Temp(path), BufWriter::with_capacity(1 << 16, file)))
    }
}

fn write_line(w: &mut BufWriter<File>, temp: &Temp, line: &str) -> Result<()> {
    w.write_all(line.as_bytes())
        .and_then(|_| w.write_all(b"\n"))
        .map_err(|e| Error::io(&temp.0, e))
}

fn close(mut w: BufWriter<File>, temp: &Temp) -> Result<()> {
    w.flush().map_err(|e| Error::io(&temp.0, e))
}

fn corrupt(temp: &Temp, what: &str) -> Error {
    Error::io(
        &temp.0,
        io::Error::new(io::ErrorKind::InvalidData, format!("spill file: {what}")),
    )
}

/// The lines of one file, in order.
struct Lines {
    temp: Temp,
    reader: BufReader<File>,
}

impl Lines {
    fn open(temp: Temp) -> Result<Lines> {
        let file = File::open(&temp.0).map_err(|e| Error::io(&temp.0, e))?;
        Ok(Lines {
            temp,
            reader: BufReader::with_capacity(1 << 16, file),
        })
    }

    fn next_line(&mut self) -> Result<Option<String>> {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .map_err(|e| Error::io(&self.temp.0, e))?;
        if n == 0 {
            return Ok(None);
        }
        if line.ends_with('\n') {
            line.pop();
        }
        Ok(Some(line))
    }
}

/// The lines of several sorted files, merged into one sorted sequence; or, when they all
/// fitted in one batch, that batch, sorted in memory.
struct Merged {
    sources: Vec<Lines>,
    heap: BinaryHeap<std::cmp::Reverse<(String, usize)>>,
    /// The sorted batch, when nothing was written.
    memory: std::vec::IntoIter<String>,
    /// The file the lines were read from, for messages.
    path: PathBuf,
}

impl Merged {
    fn new(temps: Vec<Temp>, path: PathBuf) -> Result<Merged> {
        let mut sources = Vec::new();
        let mut heap = BinaryHeap::new();
        for temp in temps {
            let mut lines = Lines::open(temp)?;
            if let Some(line) = lines.next_line()? {
                heap.push(std::cmp::Reverse((line, sources.len())));
            }
            sources.push(lines);
        }
        Ok(Merged {
            sources,
            heap,
            memory: Vec::new().into_iter(),
            path,
        })
    }

    fn in_memory(lines: Vec<String>, path: PathBuf) -> Merged {
        Merged {
            sources: Vec::new(),
            heap: BinaryHeap::new(),
            memory: lines.into_iter(),
            path,
        }
    }

    fn next_line(&mut self) -> Result<Option<String>> {
        if let Some(line) = self.memory.next() {
            return Ok(Some(line));
        }
        let Some(std::cmp::Reverse((line, k))) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(next) = self.sources[k].next_line()? {
            self.heap.push(std::cmp::Reverse((next, k)));
        }
        Ok(Some(line))
    }
}

/// Sorts the lines of a file on disk: sorted batches of `batch` bytes, merged [`FAN_IN`]
/// at a time until one merge is left. The input is removed once read. Lines that fit in
/// one batch are sorted in memory and not written again: the usual case, where writing
/// and reading them back cost more than the sort.
fn sort_lines(input: Temp, files: &mut Files, batch: usize) -> Result<Merged> {
    let path = input.0.clone();
    let mut lines = Lines::open(input)?;
    let mut runs = Vec::new();
    let mut buffer: Vec<String> = Vec::new();
    let mut bytes = 0;
    let flush = |buffer: &mut Vec<String>, files: &mut Files| -> Result<Option<Temp>> {
        if buffer.is_empty() {
            return Ok(None);
        }
        buffer.sort_unstable();
        let (temp, mut w) = files.create()?;
        for line in buffer.drain(..) {
            write_line(&mut w, &temp, &line)?;
        }
        close(w, &temp)?;
        Ok(Some(temp))
    };
    while let Some(line) = lines.next_line()? {
        bytes += line.len() + std::mem::size_of::<String>();
        buffer.push(line);
        if bytes >= batch {
            runs.extend(flush(&mut buffer, files)?);
            bytes = 0;
        }
    }
    if runs.is_empty() {
        drop(lines);
        buffer.sort_unstable();
        return Ok(Merged::in_memory(buffer, path));
    }
    runs.extend(flush(&mut buffer, files)?);
    drop(lines);
    while runs.len() > FAN_IN {
        let group: Vec<Temp> = runs.drain(..FAN_IN).collect();
        let mut merged = Merged::new(group, path.clone())?;
        let (temp, mut w) = files.create()?;
        while let Some(line) = merged.next_line()? {
            write_line(&mut w, &temp, &line)?;
        }
        close(w, &temp)?;
        runs.push(temp);
    }
    Merged::new(runs, path)
}

/// An incident that can still take reports, with the reports a newcomer is compared with:
/// its first and its latest `MEMBER_SAMPLE / 2`.
struct Open {
    id: usize,
    first_day: Option<i64>,
    head: Vec<Prepared>,
    tail: VecDeque<Prepared>,
}

impl Open {
    fn push(&mut self, p: Prepared) {
        if self.head.len() < MEMBER_SAMPLE / 2 {
            self.head.push(p);
        } else {
            self.tail.push_back(p);
            if self.tail.len() > MEMBER_SAMPLE / 2 {
                self.tail.pop_front();
            }
        }
    }
}

/// The candidate search of [`super::merge`] for one country at a time (reports come sorted
/// by country, and no incident crosses one), keeping only the incidents it can still look
/// at: the latest [`MAX_CANDIDATES`].
#[derive(Default)]
struct Clusters {
    country: String,
    open: VecDeque<Open>,
    made: usize,
}

impl Clusters {
    /// The incident (numbered in the order they were made) a report joins.
    fn place(&mut self, p: Prepared) -> usize {
        if p.report.event.geo.country != self.country {
            self.country.clone_from(&p.report.event.geo.country);
            self.open.clear();
        }
        let mut best: Option<(u32, usize)> = None;
        if !self.country.is_empty() {
            for cl in self.open.iter().rev().take(MAX_CANDIDATES) {
                if let (Some(d), Some(f)) = (p.day, cl.first_day) {
                    if f < d - 3 * WINDOW_DAYS {
                        break;
                    }
                }
                if let Some(total) = join_score(&p, cl.head.iter().chain(cl.tail.iter())) {
                    if better(best, total, cl.id) {
                        best = Some((total, cl.id));
                    }
                }
            }
        }
        let p = slim(p);
        if let Some((_, c)) = best {
            let cl = (self.open.iter_mut().rev())
                .find(|cl| cl.id == c)
                .expect("a listed candidate");
            cl.push(p);
            return c;
        }
        let id = self.made;
        self.made += 1;
        if !self.country.is_empty() {
            let mut open = Open {
                id,
                first_day: p.day,
                head: Vec::new(),
                tail: VecDeque::new(),
            };
            open.push(p);
            self.open.push_back(open);
            if self.open.len() > MAX_CANDIDATES {
                self.open.pop_front();
            }
        }
        id
    }
}

/// A report with only what [`agreement`] reads.
fn slim(mut p: Prepared) -> Prepared {
    let e = &mut p.report.event;
    e.event_id = String::new();
    e.place = String::new();
    e.actors = Vec::new();
    e.targets = Vec::new();
    e.rule = String::new();
    p
}

/// The key that puts reports in the merge order of [`super::merge`] within each country
/// (the country in hex, so any name sorts safely): the document's own incidents first, then
/// by day, undated last, then in input order.
fn merge_key(p: &Prepared, seq: u64) -> String {
    let country: String = (p.report.event.geo.country.bytes())
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{country}.{}{}{:012}{:020}",
        u8::from(p.report.event.background),
        u8::from(p.day.is_none()),
        p.day.map_or(0, |d| d + DAY_OFFSET),
        seq
    )
}

fn split(line: &str) -> Option<(&str, &str)> {
    line.split_once('\t')
}

fn record(temp: &Temp, json: &str) -> Result<Report> {
    serde_json::from_str::<Record>(json)
        .map(Record::into_report)
        .map_err(|e| corrupt(temp, &e.to_string()))
}

/// The reports of a run, written to disk as they come and merged into incidents at the end.
pub struct Spill {
    files: Files,
    input: Option<(Temp, BufWriter<File>)>,
    seq: u64,
    batch: usize,
}

impl Spill {
    /// Starts a spill in `dir`, under hidden names starting with `.stem.`.
    pub fn create(dir: &Path, stem: &str) -> Result<Spill> {
        Spill::with_batch(dir, stem, SORT_BATCH)
    }

    fn with_batch(dir: &Path, stem: &str, batch: usize) -> Result<Spill> {
        let mut files = Files {
            dir: dir.to_path_buf(),
            stem: stem.to_string(),
            count: 0,
        };
        let input = files.create()?;
        Ok(Spill {
            files,
            input: Some(input),
            seq: 0,
            batch,
        })
    }

    /// Adds one document's account of an incident.
    pub fn add(&mut self, doc_id: &str, published: Option<Ymd>, event: &Event) -> Result<()> {
        let (temp, w) = self.input.as_mut().expect("open until finish");
        let record = Record::new(doc_id, published, event);
        let json = serde_json::to_string(&record).map_err(|e| corrupt(temp, &e.to_string()))?;
        let p = Prepared::new(Report {
            doc_id: String::new(),
            published,
            event: Event {
                date: event.date.clone(),
                background: event.background,
                geo: Geo {
                    country: event.geo.country.clone(),
                    ..Default::default()
                },
                ..Default::default()
            },
        });
        let key = merge_key(&p, self.seq);
        self.seq += 1;
        write_line(w, temp, &format!("{key}\t{json}"))
    }

    /// Merges the reports into incidents and passes each incident's cells to `row`, in the
    /// order of [`super::merge`]: by each incident's first report.
    pub fn finish(mut self, mut row: impl FnMut(Vec<String>) -> Result<()>) -> Result<()> {
        let (input, w) = self.input.take().expect("finished once");
        close(w, &input)?;
        let batch = self.batch;
        let files = &mut self.files;

        // 1. In merge order, each report gets its incident.
        let mut sorted = sort_lines(input, files, batch)?;
        let (assigned, mut w) = files.create()?;
        let mut clusters = Clusters::default();
        while let Some(line) = sorted.next_line()? {
            let bad = || corrupt(&assigned, "a line without its key");
            let (key, json) = split(&line).ok_or_else(bad)?;
            let seq = key.get(key.len().saturating_sub(20)..).ok_or_else(bad)?;
            let c = clusters.place(Prepared::new(record(&assigned, json)?));
            write_line(&mut w, &assigned, &format!("{c:020}{seq}\t{json}"))?;
        }
        close(w, &assigned)?;
        drop(sorted);
        drop(clusters);

        // 2. By incident, reports in input order: one row per incident, keyed by its first
        // report.
        let mut sorted = sort_lines(assigned, files, batch)?;
        let (rows, mut w) = files.create()?;
        // The rows wait in memory, as long as they fit in one sort batch: then they are
        // sorted there, and neither written as JSON nor read back.
        let mut pending = Pending {
            rows: Vec::new(),
            bytes: 0,
            written: false,
        };
        let mut current: Option<(String, String, Vec<Prepared>)> = None;
        let emit = |group: (String, String, Vec<Prepared>),
                    pending: &mut Pending,
                    w: &mut BufWriter<File>| {
            let (_, first, members) = group;
            let dates = members.iter().map(|p| p.date.clone()).collect();
            let incident = Incident {
                reports: members.into_iter().map(|p| p.report).collect(),
                dates,
            };
            let cells = incident.cells();
            pending.bytes += first.len()
                + cells
                    .iter()
                    .map(|c| c.len() + std::mem::size_of::<String>())
                    .sum::<usize>();
            pending.rows.push((first, cells));
            if pending.written || pending.bytes >= batch {
                pending.written = true;
                for (first, cells) in pending.rows.drain(..) {
                    let cells = serde_json::to_string(&cells)
                        .map_err(|e| corrupt(&rows, &e.to_string()))?;
                    write_line(w, &rows, &format!("{first}\t{cells}"))?;
                }
            }
            Ok::<(), Error>(())
        };
        while let Some(line) = sorted.next_line()? {
            let bad = || corrupt(&rows, "a line without its key");
            let (key, json) = split(&line).ok_or_else(bad)?;
            let (c, seq) = (
                key.get(..20).ok_or_else(bad)?,
                key.get(20..).ok_or_else(bad)?,
            );
            let p = Prepared::new(record(&rows, json)?);
            match &mut current {
                Some((cur, _, members)) if cur == c => members.push(p),
                _ => {
                    if let Some(group) = current.take() {
                        emit(group, &mut pending, &mut w)?;
                    }
                    current = Some((c.to_string(), seq.to_string(), vec![p]));
                }
            }
        }
        if let Some(group) = current.take() {
            emit(group, &mut pending, &mut w)?;
        }
        close(w, &rows)?;
        drop(sorted);

        // 3. Incidents in the order of their first report (the keys are distinct: the
        // sequence numbers of first reports).
        if !pending.written {
            drop(rows);
            pending.rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            for (_, cells) in pending.rows {
                row(cells)?;
            }
            return Ok(());
        }
        let mut sorted = sort_lines(rows, files, batch)?;
        while let Some(line) = sorted.next_line()? {
            let bad = |what: &str| {
                Error::io(
                    &sorted.path,
                    io::Error::new(io::ErrorKind::InvalidData, format!("spill file: {what}")),
                )
            };
            let Some((_, json)) = split(&line) else {
                return Err(bad("a line without its key"));
            };
            let cells: Vec<String> = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
            row(cells)?;
        }
        Ok(())
    }
}

/// The rows of incidents not yet written: (key of the first report, cells).
struct Pending {
    rows: Vec<(String, Vec<String>)>,
    bytes: usize,
    /// Whether rows went to the file: then all of them do.
    written: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Geo;

    /// A small deterministic generator (xorshift), so the test needs no crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Reports of a few incidents retold by many documents, with the variations the merge
    /// must weigh: missing or partial dates, years to resolve, places at several levels,
    /// other countries, tolls that differ, background mentions.
    fn reports(seed: u64, n: usize) -> Vec<Report> {
        let mut rng = Rng(seed);
        let places = [
            ("L:anbar", "Anbar", "region", "Anbar"),
            ("L:ramadi", "Ramadi", "city", "Anbar"),
            ("L:falluja", "Fallujah", "city", "Anbar"),
            ("L:diyala", "Diyala", "region", "Diyala"),
            ("L:iq", "Iraq", "country", ""),
            ("", "", "", ""),
        ];
        let types = ["raid", "airstrike", "attack", "bombing", "clash", "arrest"];
        let mut out = Vec::new();
        let mut doc = 0;
        while out.len() < n {
            doc += 1;
            let events = 1 + rng.next(3);
            let published = Ymd::new(2024, 1 + rng.next(12) as u32, 1 + rng.next(28) as u32)
                .filter(|_| rng.next(5) > 0);
            for k in 0..events {
                let (id, name, kind, admin1) = places[rng.next(places.len() as u64) as usize];
                let month = 1 + rng.next(12);
                let day = 1 + rng.next(28);
                let date = match rng.next(6) {
                    0 => None,
                    1 => Some(format!("XXXX-{month:02}-{day:02}")),
                    2 => Some(format!("2024-{month:02}")),
                    _ => Some(format!("2024-{month:02}-{day:02}")),
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
                            lat: (rng.next(2) == 0).then_some(33.1 + rng.next(100) as f64 / 7.0),
                            lon: Some(43.3),
                        },
                        actors: vec!["the army".into()],
                        targets: Vec::new(),
                        killed: toll(&mut rng),
                        injured: toll(&mut rng),
                        captured: None,
                        span: crate::facts::Span {
                            start: k as usize * 10,
                            end: k as usize * 10 + 5,
                        },
                        rule: "test".into(),
                        background: k > 0,
                    },
                });
            }
        }
        out
    }

    fn spilled(reports: &[Report], batch: usize) -> Vec<Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::with_batch(dir.path(), "incidents", batch).unwrap();
        for r in reports {
            spill.add(&r.doc_id, r.published, &r.event).unwrap();
        }
        let mut rows = Vec::new();
        spill
            .finish(|cells| {
                rows.push(cells);
                Ok(())
            })
            .unwrap();
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
        rows
    }

    #[test]
    fn the_spill_gives_the_incidents_of_the_merge_in_memory() {
        for (seed, n, batch) in [(1, 300, 2_000), (7, 500, 10_000), (42, 400, 1 << 20)] {
            let reports = reports(seed, n);
            let want: Vec<Vec<String>> = super::super::merge(reports.clone())
                .iter()
                .map(Incident::cells)
                .collect();
            let got = spilled(&reports, batch);
            assert!(want.len() < reports.len(), "seed {seed}: nothing merged");
            assert_eq!(got, want, "seed {seed}");
        }
    }

    #[test]
    fn an_empty_run_has_no_incidents() {
        assert!(spilled(&[], 100).is_empty());
    }
}
