//! The stories in a person's listens, beyond rankings: the calendar of a
//! year's listening days, the streaks of days in a row with listens, and
//! what each month discovered. Days and months are in the person's time
//! zone, as every range is.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::range::TimePoint;

/// `GET` a year's calendar here (`?year=2023`; without it, the latest year
/// with listens).
pub const CALENDAR_PATH: &str = "/api/calendar";

/// `GET` what each month discovered here.
pub const DISCOVERIES_PATH: &str = "/api/discoveries";

/// What a month brought that was never heard before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryMonth {
    /// Its first day.
    pub month: NaiveDate,
    /// Songs and artists first heard in it.
    pub new_songs: i64,
    pub new_artists: i64,
    pub plays: i64,
    pub ms_played: i64,
    /// Listening time that went to songs first heard in it.
    pub ms_new: i64,
}

impl DiscoveryMonth {
    pub fn empty(month: NaiveDate) -> Self {
        Self {
            month,
            new_songs: 0,
            new_artists: 0,
            plays: 0,
            ms_played: 0,
            ms_new: 0,
        }
    }

    /// The share of its listening time that went to songs first heard in it, 0 to 1.
    pub fn new_share(&self) -> f64 {
        if self.ms_played > 0 {
            self.ms_new as f64 / self.ms_played as f64
        } else {
            0.0
        }
    }
}

/// Years a calendar can be asked for.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// A year a calendar can be drawn for, or what such a year is.
pub fn check_year(year: i32) -> Result<i32, String> {
    if YEARS.contains(&year) {
        Ok(year)
    } else {
        Err(format!(
            "year must be a year from {} to {}, such as 2023",
            YEARS.start(),
            YEARS.end()
        ))
    }
}

/// Reads the `year` parameter: none, or a year of [`YEARS`].
pub fn parse_year(raw: Option<&str>) -> Result<Option<i32>, String> {
    match raw.map(str::trim).filter(|raw| !raw.is_empty()) {
        None => Ok(None),
        Some(raw) => match raw.parse::<i32>() {
            Ok(year) => check_year(year).map(Some),
            Err(_) => check_year(i32::MIN).map(Some),
        },
    }
}

/// Days in a row with listens, first and last included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Streak {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub days: i64,
}

/// One year of listening days, and the streaks around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub year: i32,
    /// The time zone its days are in (the person's setting).
    pub time_zone: String,
    /// The first and last years with listens: those worth moving to.
    pub first_year: Option<i32>,
    pub last_year: Option<i32>,
    /// The days of the year with listens, in order (the others had none).
    pub days: Vec<TimePoint>,
    /// The longest streak with a day in the year (it may reach beyond it).
    pub longest_in_year: Option<Streak>,
    /// The longest streak ever (the earliest of equals).
    pub longest: Option<Streak>,
    /// The streak still going: its last day is today or yesterday.
    pub current: Option<Streak>,
}

impl Calendar {
    /// The calendar of `year` from every day with listens (`days`, in
    /// order, each once, days of `time_zone`), `today` deciding which
    /// streak still goes on.
    pub fn of(year: i32, time_zone: &str, days: Vec<TimePoint>, today: NaiveDate) -> Self {
        let streaks = streaks(days.iter().map(|day| day.start));
        let in_year = |streak: &&Streak| streak.first.year() <= year && streak.last.year() >= year;
        let longest_of = |streaks: &mut dyn Iterator<Item = &Streak>| {
            // The earliest of the longest: `max_by_key` would keep the last.
            streaks.fold(None::<Streak>, |best, streak| match best {
                Some(best) if best.days >= streak.days => Some(best),
                _ => Some(*streak),
            })
        };
        let current = streaks
            .last()
            .filter(|streak| streak.last >= today - Duration::days(1) && streak.last <= today)
            .copied();
        Calendar {
            year,
            time_zone: time_zone.to_string(),
            first_year: days.first().map(|day| day.start.year()),
            last_year: days.last().map(|day| day.start.year()),
            longest_in_year: longest_of(&mut streaks.iter().filter(in_year)),
            longest: longest_of(&mut streaks.iter()),
            current,
            days: days
                .into_iter()
                .filter(|day| day.start.year() == year)
                .collect(),
        }
    }

