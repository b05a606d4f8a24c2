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
/// each, with one small checkpoint table (a `u32` per 256 bytes) instead of a table per byte,
/// so that a 100 MB article costs 1.6 MB here rather than 400 MB.
///
/// A lookup counts the characters between its block's checkpoint and the byte, or between
/// the previous lookup and the byte when that is nearer: the sink asks for the start and
/// end of each span, mostly in text order, so most lookups count a span's length or less
/// instead of half a block.
pub struct CharMap<'a> {
    text: &'a str,
    /// Character count before each block of [`BLOCK`] bytes; empty for ASCII text.
    checkpoints: Vec<u32>,
    /// The byte and character offsets of the previous lookup.
    last: std::cell::Cell<(usize, usize)>,
}

const BLOCK: usize = 256;

impl<'a> CharMap<'a> {
    /// Builds the map for `text`: a single pass, and nothing at all for ASCII text.
    pub fn new(text: &'a str) -> CharMap<'a> {
        let checkpoints = if text.is_ascii() {
            Vec::new()
        } else {
            let bytes = text.as_bytes();
            let mut out = Vec::with_capacity(bytes.len() / BLOCK + 1);
            let mut chars = 0u32;
            for block in bytes.chunks(BLOCK) {
                out.push(chars);
                chars += block.iter().filter(|&&b| (b as i8) >= -0x40).count() as u32;
            }
            out
        };
        CharMap {
            text,
            checkpoints,
            last: std::cell::Cell::new((0, 0)),
        }
    }

    /// The character offset of byte offset `byte`, which must lie on a char boundary.
    pub fn char_offset(&self, byte: usize) -> usize {
        if self.checkpoints.is_empty() {
            return byte;
        }
        let block = byte / BLOCK;
        let Some(&before) = self.checkpoints.get(block) else {
            // byte == len on a block boundary: count everything.
            return self.text.chars().count();
        };
        let (mut from, mut chars) = (block * BLOCK, before as usize);
        let (last_byte, last_chars) = self.last.get();
        if from < last_byte && last_byte <= byte {
            (from, chars) = (last_byte, last_chars);
        }
        chars += self.text.as_bytes()[from..byte]
            .iter()
            .filter(|&&b| (b as i8) >= -0x40)
            .count();
        self.last.set((byte, chars));
        chars
    }
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
        assert!(map.checkpoints.is_empty());
        assert_eq!(map.char_offset(5), 5);
    }
}
