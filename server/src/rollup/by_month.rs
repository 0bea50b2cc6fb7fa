//! Each month's listens added up by song, in a person's time zone: a
//! month's kept sums, less the listens of its first and last day that the
//! zone puts in the months beside it, plus theirs; listen by listen for
//! months without sums or cut by a range. What discoveries and rank
//! histories are read from.

use std::collections::BTreeMap;

use app::range::DateRange;
use chrono::{Datelike, NaiveDate};

use super::query::Piece;
use crate::aggregate::months::{Counts, MonthKey};
use crate::aggregate::Aggregates;
use crate::zone::{date_of_day_number, LocalClock, Zone, DAY_MS};

impl Aggregates {
    /// Hands over every month (its first day in `zone`) with listens, in
    /// order, with its plays, time and skips by song number.
    pub(super) fn for_each_month(
        &self,
        zone: Zone,
        mut visit: impl FnMut(NaiveDate, &BTreeMap<u32, Counts>),
    ) {
        // Each month's sums by song, until no later UTC month can add to
        // it (a zone moves a UTC month's listens at most into the months
        // beside it).
        let mut pending: BTreeMap<NaiveDate, BTreeMap<u32, Counts>> = BTreeMap::new();
        for piece in self.pieces(DateRange::ALL_TIME, zone) {
            let key = piece.key();
            // This UTC month's listens are of the local month before it at the earliest.
            let open_from = MonthKey(key.0 - 1).first_day();
            while let Some(entry) = pending.first_entry() {
                if *entry.key() >= open_from {
                    break;
                }
                let (month, by_song) = entry.remove_entry();
                visit(month, &without_empty(by_song));
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
            visit(month, &without_empty(by_song));
        }
    }
}

/// Sums without the songs all of whose listens a zone moved to another month.
fn without_empty(mut by_song: BTreeMap<u32, Counts>) -> BTreeMap<u32, Counts> {
    by_song.retain(|_, counts| counts.plays > 0);
    by_song
}
