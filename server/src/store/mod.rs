//! The MongoDB side: what makes counting exactly-once, and what readers read.
//!
//! Only what FerretDB v1 and MongoDB 6+ both support is used: inserts with
//! unique `_id`s, single-document replaces, `find` and `delete_many`. FerretDB
//! v1 scans a whole collection for every lookup and update, so each batch
//! costs, per partition, one journal insert, one replace of the small
//! leaderboard document of each person it changed, and one of the heads.
//!
//! State is kept per Kafka partition, written only by the consumer that owns
//! the partition; listens are keyed by person, so each person's figures are
//! counted in one partition and read from it. Collections:
//! - `journal_p<partition>`: one document per micro-batch of the
//!   partition, with its offset range and each person's listens (see
//!   [`journal`]); a collection per partition, since FerretDB reads a whole
//!   collection for every query (a restart's load of an empty partition
//!   read the big one's journal whole);
//! - `checkpoints`: per partition, one document naming its current checkpoint
//!   generation, the position it covers and the removed accounts (see [`checkpoint`]);
//! - `chunks_p<partition>_g<generation>`: the aggregates of each partition's
//!   current checkpoint, each person's packed (see [`compact`]) in chunks of 1 MiB;
//! - `leaderboards_p<partition>` (per person: totals, top 100 songs and
//!   artists, in the compact form) and `leaderboard_heads` (per partition:
//!   whose, and since when), replaced after every batch; the dashboard and
//!   API read them (see [`leaderboard`]);
//! - `imports`: which file contents each person imported (see [`imports`]);
//! - `people`, `sessions`, `api_tokens`, `share_links`, `one_time_links`:
//!   accounts and their secrets' hashes (see [`accounts`]).

pub mod accounts;
pub mod checkpoint;
pub mod compact;
pub mod follower;
pub mod import_runs;
pub mod imports;
pub mod journal;
pub mod leaderboard;
pub mod owners;

use std::sync::Arc;
use std::time::Duration;

use mongodb::bson::{doc, Document};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};

use crate::config::{redact_password, MongoSettings};

/// The one journal of every partition that earlier versions wrote: its
/// documents mark a database of an earlier layout.
const EARLIER_JOURNAL: &str = "batch_journal";
pub const CHECKPOINTS: &str = "checkpoints";
/// Prefix of each partition's leaderboards collection.
pub const LEADERBOARDS: &str = "leaderboards";
/// The one leaderboards collection of every partition, before.
const EARLIER_LEADERBOARDS: &str = "leaderboards";
/// Per partition: whose leaderboards it holds, and when each last changed.
pub const LEADERBOARD_HEADS: &str = "leaderboard_heads";
/// Which file contents were imported into which topic.
pub const IMPORTS: &str = "imports";
/// The imports people started from the page, as they went.
pub const IMPORT_RUNS: &str = "import_runs";
/// What the servers of one deployment share: the peer key, the layout.
pub const CLUSTER: &str = "cluster";

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
    #[error("another consumer journaled a different batch at {0}")]
    JournalConflict(String),
    #[error(
        "database holds the aggregates of topic {found:?}, not {expected:?}; \
         use another MONGODB_DB for another topic"
    )]
    OtherTopic { expected: String, found: String },
    #[error(
        "the database holds figures in the layout of an earlier version (sums by day \
         rather than each listen, or from before accounts, when listens belonged to \
         nobody): use a new MONGODB_DB (the server counts the topic again from its \
         beginning), or empty the local one with `./scripts/stack.sh reset`, then \
         import each person's history with `producer --person NAME`"
    )]
    EarlierLayout,
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

    /// Leaderboards were one collection for every partition before: each
    /// partition's are published again when it is loaded, so the old copies
    /// (whose people may since have been forgotten) go, and with them the
    /// heads that name them (a reader would otherwise take a person's
    /// missing document for empty figures at that version and keep them).
    async fn drop_earlier_leaderboards(&self) -> Result<(), StoreError> {
        let names = self
            .db
            .list_collection_names()
            .await
            .map_err(|e| self.error(e))?;
        if names.iter().any(|name| name == EARLIER_LEADERBOARDS) {
            for collection in [LEADERBOARD_HEADS, EARLIER_LEADERBOARDS] {
                self.collection(collection)
                    .drop()
                    .await
                    .map_err(|e| self.error(e))?;
            }
        }
        Ok(())
    }

    /// Drops what an earlier version kept that this one replaced; safe to repeat.
    pub async fn prepare(&self) -> Result<(), StoreError> {
        self.drop_earlier_leaderboards().await
    }

    /// Whether what is stored is in this version's layout: the database
    /// says so (`cluster` document `layout`), or holds no journal of an
    /// earlier version and is marked so now. (Asking each journal for the
    /// layout of its entries would make FerretDB read all of them at every
    /// start.)
    pub async fn layout_is_current(&self) -> Result<bool, StoreError> {
        let cluster = self.collection(CLUSTER);
        let marked = cluster
            .find_one(doc! { "_id": "layout" })
            .await
            .map_err(|e| self.error(e))?;
        if let Some(marked) = marked {
            return Ok(marked.get_str("layout").ok() == Some(checkpoint::LAYOUT));
        }
        let journaled = self
            .collection(EARLIER_JOURNAL)
            .find_one(doc! {})
            .projection(doc! { "_id": 1 })
            .await
            .map_err(|e| self.error(e))?;
        if journaled.is_some() {
            return Ok(false);
        }
        match cluster
            .insert_one(doc! { "_id": "layout", "layout": checkpoint::LAYOUT })
            .await
        {
            Ok(_) => Ok(true),
            // Another server marked it first.
            Err(error) if is_duplicate_key(&error) => Ok(true),
            Err(error) => Err(self.error(error)),
        }
    }

    /// Closes the connections at once. A short-lived program calls it before
    /// its runtime ends: the driver's own clean-up when a client is dropped
    /// needs a running runtime, and panics without one.
    pub async fn shutdown(&self) {
        self.db.client().clone().shutdown().immediate(true).await;
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

/// The store of one topic's figures: journals, checkpoints, leaderboards
/// and imports are each kept per topic, so the handle carries it. Cloning
/// is cheap, as for [`Store`].
#[derive(Clone)]
pub struct TopicStore {
    store: Store,
    topic: Arc<str>,
}

impl Store {
    /// The figures of `topic`.
    pub fn for_topic(&self, topic: &str) -> TopicStore {
        TopicStore {
            store: self.clone(),
            topic: topic.into(),
        }
    }
}

impl TopicStore {
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The database, for what is not kept per topic (accounts, sessions).
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn collection(&self, name: &str) -> Collection<Document> {
        self.store.collection(name)
    }

    fn error(&self, source: mongodb::error::Error) -> StoreError {
        self.store.error(source)
    }

    /// Every document of `collection` that `filter` matches.
    async fn find_all(
        &self,
        collection: &str,
        filter: Document,
    ) -> Result<Vec<Document>, StoreError> {
        use futures::TryStreamExt;
        self.collection(collection)
            .find(filter)
            .await
            .map_err(|e| self.error(e))?
            .try_collect()
            .await
            .map_err(|e| self.error(e))
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
