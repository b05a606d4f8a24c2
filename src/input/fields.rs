//! Records with named fields (JSONL lines, CSV rows) turned into documents.

use std::io::BufRead;

use serde::de;

use super::{read_error, Flow, Item, Problem};
use crate::calendar::Ymd;
use crate::document::Document;
use crate::error::Location;

/// The names of the fields that hold each part of an article in JSONL and CSV dumps.
/// Dumps differ, so each can be changed on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldNames {
    pub id: String,
    pub text: String,
    pub title: String,
    pub published: String,
    pub url: String,
}

impl Default for FieldNames {
    fn default() -> Self {
        FieldNames {
            id: "id".into(),
            text: "text".into(),
            title: "title".into(),
            published: "published".into(),
            url: "url".into(),
        }
    }
}

/// Builds a document from a record whose fields are looked up by `get`.
/// `Err` means the record is skipped (no text); warnings go to `sink`.
pub(crate) fn document_from_fields(
    name: &str,
    line: u64,
    fields: &FieldNames,
    text: Option<String>,
    get: &dyn Fn(&str) -> Option<String>,
    sink: &mut dyn FnMut(Item) -> Flow,
) -> Result<Document, Problem> {
    let at = || Location::line(name, line);
    let Some(text) = text else {
        return Err(Problem::skipped(
            at(),
            format!("no \"{}\" field with the article text", fields.text),
        ));
    };
    let doc_id = match get(&fields.id).filter(|s| !s.trim().is_empty()) {
        Some(id) => id.trim().to_string(),
        None => {
            let stem = file_stem(name);
            let made = format!("{stem}:{line}");
            let _ = sink(Item::Problem(Problem::warning(
                at(),
                format!(
                    "no \"{}\" field; the document is given id {made}",
                    fields.id
                ),
            )));
            made
        }
    };
    let title = match get(&fields.title).filter(|s| !s.trim().is_empty()) {
        Some(t) => t.trim().to_string(),
        None => Document::first_line(&text).to_string(),
    };
    let published = match get(&fields.published).filter(|s| !s.trim().is_empty()) {
        Some(p) => {
            let parsed = Ymd::parse_loose(&p);
            if parsed.is_none() {
                let _ = sink(Item::Problem(Problem::warning(
                    at(),
                    format!(
                        "\"{}\" field {p:?} is not a date; the publication date is left empty",
                        fields.published
                    ),
                )));
            }
            parsed
        }
        None => None,
    };
    let url = get(&fields.url).filter(|s| !s.trim().is_empty());
    Ok(Document {
        doc_id,
        source: format!("{name}:{line}"),
        title,
        published,
        url,
        text,
    })
}

/// The file name without its folder and extensions (`dump` for `data/dump.jsonl.gz`).
pub(crate) fn file_stem(name: &str) -> &str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let base = base.strip_suffix(".gz").unwrap_or(base);
    match base.rfind('.') {
        Some(i) if i > 0 => &base[..i],
        _ => base,
    }
}

/// Reads JSON Lines: one object per line; blank lines are passed over.
///
/// Why it is shaped so: the line buffer keeps its capacity from one line to the next
/// (a line is checked as UTF-8 in place and copied only when it must be repaired), and a
/// line is parsed straight into the five fields wanted ([`Wanted`]) rather than into a
/// whole JSON value.
pub(crate) fn read_jsonl(
    name: &str,
    mut reader: Box<dyn BufRead>,
    fields: &FieldNames,
    sink: &mut dyn FnMut(Item) -> Flow,
) {
    let wanted = Wanted::new(fields);
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        match read_line(&mut *reader, &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(err) => {
                if sink(Item::Problem(read_error(name, Some(line + 1), &err))).is_break() {
                    return;
                }
                break;
            }
        }
        line += 1;
        let repaired;
        let text = match std::str::from_utf8(&buf) {
            Ok(text) => text,
            Err(_) => {
                repaired = String::from_utf8_lossy(&buf).into_owned();
                let _ = sink(Item::Problem(Problem::warning(
                    Location::line(name, line),
                    "invalid UTF-8, decoded with replacement characters",
                )));
                &repaired
            }
        };
        // Exports written on Windows often start with a byte-order mark.
        let trimmed = match line {
            1 => text.trim_start_matches('\u{feff}').trim(),
            _ => text.trim(),
        };
        if trimmed.is_empty() {
            continue;
        }
        let cells = match wanted.read(trimmed) {
            Ok(Some(cells)) => cells,
            Ok(None) => {
                if sink(Item::Problem(Problem::skipped(
                    Location::line(name, line),
                    "not a JSON object",
                )))
                .is_break()
                {
                    return;
                }
                continue;
            }
            Err(err) => {
                if sink(Item::Problem(Problem::skipped(
                    Location::line(name, line),
                    format!("malformed JSON: {err}"),
                )))
                .is_break()
                {
                    return;
                }
                continue;
            }
        };
        let [text, rest @ ..] = cells;
        let get = |key: &str| {
            let i = wanted.names[1..].iter().position(|name| *name == key)?;
            rest[i].clone()
        };
        let flow = match document_from_fields(name, line, fields, text, &get, sink) {
            Ok(doc) => sink(Item::Doc(doc)),
            Err(problem) => sink(Item::Problem(problem)),
        };
        if flow.is_break() {
            return;
        }
    }
}

