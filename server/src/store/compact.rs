//! The compact stored form of counts (checkpoint chunks and journal deltas):
//! every song's URI and every name written once, days referring to songs by
//! number, times as numbers, all in postcard's binary encoding, then
//! deflated. A day's per-song counts are most of what is stored; keyed by
//! full URIs they cost ~40 bytes each where a number costs 2 or 3, and
//! FerretDB's cost (and a restart's) follows the bytes.
//!
//! What an earlier version stored (deflated JSON, see [`super::packed`]) is
//! still read: the compact form starts with [`MAGIC`], which deflated JSON
//! never does.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufWriter, Read, Write};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::accounts::PersonId;
use crate::aggregate::days::{Counts, DayIndex, DayRollup, Days};
use crate::aggregate::people::PartitionDelta;
use crate::aggregate::{Aggregates, BatchDelta, Catalog, LatestNames, Song, SongTally, Tally};
use crate::event::Forget;

/// Marks the compact form (and its version).
const MAGIC: &[u8; 4] = b"SAC1";
/// Bytes stored are inflated up to this many, no further: damaged bytes
/// must not take all memory (a person's 10M listens take about 200 MB).
const MAX_INFLATED: u64 = 1 << 30;

/// A person's aggregates, as a checkpoint stores them: songs and names in
/// the numbers they have in memory, encoded straight from them into the
/// deflater (a copy of 1M listens' aggregates took 90 MiB for a moment).
pub fn pack_aggregates(aggregates: &Aggregates) -> Result<Vec<u8>, StoreError> {
    let catalog = aggregates.catalog();
    let borrowed = BorrowedTallies {
        uris: SeqOf(catalog.songs(), song_uri),
        names: catalog.names(),
        songs: NumberedSongs(catalog.songs()),
        artists: SeqOf(aggregates.artists_by_number(), stored_artist),
        totals: aggregates.totals.as_ref().map(StoredTally::from),
        days: SeqOf(aggregates.days(), BorrowedDay::of),
    };
    // postcard writes a few bytes at a time: the deflater takes them in blocks.
    let encoder = BufWriter::with_capacity(
        1 << 16,
        DeflateEncoder::new(MAGIC.to_vec(), Compression::fast()),
    );
    postcard::to_io(&borrowed, encoder)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode: {e}")))?
        .into_inner()
        .map_err(|e| StoreError::Corrupt(format!("cannot compress: {}", e.error())))?
        .finish()
        .map_err(|e| StoreError::Corrupt(format!("cannot compress: {e}")))
}

fn song_uri(song: &Song) -> &str {
    &song.uri
}

fn stored_artist((number, tally): (&u32, &Tally)) -> (u32, StoredTally) {
    (*number, StoredTally::from(tally))
}

/// [`Tallies`] as borrowed from aggregates: the same encoding, field by field.
#[derive(Serialize)]
struct BorrowedTallies<'a, U, S, A, D> {
    uris: U,
    names: &'a [Box<str>],
    songs: S,
    artists: A,
    totals: Option<StoredTally>,
    days: D,
}

/// Counts by name, as `(name, count)` pairs.
type Pairs<'a> = SeqOf<&'a BTreeMap<String, i64>, fn((&'a String, &'a i64)) -> (&'a str, i64)>;

/// [`StoredDay`] as borrowed.
#[derive(Serialize)]
struct BorrowedDay<'a> {
    day: i32,
    songs: &'a [(u32, Counts)],
    hours: &'a [Counts],
    platforms: Pairs<'a>,
    shuffled: i64,
    reason_start: Pairs<'a>,
    reason_end: Pairs<'a>,
}

impl<'a> BorrowedDay<'a> {
    fn of((day, index): (&'a NaiveDate, &'a DayIndex)) -> Self {
        let pairs = |map: &'a BTreeMap<String, i64>| -> Pairs<'a> {
            SeqOf(map, |(key, count)| (key.as_str(), *count))
        };
        Self {
            day: day.num_days_from_ce(),
            songs: &index.songs,
            hours: &index.rest.hours,
            platforms: pairs(&index.rest.platforms),
            shuffled: index.rest.shuffled,
            reason_start: pairs(&index.rest.reason_start),
            reason_end: pairs(&index.rest.reason_end),
        }
    }
}

