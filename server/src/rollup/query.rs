//! Time-range questions answered from one person's [`Aggregates`]: a range
//! is a span of instants, answered from the sums of the months it covers
//! whole (those that keep sums: months of hundreds of listens) and the
//! listens of the other months it touches, so any span is exact.
//! Songs are added up into one array by song number, and artists, albums
//! and skips are read from that sum.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use app::model::{TopArtist, TopSong};
use app::range::{
    bucket_for, ArtistDetail, Bucket, ClockCell, DateRange, Metric, RangeQuery, RangeTotals,
    RangeView, Share, Shares, SkippedSong, SongDetail, TimePoint, TopAlbum,
};
use chrono::NaiveDate;

use super::ranks::Charted;
use super::sums::Sums;
use crate::aggregate::catalog::NO_ALBUM;
use crate::aggregate::months::{Counts, Millis, Month, MonthKey, SongSum, QUARTER_MS};
use crate::aggregate::{best, by_plays, Aggregates};
use crate::zone::{date_of_day_number, weekday_of_day_number, LocalClock, Zone};

/// Plays a song needs in a range before its skips rank it on the dashboard.
pub const MIN_PLAYS_TO_RANK_SKIPS: i64 = 5;

/// Milliseconds in an hour.
const HOUR_MS: i64 = 3_600_000;

/// How a ranking by `metric` orders two rows before their names: the
/// metric first, then the other figure (names are compared only on a tie,
/// each lookup of one costing more than the comparison).
fn metric_order(metric: Metric, a: &Counts, b: &Counts) -> Ordering {
    match metric {
        Metric::Plays => by_plays(a, b),
        Metric::Time => b.ms_played.cmp(&a.ms_played).then(b.plays.cmp(&a.plays)),
    }
}

/// A song's, artist's or album's number with its counts, as ranked.
pub(super) type Entry<'s> = (usize, &'s Counts);

/// Where each of `targets` ranks (from 1) among `entries` in `order`,
/// `None` for one without plays among them; `counts` gives a target's
/// counts there. Each entry is placed among the few targets sorted,
/// rather than every entry sorted: a review shows where its ten songs
/// stood among the tens of thousands of the year before, and sorting
/// those was most of its time. The entries come in any order (see
/// [`Sums::listed`]): `order` must tell every two apart, as the
/// rankings do.
pub(super) fn ranks_among<'s>(
    targets: &[usize],
    counts: impl Fn(usize) -> Counts,
    entries: impl Iterator<Item = Entry<'s>>,
    order: impl Fn(&Entry, &Entry) -> Ordering,
) -> Vec<Option<u32>> {
    let mut placed: Vec<(usize, Counts)> = (targets.iter())
        .map(|&id| (id, counts(id)))
        .filter(|(_, counts)| counts.plays > 0)
        .collect();
    placed.sort_unstable_by(|a, b| order(&(a.0, &a.1), &(b.0, &b.1)));
    // How many entries come right before each target. Most come after
    // the last: one comparison tells, and they are ahead of none.
    let mut ahead = vec![0u32; placed.len()];
    let Some(last) = placed.last() else {
        return vec![None; targets.len()];
    };
    let comes_first =
        |t: &(usize, Counts), entry: &Entry| order(&(t.0, &t.1), entry) != Ordering::Greater;
    for entry in entries.filter(|(_, counts)| counts.plays > 0) {
        if !comes_first(last, &entry) {
            ahead[placed.partition_point(|t| comes_first(t, &entry))] += 1;
        }
    }
    let mut rank = 1;
    let ranks: Vec<(usize, u32)> = (placed.iter().zip(&ahead))
        .map(|(&(id, _), &right_before)| {
            rank += right_before;
            (id, rank)
        })
        .collect();
    (targets.iter())
        .map(|id| {
            ranks
                .iter()
                .find(|(placed, _)| placed == id)
                .map(|&(_, rank)| rank)
        })
        .collect()
}

/// The instants `[from, to)` of a range of days in `zone`; `None` when empty.
pub(super) fn span_of(range: DateRange, zone: Zone) -> Option<(Millis, Millis)> {
    let from = range.from.map_or(Millis::MIN, |day| zone.midnight(day));
    let to = range.to.map_or(Millis::MAX, |day| zone.midnight(day));
    (from < to).then_some((from, to))
}

/// A step of a time series from what its days add up to.
pub(super) fn time_point(start: NaiveDate, counts: &Counts) -> TimePoint {
    TimePoint {
        start,
        plays: counts.plays,
        ms_played: counts.ms_played,
    }
}

/// What songs' sums are added up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grouped {
    Artists,
    Albums,
    Both,
}

/// Sums by artist and by album number (empty when not asked for).
pub(super) struct GroupSums {
    pub artists: Sums,
    pub albums: Sums,
}

/// The totals of a range from its songs' and artists' sums.
fn totals_of(songs: &Sums, artists: &[Counts]) -> RangeTotals {
    let total = songs.total();
    RangeTotals {
        plays: total.plays,
        ms_played: total.ms_played,
        songs: songs.listed().filter(|(_, c)| c.plays > 0).count() as i64,
        artists: artists.iter().filter(|c| c.plays > 0).count() as i64,
    }
}

/// A month as a range sees it.
#[derive(Clone, Copy)]
pub(super) enum Piece<'a> {
    /// Covered whole, its sums kept: they answer.
    Whole(MonthKey, &'a Month),
    /// Cut by the range, or without sums: its listens at offsets
    /// `[from, to)` answer.
    Cut(MonthKey, &'a Month, u32, u32),
}

impl<'a> Piece<'a> {
    pub(super) fn key(&self) -> MonthKey {
        match self {
            Piece::Whole(key, _) | Piece::Cut(key, ..) => *key,
        }
    }

    pub(super) fn month(&self) -> &'a Month {
        match self {
            Piece::Whole(_, month) | Piece::Cut(_, month, ..) => month,
        }
    }

    /// Whether the range takes in the whole month.
    pub(super) fn is_whole(&self) -> bool {
        match *self {
            Piece::Whole(..) => true,
            Piece::Cut(key, _, from, to) => {
                from == 0 && i64::from(to) >= key.next().start() - key.start()
            }
        }
    }

    /// The listens of the piece in the range: (row index, offset in the month).
    pub(super) fn rows(&self) -> impl Iterator<Item = (usize, u32)> + 'a {
        let (month, from, to) = match *self {
            Piece::Whole(_, month) => (month, 0, u32::MAX),
            Piece::Cut(_, month, from, to) => (month, from, to),
        };
        month
            .rows()
            .iter()
            .enumerate()
            .filter(move |(_, row)| (from..to).contains(&row.at))
            .map(|(index, row)| (index, row.at))
    }
}

/// What the listens of some songs add up to in a range.
pub(super) struct Followed {
    totals: Counts,
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
    /// Month by month, gaps filled.
    pub(super) over_time: Vec<TimePoint>,
    /// Each song's, in the order asked.
    by_song: Vec<Counts>,
}

