//! Integration tests: the real `gleaner` binary on real files in a temporary folder.
//!
//! One test binary with themed modules (ripgrep's layout). Tests compare parsed CSV rows,
//! not bytes, except where bytes are the point (determinism across `--jobs`). The article
//! texts here were written for these tests.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A CSV row as column name -> cell.
type Row = BTreeMap<String, String>;

/// A temporary folder to write inputs into and run gleaner in.
struct Dir {
    tmp: tempfile::TempDir,
}

/// What a run of `gleaner extract` left behind.
struct Run {
    status: i32,
    stderr: String,
    out: PathBuf,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            tmp: tempfile::Builder::new()
                .prefix("gleaner-cli-")
                .tempdir()
                .expect("temporary folder"),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Writes `bytes` to `rel`, creating folders as needed.
    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Writes `bytes` gzipped to `rel`.
    fn write_gz(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes.as_ref()).unwrap();
        self.write(rel, enc.finish().unwrap())
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gleaner"));
        cmd.current_dir(self.tmp.path());
        cmd
    }

    /// Runs `gleaner extract ARGS --out out` in the folder.
    fn extract(&self, args: &[&str]) -> Run {
        self.extract_to("out", args, None)
    }

    /// Like [`Dir::extract`], with `stdin` on standard input and the tables in `out`.
    fn extract_to(&self, out: &str, args: &[&str], stdin: Option<&[u8]>) -> Run {
        let mut cmd = self.command();
        cmd.arg("extract").args(args).args(["--out", out]);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("gleaner runs");
        if let Some(bytes) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(bytes).unwrap();
        }
        let output = child.wait_with_output().unwrap();
        run_from(output, self.path(out))
    }
}

fn run_from(output: Output, out: PathBuf) -> Run {
    Run {
        status: output.status.code().expect("gleaner exits normally"),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        out,
    }
}

impl Run {
    /// The rows of `name`.csv, parsed.
    fn table(&self, name: &str) -> Vec<Row> {
        let path = self.out.join(format!("{name}.csv"));
        let mut reader = csv::Reader::from_path(&path)
            .unwrap_or_else(|e| panic!("{}: {e}\nstderr:\n{}", path.display(), self.stderr));
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                header
                    .iter()
                    .cloned()
                    .zip(r.iter().map(str::to_string))
                    .collect()
            })
            .collect()
    }

    /// One column of a table, in row order.
    fn column(&self, table: &str, column: &str) -> Vec<String> {
        self.table(table)
            .into_iter()
            .map(|r| r[column].clone())
            .collect()
    }

    /// The documents table keyed by doc_id.
    fn documents(&self) -> BTreeMap<String, Row> {
        self.table("documents")
            .into_iter()
            .map(|r| (r["doc_id"].clone(), r))
            .collect()
    }

    #[track_caller]
    fn assert_status(&self, want: i32) {
        assert_eq!(
            self.status, want,
            "exit status {}, stderr:\n{}",
            self.status, self.stderr
        );
    }

    #[track_caller]
    fn assert_stderr_has(&self, needle: &str) {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
    }
}

