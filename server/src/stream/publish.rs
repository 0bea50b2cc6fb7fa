//! Streams one person's listening history into Kafka: each listen becomes a
//! JSON event of theirs, keyed by them; each rejected record goes to the
//! dead-letter topic with its file, position, reason and person; exact
//! duplicates are counted once. A
//! folder or export archive is streamed file by file, each file skipped when
//! its content was imported before (unless forced), and summarised.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};

use super::dead_letter::{DeadLetter, Origin};
use super::{check_reachable, describe, ensure_topics, keyed_producer_config, KafkaUnreachable};
use crate::accounts::PersonId;
use crate::config::KafkaSettings;
use crate::event::TopicMessage;
use crate::ingest::export::{self, Source};
use crate::ingest::{Deduplicator, Format, IngestError, Record};

/// How many rejected records the summary lists by position.
const REJECTIONS_LISTED: usize = 20;
/// Longest wait for the broker to acknowledge what is queued before giving up.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(150);

#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Whose listens these are.
    pub person: PersonId,
    /// A history file, a folder of them, or a Spotify export `.zip`.
    pub path: PathBuf,
    /// Overrides the format told from a single file's content.
    pub format: Option<Format>,
    /// Events per second; 0 sends as fast as the broker takes them.
    pub rate: f64,
    /// Stop after this many records in all.
    pub limit: Option<u64>,
    /// Stream files even when their content was imported before.
    pub force: bool,
    /// Draw a progress bar (only shown on a terminal).
    pub progress: bool,
}

/// Remembers which file contents were imported into the topic, so a repeat
/// is refused instead of counted twice.
pub trait ImportRegistry {
    /// Describes the earlier import of content with this hash, if there was one.
    fn earlier_import(&self, content_hash: u128) -> Result<Option<String>, String>;
    /// Notes that a file with this content was streamed in full.
    fn record_import(&self, content_hash: u128, file: &FileSummary) -> Result<(), String>;
}

/// What happened to every record of one file: read = sent + duplicates +
/// not music + rejected (+ failed, when the broker did not acknowledge).
#[derive(Debug, Default, Clone)]
pub struct FileSummary {
    pub name: String,
    /// `line` or `record`: what positions in this file count.
    pub unit: &'static str,
    pub read: u64,
    /// Listens the broker acknowledged.
    pub sent: u64,
    /// Exact repeats of a record already read, counted once.
    pub duplicates: u64,
    /// Podcast episodes and audiobooks.
    pub not_music: u64,
    /// Records that cannot be listens; each went to the dead-letter topic.
    pub rejected: u64,
    pub rejected_by_kind: BTreeMap<&'static str, u64>,
    /// The first rejections: `(position, reason)`.
    pub rejections: Vec<(u64, String)>,
    /// Listens or dead letters the broker never acknowledged.
    pub failed: u64,
    /// Why reading stopped before the end of the file, if it did.
    pub stopped_early: Option<String>,
    /// Set when the file was not streamed: its content was imported before.
    pub already_imported: Option<String>,
}

impl FileSummary {
    fn add(&mut self, other: &FileSummary) {
        self.read += other.read;
        self.sent += other.sent;
        self.duplicates += other.duplicates;
        self.not_music += other.not_music;
        self.rejected += other.rejected;
        self.failed += other.failed;
        for (kind, count) in &other.rejected_by_kind {
            *self.rejected_by_kind.entry(kind).or_default() += count;
        }
    }
}

/// What happened to every file and record of one run.
#[derive(Debug, Default, Clone)]
pub struct PublishSummary {
    pub files: Vec<FileSummary>,
    /// Files of a folder or archive that are not listening history.
    pub ignored: Vec<String>,
    pub first_failure: Option<String>,
    /// Why the registry of imports could not be written, if it could not.
    pub registry_problem: Option<String>,
    pub elapsed: Duration,
}

impl PublishSummary {
    /// Every file's figures added up.
    pub fn total(&self) -> FileSummary {
        let mut total = FileSummary::default();
        for file in &self.files {
            total.add(file);
        }
        total
    }

    /// True when every record read is accounted for and nothing failed.
    pub fn is_complete(&self) -> bool {
        self.files
            .iter()
            .all(|file| file.failed == 0 && file.stopped_early.is_none())
    }

    pub fn events_per_second(&self) -> f64 {
        self.total().sent as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }

