//! Every listen of a person, kept by UTC month: 16 bytes a listen (its
//! time within the month to the millisecond, its naming, listening time
//! and context, as numbers of the person's [`super::Catalog`]), and, in a
//! month of [`SUMS_FROM`] listens or more, its listens added up by song
//! (sorted by song number), by quarter hour (those that have listens) and
//! by context.
//!
//! A time range is answered from the months it covers whole (their sums)
//! and the listens of the months it cuts (read one by one): exact for any
//! range of instants, so for days and hours in any time zone too, never
//! by reading listens again from elsewhere.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// Plays, listening time and skips: what every sum counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub plays: i64,
    pub ms_played: i64,
    pub skips: i64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.plays += other.plays;
        self.ms_played = self.ms_played.saturating_add(other.ms_played);
        self.skips += other.skips;
    }

    /// Takes away counts added before.
    pub fn remove(&mut self, other: &Counts) {
        self.plays -= other.plays;
        self.ms_played = self.ms_played.saturating_sub(other.ms_played);
        self.skips -= other.skips;
    }

    /// One listen of `ms` milliseconds.
    pub fn one(ms: u64, skipped: bool) -> Self {
        Self {
            plays: 1,
            ms_played: i64::try_from(ms).unwrap_or(i64::MAX),
            skips: i64::from(skipped),
        }
    }
}

/// A UTC month: `year * 12 + month - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthKey(pub i32);

impl MonthKey {
    pub fn of(at: Millis) -> Self {
        let date = day_of(at);
        Self(date.year() * 12 + date.month0() as i32)
    }

    pub fn first_day(self) -> NaiveDate {
        let (year, month0) = (self.0.div_euclid(12), self.0.rem_euclid(12) as u32);
        NaiveDate::from_ymd_opt(year, month0 + 1, 1).unwrap_or(NaiveDate::MIN)
    }

    /// Its first instant.
    pub fn start(self) -> Millis {
        midnight(self.first_day())
    }

    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

/// The UTC day of an instant.
pub fn day_of(at: Millis) -> NaiveDate {
    DateTime::from_timestamp_millis(at)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
        .date_naive()
}

/// The first instant of a UTC day.
pub fn midnight(day: NaiveDate) -> Millis {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .timestamp_millis()
}

/// Milliseconds in a quarter hour: the finest step sums by time keep
/// (every time zone's offset is a whole number of them).
pub const QUARTER_MS: i64 = 15 * 60 * 1000;

/// Marks a listen whose listening time needs more than 32 bits.
const LONG: u32 = u32::MAX;

/// One listen, within its month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Milliseconds since the month's start (a month has fewer than 2³²).
    pub at: u32,
    pub naming: u32,
    /// Milliseconds played; [`LONG`] when kept in [`Month::long_ms`].
    ms: u32,
    pub context: u32,
}

/// One song's sums over a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SongSum {
    pub ms_played: u64,
    pub song: u32,
    pub plays: u32,
    pub skips: u32,
}

impl SongSum {
    pub fn counts(&self) -> Counts {
        Counts {
            plays: i64::from(self.plays),
            ms_played: i64::try_from(self.ms_played).unwrap_or(i64::MAX),
            skips: i64::from(self.skips),
        }
    }
}

/// One quarter hour's sums within a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuarterSum {
    pub ms_played: u64,
    /// Quarter hours since the month's start.
    pub quarter: u32,
    pub plays: u32,
}

/// Listens a month holds before its sums are kept: below, a range reads
/// its listens, about as many as its sums would be (most months of most
/// people have a few dozen, each of another song), and the sums would
/// double what the month holds.
pub const SUMS_FROM: usize = 256;

/// One month of a person's listens and, from [`SUMS_FROM`] listens, their sums.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Month {
    /// Whether the sums below are kept (they are empty until then).
    summed: bool,
    /// In the order counted.
    rows: Vec<Row>,
    /// Listening times of the rows that need more than 32 bits: (row, ms).
    long_ms: Vec<(u32, u64)>,
    /// By song number, sorted.
    songs: Vec<SongSum>,
    /// Plays and listening time of each quarter hour that has listens,
    /// sorted: a clock or a series in any time zone adds them up. Kept
    /// sparse: a month of a few listens (most months of most people) would
    /// otherwise hold its 2,976 quarters.
    quarters: Vec<QuarterSum>,
    /// Plays by context number, sorted.
    contexts: Vec<(u32, u32)>,
    first_at: u32,
    last_at: u32,
}

/// A listen as counted into a month: its numbers, and what its song and
/// context say of it.
#[derive(Debug, Clone, Copy)]
pub struct Counted {
    pub at: Millis,
    pub naming: u32,
    pub song: u32,
    pub ms: u64,
    pub context: u32,
    pub skipped: bool,
}

impl Month {
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub fn songs(&self) -> &[SongSum] {
        &self.songs
    }

    /// Plays and listening time of each quarter hour of the month that has
    /// listens, in order.
    pub fn quarters(&self) -> &[QuarterSum] {
        &self.quarters
    }

