//! Counts by number (each song's, or each artist's) over a range or a
//! period: a dense vector of all of a person's (170,000 songs, 4 MB, for a
//! million listens), added into from the months, with the list of the
//! numbers added to. Its buffer is reused: one allocated anew for each
//! question was mapped afresh by the allocator and faulted in page by page,
//! then unmapped, which perf put at 40% of a range question's time and 35%
//! of a review's. The list lets a question read only the numbers of its
//! range (a month has a few thousand of the 170,000 songs) and the buffer
//! be zeroed again where it was written.

use std::ops::Deref;
use std::sync::Mutex;

use crate::aggregate::months::Counts;

/// Buffers of songs' sums kept for the next questions: a review holds two
/// at once (its period's and the one before's), other questions one; what
/// they hold stays allocated between questions.
static SONG_SPARES: Spares = Spares::keeping(2);

/// Buffers of artists' and albums' sums, kept apart from the songs' larger
/// ones: a review adds up both for its period and the one before, four at
/// once (an album's buffer of a million listens is over a MiB, mapped
/// afresh and faulted in page by page when allocated for each).
static GROUP_SPARES: Spares = Spares::keeping(4);

/// A buffer of counts, all zero, and one for the list of numbers, empty.
#[derive(Debug, Default)]
struct Buffers {
    counts: Vec<Counts>,
    listed: Vec<u32>,
}

/// Buffers given back, the `keep` largest kept.
#[derive(Debug)]
struct Spares {
    kept: Mutex<Vec<Buffers>>,
    keep: usize,
}

impl Spares {
    const fn keeping(keep: usize) -> Self {
        Self {
            kept: Mutex::new(Vec::new()),
            keep,
        }
    }

    /// Buffers for `len` zero counts, spare ones if any (none for none).
    fn take(&self, len: usize) -> Buffers {
        if len == 0 {
            return Buffers::default();
        }
        let spare = self.kept.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut buffers = spare.unwrap_or_default();
        // Zero already up to its length; what it grows by is zeroed.
        buffers.counts.truncate(len);
        buffers.counts.resize(len, Counts::default());
        buffers
    }

    /// Keeps `buffers` (their counts all zero, their list empty) for another
    /// question, in place of smaller spares when `keep` are kept.
    fn give(&self, buffers: Buffers) {
        if buffers.counts.capacity() == 0 {
            return;
        }
        if cfg!(test) {
            // What `take` relies on, checked by every question the unit tests ask.
            assert!(buffers.listed.is_empty());
            assert!(buffers.counts.iter().all(|c| *c == Counts::default()));
        }
        let mut spare = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if spare.len() < self.keep {
            spare.push(buffers);
        } else if let Some(smaller) = (spare.iter_mut())
            .filter(|kept| kept.counts.capacity() < buffers.counts.capacity())
            .min_by_key(|kept| kept.counts.capacity())
        {
            *smaller = buffers;
        }
    }
}

/// Counts by number, all zero at first, and the numbers added to; its
/// buffers go back to the spares, zeroed, when dropped.
#[derive(Debug)]
pub struct Sums {
    counts: Vec<Counts>,
    /// The numbers whose counts are not zero, each once (counts added are
    /// never negative), in the order first added to (or in order, once
    /// ordered).
    listed: Vec<u32>,
    spares: &'static Spares,
}

impl Sums {
    /// `len` zero counts, by song number.
    pub fn zeroed(len: usize) -> Self {
        Self::zeroed_from(&SONG_SPARES, len)
    }

    /// `len` zero counts, by artist or album number.
    pub fn zeroed_for_groups(len: usize) -> Self {
        Self::zeroed_from(&GROUP_SPARES, len)
    }

    fn zeroed_from(spares: &'static Spares, len: usize) -> Self {
        let Buffers { counts, listed } = spares.take(len);
        Self {
            counts,
            listed,
            spares,
        }
    }

    /// The counts of `all`, in order.
    pub fn of(all: impl ExactSizeIterator<Item = Counts>) -> Self {
        let mut sums = Self::zeroed(all.len());
        for (number, counts) in all.enumerate() {
            sums.add(number as u32, &counts);
        }
        sums
    }

    /// Adds `counts` (none negative) to number `number`'s; a number out of
    /// range is ignored.
    pub fn add(&mut self, number: u32, counts: &Counts) {
        let Some(sum) = self.counts.get_mut(number as usize) else {
            return;
        };
        let was_zero = *sum == Counts::default();
        sum.add(counts);
        if was_zero && *counts != Counts::default() {
            self.listed.push(number);
        }
    }

