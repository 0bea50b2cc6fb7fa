//! The history of the imports people started from the page: one document
//! per import, written when it starts, every few seconds while it runs (its
//! beat: other servers see it runs) and when it ends, read back for the
//! Import page (a person has a few dozen at most).

use app::imports::{ImportReport, ImportState};
use chrono::{DateTime, Utc};
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
                    "beat": bson::DateTime::now(),
                    "report": report,
                },
            )
            .upsert(true)
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Writes how far a running import went, if the history still says it
    /// runs: a late beat never brings back a history deleted meanwhile, nor
    /// overwrites an import's outcome.
    pub async fn beat_import_run(
        &self,
        person: &PersonId,
        report: &ImportReport,
    ) -> Result<(), StoreError> {
        let id = run_id(self.topic(), person, &report.id);
        let report = bson::to_document(report)
            .map_err(|error| StoreError::Corrupt(format!("an import report: {error}")))?;
        self.collection(IMPORT_RUNS)
            .update_one(
                doc! { "_id": &id, "running": true },
                doc! { "$set": { "beat": bson::DateTime::now(), "report": report } },
            )
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

    /// An import of `person` that another server than `runner` runs: one
    /// whose history says it runs, beaten since `alive_since`.
    pub async fn import_running_elsewhere(
        &self,
        person: &PersonId,
        runner: &str,
        alive_since: DateTime<Utc>,
    ) -> Result<Option<ImportReport>, StoreError> {
        let documents: Vec<_> = self
            .collection(IMPORT_RUNS)
            .find(doc! { "topic": self.topic(), "person": person.as_str(), "running": true })
            .await
            .map_err(|e| self.error(e))?
            .try_collect()
            .await
            .map_err(|e| self.error(e))?;
        Ok(documents.into_iter().find_map(|document| {
            let elsewhere = document
                .get_str("runner")
                .is_ok_and(|other| other != runner);
            let alive = beaten_since(&document, alive_since);
            let report = document.get_document("report").ok()?.clone();
            (elsewhere && alive).then(|| bson::from_document(report).ok())?
        }))
    }

    /// The imports `person` made into the topic, newest first; one the
    /// history says runs but whose server has not beaten it since
    /// `alive_since` is shown as stopped.
    pub async fn import_runs(
        &self,
        person: &PersonId,
        alive_since: DateTime<Utc>,
    ) -> Result<Vec<ImportReport>, StoreError> {
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
                let mut report: ImportReport = bson::from_document(report).ok()?;
                let gone = !beaten_since(&document, alive_since);
                if report.is_running() && gone {
                    report.state = ImportState::Incomplete {
                        reason: "the server running it stopped before it ended; \
                                 it goes on when that server starts again"
                            .into(),
                    };
                }
                Some(report)
            })
            .collect())
    }
}

/// Whether a history document was written (beaten) since `since`.
fn beaten_since(document: &bson::Document, since: DateTime<Utc>) -> bool {
    document
        .get_datetime("beat")
        .is_ok_and(|beat| beat.timestamp_millis() >= since.timestamp_millis())
}
