//! Questions about a time range and their answers, as the server functions,
//! the JSON API (`/api/…?from=&to=`) and the dashboard exchange them.
//! Days are those of the person's time zone (a setting, UTC unless
//! changed); a range includes its `from` day and excludes its `to` day.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::model::{TopArtist, TopSong};

/// Days `[from, to)`; `None` on either side means unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl DateRange {
    pub const ALL_TIME: DateRange = DateRange {
        from: None,
        to: None,
    };

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|from| day >= from) && self.to.is_none_or(|to| day < to)
    }

    /// Reads the `from` and `to` query parameters (ISO dates, `2024-01-31`).
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, String> {
        let day = |name: &str, raw: Option<&str>| -> Result<Option<NaiveDate>, String> {
            match raw.map(str::trim).filter(|raw| !raw.is_empty()) {
                None => Ok(None),
                Some(raw) => raw.parse::<NaiveDate>().map(Some).map_err(|_| {
                    format!(
                        "{name} must be a date like 2024-01-31, got {:?}",
                        crate::format::ellipsize(raw, 40)
                    )
                }),
            }
        };
        Self::check(day("from", from)?, day("to", to)?)
    }

    /// The range of these days, refused when `from` is not before `to`.
    pub fn check(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Self, String> {
        if let (Some(from), Some(to)) = (from, to) {
            if from >= to {
                return Err(format!(
                    "from ({from}) must be before to ({to}): the range includes from and excludes to"
                ));
            }
        }
        Ok(DateRange { from, to })
    }

    /// The days as bounds of an ordered map's range: `None` when the range is
    /// empty, so a reversed range can never reach `BTreeMap::range`.
    pub fn bounds(&self) -> Option<std::ops::Range<NaiveDate>> {
        let lower = self.from.unwrap_or(NaiveDate::MIN);
        let upper = self.to.unwrap_or(NaiveDate::MAX);
        (lower < upper).then_some(lower..upper)
    }
}

/// The time ranges offered in one click, relative to the latest day with listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Preset {
    Last7Days,
    Last30Days,
    LatestYear,
    AllTime,
}

impl Preset {
    pub const ALL: [Preset; 4] = [
        Preset::Last7Days,
        Preset::Last30Days,
        Preset::LatestYear,
        Preset::AllTime,
    ];

    /// The name used in URLs and the API's `preset` parameter.
    pub fn key(self) -> &'static str {
        match self {
            Preset::Last7Days => "last-7-days",
            Preset::Last30Days => "last-30-days",
            Preset::LatestYear => "latest-year",
            Preset::AllTime => "all-time",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|preset| preset.key() == raw.trim())
            .ok_or_else(|| {
                format!(
                    "preset must be one of last-7-days, last-30-days, latest-year, all-time, got {:?}",
                    crate::format::ellipsize(raw, 40)
                )
            })
    }

    /// The days of the preset when the latest listen was on `latest_day`.
    pub fn range(self, latest_day: Option<NaiveDate>) -> DateRange {
        let Some(latest) = latest_day else {
            return DateRange::ALL_TIME;
        };
        let to = latest + Duration::days(1);
        let from = match self {
            Preset::Last7Days => to - Duration::days(7),
            Preset::Last30Days => to - Duration::days(30),
            Preset::LatestYear => NaiveDate::from_ymd_opt(latest.year(), 1, 1).unwrap_or(latest),
            Preset::AllTime => return DateRange::ALL_TIME,
        };
        DateRange {
            from: Some(from),
            to: Some(to),
        }
    }
}

/// What a ranking orders by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Metric {
    #[default]
    Plays,
    /// Listening time.
    Time,
}

impl Metric {
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw.map(str::trim) {
            None | Some("") | Some("plays") => Ok(Metric::Plays),
            Some("time") => Ok(Metric::Time),
            Some(other) => Err(format!(
                "by must be plays or time, got {:?}",
                crate::format::ellipsize(other, 40)
            )),
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Metric::Plays => "plays",
            Metric::Time => "time",
        }
    }
}

/// The width of the steps of a time series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Bucket {
    Day,
    /// Weeks start on Monday.
    Week,
    #[default]
    Month,
}

