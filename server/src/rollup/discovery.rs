//! Discovery over time: what each month (in the person's zone) brought
//! that was never heard before (songs, artists) and how much of its
//! listening went to it. A song or an artist is new in the month of its
//! first listen (an artist as the listens named it, what a review of the
//! month counts too: a song can show another artist than its first
//! listens named); a month's plays of a song first heard in it all count
//! as new. So a month's discoveries read only the listens up to its end:
//! they are kept by month, and only those from the month before one that
//! took listens are worked out again.

use std::collections::BTreeMap;

use app::stories::DiscoveryMonth;
use chrono::{Months, NaiveDate};

use crate::aggregate::months::MonthKey;
use crate::aggregate::Aggregates;
use crate::metrics::METRICS;
use crate::zone::{LocalClock, Zone};

impl Aggregates {
    /// Every month (in `zone`) with listens, in order, with what it discovered.
    pub fn discoveries(&self, zone: Zone) -> Vec<DiscoveryMonth> {
        let listens = (self.months().iter())
            .map(|(key, month)| (*key, month.rows().len()))
            .collect();
        self.kept_discoveries()
            .get(zone, listens, |from| self.discoveries_from(zone, from))
    }

    /// The discoveries of the local months from UTC month `from`'s on (of
    /// all when `None`), by their first day.
    fn discoveries_from(
        &self,
        zone: Zone,
        from: Option<MonthKey>,
    ) -> Vec<(NaiveDate, DiscoveryMonth)> {
        METRICS
            .stories_worked_out
            .with_label_values(&["discoveries"])
            .inc();
        let first = from.map_or(NaiveDate::MIN, MonthKey::first_day);
        let mut new_artists: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        let mut local = LocalClock::new(zone);
        for (_, tally) in self.artists() {
            let month = local.month_of(tally.first_listen);
            if month >= first {
                *new_artists.entry(month).or_default() += 1;
            }
        }
        let songs = self.songs();
        let mut months = Vec::new();
        // The local months from `first` on are whole when read from the UTC month before.
        let read = from.map_or(MonthKey(i32::MIN), |from| {
            MonthKey(from.0.saturating_sub(1))
        });
        self.for_each_month_in(zone, read..=MonthKey(i32::MAX), |month, by_song| {
            if month < first {
                return;
            }
            let end = month.checked_add_months(Months::new(1));
            let within = zone.midnight(month)..end.map_or(i64::MAX, |end| zone.midnight(end));
            let mut found = DiscoveryMonth::empty(month);
            for &(song, counts) in by_song {
                found.plays += counts.plays;
                found.ms_played += counts.ms_played;
                let first_heard = songs.get(song as usize).map(|song| song.tally.first_listen);
                if first_heard.is_some_and(|at| within.contains(&at)) {
                    found.new_songs += 1;
                    found.ms_new += counts.ms_played;
                }
            }
            found.new_artists = new_artists.get(&month).copied().unwrap_or(0);
            if found.plays > 0 {
                months.push((month, found));
            }
        });
        months
    }
}
