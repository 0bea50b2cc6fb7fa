//! Runs an import: finds the history files, skips those imported before
//! (unless forced), streams each one's records (listens to the topic, each
//! rejected record to the dead-letter topic with its reason, exact repeats
//! counted once) and records a file as imported once the broker acknowledged
//! all of it. Files are read on a blocking thread, one after the other.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::summary::REJECTIONS_LISTED;
use super::{FileSummary, ImportObserver, ImportOptions, ImportRegistry, ImportSummary, Rejection};
use crate::accounts::PersonId;
use crate::config::KafkaSettings;
use crate::event::{ImportId, ImportPosition, TopicMessage};
use crate::ingest::export::{self, ArchiveRefusal, Export, Source};
use crate::ingest::{Deduplicator, Format, IngestError, Record};
use crate::stream::dead_letter::{DeadLetter, Origin};
use crate::stream::send::{ListenSender, MessageTimeout, SendError};

/// Why an import could not start.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "cannot read {path}: {source}. Check the path: give a spotify_history.csv file, \
         a file of a Spotify export, the export's folder or its .zip."
    )]
    Unreadable { path: String, source: IngestError },
    #[error("{path} is refused unread: {source}. If it is a Spotify export, raise that limit.")]
    Refused {
        path: String,
        source: ArchiveRefusal,
    },
    #[error(
        "{path} holds no listening history: no spotify_history.csv, Streaming_History_Audio_*.json, \
         endsong_*.json or StreamingHistory*.json files (found: {found})."
    )]
    NoHistory { path: String, found: String },
    #[error(transparent)]
    Kafka(#[from] SendError),
}

/// Imports a file, folder or export archive; see the module documentation.
pub async fn import<R: ImportRegistry>(
    kafka: &KafkaSettings,
    options: &ImportOptions,
    registry: &R,
    observer: Arc<dyn ImportObserver>,
) -> Result<ImportSummary, ImportError> {
    prepare(options)
        .await?
        .run(kafka, options, registry, observer)
        .await
}

/// Finds and checks the history files of an import: what is not listening
/// history is refused here, before anything is sent.
pub async fn prepare(options: &ImportOptions) -> Result<Prepared, ImportError> {
    Ok(Prepared {
        found: find_history(options).await?,
    })
}

/// An import whose history files were found and checked; nothing sent yet.
pub struct Prepared {
    found: Export,
}

impl Prepared {
    /// Streams the files found (see the module documentation).
    pub async fn run<R: ImportRegistry>(
        self,
        kafka: &KafkaSettings,
        options: &ImportOptions,
        registry: &R,
        observer: Arc<dyn ImportObserver>,
    ) -> Result<ImportSummary, ImportError> {
        let found = self.found;
        let timeout = match options.id {
            Some(_) => MessageTimeout::Unbounded,
            None => MessageTimeout::Bounded,
        };
        let sender = Arc::new(ListenSender::connect(kafka, timeout).await?);
        observer.started(found.sources.iter().map(|source| source.size).sum());
        let started = Instant::now();
        let mut summary = ImportSummary {
            ignored: found.ignored,
            ..Default::default()
        };
        let stream = FileStream {
            sender: sender.clone(),
            person: options.person.clone(),
            rate: options.rate,
            limit: options.limit,
            observer: observer.clone(),
            dedup: Deduplicator::default(),
            started,
            queued_listens: 0,
            read: 0,
            import: options.id.clone(),
            file_index: 0,
        };
        import_files(stream, found.sources, options, registry, &mut summary).await;
        observer.finished();
        summary.first_failure = sender.first_failure();
        summary.elapsed = started.elapsed();
        // Dropping the producer's last handle blocks: it purges what is
        // left and waits up to half a second for the client to wind down.
        let _ = tokio::task::spawn_blocking(move || drop(sender)).await;
        Ok(summary)
    }
}

