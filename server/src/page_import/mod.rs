//! Imports started from the page: one at a time per person. An upload is
//! spooled to a file of its own (readable by the server alone), checked
//! (what is not listening history is refused before anything is sent), then
//! imported by the same code as the `producer` binary ([`crate::import`]) on
//! a task of its own, its progress kept where the page follows it
//! ([`report`]) and its outcome written to the person's import history. The
//! spooled file is deleted when the import ends, or when the upload is
//! refused or does not arrive whole; a server stopped during an import
//! resumes it at its next start.

mod beat;
mod names;
mod report;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use app::imports::{ImportReport, ImportState, Imports};
use chrono::Utc;
use tokio::sync::watch;

use crate::accounts::throttle::{Allowance, RetryAfter, Throttle};
use crate::accounts::PersonId;
use crate::config::{KafkaSettings, UploadSettings};
use crate::event::ImportId;
use crate::import::{prepare, ImportError, ImportObserver, ImportOptions, ImportSummary, Prepared};
use crate::ingest::export::ArchiveLimits;
use crate::store::imports::PersonImports;
use crate::store::TopicStore;
use beat::{alive_since, Beat};
pub use names::upload_name;
use names::{import_id, runner_name, RUNNER_FILE};
use report::{finish, not_history, PageObserver};

/// The imports running from the page, and what they may take.
#[derive(Clone)]
pub struct WebImports(Arc<Shared>);

struct Shared {
    running: Mutex<HashMap<PersonId, Running>>,
    /// Set when the server stops: running imports end without an outcome,
    /// to be resumed at the next start.
    pausing: AtomicBool,
    /// Uploads each person started within the last hour.
    started: Mutex<Throttle>,
    uploads_per_hour: usize,
    max_upload_bytes: u64,
    dir: PathBuf,
    /// This server's machine and upload folder: it alone resumes the imports it ran.
    runner: String,
    archive_limits: ArchiveLimits,
    kafka: Arc<KafkaSettings>,
    store: TopicStore,
}

/// Why an upload is not taken.
#[derive(Debug, thiserror::Error)]
pub enum UploadRefused {
    #[error(
        "your import of {upload} (started {started}) is still running: wait until it ends, \
         then upload the next file"
    )]
    Busy { upload: String, started: String },
    #[error(
        "you started {per_hour} uploads within the hour, the most allowed; try again in {} minutes",
        .retry_after.as_secs().div_ceil(60)
    )]
    Throttled {
        per_hour: usize,
        retry_after: Duration,
    },
    #[error(
        "the upload is {bytes} bytes, more than the limit of {limit} bytes (MAX_UPLOAD_BYTES); \
         upload the export's history files one by one, or ask the administrator to raise the limit"
    )]
    TooLarge { bytes: u64, limit: u64 },
    #[error("{0}")]
    NotHistory(String),
    #[error("the upload cannot be kept on the server ({0}); tell the server's administrator")]
    Spool(String),
    #[error(
        "the import cannot be recorded (the database does not answer), so it was not started; \
         try again in a moment"
    )]
    Unrecorded,
}

impl UploadRefused {
    fn busy(running: &ImportReport) -> Self {
        Self::Busy {
            upload: running.upload.clone(),
            started: running.started_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }
}

/// A person's import slot, taken: the import's report as it goes, and
/// whether it is asked to stop.
#[derive(Clone)]
struct Running {
    progress: watch::Sender<ImportReport>,
    stop: Arc<AtomicBool>,
}

impl Running {
    fn new(report: ImportReport) -> Self {
        Self {
            progress: watch::Sender::new(report),
            stop: Arc::default(),
        }
    }
}

/// Whether a person's import stopped when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// None runs (any more).
    Yes,
    /// It is still ending (waiting for the broker): what comes next must wait.
    StillEnding,
    /// Another server runs it: what comes next must wait until it ends.
    Elsewhere,
}

/// How often an import the broker did not take whole runs again, and how long after.
const BROKER_RETRIES: usize = 5;
const BROKER_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Whether the broker failed the import (rather than its files).
fn broker_failed(outcome: &Result<ImportSummary, ImportError>) -> bool {
    match outcome {
        Ok(summary) => summary.first_failure.is_some(),
        Err(ImportError::Kafka(_)) => true,
        Err(_) => false,
    }
}

/// Longest a deletion waits for the person's running import to stop.
const STOP_PATIENCE: Duration = Duration::from_secs(60);

