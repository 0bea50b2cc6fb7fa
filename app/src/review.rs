//! The review of a year or a month (`/review/2023`, `/review/2023-07`):
//! what a period held, how it compares with the period before, what it
//! discovered and its moments. Days and hours are in the person's time
//! zone, as every range is.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::model::{TopArtist, TopSong};
use crate::range::{DateRange, SkippedSong, TopAlbum};
use crate::stories::{check_year, Streak};

/// `GET` a period's review here (`?period=2023` or `?period=2023-07`;
/// without it, the latest year with listens).
pub const REVIEW_PATH: &str = "/api/review";

/// Where a period's review page is: this, a slash and the period.
pub const REVIEW_PAGE: &str = "/review";

/// Songs, artists and albums a review ranks.
pub const REVIEW_RANKS: usize = 10;

/// Plays a song needs in a period before "finished every time" lists it.
pub const FINISHED_MIN_PLAYS: i64 = 3;

/// A gap between listens longer than this ends a listening session, unless
/// another [`SessionGap`] is asked for.
pub const SESSION_GAP_MINUTES: u32 = 30;

/// The pause between listens, in minutes, after which a new listening
/// session begins: from [`SessionGap::MIN`] to [`SessionGap::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct SessionGap(u32);

impl SessionGap {
    pub const DEFAULT: SessionGap = SessionGap(SESSION_GAP_MINUTES);
    pub const MIN: u32 = 5;
    pub const MAX: u32 = 240;

    /// A gap written as minutes (`45`); the default when absent.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let Some(raw) = raw else {
            return Ok(Self::DEFAULT);
        };
        raw.trim()
            .parse::<u32>()
            .ok()
            .and_then(|minutes| Self::try_from(minutes).ok())
            .ok_or_else(|| {
                format!(
                    "gap is the pause that ends a session, in whole minutes from {} to {}",
                    Self::MIN,
                    Self::MAX
                )
            })
    }

    pub fn minutes(self) -> u32 {
        self.0
    }
}

impl Default for SessionGap {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<u32> for SessionGap {
    type Error = String;

    fn try_from(minutes: u32) -> Result<Self, Self::Error> {
        (Self::MIN..=Self::MAX)
            .contains(&minutes)
            .then_some(SessionGap(minutes))
            .ok_or_else(|| format!("a session gap is {} to {} minutes", Self::MIN, Self::MAX))
    }
}

impl From<SessionGap> for u32 {
    fn from(gap: SessionGap) -> Self {
        gap.0
    }
}

/// The listening sessions of a range, as `/api/sessions` and the dashboard show them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionsView {
    /// The days counted, a preset resolved.
    pub range: crate::range::DateRange,
    pub time_zone: String,
    pub gap: SessionGap,
    pub sessions: Sessions,
}

/// Longest sessions a review lists.
pub const LONGEST_SESSIONS: usize = 3;

/// A year or one month of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Period {
    Year(i32),
    /// Its month from 1 to 12.
    Month(i32, u32),
}

