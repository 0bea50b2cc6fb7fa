//! The pure fold of listen events into each person's aggregates.
//!
//! A micro-batch of one person's listens becomes one [`BatchDelta`] (its
//! songs and names written once, each listen a few numbers), and deltas
//! fold into [`Aggregates`]: every listen kept by UTC month
//! ([`months`]), each song's and artist's all-time figures, and each
//! month's listens added up. Rankings, totals and every time-range
//! question ([`crate::rollup`]) are read from that one state; [`people`]
//! keeps it per person, as a partition holds them. Nothing here does I/O.

mod all_time;
pub mod catalog;
pub mod charts;
pub mod cleaning;
mod growth;
pub mod import_marks;
pub mod kept;
pub mod months;
pub mod people;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use app::model::{Summary, TopArtist, TopSong};
use bit_vec::BitVec;
use chrono::{DateTime, Utc};

use crate::event::ListenEvent;
use crate::zone::Zone;
use all_time::ALL_TIME_KEPT_FROM;
use all_time::{AllTime, KeptAllTime};
pub use all_time::{ShownGroups, SongFigures};
use app::cleanup::{CleanUpChange, ExclusionView};
use app::review::{Period, Review};
use app::stories::DiscoveryMonth;
pub use catalog::Catalog;
use catalog::Noted;
use cleaning::Exclusions;
use months::{Counted, Counts, Millis, Month, MonthKey};

/// Counts shared by songs, artists and the totals, with their first and
/// last listen. Plays and skips in 32 bits (saturating): every song and
/// artist of every person has one, most of the figures held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub ms_played: i64,
    pub first_listen: Millis,
    pub last_listen: Millis,
    pub plays: u32,
    pub skips: u32,
}

impl Default for Tally {
    fn default() -> Self {
        Self::UNCOUNTED
    }
}

impl Tally {
    /// Nothing counted yet: adding a listen makes it that listen's tally.
    const UNCOUNTED: Tally = Tally {
        ms_played: 0,
        first_listen: Millis::MAX,
        last_listen: Millis::MIN,
        plays: 0,
        skips: 0,
    };

    fn of(at: Millis, counts: Counts) -> Self {
        let mut tally = Self::UNCOUNTED;
        tally.add(at, &counts);
        tally
    }

    fn add(&mut self, at: Millis, counts: &Counts) {
        self.plays = self.plays.saturating_add(clamped(counts.plays));
        self.ms_played = self.ms_played.saturating_add(counts.ms_played);
        self.skips = self.skips.saturating_add(clamped(counts.skips));
        self.first_listen = self.first_listen.min(at);
        self.last_listen = self.last_listen.max(at);
    }

    pub fn is_counted(&self) -> bool {
        self.plays > 0
    }

    pub fn counts(&self) -> Counts {
        Counts {
            plays: i64::from(self.plays),
            ms_played: self.ms_played,
            skips: i64::from(self.skips),
        }
    }
}

/// A count held in 32 bits: listens are counted one at a time
/// ([`Counts::one`]), so what comes here is 0 or 1; anything outside is held
/// at the nearest end rather than wrapped.
fn clamped(count: i64) -> u32 {
    u32::try_from(count.max(0)).unwrap_or(u32::MAX)
}

/// Marks `number` in `heard`; whether it was not marked before.
fn first_heard(heard: &mut BitVec, number: u32) -> bool {
    let number = number as usize;
    // `make_room` gave every song and artist of the catalog its place.
    let new = !heard[number];
    if new {
        heard.set(number, true);
    }
    new
}

/// A version no aggregates had before: from 1 (0 is the empty aggregates').
fn next_version() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Every listen a month holds, as counted (what its sums start from).
fn counted_rows(catalog: &Catalog, key: MonthKey, month: &Month) -> Vec<Counted> {
    let start = key.start();
    month
        .rows()
        .iter()
        .enumerate()
        .map(|(index, row)| Counted {
            at: start + i64::from(row.at),
            naming: row.naming,
            song: catalog.naming(row.naming).song,
            ms: month.ms_of(index),
            context: row.context,
            skipped: catalog.context(row.context).skipped,
        })
        .collect()
}

/// The instant of an event, to the millisecond.
pub fn millis(ts: DateTime<Utc>) -> Millis {
    ts.timestamp_millis()
}

/// The time of an instant kept to the millisecond.
pub fn time_of(at: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// One listen of a batch, as numbers of the batch's catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchListen {
    pub at: Millis,
    pub noted: Noted,
    pub ms_played: u64,
}

