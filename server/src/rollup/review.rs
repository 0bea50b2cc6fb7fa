//! The review of a year or a month ([`Review`]), read from one person's
//! aggregates: the period's song sums once for its rankings, the period
//! before's for the ranks they moved from, the all-time first listens for
//! what it discovered, and its listens for how songs ended.

use std::collections::{BTreeMap, HashMap};

use app::model::{TopArtist, TopSong};
use app::range::{ClockCell, DateRange, Metric, TimePoint};
use app::review::{
    Busiest, DayOfWeek, FirstListen, HourOfDay, Period, Ranked, Review, SessionGap, Totals,
    FINISHED_MIN_PLAYS, LONGEST_SESSIONS, REVIEW_RANKS,
};
use app::stories::streaks;
use chrono::{Datelike, NaiveDate};

use super::query::{span_of, time_point, MIN_PLAYS_TO_RANK_SKIPS};
use crate::aggregate::months::Counts;
use crate::aggregate::{best, by_plays, Aggregates};
use crate::zone::Zone;

/// How Spotify writes that a track played to its end.
const TRACK_DONE: &str = "trackdone";

impl Aggregates {
    /// The review of `period` (its days in `zone`); of the latest year with listens when `None`.
    pub fn review(&self, period: Option<Period>, zone: Zone) -> Review {
        let (first_day, last_day) = self.bounds(zone);
        let period = period.unwrap_or_else(|| {
            let latest = last_day.unwrap_or_else(|| zone.today());
            Period::Year(latest.year())
        });
        let range = period.range();
        let before = self.song_sums(period.previous().range(), zone);
        // A period outside the history costs no more than its period before.
        let listened = matches!((first_day, last_day),
            (Some(first), Some(last)) if period.first_day() <= last && period.next().first_day() > first);
        if !listened {
            return Review::empty(period, zone.name(), first_day, last_day, totals(&before));
        }
        let sums = self.song_sums(range, zone);
        let top = self.best_songs(sums.iter().enumerate(), Metric::Plays, REVIEW_RANKS);
        let song_ranks_before =
            ranks(self.best_songs(before.iter().enumerate(), Metric::Plays, usize::MAX));
        let artists = self.artist_sums(&sums);
        let artists_before = self.artist_sums(&before);
        let albums = self.album_sums(&sums);
        let albums_before = self.album_sums(&before);
        let album_ranks_before = ranks(self.best_albums(&albums_before, Metric::Plays, usize::MAX));
        let artist_ranks_before =
            ranks(self.best_artists(&artists_before, Metric::Plays, usize::MAX));
        let (new_songs, new_artists) = self.first_heard_in(range, zone);
        let days = self.sums_by_step(range, zone, |day| day);
        let months = self.sums_by_step(range, zone, |day| day.with_day(1).unwrap_or(day));
        let clock = self.clock(range, zone);
        Review {
            period,
            time_zone: zone.name().to_string(),
            first_day,
            last_day,
            totals: totals(&sums),
            months: (months.iter())
                .map(|(&start, counts)| time_point(start, counts))
                .collect(),
            before: totals(&before),
            top_songs: top
                .iter()
                .enumerate()
                .map(|(rank, &(id, counts))| Ranked {
                    row: self.top_song(rank, id, counts),
                    rank_before: song_ranks_before.get(&id).copied(),
                })
                .collect(),
            top_artists: self
                .best_artists(&artists, Metric::Plays, REVIEW_RANKS)
                .into_iter()
                .enumerate()
                .map(|(rank, (id, counts))| Ranked {
                    row: self.top_artist(rank, id, counts),
                    rank_before: artist_ranks_before.get(&id).copied(),
                })
                .collect(),
            top_albums: self
                .best_albums(&albums, Metric::Plays, REVIEW_RANKS)
                .into_iter()
                .enumerate()
                .map(|(rank, (id, counts))| Ranked {
                    row: self.top_album(rank, id, counts),
                    rank_before: album_ranks_before.get(&id).copied(),
                })
                .collect(),
            new_songs: new_songs as i64,
            new_artists: new_artists.len() as i64,
            top_discoveries: self.top_discoveries(&artists, &new_artists),
            most_played_day: most_played_day(&days),
            longest_streak: first_most(streaks(days.keys().copied()), |streak| streak.days),
            sessions: self.sessions(
                range,
                zone,
                (period.next().first_day() - period.first_day()).num_days(),
                SessionGap::DEFAULT,
                LONGEST_SESSIONS,
            ),
            busiest_hour: busiest(&clock, |cell| cell.hour, HourOfDay),
            busiest_weekday: busiest(&clock, |cell| cell.weekday, DayOfWeek),
            most_skipped: self.skipped_songs(&sums, MIN_PLAYS_TO_RANK_SKIPS, REVIEW_RANKS),
            finished_every_time: self.finished_every_time(range, zone, &sums),
            top_song_first_listen: top.first().map(|&(id, _)| FirstListen {
                track_uri: self.catalog().uri(id as u32).to_string(),
                at: zone.at(self.songs()[id].tally.first_listen),
            }),
        }
    }