    pub fn contexts(&self) -> &[(u32, u32)] {
        &self.contexts
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Milliseconds row `index` played.
    pub fn ms_of(&self, index: usize) -> u64 {
        let row = &self.rows[index];
        if row.ms != LONG {
            return u64::from(row.ms);
        }
        self.long_ms
            .binary_search_by_key(&(index as u32), |(row, _)| *row)
            .map_or(u64::from(LONG), |found| self.long_ms[found].1)
    }

    /// The earliest and latest listen's offsets in the month.
    pub fn span(&self) -> (u32, u32) {
        (self.first_at, self.last_at)
    }

    /// Whether its listens are also kept added up; without, a range reads
    /// its listens.
    pub fn has_sums(&self) -> bool {
        self.summed
    }

    /// Whether it holds enough listens for its sums to be kept and does
    /// not keep them yet (see [`Month::start_sums`]).
    pub fn wants_sums(&self) -> bool {
        !self.summed && self.rows.len() >= SUMS_FROM
    }

    /// Starts keeping its sums, from `listens`: every listen it holds, as
    /// counted.
    pub fn start_sums(&mut self, key: MonthKey, listens: &[Counted]) {
        self.summed = true;
        self.add_sums(key, listens);
    }

    /// Adds listens of month `key`, and to its sums if they are kept.
    pub fn add(&mut self, key: MonthKey, listens: &[Counted]) {
        if listens.is_empty() {
            return;
        }
        let start = key.start();
        super::growth::reserve(&mut self.rows, listens.len());
        for listen in listens {
            let at = (listen.at - start) as u32;
            if self.rows.is_empty() {
                (self.first_at, self.last_at) = (at, at);
            } else {
                self.first_at = self.first_at.min(at);
                self.last_at = self.last_at.max(at);
            }
            let ms = match u32::try_from(listen.ms) {
                Ok(ms) if ms != LONG => ms,
                _ => {
                    self.long_ms.push((self.rows.len() as u32, listen.ms));
                    LONG
                }
            };
            self.rows.push(Row {
                at,
                naming: listen.naming,
                ms,
                context: listen.context,
            });
        }
        if self.summed {
            self.add_sums(key, listens);
        }
    }

    /// Merges listens of month `key` into its sums, once however many.
    fn add_sums(&mut self, key: MonthKey, listens: &[Counted]) {
        let start = key.start();
        let mut songs = Vec::with_capacity(listens.len());
        let mut quarters = Vec::with_capacity(listens.len());
        let mut contexts = Vec::with_capacity(listens.len());
        for listen in listens {
            let at = (listen.at - start) as u32;
            songs.push(SongSum {
                ms_played: listen.ms,
                song: listen.song,
                plays: 1,
                skips: u32::from(listen.skipped),
            });
            quarters.push(QuarterSum {
                ms_played: listen.ms,
                quarter: (i64::from(at) / QUARTER_MS) as u32,
                plays: 1,
            });
            contexts.push((listen.context, 1));
        }
        merge_sorted(&mut self.songs, summed(songs));
        merge_sorted(&mut self.quarters, summed(quarters));
        merge_sorted(&mut self.contexts, summed(contexts));
    }
}

/// What a sorted sum is kept in order of, and how two entries of the same key add up.
trait Keyed: Copy {
    fn key(&self) -> u32;
    fn add(&mut self, other: &Self);
}

impl Keyed for SongSum {
    fn key(&self) -> u32 {
        self.song
    }
    fn add(&mut self, other: &Self) {
        self.plays = self.plays.saturating_add(other.plays);
        self.ms_played = self.ms_played.saturating_add(other.ms_played);
        self.skips = self.skips.saturating_add(other.skips);
    }
}

impl Keyed for QuarterSum {
    fn key(&self) -> u32 {
        self.quarter
    }
    fn add(&mut self, other: &Self) {
        self.plays = self.plays.saturating_add(other.plays);
        self.ms_played = self.ms_played.saturating_add(other.ms_played);
    }
}

impl Keyed for (u32, u32) {
    fn key(&self) -> u32 {
        self.0
    }
    fn add(&mut self, other: &Self) {
        self.1 = self.1.saturating_add(other.1);
    }
}

/// Entries sorted by key, each key once.
fn summed<T: Keyed>(mut items: Vec<T>) -> Vec<T> {
    items.sort_unstable_by_key(T::key);
    let mut sums: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        match sums.last_mut() {
            Some(last) if last.key() == item.key() => last.add(&item),
            _ => sums.push(item),
        }
    }
    sums
}

