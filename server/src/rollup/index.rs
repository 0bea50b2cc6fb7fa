//! The rollups of every partition in memory, compact enough to add up any
//! range in a few milliseconds: names are stored once, days refer to songs
//! by number, and each month's and year's song counts are kept added up, so
//! a long range reads whole years and months and only its ragged ends day by
//! day. Kept current by [`crate::store::rollups`], which loads a
//! partition's checkpoint and then follows its journal.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::aggregate::catalog::{Names, Numbers};
use crate::aggregate::days::{merge_songs, summed, Counts, DayIndex, DayRollup};
use crate::aggregate::{Aggregates, BatchDelta, LatestNames};

/// A song as its most recent listen names it.
#[derive(Debug, Clone)]
pub struct SongEntry {
    pub track_uri: Box<str>,
    pub track_name: Box<str>,
    pub artist: u32,
    /// `None` when the album is unknown (account data).
    pub album: Option<u32>,
    named_at: DateTime<Utc>,
}

/// What is known of one partition, and how far its journal was followed.
#[derive(Debug, Clone, Default)]
pub struct PartitionDays {
    pub generation: i64,
    /// End of the last journal entry applied (or the checkpoint's position).
    pub position: Option<i64>,
    pub days: BTreeMap<NaiveDate, DayIndex>,
    /// Song counts of each month (keyed by its first day), sorted by song number.
    pub months: BTreeMap<NaiveDate, Vec<(u32, Counts)>>,
    /// Song counts of each year, sorted by song number.
    pub years: BTreeMap<i32, Vec<(u32, Counts)>>,
}

impl PartitionDays {
    /// Adds days' song counts to their months and years: each month and
    /// year touched is merged once, however many of its days there are (a
    /// year's counts are long; merging them per day made a batch's writes,
    /// during which no range can be read, last tens of milliseconds).
    fn add_to_periods<'a>(
        &mut self,
        days: impl IntoIterator<Item = (NaiveDate, &'a [(u32, Counts)])>,
    ) {
        let mut months: BTreeMap<NaiveDate, Vec<(u32, Counts)>> = BTreeMap::new();
        let mut years: BTreeMap<i32, Vec<(u32, Counts)>> = BTreeMap::new();
        for (day, songs) in days {
            let month = day.with_day(1).unwrap_or(day);
            months.entry(month).or_default().extend_from_slice(songs);
            years
                .entry(day.year())
                .or_default()
                .extend_from_slice(songs);
        }
        for (month, songs) in months {
            merge_songs(self.months.entry(month).or_default(), &summed(songs));
        }
        for (year, songs) in years {
            merge_songs(self.years.entry(year).or_default(), &summed(songs));
        }
    }
}

/// Every partition's rollups, with names stored once.
#[derive(Debug, Clone, Default)]
pub struct RangeIndex {
    pub songs: Vec<SongEntry>,
    song_ids: Numbers,
    pub artists: Names,
    /// `(artist, album name)`.
    pub albums: Vec<(u32, Box<str>)>,
    album_ids: Numbers,
    pub partitions: BTreeMap<i32, PartitionDays>,
}

impl RangeIndex {
    pub fn partition(&self, partition: i32) -> Option<&PartitionDays> {
        self.partitions.get(&partition)
    }

    /// Replaces what is known of a partition with its checkpoint.
    pub fn load_partition(
        &mut self,
        partition: i32,
        generation: i64,
        position: Option<i64>,
        aggregates: &Aggregates,
    ) {
        // The aggregates' song numbers, as numbers of this index.
        let catalog = aggregates.catalog();
        let numbers: Vec<u32> = (0..catalog.songs().len() as u32)
            .map(|number| self.note_song(&catalog.song(number).uri, &catalog.latest(number)))
            .collect();
        let mut state = PartitionDays {
            generation,
            position,
            ..PartitionDays::default()
        };
        for (day, index) in aggregates.days() {
            let songs = index
                .songs
                .iter()
                .map(|(number, counts)| (numbers[*number as usize], *counts))
                .collect();
            let index = DayIndex {
                songs: summed(songs),
                rest: index.rest.clone(),
            };
            state.days.insert(*day, index);
        }
        let days: Vec<(NaiveDate, &[(u32, Counts)])> = state
            .days
            .iter()
            .map(|(day, index)| (*day, index.songs.as_slice()))
            .collect();
        let mut periods = PartitionDays::default();
        periods.add_to_periods(days);
        state.months = periods.months;
        state.years = periods.years;
        self.partitions.insert(partition, state);
    }

    /// Adds a journaled batch that ends at `to` to its partition.
    pub fn apply(&mut self, partition: i32, delta: &BatchDelta, to: i64) {
        for (uri, song) in &delta.songs {
            self.note_song(uri, &song.latest);
        }
        let added: Vec<(NaiveDate, DayIndex)> = delta
            .days
            .iter()
            .map(|(day, rollup)| (*day, self.day_index(rollup)))
            .collect();
        let state = self.partitions.entry(partition).or_default();
        state.add_to_periods(
            added
                .iter()
                .map(|(day, index)| (*day, index.songs.as_slice())),
        );
        for (day, index) in added {
            let existing = state.days.entry(day).or_default();
            merge_songs(&mut existing.songs, &index.songs);
            existing.rest.merge_rest(&index.rest);
        }
        state.position = Some(to);
    }

    /// Notes that the partition's checkpoint is now `generation`, its days unchanged.
    pub fn set_generation(&mut self, partition: i32, generation: i64) {
        self.partitions.entry(partition).or_default().generation = generation;
    }

    /// Drops what is known of a partition.
    pub fn forget_partition(&mut self, partition: i32) {
        self.partitions.remove(&partition);
    }

    /// Whether no partition holds anything here.
    pub fn is_empty(&self) -> bool {
        self.partitions.is_empty()
    }

