//! Name normalisation for matching and for identity.
//!
//! Two things live here:
//!
//! - [`Folded`]: a copy of a text with diacritics removed, apostrophe and hyphen variants
//!   unified and whitespace runs collapsed, plus a map from every byte of the copy back to
//!   the original text. The gazetteer automata run on the copy, and their matches are
//!   mapped back, so offsets always point into the text as read (STYLE habit 5). Case is
//!   kept: the case-insensitive automaton folds ASCII case itself, and the case-sensitive
//!   one needs it.
//! - [`skeleton`]: a lossy key for a name, equal for the spellings of one name that the
//!   press uses side by side ("Jassim al-Mazrouei" / "Jassim al-Mazroui",
//!   "Abdel Qader" / "Abdul Qadir"), used to give names found by rules a stable id.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// A text folded for matching, with the way back to the original's byte offsets.
///
/// ```
/// use gleaner::entity::normalize::Folded;
///
/// let text = "in Mūşil’s al\u{2011}Anbar";
/// let f = Folded::new(text);
/// assert_eq!(f.text, "in Musil's al Anbar");
/// let start = f.text.find("Musil").unwrap();
/// let (s, e) = f.original_span(start, start + "Musil".len());
/// assert_eq!(&text[s..e], "Mūşil");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Folded {
    /// The folded text.
    pub text: String,
    /// For every byte of `text`, plus one past the end: the byte offset in the original
    /// of the character it came from (the end: the original's length).
    map: Vec<u32>,
}

impl Folded {
    /// Folds `text`: see the module documentation.
    ///
    /// Runs of ASCII bytes that stay as they are (most of a news text) are copied whole into
    /// a byte buffer, without decoding or encoding characters; only the rest goes through
    /// Unicode decomposition.
    pub fn new(text: &str) -> Folded {
        let mut out: Vec<u8> = Vec::with_capacity(text.len());
        let mut map: Vec<u32> = Vec::with_capacity(text.len() + 1);
        let bytes = text.as_bytes();
        let mut last_space = false;
        let mut at = 0;
        while at < bytes.len() {
            // A run of bytes copied as they are: one copy, and its map filled by counting.
            let start = at;
            while at < bytes.len() {
                let b = bytes[at];
                if !b.is_ascii()
                    || matches!(b, b'-' | b'_' | b'\t' | b'\r' | b'`')
                    || (b == b' ' && last_space)
                {
                    break;
                }
                last_space = b == b' ';
                at += 1;
            }
            if at > start {
                out.extend_from_slice(&bytes[start..at]);
                map.extend(start as u32..at as u32);
                continue;
            }
            let b = bytes[at];
            if b.is_ascii() {
                let b = match b {
                    b'-' | b'_' | b'\t' | b'\r' => b' ',
                    b'`' => b'\'',
                    b => b,
                };
                let space = b == b' ';
                if !(space && last_space) {
                    out.push(b);
                    map.push(at as u32);
                }
                last_space = space;
                at += 1;
                continue;
            }
            let c = text[at..].chars().next().expect("a char boundary");
            let mut push = |d: char, out: &mut Vec<u8>, map: &mut Vec<u32>| {
                let d = fold_char(d);
                let Some(d) = d else { return };
                if d == ' ' {
                    if last_space {
                        return;
                    }
                    last_space = true;
                } else {
                    last_space = false;
                }
                let before = out.len();
                let mut buf = [0; 4];
                let s: &str = match d {
                    'ß' => "ss",
                    'æ' => "ae",
                    'Æ' => "AE",
                    'œ' => "oe",
                    'Œ' => "OE",
                    d => d.encode_utf8(&mut buf),
                };
                out.extend_from_slice(s.as_bytes());
                for _ in before..out.len() {
                    map.push(at as u32);
                }
            };
            decompose_compatible(c, |d| {
                if !is_combining_mark(d) {
                    push(d, &mut out, &mut map);
                }
            });
            at += c.len_utf8();
        }
        map.push(text.len() as u32);
        let text = String::from_utf8(out).expect("whole characters were copied");
        Folded { text, map }
    }

    /// The original byte span of the folded span `start..end` (which must lie on character
    /// boundaries of the folded text).
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        (self.map[start] as usize, self.map[end] as usize)
    }
}

/// One character of the folded text: apostrophes and hyphens unified, letters that have no
/// decomposition (ı, ł, ø, đ) spelt as their base letter, other whitespace as a space.
/// `None` drops the character.
fn fold_char(c: char) -> Option<char> {
    Some(match c {
        '\u{2018}' | '\u{2019}' | '\u{201b}' | '\u{2032}' | '\u{02bc}' | '\u{02bb}'
        | '\u{02be}' | '\u{02bf}' | '\u{00b4}' => '\'',
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{00ad}' => {
            if c == '\u{00ad}' {
                return None;
            }
            ' '
        }
        'ı' => 'i',
        'ł' => 'l',
        'Ł' => 'L',
        'ø' => 'o',
        'Ø' => 'O',
        'đ' => 'd',
        'Đ' => 'D',
        'ð' => 'd',
        'þ' => 't',
        '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' => return None,
        c if c.is_whitespace() && c != '\n' => ' ',
        c => c,
    })
}