impl Bucket {
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw.map(str::trim) {
            None | Some("") | Some("month") => Ok(Bucket::Month),
            Some("week") => Ok(Bucket::Week),
            Some("day") => Ok(Bucket::Day),
            Some(other) => Err(format!(
                "bucket must be day, week or month, got {:?}",
                crate::format::ellipsize(other, 40)
            )),
        }
    }

    /// The first day of the step `day` falls in.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Bucket::Day => day,
            Bucket::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            Bucket::Month => day.with_day(1).unwrap_or(day),
        }
    }
}

/// One row of the top-albums ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopAlbum {
    pub rank: u32,
    pub album_name: String,
    pub artist_name: String,
    pub plays: i64,
    pub ms_played: i64,
    pub skips: i64,
}

/// A song often skipped: skips and the share of its plays that were skips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedSong {
    pub rank: u32,
    pub track_uri: String,
    pub track_name: String,
    pub artist_name: String,
    pub plays: i64,
    pub skips: i64,
    /// Skips divided by plays, 0 to 1.
    pub skip_rate: f64,
}

/// The weekdays' names, Monday first (a clock cell's `weekday` indexes it).
pub const WEEKDAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Plays and listening time in one hour of one weekday.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockCell {
    /// 0 is Monday.
    pub weekday: u8,
    /// 0 to 23, UTC.
    pub hour: u8,
    pub plays: i64,
    pub ms_played: i64,
}

/// One step of a time series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimePoint {
    /// First day of the step.
    pub start: NaiveDate,
    pub plays: i64,
    pub ms_played: i64,
}

/// Plays of one label (a platform, a way tracks start…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// As Spotify writes it; `unknown` when the export does not say.
    pub label: String,
    pub plays: i64,
}

/// How the plays of a range split up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shares {
    pub plays: i64,
    pub shuffled: i64,
    pub platforms: Vec<Share>,
    pub reason_start: Vec<Share>,
    pub reason_end: Vec<Share>,
}

/// An artist over a range: totals, when, and their top songs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtistDetail {
    pub artist_name: String,
    pub plays: i64,
    pub ms_played: i64,
    pub skips: i64,
    pub first_listen: Option<NaiveDate>,
    pub last_listen: Option<NaiveDate>,
    /// Plays by month.
    pub over_time: Vec<TimePoint>,
    pub top_songs: Vec<TopSong>,
    /// Its place among the person's artists, month by month, all time.
    pub rank_history: RankHistory,
}

/// A song's or an artist's place in the person's charts over all their
/// history: each month's ranking by plays (then listening time, then name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankHistory {
    /// Every month it was played in, in order.
    pub months: Vec<MonthRank>,
    /// Weeks (Monday to Sunday) in which it was the most played of all.
    pub weeks_at_number_one: i64,
    /// The month it was played most in (the earliest of equals).
    pub best_month: Option<MonthRank>,
}

/// Its rank in one month's chart, and what it was played that month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthRank {
    /// The month's first day.
    pub month: NaiveDate,
    pub rank: u32,
    pub plays: i64,
    pub ms_played: i64,
}

/// A song over a range: totals, when, and plays by month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SongDetail {
    pub song: TopSong,
    pub first_listen: Option<NaiveDate>,
    pub last_listen: Option<NaiveDate>,
    pub over_time: Vec<TimePoint>,
    /// Its place among the person's songs, month by month, all time.
    pub rank_history: RankHistory,
}

/// The range a page asks about, as its URL says it: a preset, or from/to.
/// A query that arrives from a client (a server function's arguments) is
/// checked as it is read, exactly as [`RangeQuery::parse`] checks URL
/// parameters: a preset with dates, or `from` not before `to`, is refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "UncheckedRangeQuery")]
pub struct RangeQuery {
    pub preset: Option<Preset>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub metric: Metric,
}

/// A [`RangeQuery`] as a client sent it, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UncheckedRangeQuery {
    preset: Option<Preset>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    metric: Metric,
}

impl TryFrom<UncheckedRangeQuery> for RangeQuery {
    type Error = String;

    fn try_from(query: UncheckedRangeQuery) -> Result<Self, String> {
        if query.preset.is_some() && (query.from.is_some() || query.to.is_some()) {
            return Err(BOTH_PRESET_AND_DATES.into());
        }
        DateRange::check(query.from, query.to)?;
        Ok(Self {
            preset: query.preset,
            from: query.from,
            to: query.to,
            metric: query.metric,
        })
    }
}