    /// The numbers added to, with their counts, in no set order (the order
    /// first added to, or that of the numbers once ordered): a range's songs
    /// without reading every song of the person. Rankings read from it must
    /// order every two apart.
    pub fn listed(&self) -> impl Iterator<Item = (usize, &Counts)> + '_ {
        (self.listed.iter()).map(|&number| (number as usize, &self.counts[number as usize]))
    }

    /// Puts the list in the order of the numbers, so that passes over it
    /// read the counts (and what is kept by number beside them) in order.
    pub fn order_listed(&mut self) {
        self.listed.sort_unstable();
    }

    /// All the counts added up (listening time held at its largest).
    pub fn total(&self) -> Counts {
        self.listed()
            .fold(Counts::default(), |mut total, (_, counts)| {
                total.add(counts);
                total
            })
    }

    /// Zero again, for another period.
    pub fn clear(&mut self) {
        if self.listed.len() < self.counts.len() / 4 {
            for &number in &self.listed {
                self.counts[number as usize] = Counts::default();
            }
        } else {
            self.counts.fill(Counts::default());
        }
        self.listed.clear();
    }
}

impl Deref for Sums {
    type Target = [Counts];

    fn deref(&self) -> &[Counts] {
        &self.counts
    }
}

impl Drop for Sums {
    fn drop(&mut self) {
        // Unwinding from an add, the list may miss what was written.
        if std::thread::panicking() {
            return;
        }
        self.clear();
        self.spares.give(Buffers {
            counts: std::mem::take(&mut self.counts),
            listed: std::mem::take(&mut self.listed),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spares() -> &'static Spares {
        Box::leak(Box::new(Spares::keeping(2)))
    }

    fn time_only() -> Counts {
        Counts {
            plays: 0,
            ms_played: 5,
            skips: 0,
        }
    }

    #[test]
    fn a_buffer_given_back_is_taken_again_all_zero() {
        let one = Counts::one(1000, false);
        // Added to sparsely (a count of time alone too), then densely:
        // zeroed either way.
        for numbers in [vec![3, 39], (0..40).collect()] {
            let spares = spares();
            let mut first = Sums::zeroed_from(spares, 40);
            for number in numbers {
                first.add(number, &one);
            }
            first.add(7, &time_only());
            let buffer = first.as_ptr();
            drop(first);
            let again = Sums::zeroed_from(spares, 40);
            assert_eq!(again.as_ptr(), buffer, "the same buffer");
            assert_eq!(*again, vec![Counts::default(); 40]);
            assert_eq!(again.listed().count(), 0);
            let another = Sums::zeroed_from(spares, 3);
            assert_ne!(another.as_ptr(), buffer, "no spare left: a new one");
        }
    }

    #[test]
    fn the_largest_buffers_are_kept() {
        let spares = spares();
        for len in [10, 1000, 100] {
            spares.give(Buffers {
                counts: Vec::with_capacity(len),
                listed: Vec::new(),
            });
        }
        let mut kept: Vec<usize> = (0..spares.keep)
            .map(|_| spares.take(1).counts.capacity())
            .collect();
        kept.sort_unstable();
        assert_eq!(kept, [100, 1000]);
        spares.give(Buffers::default());
        assert!(
            spares.kept.lock().unwrap().is_empty(),
            "nothing kept of nothing"
        );
        spares.give(Buffers {
            counts: Vec::with_capacity(10),
            listed: Vec::new(),
        });
        assert_eq!(
            spares.take(0).counts.capacity(),
            0,
            "nothing taken for nothing"
        );
        assert_eq!(spares.kept.lock().unwrap().len(), 1);
    }

    #[test]
    fn the_numbers_added_to_are_listed_once_and_cleared() {
        let one = Counts::one(1000, false);
        let mut sums = Sums::zeroed_from(spares(), 1000);
        for number in [7, 3, 7, 999, 5000] {
            sums.add(number, &one);
        }
        sums.add(5, &Counts::default());
        sums.add(8, &time_only());
        let mut listed: Vec<(usize, Counts)> = sums.listed().map(|(n, c)| (n, *c)).collect();
        listed.sort_unstable_by_key(|(number, _)| *number);
        let twice = Counts {
            plays: 2,
            ms_played: 2000,
            skips: 0,
        };
        assert_eq!(listed, [(3, one), (7, twice), (8, time_only()), (999, one)]);
        assert_eq!(sums[7], twice);
        let total = sums.total();
        assert_eq!((total.plays, total.ms_played), (4, 4005));
        assert_eq!(sums.iter().filter(|c| **c != Counts::default()).count(), 4);
        sums.clear();
        assert_eq!(sums.listed().count(), 0);
        assert!(sums.iter().all(|c| *c == Counts::default()));
    }

    #[test]
    fn sums_listed_whole_list_the_numbers_with_counts_and_are_zeroed_again() {
        let one = Counts::one(5, true);
        let spares = spares();
        // Mostly zero: zeroed where written when given back.
        let all = (0..100).map(|n| if n % 30 == 1 { one } else { Counts::default() });
        let mut sums = Sums::zeroed_from(spares, 100);
        for (number, counts) in all.enumerate() {
            sums.add(number as u32, &counts);
        }
        let listed: Vec<usize> = sums.listed().map(|(number, _)| number).collect();
        assert_eq!(listed, [1, 31, 61, 91]);
        drop(sums);
        let again = Sums::zeroed_from(spares, 100);
        assert!(again.iter().all(|c| *c == Counts::default()));
        let whole = Sums::of([Counts::default(), one].into_iter());
        assert_eq!(whole.listed().map(|(n, _)| n).collect::<Vec<_>>(), [1]);
    }
}