impl WebImports {
    pub fn new(
        settings: &UploadSettings,
        archive_limits: ArchiveLimits,
        kafka: Arc<KafkaSettings>,
        store: TopicStore,
    ) -> Self {
        Self(Arc::new(Shared {
            running: Mutex::new(HashMap::new()),
            pausing: AtomicBool::new(false),
            started: Mutex::new(Throttle::new(Allowance {
                failures: settings.uploads_per_hour as usize,
                window: Duration::from_secs(3600),
            })),
            uploads_per_hour: settings.uploads_per_hour as usize,
            max_upload_bytes: settings.max_upload_bytes,
            runner: runner_name(&settings.dir()),
            dir: settings.dir(),
            archive_limits,
            kafka,
            store,
        }))
    }

    pub fn max_upload_bytes(&self) -> u64 {
        self.0.max_upload_bytes
    }

    fn running(&self) -> MutexGuard<'_, HashMap<PersonId, Running>> {
        self.0.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The person's running import, as it goes.
    pub fn progress(&self, person: &PersonId) -> Option<watch::Receiver<ImportReport>> {
        self.running()
            .get(person)
            .map(|running| running.progress.subscribe())
    }

    /// Stops the person's running import, if any, and waits (a while) for
    /// it to end: what it sent is then in the topic before whatever comes
    /// next (their data's deletion). Whether none runs any more.
    pub async fn stop(&self, person: &PersonId) -> Stopped {
        let Some(stop) = self
            .running()
            .get(person)
            .map(|running| running.stop.clone())
        else {
            // Another server's import is not stopped from here: what comes
            // next waits until it ends.
            return match self.running_elsewhere(person).await {
                Ok(Some(_)) => Stopped::Elsewhere,
                Ok(None) | Err(_) => Stopped::Yes,
            };
        };
        stop.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + STOP_PATIENCE;
        while self.running().contains_key(person) {
            if Instant::now() >= deadline {
                return Stopped::StillEnding;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Stopped::Yes
    }

    /// The server stops: every running import ends where it is, recorded
    /// as still running, so that the next start resumes it.
    pub fn pause_all(&self) {
        self.0.pausing.store(true, Ordering::Relaxed);
        for running in self.running().values() {
            running.stop.store(true, Ordering::Relaxed);
        }
    }

    /// The person's running import and the imports they made before, newest first.
    pub async fn overview(&self, person: &PersonId) -> Result<Imports, String> {
        let running = self
            .progress(person)
            .map(|progress| progress.borrow().clone());
        let history = self.0.store.import_runs(person, alive_since()).await;
        let history = history.map_err(|error| {
            tracing::warn!("cannot read an import history: {error}");
            "the import history cannot be read right now; try again in a moment".to_string()
        })?;
        let history = history
            .into_iter()
            .filter(|past| running.as_ref().is_none_or(|running| running.id != past.id))
            .collect();
        Ok(Imports {
            running,
            history,
            max_upload_bytes: self.max_upload_bytes(),
        })
    }

    /// Takes the person's one import slot for an upload named `name` of
    /// `bytes` (when the request says); the upload is received into
    /// [`Reservation::spool`].
    pub async fn reserve(
        &self,
        person: &PersonId,
        name: &str,
        bytes: Option<u64>,
    ) -> Result<Reservation, UploadRefused> {
        if let Some(bytes) = bytes.filter(|&bytes| bytes > self.0.max_upload_bytes) {
            return Err(UploadRefused::TooLarge {
                bytes,
                limit: self.0.max_upload_bytes,
            });
        }
        let report = ImportReport {
            id: import_id(),
            upload: upload_name(name),
            bytes: 0,
            started_at: Utc::now(),
            finished_at: None,
            bytes_read: 0,
            total_bytes: 0,
            files: Vec::new(),
            state: ImportState::Running,
            again: false,
        };
        self.refuse_if_running_here(person)?;
        self.refuse_if_running_elsewhere(person).await?;
        {
            let mut running = self.running();
            if let Some(busy) = running.get(person) {
                return Err(UploadRefused::busy(&busy.progress.borrow()));
            }
            self.count_upload(person)?;
            running.insert(person.clone(), Running::new(report.clone()));
        }
        let folder = self.0.dir.join(&report.id);
        let spool = folder.join(&report.upload);
        let reservation = Reservation {
            imports: self.clone(),
            person: person.clone(),
            report,
            folder,
            spool,
            started: false,
        };
        reservation.make_folder().await?;
        Ok(reservation)
    }

    fn refuse_if_running_here(&self, person: &PersonId) -> Result<(), UploadRefused> {
        match self.running().get(person) {
            Some(busy) => Err(UploadRefused::busy(&busy.progress.borrow())),
            None => Ok(()),
        }
    }

    /// The person's import another server runs, as the history says.
    async fn running_elsewhere(
        &self,
        person: &PersonId,
    ) -> Result<Option<ImportReport>, crate::store::StoreError> {
        let found = self
            .0
            .store
            .import_running_elsewhere(person, &self.0.runner, alive_since())
            .await;
        if let Err(error) = &found {
            tracing::warn!("cannot read whether an import runs elsewhere: {error}");
        }
        found
    }

    /// Another server may run the person's import: their one slot is
    /// checked in the history too, when the upload begins and again before
    /// its import starts (two started within the same moment on two servers
    /// are not caught).
    async fn refuse_if_running_elsewhere(&self, person: &PersonId) -> Result<(), UploadRefused> {
        match self.running_elsewhere(person).await {
            Ok(Some(busy)) => Err(UploadRefused::busy(&busy)),
            Ok(None) => Ok(()),
            Err(_) => Err(UploadRefused::Unrecorded),
        }
    }

    fn count_upload(&self, person: &PersonId) -> Result<(), UploadRefused> {
        let mut started = self.0.started.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if let Err(RetryAfter(retry_after)) = started.check(person.as_str(), now) {
            return Err(UploadRefused::Throttled {
                per_hour: self.0.uploads_per_hour,
                retry_after,
            });
        }
        started.record_failure(person.as_str(), now);
        Ok(())
    }
}

/// A person's import slot, held from the upload's first byte: released
/// (and the upload deleted) when dropped before the import starts.
pub struct Reservation {
    imports: WebImports,
    person: PersonId,
    report: ImportReport,
    folder: PathBuf,
    /// Where the upload is received.
    pub spool: PathBuf,
    started: bool,
}

impl Reservation {
    pub fn max_upload_bytes(&self) -> u64 {
        self.imports.max_upload_bytes()
    }

    async fn make_folder(&self) -> Result<(), UploadRefused> {
        let mut builder = tokio::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        builder.mode(0o700);
        builder
            .create(&self.folder)
            .await
            .map_err(|error| UploadRefused::Spool(error.to_string()))
    }

    /// Checks the upload received whole (`bytes` of it) and starts importing
    /// it; what it answers is the import as it starts.
    pub async fn start(mut self, bytes: u64, again: bool) -> Result<ImportReport, UploadRefused> {
        self.report.bytes = bytes;
        self.report.again = again;
        let options = self
            .imports
            .options(&self.person, &self.report, &self.spool);
        let prepared = prepare(&options)
            .await
            .map_err(|error| UploadRefused::NotHistory(not_history(&self.report.upload, error)))?;
        self.imports
            .refuse_if_running_elsewhere(&self.person)
            .await?;
        // Written before anything is sent: a server stopped from then on resumes it.
        let store = &self.imports.0.store;
        if let Err(error) = store
            .record_import_run(&self.person, &self.report, &self.imports.0.runner)
            .await
        {
            tracing::warn!("cannot write an import's start to the history: {error}");
            return Err(UploadRefused::Unrecorded);
        }
        let Some(running) = self.imports.running().get(&self.person).cloned() else {
            return Err(UploadRefused::Spool("its import slot was lost".into()));
        };
        running.progress.send_replace(self.report.clone());
        self.started = true;
        self.imports.launch(
            self.person.clone(),
            running,
            options,
            prepared,
            self.folder.clone(),
        );
        Ok(self.report.clone())
    }
}

impl WebImports {
    /// How an import from the page runs.
    fn options(&self, person: &PersonId, report: &ImportReport, spool: &Path) -> ImportOptions {
        ImportOptions {
            person: person.clone(),
            path: spool.to_path_buf(),
            format: None,
            rate: 0.0,
            limit: None,
            force: report.again,
            archive_limits: self.0.archive_limits,
            id: Some(ImportId(report.id.clone())),
        }
    }

    /// Runs an import on a task of its own, following it into `progress`,
    /// and writes its outcome to the history; the person's slot and the
    /// upload's folder go when it ends.
    fn launch(
        &self,
        person: PersonId,
        running: Running,
        options: ImportOptions,
        prepared: Prepared,
        folder: PathBuf,
    ) {
        let imports = self.clone();
        tokio::spawn(async move {
            // Frees the person's slot however the import ends.
            let _slot = Slot {
                imports: imports.clone(),
                person: person.clone(),
            };
            let store = imports.0.store.clone();
            let registry = PersonImports::of(store.clone(), person.clone());
            let progress = running.progress.clone();
            let beat = Beat::start(store.clone(), person.clone(), progress.subscribe());
            let observer = Arc::new(PageObserver {
                running,
                folder: folder.clone(),
            });
            let mut outcome = prepared
                .run(&imports.0.kafka, &options, &registry, observer.clone())
                .await;
            // The broker did not take it all: the same import runs again
            // (what was counted is not counted again) until it does.
            for _ in 0..BROKER_RETRIES {
                if !broker_failed(&outcome) || observer.stopping() {
                    break;
                }
                tracing::warn!(
                    "an import from the page is retried: the broker did not take it all"
                );
                tokio::time::sleep(BROKER_RETRY_AFTER).await;
                observer.start_over();
                outcome = match prepare(&options).await {
                    Ok(prepared) => {
                        prepared
                            .run(&imports.0.kafka, &options, &registry, observer.clone())
                            .await
                    }
                    Err(error) => Err(error),
                };
            }
            drop(beat);
            if imports.0.pausing.load(Ordering::Relaxed) {
                tracing::info!("an import from the page is left for the next start to resume");
                return;
            }
            let mut report = progress.borrow().clone();
            finish(&mut report, outcome, &folder);
            let runner = &imports.0.runner;
            match store.record_import_run(&person, &report, runner).await {
                Ok(()) => remove_folder(&folder).await,
                // The history still says it runs: the next start imports
                // it again (nothing counts twice), so its upload stays.
                Err(error) => {
                    tracing::warn!("cannot write an import's outcome to the history: {error}")
                }
            }
            progress.send_replace(report);
        });
    }

    /// Resumes the imports the history says are running: the server
    /// stopped during them. Each sends its files again from their start,
    /// and what was counted of them before is not counted again (see
    /// [`crate::event::ImportPosition`]); one whose upload is gone ends
    /// incomplete, saying so.
    pub async fn resume_interrupted(&self) {
        let interrupted = match self.0.store.running_import_runs(&self.0.runner).await {
            Ok(interrupted) => interrupted,
            Err(error) => {
                tracing::warn!("cannot look for interrupted imports: {error}");
                return;
            }
        };
        let resumed: std::collections::HashSet<String> = interrupted
            .iter()
            .map(|(_, report)| report.id.clone())
            .collect();
        self.delete_leftovers(&resumed).await;
        for (person, mut report) in interrupted {
            let folder = self.0.dir.join(&report.id);
            let spool = folder.join(&report.upload);
            let options = self.options(&person, &report, &spool);
            let prepared = match tokio::fs::try_exists(&spool).await {
                Ok(true) => prepare(&options)
                    .await
                    .map_err(|error| not_history(&report.upload, error)),
                _ => Err(format!(
                    "the server stopped during the import and its upload was not kept \
                     (the server's upload folder was emptied): upload {} again",
                    report.upload
                )),
            };
            let prepared = match prepared {
                Ok(prepared) => prepared,
                Err(reason) => {
                    report.finished_at = Some(Utc::now());
                    report.state = ImportState::Incomplete { reason };
                    let recorded = self
                        .0
                        .store
                        .record_import_run(&person, &report, &self.0.runner)
                        .await;
                    if let Err(error) = recorded {
                        tracing::warn!("cannot write an interrupted import's end: {error}");
                    }
                    continue;
                }
            };
            report.bytes_read = 0;
            report.files.clear();
            let slot = Running::new(report.clone());
            {
                let mut running = self.running();
                if running.contains_key(&person) {
                    continue;
                }
                running.insert(person.clone(), slot.clone());
            }
            tracing::info!(import = %report.id, "resuming an import the server stopped during");
            self.launch(person, slot, options, prepared, folder);
        }
    }
}

impl WebImports {
    /// Deletes what the upload folder holds besides the uploads of imports
    /// to resume: uploads the server stopped during (never imported), and
    /// imported ones it could not delete. They are people's listening
    /// history: nothing of them is kept longer than needed.
    async fn delete_leftovers(&self, resumed: &std::collections::HashSet<String>) {
        let Ok(mut entries) = tokio::fs::read_dir(&self.0.dir).await else {
            return;
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            if resumed.contains(&name) || name == RUNNER_FILE {
                continue;
            }
            let path = entry.path();
            let removed = match entry.file_type().await {
                Ok(kind) if kind.is_dir() => tokio::fs::remove_dir_all(&path).await,
                _ => tokio::fs::remove_file(&path).await,
            };
            if let Err(error) = removed {
                tracing::warn!("cannot delete a leftover upload: {error}");
            }
        }
    }
}

/// A running import's hold on its person's slot.
struct Slot {
    imports: WebImports,
    person: PersonId,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.imports.running().remove(&self.person);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.started {
            self.imports.running().remove(&self.person);
            // Synchronous: a refused upload is gone when its answer is.
            let _ = std::fs::remove_dir_all(&self.folder);
        }
    }
}

async fn remove_folder(folder: &Path) {
    if let Err(error) = tokio::fs::remove_dir_all(folder).await {
        tracing::warn!("cannot delete an imported upload: {error}");
    }
}