const BOTH_PRESET_AND_DATES: &str = "give either preset or from/to, not both";

impl RangeQuery {
    /// Whether it asks for `preset` (no preset and no dates is all time).
    pub fn is_preset(&self, preset: Preset) -> bool {
        self.preset == Some(preset)
            || (preset == Preset::AllTime
                && self.preset.is_none()
                && self.from.is_none()
                && self.to.is_none())
    }

    /// Reads the URL parameters `preset`, `from`, `to` and `by`; `None` values are absent ones.
    pub fn parse(
        preset: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        by: Option<&str>,
    ) -> Result<Self, String> {
        let metric = Metric::parse(by)?;
        let preset = preset.filter(|p| !p.trim().is_empty());
        let (from, to) = (from.filter(|f| !f.is_empty()), to.filter(|t| !t.is_empty()));
        if preset.is_some() && (from.is_some() || to.is_some()) {
            return Err(BOTH_PRESET_AND_DATES.into());
        }
        let range = DateRange::parse(from, to)?;
        Ok(Self {
            preset: preset.map(Preset::parse).transpose()?,
            from: range.from,
            to: range.to,
            metric,
        })
    }

    /// The days asked about, given the latest day with listens.
    pub fn range(&self, latest_day: Option<NaiveDate>) -> DateRange {
        match self.preset {
            Some(preset) => preset.range(latest_day),
            None => DateRange {
                from: self.from,
                to: self.to,
            },
        }
    }

    /// The query as URL parameters, without the leading `?`.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(preset) = self.preset {
            parts.push(format!("preset={}", preset.key()));
        }
        if let Some(from) = self.from {
            parts.push(format!("from={from}"));
        }
        if let Some(to) = self.to {
            parts.push(format!("to={to}"));
        }
        parts.push(format!("by={}", self.metric.key()));
        parts.join("&")
    }
}

/// The step of the listening-over-time chart that suits a range: days up to
/// two months, weeks up to two years, months beyond.
pub fn bucket_for(
    range: DateRange,
    first_day: Option<NaiveDate>,
    last_day: Option<NaiveDate>,
) -> Bucket {
    let from = range.from.or(first_day);
    let to = range.to.or(last_day.map(|day| day + Duration::days(1)));
    match (from, to) {
        (Some(from), Some(to)) if (to - from).num_days() <= 62 => Bucket::Day,
        (Some(from), Some(to)) if (to - from).num_days() <= 731 => Bucket::Week,
        _ => Bucket::Month,
    }
}

/// What a range adds up to: the overview's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeTotals {
    pub plays: i64,
    pub ms_played: i64,
    /// Songs and artists with plays in the range.
    pub songs: i64,
    pub artists: i64,
}

