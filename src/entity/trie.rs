//! The automaton behind [`super::Matcher`]: a byte trie that answers one question, "which
//! is the longest key that the text starting here begins with?".
//!
//! The matcher asks it only at word starts (see [`super::Matcher::find_folded`]), so it
//! needs no failure links: that is an anchored leftmost-longest search, which an
//! Aho-Corasick automaton answers too, but an Aho-Corasick build spends most of its time on
//! the failure links (aho-corasick's `fill_failure_transitions`: over a third of start-up
//! before this trie). Measured on the built-in gazetteers (benches/matcher.rs,
//! docs/performance.md): this trie builds in a fraction of the time of the aho-corasick
//! contiguous NFA or of daachorse, and its anchored lookups at every word start are faster
//! than either automaton's scan.
//!
//! Layout: one byte array holding every node, depth-first, each as its key (plus one;
//! 0 for none) in 4 bytes; the bytes of the chain of single children without a key that
//! follows it (2 bytes of length, then the bytes: a path-compressed trie); the number of
//! children of the chain's end in 2 bytes, their labels (the bytes leading to them),
//! ascending, and their offsets in 4 bytes each. A lookup step reads one node, usually
//! within one cache line, and jumps to the child. Measured with perf: a first version kept
//! values, child ranges and labels in three arrays and spent most of its time waiting for
//! three cache misses per byte; one array without the chains still missed the cache once
//! per byte, mostly in the long unbranched tails of the names; breadth-first, the nodes of
//! one lookup lay far apart. The root's children are found through a 256-entry table.

/// A compiled set of byte strings, each with a value (`Trie::new(&["al", "al anbar"],
/// &[0, 1])` finds value 1 ending at 8 at the start of "al anbar province"; the unit tests
/// below hold it to a brute-force search).
#[derive(Clone, Debug, Default)]
pub(crate) struct Trie {
    /// The nodes, encoded as in the module documentation; the root at 0.
    nodes: Vec<u8>,
    /// The offset of the root's child for each byte; 0 for none (the root is nobody's
    /// child).
    root: Vec<u32>,
}

/// The text's byte at `i`, its ASCII letters read as lower case with `fold_ascii`.
#[inline(always)]
fn read_byte(hay: &[u8], i: usize, fold_ascii: bool) -> u8 {
    if fold_ascii {
        hay[i].to_ascii_lowercase()
    } else {
        hay[i]
    }
}

#[inline]
fn read_u16(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}

#[inline]
fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// The position of `b` in `labels`, eight bytes at a time: the labels of the upper nodes
/// are many (up to some 60), where a binary search spent its time on mispredicted branches
/// (perf).
#[inline]
fn find_byte(labels: &[u8], b: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut chunks = labels.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ (ONES * u64::from(b));
        // The lowest byte of `x` that is zero (a borrow can only mark bytes above it).
        let zero = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&l| l == b)
        .map(|i| at + i)
}

