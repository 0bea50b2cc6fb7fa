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

/// One month's chart, best first by plays, then time: each place, and the
/// song or artist number at it. Ties stay in number order: their names
/// decide, compared when asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthChart {
    places: Vec<Place>,
    ids: Vec<u32>,
}

/// What a chart orders by: more plays, then more time, is ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    plays: u64,
    ms_played: u64,
}

impl Place {
    fn of(counts: &Counts) -> Self {
        Self {
            plays: u64::try_from(counts.plays).unwrap_or(0),
            ms_played: u64::try_from(counts.ms_played).unwrap_or(0),
        }
    }
}

impl MonthChart {
    /// The chart of `sums` (numbers with what they add up to, each once).
    pub fn of(sums: impl Iterator<Item = (u32, Counts)>) -> Self {
        let mut entries: Vec<(Place, u32)> = sums
            .filter(|(_, counts)| counts.plays > 0)
            .map(|(id, counts)| (Place::of(&counts), id))
            .collect();
        entries.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let (places, ids) = entries.into_iter().unzip();
        Self { places, ids }
    }

    /// How many are ahead of `counts` by plays and time, and the numbers
    /// tied with it on both (its own among them when it is charted).
    pub fn around(&self, counts: &Counts) -> (usize, &[u32]) {
        let own = Place::of(counts);
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

/// The artist each song shows, by song number.
#[derive(Debug)]
pub struct ArtistsOf(Vec<u32>);

/// Marks a song without listens yet.
const NO_ARTIST: u32 = u32::MAX;

impl ArtistsOf {
    /// The artist song number `song` shows; none for a song not played.
    pub fn of(&self, song: u32) -> Option<u32> {
        self.0
            .get(song as usize)
            .copied()
            .filter(|&artist| artist != NO_ARTIST)
    }

    /// Whether a song played before shows another artist now.
    fn any_changed_since(&self, before: &ArtistsOf) -> bool {
        (before.0.iter())
            .zip(&self.0)
            .any(|(&before, &now)| before != NO_ARTIST && before != now)
    }
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
    /// The artist each song showed (a newer listen can name another).
    artists: ArtistsOf,
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
    pub(crate) fn read_charts<T>(
        &self,
        zone: Zone,
        bring_up: impl FnOnce(&mut Charts, &[MonthKey], &ArtistsOf),
        read: impl FnOnce(&Charts) -> T,
    ) -> T {
        let mut kept = self.charts.lock();
        // The zone read last is kept last, the one read longest ago first.
        let reused = (kept.iter().position(|charts| charts.zone == zone)).map(|at| kept.remove(at));
        let mut zone_charts = match reused {
            Some(charts) => charts,
            None => {
                if kept.len() >= ZONES_KEPT {
                    kept.remove(0);
                }
                ZoneCharts {
                    zone,
                    version: 0,
                    listens_seen: BTreeMap::new(),
                    artists: ArtistsOf(Vec::new()),
                    charts: Charts::default(),
                }
            }
        };
        if zone_charts.version != self.version {
            self.bring_up_to_date(&mut zone_charts, bring_up);
        }
        let answer = read(&zone_charts.charts);
        kept.push(zone_charts);
        answer
    }

    /// Hands `kept` to `bring_up` with what changed since it was last.
    fn bring_up_to_date(
        &self,
        kept: &mut ZoneCharts,
        bring_up: impl FnOnce(&mut Charts, &[MonthKey], &ArtistsOf),
    ) {
        let artists = ArtistsOf(
            (self.shown_groups().iter())
                .map(|groups| groups.shown().map_or(NO_ARTIST, |shown| shown.artist))
                .collect(),
        );
        let renamed = artists.any_changed_since(&kept.artists);
        let seen = &kept.listens_seen;
        let changed: Vec<MonthKey> = (self.months.iter())
            .filter(|(key, month)| renamed || seen.get(key) != Some(&month.rows().len()))
            .map(|(key, _)| *key)
            .collect();
        if !changed.is_empty() {
            bring_up(&mut kept.charts, &changed, &artists);
            kept.artists = artists;
            kept.listens_seen = (self.months.iter())
                .map(|(key, month)| (*key, month.rows().len()))
                .collect();
        }
        kept.version = self.version;
    }
}
