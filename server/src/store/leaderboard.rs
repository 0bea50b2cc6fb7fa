//! The read model: per partition, one small document with its totals and top
//! songs and artists, replaced after each of its batches. Readers fetch the
//! topic's few documents and merge them. Listens are keyed by artist, so each
//! artist, and each of their songs, is counted in one partition only: the
//! merged top 100 is exactly the top 100 of everything.

use std::cmp::Ordering;
use std::collections::HashMap;

use app::model::{ranking_order, Summary, TopArtist, TopSong};
use chrono::Utc;
use futures::TryStreamExt;
use mongodb::bson::{self, doc, Document};
use mongodb::options::ReplaceOptions;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, LEADERBOARDS};
use crate::aggregate::Aggregates;

/// Rows kept in each ranking: the most the API hands out.
pub const LEADERBOARD_SIZE: usize = app::model::Limit::MAX as usize;

/// Totals and rankings, as published together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leaderboards {
    pub summary: Summary,
    pub top_songs: Vec<TopSong>,
    pub top_artists: Vec<TopArtist>,
}

impl Leaderboards {
    /// The rankings and totals of `aggregates`, stamped with the current time.
    pub fn of(aggregates: &Aggregates) -> Self {
        let mut summary = aggregates.summary();
        summary.updated_at = Some(Utc::now());
        Self {
            summary,
            top_songs: aggregates.top_songs(LEADERBOARD_SIZE),
            top_artists: aggregates.top_artists(LEADERBOARD_SIZE),
        }
    }

    /// The leaderboards of all partitions together. A song or artist found in
    /// several partitions (only if listens were not keyed by artist) has its
    /// figures added up.
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

impl Store {
    /// Replaces the published totals and rankings of one partition.
    pub async fn publish_leaderboards(
        &self,
        topic: &str,
        partition: i32,
        leaderboards: &Leaderboards,
    ) -> Result<(), StoreError> {
        let id = format!("{topic}/{partition}");
        let mut document =
            bson::to_document(leaderboards).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        document.insert("_id", &id);
        document.insert("topic", topic);
        document.insert("partition", partition);
        self.collection(LEADERBOARDS)
            .replace_one(doc! { "_id": &id }, document)
            .with_options(ReplaceOptions::builder().upsert(true).build())
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The published totals and rankings of the topic, all partitions
    /// merged; empty ones before any data.
    pub async fn leaderboards(&self, topic: &str) -> Result<Leaderboards, StoreError> {
        let documents: Vec<Document> = self
            .collection(LEADERBOARDS)
            .find(doc! { "topic": topic })
            .projection(doc! { "_id": 0, "topic": 0, "partition": 0 })
            .await
            .map_err(|e| self.error(e))?
            .try_collect()
            .await
            .map_err(|e| self.error(e))?;
        let parts = documents
            .into_iter()
            .map(|document| {
                bson::from_document(document)
                    .map_err(|e| StoreError::Corrupt(format!("leaderboards: {e}")))
            })
            .collect::<Result<Vec<Leaderboards>, _>>()?;
        Ok(Leaderboards::merge(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::BatchDelta;
    use crate::event::{test_listen, ListenEvent};

    #[test]
    fn leaderboards_round_trip_through_bson() {
        let event = test_listen("a", "A", "2020-01-01T00:00:00Z", 5, false);
        let mut aggregates = Aggregates::default();
        aggregates.apply(&BatchDelta::from_events([&event]));
        let leaderboards = Leaderboards::of(&aggregates);
        assert_eq!(leaderboards.top_songs.len(), 1);
        let document = bson::to_document(&leaderboards).unwrap();
        let back: Leaderboards = bson::from_document(document).unwrap();
        assert_eq!(back, leaderboards);
    }

    fn partition_of(events: &[ListenEvent]) -> Aggregates {
        let mut aggregates = Aggregates::default();
        aggregates.apply(&BatchDelta::from_events(events));
        aggregates
    }

    #[test]
    fn merging_partitions_keyed_by_artist_gives_the_rankings_of_everything() {
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