    /// The summary as printed at the end of a run.
    pub fn report(&self, input: &str, kafka: &KafkaSettings) -> String {
        let total = self.total();
        let skipped = self
            .files
            .iter()
            .filter(|file| file.already_imported.is_some())
            .count();
        let mut out = format!("input       {input}");
        if self.files.len() != 1 || !self.ignored.is_empty() {
            out.push_str(&format!(
                " ({} history files, {} other files ignored)",
                self.files.len(),
                self.ignored.len()
            ));
        }
        out.push_str(&format!(
            "\n\
             read        {} records\n\
             sent        {} listens to {}\n\
             duplicates  {} (exact repeats of an earlier record, counted once)\n\
             not music   {} (podcast episodes and audiobooks, not counted)\n\
             rejected    {} (sent to {} with the reason)\n\
             elapsed     {:.1} s ({:.0} events/s)\n",
            total.read,
            total.sent,
            kafka.topic,
            total.duplicates,
            total.not_music,
            total.rejected,
            kafka.dead_letter_topic(),
            self.elapsed.as_secs_f64(),
            self.events_per_second(),
        ));
        for (kind, count) in &total.rejected_by_kind {
            out.push_str(&format!("  rejected as {kind}: {count}\n"));
        }
        let several = self.files.len() > 1;
        let mut listed = 0;
        for file in &self.files {
            for (position, reason) in &file.rejections {
                let place = if several {
                    format!("{} {} {position}", file.name, file.unit)
                } else {
                    format!("{} {position}", file.unit)
                };
                out.push_str(&format!("  {place}: {reason}\n"));
                listed += 1;
            }
        }
        if total.rejected as usize > listed {
            out.push_str(&format!(
                "  … and {} more on the dead-letter topic\n",
                total.rejected as usize - listed
            ));
        }
        if several {
            out.push_str(&self.file_table());
        }
        for file in &self.files {
            if let Some(earlier) = &file.already_imported {
                out.push_str(&format!(
                    "SKIPPED     {}: already imported ({earlier}); nothing sent. \
                     Pass --force to stream it again (its listens are then counted twice).\n",
                    file.name
                ));
            }
            if let Some(why) = &file.stopped_early {
                out.push_str(&format!(
                    "STOPPED     {}: {why}. The records before that point were sent; \
                     fix the file and stream the rest.\n",
                    file.name
                ));
            }
        }
        if skipped > 0 && skipped == self.files.len() {
            out.push_str("Nothing new to stream: every file was imported before.\n");
        }
        if total.failed > 0 {
            out.push_str(&format!(
                "FAILED      {} records were not acknowledged by Kafka ({}). \
                 Check that the broker is up (./scripts/stack.sh status) and stream the file again.\n",
                total.failed,
                self.first_failure.as_deref().unwrap_or("no reason given"),
            ));
        }
        if let Some(problem) = &self.registry_problem {
            out.push_str(&format!(
                "WARNING     the import was not recorded ({problem}); \
                 a repeat of these files will not be recognised.\n"
            ));
        }
        out
    }

    /// One line per file: read = sent + duplicates + not music + rejected.
    fn file_table(&self) -> String {
        let width = self
            .files
            .iter()
            .map(|file| file.name.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = format!(
            "{:width$}  {:>8} {:>8} {:>10} {:>9} {:>8}\n",
            "file", "read", "sent", "duplicates", "not music", "rejected"
        );
        for file in &self.files {
            out.push_str(&format!(
                "{:width$}  {:>8} {:>8} {:>10} {:>9} {:>8}{}\n",
                file.name,
                file.read,
                file.sent,
                file.duplicates,
                file.not_music,
                file.rejected,
                if file.already_imported.is_some() {
                    "  (imported before, skipped)"
                } else {
                    ""
                }
            ));
        }
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(
        "cannot read {path}: {source}. Check the path: give a spotify_history.csv file, \
         a file of a Spotify export, the export's folder or its .zip."
    )]
    Unreadable { path: String, source: IngestError },
    #[error(
        "{path} holds no listening history: no spotify_history.csv, Streaming_History_Audio_*.json, \
         endsong_*.json or StreamingHistory*.json files (found: {found})."
    )]
    NoHistory { path: String, found: String },
    #[error(transparent)]
    Kafka(#[from] KafkaUnreachable),
    #[error(
        "Kafka at {brokers} refused this client: {reason}. Check KAFKA_SECURITY_PROTOCOL, \
         KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and the password (KAFKA_SASL_PASSWORD_FILE)."
    )]
    KafkaRefused { brokers: String, reason: String },
}