/// A JSON Lines line for an article.
fn jsonl(fields: &[(&str, &str)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    serde_json::Value::Object(map).to_string() + "\n"
}

/// The characters `start..end` of `text`, as the tables count them.
fn chars(text: &str, start: &str, end: &str) -> String {
    let (s, e): (usize, usize) = (start.parse().unwrap(), end.parse().unwrap());
    assert!(s <= e, "start {s} > end {e}");
    text.chars().skip(s).take(e - s).collect()
}

/// Checks that every row with offsets and a `text` cell has the text its offsets point
/// at, in every table that has them; returns how many rows were checked.
fn assert_offsets(run: &Run, texts: &BTreeMap<String, String>) -> usize {
    let mut checked = 0;
    for table in ["entities", "quantities", "dates", "roles", "events"] {
        for row in run.table(table) {
            let Some(text) = texts.get(&row["doc_id"]) else {
                panic!("{table}: unknown doc_id {:?}", row["doc_id"]);
            };
            let Some(cell) = row.get("text") else {
                continue;
            };
            let want = chars(text, &row["start"], &row["end"]);
            // Text cells are neutralised for spreadsheets: a leading apostrophe is added
            // to cells that start with a formula character.
            let cell = match cell.strip_prefix('\'') {
                Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
                _ => cell.as_str(),
            };
            assert_eq!(cell, want, "{table} row {row:?}");
            checked += 1;
        }
    }
    checked
}

/// Articles written for these tests, in the style of wire reports.
const MOSUL: &str = "Gunmen kill 12 at Mosul market\n\n\
    MOSUL, Iraq - At least 12 people were killed and 30 wounded on Monday when gunmen \
    opened fire at a crowded market in Mosul, police said. The Iraqi army sent 500 troops \
    to the city on 3 March 2024.\n";
const KYIV: &str = "Drone strike hits Kyiv suburb\n\n\
    KYIV, Ukraine - A drone strike on a suburb of Kyiv killed four people and injured 15 \
    overnight, the regional governor said on Tuesday.\n";
const MOGADISHU: &str = "Car bomb in Mogadishu\n\n\
    MOGADISHU, Somalia - A car bomb exploded near a checkpoint in Mogadishu on Friday, \
    killing seven soldiers, officials said.\n";

mod incidents;
mod rules;

mod formats {
    use super::*;

    #[test]
    fn folder_of_txt_files_is_walked_in_order() {
        let d = Dir::new();
        d.write("articles/b-kyiv.txt", KYIV);
        d.write("articles/a-mosul.txt", MOSUL);
        d.write("articles/deeper/c-mogadishu.txt", MOGADISHU);
        d.write("articles/notes.md", "not an article");
        d.write("articles/.hidden.txt", "Hidden article about Baghdad");
        let run = d.extract(&["articles"]);
        run.assert_status(0);
        assert_eq!(
            run.column("documents", "doc_id"),
            ["a-mosul", "b-kyiv", "c-mogadishu"]
        );
        let docs = run.documents();
        assert_eq!(docs["a-mosul"]["title"], "Gunmen kill 12 at Mosul market");
        assert!(docs["c-mogadishu"]["source"].ends_with("c-mogadishu.txt"));
        assert_eq!(
            docs["b-kyiv"]["chars"],
            KYIV.chars().count().to_string(),
            "the whole text is read"
        );
        let places: Vec<(String, String)> = run
            .table("entities")
            .into_iter()
            .map(|r| (r["doc_id"].clone(), r["text"].clone()))
            .collect();
        for (doc, place) in [
            ("a-mosul", "Mosul"),
            ("b-kyiv", "Kyiv"),
            ("c-mogadishu", "Mogadishu"),
        ] {
            assert!(
                places.contains(&(doc.to_string(), place.to_string())),
                "{doc}: {place} not found in {places:?}"
            );
        }
        run.assert_stderr_has("not articles");
    }

    #[test]
    fn jsonl_and_ndjson_with_title_date_and_url() {
        let d = Dir::new();
        d.write(
            "feed.jsonl",
            jsonl(&[
                ("id", "m1"),
                ("title", "Market attack"),
                ("published", "2024-03-05"),
                ("url", "https://example.org/m1"),
                ("text", MOSUL),
            ]) + "\n"
                + &jsonl(&[("id", "k1"), ("text", KYIV)]),
        );
        d.write(
            "more.ndjson",
            jsonl(&[
                ("id", "s1"),
                ("text", MOGADISHU),
                ("published", "2024-06-07"),
            ]),
        );
        let run = d.extract(&["feed.jsonl", "more.ndjson"]);
        run.assert_status(0);
        let docs = run.documents();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs["m1"]["title"], "Market attack");
        assert_eq!(docs["m1"]["published"], "2024-03-05");
        assert_eq!(docs["m1"]["published_from"], "input");
        assert_eq!(docs["m1"]["url"], "https://example.org/m1");
        assert_eq!(docs["m1"]["source"], "feed.jsonl:1");
        assert_eq!(docs["k1"]["source"], "feed.jsonl:3", "blank lines count");
        assert_eq!(docs["k1"]["title"], "Drone strike hits Kyiv suburb");
        assert_eq!(docs["k1"]["published"], "");
        assert_eq!(docs["s1"]["published"], "2024-06-07");
    }

    #[test]
    fn csv_with_quoted_commas_quotes_and_newlines() {
        let d = Dir::new();
        let text = "Clashes near Kidal, Mali\n\nFighting near Kidal, in northern Mali, \
                    killed nine people, a \"senior\" official said.\nSecond line, with a comma.";
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["id", "title", "published", "text"])
            .unwrap();
        w.write_record(["c1", "Kidal, Mali", "2024-06-01", text])
            .unwrap();
        w.write_record(["c2", "", "", MOSUL]).unwrap();
        d.write("export.csv", w.into_inner().unwrap());
        let run = d.extract(&["export.csv"]);
        run.assert_status(0);
        let docs = run.documents();
        assert_eq!(docs["c1"]["title"], "Kidal, Mali");
        assert_eq!(docs["c1"]["chars"], text.chars().count().to_string());
        assert_eq!(docs["c2"]["title"], "Gunmen kill 12 at Mosul market");
        let texts = BTreeMap::from([("c1".into(), text.into()), ("c2".into(), MOSUL.into())]);
        assert!(assert_offsets(&run, &texts) > 0);
        assert!(run
            .table("entities")
            .iter()
            .any(|r| r["doc_id"] == "c1" && r["text"] == "Kidal"));
    }

    /// Every format gzipped gives the same rows as uncompressed.
    #[test]
    fn gzip_inputs_read_like_plain_ones() {
        let d = Dir::new();
        let lines = jsonl(&[("id", "j1"), ("text", KYIV)]);
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["id", "text"]).unwrap();
        w.write_record(["c1", MOGADISHU]).unwrap();
        let table = w.into_inner().unwrap();
        d.write("plain/mosul.txt", MOSUL);
        d.write("plain/feed.jsonl", &lines);
        d.write("plain/export.csv", &table);
        d.write_gz("gz/mosul.txt.gz", MOSUL);
        d.write_gz("gz/feed.jsonl.gz", &lines);
        d.write_gz("gz/export.csv.gz", &table);
        let plain = d.extract_to("out-plain", &["plain"], None);
        let gz = d.extract_to("out-gz", &["gz"], None);
        plain.assert_status(0);
        gz.assert_status(0);
        assert_eq!(gz.column("documents", "doc_id"), ["c1", "j1", "mosul"]);
        for table in ["entities", "quantities", "dates", "events"] {
            assert_eq!(plain.table(table), gz.table(table), "{table}");
        }
        assert!(!gz.table("entities").is_empty());
    }

    #[test]
    fn dash_reads_jsonl_from_stdin() {
        let d = Dir::new();
        let input =
            jsonl(&[("id", "in1"), ("text", MOSUL)]) + &jsonl(&[("id", "in2"), ("text", KYIV)]);
        let run = d.extract_to("out", &["-"], Some(input.as_bytes()));
        run.assert_status(0);
        let docs = run.documents();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs["in2"]["source"], "<stdin>:2");
        assert!(run
            .table("entities")
            .iter()
            .any(|r| r["doc_id"] == "in1" && r["text"] == "Mosul"));
    }

    #[test]
    fn field_names_can_be_changed() {
        let d = Dir::new();
        d.write(
            "dump.jsonl",
            jsonl(&[
                ("guid", "x-1"),
                ("headline", "Custom headline"),
                ("body", MOSUL),
                ("date", "2024-03-04T08:00:00Z"),
                ("link", "https://example.org/x-1"),
                // Default names, which must now be ignored.
                ("id", "wrong"),
                ("text", "wrong text"),
            ]),
        );
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["guid", "body", "date"]).unwrap();
        w.write_record(["x-2", KYIV, "2024-05-06"]).unwrap();
        d.write("dump.csv", w.into_inner().unwrap());
        let run = d.extract(&[
            "dump.jsonl",
            "dump.csv",
            "--id-field",
            "guid",
            "--text-field",
            "body",
            "--title-field",
            "headline",
            "--published-field",
            "date",
            "--url-field",
            "link",
        ]);
        run.assert_status(0);
        let docs = run.documents();
        assert_eq!(docs.keys().collect::<Vec<_>>(), ["x-1", "x-2"]);
        assert_eq!(docs["x-1"]["title"], "Custom headline");
        assert_eq!(docs["x-1"]["published"], "2024-03-04");
        assert_eq!(docs["x-1"]["url"], "https://example.org/x-1");
        assert_eq!(docs["x-1"]["chars"], MOSUL.chars().count().to_string());
        assert_eq!(docs["x-2"]["published"], "2024-05-06");
    }
}

