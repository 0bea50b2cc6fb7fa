//! One person's songs and names, each stored once and numbered, so that
//! the days' per-song counts (most of what is ever counted) refer to a song
//! by a 4-byte number instead of a copy of its URI.

use std::cmp::Ordering;
use std::hash::{BuildHasher, Hash, RandomState};

use chrono::{DateTime, Utc};
use hashbrown::HashTable;

use super::{LatestNames, SongTally, Tally};

/// A song: its all-time counts and the names of its most recent listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Song {
    pub uri: Box<str>,
    pub tally: Tally,
    pub track_name: Box<str>,
    /// Numbers of the artist's and the album's names.
    pub artist: u32,
    pub album: u32,
    /// When the names were those of a listen.
    pub named_at: DateTime<Utc>,
}

impl Song {
    /// A song known only by its URI (no counts of its own).
    fn unnamed(uri: &str) -> Self {
        Self {
            uri: uri.into(),
            tally: Tally {
                plays: 0,
                ms_played: 0,
                skips: 0,
                first_listen: DateTime::<Utc>::MAX_UTC,
                last_listen: DateTime::<Utc>::MIN_UTC,
            },
            track_name: uri.into(),
            artist: 0,
            album: 0,
            named_at: DateTime::<Utc>::MIN_UTC,
        }
    }
}

/// Finds the number of an entry of a list by a key of the entry's: holds
/// numbers only, the keys being read from the list itself, so no key is
/// stored twice.
#[derive(Debug, Clone, Default)]
pub struct Numbers {
    table: HashTable<u32>,
    /// Keyed with a random seed: URIs and names come from people's files.
    hasher: RandomState,
}

impl Numbers {
    /// The number whose entry has `key`; `key_of` reads an entry's key.
    pub fn find<Q: Hash + Eq>(&self, key: Q, key_of: impl Fn(u32) -> Q) -> Option<u32> {
        self.table
            .find(self.hasher.hash_one(&key), |&number| key_of(number) == key)
            .copied()
    }

    /// Notes that entry `number` has `key`, not noted before.
    pub fn insert<Q: Hash>(&mut self, number: u32, key: Q, key_of: impl Fn(u32) -> Q) {
        let hasher = &self.hasher;
        self.table
            .insert_unique(hasher.hash_one(&key), number, |&n| {
                hasher.hash_one(key_of(n))
            });
    }
}

/// Names numbered in the order first seen, each findable by its text,
/// which is kept once.
#[derive(Debug, Clone, Default)]
pub struct Names {
    names: Vec<Box<str>>,
    numbers: Numbers,
}

impl Names {
    pub fn get(&self, number: u32) -> &str {
        &self.names[number as usize]
    }

    pub fn as_slice(&self) -> &[Box<str>] {
        &self.names
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn number(&self, name: &str) -> Option<u32> {
        self.numbers.find(name, |n| &*self.names[n as usize])
    }

    /// The number of a name, given one if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(number) = self.number(name) {
            return number;
        }
        let number = self.names.len() as u32;
        self.names.push(name.into());
        let names = &self.names;
        self.numbers.insert(number, name, |n| &*names[n as usize]);
        number
    }
}

/// Songs by number and names (of artists and albums) by number, each
/// findable by its text, which is kept once.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    songs: Vec<Song>,
    song_numbers: Numbers,
    names: Names,
}

impl Catalog {
    pub fn songs(&self) -> &[Song] {
        &self.songs
    }

    pub fn song(&self, number: u32) -> &Song {
        &self.songs[number as usize]
    }

    pub fn name(&self, number: u32) -> &str {
        self.names.get(number)
    }

    pub fn names(&self) -> &[Box<str>] {
        self.names.as_slice()
    }

    pub fn song_number(&self, uri: &str) -> Option<u32> {
        self.song_numbers
            .find(uri, |n| &*self.songs[n as usize].uri)
    }

    pub fn name_number(&self, name: &str) -> Option<u32> {
        self.names.number(name)
    }

    /// The number of a name, given one if new.
    pub fn intern_name(&mut self, name: &str) -> u32 {
        self.names.intern(name)
    }