    pub fn song_id(&self, track_uri: &str) -> Option<u32> {
        self.song_ids
            .find(track_uri, |id| &*self.songs[id as usize].track_uri)
    }

    pub fn artist_id(&self, name: &str) -> Option<u32> {
        self.artists.number(name)
    }

    fn album_id(&mut self, artist: u32, name: &str) -> u32 {
        if let Some(id) = self
            .album_ids
            .find((artist, name), |id| album_key(&self.albums, id))
        {
            return id;
        }
        let id = self.albums.len() as u32;
        self.albums.push((artist, name.into()));
        let albums = &self.albums;
        self.album_ids
            .insert(id, (artist, name), |id| album_key(albums, id));
        id
    }

    fn note_song(&mut self, uri: &str, names: &LatestNames) -> u32 {
        let artist = self.artists.intern(&names.artist_name);
        let album =
            (!names.album_name.is_empty()).then(|| self.album_id(artist, &names.album_name));
        match self.song_id(uri) {
            Some(id) => {
                let song = &mut self.songs[id as usize];
                if names.ts >= song.named_at {
                    song.track_name = names.track_name.as_str().into();
                    song.artist = artist;
                    song.album = album;
                    song.named_at = names.ts;
                }
                id
            }
            None => {
                let id = self.songs.len() as u32;
                self.songs.push(SongEntry {
                    track_uri: uri.into(),
                    track_name: names.track_name.as_str().into(),
                    artist,
                    album,
                    named_at: names.ts,
                });
                let songs = &self.songs;
                self.song_ids
                    .insert(id, uri, |id| &*songs[id as usize].track_uri);
                id
            }
        }
    }

    /// A day's rollup with its songs as numbers; a song never seen gets a
    /// number with its URI as its only name.
    fn day_index(&mut self, rollup: &DayRollup) -> DayIndex {
        let songs: Vec<(u32, Counts)> = rollup
            .songs
            .iter()
            .map(|(uri, counts)| {
                let id = match self.song_id(uri) {
                    Some(id) => id,
                    None => self.note_song(uri, &unnamed(uri)),
                };
                (id, *counts)
            })
            .collect();
        DayIndex {
            songs: summed(songs),
            rest: rollup.without_songs(),
        }
    }
}

/// What finds an album: its artist's number and its name.
fn album_key(albums: &[(u32, Box<str>)], id: u32) -> (u32, &str) {
    let (artist, name) = &albums[id as usize];
    (*artist, name)
}

fn unnamed(uri: &str) -> LatestNames {
    LatestNames {
        ts: DateTime::<Utc>::MIN_UTC,
        track_name: uri.to_string(),
        artist_name: String::new(),
        album_name: String::new(),
    }
}

/// The days of all partitions, for tests that compare with [`Days`].
#[cfg(test)]
pub fn as_days(index: &RangeIndex) -> crate::aggregate::days::Days {
    let mut days = crate::aggregate::days::Days::new();
    for partition in index.partitions.values() {
        for (day, day_index) in &partition.days {
            let mut rollup = day_index.rest.clone();
            rollup.songs = day_index
                .songs
                .iter()
                .map(|(id, counts)| (index.songs[*id as usize].track_uri.to_string(), *counts))
                .collect();
            crate::aggregate::days::merge_days(
                &mut days,
                &crate::aggregate::days::Days::from([(*day, rollup)]),
            );
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_listen;

    #[test]
    fn a_checkpoint_and_the_batches_after_it_add_up_to_everything() {
        let listens: Vec<_> = (0..40)
            .map(|i| {
                test_listen(
                    &format!("s{}", i % 6),
                    &format!("A{}", i % 3),
                    &format!("2021-03-{:02}T{:02}:00:00Z", 1 + i % 5, i % 24),
                    1000,
                    i % 4 == 0,
                )
            })
            .collect();
        let mut checkpoint = Aggregates::default();
        checkpoint.apply(&BatchDelta::from_events(&listens[..25]));
        let mut index = RangeIndex::default();
        index.load_partition(2, 1, Some(25), &checkpoint);
        index.apply(2, &BatchDelta::from_events(&listens[25..32]), 32);
        index.apply(2, &BatchDelta::from_events(&listens[32..]), 40);

        let mut everything = Aggregates::default();
        everything.apply(&BatchDelta::from_events(&listens));
        assert_eq!(as_days(&index), everything.days_by_uri());
        let state = index.partition(2).unwrap();
        let month_total: i64 = state.months.values().flatten().map(|(_, c)| c.plays).sum();
        let year_total: i64 = state.years.values().flatten().map(|(_, c)| c.plays).sum();
        assert_eq!((month_total, year_total), (40, 40));
        assert!(
            state.years[&2021].windows(2).all(|w| w[0].0 < w[1].0),
            "sorted by song"
        );
        assert_eq!(index.partition(2).unwrap().position, Some(40));
        assert_eq!(index.songs.len(), 6);
        assert_eq!(index.artists.len(), 3);
    }

    #[test]
    fn a_song_shows_its_most_recent_names() {
        let mut older = test_listen("x", "Old Name", "2020-01-01T00:00:00Z", 1, false);
        older.track_name = "Before".into();
        let mut newer = test_listen("x", "New Name", "2021-01-01T00:00:00Z", 1, false);
        newer.track_name = "After".into();
        let mut index = RangeIndex::default();
        index.apply(0, &BatchDelta::from_events([&newer]), 1);
        index.apply(0, &BatchDelta::from_events([&older]), 2);
        let song = &index.songs[index.song_id(&newer.track_uri).unwrap() as usize];
        assert_eq!(&*song.track_name, "After");
        assert_eq!(index.artists.get(song.artist), "New Name");
    }
}
