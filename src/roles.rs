//! The roles stage: who holds which title ("Pentagon spokesman Pat Ryder").
//!
//! Titles, ranks and posts come from a gazetteer ([`Titles`], `gazetteers/titles.tsv`,
//! documented in docs/roles.md) that users can extend with `--titles FILE`. The stage finds
//! every title in the text, joins titles that follow each other ("spokesman Major General")
//! into a chain, and then looks around the chain for the parts news writing puts there:
//!
//! - the organisation before it ("Pentagon spokesman", "the IS deputy commander") or after
//!   it ("leader of the Somalia Province", "governor of Iraq for IS");
//! - the person after it ("Prime Minister Mohammed Shia al-Sudani", "commander named X",
//!   "the current leader, known as X") or before it, as an apposition ("X, head of
//!   operations in Iraq", "X, also known as the so-called governor of Iraq").
//!
//! The person is a PERSON entity where the entity stage found one, else a name read by a
//! small pattern (capitalised words with the particles of Arabic, Dutch, Spanish... names),
//! which must have two words or more to count.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashSet;

use crate::document::Document;
use crate::error::{Error, Location, Result};
use crate::facts::{Entity, EntityType, Facts, Role, Span};
use crate::pipeline::Stage;

/// The built-in titles gazetteer, compiled into the binary.
pub const BUILTIN_TITLES: &str = include_str!("../gazetteers/titles.tsv");

/// The header of a titles file.
pub const TITLES_HEADER: [&str; 5] = ["title", "role", "kind", "aliases", "flags"];

/// What sort of title an entry is. Ranks are written with a capital before a name, so they
/// count only capitalised; government posts take a country as their organisation
/// ("Prime Minister of Iraq").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TitleKind {
    Rank,
    Government,
    Military,
    Militant,
    Media,
    Official,
}

impl TitleKind {
    fn parse(s: &str) -> Option<TitleKind> {
        Some(match s.trim() {
            "rank" => TitleKind::Rank,
            "government" => TitleKind::Government,
            "military" => TitleKind::Military,
            "militant" => TitleKind::Militant,
            "media" => TitleKind::Media,
            "official" => TitleKind::Official,
            _ => return None,
        })
    }
}

/// One title of the gazetteer, with all the ways it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Title {
    /// The normalised title written in roles.csv ("major general").
    pub role: String,
    pub kind: TitleKind,
    /// `(surface form, case-sensitive)`, the title column first.
    pub forms: Vec<(String, bool)>,
    /// The title takes an `of` phrase in lower case into the role ("head of operations").
    pub takes_of: bool,
    /// `file:line`, for messages.
    pub origin: String,
}

/// The titles gazetteer: the built-in file plus any user files.
///
/// ```
/// let titles = gleaner::roles::Titles::builtin().unwrap();
/// assert!(titles.entries.iter().any(|t| t.role == "prime minister"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Titles {
    pub entries: Vec<Title>,
}

impl Titles {
    /// The titles shipped inside the binary.
    pub fn builtin() -> Result<Titles> {
        Ok(Titles {
            entries: parse_titles("<built-in>/titles.tsv", BUILTIN_TITLES)?,
        })
    }

    /// Adds a user's titles file. A title whose surface form is already known replaces the
    /// earlier entry, so a user can correct a shipped one.
    pub fn add_file(mut self, path: &Path) -> Result<Titles> {
        let content = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let user = parse_titles(&path.display().to_string(), &content)?;
        let replaced: std::collections::HashSet<String> = user
            .iter()
            .flat_map(|t| t.forms.iter().map(|(f, _)| f.to_lowercase()))
            .collect();
        for t in &mut self.entries {
            t.forms
                .retain(|(f, _)| !replaced.contains(&f.to_lowercase()));
        }
        self.entries.retain(|t| !t.forms.is_empty());
        self.entries.extend(user);
        Ok(self)
    }
}

/// Parses a titles file; every bad line is reported, as `file:line: title: message`.
pub fn parse_titles(name: &str, content: &str) -> Result<Vec<Title>> {
    let mut out: Vec<Title> = Vec::new();
    let mut errors = Vec::new();
    let mut header = false;
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (i, line) in content.lines().enumerate() {
        let lineno = i as u64 + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        if !header {
            header = true;
            if cells != TITLES_HEADER {
                errors.push(Error::data(
                    Location::line(name, lineno),
                    format!(
                        "the header must be the tab-separated columns: {}",
                        TITLES_HEADER.join(" ")
                    ),
                ));
                break;
            }
            continue;
        }
        let id = cells.first().map(|c| c.trim()).unwrap_or("");
        let at = Location::line(name, lineno).with_id(if id.is_empty() { "?" } else { id });
        if cells.len() != TITLES_HEADER.len() {
            errors.push(Error::data(
                at,
                format!("{} cells, expected {}", cells.len(), TITLES_HEADER.len()),
            ));
            continue;
        }
        match parse_title(&cells) {
            Ok(mut t) => {
                let mut dup = None;
                for (f, _) in &t.forms {
                    if let Some(first) = seen.insert(f.to_lowercase(), lineno) {
                        dup = Some((f.clone(), first));
                    }
                }
                if let Some((f, first)) = dup {
                    errors.push(Error::data(
                        at,
                        format!("{f:?} is already a title (line {first})"),
                    ));
                    continue;
                }
                t.origin = format!("{name}:{lineno}");
                out.push(t);
            }
            Err(message) => errors.push(Error::data(at, message)),
        }
    }
    if !header && errors.is_empty() {
        errors.push(Error::data(Location::file(name), "no header line"));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Error::many(errors))
    }
}

fn parse_title(cells: &[&str]) -> std::result::Result<Title, String> {
    let [title, role, kind, aliases, flags] = cells else {
        unreachable!("checked by the caller");
    };
    let title = title.trim();
    if title.is_empty() {
        return Err("empty title".into());
    }
    let role = role.trim();
    if role.is_empty() {
        return Err("empty role".into());
    }
    let kind = TitleKind::parse(kind).ok_or_else(|| {
        format!("kind {kind:?} is not one of rank, government, military, militant, media, official")
    })?;
    let mut takes_of = false;
    for flag in flags.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        match flag {
            "of" => takes_of = true,
            other => return Err(format!("unknown flag {other:?} (known: of)")),
        }
    }
    let mut forms = vec![(title.to_string(), false)];
    for alias in crate::entity::gazetteer::parse_aliases(aliases, false)? {
        if !forms
            .iter()
            .any(|(f, _)| f.eq_ignore_ascii_case(&alias.text))
        {
            forms.push((alias.text, alias.case_sensitive));
        }
    }
    Ok(Title {
        role: role.to_string(),
        kind,
        forms,
        takes_of,
        origin: String::new(),
    })
}

/// Words before a title that make it another post: "deputy commander", "acting governor".
const PREFIXES: &[&str] = &["deputy", "vice", "assistant", "acting", "interim"];

/// Words before a title that say which level of government or what kind of place the post
/// is in: "county commissioner", "provincial home minister", "district police chief",
/// "village headman". They are part of the role, never an organisation, even when a
/// sentence starts with them ("Provincial home minister X said").
const LEVELS: &[&str] = &[
    "county",
    "district",
    "provincial",
    "regional",
    "state",
    "federal",
    "municipal",
    "city",
    "town",
    "village",
    "tribal",
    "presidential",
];

/// Words between a determiner and a title that say nothing about the post.
const MODIFIERS: &[&str] = &[
    "so-called",
    "self-styled",
    "self-proclaimed",
    "current",
    "former",
    "new",
    "top",
    "senior",
    "key",
    "then",
    "alleged",
    "purported",
    "veteran",
    "powerful",
    "local",
    "regional",
    "notorious",
    "overall",
    "military",
];

/// Capitalised function words: neither names nor organisations (see [`function_word`]).
const FUNCTION_WORDS: &[&str] = &[
    "The",
    "A",
    "An",
    "This",
    "That",
    "These",
    "Those",
    "He",
    "She",
    "It",
    "They",
    "We",
    "I",
    "His",
    "Her",
    "Its",
    "Their",
    "Our",
    "In",
    "On",
    "At",
    "For",
    "From",
    "To",
    "Of",
    "And",
    "But",
    "Or",
    "As",
    "By",
    "With",
    "After",
    "Before",
    "During",
    "When",
    "While",
    "Who",
    "Some",
    "Many",
    "All",
    "Several",
    "Two",
    "Three",
    "Former",
    "Meanwhile",
    "However",
    "Later",
    "Earlier",
    "Also",
    "Then",
    "Now",
    "Today",
    "Yesterday",
];

/// Whether `word` is a capitalised function word, day or month: neither a name nor an
/// organisation.
///
/// One hash lookup, after a test of the first byte (every one is capitalised ASCII): the
/// three lists compared one string after another took a tenth of the stage's own work.
fn function_word(word: &str) -> bool {
    static WORDS: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    word.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && WORDS
            .get_or_init(|| {
                FUNCTION_WORDS
                    .iter()
                    .chain(&crate::calendar::MONTHS)
                    .chain(&crate::calendar::WEEKDAYS)
                    .copied()
                    .collect()
            })
            .contains(word)
}

/// Whether `word` is in [`NOT_NAMES`] (all capitalised ASCII), as [`function_word`] asks.
fn not_name(word: &str) -> bool {
    static WORDS: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    word.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && WORDS
            .get_or_init(|| NOT_NAMES.iter().copied().collect())
            .contains(word)
}