/// One person's listens of one micro-batch: what it adds to their aggregates.
#[derive(Debug, Clone, Default)]
pub struct BatchDelta {
    catalog: Catalog,
    listens: Vec<BatchListen>,
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

    /// A delta read back: its catalog and listens, every number checked.
    pub fn assemble(catalog: Catalog, listens: Vec<BatchListen>) -> Option<Self> {
        let fits = listens.iter().all(|listen| {
            (listen.noted.naming as usize) < catalog.namings().len()
                && (listen.noted.context as usize) < catalog.contexts().len()
        });
        fits.then_some(Self { catalog, listens })
    }

    pub fn add(&mut self, event: &ListenEvent) {
        let noted = self.catalog.note(event);
        self.listens.push(BatchListen {
            at: millis(event.ts),
            noted,
            ms_played: event.ms_played,
        });
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn listens(&self) -> &[BatchListen] {
        &self.listens
    }

    /// Listens this delta counts.
    pub fn events(&self) -> i64 {
        self.listens.len() as i64
    }

    /// Its listens written out, in order: what equality compares,
    /// whatever the numbers given on the way.
    fn as_texts(&self) -> Vec<ListenTexts<'_>> {
        self.listens
            .iter()
            .map(|listen| {
                ListenTexts::of(
                    &self.catalog,
                    listen.at,
                    listen.noted.naming,
                    listen.noted.context,
                    listen.ms_played,
                )
            })
            .collect()
    }
}

impl PartialEq for BatchDelta {
    fn eq(&self, other: &Self) -> bool {
        self.as_texts() == other.as_texts()
    }
}

impl Eq for BatchDelta {}

/// A listen with its numbers written out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ListenTexts<'a> {
    at: Millis,
    names: (catalog::SongUri<'a>, &'a str, &'a str, &'a str),
    ms_played: u64,
    context: (&'a str, &'a str, &'a str, bool, bool),
}

impl<'a> ListenTexts<'a> {
    fn of(catalog: &'a Catalog, at: Millis, naming: u32, context: u32, ms_played: u64) -> Self {
        let named = catalog.naming(naming);
        let (track, artist, album) = catalog.naming_texts(named);
        let played = catalog.context(context);
        Self {
            at,
            names: (catalog.uri(named.song), track, artist, album),
            ms_played,
            context: (
                catalog.text(played.platform),
                catalog.text(played.reason_start),
                catalog.text(played.reason_end),
                played.shuffle,
                played.skipped,
            ),
        }
    }
}

/// How many reviews are kept per person: the years worked out ahead of a
/// visit to the review page, and as many months and years asked about
/// (the ones read longest ago go first).
pub const REVIEWS_KEPT: usize = 24;

/// Everything counted of one person: every listen by month, each song's
/// and artist's figures and the totals. Packed whole into a checkpoint
/// ([`crate::store::compact`]), from which all of it but the listens and
/// the catalog is computed again.
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    /// Changes with every listen counted, and is never the same for two
    /// states of any aggregates (what was computed of them stays valid as
    /// long as it has not changed).
    version: u64,
    catalog: Catalog,
    /// Each song's and artist's figures, worked out when first read.
    all_time: KeptAllTime,
    totals: Tally,
    /// Which songs and artists have listens, by number, and how many
    /// (kept as they come: the summary is read after every batch).
    songs_heard: BitVec,
    artists_heard: BitVec,
    songs_counted: i64,
    artists_counted: i64,
    months: BTreeMap<MonthKey, Month>,
    /// What the person left out, and the listens that leaves out: in no
    /// figure, counted again when put back.
    exclusions: Exclusions,
    set_aside: Vec<HeldListen>,
    /// Each week's number ones and each month's chart, for the zones asked about.
    charts: charts::KeptCharts,
    /// Each month's sessions, for the pauses asked about, and its skips,
    /// for the zones asked about.
    sessions: kept::KeptMonths<i64, kept::RunSessions>,
    skips: kept::KeptMonths<Zone, kept::RunSkips>,
    /// The listens the zones asked about move out of each summed month.
    moved_out: kept::KeptMonths<Zone, Vec<kept::MovedOut>>,
    /// Each local month's discoveries, for the zones asked about.
    discoveries: kept::KeptInOrder<Zone, DiscoveryMonth>,
    /// The reviews asked about or worked out ahead, by period and zone.
    reviews: kept::KeptByStamp<(Period, Zone), Review, REVIEWS_KEPT>,
    /// How often a newer listen named a song anew (what a review shows
    /// of its songs and artists can change with it).
    renamings: u64,
}

/// The best songs and artists of all time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rankings {
    pub songs: Vec<TopSong>,
    pub artists: Vec<TopArtist>,
}

