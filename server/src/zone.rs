//! The time zone a person reads their figures in (an IANA name, a setting
//! of their account): their days, hours, weeks, months and years begin at
//! its midnights, daylight-saving changes included. Instants are kept in
//! UTC milliseconds everywhere else; only questions about days and hours
//! see a zone.

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// A time zone of the IANA database, written as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Zone(Tz);

/// A name that is not a zone of the IANA database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a time zone name such as Europe/Berlin, America/New_York or UTC")]
pub struct UnknownZone(String);

impl Zone {
    pub const UTC: Zone = Zone(Tz::UTC);

    /// The zone of an IANA name (`Europe/Berlin`), as written or in any case.
    pub fn parse(name: &str) -> Result<Self, UnknownZone> {
        let name = name.trim();
        let found = name.parse::<Tz>().ok().or_else(|| {
            (chrono_tz::TZ_VARIANTS.iter())
                .find(|tz| tz.name().eq_ignore_ascii_case(name))
                .copied()
        });
        found
            .map(Zone)
            .ok_or_else(|| UnknownZone(app::format::ellipsize(name, 60)))
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// Every zone's name, in the database's order (by name).
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    /// Its offset from UTC at instant `at` (milliseconds since the epoch).
    pub fn offset_ms(self, at: i64) -> i64 {
        if self == Zone::UTC {
            return 0;
        }
        let utc = instant(at).naive_utc();
        i64::from(
            self.0
                .offset_from_utc_datetime(&utc)
                .fix()
                .local_minus_utc(),
        ) * 1000
    }

    /// The date and time on its clocks at `at`.
    pub fn local(self, at: i64) -> NaiveDateTime {
        instant(at.saturating_add(self.offset_ms(at))).naive_utc()
    }

    /// The day on its clocks at `at`.
    pub fn day_of(self, at: i64) -> NaiveDate {
        self.local(at).date()
    }

    /// The instant `at` as its clocks show it, with their offset.
    pub fn at(self, at: i64) -> DateTime<FixedOffset> {
        let offset = FixedOffset::east_opt((self.offset_ms(at) / 1000) as i32)
            .unwrap_or(FixedOffset::east_opt(0).expect("zero is an offset"));
        instant(at).with_timezone(&offset)
    }

    /// The instant its clocks show `local`: the first of two when clocks
    /// go back; `None` when they skip it.
    pub fn instant_of(self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        self.0
            .from_local_datetime(&local)
            .earliest()
            .map(|at| at.with_timezone(&Utc))
    }

    /// Today on its clocks.
    pub fn today(self) -> NaiveDate {
        self.day_of(Utc::now().timestamp_millis())
    }

    /// The first instant of `day` on its clocks: its midnight, or when a
    /// daylight-saving change skips midnight, the instant the day begins;
    /// for a day the zone skipped whole, the next day's.
    pub fn midnight(self, day: NaiveDate) -> i64 {
        let start = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        // Clocks jump by whole quarter hours: the first quarter that exists
        // is the day's start (Samoa skipped 2011-12-30, all of it).
        for quarter in 0..(4 * 24 * 2) {
            let local = start + chrono::Duration::minutes(15 * quarter);
            if let Some(begins) = self.0.from_local_datetime(&local).earliest() {
                return begins.timestamp_millis();
            }
        }
        Utc.from_utc_datetime(&start).timestamp_millis()
    }
}

fn instant(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl Default for Zone {
    fn default() -> Self {
        Zone::UTC
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<String> for Zone {
    type Error = UnknownZone;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        Zone::parse(&name)
    }
}

impl From<Zone> for String {
    fn from(zone: Zone) -> Self {
        zone.name().to_string()
    }
}

/// Local days and hours of many instants in time order: a zone's offset
/// is looked up once per UTC day (it changes at most once in a day), and
/// per instant only on a day it changes.
#[derive(Debug)]
pub struct LocalClock {
    zone: Zone,
    /// The UTC day last looked at, and its offset when one all day.
    day: Option<(i64, Option<i64>)>,
}

impl LocalClock {
    pub fn new(zone: Zone) -> Self {
        Self { zone, day: None }
    }

    /// Its offset at `at`, in milliseconds.
    pub fn offset_ms(&mut self, at: i64) -> i64 {
        if self.zone == Zone::UTC {
            return 0;
        }
        let day = at.div_euclid(DAY_MS);
        let all_day = match self.day {
            Some((known, all_day)) if known == day => all_day,
            _ => {
                let start = self.zone.offset_ms(day * DAY_MS);
                let end = self.zone.offset_ms(day * DAY_MS + DAY_MS - 1);
                let all_day = (start == end).then_some(start);
                self.day = Some((day, all_day));
                all_day
            }
        };
        all_day.unwrap_or_else(|| self.zone.offset_ms(at))
    }

    /// The local day of `at`, counted in days since 1970-01-01.
    pub fn day_number(&mut self, at: i64) -> i64 {
        (at + self.offset_ms(at)).div_euclid(DAY_MS)
    }

    /// The first day of the local month of `at`.
    pub fn month_of(&mut self, at: i64) -> NaiveDate {
        let day = date_of_day_number(self.day_number(at));
        day.with_day(1).unwrap_or(day)
    }

    /// Milliseconds since the local midnight of `at`'s day.
    pub fn time_of_day(&mut self, at: i64) -> i64 {
        (at + self.offset_ms(at)).rem_euclid(DAY_MS)
    }
}

/// The date of a day counted since 1970-01-01.
pub fn date_of_day_number(day: i64) -> NaiveDate {
    DateTime::from_timestamp(day * 86_400, 0)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
        .date_naive()
}

/// The weekday of a day counted since 1970-01-01 (a Thursday), Monday 0.
pub fn weekday_of_day_number(day: i64) -> u8 {
    (day + 3).rem_euclid(7) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn names_are_read_in_any_case_and_unknown_ones_refused_with_an_example() {
        assert_eq!(Zone::parse("Asia/Tokyo").unwrap().name(), "Asia/Tokyo");
        assert_eq!(Zone::parse(" asia/tokyo ").unwrap().name(), "Asia/Tokyo");
        assert_eq!(Zone::parse("UTC").unwrap(), Zone::UTC);
        let refused = Zone::parse("Mars/Olympus<b>").unwrap_err().to_string();
        assert!(refused.contains("Europe/Berlin"), "{refused}");
        assert!(Zone::names().any(|name| name == "America/Sao_Paulo"));
        let json = serde_json::to_string(&Zone::parse("Europe/Berlin").unwrap()).unwrap();
        assert_eq!(json, "\"Europe/Berlin\"");
        assert!(serde_json::from_str::<Zone>("\"Nowhere\"").is_err());
    }

    #[test]
    fn days_begin_at_local_midnight_across_daylight_saving_changes() {
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        // Winter +01:00, summer +02:00 (from 2024-03-31 02:00 local).
        assert_eq!(
            berlin.midnight(day("2024-03-31")),
            ms("2024-03-30T23:00:00Z")
        );
        assert_eq!(
            berlin.midnight(day("2024-04-01")),
            ms("2024-03-31T22:00:00Z")
        );
        // That day has 23 hours.
        assert_eq!(
            berlin.midnight(day("2024-04-01")) - berlin.midnight(day("2024-03-31")),
            23 * 3_600_000
        );
        assert_eq!(berlin.day_of(ms("2024-03-31T22:30:00Z")), day("2024-04-01"));
        assert_eq!(berlin.day_of(ms("2024-03-31T21:59:59Z")), day("2024-03-31"));
        // São Paulo's clocks skipped midnight on 2018-11-04: the day began at 01:00.
        let sao_paulo = Zone::parse("America/Sao_Paulo").unwrap();
        assert_eq!(
            sao_paulo.midnight(day("2018-11-04")),
            ms("2018-11-04T03:00:00Z")
        );
        // Samoa went from 2011-12-29 (-10:00) to 2011-12-31 (+14:00): the
        // 30th has no instant, and the 29th ends when the 31st begins.
        let apia = Zone::parse("Pacific/Apia").unwrap();
        assert_eq!(apia.midnight(day("2011-12-31")), ms("2011-12-30T10:00:00Z"));
        assert_eq!(
            apia.midnight(day("2011-12-30")),
            apia.midnight(day("2011-12-31"))
        );
        assert_eq!(apia.day_of(ms("2011-12-30T09:59:59Z")), day("2011-12-29"));
        assert_eq!(
            Zone::UTC.midnight(day("2024-01-01")),
            ms("2024-01-01T00:00:00Z")
        );
        let at = berlin.at(ms("2024-07-01T10:00:00Z"));
        assert_eq!(at.to_rfc3339(), "2024-07-01T12:00:00+02:00");
    }

    #[test]
    fn the_local_clock_equals_a_lookup_of_every_instant() {
        for name in [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "UTC",
        ] {
            let zone = Zone::parse(name).unwrap();
            let mut clock = LocalClock::new(zone);
            // Every 7 minutes through a year of changes.
            let mut at = ms("2023-12-31T00:00:00Z");
            while at < ms("2025-01-01T00:00:00Z") {
                let local = zone.local(at);
                let day = clock.day_number(at);
                assert_eq!(date_of_day_number(day), local.date(), "{name} {at}");
                assert_eq!(
                    clock.time_of_day(at),
                    i64::from(chrono::Timelike::num_seconds_from_midnight(&local.time())) * 1000
                        + at.rem_euclid(1000),
                    "{name} {at}"
                );
                at += 7 * 60_000 + 13;
            }
        }
        assert_eq!(weekday_of_day_number(0), 3);
        assert_eq!(date_of_day_number(19_723), day("2024-01-01"));
    }
}
