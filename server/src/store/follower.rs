//! Loading a partition (its last checkpoint and the journal after it: the
//! one path both counting and following take), and following the
//! partitions this server's consumer does not own along their journal, so
//! that every partition is answered here: a partition is loaded once,
//! then followed batch by batch, each read an exact `_id` lookup (the only
//! filter FerretDB answers without scanning), and loaded again only when
//! a checkpoint pruned batches it had not followed yet.

use mongodb::bson::doc;

use super::journal::{journal_collection, JournalEntry};
use super::{StoreError, TopicStore, CHECKPOINTS};
use crate::aggregate::people::Recounted;
use crate::rollup::held::{Held, HeldPartition, Keeper, PartitionFigures};

/// A partition's current checkpoint: its generation and position.
type Head = Option<(i64, i64)>;

impl TopicStore {
    /// A partition's figures: its last checkpoint plus every journaled
    /// batch after it, in chain order.
    pub async fn load_partition(&self, partition: i32) -> Result<PartitionFigures, StoreError> {
        let started = std::time::Instant::now();
        let checkpoint = self.load_checkpoint(partition).await?;
        let checkpoint_read = started.elapsed();
        let mut figures = PartitionFigures {
            aggregates: checkpoint.aggregates,
            position: checkpoint.position,
            generation: checkpoint.generation,
        };
        let entries = self.journal_entries(partition).await?;
        let journal_read = started.elapsed() - checkpoint_read;
        for entry in &entries {
            fold(&mut figures, entry, Recounted::default());
        }
        tracing::debug!(
            partition,
            ?checkpoint_read,
            ?journal_read,
            journal_batches = entries.len(),
            took = ?started.elapsed(),
            "partition loaded"
        );
        Ok(figures)
    }

    /// A partition's figures loaded while no checkpoint was written (one
    /// written meanwhile may have pruned what was read): tried a few times,
    /// then taken as read.
    pub async fn load_consistent(&self, partition: i32) -> Result<PartitionFigures, StoreError> {
        for _ in 0..3 {
            let head = self.checkpoint_head(partition).await?;
            let figures = self.load_partition(partition).await?;
            if self.checkpoint_head(partition).await? == head {
                return Ok(figures);
            }
        }
        self.load_partition(partition).await
    }

    /// Brings every partition with figures that nobody counts here or
    /// elsewhere (`owned_elsewhere` says which another server counts) into
    /// `held`, and each up to date, and lets go of those another server
    /// counts again; true when anything changed.
    pub async fn follow_partitions(
        &self,
        held: &Held,
        owned_elsewhere: impl Fn(i32) -> bool,
    ) -> Result<bool, StoreError> {
        let mut changed = false;
        for (partition, keeper) in held.keepers() {
            if keeper == Keeper::Follower && owned_elsewhere(partition) {
                if let Some(followed) = held.get(partition) {
                    held.remove(partition, &followed);
                    changed = true;
                }
            }
        }
        for partition in self.partitions_with_data().await? {
            if held.is_claimed(partition) || owned_elsewhere(partition) {
                continue;
            }
            changed |= self.follow_partition(partition, held).await?;
        }
        Ok(changed)
    }

    async fn follow_partition(&self, partition: i32, held: &Held) -> Result<bool, StoreError> {
        let head = self.checkpoint_head(partition).await?;
        let followed = held
            .get(partition)
            .filter(|current| current.keeper == Keeper::Follower);
        let known = followed.as_ref().map(|current| {
            let figures = current.read();
            (figures.generation, figures.position)
        });
        let reload = match (known, head) {
            (None, _) => true,
            // Batches up to the checkpoint may be pruned: follow only from past it.
            (Some((generation, position)), Some((current, at))) if generation != current => {
                position.is_none_or(|position| position < at)
            }
            _ => false,
        };
        let current = match followed {
            Some(current) if !reload => {
                if let Some((generation, _)) = head {
                    current.update(|figures| figures.checkpointed(generation));
                }
                current
            }
            _ => {
                let figures = self.load_partition(partition).await?;
                // Nothing counted yet, or a checkpoint written meanwhile
                // (what was read may be incomplete): look again next time.
                if figures.position.is_none() || self.checkpoint_head(partition).await? != head {
                    return Ok(false);
                }
                let loaded = HeldPartition::new(Keeper::Follower, figures);
                return Ok(held.insert_followed(partition, loaded));
            }
        };
        let mut changed = false;
        loop {
            let Some(position) = current.read().position else {
                return Ok(changed);
            };
            let Some(entry) = self.journal_entry_at(partition, position).await? else {
                return Ok(changed);
            };
            let recounted = recount_ahead(&current.read(), &entry);
            current.update(|figures| fold(figures, &entry, recounted));
            changed = true;
        }
    }

    /// The partitions of `topic` that have published figures.
    async fn partitions_with_data(&self) -> Result<Vec<i32>, StoreError> {
        Ok(self
            .leaderboard_heads()
            .await?
            .into_iter()
            .map(|(partition, _)| partition)
            .collect())
    }

    async fn checkpoint_head(&self, partition: i32) -> Result<Head, StoreError> {
        let topic = self.topic();
        let head = self
            .collection(CHECKPOINTS)
            .find_one(doc! { "_id": format!("{topic}/{partition}") })
            .projection(doc! { "generation": 1, "position": 1 })
            .await
            .map_err(|e| self.error(e))?;
        Ok(head.and_then(|head| {
            Some((
                head.get_i64("generation").ok()?,
                head.get_i64("position").ok()?,
            ))
        }))
    }

    /// The journaled batch of a partition that starts at `from`, if there is one.
    async fn journal_entry_at(
        &self,
        partition: i32,
        from: i64,
    ) -> Result<Option<JournalEntry>, StoreError> {
        let topic = self.topic();
        let found = self
            .collection(&journal_collection(partition))
            .find_one(doc! { "_id": format!("{topic}/{partition}/{from}") })
            .await
            .map_err(|e| self.error(e))?;
        found.as_ref().map(JournalEntry::from_document).transpose()
    }
}

/// Whether `figures` count a journaled batch already.
fn covers(figures: &PartitionFigures, entry: &JournalEntry) -> bool {
    figures
        .position
        .is_some_and(|position| entry.to <= position)
}

/// What folding a journaled batch into `figures` counts again (the people
/// it cleans up), worked out ahead while they can still be read; nothing
/// when they cover it already.
pub fn recount_ahead(figures: &PartitionFigures, entry: &JournalEntry) -> Recounted {
    if covers(figures, entry) {
        return Recounted::default();
    }
    figures.aggregates.recount_ahead(&entry.delta)
}

/// Counts a journaled batch into `figures`, unless they already cover it,
/// with what [`recount_ahead`] worked out of it.
pub fn fold(figures: &mut PartitionFigures, entry: &JournalEntry, recounted: Recounted) -> bool {
    if covers(figures, entry) {
        return false;
    }
    if let Some(position) = figures.position.filter(|position| entry.from != *position) {
        tracing::warn!(
            partition = entry.partition,
            from = entry.from,
            to = entry.to,
            position,
            "a journaled batch does not start at the counted position"
        );
    }
    figures.aggregates.apply_recounted(&entry.delta, recounted);
    figures.position = Some(entry.to);
    true
}