/// A listen as numbers of its person's catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldListen {
    pub at: Millis,
    pub naming: u32,
    pub context: u32,
    pub ms: u64,
}

impl Aggregates {
    /// Aggregates read back: their catalog, and each month's listens as
    /// `(at, naming, ms_played, context)`; `None` if a number does not fit.
    pub fn assemble(
        catalog: Catalog,
        months: impl IntoIterator<Item = (MonthKey, Vec<(Millis, u32, u64, u32)>)>,
    ) -> Option<Self> {
        let (namings, contexts) = (catalog.namings().len(), catalog.contexts().len());
        let mut listens = Vec::new();
        for (key, rows) in months {
            let within = key.start()..key.next().start();
            for (at, naming, ms, context) in rows {
                let fits = within.contains(&at)
                    && (naming as usize) < namings
                    && (context as usize) < contexts;
                if !fits {
                    return None;
                }
                listens.push(HeldListen {
                    at,
                    naming,
                    context,
                    ms,
                });
            }
        }
        let mut aggregates = Self {
            catalog,
            ..Self::default()
        };
        aggregates.count_all(listens);
        Some(aggregates)
    }

    pub fn apply(&mut self, delta: &BatchDelta) {
        let (namings, contexts) = self.numbers_of(&delta.catalog);
        self.count_kept(delta.listens.iter().map(|listen| HeldListen {
            at: listen.at,
            naming: namings[listen.noted.naming as usize],
            context: contexts[listen.noted.context as usize],
            ms: listen.ms_played,
        }));
    }

    /// Counts the listens no exclusion leaves out, and sets aside the others.
    fn count_kept(&mut self, listens: impl IntoIterator<Item = HeldListen>) {
        match self.exclusions.matcher(&self.catalog) {
            None => self.count_all(listens),
            Some(matcher) => {
                let mut kept = Vec::new();
                for listen in listens {
                    if matcher.leaves_out(&self.catalog, listen.at, listen.naming) {
                        self.set_aside.push(listen);
                    } else {
                        kept.push(listen);
                    }
                }
                self.count_all(kept);
            }
        }
    }

    /// Takes a clean-up in, at its place among the listens: when it changes
    /// what is left out, every listen is sorted again into counted and set
    /// aside, and the figures are counted anew (a control event is rare; a
    /// recount is exact whatever came before).
    pub fn clean_up(&mut self, change: &CleanUpChange, at: DateTime<Utc>) {
        if self.exclusions.change(change, at) {
            self.recount();
        } else {
            // What is left out is the same, but the change is remembered
            // (and decides a merge with another partition's): a new state.
            self.version = next_version();
        }
    }

    /// Counts every listen held again, as the exclusions now say.
    fn recount(&mut self) {
        let mut listens = std::mem::take(&mut self.set_aside);
        listens.extend(self.held_rows());
        let catalog = std::mem::take(&mut self.catalog);
        let exclusions = std::mem::take(&mut self.exclusions);
        *self = Self {
            catalog,
            exclusions,
            ..Self::default()
        };
        self.count_kept(listens);
    }