impl Aggregates {
    /// The months with listens in `range` (days in `zone`), each whole or cut.
    pub(super) fn pieces(&self, range: DateRange, zone: Zone) -> impl Iterator<Item = Piece<'_>> {
        span_of(range, zone)
            .into_iter()
            .flat_map(move |(from, to)| {
                let first = if from == Millis::MIN {
                    MonthKey(i32::MIN)
                } else {
                    MonthKey::of(from)
                };
                let last = if to == Millis::MAX {
                    MonthKey(i32::MAX)
                } else {
                    MonthKey::of(to - 1)
                };
                self.pieces_between(first..=last, from, to)
            })
    }

    /// The UTC months `keys` that have listens, whole.
    pub(super) fn whole_months(
        &self,
        keys: RangeInclusive<MonthKey>,
    ) -> impl Iterator<Item = Piece<'_>> {
        self.pieces_between(keys, Millis::MIN, Millis::MAX)
    }

    /// The months `keys` with listens in the instants `[from, to)`.
    fn pieces_between(
        &self,
        keys: RangeInclusive<MonthKey>,
        from: Millis,
        to: Millis,
    ) -> impl Iterator<Item = Piece<'_>> {
        self.months().range(keys).filter_map(move |(key, month)| {
            let start = key.start();
            let end = key.next().start();
            if from <= start && end <= to {
                // A month without sums is read listen by listen.
                return Some(if month.has_sums() {
                    Piece::Whole(*key, month)
                } else {
                    Piece::Cut(*key, month, 0, (end - start) as u32)
                });
            }
            let lower = (from.max(start) - start) as u32;
            let upper = (to.min(end) - start) as u32;
            (lower < upper).then_some(Piece::Cut(*key, month, lower, upper))
        })
    }

    /// The first and last day with listens in `zone`.
    pub fn bounds(&self, zone: Zone) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let day = |(key, month): (&MonthKey, &Month), first: bool| {
            let (earliest, latest) = month.span();
            let at = if first { earliest } else { latest };
            zone.day_of(key.start() + i64::from(at))
        };
        (
            self.months().iter().next().map(|m| day(m, true)),
            self.months().iter().next_back().map(|m| day(m, false)),
        )
    }

    /// Counts of the listen at row `index` of a month.
    pub(super) fn row_counts(&self, month: &Month, index: usize) -> (u32, Counts) {
        let row = &month.rows()[index];
        let song = self.catalog().naming(row.naming).song;
        let skipped = self.catalog().context(row.context).skipped;
        (song, Counts::one(month.ms_of(index), skipped))
    }

    /// Each song's counts over the range, by song number.
    pub(super) fn song_sums(&self, range: DateRange, zone: Zone) -> Sums {
        if range == DateRange::ALL_TIME {
            return Sums::of(self.songs().iter().map(|song| song.tally.counts()));
        }
        let mut sums = Sums::zeroed(self.songs().len());
        for piece in self.pieces(range, zone) {
            match piece {
                Piece::Whole(_, month) => {
                    for song in month.songs() {
                        sums.add(song.song, &song.counts());
                    }
                }
                Piece::Cut(_, month, ..) => {
                    for (index, _) in piece.rows() {
                        let (song, counts) = self.row_counts(month, index);
                        sums.add(song, &counts);
                    }
                }
            }
        }
        sums
    }

    pub(super) fn top_song(&self, rank: usize, id: usize, counts: &Counts) -> TopSong {
        let (track, artist, album) = self.song_names(id as u32);
        TopSong {
            rank: rank as u32 + 1,
            track_uri: self.catalog().uri(id as u32).to_string(),
            track_name: track.to_string(),
            artist_name: artist.to_string(),
            album_name: album.to_string(),
            plays: counts.plays,
            ms_played: counts.ms_played,
            skips: counts.skips,
        }
    }

    /// The numbers of the songs that show `artist`, in order.
    pub(super) fn songs_of_artist(&self, artist: u32) -> Vec<u32> {
        (0..self.songs().len())
            .filter(|&song| self.shown_artist(song) == Some(artist))
            .map(|song| song as u32)
            .collect()
    }

    /// The first `limit` of `sums` (song numbers with their counts) in the
    /// ranking by `metric`.
    pub(super) fn best_songs<'s>(
        &self,
        sums: impl Iterator<Item = (usize, &'s Counts)>,
        metric: Metric,
        limit: usize,
    ) -> Vec<(usize, &'s Counts)> {
        let rows = sums.filter(|(_, counts)| counts.plays > 0);
        best(rows, limit, self.song_order(metric))
    }

    /// The songs' ranking by `metric`: their counts, then their names and URIs.
    pub(super) fn song_order(&self, metric: Metric) -> impl Fn(&Entry, &Entry) -> Ordering + '_ {
        let name = |id: usize| self.song_names(id as u32).0;
        let uri = |id: usize| self.catalog().uri(id as u32);
        move |a, b| {
            metric_order(metric, a.1, b.1)
                .then_with(|| name(a.0).cmp(name(b.0)))
                .then_with(|| uri(a.0).cmp(&uri(b.0)))
        }
    }

    fn ranked_songs<'s>(
        &self,
        sums: impl Iterator<Item = (usize, &'s Counts)>,
        metric: Metric,
        limit: usize,
    ) -> Vec<TopSong> {
        self.best_songs(sums, metric, limit)
            .into_iter()
            .enumerate()
            .map(|(rank, (id, counts))| self.top_song(rank, id, counts))
            .collect()
    }

    pub fn top_songs_in(
        &self,
        range: DateRange,
        zone: Zone,
        metric: Metric,
        limit: usize,
    ) -> Vec<TopSong> {
        let sums = self.song_sums(range, zone);
        self.ranked_songs(sums.listed(), metric, limit)
    }

    /// The days `query` asks about: a preset counts back from the latest day with listens.
    pub fn resolve(&self, query: &RangeQuery, zone: Zone) -> DateRange {
        query.range(self.bounds(zone).1)
    }

    /// Everything the dashboard's range view shows, the songs added up once.
    pub fn view(&self, query: &RangeQuery, zone: Zone, limit: usize) -> RangeView {
        let (first_day, last_day) = self.bounds(zone);
        let range = query.range(last_day);
        let bucket = bucket_for(range, first_day, last_day);
        let sums = self.song_sums(range, zone);
        let artist_sums = self.artist_sums(&sums);
        let over_time = self.over_time(range, zone, bucket);
        RangeView {
            time_zone: zone.name().to_string(),
            query: *query,
            range,
            first_day,
            last_day,
            totals: totals_of(&sums, &artist_sums),
            top_songs: self.ranked_songs(sums.listed(), query.metric, limit),
            top_artists: self.ranked_artists(&artist_sums, query.metric, limit),
            top_albums: self.ranked_albums(&sums, query.metric, limit),
            most_skipped: self.skipped_songs(&sums, MIN_PLAYS_TO_RANK_SKIPS, limit),
            clock: self.clock(range, zone),
            bucket,
            over_time,
            shares: self.shares(range, zone),
        }
    }

    /// What `range` adds up to.
    pub fn totals_in(&self, range: DateRange, zone: Zone) -> RangeTotals {
        let songs = self.song_sums(range, zone);
        totals_of(&songs, &self.artist_sums(&songs))
    }

    pub fn top_artists_in(
        &self,
        range: DateRange,
        zone: Zone,
        metric: Metric,
        limit: usize,
    ) -> Vec<TopArtist> {
        let songs = self.song_sums(range, zone);
        self.ranked_artists(&self.artist_sums(&songs), metric, limit)
    }

    /// The first `limit` artists of `sums` (by artist number) by `metric`.
    fn ranked_artists(&self, sums: &[Counts], metric: Metric, limit: usize) -> Vec<TopArtist> {
        self.best_artists(sums, metric, limit)
            .into_iter()
            .enumerate()
            .map(|(rank, (id, counts))| self.top_artist(rank, id, counts))
            .collect()
    }

    /// Each artist's counts, by artist number, from each song's.
    pub(super) fn artist_sums(&self, songs: &Sums) -> Sums {
        self.artist_and_album_sums(songs, Grouped::Artists).artists
    }

    /// Each artist's and album's counts (by number) that `grouped` asks
    /// for, from each song's, as the song shows them: one pass over the
    /// played songs, reading the artist and album each shows.
    pub(super) fn artist_and_album_sums(&self, songs: &Sums, grouped: Grouped) -> GroupSums {
        let catalog = self.catalog();
        let room = |wanted: bool, len: usize| Sums::zeroed_for_groups(if wanted { len } else { 0 });
        let with_artists = matches!(grouped, Grouped::Artists | Grouped::Both);
        let with_albums = matches!(grouped, Grouped::Albums | Grouped::Both);
        let mut sums = GroupSums {
            artists: room(with_artists, catalog.artists().len()),
            albums: room(with_albums, catalog.albums().len()),
        };
        let shown = self.shown_groups();
        for (id, counts) in songs.listed() {
            let Some(groups) =
                (shown.get(id).and_then(|groups| groups.shown())).filter(|_| counts.plays > 0)
            else {
                continue;
            };
            if with_artists {
                sums.artists.add(groups.artist, counts);
            }
            if with_albums && groups.album != NO_ALBUM {
                sums.albums.add(groups.album, counts);
            }
        }
        sums
    }

    /// The numbers of the first `limit` artists of `sums` by `metric`.
    pub(super) fn best_artists<'s>(
        &self,
        sums: &'s [Counts],
        metric: Metric,
        limit: usize,
    ) -> Vec<(usize, &'s Counts)> {
        let rows = sums.iter().enumerate().filter(|(_, c)| c.plays > 0);
        best(rows, limit, self.artist_order(metric))
    }

    /// The artists' ranking by `metric`: their counts, then their names.
    pub(super) fn artist_order(&self, metric: Metric) -> impl Fn(&Entry, &Entry) -> Ordering + '_ {
        let name = |id: usize| self.catalog().artist_name(id as u32);
        move |a, b| metric_order(metric, a.1, b.1).then_with(|| name(a.0).cmp(name(b.0)))
    }

    pub(super) fn top_artist(&self, rank: usize, id: usize, counts: &Counts) -> TopArtist {
        TopArtist {
            rank: rank as u32 + 1,
            artist_name: self.catalog().artist_name(id as u32).to_string(),
            plays: counts.plays,
            ms_played: counts.ms_played,
            skips: counts.skips,
        }
    }

    pub fn top_albums(
        &self,
        range: DateRange,
        zone: Zone,
        metric: Metric,
        limit: usize,
    ) -> Vec<TopAlbum> {
        self.ranked_albums(&self.song_sums(range, zone), metric, limit)
    }

    fn ranked_albums(&self, songs: &Sums, metric: Metric, limit: usize) -> Vec<TopAlbum> {
        let sums = self.album_sums(songs);
        self.best_albums(&sums, metric, limit)
            .into_iter()
            .enumerate()
            .map(|(rank, (id, counts))| self.top_album(rank, id, counts))
            .collect()
    }

    /// Each album's counts, by album number, from each song's.
    pub(super) fn album_sums(&self, songs: &Sums) -> Sums {
        self.artist_and_album_sums(songs, Grouped::Albums).albums
    }

    /// An album's name and artist.
    fn album_names(&self, id: usize) -> (&str, &str) {
        let catalog = self.catalog();
        let album = catalog.albums()[id];
        (catalog.text(album.name), catalog.artist_name(album.artist))
    }

    /// The numbers of the first `limit` albums of `sums` by `metric`.
    pub(super) fn best_albums<'s>(
        &self,
        sums: &'s [Counts],
        metric: Metric,
        limit: usize,
    ) -> Vec<(usize, &'s Counts)> {
        let rows = sums.iter().enumerate().filter(|(_, c)| c.plays > 0);
        best(rows, limit, self.album_order(metric))
    }

    /// The albums' ranking by `metric`: their counts, then their names and artists.
    pub(super) fn album_order(&self, metric: Metric) -> impl Fn(&Entry, &Entry) -> Ordering + '_ {
        move |a, b| {
            metric_order(metric, a.1, b.1)
                .then_with(|| self.album_names(a.0).cmp(&self.album_names(b.0)))
        }
    }

    pub(super) fn top_album(&self, rank: usize, id: usize, counts: &Counts) -> TopAlbum {
        let (name, artist) = self.album_names(id);
        TopAlbum {
            rank: rank as u32 + 1,
            album_name: name.to_string(),
            artist_name: artist.to_string(),
            plays: counts.plays,
            ms_played: counts.ms_played,
            skips: counts.skips,
        }
    }

    /// Songs with at least `min_plays` plays, most skips first (then the
    /// higher skip rate, then the name).
    pub fn most_skipped(
        &self,
        range: DateRange,
        zone: Zone,
        min_plays: i64,
        limit: usize,
    ) -> Vec<SkippedSong> {
        self.skipped_songs(&self.song_sums(range, zone), min_plays, limit)
    }

    pub(super) fn skipped_songs(
        &self,
        sums: &Sums,
        min_plays: i64,
        limit: usize,
    ) -> Vec<SkippedSong> {
        let rows = sums
            .listed()
            .filter(|(_, c)| c.plays >= min_plays.max(1) && c.skips > 0);
        let name = |id: usize| self.song_names(id as u32).0;
        let uri = |id: usize| self.catalog().uri(id as u32);
        // Rates compared as fractions, exactly: a/b > c/d  ⇔  a·d > c·b.
        let order = |a: &(usize, &Counts), b: &(usize, &Counts)| {
            b.1.skips
                .cmp(&a.1.skips)
                .then_with(|| (b.1.skips * a.1.plays).cmp(&(a.1.skips * b.1.plays)))
                .then_with(|| name(a.0).cmp(name(b.0)))
                .then_with(|| uri(a.0).cmp(&uri(b.0)))
        };
        best(rows, limit, order)
            .into_iter()
            .enumerate()
            .map(|(rank, (id, counts))| {
                let song = self.top_song(rank, id, counts);
                SkippedSong {
                    rank: song.rank,
                    track_uri: song.track_uri,
                    track_name: song.track_name,
                    artist_name: song.artist_name,
                    plays: counts.plays,
                    skips: counts.skips,
                    skip_rate: counts.skips as f64 / counts.plays as f64,
                }
            })
            .collect()
    }

    /// Plays and listening time of the range by quarter hour, in time
    /// order: each is handed over with its first instant, plays and time.
    /// (Every zone's offset being whole quarter hours, a quarter lies in one
    /// local hour and day.)
    fn for_each_quarter(
        &self,
        range: DateRange,
        zone: Zone,
        mut visit: impl FnMut(Millis, i64, i64),
    ) {
        for piece in self.pieces(range, zone) {
            let start = piece.key().start();
            match piece {
                Piece::Whole(_, month) => {
                    for sum in month.quarters() {
                        let ms = i64::try_from(sum.ms_played).unwrap_or(i64::MAX);
                        let at = start + i64::from(sum.quarter) * QUARTER_MS;
                        visit(at, i64::from(sum.plays), ms);
                    }
                }
                Piece::Cut(_, month, ..) => {
                    for (index, at) in piece.rows() {
                        let ms = i64::try_from(month.ms_of(index)).unwrap_or(i64::MAX);
                        let quarter = i64::from(at) / QUARTER_MS;
                        visit(start + quarter * QUARTER_MS, 1, ms);
                    }
                }
            }
        }
    }

    /// Plays and listening time by weekday and hour in `zone`: 7 × 24 cells, Monday first.
    pub fn clock(&self, range: DateRange, zone: Zone) -> Vec<ClockCell> {
        let mut cells: Vec<ClockCell> = (0..7u8)
            .flat_map(|weekday| {
                (0..24u8).map(move |hour| ClockCell {
                    weekday,
                    hour,
                    plays: 0,
                    ms_played: 0,
                })
            })
            .collect();
        let mut local = LocalClock::new(zone);
        self.for_each_quarter(range, zone, |at, plays, ms| {
            let weekday = usize::from(weekday_of_day_number(local.day_number(at)));
            let hour = (local.time_of_day(at) / HOUR_MS) as usize;
            let cell = &mut cells[weekday * 24 + hour];
            cell.plays += plays;
            cell.ms_played = cell.ms_played.saturating_add(ms);
        });
        cells
    }

    /// Plays and listening time per step of `bucket`, steps without listens included.
    pub fn over_time(&self, range: DateRange, zone: Zone, bucket: Bucket) -> Vec<TimePoint> {
        fill_gaps(
            self.sums_by_step(range, zone, |day| bucket.start_of(day)),
            bucket,
        )
    }

    /// Plays and listening time of every day (in `zone`) with listens, in order.
    pub fn listening_days(&self, zone: Zone) -> Vec<TimePoint> {
        let days = self.sums_by_step(DateRange::ALL_TIME, zone, |day| day);
        days.iter()
            .map(|(&start, counts)| time_point(start, counts))
            .collect()
    }

    /// Plays and listening time by the step (`step_of` a day) of the range's days with listens.
    pub(super) fn sums_by_step(
        &self,
        range: DateRange,
        zone: Zone,
        step_of: impl Fn(NaiveDate) -> NaiveDate,
    ) -> BTreeMap<NaiveDate, Counts> {
        let mut steps: BTreeMap<NaiveDate, Counts> = BTreeMap::new();
        // Consecutive quarters mostly share a day: they are added up, and
        // the day's step found, once per day.
        let mut day: Option<(i64, Counts)> = None;
        let mut flush = |day: Option<(i64, Counts)>| {
            if let Some((number, counts)) = day {
                let date = date_of_day_number(number);
                steps.entry(step_of(date)).or_default().add(&counts);
            }
        };
        let mut local = LocalClock::new(zone);
        self.for_each_quarter(range, zone, |at, plays, ms| {
            let at = local.day_number(at);
            let counts = Counts {
                plays,
                ms_played: ms,
                skips: 0,
            };
            match &mut day {
                Some((current, sum)) if *current == at => sum.add(&counts),
                _ => flush(day.replace((at, counts))),
            }
        });
        flush(day);
        steps
    }

    /// How the plays of the range split by platform, shuffle and the way tracks started and ended.
    pub fn shares(&self, range: DateRange, zone: Zone) -> Shares {
        let mut by_context: BTreeMap<u32, i64> = BTreeMap::new();
        for piece in self.pieces(range, zone) {
            match piece {
                Piece::Whole(_, month) => {
                    for (context, plays) in month.contexts() {
                        *by_context.entry(*context).or_default() += i64::from(*plays);
                    }
                }
                Piece::Cut(_, month, ..) => {
                    for (index, _) in piece.rows() {
                        *by_context.entry(month.rows()[index].context).or_default() += 1;
                    }
                }
            }
        }
        let catalog = self.catalog();
        let mut platforms = BTreeMap::new();
        let mut starts = BTreeMap::new();
        let mut ends = BTreeMap::new();
        let mut shares = Shares::default();
        for (context, plays) in by_context {
            let context = catalog.context(context);
            shares.plays += plays;
            shares.shuffled += if context.shuffle { plays } else { 0 };
            add_label(&mut platforms, catalog.text(context.platform), plays);
            add_label(&mut starts, catalog.text(context.reason_start), plays);
            add_label(&mut ends, catalog.text(context.reason_end), plays);
        }
        shares.platforms = ranked_labels(platforms);
        shares.reason_start = ranked_labels(starts);
        shares.reason_end = ranked_labels(ends);
        shares
    }

    /// An artist's totals, first and last day, plays by month and top songs in the range.
    pub fn artist_detail(
        &self,
        name: &str,
        range: DateRange,
        zone: Zone,
        limit: usize,
    ) -> Option<ArtistDetail> {
        let artist = self.catalog().artist_number(name)?;
        let songs = self.songs_of_artist(artist);
        let Followed {
            totals,
            first,
            last,
            over_time,
            by_song,
        } = self.follow(range, zone, &songs);
        let all_time = self.all_time_months(range, zone, &songs, &over_time);
        let sums = songs.iter().map(|&song| song as usize).zip(&by_song);
        let top_songs = self.ranked_songs(sums, Metric::Plays, limit);
        Some(ArtistDetail {
            artist_name: name.to_string(),
            plays: totals.plays,
            ms_played: totals.ms_played,
            skips: totals.skips,
            first_listen: first,
            last_listen: last,
            over_time,
            top_songs,
            rank_history: self.rank_history(Charted::Artist(artist), &all_time, zone),
        })
    }

    /// A song's totals, first and last day and plays by month in the range.
    pub fn song_detail(&self, track_uri: &str, range: DateRange, zone: Zone) -> Option<SongDetail> {
        let song = self.catalog().song_number(track_uri)?;
        if !self.songs()[song as usize].is_counted() {
            return None;
        }
        let Followed {
            totals,
            first,
            last,
            over_time,
            ..
        } = self.follow(range, zone, &[song]);
        let all_time = self.all_time_months(range, zone, &[song], &over_time);
        Some(SongDetail {
            song: self.top_song(0, song as usize, &totals),
            first_listen: first,
            last_listen: last,
            over_time,
            rank_history: self.rank_history(Charted::Song(song), &all_time, zone),
        })
    }

    /// The plays by month over all time of `songs`, whose months in
    /// `range` are `of_range`: the same when the range is all time.
    pub(super) fn all_time_months(
        &self,
        range: DateRange,
        zone: Zone,
        songs: &[u32],
        of_range: &[TimePoint],
    ) -> Vec<TimePoint> {
        if range == DateRange::ALL_TIME {
            of_range.to_vec()
        } else {
            self.follow(DateRange::ALL_TIME, zone, songs).over_time
        }
    }

    /// Totals, first and last day and months (in `zone`) of the songs
    /// `wanted` (sorted song numbers). A summed month adds up the sums of
    /// those songs, less the listens of its first and last day that the
    /// zone puts in the months beside it.
    pub(super) fn follow(&self, range: DateRange, zone: Zone, wanted: &[u32]) -> Followed {
        let is_wanted = |song: u32| wanted.binary_search(&song).is_ok();
        let mut by_song = vec![Counts::default(); wanted.len()];
        let mut totals = Counts::default();
        let mut months: BTreeMap<NaiveDate, Counts> = BTreeMap::new();
        let mut with_listens: Vec<Piece<'_>> = Vec::new();
        let mut local = LocalClock::new(zone);
        for piece in self.pieces(range, zone) {
            let mut sum = Counts::default();
            match piece {
                Piece::Whole(key, month) => {
                    sum = add_sums_of(month.songs(), wanted, &mut by_song);
                    months.entry(key.first_day()).or_default().add(&sum);
                    if zone != Zone::UTC {
                        for moved in self.moved_out(key, month, zone).iter() {
                            if is_wanted(moved.song) {
                                months
                                    .entry(key.first_day())
                                    .or_default()
                                    .remove(&moved.counts);
                                months.entry(moved.month).or_default().add(&moved.counts);
                            }
                        }
                    }
                }
                Piece::Cut(..) => {
                    let start = piece.key().start();
                    for (index, at) in piece.rows() {
                        let (song, counts) = self.row_counts(piece.month(), index);
                        if let Ok(found) = wanted.binary_search(&song) {
                            let month = local.month_of(start + i64::from(at));
                            months.entry(month).or_default().add(&counts);
                            by_song[found].add(&counts);
                            sum.add(&counts);
                        }
                    }
                }
            }
            if sum.plays > 0 {
                totals.add(&sum);
                with_listens.push(piece);
            }
        }
        months.retain(|_, counts| counts.plays > 0);
        // The first and last day: the earliest and latest such listen of
        // the first and last month with any.
        let day_in = |piece: &Piece<'_>, earliest: bool| {
            let month = piece.month();
            let offsets = piece.rows().filter_map(|(index, at)| {
                is_wanted(self.catalog().naming(month.rows()[index].naming).song).then_some(at)
            });
            let at = if earliest {
                offsets.min()
            } else {
                offsets.max()
            };
            at.map(|at| zone.day_of(piece.key().start() + i64::from(at)))
        };
        Followed {
            totals,
            first: with_listens.first().and_then(|p| day_in(p, true)),
            last: with_listens.last().and_then(|p| day_in(p, false)),
            over_time: fill_gaps(months, Bucket::Month),
            by_song,
        }
    }
}

