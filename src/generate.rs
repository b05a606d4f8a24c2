//! Synthetic article dumps for benchmarks: wire-style conflict reports built from sentence
//! templates, with names, places, organisations, numbers and dates filled in.
//!
//! The places and groups come from the gazetteers the pipeline uses, so every stage has the
//! kind of work a real dump gives it: the automaton finds cities, regions, countries and
//! demonyms, the number and date rules find counts and dates, and the role and event rules
//! find victims and attacks near them. The templates are written for this project.
//!
//! A dump is deterministic: the same gazetteers, seed and size give the same bytes. Each
//! article is drawn from its own generator seeded by `(seed, index)`, so a smaller dump is
//! a prefix of a larger one with the same seed.
//!
//! ```
//! let gaz = gleaner::entity::Gazetteers::builtin().unwrap();
//! let generator = gleaner::generate::Generator::new(&gaz, 42).unwrap();
//! let mut out = Vec::new();
//! let stats = generator.write_jsonl(&mut out, 20_000).unwrap();
//! assert!(stats.bytes <= 20_000 && stats.articles > 0);
//! assert_eq!(out.len() as u64, stats.bytes);
//! ```

use std::collections::HashMap;
use std::io::Write;

use serde::Serialize;

use crate::calendar::Ymd;
use crate::entity::Gazetteers;
use crate::error::{Error, Result};
use crate::facts::EntityType;

/// splitmix64 (Steele, Lea and Flood 2014): tiny, fast and good enough to pick templates.
/// Written out here so a dump does not change when a crate's generator does.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`), by the multiply-shift reduction.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below((hi - lo + 1) as usize) as u64
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What [`Generator::write_jsonl`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub articles: u64,
    /// Bytes of JSONL (uncompressed).
    pub bytes: u64,
    /// Bytes of article text in them.
    pub text_bytes: u64,
}

/// One synthetic article, as written to a JSONL line.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub published: String,
    pub url: String,
    pub text: String,
}

#[derive(Clone, Debug)]
struct City {
    name: String,
    admin1: String,
    country: String,
}

/// The compiled pools of names and the templates: immutable, so articles can be drawn in
/// any order or in parallel.
#[derive(Clone, Debug)]
pub struct Generator {
    seed: u64,
    cities: Vec<City>,
    /// Region names with their country code.
    regions: Vec<(String, String)>,
    /// Country code -> name.
    country_names: HashMap<String, String>,
    countries: Vec<String>,
    /// Nationality adjectives and group names ("Somali", "Kurdish").
    norps: Vec<String>,
    /// Person names from the gazetteers; synthetic names are mixed in.
    persons: Vec<String>,
    /// Organisation names from the gazetteers; generic ones are mixed in.
    orgs: Vec<String>,
}

