//! The compact stored form of what is counted (checkpoint chunks and
//! journal deltas): a person's catalog (its texts and artists' names,
//! then albums, songs, namings and contexts as numbers) and their listens
//! as numbers, each listen's time as the difference from the one before,
//! all in postcard's binary encoding, then deflated. FerretDB's cost, and
//! a restart's, follows the bytes.
//!
//! Checkpoints and journal deltas start with [`MAGIC`]; their form before
//! clean-ups (no exclusions, no listens set aside), which started with
//! [`FIRST_MAGIC`], is read as well. Every other form is unchanged and
//! still written with [`FIRST_MAGIC`], so a server of the version before
//! reads it. Bytes with neither were written by an earlier version, whose
//! figures are refused at start (see [`super::StoreError::EarlierLayout`]).

use std::io::{BufWriter, Read};

use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::accounts::PersonId;
use crate::aggregate::catalog::{
    Album, Catalog, Context, Noted, Song, SongUri, StoredNaming, Texts,
};
use crate::aggregate::cleaning::{Exclusions, Standing};
use crate::aggregate::months::{Millis, MonthKey};
use crate::aggregate::people::PartitionDelta;
use crate::aggregate::{Aggregates, BatchDelta, BatchListen, HeldListen};
use crate::event::{CleanUp, Forget};
use app::cleanup::Exclusion;

/// Marks the compact form of a checkpoint's or a journal entry's listens
/// (and its version).
const MAGIC: &[u8; 4] = b"SAL2";
/// Marks their form before clean-ups, and every other compact form.
const FIRST_MAGIC: &[u8; 4] = b"SAL1";
/// Bytes stored are inflated up to this many, no further: damaged bytes
/// must not take all memory (a person's 10M listens take about 80 MB).
const MAX_INFLATED: u64 = 1 << 30;

/// A catalog as stored, borrowed from one in memory: its texts, then
/// each song's whole URI (the catalog keeps them apart, as [`SongUri`]s),
/// so a server of the version before reads it as its own.
#[derive(Serialize)]
struct CatalogRef<'a> {
    texts: StoredTexts<'a>,
    artists: &'a Texts,
    albums: &'a [Album],
    songs: StoredSongs,
    namings: StoredNamings<'a>,
    contexts: &'a [Context],
}

impl<'a> CatalogRef<'a> {
    fn of(catalog: &'a Catalog) -> Self {
        Self {
            texts: StoredTexts(catalog),
            artists: catalog.artists().texts(),
            albums: catalog.albums(),
            songs: StoredSongs {
                first_uri: catalog.texts().len() as u32,
                count: catalog.song_count() as u32,
            },
            namings: StoredNamings(catalog),
            contexts: catalog.contexts(),
        }
    }
}

/// A catalog's namings, each with its artist (see [`StoredNaming`]).
struct StoredNamings<'a>(&'a Catalog);

impl Serialize for StoredNamings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.stored_namings())
    }
}

/// A catalog's texts, then its songs' URIs.
struct StoredTexts<'a>(&'a Catalog);

impl Serialize for StoredTexts<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let catalog = self.0;
        let count = catalog.texts().len() + catalog.song_count();
        let mut seq = serializer.serialize_seq(Some(count))?;
        for text in catalog.texts().iter() {
            seq.serialize_element(text)?;
        }
        for song in 0..catalog.song_count() as u32 {
            seq.serialize_element(&UriText(catalog.uri(song)))?;
        }
        seq.end()
    }
}

/// A song's URI, written as the text it is.
struct UriText<'a>(SongUri<'a>);

impl Serialize for UriText<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.with_text(|uri| serializer.serialize_str(uri))
    }
}

/// Songs numbered in order, each pointing at its URI after the texts.
struct StoredSongs {
    first_uri: u32,
    count: u32,
}

impl Serialize for StoredSongs {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((0..self.count).map(|song| Song {
            uri: self.first_uri + song,
        }))
    }
}

