//! The batch journal: how listens are counted exactly once without
//! multi-document transactions.
//!
//! Each micro-batch of one Kafka partition is first written as a single
//! document holding its offset range `[from, to)` and its deltas. Its `_id` is
//! `topic/partition/from`, so the journal of a partition is a chain in which
//! each entry starts where the previous one ended, and two consumers cannot
//! both journal a batch from the same position. Once written, the batch is
//! applied to the aggregates with per-document fences (see [`super::apply`]),
//! which makes applying it again harmless; then it is marked applied.
//!
//! After a crash, entries not yet marked applied are applied again before
//! anything new is consumed, and the chain's last `to` tells where the
//! partition's consumption resumes. Batch boundaries are fixed once journaled,
//! so redelivered messages below that position are simply skipped.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{self, doc};
use serde::{Deserialize, Serialize};

use super::{is_duplicate_key, Store, StoreError, JOURNAL};
use crate::aggregate::{BatchDelta, LatestNames, SongDelta, Tally};

/// One micro-batch of one partition, as journaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    #[serde(rename = "_id")]
    pub id: String,
    pub topic: String,
    pub partition: i32,
    /// First offset the batch covers.
    pub from: i64,
    /// One past the last offset the batch covers: where the next batch starts.
    pub to: i64,
    pub applied: bool,
    /// Deltas, dropped once applied to keep the journal small.
    #[serde(default)]
    pub songs: Vec<SongChange>,
    #[serde(default)]
    pub artists: Vec<ArtistChange>,
    #[serde(default)]
    pub totals: Option<Tally>,
    /// Messages of the range that went to the dead-letter topic instead.
    pub dead_lettered: i64,
    pub written_at: DateTime<Utc>,
}

/// What a batch adds to one song. Artist names can contain any character, so
/// deltas are stored as lists rather than as documents keyed by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SongChange {
    pub track_uri: String,
    pub tally: Tally,
    pub latest: LatestNames,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtistChange {
    pub artist_name: String,
    pub tally: Tally,
}

impl JournalEntry {
    pub fn new(
        topic: &str,
        partition: i32,
        from: i64,
        to: i64,
        delta: BatchDelta,
        dead_lettered: i64,
    ) -> Self {
        Self {
            id: entry_id(topic, partition, from),
            topic: topic.to_string(),
            partition,
            from,
            to,
            applied: false,
            songs: delta
                .songs
                .into_iter()
                .map(|(track_uri, SongDelta { tally, latest })| SongChange {
                    track_uri,
                    tally,
                    latest,
                })
                .collect(),
            artists: delta
                .artists
                .into_iter()
                .map(|(artist_name, tally)| ArtistChange { artist_name, tally })
                .collect(),
            totals: delta.totals,
            dead_lettered,
            written_at: Utc::now(),
        }
    }

    /// Events counted by this batch.
    pub fn events(&self) -> i64 {
        self.totals.as_ref().map_or(0, |totals| totals.plays)
    }
}

fn entry_id(topic: &str, partition: i32, from: i64) -> String {
    format!("{topic}/{partition}/{from}")
}

impl Store {
    /// Writes a batch to the journal; from then on it counts, even after a crash.
    ///
    /// Fails with [`StoreError::JournalConflict`] when another consumer already
    /// journaled a batch from the same position.
    pub async fn journal(&self, entry: &JournalEntry) -> Result<(), StoreError> {
        let document = bson::to_document(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        match self.collection(JOURNAL).insert_one(document).await {
            Ok(_) => Ok(()),
            Err(error) if is_duplicate_key(&error) => {
                Err(StoreError::JournalConflict(entry.id.clone()))
            }
            Err(error) => Err(self.error(error)),
        }
    }

    /// Marks a batch applied, drops its deltas and forgets older entries of its partition.
    pub async fn mark_applied(&self, entry: &JournalEntry) -> Result<(), StoreError> {
        let journal = self.collection(JOURNAL);
        journal
            .update_one(
                doc! { "_id": &entry.id },
                doc! { "$set": { "applied": true }, "$unset": { "songs": "", "artists": "" } },
            )
            .await
            .map_err(|e| self.error(e))?;
        journal
            .delete_many(doc! {
                "topic": &entry.topic,
                "partition": entry.partition,
                "applied": true,
                "to": { "$lte": entry.from },
            })
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Batches of the topic journaled but not yet known to be applied, in chain order.
    pub async fn pending_batches(
        &self,
        topic: &str,
        partition: Option<i32>,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let mut filter = doc! { "topic": topic, "applied": false };
        if let Some(partition) = partition {
            filter.insert("partition", partition);
        }
        let documents: Vec<bson::Document> = self
            .collection(JOURNAL)
            .find(filter)
            .sort(doc! { "partition": 1, "from": 1 })
            .await
            .map_err(|e| self.error(e))?
            .try_collect()
            .await
            .map_err(|e| self.error(e))?;
        documents
            .into_iter()
            .map(|document| {
                bson::from_document(document).map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }

    /// Where consumption of a partition resumes: the end of its last journaled
    /// batch, or `None` when nothing of it was ever counted.
    pub async fn resume_position(
        &self,
        topic: &str,
        partition: i32,
    ) -> Result<Option<i64>, StoreError> {
        let last = self
            .collection(JOURNAL)
            .find_one(doc! { "topic": topic, "partition": partition })
            .sort(doc! { "from": -1 })
            .projection(doc! { "to": 1 })
            .await
            .map_err(|e| self.error(e))?;
        last.map(|document| {
            document
                .get_i64("to")
                .map_err(|e| StoreError::Corrupt(format!("journal entry without `to`: {e}")))
        })
        .transpose()
    }

    /// Applies every pending batch of the partition (or of all partitions) in order.
    pub async fn apply_pending(
        &self,
        topic: &str,
        partition: Option<i32>,
    ) -> Result<usize, StoreError> {
        let pending = self.pending_batches(topic, partition).await?;
        for entry in &pending {
            self.apply(entry).await?;
            self.mark_applied(entry).await?;
        }
        Ok(pending.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ListenEvent;

    #[test]
    fn entry_round_trips_through_bson() {
        let event = ListenEvent {
            track_uri: "spotify:track:a".into(),
            ts: "2020-01-01T00:00:00Z".parse().unwrap(),
            ms_played: 5,
            track_name: "T".into(),
            artist_name: "A.$b".into(),
            album_name: "".into(),
            platform: "".into(),
            reason_start: "".into(),
            reason_end: "".into(),
            shuffle: false,
            skipped: true,
        };
        let entry = JournalEntry::new("t.x", 2, 10, 12, BatchDelta::from_events([&event]), 1);
        assert_eq!(entry.id, "t.x/2/10");
        assert_eq!(entry.events(), 1);
        let document = bson::to_document(&entry).unwrap();
        let back: JournalEntry = bson::from_document(document).unwrap();
        assert_eq!(back, entry);
    }
}
