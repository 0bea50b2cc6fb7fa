//! Checkpoints: one partition's complete aggregates at a known offset, so its
//! journal can be pruned and a restart need not replay it from the start.
//!
//! Each partition is checkpointed on its own by the consumer that owns it. A
//! checkpoint of generation `g` of partition `p` is the collections
//! `songs_p<p>_g<g>`, `artists_p<p>_g<g>` and `days_p<p>_g<g>` (one document
//! per person and song, artist or day of listening, `_id` =
//! `<person>/<song, artist or day>`) plus the `checkpoints` document `topic/p`
//! naming `g`, the position it covers, each person's totals and the removed
//! accounts whose later listens are not counted. Writing one fills the next generation's collections,
//! then switches the `checkpoints` document (a single atomic replace), then
//! drops the older generations' collections and prunes the journal it covers.
//! A crash before the switch leaves the old checkpoint current; the leftovers
//! are dropped by the next checkpoint. Whole collections are dropped rather
//! than documents deleted: FerretDB's SQLite backend fails to delete more than
//! 32,766 documents in one command, and dropping costs the same at any size.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{doc, spec::BinarySubtype, Binary, Bson, Document};
use mongodb::options::ReplaceOptions;

use super::{Store, StoreError, ARTISTS, CHECKPOINTS, DAYS, SONGS};

/// The collection holding one kind of aggregate (`songs` or `artists`) of a
/// partition's checkpoint generation.
pub fn generation_collection(kind: &str, partition: i32, generation: i64) -> String {
    format!("{kind}_p{partition}_g{generation}")
}

/// The generation of a collection named by [`generation_collection`], if it is one of `kind` of `partition`.
fn generation_of(name: &str, kind: &str, partition: i32) -> Option<i64> {
    name.strip_prefix(&format!("{kind}_p{partition}_g"))?
        .parse()
        .ok()
}
use crate::accounts::PersonId;
use crate::aggregate::people::PeopleAggregates;
use crate::aggregate::{Aggregates, LatestNames, SongTally, Tally};
use crate::rollup::DayRollup;

/// Documents per insert command.
const INSERT_CHUNK: usize = 1000;

/// One partition's aggregates as of a position.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checkpoint {
    /// 0 before the first checkpoint.
    pub generation: i64,
    /// The offset up to which the aggregates count; `None` before the first checkpoint.
    pub position: Option<i64>,
    pub aggregates: PeopleAggregates,
}

/// Marks checkpoints that keep figures per person.
const LAYOUT: &str = "people";

/// `_id` of a partition's document in `checkpoints`.
fn checkpoint_id(topic: &str, partition: i32) -> String {
    format!("{topic}/{partition}")
}

