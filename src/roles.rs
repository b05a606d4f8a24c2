//! The roles stage: who holds which title ("Pentagon spokesman Pat Ryder").

use regex::Regex;

use crate::document::Document;
use crate::facts::{EntityType, Facts, Role, Span};
use crate::pipeline::Stage;

/// Titles that come before a name.
const TITLES: &[&str] = &[
    "Prime Minister",
    "President",
    "Defence Minister",
    "Defense Minister",
    "Foreign Minister",
    "Interior Minister",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "commander",
    "chief",
    "Gen.",
    "General",
    "Major General",
    "Brig. Gen.",
    "Col.",
    "Colonel",
    "Capt.",
    "Captain",
    "Lt.",
    "governor",
    "Governor",
    "leader",
];

/// Finds a title directly followed by a capitalised name.
pub struct RoleStage {
    pattern: Regex,
}

impl RoleStage {
    pub fn new() -> RoleStage {
        let mut titles: Vec<String> = TITLES.iter().map(|t| regex::escape(t)).collect();
        titles.sort_by_key(|t| std::cmp::Reverse(t.len()));
        let pattern = format!(
            r"(?:(?P<org>\b[A-Z][A-Za-z]+)\s+)?\b(?P<title>{})\s+(?P<name>(?:(?:Major|Brig\.|Gen\.|General|Col\.)\s+)*[A-Z][a-z]+(?:[\s-](?:al-|bin\s|Abu\s)?[A-Z][a-z]+){{1,3}})",
            titles.join("|")
        );
        RoleStage {
            pattern: Regex::new(&pattern).expect("the built-in role pattern compiles"),
        }
    }
}

impl Default for RoleStage {
    fn default() -> Self {
        RoleStage::new()
    }
}

impl Stage for RoleStage {
    fn name(&self) -> &str {
        "roles"
    }

    fn run(&self, doc: &Document, facts: &mut Facts) {
        for c in self.pattern.captures_iter(&doc.text) {
            let whole = c.get(0).expect("group 0");
            let name = c.name("name").expect("name group");
            let person = name
                .as_str()
                .trim_start_matches("Major ")
                .trim_start_matches("General ")
                .trim_start_matches("Gen. ")
                .trim_start_matches("Brig. ")
                .trim_start_matches("Col. ")
                .to_string();
            let org_span = c.name("org").map(|m| Span::new(m.start(), m.end()));
            let organization = facts
                .entities
                .iter()
                .find(|e| {
                    org_span.is_some_and(|s| s.overlaps(&e.span))
                        && matches!(e.etype, EntityType::Org | EntityType::Place)
                })
                .map(|e| e.canonical.clone())
                .unwrap_or_default();
            facts.roles.push(Role {
                person,
                person_id: String::new(),
                role: c["title"].trim_end_matches('.').to_lowercase(),
                organization,
                place: String::new(),
                span: Span::new(whole.start(), whole.end()),
                rule: "roles:title-name".into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_before_name() {
        let doc = Document {
            text: "said Prime Minister Mohammed Shia al-Sudani on Tuesday.".into(),
            ..Default::default()
        };
        let mut facts = Facts::default();
        RoleStage::new().run(&doc, &mut facts);
        assert_eq!(facts.roles.len(), 1);
        assert_eq!(facts.roles[0].person, "Mohammed Shia al-Sudani");
        assert_eq!(facts.roles[0].role, "prime minister");
    }
}
