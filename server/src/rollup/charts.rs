//! Adds up the charts kept with the figures ([`crate::aggregate::charts`])
//! for the periods whose listens changed: each week's number ones, read
//! from the listens of the months the week can draw on, and each month's
//! chart of songs and of artists, from its sums ([`super::by_month`]).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use super::sums::Sums;
use crate::aggregate::charts::{ArtistsOf, Charts, MonthChart, WeekTop};
use crate::aggregate::months::{Counts, MonthKey};
use crate::aggregate::{by_plays, Aggregates};
use crate::zone::{weekday_of_day_number, LocalClock, Zone, DAY_MS};

impl Aggregates {
    /// Reads the charts of `zone`, brought up to date.
    pub(super) fn with_charts<T>(&self, zone: Zone, read: impl FnOnce(&Charts) -> T) -> T {
        self.read_charts(
            zone,
            |charts, changed, artists| {
                self.add_up_weeks(charts, zone, changed, artists);
                self.add_up_months(charts, zone, changed, artists);
            },
            read,
        )
    }

    /// Adds up again the weeks a changed month can reach (a zone puts a
    /// month's listens at most a day before or after it).
    fn add_up_weeks(
        &self,
        charts: &mut Charts,
        zone: Zone,
        changed: &[MonthKey],
        artists: &ArtistsOf,
    ) {
        let mut weeks = BTreeSet::new();
        for key in changed {
            let first = key.start().div_euclid(DAY_MS) - 1;
            let last = key.next().start().div_euclid(DAY_MS);
            weeks.extend((monday_of(first)..=monday_of(last)).step_by(7));
        }
        charts.weeks.retain(|monday, _| !weeks.contains(monday));
        charts.weeks.extend(self.week_tops(zone, &weeks, artists));
    }

    /// The tops of `weeks` (by Monday) that have listens: the months they
    /// can draw on read in order, each week added up once its last month is.
    fn week_tops(
        &self,
        zone: Zone,
        weeks: &BTreeSet<i64>,
        artists: &ArtistsOf,
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
            let span = months_of(monday);
            months.extend((span.start().0..=span.end().0).map(MonthKey));
        }
        let mut songs = Sums::zeroed(self.songs().len());
        let mut by_artist = Sums::zeroed_for_groups(self.catalog().artists().len());
        let mut open: BTreeMap<i64, Vec<(u32, u64)>> = BTreeMap::new();
        let mut tops = Vec::new();
        let mut local = LocalClock::new(zone);
        for key in months {
            if let Some(month) = self.months().get(&key) {
                let start = key.start();
                for (index, row) in month.rows().iter().enumerate() {
                    let monday = monday_of(local.day_number(start + i64::from(row.at)));
                    let slot = (monday - first).div_euclid(7);
                    if usize::try_from(slot).is_ok_and(|slot| wanted.get(slot) == Some(&true)) {
                        let song = self.catalog().naming(row.naming).song;
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
                    if let Some(artist) = artists.of(song) {
                        by_artist.add(artist, &counts);
                    }
                }
                let top = WeekTop {
                    songs: take_tops(&mut songs),
                    artists: take_tops(&mut by_artist),
                };
                tops.push((monday, top));
            }
        }
        tops
    }

    /// Adds up again the charts of the months (in `zone`) a changed UTC
    /// month can reach: the one before, its own and the one after.
    fn add_up_months(
        &self,
        charts: &mut Charts,
        zone: Zone,
        changed: &[MonthKey],
        artists: &ArtistsOf,
    ) {
        let reached: BTreeSet<MonthKey> = (changed.iter())
            .flat_map(|key| [MonthKey(key.0 - 1), *key, key.next()])
            .collect();
        for key in &reached {
            charts.song_months.remove(&key.first_day());
            charts.artist_months.remove(&key.first_day());
        }
        let mut by_artist = Sums::zeroed_for_groups(self.catalog().artists().len());
        // Each run of months reached is read apart (an old listen imported
        // with today's does not read every month between), with the UTC
        // months beside it: the months at its ends are handed over without
        // them, and are not kept.
        for run in runs(&reached) {
            let read = MonthKey(run.start().0 - 1)..=MonthKey(run.end().0 + 1);
            self.for_each_month_in(zone, read, |month, by_song| {
                if !(run.start().first_day()..=run.end().first_day()).contains(&month) {
                    return;
                }
                for (song, counts) in by_song {
                    if let Some(artist) = artists.of(*song) {
                        by_artist.add(artist, counts);
                    }
                }
                let of_artists = MonthChart::of(by_artist.listed().map(|(id, c)| (id as u32, *c)));
                by_artist.clear();
                charts.artist_months.insert(month, of_artists);
                charts
                    .song_months
                    .insert(month, MonthChart::of(by_song.iter().copied()));
            });
        }
    }
}

/// The runs of consecutive months in `months`.
fn runs(months: &BTreeSet<MonthKey>) -> Vec<RangeInclusive<MonthKey>> {
    let mut runs: Vec<RangeInclusive<MonthKey>> = Vec::new();
    for &key in months {
        match runs.last_mut() {
            Some(run) if run.end().next() == key => *run = *run.start()..=key,
            _ => runs.push(key..=key),
        }
    }
    runs
}

/// The day number of the Monday of `day`'s week.
fn monday_of(day: i64) -> i64 {
    day - i64::from(weekday_of_day_number(day))
}

/// The numbers of `sums` with the most plays, then time (all of them when
/// tied), in order; empties the sums for the next period.
fn take_tops(sums: &mut Sums) -> Vec<u32> {
    let mut tops: Vec<u32> = Vec::new();
    for (id, counts) in sums.listed() {
        match tops
            .first()
            .map(|&top| by_plays(counts, &sums[top as usize]))
        {
            Some(Ordering::Greater) => {}
            Some(Ordering::Equal) => tops.push(id as u32),
            _ => tops = vec![id as u32],
        }
    }
    tops.sort_unstable();
    sums.clear();
    tops
}
