//! The pure fold of listen events into aggregates.
//!
//! A micro-batch of one person's events becomes one [`BatchDelta`] (per song,
//! per artist and in total, what to add), and deltas fold into
//! [`Aggregates`], the complete state from which rankings and totals are
//! read; [`people`] keeps them per person, as a partition holds them.
//! Nothing here does I/O.

pub mod catalog;
pub mod days;
pub mod people;

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use app::model::{ranking_order, Summary, TopArtist, TopSong};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::event::ListenEvent;
use days::{merge_songs, Counts, DayIndex, Days};

pub use catalog::{Catalog, Song};

/// The names a song shows: those of its most recent listen.
///
/// Field order matters: ordering by `ts` first makes "the greatest" the most
/// recent, and the names break ties of equal timestamps deterministically.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LatestNames {
    pub ts: DateTime<Utc>,
    pub track_name: String,
    pub artist_name: String,
    pub album_name: String,
}

/// Counts shared by songs, artists and the totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub plays: i64,
    pub ms_played: i64,
    pub skips: i64,
    pub first_listen: DateTime<Utc>,
    pub last_listen: DateTime<Utc>,
}

impl Tally {
    fn of(event: &ListenEvent) -> Self {
        Self {
            plays: 1,
            ms_played: i64::try_from(event.ms_played).unwrap_or(i64::MAX),
            skips: i64::from(event.skipped),
            first_listen: event.ts,
            last_listen: event.ts,
        }
    }

    /// Adds another tally of the same song, artist or total.
    pub fn merge(&mut self, other: &Tally) {
        self.plays += other.plays;
        self.ms_played = self.ms_played.saturating_add(other.ms_played);
        self.skips += other.skips;
        self.first_listen = self.first_listen.min(other.first_listen);
        self.last_listen = self.last_listen.max(other.last_listen);
    }
}

/// A song's counts and the names it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SongTally {
    pub tally: Tally,
    pub latest: LatestNames,
}

impl SongTally {
    fn of(event: &ListenEvent) -> Self {
        Self {
            tally: Tally::of(event),
            latest: LatestNames {
                ts: event.ts,
                track_name: event.track_name.clone(),
                artist_name: event.artist_name.clone(),
                album_name: event.album_name.clone(),
            },
        }
    }

    pub fn merge(&mut self, other: &SongTally) {
        self.tally.merge(&other.tally);
        if other.latest > self.latest {
            self.latest = other.latest.clone();
        }
    }

    /// Counts one more listen; its names are copied only when they are the
    /// latest (the same order as [`LatestNames`]'s).
    fn add_listen(&mut self, event: &ListenEvent) {
        self.tally.merge(&Tally::of(event));
        let latest = &self.latest;
        let newer = (
            event.ts,
            event.track_name.as_str(),
            event.artist_name.as_str(),
            event.album_name.as_str(),
        ) > (
            latest.ts,
            latest.track_name.as_str(),
            latest.artist_name.as_str(),
            latest.album_name.as_str(),
        );
        if newer {
            self.latest = SongTally::of(event).latest;
        }
    }
}

/// What one micro-batch adds to the aggregates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchDelta {
    /// By track URI.
    pub songs: BTreeMap<String, SongTally>,
    /// By artist name.
    pub artists: BTreeMap<String, Tally>,
    /// All events of the batch; `None` for a batch without valid events.
    pub totals: Option<Tally>,
    /// The batch's listens by UTC day, for time-range questions.
    #[serde(default)]
    pub days: Days,
}

impl BatchDelta {
    /// Folds a sequence of events into one delta.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a ListenEvent>) -> Self {
        let mut delta = Self::default();
        for event in events {
            delta.add(event);
        }
        delta
    }

    pub fn add(&mut self, event: &ListenEvent) {
        match self.songs.get_mut(&event.track_uri) {
            Some(existing) => existing.add_listen(event),
            None => {
                self.songs
                    .insert(event.track_uri.clone(), SongTally::of(event));
            }
        }
        let tally = Tally::of(event);
        match self.artists.get_mut(&event.artist_name) {
            Some(existing) => existing.merge(&tally),
            None => {
                self.artists
                    .insert(event.artist_name.clone(), tally.clone());
            }
        }
        merge_optional(&mut self.totals, &tally);
        days::add_listen(&mut self.days, event);
    }

    /// Events this delta counts.
    pub fn events(&self) -> i64 {
        self.totals.as_ref().map_or(0, |totals| totals.plays)
    }
}

