//! Calendar dates without time zones, as printed on credentials.
//!
//! The domain needs only proleptic Gregorian dates, comparison, ages and the
//! two textual forms in use (ISO `YYYY-MM-DD` for machines, `dd/mm/aaaa` for
//! people), so it carries its own small type instead of a date library.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A valid calendar date (fecha).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// Why a text is not an ISO date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("expected a date written YYYY-MM-DD, got {0:?}")]
    Format(String),
    #[error("{0:?} is not a real calendar date")]
    NotReal(String),
}

impl Date {
    /// The date, if it exists in the calendar.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Self { year, month, day })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse_iso(text: &str) -> Result<Self, DateError> {
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shaped {
            return Err(DateError::Format(text.to_owned()));
        }
        let number = |range: std::ops::Range<usize>| -> u32 {
            text[range]
                .bytes()
                .fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
        };
        // The ranges hold at most four digits, so the casts cannot truncate.
        let (year, month, day) = (number(0..4) as i32, number(5..7) as u8, number(8..10) as u8);
        Self::new(year, month, day).ok_or_else(|| DateError::NotReal(text.to_owned()))
    }

    /// The `dd/mm/aaaa` form Spanish-speaking users read.
    pub fn to_es(self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }

    /// `YYMMDD`, the form used inside MRZ, clave de elector and CURP.
    pub fn to_yymmdd(self) -> String {
        format!(
            "{:02}{:02}{:02}",
            self.year.rem_euclid(100),
            self.month,
            self.day
        )
    }

    /// Completed years from `self` to `reference` (negative if `reference` is earlier).
    pub fn years_until(self, reference: Date) -> i32 {
        let mut years = reference.year - self.year;
        if (reference.month, reference.day) < (self.month, self.day) {
            years -= 1;
        }
        years
    }

    /// The same day `years` later, with 29 February falling to 28 February in common years.
    pub fn add_years(self, years: i32) -> Self {
        let year = self.year + years;
        let day = self.day.min(days_in_month(year, self.month));
        Self {
            year,
            month: self.month,
            day,
        }
    }

    /// Days since 1970-01-01 (negative before), for arithmetic in generators and tests.
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The inverse of [`Date::days_since_epoch`].
    pub fn from_days_since_epoch(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }
}

/// Whether `year` is a Gregorian leap year.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1–12) of `year`; 0 for a month that does not exist.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A `YYMMDD` date whose century is not written down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ShortDate {
    pub yy: u8,
    pub month: u8,
    pub day: u8,
}

impl ShortDate {
    /// Reads six ASCII digits; `None` if they are not digits.
    pub fn parse_digits(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 6 || !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let pair = |i: usize| (bytes[i] - b'0') * 10 + (bytes[i + 1] - b'0');
        Some(Self {
            yy: pair(0),
            month: pair(2),
            day: pair(4),
        })
    }

    /// The date in the given century (19 or 20), if real there.
    pub fn in_century(self, century: i32) -> Option<Date> {
        Date::new(century * 100 + i32::from(self.yy), self.month, self.day)
    }

    /// Whether the month and day exist in at least one of the centuries in use (1900s, 2000s).
    pub fn is_real(self) -> bool {
        self.in_century(19).is_some() || self.in_century(20).is_some()
    }

    /// The birth date with the century that makes the holder's age plausible at `reference`:
    /// the 2000s when the holder would be at least [`MIN_HOLDER_AGE`] then, the 1900s otherwise.
    pub fn resolve_birth_date(self, reference: Date) -> Option<Date> {
        match (self.in_century(20), self.in_century(19)) {
            (Some(recent), _) if recent.years_until(reference) >= MIN_HOLDER_AGE => Some(recent),
            (_, Some(older)) => Some(older),
            (recent, None) => recent,
        }
    }

    /// Expiry dates on credentials are all in the 2000s.
    pub fn resolve_expiry_date(self) -> Option<Date> {
        self.in_century(20)
    }

