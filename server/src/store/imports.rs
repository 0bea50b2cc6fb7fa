//! The registry of imported files: one document per file content streamed
//! into a topic, so the producer refuses to count the same file twice.

use mongodb::bson::{doc, DateTime as BsonDateTime};
use tokio::runtime::Runtime;

use super::{Store, StoreError, IMPORTS};
use crate::config::MongoSettings;
use crate::stream::publish::{FileSummary, ImportRegistry};

/// Identifies one file content imported into one topic.
fn import_id(topic: &str, content_hash: u128) -> String {
    format!("{topic}/{content_hash:032x}")
}

impl Store {
    /// When and under which name content with this hash was imported into `topic`.
    pub async fn earlier_import(
        &self,
        topic: &str,
        content_hash: u128,
    ) -> Result<Option<String>, StoreError> {
        let found = self
            .collection(IMPORTS)
            .find_one(doc! { "_id": import_id(topic, content_hash) })
            .await
            .map_err(|e| self.error(e))?;
        Ok(found.map(|import| {
            let when = import
                .get_datetime("imported_at")
                .map(|at| at.try_to_rfc3339_string().unwrap_or_default())
                .unwrap_or_default();
            format!(
                "as {} on {when}, {} listens sent",
                import.get_str("file").unwrap_or("a file"),
                import.get_i64("sent").unwrap_or(0)
            )
        }))
    }

    /// Notes that a file was streamed into `topic` in full.
    pub async fn record_import(
        &self,
        topic: &str,
        content_hash: u128,
        file: &FileSummary,
    ) -> Result<(), StoreError> {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let id = import_id(topic, content_hash);
        self.collection(IMPORTS)
            .replace_one(
                doc! { "_id": &id },
                doc! {
                    "_id": &id,
                    "topic": topic,
                    "file": &file.name,
                    "imported_at": BsonDateTime::now(),
                    "read": count(file.read),
                    "sent": count(file.sent),
                    "duplicates": count(file.duplicates),
                    "not_music": count(file.not_music),
                    "rejected": count(file.rejected),
                },
            )
            .upsert(true)
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }
}

/// The registry as the producer, a plain thread, uses it.
pub struct BlockingImportRegistry {
    store: Store,
    topic: String,
    runtime: Runtime,
}

impl BlockingImportRegistry {
    /// Connects and checks that MongoDB answers.
    pub fn connect(settings: &MongoSettings, topic: &str) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| StoreError::Corrupt(format!("cannot start a runtime: {error}")))?;
        let store = runtime.block_on(async {
            let store = Store::connect(settings).await?;
            store.ping().await?;
            Ok::<_, StoreError>(store)
        })?;
        Ok(Self {
            store,
            topic: topic.to_string(),
            runtime,
        })
    }
}

impl ImportRegistry for BlockingImportRegistry {
    fn earlier_import(&self, content_hash: u128) -> Result<Option<String>, String> {
        self.runtime
            .block_on(self.store.earlier_import(&self.topic, content_hash))
            .map_err(|error| error.to_string())
    }

    fn record_import(&self, content_hash: u128, file: &FileSummary) -> Result<(), String> {
        self.runtime
            .block_on(self.store.record_import(&self.topic, content_hash, file))
            .map_err(|error| error.to_string())
    }
}