/// Capitalised words of organisation names: they do not start or continue a person's name.
const NOT_NAMES: &[&str] = &[
    "Islamic",
    "State",
    "Army",
    "Forces",
    "Force",
    "Police",
    "Ministry",
    "Government",
    "Command",
    "Council",
    "Province",
    "Group",
    "Military",
    "Security",
    "Department",
    "Directorate",
    "University",
    "News",
    "Agency",
    "Office",
    "Division",
    "Brigade",
    "Battalion",
    "Regiment",
    "Corps",
    "Unit",
    "Operation",
    "Operations",
    "Front",
    "Movement",
    "Party",
    "Committee",
    "Service",
    "Services",
    "National",
    "Federal",
    "Republic",
    "Kingdom",
    "United",
    "Nations",
    "Union",
    "Coalition",
    "US",
    "U.S.",
    "UN",
    "EU",
    "Reuters",
    "AFP",
    "AP",
    "BBC",
];

/// Honorifics that come before a name and are not part of it.
const HONORIFICS: &[&str] = &[
    "Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Dr", "Dr.", "Sheikh",
];

/// Lower-case particles inside names ("Abd al Rahman", "Ibn Saud", "van der Berg").
const PARTICLES: &[&str] = &[
    "al", "el", "bin", "ibn", "bint", "de", "da", "del", "dos", "van", "von", "der", "du", "le",
    "la", "ul", "ud",
];

/// Words after a place name that say what kind of area it is: "the governor of Borno
/// state, X".
const DESIGNATORS: &[&str] = &[
    " state",
    " province",
    " region",
    " district",
    " county",
    " department",
    " territory",
    " governorate",
    " municipality",
    " prefecture",
];

/// Common nouns for the group a title is held in, after "for" or "of" (and "the"): "a
/// spokesman for the rebels, X", "the leader of the militia, X".
const GROUP_NOUNS: &[&str] = &[
    "rebels",
    "rebel",
    "group",
    "militia",
    "militias",
    "insurgents",
    "militants",
    "jihadists",
    "fighters",
    "gang",
    "gangs",
    "cartel",
    "army",
    "military",
    "police",
    "government",
    "ministry",
    "movement",
    "coalition",
    "alliance",
    "faction",
    "separatists",
    "junta",
    "talks",
    "negotiations",
    "delegation",
    "mission",
    "commission",
    "committee",
    "council",
    "team",
    "agency",
    "unit",
    "force",
    "battalion",
    "brigade",
    "community",
    "opposition",
    "party",
    "union",
    "cooperative",
    "church",
];

/// "group's leader": the organisation is the armed group last named before.
const GROUP_WORDS: &[&str] = &[
    "group's",
    "group’s",
    "organisation's",
    "organisation’s",
    "organization's",
    "organization’s",
    "movement's",
    "movement’s",
    "militia's",
    "militia’s",
];

/// Finds titles and the persons who hold them.
pub struct RoleStage {
    titles: Arc<[Title]>,
    /// Form index -> (title index, index in the title's forms, case-sensitive or not).
    patterns: Arc<[(usize, usize, bool)]>,
    scan: Arc<TitleScan>,
}

/// Where the titles are: the matches that an Aho-Corasick automaton of every surface form
/// (leftmost-longest, ASCII case ignored) would report and that can count, found without
/// reading every byte through an automaton (its scan took 16 instructions a byte, 60% of
/// the stage).
///
/// A title counts only if no word character comes before it, and every built-in form
/// begins with an ASCII letter or digit (a "word byte", [`word_byte`]). So only matches at
/// the start of a run of word bytes ("run start") can count. Of those, a match of word
/// bytes only that ends inside its run ("gen" in "gender") cannot count either (a word
/// character follows it) and hides no run start, so every match worth reporting begins
/// with a whole run that is also a form's first word (its bytes up to the first non-word
/// byte: "lt" for "Lt. Gen."). The scan finds the run starts and their lengths eight bytes
/// at a time, looks the run up in a hashed bit table of the forms' first words (one
/// load; 4% of the runs of news text pass), and asks a byte trie only there.
///
/// What must stay exact is which run-start matches the automaton reports: a match is
/// reported unless an earlier reported match overlaps its start, and that earlier match
/// may start inside a word and run over its end ("xcolLt. Gen. Ali": the automaton
/// reports "Lt. Gen." from inside the word, and never sees "Gen."). The scan keeps the end
/// of the last reported match; a match at a run start is checked for such a cover only
/// when the two bytes around its start occur in some form as a non-word byte then a word
/// byte, and then only if a run ending shortly before could begin such a form (a table of
/// the forms' last word byte before their first non-word byte and the two bytes after).
/// In that rare case the automaton's leftmost-longest walk is replayed with the trie from
/// a position no match can straddle. Forms that begin with another byte make the scan ask
/// the trie at every position, which is the automaton's answer by definition. The
/// randomised tests below hold the scan to the automaton.
#[derive(Clone, Debug)]
struct TitleScan {
    /// The trie of the forms, ASCII letters in lower case; node 0 is the root.
    nodes: Vec<TrieNode>,
    /// Every node's children, `(byte, node)` sorted by byte, in one array.
    edges: Vec<(u8, u32)>,
    /// The root's child for each byte, read as lower case; 0 for none.
    root: Box<[u32; 256]>,
    /// The forms' first words (their bytes up to the first that is not a word byte), as
    /// bits of [`first_key`].
    firsts: Box<[u64; 256]>,
    /// For forms that have a word byte after a non-word byte ("lt. gen."): their last
    /// word byte before the first non-word byte, and the two bytes after it, as bits of
    /// [`key3`].
    crossings: Box<[u64; 512]>,
    /// The pairs of bytes (lower case) where such a form goes from a non-word byte to a
    /// word byte: a match covering a run start contains one.
    joints: Box<[u64; 1024]>,
    /// Every pair of consecutive bytes (lower case) in a form: no match straddles the
    /// others.
    pairs: Box<[u64; 1024]>,
    /// Some form begins with a byte other than a word byte: every position is asked.
    anywhere: bool,
    /// Some form has a word byte after a non-word byte.
    crossers: bool,
    /// The longest form, in bytes.
    max_len: usize,
}

#[derive(Clone, Copy, Debug)]
struct TrieNode {
    /// The form ending here, plus one; 0 for none.
    value: u32,
    /// Its children: `edges[first..first + len]`.
    first: u32,
    len: u32,
}

