//! Charts kept with the figures, for the zones asked about: each week's
//! number ones and each month's chart, of songs and of artists, what rank
//! histories read. Computed in [`crate::rollup`]; kept here with what they
//! were added up from, so that only the periods of the months that took
//! listens since are added up again.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use chrono::NaiveDate;

use super::months::{Counts, MonthKey};
use super::Aggregates;
use crate::zone::Zone;

/// A week's number ones: the songs and the artists with its most plays,
/// then listening time. More than one when tied on both: their names
/// decide, compared when asked (a song's shown name can change).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeekTop {
    pub songs: Vec<u32>,
    pub artists: Vec<u32>,
}

/// One month's chart, best first by plays, then time: each place's plays
/// and time, and the song or artist number at it. Ties stay in number
/// order: their names decide, compared when asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthChart {
    places: Vec<(u64, u64)>,
    ids: Vec<u32>,
}

/// Plays and time as a chart orders them: more is ahead.
fn place(counts: &Counts) -> (u64, u64) {
    let plays = u64::try_from(counts.plays).unwrap_or(0);
    (plays, u64::try_from(counts.ms_played).unwrap_or(0))
}

impl MonthChart {
    /// The chart of `sums` (numbers with what they add up to, each once).
    pub fn of(sums: impl Iterator<Item = (u32, Counts)>) -> Self {
        let mut entries: Vec<((u64, u64), u32)> = sums
            .filter(|(_, counts)| counts.plays > 0)
            .map(|(id, counts)| (place(&counts), id))
            .collect();
        entries.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let (places, ids) = entries.into_iter().unzip();
        Self { places, ids }
    }

    /// How many are ahead of `counts` by plays and time, and the numbers
    /// tied with it on both (its own among them when it is charted).
    pub fn around(&self, counts: &Counts) -> (usize, &[u32]) {
        let own = place(counts);
        let ahead = self.places.partition_point(|place| *place > own);
        let tied = self.places[ahead..].partition_point(|place| *place == own);
        (ahead, &self.ids[ahead..ahead + tied])
    }
}

/// The charts of one zone.
#[derive(Debug, Default)]
pub struct Charts {
    /// Weeks by the day number of their Monday.
    pub weeks: BTreeMap<i64, WeekTop>,
    /// Months by their first day.
    pub song_months: BTreeMap<NaiveDate, MonthChart>,
    pub artist_months: BTreeMap<NaiveDate, MonthChart>,
}

/// The charts of one zone, and what they were added up from.
#[derive(Debug)]
struct ZoneCharts {
    zone: Zone,
    /// The version of the figures they were last brought up to date with.
    version: u64,
    /// How many listens each month held: a month's listens only grow (a
    /// clean-up counts everything again into new figures, without these).
    listens_seen: BTreeMap<MonthKey, usize>,
    /// The artist each song showed, `u32::MAX` before its first listen (a
    /// newer listen can name another).
    artist_of_song: Vec<u32>,
    charts: Charts,
}

/// The zones whose charts are kept: the person's own, and the one before
/// while they change it. A zone's charts hold about 20 bytes for each song
/// and artist played in each month (25 MB for a million listens).
const ZONES_KEPT: usize = 2;

/// Charts kept with the figures; a clone starts without (they are added
/// up again when read).
#[derive(Debug, Default)]
pub struct KeptCharts(Mutex<Vec<ZoneCharts>>);

impl Clone for KeptCharts {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl KeptCharts {
    fn lock(&self) -> MutexGuard<'_, Vec<ZoneCharts>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Aggregates {
    /// Reads the charts of `zone` with `read`, first handing them to
    /// `bring_up` with the UTC months whose listens changed since they were
    /// last read (every month when a song shows another artist now) and the
    /// artist each song shows, for it to add those periods up again.
    pub fn read_charts<T>(
        &self,
        zone: Zone,
        bring_up: impl FnOnce(&mut Charts, &[MonthKey], &[u32]),
        read: impl FnOnce(&Charts) -> T,
    ) -> T {
        let mut kept = self.charts.lock();
        let at = match kept.iter().position(|charts| charts.zone == zone) {
            Some(at) => at,
            None => {
                if kept.len() >= ZONES_KEPT {
                    kept.remove(0);
                }
                kept.push(ZoneCharts {
                    zone,
                    version: 0,
                    listens_seen: BTreeMap::new(),
                    artist_of_song: Vec::new(),
                    charts: Charts::default(),
                });
                kept.len() - 1
            }
        };
        let zone_charts = &mut kept[at];
        if zone_charts.version == self.version {
            return read(&zone_charts.charts);
        }
        let artist_of_song: Vec<u32> = (self.songs.iter())
            .map(|song| match song.is_counted() {
                true => self.catalog.naming(song.naming).artist,
                false => u32::MAX,
            })
            .collect();
        let renamed = (zone_charts.artist_of_song.iter())
            .zip(&artist_of_song)
            .any(|(&before, &now)| before != u32::MAX && before != now);
        let seen = &zone_charts.listens_seen;
        let changed: Vec<MonthKey> = (self.months.iter())
            .filter(|(key, month)| renamed || seen.get(key) != Some(&month.rows().len()))
            .map(|(key, _)| *key)
            .collect();
        if !changed.is_empty() {
            bring_up(&mut zone_charts.charts, &changed, &artist_of_song);
            zone_charts.artist_of_song = artist_of_song;
            zone_charts.listens_seen = (self.months.iter())
                .map(|(key, month)| (*key, month.rows().len()))
                .collect();
        }
        zone_charts.version = self.version;
        read(&zone_charts.charts)
    }
}