/// A catalog as read back: [`CatalogRef`]'s encoding.
#[derive(Deserialize)]
struct StoredCatalog {
    texts: Vec<String>,
    artists: Vec<String>,
    albums: Vec<Album>,
    songs: Vec<Song>,
    namings: Vec<StoredNaming>,
    contexts: Vec<Context>,
}

impl StoredCatalog {
    fn into_catalog(self, what: &str) -> Result<Catalog, StoreError> {
        Catalog::assemble(
            self.texts,
            self.artists,
            self.albums,
            self.songs,
            self.namings,
            self.contexts,
        )
        .map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
    }
}

/// One listen as stored: its time as the difference from the listen
/// before (small when listens come in order), then its numbers.
type StoredListen = (i64, u32, u64, u32);

/// Encodes listens given as `(at, naming, ms_played, context)`, each time
/// as the difference from the one before.
struct Listens<I>(std::cell::Cell<Option<I>>);

impl<I> Listens<I> {
    fn new(listens: I) -> Self {
        Self(std::cell::Cell::new(Some(listens)))
    }
}

impl<I> Serialize for Listens<I>
where
    I: ExactSizeIterator<Item = (Millis, u32, u64, u32)>,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let listens = self
            .0
            .take()
            .ok_or_else(|| serde::ser::Error::custom("listens encoded twice"))?;
        let mut before = 0i64;
        serializer.collect_seq(listens.map(|(at, naming, ms, context)| {
            let step = at.wrapping_sub(before);
            before = at;
            (step, naming, ms, context)
        }))
    }
}

/// The times of stored listens, from their differences.
fn times_of(listens: Vec<StoredListen>) -> impl Iterator<Item = (Millis, u32, u64, u32)> {
    let mut before = 0i64;
    listens.into_iter().map(move |(step, naming, ms, context)| {
        before = before.wrapping_add(step);
        (before, naming, ms, context)
    })
}

/// A person's aggregates, as a checkpoint stores them: the catalog and
/// every month's listens, encoded straight from memory into the deflater
/// (everything else is computed again when they are read).
pub fn pack_aggregates(aggregates: &Aggregates) -> Result<Vec<u8>, StoreError> {
    #[derive(Serialize)]
    struct AggregatesRef<'a, M, L> {
        catalog: CatalogRef<'a>,
        months: M,
        exclusions: Vec<(&'a Exclusion, &'a Standing)>,
        set_aside: L,
    }
    struct Months<'a>(&'a Aggregates);
    impl Serialize for Months<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(self.0.months().iter().map(|(key, month)| {
                let start = key.start();
                let rows = month.rows().iter().enumerate().map(move |(index, row)| {
                    (
                        start + i64::from(row.at),
                        row.naming,
                        month.ms_of(index),
                        row.context,
                    )
                });
                (key.0, Listens::new(rows))
            }))
        }
    }
    let set_aside = aggregates
        .set_aside()
        .iter()
        .map(|listen| (listen.at, listen.naming, listen.ms, listen.context));
    let borrowed = AggregatesRef {
        catalog: CatalogRef::of(aggregates.catalog()),
        months: Months(aggregates),
        exclusions: aggregates.exclusions().entries().collect(),
        set_aside: Listens::new(set_aside),
    };
    encode_into(&borrowed, MAGIC)
}

