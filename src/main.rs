//! The `gleaner` command: a thin layer over the library. Parses arguments, runs the
//! subcommand, prints messages and sets the exit status.

mod cmd;

use std::process::ExitCode;

/// Every stage allocates many small, short-lived values (facts, spans, strings) per
/// document on every worker thread; mimalloc's thread-local free lists serve them faster
/// than the system allocator (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cmd::run(cmd::parse())
}
