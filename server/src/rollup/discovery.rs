//! Discovery over time: what each month (in the person's zone) brought that was never heard
//! before (songs, artists) and how much of its listening went to it. The
//! months are read in order, each song's and artist's first month found
//! once; a month's plays of a song first heard in it all count as new.

use std::collections::BTreeMap;

use app::range::DateRange;
use app::stories::DiscoveryMonth;
use chrono::{Datelike, NaiveDate};

use super::query::Piece;
use crate::aggregate::months::{Counts, MonthKey};
use crate::aggregate::Aggregates;
use crate::zone::{date_of_day_number, LocalClock, Zone, DAY_MS};

impl Aggregates {
    /// Every month (in `zone`) with listens, in order, with what it discovered.
    pub fn discoveries(&self, zone: Zone) -> Vec<DiscoveryMonth> {
        let mut heard_song = vec![false; self.songs().len()];
        let mut heard_artist = vec![false; self.catalog().artists().len()];
        let mut months = Vec::new();
        // Each month's sums by song, until no later UTC month can add to
        // it (a zone moves a UTC month's listens at most into the months
        // beside it).
        let mut pending: BTreeMap<NaiveDate, BTreeMap<u32, Counts>> = BTreeMap::new();
        let mut discover = |month: NaiveDate, by_song: BTreeMap<u32, Counts>| {
            let mut found = DiscoveryMonth::empty(month);
            for (song, counts) in by_song {
                // Every listen of it moved to a month beside this one.
                if counts.plays == 0 {
                    continue;
                }
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
                let artist = self.song_artist(song as usize) as usize;
                if heard_artist
                    .get_mut(artist)
                    .is_some_and(|heard| !std::mem::replace(heard, true))
                {
                    found.new_artists += 1;
                }
            }
            if found.plays > 0 {
                months.push(found);
            }
        };
        for piece in self.pieces(DateRange::ALL_TIME, zone) {
            let key = piece.key();
            // This UTC month's listens are of the local month before it at the earliest.
            let open_from = MonthKey(key.0 - 1).first_day();
            while let Some(entry) = pending.first_entry() {
                if *entry.key() >= open_from {
                    break;
                }
                let (month, by_song) = entry.remove_entry();
                discover(month, by_song);
            }
            match piece {
                // The month's sums, less the listens the zone puts in the
                // months beside it (those of its first and last day only).
                Piece::Whole(_, month) => {
                    let by_song = pending.entry(key.first_day()).or_default();
                    for song in month.songs() {
                        by_song.entry(song.song).or_default().add(&song.counts());
                    }
                    if zone == Zone::UTC {
                        continue;
                    }
                    let (start, end) = (key.start(), key.next().start());
                    let mut local = LocalClock::new(zone);
                    let mut moved = Vec::new();
                    for (index, at) in piece.rows() {
                        let at = start + i64::from(at);
                        if at - start >= DAY_MS && end - at > DAY_MS {
                            continue;
                        }
                        let day = date_of_day_number(local.day_number(at));
                        let month = day.with_day(1).unwrap_or(day);
                        if month != key.first_day() {
                            moved.push((month, self.row_counts(piece.month(), index)));
                        }
                    }
                    for (month, (song, counts)) in moved {
                        let from = pending.entry(key.first_day()).or_default();
                        if let Some(sum) = from.get_mut(&song) {
                            sum.remove(&counts);
                        }
                        let into = pending.entry(month).or_default();
                        into.entry(song).or_default().add(&counts);
                    }
                }
                Piece::Cut(..) => {
                    let mut local = LocalClock::new(zone);
                    for (index, at) in piece.rows() {
                        let (song, counts) = self.row_counts(piece.month(), index);
                        let day = date_of_day_number(local.day_number(key.start() + i64::from(at)));
                        let month = day.with_day(1).unwrap_or(day);
                        let by_song = pending.entry(month).or_default();
                        by_song.entry(song).or_default().add(&counts);
                    }
                }
            }
        }
        for (month, by_song) in pending {
            discover(month, by_song);
        }
        months
    }
}