/// Encodes as the sequence of `items`, each mapped by the function.
struct SeqOf<C, F>(C, F);

impl<C, F, T> Serialize for SeqOf<C, F>
where
    C: IntoIterator + Copy,
    C::IntoIter: ExactSizeIterator,
    F: Fn(C::Item) -> T,
    T: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.into_iter().map(&self.1))
    }
}

/// Songs as `(number, StoredSong)`, encoded from the catalog.
struct NumberedSongs<'a>(&'a [Song]);

impl Serialize for NumberedSongs<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().enumerate().map(|(number, song)| {
            let stored = BorrowedSong {
                tally: StoredTally::from(&song.tally),
                named_at: song.named_at.into(),
                track_name: &song.track_name,
                artist: song.artist,
                album: song.album,
            };
            (number as u32, stored)
        }))
    }
}

/// [`StoredSong`] as borrowed.
#[derive(Serialize)]
struct BorrowedSong<'a> {
    tally: StoredTally,
    named_at: StoredTime,
    track_name: &'a str,
    artist: u32,
    album: u32,
}

/// What [`pack_aggregates`] (or an earlier version's checkpoint) stored.
pub fn unpack_aggregates(bytes: &[u8], what: &str) -> Result<Aggregates, StoreError> {
    let Some(compact) = bytes.strip_prefix(MAGIC) else {
        // Deflated JSON of the fields a batch's delta has too.
        let whole: BatchDelta = super::packed::unpack(bytes, what)?;
        let mut aggregates = Aggregates::default();
        aggregates.apply(&whole);
        return Ok(aggregates);
    };
    decode::<Tallies>(compact, what)?.into_aggregates(what)
}

/// A journaled batch's deltas.
pub fn pack_delta(delta: &PartitionDelta) -> Result<Vec<u8>, StoreError> {
    let stored = StoredPartitionDelta {
        people: delta
            .people
            .iter()
            .map(|(person, delta)| {
                let tallies = Tallies::new(
                    delta.songs.iter(),
                    delta.artists.iter(),
                    delta.totals.as_ref(),
                    &delta.days,
                );
                (person.clone(), tallies)
            })
            .collect(),
        forgotten: delta.forgotten.clone(),
    };
    encode(&stored)
}

/// What [`pack_delta`] (or an earlier version's journal) stored.
pub fn unpack_delta(bytes: &[u8], what: &str) -> Result<PartitionDelta, StoreError> {
    let Some(compact) = bytes.strip_prefix(MAGIC) else {
        return super::packed::unpack(bytes, what);
    };
    let stored: StoredPartitionDelta = decode(compact, what)?;
    let mut delta = PartitionDelta {
        people: BTreeMap::new(),
        forgotten: stored.forgotten,
    };
    for (person, tallies) in stored.people {
        let parts = tallies.into_parts(what)?;
        delta.people.insert(
            person,
            BatchDelta {
                songs: parts.songs.into_iter().collect(),
                artists: parts.artists.into_iter().collect(),
                totals: parts.totals,
                days: parts.days,
            },
        );
    }
    Ok(delta)
}

/// Any other value in the compact form (postcard, deflated).
pub fn pack<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    encode(value)
}

/// What [`pack`] stored.
pub fn unpack<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    let compact = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| StoreError::Corrupt(format!("{what}: not in the compact form")))?;
    decode(compact, what)
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let raw = postcard::to_stdvec(value)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode: {e}")))?;
    let mut encoder = DeflateEncoder::new(MAGIC.to_vec(), Compression::fast());
    encoder
        .write_all(&raw)
        .and_then(|()| encoder.finish())
        .map_err(|e| StoreError::Corrupt(format!("cannot compress: {e}")))
}

fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    let raw = inflate(bytes, what)?;
    postcard::from_bytes(&raw).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Deflated bytes inflated, within [`MAX_INFLATED`] (both stored forms).
pub(super) fn inflate(bytes: &[u8], what: &str) -> Result<Vec<u8>, StoreError> {
    let mut raw = Vec::with_capacity(bytes.len() * 4);
    DeflateDecoder::new(bytes)
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut raw)
        .map_err(|e| StoreError::Corrupt(format!("{what}: not deflated ({e})")))?;
    if raw.len() as u64 > MAX_INFLATED {
        return Err(StoreError::Corrupt(format!(
            "{what}: over {MAX_INFLATED} bytes when inflated"
        )));
    }
    Ok(raw)
}

