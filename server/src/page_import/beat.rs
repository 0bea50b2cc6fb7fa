//! A running import's beat: its report written to the history every few
//! seconds, so that every server sees the person's import runs (and how
//! far it went) and refuses them a second one, and sees when its server
//! has gone. Times are the servers' clocks: they must agree to a few seconds.

use std::time::Duration;

use app::imports::ImportReport;
use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::accounts::PersonId;
use crate::store::TopicStore;

/// How often a running import's report is written.
const EVERY: Duration = Duration::from_secs(5);
/// An import not beaten for this long is taken for stopped with its server.
const GONE_AFTER: Duration = Duration::from_secs(30);

/// Since when an import must have been beaten to be taken for running.
pub(super) fn alive_since() -> DateTime<Utc> {
    Utc::now() - GONE_AFTER
}

/// The beat of one running import, until dropped. A beat is written only
/// while the history says the import runs, so one cut off or late never
/// overwrites its outcome.
pub(super) struct Beat(JoinHandle<()>);

impl Beat {
    pub(super) fn start(
        store: TopicStore,
        person: PersonId,
        progress: watch::Receiver<ImportReport>,
    ) -> Self {
        Self(tokio::spawn(async move {
            loop {
                tokio::time::sleep(EVERY).await;
                // Cloned first: no borrow of the report is held across the write.
                let report = progress.borrow().clone();
                if let Err(error) = store.beat_import_run(&person, &report).await {
                    tracing::warn!("cannot write a running import's progress: {error}");
                }
            }
        }))
    }
}

impl Drop for Beat {
    fn drop(&mut self) {
        self.0.abort();
    }
}
