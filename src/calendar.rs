//! Calendar dates without time zones: enough arithmetic to resolve "last Friday" against a
//! publication date, and a lenient parser for the `published` fields of article dumps.

use std::fmt;

/// A proleptic Gregorian calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ymd {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

/// English month names as written, January first.
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// English weekday names as written, Monday first (ISO order).
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The month number (1-12) of an English month name or abbreviation ("Aug", "Aug.", "Sept").
pub fn month_number(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    if w == "sept" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|m| {
            m.eq_ignore_ascii_case(&w) || (w.len() == 3 && m[..3].eq_ignore_ascii_case(&w))
        })
        .map(|i| i as u32 + 1)
}

/// Days in `month` of `year`.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl Ymd {
    /// A date, if it exists in the calendar.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Ymd> {
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
            .then_some(Ymd { year, month, day })
    }

    /// Days since 1970-01-01 (negative before).
    pub fn to_days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Ymd {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Ymd { year, month, day }
    }

    /// This date moved by `n` days.
    pub fn add_days(self, n: i64) -> Ymd {
        Ymd::from_days(self.to_days() + n)
    }

    /// ISO weekday index: 0 = Monday ... 6 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (index 3).
        ((self.to_days() + 3).rem_euclid(7)) as u32
    }

    /// Parses `YYYY-MM-DD`, optionally followed by a time (`T...` or ` ...`).
    pub fn parse_iso(s: &str) -> Option<Ymd> {
        let s = s.trim();
        let date = s.get(..10)?;
        let rest = &s[10..];
        if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ')) {
            return None;
        }
        let b = date.as_bytes();
        if b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = date[..4].parse().ok()?;
        let month = date[5..7].parse().ok()?;
        let day = date[8..10].parse().ok()?;
        Ymd::new(year, month, day)
    }

    /// Parses the date forms that article dumps use in their `published` fields:
    /// ISO dates and timestamps, `YYYY/MM/DD`, `14 September 2024`, `September 14, 2024`,
    /// `Sep 14 2024`, optionally after a weekday (`Sat, 14 Sep 2024 10:00:00 GMT`).
    pub fn parse_loose(s: &str) -> Option<Ymd> {
        if let Some(d) = Ymd::parse_iso(s) {
            return Some(d);
        }
        let words: Vec<&str> = s
            .split(|c: char| c.is_whitespace() || c == ',' || c == '/' || c == '-')
            .filter(|w| !w.is_empty())
            .collect();
        let num = |w: &str| w.parse::<i64>().ok();
        // YYYY/MM/DD or YYYY MM DD
        if words.len() >= 3 {
            if let (Some(y), Some(m), Some(d)) = (num(words[0]), num(words[1]), num(words[2])) {
                if words[0].len() == 4 {
                    return Ymd::new(y as i32, m as u32, d as u32);
                }
            }
        }
        let mut year = None;
        let mut month = None;
        let mut day = None;
        for w in &words {
            if let Some(m) = month_number(w) {
                month.get_or_insert(m);
            } else if let Some(n) = num(w) {
                if w.len() == 4 && year.is_none() {
                    year = Some(n as i32);
                } else if w.len() <= 2 && day.is_none() {
                    day = Some(n as u32);
                }
            }
        }
        Ymd::new(year?, month?, day?)
    }
}

impl fmt::Display for Ymd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Ymd {
    /// Appends the date as `Display` writes it (`{:04}-{:02}-{:02}`): by hand for the
    /// years 0 to 9999 (a tenth of the cost of `write!`, which the CSV sink pays per
    /// document), through `Display` otherwise.
    pub fn write_to(self, out: &mut Vec<u8>) {
        if (0..=9999).contains(&self.year) && self.month < 100 && self.day < 100 {
            let (y, m, day) = (self.year as u32, self.month, self.day);
            let digit = |n: u32| b'0' + n as u8;
            out.extend_from_slice(&[
                digit(y / 1000),
                digit(y / 100 % 10),
                digit(y / 10 % 10),
                digit(y % 10),
                b'-',
                digit(m / 10),
                digit(m % 10),
                b'-',
                digit(day / 10),
                digit(day % 10),
            ]);
        } else {
            use std::io::Write as _;
            write!(out, "{self}").expect("formatting into a Vec");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_displayed() {
        for (year, month, day) in [
            (2024, 9, 14),
            (0, 1, 1),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 2, 3),
            (-2024, 10, 5),
            (7, 7, 7),
        ] {
            let d = Ymd { year, month, day };
            let mut got = b",".to_vec();
            d.write_to(&mut got);
            assert_eq!(String::from_utf8(got).unwrap(), format!(",{d}"));
        }
    }

    #[test]
    fn day_numbers_round_trip() {
        for days in [-800_000, -1, 0, 1, 19_980, 20_000, 60_000] {
            assert_eq!(Ymd::from_days(days).to_days(), days);
        }
        assert_eq!(Ymd::new(2024, 9, 14).unwrap().to_days(), 19_980);
    }

    #[test]
    fn weekdays() {
        // 14 September 2024 was a Saturday.
        assert_eq!(Ymd::new(2024, 9, 14).unwrap().weekday(), 5);
        assert_eq!(Ymd::new(2000, 1, 1).unwrap().weekday(), 5);
    }

    #[test]
    fn rejects_impossible_dates() {
        assert!(Ymd::new(2023, 2, 29).is_none());
        assert!(Ymd::new(2024, 2, 29).is_some());
        assert!(Ymd::new(2024, 13, 1).is_none());
    }

    #[test]
    fn parses_published_fields() {
        let want = Ymd::new(2024, 9, 14);
        for s in [
            "2024-09-14",
            "2024-09-14T08:30:00Z",
            "2024-09-14 08:30",
            "2024/09/14",
            "14 September 2024",
            "September 14, 2024",
            "Sat, 14 Sep 2024 10:00:00 GMT",
        ] {
            assert_eq!(Ymd::parse_loose(s), want, "{s}");
        }
        for s in ["", "yesterday", "2024", "September 2024", "2024-9-14x"] {
            assert_eq!(Ymd::parse_loose(s), None, "{s}");
        }
    }

    #[test]
    fn month_names_and_abbreviations() {
        assert_eq!(month_number("Aug."), Some(8));
        assert_eq!(month_number("Sept"), Some(9));
        assert_eq!(month_number("may"), Some(5));
        assert_eq!(month_number("Ma"), None);
        assert_eq!(month_number("Mayday"), None);
    }
}