    /// Every counted listen.
    fn held_rows(&self) -> impl Iterator<Item = HeldListen> + '_ {
        self.months.iter().flat_map(|(key, month)| {
            let start = key.start();
            month
                .rows()
                .iter()
                .enumerate()
                .map(move |(index, row)| HeldListen {
                    at: start + i64::from(row.at),
                    naming: row.naming,
                    context: row.context,
                    ms: month.ms_of(index),
                })
        })
    }

    /// The exclusions read back with the listens they set aside (numbers of
    /// this catalog); `None` if a number does not fit.
    pub fn restore_exclusions(
        &mut self,
        exclusions: Exclusions,
        set_aside: Vec<HeldListen>,
    ) -> Option<()> {
        let (namings, contexts) = (self.catalog.namings().len(), self.catalog.contexts().len());
        let fits = set_aside.iter().all(|listen| {
            let key = MonthKey::of(listen.at);
            (listen.naming as usize) < namings
                && (listen.context as usize) < contexts
                && (key.start()..key.next().start()).contains(&listen.at)
        });
        if !fits {
            return None;
        }
        let sort_again = exclusions.any_in_force() || !set_aside.is_empty();
        self.exclusions = exclusions;
        self.set_aside = set_aside;
        if sort_again {
            // As stored, the listens were counted or set aside as these
            // exclusions say; sorted again, they are whatever was stored.
            self.recount();
        }
        Some(())
    }

    /// What the person left out.
    pub fn exclusions(&self) -> &Exclusions {
        &self.exclusions
    }

    /// The listens left out.
    pub fn set_aside(&self) -> &[HeldListen] {
        &self.set_aside
    }

    /// Each exclusion in force, with what it leaves out now.
    pub fn exclusion_views(&self) -> Vec<ExclusionView> {
        cleaning::views(&self.catalog, &self.exclusions, &self.set_aside)
    }

    /// Adds everything `other` counted: the same person's listens counted
    /// apart (in another partition).
    /// Their exclusions are taken in too (each at its latest change), and
    /// apply to every listen of both.
    pub fn merge(&mut self, other: &Aggregates) {
        let (namings, contexts) = self.numbers_of(&other.catalog);
        let theirs = other
            .held_rows()
            .chain(other.set_aside.iter().copied())
            .map(|listen| HeldListen {
                naming: namings[listen.naming as usize],
                context: contexts[listen.context as usize],
                ..listen
            });
        if other.exclusions.is_empty() {
            self.count_kept(theirs);
        } else {
            self.set_aside.extend(theirs);
            self.exclusions.merge(&other.exclusions);
            self.recount();
        }
    }

    /// The numbers here of every naming and context of `other`, given if new.
    fn numbers_of(&mut self, other: &Catalog) -> (Vec<u32>, Vec<u32>) {
        let namings = (0..other.namings().len() as u32)
            .map(|n| self.catalog.naming_from(other, n))
            .collect();
        let contexts = (0..other.contexts().len() as u32)
            .map(|n| self.catalog.context_from(other, n))
            .collect();
        (namings, contexts)
    }

    /// Counts listens (numbers of this catalog): in the all-time figures
    /// one by one, and into each month once.
    fn count_all(&mut self, listens: impl IntoIterator<Item = HeldListen>) {
        self.version = next_version();
        self.make_room();
        if !self.keeps_all_time() {
            // Whether these listens name a song anew is not known without
            // the figures: what was worked out with the names shown before
            // is worked out again.
            self.renamings += 1;
        }
        let mut by_month: BTreeMap<MonthKey, Vec<Counted>> = BTreeMap::new();
        for HeldListen {
            at,
            naming,
            context,
            ms,
        } in listens
        {
            let counted = self.count(at, naming, context, ms);
            by_month.entry(MonthKey::of(at)).or_default().push(counted);
        }
        for (key, listens) in by_month {
            let month = self.months.entry(key).or_default();
            month.add(key, &listens);
            if month.wants_sums() {
                let all = counted_rows(&self.catalog, key, month);
                month.start_sums(key, &all);
            }
        }
        if self.totals.plays >= ALL_TIME_KEPT_FROM {
            self.all_time();
        }
    }

    /// Gives every song and artist of the catalog its place in the figures.
    fn make_room(&mut self) {
        let (songs, artists) = (self.catalog.song_count(), self.catalog.artists().len());
        for (heard, len) in [
            (&mut self.songs_heard, songs),
            (&mut self.artists_heard, artists),
        ] {
            heard.grow(len.saturating_sub(heard.len()), false);
        }
        if let Some(all_time) = self.all_time.kept.get_mut() {
            all_time.make_room(&self.catalog);
        }
    }

    /// Counts one listen in the totals (and the all-time figures, when
    /// kept); what its month adds.
    fn count(&mut self, at: Millis, naming: u32, context: u32, ms: u64) -> Counted {
        let named = *self.catalog.naming(naming);
        let skipped = self.catalog.context(context).skipped;
        let counts = Counts::one(ms, skipped);
        self.songs_counted += i64::from(first_heard(&mut self.songs_heard, named.song));
        self.artists_counted += i64::from(first_heard(
            &mut self.artists_heard,
            self.catalog.artist_of(&named),
        ));
        if let Some(all_time) = self.all_time.kept.get_mut() {
            if all_time.count(&self.catalog, at, naming, &named, &counts) {
                self.renamings += 1;
            }
        }
        self.totals.add(at, &counts);
        Counted {
            at,
            naming,
            song: named.song,
            ms,
            context,
            skipped,
        }
    }

    /// The all-time figures, worked out when first read and kept while read.
    fn all_time(&self) -> &AllTime {
        self.all_time.note_read();
        (self.all_time.kept).get_or_init(|| AllTime::of(&self.catalog, self.held_rows()))
    }

    /// The all-time figures for a use that does not keep them (the
    /// leaderboards published after each batch): those kept, or worked out
    /// for this once.
    fn all_time_once(&self) -> Cow<'_, AllTime> {
        match self.all_time.kept.get() {
            Some(all_time) => Cow::Borrowed(all_time),
            None => Cow::Owned(AllTime::of(&self.catalog, self.held_rows())),
        }
    }

    /// Forgets the all-time figures if not read since the last rest (and
    /// the person has fewer than [`ALL_TIME_KEPT_FROM`] listens): they are
    /// worked out again when next read. Called at each checkpoint.
    pub fn rest(&mut self) {
        if !self.all_time.take_read() && self.totals.plays < ALL_TIME_KEPT_FROM {
            self.all_time.kept.take();
        }
    }

    /// Whether the all-time figures are kept now.
    pub fn keeps_all_time(&self) -> bool {
        self.all_time.kept.get().is_some()
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// What identifies this state of the aggregates (see [`Aggregates::version`]'s field).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Each song's figures, by song number.
    pub fn songs(&self) -> &[SongFigures] {
        &self.all_time().songs
    }

    /// The artist and album each song shows, by song number.
    pub fn shown_groups(&self) -> &[ShownGroups] {
        &self.all_time().groups
    }

    /// Each month's sessions, kept for the pauses (in milliseconds) asked about.
    pub(crate) fn kept_sessions(&self) -> &kept::KeptMonths<i64, kept::RunSessions> {
        &self.sessions
    }

    /// Each month's skips, kept for the zones asked about.
    pub(crate) fn kept_skips(&self) -> &kept::KeptMonths<Zone, kept::RunSkips> {
        &self.skips
    }

    /// The listens moved out of each summed month, kept for the zones asked about.
    pub(crate) fn kept_moved_out(&self) -> &kept::KeptMonths<Zone, Vec<kept::MovedOut>> {
        &self.moved_out
    }

    /// The discoveries kept by local month, for the zones asked about.
    pub(crate) fn kept_discoveries(&self) -> &kept::KeptInOrder<Zone, DiscoveryMonth> {
        &self.discoveries
    }

    /// The reviews kept, by period and zone.
    pub(crate) fn kept_reviews(&self) -> &kept::KeptByStamp<(Period, Zone), Review, REVIEWS_KEPT> {
        &self.reviews
    }

    /// What a value worked out of the listens before instant `end` read
    /// (with the names songs show now): those of the UTC months before
    /// its own, and of its own those before it (a month's rows are in the
    /// order they came, not in time).
    pub(crate) fn stamp_before(&self, end: Millis) -> kept::Stamp {
        let last = MonthKey::of(end);
        let whole: usize = (self.months.range(..last))
            .map(|(_, month)| month.rows().len())
            .sum();
        let within = end - last.start();
        let cut = self.months.get(&last).map_or(0, |month| {
            let rows = month.rows().iter();
            rows.filter(|row| i64::from(row.at) < within).count()
        });
        kept::Stamp {
            listens_before: whole + cut,
            renamings: self.renamings,
        }
    }

    /// Whether clean-ups `changes` would change what is left out (and so
    /// count every listen again).
    pub fn recounts<'c>(
        &self,
        changes: impl IntoIterator<Item = (&'c CleanUpChange, DateTime<Utc>)>,
    ) -> bool {
        let mut exclusions = self.exclusions.clone();
        (changes.into_iter()).fold(false, |any, (change, at)| {
            exclusions.change(change, at) || any
        })
    }

    /// The artist song number `song` shows (as its newest listen names
    /// it); none before it has listens.
    pub fn shown_artist(&self, song: usize) -> Option<u32> {
        let groups = self.all_time().groups.get(song)?.shown()?;
        Some(groups.artist)
    }

    /// The all-time figures of artist number `artist`.
    pub fn artist_tally(&self, artist: u32) -> Option<&Tally> {
        self.all_time().artists.get(artist as usize)
    }

    /// Each artist's name and figures.
    pub fn artists(&self) -> impl Iterator<Item = (&str, &Tally)> {
        (self.all_time().artists()).map(|(number, tally)| (self.catalog.artist_name(number), tally))
    }

    pub fn totals(&self) -> Option<&Tally> {
        Some(&self.totals).filter(|totals| totals.is_counted())
    }

    pub fn months(&self) -> &BTreeMap<MonthKey, Month> {
        &self.months
    }

    /// The names a song shows: track, artist, album.
    pub fn song_names(&self, song: u32) -> (&str, &str, &str) {
        self.all_time().song_names(&self.catalog, song)
    }

    /// Listens held: the size of the state.
    pub fn keys(&self) -> usize {
        self.totals.plays as usize
    }

    /// The `limit` best songs and artists, the figures worked out at most
    /// once: what is published after each batch. It keeps no all-time
    /// figures (see [`Aggregates::rest`]): below 100,000 listens, working
    /// them out again for each publication costs less than holding them
    /// for everyone (a millisecond at most, twice a second at most).
    pub fn rankings(&self, limit: usize) -> Rankings {
        let all_time = self.all_time_once();
        Rankings {
            songs: self.all_time_top_songs(&all_time, limit),
            artists: self.all_time_top_artists(&all_time, limit),
        }
    }

    /// The `limit` best songs: plays, then listening time, then track name
    /// (then URI).
    pub fn top_songs(&self, limit: usize) -> Vec<TopSong> {
        self.all_time_top_songs(&self.all_time_once(), limit)
    }

    /// The `limit` best artists: plays, then listening time, then name.
    pub fn top_artists(&self, limit: usize) -> Vec<TopArtist> {
        self.all_time_top_artists(&self.all_time_once(), limit)
    }

    fn all_time_top_songs(&self, all_time: &AllTime, limit: usize) -> Vec<TopSong> {
        let (catalog, songs) = (&self.catalog, &all_time.songs);
        let name = |song: u32| all_time.song_names(catalog, song).0;
        let order = |a: &u32, b: &u32| {
            let (ta, tb) = (&songs[*a as usize].tally, &songs[*b as usize].tally);
            by_plays(&ta.counts(), &tb.counts())
                .then_with(|| name(*a).cmp(name(*b)))
                .then_with(|| catalog.uri(*a).cmp(&catalog.uri(*b)))
        };
        let counted = (0..songs.len() as u32).filter(|&song| songs[song as usize].is_counted());
        best(counted, limit, order)
            .into_iter()
            .enumerate()
            .map(|(index, song)| {
                let (track, artist, album) = all_time.song_names(catalog, song);
                let tally = &songs[song as usize].tally;
                TopSong {
                    rank: index as u32 + 1,
                    track_uri: catalog.uri(song).to_string(),
                    track_name: track.to_string(),
                    artist_name: artist.to_string(),
                    album_name: album.to_string(),
                    plays: i64::from(tally.plays),
                    ms_played: tally.ms_played,
                    skips: i64::from(tally.skips),
                }
            })
            .collect()
    }

    fn all_time_top_artists(&self, all_time: &AllTime, limit: usize) -> Vec<TopArtist> {
        let artists =
            (all_time.artists()).map(|(number, tally)| (self.catalog.artist_name(number), tally));
        let order = |a: &(&str, &Tally), b: &(&str, &Tally)| {
            by_plays(&a.1.counts(), &b.1.counts()).then_with(|| a.0.cmp(b.0))
        };
        best(artists, limit, order)
            .into_iter()
            .enumerate()
            .map(|(index, (name, tally))| TopArtist {
                rank: index as u32 + 1,
                artist_name: name.to_string(),
                plays: i64::from(tally.plays),
                ms_played: tally.ms_played,
                skips: i64::from(tally.skips),
            })
            .collect()
    }

    /// Totals over everything counted; `updated_at` is left for the caller.
    pub fn summary(&self) -> Summary {
        let totals = self.totals();
        Summary {
            events: totals.map_or(0, |t| i64::from(t.plays)),
            ms_played: totals.map_or(0, |t| t.ms_played),
            songs: self.songs_counted,
            artists: self.artists_counted,
            last_listen: totals.map(|t| time_of(t.last_listen)),
            updated_at: None,
        }
    }

    /// Every listen written out, sorted: what equality compares (with
    /// it, every figure here follows), whatever the numbers given.
    fn as_texts(&self) -> Vec<ListenTexts<'_>> {
        self.texts_of(self.held_rows())
    }

    /// The listens set aside written out, sorted.
    fn set_aside_texts(&self) -> Vec<ListenTexts<'_>> {
        self.texts_of(self.set_aside.iter().copied())
    }

    fn texts_of(&self, listens: impl Iterator<Item = HeldListen>) -> Vec<ListenTexts<'_>> {
        let mut texts: Vec<ListenTexts<'_>> = listens
            .map(|listen| {
                ListenTexts::of(
                    &self.catalog,
                    listen.at,
                    listen.naming,
                    listen.context,
                    listen.ms,
                )
            })
            .collect();
        texts.sort_unstable();
        texts
    }
}