/// Adds the sums of the `wanted` songs (sorted) among a month's into
/// `by_song` (by their place in `wanted`); what they add up to. Looked up
/// one by one when they are few, else read alongside.
fn add_sums_of(songs: &[SongSum], wanted: &[u32], by_song: &mut [Counts]) -> Counts {
    let mut sum = Counts::default();
    let mut add = |found: usize, song: &SongSum| {
        by_song[found].add(&song.counts());
        sum.add(&song.counts());
    };
    if wanted.len() * 16 < songs.len() {
        for (found, song) in wanted.iter().enumerate() {
            if let Ok(at) = songs.binary_search_by_key(song, |sum| sum.song) {
                add(found, &songs[at]);
            }
        }
    } else {
        for song in songs {
            if let Ok(found) = wanted.binary_search(&song.song) {
                add(found, song);
            }
        }
    }
    sum
}

/// The steps from the first to the last, the empty ones as zeros.
fn fill_gaps(steps: BTreeMap<NaiveDate, Counts>, bucket: Bucket) -> Vec<TimePoint> {
    every_step(&steps, bucket, |start, counts| time_point(start, &counts))
}

/// Every step of `bucket` from the first of `steps` to the last, those
/// without a value as the default one, each made a point by `point`.
pub(super) fn every_step<T: Copy + Default, P>(
    steps: &BTreeMap<NaiveDate, T>,
    bucket: Bucket,
    point: impl Fn(NaiveDate, T) -> P,
) -> Vec<P> {
    let (Some(&first), Some(&last)) = (steps.keys().next(), steps.keys().next_back()) else {
        return Vec::new();
    };
    let mut points = Vec::new();
    let mut step = first;
    while step <= last {
        points.push(point(step, steps.get(&step).copied().unwrap_or_default()));
        step = next_step(step, bucket);
    }
    points
}

