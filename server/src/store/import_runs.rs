//! The history of the imports people started from the page: one document
//! per import, written when it starts and again when it ends, read back
//! for the Import page (a person has a few dozen at most).

use app::imports::ImportReport;
use futures::TryStreamExt;
use mongodb::bson::{self, doc};

use super::{StoreError, TopicStore, IMPORT_RUNS};
use crate::accounts::PersonId;

/// Imports listed in a person's history.
pub const HISTORY_LENGTH: i64 = 50;

fn run_id(topic: &str, person: &PersonId, import: &str) -> String {
    format!("{topic}/{person}/{import}")
}

impl TopicStore {
    /// Writes where an import of `person` stands; `runner` names the
    /// server running it (its machine and upload folder).
    pub async fn record_import_run(
        &self,
        person: &PersonId,
        report: &ImportReport,
        runner: &str,
    ) -> Result<(), StoreError> {
        let id = run_id(self.topic(), person, &report.id);
        let running = report.is_running();
        let report = bson::to_document(report)
            .map_err(|error| StoreError::Corrupt(format!("an import report: {error}")))?;
        self.collection(IMPORT_RUNS)
            .replace_one(
                doc! { "_id": &id },
                doc! {
                    "_id": &id,
                    "topic": self.topic(),
                    "person": person.as_str(),
                    "started_at": report.get("started_at").cloned().unwrap_or(bson::Bson::Null),
                    "running": running,
                    "runner": runner,
                    "report": report,
                },
            )
            .upsert(true)
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// The imports into the topic that `runner` ran and that the history
    /// still says run (the server stopped during them), with their people.
    pub async fn running_import_runs(
        &self,
        runner: &str,
    ) -> Result<Vec<(PersonId, ImportReport)>, StoreError> {
        let documents: Vec<_> = self
            .collection(IMPORT_RUNS)
            .find(doc! { "topic": self.topic(), "running": true, "runner": runner })
            .await
            .map_err(|e| self.error(e))?
            .try_collect()
            .await
            .map_err(|e| self.error(e))?;
        Ok(documents
            .into_iter()
            .filter_map(|document| {
                let person = PersonId(document.get_str("person").ok()?.to_string());
                let report = document.get_document("report").ok()?.clone();
                Some((person, bson::from_document(report).ok()?))
            })
            .collect())
    }

    /// The imports `person` made into the topic, newest first.
    pub async fn import_runs(&self, person: &PersonId) -> Result<Vec<ImportReport>, StoreError> {
        let documents: Vec<_> = self
            .collection(IMPORT_RUNS)
            .find(doc! { "topic": self.topic(), "person": person.as_str() })
            .sort(doc! { "started_at": -1 })
            .limit(HISTORY_LENGTH)
            .await
            .map_err(|e| self.error(e))?
            .try_collect()
            .await
            .map_err(|e| self.error(e))?;
        Ok(documents
            .into_iter()
            .filter_map(|document| {
                let report = document.get_document("report").ok()?.clone();
                bson::from_document(report).ok()
            })
            .collect())
    }
}
