//! The numbers stage: numbers in digits and words, with their qualifiers, ranges and
//! currencies, and what they count.
//!
//! It runs the `quantities` rules in two passes (see docs/rules.md):
//!
//! 1. the rules without `{QTY}` find the numbers ("at least 15", "$5 million",
//!    "between 20 and 30") and read them from named captures: `<num>`, `<max>`,
//!    `<scale>`, `<q_at_least>`..., `<cur_USD>`...; block rules keep years, times,
//!    phone numbers and the like out;
//! 2. the rules with `{QTY}` run over a copy of the text in which every number found is
//!    masked, and say what a number counts (`category`) and who (`<subject>`):
//!    "{QTY} ... were killed", "killing {QTY}", "the death toll rose to {QTY}".
//!
//! The number words themselves are read by [`parse_number`].

use regex_automata::PatternID;

use crate::document::Document;
use crate::facts::{Category, Facts, Qualifier, Quantity, Span};
use crate::pipeline::Stage;
use crate::rules::{mask, Match, Placeholder, Rule, RuleSet, Table, Texts};

/// Values of the number words [`parse_number`] reads.
const WORDS: &[(&str, f64)] = &[
    ("zero", 0.0),
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("eleven", 11.0),
    ("twelve", 12.0),
    ("thirteen", 13.0),
    ("fourteen", 14.0),
    ("fifteen", 15.0),
    ("sixteen", 16.0),
    ("seventeen", 17.0),
    ("eighteen", 18.0),
    ("nineteen", 19.0),
    ("twenty", 20.0),
    ("thirty", 30.0),
    ("forty", 40.0),
    ("fifty", 50.0),
    ("sixty", 60.0),
    ("seventy", 70.0),
    ("eighty", 80.0),
    ("ninety", 90.0),
    ("half", 0.5),
];

/// The multiplier of a scale word ("million", "bn", "k").
pub fn scale(word: &str) -> Option<f64> {
    Some(
        match word.trim().trim_end_matches('.').to_lowercase().as_str() {
            "hundred" => 1e2,
            "thousand" | "k" => 1e3,
            "lakh" | "lakhs" | "lac" | "lacs" => 1e5,
            "million" | "m" | "mn" | "mln" => 1e6,
            "crore" | "crores" => 1e7,
            "billion" | "bn" | "b" => 1e9,
            "trillion" | "tn" => 1e12,
            _ => return None,
        },
    )
}

/// Reads a number written in digits ("1,500", "2.5") or words ("twenty-one",
/// "two hundred and five", "a dozen", "1.5 million").
///
/// ```
/// use gleaner::numbers::parse_number;
/// assert_eq!(parse_number("twenty-one"), Some(21.0));
/// assert_eq!(parse_number("1,500"), Some(1500.0));
/// assert_eq!(parse_number("a dozen"), Some(12.0));
/// assert_eq!(parse_number("1.5 million"), Some(1.5e6));
/// assert_eq!(parse_number("many"), None);
/// ```
pub fn parse_number(s: &str) -> Option<f64> {
    plain_digits(s).unwrap_or_else(|| parse_words(s))
}

/// [`parse_number`] for any text: its words and digit groups, one by one.
fn parse_words(s: &str) -> Option<f64> {
    let lower = s.trim().to_lowercase();
    let mut total = 0.0;
    let mut current = 0.0;
    let mut any = false;
    for tok in lower
        .split(|c: char| c.is_whitespace() || c == '-' || c == '\u{2010}' || c == '\u{2011}')
        .filter(|t| !t.is_empty())
    {
        let digits: String = tok
            .chars()
            .filter(|c| *c != ',' && *c != '\u{202F}' && *c != '\u{2009}')
            .collect();
        if let Some(v) = WORDS.iter().find(|(w, _)| *w == tok).map(|(_, v)| *v) {
            current += v;
            any = true;
        } else if !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
            && digits.parse::<f64>().is_ok()
        {
            current += digits.parse::<f64>().ok()?;
            any = true;
        } else {
            match tok {
                "and" => {}
                "a" | "an" => {
                    if current == 0.0 {
                        current = 1.0;
                    }
                }
                "dozen" => {
                    current = if current == 0.0 { 12.0 } else { current * 12.0 };
                    any = true;
                }
                "hundred" => {
                    current = if current == 0.0 {
                        100.0
                    } else {
                        current * 100.0
                    };
                    any = true;
                }
                w => {
                    let m = scale(w)?;
                    total += if current == 0.0 { m } else { current * m };
                    current = 0.0;
                    any = true;
                }
            }
        }
    }
    any.then(|| tidy(total + current))
}

