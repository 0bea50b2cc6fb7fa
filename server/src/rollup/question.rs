//! A question about one person's listens and its answer, as values: the
//! same question is answered here when this server holds the person's
//! partition, or sent to the server that does (see [`crate::serve::ask`]).
//! Presets are resolved where the listens are, since they count back from
//! the person's latest day.

use app::cleanup::ExclusionView;
use app::model::{Limit, Summary, TopArtist, TopSong};
use app::range::{
    ArtistDetail, Bucket, ClockCell, DateRange, RangeQuery, RangeTotals, RangeView, Shares,
    SkippedSong, SongDetail, TimePoint, TopAlbum,
};
use app::review::{Period, Review, SessionGap, SessionsView};
use app::skips::SkipStory;
use app::stories::{Calendar, DiscoveryMonth, YEARS};
use chrono::{Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::Aggregates;
use crate::zone::Zone;

/// Most steps a time series answers, so a long range cannot ask for millions of days.
pub const MAX_STEPS: i64 = 20_000;

/// What can be asked about a person's listens in a range.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Question {
    /// The first and last day with listens, and the range asked for.
    Bounds {
        query: RangeQuery,
    },
    TopSongs {
        query: RangeQuery,
        limit: Limit,
    },
    TopArtists {
        query: RangeQuery,
        limit: Limit,
    },
    TopAlbums {
        query: RangeQuery,
        limit: Limit,
    },
    MostSkipped {
        query: RangeQuery,
        min_plays: i64,
        limit: Limit,
    },
    Clock {
        query: RangeQuery,
    },
    OverTime {
        query: RangeQuery,
        bucket: Bucket,
    },
    Shares {
        query: RangeQuery,
    },
    Artist {
        name: String,
        query: RangeQuery,
        limit: Limit,
    },
    Song {
        uri: String,
        query: RangeQuery,
    },
    /// Everything the dashboard's range view shows.
    View {
        query: RangeQuery,
        limit: Limit,
    },
    /// A year's listening days and the streaks (the latest year with
    /// listens when none is given), as of `today` (see [`Question::calendar`]).
    Calendar {
        year: Option<i32>,
        today: NaiveDate,
    },
    /// What each month discovered, every month with listens.
    Discoveries,
    /// The listening sessions of a range, a pause of more than `gap` ending one.
    Sessions {
        query: RangeQuery,
        gap: SessionGap,
    },
    /// Skips over a range: by step, early, by platform.
    Skips {
        query: RangeQuery,
        limit: Limit,
    },
    /// A year's or a month's review (the latest year with listens when none is given).
    Review {
        period: Option<Period>,
    },
    /// What the person left out of their figures.
    Exclusions,
    /// Their totals and all-time rankings, as the leaderboards publish them.
    Standing,
}

impl Question {
    /// The calendar of `year` as of today in `zone`. Today is part of the
    /// question: an answer kept while the figures do not change (the
    /// current streak depends on the day) is not given again the day after.
    pub fn calendar(year: Option<i32>, zone: Zone) -> Self {
        Question::Calendar {
            year,
            today: zone.today(),
        }
    }

    /// The question asked by someone whose days and hours are in `zone`.
    pub fn in_zone(self, zone: Zone) -> Asked {
        Asked {
            question: self,
            zone,
        }
    }
}

/// A question and the time zone its days and hours are in (the person's
/// setting): what is answered, sent to a partition's owner, and what an
/// answer is kept by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asked {
    pub question: Question,
    #[serde(default)]
    pub zone: Zone,
}

/// The first and last day with listens, and the days a query resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// What the range adds up to (absent from an earlier version's answer).
    #[serde(default)]
    pub totals: RangeTotals,
}

/// The answer to a [`Question`], of the matching kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Bounds(Bounds),
    Songs(Vec<TopSong>),
    Artists(Vec<TopArtist>),
    Albums(Vec<TopAlbum>),
    Skipped(Vec<SkippedSong>),
    Clock(Vec<ClockCell>),
    OverTime(Vec<TimePoint>),
    Shares(Shares),
    Artist(ArtistDetail),
    Song(SongDetail),
    View(RangeView),
    Calendar(Calendar),
    Discoveries(Vec<DiscoveryMonth>),
    Review(Box<Review>),
    Skips(SkipStory),
    Sessions(SessionsView),
    Exclusions(Vec<ExclusionView>),
    Standing(Leaderboards),
}

/// A person's totals and their [`Limit::MAX`] best songs and artists of
/// all time: what a partition publishes for each of its people (see
/// [`crate::store::leaderboard`]), and the answer for a person whose
/// listens lie in several partitions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leaderboards {
    pub summary: Summary,
    pub top_songs: Vec<TopSong>,
    pub top_artists: Vec<TopArtist>,
}

impl Leaderboards {
    /// The rankings and totals of `aggregates`, stamped with the current time.
    pub fn of(aggregates: &Aggregates) -> Self {
        let mut summary = aggregates.summary();
        summary.updated_at = Some(Utc::now());
        let rankings = aggregates.rankings(Limit::MAX as usize);
        Self {
            summary,
            top_songs: rankings.songs,
            top_artists: rankings.artists,
        }
    }
}