mod bad_input {
    use super::*;

    #[test]
    fn invalid_utf8_is_replaced_and_reported() {
        let d = Dir::new();
        let mut bytes =
            b"Caf\xe9 attack\n\nA blast near a caf\xe9 in Baghdad killed three.\n".to_vec();
        bytes.extend_from_slice(b"Police in Mosul said \xff\xfe it was a bomb.\n");
        d.write("latin1.txt", &bytes);
        d.write(
            "feed.jsonl",
            b"{\"id\": \"j\", \"text\": \"Shelling in Kharkiv \xc3\x28 hurt two.\"}\n",
        );
        let run = d.extract(&["latin1.txt", "feed.jsonl"]);
        run.assert_status(0);
        run.assert_stderr_has("latin1.txt: invalid UTF-8");
        run.assert_stderr_has("feed.jsonl:1: invalid UTF-8");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        assert!(text.contains('\u{FFFD}'));
        let docs = run.documents();
        assert_eq!(docs["latin1"]["chars"], text.chars().count().to_string());
        assert_eq!(docs["latin1"]["title"], "Caf\u{FFFD} attack");
        let texts = BTreeMap::from([
            ("latin1".to_string(), text),
            (
                "j".to_string(),
                "Shelling in Kharkiv \u{FFFD}( hurt two.".to_string(),
            ),
        ]);
        assert!(assert_offsets(&run, &texts) >= 2);
        run.assert_stderr_has("2 warnings, 0 skipped");
    }