/// What [`parse_words`] gives for a number written in ASCII digits, commas and full
/// stops alone ("15", "1,500", "2.5"), the most common kind, without its lower-cased
/// copy and token strings; `None` for any other text. Such a text is one token, read
/// as digits (the commas left out) when they parse, and as nothing otherwise (it is no
/// number word, `and`, `a`, `dozen` or scale word either).
fn plain_digits(s: &str) -> Option<Option<f64>> {
    let b = s.as_bytes();
    if b.is_empty()
        || !b
            .iter()
            .all(|&c| c.is_ascii_digit() || c == b',' || c == b'.')
    {
        return None;
    }
    if !b.contains(&b',') {
        return Some(s.parse::<f64>().ok().map(tidy));
    }
    let digits: String = s.chars().filter(|&c| c != ',').collect();
    if digits.is_empty() {
        return Some(None);
    }
    Some(digits.parse::<f64>().ok().map(tidy))
}

/// Rounds away the binary noise of `2.3 * 1e6`.
fn tidy(x: f64) -> f64 {
    let r = x.round();
    if (x - r).abs() < 1e-6 * x.abs().max(1.0) {
        r
    } else {
        x
    }
}

/// Per number: where its category came from, and its subject (with where it came from).
type Sources = (Vec<Option<Source>>, Vec<Option<(Source, Span)>>);

/// Where a quantity's category and subject came from, to pick the best rule.
#[derive(Clone, Copy)]
struct Source {
    priority: i32,
    len: usize,
    order: usize,
    rule: usize,
}

impl Source {
    /// The source a match of rule `rule` over `span` would be.
    fn of(rules: &[Rule], rule: usize, span: Span) -> Source {
        Source {
            priority: rules[rule].priority,
            len: span.len(),
            order: rules[rule].order,
            rule,
        }
    }

    /// Higher priority first, then the shorter (nearer) match, then the rule written first.
    fn better(&self, other: &Source) -> bool {
        (
            other.priority,
            std::cmp::Reverse(other.len),
            std::cmp::Reverse(other.order),
        ) < (
            self.priority,
            std::cmp::Reverse(self.len),
            std::cmp::Reverse(self.order),
        )
    }
}

/// Finds numbers and what they count, with the `quantities` rules.
pub struct NumberStage {
    rules: RuleSet,
    /// Per rule: where its regex puts the groups the stage reads.
    groups: Vec<Groups>,
}

/// The index of each capture group a quantities rule may have (`None`: the rule has
/// none of that name), looked up once per rule rather than by name (a scan of the
/// rule's group names) several times for every match.
#[derive(Default)]
struct Groups {
    num: Option<usize>,
    max: Option<usize>,
    scale: Option<usize>,
    /// `<m>`: the part of the match that is the number, when not all of it.
    m: Option<usize>,
    /// `<subject>`, `<subject1>`, `<subject2>`...: the subject of the rule's first,
    /// second, third... `{QTY}` (as many as the rule has placeholders).
    subjects: Vec<Option<usize>>,
    /// Whether the rule has a `<subject>` capture (`<subject1>`...).
    any_subject: bool,
    /// The `<q_...>` groups that name a qualifier, in group order.
    qualifiers: Vec<(usize, Qualifier)>,
    /// The `<cur_...>` groups, in group order, with their currency.
    currencies: Vec<(usize, String)>,
}

impl Groups {
    fn of(rule: &Rule) -> Groups {
        let info = rule.regex.group_info();
        let at = |name: &str| info.to_index(PatternID::ZERO, name);
        let names = || {
            info.pattern_names(PatternID::ZERO)
                .enumerate()
                .filter_map(|(i, name)| Some((i, name?)))
        };
        Groups {
            num: at("num"),
            max: at("max"),
            scale: at("scale"),
            m: at("m"),
            subjects: (0..rule.placeholders.len().max(1))
                .map(|k| match k {
                    0 => at("subject"),
                    k => at(&format!("subject{k}")),
                })
                .collect(),
            any_subject: names().any(|(_, n)| n.starts_with("subject")),
            qualifiers: names()
                .filter_map(|(i, n)| Some((i, Qualifier::parse(n.strip_prefix("q_")?)?)))
                .collect(),
            currencies: names()
                .filter_map(|(i, n)| Some((i, n.strip_prefix("cur_")?.to_string())))
                .collect(),
        }
    }
}

