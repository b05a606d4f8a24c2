//! The `gleaner` command: a thin layer over the library. Parses arguments, runs the
//! subcommand, prints messages and sets the exit status.

mod cmd;

use std::process::ExitCode;

fn main() -> ExitCode {
    cmd::run(cmd::parse())
}