    #[test]
    fn malformed_jsonl_line_is_reported_skipped_and_counted() {
        let d = Dir::new();
        let content = jsonl(&[("id", "a"), ("text", MOSUL)])
            + "{\"id\": \"b\", \"text\": \"unterminated\n"
            + &jsonl(&[("id", "c"), ("text", KYIV)])
            + "[\"not\", \"an object\"]\n"
            + &jsonl(&[("id", "e"), ("title", "no text here")])
            + &jsonl(&[("id", "f"), ("text", MOGADISHU)]);
        d.write("dump.jsonl", content);
        let run = d.extract(&["dump.jsonl"]);
        run.assert_status(1);
        run.assert_stderr_has("dump.jsonl:2: malformed JSON");
        run.assert_stderr_has("dump.jsonl:4: not a JSON object");
        run.assert_stderr_has("dump.jsonl:5: no \"text\" field");
        run.assert_stderr_has("0 warnings, 3 skipped");
        assert_eq!(run.column("documents", "doc_id"), ["a", "c", "f"]);
        assert!(!run.table("entities").is_empty());
    }

    #[test]
    fn csv_record_with_wrong_field_count_is_skipped() {
        let d = Dir::new();
        d.write(
            "export.csv",
            "id,title,text\n\
             a,One,\"Four soldiers were killed in Goma, officials said.\"\n\
             b,Two\n\
             c,Three,Police in Aden said two were hurt.,extra\n\
             d,Four,\"Fighting in Bamako\"\n",
        );
        let run = d.extract(&["export.csv"]);
        run.assert_status(1);
        run.assert_stderr_has("export.csv:3: record has 2 fields but the header has 3");
        run.assert_stderr_has("export.csv:4: record has 4 fields but the header has 3");
        assert_eq!(run.column("documents", "doc_id"), ["a", "d"]);
        assert_eq!(run.documents()["d"]["source"], "export.csv:5");
    }

    #[test]
    fn binary_file_given_explicitly_is_reported_and_skipped() {
        let d = Dir::new();
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
        png.extend_from_slice(&[0u8; 500]);
        d.write("photo.png", &png);
        d.write("archive.jsonl", &png);
        d.write("good.txt", MOSUL);
        let run = d.extract(&["photo.png", "archive.jsonl", "good.txt"]);
        run.assert_status(1);
        run.assert_stderr_has("photo.png: binary data");
        run.assert_stderr_has("archive.jsonl: binary data");
        assert_eq!(
            run.stderr.matches("archive.jsonl").count(),
            1,
            "reported once, not line by line:\n{}",
            run.stderr
        );
        assert_eq!(run.column("documents", "doc_id"), ["good"]);
    }

