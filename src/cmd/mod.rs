//! Subcommands, one file each.

mod extract;
mod generate;
mod rules;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status: everything was read and written.
pub const EXIT_OK: u8 = 0;
/// Exit status: the run finished, but some input was skipped (see the messages).
pub const EXIT_SKIPPED: u8 = 1;
/// Exit status: the run could not be done (bad arguments, broken rules or gazetteers,
/// output not writable).
pub const EXIT_ERROR: u8 = 2;
/// Exit status: stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

#[derive(Parser, Debug)]
#[command(
    name = "gleaner",
    version,
    about = "Extract facts from news-article dumps into CSV tables",
    long_about = "Extract facts from news-article dumps into CSV tables: entities, casualty \
                  figures and other quantities, dates, roles, events, and incidents merged \
                  across articles.",
    after_help = "Exit status: 0 when everything was read; 1 when the run finished but some \
                  input (a line, a record or a file) was skipped, as reported on standard \
                  error; 2 when the run could not be done; 130 when it was stopped by Ctrl-C \
                  (no tables are written then)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Extract(Box<extract::Args>),
    Rules(rules::Args),
    /// Write a synthetic article dump for benchmarks.
    #[command(hide = true)]
    Generate(generate::Args),
}

pub fn parse() -> Cli {
    Cli::parse()
}

pub fn run(cli: Cli) -> ExitCode {
    let code = match cli.command {
        Command::Extract(args) => extract::run(*args),
        Command::Rules(args) => rules::run(args),
        Command::Generate(args) => generate::run(args),
    };
    ExitCode::from(code)
}

/// Prints an error from the library, one line per located problem.
pub fn print_error(err: &gleaner::Error) {
    for e in err.errors() {
        eprintln!("gleaner: {e}");
    }
}