impl NumberStage {
    pub fn new(rules: RuleSet) -> NumberStage {
        NumberStage {
            groups: rules.rules().iter().map(Groups::of).collect(),
            rules,
        }
    }

    /// The quantities found by the rules without `{QTY}`, with the category those rules
    /// set (if any).
    fn numbers(&self, texts: &Texts) -> Vec<(Quantity, Option<Category>)> {
        let text = texts.plain;
        let rules = self.rules.rules();
        let winners = self.rules.winners(Table::Quantities, texts);
        // Sized once: grown by doubling, the copies of these (large) tuples showed up
        // as memmove.
        let mut out = Vec::with_capacity(winners.len());
        for m in winners {
            let rule = &rules[m.rule];
            let groups = &self.groups[m.rule];
            let s = |group: Option<usize>| m.group(group?).map(|sp: Span| &text[sp.start..sp.end]);
            let mut value = match (s(groups.num), rule.value) {
                (Some(n), _) => match parse_number(n) {
                    Some(v) => v,
                    None => continue,
                },
                (None, Some(v)) => v,
                (None, None) => continue,
            };
            let mut max = s(groups.max).and_then(parse_number);
            if let Some(k) = s(groups.scale).and_then(scale) {
                value = tidy(value * k);
                max = max.map(|x| tidy(x * k));
            }
            let took_part = |i: usize| m.group(i).is_some();
            let qualifier = groups
                .qualifiers
                .iter()
                .find(|&&(i, _)| took_part(i))
                .map(|&(_, q)| q)
                .or(rule.qualifier)
                .unwrap_or_default();
            let unit = groups
                .currencies
                .iter()
                .find(|(i, _)| took_part(*i))
                .map(|(_, c)| c.clone())
                .or_else(|| rule.unit.clone())
                .unwrap_or_default();
            let category = rule
                .category
                .or_else(|| (!unit.is_empty()).then_some(Category::Money));
            let span = groups.m.and_then(|i| m.group(i)).unwrap_or(m.span);
            out.push((
                Quantity {
                    span,
                    text: text[span.start..span.end].to_string(),
                    value,
                    value_max: max.filter(|x| *x != value),
                    qualifier,
                    unit,
                    category: category.unwrap_or_default(),
                    subject: s(groups.subjects[0]).map(clean_subject).unwrap_or_default(),
                    rule: rule.id.clone(),
                },
                category,
            ));
        }
        out
    }

    /// For each number of `found`, the best rule with `{QTY}` that gives its category, and
    /// the best that gives its subject, over `texts` (the numbers masked).
    fn sources(&self, texts: &Texts, found: &[(Quantity, Option<Category>)]) -> Sources {
        let rules = self.rules.rules();
        let starts = starts(found);
        let mut sources: Sources = (vec![None; found.len()], vec![None; found.len()]);
        // The best source of a number's category or subject is the best match that names
        // it, and among equals the first found. So the matches are taken best first (in
        // the order found among equals), and a match's capture groups are read only if
        // one of the numbers in its span still lacks what it could give: most matches
        // come after a better one has said it all.
        let hits = self.rules.hits(Table::Quantities, true, texts);
        let mut order: Vec<usize> = (0..hits.len()).collect();
        order.sort_by_key(|&h| {
            let s = Source::of(rules, hits[h].rule, hits[h].span);
            (std::cmp::Reverse(s.priority), s.len, s.order, h)
        });
        for h in order {
            let hit = &hits[h];
            let rule = &rules[hit.rule];
            let (category, subject) = &sources;
            let lo = starts.partition_point(|&(s, _)| s < hit.span.start);
            let hi = starts.partition_point(|&(s, _)| s < hit.span.end);
            let open = starts[lo..hi].iter().any(|&(_, i)| {
                (rule.category.is_some() && category[i].is_none())
                    || (self.groups[hit.rule].any_subject && subject[i].is_none())
            });
            if open {
                let m = self.rules.captures(hit);
                credit(rules, &self.groups[hit.rule], &m, &starts, &mut sources);
            }
        }
        sources
    }
}

/// Where each number of `found` starts, in text order, with its index in `found`.
fn starts(found: &[(Quantity, Option<Category>)]) -> Vec<(usize, usize)> {
    let mut starts: Vec<(usize, usize)> = found
        .iter()
        .enumerate()
        .map(|(i, (q, _))| (q.span.start, i))
        .collect();
    starts.sort_unstable();
    starts
}

