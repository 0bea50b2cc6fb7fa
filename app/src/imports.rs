//! What the Import page and the server exchange about imports started from
//! the page: the upload's answer, the progress pushed while an import runs,
//! and the import history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `POST` an upload here (`?name=<file name>`, `&again=true` to import a
/// content imported before); `GET` the running import and the history.
pub const IMPORTS_PATH: &str = "/api/imports";
/// Server-sent `import` events: the running import of the person, as it goes.
pub const IMPORT_PROGRESS_PATH: &str = "/api/imports/progress";

/// What became of one history file of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileOutcome {
    /// Being read and sent.
    Reading,
    /// Read to its end; waiting for the broker to acknowledge it.
    Acknowledging,
    /// Every record read and acknowledged.
    Complete,
    /// Its content was imported before (as `file`, then, `sent` listens):
    /// not sent again.
    ImportedBefore {
        file: String,
        at: Option<DateTime<Utc>>,
        sent: u64,
    },
    /// Reading stopped before its end.
    Stopped { reason: String },
}

/// One history file of an import and its records: read = sent + duplicates
/// + not music + rejected (+ failed, when the broker did not acknowledge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCounts {
    pub name: String,
    pub read: u64,
    pub sent: u64,
    pub duplicates: u64,
    pub not_music: u64,
    pub rejected: u64,
    pub failed: u64,
    pub outcome: FileOutcome,
}

/// Where an import stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportState {
    Running,
    /// Every file read and acknowledged (or imported before).
    Complete,
    /// It ended without all of its records sent; says why.
    Incomplete {
        reason: String,
    },
}

/// One import started from the page, as it goes or as it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub id: String,
    /// The uploaded file's name.
    pub upload: String,
    /// Its size.
    pub bytes: u64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Bytes of history files read so far, of `total_bytes`.
    pub bytes_read: u64,
    pub total_bytes: u64,
    pub files: Vec<FileCounts>,
    pub state: ImportState,
    /// Asked to import files again even if imported before.
    #[serde(default)]
    pub again: bool,
}

impl ImportReport {
    /// Every file's counts added up (its outcome: complete when all are).
    pub fn totals(&self) -> FileCounts {
        let mut totals = FileCounts {
            name: "All files".into(),
            read: 0,
            sent: 0,
            duplicates: 0,
            not_music: 0,
            rejected: 0,
            failed: 0,
            outcome: FileOutcome::Complete,
        };
        for file in &self.files {
            totals.read += file.read;
            totals.sent += file.sent;
            totals.duplicates += file.duplicates;
            totals.not_music += file.not_music;
            totals.rejected += file.rejected;
            totals.failed += file.failed;
        }
        totals
    }

    /// Whether it still runs.
    pub fn is_running(&self) -> bool {
        self.state == ImportState::Running
    }
}

/// `GET /api/imports`: the person's running import, if any, and the imports
/// they made, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imports {
    pub running: Option<ImportReport>,
    pub history: Vec<ImportReport>,
    /// The largest upload the server takes.
    pub max_upload_bytes: u64,
}

/// What the server answers an upload it refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRefusal {
    pub error: String,
}
