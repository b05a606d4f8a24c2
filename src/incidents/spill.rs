//! The incident merge of a whole run in bounded memory.
//!
//! [`super::merge`] needs every report of the run at once: about 1.7 KB an event, 17 GB for
//! a 10 GB dump. [`Spill`] gives the same incidents while holding at most two sort batches
//! of records (one filling, one being sorted) per pass, the incidents of one country that
//! can still take a report (at most [`MAX_CANDIDATES`], each with its [`MEMBER_SAMPLE`]
//! compared reports, stripped to the fields the comparison reads, or their reports whole
//! while they are held, up to half a batch) and the reports of the incidents being written
//! (a [`CHUNK`] of reports, and one incident however large), for each of the threads that
//! finish it.
//!
//! Each report is one record: a sort key and a body. Records are split by country into
//! [`PARTS`] parts; no incident crosses a country, so each part is merged on its own, on the
//! pool beside the others. At the end each part's records are sorted by country and,
//! within one, into the merge order of [`super::merge`], where each report is given its
//! incident (named by the sequence number of the report that made it, unique across
//! parts). The reports of an incident are held until it can take no more (see [`Placed`]),
//! and its row is made from them then; only the reports of incidents too large to hold
//! are sorted a second time, by incident, for their rows. The rows of all parts are then
//! merged by each incident's first report, the order of incidents.csv, on a thread that
//! hands them to the writer in large buffers. Keys are distinct, so sorting on the key
//! alone gives one order.
//!
//! Records stay in memory while they fit in one sort batch (the usual case for small runs:
//! nothing touches the disk); beyond that each full batch is sorted and written, a file per
//! part, by a thread of its own while the next one fills (so the input's batches are sorted
//! during the run, not after it), and the files are merged k-way. The files are removed as
//! soon as they are read, and on drop when a run fails.
//!
//! The parts are finished on the rayon pool, so that with two threads two countries are
//! placed at once (placing was serial, most of the finishing at 1 GB); within a part,
//! decoding the reports before each is placed and making the incidents' rows also run on
//! the pool in chunks. Records are encoded by [`Spill::encode`] on the run's worker
//! threads; the driver thread only numbers them.
//!
//! Bodies are a compact binary encoding ([`Enc`], [`Dec`]), not JSON: finishing was half
//! JSON (each report serialised once and parsed twice), and the binary form keeps every
//! `f64` exact by its bits.

use std::collections::{BinaryHeap, VecDeque};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use rayon::prelude::*;

#[cfg(test)]
use super::Report;
use super::{
    better, cells_of, join_score, Field, Index, Prepared, Traits, FIELDS, MAX_CANDIDATES,
    MEMBER_SAMPLE,
};
use crate::calendar::Ymd;
use crate::error::{Error, Result};
use crate::facts::{Event, Geo, Span};
use rustc_hash::FxHashMap;

/// How many bytes of records are sorted in memory at once: one batch.
const SORT_BATCH: usize = 16 << 20;

/// How many reports the finishing decodes on the pool at once: enough that the pool's
/// threads share the work at little cost, few enough to hold in memory.
const CHUNK: usize = 4096;

/// How many sorted batch files are merged at once; more are merged in rounds.
const FAN_IN: usize = 64;

/// Writes values in the spill's binary form: integers little-endian, strings and lists
/// length-prefixed (u32), options and booleans a tag byte, floats as their bits.
struct Enc<'a>(&'a mut Vec<u8>);

impl Enc<'_> {
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("a spill field under 4 GB"));
    }

    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }

    fn strs<S: AsRef<str>>(&mut self, v: &[S]) {
        self.len(v.len());
        for s in v {
            self.str(s.as_ref());
        }
    }

    fn bool(&mut self, b: bool) {
        self.0.push(u8::from(b));
    }

    fn opt_u64(&mut self, v: Option<u64>) {
        self.bool(v.is_some());
        if let Some(v) = v {
            self.u64(v);
        }
    }

    fn opt_str(&mut self, v: Option<&str>) {
        self.bool(v.is_some());
        if let Some(v) = v {
            self.str(v);
        }
    }
}

/// Reads what [`Enc`] wrote; `None` when the bytes end early or are not UTF-8.
struct Dec<'a>(&'a [u8]);