/// Adds `other` into `into`, both sorted by key, in one pass, sized
/// exactly (these are most of the sums held).
fn merge_sorted<T: Keyed>(into: &mut Vec<T>, other: Vec<T>) {
    if other.is_empty() {
        return;
    }
    if into.is_empty() {
        *into = other;
        return;
    }
    let distinct = {
        let (mut i, mut j, mut shared) = (0, 0, 0);
        while i < into.len() && j < other.len() {
            match into[i].key().cmp(&other[j].key()) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        into.len() + other.len() - shared
    };
    let mut merged = Vec::with_capacity(distinct);
    let (mut i, mut j) = (0, 0);
    while i < into.len() && j < other.len() {
        let (mine, theirs) = (into[i], other[j]);
        match mine.key().cmp(&theirs.key()) {
            std::cmp::Ordering::Less => {
                merged.push(mine);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                merged.push(theirs);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let mut sum = mine;
                sum.add(&theirs);
                merged.push(sum);
                i += 1;
                j += 1;
            }
        }
    }
    merged.extend_from_slice(&into[i..]);
    merged.extend_from_slice(&other[j..]);
    *into = merged;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ts: &str) -> Millis {
        ts.parse::<DateTime<Utc>>().unwrap().timestamp_millis()
    }

    fn counted(ts: &str, song: u32, ms: u64, skipped: bool) -> Counted {
        Counted {
            at: at(ts),
            naming: song,
            song,
            ms,
            context: u32::from(skipped),
            skipped,
        }
    }

    #[test]
    fn a_month_is_found_from_any_instant_in_it() {
        let key = MonthKey::of(at("2024-02-29T23:59:59.999Z"));
        assert_eq!(key.first_day().to_string(), "2024-02-01");
        assert_eq!(key.next().first_day().to_string(), "2024-03-01");
        assert_eq!(key.start(), at("2024-02-01T00:00:00Z"));
        assert_eq!(
            MonthKey::of(at("1969-12-31T23:00:00Z"))
                .first_day()
                .to_string(),
            "1969-12-01"
        );
        assert_eq!(
            MonthKey(2023 * 12 + 11).next().first_day().to_string(),
            "2024-01-01"
        );
    }

    #[test]
    fn sums_added_in_parts_equal_sums_added_at_once() {
        let listens: Vec<Counted> = (0..60u32)
            .map(|i| {
                let mut listen = counted(
                    "2024-03-01T00:00:00Z",
                    i % 7,
                    1000 * u64::from(i),
                    i % 4 == 0,
                );
                listen.at += i64::from(i) * 7_777_000;
                listen
            })
            .collect();
        let key = MonthKey::of(listens[0].at);
        let mut unsummed = Month::default();
        unsummed.add(key, &listens);
        assert!(
            !unsummed.has_sums() && !unsummed.wants_sums(),
            "60 < {SUMS_FROM}"
        );
        assert!(unsummed.songs().is_empty() && unsummed.quarters().is_empty());
        let mut at_once = Month::default();
        at_once.add(key, &listens);
        at_once.start_sums(key, &listens);
        // Sums started part of the way, then kept as listens come.
        let mut in_parts = Month::default();
        in_parts.add(key, &listens[..20]);
        in_parts.start_sums(key, &listens[..20]);
        for chunk in listens[20..].chunks(9) {
            in_parts.add(key, chunk);
        }
        assert_eq!(in_parts, at_once);
        assert_eq!(unsummed.rows(), at_once.rows());
        assert_eq!(at_once.songs().len(), 7);
        assert!(at_once.songs().windows(2).all(|w| w[0].song < w[1].song));
        let plays: u32 = at_once.songs().iter().map(|s| s.plays).sum();
        assert_eq!(plays, 60);
        let quarter_plays: u32 = at_once.quarters().iter().map(|q| q.plays).sum();
        assert_eq!(quarter_plays, 60);
        // Listens 7,777 s apart: each in a quarter of its own, the last
        // in March's last day.
        assert_eq!(at_once.quarters().len(), 60, "only quarters with listens");
        assert!(at_once
            .quarters()
            .windows(2)
            .all(|w| w[0].quarter < w[1].quarter));
        let last = 59 * 7_777_000 / QUARTER_MS as u32;
        assert_eq!(at_once.quarters()[59].quarter, last);
        assert!(last < 31 * 96);
        assert_eq!(at_once.contexts(), &[(0, 45), (1, 15)]);
        assert_eq!(at_once.span(), (0, 59 * 7_777_000));
    }

    #[test]
    fn a_listening_time_too_long_for_32_bits_is_kept_exactly() {
        let mut month = Month::default();
        let long = u64::from(u32::MAX) + 5;
        let key = MonthKey::of(at("2024-03-01T00:00:00Z"));
        let listens = [
            counted("2024-03-02T00:00:00Z", 0, 10, false),
            counted("2024-03-02T00:00:01Z", 0, long, false),
            counted("2024-03-02T00:00:02Z", 1, u64::from(u32::MAX), false),
        ];
        month.add(key, &listens);
        month.start_sums(key, &listens);
        assert_eq!(month.ms_of(0), 10);
        assert_eq!(month.ms_of(1), long);
        assert_eq!(month.ms_of(2), u64::from(u32::MAX));
        assert_eq!(month.songs()[0].ms_played, long + 10);
    }
}
