//! What the dashboard needs from the server: read access to the aggregates.
//!
//! The server crate implements [`AnalyticsSource`] over MongoDB and provides it
//! as context, so these components never depend on a database driver.

use std::sync::Arc;

use async_trait::async_trait;

use crate::model::{
    Dashboard, Limit, PeopleView, PipelineHealth, SettingsView, Summary, TopArtist, TopSong,
};
use crate::range::{ArtistDetail, RangeQuery, RangeView, SongDetail};
use crate::review::{Period, Review};
use crate::stories::{Calendar, DiscoveryMonth};

/// Read access to the aggregates, whatever stores them.
#[async_trait]
pub trait AnalyticsSource: Send + Sync {
    async fn summary(&self) -> Result<Summary, SourceError>;
    async fn top_songs(&self, limit: Limit) -> Result<Vec<TopSong>, SourceError>;
    async fn top_artists(&self, limit: Limit) -> Result<Vec<TopArtist>, SourceError>;
    /// Whether new listens are being counted right now.
    fn health(&self) -> PipelineHealth;

    /// Everything the range view shows for `query`, rankings `limit` long.
    async fn range_view(&self, query: &RangeQuery, limit: Limit) -> Result<RangeView, SourceError>;
    /// One artist over the range; `None` for an artist never listened to.
    async fn artist_detail(
        &self,
        name: &str,
        query: &RangeQuery,
    ) -> Result<Option<ArtistDetail>, SourceError>;
    /// One song (by URI) over the range; `None` for a song never listened to.
    async fn song_detail(
        &self,
        track_uri: &str,
        query: &RangeQuery,
    ) -> Result<Option<SongDetail>, SourceError>;

    /// A year's listening days and streaks (the latest year with listens when `None`).
    async fn calendar(&self, year: Option<i32>) -> Result<Calendar, SourceError>;
    /// What each month with listens discovered, in order.
    async fn discoveries(&self) -> Result<Vec<DiscoveryMonth>, SourceError>;
    /// A year's or a month's review (the latest year with listens when `None`).
    async fn review(&self, period: Option<Period>) -> Result<Review, SourceError>;
    /// The listening sessions of a range, a pause of more than `gap` ending one.
    async fn sessions(
        &self,
        query: &RangeQuery,
        gap: crate::review::SessionGap,
    ) -> Result<crate::review::SessionsView, SourceError>;
    /// Skips over a range: by step, within the first seconds, by platform.
    async fn skips(
        &self,
        query: &RangeQuery,
        limit: Limit,
    ) -> Result<crate::skips::SkipStory, SourceError>;

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

/// What the signed-in person may do to their own account: the server
/// provides one per request, already bound to that person.
#[async_trait]
pub trait AccountSettings: Send + Sync {
    async fn settings(&self) -> Result<SettingsView, AccountError>;
    /// A new API token, shown this once.
    async fn create_token(&self, label: &str) -> Result<String, AccountError>;
    async fn revoke_token(&self, id: &str) -> Result<(), AccountError>;
    /// A new share link (the old one stops working), shown this once.
    async fn share(&self) -> Result<String, AccountError>;
    async fn stop_sharing(&self) -> Result<(), AccountError>;
    /// Checks the current password and sets the new one; every session ends.
    async fn change_password(&self, current: &str, new: &str) -> Result<(), AccountError>;
    /// Sets the time zone their days and hours are in; the zone's name as set.
    async fn set_time_zone(&self, name: &str) -> Result<String, AccountError>;
    /// What they left out of their figures, and what it sets aside.
    async fn exclusions(&self) -> Result<Vec<crate::cleanup::ExclusionView>, AccountError>;
    /// Leaves something out of their figures, or puts it back.
    async fn clean_up(
        &self,
        request: crate::cleanup::CleanUpRequest,
    ) -> Result<crate::cleanup::CleanUpShown, AccountError>;
    /// Deletes every listen counted so far, once `confirm` is the person's name.
    async fn delete_data(&self, confirm: &str) -> Result<(), AccountError>;
    /// Their running import and import history.
    async fn imports(&self) -> Result<crate::imports::Imports, AccountError>;
}

/// What an administrator may do: names and counts of people, never listens.
#[async_trait]
pub trait PeopleAdmin: Send + Sync {
    async fn people(&self) -> Result<PeopleView, AccountError>;
    /// A one-time invitation link, valid for a week.
    async fn invite(&self, admin: bool) -> Result<String, AccountError>;
    async fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), AccountError>;
    /// Removes the account and all its figures.
    async fn remove(&self, name: &str) -> Result<(), AccountError>;
}

/// The account services as Leptos context; cloning shares them.
#[derive(Clone)]
pub struct Accounts(pub Arc<dyn AccountSettings>);

#[derive(Clone)]
pub struct People(pub Arc<dyn PeopleAdmin>);

/// An account change that cannot be made: the message says why, for a
/// person; the refusal, what kind of no it is.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct AccountError {
    pub refusal: crate::refusal::Refusal,
    pub message: String,
}

impl AccountError {
    pub fn new(refusal: crate::refusal::Refusal, message: impl Into<String>) -> Self {
        Self {
            refusal,
            message: message.into(),
        }
    }
}
