//! An article as read from an input, and the mapping from byte to character offsets.
//!
//! Stages work with byte offsets into [`Document::text`] (what Rust strings index with);
//! the sinks turn them into Unicode character offsets, which is what the tables promise,
//! with a [`CharMap`].

use crate::calendar::Ymd;

/// One article.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    /// The document's id: the file stem for `.txt`, the id field for JSONL and CSV.
    pub doc_id: String,
    /// Where it was read from: `path` for a text file, `path:line` for a JSONL or CSV line.
    pub source: String,
    /// The headline: the title field, or the first non-empty line of the text.
    pub title: String,
    /// The publication date given by the input (JSONL/CSV field), if any.
    pub published: Option<Ymd>,
    /// The article's URL, if the input gives one.
    pub url: Option<String>,
    /// The article text as read (invalid UTF-8 replaced by U+FFFD).
    pub text: String,
}

impl Document {
    /// The first non-empty line of `text`, trimmed: the title of a plain-text article.
    pub fn first_line(text: &str) -> &str {
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
    }
}

/// Converts byte offsets of one text into character (code point) offsets in O(1) time
/// each: a character offset is the byte offset less the UTF-8 continuation bytes before it,
/// and those are counted beforehand, eight bytes at a time, into two small tables.
///
/// A `u32` per block of [`BLOCK`] bytes holds the count before the block, a `u8` per
/// eight-byte word the count from its block's start to the word; a lookup adds the two
/// and the continuation bytes of the word up to the byte (a mask and a multiply), without
/// a loop. A 100 MB article costs 14 MB here rather than the 400 MB of a table per byte,
/// and ASCII text nothing at all.
///
/// Why: the sink asks for the start and end of every span, table by table (each in text
/// order, so five sweeps over a document); the previous map counted the bytes one by one
/// from a checkpoint every 256 bytes, or from the previous lookup, which made this map a
/// sixth of the cost of encoding the rows.
pub struct CharMap<'a> {
    text: &'a [u8],
    /// Whether the text is all ASCII: then the tables are empty and offsets are the same.
    ascii: bool,
    /// Continuation bytes before each block of [`BLOCK`] bytes.
    blocks: Vec<u32>,
    /// Continuation bytes from the start of each whole word's block to the word.
    words: Vec<u8>,
    /// Continuation bytes in the whole text.
    continuations: usize,
}

/// Bytes per checkpoint of [`CharMap`]: 32 words, so that a word's count within its block
/// (at most 31 words of 8 bytes, 248) fits in a `u8`.
const BLOCK: usize = 256;

/// The continuation bytes (`10xxxxxx`) of a little-endian word as the top bit of each byte:
/// bit 7 set and bit 6 (shifted up into bit 7 by one) clear.
#[inline]
fn continuations(word: u64) -> u64 {
    word & !(word << 1) & 0x8080_8080_8080_8080
}

/// How many bytes of `continuations(word)` are set: the bits brought down to one per byte
/// and summed into the top byte by a multiply (at most 8, so no byte carries).
#[inline]
fn count(mask: u64) -> usize {
    ((mask >> 7).wrapping_mul(0x0101_0101_0101_0101) >> 56) as usize
}