    /// A file that cannot be read is reported and the run goes on. Permissions do not stop
    /// root, so the chmod case is checked only when they do; a file that opens but fails
    /// on read (Linux's /proc/self/mem at offset 0) is checked everywhere it exists.
    #[test]
    fn unreadable_file_is_reported_and_skipped() {
        let d = Dir::new();
        d.write("articles/good.txt", MOSUL);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let locked = d.write("articles/locked.txt", KYIV);
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
            if std::fs::read(&locked).is_err() {
                let run = d.extract(&["articles"]);
                run.assert_status(1);
                run.assert_stderr_has("locked.txt: cannot open");
                assert_eq!(run.column("documents", "doc_id"), ["good"]);
            }
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
            std::fs::remove_file(&locked).unwrap();
        }
        if cfg!(target_os = "linux") {
            let run = d.extract(&["/proc/self/mem", "articles"]);
            run.assert_status(1);
            run.assert_stderr_has("/proc/self/mem: read error, file skipped");
            assert_eq!(run.column("documents", "doc_id"), ["good"]);
        }
    }

    #[test]
    fn truncated_gzip_keeps_what_was_read() {
        let d = Dir::new();
        // Varied lines so that the compressed stream is long enough to cut in the middle.
        let mut lines = String::new();
        for i in 0..400 {
            let text = format!(
                "Report {i}: {} people were killed in Mosul on day {}, and {} were hurt.",
                i * 7 % 93,
                i % 28 + 1,
                i * 13 % 71
            );
            lines += &jsonl(&[("id", &format!("r{i}")), ("text", &text)]);
        }
        let full = d.write_gz("full.jsonl.gz", &lines);
        let bytes = std::fs::read(&full).unwrap();
        d.write("cut.jsonl.gz", &bytes[..bytes.len() / 2]);
        let whole = std::fs::read(d.write_gz("article.txt.gz", MOSUL)).unwrap();
        d.write("cut.txt.gz", &whole[..whole.len() - 10]);
        d.write("good.txt", KYIV);
        let run = d.extract(&["cut.jsonl.gz", "cut.txt.gz", "good.txt"]);
        run.assert_status(1);
        run.assert_stderr_has("cut.jsonl.gz:");
        run.assert_stderr_has("read error, rest of file skipped");
        run.assert_stderr_has("cut.txt.gz: read error, file skipped");
        let ids = run.column("documents", "doc_id");
        assert!(ids.len() > 10 && ids.len() < 400, "{} documents", ids.len());
        assert_eq!(ids[0], "r0");
        assert_eq!(ids.last().unwrap(), "good");
        assert!(!ids.contains(&"cut".to_string()));
    }

    #[test]
    fn nonexistent_path_is_reported_and_the_rest_read() {
        let d = Dir::new();
        d.write("good.txt", MOSUL);
        let run = d.extract(&["missing.jsonl", "good.txt", "no/such/folder"]);
        run.assert_status(1);
        run.assert_stderr_has("missing.jsonl: cannot read");
        run.assert_stderr_has("no/such/folder: cannot read");
        run.assert_stderr_has("2 skipped");
        assert_eq!(run.column("documents", "doc_id"), ["good"]);
    }

    #[test]
    fn empty_articles_are_fine() {
        let d = Dir::new();
        d.write("empty.txt", "");
        d.write("blank.txt", "\n\n   \n");
        d.write("feed.jsonl", jsonl(&[("id", "e"), ("text", "")]));
        let run = d.extract(&["empty.txt", "blank.txt", "feed.jsonl"]);
        run.assert_status(0);
        let docs = run.documents();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs["empty"]["chars"], "0");
        assert_eq!(docs["e"]["chars"], "0");
        assert_eq!(docs["blank"]["title"], "");
        assert!(run.table("entities").is_empty());
    }

    /// Several kinds at once: the summary counts each, problems come in input order.
    #[test]
    fn summary_counts_warnings_and_skipped() {
        let d = Dir::new();
        d.write(
            "a.jsonl",
            jsonl(&[("text", MOSUL)])
                + &jsonl(&[("id", "bad-date"), ("text", KYIV), ("published", "someday")])
                + "not json\n",
        );
        d.write("b.txt", b"Blast in Aden \xff\n");
        let run = d.extract(&["a.jsonl", "b.txt", "gone.txt"]);
        run.assert_status(1);
        run.assert_stderr_has("a.jsonl:1: no \"id\" field; the document is given id a:1");
        run.assert_stderr_has("a.jsonl:2: \"published\" field \"someday\" is not a date");
        run.assert_stderr_has("a.jsonl:3: malformed JSON");
        run.assert_stderr_has("3 warnings, 2 skipped");
        let first = run.stderr.find("a.jsonl:1").unwrap();
        let third = run.stderr.find("a.jsonl:3").unwrap();
        let b = run.stderr.find("b.txt").unwrap();
        assert!(first < third && third < b, "{}", run.stderr);
        assert_eq!(run.column("documents", "doc_id"), ["a:1", "bad-date", "b"]);
    }
}

mod determinism {
    use super::*;

    /// Generated reports with places, numbers and dates, so the tables have real content.
    fn corpus(n: usize) -> Vec<(String, String)> {
        let places = [
            "Mosul",
            "Baghdad",
            "Kyiv",
            "Kharkiv",
            "Mogadishu",
            "Maiduguri",
            "Bamako",
            "Goma",
            "Aden",
            "Kidal",
        ];
        let verbs = ["killed", "wounded", "abducted"];
        let months = ["January", "March", "June", "September", "November"];
        (0..n)
            .map(|i| {
                let place = places[i % places.len()];
                let other = places[(i * 7 + 3) % places.len()];
                let mut text = format!("Attack near {place}\n\n");
                for k in 0..(3 + i % 5) {
                    text += &format!(
                        "At least {} people were {} on {} {} 2024 in an attack on a \
                         checkpoint near {place}, officials in {other} said. About {},{:03} \
                         troops were sent to the area. ",
                        (i * 31 + k * 17) % 250 + 2,
                        verbs[(i + k) % verbs.len()],
                        months[(i + k) % months.len()],
                        (i + k) % 28 + 1,
                        (i + k) % 9 + 1,
                        (i * 37) % 1000,
                    );
                }
                (format!("doc-{i:04}"), text)
            })
            .collect()
    }