/// The step of `bucket` after the one starting at `step`.
fn next_step(step: NaiveDate, bucket: Bucket) -> NaiveDate {
    match bucket {
        Bucket::Day => step + chrono::Duration::days(1),
        Bucket::Week => step + chrono::Duration::days(7),
        Bucket::Month => step
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX),
    }
}

/// A label as shown: `unknown` when the export left it empty.
pub(super) fn label_of(text: &str) -> &str {
    if text.trim().is_empty() {
        "unknown"
    } else {
        text
    }
}

pub(super) fn add_label(into: &mut BTreeMap<String, i64>, label: &str, plays: i64) {
    let label = label_of(label);
    match into.get_mut(label) {
        Some(sum) => *sum += plays,
        None => {
            into.insert(label.to_string(), plays);
        }
    }
}

/// Labels, most plays first.
pub(super) fn ranked_labels(labels: BTreeMap<String, i64>) -> Vec<Share> {
    let mut shares: Vec<Share> = labels
        .into_iter()
        .map(|(label, plays)| Share { label, plays })
        .collect();
    shares.sort_by(|a, b| b.plays.cmp(&a.plays).then_with(|| a.label.cmp(&b.label)));
    shares
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::BatchDelta;
    use crate::event::{test_listen, ListenEvent};
    use crate::zone::Zone;
    use chrono::Datelike;

    fn listen(song: &str, artist: &str, ts: &str, ms: u64, skipped: bool) -> ListenEvent {
        test_listen(song, artist, ts, ms, skipped)
    }

    fn state_of(listens: &[ListenEvent]) -> Aggregates {
        let mut state = Aggregates::default();
        // In two batches, as the consumer would count them.
        let (a, b) = listens.split_at(listens.len() / 2);
        state.apply(&BatchDelta::from_events(a));
        state.apply(&BatchDelta::from_events(b));
        state
    }

    fn range(from: &str, to: &str) -> DateRange {
        DateRange::parse(Some(from), Some(to)).unwrap()
    }

    fn sample() -> Vec<ListenEvent> {
        vec![
            listen("a", "Adele", "2024-01-31T23:59:59Z", 1000, false),
            listen("a", "Adele", "2024-02-01T00:00:00Z", 1000, true),
            listen("b", "Adele", "2024-02-01T10:00:00Z", 9000, false),
            listen("c", "Muse", "2024-02-02T10:00:00Z", 500, true),
            listen("c", "Muse", "2024-02-03T10:00:00Z", 500, true),
            listen("c", "Muse", "2024-02-29T10:00:00Z", 500, false),
            listen("d", "Muse", "2024-03-01T00:00:00Z", 100, false),
        ]
    }

    #[test]
    fn ranges_include_from_and_exclude_to_at_midnight_utc() {
        let state = state_of(&sample());
        let february = state.top_songs_in(
            range("2024-02-01", "2024-03-01"),
            Zone::UTC,
            Metric::Plays,
            10,
        );
        let rows: Vec<(&str, i64)> = february
            .iter()
            .map(|s| (s.track_name.as_str(), s.plays))
            .collect();
        assert_eq!(rows, vec![("Song c", 3), ("Song b", 1), ("Song a", 1)]);
        let all = state.top_songs_in(DateRange::ALL_TIME, Zone::UTC, Metric::Plays, 10);
        assert_eq!(all.iter().map(|s| s.plays).sum::<i64>(), 7);
        let one_day = state.top_songs_in(
            range("2024-01-31", "2024-02-01"),
            Zone::UTC,
            Metric::Plays,
            10,
        );
        assert_eq!(one_day.len(), 1);
        assert_eq!(one_day[0].track_name, "Song a");
    }

    #[test]
    fn each_month_discovers_the_songs_and_artists_first_heard_in_it() {
        let months: Vec<(String, i64, i64, i64, i64, i64)> = state_of(&sample())
            .discoveries(Zone::UTC)
            .iter()
            .map(|m| {
                let month = m.month.to_string();
                (
                    month,
                    m.new_songs,
                    m.new_artists,
                    m.plays,
                    m.ms_played,
                    m.ms_new,
                )
            })
            .collect();
        assert_eq!(
            months,
            vec![
                ("2024-01-01".into(), 1, 1, 1, 1000, 1000),
                // b (of Adele, heard before) and c (Muse's first); a again.
                ("2024-02-01".into(), 2, 1, 5, 11500, 10500),
                ("2024-03-01".into(), 1, 0, 1, 100, 100),
            ]
        );
    }

    /// The local time of a listen in `zone`, by chrono-tz directly.
    fn local(l: &ListenEvent, zone: Zone) -> chrono::DateTime<chrono_tz::Tz> {
        l.ts.with_timezone(&zone.name().parse::<chrono_tz::Tz>().unwrap())
    }

    /// Zones whose offsets change in the listens of the tests (New York and
    /// Berlin by an hour, Lord Howe by half an hour) or are not whole hours.
    const ZONES: [&str; 5] = [
        "UTC",
        "America/New_York",
        "Europe/Berlin",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
    ];

    fn zones() -> impl Iterator<Item = Zone> {
        ZONES.into_iter().map(|name| Zone::parse(name).unwrap())
    }

    /// What each month discovered, computed listen by listen.
    fn discovered(listens: &[ListenEvent], zone: Zone) -> Vec<app::stories::DiscoveryMonth> {
        let month_of = |l: &ListenEvent| local(l, zone).date_naive().with_day(1).unwrap();
        let mut first_song: std::collections::HashMap<&str, NaiveDate> = Default::default();
        let mut first_artist: std::collections::HashMap<&str, NaiveDate> = Default::default();
        for l in listens {
            let month = month_of(l);
            let song = first_song.entry(&l.track_uri).or_insert(month);
            *song = (*song).min(month);
            let artist = first_artist.entry(&l.artist_name).or_insert(month);
            *artist = (*artist).min(month);
        }
        let mut months: BTreeMap<NaiveDate, app::stories::DiscoveryMonth> = BTreeMap::new();
        for l in listens {
            let month = month_of(l);
            let found = months
                .entry(month)
                .or_insert_with(|| app::stories::DiscoveryMonth::empty(month));
            found.plays += 1;
            found.ms_played += l.ms_played as i64;
            if first_song[l.track_uri.as_str()] == month {
                found.ms_new += l.ms_played as i64;
            }
        }
        for (_, month) in first_song {
            months.get_mut(&month).unwrap().new_songs += 1;
        }
        for (_, month) in first_artist {
            months.get_mut(&month).unwrap().new_artists += 1;
        }
        months.into_values().collect()
    }

    #[test]
    fn discoveries_equal_a_count_listen_by_listen_with_and_without_a_months_sums() {
        // A few dozen listens a month (read one by one), then over 256 (summed).
        for listens in [spread(), listens_every(3000, 10)] {
            let mut listens = listens;
            for (i, l) in listens.iter_mut().enumerate() {
                // Songs keep coming (one new in every 40 listens), each of
                // one artist but now and then named with a guest, whom
                // later listens of the song do not name.
                let song = i / 40 + i % 3;
                l.track_uri = format!("spotify:track:n{song}");
                l.artist_name = match i % 50 {
                    7 => format!("Artist {} feat. Guest {}", song % 7, i % 4),
                    _ => format!("Artist {}", song % 7),
                };
            }
            for zone in zones() {
                assert_eq!(
                    state_of(&listens).discoveries(zone),
                    discovered(&listens, zone),
                    "{zone}"
                );
            }
        }
    }

    #[test]
    fn kept_discoveries_equal_a_count_listen_by_listen_as_earlier_months_take_listens() {
        // Months read one by one, then summed months (over 256 listens).
        let mut listens = spread();
        listens.extend(listens_from("2024-06-20T12:00:00Z", 6000, 20));
        for (i, l) in listens.iter_mut().enumerate() {
            let song = i / 40 + i % 3;
            l.track_uri = format!("spotify:track:n{song}");
            l.artist_name = format!("Artist {}", song % 11);
        }
        // The later half first: then months read before take listens, and
        // songs and artists first heard in them turn out heard before.
        let (earlier, later) = listens.split_at(listens.len() / 2);
        let order: Vec<ListenEvent> = later.iter().chain(earlier).cloned().collect();
        let mut state = Aggregates::default();
        let mut seen = Vec::new();
        for (turn, batch) in order.chunks(450).enumerate() {
            state.apply(&BatchDelta::from_events(batch.iter()));
            seen.extend_from_slice(batch);
            // Two zones a turn, one of them read the turn before (two are kept).
            for zone in [turn, turn + 1].map(|at| Zone::parse(ZONES[at % ZONES.len()]).unwrap()) {
                assert_eq!(
                    state.discoveries(zone),
                    discovered(&seen, zone),
                    "{zone} after {} listens",
                    seen.len()
                );
            }
        }
        // A listen in the first hours of a UTC month is of New York's month
        // before: kept there, that month is worked out again.
        let new_york = Zone::parse("America/New_York").unwrap();
        let july = state.discoveries(new_york);
        let mut edge = listens[0].clone();
        edge.track_uri = "spotify:track:edge".into();
        edge.artist_name = "Edge".into();
        edge.ts = "2024-08-01T02:00:00Z".parse().unwrap();
        state.apply(&BatchDelta::from_events([&edge]));
        seen.push(edge);
        let discoveries = state.discoveries(new_york);
        assert_eq!(discoveries, discovered(&seen, new_york));
        assert_ne!(discoveries, july, "July took a song and an artist");
    }

    #[test]
    fn a_reversed_range_answers_nothing_instead_of_panicking() {
        let state = state_of(&sample());
        let reversed = DateRange {
            from: "2024-03-01".parse().ok(),
            to: "2024-02-01".parse().ok(),
        };
        assert!(state
            .top_songs_in(reversed, Zone::UTC, Metric::Plays, 10)
            .is_empty());
        assert!(state
            .clock(reversed, Zone::UTC)
            .iter()
            .all(|cell| cell.plays == 0));
        assert!(state.over_time(reversed, Zone::UTC, Bucket::Day).is_empty());
    }

    /// Listens over two and a half years, every few hours: a few dozen a
    /// month, read listen by listen.
    fn spread() -> Vec<ListenEvent> {
        listens_every(600, 37 * 60)
    }

    /// `count` listens from 2021-11-20, one every `minutes` or so.
    fn listens_every(count: i64, minutes: i64) -> Vec<ListenEvent> {
        listens_from("2021-11-20T12:00:00Z", count, minutes)
    }

    /// `count` listens from `start`, one every `minutes` or so.
    fn listens_from(start: &str, count: i64, minutes: i64) -> Vec<ListenEvent> {
        (0..count)
            .map(|i: i64| {
                let mut l = listen(
                    &format!("s{}", i % 13),
                    if i % 13 % 2 == 0 { "Adele" } else { "Muse" },
                    start,
                    1000 + i as u64,
                    i % 3 == 0,
                );
                l.ts += chrono::Duration::minutes(i * minutes + i % 17);
                l.platform = ["ios", "web", ""][i as usize % 3].into();
                l
            })
            .collect()
    }

    fn ranges() -> Vec<DateRange> {
        vec![
            DateRange::ALL_TIME,
            range("2021-12-01", "2022-01-01"),
            range("2021-12-15", "2022-03-02"),
            range("2022-01-01", "2023-01-01"),
            range("2021-11-21", "2023-06-01"),
            range("2022-02-10", "2022-02-11"),
            DateRange {
                from: Some("2022-02-10".parse().unwrap()),
                to: None,
            },
            DateRange {
                from: None,
                to: Some("2022-05-31".parse().unwrap()),
            },
            range("2030-01-01", "2031-01-01"),
        ]
    }

    #[test]
    fn every_answer_equals_a_count_of_the_listens_in_the_range() {
        // Months of a few listens (read one by one), then of hundreds
        // (their sums kept, and read when a range covers them whole), the
        // last across the daylight-saving changes of spring 2022.
        let summed_through_changes = listens_from("2022-02-25T12:00:00Z", 3000, 23);
        for (listens, summed) in [
            (spread(), false),
            (listens_every(2000, 37), true),
            (summed_through_changes, true),
        ] {
            let state = state_of(&listens);
            assert_eq!(state.months().values().any(Month::has_sums), summed);
            for zone in zones() {
                answers_equal_counts_of_the_listens(&state, &listens, zone);
            }
        }
    }

    fn answers_equal_counts_of_the_listens(
        state: &Aggregates,
        listens: &[ListenEvent],
        zone: Zone,
    ) {
        for range in ranges() {
            let inside: Vec<&ListenEvent> = listens
                .iter()
                .filter(|l| range.contains(local(l, zone).date_naive()))
                .collect();
            let range_in = |what: &str| format!("{what} of {range:?} in {zone}");
            let mut by_song: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
            let mut clock = vec![0i64; 7 * 24];
            let mut weeks: BTreeMap<NaiveDate, i64> = BTreeMap::new();
            let mut platforms: BTreeMap<String, i64> = BTreeMap::new();
            for l in &inside {
                let song = by_song.entry(l.track_name.clone()).or_default();
                song.0 += 1;
                song.1 += l.ms_played as i64;
                song.2 += i64::from(l.skipped);
                let at = local(l, zone);
                let weekday = at.weekday().num_days_from_monday() as usize;
                clock[weekday * 24 + chrono::Timelike::hour(&at) as usize] += 1;
                *weeks
                    .entry(Bucket::Week.start_of(at.date_naive()))
                    .or_default() += 1;
                let label = if l.platform.is_empty() {
                    "unknown"
                } else {
                    &l.platform
                };
                *platforms.entry(label.to_string()).or_default() += 1;
            }
            let ranked: BTreeMap<String, (i64, i64, i64)> = state
                .top_songs_in(range, zone, Metric::Plays, 100)
                .into_iter()
                .map(|s| (s.track_name, (s.plays, s.ms_played, s.skips)))
                .collect();
            assert_eq!(ranked, by_song, "{}", range_in("songs"));
            let cells: Vec<i64> = state.clock(range, zone).iter().map(|c| c.plays).collect();
            assert_eq!(cells, clock, "{}", range_in("clock"));
            let series: BTreeMap<NaiveDate, i64> = state
                .over_time(range, zone, Bucket::Week)
                .into_iter()
                .filter(|p| p.plays > 0)
                .map(|p| (p.start, p.plays))
                .collect();
            assert_eq!(series, weeks, "{}", range_in("weeks"));
            let shares = state.shares(range, zone);
            assert_eq!(shares.plays, inside.len() as i64);
            let split: BTreeMap<String, i64> = shares
                .platforms
                .into_iter()
                .map(|s| (s.label, s.plays))
                .collect();
            assert_eq!(split, platforms, "{}", range_in("platforms"));
            let muse = state.artist_detail("Muse", range, zone, 100).unwrap();
            let of_muse: Vec<&&ListenEvent> =
                inside.iter().filter(|l| l.artist_name == "Muse").collect();
            assert_eq!(muse.plays, of_muse.len() as i64, "{}", range_in("Muse"));
            let days = || of_muse.iter().map(|l| local(l, zone).date_naive());
            assert_eq!(muse.first_listen, days().min(), "{}", range_in("first"));
            assert_eq!(muse.last_listen, days().max(), "{}", range_in("last"));
            let mut by_month: BTreeMap<NaiveDate, i64> = BTreeMap::new();
            for day in days() {
                *by_month.entry(day.with_day(1).unwrap()).or_default() += 1;
            }
            let months: BTreeMap<NaiveDate, i64> = (muse.over_time.iter())
                .filter(|p| p.plays > 0)
                .map(|p| (p.start, p.plays))
                .collect();
            assert_eq!(months, by_month, "{}", range_in("Muse's months"));
        }
    }

    #[test]
    fn rankings_by_time_order_by_listening_time() {
        let state = state_of(&sample());
        let artists = state.top_artists_in(DateRange::ALL_TIME, Zone::UTC, Metric::Time, 10);
        assert_eq!(artists[0].artist_name, "Adele");
        assert_eq!((artists[0].plays, artists[0].ms_played), (3, 11_000));
        let by_plays = state.top_artists_in(DateRange::ALL_TIME, Zone::UTC, Metric::Plays, 1);
        assert_eq!(by_plays[0].artist_name, "Muse");
        let albums = state.top_albums(
            range("2024-02-01", "2024-02-02"),
            Zone::UTC,
            Metric::Plays,
            5,
        );
        assert_eq!(albums.len(), 1, "one album per artist: {albums:?}");
        assert_eq!(
            (albums[0].artist_name.as_str(), albums[0].plays),
            ("Adele", 2)
        );
    }

    #[test]
    fn most_skipped_needs_the_minimum_plays_and_ranks_by_skips_then_rate() {
        let state = state_of(&sample());
        let skipped = state.most_skipped(DateRange::ALL_TIME, Zone::UTC, 2, 10);
        let rows: Vec<(&str, i64, i64)> = skipped
            .iter()
            .map(|s| (s.track_name.as_str(), s.skips, s.plays))
            .collect();
        assert_eq!(rows, vec![("Song c", 2, 3), ("Song a", 1, 2)]);
        assert!((skipped[1].skip_rate - 0.5).abs() < 1e-9);
        assert!(state
            .most_skipped(DateRange::ALL_TIME, Zone::UTC, 3, 10)
            .iter()
            .all(|s| s.plays >= 3));
    }

    #[test]
    fn the_clock_puts_each_listen_in_its_weekday_and_hour() {
        let state = state_of(&sample());
        let clock = state.clock(DateRange::ALL_TIME, Zone::UTC);
        assert_eq!(clock.len(), 7 * 24);
        // 2024-02-01 and 2024-02-29 were Thursdays (3), both at 10:00 UTC.
        let cell = clock
            .iter()
            .find(|c| c.weekday == 3 && c.hour == 10)
            .unwrap();
        assert_eq!((cell.plays, cell.ms_played), (2, 9500));
        assert_eq!(clock.iter().map(|c| c.plays).sum::<i64>(), 7);
    }

    #[test]
    fn time_series_have_every_step_from_first_to_last() {
        let state = state_of(&sample());
        let months = state.over_time(DateRange::ALL_TIME, Zone::UTC, Bucket::Month);
        let rows: Vec<(String, i64)> = months
            .iter()
            .map(|p| (p.start.to_string(), p.plays))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("2024-01-01".into(), 1),
                ("2024-02-01".into(), 5),
                ("2024-03-01".into(), 1)
            ]
        );
        let days = state.over_time(range("2024-02-01", "2024-02-05"), Zone::UTC, Bucket::Day);
        assert_eq!(
            days.iter().map(|p| p.plays).collect::<Vec<_>>(),
            vec![2, 1, 1]
        );
        let weeks = state.over_time(DateRange::ALL_TIME, Zone::UTC, Bucket::Week);
        assert_eq!(weeks.first().unwrap().start.to_string(), "2024-01-29");
        assert_eq!(weeks.iter().map(|p| p.plays).sum::<i64>(), 7);
    }

    #[test]
    fn shares_split_every_play() {
        let mut listens = sample();
        listens[0].platform = String::new();
        listens[1].shuffle = true;
        let shares = state_of(&listens).shares(DateRange::ALL_TIME, Zone::UTC);
        assert_eq!(shares.plays, 7);
        assert_eq!(shares.shuffled, 1);
        assert_eq!(
            shares.platforms,
            vec![
                Share {
                    label: "android".into(),
                    plays: 6
                },
                Share {
                    label: "unknown".into(),
                    plays: 1
                }
            ]
        );
        assert_eq!(shares.reason_end.iter().map(|s| s.plays).sum::<i64>(), 7);
    }

    #[test]
    fn detail_pages_follow_one_artist_or_song() {
        let state = state_of(&sample());
        let muse = state
            .artist_detail("Muse", DateRange::ALL_TIME, Zone::UTC, 10)
            .unwrap();
        assert_eq!((muse.plays, muse.skips), (4, 2));
        assert_eq!(muse.first_listen.unwrap().to_string(), "2024-02-02");
        assert_eq!(muse.last_listen.unwrap().to_string(), "2024-03-01");
        assert_eq!(
            muse.top_songs
                .iter()
                .map(|s| s.track_name.as_str())
                .collect::<Vec<_>>(),
            vec!["Song c", "Song d"]
        );
        assert_eq!(muse.over_time.len(), 2);
        let song = state
            .song_detail(
                "spotify:track:a",
                range("2024-02-01", "2025-01-01"),
                Zone::UTC,
            )
            .unwrap();
        assert_eq!((song.song.plays, song.song.skips), (1, 1));
        assert!(state
            .artist_detail("Nobody", DateRange::ALL_TIME, Zone::UTC, 10)
            .is_none());
        assert!(state
            .song_detail("spotify:track:zz", DateRange::ALL_TIME, Zone::UTC)
            .is_none());
        assert_eq!(state.bounds(Zone::UTC).0.unwrap().to_string(), "2024-01-31");
        assert_eq!(state.bounds(Zone::UTC).1.unwrap().to_string(), "2024-03-01");
    }
}
