//! Discovery over time: what each month brought that was never heard
//! before (songs, artists) and how much of its listening went to it. The
//! months are read in order, each song's and artist's first month found
//! once; a month's plays of a song first heard in it all count as new.

use std::collections::BTreeMap;

use app::range::DateRange;
use app::stories::DiscoveryMonth;

use super::query::Piece;
use crate::aggregate::months::Counts;
use crate::aggregate::Aggregates;

impl Aggregates {
    /// Every month with listens, in order, with what it discovered.
    pub fn discoveries(&self) -> Vec<DiscoveryMonth> {
        let mut heard_song = vec![false; self.songs().len()];
        let mut heard_artist = vec![false; self.catalog().artists().len()];
        let mut months = Vec::new();
        let mut by_song: BTreeMap<u32, Counts> = BTreeMap::new();
        for piece in self.pieces(DateRange::ALL_TIME) {
            by_song.clear();
            match piece {
                Piece::Whole(_, month) => {
                    for song in month.songs() {
                        by_song.entry(song.song).or_default().add(&song.counts());
                    }
                }
                Piece::Cut(_, month, ..) => {
                    for (index, _) in piece.rows() {
                        let (song, counts) = self.row_counts(month, index);
                        by_song.entry(song).or_default().add(&counts);
                    }
                }
            }
            let mut found = DiscoveryMonth::empty(piece.key().first_day());
            for (&song, counts) in &by_song {
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
        }
        months
    }
}
