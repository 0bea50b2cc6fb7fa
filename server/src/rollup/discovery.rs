//! Discovery over time: what each month (in the person's zone) brought
//! that was never heard before (songs, artists) and how much of its
//! listening went to it. The months are read in order, each song's first
//! month found once; a month's plays of a song first heard in it all count
//! as new. An artist is new in the month of its first listen, as the
//! listens named it (what a review of the month counts too): a song can
//! show another artist than its first listens named.

use std::collections::BTreeMap;

use app::stories::DiscoveryMonth;
use chrono::NaiveDate;

use super::by_month::SongCounts;
use crate::aggregate::Aggregates;
use crate::zone::{LocalClock, Zone};

impl Aggregates {
    /// Every month (in `zone`) with listens, in order, with what it discovered.
    pub fn discoveries(&self, zone: Zone) -> Vec<DiscoveryMonth> {
        let mut heard_song = vec![false; self.songs().len()];
        let mut new_artists: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        let mut local = LocalClock::new(zone);
        for (_, tally) in self.artists() {
            *new_artists
                .entry(local.month_of(tally.first_listen))
                .or_default() += 1;
        }
        let mut months = Vec::new();
        let discover = |month: NaiveDate, by_song: &[SongCounts]| {
            let mut found = DiscoveryMonth::empty(month);
            for &(song, counts) in by_song {
                found.plays += counts.plays;
                found.ms_played += counts.ms_played;
                let first_time = heard_song
                    .get_mut(song as usize)
                    .is_some_and(|heard| !std::mem::replace(heard, true));
                if !first_time {
                    continue;
                }
                found.new_songs += 1;
                found.ms_new += counts.ms_played;
            }
            found.new_artists = new_artists.get(&month).copied().unwrap_or(0);
            if found.plays > 0 {
                months.push(found);
            }
        };
        self.for_each_month(zone, discover);
        months
    }
}