#[derive(Serialize, Deserialize)]
struct StoredPartitionDelta {
    people: Vec<(PersonId, Tallies)>,
    forgotten: Vec<Forget>,
}

/// Songs, artists, totals and days, each name once.
#[derive(Serialize, Deserialize)]
struct Tallies {
    /// Every song's URI, numbered by position (a delta's in URI order,
    /// aggregates' in the order their songs were first counted).
    uris: Vec<String>,
    /// Artist and album names, numbered by position.
    names: Vec<String>,
    /// By URI number.
    songs: Vec<(u32, StoredSong)>,
    /// By name number.
    artists: Vec<(u32, StoredTally)>,
    totals: Option<StoredTally>,
    days: Vec<StoredDay>,
}

/// The parts [`Tallies`] hold, names and URIs written out again.
struct TallyParts {
    songs: Vec<(String, SongTally)>,
    artists: Vec<(String, Tally)>,
    totals: Option<Tally>,
    days: Days,
}

#[derive(Serialize, Deserialize)]
struct StoredSong {
    tally: StoredTally,
    named_at: StoredTime,
    track_name: String,
    artist: u32,
    album: u32,
}

#[derive(Serialize, Deserialize)]
struct StoredTally {
    plays: i64,
    ms_played: i64,
    skips: i64,
    first_listen: StoredTime,
    last_listen: StoredTime,
}

/// Seconds since 1970 and nanoseconds: exact, 1 byte of nanoseconds for
/// the whole seconds every listen has.
#[derive(Serialize, Deserialize, Clone, Copy)]
struct StoredTime(i64, u32);

impl From<DateTime<Utc>> for StoredTime {
    fn from(time: DateTime<Utc>) -> Self {
        Self(time.timestamp(), time.timestamp_subsec_nanos())
    }
}

impl StoredTime {
    fn time(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.0, self.1)
    }
}

#[derive(Serialize, Deserialize)]
struct StoredDay {
    /// Days since 1 January of year 1.
    day: i32,
    /// By song number, ascending.
    songs: Vec<(u32, Counts)>,
    hours: Vec<Counts>,
    platforms: Vec<(String, i64)>,
    shuffled: i64,
    reason_start: Vec<(String, i64)>,
    reason_end: Vec<(String, i64)>,
}

impl StoredDay {
    /// A day whose songs are already numbered; the rest taken from `rollup`.
    fn new(day: NaiveDate, songs: Vec<(u32, Counts)>, rollup: &DayRollup) -> Self {
        Self {
            day: day.num_days_from_ce(),
            songs,
            hours: rollup.hours.clone(),
            platforms: pairs(&rollup.platforms),
            shuffled: rollup.shuffled,
            reason_start: pairs(&rollup.reason_start),
            reason_end: pairs(&rollup.reason_end),
        }
    }

    /// The day and everything but its songs.
    fn split(self) -> (i32, Vec<(u32, Counts)>, DayRollup) {
        let rest = DayRollup {
            songs: BTreeMap::new(),
            hours: self.hours,
            platforms: self.platforms.into_iter().collect(),
            shuffled: self.shuffled,
            reason_start: self.reason_start.into_iter().collect(),
            reason_end: self.reason_end.into_iter().collect(),
        };
        (self.day, self.songs, rest)
    }
}

/// Numbers strings in the order first seen.
#[derive(Default)]
struct Numbering<'a> {
    numbers: HashMap<&'a str, u32>,
    strings: Vec<String>,
}

impl<'a> Numbering<'a> {
    fn number(&mut self, string: &'a str) -> u32 {
        *self.numbers.entry(string).or_insert_with(|| {
            self.strings.push(string.to_string());
            (self.strings.len() - 1) as u32
        })
    }
}