/// What [`pack_aggregates`] stored.
pub fn unpack_aggregates(bytes: &[u8], what: &str) -> Result<Aggregates, StoreError> {
    #[derive(Deserialize)]
    struct Stored {
        catalog: StoredCatalog,
        months: Vec<(i32, Vec<StoredListen>)>,
        exclusions: Vec<(Exclusion, Standing)>,
        set_aside: Vec<StoredListen>,
    }
    #[derive(Deserialize)]
    struct First {
        catalog: StoredCatalog,
        months: Vec<(i32, Vec<StoredListen>)>,
    }
    impl From<First> for Stored {
        fn from(first: First) -> Self {
            Stored {
                catalog: first.catalog,
                months: first.months,
                exclusions: Vec::new(),
                set_aside: Vec::new(),
            }
        }
    }
    let stored: Stored = unpack_either::<Stored, First>(bytes, what)?;
    let catalog = stored.catalog.into_catalog(what)?;
    let mut keys = std::collections::BTreeSet::new();
    let mut months = Vec::with_capacity(stored.months.len());
    for (key, listens) in stored.months {
        if !keys.insert(key) {
            return Err(StoreError::Corrupt(format!("{what}: a month stored twice")));
        }
        months.push((MonthKey(key), times_of(listens).collect()));
    }
    let mut aggregates = Aggregates::assemble(catalog, months).ok_or_else(|| {
        StoreError::Corrupt(format!("{what}: a listen out of its month or range"))
    })?;
    let set_aside = times_of(stored.set_aside)
        .map(|(at, naming, ms, context)| HeldListen {
            at,
            naming,
            context,
            ms,
        })
        .collect();
    aggregates
        .restore_exclusions(Exclusions::from_entries(stored.exclusions), set_aside)
        .ok_or_else(|| StoreError::Corrupt(format!("{what}: a listen set aside out of range")))?;
    Ok(aggregates)
}

/// A journaled batch's deltas.
pub fn pack_delta(delta: &PartitionDelta) -> Result<Vec<u8>, StoreError> {
    #[derive(Serialize)]
    struct BatchRef<'a, L> {
        catalog: CatalogRef<'a>,
        listens: L,
    }
    #[derive(Serialize)]
    struct DeltaRef<'a, P> {
        people: P,
        forgotten: &'a [Forget],
        cleaned: &'a [CleanUp],
    }
    struct People<'a>(&'a PartitionDelta);
    impl Serialize for People<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(self.0.people.iter().map(|(person, batch)| {
                let listens = batch.listens().iter().map(|listen| {
                    (
                        listen.at,
                        listen.noted.naming,
                        listen.ms_played,
                        listen.noted.context,
                    )
                });
                (
                    person,
                    BatchRef {
                        catalog: CatalogRef::of(batch.catalog()),
                        listens: Listens::new(listens),
                    },
                )
            }))
        }
    }
    encode_into(
        &DeltaRef {
            people: People(delta),
            forgotten: &delta.forgotten,
            cleaned: &delta.cleaned,
        },
        MAGIC,
    )
}

/// What [`pack_delta`] stored.
pub fn unpack_delta(bytes: &[u8], what: &str) -> Result<PartitionDelta, StoreError> {
    #[derive(Deserialize)]
    struct StoredBatch {
        catalog: StoredCatalog,
        listens: Vec<StoredListen>,
    }
    #[derive(Deserialize)]
    struct Stored {
        people: Vec<(PersonId, StoredBatch)>,
        forgotten: Vec<Forget>,
        cleaned: Vec<CleanUp>,
    }
    #[derive(Deserialize)]
    struct First {
        people: Vec<(PersonId, StoredBatch)>,
        forgotten: Vec<Forget>,
    }
    impl From<First> for Stored {
        fn from(first: First) -> Self {
            Stored {
                people: first.people,
                forgotten: first.forgotten,
                cleaned: Vec::new(),
            }
        }
    }
    let stored: Stored = unpack_either::<Stored, First>(bytes, what)?;
    let mut delta = PartitionDelta {
        forgotten: stored.forgotten,
        cleaned: stored.cleaned,
        ..PartitionDelta::default()
    };
    for (person, batch) in stored.people {
        let catalog = batch.catalog.into_catalog(what)?;
        let listens = times_of(batch.listens)
            .map(|(at, naming, ms_played, context)| BatchListen {
                at,
                noted: Noted { naming, context },
                ms_played,
            })
            .collect();
        let batch = BatchDelta::assemble(catalog, listens).ok_or_else(|| {
            StoreError::Corrupt(format!("{what}: a listen's number out of range"))
        })?;
        if delta.people.insert(person, batch).is_some() {
            return Err(StoreError::Corrupt(format!(
                "{what}: a person stored twice"
            )));
        }
    }
    Ok(delta)
}