impl Dec<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    #[cfg(test)]
    fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok().map(str::to_string)
    }

    #[cfg(test)]
    fn strs(&mut self) -> Option<Vec<String>> {
        let n = self.u32()? as usize;
        // Not `with_capacity(n)`: a corrupt count must not allocate gigabytes.
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(self.str()?);
        }
        Some(v)
    }

    fn bool(&mut self) -> Option<bool> {
        match self.take(1)?[0] {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn opt_u64(&mut self) -> Option<Option<u64>> {
        Some(if self.bool()? {
            Some(self.u64()?)
        } else {
            None
        })
    }

    #[cfg(test)]
    fn opt_str(&mut self) -> Option<Option<String>> {
        Some(if self.bool()? {
            Some(self.str()?)
        } else {
            None
        })
    }

    /// Whether every byte was read.
    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// Appends one report to `out`.
pub(super) fn encode_report(
    out: &mut Vec<u8>,
    doc_id: &str,
    published: Option<Ymd>,
    event: &Event,
) {
    // Destructured in full, so that a new field of `Event` cannot be forgotten here.
    let Event {
        event_id,
        etype,
        date,
        place,
        place_id,
        place_canonical,
        place_kind,
        geo:
            Geo {
                country,
                admin1,
                lat,
                lon,
            },
        actors,
        targets,
        killed,
        injured,
        captured,
        span: Span { start, end },
        rule,
        background,
    } = event;
    let mut e = Enc(out);
    e.str(doc_id);
    e.bool(published.is_some());
    if let Some(p) = published {
        e.u32(p.year as u32);
        e.u32(p.month);
        e.u32(p.day);
    }
    e.str(event_id);
    e.str(etype);
    e.opt_str(date.as_deref());
    e.str(place);
    e.str(place_id);
    e.str(place_canonical);
    e.str(place_kind);
    e.str(country);
    e.str(admin1);
    e.opt_u64(lat.map(f64::to_bits));
    e.opt_u64(lon.map(f64::to_bits));
    e.strs(actors);
    e.strs(targets);
    e.opt_u64(*killed);
    e.opt_u64(*injured);
    e.opt_u64(*captured);
    e.u64(*start as u64);
    e.u64(*end as u64);
    e.str(rule);
    e.bool(*background);
}

/// Reads what [`encode_report`] wrote, whole (the tests' reference for [`Prepared::read`]).
#[cfg(test)]
fn decode_report(bytes: &[u8]) -> Option<Report> {
    let mut d = Dec(bytes);
    let doc_id = d.str()?;
    let published = if d.bool()? {
        let (year, month, day) = (d.u32()? as i32, d.u32()?, d.u32()?);
        Some(Ymd { year, month, day })
    } else {
        None
    };
    let event = Event {
        event_id: d.str()?,
        etype: d.str()?,
        date: d.opt_str()?,
        place: d.str()?,
        place_id: d.str()?,
        place_canonical: d.str()?,
        place_kind: d.str()?,
        geo: Geo {
            country: d.str()?,
            admin1: d.str()?,
            lat: d.opt_u64()?.map(f64::from_bits),
            lon: d.opt_u64()?.map(f64::from_bits),
        },
        actors: d.strs()?,
        targets: d.strs()?,
        killed: d.opt_u64()?,
        injured: d.opt_u64()?,
        captured: d.opt_u64()?,
        span: Span {
            start: usize::try_from(d.u64()?).ok()?,
            end: usize::try_from(d.u64()?).ok()?,
        },
        rule: d.str()?,
        background: d.bool()?,
    };
    d.done().then_some(Report {
        doc_id,
        published,
        event,
    })
}

impl Prepared {
    /// Reads a record written by [`encode_report`] in place: the bytes are kept, and each
    /// string the merge reads is found and checked to be UTF-8 once (most are ASCII, which
    /// is checked a word at a time); `None` when the bytes end early, have bytes left
    /// over, or a field is not what was written.
    pub(super) fn read(body: Vec<u8>) -> Option<Prepared> {
        let mut at = [(0u32, 0u32); FIELDS];
        let (published, has, numbers, background) = {
            let total = body.len();
            let mut d = Dec(&body);
            // The next string's bytes, as a range of `body`.
            let range = |d: &mut Dec<'_>| -> Option<(u32, u32)> {
                let n = d.u32()? as usize;
                let from = total - d.0.len();
                let bytes = d.take(n)?;
                if !bytes.is_ascii() {
                    std::str::from_utf8(bytes).ok()?;
                }
                Some((from as u32, (from + n) as u32))
            };
            // A list's first string (`None` for an empty list), the others skipped.
            let first = |d: &mut Dec<'_>| -> Option<Option<(u32, u32)>> {
                let n = d.u32()?;
                let mut first = None;
                for _ in 0..n {
                    let r = range(d)?;
                    first.get_or_insert(r);
                }
                Some(first)
            };
            at[Field::DocId as usize] = range(&mut d)?;
            let published = if d.bool()? {
                let (year, month, day) = (d.u32()? as i32, d.u32()?, d.u32()?);
                Some(Ymd { year, month, day })
            } else {
                None
            };
            at[Field::EventId as usize] = range(&mut d)?;
            at[Field::Etype as usize] = range(&mut d)?;
            let has_date = d.bool()?;
            if has_date {
                at[Field::Date as usize] = range(&mut d)?;
            }
            for field in [
                Field::Place,
                Field::PlaceId,
                Field::PlaceCanonical,
                Field::PlaceKind,
                Field::Country,
                Field::Admin1,
            ] {
                at[field as usize] = range(&mut d)?;
            }
            let (lat, lon) = (d.opt_u64()?, d.opt_u64()?);
            let actor = first(&mut d)?;
            let target = first(&mut d)?;
            let counts = (d.opt_u64()?, d.opt_u64()?, d.opt_u64()?);
            let start = d.u64()?;
            usize::try_from(start).ok()?;
            usize::try_from(d.u64()?).ok()?;
            range(&mut d)?;
            let background = d.bool()?;
            if !d.done() {
                return None;
            }
            if let Some(r) = actor {
                at[Field::Actor1 as usize] = r;
            }
            if let Some(r) = target {
                at[Field::Target1 as usize] = r;
            }
            (
                published,
                (has_date, actor.is_some(), target.is_some()),
                (lat, lon, counts, start),
                background,
            )
        };
        let (has_date, has_actor, has_target) = has;
        let (lat, lon, (killed, injured, captured), start) = numbers;
        let mut p = Prepared {
            body,
            at,
            published,
            has_date,
            has_actor,
            has_target,
            lat: lat.map(f64::from_bits),
            lon: lon.map(f64::from_bits),
            killed,
            injured,
            captured,
            start,
            background,
            resolved: None,
            day: None,
            traits: Traits::default(),
        };
        let (resolved, day) = Prepared::when(has_date.then(|| p.get(Field::Date)), published);
        p.resolved = resolved;
        p.day = day;
        p.traits = Traits::of(&p);
        Some(p)
    }
}

/// What a record sorts on: three numbers, compared in order (see [`Rec`]).
type Key = [u64; 3];

/// One record: the key it sorts on, and its body.
///
/// The key is three numbers held in the record itself: for a report, its country's number
/// (see [`Spill::add_encoded`]), its place in the merge order within the country
/// ([`merge_order`]) and its sequence number; for the second sort, its incident's label
/// and its sequence number; for a row, the sequence number of its incident's first report.
///
/// Why: the keys were text of about 40 bytes at the front of the body (the country in hex,
/// the day and the sequence number in decimal), compared with `memcmp` through a pointer
/// to each record; a sort of a batch then read two far records a comparison. Here a
/// comparison reads three words that lie in the array being sorted.
struct Rec {
    key: Key,
    body: Vec<u8>,
}

impl Rec {
    fn body(&self) -> &[u8] {
        &self.body
    }

    /// What the record counts against a sort batch.
    fn size(&self) -> usize {
        self.body.len() + std::mem::size_of::<Rec>()
    }
}

/// Sorts a batch on its keys, on every core (keys are distinct, so the order is the same
/// as a serial sort's).
fn sort_batch(batch: &mut [Rec]) {
    batch.par_sort_unstable_by_key(|r| r.key);
}

/// A temporary file, removed when dropped.
struct Temp(PathBuf);

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Names and creates the hidden temporary files of one spill; shared by the threads that
/// finish its parts.
struct Files {
    dir: PathBuf,
    stem: String,
    count: AtomicUsize,
}

impl Files {
    fn new(dir: &Path, stem: &str) -> Files {
        Files {
            dir: dir.to_path_buf(),
            stem: stem.to_string(),
            count: AtomicUsize::new(0),
        }
    }

    fn create(&self) -> Result<(Temp, BufWriter<File>)> {
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        let path = self.dir.join(format!(".{}.{n}.spill", self.stem));
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        Ok((Temp(path), BufWriter::with_capacity(1 << 16, file)))
    }
}

/// Writes one record: its key (three `u64`), its body's length (`u32`), its body.
fn write_rec(w: &mut BufWriter<File>, temp: &Temp, rec: &Rec) -> Result<()> {
    let mut head = [0u8; HEAD];
    for (i, k) in rec.key.iter().enumerate() {
        head[8 * i..8 * i + 8].copy_from_slice(&k.to_le_bytes());
    }
    let n = u32::try_from(rec.body.len()).expect("a spill record under 4 GB");
    head[24..].copy_from_slice(&n.to_le_bytes());
    w.write_all(&head)
        .and_then(|_| w.write_all(&rec.body))
        .map_err(|e| Error::io(&temp.0, e))
}

/// The bytes in front of a record's body in a file: its key and the body's length.
const HEAD: usize = 28;

fn close(mut w: BufWriter<File>, temp: &Temp) -> Result<()> {
    w.flush().map_err(|e| Error::io(&temp.0, e))
}

fn corrupt(path: &Path, what: &str) -> Error {
    Error::io(
        path,
        io::Error::new(io::ErrorKind::InvalidData, format!("spill file: {what}")),
    )
}

/// The records of one file, in order.
struct Recs {
    temp: Temp,
    reader: BufReader<File>,
}

impl Recs {
    fn open(temp: Temp) -> Result<Recs> {
        let file = File::open(&temp.0).map_err(|e| Error::io(&temp.0, e))?;
        Ok(Recs {
            temp,
            reader: BufReader::with_capacity(1 << 16, file),
        })
    }

