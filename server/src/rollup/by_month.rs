//! Each month's listens added up by song, in a person's time zone: a
//! month's kept sums, less the listens of its first and last day that the
//! zone puts in the months beside it, plus theirs; listen by listen for
//! months without sums or cut by a range. What discoveries and rank
//! histories are read from.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::Arc;

use chrono::NaiveDate;

use super::query::Piece;
use crate::aggregate::kept::MovedOut;
use crate::aggregate::months::{Counts, Month, MonthKey};
use crate::aggregate::Aggregates;
use crate::zone::{LocalClock, Zone, DAY_MS};

impl Aggregates {
    /// Hands over every month (its first day in `zone`) with listens of
    /// the UTC months `read`, in order, with its plays, time and skips by
    /// song number (sorted, each song once, none without plays): the months
    /// at its ends without what the months beyond add.
    pub(super) fn for_each_month_in(
        &self,
        zone: Zone,
        read: RangeInclusive<MonthKey>,
        mut visit: impl FnMut(NaiveDate, &[SongCounts]),
    ) {
        // Each month's sums by song, until no later UTC month can add to
        // it (a zone moves a UTC month's listens at most into the months
        // beside it).
        let mut pending: BTreeMap<NaiveDate, Pending> = BTreeMap::new();
        for piece in self.whole_months(read) {
            let key = piece.key();
            // This UTC month's listens are of the local month before it at the earliest.
            let open_from = MonthKey(key.0 - 1).first_day();
            while let Some(entry) = pending.first_entry() {
                if *entry.key() >= open_from {
                    break;
                }
                let (month, sums) = entry.remove_entry();
                visit(month, &sums.settled());
            }
            match piece {
                // The month's sums, less the listens the zone puts in the
                // months beside it (those of its first and last day only).
                Piece::Whole(_, month) => {
                    let mut sums: Vec<SongCounts> = (month.songs().iter())
                        .map(|song| (song.song, song.counts()))
                        .collect();
                    if zone != Zone::UTC {
                        for moved in self.moved_out(key, month, zone).iter() {
                            let song = moved.song;
                            if let Ok(at) = sums.binary_search_by_key(&song, |(song, _)| *song) {
                                sums[at].1.remove(&moved.counts);
                            }
                            let into = pending.entry(moved.month).or_default();
                            into.added.push((song, moved.counts));
                        }
                    }
                    pending
                        .entry(key.first_day())
                        .or_default()
                        .added
                        .extend(sums);
                }
                Piece::Cut(..) => {
                    let mut local = LocalClock::new(zone);
                    for (index, at) in piece.rows() {
                        let month = local.month_of(key.start() + i64::from(at));
                        let listen = self.row_counts(piece.month(), index);
                        pending.entry(month).or_default().added.push(listen);
                    }
                }
            }
        }
        for (month, sums) in pending {
            visit(month, &sums.settled());
        }
    }

    /// The listens of a summed month that `zone` puts in the months beside
    /// it (only those of its first and last UTC day can be), with their
    /// local month: read once per zone and kept until the month takes
    /// listens.
    pub(super) fn moved_out(&self, key: MonthKey, month: &Month, zone: Zone) -> Arc<Vec<MovedOut>> {
        let kept = self.kept_moved_out();
        kept.get(zone, key, month.rows().len(), || {
            let (start, end) = (key.start(), key.next().start());
            let mut local = LocalClock::new(zone);
            let mut moved = Vec::new();
            for (index, row) in month.rows().iter().enumerate() {
                let at = start + i64::from(row.at);
                if at - start >= DAY_MS && end - at > DAY_MS {
                    continue;
                }
                let into = local.month_of(at);
                if into != key.first_day() {
                    let (song, counts) = self.row_counts(month, index);
                    moved.push(MovedOut {
                        month: into,
                        song,
                        counts,
                    });
                }
            }
            moved
        })
    }
}

/// A song's number and what its listens add up to.
pub(super) type SongCounts = (u32, Counts);

/// What a month has gathered so far: a summed month's songs (in order)
/// and single listens moved or read into it (in any order).
#[derive(Default)]
struct Pending {
    added: Vec<SongCounts>,
}

impl Pending {
    /// By song number, each song once, without the songs all of whose
    /// listens a zone moved to another month. A summed month's songs are
    /// one sorted run: the stable sort merges the few others into it.
    fn settled(mut self) -> Vec<SongCounts> {
        self.added.sort_by_key(|(song, _)| *song);
        self.added.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1.add(&later.1);
            }
            same
        });
        self.added.retain(|(_, counts)| counts.plays > 0);
        self.added
    }
}