impl Trie {
    /// Builds the trie of `keys`, which must be sorted and without duplicates; key `i` is
    /// reported with `values[i]` (below `u32::MAX`). An empty key is never reported. Linear
    /// in the total length of the keys.
    pub(crate) fn new<K: AsRef<[u8]>>(keys: &[K], values: &[u32]) -> Trie {
        debug_assert!(keys.windows(2).all(|w| w[0].as_ref() < w[1].as_ref()));
        assert_eq!(keys.len(), values.len(), "a value for every key");
        // First the tree, breadth-first: node `v`'s children are made while `v` is
        // visited, after those of every earlier node, so they are consecutive, and
        // `first` (the first child of each node, plus one past the end) ascends.
        let mut first: Vec<u32> = Vec::new();
        let mut label: Vec<u8> = vec![0];
        let mut value: Vec<u32> = vec![0];
        // Per node, while building: the keys below it (all share its prefix), its depth.
        let mut range: Vec<(u32, u32, u32)> = vec![(0, keys.len() as u32, 0)];
        let mut v = 0;
        while v < label.len() {
            first.push(label.len() as u32);
            let (lo, hi, d) = range[v];
            let (mut lo, hi, d) = (lo as usize, hi as usize, d as usize);
            // Sorted keys: the one equal to the prefix, if any, comes first.
            if lo < hi && keys[lo].as_ref().len() == d {
                value[v] = values[lo] + 1;
                lo += 1;
            }
            while lo < hi {
                let b = keys[lo].as_ref()[d];
                let mut end = lo + 1;
                while end < hi && keys[end].as_ref()[d] == b {
                    end += 1;
                }
                label.push(b);
                value.push(0);
                range.push((lo as u32, end as u32, d as u32 + 1));
                lo = end;
            }
            v += 1;
        }
        first.push(label.len() as u32);
        drop(range);
        let n = label.len();
        let children = |v: usize| first[v] as usize..first[v + 1] as usize;
        // The only child of a node (not the root), without a key, joins its parent's chain.
        let chained = |v: usize| {
            let kids = children(v);
            (v != 0 && kids.len() == 1 && value[kids.start] == 0).then_some(kids.start)
        };
        // The end of `v`'s chain, and its length.
        let chain_end = |v: usize| {
            let (mut u, mut len) = (v, 0);
            while let Some(c) = chained(u) {
                u = c;
                len += 1;
            }
            (u, len)
        };
        // Then the encoding, in depth-first order, so that a subtree lies in one stretch
        // and the deep steps of a lookup go to nearby bytes: every kept node's offset, then
        // the bytes.
        let mut order = Vec::with_capacity(n);
        let mut stack = vec![0];
        while let Some(v) = stack.pop() {
            order.push(v);
            stack.extend(children(chain_end(v).0).rev());
        }
        let mut offset: Vec<u32> = vec![0; n];
        let mut size = 0usize;
        for &v in &order {
            offset[v] = u32::try_from(size).expect("a trie under 4 GB");
            let (u, len) = chain_end(v);
            size += 4 + 2 + len + 2 + children(u).len() * 5;
        }
        let mut nodes = Vec::with_capacity(size);
        for &v in &order {
            let (u, len) = chain_end(v);
            nodes.extend_from_slice(&value[v].to_le_bytes());
            nodes.extend_from_slice(&(len as u16).to_le_bytes());
            let mut c = v;
            while let Some(next) = chained(c) {
                nodes.push(label[next]);
                c = next;
            }
            let kids = children(u);
            nodes.extend_from_slice(&(kids.len() as u16).to_le_bytes());
            nodes.extend_from_slice(&label[kids.clone()]);
            for c in kids {
                nodes.extend_from_slice(&offset[c].to_le_bytes());
            }
        }
        debug_assert_eq!(nodes.len(), size);
        let mut root = vec![0u32; 256];
        for c in children(0) {
            root[label[c] as usize] = offset[c];
        }
        Trie { nodes, root }
    }

    /// The longest key that `hay[at..]` begins with: `(end, value)`, `end` the offset in
    /// `hay` just past it. With `fold_ascii`, the text's ASCII letters are read as lower case
    /// (the keys must then be lower case), which saves a lower-cased copy of the text.
    #[inline]
    pub(crate) fn longest_prefix(
        &self,
        hay: &[u8],
        at: usize,
        fold_ascii: bool,
    ) -> Option<(usize, u32)> {
        let read = |i: usize| read_byte(hay, i, fold_ascii);
        if at >= hay.len() {
            return None;
        }
        let o = self.root[read(at) as usize] as usize;
        if o == 0 {
            return None;
        }
        self.walk(hay, at + 1, o, 0, fold_ascii)
    }

    /// Whether some key begins with byte `b` (as read, not folded): one load from the
    /// root's table, which stays in the caches.
    #[inline]
    pub(crate) fn may_start_with(&self, b: u8) -> bool {
        self.root.get(b as usize).is_some_and(|&o| o != 0)
    }

    /// Where reading `key` from the root leads: the node and how many bytes of its chain
    /// were read, or `None` if no key begins with `key`.
    pub(crate) fn state_after(&self, key: &[u8]) -> Option<(u32, u32)> {
        let nodes = &self.nodes;
        let (&b0, mut rest) = key.split_first()?;
        let mut o = self.root[b0 as usize] as usize;
        if o == 0 {
            return None;
        }
        loop {
            let len = read_u16(nodes, o + 4);
            let chain = &nodes[o + 6..o + 6 + len];
            let m = rest.len().min(len);
            if rest[..m] != chain[..m] {
                return None;
            }
            if rest.len() <= len {
                return Some((o as u32, rest.len() as u32));
            }
            rest = &rest[len..];
            let p = o + 6 + len;
            let n = read_u16(nodes, p);
            let labels = &nodes[p + 2..p + 2 + n];
            let k = find_byte(labels, rest[0])?;
            o = read_u32(nodes, p + 2 + n + 4 * k) as usize;
            rest = &rest[1..];
        }
    }

