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
    keep_freed_memory();
    cmd::run(cmd::parse())
}

/// mimalloc's `purge_delay` option: how many milliseconds freed memory stays with the
/// process before it is given back to the system (-1: never). Its index in `mi_option_t`
/// is the same in mimalloc 2 and 3 (`mimalloc.h`); `MIMALLOC_VERBOSE=1` lists it.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

// Part of the mimalloc library that the `mimalloc` crate links in.
extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// Keeps freed memory in the process instead of handing it back to the system.
///
/// A run frees each batch's documents and facts and allocates the next batch's at once;
/// with the default delay (1 s in mimalloc 3) mimalloc kept returning those pages and the kernel
/// zeroing them again on the next fault: 0.3-0.9 s of system time per 20 MB, against
/// 0.1-0.2 s without (docs/performance.md). The process's memory is bounded by the batch
/// size either way; it peaks some 20-30 MB higher.
///
/// `MIMALLOC_PURGE_DELAY` in the environment still wins.
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: the function only writes mimalloc's option table, and is safe to call from
    // any thread at any time.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}
