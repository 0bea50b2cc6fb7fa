//! The batch journal: how listens are counted exactly once without
//! multi-document transactions.
//!
//! Each micro-batch of one Kafka partition is written as a single document
//! holding its offset range `[from, to)` and its deltas, in one insert: either
//! the whole batch counts or none of it does. Its `_id` is
//! `topic/partition/from`, so a partition's journal is a chain in which each
//! batch starts where the previous one ended, and no two batches can claim the
//! same position. The aggregates are the last checkpoint plus the journal
//! after it, and the chain's end says where each partition's consumption
//! resumes; messages below that position are redeliveries and are skipped.
//! Batch boundaries are fixed once journaled, so a redelivery that splits the
//! stream differently cannot count anything twice.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{doc, spec::BinarySubtype, Binary, Bson, Document};

use super::{is_duplicate_key, StoreError, TopicStore};

/// The journal of one partition: a collection of its own, so that reading
/// a partition's journal costs what that partition journaled, not everyone's.
pub fn journal_collection(partition: i32) -> String {
    format!("journal_p{partition}")
}
use crate::aggregate::import_marks::ImportMarks;
use crate::aggregate::people::PartitionDelta;
use crate::event::{ImportId, RecordNumber};
use crate::metrics::METRICS;

/// A journal entry packed for its write (see [`JournalEntry::pack`]).
pub struct PackedEntry {
    id: String,
    partition: i32,
    to: i64,
    events: i64,
    document: Document,
}

/// One micro-batch of one partition, as journaled.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    pub topic: String,
    pub partition: i32,
    /// First offset the batch covers.
    pub from: i64,
    /// One past the last offset the batch covers: where the next batch starts.
    pub to: i64,
    /// Each person's delta, and who was forgotten.
    pub delta: PartitionDelta,
    /// Messages of the range that went to the dead-letter topic instead.
    pub dead_lettered: i64,
    pub written_at: DateTime<Utc>,
}

impl JournalEntry {
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.topic, self.partition, self.from)
    }

    /// The entry in its stored form, ready to write. Packing deflates the
    /// whole batch (milliseconds of a backlog's batch), so the consumer
    /// packs on a thread beside the one reading the next batch.
    pub fn pack(&self) -> Result<PackedEntry, StoreError> {
        Ok(PackedEntry {
            id: self.id(),
            partition: self.partition,
            to: self.to,
            events: self.delta.events(),
            document: self.to_document()?,
        })
    }

    /// The stored form. Deltas are kept as one packed blob (see
    /// [`super::compact`]): FerretDB handles a blob an order of magnitude
    /// faster than thousands of nested documents.
    fn to_document(&self) -> Result<Document, StoreError> {
        let deltas = super::compact::pack_delta(&self.delta)?;
        let mut document = doc! {
            "_id": self.id(),
            "topic": &self.topic,
            "partition": self.partition,
            "from": self.from,
            "to": self.to,
            "events": self.delta.events(),
            "dead_lettered": self.dead_lettered,
            "written_at": mongodb::bson::DateTime::from_millis(self.written_at.timestamp_millis()),
            "deltas": Binary { subtype: BinarySubtype::Generic, bytes: deltas },
        };
        if !self.delta.imports.is_empty() {
            document.insert("imports", marks_to_bson(&self.delta.imports));
        }
        Ok(document)
    }

    pub(super) fn from_document(document: &Document) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("journal entry {what}"));
        let deltas = match document.get("deltas") {
            Some(Bson::Binary(binary)) => &binary.bytes,
            _ => return Err(corrupt("without deltas")),
        };
        Ok(Self {
            topic: document
                .get_str("topic")
                .map_err(|_| corrupt("without topic"))?
                .to_string(),
            partition: document
                .get_i32("partition")
                .map_err(|_| corrupt("without partition"))?,
            from: document
                .get_i64("from")
                .map_err(|_| corrupt("without from"))?,
            to: document.get_i64("to").map_err(|_| corrupt("without to"))?,
            delta: PartitionDelta {
                imports: marks_from_bson(document)?,
                ..super::compact::unpack_delta(deltas, "journal deltas")?
            },
            dead_lettered: document.get_i64("dead_lettered").unwrap_or_default(),
            written_at: document
                .get_datetime("written_at")
                .ok()
                .and_then(|ts| DateTime::from_timestamp_millis(ts.timestamp_millis()))
                .unwrap_or_default(),
        })
    }
}

/// How far imports were counted, as stored (in a journal entry, a checkpoint).
pub(super) fn marks_to_bson(marks: &ImportMarks) -> Bson {
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    Bson::Array(
        marks
            .iter()
            .map(|(id, number)| {
                Bson::Document(doc! {
                    "id": id.0.as_str(),
                    "file": i64::from(number.file),
                    "record": count(number.record),
                })
            })
            .collect(),
    )
}