    fn next_rec(&mut self) -> Result<Option<Rec>> {
        let mut head = [0u8; HEAD];
        // A clean end is an end before the first byte of a record.
        let mut got = 0;
        while got < head.len() {
            let n = (self.reader.read(&mut head[got..])).map_err(|e| Error::io(&self.temp.0, e))?;
            if n == 0 {
                break;
            }
            got += n;
        }
        if got == 0 {
            return Ok(None);
        }
        if got < head.len() {
            return Err(corrupt(&self.temp.0, "a record cut short"));
        }
        let word = |at: usize| u64::from_le_bytes(head[at..at + 8].try_into().expect("8 bytes"));
        let key = [word(0), word(8), word(16)];
        let n = u32::from_le_bytes(head[24..].try_into().expect("4 bytes")) as usize;
        // Read into spare capacity, not a zeroed buffer; and not `with_capacity(n)` for any
        // `n`: a corrupt length must not allocate gigabytes.
        let mut body = Vec::with_capacity(n.min(1 << 20));
        match (&mut self.reader).take(n as u64).read_to_end(&mut body) {
            Ok(len) if len == n => Ok(Some(Rec { key, body })),
            Ok(_) => Err(corrupt(&self.temp.0, "a record cut short")),
            Err(e) => Err(Error::io(&self.temp.0, e)),
        }
    }
}

/// A sorted run of records: a batch that stayed in memory, or a file.
enum Run {
    Memory(Vec<Rec>),
    File(Temp),
}

/// Records being collected into `parts` (each sorted and merged on its own at the end): in
/// memory while they fit in one batch together; beyond that every part's records are
/// sorted and written to a file of their own by a [`Sorter`] thread, while the next batch
/// fills, so that at the end only the merge of those files is left.
struct Collect {
    parts: Vec<Vec<Rec>>,
    bytes: usize,
    batch: usize,
    sorter: Option<Sorter>,
    /// Nanoseconds its [`Sorter`] spends sorting and writing batches, if counted.
    busy: Option<Arc<AtomicU64>>,
}

impl Collect {
    fn new(parts: usize, batch: usize) -> Collect {
        Collect {
            parts: (0..parts).map(|_| Vec::new()).collect(),
            bytes: 0,
            batch,
            sorter: None,
            busy: None,
        }
    }

    fn push(&mut self, part: usize, rec: Rec, files: &Files) -> Result<()> {
        self.bytes += rec.size();
        self.parts[part].push(rec);
        if self.bytes >= self.batch {
            self.bytes = 0;
            let job = self.take(files)?;
            let busy = &self.busy;
            (self
                .sorter
                .get_or_insert_with(|| Sorter::start(busy.clone())))
            .sort(job)?;
        }
        Ok(())
    }

    /// The records collected since the last batch, each non-empty part with a new file.
    fn take(&mut self, files: &Files) -> Result<Job> {
        let mut job = Vec::new();
        for (part, recs) in self.parts.iter_mut().enumerate() {
            if !recs.is_empty() {
                job.push((part, std::mem::take(recs), files.create()?));
            }
        }
        Ok(job)
    }

    /// Each part's sorted runs: the sorted batch files, if any, and the records of the
    /// last batch, sorted in memory.
    ///
    /// The last batch is not written: sorting it on the pool while the [`Sorter`] ends
    /// saves writing and reading it back, on the critical path (it is up to a batch).
    fn runs(mut self) -> Result<Vec<Vec<Run>>> {
        let mut runs: Vec<Vec<Run>> = (0..self.parts.len()).map(|_| Vec::new()).collect();
        let mut last = std::mem::take(&mut self.parts);
        let sorter = self.sorter.take();
        let (done, ()) = rayon::join(
            || sorter.map(|mut s| s.finish()).transpose(),
            || last.iter_mut().for_each(|recs| sort_batch(recs)),
        );
        for (part, temp) in done?.into_iter().flatten() {
            runs[part].push(Run::File(temp));
        }
        for (part, recs) in last.into_iter().enumerate() {
            if !recs.is_empty() {
                runs[part].push(Run::Memory(recs));
            }
        }
        Ok(runs)
    }

    /// The records of one part, sorted on their keys.
    fn sort(self, files: &Files) -> Result<Merged> {
        let runs = self.runs()?.into_iter().flatten().collect();
        merged(runs, files)
    }
}

/// The records of sorted runs as one sorted sequence: files merged [`FAN_IN`] at a time
/// into new files until one merge is left. Files are removed once read.
fn merged(mut runs: Vec<Run>, files: &Files) -> Result<Merged> {
    loop {
        let on_disk = runs.iter().filter(|r| matches!(r, Run::File(_))).count();
        if on_disk <= FAN_IN {
            return Merged::new(runs);
        }
        let mut group = Vec::new();
        let mut rest = Vec::new();
        for run in runs {
            match run {
                Run::File(temp) if group.len() < FAN_IN => group.push(Run::File(temp)),
                other => rest.push(other),
            }
        }
        let mut merged = Merged::new(group)?;
        let (temp, mut w) = files.create()?;
        while let Some(rec) = merged.next_rec()? {
            write_rec(&mut w, &temp, &rec)?;
        }
        close(w, &temp)?;
        rest.push(Run::File(temp));
        runs = rest;
    }
}

/// A sorted file, with its part.
type PartFile = (usize, Temp);

/// Batches for the [`Sorter`]: each with its part and the file it goes to.
type Job = Vec<(usize, Vec<Rec>, (Temp, BufWriter<File>))>;

/// A thread that sorts full batches of records and writes each to its file.
///
/// Why a thread: sorting and writing the batches used to wait for the end of the run, on
/// the critical path; now they happen while the records still come in (on the driver
/// thread, during the run). One batch waits at most: memory stays at two batches.
struct Sorter {
    batches: Option<mpsc::SyncSender<Job>>,
    thread: Option<std::thread::JoinHandle<Result<Vec<PartFile>>>>,
}

impl Sorter {
    /// Starts the thread; it adds the nanoseconds it works (not waits) to `busy`.
    fn start(busy: Option<Arc<AtomicU64>>) -> Sorter {
        let (tx, rx) = mpsc::sync_channel::<Job>(0);
        let thread = std::thread::Builder::new()
            .name("gleaner-spill".into())
            .spawn(move || {
                let mut runs = Vec::new();
                for job in rx {
                    let started = Instant::now();
                    for (part, mut batch, (temp, mut w)) in job {
                        batch.sort_unstable_by_key(|r| r.key);
                        for rec in &batch {
                            write_rec(&mut w, &temp, rec)?;
                        }
                        close(w, &temp)?;
                        runs.push((part, temp));
                    }
                    if let Some(busy) = &busy {
                        let nanos = started.elapsed().as_nanos() as u64;
                        busy.fetch_add(nanos, Ordering::Relaxed);
                    }
                }
                Ok(runs)
            })
            .expect("a thread for the spill");
        Sorter {
            batches: Some(tx),
            thread: Some(thread),
        }
    }

    /// Hands a full batch to the thread; fails with the thread's error if it failed.
    fn sort(&mut self, job: Job) -> Result<()> {
        let sent = self.batches.as_ref().map(|tx| tx.send(job));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread stopped: it met an error, which `finish` returns.
            _ => match self.finish() {
                Err(e) => Err(e),
                Ok(_) => Err(Error::usage("the spill's sorting thread stopped")),
            },
        }
    }

    /// Waits for the thread; the sorted files with their parts, in the order the batches
    /// were given.
    fn finish(&mut self) -> Result<Vec<PartFile>> {
        self.batches = None;
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            None => Err(Error::usage("spill sorter already finished")),
        }
    }
}