/// Sentence templates. Slots: `{city}` `{city2}` (a second town), `{region}` (the first
/// city's region), `{country}` (its country), `{country2}` (another), `{norp}`, `{person}`,
/// `{official}` (a person with a title), `{org}`, `{group}` (an armed group), `{n}` `{n2}`
/// (counts in digits), `{nw}` (a count in words), `{big}` (thousands, with commas),
/// `{victims}`, `{event}`, `{weapon}`, `{date}` (a day before publication), `{weekday}`,
/// `{month}`, `{year}`, `{pop}`.
const SENTENCES: &[&str] = &[
    "At least {n} {victims} were killed and {n2} wounded when {weapon} hit {city} on {weekday}, {org} said.",
    "{official}, speaking to reporters in {city2}, said the death toll from the {event} had risen to {n}.",
    "The {event} on {date} was the deadliest in {region} since {year}, according to figures compiled by {org}.",
    "Witnesses said {nw} gunmen on motorcycles opened fire on a market in {city}, a town of about {pop} people.",
    "{norp} troops launched an offensive near {city} early on {weekday}, pushing toward the border with {country2}.",
    "Local officials in {region} said {n} people were still missing after the {event} and that rescue teams were searching the rubble.",
    "{person} condemned the violence and called for an independent inquiry into the killings.",
    "{org} said it had recorded {big} displaced families across {region} since {month} {year}.",
    "A roadside bomb killed {nw} {victims} travelling between {city} and {city2} on {date}, police said.",
    "No group immediately claimed responsibility, but officials blamed fighters loyal to {group}.",
    "The defence ministry of {country} said its forces had killed {n} militants in air strikes in {region}.",
    "Hospital staff in {city} said they had received {n} bodies and more than {n2} injured people by {weekday} evening.",
    "The United Nations warned that the fighting in {region} could displace up to {big} more people before {month}.",
    "{person} was arrested in {city} on {date} and charged with financing {group}, prosecutors said.",
    "Clashes between {norp} militias and government forces have killed about {n2} people in {region} this year.",
    "Residents of {city} reported heavy shelling overnight, with at least {nw} houses destroyed and {n} people hurt.",
    "Speaking in {city2}, {official} said {country} would send {big} additional troops to {region} by {month}.",
    "The convoy was ambushed some {n} kilometres north of {city}, {org} said in a statement on {weekday}.",
    "Aid agencies said {big} people had fled {city} for camps near {city2} in the week to {date}.",
    "Security sources said a drone strike on {date} killed {nw} senior commanders of {group} near {city}.",
    "Police in {region} said a suicide bomber blew himself up at a checkpoint outside {city}, killing {n} people.",
    "The ministry said {n} soldiers had been killed and {n2} wounded in operations in {region} since {date}.",
    "{org} said {nw} of its staff had been abducted in {region} and appealed for their release.",
    "Protests broke out in {city} after the funeral of {nw} {norp} civilians, witnesses said.",
    "An official in {city}, who asked not to be named because he was not authorised to speak, said the toll was likely to rise.",
    "In a separate incident on {weekday}, {n} people were injured when a grenade was thrown into a crowd in {city2}.",
    "Fighting first erupted in {region} in {month} {year} and has since spread to other parts of {country}.",
    "The government of {country} imposed a dusk-to-dawn curfew in {city} from {date}, state media reported.",
    "{group} said in a statement posted online that its fighters had captured {nw} villages east of {city}.",
    "More than {big} people have been killed in the conflict since {year}, according to {org}.",
    "Talks between {country} and {country2} on a ceasefire in {region} are due to resume in {city2} next month.",
    "{official} visited the wounded in {city} on {weekday} and promised that those responsible would be punished.",
];

const HEADLINES: &[&str] = &[
    "{Nw} killed in {event} on market in {city}",
    "{country} says {n} militants killed in {region} strikes",
    "Thousands flee fighting near {city}",
    "{org} condemns attack in {region}",
    "Bomb blast kills {n} in {city}, {country}",
    "{person} calls for inquiry after {city} killings",
    "Curfew imposed in {city} after deadly clashes",
    "Death toll in {region} {event} rises to {n}",
    "Gunmen kill {n} villagers in {region}",
    "{norp} forces retake {city} after weeks of fighting",
];

const VICTIMS: &[&str] = &[
    "civilians",
    "soldiers",
    "police officers",
    "people",
    "villagers",
    "militants",
    "fighters",
    "children",
    "aid workers",
    "pro-government militiamen",
];

const EVENTS: &[&str] = &[
    "attack",
    "bombing",
    "air strike",
    "ambush",
    "shelling",
    "raid",
    "explosion",
    "clashes",
    "drone strike",
];

const WEAPONS: &[&str] = &[
    "a car bomb",
    "an air strike",
    "artillery shells",
    "a drone strike",
    "rockets",
    "a suicide bomber",
    "mortar rounds",
    "an improvised explosive device",
];

const NUMBER_WORDS: &[&str] = &[
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "fifteen",
    "twenty",
    "dozens of",
    "several",
];

const TITLES: &[&str] = &[
    "President",
    "Prime Minister",
    "General",
    "Colonel",
    "Interior Minister",
    "Defence Minister",
    "Governor",
    "Major",
    "spokesman",
    "police chief",
];

