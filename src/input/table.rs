//! CSV dumps: a header row naming the fields, then one article per record.

use std::io::BufRead;

use super::fields::{document_from_fields, FieldNames};
use super::{Flow, Item, Problem};
use crate::error::Location;

/// Reads a CSV file with a header row. A record with the wrong number of fields or broken
/// quoting is reported as `file:line` and skipped; a file whose header lacks the text field
/// is skipped whole.
pub(crate) fn read_csv(
    name: &str,
    reader: Box<dyn BufRead>,
    fields: &FieldNames,
    sink: &mut dyn FnMut(Item) -> Flow,
) {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let header = match csv.byte_headers() {
        Ok(h) => h.clone(),
        Err(err) => {
            if sink(Item::Problem(Problem::skipped(
                Location::line(name, 1),
                format!("cannot read the CSV header: {err}"),
            )))
            .is_break()
            {
                return;
            }
            return;
        }
    };
    let columns: Vec<String> = header
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect();
    if !columns.contains(&fields.text) {
        if sink(Item::Problem(Problem::skipped(
            Location::line(name, 1),
            format!(
                "the header has no \"{}\" column (it has: {}); file skipped",
                fields.text,
                columns.join(", ")
            ),
        )))
        .is_break()
        {
            return;
        }
        return;
    }
    let mut record = csv::ByteRecord::new();
    loop {
        let line = csv.position().line() + u64::from(csv.position().line() == 0);
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) => {
                let at_line = err.position().map(|p| p.line()).unwrap_or(line);
                let fatal = matches!(err.kind(), csv::ErrorKind::Io(_));
                if sink(Item::Problem(Problem::skipped(
                    Location::line(name, at_line),
                    format!("malformed CSV record: {err}"),
                )))
                .is_break()
                {
                    return;
                }
                if fatal {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        if record.len() != columns.len() {
            if sink(Item::Problem(Problem::skipped(
                Location::line(name, line),
                format!(
                    "record has {} fields but the header has {}",
                    record.len(),
                    columns.len()
                ),
            )))
            .is_break()
            {
                return;
            }
            continue;
        }
        let mut replaced = false;
        let values: Vec<String> = record
            .iter()
            .map(|b| {
                let (s, bad) = super::decode(b.to_vec());
                replaced |= bad;
                s
            })
            .collect();
        if replaced {
            let _ = sink(Item::Problem(Problem::warning(
                Location::line(name, line),
                "invalid UTF-8, decoded with replacement characters",
            )));
        }
        let get = |key: &str| -> Option<String> {
            let i = columns.iter().position(|c| c == key)?;
            Some(values[i].clone())
        };
        let flow = match document_from_fields(name, line, fields, get(&fields.text), &get, sink) {
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

    #[test]
    fn reads_records_and_reports_short_ones() {
        let data = "id,title,text\n\
                    a,First,\"Body, with comma\nand a second line\"\n\
                    b,Short\n\
                    c,Third,\"He said \"\"no\"\".\"\n";
        let mut items = Vec::new();
        let reader: Box<dyn BufRead> = Box::new(std::io::Cursor::new(data.as_bytes().to_vec()));
        read_csv("x.csv", reader, &FieldNames::default(), &mut |i| {
            items.push(i);
            Flow::Continue(())
        });
        let mut docs = Vec::new();
        let mut problems = Vec::new();
        for i in items {
            match i {
                Item::Doc(d) => docs.push(d),
                Item::Problem(p) => problems.push(p.to_string()),
            }
        }
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].text, "Body, with comma\nand a second line");
        assert_eq!(docs[1].text, "He said \"no\".");
        assert_eq!(docs[1].source, "x.csv:5");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("x.csv:4: record has 2 fields"),
            "{problems:?}"
        );
    }

    #[test]
    fn header_without_text_column_skips_the_file() {
        let mut items = Vec::new();
        let reader: Box<dyn BufRead> = Box::new(std::io::Cursor::new(b"id,body\na,b\n".to_vec()));
        read_csv("y.csv", reader, &FieldNames::default(), &mut |i| {
            items.push(i);
            Flow::Continue(())
        });
        assert_eq!(items.len(), 1);
        assert!(
            matches!(&items[0], Item::Problem(p) if p.to_string().contains("no \"text\" column"))
        );
    }
}