impl Drop for Sorter {
    /// A failed or interrupted run waits for the thread, which removes its files.
    fn drop(&mut self) {
        self.batches = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A record in the k-way merge: ordered by key only, then by source (keys are distinct).
struct Head(Rec, usize);

impl PartialEq for Head {
    fn eq(&self, other: &Head) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Head) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    fn cmp(&self, other: &Head) -> std::cmp::Ordering {
        (self.0.key, self.1).cmp(&(other.0.key, other.1))
    }
}

/// Where the merge reads a run from.
enum Source {
    Memory(std::vec::IntoIter<Rec>),
    File(Recs),
}

impl Source {
    fn next_rec(&mut self) -> Result<Option<Rec>> {
        match self {
            Source::Memory(recs) => Ok(recs.next()),
            Source::File(recs) => recs.next_rec(),
        }
    }
}

/// The records of several sorted runs, merged into one sorted sequence.
struct Merged {
    sources: Vec<Source>,
    heap: BinaryHeap<std::cmp::Reverse<Head>>,
    /// A file the records were read from, for messages.
    path: PathBuf,
}

impl Merged {
    fn new(runs: Vec<Run>) -> Result<Merged> {
        let mut sources = Vec::new();
        let mut heap = BinaryHeap::new();
        let mut path = None;
        for run in runs {
            let mut source = match run {
                Run::Memory(recs) => Source::Memory(recs.into_iter()),
                Run::File(temp) => {
                    path.get_or_insert_with(|| temp.0.clone());
                    Source::File(Recs::open(temp)?)
                }
            };
            if let Some(rec) = source.next_rec()? {
                heap.push(std::cmp::Reverse(Head(rec, sources.len())));
            }
            sources.push(source);
        }
        Ok(Merged {
            sources,
            heap,
            path: path.unwrap_or_else(|| PathBuf::from("(spill in memory)")),
        })
    }

    fn next_rec(&mut self) -> Result<Option<Rec>> {
        // One run (what small runs have): no heap to keep.
        if let [only] = &mut self.sources[..] {
            if let Some(std::cmp::Reverse(Head(rec, _))) = self.heap.pop() {
                return Ok(Some(rec));
            }
            return only.next_rec();
        }
        let Some(std::cmp::Reverse(Head(rec, k))) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(next) = self.sources[k].next_rec()? {
            self.heap.push(std::cmp::Reverse(Head(next, k)));
        }
        Ok(Some(rec))
    }
}

/// One report of an incident held in memory while the incident is open, read in place
/// from its record, kept for the incident's row.
struct Member {
    seq: Seq,
    p: Prepared,
}

impl Member {
    /// What a held member counts against [`Clusters`]' budget.
    fn size(&self) -> usize {
        self.p.size() + std::mem::size_of::<Member>()
    }
}

/// An incident that can still take reports, with the reports a newcomer is compared with:
/// all of them while it has at most [`MEMBER_SAMPLE`] and they are held, otherwise its first
/// and its latest `MEMBER_SAMPLE / 2`.
struct Open {
    id: usize,
    /// The sequence number of its first placed report: the incident's name in the
    /// records of the second sort, unique across the parts of a spill.
    label: Seq,
    /// Its reports, whole, while it is held: when it closes, its row is made from them at
    /// once. `None` once they went to the second sort (see [`Placed`]).
    held: Option<Vec<Member>>,
    /// Once not held: the compared reports, slimmed.
    head: Vec<Prepared>,
    tail: VecDeque<Prepared>,
}

impl Open {
    /// The reports a newcomer is compared with.
    fn sample(&self) -> impl Iterator<Item = &Prepared> {
        let held = self.held.iter().flatten().map(|m| &m.p);
        held.chain(self.head.iter()).chain(self.tail.iter())
    }

    fn push_sample(&mut self, p: Prepared) {
        if self.head.len() < MEMBER_SAMPLE / 2 {
            self.head.push(p);
        } else {
            self.tail.push_back(p);
            if self.tail.len() > MEMBER_SAMPLE / 2 {
                self.tail.pop_front();
            }
        }
    }

    /// Adds a report: held while the incident is and has room (the sample is then every
    /// report), else sent to the second sort.
    fn push(&mut self, m: Member, out: &mut Placed) {
        match &mut self.held {
            Some(held) if held.len() < MEMBER_SAMPLE => {
                out.held += m.size();
                held.push(m);
            }
            _ => {
                self.release(out);
                self.push_sample(out.sort(self.label, m));
            }
        }
    }

    /// Sends the held reports to the second sort, in the order they came (so the sample is
    /// the one an incident that was never held would have).
    fn release(&mut self, out: &mut Placed) {
        for m in self.held.take().into_iter().flatten() {
            out.held -= m.size();
            let sample = out.sort(self.label, m);
            self.push_sample(sample);
        }
    }

    /// The incident leaves the candidates: complete. Its reports, if held.
    fn close(self, out: &mut Placed) {
        if let Some(held) = self.held {
            out.close(held);
        }
    }
}

/// What placing reports gives besides their incidents: the reports of incidents that are
/// not held, for the second sort (by incident), and incidents complete with their reports.
///
/// Why: most incidents have one or a few reports, and they leave the candidates within a
/// few thousand reports; holding their reports until then lets their rows be made straight
/// from the decoded reports, instead of writing every report again with its incident, sorting
/// them all a second time, reading them back and decoding them again. Incidents with more than
/// [`MEMBER_SAMPLE`] reports, or all those open when the held reports exceed the budget, go
/// the second sort's way; either way a row is made from all of an incident's reports in
/// input order, so the rows are the same.
#[derive(Default)]
struct Placed {
    /// Records keyed by incident and sequence number, for the second sort.
    sorted: Vec<Rec>,
    /// Complete incidents, with their reports in no set order.
    closed: Vec<Vec<Member>>,
    /// The reports in `closed`.
    closed_reports: usize,
    /// The bytes of the held reports of open incidents.
    held: usize,
}

impl Placed {
    /// Sends a report to the second sort, and returns what a newcomer is compared with
    /// ([`slim`]).
    fn sort(&mut self, label: Seq, m: Member) -> Prepared {
        let sample = slim(&m.p);
        self.sorted.push(Rec {
            key: [label, m.seq, 0],
            body: m.p.body,
        });
        sample
    }

    fn close(&mut self, members: Vec<Member>) {
        self.held -= members.iter().map(Member::size).sum::<usize>();
        self.closed_reports += members.len();
        self.closed.push(members);
    }
}

/// The candidate search of [`super::merge`] for one country at a time (reports come sorted
/// by country, and no incident crosses one), keeping only the incidents it can still look
/// at: the latest [`MAX_CANDIDATES`], in an [`Index`].
struct Clusters {
    cap: usize,
    country: String,
    open: Index<Open>,
    made: usize,
    /// At most this many bytes of reports are held ([`Placed::held`]); beyond, every open
    /// incident's go to the second sort.
    budget: usize,
}

impl Clusters {
    fn new(cap: usize, budget: usize) -> Clusters {
        Clusters {
            cap,
            country: String::new(),
            open: Index::new(cap),
            made: 0,
            budget,
        }
    }

