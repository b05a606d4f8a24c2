//! The rule engine: rule files (TOML) compiled into regexes with a prefilter (the gate),
//! matched over documents, with overlaps resolved the same way for every stage that
//! uses it.
//!
//! The format is documented in `docs/rules.md`. In short, a file says which table its
//! rules produce (`quantities` or `dates`), may define macros (named pattern fragments
//! used as `{NAME}`), and has `[[rule]]`s, each with an id, a pattern, a priority, fixed
//! fields and examples. Patterns may use placeholders for facts found earlier:
//! `{PERSON}`, `{ORG}`, `{PLACE}`, `{NORP}` (entity spans) and, in quantities rules,
//! `{QTY}` (a number found by the quantities rules without `{QTY}`).
//!
//! Placeholders work on a *masked* copy of the text: every entity (or quantity) span is
//! overwritten, byte for byte, with a type code followed by filler bytes, so a
//! placeholder is a plain regex (`\x01\x1F*` for a person) and offsets in the masked text
//! are offsets in the document.
//!
//! How a group of rules (same table, same use of `{QTY}`, same text) is matched over a
//! document, and why it is cheap:
//!
//! 1. The group's *gate* (`gate.rs`), one lazy DFA for all its patterns walked backwards
//!    over the whole document (or, for `{QTY}` rules, two anchored ones walked from each
//!    masked number), says where in each paragraph a match of each rule can start.
//!    Rules that use `^`, `$` and the like are not gated. Groups that run over the same
//!    text share one gate (the numbers and dates rules), and a worker thread keeps its
//!    last walks (`walks.rs`), so that a document is walked once for both stages.
//! 2. Each rule runs its own regex, anchored, at those positions only, each paragraph
//!    being a separate string, so that no match crosses a blank line: that finds what
//!    the rule's `find_iter` over the paragraph would, without scanning it (see
//!    [`RuleSet::hits`]). [`RuleSet::hits`] gives the bare match spans;
//!    [`RuleSet::captures`] reads the capture groups of one of them.
//! 3. Capture groups (the slow part of a regex search) are read for the matches that
//!    need them only, by an anchored search over the match's span:
//!    [`RuleSet::winners`] resolves overlaps on bare spans and reads the groups of the
//!    winners; the numbers stage's `{QTY}` pass reads those of the best match for each
//!    number. [`RuleSet::find`] reads every match's groups (rule examples use it).
//!    The same spans come back in document after document ("15", "two weeks ago"), so
//!    each worker thread remembers what these searches found (`memo.rs`).
//!
//! Compiling the rules is most of the start-up: every pattern is parsed once (the gate
//! reuses the parsed form) and the regexes are compiled on all cores.
//!
//! ```
//! use gleaner::rules::{RuleSetBuilder, Table, Texts};
//!
//! let rules = RuleSetBuilder::new().build().unwrap();
//! let texts = Texts::new("Prices rose in late August 2024.", None);
//! let found = rules.resolve(rules.find(Table::Dates, false, &texts));
//! assert_eq!(&texts.plain[found[0].span.start..found[0].span.end], "late August 2024");
//! ```

mod compile;
mod examples;
mod gate;
mod memo;
mod syntax;
mod walks;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};
use regex_syntax::hir::Hir;

use crate::calendar::Ymd;
use crate::error::{Error, Location, Result};
use crate::facts::{Category, DateMod, Qualifier, Span};

pub use examples::{test_examples, Failure};

/// The rule files compiled into the binary, in the order they are read.
pub const BUILTIN: &[(&str, &str)] = &[
    ("macros.toml", include_str!("../../rules/macros.toml")),
    ("numbers.toml", include_str!("../../rules/numbers.toml")),
    (
        "quantities.toml",
        include_str!("../../rules/quantities.toml"),
    ),
    ("dates.toml", include_str!("../../rules/dates.toml")),
];

/// A rule file's text and the name messages use for it.
#[derive(Clone, Debug)]
pub struct Source {
    /// `<built-in>/numbers.toml` or the path as given.
    pub name: String,
    /// The bare file name, which decides replacement (`numbers.toml`).
    pub file_name: String,
    pub text: String,
}

/// The table a rule file produces facts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Quantities,
    Dates,
}

impl Table {
    pub fn parse(s: &str) -> Option<Table> {
        match s {
            "quantities" => Some(Table::Quantities),
            "dates" => Some(Table::Dates),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Table::Quantities => "quantities",
            Table::Dates => "dates",
        }
    }
}

/// A placeholder for facts found before the rule runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Placeholder {
    Person,
    Org,
    Place,
    Norp,
    /// A quantity found by the quantities rules without `{QTY}`.
    Quantity,
}

/// The byte that continues a masked span after its type code.
pub const MASK_FILL: u8 = 0x1F;

impl Placeholder {
    /// The placeholder called `name` (`PERSON`, `ORG`, `PLACE`, `NORP`, `QTY`).
    pub fn parse(name: &str) -> Option<Placeholder> {
        Some(match name {
            "PERSON" => Placeholder::Person,
            "ORG" => Placeholder::Org,
            "PLACE" => Placeholder::Place,
            "NORP" => Placeholder::Norp,
            "QTY" => Placeholder::Quantity,
            _ => return None,
        })
    }

    /// The first byte of a masked span of this kind.
    pub fn code(self) -> u8 {
        match self {
            Placeholder::Person => 0x01,
            Placeholder::Org => 0x02,
            Placeholder::Place => 0x03,
            Placeholder::Norp => 0x04,
            Placeholder::Quantity => 0x05,
        }
    }

    /// The placeholder for an entity type.
    pub fn for_entity(t: crate::facts::EntityType) -> Placeholder {
        use crate::facts::EntityType;
        match t {
            EntityType::Person => Placeholder::Person,
            EntityType::Org => Placeholder::Org,
            EntityType::Place => Placeholder::Place,
            EntityType::Norp => Placeholder::Norp,
        }
    }

    /// The regex a placeholder stands for in the masked text.
    pub(crate) fn class(self) -> String {
        format!(r"\x{:02X}\x1F*", self.code())
    }
}

/// The unit a relative date rule counts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relative {
    Day,
    Week,
    Month,
    Year,
    /// The weekday named by the `<weekday>` capture, before (or on) the publication date.
    Weekday,
    /// The `<month>` (and `<day>`) most recently past at the publication date: "since
    /// October" in February 2024 is October 2023.
    Past,
}

impl Relative {
    pub fn parse(s: &str) -> Option<Relative> {
        Some(match s {
            "day" => Relative::Day,
            "week" => Relative::Week,
            "month" => Relative::Month,
            "year" => Relative::Year,
            "weekday" => Relative::Weekday,
            "past" => Relative::Past,
            _ => return None,
        })
    }
}

