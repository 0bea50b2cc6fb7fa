//! The read model: one small document with the totals and the top songs and
//! artists, replaced after every batch. The dashboard and the JSON API read
//! it with a single lookup, whatever the size of the history behind it.

use app::model::{Summary, TopArtist, TopSong};
use chrono::Utc;
use mongodb::bson::{self, doc};
use mongodb::options::ReplaceOptions;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, LEADERBOARDS};
use crate::aggregate::Aggregates;

/// Rows kept in each ranking: the most the API hands out.
pub const LEADERBOARD_SIZE: usize = app::model::Limit::MAX as usize;
const CURRENT: &str = "current";

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
}

impl Store {
    /// Replaces the published totals and rankings.
    pub async fn publish_leaderboards(
        &self,
        leaderboards: &Leaderboards,
    ) -> Result<(), StoreError> {
        let mut document =
            bson::to_document(leaderboards).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        document.insert("_id", CURRENT);
        self.collection(LEADERBOARDS)
            .replace_one(doc! { "_id": CURRENT }, document)
            .with_options(ReplaceOptions::builder().upsert(true).build())
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The published totals and rankings; empty ones before any data.
    pub async fn leaderboards(&self) -> Result<Leaderboards, StoreError> {
        let found = self
            .collection(LEADERBOARDS)
            .find_one(doc! { "_id": CURRENT })
            .projection(doc! { "_id": 0 })
            .await
            .map_err(|e| self.error(e))?;
        match found {
            Some(document) => bson::from_document(document)
                .map_err(|e| StoreError::Corrupt(format!("leaderboards: {e}"))),
            None => Ok(Leaderboards::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::BatchDelta;
    use crate::event::test_listen;

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
}
