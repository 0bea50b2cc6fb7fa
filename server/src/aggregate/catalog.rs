//! One person's songs, artists, albums, namings and listening contexts,
//! each numbered once, so that a listen is kept as a few numbers (see
//! [`super::months`]) instead of copies of its texts.

use std::hash::Hash;

use ahash::RandomState;
use hashbrown::HashTable;
use serde::{Deserialize, Serialize};

use crate::event::{ListenEvent, TRACK_URI_PREFIX};

/// Finds the number of an entry of a list by a key of the entry's: holds
/// numbers only, the keys being read from the list itself, so no key is
/// stored twice.
#[derive(Debug, Clone, Default)]
pub struct Numbers {
    table: HashTable<u32>,
    /// Keyed with random keys (URIs and names come from people's files, so
    /// colliding ones must not be predictable); aHash rather than std's
    /// SipHash, which was an eighth of counting's time.
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

    /// Holds `new` where it held `old`, which has `key`; whether it held `old`.
    fn replace<Q: Hash>(&mut self, key: Q, old: u32, new: u32) -> bool {
        let held = self
            .table
            .find_mut(self.hasher.hash_one(&key), |&n| n == old);
        held.map(|held| *held = new).is_some()
    }
}

/// Texts numbered in the order added, kept one after another in one
/// buffer: a text allocated apart costs a pointer, a length and the
/// allocator's overhead, more than most names themselves (100 people's
/// catalogs hold millions of them). Where each ends is kept in 32 bits,
/// counted from the start of its block of [`BLOCK`] texts: half of what
/// an offset into the whole buffer takes, and the catalogs' largest
/// column after the texts themselves.
#[derive(Debug, Clone, Default)]
pub struct Texts {
    bytes: String,
    /// Where each text ends in `bytes`, from its block's start.
    ends: Vec<u32>,
    /// Where each block of [`BLOCK`] texts starts in `bytes`.
    blocks: Vec<usize>,
}

/// Texts to a block.
const BLOCK: usize = 1024;
/// The most bytes of a text kept (events are at most 64 KiB): a block
/// then spans at most 1 GiB, which its 32-bit ends can point into.
const MAX_TEXT_BYTES: usize = 1 << 20;

/// `text`, cut at a character's start to at most [`MAX_TEXT_BYTES`].
fn within_limit(text: &str) -> &str {
    cut(text, MAX_TEXT_BYTES)
}

/// `text`, cut at a character's start to at most `bytes`.
fn cut(text: &str, bytes: usize) -> &str {
    let mut end = text.len().min(bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl Texts {
    pub fn get(&self, number: u32) -> &str {
        let number = number as usize;
        let base = self.blocks[number / BLOCK];
        let start = match number % BLOCK {
            0 => base,
            _ => base + self.ends[number - 1] as usize,
        };
        &self.bytes[start..base + self.ends[number] as usize]
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Makes room for `count` more texts of `bytes` in all.
    pub fn reserve(&mut self, count: usize, bytes: usize) {
        self.bytes.reserve_exact(bytes);
        self.ends.reserve_exact(count);
        self.blocks.reserve_exact(count.div_ceil(BLOCK));
    }

    /// Adds a text (its first [`MAX_TEXT_BYTES`]); its number.
    pub fn push(&mut self, text: &str) -> u32 {
        let text = within_limit(text);
        let number = self.ends.len();
        if number.is_multiple_of(BLOCK) {
            self.blocks.push(self.bytes.len());
        }
        let base = self.blocks[number / BLOCK];
        super::growth::reserve_text(&mut self.bytes, text.len());
        super::growth::reserve(&mut self.ends, 1);
        self.bytes.push_str(text);
        self.ends.push((self.bytes.len() - base) as u32);
        number as u32
    }

    /// Every text, in the order of their numbers.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> {
        (0..self.ends.len() as u32).map(|number| self.get(number))
    }
}

/// Written as the sequence of its texts (as a `Vec<String>` would be).
impl Serialize for Texts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// Texts each kept once and findable by their text.
#[derive(Debug, Clone, Default)]
pub struct Names {
    texts: Texts,
    numbers: Numbers,
}

impl Names {
    pub fn get(&self, number: u32) -> &str {
        self.texts.get(number)
    }

    pub fn texts(&self) -> &Texts {
        &self.texts
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    pub fn number(&self, name: &str) -> Option<u32> {
        self.numbers.find(name, |n| self.texts.get(n))
    }

    /// Makes room for `count` more names of `bytes` in all.
    pub fn reserve(&mut self, count: usize, bytes: usize) {
        self.texts.reserve(count, bytes);
    }

    /// The number of a name (its first [`MAX_TEXT_BYTES`]), given one if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        let name = within_limit(name);
        if let Some(number) = self.number(name) {
            return number;
        }
        let number = self.texts.push(name);
        let texts = &self.texts;
        self.numbers.insert(number, name, |n| texts.get(n));
        number
    }
}

/// Marks a naming without an album (account data does not say).
pub const NO_ALBUM: u32 = u32::MAX;

/// A song's key as the catalog keeps it, in 17 bytes: a track's id (its
/// URI less `spotify:track:`, 22 base-62 characters) packed 6 bits to a
/// character, the first in a byte and the other 21 in 16, so that the
/// bytes sort as the ids do; any other URI (local files', or one not of
/// 22 such characters) marked by [`OTHER_URI`] in the first byte, with the
/// number of the URI among the catalog's other URIs in the next four. 100
/// people's catalogs hold 711,000 songs: 17 bytes each where the id's text
/// and where it ends took 26.
type PackedKey = [u8; 17];

/// The first byte of a [`PackedKey`] of another URI (a first character's
/// is at most 61).
const OTHER_URI: u8 = u8::MAX;

/// Characters of a track id.
const TRACK_ID_LEN: usize = 22;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A base-62 character's value: the characters' own order.
fn base62_value(character: u8) -> Option<u8> {
    match character {
        b'0'..=b'9' => Some(character - b'0'),
        b'A'..=b'Z' => Some(character - b'A' + 10),
        b'a'..=b'z' => Some(character - b'a' + 36),
        _ => None,
    }
}

/// A track id packed, `None` if it is not 22 base-62 characters.
fn pack_id(id: &str) -> Option<PackedKey> {
    let (&first, rest) = id.as_bytes().split_first()?;
    if rest.len() != TRACK_ID_LEN - 1 {
        return None;
    }
    let mut bits: u128 = 0;
    for &character in rest {
        bits = bits << 6 | u128::from(base62_value(character)?);
    }
    let mut packed = [0; 17];
    packed[0] = base62_value(first)?;
    packed[1..].copy_from_slice(&bits.to_be_bytes());
    Some(packed)
}

/// The 22 characters of a packed track id.
fn unpack_id(packed: &PackedKey) -> [u8; TRACK_ID_LEN] {
    let mut id = [0; TRACK_ID_LEN];
    id[0] = BASE62[usize::from(packed[0])];
    let mut rest = [0; 16];
    rest.copy_from_slice(&packed[1..]);
    let mut bits = u128::from_be_bytes(rest);
    for character in id[1..].iter_mut().rev() {
        *character = BASE62[(bits & 63) as usize];
        bits >>= 6;
    }
    id
}

/// What finds a song: a track's packed id, or any other URI whole.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum SongKey<'a> {
    Track(PackedKey),
    Other(&'a str),
}

/// The key a song of `uri` is kept by (another URI cut as texts are).
fn song_key(uri: &str) -> SongKey<'_> {
    let packed = uri.strip_prefix(TRACK_URI_PREFIX).and_then(pack_id);
    packed.map_or(SongKey::Other(within_limit(uri)), SongKey::Track)
}

/// Each song's key by song number (see [`PackedKey`]).
#[derive(Debug, Clone, Default)]
struct SongKeys {
    packed: Vec<PackedKey>,
    other_uris: Texts,
}

impl SongKeys {
    fn len(&self) -> usize {
        self.packed.len()
    }

    fn get(&self, song: u32) -> SongKey<'_> {
        let packed = &self.packed[song as usize];
        if packed[0] != OTHER_URI {
            return SongKey::Track(*packed);
        }
        let mut number = [0; 4];
        number.copy_from_slice(&packed[1..5]);
        SongKey::Other(self.other_uris.get(u32::from_be_bytes(number)))
    }

    /// Adds a song's key; its song number.
    fn push(&mut self, key: SongKey) -> u32 {
        let packed = match key {
            SongKey::Track(packed) => packed,
            SongKey::Other(uri) => {
                let mut packed = [0; 17];
                packed[0] = OTHER_URI;
                packed[1..5].copy_from_slice(&self.other_uris.push(uri).to_be_bytes());
                packed
            }
        };
        super::growth::reserve(&mut self.packed, 1);
        self.packed.push(packed);
        (self.packed.len() - 1) as u32
    }
}

