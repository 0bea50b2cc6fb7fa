//! Where each partition's consumption stands: which offsets are new, which
//! are redeliveries of counted ones, and when to fetch again from the journal's position.

use rdkafka::Offset;

/// Where a partition's consumption stands, as this consumer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// Everything below this offset is counted; the next message must be exactly here.
    At(i64),
    /// Kafka was asked to fetch from here (back or forward); the first message at or after it comes next.
    Seeking(i64),
    /// Nothing of this partition was ever counted; its assignment starts at
    /// its earliest message, which comes first.
    Fresh,
}

/// What to do with a message, given its partition's cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Count it; `expected` is where the partition's batch range starts if this
    /// is its first message in the batch.
    Accept { expected: i64 },
    /// Already counted: a redelivery.
    Skip,
    /// Already counted, and the first of a run that may be long (a restart
    /// before the consumer knew where counting stood): fetch from there
    /// instead of reading every counted message again.
    SkipTo(Offset),
    /// Messages were skipped ahead of the journal: fetch again from there.
    Rewind(Offset),
}

impl Cursor {
    pub fn step(self, offset: i64) -> (Step, Cursor) {
        match self {
            Cursor::At(position) if offset < position => (
                Step::SkipTo(Offset::Offset(position)),
                Cursor::Seeking(position),
            ),
            Cursor::At(position) if offset == position => {
                (Step::Accept { expected: position }, Cursor::At(offset + 1))
            }
            Cursor::At(position) => (
                Step::Rewind(Offset::Offset(position)),
                Cursor::Seeking(position),
            ),
            Cursor::Seeking(position) if offset < position => (Step::Skip, self),
            // Offsets between may be gone (retention, transaction markers).
            Cursor::Seeking(position) => {
                (Step::Accept { expected: position }, Cursor::At(offset + 1))
            }
            Cursor::Fresh => (Step::Accept { expected: offset }, Cursor::At(offset + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_expected_offset_is_accepted() {
        assert_eq!(
            Cursor::At(5).step(5),
            (Step::Accept { expected: 5 }, Cursor::At(6))
        );
    }

    #[test]
    fn redelivered_offsets_are_skipped_and_fetched_past_once() {
        assert_eq!(
            Cursor::At(5).step(3),
            (Step::SkipTo(Offset::Offset(5)), Cursor::Seeking(5))
        );
        // Those already on their way are skipped without asking again.
        assert_eq!(Cursor::Seeking(5).step(4), (Step::Skip, Cursor::Seeking(5)));
    }

    #[test]
    fn a_message_past_the_journal_rewinds_to_it() {
        assert_eq!(
            Cursor::At(5).step(9),
            (Step::Rewind(Offset::Offset(5)), Cursor::Seeking(5))
        );
        assert_eq!(
            Cursor::Seeking(5).step(5),
            (Step::Accept { expected: 5 }, Cursor::At(6))
        );
    }

    #[test]
    fn after_a_rewind_a_gap_in_offsets_is_accepted() {
        assert_eq!(
            Cursor::Seeking(5).step(8),
            (Step::Accept { expected: 5 }, Cursor::At(9))
        );
    }

    #[test]
    fn an_uncounted_partition_starts_with_its_first_message() {
        assert_eq!(
            Cursor::Fresh.step(0),
            (Step::Accept { expected: 0 }, Cursor::At(1))
        );
        // Retention may have removed the first offsets.
        assert_eq!(
            Cursor::Fresh.step(40),
            (Step::Accept { expected: 40 }, Cursor::At(41))
        );
    }
}