fn merge_optional(into: &mut Option<Tally>, tally: &Tally) {
    match into {
        Some(existing) => existing.merge(tally),
        None => *into = Some(tally.clone()),
    }
}

/// Everything counted so far: every song, every artist, the totals and the
/// rollups by day, songs and names stored once ([`Catalog`]) and days
/// referring to songs by number. Packed whole into a checkpoint's chunks
/// ([`crate::store::compact`]).
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    catalog: Catalog,
    /// By name number of the catalog.
    artists: HashMap<u32, Tally>,
    pub totals: Option<Tally>,
    days: BTreeMap<NaiveDate, DayIndex>,
}

impl Aggregates {
    /// Aggregates read back whole: every day's songs must be numbers of
    /// `catalog`'s songs, sorted; `None` otherwise.
    pub fn assemble(
        catalog: Catalog,
        artists: HashMap<u32, Tally>,
        totals: Option<Tally>,
        days: BTreeMap<NaiveDate, DayIndex>,
    ) -> Option<Self> {
        let songs = catalog.songs().len();
        let names = catalog.names().len();
        let days_fit = days.values().all(|day| {
            day.songs.windows(2).all(|pair| pair[0].0 < pair[1].0)
                && day.songs.last().is_none_or(|(n, _)| (*n as usize) < songs)
        });
        let artists_fit = artists.keys().all(|n| (*n as usize) < names);
        (days_fit && artists_fit).then_some(Self {
            catalog,
            artists,
            totals,
            days,
        })
    }

    pub fn apply(&mut self, delta: &BatchDelta) {
        for (uri, song) in &delta.songs {
            self.catalog.add(uri, song);
        }
        for (name, tally) in &delta.artists {
            let number = self.catalog.intern_name(name);
            match self.artists.get_mut(&number) {
                Some(existing) => existing.merge(tally),
                None => {
                    self.artists.insert(number, tally.clone());
                }
            }
        }
        if let Some(totals) = &delta.totals {
            merge_optional(&mut self.totals, totals);
        }
        for (day, rollup) in &delta.days {
            let songs: Vec<(u32, Counts)> = rollup
                .songs
                .iter()
                .map(|(uri, counts)| (self.catalog.number_or_unnamed(uri), *counts))
                .collect();
            let existing = self.days.entry(*day).or_default();
            merge_songs(&mut existing.songs, &days::summed(songs));
            existing.rest.merge_rest(rollup);
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Each artist's name and counts.
    pub fn artists(&self) -> impl Iterator<Item = (&str, &Tally)> {
        self.artists
            .iter()
            .map(|(number, tally)| (self.catalog.name(*number), tally))
    }

    /// Each artist's name number and counts.
    pub fn artists_by_number(&self) -> &HashMap<u32, Tally> {
        &self.artists
    }

    /// The days, songs by catalog number.
    pub fn days(&self) -> &BTreeMap<NaiveDate, DayIndex> {
        &self.days
    }

    /// The days with songs by URI, as listens add them up.
    pub fn days_by_uri(&self) -> Days {
        self.days
            .iter()
            .map(|(day, index)| {
                let mut rollup = index.rest.clone();
                rollup.songs = index
                    .songs
                    .iter()
                    .map(|(number, counts)| (self.catalog.song(*number).uri.to_string(), *counts))
                    .collect();
                (*day, rollup)
            })
            .collect()
    }

    /// Songs with listens: not those only damaged or old stored data
    /// named ([`Catalog::number_or_unnamed`]).
    fn counted_songs(&self) -> impl Iterator<Item = &Song> {
        self.catalog
            .songs()
            .iter()
            .filter(|song| song.tally.plays > 0)
    }

    /// Distinct songs and artists held: the size of the state.
    pub fn keys(&self) -> usize {
        self.catalog.songs().len() + self.artists.len()
    }

    /// The `limit` best songs: plays, then listening time, then track name (then URI).
    pub fn top_songs(&self, limit: usize) -> Vec<TopSong> {
        let order = |a: &&Song, b: &&Song| {
            ranking_order(
                (a.tally.plays, a.tally.ms_played, &a.track_name),
                (b.tally.plays, b.tally.ms_played, &b.track_name),
            )
            .then_with(|| a.uri.cmp(&b.uri))
        };
        best(self.counted_songs().collect(), limit, order)
            .into_iter()
            .enumerate()
            .map(|(index, song)| TopSong {
                rank: index as u32 + 1,
                track_uri: song.uri.to_string(),
                track_name: song.track_name.to_string(),
                artist_name: self.catalog.name(song.artist).to_string(),
                album_name: self.catalog.name(song.album).to_string(),
                plays: song.tally.plays,
                ms_played: song.tally.ms_played,
                skips: song.tally.skips,
            })
            .collect()
    }

    /// The `limit` best artists: plays, then listening time, then name.
    pub fn top_artists(&self, limit: usize) -> Vec<TopArtist> {
        let order = |a: &(&str, &Tally), b: &(&str, &Tally)| {
            ranking_order(
                (a.1.plays, a.1.ms_played, a.0),
                (b.1.plays, b.1.ms_played, b.0),
            )
        };
        best(self.artists().collect(), limit, order)
            .into_iter()
            .enumerate()
            .map(|(index, (name, tally))| TopArtist {
                rank: index as u32 + 1,
                artist_name: name.to_string(),
                plays: tally.plays,
                ms_played: tally.ms_played,
                skips: tally.skips,
            })
            .collect()
    }

    /// Totals over everything counted; `updated_at` is left for the caller.
    pub fn summary(&self) -> Summary {
        let totals = self.totals.as_ref();
        Summary {
            events: totals.map_or(0, |t| t.plays),
            ms_played: totals.map_or(0, |t| t.ms_played),
            songs: self.counted_songs().count() as i64,
            artists: self.artists.len() as i64,
            last_listen: totals.map(|t| t.last_listen),
            updated_at: None,
        }
    }

    /// What equality compares: everything by URI and name, whatever the
    /// numbers given on the way.
    fn by_name(&self) -> ByName<'_> {
        let songs = self
            .catalog
            .songs()
            .iter()
            .enumerate()
            .map(|(number, song)| {
                (
                    &*song.uri,
                    (&song.tally, self.catalog.latest(number as u32)),
                )
            })
            .collect();
        (
            songs,
            self.artists().collect(),
            self.totals.as_ref(),
            self.days_by_uri(),
        )
    }
}

type ByName<'a> = (
    BTreeMap<&'a str, (&'a Tally, LatestNames)>,
    BTreeMap<&'a str, &'a Tally>,
    Option<&'a Tally>,
    Days,
);

