//! How numbers and days are written for the reader: by the conventions of
//! their browser's language. The server picks them from the languages the
//! browser asks for (`Accept-Language`), formats with them, and writes
//! them into the page (`<html lang data-format>`), so that what the browser
//! formats afterwards reads exactly like what the server sent.

use std::sync::Arc;

use chrono::format::{Item, Numeric, StrftimeItems};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

/// The conventions of one language and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Locale {
    /// The language tag, for the page's `lang`: `de-DE`.
    pub tag: String,
    /// Between groups of digits: `,`, `.`, a narrow space, or nothing.
    pub group: String,
    /// Digits in the group nearest the decimal sign, then in each further
    /// group (3 and 3 mostly; 3 and 2 in India).
    pub first_group: u8,
    pub next_groups: u8,
    /// Before the fraction: `.` or `,`.
    pub decimal: String,
    /// A day as a pattern of numeric fields: `%d.%m.%Y`, `%m/%d/%Y`.
    pub day: String,
    pub clock: Clock,
}

/// How a time of day is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Clock {
    /// `14:07`
    TwentyFour,
    /// `2:07 PM`, with the language's words for before and after noon.
    Twelve { am: String, pm: String },
}

/// Days written as `2024-03-05` where a language's own form cannot be used.
pub const ISO_DAY: &str = "%Y-%m-%d";

impl Default for Locale {
    /// What is written when the browser names no language known here.
    fn default() -> Self {
        Self {
            tag: "en".into(),
            group: ",".into(),
            first_group: 3,
            next_groups: 3,
            decimal: ".".into(),
            day: ISO_DAY.into(),
            clock: Clock::TwentyFour,
        }
    }
}

impl Locale {
    /// The same conventions with whatever could not be written safely
    /// replaced: a day pattern with other than numeric day, month and year
    /// fields (names would be English), two-digit years (a history spans
    /// decades) and groups of no digits. The page's copy passes here too.
    pub fn checked(mut self) -> Self {
        self.day = self.day.replace("%y", "%Y");
        let numeric_only = StrftimeItems::new(&self.day).all(|item| match item {
            Item::Numeric(Numeric::Day | Numeric::Month | Numeric::Year, _) => true,
            Item::Literal(text) => !text.is_empty(),
            Item::Space(_) => true,
            _ => false,
        });
        if !numeric_only || !self.day.contains("%Y") {
            self.day = ISO_DAY.into();
        }
        if self.first_group == 0 || self.next_groups == 0 {
            self.group.clear();
        }
        self
    }

    /// `1234567` → `1,234,567` (`1.234.567`, `12,34,567`).
    pub fn count(&self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        // Where each group starts, counted from the right.
        let mut cuts = Vec::new();
        let (first, next) = (usize::from(self.first_group), usize::from(self.next_groups));
        if !self.group.is_empty() && first > 0 {
            let mut at = first;
            while at < digits.len() {
                cuts.push(digits.len() - at);
                if next == 0 {
                    break;
                }
                at += next;
            }
        }
        let mut text = String::with_capacity(digits.len() + cuts.len() * self.group.len() + 1);
        if n < 0 {
            text.push('-');
        }
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && cuts.contains(&i) {
                text.push_str(&self.group);
            }
            text.push(digit);
        }
        text
    }

    /// Listening time in hours with one decimal: `5_400_000` ms → `1.5`.
    pub fn hours(&self, ms: i64) -> String {
        let tenths = (ms as f64 / 360_000.0).round() as i64;
        let sign = if tenths < 0 { "-" } else { "" };
        let tenths = tenths.abs();
        format!(
            "{sign}{}{}{}",
            self.count(tenths / 10),
            self.decimal,
            tenths % 10
        )
    }

    /// A day: `2024-03-05`, `05.03.2024`, `03/05/2024`.
    pub fn day(&self, day: NaiveDate) -> String {
        use std::fmt::Write;
        let mut text = String::new();
        // A pattern chrono cannot read fails here rather than panicking.
        match write!(text, "{}", day.format(&self.day)) {
            Ok(()) => text,
            Err(_) => day.format(ISO_DAY).to_string(),
        }
    }

    /// A day and its time of day: `05.03.2024 14:07`.
    pub fn moment(&self, at: NaiveDateTime, seconds: bool) -> String {
        format!("{} {}", self.day(at.date()), self.time(at.time(), seconds))
    }

    /// A time of day to the minute, or to the second with `seconds`.
    pub fn time(&self, time: NaiveTime, seconds: bool) -> String {
        let rest = if seconds {
            format!(":{:02}:{:02}", time.minute(), time.second())
        } else {
            format!(":{:02}", time.minute())
        };
        match &self.clock {
            Clock::TwentyFour => format!("{:02}{rest}", time.hour()),
            Clock::Twelve { am, pm } => {
                let (after_noon, hour) = time.hour12();
                let half = if after_noon { pm } else { am };
                format!("{hour}{rest} {half}")
            }
        }
    }
}