/// A compiled rule. Fields mirror the file (see docs/rules.md).
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub file: String,
    pub line: u64,
    /// Position among all rules: the last tie-breaker in overlaps.
    pub order: usize,
    pub table: Table,
    pub priority: i32,
    pub block: bool,
    /// Uses `{QTY}`: runs after the other quantities rules, to say what numbers count.
    pub context: bool,
    /// Uses a placeholder, so runs over the masked text.
    pub masked: bool,
    /// The pattern after macro expansion, as compiled.
    pub pattern: String,
    /// Compiled as `regex::Regex` compiles it (the same engines and settings), with the
    /// lower-level interface, which can search a given span anchored.
    pub regex: Regex,
    /// The parsed pattern, from which the gate is built.
    pub(crate) hir: Hir,
    /// Capture group index of each placeholder, in pattern order.
    pub placeholders: Vec<(usize, Placeholder)>,
    pub category: Option<Category>,
    pub qualifier: Option<Qualifier>,
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub modifier: Option<DateMod>,
    pub relative: Option<Relative>,
    pub shift: i64,
    pub examples: Vec<Example>,
    pub counter: Vec<String>,
}

impl Rule {
    /// Where the rule is written, for messages: `file:line` with `rule <id>`.
    pub fn location(&self) -> Location {
        Location::line(self.file.clone(), self.line).with_id(format!("rule {}", self.id))
    }
}

/// A text a rule must match, with what it must produce.
#[derive(Clone, Debug)]
pub struct Example {
    pub text: String,
    pub matched: Option<String>,
    pub value: Option<ExpectedValue>,
    pub max: Option<f64>,
    pub qualifier: Option<String>,
    pub unit: Option<String>,
    pub category: Option<String>,
    pub subject: Option<String>,
    pub modifier: Option<String>,
    pub published: Option<Ymd>,
}

/// An expected value in an example.
#[derive(Clone, Debug, PartialEq)]
pub enum ExpectedValue {
    Number(f64),
    /// A date value; empty for "no value".
    Text(String),
}

/// Which rule files to load.
#[derive(Clone, Debug)]
pub struct RuleSetBuilder {
    builtin: bool,
    dir: Option<PathBuf>,
}

impl Default for RuleSetBuilder {
    fn default() -> Self {
        RuleSetBuilder::new()
    }
}

impl RuleSetBuilder {
    /// The built-in rules.
    pub fn new() -> RuleSetBuilder {
        RuleSetBuilder {
            builtin: true,
            dir: None,
        }
    }

    /// Adds the `.toml` files of `dir`: a file named like a built-in file replaces it, a
    /// rule with the id of a built-in rule replaces that rule, anything else is added.
    pub fn dir(mut self, dir: Option<PathBuf>) -> RuleSetBuilder {
        self.dir = dir;
        self
    }

    /// Leaves out the built-in rules.
    pub fn without_builtin(mut self) -> RuleSetBuilder {
        self.builtin = false;
        self
    }

    /// The sources to compile, in order, after replacement by file name.
    pub fn sources(&self) -> Result<Vec<Source>> {
        let mut sources: Vec<Source> = Vec::new();
        if self.builtin {
            for (name, text) in BUILTIN {
                sources.push(Source {
                    name: format!("<built-in>/{name}"),
                    file_name: name.to_string(),
                    text: text.to_string(),
                });
            }
        }
        if let Some(dir) = &self.dir {
            for src in read_dir(dir)? {
                match sources.iter_mut().find(|s| s.file_name == src.file_name) {
                    Some(slot) => *slot = src,
                    None => sources.push(src),
                }
            }
        }
        Ok(sources)
    }

    /// Reads and compiles every rule, reporting every problem at once.
    pub fn build(&self) -> Result<RuleSet> {
        let sources = self.sources()?;
        let user: Vec<bool> = sources
            .iter()
            .map(|s| !s.name.starts_with("<built-in>"))
            .collect();
        let mut errors = Vec::new();
        let mut parsed = Vec::new();
        let mut is_user = Vec::new();
        for (src, u) in sources.into_iter().zip(user) {
            match compile::parse(src) {
                Ok(p) => {
                    parsed.push(p);
                    is_user.push(u);
                }
                Err(e) => errors.push(e),
            }
        }
        // A user's rule replaces the built-in rule of the same id: drop the built-in one.
        let user_ids: Vec<String> = parsed
            .iter()
            .zip(&is_user)
            .filter(|(_, u)| **u)
            .flat_map(|(p, _)| p.syntax.rules.iter().map(|r| r.id.get_ref().clone()))
            .collect();
        for (p, u) in parsed.iter_mut().zip(&is_user) {
            if !*u {
                p.syntax
                    .rules
                    .retain(|r| !user_ids.contains(r.id.get_ref()));
            }
        }
        let rules = match compile::compile(&parsed) {
            Ok(r) => Some(r),
            Err(mut e) => {
                errors.append(&mut e);
                None
            }
        };
        if !errors.is_empty() {
            return Err(Error::many(errors));
        }
        Ok(RuleSet::new(rules.unwrap_or_default()))
    }
}

/// The `.toml` files of `dir`, sorted by name.
fn read_dir(dir: &Path) -> Result<Vec<Source>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for e in entries {
        let e = e.map_err(|e| Error::io(dir, e))?;
        let p = e.path();
        if p.extension().is_some_and(|x| x == "toml") && p.is_file() {
            paths.push(p);
        }
    }
    paths.sort();
    // The entity stage's name rules share the folder but not the format: that stage
    // reads them (crate::entity::NameRules::from_dir).
    let had_name_rules = paths.len();
    paths.retain(|p| p.file_name() != Some(std::ffi::OsStr::new(crate::entity::names::RULES_FILE)));
    if paths.is_empty() && had_name_rules == 0 {
        return Err(Error::data(
            Location::file(dir.display().to_string()),
            "no .toml rule files in this folder",
        ));
    }
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
            Ok(Source {
                name: p.display().to_string(),
                file_name: p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                text,
            })
        })
        .collect()
}

/// The rules of one table and kind that run over the same text.
struct Group {
    table: Table,
    context: bool,
    masked: bool,
    /// The prefilter of its members (an index into [`Inner::gates`]): one pass over a
    /// document says which rules can match in which paragraphs.
    gate: usize,
    /// Where the members are among the gate's: member `k` is the gate's `first + k`.
    first: usize,
    members: Vec<usize>,
}

/// The prefilter of the groups that run over the same text (see [`RuleSet::new`]).
struct SharedGate {
    gate: gate::Gate,
    /// Whether more than one group uses it, so that its walks are worth keeping.
    shared: bool,
}

/// Compiled rules: immutable, cheap to clone, shared by the stages and threads.
#[derive(Clone)]
pub struct RuleSet {
    inner: Arc<Inner>,
}

struct Inner {
    /// Tells apart the rule sets of a process, for the per-thread memo of captures.
    id: u64,
    rules: Vec<Rule>,
    /// Per rule: what its assertions see around a match (see [`memo::Around`]).
    around: Vec<memo::Around>,
    groups: Vec<Group>,
    gates: Vec<SharedGate>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.inner.rules.len())
            .finish()
    }
}

/// One match of a rule: its whole span and its capture groups (byte spans).
#[derive(Clone, Debug)]
pub struct Match {
    /// Index of the rule in [`RuleSet::rules`].
    pub rule: usize,
    pub span: Span,
    groups: Vec<Option<Span>>,
}

impl Match {
    /// The span of capture group `name`, if it took part in the match.
    pub fn get(&self, rule: &Rule, name: &str) -> Option<Span> {
        let i = compile::capture_names(&rule.regex).position(|n| n == Some(name))?;
        self.groups.get(i).copied().flatten()
    }