/// Gives the numbers that match `m` names (by their place in `starts`, sorted) its rule as
/// the source of their category and subject, where it is better than the one they have;
/// `groups` are the rule's.
fn credit(
    rules: &[Rule],
    groups: &Groups,
    m: &Match,
    starts: &[(usize, usize)],
    sources: &mut Sources,
) {
    let (category, subject) = sources;
    let rule = &rules[m.rule];
    let src = Source::of(rules, m.rule, m.span);
    let qtys = rule
        .placeholders
        .iter()
        .filter(|(_, p)| *p == Placeholder::Quantity)
        .filter_map(|&(i, _)| m.group(i));
    for (k, span) in qtys.enumerate() {
        let Ok(at) = starts.binary_search_by_key(&span.start, |&(s, _)| s) else {
            continue;
        };
        let i = starts[at].1;
        if rule.category.is_some() && category[i].map_or(true, |c| src.better(&c)) {
            category[i] = Some(src);
        }
        let group = groups.subjects.get(k).copied().flatten();
        if let Some(sp) = group.and_then(|g| m.group(g)) {
            if subject[i].map_or(true, |(c, _)| src.better(&c)) {
                subject[i] = Some((src, sp));
            }
        }
    }
}

/// A subject as written, on one line: its words joined by single spaces. Most subjects
/// are that already ("IS militants"), and are copied as they are.
fn clean_subject(s: &str) -> String {
    let b = s.as_bytes();
    let tidy = s.is_ascii()
        && b.first() != Some(&b' ')
        && b.last() != Some(&b' ')
        && !b.windows(2).any(|w| w == b"  ")
        && !b
            .iter()
            .any(|&c| matches!(c, b'\t' | b'\n' | 0x0B | 0x0C | b'\r'));
    if tidy {
        return s.to_string();
    }
    join_words(s)
}