/// Counts acknowledgements as the broker sends them.
#[derive(Default)]
struct Deliveries {
    events: AtomicU64,
    dead_letters: AtomicU64,
    failed: AtomicU64,
    first_failure: Mutex<Option<String>>,
    /// Why the brokers refused the client (authentication), if they did.
    refusal: Mutex<Option<String>>,
}

/// Tells apart, in delivery reports, listens from dead letters.
const EVENT: usize = 0;
const DEAD_LETTER: usize = 1;

impl ClientContext for Deliveries {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::Authentication) {
            if let Ok(mut refusal) = self.refusal.lock() {
                refusal.get_or_insert_with(|| reason.to_string());
            }
        }
    }
}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, kind: usize) {
        match result {
            Ok(_) if kind == EVENT => self.events.fetch_add(1, Ordering::Relaxed),
            Ok(_) => self.dead_letters.fetch_add(1, Ordering::Relaxed),
            Err((error, _)) => {
                self.record_failure(error);
                0
            }
        };
    }
}

impl Deliveries {
    fn record_failure(&self, error: &KafkaError) {
        if let Ok(mut first) = self.first_failure.lock() {
            first.get_or_insert_with(|| describe(error));
        }
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// Acknowledged listens, acknowledged dead letters and failures so far.
    fn counts(&self) -> (u64, u64, u64) {
        (
            self.events.load(Ordering::Relaxed),
            self.dead_letters.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

/// Streams a file, folder or export archive; see the module documentation.
pub fn publish(
    kafka: &KafkaSettings,
    options: &PublishOptions,
    registry: Option<&dyn ImportRegistry>,
) -> Result<PublishSummary, PublishError> {
    let path_text = options.path.display().to_string();
    let found = export::discover(&options.path, options.format).map_err(|source| {
        PublishError::Unreadable {
            path: path_text.clone(),
            source,
        }
    })?;
    if found.sources.is_empty() {
        return Err(PublishError::NoHistory {
            path: path_text,
            found: list_names(&found.ignored),
        });
    }
    // A CSV file of another kind is refused before anything is sent.
    for source in found.sources.iter().filter(|s| s.format == Format::Csv) {
        if let Err(error) = source.open(|_| {}) {
            return Err(PublishError::Unreadable {
                path: source.origin.clone(),
                source: error,
            });
        }
    }

    let producer = create_producer(kafka)?;
    if let Err(unreachable) =
        check_reachable(producer.client(), &kafka.brokers, Duration::from_secs(10))
    {
        let refusal = producer
            .context()
            .refusal
            .lock()
            .ok()
            .and_then(|r| r.clone());
        return Err(match refusal {
            Some(reason) => PublishError::KafkaRefused {
                brokers: kafka.brokers.clone(),
                reason,
            },
            None => unreachable.into(),
        });
    }
    futures::executor::block_on(ensure_topics(kafka))?;

    let progress = progress_bar(
        options.progress,
        found.sources.iter().map(|source| source.size).sum(),
    );
    let mut run = Run {
        kafka,
        options,
        producer: &producer,
        dedup: Deduplicator::default(),
        started: Instant::now(),
        queued_events: 0,
        read: 0,
    };
    let mut summary = PublishSummary {
        ignored: found.ignored,
        ..Default::default()
    };
    for source in &found.sources {
        let mut file = FileSummary {
            name: source.name.clone(),
            unit: source.format.position_unit(),
            ..Default::default()
        };
        let hash = match source.content_hash() {
            Ok(hash) => Some(hash),
            Err(error) => {
                file.stopped_early = Some(format!("cannot read it: {error}"));
                None
            }
        };
        let earlier = match (hash, registry, options.force) {
            (Some(hash), Some(registry), false) => registry.earlier_import(hash),
            _ => Ok(None),
        };
        match earlier {
            Ok(Some(earlier)) => file.already_imported = Some(earlier),
            Err(problem) => {
                file.stopped_early = Some(format!(
                    "cannot tell whether it was imported before ({problem}); \
                     start MongoDB or pass --force"
                ))
            }
            Ok(None) if hash.is_some() => {
                let complete = run.stream(source, &mut file, &progress);
                if let (true, Some(hash), Some(registry)) = (complete, hash, registry) {
                    if let Err(problem) = registry.record_import(hash, &file) {
                        summary.registry_problem.get_or_insert(problem);
                    }
                }
            }
            Ok(None) => {}
        }
        summary.files.push(file);
        if options.limit.is_some_and(|limit| run.read >= limit) {
            break;
        }
    }
    progress.finish_and_clear();
    summary.first_failure = producer
        .context()
        .first_failure
        .lock()
        .ok()
        .and_then(|first| first.clone());
    summary.elapsed = run.started.elapsed();
    Ok(summary)
}

fn list_names(names: &[String]) -> String {
    match names.len() {
        0 => "nothing".to_string(),
        1..=5 => names.join(", "),
        n => format!("{}, … {} more", names[..5].join(", "), n - 5),
    }
}

/// What lasts across the files of one run.
struct Run<'a> {
    kafka: &'a KafkaSettings,
    options: &'a PublishOptions,
    producer: &'a ThreadedProducer<Deliveries>,
    /// Exact repeats are recognised across all files of the run.
    dedup: Deduplicator,
    started: Instant,
    queued_events: u64,
    /// Records read in all files, for `--limit`.
    read: u64,
}

impl Run<'_> {
    /// Streams one file and waits for the broker's acknowledgements; true
    /// when the whole file was read and every record acknowledged.
    fn stream(&mut self, source: &Source, file: &mut FileSummary, progress: &ProgressBar) -> bool {
        let observer = progress.clone();
        let records = match source.open(move |bytes| observer.inc(bytes)) {
            Ok(records) => records,
            Err(error) => {
                file.stopped_early = Some(format!("cannot read it: {error}"));
                return false;
            }
        };
        let (sent_before, letters_before, failed_before) = self.producer.context().counts();
        let mut queued = 0u64;
        let mut cut_short = false;
        let dead_letter_topic = self.kafka.dead_letter_topic();
        for record in records {
            if self.options.limit.is_some_and(|limit| self.read >= limit) {
                cut_short = true;
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
            match record {
                Record::Listen {
                    event, fingerprint, ..
                } => {
                    if self.dedup.is_repeat(fingerprint) {
                        file.duplicates += 1;
                        continue;
                    }
                    pace(self.options.rate, self.started, self.queued_events);
                    let message = TopicMessage::Listen {
                        person: self.options.person.clone(),
                        listen: event,
                    };
                    let payload = serde_json::to_vec(&message).unwrap_or_default();
                    send(
                        self.producer,
                        BaseRecord::with_opaque_to(&self.kafka.topic, EVENT)
                            .key(message.key())
                            .payload(&payload),
                    );
                    self.queued_events += 1;
                    queued += 1;
                }
                Record::NotMusic { .. } => file.not_music += 1,
                Record::Rejected {
                    position,
                    reason,
                    raw,
                } => {
                    file.rejected += 1;
                    *file.rejected_by_kind.entry(reason.kind()).or_default() += 1;
                    if file.rejections.len() < REJECTIONS_LISTED {
                        file.rejections.push((position, reason.to_string()));
                    }
                    let letter = DeadLetter {
                        reason: reason.to_string(),
                        reason_kind: reason.kind(),
                        person: Some(self.options.person.to_string()),
                        origin: Origin::File {
                            path: source.origin.clone(),
                            unit: file.unit,
                            position,
                        },
                    };
                    send(
                        self.producer,
                        BaseRecord::<(), [u8], usize>::with_opaque_to(
                            &dead_letter_topic,
                            DEAD_LETTER,
                        )
                        .payload(&raw)
                        .headers(letter.headers()),
                    );
                    queued += 1;
                }
            }
            if file.read.is_multiple_of(1000) {
                progress.set_message(format!(
                    "{}: {} records read, {} rejected",
                    file.name, file.read, file.rejected
                ));
            }
        }
        progress.set_message("waiting for the broker to acknowledge…");
        let flushed = self.producer.flush(FLUSH_TIMEOUT);
        let (sent, letters, failed) = self.producer.context().counts();
        file.sent = sent - sent_before;
        file.failed = failed - failed_before;
        let acknowledged = file.sent + (letters - letters_before);
        if let Err(error) = flushed {
            file.failed += queued.saturating_sub(acknowledged + file.failed);
            if let Ok(mut first) = self.producer.context().first_failure.lock() {
                first.get_or_insert_with(|| describe(&error));
            }
        }
        !cut_short && file.stopped_early.is_none() && file.failed == 0
    }
}

fn create_producer(
    kafka: &KafkaSettings,
) -> Result<ThreadedProducer<Deliveries>, KafkaUnreachable> {
    keyed_producer_config(kafka)
        .set("linger.ms", "20")
        .set("compression.type", "lz4")
        .set("message.timeout.ms", "120000")
        .set("queue.buffering.max.messages", "200000")
        .create_with_context(Deliveries::default())
        .map_err(|error| KafkaUnreachable {
            brokers: kafka.brokers.clone(),
            detail: describe(&error),
        })
}

/// Queues a record, waiting while the client's queue is full.
fn send<K, P>(producer: &ThreadedProducer<Deliveries>, mut record: BaseRecord<'_, K, P, usize>)
where
    K: rdkafka::message::ToBytes + ?Sized,
    P: rdkafka::message::ToBytes + ?Sized,
{
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                record = returned;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err((error, _)) => {
                // Not retryable (e.g. a value over the broker's size limit): count it as failed.
                producer.context().record_failure(&error);
                return;
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

fn progress_bar(enabled: bool, size: u64) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kafka() -> KafkaSettings {
        KafkaSettings {
            brokers: "127.0.0.1:9092".into(),
            topic: "spotify_streams".into(),
            partitions: 4,
            dead_letter_retention_days: 7,
            security: Default::default(),
        }
    }

    fn one_file(file: FileSummary) -> PublishSummary {
        PublishSummary {
            files: vec![file],
            elapsed: Duration::from_secs(2),
            ..Default::default()
        }
    }

    #[test]
    fn the_report_accounts_for_every_record() {
        let summary = one_file(FileSummary {
            name: "history.csv".into(),
            unit: "line",
            read: 11,
            sent: 7,
            duplicates: 2,
            not_music: 1,
            rejected: 1,
            rejected_by_kind: [("negative_ms_played", 1)].into_iter().collect(),
            rejections: vec![(4, "negative ms_played -5".into())],
            ..Default::default()
        });
        let report = summary.report("history.csv", &kafka());
        assert!(report.contains("read        11 records"));
        assert!(report.contains("sent        7 listens to spotify_streams"));
        assert!(report.contains("duplicates  2"));
        assert!(report.contains("not music   1"));
        assert!(report.contains("rejected    1 (sent to spotify_streams_dlq"));
        assert!(report.contains("line 4: negative ms_played -5"));
        assert!(report.contains("(4 events/s)"));
        assert!(summary.is_complete());
    }

    #[test]
    fn several_files_are_summarised_one_by_one_and_in_total() {
        let summary = PublishSummary {
            files: vec![
                FileSummary {
                    name: "Streaming_History_Audio_2020.json".into(),
                    unit: "record",
                    read: 10,
                    sent: 6,
                    not_music: 3,
                    rejected: 1,
                    rejections: vec![(5, "missing artist name".into())],
                    ..Default::default()
                },
                FileSummary {
                    name: "StreamingHistory_music_0.json".into(),
                    unit: "record",
                    already_imported: Some("on 2026-11-01".into()),
                    ..Default::default()
                },
            ],
            ignored: vec!["Streaming_History_Video_2020.json".into()],
            ..Default::default()
        };
        let report = summary.report("my_spotify_data.zip", &kafka());
        assert!(
            report.contains("(2 history files, 1 other files ignored)"),
            "{report}"
        );
        assert!(report.contains("read        10 records"));
        assert!(report.contains("Streaming_History_Audio_2020.json record 5: missing artist name"));
        assert!(report.contains("Streaming_History_Audio_2020.json        10        6          0         3        1"), "{report}");
        assert!(report.contains(
            "SKIPPED     StreamingHistory_music_0.json: already imported (on 2026-11-01)"
        ));
        assert!(summary.is_complete(), "a skipped file is not a failure");
    }

    #[test]
    fn the_report_says_how_far_a_broken_run_got() {
        let summary = one_file(FileSummary {
            name: "f.csv".into(),
            read: 3,
            sent: 3,
            stopped_early: Some("reading stopped after 3 records: cannot read the file".into()),
            ..Default::default()
        });
        assert!(!summary.is_complete());
        assert!(summary
            .report("f.csv", &kafka())
            .contains("STOPPED     f.csv: reading stopped after 3 records"));
    }

    #[test]
    fn unacknowledged_records_fail_the_run() {
        let mut summary = one_file(FileSummary {
            failed: 2,
            ..Default::default()
        });
        summary.first_failure = Some("no broker answered".into());
        assert!(!summary.is_complete());
        assert!(summary
            .report("f.csv", &kafka())
            .contains("2 records were not acknowledged"));
    }
}
