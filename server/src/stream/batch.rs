//! A micro-batch as it is read: per partition, its offset range, its listens,
//! a control event that ends it, and the messages set aside for the
//! dead-letter topic.

use std::collections::BTreeMap;

use super::dead_letter::DeadLetter;
use crate::aggregate::people::PersonListen;
use crate::event::Forget;

/// A message that went to the dead-letter topic instead of the aggregates.
pub struct Rejected {
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub letter: DeadLetter,
}

/// The messages of one partition in a batch: offsets `[from, to)`.
pub struct PartitionBatch {
    pub from: i64,
    pub to: i64,
    pub listens: Vec<PersonListen>,
    /// A person forgotten after these listens: the batch ends with it.
    pub forget: Option<Forget>,
    pub dead_letters: Vec<Rejected>,
}

#[derive(Default)]
pub struct Batch {
    pub partitions: BTreeMap<i32, PartitionBatch>,
    pub messages: usize,
    /// Bytes of the messages read, abandoned ones included.
    pub bytes: usize,
    /// Whether it ended full: more was waiting.
    pub filled: bool,
}

/// How many events the next batch may take. Each batch costs the same few
/// writes whatever its size, so while the consumer is behind (a batch fills
/// up) the next may be twice as large, up to [`BatchLimit::MOST_GROWTH`]
/// times `BATCH_MAX_EVENTS` (and always within `BATCH_MAX_BYTES`); a batch
/// that ends on its time limit (caught up) brings it back, keeping live
/// batches small and quick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimit {
    base: usize,
    current: usize,
}

impl BatchLimit {
    pub const MOST_GROWTH: usize = 16;

    pub fn new(max_events: usize) -> Self {
        let base = max_events.max(1);
        Self {
            base,
            current: base,
        }
    }

    pub fn events(&self) -> usize {
        self.current
    }

    /// Adjusts the limit to how the last batch ended.
    pub fn after(&mut self, batch: &Batch) {
        self.current = if batch.filled {
            (self.current * 2).min(self.base * Self::MOST_GROWTH)
        } else {
            self.base
        };
    }
}

impl Batch {
    pub fn partition(&mut self, partition: i32, from: i64) -> &mut PartitionBatch {
        self.partitions
            .entry(partition)
            .or_insert_with(|| PartitionBatch {
                from,
                to: from,
                listens: Vec::new(),
                forget: None,
                dead_letters: Vec::new(),
            })
    }

    /// Drops what was read of a partition this consumer no longer owns; its
    /// next owner reads it again from the journal's position.
    pub fn abandon(&mut self, partition: i32) {
        if let Some(part) = self.partitions.remove(&partition) {
            self.messages -=
                part.listens.len() + part.dead_letters.len() + usize::from(part.forget.is_some());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.messages == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_grow_while_behind_and_shrink_once_caught_up() {
        let mut limit = BatchLimit::new(5000);
        let full = Batch {
            filled: true,
            ..Batch::default()
        };
        let sizes: Vec<usize> = (0..7)
            .map(|_| {
                limit.after(&full);
                limit.events()
            })
            .collect();
        assert_eq!(
            sizes,
            [10_000, 20_000, 40_000, 80_000, 80_000, 80_000, 80_000]
        );
        limit.after(&Batch::default());
        assert_eq!(limit.events(), 5000);
    }
    use crate::stream::dead_letter::Origin;

    #[test]
    fn abandoning_a_partition_forgets_only_its_messages() {
        let rejected = |offset| Rejected {
            key: None,
            payload: b"x".to_vec(),
            letter: DeadLetter {
                reason: "not JSON".into(),
                reason_kind: "not_json",
                person: None,
                origin: Origin::Topic {
                    topic: "t".into(),
                    partition: 0,
                    offset,
                },
            },
        };
        let mut batch = Batch::default();
        batch
            .partition(1, 0)
            .dead_letters
            .extend([rejected(0), rejected(1)]);
        batch.partition(2, 7).dead_letters.push(rejected(7));
        batch.messages = 3;
        batch.abandon(1);
        assert_eq!(batch.messages, 1);
        assert_eq!(batch.partitions.keys().collect::<Vec<_>>(), vec![&2]);
        assert!(!batch.is_empty());
    }
}