/// An ASCII letter or digit: the scan's "word byte". Any set of bytes would do that holds
/// every form's first byte and only bytes that [`is_word_char`] (so a match right after one
/// is turned down); this one is the cheapest to test eight at a time.
#[inline(always)]
fn word_byte(b: u8) -> bool {
    crate::entity::normalize::ascii_word(b)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// A run of word bytes hashed to 14 bits, from its first eight bytes (`x`, the first in the
/// low bits, any bytes past the run) and its length (`len`, 8 for eight or more), ASCII case
/// ignored.
#[inline(always)]
fn first_key(x: u64, len: u32) -> usize {
    let y = (x | (ONES * 0x20)) & (u64::MAX >> (64 - 8 * len));
    ((y ^ u64::from(len)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 50) as usize
}

/// Three bytes as a 15-bit key, five bits each, the same for either ASCII case.
#[inline(always)]
fn key3(a: u8, b: u8, c: u8) -> usize {
    (usize::from(a & 31) << 10) | (usize::from(b & 31) << 5) | usize::from(c & 31)
}

/// Two bytes, lower case, as a 16-bit key.
#[inline(always)]
fn key2(a: u8, b: u8) -> usize {
    (usize::from(a.to_ascii_lowercase()) << 8) | usize::from(b.to_ascii_lowercase())
}

#[inline(always)]
fn bit(set: &[u64], key: usize) -> bool {
    set[key >> 6] >> (key & 63) & 1 != 0
}

fn set_bit(set: &mut [u64], key: usize) {
    set[key >> 6] |= 1 << (key & 63);
}

/// The high bit of each byte of `v` that is a word byte ([`word_byte`]): ranges compared
/// on the seven low bits (no carry crosses a byte), bytes with the high bit set excluded.
#[inline(always)]
fn word_bytes(v: u64) -> u64 {
    let x = v & !HIGHS;
    let y = x | (ONES * 0x20);
    let letters = (y + ONES * (0x80 - 0x61)) & !(y + ONES * (0x7F - 0x7A));
    let digits = (x + ONES * (0x80 - 0x30)) & !(x + ONES * (0x7F - 0x39));
    (letters | digits) & !v & HIGHS
}

impl TitleScan {
    /// The scan of `forms`; form `i` is reported as `i`. Of forms equal but for ASCII case,
    /// the first is reported, as by the automaton.
    fn new(forms: &[String]) -> TitleScan {
        let mut keys: Vec<(Vec<u8>, u32)> = forms
            .iter()
            .enumerate()
            .map(|(i, f)| (f.to_ascii_lowercase().into_bytes(), i as u32))
            .collect();
        keys.sort();
        keys.dedup_by(|later, first| later.0 == first.0);
        // The trie, breadth-first so that each node's children are consecutive: node `v`
        // holds the keys `ranges[v]`, which share their first `depth` bytes.
        let mut nodes = vec![TrieNode {
            value: 0,
            first: 0,
            len: 0,
        }];
        let mut edges: Vec<(u8, u32)> = Vec::new();
        let mut ranges = vec![(0, keys.len(), 0)];
        let mut v = 0;
        while v < nodes.len() {
            let (mut lo, hi, depth) = ranges[v];
            if lo < hi && keys[lo].0.len() == depth {
                nodes[v].value = keys[lo].1 + 1;
                lo += 1;
            }
            nodes[v].first = edges.len() as u32;
            while lo < hi {
                let b = keys[lo].0[depth];
                let mut end = lo + 1;
                while end < hi && keys[end].0[depth] == b {
                    end += 1;
                }
                edges.push((b, nodes.len() as u32));
                nodes.push(TrieNode {
                    value: 0,
                    first: 0,
                    len: 0,
                });
                ranges.push((lo, end, depth + 1));
                lo = end;
            }
            nodes[v].len = edges.len() as u32 - nodes[v].first;
            v += 1;
        }
        let mut root = Box::new([0u32; 256]);
        for &(b, child) in &edges[..nodes[0].len as usize] {
            root[usize::from(b)] = child;
            root[usize::from(b.to_ascii_uppercase())] = child;
        }
        let mut scan = TitleScan {
            nodes,
            edges,
            root,
            firsts: Box::new([0; 256]),
            crossings: Box::new([0; 512]),
            joints: Box::new([0; 1024]),
            pairs: Box::new([0; 1024]),
            anywhere: false,
            crossers: false,
            max_len: 0,
        };
        for (key, _) in &keys {
            let k = key.as_slice();
            scan.max_len = scan.max_len.max(k.len());
            if k.first().is_some_and(|&b| !word_byte(b)) {
                scan.anywhere = true;
            }
            // A match that counts (see `scan`) starts a run equal to the first word.
            let first = k.iter().take_while(|&&b| word_byte(b)).count();
            let mut x = [0u8; 8];
            let len = first.min(8);
            x[..len].copy_from_slice(&k[..len]);
            if len > 0 {
                set_bit(
                    &mut scan.firsts[..],
                    first_key(u64::from_le_bytes(x), len as u32),
                );
            }
            for w in k.windows(2) {
                set_bit(&mut scan.pairs[..], key2(w[0], w[1]));
            }
            let Some(first_gap) = k.iter().position(|&b| !word_byte(b)) else {
                continue;
            };
            if first_gap == 0 || !k[first_gap..].iter().any(|&b| word_byte(b)) {
                continue;
            }
            scan.crossers = true;
            set_bit(
                &mut scan.crossings[..],
                key3(k[first_gap - 1], k[first_gap], k[first_gap + 1]),
            );
            for w in k.windows(2) {
                if !word_byte(w[0]) && word_byte(w[1]) {
                    set_bit(&mut scan.joints[..], key2(w[0], w[1]));
                }
            }
        }
        scan
    }

    /// The longest form that `text[at..]` begins with, as `(end, form)`.
    #[inline]
    fn longest(&self, text: &[u8], at: usize) -> Option<(usize, u32)> {
        let mut v = *self.root.get(usize::from(*text.get(at)?))? as usize;
        if v == 0 {
            return None;
        }
        let mut i = at + 1;
        let mut best = None;
        loop {
            let node = self.nodes[v];
            if node.value != 0 {
                best = Some((i, node.value - 1));
            }
            let Some(&b) = text.get(i) else {
                return best;
            };
            let b = b.to_ascii_lowercase();
            let kids = &self.edges[node.first as usize..(node.first + node.len) as usize];
            match kids.iter().find(|e| e.0 == b) {
                Some(e) => v = e.1 as usize,
                None => return best,
            }
            i += 1;
        }
    }

    /// Calls `found(start, end, form)` for each match the automaton would report at a run
    /// start, except those of word bytes only that end inside their run (with
    /// [`TitleScan::anywhere`], for every match it would report), in order.
    fn scan(&self, text: &[u8], mut found: impl FnMut(usize, usize, u32)) {
        if self.anywhere {
            let mut i = 0;
            while i < text.len() {
                match self.longest(text, i) {
                    Some((end, form)) => {
                        found(i, end, form);
                        i = end;
                    }
                    None => i += 1,
                }
            }
            return;
        }
        // The end of the last reported match: the automaton goes on from there.
        let mut cover = 0;
        // Eight bytes at `at`, zero past the end (not a word byte).
        let load = |at: usize| match text.get(at..at + 8) {
            Some(b) => u64::from_le_bytes(b.try_into().expect("eight bytes")),
            None => {
                let mut b = [0u8; 8];
                let rest = text.get(at..).unwrap_or_default();
                b[..rest.len()].copy_from_slice(rest);
                u64::from_le_bytes(b)
            }
        };
        // The chunk of eight bytes at `chunk` and its word bytes, and those of the next
        // one, which the runs starting near the chunk's end continue into.
        let mut v = load(0);
        let mut words = word_bytes(v);
        let mut carry = 0;
        let mut chunk = 0;
        while chunk < text.len() {
            let v_next = load(chunk + 8);
            let words_next = word_bytes(v_next);
            // A word byte whose byte before is not one.
            let mut starts = words & !((words << 8) | carry);
            carry = words >> 56;
            let bytes = u128::from(v) | u128::from(v_next) << 64;
            let others = u128::from(!words & HIGHS) | u128::from(!words_next & HIGHS) << 64;
            while starts != 0 {
                let k = starts.trailing_zeros() & !7;
                starts &= starts - 1;
                // The run's first eight bytes and its length (8 for eight or more).
                let run = (others >> k) as u64;
                let len = run.trailing_zeros() / 8;
                if !bit(&self.firsts[..], first_key((bytes >> k) as u64, len)) {
                    continue;
                }
                let p = chunk + k as usize / 8;
                if p < cover {
                    continue;
                }
                let Some((end, form)) = self.longest(text, p) else {
                    continue;
                };
                if p != cover && self.maybe_covered(text, p, cover) {
                    if let Some(end) = self.replay(text, self.sync_before(text, p, cover), p) {
                        cover = end;
                        continue;
                    }
                }
                found(p, end, form);
                cover = end;
            }
            v = v_next;
            words = words_next;
            chunk += 8;
        }
    }

    /// Whether a match starting inside a word between `cover` and the run start `p` might
    /// cover `p`: it would contain the bytes around `p`, and begin with a form's first run
    /// of word bytes ending a run.
    fn maybe_covered(&self, text: &[u8], p: usize, cover: usize) -> bool {
        if !self.crossers || !bit(&self.joints[..], key2(text[p - 1], text[p])) {
            return false;
        }
        // The match starts at `cover` or after, and less than `max_len` before `p`; its
        // first non-word byte comes after its first byte.
        let lo = cover.max((p + 1).saturating_sub(self.max_len)) + 1;
        (lo..p).any(|q| {
            word_byte(text[q - 1])
                && !word_byte(text[q])
                && bit(&self.crossings[..], key3(text[q - 1], text[q], text[q + 1]))
        })
    }

    /// The last position at or before `p`, and not before `cover`, that no match can
    /// straddle (its bytes on both sides are in no form side by side), or `cover`.
    fn sync_before(&self, text: &[u8], p: usize, cover: usize) -> usize {
        (cover + 1..=p)
            .rev()
            .find(|&q| !bit(&self.pairs[..], key2(text[q - 1], text[q])))
            .unwrap_or(cover)
    }

    /// The automaton's walk from `from`, a position no reported match straddles, to the
    /// run start `p`: the end of the reported match that covers `p`, if one does.
    fn replay(&self, text: &[u8], from: usize, p: usize) -> Option<usize> {
        let mut i = from;
        while i < p {
            match self.longest(text, i) {
                Some((end, _)) if end > p => return Some(end),
                Some((end, _)) => i = end,
                None => i += 1,
            }
        }
        None
    }
}

impl RoleStage {
    /// A stage with the built-in titles.
    pub fn new() -> Result<RoleStage> {
        RoleStage::with_titles(&Titles::builtin()?)
    }

    /// A stage with the given titles.
    pub fn with_titles(titles: &Titles) -> Result<RoleStage> {
        let mut pats = Vec::new();
        let mut targets = Vec::new();
        for (i, t) in titles.entries.iter().enumerate() {
            for (j, (form, cs)) in t.forms.iter().enumerate() {
                if form.is_empty() {
                    return Err(Error::data(
                        Location::file("titles"),
                        format!("{}: {:?} has an empty surface form", t.origin, t.role),
                    ));
                }
                pats.push(form.clone());
                targets.push((i, j, *cs));
            }
        }
        Ok(RoleStage {
            titles: titles.entries.clone().into(),
            patterns: targets.into(),
            scan: Arc::new(TitleScan::new(&pats)),
        })
    }
}

/// One title found in the text.
#[derive(Clone, Copy, Debug)]
struct Hit {
    span: Span,
    title: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn char_before(text: &str, pos: usize) -> Option<char> {
    text[..pos].chars().next_back()
}

fn char_after(text: &str, pos: usize) -> Option<char> {
    text[pos..].chars().next()
}

/// The word (a run of non-space characters) ending at or before `pos`, skipping spaces but
/// not line breaks.
fn word_before(text: &str, pos: usize) -> Option<Span> {
    let head = &text[..pos];
    let trimmed = head.trim_end_matches([' ', '\t']);
    if trimmed.is_empty() || trimmed.ends_with(['\n', '\r']) {
        return None;
    }
    let end = trimmed.len();
    let start = trimmed
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    Some(Span::new(start, end))
}

/// The word starting at or after `pos`, skipping spaces but not line breaks.
fn word_after(text: &str, pos: usize) -> Option<Span> {
    let tail = &text[pos..];
    let skip = tail.len() - tail.trim_start_matches([' ', '\t']).len();
    let start = pos + skip;
    let rest = &text[start..];
    if rest.is_empty() || rest.starts_with(['\n', '\r']) {
        return None;
    }
    let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
    Some(Span::new(start, start + len))
}

/// Whether a line reads like a headline in title case, where every word is capitalised and
/// capitals say nothing about names.
fn is_title_case_line(line: &str) -> bool {
    if line.trim_end().ends_with(['.', '"', '”']) {
        return false;
    }
    // The words of four letters or more, and how many of them are capitalised (counted in
    // one pass, without collecting the words).
    let (mut words, mut capitalised) = (0usize, 0usize);
    for w in line.split_whitespace() {
        if w.chars().filter(|c| c.is_alphabetic()).count() >= 4 {
            words += 1;
            capitalised += usize::from(w.chars().next().is_some_and(char::is_uppercase));
        }
    }
    words >= 4 && capitalised * 10 >= words * 7
}

/// The line `pos` is on: from after the last line break before it to the next at or after
/// it (or the text's end). For any `pos` in that span, it is the same line.
fn line_at(text: &[u8], pos: usize) -> Span {
    let start = memchr::memrchr(b'\n', &text[..pos]).map_or(0, |i| i + 1);
    let end = crate::events::next_of(text, pos, b"\n").unwrap_or(text.len());
    Span::new(start, end)
}

/// How a word can take part in a name.
#[derive(PartialEq)]
enum NamePart {
    /// A capitalised word, or a particle joined by a hyphen ("al-Sudani").
    Word,
    /// A lower-case particle standing alone ("bin", "van").
    Particle,
    No,
}

fn name_part(word: &str) -> NamePart {
    if not_name(word) || function_word(word) || word.chars().any(|c| c.is_ascii_digit()) {
        return NamePart::No;
    }
    let first = word.chars().next();
    if first.is_some_and(char::is_uppercase) {
        // "IS", "US": acronyms are organisations, not names.
        let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
        if letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase()) {
            return NamePart::No;
        }
        return NamePart::Word;
    }
    if let Some((head, rest)) = word.split_once('-') {
        if PARTICLES.contains(&head) && rest.chars().next().is_some_and(char::is_alphabetic) {
            return NamePart::Word;
        }
    }
    if PARTICLES.contains(&word) {
        return NamePart::Particle;
    }
    NamePart::No
}

/// Strips trailing punctuation and a possessive from a word; says whether the name must
/// end after it.
fn clean_word(word: &str) -> (&str, bool) {
    let mut w = word;
    let mut stop = false;
    for suffix in ["'s", "’s"] {
        if let Some(s) = w.strip_suffix(suffix) {
            w = s;
            stop = true;
        }
    }
    let trimmed = w.trim_end_matches([',', '.', ';', ':', '!', '?', ')', '"', '”', '’', '\'']);
    // An initial keeps its full stop ("George W. Bush").
    let initial = w.len() == 2 && w.ends_with('.') && w.starts_with(|c: char| c.is_uppercase());
    if initial {
        return (w, false);
    }
    if trimmed.len() != w.len() {
        stop = true;
    }
    (trimmed, stop)
}

/// A person found next to a title.
struct Person {
    span: Span,
    name: String,
    id: String,
}

/// The entities of a document sorted by start (longest first), indexed by start and by end:
/// the stage looks up the entity at an offset for every title, and a scan of all
/// entities each time made a long document quadratic.
struct Entities<'a> {
    sorted: Vec<&'a Entity>,
    /// Indexes into `sorted`, by end offset, then by their order in `sorted`.
    by_end: Vec<usize>,
    /// Indexes into `sorted` of the armed groups.
    armed: Vec<usize>,
}

impl<'a> Entities<'a> {
    fn new(entities: &'a [Entity]) -> Entities<'a> {
        let mut sorted: Vec<&Entity> = entities.iter().collect();
        let key = |e: &&Entity| (e.span.start, std::cmp::Reverse(e.span.end));
        // The entity stage usually leaves them in this order: a check costs less than the
        // sort's scratch buffer and passes (the sort is stable, so skipping it is exact).
        if !sorted.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
            sorted.sort_by_key(key);
        }
        let mut by_end: Vec<usize> = (0..sorted.len()).collect();
        // (Nearly always in order already: entities sorted by start seldom nest. The keys are
        // distinct, so a sorted list is the sort's result.)
        let end_key = |&i: &usize| (sorted[i].span.end, i);
        if !by_end.windows(2).all(|w| end_key(&w[0]) < end_key(&w[1])) {
            by_end.sort_by_key(end_key);
        }
        let armed = (0..sorted.len())
            .filter(|&i| sorted[i].etype == EntityType::Org && sorted[i].kind == "armed_group")
            .collect();
        Entities {
            sorted,
            by_end,
            armed,
        }
    }

    /// The entities starting at `pos`, in sorted order.
    fn starting_at(&self, pos: usize) -> impl Iterator<Item = &'a Entity> + '_ {
        crate::events::starting_in(&self.sorted, Span::new(pos, pos), |e| e.span.start)
            .iter()
            .copied()
    }

    /// The entities ending at `pos`, in sorted order.
    fn ending_at(&self, pos: usize) -> impl Iterator<Item = &'a Entity> + '_ {
        let lo = self
            .by_end
            .partition_point(|&i| self.sorted[i].span.end < pos);
        let hi = self
            .by_end
            .partition_point(|&i| self.sorted[i].span.end <= pos);
        self.by_end[lo..hi].iter().map(|&i| self.sorted[i])
    }

    /// The armed group last in sorted order that ends by `pos` and starts at `from` or
    /// after: going back from `pos`, the search stops at the first group starting
    /// before `from`.
    fn armed_group_before(&self, pos: usize, from: usize) -> Option<&'a Entity> {
        let hi = self
            .armed
            .partition_point(|&i| self.sorted[i].span.start <= pos);
        self.armed[..hi]
            .iter()
            .rev()
            .map(|&i| self.sorted[i])
            .take_while(|e| e.span.start >= from)
            .find(|e| e.span.end <= pos)
    }
}