    /// Like [`Trie::longest_prefix`], from a state of [`Trie::state_after`] reached by the
    /// text's bytes before `i`: keys shorter than that prefix are not reported.
    #[inline]
    pub(crate) fn longest_prefix_from(
        &self,
        hay: &[u8],
        i: usize,
        state: (u32, u32),
        fold_ascii: bool,
    ) -> Option<(usize, u32)> {
        self.walk(hay, i, state.0 as usize, state.1 as usize, fold_ascii)
    }

    #[inline(always)]
    fn walk(
        &self,
        hay: &[u8],
        mut i: usize,
        mut o: usize,
        mut skip: usize,
        fold_ascii: bool,
    ) -> Option<(usize, u32)> {
        let read = |i: usize| read_byte(hay, i, fold_ascii);
        let nodes = &self.nodes;
        let mut best = None;
        loop {
            let val = read_u32(nodes, o);
            if val != 0 && skip == 0 {
                best = Some((i, val - 1));
            }
            let len = read_u16(nodes, o + 4) - skip;
            let chain = &nodes[o + 6 + skip..o + 6 + skip + len];
            if hay.len() - i < len || (0..len).any(|j| read(i + j) != chain[j]) {
                break;
            }
            i += len;
            if i >= hay.len() {
                break;
            }
            let p = o + 6 + skip + len;
            skip = 0;
            let n = read_u16(nodes, p);
            let labels = &nodes[p + 2..p + 2 + n];
            let Some(k) = find_byte(labels, read(i)) else {
                break;
            };
            o = read_u32(nodes, p + 2 + n + 4 * k) as usize;
            i += 1;
        }
        best
    }

    /// The first bytes of the node of a state of [`Trie::state_after`]: reading them brings
    /// the node into the caches before the walk from it needs it (see
    /// `Matcher::find_folded`).
    #[inline]
    pub(crate) fn touch(&self, state: (u32, u32)) -> u32 {
        read_u32(&self.nodes, state.0 as usize)
    }

    /// Heap bytes held, for the benchmarks.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.nodes.capacity() + self.root.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each key's index as its value.
    fn ids(n: usize) -> Vec<u32> {
        (0..n as u32).collect()
    }

    /// The longest key that `hay[at..]` begins with, by brute force.
    fn naive(keys: &[&str], hay: &str, at: usize, fold: bool) -> Option<(usize, u32)> {
        let h = if fold {
            hay.to_ascii_lowercase()
        } else {
            hay.to_string()
        };
        keys.iter()
            .enumerate()
            .filter(|(_, k)| h.as_bytes()[at..].starts_with(k.as_bytes()))
            .max_by_key(|(_, k)| k.len())
            .map(|(i, k)| (at + k.len(), i as u32))
    }

    #[test]
    fn longest_prefix_agrees_with_brute_force() {
        let mut keys = vec![
            "a", "al", "al anbar", "al anb", "anbar", "b", "baghdad", "bagh", "mosul", "mūşil",
            "z", "zz", "zzz", "x y", "ab", "abc", "abd", "abcd", "IS", "ISIS", "UN",
        ];
        keys.sort();
        let trie = Trie::new(&keys, &ids(keys.len()));
        let hays = [
            "al anbar province",
            "Al Anbar and al-anb",
            "baghdad bagh ba",
            "MŪŞIL mūşil zzzz abce abd",
            "IS ISIS UN un",
            "",
            "x yz",
        ];
        for hay in hays {
            for at in 0..=hay.len() {
                for fold in [false, true] {
                    assert_eq!(
                        trie.longest_prefix(hay.as_bytes(), at, fold),
                        naive(&keys, hay, at, fold),
                        "{hay:?} at {at}, fold {fold}"
                    );
                }
            }
        }
    }