/// Any other value in the compact form (postcard, deflated).
pub fn pack<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    encode_into(value, FIRST_MAGIC)
}

/// What [`pack`] (or one of the forms above) stored.
pub fn unpack<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    let compact = bytes
        .strip_prefix(MAGIC)
        .or_else(|| bytes.strip_prefix(FIRST_MAGIC))
        .ok_or_else(|| {
            StoreError::Corrupt(format!("{what}: not in the compact form of this version"))
        })?;
    let raw = inflate(compact, what)?;
    postcard::from_bytes(&raw).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A checkpoint's or journal entry's form read back: the current one, or
/// the one before clean-ups (marked [`FIRST_MAGIC`]) made current.
fn unpack_either<Current, First>(bytes: &[u8], what: &str) -> Result<Current, StoreError>
where
    Current: DeserializeOwned,
    First: DeserializeOwned + Into<Current>,
{
    if bytes.starts_with(FIRST_MAGIC) {
        unpack::<First>(bytes, what).map(Into::into)
    } else {
        unpack(bytes, what)
    }
}

/// Encodes straight into the deflater (postcard writes a few bytes at a
/// time: the deflater takes them in blocks).
fn encode_into<T: Serialize>(value: &T, magic: &[u8; 4]) -> Result<Vec<u8>, StoreError> {
    let encoder = BufWriter::with_capacity(
        1 << 16,
        DeflateEncoder::new(magic.to_vec(), Compression::fast()),
    );
    postcard::to_io(value, encoder)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode: {e}")))?
        .into_inner()
        .map_err(|e| StoreError::Corrupt(format!("cannot compress: {}", e.error())))?
        .finish()
        .map(|mut packed| {
            // The deflater's buffer grows by doubling; a checkpoint keeps
            // every person's packed bytes of a partition until written.
            packed.shrink_to_fit();
            packed
        })
        .map_err(|e| StoreError::Corrupt(format!("cannot compress: {e}")))
}

