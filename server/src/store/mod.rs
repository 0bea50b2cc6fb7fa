//! The MongoDB side: the aggregate collections, the batch journal that makes
//! counting exactly-once, and the top-k reads.
//!
//! Only what FerretDB v1 and MongoDB 6+ both support is used: single-document
//! atomic updates, unique `_id`s and indexed `find` with sort and limit.
//!
//! Collections:
//! - `songs`: one document per track URI (plays, ms_played, skips, first and
//!   last listen, the names of the latest listen);
//! - `artists`: one document per artist name;
//! - `totals`: one document, `_id: "all"`;
//! - `batch_journal`: one document per applied-or-pending micro-batch of one
//!   Kafka partition (see [`journal`]).

pub mod apply;
pub mod journal;
pub mod read;

use std::time::Duration;

use mongodb::bson::{doc, Document};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};

use crate::config::{redact_password, MongoSettings};

pub const SONGS: &str = "songs";
pub const ARTISTS: &str = "artists";
pub const TOTALS: &str = "totals";
pub const JOURNAL: &str = "batch_journal";
/// `_id` of the single document in `totals`.
pub const TOTALS_ID: &str = "all";

/// Handle to the aggregates database; cloning is cheap and shares the connection pool.
#[derive(Clone)]
pub struct Store {
    db: Database,
    description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("MongoDB at {at}: {source}")]
    Mongo {
        at: String,
        #[source]
        source: mongodb::error::Error,
    },
    #[error("the MongoDB connection string is not valid: {0}")]
    BadUri(String),
    #[error("another consumer already journaled the batch at {0}")]
    JournalConflict(String),
    #[error("a stored document is not in the expected shape: {0}")]
    Corrupt(String),
}

impl Store {
    /// Prepares a client; nothing is sent until the first operation.
    pub async fn connect(settings: &MongoSettings) -> Result<Self, StoreError> {
        let mut options = ClientOptions::parse(&settings.uri)
            .await
            .map_err(|error| StoreError::BadUri(error.to_string()))?;
        // Fail fast when the database is down, so callers can back off and say why.
        options.server_selection_timeout = Some(Duration::from_secs(3));
        options.connect_timeout = Some(Duration::from_secs(3));
        options.app_name = Some("spotify-analytics".into());
        let client =
            Client::with_options(options).map_err(|error| StoreError::BadUri(error.to_string()))?;
        Ok(Self {
            db: client.database(&settings.database),
            description: format!(
                "{} (database {})",
                redact_password(&settings.uri),
                settings.database
            ),
        })
    }

    /// Creates the indexes the reads and the journal rely on; safe to repeat.
    pub async fn prepare(&self) -> Result<(), StoreError> {
        let ranking = |name_field: &str| {
            IndexModel::builder()
                .keys(doc! { "plays": -1, "ms_played": -1, name_field: 1 })
                .options(IndexOptions::builder().name("ranking".to_string()).build())
                .build()
        };
        self.collection(SONGS)
            .create_index(ranking("latest.track_name"))
            .await
            .map_err(|e| self.error(e))?;
        self.collection(ARTISTS)
            .create_index(ranking("_id"))
            .await
            .map_err(|e| self.error(e))?;
        self.collection(JOURNAL)
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "topic": 1, "partition": 1, "from": 1 })
                    .options(IndexOptions::builder().name("chain".to_string()).build())
                    .build(),
            )
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Succeeds when the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    fn collection(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }

    fn error(&self, source: mongodb::error::Error) -> StoreError {
        StoreError::Mongo {
            at: self.description.clone(),
            source,
        }
    }
}

/// Whether a MongoDB error is a unique-key violation (E11000).
fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.code == 11000,
        ErrorKind::Command(command) => command.code == 11000,
        ErrorKind::InsertMany(insert) => insert
            .write_errors
            .iter()
            .flatten()
            .any(|write| write.code == 11000),
        _ => false,
    }
}