    /// From the state after any prefix of the text (mid-chain, at a node, or at a leaf), the
    /// search finds what the search from the root finds, less the keys shorter than the
    /// prefix; where no key begins with the prefix there is no state.
    #[test]
    fn searches_from_a_state_agree_with_searches_from_the_root() {
        let mut keys = vec![
            "a",
            "al",
            "al anbar",
            "al anb",
            "anbar",
            "b",
            "baghdad",
            "bagh",
            "mosul",
            "mūşil",
            "z",
            "zz",
            "zzz",
            "x y",
            "ab",
            "abc",
            "abd",
            "abcd",
            "longname province",
        ];
        keys.sort();
        let trie = Trie::new(&keys, &ids(keys.len()));
        let hays = [
            "al anbar province",
            "baghdad bagh ba",
            "mūşil zzzz abce abd abcd",
            "longname provinces longname",
            "x yz q",
        ];
        for hay in hays {
            let b = hay.as_bytes();
            for at in 0..b.len() {
                for end in at + 1..=b.len() {
                    let state = trie.state_after(&b[at..end]);
                    let some_key_begins =
                        keys.iter().any(|k| k.as_bytes().starts_with(&b[at..end]));
                    assert_eq!(state.is_some(), some_key_begins, "{hay:?} {at}..{end}");
                    let Some(state) = state else { continue };
                    // The longest key from the root: if it ends before `end`, no key that
                    // the text begins with reaches `end`.
                    let want = trie.longest_prefix(b, at, false).filter(|&(e, _)| e >= end);
                    let got = trie.longest_prefix_from(b, end, state, false);
                    assert_eq!(got, want, "{hay:?} {at}..{end}");
                }
            }
        }
    }

    #[test]
    fn find_byte_finds_the_first_match_or_none() {
        let labels: Vec<u8> = (0u8..40).map(|i| i * 3).collect();
        for n in 0..labels.len() {
            for b in 0..=255u8 {
                let want = labels[..n].iter().position(|&l| l == b);
                assert_eq!(find_byte(&labels[..n], b), want, "{n} {b}");
            }
        }
        assert_eq!(find_byte(&[1, 0, 0, 0, 0, 0, 0, 0, 0], 0), Some(1));
        assert_eq!(find_byte(&[0x80, 0x7f, 0, 1, 2, 3, 4, 5], 0x7f), Some(1));
    }

    /// Many keys over a small alphabet: long shared prefixes, chains broken by keys that
    /// end inside them, nodes with one child and with many.
    #[test]
    fn generated_keys_agree_with_brute_force() {
        let mut seed: u64 = 42;
        let mut rand = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let alphabet = b"abAB x";
        let mut word = |len: u64| -> String {
            (0..len)
                .map(|_| char::from(alphabet[rand(alphabet.len() as u64) as usize]))
                .collect()
        };
        let mut keys: Vec<String> = (0..400).map(|i| word(1 + i % 9)).collect();
        keys.sort();
        keys.dedup();
        let lower: Vec<String> = keys.iter().map(|k| k.to_ascii_lowercase()).collect();
        let mut lower_keys = lower.clone();
        lower_keys.sort();
        lower_keys.dedup();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let lower_refs: Vec<&str> = lower_keys.iter().map(String::as_str).collect();
        let (exact, folded) = (
            Trie::new(&refs, &ids(refs.len())),
            Trie::new(&lower_refs, &ids(lower_refs.len())),
        );
        for _ in 0..200 {
            let hay = word(20);
            for at in 0..=hay.len() {
                assert_eq!(
                    exact.longest_prefix(hay.as_bytes(), at, false),
                    naive(&refs, &hay, at, false),
                    "{hay:?} at {at}"
                );
                assert_eq!(
                    folded.longest_prefix(hay.as_bytes(), at, true),
                    naive(&lower_refs, &hay, at, true),
                    "{hay:?} at {at}, folded"
                );
            }
        }
    }

    #[test]
    fn empty_and_one_key_tries() {
        let none: [&str; 0] = [];
        assert_eq!(Trie::new(&none, &[]).longest_prefix(b"abc", 0, false), None);
        let one = Trie::new(&["abc"], &[0]);
        assert_eq!(one.longest_prefix(b"abcabc", 3, false), Some((6, 0)));
        assert_eq!(one.longest_prefix(b"ab", 0, false), None);
        assert!(one.may_start_with(b'a') && !one.may_start_with(b'b'));
        assert!(!Trie::new(&none, &[]).may_start_with(b'a'));
        assert!(!Trie::default().may_start_with(b'a'));
    }
}
