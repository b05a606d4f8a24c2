//! Gazetteer files: one entry a line, tab-separated, with a header. The format is
//! documented in docs/gazetteers.md.

use std::sync::Arc;

use crate::error::{Error, Location, Result};
use crate::facts::{EntityType, Geo, SharedStr};

/// The header every gazetteer file has, after its `#` comment lines.
pub const HEADER: [&str; 11] = [
    "id",
    "canonical",
    "type",
    "kind",
    "aliases",
    "country",
    "admin1",
    "lat",
    "lon",
    "population",
    "flags",
];

/// One name of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias {
    pub text: String,
    /// Matches only as written (a leading `=` in the file, or the entry's `case` flag).
    pub case_sensitive: bool,
}

/// One gazetteer entry: an entity with all its names.
///
/// The id, canonical name, kind and place are shared with every entity found from the
/// entry ([`SharedStr`], `Arc`): making, cloning and dropping those costs reference counts,
/// not copies.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub id: SharedStr,
    pub canonical: SharedStr,
    pub etype: EntityType,
    pub kind: SharedStr,
    /// Every name, the canonical one first.
    pub aliases: Vec<Alias>,
    pub geo: Option<Arc<Geo>>,
    pub population: u64,
    /// The name is also a common English word: take it only with confirming context.
    pub weak: bool,
    /// `file:line` of the entry, for messages.
    pub origin: String,
}

/// Parses one gazetteer file. Every problem is reported, as `file:line: message`, in one
/// error; nothing of a broken file is used.
pub fn parse(name: &str, content: &str) -> Result<Vec<Entry>> {
    parse_with(name, content, SharedStr::new)
}

/// Like [`parse`], for a file that lives as long as the program (the gazetteers built into
/// the binary): the entries' ids, names and kinds borrow from it.
///
/// Why: the entities found from them then share those strings without even a reference
/// count; counting was a cache miss per string of every entity made (perf: three quarters
/// of `Matcher::entity`, on the counts of `Arc`s far from the entry).
pub fn parse_static(name: &str, content: &'static str) -> Result<Vec<Entry>> {
    parse_with(name, content, SharedStr::from)
}

/// [`parse`], with `share` making the entries' shared strings from the file's cells.
fn parse_with<'c>(
    name: &str,
    content: &'c str,
    mut share: impl FnMut(&'c str) -> SharedStr,
) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let mut header_seen = false;
    // The kinds met so far: the entries of a kind share one copy of it.
    let mut kinds: Vec<SharedStr> = Vec::new();
    for (i, line) in content.lines().enumerate() {
        let lineno = i as u64 + 1;
        let at = || Location::line(name, lineno);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        // The cells in an array, not a Vec per line (40,000 lines at every start-up); `n`
        // counts them all.
        let mut cells = [""; HEADER.len()];
        let mut n = 0;
        for cell in line.split('\t') {
            if let Some(slot) = cells.get_mut(n) {
                *slot = cell;
            }
            n += 1;
        }
        if !header_seen {
            header_seen = true;
            if n != HEADER.len() || cells != HEADER {
                errors.push(Error::data(
                    at(),
                    format!(
                        "the header must be the {} tab-separated columns: {}",
                        HEADER.len(),
                        HEADER.join(" ")
                    ),
                ));
                break;
            }
            continue;
        }
        if n != HEADER.len() {
            errors.push(Error::data(
                at(),
                format!(
                    "{} cells, expected {} (are the columns separated by tabs?)",
                    n,
                    HEADER.len()
                ),
            ));
            continue;
        }
        match parse_entry(&cells, &mut kinds, &mut share) {
            Ok(mut e) => {
                // As `at().to_string()` prints it, without building the location.
                e.origin = format!("{name}:{lineno}");
                entries.push(e)
            }
            Err(message) => {
                let id = cells[0].trim();
                let at = if id.is_empty() {
                    at()
                } else {
                    at().with_id(id)
                };
                errors.push(Error::data(at, message));
            }
        }
    }
    if !header_seen && errors.is_empty() {
        errors.push(Error::data(Location::file(name), "no header line"));
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(Error::many(errors))
    }
}

/// Parses an `aliases` cell: names separated by `|`, a leading `=` making one
/// case-sensitive (`case_all` makes them all so). Shared by the entity gazetteers and the
/// titles of the roles stage, so both files read the same way.
pub fn parse_aliases(cell: &str, case_all: bool) -> std::result::Result<Vec<Alias>, String> {
    let mut out = Vec::new();
    if cell.trim().is_empty() {
        return Ok(out);
    }
    for raw in cell.split('|').map(str::trim) {
        if raw.is_empty() {
            return Err("empty alias (two | in a row, or a trailing |)".into());
        }
        let (text, case_sensitive) = match raw.strip_prefix('=') {
            Some(t) => (t.trim(), true),
            None => (raw, case_all),
        };
        if text.is_empty() {
            return Err("alias \"=\" has no text".into());
        }
        out.push(Alias {
            text: text.to_string(),
            case_sensitive,
        });
    }
    Ok(out)
}