    pub fn plays(&self) -> i64 {
        self.days.iter().map(|day| day.plays).sum()
    }

    pub fn ms_played(&self) -> i64 {
        self.days.iter().map(|day| day.ms_played).sum()
    }
}

/// The streaks of `days` (in order, each once), in order.
pub fn streaks(days: impl IntoIterator<Item = NaiveDate>) -> Vec<Streak> {
    let mut streaks: Vec<Streak> = Vec::new();
    for day in days {
        match streaks.last_mut() {
            Some(streak) if streak.last + Duration::days(1) == day => {
                streak.last = day;
                streak.days += 1;
            }
            _ => streaks.push(Streak {
                first: day,
                last: day,
                days: 1,
            }),
        }
    }
    streaks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn listened(days: &[&str]) -> Vec<TimePoint> {
        days.iter()
            .map(|text| TimePoint {
                start: day(text),
                plays: 2,
                ms_played: 60_000,
            })
            .collect()
    }

    #[test]
    fn a_year_parameter_is_a_year_or_nothing() {
        assert_eq!(parse_year(None), Ok(None));
        assert_eq!(parse_year(Some(" ")), Ok(None));
        assert_eq!(parse_year(Some("2023")), Ok(Some(2023)));
        for bad in ["0", "99999", "2023-01", "twenty"] {
            let error = parse_year(Some(bad)).unwrap_err();
            assert!(error.contains("from 1900 to 2200"), "{error}");
        }
    }

    #[test]
    fn streaks_are_runs_of_consecutive_days_across_months_and_years() {
        let days = ["2023-12-30", "2023-12-31", "2024-01-01", "2024-01-03"].map(day);
        assert_eq!(
            streaks(days),
            vec![
                Streak {
                    first: day("2023-12-30"),
                    last: day("2024-01-01"),
                    days: 3
                },
                Streak {
                    first: day("2024-01-03"),
                    last: day("2024-01-03"),
                    days: 1
                },
            ]
        );
        assert!(streaks([]).is_empty());
    }

    #[test]
    fn a_calendar_keeps_its_year_and_finds_the_longest_and_the_current_streaks() {
        let days = listened(&[
            "2022-06-01",
            "2022-06-02",
            "2022-06-03",
            "2022-06-04",
            "2022-12-31",
            "2023-01-01",
            "2023-03-10",
            "2023-03-11",
            "2024-02-28",
            "2024-02-29",
        ]);
        let calendar = Calendar::of(2023, "UTC", days.clone(), day("2024-03-01"));
        assert_eq!(calendar.days.len(), 3);
        assert_eq!(calendar.plays(), 6);
        assert_eq!(
            (calendar.first_year, calendar.last_year),
            (Some(2022), Some(2024))
        );
        // Both of the year's streaks are two days long: the earlier wins,
        // though it began the year before.
        let in_year = calendar.longest_in_year.unwrap();
        assert_eq!((in_year.first, in_year.days), (day("2022-12-31"), 2));
        assert_eq!(calendar.longest.unwrap().days, 4);
        assert_eq!(calendar.current.unwrap().first, day("2024-02-28"));
        // Two days after the last listen, no streak goes on.
        assert_eq!(
            Calendar::of(2023, "UTC", days, day("2024-03-02")).current,
            None
        );
    }

    #[test]
    fn a_year_without_listens_has_no_days_and_no_streak_of_its_own() {
        let calendar = Calendar::of(2020, "UTC", listened(&["2023-01-01"]), day("2023-01-01"));
        assert!(calendar.days.is_empty());
        assert_eq!(calendar.longest_in_year, None);
        assert_eq!(calendar.longest.unwrap().days, 1);
        assert!(calendar.current.is_some());
    }
}