    /// The tables are byte-for-byte the same for one and eight worker threads, over
    /// several batches (of 64 KiB) and several input files.
    #[test]
    fn tables_identical_for_any_number_of_jobs() {
        let d = Dir::new();
        let docs = corpus(600);
        let (first, rest) = docs.split_at(150);
        let lines: String = rest
            .iter()
            .map(|(id, text)| jsonl(&[("id", id), ("text", text)]))
            .collect();
        d.write("in/dump.jsonl", lines);
        for (id, text) in first {
            d.write(&format!("in/txt/{id}.txt"), text);
        }
        let total: usize = docs.iter().map(|(_, t)| t.len()).sum();
        assert!(total > 4 * 65536, "several batches: {total} bytes");
        let args = |jobs| ["in", "--jobs", jobs, "--batch-mb", "0.0625"];
        let one = d.extract_to("out1", &args("1"), None);
        let eight = d.extract_to("out8", &args("8"), None);
        one.assert_status(0);
        eight.assert_status(0);
        for (table, _) in gleaner::sink::TABLES {
            let name = format!("{table}.csv");
            let a = std::fs::read(one.out.join(&name)).unwrap();
            let b = std::fs::read(eight.out.join(&name)).unwrap();
            assert!(a == b, "{name} differs between --jobs 1 and --jobs 8");
        }
        assert_eq!(one.table("documents").len(), 600);
        for (table, least) in [
            ("entities", 600),
            ("quantities", 600),
            ("dates", 600),
            ("events", 100),
        ] {
            let rows = one.table(table).len();
            assert!(rows >= least, "{table} has only {rows} rows");
        }
    }
}

mod offsets {
    use super::*;

    /// Offsets are character offsets into the text as read, also after accents, curly
    /// quotes, dashes and emoji (several bytes each in UTF-8, two UTF-16 units for emoji).
    #[test]
    fn every_row_points_at_its_text() {
        let d = Dir::new();
        let texts = [
            (
                "accents",
                "Café bombing in Diyarbakır\n\nA bomb at a café in Diyarbakır, Türkiye, killed \
                 five people and wounded 21 on 4 May 2024, the governor’s office said — the \
                 second attack there this year. São Paulo and Kraków sent condolences.",
            ),
            (
                "emoji",
                "🔴 LIVE: strike on Kharkiv 🔴\n\n📍 Kharkiv — A missile strike killed 3 people \
                 and injured 12 in Kharkiv on Sunday, officials said 😢. Another strike hit \
                 Zaporizhzhia on 12 June 2024, wounding at least 40.",
            ),
            (
                "mixed",
                "«Attack» near Mosul\n\nAt least 12 people were killed near Mosul, Iraq, on \
                 Monday — police said “gunmen” fired on a café. Baghdad sent 1,500 troops. \
                 On 3 March 2024 a second attack in Mogadishu, Somalia, killed seven.",
            ),
        ];
        let mut lines = String::new();
        for (id, text) in &texts[1..] {
            lines += &jsonl(&[("id", id), ("text", text)]);
        }
        d.write("accents.txt", texts[0].1);
        d.write("feed.jsonl", lines);
        let run = d.extract(&["accents.txt", "feed.jsonl"]);
        run.assert_status(0);
        let map: BTreeMap<String, String> = texts
            .iter()
            .map(|(id, t)| (id.to_string(), t.to_string()))
            .collect();
        let checked = assert_offsets(&run, &map);
        assert!(checked >= 15, "only {checked} rows checked");
        let entities = run.table("entities");
        for (doc, name) in [
            ("accents", "Diyarbakır"),
            ("emoji", "Kharkiv"),
            ("mixed", "Mogadishu"),
        ] {
            assert!(
                entities
                    .iter()
                    .any(|r| r["doc_id"] == doc && r["text"] == name),
                "{doc}: {name} not found"
            );
        }
    }

    /// The bundled example articles: real-sized texts in every input format.
    #[test]
    fn example_articles_point_at_their_text() {
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let d = Dir::new();
        let run = d.extract(&[examples.to_str().unwrap()]);
        run.assert_status(0);
        let mut texts = BTreeMap::new();
        for entry in std::fs::read_dir(examples.join("articles")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "txt") {
                let id = path.file_stem().unwrap().to_str().unwrap().to_string();
                texts.insert(id, std::fs::read_to_string(&path).unwrap());
            }
        }
        for entry in std::fs::read_dir(examples.join("feeds")).unwrap() {
            let path = entry.unwrap().path();
            match path.extension().and_then(|e| e.to_str()) {
                Some("jsonl") => {
                    for line in std::fs::read_to_string(&path).unwrap().lines() {
                        if line.trim().is_empty() {
                            continue;
                        }
                        let v: serde_json::Value = serde_json::from_str(line).unwrap();
                        texts.insert(
                            v["id"].as_str().unwrap().to_string(),
                            v["text"].as_str().unwrap().to_string(),
                        );
                    }
                }
                Some("csv") => {
                    let mut r = csv::Reader::from_path(&path).unwrap();
                    let header = r.headers().unwrap().clone();
                    let id = header.iter().position(|h| h == "id").unwrap();
                    let text = header.iter().position(|h| h == "text").unwrap();
                    for rec in r.records() {
                        let rec = rec.unwrap();
                        texts.insert(rec[id].to_string(), rec[text].to_string());
                    }
                }
                _ => {}
            }
        }
        assert_eq!(run.documents().len(), texts.len());
        assert!(assert_offsets(&run, &texts) > 100);
    }
}

