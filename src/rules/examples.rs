//! Runs every rule's examples through a pipeline and reports each one that fails.
//!
//! Examples go through the whole pipeline (entities, then the rule stages) so that they
//! test what a user will get, placeholders and overlaps with other rules included. A
//! fact belongs to a rule when the rule's id is one of the `+`-separated ids in its
//! `rule` column (`digits+killed-passive`).

use std::fmt;

use super::{mask, ExpectedValue, Placeholder, Rule, RuleSet, Table, Texts};
use crate::document::Document;
use crate::facts::{DateFact, Facts, Quantity};
use crate::pipeline::Pipeline;

/// An example that did not give what it says.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// `file:line: rule <id>`.
    pub at: String,
    pub text: String,
    pub expected: String,
    pub got: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {:?}\n    expected: {}\n    got:      {}",
            self.at, self.text, self.expected, self.got
        )
    }
}

fn belongs(rule_column: &str, id: &str) -> bool {
    rule_column.split('+').any(|r| r == id)
}

fn describe_quantity(q: &Quantity) -> String {
    let mut s = format!("{:?} = {}", q.text, q.value);
    if let Some(m) = q.value_max {
        s.push_str(&format!("-{m}"));
    }
    s.push_str(&format!(
        " {} {}",
        q.qualifier.as_str(),
        q.category.as_str()
    ));
    if !q.unit.is_empty() {
        s.push_str(&format!(" unit={}", q.unit));
    }
    if !q.subject.is_empty() {
        s.push_str(&format!(" subject={:?}", q.subject));
    }
    s.push_str(&format!(" ({})", q.rule));
    s
}

fn describe_date(d: &DateFact) -> String {
    format!(
        "{:?} = {}{} ({})",
        d.text,
        d.value.as_deref().unwrap_or("(no value)"),
        d.modifier
            .map(|m| format!(" mod={}", m.as_str()))
            .unwrap_or_default(),
        d.rule
    )
}

fn list(items: Vec<String>) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join("; ")
    }
}

fn expected(ex: &super::Example) -> String {
    let mut parts = Vec::new();
    if let Some(m) = &ex.matched {
        parts.push(format!("match={m:?}"));
    }
    match &ex.value {
        Some(ExpectedValue::Number(n)) => parts.push(format!("value={n}")),
        Some(ExpectedValue::Text(t)) if t.is_empty() => parts.push("no value".into()),
        Some(ExpectedValue::Text(t)) => parts.push(format!("value={t}")),
        None => {}
    }
    for (k, v) in [
        ("qualifier", &ex.qualifier),
        ("unit", &ex.unit),
        ("category", &ex.category),
        ("subject", &ex.subject),
        ("mod", &ex.modifier),
    ] {
        if let Some(v) = v {
            parts.push(format!("{k}={v:?}"));
        }
    }
    if let Some(m) = ex.max {
        parts.push(format!("max={m}"));
    }
    if parts.is_empty() {
        "a match".into()
    } else {
        parts.join(" ")
    }
}

fn quantity_fits(q: &Quantity, ex: &super::Example) -> bool {
    ex.matched.as_ref().map_or(true, |m| q.text == *m)
        && match &ex.value {
            Some(ExpectedValue::Number(n)) => (q.value - n).abs() < 1e-9,
            _ => true,
        }
        && ex.max.map_or(true, |m| q.value_max == Some(m))
        && ex
            .qualifier
            .as_ref()
            .map_or(true, |x| q.qualifier.as_str() == x)
        && ex.unit.as_ref().map_or(true, |x| q.unit == *x)
        && ex
            .category
            .as_ref()
            .map_or(true, |x| q.category.as_str() == x)
        && ex.subject.as_ref().map_or(true, |x| q.subject == *x)
}

fn date_fits(d: &DateFact, ex: &super::Example) -> bool {
    ex.matched.as_ref().map_or(true, |m| d.text == *m)
        && match &ex.value {
            Some(ExpectedValue::Text(t)) => d.value.as_deref().unwrap_or("") == t,
            _ => true,
        }
        && ex
            .modifier
            .as_ref()
            .map_or(true, |m| d.modifier.map(|x| x.as_str()).unwrap_or("") == m)
}

