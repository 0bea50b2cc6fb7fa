//! What a person reads of an import from the page: its report as it goes
//! (followed by [`PageObserver`]), its outcome, and why an upload is not
//! listening history, in words for them (the server's paths and brokers
//! go to its log, not to people).

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use app::imports::{FileCounts, FileOutcome, ImportReport, ImportState};
use chrono::Utc;

use super::Running;
use crate::import::{FileSummary, ImportError, ImportObserver, ImportSummary};

/// What a person reads when their upload is no listening history.
pub(super) fn not_history(upload: &str, error: ImportError) -> String {
    const EXPECTED: &str = "Upload my_spotify_data.zip as Spotify sent it, one of its \
        Streaming_History_*.json or endsong_*.json files, or a spotify_history.csv file.";
    match error {
        ImportError::Refused { source, .. } => {
            format!("{upload} is refused unread: {source}. If it is a Spotify export, ask the server's administrator to raise that limit.")
        }
        ImportError::NoHistory { found, .. } => {
            format!("{upload} holds no listening history (found: {found}). {EXPECTED}")
        }
        ImportError::Unreadable { source, .. } => {
            format!(
                "{upload} is not a listening history this server can read ({source}). {EXPECTED}"
            )
        }
        ImportError::Kafka(error) => {
            tracing::warn!("an import from the page cannot reach Kafka: {error}");
            BROKER_UNAVAILABLE.into()
        }
    }
}

/// What a person reads when the broker does not take their listens (the
/// server's log says which brokers and why: not theirs to see).
const BROKER_UNAVAILABLE: &str = "the message broker does not answer, so the import \
    cannot go on; try again in a few minutes, or tell the server's administrator";

/// The import's outcome written into its report.
pub(super) fn finish(
    report: &mut ImportReport,
    outcome: Result<ImportSummary, ImportError>,
    folder: &Path,
) {
    report.finished_at = Some(Utc::now());
    match outcome {
        Ok(summary) => {
            report.files = summary
                .files
                .iter()
                .map(|file| file_counts(file, folder))
                .collect();
            report.state = if summary.is_complete() {
                ImportState::Complete
            } else if let Some(failure) = &summary.first_failure {
                tracing::warn!("an import from the page was not acknowledged whole: {failure}");
                ImportState::Incomplete {
                    reason: BROKER_UNAVAILABLE.into(),
                }
            } else {
                ImportState::Incomplete {
                    reason: "a file stopped early (see its row)".into(),
                }
            };
        }
        Err(error) => {
            tracing::warn!("an import from the page failed: {error}");
            report.state = ImportState::Incomplete {
                reason: BROKER_UNAVAILABLE.into(),
            }
        }
    }
}

/// A file's counts, named as the person knows it: within their upload
/// (the folder it waits in is the server's business).
fn file_counts(file: &FileSummary, folder: &Path) -> FileCounts {
    let outcome = if let Some(earlier) = &file.already_imported {
        FileOutcome::ImportedBefore {
            file: earlier.file.clone(),
            at: chrono::DateTime::parse_from_rfc3339(&earlier.imported_at)
                .ok()
                .map(|at| at.with_timezone(&Utc)),
            sent: earlier.sent,
        }
    } else if let Some(reason) = &file.stopped_early {
        FileOutcome::Stopped {
            reason: reason.clone(),
        }
    } else if file.failed > 0 {
        FileOutcome::Stopped {
            reason: format!("{} records were not acknowledged by Kafka", file.failed),
        }
    } else {
        FileOutcome::Complete
    };
    let name = Path::new(&file.name)
        .strip_prefix(folder)
        .map_or_else(|_| file.name.clone(), |name| name.display().to_string());
    FileCounts {
        name,
        read: file.read,
        sent: file.sent,
        duplicates: file.duplicates,
        not_music: file.not_music,
        rejected: file.rejected,
        failed: file.failed,
        outcome,
    }
}

/// Follows an import from the page into its report, and tells it to stop when asked.
pub(super) struct PageObserver {
    pub(super) running: Running,
    /// Where its upload waits.
    pub(super) folder: PathBuf,
}

impl PageObserver {
    /// The import runs again from its first file.
    pub(super) fn start_over(&self) {
        self.running.progress.send_modify(|report| {
            report.files.clear();
            report.bytes_read = 0;
        });
    }

    /// Updates the file's row (the last one, unless another file began).
    fn file(&self, file: &FileSummary, outcome: FileOutcome) {
        self.running.progress.send_modify(|report| {
            let mut counts = file_counts(file, &self.folder);
            counts.outcome = outcome;
            match report.files.last_mut() {
                Some(last) if last.name == counts.name => *last = counts,
                _ => report.files.push(counts),
            }
        });
    }
}

impl ImportObserver for PageObserver {
    fn started(&self, total_bytes: u64) {
        self.running
            .progress
            .send_modify(|report| report.total_bytes = total_bytes);
    }

    fn read_bytes(&self, bytes: u64) {
        self.running
            .progress
            .send_modify(|report| report.bytes_read += bytes);
    }

    fn file_progress(&self, file: &FileSummary) {
        self.file(file, FileOutcome::Reading);
    }

    fn acknowledging(&self, file: &FileSummary) {
        self.file(file, FileOutcome::Acknowledging);
    }

    fn stopping(&self) -> bool {
        self.running.stop.load(Ordering::Relaxed)
    }
}
