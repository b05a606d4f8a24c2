//! Plain-text articles: one per file, the id is the file stem, the title the first
//! non-empty line.

use std::io::{BufRead, Read};

use super::fields::file_stem;
use super::{decode, looks_binary, read_error, Flow, Input, Item, Problem};
use crate::document::Document;
use crate::error::Location;

pub(crate) fn read(
    input: &Input,
    name: &str,
    mut reader: Box<dyn BufRead>,
    sink: &mut dyn FnMut(Item) -> Flow,
) {
    let mut bytes = Vec::with_capacity(input.size.min(1 << 30) as usize);
    if let Err(err) = reader.read_to_end(&mut bytes) {
        // A truncated gzip stream or a disk error: nothing of a half-read article is kept.
        let mut p = read_error(name, None, &err);
        p.message = format!("read error, file skipped: {err}");
        let _ = sink(Item::Problem(p));
        return;
    }
    if looks_binary(&bytes) {
        let _ = sink(Item::Problem(Problem::skipped(
            Location::file(name),
            "binary data, not text; file skipped",
        )));
        return;
    }
    let (text, replaced) = decode(bytes);
    if replaced {
        let _ = sink(Item::Problem(Problem::warning(
            Location::file(name),
            "invalid UTF-8, decoded with replacement characters",
        )));
    }
    let _ = sink(Item::Doc(Document {
        doc_id: file_stem(name).to_string(),
        source: name.to_string(),
        title: Document::first_line(&text).to_string(),
        published: None,
        url: None,
        text,
    }));
}