/// Given names and family names from many regions, for people the gazetteers do not know
/// (most people in the news are in no gazetteer).
const GIVEN: &[&str] = &[
    "Amina", "Tomas", "Leila", "Ibrahim", "Olena", "Carlos", "Fatuma", "Dmitri", "Priya", "Kwame",
    "Nadia", "Hassan", "Mariam", "Juan", "Aisha", "Viktor", "Grace", "Omar", "Sofia", "Yusuf",
    "Thandiwe", "Arjun", "Elena", "Moussa", "Farida", "Pedro", "Halima", "Bogdan", "Nkechi",
    "Rashid",
];

const FAMILY: &[&str] = &[
    "Okonkwo",
    "Haddad",
    "Petrenko",
    "Mendoza",
    "Diallo",
    "Rahman",
    "Kovalenko",
    "Abdi",
    "Silva",
    "Traore",
    "Nasser",
    "Ivanova",
    "Mwangi",
    "Castillo",
    "Karimi",
    "Bello",
    "Sandoval",
    "Yilmaz",
    "Osei",
    "Farah",
    "Morales",
    "Hussein",
    "Banda",
    "Kuznetsov",
    "Ndiaye",
    "Rojas",
    "Qureshi",
    "Mensah",
    "Suleiman",
    "Varga",
];

/// Organisations named in most conflict reporting; used beside the gazetteer's orgs.
const ORGS: &[&str] = &[
    "the United Nations",
    "the International Committee of the Red Cross",
    "Human Rights Watch",
    "Amnesty International",
    "the World Health Organization",
    "Doctors Without Borders",
    "the African Union",
    "the European Union",
    "the UN refugee agency",
    "the Norwegian Refugee Council",
];

/// Patterns for armed groups; `{region}` and `{norp}` are filled in.
const GROUPS: &[&str] = &[
    "the {region} Liberation Front",
    "the {norp} Defence Forces",
    "a {norp} militia",
    "the People's Army of {region}",
    "the Movement for the Salvation of {region}",
];

const AGENCIES: &[&str] = &[
    "Gleaner Wire",
    "Meridian Press",
    "Coastline News",
    "Lodestar",
];

impl Generator {
    /// Collects the pools from `gazetteers`. Fails if they have no cities, regions or
    /// countries, which every template needs.
    pub fn new(gazetteers: &Gazetteers, seed: u64) -> Result<Generator> {
        let mut g = Generator {
            seed,
            cities: Vec::new(),
            regions: Vec::new(),
            country_names: HashMap::new(),
            countries: Vec::new(),
            norps: Vec::new(),
            persons: Vec::new(),
            orgs: Vec::new(),
        };
        for e in &gazetteers.entries {
            let code = e
                .geo
                .as_ref()
                .map(|g| g.country.clone())
                .unwrap_or_default();
            match (e.etype, e.kind.as_str()) {
                (EntityType::Place, "country") => {
                    g.country_names.insert(code, e.canonical.to_string());
                    g.countries.push(e.canonical.to_string());
                }
                (EntityType::Place, "region") => g.regions.push((e.canonical.to_string(), code)),
                (EntityType::Place, "city") => g.cities.push(City {
                    name: e.canonical.to_string(),
                    admin1: e.geo.as_ref().map(|g| g.admin1.clone()).unwrap_or_default(),
                    country: code,
                }),
                (EntityType::Norp, "nationality" | "ethnic") => {
                    g.norps.push(e.canonical.to_string())
                }
                (EntityType::Person, _) => g.persons.push(e.canonical.to_string()),
                (EntityType::Org, _) => g.orgs.push(e.canonical.to_string()),
                _ => {}
            }
        }
        if g.cities.is_empty() || g.regions.is_empty() || g.countries.is_empty() {
            return Err(Error::usage(
                "the gazetteers need cities, regions and countries to generate articles",
            ));
        }
        if g.norps.is_empty() {
            g.norps.push("local".into());
        }
        Ok(g)
    }