    /// Places a report (`rec`, decoded as `p`): returns the incident it joins, named by the
    /// sequence number of the report that made it (`seq` itself when it makes a new one).
    /// What became of the report and of the incidents it closed is added to `out`.
    fn place(&mut self, p: Prepared, seq: Seq, out: &mut Placed) -> Seq {
        if p.country() != self.country {
            self.country.clear();
            self.country.push_str(p.country());
            let old = std::mem::replace(&mut self.open, Index::new(self.cap));
            old.into_items().for_each(|open| open.close(out));
        }
        let mut best: Option<(u32, usize)> = None;
        let mut best_pos = 0;
        if !self.country.is_empty() {
            self.open.candidates(&p, |pos, cl| {
                if let Some(total) = join_score(&p, cl.sample()) {
                    if better(best, total, cl.id) {
                        best = Some((total, cl.id));
                        best_pos = pos;
                    }
                }
            });
        }
        let m = Member { seq, p };
        let label = if best.is_some() {
            let open = self.open.get_mut(best_pos);
            open.push(m, out);
            open.label
        } else {
            // Numbered in the order they are made, which is what `better` prefers on a tie.
            let id = self.made;
            self.made += 1;
            if self.country.is_empty() {
                // Never a candidate: complete at once.
                out.held += m.size();
                out.close(vec![m]);
            } else {
                let open = Open {
                    id,
                    label: seq,
                    // Most incidents keep one report: no room for four.
                    held: Some(Vec::with_capacity(1)),
                    head: Vec::new(),
                    tail: VecDeque::new(),
                };
                // Filed by its first report.
                let filed = self.open.push(open, &m.p, |gone| gone.close(out));
                filed.push(m, out);
            }
            seq
        };
        if out.held > self.budget {
            self.open.items_mut().for_each(|open| open.release(out));
        }
        label
    }

    /// Closes the incidents still open.
    fn finish(self, out: &mut Placed) {
        self.open.into_items().for_each(|open| open.close(out));
    }
}

/// A copy of a report with only what [`agreement`] reads: the strings it does not read
/// (event id, place as written, actors, targets, rule) left empty. Made for the reports of
/// incidents that are not held, which stay in the sample after their record has gone to
/// the second sort.
fn slim(p: &Prepared) -> Prepared {
    let event = Event {
        etype: p.etype().into(),
        date: p.has_date.then(|| p.get(Field::Date).to_string()),
        place_id: p.place_id().into(),
        place_canonical: p.place_canonical().into(),
        place_kind: p.place_kind().into(),
        geo: Geo {
            country: p.country().into(),
            admin1: p.admin1().into(),
            lat: p.lat,
            lon: p.lon,
        },
        killed: p.killed,
        injured: p.injured,
        captured: p.captured,
        span: Span {
            start: p.start as usize,
            end: p.start as usize,
        },
        background: p.background,
        ..Event::default()
    };
    let mut body = Vec::new();
    encode_report(&mut body, p.doc_id(), p.published, &event);
    Prepared::read(body).expect("a report just encoded reads back")
}

/// What puts reports in the merge order of [`super::merge`] within each country: the
/// country, [`rank`] and the sequence number, as the records' keys do (with a number for
/// the country).
#[cfg(test)]
fn merge_key(p: &Prepared, seq: u64) -> (String, u64, u64) {
    (p.country().to_string(), rank(p.background, p.day), seq)
}

/// Where a report comes in the merge order of [`super::merge`] within its country, as one
/// number: the document's own incidents first (top bit clear), then by day (the next bit
/// set when undated, the day below it, offset to be positive; a day of any `i32` year
/// fits). The sequence number beside it in the key orders the rest in input order.
fn rank(background: bool, day: Option<i64>) -> u64 {
    const HALF: i64 = 1 << 61;
    let at = day.map_or(0, |d| (d.clamp(-HALF, HALF - 1) + HALF) as u64);
    u64::from(background) << 63 | u64::from(day.is_none()) << 62 | at
}

/// Reads a report's record (see [`Prepared::read`]); an error naming `path` if it does
/// not read.
fn report(path: &Path, body: Vec<u8>) -> Result<Prepared> {
    Prepared::read(body).ok_or_else(|| corrupt(path, "a report that does not decode"))
}

/// The reports of one incident as read in finishing: the sequence number of the first
/// (the key of its row) and their records, in input order.
struct Gathered {
    first: Seq,
    bodies: Vec<Rec>,
}

/// A report's sequence number in the run: its place in input order.
type Seq = u64;

/// How many parts a spill's reports are split into, by country: each part is placed into
/// incidents and made into rows on its own, beside the others on the pool (no incident
/// crosses a country). Many more parts than cores, so that the pool's threads share the
/// work evenly (the largest country has 11% of the reports of the generated dumps).
const PARTS: usize = 16;

/// The reports of a run, kept (in memory up to a batch, then on disk) as they come and
/// merged into incidents at the end.
pub struct Spill {
    files: Files,
    input: Collect,
    seq: u64,
    batch: usize,
    /// The number of each country met, in the order met: the first word of its reports'
    /// keys (any numbering keeps each country's reports together, which is all the merge
    /// needs), and by which they are split into parts.
    countries: FxHashMap<Vec<u8>, u64>,
}

impl Spill {
    /// Starts a spill in `dir`, under hidden names starting with `.stem.`.
    pub fn create(dir: &Path, stem: &str) -> Result<Spill> {
        Spill::with_batch(dir, stem, SORT_BATCH)
    }

    fn with_batch(dir: &Path, stem: &str, batch: usize) -> Result<Spill> {
        let mut input = Collect::new(PARTS, batch);
        input.busy = Some(Arc::default());
        Ok(Spill {
            files: Files::new(dir, stem),
            input,
            seq: 0,
            batch,
            countries: FxHashMap::default(),
        })
    }

    /// The nanoseconds the thread that sorts and writes full batches of reports while the
    /// run goes on has worked so far (beside the workers, so not in any stage's time);
    /// final once [`Spill::finish`] has returned.
    pub fn sorting(&self) -> Arc<AtomicU64> {
        self.input.busy.clone().unwrap_or_default()
    }

    /// Adds one document's account of an incident.
    pub fn add(&mut self, doc_id: &str, published: Option<Ymd>, event: &Event) -> Result<()> {
        let mut rec = Vec::new();
        Spill::encode(&mut rec, doc_id, published, event);
        self.add_encoded(&rec)
    }

    /// Appends to `out` the record of one document's account of an incident, for
    /// [`Spill::add_encoded`]. Any thread can do this, so the serial driver does not.
    pub fn encode(out: &mut Vec<u8>, doc_id: &str, published: Option<Ymd>, event: &Event) {
        let (_, day) = Prepared::when(event.date.as_deref(), published);
        // The country's length and the body's (u32 each), the report's rank, the country,
        // the body.
        let country = event.geo.country.as_bytes();
        let head = out.len();
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&rank(event.background, day).to_le_bytes());
        out.extend_from_slice(country);
        let body = out.len();
        encode_report(out, doc_id, published, event);
        let lengths = [country.len(), out.len() - body];
        for (i, n) in lengths.into_iter().enumerate() {
            let n = u32::try_from(n).expect("a spill record under 4 GB");
            out[head + 4 * i..head + 4 * i + 4].copy_from_slice(&n.to_le_bytes());
        }
    }