impl Answer {
    /// The answer as the JSON API writes it: the value alone.
    pub fn to_json(&self) -> serde_json::Result<String> {
        match self {
            Answer::Bounds(value) => serde_json::to_string(value),
            Answer::Songs(value) => serde_json::to_string(value),
            Answer::Artists(value) => serde_json::to_string(value),
            Answer::Albums(value) => serde_json::to_string(value),
            Answer::Skipped(value) => serde_json::to_string(value),
            Answer::Clock(value) => serde_json::to_string(value),
            Answer::OverTime(value) => serde_json::to_string(value),
            Answer::Shares(value) => serde_json::to_string(value),
            Answer::Artist(value) => serde_json::to_string(value),
            Answer::Song(value) => serde_json::to_string(value),
            Answer::View(value) => serde_json::to_string(value),
            Answer::Calendar(value) => serde_json::to_string(value),
            Answer::Discoveries(value) => serde_json::to_string(value),
            Answer::Review(value) => serde_json::to_string(value),
            Answer::Skips(value) => serde_json::to_string(value),
            Answer::Sessions(value) => serde_json::to_string(value),
            Answer::Exclusions(value) => serde_json::to_string(value),
            Answer::Standing(value) => serde_json::to_string(value),
        }
    }
}

/// Why a question has no answer, for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NoSuch(String),
    /// The computation itself failed (it panicked): a fault, not the question's.
    #[error("the answer could not be computed: {0}")]
    Unanswered(String),
}

/// Answers `asked` from one person's aggregates.
pub fn answer(aggregates: &Aggregates, asked: &Asked) -> Result<Answer, Refusal> {
    let zone = asked.zone;
    let range = |query: &RangeQuery| aggregates.resolve(query, zone);
    let rows = |limit: &Limit| limit.get() as usize;
    Ok(match &asked.question {
        Question::Bounds { query } => {
            let (first_day, last_day) = aggregates.bounds(zone);
            let range = range(query);
            Answer::Bounds(Bounds {
                first_day,
                last_day,
                from: range.from,
                to: range.to,
                totals: aggregates.totals_in(range, zone),
            })
        }
        Question::TopSongs { query, limit } => {
            Answer::Songs(aggregates.top_songs_in(range(query), zone, query.metric, rows(limit)))
        }
        Question::TopArtists { query, limit } => Answer::Artists(aggregates.top_artists_in(
            range(query),
            zone,
            query.metric,
            rows(limit),
        )),
        Question::TopAlbums { query, limit } => {
            Answer::Albums(aggregates.top_albums(range(query), zone, query.metric, rows(limit)))
        }
        Question::MostSkipped {
            query,
            min_plays,
            limit,
        } => Answer::Skipped(aggregates.most_skipped(range(query), zone, *min_plays, rows(limit))),
        Question::Clock { query } => Answer::Clock(aggregates.clock(range(query), zone)),
        Question::OverTime { query, bucket } => {
            let range = range(query);
            check_steps(aggregates, range, zone, *bucket)?;
            Answer::OverTime(aggregates.over_time(range, zone, *bucket))
        }
        Question::Shares { query } => Answer::Shares(aggregates.shares(range(query), zone)),
        Question::Artist { name, query, limit } => Answer::Artist(
            aggregates
                .artist_detail(name, range(query), zone, rows(limit))
                .ok_or_else(|| {
                    Refusal::NoSuch(format!(
                        "no listens of an artist named {:?}",
                        app::format::ellipsize(name, 80)
                    ))
                })?,
        ),
        Question::Song { uri, query } => Answer::Song(
            aggregates
                .song_detail(uri, range(query), zone)
                .ok_or_else(|| {
                    Refusal::NoSuch(format!(
                        "no listens of a song {:?}",
                        app::format::ellipsize(uri, 80)
                    ))
                })?,
        ),
        Question::View { query, limit } => Answer::View(aggregates.view(query, zone, rows(limit))),
        Question::Calendar { year, today } => {
            Answer::Calendar(calendar(aggregates, *year, zone, *today))
        }
        Question::Discoveries => Answer::Discoveries(aggregates.discoveries(zone)),
        Question::Sessions { query, gap } => {
            Answer::Sessions(sessions(aggregates, range(query), zone, *gap))
        }
        Question::Skips { query, limit } => {
            Answer::Skips(aggregates.skip_story(range(query), zone, rows(limit)))
        }
        Question::Review { period } => Answer::Review(Box::new(aggregates.review(*period, zone))),
        Question::Exclusions => Answer::Exclusions(aggregates.exclusion_views()),
        Question::Standing => Answer::Standing(Leaderboards::of(aggregates)),
    })
}

