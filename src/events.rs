//! The events stage: incidents a document reports, with place, date and casualty counts.

use regex::Regex;

use crate::document::Document;
use crate::facts::{Category, EntityType, Event, Facts, Span};
use crate::pipeline::Stage;

/// Finds sentences that name an incident and give a casualty count.
pub struct EventStage {
    trigger: Regex,
}

impl EventStage {
    pub fn new() -> EventStage {
        EventStage {
            trigger: Regex::new(r"(?i)\b(raid|air ?strikes?|drone strikes?|strikes?|attacks?|bombings?|explosions?|ambush(?:ed)?|clash(?:es)?|shelling|operation)\b")
                .expect("the built-in event pattern compiles"),
        }
    }
}

impl Default for EventStage {
    fn default() -> Self {
        EventStage::new()
    }
}

fn event_type(trigger: &str) -> &'static str {
    let t = trigger.to_ascii_lowercase();
    if t.starts_with("air") || t.starts_with("drone") || t.starts_with("strike") {
        "airstrike"
    } else if t.starts_with("bomb") || t.starts_with("explos") {
        "bombing"
    } else if t.starts_with("ambush") {
        "ambush"
    } else if t.starts_with("clash") {
        "clash"
    } else if t.starts_with("shell") {
        "shelling"
    } else if t == "raid" || t == "operation" {
        "raid"
    } else {
        "attack"
    }
}

/// Sentence spans of `text`: split after `.`, `!`, `?` followed by space, and at newlines.
pub(crate) fn sentences(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let end = match b {
            b'\n' => Some(i),
            b'.' | b'!' | b'?' if bytes.get(i + 1).is_some_and(|n| *n == b' ') => Some(i + 1),
            _ => None,
        };
        if let Some(e) = end {
            if e > start {
                out.push(Span::new(start, e));
            }
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push(Span::new(start, text.len()));
    }
    out
}

impl Stage for EventStage {
    fn name(&self) -> &str {
        "events"
    }

    fn run(&self, doc: &Document, facts: &mut Facts) {
        let text = &doc.text;
        let mut events: Vec<Event> = Vec::new();
        for s in sentences(text) {
            let sentence = &text[s.start..s.end];
            let Some(trigger) = self.trigger.find(sentence) else {
                continue;
            };
            let inside = |span: &Span| s.contains(span);
            let count = |cat: Category| {
                facts
                    .quantities
                    .iter()
                    .find(|q| q.category == cat && inside(&q.span))
                    .map(|q| q.value as u64)
            };
            let (killed, injured, captured) = (
                count(Category::Killed),
                count(Category::Injured),
                count(Category::Captured),
            );
            if killed.is_none() && injured.is_none() {
                continue;
            }
            let place = facts
                .entities
                .iter()
                .filter(|e| e.etype == EntityType::Place && inside(&e.span))
                .min_by_key(|e| (e.kind == "country", e.span.start));
            let date = facts
                .dates
                .iter()
                .find(|d| inside(&d.span))
                .and_then(|d| d.value.clone());
            let etype = event_type(trigger.as_str());
            // A later sentence about the same incident adds to it rather than making another.
            if let Some(prev) = events.iter_mut().find(|e| {
                e.etype == etype
                    && (place.is_none()
                        || e.place_id.is_empty()
                        || Some(&e.place_id) == place.map(|p| &p.entity_id))
            }) {
                prev.killed = prev.killed.or(killed);
                prev.injured = prev.injured.or(injured);
                prev.captured = prev.captured.or(captured);
                if prev.date.is_none() {
                    prev.date = date;
                }
                continue;
            }
            events.push(Event {
                event_id: String::new(),
                etype: etype.into(),
                date,
                place: place.map(|p| p.canonical.clone()).unwrap_or_default(),
                place_id: place.map(|p| p.entity_id.clone()).unwrap_or_default(),
                geo: place.and_then(|p| p.geo.clone()).unwrap_or_default(),
                actors: Vec::new(),
                targets: Vec::new(),
                killed,
                injured,
                captured,
                span: s,
                rule: "events:sentence".into(),
            });
        }
        for (i, e) in events.iter_mut().enumerate() {
            e.event_id = format!("{}#{}", doc.doc_id, i + 1);
        }
        facts.events.extend(events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_split() {
        let s = sentences("One. Two!\nThree");
        assert_eq!(s.len(), 3);
    }
}