/// A song's URI, as its key: shown whole, and ordered as the whole URIs
/// are (two tracks' as their packed ids, one comparison of bytes: songs
/// tied by their counts and names are ordered by this).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SongUri<'a>(SongKey<'a>);

/// Shown as the URI it is, not as its key.
impl std::fmt::Debug for SongUri<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SongUri({:?})", self.to_string())
    }
}

impl SongUri<'_> {
    /// Hands `write` the whole URI as one text, a track's written out on
    /// the stack: each journal entry writes its new songs' URIs, and a
    /// character at a time through a formatter showed in the profile of
    /// packing them.
    pub fn with_text<R>(self, write: impl FnOnce(&str) -> R) -> R {
        match self.0 {
            SongKey::Track(packed) => {
                const PREFIX: usize = TRACK_URI_PREFIX.len();
                let mut whole = [0; PREFIX + TRACK_ID_LEN];
                whole[..PREFIX].copy_from_slice(TRACK_URI_PREFIX.as_bytes());
                whole[PREFIX..].copy_from_slice(&unpack_id(&packed));
                write(std::str::from_utf8(&whole).expect("base62 digits are ASCII"))
            }
            SongKey::Other(uri) => write(uri),
        }
    }
}

impl Ord for SongUri<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self.0, other.0) {
            (SongKey::Track(a), SongKey::Track(b)) => a.cmp(&b),
            (SongKey::Other(a), SongKey::Other(b)) => a.cmp(b),
            // Rare (local files beside tracks): compared written out.
            _ => self.with_text(|uri| other.with_text(|other_uri| uri.cmp(other_uri))),
        }
    }
}

impl PartialOrd for SongUri<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for SongUri<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.with_text(|uri| f.write_str(uri))
    }
}

impl PartialEq<&str> for SongUri<'_> {
    fn eq(&self, uri: &&str) -> bool {
        match self.0 {
            SongKey::Track(_) => song_key(uri) == self.0,
            SongKey::Other(kept) => kept == *uri,
        }
    }
}

/// A song as stored: the number of its whole URI among the texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Song {
    /// Number of its URI among the texts.
    pub uri: u32,
}

/// An album: its artist and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Album {
    pub artist: u32,
    /// Number of its name among the texts.
    pub name: u32,
}

/// The names a listen gave its song: a song usually has one naming, and
/// another only when an export names it differently. In 12 bytes (100
/// people's catalogs hold 711,000): an album is of one artist, so the
/// artist is kept only when the listen named no album.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Naming {
    pub song: u32,
    /// Number of the track name among the texts.
    pub track: u32,
    /// The album's number; or the artist's, marked by [`ARTIST_ONLY`],
    /// when the listen named no album.
    group: u32,
}

/// Marks a naming's artist kept in place of an album (no catalog numbers
/// 2^31 artists or albums: [`Catalog::assemble`] refuses one that would).
const ARTIST_ONLY: u32 = 1 << 31;

impl Naming {
    /// Its album's number, `None` when the listen named none.
    pub fn album(&self) -> Option<u32> {
        (self.group & ARTIST_ONLY == 0).then_some(self.group)
    }
}

/// A naming as stored: its artist always, its album [`NO_ALBUM`] when the
/// listen named none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredNaming {
    pub song: u32,
    /// Number of the track name among the texts.
    pub track: u32,
    pub artist: u32,
    pub album: u32,
}

