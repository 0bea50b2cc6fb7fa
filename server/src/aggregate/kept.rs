//! What range questions read from each month, kept with the figures for
//! the few settings asked about (a pause for sessions, a zone for skips
//! and for the listens a zone moves out of a month):
//! a range takes in most months whole, and reads what was worked out of
//! them instead of their listens. Worked out in [`crate::rollup`]; kept
//! here with how many listens each month held, so that only the months
//! that took listens since are worked out again (a month's listens only
//! grow: a clean-up counts everything again into new figures, without
//! these).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::NaiveDate;

use super::months::{Counts, Millis, MonthKey};

/// How many settings each kind is kept for: the person's own and one
/// other asked about.
const SETTINGS_KEPT: usize = 2;

/// Months worked out for settings `S` into `V`; a clone starts without
/// (they are worked out again when read).
#[derive(Debug)]
pub struct KeptMonths<S, V>(Mutex<Vec<ForSetting<S, V>>>);

#[derive(Debug)]
struct ForSetting<S, V> {
    setting: S,
    months: BTreeMap<MonthKey, KeptMonth<V>>,
}

#[derive(Debug)]
struct KeptMonth<V> {
    listens_seen: usize,
    value: Arc<V>,
}

impl<S, V> Default for KeptMonths<S, V> {
    fn default() -> Self {
        Self(Mutex::new(Vec::new()))
    }
}

impl<S, V> Clone for KeptMonths<S, V> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<S: Copy + PartialEq, V> KeptMonths<S, V> {
    fn lock(&self) -> MutexGuard<'_, Vec<ForSetting<S, V>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Month `month` (holding `listens` listens) worked out for `setting`:
    /// as kept, or by `work_out` when it took listens since.
    pub fn get(
        &self,
        setting: S,
        month: MonthKey,
        listens: usize,
        work_out: impl FnOnce() -> V,
    ) -> Arc<V> {
        let mut kept = self.lock();
        let mut mine = take_setting(
            &mut kept,
            |kept| kept.setting == setting,
            || ForSetting {
                setting,
                months: BTreeMap::new(),
            },
        );
        let value = match mine.months.get(&month) {
            Some(kept) if kept.listens_seen == listens => Arc::clone(&kept.value),
            _ => {
                let value = Arc::new(work_out());
                let kept = KeptMonth {
                    listens_seen: listens,
                    value: Arc::clone(&value),
                };
                mine.months.insert(month, kept);
                value
            }
        };
        kept.push(mine);
        value
    }
}

/// Takes the entry `mine` finds out of `kept`, or a new one, making room
/// for it: entries are kept in the order read, so the one read longest ago
/// goes first, and the caller pushes the one it read back last.
fn take_setting<T>(kept: &mut Vec<T>, mine: impl Fn(&T) -> bool, new: impl FnOnce() -> T) -> T {
    match kept.iter().position(mine) {
        Some(at) => kept.remove(at),
        None => {
            if kept.len() >= SETTINGS_KEPT {
                kept.remove(0);
            }
            new()
        }
    }
}

/// A session: instants in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: Millis,
    pub end: Millis,
    pub listens: i64,
    pub ms_played: i64,
}

/// The sessions of a run of listens (a month's, or those of a month a
/// range cuts), in time order, taken alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSessions {
    /// When the run's first listen (the one that ended first) began: a
    /// session of the run before goes on into this one when this is within
    /// the pause of its end.
    pub first_start: Millis,
    pub spans: Vec<Span>,
}

/// Plays and skips.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkipTally {
    pub plays: i64,
    pub skips: i64,
}

impl SkipTally {
    pub fn count(&mut self, skipped: bool) {
        self.plays += 1;
        self.skips += i64::from(skipped);
    }

    pub fn add(&mut self, other: SkipTally) {
        self.plays += other.plays;
        self.skips += other.skips;
    }
}

/// The skips of a run of listens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSkips {
    /// By day number in the zone, in order.
    pub days: Vec<(i64, SkipTally)>,
    /// By context number, in order.
    pub contexts: Vec<(u32, SkipTally)>,
    /// Skips within the first seconds by song number, in order.
    pub early: Vec<(u32, i64)>,
}

/// A listen of a month, summed in UTC, that a zone puts in the local month
/// before or after it (only those of its first and last day can be).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MovedOut {
    /// The first day of the local month it is in.
    pub month: NaiveDate,
    pub song: u32,
    pub counts: Counts,
}

/// What a value worked out of the figures read: how many listens came
/// before an instant (listens only come: a clean-up counts everything
/// again into new figures), and how often songs were named anew (a newer
/// listen can name a song anew, with another artist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub listens_before: usize,
    pub renamings: u64,
}