impl Tallies {
    fn new<'a>(
        songs: impl Iterator<Item = (&'a String, &'a SongTally)>,
        artists: impl Iterator<Item = (&'a String, &'a Tally)>,
        totals: Option<&Tally>,
        days: &'a Days,
    ) -> Self {
        let songs: Vec<(&String, &SongTally)> = songs.collect();
        let mut sorted: Vec<&str> = songs.iter().map(|(uri, _)| uri.as_str()).collect();
        sorted.extend(
            days.values()
                .flat_map(|day| day.songs.keys().map(String::as_str)),
        );
        sorted.sort_unstable();
        sorted.dedup();
        let uri_numbers: HashMap<&str, u32> = sorted
            .iter()
            .enumerate()
            .map(|(number, uri)| (*uri, number as u32))
            .collect();
        let mut names = Numbering::default();
        let songs = songs
            .into_iter()
            .map(|(uri, song)| {
                let stored = StoredSong {
                    tally: StoredTally::from(&song.tally),
                    named_at: song.latest.ts.into(),
                    track_name: song.latest.track_name.clone(),
                    artist: names.number(&song.latest.artist_name),
                    album: names.number(&song.latest.album_name),
                };
                (uri_numbers[uri.as_str()], stored)
            })
            .collect();
        let artists = artists
            .map(|(name, tally)| (names.number(name), StoredTally::from(tally)))
            .collect();
        let days = days
            .iter()
            .map(|(day, rollup)| {
                let songs = rollup
                    .songs
                    .iter()
                    .map(|(uri, counts)| (uri_numbers[uri.as_str()], *counts))
                    .collect();
                StoredDay::new(*day, songs, rollup)
            })
            .collect();
        Self {
            uris: sorted.into_iter().map(str::to_string).collect(),
            names: names.strings,
            songs,
            artists,
            totals: totals.map(StoredTally::from),
            days,
        }
    }

    fn into_parts(self, what: &str) -> Result<TallyParts, StoreError> {
        let corrupt = |detail: &str| StoreError::Corrupt(format!("{what}: {detail}"));
        let name = |number: u32| {
            self.names
                .get(number as usize)
                .cloned()
                .ok_or_else(|| corrupt("a name number out of range"))
        };
        let uri = |number: u32| {
            self.uris
                .get(number as usize)
                .ok_or_else(|| corrupt("a song number out of range"))
        };
        let mut songs = Vec::with_capacity(self.songs.len());
        for (number, song) in &self.songs {
            let latest = LatestNames {
                ts: song
                    .named_at
                    .time()
                    .ok_or_else(|| corrupt("a time out of range"))?,
                track_name: song.track_name.clone(),
                artist_name: name(song.artist)?,
                album_name: name(song.album)?,
            };
            songs.push((
                uri(*number)?.clone(),
                SongTally {
                    tally: song
                        .tally
                        .tally()
                        .ok_or_else(|| corrupt("a time out of range"))?,
                    latest,
                },
            ));
        }
        let artists = self
            .artists
            .iter()
            .map(|(number, tally)| {
                let tally = tally
                    .tally()
                    .ok_or_else(|| corrupt("a time out of range"))?;
                Ok((name(*number)?, tally))
            })
            .collect::<Result<_, StoreError>>()?;
        let mut days = Days::new();
        for stored in self.days {
            let (day, songs, mut rollup) = stored.split();
            let day = NaiveDate::from_num_days_from_ce_opt(day)
                .ok_or_else(|| corrupt("a day out of range"))?;
            rollup.songs = songs
                .into_iter()
                .map(|(number, counts)| Ok((uri(number)?.clone(), counts)))
                .collect::<Result<_, StoreError>>()?;
            days.insert(day, rollup);
        }
        let totals = match &self.totals {
            Some(totals) => Some(
                totals
                    .tally()
                    .ok_or_else(|| corrupt("a time out of range"))?,
            ),
            None => None,
        };
        Ok(TallyParts {
            songs,
            artists,
            totals,
            days,
        })
    }
}