    /// The span of capture group `i` (numbered as the rule's regex numbers them), if it
    /// took part in the match: for stages that look a rule's group names up once
    /// (`GroupInfo::to_index`) rather than by name for every match.
    pub fn group(&self, i: usize) -> Option<Span> {
        self.groups.get(i).copied().flatten()
    }

    /// The names of the groups that took part in the match.
    pub fn names<'r>(&self, rule: &'r Rule) -> Vec<&'r str> {
        compile::capture_names(&rule.regex)
            .zip(&self.groups)
            .filter_map(|(n, g)| g.and(n))
            .collect()
    }

    /// The spans captured by placeholders, in pattern order.
    pub fn placeholders(&self, rule: &Rule) -> Vec<(Placeholder, Span)> {
        rule.placeholders
            .iter()
            .filter_map(|(i, p)| self.groups.get(*i).copied().flatten().map(|s| (*p, s)))
            .collect()
    }
}

/// A match without its capture groups (see [`RuleSet::hits`]).
#[derive(Clone, Debug)]
pub struct Hit<'t> {
    /// Index of the rule in [`RuleSet::rules`].
    pub rule: usize,
    pub span: Span,
    /// The paragraph the match was found in, and where it starts in the document.
    chunk_start: usize,
    chunk: &'t [u8],
}

/// The groups of a match as spans in the document (`start` is the paragraph's offset).
fn groups(caps: &regex_automata::util::captures::Captures, start: usize) -> Vec<Option<Span>> {
    (0..caps.group_len())
        .map(|i| {
            caps.get_group(i)
                .map(|m| Span::new(start + m.start, start + m.end))
        })
        .collect()
}

/// A document's text, its masked copy (when placeholders may be needed) and its
/// paragraphs (rules never match across a blank line).
pub struct Texts<'a> {
    pub plain: &'a str,
    pub masked: Option<&'a str>,
    chunks: Vec<(usize, usize)>,
}

impl<'a> Texts<'a> {
    pub fn new(plain: &'a str, masked: Option<&'a str>) -> Texts<'a> {
        if let Some(m) = masked {
            debug_assert_eq!(m.len(), plain.len());
        }
        Texts {
            plain,
            masked,
            chunks: paragraphs(plain),
        }
    }

    /// The same text and paragraphs with another masked copy (of the same length):
    /// a stage that masks the text twice splits it into paragraphs once.
    pub fn remasked<'b>(&self, masked: &'b str) -> Texts<'b>
    where
        'a: 'b,
    {
        debug_assert_eq!(masked.len(), self.plain.len());
        Texts {
            plain: self.plain,
            masked: Some(masked),
            chunks: self.chunks.clone(),
        }
    }
}

