//! Checkpoints: one partition's complete aggregates at a known offset, so its
//! journal can be pruned and a restart need not replay it from the start.
//!
//! Each partition is checkpointed on its own by the consumer that owns it. A
//! checkpoint of generation `g` of partition `p` is the collection
//! `chunks_p<p>_g<g>` plus the `checkpoints` document `topic/p` naming `g`,
//! the position it covers and the removed accounts whose later listens are
//! not counted. Each person's aggregates (songs, artists, totals, rollups by
//! day) are stored packed (see [`super::compact`]) and cut into chunks of [`CHUNK_BYTES`], one
//! document each (`_id` = `<person>/<part>`): FerretDB's SQLite backend
//! decodes every document a command touches, so a few large documents cost
//! a fraction of one per song (measured: 12.6 s for 170,000 songs, one
//! document each, against well under a second in chunks).
//!
//! Writing one fills the next generation's collection, then switches the
//! `checkpoints` document (a single atomic replace), then drops the older
//! generations' collections and prunes the journal it covers. A crash before
//! the switch leaves the old checkpoint current; the leftovers are dropped by
//! the next checkpoint. Whole collections are dropped rather than documents
//! deleted: FerretDB's SQLite backend fails to delete more than 32,766
//! documents in one command, and dropping costs the same at any size.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{doc, spec::BinarySubtype, Binary, Bson, Document};
use mongodb::options::ReplaceOptions;

use super::journal::{marks_from_bson, marks_to_bson};
use super::{StoreError, TopicStore, CHECKPOINTS};

/// Most bytes of aggregates in one chunk document (BSON allows 16 MiB).
pub const CHUNK_BYTES: usize = 1 << 20;
/// Chunk documents per insert command.
const CHUNKS_PER_INSERT: usize = 8;
/// What a checkpoint generation's collection is called after.
const CHUNKS: &str = "chunks";

/// The collection holding a partition's checkpoint generation.
pub fn generation_collection(partition: i32, generation: i64) -> String {
    format!("{CHUNKS}_p{partition}_g{generation}")
}

/// The generation of a collection named by [`generation_collection`] for
/// `partition`, if it is one; also recognises the per-song collections of
/// earlier builds (`songs_`, `artists_`, `days_`), so they are dropped too.
fn generation_of(name: &str, partition: i32) -> Option<i64> {
    ["chunks", "songs", "artists", "days"]
        .iter()
        .find_map(|kind| name.strip_prefix(&format!("{kind}_p{partition}_g")))?
        .parse()
        .ok()
}
use crate::accounts::PersonId;
use crate::aggregate::import_marks::ImportMarks;
use crate::aggregate::people::PeopleAggregates;
use crate::aggregate::Aggregates;
use crate::metrics::METRICS;

/// One partition's aggregates as of a position.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checkpoint {
    /// 0 before the first checkpoint.
    pub generation: i64,
    /// The offset up to which the aggregates count; `None` before the first checkpoint.
    pub position: Option<i64>,
    pub aggregates: PeopleAggregates,
}

/// Marks checkpoints (and journal entries) that keep each person's listens.
pub const LAYOUT: &str = "listens";

/// What a checkpoint records beside everyone's figures: the removed
/// accounts, and how far each import from the page was counted.
pub struct CheckpointMarks {
    pub removed: Vec<PersonId>,
    pub imports: ImportMarks,
}

impl CheckpointMarks {
    pub fn of(aggregates: &PeopleAggregates) -> Self {
        Self {
            removed: aggregates.removed.iter().cloned().collect(),
            imports: aggregates.imports.clone(),
        }
    }
}

/// A checkpoint generation being filled, person by person; current only
/// once [`Self::finish`] switches to it.
pub struct CheckpointWriter<'a> {
    store: &'a TopicStore,
    partition: i32,
    generation: i64,
    collection: String,
    /// Time spent in MongoDB so far (packing happens between the writes).
    writing: std::time::Duration,
}

