//! A micro-batch as it is read: per partition, its offset range, its listens,
//! a control event that ends it, and the messages set aside for the
//! dead-letter topic.

use std::collections::BTreeMap;

use super::dead_letter::{DeadLetter, Origin};
use super::moves::MoveNumber;
use crate::aggregate::import_marks::ImportMarks;
use crate::aggregate::people::PartitionDelta;
use crate::event::{CleanUp, Forget, ForgetScope, TopicMessage};

/// Longest message key taken for a person's id on a dead letter.
const MAX_KEY_AS_PERSON: usize = 64;

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
    /// Listens counted as they are read (not kept until the batch ends:
    /// a backlog's batch held tens of thousands of them).
    pub delta: PartitionDelta,
    pub listens: usize,
    /// Listens of imports counted before (sent again by a resumed import): not counted again.
    pub counted_before: usize,
    /// A person forgotten after these listens: the batch ends with it.
    pub forget: Option<Forget>,
    /// A clean-up after these listens: the batch ends with it.
    pub clean_up: Option<CleanUp>,
    pub dead_letters: Vec<Rejected>,
}

#[derive(Default)]
pub struct Batch {
    pub partitions: BTreeMap<i32, PartitionBatch>,
    pub messages: usize,
    /// Bytes of the messages read, abandoned ones included.
    pub bytes: usize,
    /// Whether more was waiting when it ended: it was full, or the broker
    /// held more of its partitions than it read.
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

/// One message of the topic as read.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub payload: Option<&'a [u8]>,
}

/// A message decoded (see [`super::decode`]), ready to join a batch.
pub struct Decoded {
    pub partition: i32,
    pub offset: i64,
    /// Bytes of its value, what the batch's byte bound counts.
    pub bytes: usize,
    /// The last move of the fetching before it was taken from the consumer.
    pub taken: MoveNumber,
    /// The event, or the message set aside for the dead-letter topic with why.
    pub message: Result<TopicMessage, Rejected>,
}

impl Incoming<'_> {
    /// Decodes and validates the message; what is no event keeps its
    /// bytes, its reason and its origin, for the dead-letter topic.
    pub fn decode(self, taken: MoveNumber) -> Decoded {
        let message = TopicMessage::from_json(self.payload).map_err(|error| Rejected {
            key: self.key.map(<[u8]>::to_vec),
            payload: self.payload.map(<[u8]>::to_vec).unwrap_or_default(),
            letter: DeadLetter {
                reason: error.to_string(),
                reason_kind: error.kind(),
                // The key of a message is its person's id.
                person: self
                    .key
                    .and_then(|key| std::str::from_utf8(key).ok())
                    .filter(|key| key.len() <= MAX_KEY_AS_PERSON)
                    .map(str::to_string),
                origin: Origin::Topic {
                    topic: self.topic.to_string(),
                    partition: self.partition,
                    offset: self.offset,
                },
            },
        });
        Decoded {
            partition: self.partition,
            offset: self.offset,
            bytes: self.payload.map_or(0, <[u8]>::len),
            taken,
            message,
        }
    }
}

/// What a message added to its batch.
#[derive(Debug, PartialEq, Eq)]
pub enum Admitted {
    Listen,
    /// A listen of an import counted before, sent again when it resumed.
    CountedBefore,
    /// A control event: it takes effect after the listens before it and
    /// before those after, so it ends the batch.
    Forget(ForgetScope),
    /// A clean-up, a control event too.
    CleanUp,
    /// Not an event: set aside for the dead-letter topic with why.
    SetAside,
}

impl Batch {
    /// Adds a message to the batch (the next of its partition to be
    /// counted). `from` is where its partition's part of the batch starts,
    /// if this message begins it; `imports`, how far the partition's imports
    /// were read, this batch included.
    pub fn admit(&mut self, message: Decoded, from: i64, imports: &mut ImportMarks) -> Admitted {
        self.messages += 1;
        self.bytes += message.bytes;
        let part = self.partition(message.partition, from);
        part.to = message.offset + 1;
        match message.message {
            Ok(TopicMessage::Listen {
                person,
                listen,
                import,
            }) => {
                if let Some(position) = import {
                    if !imports.admit(&position) {
                        part.counted_before += 1;
                        return Admitted::CountedBefore;
                    }
                    part.delta.imports.admit(&position);
                }
                part.delta.add(&person, &listen);
                part.listens += 1;
                Admitted::Listen
            }
            Ok(TopicMessage::Forget(forget)) => {
                let scope = forget.scope;
                part.forget = Some(forget);
                Admitted::Forget(scope)
            }
            Ok(TopicMessage::CleanUp(clean_up)) => {
                part.clean_up = Some(clean_up);
                Admitted::CleanUp
            }
            Err(rejected) => {
                part.dead_letters.push(rejected);
                Admitted::SetAside
            }
        }
    }

    pub fn partition(&mut self, partition: i32, from: i64) -> &mut PartitionBatch {
        self.partitions
            .entry(partition)
            .or_insert_with(|| PartitionBatch {
                from,
                to: from,
                delta: PartitionDelta::default(),
                listens: 0,
                counted_before: 0,
                forget: None,
                clean_up: None,
                dead_letters: Vec::new(),
            })
    }