impl<'a> CharMap<'a> {
    /// Builds the map for `text`: a single pass, eight bytes at a time, and nothing at all
    /// for ASCII text.
    pub fn new(text: &'a str) -> CharMap<'a> {
        let bytes = text.as_bytes();
        let ascii = text.is_ascii();
        let mut map = CharMap {
            text: bytes,
            ascii,
            blocks: Vec::new(),
            words: Vec::new(),
            continuations: 0,
        };
        if ascii {
            return map;
        }
        map.blocks.reserve(bytes.len() / BLOCK + 1);
        map.words.reserve(bytes.len() / 8);
        let (mut total, mut in_block) = (0usize, 0usize);
        let chunks = bytes.chunks_exact(8);
        let rest = chunks.remainder();
        for (i, chunk) in chunks.enumerate() {
            if i % (BLOCK / 8) == 0 {
                total += in_block;
                in_block = 0;
                map.blocks.push(total as u32);
            }
            map.words.push(in_block as u8);
            in_block += count(continuations(word(chunk)));
        }
        map.continuations = total + in_block + rest.iter().filter(|&&b| b & 0xC0 == 0x80).count();
        map
    }

    /// The character offset of byte offset `byte`, which must lie on a char boundary.
    #[inline]
    pub fn char_offset(&self, byte: usize) -> usize {
        if self.ascii {
            return byte;
        }
        let at = byte / 8;
        match self.words.get(at) {
            Some(&in_block) => {
                // The word's continuation bytes before `byte` (0 to 7 of its bytes).
                let before = (1u64 << (8 * (byte % 8))).wrapping_sub(1);
                let mask = continuations(word(&self.text[at * 8..at * 8 + 8])) & before;
                byte - self.blocks[byte / BLOCK] as usize - in_block as usize - count(mask)
            }
            // In the bytes after the last whole word, or at the end: count back from the end.
            None => {
                let after = self.text[byte.min(self.text.len())..]
                    .iter()
                    .filter(|&&b| b & 0xC0 == 0x80)
                    .count();
                byte - (self.continuations - after)
            }
        }
    }
}

/// Eight bytes as a little-endian word.
#[inline]
fn word(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("eight bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_first_non_empty_line() {
        assert_eq!(
            Document::first_line("\n\n  Headline here \nbody"),
            "Headline here"
        );
        assert_eq!(Document::first_line(""), "");
    }

    #[test]
    fn char_offsets_match_a_naive_count() {
        let mut text = String::new();
        for i in 0..300 {
            text.push_str(if i % 7 == 0 {
                "Mūşil — “al-Anbar” "
            } else {
                "Iraq "
            });
        }
        let map = CharMap::new(&text);
        for (byte, _) in text.char_indices().chain([(text.len(), ' ')]) {
            assert_eq!(
                map.char_offset(byte),
                text[..byte].chars().count(),
                "{byte}"
            );
        }
    }

    #[test]
    fn char_offsets_in_any_order_match_a_naive_count() {
        let text = "Mūşil — “al-Anbar” Iraq ".repeat(40);
        let map = CharMap::new(&text);
        let bytes: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        // Forwards in strides, backwards, and jumping between blocks.
        let order = (0..bytes.len())
            .step_by(7)
            .chain((0..bytes.len()).rev().step_by(5))
            .chain((0..bytes.len()).step_by(3).map(|i| (i * 31) % bytes.len()));
        for i in order {
            let byte = bytes[i];
            assert_eq!(map.char_offset(byte), i, "{byte}");
        }
    }

    #[test]
    fn ascii_text_needs_no_table() {
        let map = CharMap::new("plain ascii");
        assert!(map.blocks.is_empty() && map.words.is_empty());
        assert_eq!(map.char_offset(5), 5);
    }

    /// Texts of every length up to past two blocks, of characters of one to four bytes in
    /// every mixture and position (so that words and blocks begin inside characters), with
    /// every character boundary asked in order, then in reverse.
    #[test]
    fn char_offsets_of_any_length_and_mixture_match_a_naive_count() {
        let alphabet = ['a', 'é', '—', '𝄞', ' ', 'ş'];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in (0..40).chain([255, 256, 257, 263, 511, 512, 520, 600]) {
            for round in 0..6 {
                let mut text = String::new();
                while text.len() < len {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    // Round 0 is all ASCII but one character; the others are mixed.
                    let pick = if round == 0 && !text.is_empty() {
                        0
                    } else {
                        (state % alphabet.len() as u64) as usize
                    };
                    text.push(alphabet[pick]);
                }
                let map = CharMap::new(&text);
                let bounds: Vec<(usize, usize)> = text
                    .char_indices()
                    .map(|(b, _)| b)
                    .chain([text.len()])
                    .enumerate()
                    .map(|(chars, byte)| (byte, chars))
                    .collect();
                for &(byte, chars) in bounds.iter().chain(bounds.iter().rev()) {
                    assert_eq!(map.char_offset(byte), chars, "{text:?} at {byte}");
                }
            }
        }
    }
}
