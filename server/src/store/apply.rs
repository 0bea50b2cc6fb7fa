//! Applying a journaled batch to the aggregates, idempotently.
//!
//! Every aggregate document keeps, per Kafka partition, a fence: the `to` of
//! the last batch of that partition applied to it. An update only matches while
//! the fence is below the batch's `to`, and sets it in the same atomic write, so
//! applying a batch twice changes nothing. Batches of one partition are applied
//! in chain order, which keeps each fence increasing.

use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Bson, Document};

use super::journal::JournalEntry;
use super::{Store, StoreError, ARTISTS, SONGS, TOTALS, TOTALS_ID};
use crate::aggregate::Tally;

/// Statements per `update` command: well under every server's batch limit.
const STATEMENTS_PER_COMMAND: usize = 1000;

impl Store {
    /// Adds a journaled batch's deltas to the songs, artists and totals.
    pub async fn apply(&self, entry: &JournalEntry) -> Result<(), StoreError> {
        let fence = fence_path(&entry.topic, entry.partition);
        let songs = entry
            .songs
            .iter()
            .map(|change| {
                let latest = doc! {
                    "latest": {
                        "ts": bson_time(change.latest.ts),
                        "track_name": &change.latest.track_name,
                        "artist_name": &change.latest.artist_name,
                        "album_name": &change.latest.album_name,
                    },
                };
                let update = tally_update(&change.tally, &fence, entry.to, latest);
                (Bson::String(change.track_uri.clone()), update)
            })
            .collect();
        self.fenced_updates(SONGS, &fence, entry.to, songs).await?;

        let artists = entry
            .artists
            .iter()
            .map(|change| {
                (
                    Bson::String(change.artist_name.clone()),
                    tally_update(&change.tally, &fence, entry.to, Document::new()),
                )
            })
            .collect();
        self.fenced_updates(ARTISTS, &fence, entry.to, artists)
            .await?;

        if let Some(totals) = &entry.totals {
            let updated_at = doc! { "updated_at": bson_time(Utc::now()) };
            let update = tally_update(totals, &fence, entry.to, updated_at);
            self.fenced_updates(
                TOTALS,
                &fence,
                entry.to,
                vec![(Bson::String(TOTALS_ID.into()), update)],
            )
            .await?;
        }
        Ok(())
    }

    /// Runs fenced upserts in bulk. An upsert whose document exists with its
    /// fence already passed tries to insert a second document and fails with a
    /// duplicate key; that statement is retried as a plain update, which then
    /// either applies (a concurrent insert won the race) or matches nothing
    /// (the batch was applied before).
    async fn fenced_updates(
        &self,
        collection: &str,
        fence: &str,
        to: i64,
        updates: Vec<(Bson, Document)>,
    ) -> Result<(), StoreError> {
        for chunk in updates.chunks(STATEMENTS_PER_COMMAND) {
            let statements: Vec<Document> = chunk
                .iter()
                .map(|(id, update)| {
                    doc! { "q": fenced_filter(id, fence, to), "u": update.clone(), "upsert": true }
                })
                .collect();
            let duplicates = self.run_update(collection, statements).await?;
            if duplicates.is_empty() {
                continue;
            }
            let retries = duplicates
                .into_iter()
                .map(|index| {
                    let (id, update) = &chunk[index];
                    doc! { "q": fenced_filter(id, fence, to), "u": update.clone(), "upsert": false }
                })
                .collect();
            let still_failing = self.run_update(collection, retries).await?;
            if !still_failing.is_empty() {
                return Err(StoreError::Corrupt(format!(
                    "{} updates of {collection} kept failing on a duplicate key",
                    still_failing.len()
                )));
            }
        }
        Ok(())
    }

    /// Sends one `update` command; returns the statements that hit a duplicate key.
    async fn run_update(
        &self,
        collection: &str,
        statements: Vec<Document>,
    ) -> Result<Vec<usize>, StoreError> {
        let reply = self
            .db
            .run_command(doc! { "update": collection, "updates": statements, "ordered": false })
            .await
            .map_err(|e| self.error(e))?;
        let mut duplicates = Vec::new();
        if let Ok(errors) = reply.get_array("writeErrors") {
            for error in errors {
                let error = error.as_document().ok_or_else(|| {
                    StoreError::Corrupt("writeErrors entry is not a document".into())
                })?;
                let code = error.get_i32("code").unwrap_or_default();
                let index = error.get_i32("index").unwrap_or_default();
                if code == 11000 {
                    duplicates.push(usize::try_from(index).unwrap_or_default());
                } else {
                    let message = error.get_str("errmsg").unwrap_or("no message");
                    return Err(StoreError::Corrupt(format!(
                        "update of {collection} failed with code {code}: {message}"
                    )));
                }
            }
        }
        Ok(duplicates)
    }
}

/// The field holding a partition's fence. Kafka topic names may contain `.`,
/// which MongoDB reads as a path separator, and never `~`, so `~` stands in.
pub fn fence_path(topic: &str, partition: i32) -> String {
    format!("fences.{}~{partition}", topic.replace('.', "~"))
}

fn fenced_filter(id: &Bson, fence: &str, to: i64) -> Document {
    doc! {
        "_id": id.clone(),
        "$or": [ { fence: { "$exists": false } }, { fence: { "$lt": to } } ],
    }
}

/// The update adding a tally; `also_max` holds further fields that keep their greatest value.
fn tally_update(tally: &Tally, fence: &str, to: i64, also_max: Document) -> Document {
    let mut max = doc! { "last_listen": bson_time(tally.last_listen) };
    max.extend(also_max);
    doc! {
        "$inc": { "plays": tally.plays, "ms_played": tally.ms_played, "skips": tally.skips },
        "$min": { "first_listen": bson_time(tally.first_listen) },
        "$max": max,
        "$set": { fence: to },
    }
}

fn bson_time(ts: DateTime<Utc>) -> Bson {
    Bson::DateTime(mongodb::bson::DateTime::from_millis(ts.timestamp_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fence_paths_are_distinct_per_topic_and_partition() {
        assert_eq!(fence_path("spotify_streams", 0), "fences.spotify_streams~0");
        assert_eq!(fence_path("a.b", 1), "fences.a~b~1");
        assert_ne!(fence_path("a.b", 1), fence_path("a_b", 1));
        assert_ne!(fence_path("t", 1), fence_path("t", 11));
    }

    #[test]
    fn a_fenced_filter_matches_only_below_the_batch_end() {
        let filter = fenced_filter(&Bson::String("x".into()), "fences.t~0", 42);
        assert_eq!(
            filter,
            doc! { "_id": "x", "$or": [
                { "fences.t~0": { "$exists": false } },
                { "fences.t~0": { "$lt": 42_i64 } },
            ] }
        );
    }
}
