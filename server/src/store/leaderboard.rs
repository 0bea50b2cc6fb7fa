//! The read model: per person and partition, one small document with their
//! totals and top songs and artists (`leaderboards`, `_id` =
//! `topic/person/partition`), replaced after each batch that changed them;
//! per partition, one document naming its people and the position at which
//! each last changed (`leaderboard_heads`), so a reader sees what changed
//! with a few exact reads. Listens are keyed by person, so a person's figures
//! live in one partition; should they ever be in two (partitions added to the
//! topic later), the reader adds them up exactly.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use app::model::{ranking_order, Summary, TopArtist, TopSong};
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{doc, Binary, Document};
use mongodb::options::ReplaceOptions;
use tokio::sync::Notify;

use super::{StoreError, TopicStore, LEADERBOARDS, LEADERBOARD_HEADS};
use crate::accounts::PersonId;
use crate::metrics::METRICS;
pub use crate::rollup::question::Leaderboards;

/// Rows kept in each ranking: the most the API hands out.
pub const LEADERBOARD_SIZE: usize = app::model::Limit::MAX as usize;

/// Rings when this server wrote leaderboards, so its readers read them at
/// once rather than at their next scheduled look (a listen is on the page
/// a whole refresh period sooner).
#[derive(Clone, Default)]
pub struct WrittenSignal(Arc<Notify>);

impl WrittenSignal {
    pub fn ring(&self) {
        // One stored ring wakes the next wait, however many came before.
        self.0.notify_one();
    }

    pub async fn heard(&self) {
        self.0.notified().await;
    }
}

impl Leaderboards {
    /// A person's leaderboards of several partitions together (only if the
    /// topic's partitions changed): a song or artist found in several has its
    /// figures added up. Only the listens, their time and the latest listen
    /// add up exactly so: readers work the rest out from the partitions'
    /// figures together (see `serve::live`).
    pub fn merge(parts: impl IntoIterator<Item = Leaderboards>) -> Self {
        let mut summary = Summary::default();
        let mut songs = Vec::new();
        let mut artists = Vec::new();
        for part in parts {
            summary.events += part.summary.events;
            summary.ms_played += part.summary.ms_played;
            summary.songs += part.summary.songs;
            summary.artists += part.summary.artists;
            summary.last_listen = summary.last_listen.max(part.summary.last_listen);
            summary.updated_at = summary.updated_at.max(part.summary.updated_at);
            songs.extend(part.top_songs);
            artists.extend(part.top_artists);
        }
        Self {
            summary,
            top_songs: merge_ranking(songs),
            top_artists: merge_ranking(artists),
        }
    }
}

/// A row of a ranking, as the partitions' rankings are merged.
trait RankingRow {
    /// What identifies the song or artist.
    fn key(&self) -> &str;
    /// Adds the figures of the same song or artist from another partition.
    fn add(&mut self, other: &Self);
    fn order(&self, other: &Self) -> Ordering;
    fn set_rank(&mut self, rank: u32);
}

impl RankingRow for TopSong {
    fn key(&self) -> &str {
        &self.track_uri
    }

    fn add(&mut self, other: &Self) {
        self.plays += other.plays;
        self.ms_played += other.ms_played;
        self.skips += other.skips;
    }

    fn order(&self, other: &Self) -> Ordering {
        ranking_order(
            (self.plays, self.ms_played, &self.track_name),
            (other.plays, other.ms_played, &other.track_name),
        )
        .then_with(|| self.track_uri.cmp(&other.track_uri))
    }

    fn set_rank(&mut self, rank: u32) {
        self.rank = rank;
    }
}

impl RankingRow for TopArtist {
    fn key(&self) -> &str {
        &self.artist_name
    }

    fn add(&mut self, other: &Self) {
        self.plays += other.plays;
        self.ms_played += other.ms_played;
        self.skips += other.skips;
    }

    fn order(&self, other: &Self) -> Ordering {
        ranking_order(
            (self.plays, self.ms_played, &self.artist_name),
            (other.plays, other.ms_played, &other.artist_name),
        )
    }

