//! The review of a year or a month ([`Review`]), read from one person's
//! aggregates: the period's song sums once for its rankings, the period
//! before's for where its top songs, artists and albums stood, the
//! all-time first listens for what it discovered, and its listens for how
//! songs ended.

use std::collections::BTreeMap;

use app::model::{TopArtist, TopSong};
use app::range::{ClockCell, DateRange, Metric, TimePoint};
use app::review::{
    Busiest, DayOfWeek, FirstListen, HourOfDay, Period, Ranked, Review, SessionGap, Totals,
    FINISHED_MIN_PLAYS, LONGEST_SESSIONS, REVIEW_RANKS,
};
use app::stories::streaks;
use chrono::{Datelike, NaiveDate};

use super::query::{ranks_among, span_of, time_point, GroupSums, Grouped, MIN_PLAYS_TO_RANK_SKIPS};
use super::sums::Sums;
use crate::aggregate::months::Counts;
use crate::aggregate::{best, by_plays, Aggregates};
use crate::metrics::METRICS;
use crate::zone::Zone;

/// How Spotify writes that a track played to its end.
const TRACK_DONE: &str = "trackdone";

impl Aggregates {
    /// The review of `period` (its days in `zone`); of the latest year with listens when `None`.
    ///
    /// A review reads the listens up to its period's end only (and the
    /// names songs show): it is kept until those change, so a period
    /// before the one listens stream into is not worked out again.
    pub fn review(&self, period: Option<Period>, zone: Zone) -> Review {
        let (first_day, last_day) = self.bounds(zone);
        let period = period.unwrap_or_else(|| {
            let latest = last_day.unwrap_or_else(|| zone.today());
            Period::Year(latest.year())
        });
        // A period outside the history costs no more than its period before.
        let listened = matches!((first_day, last_day),
            (Some(first), Some(last)) if period.first_day() <= last && period.next().first_day() > first);
        if !listened {
            let before = self.song_sums(period.previous().range(), zone);
            return Review::empty(period, zone.name(), first_day, last_day, totals(&before));
        }
        let end = zone.midnight(period.next().first_day());
        let kept = self
            .kept_reviews()
            .get((period, zone), self.stamp_before(end), || {
                self.work_out_review(period, zone)
            });
        Review {
            first_day,
            last_day,
            ..Review::clone(&kept)
        }
    }