/// Where and how a listen was played: a few of these cover most listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// Numbers among the texts (`""` when unknown).
    pub platform: u32,
    pub reason_start: u32,
    pub reason_end: u32,
    pub shuffle: bool,
    pub skipped: bool,
}

/// What a listen is, as numbers of a catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Noted {
    pub naming: u32,
    pub context: u32,
}

/// What the table finding songs holds for a song: the number of its first
/// naming (which says the song), so that the naming a listen gives is
/// found by its song with no table of its own (100 people's catalogs hold
/// 711,000 namings, nearly all a song's only one); or, for a song stored
/// without any naming, its own number marked by this bit (no catalog
/// numbers 2^31 of anything: its namings alone would take 24 GiB, and
/// [`Catalog::assemble`] refuses one stored so).
const NAMELESS: u32 = 1 << 31;

/// The first naming the song table holds for a song, `None` for a song
/// without any (see [`NAMELESS`]).
fn first_of_entry(entry: u32) -> Option<u32> {
    (entry & NAMELESS == 0).then_some(entry)
}

/// Songs, artists, albums, namings and contexts by number, each kept
/// once; artists numbered apart so that counts by artist are indexed by
/// their number.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Track, album and label names. Never looked up by their text
    /// (albums and contexts are found by their own keys, namings through
    /// their songs), so
    /// added without a table to find them again: a text two of them share
    /// is kept twice, which costs less than that table did.
    texts: Texts,
    artists: Names,
    albums: Vec<Album>,
    album_numbers: Numbers,
    /// Each song's key, by song number.
    song_keys: SongKeys,
    /// Finds a song by its key: holds its first naming (see [`NAMELESS`]).
    song_numbers: Numbers,
    namings: Vec<Naming>,
    /// Finds the namings other than their song's first, by song and names.
    other_namings: Numbers,
    contexts: Vec<Context>,
    context_numbers: Numbers,
}