impl Store {
    /// Refuses a database that holds another topic's aggregates, or
    /// aggregates in the layout of an earlier version: a single checkpoint,
    /// no rollups by day, or figures from before accounts (no person per listen).
    pub async fn check_layout(&self, topic: &str) -> Result<(), StoreError> {
        let checkpoints = self.collection(CHECKPOINTS);
        let earlier = checkpoints
            .find_one(doc! { "layout": { "$ne": LAYOUT } })
            .await
            .map_err(|e| self.error(e))?;
        if earlier.is_some() {
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
    pub async fn load_checkpoint(
        &self,
        topic: &str,
        partition: i32,
    ) -> Result<Checkpoint, StoreError> {
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
        if let Ok(totals) = current.get_document("totals") {
            for (person, tally) in totals {
                if let Bson::Document(tally) = tally {
                    aggregates
                        .people
                        .entry(PersonId(person.clone()))
                        .or_default()
                        .totals = Some(read_tally(tally)?);
                }
            }
        }
        if let Ok(removed) = current.get_array("removed") {
            aggregates.removed = removed
                .iter()
                .filter_map(|person| person.as_str().map(|id| PersonId(id.to_string())))
                .collect();
        }
        for song in self
            .all_documents(&generation_collection(SONGS, partition, generation))
            .await?
        {
            let tally = read_tally(&song)?;
            let latest = LatestNames {
                ts: tally.last_listen,
                track_name: text(&song, "track_name")?,
                artist_name: text(&song, "artist_name")?,
                album_name: text(&song, "album_name")?,
            };
            person_of(&mut aggregates, &song)?
                .songs
                .insert(text(&song, "track_uri")?, SongTally { tally, latest });
        }
        for artist in self
            .all_documents(&generation_collection(ARTISTS, partition, generation))
            .await?
        {
            let name = text(&artist, "artist_name")?;
            let tally = read_tally(&artist)?;
            person_of(&mut aggregates, &artist)?
                .artists
                .insert(name, tally);
        }
        for day in self
            .all_documents(&generation_collection(DAYS, partition, generation))
            .await?
        {
            let (date, rollup) = read_day(&day)?;
            person_of(&mut aggregates, &day)?.days.insert(date, rollup);
        }
        Ok(Checkpoint {
            generation,
            position: Some(position),
            aggregates,
        })
    }

    /// Makes `aggregates` at `position` the current checkpoint of a
    /// partition, as generation `generation`.
    pub async fn write_checkpoint(
        &self,
        topic: &str,
        partition: i32,
        generation: i64,
        aggregates: &PeopleAggregates,
        position: i64,
    ) -> Result<(), StoreError> {
        let songs_collection = generation_collection(SONGS, partition, generation);
        let artists_collection = generation_collection(ARTISTS, partition, generation);
        let days_collection = generation_collection(DAYS, partition, generation);
        // Leftovers of an attempt that crashed before its switch.
        for name in [&songs_collection, &artists_collection, &days_collection] {
            self.collection(name)
                .drop()
                .await
                .map_err(|e| self.error(e))?;
        }
        for (person, person_aggregates) in &aggregates.people {
            self.write_person(
                person,
                person_aggregates,
                [&songs_collection, &artists_collection, &days_collection],
            )
            .await?;
        }

        let mut totals = Document::new();
        for (person, aggregates) in &aggregates.people {
            if let Some(tally) = &aggregates.totals {
                totals.insert(person.as_str(), tally_fields(tally));
            }
        }
        let removed: Vec<&str> = aggregates.removed.iter().map(PersonId::as_str).collect();
        let id = checkpoint_id(topic, partition);
        let current = doc! {
            "_id": &id,
            "topic": topic,
            "partition": partition,
            "generation": generation,
            "position": position,
            "totals": totals,
            "removed": removed,
            "layout": LAYOUT,
            "written_at": bson_time(Utc::now()),
        };
        self.collection(CHECKPOINTS)
            .replace_one(doc! { "_id": &id }, current)
            .with_options(ReplaceOptions::builder().upsert(true).build())
            .await
            .map_err(|e| self.error(e))?;

        for name in self
            .db
            .list_collection_names()
            .await
            .map_err(|e| self.error(e))?
        {
            let other_generation = [SONGS, ARTISTS, DAYS]
                .iter()
                .find_map(|kind| generation_of(&name, kind, partition));
            if other_generation.is_some_and(|other| other != generation) {
                self.collection(&name)
                    .drop()
                    .await
                    .map_err(|e| self.error(e))?;
            }
        }
        self.prune_journal(topic, partition, position).await
    }

    /// Writes one person's songs, artists and days into a checkpoint's collections.
    async fn write_person(
        &self,
        person: &PersonId,
        aggregates: &Aggregates,
        [songs_collection, artists_collection, days_collection]: [&String; 3],
    ) -> Result<(), StoreError> {
        let songs = aggregates.songs.iter().map(|(uri, song)| {
            let mut document = doc! {
                "_id": format!("{person}/{uri}"),
                "person": person.as_str(),
                "track_uri": uri,
                "track_name": &song.latest.track_name,
                "artist_name": &song.latest.artist_name,
                "album_name": &song.latest.album_name,
            };
            document.extend(tally_fields(&song.tally));
            document
        });
        self.insert_all(songs_collection, songs).await?;
        let artists = aggregates.artists.iter().map(|(name, tally)| {
            let mut document = doc! {
                "_id": format!("{person}/{name}"),
                "person": person.as_str(),
                "artist_name": name,
            };
            document.extend(tally_fields(tally));
            document
        });
        self.insert_all(artists_collection, artists).await?;
        // Encoded a chunk at a time: all days at once would briefly double the memory.
        let days: Vec<_> = aggregates.days.iter().collect();
        for chunk in days.chunks(INSERT_CHUNK) {
            let documents = chunk
                .iter()
                .map(|(date, rollup)| day_document(person, date, rollup))
                .collect::<Result<Vec<_>, _>>()?;
            self.insert_all(days_collection, documents.into_iter())
                .await?;
        }
        Ok(())
    }

    async fn all_documents(&self, collection: &str) -> Result<Vec<Document>, StoreError> {
        self.collection(collection)
            .find(doc! {})
            .await
            .map_err(|e| self.error(e))?
            .try_collect()
            .await
            .map_err(|e| self.error(e))
    }

    /// Inserts documents a chunk at a time, so only one chunk is in memory.
    async fn insert_all(
        &self,
        collection: &str,
        mut documents: impl Iterator<Item = Document>,
    ) -> Result<(), StoreError> {
        loop {
            let chunk: Vec<Document> = documents.by_ref().take(INSERT_CHUNK).collect();
            if chunk.is_empty() {
                return Ok(());
            }
            self.collection(collection)
                .insert_many(chunk)
                .await
                .map_err(|e| self.error(e))?;
        }
    }
}

/// The aggregates of the person a stored document belongs to.
fn person_of<'a>(
    aggregates: &'a mut PeopleAggregates,
    document: &Document,
) -> Result<&'a mut Aggregates, StoreError> {
    let person = PersonId(text(document, "person")?);
    Ok(aggregates.people.entry(person).or_default())
}