impl CheckpointWriter<'_> {
    pub fn generation(&self) -> i64 {
        self.generation
    }

    /// Adds a person's packed aggregates (see [`super::compact`]) to the generation.
    pub async fn add(&mut self, person: &PersonId, packed: &[u8]) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let written = self
            .store
            .write_chunks(&self.collection, person, packed)
            .await;
        self.writing += started.elapsed();
        written
    }

    /// Makes the generation, at `position`, the partition's current checkpoint.
    pub async fn finish(self, position: i64, marks: &CheckpointMarks) -> Result<(), StoreError> {
        let store = self.store;
        let topic = store.topic();
        let started = std::time::Instant::now();
        let removed: Vec<&str> = marks.removed.iter().map(PersonId::as_str).collect();
        let id = checkpoint_id(topic, self.partition);
        let current = doc! {
            "_id": &id,
            "topic": topic,
            "partition": self.partition,
            "generation": self.generation,
            "position": position,
            "removed": removed,
            "imports": marks_to_bson(&marks.imports),
            "layout": LAYOUT,
            "written_at": bson_time(Utc::now()),
        };
        store
            .collection(CHECKPOINTS)
            .replace_one(doc! { "_id": &id }, current)
            .with_options(ReplaceOptions::builder().upsert(true).build())
            .await
            .map_err(|e| store.error(e))?;
        let writing = self.writing + started.elapsed();
        METRICS.mongodb_observe("checkpoint", writing);
        tracing::debug!(
            partition = self.partition,
            generation = self.generation,
            ?writing,
            "checkpoint written"
        );
        Ok(())
    }
}

/// `_id` of a partition's document in `checkpoints`.
fn checkpoint_id(topic: &str, partition: i32) -> String {
    format!("{topic}/{partition}")
}