    /// Article number `index` of the dump.
    pub fn article(&self, index: u64) -> Article {
        let mut rng = SplitMix64::new(self.seed ^ index.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        rng.next_u64();
        let published = Ymd::new(2015, 1, 1)
            .expect("valid date")
            .add_days(rng.range(0, 3650) as i64);
        let mut ctx = Context::new(self, &mut rng, published);
        let mut text = String::with_capacity(4096);
        let headline = *rng.pick(HEADLINES);
        let title = ctx.fill(&mut rng, headline);
        text.push_str(&title);
        text.push_str("\n\n");
        text.push_str(&ctx.city.name.to_uppercase());
        text.push_str(&format!(
            ", {} {} ({}) - ",
            month_name(published.month),
            published.day,
            rng.pick(AGENCIES)
        ));
        // Distinct templates: a partial shuffle of their indices.
        let mut order: [usize; SENTENCES.len()] = std::array::from_fn(|i| i);
        let sentences = rng.range(6, 16) as usize;
        let mut in_paragraph = 0;
        for i in 0..sentences {
            let j = i + rng.below(order.len() - i);
            order.swap(i, j);
            let template = SENTENCES[order[i]];
            let s = ctx.fill(&mut rng, template);
            if i > 0 {
                if in_paragraph >= 2 || (in_paragraph == 1 && rng.chance(50)) {
                    text.push_str("\n\n");
                    in_paragraph = 0;
                } else {
                    text.push(' ');
                }
            }
            text.push_str(&s);
            in_paragraph += 1;
        }
        text.push('\n');
        let id = format!("synth-{}-{index:08}", self.seed);
        Article {
            url: format!(
                "https://news.example.org/{}/{:02}/{id}",
                published.year, published.month
            ),
            id,
            title,
            published: published.to_string(),
            text,
        }
    }

    /// Writes articles 0, 1, ... as JSONL to `out` until the next one would take the dump
    /// past `max_bytes`.
    pub fn write_jsonl(&self, out: &mut dyn Write, max_bytes: u64) -> std::io::Result<Stats> {
        let mut stats = Stats::default();
        let mut line = Vec::with_capacity(8192);
        loop {
            let article = self.article(stats.articles);
            line.clear();
            serde_json::to_writer(&mut line, &article)?;
            line.push(b'\n');
            if stats.bytes + line.len() as u64 > max_bytes {
                break;
            }
            out.write_all(&line)?;
            stats.articles += 1;
            stats.bytes += line.len() as u64;
            stats.text_bytes += article.text.len() as u64;
        }
        out.flush()?;
        Ok(stats)
    }
}

fn month_name(m: u32) -> &'static str {
    crate::calendar::MONTHS[(m as usize - 1) % 12]
}

fn weekday_name(d: Ymd) -> &'static str {
    crate::calendar::WEEKDAYS[d.weekday() as usize]
}

/// What one article is about: the same town, region, country and people recur in its
/// sentences, as in a real report.
struct Context<'g> {
    g: &'g Generator,
    city: City,
    region: String,
    country: String,
    person: String,
    org: String,
    group: String,
    published: Ymd,
}