/// Streams each file in turn, those imported before skipped unless forced
/// (or imported by this very import, which resumes: what of them was
/// counted before is not counted again).
async fn import_files<R: ImportRegistry>(
    mut stream: FileStream,
    sources: Vec<Source>,
    options: &ImportOptions,
    registry: &R,
    summary: &mut ImportSummary,
) {
    for (index, source) in sources.into_iter().enumerate() {
        stream.file_index = u32::try_from(index).unwrap_or(u32::MAX);
        let mut file = FileSummary {
            name: source.name.clone(),
            unit: source.format.position_unit(),
            ..Default::default()
        };
        let hash = match content_hash(&source).await {
            Ok(hash) => hash,
            Err(error) => {
                file.stopped_early = Some(format!("cannot read it: {error}"));
                summary.files.push(file);
                continue;
            }
        };
        let earlier = match options.force {
            true => Ok(None),
            false => registry.earlier_import(hash).await.map(|earlier| {
                earlier.filter(|earlier| earlier.import.is_none() || earlier.import != options.id)
            }),
        };
        match earlier {
            Ok(Some(earlier)) => file.already_imported = Some(earlier),
            Err(problem) => {
                file.stopped_early = Some(format!(
                    "cannot tell whether it was imported before ({problem}); \
                     start MongoDB or pass --force"
                ));
                // An import from the page stops here: going on would read the
                // next files without this one's repeats, which a resumed run
                // would then see, counting them differently.
                if options.id.is_some() {
                    summary.files.push(file);
                    break;
                }
            }
            Ok(None) => {
                let name = file.name.clone();
                let streamed = tokio::task::spawn_blocking(move || {
                    let complete = stream.stream(&source, &mut file);
                    (stream, file, complete)
                })
                .await;
                let complete;
                (stream, file, complete) = match streamed {
                    Ok(streamed) => streamed,
                    Err(error) => {
                        // The run's state went with the thread: nothing more can be streamed.
                        summary.files.push(FileSummary {
                            name,
                            stopped_early: Some(format!("reading stopped unexpectedly: {error}")),
                            ..Default::default()
                        });
                        break;
                    }
                };
                if complete {
                    if let Err(problem) = registry
                        .record_import(hash, &file, options.id.as_ref())
                        .await
                    {
                        summary.registry_problem.get_or_insert(problem.to_string());
                    }
                }
            }
        }
        summary.files.push(file);
        if stream.limit_reached() || stream.observer.stopping() {
            break;
        }
    }
}

/// The history files of the input; a CSV file of another kind is refused
/// here, before anything is sent.
async fn find_history(options: &ImportOptions) -> Result<Export, ImportError> {
    let (path, format, limits) = (options.path.clone(), options.format, options.archive_limits);
    let path_text = path.display().to_string();
    let found = tokio::task::spawn_blocking(move || {
        let found = export::discover(&path, format, &limits)?;
        for source in found.sources.iter().filter(|s| s.format == Format::Csv) {
            // Opening a CSV file reads and checks its header.
            let _records = source.open(|_| {})?;
        }
        Ok(found)
    })
    .await
    .unwrap_or_else(|error| Err(IngestError::Io(std::io::Error::other(error.to_string()))))
    .map_err(|source| match source {
        IngestError::Archive(source) => ImportError::Refused {
            path: path_text.clone(),
            source,
        },
        source => ImportError::Unreadable {
            path: path_text.clone(),
            source,
        },
    })?;
    if found.sources.is_empty() {
        return Err(ImportError::NoHistory {
            path: path_text,
            found: list_names(&found.ignored),
        });
    }
    Ok(found)
}

/// Hashes a file's content on a blocking thread.
async fn content_hash(source: &Source) -> Result<u128, IngestError> {
    let source = source.clone();
    tokio::task::spawn_blocking(move || source.content_hash())
        .await
        .unwrap_or_else(|error| Err(IngestError::Io(std::io::Error::other(error.to_string()))))
}

fn list_names(names: &[String]) -> String {
    match names.len() {
        0 => "nothing".to_string(),
        1..=5 => names.join(", "),
        n => format!("{}, … {} more", names[..5].join(", "), n - 5),
    }
}

