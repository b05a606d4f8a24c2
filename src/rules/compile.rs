//! From rule files to runtime rules: macro expansion, placeholders, regex compilation and
//! the checks on every field, with every problem collected and located.

use std::collections::{BTreeMap, HashMap, HashSet};

use regex::RegexBuilder;
use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use regex_automata::{MatchKind, PatternID};
use regex_syntax::hir::Hir;

use super::syntax::{line_of, ExampleSyntax, FileSyntax, RuleSyntax, ValueSyntax};
use super::{Example, ExpectedValue, Placeholder, Relative, Rule, Source, Table};
use crate::calendar::Ymd;
use crate::error::{Error, Location};
use crate::facts::{Category, DateMod, Qualifier};

/// Compiled size limit per rule: generous, since number-word patterns are wide.
const SIZE_LIMIT: usize = 64 << 20;

/// Capture names with a meaning, per table. Other names are allowed (for readability)
/// but ignored; names starting with a reserved prefix must be known.
const QUANTITY_CAPTURES: &[&str] = &["num", "max", "scale", "subject", "m"];
const DATE_CAPTURES: &[&str] = &[
    "iso", "year", "month", "day", "weekday", "half", "quarter", "season", "n", "m",
];

/// A parsed file with its source text (for line numbers).
pub(crate) struct Parsed {
    pub source: Source,
    pub syntax: FileSyntax,
}

/// Parses a file's TOML, or returns the located syntax error.
pub(crate) fn parse(source: Source) -> Result<Parsed, Error> {
    match toml::from_str::<FileSyntax>(&source.text) {
        Ok(syntax) => Ok(Parsed { source, syntax }),
        Err(e) => {
            let line = e
                .span()
                .map(|s| line_of(&source.text, s.start))
                .unwrap_or(1);
            Err(Error::data(
                Location::line(source.name.clone(), line),
                e.message().trim().to_string(),
            ))
        }
    }
}

/// A macro with where it was defined.
struct MacroDef {
    body: String,
    file: String,
    line: u64,
}