    pub fn matches(self, date: Date) -> bool {
        date.year().rem_euclid(100) == i32::from(self.yy)
            && date.month() == self.month
            && date.day() == self.day
    }
}

/// INE registers citizens from 17 when they turn 18 before election day.
pub const MIN_HOLDER_AGE: i32 = 17;

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse_iso(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::new(y, m, day).unwrap_or_else(|| panic!("bad test date {y}-{m}-{day}"))
    }

    #[test]
    fn rejects_dates_that_do_not_exist() {
        assert!(Date::new(2023, 2, 29).is_none());
        assert!(Date::new(2024, 2, 29).is_some());
        assert!(Date::new(1900, 2, 29).is_none());
        assert!(Date::new(2000, 2, 29).is_some());
        assert!(Date::new(2024, 4, 31).is_none());
        assert!(Date::new(2024, 13, 1).is_none());
        assert!(Date::new(2024, 0, 1).is_none());
        assert!(Date::new(2024, 1, 0).is_none());
    }

    #[test]
    fn parses_and_prints_iso_and_spanish_forms() {
        let date = Date::parse_iso("1985-01-09").ok();
        assert_eq!(date, Some(d(1985, 1, 9)));
        assert_eq!(d(1985, 1, 9).to_string(), "1985-01-09");
        assert_eq!(d(1985, 1, 9).to_es(), "09/01/1985");
        assert_eq!(d(2005, 12, 31).to_yymmdd(), "051231");
        assert!(matches!(
            Date::parse_iso("1985-1-9"),
            Err(DateError::Format(_))
        ));
        assert!(matches!(
            Date::parse_iso("1985-02-30"),
            Err(DateError::NotReal(_))
        ));
        assert!(matches!(
            Date::parse_iso("19850109"),
            Err(DateError::Format(_))
        ));
        assert!(matches!(
            Date::parse_iso("１９８５-01-09"),
            Err(DateError::Format(_))
        ));
    }

    #[test]
    fn counts_completed_years() {
        let born = d(2000, 6, 15);
        assert_eq!(born.years_until(d(2018, 6, 14)), 17);
        assert_eq!(born.years_until(d(2018, 6, 15)), 18);
        assert_eq!(d(2000, 2, 29).add_years(1), d(2001, 2, 28));
    }

    #[test]
    fn chooses_the_plausible_century_for_birth_dates() {
        let reference = d(2026, 11, 28);
        let short = |s: &str| ShortDate::parse_digits(s).unwrap_or_else(|| panic!("{s}"));
        assert_eq!(
            short("850101").resolve_birth_date(reference),
            Some(d(1985, 1, 1))
        );
        assert_eq!(
            short("051231").resolve_birth_date(reference),
            Some(d(2005, 12, 31))
        );
        // Nine years old in the 2000s: must be the 1900s.
        assert_eq!(
            short("170101").resolve_birth_date(reference),
            Some(d(1917, 1, 1))
        );
        // 29 February 2000 exists, 29 February 1900 does not.
        assert_eq!(
            short("000229").resolve_birth_date(d(2010, 1, 1)),
            Some(d(2000, 2, 29))
        );
        assert!(short("001329").resolve_birth_date(reference).is_none());
        assert!(ShortDate::parse_digits("85010A").is_none());
    }

    proptest! {
        #[test]
        fn epoch_days_round_trip(days in -80_000i64..80_000) {
            let date = Date::from_days_since_epoch(days);
            prop_assert_eq!(date.days_since_epoch(), days);
            prop_assert!(Date::new(date.year(), date.month(), date.day()).is_some());
        }

        #[test]
        fn iso_round_trip(days in -80_000i64..80_000) {
            let date = Date::from_days_since_epoch(days);
            prop_assert_eq!(Date::parse_iso(&date.to_string()), Ok(date));
        }

        #[test]
        fn parse_iso_never_panics(text in "\\PC{0,12}") {
            let _ = Date::parse_iso(&text);
        }
    }
}