impl<'g> Context<'g> {
    fn new(g: &'g Generator, rng: &mut SplitMix64, published: Ymd) -> Context<'g> {
        let city = rng.pick(&g.cities).clone();
        let region = if city.admin1.is_empty() {
            rng.pick(&g.regions).0.clone()
        } else {
            city.admin1.clone()
        };
        let country = g
            .country_names
            .get(&city.country)
            .cloned()
            .unwrap_or_else(|| rng.pick(&g.countries).clone());
        let mut ctx = Context {
            g,
            city,
            region,
            country,
            person: String::new(),
            org: String::new(),
            group: String::new(),
            published,
        };
        ctx.person = ctx.new_person(rng);
        ctx.org = ctx.new_org(rng);
        let pattern = rng.pick(GROUPS);
        ctx.group = pattern
            .replace("{region}", &ctx.region)
            .replace("{norp}", rng.pick::<String>(&g.norps));
        ctx
    }

    fn new_person(&self, rng: &mut SplitMix64) -> String {
        if !self.g.persons.is_empty() && rng.chance(50) {
            rng.pick(&self.g.persons).clone()
        } else {
            format!("{} {}", rng.pick(GIVEN), rng.pick(FAMILY))
        }
    }

    fn new_org(&self, rng: &mut SplitMix64) -> String {
        if !self.g.orgs.is_empty() && rng.chance(50) {
            rng.pick(&self.g.orgs).clone()
        } else {
            rng.pick(ORGS).to_string()
        }
    }

    /// A day in the week before publication.
    fn recent(&self, rng: &mut SplitMix64) -> Ymd {
        self.published.add_days(-(rng.range(1, 6) as i64))
    }

    /// The template with its slots filled and its first letter capitalised.
    fn fill(&mut self, rng: &mut SplitMix64, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 64);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = open + rest[open..].find('}').expect("templates close their slots");
            let slot = &rest[open + 1..close];
            self.slot(rng, slot, &mut out);
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        if let Some(first) = out.chars().next().filter(|c| c.is_lowercase()) {
            let upper: String = first.to_uppercase().collect();
            out.replace_range(..first.len_utf8(), &upper);
        }
        out
    }

    fn slot(&mut self, rng: &mut SplitMix64, slot: &str, out: &mut String) {
        use std::fmt::Write as _;
        match slot {
            "city" => out.push_str(&self.city.name),
            "city2" => {
                // Another town of the same country where there is one.
                let mut other = rng.pick(&self.g.cities);
                for _ in 0..8 {
                    if other.country == self.city.country && other.name != self.city.name {
                        break;
                    }
                    other = rng.pick(&self.g.cities);
                }
                out.push_str(&other.name);
            }
            "region" => out.push_str(&self.region),
            "country" => out.push_str(&self.country),
            "country2" => out.push_str(rng.pick::<String>(&self.g.countries)),
            "norp" => out.push_str(rng.pick::<String>(&self.g.norps)),
            "person" => {
                if rng.chance(30) {
                    self.person = self.new_person(rng);
                }
                out.push_str(&self.person);
            }
            "official" => {
                let _ = write!(out, "{} {}", rng.pick(TITLES), self.new_person(rng));
            }
            "org" => {
                if rng.chance(30) {
                    self.org = self.new_org(rng);
                }
                out.push_str(&self.org);
            }
            "group" => out.push_str(&self.group),
            "n" | "n2" => {
                // Mostly small counts, sometimes with a qualifier.
                let n = if rng.chance(80) {
                    rng.range(2, 40)
                } else {
                    rng.range(41, 400)
                };
                let _ = write!(out, "{n}");
            }
            "nw" | "Nw" => {
                let w = rng.pick(NUMBER_WORDS);
                if slot == "Nw" {
                    let mut c = w.chars();
                    let first = c.next().expect("number words are not empty");
                    out.extend(first.to_uppercase());
                    out.push_str(c.as_str());
                } else {
                    out.push_str(w);
                }
            }
            "big" => {
                let n = rng.range(1_000, 250_000);
                let _ = write!(out, "{},{:03}", n / 1000, n % 1000);
            }
            "pop" => {
                let n = rng.range(5, 900);
                let _ = write!(out, "{n},000");
            }
            "victims" => out.push_str(rng.pick::<&str>(VICTIMS)),
            "event" => out.push_str(rng.pick::<&str>(EVENTS)),
            "weapon" => out.push_str(rng.pick::<&str>(WEAPONS)),
            "date" => {
                let d = self.recent(rng);
                match rng.below(3) {
                    0 => {
                        let _ = write!(out, "{} {}", month_name(d.month), d.day);
                    }
                    1 => {
                        let _ = write!(out, "{} {}", d.day, month_name(d.month));
                    }
                    _ => {
                        let _ = write!(out, "{} {}, {}", month_name(d.month), d.day, d.year);
                    }
                }
            }
            "weekday" => out.push_str(weekday_name(self.recent(rng))),
            "month" => out.push_str(month_name(rng.range(1, 12) as u32)),
            "year" => {
                let _ = write!(out, "{}", self.published.year - rng.range(1, 8) as i32);
            }
            other => unreachable!("template slot {{{other}}} has no filler"),
        }
    }
}