/// Runs the examples of every rule in `rules` through `pipeline` (which should have been
/// built with the same rules) and returns the failures, in rule order.
pub fn test_examples(rules: &RuleSet, pipeline: &Pipeline) -> Vec<Failure> {
    let mut failures = Vec::new();
    for rule in rules.rules() {
        let at = rule.location().to_string() + &format!(": rule {}", rule.id);
        for ex in &rule.examples {
            let doc = Document {
                doc_id: "example".into(),
                text: ex.text.clone(),
                published: ex.published,
                ..Default::default()
            };
            let facts = pipeline.process(&doc);
            let result = if rule.block {
                check_block(rules, rule, &doc, &facts, true)
            } else {
                check_example(rule, ex, &facts)
            };
            if let Err(got) = result {
                failures.push(Failure {
                    at: at.clone(),
                    text: ex.text.clone(),
                    expected: if rule.block {
                        "the rule matches and nothing is produced inside its match".into()
                    } else {
                        expected(ex)
                    },
                    got,
                });
            }
        }
        for text in &rule.counter {
            let doc = Document {
                doc_id: "example".into(),
                text: text.clone(),
                ..Default::default()
            };
            let facts = pipeline.process(&doc);
            let result = if rule.block {
                check_block(rules, rule, &doc, &facts, false)
            } else {
                let mine: Vec<String> = match rule.table {
                    Table::Quantities => facts
                        .quantities
                        .iter()
                        .filter(|q| belongs(&q.rule, &rule.id))
                        .map(describe_quantity)
                        .collect(),
                    Table::Dates => facts
                        .dates
                        .iter()
                        .filter(|d| belongs(&d.rule, &rule.id))
                        .map(describe_date)
                        .collect(),
                };
                if mine.is_empty() {
                    Ok(())
                } else {
                    Err(list(mine))
                }
            };
            if let Err(got) = result {
                failures.push(Failure {
                    at: at.clone(),
                    text: text.clone(),
                    expected: "nothing from this rule".into(),
                    got,
                });
            }
        }
    }
    failures
}

fn check_example(
    rule: &Rule,
    ex: &super::Example,
    facts: &Facts,
) -> std::result::Result<(), String> {
    match rule.table {
        Table::Quantities => {
            if facts
                .quantities
                .iter()
                .any(|q| belongs(&q.rule, &rule.id) && quantity_fits(q, ex))
            {
                Ok(())
            } else {
                Err(list(
                    facts.quantities.iter().map(describe_quantity).collect(),
                ))
            }
        }
        Table::Dates => {
            if facts
                .dates
                .iter()
                .any(|d| belongs(&d.rule, &rule.id) && date_fits(d, ex))
            {
                Ok(())
            } else {
                Err(list(facts.dates.iter().map(describe_date).collect()))
            }
        }
    }
}

/// A block rule must match the example and nothing of its table may lie inside the
/// match; on a counter-example it must not match.
fn check_block(
    rules: &RuleSet,
    rule: &Rule,
    doc: &Document,
    facts: &Facts,
    should_match: bool,
) -> std::result::Result<(), String> {
    let masked = rule.masked.then(|| {
        let spans: Vec<_> = facts
            .entities
            .iter()
            .map(|e| (e.span, Placeholder::for_entity(e.etype)))
            .collect();
        mask(&doc.text, &spans)
    });
    let texts = Texts::new(&doc.text, masked.as_deref());
    let mine: Vec<_> = rules
        .find(rule.table, false, &texts)
        .into_iter()
        .filter(|m| rules.rules()[m.rule].id == rule.id)
        .collect();
    if !should_match {
        return match mine.first() {
            None => Ok(()),
            Some(m) => Err(format!(
                "the rule matches {:?}",
                &doc.text[m.span.start..m.span.end]
            )),
        };
    }
    if mine.is_empty() {
        return Err("the rule does not match".into());
    }
    let inside: Vec<String> = match rule.table {
        Table::Quantities => facts
            .quantities
            .iter()
            .filter(|q| mine.iter().any(|m| m.span.contains(&q.span)))
            .map(describe_quantity)
            .collect(),
        Table::Dates => facts
            .dates
            .iter()
            .filter(|d| mine.iter().any(|m| m.span.contains(&d.span)))
            .map(describe_date)
            .collect(),
    };
    if inside.is_empty() {
        Ok(())
    } else {
        Err(list(inside))
    }
}