/// Why a catalog read back cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadCatalog {
    #[error("an artist stored twice")]
    ArtistTwice,
    #[error("{0} stored twice")]
    Twice(&'static str),
    #[error("{0} refers to a number out of range")]
    OutOfRange(&'static str),
    #[error("a text over {MAX_TEXT_BYTES} bytes")]
    TooLong,
    #[error("a naming with an album of another artist")]
    AlbumOfAnother,
    #[error("more {0} than a catalog can number")]
    TooMany(&'static str),
}

impl Catalog {
    /// A catalog read back, its numbers as stored; refused when a number
    /// points nowhere or anything is there twice. The stored texts hold
    /// songs' whole URIs too: each song keeps its own [`SongUri`] instead,
    /// and a text only a song named is not kept.
    pub fn assemble(
        texts: Vec<String>,
        artists: Vec<String>,
        albums: Vec<Album>,
        songs: Vec<Song>,
        namings: Vec<StoredNaming>,
        contexts: Vec<Context>,
    ) -> Result<Self, BadCatalog> {
        // Nothing counted is longer: only damaged bytes are.
        if (texts.iter().chain(&artists)).any(|text| text.len() > MAX_TEXT_BYTES) {
            return Err(BadCatalog::TooLong);
        }
        // Numbers from 2^31 up are marked ones ([`NAMELESS`], [`ARTIST_ONLY`]).
        let counts = [
            ("artists", artists.len()),
            ("albums", albums.len()),
            ("songs", songs.len()),
            ("namings", namings.len()),
        ];
        if let Some((what, _)) = counts.into_iter().find(|(_, count)| *count >= 1 << 31) {
            return Err(BadCatalog::TooMany(what));
        }
        let mut catalog = Catalog::default();
        for artist in artists {
            if catalog.artists.number(&artist).is_some() {
                return Err(BadCatalog::ArtistTwice);
            }
            catalog.artists.intern(&artist);
        }
        let texts_len = texts.len() as u32;
        let artists_len = catalog.artists.len() as u32;
        let (songs_len, albums_len) = (songs.len() as u32, albums.len() as u32);
        let text_fits = |n: u32| n < texts_len;
        if !albums
            .iter()
            .all(|album| album.artist < artists_len && text_fits(album.name))
        {
            return Err(BadCatalog::OutOfRange("an album"));
        }
        if !songs.iter().all(|song| text_fits(song.uri)) {
            return Err(BadCatalog::OutOfRange("a song"));
        }
        let naming_fits = |naming: &StoredNaming| {
            naming.song < songs_len
                && text_fits(naming.track)
                && naming.artist < artists_len
                && (naming.album == NO_ALBUM || naming.album < albums_len)
        };
        if !namings.iter().all(naming_fits) {
            return Err(BadCatalog::OutOfRange("a naming"));
        }
        let album_of_another = |naming: &StoredNaming| {
            naming.album != NO_ALBUM && albums[naming.album as usize].artist != naming.artist
        };
        if namings.iter().any(album_of_another) {
            return Err(BadCatalog::AlbumOfAnother);
        }
        let context_texts = |c: &Context| [c.platform, c.reason_start, c.reason_end];
        if !contexts
            .iter()
            .all(|context| context_texts(context).into_iter().all(text_fits))
        {
            return Err(BadCatalog::OutOfRange("a context"));
        }

        // The texts kept: those a name or context points to, numbered anew.
        const DROPPED: u32 = u32::MAX;
        let mut renumbered = vec![DROPPED; texts.len()];
        let named = (albums.iter().map(|album| album.name))
            .chain(namings.iter().map(|naming| naming.track))
            .chain(contexts.iter().flat_map(context_texts));
        for number in named {
            renumbered[number as usize] = 0;
        }
        let mut kept = 0;
        for number in renumbered.iter_mut().filter(|n| **n != DROPPED) {
            *number = kept;
            kept += 1;
        }
        let bytes = (texts.iter().zip(&renumbered))
            .filter(|(_, n)| **n != DROPPED)
            .map(|(text, _)| text.len())
            .sum();
        catalog.texts.reserve(kept as usize, bytes);
        catalog.song_keys.packed.reserve_exact(songs.len());
        for song in &songs {
            let key = song_key(&texts[song.uri as usize]);
            if catalog.song_number_by_key(key).is_some() {
                return Err(BadCatalog::Twice("a song"));
            }
            catalog.add_song(key, None);
        }
        for (text, number) in texts.into_iter().zip(&renumbered) {
            if *number != DROPPED {
                catalog.texts.push(&text);
            }
        }
        let text = |n: u32| renumbered[n as usize];

        for album in albums {
            let album = Album {
                name: text(album.name),
                ..album
            };
            let key = (album.artist, catalog.texts.get(album.name));
            let found = catalog.album_numbers.find(key, |n| {
                let a = catalog.albums[n as usize];
                (a.artist, catalog.texts.get(a.name))
            });
            if found.is_some() {
                return Err(BadCatalog::Twice("an album"));
            }
            let number = catalog.albums.len() as u32;
            catalog.albums.push(album);
            let (albums, texts) = (&catalog.albums, &catalog.texts);
            let key_of = |n: u32| {
                let a = albums[n as usize];
                (a.artist, texts.get(a.name))
            };
            catalog.album_numbers.insert(number, key_of(number), key_of);
        }
        for naming in namings {
            let naming = Naming {
                song: naming.song,
                track: text(naming.track),
                group: group_of(naming.artist, naming.album),
            };
            let number = catalog.namings.len() as u32;
            catalog.namings.push(naming);
            if catalog.naming_number(catalog.naming_key(number)).is_some() {
                return Err(BadCatalog::Twice("a naming"));
            }
            catalog.note_naming(number);
        }
        for context in contexts {
            let context = Context {
                platform: text(context.platform),
                reason_start: text(context.reason_start),
                reason_end: text(context.reason_end),
                ..context
            };
            let number = catalog.contexts.len() as u32;
            catalog.contexts.push(context);
            let key = context_key_of(&catalog.contexts, &catalog.texts, number);
            let found = catalog.context_numbers.find(key, |n| {
                context_key_of(&catalog.contexts, &catalog.texts, n)
            });
            if found.is_some() {
                return Err(BadCatalog::Twice("a context"));
            }
            let (contexts, texts) = (&catalog.contexts, &catalog.texts);
            let key_of = |n| context_key_of(contexts, texts, n);
            catalog
                .context_numbers
                .insert(number, key_of(number), key_of);
        }
        Ok(catalog)
    }

    pub fn text(&self, number: u32) -> &str {
        self.texts.get(number)
    }

    pub fn texts(&self) -> &Texts {
        &self.texts
    }

    pub fn artist_name(&self, artist: u32) -> &str {
        self.artists.get(artist)
    }

    pub fn artists(&self) -> &Names {
        &self.artists
    }

    pub fn albums(&self) -> &[Album] {
        &self.albums
    }

    /// How many songs it holds (numbered from 0).
    pub fn song_count(&self) -> usize {
        self.song_keys.len()
    }

    pub fn namings(&self) -> &[Naming] {
        &self.namings
    }

    pub fn naming(&self, number: u32) -> &Naming {
        &self.namings[number as usize]
    }

    pub fn contexts(&self) -> &[Context] {
        &self.contexts
    }

    pub fn context(&self, number: u32) -> &Context {
        &self.contexts[number as usize]
    }

    pub fn uri(&self, song: u32) -> SongUri<'_> {
        SongUri(self.song_keys.get(song))
    }

    pub fn song_number(&self, uri: &str) -> Option<u32> {
        self.song_number_by_key(song_key(uri))
    }

    fn song_number_by_key(&self, key: SongKey) -> Option<u32> {
        let entry = self.song_entry(key)?;
        Some(song_of_entry(&self.namings, entry))
    }

    /// The first naming of the song of `uri`, if it has one: the names it
    /// was first heard under.
    pub fn first_naming(&self, uri: &str) -> Option<&Naming> {
        let first = first_of_entry(self.song_entry(song_key(uri))?)?;
        Some(&self.namings[first as usize])
    }

    /// What the song table holds for the song of `key` (see [`NAMELESS`]).
    fn song_entry(&self, key: SongKey) -> Option<u32> {
        self.song_numbers.find(key, |entry| {
            self.song_keys.get(song_of_entry(&self.namings, entry))
        })
    }

    /// Adds a song not held yet, by its key, with the number of its first
    /// naming when that is added next (the table reads the namings of the
    /// entries it held before only), or else nameless until
    /// [`Self::note_naming`] gives it one; its number.
    fn add_song(&mut self, key: SongKey, first: Option<u32>) -> u32 {
        let number = self.song_keys.push(key);
        let entry = first.unwrap_or(NAMELESS | number);
        let (keys, namings) = (&self.song_keys, &self.namings);
        self.song_numbers
            .insert(entry, key, |entry| keys.get(song_of_entry(namings, entry)));
        number
    }

    /// The number of the naming of `key`, if held.
    fn naming_number(&self, key: NamingKey) -> Option<u32> {
        match self.find_naming(key) {
            Found::Naming(number) => Some(number),
            Found::Song(_) | Found::Neither => None,
        }
    }

    /// The naming of `key`, or else its song, if held.
    fn find_naming(&self, key: NamingKey) -> Found {
        let Some(entry) = self.song_entry(key.0) else {
            return Found::Neither;
        };
        if let Some(first) = first_of_entry(entry) {
            if self.naming_key(first) == key {
                return Found::Naming(first);
            }
        }
        match self.other_namings.find(key, |n| self.naming_key(n)) {
            Some(number) => Found::Naming(number),
            None => Found::Song(song_of_entry(&self.namings, entry)),
        }
    }

    /// Makes naming `number`, just added, findable: as its song's first
    /// naming, or among the others.
    fn note_naming(&mut self, number: u32) {
        let song = self.namings[number as usize].song;
        let song_key = self.song_keys.get(song);
        if self.song_numbers.replace(song_key, NAMELESS | song, number) {
            return;
        }
        let (namings, song_keys, texts, artists, albums) = (
            &self.namings,
            &self.song_keys,
            &self.texts,
            &self.artists,
            &self.albums,
        );
        let key_of = |n| naming_key_of(namings, song_keys, texts, artists, albums, n);
        self.other_namings.insert(number, key_of(number), key_of);
    }

    pub fn artist_number(&self, name: &str) -> Option<u32> {
        self.artists.number(name)
    }

    /// The number of the album `name` of artist number `artist`, if any listen named it.
    pub fn album_number(&self, artist: u32, name: &str) -> Option<u32> {
        self.album_numbers.find((artist, name), |n| {
            let album = self.albums[n as usize];
            (album.artist, self.texts.get(album.name))
        })
    }

    /// The album name of a naming; `""` when it has none.
    pub fn album_name(&self, naming: &Naming) -> &str {
        album_name_of(&self.albums, &self.texts, naming)
    }

    /// The number of the artist a naming names.
    pub fn artist_of(&self, naming: &Naming) -> u32 {
        artist_of(&self.albums, naming)
    }

    /// The names of a naming as texts: track, artist, album.
    pub fn naming_texts(&self, naming: &Naming) -> (&str, &str, &str) {
        (
            self.text(naming.track),
            self.artist_name(self.artist_of(naming)),
            self.album_name(naming),
        )
    }

    /// Every naming as stored, in the order of their numbers.
    pub fn stored_namings(&self) -> impl Iterator<Item = StoredNaming> + '_ {
        (0..self.namings.len() as u32).map(|number| self.stored_naming(number))
    }

    /// Naming number `number` as stored.
    pub fn stored_naming(&self, number: u32) -> StoredNaming {
        let naming = self.namings[number as usize];
        StoredNaming {
            song: naming.song,
            track: naming.track,
            artist: self.artist_of(&naming),
            album: naming.album().unwrap_or(NO_ALBUM),
        }
    }

    /// The numbers of a listen's naming and context, given if new.
    pub fn note(&mut self, listen: &ListenEvent) -> Noted {
        Noted {
            naming: self.naming_of(
                &listen.track_uri,
                &listen.track_name,
                &listen.artist_name,
                &listen.album_name,
            ),
            context: self.context_of(
                &listen.platform,
                &listen.reason_start,
                &listen.reason_end,
                listen.shuffle,
                listen.skipped,
            ),
        }
    }

    /// The number of this naming of a song, given if new (and the song,
    /// artist and album with it).
    pub fn naming_of(&mut self, uri: &str, track: &str, artist: &str, album: &str) -> u32 {
        // Cut as they will be kept, or they would never be found again.
        let [uri, track, artist, album] = [uri, track, artist, album].map(within_limit);
        self.naming_of_key(song_key(uri), track, artist, album)
    }

    /// [`Self::naming_of`] for a song given by its key.
    fn naming_of_key(&mut self, song: SongKey, track: &str, artist: &str, album: &str) -> u32 {
        let number = self.namings.len() as u32;
        let found = self.find_naming((song, track, artist, album));
        let song = match found {
            Found::Naming(number) => return number,
            Found::Song(song) => song,
            // Found by this naming from now on.
            Found::Neither => self.add_song(song, Some(number)),
        };
        let track = self.texts.push(track);
        let artist = self.artists.intern(artist);
        let album = self.album_of(artist, album);
        super::growth::reserve(&mut self.namings, 1);
        self.namings.push(Naming {
            song,
            track,
            group: group_of(artist, album),
        });
        if let Found::Song(_) = found {
            self.note_naming(number);
        }
        number
    }

    /// A naming's song key and names: what finds it.
    fn naming_key(&self, number: u32) -> NamingKey<'_> {
        naming_key_of(
            &self.namings,
            &self.song_keys,
            &self.texts,
            &self.artists,
            &self.albums,
            number,
        )
    }

    fn album_of(&mut self, artist: u32, name: &str) -> u32 {
        if name.is_empty() {
            return NO_ALBUM;
        }
        let key = (artist, name);
        let found = self.album_numbers.find(key, |n| {
            let album = self.albums[n as usize];
            (album.artist, self.texts.get(album.name))
        });
        if let Some(number) = found {
            return number;
        }
        let number = self.albums.len() as u32;
        let name = self.texts.push(name);
        super::growth::reserve(&mut self.albums, 1);
        self.albums.push(Album { artist, name });
        let (albums, texts) = (&self.albums, &self.texts);
        self.album_numbers
            .insert(number, (artist, texts.get(name)), |n| {
                let album = albums[n as usize];
                (album.artist, texts.get(album.name))
            });
        number
    }

    /// The number of this context, given if new.
    pub fn context_of(
        &mut self,
        platform: &str,
        reason_start: &str,
        reason_end: &str,
        shuffle: bool,
        skipped: bool,
    ) -> u32 {
        let [platform, reason_start, reason_end] =
            [platform, reason_start, reason_end].map(within_limit);
        let key = (platform, reason_start, reason_end, shuffle, skipped);
        let found = self
            .context_numbers
            .find(key, |n| context_key_of(&self.contexts, &self.texts, n));
        if let Some(number) = found {
            return number;
        }
        let context = Context {
            platform: self.texts.push(platform),
            reason_start: self.texts.push(reason_start),
            reason_end: self.texts.push(reason_end),
            shuffle,
            skipped,
        };
        let number = self.contexts.len() as u32;
        self.contexts.push(context);
        let (contexts, texts) = (&self.contexts, &self.texts);
        self.context_numbers
            .insert(number, context_key_of(contexts, texts, number), |n| {
                context_key_of(contexts, texts, n)
            });
        number
    }

    /// The number here of naming `number` of `other`, given if new.
    pub fn naming_from(&mut self, other: &Catalog, number: u32) -> u32 {
        let (song, track, artist, album) = other.naming_key(number);
        self.naming_of_key(song, track, artist, album)
    }

    /// The number here of context `number` of `other`, given if new.
    pub fn context_from(&mut self, other: &Catalog, number: u32) -> u32 {
        let (platform, start, end, shuffle, skipped) =
            context_key_of(&other.contexts, &other.texts, number);
        self.context_of(platform, start, end, shuffle, skipped)
    }
}