mod safety {
    use super::*;

    #[test]
    fn formula_cells_get_a_leading_apostrophe() {
        let d = Dir::new();
        let mut lines = String::new();
        for (id, title) in [
            ("f1", "=HYPERLINK(\"http://example.org\",\"click\")"),
            ("f2", "-5 dead in Mosul"),
            ("f3", "+2 more wounded"),
            ("f4", "@channel update"),
            ("f5", "al-Anbar - clashes"),
        ] {
            lines += &jsonl(&[
                ("id", id),
                ("title", title),
                ("text", MOSUL),
                ("url", "=1+1"),
            ]);
        }
        lines += &jsonl(&[("id", "=cmd|' /C calc'!A0"), ("text", KYIV)]);
        d.write("feed.jsonl", lines);
        let run = d.extract(&["feed.jsonl"]);
        run.assert_status(0);
        let docs = run.documents();
        assert_eq!(
            docs["f1"]["title"],
            "'=HYPERLINK(\"http://example.org\",\"click\")"
        );
        assert_eq!(docs["f2"]["title"], "'-5 dead in Mosul");
        assert_eq!(docs["f3"]["title"], "'+2 more wounded");
        assert_eq!(docs["f4"]["title"], "'@channel update");
        assert_eq!(docs["f5"]["title"], "al-Anbar - clashes");
        assert_eq!(docs["f1"]["url"], "'=1+1");
        // The doc_id is neutralised the same way in every table, so joins still work.
        assert!(docs.contains_key("'=cmd|' /C calc'!A0"));
        assert!(run
            .table("entities")
            .iter()
            .any(|r| r["doc_id"] == "'=cmd|' /C calc'!A0" && r["text"] == "Kyiv"));
    }

    /// Numbers are plain: digits, an optional minus and decimal point, nothing else.
    #[test]
    fn numbers_are_plain() {
        let d = Dir::new();
        d.write(
            "a.txt",
            "Troops sent\n\nThe army sent 1,500 troops and 2,000,000 rounds to Mosul; \
             12 people were killed and 30 wounded. Officials in Kyiv said 4,250 were \
             evacuated.",
        );
        let run = d.extract(&["a.txt"]);
        run.assert_status(0);
        let plain = |s: &str| {
            let s = s.strip_prefix('-').unwrap_or(s);
            !s.is_empty()
                && s.chars().all(|c| c.is_ascii_digit() || c == '.')
                && s.matches('.').count() <= 1
        };
        let quantities = run.table("quantities");
        for row in &quantities {
            assert!(plain(&row["value"]), "{row:?}");
            assert!(
                row["value_max"].is_empty() || plain(&row["value_max"]),
                "{row:?}"
            );
        }
        let value_of = |text: &str| {
            quantities
                .iter()
                .find(|r| r["text"].contains(text))
                .map(|r| r["value"].clone())
        };
        assert_eq!(value_of("1,500").as_deref(), Some("1500"));
        assert_eq!(value_of("4,250").as_deref(), Some("4250"));
        for table in ["entities", "quantities", "dates"] {
            for row in run.table(table) {
                assert!(plain(&row["start"]) && plain(&row["end"]), "{row:?}");
            }
        }
        for row in run.table("events") {
            for col in ["killed", "injured", "captured"] {
                assert!(row[col].is_empty() || plain(&row[col]), "{row:?}");
            }
        }
    }
}