impl Tallies {
    /// The aggregates stored, songs and names keeping their numbers.
    fn into_aggregates(self, what: &str) -> Result<Aggregates, StoreError> {
        let corrupt = |detail: &str| StoreError::Corrupt(format!("{what}: {detail}"));
        let timeless = || corrupt("a time out of range");
        let mut catalog = Catalog::default();
        for name in &self.names {
            if catalog.intern_name(name) as usize != catalog.names().len() - 1 {
                return Err(corrupt("a name stored twice"));
            }
        }
        let name_count = self.names.len() as u32;
        let mut songs: Vec<Option<StoredSong>> = Vec::new();
        songs.resize_with(self.uris.len(), || None);
        for (number, song) in self.songs {
            let slot = songs
                .get_mut(number as usize)
                .ok_or_else(|| corrupt("a song number out of range"))?;
            if song.artist >= name_count || song.album >= name_count {
                return Err(corrupt("a name number out of range"));
            }
            if slot.replace(song).is_some() {
                return Err(corrupt("a song stored twice"));
            }
        }
        for (uri, song) in self.uris.into_iter().zip(songs) {
            // A URI only days name (an earlier version numbered those too).
            let Some(song) = song else {
                if catalog.song_number(&uri).is_some() {
                    return Err(corrupt("a song stored twice"));
                }
                catalog.number_or_unnamed(&uri);
                continue;
            };
            let named = Song {
                uri: uri.into(),
                tally: song.tally.tally().ok_or_else(timeless)?,
                track_name: song.track_name.into(),
                artist: song.artist,
                album: song.album,
                named_at: song.named_at.time().ok_or_else(timeless)?,
            };
            catalog
                .push_new(named)
                .ok_or_else(|| corrupt("a song stored twice"))?;
        }
        let mut artists = HashMap::with_capacity(self.artists.len());
        for (number, tally) in self.artists {
            if number >= name_count {
                return Err(corrupt("a name number out of range"));
            }
            if artists
                .insert(number, tally.tally().ok_or_else(timeless)?)
                .is_some()
            {
                return Err(corrupt("an artist stored twice"));
            }
        }
        let mut days = BTreeMap::new();
        for stored in self.days {
            let (day, songs, rest) = stored.split();
            let day = NaiveDate::from_num_days_from_ce_opt(day)
                .ok_or_else(|| corrupt("a day out of range"))?;
            if days.insert(day, DayIndex { songs, rest }).is_some() {
                return Err(corrupt("a day stored twice"));
            }
        }
        let totals = match self.totals {
            Some(totals) => Some(totals.tally().ok_or_else(timeless)?),
            None => None,
        };
        Aggregates::assemble(catalog, artists, totals, days)
            .ok_or_else(|| corrupt("a day's song numbers out of range or out of order"))
    }
}

fn pairs(map: &BTreeMap<String, i64>) -> Vec<(String, i64)> {
    map.iter()
        .map(|(key, value)| (key.clone(), *value))
        .collect()
}

impl From<&Tally> for StoredTally {
    fn from(tally: &Tally) -> Self {
        Self {
            plays: tally.plays,
            ms_played: tally.ms_played,
            skips: tally.skips,
            first_listen: tally.first_listen.into(),
            last_listen: tally.last_listen.into(),
        }
    }
}

