//! The pure fold of listen events into aggregate deltas.
//!
//! A micro-batch of events becomes one [`BatchDelta`]: per song, per artist and
//! in total, what to add. The store applies a delta with one write per key, so
//! MongoDB writes grow with distinct songs and artists, not with events.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::ListenEvent;

/// The names a song shows: those of its most recent listen.
///
/// Field order matters: ordering by `ts` first makes "the greatest" the most
/// recent, and the names break ties the same way in Rust and in MongoDB.
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
            ms_played: ms_as_i64(event.ms_played),
            skips: i64::from(event.skipped),
            first_listen: event.ts,
            last_listen: event.ts,
        }
    }

    fn add(&mut self, event: &ListenEvent) {
        self.plays += 1;
        self.ms_played = self.ms_played.saturating_add(ms_as_i64(event.ms_played));
        self.skips += i64::from(event.skipped);
        self.first_listen = self.first_listen.min(event.ts);
        self.last_listen = self.last_listen.max(event.ts);
    }
}

/// What a batch adds to one song.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SongDelta {
    pub tally: Tally,
    pub latest: LatestNames,
}

/// What one micro-batch adds to the aggregates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchDelta {
    /// By track URI.
    pub songs: BTreeMap<String, SongDelta>,
    /// By artist name.
    pub artists: BTreeMap<String, Tally>,
    /// All events of the batch; `None` for a batch of no valid events.
    pub totals: Option<Tally>,
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
        let latest = LatestNames {
            ts: event.ts,
            track_name: event.track_name.clone(),
            artist_name: event.artist_name.clone(),
            album_name: event.album_name.clone(),
        };
        match self.songs.get_mut(&event.track_uri) {
            Some(song) => {
                song.tally.add(event);
                if latest > song.latest {
                    song.latest = latest;
                }
            }
            None => {
                self.songs.insert(
                    event.track_uri.clone(),
                    SongDelta {
                        tally: Tally::of(event),
                        latest,
                    },
                );
            }
        }
        match self.artists.get_mut(&event.artist_name) {
            Some(artist) => artist.add(event),
            None => {
                self.artists
                    .insert(event.artist_name.clone(), Tally::of(event));
            }
        }
        match &mut self.totals {
            Some(totals) => totals.add(event),
            None => self.totals = Some(Tally::of(event)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.totals.is_none()
    }
}

/// MongoDB stores 64-bit signed integers; no real listen comes near the limit.
fn ms_as_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen(uri: &str, artist: &str, ts: &str, ms: u64, skipped: bool) -> ListenEvent {
        ListenEvent {
            track_uri: format!("spotify:track:{uri}"),
            ts: ts.parse().unwrap(),
            ms_played: ms,
            track_name: format!("Song {uri}"),
            artist_name: artist.into(),
            album_name: "Album".into(),
            platform: "android".into(),
            reason_start: "clickrow".into(),
            reason_end: "trackdone".into(),
            shuffle: false,
            skipped,
        }
    }

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
    }

    #[test]
    fn a_song_shows_the_names_of_its_most_recent_listen() {
        let mut newer = listen("a", "Old Name", "2021-01-01T00:00:00Z", 1, false);
        newer.artist_name = "New Name".into();
        newer.track_name = "Renamed".into();
        let older = listen("a", "Old Name", "2020-01-01T00:00:00Z", 1, false);
        // Order of arrival must not matter.
        for events in [[newer.clone(), older.clone()], [older, newer]] {
            let delta = BatchDelta::from_events(&events);
            let latest = &delta.songs["spotify:track:a"].latest;
            assert_eq!(latest.track_name, "Renamed");
            assert_eq!(latest.artist_name, "New Name");
        }
    }

    #[test]
    fn folding_in_two_halves_equals_folding_at_once() {
        let events: Vec<ListenEvent> = (0..20)
            .map(|i| {
                listen(
                    &format!("s{}", i % 3),
                    if i % 2 == 0 { "X" } else { "Y" },
                    &format!("2020-01-01T00:00:{i:02}Z"),
                    i * 10,
                    i % 5 == 0,
                )
            })
            .collect();
        let whole = BatchDelta::from_events(&events);
        let first = BatchDelta::from_events(&events[..7]);
        let second = BatchDelta::from_events(&events[7..]);
        for (uri, song) in &whole.songs {
            let parts: i64 = [&first, &second]
                .iter()
                .filter_map(|d| d.songs.get(uri))
                .map(|s| s.tally.plays)
                .sum();
            assert_eq!(parts, song.tally.plays);
        }
        assert_eq!(
            first.totals.unwrap().plays + second.totals.unwrap().plays,
            20
        );
    }

    #[test]
    fn an_empty_batch_has_no_totals() {
        assert!(BatchDelta::from_events(&[]).is_empty());
    }
}
