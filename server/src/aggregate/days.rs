//! Rollups by day: what each UTC day of listens adds up to, per song, per
//! hour, per platform, per way a track started and ended. They are part of
//! each partition's aggregates (journaled and checkpointed with them, so
//! counted exactly once), and any time range is answered by adding up the
//! days it covers ([`crate::rollup`]), never by reading listens again.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use chrono::{NaiveDate, Timelike};
use serde::{Deserialize, Serialize};

use crate::event::ListenEvent;

/// Plays, listening time and skips: what every rollup counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "[i64; 3]", into = "[i64; 3]")]
pub struct Counts {
    pub plays: i64,
    pub ms_played: i64,
    pub skips: i64,
}

impl Counts {
    fn of(event: &ListenEvent) -> Self {
        Self {
            plays: 1,
            ms_played: i64::try_from(event.ms_played).unwrap_or(i64::MAX),
            skips: i64::from(event.skipped),
        }
    }

    pub fn add(&mut self, other: &Counts) {
        self.plays += other.plays;
        self.ms_played = self.ms_played.saturating_add(other.ms_played);
        self.skips += other.skips;
    }
}

impl From<[i64; 3]> for Counts {
    fn from([plays, ms_played, skips]: [i64; 3]) -> Self {
        Self {
            plays,
            ms_played,
            skips,
        }
    }
}

impl From<Counts> for [i64; 3] {
    fn from(counts: Counts) -> Self {
        [counts.plays, counts.ms_played, counts.skips]
    }
}

/// One UTC day of one partition's listens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRollup {
    /// By song (track URI).
    pub songs: BTreeMap<String, Counts>,
    /// By hour of the day (UTC), 0 to 23; empty until the first listen.
    pub hours: Vec<Counts>,
    /// Plays by platform as written (`""` when unknown).
    pub platforms: BTreeMap<String, i64>,
    /// Plays in shuffle mode.
    pub shuffled: i64,
    /// Plays by how the track started and ended (`""` when unknown).
    pub reason_start: BTreeMap<String, i64>,
    pub reason_end: BTreeMap<String, i64>,
}

impl DayRollup {
    fn add_listen(&mut self, event: &ListenEvent) {
        let counts = Counts::of(event);
        add_to(&mut self.songs, event.track_uri.as_str(), |song| {
            song.add(&counts)
        });
        self.hours.resize(24, Counts::default());
        self.hours[event.ts.hour() as usize].add(&counts);
        add_to(&mut self.platforms, event.platform.as_str(), |n| *n += 1);
        self.shuffled += i64::from(event.shuffle);
        add_to(&mut self.reason_start, event.reason_start.as_str(), |n| {
            *n += 1
        });
        add_to(&mut self.reason_end, event.reason_end.as_str(), |n| *n += 1);
    }

    pub fn merge(&mut self, other: &DayRollup) {
        for (song, counts) in &other.songs {
            self.songs.entry(song.clone()).or_default().add(counts);
        }
        self.merge_rest(other);
    }

    /// Adds everything of `other` but its songs.
    pub fn merge_rest(&mut self, other: &DayRollup) {
        if !other.hours.is_empty() {
            self.hours.resize(24, Counts::default());
        }
        for (hour, counts) in self.hours.iter_mut().zip(&other.hours) {
            hour.add(counts);
        }
        add_tallies(&mut self.platforms, &other.platforms);
        self.shuffled += other.shuffled;
        add_tallies(&mut self.reason_start, &other.reason_start);
        add_tallies(&mut self.reason_end, &other.reason_end);
    }

    /// A copy of everything but the songs (copying them only to drop them
    /// would copy every URI).
    pub fn without_songs(&self) -> DayRollup {
        DayRollup {
            songs: BTreeMap::new(),
            hours: self.hours.clone(),
            platforms: self.platforms.clone(),
            shuffled: self.shuffled,
            reason_start: self.reason_start.clone(),
            reason_end: self.reason_end.clone(),
        }
    }

    /// All plays of the day.
    pub fn plays(&self) -> i64 {
        self.hours.iter().map(|hour| hour.plays).sum()
    }
}

fn add_tallies(into: &mut BTreeMap<String, i64>, other: &BTreeMap<String, i64>) {
    for (key, count) in other {
        *into.entry(key.clone()).or_default() += count;
    }
}

/// Adds to the value under `key`, copying the key only when it is new: a
/// batch adds to the same songs, days and platforms over and over, and a
/// copy per listen was a good part of counting's time.
pub fn add_to<K, Q, V>(map: &mut BTreeMap<K, V>, key: &Q, add: impl FnOnce(&mut V))
where
    K: Ord + Borrow<Q>,
    Q: Ord + ToOwned<Owned = K> + ?Sized,
    V: Default,
{
    match map.get_mut(key) {
        Some(value) => add(value),
        None => {
            let mut value = V::default();
            add(&mut value);
            map.insert(key.to_owned(), value);
        }
    }
}

/// Rollups by UTC day.
pub type Days = BTreeMap<NaiveDate, DayRollup>;

/// One day's rollup with its songs by number (of a song table kept beside
/// it), sorted by number: 4 bytes a song where a URI costs 40 and more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayIndex {
    pub songs: Vec<(u32, Counts)>,
    /// The rest of the day's rollup, its songs left out.
    pub rest: DayRollup,
}