    fn set_rank(&mut self, rank: u32) {
        self.rank = rank;
    }
}

/// The best [`LEADERBOARD_SIZE`] of `rows`, one per song or artist, ranked from 1.
fn merge_ranking<T: RankingRow>(rows: Vec<T>) -> Vec<T> {
    let mut by_key: HashMap<String, T> = HashMap::new();
    for row in rows {
        match by_key.get_mut(row.key()) {
            Some(known) => known.add(&row),
            None => {
                by_key.insert(row.key().to_string(), row);
            }
        }
    }
    let mut ranking: Vec<T> = by_key.into_values().collect();
    ranking.sort_by(T::order);
    ranking.truncate(LEADERBOARD_SIZE);
    for (index, row) in ranking.iter_mut().enumerate() {
        row.set_rank(index as u32 + 1);
    }
    ranking
}

/// A partition's leaderboards have a collection of their own: FerretDB
/// reads a whole collection for each replace, so each costs what one
/// partition's people hold, not everyone's.
fn leaderboards_collection(partition: i32) -> String {
    format!("{LEADERBOARDS}_p{partition}")
}

/// Who has figures in a partition, and the position at which each last changed.
pub type PartitionHeads = HashMap<PersonId, i64>;

impl TopicStore {
    /// Publishes the totals and rankings of the people of a partition who
    /// changed (at `position`), removes those of the people forgotten, and
    /// replaces the partition's heads with `heads`.
    pub async fn publish_leaderboards(
        &self,
        partition: i32,
        changed: &[(PersonId, Leaderboards)],
        forgotten: &[PersonId],
        heads: &PartitionHeads,
    ) -> Result<(), StoreError> {
        let topic = self.topic();
        let _timer = METRICS.mongodb_timer("leaderboards");
        let collection = leaderboards_collection(partition);
        for (person, leaderboards) in changed {
            let id = format!("{topic}/{person}/{partition}");
            let packed = Binary {
                subtype: BinarySubtype::Generic,
                bytes: super::compact::pack(leaderboards)?,
            };
            let document = doc! {
                "_id": &id,
                "topic": topic,
                "person": person.as_str(),
                "partition": partition,
                "packed": packed,
            };
            self.collection(&collection)
                .replace_one(doc! { "_id": &id }, document)
                .with_options(ReplaceOptions::builder().upsert(true).build())
                .await
                .map_err(|e| self.error(e))?;
        }
        for person in forgotten {
            self.collection(&collection)
                .delete_one(doc! { "_id": format!("{topic}/{person}/{partition}") })
                .await
                .map_err(|e| self.error(e))?;
        }
        let id = format!("{topic}/{partition}");
        let mut people = Document::new();
        for (person, version) in heads {
            people.insert(person.as_str(), *version);
        }
        self.collection(LEADERBOARD_HEADS)
            .replace_one(
                doc! { "_id": &id },
                doc! { "_id": &id, "topic": topic, "partition": partition, "people": people },
            )
            .with_options(ReplaceOptions::builder().upsert(true).build())
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Every partition's heads: who has figures there, and since when.
    pub async fn leaderboard_heads(&self) -> Result<Vec<(i32, PartitionHeads)>, StoreError> {
        let topic = self.topic();
        let documents = self
            .find_all(LEADERBOARD_HEADS, doc! { "topic": topic })
            .await?;
        Ok(documents
            .iter()
            .filter_map(|document| {
                let partition = document.get_i32("partition").ok()?;
                let people = document.get_document("people").ok()?;
                let heads = people
                    .iter()
                    .filter_map(|(person, version)| {
                        Some((PersonId(person.clone()), version.as_i64()?))
                    })
                    .collect();
                Some((partition, heads))
            })
            .collect())
    }

    /// The published totals and rankings of `people` in a partition, in
    /// one query (one scan of the partition's small collection, however
    /// many people changed: read one by one, a round after a rebalance
    /// took longer than readers wait).
    pub async fn partition_leaderboards(
        &self,
        partition: i32,
        people: &[&PersonId],
    ) -> Result<HashMap<PersonId, Leaderboards>, StoreError> {
        let topic = self.topic();
        let ids: Vec<String> = people
            .iter()
            .map(|person| format!("{topic}/{person}/{partition}"))
            .collect();
        let documents = self
            .find_all(
                &leaderboards_collection(partition),
                doc! { "_id": { "$in": ids } },
            )
            .await?;
        documents
            .iter()
            .map(|document| {
                let person = document
                    .get_str("person")
                    .map_err(|e| StoreError::Corrupt(format!("leaderboards: {e}")))?;
                let packed = document
                    .get_binary_generic("packed")
                    .map_err(|e| StoreError::Corrupt(format!("leaderboards: {e}")))?;
                Ok((
                    PersonId(person.to_string()),
                    super::compact::unpack(packed, "leaderboards")?,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{Aggregates, BatchDelta};
    use crate::event::{test_listen, ListenEvent};

    #[test]
    fn leaderboards_round_trip_in_the_compact_form() {
        let event = test_listen("a", "A", "2020-01-01T00:00:00Z", 5, false);
        let mut aggregates = Aggregates::default();
        aggregates.apply(&BatchDelta::from_events([&event]));
        let mut leaderboards = Leaderboards::of(&aggregates);
        leaderboards.summary.updated_at = Some(event.ts);
        assert_eq!(leaderboards.top_songs.len(), 1);
        let packed = crate::store::compact::pack(&leaderboards).unwrap();
        let back: Leaderboards = crate::store::compact::unpack(&packed, "test").unwrap();
        assert_eq!(back, leaderboards);
        assert!(crate::store::compact::unpack::<Leaderboards>(b"{}", "test").is_err());
    }

    fn partition_of(events: &[ListenEvent]) -> Aggregates {
        let mut aggregates = Aggregates::default();
        aggregates.apply(&BatchDelta::from_events(events));
        aggregates
    }

    #[test]
    fn merging_partitions_of_different_songs_gives_the_rankings_of_everything() {
        let first = [
            test_listen("a", "X", "2020-01-01T00:00:00Z", 5, false),
            test_listen("a", "X", "2020-01-02T00:00:00Z", 5, true),
            test_listen("b", "X", "2020-01-03T00:00:00Z", 7, false),
        ];
        let second = [
            test_listen("c", "Y", "2021-01-01T00:00:00Z", 9, false),
            test_listen("c", "Y", "2021-01-01T00:00:00Z", 9, false),
            test_listen("c", "Y", "2021-01-01T00:00:00Z", 9, false),
            test_listen("d", "Y", "2019-01-01T00:00:00Z", 1, false),
        ];
        let whole = partition_of(&[&first[..], &second[..]].concat());
        let merged = Leaderboards::merge([
            Leaderboards::of(&partition_of(&first)),
            Leaderboards::of(&partition_of(&second)),
        ]);
        let mut expected = Leaderboards::of(&whole);
        expected.summary.updated_at = merged.summary.updated_at;
        assert_eq!(merged, expected);
        assert_eq!(merged.top_artists[0].artist_name, "Y");
        assert_eq!(merged.top_songs[0].rank, 1);
    }

    #[test]
    fn a_song_found_in_two_partitions_has_its_plays_added_up() {
        let listen = test_listen("a", "X", "2020-01-01T00:00:00Z", 5, false);
        let one = Leaderboards::of(&partition_of(std::slice::from_ref(&listen)));
        let merged = Leaderboards::merge([one.clone(), one]);
        assert_eq!(merged.top_songs.len(), 1);
        assert_eq!(merged.top_songs[0].plays, 2);
        assert_eq!(merged.top_artists[0].ms_played, 10);
        assert_eq!(merged.summary.events, 2);
    }

    #[test]
    fn merging_nothing_is_empty() {
        assert_eq!(Leaderboards::merge([]), Leaderboards::default());
    }
}
