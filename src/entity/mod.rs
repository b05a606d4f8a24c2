//! The entity stage: persons, organisations, places and groups, found by gazetteer lookup
//! with Aho-Corasick automata and linked to a canonical name and a stable id.

pub mod gazetteer;
mod matcher;

use std::path::Path;

use crate::document::Document;
use crate::error::{Error, Result};
use crate::facts::Facts;
use crate::pipeline::Stage;

pub use gazetteer::{Alias, Entry};
pub use matcher::{GazetteerMatch, Matcher};

/// The gazetteers compiled into the binary, as `(file name, contents)`.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "countries.tsv",
        include_str!("../../gazetteers/countries.tsv"),
    ),
    ("regions.tsv", include_str!("../../gazetteers/regions.tsv")),
    ("cities.tsv", include_str!("../../gazetteers/cities.tsv")),
    (
        "features.tsv",
        include_str!("../../gazetteers/features.tsv"),
    ),
    ("norp.tsv", include_str!("../../gazetteers/norp.tsv")),
    ("orgs.tsv", include_str!("../../gazetteers/orgs.tsv")),
    ("persons.tsv", include_str!("../../gazetteers/persons.tsv")),
];

/// A set of gazetteer entries, from the built-in files and/or a user's folder.
#[derive(Clone, Debug, Default)]
pub struct Gazetteers {
    pub entries: Vec<Entry>,
}

impl Gazetteers {
    /// The gazetteers shipped inside the binary.
    pub fn builtin() -> Result<Gazetteers> {
        let mut g = Gazetteers::default();
        let mut errors = Vec::new();
        for (name, content) in BUILTIN {
            match gazetteer::parse(&format!("<built-in>/{name}"), content) {
                Ok(entries) => g.entries.extend(entries),
                Err(e) => errors.push(e),
            }
        }
        g.check(errors)
    }

    /// Adds the `.tsv` files of a folder, in name order. An entry whose id is already
    /// present replaces the earlier one, so a user can correct a shipped entry.
    pub fn add_dir(mut self, dir: &Path) -> Result<Gazetteers> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
            .collect();
        files.sort();
        let mut errors = Vec::new();
        let mut user = Vec::new();
        for path in files {
            let content = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            match gazetteer::parse(&path.display().to_string(), &content) {
                Ok(entries) => user.extend(entries),
                Err(e) => errors.push(e),
            }
        }
        let replaced: std::collections::HashSet<&str> =
            user.iter().map(|e| e.id.as_str()).collect();
        self.entries
            .retain(|old| !replaced.contains(old.id.as_str()));
        self.entries.extend(user);
        self.check(errors)
    }

    /// Reports parse errors and duplicate ids together.
    fn check(self, mut errors: Vec<Error>) -> Result<Gazetteers> {
        let mut seen = std::collections::HashMap::new();
        for e in &self.entries {
            if let Some(first) = seen.insert(e.id.as_str(), e.origin.as_str()) {
                errors.push(Error::data(
                    crate::error::Location::file(&e.origin).with_id(&e.id),
                    format!("duplicate id (first defined at {first})"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(Error::many(errors))
        }
    }
}

/// The entity stage.
pub struct EntityStage {
    matcher: Matcher,
}

impl EntityStage {
    pub fn new(gazetteers: &Gazetteers) -> Result<EntityStage> {
        Ok(EntityStage {
            matcher: Matcher::build(&gazetteers.entries)?,
        })
    }
}

impl Stage for EntityStage {
    fn name(&self) -> &str {
        "entities"
    }

    fn run(&self, doc: &Document, facts: &mut Facts) {
        facts.entities.extend(self.matcher.entities(&doc.text));
    }
}
