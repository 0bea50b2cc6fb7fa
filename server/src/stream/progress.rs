//! What the consumer has counted of one partition it owns: the partition's
//! aggregates and the offset up to which they count. Loaded when the
//! partition is assigned, from its last checkpoint plus the journal after it,
//! then advanced batch by batch.

use std::time::{Duration, Instant};

use tracing::{debug, warn};

use crate::aggregate::people::PeopleAggregates;
use crate::store::journal::JournalEntry;
use crate::store::leaderboard::PartitionHeads;
use crate::store::{StoreError, TopicStore};

/// Under load, a checkpoint is written once the journal since the last one
/// holds this many times as many song and artist deltas as the aggregates
/// have songs and artists: writing checkpoints then costs a fixed share of
/// the work, and a restart replays a journal bounded by the state's size.
const JOURNAL_TO_STATE_RATIO: usize = 4;
/// Once the consumer has caught up, a journal as large as the state is
/// enough: the checkpoint costs little then, and a restart reads the
/// journal after it (151 batches, 1 s of a 4 s restart, when the last
/// checkpoint was written early in a 1M backlog and no idle moment came).
const CAUGHT_UP_JOURNAL_TO_STATE_RATIO: usize = 1;
/// Small states are checkpointed as if they had this many keys.
const MIN_STATE_KEYS: usize = 10_000;
/// Longest time journaled batches wait for a checkpoint under load.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(600);

/// How the consumer keeps up with its partitions, as checkpoints see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// No message for a while.
    Idle,
    /// The last batch ended before it was full: nothing was waiting.
    CaughtUp,
    /// The last batch was full: more is waiting.
    Behind,
}

pub struct Progress {
    pub partition: i32,
    pub aggregates: PeopleAggregates,
    /// Whose figures the partition holds, and the position at which each last changed.
    pub heads: PartitionHeads,
    /// One past the last counted offset; `None` while nothing of the partition is counted.
    pub position: Option<i64>,
    /// Generation of the last checkpoint.
    pub generation: i64,
    batches_since_checkpoint: usize,
    /// Song and artist deltas journaled since the last checkpoint.
    keys_since_checkpoint: usize,
    /// Whether someone was forgotten since the last checkpoint: their figures
    /// are then still in the journal, so a checkpoint is due at once.
    forgot_since_checkpoint: bool,
    last_checkpoint: Instant,
}

impl Progress {
    fn new(partition: i32) -> Self {
        Self {
            partition,
            aggregates: PeopleAggregates::default(),
            heads: PartitionHeads::default(),
            position: None,
            generation: 0,
            batches_since_checkpoint: 0,
            keys_since_checkpoint: 0,
            forgot_since_checkpoint: false,
            last_checkpoint: Instant::now(),
        }
    }

    /// Reads the partition's last checkpoint and folds in the journal after it.
    pub async fn load(store: &TopicStore, partition: i32) -> Result<Self, StoreError> {
        let started = Instant::now();
        let checkpoint = store.load_checkpoint(partition).await?;
        let checkpoint_read = started.elapsed();
        let mut progress = Self {
            aggregates: checkpoint.aggregates,
            position: checkpoint.position,
            generation: checkpoint.generation,
            ..Self::new(partition)
        };
        let entries = store.journal_entries(partition).await?;
        let journal_read = started.elapsed() - checkpoint_read;
        for entry in &entries {
            progress.fold(entry);
        }
        debug!(
            partition,
            ?checkpoint_read,
            ?journal_read,
            journal_batches = entries.len(),
            took = ?started.elapsed(),
            "partition loaded"
        );
        // Everyone changed, as far as readers know: they read everyone again.
        let loaded_at = progress.position.unwrap_or(0);
        progress.heads = progress
            .aggregates
            .people
            .keys()
            .map(|person| (person.clone(), loaded_at))
            .collect();
        Ok(progress)
    }

    /// Counts a journaled batch, unless the aggregates already cover it.
    pub fn fold(&mut self, entry: &JournalEntry) {
        if self.position.is_some_and(|position| entry.to <= position) {
            return;
        }
        if let Some(position) = self.position.filter(|position| entry.from != *position) {
            warn!(
                partition = entry.partition,
                from = entry.from,
                to = entry.to,
                position,
                "a journaled batch does not start at the counted position"
            );
        }
        self.aggregates.apply(&entry.delta);
        for person in entry.delta.people.keys() {
            if self.aggregates.people.contains_key(person) {
                self.heads.insert(person.clone(), entry.to);
            }
        }
        for forget in &entry.delta.forgotten {
            self.heads.remove(&forget.person);
        }
        self.position = Some(entry.to);
        self.batches_since_checkpoint += 1;
        self.keys_since_checkpoint += entry.delta.keys();
        // What a person asked to forget leaves the stored journal at the next checkpoint.
        self.forgot_since_checkpoint |= !entry.delta.forgotten.is_empty();
    }

    /// Whether to write a checkpoint now: when idle, or when the journal
    /// has grown (less far once the consumer has caught up).
    pub fn checkpoint_due(&self, pace: Pace) -> bool {
        let state_keys = self.aggregates.keys().max(MIN_STATE_KEYS);
        let ratio = match pace {
            Pace::Idle => return self.batches_since_checkpoint > 0,
            Pace::CaughtUp => CAUGHT_UP_JOURNAL_TO_STATE_RATIO,
            Pace::Behind => JOURNAL_TO_STATE_RATIO,
        };
        self.batches_since_checkpoint > 0
            && (self.forgot_since_checkpoint
                || self.keys_since_checkpoint >= ratio * state_keys
                || self.last_checkpoint.elapsed() >= CHECKPOINT_EVERY)
    }