mod output {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.') || n.ends_with(".partial"))
            .collect()
    }

    #[test]
    fn nested_output_folder_is_created_and_no_partial_files_remain() {
        let d = Dir::new();
        d.write("a.txt", MOSUL);
        let run = d.extract_to("deep/er/out", &["a.txt"], None);
        run.assert_status(0);
        let mut names: Vec<String> = std::fs::read_dir(&run.out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut want: Vec<String> = gleaner::sink::TABLES
            .iter()
            .map(|(t, _)| format!("{t}.csv"))
            .collect();
        want.sort();
        assert_eq!(names, want);
        assert!(leftovers(&run.out).is_empty());
    }

    /// Ctrl-C stops the run with status 130 and leaves neither tables nor hidden files.
    #[test]
    fn interrupted_run_leaves_nothing_behind() {
        let d = Dir::new();
        let gen = d
            .command()
            .args([
                "generate",
                "--size",
                "4MB",
                "--seed",
                "3",
                "--out",
                "dump.jsonl",
            ])
            .output()
            .unwrap();
        assert!(gen.status.success(), "{gen:?}");
        let mut child = d
            .command()
            .args(["extract", "dump.jsonl", "--out", "out", "--jobs", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The hidden files appear once the pipeline is built and the run has begun.
        let partial = d.path("out/.entities.csv.partial");
        while !partial.exists() {
            assert!(child.try_wait().unwrap().is_none(), "gleaner ended early");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let kill = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let run = run_from(child.wait_with_output().unwrap(), d.path("out"));
        assert_eq!(
            run.status, 130,
            "the run should have been stopped, not finished: {}",
            run.stderr
        );
        run.assert_stderr_has("interrupted: no tables were written");
        let left: Vec<_> = std::fs::read_dir(&run.out).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn unwritable_output_is_an_error_with_status_2() {
        let d = Dir::new();
        d.write("a.txt", MOSUL);
        d.write("plain-file", "not a folder");
        let run = d.extract_to("plain-file/out", &["a.txt"], None);
        run.assert_status(2);
        run.assert_stderr_has("plain-file/out");
        assert!(!d.path("plain-file/out").exists());
    }

    /// Re-running over a folder that holds the output reads the articles, not the tables
    /// of the last run.
    #[test]
    fn output_folder_inside_the_input_is_not_read() {
        let d = Dir::new();
        d.write("corpus/a.txt", MOSUL);
        let first = d.extract_to("corpus/out", &["corpus"], None);
        first.assert_status(0);
        let second = d.extract_to("corpus/out", &["corpus"], None);
        second.assert_status(0);
        assert_eq!(second.column("documents", "doc_id"), ["a"]);
        assert!(leftovers(&second.out).is_empty());
    }
}

mod cli {
    use super::*;

    #[test]
    fn help_explains_the_exit_status() {
        let d = Dir::new();
        for args in [&["--help"][..], &["extract", "--help"][..]] {
            let out = d.command().args(args).output().unwrap();
            assert!(out.status.success());
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("Exit status"), "{args:?}:\n{text}");
            assert!(text.contains("skipped"), "{args:?}:\n{text}");
        }
    }

    #[test]
    fn quiet_drops_the_summary_but_not_the_problems() {
        let d = Dir::new();
        d.write("a.txt", MOSUL);
        d.write("b.jsonl", "{oops\n");
        let loud = d.extract_to("out1", &["a.txt", "b.jsonl"], None);
        let quiet = d.extract_to("out2", &["a.txt", "b.jsonl", "--quiet"], None);
        loud.assert_status(1);
        quiet.assert_status(1);
        loud.assert_stderr_has("gleaner: 1 document (");
        loud.assert_stderr_has("from 2 inputs");
        loud.assert_stderr_has("rows: documents 1");
        assert!(!quiet.stderr.contains("document ("), "{}", quiet.stderr);
        assert!(!quiet.stderr.contains("rows:"), "{}", quiet.stderr);
        quiet.assert_stderr_has("b.jsonl:1: malformed JSON");
        assert_eq!(quiet.stderr.lines().count(), 1, "{}", quiet.stderr);
    }

    /// No progress bar when standard error is not a terminal (as here): no carriage
    /// returns or escape sequences in what was written.
    #[test]
    fn no_progress_bar_when_not_a_terminal() {
        let d = Dir::new();
        d.write("a.txt", MOSUL);
        let run = d.extract(&["a.txt"]);
        run.assert_status(0);
        assert!(
            !run.stderr.contains('\r') && !run.stderr.contains('\x1b'),
            "{:?}",
            run.stderr
        );
    }
}

mod large {
    use super::*;

    /// One big article (1 MB), made of paragraphs that vary. The 100 MB linear-time check
    /// runs in release in benches/large_article.sh; this keeps the debug suite quick.
    #[test]
    fn single_large_article_completes_with_right_offsets() {
        let places = ["Mosul", "Kharkiv", "Diyarbakır", "Mogadishu", "Goma"];
        let mut text = String::from("A long report — compiled\n\n");
        let mut i = 0;
        while text.len() < 1 << 20 {
            let place = places[i % places.len()];
            text += &format!(
                "Report {i}: in {place}, officials said {} people were killed and {} \
                 wounded on {} May 2024. Residents described the café as “quiet”.\n",
                i % 97 + 2,
                i % 41 + 1,
                i % 28 + 1
            );
            i += 1;
        }
        let d = Dir::new();
        d.write("big.txt", &text);
        let run = d.extract(&["big.txt"]);
        run.assert_status(0);
        assert_eq!(
            run.documents()["big"]["chars"],
            text.chars().count().to_string()
        );
        let entities = run.table("entities");
        assert!(
            entities.len() >= i,
            "{} entities for {i} paragraphs",
            entities.len()
        );
        // The last rows are the ones far into the text.
        let texts = BTreeMap::from([("big".to_string(), text)]);
        assert!(assert_offsets(&run, &texts) > 3 * i);
    }
}
