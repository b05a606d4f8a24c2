//! A fast, non-cryptographic hasher for the entity stage's own tables (rule words,
//! gazetteer keys), the multiply-rotate hash of Firefox and rustc ("FxHash").
//!
//! Why: the standard `HashMap` hashes with SipHash, which resists hash flooding but costs
//! about a hundred instructions for a short word; the name rules look up several words per
//! token of every document. The keys here come from the shipped or the user's own rule
//! files and gazetteers, not from the documents' authors, so flooding is no concern.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// The hasher state: one word, mixed with each 8 bytes of input.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, mut bytes: &[u8]) {
        while bytes.len() >= 8 {
            self.add(u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")));
            bytes = &bytes[8..];
        }
        if bytes.len() >= 4 {
            self.add(u64::from(u32::from_le_bytes(
                bytes[..4].try_into().expect("4 bytes"),
            )));
            bytes = &bytes[4..];
        }
        for &b in bytes {
            self.add(u64::from(b));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(crate) type FxBuildHasher = BuildHasherDefault<FxHasher>;
pub(crate) type FxHashMap<K, V> = HashMap<K, V, FxBuildHasher>;
pub(crate) type FxHashSet<T> = HashSet<T, FxBuildHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash<T: Hash>(t: T) -> u64 {
        FxBuildHasher::default().hash_one(t)
    }

    #[test]
    fn equal_words_hash_alike_and_near_words_apart() {
        let words = [
            "",
            "a",
            "al",
            "ab",
            "ba",
            "abcdefgh",
            "abcdefghi",
            "abcdefgi",
            "of",
            "fo",
        ];
        for (i, a) in words.iter().enumerate() {
            assert_eq!(hash(a), hash(a.to_string()), "{a}");
            for b in &words[i + 1..] {
                assert_ne!(hash(a), hash(b), "{a} / {b}");
            }
        }
    }
}