    /// Adds a song's counts and names (the most recent win); its number.
    pub fn add(&mut self, uri: &str, song: &SongTally) -> u32 {
        let number = match self.song_number(uri) {
            Some(number) => number,
            None => {
                let latest = &song.latest;
                let artist = self.intern_name(&latest.artist_name);
                let album = self.intern_name(&latest.album_name);
                return self.push(Song {
                    uri: uri.into(),
                    tally: song.tally.clone(),
                    track_name: latest.track_name.as_str().into(),
                    artist,
                    album,
                    named_at: latest.ts,
                });
            }
        };
        if self.is_newer(number, &song.latest) {
            let artist = self.intern_name(&song.latest.artist_name);
            let album = self.intern_name(&song.latest.album_name);
            let existing = &mut self.songs[number as usize];
            existing.track_name = song.latest.track_name.as_str().into();
            existing.artist = artist;
            existing.album = album;
            existing.named_at = song.latest.ts;
        }
        self.songs[number as usize].tally.merge(&song.tally);
        number
    }

    /// The number of a song counted without its names (damaged or old
    /// stored data): its URI stands for its name until a listen names it,
    /// and its first and last listen are any listen's.
    pub fn number_or_unnamed(&mut self, uri: &str) -> u32 {
        if let Some(number) = self.song_number(uri) {
            return number;
        }
        let unknown = self.intern_name("");
        self.push(Song {
            artist: unknown,
            album: unknown,
            ..Song::unnamed(uri)
        })
    }

    /// Adds a song known to be new (read back whole); its number, or `None`
    /// if its URI is already here.
    pub(crate) fn push_new(&mut self, song: Song) -> Option<u32> {
        if self.song_number(&song.uri).is_some() {
            return None;
        }
        Some(self.push(song))
    }

    fn push(&mut self, song: Song) -> u32 {
        let number = self.songs.len() as u32;
        self.songs.push(song);
        let songs = &self.songs;
        self.song_numbers
            .insert(number, &*songs[number as usize].uri, |n| {
                &*songs[n as usize].uri
            });
        number
    }

    /// Whether `latest` names song `number` more recently than its names do:
    /// the later listen, ties broken by the names themselves.
    fn is_newer(&self, number: u32, latest: &LatestNames) -> bool {
        let song = &self.songs[number as usize];
        match latest.ts.cmp(&song.named_at) {
            Ordering::Greater => true,
            Ordering::Less => false,
            Ordering::Equal => {
                let ours = (
                    &*song.track_name,
                    self.name(song.artist),
                    self.name(song.album),
                );
                let theirs = (
                    latest.track_name.as_str(),
                    latest.artist_name.as_str(),
                    latest.album_name.as_str(),
                );
                theirs > ours
            }
        }
    }

    /// The names a song shows, written out.
    pub fn latest(&self, number: u32) -> LatestNames {
        let song = self.song(number);
        LatestNames {
            ts: song.named_at,
            track_name: song.track_name.to_string(),
            artist_name: self.name(song.artist).to_string(),
            album_name: self.name(song.album).to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::BatchDelta;
    use crate::event::test_listen;

    #[test]
    fn songs_and_names_are_numbered_once_and_found_again() {
        let listens: Vec<_> = (0..30)
            .map(|i| {
                test_listen(
                    &format!("s{}", i % 4),
                    &format!("A{}", i % 2),
                    "2020-01-01T00:00:00Z",
                    1,
                    false,
                )
            })
            .collect();
        let delta = BatchDelta::from_events(&listens);
        let mut catalog = Catalog::default();
        for (uri, song) in &delta.songs {
            catalog.add(uri, song);
        }
        for (uri, song) in &delta.songs {
            catalog.add(uri, song);
        }
        assert_eq!(catalog.songs().len(), 4);
        let number = catalog.song_number("spotify:track:s3").unwrap();
        assert_eq!(catalog.song(number).tally.plays, 14);
        assert_eq!(catalog.name(catalog.song(number).artist), "A1");
        assert_eq!(catalog.song_number("spotify:track:s9"), None);
        let unnamed = catalog.number_or_unnamed("spotify:track:s9");
        assert_eq!(catalog.song_number("spotify:track:s9"), Some(unnamed));
        assert_eq!(
            catalog.push_new(catalog.song(0).clone()),
            None,
            "a URI is numbered once"
        );
    }
}