const MONTH_NAMES: [&str; 12] = [
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

impl Period {
    /// Reads `2023` or `2023-07`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let what = "a period is a year or a month, such as 2023 or 2023-07";
        let raw = raw.trim();
        // Digits only: `i32` would also read a sign.
        let number = |text: &str| match text.bytes().all(|b| b.is_ascii_digit()) {
            true => text.parse::<i32>().map_err(|_| what.to_string()),
            false => Err(what.to_string()),
        };
        match raw.split_once('-') {
            None if raw.len() == 4 => Ok(Period::Year(check_year(number(raw)?)?)),
            Some((year, month)) if year.len() == 4 && month.len() == 2 => {
                let year = check_year(number(year)?)?;
                match u32::try_from(number(month)?) {
                    Ok(month @ 1..=12) => Ok(Period::Month(year, month)),
                    _ => Err(what.into()),
                }
            }
            _ => Err(what.into()),
        }
    }

    pub fn year(self) -> i32 {
        match self {
            Period::Year(year) | Period::Month(year, _) => year,
        }
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        let (year, month) = match self {
            Period::Year(year) => (year, 1),
            Period::Month(year, month) => (year, month),
        };
        NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The period after it.
    pub fn next(self) -> Self {
        match self {
            Period::Year(year) => Period::Year(year + 1),
            Period::Month(year, 12) => Period::Month(year + 1, 1),
            Period::Month(year, month) => Period::Month(year, month + 1),
        }
    }

    /// The period before it, of the same length.
    pub fn previous(self) -> Self {
        match self {
            Period::Year(year) => Period::Year(year - 1),
            Period::Month(year, 1) => Period::Month(year - 1, 12),
            Period::Month(year, month) => Period::Month(year, month - 1),
        }
    }

    /// Its days.
    pub fn range(self) -> DateRange {
        DateRange {
            from: Some(self.first_day()),
            to: Some(self.next().first_day()),
        }
    }

    /// As people read it: `2023`, `July 2023`.
    pub fn label(self) -> String {
        match self {
            Period::Year(year) => year.to_string(),
            Period::Month(year, month) => format!("{} {year}", MONTH_NAMES[month as usize - 1]),
        }
    }

    /// The path of its review page.
    pub fn page(self) -> String {
        format!("{REVIEW_PAGE}/{self}")
    }

    /// The year a month is in (a year is its own).
    pub fn whole_year(self) -> Period {
        Period::Year(self.year())
    }

    /// The month of `day`.
    pub fn month_of(day: NaiveDate) -> Period {
        Period::Month(day.year(), day.month())
    }
}

/// `2023` or `2023-07`: what the URL and the API read.
impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Year(year) => write!(f, "{year:04}"),
            Period::Month(year, month) => write!(f, "{year:04}-{month:02}"),
        }
    }
}

impl TryFrom<String> for Period {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        Period::parse(&raw)
    }
}

impl From<Period> for String {
    fn from(period: Period) -> String {
        period.to_string()
    }
}

/// Reads the `period` parameter: none, or a [`Period`].
pub fn parse_period(raw: Option<&str>) -> Result<Option<Period>, String> {
    match raw.map(str::trim).filter(|raw| !raw.is_empty()) {
        None => Ok(None),
        Some(raw) => Period::parse(raw).map(Some),
    }
}

/// The path of a review page if `path` is one (`/review`, `/review/2023`,
/// `/review/2023-07`), written as this app writes it; `None` for any other.
pub fn review_page(path: &str) -> Option<String> {
    match path.strip_prefix(REVIEW_PAGE)? {
        "" => Some(REVIEW_PAGE.into()),
        period => Some(Period::parse(period.strip_prefix('/')?).ok()?.page()),
    }
}

/// A row of a ranking with its rank in the period before (`None`: not
/// played then).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked<T> {
    pub row: T,
    pub rank_before: Option<u32>,
}

/// How a row's rank moved since the period before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    /// Not played in the period before.
    New,
    Up(u32),
    Down(u32),
    Same,
}

impl Movement {
    pub fn of(rank: u32, before: Option<u32>) -> Self {
        match before {
            None => Movement::New,
            Some(before) if before > rank => Movement::Up(before - rank),
            Some(before) if before < rank => Movement::Down(rank - before),
            Some(_) => Movement::Same,
        }
    }

    /// As shown beside a rank: `▲3`, `▼1`, `new`, `=`.
    pub fn mark(self) -> String {
        match self {
            Movement::New => "new".into(),
            Movement::Up(by) => format!("▲{by}"),
            Movement::Down(by) => format!("▼{by}"),
            Movement::Same => "=".into(),
        }
    }

    /// The same, read out.
    pub fn spoken(self) -> String {
        match self {
            Movement::New => "new this period".into(),
            Movement::Up(by) => format!("up {by}"),
            Movement::Down(by) => format!("down {by}"),
            Movement::Same => "same rank".into(),
        }
    }
}