impl TopicStore {
    /// Refuses a database that holds another topic's aggregates, or
    /// aggregates in the layout of an earlier version (sums by day rather
    /// than listens, or figures from before accounts), in its checkpoints
    /// or its journal.
    pub async fn check_layout(&self) -> Result<(), StoreError> {
        let topic = self.topic();
        let checkpoints = self.collection(CHECKPOINTS);
        let earlier = checkpoints
            .find_one(doc! { "layout": { "$ne": LAYOUT } })
            .await
            .map_err(|e| self.error(e))?;
        if earlier.is_some() || !self.store.layout_is_current().await? {
            return Err(StoreError::EarlierLayout);
        }
        let other = checkpoints
            .find_one(doc! { "topic": { "$ne": topic } })
            .await
            .map_err(|e| self.error(e))?;
        match other {
            Some(other) => Err(StoreError::OtherTopic {
                expected: topic.to_string(),
                found: other.get_str("topic").unwrap_or_default().to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Reads a partition's current checkpoint; an empty one when there is none yet.
    pub async fn load_checkpoint(&self, partition: i32) -> Result<Checkpoint, StoreError> {
        let topic = self.topic();
        let Some(current) = self
            .collection(CHECKPOINTS)
            .find_one(doc! { "_id": checkpoint_id(topic, partition) })
            .await
            .map_err(|e| self.error(e))?
        else {
            return Ok(Checkpoint::default());
        };
        let generation = current
            .get_i64("generation")
            .map_err(|_| corrupt("checkpoint without generation"))?;
        let position = current
            .get_i64("position")
            .map_err(|_| corrupt("checkpoint without position"))?;
        let mut aggregates = PeopleAggregates::default();
        if let Ok(removed) = current.get_array("removed") {
            aggregates.removed = removed
                .iter()
                .filter_map(|person| person.as_str().map(|id| PersonId(id.to_string())))
                .collect();
        }
        aggregates.imports = marks_from_bson(&current)?;
        aggregates.people = self
            .read_chunks(&generation_collection(partition, generation))
            .await?;
        Ok(Checkpoint {
            generation,
            position: Some(position),
            aggregates,
        })
    }

    /// Starts writing a partition's next checkpoint generation: the one
    /// after both `last` (the one its figures were loaded from or last
    /// written) and the one the `checkpoints` document names, which is
    /// newer when a switch was made but not acknowledged (so a retry never
    /// empties the current generation). Its collection is emptied of what
    /// an attempt that crashed before its switch left.
    pub async fn begin_checkpoint(
        &self,
        partition: i32,
        last: i64,
    ) -> Result<CheckpointWriter<'_>, StoreError> {
        let current = self
            .collection(CHECKPOINTS)
            .find_one(doc! { "_id": checkpoint_id(self.topic(), partition) })
            .await
            .map_err(|e| self.error(e))?
            .and_then(|current| current.get_i64("generation").ok())
            .unwrap_or(0);
        let generation = last.max(current) + 1;
        let started = std::time::Instant::now();
        let collection = generation_collection(partition, generation);
        self.collection(&collection)
            .drop()
            .await
            .map_err(|e| self.error(e))?;
        Ok(CheckpointWriter {
            store: self,
            partition,
            generation,
            collection,
            writing: started.elapsed(),
        })
    }

    /// Drops the partition's older checkpoint generations and the journal
    /// entries that `generation` (counted up to `position`) covers. Nothing
    /// reads them any more, so it may run beside counting, and again.
    pub async fn tidy_after_checkpoint(
        &self,
        partition: i32,
        generation: i64,
        position: i64,
    ) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        for name in self
            .store
            .db
            .list_collection_names()
            .await
            .map_err(|e| self.error(e))?
        {
            // Only older ones: a newer one may be being written.
            if generation_of(&name, partition).is_some_and(|other| other < generation) {
                self.collection(&name)
                    .drop()
                    .await
                    .map_err(|e| self.error(e))?;
            }
        }
        self.prune_journal(partition, position).await?;
        tracing::debug!(partition, generation, took = ?started.elapsed(), "checkpoint tidied");
        Ok(())
    }

    /// Writes one person's packed aggregates as chunk documents.
    async fn write_chunks(
        &self,
        collection: &str,
        person: &PersonId,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let mut documents = chunk_documents(person, bytes);
        loop {
            let group: Vec<Document> = documents.by_ref().take(CHUNKS_PER_INSERT).collect();
            if group.is_empty() {
                return Ok(());
            }
            self.collection(collection)
                .insert_many(group)
                .await
                .map_err(|e| self.error(e))?;
        }
    }

    /// Everyone's aggregates from a generation's chunk documents.
    async fn read_chunks(
        &self,
        collection: &str,
    ) -> Result<HashMap<PersonId, Aggregates>, StoreError> {
        let mut cursor = self
            .collection(collection)
            .find(doc! {})
            .await
            .map_err(|e| self.error(e))?;
        let started = std::time::Instant::now();
        let mut parts = Chunks::default();
        while let Some(document) = cursor.try_next().await.map_err(|e| self.error(e))? {
            parts.add(document)?;
        }
        let read = started.elapsed();
        let people = parts.assemble()?;
        tracing::debug!(collection, ?read, unpacked = ?(started.elapsed() - read), "checkpoint chunks read");
        Ok(people)
    }
}

/// A person's packed aggregates cut into chunk documents.
fn chunk_documents<'a>(
    person: &'a PersonId,
    bytes: &'a [u8],
) -> impl Iterator<Item = Document> + 'a {
    let parts = bytes.len().div_ceil(CHUNK_BYTES).max(1) as i32;
    let mut pieces: Vec<&[u8]> = bytes.chunks(CHUNK_BYTES).collect();
    if pieces.is_empty() {
        pieces.push(&[]);
    }
    pieces.into_iter().enumerate().map(move |(part, piece)| {
        doc! {
            "_id": format!("{person}/{part}"),
            "person": person.as_str(),
            "part": part as i32,
            "parts": parts,
            "bytes": Binary { subtype: BinarySubtype::Generic, bytes: piece.to_vec() },
        }
    })
}

/// Chunk documents as they are read, in any order, by person and part.
#[derive(Default)]
struct Chunks {
    people: HashMap<PersonId, (i32, BTreeMap<i32, Vec<u8>>)>,
}