fn person_entity<'a>(entities: impl Iterator<Item = &'a Entity>) -> Option<&'a Entity> {
    entities.into_iter().find(|e| e.etype == EntityType::Person)
}

/// Accepts a run of name words as a person: two words or more, capitalised ends.
fn finish_name(text: &str, words: &[Span]) -> Option<Person> {
    let mut words = words.to_vec();
    while words
        .last()
        .is_some_and(|w| name_part(clean_word(&text[w.start..w.end]).0) == NamePart::Particle)
    {
        words.pop();
    }
    while words
        .first()
        .is_some_and(|w| name_part(&text[w.start..w.end]) == NamePart::Particle)
    {
        words.remove(0);
    }
    if words.len() < 2 {
        return None;
    }
    let start = words[0].start;
    let last = words[words.len() - 1];
    let (w, _) = clean_word(&text[last.start..last.end]);
    let end = last.start + w.len();
    let name = text[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Some(Person {
        span: Span::new(start, end),
        name,
        id: String::new(),
    })
}

/// The name starting at `pos` (after spaces).
fn name_forward(text: &str, pos: usize, entities: &Entities) -> Option<Person> {
    let mut at = pos;
    let first = word_after(text, at)?;
    if let Some(e) = person_entity(entities.starting_at(first.start)) {
        return Some(Person {
            span: e.span,
            name: e.text.clone(),
            id: e.entity_id.to_string(),
        });
    }
    if HONORIFICS.contains(&&text[first.start..first.end]) {
        at = first.end;
    }
    let mut words = Vec::new();
    while let Some(w) = word_after(text, at) {
        let (clean, stop) = clean_word(&text[w.start..w.end]);
        if clean.is_empty() || name_part(clean) == NamePart::No {
            break;
        }
        words.push(w);
        at = w.end;
        if stop || words.len() >= 7 {
            break;
        }
    }
    finish_name(text, &words)
}

/// The name ending at `end` (a comma follows it).
fn name_backward(text: &str, end: usize, entities: &Entities) -> Option<Person> {
    if let Some(e) = person_entity(entities.ending_at(end)) {
        return Some(Person {
            span: e.span,
            name: e.text.clone(),
            id: e.entity_id.to_string(),
        });
    }
    let mut words = Vec::new();
    let mut at = end;
    while let Some(w) = word_before(text, at) {
        let word = &text[w.start..w.end];
        if !words.is_empty() && word.ends_with([',', '.', ';', ':', '(', ')', '"', '“', '”']) {
            break;
        }
        if name_part(word) == NamePart::No {
            break;
        }
        words.insert(0, w);
        at = w.start;
        if words.len() >= 7 {
            break;
        }
    }
    if words
        .first()
        .is_some_and(|w| HONORIFICS.contains(&&text[w.start..w.end]))
    {
        words.remove(0);
    }
    finish_name(text, &words)
}

/// An organisation or place next to a title.
#[derive(Default)]
struct Holder {
    org: String,
    place: String,
    span: Option<Span>,
}

fn starts_upper(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}

const DIRECTIONS: &[&str] = &[
    "northern",
    "southern",
    "eastern",
    "western",
    "central",
    "north-eastern",
    "north-western",
    "south-eastern",
    "south-western",
    "northeastern",
    "northwestern",
    "southeastern",
    "southwestern",
];

impl Stage for RoleStage {
    fn name(&self) -> &str {
        "roles"
    }

    fn run(&self, doc: &Document, facts: &mut Facts) {
        let text = doc.text.as_str();
        // The entities' indexes (two sorts) are made only for documents with titles.
        let hits = self.hits(text);
        if hits.is_empty() {
            return;
        }
        let entities = Entities::new(&facts.entities);
        let bytes = text.as_bytes();
        let mut seen: HashSet<(String, String)> = HashSet::new();
        let mut title_case_line: (Option<Span>, bool) = (None, false);
        // (In order of their start, each after the one before: the chains starting at an
        // offset are found by binary search, not through a map built for every document.)
        let chains = chains(text, &hits);
        let mut roles: Vec<Role> = Vec::new();
        // Government posts named with their country once ("the Prime Minister of Iraq")
        // keep it for the other mentions in the document.
        let mut post_orgs: HashMap<String, String> = HashMap::new();
        let mut pending: Vec<usize> = Vec::new();
        for chain in &chains {
            let first = chain[0];
            let last = chain[chain.len() - 1];
            // Once per line: a long line read again for each title was quadratic. The line
            // is searched for around the title (the next one is often on the same line)
            // rather than found among all the document's line breaks, which took a pass
            // over every document with a title.
            let pos = first.span.start;
            let line = match title_case_line.0 {
                Some(l) if l.start <= pos && pos <= l.end => l,
                _ => line_at(bytes, pos),
            };
            if title_case_line.0 != Some(line) {
                title_case_line = (Some(line), is_title_case_line(&text[line.start..line.end]));
            }
            if title_case_line.1 {
                continue;
            }
            let mut left = first.span.start;
            let mut posts: Vec<(String, TitleKind)> = Vec::new();
            let mut ranks: Vec<String> = Vec::new();
            for h in chain {
                let t = &self.titles[h.title];
                if t.kind == TitleKind::Rank {
                    ranks.push(t.role.clone());
                } else {
                    posts.push((t.role.clone(), t.kind));
                }
            }
            if let Some(w) = word_before(text, left) {
                // (An ASCII word, as nearly all are, lower-cased on the stack: every chain
                // asks, and few words before a title are prefixes.)
                let mut buf = [0u8; 16];
                let raw = &text[w.start..w.end];
                let word: std::borrow::Cow<str> = if raw.is_ascii() && raw.len() <= buf.len() {
                    let b = &mut buf[..raw.len()];
                    b.copy_from_slice(raw.as_bytes());
                    b.make_ascii_lowercase();
                    std::str::from_utf8(b).expect("ASCII").into()
                } else {
                    raw.to_lowercase().into()
                };
                // A level ("county", "Provincial") only when no entity ends there ("Duk
                // County commissioner" is the county's), and in lower case but at the
                // start of a sentence ("Federal Police chief" names a force).
                let level = || {
                    LEVELS.contains(&&*word)
                        && entities.ending_at(w.end).next().is_none()
                        && (raw.starts_with(|c: char| c.is_lowercase())
                            || word_before(text, w.start).map_or(true, |p| {
                                text[p.start..p.end].ends_with(['.', '!', '?', '"', '”'])
                            }))
                };
                if PREFIXES.contains(&&*word) || level() {
                    if let Some(p) = posts.first_mut() {
                        if !p.0.starts_with(&*word) {
                            p.0 = format!("{word} {}", p.0);
                        }
                    }
                    left = w.start;
                }
            }
            // "head of military operations"
            let mut right = last.span.end;
            if self.titles[last.title].takes_of {
                if let Some((role_end, words)) = of_complement(text, right) {
                    if let Some(p) = posts.last_mut() {
                        p.0 = format!("{} of {}", p.0, words);
                    }
                    right = role_end;
                }
            }
            let main_kind = posts.last().map(|p| p.1).unwrap_or(TitleKind::Rank);
            let mut holder = Holder::default();
            // Before the title: "Pentagon spokesman", "the IS deputy commander".
            let mut anchor = left;
            if let Some((h, start)) = left_holder(text, left, &entities) {
                holder = h;
                anchor = start;
            }
            if holder.org.is_empty() {
                if let Some(w) = word_before(text, anchor) {
                    if GROUP_WORDS.contains(&&text[w.start..w.end]) {
                        if let Some(e) = entities.armed_group_before(w.start, 0) {
                            holder.org = e.canonical.to_string();
                        }
                        anchor = w.start;
                    }
                }
            }
            anchor = skip_modifiers(text, anchor, &entities);
            // After the title: "of Iraq", "for IS", "of the Somalia Province".
            let mut after = right;
            for _ in 0..2 {
                match right_holder(text, after, &entities) {
                    Some((h, end)) => {
                        if holder.org.is_empty() && !h.org.is_empty() {
                            holder.org = h.org;
                        }
                        if holder.place.is_empty() && !h.place.is_empty() {
                            holder.place = h.place;
                        }
                        after = end;
                    }
                    None => break,
                }
            }
            if holder.org.is_empty() && main_kind == TitleKind::Government {
                holder.org = holder.place.clone();
            }
            if holder.org.is_empty() && main_kind == TitleKind::Militant {
                // The armed group named last before, in the same paragraph: after the
                // last paragraph break ("\n\n") before the title.
                let para = memchr::memmem::rfind(&bytes[..first.span.start], b"\n\n").unwrap_or(0);
                if let Some(e) = entities.armed_group_before(first.span.start, para) {
                    holder.org = e.canonical.to_string();
                }
            }
            if main_kind == TitleKind::Government && !holder.org.is_empty() {
                for (role, _) in &posts {
                    post_orgs
                        .entry(role.clone())
                        .or_insert_with(|| holder.org.clone());
                }
            }
            // The person: after the title, or before it in apposition.
            let mut person = None;
            let mut rule = "roles:title-name";
            if let Some((pos, how)) = name_slot(text, last.span.end) {
                person = name_forward(text, pos, &entities);
                if how {
                    rule = "roles:title-named";
                }
            }
            // In a list ("X, head of A, Y, head of B") the name before the title is the
            // holder, so the apposition comes before a name after the title's phrase.
            if person.is_none() {
                if let Some(comma) = apposition_comma(text, anchor) {
                    person = name_backward(text, comma, &entities);
                    rule = "roles:name-apposition";
                }
            }
            if person.is_none() && after > right {
                // "the governor of Borno state, X", "the commander of the 7th Division,
                // Brig. Gen. X": a designator and a rank may come between.
                let mut at = after;
                for designator in DESIGNATORS {
                    if text[at..].starts_with(designator) {
                        at += designator.len();
                    }
                }
                if let Some(rest) = text[at..].strip_prefix(", ") {
                    let mut pos = at + 2;
                    if rest.starts_with("known as ") {
                        pos += 9;
                    }
                    let from = chains.partition_point(|c| c[0].span.start < pos);
                    let rank = chains[from..]
                        .iter()
                        .take_while(|c| c[0].span.start == pos)
                        .find(|c| {
                            c.iter()
                                .all(|h| self.titles[h.title].kind == TitleKind::Rank)
                        });
                    if let Some(rank) = rank {
                        pos = rank[rank.len() - 1].span.end;
                    }
                    person = name_forward(text, pos, &entities);
                    rule = "roles:title-of-name";
                }
            }
            let Some(person) = person else {
                continue;
            };
            let start = person.span.start.min(anchor).min(left);
            let end = person.span.end.max(after);
            for role in posts
                .iter()
                .map(|p| p.0.clone())
                .chain(ranks.iter().cloned())
            {
                if !seen.insert((person.name.clone(), role.clone())) {
                    continue;
                }
                if holder.org.is_empty() && main_kind == TitleKind::Government {
                    pending.push(roles.len());
                }
                roles.push(Role {
                    person: person.name.clone(),
                    person_id: person.id.clone(),
                    role,
                    organization: holder.org.clone(),
                    place: holder.place.clone(),
                    span: Span::new(start, end),
                    rule: rule.to_string(),
                });
            }
        }
        for i in pending {
            if let Some(org) = post_orgs.get(&roles[i].role) {
                roles[i].organization = org.clone();
            }
        }
        facts.roles.extend(roles);
    }
}

impl RoleStage {
    /// Every title in `text`, on word boundaries and with the case rules of its entry.
    fn hits(&self, text: &str) -> Vec<Hit> {
        let mut out = Vec::new();
        self.scan.scan(text.as_bytes(), |start, end, form| {
            let (title, j, cs) = self.patterns[form as usize];
            let t = &self.titles[title];
            let surface = &text[start..end];
            if cs && t.forms[j].0 != surface {
                return;
            }
            if t.kind == TitleKind::Rank && !starts_upper(surface) {
                return;
            }
            let before_ok = !matches!(char_before(text, start), Some(c) if is_word_char(c));
            let after_ok = surface.ends_with('.')
                || !matches!(char_after(text, end), Some(c) if is_word_char(c) || c == '-');
            if before_ok && after_ok {
                out.push(Hit {
                    span: Span::new(start, end),
                    title,
                });
            }
        });
        out
    }
}

/// Groups titles separated only by spaces: "spokesman Major General", "chief Gen.".
fn chains(text: &str, hits: &[Hit]) -> Vec<Vec<Hit>> {
    let mut out: Vec<Vec<Hit>> = Vec::new();
    for h in hits {
        if let Some(last) = out.last_mut().and_then(|c| c.last().copied()) {
            let gap = &text[last.span.end..h.span.start];
            if !gap.is_empty() && gap.chars().all(|c| c == ' ') {
                out.last_mut().expect("a chain").push(*h);
                continue;
            }
        }
        out.push(vec![*h]);
    }
    out
}

/// Lower-case words after "of" that belong to the title: "head of military operations".
fn of_complement(text: &str, pos: usize) -> Option<(usize, String)> {
    let rest = text[pos..].strip_prefix(" of ")?;
    let mut words = Vec::new();
    for w in rest.split(' ') {
        let (clean, stop) = clean_word(w);
        let stop_word = matches!(
            clean,
            "in" | "for"
                | "at"
                | "with"
                | "and"
                | "of"
                | "on"
                | "the"
                | "a"
                | "an"
                | "who"
                | "which"
                | "from"
                | "to"
        );
        if clean.is_empty() || stop_word || !clean.chars().all(|c| c.is_lowercase() || c == '-') {
            break;
        }
        words.push(clean);
        if stop || words.len() >= 4 {
            break;
        }
    }
    if words.is_empty() {
        return None;
    }
    let joined = words.join(" ");
    Some((pos + 4 + joined.len(), joined))
}

/// Where the person's name starts after a title: directly ("Prime Minister X"), or after
/// "named", "called", ", known as". The flag says whether a linking word was used.
fn name_slot(text: &str, pos: usize) -> Option<(usize, bool)> {
    let rest = &text[pos..];
    for link in [
        ", known as ",
        ", also known as ",
        " known as ",
        ", identified as ",
        " identified as ",
        " named ",
        " called ",
        ", ",
    ] {
        if rest.starts_with(link) {
            return Some((pos + link.len(), true));
        }
    }
    if rest.starts_with(' ') {
        return Some((pos + 1, false));
    }
    None
}

/// The comma that ends a name in apposition before `pos`: "X, the leader", "X, also known
/// as the governor".
fn apposition_comma(text: &str, pos: usize) -> Option<usize> {
    let head = text[..pos].trim_end_matches(' ');
    let head = head
        .strip_suffix("also known as")
        .or_else(|| head.strip_suffix("known as"))
        .map(|h| h.trim_end_matches(' '))
        .unwrap_or(head);
    head.strip_suffix(',').map(|h| h.len())
}

/// The organisation or place written right before a title ("Pentagon", "IS", "Iraq's"),
/// and where it starts.
fn left_holder(text: &str, pos: usize, entities: &Entities) -> Option<(Holder, usize)> {
    let w = word_before(text, pos)?;
    let word = &text[w.start..w.end];
    let bare = word
        .strip_suffix("'s")
        .or_else(|| word.strip_suffix("’s"))
        .unwrap_or(word);
    let bare_end = w.start + bare.len();
    if let Some(e) = entities
        .ending_at(bare_end)
        .find(|e| matches!(e.etype, EntityType::Org | EntityType::Place))
    {
        let mut h = Holder {
            span: Some(e.span),
            ..Default::default()
        };
        if e.etype == EntityType::Org || e.kind == "country" {
            h.org = e.canonical.to_string();
        } else {
            h.place = e.canonical.to_string();
        }
        return Some((h, e.span.start));
    }
    if entities.ending_at(bare_end).next().is_some() {
        return None;
    }
    // "Maiduguri-based analyst": where the holder is, not an organisation.
    if let Some(place) = bare.strip_suffix("-based") {
        return Some((
            Holder {
                org: String::new(),
                place: place.to_string(),
                span: Some(Span::new(w.start, bare_end)),
            },
            w.start,
        ));
    }
    // A capitalised word standing for an organisation the gazetteers do not know.
    let sentence_start = word_before(text, w.start)
        .map(|p| text[p.start..p.end].ends_with(['.', '!', '?']))
        .unwrap_or(true);
    // "Monday. Col. X": the word ends the sentence before the title.
    let sentence_end = bare.len() > 2
        && bare.ends_with('.')
        && bare[..bare.len() - 1].ends_with(|c: char| c.is_lowercase());
    let looks_org = starts_upper(bare)
        && !sentence_end
        && bare
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
        && !function_word(bare)
        && !MODIFIERS.contains(&bare.to_lowercase().as_str())
        && !(sentence_start && bare.chars().skip(1).all(char::is_lowercase) && bare.len() < 4);
    if looks_org {
        return Some((
            Holder {
                org: bare.to_string(),
                place: String::new(),
                span: Some(Span::new(w.start, bare_end)),
            },
            w.start,
        ));
    }
    None
}

/// Skips back over modifiers, nationalities and a determiner before a title or its
/// organisation: "the so-called", "a Tunisian", "the current".
fn skip_modifiers(text: &str, mut pos: usize, entities: &Entities) -> usize {
    loop {
        let Some(w) = word_before(text, pos) else {
            return pos;
        };
        let word = text[w.start..w.end].to_lowercase();
        let norp = entities
            .ending_at(w.end)
            .any(|e| e.etype == EntityType::Norp);
        if MODIFIERS.contains(&word.as_str()) || norp {
            pos = w.start;
            continue;
        }
        if matches!(word.as_str(), "the" | "a" | "an" | "its" | "his" | "their") {
            return w.start;
        }
        return pos;
    }
}

/// A phrase after a title naming where or in what the post is: "of Iraq", "for IS", "in
/// western Iraq", "of the Somalia Province". Returns it and where it ends.
fn right_holder(text: &str, pos: usize, entities: &Entities) -> Option<(Holder, usize)> {
    let rest = &text[pos..];
    let prep = ["of ", "for ", "in ", "at "]
        .into_iter()
        .find(|p| rest.strip_prefix(' ').is_some_and(|r| r.starts_with(p)))?;
    let mut at = pos + 1 + prep.len();
    if text[at..].starts_with("the ") {
        at += 4;
    }
    if let Some(w) = word_after(text, at) {
        if DIRECTIONS.contains(&&text[w.start..w.end]) {
            at = w.end + 1;
        }
    }
    // "a spokesman for the rebels, X": a group named by a common noun. It names no
    // organisation, but the name after it holds the title.
    if let Some(w) = word_after(text, at) {
        let (clean, _) = clean_word(&text[w.start..w.end]);
        if GROUP_NOUNS.contains(&clean) {
            let end = w.start + clean.len();
            let h = Holder {
                span: Some(Span::new(at, end)),
                ..Default::default()
            };
            return Some((h, end));
        }
    }
    // The capitalised phrase here.
    let mut end = at;
    let mut cur = at;
    while let Some(w) = word_after(text, cur) {
        let (clean, stop) = clean_word(&text[w.start..w.end]);
        // "7th Division", "3rd Brigade"
        let ordinal = clean.starts_with(|c: char| c.is_ascii_digit())
            && clean.ends_with(|c: char| c.is_alphabetic());
        if clean.is_empty() || !(starts_upper(clean) || ordinal) || function_word(clean) {
            break;
        }
        end = w.start + clean.len();
        cur = w.end;
        if stop {
            break;
        }
    }
    if end == at {
        return None;
    }
    let phrase = Span::new(at, end);
    // (An organisation or place found by the entity stage may hold lower-case words: "Norte
    // de Santander department".)
    let ent = entities
        .starting_at(at)
        .filter(|e| e.span.end <= end + 1 || matches!(e.etype, EntityType::Org | EntityType::Place))
        .max_by_key(|e| e.span.len());
    let mut h = Holder::default();
    match ent {
        Some(e) if e.etype == EntityType::Org => h.org = e.canonical.to_string(),
        Some(e) if e.etype == EntityType::Place && e.span.end >= end => {
            h.place = e.canonical.to_string()
        }
        _ if matches!(prep, "in " | "at ")
            || DESIGNATORS.iter().any(|d| text[end..].starts_with(d)) =>
        {
            h.place = text[phrase.start..phrase.end].to_string()
        }
        _ => h.org = text[phrase.start..phrase.end].to_string(),
    }
    let stop = ent.map(|e| e.span.end.max(end)).unwrap_or(end);
    h.span = Some(Span::new(at, stop));
    Some((h, stop))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::SharedStr;
    use crate::testing::xorshift;

    fn entity(text: &str, needle: &str, etype: EntityType, canonical: &str, kind: &str) -> Entity {
        let start = text.find(needle).expect("needle in text");
        Entity {
            span: Span::new(start, start + needle.len()),
            text: needle.into(),
            etype,
            canonical: SharedStr::new(canonical),
            entity_id: SharedStr::default(),
            kind: SharedStr::new(kind),
            geo: None,
            rule: "test".into(),
        }
    }

    fn roles(text: &str, entities: Vec<Entity>) -> Vec<(String, String, String, String)> {
        let doc = Document {
            text: text.into(),
            ..Default::default()
        };
        let mut facts = Facts {
            entities,
            ..Default::default()
        };
        RoleStage::new().unwrap().run(&doc, &mut facts);
        facts
            .roles
            .into_iter()
            .map(|r| (r.person, r.role, r.organization, r.place))
            .collect()
    }

    /// The automaton [`TitleScan`] replaces, built as the stage built it.
    fn automaton(forms: &[String]) -> aho_corasick::AhoCorasick {
        aho_corasick::AhoCorasickBuilder::new()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .build(forms)
            .unwrap()
    }

    /// Whether the scan must report a match of the automaton: one at a run start (the only
    /// ones a title can come from: the byte before is not a word byte), unless it is of word
    /// bytes only and ends inside its run ("gen" in "gender": it can neither count nor hide
    /// another title; the scan may report it or not).
    fn must_report(text: &str, (s, e, _): (usize, usize, u32)) -> bool {
        let b = text.as_bytes();
        word_byte(b[s])
            && (s == 0 || !word_byte(b[s - 1]))
            && !(b[s..e].iter().all(|&c| word_byte(c)) && b.get(e).is_some_and(|&c| word_byte(c)))
    }

    /// The automaton's matches, `(start, end, form)`.
    fn automaton_matches(ac: &aho_corasick::AhoCorasick, text: &str) -> Vec<(usize, usize, u32)> {
        ac.find_iter(text)
            .map(|m| (m.start(), m.end(), m.pattern().as_u32()))
            .collect()
    }

    fn scan_matches(scan: &TitleScan, text: &str) -> Vec<(usize, usize, u32)> {
        let mut out = Vec::new();
        scan.scan(text.as_bytes(), |s, e, f| out.push((s, e, f)));
        out
    }

    /// The scan reports the automaton's matches: all of them with `anywhere`, else those it
    /// must and maybe some others.
    fn assert_scan_is_automaton(scan: &TitleScan, ac: &aho_corasick::AhoCorasick, text: &str) {
        let got = scan_matches(scan, text);
        let want = automaton_matches(ac, text);
        if scan.anywhere {
            assert_eq!(got, want, "{text:?}");
            return;
        }
        assert!(
            got.iter().all(|m| want.contains(m)),
            "{text:?}: {got:?} {want:?}"
        );
        let must: Vec<_> = want.into_iter().filter(|&m| must_report(text, m)).collect();
        let got: Vec<_> = got.into_iter().filter(|&m| must_report(text, m)).collect();
        assert_eq!(got, must, "{text:?}");
    }

    fn builtin_forms() -> Vec<String> {
        let titles = Titles::builtin().unwrap();
        titles
            .entries
            .iter()
            .flat_map(|t| t.forms.iter().map(|(f, _)| f.clone()))
            .collect()
    }

    /// A random text of the built-in forms (in any case), pieces of them, words and
    /// separators, often glued to each other: a form begun inside a word and running over
    /// its end is what the scan must see as the automaton does.
    fn title_text(forms: &[String], next: &mut impl FnMut(usize) -> usize) -> String {
        const WORDS: &[&str] = &[
            "the", "said", "x", "col", "lt", "vice", "ahead", "mis", "chief", "of", "staff",
            "General", "Maj", "9", "al", "é", "“", "_", "s", "ab",
        ];
        const SEPS: &[&str] = &[
            "", "", "", " ", " ", " ", ".", ". ", "-", "/", ",", "\n", "’s ", "—", "\u{a0}",
        ];
        let mut text = String::new();
        for _ in 0..next(30) {
            let piece = match next(4) {
                0 | 1 => forms[next(forms.len())].clone(),
                2 => {
                    let f = forms[next(forms.len())].as_bytes();
                    let a = next(f.len());
                    let b = a + next(f.len() - a) + 1;
                    String::from_utf8_lossy(&f[a..b]).into_owned()
                }
                _ => WORDS[next(WORDS.len())].to_string(),
            };
            for c in piece.chars() {
                text.push(if next(3) == 0 {
                    c.to_ascii_uppercase()
                } else if next(3) == 0 {
                    c.to_ascii_lowercase()
                } else {
                    c
                });
            }
            text.push_str(SEPS[next(SEPS.len())]);
        }
        text
    }

    #[test]
    fn scan_finds_what_the_automaton_finds_at_run_starts() {
        let forms = builtin_forms();
        let ac = automaton(&forms);
        let scan = TitleScan::new(&forms);
        assert!(!scan.anywhere && scan.crossers);
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15u64);
        for _ in 0..30_000 {
            let text = title_text(&forms, &mut next);
            assert_scan_is_automaton(&scan, &ac, &text);
        }
        // The case the checks exist for: "Lt. Gen." begun inside a word hides "Gen.".
        let text = "xcolLt. Gen. Ali and Gen. Omar";
        assert_scan_is_automaton(&scan, &ac, text);
        let got = scan_matches(&scan, text);
        assert_eq!(got.iter().map(|m| m.0).collect::<Vec<_>>(), [21]);
    }

    /// Small random sets of forms over a few bytes, some beginning with a non-word byte
    /// (then every position is asked), some equal but for case, against random texts.
    #[test]
    fn scan_of_random_forms_finds_what_the_automaton_finds() {
        const FORM: &[char] = &['a', 'b', 'B', 'c', '.', ' ', '-', '_', '1'];
        const TEXT: &[char] = &[
            'a', 'b', 'c', 'A', 'B', 'C', '.', ' ', ' ', '-', ',', 'é', '_', '1', '\n',
        ];
        let mut next = xorshift(0x2545_F491_4F6C_DD1Du64);
        for _ in 0..3_000 {
            let forms: Vec<String> = (0..1 + next(8))
                .map(|_| (0..1 + next(6)).map(|_| FORM[next(FORM.len())]).collect())
                .collect();
            let ac = automaton(&forms);
            let scan = TitleScan::new(&forms);
            for _ in 0..40 {
                let text: String = (0..next(60)).map(|_| TEXT[next(TEXT.len())]).collect();
                assert_scan_is_automaton(&scan, &ac, &text);
            }
        }
    }

    /// The stage's titles as the automaton found them, before the scan.
    fn automaton_hits(
        stage: &RoleStage,
        ac: &aho_corasick::AhoCorasick,
        text: &str,
    ) -> Vec<(Span, usize)> {
        let mut out = Vec::new();
        for m in ac.find_iter(text) {
            let (title, _, cs) = stage.patterns[m.pattern().as_usize()];
            let t = &stage.titles[title];
            let surface = &text[m.start()..m.end()];
            let form = &t
                .forms
                .iter()
                .find(|(f, _)| f.eq_ignore_ascii_case(surface));
            if cs && !form.is_some_and(|(f, _)| f == surface) {
                continue;
            }
            if t.kind == TitleKind::Rank && !starts_upper(surface) {
                continue;
            }
            let before_ok = !matches!(char_before(text, m.start()), Some(c) if is_word_char(c));
            let after_ok = surface.ends_with('.')
                || !matches!(char_after(text, m.end()), Some(c) if is_word_char(c) || c == '-');
            if before_ok && after_ok {
                out.push((Span::new(m.start(), m.end()), title));
            }
        }
        out
    }

    #[test]
    fn titles_are_the_automatons() {
        let mut titles = Titles::builtin().unwrap();
        // A case-sensitive alias, as users may write.
        titles.entries.push(Title {
            role: "chief executive".into(),
            kind: TitleKind::Official,
            forms: vec![("CEO".into(), true)],
            takes_of: false,
            origin: "test".into(),
        });
        let stage = RoleStage::with_titles(&titles).unwrap();
        let forms: Vec<String> = titles
            .entries
            .iter()
            .flat_map(|t| t.forms.iter().map(|(f, _)| f.clone()))
            .collect();
        let ac = automaton(&forms);
        let mut next = xorshift(0x5851_F42D_4C95_7F2Du64);
        for _ in 0..20_000 {
            let text = title_text(&forms, &mut next);
            let got: Vec<(Span, usize)> = stage
                .hits(&text)
                .iter()
                .map(|h| (h.span, h.title))
                .collect();
            assert_eq!(got, automaton_hits(&stage, &ac, &text), "{text:?}");
        }
    }

    /// `line_at` is the line of the sorted line breaks (the way the stage found it before).
    #[test]
    fn line_at_is_the_line_between_breaks() {
        for text in ["", "a", "\n", "ab\ncd\n\nef", "\n\nx\n", "one line only"] {
            let b = text.as_bytes();
            let breaks: Vec<usize> = (0..b.len()).filter(|&i| b[i] == b'\n').collect();
            for pos in 0..=b.len() {
                let k = breaks.partition_point(|&i| i < pos);
                let start = k.checked_sub(1).map(|k| breaks[k] + 1).unwrap_or(0);
                let want = Span::new(start, breaks.get(k).copied().unwrap_or(b.len()));
                assert_eq!(line_at(b, pos), want, "{text:?} at {pos}");
            }
        }
    }

    /// `is_title_case_line` counts as the collected words did, on random lines of short and
    /// long, capitalised and lower-case words (some non-ASCII).
    #[test]
    fn title_case_counts_are_the_collected_words() {
        let collected = |line: &str| {
            if line.trim_end().ends_with(['.', '"', '”']) {
                return false;
            }
            let words: Vec<&str> = line
                .split_whitespace()
                .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 4)
                .collect();
            words.len() >= 4
                && words
                    .iter()
                    .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
                    .count()
                    * 10
                    >= words.len() * 7
        };
        let words = [
            "Army", "army", "of", "Chief", "Élite", "élite", "Is", "9Army", "Named", "x.", "”",
        ];
        let mut next = xorshift(0x0071_71E5);
        let mut both = [0; 2];
        for _ in 0..5000 {
            let line: Vec<&str> = (0..next(12)).map(|_| words[next(words.len())]).collect();
            let line = line.join(" ");
            let want = collected(&line);
            both[usize::from(want)] += 1;
            assert_eq!(is_title_case_line(&line), want, "{line:?}");
        }
        assert!(both[0] > 100 && both[1] > 100, "{both:?}");
    }

    /// The word sets answer as the lists they are made of.
    #[test]
    fn word_sets_are_their_lists() {
        let lists: Vec<&str> = FUNCTION_WORDS
            .iter()
            .chain(&crate::calendar::MONTHS)
            .chain(&crate::calendar::WEEKDAYS)
            .chain(NOT_NAMES)
            .copied()
            .collect();
        let mut words = lists.clone();
        words.extend([
            "",
            "the",
            "THE",
            "Monday.",
            "Islamic State",
            "al",
            "Ali",
            "É",
            "u.s.",
        ]);
        for w in words {
            let function = FUNCTION_WORDS.contains(&w)
                || crate::calendar::MONTHS.contains(&w)
                || crate::calendar::WEEKDAYS.contains(&w);
            assert_eq!(function_word(w), function, "{w:?}");
            assert_eq!(not_name(w), NOT_NAMES.contains(&w), "{w:?}");
        }
        assert!(lists.iter().all(|w| w.as_bytes()[0].is_ascii_uppercase()));
    }

    #[test]
    fn forms_of_news_writing() {
        // (sentence, person, role, organisation, place); written for these tests.
        let cases: &[(&str, &str, &str, &str, &str)] = &[
            (
                "said Prime Minister Amina Yusuf Bello on Monday.",
                "Amina Yusuf Bello",
                "prime minister",
                "",
                "",
            ),
            (
                "Army spokesman Brig. Gen. Tunde Okafor said the convoy was hit.",
                "Tunde Okafor",
                "spokesman",
                "Army",
                "",
            ),
            (
                "It named Musa Abdel Karim, head of logistics in northern Mali, among the dead.",
                "Musa Abdel Karim",
                "head of logistics",
                "",
                "",
            ),
            (
                "Police later arrested Omar bin Salem, the group's deputy leader, in a raid.",
                "Omar bin Salem",
                "deputy leader",
                "",
                "",
            ),
            (
                "The current leader, known as Abu Yahya al-Kenani, has not been seen.",
                "Abu Yahya al-Kenani",
                "leader",
                "",
                "",
            ),
            (
                "A Yemeni commander named Salim Nasser al-Awlaqi was killed.",
                "Salim Nasser al-Awlaqi",
                "commander",
                "",
                "",
            ),
            (
                "They freed Jean-Paul Mbeki, also known as the so-called governor of Ituri for the rebels.",
                "Jean-Paul Mbeki",
                "governor",
                "",
                "",
            ),
        ];
        for (text, person, role, org, _place) in cases {
            let got = roles(text, Vec::new());
            assert!(
                got.iter()
                    .any(|g| g.0 == *person && g.1 == *role && (org.is_empty() || g.2 == *org)),
                "{text}: got {got:?}"
            );
        }
    }

    #[test]
    fn titles_of_other_administrations_and_talks() {
        // (sentence, person, role, organisation); written for these tests.
        let cases: &[(&str, &str, &str, &str)] = &[
            (
                "The road was closed.\nCounty commissioner Maria Lopes Duarte said so.",
                "Maria Lopes Duarte",
                "county commissioner",
                "",
            ),
            (
                "It was calm. Provincial home minister Ravi Shankar Das said it.",
                "Ravi Shankar Das",
                "provincial home minister",
                "",
            ),
            (
                "The convoy left on Friday. Col. Pedro Alves Nunes said it was safe.",
                "Pedro Alves Nunes",
                "colonel",
                "",
            ),
            (
                "The chief negotiator, Lars Holm Berg, said talks would resume.",
                "Lars Holm Berg",
                "chief negotiator",
                "",
            ),
            (
                "Kenya's mediator for the talks, Joseph Mwangi Otieno, flew in.",
                "Joseph Mwangi Otieno",
                "mediator",
                "Kenya",
            ),
            (
                "said Insp. Gen. Ana Silva Rocha, the regional police chief.",
                "Ana Silva Rocha",
                "inspector general",
                "",
            ),
            (
                "The sub-prefect, Jean Marc Kolingba, fled.",
                "Jean Marc Kolingba",
                "sub-prefect",
                "",
            ),
            (
                "Attorney General Rosa Ines Paredes said charges would follow.",
                "Rosa Ines Paredes",
                "attorney general",
                "",
            ),
            (
                "Deputy Inspector General Imran Ali Qureshi said the road was open.",
                "Imran Ali Qureshi",
                "deputy inspector general",
                "",
            ),
        ];
        for (text, person, role, org) in cases {
            let got = roles(text, Vec::new());
            assert!(
                got.iter()
                    .any(|g| g.0 == *person && g.1 == *role && g.2 == *org),
                "{text}: got {got:?}"
            );
            // No title cut to its first word, no rank split in two, no sentence's last word
            // as the organisation.
            assert!(
                got.iter().all(
                    |g| !matches!(g.1.as_str(), "chief" | "inspector" | "general")
                        && !g.2.ends_with('.')
                        && g.2 != "Provincial"
                        && g.2 != "County"
                ),
                "{text}: got {got:?}"
            );
        }
        // A capitalised level inside a sentence is an organisation's name, not a level.
        let got = roles("the Federal Police chief Tom Lee Park said", Vec::new());
        assert!(got.iter().all(|g| g.1 == "police chief"), "{got:?}");
    }

    #[test]
    fn post_of_a_place_or_unit_then_the_name() {
        let got = roles(
            "The governor of Kano state, Aminu Yusuf Bala, visited. The commander of the 3rd \
             Brigade, Brig. Gen. Femi Ade Cole, spoke. A Kano-based analyst Hauwa Idris Sani said.",
            Vec::new(),
        );
        let want = [
            ("Aminu Yusuf Bala", "governor", "Kano", "Kano"),
            ("Femi Ade Cole", "commander", "3rd Brigade", ""),
            ("Femi Ade Cole", "brigadier general", "", ""),
            ("Hauwa Idris Sani", "analyst", "", "Kano"),
        ];
        for (person, role, org, place) in want {
            assert!(
                got.iter()
                    .any(|g| g.0 == person && g.1 == role && g.2 == org && g.3 == place),
                "{person} {role}: {got:?}"
            );
        }
    }

    #[test]
    fn rank_and_post_both_count() {
        let got = roles(
            "Agency spokesman Major General Ola Nordmann confirmed it.",
            Vec::new(),
        );
        let titles: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
        assert_eq!(titles, ["spokesman", "major general"]);
        assert!(got.iter().all(|g| g.0 == "Ola Nordmann" && g.2 == "Agency"));
    }

    #[test]
    fn organisation_and_place_from_entities() {
        let text = "Farah Jama Ali, the ASWJ deputy commander in Galmudug, was seen.";
        let got = roles(
            text,
            vec![
                entity(
                    text,
                    "ASWJ",
                    EntityType::Org,
                    "Ahlu Sunna Wal Jama'a",
                    "armed_group",
                ),
                entity(text, "Galmudug", EntityType::Place, "Galmudug", "region"),
            ],
        );
        assert_eq!(
            got,
            [(
                "Farah Jama Ali".to_string(),
                "deputy commander".to_string(),
                "Ahlu Sunna Wal Jama'a".to_string(),
                "Galmudug".to_string()
            )]
        );
    }

    #[test]
    fn a_phrase_between_the_title_and_the_name() {
        // Written for this test: (text, entities as (name, type, kind), person, role).
        type Case<'a> = (
            &'a str,
            &'a [(&'a str, EntityType, &'a str)],
            &'a str,
            &'a str,
        );
        let cases: &[Case] = &[
            (
                "A spokesman for the rebels, Jean Bosco Kabila, denied it.",
                &[],
                "Jean Bosco Kabila",
                "spokesman",
            ),
            (
                "The governor of Alto Paraiso department, Ana Maria Ruiz, said so.",
                &[("Alto Paraiso department", EntityType::Place, "region")],
                "Ana Maria Ruiz",
                "governor",
            ),
            (
                "The attack was led by a rebel commander identified as Tomas Ilunga Banza.",
                &[],
                "Tomas Ilunga Banza",
                "commander",
            ),
        ];
        for (text, ents, person, role) in cases {
            let ents = ents
                .iter()
                .map(|(n, ty, kind)| entity(text, n, *ty, n, kind))
                .collect();
            let got = roles(text, ents);
            assert!(
                got.iter().any(|g| g.0 == *person && g.1 == *role),
                "{text}: {got:?}"
            );
        }
    }

    #[test]
    fn government_post_takes_its_country_from_another_mention() {
        let text = "The Prime Minister of Chad spoke first. Later, Prime Minister Idriss Kebir Saleh left.";
        let got = roles(
            text,
            vec![entity(text, "Chad", EntityType::Place, "Chad", "country")],
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].2, "Chad");
    }

    #[test]
    fn no_role_without_a_name() {
        // (sentence) none of these names a person holding the title.
        for text in [
            "The leader of the group was killed in the strike.",
            "A spokesman said the attack was repelled.",
            "On Tuesday, the Prime Minister of Chad disclosed the plan.",
            "Rebels Kill Regional Commander Along With Seven Guards\nThe attack came at dawn.",
            "the commander General Directorate of Provinces oversees it",
            "Officials in Gao said a general strike began.",
        ] {
            assert_eq!(roles(text, Vec::new()), Vec::new(), "{text}");
        }
    }

    #[test]
    fn person_entity_is_preferred() {
        let text = "Defence Minister Hana Lee Park visited the base.";
        let mut p = entity(
            text,
            "Hana Lee Park",
            EntityType::Person,
            "Hana Lee Park",
            "",
        );
        p.entity_id = "P:hana".into();
        let doc = Document {
            text: text.into(),
            ..Default::default()
        };
        let mut facts = Facts {
            entities: vec![p],
            ..Default::default()
        };
        RoleStage::new().unwrap().run(&doc, &mut facts);
        assert_eq!(facts.roles[0].person_id, "P:hana");
        assert_eq!(facts.roles[0].role, "defence minister");
    }

    #[test]
    fn bad_titles_file_reports_every_line() {
        let content = "title\trole\tkind\taliases\tflags\nchief\tchief\tboss\t\t\nhead\t\tofficial\t\t\nleader\tleader\tmilitant\t\tx\n";
        let err = parse_titles("t.tsv", content).unwrap_err().to_string();
        assert!(err.contains("t.tsv:2: chief: kind \"boss\""), "{err}");
        assert!(err.contains("t.tsv:3: head: empty role"), "{err}");
        assert!(err.contains("t.tsv:4: leader: unknown flag"), "{err}");
        let dup = "title\trole\tkind\taliases\tflags\nchief\tchief\tofficial\t\t\nboss\tboss\tofficial\tChief\t\n";
        let err = parse_titles("d.tsv", dup).unwrap_err().to_string();
        assert!(
            err.contains("d.tsv:3: boss: \"Chief\" is already a title (line 2)"),
            "{err}"
        );
    }

    #[test]
    fn builtin_titles_load() {
        let t = Titles::builtin().unwrap();
        assert!(t.entries.len() > 50);
    }
}