/// Appends the next line of `reader` to `buf`, with its `\n` if it has one, as
/// `BufRead::read_until(b'\n', buf)` does; the number of bytes read (0 at the end).
///
/// Why: `read_until` looks for the newline with the standard library's portable `memchr`,
/// a word at a time; the `memchr` crate's uses the processor's vector instructions (a
/// tenth of the reader thread's instructions was that search).
fn read_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let available = match reader.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let (done, used) = match memchr::memchr(b'\n', available) {
            Some(i) => {
                buf.extend_from_slice(&available[..=i]);
                (true, i + 1)
            }
            None => {
                buf.extend_from_slice(available);
                (available.is_empty(), available.len())
            }
        };
        reader.consume(used);
        read += used;
        if done {
            return Ok(read);
        }
    }
}

/// The fields of a JSONL line that make a document, in this order: text, id, title,
/// published and url (two of them may have the same name).
///
/// A line is parsed into these fields alone, not into a whole `serde_json::Value`: no map, no
/// key strings, no values of other fields. Each wanted field holds what the line's last
/// value under its name makes (a string as it is, a number as `serde_json` writes it, `None`
/// for anything else), as the map of a `Value` would. Every value, wanted or not, is read
/// with `deserialize_any`, as a `Value` is: the same syntax, number and nesting checks, so a
/// malformed line gets the same message (a test compares the two on many lines).
#[derive(Clone, Copy)]
struct Wanted<'a> {
    names: [&'a str; 5],
}

/// The wanted fields of one line, in [`Wanted`]'s order.
type Cells = [Option<String>; 5];

