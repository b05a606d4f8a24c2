//! The gates' walks of the last texts, kept per worker thread, so that groups of rules
//! that share a gate and a text are walked once.
//!
//! The numbers and dates rules both run over a document's plain text, and their gates
//! are one automaton (see `RuleSet::new`): the numbers stage walks the document, and
//! the dates stage, later on the same thread, finds that walk here instead of walking
//! the text again. A walk depends only on the gate, the text's bytes and its
//! paragraphs, so it is taken from here only when all three are the same (the bytes
//! compared, not where they are: a text freed and another allocated in its place must
//! not pass for it), which costs a copy and a comparison of the text (tens of
//! nanoseconds per kilobyte) against a walk (about 4 microseconds per kilobyte).
//!
//! Why a thread-local table rather than a slot the pipeline hands from stage to stage:
//! the stages are independent of each other (each asks the rule set for its matches),
//! and a document goes through all of them on one thread; the table needs no change to
//! the stages' interface, and any order of calls gives the same matches.

use std::cell::RefCell;

use super::gate::{Gate, Starts};

/// Walks kept per gate and thread: the document's, and one more for the short texts a
/// stage may ask about in between (the dates stage reads the lines of a document's
/// header with the same rules when it has no publication date, after the numbers stage
/// walked the document and before it asks about the document itself).
const KEPT: usize = 2;

/// A walk of a gate over a text.
#[derive(Default)]
struct Walk {
    text: Vec<u8>,
    chunks: Vec<(usize, usize)>,
    starts: Starts,
}

/// One thread's kept walks.
#[derive(Default)]
struct Walks {
    /// The rule set the walks belong to (its id).
    set: u64,
    /// Per gate of the set: its walks, the latest used first.
    by_gate: Vec<Vec<Walk>>,
}

thread_local! {
    static WALKS: RefCell<Walks> = RefCell::new(Walks::default());
}

#[cfg(test)]
thread_local! {
    /// How many walks the calling thread found kept, for tests.
    pub(crate) static REUSED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Calls `f` with the starts of `gate` (gate number `index` of the rule set `set`) over
/// `hay` and its paragraphs `chunks`, as [`Gate::starts`] fills them: from a walk the
/// calling thread kept, when it walked the same bytes and paragraphs with that gate
/// last or last but one, else from a new walk, then kept. With `keep` false (a gate no
/// other group shares) the walk is made anew and not kept.
pub(crate) fn with_starts<R>(
    set: u64,
    index: usize,
    keep: bool,
    gate: &Gate,
    hay: &str,
    chunks: &[(usize, usize)],
    f: impl FnOnce(&Starts) -> R,
) -> R {
    // Taken out of the table while `f` runs, so that `f` may ask for walks too.
    let mut walk = WALKS.with(|w| {
        let w = &mut *w.borrow_mut();
        if w.set != set {
            *w = Walks {
                set,
                by_gate: Vec::new(),
            };
        }
        if w.by_gate.len() <= index {
            w.by_gate.resize_with(index + 1, Vec::new);
        }
        let kept = &mut w.by_gate[index];
        let found = keep
            .then(|| {
                kept.iter()
                    .position(|k| k.text == hay.as_bytes() && k.chunks == chunks)
            })
            .flatten();
        match found {
            Some(i) => {
                #[cfg(test)]
                REUSED.with(|r| r.set(r.get() + 1));
                Ok(kept.remove(i))
            }
            // The oldest walk's memory is reused.
            None if kept.len() >= KEPT || !keep => Err(kept.pop().unwrap_or_default()),
            None => Err(Walk::default()),
        }
    });
    if let Err(new) = &mut walk {
        new.text.clear();
        new.chunks.clear();
        if keep {
            new.text.extend_from_slice(hay.as_bytes());
            new.chunks.extend_from_slice(chunks);
        }
        gate.starts(hay, chunks, &mut new.starts);
    }
    let walk = match walk {
        Ok(w) | Err(w) => w,
    };
    let out = f(&walk.starts);
    WALKS.with(|w| {
        let w = &mut *w.borrow_mut();
        // (Unless `f` turned the thread to another rule set.)
        if w.set == set && index < w.by_gate.len() {
            let kept = &mut w.by_gate[index];
            if keep {
                kept.insert(0, walk);
                kept.truncate(KEPT);
            } else {
                // Only its memory is worth keeping; it is never found.
                kept.clear();
                kept.push(walk);
            }
        }
    });
    out
}