/// Songs in either of two lists sorted by number.
fn distinct_songs(songs: &[(u32, Counts)], other: &[(u32, Counts)]) -> usize {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < songs.len() && j < other.len() {
        match songs[i].0.cmp(&other[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    songs.len() + other.len() - shared
}

/// Counts by song number, sorted, each song once.
pub fn summed(mut songs: Vec<(u32, Counts)>) -> Vec<(u32, Counts)> {
    songs.sort_unstable_by_key(|(id, _)| *id);
    let mut sums: Vec<(u32, Counts)> = Vec::with_capacity(songs.len());
    for (id, counts) in songs {
        match sums.last_mut() {
            Some((last, sum)) if *last == id => sum.add(&counts),
            _ => sums.push((id, counts)),
        }
    }
    sums
}

/// Adds `other` into `songs`, both sorted by song number, in one pass
/// (after one that counts them: these are most of the memory held, and a
/// vector sized for both would keep the room of every song they share).
pub fn merge_songs(songs: &mut Vec<(u32, Counts)>, other: &[(u32, Counts)]) {
    if other.is_empty() {
        return;
    }
    let mut merged = Vec::with_capacity(distinct_songs(songs, other));
    let (mut i, mut j) = (0, 0);
    while i < songs.len() && j < other.len() {
        let (mine, theirs) = (songs[i], other[j]);
        match mine.0.cmp(&theirs.0) {
            std::cmp::Ordering::Less => {
                merged.push(mine);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                merged.push(theirs);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let mut counts = mine.1;
                counts.add(&theirs.1);
                merged.push((mine.0, counts));
                i += 1;
                j += 1;
            }
        }
    }
    merged.extend_from_slice(&songs[i..]);
    merged.extend_from_slice(&other[j..]);
    *songs = merged;
}

/// Counts one listen in the rollup of its day.
pub fn add_listen(days: &mut Days, event: &ListenEvent) {
    days.entry(event.ts.date_naive())
        .or_default()
        .add_listen(event);
}

/// Adds every day of `other` into `days` (what the compact forms must equal).
#[cfg(test)]
pub fn merge_days(days: &mut Days, other: &Days) {
    for (day, rollup) in other {
        days.entry(*day).or_default().merge(rollup);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_listen;

    #[test]
    fn a_listen_counts_in_its_utc_day_and_hour() {
        let mut days = Days::new();
        let mut late = test_listen("a", "Artist", "2020-04-11T23:59:59Z", 1000, true);
        late.shuffle = true;
        let early = test_listen("a", "Artist", "2020-04-12T00:00:00Z", 500, false);
        add_listen(&mut days, &late);
        add_listen(&mut days, &early);

        let first = &days[&NaiveDate::from_ymd_opt(2020, 4, 11).unwrap()];
        assert_eq!(first.songs[&late.track_uri], Counts::from([1, 1000, 1]));
        assert_eq!(first.hours[23], Counts::from([1, 1000, 1]));
        assert_eq!(first.platforms["android"], 1);
        assert_eq!(first.shuffled, 1);
        let second = &days[&NaiveDate::from_ymd_opt(2020, 4, 12).unwrap()];
        assert_eq!(second.hours[0], Counts::from([1, 500, 0]));
        assert_eq!(second.plays(), 1);
    }

    #[test]
    fn merging_days_equals_counting_all_listens_at_once() {
        let listens: Vec<ListenEvent> = (0..50)
            .map(|i| {
                let mut listen = test_listen(
                    &format!("s{}", i % 7),
                    "A",
                    "2020-04-11T00:00:00Z",
                    1000 * i,
                    i % 4 == 0,
                );
                listen.ts += chrono::Duration::seconds(7_777 * i as i64);
                listen.reason_end = if i % 3 == 0 { "endplay" } else { "trackdone" }.into();
                listen
            })
            .collect();
        let mut at_once = Days::new();
        listens.iter().for_each(|l| add_listen(&mut at_once, l));
        let mut in_parts = Days::new();
        for chunk in listens.chunks(9) {
            let mut part = Days::new();
            chunk.iter().for_each(|l| add_listen(&mut part, l));
            merge_days(&mut in_parts, &part);
        }
        assert_eq!(in_parts, at_once);
    }

    #[test]
    fn merged_songs_are_summed_in_order_and_take_only_their_room() {
        let counts = |plays| Counts::from([plays, plays * 10, 0]);
        let mut songs = vec![(1, counts(1)), (4, counts(2)), (9, counts(3))];
        merge_songs(
            &mut songs,
            &[
                (0, counts(5)),
                (4, counts(1)),
                (9, counts(1)),
                (12, counts(7)),
            ],
        );
        assert_eq!(
            songs,
            vec![
                (0, counts(5)),
                (1, counts(1)),
                (4, counts(3)),
                (9, counts(4)),
                (12, counts(7))
            ]
        );
        assert_eq!(songs.capacity(), 5);
    }

    #[test]
    fn counts_are_written_compactly() {
        let json = serde_json::to_string(&Counts::from([2, 3000, 1])).unwrap();
        assert_eq!(json, "[2,3000,1]");
    }
}
