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
//! Layout: nodes are numbered breadth-first, so the children of a node are consecutive
//! nodes, and the children of node `v` are `first[v]..first[v + 1]`, their labels (the byte
//! leading to each) in `label`, ascending. A lookup step reads two adjacent `first` entries
//! and a short run of labels; the root's children are found through a 256-entry table.

/// A compiled set of byte strings, each identified by its index in the sorted key list
/// (`Trie::new(&["al", "al anbar"])` finds key 1 ending at 8 at the start of "al anbar
/// province"; the unit tests below hold it to a brute-force search).
#[derive(Clone, Debug, Default)]
pub(crate) struct Trie {
    /// Per node, plus one past the last: the first of its children.
    first: Vec<u32>,
    /// Per node: the byte on the edge from its parent.
    label: Vec<u8>,
    /// Per node: the key that ends there, plus one; 0 for none.
    value: Vec<u32>,
    /// The root's child for each byte; 0 for none (the root is nobody's child).
    root: Vec<u32>,
}

impl Trie {
    /// Builds the trie of `keys`, which must be sorted and without duplicates; key `i` is
    /// reported as `i`. An empty key is never reported. Linear in the total length of the keys.
    pub(crate) fn new<K: AsRef<[u8]>>(keys: &[K]) -> Trie {
        debug_assert!(keys.windows(2).all(|w| w[0].as_ref() < w[1].as_ref()));
        let total: usize = keys.iter().map(|k| k.as_ref().len()).sum();
        let cap = total.min(1 << 26) + 1;
        let mut first = Vec::with_capacity(cap + 1);
        let mut label = Vec::with_capacity(cap);
        let mut value = Vec::with_capacity(cap);
        // Per node, while building: the keys below it (all share its prefix), and its depth.
        let mut range: Vec<(u32, u32)> = Vec::with_capacity(cap);
        let mut depth: Vec<u32> = Vec::with_capacity(cap);
        label.push(0);
        value.push(0);
        range.push((0, keys.len() as u32));
        depth.push(0);
        // Breadth-first: node `v`'s children are made while `v` is visited, after those of
        // every earlier node, so they are consecutive and `first` ascends.
        let mut v = 0;
        while v < label.len() {
            first.push(label.len() as u32);
            let (mut lo, hi) = (range[v].0 as usize, range[v].1 as usize);
            let d = depth[v] as usize;
            // Sorted keys: the one equal to the prefix, if any, comes first.
            if lo < hi && keys[lo].as_ref().len() == d {
                value[v] = lo as u32 + 1;
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
                range.push((lo as u32, end as u32));
                depth.push(d as u32 + 1);
                lo = end;
            }
            v += 1;
        }
        first.push(label.len() as u32);
        let mut root = vec![0u32; 256];
        for child in first[0]..first[1] {
            root[label[child as usize] as usize] = child;
        }
        Trie {
            first,
            label,
            value,
            root,
        }
    }

    /// The child of `v` along byte `b`.
    #[inline]
    fn child(&self, v: u32, b: u8) -> Option<u32> {
        let (lo, hi) = (
            self.first[v as usize] as usize,
            self.first[v as usize + 1] as usize,
        );
        let labels = &self.label[lo..hi];
        if labels.len() <= 8 {
            labels.iter().position(|&l| l == b).map(|i| (lo + i) as u32)
        } else {
            labels.binary_search(&b).ok().map(|i| (lo + i) as u32)
        }
    }

    /// The longest key that `hay[at..]` begins with: `(end, key)`, `end` the offset in
    /// `hay` just past it. With `fold_ascii`, the text's ASCII letters are read as lower case
    /// (the keys must then be lower case), which saves a lower-cased copy of the text.
    #[inline]
    pub(crate) fn longest_prefix(
        &self,
        hay: &[u8],
        at: usize,
        fold_ascii: bool,
    ) -> Option<(usize, usize)> {
        let read = |i: usize| {
            let b = hay[i];
            if fold_ascii {
                b.to_ascii_lowercase()
            } else {
                b
            }
        };
        if at >= hay.len() {
            return None;
        }
        let mut v = self.root[read(at) as usize];
        if v == 0 {
            return None;
        }
        let mut best = None;
        let mut i = at + 1;
        loop {
            let val = self.value[v as usize];
            if val != 0 {
                best = Some((i, val as usize - 1));
            }
            if i >= hay.len() {
                break;
            }
            match self.child(v, read(i)) {
                Some(c) => v = c,
                None => break,
            }
            i += 1;
        }
        best
    }

    /// Heap bytes held, for the benchmarks.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.first.capacity() * 4
            + self.label.capacity()
            + self.value.capacity() * 4
            + self.root.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The longest key that `hay[at..]` begins with, by brute force.
    fn naive(keys: &[&str], hay: &str, at: usize, fold: bool) -> Option<(usize, usize)> {
        let h = if fold {
            hay.to_ascii_lowercase()
        } else {
            hay.to_string()
        };
        keys.iter()
            .enumerate()
            .filter(|(_, k)| h.as_bytes()[at..].starts_with(k.as_bytes()))
            .max_by_key(|(_, k)| k.len())
            .map(|(i, k)| (at + k.len(), i))
    }

    #[test]
    fn longest_prefix_agrees_with_brute_force() {
        let mut keys = vec![
            "a", "al", "al anbar", "al anb", "anbar", "b", "baghdad", "bagh", "mosul", "mūşil",
            "z", "zz", "zzz", "x y", "ab", "abc", "abd", "abcd", "IS", "ISIS", "UN",
        ];
        keys.sort();
        let trie = Trie::new(&keys);
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

    #[test]
    fn empty_and_one_key_tries() {
        let none: [&str; 0] = [];
        assert_eq!(Trie::new(&none).longest_prefix(b"abc", 0, false), None);
        let one = Trie::new(&["abc"]);
        assert_eq!(one.longest_prefix(b"abcabc", 3, false), Some((6, 0)));
        assert_eq!(one.longest_prefix(b"ab", 0, false), None);
    }
}