impl<'a> Wanted<'a> {
    fn new(fields: &'a FieldNames) -> Wanted<'a> {
        Wanted {
            names: [
                &fields.text,
                &fields.id,
                &fields.title,
                &fields.published,
                &fields.url,
            ],
        }
    }

    /// The wanted fields of a line; `Ok(None)` for valid JSON that is not an object.
    fn read(self, line: &str) -> serde_json::Result<Option<Cells>> {
        if let Some(cells) = self.read_plain(line) {
            return Ok(Some(cells));
        }
        let mut de = serde_json::Deserializer::from_str(line);
        let cells = de::DeserializeSeed::deserialize(self, &mut de)?;
        de.end()?;
        Ok(cells)
    }

    /// The wanted fields of a line that is an object of strings, keys without escapes and
    /// values without `\u` escapes, and no control character anywhere (what dumps are made
    /// of); `None` for any other line, valid or not, which [`Wanted::read`] then gives to
    /// `serde_json`.
    ///
    /// Why: the reader thread runs beside the workers, and `serde_json` reads a string a
    /// byte at a time and copies an escaped one twice (into its scratch buffer, then into
    /// the field); here the bytes between escapes are found with `memchr` and copied once,
    /// as slices of the line (already checked as UTF-8). Whatever this accepts,
    /// `serde_json` accepts with the same fields (a test compares them), so the fast way
    /// changes no output.
    fn read_plain(self, text: &str) -> Option<Cells> {
        let line = text.as_bytes();
        // `serde_json` refuses control characters inside strings; a line without any needs
        // no check per string (one pass the compiler vectorises).
        if line.iter().fold(0u8, |any, &b| any | u8::from(b < 0x20)) != 0 {
            return None;
        }
        let mut at = skip_space(line, 0);
        if line.get(at) != Some(&b'{') {
            return None;
        }
        at = skip_space(line, at + 1);
        let mut cells = Cells::default();
        if line.get(at) == Some(&b'}') {
            return (skip_space(line, at + 1) == line.len()).then_some(cells);
        }
        loop {
            // A key: a string without escapes.
            if line.get(at) != Some(&b'"') {
                return None;
            }
            let end = at + 1 + memchr::memchr2(b'"', b'\\', &line[at + 1..])?;
            if line[end] != b'"' {
                return None;
            }
            let key = &text[at + 1..end];
            let which = self
                .names
                .iter()
                .enumerate()
                .filter(|(_, name)| **name == key)
                .fold(0u8, |bits, (i, _)| bits | 1 << i);
            at = skip_space(line, end + 1);
            if line.get(at) != Some(&b':') {
                return None;
            }
            at = skip_space(line, at + 1);
            let (value, next) = plain_string(text, at, which != 0)?;
            if which != 0 {
                let mut cell = Some(value);
                // As `visit_map` does: copied for all but the last field of that name.
                let last = 7 - which.leading_zeros() as usize;
                for (i, slot) in cells.iter_mut().enumerate().take(last) {
                    if which & (1 << i) != 0 {
                        slot.clone_from(&cell);
                    }
                }
                cells[last] = cell.take();
            }
            at = skip_space(line, next);
            match line.get(at) {
                Some(b',') => at = skip_space(line, at + 1),
                Some(b'}') => return (skip_space(line, at + 1) == line.len()).then_some(cells),
                _ => return None,
            }
        }
    }
}

/// The position of the first byte from `at` on that is not JSON whitespace.
fn skip_space(line: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = line.get(at) {
        at += 1;
    }
    at
}

/// The JSON string that starts at `at` (its opening quote), unescaped if `keep` (else
/// only checked, and empty), and the position after its closing quote; `None` if there is
/// no string there, or it has a `\u` escape or an escape JSON does not have. Control
/// characters are not looked for (see [`Wanted::read_plain`]).
fn plain_string(text: &str, at: usize, keep: bool) -> Option<(String, usize)> {
    let line = text.as_bytes();
    if line.get(at) != Some(&b'"') {
        return None;
    }
    let mut out = String::new();
    let mut at = at + 1;
    loop {
        // Quotes and backslashes are ASCII: the slices between them are whole characters.
        let stop = at + memchr::memchr2(b'"', b'\\', &line[at..])?;
        if keep {
            if out.capacity() == 0 {
                // Usually the whole rest of the string: room for it at once.
                let rest = memchr::memchr(b'"', &line[stop..]).map_or(0, |n| n + stop - at);
                out.reserve(rest);
            }
            out.push_str(&text[at..stop]);
        }
        if line[stop] == b'"' {
            return Some((out, stop + 1));
        }
        let unescaped = match line.get(stop + 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            _ => return None,
        };
        if keep {
            out.push(unescaped);
        }
        at = stop + 2;
    }
}

impl<'de> de::DeserializeSeed<'de> for Wanted<'_> {
    type Value = Option<Cells>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> de::Visitor<'de> for Wanted<'_> {
    type Value = Option<Cells>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut cells = Cells::default();
        while let Some(which) = map.next_key_seed(Key(self.names))? {
            if which == 0 {
                map.next_value::<Skip>()?;
                continue;
            }
            let mut cell = map.next_value::<Cell>()?.0;
            // Copied for all but the last field of that name, which takes it: the text is
            // not copied unless another field shares its name.
            let last = 7 - which.leading_zeros() as usize;
            for (i, slot) in cells.iter_mut().enumerate().take(last) {
                if which & (1 << i) != 0 {
                    slot.clone_from(&cell);
                }
            }
            cells[last] = cell.take();
        }
        Ok(Some(cells))
    }
}

/// A key of a line's object, as the set of wanted fields (bits in [`Wanted`]'s order)
/// that have its name.
struct Key<'a>([&'a str; 5]);

