//! Top-k reads of the precomputed aggregates: indexed `find` + sort + limit.

use app::model::{Summary, TopArtist, TopSong};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};

use super::{Store, StoreError, ARTISTS, SONGS, TOTALS, TOTALS_ID};

impl Store {
    /// Songs ranked by plays, then listening time, then track name.
    pub async fn top_songs(&self, limit: u32) -> Result<Vec<TopSong>, StoreError> {
        let documents = self
            .ranked(
                SONGS,
                doc! { "plays": -1, "ms_played": -1, "latest.track_name": 1, "_id": 1 },
                limit,
            )
            .await?;
        documents
            .iter()
            .enumerate()
            .map(|(index, song)| {
                let latest = song
                    .get_document("latest")
                    .map_err(|_| StoreError::Corrupt("song without latest names".into()))?;
                Ok(TopSong {
                    rank: index as u32 + 1,
                    track_uri: text(song, "_id")?,
                    track_name: text(latest, "track_name")?,
                    artist_name: text(latest, "artist_name")?,
                    album_name: text(latest, "album_name")?,
                    plays: number(song, "plays"),
                    ms_played: number(song, "ms_played"),
                    skips: number(song, "skips"),
                })
            })
            .collect()
    }

    /// Artists ranked by plays, then listening time, then name.
    pub async fn top_artists(&self, limit: u32) -> Result<Vec<TopArtist>, StoreError> {
        let documents = self
            .ranked(
                ARTISTS,
                doc! { "plays": -1, "ms_played": -1, "_id": 1 },
                limit,
            )
            .await?;
        documents
            .iter()
            .enumerate()
            .map(|(index, artist)| {
                Ok(TopArtist {
                    rank: index as u32 + 1,
                    artist_name: text(artist, "_id")?,
                    plays: number(artist, "plays"),
                    ms_played: number(artist, "ms_played"),
                    skips: number(artist, "skips"),
                })
            })
            .collect()
    }

    /// Totals over everything counted, with the number of distinct songs and artists.
    pub async fn summary(&self) -> Result<Summary, StoreError> {
        let totals = self
            .collection(TOTALS)
            .find_one(doc! { "_id": TOTALS_ID })
            .await
            .map_err(|e| self.error(e))?
            .unwrap_or_default();
        let songs = self
            .collection(SONGS)
            .count_documents(doc! {})
            .await
            .map_err(|e| self.error(e))?;
        let artists = self
            .collection(ARTISTS)
            .count_documents(doc! {})
            .await
            .map_err(|e| self.error(e))?;
        Ok(Summary {
            events: number(&totals, "plays"),
            ms_played: number(&totals, "ms_played"),
            songs: songs as i64,
            artists: artists as i64,
            last_listen: time(&totals, "last_listen"),
            updated_at: time(&totals, "updated_at"),
        })
    }

    async fn ranked(
        &self,
        collection: &str,
        sort: Document,
        limit: u32,
    ) -> Result<Vec<Document>, StoreError> {
        self.collection(collection)
            .find(doc! {})
            .sort(sort)
            .limit(i64::from(limit))
            .projection(doc! { "fences": 0 })
            .await
            .map_err(|e| self.error(e))?
            .try_collect()
            .await
            .map_err(|e| self.error(e))
    }
}

fn text(document: &Document, field: &str) -> Result<String, StoreError> {
    document
        .get_str(field)
        .map(str::to_string)
        .map_err(|_| StoreError::Corrupt(format!("`{field}` is not a string")))
}

/// Reads a count whatever numeric type the server chose to store it as.
fn number(document: &Document, field: &str) -> i64 {
    match document.get(field) {
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Double(n)) => *n as i64,
        _ => 0,
    }
}

fn time(document: &Document, field: &str) -> Option<DateTime<Utc>> {
    match document.get(field) {
        Some(Bson::DateTime(ts)) => DateTime::from_timestamp_millis(ts.timestamp_millis()),
        _ => None,
    }
}
