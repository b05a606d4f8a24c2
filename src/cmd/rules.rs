//! `gleaner rules check|test [DIR]`: compile the rules and run their examples.

use std::path::PathBuf;

use gleaner::rules::{test_examples, RuleSetBuilder, Table};
use gleaner::PipelineBuilder;

use super::{print_error, EXIT_ERROR, EXIT_OK, EXIT_SKIPPED};

/// Check or test rule files: the built-in ones, plus those of DIR.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand, Debug)]
enum Action {
    /// Compile every rule and report every problem as `file:line: rule <id>: message`.
    #[command(after_help = "Exit status: 0 when every rule compiles, 2 when any does not.")]
    Check {
        /// Folder of .toml rule files to add to the built-in rules (same file name
        /// replaces a built-in file, same id replaces a built-in rule).
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Run every rule's examples and print each failure.
    #[command(
        after_help = "Exit status: 0 when every example passes, 1 when any fails, 2 when \
                      the rules do not compile."
    )]
    Test {
        /// Folder of .toml rule files to add to the built-in rules.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

pub fn run(args: Args) -> u8 {
    match args.action {
        Action::Check { dir } => check(dir),
        Action::Test { dir } => test(dir),
    }
}

fn check(dir: Option<PathBuf>) -> u8 {
    let names = PipelineBuilder::new().rules(dir.clone()).build_name_rules();
    let rules = RuleSetBuilder::new().dir(dir).build();
    let checked = match (rules, names) {
        (Ok(rules), Ok(_)) => Ok(rules),
        (rules, names) => Err(gleaner::Error::many(
            [rules.err(), names.err()].into_iter().flatten().collect(),
        )),
    };
    match checked {
        Ok(rules) => {
            println!(
                "{} rules compiled: {} quantities, {} dates",
                rules.rules().len(),
                rules.count(Table::Quantities),
                rules.count(Table::Dates)
            );
            EXIT_OK
        }
        Err(e) => {
            print_error(&e);
            let n = e.errors().len();
            eprintln!("gleaner: {n} problem{}", if n == 1 { "" } else { "s" });
            EXIT_ERROR
        }
    }
}

fn test(dir: Option<PathBuf>) -> u8 {
    let builder = PipelineBuilder::new().rules(dir);
    let pipeline_and_rules = builder
        .build_rules()
        .and_then(|rules| Ok((builder.build_with(rules.clone())?, rules)));
    let (pipeline, rules) = match pipeline_and_rules {
        Ok(p) => p,
        Err(e) => {
            print_error(&e);
            return EXIT_ERROR;
        }
    };
    let failures = test_examples(&rules, &pipeline);
    let examples: usize = rules
        .rules()
        .iter()
        .map(|r| r.examples.len() + r.counter.len())
        .sum();
    for f in &failures {
        println!("{f}");
    }
    println!(
        "{} rules, {} examples: {} failed",
        rules.rules().len(),
        examples,
        failures.len()
    );
    if failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_SKIPPED
    }
}