/// The song of what the song table holds (see [`NAMELESS`]).
fn song_of_entry(namings: &[Naming], entry: u32) -> u32 {
    match first_of_entry(entry) {
        Some(first) => namings[first as usize].song,
        None => entry & !NAMELESS,
    }
}

/// What a catalog holds of a naming looked for.
enum Found {
    Naming(u32),
    /// Its song, under other names.
    Song(u32),
    Neither,
}

/// What finds a naming: its song's key, then its track, artist and album.
type NamingKey<'a> = (SongKey<'a>, &'a str, &'a str, &'a str);

fn naming_key_of<'a>(
    namings: &[Naming],
    song_keys: &'a SongKeys,
    texts: &'a Texts,
    artists: &'a Names,
    albums: &[Album],
    number: u32,
) -> NamingKey<'a> {
    let naming = &namings[number as usize];
    (
        song_keys.get(naming.song),
        texts.get(naming.track),
        artists.get(artist_of(albums, naming)),
        album_name_of(albums, texts, naming),
    )
}

/// What a naming keeps of its artist and album ([`Naming::group`]).
fn group_of(artist: u32, album: u32) -> u32 {
    match album {
        NO_ALBUM => ARTIST_ONLY | artist,
        album => album,
    }
}

fn artist_of(albums: &[Album], naming: &Naming) -> u32 {
    match naming.album() {
        Some(album) => albums[album as usize].artist,
        None => naming.group & !ARTIST_ONLY,
    }
}