/// Everything the range view of the dashboard shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RangeView {
    pub query: RangeQuery,
    /// The time zone its days and hours are in (the person's setting).
    pub time_zone: String,
    /// The days shown, the preset resolved.
    pub range: DateRange,
    /// The first and last day with listens at all.
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub totals: RangeTotals,
    pub top_songs: Vec<TopSong>,
    pub top_artists: Vec<TopArtist>,
    pub top_albums: Vec<TopAlbum>,
    pub most_skipped: Vec<SkippedSong>,
    pub clock: Vec<ClockCell>,
    pub bucket: Bucket,
    pub over_time: Vec<TimePoint>,
    pub shares: Shares,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_range_includes_from_and_excludes_to() {
        let range = DateRange::parse(Some("2024-01-01"), Some("2024-02-01")).unwrap();
        assert!(!range.contains(day("2023-12-31")));
        assert!(range.contains(day("2024-01-01")));
        assert!(range.contains(day("2024-01-31")));
        assert!(!range.contains(day("2024-02-01")));
        assert!(DateRange::ALL_TIME.contains(day("1999-01-01")));
    }

    #[test]
    fn a_range_query_sent_by_a_client_is_checked_as_it_is_read() {
        let read = |json: &str| serde_json::from_str::<RangeQuery>(json);
        let reversed =
            read(r#"{"preset":null,"from":"2024-03-01","to":"2024-02-01","metric":"Plays"}"#);
        assert!(reversed.unwrap_err().to_string().contains("must be before"));
        let both = read(r#"{"preset":"AllTime","from":"2024-01-01","to":null,"metric":"Plays"}"#);
        assert!(both.unwrap_err().to_string().contains("not both"));
        let extra = read(r#"{"preset":null,"from":null,"to":null,"metric":"Plays","x":1}"#);
        assert!(extra.is_err());
        let query =
            RangeQuery::parse(None, Some("2024-01-01"), Some("2024-02-01"), Some("time")).unwrap();
        assert_eq!(
            read(&serde_json::to_string(&query).unwrap()).unwrap(),
            query
        );
    }

    #[test]
    fn bad_ranges_are_refused_with_the_reason() {
        let cases = [
            (Some("2024-13-01"), None, "from must be a date"),
            (None, Some("yesterday"), "to must be a date"),
            (Some("2024-02-01"), Some("2024-02-01"), "must be before"),
            (Some("2024-03-01"), Some("2024-02-01"), "must be before"),
        ];
        for (from, to, says) in cases {
            let error = DateRange::parse(from, to).unwrap_err();
            assert!(error.contains(says), "{from:?} {to:?}: {error}");
        }
        assert_eq!(DateRange::parse(Some(""), None), Ok(DateRange::ALL_TIME));
    }

    #[test]
    fn presets_count_back_from_the_latest_day_with_listens() {
        let latest = Some(day("2024-03-10"));
        let last7 = Preset::Last7Days.range(latest);
        assert_eq!(
            (last7.from, last7.to),
            (Some(day("2024-03-04")), Some(day("2024-03-11")))
        );
        assert_eq!(
            Preset::Last30Days.range(latest).from,
            Some(day("2024-02-10"))
        );
        assert_eq!(
            Preset::LatestYear.range(latest).from,
            Some(day("2024-01-01"))
        );
        assert_eq!(Preset::AllTime.range(latest), DateRange::ALL_TIME);
        assert_eq!(Preset::Last7Days.range(None), DateRange::ALL_TIME);
        assert_eq!(Preset::parse("last-30-days"), Ok(Preset::Last30Days));
        assert!(Preset::parse("forever").is_err());
    }

    #[test]
    fn a_query_round_trips_through_its_url_parameters() {
        let query =
            RangeQuery::parse(None, Some("2024-01-01"), Some("2024-02-01"), Some("time")).unwrap();
        assert_eq!(
            query.to_query_string(),
            "from=2024-01-01&to=2024-02-01&by=time"
        );
        let preset = RangeQuery::parse(Some("last-7-days"), None, None, None).unwrap();
        assert_eq!(preset.to_query_string(), "preset=last-7-days&by=plays");
        assert!(RangeQuery::parse(Some("last-7-days"), Some("2024-01-01"), None, None).is_err());
        assert!(RangeQuery::parse(None, None, None, Some("loudness")).is_err());
        assert_eq!(
            RangeQuery::parse(None, Some(""), Some(""), None),
            Ok(RangeQuery::default())
        );
    }

    #[test]
    fn the_time_step_suits_the_length_of_the_range() {
        let range = |from: &str, to: &str| DateRange::parse(Some(from), Some(to)).unwrap();
        assert_eq!(
            bucket_for(range("2024-01-01", "2024-03-01"), None, None),
            Bucket::Day
        );
        assert_eq!(
            bucket_for(range("2024-01-01", "2025-06-01"), None, None),
            Bucket::Week
        );
        assert_eq!(
            bucket_for(range("2014-01-01", "2025-06-01"), None, None),
            Bucket::Month
        );
        assert_eq!(
            bucket_for(
                DateRange::ALL_TIME,
                Some(day("2024-01-01")),
                Some(day("2024-01-20"))
            ),
            Bucket::Day
        );
    }

    #[test]
    fn buckets_start_on_the_first_day_of_their_step() {
        let sunday = day("2024-03-10");
        assert_eq!(Bucket::Day.start_of(sunday), sunday);
        assert_eq!(Bucket::Week.start_of(sunday), day("2024-03-04"));
        assert_eq!(Bucket::Week.start_of(day("2024-03-04")), day("2024-03-04"));
        assert_eq!(Bucket::Month.start_of(sunday), day("2024-03-01"));
        assert!(Bucket::parse(Some("year")).is_err());
        assert_eq!(Metric::parse(Some("time")), Ok(Metric::Time));
        assert!(Metric::parse(Some("skips")).is_err());
    }
}