fn parse_entry<'c>(
    cells: &[&'c str],
    kinds: &mut Vec<SharedStr>,
    share: &mut impl FnMut(&'c str) -> SharedStr,
) -> std::result::Result<Entry, String> {
    let [id, canonical, etype, kind, aliases, country, admin1, lat, lon, population, flags] = cells
    else {
        unreachable!("checked by the caller");
    };
    let id = id.trim();
    if id.is_empty() {
        return Err("empty id".into());
    }
    let canonical = canonical.trim();
    if canonical.is_empty() {
        return Err("empty canonical name".into());
    }
    let etype = EntityType::parse(etype)
        .ok_or_else(|| format!("type {etype:?} is not one of PERSON, ORG, PLACE, NORP"))?;
    let mut weak = false;
    let mut case_all = false;
    for flag in flags.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        match flag {
            "weak" => weak = true,
            "case" => case_all = true,
            other => return Err(format!("unknown flag {other:?} (known: weak, case)")),
        }
    }
    let mut names = vec![Alias {
        text: canonical.to_string(),
        case_sensitive: case_all,
    }];
    for alias in parse_aliases(aliases, case_all)? {
        if !names.contains(&alias) {
            names.push(alias);
        }
    }
    let coord = |s: &str, what: &str, max: f64| -> std::result::Result<Option<f64>, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        match s.parse::<f64>() {
            Ok(v) if v.abs() <= max => Ok(Some(v)),
            _ => Err(format!(
                "{what} {s:?} is not a number between -{max} and {max}"
            )),
        }
    };
    let lat = coord(lat, "lat", 90.0)?;
    let lon = coord(lon, "lon", 180.0)?;
    let population = match population.trim() {
        "" => 0,
        p => p
            .parse()
            .map_err(|_| format!("population {p:?} is not a whole number"))?,
    };
    let country = country.trim();
    let iso = country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase());
    if !country.is_empty() && !iso {
        return Err(format!(
            "country {country:?} is not an ISO 3166-1 alpha-2 code"
        ));
    }
    let geo = (etype == EntityType::Place || !country.is_empty()).then(|| {
        Arc::new(Geo {
            country: country.to_string(),
            admin1: admin1.trim().to_string(),
            lat,
            lon,
        })
    });
    let kind = kind.trim();
    let kind = match kinds.iter().find(|k| **k == kind) {
        Some(k) => k.clone(),
        None => {
            kinds.push(share(kind));
            kinds[kinds.len() - 1].clone()
        }
    };
    Ok(Entry {
        id: share(id),
        canonical: share(canonical),
        etype,
        kind,
        aliases: names,
        geo,
        population,
        weak,
        origin: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "id\tcanonical\ttype\tkind\taliases\tcountry\tadmin1\tlat\tlon\tpopulation\tflags\n";

    #[test]
    fn parses_entries_and_aliases() {
        let text = format!(
            "# comment\n{HEAD}O:islamic-state\tIslamic State\tORG\tarmed_group\tISIS|=IS|Daesh\t\t\t\t\t\t\n\
             L:gn98182\tBaghdad\tPLACE\tcity\t\tIQ\tBaghdad\t33.3406\t44.4009\t7216000\t\n"
        );
        let entries = parse("t.tsv", &text).unwrap();
        assert_eq!(entries.len(), 2);
        let is = &entries[0];
        assert_eq!(is.aliases.len(), 4);
        assert!(is
            .aliases
            .iter()
            .any(|a| a.text == "IS" && a.case_sensitive));
        assert!(is.geo.is_none());
        assert_eq!(entries[1].geo.as_ref().unwrap().lat, Some(33.3406));
        assert_eq!(entries[1].origin, "t.tsv:4");
    }

    #[test]
    fn reports_every_bad_line_with_its_location() {
        let text = format!(
            "{HEAD}X:1\tA\tTHING\t\t\t\t\t\t\t\t\n\
             L:2\tB\tPLACE\t\t\tIQ\t\t95\t\t\t\n\
             L:3\tC\tPLACE\n\
             L:4\tD\tPLACE\t\ta||b\t\t\t\t\t\t\n"
        );
        let err = parse("g.tsv", &text).unwrap_err().to_string();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 4, "{err}");
        assert!(
            lines[0].starts_with("g.tsv:2: X:1: type \"THING\""),
            "{err}"
        );
        assert!(lines[1].starts_with("g.tsv:3: L:2: lat \"95\""), "{err}");
        assert!(
            lines[2].starts_with("g.tsv:4: 3 cells, expected 11"),
            "{err}"
        );
        assert!(lines[3].starts_with("g.tsv:5: L:4: empty alias"), "{err}");
    }

    /// The built-in files borrow their strings; the result is the same as a copy's, and
    /// the entries of a kind share one string.
    #[test]
    fn static_and_copied_parses_agree() {
        const TEXT: &str =
            "id\tcanonical\ttype\tkind\taliases\tcountry\tadmin1\tlat\tlon\tpopulation\tflags\n\
             L:1\tMosul\tPLACE\tcity\tMusil\tIQ\tNineveh\t\t\t1000\t\n\
             L:2\tBasra\tPLACE\tcity\t\tIQ\t\t\t\t\t\n\
             O:3\tIslamic State\tORG\tarmed_group\t=IS\t\t\t\t\t\t\n";
        let copied = parse("t.tsv", TEXT).unwrap();
        let borrowed = parse_static("t.tsv", TEXT).unwrap();
        assert_eq!(copied, borrowed);
        assert_eq!(copied[1].kind.as_ptr(), copied[0].kind.as_ptr());
        assert_eq!(
            borrowed[0].canonical.as_ptr(),
            TEXT[TEXT.find("Mosul").unwrap()..].as_ptr()
        );
    }

    #[test]
    fn a_wrong_header_is_an_error() {
        let err = parse("h.tsv", "id\tname\n").unwrap_err().to_string();
        assert!(err.starts_with("h.tsv:1: the header must be"), "{err}");
    }
}