/// A person's day rollup as stored: its date and its counts as compact JSON.
fn day_document(
    person: &PersonId,
    date: &chrono::NaiveDate,
    rollup: &DayRollup,
) -> Result<Document, StoreError> {
    let bytes = serde_json::to_vec(rollup).map_err(|e| corrupt(&format!("day rollup: {e}")))?;
    Ok(doc! {
        "_id": format!("{person}/{date}"),
        "person": person.as_str(),
        "day": date.to_string(),
        "rollup": Binary { subtype: BinarySubtype::Generic, bytes },
    })
}

fn read_day(document: &Document) -> Result<(chrono::NaiveDate, DayRollup), StoreError> {
    let date = text(document, "day")?
        .parse()
        .map_err(|_| corrupt("day rollup without a date"))?;
    let rollup = match document.get("rollup") {
        Some(Bson::Binary(binary)) => serde_json::from_slice(&binary.bytes)
            .map_err(|e| corrupt(&format!("day rollup: {e}")))?,
        _ => return Err(corrupt("day rollup without counts")),
    };
    Ok((date, rollup))
}

fn tally_fields(tally: &Tally) -> Document {
    doc! {
        "plays": tally.plays,
        "ms_played": tally.ms_played,
        "skips": tally.skips,
        "first_listen": bson_time(tally.first_listen),
        "last_listen": bson_time(tally.last_listen),
    }
}

fn read_tally(document: &Document) -> Result<Tally, StoreError> {
    let number = |field: &str| match document.get(field) {
        Some(Bson::Int64(n)) => Ok(*n),
        Some(Bson::Int32(n)) => Ok(i64::from(*n)),
        _ => Err(corrupt(&format!("aggregate without {field}"))),
    };
    Ok(Tally {
        plays: number("plays")?,
        ms_played: number("ms_played")?,
        skips: number("skips")?,
        first_listen: time(document, "first_listen")?,
        last_listen: time(document, "last_listen")?,
    })
}

fn time(document: &Document, field: &str) -> Result<DateTime<Utc>, StoreError> {
    document
        .get_datetime(field)
        .ok()
        .and_then(|ts| DateTime::from_timestamp_millis(ts.timestamp_millis()))
        .ok_or_else(|| corrupt(&format!("aggregate without {field}")))
}

fn text(document: &Document, field: &str) -> Result<String, StoreError> {
    document
        .get_str(field)
        .map(str::to_string)
        .map_err(|_| corrupt(&format!("aggregate without {field}")))
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
    fn a_generation_collection_is_recognised_by_kind_and_partition() {
        let name = generation_collection(SONGS, 3, 1_700_000);
        assert_eq!(name, "songs_p3_g1700000");
        assert_eq!(generation_of(&name, SONGS, 3), Some(1_700_000));
        assert_eq!(generation_of(&name, SONGS, 1), None);
        assert_eq!(generation_of(&name, ARTISTS, 3), None);
        assert_eq!(generation_of("songs_p3_gx", SONGS, 3), None);
    }

    #[test]
    fn tallies_round_trip_through_documents() {
        let tally = Tally {
            plays: 3,
            ms_played: 9_000_000_000,
            skips: 1,
            first_listen: "2014-01-01T00:00:00Z".parse().unwrap(),
            last_listen: "2015-06-07T08:09:10Z".parse().unwrap(),
        };
        assert_eq!(read_tally(&tally_fields(&tally)).unwrap(), tally);
    }

    #[test]
    fn day_rollups_round_trip_through_documents() {
        let mut days = crate::rollup::Days::new();
        let listen = crate::event::test_listen("a", "Artist", "2021-02-03T04:05:06Z", 7000, true);
        crate::rollup::add_listen(&mut days, &listen);
        let (date, rollup) = days.iter().next().unwrap();
        let document = day_document(&PersonId("p".into()), date, rollup).unwrap();
        assert_eq!(document.get_str("_id").unwrap(), "p/2021-02-03");
        assert_eq!(read_day(&document).unwrap(), (*date, rollup.clone()));
    }

    #[test]
    fn a_tally_without_counts_is_reported() {
        let error = read_tally(&doc! { "plays": 1_i64 }).unwrap_err();
        assert!(error.to_string().contains("ms_played"));
    }
}