    /// How many songs, and which artists, had their first listen ever in `range`.
    fn first_heard_in(&self, range: DateRange, zone: Zone) -> (usize, Vec<usize>) {
        let span = span_of(range, zone).map_or(0..0, |(from, to)| from..to);
        let songs = (self.songs().iter())
            .filter(|song| song.tally.is_counted() && span.contains(&song.tally.first_listen))
            .count();
        let artists = (0..self.catalog().artists().len())
            .filter(|&id| {
                self.artist_tally(id as u32)
                    .is_some_and(|tally| tally.is_counted() && span.contains(&tally.first_listen))
            })
            .collect();
        (songs, artists)
    }

    /// The artists first heard in the period, most played in it first.
    fn top_discoveries(&self, artists: &[Counts], new: &[usize]) -> Vec<TopArtist> {
        let mut only_new = vec![Counts::default(); artists.len()];
        for &id in new {
            only_new[id] = artists[id];
        }
        self.best_artists(&only_new, Metric::Plays, REVIEW_RANKS)
            .into_iter()
            .enumerate()
            .map(|(rank, (id, counts))| self.top_artist(rank, id, counts))
            .collect()
    }

    /// Songs played at least [`FINISHED_MIN_PLAYS`] times in `range`, each
    /// play to its end (neither skipped nor ended otherwise), most played first.
    fn finished_every_time(&self, range: DateRange, zone: Zone, sums: &[Counts]) -> Vec<TopSong> {
        let catalog = self.catalog();
        let finished: Vec<bool> = catalog
            .contexts()
            .iter()
            .map(|context| !context.skipped && catalog.text(context.reason_end) == TRACK_DONE)
            .collect();
        let mut unfinished = vec![false; sums.len()];
        for piece in self.pieces(range, zone) {
            for (index, _) in piece.rows() {
                let row = &piece.month().rows()[index];
                if !finished[row.context as usize] {
                    unfinished[catalog.naming(row.naming).song as usize] = true;
                }
            }
        }
        let rows = sums
            .iter()
            .enumerate()
            .filter(|(id, counts)| counts.plays >= FINISHED_MIN_PLAYS && !unfinished[*id]);
        let name = |id: usize| self.song_names(id as u32).0;
        let uri = |id: usize| catalog.uri(id as u32);
        best(rows, REVIEW_RANKS, |a, b| {
            by_plays(a.1, b.1)
                .then_with(|| name(a.0).cmp(name(b.0)))
                .then_with(|| uri(a.0).cmp(uri(b.0)))
        })
        .into_iter()
        .enumerate()
        .map(|(rank, (id, counts))| self.top_song(rank, id, counts))
        .collect()
    }
}

/// The slot of the clock (`slot` of a cell: its hour or its weekday, below
/// 24) with the most listening time on `clock`, as `at` names it: the
/// earliest of equals.
fn busiest<At>(
    clock: &[ClockCell],
    slot: impl Fn(&ClockCell) -> u8,
    at: impl Fn(u8) -> At,
) -> Option<Busiest<At>> {
    let mut by = [Totals::default(); 24];
    for cell in clock {
        let totals = &mut by[usize::from(slot(cell))];
        totals.plays += cell.plays;
        totals.ms_played = totals.ms_played.saturating_add(cell.ms_played);
    }
    let (slot, totals) = first_most(
        (0u8..).zip(by).filter(|(_, totals)| totals.plays > 0),
        |(_, totals)| totals.ms_played,
    )?;
    Some(Busiest {
        at: at(slot),
        plays: totals.plays,
        ms_played: totals.ms_played,
    })
}

/// Each id's rank (from 1) in a ranking.
fn ranks(ranking: Vec<(usize, &Counts)>) -> HashMap<usize, u32> {
    (ranking.into_iter().enumerate())
        .map(|(rank, (id, _))| (id, rank as u32 + 1))
        .collect()
}

fn totals(sums: &[Counts]) -> Totals {
    sums.iter()
        .fold(Totals::default(), |totals, counts| Totals {
            plays: totals.plays + counts.plays,
            ms_played: totals.ms_played.saturating_add(counts.ms_played),
        })
}

/// The day with the most listening time, the earliest of equals.
fn most_played_day(days: &BTreeMap<NaiveDate, Counts>) -> Option<TimePoint> {
    let days = days
        .iter()
        .map(|(&start, counts)| time_point(start, counts));
    first_most(days, |day| day.ms_played)
}

/// The first of `items` with the most `of` (`max_by_key` gives the last).
fn first_most<T>(items: impl IntoIterator<Item = T>, of: impl Fn(&T) -> i64) -> Option<T> {
    items.into_iter().fold(None, |best, item| match best {
        Some(best) if of(&best) >= of(&item) => Some(best),
        _ => Some(item),
    })
}
