//! What the dashboard needs from the server: read access to the aggregates.
//!
//! The server crate implements [`AnalyticsSource`] over MongoDB and provides it
//! as context, so these components never depend on a database driver.

use std::sync::Arc;

use async_trait::async_trait;

use crate::model::{Dashboard, Limit, PipelineHealth, Summary, TopArtist, TopSong};
use crate::range::{ArtistDetail, RangeQuery, RangeView, SongDetail};

/// Read access to the aggregates, whatever stores them.
#[async_trait]
pub trait AnalyticsSource: Send + Sync {
    async fn summary(&self) -> Result<Summary, SourceError>;
    async fn top_songs(&self, limit: Limit) -> Result<Vec<TopSong>, SourceError>;
    async fn top_artists(&self, limit: Limit) -> Result<Vec<TopArtist>, SourceError>;
    /// Whether new listens are being counted right now.
    fn health(&self) -> PipelineHealth;

    /// Everything the range view shows for `query`, rankings `limit` long.
    fn range_view(&self, query: &RangeQuery, limit: Limit) -> Result<RangeView, SourceError>;
    /// One artist over the range; `None` for an artist never listened to.
    fn artist_detail(&self, name: &str, query: &RangeQuery) -> Option<ArtistDetail>;
    /// One song (by URI) over the range; `None` for a song never listened to.
    fn song_detail(&self, track_uri: &str, query: &RangeQuery) -> Option<SongDetail>;

    /// Everything the dashboard shows; a source that can read it in one go should.
    async fn dashboard(&self, limit: Limit) -> Result<Dashboard, SourceError> {
        Ok(Dashboard {
            summary: self.summary().await?,
            top_songs: self.top_songs(limit).await?,
            top_artists: self.top_artists(limit).await?,
            health: self.health(),
        })
    }
}

/// The source as Leptos context and axum state; cloning shares it.
#[derive(Clone)]
pub struct Analytics(pub Arc<dyn AnalyticsSource>);

/// The aggregates cannot be read; the message says why, for a person.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);
