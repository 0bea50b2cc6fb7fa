//! What the consumer has counted of one partition it owns: the partition's
//! aggregates and the offset up to which they count. Loaded when the
//! partition is assigned, from its last checkpoint plus the journal after it,
//! then advanced batch by batch.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::warn;

use crate::accounts::PersonId;
use crate::aggregate::import_marks::ImportMarks;
use crate::rollup::held::{HeldPartition, Keeper};
use crate::store::checkpoint::CheckpointMarks;
use crate::store::compact::pack_aggregates;
use crate::store::follower::{fold, recount_ahead};
use crate::store::journal::JournalEntry;
use crate::store::leaderboard::PartitionHeads;
use crate::store::{StoreError, TopicStore};

/// Under load, a checkpoint is written once the journal since the last one
/// holds this many times as many listens as the partition holds: writing
/// checkpoints then costs a fixed share of the work, and a restart replays
/// a journal bounded by the state's size.
const JOURNAL_TO_STATE_RATIO: usize = 4;
/// Once the consumer has caught up, a journal as large as the state is
/// enough: the checkpoint costs little then, and a restart reads the
/// journal after it (151 batches, 1 s of a 4 s restart, when the last
/// checkpoint was written early in a 1M backlog and no idle moment came).
const CAUGHT_UP_JOURNAL_TO_STATE_RATIO: usize = 1;
/// Small states are checkpointed as if they held this many listens.
const MIN_STATE_KEYS: usize = 10_000;
/// While the consumer is behind, a partition's leaderboards are published at
/// most this often: each publication works out, writes and has readers read
/// again the rankings of everyone who changed, and 100 people importing at
/// once changed in every batch, five times a second (FerretDB's updates and
/// finds were 29% of its work). Caught up, each batch is published at once.
const PUBLISH_EVERY_BEHIND: Duration = Duration::from_millis(500);
/// Longest time journaled batches wait for a checkpoint under load.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(600);

/// How the consumer keeps up with its partitions, as checkpoints see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// No message for a while.
    Idle,
    /// The last batch ended on its time with nothing waiting.
    CaughtUp,
    /// More was waiting when the last batch ended.
    Behind,
}

pub struct Progress {
    pub partition: i32,
    /// The partition's figures, which requests read as they are counted.
    pub held: Arc<HeldPartition>,
    /// Whose figures the partition holds, and the position at which each last changed.
    pub heads: PartitionHeads,
    /// How far each import from the page was read: counted, and in the
    /// batches read since (their listens are not in the figures yet).
    pub imports_read: ImportMarks,
    batches_since_checkpoint: usize,
    /// Listens journaled since the last checkpoint.
    keys_since_checkpoint: usize,
    /// Whether someone was forgotten since the last checkpoint: their figures
    /// are then still in the journal, so a checkpoint is due at once.
    forgot_since_checkpoint: bool,
    last_checkpoint: Instant,
    /// Changes counted and not yet published.
    pub unpublished: Unpublished,
}

impl Progress {
    fn new(partition: i32, held: Arc<HeldPartition>) -> Self {
        let imports_read = held.read().aggregates.imports.clone();
        Self {
            partition,
            held,
            heads: PartitionHeads::default(),
            imports_read,
            batches_since_checkpoint: 0,
            keys_since_checkpoint: 0,
            forgot_since_checkpoint: false,
            last_checkpoint: Instant::now(),
            unpublished: Unpublished::default(),
        }
    }

    /// Reads the partition's last checkpoint and folds in the journal after it.
    pub async fn load(store: &TopicStore, partition: i32) -> Result<Self, StoreError> {
        let figures = store.load_partition(partition).await?;
        // Everyone changed, as far as readers know: they read everyone again.
        let loaded_at = figures.position.unwrap_or(0);
        let heads = figures
            .aggregates
            .people
            .keys()
            .map(|person| (person.clone(), loaded_at))
            .collect();
        let mut progress = Self::new(partition, HeldPartition::new(Keeper::Consumer, figures));
        progress.heads = heads;
        Ok(progress)
    }

    /// One past the last counted offset; `None` while nothing of the partition is counted.
    pub fn position(&self) -> Option<i64> {
        self.held.read().position
    }

    pub fn generation(&self) -> i64 {
        self.held.read().generation
    }