/// The calendar of `year` (days in `zone`), from the days with listens in
/// the years a calendar is drawn for.
fn calendar(aggregates: &Aggregates, year: Option<i32>, zone: Zone, today: NaiveDate) -> Calendar {
    let mut days = aggregates.listening_days(zone);
    days.retain(|day| YEARS.contains(&day.start.year()));
    let year = year
        .or_else(|| days.last().map(|day| day.start.year()))
        .unwrap_or(today.year());
    Calendar::of(year, zone.name(), days, today)
}

/// The days of `range` with its open ends closed at the first and last day
/// with listens; `None` without listens.
fn closed(aggregates: &Aggregates, range: DateRange, zone: Zone) -> Option<(NaiveDate, NaiveDate)> {
    let (first, last) = aggregates.bounds(zone);
    let from = range.from.or(first)?;
    let to = range
        .to
        .or(last.map(|day| day + chrono::Duration::days(1)))?;
    Some((from, to))
}

/// Sessions listed on the dashboard and by the API, the longest first.
const LONGEST_SESSIONS_LISTED: usize = 10;

/// The sessions of `range`, its days (for sessions a week) from the first
/// to the last with listens where it is open.
fn sessions(
    aggregates: &Aggregates,
    range: DateRange,
    zone: Zone,
    gap: SessionGap,
) -> SessionsView {
    let days =
        closed(aggregates, range, zone).map_or(0, |(from, to)| (to - from).num_days().max(0));
    SessionsView {
        range,
        time_zone: zone.name().to_string(),
        gap,
        sessions: aggregates.sessions(range, zone, days, gap, LONGEST_SESSIONS_LISTED),
    }
}

/// Refuses a series of more than [`MAX_STEPS`] steps.
fn check_steps(
    aggregates: &Aggregates,
    range: DateRange,
    zone: Zone,
    bucket: Bucket,
) -> Result<(), Refusal> {
    if let Some((from, to)) = closed(aggregates, range, zone) {
        let days = (to - from).num_days();
        let steps = match bucket {
            Bucket::Day => days,
            Bucket::Week => days / 7,
            Bucket::Month => days / 28,
        };
        if steps > MAX_STEPS {
            return Err(Refusal::BadRequest(format!(
                "{from} to {to} is about {steps} steps; at most {MAX_STEPS}: choose a longer bucket or a shorter range"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::BatchDelta;
    use crate::event::test_listen;
    use app::range::{Metric, Preset};

    fn state() -> Aggregates {
        let listens = [
            test_listen("a", "Adele", "2024-01-31T23:59:59Z", 1000, false),
            test_listen("b", "Muse", "2024-02-01T10:00:00Z", 9000, true),
        ];
        let mut state = Aggregates::default();
        state.apply(&BatchDelta::from_events(&listens));
        state
    }

    fn query(preset: Option<Preset>) -> RangeQuery {
        RangeQuery {
            preset,
            from: None,
            to: None,
            metric: Metric::Plays,
        }
    }

    #[test]
    fn a_question_travels_as_json_and_is_answered_where_the_listens_are() {
        let question = Question::TopSongs {
            query: query(Some(Preset::Last7Days)),
            limit: Limit::DEFAULT,
        };
        let question = question.in_zone(Zone::UTC);
        let wire = serde_json::to_string(&question).unwrap();
        let back: Asked = serde_json::from_str(&wire).unwrap();
        assert_eq!(back, question);
        let answered = answer(&state(), &back).unwrap();
        let Answer::Songs(songs) = &answered else {
            panic!("songs expected: {answered:?}");
        };
        assert_eq!(songs.len(), 2);
        let wire = serde_json::to_string(&answered).unwrap();
        assert_eq!(serde_json::from_str::<Answer>(&wire).unwrap(), answered);
        assert!(answered.to_json().unwrap().starts_with("[{\"rank\":1"));
        let bounds = answer(
            &state(),
            &Question::Bounds {
                query: query(Some(Preset::Last7Days)),
            }
            .in_zone(Zone::UTC),
        );
        let Ok(Answer::Bounds(bounds)) = bounds else {
            panic!("bounds expected");
        };
        assert_eq!(bounds.last_day.unwrap().to_string(), "2024-02-01");
        assert_eq!(bounds.to.unwrap().to_string(), "2024-02-02");
        assert!(serde_json::from_str::<Question>(r#"{"clock":{"query":{},"x":1}}"#).is_err());
    }

    #[test]
    fn an_unknown_artist_or_a_series_too_long_is_refused_with_why() {
        let unknown = answer(
            &state(),
            &Question::Artist {
                name: "Nobody".into(),
                query: query(None),
                limit: Limit::DEFAULT,
            }
            .in_zone(Zone::UTC),
        );
        assert!(matches!(unknown, Err(Refusal::NoSuch(why)) if why.contains("Nobody")));
        let mut long = query(None);
        long.from = "1000-01-01".parse().ok();
        let refused = answer(
            &state(),
            &Question::OverTime {
                query: long,
                bucket: Bucket::Day,
            }
            .in_zone(Zone::UTC),
        );
        assert!(matches!(refused, Err(Refusal::BadRequest(why)) if why.contains("at most")));
    }
}