    /// Writes the aggregates as the partition's next checkpoint generation
    /// (nothing when nothing was counted); [`Self::checkpointed`] notes it.
    pub async fn write_checkpoint(
        &self,
        store: &TopicStore,
    ) -> Result<Option<Checkpointed>, StoreError> {
        let Some(position) = self.position else {
            return Ok(None);
        };
        let generation = self.generation + 1;
        store
            .write_checkpoint(self.partition, generation, &self.aggregates, position)
            .await?;
        Ok(Some(Checkpointed {
            generation,
            position,
        }))
    }

    /// Notes a checkpoint written, and tidies in the background the journal
    /// and generations it replaces.
    pub fn checkpointed(&mut self, written: Checkpointed, store: &TopicStore) {
        let Checkpointed {
            generation,
            position,
        } = written;
        self.generation = generation;
        let (store, partition) = (store.clone(), self.partition);
        tokio::spawn(async move {
            if let Err(error) = store
                .tidy_after_checkpoint(partition, generation, position)
                .await
            {
                // The next checkpoint tidies again.
                warn!(partition, generation, %error, "tidying after a checkpoint failed");
            }
        });
        self.batches_since_checkpoint = 0;
        self.keys_since_checkpoint = 0;
        self.forgot_since_checkpoint = false;
        self.last_checkpoint = Instant::now();
    }
}

/// A checkpoint generation written, up to a position of the partition.
#[derive(Debug, Clone, Copy)]
pub struct Checkpointed {
    generation: i64,
    position: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::PersonId;
    use crate::aggregate::people::{PartitionDelta, PersonListen};
    use crate::event::{test_listen, Forget, ForgetScope};

    fn entry(partition: i32, from: i64, to: i64, plays: usize) -> JournalEntry {
        let listen = PersonListen {
            person: PersonId("ann".into()),
            listen: test_listen("a", "A", "2020-01-01T00:00:00Z", 5, false),
        };
        JournalEntry {
            topic: "t".into(),
            partition,
            from,
            to,
            delta: PartitionDelta::from_listens(
                std::iter::repeat_n(&listen, plays),
                &Default::default(),
            ),
            dead_lettered: 0,
            written_at: Default::default(),
        }
    }

    fn empty() -> Progress {
        Progress::new(0)
    }

    #[test]
    fn folding_advances_the_partition_position() {
        let mut progress = empty();
        assert_eq!(progress.position, None);
        progress.fold(&entry(0, 0, 10, 10));
        progress.fold(&entry(0, 10, 12, 2));
        assert_eq!(progress.position, Some(12));
        assert_eq!(progress.aggregates.events(), 12);
    }

    #[test]
    fn batches_the_checkpoint_covers_are_not_counted_again() {
        let mut progress = empty();
        progress.position = Some(10);
        progress.fold(&entry(0, 0, 10, 10));
        progress.fold(&entry(0, 5, 8, 3));
        assert_eq!(progress.aggregates.events(), 0);
        progress.fold(&entry(0, 10, 11, 1));
        assert_eq!(progress.aggregates.events(), 1);
    }

    #[test]
    fn a_checkpoint_is_due_when_idle_with_new_batches() {
        let mut progress = empty();
        assert!(!progress.checkpoint_due(Pace::Idle));
        progress.fold(&entry(0, 0, 1, 1));
        assert!(progress.checkpoint_due(Pace::Idle));
        assert!(!progress.checkpoint_due(Pace::Behind));
        assert!(!progress.checkpoint_due(Pace::CaughtUp));
    }

    #[test]
    fn a_checkpoint_is_due_as_soon_as_someone_was_forgotten() {
        let mut progress = empty();
        progress.fold(&entry(0, 0, 1, 1));
        assert!(!progress.checkpoint_due(Pace::Behind));
        let mut forgetting = entry(0, 1, 2, 0);
        forgetting.delta.forgotten.push(Forget {
            person: PersonId("ann".into()),
            scope: ForgetScope::Data,
            requested_at: chrono::Utc::now(),
        });
        progress.fold(&forgetting);
        assert!(progress.checkpoint_due(Pace::Behind));
        assert_eq!(progress.aggregates.events(), 0);
    }

    #[test]
    fn a_checkpoint_is_due_under_load_once_the_journal_outgrows_the_state() {
        let mut progress = empty();
        progress.fold(&entry(0, 0, 1, 1));
        // Each entry carries one song and one artist delta.
        progress.keys_since_checkpoint = JOURNAL_TO_STATE_RATIO * MIN_STATE_KEYS - 2;
        assert!(!progress.checkpoint_due(Pace::Behind));
        progress.fold(&entry(0, 1, 2, 1));
        assert!(progress.checkpoint_due(Pace::Behind));
    }

    #[test]
    fn once_caught_up_a_journal_as_large_as_the_state_is_due() {
        let mut progress = empty();
        progress.fold(&entry(0, 0, 1, 1));
        progress.keys_since_checkpoint = CAUGHT_UP_JOURNAL_TO_STATE_RATIO * MIN_STATE_KEYS;
        assert!(progress.checkpoint_due(Pace::CaughtUp));
        assert!(!progress.checkpoint_due(Pace::Behind));
    }
}
