//! Each song's counts over a range, by song number: a dense vector of the
//! person's every song (170,000 songs, 4 MB, for a million listens), added
//! into from the months, with the list of the songs added to. Its buffer is
//! reused: one allocated anew for each question was mapped afresh by the
//! allocator and faulted in page by page, then unmapped, which perf put at
//! 40% of a range question's time and 35% of a review's. The list lets a
//! question read only the songs of its range (a month has a few thousand
//! of the 170,000) and the buffer be zeroed again where it was written.

use std::ops::Deref;
use std::sync::Mutex;

use crate::aggregate::months::Counts;

/// Buffers kept for the next questions: as many as questions answered at
/// once on two cores; what they hold stays allocated between questions.
const SPARE_BUFFERS: usize = 2;

static SPARE: Spares = Spares(Mutex::new(Vec::new()));

/// Buffers given back, all zero, the largest kept.
#[derive(Debug)]
struct Spares(Mutex<Vec<Vec<Counts>>>);

impl Spares {
    /// A buffer of `songs` zero counts, a spare one if any.
    fn take(&self, songs: usize) -> Vec<Counts> {
        let spare = self.0.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut sums = spare.unwrap_or_default();
        // Zero already up to its length; what it grows by is zeroed.
        sums.truncate(songs);
        sums.resize(songs, Counts::default());
        sums
    }

    /// Keeps `sums`, all zero, for another question, in place of a smaller
    /// spare when [`SPARE_BUFFERS`] are kept already.
    fn give(&self, sums: Vec<Counts>) {
        let mut spare = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if spare.len() < SPARE_BUFFERS {
            spare.push(sums);
        } else if let Some(smaller) = (spare.iter_mut())
            .filter(|kept| kept.capacity() < sums.capacity())
            .min_by_key(|kept| kept.capacity())
        {
            *smaller = sums;
        }
    }
}

/// Counts by song number, all zero at first, and the songs added to; its
/// buffer goes back to the spares, zeroed, when dropped.
#[derive(Debug)]
pub struct SongSums {
    counts: Vec<Counts>,
    /// The numbers of the songs whose counts are not zero, each once, in
    /// the order first added to.
    played: Vec<u32>,
    spares: &'static Spares,
}

impl SongSums {
    /// `songs` zero counts.
    pub fn zeroed(songs: usize) -> Self {
        Self::zeroed_from(&SPARE, songs)
    }

    fn zeroed_from(spares: &'static Spares, songs: usize) -> Self {
        Self {
            counts: spares.take(songs),
            played: Vec::new(),
            spares,
        }
    }

    /// The counts of `songs`, in order.
    pub fn of(songs: impl IntoIterator<Item = Counts>) -> Self {
        let mut sums = Self::zeroed(0);
        sums.counts.extend(songs);
        let zero = Counts::default();
        sums.played = (sums.counts.iter().enumerate())
            .filter(|(_, counts)| **counts != zero)
            .map(|(song, _)| song as u32)
            .collect();
        sums
    }

    /// Adds `counts` to song `song`'s.
    pub fn add(&mut self, song: u32, counts: &Counts) {
        let sum = &mut self.counts[song as usize];
        let was_zero = *sum == Counts::default();
        sum.add(counts);
        if was_zero && *sum != Counts::default() {
            self.played.push(song);
        }
    }

    /// The songs added to, by number with their counts, in no set order:
    /// a range's songs without reading the person's every one (a month
    /// has a few thousand of the 170,000; a year, a third of them, read
    /// faster so than in order with the others).
    pub fn played(&self) -> impl Iterator<Item = (usize, &Counts)> + '_ {
        (self.played.iter()).map(|&song| (song as usize, &self.counts[song as usize]))
    }
}

impl Deref for SongSums {
    type Target = [Counts];

    fn deref(&self) -> &[Counts] {
        &self.counts
    }
}

impl Drop for SongSums {
    fn drop(&mut self) {
        let mut counts = std::mem::take(&mut self.counts);
        // Where counts were added, or everywhere when that is much of it.
        if self.played.len() < counts.len() / 4 {
            for &song in &self.played {
                counts[song as usize] = Counts::default();
            }
        } else {
            counts.fill(Counts::default());
        }
        self.spares.give(counts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spares() -> Spares {
        Spares(Mutex::new(Vec::new()))
    }

    #[test]
    fn a_buffer_given_back_is_taken_again_all_zero() {
        let one = Counts::one(1000, false);
        // Added to sparsely, then densely: zeroed either way.
        for songs in [vec![3, 39], (0..40).collect()] {
            let spares: &'static Spares = Box::leak(Box::new(spares()));
            let mut first = SongSums::zeroed_from(spares, 40);
            for song in songs {
                first.add(song, &one);
            }
            let buffer = first.as_ptr();
            drop(first);
            let again = SongSums::zeroed_from(spares, 40);
            assert_eq!(again.as_ptr(), buffer, "the same buffer");
            assert_eq!(*again, vec![Counts::default(); 40]);
            let another = SongSums::zeroed_from(spares, 3);
            assert_ne!(another.as_ptr(), buffer, "no spare left: a new one");
        }
    }

    #[test]
    fn the_largest_buffers_are_kept() {
        let spares = spares();
        for songs in [10, 1000, 100] {
            spares.give(Vec::with_capacity(songs));
        }
        let mut kept: Vec<usize> = (0..SPARE_BUFFERS)
            .map(|_| spares.take(0).capacity())
            .collect();
        kept.sort_unstable();
        assert_eq!(kept, [100, 1000]);
    }

    #[test]
    fn the_songs_added_to_are_listed_once_and_zeroed_again() {
        let one = Counts::one(1000, false);
        let mut sums = SongSums::zeroed(1000);
        for song in [7, 3, 7, 999] {
            sums.add(song, &one);
        }
        sums.add(5, &Counts::default());
        let mut played: Vec<(usize, Counts)> = sums.played().map(|(s, c)| (s, *c)).collect();
        played.sort_unstable_by_key(|(song, _)| *song);
        let twice = Counts {
            plays: 2,
            ms_played: 2000,
            skips: 0,
        };
        assert_eq!(played, [(3, one), (7, twice), (999, one)]);
        assert_eq!(sums[7], twice);
        assert_eq!(sums.iter().filter(|c| c.plays > 0).count(), 3);
    }

    #[test]
    fn sums_listed_whole_list_the_songs_with_counts() {
        let one = Counts::one(5, true);
        let sums = SongSums::of([Counts::default(), one, Counts::default(), one]);
        let played: Vec<usize> = sums.played().map(|(song, _)| song).collect();
        assert_eq!(played, [1, 3]);
    }

    #[test]
    fn sums_start_at_zero_and_read_as_counts() {
        let listed = SongSums::of([Counts {
            plays: 2,
            ms_played: 9,
            skips: 1,
        }]);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].ms_played, 9);
        assert!(SongSums::zeroed(6).iter().all(|c| *c == Counts::default()));
    }
}