/// What lasts across the files of one import.
struct FileStream {
    sender: Arc<ListenSender>,
    person: PersonId,
    rate: f64,
    limit: Option<u64>,
    observer: Arc<dyn ImportObserver>,
    /// Exact repeats are recognised across all files of the import.
    dedup: Deduplicator,
    started: Instant,
    queued_listens: u64,
    /// Records read in all files, for the limit.
    read: u64,
    /// The import from the page this is, if it is one.
    import: Option<ImportId>,
    /// The file being read, in the order of the import.
    file_index: u32,
}

impl FileStream {
    fn limit_reached(&self) -> bool {
        self.limit.is_some_and(|limit| self.read >= limit)
    }

    /// Streams one file and waits for the broker's acknowledgements; true
    /// when the whole file was read and every record acknowledged.
    fn stream(&mut self, source: &Source, file: &mut FileSummary) -> bool {
        let observer = self.observer.clone();
        let records = match source.open(move |bytes| observer.read_bytes(bytes)) {
            Ok(records) => records,
            Err(error) => {
                file.stopped_early = Some(format!("cannot read it: {error}"));
                return false;
            }
        };
        let before = self.sender.acknowledged();
        let mut queued = 0u64;
        let mut cut_short = false;
        for record in records {
            if self.limit_reached() {
                cut_short = true;
                break;
            }
            if self.observer.stopping() {
                file.stopped_early =
                    Some(format!("stopped after {} records, on request", file.read));
                break;
            }
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    file.stopped_early = Some(format!(
                        "reading stopped after {} records: {error}",
                        file.read
                    ));
                    break;
                }
            };
            file.read += 1;
            self.read += 1;
            queued += self.send(source, file, record);
            if file.read.is_multiple_of(1000) {
                self.observer.file_progress(file);
            }
        }
        self.observer.acknowledging(file);
        let flushed = self.sender.flush();
        let acknowledged = self.sender.acknowledged().since(before);
        file.sent = acknowledged.listens;
        file.failed = acknowledged.failed;
        if !flushed {
            let answered = acknowledged.listens + acknowledged.dead_letters + acknowledged.failed;
            file.failed += queued.saturating_sub(answered);
        }
        // Unflushed, late acknowledgements of this file could be counted
        // with the next: it is not complete, whatever the counts say.
        flushed && !cut_short && file.stopped_early.is_none() && file.failed == 0
    }

    /// Counts one record and sends what goes to Kafka; 1 when something was queued.
    fn send(&mut self, source: &Source, file: &mut FileSummary, record: Record) -> u64 {
        match record {
            Record::Listen {
                event, fingerprint, ..
            } => {
                if self.dedup.is_repeat(fingerprint) {
                    file.duplicates += 1;
                    return 0;
                }
                pace(self.rate, self.started, self.queued_listens);
                let import = self.import.as_ref().map(|id| ImportPosition {
                    id: id.clone(),
                    file: self.file_index,
                    record: file.read,
                });
                self.sender.send_listen(&TopicMessage::Listen {
                    person: self.person.clone(),
                    listen: event,
                    import,
                });
                self.queued_listens += 1;
                1
            }
            Record::NotMusic { .. } => {
                file.not_music += 1;
                0
            }
            Record::Rejected {
                position,
                reason,
                raw,
            } => {
                file.rejected += 1;
                *file.rejected_by_kind.entry(reason.kind()).or_default() += 1;
                if file.rejections.len() < REJECTIONS_LISTED {
                    file.rejections.push(Rejection {
                        position,
                        reason: reason.to_string(),
                    });
                }
                let letter = DeadLetter {
                    reason: reason.to_string(),
                    reason_kind: reason.kind(),
                    person: Some(self.person.to_string()),
                    origin: Origin::File {
                        path: source.origin.clone(),
                        unit: file.unit,
                        position,
                    },
                };
                self.sender.set_aside(&raw, &letter);
                1
            }
        }
    }
}

/// Sleeps as needed to keep to `rate` events per second.
fn pace(rate: f64, started: Instant, sent: u64) {
    if rate <= 0.0 {
        return;
    }
    let due = started + Duration::from_secs_f64(sent as f64 / rate);
    let now = Instant::now();
    if due > now {
        std::thread::sleep(due - now);
    }
}