    /// Drops what was read of a partition this consumer no longer owns; its
    /// next owner reads it again from the journal's position.
    pub fn abandon(&mut self, partition: i32) {
        if let Some(part) = self.partitions.remove(&partition) {
            self.messages -= part.listens
                + part.counted_before
                + part.dead_letters.len()
                + usize::from(part.forget.is_some())
                + usize::from(part.clean_up.is_some());
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

    fn incoming(offset: i64, key: Option<&[u8]>, payload: &[u8]) -> Decoded {
        Incoming {
            topic: "spotify_streams",
            partition: 3,
            offset,
            key,
            payload: Some(payload),
        }
        .decode(MoveNumber::default())
    }

    #[test]
    fn a_listen_joins_its_partition_and_moves_its_end() {
        let person = crate::accounts::PersonId("p1".into());
        let listen = crate::event::test_listen("a", "Artist", "2024-01-01T10:00:00Z", 1000, false);
        let payload = serde_json::to_vec(&TopicMessage::Listen {
            person: person.clone(),
            listen: listen.clone(),
            import: None,
        })
        .unwrap();
        let mut batch = Batch::default();
        assert_eq!(
            batch.admit(
                incoming(40, Some(b"p1"), &payload),
                40,
                &mut ImportMarks::default()
            ),
            Admitted::Listen
        );
        assert_eq!(
            batch.admit(
                incoming(41, Some(b"p1"), &payload),
                41,
                &mut ImportMarks::default()
            ),
            Admitted::Listen
        );
        let part = &batch.partitions[&3];
        assert_eq!((part.from, part.to), (40, 42));
        assert_eq!(part.listens, 2);
        let counted = crate::aggregate::BatchDelta::from_events([&listen, &listen]);
        assert_eq!(part.delta.people.get(&person), Some(&counted));
        assert_eq!(part.delta.people.len(), 1);
        assert_eq!(batch.messages, 2);
        assert_eq!(batch.bytes, 2 * payload.len());
    }

    #[test]
    fn a_listen_of_an_import_sent_again_is_not_counted_again() {
        use crate::event::{ImportId, ImportPosition};
        let person = crate::accounts::PersonId("p1".into());
        let listen = crate::event::test_listen("a", "Artist", "2024-01-01T10:00:00Z", 1000, false);
        let payload = |record| {
            serde_json::to_vec(&TopicMessage::Listen {
                person: person.clone(),
                listen: listen.clone(),
                import: Some(ImportPosition {
                    id: ImportId("i1".into()),
                    file: 0,
                    record,
                }),
            })
            .unwrap()
        };
        // Records 1 and 2 were counted in an earlier batch; the import resumed from its start.
        let mut read = ImportMarks::default();
        let mut batch = Batch::default();
        let sent = [1, 2, 3, 1, 2, 3, 4].map(payload);
        let admitted: Vec<Admitted> = sent
            .iter()
            .enumerate()
            .map(|(i, bytes)| batch.admit(incoming(i as i64, Some(b"p1"), bytes), 0, &mut read))
            .collect();
        use Admitted::{CountedBefore, Listen};
        assert_eq!(
            admitted,
            [
                Listen,
                Listen,
                Listen,
                CountedBefore,
                CountedBefore,
                CountedBefore,
                Listen
            ]
        );
        let part = &batch.partitions[&3];
        assert_eq!(part.listens, 4);
        assert_eq!(part.counted_before, 3);
        assert_eq!(part.delta.events(), 4);
        let mark = crate::event::RecordNumber { file: 0, record: 4 };
        assert_eq!(part.delta.imports.get(&ImportId("i1".into())), Some(mark));
        assert_eq!(read.get(&ImportId("i1".into())), Some(mark));
        assert_eq!(batch.messages, 7);
        batch.abandon(3);
        assert_eq!(batch.messages, 0);
    }

    #[test]
    fn a_control_event_ends_the_batch_after_the_listens_before_it() {
        let forget = TopicMessage::Forget(Forget {
            person: crate::accounts::PersonId("p1".into()),
            scope: ForgetScope::Data,
            requested_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        });
        let payload = serde_json::to_vec(&forget).unwrap();
        let mut batch = Batch::default();
        assert_eq!(
            batch.admit(
                incoming(9, Some(b"p1"), &payload),
                9,
                &mut ImportMarks::default()
            ),
            Admitted::Forget(ForgetScope::Data)
        );
        let part = &batch.partitions[&3];
        assert_eq!(
            part.forget.as_ref().map(|f| f.scope),
            Some(ForgetScope::Data)
        );
        assert_eq!(part.to, 10);
    }

    #[test]
    fn a_message_that_is_no_event_is_set_aside_with_why_and_whose() {
        let mut batch = Batch::default();
        assert_eq!(
            batch.admit(
                incoming(5, Some(b"p1"), b"{not json"),
                5,
                &mut ImportMarks::default()
            ),
            Admitted::SetAside
        );
        let long_key = vec![b'k'; MAX_KEY_AS_PERSON + 1];
        assert_eq!(
            batch.admit(
                incoming(6, Some(&long_key), b""),
                5,
                &mut ImportMarks::default()
            ),
            Admitted::SetAside
        );
        let part = &batch.partitions[&3];
        assert_eq!(part.listens, 0);
        assert!(part.delta.people.is_empty());
        let [first, second] = &part.dead_letters[..] else {
            panic!("two dead letters expected");
        };
        assert_eq!(first.letter.reason_kind, "not_json");
        assert_eq!(first.letter.person.as_deref(), Some("p1"));
        assert_eq!(first.payload, b"{not json");
        assert_eq!(
            first.letter.origin,
            Origin::Topic {
                topic: "spotify_streams".into(),
                partition: 3,
                offset: 5
            }
        );
        assert_eq!(second.letter.reason_kind, "empty");
        assert_eq!(
            second.letter.person, None,
            "a key too long for an id names nobody"
        );
        assert_eq!(part.to, 7);
    }
}