impl PartialEq for Aggregates {
    fn eq(&self, other: &Self) -> bool {
        self.as_texts() == other.as_texts()
            && self.set_aside_texts() == other.set_aside_texts()
            && self.exclusions == other.exclusions
    }
}

impl Eq for Aggregates {}

/// The first `limit` items in `order`, sorted: a bounded heap keeps the
/// best seen so far, so each item costs one comparison with the worst of
/// them (an all-time top 100 of 170,000 songs is one pass, no copy).
pub(crate) fn best<T>(
    items: impl IntoIterator<Item = T>,
    limit: usize,
    order: impl Fn(&T, &T) -> Ordering,
) -> Vec<T> {
    if limit == 0 {
        return Vec::new();
    }
    // A heap whose root is the worst item kept.
    let mut heap: Vec<T> = Vec::with_capacity(limit.min(1024));
    for item in items {
        if heap.len() < limit {
            heap.push(item);
            let mut child = heap.len() - 1;
            while child > 0 {
                let parent = (child - 1) / 2;
                if order(&heap[child], &heap[parent]) != Ordering::Greater {
                    break;
                }
                heap.swap(child, parent);
                child = parent;
            }
        } else if order(&item, &heap[0]) == Ordering::Less {
            heap[0] = item;
            let mut parent = 0;
            loop {
                let mut worst = parent;
                for child in [2 * parent + 1, 2 * parent + 2] {
                    if child < heap.len() && order(&heap[child], &heap[worst]) == Ordering::Greater
                    {
                        worst = child;
                    }
                }
                if worst == parent {
                    break;
                }
                heap.swap(parent, worst);
                parent = worst;
            }
        }
    }
    heap.sort_by(order);
    heap
}

