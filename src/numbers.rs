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
            "million" | "m" | "mn" | "mln" => 1e6,
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
    /// Per rule: whether it has a `<subject>` capture (`<subject1>`...).
    subjects: Vec<bool>,
}

impl NumberStage {
    pub fn new(rules: RuleSet) -> NumberStage {
        let subjects = rules
            .rules()
            .iter()
            .map(|r| {
                r.regex
                    .group_info()
                    .all_names()
                    .any(|(_, _, name)| name.is_some_and(|n| n.starts_with("subject")))
            })
            .collect();
        NumberStage { rules, subjects }
    }

    /// The quantities found by the rules without `{QTY}`, with the category those rules
    /// set (if any).
    fn numbers(&self, texts: &Texts) -> Vec<(Quantity, Option<Category>)> {
        let text = texts.plain;
        let rules = self.rules.rules();
        let mut out = Vec::new();
        for m in self.rules.winners(Table::Quantities, texts) {
            let rule = &rules[m.rule];
            let s = |name: &str| m.get(rule, name).map(|sp| &text[sp.start..sp.end]);
            let mut value = match (s("num"), rule.value) {
                (Some(n), _) => match parse_number(n) {
                    Some(v) => v,
                    None => continue,
                },
                (None, Some(v)) => v,
                (None, None) => continue,
            };
            let mut max = s("max").and_then(parse_number);
            if let Some(k) = s("scale").and_then(scale) {
                value = tidy(value * k);
                max = max.map(|x| tidy(x * k));
            }
            let names = m.names(rule);
            let qualifier = names
                .iter()
                .find_map(|n| n.strip_prefix("q_").and_then(Qualifier::parse))
                .or(rule.qualifier)
                .unwrap_or_default();
            let unit = names
                .iter()
                .find_map(|n| n.strip_prefix("cur_"))
                .map(str::to_string)
                .or_else(|| rule.unit.clone())
                .unwrap_or_default();
            let category = rule
                .category
                .or_else(|| (!unit.is_empty()).then_some(Category::Money));
            let span = m.get(rule, "m").unwrap_or(m.span);
            out.push((
                Quantity {
                    span,
                    text: text[span.start..span.end].to_string(),
                    value,
                    value_max: max.filter(|x| *x != value),
                    qualifier,
                    unit,
                    category: category.unwrap_or_default(),
                    subject: s("subject").map(clean_subject).unwrap_or_default(),
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
                    || (self.subjects[hit.rule] && subject[i].is_none())
            });
            if open {
                let m = self.rules.captures(hit);
                credit(rules, &m, &starts, &mut sources);
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
/// the source of their category and subject, where it is better than the one they have.
fn credit(rules: &[Rule], m: &Match, starts: &[(usize, usize)], sources: &mut Sources) {
    let (category, subject) = sources;
    let rule = &rules[m.rule];
    let src = Source::of(rules, m.rule, m.span);
    let qtys = m
        .placeholders(rule)
        .into_iter()
        .filter(|(p, _)| *p == Placeholder::Quantity)
        .map(|(_, s)| s);
    for (k, span) in qtys.enumerate() {
        let Ok(at) = starts.binary_search_by_key(&span.start, |&(s, _)| s) else {
            continue;
        };
        let i = starts[at].1;
        if rule.category.is_some() && category[i].map_or(true, |c| src.better(&c)) {
            category[i] = Some(src);
        }
        let name = if k == 0 {
            "subject".to_string()
        } else {
            format!("subject{k}")
        };
        if let Some(sp) = m.get(rule, &name) {
            if subject[i].map_or(true, |(c, _)| src.better(&c)) {
                subject[i] = Some((src, sp));
            }
        }
    }
}

/// A subject as written, on one line.
fn clean_subject(s: &str) -> String {
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
        for (i, (mut q, fixed)) in found.into_iter().enumerate() {
            let mut ids = vec![q.rule.clone()];
            if fixed.is_none() {
                if let Some(src) = category[i] {
                    let rule = &rules[src.rule];
                    q.category = rule.category.unwrap_or_default();
                    ids.push(rule.id.clone());
                }
            }
            if q.subject.is_empty() {
                if let Some((src, sp)) = subject[i] {
                    q.subject = clean_subject(&text[sp.start..sp.end]);
                    let id = &rules[src.rule].id;
                    if !ids.contains(id) {
                        ids.push(id.clone());
                    }
                }
            }
            q.rule = ids.join("+");
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

    #[test]
    fn scale_words() {
        assert_eq!(scale("million"), Some(1e6));
        assert_eq!(scale("bn"), Some(1e9));
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
                credit(rules.rules(), &m, &starts, &mut want);
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