    /// Counts a journaled batch, unless the aggregates already cover it.
    pub fn fold(&mut self, entry: &JournalEntry) {
        let heads = &mut self.heads;
        // A clean-up counts a person's listens again: it costs a restart
        // that replays it as much as they hold.
        let mut recounted = 0;
        let ahead = recount_ahead(&self.held.read(), entry);
        let folded = self.held.update(|figures| {
            if !fold(figures, entry, ahead) {
                return false;
            }
            for clean_up in &entry.delta.cleaned {
                recounted += figures
                    .aggregates
                    .people
                    .get(&clean_up.person)
                    .map_or(0, |held| held.keys() + held.set_aside().len());
            }
            for person in entry.delta.changed() {
                if figures.aggregates.people.contains_key(&person) {
                    heads.insert(person, entry.to);
                }
            }
            true
        });
        if !folded {
            return;
        }
        for forget in &entry.delta.forgotten {
            self.heads.remove(&forget.person);
        }
        self.batches_since_checkpoint += 1;
        self.keys_since_checkpoint += entry.delta.keys() + recounted;
        // What a person asked to forget leaves the stored journal at the next checkpoint.
        self.forgot_since_checkpoint |= !entry.delta.forgotten.is_empty();
    }

    /// Whether to write a checkpoint now: when idle, or when the journal
    /// has grown (less far once the consumer has caught up).
    pub fn checkpoint_due(&self, pace: Pace) -> bool {
        let state_keys = self.held.read().aggregates.keys().max(MIN_STATE_KEYS);
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
    /// Each person's are packed on a blocking thread (the figures stay
    /// readable meanwhile) and written before the next is packed, so no
    /// more than one person's packed figures are held at a time. Only the
    /// consumer changes the figures, and it waits for this: every person
    /// is packed as of the same position (checked as each is packed).
    pub async fn write_checkpoint(
        &self,
        store: &TopicStore,
    ) -> Result<Option<Checkpointed>, StoreError> {
        let (people, marks, position, last) = {
            let figures = self.held.read();
            let Some(position) = figures.position else {
                return Ok(None);
            };
            let people: Vec<PersonId> = figures.aggregates.people.keys().cloned().collect();
            let marks = CheckpointMarks::of(&figures.aggregates);
            (people, marks, position, figures.generation)
        };
        let mut writer = store.begin_checkpoint(self.partition, last).await?;
        for person in people {
            let held = Arc::clone(&self.held);
            let packing = person.clone();
            let packed = tokio::task::spawn_blocking(move || {
                let figures = held.read();
                match figures.aggregates.people.get(&packing) {
                    Some(aggregates) if figures.position == Some(position) => {
                        pack_aggregates(aggregates)
                    }
                    _ => Err(StoreError::Corrupt(format!(
                        "the figures changed while a checkpoint was written ({packing})"
                    ))),
                }
            })
            .await
            .map_err(|e| StoreError::Corrupt(format!("packing a checkpoint failed: {e}")))??;
            writer.add(&person, &packed).await?;
        }
        let generation = writer.generation();
        writer.finish(position, &marks).await?;
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
        self.held.update(|figures| figures.checkpointed(generation));
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

/// Whose leaderboards changed since the partition's last publication.
#[derive(Debug, Default)]
pub struct Unpublished {
    changed: BTreeSet<PersonId>,
    forgotten: BTreeSet<PersonId>,
    last_published: Option<Instant>,
}

/// What a publication tells readers: whose leaderboards to write anew,
/// whose to remove.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Publishing {
    pub changed: Vec<PersonId>,
    pub forgotten: Vec<PersonId>,
}

impl Unpublished {
    /// Notes a batch counted: who changed in it, then who was forgotten
    /// (a batch ends with a forgetting, so the later word decides).
    pub fn note(&mut self, changed: Vec<PersonId>, forgotten: Vec<PersonId>) {
        for person in changed {
            self.forgotten.remove(&person);
            self.changed.insert(person);
        }
        for person in forgotten {
            self.changed.remove(&person);
            self.forgotten.insert(person);
        }
    }

    /// What to publish now, if anything: everything once the consumer
    /// caught up, and while it is behind, what piled up since
    /// [`PUBLISH_EVERY_BEHIND`] ago.
    pub fn take_due(&mut self, pace: Pace, now: Instant) -> Option<Publishing> {
        if self.changed.is_empty() && self.forgotten.is_empty() {
            return None;
        }
        let waited_enough = self
            .last_published
            .is_none_or(|last| now.duration_since(last) >= PUBLISH_EVERY_BEHIND);
        if pace == Pace::Behind && !waited_enough {
            return None;
        }
        self.last_published = Some(now);
        Some(Publishing {
            changed: std::mem::take(&mut self.changed).into_iter().collect(),
            forgotten: std::mem::take(&mut self.forgotten).into_iter().collect(),
        })
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
        Progress::new(0, HeldPartition::new(Keeper::Consumer, Default::default()))
    }

    fn events(progress: &Progress) -> i64 {
        progress.held.read().aggregates.events()
    }

    #[test]
    fn folding_advances_the_partition_position() {
        let mut progress = empty();
        assert_eq!(progress.position(), None);
        progress.fold(&entry(0, 0, 10, 10));
        progress.fold(&entry(0, 10, 12, 2));
        assert_eq!(progress.position(), Some(12));
        assert_eq!(events(&progress), 12);
    }

    #[test]
    fn batches_the_checkpoint_covers_are_not_counted_again() {
        let mut progress = empty();
        progress.held.update(|figures| figures.position = Some(10));
        progress.fold(&entry(0, 0, 10, 10));
        progress.fold(&entry(0, 5, 8, 3));
        assert_eq!(events(&progress), 0);
        progress.fold(&entry(0, 10, 11, 1));
        assert_eq!(events(&progress), 1);
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
        assert_eq!(events(&progress), 0);
    }

    #[test]
    fn a_checkpoint_is_due_under_load_once_the_journal_outgrows_the_state() {
        let mut progress = empty();
        progress.fold(&entry(0, 0, 1, 1));
        // Each entry carries one listen.
        progress.keys_since_checkpoint = JOURNAL_TO_STATE_RATIO * MIN_STATE_KEYS - 1;
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

    fn people(names: &[&str]) -> Vec<PersonId> {
        names.iter().map(|name| PersonId((*name).into())).collect()
    }

    #[test]
    fn behind_leaderboards_are_published_at_most_every_half_second_and_at_once_when_caught_up() {
        let mut unpublished = Unpublished::default();
        let start = Instant::now();
        assert_eq!(
            unpublished.take_due(Pace::CaughtUp, start),
            None,
            "nothing changed"
        );
        unpublished.note(people(&["ann"]), vec![]);
        // The first publication is not held back.
        let first = unpublished.take_due(Pace::Behind, start);
        assert_eq!(first.map(|p| p.changed), Some(people(&["ann"])));
        unpublished.note(people(&["bob"]), vec![]);
        let soon = start + PUBLISH_EVERY_BEHIND / 2;
        assert_eq!(unpublished.take_due(Pace::Behind, soon), None);
        unpublished.note(people(&["cy"]), vec![]);
        let later = start + PUBLISH_EVERY_BEHIND;
        let piled_up = unpublished
            .take_due(Pace::Behind, later)
            .expect("due again");
        assert_eq!(piled_up.changed, people(&["bob", "cy"]));
        assert_eq!(unpublished.take_due(Pace::Behind, later), None, "taken");
        // Caught up (or idle), a change is published however recent the last.
        unpublished.note(people(&["dan"]), vec![]);
        let caught_up = unpublished
            .take_due(Pace::CaughtUp, later)
            .expect("published at once");
        assert_eq!(caught_up.changed, people(&["dan"]));
        unpublished.note(people(&["eve"]), vec![]);
        assert!(unpublished.take_due(Pace::Idle, later).is_some());
    }

    #[test]
    fn of_a_change_and_a_forgetting_not_yet_published_the_later_decides() {
        let mut unpublished = Unpublished::default();
        unpublished.note(people(&["ann", "bob"]), people(&["ann"]));
        unpublished.note(people(&["cy"]), people(&["dan"]));
        unpublished.note(people(&["dan"]), vec![]);
        let publishing = unpublished
            .take_due(Pace::CaughtUp, Instant::now())
            .expect("due");
        assert_eq!(
            publishing,
            Publishing {
                changed: people(&["bob", "cy", "dan"]),
                forgotten: people(&["ann"]),
            }
        );
    }
}