impl<'de> de::DeserializeSeed<'de> for Key<'_> {
    type Value = u8;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<u8, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> de::Visitor<'de> for Key<'_> {
    type Value = u8;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E>(self, key: &str) -> Result<u8, E> {
        Ok(self
            .0
            .iter()
            .enumerate()
            .filter(|(_, name)| **name == key)
            .fold(0, |bits, (i, _)| bits | 1 << i))
    }
}

/// A wanted field's value: a string as it is, a number as `serde_json` writes it, `None`
/// for `null`, booleans, arrays and objects.
struct Cell(Option<String>);

impl<'de> de::Deserialize<'de> for Cell {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Cell, D::Error> {
        d.deserialize_any(CellVisitor)
    }
}

struct CellVisitor;

impl<'de> de::Visitor<'de> for CellVisitor {
    type Value = Cell;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Cell, E> {
        Ok(Cell(None))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Cell, E> {
        Ok(Cell(Some(serde_json::Number::from(n).to_string())))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Cell, E> {
        Ok(Cell(Some(serde_json::Number::from(n).to_string())))
    }

    fn visit_f64<E>(self, x: f64) -> Result<Cell, E> {
        Ok(Cell(serde_json::Number::from_f64(x).map(|n| n.to_string())))
    }

    fn visit_str<E>(self, s: &str) -> Result<Cell, E> {
        Ok(Cell(Some(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Cell, E> {
        Ok(Cell(Some(s)))
    }

    fn visit_unit<E>(self) -> Result<Cell, E> {
        Ok(Cell(None))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Cell, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Cell(None))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Cell, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Cell(None))
    }
}

/// A value read and dropped. Unlike `serde::de::IgnoredAny`, which `serde_json` skips with
/// a looser scan (it does not check that numbers fit a float, say), it is read as a
/// `serde_json::Value` would be, so that a line is malformed for the same reasons.
struct Skip;

impl<'de> de::Deserialize<'de> for Skip {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Skip, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> de::Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> Vec<Item> {
        let mut out = Vec::new();
        let reader: Box<dyn BufRead> = Box::new(std::io::Cursor::new(input.as_bytes().to_vec()));
        read_jsonl("d.jsonl", reader, &FieldNames::default(), &mut |i| {
            out.push(i);
            Flow::Continue(())
        });
        out
    }

    /// What the reader made of a line when it parsed a whole `serde_json::Value`: the error
    /// message, or the wanted fields (`None` for a value that is not an object).
    fn through_value(wanted: Wanted<'_>, line: &str) -> Result<Option<Cells>, String> {
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let Some(object) = value.as_object() else {
            return Ok(None);
        };
        Ok(Some(wanted.names.map(|name| match object.get(name) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })))
    }

    #[test]
    fn lines_read_as_a_whole_value_would_be() {
        let mut lines: Vec<String> = [
            r#"{"id": "a1", "text": "Body\nmore \"quoted\" \u00e9\ud83d\ude00", "title": "T", "published": "2024-09-14", "url": "u"}"#,
            r#"{"id": 7, "text": "x", "title": -3, "published": 1.5e3, "url": 12345678901234567890}"#,
            r#"{"id": 1e400, "text": "x"}"#,
            r#"{"other": 1e400, "text": "x"}"#,
            r#"{"other": [1, {"a": [true, false, null]}, "s"], "text": "x", "id": null}"#,
            r#"{"text": "first", "text": "second", "id": "a", "id": {"no": 1}}"#,
            r#"{"text": ["not", "text"], "url": false}"#,
            r#"{"te\u0078t": "escaped key", "id": "\u0061"}"#,
            r#"{}"#,
            r#"[1, 2]"#,
            r#""just a string""#,
            r#"12"#,
            r#"-0.0"#,
            r#"null"#,
            r#"true"#,
            r#"{"text": "x"} trailing"#,
            r#"{"text": "x",}"#,
            r#"{"text": "x" "id": "y"}"#,
            r#"{text: "x"}"#,
            r#"{"text": "bad \q escape"}"#,
            r#"{"text": "control	char"}"#,
            r#"{"text": "\ud800 lone surrogate"}"#,
            r#"{"id": 01, "text": "x"}"#,
            r#"{"id": -, "text": "x"}"#,
            r#"{"id": 1., "text": "x"}"#,
            r#"{"id": tru, "text": "x"}"#,
            r#"{"n": 1.7976931348623157e309, "text": "x"}"#,
            r#"{"n": -9223372036854775809, "text": "x"}"#,
            // Lines of strings only, as dumps are: read without serde_json.
            r#"{"id":"a","text":"Body\n\nmore \"q\" \\ \/ \b\f\r\t end","title":"","url":"ü"}"#,
            " { \"text\" : \"x\" ,\t\"id\"\r:\n\"y\" } ",
            r#"{"other": "skipped \" \\", "text": "kept", "text": "last"}"#,
            r#"{"other": "bad \x escape", "text": "kept"}"#,
            r#"{"text": "unterminated \"}"#,
            r#"{"text": "x", "id": "y"}}"#,
            r#"{"text": "x"}{}"#,
            r#"{"text": "é\\"}"#,
            r#"{"text": "\\u0041 is not an escape"}"#,
            r#"{"text": "x", "published": "2024-01-02", "id": "a" , "url" : "" }"#,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Deep nesting, at and past serde_json's limit, in a wanted field and elsewhere.
        for depth in [126, 127, 128, 200] {
            for key in ["text", "other"] {
                lines.push(format!(
                    "{{\"{key}\": {}1{}}}",
                    "[".repeat(depth),
                    "]".repeat(depth)
                ));
            }
        }
        // Every prefix of a few lines: each kind of "EOF while parsing".
        let whole = lines[..8].to_vec();
        for line in &whole {
            for (i, _) in line.char_indices() {
                lines.push(line[..i].to_string());
            }
        }
        let names = FieldNames::default();
        let shared = FieldNames {
            title: "text".into(),
            url: "id".into(),
            ..FieldNames::default()
        };
        for fields in [&names, &shared] {
            let wanted = Wanted::new(fields);
            for line in &lines {
                let got = wanted.read(line).map_err(|e| e.to_string());
                assert_eq!(got, through_value(wanted, line), "{line}");
            }
        }
    }

    #[test]
    fn lines_of_strings_take_the_fast_way() {
        let names = FieldNames::default();
        let wanted = Wanted::new(&names);
        for line in [
            r#"{"id":"a","text":"Body\n\nmore \"q\" \\ \/ \b\f\r\t end","title":"","url":"ü"}"#,
            r#"{ "text" : "x" , "other" : "y" }"#,
            r#"{}"#,
        ] {
            assert!(wanted.read_plain(line).is_some(), "{line}");
        }
        for line in [
            r#"{"text": "\u0041"}"#,
            r#"{"id": 7, "text": "x"}"#,
            "{\"text\":\t\"x\"}",
            r#"{"te\u0078t": "x"}"#,
        ] {
            assert!(wanted.read_plain(line).is_none(), "{line}");
        }
    }

    #[test]
    fn lines_are_read_as_read_until_reads_them() {
        let input = b"a\n\nbc\r\nlong line \xff\n\nlast without newline".repeat(3000);
        // A small buffer, so that lines cross its refills.
        let mut ours = std::io::BufReader::with_capacity(7, &input[..]);
        let mut std = std::io::BufReader::with_capacity(7, &input[..]);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        loop {
            a.clear();
            b.clear();
            let n = read_line(&mut ours, &mut a).unwrap();
            assert_eq!(n, std.read_until(b'\n', &mut b).unwrap());
            assert_eq!(a, b);
            if n == 0 {
                break;
            }
        }
    }

    #[test]
    fn stems() {
        assert_eq!(file_stem("data/dump.jsonl.gz"), "dump");
        assert_eq!(file_stem("a/b/002_x.txt"), "002_x");
        assert_eq!(file_stem("<stdin>"), "<stdin>");
    }

    #[test]
    fn reads_fields_and_reports_bad_lines() {
        let items = read(concat!(
            r#"{"id": "a1", "text": "Body", "title": "T", "published": "2024-09-14", "url": "https://example.org/a1"}"#,
            "\n\n",
            "{not json\n",
            r#"{"id": 7, "text": "Second\nline"}"#,
            "\n",
            r#"{"id": "x"}"#,
            "\n",
            r#"[1, 2]"#,
        ));
        let docs: Vec<&Document> = items
            .iter()
            .filter_map(|i| match i {
                Item::Doc(d) => Some(d),
                _ => None,
            })
            .collect();
        let problems: Vec<String> = items
            .iter()
            .filter_map(|i| match i {
                Item::Problem(p) => Some(p.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].doc_id, "a1");
        assert_eq!(docs[0].published, Ymd::new(2024, 9, 14));
        assert_eq!(docs[0].source, "d.jsonl:1");
        assert_eq!(docs[1].doc_id, "7");
        assert_eq!(docs[1].title, "Second");
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("d.jsonl:3: malformed JSON"));
        assert!(problems[1].starts_with("d.jsonl:5: no \"text\" field"));
        assert!(problems[2].starts_with("d.jsonl:6: not a JSON object"));
    }

    #[test]
    fn text_is_kept_when_another_field_shares_its_name() {
        let line = "{\"id\": \"a\", \"text\": \" Body text \", \"body\": \"B\"}\n";
        for (title, want_title, text, want_text) in [
            ("title", "Body text", "text", " Body text "),
            ("text", "Body text", "text", " Body text "),
            ("title", "B", "body", "B"),
            ("body", "B", "body", "B"),
        ] {
            let fields = FieldNames {
                title: title.into(),
                text: text.into(),
                ..FieldNames::default()
            };
            let reader: Box<dyn BufRead> = Box::new(std::io::Cursor::new(line.as_bytes()));
            let mut docs = Vec::new();
            read_jsonl("d.jsonl", reader, &fields, &mut |i| {
                match i {
                    Item::Doc(d) => docs.push(d),
                    Item::Problem(p) => panic!("{p}"),
                }
                Flow::Continue(())
            });
            assert_eq!(docs.len(), 1);
            assert_eq!(
                (docs[0].title.as_str(), docs[0].text.as_str()),
                (want_title, want_text)
            );
        }
    }

    #[test]
    fn invalid_utf8_is_repaired_and_reported() {
        let mut bytes = b"{\"id\": \"a\", \"text\": \"bad \xff byte\"}\n".to_vec();
        bytes.extend_from_slice(b"{\"id\": \"b\", \"text\": \"fine\"}\n");
        let reader: Box<dyn BufRead> = Box::new(std::io::Cursor::new(bytes));
        let mut seen = Vec::new();
        read_jsonl("d.jsonl", reader, &FieldNames::default(), &mut |i| {
            seen.push(match i {
                Item::Doc(d) => d.text,
                Item::Problem(p) => p.to_string(),
            });
            Flow::Continue(())
        });
        assert_eq!(
            seen,
            [
                "d.jsonl:1: invalid UTF-8, decoded with replacement characters",
                "bad \u{fffd} byte",
                "fine",
            ]
        );
    }

    #[test]
    fn byte_order_mark_and_crlf_are_passed_over() {
        let items = read(
            "\u{feff}{\"id\": \"a\", \"text\": \"x\"}\r\n{\"id\": \"b\", \"text\": \"y\"}\r\n",
        );
        let ids: Vec<&str> = items
            .iter()
            .map(|i| match i {
                Item::Doc(d) => d.doc_id.as_str(),
                Item::Problem(p) => panic!("{p}"),
            })
            .collect();
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn reading_stops_when_the_consumer_says_so() {
        let lines = "{\"id\": \"a\", \"text\": \"x\"}\n{bad\n".repeat(1000);
        let reader: Box<dyn BufRead> = Box::new(std::io::Cursor::new(lines.into_bytes()));
        let mut seen = 0;
        read_jsonl("d.jsonl", reader, &FieldNames::default(), &mut |_| {
            seen += 1;
            if seen == 3 {
                Flow::Break(())
            } else {
                Flow::Continue(())
            }
        });
        assert_eq!(seen, 3);
    }

    #[test]
    fn missing_id_is_made_from_file_and_line_with_a_warning() {
        let items = read("{\"text\": \"x\"}\n");
        assert!(
            matches!(&items[0], Item::Problem(p) if p.severity == super::super::Severity::Warning)
        );
        assert!(matches!(&items[1], Item::Doc(d) if d.doc_id == "d:1"));
    }
}
