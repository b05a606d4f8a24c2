//! `gleaner rules check|test` and `extract --rules` on real folders, run through the binary.

use std::path::Path;
use std::process::{Command, Output};

fn gleaner(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(args)
        .output()
        .expect("the gleaner binary runs")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Two broken rules and one good one, in a file whose line numbers are known.
const BROKEN: &str = r#"table = "quantities"

[[rule]]
id = "unclosed"
pattern = '''(?P<num>\d+'''
examples = [{ text = "5", value = 5 }]

[[rule]]
id = "typo-macro"
pattern = '''{NUMBR} (?P<num>\d+)'''
examples = [{ text = "5", value = 5 }]

[[rule]]
id = "fine"
pattern = '''(?P<num>\d+) goats'''
examples = [{ text = "5 goats", value = 5 }]
"#;

#[test]
fn builtin_rules_check_and_test_clean() {
    let o = gleaner(&["rules", "check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("rules compiled"));
    let o = gleaner(&["rules", "test"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains(": 0 failed"), "{}", stdout(&o));
}

/// A copy of the shipped rules folder, entity name rules included, is a valid `--rules`
/// folder: users start from it.
#[test]
fn the_shipped_rules_folder_checks_clean() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let o = gleaner(&["rules", "check", shipped.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = gleaner(&["rules", "test", shipped.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
}

/// The entity stage's entities.toml in a user folder replaces the built-in one, and its
/// mistakes are located like those of any rule file.
#[test]
fn broken_entity_name_rules_are_located() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "entities.toml",
        "titles = [\"Gen\"]\nbogus = 1\n",
    );
    let o = gleaner(&["rules", "check", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let file = dir.path().join("entities.toml").display().to_string();
    assert!(
        stderr(&o).contains(&format!("{file}:2: unknown field `bogus`")),
        "{}",
        stderr(&o)
    );
}

#[test]
fn broken_rule_folder_is_reported_at_once_with_locations() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad.toml", BROKEN);
    let d = dir.path().to_str().unwrap();
    let o = gleaner(&["rules", "check", d]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let file = dir.path().join("bad.toml").display().to_string();
    assert!(
        err.contains(&format!("{file}:5: rule unclosed: bad pattern")),
        "{err}"
    );
    assert!(err.contains('^'), "the regex error shows its caret: {err}");
    assert!(
        err.contains(&format!(
            "{file}:10: rule typo-macro: unknown macro {{NUMBR}}"
        )),
        "{err}"
    );
    assert!(!err.contains("rule fine"), "{err}");
}

#[test]
fn broken_rules_stop_extract_before_it_writes_anything() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    write(&rules, "bad.toml", BROKEN);
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    write(
        &input,
        "a.txt",
        "Title\n\nFive goats were killed in 2020.\n",
    );
    let out = dir.path().join("out");
    let o = gleaner(&[
        "extract",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("rule unclosed"), "{}", stderr(&o));
    assert!(
        !out.exists(),
        "no partial run: the output folder is not even created"
    );
}

#[test]
fn failing_example_is_printed_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "goats.toml",
        r#"table = "quantities"

[[rule]]
id = "goats"
pattern = '''(?P<num>\d+) goats'''
category = "other"
examples = [{ text = "We saw 5 goats.", value = 6 }]
not = ["We saw 7 goats."]
"#,
    );
    let o = gleaner(&["rules", "test", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("goats.toml:4: rule goats: \"We saw 5 goats.\""),
        "{out}"
    );
    assert!(out.contains("expected: value=6"), "{out}");
    assert!(out.contains("got:      \"5 goats\" = 5"), "{out}");
    assert!(out.contains("\"We saw 7 goats.\""), "{out}");
    assert!(out.contains("expected: nothing from this rule"), "{out}");
    assert!(out.contains(": 2 failed"), "{out}");
}

#[test]
fn user_rules_add_and_replace_builtin_ones() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    // Replaces the built-in "dozens" rule (by id) and adds a rule of its own.
    write(
        &rules,
        "mine.toml",
        r#"table = "quantities"

[[rule]]
id = "dozens"
pattern = '''\bdozens\b'''
value = 36
examples = [{ text = "dozens of goats", value = 36 }]

[[rule]]
id = "goats-lost"
priority = 30
category = "other"
pattern = '''{QTY} goats\s+(?:were\s+)?lost\b'''
examples = [{ text = "Five goats were lost.", value = 5, category = "other" }]
"#,
    );
    let o = gleaner(&["rules", "test", rules.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    write(
        &input,
        "a.txt",
        "Title\n\nDozens of people fled and 12 goats were lost.\n",
    );
    let out = dir.path().join("out");
    let o = gleaner(&[
        "extract",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut rdr = csv::Reader::from_path(out.join("quantities.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<(String, String)> = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[col("value")].to_string(), r[col("rule")].to_string())
        })
        .collect();
    assert!(rows.contains(&("36".into(), "dozens".into())), "{rows:?}");
    assert!(
        rows.contains(&("12".into(), "digits+goats-lost".into())),
        "{rows:?}"
    );
}