impl Chunks {
    /// Takes in one chunk document (its bytes moved, not copied).
    fn add(&mut self, mut document: Document) -> Result<(), StoreError> {
        let person = PersonId(
            document
                .get_str("person")
                .map_err(|_| corrupt("checkpoint chunk without person"))?
                .to_string(),
        );
        let part = document
            .get_i32("part")
            .map_err(|_| corrupt("checkpoint chunk without part"))?;
        let parts = document
            .get_i32("parts")
            .map_err(|_| corrupt("checkpoint chunk without parts"))?;
        let bytes = match document.remove("bytes") {
            Some(Bson::Binary(binary)) => binary.bytes,
            _ => return Err(corrupt("checkpoint chunk without bytes")),
        };
        let entry = self
            .people
            .entry(person)
            .or_insert((parts, BTreeMap::new()));
        entry.0 = entry.0.max(parts);
        entry.1.insert(part, bytes);
        Ok(())
    }

    /// Each person's aggregates; an error when a chunk is missing.
    fn assemble(self) -> Result<HashMap<PersonId, Aggregates>, StoreError> {
        self.people
            .into_iter()
            .map(|(person, (parts, pieces))| {
                if pieces.len() != parts as usize || pieces.keys().copied().ne(0..parts) {
                    return Err(corrupt(&format!(
                        "checkpoint of {person}: {} of {parts} chunks",
                        pieces.len()
                    )));
                }
                let bytes: Vec<u8> = pieces.into_values().flatten().collect();
                let aggregates =
                    super::compact::unpack_aggregates(&bytes, &format!("checkpoint of {person}"))?;
                Ok((person, aggregates))
            })
            .collect()
    }
}

pub(super) fn bson_time(ts: DateTime<Utc>) -> Bson {
    Bson::DateTime(mongodb::bson::DateTime::from_millis(ts.timestamp_millis()))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generation_collection_is_recognised_by_partition() {
        let name = generation_collection(3, 1_700_000);
        assert_eq!(name, "chunks_p3_g1700000");
        assert_eq!(generation_of(&name, 3), Some(1_700_000));
        assert_eq!(generation_of(&name, 1), None);
        assert_eq!(generation_of("songs_p3_g12", 3), Some(12));
        assert_eq!(generation_of("chunks_p3_gx", 3), None);
        assert_eq!(generation_of("leaderboards", 3), None);
    }

    fn aggregates_of(listens: usize) -> Aggregates {
        let mut delta = crate::aggregate::BatchDelta::default();
        for i in 0..listens {
            let mut listen = crate::event::test_listen(
                &format!("song{i:07}"),
                &format!("Artist {}", i % 97),
                "2021-02-03T04:05:06Z",
                7000,
                i % 3 == 0,
            );
            listen.ts += chrono::Duration::seconds(i as i64 * 181);
            delta.add(&listen);
        }
        let mut aggregates = Aggregates::default();
        aggregates.apply(&delta);
        aggregates
    }

    fn round_trip(aggregates: &Aggregates, shuffle: bool) -> Result<Aggregates, StoreError> {
        let person = PersonId("p".into());
        let bytes = super::super::compact::pack_aggregates(aggregates).unwrap();
        let mut documents: Vec<Document> = chunk_documents(&person, &bytes).collect();
        if shuffle {
            documents.reverse();
        }
        let mut chunks = Chunks::default();
        for document in documents {
            chunks.add(document)?;
        }
        Ok(chunks.assemble()?.remove(&person).unwrap_or_default())
    }

    #[test]
    fn aggregates_round_trip_through_chunks_in_any_order() {
        let small = aggregates_of(3);
        assert_eq!(round_trip(&small, false).unwrap(), small);
        let large = aggregates_of(150_000);
        let bytes = super::super::compact::pack_aggregates(&large).unwrap();
        assert!(bytes.len() > CHUNK_BYTES, "several chunks: {}", bytes.len());
        assert_eq!(round_trip(&large, true).unwrap(), large);
    }

    #[test]
    fn a_missing_chunk_is_reported_not_guessed() {
        let person = PersonId("p".into());
        let bytes = super::super::compact::pack_aggregates(&aggregates_of(150_000)).unwrap();
        let documents: Vec<Document> = chunk_documents(&person, &bytes).collect();
        let mut chunks = Chunks::default();
        for document in documents.into_iter().skip(1) {
            chunks.add(document).unwrap();
        }
        let error = chunks.assemble().unwrap_err();
        assert!(error.to_string().contains("chunks"), "{error}");
    }
}
