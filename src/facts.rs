//! The facts the stages find in a document: one type per output table.
//!
//! Every fact keeps its provenance: the byte span in [`crate::Document::text`] it was read
//! from and the rule that made it. Spans are bytes here and become character offsets in
//! the sinks.

use std::fmt;
use std::sync::Arc;

/// A byte range `start..end` in a document's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        debug_assert!(start <= end);
        Span { start, end }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn contains(&self, other: &Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// The kinds of entity of the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityType {
    Person,
    Org,
    Place,
    /// Nationalities, ethnic and religious groups.
    Norp,
}

impl EntityType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Person => "PERSON",
            EntityType::Org => "ORG",
            EntityType::Place => "PLACE",
            EntityType::Norp => "NORP",
        }
    }

    pub fn parse(s: &str) -> Option<EntityType> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PERSON" => Some(EntityType::Person),
            "ORG" => Some(EntityType::Org),
            "PLACE" => Some(EntityType::Place),
            "NORP" => Some(EntityType::Norp),
            _ => None,
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that many facts hold alike: a gazetteer entry's canonical name, id and kind, a
/// rule's name.
///
/// Why not `String`: every mention of a gazetteer entry carries the same strings, and as
/// `String`s each was allocated, copied and freed per mention, and again at every clone by
/// coreference, events and roles (allocation was some 10% of the CPU profile). Cloning a
/// `SharedStr` copies a pointer (`&'static str`: rule names, literal kinds) or bumps a
/// reference count (`Arc<str>`: the gazetteers' strings, made once at load). It reads as a
/// `&str` (`Deref`), compares with `&str` and `String`, and orders, hashes and prints as its
/// text.
///
/// ```
/// use gleaner::facts::SharedStr;
///
/// let kind = SharedStr::from("city");
/// let id = SharedStr::from(String::from("L:gn98182"));
/// assert!(kind == "city" && id.starts_with("L:"));
/// assert_eq!(id.clone(), id);
/// ```
#[derive(Clone)]
pub struct SharedStr(SharedRepr);

#[derive(Clone)]
enum SharedRepr {
    Static(&'static str),
    Shared(Arc<str>),
}

impl SharedStr {
    /// A shared copy of `s` (one allocation; clones of it make none).
    pub fn new(s: &str) -> SharedStr {
        SharedStr(SharedRepr::Shared(Arc::from(s)))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            SharedRepr::Static(s) => s,
            SharedRepr::Shared(s) => s,
        }
    }
}

impl Default for SharedStr {
    fn default() -> SharedStr {
        SharedStr(SharedRepr::Static(""))
    }
}

impl std::ops::Deref for SharedStr {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for SharedStr {
    fn from(s: &'static str) -> SharedStr {
        SharedStr(SharedRepr::Static(s))
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> SharedStr {
        SharedStr(SharedRepr::Shared(Arc::from(s)))
    }
}

impl From<Arc<str>> for SharedStr {
    fn from(s: Arc<str>) -> SharedStr {
        SharedStr(SharedRepr::Shared(s))
    }
}

impl PartialEq for SharedStr {
    fn eq(&self, other: &SharedStr) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SharedStr {}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SharedStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialOrd for SharedStr {
    fn partial_cmp(&self, other: &SharedStr) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SharedStr {
    fn cmp(&self, other: &SharedStr) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for SharedStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a place is: country, first-level region and coordinates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Geo {
    /// ISO 3166-1 alpha-2 code.
    pub country: String,
    /// First-level region name.
    pub admin1: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// A mention of a person, organisation, place or group.
///
/// Everything but the span and the text is the same for every mention of one gazetteer
/// entry, and is shared with the entry rather than copied (see [`SharedStr`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Entity {
    pub span: Span,
    pub text: String,
    pub etype: EntityType,
    /// The preferred name: from the gazetteer, or the normalised text.
    pub canonical: SharedStr,
    /// Stable id shared by every spelling of the entity, in every document and run.
    pub entity_id: SharedStr,
    /// Subtype from the gazetteer (`country`, `city`, `armed_group`...), or empty.
    pub kind: SharedStr,
    /// For places: where they are.
    pub geo: Option<Arc<Geo>>,
    pub rule: SharedStr,
}

/// How a number is qualified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Qualifier {
    #[default]
    Exact,
    AtLeast,
    MoreThan,
    About,
    UpTo,
    LessThan,
}

impl Qualifier {
    pub fn as_str(self) -> &'static str {
        match self {
            Qualifier::Exact => "exact",
            Qualifier::AtLeast => "at_least",
            Qualifier::MoreThan => "more_than",
            Qualifier::About => "about",
            Qualifier::UpTo => "up_to",
            Qualifier::LessThan => "less_than",
        }
    }

    pub fn parse(s: &str) -> Option<Qualifier> {
        Some(match s {
            "exact" | "" => Qualifier::Exact,
            "at_least" => Qualifier::AtLeast,
            "more_than" => Qualifier::MoreThan,
            "about" => Qualifier::About,
            "up_to" => Qualifier::UpTo,
            "less_than" => Qualifier::LessThan,
            _ => return None,
        })
    }
}

/// What a number counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Killed,
    Injured,
    Captured,
    Troops,
    Money,
    #[default]
    Other,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Killed => "killed",
            Category::Injured => "injured",
            Category::Captured => "captured",
            Category::Troops => "troops",
            Category::Money => "money",
            Category::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Some(match s {
            "killed" => Category::Killed,
            "injured" => Category::Injured,
            "captured" => Category::Captured,
            "troops" => Category::Troops,
            "money" => Category::Money,
            "other" => Category::Other,
            _ => return None,
        })
    }
}

/// A number written in the text, with what it counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    pub span: Span,
    pub text: String,
    pub value: f64,
    /// Upper end of a range ("1,500 to 3,000").
    pub value_max: Option<f64>,
    pub qualifier: Qualifier,
    /// Currency code for money (`USD`), else empty.
    pub unit: String,
    pub category: Category,
    /// What was counted ("US soldiers", "IS militants"), when the text says.
    pub subject: String,
    pub rule: String,
}

