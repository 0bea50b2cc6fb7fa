//! Keeps a [`PeopleIndex`] current from MongoDB: a partition is loaded once
//! from its checkpoint and journal, then followed batch by batch along its
//! journal chain, each read an exact `_id` lookup (the only filter FerretDB
//! answers without scanning). A partition is loaded again only when a
//! checkpoint pruned batches it had not followed yet. A partition this
//! server's consumer hands over batch by batch is not read at all (see
//! [`crate::rollup::people`]).

use mongodb::bson::doc;

use super::journal::JournalEntry;
use super::{StoreError, TopicStore, CHECKPOINTS, JOURNAL, LEADERBOARD_HEADS};
use crate::rollup::people::Ranges;

/// A partition's current checkpoint: its generation and position.
type Head = Option<(i64, i64)>;

impl TopicStore {
    /// Brings `index` up to date with every partition of `topic`; true when anything changed.
    pub async fn refresh_rollups(&self, index: &Ranges) -> Result<bool, StoreError> {
        let mut changed = false;
        for partition in self.partitions_with_data().await? {
            changed |= self.refresh_partition(partition, index).await?;
        }
        Ok(changed)
    }

    async fn refresh_partition(&self, partition: i32, index: &Ranges) -> Result<bool, StoreError> {
        let head = self.checkpoint_head(partition).await?;
        let known = index
            .read()
            .head(partition)
            .map(|head| (head.generation, head.position));
        let reload = match (known, head) {
            // Never loaded, or loaded empty by this server's consumer (which
            // no longer owns it, or it would be claimed): load what there is.
            (None | Some((_, None)), _) => true,
            // Batches up to the checkpoint may be pruned: follow only from past it.
            (Some((generation, position)), Some((current, at))) if generation != current => {
                position.is_none_or(|position| position < at)
            }
            _ => false,
        };
        let mut changed = false;
        if reload {
            if !self.load_partition(partition, head, index).await? {
                return Ok(false);
            }
            changed = true;
        } else if let Some((generation, _)) = head {
            index.write().set_generation(partition, generation);
        }
        loop {
            let position = {
                let index = index.read();
                if index.is_handed_over(partition) {
                    return Ok(changed);
                }
                index.head(partition).and_then(|head| head.position)
            };
            let Some(position) = position else {
                return Ok(changed);
            };
            let Some(entry) = self.journal_entry_at(partition, position).await? else {
                return Ok(changed);
            };
            // The consumer may have handed this batch over meanwhile.
            if !index
                .write()
                .apply_at(partition, entry.from, &entry.delta, entry.to)
            {
                return Ok(changed);
            }
            changed = true;
        }
    }

    /// Loads a partition's checkpoint and journal; false when a checkpoint
    /// was written meanwhile (what was read may be incomplete: try again later).
    async fn load_partition(
        &self,
        partition: i32,
        head: Head,
        index: &Ranges,
    ) -> Result<bool, StoreError> {
        let checkpoint = self.load_checkpoint(partition).await?;
        let mut aggregates = checkpoint.aggregates;
        let mut position = checkpoint.position;
        for entry in self.journal_entries(partition).await? {
            if position.is_some_and(|position| entry.to <= position) {
                continue;
            }
            if position.is_some_and(|position| entry.from != position) {
                return Ok(false);
            }
            aggregates.apply(&entry.delta);
            position = Some(entry.to);
        }
        // Nothing counted yet, or a checkpoint written meanwhile: look again next time.
        if position.is_none() || self.checkpoint_head(partition).await? != head {
            return Ok(false);
        }
        Ok(index
            .write()
            .load_partition(partition, checkpoint.generation, position, &aggregates))
    }

    /// The partitions of `topic` that have published figures.
    async fn partitions_with_data(&self) -> Result<Vec<i32>, StoreError> {
        let topic = self.topic();
        use futures::TryStreamExt;
        let documents: Vec<mongodb::bson::Document> = self
            .collection(LEADERBOARD_HEADS)
            .find(doc! { "topic": topic })
            .projection(doc! { "partition": 1 })
            .await
            .map_err(|e| self.error(e))?
            .try_collect()
            .await
            .map_err(|e| self.error(e))?;
        Ok(documents
            .iter()
            .filter_map(|document| document.get_i32("partition").ok())
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
            .collection(JOURNAL)
            .find_one(doc! { "_id": format!("{topic}/{partition}/{from}") })
            .await
            .map_err(|e| self.error(e))?;
        found.as_ref().map(JournalEntry::from_document).transpose()
    }
}
