//! gleaner: rule-based information extraction from news-article dumps into CSV tables.
//!
//! The data flow follows the module names:
//!
//! ```text
//! input -> document -> pipeline [entity, numbers, dates, roles, events] -> facts -> sink
//!                                                                     -> incidents (across documents)
//! ```
//!
//! - [`input`] reads folders of `.txt`, JSONL, CSV and gzip dumps into [`Document`]s,
//!   reporting bad data as [`input::Problem`]s rather than stopping;
//! - [`pipeline`] runs the [`pipeline::Stage`]s over a document: the gazetteer lookup and
//!   name rules of [`entity`], then the rule stages ([`numbers`], [`dates`], [`roles`],
//!   [`events`]); [`rules`] is the engine that compiles the user-editable rule files
//!   (rules/*.toml) that [`numbers`] and [`dates`] run;
//! - [`facts`] are what the stages find, each with its span and the rule that made it;
//! - [`sink`] writes them as the CSV tables of the output contract, and [`incidents`]
//!   merges the events that several documents report into one row;
//! - [`run`] drives a batch in parallel with bounded memory and deterministic output;
//! - [`calendar`] is the date arithmetic, [`generate`] writes synthetic dumps for
//!   benchmarks, [`error`] is the crate's one error type (`path:line: id: message`).
//!
//! ```
//! let pipeline = gleaner::PipelineBuilder::new().build().unwrap();
//! let doc = gleaner::Document {
//!     doc_id: "a".into(),
//!     text: "At least 15 militants were killed in Anbar province, Iraq.".into(),
//!     ..Default::default()
//! };
//! let facts = pipeline.process(&doc);
//! assert!(facts.entities.iter().any(|e| e.canonical == "Iraq"));
//! assert!(facts.quantities.iter().any(|q| q.value == 15.0));
//! ```

pub mod calendar;
pub mod dates;
pub mod document;
pub mod entity;
pub mod error;
pub mod events;
pub mod facts;
pub mod generate;
pub mod incidents;
pub mod input;
pub mod numbers;
pub mod pipeline;
pub mod roles;
pub mod rules;
pub mod run;
pub mod sink;
#[cfg(test)]
mod testing;

use std::path::PathBuf;

pub use document::Document;
pub use error::{Error, Result};
pub use facts::Facts;
pub use pipeline::Pipeline;

/// Configures and compiles the pipeline: which gazetteers and rules to use.
#[derive(Clone, Debug, Default)]
pub struct PipelineBuilder {
    gazetteers: Option<PathBuf>,
    builtin_gazetteers: bool,
    titles: Option<PathBuf>,
    rules: Option<PathBuf>,
}

impl PipelineBuilder {
    /// The built-in gazetteers and rules.
    pub fn new() -> PipelineBuilder {
        PipelineBuilder {
            gazetteers: None,
            builtin_gazetteers: true,
            titles: None,
            rules: None,
        }
    }

    /// Adds the `.tsv` gazetteers of `dir`; entries with the id of a built-in entry
    /// replace it.
    pub fn gazetteers(mut self, dir: impl Into<PathBuf>) -> PipelineBuilder {
        self.gazetteers = Some(dir.into());
        self
    }

    /// Like [`PipelineBuilder::gazetteers`], for an optional folder.
    pub fn gazetteers_opt(mut self, dir: Option<PathBuf>) -> PipelineBuilder {
        self.gazetteers = dir;
        self
    }

    /// Leaves out the built-in gazetteers (use only those of [`PipelineBuilder::gazetteers`]).
    pub fn without_builtin_gazetteers(mut self) -> PipelineBuilder {
        self.builtin_gazetteers = false;
        self
    }

    /// Adds a titles file (format in docs/roles.md) to the built-in titles of the roles
    /// stage; a title already known is replaced.
    pub fn titles_opt(mut self, file: Option<PathBuf>) -> PipelineBuilder {
        self.titles = file;
        self
    }