/// A date modifier, TIMEX3 style.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DateMod {
    Start,
    Mid,
    End,
    Approx,
    Before,
    After,
}

impl DateMod {
    pub fn as_str(self) -> &'static str {
        match self {
            DateMod::Start => "START",
            DateMod::Mid => "MID",
            DateMod::End => "END",
            DateMod::Approx => "APPROX",
            DateMod::Before => "BEFORE",
            DateMod::After => "AFTER",
        }
    }

    pub fn parse(s: &str) -> Option<DateMod> {
        Some(match s.to_ascii_uppercase().as_str() {
            "START" => DateMod::Start,
            "MID" => DateMod::Mid,
            "END" => DateMod::End,
            "APPROX" => DateMod::Approx,
            "BEFORE" => DateMod::Before,
            "AFTER" => DateMod::After,
            _ => return None,
        })
    }
}

/// A calendar expression, with its normalised value.
#[derive(Clone, Debug, PartialEq)]
pub struct DateFact {
    pub span: Span,
    pub text: String,
    /// TIMEX3-style value (`2024-08-29`, `XXXX-08`, `2024-H1`), `None` when it cannot be
    /// known (a weekday in an article without a publication date).
    pub value: Option<String>,
    pub modifier: Option<DateMod>,
    pub rule: String,
}

/// A person holding a title, rank or function.
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    pub person: String,
    pub person_id: String,
    /// Normalised title ("spokesman", "deputy commander", "prime minister").
    pub role: String,
    pub organization: String,
    pub place: String,
    /// The evidence: from the first to the last word used.
    pub span: Span,
    pub rule: String,
}

/// An incident reported in one document.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Event {
    /// `<doc_id>#<n>`, numbered in text order.
    pub event_id: String,
    /// raid, airstrike, attack, bombing, ambush, clash, arrest, ...
    pub etype: String,
    pub date: Option<String>,
    /// The place as the article writes it ("western Anbar province" -> "Anbar province").
    pub place: String,
    pub place_id: String,
    /// The place's gazetteer name and kind (`city`, `feature`, `region`, `country`...), which
    /// the cross-document merge needs to tell a town from the region around it.
    pub place_canonical: String,
    pub place_kind: String,
    pub geo: Geo,
    /// Who acted.
    pub actors: Vec<String>,
    /// Who was targeted.
    pub targets: Vec<String>,
    pub killed: Option<u64>,
    pub injured: Option<u64>,
    pub captured: Option<u64>,
    pub span: Span,
    pub rule: String,
    /// Not the document's first incident: an earlier one recalled in passing, or a second
    /// incident in a round-up. See docs/incidents.md for what this changes in the merge.
    pub background: bool,
}

/// Everything found in one document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    pub entities: Vec<Entity>,
    pub quantities: Vec<Quantity>,
    pub dates: Vec<DateFact>,
    pub roles: Vec<Role>,
    pub events: Vec<Event>,
    /// The publication date found by the stages in the article's header or dateline, when
    /// the input gave none (documents.csv says which in `published_from`).
    pub published: Option<crate::calendar::Ymd>,
}

impl Facts {
    /// Puts every list in text order, so that the output does not depend on the order in
    /// which rules ran.
    pub fn sort(&mut self) {
        self.entities
            .sort_by(|a, b| (a.span, &a.rule, &a.canonical).cmp(&(b.span, &b.rule, &b.canonical)));
        self.quantities.sort_by(|a, b| {
            (a.span, a.category, &a.rule)
                .cmp(&(b.span, b.category, &b.rule))
                .then(a.value.total_cmp(&b.value))
        });
        self.dates
            .sort_by(|a, b| (a.span, &a.value, &a.rule).cmp(&(b.span, &b.value, &b.rule)));
        self.roles
            .sort_by(|a, b| (a.span, &a.person, &a.role).cmp(&(b.span, &b.person, &b.role)));
        self.events.sort_by_key(|e| e.span);
    }
}