fn album_name_of<'a>(albums: &[Album], texts: &'a Texts, naming: &Naming) -> &'a str {
    match naming.album() {
        Some(album) => texts.get(albums[album as usize].name),
        None => "",
    }
}

fn context_key_of<'a>(
    contexts: &[Context],
    texts: &'a Texts,
    number: u32,
) -> (&'a str, &'a str, &'a str, bool, bool) {
    let context = contexts[number as usize];
    (
        texts.get(context.platform),
        texts.get(context.reason_start),
        texts.get(context.reason_end),
        context.shuffle,
        context.skipped,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_listen;

    #[test]
    fn texts_kept_one_after_another_read_back_whole_and_store_as_a_list_would() {
        let list = ["spotify:track:a", "", "Ünïcödé ♫", "", "a"];
        let mut texts = Texts::default();
        let numbers: Vec<u32> = list.iter().map(|text| texts.push(text)).collect();
        assert_eq!(numbers, [0, 1, 2, 3, 4]);
        assert_eq!(texts.iter().collect::<Vec<_>>(), list);
        assert_eq!(texts.get(2), "Ünïcödé ♫");
        assert_eq!(texts.len(), 5);
        // Checkpoints written before texts shared one buffer stored a list
        // of strings: the bytes must be the same.
        let owned: Vec<String> = list.iter().map(|text| text.to_string()).collect();
        assert_eq!(
            postcard::to_allocvec(&texts).unwrap(),
            postcard::to_allocvec(&owned).unwrap()
        );
        let mut names = Names::default();
        assert_eq!(names.intern("x"), 0);
        assert_eq!(names.intern("y"), 1);
        assert_eq!(names.intern("x"), 0, "kept once");
        assert_eq!((names.number("y"), names.number("z")), (Some(1), None));
    }

    #[test]
    fn texts_read_back_across_blocks_and_a_text_over_the_limit_is_cut_whole_characters() {
        let mut texts = Texts::default();
        assert_eq!((texts.len(), texts.iter().count()), (0, 0));
        // Empty ones at a block's end and at the next one's start.
        let list: Vec<String> = (0..3 * BLOCK + 5)
            .map(|i| match i {
                _ if i == BLOCK - 1 || i == BLOCK || i == 2 * BLOCK => String::new(),
                _ => "é".repeat(i % 7) + &i.to_string(),
            })
            .collect();
        for (number, text) in list.iter().enumerate() {
            assert_eq!(texts.push(text) as usize, number);
        }
        assert_eq!(texts.iter().collect::<Vec<_>>(), list);
        assert_eq!(texts.get(BLOCK as u32 - 2), list[BLOCK - 2]);
        assert_eq!(texts.get(BLOCK as u32 + 1), list[BLOCK + 1]);

        // 'é' is two bytes: the limit falls inside one.
        let long = format!("a{}", "é".repeat(MAX_TEXT_BYTES / 2));
        let mut names = Names::default();
        let number = names.intern(&long);
        let kept = names.get(number).to_string();
        assert_eq!(kept.len(), MAX_TEXT_BYTES - 1);
        assert!(long.starts_with(&kept));
        assert_eq!(
            names.intern(&long),
            number,
            "found again by its first bytes"
        );
        let mut catalog = Catalog::default();
        let naming = catalog.naming_of(&long, &long, &long, &long);
        assert_eq!(catalog.naming_of(&long, &long, &long, &long), naming);
        assert_eq!(catalog.naming_texts(catalog.naming(naming)).0, kept);
        let context = catalog.context_of(&long, "", "", false, false);
        assert_eq!(catalog.context_of(&long, "", "", false, false), context);
        // Stored, it can only have been damaged.
        assert_eq!(
            Catalog::assemble(
                vec![long],
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new()
            )
            .err(),
            Some(BadCatalog::TooLong)
        );
    }

    #[test]
    fn songs_namings_and_contexts_are_numbered_once_and_found_again() {
        let mut catalog = Catalog::default();
        let listens: Vec<_> = (0..30)
            .map(|i| {
                let mut listen = test_listen(
                    &format!("s{}", i % 4),
                    &format!("A{}", i % 2),
                    "2020-01-01T00:00:00Z",
                    1,
                    i % 3 == 0,
                );
                if i == 29 {
                    listen.album_name = String::new();
                }
                listen
            })
            .collect();
        let noted: Vec<Noted> = listens.iter().map(|l| catalog.note(l)).collect();
        // s0..s3 each under A0 or A1: 4 songs, 4 namings (i % 4 fixes i % 2),
        // plus the one without an album.
        assert_eq!(catalog.song_count(), 4);
        assert_eq!(catalog.namings().len(), 5);
        assert_eq!(catalog.contexts().len(), 2);
        assert_eq!(noted[0], noted[12]);
        assert_ne!(noted[0], noted[4], "another context");
        let number = catalog.song_number("spotify:track:s3").unwrap();
        assert_eq!(catalog.uri(number), "spotify:track:s3");
        let naming = *catalog.naming(noted[3].naming);
        assert_eq!(naming.song, number);
        assert_eq!(catalog.naming_texts(&naming), ("Song s3", "A1", "Album"));
        assert_eq!(catalog.album_name(catalog.naming(noted[29].naming)), "");
        assert_eq!(catalog.song_number("spotify:track:s9"), None);
        assert!(catalog.context(noted[0].context).skipped);
        assert!(!catalog.context(noted[1].context).skipped);

        let mut other = Catalog::default();
        let moved = other.naming_from(&catalog, noted[3].naming);
        assert_eq!(
            other.naming_texts(other.naming(moved)),
            catalog.naming_texts(&naming)
        );
        assert_eq!(other.naming_from(&catalog, noted[3].naming), moved);
    }

    #[test]
    fn a_song_named_several_ways_or_stored_without_a_naming_finds_each_naming_again() {
        // Song 0 was stored with no naming; song 1 with one.
        let stored = || {
            Catalog::assemble(
                vec![
                    "spotify:track:a".into(),
                    "spotify:track:b".into(),
                    "B".into(),
                ],
                vec!["Artist".into()],
                Vec::new(),
                vec![Song { uri: 0 }, Song { uri: 1 }],
                vec![StoredNaming {
                    song: 1,
                    track: 2,
                    artist: 0,
                    album: NO_ALBUM,
                }],
                Vec::new(),
            )
            .unwrap()
        };
        let mut catalog = stored();
        assert_eq!(catalog.naming_of("spotify:track:b", "B", "Artist", ""), 0);
        let first_of_a = catalog.naming_of("spotify:track:a", "A", "Artist", "");
        let renamed_a = catalog.naming_of("spotify:track:a", "A (Remastered)", "Artist", "");
        let renamed_b = catalog.naming_of("spotify:track:b", "B", "Other", "Album");
        assert_eq!((first_of_a, renamed_a, renamed_b), (1, 2, 3));
        assert_eq!(catalog.song_count(), 2, "no song added twice");
        let songs: Vec<u32> = catalog.namings().iter().map(|n| n.song).collect();
        assert_eq!(songs, [1, 0, 0, 1]);
        for (number, names) in [
            (0, ("spotify:track:b", "B", "Artist", "")),
            (1, ("spotify:track:a", "A", "Artist", "")),
            (2, ("spotify:track:a", "A (Remastered)", "Artist", "")),
            (3, ("spotify:track:b", "B", "Other", "Album")),
        ] {
            let (uri, track, artist, album) = names;
            assert_eq!(catalog.naming_of(uri, track, artist, album), number);
        }
        assert_eq!(catalog.song_number("spotify:track:a"), Some(0));
        assert_eq!(catalog.song_number("spotify:track:b"), Some(1));
        // The song table holds each song's first naming, no longer marked.
        let entry = |catalog: &Catalog, uri| catalog.song_entry(song_key(uri));
        assert_eq!(entry(&catalog, "spotify:track:a"), Some(first_of_a));
        assert_eq!(entry(&catalog, "spotify:track:b"), Some(0));
        assert_eq!(catalog.first_naming("spotify:track:a").unwrap().track, 1);
        assert_eq!(catalog.first_naming("spotify:track:c"), None);
        // Stored, a naming says its artist whether or not it has an album.
        assert_eq!(
            (catalog.stored_naming(1), catalog.stored_naming(3)),
            (
                StoredNaming {
                    song: 0,
                    track: 1,
                    artist: 0,
                    album: NO_ALBUM,
                },
                StoredNaming {
                    song: 1,
                    track: 3,
                    artist: 1,
                    album: 0,
                },
            )
        );

        // Read back in the order stored, each naming keeps its number, and
        // a naming stored twice is damage.
        let texts: Vec<String> = (catalog.texts().iter())
            .chain(["spotify:track:a", "spotify:track:b"])
            .map(String::from)
            .collect();
        let uris = catalog.texts().len() as u32;
        let songs = vec![Song { uri: uris }, Song { uri: uris + 1 }];
        let artists = || catalog.artists().texts().iter().map(String::from).collect();
        let stored: Vec<StoredNaming> = catalog.stored_namings().collect();
        let back = Catalog::assemble(
            texts.clone(),
            artists(),
            catalog.albums().to_vec(),
            songs.clone(),
            stored.clone(),
            Vec::new(),
        )
        .unwrap();
        for number in 0..4 {
            let key = catalog.naming_key(number);
            assert_eq!(back.naming_number(key), Some(number));
        }
        let assemble = |namings: Vec<StoredNaming>| {
            let albums = catalog.albums().to_vec();
            Catalog::assemble(
                texts.clone(),
                artists(),
                albums,
                songs.clone(),
                namings,
                Vec::new(),
            )
        };
        for again in [0, 2] {
            let mut twice = stored.clone();
            twice.push(twice[again]);
            assert_eq!(assemble(twice).err(), Some(BadCatalog::Twice("a naming")));
        }
        // An album is of one artist: a naming saying otherwise is damage.
        let mut other_artist = stored.clone();
        assert_eq!(other_artist[3].artist, 1);
        other_artist[3].artist = 0;
        assert_eq!(
            assemble(other_artist).err(),
            Some(BadCatalog::AlbumOfAnother)
        );
    }

    #[test]
    fn songs_whose_first_naming_is_numbered_apart_are_found_as_the_table_grows() {
        let mut catalog = Catalog::default();
        let uri = |song: u32| format!("spotify:track:{song}");
        // Two namings a song: a song's first naming is never numbered as it is.
        for song in 0..300 {
            let first = catalog.naming_of(&uri(song), "T", "A", "");
            let other = catalog.naming_of(&uri(song), "T", "A", "B");
            assert_eq!((first, other), (2 * song, 2 * song + 1));
        }
        for song in 0..300 {
            assert_eq!(catalog.song_number(&uri(song)), Some(song));
            assert_eq!(catalog.song_entry(song_key(&uri(song))), Some(2 * song));
            assert_eq!(catalog.naming_of(&uri(song), "T", "A", ""), 2 * song);
            assert_eq!(catalog.naming_of(&uri(song), "T", "A", "B"), 2 * song + 1);
        }
        assert_eq!((catalog.song_count(), catalog.namings().len()), (300, 600));
    }

    #[test]
    fn song_uris_are_kept_short_shown_whole_and_ordered_as_their_texts() {
        let uris = [
            "spotify:track:2J3n32GeLmMjwuAzyhcSNe",
            "spotify:track:zzzzzzzzzzzzzzzzzzzzzz",
            "spotify:track:0000000000000000000000",
            "spotify:track:Z9aA0zZ9aA0zZ9aA0zZ9a0",
            "spotify:track:Z9aA0zZ9aA0zZ9aA0zZ9a-",
            "spotify:track:2J3n32GeLmMjwuAzyhcSNe0",
            "spotify:track:0aB",
            "spotify:local:Artist::Track:",
            "spotify:track:",
            "spotify:track:a:b",
            "bare",
            ":colon first",
            "",
        ];
        let mut catalog = Catalog::default();
        let songs: Vec<u32> = uris
            .iter()
            .map(|uri| {
                let naming = catalog.naming_of(uri, "T", "A", "B");
                catalog.naming(naming).song
            })
            .collect();
        assert_eq!(catalog.song_count(), uris.len(), "no two share a key");
        for (uri, song) in uris.iter().zip(&songs) {
            assert_eq!(catalog.uri(*song).to_string(), *uri);
            assert_eq!(catalog.uri(*song), *uri);
            assert_eq!(catalog.song_number(uri), Some(*song), "{uri} found again");
        }
        // A track's id alone is kept, packed: 17 bytes of the first URI's 36.
        assert!(matches!(catalog.song_keys.get(songs[0]), SongKey::Track(_)));
        assert_eq!(
            catalog.song_keys.other_uris.len(),
            uris.len() - 4,
            "four tracks"
        );
        for (a, a_uri) in songs.iter().zip(&uris) {
            for (b, b_uri) in songs.iter().zip(&uris) {
                let order = catalog.uri(*a).cmp(&catalog.uri(*b));
                assert_eq!(order, a_uri.cmp(b_uri), "{a_uri} against {b_uri}");
            }
        }
    }

    #[test]
    fn track_ids_packed_read_back_as_they_were_and_sort_as_their_texts() {
        // Ids that first differ at every position, the last ones too.
        let mut ids: Vec<String> = (0..500u32)
            .map(|n| {
                (0..22u32)
                    .map(|i| match i < n % 23 {
                        true => 'x',
                        false => {
                            let value = (n * 7 + i * i * 13 + n / 23 * i) % 62;
                            char::from(BASE62[value as usize])
                        }
                    })
                    .collect()
            })
            .collect();
        let zeros = "0".repeat(20);
        ids.extend([
            format!("0{zeros}1"),
            format!("00{zeros}"),
            format!("10{zeros}"),
            format!("A{}", "z".repeat(21)),
            format!("B0{zeros}"),
            format!("0z{zeros}"),
            format!("00{zeros}").replace("00", "0z"),
        ]);
        for a in &ids {
            let packed = pack_id(a).unwrap();
            assert_eq!(unpack_id(&packed).as_slice(), a.as_bytes());
            for b in &ids {
                let order = packed.cmp(&pack_id(b).unwrap());
                assert_eq!(order, a.cmp(b), "{a} against {b}");
            }
        }
        let not_ids = [
            "",
            "a",
            "abc:defghijklmnopqrstu",
            "-bcdefghijklmnopqrstuv",
            "abcdefghij_lmnopqrstuv",
            "ééééééééééé",
            &ids[0][1..],
        ];
        for not_an_id in not_ids {
            assert_eq!(pack_id(not_an_id), None, "{not_an_id:?}");
        }
    }

    #[test]
    fn a_stored_text_a_song_shares_with_a_name_stays_whole_and_one_only_songs_named_goes() {
        // Versions before kept a text once for all that named it: here the
        // track is named as its own URI.
        let uri = "spotify:track:abc".to_string();
        let catalog = Catalog::assemble(
            vec![
                uri.clone(),
                "spotify:track:only".into(),
                "Album".into(),
                "web".into(),
            ],
            vec!["Artist".into()],
            vec![Album { artist: 0, name: 2 }],
            vec![Song { uri: 0 }, Song { uri: 1 }],
            vec![
                StoredNaming {
                    song: 0,
                    track: 0,
                    artist: 0,
                    album: 0,
                },
                StoredNaming {
                    song: 1,
                    track: 2,
                    artist: 0,
                    album: NO_ALBUM,
                },
            ],
            vec![Context {
                platform: 3,
                reason_start: 2,
                reason_end: 0,
                shuffle: true,
                skipped: false,
            }],
        )
        .unwrap();
        assert_eq!(
            catalog.texts().iter().collect::<Vec<_>>(),
            [uri.as_str(), "Album", "web"]
        );
        assert_eq!(
            context_key_of(catalog.contexts(), catalog.texts(), 0),
            ("web", "Album", uri.as_str(), true, false)
        );
        assert_eq!(
            catalog.naming_texts(catalog.naming(0)),
            (uri.as_str(), "Artist", "Album")
        );
        assert_eq!(catalog.naming_texts(catalog.naming(1)).0, "Album");
        assert_eq!(catalog.uri(1), "spotify:track:only");
        assert_eq!(catalog.song_number("spotify:track:abc"), Some(0));
        // Two stored URIs that are the same song are damage.
        let twice = Catalog::assemble(
            vec!["spotify:track:x".into(), "spotify:track:x".into()],
            Vec::new(),
            Vec::new(),
            vec![Song { uri: 0 }, Song { uri: 1 }],
            Vec::new(),
            Vec::new(),
        );
        assert_eq!(twice.err(), Some(BadCatalog::Twice("a song")));
    }
}