    /// Adds the records written by [`Spill::encode`], in input order.
    pub fn add_encoded(&mut self, mut records: &[u8]) -> Result<()> {
        let length = |b: &[u8], at: usize| -> usize {
            u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes")) as usize
        };
        while !records.is_empty() {
            let (c, b) = (length(records, 0), length(records, 4));
            let rank = u64::from_le_bytes(records[8..16].try_into().expect("8 bytes"));
            let (country, body) = records[16..16 + c + b].split_at(c);
            records = &records[16 + c + b..];
            let next = self.countries.len() as u64;
            let id = match self.countries.get(country) {
                Some(&id) => id,
                None => *self.countries.entry(country.to_vec()).or_insert(next),
            };
            let rec = Rec {
                key: [id, rank, self.seq],
                body: body.to_vec(),
            };
            self.seq += 1;
            self.input.push(id as usize % PARTS, rec, &self.files)?;
        }
        Ok(())
    }

    /// Merges the reports into incidents and writes them in the order of
    /// [`super::merge`], by each incident's first report: `encode` turns each incident's
    /// cells into bytes (on the rayon pool, many incidents at once), `write` gets those
    /// bytes in order, many rows at once, with their number.
    ///
    /// The parts (countries) are merged on the pool, each into its own sorted rows; only
    /// the last merge of those rows is serial, beside the writing. Each part gets a share of
    /// the sort batch for its two sorts, so that memory stays near that of one batch per
    /// sort whatever the number of threads.
    pub fn finish(
        self,
        encode: impl Fn(&[&str], &mut Vec<u8>) + Sync,
        mut write: impl FnMut(&[u8], u64) -> Result<()>,
    ) -> Result<()> {
        let Spill {
            files,
            input,
            batch,
            ..
        } = self;
        let parts = input.runs()?;
        let share = (batch / rayon::current_num_threads().max(1)).max(1);
        let held = Held {
            bytes: AtomicUsize::new(0),
            limit: batch,
        };
        let rows: Vec<Vec<Run>> = (parts.into_par_iter())
            .with_max_len(1)
            .map(|runs| finish_part(runs, &files, share, &held, &encode))
            .collect::<Result<_>>()?;
        // Incidents in the order of their first report (the keys are distinct: the
        // sequence numbers of first reports). The merge runs on a thread of its own and
        // hands the rows over in large buffers, so that writing them overlaps it.
        let mut sorted = merged(rows.into_iter().flatten().collect(), &files)?;
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::sync_channel::<(Vec<u8>, u64)>(2);
            let merger = scope.spawn(move || -> Result<()> {
                let mut buf = Vec::with_capacity(OUT_BYTES + ROW_BYTES);
                let mut rows = 0;
                while let Some(rec) = sorted.next_rec()? {
                    buf.extend_from_slice(rec.body());
                    rows += 1;
                    if buf.len() >= OUT_BYTES {
                        let full =
                            std::mem::replace(&mut buf, Vec::with_capacity(OUT_BYTES + ROW_BYTES));
                        // The receiver only goes away when writing failed.
                        if tx.send((full, std::mem::take(&mut rows))).is_err() {
                            return Ok(());
                        }
                    }
                }
                let _ = tx.send((buf, rows));
                Ok(())
            });
            let written = rx
                .into_iter()
                .try_for_each(|(bytes, rows)| write(&bytes, rows));
            // Dropped before waiting: a merge blocked on a full channel then stops.
            let merged = merger
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            written.and(merged)
        })
    }
}

/// Merges the reports of one part (the sorted runs of its records) into incidents; their
/// rows, as sorted runs keyed by the sequence number of each incident's first report.
fn finish_part(
    runs: Vec<Run>,
    files: &Files,
    batch: usize,
    held: &Held,
    encode: &(impl Fn(&[&str], &mut Vec<u8>) + Sync),
) -> Result<Vec<Run>> {
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    // 1. In merge order, each report gets its incident. Decoding a report costs more
    // than placing it: that is done `CHUNK` reports at a time on the pool. Incidents that
    // close with their reports held are made into rows on the pool as they gather
    // (`CHUNK` reports at a time); the others' reports go to the second sort.
    let mut sorted = merged(runs, files)?;
    let path = sorted.path.clone();
    let mut assigned = Collect::new(1, batch);
    let mut rows = Collect::new(1, batch);
    let mut clusters = Clusters::new(MAX_CANDIDATES, batch / 2);
    let mut placed = Placed::default();
    let mut chunk: Vec<Rec> = Vec::with_capacity(CHUNK);
    // Reused for every chunk: a fresh vector of 4,096 reports a chunk was a tenth of the
    // finishing, mostly the kernel clearing its new pages.
    let mut decoded: Vec<(Seq, Option<Prepared>)> = Vec::with_capacity(CHUNK);
    let held_rows = |placed: &mut Placed, rows: &mut Collect| {
        placed.closed_reports = 0;
        let made: Vec<Rec> = (placed.closed.par_drain(..))
            .map(|mut members| {
                members.sort_unstable_by_key(|m| m.seq);
                let first = members[0].seq;
                let reports: Vec<Prepared> = members.into_iter().map(|m| m.p).collect();
                row(&reports, first, encode)
            })
            .collect();
        made.into_iter()
            .try_for_each(|rec| rows.push(0, rec, files))
    };
    loop {
        while chunk.len() < CHUNK {
            match sorted.next_rec()? {
                Some(rec) => chunk.push(rec),
                None => break,
            }
        }
        if chunk.is_empty() {
            break;
        }
        (chunk.par_drain(..))
            .map(|rec| (rec.key[2], Prepared::read(rec.body)))
            .collect_into_vec(&mut decoded);
        for (seq, p) in decoded.drain(..) {
            let p = p.ok_or_else(|| corrupt(&path, "a report that does not decode"))?;
            clusters.place(p, seq, &mut placed);
            for rec in placed.sorted.drain(..) {
                assigned.push(0, rec, files)?;
            }
        }
        if placed.closed_reports >= CHUNK {
            held_rows(&mut placed, &mut rows)?;
        }
    }
    drop(sorted);
    clusters.finish(&mut placed);
    for rec in placed.sorted.drain(..) {
        assigned.push(0, rec, files)?;
    }
    held_rows(&mut placed, &mut rows)?;

    // 2. The reports of the other incidents by incident, in input order: one row per
    // incident, keyed by its first report. Incidents are gathered `CHUNK` reports at a
    // time, and decoded and made into rows on the pool.
    let mut sorted = assigned.sort(files)?;
    let path = sorted.path.clone();
    // The incident being read (its label, and its reports so far); and those read
    // whole, not yet made into rows.
    let mut current: Option<(Seq, Gathered)> = None;
    let mut whole: Vec<Gathered> = Vec::new();
    let mut reports = 0;
    let make_rows = |whole: &mut Vec<Gathered>, rows: &mut Collect| {
        let made: Vec<Rec> = (whole.par_drain(..))
            .map(|Gathered { first, bodies }| {
                let reports = (bodies.into_iter())
                    .map(|rec| report(&path, rec.body))
                    .collect::<Result<Vec<Prepared>>>()?;
                Ok(row(&reports, first, encode))
            })
            .collect::<Result<_>>()?;
        made.into_iter()
            .try_for_each(|rec| rows.push(0, rec, files))
    };
    while let Some(rec) = sorted.next_rec()? {
        let [label, seq, _] = rec.key;
        match &mut current {
            Some((cur, g)) if *cur == label => g.bodies.push(rec),
            _ => {
                if let Some((_, g)) = current.take() {
                    reports += g.bodies.len();
                    whole.push(g);
                    if reports >= CHUNK {
                        make_rows(&mut whole, &mut rows)?;
                        reports = 0;
                    }
                }
                let g = Gathered {
                    first: seq,
                    bodies: vec![rec],
                };
                current = Some((label, g));
            }
        }
    }
    whole.extend(current.take().map(|(_, g)| g));
    make_rows(&mut whole, &mut rows)?;
    drop(sorted);
    let mut runs: Vec<Run> = rows.runs()?.into_iter().flatten().collect();
    for run in &mut runs {
        if let Run::Memory(recs) = run {
            if !held.take(recs) {
                let (temp, mut w) = files.create()?;
                for rec in recs.iter() {
                    write_rec(&mut w, &temp, rec)?;
                }
                close(w, &temp)?;
                *run = Run::File(temp);
            }
        }
    }
    Ok(runs)
}

