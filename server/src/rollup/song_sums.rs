//! Each song's counts over a range, by song number: a dense vector of the
//! person's every song (170,000 songs, 4 MB, for a million listens), added
//! into from the months. Its buffer is reused: one allocated anew for each
//! question was mapped afresh by the allocator and faulted in page by page,
//! then unmapped, which perf put at 40% of a range question's time and 35%
//! of a review's.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

use crate::aggregate::months::Counts;

/// Buffers kept for the next questions: as many as questions answered at
/// once on two cores; what they hold stays allocated between questions.
const SPARE_BUFFERS: usize = 2;

static SPARE: Spares = Spares(Mutex::new(Vec::new()));

/// Buffers given back, the largest kept.
struct Spares(Mutex<Vec<Vec<Counts>>>);

impl Spares {
    /// A buffer of `songs` zero counts, a spare one if any.
    fn take(&self, songs: usize) -> Vec<Counts> {
        let spare = self.0.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut sums = spare.unwrap_or_default();
        sums.clear();
        sums.resize(songs, Counts::default());
        sums
    }

    /// Keeps `sums` for another question, in place of a smaller spare when
    /// [`SPARE_BUFFERS`] are kept already.
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

/// Counts by song number, all zero at first; its buffer goes back to the
/// spares when dropped.
#[derive(Debug)]
pub struct SongSums(Vec<Counts>);

impl SongSums {
    /// `songs` zero counts.
    pub fn zeroed(songs: usize) -> Self {
        Self(SPARE.take(songs))
    }

    /// The counts of `songs`, in order.
    pub fn of(songs: impl IntoIterator<Item = Counts>) -> Self {
        let mut sums = Self::zeroed(0);
        sums.0.extend(songs);
        sums
    }
}

impl Deref for SongSums {
    type Target = [Counts];

    fn deref(&self) -> &[Counts] {
        &self.0
    }
}

impl DerefMut for SongSums {
    fn deref_mut(&mut self) -> &mut [Counts] {
        &mut self.0
    }
}

impl Drop for SongSums {
    fn drop(&mut self) {
        SPARE.give(std::mem::take(&mut self.0));
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
        let spares = spares();
        let mut first = spares.take(5);
        first[3].plays = 7;
        let buffer = first.as_ptr();
        spares.give(first);
        let again = spares.take(4);
        assert_eq!(again.as_ptr(), buffer, "the same buffer");
        assert_eq!(again, vec![Counts::default(); 4]);
        let another = spares.take(3);
        assert_ne!(another.as_ptr(), buffer, "no spare left: a new one");
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