/// Compiles the rules of `files` (in order), collecting every problem.
pub(crate) fn compile(files: &[Parsed]) -> Result<Vec<Rule>, Vec<Error>> {
    let mut errors = Vec::new();
    let mut macros: BTreeMap<String, MacroDef> = BTreeMap::new();
    for f in files {
        for (name, body) in &f.syntax.macros {
            let line = line_of(&f.source.text, body.span().start);
            let at = Location::line(f.source.name.clone(), line).with_id(format!("macro {name}"));
            if !is_macro_name(name) {
                errors.push(Error::data(
                    at,
                    "macro names are capitals, digits and `_`, starting with a capital",
                ));
                continue;
            }
            if Placeholder::parse(name).is_some() {
                errors.push(Error::data(
                    at,
                    format!(
                        "{{{name}}} is a placeholder for facts found earlier; pick another name"
                    ),
                ));
                continue;
            }
            macros.insert(
                name.clone(),
                MacroDef {
                    body: body.get_ref().clone(),
                    file: f.source.name.clone(),
                    line,
                },
            );
        }
    }
    // Check each macro on its own first, so that a broken macro is reported once, where
    // it is written, rather than in every rule that uses it.
    let mut broken: HashSet<String> = HashSet::new();
    for (name, def) in &macros {
        let at = Location::line(def.file.clone(), def.line).with_id(format!("macro {name}"));
        let mut counter = PlaceholderCounter::default();
        match expand(&def.body, &macros, &mut counter, &mut Vec::new()) {
            Ok(expanded) => {
                if let Err(e) = RegexBuilder::new(&expanded).size_limit(SIZE_LIMIT).build() {
                    errors.push(Error::data(at, format!("bad pattern:\n{e}")));
                    broken.insert(name.clone());
                }
            }
            Err(msg) => {
                errors.push(Error::data(at, msg));
                broken.insert(name.clone());
            }
        }
    }

    // Compiling the regexes is most of the cost of start-up: do it for every rule at once,
    // on all cores, before the checks below (which stay sequential, so that problems are
    // reported in file order).
    let mut prebuilt = prebuild(files, &macros, &broken).into_iter();

    let mut rules = Vec::new();
    let mut seen: HashMap<String, (String, u64)> = HashMap::new();
    for f in files {
        let name = &f.source.name;
        let table = match &f.syntax.table {
            Some(t) => match Table::parse(t.get_ref()) {
                Some(t) => Some(t),
                None => {
                    errors.push(Error::data(
                        Location::line(name.clone(), line_of(&f.source.text, t.span().start)),
                        format!(
                            "unknown table {:?} (expected quantities or dates)",
                            t.get_ref()
                        ),
                    ));
                    continue;
                }
            },
            None => None,
        };
        for r in &f.syntax.rules {
            // Taken for every rule of a file with a table, in the order `prebuild` made them.
            let built = if table.is_some() {
                prebuilt.next().flatten()
            } else {
                None
            };
            let line = line_of(&f.source.text, r.id.span().start);
            let id = r.id.get_ref().clone();
            let at = Location::line(name.clone(), line).with_id(format!("rule {id}"));
            let Some(table) = table else {
                errors.push(Error::data(
                    at,
                    "the file has rules but no `table = \"quantities\"` or `table = \"dates\"` line",
                ));
                continue;
            };
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            {
                errors.push(Error::data(
                    at,
                    "rule ids are letters, digits, `-`, `_` and `.`",
                ));
                continue;
            }
            if let Some((file, l)) = seen.get(&id) {
                errors.push(Error::data(
                    at,
                    format!("the id is used already at {file}:{l}; ids must be unique"),
                ));
                continue;
            }
            seen.insert(id.clone(), (name.clone(), line));
            let pattern_line = line_of(&f.source.text, r.pattern.span().start);
            let pat_at = Location::line(name.clone(), pattern_line).with_id(format!("rule {id}"));
            match compile_rule(r, table, &macros, &broken, built, &at, &pat_at) {
                Ok(mut rule) => {
                    rule.id = id;
                    rule.file = name.clone();
                    rule.line = line;
                    rule.order = rules.len();
                    rules.push(rule);
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

fn is_macro_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('A'..='Z'))
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Numbers the placeholder groups of one pattern.
#[derive(Default)]
struct PlaceholderCounter {
    found: Vec<Placeholder>,
}

/// Replaces `{NAME}` by the macro's body (recursively) and placeholders by their groups.
/// `stack` holds the macros being expanded, to report cycles.
fn expand(
    pattern: &str,
    macros: &BTreeMap<String, MacroDef>,
    counter: &mut PlaceholderCounter,
    stack: &mut Vec<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len());
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i < pattern.len() {
        let c = bytes[i];
        if c == b'\\' {
            // An escape: copy it and the escaped character untouched (`\{` is a brace).
            let len = escape_len(&pattern[i..]);
            match &pattern[i..i + len] {
                // Word boundaries are ASCII ones: a Unicode `\b` makes the fast (DFA)
                // engines give up on any text with a non-ASCII character, which is most
                // news text (curly quotes, dashes), and the slow engines are 10x slower.
                b @ ("\\b" | "\\B") => {
                    out.push_str("(?-u:");
                    out.push_str(b);
                    out.push(')');
                }
                e => out.push_str(e),
            }
            i += len;
            continue;
        }
        if c == b'{' {
            if let Some(len) = pattern[i + 1..].find('}') {
                let name = &pattern[i + 1..i + 1 + len];
                if is_macro_name(name) {
                    if let Some(p) = Placeholder::parse(name) {
                        let n = counter.found.len();
                        counter.found.push(p);
                        out.push_str(&format!("(?P<__p{n}>{})", p.class()));
                    } else if let Some(def) = macros.get(name) {
                        if stack.iter().any(|s| s == name) {
                            return Err(format!("macro cycle: {} -> {name}", stack.join(" -> ")));
                        }
                        stack.push(name.to_string());
                        let body = expand(&def.body, macros, counter, stack)?;
                        stack.pop();
                        // Macros are written without verbose mode, whatever the rule uses.
                        out.push_str("(?-x:");
                        out.push_str(&body);
                        out.push(')');
                    } else {
                        return Err(format!("unknown macro {{{name}}}"));
                    }
                    i += len + 2;
                    continue;
                }
            }
        }
        let ch = pattern[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    Ok(out)
}

/// The regex of a rule and its parsed pattern, or the message of the regex crate's error.
type Built = Result<(Regex, Hir), String>;

/// Compiles a rule's pattern exactly as `regex::RegexBuilder` would (same syntax and
/// engine settings, same error text), but keeps the parsed pattern, which the gate
/// reuses: parsing (Unicode classes, case folding) is a fifth of the compile time.
fn build_regex(full: &str) -> Built {
    let hir =
        syntax::parse_with(full, &syntax::Config::new().utf8(true)).map_err(|e| e.to_string())?;
    let regex = meta::Builder::new()
        .configure(
            meta::Config::new()
                .match_kind(MatchKind::LeftmostFirst)
                .utf8_empty(true)
                .nfa_size_limit(Some(SIZE_LIMIT))
                .hybrid_cache_capacity(SIZE_LIMIT),
        )
        .build_from_hir(&hir)
        .map_err(|e| match e.size_limit() {
            Some(limit) => format!("Compiled regex exceeds size limit of {limit} bytes."),
            None => e.to_string(),
        })?;
    Ok((regex, hir))
}

/// The names of a rule's capture groups by index (`None` for unnamed ones and group 0).
pub(crate) fn capture_names(regex: &Regex) -> impl Iterator<Item = Option<&str>> {
    regex.group_info().pattern_names(PatternID::ZERO)
}

/// The pattern a rule compiles to (macros expanded, case flag added), if it expands
/// and uses no broken macro.
fn full_pattern(
    r: &RuleSyntax,
    macros: &BTreeMap<String, MacroDef>,
    broken: &HashSet<String>,
) -> Option<String> {
    let mut counter = PlaceholderCounter::default();
    let expanded = expand(r.pattern.get_ref(), macros, &mut counter, &mut Vec::new()).ok()?;
    if find_macro_refs(r.pattern.get_ref())
        .iter()
        .any(|m| broken.contains(m))
    {
        return None;
    }
    Some(if r.case_sensitive {
        expanded
    } else {
        format!("(?i){expanded}")
    })
}

/// Compiles the regex of every rule in a file with a table (valid or not: the checks
/// come later), in parallel. One entry per such rule, in file order; `None` where the
/// pattern does not expand.
fn prebuild(
    files: &[Parsed],
    macros: &BTreeMap<String, MacroDef>,
    broken: &HashSet<String>,
) -> Vec<Option<Built>> {
    use rayon::prelude::*;
    let patterns: Vec<Option<String>> = files
        .iter()
        .filter(|f| {
            f.syntax
                .table
                .as_ref()
                .is_some_and(|t| Table::parse(t.get_ref()).is_some())
        })
        .flat_map(|f| f.syntax.rules.iter())
        .map(|r| full_pattern(r, macros, broken))
        .collect();
    patterns
        .into_par_iter()
        .map(|p| p.map(|full| build_regex(&full)))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn compile_rule(
    r: &RuleSyntax,
    table: Table,
    macros: &BTreeMap<String, MacroDef>,
    broken: &HashSet<String>,
    built: Option<Built>,
    at: &Location,
    pat_at: &Location,
) -> Result<Rule, Vec<Error>> {
    let mut errors = Vec::new();
    let err = |msg: String| Error::data(at.clone(), msg);

    let mut counter = PlaceholderCounter::default();
    let expanded = match expand(r.pattern.get_ref(), macros, &mut counter, &mut Vec::new()) {
        Ok(e) => Some(e),
        Err(msg) => {
            errors.push(Error::data(pat_at.clone(), msg));
            None
        }
    };
    let uses_broken = find_macro_refs(r.pattern.get_ref())
        .into_iter()
        .find(|m| broken.contains(m));
    let regex = match (&expanded, uses_broken) {
        (_, Some(m)) => {
            errors.push(Error::data(
                pat_at.clone(),
                format!("uses macro {{{m}}}, which is broken (see its own message)"),
            ));
            None
        }
        (Some(e), None) => {
            let built = built.expect("prebuild compiled every pattern that expands");
            match built {
                Ok((re, hir)) => {
                    let full = if r.case_sensitive {
                        e.clone()
                    } else {
                        format!("(?i){e}")
                    };
                    Some((re, hir, full))
                }
                Err(e) => {
                    errors.push(Error::data(pat_at.clone(), format!("bad pattern:\n{e}")));
                    None
                }
            }
        }
        (None, None) => None,
    };

    let placeholders = counter.found;
    let context = placeholders.contains(&Placeholder::Quantity);
    if context && table != Table::Quantities {
        errors.push(err("{QTY} can only be used in quantities rules".into()));
    }
    if context && r.block {
        errors.push(err("a block rule cannot use {QTY}".into()));
    }

    // Fields must fit the table.
    let quantity_only = [
        ("category", r.category.is_some()),
        ("qualifier", r.qualifier.is_some()),
        ("value", r.value.is_some()),
        ("unit", r.unit.is_some()),
    ];
    let date_only = [
        ("mod", r.modifier.is_some()),
        ("relative", r.relative.is_some()),
        ("shift", r.shift.is_some()),
    ];
    let (wrong, table_name) = match table {
        Table::Quantities => (&date_only[..], "quantities"),
        Table::Dates => (&quantity_only[..], "dates"),
    };
    for (field, set) in wrong {
        if *set {
            errors.push(err(format!(
                "`{field}` has no meaning in a {table_name} rule"
            )));
        }
    }
    if r.block {
        for (field, set) in quantity_only.iter().chain(&date_only) {
            if *set {
                errors.push(err(format!(
                    "`{field}` has no meaning in a block rule (it produces nothing)"
                )));
            }
        }
    }
    let category = parse_field(
        r.category.as_deref(),
        Category::parse,
        "category",
        " (killed, injured, captured, troops, money, other)",
        &mut errors,
        &err,
    );
    let qualifier = parse_field(
        r.qualifier.as_deref(),
        Qualifier::parse,
        "qualifier",
        "",
        &mut errors,
        &err,
    );
    let modifier = parse_field(
        r.modifier.as_deref(),
        DateMod::parse,
        "mod",
        " (START, MID, END, APPROX, BEFORE, AFTER)",
        &mut errors,
        &err,
    );
    let relative = parse_field(
        r.relative.as_deref(),
        Relative::parse,
        "relative unit",
        " (day, week, month, year, weekday, past)",
        &mut errors,
        &err,
    );
    if r.shift.is_some() && relative.is_none() && r.relative.is_none() {
        errors.push(err("`shift` needs `relative`".into()));
    }
    if let Some(u) = &r.unit {
        if u.len() != 3 || !u.chars().all(|c| c.is_ascii_uppercase()) {
            errors.push(err(format!(
                "unit {u:?} is not an ISO 4217 currency code (USD)"
            )));
        }
    }

    // Captures must be ones the table knows what to do with.
    if let Some((re, _, _)) = &regex {
        let names: Vec<&str> = capture_names(re).flatten().collect();
        // A block rule produces nothing, so its captures mean nothing either.
        for n in names.iter().filter(|_| !r.block) {
            let known = match table {
                Table::Quantities => {
                    QUANTITY_CAPTURES.contains(n)
                        || n.starts_with("__p")
                        || n.strip_prefix("subject")
                            .is_some_and(|d| d.parse::<u8>().is_ok())
                        || n.strip_prefix("q_")
                            .is_some_and(|q| Qualifier::parse(q).is_some())
                        || n.strip_prefix("cur_").is_some_and(|c| {
                            c.len() == 3 && c.chars().all(|c| c.is_ascii_uppercase())
                        })
                }
                Table::Dates => {
                    DATE_CAPTURES.contains(n)
                        || n.starts_with("__p")
                        || n.strip_prefix("mod_")
                            .is_some_and(|m| DateMod::parse(m).is_some())
                }
            };
            if !known && (n.starts_with("q_") || n.starts_with("cur_") || n.starts_with("mod_")) {
                errors.push(err(format!(
                    "capture <{n}> names no known qualifier, currency or mod"
                )));
            } else if !known && !n.starts_with('_') {
                errors.push(err(format!(
                    "capture <{n}> has no meaning in a {table_name} rule (use (?:...) or a name starting with _)"
                )));
            }
        }
        if !r.block && !context {
            match table {
                Table::Quantities if !names.contains(&"num") && r.value.is_none() => {
                    errors.push(err(
                        "a quantities rule needs a <num> capture, a `value`, or a {QTY} placeholder"
                            .into(),
                    ))
                }
                Table::Dates
                    if relative.is_none()
                        && !["iso", "year", "month", "day"]
                            .iter()
                            .any(|n| names.contains(n)) =>
                {
                    errors.push(err(
                        "a dates rule needs an <iso>, <year>, <month> or <day> capture, or `relative`"
                            .into(),
                    ))
                }
                _ => {}
            }
        }
        if context && category.is_none() && !names.iter().any(|n| n.starts_with("subject")) {
            errors.push(err(
                "a {QTY} rule needs a `category` or a <subject> capture: it sets nothing".into(),
            ));
        }
        if relative == Some(Relative::Past) && !names.contains(&"month") {
            errors.push(err("`relative = \"past\"` needs a <month> capture".into()));
        }
        if relative == Some(Relative::Weekday) && !names.contains(&"weekday") {
            errors.push(err(
                "`relative = \"weekday\"` needs a <weekday> capture".into()
            ));
        }
    }

    let mut examples = Vec::new();
    for (i, ex) in r.examples.iter().enumerate() {
        match compile_example(ex, table) {
            Ok(e) => examples.push(e),
            Err(msg) => errors.push(err(format!("example {}: {msg}", i + 1))),
        }
    }
    if !r.block && examples.is_empty() {
        errors.push(err(
            "every rule needs at least one example (`examples = [{ text = ... }]`)".into(),
        ));
    }

    let Some((regex, hir, pattern)) = regex else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let groups: Vec<(usize, Placeholder)> = placeholders
        .iter()
        .enumerate()
        .map(|(n, p)| {
            let name = format!("__p{n}");
            let idx = capture_names(&regex)
                .position(|c| c == Some(name.as_str()))
                .expect("placeholder group is in the pattern");
            (idx, *p)
        })
        .collect();
    Ok(Rule {
        id: String::new(),
        file: String::new(),
        line: 0,
        order: 0,
        table,
        priority: r.priority,
        block: r.block,
        context,
        masked: !placeholders.is_empty(),
        pattern,
        regex,
        hir,
        placeholders: groups,
        category,
        qualifier,
        value: r.value,
        unit: r.unit.clone(),
        modifier,
        relative,
        shift: r.shift.unwrap_or(0),
        examples,
        counter: r.counter.clone(),
    })
}

/// The length of the escape at the start of `s` (which starts with `\\`): the escaped
/// character, and a braced argument for `\\p{L}`, `\\x{1F}`, `\\u{...}`.
fn escape_len(s: &str) -> usize {
    let mut chars = s[1..].chars();
    let Some(c) = chars.next() else {
        return 1;
    };
    let base = 1 + c.len_utf8();
    if matches!(c, 'p' | 'P' | 'x' | 'u' | 'U') && s[base..].starts_with('{') {
        if let Some(end) = s[base..].find('}') {
            return base + end + 1;
        }
    }
    base
}

/// The `{NAME}`s a pattern refers to.
fn find_macro_refs(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < pattern.len() {
        let rest = &pattern[i..];
        if rest.starts_with('\\') {
            i += escape_len(rest);
            continue;
        }
        if let Some(after) = rest.strip_prefix('{') {
            if let Some(j) = after.find('}') {
                let name = &after[..j];
                if is_macro_name(name) {
                    out.push(name.to_string());
                }
            }
        }
        i += rest.chars().next().map(char::len_utf8).unwrap_or(1);
    }
    out
}

fn compile_example(ex: &ExampleSyntax, table: Table) -> Result<Example, String> {
    let value = match (&ex.value, table) {
        (None, _) => None,
        (Some(ValueSyntax::Number(n)), Table::Quantities) => Some(ExpectedValue::Number(*n)),
        (Some(ValueSyntax::Text(s)), Table::Dates) => Some(ExpectedValue::Text(s.clone())),
        (Some(ValueSyntax::Number(n)), Table::Dates) => {
            // A bare year written as a TOML integer.
            Some(ExpectedValue::Text(format!("{n}")))
        }
        (Some(ValueSyntax::Text(s)), Table::Quantities) => {
            return Err(format!("value {s:?} should be a number"))
        }
    };
    let wrong_table = match table {
        Table::Quantities => ex.modifier.is_some(),
        Table::Dates => {
            ex.max.is_some()
                || ex.qualifier.is_some()
                || ex.unit.is_some()
                || ex.category.is_some()
                || ex.subject.is_some()
        }
    };
    if wrong_table {
        return Err("has fields that belong to the other table".into());
    }
    if let Some(q) = &ex.qualifier {
        Qualifier::parse(q).ok_or_else(|| format!("unknown qualifier {q:?}"))?;
    }
    if let Some(c) = &ex.category {
        Category::parse(c).ok_or_else(|| format!("unknown category {c:?}"))?;
    }
    if let Some(m) = &ex.modifier {
        if !m.is_empty() {
            DateMod::parse(m).ok_or_else(|| format!("unknown mod {m:?}"))?;
        }
    }
    let published = match &ex.published {
        Some(p) => {
            Some(Ymd::parse_iso(p).ok_or_else(|| format!("published {p:?} is not YYYY-MM-DD"))?)
        }
        None => None,
    };
    if let Some(m) = &ex.matched {
        if !ex.text.contains(m.as_str()) {
            return Err(format!("match {m:?} is not in the text"));
        }
    }
    Ok(Example {
        text: ex.text.clone(),
        matched: ex.matched.clone(),
        value,
        max: ex.max,
        qualifier: ex.qualifier.clone(),
        unit: ex.unit.clone(),
        category: ex.category.clone(),
        subject: ex.subject.clone(),
        modifier: ex.modifier.clone(),
        published,
    })
}

/// A rule field's value parsed, or an error saying it is unknown and what is accepted.
fn parse_field<T>(
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    what: &str,
    accepted: &str,
    errors: &mut Vec<Error>,
    err: &dyn Fn(String) -> Error,
) -> Option<T> {
    let v = value?;
    let parsed = parse(v);
    if parsed.is_none() {
        errors.push(err(format!("unknown {what} {v:?}{accepted}")));
    }
    parsed
}