/// Deflated bytes inflated, within [`MAX_INFLATED`].
fn inflate(bytes: &[u8], what: &str) -> Result<Vec<u8>, StoreError> {
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
                if i % 13 == 0 {
                    // A text a naming shares with its album's, kept twice.
                    listen.track_name = listen.album_name.clone();
                }
                if i == 7 {
                    listen.ms_played = u64::MAX;
                    listen.ts = "1960-02-29T23:59:59.999Z".parse().unwrap();
                }
                PersonListen {
                    person: PersonId(format!("person{}", i % 3)),
                    listen,
                }
            })
            .collect()
    }

    #[test]
    fn deltas_round_trip_exactly_and_compactly() {
        let mut delta = PartitionDelta::from_listens(&listens(), &Default::default());
        delta.forgotten.push(Forget {
            person: PersonId("gone".into()),
            scope: ForgetScope::Data,
            requested_at: "2024-05-06T07:08:09Z".parse().unwrap(),
        });
        delta.cleaned.push(CleanUp {
            person: PersonId("person1".into()),
            change: app::cleanup::CleanUpChange::Exclude(Exclusion::Artist {
                artist: "Artist 3".into(),
            }),
            requested_at: "2024-05-06T07:08:09Z".parse().unwrap(),
        });
        let packed = pack_delta(&delta).unwrap();
        assert_eq!(unpack_delta(&packed, "test").unwrap(), delta);
        // 500 listens of 37 songs, their times out of order: about ten bytes each.
        assert!(packed.len() < 500 * 12, "{} bytes", packed.len());
    }

    #[test]
    fn aggregates_round_trip_exactly() {
        let mut people = PeopleAggregates::default();
        people.apply(&PartitionDelta::from_listens(
            &listens(),
            &Default::default(),
        ));
        for aggregates in people.people.values() {
            let album = |text: &&str| *text == "Album";
            assert!(aggregates.catalog().texts().iter().filter(album).count() > 1);
            let packed = pack_aggregates(aggregates).unwrap();
            let back = unpack_aggregates(&packed, "test").unwrap();
            assert_eq!(&back, aggregates);
            assert_eq!(back.months(), aggregates.months());
            assert_eq!(back.summary(), aggregates.summary());
            assert_eq!(back.top_songs(100), aggregates.top_songs(100));
        }
    }

    #[test]
    fn songs_uris_are_stored_whole_after_the_texts_as_the_version_before_stored_them() {
        let mut people = PeopleAggregates::default();
        people.apply(&PartitionDelta::from_listens(
            &listens(),
            &Default::default(),
        ));
        let catalog = people.people.values().next().unwrap().catalog();
        let stored: StoredCatalog =
            postcard::from_bytes(&postcard::to_allocvec(&CatalogRef::of(catalog)).unwrap())
                .unwrap();
        let texts = catalog.texts().len();
        assert_eq!(
            stored.texts[..texts],
            catalog.texts().iter().collect::<Vec<_>>()
        );
        assert_eq!(stored.songs.len(), catalog.song_count());
        for (number, song) in stored.songs.iter().enumerate() {
            let uri = &stored.texts[song.uri as usize];
            assert!(uri.starts_with("spotify:track:s"), "{uri}");
            assert_eq!(catalog.uri(number as u32), uri.as_str());
        }
        // Byte for byte what the version before wrote: its catalog kept
        // the URIs among the texts, which it stored as a list.
        #[derive(Serialize)]
        struct Before<'a> {
            texts: Vec<&'a str>,
            artists: Vec<&'a str>,
            albums: &'a [Album],
            songs: &'a [Song],
            namings: Vec<StoredNaming>,
            contexts: &'a [Context],
        }
        let before = Before {
            texts: stored.texts.iter().map(String::as_str).collect(),
            artists: catalog.artists().texts().iter().collect(),
            albums: catalog.albums(),
            songs: &stored.songs,
            namings: catalog.stored_namings().collect(),
            contexts: catalog.contexts(),
        };
        assert_eq!(
            postcard::to_allocvec(&before).unwrap(),
            postcard::to_allocvec(&CatalogRef::of(catalog)).unwrap()
        );
        let back = stored.into_catalog("test").unwrap();
        assert_eq!(
            back.texts().iter().collect::<Vec<_>>(),
            catalog.texts().iter().collect::<Vec<_>>()
        );
        assert_eq!(back.song_count(), catalog.song_count());
    }

    #[test]
    fn the_form_before_clean_ups_is_still_read() {
        #[derive(Serialize)]
        struct First<'a> {
            catalog: CatalogRef<'a>,
            months: Vec<(i32, Vec<StoredListen>)>,
        }
        let mut people = PeopleAggregates::default();
        people.apply(&PartitionDelta::from_listens(
            &listens(),
            &Default::default(),
        ));
        let aggregates = &people.people[&PersonId("person1".into())];
        let months = aggregates
            .months()
            .iter()
            .map(|(key, month)| {
                let rows = month.rows().iter().enumerate().map(|(index, row)| {
                    (
                        key.start() + i64::from(row.at),
                        row.naming,
                        month.ms_of(index),
                        row.context,
                    )
                });
                let mut before = 0i64;
                let stored = rows
                    .map(|(at, naming, ms, context)| {
                        let step = at.wrapping_sub(before);
                        before = at;
                        (step, naming, ms, context)
                    })
                    .collect();
                (key.0, stored)
            })
            .collect();
        let packed = encode_into(
            &First {
                catalog: CatalogRef::of(aggregates.catalog()),
                months,
            },
            FIRST_MAGIC,
        )
        .unwrap();
        assert_eq!(&unpack_aggregates(&packed, "test").unwrap(), aggregates);
        let delta = PartitionDelta::from_listens(&listens()[..50], &Default::default());
        #[derive(Serialize)]
        struct FirstDelta {
            people: Vec<(PersonId, ())>,
            forgotten: Vec<Forget>,
        }
        let packed = encode_into(
            &FirstDelta {
                people: Vec::new(),
                forgotten: vec![Forget {
                    person: PersonId("gone".into()),
                    scope: ForgetScope::Data,
                    requested_at: "2024-05-06T07:08:09Z".parse().unwrap(),
                }],
            },
            FIRST_MAGIC,
        )
        .unwrap();
        let read = unpack_delta(&packed, "test").unwrap();
        assert_eq!(read.forgotten.len(), 1);
        assert!(read.cleaned.is_empty() && read.people.is_empty());
        assert!(delta.events() > 0);
    }

    #[test]
    fn what_an_earlier_version_stored_is_refused_with_why() {
        let error = unpack_delta(b"SAC1\x00\x01", "journal deltas").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("not in the compact form of this version"),
            "{error}"
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
        type Texts = Vec<String>;
        #[derive(Serialize)]
        struct Stored {
            catalog: (
                Texts,
                Texts,
                Vec<Album>,
                Vec<Song>,
                Vec<StoredNaming>,
                Vec<Context>,
            ),
            months: Vec<(i32, Vec<StoredListen>)>,
            exclusions: Vec<(Exclusion, Standing)>,
            set_aside: Vec<StoredListen>,
        }
        let nowhere = Stored {
            catalog: (
                vec!["u".into()],
                vec![],
                vec![],
                vec![Song { uri: 0 }],
                vec![],
                vec![],
            ),
            months: vec![(24_000, vec![(0, 3, 1, 0)])],
            exclusions: vec![],
            set_aside: vec![],
        };
        let error = unpack_aggregates(&encode_into(&nowhere, MAGIC).unwrap(), "test").unwrap_err();
        assert!(
            error.to_string().contains("out of its month or range"),
            "{error}"
        );
        // A text may be stored twice (texts are not looked up by their
        // text), but not a song, even under two numbers of the same text.
        let twice = Stored {
            catalog: (
                vec!["u".into(), "u".into()],
                vec![],
                vec![],
                vec![Song { uri: 0 }, Song { uri: 1 }],
                vec![],
                vec![],
            ),
            months: vec![],
            exclusions: vec![],
            set_aside: vec![],
        };
        let error = unpack_aggregates(&encode_into(&twice, MAGIC).unwrap(), "test").unwrap_err();
        assert!(error.to_string().contains("a song stored twice"), "{error}");
        let naming = StoredNaming {
            song: 0,
            track: 9,
            artist: 0,
            album: 0,
        };
        let pointing = Stored {
            catalog: (
                vec!["u".into()],
                vec!["A".into()],
                vec![],
                vec![Song { uri: 0 }],
                vec![naming],
                vec![],
            ),
            months: vec![],
            exclusions: vec![],
            set_aside: vec![],
        };
        let error = unpack_aggregates(&encode_into(&pointing, MAGIC).unwrap(), "test").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("a naming refers to a number out of range"),
            "{error}"
        );
        // The first catalog, its listen set aside instead.
        let aside_nowhere = Stored {
            months: vec![],
            set_aside: vec![(0, 3, 1, 0)],
            ..nowhere
        };
        let error =
            unpack_aggregates(&encode_into(&aside_nowhere, MAGIC).unwrap(), "test").unwrap_err();
        assert!(
            error.to_string().contains("set aside out of range"),
            "{error}"
        );
    }
}
