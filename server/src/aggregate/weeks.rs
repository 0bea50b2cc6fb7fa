//! Each week's number one, song and artist, in a time zone: what a rank
//! history counts weeks at number one from. Kept with the figures for the
//! zones asked about, and brought up to date when read: only the weeks a
//! month that took listens since can reach are added up again, so a song
//! page reads a few hundred weeks instead of every listen.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use super::months::{Counts, MonthKey};
use super::{by_plays, Aggregates};
use crate::zone::{weekday_of_day_number, LocalClock, Zone, DAY_MS};

/// A week's number ones: the songs and the artists with its most plays,
/// then listening time. More than one when tied on both: their names
/// decide, compared when asked (a song's shown name can change).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeekTop {
    pub songs: Vec<u32>,
    pub artists: Vec<u32>,
}

/// Weeks by the day number of their Monday.
pub type WeekTops = BTreeMap<i64, WeekTop>;

/// The week tops of one zone, and what they were added up from.
#[derive(Debug, Clone)]
struct ZoneWeeks {
    zone: Zone,
    /// How many listens each month held: a month's listens only grow
    /// (a clean-up counts everything again into new figures, without these).
    listens_seen: BTreeMap<MonthKey, usize>,
    /// The artist each song showed, `u32::MAX` before its first listen (a
    /// newer listen can name another).
    artist_of_song: Vec<u32>,
    weeks: WeekTops,
}

/// The zones whose week tops are kept (the person's own, mostly).
const ZONES_KEPT: usize = 4;

/// Week tops kept with the figures; a clone keeps a copy.
#[derive(Debug, Default)]
pub struct KeptWeeks(Mutex<Vec<ZoneWeeks>>);

impl Clone for KeptWeeks {
    fn clone(&self) -> Self {
        Self(Mutex::new(self.lock().clone()))
    }
}

impl KeptWeeks {
    fn lock(&self) -> MutexGuard<'_, Vec<ZoneWeeks>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Aggregates {
    /// Reads each week's number ones in `zone`, first adding up again the
    /// weeks whose listens changed since they were last read.
    pub fn read_week_tops<T>(&self, zone: Zone, read: impl FnOnce(&WeekTops) -> T) -> T {
        let mut kept = self.week_tops.lock();
        let at = match kept.iter().position(|weeks| weeks.zone == zone) {
            Some(at) => at,
            None => {
                if kept.len() >= ZONES_KEPT {
                    kept.remove(0);
                }
                kept.push(ZoneWeeks {
                    zone,
                    listens_seen: BTreeMap::new(),
                    artist_of_song: Vec::new(),
                    weeks: WeekTops::new(),
                });
                kept.len() - 1
            }
        };
        self.bring_up_to_date(&mut kept[at]);
        read(&kept[at].weeks)
    }

    fn bring_up_to_date(&self, kept: &mut ZoneWeeks) {
        let artist_of_song: Vec<u32> = (self.songs.iter())
            .map(|song| match song.is_counted() {
                true => self.catalog.naming(song.naming).artist,
                false => u32::MAX,
            })
            .collect();
        let renamed = (kept.artist_of_song.iter())
            .zip(&artist_of_song)
            .any(|(&before, &now)| before != u32::MAX && before != now);
        let changed: Vec<MonthKey> = (self.months.iter())
            .filter(|(key, month)| {
                renamed || kept.listens_seen.get(key) != Some(&month.rows().len())
            })
            .map(|(key, _)| *key)
            .collect();
        if changed.is_empty() {
            return;
        }
        // A zone puts a month's listens at most a day before or after it.
        let mut weeks = BTreeSet::new();
        for key in changed {
            let first = key.start().div_euclid(DAY_MS) - 1;
            let last = key.next().start().div_euclid(DAY_MS);
            weeks.extend((monday_of(first)..=monday_of(last)).step_by(7));
        }
        kept.weeks.retain(|monday, _| !weeks.contains(monday));
        kept.weeks
            .extend(self.add_up_weeks(kept.zone, &weeks, &artist_of_song));
        kept.artist_of_song = artist_of_song;
        kept.listens_seen = (self.months.iter())
            .map(|(key, month)| (*key, month.rows().len()))
            .collect();
    }