/// Plays and listening time of a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub plays: i64,
    pub ms_played: i64,
}

/// Listening in one hour of the day ([`HourOfDay`]) or on one weekday
/// ([`DayOfWeek`]) over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Busiest<At> {
    pub at: At,
    pub plays: i64,
    pub ms_played: i64,
}

/// An hour of the day, 0 to 23, on the review's clocks; a number in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HourOfDay(pub u8);

/// A day of the week, 0 (Monday) to 6 (Sunday); a number in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DayOfWeek(pub u8);

/// A song first heard long ago, or in the period: when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstListen {
    pub track_uri: String,
    /// As the person's clocks showed it.
    pub at: DateTime<FixedOffset>,
}

/// Listening without a pause longer than a [`SessionGap`]: from the
/// start of its first listen (its end less the time played) to the end of its last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// As the person's clocks showed them.
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub listens: i64,
    pub ms_played: i64,
}

/// The listening sessions of a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sessions {
    pub count: i64,
    /// Sessions per week of the period.
    pub per_week: f64,
    /// The longest from start to end, the earliest of equals first.
    pub longest: Vec<Session>,
}

/// Everything the review of a period shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub period: Period,
    /// The time zone its days and hours are in (the person's setting).
    pub time_zone: String,
    /// The first and last day with listens at all: where links may lead.
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub totals: Totals,
    /// Each month of the period with listens, in order.
    pub months: Vec<crate::range::TimePoint>,
    /// The period before, of the same length.
    pub before: Totals,
    /// Ranked by plays, with their ranks in the period before.
    pub top_songs: Vec<Ranked<TopSong>>,
    pub top_artists: Vec<Ranked<TopArtist>>,
    pub top_albums: Vec<Ranked<TopAlbum>>,
    /// Songs and artists first ever heard in the period.
    pub new_songs: i64,
    pub new_artists: i64,
    /// The artists first ever heard in the period, most played in it first.
    pub top_discoveries: Vec<TopArtist>,
    /// The day with the most listening time (the earliest of equals).
    pub most_played_day: Option<crate::range::TimePoint>,
    /// The longest run of days in a row with listens, within the period.
    pub longest_streak: Option<Streak>,
    pub sessions: Sessions,
    pub busiest_hour: Option<Busiest<HourOfDay>>,
    pub busiest_weekday: Option<Busiest<DayOfWeek>>,
    pub most_skipped: Vec<SkippedSong>,
    /// Songs played at least [`FINISHED_MIN_PLAYS`] times, every play to its end.
    pub finished_every_time: Vec<TopSong>,
    /// The first listen ever of the period's top song.
    pub top_song_first_listen: Option<FirstListen>,
}

impl Review {
    /// The review of a period without listens: what is known around it.
    pub fn empty(
        period: Period,
        time_zone: &str,
        first_day: Option<NaiveDate>,
        last_day: Option<NaiveDate>,
        before: Totals,
    ) -> Self {
        Review {
            period,
            time_zone: time_zone.to_string(),
            first_day,
            last_day,
            totals: Totals::default(),
            months: Vec::new(),
            before,
            top_songs: Vec::new(),
            top_artists: Vec::new(),
            top_albums: Vec::new(),
            new_songs: 0,
            new_artists: 0,
            top_discoveries: Vec::new(),
            most_played_day: None,
            longest_streak: None,
            sessions: Sessions::default(),
            busiest_hour: None,
            busiest_weekday: None,
            most_skipped: Vec::new(),
            finished_every_time: Vec::new(),
            top_song_first_listen: None,
        }
    }

    /// Whether the period had no listens.
    pub fn is_empty(&self) -> bool {
        self.totals.plays == 0
    }
}

