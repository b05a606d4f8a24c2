//! The numbers stage: numbers in digits and words, their qualifiers, and what they count.

use regex::Regex;

use crate::document::Document;
use crate::facts::{Category, Facts, Qualifier, Quantity, Span};
use crate::pipeline::Stage;

/// Number words and their values.
pub const NUMBER_WORDS: &[(&str, f64)] = &[
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
    ("hundred", 100.0),
    ("dozen", 12.0),
];

/// Words around a number that say what it counts, checked in this order.
const CATEGORY_CUES: &[(Category, &[&str])] = &[
    (
        Category::Money,
        &["$", "bounty", "reward", "dollars", "million"],
    ),
    (
        Category::Killed,
        &[
            "killed",
            "killing",
            "dead",
            "died",
            "deaths",
            "death toll",
            "lives",
        ],
    ),
    (
        Category::Injured,
        &[
            "wounded", "injured", "injuries", "hurt", "wounding", "injuring",
        ],
    ),
    (
        Category::Captured,
        &["arrested", "captured", "detained", "abducted", "kidnapped"],
    ),
    (
        Category::Troops,
        &["troops", "soldiers stationed", "deployed"],
    ),
];

/// Finds numbers and classifies them from the words that follow them in the sentence.
pub struct NumberStage {
    number: Regex,
}

impl NumberStage {
    pub fn new() -> NumberStage {
        let words: Vec<&str> = NUMBER_WORDS.iter().map(|(w, _)| *w).collect();
        let pattern = format!(
            r"(?i)(?P<qual>\b(?:at least|more than|over|about|approximately|nearly|around|up to|fewer than|less than)\s+)?(?P<cur>\$)?\b(?:(?P<digits>\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?)|(?P<word>{}))\b(?:\s+(?P<scale>million|billion|thousand))?",
            words.join("|")
        );
        NumberStage {
            number: Regex::new(&pattern).expect("the built-in number pattern compiles"),
        }
    }
}

impl Default for NumberStage {
    fn default() -> Self {
        NumberStage::new()
    }
}

fn qualifier(q: &str) -> Qualifier {
    match q.trim().to_ascii_lowercase().as_str() {
        "at least" => Qualifier::AtLeast,
        "more than" | "over" => Qualifier::MoreThan,
        "about" | "approximately" | "nearly" | "around" => Qualifier::About,
        "up to" => Qualifier::UpTo,
        "fewer than" | "less than" => Qualifier::LessThan,
        _ => Qualifier::Exact,
    }
}

impl Stage for NumberStage {
    fn name(&self) -> &str {
        "numbers"
    }

    fn run(&self, doc: &Document, facts: &mut Facts) {
        let text = &doc.text;
        for c in self.number.captures_iter(text) {
            let whole = c.get(0).expect("group 0");
            let mut value = if let Some(d) = c.name("digits") {
                match d.as_str().replace(',', "").parse::<f64>() {
                    Ok(v) => v,
                    Err(_) => continue,
                }
            } else {
                let w = c["word"].to_ascii_lowercase();
                NUMBER_WORDS
                    .iter()
                    .find(|(n, _)| *n == w)
                    .map(|(_, v)| *v)
                    .unwrap_or(0.0)
            };
            let digits = c.name("digits").map(|d| d.as_str()).unwrap_or("");
            // Years and days of the month are dates, not quantities.
            let is_year = digits.len() == 4
                && !digits.contains([',', '.'])
                && (1900.0..=2100.0).contains(&value)
                && c.name("cur").is_none();
            let after = &text[whole.end()..];
            let before = &text[..whole.start()];
            let next_word = after
                .trim_start()
                .split(|ch: char| !ch.is_alphabetic())
                .next()
                .unwrap_or("");
            let prev_word = before
                .trim_end()
                .rsplit(|ch: char| !ch.is_alphabetic())
                .next()
                .unwrap_or("");
            let is_day = crate::calendar::month_number(next_word).is_some()
                || crate::calendar::month_number(prev_word).is_some();
            if is_year || (is_day && c.name("word").is_none()) {
                continue;
            }
            if let Some(scale) = c.name("scale") {
                value *= match scale.as_str().to_ascii_lowercase().as_str() {
                    "thousand" => 1e3,
                    "million" => 1e6,
                    _ => 1e9,
                };
            }
            // The rest of the sentence, up to a few words, says what is counted.
            let window: String = after
                .split(['.', ';', '\n'])
                .next()
                .unwrap_or("")
                .split_whitespace()
                .take(8)
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_lowercase();
            let money = c.name("cur").is_some();
            let category = if money {
                Category::Money
            } else {
                CATEGORY_CUES
                    .iter()
                    .filter(|(cat, _)| *cat != Category::Money)
                    .find(|(_, cues)| cues.iter().any(|cue| window.contains(cue)))
                    .map(|(cat, _)| *cat)
                    .unwrap_or(Category::Other)
            };
            let span = Span::new(whole.start(), whole.end());
            facts.quantities.push(Quantity {
                span,
                text: whole.as_str().to_string(),
                value,
                value_max: None,
                qualifier: qualifier(c.name("qual").map(|q| q.as_str()).unwrap_or("")),
                unit: if money { "USD".into() } else { String::new() },
                category,
                subject: String::new(),
                rule: "numbers:basic".into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Vec<Quantity> {
        let doc = Document {
            text: text.into(),
            ..Default::default()
        };
        let mut facts = Facts::default();
        NumberStage::new().run(&doc, &mut facts);
        facts.quantities
    }

    #[test]
    fn values_categories_and_qualifiers() {
        let q = run("At least 15 militants were killed and seven soldiers wounded in 2024.");
        assert_eq!(q.len(), 2);
        assert_eq!(
            (q[0].value, q[0].qualifier, q[0].category),
            (15.0, Qualifier::AtLeast, Category::Killed)
        );
        assert_eq!((q[1].value, q[1].category), (7.0, Category::Injured));
        let q = run("a $5 million bounty");
        assert_eq!(
            (q[0].value, q[0].category, q[0].unit.as_str()),
            (5e6, Category::Money, "USD")
        );
    }

    #[test]
    fn years_and_days_are_not_quantities() {
        assert!(run("On August 29, 2024 and 3 March").is_empty());
    }
}
