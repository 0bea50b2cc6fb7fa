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
        // The setting read last is kept last, the one read longest ago first.
        let reused =
            (kept.iter().position(|kept| kept.setting == setting)).map(|at| kept.remove(at));
        let mut mine = reused.unwrap_or_else(|| {
            if kept.len() >= SETTINGS_KEPT {
                kept.remove(0);
            }
            ForSetting {
                setting,
                months: BTreeMap::new(),
            }
        });
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
