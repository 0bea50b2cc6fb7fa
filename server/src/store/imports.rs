//! The registry of imported files: one document per file content a person
//! streamed into a topic, so the producer refuses to count the same file
//! twice for them (someone else may import the same file for themselves).

use mongodb::bson::{doc, DateTime as BsonDateTime};

use super::{Store, StoreError, TopicStore, IMPORTS, IMPORT_RUNS};
use crate::accounts::{PersonId, PersonName};
use crate::event::ImportId;
use crate::import::{EarlierImport, FileSummary, ImportRegistry};
use crate::metrics::METRICS;

/// Identifies one file content imported into one topic by one person.
fn import_id(topic: &str, person: &PersonId, content_hash: u128) -> String {
    format!("{topic}/{person}/{content_hash:032x}")
}

impl TopicStore {
    /// When and under which name `person` imported content with this hash into the topic.
    pub async fn earlier_import(
        &self,
        person: &PersonId,
        content_hash: u128,
    ) -> Result<Option<EarlierImport>, StoreError> {
        let found = self
            .collection(IMPORTS)
            .find_one(doc! { "_id": import_id(self.topic(), person, content_hash) })
            .await
            .map_err(|e| self.error(e))?;
        Ok(found.map(|import| EarlierImport {
            file: import.get_str("file").unwrap_or("a file").to_string(),
            imported_at: import
                .get_datetime("imported_at")
                .map(|at| at.try_to_rfc3339_string().unwrap_or_default())
                .unwrap_or_default(),
            sent: import
                .get_i64("sent")
                .ok()
                .and_then(|sent| u64::try_from(sent).ok())
                .unwrap_or(0),
            import: import
                .get_str("import")
                .ok()
                .map(|id| ImportId(id.to_string())),
        }))
    }

    /// Notes that `person` streamed a file into the topic in full.
    pub async fn record_import(
        &self,
        person: &PersonId,
        content_hash: u128,
        file: &FileSummary,
        import: Option<&ImportId>,
    ) -> Result<(), StoreError> {
        let _timer = METRICS.mongodb_timer("import");
        let topic = self.topic();
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let id = import_id(topic, person, content_hash);
        let mut record = doc! {
                    "_id": &id,
                    "topic": topic,
                    "person": person.as_str(),
                    "file": &file.name,
                    "imported_at": BsonDateTime::now(),
                    "read": count(file.read),
                    "sent": count(file.sent),
                    "duplicates": count(file.duplicates),
                    "not_music": count(file.not_music),
                    "rejected": count(file.rejected),
        };
        if let Some(import) = import {
            record.insert("import", import.0.as_str());
        }
        self.collection(IMPORTS)
            .replace_one(doc! { "_id": &id }, record)
            .upsert(true)
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }
}

impl Store {
    /// Forgets what a person imported, and their imports from the page:
    /// their figures are gone, so their files may come again.
    pub async fn forget_imports(&self, person: &PersonId) -> Result<(), StoreError> {
        for collection in [IMPORTS, IMPORT_RUNS] {
            self.collection(collection)
                .delete_many(doc! { "person": person.as_str() })
                .await
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }
}

/// One person's registry of imports into one topic.
pub struct PersonImports {
    store: TopicStore,
    person: PersonId,
}

impl PersonImports {
    /// Checks that MongoDB answers and finds the person named `name`
    /// (refused, with what to do, when there is no such account).
    pub async fn find(store: TopicStore, name: &PersonName) -> Result<Self, RegistryError> {
        store.store().ping().await?;
        let account = store
            .store()
            .account(&name.key())
            .await?
            .ok_or_else(|| RegistryError::NoSuchPerson(name.clone()))?;
        Ok(Self {
            store,
            person: account.id,
        })
    }

    /// The registry of a person known to exist (signed in, say).
    pub fn of(store: TopicStore, person: PersonId) -> Self {
        Self { store, person }
    }

    /// Whose listens are imported.
    pub fn person(&self) -> &PersonId {
        &self.person
    }
}

/// The registry cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "there is no account named {0}: create it with `server accounts add {0}` \
         (or through an invitation), then import again"
    )]
    NoSuchPerson(PersonName),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ImportRegistry for PersonImports {
    type Error = StoreError;

    async fn earlier_import(
        &self,
        content_hash: u128,
    ) -> Result<Option<EarlierImport>, StoreError> {
        self.store.earlier_import(&self.person, content_hash).await
    }

    async fn record_import(
        &self,
        content_hash: u128,
        file: &FileSummary,
        import: Option<&ImportId>,
    ) -> Result<(), StoreError> {
        self.store
            .record_import(&self.person, content_hash, file, import)
            .await
    }
}