    /// The review of `period`, which has listens, without the first and
    /// last day of the history.
    fn work_out_review(&self, period: Period, zone: Zone) -> Review {
        METRICS
            .stories_worked_out
            .with_label_values(&["review"])
            .inc();
        let range = period.range();
        let sums = self.ordered_song_sums(range, zone);
        let top = self.best_songs(sums.listed(), Metric::Plays, REVIEW_RANKS);
        let GroupSums { artists, albums } = self.artist_and_album_sums(&sums, Grouped::Both);
        let top_artists = self.best_artists(&artists, Metric::Plays, REVIEW_RANKS);
        let top_albums = self.best_albums(&albums, Metric::Plays, REVIEW_RANKS);
        let numbers =
            |top: &[(usize, &Counts)]| -> Vec<usize> { top.iter().map(|&(id, _)| id).collect() };
        let before = self.period_before(
            period,
            zone,
            &Tops {
                songs: numbers(&top),
                artists: numbers(&top_artists),
                albums: numbers(&top_albums),
            },
        );
        let (new_songs, new_artists) = self.first_heard_in(range, zone, &sums);
        let days = self.sums_by_step(range, zone, |day| day);
        let months = self.sums_by_step(range, zone, |day| day.with_day(1).unwrap_or(day));
        let clock = self.clock(range, zone);
        Review {
            period,
            time_zone: zone.name().to_string(),
            first_day: None,
            last_day: None,
            totals: totals(&sums),
            months: (months.iter())
                .map(|(&start, counts)| time_point(start, counts))
                .collect(),
            before: before.totals,
            top_songs: with_ranks_before(
                (top.iter().enumerate())
                    .map(|(rank, &(id, counts))| self.top_song(rank, id, counts)),
                before.ranks.songs,
            ),
            top_artists: with_ranks_before(
                (top_artists.into_iter().enumerate())
                    .map(|(rank, (id, counts))| self.top_artist(rank, id, counts)),
                before.ranks.artists,
            ),
            top_albums: with_ranks_before(
                (top_albums.into_iter().enumerate())
                    .map(|(rank, (id, counts))| self.top_album(rank, id, counts)),
                before.ranks.albums,
            ),
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

    /// The totals of the period before `period`, and where the review's
    /// `top` songs, artists and albums ranked in it: those few placed
    /// among its ranking, not all of it ranked (worked out again with the
    /// review, which changes with the same listens).
    fn period_before(&self, period: Period, zone: Zone, top: &Tops<usize>) -> PeriodBefore {
        let sums = self.ordered_song_sums(period.previous().range(), zone);
        let GroupSums { artists, albums } = self.artist_and_album_sums(&sums, Grouped::Both);
        let ranks = Tops {
            songs: ranks_among(
                &top.songs,
                |id| sums[id],
                sums.listed(),
                self.song_order(Metric::Plays),
            ),
            artists: ranks_among(
                &top.artists,
                |id| artists[id],
                artists.iter().enumerate(),
                self.artist_order(Metric::Plays),
            ),
            albums: ranks_among(
                &top.albums,
                |id| albums[id],
                albums.iter().enumerate(),
                self.album_order(Metric::Plays),
            ),
        };
        PeriodBefore {
            totals: totals(&sums),
            ranks,
        }
    }

    /// A period's songs' sums, listed in the order of their numbers: a
    /// review reads them over several times, and the songs' columns
    /// beside them, which in that order are read in the order they are
    /// laid out (a year's reviews then took a fifth less time).
    fn ordered_song_sums(&self, range: DateRange, zone: Zone) -> Sums {
        let mut sums = self.song_sums(range, zone);
        sums.order_listed();
        sums
    }

    /// How many songs, and which artists, had their first listen ever in
    /// `range` (whose songs' sums are `sums`: a song first heard in it was
    /// played in it, so only those are looked at).
    fn first_heard_in(&self, range: DateRange, zone: Zone, sums: &Sums) -> (usize, Vec<usize>) {
        let span = span_of(range, zone).map_or(0..0, |(from, to)| from..to);
        let figures = self.songs();
        let songs = (sums.listed())
            .filter(|(id, counts)| {
                counts.plays > 0 && span.contains(&figures[*id].tally.first_listen)
            })
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
        let mut only_new = Sums::zeroed_for_groups(artists.len());
        for &id in new {
            only_new.add(id as u32, &artists[id]);
        }
        self.best_artists(&only_new, Metric::Plays, REVIEW_RANKS)
            .into_iter()
            .enumerate()
            .map(|(rank, (id, counts))| self.top_artist(rank, id, counts))
            .collect()
    }

    /// Songs played at least [`FINISHED_MIN_PLAYS`] times in `range`, each
    /// play to its end (neither skipped nor ended otherwise), most played first.
    fn finished_every_time(&self, range: DateRange, zone: Zone, sums: &Sums) -> Vec<TopSong> {
        let catalog = self.catalog();
        let finished: Vec<bool> = catalog
            .contexts()
            .iter()
            .map(|context| !context.skipped && catalog.text(context.reason_end) == TRACK_DONE)
            .collect();
        // By naming first, then read in order for their songs: a year's
        // rows would each have looked their naming up at random.
        let mut unfinished_namings = vec![false; catalog.namings().len()];
        for piece in self.pieces(range, zone) {
            for (index, _) in piece.rows() {
                let row = &piece.month().rows()[index];
                if !finished[row.context as usize] {
                    unfinished_namings[row.naming as usize] = true;
                }
            }
        }
        let mut unfinished = vec![false; sums.len()];
        for (naming, _) in (catalog.namings().iter().zip(unfinished_namings)).filter(|(_, no)| *no)
        {
            unfinished[naming.song as usize] = true;
        }
        let rows = sums
            .listed()
            .filter(|(id, counts)| counts.plays >= FINISHED_MIN_PLAYS && !unfinished[*id]);
        let name = |id: usize| self.song_names(id as u32).0;
        let uri = |id: usize| catalog.uri(id as u32);
        best(rows, REVIEW_RANKS, |a, b| {
            by_plays(a.1, b.1)
                .then_with(|| name(a.0).cmp(name(b.0)))
                .then_with(|| uri(a.0).cmp(&uri(b.0)))
        })
        .into_iter()
        .enumerate()
        .map(|(rank, (id, counts))| self.top_song(rank, id, counts))
        .collect()
    }
}

/// Something of a review's top songs, artists and albums, each in its order.
struct Tops<T> {
    songs: Vec<T>,
    artists: Vec<T>,
    albums: Vec<T>,
}

/// What a review shows of the period before its own.
struct PeriodBefore {
    totals: Totals,
    /// Where each of the review's top ranked in it; `None` if not played.
    ranks: Tops<Option<u32>>,
}

/// `rows` each with where it ranked in the period before.
fn with_ranks_before<T>(rows: impl Iterator<Item = T>, ranks: Vec<Option<u32>>) -> Vec<Ranked<T>> {
    (rows.zip(ranks))
        .map(|(row, rank_before)| Ranked { row, rank_before })
        .collect()
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

/// A period's plays and listening time, from its songs' sums.
fn totals(sums: &Sums) -> Totals {
    let total = sums.total();
    Totals {
        plays: total.plays,
        ms_played: total.ms_played,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::BatchDelta;
    use crate::event::{test_listen, ListenEvent};

    /// A listen every nine hours or so from October 2022 to mid-2024.
    fn listens() -> Vec<ListenEvent> {
        (0..1500)
            .map(|i: i64| {
                let song = (i * 7) % 37;
                let mut listen = test_listen(
                    &format!("s{song}"),
                    &format!("Artist {}", song % 5),
                    "2022-10-01T00:00:00Z",
                    1000 * (20 + (i * 13) % 300) as u64,
                    i % 6 == 0,
                );
                listen.ts += chrono::Duration::minutes(i * 540 + (i * 31) % 200);
                listen
            })
            .collect()
    }

    /// Each review asked about equals the one of figures counted afresh
    /// (which keep nothing).
    fn assert_reviews_as_afresh(state: &Aggregates, seen: &[ListenEvent], when: &str) {
        let mut afresh = Aggregates::default();
        afresh.apply(&BatchDelta::from_events(seen.iter()));
        // The period listens stream into first, then others before it.
        let periods = [
            Period::Year(2024),
            Period::Month(2023, 12),
            Period::Month(2023, 7),
            Period::Year(2023),
        ];
        for zone in ["America/Los_Angeles", "UTC"].map(|name| Zone::parse(name).unwrap()) {
            for period in periods {
                let kept = state.review(Some(period), zone);
                assert_eq!(
                    kept,
                    afresh.review(Some(period), zone),
                    "{period:?} in {zone} {when}"
                );
            }
        }
    }

    #[test]
    fn kept_reviews_equal_reviews_counted_afresh_as_listens_arrive_late_and_name_songs_anew() {
        let all = listens();
        let mut state = Aggregates::default();
        let mut seen = Vec::new();
        for batch in all.chunks(200) {
            state.apply(&BatchDelta::from_events(batch.iter()));
            seen.extend_from_slice(batch);
            assert_reviews_as_afresh(&state, &seen, &format!("after {} listens", seen.len()));
        }
        let year = state.review(Some(Period::Year(2023)), Zone::UTC);
        assert!(
            year.top_artists.len() >= 5 && year.totals.plays > 500,
            "{year:?}"
        );

        // A late listen on New Year's Eve in Los Angeles, in UTC's January.
        let late = test_listen("late", "Artist 9", "2024-01-01T07:30:00Z", 200_000, false);
        state.apply(&BatchDelta::from_events([&late]));
        seen.push(late);
        assert_reviews_as_afresh(&state, &seen, "after a late listen");

        // A newer listen names a song of 2023 with another artist.
        let mut renamed = seen[0].clone();
        renamed.artist_name = "Guest".into();
        renamed.ts = "2024-07-01T00:00:00Z".parse().unwrap();
        let before = state.review(Some(Period::Year(2023)), Zone::UTC);
        state.apply(&BatchDelta::from_events([&renamed]));
        seen.push(renamed);
        assert_reviews_as_afresh(&state, &seen, "after a song is named anew");
        let after = state.review(Some(Period::Year(2023)), Zone::UTC);
        assert_ne!(
            before.top_artists, after.top_artists,
            "the song's plays moved to Guest"
        );
    }

    #[test]
    fn a_stamp_counts_the_listens_before_its_instant_and_no_later_one() {
        let mut state = Aggregates::default();
        let mut add = |ts: &str| {
            let listen = test_listen("s", "A", ts, 1000, false);
            state.apply(&BatchDelta::from_events([&listen]));
            let new_year = |zone: &str| {
                let zone = Zone::parse(zone).unwrap();
                zone.midnight("2024-01-01".parse().unwrap())
            };
            let before = |zone: &str| state.stamp_before(new_year(zone)).listens_before;
            (before("UTC"), before("America/Los_Angeles"))
        };
        assert_eq!(add("2023-12-10T00:00:00Z"), (1, 1));
        // Later than both New Years: in the UTC month of Los Angeles' one.
        assert_eq!(add("2024-01-01T09:00:00Z"), (1, 1));
        // Los Angeles' New Year's Eve, UTC's New Year's Day.
        assert_eq!(add("2024-01-01T07:00:00Z"), (1, 2));
        assert_eq!(add("2023-12-31T23:59:00Z"), (2, 3));
    }

    #[test]
    fn the_ranks_placed_among_a_ranking_are_those_of_the_whole_ranking() {
        // Songs tied on plays and time, some on names too (then told apart
        // by URI), among artists and albums tied likewise; the last ten
        // songs are played in 2023 only, outside the range ranked.
        let listens: Vec<ListenEvent> = (0..40)
            .flat_map(|i: usize| {
                let year = if i >= 30 { 2023 } else { 2024 };
                (0..=i % 4).map(move |_| {
                    let mut listen = test_listen(
                        &format!("s{i}"),
                        &format!("Artist {}", i % 6),
                        &format!("{year}-03-0{}T10:00:00Z", 1 + i % 5),
                        1000 * (1 + (i % 3) as u64),
                        false,
                    );
                    listen.track_name = format!("Song {}", i % 7);
                    listen.album_name = format!("Album {}", i % 5);
                    listen
                })
            })
            .collect();
        let mut state = Aggregates::default();
        state.apply(&BatchDelta::from_events(listens.iter()));
        let sums = state.song_sums(Period::Year(2024).range(), Zone::UTC);
        let GroupSums { artists, albums } = state.artist_and_album_sums(&sums, Grouped::Both);
        let ids =
            |top: Vec<(usize, &Counts)>| top.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        // Every number, those without plays in 2024 too, asked in reverse
        // and in an order of their own: the answer follows the question.
        let asked = |len: usize| -> Vec<usize> {
            (0..len)
                .rev()
                .step_by(3)
                .chain((0..len).step_by(3))
                .collect()
        };
        let expected = |ranking: &[usize], asked: &[usize]| -> Vec<Option<u32>> {
            (asked.iter())
                .map(|id| {
                    ranking
                        .iter()
                        .position(|ranked| ranked == id)
                        .map(|at| at as u32 + 1)
                })
                .collect()
        };
        for metric in [Metric::Plays, Metric::Time] {
            let songs = ids(state.best_songs(sums.listed(), metric, usize::MAX));
            assert_eq!(songs.len(), 30, "the songs played in 2024");
            let asked_songs = asked(sums.len());
            let ranks = ranks_among(
                &asked_songs,
                |id| sums[id],
                sums.listed(),
                state.song_order(metric),
            );
            assert_eq!(ranks, expected(&songs, &asked_songs), "{metric:?}");
            let unplayed = asked_songs.iter().filter(|&&id| id >= 30).count();
            assert!(unplayed > 0 && ranks.iter().filter(|rank| rank.is_none()).count() == unplayed);

            let top_artists = ids(state.best_artists(&artists, metric, usize::MAX));
            let asked_artists = asked(artists.len());
            assert_eq!(
                ranks_among(
                    &asked_artists,
                    |id| artists[id],
                    artists.iter().enumerate(),
                    state.artist_order(metric)
                ),
                expected(&top_artists, &asked_artists)
            );
            let top_albums = ids(state.best_albums(&albums, metric, usize::MAX));
            let asked_albums = asked(albums.len());
            assert_eq!(
                ranks_among(
                    &asked_albums,
                    |id| albums[id],
                    albums.iter().enumerate(),
                    state.album_order(metric)
                ),
                expected(&top_albums, &asked_albums)
            );
        }
    }
}