/// Values worked out for keys `K`, each kept while the figures it read
/// are unchanged (its [`Stamp`]), `KEPT` of them at most (those read
/// longest ago go first); a clone starts without.
#[derive(Debug)]
pub struct KeptByStamp<K, V, const KEPT: usize>(Mutex<Vec<Stamped<K, V>>>);

#[derive(Debug)]
struct Stamped<K, V> {
    key: K,
    stamp: Stamp,
    value: Arc<V>,
}

impl<K, V, const KEPT: usize> Default for KeptByStamp<K, V, KEPT> {
    fn default() -> Self {
        Self(Mutex::new(Vec::new()))
    }
}

impl<K, V, const KEPT: usize> Clone for KeptByStamp<K, V, KEPT> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<K: PartialEq, V, const KEPT: usize> KeptByStamp<K, V, KEPT> {
    /// The value of `key` as kept when its stamp is still `stamp`, or by
    /// `work_out` (which runs without the lock: a slow one holds up no other).
    pub fn get(&self, key: K, stamp: Stamp, work_out: impl FnOnce() -> V) -> Arc<V> {
        let lock = || self.0.lock().unwrap_or_else(|p| p.into_inner());
        {
            let mut kept = lock();
            if let Some(at) = kept.iter().position(|kept| kept.key == key) {
                let found = kept.remove(at);
                if found.stamp == stamp {
                    let value = Arc::clone(&found.value);
                    kept.push(found);
                    return value;
                }
            }
        }
        let value = Arc::new(work_out());
        let mut kept = lock();
        kept.retain(|kept| kept.key != key);
        if kept.len() >= KEPT {
            kept.remove(0);
        }
        kept.push(Stamped {
            key,
            stamp,
            value: Arc::clone(&value),
        });
        value
    }
}

/// Values by local month worked out in time order for settings `S` (a
/// zone), each from the listens of the UTC months up to the one after it:
/// when a month takes listens, the values from the local month before it
/// on are worked out again, the earlier ones kept. A clone starts without.
#[derive(Debug)]
pub struct KeptInOrder<S, V>(Mutex<Vec<InOrder<S, V>>>);

#[derive(Debug)]
struct InOrder<S, V> {
    setting: S,
    /// Each UTC month with listens, and how many it held.
    listens_seen: Vec<(MonthKey, usize)>,
    /// By the first day of their local month, in order.
    values: Vec<(NaiveDate, V)>,
}

impl<S, V> Default for KeptInOrder<S, V> {
    fn default() -> Self {
        Self(Mutex::new(Vec::new()))
    }
}

impl<S, V> Clone for KeptInOrder<S, V> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<S: Copy + PartialEq, V: Clone> KeptInOrder<S, V> {
    /// Every value for `setting` now that the UTC months hold `listens`
    /// (each month with listens, in order, and how many): those kept,
    /// and those `work_out(from)` works out for the local months from
    /// UTC month `from`'s on (`None`: all of them).
    pub fn get(
        &self,
        setting: S,
        listens: Vec<(MonthKey, usize)>,
        work_out: impl FnOnce(Option<MonthKey>) -> Vec<(NaiveDate, V)>,
    ) -> Vec<V> {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut mine = take_setting(
            &mut kept,
            |kept| kept.setting == setting,
            || InOrder {
                setting,
                listens_seen: Vec::new(),
                values: Vec::new(),
            },
        );
        let unchanged = (mine.listens_seen.iter())
            .zip(&listens)
            .take_while(|(seen, now)| seen == now)
            .count();
        // The first UTC month whose listens changed (or that came or went).
        let changed = [mine.listens_seen.get(unchanged), listens.get(unchanged)]
            .into_iter()
            .flatten()
            .map(|(key, _)| *key)
            .min();
        if let Some(changed) = changed {
            // A local month reads the UTC months up to the one after it.
            let from = (!mine.values.is_empty()).then(|| MonthKey(changed.0.saturating_sub(1)));
            let keep_before = from.map_or(NaiveDate::MIN, MonthKey::first_day);
            mine.values.retain(|(month, _)| *month < keep_before);
            mine.values.extend(work_out(from));
            mine.listens_seen = listens;
        }
        let values = mine.values.iter().map(|(_, value)| value.clone()).collect();
        kept.push(mine);
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_read_is_taken_out_and_a_new_one_pushes_out_the_one_read_longest_ago() {
        let mut kept = vec!["a", "b"];
        assert_eq!(take_setting(&mut kept, |k| *k == "a", || "new"), "a");
        assert_eq!(kept, ["b"], "taken out, for the caller to push back last");
        kept.push("a");
        assert_eq!(take_setting(&mut kept, |k| *k == "c", || "c"), "c");
        assert_eq!(kept, ["a"], "b, read longest ago, made room");
        kept.push("c");
        assert_eq!(take_setting(&mut kept, |k| *k == "d", || "d"), "d");
        assert_eq!(kept, ["c"]);
    }
}