impl PartialEq for Aggregates {
    fn eq(&self, other: &Self) -> bool {
        self.by_name() == other.by_name()
    }
}

impl Eq for Aggregates {}

/// The first `limit` items in `order`, without sorting all of them.
pub(crate) fn best<T>(
    mut items: Vec<T>,
    limit: usize,
    order: impl Fn(&T, &T) -> Ordering,
) -> Vec<T> {
    if limit == 0 {
        return Vec::new();
    }
    if items.len() > limit {
        items.select_nth_unstable_by(limit - 1, &order);
        items.truncate(limit);
    }
    items.sort_by(order);
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_listen as listen;

    #[test]
    fn folds_plays_ms_and_skips_per_song_artist_and_total() {
        let events = [
            listen("a", "X", "2020-01-02T00:00:00Z", 1000, false),
            listen("a", "X", "2020-01-01T00:00:00Z", 500, true),
            listen("b", "X", "2020-01-03T00:00:00Z", 10, true),
            listen("c", "Y", "2019-06-01T00:00:00Z", 7, false),
        ];
        let delta = BatchDelta::from_events(&events);

        let a = &delta.songs["spotify:track:a"].tally;
        assert_eq!((a.plays, a.ms_played, a.skips), (2, 1500, 1));
        assert_eq!(a.first_listen, events[1].ts);
        assert_eq!(a.last_listen, events[0].ts);

        let x = &delta.artists["X"];
        assert_eq!((x.plays, x.ms_played, x.skips), (3, 1510, 2));
        let y = &delta.artists["Y"];
        assert_eq!((y.plays, y.ms_played, y.skips), (1, 7, 0));

        let totals = delta.totals.as_ref().unwrap();
        assert_eq!((totals.plays, totals.ms_played, totals.skips), (4, 1517, 2));
        assert_eq!(totals.first_listen, events[3].ts);
        assert_eq!(totals.last_listen, events[2].ts);
        assert_eq!(delta.events(), 4);
    }

    #[test]
    fn a_song_shows_the_names_of_its_most_recent_listen() {
        let mut newer = listen("a", "Old Name", "2021-01-01T00:00:00Z", 1, false);
        newer.artist_name = "New Name".into();
        newer.track_name = "Renamed".into();
        let older = listen("a", "Old Name", "2020-01-01T00:00:00Z", 1, false);
        // Neither the order of arrival nor the batch boundaries matter.
        for events in [
            [newer.clone(), older.clone()],
            [older.clone(), newer.clone()],
        ] {
            let delta = BatchDelta::from_events(&events);
            assert_eq!(delta.songs["spotify:track:a"].latest.track_name, "Renamed");
        }
        let mut state = Aggregates::default();
        state.apply(&BatchDelta::from_events([&newer]));
        state.apply(&BatchDelta::from_events([&older]));
        let top = state.top_songs(1);
        assert_eq!(top[0].track_name, "Renamed");
        assert_eq!(top[0].artist_name, "New Name");
    }

    #[test]
    fn listens_at_the_same_second_name_a_song_the_same_whatever_their_order() {
        let at = "2021-01-01T00:00:00Z";
        let named = |track: &str, artist: &str, album: &str| {
            let mut event = listen("a", artist, at, 1, false);
            event.track_name = track.into();
            event.album_name = album.into();
            event
        };
        let events = [
            named("B", "X", "1"),
            named("B", "Y", "0"),
            named("A", "Z", "9"),
            named("B", "Y", "2"),
        ];
        let expected = events
            .iter()
            .map(|event| SongTally::of(event).latest)
            .max()
            .unwrap();
        assert_eq!(
            (expected.artist_name.as_str(), expected.album_name.as_str()),
            ("Y", "2")
        );
        for rotation in 0..events.len() {
            let mut order = events.to_vec();
            order.rotate_left(rotation);
            let delta = BatchDelta::from_events(&order);
            assert_eq!(delta.songs["spotify:track:a"].latest, expected);
            assert_eq!(delta.songs["spotify:track:a"].tally.plays, 4);
        }
    }

    #[test]
    fn folding_batches_one_by_one_equals_folding_at_once() {
        let events: Vec<ListenEvent> = (0..40)
            .map(|i| {
                listen(
                    &format!("s{}", i % 7),
                    ["X", "Y", "Z"][i as usize % 3],
                    &format!("2020-01-01T00:{:02}:{:02}Z", i / 60, i % 60),
                    i * 10,
                    i % 5 == 0,
                )
            })
            .collect();
        let mut at_once = Aggregates::default();
        at_once.apply(&BatchDelta::from_events(&events));
        let mut in_batches = Aggregates::default();
        for chunk in events.chunks(6) {
            in_batches.apply(&BatchDelta::from_events(chunk));
        }
        assert_eq!(in_batches, at_once);
        assert_eq!(at_once.summary().events, 40);
        assert_eq!(at_once.summary().songs, 7);
        assert_eq!(at_once.summary().artists, 3);
    }

    #[test]
    fn songs_rank_by_plays_then_time_then_name() {
        let events = [
            listen("b", "X", "2020-01-01T00:00:00Z", 100, false),
            listen("a", "X", "2020-01-01T00:00:01Z", 100, false),
            listen("c", "X", "2020-01-01T00:00:02Z", 500, false),
            listen("d", "X", "2020-01-01T00:00:03Z", 1, false),
            listen("d", "X", "2020-01-01T00:00:04Z", 1, false),
        ];
        let mut state = Aggregates::default();
        state.apply(&BatchDelta::from_events(&events));
        let ranked: Vec<(u32, String)> = state
            .top_songs(10)
            .into_iter()
            .map(|song| (song.rank, song.track_name))
            .collect();
        assert_eq!(
            ranked,
            vec![
                (1, "Song d".to_string()),
                (2, "Song c".to_string()),
                (3, "Song a".to_string()),
                (4, "Song b".to_string()),
            ]
        );
        assert_eq!(state.top_songs(2).len(), 2);
        assert_eq!(state.top_songs(2)[1].track_name, "Song c");
    }

    #[test]
    fn artists_rank_by_plays_then_time_then_name() {
        let events = [
            listen("a", "Beta", "2020-01-01T00:00:00Z", 10, false),
            listen("b", "Alpha", "2020-01-01T00:00:00Z", 10, false),
            listen("c", "Gamma", "2020-01-01T00:00:00Z", 11, true),
        ];
        let mut state = Aggregates::default();
        state.apply(&BatchDelta::from_events(&events));
        let names: Vec<String> = state
            .top_artists(3)
            .into_iter()
            .map(|artist| artist.artist_name)
            .collect();
        assert_eq!(names, ["Gamma", "Alpha", "Beta"]);
        assert_eq!(state.top_artists(1)[0].skips, 1);
        assert!(state.top_artists(0).is_empty());
    }

    #[test]
    fn an_empty_state_has_an_empty_summary() {
        let summary = Aggregates::default().summary();
        assert_eq!(summary.events, 0);
        assert_eq!(summary.last_listen, None);
        assert!(Aggregates::default().top_songs(10).is_empty());
    }
}
