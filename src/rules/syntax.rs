//! The rule files as written: a serde mirror of the TOML syntax.
//!
//! Nothing here is checked beyond the shape of the file; `deny_unknown_fields` turns a
//! misspelt key (`priorty = 3`) into an error instead of a silently ignored line. The
//! meaning is checked, and every problem collected, when [`super::compile`] turns these
//! into runtime rules.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// One rule file: the table its rules produce, named fragments, and the rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileSyntax {
    /// `quantities` or `dates`; required when the file has rules.
    pub table: Option<Spanned<String>>,
    /// Reusable pattern fragments, used as `{NAME}` in patterns and other macros.
    #[serde(default)]
    pub macros: BTreeMap<String, Spanned<String>>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSyntax>,
}

/// One `[[rule]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSyntax {
    pub id: Spanned<String>,
    /// What the rule is for, in words (not used by the engine).
    #[allow(dead_code)]
    pub note: Option<String>,
    pub pattern: Spanned<String>,
    #[serde(default)]
    pub priority: i32,
    /// A block rule produces nothing: when it wins an overlap, the match it covers is
    /// dropped.
    #[serde(default)]
    pub block: bool,
    /// Patterns are case-insensitive unless this is set.
    #[serde(default)]
    pub case_sensitive: bool,
    // Fixed fields of the fact the rule produces.
    pub category: Option<String>,
    pub qualifier: Option<String>,
    pub value: Option<f64>,
    pub unit: Option<String>,
    #[serde(rename = "mod")]
    pub modifier: Option<String>,
    pub relative: Option<String>,
    pub shift: Option<i64>,
    #[serde(default)]
    pub examples: Vec<ExampleSyntax>,
    /// Texts on which the rule must produce nothing.
    #[serde(default, rename = "not")]
    pub counter: Vec<String>,
}

/// A text a rule must match, with the fields it must produce.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExampleSyntax {
    pub text: String,
    #[serde(rename = "match")]
    pub matched: Option<String>,
    pub value: Option<ValueSyntax>,
    pub max: Option<f64>,
    pub qualifier: Option<String>,
    pub unit: Option<String>,
    pub category: Option<String>,
    pub subject: Option<String>,
    #[serde(rename = "mod")]
    pub modifier: Option<String>,
    /// The publication date the example text is read with (`2024-09-14`).
    pub published: Option<String>,
}

/// An expected value: a number for quantities, a TIMEX string for dates.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(untagged)]
pub(crate) enum ValueSyntax {
    Number(f64),
    Text(String),
}

/// The 1-based line of byte `offset` in `source`.
pub(crate) fn line_of(source: &str, offset: usize) -> u64 {
    let end = offset.min(source.len());
    source.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_rule_with_spans() {
        let src = "table = \"dates\"\n[macros]\nY = '\\d{4}'\n\n[[rule]]\nid = \"year\"\npattern = '{Y}'\nexamples = [{ text = \"in 2017\", value = \"2017\" }]\n";
        let f: FileSyntax = toml::from_str(src).unwrap();
        assert_eq!(f.rules.len(), 1);
        assert_eq!(line_of(src, f.rules[0].id.span().start), 6);
        assert_eq!(line_of(src, f.macros["Y"].span().start), 3);
        assert_eq!(
            f.rules[0].examples[0].value,
            Some(ValueSyntax::Text("2017".into()))
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let src = "[[rule]]\nid = \"x\"\npattern = 'a'\npriorty = 3\n";
        let err = toml::from_str::<FileSyntax>(src).unwrap_err();
        assert!(err.message().contains("priorty"), "{}", err.message());
        assert_eq!(line_of(src, err.span().unwrap().start), 4);
    }
}