/// How many bytes of rows the last merge hands over at once for writing.
const OUT_BYTES: usize = 1 << 20;

/// Bytes reserved for an incident's row: more than most rows of incidents.csv take (180
/// on average in the generated dumps).
const ROW_BYTES: usize = 384;

/// The row of an incident, keyed by `first`, the sequence number of its first report:
/// `reports` are its reports in input order.
fn row(reports: &[Prepared], first: Seq, encode: &(impl Fn(&[&str], &mut Vec<u8>) + Sync)) -> Rec {
    // Room for most rows at once: growing it by doubling was a tenth of the finishing.
    let mut body = Vec::with_capacity(ROW_BYTES);
    cells_of(reports, |cells| encode(cells, &mut body));
    Rec {
        key: [first, 0, 0],
        body,
    }
}

/// The rows of the parts that stayed in memory, waiting for the last merge: they stay
/// there while they fit in one sort batch together; the others go to files.
struct Held {
    bytes: AtomicUsize,
    limit: usize,
}

impl Held {
    /// Whether `recs` may stay in memory (and are counted if so).
    fn take(&self, recs: &[Rec]) -> bool {
        let size: usize = recs.iter().map(Rec::size).sum();
        let before = self.bytes.fetch_add(size, Ordering::Relaxed);
        if before + size <= self.limit {
            return true;
        }
        self.bytes.fetch_sub(size, Ordering::Relaxed);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Geo;
    use crate::incidents::Incident;

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
            .finish(
                |cells, out| Enc(out).strs(cells),
                |bytes, n| {
                    let mut d = Dec(bytes);
                    let before = rows.len();
                    while !d.done() {
                        rows.push(d.strs().expect("a row"));
                    }
                    assert_eq!((rows.len() - before) as u64, n);
                    Ok(())
                },
            )
            .unwrap();
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
        rows
    }