impl StoredTally {
    /// `None` when a time is out of range (damaged bytes).
    fn tally(&self) -> Option<Tally> {
        Some(Tally {
            plays: self.plays,
            ms_played: self.ms_played,
            skips: self.skips,
            first_listen: self.first_listen.time()?,
            last_listen: self.last_listen.time()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::people::{PeopleAggregates, PersonListen};
    use crate::event::{test_listen, ForgetScope};

    fn listens() -> Vec<PersonListen> {
        (0..500)
            .map(|i| {
                let mut listen = test_listen(
                    &format!("s{}", i % 37),
                    &format!("Artist {}", i % 7),
                    &format!(
                        "2021-0{}-{:02}T{:02}:17:03.25Z",
                        1 + i % 9,
                        1 + i % 28,
                        i % 24
                    ),
                    1000 + i as u64,
                    i % 5 == 0,
                );
                if i % 11 == 0 {
                    listen.album_name = String::new();
                }
                PersonListen {
                    person: PersonId(format!("person{}", i % 3)),
                    listen,
                }
            })
            .collect()
    }

    #[test]
    fn deltas_round_trip_exactly_and_smaller_than_before() {
        let mut delta = PartitionDelta::from_listens(&listens(), &Default::default());
        delta.forgotten.push(Forget {
            person: PersonId("gone".into()),
            scope: ForgetScope::Data,
            requested_at: "2024-05-06T07:08:09Z".parse().unwrap(),
        });
        let packed = pack_delta(&delta).unwrap();
        assert_eq!(unpack_delta(&packed, "test").unwrap(), delta);
        let before = super::super::packed::pack(&delta).unwrap();
        assert!(
            packed.len() < before.len(),
            "{} vs {}",
            packed.len(),
            before.len()
        );
    }

    #[test]
    fn aggregates_round_trip_exactly() {
        let mut people = PeopleAggregates::default();
        people.apply(&PartitionDelta::from_listens(
            &listens(),
            &Default::default(),
        ));
        for aggregates in people.people.values() {
            let packed = pack_aggregates(aggregates).unwrap();
            assert_eq!(&unpack_aggregates(&packed, "test").unwrap(), aggregates);
        }
    }

    #[test]
    fn aggregates_the_previous_compact_version_stored_are_read() {
        // It numbered URIs in sorted order, days' URIs too, from string-keyed maps.
        let delta = PartitionDelta::from_listens(&listens(), &Default::default());
        let (person, whole) = delta.people.iter().next().unwrap();
        let mut days = whole.days.clone();
        let only_in_days = "spotify:track:only-in-days".to_string();
        let first_day = days.values_mut().next().unwrap();
        first_day
            .songs
            .insert(only_in_days.clone(), Counts::from([1, 10, 0]));
        let stored = Tallies::new(
            whole.songs.iter(),
            whole.artists.iter(),
            whole.totals.as_ref(),
            &days,
        );
        let read = unpack_aggregates(&encode(&stored).unwrap(), "test").unwrap();
        let mut people = PeopleAggregates::default();
        people.apply(&delta);
        let expected = &people.people[person];
        assert_eq!(read.summary().events, expected.summary().events);
        assert_eq!(read.top_songs(100), expected.top_songs(100));
        assert_eq!(read.top_artists(100), expected.top_artists(100));
        let unnamed = read.catalog().song_number(&only_in_days).unwrap();
        assert_eq!(read.catalog().song(unnamed).tally.plays, 0);
        assert_eq!(read.days_by_uri(), days);
    }

    #[test]
    fn what_an_earlier_version_stored_is_still_read() {
        let delta = PartitionDelta::from_listens(&listens(), &Default::default());
        let before = super::super::packed::pack(&delta).unwrap();
        assert_eq!(unpack_delta(&before, "test").unwrap(), delta);
        let mut people = PeopleAggregates::default();
        people.apply(&delta);
        // An earlier checkpoint held the fields a delta has, as JSON.
        let (person, whole) = delta.people.iter().next().unwrap();
        let before = super::super::packed::pack(whole).unwrap();
        assert_eq!(
            &unpack_aggregates(&before, "test").unwrap(),
            &people.people[person]
        );
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        let delta = PartitionDelta::from_listens(&listens(), &Default::default());
        let packed = pack_delta(&delta).unwrap();
        for cut in [4, packed.len() / 2, packed.len() - 1] {
            assert!(
                unpack_delta(&packed[..cut], "test").is_err(),
                "cut at {cut}"
            );
        }
        // Well-formed postcard whose numbers point nowhere.
        let stored = Tallies {
            uris: vec![],
            names: vec![],
            songs: vec![],
            artists: vec![(
                9,
                StoredTally {
                    plays: 1,
                    ms_played: 1,
                    skips: 0,
                    first_listen: StoredTime(0, 0),
                    last_listen: StoredTime(0, 0),
                },
            )],
            totals: None,
            days: vec![],
        };
        let error = unpack_aggregates(&encode(&stored).unwrap(), "test").unwrap_err();
        assert!(
            error.to_string().contains("name number out of range"),
            "{error}"
        );
        let mut twice = Tallies {
            artists: vec![],
            names: vec!["A".into()],
            ..stored
        };
        twice.days = vec![
            StoredDay::new(NaiveDate::MIN, vec![], &DayRollup::default()),
            StoredDay::new(NaiveDate::MIN, vec![], &DayRollup::default()),
        ];
        let error = unpack_aggregates(&encode(&twice).unwrap(), "test").unwrap_err();
        assert!(error.to_string().contains("a day stored twice"), "{error}");
        let stored = Tallies {
            days: vec![],
            ..twice
        };
        let mut timeless = stored;
        timeless.artists.clear();
        timeless.totals = Some(StoredTally {
            plays: 1,
            ms_played: 1,
            skips: 0,
            first_listen: StoredTime(i64::MAX, 0),
            last_listen: StoredTime(0, 0),
        });
        let error = unpack_aggregates(&encode(&timeless).unwrap(), "test").unwrap_err();
        assert!(error.to_string().contains("time out of range"), "{error}");
    }
}