fn join_words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Stage for NumberStage {
    fn name(&self) -> &str {
        "numbers"
    }

    fn run(&self, doc: &Document, facts: &mut Facts) {
        let text = &doc.text;
        let mut spans: Vec<(Span, Placeholder)> = facts
            .entities
            .iter()
            .map(|e| (e.span, Placeholder::for_entity(e.etype)))
            .collect();
        let masked = (!spans.is_empty() && self.rules.needs_mask(Table::Quantities, false))
            .then(|| mask(text, &spans));
        let first = Texts::new(text, masked.as_deref());
        let found = self.numbers(&first);
        if found.is_empty() {
            return;
        }

        // Second pass: what the numbers count.
        spans.extend(found.iter().map(|(q, _)| (q.span, Placeholder::Quantity)));
        let masked = mask(text, &spans);
        let texts = first.remasked(&masked);
        let rules = self.rules.rules();
        let (category, subject) = self.sources(&texts, &found);
        facts.quantities.reserve(found.len());
        for (i, (mut q, fixed)) in found.into_iter().enumerate() {
            // The rules that said something about the number, each once, joined by `+`.
            let mut category_id = None;
            if fixed.is_none() {
                if let Some(src) = category[i] {
                    let rule = &rules[src.rule];
                    q.category = rule.category.unwrap_or_default();
                    category_id = Some(rule.id.as_str());
                }
            }
            let mut subject_id = None;
            if q.subject.is_empty() {
                if let Some((src, sp)) = subject[i] {
                    q.subject = clean_subject(&text[sp.start..sp.end]);
                    let id = rules[src.rule].id.as_str();
                    if id != q.rule && category_id != Some(id) {
                        subject_id = Some(id);
                    }
                }
            }
            for id in [category_id, subject_id].into_iter().flatten() {
                q.rule.push('+');
                q.rule.push_str(id);
            }
            facts.quantities.push(q);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_words_and_digits() {
        let cases: &[(&str, Option<f64>)] = &[
            ("nine", Some(9.0)),
            ("Twenty-one", Some(21.0)),
            ("two hundred", Some(200.0)),
            ("two hundred and fifty-three", Some(253.0)),
            ("a hundred", Some(100.0)),
            ("three thousand", Some(3000.0)),
            ("half a dozen", Some(6.0)),
            ("dozen", Some(12.0)),
            ("1,500", Some(1500.0)),
            ("2.5", Some(2.5)),
            ("2.3 million", Some(2_300_000.0)),
            ("1.5 billion", Some(1.5e9)),
            ("0", Some(0.0)),
            ("", None),
            ("a", None),
            ("several", None),
            ("1.2.3", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_number(text), *want, "{text}");
        }
    }

    /// The shortcut for digits reads them as the general parser does, and leaves every
    /// other text to it.
    #[test]
    fn plain_digits_read_as_words_are() {
        let digits = [
            "15",
            "0",
            "007",
            "1,500",
            "1,5,0,0",
            ",",
            ",,",
            "1,",
            ",5",
            "2.5",
            ".5",
            "5.",
            ".",
            "..",
            "1.2.3",
            "1,500.25",
            "99999999999999999999",
            "1.5.",
            "3,000,000",
        ];
        for s in digits {
            assert_eq!(plain_digits(s), Some(parse_words(s)), "{s:?}");
        }
        let others = [
            "",
            " 15",
            "15 ",
            "1 500",
            "-5",
            "15-20",
            "1e5",
            "five",
            "1,5 million",
            "\u{661}",
        ];
        for s in others {
            assert_eq!(plain_digits(s), None, "{s:?}");
        }
    }

    #[test]
    fn subjects_are_cleaned_as_split_words_joined() {
        let cases = [
            "IS militants",
            "",
            " police",
            "police ",
            "US  soldiers",
            "US\nsoldiers",
            "US\tsoldiers",
            "aid\r\nworkers",
            "a\u{0B}b\u{0C}c",
            "civil\u{A0}servants",
            "Kurdish peshmerga fighters",
            "people",
        ];
        for s in cases {
            assert_eq!(clean_subject(s), join_words(s), "{s:?}");
        }
    }

    #[test]
    fn scale_words() {
        assert_eq!(scale("million"), Some(1e6));
        assert_eq!(scale("bn"), Some(1e9));
        assert_eq!(scale("lakh"), Some(1e5));
        assert_eq!(scale("Crores"), Some(1e7));
        assert_eq!(scale("Thousand"), Some(1e3));
        assert_eq!(scale("dozen"), None);
    }

    /// Reading capture groups only for the matches that can still say something gives
    /// what reading them for every match (in the order found) gives.
    #[test]
    fn sources_match_reading_every_match() {
        let rules = crate::rules::RuleSetBuilder::new().build().unwrap();
        let stage = NumberStage::new(rules.clone());
        let texts = [
            "At least 15 villagers were killed and 20 wounded when gunmen attacked, killing three police officers and two civilians.",
            "Twelve soldiers and three drivers died; 40 people were injured, 7 of them seriously.",
            "The army said it killed 23 insurgents, including 5 commanders, and captured 12 fighters.",
            "About 200 troops were deployed to Kidal, and 150 troops to Gao. A $5 million bounty was offered.",
            "Five people died. Five people died. The toll rose to 30, officials said; 2,000 were displaced.",
            "No numbers in this one.\n\nBut 4 students and 9 teachers were abducted, and 3 were later freed.",
        ];
        for text in texts {
            let found = stage.numbers(&Texts::new(text, None));
            let spans: Vec<(Span, Placeholder)> = found
                .iter()
                .map(|(q, _)| (q.span, Placeholder::Quantity))
                .collect();
            let masked = mask(text, &spans);
            let t = Texts::new(text, Some(&masked));
            let (category, subject) = stage.sources(&t, &found);

            // Every match with its groups, in the order found, each credited in turn.
            let starts = starts(&found);
            let mut want: Sources = (vec![None; found.len()], vec![None; found.len()]);
            for m in rules.find(Table::Quantities, true, &t) {
                credit(rules.rules(), &stage.groups[m.rule], &m, &starts, &mut want);
            }
            let (want_cat, want_subj) = want;
            let key = |s: &Option<Source>| s.map(|s| s.rule);
            let got: Vec<_> = category.iter().map(key).collect();
            let want: Vec<_> = want_cat.iter().map(key).collect();
            assert_eq!(got, want, "categories in {text:?}");
            let key = |s: &Option<(Source, Span)>| s.map(|(s, sp)| (s.rule, sp));
            let got: Vec<_> = subject.iter().map(key).collect();
            let want: Vec<_> = want_subj.iter().map(key).collect();
            assert_eq!(got, want, "subjects in {text:?}");
            assert!(
                category.iter().any(Option::is_some),
                "{text:?} says what it counts"
            );
        }
    }
}
