//! Records with named fields (JSONL lines, CSV rows) turned into documents.

use std::io::BufRead;

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
/// (a line is checked as UTF-8 in place and copied only when it must be repaired), and the
/// article text is moved out of the parsed object rather than copied, unless another field
/// is read under the same name.
pub(crate) fn read_jsonl(
    name: &str,
    mut reader: Box<dyn BufRead>,
    fields: &FieldNames,
    sink: &mut dyn FnMut(Item) -> Flow,
) {
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
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
        let mut value: serde_json::Value = match serde_json::from_str(trimmed) {
            Ok(v) => v,
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
        let Some(object) = value.as_object_mut() else {
            if sink(Item::Problem(Problem::skipped(
                Location::line(name, line),
                "not a JSON object",
            )))
            .is_break()
            {
                return;
            }
            continue;
        };
        fn cell(value: &serde_json::Value) -> Option<String> {
            match value {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        }
        let shared =
            [&fields.id, &fields.title, &fields.published, &fields.url].contains(&&fields.text);
        let text = match object.get_mut(fields.text.as_str()) {
            Some(serde_json::Value::String(s)) if !shared => Some(std::mem::take(s)),
            Some(value) => cell(value),
            None => None,
        };
        let object = &*object;
        let get = |key: &str| object.get(key).and_then(cell);
        let flow = match document_from_fields(name, line, fields, text, &get, sink) {
            Ok(doc) => sink(Item::Doc(doc)),
            Err(problem) => sink(Item::Problem(problem)),
        };
        if flow.is_break() {
            return;
        }
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