/// The folded form of a gazetteer alias or a name: [`Folded::new`]'s text, trimmed.
///
/// ```
/// use gleaner::entity::normalize::fold;
///
/// assert_eq!(fold(" Abu-Ali  al‑Tunisi "), "Abu Ali al Tunisi");
/// ```
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        // Most aliases: the same result without the offset map.
        let mut out = String::with_capacity(s.len());
        for c in s.trim().chars() {
            let c = match c {
                '-' | '_' | '\t' | '\r' => ' ',
                '`' => '\'',
                c => c,
            };
            if c == ' ' && out.ends_with(' ') {
                continue;
            }
            out.push(c);
        }
        if out.starts_with(' ') || out.ends_with(' ') {
            return out.trim().to_string();
        }
        return out;
    }
    Folded::new(s).text.trim().to_string()
}

/// Arabic articles that the press writes attached, hyphenated, separate or not at all.
const ARTICLES: &[&str] = &["al", "el", "ul"];

/// A key that is the same for the common spellings of one name, for identity across
/// documents. Lowercase, no diacritics, no dots or apostrophes; the Arabic article dropped;
/// Abdel / Abdul / Abd al- as `abd`; `e` read as `i` and `o` as `u` (Hamed / Hamid,
/// Mazrouei / Mazroui), doubled letters single (Jassim / Jasim). Words are joined by `-`.
///
/// ```
/// use gleaner::entity::normalize::skeleton;
///
/// assert_eq!(skeleton("Jassim al-Mazrouei"), "jasim-mazrui");
/// assert_eq!(skeleton("Jassim al-Mazroui"), skeleton("Jassim al-Mazrouei"));
/// assert_eq!(skeleton("Abdel Qader"), skeleton("Abdul Qadir"));
/// assert_eq!(skeleton("U.S. Central Command"), "us-cintral-cumand");
/// ```
pub fn skeleton(name: &str) -> String {
    let folded = Folded::new(name).text.to_lowercase();
    let cleaned: String = folded
        .chars()
        .filter(|c| *c != '.' && *c != '\'')
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut words: Vec<String> = Vec::new();
    for w in cleaned.split_whitespace() {
        if ARTICLES.contains(&w) {
            continue;
        }
        // Attached article: "alMazrouei" is rare, but "Abdulqadir" / "Abdelqader" are
        // common: split the `abd` off.
        let mut w = w;
        for prefix in ["abdul", "abdel", "abdal", "abdil"] {
            if let Some(rest) = w.strip_prefix(prefix) {
                words.push("abd".into());
                w = rest;
                break;
            }
        }
        if w.is_empty() {
            continue;
        }
        let mut s = String::with_capacity(w.len());
        for c in w.chars() {
            let c = match c {
                'e' => 'i',
                'o' => 'u',
                c => c,
            };
            if s.ends_with(c) {
                continue;
            }
            s.push(c);
        }
        words.push(s);
    }
    words.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_maps_back_to_the_original() {
        let cases: &[(&str, &str, &str)] = &[
            // (text, folded, a word of the folded text whose original is checked)
            ("Mosul", "Mosul", "Mosul"),
            ("Mūşil city", "Musil city", "Musil"),
            ("Mu\u{304}s\u{327}il", "Musil", "Musil"),
            ("al-Anbar", "al Anbar", "Anbar"),
            ("Iraq’s army", "Iraq's army", "Iraq"),
            ("a  \t b", "a b", "b"),
            ("Łódź", "Lodz", "Lodz"),
            ("Straße", "Strasse", "Strasse"),
            ("Abu\u{2013}Ali", "Abu Ali", "Ali"),
            ("line\nnext", "line\nnext", "next"),
            ("a - b", "a b", "b"),
        ];
        for (text, folded, word) in cases {
            let f = Folded::new(text);
            assert_eq!(&f.text, folded, "{text:?}");
            assert_eq!(fold(text), folded.trim(), "fold({text:?})");
            let s = f.text.find(word).unwrap();
            let (a, b) = f.original_span(s, s + word.len());
            assert_eq!(fold(&text[a..b]), *word, "{text:?}");
        }
    }

    #[test]
    fn skeletons_join_spelling_variants_and_keep_names_apart() {
        let same: &[(&str, &str)] = &[
            ("Jassim al-Mazrouei", "Jassim al-Mazroui"),
            ("Abu Ali al-Tunisi", "Abu-Ali Al-Tunisi"),
            ("Ahmad Hamed Zwein", "Ahmad Hamid Zwein"),
            ("Abdul Qadir Mumin", "Abdulqadir Mumin"),
            ("Abd al-Karim", "Abdel Karim"),
            ("US Central Command", "U.S. Central Command"),
            ("Hussein", "Husein"),
        ];
        for (a, b) in same {
            assert_eq!(skeleton(a), skeleton(b), "{a} / {b}");
        }
        let different: &[(&str, &str)] = &[
            ("Ali Hassan", "Ali Hussein"),
            ("Ahmad Zwein", "Ahmad Zwain"),
            ("Pat Ryder", "Pat Rider"),
        ];
        for (a, b) in different {
            assert_ne!(skeleton(a), skeleton(b), "{a} / {b}");
        }
    }
}