/// The marks of a document's `imports`; none when it has none (it was
/// written before imports from the page, or holds none).
pub(super) fn marks_from_bson(document: &Document) -> Result<ImportMarks, StoreError> {
    let Ok(marks) = document.get_array("imports") else {
        return Ok(ImportMarks::default());
    };
    marks
        .iter()
        .map(|mark| {
            let mark = mark.as_document()?;
            let id = ImportId(mark.get_str("id").ok()?.to_string());
            let file = u32::try_from(mark.get_i64("file").ok()?).ok()?;
            let record = u64::try_from(mark.get_i64("record").ok()?).ok()?;
            Some((id, RecordNumber { file, record }))
        })
        .collect::<Option<ImportMarks>>()
        .ok_or_else(|| StoreError::Corrupt("a stored import mark is unreadable".into()))
}

impl TopicStore {
    /// Writes a batch to the journal; from then on it counts, even after a crash.
    ///
    /// Writing the same batch again (a retry after an unanswered attempt) is
    /// harmless. Fails with [`StoreError::JournalConflict`] when a different
    /// batch already starts at the same position: another consumer got there.
    pub async fn journal(&self, entry: &JournalEntry) -> Result<(), StoreError> {
        debug_assert_eq!(entry.topic, self.topic(), "a batch of another topic");
        self.journal_packed(entry.pack()?).await
    }

    /// [`Self::journal`] of an entry already packed.
    pub async fn journal_packed(&self, entry: PackedEntry) -> Result<(), StoreError> {
        let _timer = METRICS.mongodb_timer("journal");
        let journal = self.collection(&journal_collection(entry.partition));
        match journal.insert_one(entry.document).await {
            Ok(_) => Ok(()),
            Err(error) if is_duplicate_key(&error) => {
                let existing = journal
                    .find_one(doc! { "_id": &entry.id })
                    .projection(doc! { "to": 1, "events": 1 })
                    .await
                    .map_err(|e| self.error(e))?;
                let same = existing.is_some_and(|existing| {
                    existing.get_i64("to").ok() == Some(entry.to)
                        && existing.get_i64("events").ok() == Some(entry.events)
                });
                if same {
                    Ok(())
                } else {
                    Err(StoreError::JournalConflict(entry.id))
                }
            }
            Err(error) => Err(self.error(error)),
        }
    }

    /// Every journaled batch of a partition, in chain order.
    pub async fn journal_entries(&self, partition: i32) -> Result<Vec<JournalEntry>, StoreError> {
        let topic = self.topic();
        let documents: Vec<Document> = self
            .collection(&journal_collection(partition))
            .find(doc! { "topic": topic, "partition": partition })
            .sort(doc! { "from": 1 })
            .await
            .map_err(|e| self.error(e))?
            .try_collect()
            .await
            .map_err(|e| self.error(e))?;
        documents.iter().map(JournalEntry::from_document).collect()
    }

    /// Forgets the batches of a partition that its checkpoint already covers.
    pub async fn prune_journal(&self, partition: i32, position: i64) -> Result<(), StoreError> {
        let topic = self.topic();
        self.collection(&journal_collection(partition))
            .delete_many(
                doc! { "topic": topic, "partition": partition, "to": { "$lte": position } },
            )
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_listen;

    #[test]
    fn entry_round_trips_through_its_stored_form() {
        // Dots and dollars would be trouble as field names; in the blob they are not.
        let event = test_listen("a", "A.$b", "2020-01-01T00:00:00Z", 5, true);
        let entry = JournalEntry {
            topic: "t.x".into(),
            partition: 2,
            from: 10,
            to: 12,
            delta: PartitionDelta::from_listens(
                [&crate::aggregate::people::PersonListen {
                    person: crate::accounts::PersonId("p.$1".into()),
                    listen: event,
                }],
                &Default::default(),
            ),
            dead_lettered: 1,
            written_at: "2024-05-06T07:08:09.123Z".parse().unwrap(),
        };
        assert_eq!(entry.id(), "t.x/2/10");
        let document = entry.to_document().unwrap();
        assert_eq!(document.get_i64("events").unwrap(), 1);
        assert!(!document.contains_key("imports"), "written as before");
        assert_eq!(JournalEntry::from_document(&document).unwrap(), entry);

        // With how far imports from the page were counted.
        let mut entry = entry;
        entry.delta.imports = [
            (
                ImportId("i1".into()),
                RecordNumber {
                    file: 3,
                    record: 1 << 40,
                },
            ),
            (ImportId("i2".into()), RecordNumber { file: 0, record: 7 }),
        ]
        .into_iter()
        .collect();
        let document = entry.to_document().unwrap();
        assert_eq!(JournalEntry::from_document(&document).unwrap(), entry);
    }

    #[test]
    fn an_unreadable_import_mark_is_reported() {
        let bad = doc! { "imports": [ { "id": "i1", "file": -1_i64, "record": 2_i64 } ] };
        assert!(marks_from_bson(&bad).is_err());
        let missing = doc! { "imports": [ { "id": "i1" } ] };
        assert!(marks_from_bson(&missing).is_err());
        assert!(marks_from_bson(&doc! {}).unwrap().is_empty());
    }

    #[test]
    fn a_malformed_entry_is_reported_not_panicked_on() {
        let error = JournalEntry::from_document(&doc! { "topic": "t" }).unwrap_err();
        assert!(error.to_string().contains("journal entry"));
    }
}