    /// Adds the `.toml` rule files of `dir` (see docs/rules.md): a file named like a
    /// built-in file replaces it, a rule with a built-in rule's id replaces that rule.
    pub fn rules(mut self, dir: Option<PathBuf>) -> PipelineBuilder {
        self.rules = dir;
        self
    }

    /// Compiles the rules alone (built-in and [`PipelineBuilder::rules`]).
    pub fn build_rules(&self) -> Result<rules::RuleSet> {
        rules::RuleSetBuilder::new().dir(self.rules.clone()).build()
    }

    /// The entity stage's name rules: the built-in `entities.toml`, or the one in the
    /// rules folder.
    pub fn build_name_rules(&self) -> Result<entity::NameRules> {
        entity::NameRules::from_dir(self.rules.as_deref())
    }

    /// Loads and compiles everything, reporting every problem in the data files at once.
    ///
    /// The rule files compile on a thread of their own while the gazetteers load and their
    /// automata are built: the two take about as long as each other and are most of the
    /// start-up.
    pub fn build(&self) -> Result<Pipeline> {
        let (rules, entity, roles) = std::thread::scope(|s| {
            let rules = s.spawn(|| self.build_rules());
            let entity = self.build_entity_stage();
            let roles = self
                .load_titles()
                .and_then(|t| roles::RoleStage::with_titles(&t));
            let rules = rules
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (rules, entity, roles)
        });
        match (entity, rules, roles) {
            (Ok(entity), Ok(rules), Ok(roles)) => Ok(Self::assemble(entity, rules, roles)),
            (entity, rules, roles) => Err(Error::many(
                [entity.err(), rules.err(), roles.err()]
                    .into_iter()
                    .flatten()
                    .collect(),
            )),
        }
    }

    /// Like [`PipelineBuilder::build`], with rules compiled already.
    pub fn build_with(&self, rules: rules::RuleSet) -> Result<Pipeline> {
        let entity = self.build_entity_stage()?;
        let roles = roles::RoleStage::with_titles(&self.load_titles()?)?;
        Ok(Self::assemble(entity, rules, roles))
    }

    /// The gazetteers and the name rules, compiled into the entity stage; the problems of
    /// both are reported together.
    fn build_entity_stage(&self) -> Result<entity::EntityStage> {
        match (self.load_gazetteers(), self.build_name_rules()) {
            (Ok(gaz), Ok(names)) => entity::EntityStage::with_rules(&gaz, names),
            (gaz, names) => Err(Error::many(
                [gaz.err(), names.err()].into_iter().flatten().collect(),
            )),
        }
    }

    /// The built-in titles of the roles stage, with [`PipelineBuilder::titles_opt`]'s file.
    fn load_titles(&self) -> Result<roles::Titles> {
        let titles = roles::Titles::builtin()?;
        // A gazetteer folder's titles.tsv extends the titles too, unless a file is named.
        let beside = self
            .gazetteers
            .as_ref()
            .map(|dir| dir.join(entity::TITLES_FILE))
            .filter(|f| f.is_file());
        match self.titles.as_ref().or(beside.as_ref()) {
            Some(file) => titles.add_file(file),
            None => Ok(titles),
        }
    }

    fn load_gazetteers(&self) -> Result<entity::Gazetteers> {
        let mut gaz = if self.builtin_gazetteers {
            entity::Gazetteers::builtin()?
        } else {
            entity::Gazetteers::default()
        };
        if let Some(dir) = &self.gazetteers {
            gaz = gaz.add_dir(dir)?;
        }
        Ok(gaz)
    }

    fn assemble(
        entity: entity::EntityStage,
        rules: rules::RuleSet,
        roles: roles::RoleStage,
    ) -> Pipeline {
        let stages: Vec<Box<dyn pipeline::Stage>> = vec![
            Box::new(entity),
            Box::new(numbers::NumberStage::new(rules.clone())),
            Box::new(dates::DateStage::new(rules)),
            Box::new(roles),
            Box::new(events::EventStage::new()),
        ];
        Pipeline::new(stages)
    }
}
