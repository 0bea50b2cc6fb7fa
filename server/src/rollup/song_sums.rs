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

static SPARE: Mutex<Vec<Vec<Counts>>> = Mutex::new(Vec::new());

/// Counts by song number, all zero at first; its buffer goes back to the
/// spares when dropped.
#[derive(Debug)]
pub struct SongSums(Vec<Counts>);

impl SongSums {
    /// `songs` zero counts.
    pub fn zeroed(songs: usize) -> Self {
        let spare = SPARE.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut sums = spare.unwrap_or_default();
        sums.clear();
        sums.resize(songs, Counts::default());
        Self(sums)
    }

    /// The counts of `songs`, in order.
    pub fn of(songs: impl ExactSizeIterator<Item = Counts>) -> Self {
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
        let mut spare = SPARE.lock().unwrap_or_else(|p| p.into_inner());
        if spare.len() < SPARE_BUFFERS {
            spare.push(std::mem::take(&mut self.0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_start_at_zero_whatever_the_buffer_held() {
        let mut first = SongSums::zeroed(5);
        first[3].plays = 7;
        drop(first);
        let again = SongSums::zeroed(8);
        assert_eq!(again.len(), 8);
        assert!(again.iter().all(|counts| *counts == Counts::default()));
        let listed = SongSums::of(
            [Counts {
                plays: 2,
                ms_played: 9,
                skips: 1,
            }]
            .into_iter(),
        );
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].ms_played, 9);
    }
}