/// The weekday's name, 0 being Monday.
pub fn weekday_name(weekday: u8) -> &'static str {
    crate::range::WEEKDAY_NAMES
        .get(weekday as usize)
        .copied()
        .unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_gap_is_whole_minutes_within_bounds() {
        assert_eq!(SessionGap::parse(None), Ok(SessionGap::DEFAULT));
        assert_eq!(
            SessionGap::parse(Some(" 45 ")).map(SessionGap::minutes),
            Ok(45)
        );
        assert_eq!(SessionGap::parse(Some("5")).map(SessionGap::minutes), Ok(5));
        assert_eq!(
            SessionGap::parse(Some("240")).map(SessionGap::minutes),
            Ok(240)
        );
        for bad in ["4", "241", "-30", "1.5", "", "half an hour"] {
            let refused = SessionGap::parse(Some(bad)).unwrap_err();
            assert!(refused.contains("5 to 240"), "{bad}: {refused}");
        }
        assert!(serde_json::from_str::<SessionGap>("3").is_err());
        assert_eq!(serde_json::to_string(&SessionGap::DEFAULT).unwrap(), "30");
    }

    #[test]
    fn a_period_is_a_year_or_a_month_and_nothing_else() {
        assert_eq!(Period::parse("2023"), Ok(Period::Year(2023)));
        assert_eq!(Period::parse(" 2023-07 "), Ok(Period::Month(2023, 7)));
        for bad in [
            "",
            "23",
            "2023-7",
            "2023-13",
            "2023-00",
            "1066",
            "2023-07-01",
            "soon",
            "+2023",
            "2023--1",
            "2023-+7",
            "+202",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad:?} was read");
        }
        assert_eq!(parse_period(Some("  ")), Ok(None));
        assert_eq!(Period::Month(2023, 7).to_string(), "2023-07");
        assert_eq!(Period::Month(2023, 7).label(), "July 2023");
        assert_eq!(Period::Year(2023).page(), "/review/2023");
        let json = serde_json::to_string(&Period::Month(2023, 7)).unwrap();
        assert_eq!(json, "\"2023-07\"");
        assert!(serde_json::from_str::<Period>("\"2023-13\"").is_err());
    }

    #[test]
    fn only_a_review_page_is_a_review_page() {
        assert_eq!(review_page("/review"), Some("/review".into()));
        assert_eq!(
            review_page("/review/2023-07"),
            Some("/review/2023-07".into())
        );
        for other in [
            "/",
            "/settings",
            "//evil.example/review",
            "/review/2023/../../settings",
            "/reviews/2023",
            "/review2023",
            "https://evil.example/review/2023",
        ] {
            assert_eq!(review_page(other), None, "{other}");
        }
    }

    #[test]
    fn periods_follow_each_other_across_years() {
        let day = |text: &str| text.parse::<NaiveDate>().unwrap();
        assert_eq!(Period::Month(2023, 12).next(), Period::Month(2024, 1));
        assert_eq!(Period::Month(2024, 1).previous(), Period::Month(2023, 12));
        assert_eq!(Period::Year(2024).previous(), Period::Year(2023));
        let range = Period::Month(2024, 2).range();
        assert_eq!(range.from, Some(day("2024-02-01")));
        assert_eq!(range.to, Some(day("2024-03-01")));
        assert_eq!(Period::Year(2023).range().to, Some(day("2024-01-01")));
        assert_eq!(Period::month_of(day("2020-05-09")), Period::Month(2020, 5));
    }

    #[test]
    fn a_rank_moves_up_down_or_arrives_new() {
        assert_eq!(Movement::of(1, Some(4)), Movement::Up(3));
        assert_eq!(Movement::of(5, Some(4)), Movement::Down(1));
        assert_eq!(Movement::of(2, Some(2)), Movement::Same);
        assert_eq!(Movement::of(2, None), Movement::New);
        assert_eq!(Movement::Up(3).mark(), "▲3");
        assert_eq!(weekday_name(6), "Sunday");
    }
}