/// Byte ranges of the paragraphs of `text`: runs of lines without a blank line.
///
/// Line ends are found with `str::find`, which looks for the byte a word at a time
/// (the std `memchr`) instead of testing every byte: a byte loop here was 2% of all
/// instructions, as every document is split once per stage.
fn paragraphs(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut line_start = 0;
    let mut blank_run = false;
    while let Some(k) = text[line_start..].find('\n') {
        let i = line_start + k;
        let line = &text[line_start..i];
        if line.trim().is_empty() {
            if !blank_run && start < line_start {
                out.push((start, line_start));
            }
            blank_run = true;
            start = i + 1;
        } else {
            blank_run = false;
        }
        line_start = i + 1;
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

/// A copy of `text` with each span overwritten by its placeholder code and filler bytes.
/// Control bytes already in the text become spaces so they cannot pass for a mask.
/// Later spans win where spans overlap.
pub fn mask(text: &str, spans: &[(Span, Placeholder)]) -> String {
    let mut bytes: Vec<u8> = text
        .bytes()
        .map(|b| {
            if b < 0x20 && b != b'\n' && b != b'\t' && b != b'\r' {
                b' '
            } else {
                b
            }
        })
        .collect();
    for (span, p) in spans {
        if span.is_empty() || span.end > bytes.len() {
            continue;
        }
        bytes[span.start] = p.code();
        for b in &mut bytes[span.start + 1..span.end] {
            *b = MASK_FILL;
        }
    }
    // Spans lie on character boundaries and only whole characters were replaced by ASCII.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The id of the next rule set made (see [`Inner::id`]); 0 is no set's.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl RuleSet {
    /// The rule set of `rules`, grouped by table and kind, with one gate for all the
    /// groups that run over the same text (those of both tables with or without `{QTY}`
    /// and placeholders alike).
    ///
    /// Why one gate for the numbers and the dates rules: both run over a document's plain
    /// text, and a walk of a gate costs about the same per byte whatever its size (each
    /// step waits on a load from its transition table): on 4 MB of generated articles,
    /// walked alone, the numbers gate took 5.0 ns per byte and the dates gate 3.8-4.6,
    /// the two as one gate 5.0-5.2 (with 2.1 MB of lazy-DFA cache per thread instead of
    /// 1.4 + 1.0 MB). The numbers stage walks each document with it, and the dates stage
    /// finds that walk kept by its thread (`walks.rs`).
    fn new(rules: Vec<Rule>) -> RuleSet {
        let mut keys: BTreeMap<(Table, bool, bool), Vec<usize>> = BTreeMap::new();
        for (i, r) in rules.iter().enumerate() {
            keys.entry((r.table, r.context, r.masked))
                .or_default()
                .push(i);
        }
        // Per text (with `{QTY}` or not, masked or not): its groups' members in order.
        let mut texts: BTreeMap<(bool, bool), Vec<usize>> = BTreeMap::new();
        let mut groups = Vec::new();
        for ((table, context, masked), members) in keys {
            let gated = texts.entry((context, masked)).or_default();
            groups.push(Group {
                table,
                context,
                masked,
                gate: 0,
                first: gated.len(),
                members: members.clone(),
            });
            gated.extend(members);
        }
        for g in &mut groups {
            g.gate = texts
                .keys()
                .position(|&k| k == (g.context, g.masked))
                .unwrap_or(0);
        }
        // The gates take a while to build too: build them side by side.
        use rayon::prelude::*;
        let gates = texts
            .into_values()
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|members| {
                let patterns: Vec<&Hir> = members.iter().map(|&i| &rules[i].hir).collect();
                gate::Gate::new(&patterns)
            })
            .collect::<Vec<gate::Gate>>();
        let gates = gates
            .into_iter()
            .enumerate()
            .map(|(i, gate)| SharedGate {
                gate,
                shared: groups.iter().filter(|g| g.gate == i).count() > 1,
            })
            .collect();
        RuleSet {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                around: rules
                    .iter()
                    .map(|r| memo::Around::of(r.hir.properties().look_set()))
                    .collect(),
                rules,
                groups,
                gates,
            }),
        }
    }

    /// Every compiled rule, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.inner.rules
    }

    /// The number of rule files' worth of rules for `table`.
    pub fn count(&self, table: Table) -> usize {
        self.inner.rules.iter().filter(|r| r.table == table).count()
    }

    /// Whether some rule of `table` (with or without `{QTY}`) uses a placeholder, so
    /// that [`RuleSet::find`] needs the masked text.
    pub fn needs_mask(&self, table: Table, context: bool) -> bool {
        self.inner
            .groups
            .iter()
            .any(|g| g.table == table && g.context == context && g.masked)
    }

    /// Calls `each(rule, chunk_start, chunk, candidates)` for every rule of `table` that
    /// uses `{QTY}` (`context`) or not, on each paragraph (`chunk`, starting at
    /// `chunk_start` in the document) where the prefilter says one of its matches can
    /// start, with where (see [`gate::Gate::starts`]). Rules with placeholders run over
    /// `texts.masked` and are skipped when there is none.
    fn scan<'t>(
        &self,
        table: Table,
        context: bool,
        texts: &Texts<'t>,
        mut each: impl FnMut(usize, usize, &'t [u8], gate::Candidates<'_>),
    ) {
        for g in &self.inner.groups {
            if g.table != table || g.context != context {
                continue;
            }
            let hay = if g.masked {
                match texts.masked {
                    Some(m) => m,
                    None => continue,
                }
            } else {
                texts.plain
            };
            let SharedGate { gate, shared } = &self.inner.gates[g.gate];
            let (id, chunks) = (self.inner.id, &texts.chunks);
            walks::with_starts(id, g.gate, *shared, gate, hay, chunks, |starts| {
                for (c, &(start, end)) in chunks.iter().enumerate() {
                    let chunk = &hay.as_bytes()[start..end];
                    for (k, &ri) in g.members.iter().enumerate() {
                        let candidates = gate.candidates(starts, c, g.first + k);
                        if !candidates.is_none() {
                            each(ri, start, chunk, candidates);
                        }
                    }
                }
            });
        }
    }

    /// Every match of the rules of `table` that use `{QTY}` (`context`) or not, with its
    /// captures, in each paragraph where the prefilter says the rule can match. Rules
    /// with placeholders run over `texts.masked` and are skipped when there is none.
    pub fn find(&self, table: Table, context: bool, texts: &Texts) -> Vec<Match> {
        let mut out = Vec::new();
        self.scan(table, context, texts, |ri, start, chunk, _| {
            let rule = &self.inner.rules[ri];
            for caps in rule.regex.captures_iter(chunk) {
                let Some(whole) = caps.get_match() else {
                    continue;
                };
                if whole.is_empty() {
                    continue;
                }
                out.push(Match {
                    rule: ri,
                    span: Span::new(start + whole.start(), start + whole.end()),
                    groups: groups(&caps, start),
                });
            }
        });
        out
    }

    /// Every match of the rules of `table` that use `{QTY}` (`context`) or not, as bare
    /// spans, in the order [`RuleSet::find`] gives them: the same matches, without their
    /// capture groups, which [`RuleSet::captures`] reads for the hits that need them.
    ///
    /// Why: capture groups need the regex crate's slower backtracking engine, while bare
    /// spans come from its DFAs alone, and most matches are not worth their groups (they
    /// lose their overlap, or what they would say about a number is said already).
    ///
    /// A rule's regex is not run over the paragraph, but anchored at each of the
    /// prefilter's candidate starts `C` (a superset of the positions where a match of the
    /// rule starts): with `pos` the end of the last hit (first the paragraph's start),
    /// for each `s` in `C` in increasing order with `s >= pos`, an anchored search at `s`
    /// (over the rest of the paragraph) gives a hit if it finds a non-empty match, and
    /// `pos` becomes its end. That yields exactly the non-empty matches of `find_iter`
    /// over the paragraph, in order. By induction on the searches `find_iter` makes:
    ///
    /// - A search whose range starts at `pos` finds the preferred match (leftmost-first)
    ///   among those starting at the smallest `s` at or after `pos` where one starts. Its
    ///   matches are the paragraph's matches that start at or after `pos` (assertions see
    ///   the haystack before the range too), so `s` is the paragraph's first start at or
    ///   after `pos`, and `s` is in `C`.
    /// - The candidates between `pos` and `s` find nothing (no match starts there), and
    ///   the anchored search at `s` finds the preferred match starting at `s`: the same.
    /// - If it is non-empty, both take it and go on from its end. If it is empty,
    ///   `find_iter` yields it (skipped here) and searches again from `s`, refuses the
    ///   same empty match (it ends where the last one did) and searches from `s + 1`;
    ///   the candidates go on after `s`, with `pos` (at most `s`) unchanged. Either way
    ///   both go on with the first start after `s`. (`find_iter` also steps over empty
    ///   matches that split a character; non-empty ones never do, the patterns being
    ///   UTF-8.)
    pub fn hits<'t>(&self, table: Table, context: bool, texts: &Texts<'t>) -> Vec<Hit<'t>> {
        let mut hits = Vec::new();
        memo::with_search(self.inner.id, |search| {
            self.scan(table, context, texts, |ri, start, chunk, candidates| {
                let regex = &self.inner.rules[ri].regex;
                let hit = |s: usize, e: usize| Hit {
                    rule: ri,
                    span: Span::new(start + s, start + e),
                    chunk_start: start,
                    chunk,
                };
                match candidates {
                    gate::Candidates::Everywhere => {
                        for m in regex.find_iter(chunk) {
                            if !m.is_empty() {
                                hits.push(hit(m.start(), m.end()));
                            }
                        }
                    }
                    gate::Candidates::At(list, mask) => {
                        let mut pos = start;
                        for &(s, set) in list {
                            if set & mask == 0 || s < pos {
                                continue;
                            }
                            let input =
                                Input::new(chunk).range(s - start..).anchored(Anchored::Yes);
                            if let Some(m) = search(ri, regex, &input) {
                                if !m.is_empty() {
                                    hits.push(hit(m.start(), m.end()));
                                    pos = start + m.end();
                                }
                            }
                        }
                    }
                }
            });
        });
        hits
    }

    /// The match `hit` stands for, with its capture groups: what [`RuleSet::find`] gives
    /// for it.
    ///
    /// An anchored search over the hit's own span finds the same match with the same
    /// groups, without searching for it again: the match found was the preferred one
    /// among those starting there, and cutting the text at its end only removes
    /// alternatives that lost to it (assertions still see the text beyond the span).
    pub fn captures(&self, hit: &Hit) -> Match {
        let rules = &self.inner.rules;
        let (span, start, chunk) = (hit.span, hit.chunk_start, hit.chunk);
        let regex = &rules[hit.rule].regex;
        let mut groups = Vec::new();
        memo::anchored(
            self.inner.id,
            hit.rule,
            regex,
            self.inner.around[hit.rule],
            chunk,
            (span.start - start, span.end - start),
            start,
            &mut groups,
        );
        let same = groups.first() == Some(&Some(span));
        debug_assert!(same, "rule {} at {span:?}", rules[hit.rule].id);
        if !same {
            let mut caps = regex.create_captures();
            regex.search_captures(&Input::new(chunk).range(span.start - start..), &mut caps);
            groups = self::groups(&caps, start);
        }
        Match {
            rule: hit.rule,
            span,
            groups,
        }
    }

    /// The matches of the rules of `table` without `{QTY}` that win their overlaps (see
    /// [`RuleSet::resolve`]), without those of block rules, in text order: the same as
    /// `resolve(find(table, false, texts))` less the block rules' matches, for less.
    ///
    /// Why it is cheaper: most matches lose their overlap (a year is found by `digits`
    /// and `not-year`, a date by three rules) and block rules produce nothing, so the
    /// overlaps are resolved on bare [hits](RuleSet::hits), and capture groups are read
    /// for the winners only.
    pub fn winners(&self, table: Table, texts: &Texts) -> Vec<Match> {
        let hits = self.hits(table, false, texts);
        let rules = &self.inner.rules;
        self.winning(hits, |h| (h.rule, h.span))
            .iter()
            .filter(|h| !rules[h.rule].block)
            .map(|h| self.captures(h))
            .collect()
    }

    /// Keeps the matches that win their overlaps: the longest, then the highest
    /// priority, then the rule written first. Block rules' matches take part (and win
    /// like any other); callers drop them. The result is in text order.
    pub fn resolve(&self, matches: Vec<Match>) -> Vec<Match> {
        self.winning(matches, |m| (m.rule, m.span))
    }

    /// [`RuleSet::resolve`] for anything with a rule and a span.
    fn winning<T>(&self, mut matches: Vec<T>, key: impl Fn(&T) -> (usize, Span)) -> Vec<T> {
        let rules = &self.inner.rules;
        matches.sort_by(|a, b| {
            let (ar, a) = key(a);
            let (br, b) = key(b);
            b.len()
                .cmp(&a.len())
                .then(rules[br].priority.cmp(&rules[ar].priority))
                .then(rules[ar].order.cmp(&rules[br].order))
                .then(a.start.cmp(&b.start))
        });
        // Taken spans by start; they never overlap, so neighbours are enough to check.
        let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
        let mut out = Vec::new();
        for m in matches {
            let (_, span) = key(&m);
            let before = taken.range(..span.end).next_back();
            if before.is_some_and(|(_, &end)| end > span.start) {
                continue;
            }
            taken.insert(span.start, span.end);
            out.push(m);
        }
        out.sort_by_key(|m| {
            let (_, span) = key(m);
            (span.start, span.end)
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(files: &[(&str, &str)]) -> std::result::Result<RuleSet, String> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        RuleSetBuilder::new()
            .without_builtin()
            .dir(Some(dir.path().to_path_buf()))
            .build()
            .map_err(|e| {
                e.to_string()
                    .replace(&dir.path().display().to_string(), "DIR")
            })
    }

    const DIGITS: &str = r#"
table = "quantities"
[macros]
N = '\d+'

[[rule]]
id = "digits"
pattern = '(?P<num>{N})'
examples = [{ text = "5 cats", value = 5 }]

[[rule]]
id = "phone"
block = true
priority = 5
pattern = '\d+-\d+'
"#;

    #[test]
    fn longest_then_priority_then_order() {
        let rules = set(&[("a.toml", DIGITS)]).unwrap();
        let texts = Texts::new("call 555-1234 or 7", None);
        let won = rules.resolve(rules.find(Table::Quantities, false, &texts));
        let got: Vec<(&str, &str)> = won
            .iter()
            .map(|m| {
                (
                    rules.rules()[m.rule].id.as_str(),
                    &texts.plain[m.span.start..m.span.end],
                )
            })
            .collect();
        assert_eq!(got, vec![("phone", "555-1234"), ("digits", "7")]);
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let bad = r#"
table = "quantities"

[[rule]]
id = "one"
pattern = '(?P<num>\d+'
examples = [{ text = "5", value = 5 }]

[[rule]]
id = "two"
pattern = '{NOPE}'
examples = [{ text = "5", value = 5 }]

[[rule]]
id = "three"
pattern = '(?P<num>\d+)'
category = "dead"
"#;
        let err = set(&[("bad.toml", bad)]).unwrap_err();
        let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("DIR")).collect();
        assert_eq!(lines.len(), 4, "{err}");
        assert!(
            lines[0].starts_with("DIR/bad.toml:6: rule one: bad pattern:"),
            "{err}"
        );
        assert!(err.contains("^"), "the regex error shows a caret: {err}");
        assert_eq!(lines[1], "DIR/bad.toml:11: rule two: unknown macro {NOPE}");
        assert!(lines[2].starts_with("DIR/bad.toml:15: rule three: unknown category"));
        assert!(lines[3].starts_with("DIR/bad.toml:15: rule three: every rule needs"));
    }

    #[test]
    fn unknown_keys_and_duplicate_ids_are_located() {
        let a =
            "table = \"dates\"\n[[rule]]\nid = \"x\"\npattern = '(?P<year>\\d{4})'\npriorty = 2\n";
        let b = "table = \"dates\"\n[[rule]]\nid = \"y\"\npattern = '(?P<year>\\d{4})'\nexamples = [{ text = \"2017\", value = \"2017\" }]\n[[rule]]\nid = \"y\"\npattern = '(?P<year>\\d{4})'\nexamples = [{ text = \"2017\", value = \"2017\" }]\n";
        let err = set(&[("a.toml", a), ("b.toml", b)]).unwrap_err();
        assert!(
            err.contains("DIR/a.toml:5: unknown field `priorty`"),
            "{err}"
        );
        assert!(
            err.contains("DIR/b.toml:7: rule y: the id is used already at DIR/b.toml:3"),
            "{err}"
        );
    }

    #[test]
    fn macro_cycles_and_placeholders() {
        let f = "table = \"quantities\"\n[macros]\nA = '{B}'\nB = '{A}'\n";
        let err = set(&[("m.toml", f)]).unwrap_err();
        assert!(err.contains("macro cycle"), "{err}");
        let f = "table = \"dates\"\n[[rule]]\nid = \"q\"\npattern = '{QTY} (?P<year>\\d{4})'\nexamples = [{ text = \"x\" }]\n";
        let err = set(&[("m.toml", f)]).unwrap_err();
        assert!(
            err.contains("{QTY} can only be used in quantities rules"),
            "{err}"
        );
    }

    #[test]
    fn placeholders_match_masked_spans_only() {
        let f = r#"
table = "quantities"
[[rule]]
id = "near-person"
pattern = '{PERSON} paid (?P<num>\d+)'
examples = [{ text = "x", value = 5 }]
"#;
        let rules = set(&[("p.toml", f)]).unwrap();
        let text = "Ann Lee paid 5 and Bob paid 6";
        let masked = mask(text, &[(Span::new(0, 7), Placeholder::Person)]);
        assert_eq!(masked.len(), text.len());
        let texts = Texts::new(text, Some(&masked));
        let found = rules.find(Table::Quantities, false, &texts);
        assert_eq!(found.len(), 1);
        let r = &rules.rules()[found[0].rule];
        assert_eq!(
            found[0].placeholders(r),
            vec![(Placeholder::Person, Span::new(0, 7))]
        );
        assert_eq!(found[0].get(r, "num"), Some(Span::new(13, 14)));
    }

    #[test]
    fn user_files_replace_by_name_and_rules_by_id() {
        let b = RuleSetBuilder::new().build().unwrap();
        let n = b.rules().len();
        let dir = tempfile::tempdir().unwrap();
        let first = b.rules()[b.rules().len() - 1].clone();
        let f = format!(
            "table = \"{}\"\n[[rule]]\nid = \"{}\"\npattern = '(?P<year>zzz)'\nexamples = [{{ text = \"zzz\" }}]\n",
            first.table.as_str(),
            first.id
        );
        std::fs::write(dir.path().join("mine.toml"), f).unwrap();
        let s = RuleSetBuilder::new()
            .dir(Some(dir.path().to_path_buf()))
            .build();
        // Replacing a dates rule with a `<year>` capture named "zzz" compiles.
        let s = s.unwrap();
        assert_eq!(s.rules().len(), n);
        let r = s.rules().iter().find(|r| r.id == first.id).unwrap();
        assert!(r.file.ends_with("mine.toml"));
    }

    /// `winners` (spans first, captures for the winners) gives what resolving every
    /// match with its captures gives, less the block rules.
    #[test]
    fn winners_are_resolved_matches_without_blocks() {
        let rules = RuleSetBuilder::new().build().unwrap();
        let texts = [
            "At least 15 villagers were killed on 3 March 2024 in 2 attacks.",
            "Between 20 and 30 boats, $5 million, 1,500 to 3,000 fighters.\n\nCall 555-123-4567 at 10:30 am.",
            "In late August, two weeks ago, the 2017 toll rose to nine; 2000 shoes.",
            "No numbers here at all.\n\n\n",
        ];
        for text in texts {
            let t = Texts::new(text, None);
            for table in [Table::Quantities, Table::Dates] {
                let key = |m: &Match| (m.rule, m.span, m.groups.clone());
                let want: Vec<_> = rules
                    .resolve(rules.find(table, false, &t))
                    .iter()
                    .filter(|m| !rules.rules()[m.rule].block)
                    .map(key)
                    .collect();
                let got: Vec<_> = rules.winners(table, &t).iter().map(key).collect();
                assert_eq!(got, want, "{table:?} in {text:?}");
            }
        }
    }

    /// What `captures` must give for `hit`: a fresh anchored search over its span.
    fn plain_captures(rules: &RuleSet, hit: &Hit) -> Vec<Option<Span>> {
        let regex = &rules.rules()[hit.rule].regex;
        let mut caps = regex.create_captures();
        let (s, e) = (
            hit.span.start - hit.chunk_start,
            hit.span.end - hit.chunk_start,
        );
        let input = Input::new(hit.chunk).span(s..e).anchored(Anchored::Yes);
        regex.search_captures(&input, &mut caps);
        groups(&caps, hit.chunk_start)
    }

    /// Every hit of every built-in rule in generated articles and the examples, read
    /// twice (the second time, at the latest, from the memo), has the groups of a plain
    /// anchored search over its span.
    #[test]
    fn remembered_captures_are_plain_captures() {
        let rules = RuleSetBuilder::new().build().unwrap();
        let gaz = crate::entity::Gazetteers::builtin().unwrap();
        let generator = crate::generate::Generator::new(&gaz, 11).unwrap();
        let mut texts: Vec<String> = (0..300).map(|i| generator.article(i).text).collect();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/articles");
        for e in std::fs::read_dir(dir).unwrap() {
            texts.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
        let reused = memo::REUSED.with(|r| r.get());
        let mut checked = 0;
        for text in &texts {
            let plain = Texts::new(text, None);
            let numbers: Vec<(Span, Placeholder)> = rules
                .winners(Table::Quantities, &plain)
                .iter()
                .map(|m| (m.span, Placeholder::Quantity))
                .collect();
            let masked = mask(text, &numbers);
            let with_numbers = Texts::new(text, Some(&masked));
            for (table, context, t) in [
                (Table::Quantities, false, &plain),
                (Table::Dates, false, &plain),
                (Table::Quantities, true, &with_numbers),
            ] {
                for hit in rules.hits(table, context, t) {
                    let want = plain_captures(&rules, &hit);
                    for _ in 0..2 {
                        let got = rules.captures(&hit);
                        let id = &rules.rules()[hit.rule].id;
                        assert_eq!(got.groups, want, "rule {id} at {:?} in {text:?}", hit.span);
                    }
                    checked += 1;
                }
            }
        }
        let reused = memo::REUSED.with(|r| r.get()) - reused;
        assert!(checked > 5_000, "{checked} hits");
        // Every second reading, and more: the same spans recur across articles.
        assert!(
            reused > checked + checked / 2,
            "{reused} of {}",
            2 * checked
        );
    }

    /// The hits are every rule's matches in every paragraph, searched whole and without
    /// the prefilter: the prefilter's limits hide none.
    #[test]
    fn hits_are_every_match_of_every_rule() {
        let rules = RuleSetBuilder::new().build().unwrap();
        let gaz = crate::entity::Gazetteers::builtin().unwrap();
        let generator = crate::generate::Generator::new(&gaz, 12).unwrap();
        for i in 0..150 {
            let text = generator.article(i).text;
            let plain = Texts::new(&text, None);
            let numbers: Vec<(Span, Placeholder)> = rules
                .winners(Table::Quantities, &plain)
                .iter()
                .map(|m| (m.span, Placeholder::Quantity))
                .collect();
            let masked = mask(&text, &numbers);
            let with_numbers = Texts::new(&text, Some(&masked));
            for (table, context, t) in [
                (Table::Quantities, false, &plain),
                (Table::Dates, false, &plain),
                (Table::Quantities, true, &with_numbers),
            ] {
                let mut got: Vec<(usize, Span)> = rules
                    .hits(table, context, t)
                    .iter()
                    .map(|h| (h.rule, h.span))
                    .collect();
                got.sort_unstable_by_key(|&(r, s)| (r, s.start, s.end));
                let mut want = Vec::new();
                for (ri, r) in rules.rules().iter().enumerate() {
                    if r.table != table || r.context != context {
                        continue;
                    }
                    let hay = if r.masked { t.masked.unwrap() } else { t.plain };
                    for &(s, e) in &t.chunks {
                        for m in r.regex.find_iter(&hay[s..e]) {
                            if !m.is_empty() {
                                want.push((ri, Span::new(s + m.start(), s + m.end())));
                            }
                        }
                    }
                }
                want.sort_unstable_by_key(|&(r, s)| (r, s.start, s.end));
                assert_eq!(got, want, "{table:?} {context} in {text:?}");
            }
        }
    }

    /// The non-empty matches of every rule of `table`/`context` in every paragraph,
    /// searched whole with `find_iter` and without the prefilter, sorted by rule and
    /// span: what [`RuleSet::hits`] must give.
    fn plain_hits(rules: &RuleSet, table: Table, context: bool, t: &Texts) -> Vec<(usize, Span)> {
        let mut want = Vec::new();
        for (ri, r) in rules.rules().iter().enumerate() {
            if r.table != table || r.context != context {
                continue;
            }
            let Some(hay) = (if r.masked { t.masked } else { Some(t.plain) }) else {
                continue;
            };
            for &(s, e) in &t.chunks {
                for m in r.regex.find_iter(&hay[s..e]) {
                    if !m.is_empty() {
                        want.push((ri, Span::new(s + m.start(), s + m.end())));
                    }
                }
            }
        }
        want.sort_unstable_by_key(|&(r, s)| (r, s.start, s.end));
        want
    }

    /// [`RuleSet::hits`], sorted by rule and span.
    fn sorted_hits(rules: &RuleSet, table: Table, context: bool, t: &Texts) -> Vec<(usize, Span)> {
        let mut got: Vec<(usize, Span)> = rules
            .hits(table, context, t)
            .iter()
            .map(|h| (h.rule, h.span))
            .collect();
        got.sort_unstable_by_key(|&(r, s)| (r, s.start, s.end));
        got
    }

    /// For every group of the built-in rules, on random texts made of the words of the
    /// rules' examples (numbers masked as the numbers stage masks them, some words as
    /// entities): the hits, found by anchored searches at the gate's candidate starts,
    /// are exactly the matches of each rule's `find_iter` over each paragraph; and, in
    /// ASCII paragraphs, the walks from the masks name no start that the gate over the
    /// whole text (without marks) does not (outside ASCII they match a superset: see
    /// `gate::widen`).
    #[test]
    fn hits_are_find_iter_on_the_rules_words() {
        let rules = RuleSetBuilder::new().build().unwrap();
        let mut words: Vec<String> = Vec::new();
        for r in rules.rules() {
            for text in r.examples.iter().map(|e| &e.text).chain(&r.counter) {
                words.extend(text.split_whitespace().map(str::to_string));
            }
        }
        words.extend(
            [
                "\n", "\n\n", ".", ",", ";", "and", "killed", "12", "\u{201c}", "\u{201d}",
            ]
            .map(str::to_string),
        );
        words.sort();
        words.dedup();
        // Per gate: the same members, walked over the whole text.
        let unanchored: Vec<gate::Gate> = (0..rules.inner.gates.len())
            .map(|gi| {
                let hirs: Vec<&Hir> = rules
                    .inner
                    .groups
                    .iter()
                    .filter(|g| g.gate == gi)
                    .flat_map(|g| g.members.iter().map(|&i| &rules.rules()[i].hir))
                    .collect();
                gate::Gate::unanchored(&hirs)
            })
            .collect();
        let mut next = crate::testing::lcg(99);
        // Per group: matches found, candidates named, and cells where the walks from
        // the marks named fewer starts than the whole-text gate.
        let groups = rules.inner.groups.len();
        let (mut matched, mut named, mut tighter) = (vec![0; groups], vec![0; groups], 0);
        let (mut starts, mut old) = (gate::Starts::default(), gate::Starts::default());
        for _ in 0..400 {
            let len = 10 + next() % 120;
            let text = (0..len)
                .map(|_| words[next() % words.len()].as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let plain = Texts::new(&text, None);
            let mut spans: Vec<(Span, Placeholder)> = Vec::new();
            // Some capitalised words as entities, as the entity stage masks them first.
            let mut at = 0;
            for w in text.split(' ') {
                if w.starts_with(|c: char| c.is_ascii_uppercase()) && next() % 3 == 0 {
                    spans.push((Span::new(at, at + w.len()), Placeholder::Place));
                }
                at += w.len() + 1;
            }
            spans.extend(
                rules
                    .winners(Table::Quantities, &plain)
                    .iter()
                    .map(|m| (m.span, Placeholder::Quantity)),
            );
            let masked = mask(&text, &spans);
            let t = Texts::new(&text, Some(&masked));
            for (table, context) in [
                (Table::Quantities, false),
                (Table::Dates, false),
                (Table::Quantities, true),
            ] {
                let want = plain_hits(&rules, table, context, &t);
                assert_eq!(
                    sorted_hits(&rules, table, context, &t),
                    want,
                    "{table:?} {context} in {text:?}"
                );
            }
            for (gi, g) in rules.inner.groups.iter().enumerate() {
                let hay = if g.masked { &masked } else { &text };
                let gate = &rules.inner.gates[g.gate].gate;
                gate.starts(hay, &t.chunks, &mut starts);
                unanchored[g.gate].starts(hay, &t.chunks, &mut old);
                for (c, &(s, e)) in t.chunks.iter().enumerate() {
                    for (k, &ri) in g.members.iter().enumerate() {
                        let k = g.first + k;
                        let list = |gate: &gate::Gate, starts| match gate.candidates(starts, c, k) {
                            gate::Candidates::Everywhere => (s..e).collect(),
                            gate::Candidates::At(list, mask) => list
                                .iter()
                                .filter(|&&(_, set)| set & mask != 0)
                                .map(|&(at, _)| at)
                                .collect::<Vec<usize>>(),
                        };
                        let (got, whole) = (list(gate, &starts), list(&unanchored[g.gate], &old));
                        if hay[s..e].is_ascii() {
                            assert!(
                                got.iter().all(|x| whole.contains(x)),
                                "rule {}: {got:?} against {whole:?} in {:?}",
                                rules.rules()[ri].id,
                                &hay[s..e]
                            );
                        }
                        matched[gi] += rules.rules()[ri]
                            .regex
                            .find_iter(&hay[s..e])
                            .filter(|m| !m.is_empty())
                            .count();
                        named[gi] += got.len();
                        tighter += usize::from(got.len() < whole.len());
                    }
                }
            }
        }
        // Every group's rules matched, the `{QTY}` group's often; its walks from the
        // masks are tighter than the whole-text gate somewhere.
        let qty = rules.inner.groups.iter().position(|g| g.context).unwrap();
        assert!(matched[qty] > 200, "{matched:?}");
        assert!(matched.iter().all(|&m| m > 0), "{matched:?}");
        assert!(tighter > 0);
        // Candidates are a superset, but not a much larger one.
        for (m, n) in matched.iter().zip(&named) {
            assert!(*n < 3 * m, "{named:?} candidates for {matched:?} matches");
        }
    }

    /// The numbers and dates rules share one gate over the plain text, and a thread
    /// walks a text with it once: the dates hits of a document whose numbers hits were
    /// just found come from that walk, also with a short text asked about in between
    /// (a header line), and are still every match. A text of the same length and
    /// paragraphs but other bytes is walked anew.
    #[test]
    fn walks_are_shared_by_the_numbers_and_dates_of_one_text() {
        let rules = RuleSetBuilder::new().build().unwrap();
        fn plain(t: &str) -> Texts<'_> {
            Texts::new(t, None)
        }
        let (q, d) = (Table::Quantities, Table::Dates);
        let shared = rules
            .inner
            .groups
            .iter()
            .filter(|g| !g.context)
            .map(|g| g.gate);
        assert_eq!(shared.collect::<std::collections::BTreeSet<_>>().len(), 1);
        let reused = || walks::REUSED.with(|r| r.get());

        let a = "On 3 March 2024, at least 15 people died.\n\nTwo weeks ago 4 more.";
        let b = "On 3 Mbrch 2024, at least 15 people died.\n\nTwo weeks ago 4 more.";
        let head = "BAMAKO, June 5, 2024";
        assert_eq!(paragraphs(a), paragraphs(b));
        let before = reused();
        assert_eq!(
            sorted_hits(&rules, q, false, &plain(a)),
            plain_hits(&rules, q, false, &plain(a))
        );
        let want = plain_hits(&rules, d, false, &plain(a));
        assert_eq!(sorted_hits(&rules, d, false, &plain(a)), want);
        assert_eq!(reused(), before + 1);

        // A header line in between: the document's walk is still kept.
        sorted_hits(&rules, q, false, &plain(a));
        assert_eq!(
            sorted_hits(&rules, d, false, &plain(head)),
            plain_hits(&rules, d, false, &plain(head))
        );
        assert_eq!(sorted_hits(&rules, d, false, &plain(a)), want);
        assert_eq!(reused(), before + 3);

        // Same length and paragraphs, other bytes: not the same walk.
        sorted_hits(&rules, q, false, &plain(a));
        assert_eq!(reused(), before + 4);
        let other = plain_hits(&rules, d, false, &plain(b));
        assert_ne!(other, want);
        assert_eq!(sorted_hits(&rules, d, false, &plain(b)), other);
        assert_eq!(reused(), before + 4);
    }

    /// More members than one gate has bits for (70 rules of two tables over the same
    /// text): still one automaton, neighbours sharing a bit, and the hits are still
    /// every rule's `find_iter` matches.
    #[test]
    fn members_share_bits_beyond_64() {
        let mut files = Vec::new();
        for (table, from) in [("quantities", 0), ("dates", 35)] {
            let mut f = format!("table = \"{table}\"\n");
            for i in from..from + 35 {
                let w = format!("w{}{}", (b'a' + (i % 26) as u8) as char, i / 26);
                f += &format!(
                    "[[rule]]\nid = \"r{i}\"\nblock = true\npattern = '\\b(?:x\\s+){{0,2}}{w}\\s+\\d{{1,2}}\\b'\n"
                );
            }
            files.push((format!("{table}.toml"), f));
        }
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, f)| (n.as_str(), f.as_str()))
            .collect();
        let rules = set(&files).unwrap();
        assert_eq!(rules.inner.gates.len(), 1);
        assert_eq!(rules.inner.gates[0].gate.automata(), 1);
        let mut words: Vec<String> = (0..70)
            .map(|i| format!("w{}{}", (b'a' + (i % 26) as u8) as char, i / 26))
            .collect();
        let numbered: Vec<String> = words.iter().map(|w| format!("{w} 12")).collect();
        words.extend(numbered);
        words.extend(["x", "12", "3", "123", "\n\n", ".", "wz9"].map(str::to_string));
        let mut next = crate::testing::lcg(64);
        let mut found = 0;
        for _ in 0..200 {
            let len = 5 + next() % 80;
            let text = (0..len)
                .map(|_| words[next() % words.len()].as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let t = Texts::new(&text, None);
            for table in [Table::Quantities, Table::Dates] {
                let want = plain_hits(&rules, table, false, &t);
                assert_eq!(
                    sorted_hits(&rules, table, false, &t),
                    want,
                    "{table:?} in {text:?}"
                );
                found += want.len();
            }
        }
        assert!(found > 1000, "{found}");
    }

    /// The cases at the edges, with rules of their own: a match at a paragraph's start
    /// and end, word boundaries there, adjacent matches (one starting where the last
    /// ends), matches overlapping a longer one (not found: `find_iter` skips them),
    /// non-ASCII text, patterns that can match empty, and a rule the gate cannot walk
    /// (`^`), all as `find_iter` finds them.
    #[test]
    fn hits_at_the_edges_are_find_iter() {
        let f = r#"
table = "dates"
[[rule]]
id = "word"
pattern = '\bab\b'
block = true
[[rule]]
id = "run"
pattern = 'a+'
block = true
[[rule]]
id = "adjacent"
pattern = 'x\d'
block = true
[[rule]]
id = "alternatives"
pattern = 'b|ab|bab'
block = true
[[rule]]
id = "wide"
pattern = '\p{L}*é\b'
block = true
[[rule]]
id = "maybe-empty"
pattern = 'c*?d?'
block = true
[[rule]]
id = "line"
pattern = '(?m)^ab'
block = true
"#;
        let rules = set(&[("d.toml", f)]).unwrap();
        let texts = [
            "ab",
            "ab ab\n\nab",
            "aab abb ab\n",
            "aaa\n\n  \naaa",
            "x1x2x3 x4\n\nx5",
            "babab ab bab\n\nb",
            "café é ée\u{a0}é\n\nnaïve café",
            "cd ccd c d\n\ndd",
            "éab ab\u{e9}\n \nab\nab",
            "",
            "\n\n\n",
        ];
        for text in texts {
            let t = Texts::new(text, None);
            let want = plain_hits(&rules, Table::Dates, false, &t);
            assert_eq!(
                sorted_hits(&rules, Table::Dates, false, &t),
                want,
                "in {text:?}"
            );
        }
        // Spot checks of what that is (block rules: hits, never winners).
        let t = Texts::new("x1x2x3 x4\n\nab", None);
        let spans: Vec<(usize, usize)> = sorted_hits(&rules, Table::Dates, false, &t)
            .iter()
            .map(|(r, s)| (*r, s.start))
            .collect();
        assert_eq!(
            spans,
            vec![
                (0, 11),
                (1, 11),
                (2, 0),
                (2, 2),
                (2, 4),
                (2, 7),
                (3, 11),
                (6, 11)
            ]
        );
    }

    /// The same span can have other groups where the text around it differs (a word
    /// boundary, the paragraph's edge, a line's end): the memo tells them apart, and
    /// each rule set has its own.
    #[test]
    fn remembered_captures_see_around_the_span() {
        let f = r#"
table = "dates"
[[rule]]
id = "word"
pattern = '(?P<year>\ba)?a+'
examples = [{ text = "aa" }]
[[rule]]
id = "edge"
pattern = '(?P<year>\Ab)?b+'
examples = [{ text = "bb" }]
[[rule]]
id = "line"
pattern = '(?m)(?P<year>^c)?c+(?P<month>$)?'
examples = [{ text = "cc" }]
"#;
        let rules = set(&[("d.toml", f)]).unwrap();
        let kinds: Vec<memo::Around> = rules.inner.around.clone();
        use memo::Around::{Chars, Words};
        let words = Words {
            ascii: true,
            unicode: false,
        };
        assert_eq!(kinds, vec![words, Chars, Chars]);
        let text = "xaa aa aa\n\nbb xbb\nbb bb\n\ncc\ncc xcc";
        let t = Texts::new(text, None);
        let hits = rules.hits(Table::Dates, false, &t);
        // Twice over, so that the second round reads every span from the memo.
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..2 {
            for hit in &hits {
                let want = plain_captures(&rules, hit);
                let got = rules.captures(hit);
                assert_eq!(got.groups, want, "{:?}", hit.span);
                // Relative to the span, to count the different readings of equal spans.
                let rel: Vec<_> = want
                    .iter()
                    .map(|g| g.map(|g| (g.start - hit.span.start, g.end - hit.span.start)))
                    .collect();
                seen.insert((hit.rule, &text[hit.span.start..hit.span.end], rel));
            }
        }
        let spans: std::collections::BTreeSet<_> = seen.iter().map(|(r, s, _)| (*r, *s)).collect();
        assert_eq!(spans.len(), 3, "{seen:?}");
        // "aa" with and without a word boundary before it, "bb" at the paragraph's start
        // and not, "cc" at the start and end of a line, at either, and at neither.
        assert_eq!(seen.len(), 2 + 2 + 3, "{seen:?}");

        // Rule 0 of another set reads the same span otherwise.
        let g = "table = \"dates\"\n[[rule]]\nid = \"w\"\npattern = 'a(?P<year>a+)'\nexamples = [{ text = \"aa\" }]\n";
        let other = set(&[("d.toml", g)]).unwrap();
        for _ in 0..2 {
            for s in [&rules, &other] {
                for hit in s.hits(Table::Dates, false, &t) {
                    assert_eq!(s.captures(&hit).groups, plain_captures(s, &hit));
                }
            }
        }
    }

    #[test]
    fn paragraphs_split_on_blank_lines() {
        let t = "a\nb\n\n \nc\n";
        let p: Vec<&str> = paragraphs(t).iter().map(|&(s, e)| &t[s..e]).collect();
        assert_eq!(p, vec!["a\nb\n", "c\n"]);
    }
}