/// The reader's conventions: those the server picked for this request, or
/// those the page was written with; the default outside a page.
pub fn current() -> Arc<Locale> {
    use leptos::prelude::use_context;
    use_context::<Arc<Locale>>().unwrap_or_default()
}

/// The conventions the page was written with, read back in the browser.
#[cfg(feature = "hydrate")]
pub fn from_page() -> Locale {
    leptos::prelude::document()
        .document_element()
        .and_then(|html| html.get_attribute(FORMAT_ATTRIBUTE))
        .and_then(|json| serde_json::from_str::<Locale>(&json).ok())
        .map(Locale::checked)
        .unwrap_or_default()
}

/// The attribute of `<html>` that carries the conventions to the browser.
pub const FORMAT_ATTRIBUTE: &str = "data-format";

#[cfg(test)]
mod tests {
    use super::*;

    fn german() -> Locale {
        Locale {
            tag: "de-DE".into(),
            group: ".".into(),
            decimal: ",".into(),
            day: "%d.%m.%Y".into(),
            ..Locale::default()
        }
    }

    #[test]
    fn numbers_follow_the_language() {
        let english = Locale::default();
        assert_eq!(english.count(0), "0");
        assert_eq!(english.count(999), "999");
        assert_eq!(english.count(1000), "1,000");
        assert_eq!(english.count(-1_234_567), "-1,234,567");
        assert_eq!(german().count(1_234_567), "1.234.567");
        assert_eq!(german().hours(3_600_000 * 1234 + 180_000), "1.234,1");
        assert_eq!(english.hours(-5_400_000), "-1.5");
        let indian = Locale {
            next_groups: 2,
            ..Locale::default()
        };
        assert_eq!(indian.count(123_456_789), "12,34,56,789");
        let ungrouped = Locale {
            first_group: 0,
            ..Locale::default()
        }
        .checked();
        assert_eq!(ungrouped.count(123_456), "123456");
    }

    #[test]
    fn days_and_times_follow_the_language() {
        let day = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        assert_eq!(Locale::default().day(day), "2024-03-05");
        assert_eq!(german().day(day), "05.03.2024");
        let time = NaiveTime::from_hms_opt(14, 7, 9).unwrap();
        assert_eq!(german().time(time, false), "14:07");
        let american = Locale {
            day: "%m/%d/%y".into(),
            clock: Clock::Twelve {
                am: "AM".into(),
                pm: "PM".into(),
            },
            ..Locale::default()
        }
        .checked();
        assert_eq!(american.day(day), "03/05/2024");
        assert_eq!(american.time(time, true), "2:07:09 PM");
        let midnight = NaiveTime::from_hms_opt(0, 5, 0).unwrap();
        assert_eq!(american.time(midnight, false), "12:05 AM");
    }

    #[test]
    fn unsafe_day_patterns_fall_back_to_iso() {
        let day = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        for pattern in ["%a %d %b %Y", "%Q", "%d.%m.", "%", "%Y-%m-%d %H"] {
            let locale = Locale {
                day: pattern.into(),
                ..Locale::default()
            };
            assert_eq!(locale.clone().checked().day(day), "2024-03-05", "{pattern}");
        }
        // Even unchecked, a pattern chrono cannot read writes ISO, never panics.
        for pattern in ["%Q", "%"] {
            let locale = Locale {
                day: pattern.into(),
                ..Locale::default()
            };
            assert_eq!(locale.day(day), "2024-03-05", "{pattern}");
        }
        let japanese = Locale {
            day: "%Y年%m月%d日".into(),
            ..Locale::default()
        }
        .checked();
        assert_eq!(japanese.day(day), "2024年03月05日");
    }
}