/// Parses a size such as `100MB`, `1GB`, `512k` or `2000`: decimal units (kB, MB, GB) as
/// in the throughput figures, binary ones with `i` (KiB, MiB, GiB).
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (examples: 100MB, 1GB, 4096)"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "ki" | "kib" => 1024.0,
        "mi" | "mib" => 1024.0 * 1024.0,
        "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        u => {
            return Err(format!(
                "unknown size unit {u:?} in {s:?} (use B, kB, MB, GB)"
            ))
        }
    };
    Ok((value * factor).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generator() -> Generator {
        Generator::new(&Gazetteers::builtin().unwrap(), 7).unwrap()
    }

    #[test]
    fn sizes() {
        for (input, want) in [
            ("100MB", Ok(100_000_000)),
            ("1GB", Ok(1_000_000_000)),
            ("1.5 kB", Ok(1500)),
            ("4096", Ok(4096)),
            ("2MiB", Ok(2 * 1024 * 1024)),
            ("10 parsecs", Err(())),
            ("MB", Err(())),
        ] {
            assert_eq!(parse_size(input).map_err(|_| ()), want, "{input}");
        }
    }

    #[test]
    fn every_slot_has_a_filler() {
        let g = generator();
        let mut rng = SplitMix64::new(1);
        let mut ctx = Context::new(&g, &mut rng, Ymd::new(2024, 3, 9).unwrap());
        for t in SENTENCES.iter().chain(HEADLINES) {
            let s = ctx.fill(&mut rng, t);
            assert!(!s.contains('{') && !s.contains('}'), "{t} -> {s}");
            assert!(s.chars().next().unwrap().is_uppercase(), "{s}");
        }
    }

    #[test]
    fn deterministic_and_prefix_of_a_larger_dump() {
        let g = generator();
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        g.write_jsonl(&mut a, 50_000).unwrap();
        g.write_jsonl(&mut b, 50_000).unwrap();
        let big = g.write_jsonl(&mut c, 120_000).unwrap();
        assert_eq!(a, b);
        assert!(c.starts_with(&a) && c.len() > a.len());
        assert!(big.bytes <= 120_000 && big.bytes > 110_000);
        let other = Generator::new(&Gazetteers::builtin().unwrap(), 8).unwrap();
        assert_ne!(other.article(0), g.article(0));
    }

    #[test]
    fn articles_are_valid_jsonl_with_published_dates_and_distinct_ids() {
        let g = generator();
        let mut out = Vec::new();
        let stats = g.write_jsonl(&mut out, 200_000).unwrap();
        let mut ids = std::collections::HashSet::new();
        for line in String::from_utf8(out).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(ids.insert(v["id"].as_str().unwrap().to_string()));
            assert!(Ymd::parse_iso(v["published"].as_str().unwrap()).is_some());
            assert!(v["text"].as_str().unwrap().len() > 500);
        }
        assert_eq!(ids.len() as u64, stats.articles);
    }

    #[test]
    fn articles_give_every_stage_work() {
        let pipeline = crate::PipelineBuilder::new().build().unwrap();
        let g = generator();
        // Twenty articles of some 1,400 bytes: how much each stage must find at least.
        let mut totals = [0usize; 5];
        let floors = [200, 100, 40, 5, 5];
        for i in 0..20 {
            let a = g.article(i);
            let doc = crate::Document {
                doc_id: a.id,
                text: a.text,
                published: Ymd::parse_iso(&a.published),
                ..Default::default()
            };
            let f = pipeline.process(&doc);
            totals[0] += f.entities.len();
            totals[1] += f.quantities.len();
            totals[2] += f.dates.len();
            totals[3] += f.roles.len();
            totals[4] += f.events.len();
        }
        assert!(
            totals.iter().zip(floors).all(|(&n, f)| n >= f),
            "{totals:?}"
        );
    }
}