/// Most plays first, then most listening time: the ranking order of
/// songs and artists before their names break ties (compared only then).
pub(crate) fn by_plays(a: &Counts, b: &Counts) -> Ordering {
    b.plays.cmp(&a.plays).then(b.ms_played.cmp(&a.ms_played))
}

#[cfg(test)]
impl Aggregates {
    /// The artist and album kept for each song are those of the naming it shows.
    pub(crate) fn assert_groups_follow_namings(&self) {
        let all_time = self.all_time();
        assert_eq!(all_time.groups.len(), all_time.songs.len());
        for (figures, groups) in all_time.songs.iter().zip(&all_time.groups) {
            let expected = (figures.is_counted())
                .then(|| ShownGroups::of(&self.catalog, self.catalog.naming(figures.naming)));
            assert_eq!(groups.shown(), expected);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_listen as listen;

    fn state_of(events: &[ListenEvent]) -> Aggregates {
        let mut state = Aggregates::default();
        state.apply(&BatchDelta::from_events(events));
        state
    }

    #[test]
    fn a_tally_s_plays_and_skips_stop_at_their_largest_instead_of_wrapping() {
        let mut tally = Tally::of(5, Counts::one(10, true));
        assert_eq!((tally.plays, tally.skips, tally.first_listen), (1, 1, 5));
        tally.add(
            3,
            &Counts {
                plays: i64::from(u32::MAX),
                ms_played: 1,
                skips: -4,
            },
        );
        assert_eq!((tally.plays, tally.skips), (u32::MAX, 1));
        assert_eq!(
            (tally.first_listen, tally.last_listen, tally.ms_played),
            (3, 5, 11)
        );
        assert!(!Tally::UNCOUNTED.is_counted() && tally.is_counted());
    }

    #[test]
    fn folds_plays_ms_and_skips_per_song_artist_and_total() {
        let events = [
            listen("a", "X", "2020-01-02T00:00:00Z", 1000, false),
            listen("a", "X", "2020-01-01T00:00:00Z", 500, true),
            listen("b", "X", "2020-01-03T00:00:00Z", 10, true),
            listen("c", "Y", "2019-06-01T00:00:00Z", 7, false),
        ];
        let state = state_of(&events);
        let a = state.catalog().song_number("spotify:track:a").unwrap();
        let a = &state.songs()[a as usize].tally;
        assert_eq!((a.plays, a.ms_played, a.skips), (2, 1500, 1));
        assert_eq!(a.first_listen, millis(events[1].ts));
        assert_eq!(a.last_listen, millis(events[0].ts));

        let artists: BTreeMap<&str, &Tally> = state.artists().collect();
        let x = artists["X"];
        assert_eq!((x.plays, x.ms_played, x.skips), (3, 1510, 2));
        let y = artists["Y"];
        assert_eq!((y.plays, y.ms_played, y.skips), (1, 7, 0));

        let totals = state.totals().unwrap();
        assert_eq!((totals.plays, totals.ms_played, totals.skips), (4, 1517, 2));
        assert_eq!(totals.first_listen, millis(events[3].ts));
        assert_eq!(totals.last_listen, millis(events[2].ts));
        assert_eq!(BatchDelta::from_events(&events).events(), 4);
        assert_eq!(state.months().len(), 2);
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
            let state = state_of(&events);
            assert_eq!(state.top_songs(1)[0].track_name, "Renamed");
            state.assert_groups_follow_namings();
        }
        let mut state = Aggregates::default();
        state.apply(&BatchDelta::from_events([&newer]));
        state.apply(&BatchDelta::from_events([&older]));
        let top = state.top_songs(1);
        assert_eq!(top[0].track_name, "Renamed");
        assert_eq!(top[0].artist_name, "New Name");
        state.assert_groups_follow_namings();
        let new_name = (state.artists().position(|(name, _)| name == "New Name")).unwrap();
        assert_eq!(state.shown_artist(0), Some(new_name as u32));
        // Each artist counts the listens made under its name.
        let artists: BTreeMap<&str, u32> = state.artists().map(|(n, t)| (n, t.plays)).collect();
        assert_eq!(artists, BTreeMap::from([("New Name", 1), ("Old Name", 1)]));
    }

    #[test]
    fn listens_at_the_same_instant_name_a_song_the_same_whatever_their_order() {
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
        for rotation in 0..events.len() {
            let mut order = events.to_vec();
            order.rotate_left(rotation);
            let state = state_of(&order);
            assert_eq!(state.song_names(0), ("B", "Y", "2"));
            state.assert_groups_follow_namings();
            assert_eq!(state.songs()[0].tally.plays, 4);
        }
    }

    #[test]
    fn folding_batches_one_by_one_equals_folding_at_once() {
        let events: Vec<ListenEvent> = (0..40)
            .map(|i| {
                listen(
                    &format!("s{}", i % 7),
                    ["X", "Y", "Z"][i as usize % 3],
                    &format!("2020-0{}-01T00:{:02}:{:02}Z", 1 + i % 3, i / 60, i % 60),
                    i * 10,
                    i % 5 == 0,
                )
            })
            .collect();
        let at_once = state_of(&events);
        let mut in_batches = Aggregates::default();
        for chunk in events.chunks(6) {
            in_batches.apply(&BatchDelta::from_events(chunk));
        }
        assert_eq!(in_batches, at_once);
        assert_eq!(in_batches.months(), at_once.months());
        assert_ne!(
            in_batches.version(),
            at_once.version(),
            "each state its own version"
        );
        assert_eq!(at_once.summary().events, 40);
        assert_eq!(at_once.summary().songs, 7);
        assert_eq!(at_once.summary().artists, 3);
        assert_ne!(state_of(&events[1..]), at_once);
    }

    #[test]
    fn aggregates_assembled_from_their_listens_equal_those_counted() {
        let events: Vec<ListenEvent> = (0..30)
            .map(|i| {
                listen(
                    &format!("s{}", i % 4),
                    "X",
                    &format!("2020-{:02}-03T10:00:00.25Z", 1 + i % 12),
                    i as u64 * 1000,
                    i % 2 == 0,
                )
            })
            .collect();
        let state = state_of(&events);
        let months = state.months().iter().map(|(key, month)| {
            let rows = month
                .rows()
                .iter()
                .enumerate()
                .map(|(index, row)| {
                    (
                        key.start() + i64::from(row.at),
                        row.naming,
                        month.ms_of(index),
                        row.context,
                    )
                })
                .collect();
            (*key, rows)
        });
        let back =
            Aggregates::assemble(state.catalog().clone(), months.collect::<Vec<_>>()).unwrap();
        assert_eq!(back, state);
        assert_eq!(back.months(), state.months());
        assert_eq!(back.songs(), state.songs());
        back.assert_groups_follow_namings();
        assert_eq!(back.shown_groups(), state.shown_groups());
        assert_eq!(back.summary(), state.summary());
        let outside = vec![(MonthKey::of(0), vec![(0, 99, 1, 0)])];
        assert!(Aggregates::assemble(state.catalog().clone(), outside).is_none());
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
        let state = state_of(&events);
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
        let state = state_of(&events);
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
    fn the_best_are_those_a_full_sort_puts_first() {
        let items: Vec<u32> = (0..5000).map(|i| (i * 7919) % 1013).collect();
        let order = |a: &u32, b: &u32| b.cmp(a);
        for limit in [0, 1, 7, 100, 1013, 6000] {
            let mut sorted = items.clone();
            sorted.sort_by(order);
            sorted.truncate(limit);
            assert_eq!(
                best(items.iter().copied(), limit, order),
                sorted,
                "limit {limit}"
            );
        }
    }

    #[test]
    fn an_empty_state_has_an_empty_summary() {
        let summary = Aggregates::default().summary();
        assert_eq!(summary.events, 0);
        assert_eq!(summary.last_listen, None);
        assert!(Aggregates::default().top_songs(10).is_empty());
    }
}