    #[test]
    fn the_spill_gives_the_incidents_of_the_merge_in_memory() {
        // The smallest batch makes more files per part than one merge takes (`FAN_IN`).
        let cases = [
            (1, 300, 2_000),
            (7, 500, 10_000),
            (42, 400, 1 << 20),
            (3, 600, 300),
        ];
        for (seed, n, batch) in cases {
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
    fn incidents_too_large_to_hold_give_the_same_rows() {
        // A story reprinted more often than an incident's reports are held, among others;
        // with room to hold every report, and with none.
        let mut reports = reports(11, 300);
        for i in 0..(3 * MEMBER_SAMPLE) {
            let copy = super::super::tests::report(
                &format!("copy{i}"),
                Some("2024-08-29"),
                "Anbar",
                Some(15),
            );
            reports.insert(2 * i, copy);
        }
        let want: Vec<Vec<String>> = super::super::merge(reports.clone())
            .iter()
            .map(Incident::cells)
            .collect();
        assert!(want
            .iter()
            .any(|cells| cells[18] == (3 * MEMBER_SAMPLE).to_string()));
        for batch in [1 << 24, 100] {
            assert_eq!(spilled(&reports, batch), want, "batch {batch}");
        }
    }

    /// Each incident's reports (indices), incidents in the order of their first report.
    fn partition<T: Ord + Copy>(cluster_of: &[T]) -> Vec<Vec<usize>> {
        let mut groups: std::collections::BTreeMap<T, Vec<usize>> = Default::default();
        for (i, &c) in cluster_of.iter().enumerate() {
            groups.entry(c).or_default().push(i);
        }
        let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
        groups.sort();
        groups
    }

    #[test]
    fn the_spill_joins_like_the_merge_whatever_the_cap() {
        // Small caps, so that incidents leave the index while their country is merged.
        for seed in 1..=10 {
            for cap in [2, 7, 40] {
                let reports = super::super::tests::varied_reports(seed, 400);
                let prepared: Vec<Prepared> = reports.iter().cloned().map(Prepared::new).collect();
                let want = partition(&super::super::assign(&prepared, cap));
                let mut order: Vec<usize> = (0..prepared.len()).collect();
                order.sort_by_key(|&i| merge_key(&prepared[i], i as u64));
                // Nothing held, some, everything until it has too many reports.
                for budget in [0, 5_000, usize::MAX] {
                    let mut clusters = Clusters::new(cap, budget);
                    let mut placed = Placed::default();
                    let mut got = vec![0; prepared.len()];
                    for &i in &order {
                        let seq = i as Seq;
                        let p = Prepared::new(reports[i].clone());
                        got[i] = clusters.place(p, seq, &mut placed);
                    }
                    clusters.finish(&mut placed);
                    // Each report is either in a closed incident or sorted, with its label.
                    let mut seen = vec![false; prepared.len()];
                    for members in &placed.closed {
                        let labels: Vec<Seq> =
                            members.iter().map(|m| got[m.seq as usize]).collect();
                        assert!(labels.iter().all(|l| *l == labels[0]), "{labels:?}");
                        members.iter().for_each(|m| seen[m.seq as usize] = true);
                    }
                    for rec in &placed.sorted {
                        let [label, seq, _] = rec.key;
                        let i = seq as usize;
                        assert_eq!(label, got[i], "seed {seed}, cap {cap}, budget {budget}");
                        assert!(!seen[i]);
                        seen[i] = true;
                    }
                    assert!(seen.iter().all(|&s| s));
                    assert_eq!(placed.held, 0);
                    let got = partition(&got);
                    assert!(got.len() < prepared.len(), "seed {seed}: nothing merged");
                    assert_eq!(got, want, "seed {seed}, cap {cap}, budget {budget}");
                }
            }
        }
    }

    #[test]
    fn ranks_order_reports_as_the_merge_does() {
        // The varied reports' days, and days at the ends of what any `i32` year gives.
        let mut prepared: Vec<Prepared> = super::super::tests::varied_reports(3, 600)
            .into_iter()
            .map(Prepared::new)
            .collect();
        let far = [i32::MIN, -44, 0, 9999, i32::MAX];
        for (i, year) in far.into_iter().enumerate() {
            for background in [false, true] {
                let mut r = super::super::tests::report("far", None, "Anbar", None);
                r.published = Some(Ymd {
                    year,
                    month: 1 + i as u32,
                    day: 1,
                });
                r.event.background = background;
                prepared.push(Prepared::new(r));
            }
        }
        assert!(prepared.iter().any(|p| p.day.is_none()));
        let want = super::super::merge_order(&prepared);
        let mut got: Vec<usize> = (0..prepared.len()).collect();
        got.sort_by_key(|&i| (rank(prepared[i].background, prepared[i].day), i));
        assert_eq!(got, want);
    }

    #[test]
    fn an_empty_run_has_no_incidents() {
        assert!(spilled(&[], 100).is_empty());
    }

    /// An event with every field set to `text` (or its variants) and the floats given.
    fn event(text: &str, lat: Option<f64>, lon: Option<f64>, n: Option<u64>) -> Event {
        Event {
            event_id: format!("{text}#1"),
            etype: text.into(),
            date: (!text.is_empty()).then(|| text.to_string()),
            place: text.into(),
            place_id: format!("L:{text}"),
            place_canonical: text.into(),
            place_kind: text.into(),
            geo: Geo {
                country: text.into(),
                admin1: text.into(),
                lat,
                lon,
            },
            actors: vec![text.into(), String::new(), "\n".into()],
            targets: if text.is_empty() {
                Vec::new()
            } else {
                vec![text.into()]
            },
            killed: n,
            injured: n.map(|n| n / 2),
            captured: n.map(u64::wrapping_neg),
            span: Span {
                start: text.len(),
                end: usize::MAX,
            },
            rule: text.into(),
            background: n.is_some(),
        }
    }

    #[test]
    fn a_report_round_trips_exactly() {
        let texts = [
            "",
            "plain",
            "tab\there",
            "line\nbreak\r\n",
            "quote \" and \\ backslash",
            "unicode: Dayr az-Zawr, دير الزور, 🚀",
            "\0nul",
        ];
        let floats = [
            None,
            Some(0.1 + 0.2),
            Some(-0.0),
            Some(f64::MIN_POSITIVE / 3.0),
            Some(f64::NAN),
            Some(-f64::INFINITY),
            Some(33.312_805_5),
        ];
        let counts = [None, Some(0), Some(1), Some(u64::MAX)];
        let dates = [
            None,
            Ymd::new(2024, 2, 29),
            Some(Ymd {
                year: -44,
                month: 3,
                day: 15,
            }),
        ];
        for (i, text) in texts.iter().enumerate() {
            for (j, lat) in floats.iter().enumerate() {
                let lon = floats[(i + j) % floats.len()];
                let n = counts[(i + j) % counts.len()];
                let published = dates[(i + 2 * j) % dates.len()];
                let want = event(text, *lat, lon, n);
                let mut body = Vec::new();
                encode_report(&mut body, text, published, &want);
                let got = decode_report(&body).expect("decodes");
                assert_eq!(got.doc_id, *text);
                assert_eq!(got.published, published);
                let bits = |e: &Event| (e.geo.lat.map(f64::to_bits), e.geo.lon.map(f64::to_bits));
                assert_eq!(bits(&got.event), bits(&want), "{text:?}");
                let plain = |mut e: Event| {
                    e.geo.lat = None;
                    e.geo.lon = None;
                    e
                };
                // Read in place, each field is the decoded report's.
                let p = Prepared::read(body.clone()).expect("reads");
                let e = &got.event;
                assert_eq!(
                    (p.doc_id(), p.event_id(), p.etype(), p.place(), p.place_id()),
                    (
                        &got.doc_id[..],
                        &e.event_id[..],
                        &e.etype[..],
                        &e.place[..],
                        &e.place_id[..]
                    )
                );
                assert_eq!(
                    (p.place_canonical(), p.place_kind(), p.country(), p.admin1()),
                    (
                        &e.place_canonical[..],
                        &e.place_kind[..],
                        &e.geo.country[..],
                        &e.geo.admin1[..]
                    )
                );
                assert_eq!(p.published, got.published);
                assert_eq!(
                    (p.actor1(), p.target1()),
                    (
                        e.actors.first().map(|a| &a[..]),
                        e.targets.first().map(|t| &t[..])
                    )
                );
                assert_eq!(
                    (p.killed, p.injured, p.captured, p.start, p.background),
                    (
                        e.killed,
                        e.injured,
                        e.captured,
                        e.span.start as u64,
                        e.background
                    )
                );
                let pbits = (p.lat.map(f64::to_bits), p.lon.map(f64::to_bits));
                assert_eq!(pbits, bits(e));
                let resolved = e
                    .date
                    .as_deref()
                    .map(|d| super::super::resolve_date(d, published));
                assert_eq!(p.date(), resolved.as_deref(), "{text:?}");
                assert_eq!(plain(got.event), plain(want), "{text:?}");
                // Cut short or with bytes left over, it is refused, not misread.
                assert!(decode_report(&body[..body.len() - 1]).is_none());
                assert!(Prepared::read(body[..body.len() - 1].to_vec()).is_none());
                // A string that is not UTF-8 (the document id's first byte) is refused.
                if !text.is_empty() {
                    let mut bad = body.clone();
                    bad[4] = 0xFF;
                    assert!(decode_report(&bad).is_none());
                    assert!(Prepared::read(bad).is_none());
                }
                body.push(0);
                assert!(decode_report(&body).is_none());
                assert!(Prepared::read(body.clone()).is_none());
            }
        }
    }

    #[test]
    fn cells_round_trip_exactly() {
        for cells in [
            vec![],
            vec![String::new()],
            vec![
                "a\tb".to_string(),
                "c\nd".into(),
                "é\"ü".into(),
                String::new(),
            ],
        ] {
            let mut body = Vec::new();
            Enc(&mut body).strs(&cells);
            let mut d = Dec(&body);
            assert_eq!(d.strs(), Some(cells));
            assert!(d.done());
        }
    }

    #[test]
    fn records_round_trip_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::new(dir.path(), "t");
        let recs: Vec<(Key, Vec<u8>)> = vec![
            ([1, 2, 3], b"body\n\twith bytes \xff\x00".to_vec()),
            ([0, 0, 0], Vec::new()),
            ([u64::MAX, 1 << 63, 7], vec![7; 100_000]),
            ([5, 0, u64::MAX], vec![9; 3 << 20]),
        ];
        let (temp, mut w) = files.create().unwrap();
        for (key, body) in &recs {
            let rec = Rec {
                key: *key,
                body: body.clone(),
            };
            write_rec(&mut w, &temp, &rec).unwrap();
        }
        close(w, &temp).unwrap();
        let path = temp.0.clone();
        let whole = std::fs::read(&path).unwrap();
        let mut read = Recs::open(temp).unwrap();
        for (key, body) in &recs {
            let rec = read.next_rec().unwrap().expect("a record");
            assert_eq!((rec.key, rec.body()), (*key, &body[..]));
        }
        assert!(read.next_rec().unwrap().is_none());
        // Cut short, in the head or in the body, it is refused.
        for cut in [1, HEAD - 1, HEAD + 5] {
            let temp = Temp(dir.path().join(format!("cut{cut}")));
            std::fs::write(&temp.0, &whole[..cut]).unwrap();
            let mut read = Recs::open(temp).unwrap();
            let e = read.next_rec().err().expect("an error");
            assert!(e.to_string().contains("cut short"), "{e}");
        }
    }
}