    /// The tops of `weeks` (by Monday) that have listens: the months they
    /// can draw on read in order, each week added up once its last month is.
    fn add_up_weeks(
        &self,
        zone: Zone,
        weeks: &BTreeSet<i64>,
        artist_of_song: &[u32],
    ) -> Vec<(i64, WeekTop)> {
        let (Some(&first), Some(&last)) = (weeks.first(), weeks.last()) else {
            return Vec::new();
        };
        // The UTC months a local week's listens can be in.
        let months_of = |monday: i64| {
            MonthKey::of((monday - 1) * DAY_MS)..=MonthKey::of((monday + 8) * DAY_MS - 1)
        };
        let mut wanted = vec![false; ((last - first) / 7 + 1) as usize];
        let mut months = BTreeSet::new();
        for &monday in weeks {
            wanted[((monday - first) / 7) as usize] = true;
            months.extend((months_of(monday).start().0..=months_of(monday).end().0).map(MonthKey));
        }
        let mut songs = DenseSums::new(self.songs.len());
        let mut artists = DenseSums::new(self.artists.len());
        let mut open: BTreeMap<i64, Vec<(u32, u64)>> = BTreeMap::new();
        let mut tops = Vec::new();
        let mut local = LocalClock::new(zone);
        for key in months {
            if let Some(month) = self.months.get(&key) {
                let start = key.start();
                for (index, row) in month.rows().iter().enumerate() {
                    let monday = monday_of(local.day_number(start + i64::from(row.at)));
                    let slot = (monday - first).div_euclid(7);
                    if usize::try_from(slot).is_ok_and(|slot| wanted.get(slot) == Some(&true)) {
                        let song = self.catalog.naming(row.naming).song;
                        open.entry(monday)
                            .or_default()
                            .push((song, month.ms_of(index)));
                    }
                }
            }
            // Weeks whose every month is read are complete.
            while let Some(entry) = open.first_entry() {
                if *months_of(*entry.key()).end() > key {
                    break;
                }
                let (monday, listens) = entry.remove_entry();
                for (song, ms) in listens {
                    let counts = Counts::one(ms, false);
                    songs.add(song, &counts);
                    artists.add(artist_of_song[song as usize], &counts);
                }
                let top = WeekTop {
                    songs: songs.take_tops(),
                    artists: artists.take_tops(),
                };
                tops.push((monday, top));
            }
        }
        tops
    }
}

/// The day number of the Monday of `day`'s week.
fn monday_of(day: i64) -> i64 {
    day - i64::from(weekday_of_day_number(day))
}

/// Sums by number, added up one period at a time: one vector emptied
/// after each period, so adding a listen is an index, not a hash.
pub struct DenseSums {
    sums: Vec<Counts>,
    /// The numbers with plays in this period.
    touched: Vec<u32>,
}

impl DenseSums {
    pub fn new(len: usize) -> Self {
        Self {
            sums: vec![Counts::default(); len],
            touched: Vec::new(),
        }
    }

    /// Adds listens counted to `id` (each has a play); ignores a number out of range.
    pub fn add(&mut self, id: u32, counts: &Counts) {
        let Some(sum) = self.sums.get_mut(id as usize) else {
            return;
        };
        if sum.plays == 0 {
            self.touched.push(id);
        }
        sum.add(counts);
    }

    /// What `id` adds up to in this period.
    pub fn get(&self, id: u32) -> Option<&Counts> {
        self.sums.get(id as usize)
    }

    /// The numbers with plays in this period, with their sums.
    pub fn touched(&self) -> impl Iterator<Item = (u32, &Counts)> {
        (self.touched.iter()).map(|&id| (id, &self.sums[id as usize]))
    }

    /// Empties the sums for the next period.
    pub fn clear(&mut self) {
        for id in self.touched.drain(..) {
            self.sums[id as usize] = Counts::default();
        }
    }

    /// The numbers with the most plays, then time (all of them when tied),
    /// in order; empties the sums.
    fn take_tops(&mut self) -> Vec<u32> {
        let mut tops: Vec<u32> = Vec::new();
        for (id, counts) in self.touched() {
            match tops
                .first()
                .map(|&top| by_plays(counts, &self.sums[top as usize]))
            {
                Some(std::cmp::Ordering::Greater) => {}
                Some(std::cmp::Ordering::Equal) => tops.push(id),
                _ => tops = vec![id],
            }
        }
        tops.sort_unstable();
        self.clear();
        tops
    }
}
