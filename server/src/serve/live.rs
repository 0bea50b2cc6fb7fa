//! The figures the dashboard and the API serve: the partitions' leaderboards,
//! merged, re-read from MongoDB in the background every [`REFRESH_EVERY`].
//! A request never waits for the database, and the database sees a few reads
//! a second whatever the traffic. When a read fails, the last figures read
//! stay served and the pipeline status says they are not current.

use std::sync::Arc;
use std::time::Duration;

use app::model::{Dashboard, Limit, PipelineHealth, Summary, TopArtist, TopSong};
use app::range::{ArtistDetail, RangeQuery, RangeView, SongDetail};
use app::source::{AnalyticsSource, SourceError};
use async_trait::async_trait;
use tokio::sync::watch;
use tokio::time::{sleep, timeout};

use super::range_api::Ranges;
use crate::status::PipelineStatus;
use crate::store::leaderboard::Leaderboards;
use crate::store::Store;

/// How often the figures are read again.
const REFRESH_EVERY: Duration = Duration::from_millis(200);
/// How long a read may take before it counts as failed.
const READ_PATIENCE: Duration = Duration::from_secs(1);

/// The latest leaderboards read; `None` until the first read.
pub type Figures = Option<Arc<Leaderboards>>;

/// The latest leaderboards read, shared by every request.
pub struct LiveAnalytics {
    latest: watch::Receiver<Figures>,
    status: PipelineStatus,
    ranges: Ranges,
}

impl LiveAnalytics {
    /// Starts reading the figures, and following the rollups into `ranges`,
    /// in the background; call inside a Tokio runtime.
    pub fn start(store: Store, topic: String, status: PipelineStatus, ranges: Ranges) -> Self {
        let (publish, latest) = watch::channel(None);
        tokio::spawn(follow_rollups(
            store.clone(),
            topic.clone(),
            ranges.clone(),
            publish.clone(),
        ));
        tokio::spawn(refresh(store, topic, status.clone(), publish));
        Self {
            latest,
            status,
            ranges,
        }
    }

    /// Hears of every change of the figures (a read that found nothing new is not one).
    pub fn changes(&self) -> watch::Receiver<Figures> {
        self.latest.clone()
    }

    /// The latest figures; right after start, waits briefly for the first read.
    async fn leaderboards(&self) -> Result<Arc<Leaderboards>, SourceError> {
        if let Some(leaderboards) = self.latest.borrow().clone() {
            return Ok(leaderboards);
        }
        let mut latest = self.latest.clone();
        let first = timeout(READ_PATIENCE, latest.wait_for(Option::is_some)).await;
        match first {
            Ok(Ok(leaderboards)) => Ok(leaderboards.clone().unwrap_or_default()),
            _ => Err(SourceError(self.status.read_problem().unwrap_or_else(
                || format!("MongoDB did not answer within {READ_PATIENCE:?}"),
            ))),
        }
    }
}

/// Reads the figures again and again until the server stops.
async fn refresh(
    store: Store,
    topic: String,
    status: PipelineStatus,
    publish: watch::Sender<Figures>,
) {
    while !publish.is_closed() {
        match timeout(READ_PATIENCE, store.leaderboards(&topic)).await {
            Ok(Ok(leaderboards)) => {
                status.reads_ok();
                publish.send_if_modified(|current| {
                    if current.as_deref() == Some(&leaderboards) {
                        return false;
                    }
                    *current = Some(Arc::new(leaderboards));
                    true
                });
            }
            Ok(Err(error)) => status.reads_failing(error.to_string()),
            Err(_) => {
                status.reads_failing(format!("MongoDB did not answer within {READ_PATIENCE:?}"))
            }
        }
        sleep(REFRESH_EVERY).await;
    }
}

/// Follows every partition's rollups into `ranges` until the server stops.
/// No time limit here: the first load of a large history takes a while.
async fn follow_rollups(
    store: Store,
    topic: String,
    ranges: Ranges,
    figures: watch::Sender<Figures>,
) {
    let mut failing = false;
    while !figures.is_closed() {
        match store.refresh_rollups(&topic, &ranges.0).await {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("reading the rollups works again");
            }
            Ok(_) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::warn!("reading the rollups failed, retrying: {error}");
            }
            Err(_) => {}
        }
        sleep(REFRESH_EVERY).await;
    }
}

fn first<T: Clone>(rows: &[T], limit: Limit) -> Vec<T> {
    rows.iter().take(limit.get() as usize).cloned().collect()
}

#[async_trait]
impl AnalyticsSource for LiveAnalytics {
    async fn summary(&self) -> Result<Summary, SourceError> {
        Ok(self.leaderboards().await?.summary.clone())
    }

    async fn top_songs(&self, limit: Limit) -> Result<Vec<TopSong>, SourceError> {
        Ok(first(&self.leaderboards().await?.top_songs, limit))
    }

    async fn top_artists(&self, limit: Limit) -> Result<Vec<TopArtist>, SourceError> {
        Ok(first(&self.leaderboards().await?.top_artists, limit))
    }

    async fn dashboard(&self, limit: Limit) -> Result<Dashboard, SourceError> {
        let leaderboards = self.leaderboards().await?;
        Ok(Dashboard {
            summary: leaderboards.summary.clone(),
            top_songs: first(&leaderboards.top_songs, limit),
            top_artists: first(&leaderboards.top_artists, limit),
            health: self.health(),
        })
    }

    fn range_view(&self, query: &RangeQuery, limit: Limit) -> Result<RangeView, SourceError> {
        Ok(self
            .ranges
            .ask(|index| index.view(query, limit.get() as usize)))
    }

    fn artist_detail(&self, name: &str, query: &RangeQuery) -> Option<ArtistDetail> {
        self.ranges.ask(|index| {
            index.artist_detail(name, index.resolve(query), Limit::DEFAULT.get() as usize)
        })
    }

    fn song_detail(&self, track_uri: &str, query: &RangeQuery) -> Option<SongDetail> {
        self.ranges
            .ask(|index| index.song_detail(track_uri, index.resolve(query)))
    }

    fn health(&self) -> PipelineHealth {
        PipelineHealth {
            problem: self.status.problem(),
        }
    }
}
