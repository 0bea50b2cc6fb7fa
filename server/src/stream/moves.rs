//! Moves of a partition's fetching (a seek, an assignment, a revocation),
//! numbered, so that a message taken from the consumer before the latest
//! move of its partition is known for what it is: librdkafka drops such a
//! message itself when it is still in its queue, but the decoding stage
//! (see [`super::decode`]) takes messages ahead of the counting loop.
//!
//! Taking a message and moving the fetching exclude each other, so a
//! message is stamped with the number of the last move before it was
//! taken, exactly.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The number of a move; a message carries the number of the last move
/// before it was taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct MoveNumber(u64);

#[derive(Debug, Default)]
pub struct Moves {
    /// Held while a message is taken and while the fetching is moved.
    taking: Mutex<()>,
    /// The last move's number. Also moved by a rebalance callback, which
    /// runs while a message is taken (`taking` held by its thread).
    last: AtomicU64,
    /// Per partition, the number of its latest move.
    latest: Mutex<HashMap<i32, MoveNumber>>,
}

impl Moves {
    /// Takes a message with `take`, and the number it is stamped with.
    pub fn take<T>(&self, take: impl FnOnce() -> T) -> (T, MoveNumber) {
        let _taking = self
            .taking
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let taken = take();
        (taken, MoveNumber(self.last.load(Ordering::SeqCst)))
    }

    /// Moves the fetching of `partition` with `seek`, while no message is taken.
    pub fn seek<T>(&self, partition: i32, seek: impl FnOnce() -> T) -> T {
        let _taking = self
            .taking
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let result = seek();
        self.moved(&[partition]);
        result
    }

    /// Notes that the group assigned or revoked `partitions`: called from
    /// the rebalance callback, which runs while a message is taken.
    pub fn reassigned(&self, partitions: &[i32]) {
        self.moved(partitions);
    }

    /// Whether a message of `partition` stamped `taken` was taken before
    /// the latest move of its partition: it is not the one fetched from
    /// there, and counts for nothing.
    pub fn is_stale(&self, partition: i32, taken: MoveNumber) -> bool {
        self.latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&partition)
            .is_some_and(|latest| taken < *latest)
    }

    fn moved(&self, partitions: &[i32]) {
        let number = MoveNumber(self.last.fetch_add(1, Ordering::SeqCst) + 1);
        let mut latest = self
            .latest
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for &partition in partitions {
            latest.insert(partition, number);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_taken_before_its_partition_moved_is_stale() {
        let moves = Moves::default();
        let ((), before) = moves.take(|| ());
        assert!(!moves.is_stale(3, before), "nothing moved yet");
        moves.seek(3, || ());
        let ((), after) = moves.take(|| ());
        assert!(moves.is_stale(3, before));
        assert!(!moves.is_stale(3, after));
        assert!(!moves.is_stale(4, before), "another partition did not move");
    }

    #[test]
    fn a_message_taken_by_the_poll_that_served_a_rebalance_is_not() {
        let moves = Moves::default();
        let ((), before) = moves.take(|| ());
        // The rebalance callback runs inside the poll that then returns a message.
        let ((), taken) = moves.take(|| moves.reassigned(&[1, 2]));
        assert!(moves.is_stale(1, before) && moves.is_stale(2, before));
        assert!(!moves.is_stale(1, taken) && !moves.is_stale(2, taken));
    }

    #[test]
    fn taking_waits_while_the_fetching_moves() {
        let moves = std::sync::Arc::new(Moves::default());
        let (seeking, seek_started) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let seeker = {
            let moves = std::sync::Arc::clone(&moves);
            std::thread::spawn(move || {
                moves.seek(7, || {
                    seeking.send(()).unwrap();
                    released.recv().unwrap();
                })
            })
        };
        seek_started.recv().unwrap();
        let taker = {
            let moves = std::sync::Arc::clone(&moves);
            std::thread::spawn(move || moves.take(|| ()).1)
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!taker.is_finished(), "a take waits for the seek under way");
        release.send(()).unwrap();
        seeker.join().unwrap();
        let taken = taker.join().unwrap();
        assert!(
            !moves.is_stale(7, taken),
            "taken after the seek: fetched from there"
        );
    }
}
